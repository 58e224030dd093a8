/* udp_lat - a one-byte datagram there and back between two UDP sockets on 127.0.0.1, each
 * connected to the other. */
#include "inet.h"

static double trial(long n)
{
    struct sockaddr_in a_addr, b_addr;
    int a = loopback_socket(SOCK_DGRAM, &a_addr);
    int b = loopback_socket(SOCK_DGRAM, &b_addr);
    if (connect(a, (struct sockaddr *)&b_addr, sizeof b_addr) < 0 || connect(b, (struct sockaddr *)&a_addr, sizeof a_addr) < 0)
        die("connect(UDP)");
    pid_t child = fork_or_die();
    if (child == 0) {
        close(a);
        pingpong_child(b, b, 1, n);
    }
    close(b);
    double t = pingpong_parent(a, a, 1, n);
    close(a);
    reap(child);
    return t;
}

int main(void)
{
    return bench_main(&(struct bench){"udp_lat", 0, trial});
}
