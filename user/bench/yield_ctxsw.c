/* yield_ctxsw - context switches between two processes that both call sched_yield(2) in a
 * loop, on one CPU: one iteration is one yield of the parent, which runs the child until it
 * yields back (two switches). On a machine with more CPUs both are pinned to the first. */
#include "bench.h"

#include <sched.h>

static void pin_to_one_cpu(void)
{
    if (sysconf(_SC_NPROCESSORS_ONLN) <= 1)
        return;
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(0, &one);
    if (sched_setaffinity(0, sizeof one, &one) < 0)
        die("sched_setaffinity");
}

static double trial(long n)
{
    int ready[2];
    char c = 1;
    if (pipe(ready) < 0)
        die("pipe");
    pid_t child = fork_or_die();
    if (child == 0) {
        write_full(ready[1], &c, 1);
        for (;;)
            sched_yield();
    }
    read_full(ready[0], &c, 1);
    close(ready[0]);
    close(ready[1]);
    sched_yield();
    double start = now();
    for (long i = 0; i < n; i++)
        sched_yield();
    double t = now() - start;
    kill_and_reap(child);
    return t;
}

int main(void)
{
    bench_name = "yield_ctxsw";
    pin_to_one_cpu();
    return bench_main(&(struct bench){"yield_ctxsw", 0, trial});
}
