/* thread_pipe_lat - one byte there and back between two threads of one process over two
 * pipes (as pipe_lat, with a thread instead of a child process). */
#include "bench.h"

#include <pthread.h>

struct ends {
    int rd, wr;
    long n;
};

static void *peer(void *arg)
{
    struct ends *e = arg;
    char buf[1];
    for (long i = 0; i <= e->n; i++) {
        read_full(e->rd, buf, 1);
        write_full(e->wr, buf, 1);
    }
    return NULL;
}

static double trial(long n)
{
    int there[2], back[2];
    if (pipe(there) < 0 || pipe(back) < 0)
        die("pipe");
    struct ends e = {there[0], back[1], n};
    pthread_t t;
    int err = pthread_create(&t, NULL, peer, &e);
    if (err) {
        errno = err;
        die("pthread_create");
    }
    double elapsed = pingpong_parent(there[1], back[0], 1, n);
    err = pthread_join(t, NULL);
    if (err) {
        errno = err;
        die("pthread_join");
    }
    close(there[0]);
    close(there[1]);
    close(back[0]);
    close(back[1]);
    return elapsed;
}

int main(void)
{
    return bench_main(&(struct bench){"thread_pipe_lat", 0, trial});
}
