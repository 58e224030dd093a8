/* unix_dgram_lat - a one-byte datagram there and back over an AF_UNIX datagram socket pair. */
#include "bench.h"

#include <sys/socket.h>

static double trial(long n)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) < 0)
        die("socketpair(AF_UNIX, SOCK_DGRAM)");
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
    return bench_main(&(struct bench){"unix_dgram_lat", 0, trial});
}
