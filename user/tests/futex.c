/* futex.c - futex(2) between processes, and the POSIX primitives built on it: FUTEX_WAIT
 * (EAGAIN when the word changed, ETIMEDOUT, EINTR, restart under SA_RESTART), FUTEX_WAKE across
 * fork on MAP_SHARED memory, on a System V segment attached at different addresses and on a file
 * two processes map on their own (and a named semaphore opened by both), private
 * futexes not meeting across processes nor shared ones, bitsets, CMP_REQUEUE and REQUEUE,
 * WAKE_OP, the argument errors; then a process-shared sem_t, pthread_mutex_t and
 * pthread_cond_t, whose waiters sleep (state S, no spinning) until posted, unlocked, signalled.
 * Synchronisation: pipes and wait_sleeping(), never sleeps.
 * Syscalls: futex, mmap, shmget, shmat, shmdt, shmctl, fork, wait4, kill, rt_sigaction,
 * clock_gettime, pipe2.
 */
#define _GNU_SOURCE
#define TEST_MAIN
#include "test.h"

#include <fcntl.h>
#include <linux/futex.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdint.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/syscall.h>

#include "children.h"

static long futex(uint32_t *addr, int op, uint32_t val, const struct timespec *ts, uint32_t *addr2, uint32_t val3)
{
    return syscall(SYS_futex, addr, op, val, ts, addr2, val3);
}

/* FUTEX_REQUEUE's fourth argument is a count, not a pointer. */
static long futex_requeue(uint32_t *addr, int op, uint32_t n_wake, long n_move, uint32_t *addr2, uint32_t val3)
{
    return syscall(SYS_futex, addr, op, n_wake, n_move, addr2, val3);
}

static uint32_t *shared_words(void)
{
    void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

static void on_signal(int sig) { (void)sig; }

/* A child that sleeps in FUTEX_WAIT(op) on *w (expecting 0) and exits 0 when woken, 3 on
 * another result. */
static pid_t sleeping_waiter(uint32_t *w, int op)
{
    pid_t pid = fork();
    if (pid == 0) {
        long r = futex(w, op, 0, NULL, NULL, FUTEX_BITSET_MATCH_ANY);
        _exit(r == 0 ? 0 : 3);
    }
    return pid;
}

TEST(wait_on_a_changed_word_is_eagain_and_wake_without_sleepers_is_0)
{
    uint32_t w = 1;
    CHECK_ERRNO(futex(&w, FUTEX_WAIT, 0, NULL, NULL, 0), EAGAIN);
    CHECK_ERRNO(futex(&w, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0), EAGAIN);
    CHECK_EQ(futex(&w, FUTEX_WAKE, 1, NULL, NULL, 0), 0);
    CHECK_EQ(futex(&w, FUTEX_WAKE_PRIVATE, INT32_MAX, NULL, NULL, 0), 0);
}

TEST(wait_times_out)
{
    uint32_t w = 0;
    struct timespec rel = {0, 20 * 1000 * 1000};
    uint64_t t0 = now_ns();
    CHECK_ERRNO(futex(&w, FUTEX_WAIT_PRIVATE, 0, &rel, NULL, 0), ETIMEDOUT);
    CHECK(now_ns() - t0 >= 20 * 1000 * 1000);
    /* The bitset wait's timeout is absolute: monotonic, or realtime with FUTEX_CLOCK_REALTIME. */
    struct timespec abs;
    clock_gettime(CLOCK_MONOTONIC, &abs);
    abs.tv_nsec += 10 * 1000 * 1000;
    if (abs.tv_nsec >= 1000000000) {
        abs.tv_sec++;
        abs.tv_nsec -= 1000000000;
    }
    CHECK_ERRNO(futex(&w, FUTEX_WAIT_BITSET_PRIVATE, 0, &abs, NULL, FUTEX_BITSET_MATCH_ANY), ETIMEDOUT);
    struct timespec past = {1, 0};
    CHECK_ERRNO(futex(&w, FUTEX_WAIT_BITSET_PRIVATE | FUTEX_CLOCK_REALTIME, 0, &past, NULL, FUTEX_BITSET_MATCH_ANY),
                ETIMEDOUT);
}

TEST(wake_reaches_a_process_sleeping_on_shared_memory)
{
    uint32_t *w = shared_words();
    CHECK(w != NULL);
    pid_t pid = sleeping_waiter(w, FUTEX_WAIT);
    CHECK(pid > 0);
    CHECK(wait_sleeping(pid));
    *w = 1;
    CHECK_EQ(futex(w, FUTEX_WAKE, 1, NULL, NULL, 0), 1);
    CHECK_CHILD_OK(pid);
    munmap(w, 4096);
}

TEST(wake_reaches_a_sysv_segment_attached_elsewhere)
{
    int id = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
    CHECK(id >= 0);
    uint32_t *a = shmat(id, NULL, 0);
    CHECK(a != (void *)-1);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        /* A second attachment: another address, the same word. */
        uint32_t *b = shmat(id, NULL, 0);
        CCHECK(b != (void *)-1 && b != a);
        CCHECK(futex(b + 1, FUTEX_WAIT, 0, NULL, NULL, 0) == 0);
        _exit(0);
    }
    CHECK(wait_sleeping(pid));
    CHECK_EQ(futex(a + 1, FUTEX_WAKE, 1, NULL, NULL, 0), 1);
    CHECK_CHILD_OK(pid);
    shmdt(a);
    shmctl(id, IPC_RMID, NULL);
}

TEST(private_futexes_stay_in_their_process_and_apart_from_shared_ones)
{
    uint32_t *w = shared_words();
    CHECK(w != NULL);
    pid_t pid = sleeping_waiter(w, FUTEX_WAIT_PRIVATE);
    CHECK(pid > 0);
    CHECK(wait_sleeping(pid));
    CHECK_EQ(futex(w, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0), 0); /* our address space, not its */
    CHECK_EQ(futex(w, FUTEX_WAKE, 1, NULL, NULL, 0), 0);         /* a shared key: another word */
    CHECK_EQ(proc_state(pid), 'S');
    CHECK_OK(kill(pid, SIGKILL));
    CHECK_KILLED(pid, SIGKILL);
    munmap(w, 4096);
}

static int handler_pipe = -1;

static void note_signal(int sig)
{
    (void)sig;
    write_byte(handler_pipe, 'h');
}

TEST(wait_interrupted_by_a_handler_is_eintr_or_restarts)
{
    uint32_t *w = shared_words();
    CHECK(w != NULL);
    int rep[2];
    CHECK_OK(pipe(rep));
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        close(rep[0]);
        handler_pipe = rep[1];
        struct sigaction sa = {.sa_handler = on_signal};
        CCHECK(sigaction(SIGUSR1, &sa, NULL) == 0);
        sa.sa_handler = note_signal;
        sa.sa_flags = SA_RESTART;
        CCHECK(sigaction(SIGUSR2, &sa, NULL) == 0);
        CERRNO(futex(w, FUTEX_WAIT, 0, NULL, NULL, 0), EINTR);
        write_byte(rep[1], 'e');
        /* With SA_RESTART the untimed wait goes on after the handler, until the wake. */
        CCHECK(futex(w, FUTEX_WAIT, 0, NULL, NULL, 0) == 0);
        _exit(0);
    }
    close(rep[1]);
    CHECK(wait_sleeping(pid));
    CHECK_OK(kill(pid, SIGUSR1));
    CHECK_EQ(read_byte(rep[0]), 'e');
    CHECK(wait_sleeping(pid));
    CHECK_OK(kill(pid, SIGUSR2));
    CHECK_EQ(read_byte(rep[0]), 'h'); /* the handler ran... */
    CHECK(wait_sleeping(pid));        /* ... and the wait is back */
    CHECK_EQ(futex(w, FUTEX_WAKE, 1, NULL, NULL, 0), 1);
    CHECK_CHILD_OK(pid);
    close(rep[0]);
    munmap(w, 4096);
}

TEST(bitsets_choose_whom_a_wake_reaches)
{
    uint32_t *w = shared_words();
    CHECK(w != NULL);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        CCHECK(futex(w, FUTEX_WAIT_BITSET, 0, NULL, NULL, 0x1) == 0);
        _exit(0);
    }
    CHECK(wait_sleeping(pid));
    CHECK_EQ(futex(w, FUTEX_WAKE_BITSET, 1, NULL, NULL, 0x2), 0);
    CHECK_EQ(futex(w, FUTEX_WAKE_BITSET, 1, NULL, NULL, 0x3), 1);
    CHECK_CHILD_OK(pid);
    CHECK_ERRNO(futex(w, FUTEX_WAIT_BITSET, 0, NULL, NULL, 0), EINVAL);
    CHECK_ERRNO(futex(w, FUTEX_WAKE_BITSET, 1, NULL, NULL, 0), EINVAL);
    munmap(w, 4096);
}

TEST(cmp_requeue_moves_sleepers_to_another_word)
{
    uint32_t *w = shared_words();
    CHECK(w != NULL);
    pid_t a = sleeping_waiter(&w[0], FUTEX_WAIT);
    CHECK(a > 0);
    CHECK(wait_sleeping(a));
    pid_t b = sleeping_waiter(&w[0], FUTEX_WAIT);
    CHECK(b > 0);
    CHECK(wait_sleeping(b));
    CHECK_ERRNO(futex_requeue(&w[0], FUTEX_CMP_REQUEUE, 0, 1, &w[1], 7), EAGAIN); /* w[0] is 0 */
    CHECK_ERRNO(futex_requeue(&w[0], FUTEX_CMP_REQUEUE, -1, 1, &w[1], 0), EINVAL);
    /* Wake none, move both. */
    CHECK_EQ(futex_requeue(&w[0], FUTEX_CMP_REQUEUE, 0, 2, &w[1], 0), 2);
    CHECK_EQ(futex(&w[0], FUTEX_WAKE, 2, NULL, NULL, 0), 0);
    CHECK_EQ(futex(&w[1], FUTEX_WAKE, 1, NULL, NULL, 0), 1);
    /* Plain REQUEUE: wake the other one on the way. */
    CHECK_EQ(futex_requeue(&w[1], FUTEX_REQUEUE, 1, 0, &w[2], 0), 1);
    CHECK_CHILD_OK(a);
    CHECK_CHILD_OK(b);
    munmap(w, 4096);
}

TEST(wake_op_changes_the_second_word_and_wakes_by_its_old_value)
{
    uint32_t *w = shared_words();
    CHECK(w != NULL);
    w[1] = 0;
    pid_t pid = sleeping_waiter(&w[1], FUTEX_WAIT);
    CHECK(pid > 0);
    CHECK(wait_sleeping(pid));
    /* w[1] += 3; wake w[1]'s sleepers if the old value was 0. */
    uint32_t op = FUTEX_OP(FUTEX_OP_ADD, 3, FUTEX_OP_CMP_EQ, 0);
    CHECK_EQ(futex_requeue(&w[0], FUTEX_WAKE_OP, 1, 1, &w[1], op), 1);
    CHECK_EQ(w[1], 3);
    CHECK_CHILD_OK(pid);
    /* w[1] = 1 << 4; the old value 3 is not > 5: nobody to wake on w[1] anyway. */
    op = FUTEX_OP((FUTEX_OP_SET | FUTEX_OP_OPARG_SHIFT), 4, FUTEX_OP_CMP_GT, 5);
    CHECK_EQ(futex_requeue(&w[0], FUTEX_WAKE_OP, 1, 1, &w[1], op), 0);
    CHECK_EQ(w[1], 16);
    CHECK_ERRNO(futex_requeue(&w[0], FUTEX_WAKE_OP, 1, 1, &w[1], FUTEX_OP(FUTEX_OP_ADD, 1, 9, 0)), ENOSYS);
    munmap(w, 4096);
}

TEST(argument_errors)
{
    static uint32_t words[2];
    char *base = (char *)words;
    CHECK_ERRNO(futex((uint32_t *)(base + 1), FUTEX_WAIT, 0, NULL, NULL, 0), EINVAL);
    CHECK_ERRNO(futex((uint32_t *)(base + 2), FUTEX_WAKE, 1, NULL, NULL, 0), EINVAL);
    CHECK_ERRNO(futex(NULL, FUTEX_WAIT, 0, NULL, NULL, 0), EFAULT);
    CHECK_ERRNO(futex(NULL, FUTEX_WAKE, 1, NULL, NULL, 0), EFAULT);      /* a shared key needs a mapping */
    CHECK_EQ(futex(NULL, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0), 0);      /* a private one does not */
    CHECK_ERRNO(futex(bad_ptr(0xffff800000000000UL), FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0), EFAULT);
    struct timespec bad = {0, 2000000000};
    CHECK_ERRNO(futex(words, FUTEX_WAIT, 0, &bad, NULL, 0), EINVAL);
    CHECK_ERRNO(futex(words, FUTEX_WAIT, 0, bad_ptr(1), NULL, 0), EFAULT);
    CHECK_ERRNO(futex(words, 99, 0, NULL, NULL, 0), ENOSYS);
    CHECK_ERRNO(futex(words, FUTEX_WAKE | FUTEX_CLOCK_REALTIME, 1, NULL, NULL, 0), ENOSYS);
}

TEST(process_shared_semaphore_sleeps_until_posted)
{
    sem_t *s = mmap(NULL, sizeof *s, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    CHECK(s != MAP_FAILED);
    CHECK_OK(sem_init(s, 1, 0));
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        CCHECK(sem_wait(s) == 0);
        CCHECK(sem_wait(s) == 0);
        _exit(0);
    }
    CHECK(wait_sleeping(pid)); /* asleep in the kernel, not spinning */
    CHECK_OK(sem_post(s));
    CHECK(wait_sleeping(pid));
    CHECK_OK(sem_post(s));
    CHECK_CHILD_OK(pid);
    int v = -1;
    CHECK_OK(sem_getvalue(s, &v));
    CHECK_EQ(v, 0);
    sem_destroy(s);
    munmap(s, sizeof *s);
}

TEST(process_shared_mutex_sleeps_until_unlocked)
{
    pthread_mutex_t *m = mmap(NULL, sizeof *m, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    CHECK(m != MAP_FAILED);
    pthread_mutexattr_t at;
    pthread_mutexattr_init(&at);
    pthread_mutexattr_setpshared(&at, PTHREAD_PROCESS_SHARED);
    CHECK_EQ(pthread_mutex_init(m, &at), 0);
    CHECK_EQ(pthread_mutex_lock(m), 0);
    int rep[2];
    CHECK_OK(pipe(rep));
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        close(rep[0]);
        CCHECK(pthread_mutex_trylock(m) == EBUSY);
        CCHECK(pthread_mutex_lock(m) == 0);
        write_byte(rep[1], 'l');
        CCHECK(pthread_mutex_unlock(m) == 0);
        _exit(0);
    }
    close(rep[1]);
    CHECK(wait_sleeping(pid));
    CHECK_EQ(pthread_mutex_unlock(m), 0);
    CHECK_EQ(read_byte(rep[0]), 'l');
    CHECK_CHILD_OK(pid);
    CHECK_EQ(pthread_mutex_lock(m), 0);
    CHECK_EQ(pthread_mutex_unlock(m), 0);
    close(rep[0]);
    munmap(m, sizeof *m);
}

TEST(process_shared_condition_variable_sleeps_until_signalled)
{
    struct shared {
        pthread_mutex_t m;
        pthread_cond_t c;
        int ready;
    } *s = mmap(NULL, sizeof(struct shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    CHECK(s != MAP_FAILED);
    pthread_mutexattr_t ma;
    pthread_mutexattr_init(&ma);
    pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setpshared(&ca, PTHREAD_PROCESS_SHARED);
    CHECK_EQ(pthread_mutex_init(&s->m, &ma), 0);
    CHECK_EQ(pthread_cond_init(&s->c, &ca), 0);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        CCHECK(pthread_mutex_lock(&s->m) == 0);
        while (!s->ready)
            CCHECK(pthread_cond_wait(&s->c, &s->m) == 0);
        CCHECK(pthread_mutex_unlock(&s->m) == 0);
        _exit(0);
    }
    CHECK(wait_sleeping(pid)); /* in pthread_cond_wait, the mutex released */
    CHECK_EQ(pthread_mutex_lock(&s->m), 0);
    s->ready = 1;
    CHECK_EQ(pthread_cond_signal(&s->c), 0);
    CHECK_EQ(pthread_mutex_unlock(&s->m), 0);
    CHECK_CHILD_OK(pid);
    munmap(s, sizeof(struct shared));
}

TEST(a_file_mapped_separately_by_two_processes_is_one_futex)
{
    char path[64];
    snprintf(path, sizeof path, "/tmp/futex-file-%d", getpid());
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    CHECK(fd >= 0);
    CHECK_OK(ftruncate(fd, 4096));
    close(fd);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        /* Our own open and our own mapping: only the file is shared. */
        int cfd = open(path, O_RDWR);
        CCHECK(cfd >= 0);
        uint32_t *cw = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, cfd, 0);
        CCHECK(cw != MAP_FAILED);
        CCHECK(futex(cw + 3, FUTEX_WAIT, 0, NULL, NULL, 0) == 0);
        _exit(0);
    }
    CHECK(wait_sleeping(pid));
    fd = open(path, O_RDWR);
    CHECK(fd >= 0);
    uint32_t *w = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK(w != MAP_FAILED);
    CHECK_EQ(futex(w + 3, FUTEX_WAKE, 1, NULL, NULL, 0), 1);
    CHECK_CHILD_OK(pid);
    munmap(w, 4096);
    close(fd);
    unlink(path);
}

TEST(named_semaphore_opened_by_two_processes)
{
    char name[64];
    snprintf(name, sizeof name, "/futex-test-%d", getpid());
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        sem_t *s = sem_open(name, O_CREAT, 0600, 0);
        CCHECK(s != SEM_FAILED);
        CCHECK(sem_wait(s) == 0);
        _exit(0);
    }
    CHECK(wait_sleeping(pid));
    sem_t *s = sem_open(name, O_CREAT, 0600, 0);
    CHECK(s != SEM_FAILED);
    CHECK_OK(sem_post(s));
    CHECK_CHILD_OK(pid);
    sem_close(s);
    sem_unlink(name);
}
