/* ipc_limits.c - no user program can fill the kernel through System V IPC or POSIX message
 * queues (issue 11): the object limits end in Linux's errno (ENOSPC at msgmni, semmni, shmmni
 * and queues_max), memory running out ends in ENOMEM, and afterwards the objects can be
 * removed and made again.
 *
 * The limit cases run as nobody in a forked child. On Linux the child first enters a new IPC
 * namespace (unshare(CLONE_NEWIPC), as root, before dropping privileges), so that filling the
 * tables neither meets nor disturbs the host's other users of them; POSIX-X has one namespace,
 * the guest's own, and the child fills that. Filling the kernel's memory runs on POSIX-X only
 * (on Linux it would take gigabytes of the host's).
 *
 * Syscalls: fork, unshare, setuid, msgget, msgsnd, msgctl, semget, semctl, semop, shmget,
 * shmctl, mq_open, mq_unlink, mq_close, setrlimit, wait4.
 */
#define _GNU_SOURCE
#define TEST_MAIN
#include "test.h"

#include <fcntl.h>
#include <mqueue.h>
#include <sched.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/resource.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/wait.h>

#define MAX_IDS 70000
static int ids[MAX_IDS];

/* Exit statuses of the children. */
enum { DONE = 0, NO_NAMESPACE = 10, NO_DROP = 11, WRONG_ERRNO = 12, NOT_REMOVED = 13,
       NOT_AGAIN = 14, TOO_FEW = 15 };

/* The child's side of a table: in its own IPC namespace on Linux, then as nobody. */
static int enter(int as_nobody)
{
    if (!on_posix_x() && unshare(CLONE_NEWIPC) != 0)
        return NO_NAMESPACE;
    if (as_nobody && (setgid(65534) != 0 || setuid(65534) != 0))
        return NO_DROP;
    return DONE;
}

/* Runs fn in a forked child; its exit status, or -1. */
static int in_child(int (*fn)(void))
{
    fflush(stdout);
    pid_t p = fork();
    if (p == 0)
    {
        int r = fn();
        fflush(stdout);
        _exit(r);
    }
    int st = -1;
    if (p < 0 || waitpid(p, &st, 0) != p || !WIFEXITED(st))
        return -1;
    return WEXITSTATUS(st);
}

static void check_child(int status)
{
    if (status == NO_NAMESPACE)
        SKIP("no new IPC namespace here (unshare: not root?)");
    CHECK_EQ(status, DONE);
}

/* Makes objects with `make` until it fails; the failure must be `want`; then removes them
 * all with `drop` and makes one more. */
static int fill_table(int (*make)(void), int (*drop)(int), int want)
{
    int n = 0, err = 0;
    while (n < MAX_IDS) {
        int id = make();
        if (id < 0) {
            err = errno;
            break;
        }
        ids[n++] = id;
    }
    printf("# %d objects, then %s\n", n, strerror(err));
    int status = err == want ? DONE : WRONG_ERRNO;
    if (n < 100 && status == DONE)
        status = TOO_FEW;
    for (int i = 0; i < n; i++)
        if (drop(ids[i]) != 0)
            status = NOT_REMOVED;
    int again = make();
    if (again < 0 || drop(again) != 0)
        status = status == DONE ? NOT_AGAIN : status;
    return status;
}

static int make_msg(void) { return msgget(IPC_PRIVATE, 0600); }
static int drop_msg(int id) { return msgctl(id, IPC_RMID, NULL); }
static int make_sem(void) { return semget(IPC_PRIVATE, 1, 0600); }
static int drop_sem(int id) { return semctl(id, 0, IPC_RMID); }
static int make_shm(void) { return shmget(IPC_PRIVATE, 4096, 0600); }
static int drop_shm(int id) { return shmctl(id, IPC_RMID, NULL); }

static int msgmni_child(void)
{
    int r = enter(1);
    return r != DONE ? r : fill_table(make_msg, drop_msg, ENOSPC);
}

static int semmni_child(void)
{
    int r = enter(1);
    return r != DONE ? r : fill_table(make_sem, drop_sem, ENOSPC);
}

static int shmmni_child(void)
{
    int r = enter(1);
    return r != DONE ? r : fill_table(make_shm, drop_shm, ENOSPC);
}

TEST(msgget_beyond_msgmni_as_nobody_is_enospc)
{
    check_child(in_child(msgmni_child));
}

TEST(semget_beyond_semmni_as_nobody_is_enospc)
{
    check_child(in_child(semmni_child));
}

TEST(shmget_beyond_shmmni_as_nobody_is_enospc)
{
    check_child(in_child(shmmni_child));
}

/* POSIX queues, named by this process and a number. */
#define MAX_QUEUES 1000000

static const char *mq_name(int i)
{
    static char name[32];
    snprintf(name, sizeof name, "/ipclim-%d-%d", getpid(), i);
    return name;
}

/* Queue number i (the smallest: one message of one byte); 0 or -1. */
static int make_mq(int i)
{
    struct mq_attr a = { .mq_maxmsg = 1, .mq_msgsize = 1 };
    mqd_t q = mq_open(mq_name(i), O_CREAT | O_EXCL | O_RDWR, 0600, &a);
    if (q == (mqd_t)-1)
        return -1;
    mq_close(q);
    return 0;
}

static int drop_mq(int i)
{
    return mq_unlink(mq_name(i));
}

static int queues_max_child(void)
{
    int r = enter(1);
    if (r != DONE)
        return r;
    int n = 0;
    while (n < MAX_QUEUES && make_mq(n) == 0)
        n++;
    int err = errno;
    printf("# %d queues, then %s\n", n, strerror(err));
    int status = err == ENOSPC ? DONE : WRONG_ERRNO;
    for (int i = 0; i < n; i++)
        if (drop_mq(i) != 0)
            status = NOT_REMOVED;
    return status;
}

TEST(mq_open_beyond_queues_max_as_nobody_is_enospc)
{
    check_child(in_child(queues_max_child));
}

/* Queues filled with 8 KiB messages until the kernel has no room: ENOMEM. */
static int msg_memory_child(void)
{
    int r = enter(1);
    if (r != DONE)
        return r;
    static struct { long mtype; char text[8192]; } m = { 1, { 0 } };
    int n = 0, err = 0;
    long sent = 0;
    while (n < MAX_IDS) {
        int id = msgget(IPC_PRIVATE, 0600);
        if (id < 0) {
            err = errno;
            break;
        }
        ids[n++] = id;
        while (msgsnd(id, &m, sizeof m.text, IPC_NOWAIT) == 0)
            sent++;
        if (errno != EAGAIN) {
            err = errno;
            break;
        }
    }
    printf("# %d queues, %ld messages, then %s\n", n, sent, strerror(err));
    int status = err == ENOMEM ? DONE : WRONG_ERRNO;
    for (int i = 0; i < n; i++)
        if (msgctl(ids[i], IPC_RMID, NULL) != 0)
            status = NOT_REMOVED;
    int id = msgget(IPC_PRIVATE, 0600);
    if (id < 0 || msgsnd(id, &m, sizeof m.text, IPC_NOWAIT) != 0 || msgctl(id, IPC_RMID, NULL))
        status = status == DONE ? NOT_AGAIN : status;
    return status;
}

TEST(msgsnd_filling_kernel_memory_as_nobody_is_enomem)
{
    if (!on_posix_x())
        SKIP("would take gigabytes of the host's kernel memory");
    check_child(in_child(msg_memory_child));
}

/* Sets of SEMMSL semaphores until the kernel has no room: ENOMEM; SEM_UNDO on each works. */
static int sem_memory_child(void)
{
    int r = enter(1);
    if (r != DONE)
        return r;
    int n = 0, err = 0;
    while (n < MAX_IDS) {
        int id = semget(IPC_PRIVATE, 32000, 0600);
        if (id < 0) {
            err = errno;
            break;
        }
        ids[n++] = id;
    }
    printf("# %d sets of 32000, then %s\n", n, strerror(err));
    int status = err == ENOMEM ? DONE : WRONG_ERRNO;
    /* An operation with SEM_UNDO needs the caller's adjustments for the whole set: with the
     * memory gone it may fail, but only with ENOMEM. */
    struct sembuf up = { .sem_num = 31999, .sem_op = 1, .sem_flg = SEM_UNDO };
    if (n > 0 && semop(ids[n - 1], &up, 1) != 0 && errno != ENOMEM)
        status = WRONG_ERRNO;
    for (int i = 0; i < n; i++)
        if (semctl(ids[i], 0, IPC_RMID) != 0)
            status = NOT_REMOVED;
    int id = semget(IPC_PRIVATE, 32000, 0600);
    if (id < 0 || semop(id, &up, 1) != 0 || semctl(id, 0, IPC_RMID) != 0)
        status = status == DONE ? NOT_AGAIN : status;
    return status;
}

TEST(semget_filling_kernel_memory_as_nobody_is_enomem)
{
    if (!on_posix_x())
        SKIP("would take gigabytes of the host's kernel memory");
    check_child(in_child(sem_memory_child));
}

/* Root is not held to queues_max, and lifts its RLIMIT_MSGQUEUE: queues until ENOMEM. */
static int mq_memory_child(void)
{
    int r = enter(0);
    if (r != DONE)
        return r;
    struct rlimit inf = { RLIM_INFINITY, RLIM_INFINITY };
    if (setrlimit(RLIMIT_MSGQUEUE, &inf) != 0)
        return NO_DROP;
    int n = 0;
    while (n < MAX_QUEUES && make_mq(n) == 0)
        n++;
    int err = errno;
    printf("# %d queues as root, then %s\n", n, strerror(err));
    int status = err == ENOMEM ? DONE : WRONG_ERRNO;
    for (int i = 0; i < n; i++)
        if (drop_mq(i) != 0)
            status = NOT_REMOVED;
    if (make_mq(0) != 0 || drop_mq(0) != 0)
        status = status == DONE ? NOT_AGAIN : status;
    return status;
}

TEST(mq_open_filling_kernel_memory_as_root_is_enomem)
{
    if (!on_posix_x())
        SKIP("would take gigabytes of the host's kernel memory");
    check_child(in_child(mq_memory_child));
}
