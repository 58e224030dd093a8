/* fs_limits.c - no user program can panic, freeze or fill the kernel through files (issue 11):
 * each exhaustion ends in Linux's errno, and something still works after it in the same boot,
 * with the memory given back (everything made here is removed again).
 *  - tmpfs limits: a small tmpfs mounted with size= and nr_inodes= (in a private mount
 *    namespace on Linux, so the host's /tmp is never filled): empty files made by nobody until
 *    ENOSPC (nr_inodes), data written by nobody until ENOSPC (size), statfs reporting both,
 *    remount,size= and nr_inodes= (EINVAL below what is in use), EINVAL for an unknown option;
 *    on POSIX-X also the real /tmp filled with empty files by nobody until ENOSPC or ENOMEM.
 *  - descriptors: nobody opening /dev/null until EMFILE; root with RLIMIT_NOFILE at nr_open
 *    (1048576, EPERM above it) placing a descriptor at nr_open - 1 (EMFILE past it) and
 *    opening /dev/null until failure (EMFILE on Linux; ENOMEM where kernel memory runs out);
 *    on POSIX-X, nobody's children opening files until ENFILE at fs.file-max.
 *  - hangs, each in a child with an alarm, so a hang fails instead of freezing the suite:
 *    reopening a pipe through /proc/self/fd/N never waits for a peer (with the other end open
 *    or closed: EOF, EPIPE, no ENXIO), as process substitution needs; splice and tee between
 *    two pipes whose destination fills partway return the partial count.
 *  - / and /dev are 0755 (nobody cannot create there), /tmp and /dev/shm 1777.
 *  - another user's /proc/<pid>/maps, environ, fdinfo/N, fd/ and the cwd and exe links:
 *    EACCES (ptrace read access); the same files of one's own processes work.
 *  - mmap of a POSIX message queue descriptor, a /proc/<pid> file or sysctl, a pipe,
 *    /dev/null: ENODEV (a global /proc file: EIO, as Linux's proc_reg wrapper says);
 *    /dev/zero still maps.
 * Syscalls: mount, umount2, unshare, statfs, open, creat, unlink, write, ftruncate, dup2,
 * fcntl, setrlimit, getrlimit, pipe, splice, tee, readlink, mmap, mq_open, fork, setuid.
 */
#define _GNU_SOURCE
#define TEST_MAIN
#include "test.h"
#include "children.h"

#include <dirent.h>
#include <fcntl.h>
#include <mqueue.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>

#define PAGE 4096
#define NOBODY 65534
/* Seconds a case that might hang may take before its alarm fails it. */
#define HANG_LIMIT 30

static void become_nobody(void)
{
    CCHECK(setgid(NOBODY) == 0);
    CCHECK(setuid(NOBODY) == 0);
}

/* ================= a small tmpfs of our own ================= */

/* The directory a small tmpfs is mounted on (made by the parent under /tmp, mode 0755). */
static char mnt_dir[64];

/* In a child: mounts a tmpfs with `opts` on mnt_dir, in a private mount namespace on Linux
 * (so the host never sees it). Exits 77 where that is not possible (the parent SKIPs). */
static void mount_small_tmpfs(const char *opts)
{
    if (!on_posix_x()) {
        if (unshare(CLONE_NEWNS) != 0)
            _exit(77);
        if (mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
            _exit(77);
    }
    if (mount("tmpfs", mnt_dir, "tmpfs", 0, opts) != 0) {
        dprintf(2, "# mount tmpfs %s: %s\n", opts, strerror(errno));
        _exit(errno == EPERM ? 77 : 1);
    }
}

/* In the same child, at the end: POSIX-X has no mount namespaces, so the mount goes. */
static void unmount_small_tmpfs(void)
{
    CCHECK(umount2(mnt_dir, 0) == 0);
}

/* Runs `body` in a child that mounted a small tmpfs with `opts`; SKIPs without root or
 * mount namespaces. */
#define WITH_SMALL_TMPFS(opts, body)                                                      \
    do {                                                                                  \
        if (geteuid() != 0)                                                               \
            SKIP("needs root to mount a tmpfs");                                          \
        strcpy(mnt_dir, "/tmp/fs_limits.XXXXXX");                                         \
        CHECK(mkdtemp(mnt_dir) != NULL);                                                  \
        CHECK_OK(chmod(mnt_dir, 0755));                                                   \
        pid_t wpid_ = fork();                                                             \
        CHECK(wpid_ >= 0);                                                                \
        if (wpid_ == 0) {                                                                 \
            alarm(HANG_LIMIT * 4);                                                        \
            mount_small_tmpfs(opts);                                                      \
            body;                                                                         \
            unmount_small_tmpfs();                                                        \
            _exit(0);                                                                     \
        }                                                                                 \
        int wst_ = child_status(wpid_);                                                   \
        rmdir(mnt_dir);                                                                   \
        if (WIFEXITED(wst_) && WEXITSTATUS(wst_) == 77)                                   \
            SKIP("no private mount namespace for a tmpfs of our own");                    \
        if (wst_ != 0)                                                                    \
            FAIL("child status %#x (see stderr)", wst_);                                  \
    } while (0)

static char *at(const char *dir, const char *fmt, long n)
{
    static char buf[4][160];
    static int i;
    char *b = buf[i++ % 4];
    int len = snprintf(b, 160, "%s/", dir);
    snprintf(b + len, 160 - len, fmt, n);
    return b;
}

/* Makes empty files "f0", "f1", ... in `dir` until creat fails; returns how many, with the
 * errno of the failure in *err. */
static long fill_with_files(const char *dir, int *err, long max)
{
    long n = 0;
    for (;;) {
        if (n == max) {
            *err = 0;
            return n;
        }
        int fd = open(at(dir, "f%ld", n), O_CREAT | O_EXCL | O_WRONLY, 0644);
        if (fd < 0) {
            *err = errno;
            return n;
        }
        close(fd);
        n++;
    }
}

static int remove_files(const char *dir, long n)
{
    int bad = 0;
    for (long i = 0; i < n; i++)
        bad |= unlink(at(dir, "f%ld", i));
    return bad;
}

/* In a forked grandchild as nobody: fills mnt_dir with empty files until ENOSPC, checks what
 * statfs says, frees one inode and makes a file again, then removes everything. */
static void nobody_fills_inodes(long nr_inodes)
{
    pid_t pid = fork();
    CCHECK(pid >= 0);
    if (pid == 0) {
        become_nobody();
        int err;
        long n = fill_with_files(mnt_dir, &err, nr_inodes + 10);
        CCHECK(err == ENOSPC);
        CCHECK(n == nr_inodes - 1); /* the root directory is an inode too */
        struct statfs sf;
        CCHECK(statfs(mnt_dir, &sf) == 0);
        CCHECK((long)sf.f_files == nr_inodes);
        CCHECK(sf.f_ffree == 0);
        CERRNO(mkdir(at(mnt_dir, "d%ld", 0), 0755), ENOSPC);
        CERRNO(symlink("x", at(mnt_dir, "s%ld", 0)), ENOSPC);
        /* Still works: an inode given back can be used again. */
        CCHECK(unlink(at(mnt_dir, "f%ld", 0)) == 0);
        int fd = open(at(mnt_dir, "f%ld", 0), O_CREAT | O_EXCL | O_WRONLY, 0644);
        CCHECK(fd >= 0);
        close(fd);
        CCHECK(remove_files(mnt_dir, n) == 0);
        CCHECK(statfs(mnt_dir, &sf) == 0);
        CCHECK((long)sf.f_ffree == nr_inodes - 1);
        _exit(0);
    }
    CCHECK(child_status(pid) == 0);
}

TEST(tmpfs_nr_inodes_full_is_enospc_for_nobody_then_works_again)
{
    CHECK(1);
    WITH_SMALL_TMPFS("size=64k,nr_inodes=40,mode=1777", nobody_fills_inodes(40));
}

/* In a grandchild as nobody: writes into one file until ENOSPC at `size` bytes. */
static void nobody_fills_blocks(long size)
{
    pid_t pid = fork();
    CCHECK(pid >= 0);
    if (pid == 0) {
        become_nobody();
        const char *path = at(mnt_dir, "data%ld", 0);
        int fd = open(path, O_CREAT | O_RDWR, 0644);
        CCHECK(fd >= 0);
        static char chunk[3000];
        memset(chunk, 'x', sizeof chunk);
        long total = 0;
        ssize_t w;
        while ((w = write(fd, chunk, sizeof chunk)) > 0)
            total += w;
        CCHECK(w == -1 && errno == ENOSPC);
        CCHECK(total == size);
        struct statfs sf;
        CCHECK(statfs(mnt_dir, &sf) == 0);
        CCHECK((long)sf.f_blocks == size / PAGE);
        CCHECK(sf.f_bfree == 0 && sf.f_bavail == 0);
        struct stat st;
        CCHECK(fstat(fd, &st) == 0 && st.st_size == size);
        /* Still works: truncation gives the pages back. */
        CCHECK(ftruncate(fd, 0) == 0);
        CCHECK(statfs(mnt_dir, &sf) == 0);
        CCHECK((long)sf.f_bfree == size / PAGE);
        CCHECK(pwrite(fd, chunk, sizeof chunk, 0) == (ssize_t)sizeof chunk);
        close(fd);
        CCHECK(unlink(path) == 0);
        _exit(0);
    }
    CCHECK(child_status(pid) == 0);
}

TEST(tmpfs_size_full_is_enospc_for_nobody_then_works_again)
{
    CHECK(1);
    WITH_SMALL_TMPFS("size=64k,nr_inodes=100,mode=1777", nobody_fills_blocks(65536));
}

/* Remount with a new size and inode count; below what is in use: EINVAL. */
static void remount_sizes(void)
{
    struct statfs sf;
    CCHECK(statfs(mnt_dir, &sf) == 0);
    CCHECK(sf.f_blocks == 16 && sf.f_files == 100);
    int fd = open(at(mnt_dir, "big%ld", 0), O_CREAT | O_RDWR, 0644);
    CCHECK(fd >= 0);
    static char data[12 * PAGE];
    CCHECK(write(fd, data, sizeof data) == (ssize_t)sizeof data);
    CCHECK(mount(NULL, mnt_dir, NULL, MS_REMOUNT, "size=128k") == 0);
    CCHECK(statfs(mnt_dir, &sf) == 0);
    CCHECK(sf.f_blocks == 32 && sf.f_bfree == 20);
    CERRNO(mount(NULL, mnt_dir, NULL, MS_REMOUNT, "size=16k"), EINVAL);
    CCHECK(mount(NULL, mnt_dir, NULL, MS_REMOUNT, "nr_inodes=10") == 0);
    CCHECK(statfs(mnt_dir, &sf) == 0);
    CCHECK(sf.f_files == 10 && sf.f_ffree == 8);
    CERRNO(mount(NULL, mnt_dir, NULL, MS_REMOUNT, "nr_inodes=1"), EINVAL);
    CERRNO(mount(NULL, mnt_dir, NULL, MS_REMOUNT, "bogus=1"), EINVAL);
    close(fd);
    CCHECK(unlink(at(mnt_dir, "big%ld", 0)) == 0);
}

TEST(tmpfs_remount_size_and_nr_inodes)
{
    CHECK(1);
    WITH_SMALL_TMPFS("size=64k,nr_inodes=100", remount_sizes());
}

TEST(tmpfs_unknown_mount_option_einval)
{
    if (geteuid() != 0)
        SKIP("needs root");
    char dir[] = "/tmp/fs_limits.XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    /* EINVAL before anything is mounted, so no namespace is needed. */
    errno = 0;
    int r = mount("tmpfs", dir, "tmpfs", 0, "size=64k,no_such_option=1");
    int e = errno;
    if (r == 0)
        umount2(dir, 0);
    rmdir(dir);
    CHECK_EQ(r, -1);
    CHECK_EQ(e, EINVAL);
}

/* The reproduction of issue 11: nobody makes empty files in the real /tmp until it fails.
 * Linux would fill the host's /tmp: POSIX-X only. */
TEST(real_tmp_filled_by_nobody_ends_in_enospc_then_works_again)
{
    if (!on_posix_x())
        SKIP("would fill the host's /tmp");
    if (geteuid() != 0)
        SKIP("needs root to switch to nobody");
    char dir[] = "/tmp/fs_limits.XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    CHECK_OK(chmod(dir, 0777));
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        alarm(HANG_LIMIT * 4);
        become_nobody();
        int err;
        long n = fill_with_files(dir, &err, 10 * 1000 * 1000);
        dprintf(1, "# %ld files, then %s\n", n, strerror(err));
        CCHECK(err == ENOSPC || err == ENOMEM);
        CCHECK(n > 1000);
        /* Still works: /dev/null opens, and a file freed is a file made. */
        int fd = open("/dev/null", O_RDONLY);
        CCHECK(fd >= 0);
        close(fd);
        CCHECK(unlink(at(dir, "f%ld", n - 1)) == 0);
        fd = open(at(dir, "f%ld", n - 1), O_CREAT | O_EXCL | O_WRONLY, 0644);
        CCHECK(fd >= 0);
        close(fd);
        CCHECK(remove_files(dir, n) == 0);
        _exit(0);
    }
    int st = child_status(pid);
    CHECK_OK(rmdir(dir));
    CHECK_EQ(st, 0);
}

/* ================= descriptors ================= */

static long read_number(const char *path)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    char buf[64] = {0};
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    return n > 0 ? strtol(buf, NULL, 10) : -1;
}

TEST(nobody_opening_dev_null_until_emfile)
{
    if (geteuid() != 0)
        SKIP("needs root to switch to nobody");
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        alarm(HANG_LIMIT);
        become_nobody();
        struct rlimit rl;
        CCHECK(getrlimit(RLIMIT_NOFILE, &rl) == 0);
        rl.rlim_cur = 256;
        CCHECK(setrlimit(RLIMIT_NOFILE, &rl) == 0);
        int last = -1, fd;
        while ((fd = open("/dev/null", O_RDONLY)) >= 0)
            last = fd;
        CCHECK(errno == EMFILE);
        CCHECK(last == 255);
        CERRNO(dup(0), EMFILE);
        CERRNO(pipe((int[2]){0, 0}), EMFILE);
        CCHECK(close(last) == 0);
        CCHECK(open("/dev/null", O_RDONLY) == last); /* still works */
        _exit(0);
    }
    CHECK_EXITED(pid, 0);
}

/* Raises RLIMIT_NOFILE to nr_open (root may). A container's root without CAP_SYS_RESOURCE
 * may not go above its hard limit: then to that. Returns the limit set, or -1. */
static int raise_nofile(long nr_open)
{
    struct rlimit rl = { (rlim_t)nr_open, (rlim_t)nr_open };
    if (setrlimit(RLIMIT_NOFILE, &rl) == 0)
        return (int)nr_open;
    if (errno != EPERM || on_posix_x() || getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return -1;
    rl.rlim_cur = rl.rlim_max;
    return setrlimit(RLIMIT_NOFILE, &rl) == 0 ? (int)rl.rlim_max : -1;
}

TEST(root_rlimit_nofile_at_nr_open_and_a_descriptor_at_its_top)
{
    if (geteuid() != 0)
        SKIP("needs root");
    long nr_open = read_number("/proc/sys/fs/nr_open");
    CHECK(nr_open >= 1024);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        alarm(HANG_LIMIT);
        struct rlimit rl = { (rlim_t)nr_open + 1, (rlim_t)nr_open + 1 };
        CERRNO(setrlimit(RLIMIT_NOFILE, &rl), EPERM);
        int top = raise_nofile(nr_open);
        CCHECK(top > 0);
        /* The table grows to the top in one step. */
        CCHECK(dup2(0, top - 1) == top - 1);
        CERRNO(dup2(0, top), EBADF);
        CERRNO(fcntl(0, F_DUPFD, top - 1), EMFILE);
        CERRNO(fcntl(0, F_DUPFD, top), EINVAL);
        CCHECK(close(top - 1) == 0);
        CCHECK(fcntl(0, F_DUPFD, top - 1) == top - 1);
        _exit(0);
    }
    CHECK_EXITED(pid, 0);
}

/* Root with RLIMIT_NOFILE at nr_open opens /dev/null until failure: EMFILE on Linux, ENOMEM
 * where kernel memory runs out first (POSIX-X's heap is an eighth of a small guest's RAM). */
TEST(root_opening_dev_null_until_failure_then_works_again)
{
    if (geteuid() != 0)
        SKIP("needs root");
    long nr_open = read_number("/proc/sys/fs/nr_open");
    CHECK(nr_open >= 1024);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        alarm(HANG_LIMIT * 4);
        int top = raise_nofile(nr_open);
        CCHECK(top > 0);
        int last = -1, fd;
        while ((fd = open("/dev/null", O_RDONLY)) >= 0)
            last = fd;
        int err = errno;
        dprintf(1, "# %d descriptors, then %s\n", last + 1, strerror(err));
        if (on_posix_x())
            CCHECK(err == EMFILE || err == ENOMEM);
        else
            CCHECK(err == EMFILE || err == ENOMEM || err == ENFILE);
        if (err == EMFILE)
            CCHECK(last == top - 1);
        CCHECK(last > 1000);
        /* Still works once some are closed. */
        for (int i = last; i > last - 100; i--)
            CCHECK(close(i) == 0);
        fd = open("/dev/null", O_RDONLY);
        CCHECK(fd == last - 99);
        int p[2];
        CCHECK(pipe(p) == 0);
        CCHECK(write(p[1], "x", 1) == 1);
        _exit(0); /* the exit closes the rest */
    }
    CHECK_EXITED(pid, 0);
    int fd = open("/dev/null", O_RDONLY);
    CHECK(fd >= 0);
    close(fd);
}

/* Nobody's children open files until the system's count reaches fs.file-max: ENFILE. On
 * Linux it would take the host's limit: POSIX-X only. */
TEST(nobody_children_opening_files_until_enfile)
{
    if (!on_posix_x())
        SKIP("fs.file-max of the host is far away");
    if (geteuid() != 0)
        SKIP("needs root to switch to nobody");
    long file_max = read_number("/proc/sys/fs/file-max");
    CHECK(file_max > 0);
    enum { PER_CHILD = 4000, MAX_CHILDREN = 64 };
    pid_t kids[MAX_CHILDREN];
    int nkids = 0, saw_enfile = 0;
    int go[2];
    CHECK_OK(pipe(go));
    while (!saw_enfile && nkids < MAX_CHILDREN) {
        int rep[2];
        CHECK_OK(pipe(rep));
        pid_t pid = fork();
        CHECK(pid >= 0);
        if (pid == 0) {
            alarm(HANG_LIMIT * 4);
            close(go[1]);
            close(rep[0]);
            become_nobody();
            struct rlimit rl = { PER_CHILD + 16, PER_CHILD + 16 };
            CCHECK(setrlimit(RLIMIT_NOFILE, &rl) == 0);
            int n = 0, err = 0;
            for (; n < PER_CHILD; n++)
                if (open("/dev/null", O_RDONLY) < 0) {
                    err = errno;
                    break;
                }
            char c = err == ENFILE ? 'E' : err == 0 ? 'o' : '?';
            if (c == '?')
                dprintf(2, "# child: %s after %d\n", strerror(err), n);
            CCHECK(write(rep[1], &c, 1) == 1);
            char g;
            CCHECK(read(go[0], &g, 1) == 0); /* held open until the parent lets go */
            _exit(0);
        }
        kids[nkids++] = pid;
        close(rep[1]);
        char c = 0;
        CHECK_EQ(read(rep[0], &c, 1), 1);
        close(rep[0]);
        CHECK(c == 'o' || c == 'E');
        saw_enfile = c == 'E';
    }
    close(go[1]);
    close(go[0]);
    for (int i = 0; i < nkids; i++)
        CHECK_EXITED(kids[i], 0);
    CHECK(saw_enfile);
    CHECK(nkids * (long)PER_CHILD >= file_max / 2);
    /* Still works. */
    int fd = open("/dev/null", O_RDONLY);
    CHECK(fd >= 0);
    close(fd);
}

/* ================= what used to hang ================= */

/* Process substitution: the shell hands over /dev/fd/N of a pipe, and the program opens it. */
TEST(reopening_a_pipe_through_proc_fd_never_waits)
{
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        alarm(HANG_LIMIT); /* a wait for a peer fails the case instead of hanging */
        signal(SIGPIPE, SIG_IGN);
        char path[64];
        int p[2];
        /* Both ends open: read end and write end reopen at once. */
        CCHECK(pipe(p) == 0);
        snprintf(path, sizeof path, "/proc/self/fd/%d", p[0]);
        int r = open(path, O_RDONLY);
        CCHECK(r >= 0);
        snprintf(path, sizeof path, "/proc/self/fd/%d", p[1]);
        int w = open(path, O_WRONLY);
        CCHECK(w >= 0);
        CCHECK(write(w, "ab", 2) == 2);
        char buf[4];
        CCHECK(read(r, buf, 1) == 1 && buf[0] == 'a');
        CCHECK(read(p[0], buf, 1) == 1 && buf[0] == 'b');
        /* The writers gone: the reader reopens anyway and sees end of file. */
        close(w);
        close(p[1]);
        snprintf(path, sizeof path, "/proc/self/fd/%d", p[0]);
        int r2 = open(path, O_RDONLY);
        CCHECK(r2 >= 0);
        CCHECK(read(r2, buf, 1) == 0);
        close(r2);
        close(r);
        close(p[0]);
        /* The readers gone: a write end reopens (no ENXIO even with O_NONBLOCK): EPIPE. */
        CCHECK(pipe(p) == 0);
        close(p[0]);
        snprintf(path, sizeof path, "/proc/self/fd/%d", p[1]);
        w = open(path, O_WRONLY);
        CCHECK(w >= 0);
        CERRNO(write(w, "x", 1), EPIPE);
        close(w);
        w = open(path, O_WRONLY | O_NONBLOCK);
        CCHECK(w >= 0);
        close(w);
        /* A write end reopened as a reader: no writer must come first. */
        r = open(path, O_RDONLY);
        CCHECK(r >= 0);
        close(r);
        close(p[1]);
        _exit(0);
    }
    CHECK_EXITED(pid, 0);
}

/* `cat <(echo hello)`: a child writes into a pipe; the parent reads it by its /proc path. */
TEST(process_substitution_reads_a_childs_output_through_dev_fd)
{
    int p[2];
    CHECK_OK(pipe(p));
    pid_t writer = fork();
    CHECK(writer >= 0);
    if (writer == 0) {
        close(p[0]);
        CCHECK(write(p[1], "hello\n", 6) == 6);
        _exit(0);
    }
    close(p[1]);
    pid_t reader = fork();
    CHECK(reader >= 0);
    if (reader == 0) {
        alarm(HANG_LIMIT);
        char path[64], buf[16] = {0};
        snprintf(path, sizeof path, "/dev/fd/%d", p[0]);
        int fd = open(path, O_RDONLY);
        CCHECK(fd >= 0);
        size_t got = 0;
        ssize_t n;
        while ((n = read(fd, buf + got, sizeof buf - 1 - got)) > 0)
            got += (size_t)n;
        CCHECK(n == 0 && strcmp(buf, "hello\n") == 0);
        _exit(0);
    }
    close(p[0]);
    CHECK_EXITED(writer, 0);
    CHECK_EXITED(reader, 0);
}

/* gVisor's TwoPipesPartialWrite: the destination has room for one page of the two. */
static void two_pipes_partial(int use_tee)
{
    int in[2], out[2];
    CCHECK(pipe(in) == 0 && pipe(out) == 0);
    static char page[PAGE], big[15 * PAGE];
    memset(page, 'a', sizeof page);
    CCHECK(write(in[1], page, PAGE) == PAGE);
    memset(page, 'b', sizeof page);
    CCHECK(write(in[1], page, PAGE) == PAGE);
    CCHECK(fcntl(out[1], F_GETPIPE_SZ) == 16 * PAGE);
    CCHECK(write(out[1], big, sizeof big) == (ssize_t)sizeof big);
    ssize_t n = use_tee ? tee(in[0], out[1], 2 * PAGE, 0)
                        : splice(in[0], NULL, out[1], NULL, 2 * PAGE, 0);
    CCHECK(n == PAGE);
    int left = -1, there = -1;
    CCHECK(ioctl(in[0], FIONREAD, &left) == 0);
    CCHECK(ioctl(out[0], FIONREAD, &there) == 0);
    CCHECK(left == (use_tee ? 2 * PAGE : PAGE)); /* only what moved left the source */
    CCHECK(there == 16 * PAGE);
    /* Full now: nonblocking, EAGAIN; the data came in order. */
    CERRNO(splice(in[0], NULL, out[1], NULL, PAGE, SPLICE_F_NONBLOCK), EAGAIN);
    CCHECK(read(out[0], big, sizeof big) == (ssize_t)sizeof big);
    char c;
    CCHECK(read(out[0], &c, 1) == 1 && c == 'a');
    CCHECK(read(in[0], &c, 1) == 1 && c == (use_tee ? 'a' : 'b'));
    /* With room again the rest moves; input without writers: 0. */
    close(in[1]);
    n = splice(in[0], NULL, out[1], NULL, 4 * PAGE, 0);
    CCHECK(n == (use_tee ? 2 * PAGE : PAGE) - 1);
    CCHECK(splice(in[0], NULL, out[1], NULL, PAGE, 0) == 0);
    /* No reader on the destination: EPIPE. */
    int a[2], b[2];
    CCHECK(pipe(a) == 0 && pipe(b) == 0);
    CCHECK(write(a[1], "x", 1) == 1);
    close(b[0]);
    signal(SIGPIPE, SIG_IGN);
    CERRNO(splice(a[0], NULL, b[1], NULL, 1, 0), EPIPE);
    CERRNO(tee(a[0], b[1], 1, 0), EPIPE);
}

TEST(splice_between_two_pipes_returns_a_partial_count)
{
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        alarm(HANG_LIMIT);
        two_pipes_partial(0);
        _exit(0);
    }
    CHECK_EXITED(pid, 0);
}

TEST(tee_between_two_pipes_returns_a_partial_count)
{
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        alarm(HANG_LIMIT);
        two_pipes_partial(1);
        _exit(0);
    }
    CHECK_EXITED(pid, 0);
}

/* ================= permissions ================= */

TEST(root_and_dev_are_0755_tmp_and_dev_shm_1777)
{
    struct stat st;
    CHECK_OK(stat("/", &st));
    CHECK_EQ(st.st_mode & 07777, 0755);
    CHECK_OK(stat("/dev", &st));
    CHECK_EQ(st.st_mode & 07777, 0755);
    CHECK_OK(stat("/tmp", &st));
    CHECK_EQ(st.st_mode & 07777, 01777);
    CHECK_OK(stat("/dev/shm", &st));
    CHECK_EQ(st.st_mode & 07777, 01777);
}

TEST(nobody_cannot_create_in_root_or_dev)
{
    if (geteuid() != 0)
        SKIP("needs root to switch to nobody");
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        become_nobody();
        CERRNO(open("/fs_limits_nobody", O_CREAT | O_WRONLY, 0644), EACCES);
        CERRNO(mkdir("/fs_limits_nobody", 0755), EACCES);
        CERRNO(open("/dev/fs_limits_nobody", O_CREAT | O_WRONLY, 0644), EACCES);
        CERRNO(mkdir("/dev/fs_limits_nobody", 0755), EACCES);
        char path[64];
        snprintf(path, sizeof path, "/tmp/fs_limits_nobody.%d", (int)getpid());
        int fd = open(path, O_CREAT | O_EXCL | O_WRONLY, 0644);
        CCHECK(fd >= 0);
        close(fd);
        CCHECK(unlink(path) == 0);
        _exit(0);
    }
    CHECK_EXITED(pid, 0);
}

/* A root process that waits; nobody looks at its /proc files. */
TEST(another_users_proc_maps_fdinfo_cwd_exe_are_eacces)
{
    if (geteuid() != 0)
        SKIP("needs root to switch to nobody");
    int hold[2];
    CHECK_OK(pipe(hold));
    pid_t target = fork();
    CHECK(target >= 0);
    if (target == 0) {
        close(hold[1]);
        char c;
        read(hold[0], &c, 1); /* until the parent closes its end */
        _exit(0);
    }
    close(hold[0]);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        alarm(HANG_LIMIT);
        become_nobody();
        char path[64], buf[256];
        snprintf(path, sizeof path, "/proc/%d/maps", (int)target);
        CERRNO(open(path, O_RDONLY), EACCES);
        snprintf(path, sizeof path, "/proc/%d/environ", (int)target);
        CERRNO(open(path, O_RDONLY), EACCES);
        snprintf(path, sizeof path, "/proc/%d/fdinfo/0", (int)target);
        CERRNO(open(path, O_RDONLY), EACCES);
        snprintf(path, sizeof path, "/proc/%d/fd", (int)target);
        CCHECK(opendir(path) == NULL && errno == EACCES);
        snprintf(path, sizeof path, "/proc/%d/cwd", (int)target);
        CERRNO(readlink(path, buf, sizeof buf), EACCES);
        snprintf(path, sizeof path, "/proc/%d/exe", (int)target);
        CERRNO(readlink(path, buf, sizeof buf), EACCES);
        /* What anyone may read still reads. */
        snprintf(path, sizeof path, "/proc/%d/stat", (int)target);
        int fd = open(path, O_RDONLY);
        CCHECK(fd >= 0);
        CCHECK(read(fd, buf, sizeof buf) > 0);
        close(fd);
        /* And one's own files are open to oneself. */
        fd = open("/proc/self/maps", O_RDONLY);
        CCHECK(fd >= 0);
        CCHECK(read(fd, buf, sizeof buf) > 0);
        close(fd);
        CCHECK(readlink("/proc/self/cwd", buf, sizeof buf) > 0);
        CCHECK(readlink("/proc/self/exe", buf, sizeof buf) > 0);
        fd = open("/proc/self/fdinfo/0", O_RDONLY);
        CCHECK(fd >= 0);
        close(fd);
        _exit(0);
    }
    CHECK_EXITED(pid, 0);
    close(hold[1]);
    CHECK_EXITED(target, 0);
}

/* A process of the same user (same real, effective and saved ids) may look. */
TEST(same_users_proc_maps_and_cwd_are_readable)
{
    if (geteuid() != 0)
        SKIP("needs root to switch to nobody");
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        alarm(HANG_LIMIT);
        become_nobody();
        int hold[2], ready[2];
        CCHECK(pipe(hold) == 0 && pipe(ready) == 0);
        pid_t target = fork();
        CCHECK(target >= 0);
        if (target == 0) {
            /* Linux made this process undumpable when it changed its ids; undumpable, it
             * would be closed even to its own user. */
            prctl(PR_SET_DUMPABLE, 1);
            close(hold[1]);
            CCHECK(write(ready[1], "r", 1) == 1);
            char c;
            read(hold[0], &c, 1);
            _exit(0);
        }
        close(hold[0]);
        char r;
        CCHECK(read(ready[0], &r, 1) == 1);
        char path[64], buf[256];
        snprintf(path, sizeof path, "/proc/%d/maps", (int)target);
        int fd = open(path, O_RDONLY);
        CCHECK(fd >= 0);
        close(fd);
        snprintf(path, sizeof path, "/proc/%d/cwd", (int)target);
        CCHECK(readlink(path, buf, sizeof buf) > 0);
        close(hold[1]);
        CCHECK(child_status(target) == 0);
        _exit(0);
    }
    CHECK_EXITED(pid, 0);
}

/* ================= mmap of what cannot be mapped ================= */

TEST(mmap_of_a_queue_a_proc_file_a_pipe_or_dev_null_is_enodev)
{
    char name[64];
    snprintf(name, sizeof name, "/fs_limits_mq.%d", (int)getpid());
    struct mq_attr attr = { .mq_maxmsg = 4, .mq_msgsize = 64 };
    mqd_t q = mq_open(name, O_CREAT | O_RDWR, 0600, &attr);
    CHECK(q != (mqd_t)-1);
    mq_unlink(name);
    CHECK(mmap(NULL, PAGE, PROT_READ, MAP_SHARED, (int)q, 0) == MAP_FAILED);
    CHECK_EQ(errno, ENODEV);
    CHECK(mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, (int)q, 0) == MAP_FAILED);
    CHECK_EQ(errno, ENODEV);
    mq_close(q);

    int fd = open("/proc/self/stat", O_RDONLY);
    CHECK(fd >= 0);
    CHECK(mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, fd, 0) == MAP_FAILED);
    CHECK_EQ(errno, ENODEV);
    close(fd);

    /* Linux's global /proc files go through its proc_reg wrapper, which says EIO. */
    fd = open("/proc/meminfo", O_RDONLY);
    CHECK(fd >= 0);
    CHECK(mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd, 0) == MAP_FAILED);
    CHECK_EQ(errno, EIO);
    close(fd);

    fd = open("/proc/sys/fs/nr_open", O_RDONLY);
    CHECK(fd >= 0);
    CHECK(mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, fd, 0) == MAP_FAILED);
    CHECK_EQ(errno, ENODEV);
    close(fd);

    int p[2];
    CHECK_OK(pipe(p));
    CHECK(mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, p[0], 0) == MAP_FAILED);
    CHECK_EQ(errno, ENODEV);
    close(p[0]);
    close(p[1]);

    fd = open("/dev/null", O_RDWR);
    CHECK(fd >= 0);
    CHECK(mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, fd, 0) == MAP_FAILED);
    CHECK_EQ(errno, ENODEV);
    close(fd);

    /* /dev/zero still maps (anonymous memory). */
    fd = open("/dev/zero", O_RDWR);
    CHECK(fd >= 0);
    char *m = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    CHECK(m != MAP_FAILED);
    CHECK_EQ(m[100], 0);
    m[100] = 7;
    CHECK_OK(munmap(m, PAGE));
    close(fd);
}
