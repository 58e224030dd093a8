/* time.c - clocks and sleeping: clock_gettime on the standard clock ids, clock_getres,
 * gettimeofday, nanosleep and clock_nanosleep (relative and TIMER_ABSTIME) with their errors,
 * sched_yield. Durations are only bounded from below (sleeps never end early) and loosely from
 * above (5 s), so a slow emulator cannot make them fail.
 * Raw syscalls throughout, so neither the vDSO nor libc's own checks answer for the kernel.
 * Syscalls: clock_gettime, clock_getres, gettimeofday, nanosleep, clock_nanosleep, sched_yield.
 */
#define _GNU_SOURCE
#define TEST_MAIN
#include "test.h"

#include <stdint.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>

#define NS 1000000000LL

static long long ts_ns(struct timespec t) { return (long long)t.tv_sec * NS + t.tv_nsec; }

/* Reads a clock with the raw syscall; -1 on error. */
static long long clock_ns(clockid_t id)
{
    struct timespec t;
    if (syscall(SYS_clock_gettime, id, &t) != 0)
        return -1;
    return ts_ns(t);
}

static long sys_nanosleep(long sec, long nsec)
{
    struct timespec t = {.tv_sec = sec, .tv_nsec = nsec};
    return syscall(SYS_nanosleep, &t, NULL);
}

static long sys_clock_nanosleep(clockid_t id, int flags, long long ns)
{
    struct timespec t = {.tv_sec = ns / NS, .tv_nsec = ns % NS};
    return syscall(SYS_clock_nanosleep, id, flags, &t, NULL);
}

/* ---- clock_gettime ---- */

TEST(realtime_after_2020)
{
    struct timespec t;
    CHECK_EQ(syscall(SYS_clock_gettime, CLOCK_REALTIME, &t), 0);
    CHECK(t.tv_sec > 1577836800);  /* 2020-01-01 */
    CHECK(t.tv_sec < 4102444800LL); /* 2100-01-01: a garbled RTC would show */
}

TEST(timespecs_are_normalized)
{
    static const clockid_t ids[] = {CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_BOOTTIME,
                                    CLOCK_PROCESS_CPUTIME_ID};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        struct timespec t = {.tv_sec = -1, .tv_nsec = -1};
        CHECK_EQ(syscall(SYS_clock_gettime, ids[i], &t), 0);
        CHECK(t.tv_sec >= 0);
        CHECK(t.tv_nsec >= 0 && t.tv_nsec < NS);
    }
}

TEST(monotonic_never_goes_backwards)
{
    long long prev = clock_ns(CLOCK_MONOTONIC);
    CHECK(prev >= 0);
    for (int i = 0; i < 20000; i++) {
        long long t = clock_ns(CLOCK_MONOTONIC);
        if (t < prev)
            FAIL("call %d: %lld after %lld", i, t, prev);
        prev = t;
    }
}

TEST(monotonic_advances)
{
    long long t0 = clock_ns(CLOCK_MONOTONIC), t1 = t0;
    /* Spin until the clock moves; at most ~5 s of wall time on any sane clock. */
    for (long i = 0; i < 100000000 && t1 == t0; i++)
        t1 = clock_ns(CLOCK_MONOTONIC);
    CHECK(t1 > t0);
}

TEST(boottime_not_behind_monotonic)
{
    long long m = clock_ns(CLOCK_MONOTONIC);
    long long b = clock_ns(CLOCK_BOOTTIME);
    CHECK(m >= 0);
    CHECK(b >= m);
}

TEST(realtime_never_goes_backwards_over_short_run)
{
    /* Nobody sets the clock during the test run, so short-term it only moves forward. */
    long long prev = clock_ns(CLOCK_REALTIME);
    for (int i = 0; i < 1000; i++) {
        long long t = clock_ns(CLOCK_REALTIME);
        CHECK(t >= prev);
        prev = t;
    }
}

TEST(coarse_clocks_lag_their_precise_clocks_slightly)
{
    long long c = clock_ns(CLOCK_MONOTONIC_COARSE);
    long long m = clock_ns(CLOCK_MONOTONIC);
    CHECK(c >= 0);
    CHECK(c <= m);
    CHECK(m - c < NS);
    c = clock_ns(CLOCK_REALTIME_COARSE);
    long long r = clock_ns(CLOCK_REALTIME);
    CHECK(c >= 0);
    CHECK(c <= r);
    CHECK(r - c < NS);
}

TEST(monotonic_raw_never_goes_backwards)
{
    long long prev = clock_ns(CLOCK_MONOTONIC_RAW);
    CHECK(prev >= 0);
    for (int i = 0; i < 1000; i++) {
        long long t = clock_ns(CLOCK_MONOTONIC_RAW);
        CHECK(t >= prev);
        prev = t;
    }
}

/* A single-threaded process cannot use more CPU time than wall time passes (plus one tick of
 * accounting slack), and it does accumulate some while it spins for 200 ms. */
TEST(process_cputime_grows_while_busy_and_within_wall_time)
{
    long long c0 = clock_ns(CLOCK_PROCESS_CPUTIME_ID), w0 = clock_ns(CLOCK_MONOTONIC);
    CHECK(c0 >= 0);
    while (clock_ns(CLOCK_MONOTONIC) - w0 < 200 * 1000000LL)
        ;
    long long c1 = clock_ns(CLOCK_PROCESS_CPUTIME_ID), w1 = clock_ns(CLOCK_MONOTONIC);
    CHECK(c1 > c0);
    CHECK(c1 - c0 <= w1 - w0 + 20 * 1000000LL);
}

TEST(clock_gettime_bad_clock_einval)
{
    struct timespec t;
    CHECK_ERRNO(syscall(SYS_clock_gettime, 12345, &t), EINVAL);
    CHECK_ERRNO(syscall(SYS_clock_gettime, 100, &t), EINVAL);
}

/* ---- clock_getres ---- */

TEST(clock_getres_monotonic_and_realtime)
{
    static const clockid_t ids[] = {CLOCK_MONOTONIC, CLOCK_REALTIME, CLOCK_BOOTTIME};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        struct timespec r = {.tv_sec = -1, .tv_nsec = -1};
        CHECK_EQ(syscall(SYS_clock_getres, ids[i], &r), 0);
        CHECK_EQ(r.tv_sec, 0);
        CHECK(r.tv_nsec > 0);
        CHECK(r.tv_nsec <= 10000000); /* at worst one 100 Hz tick */
    }
}

TEST(clock_getres_null_pointer_ok) { CHECK_EQ(syscall(SYS_clock_getres, CLOCK_MONOTONIC, NULL), 0); }

TEST(clock_getres_bad_clock_einval)
{
    struct timespec r;
    CHECK_ERRNO(syscall(SYS_clock_getres, 12345, &r), EINVAL);
}

/* ---- gettimeofday ---- */

TEST(gettimeofday_close_to_realtime)
{
    struct timeval tv = {.tv_sec = -1, .tv_usec = -1};
    long long r0 = clock_ns(CLOCK_REALTIME);
    CHECK_EQ(syscall(SYS_gettimeofday, &tv, NULL), 0);
    long long r1 = clock_ns(CLOCK_REALTIME);
    CHECK(tv.tv_usec >= 0 && tv.tv_usec < 1000000);
    long long g = (long long)tv.tv_sec * NS + (long long)tv.tv_usec * 1000;
    CHECK(g >= r0 - 2 * NS);
    CHECK(g <= r1 + 2 * NS);
}

TEST(gettimeofday_null_arguments_ok) { CHECK_EQ(syscall(SYS_gettimeofday, NULL, NULL), 0); }

/* ---- nanosleep ---- */

TEST(nanosleep_20ms_takes_at_least_20ms)
{
    long long t0 = clock_ns(CLOCK_MONOTONIC);
    CHECK_EQ(sys_nanosleep(0, 20000000), 0);
    long long dt = clock_ns(CLOCK_MONOTONIC) - t0;
    CHECK(dt >= 20000000);
    CHECK(dt < 5 * NS);
}

TEST(nanosleep_short_sleeps_never_end_early)
{
    static const long ns[] = {1, 1000, 1000000, 3000000};
    for (size_t i = 0; i < sizeof ns / sizeof ns[0]; i++) {
        long long t0 = clock_ns(CLOCK_MONOTONIC);
        CHECK_EQ(sys_nanosleep(0, ns[i]), 0);
        long long dt = clock_ns(CLOCK_MONOTONIC) - t0;
        if (dt < ns[i])
            FAIL("asked for %ld ns, slept %lld ns", ns[i], dt);
        CHECK(dt < 5 * NS);
    }
}

TEST(nanosleep_zero_returns_zero) { CHECK_EQ(sys_nanosleep(0, 0), 0); }

TEST(nanosleep_nsec_too_large_einval) { CHECK_ERRNO(sys_nanosleep(0, 1000000000), EINVAL); }

TEST(nanosleep_negative_nsec_einval) { CHECK_ERRNO(sys_nanosleep(0, -1), EINVAL); }

TEST(nanosleep_negative_sec_einval) { CHECK_ERRNO(sys_nanosleep(-1, 0), EINVAL); }

TEST(nanosleep_bad_pointer_efault)
{
    volatile uintptr_t bad = 8;
    CHECK_ERRNO(syscall(SYS_nanosleep, (void *)bad, NULL), EFAULT);
}

/* ---- clock_nanosleep ---- */

TEST(clock_nanosleep_relative_monotonic)
{
    long long t0 = clock_ns(CLOCK_MONOTONIC);
    CHECK_EQ(sys_clock_nanosleep(CLOCK_MONOTONIC, 0, 20000000), 0);
    long long dt = clock_ns(CLOCK_MONOTONIC) - t0;
    CHECK(dt >= 20000000);
    CHECK(dt < 5 * NS);
}

TEST(clock_nanosleep_relative_realtime)
{
    long long t0 = clock_ns(CLOCK_MONOTONIC);
    CHECK_EQ(sys_clock_nanosleep(CLOCK_REALTIME, 0, 10000000), 0);
    long long dt = clock_ns(CLOCK_MONOTONIC) - t0;
    CHECK(dt >= 10000000);
    CHECK(dt < 5 * NS);
}

TEST(clock_nanosleep_abstime_monotonic)
{
    long long target = clock_ns(CLOCK_MONOTONIC) + 30000000;
    CHECK_EQ(sys_clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, target), 0);
    long long t = clock_ns(CLOCK_MONOTONIC);
    CHECK(t >= target);
    CHECK(t < target + 5 * NS);
}

TEST(clock_nanosleep_abstime_realtime)
{
    long long target = clock_ns(CLOCK_REALTIME) + 10000000;
    CHECK_EQ(sys_clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, target), 0);
    CHECK(clock_ns(CLOCK_REALTIME) >= target);
}

TEST(clock_nanosleep_abstime_in_past_returns_at_once)
{
    long long t0 = clock_ns(CLOCK_MONOTONIC);
    CHECK_EQ(sys_clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, t0 > NS ? t0 - NS : 0), 0);
    CHECK(clock_ns(CLOCK_MONOTONIC) - t0 < 5 * NS);
}

TEST(clock_nanosleep_bad_clock_einval)
{
    CHECK_ERRNO(sys_clock_nanosleep(12345, 0, 1000), EINVAL);
}

TEST(clock_nanosleep_bad_timespec_einval)
{
    struct timespec t = {.tv_sec = 0, .tv_nsec = NS};
    CHECK_ERRNO(syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, &t, NULL), EINVAL);
    t.tv_nsec = -5;
    CHECK_ERRNO(syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL), EINVAL);
}

/* ---- sched_yield ---- */

TEST(sched_yield_returns_zero)
{
    for (int i = 0; i < 100; i++)
        CHECK_EQ(syscall(SYS_sched_yield), 0);
}
