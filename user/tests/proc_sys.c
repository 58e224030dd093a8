/* proc_sys.c - /proc/sys as programs read it: kernel/{ostype, osrelease, hostname, domainname,
 * pid_max, ngroups_max, cap_last_cap, shmmax, shmall, shmmni, msgmax, msgmnb, msgmni, sem,
 * threads-max, random/boot_id, random/uuid}, fs/{file-max, file-nr, nr_open, pipe-max-size,
 * pipe-user-pages-soft, pipe-user-pages-hard}, vm/{overcommit_memory, overcommit_ratio,
 * max_map_count}, net/core/somaxconn, net/ipv4/ip_local_port_range: present, in Linux's format,
 * listed by their directories, not writable by nobody (EACCES), and a writable one written by
 * root and obeyed (max_map_count, written back with its own value).
 * Syscalls: openat, read, write, getdents64, close, fork, setuid, setgid.
 */
#define _GNU_SOURCE
#define TEST_MAIN
#include "test.h"

#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>

static int slurp(const char *path, char *buf, size_t len)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, len - 1);
    close(fd);
    if (n < 0)
        return -1;
    buf[n] = '\0';
    return (int)n;
}

/* The file holds `count` unsigned decimal numbers separated by tabs, then a newline. */
static int numbers(const char *text, int count)
{
    const char *p = text;
    for (int i = 0; i < count; i++) {
        if (!isdigit((unsigned char)*p))
            return 0;
        while (isdigit((unsigned char)*p))
            p++;
        if (i + 1 < count && *p++ != '\t')
            return 0;
    }
    return strcmp(p, "\n") == 0;
}

TEST(numeric_files_have_linux_format)
{
    static const struct {
        const char *path;
        int count;
    } files[] = {
        {"/proc/sys/kernel/pid_max", 1},
        {"/proc/sys/kernel/ngroups_max", 1},
        {"/proc/sys/kernel/cap_last_cap", 1},
        {"/proc/sys/kernel/shmmax", 1},
        {"/proc/sys/kernel/shmall", 1},
        {"/proc/sys/kernel/shmmni", 1},
        {"/proc/sys/kernel/msgmax", 1},
        {"/proc/sys/kernel/msgmnb", 1},
        {"/proc/sys/kernel/msgmni", 1},
        {"/proc/sys/kernel/sem", 4},
        {"/proc/sys/kernel/threads-max", 1},
        {"/proc/sys/fs/file-max", 1},
        {"/proc/sys/fs/file-nr", 3},
        {"/proc/sys/fs/nr_open", 1},
        {"/proc/sys/fs/pipe-max-size", 1},
        {"/proc/sys/fs/pipe-user-pages-soft", 1},
        {"/proc/sys/fs/pipe-user-pages-hard", 1},
        {"/proc/sys/vm/overcommit_memory", 1},
        {"/proc/sys/vm/overcommit_ratio", 1},
        {"/proc/sys/vm/max_map_count", 1},
        {"/proc/sys/net/core/somaxconn", 1},
        {"/proc/sys/net/ipv4/ip_local_port_range", 2},
    };
    char buf[256];
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        if (slurp(files[i].path, buf, sizeof buf) < 0)
            FAIL("%s: %s", files[i].path, strerror(errno));
        if (!numbers(buf, files[i].count))
            FAIL("%s: \"%s\"", files[i].path, buf);
    }
    CHECK_OK(slurp("/proc/sys/kernel/cap_last_cap", buf, sizeof buf));
    CHECK(atoi(buf) >= 40);
    CHECK_OK(slurp("/proc/sys/fs/nr_open", buf, sizeof buf));
    CHECK(atoi(buf) >= 1024);
}

TEST(text_files)
{
    char buf[256];
    CHECK_OK(slurp("/proc/sys/kernel/ostype", buf, sizeof buf));
    CHECK(!strcmp(buf, "Linux\n"));
    CHECK(slurp("/proc/sys/kernel/osrelease", buf, sizeof buf) > 1);
    CHECK(isdigit((unsigned char)buf[0]));
    CHECK(slurp("/proc/sys/kernel/hostname", buf, sizeof buf) > 1);
    CHECK(slurp("/proc/sys/kernel/domainname", buf, sizeof buf) > 1);
}

static int is_uuid(const char *s)
{
    for (int i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-')
                return 0;
        } else if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i])) {
            return 0;
        }
    }
    return s[36] == '\n' && s[37] == '\0';
}

TEST(boot_id_stays_uuid_changes)
{
    char a[64], b[64];
    CHECK_EQ(slurp("/proc/sys/kernel/random/boot_id", a, sizeof a), 37);
    CHECK_EQ(slurp("/proc/sys/kernel/random/boot_id", b, sizeof b), 37);
    CHECK(is_uuid(a));
    CHECK(!strcmp(a, b));
    CHECK_EQ(slurp("/proc/sys/kernel/random/uuid", a, sizeof a), 37);
    CHECK_EQ(slurp("/proc/sys/kernel/random/uuid", b, sizeof b), 37);
    CHECK(is_uuid(a) && is_uuid(b));
    CHECK(strcmp(a, b) != 0);
    CHECK_EQ(a[14], '4');
}

static int lists(const char *dir, const char *const *names)
{
    for (; *names; names++) {
        DIR *d = opendir(dir);
        if (!d)
            return 0;
        struct dirent *e;
        int found = 0;
        while ((e = readdir(d)))
            found |= !strcmp(e->d_name, *names);
        closedir(d);
        if (!found) {
            printf("# %s does not list %s\n", dir, *names);
            return 0;
        }
    }
    return 1;
}

TEST(directories_list_their_files)
{
    static const char *const kernel[] = {"ostype", "osrelease", "hostname", "domainname",
        "pid_max", "ngroups_max", "cap_last_cap", "shmmax", "shmall", "shmmni", "msgmax",
        "msgmnb", "msgmni", "sem", "threads-max", "random", NULL};
    static const char *const fs[] = {"file-max", "file-nr", "nr_open", "pipe-max-size",
        "pipe-user-pages-soft", "pipe-user-pages-hard", "mqueue", NULL};
    static const char *const vm[] = {"overcommit_memory", "overcommit_ratio", "max_map_count",
        NULL};
    static const char *const random[] = {"boot_id", "uuid", NULL};
    static const char *const sys[] = {"kernel", "fs", "vm", "net", NULL};
    CHECK(lists("/proc/sys", sys));
    CHECK(lists("/proc/sys/kernel", kernel));
    CHECK(lists("/proc/sys/kernel/random", random));
    CHECK(lists("/proc/sys/fs", fs));
    CHECK(lists("/proc/sys/vm", vm));
    struct stat st;
    CHECK_OK(stat("/proc/sys/kernel/random/uuid", &st));
    CHECK_EQ(st.st_mode & 0777, 0444);
    CHECK_OK(stat("/proc/sys/kernel/shmmax", &st));
    CHECK_EQ(st.st_mode & 0777, 0644);
    CHECK_EQ(st.st_uid, 0);
}

/* As nobody, nothing under /proc/sys opens for writing. */
TEST(nobody_may_not_write)
{
    static const char *const files[] = {"/proc/sys/kernel/shmmax", "/proc/sys/kernel/hostname",
        "/proc/sys/vm/max_map_count", "/proc/sys/fs/file-max", "/proc/sys/net/core/somaxconn",
        NULL};
    if (getuid() != 0)
        SKIP("needs root to become nobody");
    pid_t c = fork();
    CHECK_OK(c);
    if (c == 0) {
        if (setgid(65534) || setuid(65534))
            _exit(100);
        for (int i = 0; files[i]; i++) {
            errno = 0;
            if (open(files[i], O_WRONLY) >= 0 || errno != EACCES)
                _exit(i + 1);
            char buf[64];
            if (slurp(files[i], buf, sizeof buf) <= 0)
                _exit(50 + i);
        }
        _exit(0);
    }
    int st;
    CHECK_EQ(waitpid(c, &st, 0), c);
    CHECK(WIFEXITED(st));
    CHECK_EQ(WEXITSTATUS(st), 0);
}

/* Root writes max_map_count and the kernel reports the value written (its own, so Linux's
 * host setting stays as it was). */
TEST(root_writes_max_map_count)
{
    if (getuid() != 0)
        SKIP("needs root");
    char before[64], after[64];
    CHECK(slurp("/proc/sys/vm/max_map_count", before, sizeof before) > 0);
    int fd = open("/proc/sys/vm/max_map_count", O_WRONLY);
    CHECK_OK(fd);
    CHECK_EQ(write(fd, before, strlen(before)), (ssize_t)strlen(before));
    close(fd);
    fd = open("/proc/sys/vm/max_map_count", O_WRONLY);
    CHECK_OK(fd);
    CHECK_ERRNO(write(fd, "abc\n", 4), EINVAL);
    close(fd);
    CHECK(slurp("/proc/sys/vm/max_map_count", after, sizeof after) > 0);
    CHECK(!strcmp(before, after));
}
