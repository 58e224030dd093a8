/* fork_exit - fork(2) a child that exits at once, and wait for it. */
#include "bench.h"

static double trial(long n)
{
    double start = now();
    for (long i = 0; i < n; i++) {
        pid_t child = fork_or_die();
        if (child == 0)
            _exit(0);
        reap(child);
    }
    return now() - start;
}

int main(void)
{
    return bench_main(&(struct bench){"fork_exit", 0, trial});
}
