/* chroot.c - chroot(2): absolute paths and ".." stop at the new root, getcwd names paths from
 * it, children inherit it, and its errors (ENOENT, ENOTDIR, EFAULT, EPERM without
 * CAP_SYS_CHROOT, EACCES without search permission). Every chroot happens in a forked child.
 */
#define _GNU_SOURCE
#define TEST_MAIN
#include "test.h"
#include "children.h"

#include <fcntl.h>
#include <sys/stat.h>

#define NOBODY 65534

static char jail[64];

/* /tmp/chroot-XXXXXX with sub/ and a file "inside" holding "in". */
static int make_jail(void)
{
    snprintf(jail, sizeof jail, "/tmp/chroot-XXXXXX");
    if (!mkdtemp(jail))
        return -1;
    char p[128];
    snprintf(p, sizeof p, "%s/sub", jail);
    if (mkdir(p, 0755))
        return -1;
    snprintf(p, sizeof p, "%s/inside", jail);
    int fd = open(p, O_CREAT | O_WRONLY, 0644);
    if (fd < 0 || write(fd, "in", 2) != 2)
        return -1;
    close(fd);
    return chmod(jail, 0755);
}

static void remove_jail(void)
{
    char p[128];
    snprintf(p, sizeof p, "%s/inside", jail);
    unlink(p);
    snprintf(p, sizeof p, "%s/sub", jail);
    rmdir(p);
    rmdir(jail);
}

static int reads_in(const char *path)
{
    char buf[4] = { 0 };
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return 0;
    int n = read(fd, buf, sizeof buf);
    close(fd);
    return n == 2 && memcmp(buf, "in", 2) == 0;
}

TEST(paths_stop_at_the_new_root)
{
    if (getuid() != 0)
        SKIP("needs root");
    CHECK_OK(make_jail());
    pid_t pid = fork();
    if (pid == 0) {
        CCHECK(chroot(jail) == 0);
        CCHECK(chdir("/") == 0);
        char cwd[256];
        CCHECK(getcwd(cwd, sizeof cwd) && strcmp(cwd, "/") == 0);
        CCHECK(reads_in("/inside"));
        CCHECK(reads_in("/../../inside"));
        CCHECK(reads_in("sub/../inside"));
        CCHECK(chdir("/sub") == 0);
        CCHECK(getcwd(cwd, sizeof cwd) && strcmp(cwd, "/sub") == 0);
        CCHECK(reads_in("../../inside"));
        /* The old tree is out of reach. */
        CERRNO(open("/tmp", O_RDONLY), ENOENT);
        pid_t g = fork();
        if (g == 0)
            _exit(reads_in("/inside") ? 0 : 1);
        CCHECK(child_status(g) == 0);
        _exit(0);
    }
    CHECK_CHILD_OK(pid);
    remove_jail();
}

TEST(chroot_errors)
{
    CHECK_ERRNO(chroot("/nonexistent-dir"), ENOENT);
    CHECK_ERRNO(chroot("/dev/null"), ENOTDIR);
    CHECK_ERRNO(chroot(bad_ptr(8)), EFAULT);
    if (getuid() != 0)
        SKIP("needs root for the rest");
    CHECK_OK(make_jail());
    pid_t pid = fork();
    if (pid == 0) {
        CCHECK(setgid(NOBODY) == 0 && setuid(NOBODY) == 0);
        CERRNO(chroot(jail), EPERM);
        _exit(0);
    }
    CHECK_CHILD_OK(pid);
    CHECK_OK(chmod(jail, 0700));
    char sub[128];
    snprintf(sub, sizeof sub, "%s/sub", jail);
    pid = fork();
    if (pid == 0) {
        CCHECK(setgid(NOBODY) == 0 && setuid(NOBODY) == 0);
        /* No search permission on the way: EACCES before the capability check. */
        CERRNO(chroot(sub), EACCES);
        _exit(0);
    }
    CHECK_CHILD_OK(pid);
    remove_jail();
}
