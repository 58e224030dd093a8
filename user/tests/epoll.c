/* epoll.c - epoll on pipes: epoll_create1 (EPOLL_CLOEXEC, bad flags), epoll_create (size > 0),
 * epoll_ctl ADD/MOD/DEL and its errors (EEXIST, ENOENT, EINVAL for epfd == fd, a bad op, a
 * non-epoll epfd and EPOLLEXCLUSIVE with MOD, EPERM for a regular file, EBADF, ELOOP for a
 * cycle), level-triggered (reported again while data remains), edge-triggered (once per new
 * arrival), EPOLLONESHOT (disabled until MOD re-arms it), EPOLLHUP and EPOLLERR reported even
 * when not requested (EPOLLRDHUP is a socket event: a pipe reports only EPOLLHUP), the data
 * field returned as given, maxevents <= 0 EINVAL, EFAULT, fairness when maxevents is smaller
 * than the ready list, timeouts of 0, positive and infinite (woken by a child), epoll_pwait's
 * atomic signal mask, EINTR on a handled signal even with SA_RESTART, nested epoll instances
 * (an epoll fd readable for poll and for an outer epoll when it has events), an entry living
 * as long as its open file description (dup/close), an epoll fd shared across fork, lseek as a
 * no-op, and epoll_pwait2's timespec timeout (0, positive, NULL, EINVAL, EFAULT).
 * Where a process must be blocked before its peer acts, the peer waits until
 * /proc/<pid>/stat shows it sleeping ('S'); nothing depends on timing.
 * Syscalls: epoll_create, epoll_create1, epoll_ctl, epoll_wait, epoll_pwait, epoll_pwait2, poll,
 * pipe2, read, write, close, dup, openat, lseek, pread64, fork, wait4, kill, rt_sigaction,
 * rt_sigprocmask, clock_gettime, mkdir, unlink, rmdir.
 */
#define _GNU_SOURCE
#define TEST_MAIN
#include "test.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include "children.h"

#define KSIGSET_SIZE 8

static void close2(int p[2])
{
    close(p[0]);
    close(p[1]);
}

static int add(int ep, int fd, uint32_t events, uint64_t data)
{
    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    ev.events = events;
    ev.data.u64 = data;
    return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

static int mod(int ep, int fd, uint32_t events, uint64_t data)
{
    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    ev.events = events;
    ev.data.u64 = data;
    return epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
}

/* epoll_wait with timeout 0 for up to 8 events; the first one in *ev. */
static int poll_ep(int ep, struct epoll_event *ev)
{
    struct epoll_event evs[8];
    memset(evs, 0, sizeof evs);
    if (ev)
        memset(ev, 0, sizeof *ev);
    int n = epoll_wait(ep, evs, 8, 0);
    if (n > 0 && ev)
        *ev = evs[0];
    return n;
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

/* ================= creation ================= */

TEST(epoll_create1_cloexec_flag_and_bad_flags)
{
    int a = epoll_create1(EPOLL_CLOEXEC);
    CHECK_OK(a);
    int fa = fcntl(a, F_GETFD);
    close(a);
    CHECK_EQ(fa, FD_CLOEXEC);
    int b = epoll_create1(0);
    CHECK_OK(b);
    int fb = fcntl(b, F_GETFD);
    close(b);
    CHECK_EQ(fb, 0);
    CHECK_ERRNO(epoll_create1(1), EINVAL);
    CHECK_ERRNO(epoll_create1(O_NONBLOCK), EINVAL);
}

TEST(epoll_create_size_must_be_positive)
{
#ifdef SYS_epoll_create
    CHECK_ERRNO(syscall(SYS_epoll_create, 0), EINVAL); /* raw: musl checks in user space */
    CHECK_ERRNO(syscall(SYS_epoll_create, -1), EINVAL);
    long fd = syscall(SYS_epoll_create, 1);
    CHECK_OK(fd);
    int fl = fcntl((int)fd, F_GETFD);
    close((int)fd);
    CHECK_EQ(fl, 0);
#else
    SKIP("no epoll_create system call");
#endif
}

/* ================= epoll_ctl errors ================= */

TEST(ctl_add_twice_eexist)
{
    int ep = epoll_create1(0);
    CHECK_OK(ep);
    int p[2];
    CHECK_OK(pipe(p));
    int r1 = add(ep, p[0], EPOLLIN, 1);
    errno = 0;
    int r2 = add(ep, p[0], EPOLLIN, 2);
    int e = errno;
    close2(p);
    close(ep);
    CHECK_EQ(r1, 0);
    CHECK_EQ(r2, -1);
    CHECK_EQ(e, EEXIST);
}

TEST(ctl_mod_and_del_of_an_absent_fd_enoent)
{
    int ep = epoll_create1(0);
    CHECK_OK(ep);
    int p[2];
    CHECK_OK(pipe(p));
    errno = 0;
    int r1 = mod(ep, p[0], EPOLLIN, 0);
    int e1 = errno;
    errno = 0;
    int r2 = epoll_ctl(ep, EPOLL_CTL_DEL, p[0], NULL);
    int e2 = errno;
    int r3 = add(ep, p[0], EPOLLIN, 0);
    int r4 = epoll_ctl(ep, EPOLL_CTL_DEL, p[0], NULL); /* NULL event is fine for DEL */
    errno = 0;
    int r5 = epoll_ctl(ep, EPOLL_CTL_DEL, p[0], NULL);
    int e5 = errno;
    close2(p);
    close(ep);
    CHECK_EQ(r1, -1);
    CHECK_EQ(e1, ENOENT);
    CHECK_EQ(r2, -1);
    CHECK_EQ(e2, ENOENT);
    CHECK_EQ(r3, 0);
    CHECK_EQ(r4, 0);
    CHECK_EQ(r5, -1);
    CHECK_EQ(e5, ENOENT);
}

TEST(ctl_einval_cases)
{
    int ep = epoll_create1(0);
    CHECK_OK(ep);
    int p[2];
    CHECK_OK(pipe(p));
    struct epoll_event ev = {.events = EPOLLIN};
    errno = 0;
    int r1 = epoll_ctl(ep, EPOLL_CTL_ADD, ep, &ev); /* itself */
    int e1 = errno;
    errno = 0;
    int r2 = epoll_ctl(ep, 99, p[0], &ev); /* bad op */
    int e2 = errno;
    errno = 0;
    int r3 = epoll_ctl(p[1], EPOLL_CTL_ADD, p[0], &ev); /* not an epoll fd */
    int e3 = errno;
    struct epoll_event ex = {.events = EPOLLIN | EPOLLEXCLUSIVE};
    int r4 = epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ex);
    errno = 0;
    int r5 = epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ex); /* EPOLLEXCLUSIVE cannot be modified */
    int e5 = errno;
    close2(p);
    close(ep);
    CHECK_EQ(r1, -1);
    CHECK_EQ(e1, EINVAL);
    CHECK_EQ(r2, -1);
    CHECK_EQ(e2, EINVAL);
    CHECK_EQ(r3, -1);
    CHECK_EQ(e3, EINVAL);
    CHECK_EQ(r4, 0);
    CHECK_EQ(r5, -1);
    CHECK_EQ(e5, EINVAL);
}

TEST(ctl_regular_file_eperm)
{
    char dir[] = "/tmp/ptest.XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[64];
    snprintf(path, sizeof path, "%s/f", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
    unlink(path);
    rmdir(dir);
    CHECK_OK(fd);
    int ep = epoll_create1(0);
    CHECK_OK(ep);
    errno = 0;
    int r = add(ep, fd, EPOLLIN, 0);
    int e = errno;
    close(fd);
    close(ep);
    CHECK_EQ(r, -1);
    CHECK_EQ(e, EPERM);
}

TEST(ctl_bad_fds_ebadf)
{
    int ep = epoll_create1(0);
    CHECK_OK(ep);
    int p[2];
    CHECK_OK(pipe(p));
    int closed = p[1];
    close(p[1]);
    errno = 0;
    int r1 = add(ep, closed, EPOLLIN, 0);
    int e1 = errno;
    close(ep);
    errno = 0;
    int r2 = add(ep, p[0], EPOLLIN, 0); /* epfd itself closed */
    int e2 = errno;
    close(p[0]);
    CHECK_EQ(r1, -1);
    CHECK_EQ(e1, EBADF);
    CHECK_EQ(r2, -1);
    CHECK_EQ(e2, EBADF);
}

TEST(ctl_cycle_between_two_epoll_fds_eloop)
{
    int a = epoll_create1(0), b = epoll_create1(0);
    CHECK_OK(a);
    CHECK_OK(b);
    int r1 = add(b, a, EPOLLIN, 0); /* a inside b */
    errno = 0;
    int r2 = add(a, b, EPOLLIN, 0); /* b inside a: a cycle */
    int e2 = errno;
    close(a);
    close(b);
    CHECK_EQ(r1, 0);
    CHECK_EQ(r2, -1);
    CHECK_EQ(e2, ELOOP);
}

/* ================= trigger modes ================= */

TEST(level_triggered_reports_again_while_data_remains)
{
    int ep = epoll_create1(0);
    CHECK_OK(ep);
    int p[2];
    CHECK_OK(pipe(p));
    CHECK_OK(add(ep, p[0], EPOLLIN, 7));
    int n0 = poll_ep(ep, NULL);
    CHECK_EQ(write(p[1], "ab", 2), 2);
    struct epoll_event ev1, ev2, ev3;
    int n1 = poll_ep(ep, &ev1);
    int n2 = poll_ep(ep, &ev2);
    char buf[4];
    (void)!read(p[0], buf, 1);
    int n3 = poll_ep(ep, &ev3); /* one byte left */
    (void)!read(p[0], buf, 1);
    int n4 = poll_ep(ep, NULL);
    close2(p);
    close(ep);
    CHECK_EQ(n0, 0);
    CHECK_EQ(n1, 1);
    CHECK_EQ(ev1.events, EPOLLIN);
    CHECK_EQ(ev1.data.u64, 7);
    CHECK_EQ(n2, 1);
    CHECK_EQ(n3, 1);
    CHECK_EQ(n4, 0);
}

TEST(edge_triggered_reports_once_per_new_arrival)
{
    int ep = epoll_create1(0);
    CHECK_OK(ep);
    int p[2];
    CHECK_OK(pipe(p));
    CHECK_OK(add(ep, p[0], EPOLLIN | EPOLLET, 1));
    CHECK_EQ(write(p[1], "a", 1), 1);
    struct epoll_event ev;
    int n1 = poll_ep(ep, &ev);
    int n2 = poll_ep(ep, NULL); /* data still there, but no new edge */
    CHECK_EQ(write(p[1], "b", 1), 1);
    int n3 = poll_ep(ep, NULL); /* a new arrival, although nothing was read */
    int n4 = poll_ep(ep, NULL);
    close2(p);
    close(ep);
    CHECK_EQ(n1, 1);
    CHECK_EQ(ev.events, EPOLLIN);
    CHECK_EQ(n2, 0);
    CHECK_EQ(n3, 1);
    CHECK_EQ(n4, 0);
}

TEST(oneshot_is_disabled_after_one_report_until_mod_rearms)
{
    int ep = epoll_create1(0);
    CHECK_OK(ep);
    int p[2];
    CHECK_OK(pipe(p));
    CHECK_OK(add(ep, p[0], EPOLLIN | EPOLLONESHOT, 3));
    CHECK_EQ(write(p[1], "a", 1), 1);
    int n1 = poll_ep(ep, NULL);
    int n2 = poll_ep(ep, NULL);
    CHECK_EQ(write(p[1], "b", 1), 1);
    int n3 = poll_ep(ep, NULL); /* still disabled */
    errno = 0;
    int m = mod(ep, p[0], EPOLLIN | EPOLLONESHOT, 4); /* the entry exists: MOD, not ADD */
    struct epoll_event ev;
    int n4 = poll_ep(ep, &ev);
    int n5 = poll_ep(ep, NULL);
    close2(p);
    close(ep);
    CHECK_EQ(n1, 1);
    CHECK_EQ(n2, 0);
    CHECK_EQ(n3, 0);
    CHECK_EQ(m, 0);
    CHECK_EQ(n4, 1);
    CHECK_EQ(ev.data.u64, 4);
    CHECK_EQ(n5, 0);
}

TEST(mod_changes_events_and_data_and_del_removes)
{
    int ep = epoll_create1(0);
    CHECK_OK(ep);
    int p[2];
    CHECK_OK(pipe(p));
    CHECK_EQ(write(p[1], "a", 1), 1);
    CHECK_OK(add(ep, p[0], EPOLLOUT, 1)); /* a read end is never writable */
    int n1 = poll_ep(ep, NULL);
    CHECK_OK(mod(ep, p[0], EPOLLIN, 2));
    struct epoll_event ev;
    int n2 = poll_ep(ep, &ev);
    CHECK_OK(epoll_ctl(ep, EPOLL_CTL_DEL, p[0], NULL));
    int n3 = poll_ep(ep, NULL);
    close2(p);
    close(ep);
    CHECK_EQ(n1, 0);
    CHECK_EQ(n2, 1);
    CHECK_EQ(ev.data.u64, 2);
    CHECK_EQ(n3, 0);
}

/* ================= events ================= */

TEST(epollout_on_a_write_end_with_room)
{
    int ep = epoll_create1(0);
    CHECK_OK(ep);
    int p[2];
    CHECK_OK(pipe(p));
    CHECK_OK(add(ep, p[1], EPOLLOUT, 9));
    struct epoll_event ev;
    int n = poll_ep(ep, &ev);
    close2(p);
    close(ep);
    CHECK_EQ(n, 1);
    CHECK_EQ(ev.events, EPOLLOUT);
    CHECK_EQ(ev.data.u64, 9);
}

TEST(epollhup_on_the_read_end_when_the_writers_are_gone)
{
    int ep = epoll_create1(0);
    CHECK_OK(ep);
    int p[2];
    CHECK_OK(pipe(p));
    CHECK_OK(add(ep, p[0], EPOLLIN | EPOLLRDHUP, 0));
    CHECK_EQ(write(p[1], "a", 1), 1);
    close(p[1]);
    struct epoll_event ev1, ev2;
    int n1 = poll_ep(ep, &ev1);
    char c;
    (void)!read(p[0], &c, 1);
    int n2 = poll_ep(ep, &ev2);
    close(p[0]);
    close(ep);
    CHECK_EQ(n1, 1);
    CHECK_EQ(ev1.events, EPOLLIN | EPOLLHUP); /* no EPOLLRDHUP: that is for sockets */
    CHECK_EQ(n2, 1);
    CHECK_EQ(ev2.events, EPOLLHUP);
}

TEST(epollhup_and_epollerr_are_reported_even_when_not_requested)
{
    int ep = epoll_create1(0);
    CHECK_OK(ep);
    int p[2], q[2];
    CHECK_OK(pipe(p));
    CHECK_OK(pipe(q));
    CHECK_OK(add(ep, p[0], 0, 1));
    CHECK_OK(add(ep, q[1], 0, 2));
    int n0 = poll_ep(ep, NULL);
    close(p[1]);
    close(q[0]);
    struct epoll_event evs[4];
    memset(evs, 0, sizeof evs);
    int n = epoll_wait(ep, evs, 4, 0);
    close(p[0]);
    close(q[1]);
    close(ep);
    CHECK_EQ(n0, 0);
    CHECK_EQ(n, 2);
    for (int i = 0; i < 2; i++) {
        if (evs[i].data.u64 == 1)
            CHECK_EQ(evs[i].events, EPOLLHUP);
        else if (evs[i].data.u64 == 2)
            CHECK_EQ(evs[i].events, EPOLLERR);
        else
            FAIL("unexpected data %llu", (unsigned long long)evs[i].data.u64);
    }
}

TEST(data_field_is_returned_exactly_as_given)
{
    int ep = epoll_create1(0);
    CHECK_OK(ep);
    int p[2];
    CHECK_OK(pipe(p));
    CHECK_OK(add(ep, p[1], EPOLLOUT, 0xdeadbeefcafef00dULL));
    struct epoll_event ev;
    int n = poll_ep(ep, &ev);
    close2(p);
    close(ep);
    CHECK_EQ(n, 1);
    CHECK(ev.data.u64 == 0xdeadbeefcafef00dULL);
}

/* ================= epoll_wait ================= */

TEST(epoll_wait_errors)
{
    int ep = epoll_create1(0);
    CHECK_OK(ep);
    int p[2];
    CHECK_OK(pipe(p));
    CHECK_OK(add(ep, p[1], EPOLLOUT, 0));
    struct epoll_event ev;
    errno = 0;
    int r1 = epoll_wait(ep, &ev, 0, 0);
    int e1 = errno;
    errno = 0;
    int r2 = (int)syscall(SYS_epoll_wait, ep, &ev, -1, 0);
    int e2 = errno;
    errno = 0;
    int r3 = epoll_wait(p[0], &ev, 1, 0); /* not an epoll fd */
    int e3 = errno;
    errno = 0;
    int r4 = epoll_wait(ep, bad_ptr(16), 1, 0); /* an event to store, nowhere to put it */
    int e4 = errno;
    close2(p);
    close(ep);
    errno = 0;
    int r5 = epoll_wait(ep, &ev, 1, 0);
    int e5 = errno;
    CHECK_EQ(r1, -1);
    CHECK_EQ(e1, EINVAL);
    CHECK_EQ(r2, -1);
    CHECK_EQ(e2, EINVAL);
    CHECK_EQ(r3, -1);
    CHECK_EQ(e3, EINVAL);
    CHECK_EQ(r4, -1);
    CHECK_EQ(e4, EFAULT);
    CHECK_EQ(r5, -1);
    CHECK_EQ(e5, EBADF);
}

TEST(maxevents_limits_and_level_triggered_entries_take_turns)
{
    int ep = epoll_create1(0);
    CHECK_OK(ep);
    int p[3][2];
    for (int i = 0; i < 3; i++) {
        CHECK_OK(pipe(p[i]));
        CHECK_EQ(write(p[i][1], "x", 1), 1);
        CHECK_OK(add(ep, p[i][0], EPOLLIN, (uint64_t)i));
    }
    struct epoll_event a[2], b[2];
    int n1 = epoll_wait(ep, a, 2, 0);
    int n2 = epoll_wait(ep, b, 2, 0);
    for (int i = 0; i < 3; i++)
        close2(p[i]);
    close(ep);
    CHECK_EQ(n1, 2);
    CHECK_EQ(n2, 2);
    int seen[3] = {0, 0, 0};
    for (int i = 0; i < 2; i++) {
        if (a[i].data.u64 < 3)
            seen[a[i].data.u64]++;
        if (b[i].data.u64 < 3)
            seen[b[i].data.u64]++;
    }
    /* Reported entries go to the back of the ready list: no one is starved. */
    CHECK(seen[0] >= 1 && seen[1] >= 1 && seen[2] >= 1);
}

TEST(timeout_zero_and_positive_timeout)
{
    int ep = epoll_create1(0);
    CHECK_OK(ep);
    int p[2];
    CHECK_OK(pipe(p));
    CHECK_OK(add(ep, p[0], EPOLLIN, 0));
    struct epoll_event ev;
    int n0 = epoll_wait(ep, &ev, 1, 0);
    long long t0 = now_ns();
    int n1 = epoll_wait(ep, &ev, 1, 100);
    long long dt = now_ns() - t0;
    close2(p);
    close(ep);
    CHECK_EQ(n0, 0);
    CHECK_EQ(n1, 0);
    CHECK(dt >= 100000000LL);
}

TEST(infinite_timeout_is_woken_by_a_write_from_a_child)
{
    int ep = epoll_create1(0);
    CHECK_OK(ep);
    int p[2];
    CHECK_OK(pipe(p));
    CHECK_OK(add(ep, p[0], EPOLLIN, 5));
    pid_t parent = getpid();
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        close(p[0]);
        CCHECK(wait_sleeping(parent));
        CCHECK(write(p[1], "w", 1) == 1);
        _exit(0);
    }
    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    int n = epoll_wait(ep, &ev, 1, -1);
    close2(p);
    close(ep);
    CHECK_EXITED(pid, 0);
    CHECK_EQ(n, 1);
    CHECK_EQ(ev.events, EPOLLIN);
    CHECK_EQ(ev.data.u64, 5);
}

TEST(epoll_wait_interrupted_by_a_handler_eintr_even_with_sa_restart)
{
    struct sigaction old;
    CHECK_OK(handle_usr1(SA_RESTART, &old));
    int ep = epoll_create1(0);
    CHECK_OK(ep);
    int p[2];
    CHECK_OK(pipe(p));
    CHECK_OK(add(ep, p[0], EPOLLIN, 0));
    pid_t parent = getpid();
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        CCHECK(wait_sleeping(parent));
        CCHECK(kill(parent, SIGUSR1) == 0);
        _exit(0);
    }
    struct epoll_event ev;
    errno = 0;
    int n = epoll_wait(ep, &ev, 1, -1);
    int e = errno;
    close2(p);
    close(ep);
    sigaction(SIGUSR1, &old, NULL);
    CHECK_EXITED(pid, 0);
    CHECK_EQ(n, -1);
    CHECK_EQ(e, EINTR);
    CHECK_EQ(usr1_hits, 1);
}

TEST(epoll_pwait_sigmask_unblocks_a_pending_signal_atomically)
{
    struct sigaction old;
    CHECK_OK(handle_usr1(0, &old));
    sigset_t b, orig;
    sigemptyset(&b);
    sigaddset(&b, SIGUSR1);
    CHECK_OK(sigprocmask(SIG_BLOCK, &b, &orig));
    raise(SIGUSR1);
    int before = usr1_hits;
    int ep = epoll_create1(0);
    CHECK_OK(ep);
    int p[2];
    CHECK_OK(pipe(p));
    CHECK_OK(add(ep, p[0], EPOLLIN, 0));
    sigset_t during = orig;
    sigdelset(&during, SIGUSR1);
    struct epoll_event ev;
    errno = 0;
    int n = epoll_pwait(ep, &ev, 1, -1, &during);
    int e = errno;
    sigset_t now;
    sigprocmask(SIG_BLOCK, NULL, &now);
    int still_blocked = sigismember(&now, SIGUSR1);
    errno = 0;
    long bad = syscall(SYS_epoll_pwait, ep, &ev, 1, 0, &during, 4); /* sigset size 8 only */
    int be = errno;
    sigprocmask(SIG_SETMASK, &orig, NULL);
    sigaction(SIGUSR1, &old, NULL);
    close2(p);
    close(ep);
    CHECK_EQ(before, 0);
    CHECK_EQ(n, -1);
    CHECK_EQ(e, EINTR);
    CHECK_EQ(usr1_hits, 1);
    CHECK_EQ(still_blocked, 1);
    CHECK_EQ(bad, -1);
    CHECK_EQ(be, EINVAL);
}

/* ================= nesting, lifetime, fork ================= */

TEST(nested_epoll_fd_is_readable_when_the_inner_has_events)
{
    int inner = epoll_create1(0), outer = epoll_create1(0);
    CHECK_OK(inner);
    CHECK_OK(outer);
    int p[2];
    CHECK_OK(pipe(p));
    CHECK_OK(add(inner, p[0], EPOLLIN, 1));
    CHECK_OK(add(outer, inner, EPOLLIN, 2));
    int n0 = poll_ep(outer, NULL);
    struct pollfd pf = {inner, POLLIN, 0};
    int pn0 = poll(&pf, 1, 0);
    CHECK_EQ(write(p[1], "x", 1), 1);
    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    int n1 = poll_ep(outer, &ev);
    pf.revents = 0;
    int pn1 = poll(&pf, 1, 0);
    struct epoll_event iev;
    memset(&iev, 0, sizeof iev);
    int in1 = poll_ep(inner, &iev);
    close2(p);
    close(inner);
    close(outer);
    CHECK_EQ(n0, 0);
    CHECK_EQ(pn0, 0);
    CHECK_EQ(n1, 1);
    CHECK_EQ(ev.events, EPOLLIN);
    CHECK_EQ(ev.data.u64, 2);
    CHECK_EQ(pn1, 1);
    CHECK_EQ(pf.revents, POLLIN);
    CHECK_EQ(in1, 1);
    CHECK_EQ(iev.data.u64, 1);
}

TEST(entry_lives_until_the_last_fd_of_the_open_file_closes)
{
    int ep = epoll_create1(0);
    CHECK_OK(ep);
    int p[2];
    CHECK_OK(pipe(p));
    CHECK_EQ(write(p[1], "x", 1), 1);
    CHECK_OK(add(ep, p[0], EPOLLIN, 11));
    int d = dup(p[0]);
    CHECK_OK(d);
    int orig = p[0];
    close(p[0]); /* the description is still open through d */
    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    int n1 = poll_ep(ep, &ev);
    errno = 0;
    int del = epoll_ctl(ep, EPOLL_CTL_DEL, orig, NULL); /* that fd number is gone */
    int de = errno;
    close(d); /* last reference: the entry goes away */
    int n2 = poll_ep(ep, NULL);
    close(p[1]);
    close(ep);
    CHECK_EQ(n1, 1);
    CHECK_EQ(ev.data.u64, 11);
    CHECK_EQ(del, -1);
    CHECK_EQ(de, EBADF);
    CHECK_EQ(n2, 0);
}

TEST(epoll_fd_is_shared_with_a_forked_child)
{
    int ep = epoll_create1(0);
    CHECK_OK(ep);
    int p[2];
    CHECK_OK(pipe(p));
    int q[2];
    CHECK_OK(pipe(q));
    CHECK_OK(add(ep, q[0], EPOLLIN, 1));
    CHECK_EQ(write(q[1], "q", 1), 1);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        /* The child sees the parent's registration ... */
        struct epoll_event ev;
        CCHECK(epoll_wait(ep, &ev, 1, 0) == 1 && ev.data.u64 == 1);
        /* ... and adds one the parent will see. */
        struct epoll_event add_ev = {.events = EPOLLIN, .data.u64 = 77};
        CCHECK(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &add_ev) == 0);
        _exit(0);
    }
    int st = child_status(pid);
    char c;
    (void)!read(q[0], &c, 1);
    CHECK_EQ(write(p[1], "p", 1), 1);
    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    int n = poll_ep(ep, &ev);
    close2(p);
    close2(q);
    close(ep);
    CHECK_EQ(st, 0);
    CHECK_EQ(n, 1);
    CHECK_EQ(ev.data.u64, 77);
}

TEST(lseek_answers_zero_and_pread_is_espipe)
{
    int ep = epoll_create1(0);
    CHECK_OK(ep);
    long at = lseek(ep, 5, SEEK_SET); /* noop_llseek */
    long cur = lseek(ep, 0, SEEK_CUR);
    char buf[8];
    errno = 0;
    long r = pread(ep, buf, sizeof buf, 0);
    int e = errno;
    close(ep);
    CHECK_EQ(at, 0);
    CHECK_EQ(cur, 0);
    CHECK_EQ(r, -1);
    CHECK_EQ(e, ESPIPE);
}

#ifndef SYS_epoll_pwait2
#define SYS_epoll_pwait2 441
#endif

static long pwait2(int ep, struct epoll_event *ev, int n, const struct timespec *ts)
{
    return syscall(SYS_epoll_pwait2, ep, ev, n, ts, NULL, 8);
}

TEST(epoll_pwait2_takes_a_timespec)
{
    int ep = epoll_create1(0);
    CHECK_OK(ep);
    int p[2];
    CHECK_OK(pipe(p));
    CHECK_OK(add(ep, p[0], EPOLLIN, 9));
    struct epoll_event ev;
    struct timespec zero = {0, 0}, short_wait = {0, 20 * 1000 * 1000};
    long empty = pwait2(ep, &ev, 1, &zero);
    long long t0 = now_ns();
    long timed_out = pwait2(ep, &ev, 1, &short_wait);
    long long waited = now_ns() - t0;
    struct timespec bad_nsec = {0, 1000000000}, negative = {-1, 0};
    errno = 0;
    long bad1 = pwait2(ep, &ev, 1, &bad_nsec);
    int e1 = errno;
    errno = 0;
    long bad2 = pwait2(ep, &ev, 1, &negative);
    int e2 = errno;
    errno = 0;
    long bad3 = pwait2(ep, &ev, 1, bad_ptr(8));
    int e3 = errno;
    CHECK_EQ(write(p[1], "x", 1), 1);
    memset(&ev, 0, sizeof ev);
    long ready = pwait2(ep, &ev, 1, NULL); /* NULL: no timeout, but an event is ready */
    close(p[0]);
    close(p[1]);
    close(ep);
    CHECK_EQ(empty, 0);
    CHECK_EQ(timed_out, 0);
    CHECK(waited >= 20 * 1000 * 1000); /* never early */
    CHECK(bad1 == -1 && e1 == EINVAL);
    CHECK(bad2 == -1 && e2 == EINVAL);
    CHECK(bad3 == -1 && e3 == EFAULT);
    CHECK_EQ(ready, 1);
    CHECK_EQ(ev.data.u64, 9);
}
