/* null_syscall - the cost of entering and leaving the kernel: getppid(2), made with syscall(2)
 * so that no C library can answer it from a cache. */
#include "bench.h"

#include <sys/syscall.h>

static double trial(long n)
{
    double start = now();
    for (long i = 0; i < n; i++)
        syscall(SYS_getppid);
    return now() - start;
}

int main(void)
{
    return bench_main(&(struct bench){"null_syscall", 0, trial});
}
