/* pairs - throughput: K independent ping-pong pairs (K = 1, 2, 4) at once, each a client and a
 * server process exchanging one byte over two pipes (pairs_pipe) or an AF_UNIX stream socket
 * pair (pairs_unix); the aggregate round trips per second. On one CPU the pairs share it and the
 * total stays that of one pair; with more CPUs (`cargo xtask bench --smp 2`) a kernel that
 * scales runs the pairs side by side. */
#include "sweep.h"

#include <sys/socket.h>

static const long SIZES[] = {1, 2, 4, -1};

static int use_socket;
static long pairs;

/* One pair: the client's ends (rd, wr) and the server's. */
static void channels(int client[2], int server[2])
{
    if (use_socket) {
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
            die("socketpair");
        client[0] = client[1] = sv[0];
        server[0] = server[1] = sv[1];
    } else {
        int there[2], back[2];
        if (pipe(there) < 0 || pipe(back) < 0)
            die("pipe");
        client[0] = back[0];
        client[1] = there[1];
        server[0] = there[0];
        server[1] = back[1];
    }
}

static void close_pair(int c[2], int s[2])
{
    close(c[0]);
    if (c[1] != c[0])
        close(c[1]);
    close(s[0]);
    if (s[1] != s[0])
        close(s[1]);
}

static double trial(long n)
{
    int ready[2], gate[2];
    if (pipe(ready) < 0 || pipe(gate) < 0)
        die("pipe");
    pid_t pids[2 * 4];
    for (long k = 0; k < pairs; k++) {
        int c[2], s[2];
        channels(c, s);
        pids[2 * k] = fork_or_die();
        if (pids[2 * k] == 0) {
            close(ready[0]);
            close(ready[1]);
            close(gate[0]);
            close(gate[1]);
            close(c[0]);
            if (c[1] != c[0])
                close(c[1]);
            pingpong_child(s[0], s[1], 1, n);
        }
        pids[2 * k + 1] = fork_or_die();
        if (pids[2 * k + 1] == 0) {
            close(ready[0]);
            close(gate[1]);
            close(s[0]);
            if (s[1] != s[0])
                close(s[1]);
            char buf[1] = {1}, g;
            write_full(c[1], buf, 1); /* the warm-up round trip */
            read_full(c[0], buf, 1);
            write_full(ready[1], "r", 1);
            if (read(gate[0], &g, 1) != 0)
                die("gate");
            for (long i = 0; i < n; i++) {
                write_full(c[1], buf, 1);
                read_full(c[0], buf, 1);
            }
            write_full(ready[1], "d", 1);
            _exit(0);
        }
        close_pair(c, s);
    }
    close(gate[0]);
    char r;
    for (long k = 0; k < pairs; k++)
        read_full(ready[0], &r, 1);
    double start = now();
    close(gate[1]);
    for (long k = 0; k < pairs; k++) /* each client's last round trip is done */
        read_full(ready[0], &r, 1);
    double t = now() - start;
    close(ready[1]);
    for (long i = 0; i < 2 * pairs; i++)
        reap(pids[i]);
    close(ready[0]);
    return t;
}

int main(void)
{
    sweep_start("pairs", 0);
    for (use_socket = 0; use_socket <= 1; use_socket++) {
        SWEEP_FOR(k, SIZES)
        {
            sweep_begin(use_socket ? "pairs_unix" : "pairs_pipe", k);
            pairs = k;
            sweep_measure_rate(trial, (double)k);
        }
    }
    return 0;
}
