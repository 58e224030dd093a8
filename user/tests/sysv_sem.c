/* sysv_sem.c - System V semaphores: semget (keys, IPC_CREAT/IPC_EXCL, nsems limits), semctl
 * (GETVAL, SETVAL, GETALL, SETALL, GETPID, GETNCNT, GETZCNT, IPC_STAT, IPC_SET, IPC_RMID,
 * IPC_INFO, SEM_INFO, SEM_STAT, SEM_STAT_ANY), semop and semtimedop: all-or-nothing operation
 * lists, operations seeing earlier ones, IPC_NOWAIT (EAGAIN), blocking and wake-up, wait for
 * zero, timeouts (EAGAIN), removal (EIDRM), signals (EINTR even with SA_RESTART), the SEM_UNDO
 * range counted across a list, SEM_UNDO at exit (clamped, not inherited by fork),
 * E2BIG/EFBIG/ERANGE/EINVAL/EFAULT, permissions as uid 65534, several processes contending on
 * one set, /proc/sysvipc/sem.
 * Whether a child sleeps in semop is read from GETNCNT/GETZCNT, never from timing.
 * Every set a case creates is removed with IPC_RMID, also when a check fails.
 * Syscalls: semget, semop, semtimedop, semctl, shmget, shmat, shmdt, shmctl, fork, wait4,
 * kill, rt_sigaction, setuid, setgid, pipe2, read, write, openat, clock_gettime, sched_yield.
 */
#define _GNU_SOURCE
#define TEST_MAIN
#include "test.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/ipc.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <time.h>

#include "children.h"

#define NOBODY 65534

#ifndef SEM_STAT_ANY
#define SEM_STAT_ANY 20
#endif

union semun {
    int val;
    struct semid_ds *buf;
    unsigned short *array;
    struct seminfo *__buf;
};

#define AS_NOBODY(...)                                                                \
    do {                                                                              \
        pid_t p_ = fork();                                                            \
        CHECK(p_ >= 0);                                                               \
        if (p_ == 0) {                                                                \
            CCHECK(setgid(NOBODY) == 0 && setuid(NOBODY) == 0);                       \
            __VA_ARGS__;                                                              \
            _exit(0);                                                                 \
        }                                                                             \
        CHECK_EXITED(p_, 0);                                                          \
    } while (0)

static key_t test_key(int n)
{
    return (key_t)(0x5b000000 | ((getpid() & 0xffff) << 8) | n);
}

static int ids[16];
static int nids;

static int make(key_t key, int nsems, int flags)
{
    int id = semget(key, nsems, flags);
    if (id >= 0 && nids < 16)
        ids[nids++] = id;
    return id;
}

static void cleanup(void)
{
    for (int i = 0; i < nids; i++)
        semctl(ids[i], 0, IPC_RMID);
    nids = 0;
}

static int op(int id, unsigned short num, short delta, short flags)
{
    struct sembuf b = {num, delta, flags};
    return semop(id, &b, 1);
}

/* Waits (bounded, 20 s) until `cmd` (GETNCNT/GETZCNT) of semaphore `num` reaches `want`: the
 * children are then asleep in semop. */
static int wait_count(int id, int num, int cmd, int want)
{
    for (int i = 0; i < 20000; i++) {
        int n = semctl(id, num, cmd);
        if (n == want)
            return 1;
        if (n < 0)
            return 0;
        usleep(1000);
    }
    return 0;
}

static void create_stat_and_defaults_(void)
{
    time_t t0 = time(NULL);
    int id = make(IPC_PRIVATE, 3, 0640);
    CHECK(id >= 0);
    unsigned short vals[3] = {9, 9, 9};
    CHECK_OK(semctl(id, 0, GETALL, (union semun){.array = vals}));
    CHECK(vals[0] == 0 && vals[1] == 0 && vals[2] == 0);
    struct semid_ds ds;
    CHECK_EQ(semctl(id, 0, IPC_STAT, (union semun){.buf = &ds}), 0);
    CHECK_EQ(ds.sem_nsems, 3);
    CHECK_EQ(ds.sem_otime, 0);
    CHECK(ds.sem_ctime >= t0);
    CHECK_EQ(ds.sem_perm.mode & 0777, 0640);
    CHECK_EQ(ds.sem_perm.uid, geteuid());
    CHECK_EQ(ds.sem_perm.cgid, getegid());
    CHECK_EQ(semctl(id, 1, GETPID), 0);
    CHECK_EQ(semctl(id, 2, GETNCNT), 0);
    CHECK_EQ(semctl(id, 2, GETZCNT), 0);
}
TEST(create_stat_and_defaults) { create_stat_and_defaults_(); cleanup(); }

static void keys_creat_excl_enoent_(void)
{
    key_t key = test_key(1);
    int id = make(key, 2, IPC_CREAT | 0600);
    CHECK(id >= 0);
    CHECK_EQ(semget(key, 0, 0), id);
    CHECK_EQ(semget(key, 2, IPC_CREAT | 0600), id);
    CHECK_ERRNO(semget(key, 3, 0), EINVAL);
    CHECK_ERRNO(semget(key, 1, IPC_CREAT | IPC_EXCL | 0600), EEXIST);
    CHECK_ERRNO(semget(test_key(2), 1, 0600), ENOENT);
    CHECK_OK(semctl(id, 0, IPC_RMID));
    CHECK_ERRNO(semget(key, 0, 0), ENOENT);
    CHECK_ERRNO(semctl(id, 0, GETVAL), EINVAL);
    int again = make(IPC_PRIVATE, 1, 0600);
    CHECK(again >= 0);
    CHECK_NE(again, id);
}
TEST(keys_creat_excl_enoent) { keys_creat_excl_enoent_(); cleanup(); }

static void setval_setall_getpid_(void)
{
    int id = make(IPC_PRIVATE, 3, 0600);
    CHECK(id >= 0);
    CHECK_OK(semctl(id, 1, SETVAL, (union semun){.val = 5}));
    CHECK_EQ(semctl(id, 1, GETVAL), 5);
    CHECK_EQ(semctl(id, 1, GETPID), getpid());
    unsigned short in[3] = {1, 32767, 3}, out[3];
    CHECK_OK(semctl(id, 0, SETALL, (union semun){.array = in}));
    CHECK_OK(semctl(id, 0, GETALL, (union semun){.array = out}));
    CHECK(out[0] == 1 && out[1] == 32767 && out[2] == 3);
    CHECK_EQ(semctl(id, 2, GETPID), getpid());
}
TEST(setval_setall_getpid) { setval_setall_getpid_(); cleanup(); }

static void errors_(void)
{
    CHECK_ERRNO(semget(IPC_PRIVATE, 0, 0600), EINVAL);
    CHECK_ERRNO(semget(IPC_PRIVATE, -1, 0600), EINVAL);
    CHECK_ERRNO(semget(IPC_PRIVATE, 32001, 0600), EINVAL);
    int id = make(IPC_PRIVATE, 2, 0600);
    CHECK(id >= 0);
    struct sembuf ops[501];
    memset(ops, 0, sizeof ops);
    CHECK_ERRNO(semop(id, ops, 0), EINVAL);
    CHECK_ERRNO(semop(-1, ops, 1), EINVAL);
    CHECK_ERRNO(semop(id, ops, 501), E2BIG);
    CHECK_ERRNO(op(id + 1, 0, 1, 0), EINVAL);
    CHECK_ERRNO(op(id, 2, 1, 0), EFBIG);
    CHECK_ERRNO(semop(id, (struct sembuf *)8, 1), EFAULT);
    CHECK_ERRNO(semctl(id, 0, SETVAL, (union semun){.val = -1}), ERANGE);
    CHECK_ERRNO(semctl(id, 0, SETVAL, (union semun){.val = 32768}), ERANGE);
    CHECK_ERRNO(semctl(id, 2, SETVAL, (union semun){.val = 1}), EINVAL);
    CHECK_ERRNO(semctl(id, -1, GETVAL), EINVAL);
    CHECK_ERRNO(semctl(id, 5, GETNCNT), EINVAL);
    CHECK_ERRNO(semctl(id, 0, 9999), EINVAL);
    CHECK_ERRNO(semctl(-1, 0, GETVAL), EINVAL);
    unsigned short big[2] = {1, 40000};
    CHECK_ERRNO(semctl(id, 0, SETALL, (union semun){.array = big}), ERANGE);
    CHECK_EQ(semctl(id, 0, GETVAL), 0); /* nothing was set */
    CHECK_ERRNO(semctl(id, 0, SETALL, (union semun){.array = (unsigned short *)8}), EFAULT);
    CHECK_ERRNO(semctl(id, 0, GETALL, (union semun){.array = (unsigned short *)8}), EFAULT);
    CHECK_ERRNO(semctl(id, 0, IPC_STAT, (union semun){.buf = (struct semid_ds *)8}), EFAULT);
    /* A result above SEMVMX is ERANGE. */
    CHECK_OK(semctl(id, 0, SETVAL, (union semun){.val = 32767}));
    CHECK_ERRNO(op(id, 0, 1, 0), ERANGE);
    CHECK_EQ(semctl(id, 0, GETVAL), 32767);
}
TEST(errors) { errors_(); cleanup(); }

static void operation_lists_are_all_or_nothing_(void)
{
    int id = make(IPC_PRIVATE, 2, 0600);
    CHECK(id >= 0);
    CHECK_OK(semctl(id, 0, SETVAL, (union semun){.val = 1}));
    struct sembuf both[2] = {{0, -1, IPC_NOWAIT}, {1, -1, IPC_NOWAIT}};
    CHECK_ERRNO(semop(id, both, 2), EAGAIN);
    CHECK_EQ(semctl(id, 0, GETVAL), 1); /* the first operation was undone */
    /* ERANGE later in the list undoes the earlier ones too. */
    CHECK_OK(semctl(id, 1, SETVAL, (union semun){.val = 32767}));
    struct sembuf range[2] = {{0, 1, 0}, {1, 1, 0}};
    CHECK_ERRNO(semop(id, range, 2), ERANGE);
    CHECK_EQ(semctl(id, 0, GETVAL), 1);
    /* Later operations see earlier ones: +1 then -2 on the same semaphore. */
    struct sembuf seq[2] = {{0, 1, 0}, {0, -2, IPC_NOWAIT}};
    CHECK_OK(semop(id, seq, 2));
    CHECK_EQ(semctl(id, 0, GETVAL), 0);
    /* Wait-for-zero with IPC_NOWAIT. */
    CHECK_OK(op(id, 0, 0, IPC_NOWAIT));
    CHECK_ERRNO(op(id, 1, 0, IPC_NOWAIT), EAGAIN);
    struct semid_ds ds;
    CHECK_OK(semctl(id, 0, IPC_STAT, (union semun){.buf = &ds}));
    CHECK(ds.sem_otime > 0);
    CHECK_EQ(semctl(id, 0, GETPID), getpid());
}
TEST(operation_lists_are_all_or_nothing) { operation_lists_are_all_or_nothing_(); cleanup(); }

static void blocked_semop_wakes_on_post_(void)
{
    int id = make(IPC_PRIVATE, 2, 0600);
    CHECK(id >= 0);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        struct sembuf ops[2] = {{0, -1, 0}, {1, -2, 0}};
        CCHECK(semop(id, ops, 2) == 0);
        _exit(0);
    }
    CHECK(wait_count(id, 0, GETNCNT, 1));
    CHECK_EQ(semctl(id, 1, GETNCNT), 0); /* counted on the operation it blocks on */
    CHECK_OK(op(id, 0, 1, 0));
    CHECK(wait_count(id, 1, GETNCNT, 1)); /* now waiting for semaphore 1 */
    CHECK_OK(op(id, 1, 1, 0));
    CHECK_EQ(semctl(id, 1, GETNCNT), 1); /* 1 is not enough */
    CHECK_OK(op(id, 1, 1, 0));
    CHECK_EXITED(pid, 0);
    CHECK_EQ(semctl(id, 0, GETVAL), 0);
    CHECK_EQ(semctl(id, 1, GETVAL), 0);
    CHECK_EQ(semctl(id, 1, GETPID), pid);
    CHECK_EQ(semctl(id, 0, GETNCNT), 0);
}
TEST(blocked_semop_wakes_on_post) { blocked_semop_wakes_on_post_(); cleanup(); }

static void wait_for_zero_(void)
{
    int id = make(IPC_PRIVATE, 1, 0600);
    CHECK(id >= 0);
    CHECK_OK(semctl(id, 0, SETVAL, (union semun){.val = 2}));
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        CCHECK(op(id, 0, 0, 0) == 0);
        _exit(0);
    }
    CHECK(wait_count(id, 0, GETZCNT, 1));
    CHECK_EQ(semctl(id, 0, GETNCNT), 0);
    CHECK_OK(op(id, 0, -1, 0));
    CHECK_EQ(semctl(id, 0, GETZCNT), 1);
    CHECK_OK(semctl(id, 0, SETVAL, (union semun){.val = 0}));
    CHECK_EXITED(pid, 0);
    CHECK_EQ(semctl(id, 0, GETZCNT), 0);
}
TEST(wait_for_zero) { wait_for_zero_(); cleanup(); }

static void semtimedop_times_out_with_eagain_(void)
{
    int id = make(IPC_PRIVATE, 1, 0600);
    CHECK(id >= 0);
    struct sembuf b = {0, -1, 0};
    struct timespec t0, t1, tmo = {0, 50 * 1000 * 1000};
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CHECK_ERRNO(semtimedop(id, &b, 1, &tmo), EAGAIN);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    CHECK(ms >= 45);
    struct timespec zero = {0, 0};
    CHECK_ERRNO(semtimedop(id, &b, 1, &zero), EAGAIN);
    struct timespec bad = {0, 1000000000};
    CHECK_ERRNO(semtimedop(id, &b, 1, &bad), EINVAL);
    bad.tv_sec = -1;
    bad.tv_nsec = 0;
    CHECK_ERRNO(semtimedop(id, &b, 1, &bad), EINVAL);
    CHECK_ERRNO(semtimedop(id, &b, 1, (struct timespec *)8), EFAULT);
    /* A timeout that is not reached: the operation succeeds. */
    CHECK_OK(op(id, 0, 1, 0));
    struct timespec long_tmo = {30, 0};
    CHECK_OK(semtimedop(id, &b, 1, &long_tmo));
    CHECK_EQ(semctl(id, 0, GETNCNT), 0);
}
TEST(semtimedop_times_out_with_eagain) { semtimedop_times_out_with_eagain_(); cleanup(); }

static void removal_wakes_sleepers_with_eidrm_(void)
{
    int id = make(IPC_PRIVATE, 1, 0600);
    CHECK(id >= 0);
    CHECK_OK(semctl(id, 0, SETVAL, (union semun){.val = 1}));
    pid_t kids[2];
    for (int i = 0; i < 2; i++) {
        kids[i] = fork();
        CHECK(kids[i] >= 0);
        if (kids[i] == 0) {
            /* One waits to take 2, the other for zero: both sleep until the removal. */
            CERRNO(op(id, 0, i == 0 ? -2 : 0, 0), EIDRM);
            _exit(0);
        }
    }
    CHECK(wait_count(id, 0, GETNCNT, 1));
    CHECK(wait_count(id, 0, GETZCNT, 1));
    CHECK_OK(semctl(id, 0, IPC_RMID));
    CHECK_EXITED(kids[0], 0);
    CHECK_EXITED(kids[1], 0);
    CHECK_ERRNO(op(id, 0, 1, 0), EINVAL);
}
TEST(removal_wakes_sleepers_with_eidrm) { removal_wakes_sleepers_with_eidrm_(); cleanup(); }

static volatile sig_atomic_t got_signal;
static void on_signal(int sig) { got_signal = sig; }

static void signal_interrupts_with_eintr_(void)
{
    int id = make(IPC_PRIVATE, 1, 0600);
    CHECK(id >= 0);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_signal;
        sa.sa_flags = SA_RESTART; /* semop is not restarted all the same */
        CCHECK(sigaction(SIGUSR1, &sa, NULL) == 0);
        CERRNO(op(id, 0, -1, 0), EINTR);
        CCHECK(got_signal == SIGUSR1);
        _exit(0);
    }
    CHECK(wait_count(id, 0, GETNCNT, 1));
    CHECK_OK(kill(pid, SIGUSR1));
    CHECK_EXITED(pid, 0);
    CHECK_EQ(semctl(id, 0, GETNCNT), 0);
    CHECK_EQ(semctl(id, 0, GETVAL), 0);
}
TEST(signal_interrupts_with_eintr) { signal_interrupts_with_eintr_(); cleanup(); }

static void sem_undo_is_applied_at_exit_(void)
{
    int id = make(IPC_PRIVATE, 2, 0600);
    CHECK(id >= 0);
    int ready[2], go[2];
    CHECK_OK(pipe(ready));
    CHECK_OK(pipe(go));
    CHECK_OK(semctl(id, 1, SETVAL, (union semun){.val = 5}));
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        struct sembuf ops[2] = {{0, 2, SEM_UNDO}, {1, -3, SEM_UNDO}};
        CCHECK(semop(id, ops, 2) == 0);
        CCHECK(write(ready[1], "r", 1) == 1);
        char c;
        CCHECK(read(go[0], &c, 1) == 1);
        _exit(0);
    }
    char c;
    CHECK_EQ(read(ready[0], &c, 1), 1);
    CHECK_EQ(semctl(id, 0, GETVAL), 2);
    CHECK_EQ(semctl(id, 1, GETVAL), 2);
    /* Take 1 from semaphore 0 meanwhile: undoing +2 would go below zero, Linux clamps at 0. */
    CHECK_OK(op(id, 0, -1, 0));
    CHECK_EQ(write(go[1], "g", 1), 1);
    CHECK_EXITED(pid, 0);
    CHECK_EQ(semctl(id, 0, GETVAL), 0);
    CHECK_EQ(semctl(id, 1, GETVAL), 5);
    CHECK_EQ(semctl(id, 0, GETPID), pid);
    for (int i = 0; i < 2; i++) {
        close(ready[i]);
        close(go[i]);
    }
}
TEST(sem_undo_is_applied_at_exit) { sem_undo_is_applied_at_exit_(); cleanup(); }

/* The SEM_UNDO range (SEMAEM) bounds the adjustment as the list moves it, not as it was
 * before the call: Linux's path for a list that names a semaphore twice. */
static void sem_undo_range_counts_the_whole_list_(void)
{
    int id = make(IPC_PRIVATE, 1, 0600);
    CHECK(id >= 0);
    /* Values 30000, 0, 30000 stay in range, but the adjustment would reach -60000. */
    struct sembuf over[3] = {{0, 30000, SEM_UNDO}, {0, -30000, 0}, {0, 30000, SEM_UNDO}};
    CHECK_ERRNO(semop(id, over, 3), ERANGE);
    CHECK_EQ(semctl(id, 0, GETVAL), 0);
    /* Coming back within the list keeps it in range. */
    struct sembuf back[3] = {{0, 30000, SEM_UNDO}, {0, -30000, SEM_UNDO}, {0, 30000, SEM_UNDO}};
    CHECK_OK(semop(id, back, 3));
    CHECK_EQ(semctl(id, 0, GETVAL), 30000);
    /* Across calls too: the adjustment is -30000 now. */
    CHECK_OK(op(id, 0, -30000, 0));
    CHECK_ERRNO(op(id, 0, 30000, SEM_UNDO), ERANGE);
    CHECK_EQ(semctl(id, 0, GETVAL), 0);
}
TEST(sem_undo_range_counts_the_whole_list) { sem_undo_range_counts_the_whole_list_(); cleanup(); }

static void sem_undo_cleared_by_setval_and_not_inherited_(void)
{
    int id = make(IPC_PRIVATE, 1, 0600);
    CHECK(id >= 0);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        CCHECK(op(id, 0, 3, SEM_UNDO) == 0);
        /* SETVAL forgets the adjustment: nothing is undone at exit. */
        CCHECK(semctl(id, 0, SETVAL, (union semun){.val = 4}) == 0);
        /* A forked child does not inherit the undo list. */
        CCHECK(op(id, 0, 1, SEM_UNDO) == 0);
        pid_t g = fork();
        CCHECK(g >= 0);
        if (g == 0)
            _exit(0);
        CCHECK(child_status(g) == 0);
        CCHECK(semctl(id, 0, GETVAL) == 5);
        _exit(0);
    }
    CHECK_EXITED(pid, 0);
    CHECK_EQ(semctl(id, 0, GETVAL), 4);
}
TEST(sem_undo_cleared_by_setval_and_not_inherited) { sem_undo_cleared_by_setval_and_not_inherited_(); cleanup(); }

static void processes_contend_on_one_set_(void)
{
    enum { KIDS = 4, ROUNDS = 150 };
    int id = make(IPC_PRIVATE, 1, 0600);
    CHECK(id >= 0);
    CHECK_OK(semctl(id, 0, SETVAL, (union semun){.val = 1}));
    int shm = shmget(IPC_PRIVATE, 4096, 0600);
    CHECK(shm >= 0);
    volatile long *counter = shmat(shm, NULL, 0);
    shmctl(shm, IPC_RMID, NULL); /* freed when the last process detaches */
    CHECK(counter != (void *)-1);
    *counter = 0;
    pid_t kids[KIDS];
    for (int k = 0; k < KIDS; k++) {
        kids[k] = fork();
        CHECK(kids[k] >= 0);
        if (kids[k] == 0) {
            for (int i = 0; i < ROUNDS; i++) {
                CCHECK(op(id, 0, -1, SEM_UNDO) == 0);
                long v = *counter; /* a critical section that breaks without the lock */
                sched_yield();
                *counter = v + 1;
                CCHECK(op(id, 0, 1, SEM_UNDO) == 0);
            }
            _exit(0);
        }
    }
    for (int k = 0; k < KIDS; k++)
        CHECK_EXITED(kids[k], 0);
    CHECK_EQ(*counter, KIDS * ROUNDS);
    CHECK_EQ(semctl(id, 0, GETVAL), 1);
    CHECK_OK(shmdt((void *)counter));
}
TEST(processes_contend_on_one_set) { processes_contend_on_one_set_(); cleanup(); }

static void permissions_as_nobody_(void)
{
    int id = make(IPC_PRIVATE, 1, 0600);
    int ro = make(IPC_PRIVATE, 1, 0644);
    int own = make(IPC_PRIVATE, 1, 0600);
    CHECK(id >= 0 && ro >= 0 && own >= 0);
    struct semid_ds ds;
    CHECK_OK(semctl(own, 0, IPC_STAT, (union semun){.buf = &ds}));
    ds.sem_perm.uid = NOBODY;
    CHECK_OK(semctl(own, 0, IPC_SET, (union semun){.buf = &ds}));
    AS_NOBODY({
        struct semid_ds d;
        CERRNO(op(id, 0, 1, 0), EACCES);
        CERRNO(op(id, 0, 0, IPC_NOWAIT), EACCES);
        CERRNO(semctl(id, 0, GETVAL), EACCES);
        CERRNO(semctl(id, 0, SETVAL, (union semun){.val = 1}), EACCES);
        CERRNO(semctl(id, 0, IPC_STAT, (union semun){.buf = &d}), EACCES);
        CERRNO(semctl(id, 0, IPC_RMID), EPERM);
        CERRNO(semctl(id, 0, IPC_SET, (union semun){.buf = &d}), EPERM);
        /* 0644: reading and waiting for zero are allowed, altering is not. */
        CCHECK(semctl(ro, 0, GETVAL) == 0);
        CCHECK(op(ro, 0, 0, IPC_NOWAIT) == 0);
        CERRNO(op(ro, 0, 1, 0), EACCES);
        /* SEM_STAT needs read permission, SEM_STAT_ANY does not. */
        struct seminfo info;
        int maxidx = semctl(0, 0, SEM_INFO, (union semun){.__buf = &info}), seen = 0;
        CCHECK(maxidx >= 0);
        for (int i = 0; i <= maxidx && !seen; i++) {
            if (semctl(i, 0, SEM_STAT_ANY, (union semun){.buf = &d}) == id) {
                seen = 1;
                CERRNO(semctl(i, 0, SEM_STAT, (union semun){.buf = &d}), EACCES);
            }
        }
        CCHECK(seen);
        /* The owner may alter, change and remove. */
        CCHECK(op(own, 0, 1, 0) == 0);
        CCHECK(semctl(own, 0, IPC_STAT, (union semun){.buf = &d}) == 0);
        d.sem_perm.mode = 0666;
        CCHECK(semctl(own, 0, IPC_SET, (union semun){.buf = &d}) == 0);
        CCHECK(semctl(own, 0, IPC_RMID) == 0);
    });
    CHECK_ERRNO(semctl(own, 0, GETVAL), EINVAL);
}
TEST(permissions_as_nobody) { permissions_as_nobody_(); cleanup(); }

static void ipc_set_changes_owner_and_mode_(void)
{
    int id = make(IPC_PRIVATE, 2, 0600);
    CHECK(id >= 0);
    struct semid_ds ds;
    CHECK_OK(semctl(id, 0, IPC_STAT, (union semun){.buf = &ds}));
    ds.sem_perm.uid = 1000;
    ds.sem_perm.gid = 1001;
    ds.sem_perm.mode = 0664;
    ds.sem_nsems = 99; /* ignored */
    CHECK_OK(semctl(id, 0, IPC_SET, (union semun){.buf = &ds}));
    memset(&ds, 0, sizeof ds);
    CHECK_OK(semctl(id, 0, IPC_STAT, (union semun){.buf = &ds}));
    CHECK_EQ(ds.sem_perm.uid, 1000);
    CHECK_EQ(ds.sem_perm.gid, 1001);
    CHECK_EQ(ds.sem_perm.cuid, geteuid());
    CHECK_EQ(ds.sem_perm.mode & 0777, 0664);
    CHECK_EQ(ds.sem_nsems, 2);
}
TEST(ipc_set_changes_owner_and_mode) { ipc_set_changes_owner_and_mode_(); cleanup(); }

static void info_and_stat_(void)
{
    int id = make(IPC_PRIVATE, 7, 0600);
    CHECK(id >= 0);
    struct seminfo info;
    int maxidx = semctl(0, 0, IPC_INFO, (union semun){.__buf = &info});
    CHECK(maxidx >= 0);
    CHECK_EQ(info.semmsl, 32000);
    CHECK_EQ(info.semopm, 500);
    CHECK_EQ(info.semvmx, 32767);
    CHECK_EQ(info.semmni, 32000);
    CHECK_EQ(info.semmns, 1024000000);
    CHECK_EQ(info.semusz, 20);
    CHECK_EQ(info.semaem, 32767);
    CHECK_EQ(semctl(0, 0, SEM_INFO, (union semun){.__buf = &info}), maxidx);
    CHECK(info.semusz >= 1); /* sets in use */
    CHECK(info.semaem >= 7); /* semaphores in use */
    int found = 0;
    for (int i = 0; i <= maxidx; i++) {
        struct semid_ds ds;
        if (semctl(i, 0, SEM_STAT, (union semun){.buf = &ds}) == id) {
            found = 1;
            CHECK_EQ(ds.sem_nsems, 7);
        }
    }
    CHECK(found);
}
TEST(info_and_stat) { info_and_stat_(); cleanup(); }

static void proc_sysvipc_sem_(void)
{
    key_t key = test_key(3);
    int id = make(key, 4, IPC_CREAT | 0604);
    CHECK(id >= 0);
    static char buf[65536];
    int fd = open("/proc/sysvipc/sem", O_RDONLY);
    CHECK(fd >= 0);
    size_t len = 0;
    ssize_t n;
    while (len + 1 < sizeof buf && (n = read(fd, buf + len, sizeof buf - 1 - len)) > 0)
        len += (size_t)n;
    close(fd);
    buf[len] = '\0';
    const char *header = "       key      semid perms      nsems   uid   gid  cuid  cgid      otime      ctime\n";
    CHECK(strncmp(buf, header, strlen(header)) == 0);
    char want[128];
    snprintf(want, sizeof want, "\n%10d %10d  %4o %10u %5u %5u %5u %5u %10u ", (int)key, id, 0604, 4,
             (unsigned)geteuid(), (unsigned)getegid(), (unsigned)geteuid(), (unsigned)getegid(), 0);
    if (!strstr(buf, want))
        FAIL("no line starting '%s' in:\n%s", want + 1, buf);
}
TEST(proc_sysvipc_sem) { proc_sysvipc_sem_(); cleanup(); }
