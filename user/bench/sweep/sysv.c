/* sysv - System V IPC against the number of objects: msgsnd+msgrcv of a 1-byte message on one
 * queue while Q queues exist (Q = 1 to 1,000), and semop up then down on the last semaphore of
 * a set of S (S = 1 to 250). One process: the lookup and the per-set work, no switch. */
#include "sweep.h"

#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>

static const long QUEUES[] = {1, 10, 100, 1000, -1};
static const long SET_SIZES[] = {1, 10, 100, 250, -1};

static int queue, set;
static unsigned short last_sem;

static double msg_trial(long n)
{
    struct {
        long mtype;
        char mtext[1];
    } m = {1, {'m'}};
    double start = now();
    for (long i = 0; i < n; i++) {
        if (msgsnd(queue, &m, 1, 0) < 0)
            die("msgsnd");
        if (msgrcv(queue, &m, 1, 0, 0) != 1)
            die("msgrcv");
    }
    return now() - start;
}

static double sem_trial(long n)
{
    struct sembuf up = {last_sem, 1, 0}, down = {last_sem, -1, 0};
    double start = now();
    for (long i = 0; i < n; i++) {
        if (semop(set, &up, 1) < 0)
            die("semop(+1)");
        if (semop(set, &down, 1) < 0)
            die("semop(-1)");
    }
    return now() - start;
}

int main(void)
{
    sweep_start("sysv", 0);
    SWEEP_FOR(q, QUEUES)
    {
        sweep_begin("msg_queues", q);
        int *ids = malloc((size_t)q * sizeof *ids);
        if (!ids)
            die("malloc");
        for (long i = 0; i < q; i++) {
            ids[i] = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
            if (ids[i] < 0)
                die("msgget (queue %ld)", i);
        }
        queue = ids[q - 1];
        sweep_measure(msg_trial);
        for (long i = 0; i < q; i++)
            msgctl(ids[i], IPC_RMID, NULL);
        free(ids);
    }
    SWEEP_FOR(s, SET_SIZES)
    {
        sweep_begin("sem_set", s);
        set = semget(IPC_PRIVATE, (int)s, IPC_CREAT | 0600);
        if (set < 0)
            die("semget(%ld)", s);
        last_sem = (unsigned short)(s - 1);
        sweep_measure(sem_trial);
        semctl(set, 0, IPC_RMID);
    }
    return 0;
}
