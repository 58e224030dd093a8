/* pthreads.c - the C library's thread primitives over POSIX-X's threads: mutexes (normal,
 * recursive, error-checking), condition variables (also process-shared), rwlocks, barriers,
 * cancellation (deferred and asynchronous), pthread_kill, sigwait, thread-specific data, and
 * how signals pick a thread.
 * Syscalls: clone, futex, tgkill, kill, rt_sigprocmask, rt_sigtimedwait, mmap, fork, wait4.
 */
#define _GNU_SOURCE
#define TEST_MAIN
#include "test.h"

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>

static pthread_mutex_t plain = PTHREAD_MUTEX_INITIALIZER;
static long shared_count;

static void *locked_add(void *arg)
{
    (void)arg;
    for (int i = 0; i < 20000; i++) {
        pthread_mutex_lock(&plain);
        long v = shared_count;
        if (i % 1000 == 0)
            sched_yield(); /* hold the lock across a switch now and then */
        shared_count = v + 1;
        pthread_mutex_unlock(&plain);
    }
    return NULL;
}

TEST(normal_mutex_excludes)
{
    shared_count = 0;
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        CHECK_EQ(pthread_create(&t[i], NULL, locked_add, NULL), 0);
    for (int i = 0; i < 4; i++)
        CHECK_EQ(pthread_join(t[i], NULL), 0);
    CHECK_EQ(shared_count, 80000);
}

TEST(recursive_mutex_relocks)
{
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_t m;
    CHECK_EQ(pthread_mutex_init(&m, &a), 0);
    CHECK_EQ(pthread_mutex_lock(&m), 0);
    CHECK_EQ(pthread_mutex_lock(&m), 0);
    CHECK_EQ(pthread_mutex_trylock(&m), 0);
    CHECK_EQ(pthread_mutex_unlock(&m), 0);
    CHECK_EQ(pthread_mutex_unlock(&m), 0);
    CHECK_EQ(pthread_mutex_unlock(&m), 0);
    CHECK_EQ(pthread_mutex_destroy(&m), 0);
}

static void *try_other(void *arg)
{
    return (void *)(long)pthread_mutex_trylock(arg);
}

TEST(errorcheck_mutex_reports_misuse)
{
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ERRORCHECK);
    pthread_mutex_t m;
    CHECK_EQ(pthread_mutex_init(&m, &a), 0);
    CHECK_EQ(pthread_mutex_unlock(&m), EPERM);
    CHECK_EQ(pthread_mutex_lock(&m), 0);
    CHECK_EQ(pthread_mutex_lock(&m), EDEADLK);
    pthread_t t;
    void *r;
    CHECK_EQ(pthread_create(&t, NULL, try_other, &m), 0);
    CHECK_EQ(pthread_join(t, &r), 0);
    CHECK_EQ((long)r, EBUSY);
    CHECK_EQ(pthread_mutex_unlock(&m), 0);
}

struct pingpong {
    pthread_mutex_t m;
    pthread_cond_t c;
    int turn;
    int rounds;
};

static void *pong(void *arg)
{
    struct pingpong *p = arg;
    pthread_mutex_lock(&p->m);
    for (int i = 0; i < p->rounds; i++) {
        while (p->turn != 1)
            pthread_cond_wait(&p->c, &p->m);
        p->turn = 0;
        pthread_cond_broadcast(&p->c);
    }
    pthread_mutex_unlock(&p->m);
    return NULL;
}

static void run_pingpong(struct pingpong *p)
{
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, pong, p), 0);
    pthread_mutex_lock(&p->m);
    for (int i = 0; i < p->rounds; i++) {
        p->turn = 1;
        pthread_cond_broadcast(&p->c);
        while (p->turn != 0)
            pthread_cond_wait(&p->c, &p->m);
    }
    pthread_mutex_unlock(&p->m);
    CHECK_EQ(pthread_join(t, NULL), 0);
}

TEST(condition_variable_ping_pong)
{
    struct pingpong p = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 2000};
    run_pingpong(&p);
}

TEST(process_shared_condvar_between_processes)
{
    struct pingpong *p = mmap(NULL, sizeof *p, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                              -1, 0);
    CHECK(p != MAP_FAILED);
    pthread_mutexattr_t ma;
    pthread_condattr_t ca;
    pthread_mutexattr_init(&ma);
    pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
    pthread_condattr_init(&ca);
    pthread_condattr_setpshared(&ca, PTHREAD_PROCESS_SHARED);
    CHECK_EQ(pthread_mutex_init(&p->m, &ma), 0);
    CHECK_EQ(pthread_cond_init(&p->c, &ca), 0);
    p->turn = 0;
    p->rounds = 500;
    pid_t pid = fork();
    if (pid == 0) {
        pong(p);
        _exit(0);
    }
    CHECK(pid > 0);
    pthread_mutex_lock(&p->m);
    for (int i = 0; i < p->rounds; i++) {
        p->turn = 1;
        pthread_cond_broadcast(&p->c);
        while (p->turn != 0)
            pthread_cond_wait(&p->c, &p->m);
    }
    pthread_mutex_unlock(&p->m);
    int st;
    CHECK_EQ(waitpid(pid, &st, 0), pid);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    munmap(p, sizeof *p);
}

static pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
static atomic_int readers_in, max_readers, writer_violation;

static void *reader(void *arg)
{
    (void)arg;
    for (int i = 0; i < 200; i++) {
        pthread_rwlock_rdlock(&rw);
        int n = atomic_fetch_add(&readers_in, 1) + 1;
        int m = atomic_load(&max_readers);
        while (n > m && !atomic_compare_exchange_weak(&max_readers, &m, n))
            ;
        sched_yield();
        atomic_fetch_sub(&readers_in, 1);
        pthread_rwlock_unlock(&rw);
    }
    return NULL;
}

static void *writer(void *arg)
{
    (void)arg;
    for (int i = 0; i < 100; i++) {
        pthread_rwlock_wrlock(&rw);
        if (atomic_load(&readers_in) != 0)
            atomic_store(&writer_violation, 1);
        sched_yield();
        if (atomic_load(&readers_in) != 0)
            atomic_store(&writer_violation, 1);
        pthread_rwlock_unlock(&rw);
    }
    return NULL;
}

TEST(rwlock_readers_share_writers_exclude)
{
    pthread_t t[5];
    for (int i = 0; i < 4; i++)
        CHECK_EQ(pthread_create(&t[i], NULL, reader, NULL), 0);
    CHECK_EQ(pthread_create(&t[4], NULL, writer, NULL), 0);
    for (int i = 0; i < 5; i++)
        CHECK_EQ(pthread_join(t[i], NULL), 0);
    CHECK_EQ(atomic_load(&writer_violation), 0);
    CHECK(atomic_load(&max_readers) >= 1);
}

static pthread_barrier_t barrier;
static atomic_int phase_count[3];
static atomic_int barrier_errors;

static void *barrier_body(void *arg)
{
    (void)arg;
    for (int ph = 0; ph < 3; ph++) {
        atomic_fetch_add(&phase_count[ph], 1);
        pthread_barrier_wait(&barrier);
        if (atomic_load(&phase_count[ph]) != 4)
            atomic_store(&barrier_errors, 1);
        pthread_barrier_wait(&barrier);
    }
    return NULL;
}

TEST(barrier_holds_until_all_arrive)
{
    CHECK_EQ(pthread_barrier_init(&barrier, NULL, 4), 0);
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        CHECK_EQ(pthread_create(&t[i], NULL, barrier_body, NULL), 0);
    for (int i = 0; i < 4; i++)
        CHECK_EQ(pthread_join(t[i], NULL), 0);
    CHECK_EQ(atomic_load(&barrier_errors), 0);
    pthread_barrier_destroy(&barrier);
}

static void *wait_in_read(void *arg)
{
    int fd = (int)(long)arg;
    char c;
    read(fd, &c, 1); /* a cancellation point that blocks */
    return (void *)1;
}

TEST(deferred_cancel_ends_a_blocked_read)
{
    int p[2];
    CHECK_OK(pipe(p));
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, wait_in_read, (void *)(long)p[0]), 0);
    for (int i = 0; i < 10; i++)
        sched_yield();
    CHECK_EQ(pthread_cancel(t), 0);
    void *r;
    CHECK_EQ(pthread_join(t, &r), 0);
    CHECK(r == PTHREAD_CANCELED);
    close(p[0]);
    close(p[1]);
}

static atomic_int spinning;

static void *spin_async(void *arg)
{
    (void)arg;
    pthread_setcanceltype(PTHREAD_CANCEL_ASYNCHRONOUS, NULL);
    atomic_store(&spinning, 1);
    for (;;)
        atomic_fetch_add(&spinning, 1);
    return NULL;
}

TEST(asynchronous_cancel_ends_a_spinning_thread)
{
    atomic_store(&spinning, 0);
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, spin_async, NULL), 0);
    while (atomic_load(&spinning) == 0)
        sched_yield();
    CHECK_EQ(pthread_cancel(t), 0);
    void *r;
    CHECK_EQ(pthread_join(t, &r), 0);
    CHECK(r == PTHREAD_CANCELED);
}

static atomic_long handler_tid;

static void record_tid(int sig)
{
    (void)sig;
    atomic_store(&handler_tid, syscall(SYS_gettid));
}

static atomic_int ready;
static atomic_long worker_tid;

static void *wait_for_signal(void *arg)
{
    (void)arg;
    atomic_store(&worker_tid, syscall(SYS_gettid));
    atomic_store(&ready, 1);
    while (atomic_load(&handler_tid) == 0)
        sched_yield();
    return NULL;
}

TEST(pthread_kill_runs_the_handler_in_that_thread)
{
    struct sigaction sa = {.sa_handler = record_tid};
    sigaction(SIGUSR1, &sa, NULL);
    atomic_store(&handler_tid, 0);
    atomic_store(&ready, 0);
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, wait_for_signal, NULL), 0);
    while (!atomic_load(&ready))
        sched_yield();
    CHECK_EQ(pthread_kill(t, SIGUSR1), 0);
    CHECK_EQ(pthread_join(t, NULL), 0);
    CHECK_EQ(atomic_load(&handler_tid), atomic_load(&worker_tid));
    signal(SIGUSR1, SIG_DFL);
}

TEST(process_signal_goes_to_a_thread_that_does_not_block_it)
{
    struct sigaction sa = {.sa_handler = record_tid};
    sigaction(SIGUSR2, &sa, NULL);
    atomic_store(&handler_tid, 0);
    atomic_store(&ready, 0);
    sigset_t s, old;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR2);
    /* The leader blocks SIGUSR2; the worker is created with it unblocked. */
    pthread_sigmask(SIG_BLOCK, &s, &old);
    pthread_t t;
    sigset_t none;
    sigemptyset(&none);
    CHECK_EQ(pthread_sigmask(SIG_SETMASK, &none, NULL), 0);
    pthread_sigmask(SIG_BLOCK, &s, NULL);
    pthread_attr_t a;
    pthread_attr_init(&a);
    /* The new thread inherits the mask: unblock it there. */
    CHECK_EQ(pthread_create(&t, &a, wait_for_signal, NULL), 0);
    while (!atomic_load(&ready))
        sched_yield();
    CHECK_EQ(pthread_kill(t, 0), 0);
    CHECK_EQ(kill(getpid(), SIGUSR2), 0);
    /* The worker still blocks it (inherited): nothing yet; unblocking in the worker is what the
     * next case does. Here the leader unblocks and takes it. */
    pthread_sigmask(SIG_UNBLOCK, &s, NULL);
    CHECK_EQ(atomic_load(&handler_tid), syscall(SYS_gettid));
    CHECK_EQ(pthread_join(t, NULL), 0);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    signal(SIGUSR2, SIG_DFL);
}

static void *unblock_and_wait(void *arg)
{
    sigset_t *s = arg;
    pthread_sigmask(SIG_UNBLOCK, s, NULL);
    atomic_store(&worker_tid, syscall(SYS_gettid));
    atomic_store(&ready, 1);
    while (atomic_load(&handler_tid) == 0)
        sched_yield();
    return NULL;
}

TEST(kill_is_taken_by_the_only_thread_that_unblocks_it)
{
    struct sigaction sa = {.sa_handler = record_tid};
    sigaction(SIGUSR2, &sa, NULL);
    atomic_store(&handler_tid, 0);
    atomic_store(&ready, 0);
    sigset_t s, old;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR2);
    pthread_sigmask(SIG_BLOCK, &s, &old);
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, unblock_and_wait, &s), 0);
    while (!atomic_load(&ready))
        sched_yield();
    CHECK_EQ(kill(getpid(), SIGUSR2), 0);
    CHECK_EQ(pthread_join(t, NULL), 0);
    CHECK_EQ(atomic_load(&handler_tid), atomic_load(&worker_tid));
    sigset_t pend;
    sigpending(&pend);
    CHECK(!sigismember(&pend, SIGUSR2));
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    signal(SIGUSR2, SIG_DFL);
}

static void *sigwait_body(void *arg)
{
    sigset_t *s = arg;
    int sig = 0;
    atomic_store(&ready, 1);
    if (sigwait(s, &sig) != 0)
        return (void *)-1L;
    return (void *)(long)sig;
}

TEST(sigwait_in_one_thread_takes_a_process_signal)
{
    sigset_t s, old;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &s, &old);
    atomic_store(&ready, 0);
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, sigwait_body, &s), 0);
    while (!atomic_load(&ready))
        sched_yield();
    CHECK_EQ(kill(getpid(), SIGUSR1), 0);
    void *r;
    CHECK_EQ(pthread_join(t, &r), 0);
    CHECK_EQ((long)r, SIGUSR1);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
}

static pthread_key_t key;
static atomic_int destructor_calls;

static void destroy(void *v)
{
    if (v)
        atomic_fetch_add(&destructor_calls, 1);
}

static void *use_key(void *arg)
{
    pthread_setspecific(key, arg);
    sched_yield();
    return pthread_getspecific(key);
}

TEST(thread_specific_data_and_destructors)
{
    atomic_store(&destructor_calls, 0);
    CHECK_EQ(pthread_key_create(&key, destroy), 0);
    pthread_setspecific(key, (void *)1);
    pthread_t t[3];
    for (long i = 0; i < 3; i++)
        CHECK_EQ(pthread_create(&t[i], NULL, use_key, (void *)(i + 10)), 0);
    for (long i = 0; i < 3; i++) {
        void *r;
        CHECK_EQ(pthread_join(t[i], &r), 0);
        CHECK_EQ((long)r, i + 10);
    }
    CHECK_EQ((long)pthread_getspecific(key), 1);
    CHECK_EQ(atomic_load(&destructor_calls), 3);
    pthread_key_delete(key);
}

static void *fatal_fault(void *arg)
{
    (void)arg;
    *(volatile int *)bad_ptr(8) = 1;
    return NULL;
}

TEST(a_fault_in_one_thread_kills_the_group)
{
    pid_t pid = fork();
    if (pid == 0) {
        pthread_t t;
        pthread_create(&t, NULL, fatal_fault, NULL);
        for (;;)
            pause();
    }
    CHECK(pid > 0);
    int st;
    CHECK_EQ(waitpid(pid, &st, 0), pid);
    CHECK(WIFSIGNALED(st));
    CHECK_EQ(WTERMSIG(st), SIGSEGV);
}

static void *stopped_counter(void *arg)
{
    volatile long *n = arg;
    for (;;)
        (*n)++;
    return NULL;
}

TEST(sigstop_and_sigcont_stop_the_whole_group)
{
    volatile long *n = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    CHECK(n != MAP_FAILED);
    *n = 0;
    pid_t pid = fork();
    if (pid == 0) {
        pthread_t t;
        pthread_create(&t, NULL, stopped_counter, (void *)n);
        for (;;)
            pause();
    }
    CHECK(pid > 0);
    while (*n == 0)
        sched_yield();
    CHECK_EQ(kill(pid, SIGSTOP), 0);
    int st;
    CHECK_EQ(waitpid(pid, &st, WUNTRACED), pid);
    CHECK(WIFSTOPPED(st));
    long a = *n;
    for (int i = 0; i < 50; i++)
        sched_yield();
    struct timespec ts = {0, 20 * 1000 * 1000};
    nanosleep(&ts, NULL);
    CHECK_EQ(*n, a);
    CHECK_EQ(kill(pid, SIGCONT), 0);
    while (*n == a)
        sched_yield();
    CHECK_EQ(kill(pid, SIGKILL), 0);
    CHECK_EQ(waitpid(pid, &st, 0), pid);
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    munmap((void *)n, 4096);
}
