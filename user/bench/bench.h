/* bench.h - the shared part of the POSIX-X micro-benchmarks (lmbench style, C11, musl or glibc).
 *
 * A benchmark is one program that prints exactly one line on stdout:
 *
 *     bench=NAME unit=UNIT value=X iters=N
 *
 * UNIT is `us` (microseconds per iteration: one round trip, one call, one fork...) or `MB/s`
 * (10^6 bytes per second). On failure it prints `bench-error name=NAME msg=...` on stderr
 * instead and exits 1.
 *
 * The program gives a trial function `double trial(long n)` that runs n iterations and returns
 * the seconds they took (CLOCK_MONOTONIC), set-up (fork, sockets, warm-up) left out of the
 * timed part. bench_main() calibrates: it doubles n from 1 until a trial takes at least a fifth
 * of the target time, scales n to the target, runs that trial and reports it. The target is
 * BENCH_SECONDS from the environment (default 1 s). An alarm ends a benchmark that hangs.
 *
 * Include it first (it defines _GNU_SOURCE).
 *
 * No sleeps: two processes synchronise by the IPC under test (a warm-up round trip before the
 * clock starts).
 */
#ifndef POSIX_X_BENCH_H
#define POSIX_X_BENCH_H

#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Bandwidth benchmarks move data in chunks of this size. */
#define BENCH_CHUNK (64 * 1024)
/* A benchmark still running after this many seconds is killed by SIGALRM. */
#define BENCH_ALARM_SECONDS 60

static const char *bench_name = "?";

static inline double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Ends the benchmark (or a child of it): the message, errno's text if set, exit status 1. */
__attribute__((noreturn, format(printf, 1, 2))) static inline void die(const char *fmt, ...)
{
    int err = errno;
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (err)
        fprintf(stderr, "bench-error name=%s msg=%s: %s\n", bench_name, msg, strerror(err));
    else
        fprintf(stderr, "bench-error name=%s msg=%s\n", bench_name, msg);
    _exit(1);
}

/* Reads exactly len bytes (dies on EOF or error). */
static inline void read_full(int fd, void *buf, size_t len)
{
    char *p = buf;
    while (len > 0) {
        ssize_t r = read(fd, p, len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            die("read");
        if (r == 0) {
            errno = 0;
            die("read: unexpected end of file");
        }
        p += r;
        len -= (size_t)r;
    }
}

/* Writes exactly len bytes (dies on error). */
static inline void write_full(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            die("write");
        p += w;
        len -= (size_t)w;
    }
}

static inline pid_t fork_or_die(void)
{
    pid_t pid = fork();
    if (pid < 0)
        die("fork");
    return pid;
}

/* Waits for a child that ends by itself; dies unless it exited with status 0. */
static inline void reap(pid_t pid)
{
    int status;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR)
            die("waitpid");
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        errno = 0;
        die("child ended with wait status %#x", status);
    }
}

/* Kills a child that loops forever and reaps it. */
static inline void kill_and_reap(pid_t pid)
{
    kill(pid, SIGKILL);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
    }
}

/* One byte (or `size` bytes) each way over a pair of channels, n+1 times: the child side.
 * `rd`/`wr` are the child's ends. Exits the child. */
__attribute__((noreturn)) static inline void pingpong_child(int rd, int wr, size_t size, long n)
{
    char buf[16] = {1};
    for (long i = 0; i <= n; i++) {
        read_full(rd, buf, size);
        write_full(wr, buf, size);
    }
    _exit(0);
}

/* The parent side of pingpong_child: one warm-up round trip, then n timed ones. */
static inline double pingpong_parent(int wr, int rd, size_t size, long n)
{
    char buf[16] = {1};
    write_full(wr, buf, size);
    read_full(rd, buf, size);
    double start = now();
    for (long i = 0; i < n; i++) {
        write_full(wr, buf, size);
        read_full(rd, buf, size);
    }
    return now() - start;
}

/* Bandwidth: the child writes n+1 chunks of BENCH_CHUNK bytes to wr and exits. */
__attribute__((noreturn)) static inline void stream_writer(int wr, long n)
{
    static char chunk[BENCH_CHUNK];
    memset(chunk, 'x', sizeof chunk);
    for (long i = 0; i <= n; i++)
        write_full(wr, chunk, sizeof chunk);
    _exit(0);
}

/* The reading side of stream_writer: the first chunk is the warm-up, the next n are timed. */
static inline double stream_reader(int rd, long n)
{
    static char chunk[BENCH_CHUNK];
    read_full(rd, chunk, sizeof chunk);
    double start = now();
    for (long i = 0; i < n; i++)
        read_full(rd, chunk, sizeof chunk);
    return now() - start;
}

/* What to measure and how to report it. */
struct bench {
    const char *name;
    /* Bytes moved per iteration for a bandwidth (MB/s); 0 for a latency (us per iteration). */
    double bytes_per_iter;
    double (*trial)(long n);
};

static inline double target_seconds(void)
{
    const char *s = getenv("BENCH_SECONDS");
    double t = s ? atof(s) : 0.0;
    return t > 0.0 ? t : 1.0;
}

static inline int bench_main(const struct bench *b)
{
    bench_name = b->name;
    signal(SIGPIPE, SIG_IGN); /* a peer that died shows up as EPIPE, reported by die() */
    alarm(BENCH_ALARM_SECONDS);
    double target = target_seconds();
    long n = 1;
    double t;
    for (;;) {
        t = b->trial(n);
        if (t >= target / 5.0)
            break;
        if (n > (1L << 40)) {
            errno = 0;
            die("calibration: %ld iterations took %g s (is the clock running?)", n, t);
        }
        n *= 2;
    }
    /* Scale to the target; a trial that already took longer is kept as it is. */
    if (t < target) {
        n = (long)((double)n * target / t) + 1;
        t = b->trial(n);
    }
    double value = b->bytes_per_iter > 0 ? b->bytes_per_iter * (double)n / t / 1e6 : t / (double)n * 1e6;
    printf("bench=%s unit=%s value=%.4g iters=%ld\n", b->name, b->bytes_per_iter > 0 ? "MB/s" : "us", value, n);
    fflush(stdout);
    return 0;
}

#endif
