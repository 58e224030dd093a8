/* accept - connections per second with C concurrent clients (C = 1 to 256), over AF_UNIX stream
 * sockets and over TCP on 127.0.0.1. One connection: the client's socket and connect, the
 * server's accept and close, the client's read of end of file and close. The server is one
 * process accepting in a loop; each client process makes n connections in a row.
 *
 * TCP clients close with SO_LINGER 0 (a reset): the server closed first, and without it every
 * connection would leave a TIME-WAIT socket behind, and a long sweep would run out of ports. */
#include "sweep.h"
#include "../inet.h"

#include <poll.h>
#include <sched.h>
#include <sys/un.h>

static const long SIZES[] = {1, 4, 16, 64, 256, -1};

static int tcp;
static long clients;
static int listener;
static struct sockaddr_un unix_addr;
static struct sockaddr_in inet_addr;

static void client(long n)
{
    long refused = 0;
    for (long i = 0; i < n; i++) {
        int s = socket(tcp ? AF_INET : AF_UNIX, SOCK_STREAM, 0);
        if (s < 0)
            die("socket");
        int r = tcp ? connect(s, (struct sockaddr *)&inet_addr, sizeof inet_addr)
                    : connect(s, (struct sockaddr *)&unix_addr, sizeof unix_addr);
        if (r < 0 && (errno == ECONNREFUSED || errno == EAGAIN)) {
            /* A full backlog: Linux drops a TCP SYN (the client retries) and makes a unix
             * connect wait; a kernel that refuses instead is retried here, and counted. */
            refused++;
            close(s);
            sched_yield();
            i--;
            continue;
        }
        if (r < 0)
            die("connect");
        char c;
        while ((r = (int)read(s, &c, 1)) < 0 && errno == EINTR) {
        }
        if (r != 0)
            die("read: expected end of file, got %d", r);
        if (tcp) {
            struct linger off = {.l_onoff = 1, .l_linger = 0};
            if (setsockopt(s, SOL_SOCKET, SO_LINGER, &off, sizeof off) < 0)
                die("setsockopt(SO_LINGER)");
        }
        close(s);
    }
    if (refused > 0)
        printf("bench-note name=%s refused=%ld connects of %ld (retried)\n", sweep_point_name, refused, n);
}

static double trial(long n)
{
    int gate[2];
    if (pipe(gate) < 0)
        die("pipe");
    pid_t *pids = calloc((size_t)clients, sizeof *pids);
    if (!pids)
        die("calloc");
    for (long i = 0; i < clients; i++) {
        pids[i] = fork_or_die();
        if (pids[i] == 0) {
            close(gate[1]);
            close(listener);
            char c;
            if (read(gate[0], &c, 1) != 0) /* end of file: the parent opened the gate */
                die("gate");
            client(n);
            _exit(0);
        }
    }
    close(gate[0]);
    double start = now();
    close(gate[1]);
    struct pollfd p = {.fd = listener, .events = POLLIN};
    for (long i = 0; i < clients * n; i++) {
        /* A client that died would leave us waiting forever: give up after 20 s of silence. */
        int r = poll(&p, 1, 20000);
        if (r == 0) {
            errno = 0;
            die("no connection for 20 s after %ld of %ld", i, clients * n);
        }
        if (r < 0 && errno == EINTR) {
            i--;
            continue;
        }
        int s = accept(listener, NULL, NULL);
        if (s < 0)
            die("accept");
        close(s);
    }
    double t = now() - start; /* the clients' exits are not part of it */
    for (long i = 0; i < clients; i++)
        reap(pids[i]);
    free(pids);
    return t;
}

int main(void)
{
    sweep_start("accept", 1024);
    for (tcp = 0; tcp <= 1; tcp++) {
        SWEEP_FOR(c, SIZES)
        {
            sweep_begin(tcp ? "accept_tcp" : "accept_unix", c);
            clients = c;
            if (tcp) {
                listener = loopback_socket(SOCK_STREAM, &inet_addr);
            } else {
                listener = socket(AF_UNIX, SOCK_STREAM, 0);
                if (listener < 0)
                    die("socket(AF_UNIX)");
                unix_addr = (struct sockaddr_un){.sun_family = AF_UNIX};
                snprintf(unix_addr.sun_path, sizeof unix_addr.sun_path, "/tmp/sweep-accept-%d", (int)getpid());
                unlink(unix_addr.sun_path);
                if (bind(listener, (struct sockaddr *)&unix_addr, sizeof unix_addr) < 0)
                    die("bind(%s)", unix_addr.sun_path);
            }
            if (listen(listener, 1024) < 0)
                die("listen");
            sweep_measure_rate(trial, (double)c);
            close(listener);
            if (!tcp)
                unlink(unix_addr.sun_path);
        }
    }
    return 0;
}
