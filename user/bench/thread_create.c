/* thread_create - pthread_create of a thread that returns at once, then pthread_join: one
 * iteration is one create+join (clone with CLONE_THREAD, the new thread's stack and TLS, its
 * exit and the CLONE_CHILD_CLEARTID futex wake that ends the join). */
#include "bench.h"

#include <pthread.h>

static void *nothing(void *arg)
{
    return arg;
}

static void create_and_join(void)
{
    pthread_t t;
    int err = pthread_create(&t, NULL, nothing, NULL);
    if (err) {
        errno = err;
        die("pthread_create");
    }
    err = pthread_join(t, NULL);
    if (err) {
        errno = err;
        die("pthread_join");
    }
}

static double trial(long n)
{
    create_and_join(); /* warm-up: the allocator's first thread stack */
    double start = now();
    for (long i = 0; i < n; i++)
        create_and_join();
    return now() - start;
}

int main(void)
{
    return bench_main(&(struct bench){"thread_create", 0, trial});
}
