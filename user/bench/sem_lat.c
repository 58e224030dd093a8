/* sem_lat - SysV semaphore ping-pong: the parent posts semaphore 0 and waits on 1, the child
 * waits on 0 and posts 1. */
#include "bench.h"

#include <sys/ipc.h>
#include <sys/sem.h>

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
    int id = semget(IPC_PRIVATE, 2, IPC_CREAT | 0600);
    if (id < 0)
        die("semget");
    pid_t child = fork_or_die();
    if (child == 0) {
        for (long i = 0; i <= n; i++) {
            op(id, 0, -1);
            op(id, 1, +1);
        }
        _exit(0);
    }
    op(id, 0, +1);
    op(id, 1, -1);
    double start = now();
    for (long i = 0; i < n; i++) {
        op(id, 0, +1);
        op(id, 1, -1);
    }
    double t = now() - start;
    reap(child);
    if (semctl(id, 0, IPC_RMID) < 0)
        die("semctl(IPC_RMID)");
    return t;
}

int main(void)
{
    return bench_main(&(struct bench){"sem_lat", 0, trial});
}
