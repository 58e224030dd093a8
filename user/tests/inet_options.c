/* inet_options.c - the IP, IPv6 and TCP socket options as Linux has them: defaults, ranges,
 * errors (EINVAL, ENOPROTOOPT, ENOTCONN, ENOENT), values read back; IP_TOS keeping a TCP
 * socket's ECN bits; IPV6_V6ONLY (fixed once bound, and its effect: an IPv4 datagram or
 * connection does not reach a v6-only socket, the port stays free for IPv4); TCP_MAXSEG before
 * and after a connection; TCP_CONGESTION names; SO_LINGER with a zero timeout resets the
 * connection; SO_SNDLOWAT cannot be set.
 * Every port is chosen by the kernel (bind to port 0), so the test can share a host.
 * Syscalls: socket, bind, listen, connect, accept, getsockname, send, sendto, recv,
 * getsockopt, setsockopt, close.
 */
#define _GNU_SOURCE
#define TEST_MAIN
#include "test.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>

static int geti(int fd, int level, int name)
{
    int v = -12345;
    socklen_t len = sizeof v;
    if (getsockopt(fd, level, name, &v, &len) != 0)
        return -12345;
    return v;
}

static int seti(int fd, int level, int name, int v)
{
    return setsockopt(fd, level, name, &v, sizeof v);
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

static socklen_t v4(unsigned port, struct sockaddr_in *a)
{
    memset(a, 0, sizeof *a);
    a->sin_family = AF_INET;
    a->sin_port = htons((uint16_t)port);
    a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return sizeof *a;
}

static socklen_t v6(unsigned port, const struct in6_addr *ip, struct sockaddr_in6 *a)
{
    memset(a, 0, sizeof *a);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons((uint16_t)port);
    a->sin6_addr = *ip;
    return sizeof *a;
}

TEST(ip_level_options)
{
    int types[2] = {SOCK_DGRAM, SOCK_STREAM};
    for (int i = 0; i < 2; i++) {
        int s = socket(AF_INET, types[i], 0);
        CHECK_EQ(geti(s, IPPROTO_IP, IP_TOS), 0);
        CHECK_OK(seti(s, IPPROTO_IP, IP_TOS, 0x13));
        /* A stream socket keeps its own ECN bits. */
        CHECK_EQ(geti(s, IPPROTO_IP, IP_TOS), types[i] == SOCK_STREAM ? 0x10 : 0x13);
        CHECK_EQ(geti(s, IPPROTO_IP, IP_TTL), 64);
        CHECK_ERRNO(seti(s, IPPROTO_IP, IP_TTL, 0), EINVAL);
        CHECK_ERRNO(seti(s, IPPROTO_IP, IP_TTL, 256), EINVAL);
        CHECK_OK(seti(s, IPPROTO_IP, IP_TTL, 7));
        CHECK_EQ(geti(s, IPPROTO_IP, IP_TTL), 7);
        CHECK_OK(seti(s, IPPROTO_IP, IP_TTL, -1));
        CHECK_EQ(geti(s, IPPROTO_IP, IP_TTL), 64);
        int flags[4] = {IP_PKTINFO, IP_RECVTOS, IP_RECVTTL, IP_RECVERR};
        for (int k = 0; k < 4; k++) {
            CHECK_EQ(geti(s, IPPROTO_IP, flags[k]), 0);
            CHECK_OK(seti(s, IPPROTO_IP, flags[k], 5));
            CHECK_EQ(geti(s, IPPROTO_IP, flags[k]), 1);
        }
        /* These take a single byte too. */
        unsigned char one = 1;
        CHECK_OK(setsockopt(s, IPPROTO_IP, IP_RECVORIGDSTADDR, &one, 1));
        CHECK_EQ(geti(s, IPPROTO_IP, IP_RECVORIGDSTADDR), 1);
        CHECK_ERRNO(seti(s, IPPROTO_IP, IP_MTU_DISCOVER, 9), EINVAL);
        CHECK_OK(seti(s, IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_DO));
        CHECK_EQ(geti(s, IPPROTO_IP, IP_MTU_DISCOVER), IP_PMTUDISC_DO);
        CHECK_ERRNO(geti(s, IPPROTO_IP, IP_MTU) == -12345 ? -1 : 0, ENOTCONN);
        CHECK_ERRNO(seti(s, IPPROTO_IP, IP_HDRINCL, 1), ENOPROTOOPT);
        CHECK_ERRNO(seti(s, IPPROTO_IP, 99, 1), ENOPROTOOPT);
        CHECK_ERRNO(seti(s, IPPROTO_IPV6, IPV6_V6ONLY, 1), ENOPROTOOPT);
        close(s);
    }
    int u = socket(AF_INET, SOCK_DGRAM, 0);
    CHECK_EQ(geti(u, IPPROTO_IP, IP_MULTICAST_TTL), 1);
    unsigned char ttl = 5;
    CHECK_OK(setsockopt(u, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, 1));
    CHECK_EQ(geti(u, IPPROTO_IP, IP_MULTICAST_TTL), 5);
    CHECK_ERRNO(seti(u, IPPROTO_IP, IP_MULTICAST_TTL, 256), EINVAL);
    CHECK_EQ(geti(u, IPPROTO_IP, IP_MULTICAST_LOOP), 1);
    CHECK_OK(seti(u, IPPROTO_IP, IP_MULTICAST_LOOP, 0));
    CHECK_EQ(geti(u, IPPROTO_IP, IP_MULTICAST_LOOP), 0);
    CHECK_ERRNO(seti(u, IPPROTO_TCP, TCP_NODELAY, 1), ENOPROTOOPT);
    struct sockaddr_in a;
    CHECK_OK(connect(u, (struct sockaddr *)&a, v4(9, &a)));
    /* The loopback's MTU (65536 unless the host changed lo's), at most IPv4's 65535. */
    int mtu = 65536;
    FILE *f = fopen("/sys/class/net/lo/mtu", "r");
    if (f) {
        if (fscanf(f, "%d", &mtu) != 1)
            mtu = 65536;
        fclose(f);
    }
    CHECK_EQ(geti(u, IPPROTO_IP, IP_MTU), mtu < 65535 ? mtu : 65535);
    close(u);
}

TEST(ipv6_level_options)
{
    int types[2] = {SOCK_DGRAM, SOCK_STREAM};
    for (int i = 0; i < 2; i++) {
        int s = socket(AF_INET6, types[i], 0);
        CHECK_EQ(geti(s, IPPROTO_IPV6, IPV6_UNICAST_HOPS), 64);
        CHECK_ERRNO(seti(s, IPPROTO_IPV6, IPV6_UNICAST_HOPS, 256), EINVAL);
        CHECK_ERRNO(seti(s, IPPROTO_IPV6, IPV6_UNICAST_HOPS, -2), EINVAL);
        CHECK_OK(seti(s, IPPROTO_IPV6, IPV6_UNICAST_HOPS, 9));
        CHECK_EQ(geti(s, IPPROTO_IPV6, IPV6_UNICAST_HOPS), 9);
        CHECK_OK(seti(s, IPPROTO_IPV6, IPV6_UNICAST_HOPS, -1));
        CHECK_EQ(geti(s, IPPROTO_IPV6, IPV6_UNICAST_HOPS), 64);
        CHECK_EQ(geti(s, IPPROTO_IPV6, IPV6_TCLASS), 0);
        CHECK_OK(seti(s, IPPROTO_IPV6, IPV6_TCLASS, 0x20));
        CHECK_EQ(geti(s, IPPROTO_IPV6, IPV6_TCLASS), 0x20);
        CHECK_ERRNO(seti(s, IPPROTO_IPV6, IPV6_TCLASS, 256), EINVAL);
        CHECK_EQ(geti(s, IPPROTO_IPV6, IPV6_RECVPKTINFO), 0);
        CHECK_OK(seti(s, IPPROTO_IPV6, IPV6_RECVPKTINFO, 1));
        CHECK_EQ(geti(s, IPPROTO_IPV6, IPV6_RECVPKTINFO), 1);
        /* The IPv4 level works on an IPv6 socket. */
        CHECK_EQ(geti(s, IPPROTO_IP, IP_TTL), 64);
        /* IPV6_V6ONLY may change only before the socket has a port. */
        CHECK_EQ(geti(s, IPPROTO_IPV6, IPV6_V6ONLY), 0);
        CHECK_OK(seti(s, IPPROTO_IPV6, IPV6_V6ONLY, 1));
        CHECK_EQ(geti(s, IPPROTO_IPV6, IPV6_V6ONLY), 1);
        struct sockaddr_in6 a;
        CHECK_OK(bind(s, (struct sockaddr *)&a, v6(0, &in6addr_any, &a)));
        CHECK_ERRNO(seti(s, IPPROTO_IPV6, IPV6_V6ONLY, 0), EINVAL);
        close(s);
    }
    int u = socket(AF_INET6, SOCK_DGRAM, 0);
    CHECK_EQ(geti(u, IPPROTO_IPV6, IPV6_MULTICAST_HOPS), 1);
    CHECK_EQ(geti(u, IPPROTO_IPV6, IPV6_MULTICAST_LOOP), 1);
    close(u);
}

TEST(ipv6_v6only_keeps_ipv4_out)
{
    /* A v6-only UDP socket on the wildcard: IPv4 datagrams to its port do not reach it, and
     * an IPv4 socket may hold the same port. */
    int s6 = socket(AF_INET6, SOCK_DGRAM, 0);
    CHECK_OK(seti(s6, IPPROTO_IPV6, IPV6_V6ONLY, 1));
    struct sockaddr_in6 a6;
    CHECK_OK(bind(s6, (struct sockaddr *)&a6, v6(0, &in6addr_any, &a6)));
    unsigned port = port_of(s6);
    int s4 = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a;
    CHECK_OK(bind(s4, (struct sockaddr *)&a, v4(port, &a)));
    int tx = socket(AF_INET, SOCK_DGRAM, 0);
    CHECK_EQ(sendto(tx, "4", 1, 0, (struct sockaddr *)&a, v4(port, &a)), 1);
    char c = 0;
    CHECK_EQ(recv(s4, &c, 1, 0), 1);
    CHECK_EQ(c, '4');
    CHECK_ERRNO(recv(s6, &c, 1, MSG_DONTWAIT), EAGAIN);
    int tx6 = socket(AF_INET6, SOCK_DGRAM, 0);
    CHECK_EQ(sendto(tx6, "6", 1, 0, (struct sockaddr *)&a6, v6(port, &in6addr_loopback, &a6)), 1);
    CHECK_EQ(recv(s6, &c, 1, 0), 1);
    CHECK_EQ(c, '6');
    /* A v6-only socket cannot send to an IPv4(-mapped) address. */
    struct in6_addr mapped;
    inet_pton(AF_INET6, "::ffff:127.0.0.1", &mapped);
    CHECK_ERRNO(sendto(s6, "m", 1, 0, (struct sockaddr *)&a6, v6(port, &mapped, &a6)), ENETUNREACH);
    close(tx);
    close(tx6);
    close(s4);
    close(s6);

    /* A v6-only TCP listener on the wildcard is not reached over IPv4. */
    int l = socket(AF_INET6, SOCK_STREAM, 0);
    CHECK_OK(seti(l, IPPROTO_IPV6, IPV6_V6ONLY, 1));
    CHECK_OK(bind(l, (struct sockaddr *)&a6, v6(0, &in6addr_any, &a6)));
    CHECK_OK(listen(l, 4));
    port = port_of(l);
    int c4 = socket(AF_INET, SOCK_STREAM, 0);
    CHECK_ERRNO(connect(c4, (struct sockaddr *)&a, v4(port, &a)), ECONNREFUSED);
    int c6 = socket(AF_INET6, SOCK_STREAM, 0);
    CHECK_OK(connect(c6, (struct sockaddr *)&a6, v6(port, &in6addr_loopback, &a6)));
    close(c6);
    close(c4);
    close(l);
}

TEST(tcp_level_options)
{
    int t = socket(AF_INET, SOCK_STREAM, 0);
    CHECK_EQ(geti(t, IPPROTO_TCP, TCP_NODELAY), 0);
    CHECK_OK(seti(t, IPPROTO_TCP, TCP_NODELAY, 5));
    CHECK_EQ(geti(t, IPPROTO_TCP, TCP_NODELAY), 1);
    CHECK_EQ(geti(t, IPPROTO_TCP, TCP_MAXSEG), 536);
    CHECK_ERRNO(seti(t, IPPROTO_TCP, TCP_MAXSEG, 50), EINVAL);
    CHECK_OK(seti(t, IPPROTO_TCP, TCP_MAXSEG, 1000));
    CHECK_EQ(geti(t, IPPROTO_TCP, TCP_MAXSEG), 1000);
    CHECK_EQ(geti(t, IPPROTO_TCP, TCP_KEEPIDLE), 7200);
    CHECK_EQ(geti(t, IPPROTO_TCP, TCP_KEEPINTVL), 75);
    CHECK_EQ(geti(t, IPPROTO_TCP, TCP_KEEPCNT), 9);
    CHECK_ERRNO(seti(t, IPPROTO_TCP, TCP_KEEPIDLE, 0), EINVAL);
    CHECK_ERRNO(seti(t, IPPROTO_TCP, TCP_KEEPINTVL, 40000), EINVAL);
    CHECK_ERRNO(seti(t, IPPROTO_TCP, TCP_KEEPCNT, 128), EINVAL);
    CHECK_OK(seti(t, IPPROTO_TCP, TCP_KEEPIDLE, 30));
    CHECK_OK(seti(t, IPPROTO_TCP, TCP_KEEPINTVL, 5));
    CHECK_OK(seti(t, IPPROTO_TCP, TCP_KEEPCNT, 3));
    CHECK_EQ(geti(t, IPPROTO_TCP, TCP_KEEPIDLE), 30);
    CHECK_EQ(geti(t, IPPROTO_TCP, TCP_KEEPINTVL), 5);
    CHECK_EQ(geti(t, IPPROTO_TCP, TCP_KEEPCNT), 3);
    CHECK_EQ(geti(t, IPPROTO_TCP, TCP_SYNCNT), 6);
    CHECK_EQ(geti(t, IPPROTO_TCP, TCP_LINGER2), 60);
    CHECK_OK(seti(t, IPPROTO_TCP, TCP_LINGER2, -5));
    CHECK_EQ(geti(t, IPPROTO_TCP, TCP_LINGER2), -1);
    CHECK_OK(seti(t, IPPROTO_TCP, TCP_LINGER2, 1000));
    CHECK_EQ(geti(t, IPPROTO_TCP, TCP_LINGER2), 120);
    CHECK_EQ(geti(t, IPPROTO_TCP, TCP_USER_TIMEOUT), 0);
    CHECK_ERRNO(seti(t, IPPROTO_TCP, TCP_USER_TIMEOUT, -1), EINVAL);
    CHECK_OK(seti(t, IPPROTO_TCP, TCP_USER_TIMEOUT, 5000));
    CHECK_EQ(geti(t, IPPROTO_TCP, TCP_USER_TIMEOUT), 5000);
    CHECK_EQ(geti(t, IPPROTO_TCP, TCP_CORK), 0);
    CHECK_OK(seti(t, IPPROTO_TCP, TCP_CORK, 1));
    CHECK_EQ(geti(t, IPPROTO_TCP, TCP_CORK), 1);
    CHECK_ERRNO(seti(t, IPPROTO_TCP, TCP_NODELAY + 1000, 1), ENOPROTOOPT);
    CHECK_ERRNO(setsockopt(t, IPPROTO_TCP, TCP_NODELAY, "", 2), EINVAL);

    char name[16] = {0};
    socklen_t len = sizeof name;
    CHECK_OK(setsockopt(t, IPPROTO_TCP, TCP_CONGESTION, "reno", 4));
    CHECK_OK(getsockopt(t, IPPROTO_TCP, TCP_CONGESTION, name, &len));
    CHECK(strcmp(name, "reno") == 0);
    CHECK_ERRNO(setsockopt(t, IPPROTO_TCP, TCP_CONGESTION, "no-such-cc", 10), ENOENT);
    close(t);
}

TEST(tcp_maxseg_of_a_connection)
{
    struct sockaddr_in a;
    int l = socket(AF_INET, SOCK_STREAM, 0);
    CHECK_OK(bind(l, (struct sockaddr *)&a, v4(0, &a)));
    CHECK_OK(listen(l, 4));
    int c = socket(AF_INET, SOCK_STREAM, 0);
    CHECK_OK(connect(c, (struct sockaddr *)&a, v4(port_of(l), &a)));
    int s = accept(l, NULL, NULL);
    CHECK(s >= 0);
    /* At most the loopback's MTU of 65536 less the headers and timestamps (Linux may bound
     * it by half the peer's window), more than the default before a connection. */
    int mss = geti(c, IPPROTO_TCP, TCP_MAXSEG);
    CHECK(mss > 536 && mss <= 65483);
    close(s);
    close(c);
    close(l);
}

TEST(so_linger_zero_resets_and_sndlowat_is_fixed)
{
    struct sockaddr_in a;
    int l = socket(AF_INET, SOCK_STREAM, 0);
    CHECK_OK(bind(l, (struct sockaddr *)&a, v4(0, &a)));
    CHECK_OK(listen(l, 4));
    int c = socket(AF_INET, SOCK_STREAM, 0);
    CHECK_OK(connect(c, (struct sockaddr *)&a, v4(port_of(l), &a)));
    int s = accept(l, NULL, NULL);
    CHECK(s >= 0);
    struct linger lg = {1, 0};
    CHECK_OK(setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof lg));
    close(c);
    char b;
    CHECK_ERRNO(recv(s, &b, 1, 0), ECONNRESET);
    close(s);
    close(l);

    int t = socket(AF_INET, SOCK_STREAM, 0);
    CHECK_EQ(geti(t, SOL_SOCKET, SO_SNDLOWAT), 1);
    CHECK_ERRNO(seti(t, SOL_SOCKET, SO_SNDLOWAT, 10), ENOPROTOOPT);
    close(t);
}

/* TCP_INFO (struct tcp_info of <linux/tcp.h>, read by offset): the state through a
 * connection's life, the MSS, and the byte counts `ss -i` prints. */
static unsigned char info_state(int fd, unsigned char *buf, socklen_t *len)
{
    memset(buf, 0xee, 248);
    *len = 248;
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, buf, len) != 0)
        return 0xff;
    return buf[0];
}

static unsigned long long at64(const unsigned char *b, int off)
{
    unsigned long long v;
    memcpy(&v, b + off, sizeof v);
    return v;
}

static unsigned at32(const unsigned char *b, int off)
{
    unsigned v;
    memcpy(&v, b + off, sizeof v);
    return v;
}

TEST(tcp_info_states_and_bytes)
{
    unsigned char b[248];
    socklen_t len;
    int t = socket(AF_INET, SOCK_STREAM, 0);
    CHECK_EQ(info_state(t, b, &len), 7); /* TCP_CLOSE */
    CHECK(len >= 104 && len <= 248);
    /* A short buffer gets the start. */
    unsigned char small[8];
    len = sizeof small;
    CHECK_OK(getsockopt(t, IPPROTO_TCP, TCP_INFO, small, &len));
    CHECK_EQ(len, 8);
    CHECK_EQ(small[0], 7);
    struct sockaddr_in a;
    CHECK_OK(bind(t, (struct sockaddr *)&a, v4(0, &a)));
    CHECK_OK(listen(t, 4));
    CHECK_EQ(info_state(t, b, &len), 10); /* TCP_LISTEN */
    int c = socket(AF_INET, SOCK_STREAM, 0);
    CHECK_OK(connect(c, (struct sockaddr *)&a, v4(port_of(t), &a)));
    int s = accept(t, NULL, NULL);
    CHECK(s >= 0);
    static char data[3000];
    CHECK_EQ(write(c, data, sizeof data), (ssize_t)sizeof data);
    size_t got = 0;
    while (got < sizeof data) {
        ssize_t n = read(s, data, sizeof data - got);
        CHECK(n > 0);
        got += (size_t)n;
    }
    CHECK_EQ(info_state(c, b, &len), 1); /* TCP_ESTABLISHED */
    CHECK(at32(b, 16) > 536 && at32(b, 16) <= 65483); /* snd_mss */
    if (len >= 208) {
        CHECK_EQ(at64(b, 200), 3000); /* bytes_sent */
    }
    CHECK_EQ(info_state(s, b, &len), 1);
    if (len >= 136) {
        CHECK_EQ(at64(b, 128), 3000); /* bytes_received */
    }
    CHECK_OK(shutdown(c, SHUT_WR));
    char e;
    CHECK_EQ(read(s, &e, 1), 0);
    CHECK_EQ(info_state(s, b, &len), 8); /* TCP_CLOSE_WAIT */
    close(s);
    close(c);
    close(t);
}

/* The control messages a received datagram can come with: SO_TIMESTAMP's time of arrival,
 * IP_PKTINFO's and IPV6_RECVPKTINFO's destination address and interface (lo); a control
 * buffer too small for them: MSG_CTRUNC. */
static int recv_with_control(int fd, char *cbuf, size_t clen, struct msghdr *m)
{
    static char data[16];
    static struct iovec iov;
    iov.iov_base = data;
    iov.iov_len = sizeof data;
    memset(m, 0, sizeof *m);
    m->msg_iov = &iov;
    m->msg_iovlen = 1;
    m->msg_control = cbuf;
    m->msg_controllen = clen;
    return (int)recvmsg(fd, m, 0);
}

TEST(udp_receive_control_messages)
{
    struct sockaddr_in a;
    int r = socket(AF_INET, SOCK_DGRAM, 0);
    CHECK_OK(seti(r, IPPROTO_IP, IP_PKTINFO, 1));
    CHECK_OK(seti(r, SOL_SOCKET, SO_TIMESTAMP, 1));
    CHECK_EQ(geti(r, SOL_SOCKET, SO_TIMESTAMP), 1);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    CHECK_OK(bind(r, (struct sockaddr *)&a, sizeof a));
    a.sin_port = htons((uint16_t)port_of(r));
    a.sin_addr.s_addr = htonl(0x7f000007);
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    struct timeval before, after;
    gettimeofday(&before, NULL);
    CHECK_EQ(sendto(s, "t", 1, 0, (struct sockaddr *)&a, sizeof a), 1);
    union { char buf[256]; struct cmsghdr align; } u;
    struct msghdr m;
    CHECK_EQ(recv_with_control(r, u.buf, sizeof u.buf, &m), 1);
    gettimeofday(&after, NULL);
    CHECK_EQ(m.msg_flags & MSG_CTRUNC, 0);
    int seen_ts = 0, seen_info = 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMP) {
            struct timeval tv;
            memcpy(&tv, CMSG_DATA(c), sizeof tv);
            long long t = tv.tv_sec * 1000000LL + tv.tv_usec;
            CHECK(t >= before.tv_sec * 1000000LL + before.tv_usec - 1000000);
            CHECK(t <= after.tv_sec * 1000000LL + after.tv_usec + 1000000);
            seen_ts = 1;
        }
        if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
            struct in_pktinfo pi;
            memcpy(&pi, CMSG_DATA(c), sizeof pi);
            CHECK_EQ(ntohl(pi.ipi_addr.s_addr), 0x7f000007);
            CHECK(pi.ipi_ifindex > 0);
            seen_info = 1;
        }
    }
    CHECK(seen_ts && seen_info);
    /* No room for them: MSG_CTRUNC. */
    CHECK_EQ(sendto(s, "t", 1, 0, (struct sockaddr *)&a, sizeof a), 1);
    CHECK_EQ(recv_with_control(r, u.buf, 8, &m), 1);
    CHECK(m.msg_flags & MSG_CTRUNC);
    close(s);
    close(r);

    struct sockaddr_in6 a6;
    int r6 = socket(AF_INET6, SOCK_DGRAM, 0);
    CHECK_OK(seti(r6, IPPROTO_IPV6, IPV6_RECVPKTINFO, 1));
    CHECK_OK(bind(r6, (struct sockaddr *)&a6, v6(0, &in6addr_any, &a6)));
    int s6 = socket(AF_INET6, SOCK_DGRAM, 0);
    CHECK_EQ(sendto(s6, "6", 1, 0, (struct sockaddr *)&a6,
                    v6(port_of(r6), &in6addr_loopback, &a6)), 1);
    CHECK_EQ(recv_with_control(r6, u.buf, sizeof u.buf, &m), 1);
    seen_info = 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
        if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
            struct in6_pktinfo pi;
            memcpy(&pi, CMSG_DATA(c), sizeof pi);
            CHECK(IN6_IS_ADDR_LOOPBACK(&pi.ipi6_addr));
            CHECK(pi.ipi6_ifindex > 0);
            seen_info = 1;
        }
    }
    CHECK(seen_info);
    close(s6);
    close(r6);
}
