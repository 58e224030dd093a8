/* pipe_lat - one byte there and back between two processes over two pipes. */
#include "bench.h"

static double trial(long n)
{
    int there[2], back[2];
    if (pipe(there) < 0 || pipe(back) < 0)
        die("pipe");
    pid_t child = fork_or_die();
    if (child == 0) {
        close(there[1]);
        close(back[0]);
        pingpong_child(there[0], back[1], 1, n);
    }
    close(there[0]);
    close(back[1]);
    double t = pingpong_parent(there[1], back[0], 1, n);
    close(there[1]);
    close(back[0]);
    reap(child);
    return t;
}

int main(void)
{
    return bench_main(&(struct bench){"pipe_lat", 0, trial});
}
