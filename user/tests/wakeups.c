/* wakeups.c - one write wakes every kind of waiter, and EPOLLEXCLUSIVE wakes one.
 * - On a pipe, a unix stream socket and a semaphore eventfd, a thread blocked in read, one in
 *   poll and one in epoll_wait all wake from one write (two units are written, the reader takes
 *   one, so the others still find the object readable when they re-check).
 * - EPOLLEXCLUSIVE: four threads, each with its own epoll watching one eventfd exclusively (and
 *   edge-triggered), all blocked in epoll_wait: one write reports the eventfd to exactly one of
 *   them (the others' epolls never queue it: when they are woken later by their own quit
 *   eventfd, the eventfd is not among their events). Its epoll_ctl rules: ADD only, with IN,
 *   OUT, ERR, HUP, ET and WAKEUP (EINVAL with RDHUP, PRI or ONESHOT, on an epoll fd, with MOD,
 *   and MOD of an exclusive entry).
 * - Threads sharing one epoll: a new edge-triggered event is reported to exactly one of them.
 * A thread is known to be blocked when /proc/self/task/<tid>/stat says 'S' after it told us it
 * was about to block; nothing depends on timing.
 * Syscalls: pipe2, socketpair, eventfd2, epoll_create1, epoll_ctl, epoll_wait, poll, read,
 * write, close, clone (pthread_create), futex, gettid, openat.
 */
#define _GNU_SOURCE
#define TEST_MAIN
#include "test.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>

/* The state letter of thread `tid` of this process, or 0. */
static char thread_state(pid_t tid)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/self/task/%d/stat", (int)tid);
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = 0;
    char *p = strrchr(buf, ')');
    return p && p[1] == ' ' ? p[2] : 0;
}

/* 1 once thread `tid` is seen blocked ('S'), 0 after ~20 s. */
static int wait_thread_sleeping(pid_t tid)
{
    for (int i = 0; i < 20000; i++) {
        if (thread_state(tid) == 'S')
            return 1;
        struct timespec t = {0, 1000000};
        nanosleep(&t, NULL);
    }
    return 0;
}

/* Waits for one byte on `fd` for up to 20 s: the byte, or -1. */
static int report(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, 20000) != 1)
        return -1;
    unsigned char c;
    return read(fd, &c, 1) == 1 ? c : -1;
}

/* ---- one write wakes a reader, a poller and an epoller ---- */

enum { BY_READ, BY_POLL, BY_EPOLL };

struct waiter {
    int how;
    int fd;        /* the object's readable end */
    int unit;      /* bytes a read takes (8 for an eventfd) */
    int ready[2];  /* the thread's "about to block" and tid */
    int done;      /* where it reports */
    pid_t tid;
    int result;
};

static void *waiter_main(void *arg)
{
    struct waiter *w = arg;
    w->tid = syscall(SYS_gettid);
    int ep = -1;
    if (w->how == BY_EPOLL) {
        ep = epoll_create1(0);
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = 7};
        if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, w->fd, &ev) < 0) {
            w->result = -100;
            goto out;
        }
    }
    char c = 'r';
    if (write(w->ready[1], &c, 1) != 1) {
        w->result = -101;
        goto out;
    }
    if (w->how == BY_READ) {
        char buf[8];
        w->result = read(w->fd, buf, w->unit) == w->unit ? 1 : -1;
    } else if (w->how == BY_POLL) {
        struct pollfd p = {.fd = w->fd, .events = POLLIN};
        w->result = poll(&p, 1, -1) == 1 && (p.revents & POLLIN) ? 1 : -2;
    } else {
        struct epoll_event ev;
        w->result = epoll_wait(ep, &ev, 1, -1) == 1 && ev.data.u32 == 7 && (ev.events & EPOLLIN)
                        ? 1
                        : -3;
    }
out:
    if (ep >= 0)
        close(ep);
    c = 'd';
    write(w->done, &c, 1);
    return NULL;
}

/* Three threads block on `rfd` (read, poll, epoll_wait); `put` is called once; all must wake. */
static void one_write_wakes_all(int rfd, int unit, void (*put)(void *), void *arg)
{
    int done[2];
    CHECK_OK(pipe2(done, O_CLOEXEC));
    struct waiter w[3];
    pthread_t t[3];
    for (int i = 0; i < 3; i++) {
        memset(&w[i], 0, sizeof w[i]);
        w[i].how = i;
        w[i].fd = rfd;
        w[i].unit = unit;
        w[i].done = done[1];
        CHECK_OK(pipe2(w[i].ready, O_CLOEXEC));
        CHECK_EQ(pthread_create(&t[i], NULL, waiter_main, &w[i]), 0);
        CHECK_EQ(report(w[i].ready[0]), 'r');
    }
    for (int i = 0; i < 3; i++)
        CHECK(wait_thread_sleeping(w[i].tid));
    put(arg);
    int woke = 0;
    for (int i = 0; i < 3; i++)
        if (report(done[0]) == 'd')
            woke++;
    CHECK_EQ(woke, 3);
    for (int i = 0; i < 3; i++) {
        pthread_join(t[i], NULL);
        close(w[i].ready[0]);
        close(w[i].ready[1]);
    }
    CHECK_EQ(w[BY_READ].result, 1);
    CHECK_EQ(w[BY_POLL].result, 1);
    CHECK_EQ(w[BY_EPOLL].result, 1);
    close(done[0]);
    close(done[1]);
}

static void write_two_bytes(void *arg)
{
    int fd = *(int *)arg;
    if (write(fd, "ab", 2) != 2)
        abort();
}

static void add_two(void *arg)
{
    uint64_t v = 2;
    if (write(*(int *)arg, &v, 8) != 8)
        abort();
}

TEST(pipe_write_wakes_reader_poller_and_epoller)
{
    int p[2];
    CHECK_OK(pipe2(p, O_CLOEXEC));
    one_write_wakes_all(p[0], 1, write_two_bytes, &p[1]);
    /* The reader took one byte; one is left. */
    char c;
    CHECK_EQ(read(p[0], &c, 1), 1);
    close(p[0]);
    close(p[1]);
}

TEST(unix_stream_send_wakes_reader_poller_and_epoller)
{
    int sv[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
    one_write_wakes_all(sv[0], 1, write_two_bytes, &sv[1]);
    char c;
    CHECK_EQ(read(sv[0], &c, 1), 1);
    close(sv[0]);
    close(sv[1]);
}

TEST(eventfd_write_wakes_reader_poller_and_epoller)
{
    int e = eventfd(0, EFD_SEMAPHORE | EFD_CLOEXEC);
    CHECK_OK(e);
    one_write_wakes_all(e, 8, add_two, &e);
    uint64_t v;
    CHECK_EQ(read(e, &v, 8), 8);
    CHECK_EQ(v, 1);
    close(e);
}

/* ---- EPOLLEXCLUSIVE ---- */

#define EXCLUSIVE_THREADS 4

struct ex_waiter {
    int ep;          /* its own epoll, or the shared one */
    int ready[2];
    int done;
    pid_t tid;
    atomic_int *saw; /* how many threads the event was reported to */
    int result;
};

/* epoll_wait until the quit entry (data 2) is reported; counts the event (data 1). */
static void *ex_main(void *arg)
{
    struct ex_waiter *w = arg;
    w->tid = syscall(SYS_gettid);
    char c = 'r';
    if (write(w->ready[1], &c, 1) != 1)
        w->result = -1;
    for (int quit = 0; !quit && w->result == 0;) {
        struct epoll_event evs[4];
        int n = epoll_wait(w->ep, evs, 4, -1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            w->result = -2;
            break;
        }
        for (int i = 0; i < n; i++) {
            if (evs[i].data.u32 == 1) {
                atomic_fetch_add(w->saw, 1);
                c = 'e';
                write(w->done, &c, 1);
            } else if (evs[i].data.u32 == 2) {
                quit = 1;
            }
        }
    }
    return NULL;
}

TEST(epoll_exclusive_wakes_one_of_the_epolls)
{
    int e = eventfd(0, EFD_CLOEXEC);
    int quit = eventfd(0, EFD_CLOEXEC);
    int done[2];
    CHECK_OK(e);
    CHECK_OK(quit);
    CHECK_OK(pipe2(done, O_CLOEXEC));
    atomic_int saw = 0;
    struct ex_waiter w[EXCLUSIVE_THREADS];
    pthread_t t[EXCLUSIVE_THREADS];
    for (int i = 0; i < EXCLUSIVE_THREADS; i++) {
        memset(&w[i], 0, sizeof w[i]);
        w[i].ep = epoll_create1(EPOLL_CLOEXEC);
        CHECK_OK(w[i].ep);
        struct epoll_event ev = {.events = EPOLLIN | EPOLLET | EPOLLEXCLUSIVE, .data.u32 = 1};
        CHECK_OK(epoll_ctl(w[i].ep, EPOLL_CTL_ADD, e, &ev));
        struct epoll_event q = {.events = EPOLLIN, .data.u32 = 2};
        CHECK_OK(epoll_ctl(w[i].ep, EPOLL_CTL_ADD, quit, &q));
        w[i].done = done[1];
        w[i].saw = &saw;
        CHECK_OK(pipe2(w[i].ready, O_CLOEXEC));
        CHECK_EQ(pthread_create(&t[i], NULL, ex_main, &w[i]), 0);
        CHECK_EQ(report(w[i].ready[0]), 'r');
    }
    for (int i = 0; i < EXCLUSIVE_THREADS; i++)
        CHECK(wait_thread_sleeping(w[i].tid));
    uint64_t one = 1;
    CHECK_EQ(write(e, &one, 8), 8);
    CHECK_EQ(report(done[0]), 'e');
    /* Everybody leaves; the eventfd is still readable, but only the epoll that took the
     * notification has it queued. */
    CHECK_EQ(write(quit, &one, 8), 8);
    for (int i = 0; i < EXCLUSIVE_THREADS; i++) {
        pthread_join(t[i], NULL);
        CHECK_EQ(w[i].result, 0);
        close(w[i].ep);
        close(w[i].ready[0]);
        close(w[i].ready[1]);
    }
    CHECK_EQ(atomic_load(&saw), 1);
    close(e);
    close(quit);
    close(done[0]);
    close(done[1]);
}

TEST(one_epoll_shared_by_threads_reports_an_edge_to_one)
{
    int e = eventfd(0, EFD_CLOEXEC);
    int quit = eventfd(0, EFD_CLOEXEC);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    int done[2];
    CHECK_OK(e);
    CHECK_OK(quit);
    CHECK_OK(ep);
    CHECK_OK(pipe2(done, O_CLOEXEC));
    struct epoll_event ev = {.events = EPOLLIN | EPOLLET, .data.u32 = 1};
    CHECK_OK(epoll_ctl(ep, EPOLL_CTL_ADD, e, &ev));
    atomic_int saw = 0;
    struct ex_waiter w[3];
    pthread_t t[3];
    for (int i = 0; i < 3; i++) {
        memset(&w[i], 0, sizeof w[i]);
        w[i].ep = ep;
        w[i].done = done[1];
        w[i].saw = &saw;
        CHECK_OK(pipe2(w[i].ready, O_CLOEXEC));
        CHECK_EQ(pthread_create(&t[i], NULL, ex_main, &w[i]), 0);
        CHECK_EQ(report(w[i].ready[0]), 'r');
    }
    for (int i = 0; i < 3; i++)
        CHECK(wait_thread_sleeping(w[i].tid));
    uint64_t one = 1;
    CHECK_EQ(write(e, &one, 8), 8);
    CHECK_EQ(report(done[0]), 'e');
    /* The quit entry is level-triggered: every thread sees it, none sees the edge again. */
    struct epoll_event q = {.events = EPOLLIN, .data.u32 = 2};
    CHECK_OK(epoll_ctl(ep, EPOLL_CTL_ADD, quit, &q));
    CHECK_EQ(write(quit, &one, 8), 8);
    for (int i = 0; i < 3; i++) {
        pthread_join(t[i], NULL);
        CHECK_EQ(w[i].result, 0);
        close(w[i].ready[0]);
        close(w[i].ready[1]);
    }
    CHECK_EQ(atomic_load(&saw), 1);
    close(ep);
    close(e);
    close(quit);
    close(done[0]);
    close(done[1]);
}

TEST(epoll_exclusive_ctl_rules)
{
    int ep = epoll_create1(EPOLL_CLOEXEC);
    int inner = epoll_create1(EPOLL_CLOEXEC);
    int p[2];
    CHECK_OK(ep);
    CHECK_OK(inner);
    CHECK_OK(pipe2(p, O_CLOEXEC));
    struct epoll_event ev;
    /* Allowed: IN, OUT, ERR, HUP, ET, WAKEUP with EXCLUSIVE. */
    ev = (struct epoll_event){.events = EPOLLIN | EPOLLOUT | EPOLLERR | EPOLLHUP | EPOLLET |
                                        EPOLLEXCLUSIVE};
    CHECK_OK(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev));
    /* An exclusive entry cannot be modified, not even to a plain one. */
    ev = (struct epoll_event){.events = EPOLLIN};
    CHECK_ERRNO(epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev), EINVAL);
    ev = (struct epoll_event){.events = EPOLLIN | EPOLLEXCLUSIVE};
    CHECK_ERRNO(epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev), EINVAL);
    CHECK_OK(epoll_ctl(ep, EPOLL_CTL_DEL, p[0], NULL));
    /* Other event bits with EXCLUSIVE: EINVAL. */
    ev = (struct epoll_event){.events = EPOLLIN | EPOLLRDHUP | EPOLLEXCLUSIVE};
    CHECK_ERRNO(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev), EINVAL);
    ev = (struct epoll_event){.events = EPOLLIN | EPOLLPRI | EPOLLEXCLUSIVE};
    CHECK_ERRNO(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev), EINVAL);
    ev = (struct epoll_event){.events = EPOLLIN | EPOLLONESHOT | EPOLLEXCLUSIVE};
    CHECK_ERRNO(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev), EINVAL);
    /* Not on an epoll fd. */
    ev = (struct epoll_event){.events = EPOLLIN | EPOLLEXCLUSIVE};
    CHECK_ERRNO(epoll_ctl(ep, EPOLL_CTL_ADD, inner, &ev), EINVAL);
    /* A plain entry cannot become exclusive by MOD. */
    ev = (struct epoll_event){.events = EPOLLIN};
    CHECK_OK(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev));
    ev = (struct epoll_event){.events = EPOLLIN | EPOLLEXCLUSIVE};
    CHECK_ERRNO(epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev), EINVAL);
    close(p[0]);
    close(p[1]);
    close(inner);
    close(ep);
}

/* poll on one fd listed twice, for OUT and for IN, hears of both (one registration). */
struct twice {
    int fd, ready;
    pid_t tid;
    int result;
};

static void *poll_twice_main(void *p)
{
    struct twice *a = p;
    a->tid = syscall(SYS_gettid);
    char c = 'r';
    if (write(a->ready, &c, 1) != 1)
        return NULL;
    struct pollfd fds[2] = {{.fd = a->fd, .events = POLLOUT}, {.fd = a->fd, .events = POLLIN}};
    int n = poll(fds, 2, 20000);
    a->result = n == 1 && fds[1].revents == POLLIN && fds[0].revents == 0 ? 1 : -1 - n;
    return NULL;
}

TEST(poll_one_fd_listed_for_out_then_in_wakes_on_in)
{
    int sv[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
    /* Fill what sv[0] may send, so that OUT is not ready on it. */
    int fl = fcntl(sv[0], F_GETFL);
    CHECK_OK(fcntl(sv[0], F_SETFL, fl | O_NONBLOCK));
    static char buf[4096];
    memset(buf, 'x', sizeof buf);
    while (write(sv[0], buf, sizeof buf) > 0)
        ;
    CHECK_EQ(errno, EAGAIN);
    int ready[2];
    CHECK_OK(pipe2(ready, O_CLOEXEC));
    struct twice a = {.fd = sv[0], .ready = ready[1]};
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, poll_twice_main, &a), 0);
    CHECK_EQ(report(ready[0]), 'r');
    CHECK(wait_thread_sleeping(a.tid));
    CHECK_EQ(write(sv[1], "z", 1), 1);
    pthread_join(t, NULL);
    CHECK_EQ(a.result, 1);
    close(ready[0]);
    close(ready[1]);
    close(sv[0]);
    close(sv[1]);
}
