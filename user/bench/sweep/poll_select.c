/* poll_select - poll(2) and select(2) over N eventfds of which the last is ready: one iteration
 * is the eventfd write, the call, and the read (one process). poll to 10,000 descriptors, select
 * to 1,000 (its descriptors must stay below FD_SETSIZE, 1,024). Both scan every descriptor on
 * both kernels, so both grow linearly; the slope is the per-descriptor cost. */
#include "sweep.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/select.h>

static const long POLL_SIZES[] = {1, 10, 100, 1000, 10000, -1};
static const long SELECT_SIZES[] = {1, 10, 100, 1000, -1};

static int *fds;
static long count;
static struct pollfd *pfds;

static void make_ready(void)
{
    uint64_t one = 1;
    if (write(fds[count - 1], &one, sizeof one) != sizeof one)
        die("write(eventfd)");
}

static void make_idle(void)
{
    uint64_t got;
    if (read(fds[count - 1], &got, sizeof got) != sizeof got)
        die("read(eventfd)");
}

static double poll_trial(long n)
{
    double start = now();
    for (long i = 0; i < n; i++) {
        make_ready();
        int r = poll(pfds, (nfds_t)count, -1);
        if (r != 1 || !(pfds[count - 1].revents & POLLIN)) {
            errno = r < 0 ? errno : 0;
            die("poll returned %d", r);
        }
        make_idle();
    }
    return now() - start;
}

static double select_trial(long n)
{
    int top = fds[count - 1];
    fd_set set;
    double start = now();
    for (long i = 0; i < n; i++) {
        make_ready();
        FD_ZERO(&set);
        for (long j = 0; j < count; j++)
            FD_SET(fds[j], &set);
        int r = select(top + 1, &set, NULL, NULL, NULL);
        if (r != 1 || !FD_ISSET(top, &set)) {
            errno = r < 0 ? errno : 0;
            die("select returned %d", r);
        }
        make_idle();
    }
    return now() - start;
}

static void open_fds(long n)
{
    count = n;
    fds = malloc((size_t)n * sizeof *fds);
    pfds = malloc((size_t)n * sizeof *pfds);
    if (!fds || !pfds)
        die("malloc");
    for (long i = 0; i < n; i++) {
        fds[i] = eventfd(0, 0);
        if (fds[i] < 0)
            die("eventfd (number %ld)", i);
        pfds[i] = (struct pollfd){.fd = fds[i], .events = POLLIN};
    }
}

static void close_fds(void)
{
    for (long i = 0; i < count; i++)
        close(fds[i]);
    free(fds);
    free(pfds);
}

int main(void)
{
    sweep_start("poll_select", 10000 + 16);
    SWEEP_FOR(n, POLL_SIZES)
    {
        sweep_begin("poll", n);
        open_fds(n);
        sweep_measure(poll_trial);
        close_fds();
    }
    SWEEP_FOR(n, SELECT_SIZES)
    {
        sweep_begin("select", n);
        open_fds(n);
        if (fds[n - 1] >= FD_SETSIZE) {
            errno = 0;
            die("descriptor %d is beyond FD_SETSIZE", fds[n - 1]);
        }
        sweep_measure(select_trial);
        close_fds();
    }
    return 0;
}
