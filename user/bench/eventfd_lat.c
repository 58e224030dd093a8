/* eventfd_lat - a counter increment there and back between two processes over two eventfds
 * (each read takes the 8-byte counter, blocking while it is 0). */
#include "bench.h"

#include <sys/eventfd.h>

static double trial(long n)
{
    int there = eventfd(0, 0), back = eventfd(0, 0);
    if (there < 0 || back < 0)
        die("eventfd");
    pid_t child = fork_or_die();
    if (child == 0)
        pingpong_child(there, back, sizeof(uint64_t), n);
    double t = pingpong_parent(there, back, sizeof(uint64_t), n);
    close(there);
    close(back);
    reap(child);
    return t;
}

int main(void)
{
    return bench_main(&(struct bench){"eventfd_lat", 0, trial});
}
