/* epoll_lat - one byte there and back over two pipes, each side sleeping in epoll_wait(2)
 * until its pipe is readable: the cost of an epoll wake-up on top of pipe_lat. */
#include "bench.h"

#include <sys/epoll.h>

/* An epoll instance watching fd for input. */
static int watch(int fd)
{
    int ep = epoll_create1(0);
    if (ep < 0)
        die("epoll_create1");
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0)
        die("epoll_ctl");
    return ep;
}

/* Waits until the watched fd is readable, then reads its byte. */
static void wait_and_read(int ep, int fd)
{
    struct epoll_event ev;
    int r;
    while ((r = epoll_wait(ep, &ev, 1, -1)) < 0 && errno == EINTR) {
    }
    if (r != 1 || ev.data.fd != fd || !(ev.events & EPOLLIN)) {
        if (r >= 0)
            errno = 0;
        die("epoll_wait returned %d", r);
    }
    char c;
    read_full(fd, &c, 1);
}

static double trial(long n)
{
    int there[2], back[2];
    char c = 1;
    if (pipe(there) < 0 || pipe(back) < 0)
        die("pipe");
    pid_t child = fork_or_die();
    if (child == 0) {
        close(there[1]);
        close(back[0]);
        int ep = watch(there[0]);
        for (long i = 0; i <= n; i++) {
            wait_and_read(ep, there[0]);
            write_full(back[1], &c, 1);
        }
        _exit(0);
    }
    close(there[0]);
    close(back[1]);
    int ep = watch(back[0]);
    write_full(there[1], &c, 1);
    wait_and_read(ep, back[0]);
    double start = now();
    for (long i = 0; i < n; i++) {
        write_full(there[1], &c, 1);
        wait_and_read(ep, back[0]);
    }
    double t = now() - start;
    close(ep);
    close(there[1]);
    close(back[0]);
    reap(child);
    return t;
}

int main(void)
{
    return bench_main(&(struct bench){"epoll_lat", 0, trial});
}
