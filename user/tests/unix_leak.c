/* unix_leak.c - no memory or fd leaks in AF_UNIX socket life cycles: MemFree from
 * /proc/meminfo before and after 10,000 stream connect/accept/close cycles, filesystem-name
 * bind/connect/unlink cycles, datagram and seqpacket sockets closed with unread messages,
 * socketpairs closed with an unread SCM_RIGHTS message carrying pipe ends, and sockets sent
 * into their own receive queue (reclaimed only by the garbage collector). MemFree may drop by at
 * most 8 MiB (it may also rise: on the host other activity moves it both ways); a warm-up round
 * runs first and a round is retried up to 10 times before a drop counts as a leak, as in
 * leak.c. Each round also checks that the process has as many open fds as before.
 * Each case prints "# MemFree delta" as a TAP comment.
 * Files live in a mkdtemp("/tmp/ptest.XXXXXX") directory removed at exit; abstract names carry
 * the pid.
 * Syscalls: socket, socketpair, bind, listen, connect, accept, sendto, sendmsg, recv, read,
 * write, close, unlink, pipe2, fcntl, openat.
 */
#define _GNU_SOURCE
#define TEST_MAIN
#include "test.h"

#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>

/* A check inside a forked child: report on stderr and exit 1 (the parent checks for 0). */
#define CCHECK(cond)                                                                  \
    do {                                                                              \
        if (!(cond)) {                                                                \
            dprintf(2, "# child: %s:%d: CCHECK(%s) failed (errno %d)\n", __FILE__,    \
                    __LINE__, #cond, errno);                                          \
            _exit(1);                                                                 \
        }                                                                             \
    } while (0)

/* expr fails with errno e (in a child) */
#define CERRNO(expr, e)                                                               \
    do {                                                                              \
        errno = 0;                                                                    \
        long cr_ = (long)(expr);                                                      \
        if (cr_ != -1 || errno != (e)) {                                              \
            dprintf(2, "# child: %s:%d: %s returned %ld errno %d, wanted errno %d\n",   \
                    __FILE__, __LINE__, #expr, cr_, errno, (e));                      \
            _exit(1);                                                                 \
        }                                                                             \
    } while (0)

__attribute__((unused)) static int child_status(pid_t pid)
{
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return -1;
    return st;
}

#define CHECK_CHILD_OK(pid)                                                           \
    do {                                                                              \
        int st_ = child_status(pid);                                                  \
        if (st_ != 0)                                                                 \
            FAIL("child status %#x (see stderr)", st_);                               \
    } while (0)

/* ---- scratch directory ---- */

static char scratch_root_[64];
static pid_t scratch_owner_;
static int scratch_n_;

static int rm_cb_(const char *p, const struct stat *s, int flag, struct FTW *f)
{
    (void)s, (void)flag, (void)f;
    return remove(p);
}

static void scratch_cleanup_(void)
{
    if (scratch_root_[0] && getpid() == scratch_owner_)
        nftw(scratch_root_, rm_cb_, 16, FTW_DEPTH | FTW_PHYS);
}

/* A fresh empty directory (mode 0755) for one case, under one mkdtemp directory removed at
 * exit. */
__attribute__((unused)) static const char *newdir(void)
{
    static char bufs[4][128];
    if (!scratch_root_[0]) {
        strcpy(scratch_root_, "/tmp/ptest.XXXXXX");
        if (!mkdtemp(scratch_root_)) {
            scratch_root_[0] = '\0';
            return NULL;
        }
        scratch_owner_ = getpid();
        atexit(scratch_cleanup_);
        if (chmod(scratch_root_, 0755) != 0)
            return NULL;
    }
    char *b = bufs[scratch_n_ % 4];
    snprintf(b, sizeof bufs[0], "%s/c%d", scratch_root_, scratch_n_);
    scratch_n_++;
    if (mkdir(b, 0755) != 0 || chmod(b, 0755) != 0)
        return NULL;
    return b;
}

/* dir/name in one of 16 rotating buffers. */
__attribute__((unused)) static const char *P(const char *dir, const char *name)
{
    static char bufs[16][1024];
    static int n;
    char *b = bufs[n++ % 16];
    snprintf(b, sizeof bufs[0], "%s/%s", dir, name);
    return b;
}

/* ---- addresses ---- */

#define FAMLEN ((socklen_t)sizeof(sa_family_t))
#define PATHLEN(path) ((socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path) + 1))

/* A filesystem address; returns the length Linux reports for it (with the NUL). */
__attribute__((unused)) static socklen_t path_addr(struct sockaddr_un *a, const char *path)
{
    memset(a, 0, sizeof *a);
    a->sun_family = AF_UNIX;
    snprintf(a->sun_path, sizeof a->sun_path, "%s", path);
    return PATHLEN(path);
}

/* A unique abstract address "\0ptest-<pid>-<tag>-<n>"; returns its exact length (no NUL). */
__attribute__((unused)) static socklen_t abs_addr(struct sockaddr_un *a, const char *tag)
{
    static int n;
    memset(a, 0, sizeof *a);
    a->sun_family = AF_UNIX;
    int len = snprintf(a->sun_path + 1, sizeof a->sun_path - 1, "ptest-%d-%s-%d",
                       (int)getpid(), tag, n++);
    return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)len);
}

/* A socket of `type` bound to `a` (and listening if `backlog` >= 0), or -1. */
__attribute__((unused)) static int bound(int type, const struct sockaddr_un *a, socklen_t len, int backlog)
{
    int fd = socket(AF_UNIX, type, 0);
    if (fd < 0)
        return -1;
    if (bind(fd, (const struct sockaddr *)a, len) != 0 ||
        (backlog >= 0 && listen(fd, backlog) != 0)) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

/* A socket of `type` connected to `a`, or -1. */
__attribute__((unused)) static int connected(int type, const struct sockaddr_un *a, socklen_t len)
{
    int fd = socket(AF_UNIX, type, 0);
    if (fd < 0)
        return -1;
    if (connect(fd, (const struct sockaddr *)a, len) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

__attribute__((unused)) static int write_byte(int fd, char c) { return write(fd, &c, 1) == 1 ? 0 : -1; }

__attribute__((unused)) static int read_byte(int fd)
{
    char c;
    ssize_t r;
    do
        r = read(fd, &c, 1);
    while (r < 0 && errno == EINTR);
    return r == 1 ? (unsigned char)c : -1;
}

/* revents of fd for `events` after up to `ms` milliseconds (0 if none, -1 on error). */
__attribute__((unused)) static int poll1(int fd, short events, int ms)
{
    struct pollfd p = {.fd = fd, .events = events};
    int r;
    do
        r = poll(&p, 1, ms);
    while (r < 0 && errno == EINTR);
    return r < 0 ? -1 : r == 0 ? 0 : p.revents;
}

__attribute__((unused)) static long long now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* The state letter of /proc/<pid>/stat ('S' while blocked in a syscall), or 0. */
__attribute__((unused)) static char proc_state(pid_t pid)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    char *p = strrchr(buf, ')');
    return p && p[1] == ' ' ? p[2] : 0;
}

/* Waits (up to ~10 s) until `pid` sleeps; `watch` (if >= 0) ends the wait early when it
 * polls POLLHUP (the other side gave up). Returns 1 if the process was seen sleeping. */
__attribute__((unused)) static int wait_sleeping(pid_t pid, int watch)
{
    for (int i = 0; i < 10000; i++) {
        if (proc_state(pid) == 'S')
            return 1;
        if (watch >= 0) {
            int r = poll1(watch, POLLRDHUP, 1);
            if (r > 0 && (r & (POLLHUP | POLLRDHUP)))
                return 0;
        } else {
            struct timespec t = {0, 1000000};
            nanosleep(&t, NULL);
        }
    }
    return 0;
}

#define SLACK_KB (8 * 1024L)

static long memfree_kb(void)
{
    char buf[4096];
    int fd = open("/proc/meminfo", O_RDONLY);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    char *p = strstr(buf, "\nMemFree:");
    if (!p)
        return -1;
    return strtol(p + 9, NULL, 10);
}

/* Number of open fds below 1024. */
static int count_fds(void)
{
    int n = 0;
    for (int fd = 0; fd < 1024; fd++)
        if (fcntl(fd, F_GETFD) >= 0)
            n++;
    return n;
}

/* Runs `round(n)` once as warm-up (n/10+1), then measures MemFree around `round(n)`, up to
 * TRIALS times until one stays within the slack (see leak.c). */
#define TRIALS 10
#define CHECK_NO_LEAK(round, n)                                                       \
    do {                                                                              \
        int fds_ = count_fds();                                                       \
        CHECK_EQ(round((n) / 10 + 1), 0);                                             \
        CHECK_EQ(count_fds(), fds_);                                                  \
        long worst_ = 0;                                                              \
        int ok_ = 0;                                                                  \
        for (int t_ = 0; t_ < TRIALS && !ok_; t_++) {                                 \
            long before_ = memfree_kb();                                              \
            CHECK(before_ > 0);                                                       \
            CHECK_EQ(round(n), 0);                                                    \
            long after_ = memfree_kb();                                               \
            CHECK(after_ > 0);                                                        \
            CHECK_EQ(count_fds(), fds_);                                              \
            printf("# MemFree %ld kB -> %ld kB (delta %+ld kB)\n", before_, after_,   \
                   after_ - before_);                                                 \
            if (before_ - after_ <= SLACK_KB)                                         \
                ok_ = 1;                                                              \
            else if (before_ - after_ > worst_)                                       \
                worst_ = before_ - after_;                                            \
        }                                                                             \
        if (!ok_)                                                                     \
            FAIL("MemFree dropped by more than %ld kB in all %d trials (worst %ld kB)",  \
                 SLACK_KB, TRIALS, worst_);                                           \
    } while (0)

static struct sockaddr_un listen_addr;
static socklen_t listen_len;
static int listener = -1;

static int connect_accept_round(int n)
{
    for (int i = 0; i < n; i++) {
        int c = socket(AF_UNIX, SOCK_STREAM, 0);
        if (c < 0)
            return -1;
        if (connect(c, (struct sockaddr *)&listen_addr, listen_len) != 0)
            return -2;
        int s = accept(listener, NULL, NULL);
        if (s < 0)
            return -3;
        char b = 'x';
        if (write(c, &b, 1) != 1 || read(s, &b, 1) != 1)
            return -4;
        if (i % 2 && write(s, "unread", 6) != 6) /* every other one closes with unread data */
            return -5;
        close(c);
        close(s);
    }
    return 0;
}

static const char *leak_dir;

static int path_round(int n)
{
    struct sockaddr_un a;
    socklen_t len = path_addr(&a, P(leak_dir, "sock"));
    for (int i = 0; i < n; i++) {
        int l = bound(SOCK_STREAM, &a, len, 1);
        if (l < 0)
            return -1;
        int c = connected(SOCK_STREAM, &a, len);
        if (c < 0)
            return -2;
        int s = accept(l, NULL, NULL);
        if (s < 0)
            return -3;
        close(c);
        close(s);
        close(l);
        if (unlink(P(leak_dir, "sock")) != 0)
            return -4;
    }
    return 0;
}

static int dgram_round(int n)
{
    char buf[200];
    memset(buf, 'd', sizeof buf);
    for (int i = 0; i < n; i++) {
        struct sockaddr_un a;
        socklen_t len = abs_addr(&a, "dg");
        int r = bound(SOCK_DGRAM, &a, len, -1);
        if (r < 0)
            return -1;
        int s = socket(AF_UNIX, SOCK_DGRAM, 0);
        if (s < 0)
            return -2;
        for (int k = 0; k < 4; k++)
            if (sendto(s, buf, sizeof buf, 0, (struct sockaddr *)&a, len) != sizeof buf)
                return -3;
        char b[8];
        if (recv(r, b, sizeof b, 0) != (ssize_t)sizeof b) /* one read, truncated */
            return -4;
        close(s);
        close(r); /* with 3 unread datagrams */
    }
    return 0;
}

static int seqpacket_round(int n)
{
    char buf[300];
    memset(buf, 's', sizeof buf);
    for (int i = 0; i < n; i++) {
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) != 0)
            return -1;
        for (int k = 0; k < 3; k++)
            if (send(sv[k & 1], buf, sizeof buf, 0) != sizeof buf)
                return -2;
        close(sv[0]);
        close(sv[1]);
    }
    return 0;
}

static ssize_t send_fds(int sock, const int *fds, int nfds)
{
    union {
        char buf[CMSG_SPACE(4 * sizeof(int))];
        struct cmsghdr align;
    } u;
    memset(&u, 0, sizeof u);
    struct iovec iov = {"r", 1};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
                       .msg_controllen = CMSG_SPACE((size_t)nfds * sizeof(int))};
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN((size_t)nfds * sizeof(int));
    memcpy(CMSG_DATA(c), fds, (size_t)nfds * sizeof(int));
    return sendmsg(sock, &m, 0);
}

static int scm_unread_round(int n)
{
    for (int i = 0; i < n; i++) {
        int sv[2], p[2];
        if (socketpair(AF_UNIX, i % 2 ? SOCK_DGRAM : SOCK_STREAM, 0, sv) != 0)
            return -1;
        if (pipe(p) != 0)
            return -2;
        if (write(p[1], "pipe data", 9) != 9)
            return -3;
        if (send_fds(sv[0], p, 2) != 1)
            return -4;
        close(p[0]);
        close(p[1]);
        close(sv[0]);
        close(sv[1]);
    }
    return 0;
}

static int scm_cycle_round(int n)
{
    for (int i = 0; i < n; i++) {
        int sv[2], p[2];
        if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
            return -1;
        if (pipe(p) != 0)
            return -2;
        int fds[2] = {sv[1], p[1]};
        if (send_fds(sv[0], fds, 2) != 1) /* sv[1] into its own queue */
            return -3;
        close(p[1]);
        close(sv[0]);
        close(sv[1]);
        close(p[0]);
    }
    return 0;
}

TEST(stream_connect_accept_close_10000_cycles_no_leak)
{
    listen_len = abs_addr(&listen_addr, "leak");
    listener = bound(SOCK_STREAM, &listen_addr, listen_len, 16);
    CHECK_OK(listener);
    CHECK_NO_LEAK(connect_accept_round, 10000);
    close(listener);
}

TEST(path_bind_connect_unlink_cycles_no_leak)
{
    leak_dir = newdir();
    CHECK(leak_dir);
    CHECK_NO_LEAK(path_round, 2000);
}

TEST(dgram_closed_with_unread_messages_no_leak) { CHECK_NO_LEAK(dgram_round, 2000); }

TEST(seqpacket_pairs_closed_with_unread_records_no_leak) { CHECK_NO_LEAK(seqpacket_round, 3000); }

TEST(scm_rights_never_read_no_leak) { CHECK_NO_LEAK(scm_unread_round, 3000); }

TEST(scm_rights_cycle_releases_passed_pipe)
{
    /* after a cycle is closed, the pipe end it carried is released (EOF for the reader) */
    int sv[2], p[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    CHECK_OK(pipe(p));
    int fds[2] = {sv[1], p[1]};
    CHECK_EQ(send_fds(sv[0], fds, 2), 1);
    close(p[1]);
    close(sv[0]);
    close(sv[1]);
    /* another close of a unix socket while fds are in flight runs Linux's collector */
    int t[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, t));
    close(t[0]);
    close(t[1]);
    CHECK_EQ(poll1(p[0], POLLIN, 10000) & POLLHUP, POLLHUP);
    char c;
    CHECK_EQ(read(p[0], &c, 1), 0);
    close(p[0]);
}

TEST(scm_rights_socket_in_own_queue_collected_no_leak)
{
    CHECK_NO_LEAK(scm_cycle_round, 2000);
}
