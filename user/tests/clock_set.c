/* clock_set.c - absolute CLOCK_REALTIME times follow clock_settime, as on Linux: a POSIX timer
 * armed with TIMER_ABSTIME fires when the clock is set past its time and moves away when it is
 * set back; clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME) wakes when the clock is set past its
 * time. Every case sets the guest's wall clock (and puts it back), so on Linux, where that would
 * set the host's clock, they SKIP.
 * Syscalls: clock_settime, clock_gettime, timer_create, timer_settime, timer_gettime,
 * clock_nanosleep, rt_sigtimedwait.
 */
#define _GNU_SOURCE
#define TEST_MAIN
#include "test.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>

static long long realtime(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static struct timespec ts_of(long long ns)
{
    struct timespec ts = {ns / 1000000000LL, ns % 1000000000LL};
    return ts;
}

/* Sets the wall clock `delta` ns away from now; returns 0 or -1. */
static int shift_clock(long long delta)
{
    struct timespec ts = ts_of(realtime() + delta);
    return clock_settime(CLOCK_REALTIME, &ts);
}

TEST(abstime_realtime_timer_fires_when_the_clock_is_set_past_it)
{
    if (!on_posix_x())
        SKIP("sets the wall clock: not on the host");
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigprocmask(SIG_BLOCK, &set, NULL);
    struct sigevent ev = {.sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGUSR1};
    timer_t t;
    CHECK_OK(timer_create(CLOCK_REALTIME, &ev, &t));
    struct itimerspec its = {.it_value = ts_of(realtime() + 1000 * 1000000000LL)};
    CHECK_OK(timer_settime(t, TIMER_ABSTIME, &its, NULL));
    CHECK_OK(shift_clock(2000 * 1000000000LL));
    struct timespec wait = {20, 0};
    siginfo_t si;
    int got = sigtimedwait(&set, &si, &wait);
    int e = errno;
    shift_clock(-2000 * 1000000000LL);
    timer_delete(t);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    if (got != SIGUSR1)
        FAIL("sigtimedwait: %d (%s): the timer did not fire when the clock passed it", got,
             strerror(e));
    CHECK_EQ(si.si_code, SI_TIMER);
}

TEST(abstime_realtime_timer_moves_when_the_clock_is_set_back)
{
    if (!on_posix_x())
        SKIP("sets the wall clock: not on the host");
    struct sigevent ev = {.sigev_notify = SIGEV_NONE};
    timer_t t;
    CHECK_OK(timer_create(CLOCK_REALTIME, &ev, &t));
    struct itimerspec its = {.it_value = ts_of(realtime() + 50 * 1000000000LL)};
    CHECK_OK(timer_settime(t, TIMER_ABSTIME, &its, NULL));
    CHECK_OK(shift_clock(-100 * 1000000000LL));
    struct itimerspec back, again;
    int r = timer_gettime(t, &back);
    shift_clock(100 * 1000000000LL);
    CHECK_OK(r);
    CHECK_OK(timer_gettime(t, &again));
    timer_delete(t);
    /* 50 s away, then 150 s with the clock 100 s back, then 50 s again. */
    CHECK(back.it_value.tv_sec > 140 && back.it_value.tv_sec <= 150);
    CHECK(again.it_value.tv_sec > 40 && again.it_value.tv_sec <= 50);
}

TEST(abstime_realtime_timer_relative_one_does_not_move)
{
    if (!on_posix_x())
        SKIP("sets the wall clock: not on the host");
    struct sigevent ev = {.sigev_notify = SIGEV_NONE};
    timer_t t;
    CHECK_OK(timer_create(CLOCK_REALTIME, &ev, &t));
    struct itimerspec its = {.it_value = {50, 0}};
    CHECK_OK(timer_settime(t, 0, &its, NULL));
    CHECK_OK(shift_clock(-100 * 1000000000LL));
    struct itimerspec cur;
    int r = timer_gettime(t, &cur);
    shift_clock(100 * 1000000000LL);
    timer_delete(t);
    CHECK_OK(r);
    CHECK(cur.it_value.tv_sec > 40 && cur.it_value.tv_sec <= 50);
}

/* The state letter of /proc/PID/stat ('S' while it sleeps). */
static char proc_state(pid_t pid)
{
    char path[64], buf[256];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return '?';
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return '?';
    buf[n] = '\0';
    char *p = strrchr(buf, ')');
    return p && p[1] == ' ' ? p[2] : '?';
}

TEST(clock_nanosleep_abstime_realtime_wakes_when_the_clock_is_set_past_it)
{
    if (!on_posix_x())
        SKIP("sets the wall clock: not on the host");
    int ready[2];
    CHECK_OK(pipe(ready));
    pid_t child = fork();
    CHECK(child >= 0);
    if (child == 0) {
        alarm(60); /* never left asleep */
        struct timespec until = ts_of(realtime() + 1000 * 1000000000LL);
        (void)!write(ready[1], "r", 1);
        int r = clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &until, NULL);
        _exit(r == 0 && realtime() >= until.tv_sec * 1000000000LL ? 0 : 1);
    }
    char c;
    CHECK_EQ(read(ready[0], &c, 1), 1);
    /* The handshake: the child is asleep in the kernel before the clock moves. */
    long long deadline = now_ns() + 10 * 1000000000LL;
    while (proc_state(child) != 'S' && now_ns() < deadline)
        usleep(1000);
    CHECK_OK(shift_clock(2000 * 1000000000LL));
    int st = 0;
    pid_t r = waitpid(child, &st, 0);
    shift_clock(-2000 * 1000000000LL);
    CHECK_EQ(r, child);
    if (WIFSIGNALED(st))
        FAIL("the sleeper was still asleep 60 s on (signal %d)", WTERMSIG(st));
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}
