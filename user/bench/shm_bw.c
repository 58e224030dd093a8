/* shm_bw - copy bandwidth through SysV shared memory: a child copies 64 KiB chunks into one of
 * two slots of a shared segment, the parent copies them out; two SysV semaphores count the
 * free and the full slots (a double-buffered pipe built from shm and semaphores). */
#include "bench.h"

#include <sys/ipc.h>
#include <sys/sem.h>
#include <sys/shm.h>

#define SLOTS 2
enum { FREE, FULL };

static void op(int id, unsigned short num, short delta)
{
    struct sembuf sop = {.sem_num = num, .sem_op = delta, .sem_flg = 0};
    while (semop(id, &sop, 1) < 0) {
        if (errno != EINTR)
            die("semop");
    }
}

static double trial(long n)
{
    static char chunk[BENCH_CHUNK];
    int shm = shmget(IPC_PRIVATE, SLOTS * BENCH_CHUNK, IPC_CREAT | 0600);
    if (shm < 0)
        die("shmget");
    char *slots = shmat(shm, NULL, 0);
    if (slots == (void *)-1)
        die("shmat");
    if (shmctl(shm, IPC_RMID, NULL) < 0) /* gone when both processes detach */
        die("shmctl(IPC_RMID)");
    memset(slots, 0, SLOTS * BENCH_CHUNK); /* fault the pages in before the clock starts */
    int sem = semget(IPC_PRIVATE, 2, IPC_CREAT | 0600);
    if (sem < 0)
        die("semget");
    op(sem, FREE, SLOTS);

    pid_t child = fork_or_die();
    if (child == 0) {
        memset(chunk, 'x', sizeof chunk);
        for (long i = 0; i <= n; i++) {
            op(sem, FREE, -1);
            memcpy(slots + (i % SLOTS) * BENCH_CHUNK, chunk, BENCH_CHUNK);
            op(sem, FULL, +1);
        }
        _exit(0);
    }
    /* The first chunk is the warm-up. */
    op(sem, FULL, -1);
    memcpy(chunk, slots, BENCH_CHUNK);
    op(sem, FREE, +1);
    double start = now();
    for (long i = 1; i <= n; i++) {
        op(sem, FULL, -1);
        memcpy(chunk, slots + (i % SLOTS) * BENCH_CHUNK, BENCH_CHUNK);
        op(sem, FREE, +1);
    }
    double t = now() - start;
    reap(child);
    shmdt(slots);
    if (semctl(sem, 0, IPC_RMID) < 0)
        die("semctl(IPC_RMID)");
    return t;
}

int main(void)
{
    return bench_main(&(struct bench){"shm_bw", BENCH_CHUNK, trial});
}
