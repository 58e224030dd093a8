/* posix_timers.c - POSIX per-process timers with raw syscalls: timer_create (SIGEV_SIGNAL with
 * its value and si_code SI_TIMER, the default SIGALRM carrying the timer id, SIGEV_THREAD_ID,
 * SIGEV_NONE), timer_settime (relative, TIMER_ABSTIME on CLOCK_REALTIME and CLOCK_MONOTONIC,
 * periodic, disarming, the old value), timer_gettime, timer_getoverrun and si_overrun while the
 * signal stays blocked, timer_delete; timers on CLOCK_PROCESS_CPUTIME_ID that run with CPU time
 * only; timers not inherited by fork; the errors.
 * Expiries are awaited with sigtimedwait and generous timeouts; durations are lower bounds.
 * Syscalls: timer_create, timer_settime, timer_gettime, timer_getoverrun, timer_delete,
 * rt_sigprocmask, rt_sigtimedwait, clock_gettime, fork.
 */
#define _GNU_SOURCE
#define TEST_MAIN
#include "test.h"

#include <signal.h>
#include <stdint.h>
#include <sys/syscall.h>

#include "children.h"

#define MS 1000000LL
#ifndef SIGEV_THREAD_ID
#define SIGEV_THREAD_ID 4
#endif

/* The kernel's struct sigevent. */
struct ksigevent {
    union {
        int i;
        void *p;
    } value;
    int signo;
    int notify;
    int tid;
    int pad[11];
};

static int tcreate(clockid_t c, struct ksigevent *ev, int *id)
{
    return (int)syscall(SYS_timer_create, c, ev, id);
}

static int tset(int id, int flags, long long value_ns, long long interval_ns, struct itimerspec *old)
{
    struct itimerspec s = {{interval_ns / 1000000000LL, interval_ns % 1000000000LL},
                           {value_ns / 1000000000LL, value_ns % 1000000000LL}};
    return (int)syscall(SYS_timer_settime, id, flags, &s, old);
}

static long long ts_ns(struct timespec t) { return (long long)t.tv_sec * 1000000000LL + t.tv_nsec; }

static struct ksigevent sig_event(int sig, int value)
{
    struct ksigevent ev;
    memset(&ev, 0, sizeof ev);
    ev.notify = SIGEV_SIGNAL;
    ev.signo = sig;
    ev.value.i = value;
    return ev;
}

/* Blocks `sig` and waits up to 10 s for it; returns its siginfo's si_code (or -1 on timeout). */
static int await_signal(int sig, siginfo_t *info)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    struct timespec t = {10, 0};
    int r;
    do
        r = sigtimedwait(&set, info, &t);
    while (r < 0 && errno == EINTR);
    return r == sig ? info->si_code : -1;
}

static void block(int sig)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    sigprocmask(SIG_BLOCK, &set, NULL);
}

static int sig_pending(int sig)
{
    sigset_t set;
    sigpending(&set);
    return sigismember(&set, sig);
}

TEST(sigev_signal_delivers_the_value_with_si_timer)
{
    int sig = SIGRTMIN + 1;
    block(sig);
    struct ksigevent ev = sig_event(sig, 42);
    int id = -1;
    CHECK_EQ(tcreate(CLOCK_MONOTONIC, &ev, &id), 0);
    CHECK(id >= 0);
    long long t0 = now_ns();
    CHECK_EQ(tset(id, 0, 20 * MS, 0, NULL), 0);
    siginfo_t info;
    CHECK_EQ(await_signal(sig, &info), SI_TIMER);
    CHECK(now_ns() - t0 >= 20 * MS);
    CHECK_EQ(info.si_value.sival_int, 42);
    CHECK_EQ(info.si_timerid, id);
    CHECK_EQ(info.si_overrun, 0);
    /* One-shot: disarmed now. */
    struct itimerspec cur;
    CHECK_EQ(syscall(SYS_timer_gettime, id, &cur), 0);
    CHECK_EQ(ts_ns(cur.it_value), 0);
    CHECK_EQ(syscall(SYS_timer_delete, id), 0);
}

TEST(no_sigevent_means_sigalrm_with_the_timer_id)
{
    block(SIGALRM);
    int id = -1;
    CHECK_EQ(tcreate(CLOCK_REALTIME, NULL, &id), 0);
    CHECK_EQ(tset(id, 0, 10 * MS, 0, NULL), 0);
    siginfo_t info;
    CHECK_EQ(await_signal(SIGALRM, &info), SI_TIMER);
    CHECK_EQ(info.si_value.sival_int, id);
    CHECK_EQ(syscall(SYS_timer_delete, id), 0);
}

TEST(sigev_thread_id_targets_the_thread)
{
    int sig = SIGRTMIN + 2;
    block(sig);
    struct ksigevent ev = sig_event(sig, 7);
    ev.notify = SIGEV_THREAD_ID;
    ev.tid = (int)syscall(SYS_gettid);
    int id;
    CHECK_EQ(tcreate(CLOCK_MONOTONIC, &ev, &id), 0);
    CHECK_EQ(tset(id, 0, 5 * MS, 0, NULL), 0);
    siginfo_t info;
    CHECK_EQ(await_signal(sig, &info), SI_TIMER);
    CHECK_EQ(info.si_value.sival_int, 7);
    CHECK_EQ(syscall(SYS_timer_delete, id), 0);
    /* A thread outside this process: EINVAL. */
    ev.tid = 1;
    CHECK_ERRNO(tcreate(CLOCK_MONOTONIC, &ev, &id), EINVAL);
}

TEST(gettime_counts_down_and_settime_returns_the_old_value)
{
    /* SIGEV_SIGNAL: Linux's gettime of a disarmed SIGEV_NONE timer shows its stale expiry. */
    struct ksigevent ev = sig_event(SIGUSR1, 0);
    int id;
    CHECK_EQ(tcreate(CLOCK_MONOTONIC, &ev, &id), 0);
    struct itimerspec cur, old;
    CHECK_EQ(syscall(SYS_timer_gettime, id, &cur), 0);
    CHECK_EQ(ts_ns(cur.it_value), 0);
    CHECK_EQ(tset(id, 0, 5000 * MS, 250 * MS, NULL), 0);
    CHECK_EQ(syscall(SYS_timer_gettime, id, &cur), 0);
    CHECK(ts_ns(cur.it_value) > 0 && ts_ns(cur.it_value) <= 5000 * MS);
    CHECK_EQ(ts_ns(cur.it_interval), 250 * MS);
    CHECK_EQ(tset(id, 0, 0, 0, &old), 0);
    CHECK(ts_ns(old.it_value) > 0 && ts_ns(old.it_value) <= 5000 * MS);
    CHECK_EQ(ts_ns(old.it_interval), 250 * MS);
    CHECK_EQ(syscall(SYS_timer_gettime, id, &cur), 0);
    CHECK_EQ(ts_ns(cur.it_value), 0);
    CHECK_EQ(syscall(SYS_timer_delete, id), 0);
}

TEST(sigev_none_expires_silently)
{
    struct ksigevent ev = sig_event(SIGUSR1, 0);
    ev.notify = SIGEV_NONE;
    int id;
    CHECK_EQ(tcreate(CLOCK_MONOTONIC, &ev, &id), 0);
    CHECK_EQ(tset(id, 0, 10 * MS, 0, NULL), 0);
    struct timespec t = {0, 60 * MS};
    nanosleep(&t, NULL);
    struct itimerspec cur;
    CHECK_EQ(syscall(SYS_timer_gettime, id, &cur), 0);
    CHECK_EQ(ts_ns(cur.it_value), 0);
    /* Periodic: always something left, at most the interval. */
    CHECK_EQ(tset(id, 0, 5 * MS, 20 * MS, NULL), 0);
    nanosleep(&t, NULL);
    CHECK_EQ(syscall(SYS_timer_gettime, id, &cur), 0);
    CHECK(ts_ns(cur.it_value) > 0 && ts_ns(cur.it_value) <= 20 * MS);
    CHECK_EQ(syscall(SYS_timer_delete, id), 0);
}

TEST(absolute_times_on_realtime_and_monotonic)
{
    int sig = SIGRTMIN + 3;
    block(sig);
    struct ksigevent ev = sig_event(sig, 1);
    int id;
    CHECK_EQ(tcreate(CLOCK_REALTIME, &ev, &id), 0);
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    long long t0 = now_ns();
    CHECK_EQ(tset(id, TIMER_ABSTIME, ts_ns(now) + 30 * MS, 0, NULL), 0);
    siginfo_t info;
    CHECK_EQ(await_signal(sig, &info), SI_TIMER);
    CHECK(now_ns() - t0 >= 20 * MS);
    /* In the past: at once. */
    CHECK_EQ(tset(id, TIMER_ABSTIME, 1000000000LL, 0, NULL), 0);
    CHECK_EQ(await_signal(sig, &info), SI_TIMER);
    CHECK_EQ(syscall(SYS_timer_delete, id), 0);
    CHECK_EQ(tcreate(CLOCK_MONOTONIC, &ev, &id), 0);
    clock_gettime(CLOCK_MONOTONIC, &now);
    CHECK_EQ(tset(id, TIMER_ABSTIME, ts_ns(now) + 20 * MS, 0, NULL), 0);
    CHECK_EQ(await_signal(sig, &info), SI_TIMER);
    clock_gettime(CLOCK_MONOTONIC, &now);
    CHECK(now_ns() - t0 >= 20 * MS);
    CHECK_EQ(syscall(SYS_timer_delete, id), 0);
}

TEST(overruns_count_while_the_signal_is_blocked)
{
    int sig = SIGRTMIN + 4;
    block(sig);
    struct ksigevent ev = sig_event(sig, 9);
    int id;
    CHECK_EQ(tcreate(CLOCK_MONOTONIC, &ev, &id), 0);
    CHECK_EQ(tset(id, 0, 5 * MS, 5 * MS, NULL), 0);
    /* Wait for the first expiry, then let several more pass while it is pending. */
    long long give_up = now_ns() + 10000 * MS;
    while (!sig_pending(sig) && now_ns() < give_up) {
        struct timespec t = {0, 1 * MS};
        nanosleep(&t, NULL);
    }
    CHECK(sig_pending(sig));
    struct timespec t = {0, 100 * MS};
    nanosleep(&t, NULL);
    siginfo_t info;
    CHECK_EQ(await_signal(sig, &info), SI_TIMER);
    CHECK(info.si_overrun >= 1);
    /* timer_getoverrun gives the delivered signal's count. */
    CHECK_EQ(syscall(SYS_timer_getoverrun, id), info.si_overrun);
    CHECK_EQ(syscall(SYS_timer_delete, id), 0);
    /* Only one signal was queued for all those expiries (the next is from a later one). */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    struct timespec zero = {0, 0};
    int r = sigtimedwait(&set, &info, &zero);
    CHECK(r == -1 || info.si_overrun >= 0);
}

static volatile sig_atomic_t cpu_fired;
static void on_cpu_timer(int s) { (void)s; cpu_fired = 1; }

TEST(a_process_cpu_clock_timer_runs_with_cpu_time_only)
{
    int sig = SIGRTMIN + 5;
    signal(sig, on_cpu_timer);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    struct ksigevent ev = sig_event(sig, 0);
    int id;
    CHECK_EQ(tcreate(CLOCK_PROCESS_CPUTIME_ID, &ev, &id), 0);
    cpu_fired = 0;
    CHECK_EQ(tset(id, 0, 30 * MS, 0, NULL), 0);
    /* Sleeping uses no CPU time: no expiry. */
    struct timespec t = {0, 100 * MS};
    nanosleep(&t, NULL);
    CHECK_EQ(cpu_fired, 0);
    struct itimerspec cur;
    CHECK_EQ(syscall(SYS_timer_gettime, id, &cur), 0);
    CHECK(ts_ns(cur.it_value) > 10 * MS);
    /* Working does. */
    struct timespec c0;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
    long long give_up = now_ns() + 10000 * MS;
    volatile unsigned long x = 0;
    while (!cpu_fired && now_ns() < give_up)
        for (int i = 0; i < 1000; i++)
            x += i;
    CHECK_EQ(cpu_fired, 1);
    struct timespec c1;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
    CHECK(ts_ns(c1) - ts_ns(c0) >= 15 * MS);
    CHECK_EQ(syscall(SYS_timer_delete, id), 0);
    /* And the thread's own clock. */
    CHECK_EQ(tcreate(CLOCK_THREAD_CPUTIME_ID, &ev, &id), 0);
    cpu_fired = 0;
    CHECK_EQ(tset(id, 0, 10 * MS, 0, NULL), 0);
    give_up = now_ns() + 10000 * MS;
    while (!cpu_fired && now_ns() < give_up)
        for (int i = 0; i < 1000; i++)
            x += i;
    CHECK_EQ(cpu_fired, 1);
    CHECK_EQ(syscall(SYS_timer_delete, id), 0);
    signal(sig, SIG_DFL);
}

TEST(timers_are_not_inherited_by_fork)
{
    struct ksigevent ev = sig_event(SIGUSR2, 0);
    ev.notify = SIGEV_NONE;
    int id;
    CHECK_EQ(tcreate(CLOCK_MONOTONIC, &ev, &id), 0);
    CHECK_EQ(tset(id, 0, 5000 * MS, 0, NULL), 0);
    pid_t pid = fork();
    if (pid == 0) {
        struct itimerspec cur;
        CERRNO(syscall(SYS_timer_gettime, id, &cur), EINVAL);
        _exit(0);
    }
    CHECK_CHILD_OK(pid);
    CHECK_EQ(syscall(SYS_timer_delete, id), 0);
}

TEST(timer_errors)
{
    struct ksigevent ev = sig_event(SIGUSR1, 0);
    int id;
    CHECK_ERRNO(tcreate(99, &ev, &id), EINVAL);
    CHECK_ERRNO(tcreate(CLOCK_MONOTONIC_RAW, &ev, &id), EOPNOTSUPP);
    ev.signo = 0;
    CHECK_ERRNO(tcreate(CLOCK_MONOTONIC, &ev, &id), EINVAL);
    ev.signo = 65;
    CHECK_ERRNO(tcreate(CLOCK_MONOTONIC, &ev, &id), EINVAL);
    ev.signo = SIGUSR1;
    ev.notify = 3;
    CHECK_ERRNO(tcreate(CLOCK_MONOTONIC, &ev, &id), EINVAL);
    ev.notify = SIGEV_SIGNAL;
    CHECK_ERRNO(tcreate(CLOCK_MONOTONIC, bad_ptr(0x10), &id), EFAULT);
    /* A reaped process's CPU clock names nothing. */
    pid_t pid = fork();
    if (pid == 0)
        _exit(0);
    CHECK_CHILD_OK(pid);
    CHECK_ERRNO(tcreate((clockid_t)((~(unsigned)pid << 3) | 2), &ev, &id), EINVAL);

    ev.notify = SIGEV_NONE;
    CHECK_EQ(tcreate(CLOCK_MONOTONIC, &ev, &id), 0);
    struct itimerspec bad = {{0, 0}, {0, 1000000000L}}, cur;
    CHECK_ERRNO(syscall(SYS_timer_settime, id, 0, &bad, NULL), EINVAL);
    bad.it_value.tv_nsec = 0;
    bad.it_value.tv_sec = -1;
    CHECK_ERRNO(syscall(SYS_timer_settime, id, 0, &bad, NULL), EINVAL);
    CHECK_ERRNO(syscall(SYS_timer_settime, id, 0, NULL, NULL), EINVAL);
    CHECK_ERRNO(syscall(SYS_timer_settime, id, 0, bad_ptr(0x10), NULL), EFAULT);
    CHECK_ERRNO(syscall(SYS_timer_settime, id + 1000, 0, &cur, NULL), EINVAL);
    CHECK_ERRNO(syscall(SYS_timer_gettime, id + 1000, &cur), EINVAL);
    CHECK_ERRNO(syscall(SYS_timer_gettime, id, bad_ptr(0x10)), EFAULT);
    CHECK_ERRNO(syscall(SYS_timer_getoverrun, id + 1000), EINVAL);
    CHECK_EQ(syscall(SYS_timer_getoverrun, id), 0);
    CHECK_EQ(syscall(SYS_timer_delete, id), 0);
    CHECK_ERRNO(syscall(SYS_timer_delete, id), EINVAL);
    CHECK_ERRNO(syscall(SYS_timer_delete, -1), EINVAL);
}

TEST(many_timers_then_delete_them_all)
{
    struct ksigevent ev = sig_event(SIGUSR1, 0);
    ev.notify = SIGEV_NONE;
    int ids[64];
    for (int i = 0; i < 64; i++) {
        CHECK_EQ(tcreate(CLOCK_MONOTONIC, &ev, &ids[i]), 0);
        CHECK_EQ(tset(ids[i], 0, (i + 1) * 1000 * MS, 0, NULL), 0);
    }
    for (int i = 0; i < 64; i++)
        for (int j = i + 1; j < 64; j++)
            CHECK_NE(ids[i], ids[j]);
    for (int i = 0; i < 64; i++)
        CHECK_EQ(syscall(SYS_timer_delete, ids[i]), 0);
}
