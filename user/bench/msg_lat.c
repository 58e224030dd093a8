/* msg_lat - SysV message queue ping-pong: a one-byte message of type 1 there, type 2 back, on
 * one queue. */
#include "bench.h"

#include <sys/ipc.h>
#include <sys/msg.h>

struct message {
    long type;
    char byte;
};

static void msg_send(int id, long type)
{
    struct message m = {.type = type, .byte = 1};
    while (msgsnd(id, &m, 1, 0) < 0) {
        if (errno != EINTR)
            die("msgsnd");
    }
}

static void msg_receive(int id, long type)
{
    struct message m;
    while (msgrcv(id, &m, 1, type, 0) < 0) {
        if (errno != EINTR)
            die("msgrcv");
    }
}

static double trial(long n)
{
    int id = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
    if (id < 0)
        die("msgget");
    pid_t child = fork_or_die();
    if (child == 0) {
        for (long i = 0; i <= n; i++) {
            msg_receive(id, 1);
            msg_send(id, 2);
        }
        _exit(0);
    }
    msg_send(id, 1);
    msg_receive(id, 2);
    double start = now();
    for (long i = 0; i < n; i++) {
        msg_send(id, 1);
        msg_receive(id, 2);
    }
    double t = now() - start;
    reap(child);
    if (msgctl(id, IPC_RMID, NULL) < 0)
        die("msgctl(IPC_RMID)");
    return t;
}

int main(void)
{
    return bench_main(&(struct bench){"msg_lat", 0, trial});
}
