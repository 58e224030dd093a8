/* netlink.c - NETLINK_ROUTE as tools use it: the socket and its port id, dumps of links,
 * addresses and routes (message structure, NLM_F_MULTI, NLMSG_DONE, sequence numbers and port
 * ids), single gets, acknowledgements and errors for bad requests, adding and removing an
 * address on lo. Only what is the same on every Linux machine is compared: lo exists with
 * index 1, 127.0.0.1/8 and ::1, its flags and MTU 65536, and the local routes of 127.0.0.0/8.
 * Syscalls: socket, bind, getsockname, sendto, recvfrom, setsockopt, fork, setuid, wait4.
 */
#define _GNU_SOURCE
#define TEST_MAIN
#include "test.h"

#include <arpa/inet.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <sys/socket.h>
#include <sys/wait.h>

static int nl_open(void)
{
    return socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
}

/* Sends one request: header, `payload` of `len` bytes. Returns the sequence number. */
static unsigned nl_send(int fd, int type, int flags, const void *payload, size_t len)
{
    static unsigned seq = 100;
    char buf[1024];
    struct nlmsghdr *h = (struct nlmsghdr *)buf;
    memset(buf, 0, sizeof buf);
    h->nlmsg_len = NLMSG_LENGTH(len);
    h->nlmsg_type = type;
    h->nlmsg_flags = flags;
    h->nlmsg_seq = ++seq;
    memcpy(NLMSG_DATA(h), payload, len);
    struct sockaddr_nl k = {.nl_family = AF_NETLINK};
    if (sendto(fd, buf, h->nlmsg_len, 0, (struct sockaddr *)&k, sizeof k) != (ssize_t)h->nlmsg_len)
        return 0;
    return seq;
}

/* Reads the whole answer into `out` (messages back to back) until NLMSG_DONE, an NLMSG_ERROR
 * or a single non-multipart message. Returns its length, -1 on a recv failure. */
static ssize_t nl_answer(int fd, char *out, size_t room)
{
    size_t used = 0;
    for (;;) {
        char buf[16384];
        struct sockaddr_nl from;
        socklen_t fl = sizeof from;
        ssize_t n = recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl);
        if (n < 0)
            return -1;
        if (from.nl_pid != 0 || used + n > room)
            return -1;
        memcpy(out + used, buf, n);
        used += n;
        struct nlmsghdr *h = (struct nlmsghdr *)buf;
        int len = n, last_multi = 1;
        for (; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
            if (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR)
                return used;
            last_multi = h->nlmsg_flags & NLM_F_MULTI;
        }
        if (!last_multi)
            return used;
    }
}

static struct rtattr *find_attr(struct rtattr *rta, int len, int type)
{
    for (; RTA_OK(rta, len); rta = RTA_NEXT(rta, len))
        if (rta->rta_type == type)
            return rta;
    return NULL;
}

static char answer[1 << 20];

TEST(socket_types_and_protocols)
{
    int fd = nl_open();
    CHECK_OK(fd);
    close(fd);
    fd = socket(AF_NETLINK, SOCK_DGRAM, NETLINK_ROUTE);
    CHECK_OK(fd);
    close(fd);
    CHECK_ERRNO(socket(AF_NETLINK, SOCK_STREAM, NETLINK_ROUTE), ESOCKTNOSUPPORT);
    CHECK_ERRNO(socket(AF_NETLINK, SOCK_RAW, 99), EPROTONOSUPPORT);
}

TEST(bind_gives_the_pid_then_other_ports)
{
    int a = nl_open(), b = nl_open();
    CHECK_OK(a);
    CHECK_OK(b);
    struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
    CHECK_ERRNO(bind(a, (struct sockaddr *)&sa, 4), EINVAL);
    CHECK_OK(bind(a, (struct sockaddr *)&sa, sizeof sa));
    CHECK_OK(bind(b, (struct sockaddr *)&sa, sizeof sa));
    struct sockaddr_nl got;
    socklen_t len = sizeof got;
    CHECK_OK(getsockname(a, (struct sockaddr *)&got, &len));
    CHECK_EQ(len, sizeof got);
    CHECK_EQ(got.nl_family, AF_NETLINK);
    CHECK_EQ(got.nl_pid, getpid());
    len = sizeof got;
    CHECK_OK(getsockname(b, (struct sockaddr *)&got, &len));
    CHECK_NE(got.nl_pid, 0);
    CHECK_NE(got.nl_pid, getpid());
    /* A port in use: EADDRINUSE. */
    int c = nl_open();
    struct sockaddr_nl same = {.nl_family = AF_NETLINK, .nl_pid = getpid()};
    CHECK_ERRNO(bind(c, (struct sockaddr *)&same, sizeof same), EADDRINUSE);
    close(a);
    close(b);
    close(c);
}

TEST(link_dump_lists_lo)
{
    int fd = nl_open();
    CHECK_OK(fd);
    struct rtgenmsg g = {.rtgen_family = AF_UNSPEC};
    unsigned seq = nl_send(fd, RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, &g, sizeof g);
    CHECK_NE(seq, 0);
    ssize_t n = nl_answer(fd, answer, sizeof answer);
    CHECK(n > 0);
    struct sockaddr_nl me;
    socklen_t sl = sizeof me;
    CHECK_OK(getsockname(fd, (struct sockaddr *)&me, &sl));
    int links = 0, lo = 0, done = 0;
    int len = n;
    for (struct nlmsghdr *h = (struct nlmsghdr *)answer; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
        CHECK_EQ(h->nlmsg_seq, seq);
        CHECK_EQ(h->nlmsg_pid, me.nl_pid);
        CHECK(h->nlmsg_flags & NLM_F_MULTI);
        if (h->nlmsg_type == NLMSG_DONE) {
            done = 1;
            break;
        }
        CHECK_EQ(h->nlmsg_type, RTM_NEWLINK);
        links++;
        struct ifinfomsg *ifi = NLMSG_DATA(h);
        struct rtattr *name = find_attr(IFLA_RTA(ifi), IFLA_PAYLOAD(h), IFLA_IFNAME);
        CHECK(name != NULL);
        if (strcmp(RTA_DATA(name), "lo") == 0) {
            lo = 1;
            CHECK_EQ(ifi->ifi_index, 1);
            CHECK_EQ(ifi->ifi_type, ARPHRD_LOOPBACK);
            CHECK_EQ(ifi->ifi_flags & (IFF_UP | IFF_LOOPBACK | IFF_RUNNING),
                     IFF_UP | IFF_LOOPBACK | IFF_RUNNING);
            struct rtattr *mtu = find_attr(IFLA_RTA(ifi), IFLA_PAYLOAD(h), IFLA_MTU);
            CHECK(mtu != NULL);
            CHECK_EQ(*(unsigned *)RTA_DATA(mtu), 65536);
            struct rtattr *addr = find_attr(IFLA_RTA(ifi), IFLA_PAYLOAD(h), IFLA_ADDRESS);
            CHECK(addr != NULL);
            CHECK_EQ(RTA_PAYLOAD(addr), 6);
        }
    }
    CHECK(done);
    CHECK(links >= 1);
    CHECK(lo);
    close(fd);
}

/* Whether the address dump of `family` has `addr`/`prefix` on lo with scope host. */
static int lo_has(int fd, int family, const void *addr, int alen, int prefix)
{
    struct ifaddrmsg req = {.ifa_family = family};
    unsigned seq = nl_send(fd, RTM_GETADDR, NLM_F_REQUEST | NLM_F_DUMP, &req, sizeof req);
    ssize_t n = nl_answer(fd, answer, sizeof answer);
    if (seq == 0 || n <= 0)
        return -1;
    int len = n, found = 0;
    for (struct nlmsghdr *h = (struct nlmsghdr *)answer; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
        if (h->nlmsg_type != RTM_NEWADDR)
            continue;
        struct ifaddrmsg *ifa = NLMSG_DATA(h);
        if (ifa->ifa_family != family)
            return -1;
        struct rtattr *a = find_attr(IFA_RTA(ifa), IFA_PAYLOAD(h), IFA_ADDRESS);
        if (a && RTA_PAYLOAD(a) == (unsigned)alen && memcmp(RTA_DATA(a), addr, alen) == 0 &&
            ifa->ifa_index == 1 && ifa->ifa_prefixlen == prefix && ifa->ifa_scope == RT_SCOPE_HOST)
            found = 1;
    }
    return found;
}

TEST(address_dumps_have_the_loopback_addresses)
{
    int fd = nl_open();
    CHECK_OK(fd);
    struct in_addr v4 = {htonl(INADDR_LOOPBACK)};
    CHECK_EQ(lo_has(fd, AF_INET, &v4, 4, 8), 1);
    CHECK_EQ(lo_has(fd, AF_INET6, &in6addr_loopback, 16, 128), 1);
    close(fd);
}

TEST(route_dump_has_the_local_loopback_routes)
{
    int fd = nl_open();
    CHECK_OK(fd);
    struct rtmsg req = {.rtm_family = AF_INET};
    CHECK_NE(nl_send(fd, RTM_GETROUTE, NLM_F_REQUEST | NLM_F_DUMP, &req, sizeof req), 0);
    ssize_t n = nl_answer(fd, answer, sizeof answer);
    CHECK(n > 0);
    int len = n, net = 0, host = 0;
    for (struct nlmsghdr *h = (struct nlmsghdr *)answer; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
        if (h->nlmsg_type != RTM_NEWROUTE)
            continue;
        struct rtmsg *r = NLMSG_DATA(h);
        CHECK_EQ(r->rtm_family, AF_INET);
        if (r->rtm_table != RT_TABLE_LOCAL || r->rtm_type != RTN_LOCAL)
            continue;
        struct rtattr *dst = find_attr(RTM_RTA(r), RTM_PAYLOAD(h), RTA_DST);
        struct rtattr *oif = find_attr(RTM_RTA(r), RTM_PAYLOAD(h), RTA_OIF);
        if (!dst || !oif || *(int *)RTA_DATA(oif) != 1)
            continue;
        unsigned d = ntohl(*(unsigned *)RTA_DATA(dst));
        if (d == 0x7f000000 && r->rtm_dst_len == 8)
            net = 1;
        if (d == 0x7f000001 && r->rtm_dst_len == 32)
            host = 1;
    }
    CHECK(net);
    CHECK(host);
    close(fd);
}

TEST(get_one_link_and_a_missing_one)
{
    int fd = nl_open();
    CHECK_OK(fd);
    struct ifinfomsg req = {.ifi_family = AF_UNSPEC, .ifi_index = 1};
    unsigned seq = nl_send(fd, RTM_GETLINK, NLM_F_REQUEST, &req, sizeof req);
    ssize_t n = recv(fd, answer, sizeof answer, 0);
    CHECK(n > 0);
    struct nlmsghdr *h = (struct nlmsghdr *)answer;
    CHECK_EQ(h->nlmsg_type, RTM_NEWLINK);
    CHECK_EQ(h->nlmsg_seq, seq);
    CHECK_EQ(h->nlmsg_flags & NLM_F_MULTI, 0);
    CHECK_EQ(((struct ifinfomsg *)NLMSG_DATA(h))->ifi_index, 1);
    /* Nothing else follows (no NLMSG_DONE). */
    CHECK_ERRNO(recv(fd, answer, sizeof answer, MSG_DONTWAIT), EAGAIN);

    req.ifi_index = 999999;
    seq = nl_send(fd, RTM_GETLINK, NLM_F_REQUEST, &req, sizeof req);
    n = recv(fd, answer, sizeof answer, 0);
    CHECK(n > 0);
    CHECK_EQ(h->nlmsg_type, NLMSG_ERROR);
    CHECK_EQ(h->nlmsg_seq, seq);
    struct nlmsgerr *e = NLMSG_DATA(h);
    CHECK_EQ(e->error, -ENODEV);
    CHECK_EQ(e->msg.nlmsg_type, RTM_GETLINK);
    CHECK_EQ(e->msg.nlmsg_seq, seq);
    close(fd);
}

TEST(acks_and_errors_for_bad_requests)
{
    int fd = nl_open();
    CHECK_OK(fd);
    struct rtgenmsg g = {.rtgen_family = AF_UNSPEC};
    /* Not a request: ignored, but acknowledged when asked (error 0, header echoed). */
    unsigned seq = nl_send(fd, RTM_GETLINK, NLM_F_ACK, &g, sizeof g);
    ssize_t n = recv(fd, answer, sizeof answer, 0);
    struct nlmsghdr *h = (struct nlmsghdr *)answer;
    CHECK_EQ(n, NLMSG_LENGTH(sizeof(struct nlmsgerr)));
    CHECK_EQ(h->nlmsg_type, NLMSG_ERROR);
    CHECK_EQ(h->nlmsg_seq, seq);
    struct nlmsgerr *e = NLMSG_DATA(h);
    CHECK_EQ(e->error, 0);
    CHECK_EQ(e->msg.nlmsg_seq, seq);
    /* Without NLM_F_ACK nothing comes back. */
    nl_send(fd, RTM_GETLINK, 0, &g, sizeof g);
    CHECK_ERRNO(recv(fd, answer, sizeof answer, MSG_DONTWAIT), EAGAIN);
    /* An unknown type: EOPNOTSUPP, the request echoed whole. */
    seq = nl_send(fd, 1023, NLM_F_REQUEST, &g, sizeof g);
    n = recv(fd, answer, sizeof answer, 0);
    CHECK_EQ(h->nlmsg_type, NLMSG_ERROR);
    CHECK_EQ(e->error, -EOPNOTSUPP);
    CHECK_EQ(e->msg.nlmsg_type, 1023);
    CHECK_EQ(n, NLMSG_LENGTH(sizeof(struct nlmsgerr)) + NLMSG_ALIGN(sizeof g));
    /* Deleting an address lo does not have, a route nobody added. */
    struct {
        struct ifaddrmsg ifa;
        struct rtattr rta;
        struct in_addr a;
    } del = {{.ifa_family = AF_INET, .ifa_prefixlen = 32, .ifa_index = 1},
             {RTA_LENGTH(4), IFA_LOCAL},
             {htonl(0x7f0a0b0c)}};
    nl_send(fd, RTM_DELADDR, NLM_F_REQUEST | NLM_F_ACK, &del, sizeof del);
    recv(fd, answer, sizeof answer, 0);
    CHECK_EQ(h->nlmsg_type, NLMSG_ERROR);
    CHECK_EQ(e->error, -EADDRNOTAVAIL);
    struct {
        struct rtmsg r;
        struct rtattr rta;
        struct in_addr a;
    } rdel = {{.rtm_family = AF_INET, .rtm_dst_len = 24, .rtm_table = RT_TABLE_MAIN},
              {RTA_LENGTH(4), RTA_DST},
              {htonl(0xc6336400)}};
    nl_send(fd, RTM_DELROUTE, NLM_F_REQUEST | NLM_F_ACK, &rdel, sizeof rdel);
    recv(fd, answer, sizeof answer, 0);
    CHECK_EQ(h->nlmsg_type, NLMSG_ERROR);
    CHECK_EQ(e->error, -ESRCH);
    close(fd);
}

TEST(changes_need_privilege)
{
    pid_t pid = fork();
    CHECK_OK(pid);
    if (pid == 0) {
        if (setgid(65534) != 0 || setuid(65534) != 0)
            _exit(2);
        int fd = nl_open();
        struct {
            struct ifaddrmsg ifa;
            struct rtattr rta;
            struct in_addr a;
        } add = {{.ifa_family = AF_INET, .ifa_prefixlen = 8, .ifa_index = 1},
                 {RTA_LENGTH(4), IFA_LOCAL},
                 {htonl(0x7f050607)}};
        nl_send(fd, RTM_NEWADDR, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, &add,
                sizeof add);
        char buf[512];
        if (recv(fd, buf, sizeof buf, 0) <= 0)
            _exit(3);
        struct nlmsghdr *h = (struct nlmsghdr *)buf;
        struct nlmsgerr *e = NLMSG_DATA(h);
        _exit(h->nlmsg_type == NLMSG_ERROR && e->error == -EPERM ? 0 : 4);
    }
    int st;
    CHECK_EQ(waitpid(pid, &st, 0), pid);
    CHECK(WIFEXITED(st));
    CHECK_EQ(WEXITSTATUS(st), 0);
}

TEST(add_and_remove_an_address_on_lo)
{
    int fd = nl_open();
    CHECK_OK(fd);
    struct in_addr extra = {htonl(0x7f050607)};
    struct {
        struct ifaddrmsg ifa;
        struct rtattr rta;
        struct in_addr a;
    } req = {{.ifa_family = AF_INET, .ifa_prefixlen = 8, .ifa_scope = RT_SCOPE_HOST, .ifa_index = 1},
             {RTA_LENGTH(4), IFA_LOCAL},
             extra};
    unsigned seq = nl_send(fd, RTM_NEWADDR, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL,
                           &req, sizeof req);
    ssize_t n = recv(fd, answer, sizeof answer, 0);
    struct nlmsghdr *h = (struct nlmsghdr *)answer;
    struct nlmsgerr *e = NLMSG_DATA(h);
    CHECK_EQ(n, NLMSG_LENGTH(sizeof(struct nlmsgerr)));
    CHECK_EQ(h->nlmsg_seq, seq);
    CHECK_EQ(e->error, 0);
    CHECK_EQ(lo_has(fd, AF_INET, &extra, 4, 8), 1);
    /* Again with NLM_F_EXCL: EEXIST. */
    nl_send(fd, RTM_NEWADDR, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, &req, sizeof req);
    recv(fd, answer, sizeof answer, 0);
    CHECK_EQ(e->error, -EEXIST);
    nl_send(fd, RTM_DELADDR, NLM_F_REQUEST | NLM_F_ACK, &req, sizeof req);
    recv(fd, answer, sizeof answer, 0);
    CHECK_EQ(h->nlmsg_type, NLMSG_ERROR);
    CHECK_EQ(e->error, 0);
    CHECK_EQ(lo_has(fd, AF_INET, &extra, 4, 8), 0);
    close(fd);
}
