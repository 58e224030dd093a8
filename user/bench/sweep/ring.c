/* ring - a token passed around a ring of N processes over N pipes (N = 2 to 512): the time per
 * hop (one write, one read, one switch). Each hop wakes the next process; with a run queue and
 * wait queues that are O(1) the time per hop stays flat as N grows. */
#include "sweep.h"

static const long SIZES[] = {2, 8, 32, 128, 512, -1};

static long members;
static int to_first, from_last;

/* The ring: the parent is member 0; member i reads pipe i-1 and writes pipe i. */
static pid_t *children;

static void build_ring(long n)
{
    members = n;
    children = calloc((size_t)n, sizeof *children);
    if (!children)
        die("calloc");
    int first[2];
    if (pipe(first) < 0)
        die("pipe");
    to_first = first[1];
    int prev_read = first[0];
    for (long i = 1; i < n; i++) {
        int next[2];
        if (pipe(next) < 0)
            die("pipe (member %ld)", i);
        pid_t pid = fork_or_die();
        if (pid == 0) {
            close(next[0]);
            close(to_first);
            char token;
            for (;;) {
                ssize_t r = read(prev_read, &token, 1);
                if (r == 0)
                    _exit(0);
                if (r < 0) {
                    if (errno == EINTR)
                        continue;
                    die("read");
                }
                write_full(next[1], &token, 1);
            }
        }
        children[i] = pid;
        close(prev_read);
        close(next[1]);
        prev_read = next[0];
    }
    from_last = prev_read;
}

static void tear_down_ring(void)
{
    close(to_first); /* member 1 sees end of file, closes its pipe, and so on round */
    close(from_last);
    for (long i = 1; i < members; i++)
        reap(children[i]);
    free(children);
}

static double trial(long n)
{
    char token = 't';
    write_full(to_first, &token, 1); /* warm-up round */
    read_full(from_last, &token, 1);
    double start = now();
    for (long i = 0; i < n; i++) {
        write_full(to_first, &token, 1);
        read_full(from_last, &token, 1);
    }
    return now() - start;
}

int main(void)
{
    sweep_start("ring", 2 * 512 + 16);
    SWEEP_FOR(n, SIZES)
    {
        sweep_begin("ring", n);
        build_ring(n);
        sweep_measure_as(trial, 0, (double)n); /* per hop: n hops a round */
        tear_down_ring();
    }
    return 0;
}
