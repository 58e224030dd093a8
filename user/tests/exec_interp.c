/* exec_interp.c - execve of a dynamically linked ELF whose program interpreter (PT_INTERP)
 * is missing (ENOENT), not executable (EACCES), not an ELF file (ELIBBAD), shorter than an
 * ELF header (EIO), or whose PT_INTERP
 * is not NUL-terminated (ENOEXEC). The executables are written here: a minimal ELF header,
 * one PT_INTERP and one PT_LOAD.
 */
#define TEST_MAIN
#include "test.h"

#include <elf.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <sys/stat.h>

static char dir[64];

/* Writes dir/name: an ET_EXEC x86-64 file whose PT_INTERP holds `interp` (`nul`: with its
 * terminating NUL counted). */
static int write_elf(const char *name, const char *interp, int nul)
{
    unsigned char f[4096];
    memset(f, 0, sizeof f);
    Elf64_Ehdr *e = (Elf64_Ehdr *)f;
    memcpy(e->e_ident, ELFMAG, SELFMAG);
    e->e_ident[EI_CLASS] = ELFCLASS64;
    e->e_ident[EI_DATA] = ELFDATA2LSB;
    e->e_ident[EI_VERSION] = EV_CURRENT;
    e->e_type = ET_EXEC;
    e->e_machine = EM_X86_64;
    e->e_version = EV_CURRENT;
    e->e_entry = 0x400100;
    e->e_phoff = sizeof *e;
    e->e_ehsize = sizeof *e;
    e->e_phentsize = sizeof(Elf64_Phdr);
    e->e_phnum = 2;
    Elf64_Phdr *ph = (Elf64_Phdr *)(f + sizeof *e);
    size_t len = strlen(interp) + (nul ? 1 : 0);
    ph[0] = (Elf64_Phdr){ .p_type = PT_INTERP, .p_flags = PF_R, .p_offset = 0x200,
                          .p_vaddr = 0x400200, .p_filesz = len, .p_memsz = len, .p_align = 1 };
    ph[1] = (Elf64_Phdr){ .p_type = PT_LOAD, .p_flags = PF_R | PF_X, .p_offset = 0,
                          .p_vaddr = 0x400000, .p_filesz = sizeof f, .p_memsz = sizeof f,
                          .p_align = 0x1000 };
    memcpy(f + 0x200, interp, strlen(interp));
    char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0755);
    if (fd < 0)
        return -1;
    int ok = write(fd, f, sizeof f) == (ssize_t)sizeof f;
    close(fd);
    return ok ? 0 : -1;
}

static int write_text(const char *name, const char *text, mode_t mode)
{
    char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, mode);
    if (fd < 0)
        return -1;
    int ok = write(fd, text, strlen(text)) == (ssize_t)strlen(text);
    close(fd);
    return ok ? chmod(path, mode) : -1;
}

/* execve(dir/name) in a child: the errno it failed with, or 0 if it did not fail. */
static int exec_errno(const char *name)
{
    char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int p[2];
    if (pipe(p))
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        char *argv[] = { path, NULL }, *envp[] = { NULL };
        execve(path, argv, envp);
        int e = errno;
        write(p[1], &e, sizeof e);
        _exit(0);
    }
    close(p[1]);
    int e = 0;
    if (read(p[0], &e, sizeof e) != sizeof e)
        e = 0;
    close(p[0]);
    waitpid(pid, NULL, 0);
    return e;
}

TEST(interpreter_errors)
{
    snprintf(dir, sizeof dir, "/tmp/interp-XXXXXX");
    CHECK(mkdtemp(dir) != NULL);
    char interp[128];
    snprintf(interp, sizeof interp, "%s/missing-ld.so", dir);
    CHECK_OK(write_elf("missing", interp, 1));
    CHECK_EQ(exec_errno("missing"), ENOENT);

    snprintf(interp, sizeof interp, "%s/text-ld.so", dir);
    CHECK_OK(write_text("text-ld.so",
                        "not an ELF file at all, but long enough to hold an ELF header, "
                        "which is sixty-four bytes long\n",
                        0755));
    CHECK_OK(write_elf("text", interp, 1));
    CHECK_EQ(exec_errno("text"), ELIBBAD);

    /* Shorter than an ELF header: the read comes up short. */
    snprintf(interp, sizeof interp, "%s/short-ld.so", dir);
    CHECK_OK(write_text("short-ld.so", "short", 0755));
    CHECK_OK(write_elf("short", interp, 1));
    CHECK_EQ(exec_errno("short"), EIO);

    snprintf(interp, sizeof interp, "%s/noexec-ld.so", dir);
    CHECK_OK(write_text("noexec-ld.so", "whatever", 0644));
    CHECK_OK(write_elf("noexec", interp, 1));
    CHECK_EQ(exec_errno("noexec"), EACCES);

    CHECK_OK(write_elf("unterminated", "/lib64/ld-linux-x86-64.so.2", 0));
    CHECK_EQ(exec_errno("unterminated"), ENOEXEC);

    const char *names[] = { "missing", "text", "text-ld.so", "short", "short-ld.so",
                            "noexec", "noexec-ld.so", "unterminated" };
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        char path[128];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        unlink(path);
    }
    rmdir(dir);
}
