/* signalfd.c - signalfd(2)/signalfd4: a blocked, pending signal in the mask is read as a struct
 * signalfd_siginfo (ssi_signo, ssi_code SI_USER for kill, SI_TKILL for tgkill, SI_QUEUE with
 * ssi_int/ssi_ptr for sigqueue and rt_sigqueueinfo, ssi_pid, ssi_uid, SIGCHLD's CLD_EXITED
 * with ssi_status, fields of other layouts zero), reading consumes the signal (sigpending),
 * several records in one read (lowest standard signal first, only whole records fit),
 * real-time signals queued in order with their values, a buffer smaller than one record
 * (EINVAL), an empty signalfd with SFD_NONBLOCK (EAGAIN), a blocking read woken by a kill from
 * a child, poll and epoll readiness (POLLIN only for a pending signal in the mask), changing the
 * mask by passing the fd again, SIGKILL/SIGSTOP silently dropped from the mask, errors (bad
 * flags, a non-signalfd fd EINVAL, a closed fd EBADF, a wrong sigsetsize EINVAL, a bad mask
 * pointer EFAULT, write EINVAL), SFD_CLOEXEC/SFD_NONBLOCK in F_GETFD/F_GETFL, the old signalfd
 * syscall, a child reading its own signals after fork (not the parent's), the "sigmask:" line
 * of /proc/self/fdinfo/<fd> and the anon_inode:[signalfd] link in /proc/self/fd.
 * Every case blocks the signals it uses, and drains them, closes its fds and restores the mask
 * at the end. Where a process must be blocked before its peer acts, the peer waits until
 * /proc/<pid>/stat shows it sleeping ('S'); nothing depends on timing.
 * Syscalls: signalfd, signalfd4, read, write, close, poll, epoll_create1, epoll_ctl,
 * epoll_wait, rt_sigprocmask, rt_sigpending, rt_sigtimedwait, rt_sigqueueinfo, kill, tgkill,
 * fork, wait4, pipe2, fcntl, openat, readlinkat, getpid, gettid, getuid.
 */
#define _GNU_SOURCE
#define TEST_MAIN
#include "test.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include "children.h"
#include "sigs.h"

#define REC ((long)sizeof(struct signalfd_siginfo))

/* ---- per-case setup and teardown ---- */

struct ctx {
    sigset_t saved;  /* the mask before the case */
    int fds[4];      /* closed at the end when >= 0 */
    pid_t child;     /* killed and reaped at the end when > 0 */
};

/* The signals the cases use: all blocked during a case, drained afterwards. */
static void test_sigs(sigset_t *s)
{
    sigemptyset(s);
    sigaddset(s, SIGHUP);
    sigaddset(s, SIGUSR1);
    sigaddset(s, SIGUSR2);
    sigaddset(s, SIGCHLD);
    sigaddset(s, SIGRTMIN);
    sigaddset(s, SIGRTMIN + 1);
}

static void begin(struct ctx *c)
{
    sigset_t s;
    test_sigs(&s);
    sigprocmask(SIG_BLOCK, &s, &c->saved);
    for (int i = 0; i < 4; i++)
        c->fds[i] = -1;
    c->child = 0;
}

static void finish(struct ctx *c)
{
    if (c->child > 0) {
        kill(c->child, SIGKILL);
        child_status(c->child);
    }
    for (int i = 0; i < 4; i++)
        if (c->fds[i] >= 0)
            close(c->fds[i]);
    sigset_t s;
    test_sigs(&s);
    struct timespec zero = {0, 0};
    while (sigtimedwait(&s, NULL, &zero) > 0)
        ;
    sigprocmask(SIG_SETMASK, &c->saved, NULL);
}

/* A case body runs between begin() and finish(); its checks return to the wrapper. */
#define SFD_TEST(name)                                                                \
    static void body_##name(struct ctx *c);                                           \
    TEST(name)                                                                        \
    {                                                                                 \
        struct ctx c;                                                                 \
        begin(&c);                                                                    \
        body_##name(&c);                                                              \
        finish(&c);                                                                   \
    }                                                                                 \
    static void body_##name(__attribute__((unused)) struct ctx *c)

static sigset_t set_of(int a, int b)
{
    sigset_t s;
    sigemptyset(&s);
    if (a)
        sigaddset(&s, a);
    if (b)
        sigaddset(&s, b);
    return s;
}

/* A new signalfd for {a, b} with flags, remembered in c->fds[slot]. */
static int sfd_new(struct ctx *c, int slot, int a, int b, int flags)
{
    sigset_t s = set_of(a, b);
    c->fds[slot] = signalfd(-1, &s, flags);
    return c->fds[slot];
}

static int sigq(int sig, int ival, void *ptr)
{
    union sigval v;
    memset(&v, 0, sizeof v);
    if (ptr)
        v.sival_ptr = ptr;
    else
        v.sival_int = ival;
    return sigqueue(getpid(), sig, v);
}

/* The contents of /proc/self/fdinfo/<fd>, NUL-terminated, or "" on error. */
static const char *fdinfo(int fd)
{
    static char buf[1024];
    char path[64];
    buf[0] = '\0';
    snprintf(path, sizeof path, "/proc/self/fdinfo/%d", fd);
    int f = open(path, O_RDONLY | O_CLOEXEC);
    if (f < 0)
        return buf;
    ssize_t n = read(f, buf, sizeof buf - 1);
    close(f);
    buf[n > 0 ? n : 0] = '\0';
    return buf;
}

/* ---- reading records ---- */

SFD_TEST(kill_is_read_as_si_user_with_pid_and_uid)
{
    int fd = sfd_new(c, 0, SIGUSR1, 0, SFD_NONBLOCK);
    CHECK(fd >= 0);
    CHECK_OK(kill(getpid(), SIGUSR1));
    struct signalfd_siginfo si;
    memset(&si, 0xa5, sizeof si);
    CHECK_EQ(read(fd, &si, sizeof si), REC);
    CHECK_EQ(si.ssi_signo, SIGUSR1);
    CHECK_EQ(si.ssi_code, SI_USER);
    CHECK_EQ(si.ssi_errno, 0);
    CHECK_EQ(si.ssi_pid, getpid());
    CHECK_EQ(si.ssi_uid, getuid());
    /* The kill layout has no value, address or status. */
    CHECK_EQ(si.ssi_int, 0);
    CHECK_EQ(si.ssi_ptr, 0);
    CHECK_EQ(si.ssi_addr, 0);
    CHECK_EQ(si.ssi_status, 0);
}

SFD_TEST(reading_consumes_the_pending_signal)
{
    int fd = sfd_new(c, 0, SIGUSR1, 0, SFD_NONBLOCK);
    CHECK(fd >= 0);
    CHECK_OK(kill(getpid(), SIGUSR1));
    CHECK(is_pending(SIGUSR1));
    struct signalfd_siginfo si;
    CHECK_EQ(read(fd, &si, sizeof si), REC);
    CHECK(!is_pending(SIGUSR1));
    CHECK_ERRNO(read(fd, &si, sizeof si), EAGAIN);
}

SFD_TEST(sigqueue_is_read_as_si_queue_with_its_int)
{
    int fd = sfd_new(c, 0, SIGUSR2, 0, SFD_NONBLOCK);
    CHECK(fd >= 0);
    CHECK_OK(sigq(SIGUSR2, 0x1234, NULL));
    struct signalfd_siginfo si;
    CHECK_EQ(read(fd, &si, sizeof si), REC);
    CHECK_EQ(si.ssi_signo, SIGUSR2);
    CHECK_EQ(si.ssi_code, SI_QUEUE);
    CHECK_EQ(si.ssi_pid, getpid());
    CHECK_EQ(si.ssi_uid, getuid());
    CHECK_EQ(si.ssi_int, 0x1234);
    CHECK_EQ(si.ssi_addr, 0);
}

SFD_TEST(sigqueue_pointer_value_is_ssi_ptr)
{
    int fd = sfd_new(c, 0, SIGUSR2, 0, SFD_NONBLOCK);
    CHECK(fd >= 0);
    void *p = (void *)(uintptr_t)0x123456789abcdef0ULL;
    CHECK_OK(sigq(SIGUSR2, 0, p));
    struct signalfd_siginfo si;
    CHECK_EQ(read(fd, &si, sizeof si), REC);
    CHECK_EQ(si.ssi_code, SI_QUEUE);
    CHECK_EQ(si.ssi_ptr, 0x123456789abcdef0ULL);
    CHECK_EQ(si.ssi_int, (int32_t)0x9abcdef0);
}

SFD_TEST(rt_sigqueueinfo_fields_are_passed_through)
{
    int fd = sfd_new(c, 0, SIGRTMIN, 0, SFD_NONBLOCK);
    CHECK(fd >= 0);
    siginfo_t info;
    memset(&info, 0, sizeof info);
    info.si_signo = SIGRTMIN;
    info.si_code = SI_QUEUE;
    info.si_pid = 4242;
    info.si_uid = 777;
    info.si_value.sival_int = -5;
    CHECK_OK(syscall(SYS_rt_sigqueueinfo, getpid(), SIGRTMIN, &info));
    struct signalfd_siginfo si;
    CHECK_EQ(read(fd, &si, sizeof si), REC);
    CHECK_EQ(si.ssi_signo, SIGRTMIN);
    CHECK_EQ(si.ssi_code, SI_QUEUE);
    CHECK_EQ(si.ssi_pid, 4242);
    CHECK_EQ(si.ssi_uid, 777);
    CHECK_EQ(si.ssi_int, -5);
}

SFD_TEST(tgkill_is_read_as_si_tkill)
{
    int fd = sfd_new(c, 0, SIGUSR1, 0, SFD_NONBLOCK);
    CHECK(fd >= 0);
    CHECK_OK(syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), SIGUSR1));
    struct signalfd_siginfo si;
    CHECK_EQ(read(fd, &si, sizeof si), REC);
    CHECK_EQ(si.ssi_signo, SIGUSR1);
    CHECK_EQ(si.ssi_code, SI_TKILL);
    CHECK_EQ(si.ssi_pid, getpid());
    CHECK_EQ(si.ssi_uid, getuid());
    CHECK_EQ(si.ssi_addr, 0);
    CHECK(!is_pending(SIGUSR1));
}

SFD_TEST(sigchld_is_read_with_cld_exited_and_status)
{
    int fd = sfd_new(c, 0, SIGCHLD, 0, 0);
    CHECK(fd >= 0);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0)
        _exit(7);
    c->child = pid;
    struct signalfd_siginfo si;
    CHECK_EQ(read(fd, &si, sizeof si), REC); /* blocks until the child has exited */
    CHECK_EQ(si.ssi_signo, SIGCHLD);
    CHECK_EQ(si.ssi_code, CLD_EXITED);
    CHECK_EQ(si.ssi_pid, pid);
    CHECK_EQ(si.ssi_uid, getuid());
    CHECK_EQ(si.ssi_status, 7);
    CHECK_EQ(si.ssi_int, 0);
    CHECK_EQ(si.ssi_ptr, 0);
    CHECK_EQ(si.ssi_addr, 0);
    c->child = 0;
    CHECK_EXITED(pid, 7);
}

SFD_TEST(several_standard_signals_in_one_read_lowest_first)
{
    int fd = sfd_new(c, 0, SIGUSR1, SIGUSR2, SFD_NONBLOCK);
    CHECK(fd >= 0);
    sigset_t s = set_of(SIGUSR1, SIGUSR2);
    sigaddset(&s, SIGHUP);
    CHECK_OK(signalfd(fd, &s, 0));
    CHECK_OK(kill(getpid(), SIGUSR2));
    CHECK_OK(kill(getpid(), SIGUSR1));
    CHECK_OK(kill(getpid(), SIGHUP));
    struct signalfd_siginfo si[4];
    memset(si, 0, sizeof si);
    CHECK_EQ(read(fd, si, sizeof si), 3 * REC);
    CHECK_EQ(si[0].ssi_signo, SIGHUP);
    CHECK_EQ(si[1].ssi_signo, SIGUSR1);
    CHECK_EQ(si[2].ssi_signo, SIGUSR2);
    CHECK_EQ(si[3].ssi_signo, 0); /* untouched */
    CHECK(!is_pending(SIGHUP) && !is_pending(SIGUSR1) && !is_pending(SIGUSR2));
}

SFD_TEST(standard_signal_sent_twice_is_read_once)
{
    int fd = sfd_new(c, 0, SIGUSR1, 0, SFD_NONBLOCK);
    CHECK(fd >= 0);
    CHECK_OK(kill(getpid(), SIGUSR1));
    CHECK_OK(kill(getpid(), SIGUSR1));
    struct signalfd_siginfo si[2];
    CHECK_EQ(read(fd, si, sizeof si), REC);
    CHECK_ERRNO(read(fd, si, sizeof si), EAGAIN);
}

SFD_TEST(only_whole_records_fit_in_the_buffer)
{
    int fd = sfd_new(c, 0, SIGUSR1, SIGUSR2, SFD_NONBLOCK);
    CHECK(fd >= 0);
    CHECK_OK(kill(getpid(), SIGUSR1));
    CHECK_OK(kill(getpid(), SIGUSR2));
    char buf[2 * sizeof(struct signalfd_siginfo) - 1];
    CHECK_EQ(read(fd, buf, sizeof buf), REC);
    struct signalfd_siginfo si;
    memcpy(&si, buf, sizeof si);
    CHECK_EQ(si.ssi_signo, SIGUSR1);
    CHECK(is_pending(SIGUSR2));
    CHECK_EQ(read(fd, buf, sizeof buf), REC);
    memcpy(&si, buf, sizeof si);
    CHECK_EQ(si.ssi_signo, SIGUSR2);
}

SFD_TEST(realtime_signals_queue_in_order_with_values)
{
    int fd = sfd_new(c, 0, SIGRTMIN, 0, SFD_NONBLOCK);
    CHECK(fd >= 0);
    CHECK_OK(sigq(SIGRTMIN, 111, NULL));
    CHECK_OK(sigq(SIGRTMIN, 222, NULL));
    struct signalfd_siginfo si[3];
    memset(si, 0, sizeof si);
    CHECK_EQ(read(fd, si, sizeof si), 2 * REC);
    CHECK_EQ(si[0].ssi_signo, SIGRTMIN);
    CHECK_EQ(si[0].ssi_int, 111);
    CHECK_EQ(si[1].ssi_signo, SIGRTMIN);
    CHECK_EQ(si[1].ssi_int, 222);
    CHECK(!is_pending(SIGRTMIN));
}

SFD_TEST(realtime_queue_read_one_record_at_a_time)
{
    int fd = sfd_new(c, 0, SIGRTMIN, SIGRTMIN + 1, SFD_NONBLOCK);
    CHECK(fd >= 0);
    CHECK_OK(sigq(SIGRTMIN + 1, 3, NULL));
    CHECK_OK(sigq(SIGRTMIN, 1, NULL));
    CHECK_OK(sigq(SIGRTMIN, 2, NULL));
    int want_sig[3] = {SIGRTMIN, SIGRTMIN, SIGRTMIN + 1}, want_int[3] = {1, 2, 3};
    for (int i = 0; i < 3; i++) {
        struct signalfd_siginfo si;
        CHECK_EQ(read(fd, &si, sizeof si), REC);
        CHECK_EQ(si.ssi_signo, want_sig[i]);
        CHECK_EQ(si.ssi_int, want_int[i]);
        /* SIGRTMIN stays pending while a second instance is queued. */
        if (i == 0)
            CHECK(is_pending(SIGRTMIN));
    }
    CHECK(!is_pending(SIGRTMIN) && !is_pending(SIGRTMIN + 1));
}

SFD_TEST(signal_outside_the_mask_is_not_read)
{
    int fd = sfd_new(c, 0, SIGUSR1, 0, SFD_NONBLOCK);
    CHECK(fd >= 0);
    CHECK_OK(kill(getpid(), SIGUSR2));
    struct signalfd_siginfo si;
    CHECK_ERRNO(read(fd, &si, sizeof si), EAGAIN);
    CHECK(is_pending(SIGUSR2));
}

SFD_TEST(buffer_smaller_than_a_record_is_einval)
{
    int fd = sfd_new(c, 0, SIGUSR1, 0, SFD_NONBLOCK);
    CHECK(fd >= 0);
    char buf[sizeof(struct signalfd_siginfo)];
    CHECK_ERRNO(read(fd, buf, sizeof buf - 1), EINVAL);
    CHECK_ERRNO(read(fd, buf, 0), EINVAL);
    /* Also with a signal pending, which stays pending. */
    CHECK_OK(kill(getpid(), SIGUSR1));
    CHECK_ERRNO(read(fd, buf, sizeof buf - 1), EINVAL);
    CHECK(is_pending(SIGUSR1));
}

SFD_TEST(empty_nonblocking_read_is_eagain)
{
    int fd = sfd_new(c, 0, SIGUSR1, 0, SFD_NONBLOCK);
    CHECK(fd >= 0);
    struct signalfd_siginfo si;
    CHECK_ERRNO(read(fd, &si, sizeof si), EAGAIN);
}

SFD_TEST(bad_buffer_is_efault)
{
    int fd = sfd_new(c, 0, SIGUSR1, 0, SFD_NONBLOCK);
    CHECK(fd >= 0);
    CHECK_OK(kill(getpid(), SIGUSR1));
    CHECK_ERRNO(read(fd, bad_ptr(8), sizeof(struct signalfd_siginfo)), EFAULT);
}

SFD_TEST(write_is_einval)
{
    int fd = sfd_new(c, 0, SIGUSR1, 0, SFD_NONBLOCK);
    CHECK(fd >= 0);
    char buf[sizeof(struct signalfd_siginfo)];
    memset(buf, 0, sizeof buf);
    CHECK_ERRNO(write(fd, buf, sizeof buf), EINVAL);
}

SFD_TEST(blocking_read_is_woken_by_a_child_kill)
{
    int fd = sfd_new(c, 0, SIGUSR1, 0, 0);
    CHECK(fd >= 0);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        CCHECK(wait_sleeping(getppid()));
        CCHECK(kill(getppid(), SIGUSR1) == 0);
        _exit(0);
    }
    c->child = pid;
    struct signalfd_siginfo si;
    CHECK_EQ(read(fd, &si, sizeof si), REC);
    CHECK_EQ(si.ssi_signo, SIGUSR1);
    CHECK_EQ(si.ssi_code, SI_USER);
    CHECK_EQ(si.ssi_pid, pid);
    c->child = 0;
    CHECK_CHILD_OK(pid);
}

/* ---- readiness ---- */

SFD_TEST(poll_reports_pollin_for_a_pending_signal_in_the_mask)
{
    int fd = sfd_new(c, 0, SIGUSR1, 0, SFD_NONBLOCK);
    CHECK(fd >= 0);
    struct pollfd p = {.fd = fd, .events = POLLIN};
    CHECK_EQ(poll(&p, 1, 0), 0);
    CHECK_OK(kill(getpid(), SIGUSR1));
    p.revents = 0;
    CHECK_EQ(poll(&p, 1, 0), 1);
    CHECK_EQ(p.revents, POLLIN);
    struct signalfd_siginfo si;
    CHECK_EQ(read(fd, &si, sizeof si), REC);
    p.revents = 0;
    CHECK_EQ(poll(&p, 1, 0), 0);
}

SFD_TEST(poll_ignores_a_pending_signal_outside_the_mask)
{
    int fd = sfd_new(c, 0, SIGUSR1, 0, SFD_NONBLOCK);
    CHECK(fd >= 0);
    CHECK_OK(kill(getpid(), SIGUSR2));
    CHECK(is_pending(SIGUSR2));
    struct pollfd p = {.fd = fd, .events = POLLIN};
    CHECK_EQ(poll(&p, 1, 0), 0);
    CHECK_EQ(p.revents, 0);
}

SFD_TEST(blocking_poll_is_woken_by_a_child_kill)
{
    int fd = sfd_new(c, 0, SIGUSR2, 0, SFD_NONBLOCK);
    CHECK(fd >= 0);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        CCHECK(wait_sleeping(getppid()));
        CCHECK(kill(getppid(), SIGUSR2) == 0);
        _exit(0);
    }
    c->child = pid;
    struct pollfd p = {.fd = fd, .events = POLLIN};
    CHECK_EQ(poll(&p, 1, 20000), 1);
    CHECK_EQ(p.revents, POLLIN);
    c->child = 0;
    CHECK_CHILD_OK(pid);
}

SFD_TEST(epoll_reports_epollin_only_for_signals_in_the_mask)
{
    int fd = sfd_new(c, 0, SIGUSR1, 0, SFD_NONBLOCK);
    CHECK(fd >= 0);
    int ep = c->fds[1] = epoll_create1(EPOLL_CLOEXEC);
    CHECK(ep >= 0);
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 99};
    CHECK_OK(epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev));
    struct epoll_event out[2];
    CHECK_EQ(epoll_wait(ep, out, 2, 0), 0);
    CHECK_OK(kill(getpid(), SIGUSR2));
    CHECK_EQ(epoll_wait(ep, out, 2, 0), 0);
    CHECK_OK(kill(getpid(), SIGUSR1));
    memset(out, 0, sizeof out);
    CHECK_EQ(epoll_wait(ep, out, 2, 0), 1);
    CHECK_EQ(out[0].events, EPOLLIN);
    CHECK_EQ(out[0].data.u64, 99);
    struct signalfd_siginfo si;
    CHECK_EQ(read(fd, &si, sizeof si), REC);
    CHECK_EQ(si.ssi_signo, SIGUSR1);
    CHECK_EQ(epoll_wait(ep, out, 2, 0), 0);
}

/* ---- the mask ---- */

SFD_TEST(passing_the_fd_again_replaces_the_mask)
{
    int fd = sfd_new(c, 0, SIGUSR1, 0, SFD_NONBLOCK);
    CHECK(fd >= 0);
    CHECK_OK(kill(getpid(), SIGUSR2));
    struct signalfd_siginfo si;
    CHECK_ERRNO(read(fd, &si, sizeof si), EAGAIN);
    sigset_t s = set_of(SIGUSR2, 0);
    CHECK_EQ(signalfd(fd, &s, 0), fd);
    CHECK_EQ(read(fd, &si, sizeof si), REC);
    CHECK_EQ(si.ssi_signo, SIGUSR2);
    /* SIGUSR1 is no longer in the mask. */
    CHECK_OK(kill(getpid(), SIGUSR1));
    CHECK_ERRNO(read(fd, &si, sizeof si), EAGAIN);
    CHECK(is_pending(SIGUSR1));
}

SFD_TEST(mask_update_keeps_the_fd_flags)
{
    int fd = sfd_new(c, 0, SIGUSR1, 0, SFD_NONBLOCK);
    CHECK(fd >= 0);
    sigset_t s = set_of(SIGUSR2, 0);
    /* The flags of a mask update are not applied to the existing fd. */
    CHECK_EQ(signalfd(fd, &s, SFD_CLOEXEC), fd);
    CHECK_EQ(fcntl(fd, F_GETFD), 0);
    CHECK_EQ(fcntl(fd, F_GETFL) & O_NONBLOCK, O_NONBLOCK);
}

SFD_TEST(sigkill_and_sigstop_in_the_mask_are_ignored)
{
    sigset_t s = set_of(SIGKILL, SIGSTOP);
    sigaddset(&s, SIGUSR1);
    int fd = c->fds[0] = signalfd(-1, &s, SFD_NONBLOCK);
    CHECK(fd >= 0);
    CHECK(strstr(fdinfo(fd), "sigmask:\t0000000000000200\n") != NULL);
    sigset_t k = set_of(SIGKILL, 0);
    CHECK_EQ(signalfd(fd, &k, 0), fd);
    CHECK(strstr(fdinfo(fd), "sigmask:\t0000000000000000\n") != NULL);
}

/* ---- errors ---- */

SFD_TEST(bad_flags_are_einval)
{
    sigset_t s = set_of(SIGUSR1, 0);
    CHECK_ERRNO(signalfd(-1, &s, 1), EINVAL);
    CHECK_ERRNO(signalfd(-1, &s, O_RDWR), EINVAL);
    CHECK_ERRNO(signalfd(-1, &s, SFD_CLOEXEC | 0x100), EINVAL);
}

SFD_TEST(fd_that_is_not_a_signalfd_is_einval)
{
    int p[2];
    CHECK_OK(pipe2(p, O_CLOEXEC));
    c->fds[0] = p[0];
    c->fds[1] = p[1];
    sigset_t s = set_of(SIGUSR1, 0);
    CHECK_ERRNO(signalfd(p[0], &s, 0), EINVAL);
    int ep = c->fds[2] = epoll_create1(EPOLL_CLOEXEC);
    CHECK(ep >= 0);
    CHECK_ERRNO(signalfd(ep, &s, 0), EINVAL);
}

SFD_TEST(closed_or_negative_fd_is_ebadf)
{
    int p[2];
    CHECK_OK(pipe2(p, O_CLOEXEC));
    close(p[0]);
    close(p[1]);
    sigset_t s = set_of(SIGUSR1, 0);
    CHECK_ERRNO(signalfd(p[0], &s, 0), EBADF);
    CHECK_ERRNO(signalfd(-2, &s, 0), EBADF);
}

SFD_TEST(wrong_sigsetsize_is_einval)
{
    uint64_t mask[2] = {1ULL << (SIGUSR1 - 1), 0};
    CHECK_ERRNO(syscall(SYS_signalfd4, -1, mask, 4, 0), EINVAL);
    CHECK_ERRNO(syscall(SYS_signalfd4, -1, mask, 16, 0), EINVAL);
    CHECK_ERRNO(syscall(SYS_signalfd4, -1, mask, 0, 0), EINVAL);
    CHECK_ERRNO(syscall(SYS_signalfd, -1, mask, 16), EINVAL);
    int fd = c->fds[0] = (int)syscall(SYS_signalfd4, -1, mask, 8, SFD_NONBLOCK);
    CHECK(fd >= 0);
}

SFD_TEST(bad_mask_pointer_is_efault)
{
    CHECK_ERRNO(syscall(SYS_signalfd4, -1, bad_ptr(8), 8, 0), EFAULT);
}

SFD_TEST(old_signalfd_syscall_creates_a_blocking_fd)
{
    uint64_t mask = 1ULL << (SIGUSR1 - 1);
    int fd = c->fds[0] = (int)syscall(SYS_signalfd, -1, &mask, 8);
    CHECK(fd >= 0);
    CHECK_EQ(fcntl(fd, F_GETFL), O_RDWR);
    CHECK_EQ(fcntl(fd, F_GETFD), 0);
    CHECK_OK(kill(getpid(), SIGUSR1));
    struct signalfd_siginfo si;
    CHECK_EQ(read(fd, &si, sizeof si), REC);
    CHECK_EQ(si.ssi_signo, SIGUSR1);
}

/* ---- descriptor properties ---- */

SFD_TEST(sfd_cloexec_sets_fd_cloexec)
{
    int a = sfd_new(c, 0, SIGUSR1, 0, SFD_CLOEXEC);
    CHECK(a >= 0);
    CHECK_EQ(fcntl(a, F_GETFD), FD_CLOEXEC);
    int b = sfd_new(c, 1, SIGUSR1, 0, 0);
    CHECK(b >= 0);
    CHECK_EQ(fcntl(b, F_GETFD), 0);
}

SFD_TEST(sfd_nonblock_sets_o_nonblock)
{
    int a = sfd_new(c, 0, SIGUSR1, 0, SFD_NONBLOCK);
    CHECK(a >= 0);
    CHECK_EQ(fcntl(a, F_GETFL), O_RDWR | O_NONBLOCK);
    int b = sfd_new(c, 1, SIGUSR1, 0, 0);
    CHECK(b >= 0);
    CHECK_EQ(fcntl(b, F_GETFL), O_RDWR);
}

SFD_TEST(child_reads_its_own_signals_not_the_parents)
{
    int fd = sfd_new(c, 0, SIGUSR1, 0, SFD_NONBLOCK);
    CHECK(fd >= 0);
    CHECK_OK(kill(getpid(), SIGUSR1));
    pid_t parent = getpid();
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        struct signalfd_siginfo si;
        /* Pending signals are not inherited: the parent's SIGUSR1 is not ours to read. */
        CERRNO(read(fd, &si, sizeof si), EAGAIN);
        CCHECK(kill(getpid(), SIGUSR1) == 0);
        CCHECK(read(fd, &si, sizeof si) == REC);
        CCHECK(si.ssi_signo == SIGUSR1);
        CCHECK(si.ssi_pid == (uint32_t)getpid());
        CERRNO(read(fd, &si, sizeof si), EAGAIN);
        _exit(0);
    }
    c->child = pid;
    int st = child_status(pid);
    c->child = 0;
    CHECK_EQ(st, 0);
    /* The parent's own signal is still there, sent by the parent. */
    struct signalfd_siginfo si;
    CHECK_EQ(read(fd, &si, sizeof si), REC);
    CHECK_EQ(si.ssi_signo, SIGUSR1);
    CHECK_EQ(si.ssi_pid, parent);
}

SFD_TEST(fdinfo_shows_the_sigmask)
{
    int fd = sfd_new(c, 0, SIGUSR1, SIGUSR2, 0);
    CHECK(fd >= 0);
    const char *s = fdinfo(fd);
    if (!strstr(s, "sigmask:\t0000000000000a00\n"))
        FAIL("fdinfo: \"%s\"", s);
    CHECK(strstr(s, "flags:\t02\n") != NULL);
    sigset_t m = set_of(SIGHUP, 0);
    CHECK_EQ(signalfd(fd, &m, 0), fd);
    s = fdinfo(fd);
    if (!strstr(s, "sigmask:\t0000000000000001\n"))
        FAIL("fdinfo after the update: \"%s\"", s);
}

SFD_TEST(proc_fd_link_is_anon_inode_signalfd)
{
    int fd = sfd_new(c, 0, SIGUSR1, 0, 0);
    CHECK(fd >= 0);
    char path[64], target[128];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(path, target, sizeof target - 1);
    CHECK(n > 0);
    target[n] = '\0';
    if (strcmp(target, "anon_inode:[signalfd]") != 0)
        FAIL("readlink: \"%s\"", target);
}

SFD_TEST(lseek_answers_zero_and_pread_is_espipe)
{
    int fd = sfd_new(c, 0, SIGUSR1, 0, 0);
    CHECK(fd >= 0);
    CHECK_EQ(lseek(fd, 5, SEEK_SET), 0); /* noop_llseek */
    CHECK_EQ(lseek(fd, 0, SEEK_CUR), 0);
    CHECK_ERRNO(lseek(fd, 0, 99), EINVAL);
    char buf[128];
    CHECK_ERRNO(pread(fd, buf, sizeof buf, 0), ESPIPE);
}
