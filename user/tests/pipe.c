/* pipe.c - anonymous pipes: pipe and pipe2 (O_NONBLOCK, O_CLOEXEC, O_DIRECT packet mode, bad
 * flags, EFAULT), the 65536-byte default capacity, F_GETPIPE_SZ/F_SETPIPE_SZ (rounding up to a
 * power-of-two number of pages, EBUSY below the content, EPERM above
 * /proc/sys/fs/pipe-max-size for non-root and for root without CAP_SYS_RESOURCE, allowed
 * with it), PIPE_BUF atomicity with
 * concurrent writers, EOF once the last writer is gone (including one held by a child until it
 * exits), EAGAIN and partial counts with O_NONBLOCK, EPIPE and SIGPIPE, FIONREAD, fstat
 * (S_IFIFO, mode 0600, one inode per pipe shared by both ends), /proc/self/fd "pipe:[ino]",
 * zero-length reads and writes, ESPIPE, wrong-direction EBADF, readers and writers blocked in
 * another process woken by the peer, a blocked writer getting EPIPE when the reader goes, and
 * EINTR for a read interrupted by a handler without SA_RESTART.
 * Where a process must be blocked before its peer acts, the peer waits until
 * /proc/<pid>/stat shows it sleeping ('S'); nothing depends on timing.
 * Syscalls: pipe, pipe2, read, write, close, fcntl (F_GETFL, F_SETFL, F_GETFD,
 * F_GETPIPE_SZ, F_SETPIPE_SZ), ioctl (FIONREAD), fstat, readlink, lseek, pread64, fork, wait4,
 * setuid, kill, rt_sigaction, rt_sigprocmask, rt_sigpending, rt_sigtimedwait, openat.
 */
#define _GNU_SOURCE
#define TEST_MAIN
#include "test.h"

#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include "children.h"

#define PAGE 4096
#define DEFAULT_CAP 65536

static int read_full(int fd, void *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, (char *)buf + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        got += (size_t)r;
    }
    return 0;
}

static int set_nonblock(int fd, int on)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0)
        return -1;
    return fcntl(fd, F_SETFL, on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK);
}

/* Writes `chunk`-byte pieces with O_NONBLOCK until EAGAIN; returns the bytes written or -1. */
static long fill(int fd, size_t chunk)
{
    static char buf[PAGE];
    memset(buf, 'f', sizeof buf);
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
        return -1;
    long total = 0;
    for (;;) {
        ssize_t r = write(fd, buf, chunk);
        if (r < 0) {
            if (errno != EAGAIN)
                total = -1;
            break;
        }
        total += r;
        if (total > 64L * 1024 * 1024)
            return -1;
    }
    fcntl(fd, F_SETFL, fl);
    return total;
}

static void sig_default(void)
{
    signal(SIGPIPE, SIG_DFL);
    signal(SIGUSR1, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
}

static void close2(int p[2])
{
    close(p[0]);
    close(p[1]);
}

/* ================= creation ================= */

TEST(pipe_gives_a_read_end_and_a_write_end)
{
    int p[2] = {-1, -1};
    CHECK_OK(pipe(p));
    CHECK(p[0] >= 0 && p[1] >= 0 && p[0] != p[1]);
    CHECK_EQ(fcntl(p[0], F_GETFL) & O_ACCMODE, O_RDONLY);
    CHECK_EQ(fcntl(p[1], F_GETFL) & O_ACCMODE, O_WRONLY);
    CHECK_EQ(write(p[1], "hello", 5), 5);
    char buf[8] = {0};
    CHECK_EQ(read(p[0], buf, sizeof buf), 5);
    CHECK(memcmp(buf, "hello", 5) == 0);
    CHECK_ERRNO(write(p[0], "x", 1), EBADF);
    CHECK_ERRNO(read(p[1], buf, 1), EBADF);
    close2(p);
}

TEST(pipe2_nonblock_and_cloexec_apply_to_both_ends)
{
    int p[2];
    CHECK_OK(pipe2(p, O_NONBLOCK | O_CLOEXEC));
    CHECK(fcntl(p[0], F_GETFL) & O_NONBLOCK);
    CHECK(fcntl(p[1], F_GETFL) & O_NONBLOCK);
    CHECK_EQ(fcntl(p[0], F_GETFD), FD_CLOEXEC);
    CHECK_EQ(fcntl(p[1], F_GETFD), FD_CLOEXEC);
    close2(p);
    CHECK_OK(pipe2(p, 0));
    CHECK_EQ(fcntl(p[0], F_GETFL) & O_NONBLOCK, 0);
    CHECK_EQ(fcntl(p[1], F_GETFD), 0);
    close2(p);
}

TEST(pipe2_bad_flags_einval_and_bad_pointer_efault)
{
    int p[2];
    CHECK_ERRNO(syscall(SYS_pipe2, p, O_APPEND), EINVAL);
    CHECK_ERRNO(syscall(SYS_pipe2, p, 0x40000000), EINVAL);
    CHECK_ERRNO(syscall(SYS_pipe2, bad_ptr(16), 0), EFAULT);
    CHECK_ERRNO(syscall(SYS_pipe, bad_ptr(16)), EFAULT);
}

/* ================= O_DIRECT packets ================= */

TEST(o_direct_each_write_is_read_back_as_one_packet)
{
    int p[2];
    CHECK_OK(pipe2(p, O_DIRECT));
    CHECK(fcntl(p[1], F_GETFL) & O_DIRECT);
    CHECK_EQ(write(p[1], "abc", 3), 3);
    CHECK_EQ(write(p[1], "defgh", 5), 5);
    char buf[4096];
    CHECK_EQ(read(p[0], buf, sizeof buf), 3);
    CHECK(memcmp(buf, "abc", 3) == 0);
    CHECK_EQ(read(p[0], buf, sizeof buf), 5);
    CHECK(memcmp(buf, "defgh", 5) == 0);
    close2(p);
}

TEST(o_direct_short_read_discards_the_rest_of_the_packet)
{
    int p[2];
    CHECK_OK(pipe2(p, O_DIRECT | O_NONBLOCK));
    CHECK_EQ(write(p[1], "0123456789", 10), 10);
    CHECK_EQ(write(p[1], "XY", 2), 2);
    char buf[16] = {0};
    CHECK_EQ(read(p[0], buf, 4), 4);
    CHECK(memcmp(buf, "0123", 4) == 0);
    CHECK_EQ(read(p[0], buf, sizeof buf), 2);
    CHECK(memcmp(buf, "XY", 2) == 0);
    CHECK_ERRNO(read(p[0], buf, sizeof buf), EAGAIN);
    close2(p);
}

TEST(o_direct_large_write_is_split_into_page_packets)
{
    int p[2];
    CHECK_OK(pipe2(p, O_DIRECT));
    static char data[6000];
    memset(data, 'd', sizeof data);
    CHECK_EQ(write(p[1], data, sizeof data), 6000);
    static char buf[16384];
    CHECK_EQ(read(p[0], buf, sizeof buf), PIPE_BUF);
    CHECK_EQ(read(p[0], buf, sizeof buf), 6000 - PIPE_BUF);
    close2(p);
}

TEST(o_direct_each_packet_takes_a_slot_sixteen_fill_the_pipe)
{
    int p[2];
    CHECK_OK(pipe2(p, O_DIRECT));
    CHECK_EQ(fill(p[1], 1), 16);
    close2(p);
}

/* ================= capacity ================= */

TEST(default_capacity_is_65536_bytes)
{
    int p[2];
    CHECK_OK(pipe(p));
    CHECK_EQ(fcntl(p[0], F_GETPIPE_SZ), DEFAULT_CAP);
    CHECK_EQ(fcntl(p[1], F_GETPIPE_SZ), DEFAULT_CAP);
    CHECK_EQ(fill(p[1], PAGE), DEFAULT_CAP);
    int n = -1;
    CHECK_OK(ioctl(p[0], FIONREAD, &n));
    CHECK_EQ(n, DEFAULT_CAP);
    close2(p);
}

TEST(one_byte_writes_share_a_page_until_it_is_full)
{
    int p[2];
    CHECK_OK(pipe(p));
    CHECK_OK(fcntl(p[1], F_SETPIPE_SZ, PAGE)); /* a single page: 4096 one-byte writes */
    CHECK_EQ(fill(p[1], 1), PAGE);
    close2(p);
}

TEST(f_setpipe_sz_rounds_up_to_a_power_of_two_of_pages)
{
    int p[2];
    CHECK_OK(pipe(p));
    CHECK_EQ(fcntl(p[1], F_SETPIPE_SZ, 5000), 8192);
    CHECK_EQ(fcntl(p[0], F_GETPIPE_SZ), 8192);
    CHECK_EQ(fcntl(p[1], F_SETPIPE_SZ, 1), 4096);
    CHECK_EQ(fcntl(p[1], F_SETPIPE_SZ, 0), 4096);
    CHECK_EQ(fcntl(p[1], F_SETPIPE_SZ, 3 * 4096), 16384);
    CHECK_EQ(fcntl(p[1], F_SETPIPE_SZ, 70000), 131072);
    CHECK_EQ(fcntl(p[1], F_GETPIPE_SZ), 131072);
    CHECK_EQ(fill(p[1], PAGE), 131072);
    close2(p);
}

TEST(f_setpipe_sz_shrinking_below_the_content_ebusy)
{
    int p[2];
    CHECK_OK(pipe(p));
    static char data[3 * PAGE];
    memset(data, 'b', sizeof data);
    CHECK_EQ(write(p[1], data, sizeof data), (ssize_t)sizeof data);
    CHECK_ERRNO(fcntl(p[1], F_SETPIPE_SZ, PAGE), EBUSY);
    CHECK_ERRNO(fcntl(p[1], F_SETPIPE_SZ, 2 * PAGE), EBUSY);
    CHECK_EQ(fcntl(p[1], F_GETPIPE_SZ), DEFAULT_CAP);
    CHECK_EQ(fcntl(p[1], F_SETPIPE_SZ, 4 * PAGE), 4 * PAGE); /* room for the content */
    static char back[3 * PAGE];
    CHECK_EQ(read(p[0], back, sizeof back), (ssize_t)sizeof back);
    CHECK(memcmp(back, data, sizeof data) == 0);
    CHECK_EQ(fcntl(p[1], F_SETPIPE_SZ, PAGE), PAGE); /* empty now */
    close2(p);
}

/* /proc/sys/fs/pipe-max-size, or Linux's default 1 MiB if the file does not exist. */
static long pipe_max_size(void)
{
    int fd = open("/proc/sys/fs/pipe-max-size", O_RDONLY);
    if (fd < 0)
        return errno == ENOENT ? 1048576 : -1;
    char buf[32] = {0};
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    return n > 0 ? strtol(buf, NULL, 10) : -1;
}

TEST(f_setpipe_sz_above_pipe_max_size_eperm_for_non_root)
{
    if (geteuid() != 0)
        SKIP("needs root to switch to uid 65534");
    long max = pipe_max_size();
    CHECK(max >= PAGE);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        CCHECK(setuid(65534) == 0);
        int p[2];
        CCHECK(pipe(p) == 0);
        errno = 0;
        CCHECK(fcntl(p[1], F_SETPIPE_SZ, max * 2) == -1 && errno == EPERM);
        CCHECK(fcntl(p[1], F_SETPIPE_SZ, max) == max);
        _exit(0);
    }
    CHECK_EXITED(pid, 0);
}

/* 1 if CapEff in /proc/self/status has CAP_SYS_RESOURCE (24), 0 if not; root without a
 * CapEff line counts as having every capability. */
static int has_cap_sys_resource(void)
{
    char buf[8192];
    int fd = open("/proc/self/status", O_RDONLY);
    if (fd < 0)
        return geteuid() == 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return geteuid() == 0;
    buf[n] = '\0';
    char *p = strstr(buf, "\nCapEff:");
    if (!p)
        return geteuid() == 0;
    unsigned long long caps = strtoull(p + 9, NULL, 16);
    return (caps >> 24) & 1;
}

TEST(f_setpipe_sz_above_pipe_max_size_needs_cap_sys_resource)
{
    if (geteuid() != 0)
        SKIP("needs root");
    long max = pipe_max_size();
    CHECK(max >= PAGE);
    int cap = has_cap_sys_resource();
    int p[2];
    CHECK_OK(pipe(p));
    errno = 0;
    long r = fcntl(p[1], F_SETPIPE_SZ, max * 2);
    int e = errno;
    long g = fcntl(p[0], F_GETPIPE_SZ);
    close2(p);
    if (cap) {
        CHECK_EQ(r, max * 2); /* root (with CAP_SYS_RESOURCE) may go above the limit */
        CHECK_EQ(g, max * 2);
    } else {
        CHECK_EQ(r, -1); /* e.g. a container's root without it */
        CHECK_EQ(e, EPERM);
        CHECK_EQ(g, DEFAULT_CAP);
    }
}

/* ================= atomicity ================= */

TEST(writes_of_pipe_buf_bytes_are_atomic_with_concurrent_writers)
{
    enum { WRITERS = 4, RECORDS = 64 };
    int p[2];
    CHECK_OK(pipe(p));
    pid_t kids[WRITERS];
    for (int w = 0; w < WRITERS; w++) {
        kids[w] = fork();
        if (kids[w] == 0) {
            close(p[0]);
            static char rec[PIPE_BUF];
            memset(rec, 'A' + w, sizeof rec);
            for (int i = 0; i < RECORDS; i++)
                CCHECK(write(p[1], rec, sizeof rec) == (ssize_t)sizeof rec);
            _exit(0);
        }
    }
    close(p[1]);
    int counts[WRITERS] = {0}, mixed = 0, blocks = 0;
    static char blk[PIPE_BUF];
    while (read_full(p[0], blk, sizeof blk) == 0) {
        blocks++;
        char c = blk[0];
        int uniform = c >= 'A' && c < 'A' + WRITERS;
        for (size_t i = 1; i < sizeof blk && uniform; i++)
            uniform = blk[i] == c;
        if (uniform)
            counts[c - 'A']++;
        else
            mixed++;
    }
    close(p[0]);
    int bad_exit = 0;
    for (int w = 0; w < WRITERS; w++)
        if (kids[w] > 0 && child_status(kids[w]) != 0)
            bad_exit++;
    CHECK_EQ(bad_exit, 0);
    CHECK_EQ(mixed, 0);
    CHECK_EQ(blocks, WRITERS * RECORDS);
    for (int w = 0; w < WRITERS; w++)
        CHECK_EQ(counts[w], RECORDS);
}

/* ================= EOF ================= */

TEST(eof_only_after_the_last_write_end_closes)
{
    int p[2];
    CHECK_OK(pipe(p));
    int d = dup(p[1]);
    CHECK_OK(d);
    CHECK_EQ(write(p[1], "z", 1), 1);
    close(p[1]);
    CHECK_OK(set_nonblock(p[0], 1));
    char c;
    CHECK_EQ(read(p[0], &c, 1), 1);
    CHECK_ERRNO(read(p[0], &c, 1), EAGAIN); /* the dup still writes */
    close(d);
    CHECK_EQ(read(p[0], &c, 1), 0);
    CHECK_EQ(read(p[0], &c, 1), 0);
    close(p[0]);
}

TEST(data_is_read_before_eof)
{
    int p[2];
    CHECK_OK(pipe(p));
    CHECK_EQ(write(p[1], "tail", 4), 4);
    close(p[1]);
    char buf[16];
    CHECK_EQ(read(p[0], buf, sizeof buf), 4);
    CHECK_EQ(read(p[0], buf, sizeof buf), 0);
    close(p[0]);
}

TEST(eof_when_a_child_holding_the_write_end_exits)
{
    int p[2], gate[2];
    CHECK_OK(pipe(p));
    CHECK_OK(pipe(gate));
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        close(p[0]);
        close(gate[1]);
        char c;
        _exit(read(gate[0], &c, 1) == 0 ? 0 : 2); /* holds p[1] until the gate closes */
    }
    close(p[1]);
    close(gate[0]);
    CHECK_OK(set_nonblock(p[0], 1));
    char c;
    errno = 0;
    ssize_t early = read(p[0], &c, 1);
    int e = errno;
    CHECK_OK(set_nonblock(p[0], 0));
    close(gate[1]);                  /* the child exits ... */
    ssize_t r = read(p[0], &c, 1);   /* ... and this blocking read sees EOF */
    close(p[0]);
    CHECK_EXITED(pid, 0);
    CHECK_EQ(early, -1);
    CHECK_EQ(e, EAGAIN);
    CHECK_EQ(r, 0);
}

/* ================= non-blocking ================= */

TEST(nonblocking_read_of_an_empty_pipe_eagain)
{
    int p[2];
    CHECK_OK(pipe2(p, O_NONBLOCK));
    char c;
    CHECK_ERRNO(read(p[0], &c, 1), EAGAIN);
    close2(p);
}

TEST(nonblocking_write_to_a_full_pipe_eagain)
{
    int p[2];
    CHECK_OK(pipe2(p, O_NONBLOCK));
    CHECK_EQ(fill(p[1], PAGE), DEFAULT_CAP);
    CHECK_ERRNO(write(p[1], "x", 1), EAGAIN);
    char buf[PAGE];
    CHECK_EQ(read(p[0], buf, sizeof buf), PAGE);
    CHECK_EQ(write(p[1], buf, PAGE), PAGE); /* a slot is free again */
    close2(p);
}

TEST(nonblocking_large_write_into_a_partly_full_pipe_is_partial)
{
    int p[2];
    CHECK_OK(pipe2(p, O_NONBLOCK));
    static char data[60000];
    memset(data, 'p', sizeof data);
    CHECK_EQ(write(p[1], data, sizeof data), 60000);
    static char more[10000];
    memset(more, 'q', sizeof more);
    /* Some, not all (Linux: 4096 here, one free page; how much of the partly used last page
     * is filled depends on its merge rule). */
    ssize_t r = write(p[1], more, sizeof more);
    CHECK(r > 0 && r <= DEFAULT_CAP - 60000);
    CHECK_ERRNO(write(p[1], more, sizeof more), EAGAIN);
    int n = -1;
    CHECK_OK(ioctl(p[0], FIONREAD, &n));
    CHECK_EQ(n, 60000 + r);
    close2(p);
}

TEST(nonblocking_small_write_without_room_for_all_of_it_eagain)
{
    int p[2];
    CHECK_OK(pipe2(p, O_NONBLOCK));
    static char data[DEFAULT_CAP - 100];
    memset(data, 's', sizeof data);
    CHECK_EQ(write(p[1], data, sizeof data), (ssize_t)sizeof data);
    char small[200];
    memset(small, 't', sizeof small);
    /* <= PIPE_BUF is all or nothing */
    CHECK_ERRNO(write(p[1], small, sizeof small), EAGAIN);
    int n = -1;
    CHECK_OK(ioctl(p[0], FIONREAD, &n));
    CHECK_EQ(n, DEFAULT_CAP - 100);
    close2(p);
}

/* ================= EPIPE ================= */

TEST(write_without_readers_sigpipe_kills_by_default)
{
    int p[2];
    CHECK_OK(pipe(p));
    close(p[0]);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        sig_default();
        (void)!write(p[1], "x", 1);
        _exit(3);
    }
    close(p[1]);
    int st = child_status(pid);
    CHECK(WIFSIGNALED(st));
    CHECK_EQ(WTERMSIG(st), SIGPIPE);
}

TEST(write_without_readers_epipe_and_sigpipe_pending_when_blocked)
{
    sig_default();
    int p[2];
    CHECK_OK(pipe(p));
    close(p[0]);
    sigset_t s, old;
    sigemptyset(&s);
    sigaddset(&s, SIGPIPE);
    CHECK_OK(sigprocmask(SIG_BLOCK, &s, &old));
    errno = 0;
    ssize_t r = write(p[1], "x", 1);
    int e = errno;
    sigset_t pend;
    sigemptyset(&pend);
    sigpending(&pend);
    int pending = sigismember(&pend, SIGPIPE);
    struct timespec zero = {0, 0};
    sigtimedwait(&s, NULL, &zero);
    sigprocmask(SIG_SETMASK, &old, NULL);
    close(p[1]);
    CHECK_EQ(r, -1);
    CHECK_EQ(e, EPIPE);
    CHECK_EQ(pending, 1);
}

TEST(zero_length_write_without_readers_returns_zero_without_sigpipe)
{
    sig_default();
    int p[2];
    CHECK_OK(pipe(p));
    close(p[0]);
    sigset_t s, old;
    sigemptyset(&s);
    sigaddset(&s, SIGPIPE);
    CHECK_OK(sigprocmask(SIG_BLOCK, &s, &old));
    ssize_t r = write(p[1], "", 0);
    sigset_t pend;
    sigemptyset(&pend);
    sigpending(&pend);
    int pending = sigismember(&pend, SIGPIPE);
    struct timespec zero = {0, 0};
    sigtimedwait(&s, NULL, &zero);
    sigprocmask(SIG_SETMASK, &old, NULL);
    close(p[1]);
    CHECK_EQ(r, 0);
    CHECK_EQ(pending, 0);
}

TEST(blocked_writer_gets_epipe_when_the_reader_closes)
{
    int p[2];
    CHECK_OK(pipe(p));
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        signal(SIGPIPE, SIG_IGN);
        close(p[0]);
        CCHECK(fill(p[1], PAGE) == DEFAULT_CAP);
        static char buf[PAGE];
        errno = 0;
        ssize_t r = write(p[1], buf, sizeof buf); /* blocks: full */
        CCHECK(r == -1 && errno == EPIPE);
        _exit(0);
    }
    close(p[1]);
    int w = wait_sleeping(pid);
    close(p[0]);
    CHECK_EXITED(pid, 0);
    CHECK_EQ(w, 1);
}

/* ================= metadata ================= */

TEST(fionread_counts_unread_bytes)
{
    int p[2];
    CHECK_OK(pipe(p));
    int n = -1;
    CHECK_OK(ioctl(p[0], FIONREAD, &n));
    CHECK_EQ(n, 0);
    static char data[123];
    memset(data, 'n', sizeof data);
    CHECK_EQ(write(p[1], data, sizeof data), 123);
    CHECK_OK(ioctl(p[0], FIONREAD, &n));
    CHECK_EQ(n, 123);
    char buf[23];
    CHECK_EQ(read(p[0], buf, sizeof buf), 23);
    CHECK_OK(ioctl(p[0], FIONREAD, &n));
    CHECK_EQ(n, 100);
    close2(p);
}

TEST(fstat_is_fifo_mode_0600_and_both_ends_share_one_inode)
{
    int p[2], q[2];
    CHECK_OK(pipe(p));
    CHECK_OK(pipe(q));
    struct stat a, b, c;
    CHECK_OK(fstat(p[0], &a));
    CHECK_OK(fstat(p[1], &b));
    CHECK_OK(fstat(q[0], &c));
    close2(p);
    close2(q);
    CHECK(S_ISFIFO(a.st_mode));
    CHECK(S_ISFIFO(b.st_mode));
    CHECK_EQ(a.st_mode & 07777, 0600);
    CHECK_EQ(a.st_ino, b.st_ino);
    CHECK_EQ(a.st_dev, b.st_dev);
    CHECK_NE(a.st_ino, c.st_ino);
}

TEST(proc_self_fd_link_is_pipe_ino)
{
    int p[2];
    CHECK_OK(pipe(p));
    struct stat st;
    CHECK_OK(fstat(p[0], &st));
    char want[64], path[64], got[64];
    snprintf(want, sizeof want, "pipe:[%lu]", (unsigned long)st.st_ino);
    for (int i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "/proc/self/fd/%d", p[i]);
        ssize_t n = readlink(path, got, sizeof got - 1);
        if (n < 0) {
            close2(p);
            FAIL("readlink %s: %s", path, strerror(errno));
        }
        got[n] = '\0';
        if (strcmp(got, want) != 0) {
            close2(p);
            FAIL("%s -> \"%s\", expected \"%s\"", path, got, want);
        }
    }
    close2(p);
}

TEST(zero_length_read_returns_zero_at_once_even_when_empty)
{
    int p[2];
    CHECK_OK(pipe(p));
    char c;
    CHECK_EQ(read(p[0], &c, 0), 0); /* blocking pipe, no data: must not block */
    CHECK_EQ(write(p[1], &c, 0), 0);
    int n = -1;
    CHECK_OK(ioctl(p[0], FIONREAD, &n));
    CHECK_EQ(n, 0);
    close2(p);
}

TEST(lseek_and_pread_on_a_pipe_espipe)
{
    int p[2];
    CHECK_OK(pipe(p));
    CHECK_EQ(write(p[1], "ab", 2), 2);
    char c;
    CHECK_ERRNO(lseek(p[0], 0, SEEK_SET), ESPIPE);
    CHECK_ERRNO(lseek(p[1], 0, SEEK_CUR), ESPIPE);
    CHECK_ERRNO(pread(p[0], &c, 1, 0), ESPIPE);
    CHECK_ERRNO(pwrite(p[1], &c, 1, 0), ESPIPE);
    close2(p);
}

/* ================= blocking across processes ================= */

TEST(blocked_reader_is_woken_by_a_writer_in_another_process)
{
    int p[2];
    CHECK_OK(pipe(p));
    pid_t parent = getpid();
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        close(p[0]);
        CCHECK(wait_sleeping(parent));
        CCHECK(write(p[1], "wake", 4) == 4);
        _exit(0);
    }
    char buf[8] = {0};
    ssize_t r = read(p[0], buf, sizeof buf);
    close2(p);
    CHECK_EXITED(pid, 0);
    CHECK_EQ(r, 4);
    CHECK(memcmp(buf, "wake", 4) == 0);
}

TEST(blocked_writer_is_woken_when_the_reader_drains)
{
    int p[2];
    CHECK_OK(pipe(p));
    CHECK_EQ(fill(p[1], PAGE), DEFAULT_CAP);
    pid_t parent = getpid();
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        close(p[1]);
        CCHECK(wait_sleeping(parent));
        static char buf[PAGE];
        CCHECK(read_full(p[0], buf, sizeof buf) == 0);
        _exit(0);
    }
    static char out[PAGE];
    memset(out, 'w', sizeof out);
    ssize_t r = write(p[1], out, sizeof out); /* full: blocks until the child reads */
    int n = -1;
    ioctl(p[0], FIONREAD, &n);
    close2(p);
    CHECK_EXITED(pid, 0);
    CHECK_EQ(r, PAGE);
    CHECK_EQ(n, DEFAULT_CAP);
}

TEST(large_blocking_write_completes_while_a_child_reads)
{
    enum { N = 256 * 1024 };
    int p[2];
    CHECK_OK(pipe(p));
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        close(p[1]);
        static unsigned char in[N];
        CCHECK(read_full(p[0], in, N) == 0);
        for (int i = 0; i < N; i++)
            CCHECK(in[i] == (unsigned char)(i * 31 + 7));
        char c;
        CCHECK(read(p[0], &c, 1) == 0);
        _exit(0);
    }
    close(p[0]);
    static unsigned char out[N];
    for (int i = 0; i < N; i++)
        out[i] = (unsigned char)(i * 31 + 7);
    ssize_t r = write(p[1], out, N); /* one call: blocks and resumes as the child reads */
    close(p[1]);
    CHECK_EXITED(pid, 0);
    CHECK_EQ(r, N);
}

static volatile int usr1_hits;
static void on_usr1(int sig) { (void)sig; usr1_hits++; }

TEST(read_interrupted_by_a_handler_without_sa_restart_eintr)
{
    sig_default();
    usr1_hits = 0;
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    CHECK_OK(sigaction(SIGUSR1, &sa, &old));
    int p[2];
    CHECK_OK(pipe(p));
    pid_t parent = getpid();
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        CCHECK(wait_sleeping(parent));
        CCHECK(kill(parent, SIGUSR1) == 0);
        _exit(0);
    }
    char c;
    errno = 0;
    ssize_t r = read(p[0], &c, 1);
    int e = errno;
    close2(p);
    sigaction(SIGUSR1, &old, NULL);
    CHECK_EXITED(pid, 0);
    CHECK_EQ(r, -1);
    CHECK_EQ(e, EINTR);
    CHECK_EQ(usr1_hits, 1);
}
