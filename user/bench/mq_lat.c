/* mq_lat - POSIX message queue ping-pong: two queues of 8-byte messages; the parent sends on
 * the first and receives on the second, the child the other way round. */
#include "bench.h"

#include <fcntl.h>
#include <mqueue.h>
#include <stdio.h>

static mqd_t open_queue(const char *name)
{
    struct mq_attr attr = {.mq_maxmsg = 4, .mq_msgsize = 8};
    mqd_t q = mq_open(name, O_RDWR | O_CREAT | O_EXCL, 0600, &attr);
    if (q == (mqd_t)-1)
        die("mq_open");
    mq_unlink(name);
    return q;
}

static void send_one(mqd_t q)
{
    while (mq_send(q, "pingpong", 8, 0) < 0) {
        if (errno != EINTR)
            die("mq_send");
    }
}

static void receive_one(mqd_t q)
{
    char buf[8];
    while (mq_receive(q, buf, sizeof buf, NULL) < 0) {
        if (errno != EINTR)
            die("mq_receive");
    }
}

static double trial(long n)
{
    char a[64], b[64];
    snprintf(a, sizeof a, "/bench-mq-a-%d", getpid());
    snprintf(b, sizeof b, "/bench-mq-b-%d", getpid());
    mqd_t ping = open_queue(a), pong = open_queue(b);
    pid_t child = fork_or_die();
    if (child == 0) {
        for (long i = 0; i <= n; i++) {
            receive_one(ping);
            send_one(pong);
        }
        _exit(0);
    }
    send_one(ping);
    receive_one(pong);
    double start = now();
    for (long i = 0; i < n; i++) {
        send_one(ping);
        receive_one(pong);
    }
    double t = now() - start;
    reap(child);
    mq_close(ping);
    mq_close(pong);
    return t;
}

int main(void)
{
    return bench_main(&(struct bench){"mq_lat", 0, trial});
}
