/* unix_dgram.c - AF_UNIX SOCK_DGRAM sockets: socket/socketpair flags, sendto/recvfrom with
 * filesystem and abstract addresses (the sender's name in recvfrom, an unnamed sender's empty
 * address), connected datagram sockets (send without an address, getpeername, only the peer
 * may send to a connected socket: EPERM), connect with AF_UNSPEC, message boundaries,
 * truncation (MSG_TRUNC), zero-length datagrams, EMSGSIZE, the receive queue limit
 * (net.unix.max_dgram_qlen: EAGAIN or a blocking send), ECONNREFUSED/ENOTCONN when the peer
 * is gone, ENOENT/EPROTOTYPE/ECONNREFUSED destinations, sendmsg/recvmsg with several iovecs,
 * MSG_PEEK, shutdown.
 * Files live in a mkdtemp("/tmp/ptest.XXXXXX") directory removed at exit; abstract names carry
 * the pid.
 * Syscalls: socket, socketpair, bind, connect, sendto, recvfrom, sendmsg, recvmsg,
 * getsockname, getpeername, getsockopt, setsockopt, shutdown, read, write, close, fcntl, poll,
 * fork, wait4, openat, unlink.
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

#define SCRATCH_ALL_USERS
#include "children.h"
#include "scratch.h"
#include "unix_sock.h"

/* A nonblocking datagram socket bound to a fresh abstract name. */
static int dgram_at(struct sockaddr_un *a, socklen_t *len, const char *tag)
{
    *len = abs_addr(a, tag);
    int fd = bound(SOCK_DGRAM, a, *len, -1);
    return fd;
}

TEST(socket_dgram_flags)
{
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    CHECK_OK(fd);
    CHECK_EQ(fcntl(fd, F_GETFL) & O_NONBLOCK, O_NONBLOCK);
    CHECK_EQ(fcntl(fd, F_GETFD), FD_CLOEXEC);
    CHECK_EQ(sockopt_int(fd, SOL_SOCKET, SO_TYPE), SOCK_DGRAM);
    CHECK_EQ(sockopt_int(fd, SOL_SOCKET, SO_DOMAIN), AF_UNIX);
    CHECK_EQ(sockopt_int(fd, SOL_SOCKET, SO_PROTOCOL), 0);
    CHECK_EQ(sockopt_int(fd, SOL_SOCKET, SO_ACCEPTCONN), 0);
    char c;
    CHECK_ERRNO(recv(fd, &c, 1, 0), EAGAIN);
    close(fd);
    fd = socket(AF_UNIX, SOCK_DGRAM, 0);
    CHECK_OK(fd);
    CHECK_EQ(fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
    CHECK_EQ(fcntl(fd, F_GETFD), 0);
    close(fd);
}

TEST(socketpair_dgram_keeps_boundaries)
{
    int sv[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv));
    CHECK_EQ(fcntl(sv[1], F_GETFL) & O_NONBLOCK, O_NONBLOCK);
    CHECK_EQ(fcntl(sv[1], F_GETFD), FD_CLOEXEC);
    CHECK_EQ(send(sv[0], "one", 3, 0), 3);
    CHECK_EQ(send(sv[0], "two22", 5, 0), 5);
    CHECK_EQ(write(sv[0], "3", 1), 1);
    char buf[64];
    CHECK_EQ(recv(sv[1], buf, sizeof buf, 0), 3);
    CHECK(memcmp(buf, "one", 3) == 0);
    CHECK_EQ(read(sv[1], buf, sizeof buf), 5);
    CHECK(memcmp(buf, "two22", 5) == 0);
    CHECK_EQ(recv(sv[1], buf, sizeof buf, 0), 1);
    CHECK_ERRNO(recv(sv[1], buf, sizeof buf, 0), EAGAIN);
    /* and the other way */
    CHECK_EQ(send(sv[1], "back", 4, 0), 4);
    CHECK_EQ(recv(sv[0], buf, sizeof buf, 0), 4);
    struct sockaddr_un got;
    socklen_t glen = sizeof got;
    CHECK_OK(getpeername(sv[0], (struct sockaddr *)&got, &glen));
    CHECK_EQ(glen, FAMLEN);
    close(sv[0]);
    close(sv[1]);
}

TEST(sendto_recvfrom_path_addresses)
{
    const char *d = newdir();
    CHECK(d);
    struct sockaddr_un a, b;
    socklen_t alen = path_addr(&a, P(d, "a"));
    socklen_t blen = path_addr(&b, P(d, "b"));
    int fa = bound(SOCK_DGRAM, &a, alen, -1);
    int fb = bound(SOCK_DGRAM, &b, blen, -1);
    CHECK_OK(fa);
    CHECK_OK(fb);
    struct stat st;
    CHECK_OK(stat(P(d, "a"), &st));
    CHECK(S_ISSOCK(st.st_mode));
    CHECK_EQ(sendto(fa, "hello b", 7, 0, (struct sockaddr *)&b, blen), 7);
    char buf[32];
    struct sockaddr_un from;
    memset(&from, 0x55, sizeof from);
    socklen_t flen = sizeof from;
    CHECK_EQ(recvfrom(fb, buf, sizeof buf, 0, (struct sockaddr *)&from, &flen), 7);
    CHECK(memcmp(buf, "hello b", 7) == 0);
    CHECK_EQ(flen, alen);
    CHECK_EQ(from.sun_family, AF_UNIX);
    CHECK(strcmp(from.sun_path, P(d, "a")) == 0);
    /* reply to the address we got */
    CHECK_EQ(sendto(fb, "hi a", 4, 0, (struct sockaddr *)&from, flen), 4);
    flen = sizeof from;
    CHECK_EQ(recvfrom(fa, buf, sizeof buf, 0, (struct sockaddr *)&from, &flen), 4);
    CHECK_EQ(flen, blen);
    CHECK(strcmp(from.sun_path, P(d, "b")) == 0);
    close(fa);
    close(fb);
}

TEST(recvfrom_abstract_and_unnamed_senders)
{
    struct sockaddr_un a, b;
    socklen_t alen, blen;
    int fa = dgram_at(&a, &alen, "ra");
    int fb = dgram_at(&b, &blen, "rb");
    CHECK_OK(fa);
    CHECK_OK(fb);
    int anon = socket(AF_UNIX, SOCK_DGRAM, 0);
    CHECK_OK(anon);
    CHECK_EQ(sendto(fa, "x", 1, 0, (struct sockaddr *)&b, blen), 1);
    CHECK_EQ(sendto(anon, "yy", 2, 0, (struct sockaddr *)&b, blen), 2);
    char buf[8];
    struct sockaddr_un from;
    socklen_t flen = sizeof from;
    CHECK_EQ(recvfrom(fb, buf, sizeof buf, 0, (struct sockaddr *)&from, &flen), 1);
    CHECK_EQ(flen, alen);
    CHECK(memcmp(&from, &a, alen) == 0);
    /* an unnamed sender gives an empty address (length 0), and is not autobound */
    memset(&from, 0x55, sizeof from);
    flen = sizeof from;
    CHECK_EQ(recvfrom(fb, buf, sizeof buf, 0, (struct sockaddr *)&from, &flen), 2);
    CHECK_EQ(flen, 0);
    struct sockaddr_un me;
    socklen_t mlen = sizeof me;
    CHECK_OK(getsockname(anon, (struct sockaddr *)&me, &mlen));
    CHECK_EQ(mlen, FAMLEN);
    /* recvmsg reports the same */
    CHECK_EQ(sendto(anon, "z", 1, 0, (struct sockaddr *)&b, blen), 1);
    struct iovec iov = {buf, sizeof buf};
    struct msghdr m = {.msg_name = &from, .msg_namelen = sizeof from, .msg_iov = &iov,
                       .msg_iovlen = 1};
    CHECK_EQ(recvmsg(fb, &m, 0), 1);
    CHECK_EQ(m.msg_namelen, 0);
    close(anon);
    close(fa);
    close(fb);
}

TEST(sendto_destination_errors)
{
    const char *d = newdir();
    CHECK(d);
    int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
    CHECK_OK(fd);
    struct sockaddr_un a;
    socklen_t len = path_addr(&a, P(d, "missing"));
    CHECK_ERRNO(sendto(fd, "x", 1, 0, (struct sockaddr *)&a, len), ENOENT);
    /* a stream socket */
    len = path_addr(&a, P(d, "stream"));
    int st = bound(SOCK_STREAM, &a, len, 5);
    CHECK_OK(st);
    CHECK_ERRNO(sendto(fd, "x", 1, 0, (struct sockaddr *)&a, len), EPROTOTYPE);
    /* a socket file nobody has open any more */
    len = path_addr(&a, P(d, "stale"));
    int old = bound(SOCK_DGRAM, &a, len, -1);
    CHECK_OK(old);
    CHECK_OK(close(old));
    CHECK_ERRNO(sendto(fd, "x", 1, 0, (struct sockaddr *)&a, len), ECONNREFUSED);
    /* an abstract name nobody holds */
    len = abs_addr(&a, "none");
    CHECK_ERRNO(sendto(fd, "x", 1, 0, (struct sockaddr *)&a, len), ECONNREFUSED);
    /* bad addresses */
    a.sun_family = AF_INET;
    CHECK_ERRNO(sendto(fd, "x", 1, 0, (struct sockaddr *)&a, len), EINVAL);
    CHECK_ERRNO(sendto(fd, "x", 1, 0, (struct sockaddr *)&a, 1), EINVAL);
    close(st);
    close(fd);
}

TEST(send_unconnected_without_address_enotconn)
{
    int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
    CHECK_OK(fd);
    CHECK_ERRNO(send(fd, "x", 1, 0), ENOTCONN);
    CHECK_ERRNO(write(fd, "x", 1), ENOTCONN);
    struct sockaddr_un got;
    socklen_t glen = sizeof got;
    CHECK_ERRNO(getpeername(fd, (struct sockaddr *)&got, &glen), ENOTCONN);
    close(fd);
}

TEST(connected_dgram_send_without_address)
{
    const char *d = newdir();
    CHECK(d);
    struct sockaddr_un b;
    socklen_t blen = path_addr(&b, P(d, "b"));
    int fb = bound(SOCK_DGRAM, &b, blen, -1);
    CHECK_OK(fb);
    int fa = connected(SOCK_DGRAM, &b, blen);
    CHECK_OK(fa);
    struct sockaddr_un got;
    socklen_t glen = sizeof got;
    CHECK_OK(getpeername(fa, (struct sockaddr *)&got, &glen));
    CHECK_EQ(glen, blen);
    CHECK(strcmp(got.sun_path, P(d, "b")) == 0);
    CHECK_EQ(send(fa, "one", 3, 0), 3);
    CHECK_EQ(write(fa, "two", 3), 3);
    /* sendto with the peer's address on a connected socket is fine too */
    CHECK_EQ(sendto(fa, "3", 1, 0, (struct sockaddr *)&b, blen), 1);
    char buf[8];
    CHECK_EQ(recv(fb, buf, sizeof buf, 0), 3);
    CHECK_EQ(recv(fb, buf, sizeof buf, 0), 3);
    CHECK_EQ(recv(fb, buf, sizeof buf, 0), 1);
    /* b is not connected back */
    glen = sizeof got;
    CHECK_ERRNO(getpeername(fb, (struct sockaddr *)&got, &glen), ENOTCONN);
    close(fa);
    close(fb);
}

TEST(connected_dgram_may_still_sendto_others)
{
    struct sockaddr_un b, c;
    socklen_t blen, clen;
    int fb = dgram_at(&b, &blen, "cb");
    int fc = dgram_at(&c, &clen, "cc");
    CHECK_OK(fb);
    CHECK_OK(fc);
    int fa = connected(SOCK_DGRAM, &b, blen);
    CHECK_OK(fa);
    CHECK_EQ(sendto(fa, "to c", 4, 0, (struct sockaddr *)&c, clen), 4);
    char buf[8];
    CHECK_EQ(recv(fc, buf, sizeof buf, MSG_DONTWAIT), 4);
    CHECK_ERRNO(recv(fb, buf, sizeof buf, MSG_DONTWAIT), EAGAIN);
    close(fa);
    close(fb);
    close(fc);
}

TEST(connected_socket_rejects_others_eperm)
{
    struct sockaddr_un a, b, c;
    socklen_t alen, blen, clen;
    int fa = dgram_at(&a, &alen, "pa");
    int fb = dgram_at(&b, &blen, "pb");
    int fc = dgram_at(&c, &clen, "pc");
    CHECK_OK(fa);
    CHECK_OK(fb);
    CHECK_OK(fc);
    /* b is connected to a: only a may send to b */
    CHECK_OK(connect(fb, (struct sockaddr *)&a, alen));
    CHECK_ERRNO(sendto(fc, "x", 1, 0, (struct sockaddr *)&b, blen), EPERM);
    int anon = socket(AF_UNIX, SOCK_DGRAM, 0);
    CHECK_OK(anon);
    CHECK_ERRNO(sendto(anon, "x", 1, 0, (struct sockaddr *)&b, blen), EPERM);
    CHECK_EQ(sendto(fa, "ok", 2, 0, (struct sockaddr *)&b, blen), 2);
    char buf[8];
    struct sockaddr_un from;
    socklen_t flen = sizeof from;
    CHECK_EQ(recvfrom(fb, buf, sizeof buf, MSG_DONTWAIT, (struct sockaddr *)&from, &flen), 2);
    CHECK_EQ(flen, alen);
    CHECK(memcmp(&from, &a, alen) == 0);
    CHECK_ERRNO(recv(fb, buf, sizeof buf, MSG_DONTWAIT), EAGAIN);
    close(anon);
    close(fa);
    close(fb);
    close(fc);
}

TEST(connect_keeps_queued_datagrams_from_others)
{
    /* datagrams queued before connect stay; afterwards only the peer gets through */
    struct sockaddr_un a, b, c;
    socklen_t alen, blen, clen;
    int fa = dgram_at(&a, &alen, "qa");
    int fb = dgram_at(&b, &blen, "qb");
    int fc = dgram_at(&c, &clen, "qc");
    CHECK_OK(fa);
    CHECK_OK(fb);
    CHECK_OK(fc);
    CHECK_EQ(sendto(fc, "from c", 6, 0, (struct sockaddr *)&b, blen), 6);
    CHECK_EQ(sendto(fa, "from a", 6, 0, (struct sockaddr *)&b, blen), 6);
    CHECK_OK(connect(fb, (struct sockaddr *)&a, alen));
    CHECK_ERRNO(sendto(fc, "again", 5, 0, (struct sockaddr *)&b, blen), EPERM);
    char buf[8];
    CHECK_EQ(recv(fb, buf, sizeof buf, MSG_DONTWAIT), 6);
    CHECK(memcmp(buf, "from c", 6) == 0);
    CHECK_EQ(recv(fb, buf, sizeof buf, MSG_DONTWAIT), 6);
    CHECK(memcmp(buf, "from a", 6) == 0);
    CHECK_ERRNO(recv(fb, buf, sizeof buf, MSG_DONTWAIT), EAGAIN);
    close(fa);
    close(fb);
    close(fc);
}

TEST(connect_af_unspec_disconnects)
{
    struct sockaddr_un b;
    socklen_t blen;
    int fb = dgram_at(&b, &blen, "ub");
    CHECK_OK(fb);
    int fa = connected(SOCK_DGRAM, &b, blen);
    CHECK_OK(fa);
    struct sockaddr un;
    memset(&un, 0, sizeof un);
    un.sa_family = AF_UNSPEC;
    CHECK_OK(connect(fa, &un, sizeof un));
    CHECK_ERRNO(send(fa, "x", 1, 0), ENOTCONN);
    struct sockaddr_un got;
    socklen_t glen = sizeof got;
    CHECK_ERRNO(getpeername(fa, (struct sockaddr *)&got, &glen), ENOTCONN);
    /* and it may connect again */
    CHECK_OK(connect(fa, (struct sockaddr *)&b, blen));
    CHECK_EQ(send(fa, "y", 1, 0), 1);
    close(fa);
    close(fb);
}

TEST(connect_dgram_errors)
{
    const char *d = newdir();
    CHECK(d);
    int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
    CHECK_OK(fd);
    struct sockaddr_un a;
    socklen_t len = path_addr(&a, P(d, "missing"));
    CHECK_ERRNO(connect(fd, (struct sockaddr *)&a, len), ENOENT);
    len = path_addr(&a, P(d, "st"));
    int st = bound(SOCK_STREAM, &a, len, 5);
    CHECK_OK(st);
    CHECK_ERRNO(connect(fd, (struct sockaddr *)&a, len), EPROTOTYPE);
    len = path_addr(&a, P(d, "stale"));
    int old = bound(SOCK_DGRAM, &a, len, -1);
    CHECK_OK(old);
    close(old);
    CHECK_ERRNO(connect(fd, (struct sockaddr *)&a, len), ECONNREFUSED);
    close(st);
    close(fd);
}

TEST(connect_to_self)
{
    struct sockaddr_un a;
    socklen_t alen;
    int fa = dgram_at(&a, &alen, "self");
    CHECK_OK(fa);
    CHECK_OK(connect(fa, (struct sockaddr *)&a, alen));
    CHECK_EQ(send(fa, "me", 2, 0), 2);
    char buf[4];
    CHECK_EQ(recv(fa, buf, sizeof buf, MSG_DONTWAIT), 2);
    close(fa);
}

TEST(truncation_msg_trunc)
{
    int sv[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv));
    CHECK_EQ(send(sv[0], "0123456789", 10, 0), 10);
    CHECK_EQ(send(sv[0], "next", 4, 0), 4);
    char buf[16] = {0};
    struct iovec iov = {buf, 4};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
    CHECK_EQ(recvmsg(sv[1], &m, 0), 4);
    CHECK(memcmp(buf, "0123", 4) == 0);
    CHECK(m.msg_flags & MSG_TRUNC);
    /* the rest of the datagram is gone */
    memset(&m, 0, sizeof m);
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    iov.iov_len = sizeof buf;
    CHECK_EQ(recvmsg(sv[1], &m, 0), 4);
    CHECK(memcmp(buf, "next", 4) == 0);
    CHECK_EQ(m.msg_flags & MSG_TRUNC, 0);
    /* the MSG_TRUNC flag makes recv return the real length */
    CHECK_EQ(send(sv[0], "0123456789", 10, 0), 10);
    CHECK_EQ(recv(sv[1], buf, 3, MSG_TRUNC), 10);
    CHECK(memcmp(buf, "012", 3) == 0);
    CHECK_EQ(send(sv[0], "abcdef", 6, 0), 6);
    CHECK_EQ(recv(sv[1], NULL, 0, MSG_TRUNC | MSG_PEEK), 6);
    CHECK_EQ(recv(sv[1], buf, sizeof buf, 0), 6);
    close(sv[0]);
    close(sv[1]);
}

TEST(zero_length_datagram)
{
    int sv[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv));
    CHECK_EQ(send(sv[0], "", 0, 0), 0);
    CHECK_EQ(send(sv[0], "x", 1, 0), 1);
    char buf[4];
    CHECK_EQ(recv(sv[1], buf, sizeof buf, MSG_DONTWAIT), 0);
    CHECK_EQ(recv(sv[1], buf, sizeof buf, MSG_DONTWAIT), 1);
    CHECK_ERRNO(recv(sv[1], buf, sizeof buf, MSG_DONTWAIT), EAGAIN);
    close(sv[0]);
    close(sv[1]);
}

TEST(msg_peek_dgram)
{
    struct sockaddr_un a, b;
    socklen_t alen, blen;
    int fa = dgram_at(&a, &alen, "ka");
    int fb = dgram_at(&b, &blen, "kb");
    CHECK_OK(fa);
    CHECK_OK(fb);
    CHECK_EQ(sendto(fa, "peeked", 6, 0, (struct sockaddr *)&b, blen), 6);
    CHECK_EQ(sendto(fa, "second", 6, 0, (struct sockaddr *)&b, blen), 6);
    char buf[16];
    struct sockaddr_un from;
    socklen_t flen = sizeof from;
    CHECK_EQ(recvfrom(fb, buf, 3, MSG_PEEK, (struct sockaddr *)&from, &flen), 3);
    CHECK_EQ(flen, alen);
    CHECK_EQ(recv(fb, buf, sizeof buf, MSG_PEEK), 6);
    CHECK_EQ(recv(fb, buf, sizeof buf, 0), 6);
    CHECK(memcmp(buf, "peeked", 6) == 0);
    CHECK_EQ(recv(fb, buf, sizeof buf, 0), 6);
    CHECK(memcmp(buf, "second", 6) == 0);
    close(fa);
    close(fb);
}

TEST(sendmsg_recvmsg_several_iovecs)
{
    struct sockaddr_un a, b;
    socklen_t alen, blen;
    int fa = dgram_at(&a, &alen, "va");
    int fb = dgram_at(&b, &blen, "vb");
    CHECK_OK(fa);
    CHECK_OK(fb);
    struct iovec wv[4] = {{"ab", 2}, {"", 0}, {"cde", 3}, {"fghij", 5}};
    struct msghdr m = {.msg_name = &b, .msg_namelen = blen, .msg_iov = wv, .msg_iovlen = 4};
    CHECK_EQ(sendmsg(fa, &m, 0), 10);
    char x[3], y[4], z[8];
    memset(z, 0, sizeof z);
    struct iovec rv[3] = {{x, 3}, {y, 4}, {z, 8}};
    struct sockaddr_un from;
    struct msghdr r = {.msg_name = &from, .msg_namelen = sizeof from, .msg_iov = rv,
                       .msg_iovlen = 3};
    CHECK_EQ(recvmsg(fb, &r, 0), 10);
    CHECK(memcmp(x, "abc", 3) == 0);
    CHECK(memcmp(y, "defg", 4) == 0);
    CHECK(memcmp(z, "hij", 3) == 0);
    CHECK_EQ(r.msg_namelen, alen);
    CHECK(memcmp(&from, &a, alen) == 0);
    CHECK_EQ(r.msg_flags, 0);
    CHECK_EQ(r.msg_controllen, 0);
    close(fa);
    close(fb);
}

TEST(emsgsize_bigger_than_sndbuf)
{
    int sv[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv));
    int v = 8192;
    CHECK_OK(setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &v, sizeof v));
    CHECK_EQ(sockopt_int(sv[0], SOL_SOCKET, SO_SNDBUF), 16384);
    static char big[65536];
    CHECK_ERRNO(send(sv[0], big, 16384, MSG_DONTWAIT), EMSGSIZE);
    CHECK_ERRNO(send(sv[0], big, sizeof big, MSG_DONTWAIT), EMSGSIZE);
    CHECK_EQ(send(sv[0], big, 8000, MSG_DONTWAIT), 8000);
    CHECK_EQ(recv(sv[1], big, sizeof big, 0), 8000);
    /* with the default buffer a 64 KiB datagram passes */
    CHECK_EQ(send(sv[1], big, sizeof big, MSG_DONTWAIT), (ssize_t)sizeof big);
    CHECK_EQ(recv(sv[0], big, sizeof big, 0), (ssize_t)sizeof big);
    close(sv[0]);
    close(sv[1]);
}

TEST(full_receive_queue_eagain)
{
    int q = max_dgram_qlen();
    printf("# max_dgram_qlen %d\n", q);
    CHECK(q >= 0 && q < 1000);
    struct sockaddr_un b;
    socklen_t blen;
    int fb = dgram_at(&b, &blen, "fq");
    CHECK_OK(fb);
    int fa = socket(AF_UNIX, SOCK_DGRAM, 0);
    CHECK_OK(fa);
    /* max_dgram_qlen + 1 datagrams fit */
    for (int i = 0; i <= q; i++)
        CHECK_EQ(sendto(fa, &i, sizeof i, MSG_DONTWAIT, (struct sockaddr *)&b, blen),
                 sizeof i);
    CHECK_ERRNO(sendto(fa, "x", 1, MSG_DONTWAIT, (struct sockaddr *)&b, blen), EAGAIN);
    /* a nonblocking socket also gets EAGAIN */
    int fn = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    CHECK_OK(fn);
    CHECK_ERRNO(sendto(fn, "x", 1, 0, (struct sockaddr *)&b, blen), EAGAIN);
    int v;
    CHECK_EQ(recv(fb, &v, sizeof v, 0), sizeof v);
    CHECK_EQ(v, 0);
    CHECK_EQ(sendto(fn, "x", 1, 0, (struct sockaddr *)&b, blen), 1);
    CHECK_ERRNO(sendto(fn, "x", 1, 0, (struct sockaddr *)&b, blen), EAGAIN);
    for (int i = 1; i <= q; i++) {
        CHECK_EQ(recv(fb, &v, sizeof v, 0), sizeof v);
        CHECK_EQ(v, i);
    }
    close(fn);
    close(fa);
    close(fb);
}

TEST(full_receive_queue_blocks_sender)
{
    int q = max_dgram_qlen();
    struct sockaddr_un b;
    socklen_t blen;
    int fb = dgram_at(&b, &blen, "fb");
    CHECK_OK(fb);
    int fa = socket(AF_UNIX, SOCK_DGRAM, 0);
    CHECK_OK(fa);
    for (int i = 0; i <= q; i++)
        CHECK_EQ(sendto(fa, "f", 1, MSG_DONTWAIT, (struct sockaddr *)&b, blen), 1);
    int p[2];
    CHECK_OK(pipe(p));
    pid_t pid = fork();
    CHECK_OK(pid);
    if (pid == 0) {
        close(p[0]);
        CCHECK(sendto(fa, "L", 1, 0, (struct sockaddr *)&b, blen) == 1);
        CCHECK(write_byte(p[1], 's') == 0);
        _exit(0);
    }
    close(p[1]);
    CHECK_EQ(poll1(p[0], POLLIN, 200), 0); /* still blocked */
    char c;
    CHECK_EQ(recv(fb, &c, 1, 0), 1);
    CHECK_EQ(read_byte(p[0]), 's');
    CHECK_CHILD_OK(pid);
    for (int i = 1; i <= q; i++)
        CHECK_EQ(recv(fb, &c, 1, 0), 1);
    CHECK_EQ(recv(fb, &c, 1, 0), 1);
    CHECK_EQ(c, 'L');
    close(p[0]);
    close(fa);
    close(fb);
}

TEST(socketpair_not_limited_by_queue_length)
{
    /* the queue limit applies only to a receiver that is not connected back to the sender */
    int q = max_dgram_qlen();
    int sv[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv));
    for (int i = 0; i < q + 5; i++)
        CHECK_EQ(send(sv[0], "m", 1, MSG_DONTWAIT), 1);
    close(sv[0]);
    close(sv[1]);
}

TEST(send_to_closed_connected_peer_econnrefused)
{
    /* MSG_DONTWAIT only so that a wrong implementation fails instead of hanging */
    struct sockaddr_un b;
    socklen_t blen;
    int fb = dgram_at(&b, &blen, "gone");
    CHECK_OK(fb);
    int fa = connected(SOCK_DGRAM, &b, blen);
    CHECK_OK(fa);
    CHECK_EQ(send(fa, "x", 1, MSG_DONTWAIT), 1);
    CHECK_OK(close(fb));
    CHECK_ERRNO(send(fa, "x", 1, MSG_DONTWAIT), ECONNREFUSED);
    /* the connection is dropped after the first error */
    CHECK_ERRNO(send(fa, "x", 1, MSG_DONTWAIT), ENOTCONN);
    close(fa);
}

TEST(socketpair_peer_closed_queued_data_then_econnrefused)
{
    int sv[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv));
    CHECK_EQ(send(sv[1], "last", 4, MSG_DONTWAIT), 4);
    CHECK_OK(close(sv[1]));
    /* queued datagrams can still be read; then no end of file, just nothing */
    char buf[8];
    CHECK_EQ(recv(sv[0], buf, sizeof buf, MSG_DONTWAIT), 4);
    CHECK_ERRNO(recv(sv[0], buf, sizeof buf, MSG_DONTWAIT), EAGAIN);
    CHECK_ERRNO(send(sv[0], "x", 1, MSG_DONTWAIT), ECONNREFUSED);
    CHECK_ERRNO(send(sv[0], "x", 1, MSG_DONTWAIT), ENOTCONN);
    close(sv[0]);
}

TEST(socketpair_refused_send_discards_queue)
{
    /* Linux: the send that finds the peer dead disconnects and purges our receive queue */
    int sv[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv));
    CHECK_EQ(send(sv[1], "lost", 4, MSG_DONTWAIT), 4);
    CHECK_OK(close(sv[1]));
    CHECK_ERRNO(send(sv[0], "x", 1, MSG_DONTWAIT), ECONNREFUSED);
    char buf[8];
    CHECK_ERRNO(recv(sv[0], buf, sizeof buf, MSG_DONTWAIT), EAGAIN);
    close(sv[0]);
}

TEST(shutdown_wr_dgram)
{
    int sv[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv));
    CHECK_OK(shutdown(sv[0], SHUT_WR));
    CHECK_ERRNO(send(sv[0], "x", 1, MSG_NOSIGNAL | MSG_DONTWAIT), EPIPE);
    /* the peer can still send to us */
    CHECK_EQ(send(sv[1], "y", 1, MSG_DONTWAIT), 1);
    char c;
    CHECK_EQ(recv(sv[0], &c, 1, MSG_DONTWAIT), 1);
    close(sv[0]);
    close(sv[1]);
}

TEST(blocking_recv_wakes_on_datagram)
{
    struct sockaddr_un b;
    socklen_t blen;
    int fb = dgram_at(&b, &blen, "wk");
    CHECK_OK(fb);
    pid_t pid = fork();
    CHECK_OK(pid);
    if (pid == 0) {
        CCHECK(wait_sleeping(getppid()));
        int fa = socket(AF_UNIX, SOCK_DGRAM, 0);
        CCHECK(fa >= 0);
        CCHECK(sendto(fa, "wake", 4, 0, (struct sockaddr *)&b, blen) == 4);
        _exit(0);
    }
    char buf[8];
    CHECK_EQ(recv(fb, buf, sizeof buf, 0), 4);
    CHECK_CHILD_OK(pid);
    close(fb);
}
