/* futex_pi.c - the futex operations beyond WAIT/WAKE, between processes over MAP_SHARED
 * memory: the priority-inheritance operations (LOCK_PI, LOCK_PI2, TRYLOCK_PI, UNLOCK_PI) with the
 * owner-TID, FUTEX_WAITERS and hand-over rules, their errors (EDEADLK, EPERM, ESRCH, EAGAIN,
 * ETIMEDOUT); an owner that exits with waiters; WAIT_REQUEUE_PI and CMP_REQUEUE_PI; the robust
 * list (set_robust_list/get_robust_list, the kernel's walk at exit setting FUTEX_OWNER_DIED and
 * waking a waiter), process-shared robust and priority-inheritance pthread mutexes whose owner
 * dies (EOWNERDEAD, pthread_mutex_consistent); futex_waitv.
 * Synchronisation: pipes and wait_sleeping() (the peer is blocked), never sleeps.
 * Syscalls: futex, futex_waitv, set_robust_list, get_robust_list, mmap, fork, wait4, kill.
 */
#define _GNU_SOURCE
#define TEST_MAIN
#include "test.h"

#include <limits.h>
#include <stddef.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "children.h"

#ifndef FUTEX_LOCK_PI2
#define FUTEX_LOCK_PI2 13
#endif
#ifndef SYS_futex_waitv
#define SYS_futex_waitv 449
#endif
#define FUTEX2_SIZE_U32_ 0x02
#define FUTEX2_PRIVATE_ 128

struct waitv {
    uint64_t val;
    uint64_t uaddr;
    uint32_t flags;
    uint32_t reserved;
};

static long futex(uint32_t *addr, int op, uint32_t val, const struct timespec *ts, uint32_t *addr2,
                  uint32_t val3)
{
    return syscall(SYS_futex, addr, op, val, ts, addr2, val3);
}

/* CMP_REQUEUE_PI's fourth argument is a count. */
static long requeue_pi(uint32_t *from, long n_move, uint32_t *to, uint32_t expected)
{
    return syscall(SYS_futex, from, FUTEX_CMP_REQUEUE_PI, 1, n_move, to, expected);
}

static uint32_t *shared_page(void)
{
    void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p != MAP_FAILED)
        memset(p, 0, 4096);
    return p == MAP_FAILED ? NULL : p;
}

static uint32_t tid(void) { return (uint32_t)syscall(SYS_gettid); }

static struct timespec abs_in(clockid_t c, long ms)
{
    struct timespec t;
    clock_gettime(c, &t);
    t.tv_nsec += ms * 1000000L;
    t.tv_sec += t.tv_nsec / 1000000000L;
    t.tv_nsec %= 1000000000L;
    return t;
}

/* A child that takes the PI lock *w (blocking), checks it owns it, unlocks and exits 0. */
static pid_t pi_locker(uint32_t *w)
{
    pid_t pid = fork();
    if (pid == 0) {
        CCHECK(futex(w, FUTEX_LOCK_PI, 0, NULL, NULL, 0) == 0);
        CCHECK((*w & FUTEX_TID_MASK) == tid());
        CCHECK(futex(w, FUTEX_UNLOCK_PI, 0, NULL, NULL, 0) == 0);
        _exit(0);
    }
    return pid;
}

/* ---- PI basics ---- */

TEST(lock_pi_puts_the_tid_in_the_word_and_unlock_clears_it)
{
    uint32_t *w = shared_page();
    CHECK(w != NULL);
    CHECK_EQ(futex(w, FUTEX_LOCK_PI, 0, NULL, NULL, 0), 0);
    CHECK_EQ(*w, tid());
    /* Locking again, or trying, is a deadlock. */
    CHECK_ERRNO(futex(w, FUTEX_LOCK_PI, 0, NULL, NULL, 0), EDEADLK);
    CHECK_ERRNO(futex(w, FUTEX_TRYLOCK_PI, 0, NULL, NULL, 0), EDEADLK);
    CHECK_EQ(futex(w, FUTEX_UNLOCK_PI, 0, NULL, NULL, 0), 0);
    CHECK_EQ(*w, 0);
    CHECK_EQ(futex(w, FUTEX_TRYLOCK_PI, 0, NULL, NULL, 0), 0);
    CHECK_EQ(*w, tid());
    CHECK_EQ(futex(w, FUTEX_UNLOCK_PI_PRIVATE, 0, NULL, NULL, 0), 0);
    /* Private flavours on a private word. */
    uint32_t p = 0;
    CHECK_EQ(futex(&p, FUTEX_LOCK_PI_PRIVATE, 0, NULL, NULL, 0), 0);
    CHECK_EQ(p, tid());
    CHECK_EQ(futex(&p, FUTEX_UNLOCK_PI_PRIVATE, 0, NULL, NULL, 0), 0);
    CHECK_EQ(p, 0);
    munmap(w, 4096);
}

TEST(unlock_pi_by_a_non_owner_is_eperm)
{
    uint32_t w = 0;
    CHECK_ERRNO(futex(&w, FUTEX_UNLOCK_PI_PRIVATE, 0, NULL, NULL, 0), EPERM);
    w = tid() + 1;
    CHECK_ERRNO(futex(&w, FUTEX_UNLOCK_PI_PRIVATE, 0, NULL, NULL, 0), EPERM);
    CHECK_EQ(w, tid() + 1);
}

TEST(lock_pi_on_a_word_naming_no_thread_is_esrch)
{
    pid_t pid = fork();
    if (pid == 0)
        _exit(0);
    CHECK_CHILD_OK(pid);
    /* The reaped child's id names no thread now. */
    uint32_t w = (uint32_t)pid;
    CHECK_ERRNO(futex(&w, FUTEX_LOCK_PI_PRIVATE, 0, NULL, NULL, 0), ESRCH);
    CHECK_EQ(w & FUTEX_TID_MASK, (uint32_t)pid);
}

TEST(pi_errors)
{
    uint32_t w = 0;
    CHECK_ERRNO(futex((uint32_t *)((char *)&w + 1), FUTEX_LOCK_PI_PRIVATE, 0, NULL, NULL, 0),
                EINVAL);
    CHECK_ERRNO(futex(bad_ptr(0x10), FUTEX_LOCK_PI_PRIVATE, 0, NULL, NULL, 0), EFAULT);
    CHECK_ERRNO(futex(bad_ptr(0x10), FUTEX_UNLOCK_PI_PRIVATE, 0, NULL, NULL, 0), EFAULT);
    /* FUTEX_CLOCK_REALTIME goes with LOCK_PI2, not LOCK_PI or UNLOCK_PI. */
    CHECK_ERRNO(futex(&w, FUTEX_LOCK_PI | FUTEX_CLOCK_REALTIME, 0, NULL, NULL, 0), ENOSYS);
    CHECK_ERRNO(futex(&w, FUTEX_UNLOCK_PI | FUTEX_CLOCK_REALTIME, 0, NULL, NULL, 0), ENOSYS);
    struct timespec bad = {0, 1000000000L};
    CHECK_ERRNO(futex(&w, FUTEX_LOCK_PI_PRIVATE, 0, &bad, NULL, 0), EINVAL);
    CHECK_EQ(w, 0);
}

TEST(trylock_pi_on_a_held_lock_is_eagain_and_sets_waiters)
{
    uint32_t *w = shared_page();
    CHECK(w != NULL);
    CHECK_EQ(futex(w, FUTEX_LOCK_PI, 0, NULL, NULL, 0), 0);
    uint32_t me = tid();
    pid_t pid = fork();
    if (pid == 0) {
        CERRNO(futex(w, FUTEX_TRYLOCK_PI, 0, NULL, NULL, 0), EAGAIN);
        CCHECK((*w & FUTEX_TID_MASK) == me);
        _exit(0);
    }
    CHECK_CHILD_OK(pid);
    CHECK_EQ(futex(w, FUTEX_UNLOCK_PI, 0, NULL, NULL, 0), 0);
    CHECK_EQ(*w, 0);
    munmap(w, 4096);
}

TEST(unlock_pi_hands_the_lock_to_the_sleeping_waiter)
{
    uint32_t *w = shared_page();
    CHECK(w != NULL);
    CHECK_EQ(futex(w, FUTEX_LOCK_PI, 0, NULL, NULL, 0), 0);
    pid_t pid = fork();
    if (pid == 0) {
        CCHECK(futex(w, FUTEX_LOCK_PI, 0, NULL, NULL, 0) == 0);
        /* The kernel wrote our TID, with FUTEX_WAITERS, before we ran. */
        CCHECK(*w == (tid() | FUTEX_WAITERS));
        CCHECK(futex(w, FUTEX_UNLOCK_PI, 0, NULL, NULL, 0) == 0);
        CCHECK(*w == 0);
        _exit(0);
    }
    CHECK(wait_sleeping(pid));
    /* The waiter marked the word: an unlock in user space would fail its cmpxchg. */
    CHECK_EQ(*w, tid() | FUTEX_WAITERS);
    CHECK_EQ(futex(w, FUTEX_UNLOCK_PI, 0, NULL, NULL, 0), 0);
    CHECK_CHILD_OK(pid);
    CHECK_EQ(*w, 0);
    munmap(w, 4096);
}

TEST(two_pi_waiters_get_the_lock_one_after_the_other)
{
    uint32_t *w = shared_page();
    CHECK(w != NULL);
    CHECK_EQ(futex(w, FUTEX_LOCK_PI, 0, NULL, NULL, 0), 0);
    pid_t a = pi_locker(w);
    CHECK(wait_sleeping(a));
    pid_t b = pi_locker(w);
    CHECK(wait_sleeping(b));
    CHECK_EQ(futex(w, FUTEX_UNLOCK_PI, 0, NULL, NULL, 0), 0);
    CHECK_CHILD_OK(a);
    CHECK_CHILD_OK(b);
    CHECK_EQ(*w, 0);
    munmap(w, 4096);
}

TEST(lock_pi_times_out_on_its_clocks)
{
    uint32_t *w = shared_page();
    CHECK(w != NULL);
    CHECK_EQ(futex(w, FUTEX_LOCK_PI, 0, NULL, NULL, 0), 0);
    pid_t pid = fork();
    if (pid == 0) {
        /* LOCK_PI: absolute CLOCK_REALTIME. */
        struct timespec t = abs_in(CLOCK_REALTIME, 30);
        CERRNO(futex(w, FUTEX_LOCK_PI, 0, &t, NULL, 0), ETIMEDOUT);
        /* LOCK_PI2: absolute CLOCK_MONOTONIC, or realtime with FUTEX_CLOCK_REALTIME. */
        t = abs_in(CLOCK_MONOTONIC, 30);
        CERRNO(futex(w, FUTEX_LOCK_PI2, 0, &t, NULL, 0), ETIMEDOUT);
        t = abs_in(CLOCK_REALTIME, 30);
        CERRNO(futex(w, FUTEX_LOCK_PI2 | FUTEX_CLOCK_REALTIME, 0, &t, NULL, 0), ETIMEDOUT);
        _exit(0);
    }
    CHECK_CHILD_OK(pid);
    /* The waiters left FUTEX_WAITERS behind; unlocking with no one queued frees the word. */
    CHECK_EQ(futex(w, FUTEX_UNLOCK_PI, 0, NULL, NULL, 0), 0);
    CHECK_EQ(*w, 0);
    munmap(w, 4096);
}

TEST(a_pi_owner_that_exits_hands_the_lock_to_its_waiter)
{
    uint32_t *w = shared_page();
    CHECK(w != NULL);
    int up[2], down[2];
    CHECK_OK(pipe(up));
    CHECK_OK(pipe(down));
    pid_t owner = fork();
    if (owner == 0) {
        CCHECK(futex(w, FUTEX_LOCK_PI, 0, NULL, NULL, 0) == 0);
        write_byte(up[1], 1);
        /* Exits holding the lock (no robust list). */
        read_byte(down[0]);
        _exit(0);
    }
    CHECK_EQ(read_byte(up[0]), 1);
    pid_t waiter = fork();
    if (waiter == 0) {
        CCHECK(futex(w, FUTEX_LOCK_PI, 0, NULL, NULL, 0) == 0);
        CCHECK((*w & FUTEX_TID_MASK) == tid());
        CCHECK(futex(w, FUTEX_UNLOCK_PI, 0, NULL, NULL, 0) == 0);
        _exit(0);
    }
    CHECK(wait_sleeping(waiter));
    write_byte(down[1], 2);
    CHECK_CHILD_OK(owner);
    CHECK_CHILD_OK(waiter);
    CHECK_EQ(*w, 0);
    close(up[0]);
    close(up[1]);
    close(down[0]);
    close(down[1]);
    munmap(w, 4096);
}

/* ---- requeue to a PI futex ---- */

TEST(cmp_requeue_pi_gives_a_free_lock_to_the_first_waiter)
{
    uint32_t *page = shared_page();
    CHECK(page != NULL);
    uint32_t *cond = page, *lock = page + 16;
    pid_t pid = fork();
    if (pid == 0) {
        CCHECK(futex(cond, FUTEX_WAIT_REQUEUE_PI, 0, NULL, lock, 0) == 0);
        CCHECK((*lock & FUTEX_TID_MASK) == tid());
        CCHECK(futex(lock, FUTEX_UNLOCK_PI, 0, NULL, NULL, 0) == 0);
        _exit(0);
    }
    CHECK(wait_sleeping(pid));
    /* A plain wake or requeue may not touch a requeue-PI waiter. */
    CHECK_ERRNO(futex(cond, FUTEX_WAKE, 1, NULL, NULL, 0), EINVAL);
    CHECK_ERRNO(syscall(SYS_futex, cond, FUTEX_CMP_REQUEUE, 0, 1, lock + 1, 0), EINVAL);
    CHECK_ERRNO(requeue_pi(cond, 0, lock, 7), EAGAIN);
    CHECK_EQ(requeue_pi(cond, 0, lock, 0), 1);
    CHECK_CHILD_OK(pid);
    CHECK_EQ(*lock, 0);
    munmap(page, 4096);
}

TEST(cmp_requeue_pi_moves_waiters_onto_a_held_lock)
{
    uint32_t *page = shared_page();
    CHECK(page != NULL);
    uint32_t *cond = page, *lock = page + 16;
    CHECK_EQ(futex(lock, FUTEX_LOCK_PI, 0, NULL, NULL, 0), 0);
    pid_t kids[2];
    for (int i = 0; i < 2; i++) {
        kids[i] = fork();
        if (kids[i] == 0) {
            CCHECK(futex(cond, FUTEX_WAIT_REQUEUE_PI, 0, NULL, lock, 0) == 0);
            CCHECK((*lock & FUTEX_TID_MASK) == tid());
            CCHECK(futex(lock, FUTEX_UNLOCK_PI, 0, NULL, NULL, 0) == 0);
            _exit(0);
        }
        CHECK(wait_sleeping(kids[i]));
    }
    /* Both move (the lock is held, so none wakes). */
    CHECK_EQ(requeue_pi(cond, INT_MAX, lock, 0), 2);
    CHECK_EQ(*lock, tid() | FUTEX_WAITERS);
    CHECK_EQ(futex(lock, FUTEX_UNLOCK_PI, 0, NULL, NULL, 0), 0);
    CHECK_CHILD_OK(kids[0]);
    CHECK_CHILD_OK(kids[1]);
    CHECK_EQ(*lock, 0);
    munmap(page, 4096);
}

TEST(requeue_pi_errors_and_timeout)
{
    uint32_t *page = shared_page();
    CHECK(page != NULL);
    uint32_t *cond = page, *lock = page + 16;
    CHECK_ERRNO(futex(cond, FUTEX_WAIT_REQUEUE_PI, 0, NULL, cond, 0), EINVAL);
    CHECK_ERRNO(futex(cond, FUTEX_WAIT_REQUEUE_PI, 1, NULL, lock, 0), EAGAIN);
    CHECK_ERRNO(syscall(SYS_futex, cond, FUTEX_CMP_REQUEUE_PI, 2, 1, lock, 0), EINVAL);
    CHECK_ERRNO(requeue_pi(cond, 1, cond, 0), EINVAL);
    CHECK_ERRNO(requeue_pi(cond, -1, lock, 0), EINVAL);
    CHECK_EQ(requeue_pi(cond, 1, lock, 0), 0);
    struct timespec t = abs_in(CLOCK_MONOTONIC, 30);
    CHECK_ERRNO(futex(cond, FUTEX_WAIT_REQUEUE_PI, 0, &t, lock, 0), ETIMEDOUT);
    munmap(page, 4096);
}

/* ---- robust list ---- */

struct robust_head {
    void *next;
    long futex_offset;
    void *pending;
};

/* A lock in shared memory, linked into a robust list: the list entry, then the word. */
struct robust_lock {
    void *next;
    uint32_t word;
};

TEST(set_and_get_robust_list)
{
    struct robust_head *old;
    size_t len = 0;
    CHECK_EQ(syscall(SYS_get_robust_list, 0, &old, &len), 0);
    CHECK_EQ(len, sizeof(struct robust_head));
    static struct robust_head mine = {&mine, 0, NULL};
    CHECK_ERRNO(syscall(SYS_set_robust_list, &mine, sizeof mine - 1), EINVAL);
    CHECK_ERRNO(syscall(SYS_set_robust_list, &mine, sizeof mine + 8), EINVAL);
    CHECK_EQ(syscall(SYS_set_robust_list, &mine, sizeof mine), 0);
    struct robust_head *got = NULL;
    CHECK_EQ(syscall(SYS_get_robust_list, 0, &got, &len), 0);
    CHECK(got == &mine);
    CHECK_EQ(syscall(SYS_get_robust_list, getpid(), &got, &len), 0);
    CHECK(got == &mine);
    CHECK_ERRNO(syscall(SYS_get_robust_list, 0, bad_ptr(0x10), &len), EFAULT);
    CHECK_ERRNO(syscall(SYS_get_robust_list, 0, &got, bad_ptr(0x10)), EFAULT);
    CHECK_ERRNO(syscall(SYS_get_robust_list, INT_MAX, &got, &len), ESRCH);
    CHECK_EQ(syscall(SYS_set_robust_list, old, sizeof mine), 0);
}

TEST(robust_list_is_not_inherited_by_fork)
{
    static struct robust_head mine = {&mine, 0, NULL};
    struct robust_head *old;
    size_t len;
    CHECK_EQ(syscall(SYS_get_robust_list, 0, &old, &len), 0);
    CHECK_EQ(syscall(SYS_set_robust_list, &mine, sizeof mine), 0);
    /* Raw fork: the C library would register its own list in the child. */
    pid_t pid = (pid_t)syscall(SYS_fork);
    if (pid == 0) {
        struct robust_head *got = &mine;
        CCHECK(syscall(SYS_get_robust_list, 0, &got, &len) == 0);
        CCHECK(got == NULL);
        _exit(0);
    }
    CHECK_EQ(syscall(SYS_set_robust_list, old, sizeof mine), 0);
    CHECK_CHILD_OK(pid);
}

/* A child that puts `lock` on its robust list, takes it (its TID in the word, `extra` bits
 * too), tells the parent, waits for a byte and exits without unlocking. */
static pid_t robust_holder(struct robust_head *head, struct robust_lock *lock, uint32_t extra,
                           int pipe_to_parent, int pipe_from_parent)
{
    pid_t pid = fork();
    if (pid == 0) {
        head->next = &lock->next;
        head->futex_offset = offsetof(struct robust_lock, word) - offsetof(struct robust_lock, next);
        head->pending = NULL;
        lock->next = head;
        lock->word = tid() | extra;
        CCHECK(syscall(SYS_set_robust_list, head, sizeof *head) == 0);
        write_byte(pipe_to_parent, 1);
        read_byte(pipe_from_parent);
        _exit(0);
    }
    return pid;
}

TEST(exit_marks_held_robust_locks_owner_died)
{
    char *page = (char *)shared_page();
    CHECK(page != NULL);
    struct robust_head *head = (struct robust_head *)page;
    struct robust_lock *lock = (struct robust_lock *)(page + 64);
    struct robust_lock *other = (struct robust_lock *)(page + 128);
    int up[2], down[2];
    CHECK_OK(pipe(up));
    CHECK_OK(pipe(down));
    pid_t pid = robust_holder(head, lock, 0, up[1], down[0]);
    CHECK_EQ(read_byte(up[0]), 1);
    /* A second entry the child does not own: the walk leaves it alone. */
    other->word = 12345;
    other->next = head;
    lock->next = &other->next;
    write_byte(down[1], 1);
    CHECK_CHILD_OK(pid);
    CHECK_EQ(lock->word, FUTEX_OWNER_DIED);
    CHECK_EQ(other->word, 12345);
    close(up[0]);
    close(up[1]);
    close(down[0]);
    close(down[1]);
    munmap(page, 4096);
}

TEST(a_robust_owners_death_wakes_one_waiter)
{
    char *page = (char *)shared_page();
    CHECK(page != NULL);
    struct robust_head *head = (struct robust_head *)page;
    struct robust_lock *lock = (struct robust_lock *)(page + 64);
    int up[2], down[2];
    CHECK_OK(pipe(up));
    CHECK_OK(pipe(down));
    pid_t holder = robust_holder(head, lock, FUTEX_WAITERS, up[1], down[0]);
    CHECK_EQ(read_byte(up[0]), 1);
    uint32_t held = lock->word;
    pid_t waiter = fork();
    if (waiter == 0) {
        /* Robust wakes are shared-keyed: the waiter sleeps on the shared word. */
        long r;
        do
            r = futex(&lock->word, FUTEX_WAIT, held, NULL, NULL, 0);
        while (r == -1 && errno == EINTR);
        CCHECK(r == 0 || (r == -1 && errno == EAGAIN));
        CCHECK(lock->word == (FUTEX_OWNER_DIED | FUTEX_WAITERS));
        _exit(0);
    }
    CHECK(wait_sleeping(waiter));
    write_byte(down[1], 1);
    CHECK_CHILD_OK(holder);
    CHECK_CHILD_OK(waiter);
    CHECK_EQ(lock->word, FUTEX_OWNER_DIED | FUTEX_WAITERS);
    close(up[0]);
    close(up[1]);
    close(down[0]);
    close(down[1]);
    munmap(page, 4096);
}

/* A process-shared robust mutex (of `protocol`) in MAP_SHARED memory whose owner is killed
 * while another process waits: the waiter gets EOWNERDEAD, makes it consistent and goes on. */
static void robust_mutex_owner_dies(int protocol)
{
    pthread_mutex_t *m = (pthread_mutex_t *)shared_page();
    CHECK(m != NULL);
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
    pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
    if (protocol != PTHREAD_PRIO_NONE && pthread_mutexattr_setprotocol(&a, protocol) != 0) {
        pthread_mutexattr_destroy(&a);
        munmap(m, 4096);
        SKIP("the C library has no priority-inheritance mutexes");
    }
    CHECK_EQ(pthread_mutex_init(m, &a), 0);
    pthread_mutexattr_destroy(&a);
    int up[2];
    CHECK_OK(pipe(up));
    pid_t owner = fork();
    if (owner == 0) {
        CCHECK(pthread_mutex_lock(m) == 0);
        write_byte(up[1], 1);
        for (;;)
            pause();
    }
    CHECK_EQ(read_byte(up[0]), 1);
    pid_t waiter = fork();
    if (waiter == 0) {
        CCHECK(pthread_mutex_lock(m) == EOWNERDEAD);
        CCHECK(pthread_mutex_consistent(m) == 0);
        CCHECK(pthread_mutex_unlock(m) == 0);
        CCHECK(pthread_mutex_lock(m) == 0);
        CCHECK(pthread_mutex_unlock(m) == 0);
        _exit(0);
    }
    CHECK(wait_sleeping(waiter));
    CHECK_OK(kill(owner, SIGKILL));
    CHECK_KILLED(owner, SIGKILL);
    CHECK_CHILD_OK(waiter);
    /* Consistent again: the parent locks it normally. */
    CHECK_EQ(pthread_mutex_lock(m), 0);
    CHECK_EQ(pthread_mutex_unlock(m), 0);
    close(up[0]);
    close(up[1]);
    munmap(m, 4096);
}

TEST(robust_shared_mutex_whose_owner_dies_gives_eownerdead)
{
    robust_mutex_owner_dies(PTHREAD_PRIO_NONE);
}

TEST(robust_pi_shared_mutex_whose_owner_dies_gives_eownerdead)
{
    robust_mutex_owner_dies(PTHREAD_PRIO_INHERIT);
}

TEST(robust_mutex_of_an_exited_owner_gives_eownerdead_to_the_next_locker)
{
    pthread_mutex_t *m = (pthread_mutex_t *)shared_page();
    CHECK(m != NULL);
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
    pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
    CHECK_EQ(pthread_mutex_init(m, &a), 0);
    pid_t pid = fork();
    if (pid == 0) {
        CCHECK(pthread_mutex_lock(m) == 0);
        _exit(0);
    }
    CHECK_CHILD_OK(pid);
    CHECK_EQ(pthread_mutex_lock(m), EOWNERDEAD);
    /* Unlocked without pthread_mutex_consistent: the mutex is unrecoverable. */
    CHECK_EQ(pthread_mutex_unlock(m), 0);
    CHECK_EQ(pthread_mutex_lock(m), ENOTRECOVERABLE);
    munmap(m, 4096);
}

/* ---- futex_waitv ---- */

static long waitv(struct waitv *w, unsigned n, unsigned flags, struct timespec *t, clockid_t c)
{
    return syscall(SYS_futex_waitv, w, n, flags, t, c);
}

TEST(futex_waitv_returns_the_index_of_the_woken_word)
{
    uint32_t *page = shared_page();
    CHECK(page != NULL);
    struct waitv *v = (struct waitv *)(page + 256);
    for (int i = 0; i < 3; i++) {
        v[i].val = 0;
        v[i].uaddr = (uintptr_t)(page + 16 * i);
        v[i].flags = FUTEX2_SIZE_U32_;
        v[i].reserved = 0;
    }
    pid_t pid = fork();
    if (pid == 0) {
        long r = waitv(v, 3, 0, NULL, 0);
        _exit(r == 2 ? 0 : 10 + (int)r);
    }
    CHECK(wait_sleeping(pid));
    /* The waiter sleeps on all three (shared keys); the third wakes it. */
    long woken;
    do
        woken = futex(page + 32, FUTEX_WAKE, 1, NULL, NULL, 0);
    while (woken == 0 && wait_sleeping(pid));
    CHECK_EQ(woken, 1);
    CHECK_CHILD_OK(pid);
    munmap(page, 4096);
}

TEST(futex_waitv_checks_values_times_out_and_rejects_bad_input)
{
    uint32_t words[2] = {0, 5};
    struct waitv v[2] = {
        {0, (uintptr_t)&words[0], FUTEX2_SIZE_U32_ | FUTEX2_PRIVATE_, 0},
        {4, (uintptr_t)&words[1], FUTEX2_SIZE_U32_ | FUTEX2_PRIVATE_, 0},
    };
    CHECK_ERRNO(waitv(v, 2, 0, NULL, 0), EAGAIN);
    v[1].val = 5;
    struct timespec t = abs_in(CLOCK_MONOTONIC, 20);
    CHECK_ERRNO(waitv(v, 2, 0, &t, CLOCK_MONOTONIC), ETIMEDOUT);
    t = abs_in(CLOCK_REALTIME, 20);
    CHECK_ERRNO(waitv(v, 2, 0, &t, CLOCK_REALTIME), ETIMEDOUT);
    CHECK_ERRNO(waitv(v, 2, 0, &t, CLOCK_BOOTTIME), EINVAL);
    CHECK_ERRNO(waitv(v, 2, 1, NULL, 0), EINVAL);
    CHECK_ERRNO(waitv(v, 0, 0, NULL, 0), EINVAL);
    CHECK_ERRNO(waitv(v, 129, 0, NULL, 0), EINVAL);
    CHECK_ERRNO(waitv(NULL, 1, 0, NULL, 0), EINVAL);
    CHECK_ERRNO(waitv(bad_ptr(0x10), 1, 0, NULL, 0), EFAULT);
    v[0].reserved = 1;
    CHECK_ERRNO(waitv(v, 2, 0, NULL, 0), EINVAL);
    v[0].reserved = 0;
    v[0].flags = 0x40;
    CHECK_ERRNO(waitv(v, 2, 0, NULL, 0), EINVAL);
    v[0].flags = FUTEX2_SIZE_U32_;
    v[0].val = 1ULL << 32;
    CHECK_ERRNO(waitv(v, 2, 0, NULL, 0), EINVAL);
    v[0].val = 0;
    v[0].uaddr = (uintptr_t)&words[0] + 1;
    CHECK_ERRNO(waitv(v, 2, 0, NULL, 0), EINVAL);
}
