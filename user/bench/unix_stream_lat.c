/* unix_stream_lat - one byte there and back over an AF_UNIX stream socket pair. */
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
        pingpong_child(sv[1], sv[1], 1, n);
    }
    close(sv[1]);
    double t = pingpong_parent(sv[0], sv[0], 1, n);
    close(sv[0]);
    reap(child);
    return t;
}

int main(void)
{
    return bench_main(&(struct bench){"unix_stream_lat", 0, trial});
}
