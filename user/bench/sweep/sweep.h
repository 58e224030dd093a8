/* sweep.h - the shared part of the sweeps (docs/benchmarks.md, "Sweeps"): one program measures a
 * cost at several sizes and prints one line per point,
 *
 *     bench=SERIES@X unit=UNIT value=V iters=N
 *
 * where X is the size (fds, processes, MiB, clients...) and UNIT is `us` (per iteration), `/s`
 * (operations per second) or `B` (bytes per object). A point that fails prints
 * `bench-error name=SERIES@X msg=...` and ends the program (exit status 1).
 *
 * A point is measured like a benchmark of bench.h: its set-up done once, then trials of n
 * iterations with n doubling until one takes a fifth of BENCH_SECONDS, scaled to BENCH_SECONDS.
 * With BENCH_SWEEP_CHECK=1 in the environment (`cargo xtask test`) only the smallest size of each
 * series runs, with one short trial: a correctness check, not a timing.
 *
 * Include it first. */
#ifndef POSIX_X_SWEEP_H
#define POSIX_X_SWEEP_H

#include "../bench.h"

#include <sys/resource.h>
#include <sys/utsname.h>

/* The name of the point being measured (for die()). */
static char sweep_point_name[96];

static inline int sweep_check(void)
{
    const char *s = getenv("BENCH_SWEEP_CHECK");
    return s && *s && strcmp(s, "0") != 0;
}

/* The sizes of a series: all of `sizes` (ending with -1), or only the first in check mode. */
#define SWEEP_FOR(x, sizes) \
    for (const long *x##_p = (sizes); *x##_p >= 0 && (x##_p == (sizes) || !sweep_check()); x##_p++) \
        for (long x = *x##_p, x##_once = 1; x##_once; x##_once = 0)

/* Names the point for die(); call before its set-up. */
static inline void sweep_begin(const char *series, long x)
{
    snprintf(sweep_point_name, sizeof sweep_point_name, "%s@%ld", series, x);
    bench_name = sweep_point_name;
}

/* Measures the point named by sweep_begin: trial(n) runs n iterations and returns the seconds
 * they took. As a rate (`rate`): per_iter * n / t operations per second; otherwise the
 * microseconds per 1/per_iter of an iteration (per_iter hops in one round of a ring...). */
static inline void sweep_measure_as(double (*trial)(long n), int rate, double per_iter)
{
    double target = sweep_check() ? 0.0 : target_seconds();
    long n = 1;
    double t = trial(n);
    while (t < target / 5.0) {
        if (n > (1L << 40)) {
            errno = 0;
            die("calibration: %ld iterations took %g s (is the clock running?)", n, t);
        }
        n *= 2;
        t = trial(n);
    }
    if (t < target) {
        n = (long)((double)n * target / t) + 1;
        t = trial(n);
    }
    if (t <= 0)
        t = 1e-9;
    double value = rate ? per_iter * (double)n / t : t / ((double)n * per_iter) * 1e6;
    printf("bench=%s unit=%s value=%.4g iters=%ld\n", sweep_point_name, rate ? "/s" : "us", value, n);
    fflush(stdout);
}

/* Microseconds per iteration. */
static inline void sweep_measure(double (*trial)(long n))
{
    sweep_measure_as(trial, 0, 1.0);
}

/* Operations per second, ops_per_iter in one iteration. */
static inline void sweep_measure_rate(double (*trial)(long n), double ops_per_iter)
{
    sweep_measure_as(trial, 1, ops_per_iter);
}

/* Prints a point measured otherwise (bytes per object). */
static inline void sweep_report(const char *unit, double value, long iters)
{
    printf("bench=%s unit=%s value=%.4g iters=%ld\n", sweep_point_name, unit, value, iters);
    fflush(stdout);
}

/* Every sweep starts here: SIGPIPE off, an alarm against hangs (longer than a benchmark's: a
 * sweep measures many points), and enough descriptors for the big sizes. */
static inline void sweep_start(const char *program, long fds_needed)
{
    bench_name = program;
    signal(SIGPIPE, SIG_IGN);
    alarm(sweep_check() ? 120 : 900);
    if (fds_needed > 0) {
        struct rlimit r;
        if (getrlimit(RLIMIT_NOFILE, &r) < 0)
            die("getrlimit(RLIMIT_NOFILE)");
        rlim_t want = (rlim_t)fds_needed + 64;
        if (r.rlim_cur < want) {
            struct rlimit more = {want, r.rlim_max > want ? r.rlim_max : want};
            /* Without the privilege to raise the hard limit (a host's container): up to it; a
             * point that needs more fails with EMFILE and says so. */
            if (setrlimit(RLIMIT_NOFILE, &more) < 0) {
                more.rlim_cur = more.rlim_max = r.rlim_max;
                if (setrlimit(RLIMIT_NOFILE, &more) < 0)
                    die("setrlimit(RLIMIT_NOFILE, %ld)", (long)r.rlim_max);
            }
        }
    }
}

/* Runs on POSIX-X (uname's version names it). */
static inline int on_posix_x(void)
{
    struct utsname u;
    return uname(&u) == 0 && strstr(u.version, "POSIX-X") != NULL;
}

/* The path of a tool next to the sweeps: DIR/../tools/NAME for argv[0] = DIR/PROGRAM. */
static inline void tool_path(char *out, size_t size, const char *argv0, const char *tool)
{
    const char *slash = strrchr(argv0, '/');
    int dir = slash ? (int)(slash - argv0) : 1;
    snprintf(out, size, "%.*s/../tools/%s", dir, slash ? argv0 : ".", tool);
}

#endif
