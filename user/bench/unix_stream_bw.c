/* unix_stream_bw - a child writes 64 KiB chunks into an AF_UNIX stream socket, the parent
 * reads them. */
#include "bench.h"

#include <sys/socket.h>

static double trial(long n)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
        die("socketpair(AF_UNIX, SOCK_STREAM)");
    pid_t child = fork_or_die();
    if (child == 0) {
        close(sv[0]);
        stream_writer(sv[1], n);
    }
    close(sv[1]);
    double t = stream_reader(sv[0], n);
    close(sv[0]);
    reap(child);
    return t;
}

int main(void)
{
    return bench_main(&(struct bench){"unix_stream_bw", BENCH_CHUNK, trial});
}
