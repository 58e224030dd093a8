/* unix_sock.h - helpers for the AF_UNIX socket tests (include after test.h):
 *     FAMLEN, PATHLEN(path)        address lengths: just the family; a path name with its NUL
 *     path_addr(&a, path)          a filesystem address; returns its length (with the NUL)
 *     abs_addr(&a, tag)            a unique abstract address "\0ptest-<pid>-<tag>-<n>"
 *     bound(type, &a, len, bl)     a socket bound to a (listening if bl >= 0), or -1
 *     connected(type, &a, len)     a socket connected to a, or -1
 *     poll1(fd, events, ms)        revents of one fd after up to ms milliseconds
 *     now_ms()                     CLOCK_MONOTONIC in milliseconds
 *     wait_sleeping_or_hup(pid, fd) 1 once pid sleeps (up to ~10 s); 0 early if fd polls HUP
 *     sockopt_int(fd, lvl, name)   an int socket option (-12345 on error)
 *     max_dgram_qlen()             net.unix.max_dgram_qlen
 */
#ifndef POSIX_X_UNIX_SOCK_H
#define POSIX_X_UNIX_SOCK_H

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "children.h"

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

/* wait_sleeping (children.h) for a peer that may give up: waits up to ~10 s until `pid`
 * sleeps, but returns 0 at once when `watch` polls POLLHUP (the other side closed). */
__attribute__((unused)) static int wait_sleeping_or_hup(pid_t pid, int watch)
{
    for (int i = 0; i < 10000; i++) {
        if (proc_state(pid) == 'S')
            return 1;
        int r = poll1(watch, POLLRDHUP, 1);
        if (r > 0 && (r & (POLLHUP | POLLRDHUP)))
            return 0;
    }
    return 0;
}

/* An int socket option: its value, -12345 if getsockopt fails, -12346 for another length. */
__attribute__((unused)) static int sockopt_int(int fd, int level, int name)
{
    int v = -12345;
    socklen_t len = sizeof v;
    if (getsockopt(fd, level, name, &v, &len) != 0)
        return -12345;
    return len == sizeof v ? v : -12346;
}

/* net.unix.max_dgram_qlen (10 if the file cannot be read). */
__attribute__((unused)) static int max_dgram_qlen(void)
{
    char buf[32];
    int fd = open("/proc/sys/net/unix/max_dgram_qlen", O_RDONLY);
    if (fd < 0)
        return 10;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return 10;
    buf[n] = '\0';
    return atoi(buf);
}

#endif /* POSIX_X_UNIX_SOCK_H */
