/* psem_lat - POSIX semaphore ping-pong between processes: two process-shared sem_t in shared
 * memory; the parent posts 0 and waits on 1, the child waits on 0 and posts 1. Every wait
 * sleeps in FUTEX_WAIT and every post wakes with FUTEX_WAKE. */
#include "bench.h"

#include <semaphore.h>
#include <sys/mman.h>

static void wait_on(sem_t *s)
{
    while (sem_wait(s) < 0) {
        if (errno != EINTR)
            die("sem_wait");
    }
}

static double trial(long n)
{
    sem_t *s = mmap(NULL, 2 * sizeof(sem_t), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (s == MAP_FAILED)
        die("mmap");
    if (sem_init(&s[0], 1, 0) < 0 || sem_init(&s[1], 1, 0) < 0)
        die("sem_init");
    pid_t child = fork_or_die();
    if (child == 0) {
        for (long i = 0; i <= n; i++) {
            wait_on(&s[0]);
            sem_post(&s[1]);
        }
        _exit(0);
    }
    sem_post(&s[0]);
    wait_on(&s[1]);
    double start = now();
    for (long i = 0; i < n; i++) {
        sem_post(&s[0]);
        wait_on(&s[1]);
    }
    double t = now() - start;
    reap(child);
    munmap(s, 2 * sizeof(sem_t));
    return t;
}

int main(void)
{
    return bench_main(&(struct bench){"psem_lat", 0, trial});
}
