/* cputime.c - CPU time: CLOCK_THREAD_CPUTIME_ID and CLOCK_PROCESS_CPUTIME_ID (work advances
 * them, sleeping does not), another process's CPU clock (clock_getcpuclockid), clock_getres,
 * getrusage (RUSAGE_SELF user and system time, RUSAGE_CHILDREN after wait and with
 * grandchildren, RUSAGE_THREAD), wait4's and waitid's rusage, times(), ITIMER_VIRTUAL and
 * ITIMER_PROF (SIGVTALRM, SIGPROF on CPU time only, periodic, not inherited by fork),
 * sched_setaffinity/sched_getaffinity.
 * Time is asserted in orderings and generous bounds (CPU time never exceeds wall time plus a
 * slack; work of N ms of CPU shows at least half of it), never exact durations.
 * Syscalls: clock_gettime, clock_getres, getrusage, times, setitimer, getitimer, fork, wait4,
 * sched_setaffinity, sched_getaffinity, setuid.
 */
#define _GNU_SOURCE
#define TEST_MAIN
#include "test.h"

#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/times.h>
#include <sys/wait.h>

#include "children.h"

#define MS 1000000LL

static long long clock_of(clockid_t c)
{
    struct timespec t;
    if (syscall(SYS_clock_gettime, c, &t) != 0)
        return -1;
    return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static long long tv_ns(struct timeval t) { return (long long)t.tv_sec * 1000000000LL + t.tv_usec * 1000LL; }

/* Burns `ms` of this process's CPU time in user mode (bounded by 20 s of wall time). */
static void spin_cpu(long long ms)
{
    long long end = clock_of(CLOCK_PROCESS_CPUTIME_ID) + ms * MS;
    long long give_up = now_ns() + 20000 * MS;
    volatile unsigned long x = 0;
    while (clock_of(CLOCK_PROCESS_CPUTIME_ID) < end && now_ns() < give_up)
        for (int i = 0; i < 10000; i++)
            x += i;
}

TEST(cpu_clocks_advance_with_work_and_never_outrun_the_wall_clock)
{
    long long w0 = now_ns(), t0 = clock_of(CLOCK_THREAD_CPUTIME_ID),
              p0 = clock_of(CLOCK_PROCESS_CPUTIME_ID);
    CHECK(t0 >= 0 && p0 >= t0);
    spin_cpu(60);
    long long w1 = now_ns(), t1 = clock_of(CLOCK_THREAD_CPUTIME_ID),
              p1 = clock_of(CLOCK_PROCESS_CPUTIME_ID);
    CHECK(p1 - p0 >= 60 * MS);
    CHECK(t1 - t0 >= 30 * MS);
    /* One thread: no more CPU than wall time went by (a tick's slack). */
    CHECK(t1 - t0 <= w1 - w0 + 5 * MS);
    CHECK(p1 >= t1);
}

TEST(sleeping_costs_no_cpu_time)
{
    long long c0 = clock_of(CLOCK_THREAD_CPUTIME_ID);
    struct timespec t = {0, 150 * MS};
    CHECK_EQ(nanosleep(&t, NULL), 0);
    long long c1 = clock_of(CLOCK_THREAD_CPUTIME_ID);
    CHECK(c1 >= c0);
    CHECK(c1 - c0 < 75 * MS);
}

TEST(cpu_clock_resolution)
{
    struct timespec r = {-1, -1};
    CHECK_EQ(syscall(SYS_clock_getres, CLOCK_PROCESS_CPUTIME_ID, &r), 0);
    CHECK(r.tv_sec == 0 && r.tv_nsec == 1);
    CHECK_EQ(syscall(SYS_clock_getres, CLOCK_THREAD_CPUTIME_ID, &r), 0);
    CHECK(r.tv_sec == 0 && r.tv_nsec == 1);
    clockid_t c;
    CHECK_EQ(clock_getcpuclockid(getpid(), &c), 0);
    CHECK_EQ(syscall(SYS_clock_getres, c, &r), 0);
    CHECK(r.tv_sec == 0 && r.tv_nsec == 1);
}

TEST(another_process_cpu_clock)
{
    int up[2], down[2];
    CHECK_OK(pipe(up));
    CHECK_OK(pipe(down));
    pid_t pid = fork();
    if (pid == 0) {
        spin_cpu(40);
        write_byte(up[1], 1);
        read_byte(down[0]);
        _exit(0);
    }
    CHECK_EQ(read_byte(up[0]), 1);
    clockid_t c;
    int got_id = clock_getcpuclockid(pid, &c);
    long long v = got_id == 0 ? clock_of(c) : -1;
    /* The same clock by hand: ~pid << 3 | CPUCLOCK_SCHED; the VIRT flavour (user time only). */
    long long by_hand = clock_of((clockid_t)((~(unsigned)pid << 3) | 2));
    long long virt = clock_of((clockid_t)((~(unsigned)pid << 3) | 1));
    long long again = got_id == 0 ? clock_of(c) : -1;
    /* Release the child before any check can end the case. */
    write_byte(down[1], 1);
    CHECK_CHILD_OK(pid);
    CHECK_EQ(got_id, 0);
    CHECK(c < 0);
    if (v < 40 * MS)
        FAIL("child's clock %lld", v);
    CHECK(by_hand >= v);
    /* Linux samples user time at ticks: it may read a little over the exact total. */
    CHECK(virt > 0 && virt <= again + 20 * MS);
    /* Reaped: the clock names nothing. */
    struct timespec t;
    CHECK_ERRNO(syscall(SYS_clock_gettime, c, &t), EINVAL);
    /* which == 3 is not a clock; nor is another process's thread clock. */
    CHECK_ERRNO(syscall(SYS_clock_gettime, (clockid_t)((~(unsigned)getpid() << 3) | 3), &t), EINVAL);
    CHECK_ERRNO(syscall(SYS_clock_gettime, (clockid_t)((~1u << 3) | 4 | 2), &t), EINVAL);
    close(up[0]);
    close(up[1]);
    close(down[0]);
    close(down[1]);
}

TEST(getrusage_self_counts_user_and_system_time)
{
    struct rusage r0, r1;
    CHECK_EQ(getrusage(RUSAGE_SELF, &r0), 0);
    spin_cpu(60);
    CHECK_EQ(getrusage(RUSAGE_SELF, &r1), 0);
    CHECK(tv_ns(r1.ru_utime) - tv_ns(r0.ru_utime) >= 30 * MS);
    CHECK(tv_ns(r1.ru_stime) >= tv_ns(r0.ru_stime));
    /* System calls cost system time (bounded: 10 s of wall time). */
    long long give_up = now_ns() + 10000 * MS;
    do {
        for (int i = 0; i < 2000; i++)
            syscall(SYS_getppid);
        CHECK_EQ(getrusage(RUSAGE_SELF, &r1), 0);
    } while (tv_ns(r1.ru_stime) - tv_ns(r0.ru_stime) < 2 * MS && now_ns() < give_up);
    CHECK(tv_ns(r1.ru_stime) - tv_ns(r0.ru_stime) >= 2 * MS);
    /* usecs are normalized. */
    CHECK(r1.ru_utime.tv_usec >= 0 && r1.ru_utime.tv_usec < 1000000);
    CHECK(r1.ru_stime.tv_usec >= 0 && r1.ru_stime.tv_usec < 1000000);
}

TEST(getrusage_thread_and_errors)
{
    struct rusage self, thread;
    spin_cpu(20);
    CHECK_EQ(getrusage(RUSAGE_THREAD, &thread), 0);
    CHECK_EQ(getrusage(RUSAGE_SELF, &self), 0);
    CHECK(tv_ns(thread.ru_utime) + tv_ns(thread.ru_stime) >= 10 * MS);
    CHECK(tv_ns(thread.ru_utime) + tv_ns(thread.ru_stime) <=
          tv_ns(self.ru_utime) + tv_ns(self.ru_stime) + 5 * MS);
    CHECK_ERRNO(syscall(SYS_getrusage, 2, &self), EINVAL);
    CHECK_ERRNO(syscall(SYS_getrusage, -2, &self), EINVAL);
    CHECK_ERRNO(syscall(SYS_getrusage, RUSAGE_SELF, bad_ptr(0x10)), EFAULT);
}

TEST(children_time_counts_after_wait_including_grandchildren)
{
    struct rusage c0, c1;
    struct tms t0, t1;
    CHECK_EQ(getrusage(RUSAGE_CHILDREN, &c0), 0);
    CHECK(times(&t0) != (clock_t)-1);
    int up[2];
    CHECK_OK(pipe(up));
    pid_t pid = fork();
    if (pid == 0) {
        pid_t g = fork();
        if (g == 0) {
            spin_cpu(40);
            _exit(0);
        }
        CCHECK(child_status(g) == 0);
        spin_cpu(40);
        write_byte(up[1], 1);
        _exit(0);
    }
    CHECK_EQ(read_byte(up[0]), 1);
    /* Not waited for yet: not counted. */
    CHECK_EQ(getrusage(RUSAGE_CHILDREN, &c1), 0);
    CHECK_EQ(tv_ns(c1.ru_utime) + tv_ns(c1.ru_stime), tv_ns(c0.ru_utime) + tv_ns(c0.ru_stime));
    CHECK_CHILD_OK(pid);
    CHECK_EQ(getrusage(RUSAGE_CHILDREN, &c1), 0);
    long long got = tv_ns(c1.ru_utime) + tv_ns(c1.ru_stime) - tv_ns(c0.ru_utime) - tv_ns(c0.ru_stime);
    /* The child's 40 ms and its reaped child's 40 ms. */
    CHECK(got >= 80 * MS);
    CHECK(times(&t1) != (clock_t)-1);
    long hz = sysconf(_SC_CLK_TCK);
    CHECK_EQ(hz, 100);
    CHECK((t1.tms_cutime + t1.tms_cstime) - (t0.tms_cutime + t0.tms_cstime) >= 7);
    close(up[0]);
    close(up[1]);
}

TEST(wait4_and_waitid_report_the_childs_time)
{
    pid_t pid = fork();
    if (pid == 0) {
        spin_cpu(40);
        _exit(0);
    }
    struct rusage ru;
    memset(&ru, 0xff, sizeof ru);
    int st;
    CHECK_EQ(wait4(pid, &st, 0, &ru), pid);
    CHECK(tv_ns(ru.ru_utime) + tv_ns(ru.ru_stime) >= 30 * MS);
    CHECK(ru.ru_utime.tv_usec >= 0 && ru.ru_utime.tv_usec < 1000000);
    pid = fork();
    if (pid == 0) {
        spin_cpu(40);
        _exit(0);
    }
    siginfo_t si;
    memset(&ru, 0xff, sizeof ru);
    CHECK_EQ(syscall(SYS_waitid, P_PID, pid, &si, WEXITED, &ru), 0);
    CHECK_EQ(si.si_pid, pid);
    CHECK(tv_ns(ru.ru_utime) + tv_ns(ru.ru_stime) >= 30 * MS);
}

TEST(times_counts_this_process_and_the_clock)
{
    struct tms a, b;
    clock_t r0 = times(&a);
    spin_cpu(50);
    clock_t r1 = times(&b);
    CHECK(r1 >= r0 + 4);
    CHECK((b.tms_utime + b.tms_stime) - (a.tms_utime + a.tms_stime) >= 3);
    /* A NULL buffer is allowed; a bad one is EFAULT. */
    CHECK(syscall(SYS_times, NULL) > 0);
    CHECK_ERRNO(syscall(SYS_times, bad_ptr(0x10)), EFAULT);
}

/* ---- ITIMER_VIRTUAL, ITIMER_PROF ---- */

static volatile sig_atomic_t vt_count, prof_count;
static void on_vtalrm(int s) { (void)s; vt_count++; }
static void on_prof(int s) { (void)s; prof_count++; }

/* Spins until *count reaches n or 10 s of wall time pass; returns the CPU time it took. */
static long long spin_until(volatile sig_atomic_t *count, int n)
{
    long long c0 = clock_of(CLOCK_PROCESS_CPUTIME_ID);
    long long give_up = now_ns() + 10000 * MS;
    volatile unsigned long x = 0;
    while (*count < n && now_ns() < give_up)
        for (int i = 0; i < 1000; i++)
            x += i;
    return clock_of(CLOCK_PROCESS_CPUTIME_ID) - c0;
}

TEST(itimer_virtual_fires_on_user_time)
{
    signal(SIGVTALRM, on_vtalrm);
    vt_count = 0;
    struct itimerval v = {{0, 0}, {0, 40000}}, cur;
    CHECK_EQ(setitimer(ITIMER_VIRTUAL, &v, NULL), 0);
    CHECK_EQ(getitimer(ITIMER_VIRTUAL, &cur), 0);
    /* Linux samples CPU time at ticks, so what is left may read a little over the value. */
    CHECK(cur.it_value.tv_sec == 0 && cur.it_value.tv_usec > 0 && cur.it_value.tv_usec <= 100000);
    long long used = spin_until(&vt_count, 1);
    CHECK_EQ(vt_count, 1);
    /* Not at once (Linux's sampled user time may run a few ticks ahead of the exact clock). */
    CHECK(used >= 20 * MS);
    CHECK_EQ(getitimer(ITIMER_VIRTUAL, &cur), 0);
    CHECK(cur.it_value.tv_sec == 0 && cur.it_value.tv_usec == 0);
    signal(SIGVTALRM, SIG_DFL);
}

TEST(itimer_virtual_does_not_run_while_sleeping)
{
    signal(SIGVTALRM, on_vtalrm);
    vt_count = 0;
    struct itimerval v = {{0, 0}, {0, 30000}}, cur, off = {{0, 0}, {0, 0}};
    CHECK_EQ(setitimer(ITIMER_VIRTUAL, &v, NULL), 0);
    struct timespec t = {0, 150 * MS};
    CHECK_EQ(nanosleep(&t, NULL), 0);
    CHECK_EQ(vt_count, 0);
    CHECK_EQ(getitimer(ITIMER_VIRTUAL, &cur), 0);
    CHECK(cur.it_value.tv_usec > 10000);
    /* Not inherited by a fork child. */
    pid_t pid = fork();
    if (pid == 0) {
        struct itimerval c;
        CCHECK(getitimer(ITIMER_VIRTUAL, &c) == 0);
        CCHECK(c.it_value.tv_sec == 0 && c.it_value.tv_usec == 0);
        _exit(0);
    }
    CHECK_CHILD_OK(pid);
    CHECK_EQ(setitimer(ITIMER_VIRTUAL, &off, &cur), 0);
    CHECK(cur.it_value.tv_usec > 0);
    signal(SIGVTALRM, SIG_DFL);
}

TEST(itimer_prof_is_periodic)
{
    signal(SIGPROF, on_prof);
    prof_count = 0;
    struct itimerval v = {{0, 10000}, {0, 10000}}, off = {{0, 0}, {0, 0}}, old;
    CHECK_EQ(setitimer(ITIMER_PROF, &v, NULL), 0);
    long long used = spin_until(&prof_count, 3);
    CHECK(prof_count >= 3);
    CHECK(used >= 20 * MS);
    CHECK_EQ(setitimer(ITIMER_PROF, &off, &old), 0);
    CHECK(old.it_interval.tv_usec == 10000);
    signal(SIGPROF, SIG_DFL);
}

TEST(itimer_errors)
{
    struct itimerval v = {{0, 0}, {0, 1000000}}, cur;
    CHECK_ERRNO(syscall(SYS_setitimer, 3, &v, NULL), EINVAL);
    CHECK_ERRNO(syscall(SYS_getitimer, 3, &cur), EINVAL);
    CHECK_ERRNO(syscall(SYS_setitimer, ITIMER_VIRTUAL, &v, NULL), EINVAL);
    CHECK_ERRNO(syscall(SYS_getitimer, ITIMER_PROF, bad_ptr(0x10)), EFAULT);
}

/* ---- affinity ---- */

TEST(sched_getaffinity_sizes_and_errors)
{
    unsigned long mask[16] = {0};
    long n = syscall(SYS_sched_getaffinity, 0, sizeof mask, mask);
    CHECK(n >= 8 && n % 8 == 0 && n <= (long)sizeof mask);
    int any = 0;
    for (long i = 0; i < n / 8; i++)
        any |= mask[i] != 0;
    CHECK(any);
    if (on_posix_x()) {
        /* Every CPU that runs, as many as /proc/cpuinfo shows. */
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        CHECK_EQ(n, 8);
        CHECK_EQ(mask[0], (1UL << cpus) - 1);
    }
    CHECK_ERRNO(syscall(SYS_sched_getaffinity, 0, 0, mask), EINVAL);
    CHECK_ERRNO(syscall(SYS_sched_getaffinity, 0, 4, mask), EINVAL);
    CHECK_ERRNO(syscall(SYS_sched_getaffinity, 0, 12, mask), EINVAL);
    CHECK_ERRNO(syscall(SYS_sched_getaffinity, -1, sizeof mask, mask), ESRCH);
    CHECK_ERRNO(syscall(SYS_sched_getaffinity, INT_MAX, sizeof mask, mask), ESRCH);
    CHECK_ERRNO(syscall(SYS_sched_getaffinity, 0, sizeof mask, bad_ptr(0x10)), EFAULT);
    /* glibc's and musl's wrappers. */
    cpu_set_t set;
    CHECK_EQ(sched_getaffinity(0, sizeof set, &set), 0);
    CHECK(CPU_COUNT(&set) >= 1);
}

TEST(sched_setaffinity_takes_a_mask_with_an_existing_cpu)
{
    unsigned long mask[16] = {0};
    long n = syscall(SYS_sched_getaffinity, 0, sizeof mask, mask);
    CHECK(n > 0);
    CHECK_EQ(syscall(SYS_sched_setaffinity, 0, sizeof mask, mask), 0);
    CHECK_EQ(syscall(SYS_sched_setaffinity, getpid(), n, mask), 0);
    /* Only CPUs that do not exist (the last bit of 1024): EINVAL; an empty mask too. */
    unsigned long none[16] = {0};
    CHECK_ERRNO(syscall(SYS_sched_setaffinity, 0, sizeof none, none), EINVAL);
    CHECK_ERRNO(syscall(SYS_sched_setaffinity, 0, 0, mask), EINVAL);
    none[15] = 1UL << 63;
    CHECK_ERRNO(syscall(SYS_sched_setaffinity, 0, sizeof none, none), EINVAL);
    CHECK_ERRNO(syscall(SYS_sched_setaffinity, 0, sizeof mask, bad_ptr(0x10)), EFAULT);
    CHECK_ERRNO(syscall(SYS_sched_setaffinity, INT_MAX, sizeof mask, mask), ESRCH);
    /* Still what it was. */
    unsigned long after[16] = {0};
    CHECK_EQ(syscall(SYS_sched_getaffinity, 0, sizeof after, after), n);
    CHECK(memcmp(after, mask, n) == 0);
}

TEST(sched_setaffinity_of_another_users_process_is_eperm)
{
    pid_t pid = fork();
    if (pid == 0) {
        CCHECK(setgid(65534) == 0 && setuid(65534) == 0);
        unsigned long mask[16] = {0};
        long n = syscall(SYS_sched_getaffinity, 0, sizeof mask, mask);
        CCHECK(n > 0);
        CERRNO(syscall(SYS_sched_setaffinity, 1, sizeof mask, mask), EPERM);
        /* Reading another user's mask is allowed. */
        CCHECK(syscall(SYS_sched_getaffinity, 1, sizeof mask, mask) == n);
        CCHECK(syscall(SYS_sched_setaffinity, 0, sizeof mask, mask) == 0);
        _exit(0);
    }
    CHECK_CHILD_OK(pid);
}
