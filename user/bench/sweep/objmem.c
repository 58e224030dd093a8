/* objmem - kernel memory per object: /proc/meminfo before and after creating COUNT of one kind
 * (idle pipes, unix stream socket pairs, TCP connections over loopback with both ends, epoll
 * entries, processes blocked in read, threads blocked in read), in bytes per object. Prints
 *
 *     bench=kmem_KIND unit=B value=BYTES iters=COUNT     memory in use: MemTotal - MemFree
 *                                                        (plus Slab on POSIX-X, whose heap is
 *                                                        carved out at boot and not in MemFree)
 *     bench=slab_KIND unit=B value=BYTES iters=COUNT     Slab alone
 *
 * COUNT is 10,000 for descriptors and 1,000 for processes and threads (10 of each with
 * BENCH_SWEEP_CHECK). A kind that runs out before COUNT (ENFILE, ENOMEM, EAGAIN) is measured
 * over what was created, and says so: `bench-note name=kmem_KIND created=N of COUNT: why`.
 * Memory in use includes the user pages the objects cost (a process's copied stack pages, a
 * thread's stack): the bytes a user pays for one more of them. */
#include "sweep.h"
#include "../inet.h"

#include <pthread.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>

struct meminfo {
    long used_kb, slab_kb;
};

static struct meminfo meminfo(void)
{
    FILE *f = fopen("/proc/meminfo", "r");
    if (!f)
        die("/proc/meminfo");
    long total = -1, free_kb = -1, slab = -1;
    char line[256];
    while (fgets(line, sizeof line, f)) {
        sscanf(line, "MemTotal: %ld kB", &total);
        sscanf(line, "MemFree: %ld kB", &free_kb);
        sscanf(line, "Slab: %ld kB", &slab);
    }
    fclose(f);
    if (total < 0 || free_kb < 0 || slab < 0) {
        errno = 0;
        die("/proc/meminfo lacks MemTotal, MemFree or Slab");
    }
    struct meminfo m = {total - free_kb, slab};
    if (on_posix_x())
        m.used_kb += slab;
    return m;
}

/* Lets deferred frees of what the previous kind released finish (Linux frees sockets and files
 * after an RCU grace period) before the baseline is read. */
static void settle(void)
{
    struct timespec ts = {0, 300 * 1000 * 1000};
    nanosleep(&ts, NULL);
}

static const char *kind;
static long wanted, created;
static struct meminfo before;

static void begin(const char *name, long count)
{
    kind = name;
    wanted = count;
    created = 0;
    snprintf(sweep_point_name, sizeof sweep_point_name, "kmem_%s", name);
    bench_name = sweep_point_name;
    settle();
    before = meminfo();
}

/* Creation stopped early: errno says why. */
static void ran_out(void)
{
    printf("bench-note name=kmem_%s created=%ld of %ld: %s\n", kind, created, wanted, strerror(errno));
}

static void end(void)
{
    struct meminfo after = meminfo();
    if (created == 0) {
        errno = 0;
        die("could not create a single one");
    }
    snprintf(sweep_point_name, sizeof sweep_point_name, "kmem_%s", kind);
    sweep_report("B", (double)(after.used_kb - before.used_kb) * 1024.0 / (double)created, created);
    snprintf(sweep_point_name, sizeof sweep_point_name, "slab_%s", kind);
    sweep_report("B", (double)(after.slab_kb - before.slab_kb) * 1024.0 / (double)created, created);
}

static int *fds;

static void close_fds(long n)
{
    for (long i = 0; i < n; i++)
        close(fds[i]);
}

static void pipes(long count)
{
    begin("pipe", count);
    for (; created < count; created++) {
        if (pipe(fds + 2 * created) < 0) {
            ran_out();
            break;
        }
    }
    end();
    close_fds(2 * created);
}

static void unix_pairs(long count)
{
    begin("unix_pair", count);
    for (; created < count; created++) {
        if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds + 2 * created) < 0) {
            ran_out();
            break;
        }
    }
    end();
    close_fds(2 * created);
}

static void tcp_connections(long count)
{
    struct sockaddr_in addr;
    int listener = loopback_socket(SOCK_STREAM, &addr);
    if (listen(listener, 16) < 0)
        die("listen");
    begin("tcp_connection", count);
    for (; created < count; created++) {
        int c = socket(AF_INET, SOCK_STREAM, 0);
        if (c < 0) {
            ran_out();
            break;
        }
        if (connect(c, (struct sockaddr *)&addr, sizeof addr) < 0) {
            ran_out();
            close(c);
            break;
        }
        int s = accept(listener, NULL, NULL);
        if (s < 0) {
            ran_out();
            close(c);
            break;
        }
        fds[2 * created] = c;
        fds[2 * created + 1] = s;
    }
    end();
    /* Resets, so that 2 x count sockets do not sit in TIME-WAIT for the kinds after this. */
    struct linger off = {.l_onoff = 1, .l_linger = 0};
    for (long i = 0; i < 2 * created; i++)
        setsockopt(fds[i], SOL_SOCKET, SO_LINGER, &off, sizeof off);
    close_fds(2 * created);
    close(listener);
}

static void epoll_entries(long count)
{
    long made = 0;
    for (; made < count; made++) {
        fds[made] = eventfd(0, 0);
        if (fds[made] < 0)
            die("eventfd (number %ld)", made);
    }
    int ep = epoll_create1(0);
    if (ep < 0)
        die("epoll_create1");
    begin("epoll_entry", count);
    for (; created < count; created++) {
        struct epoll_event ev = {.events = EPOLLIN, .data.fd = fds[created]};
        if (epoll_ctl(ep, EPOLL_CTL_ADD, fds[created], &ev) < 0) {
            ran_out();
            break;
        }
    }
    end();
    close(ep);
    close_fds(made);
}

static void processes(long count)
{
    int hold[2];
    if (pipe(hold) < 0)
        die("pipe");
    pid_t *pids = calloc((size_t)count, sizeof *pids);
    if (!pids)
        die("calloc");
    begin("process", count);
    for (; created < count; created++) {
        pid_t pid = fork();
        if (pid < 0) {
            ran_out();
            break;
        }
        if (pid == 0) {
            close(hold[1]);
            char c;
            while (read(hold[0], &c, 1) < 0 && errno == EINTR) {
            }
            _exit(0);
        }
        pids[created] = pid;
    }
    end();
    close(hold[1]);
    close(hold[0]);
    for (long i = 0; i < created; i++)
        reap(pids[i]);
    free(pids);
}

static int thread_hold[2];

static void *blocked_thread(void *arg)
{
    (void)arg;
    char c;
    while (read(thread_hold[0], &c, 1) < 0 && errno == EINTR) {
    }
    return NULL;
}

static void threads(long count)
{
    if (pipe(thread_hold) < 0)
        die("pipe");
    pthread_t *ts = calloc((size_t)count, sizeof *ts);
    pthread_attr_t attr;
    if (!ts || pthread_attr_init(&attr) != 0 || pthread_attr_setstacksize(&attr, 64 * 1024) != 0)
        die("thread attributes");
    begin("thread", count);
    for (; created < count; created++) {
        int e = pthread_create(&ts[created], &attr, blocked_thread, NULL);
        if (e != 0) {
            errno = e;
            ran_out();
            break;
        }
    }
    end();
    close(thread_hold[1]);
    for (long i = 0; i < created; i++)
        pthread_join(ts[i], NULL);
    close(thread_hold[0]);
    free(ts);
}

int main(void)
{
    long fd_count = sweep_check() ? 10 : 10000;
    long task_count = sweep_check() ? 10 : 1000;
    sweep_start("objmem", 2 * fd_count + 64);
    setvbuf(stdout, NULL, _IOLBF, 0);
    fds = malloc((size_t)(2 * fd_count) * sizeof *fds);
    if (!fds)
        die("malloc");
    pipes(fd_count);
    unix_pairs(fd_count);
    tcp_connections(fd_count);
    epoll_entries(fd_count);
    processes(task_count);
    threads(task_count);
    return 0;
}
