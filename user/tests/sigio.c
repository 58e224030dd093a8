/* sigio.c - signal-driven I/O: O_ASYNC through fcntl(F_SETFL) and ioctl(FIOASYNC), the owner
 * (F_SETOWN with a pid or -pgid, F_SETOWN_EX/F_GETOWN_EX, FIOSETOWN on sockets) and the signal
 * (F_SETSIG/F_GETSIG: si_code POLL_IN/POLL_OUT, si_fd, si_band; SIGIO itself with SI_KERNEL)
 * for pipes, unix sockets, pseudo-terminals (eventfd takes the flag without effect, as Linux) and a child writing; nothing once O_ASYNC
 * is off. Signals are blocked and taken with sigtimedwait: the sender signals synchronously, so
 * a zero timeout proves a signal absent and a long one waits for a present one.
 * Syscalls: fcntl, ioctl, pipe2, socketpair, eventfd2, rt_sigtimedwait, rt_sigprocmask, fork.
 */
#define _GNU_SOURCE
#define TEST_MAIN
#include "test.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

static sigset_t block_all_io(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGIO);
    sigaddset(&set, SIGRTMIN);
    sigaddset(&set, SIGUSR1);
    sigprocmask(SIG_BLOCK, &set, NULL);
    return set;
}

/* Takes one pending signal of `set` (waiting up to `ms`); 0 if none came. */
static int take(const sigset_t *set, int ms, siginfo_t *si)
{
    struct timespec t = {ms / 1000, (long)(ms % 1000) * 1000000};
    int sig = sigtimedwait(set, si, &t);
    return sig < 0 ? 0 : sig;
}

/* Clears whatever is pending of `set`. */
static void drain(const sigset_t *set)
{
    siginfo_t si;
    while (take(set, 0, &si))
        ;
}

static int async_on(int fd)
{
    if (fcntl(fd, F_SETOWN, getpid()) < 0)
        return -1;
    int fl = fcntl(fd, F_GETFL);
    return fcntl(fd, F_SETFL, fl | O_ASYNC);
}

TEST(pipe_write_sends_sigio_to_the_reader_owner)
{
    sigset_t set = block_all_io();
    drain(&set);
    int p[2];
    CHECK_OK(pipe2(p, O_NONBLOCK));
    CHECK_OK(async_on(p[0]));
    CHECK(fcntl(p[0], F_GETFL) & O_ASYNC);
    siginfo_t si;
    CHECK_EQ(take(&set, 0, &si), 0);
    CHECK_EQ(write(p[1], "x", 1), 1);
    CHECK_EQ(take(&set, 10000, &si), SIGIO);
    CHECK_EQ(si.si_code, SI_KERNEL);
    close(p[0]);
    close(p[1]);
}

TEST(f_setsig_gives_poll_in_with_fd_and_band)
{
    sigset_t set = block_all_io();
    drain(&set);
    int p[2];
    CHECK_OK(pipe2(p, O_NONBLOCK));
    CHECK_OK(fcntl(p[0], F_SETSIG, SIGRTMIN));
    CHECK_EQ(fcntl(p[0], F_GETSIG), SIGRTMIN);
    CHECK_OK(async_on(p[0]));
    CHECK_EQ(write(p[1], "x", 1), 1);
    siginfo_t si;
    CHECK_EQ(take(&set, 10000, &si), SIGRTMIN);
    CHECK_EQ(si.si_code, POLL_IN);
    CHECK_EQ(si.si_fd, p[0]);
    CHECK(si.si_band & POLLIN);
    close(p[0]);
    close(p[1]);
}

TEST(pipe_read_sends_poll_out_to_the_writer_owner)
{
    sigset_t set = block_all_io();
    int p[2];
    CHECK_OK(pipe2(p, O_NONBLOCK));
    char buf[4096] = {0};
    while (write(p[1], buf, sizeof buf) > 0)
        ;
    CHECK_EQ(errno, EAGAIN);
    CHECK_OK(fcntl(p[1], F_SETSIG, SIGRTMIN));
    CHECK_OK(async_on(p[1]));
    drain(&set);
    CHECK_EQ(read(p[0], buf, sizeof buf), (ssize_t)sizeof buf);
    siginfo_t si;
    CHECK_EQ(take(&set, 10000, &si), SIGRTMIN);
    CHECK_EQ(si.si_code, POLL_OUT);
    CHECK_EQ(si.si_fd, p[1]);
    CHECK(si.si_band & POLLOUT);
    close(p[0]);
    close(p[1]);
}

TEST(o_async_off_sends_nothing)
{
    sigset_t set = block_all_io();
    int p[2];
    CHECK_OK(pipe2(p, O_NONBLOCK));
    CHECK_OK(async_on(p[0]));
    CHECK_OK(fcntl(p[0], F_SETFL, fcntl(p[0], F_GETFL) & ~O_ASYNC));
    CHECK(!(fcntl(p[0], F_GETFL) & O_ASYNC));
    drain(&set);
    CHECK_EQ(write(p[1], "x", 1), 1);
    siginfo_t si;
    CHECK_EQ(take(&set, 0, &si), 0);
    close(p[0]);
    close(p[1]);
}

TEST(fioasync_on_a_socketpair)
{
    sigset_t set = block_all_io();
    int sv[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    int me = getpid(), on = 1, owner = 0;
    CHECK_OK(ioctl(sv[0], FIOSETOWN, &me));
    CHECK_OK(ioctl(sv[0], FIOGETOWN, &owner));
    CHECK_EQ(owner, me);
    CHECK_OK(ioctl(sv[0], FIOASYNC, &on));
    CHECK(fcntl(sv[0], F_GETFL) & O_ASYNC);
    drain(&set);
    CHECK_EQ(write(sv[1], "hi", 2), 2);
    siginfo_t si;
    CHECK_EQ(take(&set, 10000, &si), SIGIO);
    on = 0;
    CHECK_OK(ioctl(sv[0], FIOASYNC, &on));
    CHECK(!(fcntl(sv[0], F_GETFL) & O_ASYNC));
    close(sv[0]);
    close(sv[1]);
}

/* eventfd has no fasync on Linux: no signal comes (and recent Linux drops the flag). */
TEST(eventfd_takes_o_async_without_signals)
{
    sigset_t set = block_all_io();
    int e = eventfd(0, EFD_NONBLOCK);
    CHECK_OK(e);
    CHECK_OK(fcntl(e, F_SETSIG, SIGRTMIN));
    CHECK_OK(async_on(e));
    drain(&set);
    uint64_t one = 1;
    CHECK_EQ(write(e, &one, 8), 8);
    siginfo_t si;
    CHECK_EQ(take(&set, 0, &si), 0);
    close(e);
}

TEST(pty_master_signals_when_the_slave_writes)
{
    sigset_t set = block_all_io();
    int m = posix_openpt(O_RDWR | O_NOCTTY);
    CHECK_OK(m);
    CHECK_OK(grantpt(m));
    CHECK_OK(unlockpt(m));
    int s = open(ptsname(m), O_RDWR | O_NOCTTY);
    CHECK_OK(s);
    CHECK_OK(fcntl(m, F_SETSIG, SIGRTMIN));
    CHECK_OK(async_on(m));
    drain(&set);
    CHECK_EQ(write(s, "x", 1), 1);
    siginfo_t si;
    CHECK_EQ(take(&set, 10000, &si), SIGRTMIN);
    CHECK_EQ(si.si_code, POLL_IN);
    CHECK_EQ(si.si_fd, m);
    close(s);
    close(m);
}

/* A child's write signals the owner (this process), not the writer. */
TEST(writer_in_a_child_signals_the_owner)
{
    sigset_t set = block_all_io();
    int p[2];
    CHECK_OK(pipe2(p, O_NONBLOCK));
    CHECK_OK(fcntl(p[0], F_SETSIG, SIGRTMIN));
    CHECK_OK(async_on(p[0]));
    drain(&set);
    pid_t c = fork();
    CHECK_OK(c);
    if (c == 0) {
        _exit(write(p[1], "x", 1) == 1 ? 0 : 1);
    }
    int st;
    CHECK_EQ(waitpid(c, &st, 0), c);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    siginfo_t si;
    CHECK_EQ(take(&set, 10000, &si), SIGRTMIN);
    CHECK_EQ(si.si_fd, p[0]);
    close(p[0]);
    close(p[1]);
}

/* The group case runs in a child in a group of its own: a group owner signals every member,
 * and the runner of the test shares the test's group. Exit status: the failing step. */
static int group_and_ex_steps(void)
{
    sigset_t set = block_all_io();
    int p[2];
    if (setpgid(0, 0) < 0 || pipe2(p, O_NONBLOCK) < 0)
        return 1;
    struct f_owner_ex ex = {0};
    if (fcntl(p[0], F_GETOWN_EX, &ex) < 0 || ex.type != F_OWNER_TID || ex.pid != 0)
        return 2;
    if (fcntl(p[0], F_GETOWN) != 0)
        return 3;
    if (fcntl(p[0], F_SETOWN, -getpgrp()) < 0 || fcntl(p[0], F_GETOWN) != -getpgrp())
        return 4;
    if (fcntl(p[0], F_GETOWN_EX, &ex) < 0 || ex.type != F_OWNER_PGRP || ex.pid != getpgrp())
        return 5;
    if (fcntl(p[0], F_SETFL, O_ASYNC | O_NONBLOCK) < 0)
        return 6;
    drain(&set);
    siginfo_t si;
    if (write(p[1], "x", 1) != 1 || take(&set, 10000, &si) != SIGIO)
        return 7;
    /* A thread owner. */
    ex.type = F_OWNER_TID;
    ex.pid = gettid();
    if (fcntl(p[0], F_SETOWN_EX, &ex) < 0 || fcntl(p[0], F_GETOWN) != gettid())
        return 8;
    if (write(p[1], "x", 1) != 1 || take(&set, 10000, &si) != SIGIO)
        return 9;
    ex.type = F_OWNER_PID;
    ex.pid = getpid();
    if (fcntl(p[0], F_SETOWN_EX, &ex) < 0 || fcntl(p[0], F_GETOWN_EX, &ex) < 0)
        return 10;
    if (ex.type != F_OWNER_PID || ex.pid != getpid())
        return 11;
    return 0;
}

TEST(owner_group_and_ex)
{
    pid_t c = fork();
    CHECK_OK(c);
    if (c == 0)
        _exit(group_and_ex_steps());
    int st;
    CHECK_EQ(waitpid(c, &st, 0), c);
    CHECK(WIFEXITED(st));
    CHECK_EQ(WEXITSTATUS(st), 0);
}

TEST(owner_errors)
{
    int p[2];
    CHECK_OK(pipe2(p, 0));
    /* A pid nobody has (pid_max is at most 4194304). */
    CHECK_ERRNO(fcntl(p[0], F_SETOWN, 4194304 + 7), ESRCH);
    CHECK_ERRNO(fcntl(p[0], F_SETOWN, -(4194304 + 7)), ESRCH);
    struct f_owner_ex ex = {.type = 7, .pid = getpid()};
    CHECK_ERRNO(fcntl(p[0], F_SETOWN_EX, &ex), EINVAL);
    CHECK_ERRNO(fcntl(p[0], F_SETOWN_EX, bad_ptr(16)), EFAULT);
    CHECK_ERRNO(fcntl(p[0], F_SETSIG, 65), EINVAL);
    CHECK_ERRNO(fcntl(p[0], F_SETSIG, -1), EINVAL);
    CHECK_OK(fcntl(p[0], F_SETSIG, 0));
    CHECK_EQ(fcntl(p[0], F_GETSIG), 0);
    CHECK_OK(fcntl(p[0], F_SETOWN, 0));
    CHECK_EQ(fcntl(p[0], F_GETOWN), 0);
    close(p[0]);
    close(p[1]);
}
