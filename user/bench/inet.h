/* inet.h - IPv4 loopback sockets for the TCP and UDP benchmarks (127.0.0.1, ports chosen by
 * the kernel). */
#ifndef POSIX_X_BENCH_INET_H
#define POSIX_X_BENCH_INET_H

#include "bench.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

/* A socket of `type` bound to 127.0.0.1 on a port the kernel picks; its address in *addr. */
static inline int loopback_socket(int type, struct sockaddr_in *addr)
{
    int fd = socket(AF_INET, type, 0);
    if (fd < 0)
        die("socket(AF_INET)");
    memset(addr, 0, sizeof *addr);
    addr->sin_family = AF_INET;
    addr->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)addr, sizeof *addr) < 0)
        die("bind(127.0.0.1)");
    socklen_t len = sizeof *addr;
    if (getsockname(fd, (struct sockaddr *)addr, &len) < 0)
        die("getsockname");
    return fd;
}

static inline void no_delay(int fd)
{
    int one = 1;
    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0)
        die("setsockopt(TCP_NODELAY)");
}

/* A TCP connection over loopback: *server and *client are its two ends (TCP_NODELAY). */
static inline void tcp_connection(int *server, int *client)
{
    struct sockaddr_in addr;
    int listener = loopback_socket(SOCK_STREAM, &addr);
    if (listen(listener, 1) < 0)
        die("listen");
    *client = socket(AF_INET, SOCK_STREAM, 0);
    if (*client < 0)
        die("socket(AF_INET, SOCK_STREAM)");
    if (connect(*client, (struct sockaddr *)&addr, sizeof addr) < 0)
        die("connect(127.0.0.1)");
    *server = accept(listener, NULL, NULL);
    if (*server < 0)
        die("accept");
    close(listener);
    no_delay(*server);
    no_delay(*client);
}

#endif
