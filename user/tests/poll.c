/* poll.c - poll and ppoll: on pipes POLLIN (with POLLRDNORM) when there is data, POLLOUT
 * (with POLLWRNORM) while there is room and not when full, POLLHUP on the read end only after
 * every writer closed (together with POLLIN while data remains), POLLERR on the write end
 * once the reader is gone, POLLHUP/POLLERR reported even when not asked for, POLLNVAL for a
 * closed fd, negative fds ignored, the return value counting fds with events; timeouts of 0,
 * positive (never early) and infinite (woken by a child's write); EINTR on a handled signal
 * even with SA_RESTART; ppoll's atomic signal mask and its timeout written back; nfds above
 * RLIMIT_NOFILE EINVAL; EFAULT; regular files and /dev/null always readable and writable.
 * Where a process must be blocked before its peer acts, the peer waits until
 * /proc/<pid>/stat shows it sleeping ('S'); nothing depends on timing.
 * Syscalls: poll, ppoll, pipe2, read, write, close, dup, openat, fork, wait4, kill,
 * prlimit64, rt_sigaction, rt_sigprocmask, clock_gettime, mkdir, unlink, rmdir.
 * The regular file lives in a mkdtemp("/tmp/ptest.XXXXXX") directory removed at once.
 */
#define _GNU_SOURCE
#define TEST_MAIN
#include "test.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include "children.h"

#define PAGE 4096
#define KSIGSET_SIZE 8

/* Fills a pipe with O_NONBLOCK writes until EAGAIN; returns the byte count. */
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

/* revents of one fd polled with timeout 0 (-1 on error). */
static int revents_of(int fd, short events)
{
    struct pollfd p = {.fd = fd, .events = events, .revents = 0};
    if (poll(&p, 1, 0) < 0)
        return -1;
    return p.revents;
}

static void close2(int p[2])
{
    close(p[0]);
    close(p[1]);
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

/* ================= pipe readiness ================= */

TEST(empty_pipe_read_end_not_readable_write_end_writable)
{
    int p[2];
    CHECK_OK(pipe(p));
    struct pollfd f[2] = {{p[0], POLLIN, 0}, {p[1], POLLOUT, 0}};
    int n = poll(f, 2, 0);
    close2(p);
    CHECK_EQ(n, 1);
    CHECK_EQ(f[0].revents, 0);
    CHECK_EQ(f[1].revents & (POLLOUT | POLLERR | POLLHUP), POLLOUT);
}

TEST(pollin_with_pollrdnorm_when_data_arrives)
{
    int p[2];
    CHECK_OK(pipe(p));
    CHECK_EQ(write(p[1], "d", 1), 1);
    int re = revents_of(p[0], POLLIN | POLLRDNORM);
    char c;
    (void)!read(p[0], &c, 1);
    int after = revents_of(p[0], POLLIN);
    close2(p);
    CHECK_EQ(re, POLLIN | POLLRDNORM);
    CHECK_EQ(after, 0);
}

TEST(only_requested_events_are_reported)
{
    int p[2];
    CHECK_OK(pipe(p));
    CHECK_EQ(write(p[1], "d", 1), 1);
    int re = revents_of(p[0], POLLOUT); /* the read end is readable, POLLOUT was asked */
    int wr = revents_of(p[1], POLLIN);
    close2(p);
    CHECK_EQ(re, 0);
    CHECK_EQ(wr, 0);
}

TEST(pollout_with_pollwrnorm_while_room_and_not_when_full)
{
    int p[2];
    CHECK_OK(pipe(p));
    int before = revents_of(p[1], POLLOUT | POLLWRNORM);
    CHECK_EQ(fill(p[1]), 65536);
    int full = revents_of(p[1], POLLOUT);
    static char buf[PAGE];
    ssize_t r = read(p[0], buf, sizeof buf);
    int after = revents_of(p[1], POLLOUT);
    close2(p);
    CHECK_EQ(before, POLLOUT | POLLWRNORM);
    CHECK_EQ(full, 0);
    CHECK_EQ(r, PAGE);
    CHECK_EQ(after, POLLOUT);
}

TEST(pollhup_on_the_read_end_only_after_every_writer_closed)
{
    int p[2];
    CHECK_OK(pipe(p));
    int d = dup(p[1]);
    CHECK_OK(d);
    close(p[1]);
    int one_left = revents_of(p[0], POLLIN);
    close(d);
    int none_left = revents_of(p[0], POLLIN);
    close(p[0]);
    CHECK_EQ(one_left, 0);
    CHECK_EQ(none_left, POLLHUP);
}

TEST(pollhup_together_with_pollin_while_data_remains)
{
    int p[2];
    CHECK_OK(pipe(p));
    CHECK_EQ(write(p[1], "ab", 2), 2);
    close(p[1]);
    int re = revents_of(p[0], POLLIN);
    char buf[4];
    ssize_t r = read(p[0], buf, sizeof buf);
    int after = revents_of(p[0], POLLIN);
    close(p[0]);
    CHECK_EQ(re, POLLIN | POLLHUP);
    CHECK_EQ(r, 2);
    CHECK_EQ(after, POLLHUP);
}

TEST(pollerr_on_the_write_end_when_the_reader_is_gone)
{
    int p[2];
    CHECK_OK(pipe(p));
    close(p[0]);
    int re = revents_of(p[1], POLLOUT);
    close(p[1]);
    CHECK(re > 0);
    CHECK(re & POLLERR);
}

TEST(pollhup_and_pollerr_are_reported_even_when_not_requested)
{
    int p[2], q[2];
    CHECK_OK(pipe(p));
    CHECK_OK(pipe(q));
    close(p[1]);
    close(q[0]);
    struct pollfd f[2] = {{p[0], 0, 0}, {q[1], 0, 0}};
    int n = poll(f, 2, 0);
    close(p[0]);
    close(q[1]);
    CHECK_EQ(n, 2);
    CHECK_EQ(f[0].revents, POLLHUP);
    CHECK_EQ(f[1].revents, POLLERR);
}

TEST(pollnval_for_a_closed_fd)
{
    int p[2];
    CHECK_OK(pipe(p));
    int closed = p[1];
    close(p[1]);
    struct pollfd f[2] = {{closed, POLLIN | POLLOUT, 0}, {p[0], POLLIN, 0}};
    int n = poll(f, 2, 0);
    close(p[0]);
    CHECK_EQ(n, 2); /* the read end has POLLHUP: its writer is gone */
    CHECK_EQ(f[0].revents, POLLNVAL);
    CHECK_EQ(f[1].revents, POLLHUP);
}

TEST(negative_fd_is_ignored_with_zero_revents)
{
    int p[2];
    CHECK_OK(pipe(p));
    CHECK_EQ(write(p[1], "x", 1), 1);
    struct pollfd f[3] = {{-1, POLLIN, 0x55}, {p[0], POLLIN, 0}, {-42, POLLOUT, 0x55}};
    int n = poll(f, 3, 0);
    close2(p);
    CHECK_EQ(n, 1);
    CHECK_EQ(f[0].revents, 0);
    CHECK_EQ(f[1].revents, POLLIN);
    CHECK_EQ(f[2].revents, 0);
}

TEST(return_value_counts_fds_not_events)
{
    int p[2];
    CHECK_OK(pipe(p));
    CHECK_EQ(write(p[1], "x", 1), 1);
    struct pollfd f[3] = {{p[0], POLLIN, 0}, {p[0], POLLIN, 0}, {p[1], POLLOUT, 0}};
    int n = poll(f, 3, 0);
    close2(p);
    CHECK_EQ(n, 3);
    CHECK_EQ(f[0].revents, POLLIN);
    CHECK_EQ(f[1].revents, POLLIN);
    CHECK_EQ(f[2].revents, POLLOUT);
}

/* ================= timeouts ================= */

TEST(timeout_zero_returns_at_once)
{
    int p[2];
    CHECK_OK(pipe(p));
    struct pollfd f = {p[0], POLLIN, 0};
    long long t0 = now_ns();
    int n = poll(&f, 1, 0);
    long long dt = now_ns() - t0;
    close2(p);
    CHECK_EQ(n, 0);
    CHECK(dt < 5000000000LL); /* no waiting at all; only a hang could exceed this */
}

TEST(positive_timeout_expires_no_earlier_than_asked)
{
    int p[2];
    CHECK_OK(pipe(p));
    struct pollfd f = {p[0], POLLIN, 0};
    long long t0 = now_ns();
    int n = poll(&f, 1, 100);
    long long dt = now_ns() - t0;
    close2(p);
    CHECK_EQ(n, 0);
    CHECK_EQ(f.revents, 0);
    CHECK(dt >= 100000000LL);
}

TEST(poll_with_no_fds_sleeps_for_the_timeout)
{
    long long t0 = now_ns();
    CHECK_EQ(poll(NULL, 0, 50), 0);
    CHECK(now_ns() - t0 >= 50000000LL);
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
    struct pollfd f = {p[0], POLLIN, 0};
    int n = poll(&f, 1, -1);
    close2(p);
    CHECK_EXITED(pid, 0);
    CHECK_EQ(n, 1);
    CHECK_EQ(f.revents, POLLIN);
}

TEST(infinite_timeout_is_woken_by_the_last_writer_exiting)
{
    int p[2];
    CHECK_OK(pipe(p));
    pid_t parent = getpid();
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        close(p[0]);
        CCHECK(wait_sleeping(parent));
        _exit(0); /* closes the last write end */
    }
    close(p[1]);
    struct pollfd f = {p[0], POLLIN, 0};
    int n = poll(&f, 1, -1);
    close(p[0]);
    CHECK_EXITED(pid, 0);
    CHECK_EQ(n, 1);
    CHECK_EQ(f.revents, POLLHUP);
}

/* ================= signals ================= */

TEST(poll_interrupted_by_a_handler_eintr_even_with_sa_restart)
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
    struct pollfd f = {p[0], POLLIN, 0};
    errno = 0;
    int n = poll(&f, 1, -1);
    int e = errno;
    close2(p);
    sigaction(SIGUSR1, &old, NULL);
    CHECK_EXITED(pid, 0);
    CHECK_EQ(n, -1);
    CHECK_EQ(e, EINTR);
    CHECK_EQ(usr1_hits, 1);
}

TEST(ppoll_sigmask_unblocks_a_pending_signal_atomically)
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
    struct pollfd f = {p[0], POLLIN, 0};
    sigset_t during = orig;
    sigdelset(&during, SIGUSR1);
    errno = 0;
    int n = ppoll(&f, 1, NULL, &during); /* would block forever without the signal */
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

TEST(ppoll_writes_the_remaining_timeout_back)
{
    int p[2];
    CHECK_OK(pipe(p));
    struct pollfd f = {p[0], POLLIN, 0};
    struct timespec ts = {0, 50000000};
    long n = syscall(SYS_ppoll, &f, 1, &ts, NULL, KSIGSET_SIZE);
    struct timespec ts2 = {5, 0};
    CHECK_EQ(write(p[1], "x", 1), 1);
    long n2 = syscall(SYS_ppoll, &f, 1, &ts2, NULL, KSIGSET_SIZE);
    close2(p);
    CHECK_EQ(n, 0);
    CHECK_EQ(ts.tv_sec, 0); /* expired: nothing left */
    CHECK_EQ(ts.tv_nsec, 0);
    CHECK_EQ(n2, 1);
    CHECK(ts2.tv_sec >= 4 && ts2.tv_sec <= 5); /* ready at once: almost all of it left */
}

TEST(ppoll_bad_timeout_and_sigset_size_einval)
{
    struct pollfd f = {-1, 0, 0};
    struct timespec bad = {0, 1000000000L};
    CHECK_ERRNO(syscall(SYS_ppoll, &f, 1, &bad, NULL, KSIGSET_SIZE), EINVAL);
    struct timespec neg = {-1, 0};
    CHECK_ERRNO(syscall(SYS_ppoll, &f, 1, &neg, NULL, KSIGSET_SIZE), EINVAL);
    sigset_t s;
    sigemptyset(&s);
    struct timespec zero = {0, 0};
    CHECK_ERRNO(syscall(SYS_ppoll, &f, 1, &zero, &s, 4), EINVAL);
}

/* ================= errors ================= */

TEST(nfds_above_rlimit_nofile_einval)
{
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        struct rlimit rl;
        CCHECK(getrlimit(RLIMIT_NOFILE, &rl) == 0);
        rl.rlim_cur = 64;
        CCHECK(setrlimit(RLIMIT_NOFILE, &rl) == 0);
        static struct pollfd f[65];
        for (int i = 0; i < 65; i++)
            f[i].fd = -1;
        errno = 0;
        CCHECK(poll(f, 65, 0) == -1 && errno == EINVAL);
        CCHECK(poll(f, 64, 0) == 0);
        _exit(0);
    }
    CHECK_EXITED(pid, 0);
}

TEST(bad_pollfd_pointer_efault)
{
    CHECK_ERRNO(poll(bad_ptr(16), 1, 0), EFAULT);
    CHECK_ERRNO(syscall(SYS_poll, bad_ptr(16), 1, 0), EFAULT);
}

/* ================= other files ================= */

TEST(regular_files_are_always_readable_and_writable)
{
    char dir[] = "/tmp/ptest.XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[64];
    snprintf(path, sizeof path, "%s/f", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
    unlink(path);
    rmdir(dir);
    CHECK_OK(fd);
    int re = revents_of(fd, POLLIN | POLLOUT); /* even empty, at end of file */
    close(fd);
    CHECK_EQ(re & (POLLIN | POLLOUT), POLLIN | POLLOUT);
    CHECK_EQ(re & (POLLERR | POLLHUP | POLLNVAL), 0);
}

TEST(dev_null_is_always_readable_and_writable)
{
    int fd = open("/dev/null", O_RDWR);
    CHECK_OK(fd);
    int re = revents_of(fd, POLLIN | POLLOUT);
    close(fd);
    CHECK_EQ(re & (POLLIN | POLLOUT), POLLIN | POLLOUT);
    CHECK_EQ(re & (POLLERR | POLLHUP | POLLNVAL), 0);
}
