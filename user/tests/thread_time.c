/* thread_time.c - the futex and time rules only threads show (musl and glibc pthreads): per-thread
 * CPU clocks (a spinning thread's clock advances, a sleeping one's does not; pthread_getcpuclockid
 * from a sibling), the process clock and RUSAGE_SELF keeping a joined thread's time,
 * RUSAGE_THREAD per thread; a SIGEV_THREAD_ID timer signalling one chosen thread; robust and
 * priority-inheritance mutexes between threads (a thread that exits holding a robust one gives
 * EOWNERDEAD to the next locker; PI contention), futex_waitv between threads; rseq registered per
 * thread, not inherited by a new thread; membarrier between threads.
 * Synchronisation: joins, condition of atomics with sched_yield, never sleeps for ordering.
 * Syscalls: clone (pthread_create), futex, futex_waitv, timer_create, clock_gettime, getrusage,
 * rseq, membarrier.
 */
#define _GNU_SOURCE
#define TEST_MAIN
#include "test.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>

#define MS 1000000LL
#ifndef SIGEV_THREAD_ID
#define SIGEV_THREAD_ID 4
#endif
#ifndef SYS_futex_waitv
#define SYS_futex_waitv 449
#endif

static long long clock_of(clockid_t c)
{
    struct timespec t;
    if (clock_gettime(c, &t) != 0)
        return -1;
    return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static long long tv_ns(struct timeval t) { return (long long)t.tv_sec * 1000000000LL + t.tv_usec * 1000LL; }

static void spin_thread_cpu(long long ms)
{
    long long end = clock_of(CLOCK_THREAD_CPUTIME_ID) + ms * MS;
    long long give_up = now_ns() + 20000 * MS;
    volatile unsigned long x = 0;
    while (clock_of(CLOCK_THREAD_CPUTIME_ID) < end && now_ns() < give_up)
        for (int i = 0; i < 10000; i++)
            x += i;
}

static atomic_int stage;

static void wait_stage(int s)
{
    long long give_up = now_ns() + 20000 * MS;
    while (atomic_load(&stage) < s && now_ns() < give_up)
        sched_yield();
}

static void *spinner(void *arg)
{
    (void)arg;
    spin_thread_cpu(60);
    atomic_store(&stage, 1);
    wait_stage(2);
    return NULL;
}

TEST(each_thread_has_its_own_cpu_clock_and_the_process_keeps_the_sum)
{
    atomic_store(&stage, 0);
    long long main0 = clock_of(CLOCK_THREAD_CPUTIME_ID);
    long long proc0 = clock_of(CLOCK_PROCESS_CPUTIME_ID);
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, spinner, NULL), 0);
    /* Sleep (blocked, no CPU) until the spinner is done. */
    while (atomic_load(&stage) < 1) {
        struct timespec d = {0, 5 * MS};
        nanosleep(&d, NULL);
    }
    clockid_t c;
    CHECK_EQ(pthread_getcpuclockid(t, &c), 0);
    long long other = clock_of(c);
    long long mine = clock_of(CLOCK_THREAD_CPUTIME_ID) - main0;
    struct rusage self, thread;
    CHECK_EQ(getrusage(RUSAGE_THREAD, &thread), 0);
    atomic_store(&stage, 2);
    CHECK_EQ(pthread_join(t, NULL), 0);
    CHECK(other >= 60 * MS);
    CHECK(mine < other);
    /* The joined thread's time stays in the process's. */
    CHECK(clock_of(CLOCK_PROCESS_CPUTIME_ID) - proc0 >= 60 * MS);
    CHECK_EQ(getrusage(RUSAGE_SELF, &self), 0);
    CHECK(tv_ns(self.ru_utime) + tv_ns(self.ru_stime) >= 60 * MS);
    CHECK(tv_ns(thread.ru_utime) + tv_ns(thread.ru_stime) <
          tv_ns(self.ru_utime) + tv_ns(self.ru_stime));
}

/* ---- SIGEV_THREAD_ID ---- */

static atomic_int got_tid;

static void on_timer(int sig)
{
    (void)sig;
    atomic_store(&got_tid, (int)syscall(SYS_gettid));
}

static atomic_int target_tid;

static void *target_thread(void *arg)
{
    sigset_t *set = arg;
    /* It inherited the main thread's mask, which blocks the signal. */
    pthread_sigmask(SIG_UNBLOCK, set, NULL);
    atomic_store(&target_tid, (int)syscall(SYS_gettid));
    long long give_up = now_ns() + 20000 * MS;
    while (atomic_load(&got_tid) == 0 && now_ns() < give_up) {
        struct timespec d = {0, 1 * MS};
        nanosleep(&d, NULL);
    }
    return NULL;
}

TEST(sigev_thread_id_signals_the_chosen_thread)
{
    int sig = SIGRTMIN + 6;
    signal(sig, on_timer);
    atomic_store(&got_tid, 0);
    atomic_store(&target_tid, 0);
    /* The main thread blocks the signal: only the target may take it. */
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, sig);
    pthread_sigmask(SIG_BLOCK, &set, &old);
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, target_thread, &set), 0);
    while (atomic_load(&target_tid) == 0)
        sched_yield();
    struct {
        union {
            int i;
            void *p;
        } value;
        int signo, notify, tid, pad[11];
    } ev;
    memset(&ev, 0, sizeof ev);
    ev.signo = sig;
    ev.notify = SIGEV_THREAD_ID;
    ev.tid = atomic_load(&target_tid);
    int id;
    CHECK_EQ(syscall(SYS_timer_create, CLOCK_MONOTONIC, &ev, &id), 0);
    struct itimerspec s = {{0, 0}, {0, 10 * MS}};
    CHECK_EQ(syscall(SYS_timer_settime, id, 0, &s, NULL), 0);
    CHECK_EQ(pthread_join(t, NULL), 0);
    CHECK_EQ(atomic_load(&got_tid), atomic_load(&target_tid));
    CHECK_EQ(syscall(SYS_timer_delete, id), 0);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    signal(sig, SIG_DFL);
}

/* ---- mutexes ---- */

static pthread_mutex_t robust;

static void *lock_and_exit(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&robust);
    return NULL;
}

TEST(a_thread_exiting_with_a_robust_mutex_gives_eownerdead)
{
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
    CHECK_EQ(pthread_mutex_init(&robust, &a), 0);
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, lock_and_exit, NULL), 0);
    CHECK_EQ(pthread_join(t, NULL), 0);
    CHECK_EQ(pthread_mutex_lock(&robust), EOWNERDEAD);
    CHECK_EQ(pthread_mutex_consistent(&robust), 0);
    CHECK_EQ(pthread_mutex_unlock(&robust), 0);
    CHECK_EQ(pthread_mutex_lock(&robust), 0);
    CHECK_EQ(pthread_mutex_unlock(&robust), 0);
    pthread_mutex_destroy(&robust);
}

static pthread_mutex_t pi;
static long counter;

static void *pi_worker(void *arg)
{
    (void)arg;
    for (int i = 0; i < 2000; i++) {
        pthread_mutex_lock(&pi);
        counter++;
        if (i % 64 == 0)
            sched_yield(); /* held across a switch: the other thread must sleep in LOCK_PI */
        pthread_mutex_unlock(&pi);
    }
    return NULL;
}

TEST(priority_inheritance_mutex_between_threads)
{
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    if (pthread_mutexattr_setprotocol(&a, PTHREAD_PRIO_INHERIT) != 0)
        SKIP("the C library has no priority-inheritance mutexes");
    CHECK_EQ(pthread_mutex_init(&pi, &a), 0);
    counter = 0;
    pthread_t t[3];
    for (int i = 0; i < 3; i++)
        CHECK_EQ(pthread_create(&t[i], NULL, pi_worker, NULL), 0);
    for (int i = 0; i < 3; i++)
        CHECK_EQ(pthread_join(t[i], NULL), 0);
    CHECK_EQ(counter, 6000);
    /* Relocking an owned error-checking PI mutex is EDEADLK. */
    pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ERRORCHECK);
    pthread_mutex_destroy(&pi);
    CHECK_EQ(pthread_mutex_init(&pi, &a), 0);
    CHECK_EQ(pthread_mutex_lock(&pi), 0);
    CHECK_EQ(pthread_mutex_lock(&pi), EDEADLK);
    CHECK_EQ(pthread_mutex_unlock(&pi), 0);
    pthread_mutex_destroy(&pi);
}

/* ---- futex_waitv ---- */

static _Atomic uint32_t words[4];

struct waitv {
    uint64_t val, uaddr;
    uint32_t flags, reserved;
};

static void *waker(void *arg)
{
    (void)arg;
    wait_stage(1);
    /* The waiter may not sleep yet: wake until it was. */
    long long give_up = now_ns() + 20000 * MS;
    while (atomic_load(&stage) < 2 && now_ns() < give_up) {
        atomic_store(&words[3], 1);
        syscall(SYS_futex, &words[3], 129 /* FUTEX_WAKE_PRIVATE */, 1, NULL, NULL, 0);
        sched_yield();
    }
    return NULL;
}

TEST(futex_waitv_between_threads)
{
    atomic_store(&stage, 0);
    for (int i = 0; i < 4; i++)
        atomic_store(&words[i], 0);
    struct waitv v[4];
    for (int i = 0; i < 4; i++) {
        v[i].val = 0;
        v[i].uaddr = (uintptr_t)&words[i];
        v[i].flags = 2 | 128; /* FUTEX2_SIZE_U32 | FUTEX2_PRIVATE */
        v[i].reserved = 0;
    }
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, waker, NULL), 0);
    atomic_store(&stage, 1);
    long r;
    do
        r = syscall(SYS_futex_waitv, v, 4, 0, NULL, 0);
    while (r == -1 && errno == EINTR);
    atomic_store(&stage, 2);
    CHECK_EQ(pthread_join(t, NULL), 0);
    /* Woken on word 3, or found it changed already. */
    CHECK(r == 3 || (r == -1 && errno == EAGAIN));
}

/* ---- rseq, membarrier ---- */

struct rseq_area {
    uint32_t cpu_id_start, cpu_id;
    uint64_t rseq_cs;
    uint32_t flags, node_id, mm_cid;
} __attribute__((aligned(32)));

static struct rseq_area areas[2];

static void *register_rseq(void *arg)
{
    (void)arg;
    /* A new thread starts without the C library's registration, or with its own. */
    long r = syscall(334, &areas[1], sizeof areas[1], 0, 0x53053053);
    /* EINVAL: the C library registered another area for this thread. */
    if (r == 0)
        return syscall(334, &areas[1], sizeof areas[1], 1, 0x53053053) == 0 ? NULL : (void *)1;
    return (void *)(intptr_t)(errno == EINVAL ? 0 : errno);
}

TEST(rseq_is_per_thread)
{
    long r = syscall(334, &areas[0], sizeof areas[0], 0, 0x53053053);
    int mine = r == 0;
    /* EINVAL: the C library (glibc) registered its own area for this thread. */
    if (!mine && errno != EINVAL)
        FAIL("rseq: %s", strerror(errno));
    pthread_t t;
    void *res;
    CHECK_EQ(pthread_create(&t, NULL, register_rseq, NULL), 0);
    CHECK_EQ(pthread_join(t, &res), 0);
    CHECK(res == NULL);
    if (mine) {
        /* The other thread's area was not ours: ours stays registered. */
        CHECK_ERRNO(syscall(334, &areas[0], sizeof areas[0], 0, 0x53053053), EBUSY);
        CHECK_EQ(syscall(334, &areas[0], sizeof areas[0], 1, 0x53053053), 0);
    }
#ifdef __GLIBC__
    /* glibc reads the cpu number from its rseq area. */
    CHECK(sched_getcpu() >= 0);
#endif
}

static void *membarrier_thread(void *arg)
{
    (void)arg;
    return (void *)(intptr_t)syscall(SYS_membarrier, 8 /* PRIVATE_EXPEDITED */, 0, 0);
}

TEST(membarrier_private_expedited_between_threads)
{
    /* Registration is per address space: one thread registers, another uses it. */
    CHECK_EQ(syscall(SYS_membarrier, 16 /* REGISTER_PRIVATE_EXPEDITED */, 0, 0), 0);
    pthread_t t;
    void *res;
    CHECK_EQ(pthread_create(&t, NULL, membarrier_thread, NULL), 0);
    CHECK_EQ(pthread_join(t, &res), 0);
    CHECK(res == NULL);
}
