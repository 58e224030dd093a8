/* sysv_leak.c - System V IPC frees what it allocates: MemFree from /proc/meminfo before and
 * after 10,000 shared-memory create/attach/touch/detach/remove cycles, cycles that remove the
 * segment while it is attached (the last detach frees it), segments attached across fork and
 * exit, and semaphore-set and message-queue cycles. MemFree may drop by at most 8 MiB; as in
 * leak.c a warm-up round runs first and a round is retried up to 10 times before a drop counts
 * as a leak (Linux's MemFree moves on its own). Each case prints "# MemFree delta".
 * Syscalls: shmget, shmat, shmdt, shmctl, semget, semop, semctl, msgget, msgsnd, msgrcv,
 * msgctl, fork, wait4, exit_group, openat, read, close.
 */
#define _GNU_SOURCE
#define TEST_MAIN
#include "test.h"

#include <fcntl.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/wait.h>

#define PAGE 4096UL
#define SEG_PAGES 4
#define SLACK_KB (8 * 1024L)
#include "leakcheck.h"

static void touch(volatile char *p)
{
    for (size_t i = 0; i < SEG_PAGES; i++)
        p[i * PAGE] = (char)i;
}

/* create, attach, touch every page, detach, remove */
static int shm_round(int n)
{
    for (int i = 0; i < n; i++) {
        int id = shmget(IPC_PRIVATE, SEG_PAGES * PAGE, 0600);
        if (id < 0)
            return -1;
        char *p = shmat(id, NULL, 0);
        if (p == (void *)-1) {
            shmctl(id, IPC_RMID, NULL);
            return -1;
        }
        touch(p);
        if (shmdt(p) != 0 || shmctl(id, IPC_RMID, NULL) != 0)
            return -1;
    }
    return 0;
}

/* remove while attached: the detach frees the frames */
static int shm_rmid_first_round(int n)
{
    for (int i = 0; i < n; i++) {
        int id = shmget(IPC_PRIVATE, SEG_PAGES * PAGE, 0600);
        if (id < 0)
            return -1;
        char *p = shmat(id, NULL, 0);
        if (p == (void *)-1 || shmctl(id, IPC_RMID, NULL) != 0) {
            shmctl(id, IPC_RMID, NULL);
            return -1;
        }
        touch(p);
        if (shmdt(p) != 0)
            return -1;
    }
    return 0;
}

/* the parent removes an attached segment; a child inherits the attach, touches and exits */
static int shm_fork_round(int n)
{
    for (int i = 0; i < n; i++) {
        int id = shmget(IPC_PRIVATE, SEG_PAGES * PAGE, 0600);
        if (id < 0)
            return -1;
        char *p = shmat(id, NULL, 0);
        shmctl(id, IPC_RMID, NULL);
        if (p == (void *)-1)
            return -1;
        pid_t pid = fork();
        if (pid < 0)
            return -1;
        if (pid == 0) {
            touch(p);
            _exit(0);
        }
        int st;
        while (waitpid(pid, &st, 0) < 0)
            if (errno != EINTR)
                return -1;
        if (st != 0 || shmdt(p) != 0)
            return -1;
    }
    return 0;
}

static int sem_msg_round(int n)
{
    for (int i = 0; i < n; i++) {
        int s = semget(IPC_PRIVATE, 8, 0600);
        if (s < 0)
            return -1;
        struct sembuf up = {3, 1, SEM_UNDO};
        int r = semop(s, &up, 1);
        if (semctl(s, 0, IPC_RMID) != 0 || r != 0)
            return -1;
        int q = msgget(IPC_PRIVATE, 0600);
        if (q < 0)
            return -1;
        struct { long mtype; char text[512]; } m = {1, {0}};
        r = msgsnd(q, &m, sizeof m.text, 0) | msgsnd(q, &m, sizeof m.text, 0);
        r |= msgrcv(q, &m, sizeof m.text, 0, 0) == (ssize_t)sizeof m.text ? 0 : -1;
        if (msgctl(q, IPC_RMID, NULL) != 0 || r != 0)
            return -1;
    }
    return 0;
}

TEST(shm_create_attach_touch_remove_10000_cycles_no_leak) { CHECK_NO_LEAK(shm_round, 10000); }

TEST(shm_remove_while_attached_cycles_no_leak) { CHECK_NO_LEAK(shm_rmid_first_round, 2000); }

TEST(shm_fork_exit_cycles_no_leak) { CHECK_NO_LEAK(shm_fork_round, 300); }

TEST(sem_and_msg_cycles_no_leak) { CHECK_NO_LEAK(sem_msg_round, 2000); }
