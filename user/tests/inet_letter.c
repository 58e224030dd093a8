/* inet_letter.c - TCP and UDP to Linux's letter (issue 15): send() on a TCP socket that was
 * never connected (EPIPE, SIGPIPE unless MSG_NOSIGNAL); bind/connect with the other family's
 * sockaddr (EINVAL for a short one, then EAFNOSUPPORT; AF_UNSPEC with INADDR_ANY binds an
 * AF_INET socket); connect() again after a nonblocking connect (0 once then EISCONN; a
 * refused one: ECONNREFUSED once, or ECONNABORTED when SO_ERROR took it, then a new
 * attempt); shutdown of an unconnected TCP socket (ENOTCONN, yet recorded: poll, recv, send);
 * a connected UDP socket (v4 and v6) sending to a port nobody holds (POLLERR, ECONNREFUSED
 * once from recv, send or SO_ERROR); all of 127.0.0.0/8 is the loopback; connect to the
 * wildcard reaches the loopback; sendto on a connected TCP socket ignores the address;
 * MSG_OOB on UDP (EOPNOTSUPP); SO_RCVBUF/SO_SNDBUF values (defaults, doubling, minimum,
 * rmem_max) and a UDP receive queue bounded by SO_RCVBUF; a TCP socket connected to itself
 * sends 512 KiB with SO_SNDBUF raised (gVisor's SelfConnectSend); net.core.rmem_max bounding
 * SO_RCVBUF (POSIX-X only: it would change the host's); UDP MSG_MORE and UDP_CORK; SO_RCVLOWAT
 * on TCP (poll and recv).
 * Every port is chosen by the kernel (bind to port 0), so the test can share a host.
 * Syscalls: socket, bind, listen, connect, accept, getsockname, send, sendto, recv, shutdown,
 * getsockopt, setsockopt, poll, write, close, rt_sigaction.
 */
#define _GNU_SOURCE
#define TEST_MAIN
#include "test.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>

static socklen_t v4(const char *ip, unsigned port, struct sockaddr_in *a)
{
    memset(a, 0, sizeof *a);
    a->sin_family = AF_INET;
    a->sin_port = htons((uint16_t)port);
    inet_pton(AF_INET, ip, &a->sin_addr);
    return sizeof *a;
}

static socklen_t v6(const char *ip, unsigned port, struct sockaddr_in6 *a)
{
    memset(a, 0, sizeof *a);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons((uint16_t)port);
    inet_pton(AF_INET6, ip, &a->sin6_addr);
    return sizeof *a;
}

static unsigned port_of(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
        return 0;
    if (ss.ss_family == AF_INET)
        return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

/* A TCP listener on `ip` (v4), port chosen by the kernel. */
static int listener4(const char *ip, unsigned *port)
{
    struct sockaddr_in a;
    int l = socket(AF_INET, SOCK_STREAM, 0);
    if (l < 0 || bind(l, (struct sockaddr *)&a, v4(ip, 0, &a)) != 0 || listen(l, 8) != 0)
        return -1;
    *port = port_of(l);
    return l;
}

/* A port of `type` that nobody holds: bound by the kernel's choice, then released. */
static unsigned free_port(int fam, int type)
{
    struct sockaddr_in6 a6;
    struct sockaddr_in a;
    int s = socket(fam, type, 0);
    if (fam == AF_INET)
        bind(s, (struct sockaddr *)&a, v4("127.0.0.1", 0, &a));
    else
        bind(s, (struct sockaddr *)&a6, v6("::1", 0, &a6));
    unsigned p = port_of(s);
    close(s);
    return p;
}

static int pipes_seen;
static void on_pipe(int sig) { (void)sig; pipes_seen++; }

TEST(tcp_send_never_connected_is_epipe_with_sigpipe)
{
    struct sigaction sa = {.sa_handler = on_pipe}, old;
    sigemptyset(&sa.sa_mask);
    CHECK_OK(sigaction(SIGPIPE, &sa, &old));
    pipes_seen = 0;
    for (int fam = 0; fam < 2; fam++) {
        int s = socket(fam ? AF_INET6 : AF_INET, SOCK_STREAM, 0);
        CHECK_ERRNO(send(s, "x", 1, MSG_NOSIGNAL), EPIPE);
        CHECK_EQ(pipes_seen, 2 * fam);
        CHECK_ERRNO(write(s, "x", 1), EPIPE);
        CHECK_EQ(pipes_seen, 2 * fam + 1);
        CHECK_ERRNO(send(s, "x", 1, 0), EPIPE);
        CHECK_EQ(pipes_seen, 2 * fam + 2);
        /* A listener is not connected either. */
        CHECK_OK(listen(s, 1));
        CHECK_ERRNO(send(s, "x", 1, MSG_NOSIGNAL), EPIPE);
        char c;
        CHECK_ERRNO(recv(s, &c, 1, MSG_DONTWAIT), ENOTCONN);
        close(s);
    }
    sigaction(SIGPIPE, &old, NULL);
}

TEST(bind_and_connect_with_the_other_family)
{
    int types[2] = {SOCK_STREAM, SOCK_DGRAM};
    for (int i = 0; i < 2; i++) {
        struct sockaddr_in a;
        struct sockaddr_in6 a6;
        int s4 = socket(AF_INET, types[i], 0);
        v6("::1", 0, &a6);
        CHECK_ERRNO(bind(s4, (struct sockaddr *)&a6, sizeof a6), EAFNOSUPPORT);
        CHECK_ERRNO(bind(s4, (struct sockaddr *)&a6, sizeof(struct sockaddr_in)), EAFNOSUPPORT);
        CHECK_ERRNO(bind(s4, (struct sockaddr *)&a, 8), EINVAL);
        int s6 = socket(AF_INET6, types[i], 0);
        v4("127.0.0.1", 0, &a);
        /* inet6_bind checks the length first: a sockaddr_in is too short. */
        CHECK_ERRNO(bind(s6, (struct sockaddr *)&a, sizeof a), EINVAL);
        struct sockaddr_storage big;
        memset(&big, 0, sizeof big);
        memcpy(&big, &a, sizeof a);
        CHECK_ERRNO(bind(s6, (struct sockaddr *)&big, sizeof a6), EAFNOSUPPORT);
        /* AF_UNSPEC with INADDR_ANY binds an AF_INET socket (Linux keeps it for old code). */
        struct sockaddr_in un = {.sin_family = AF_UNSPEC};
        CHECK_OK(bind(s4, (struct sockaddr *)&un, sizeof un));
        CHECK(port_of(s4) != 0);
        close(s4);
        close(s6);
    }
    int t = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in6 a6;
    CHECK_ERRNO(connect(t, (struct sockaddr *)&a6, v6("::1", 9, &a6)), EAFNOSUPPORT);
    int t6 = socket(AF_INET6, SOCK_STREAM, 0);
    struct sockaddr_in a;
    CHECK_ERRNO(connect(t6, (struct sockaddr *)&a, v4("127.0.0.1", 9, &a)), EINVAL);
    close(t);
    close(t6);
}

/* Polls `fd` until one of `events` shows (or 10 s pass); returns revents. */
static short wait_for(int fd, short events)
{
    for (int i = 0; i < 1000; i++) {
        struct pollfd p = {fd, events, 0};
        if (poll(&p, 1, 10) == 1 && (p.revents & events))
            return p.revents;
    }
    return 0;
}

TEST(connect_again_after_a_nonblocking_connect)
{
    unsigned port;
    int l = listener4("127.0.0.1", &port);
    CHECK(l >= 0);
    struct sockaddr_in a;
    v4("127.0.0.1", port, &a);
    int c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    CHECK_ERRNO(connect(c, (struct sockaddr *)&a, sizeof a), EINPROGRESS);
    CHECK(wait_for(c, POLLOUT) & POLLOUT);
    CHECK_OK(connect(c, (struct sockaddr *)&a, sizeof a));
    CHECK_ERRNO(connect(c, (struct sockaddr *)&a, sizeof a), EISCONN);
    close(c);

    /* Refused: the next connect says so once, then a new attempt starts. */
    struct sockaddr_in r;
    v4("127.0.0.1", free_port(AF_INET, SOCK_STREAM), &r);
    c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    CHECK_ERRNO(connect(c, (struct sockaddr *)&r, sizeof r), EINPROGRESS);
    CHECK(wait_for(c, POLLOUT | POLLERR) != 0);
    CHECK_ERRNO(connect(c, (struct sockaddr *)&r, sizeof r), ECONNREFUSED);
    CHECK_ERRNO(connect(c, (struct sockaddr *)&r, sizeof r), EINPROGRESS);
    close(c);

    /* SO_ERROR took the error: the next connect says ECONNABORTED; send then EPIPE. */
    c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    CHECK_ERRNO(connect(c, (struct sockaddr *)&r, sizeof r), EINPROGRESS);
    CHECK(wait_for(c, POLLOUT | POLLERR) != 0);
    int e = 0;
    socklen_t el = sizeof e;
    CHECK_OK(getsockopt(c, SOL_SOCKET, SO_ERROR, &e, &el));
    CHECK_EQ(e, ECONNREFUSED);
    CHECK_ERRNO(connect(c, (struct sockaddr *)&r, sizeof r), ECONNABORTED);
    CHECK_ERRNO(send(c, "x", 1, MSG_NOSIGNAL), EPIPE);
    close(c);

    /* Without a second connect, send reports the refusal once, then EPIPE. */
    c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    CHECK_ERRNO(connect(c, (struct sockaddr *)&r, sizeof r), EINPROGRESS);
    CHECK(wait_for(c, POLLOUT | POLLERR) != 0);
    CHECK_ERRNO(send(c, "x", 1, MSG_NOSIGNAL), ECONNREFUSED);
    CHECK_ERRNO(send(c, "x", 1, MSG_NOSIGNAL), EPIPE);
    close(c);
    close(l);
}

TEST(tcp_shutdown_unconnected_is_enotconn_but_recorded)
{
    for (int fam = 0; fam < 2; fam++) {
        int s = socket(fam ? AF_INET6 : AF_INET, SOCK_STREAM, 0);
        struct pollfd p = {s, POLLIN | POLLOUT | POLLRDHUP, 0};
        CHECK_EQ(poll(&p, 1, 0), 1);
        CHECK_EQ(p.revents, POLLOUT | POLLHUP);
        CHECK_ERRNO(shutdown(s, SHUT_RD), ENOTCONN);
        CHECK_EQ(poll(&p, 1, 0), 1);
        CHECK_EQ(p.revents, POLLIN | POLLOUT | POLLHUP | POLLRDHUP);
        char c;
        CHECK_EQ(recv(s, &c, 1, MSG_DONTWAIT), 0);
        CHECK_EQ(recv(s, &c, 1, 0), 0);
        CHECK_ERRNO(shutdown(s, SHUT_WR), ENOTCONN);
        CHECK_ERRNO(send(s, "x", 1, MSG_NOSIGNAL), EPIPE);
        CHECK_ERRNO(shutdown(s, 7), EINVAL);
        close(s);
    }
}

/* A connected UDP socket sends to a port nobody holds: the port unreachable comes back. */
static void udp_refused(int fam)
{
    struct sockaddr_storage to;
    socklen_t len = fam == AF_INET
        ? v4("127.0.0.1", free_port(fam, SOCK_DGRAM), (struct sockaddr_in *)&to)
        : v6("::1", free_port(fam, SOCK_DGRAM), (struct sockaddr_in6 *)&to);
    int u = socket(fam, SOCK_DGRAM, 0);
    CHECK_OK(connect(u, (struct sockaddr *)&to, len));
    CHECK_EQ(send(u, "x", 1, 0), 1);
    CHECK(wait_for(u, POLLERR) & POLLERR);
    char c;
    CHECK_ERRNO(recv(u, &c, 1, MSG_DONTWAIT), ECONNREFUSED);
    CHECK_ERRNO(recv(u, &c, 1, MSG_DONTWAIT), EAGAIN);
    struct pollfd p = {u, POLLIN | POLLOUT, 0};
    CHECK_EQ(poll(&p, 1, 0), 1);
    CHECK_EQ(p.revents, POLLOUT);

    /* SO_ERROR reports it once. */
    CHECK_EQ(send(u, "x", 1, 0), 1);
    CHECK(wait_for(u, POLLERR) & POLLERR);
    int e = 0;
    socklen_t el = sizeof e;
    CHECK_OK(getsockopt(u, SOL_SOCKET, SO_ERROR, &e, &el));
    CHECK_EQ(e, ECONNREFUSED);
    CHECK_OK(getsockopt(u, SOL_SOCKET, SO_ERROR, &e, &el));
    CHECK_EQ(e, 0);

    /* The next send takes it (and sends nothing). */
    CHECK_EQ(send(u, "x", 1, 0), 1);
    CHECK(wait_for(u, POLLERR) & POLLERR);
    CHECK_ERRNO(send(u, "x", 1, 0), ECONNREFUSED);
    CHECK_EQ(send(u, "x", 1, 0), 1);
    CHECK(wait_for(u, POLLERR) & POLLERR);
    CHECK_ERRNO(sendto(u, "x", 1, 0, (struct sockaddr *)&to, len), ECONNREFUSED);
    close(u);

    /* An unconnected socket hears nothing of it. */
    u = socket(fam, SOCK_DGRAM, 0);
    CHECK_EQ(sendto(u, "x", 1, 0, (struct sockaddr *)&to, len), 1);
    CHECK_EQ(sendto(u, "x", 1, 0, (struct sockaddr *)&to, len), 1);
    CHECK_OK(getsockopt(u, SOL_SOCKET, SO_ERROR, &e, &el));
    CHECK_EQ(e, 0);
    close(u);
}

TEST(udp_v4_connected_to_a_port_nobody_holds) { udp_refused(AF_INET); }
TEST(udp_v6_connected_to_a_port_nobody_holds) { udp_refused(AF_INET6); }

TEST(all_of_127_is_the_loopback)
{
    /* A listener on the wildcard takes connections to any 127.x address. */
    unsigned port;
    int l = listener4("0.0.0.0", &port);
    CHECK(l >= 0);
    struct sockaddr_in a, got;
    int c = socket(AF_INET, SOCK_STREAM, 0);
    CHECK_OK(connect(c, (struct sockaddr *)&a, v4("127.0.0.2", port, &a)));
    int s = accept(l, NULL, NULL);
    CHECK(s >= 0);
    socklen_t len = sizeof got;
    CHECK_OK(getsockname(s, (struct sockaddr *)&got, &len));
    CHECK_EQ(ntohl(got.sin_addr.s_addr), 0x7f000002);
    len = sizeof got;
    CHECK_OK(getpeername(c, (struct sockaddr *)&got, &len));
    CHECK_EQ(ntohl(got.sin_addr.s_addr), 0x7f000002);
    CHECK_EQ(write(c, "q", 1), 1);
    char b = 0;
    CHECK_EQ(read(s, &b, 1), 1);
    CHECK_EQ(b, 'q');
    close(s);
    close(c);
    close(l);

    /* Any 127.x address may be bound, and is reached there. */
    l = listener4("127.1.2.3", &port);
    CHECK(l >= 0);
    c = socket(AF_INET, SOCK_STREAM, 0);
    CHECK_OK(connect(c, (struct sockaddr *)&a, v4("127.1.2.3", port, &a)));
    s = accept(l, NULL, NULL);
    CHECK(s >= 0);
    close(s);
    close(c);
    close(l);

    /* UDP on the wildcard hears datagrams to any 127.x address. */
    int r = socket(AF_INET, SOCK_DGRAM, 0);
    CHECK_OK(bind(r, (struct sockaddr *)&a, v4("0.0.0.0", 0, &a)));
    port = port_of(r);
    int u = socket(AF_INET, SOCK_DGRAM, 0);
    CHECK_EQ(sendto(u, "d", 1, 0, (struct sockaddr *)&a, v4("127.9.9.9", port, &a)), 1);
    len = sizeof got;
    CHECK_EQ(recvfrom(r, &b, 1, 0, (struct sockaddr *)&got, &len), 1);
    CHECK_EQ(b, 'd');
    CHECK_EQ(ntohl(got.sin_addr.s_addr), 0x7f000001);
    close(u);
    close(r);
}

TEST(connect_to_the_wildcard_reaches_the_loopback)
{
    unsigned port;
    int l = listener4("127.0.0.1", &port);
    CHECK(l >= 0);
    struct sockaddr_in a;
    int c = socket(AF_INET, SOCK_STREAM, 0);
    CHECK_OK(connect(c, (struct sockaddr *)&a, v4("0.0.0.0", port, &a)));
    int s = accept(l, NULL, NULL);
    CHECK(s >= 0);
    /* sendto on a connected TCP socket ignores the address. */
    struct sockaddr_in other;
    CHECK_EQ(sendto(c, "z", 1, 0, (struct sockaddr *)&other, v4("127.0.0.1", 9, &other)), 1);
    char b = 0;
    CHECK_EQ(read(s, &b, 1), 1);
    CHECK_EQ(b, 'z');
    close(s);
    close(c);
    close(l);
}

TEST(udp_msg_oob_is_eopnotsupp)
{
    struct sockaddr_in a;
    int u = socket(AF_INET, SOCK_DGRAM, 0);
    CHECK_OK(bind(u, (struct sockaddr *)&a, v4("127.0.0.1", 0, &a)));
    v4("127.0.0.1", port_of(u), &a);
    CHECK_ERRNO(sendto(u, "o", 1, MSG_OOB, (struct sockaddr *)&a, sizeof a), EOPNOTSUPP);
    close(u);
}

/* A /proc/sys value, or `dflt` where the file is missing; `field` picks a column. */
static long sysctl_value(const char *path, int field, long dflt)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return dflt;
    long v[3] = {dflt, dflt, dflt};
    int n = fscanf(f, "%ld %ld %ld", &v[0], &v[1], &v[2]);
    fclose(f);
    return n > field ? v[field] : dflt;
}

static int getint(int fd, int name)
{
    int v = -1;
    socklen_t len = sizeof v;
    if (getsockopt(fd, SOL_SOCKET, name, &v, &len) != 0)
        return -1;
    return v;
}

TEST(socket_buffer_sizes_as_linux)
{
    long rmem_max = sysctl_value("/proc/sys/net/core/rmem_max", 0, 212992);
    long wmem_max = sysctl_value("/proc/sys/net/core/wmem_max", 0, 212992);
    int t = socket(AF_INET, SOCK_STREAM, 0);
    CHECK_EQ(getint(t, SO_RCVBUF), sysctl_value("/proc/sys/net/ipv4/tcp_rmem", 1, 131072));
    CHECK_EQ(getint(t, SO_SNDBUF), sysctl_value("/proc/sys/net/ipv4/tcp_wmem", 1, 16384));
    int u = socket(AF_INET6, SOCK_DGRAM, 0);
    CHECK_EQ(getint(u, SO_RCVBUF), sysctl_value("/proc/sys/net/core/rmem_default", 0, 212992));
    CHECK_EQ(getint(u, SO_SNDBUF), sysctl_value("/proc/sys/net/core/wmem_default", 0, 212992));
    int fds[2] = {t, u};
    for (int i = 0; i < 2; i++) {
        int v = 4096;
        CHECK_OK(setsockopt(fds[i], SOL_SOCKET, SO_RCVBUF, &v, sizeof v));
        CHECK_EQ(getint(fds[i], SO_RCVBUF), 8192);
        CHECK_OK(setsockopt(fds[i], SOL_SOCKET, SO_SNDBUF, &v, sizeof v));
        CHECK_EQ(getint(fds[i], SO_SNDBUF), 8192);
        v = 1;
        CHECK_OK(setsockopt(fds[i], SOL_SOCKET, SO_RCVBUF, &v, sizeof v));
        CHECK_EQ(getint(fds[i], SO_RCVBUF), 2304);
        CHECK_OK(setsockopt(fds[i], SOL_SOCKET, SO_SNDBUF, &v, sizeof v));
        CHECK_EQ(getint(fds[i], SO_SNDBUF), 4608);
        v = 1 << 30;
        CHECK_OK(setsockopt(fds[i], SOL_SOCKET, SO_RCVBUF, &v, sizeof v));
        CHECK_EQ(getint(fds[i], SO_RCVBUF), 2 * rmem_max);
        CHECK_OK(setsockopt(fds[i], SOL_SOCKET, SO_SNDBUF, &v, sizeof v));
        CHECK_EQ(getint(fds[i], SO_SNDBUF), 2 * wmem_max);
        /* Read as unsigned: -1 asks for the most. */
        v = -1;
        CHECK_OK(setsockopt(fds[i], SOL_SOCKET, SO_RCVBUF, &v, sizeof v));
        CHECK_EQ(getint(fds[i], SO_RCVBUF), 2 * rmem_max);
        CHECK_ERRNO(setsockopt(fds[i], SOL_SOCKET, SO_RCVBUF, &v, 2), EINVAL);
    }
    close(t);
    close(u);
}

/* How many 1-byte datagrams a UDP socket with SO_RCVBUF `rcvbuf` (0: default) queues. */
static int udp_queue_holds(int rcvbuf)
{
    struct sockaddr_in a;
    int r = socket(AF_INET, SOCK_DGRAM, 0);
    if (rcvbuf)
        setsockopt(r, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    bind(r, (struct sockaddr *)&a, v4("127.0.0.1", 0, &a));
    v4("127.0.0.1", port_of(r), &a);
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    for (int i = 0; i < 2000; i++)
        if (sendto(s, "b", 1, 0, (struct sockaddr *)&a, sizeof a) != 1)
            return -1; /* a UDP send never fails for a full receiver */
    int n = 0;
    char c;
    while (recv(r, &c, 1, MSG_DONTWAIT) == 1)
        n++;
    close(s);
    close(r);
    return n;
}

TEST(udp_receive_queue_bounded_by_so_rcvbuf)
{
    /* Linux: 256 with the default 212992 bytes (about 832 charged per tiny datagram), 9
     * with 8192. */
    int dflt = udp_queue_holds(0);
    CHECK(dflt >= 200 && dflt <= 300);
    int small = udp_queue_holds(4096);
    CHECK(small >= 5 && small <= 16);
}

TEST(tcp_connected_to_itself_sends_512_kib)
{
    /* gVisor's SelfConnectSend: SO_SNDBUF raised to the size sent. */
    int s = socket(AF_INET, SOCK_STREAM, 0);
    int size = 512 << 10;
    CHECK_OK(setsockopt(s, SOL_SOCKET, SO_SNDBUF, &size, sizeof size));
    struct timeval tv = {20, 0};
    CHECK_OK(setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv));
    CHECK_OK(setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv));
    struct sockaddr_in a;
    CHECK_OK(bind(s, (struct sockaddr *)&a, v4("127.0.0.1", 0, &a)));
    v4("127.0.0.1", port_of(s), &a);
    CHECK_OK(connect(s, (struct sockaddr *)&a, sizeof a));
    char *buf = malloc((size_t)size);
    CHECK(buf != NULL);
    for (int i = 0; i < size; i++)
        buf[i] = (char)(i * 7);
    CHECK_EQ(send(s, buf, (size_t)size, 0), size);
    CHECK_OK(shutdown(s, SHUT_WR));
    int got = 0, ok = 1;
    char chunk[8192];
    for (;;) {
        ssize_t n = recv(s, chunk, sizeof chunk, 0);
        if (n <= 0)
            break;
        for (ssize_t i = 0; i < n; i++)
            ok &= chunk[i] == (char)((got + i) * 7);
        got += (int)n;
    }
    CHECK_EQ(got, size);
    CHECK(ok);
    free(buf);
    close(s);
}

/* Root may raise net.core.rmem_max; SO_RCVBUF then goes up to twice it. Changing a sysctl of
 * the host under the other programs on it is not safe: Linux skips this case. */
TEST(rmem_max_bounds_so_rcvbuf)
{
    if (!on_posix_x())
        SKIP("would change the host's net.core.rmem_max");
    long old = sysctl_value("/proc/sys/net/core/rmem_max", 0, -1);
    CHECK(old > 0);
    FILE *f = fopen("/proc/sys/net/core/rmem_max", "w");
    CHECK(f != NULL);
    fprintf(f, "300000\n");
    CHECK_EQ(fclose(f), 0);
    int u = socket(AF_INET, SOCK_DGRAM, 0);
    int v = 1 << 30;
    CHECK_OK(setsockopt(u, SOL_SOCKET, SO_RCVBUF, &v, sizeof v));
    CHECK_EQ(getint(u, SO_RCVBUF), 600000);
    close(u);
    f = fopen("/proc/sys/net/core/rmem_max", "w");
    CHECK(f != NULL);
    fprintf(f, "100\n");
    CHECK(fclose(f) != 0); /* below SOCK_MIN_RCVBUF: EINVAL */
    f = fopen("/proc/sys/net/core/rmem_max", "w");
    fprintf(f, "%ld\n", old);
    CHECK_EQ(fclose(f), 0);
    CHECK_EQ(sysctl_value("/proc/sys/net/core/rmem_max", 0, -1), old);
}

/* UDP with MSG_MORE or UDP_CORK: the data is held and leaves as one datagram with the next
 * send without MSG_MORE (or when the cork comes off). */
TEST(udp_msg_more_and_cork_build_one_datagram)
{
    struct sockaddr_in a;
    int r = socket(AF_INET, SOCK_DGRAM, 0);
    CHECK_OK(bind(r, (struct sockaddr *)&a, v4("127.0.0.1", 0, &a)));
    v4("127.0.0.1", port_of(r), &a);
    int u = socket(AF_INET, SOCK_DGRAM, 0);
    char b[16] = {0};
    CHECK_EQ(sendto(u, "ab", 2, MSG_MORE, (struct sockaddr *)&a, sizeof a), 2);
    CHECK_ERRNO(recv(r, b, sizeof b, MSG_DONTWAIT), EAGAIN);
    CHECK_EQ(sendto(u, "cd", 2, MSG_MORE, (struct sockaddr *)&a, sizeof a), 2);
    CHECK_EQ(sendto(u, "e", 1, 0, (struct sockaddr *)&a, sizeof a), 1);
    CHECK_EQ(recv(r, b, sizeof b, 0), 5);
    CHECK(memcmp(b, "abcde", 5) == 0);
    int one = 1, zero = 0;
    CHECK_OK(setsockopt(u, IPPROTO_UDP, 1 /* UDP_CORK */, &one, sizeof one));
    int got = 0;
    socklen_t gl = sizeof got;
    CHECK_OK(getsockopt(u, IPPROTO_UDP, 1 /* UDP_CORK */, &got, &gl));
    CHECK_EQ(got, 1);
    CHECK_EQ(sendto(u, "xy", 2, 0, (struct sockaddr *)&a, sizeof a), 2);
    CHECK_EQ(sendto(u, "z", 1, 0, (struct sockaddr *)&a, sizeof a), 1);
    CHECK_ERRNO(recv(r, b, sizeof b, MSG_DONTWAIT), EAGAIN);
    CHECK_OK(setsockopt(u, IPPROTO_UDP, 1 /* UDP_CORK */, &zero, sizeof zero));
    CHECK_EQ(recv(r, b, sizeof b, 0), 3);
    CHECK(memcmp(b, "xyz", 3) == 0);
    close(u);
    close(r);
}

/* SO_RCVLOWAT on TCP: poll shows POLLIN once that many bytes are queued; a blocking recv
 * waits for them, a nonblocking one takes what is there. */
TEST(tcp_so_rcvlowat)
{
    unsigned port;
    int l = listener4("127.0.0.1", &port);
    CHECK(l >= 0);
    struct sockaddr_in a;
    int c = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    CHECK_OK(setsockopt(c, IPPROTO_TCP, 1 /* TCP_NODELAY */, &one, sizeof one));
    CHECK_OK(connect(c, (struct sockaddr *)&a, v4("127.0.0.1", port, &a)));
    int s = accept(l, NULL, NULL);
    CHECK(s >= 0);
    int v = 5;
    CHECK_OK(setsockopt(s, SOL_SOCKET, SO_RCVLOWAT, &v, sizeof v));
    CHECK_EQ(getint(s, SO_RCVLOWAT), 5);
    CHECK_EQ(send(c, "xyz", 3, 0), 3);
    /* The 3 bytes are queued (FIONREAD-free check: a peek sees them). */
    char b[16];
    for (int i = 0; i < 1000 && recv(s, b, sizeof b, MSG_PEEK | MSG_DONTWAIT) != 3; i++)
        usleep(1000);
    struct pollfd p = {s, POLLIN, 0};
    CHECK_EQ(poll(&p, 1, 0), 0);
    CHECK_EQ(send(c, "12", 2, 0), 2);
    CHECK(wait_for(s, POLLIN) & POLLIN);
    CHECK_EQ(recv(s, b, sizeof b, 0), 5);
    CHECK_EQ(send(c, "abc", 3, 0), 3);
    for (int i = 0; i < 1000 && recv(s, b, sizeof b, MSG_PEEK | MSG_DONTWAIT) != 3; i++)
        usleep(1000);
    CHECK_EQ(recv(s, b, sizeof b, MSG_DONTWAIT), 3);
    close(s);
    close(c);
    close(l);
}
