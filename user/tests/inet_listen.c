/* inet_listen.c - TCP listeners as Linux has them: the accept queue holds backlog + 1
 * connections, a SYN beyond is dropped (the connect stays in progress, is not refused, and
 * completes once accept makes room); listen() again changes the backlog; a negative backlog is
 * net.core.somaxconn; /proc/sys/net/core/somaxconn (readable by all, written by root only);
 * SO_REUSEPORT: sockets of one owner share a port (TCP and UDP), and the connections and
 * datagrams to it are spread over them by their addresses and ports.
 * Every port is chosen by the kernel (bind to port 0), so the test can share a host.
 * Syscalls: socket, bind, listen, connect, accept, getsockname, getsockopt, setsockopt, poll,
 * sendto, recv, read, write, close, open, fork, setuid, setgid, wait4, exit_group.
 */
#define _GNU_SOURCE
#define TEST_MAIN
#include "test.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include "inet_sock.h"

/* A socket of fam/type bound to the loopback on `port` (0: the kernel's choice), or -1;
 * with SO_REUSEPORT if `reuseport`. */
static int bound_sock(int fam, int type, unsigned port, int reuseport)
{
    struct sockaddr_storage ss;
    socklen_t len = loop_addr(fam, port, &ss);
    int fd = socket(fam, type, 0);
    if (fd < 0)
        return -1;
    int one = 1;
    if ((reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) ||
        bind(fd, (struct sockaddr *)&ss, len) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* A nonblocking connect to the loopback `port`: the socket, or -1 (errno) if refused at once. */
static int start_connect(int fam, unsigned port)
{
    struct sockaddr_storage ss;
    socklen_t len = loop_addr(fam, port, &ss);
    int fd = socket(fam, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -1;
    if (connect(fd, (struct sockaddr *)&ss, len) != 0 && errno != EINPROGRESS) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

static int so_error(int fd)
{
    int v = -1;
    socklen_t len = sizeof v;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &v, &len) != 0)
        return -1;
    return v;
}

/* ---- the accept queue ---- */

/* backlog + 1 connections complete before any accept; the next one's SYN is dropped: its
 * connect is neither done nor refused until accept makes room, then it completes. */
TEST(tcp_backlog_plus_one_then_syn_dropped)
{
    enum { BACKLOG = 2, N = BACKLOG + 1 };
    for (int i = 0; i < 2; i++) {
        int l = bound_sock(FAMS[i], SOCK_STREAM, 0, 0);
        CHECK_OK(l);
        CHECK_OK(listen(l, BACKLOG));
        unsigned port = local_port(l);
        int c[N + 1];
        for (int k = 0; k < N; k++) {
            c[k] = start_connect(FAMS[i], port);
            CHECK_OK(c[k]);
            CHECK_EQ(poll1(c[k], POLLOUT, 30000), POLLOUT);
            CHECK_EQ(so_error(c[k]), 0);
        }
        c[N] = start_connect(FAMS[i], port);
        CHECK_OK(c[N]);
        /* Whatever the wait, a full queue takes no SYN (it is not refused either). */
        CHECK_EQ(poll1(c[N], POLLOUT, 300), 0);
        CHECK_EQ(so_error(c[N]), 0);
        int s = accept(l, NULL, NULL);
        CHECK_OK(s);
        close(s);
        /* The client sends its SYN again (Linux after 1 s) and gets in now. */
        CHECK_EQ(poll1(c[N], POLLOUT, 30000), POLLOUT);
        CHECK_EQ(so_error(c[N]), 0);
        for (int k = 1; k <= N; k++) {
            s = accept(l, NULL, NULL);
            CHECK_OK(s);
            CHECK_EQ(write(c[k], &k, sizeof k), (ssize_t)sizeof k);
            int v = -1;
            CHECK_EQ(read(s, &v, sizeof v), (ssize_t)sizeof v);
            CHECK_EQ(v, k);
            close(s);
        }
        for (int k = 0; k <= N; k++)
            close(c[k]);
        close(l);
    }
}

/* listen(1) takes two connections; listen() again raises the backlog. */
TEST(tcp_listen_again_changes_the_backlog)
{
    for (int i = 0; i < 2; i++) {
        int l = bound_sock(FAMS[i], SOCK_STREAM, 0, 0);
        CHECK_OK(l);
        CHECK_OK(listen(l, 1));
        unsigned port = local_port(l);
        int a = start_connect(FAMS[i], port), a2 = start_connect(FAMS[i], port);
        CHECK_OK(a);
        CHECK_OK(a2);
        CHECK_EQ(poll1(a, POLLOUT, 30000), POLLOUT);
        CHECK_EQ(poll1(a2, POLLOUT, 30000), POLLOUT);
        int b = start_connect(FAMS[i], port);
        CHECK_OK(b);
        CHECK_EQ(poll1(b, POLLOUT, 300), 0);
        CHECK_OK(listen(l, 5));
        CHECK_EQ(poll1(b, POLLOUT, 30000), POLLOUT);
        CHECK_EQ(so_error(b), 0);
        for (int k = 0; k < 3; k++) {
            int s = accept(l, NULL, NULL);
            CHECK_OK(s);
            close(s);
        }
        close(a);
        close(a2);
        close(b);
        close(l);
    }
}

/* A negative backlog is net.core.somaxconn (read as unsigned): many connections wait. */
TEST(tcp_negative_backlog_is_somaxconn)
{
    enum { N = 40 };
    int l = bound_sock(AF_INET, SOCK_STREAM, 0, 0);
    CHECK_OK(l);
    CHECK_OK(listen(l, -1));
    int c[N];
    for (int k = 0; k < N; k++) {
        c[k] = start_connect(AF_INET, local_port(l));
        CHECK_OK(c[k]);
        CHECK_EQ(poll1(c[k], POLLOUT, 30000), POLLOUT);
        CHECK_EQ(so_error(c[k]), 0);
    }
    for (int k = 0; k < N; k++) {
        int s = accept(l, NULL, NULL);
        CHECK_OK(s);
        close(s);
        close(c[k]);
    }
    close(l);
}

TEST(somaxconn_sysctl_readable_root_only_writes)
{
    char buf[32] = {0};
    int fd = open("/proc/sys/net/core/somaxconn", O_RDONLY);
    CHECK_OK(fd);
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    CHECK(n > 1);
    CHECK(buf[n - 1] == '\n');
    CHECK(atol(buf) >= 128);
    pid_t pid = fork();
    CHECK_OK(pid);
    if (pid == 0) {
        if (setgid(65534) != 0 || setuid(65534) != 0)
            _exit(2);
        int w = open("/proc/sys/net/core/somaxconn", O_WRONLY);
        _exit(w < 0 && errno == EACCES ? 0 : 1);
    }
    int st;
    CHECK_EQ(waitpid(pid, &st, 0), pid);
    CHECK(WIFEXITED(st));
    CHECK_EQ(WEXITSTATUS(st), 0);
}

/* ---- SO_REUSEPORT ---- */

TEST(reuseport_reads_back)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    CHECK_OK(fd);
    int v = -1, one = 1;
    socklen_t len = sizeof v;
    CHECK_OK(getsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &v, &len));
    CHECK_EQ(v, 0);
    CHECK_OK(setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one));
    CHECK_OK(getsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &v, &len));
    CHECK_EQ(v, 1);
    close(fd);
}

/* Sockets that all set SO_REUSEPORT share a port; one without it does not get in; nor does
 * another user's (Linux compares the owners). */
TEST(reuseport_shares_a_port_between_sockets_of_one_owner)
{
    const int types[2] = {SOCK_STREAM, SOCK_DGRAM};
    for (int t = 0; t < 2; t++) {
        for (int i = 0; i < 2; i++) {
            int a = bound_sock(FAMS[i], types[t], 0, 1);
            CHECK_OK(a);
            unsigned port = local_port(a);
            if (types[t] == SOCK_STREAM)
                CHECK_OK(listen(a, 4));
            int b = bound_sock(FAMS[i], types[t], port, 1);
            CHECK_OK(b);
            if (types[t] == SOCK_STREAM)
                CHECK_OK(listen(b, 4));
            CHECK_ERRNO(bound_sock(FAMS[i], types[t], port, 0), EADDRINUSE);
            pid_t pid = fork();
            CHECK_OK(pid);
            if (pid == 0) {
                if (setgid(65534) != 0 || setuid(65534) != 0)
                    _exit(2);
                int c = bound_sock(FAMS[i], types[t], port, 1);
                _exit(c < 0 && errno == EADDRINUSE ? 0 : 1);
            }
            int st;
            CHECK_EQ(waitpid(pid, &st, 0), pid);
            CHECK(WIFEXITED(st));
            CHECK_EQ(WEXITSTATUS(st), 0);
            close(a);
            close(b);
        }
    }
}

/* Connections to a port two SO_REUSEPORT listeners share are spread over both (Linux hashes
 * the addresses and ports): 32 connections from 32 source ports, and each listener accepts
 * some. */
TEST(reuseport_spreads_tcp_connections)
{
    enum { N = 32 };
    for (int i = 0; i < 2; i++) {
        int l[2];
        l[0] = bound_sock(FAMS[i], SOCK_STREAM, 0, 1);
        CHECK_OK(l[0]);
        unsigned port = local_port(l[0]);
        l[1] = bound_sock(FAMS[i], SOCK_STREAM, port, 1);
        CHECK_OK(l[1]);
        CHECK_OK(listen(l[0], N));
        CHECK_OK(listen(l[1], N));
        int c[N];
        for (int k = 0; k < N; k++) {
            c[k] = start_connect(FAMS[i], port);
            CHECK_OK(c[k]);
            CHECK_EQ(poll1(c[k], POLLOUT, 30000), POLLOUT);
            CHECK_EQ(so_error(c[k]), 0);
        }
        int got[2] = {0, 0};
        while (got[0] + got[1] < N) {
            struct pollfd p[2] = {{l[0], POLLIN, 0}, {l[1], POLLIN, 0}};
            CHECK(poll(p, 2, 30000) > 0);
            for (int j = 0; j < 2; j++) {
                if (!(p[j].revents & POLLIN))
                    continue;
                int s = accept(l[j], NULL, NULL);
                CHECK_OK(s);
                close(s);
                got[j]++;
            }
        }
        CHECK_EQ(got[0] + got[1], N);
        CHECK(got[0] > 0);
        CHECK(got[1] > 0);
        for (int k = 0; k < N; k++)
            close(c[k]);
        close(l[0]);
        close(l[1]);
    }
}

/* Datagrams to a port two SO_REUSEPORT sockets share are spread over both: 32 senders, each
 * datagram reaches exactly one of them, and each gets some. */
TEST(reuseport_spreads_udp_datagrams)
{
    enum { N = 32 };
    for (int i = 0; i < 2; i++) {
        int r[2];
        r[0] = bound_sock(FAMS[i], SOCK_DGRAM, 0, 1);
        CHECK_OK(r[0]);
        unsigned port = local_port(r[0]);
        r[1] = bound_sock(FAMS[i], SOCK_DGRAM, port, 1);
        CHECK_OK(r[1]);
        struct sockaddr_storage to;
        socklen_t len = loop_addr(FAMS[i], port, &to);
        for (int k = 0; k < N; k++) {
            int c = socket(FAMS[i], SOCK_DGRAM, 0);
            CHECK_OK(c);
            CHECK_EQ(sendto(c, &k, sizeof k, 0, (struct sockaddr *)&to, len), (ssize_t)sizeof k);
            close(c);
        }
        int got[2] = {0, 0}, seen[N] = {0};
        while (got[0] + got[1] < N) {
            struct pollfd p[2] = {{r[0], POLLIN, 0}, {r[1], POLLIN, 0}};
            CHECK(poll(p, 2, 30000) > 0);
            for (int j = 0; j < 2; j++) {
                if (!(p[j].revents & POLLIN))
                    continue;
                int v = -1;
                CHECK_EQ(recv(r[j], &v, sizeof v, 0), (ssize_t)sizeof v);
                CHECK(v >= 0 && v < N);
                CHECK_EQ(seen[v], 0);
                seen[v] = 1;
                got[j]++;
            }
        }
        CHECK(got[0] > 0);
        CHECK(got[1] > 0);
        close(r[0]);
        close(r[1]);
    }
}
