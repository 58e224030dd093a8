/* pipe_bw - a child writes 64 KiB chunks into a pipe, the parent reads them. */
#include "bench.h"

static double trial(long n)
{
    int p[2];
    if (pipe(p) < 0)
        die("pipe");
    pid_t child = fork_or_die();
    if (child == 0) {
        close(p[0]);
        stream_writer(p[1], n);
    }
    close(p[1]);
    double t = stream_reader(p[0], n);
    close(p[0]);
    reap(child);
    return t;
}

int main(void)
{
    return bench_main(&(struct bench){"pipe_bw", BENCH_CHUNK, trial});
}
