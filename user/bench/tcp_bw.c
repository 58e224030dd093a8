/* tcp_bw - a child writes 64 KiB chunks into a TCP connection on 127.0.0.1, the parent reads
 * them. */
#include "inet.h"

static double trial(long n)
{
    int server, client;
    tcp_connection(&server, &client);
    pid_t child = fork_or_die();
    if (child == 0) {
        close(client);
        stream_writer(server, n);
    }
    close(server);
    double t = stream_reader(client, n);
    close(client);
    reap(child);
    return t;
}

int main(void)
{
    return bench_main(&(struct bench){"tcp_bw", BENCH_CHUNK, trial});
}
