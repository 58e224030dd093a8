/* thread_futex_lat - a futex ping-pong between two threads of one process: one iteration is
 * the main thread handing the turn to the peer (store, FUTEX_WAKE_PRIVATE) and sleeping in
 * FUTEX_WAIT_PRIVATE until the peer hands it back the same way. */
#include "bench.h"

#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/syscall.h>

/* Whose turn: MAIN or PEER; STOP ends the peer. */
enum { MAIN, PEER, STOP };
static _Atomic int turn;

static void futex_wait(int expected)
{
    long r = syscall(SYS_futex, &turn, FUTEX_WAIT_PRIVATE, expected, NULL, NULL, 0);
    if (r < 0 && errno != EAGAIN && errno != EINTR)
        die("futex wait");
}

static void futex_wake(void)
{
    if (syscall(SYS_futex, &turn, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0) < 0)
        die("futex wake");
}

/* Hands the turn to `to`, then sleeps until it is `mine` (or STOP) again. */
static int pass_and_wait(int to, int mine)
{
    atomic_store(&turn, to);
    futex_wake();
    int now_turn;
    while ((now_turn = atomic_load(&turn)) == to)
        futex_wait(to);
    return now_turn == mine;
}

static void *peer(void *arg)
{
    (void)arg;
    int t;
    while ((t = atomic_load(&turn)) == MAIN)
        futex_wait(MAIN);
    while (t == PEER) {
        if (!pass_and_wait(MAIN, PEER))
            break;
        t = atomic_load(&turn);
    }
    return NULL;
}

static double trial(long n)
{
    atomic_store(&turn, MAIN);
    pthread_t t;
    int err = pthread_create(&t, NULL, peer, NULL);
    if (err) {
        errno = err;
        die("pthread_create");
    }
    pass_and_wait(PEER, MAIN); /* warm-up: the peer is running */
    double start = now();
    for (long i = 0; i < n; i++)
        pass_and_wait(PEER, MAIN);
    double elapsed = now() - start;
    atomic_store(&turn, STOP);
    futex_wake();
    err = pthread_join(t, NULL);
    if (err) {
        errno = err;
        die("pthread_join");
    }
    return elapsed;
}

int main(void)
{
    return bench_main(&(struct bench){"thread_futex_lat", 0, trial});
}
