/* select.c - select and pselect6 on pipes: the read set for data and for end of file, the write
 * set while there is room (not when full), the exception set never for pipes, a write end
 * whose reader is gone counting as readable and writable (POLLERR), sets cleared for fds that
 * are not ready, the count of set bits, a closed fd in any set EBADF, nfds beyond the highest
 * open fd being fine, fds near FD_SETSIZE, negative nfds and negative timeouts EINVAL (a
 * tv_usec of a second or more is normalised), EFAULT;
 * timeouts of 0, positive (never early, also with no fds) and infinite (woken by a child);
 * the remaining time written back by the raw select and pselect6 calls; EINTR on a handled
 * signal even with SA_RESTART; pselect6's atomic signal mask and its sigset size check.
 * Where a process must be blocked before its peer acts, the peer waits until
 * /proc/<pid>/stat shows it sleeping ('S'); nothing depends on timing.
 * Syscalls: select, pselect6, pipe2, read, write, close, dup, dup2, openat, fork, wait4, kill,
 * prlimit64, rt_sigaction, rt_sigprocmask, clock_gettime.
 */
#define _GNU_SOURCE
#define TEST_MAIN
#include "test.h"

#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>

#include "children.h"

#define PAGE 4096
#define KSIGSET_SIZE 8

static long fill(int fd)
{
    static char buf[PAGE];
    int fl = fcntl(fd, F_GETFL);
    fcntl(fd, F_SETFL, fl | O_NONBLOCK);
    long total = 0;
    ssize_t r;
    while ((r = write(fd, buf, sizeof buf)) > 0)
        total += r;
    fcntl(fd, F_SETFL, fl);
    return total;
}

static void close2(int p[2])
{
    close(p[0]);
    close(p[1]);
}

/* The raw select system call: Linux writes the remaining time back into *tv. */
static long sys_select(int n, fd_set *r, fd_set *w, fd_set *e, struct timeval *tv)
{
    return syscall(SYS_select, n, r, w, e, tv);
}

struct sigdata {
    const sigset_t *ss;
    size_t len;
};

static long sys_pselect6(int n, fd_set *r, fd_set *w, fd_set *e, struct timespec *ts,
                         const sigset_t *mask, size_t len)
{
    struct sigdata sd = {mask, len};
    return syscall(SYS_pselect6, n, r, w, e, ts, mask ? &sd : NULL);
}

/* Readiness of one fd with a zero timeout: bit 1 readable, 2 writable, 4 exception; -1 on
 * error. */
static int ready_bits(int fd)
{
    fd_set r, w, e;
    FD_ZERO(&r);
    FD_ZERO(&w);
    FD_ZERO(&e);
    FD_SET(fd, &r);
    FD_SET(fd, &w);
    FD_SET(fd, &e);
    struct timeval tv = {0, 0};
    if (select(fd + 1, &r, &w, &e, &tv) < 0)
        return -1;
    return (FD_ISSET(fd, &r) ? 1 : 0) | (FD_ISSET(fd, &w) ? 2 : 0) | (FD_ISSET(fd, &e) ? 4 : 0);
}

static volatile int usr1_hits;
static void on_usr1(int sig) { (void)sig; usr1_hits++; }

static int handle_usr1(int flags, struct sigaction *old)
{
    usr1_hits = 0;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sa.sa_flags = flags;
    return sigaction(SIGUSR1, &sa, old);
}

/* ================= readiness ================= */

TEST(read_set_only_when_data_is_there)
{
    int p[2];
    CHECK_OK(pipe(p));
    int empty = ready_bits(p[0]);
    CHECK_EQ(write(p[1], "x", 1), 1);
    int data = ready_bits(p[0]);
    close2(p);
    CHECK_EQ(empty, 0);
    CHECK_EQ(data, 1);
}

TEST(write_set_while_there_is_room_and_not_when_full)
{
    int p[2];
    CHECK_OK(pipe(p));
    int room = ready_bits(p[1]);
    CHECK_EQ(fill(p[1]), 65536);
    int full = ready_bits(p[1]);
    static char buf[PAGE];
    CHECK_EQ(read(p[0], buf, sizeof buf), PAGE);
    int again = ready_bits(p[1]);
    close2(p);
    CHECK_EQ(room, 2);
    CHECK_EQ(full, 0);
    CHECK_EQ(again, 2);
}

TEST(end_of_file_counts_as_readable)
{
    int p[2];
    CHECK_OK(pipe(p));
    close(p[1]);
    int bits = ready_bits(p[0]);
    close(p[0]);
    CHECK_EQ(bits, 1);
}

TEST(write_end_without_reader_is_readable_and_writable)
{
    int p[2];
    CHECK_OK(pipe(p));
    close(p[0]);
    int bits = ready_bits(p[1]); /* POLLERR is in Linux's read and write sets */
    close(p[1]);
    CHECK_EQ(bits, 3);
}

TEST(exception_set_is_never_set_for_pipes)
{
    int p[2];
    CHECK_OK(pipe(p));
    CHECK_EQ(write(p[1], "x", 1), 1);
    fd_set e;
    FD_ZERO(&e);
    FD_SET(p[0], &e);
    FD_SET(p[1], &e);
    struct timeval tv = {0, 0};
    int n = select((p[0] > p[1] ? p[0] : p[1]) + 1, NULL, NULL, &e, &tv);
    int r0 = FD_ISSET(p[0], &e), r1 = FD_ISSET(p[1], &e);
    close2(p);
    CHECK_EQ(n, 0);
    CHECK_EQ(r0, 0);
    CHECK_EQ(r1, 0);
}

TEST(result_counts_set_bits_and_clears_unready_fds)
{
    int p[2], q[2];
    CHECK_OK(pipe(p));
    CHECK_OK(pipe(q));
    CHECK_EQ(write(p[1], "x", 1), 1);
    fd_set r, w;
    FD_ZERO(&r);
    FD_ZERO(&w);
    FD_SET(p[0], &r);
    FD_SET(q[0], &r); /* empty: must be cleared */
    FD_SET(p[1], &w);
    FD_SET(q[1], &w);
    int maxfd = p[0];
    int all[4] = {p[0], p[1], q[0], q[1]};
    for (int i = 0; i < 4; i++)
        if (all[i] > maxfd)
            maxfd = all[i];
    struct timeval tv = {0, 0};
    int n = select(maxfd + 1, &r, &w, NULL, &tv);
    int rp = FD_ISSET(p[0], &r), rq = FD_ISSET(q[0], &r);
    int wp = FD_ISSET(p[1], &w), wq = FD_ISSET(q[1], &w);
    close2(p);
    close2(q);
    CHECK_EQ(n, 3);
    CHECK(rp);
    CHECK(!rq);
    CHECK(wp);
    CHECK(wq);
}

/* ================= fds and errors ================= */

TEST(closed_fd_in_any_set_ebadf)
{
    int p[2];
    CHECK_OK(pipe(p));
    int closed = p[1];
    close(p[1]);
    for (int which = 0; which < 3; which++) {
        fd_set s[3];
        for (int i = 0; i < 3; i++)
            FD_ZERO(&s[i]);
        FD_SET(p[0], &s[0]);
        FD_SET(closed, &s[which]);
        struct timeval tv = {0, 0};
        errno = 0;
        int n = select((closed > p[0] ? closed : p[0]) + 1, &s[0], &s[1], &s[2], &tv);
        if (n != -1 || errno != EBADF) {
            close(p[0]);
            FAIL("closed fd in set %d: returned %d, errno %s", which, n,
                 test_errno_name(errno));
        }
    }
    close(p[0]);
}

TEST(nfds_beyond_the_highest_open_fd_is_fine)
{
    int p[2];
    CHECK_OK(pipe(p));
    CHECK_EQ(write(p[1], "x", 1), 1);
    fd_set r;
    FD_ZERO(&r);
    FD_SET(p[0], &r);
    struct timeval tv = {0, 0};
    int n = select(FD_SETSIZE, &r, NULL, NULL, &tv);
    int set = FD_ISSET(p[0], &r);
    close2(p);
    CHECK_EQ(n, 1);
    CHECK(set);
}

TEST(fd_near_fd_setsize_works)
{
    struct rlimit rl;
    CHECK_OK(getrlimit(RLIMIT_NOFILE, &rl));
    if (rl.rlim_cur < FD_SETSIZE) {
        if (rl.rlim_max < FD_SETSIZE)
            SKIP("RLIMIT_NOFILE hard limit %lu < FD_SETSIZE", (unsigned long)rl.rlim_max);
        struct rlimit up = {FD_SETSIZE, rl.rlim_max};
        CHECK_OK(setrlimit(RLIMIT_NOFILE, &up));
    }
    int p[2];
    CHECK_OK(pipe(p));
    int hi = FD_SETSIZE - 1;
    int d = dup2(p[0], hi);
    int e = errno;
    CHECK_EQ(write(p[1], "x", 1), 1);
    fd_set r;
    FD_ZERO(&r);
    if (d == hi)
        FD_SET(hi, &r);
    struct timeval tv = {0, 0};
    int n = d == hi ? select(hi + 1, &r, NULL, NULL, &tv) : -1;
    int set = d == hi && FD_ISSET(hi, &r);
    if (d == hi)
        close(hi);
    close2(p);
    setrlimit(RLIMIT_NOFILE, &rl);
    if (d != hi)
        FAIL("dup2 to %d: %s", hi, test_errno_name(e));
    CHECK_EQ(n, 1);
    CHECK(set);
}

TEST(negative_nfds_and_bad_timeouts_einval)
{
    struct timeval tv = {0, 0};
    CHECK_ERRNO(sys_select(-1, NULL, NULL, NULL, &tv), EINVAL);
    struct timeval neg = {-1, 0};
    CHECK_ERRNO(sys_select(0, NULL, NULL, NULL, &neg), EINVAL);
    struct timeval negu = {0, -1};
    CHECK_ERRNO(sys_select(0, NULL, NULL, NULL, &negu), EINVAL);
    struct timespec ts = {0, 1000000000L};
    CHECK_ERRNO(sys_pselect6(0, NULL, NULL, NULL, &ts, NULL, 0), EINVAL);
}

TEST(select_tv_usec_of_a_second_or_more_is_normalised_not_rejected)
{
    int p[2];
    CHECK_OK(pipe(p));
    CHECK_EQ(write(p[1], "x", 1), 1);
    fd_set r;
    FD_ZERO(&r);
    FD_SET(p[0], &r);
    struct timeval big = {0, 1500000}; /* Linux reads it as 1.5 s; ready at once anyway */
    errno = 0;
    long n = sys_select(p[0] + 1, &r, NULL, NULL, &big);
    close2(p);
    CHECK_EQ(n, 1);
}

TEST(bad_set_pointer_efault)
{
    int p[2];
    CHECK_OK(pipe(p));
    struct timeval tv = {0, 0};
    errno = 0;
    long r = sys_select(p[1] + 1, bad_ptr(16), NULL, NULL, &tv);
    int e = errno;
    close2(p);
    CHECK_EQ(r, -1);
    CHECK_EQ(e, EFAULT);
}

/* ================= timeouts ================= */

TEST(timeout_zero_polls)
{
    int p[2];
    CHECK_OK(pipe(p));
    fd_set r;
    FD_ZERO(&r);
    FD_SET(p[0], &r);
    struct timeval tv = {0, 0};
    int n = select(p[0] + 1, &r, NULL, NULL, &tv);
    int set = FD_ISSET(p[0], &r);
    close2(p);
    CHECK_EQ(n, 0);
    CHECK(!set);
}

TEST(select_with_no_fds_sleeps_for_the_timeout)
{
    struct timeval tv = {0, 50000};
    long long t0 = now_ns();
    CHECK_EQ(select(0, NULL, NULL, NULL, &tv), 0);
    CHECK(now_ns() - t0 >= 50000000LL);
}

TEST(raw_select_writes_the_remaining_time_back)
{
    int p[2];
    CHECK_OK(pipe(p));
    fd_set r;
    FD_ZERO(&r);
    FD_SET(p[0], &r);
    struct timeval tv = {0, 100000};
    long long t0 = now_ns();
    long n = sys_select(p[0] + 1, &r, NULL, NULL, &tv);
    long long dt = now_ns() - t0;
    CHECK_EQ(write(p[1], "x", 1), 1);
    FD_ZERO(&r);
    FD_SET(p[0], &r);
    struct timeval tv2 = {5, 0};
    long n2 = sys_select(p[0] + 1, &r, NULL, NULL, &tv2);
    close2(p);
    CHECK_EQ(n, 0);
    CHECK(dt >= 100000000LL);
    CHECK_EQ(tv.tv_sec, 0);
    CHECK_EQ(tv.tv_usec, 0);
    CHECK_EQ(n2, 1);
    CHECK(tv2.tv_sec >= 4 && tv2.tv_sec <= 5);
    CHECK(tv2.tv_sec < 5 || tv2.tv_usec == 0);
}

TEST(raw_pselect6_writes_the_remaining_time_back)
{
    int p[2];
    CHECK_OK(pipe(p));
    fd_set r;
    FD_ZERO(&r);
    FD_SET(p[0], &r);
    struct timespec ts = {0, 50000000};
    long n = sys_pselect6(p[0] + 1, &r, NULL, NULL, &ts, NULL, 0);
    CHECK_EQ(write(p[1], "x", 1), 1);
    FD_ZERO(&r);
    FD_SET(p[0], &r);
    struct timespec ts2 = {5, 0};
    long n2 = sys_pselect6(p[0] + 1, &r, NULL, NULL, &ts2, NULL, 0);
    close2(p);
    CHECK_EQ(n, 0);
    CHECK_EQ(ts.tv_sec, 0);
    CHECK_EQ(ts.tv_nsec, 0);
    CHECK_EQ(n2, 1);
    CHECK(ts2.tv_sec >= 4 && ts2.tv_sec <= 5);
}

TEST(infinite_timeout_is_woken_by_a_write_from_a_child)
{
    int p[2];
    CHECK_OK(pipe(p));
    pid_t parent = getpid();
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        close(p[0]);
        CCHECK(wait_sleeping(parent));
        CCHECK(write(p[1], "w", 1) == 1);
        _exit(0);
    }
    fd_set r;
    FD_ZERO(&r);
    FD_SET(p[0], &r);
    int n = select(p[0] + 1, &r, NULL, NULL, NULL);
    int set = FD_ISSET(p[0], &r);
    close2(p);
    CHECK_EXITED(pid, 0);
    CHECK_EQ(n, 1);
    CHECK(set);
}

/* ================= signals ================= */

TEST(select_interrupted_by_a_handler_eintr_even_with_sa_restart)
{
    struct sigaction old;
    CHECK_OK(handle_usr1(SA_RESTART, &old));
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
    fd_set r;
    FD_ZERO(&r);
    FD_SET(p[0], &r);
    errno = 0;
    int n = select(p[0] + 1, &r, NULL, NULL, NULL);
    int e = errno;
    close2(p);
    sigaction(SIGUSR1, &old, NULL);
    CHECK_EXITED(pid, 0);
    CHECK_EQ(n, -1);
    CHECK_EQ(e, EINTR);
    CHECK_EQ(usr1_hits, 1);
}

TEST(pselect_sigmask_unblocks_a_pending_signal_atomically)
{
    struct sigaction old;
    CHECK_OK(handle_usr1(0, &old));
    sigset_t b, orig;
    sigemptyset(&b);
    sigaddset(&b, SIGUSR1);
    CHECK_OK(sigprocmask(SIG_BLOCK, &b, &orig));
    raise(SIGUSR1);
    int before = usr1_hits;
    int p[2];
    CHECK_OK(pipe(p));
    fd_set r;
    FD_ZERO(&r);
    FD_SET(p[0], &r);
    sigset_t during = orig;
    sigdelset(&during, SIGUSR1);
    errno = 0;
    int n = pselect(p[0] + 1, &r, NULL, NULL, NULL, &during);
    int e = errno;
    sigset_t now;
    sigprocmask(SIG_BLOCK, NULL, &now);
    int still_blocked = sigismember(&now, SIGUSR1);
    sigprocmask(SIG_SETMASK, &orig, NULL);
    sigaction(SIGUSR1, &old, NULL);
    close2(p);
    CHECK_EQ(before, 0);
    CHECK_EQ(n, -1);
    CHECK_EQ(e, EINTR);
    CHECK_EQ(usr1_hits, 1);
    CHECK_EQ(still_blocked, 1);
}

TEST(pselect6_sigset_size_must_be_8)
{
    sigset_t s;
    sigemptyset(&s);
    struct timespec ts = {0, 0};
    CHECK_ERRNO(sys_pselect6(0, NULL, NULL, NULL, &ts, &s, 4), EINVAL);
    ts.tv_sec = 0;
    ts.tv_nsec = 0;
    CHECK_EQ(sys_pselect6(0, NULL, NULL, NULL, &ts, &s, KSIGSET_SIZE), 0);
}
