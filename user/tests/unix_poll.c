/* unix_poll.c - readiness of AF_UNIX sockets through poll, select and epoll: a fresh stream
 * socket, connected sockets (readable, writable, not writable when the send buffer is full),
 * POLLRDHUP/EPOLLRDHUP after the peer's shutdown(SHUT_WR), POLLHUP once both directions are
 * shut down or the peer closed, POLLERR for a pending ECONNRESET, a listening socket readable
 * while a connection is pending, datagram sockets (writable until the connected peer's receive
 * queue is full), seqpacket sockets, blocked pollers woken by a connect, data or room, and
 * edge-triggered epoll.
 * Abstract names carry the pid.
 * Syscalls: socket, socketpair, bind, listen, connect, accept, sendto, recv, shutdown, poll,
 * select (pselect6 on musl), epoll_create1, epoll_ctl, epoll_wait, read, write, close, fork,
 * wait4.
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

#include "children.h"
#include "unix_sock.h"

#include <sys/epoll.h>
#include <sys/select.h>

#define ALL (POLLIN | POLLOUT | POLLRDHUP | POLLPRI)

/* Fills a stream socket's send buffer (nonblocking writes until EAGAIN); bytes written. */
static long fill(int fd)
{
    char buf[4096];
    memset(buf, 'f', sizeof buf);
    long total = 0;
    for (;;) {
        ssize_t w = send(fd, buf, sizeof buf, MSG_DONTWAIT);
        if (w < 0)
            return errno == EAGAIN ? total : -1;
        total += w;
    }
}

/* Reads everything queued on fd without blocking. */
static void drain(int fd)
{
    char buf[4096];
    while (recv(fd, buf, sizeof buf, MSG_DONTWAIT) > 0)
        ;
}

/* The epoll events reported for fd (registered for `events`) within ms, or 0/-1. */
static int epoll1(int fd, unsigned events, int ms)
{
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0)
        return -1;
    struct epoll_event ev = {.events = events, .data.fd = fd};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
        close(ep);
        return -1;
    }
    struct epoll_event out;
    int r;
    do
        r = epoll_wait(ep, &out, 1, ms);
    while (r < 0 && errno == EINTR);
    close(ep);
    return r < 0 ? -1 : r == 0 ? 0 : (int)out.events;
}

#define EALL (EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLPRI)

/* ---- stream ---- */

TEST(fresh_stream_socket_writable_and_hup)
{
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK_OK(fd);
    CHECK_EQ(poll1(fd, ALL, 0), POLLOUT | POLLHUP);
    CHECK_EQ(epoll1(fd, EALL, 0), EPOLLOUT | EPOLLHUP);
    close(fd);
}

TEST(connected_pair_writable_not_readable)
{
    int sv[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    CHECK_EQ(poll1(sv[0], ALL, 0), POLLOUT);
    CHECK_EQ(poll1(sv[1], ALL, 0), POLLOUT);
    CHECK_EQ(poll1(sv[0], POLLIN, 0), 0);
    CHECK_EQ(epoll1(sv[0], EALL, 0), EPOLLOUT);
    close(sv[0]);
    close(sv[1]);
}

TEST(readable_after_peer_write)
{
    int sv[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    CHECK_EQ(write(sv[0], "abc", 3), 3);
    CHECK_EQ(poll1(sv[1], ALL, 0), POLLIN | POLLOUT);
    CHECK_EQ(poll1(sv[1], POLLRDNORM, 0), POLLRDNORM);
    CHECK_EQ(epoll1(sv[1], EALL, 0), EPOLLIN | EPOLLOUT);
    CHECK_EQ(poll1(sv[0], ALL, 0), POLLOUT);
    char buf[4];
    CHECK_EQ(read(sv[1], buf, 2), 2);
    CHECK_EQ(poll1(sv[1], POLLIN, 0), POLLIN);
    CHECK_EQ(read(sv[1], buf, 2), 1);
    CHECK_EQ(poll1(sv[1], ALL, 0), POLLOUT);
    close(sv[0]);
    close(sv[1]);
}

TEST(peer_shut_wr_gives_rdhup_not_hup)
{
    int sv[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    CHECK_OK(shutdown(sv[0], SHUT_WR));
    CHECK_EQ(poll1(sv[1], ALL, 0), POLLIN | POLLOUT | POLLRDHUP);
    CHECK_EQ(epoll1(sv[1], EALL, 0), EPOLLIN | EPOLLOUT | EPOLLRDHUP);
    /* without asking for POLLRDHUP it is not reported */
    CHECK_EQ(poll1(sv[1], POLLIN | POLLOUT, 0), POLLIN | POLLOUT);
    /* the side that shut down writing sees nothing special */
    CHECK_EQ(poll1(sv[0], ALL, 0), POLLOUT);
    close(sv[0]);
    close(sv[1]);
}

TEST(own_shut_rd_gives_rdhup)
{
    int sv[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    CHECK_OK(shutdown(sv[0], SHUT_RD));
    CHECK_EQ(poll1(sv[0], ALL, 0), POLLIN | POLLOUT | POLLRDHUP);
    close(sv[0]);
    close(sv[1]);
}

TEST(both_directions_shut_down_gives_hup)
{
    int sv[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    CHECK_OK(shutdown(sv[0], SHUT_WR));
    CHECK_OK(shutdown(sv[1], SHUT_WR));
    CHECK_EQ(poll1(sv[0], ALL, 0), POLLIN | POLLOUT | POLLRDHUP | POLLHUP);
    CHECK_EQ(poll1(sv[1], ALL, 0), POLLIN | POLLOUT | POLLRDHUP | POLLHUP);
    /* POLLHUP is reported even when not asked for */
    CHECK_EQ(poll1(sv[0], 0, 0), POLLHUP);
    CHECK_EQ(epoll1(sv[0], EALL, 0), EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLHUP);
    close(sv[0]);
    close(sv[1]);
}

TEST(shut_rdwr_gives_hup_on_both_ends)
{
    int sv[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    CHECK_OK(shutdown(sv[0], SHUT_RDWR));
    CHECK_EQ(poll1(sv[0], ALL, 0), POLLIN | POLLOUT | POLLRDHUP | POLLHUP);
    CHECK_EQ(poll1(sv[1], ALL, 0), POLLIN | POLLOUT | POLLRDHUP | POLLHUP);
    close(sv[0]);
    close(sv[1]);
}

TEST(peer_close_gives_hup)
{
    int sv[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    CHECK_OK(close(sv[1]));
    CHECK_EQ(poll1(sv[0], ALL, 0), POLLIN | POLLOUT | POLLRDHUP | POLLHUP);
    CHECK_EQ(epoll1(sv[0], EALL, 0), EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLHUP);
    close(sv[0]);
}

TEST(peer_close_with_unread_data_gives_err)
{
    int sv[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    CHECK_EQ(write(sv[0], "x", 1), 1);
    CHECK_OK(close(sv[1]));
    CHECK_EQ(poll1(sv[0], ALL, 0), POLLIN | POLLOUT | POLLRDHUP | POLLHUP | POLLERR);
    char c;
    CHECK_ERRNO(read(sv[0], &c, 1), ECONNRESET);
    CHECK_EQ(poll1(sv[0], ALL, 0), POLLIN | POLLOUT | POLLRDHUP | POLLHUP);
    close(sv[0]);
}

TEST(full_stream_not_writable_until_drained)
{
    int sv[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    CHECK(fill(sv[0]) > 0);
    CHECK_EQ(poll1(sv[0], ALL, 0), 0);
    CHECK_EQ(poll1(sv[1], ALL, 0), POLLIN | POLLOUT);
    CHECK_EQ(epoll1(sv[0], EPOLLOUT, 0), 0);
    drain(sv[1]);
    CHECK_EQ(poll1(sv[0], ALL, 0), POLLOUT);
    close(sv[0]);
    close(sv[1]);
}

TEST(blocked_poll_woken_by_room)
{
    int sv[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    CHECK(fill(sv[0]) > 0);
    pid_t pid = fork();
    CHECK_OK(pid);
    if (pid == 0) {
        close(sv[0]);
        CCHECK(wait_sleeping(getppid()));
        drain(sv[1]);
        _exit(0);
    }
    int r = poll1(sv[0], POLLOUT, 10000);
    CHECK_CHILD_OK(pid);
    CHECK_EQ(r, POLLOUT);
    close(sv[0]);
    close(sv[1]);
}

TEST(blocked_poll_woken_by_data_and_by_close)
{
    int sv[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    pid_t pid = fork();
    CHECK_OK(pid);
    if (pid == 0) {
        close(sv[0]);
        CCHECK(wait_sleeping(getppid()));
        CCHECK(write(sv[1], "d", 1) == 1);
        CCHECK(read_byte(sv[1]) == 'a');
        CCHECK(wait_sleeping(getppid()));
        _exit(0); /* closes sv[1] */
    }
    close(sv[1]);
    int r1 = poll1(sv[0], POLLIN, 10000);
    char c = 0;
    ssize_t n = read(sv[0], &c, 1);
    CHECK_OK(write_byte(sv[0], 'a'));
    int r2 = poll1(sv[0], POLLRDHUP, 10000);
    CHECK_CHILD_OK(pid);
    CHECK_EQ(r1, POLLIN);
    CHECK_EQ(n, 1);
    CHECK_EQ(c, 'd');
    CHECK_EQ(r2, POLLRDHUP | POLLHUP);
    close(sv[0]);
}

/* ---- listening sockets ---- */

TEST(listening_socket_readable_while_connection_pending)
{
    struct sockaddr_un a;
    socklen_t len = abs_addr(&a, "lp");
    int l = bound(SOCK_STREAM, &a, len, 5);
    CHECK_OK(l);
    CHECK_EQ(poll1(l, ALL, 0), 0);
    CHECK_EQ(epoll1(l, EALL, 0), 0);
    int c = connected(SOCK_STREAM, &a, len);
    CHECK_OK(c);
    CHECK_EQ(poll1(l, ALL, 0), POLLIN);
    CHECK_EQ(epoll1(l, EALL, 0), EPOLLIN);
    int s = accept(l, NULL, NULL);
    CHECK_OK(s);
    CHECK_EQ(poll1(l, ALL, 0), 0);
    /* the client is writable and not readable, the accepted socket the same */
    CHECK_EQ(poll1(c, ALL, 0), POLLOUT);
    CHECK_EQ(poll1(s, ALL, 0), POLLOUT);
    close(s);
    close(c);
    close(l);
}

TEST(bound_not_listening_stream_socket)
{
    struct sockaddr_un a;
    socklen_t len = abs_addr(&a, "bn");
    int fd = bound(SOCK_STREAM, &a, len, -1);
    CHECK_OK(fd);
    CHECK_EQ(poll1(fd, ALL, 0), POLLOUT | POLLHUP);
    close(fd);
}

TEST(blocked_poll_on_listener_woken_by_connect)
{
    struct sockaddr_un a;
    socklen_t len = abs_addr(&a, "lw");
    int l = bound(SOCK_STREAM, &a, len, 5);
    CHECK_OK(l);
    pid_t pid = fork();
    CHECK_OK(pid);
    if (pid == 0) {
        CCHECK(wait_sleeping(getppid()));
        int c = connected(SOCK_STREAM, &a, len);
        CCHECK(c >= 0);
        CCHECK(write(c, "!", 1) == 1);
        _exit(0);
    }
    int r = poll1(l, POLLIN, 10000);
    CHECK_EQ(r, POLLIN);
    int s = accept(l, NULL, NULL);
    CHECK_OK(s);
    CHECK_EQ(read_byte(s), '!');
    CHECK_CHILD_OK(pid);
    close(s);
    close(l);
}

TEST(epoll_wait_on_listener_woken_by_connect)
{
    struct sockaddr_un a;
    socklen_t len = abs_addr(&a, "ew");
    int l = bound(SOCK_STREAM, &a, len, 5);
    CHECK_OK(l);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    CHECK_OK(ep);
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = 77};
    CHECK_OK(epoll_ctl(ep, EPOLL_CTL_ADD, l, &ev));
    struct epoll_event out;
    CHECK_EQ(epoll_wait(ep, &out, 1, 0), 0);
    pid_t pid = fork();
    CHECK_OK(pid);
    if (pid == 0) {
        CCHECK(wait_sleeping(getppid()));
        int c = connected(SOCK_STREAM, &a, len);
        CCHECK(c >= 0);
        _exit(0);
    }
    int r = epoll_wait(ep, &out, 1, 10000);
    CHECK_CHILD_OK(pid);
    CHECK_EQ(r, 1);
    CHECK_EQ(out.events, EPOLLIN);
    CHECK_EQ(out.data.u32, 77);
    int s = accept(l, NULL, NULL);
    CHECK_OK(s);
    CHECK_EQ(epoll_wait(ep, &out, 1, 0), 0);
    close(s);
    close(ep);
    close(l);
}

/* ---- epoll specifics ---- */

TEST(epoll_edge_triggered_new_data)
{
    int sv[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    int ep = epoll_create1(0);
    CHECK_OK(ep);
    struct epoll_event ev = {.events = EPOLLIN | EPOLLET, .data.fd = sv[1]};
    CHECK_OK(epoll_ctl(ep, EPOLL_CTL_ADD, sv[1], &ev));
    struct epoll_event out;
    CHECK_EQ(epoll_wait(ep, &out, 1, 0), 0);
    CHECK_EQ(write(sv[0], "a", 1), 1);
    CHECK_EQ(epoll_wait(ep, &out, 1, 0), 1);
    CHECK_EQ(out.events, EPOLLIN);
    CHECK_EQ(epoll_wait(ep, &out, 1, 0), 0); /* no new edge */
    CHECK_EQ(write(sv[0], "b", 1), 1);
    CHECK_EQ(epoll_wait(ep, &out, 1, 0), 1);
    CHECK_EQ(epoll_wait(ep, &out, 1, 0), 0);
    close(ep);
    close(sv[0]);
    close(sv[1]);
}

TEST(epoll_rdhup_after_peer_shutdown)
{
    int sv[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    int ep = epoll_create1(0);
    CHECK_OK(ep);
    struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.fd = sv[1]};
    CHECK_OK(epoll_ctl(ep, EPOLL_CTL_ADD, sv[1], &ev));
    struct epoll_event out;
    CHECK_EQ(epoll_wait(ep, &out, 1, 0), 0);
    CHECK_OK(shutdown(sv[0], SHUT_WR));
    CHECK_EQ(epoll_wait(ep, &out, 1, 0), 1);
    CHECK_EQ(out.events, EPOLLIN | EPOLLRDHUP);
    CHECK_OK(close(sv[0]));
    CHECK_EQ(epoll_wait(ep, &out, 1, 0), 1);
    CHECK_EQ(out.events, EPOLLIN | EPOLLRDHUP | EPOLLHUP);
    close(ep);
    close(sv[1]);
}

/* ---- select ---- */

TEST(select_readable_writable)
{
    int sv[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    fd_set r, w;
    FD_ZERO(&r);
    FD_ZERO(&w);
    FD_SET(sv[1], &r);
    FD_SET(sv[1], &w);
    struct timeval tv = {0, 0};
    CHECK_EQ(select(sv[1] + 1, &r, &w, NULL, &tv), 1);
    CHECK(!FD_ISSET(sv[1], &r));
    CHECK(FD_ISSET(sv[1], &w));
    CHECK_EQ(write(sv[0], "x", 1), 1);
    FD_ZERO(&r);
    FD_ZERO(&w);
    FD_SET(sv[1], &r);
    FD_SET(sv[1], &w);
    tv = (struct timeval){0, 0};
    CHECK_EQ(select(sv[1] + 1, &r, &w, NULL, &tv), 2);
    CHECK(FD_ISSET(sv[1], &r));
    CHECK(FD_ISSET(sv[1], &w));
    /* a closed peer makes the socket readable (EOF) */
    char c;
    CHECK_EQ(read(sv[1], &c, 1), 1);
    CHECK_OK(close(sv[0]));
    FD_ZERO(&r);
    FD_SET(sv[1], &r);
    tv = (struct timeval){0, 0};
    CHECK_EQ(select(sv[1] + 1, &r, NULL, NULL, &tv), 1);
    CHECK(FD_ISSET(sv[1], &r));
    close(sv[1]);
}

/* ---- datagram ---- */

TEST(fresh_dgram_socket_writable_only)
{
    int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
    CHECK_OK(fd);
    CHECK_EQ(poll1(fd, ALL, 0), POLLOUT);
    close(fd);
    int sv[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv));
    CHECK_EQ(poll1(sv[0], ALL, 0), POLLOUT);
    CHECK_EQ(send(sv[1], "", 0, 0), 0); /* an empty datagram is readable too */
    CHECK_EQ(poll1(sv[0], ALL, 0), POLLIN | POLLOUT);
    close(sv[0]);
    close(sv[1]);
}

TEST(dgram_writable_until_peer_queue_full)
{
    int q = max_dgram_qlen();
    struct sockaddr_un b;
    socklen_t blen = abs_addr(&b, "dq");
    int fb = bound(SOCK_DGRAM, &b, blen, -1);
    CHECK_OK(fb);
    int fa = connected(SOCK_DGRAM, &b, blen);
    CHECK_OK(fa);
    CHECK_EQ(poll1(fa, ALL, 0), POLLOUT);
    for (int i = 0; i <= q; i++) {
        CHECK_EQ(poll1(fa, POLLOUT, 0), POLLOUT);
        CHECK_EQ(send(fa, "m", 1, MSG_DONTWAIT), 1);
    }
    CHECK_EQ(poll1(fa, ALL, 0), 0);
    CHECK_EQ(epoll1(fa, EPOLLOUT, 0), 0);
    CHECK_ERRNO(send(fa, "m", 1, MSG_DONTWAIT), EAGAIN);
    CHECK_EQ(poll1(fb, ALL, 0), POLLIN | POLLOUT);
    char c;
    CHECK_EQ(recv(fb, &c, 1, 0), 1);
    CHECK_EQ(poll1(fa, ALL, 0), POLLOUT);
    CHECK_EQ(epoll1(fa, EPOLLOUT, 0), EPOLLOUT);
    close(fa);
    close(fb);
}

TEST(dgram_blocked_poll_woken_when_peer_reads)
{
    int q = max_dgram_qlen();
    struct sockaddr_un b;
    socklen_t blen = abs_addr(&b, "dw");
    int fb = bound(SOCK_DGRAM, &b, blen, -1);
    CHECK_OK(fb);
    int fa = connected(SOCK_DGRAM, &b, blen);
    CHECK_OK(fa);
    for (int i = 0; i <= q; i++)
        CHECK_EQ(send(fa, "m", 1, MSG_DONTWAIT), 1);
    pid_t pid = fork();
    CHECK_OK(pid);
    if (pid == 0) {
        CCHECK(wait_sleeping(getppid()));
        char c;
        CCHECK(recv(fb, &c, 1, 0) == 1);
        _exit(0);
    }
    int r = poll1(fa, POLLOUT, 10000);
    CHECK_CHILD_OK(pid);
    CHECK_EQ(r, POLLOUT);
    close(fa);
    close(fb);
}

TEST(dgram_peer_closed)
{
    struct sockaddr_un b;
    socklen_t blen = abs_addr(&b, "dc");
    int fb = bound(SOCK_DGRAM, &b, blen, -1);
    CHECK_OK(fb);
    int fa = connected(SOCK_DGRAM, &b, blen);
    CHECK_OK(fa);
    CHECK_OK(close(fb));
    /* no hang-up for datagram sockets: still writable (the send will fail) */
    CHECK_EQ(poll1(fa, ALL, 0), POLLOUT);
    close(fa);
}

/* ---- seqpacket ---- */

TEST(seqpacket_readiness)
{
    int fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
    CHECK_OK(fd);
    CHECK_EQ(poll1(fd, ALL, 0), POLLOUT | POLLHUP);
    close(fd);
    int sv[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv));
    CHECK_EQ(poll1(sv[0], ALL, 0), POLLOUT);
    CHECK_EQ(send(sv[1], "r", 1, 0), 1);
    CHECK_EQ(poll1(sv[0], ALL, 0), POLLIN | POLLOUT);
    char c;
    CHECK_EQ(recv(sv[0], &c, 1, 0), 1);
    CHECK_OK(shutdown(sv[1], SHUT_WR));
    CHECK_EQ(poll1(sv[0], ALL, 0), POLLIN | POLLOUT | POLLRDHUP);
    CHECK_OK(close(sv[1]));
    CHECK_EQ(poll1(sv[0], ALL, 0), POLLIN | POLLOUT | POLLRDHUP | POLLHUP);
    close(sv[0]);
}

TEST(seqpacket_listener_readable_while_pending)
{
    struct sockaddr_un a;
    socklen_t len = abs_addr(&a, "sl");
    int l = bound(SOCK_SEQPACKET, &a, len, 5);
    CHECK_OK(l);
    CHECK_EQ(poll1(l, ALL, 0), 0);
    int c = connected(SOCK_SEQPACKET, &a, len);
    CHECK_OK(c);
    CHECK_EQ(poll1(l, ALL, 0), POLLIN);
    int s = accept(l, NULL, NULL);
    CHECK_OK(s);
    CHECK_EQ(poll1(l, ALL, 0), 0);
    close(s);
    close(c);
    close(l);
}
