/* tcp_idle - one TCP pair's round-trip latency (1 byte there and back, TCP_NODELAY, as tcp_lat)
 * while N other TCP connections (N = 0 to 1,000; two sockets each) are open and idle, their
 * server ends watched by a process blocked in epoll_wait, as a server with idle keep-alive
 * clients is. A packet for the measured pair should not cost more because the others exist. */
#include "sweep.h"
#include "../inet.h"

#include <sys/epoll.h>

static const long SIZES[] = {0, 10, 100, 1000, -1};

static int near_end, far_end;

static double trial(long n)
{
    return pingpong_parent(near_end, near_end, 1, n);
}

int main(void)
{
    sweep_start("tcp_idle", 2 * 1000 + 64);
    SWEEP_FOR(n, SIZES)
    {
        sweep_begin("tcp_idle", n);
        struct sockaddr_in addr;
        int listener = loopback_socket(SOCK_STREAM, &addr);
        if (listen(listener, 64) < 0)
            die("listen");
        int *idle = malloc((size_t)(2 * n + 1) * sizeof *idle);
        if (!idle)
            die("malloc");
        for (long i = 0; i < n; i++) {
            int c = socket(AF_INET, SOCK_STREAM, 0);
            if (c < 0)
                die("socket (connection %ld)", i);
            if (connect(c, (struct sockaddr *)&addr, sizeof addr) < 0)
                die("connect (connection %ld)", i);
            int s = accept(listener, NULL, NULL);
            if (s < 0)
                die("accept (connection %ld)", i);
            idle[2 * i] = c;
            idle[2 * i + 1] = s;
        }
        /* The watcher: every idle server end in its epoll set, blocked in epoll_wait. */
        int ready[2];
        if (pipe(ready) < 0)
            die("pipe");
        pid_t watcher = fork_or_die();
        if (watcher == 0) {
            int ep = epoll_create1(0);
            if (ep < 0)
                die("epoll_create1");
            for (long i = 0; i < n; i++) {
                struct epoll_event ev = {.events = EPOLLIN, .data.fd = idle[2 * i + 1]};
                if (epoll_ctl(ep, EPOLL_CTL_ADD, idle[2 * i + 1], &ev) < 0)
                    die("epoll_ctl");
            }
            write_full(ready[1], "r", 1);
            struct epoll_event ev;
            for (;;) {
                int r = epoll_wait(ep, &ev, 1, -1);
                if (r > 0) {
                    errno = 0;
                    die("an idle connection became ready");
                }
            }
        }
        char c;
        read_full(ready[0], &c, 1);
        close(ready[0]);
        close(ready[1]);

        tcp_connection(&far_end, &near_end);
        pid_t echo = fork_or_die();
        if (echo == 0) {
            close(near_end);
            char buf[1];
            for (;;) {
                ssize_t r = read(far_end, buf, 1);
                if (r == 0)
                    _exit(0);
                if (r < 0)
                    die("read");
                write_full(far_end, buf, 1);
            }
        }
        close(far_end);
        sweep_measure(trial);
        close(near_end);
        reap(echo);
        kill_and_reap(watcher);
        for (long i = 0; i < 2 * n; i++)
            close(idle[i]);
        free(idle);
        close(listener);
    }
    return 0;
}
