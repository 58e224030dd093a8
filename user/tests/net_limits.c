/* net_limits.c - no user program can panic, freeze or fill the kernel through sockets:
 * send buffers charged per message as Linux (1-byte messages on unix datagram, stream and
 * seqpacket pairs end in EAGAIN after a few hundred, run as nobody, then the pair works again),
 * UDP to port 0 (EINVAL), IP version mismatches between a bound address and a destination,
 * SO_RCVTIMEO with a negative time (EAGAIN at once), two processes blocked in accept on one
 * listener, a listener shut down under a blocked accept (EINVAL), ports below 1024 for nobody,
 * a UDP disconnect under a blocked receiver (the fuzzer's panic), many UDP sockets filled
 * past their receive buffers, TCP connections with full send buffers until EMFILE. The
 * cases Linux lets an unprivileged user run run as nobody.
 * Every blocking case runs in a child with a bounded wait in the parent.
 * Syscalls: socket, socketpair, bind, listen, accept, connect, send, sendto, recv, shutdown,
 * setsockopt, getsockopt, fork, wait4, kill, setuid, setgid, pipe, read, write, close.
 */
#define _GNU_SOURCE
#define TEST_MAIN
#include "test.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <sys/uio.h>

/* Waits up to `ms` for `pid`; kills it and returns -1 if it does not end. Else its status. */
static int wait_bounded(pid_t pid, int ms)
{
    int st;
    for (int i = 0; i < ms / 10; i++) {
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid)
            return st;
        usleep(10000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &st, 0);
    return -1;
}

static void drop_to_nobody(void)
{
    if (setgid(65534) != 0 || setuid(65534) != 0)
        _exit(90);
}

/* Runs `body` in a child as nobody; the case fails with the child's first failure. */
static void as_nobody(void (*body)(void))
{
    fflush(stdout);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        drop_to_nobody();
        body();
        if (test_failed()) {
            printf("# as nobody: %s\n", test_detail_);
            fflush(stdout);
            _exit(1);
        }
        _exit(0);
    }
    int st = wait_bounded(pid, 120000);
    CHECK(st != -1);
    CHECK(WIFEXITED(st));
    CHECK_EQ(WEXITSTATUS(st), 0);
}

static socklen_t v4(unsigned port, struct sockaddr_in *a)
{
    memset(a, 0, sizeof *a);
    a->sin_family = AF_INET;
    a->sin_port = htons((uint16_t)port);
    a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return sizeof *a;
}

static socklen_t v6(unsigned port, int mapped, struct sockaddr_in6 *a)
{
    memset(a, 0, sizeof *a);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons((uint16_t)port);
    if (mapped)
        inet_pton(AF_INET6, "::ffff:127.0.0.1", &a->sin6_addr);
    else
        a->sin6_addr = in6addr_loopback;
    return sizeof *a;
}

/* In a child as nobody: 1-byte sends on a `type` pair until EAGAIN (exit 10 + detail on
 * failure), all read back, then one more send must go. */
static int fill_pair_child(int type)
{
    int sv[2];
    if (socketpair(AF_UNIX, type, 0, sv) != 0)
        return 1;
    int n = 0;
    char c = 'x';
    while (n < 1000000 && send(sv[0], &c, 1, MSG_DONTWAIT) == 1)
        n++;
    if (errno != EAGAIN)
        return 2;
    /* Linux: 278 with the default 212992-byte buffer (768 bytes charged per message). */
    if (n < 200 || n > 400)
        return 3;
    int got = 0;
    char buf[4096];
    int k;
    while ((k = recv(sv[1], buf, sizeof buf, MSG_DONTWAIT)) > 0)
        got += k;
    if (got != n)
        return 4;
    if (send(sv[0], &c, 1, MSG_DONTWAIT) != 1)
        return 5;
    /* A smaller buffer holds fewer: Linux doubles 4096 and fits 11. */
    int v = 4096;
    if (setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &v, sizeof v) != 0)
        return 6;
    recv(sv[1], buf, sizeof buf, MSG_DONTWAIT);
    n = 0;
    while (n < 1000000 && send(sv[0], &c, 1, MSG_DONTWAIT) == 1)
        n++;
    if (errno != EAGAIN || n < 5 || n > 20)
        return 7;
    close(sv[0]);
    close(sv[1]);
    return 0;
}

static void fill_pair(int type)
{
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        drop_to_nobody();
        _exit(fill_pair_child(type));
    }
    int st = wait_bounded(pid, 60000);
    CHECK(st != -1);
    CHECK(WIFEXITED(st));
    CHECK_EQ(WEXITSTATUS(st), 0);
}

TEST(unix_dgram_pair_tiny_sends_fill_the_send_buffer) { fill_pair(SOCK_DGRAM); }
TEST(unix_stream_pair_tiny_sends_fill_the_send_buffer) { fill_pair(SOCK_STREAM); }
TEST(unix_seqpacket_pair_tiny_sends_fill_the_send_buffer) { fill_pair(SOCK_SEQPACKET); }

static void udp_sendto_port_zero(void)
{
    struct sockaddr_in a;
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    CHECK(s >= 0);
    CHECK_ERRNO(sendto(s, "x", 1, 0, (struct sockaddr *)&a, v4(0, &a)), EINVAL);
    /* The socket still works. */
    int r = socket(AF_INET, SOCK_DGRAM, 0);
    CHECK_OK(bind(r, (struct sockaddr *)&a, v4(0, &a)));
    socklen_t len = sizeof a;
    CHECK_OK(getsockname(r, (struct sockaddr *)&a, &len));
    CHECK_EQ(sendto(s, "y", 1, 0, (struct sockaddr *)&a, sizeof a), 1);
    char c = 0;
    CHECK_EQ(recv(r, &c, 1, 0), 1);
    CHECK_EQ(c, 'y');
    close(s);
    close(r);
}

TEST(udp_sendto_port_zero_einval) { as_nobody(udp_sendto_port_zero); }

static void udp_ip_version_mismatch(void)
{
    struct sockaddr_in6 a, m;
    int s6 = socket(AF_INET6, SOCK_DGRAM, 0);
    CHECK_OK(bind(s6, (struct sockaddr *)&a, v6(0, 0, &a)));
    CHECK_ERRNO(sendto(s6, "x", 1, 0, (struct sockaddr *)&m, v6(9, 1, &m)), ENETUNREACH);
    CHECK_ERRNO(connect(s6, (struct sockaddr *)&m, sizeof m), ENETUNREACH);
    int sm = socket(AF_INET6, SOCK_DGRAM, 0);
    CHECK_OK(bind(sm, (struct sockaddr *)&m, v6(0, 1, &m)));
    CHECK_ERRNO(sendto(sm, "x", 1, 0, (struct sockaddr *)&a, v6(9, 0, &a)), EAFNOSUPPORT);
    CHECK_ERRNO(connect(sm, (struct sockaddr *)&a, sizeof a), EAFNOSUPPORT);
    close(s6);
    close(sm);
}

TEST(udp_ip_version_mismatch_errors) { as_nobody(udp_ip_version_mismatch); }

static void rcvtimeo_negative(void)
{
    int fds[3];
    fds[0] = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a;
    CHECK_OK(bind(fds[0], (struct sockaddr *)&a, v4(0, &a)));
    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, &fds[1]));
    for (int i = 0; i < 2; i++) {
        int fd = fds[i];
        struct timeval tv = {-1, 0};
        CHECK_OK(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv));
        socklen_t len = sizeof tv;
        CHECK_OK(getsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, &len));
        CHECK_EQ(tv.tv_sec, 0);
        CHECK_EQ(tv.tv_usec, 0);
        pid_t pid = fork();
        CHECK(pid >= 0);
        if (pid == 0) {
            char c;
            _exit(recv(fd, &c, 1, 0) == -1 && errno == EAGAIN ? 0 : 1);
        }
        int st = wait_bounded(pid, 20000);
        CHECK(st != -1);
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
    for (int i = 0; i < 3; i++)
        close(fds[i]);
}

TEST(rcvtimeo_negative_means_do_not_wait) { as_nobody(rcvtimeo_negative); }

static int tcp_listener(unsigned *port)
{
    struct sockaddr_in a;
    int l = socket(AF_INET, SOCK_STREAM, 0);
    if (l < 0 || bind(l, (struct sockaddr *)&a, v4(0, &a)) != 0 || listen(l, 8) != 0)
        return -1;
    socklen_t len = sizeof a;
    getsockname(l, (struct sockaddr *)&a, &len);
    *port = ntohs(a.sin_port);
    return l;
}

TEST(two_processes_blocked_in_accept)
{
    unsigned port;
    int l = tcp_listener(&port);
    CHECK(l >= 0);
    int ready[2];
    CHECK_OK(pipe(ready));
    pid_t kids[2];
    for (int i = 0; i < 2; i++) {
        kids[i] = fork();
        CHECK(kids[i] >= 0);
        if (kids[i] == 0) {
            (void)!write(ready[1], "r", 1);
            int c = accept(l, NULL, NULL);
            if (c < 0)
                _exit(1);
            char b;
            _exit(read(c, &b, 1) == 1 && b == 'z' ? 0 : 2);
        }
    }
    char b[2];
    CHECK_EQ(read(ready[0], b, 1), 1);
    CHECK_EQ(read(ready[0], b, 1), 1);
    int c[2];
    for (int i = 0; i < 2; i++) {
        struct sockaddr_in a;
        c[i] = socket(AF_INET, SOCK_STREAM, 0);
        CHECK_OK(connect(c[i], (struct sockaddr *)&a, v4(port, &a)));
        CHECK_EQ(write(c[i], "z", 1), 1);
    }
    for (int i = 0; i < 2; i++) {
        int st = wait_bounded(kids[i], 30000);
        CHECK(st != -1);
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
    close(c[0]);
    close(c[1]);
    close(l);
    close(ready[0]);
    close(ready[1]);
}

TEST(tcp_listener_shutdown_ends_a_blocked_accept)
{
    unsigned port;
    int l = tcp_listener(&port);
    CHECK(l >= 0);
    int ready[2];
    CHECK_OK(pipe(ready));
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        (void)!write(ready[1], "r", 1);
        int c = accept(l, NULL, NULL);
        if (c != -1 || errno != EINVAL)
            _exit(1);
        _exit(accept(l, NULL, NULL) == -1 && errno == EINVAL ? 0 : 2);
    }
    char b;
    CHECK_EQ(read(ready[0], &b, 1), 1);
    CHECK_OK(shutdown(l, SHUT_RDWR));
    int st = wait_bounded(pid, 30000);
    CHECK(st != -1);
    CHECK(WIFEXITED(st));
    CHECK_EQ(WEXITSTATUS(st), 0);
    /* It may listen again. */
    CHECK_OK(listen(l, 4));
    close(l);
    close(ready[0]);
    close(ready[1]);
}

TEST(ports_below_1024_need_privilege)
{
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        drop_to_nobody();
        int types[2] = {SOCK_STREAM, SOCK_DGRAM};
        for (int i = 0; i < 2; i++) {
            struct sockaddr_in a;
            int s = socket(AF_INET, types[i], 0);
            if (bind(s, (struct sockaddr *)&a, v4(1023, &a)) != -1 || errno != EACCES)
                _exit(1 + i);
            if (bind(s, (struct sockaddr *)&a, v4(0, &a)) != 0)
                _exit(3 + i);
            close(s);
        }
        _exit(0);
    }
    int st = wait_bounded(pid, 20000);
    CHECK(st != -1);
    CHECK(WIFEXITED(st));
    CHECK_EQ(WEXITSTATUS(st), 0);
}

/* A listening socket sent over a connection still in its own backlog, every fd closed: the
 * collector frees it, so its name is free again at once (1,000 loops leaked on POSIX-X). */
TEST(listener_in_flight_in_its_own_backlog_is_collected)
{
    for (int i = 0; i < 200; i++) {
        struct sockaddr_un { sa_family_t f; char p[108]; } a = {AF_UNIX, {0}};
        snprintf(a.p + 1, sizeof a.p - 1, "net_limits-gc-%d", (int)getpid());
        socklen_t len = (socklen_t)(sizeof(sa_family_t) + 1 + strlen(a.p + 1));
        int l = socket(AF_UNIX, SOCK_STREAM, 0);
        CHECK(l >= 0);
        CHECK_OK(bind(l, (struct sockaddr *)&a, len));
        CHECK_OK(listen(l, 4));
        int c = socket(AF_UNIX, SOCK_STREAM, 0);
        CHECK_OK(connect(c, (struct sockaddr *)&a, len));
        char byte = 'l';
        struct iovec iov = {&byte, 1};
        union { char buf[CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } u;
        struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
                           .msg_controllen = sizeof u.buf};
        struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(cm), &l, sizeof l);
        CHECK_EQ(sendmsg(c, &m, 0), 1);
        close(l);
        close(c);
        /* Linux collects on close (or at the next send at the latest): the name is free. */
        int again = socket(AF_UNIX, SOCK_STREAM, 0);
        int r = -1;
        for (int tries = 0; tries < 200 && r != 0; tries++) {
            r = bind(again, (struct sockaddr *)&a, len);
            if (r != 0) {
                CHECK_EQ(errno, EADDRINUSE);
                usleep(10000);
            }
        }
        CHECK_EQ(r, 0);
        close(again);
    }
}

/* gVisor's ReadShutdown: a UDP receive blocked (or about to block) after shutdown(SHUT_RD)
 * returns 0; a nonblocking one still says EAGAIN. */
static void udp_recv_after_shut_rd(void)
{
    struct sockaddr_in a;
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    CHECK_OK(bind(s, (struct sockaddr *)&a, v4(0, &a)));
    socklen_t len = sizeof a;
    CHECK_OK(getsockname(s, (struct sockaddr *)&a, &len));
    int c = socket(AF_INET, SOCK_DGRAM, 0);
    CHECK_OK(connect(c, (struct sockaddr *)&a, sizeof a));
    int ready[2];
    CHECK_OK(pipe(ready));
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        (void)!write(ready[1], "r", 1);
        char b;
        _exit(recv(c, &b, 1, 0) == 0 ? 0 : 1);
    }
    char b;
    CHECK_EQ(read(ready[0], &b, 1), 1);
    CHECK_OK(shutdown(c, SHUT_RD));
    int st = wait_bounded(pid, 30000);
    CHECK(st != -1);
    CHECK(WIFEXITED(st));
    CHECK_EQ(WEXITSTATUS(st), 0);
    CHECK_ERRNO(recv(c, &b, 1, MSG_DONTWAIT), EAGAIN);
    CHECK_EQ(recv(c, &b, 1, 0), 0);
    close(c);
    close(s);
    close(ready[0]);
    close(ready[1]);
}

TEST(udp_recv_after_shut_rd_returns) { as_nobody(udp_recv_after_shut_rd); }

/* The fuzzer's panic (ipcfuzz --enable disconnect 12000 2): connect(AF_UNSPEC) on a UDP
 * socket shared over fork, which gives its unnamed port back, while the other process is
 * blocked receiving on it; then the socket binds a new port and the receiver gets a datagram
 * there. */
static void udp_disconnect_under_a_receiver(void)
{
    struct sockaddr_in peer, a;
    int p = socket(AF_INET, SOCK_DGRAM, 0);
    CHECK_OK(bind(p, (struct sockaddr *)&peer, v4(0, &peer)));
    socklen_t len = sizeof peer;
    CHECK_OK(getsockname(p, (struct sockaddr *)&peer, &len));
    int u = socket(AF_INET, SOCK_DGRAM, 0);
    CHECK_OK(connect(u, (struct sockaddr *)&peer, sizeof peer));
    int ready[2];
    CHECK_OK(pipe(ready));
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        struct timeval tv = {30, 0};
        setsockopt(u, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        (void)!write(ready[1], "r", 1);
        char b = 0;
        _exit(recv(u, &b, 1, 0) == 1 && b == 'k' ? 0 : 1);
    }
    char b;
    CHECK_EQ(read(ready[0], &b, 1), 1);
    struct sockaddr_in un = {.sin_family = AF_UNSPEC};
    for (int i = 0; i < 50; i++) {
        CHECK_OK(connect(u, (struct sockaddr *)&un, sizeof un));
        CHECK_OK(connect(u, (struct sockaddr *)&peer, sizeof peer));
        CHECK_EQ(send(u, "s", 1, 0), 1);
    }
    CHECK_OK(connect(u, (struct sockaddr *)&un, sizeof un));
    len = sizeof a;
    CHECK_OK(getsockname(u, (struct sockaddr *)&a, &len));
    CHECK_EQ(ntohs(a.sin_port), 0);
    /* A send binds a new port; a datagram there reaches the blocked receiver. */
    CHECK_EQ(sendto(u, "s", 1, 0, (struct sockaddr *)&peer, sizeof peer), 1);
    len = sizeof a;
    CHECK_OK(getsockname(u, (struct sockaddr *)&a, &len));
    CHECK(ntohs(a.sin_port) != 0);
    CHECK_EQ(sendto(p, "k", 1, 0, (struct sockaddr *)&a, sizeof a), 1);
    int st = wait_bounded(pid, 60000);
    CHECK(st != -1);
    CHECK(WIFEXITED(st));
    CHECK_EQ(WEXITSTATUS(st), 0);
    close(u);
    close(p);
    close(ready[0]);
    close(ready[1]);
}

TEST(udp_disconnect_while_another_process_receives) { as_nobody(udp_disconnect_under_a_receiver); }

/* Many UDP sockets, each sent more than its receive buffer holds: every send succeeds (a full
 * receiver drops, as Linux), every socket keeps at least one datagram, the kernel's heap is
 * not used up (POSIX-X charges all inet buffers to one budget), and all is given back. */
static void many_full_udp_sockets(void)
{
    enum { SOCKETS = 200, SENDS = 300 };
    static int fds[SOCKETS];
    static struct sockaddr_in to[SOCKETS];
    int tx = socket(AF_INET, SOCK_DGRAM, 0);
    CHECK(tx >= 0);
    for (int i = 0; i < SOCKETS; i++) {
        fds[i] = socket(AF_INET, SOCK_DGRAM, 0);
        CHECK(fds[i] >= 0);
        CHECK_OK(bind(fds[i], (struct sockaddr *)&to[i], v4(0, &to[i])));
        socklen_t len = sizeof to[i];
        CHECK_OK(getsockname(fds[i], (struct sockaddr *)&to[i], &len));
    }
    for (int i = 0; i < SOCKETS; i++)
        for (int k = 0; k < SENDS; k++)
            CHECK_EQ(sendto(tx, "m", 1, 0, (struct sockaddr *)&to[i], sizeof to[i]), 1);
    long total = 0;
    for (int i = 0; i < SOCKETS; i++) {
        int n = 0;
        char c;
        while (recv(fds[i], &c, 1, MSG_DONTWAIT) == 1)
            n++;
        CHECK(n >= 1 && n <= SENDS);
        total += n;
        close(fds[i]);
    }
    CHECK(total >= SOCKETS);
    /* All given back: a fresh socket queues a full buffer again. */
    int r = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a;
    CHECK_OK(bind(r, (struct sockaddr *)&a, v4(0, &a)));
    socklen_t len = sizeof a;
    CHECK_OK(getsockname(r, (struct sockaddr *)&a, &len));
    for (int k = 0; k < SENDS; k++)
        CHECK_EQ(sendto(tx, "m", 1, 0, (struct sockaddr *)&a, sizeof a), 1);
    int n = 0;
    char c;
    while (recv(r, &c, 1, MSG_DONTWAIT) == 1)
        n++;
    CHECK(n >= 200);
    close(r);
    close(tx);
}

TEST(many_full_udp_sockets_as_nobody) { as_nobody(many_full_udp_sockets); }

/* TCP connections until the descriptor limit, each with its send buffer filled: Linux's
 * EMFILE, never a panic or ENOBUFS first; a nonblocking send ends in EAGAIN; after closing,
 * connections work again. */
static void tcp_connections_until_emfile(void)
{
    struct rlimit rl = {96, 96};
    CHECK_OK(setrlimit(RLIMIT_NOFILE, &rl));
    unsigned port;
    int l = tcp_listener(&port);
    CHECK(l >= 0);
    static int fds[128];
    int n = 0, err = 0;
    static char chunk[65536];
    while (n + 2 <= 128) {
        struct sockaddr_in a;
        int c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        if (c < 0) {
            err = errno;
            break;
        }
        fds[n++] = c;
        int r = connect(c, (struct sockaddr *)&a, v4(port, &a));
        if (r != 0 && errno != EINPROGRESS) {
            err = errno;
            break;
        }
        int s = accept(l, NULL, NULL);
        if (s < 0) {
            err = errno;
            break;
        }
        fds[n++] = s;
        /* Fill it: EAGAIN within 64 MiB. */
        struct pollfd p = {c, POLLOUT, 0};
        CHECK_EQ(poll(&p, 1, 10000), 1);
        long sent = 0;
        ssize_t k;
        while (sent < (64L << 20) && (k = send(c, chunk, sizeof chunk, MSG_DONTWAIT)) > 0)
            sent += k;
        CHECK(sent < (64L << 20));
        CHECK_EQ(errno, EAGAIN);
    }
    CHECK_EQ(err, EMFILE);
    for (int i = 0; i < n; i++)
        close(fds[i]);
    /* Connections work again (on a new listener: the last one may still hold the connection
     * accept had no descriptor for). */
    close(l);
    l = tcp_listener(&port);
    CHECK(l >= 0);
    struct sockaddr_in a;
    int c = socket(AF_INET, SOCK_STREAM, 0);
    CHECK_OK(connect(c, (struct sockaddr *)&a, v4(port, &a)));
    int s = accept(l, NULL, NULL);
    CHECK(s >= 0);
    CHECK_EQ(write(c, "w", 1), 1);
    char b = 0;
    CHECK_EQ(read(s, &b, 1), 1);
    close(c);
    close(s);
    close(l);
}

TEST(tcp_connections_until_emfile_as_nobody) { as_nobody(tcp_connections_until_emfile); }

/* A unix listener shut down under a blocked accept: the accept ends with EINVAL, as later
 * ones do (a connection already pending is still handed out first). */
TEST(unix_listener_shutdown_ends_a_blocked_accept)
{
    struct sockaddr_un { sa_family_t f; char p[108]; } a = {AF_UNIX, {0}};
    snprintf(a.p + 1, sizeof a.p - 1, "net_limits-shut-%d", (int)getpid());
    socklen_t len = (socklen_t)(sizeof(sa_family_t) + 1 + strlen(a.p + 1));
    int l = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK_OK(bind(l, (struct sockaddr *)&a, len));
    CHECK_OK(listen(l, 4));
    int ready[2];
    CHECK_OK(pipe(ready));
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        (void)!write(ready[1], "r", 1);
        if (accept(l, NULL, NULL) != -1 || errno != EINVAL)
            _exit(1);
        _exit(accept(l, NULL, NULL) == -1 && errno == EINVAL ? 0 : 2);
    }
    char b;
    CHECK_EQ(read(ready[0], &b, 1), 1);
    CHECK_OK(shutdown(l, SHUT_RDWR));
    int st = wait_bounded(pid, 30000);
    CHECK(st != -1);
    CHECK(WIFEXITED(st));
    CHECK_EQ(WEXITSTATUS(st), 0);
    close(l);
    close(ready[0]);
    close(ready[1]);
}
