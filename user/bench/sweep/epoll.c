/* epoll - epoll_wait with N registered descriptors, one of them ready: one iteration is an
 * eventfd write that makes the last-registered descriptor ready, epoll_wait returning it, and
 * the read that makes it idle again (one process: no context switch). N = 1 to 10,000 eventfds.
 * The cost should not grow with N: epoll keeps a ready list. */
#include "sweep.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>

static const long SIZES[] = {1, 10, 100, 1000, 10000, -1};

static int ep, active;

static double trial(long n)
{
    uint64_t one = 1, got;
    struct epoll_event ev;
    double start = now();
    for (long i = 0; i < n; i++) {
        if (write(active, &one, sizeof one) != sizeof one)
            die("write(eventfd)");
        int r = epoll_wait(ep, &ev, 1, -1);
        if (r != 1 || ev.data.fd != active) {
            errno = r < 0 ? errno : 0;
            die("epoll_wait returned %d (fd %d, want %d)", r, r == 1 ? ev.data.fd : -1, active);
        }
        if (read(active, &got, sizeof got) != sizeof got)
            die("read(eventfd)");
    }
    return now() - start;
}

int main(void)
{
    sweep_start("epoll", 10000 + 16);
    SWEEP_FOR(n, SIZES)
    {
        sweep_begin("epoll_wait", n);
        int *fds = malloc((size_t)n * sizeof *fds);
        if (!fds)
            die("malloc");
        ep = epoll_create1(0);
        if (ep < 0)
            die("epoll_create1");
        for (long i = 0; i < n; i++) {
            fds[i] = eventfd(0, 0);
            if (fds[i] < 0)
                die("eventfd (number %ld)", i);
            struct epoll_event ev = {.events = EPOLLIN, .data.fd = fds[i]};
            if (epoll_ctl(ep, EPOLL_CTL_ADD, fds[i], &ev) < 0)
                die("epoll_ctl(ADD) (number %ld)", i);
        }
        active = fds[n - 1];
        sweep_measure(trial);
        for (long i = 0; i < n; i++)
            close(fds[i]);
        close(ep);
        free(fds);
    }
    return 0;
}
