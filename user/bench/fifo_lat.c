/* fifo_lat - one byte there and back between two processes over two named pipes (FIFOs). */
#include "bench.h"

#include <fcntl.h>
#include <sys/stat.h>

static double trial(long n)
{
    char there[64], back[64];
    snprintf(there, sizeof there, "/tmp/bench-fifo-%d-there", (int)getpid());
    snprintf(back, sizeof back, "/tmp/bench-fifo-%d-back", (int)getpid());
    unlink(there);
    unlink(back);
    if (mkfifo(there, 0600) < 0 || mkfifo(back, 0600) < 0)
        die("mkfifo");
    pid_t child = fork_or_die();
    if (child == 0) {
        /* The same order of opens on both sides: each open waits for its peer's. */
        int rd = open(there, O_RDONLY);
        int wr = open(back, O_WRONLY);
        if (rd < 0 || wr < 0)
            die("open fifo");
        pingpong_child(rd, wr, 1, n);
    }
    int wr = open(there, O_WRONLY);
    int rd = open(back, O_RDONLY);
    if (rd < 0 || wr < 0)
        die("open fifo");
    unlink(there);
    unlink(back);
    double t = pingpong_parent(wr, rd, 1, n);
    close(wr);
    close(rd);
    reap(child);
    return t;
}

int main(void)
{
    return bench_main(&(struct bench){"fifo_lat", 0, trial});
}
