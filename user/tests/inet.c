/* inet.c - TCP and UDP sockets over the loopback, IPv4 (127.0.0.1) and IPv6 (::1):
 * socket() errors (EAFNOSUPPORT, EINVAL, ESOCKTNOSUPPORT, EPROTONOSUPPORT) and flags, the
 * options SO_TYPE, SO_DOMAIN, SO_PROTOCOL, SO_ACCEPTCONN, SO_ERROR and SO_REUSEADDR; bind
 * (port 0 and getsockname, twice, EADDRINUSE, EADDRNOTAVAIL, bad lengths and families, one
 * port on 127.0.0.1 and ::1 at once, wildcards overlapping them, UDP sharing with SO_REUSEADDR,
 * TIME-WAIT after an active close);
 * TCP: listen/connect/accept with data both ways and matching names, ECONNREFUSED, a
 * nonblocking connect (EINPROGRESS, POLLOUT, SO_ERROR), accept4 flags, EAGAIN from an empty
 * nonblocking listener, poll on a listener, end of file after close, shutdown(SHUT_WR), EPIPE
 * after the peer closed, a 1 MiB transfer through a child, IPv4-mapped IPv6 addresses, an
 * IPv6 connect to an IPv4-only port; UDP: sendto/recvfrom with the sender's address, datagram
 * boundaries, truncation (MSG_TRUNC in flags and msg_flags), MSG_PEEK, FIONREAD, connect and
 * disconnect (names, send/recv, other senders ignored, unnamed ports released), EDESTADDRREQ.
 * Every port is chosen by the kernel (bind to port 0), so the test can share a host.
 * Syscalls: socket, bind, listen, connect, accept, accept4, getsockname, getpeername, sendto,
 * recvfrom, sendmsg, recvmsg, shutdown, getsockopt, setsockopt, read, write, close, fcntl,
 * ioctl, poll, fork, wait4, rt_sigaction, exit_group.
 */
#define _GNU_SOURCE
#define TEST_MAIN
#include "test.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "children.h"
#include "inet_sock.h"

/* The wildcard address of `fam` with `port`; returns its length. */
static socklen_t any_addr(int fam, unsigned port, struct sockaddr_storage *ss)
{
    socklen_t len = loop_addr(fam, port, ss);
    if (fam == AF_INET)
        ((struct sockaddr_in *)ss)->sin_addr.s_addr = htonl(INADDR_ANY);
    else
        ((struct sockaddr_in6 *)ss)->sin6_addr = in6addr_any;
    return len;
}

/* Is ss the loopback address of its family? */
static int is_loopback(const struct sockaddr_storage *ss)
{
    if (ss->ss_family == AF_INET)
        return ((const struct sockaddr_in *)ss)->sin_addr.s_addr == htonl(INADDR_LOOPBACK);
    if (ss->ss_family == AF_INET6)
        return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)ss)->sin6_addr);
    return 0;
}

/* A socket of fam/type bound to the loopback on a kernel-chosen port, or -1. */
static int bound_sock(int fam, int type)
{
    struct sockaddr_storage ss;
    socklen_t len = loop_addr(fam, 0, &ss);
    int fd = socket(fam, type, 0);
    if (fd < 0)
        return -1;
    if (bind(fd, (struct sockaddr *)&ss, len) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int listener(int fam)
{
    int fd = bound_sock(fam, SOCK_STREAM);
    if (fd >= 0 && listen(fd, 8) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* A socket of fam/type connected to the loopback port `port`, or -1. */
static int connect_to(int fam, int type, unsigned port)
{
    struct sockaddr_storage ss;
    socklen_t len = loop_addr(fam, port, &ss);
    int fd = socket(fam, type, 0);
    if (fd < 0)
        return -1;
    if (connect(fd, (struct sockaddr *)&ss, len) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

/* A connected TCP pair over the loopback of fam: *c (client) and *s (accepted). 0 or -1. */
static int tcp_pair(int fam, int *c, int *s)
{
    int l = listener(fam);
    if (l < 0)
        return -1;
    *c = connect_to(fam, SOCK_STREAM, local_port(l));
    *s = *c >= 0 ? accept(l, NULL, NULL) : -1;
    close(l);
    if (*s < 0) {
        if (*c >= 0)
            close(*c);
        return -1;
    }
    return 0;
}

static int sockopt_int(int fd, int level, int name)
{
    int v = -12345;
    socklen_t len = sizeof v;
    if (getsockopt(fd, level, name, &v, &len) != 0 || len != sizeof v)
        return -12345;
    return v;
}

/* ---- socket() ---- */

TEST(socket_bad_domain)
{
    CHECK_ERRNO(socket(1234, SOCK_STREAM, 0), EAFNOSUPPORT);
    CHECK_ERRNO(socket(-1, SOCK_DGRAM, 0), EAFNOSUPPORT);
}

TEST(socket_bad_type)
{
    for (int i = 0; i < 2; i++) {
        int f = FAMS[i];
        CHECK_ERRNO(socket(f, SOCK_STREAM | 0x40000000, 0), EINVAL);
        CHECK_ERRNO(socket(f, 77, 0), EINVAL);
        CHECK_ERRNO(socket(f, 12, 0), EINVAL); /* SOCK_MAX is 11 */
        CHECK_ERRNO(socket(f, SOCK_RDM, 0), ESOCKTNOSUPPORT);
    }
}

TEST(socket_bad_protocol)
{
    for (int i = 0; i < 2; i++) {
        int f = FAMS[i];
        CHECK_ERRNO(socket(f, SOCK_STREAM, IPPROTO_UDP), EPROTONOSUPPORT);
        CHECK_ERRNO(socket(f, SOCK_DGRAM, IPPROTO_TCP), EPROTONOSUPPORT);
        CHECK_ERRNO(socket(f, SOCK_STREAM, -1), EINVAL);
        CHECK_ERRNO(socket(f, SOCK_DGRAM, 1000), EINVAL);
    }
}

TEST(socket_explicit_protocols)
{
    for (int i = 0; i < 2; i++) {
        int t = socket(FAMS[i], SOCK_STREAM, IPPROTO_TCP);
        CHECK_OK(t);
        CHECK_EQ(sockopt_int(t, SOL_SOCKET, SO_PROTOCOL), IPPROTO_TCP);
        close(t);
        int u = socket(FAMS[i], SOCK_DGRAM, IPPROTO_UDP);
        CHECK_OK(u);
        CHECK_EQ(sockopt_int(u, SOL_SOCKET, SO_PROTOCOL), IPPROTO_UDP);
        close(u);
    }
}

TEST(socket_nonblock_cloexec_flags)
{
    for (int i = 0; i < 2; i++) {
        int fd = socket(FAMS[i], SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        CHECK_OK(fd);
        CHECK_EQ(fcntl(fd, F_GETFL) & O_NONBLOCK, O_NONBLOCK);
        CHECK_EQ(fcntl(fd, F_GETFD), FD_CLOEXEC);
        close(fd);
        fd = socket(FAMS[i], SOCK_DGRAM, 0);
        CHECK_OK(fd);
        CHECK_EQ(fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
        CHECK_EQ(fcntl(fd, F_GETFD), 0);
        close(fd);
    }
}

TEST(sockopt_type_domain_protocol)
{
    for (int i = 0; i < 2; i++) {
        int f = FAMS[i];
        int t = socket(f, SOCK_STREAM, 0), u = socket(f, SOCK_DGRAM, 0);
        CHECK(t >= 0 && u >= 0);
        CHECK_EQ(sockopt_int(t, SOL_SOCKET, SO_TYPE), SOCK_STREAM);
        CHECK_EQ(sockopt_int(t, SOL_SOCKET, SO_DOMAIN), f);
        CHECK_EQ(sockopt_int(t, SOL_SOCKET, SO_PROTOCOL), IPPROTO_TCP);
        CHECK_EQ(sockopt_int(t, SOL_SOCKET, SO_ERROR), 0);
        CHECK_EQ(sockopt_int(u, SOL_SOCKET, SO_TYPE), SOCK_DGRAM);
        CHECK_EQ(sockopt_int(u, SOL_SOCKET, SO_DOMAIN), f);
        CHECK_EQ(sockopt_int(u, SOL_SOCKET, SO_PROTOCOL), IPPROTO_UDP);
        CHECK_EQ(sockopt_int(u, SOL_SOCKET, SO_ACCEPTCONN), 0);
        close(t);
        close(u);
    }
}

TEST(sockopt_acceptconn_after_listen)
{
    for (int i = 0; i < 2; i++) {
        int fd = bound_sock(FAMS[i], SOCK_STREAM);
        CHECK_OK(fd);
        CHECK_EQ(sockopt_int(fd, SOL_SOCKET, SO_ACCEPTCONN), 0);
        CHECK_OK(listen(fd, 4));
        CHECK_EQ(sockopt_int(fd, SOL_SOCKET, SO_ACCEPTCONN), 1);
        close(fd);
    }
}

TEST(sockopt_reuseaddr_accepted)
{
    for (int i = 0; i < 2; i++) {
        int fd = socket(FAMS[i], SOCK_STREAM, 0);
        CHECK_OK(fd);
        CHECK_EQ(sockopt_int(fd, SOL_SOCKET, SO_REUSEADDR), 0);
        int one = 1;
        CHECK_OK(setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one));
        CHECK_EQ(sockopt_int(fd, SOL_SOCKET, SO_REUSEADDR), 1);
        struct sockaddr_storage ss;
        socklen_t len = loop_addr(FAMS[i], 0, &ss);
        CHECK_OK(bind(fd, (struct sockaddr *)&ss, len));
        CHECK_OK(listen(fd, 1));
        close(fd);
    }
}

/* ---- bind ---- */

TEST(getsockname_unbound_is_any_port_0)
{
    for (int i = 0; i < 2; i++) {
        int fd = socket(FAMS[i], i ? SOCK_DGRAM : SOCK_STREAM, 0);
        CHECK_OK(fd);
        struct sockaddr_storage ss, any;
        memset(&ss, 0xaa, sizeof ss);
        socklen_t len = sizeof ss;
        CHECK_OK(getsockname(fd, (struct sockaddr *)&ss, &len));
        socklen_t want = any_addr(FAMS[i], 0, &any);
        CHECK_EQ(len, want);
        CHECK(memcmp(&ss, &any, want) == 0);
        close(fd);
    }
}

TEST(bind_port0_gets_a_port)
{
    for (int i = 0; i < 2; i++)
        for (int t = SOCK_STREAM; t <= SOCK_DGRAM; t++) {
            int fd = bound_sock(FAMS[i], t);
            CHECK_OK(fd);
            struct sockaddr_storage ss;
            socklen_t len = sizeof ss;
            CHECK_OK(getsockname(fd, (struct sockaddr *)&ss, &len));
            CHECK_EQ(len, FAMS[i] == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6));
            CHECK_EQ(ss.ss_family, FAMS[i]);
            CHECK(is_loopback(&ss));
            CHECK_NE(port_of(&ss), 0);
            close(fd);
        }
}

TEST(bind_wildcard_port0)
{
    for (int i = 0; i < 2; i++) {
        int fd = socket(FAMS[i], SOCK_DGRAM, 0);
        struct sockaddr_storage ss;
        socklen_t len = any_addr(FAMS[i], 0, &ss);
        CHECK_OK(bind(fd, (struct sockaddr *)&ss, len));
        struct sockaddr_storage got;
        socklen_t glen = sizeof got;
        CHECK_OK(getsockname(fd, (struct sockaddr *)&got, &glen));
        CHECK_NE(port_of(&got), 0);
        ((struct sockaddr_in *)&ss)->sin_port = ((struct sockaddr_in *)&got)->sin_port;
        CHECK(memcmp(&ss, &got, len) == 0);
        close(fd);
    }
}

TEST(bind_twice_einval)
{
    for (int i = 0; i < 2; i++)
        for (int t = SOCK_STREAM; t <= SOCK_DGRAM; t++) {
            int fd = bound_sock(FAMS[i], t);
            CHECK_OK(fd);
            struct sockaddr_storage ss;
            socklen_t len = loop_addr(FAMS[i], 0, &ss);
            CHECK_ERRNO(bind(fd, (struct sockaddr *)&ss, len), EINVAL);
            close(fd);
        }
}

TEST(bind_address_in_use)
{
    for (int i = 0; i < 2; i++)
        for (int t = SOCK_STREAM; t <= SOCK_DGRAM; t++) {
            int a = bound_sock(FAMS[i], t);
            CHECK_OK(a);
            int b = socket(FAMS[i], t, 0);
            struct sockaddr_storage ss;
            socklen_t len = loop_addr(FAMS[i], local_port(a), &ss);
            CHECK_ERRNO(bind(b, (struct sockaddr *)&ss, len), EADDRINUSE);
            /* b is still unbound and can bind elsewhere */
            len = loop_addr(FAMS[i], 0, &ss);
            CHECK_OK(bind(b, (struct sockaddr *)&ss, len));
            close(a);
            close(b);
        }
}

TEST(bind_listening_port_in_use_despite_reuseaddr)
{
    for (int i = 0; i < 2; i++) {
        int one = 1;
        int a = socket(FAMS[i], SOCK_STREAM, 0), b = socket(FAMS[i], SOCK_STREAM, 0);
        CHECK_OK(setsockopt(a, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one));
        CHECK_OK(setsockopt(b, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one));
        struct sockaddr_storage ss;
        socklen_t len = loop_addr(FAMS[i], 0, &ss);
        CHECK_OK(bind(a, (struct sockaddr *)&ss, len));
        CHECK_OK(listen(a, 1));
        len = loop_addr(FAMS[i], local_port(a), &ss);
        CHECK_ERRNO(bind(b, (struct sockaddr *)&ss, len), EADDRINUSE);
        close(a);
        close(b);
    }
}

/* 127.0.0.1:X and [::1]:X are different addresses, so both can be bound; the wildcards
 * overlap them (the IPv6 one is dual-stack). The port comes from the IPv4 bind; on a shared
 * host someone may already hold [::1] on it, so a clash there is retried with a new port. */
TEST(bind_same_port_on_both_loopbacks)
{
    for (int t = SOCK_STREAM; t <= SOCK_DGRAM; t++) {
        int a = -1, b = -1, e = 0;
        unsigned port = 0;
        struct sockaddr_storage ss;
        socklen_t len;
        for (int attempt = 0; attempt < 5 && b < 0; attempt++) {
            a = bound_sock(AF_INET, t);
            CHECK_OK(a);
            port = local_port(a);
            b = socket(AF_INET6, t, 0);
            len = loop_addr(AF_INET6, port, &ss);
            if (bind(b, (struct sockaddr *)&ss, len) != 0) {
                e = errno;
                close(a);
                close(b);
                b = -1;
            }
        }
        if (b < 0)
            FAIL("bind [::1]:port after 127.0.0.1:port: %s", strerror(e));
        int wild6 = socket(AF_INET6, t, 0), wild4 = socket(AF_INET, t, 0);
        len = any_addr(AF_INET6, port, &ss);
        int r6 = bind(wild6, (struct sockaddr *)&ss, len);
        int e6 = errno;
        len = any_addr(AF_INET, port, &ss);
        int r4 = bind(wild4, (struct sockaddr *)&ss, len);
        int e4 = errno;
        close(wild6);
        close(wild4);
        CHECK(r6 == -1 && e6 == EADDRINUSE);
        CHECK(r4 == -1 && e4 == EADDRINUSE);
        if (t == SOCK_STREAM) {
            /* each listener gets the connections to its own address */
            CHECK_OK(listen(a, 1));
            CHECK_OK(listen(b, 1));
            int c4 = connect_to(AF_INET, SOCK_STREAM, port);
            int c6 = connect_to(AF_INET6, SOCK_STREAM, port);
            CHECK_OK(c4);
            CHECK_OK(c6);
            int s4 = accept(a, NULL, NULL), s6 = accept(b, NULL, NULL);
            CHECK_OK(s4);
            CHECK_OK(s6);
            CHECK_EQ(write(c4, "4", 1), 1);
            CHECK_EQ(write(c6, "6", 1), 1);
            CHECK_EQ(read_byte(s4), '4');
            CHECK_EQ(read_byte(s6), '6');
            close(c4);
            close(c6);
            close(s4);
            close(s6);
        } else {
            /* each socket gets the datagrams sent to its own address */
            int tx = socket(AF_INET6, SOCK_DGRAM, 0);
            len = loop_addr(AF_INET, port, &ss);
            int tx4 = socket(AF_INET, SOCK_DGRAM, 0);
            CHECK_EQ(sendto(tx4, "4", 1, 0, (struct sockaddr *)&ss, len), 1);
            len = loop_addr(AF_INET6, port, &ss);
            CHECK_EQ(sendto(tx, "6", 1, 0, (struct sockaddr *)&ss, len), 1);
            struct pollfd pf[2] = {{a, POLLIN, 0}, {b, POLLIN, 0}};
            CHECK(poll(&pf[0], 1, 5000) == 1 && poll(&pf[1], 1, 5000) == 1);
            char c4 = 0, c6 = 0;
            CHECK_EQ(recv(a, &c4, 1, MSG_DONTWAIT), 1);
            CHECK_EQ(recv(b, &c6, 1, MSG_DONTWAIT), 1);
            CHECK_EQ(c4, '4');
            CHECK_EQ(c6, '6');
            close(tx);
            close(tx4);
        }
        close(a);
        close(b);
    }
}

TEST(udp_reuseaddr_shares_a_port)
{
    for (int i = 0; i < 2; i++) {
        int one = 1;
        int a = socket(FAMS[i], SOCK_DGRAM, 0), b = socket(FAMS[i], SOCK_DGRAM, 0);
        int c = socket(FAMS[i], SOCK_DGRAM, 0);
        CHECK_OK(setsockopt(a, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one));
        CHECK_OK(setsockopt(b, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one));
        struct sockaddr_storage ss;
        socklen_t len = loop_addr(FAMS[i], 0, &ss);
        CHECK_OK(bind(a, (struct sockaddr *)&ss, len));
        len = loop_addr(FAMS[i], local_port(a), &ss);
        int rb = bind(b, (struct sockaddr *)&ss, len);
        int eb = errno;
        int rc = bind(c, (struct sockaddr *)&ss, len); /* without SO_REUSEADDR */
        int ec = errno;
        unsigned pa = local_port(a), pb = local_port(b);
        close(a);
        close(b);
        close(c);
        if (rb != 0)
            FAIL("second SO_REUSEADDR bind: %s", strerror(eb));
        CHECK_EQ(pb, pa);
        CHECK(rc == -1 && ec == EADDRINUSE);
    }
}

/* The side that closes a connection first keeps its port in TIME-WAIT: a new bind there
 * without SO_REUSEADDR fails; with SO_REUSEADDR on both the old and the new socket it works. */
TEST(time_wait_holds_the_port_of_the_side_that_closed_first)
{
    for (int i = 0; i < 2; i++)
        for (int reuse = 0; reuse < 2; reuse++) {
            int l = socket(FAMS[i], SOCK_STREAM, 0);
            CHECK_OK(setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &reuse, sizeof reuse));
            struct sockaddr_storage ss;
            socklen_t len = loop_addr(FAMS[i], 0, &ss);
            CHECK_OK(bind(l, (struct sockaddr *)&ss, len));
            CHECK_OK(listen(l, 1));
            unsigned port = local_port(l);
            int c = connect_to(FAMS[i], SOCK_STREAM, port);
            CHECK_OK(c);
            int s = accept(l, NULL, NULL);
            CHECK_OK(s);
            close(s);                   /* the server closes first ... */
            CHECK_EQ(read_byte(c), -1); /* ... the client sees end of file ... */
            close(c);                   /* ... and closes too */
            close(l);
            int one = 1;
            int plain = socket(FAMS[i], SOCK_STREAM, 0), reusing = socket(FAMS[i], SOCK_STREAM, 0);
            CHECK_OK(setsockopt(reusing, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one));
            len = loop_addr(FAMS[i], port, &ss);
            int rp = bind(plain, (struct sockaddr *)&ss, len);
            int ep = errno;
            int rr = bind(reusing, (struct sockaddr *)&ss, len);
            int er = errno;
            close(plain);
            close(reusing);
            CHECK(rp == -1 && ep == EADDRINUSE);
            if (reuse)
                CHECK_EQ(rr, 0);
            else
                CHECK(rr == -1 && er == EADDRINUSE);
        }
}

TEST(bind_bad_addresses)
{
    struct sockaddr_in in4;
    memset(&in4, 0, sizeof in4);
    in4.sin_family = AF_INET;
    in4.sin_addr.s_addr = htonl(0xc0000201); /* 192.0.2.1, TEST-NET-1: not ours */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    CHECK_ERRNO(bind(fd, (struct sockaddr *)&in4, sizeof in4), EADDRNOTAVAIL);
    CHECK_ERRNO(bind(fd, (struct sockaddr *)&in4, sizeof in4 - 1), EINVAL);
    struct sockaddr_storage ss;
    socklen_t len = loop_addr(AF_INET6, 0, &ss);
    CHECK_ERRNO(bind(fd, (struct sockaddr *)&ss, len), EAFNOSUPPORT);
    close(fd);

    fd = socket(AF_INET6, SOCK_DGRAM, 0);
    len = loop_addr(AF_INET6, 0, &ss);
    CHECK_ERRNO(bind(fd, (struct sockaddr *)&ss, 20), EINVAL);
    len = loop_addr(AF_INET, 0, &ss);
    CHECK_ERRNO(bind(fd, (struct sockaddr *)&ss, sizeof(struct sockaddr_in6)), EAFNOSUPPORT);
    close(fd);
}

/* ---- TCP ---- */

TEST(tcp_connect_accept_roundtrip)
{
    for (int i = 0; i < 2; i++) {
        int f = FAMS[i];
        int l = listener(f);
        CHECK_OK(l);
        unsigned port = local_port(l);
        int c = connect_to(f, SOCK_STREAM, port);
        CHECK_OK(c);
        struct sockaddr_storage from, cname, cpeer, sname;
        socklen_t flen = sizeof from, clen = sizeof cname, cplen = sizeof cpeer, slen = sizeof sname;
        int s = accept(l, (struct sockaddr *)&from, &flen);
        CHECK_OK(s);
        CHECK_OK(getsockname(c, (struct sockaddr *)&cname, &clen));
        CHECK_OK(getpeername(c, (struct sockaddr *)&cpeer, &cplen));
        CHECK_OK(getsockname(s, (struct sockaddr *)&sname, &slen));
        /* the client's name is what accept reported; the server's what the client sees */
        CHECK_EQ(flen, clen);
        CHECK(memcmp(&from, &cname, clen) == 0);
        CHECK_EQ(cplen, slen);
        CHECK(memcmp(&cpeer, &sname, slen) == 0);
        CHECK(is_loopback(&cname));
        CHECK(is_loopback(&sname));
        CHECK_EQ(port_of(&sname), port);
        CHECK_NE(port_of(&cname), 0);
        CHECK_NE(port_of(&cname), port);
        CHECK_EQ(write(c, "ping", 4), 4);
        char buf[8];
        CHECK_EQ(read(s, buf, sizeof buf), 4);
        CHECK(memcmp(buf, "ping", 4) == 0);
        CHECK_EQ(send(s, "pong!", 5, 0), 5);
        CHECK_EQ(recv(c, buf, sizeof buf, 0), 5);
        CHECK(memcmp(buf, "pong!", 5) == 0);
        CHECK_EQ(sockopt_int(s, SOL_SOCKET, SO_ACCEPTCONN), 0);
        CHECK_EQ(sockopt_int(s, SOL_SOCKET, SO_DOMAIN), f);
        close(c);
        close(s);
        close(l);
    }
}

TEST(tcp_connect_to_wildcard_listener)
{
    for (int i = 0; i < 2; i++) {
        int f = FAMS[i];
        int l = socket(f, SOCK_STREAM, 0);
        struct sockaddr_storage ss;
        socklen_t len = any_addr(f, 0, &ss);
        CHECK_OK(bind(l, (struct sockaddr *)&ss, len));
        CHECK_OK(listen(l, 2));
        int c = connect_to(f, SOCK_STREAM, local_port(l));
        CHECK_OK(c);
        int s = accept(l, NULL, NULL);
        CHECK_OK(s);
        len = sizeof ss;
        CHECK_OK(getsockname(s, (struct sockaddr *)&ss, &len));
        CHECK(is_loopback(&ss)); /* the accepted socket has the concrete address */
        close(c);
        close(s);
        close(l);
    }
}

TEST(tcp_unconnected_errors)
{
    for (int i = 0; i < 2; i++) {
        int fd = socket(FAMS[i], SOCK_STREAM, 0);
        struct sockaddr_storage ss;
        socklen_t len = sizeof ss;
        CHECK_ERRNO(getpeername(fd, (struct sockaddr *)&ss, &len), ENOTCONN);
        CHECK_ERRNO(accept(fd, NULL, NULL), EINVAL);
        char c;
        CHECK_ERRNO(recv(fd, &c, 1, 0), ENOTCONN);
        CHECK_ERRNO(shutdown(fd, SHUT_RDWR), ENOTCONN);
        close(fd);
    }
}

TEST(tcp_connect_refused)
{
    for (int i = 0; i < 2; i++) {
        /* a bound, non-listening socket holds the port so nobody else can listen there */
        int holder = bound_sock(FAMS[i], SOCK_STREAM);
        CHECK_OK(holder);
        CHECK_EQ(connect_to(FAMS[i], SOCK_STREAM, local_port(holder)), -1);
        CHECK_EQ(errno, ECONNREFUSED);
        close(holder);
    }
}

TEST(tcp_connect_twice_eisconn)
{
    int c, s;
    CHECK_OK(tcp_pair(AF_INET, &c, &s));
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    CHECK_OK(getpeername(c, (struct sockaddr *)&ss, &len));
    CHECK_ERRNO(connect(c, (struct sockaddr *)&ss, len), EISCONN);
    close(c);
    close(s);
}

TEST(tcp_nonblocking_connect)
{
    for (int i = 0; i < 2; i++) {
        int l = listener(FAMS[i]);
        CHECK_OK(l);
        int c = socket(FAMS[i], SOCK_STREAM | SOCK_NONBLOCK, 0);
        struct sockaddr_storage ss;
        socklen_t len = loop_addr(FAMS[i], local_port(l), &ss);
        errno = 0;
        /* EINPROGRESS even when the loopback could finish at once */
        CHECK_ERRNO(connect(c, (struct sockaddr *)&ss, len), EINPROGRESS);
        CHECK(poll1(c, POLLOUT, 5000) & POLLOUT);
        CHECK_EQ(sockopt_int(c, SOL_SOCKET, SO_ERROR), 0);
        struct sockaddr_storage peer;
        socklen_t plen = sizeof peer;
        CHECK_OK(getpeername(c, (struct sockaddr *)&peer, &plen));
        CHECK_EQ(port_of(&peer), local_port(l));
        int s = accept(l, NULL, NULL);
        CHECK_OK(s);
        CHECK_EQ(write(c, "x", 1), 1);
        char b;
        CHECK_EQ(read(s, &b, 1), 1);
        close(s);
        close(c);
        close(l);
    }
}

TEST(tcp_nonblocking_connect_refused)
{
    for (int i = 0; i < 2; i++) {
        int holder = bound_sock(FAMS[i], SOCK_STREAM);
        CHECK_OK(holder);
        int c = socket(FAMS[i], SOCK_STREAM | SOCK_NONBLOCK, 0);
        struct sockaddr_storage ss;
        socklen_t len = loop_addr(FAMS[i], local_port(holder), &ss);
        CHECK_ERRNO(connect(c, (struct sockaddr *)&ss, len), EINPROGRESS);
        /* the failure shows as POLLERR and then in SO_ERROR (read once) */
        CHECK(poll1(c, POLLOUT, 5000) & POLLERR);
        CHECK_EQ(sockopt_int(c, SOL_SOCKET, SO_ERROR), ECONNREFUSED);
        CHECK_EQ(sockopt_int(c, SOL_SOCKET, SO_ERROR), 0);
        close(c);
        close(holder);
    }
}

TEST(tcp_accept4_flags)
{
    for (int i = 0; i < 2; i++) {
        int l = listener(FAMS[i]);
        CHECK_OK(l);
        int c1 = connect_to(FAMS[i], SOCK_STREAM, local_port(l));
        int c2 = connect_to(FAMS[i], SOCK_STREAM, local_port(l));
        CHECK(c1 >= 0 && c2 >= 0);
        int a = accept4(l, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        CHECK_OK(a);
        CHECK_EQ(fcntl(a, F_GETFL) & O_NONBLOCK, O_NONBLOCK);
        CHECK_EQ(fcntl(a, F_GETFD), FD_CLOEXEC);
        char b;
        CHECK_ERRNO(read(a, &b, 1), EAGAIN);
        /* plain accept: no flags, even from a nonblocking listener */
        CHECK_OK(fcntl(l, F_SETFL, O_NONBLOCK));
        int p = accept4(l, NULL, NULL, 0);
        CHECK_OK(p);
        CHECK_EQ(fcntl(p, F_GETFL) & O_NONBLOCK, 0);
        CHECK_EQ(fcntl(p, F_GETFD), 0);
        /* the raw syscall: older musl retries a failed accept4 as accept */
        CHECK_ERRNO(syscall(SYS_accept4, l, NULL, NULL, 0x1234), EINVAL);
        close(a);
        close(p);
        close(c1);
        close(c2);
        close(l);
    }
}

TEST(tcp_accept_nonblocking_empty_eagain)
{
    for (int i = 0; i < 2; i++) {
        int l = listener(FAMS[i]);
        CHECK_OK(l);
        CHECK_OK(fcntl(l, F_SETFL, O_NONBLOCK));
        CHECK_ERRNO(accept(l, NULL, NULL), EAGAIN);
        close(l);
    }
}

TEST(tcp_poll_listener_pending)
{
    for (int i = 0; i < 2; i++) {
        int l = listener(FAMS[i]);
        CHECK_OK(l);
        CHECK_EQ(poll1(l, POLLIN, 0), 0);
        int c = connect_to(FAMS[i], SOCK_STREAM, local_port(l));
        CHECK_OK(c);
        CHECK_EQ(poll1(l, POLLIN, 5000), POLLIN);
        int s = accept(l, NULL, NULL);
        CHECK_OK(s);
        CHECK_EQ(poll1(l, POLLIN, 0), 0);
        close(s);
        close(c);
        close(l);
    }
}

/* Connections wait on a listener up to its backlog before any accept (a server that accepts
 * in a thread started after its clients connect, as Go's net/http in one process). */
TEST(tcp_backlog_holds_more_than_sixteen_pending)
{
    enum { N = 24 };
    for (int i = 0; i < 2; i++) {
        int l = bound_sock(FAMS[i], SOCK_STREAM);
        CHECK_OK(l);
        CHECK_OK(listen(l, 64));
        int c[N], s[N];
        for (int k = 0; k < N; k++) {
            c[k] = connect_to(FAMS[i], SOCK_STREAM, local_port(l));
            CHECK_OK(c[k]);
        }
        for (int k = 0; k < N; k++) {
            s[k] = accept(l, NULL, NULL);
            CHECK_OK(s[k]);
        }
        /* each accepted socket is one of the clients' connections */
        for (int k = 0; k < N; k++)
            CHECK_EQ(write(c[k], &k, sizeof k), (ssize_t)sizeof k);
        int seen = 0;
        for (int k = 0; k < N; k++) {
            int v = -1;
            CHECK_EQ(read(s[k], &v, sizeof v), (ssize_t)sizeof v);
            if (v >= 0 && v < N)
                seen |= 1 << v;
        }
        CHECK_EQ(seen, (1 << N) - 1);
        for (int k = 0; k < N; k++) {
            close(c[k]);
            close(s[k]);
        }
        close(l);
    }
}

TEST(tcp_read_eof_after_peer_close)
{
    for (int i = 0; i < 2; i++) {
        int c, s;
        CHECK_OK(tcp_pair(FAMS[i], &c, &s));
        CHECK_EQ(write(s, "bye", 3), 3);
        close(s);
        char buf[8];
        CHECK_EQ(read(c, buf, sizeof buf), 3);
        CHECK_EQ(read(c, buf, sizeof buf), 0);
        CHECK_EQ(read(c, buf, sizeof buf), 0);
        CHECK(poll1(c, POLLIN, 0) & POLLIN);
        close(c);
    }
}

TEST(tcp_shutdown_wr_half_close)
{
    for (int i = 0; i < 2; i++) {
        int c, s;
        CHECK_OK(tcp_pair(FAMS[i], &c, &s));
        CHECK_OK(shutdown(c, SHUT_WR));
        char buf[8];
        CHECK_EQ(read(s, buf, sizeof buf), 0);
        CHECK(poll1(s, POLLIN | POLLRDHUP, 0) & POLLRDHUP);
        /* the other direction still works */
        CHECK_EQ(write(s, "back", 4), 4);
        CHECK_EQ(read(c, buf, sizeof buf), 4);
        CHECK(memcmp(buf, "back", 4) == 0);
        close(s);
        CHECK_EQ(read(c, buf, sizeof buf), 0);
        close(c);
    }
}

TEST(tcp_write_after_peer_closed_epipe)
{
    signal(SIGPIPE, SIG_IGN);
    for (int i = 0; i < 2; i++) {
        int c, s;
        CHECK_OK(tcp_pair(FAMS[i], &c, &s));
        close(s);
        char b;
        CHECK_EQ(read(c, &b, 1), 0);
        /* the first write reaches a closed socket, which answers with a reset */
        CHECK_EQ(write(c, "x", 1), 1);
        CHECK(poll1(c, 0, 5000) & POLLHUP);
        CHECK_ERRNO(write(c, "y", 1), EPIPE);
        close(c);
    }
    signal(SIGPIPE, SIG_DFL);
}

TEST(tcp_large_transfer_through_child)
{
    enum { SIZE = 1 << 20 };
    int c, s;
    CHECK_OK(tcp_pair(AF_INET6, &c, &s));
    pid_t pid = fork();
    CHECK_OK(pid);
    if (pid == 0) {
        close(s);
        static unsigned char out[SIZE];
        for (int k = 0; k < SIZE; k++)
            out[k] = (unsigned char)(k * 7 + (k >> 12));
        size_t off = 0;
        while (off < SIZE) {
            ssize_t w = write(c, out + off, SIZE - off);
            CCHECK(w > 0);
            off += (size_t)w;
        }
        _exit(0);
    }
    close(c);
    static unsigned char in[SIZE + 1];
    size_t got = 0;
    for (;;) {
        ssize_t r = read(s, in + got, sizeof in - got);
        if (r <= 0) {
            CHECK_EQ(r, 0);
            break;
        }
        got += (size_t)r;
    }
    close(s);
    CHECK_CHILD_OK(pid);
    CHECK_EQ(got, SIZE);
    for (int k = 0; k < SIZE; k++)
        if (in[k] != (unsigned char)(k * 7 + (k >> 12)))
            FAIL("byte %d differs", k);
}

TEST(tcp_ipv4_mapped_ipv6_client)
{
    int l = listener(AF_INET);
    CHECK_OK(l);
    struct sockaddr_in6 a;
    memset(&a, 0, sizeof a);
    a.sin6_family = AF_INET6;
    a.sin6_port = htons((uint16_t)local_port(l));
    CHECK_EQ(inet_pton(AF_INET6, "::ffff:127.0.0.1", &a.sin6_addr), 1);
    int c = socket(AF_INET6, SOCK_STREAM, 0);
    CHECK_OK(connect(c, (struct sockaddr *)&a, sizeof a));
    struct sockaddr_in from;
    socklen_t flen = sizeof from;
    int s = accept(l, (struct sockaddr *)&from, &flen);
    CHECK_OK(s);
    CHECK_EQ(from.sin_family, AF_INET);
    CHECK_EQ(from.sin_addr.s_addr, htonl(INADDR_LOOPBACK));
    struct sockaddr_in6 peer, me;
    socklen_t plen = sizeof peer, mlen = sizeof me;
    CHECK_OK(getpeername(c, (struct sockaddr *)&peer, &plen));
    CHECK_EQ(plen, sizeof peer);
    CHECK_EQ(peer.sin6_family, AF_INET6);
    CHECK(IN6_IS_ADDR_V4MAPPED(&peer.sin6_addr));
    CHECK(memcmp(&peer.sin6_addr, &a.sin6_addr, 16) == 0);
    CHECK_OK(getsockname(c, (struct sockaddr *)&me, &mlen));
    CHECK(IN6_IS_ADDR_V4MAPPED(&me.sin6_addr));
    CHECK_EQ(ntohs(me.sin6_port), ntohs(from.sin_port));
    close(c);
    close(s);
    close(l);
}

TEST(tcp_ipv6_connect_to_ipv4_only_port_refused)
{
    int l = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_storage ss;
    socklen_t len = any_addr(AF_INET, 0, &ss);
    CHECK_OK(bind(l, (struct sockaddr *)&ss, len));
    CHECK_OK(listen(l, 2));
    CHECK_EQ(connect_to(AF_INET6, SOCK_STREAM, local_port(l)), -1);
    CHECK_EQ(errno, ECONNREFUSED);
    close(l);
}

/* ---- UDP ---- */

TEST(udp_sendto_recvfrom_sender_address)
{
    for (int i = 0; i < 2; i++) {
        int a = bound_sock(FAMS[i], SOCK_DGRAM), b = bound_sock(FAMS[i], SOCK_DGRAM);
        CHECK(a >= 0 && b >= 0);
        struct sockaddr_storage to, from, aname;
        socklen_t tlen = loop_addr(FAMS[i], local_port(b), &to), flen = sizeof from, alen = sizeof aname;
        CHECK_EQ(sendto(a, "hello", 5, 0, (struct sockaddr *)&to, tlen), 5);
        char buf[16];
        CHECK_EQ(recvfrom(b, buf, sizeof buf, 0, (struct sockaddr *)&from, &flen), 5);
        CHECK(memcmp(buf, "hello", 5) == 0);
        CHECK_OK(getsockname(a, (struct sockaddr *)&aname, &alen));
        CHECK_EQ(flen, alen);
        CHECK(memcmp(&from, &aname, alen) == 0);
        /* reply to the address we got */
        CHECK_EQ(sendto(b, "re", 2, 0, (struct sockaddr *)&from, flen), 2);
        CHECK_EQ(recv(a, buf, sizeof buf, 0), 2);
        close(a);
        close(b);
    }
}

TEST(udp_unbound_sendto_autobinds)
{
    for (int i = 0; i < 2; i++) {
        int b = bound_sock(FAMS[i], SOCK_DGRAM);
        int a = socket(FAMS[i], SOCK_DGRAM, 0);
        struct sockaddr_storage to, from;
        socklen_t tlen = loop_addr(FAMS[i], local_port(b), &to), flen = sizeof from;
        CHECK_EQ(sendto(a, "z", 1, 0, (struct sockaddr *)&to, tlen), 1);
        CHECK_NE(local_port(a), 0);
        char c;
        CHECK_EQ(recvfrom(b, &c, 1, 0, (struct sockaddr *)&from, &flen), 1);
        CHECK_EQ(port_of(&from), local_port(a));
        CHECK(is_loopback(&from));
        close(a);
        close(b);
    }
}

TEST(udp_datagram_boundaries)
{
    for (int i = 0; i < 2; i++) {
        int b = bound_sock(FAMS[i], SOCK_DGRAM);
        int a = connect_to(FAMS[i], SOCK_DGRAM, local_port(b));
        CHECK(a >= 0 && b >= 0);
        CHECK_EQ(send(a, "one", 3, 0), 3);
        CHECK_EQ(send(a, "", 0, 0), 0);
        CHECK_EQ(send(a, "three", 5, 0), 5);
        char buf[32];
        CHECK_EQ(recv(b, buf, sizeof buf, 0), 3);
        CHECK_EQ(recv(b, buf, sizeof buf, 0), 0);
        CHECK_EQ(recv(b, buf, sizeof buf, 0), 5);
        CHECK(memcmp(buf, "three", 5) == 0);
        CHECK_ERRNO(recv(b, buf, sizeof buf, MSG_DONTWAIT), EAGAIN);
        close(a);
        close(b);
    }
}

TEST(udp_truncation)
{
    for (int i = 0; i < 2; i++) {
        int b = bound_sock(FAMS[i], SOCK_DGRAM);
        int a = connect_to(FAMS[i], SOCK_DGRAM, local_port(b));
        CHECK(a >= 0 && b >= 0);
        char big[1000];
        memset(big, 'q', sizeof big);
        CHECK_EQ(send(a, big, sizeof big, 0), sizeof big);
        CHECK_EQ(send(a, big, sizeof big, 0), sizeof big);
        CHECK_EQ(send(a, "next", 4, 0), 4);
        char buf[16];
        /* the rest of a datagram is lost; MSG_TRUNC returns the real length */
        CHECK_EQ(recv(b, buf, 10, 0), 10);
        CHECK_EQ(recv(b, buf, 10, MSG_TRUNC), 1000);
        struct iovec iov = {buf, 4};
        struct msghdr m;
        memset(&m, 0, sizeof m);
        m.msg_iov = &iov;
        m.msg_iovlen = 1;
        CHECK_EQ(recvmsg(b, &m, 0), 4);
        CHECK_EQ(m.msg_flags & MSG_TRUNC, 0);
        CHECK(memcmp(buf, "next", 4) == 0);
        CHECK_EQ(send(a, big, sizeof big, 0), sizeof big);
        iov.iov_len = 8;
        CHECK_EQ(recvmsg(b, &m, 0), 8);
        CHECK_EQ(m.msg_flags & MSG_TRUNC, MSG_TRUNC);
        close(a);
        close(b);
    }
}

TEST(udp_msg_peek_and_fionread)
{
    for (int i = 0; i < 2; i++) {
        int b = bound_sock(FAMS[i], SOCK_DGRAM);
        int a = connect_to(FAMS[i], SOCK_DGRAM, local_port(b));
        CHECK(a >= 0 && b >= 0);
        int n = -1;
        CHECK_OK(ioctl(b, FIONREAD, &n));
        CHECK_EQ(n, 0);
        CHECK_EQ(send(a, "first", 5, 0), 5);
        CHECK_EQ(send(a, "second!", 7, 0), 7);
        CHECK_OK(ioctl(b, FIONREAD, &n));
        CHECK_EQ(n, 5); /* the size of the next datagram */
        char buf[16];
        struct sockaddr_storage from;
        socklen_t flen = sizeof from;
        CHECK_EQ(recvfrom(b, buf, sizeof buf, MSG_PEEK, (struct sockaddr *)&from, &flen), 5);
        CHECK_EQ(port_of(&from), local_port(a));
        CHECK_EQ(recv(b, buf, 3, MSG_PEEK), 3);
        CHECK_EQ(recv(b, buf, sizeof buf, 0), 5);
        CHECK(memcmp(buf, "first", 5) == 0);
        CHECK_OK(ioctl(b, FIONREAD, &n));
        CHECK_EQ(n, 7);
        CHECK_EQ(recv(b, buf, sizeof buf, 0), 7);
        close(a);
        close(b);
    }
}

TEST(udp_connect_names_and_send_recv)
{
    for (int i = 0; i < 2; i++) {
        int b = bound_sock(FAMS[i], SOCK_DGRAM);
        int a = socket(FAMS[i], SOCK_DGRAM, 0);
        struct sockaddr_storage to, peer, me;
        socklen_t tlen = loop_addr(FAMS[i], local_port(b), &to), plen = sizeof peer, mlen = sizeof me;
        CHECK_OK(connect(a, (struct sockaddr *)&to, tlen));
        CHECK_OK(getpeername(a, (struct sockaddr *)&peer, &plen));
        CHECK_EQ(plen, tlen);
        CHECK(memcmp(&peer, &to, tlen) == 0);
        /* connect binds to a port and the source address of the route */
        CHECK_OK(getsockname(a, (struct sockaddr *)&me, &mlen));
        CHECK(is_loopback(&me));
        CHECK_NE(port_of(&me), 0);
        CHECK_EQ(write(a, "abc", 3), 3);
        char buf[8];
        struct sockaddr_storage from;
        socklen_t flen = sizeof from;
        CHECK_EQ(recvfrom(b, buf, sizeof buf, 0, (struct sockaddr *)&from, &flen), 3);
        CHECK_EQ(port_of(&from), port_of(&me));
        CHECK_EQ(sendto(b, "xyz", 3, 0, (struct sockaddr *)&from, flen), 3);
        CHECK_EQ(read(a, buf, sizeof buf), 3);
        CHECK(memcmp(buf, "xyz", 3) == 0);
        close(a);
        close(b);
    }
}

TEST(udp_connected_ignores_other_senders)
{
    for (int i = 0; i < 2; i++) {
        int peer = bound_sock(FAMS[i], SOCK_DGRAM), other = bound_sock(FAMS[i], SOCK_DGRAM);
        int a = connect_to(FAMS[i], SOCK_DGRAM, local_port(peer));
        CHECK(a >= 0 && peer >= 0 && other >= 0);
        struct sockaddr_storage to;
        socklen_t tlen = loop_addr(FAMS[i], local_port(a), &to);
        CHECK_EQ(sendto(other, "bad", 3, 0, (struct sockaddr *)&to, tlen), 3);
        CHECK_EQ(sendto(peer, "good", 4, 0, (struct sockaddr *)&to, tlen), 4);
        char buf[8];
        CHECK_EQ(recv(a, buf, sizeof buf, MSG_PEEK), 4);
        CHECK(memcmp(buf, "good", 4) == 0);
        CHECK_EQ(recv(a, buf, sizeof buf, 0), 4);
        CHECK(memcmp(buf, "good", 4) == 0);
        CHECK_ERRNO(recv(a, buf, sizeof buf, MSG_DONTWAIT), EAGAIN);
        close(a);
        close(peer);
        close(other);
    }
}

TEST(udp_disconnect_with_af_unspec)
{
    for (int i = 0; i < 2; i++) {
        int b = bound_sock(FAMS[i], SOCK_DGRAM);
        int a = connect_to(FAMS[i], SOCK_DGRAM, local_port(b));
        CHECK(a >= 0 && b >= 0);
        struct sockaddr_storage un;
        memset(&un, 0, sizeof un);
        un.ss_family = AF_UNSPEC;
        CHECK_OK(connect(a, (struct sockaddr *)&un, sizeof un));
        struct sockaddr_storage ss;
        socklen_t len = sizeof ss;
        CHECK_ERRNO(getpeername(a, (struct sockaddr *)&ss, &len), ENOTCONN);
        CHECK_ERRNO(send(a, "x", 1, 0), EDESTADDRREQ);
        close(a);
        close(b);
    }
}

/* A disconnect gives back a port bind() did not name (autobound by connect, or bound as port
 * 0), keeping a bound address; a named port stays. */
TEST(udp_disconnect_releases_an_unnamed_port)
{
    for (int i = 0; i < 2; i++) {
        int peer = bound_sock(FAMS[i], SOCK_DGRAM);
        CHECK_OK(peer);
        struct sockaddr_storage un, ss;
        memset(&un, 0, sizeof un);
        un.ss_family = AF_UNSPEC;
        /* autobound by connect: back to the wildcard, port 0 */
        int a = connect_to(FAMS[i], SOCK_DGRAM, local_port(peer));
        CHECK_OK(a);
        CHECK(local_port(a) != 0);
        CHECK_OK(connect(a, (struct sockaddr *)&un, sizeof un));
        socklen_t len = sizeof ss;
        CHECK_OK(getsockname(a, (struct sockaddr *)&ss, &len));
        CHECK_EQ(port_of(&ss), 0);
        CHECK(!is_loopback(&ss));
        /* bound to the loopback with port 0: the address stays, the port goes */
        int b = bound_sock(FAMS[i], SOCK_DGRAM);
        CHECK_OK(b);
        len = loop_addr(FAMS[i], local_port(peer), &ss);
        CHECK_OK(connect(b, (struct sockaddr *)&ss, len));
        CHECK_OK(connect(b, (struct sockaddr *)&un, sizeof un));
        len = sizeof ss;
        CHECK_OK(getsockname(b, (struct sockaddr *)&ss, &len));
        CHECK_EQ(port_of(&ss), 0);
        CHECK(is_loopback(&ss));
        /* a named port stays */
        int c = socket(FAMS[i], SOCK_DGRAM, 0);
        len = loop_addr(FAMS[i], local_port(peer), &ss);
        int d = bound_sock(FAMS[i], SOCK_DGRAM);
        unsigned named = local_port(d);
        close(d);
        socklen_t blen = loop_addr(FAMS[i], named, &ss);
        int rb = bind(c, (struct sockaddr *)&ss, blen);
        if (rb == 0) {
            len = loop_addr(FAMS[i], local_port(peer), &ss);
            CHECK_OK(connect(c, (struct sockaddr *)&ss, len));
            CHECK_OK(connect(c, (struct sockaddr *)&un, sizeof un));
            CHECK_EQ(local_port(c), named);
        }
        close(a);
        close(b);
        close(c);
        close(peer);
    }
}

TEST(udp_send_unconnected_edestaddrreq)
{
    for (int i = 0; i < 2; i++) {
        int a = bound_sock(FAMS[i], SOCK_DGRAM);
        CHECK_OK(a);
        CHECK_ERRNO(send(a, "x", 1, 0), EDESTADDRREQ);
        CHECK_ERRNO(sendto(a, "x", 1, 0, NULL, 0), EDESTADDRREQ);
        CHECK_ERRNO(write(a, "x", 1), EDESTADDRREQ);
        struct sockaddr_storage ss;
        socklen_t len = sizeof ss;
        CHECK_ERRNO(getpeername(a, (struct sockaddr *)&ss, &len), ENOTCONN);
        close(a);
    }
}

TEST(udp_listen_accept_unsupported)
{
    for (int i = 0; i < 2; i++) {
        int a = bound_sock(FAMS[i], SOCK_DGRAM);
        CHECK_OK(a);
        CHECK_ERRNO(listen(a, 1), EOPNOTSUPP);
        CHECK_ERRNO(accept(a, NULL, NULL), EOPNOTSUPP);
        close(a);
    }
}

TEST(udp_poll_readable)
{
    for (int i = 0; i < 2; i++) {
        int b = bound_sock(FAMS[i], SOCK_DGRAM);
        int a = connect_to(FAMS[i], SOCK_DGRAM, local_port(b));
        CHECK(a >= 0 && b >= 0);
        CHECK_EQ(poll1(b, POLLIN | POLLOUT, 0), POLLOUT);
        CHECK_EQ(send(a, "p", 1, 0), 1);
        CHECK_EQ(poll1(b, POLLIN, 5000), POLLIN);
        char c;
        CHECK_EQ(recv(b, &c, 1, 0), 1);
        CHECK_EQ(poll1(b, POLLIN, 0), 0);
        close(a);
        close(b);
    }
}
