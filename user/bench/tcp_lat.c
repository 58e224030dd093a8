/* tcp_lat - one byte there and back over a TCP connection on 127.0.0.1 (TCP_NODELAY). */
#include "inet.h"

static double trial(long n)
{
    int server, client;
    tcp_connection(&server, &client);
    pid_t child = fork_or_die();
    if (child == 0) {
        close(client);
        pingpong_child(server, server, 1, n);
    }
    close(server);
    double t = pingpong_parent(client, client, 1, n);
    close(client);
    reap(child);
    return t;
}

int main(void)
{
    return bench_main(&(struct bench){"tcp_lat", 0, trial});
}
