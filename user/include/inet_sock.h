/* inet_sock.h - helpers for the AF_INET/AF_INET6 socket tests (include after test.h):
 *     FAMS                      the two families, for loops over both
 *     loop_addr(fam, port, &ss) the loopback address of fam with port (host order); its length
 *     port_of(&ss)              the port (host order) of an IPv4 or IPv6 address
 *     local_port(fd)            the port fd is bound to, or 0
 *     poll1(fd, events, ms)     revents of one fd after up to ms milliseconds, -1 on error
 */
#ifndef POSIX_X_INET_SOCK_H
#define POSIX_X_INET_SOCK_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>

static const int FAMS[2] = {AF_INET, AF_INET6};

static inline socklen_t loop_addr(int fam, unsigned port, struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof *ss);
    if (fam == AF_INET) {
        struct sockaddr_in *a = (struct sockaddr_in *)ss;
        a->sin_family = AF_INET;
        a->sin_port = htons((uint16_t)port);
        a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        return sizeof *a;
    }
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
    a->sin6_family = AF_INET6;
    a->sin6_port = htons((uint16_t)port);
    a->sin6_addr = in6addr_loopback;
    return sizeof *a;
}

static inline unsigned port_of(const struct sockaddr_storage *ss)
{
    if (ss->ss_family == AF_INET)
        return ntohs(((const struct sockaddr_in *)ss)->sin_port);
    return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
}

static inline unsigned local_port(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
        return 0;
    return port_of(&ss);
}

static inline int poll1(int fd, short events, int ms)
{
    struct pollfd p = {fd, events, 0};
    int r = poll(&p, 1, ms);
    return r < 0 ? -1 : p.revents;
}

#endif
