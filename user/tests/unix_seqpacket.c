/* unix_seqpacket.c - AF_UNIX SOCK_SEQPACKET sockets: socket/socketpair flags, listen/connect/
 * accept/accept4 with a backlog, message boundaries, truncation (MSG_TRUNC in msg_flags, the
 * rest of the record discarded, the MSG_TRUNC flag returning the real length), zero-length
 * records, MSG_PEEK, sendmsg/recvmsg with several iovecs, EMSGSIZE, EOF and EPIPE after the
 * peer closed or shut down, ENOTCONN, EPROTOTYPE, EINVAL, and the socket options.
 * Files live in a mkdtemp("/tmp/ptest.XXXXXX") directory removed at exit; abstract names carry
 * the pid.
 * Syscalls: socket, socketpair, bind, listen, connect, accept, accept4, sendto, recvfrom,
 * sendmsg, recvmsg, getsockname, getpeername, getsockopt, setsockopt, shutdown, read, write,
 * close, fcntl, poll, fork, wait4.
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

/* A connected pair through a listener on an abstract name: *c client, *s accepted. */
static int seq_connection(int *c, int *s)
{
    struct sockaddr_un a;
    socklen_t len = abs_addr(&a, "sq");
    int l = bound(SOCK_SEQPACKET, &a, len, 5);
    if (l < 0)
        return -1;
    *c = connected(SOCK_SEQPACKET, &a, len);
    *s = *c >= 0 ? accept(l, NULL, NULL) : -1;
    close(l);
    return *c >= 0 && *s >= 0 ? 0 : -1;
}

TEST(socket_seqpacket_flags_and_options)
{
    int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    CHECK_OK(fd);
    CHECK_EQ(fcntl(fd, F_GETFL) & O_NONBLOCK, O_NONBLOCK);
    CHECK_EQ(fcntl(fd, F_GETFD), FD_CLOEXEC);
    CHECK_EQ(sockopt_int(fd, SOL_SOCKET, SO_TYPE), SOCK_SEQPACKET);
    CHECK_EQ(sockopt_int(fd, SOL_SOCKET, SO_DOMAIN), AF_UNIX);
    CHECK_EQ(sockopt_int(fd, SOL_SOCKET, SO_PROTOCOL), 0);
    CHECK_EQ(sockopt_int(fd, SOL_SOCKET, SO_ACCEPTCONN), 0);
    CHECK_EQ(sockopt_int(fd, SOL_SOCKET, SO_ERROR), 0);
    close(fd);
}

TEST(socketpair_seqpacket_boundaries)
{
    int sv[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv));
    CHECK_EQ(fcntl(sv[0], F_GETFD), FD_CLOEXEC);
    CHECK_EQ(fcntl(sv[1], F_GETFD), FD_CLOEXEC);
    CHECK_EQ(sockopt_int(sv[1], SOL_SOCKET, SO_TYPE), SOCK_SEQPACKET);
    CHECK_EQ(write(sv[0], "a", 1), 1);
    CHECK_EQ(write(sv[0], "bb", 2), 2);
    CHECK_EQ(send(sv[0], "ccc", 3, 0), 3);
    char buf[16];
    CHECK_EQ(read(sv[1], buf, sizeof buf), 1);
    CHECK_EQ(recv(sv[1], buf, sizeof buf, 0), 2);
    CHECK(memcmp(buf, "bb", 2) == 0);
    CHECK_EQ(recv(sv[1], buf, sizeof buf, 0), 3);
    CHECK(memcmp(buf, "ccc", 3) == 0);
    CHECK_ERRNO(recv(sv[1], buf, sizeof buf, MSG_DONTWAIT), EAGAIN);
    CHECK_EQ(write(sv[1], "back", 4), 4);
    CHECK_EQ(read(sv[0], buf, sizeof buf), 4);
    close(sv[0]);
    close(sv[1]);
}

TEST(socketpair_seqpacket_nonblock)
{
    int sv[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0, sv));
    CHECK_EQ(fcntl(sv[0], F_GETFL) & O_NONBLOCK, O_NONBLOCK);
    CHECK_EQ(fcntl(sv[1], F_GETFL) & O_NONBLOCK, O_NONBLOCK);
    char c;
    CHECK_ERRNO(read(sv[0], &c, 1), EAGAIN);
    close(sv[0]);
    close(sv[1]);
}

TEST(listen_connect_accept_keeps_boundaries)
{
    const char *d = newdir();
    CHECK(d);
    struct sockaddr_un a;
    socklen_t len = path_addr(&a, P(d, "seq"));
    int l = bound(SOCK_SEQPACKET, &a, len, 5);
    CHECK_OK(l);
    CHECK_EQ(sockopt_int(l, SOL_SOCKET, SO_ACCEPTCONN), 1);
    int c = connected(SOCK_SEQPACKET, &a, len);
    CHECK_OK(c);
    struct sockaddr_un from;
    socklen_t flen = sizeof from;
    int s = accept4(l, (struct sockaddr *)&from, &flen, SOCK_CLOEXEC | SOCK_NONBLOCK);
    CHECK_OK(s);
    CHECK_EQ(flen, FAMLEN);
    CHECK_EQ(fcntl(s, F_GETFD), FD_CLOEXEC);
    CHECK_EQ(fcntl(s, F_GETFL) & O_NONBLOCK, O_NONBLOCK);
    CHECK_EQ(sockopt_int(s, SOL_SOCKET, SO_TYPE), SOCK_SEQPACKET);
    struct sockaddr_un got;
    socklen_t glen = sizeof got;
    CHECK_OK(getpeername(c, (struct sockaddr *)&got, &glen));
    CHECK_EQ(glen, len);
    CHECK(strcmp(got.sun_path, P(d, "seq")) == 0);
    static const char *msgs[] = {"first message", "2", "the third one is longer than that"};
    for (int i = 0; i < 3; i++)
        CHECK_EQ(send(c, msgs[i], strlen(msgs[i]), 0), (ssize_t)strlen(msgs[i]));
    char buf[128];
    for (int i = 0; i < 3; i++) {
        ssize_t r = recv(s, buf, sizeof buf, 0);
        CHECK_EQ(r, (ssize_t)strlen(msgs[i]));
        CHECK(memcmp(buf, msgs[i], (size_t)r) == 0);
    }
    CHECK_ERRNO(recv(s, buf, sizeof buf, 0), EAGAIN);
    close(s);
    close(c);
    close(l);
}

TEST(seqpacket_backlog_and_nonblocking_connect)
{
    struct sockaddr_un a;
    socklen_t len = abs_addr(&a, "bl");
    int l = bound(SOCK_SEQPACKET, &a, len, 1);
    CHECK_OK(l);
    int c[3];
    for (int i = 0; i < 2; i++) {
        c[i] = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0);
        CHECK_OK(c[i]);
        CHECK_OK(connect(c[i], (struct sockaddr *)&a, len));
    }
    c[2] = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0);
    CHECK_OK(c[2]);
    CHECK_ERRNO(connect(c[2], (struct sockaddr *)&a, len), EAGAIN);
    int s = accept(l, NULL, NULL);
    CHECK_OK(s);
    CHECK_OK(connect(c[2], (struct sockaddr *)&a, len));
    close(s);
    for (int i = 0; i < 3; i++)
        close(c[i]);
    close(l);
}

TEST(seqpacket_connect_errors)
{
    const char *d = newdir();
    CHECK(d);
    struct sockaddr_un a;
    socklen_t len = path_addr(&a, P(d, "missing"));
    CHECK_ERRNO(connected(SOCK_SEQPACKET, &a, len), ENOENT);
    len = path_addr(&a, P(d, "notlistening"));
    int nl = bound(SOCK_SEQPACKET, &a, len, -1);
    CHECK_OK(nl);
    CHECK_ERRNO(connected(SOCK_SEQPACKET, &a, len), ECONNREFUSED);
    len = path_addr(&a, P(d, "stream"));
    int st = bound(SOCK_STREAM, &a, len, 5);
    CHECK_OK(st);
    CHECK_ERRNO(connected(SOCK_SEQPACKET, &a, len), EPROTOTYPE);
    len = path_addr(&a, P(d, "dgram"));
    int dg = bound(SOCK_DGRAM, &a, len, -1);
    CHECK_OK(dg);
    CHECK_ERRNO(connected(SOCK_SEQPACKET, &a, len), EPROTOTYPE);
    close(nl);
    close(st);
    close(dg);
    /* listen needs a name */
    int fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
    CHECK_OK(fd);
    CHECK_ERRNO(listen(fd, 5), EINVAL);
    CHECK_ERRNO(accept(fd, NULL, NULL), EINVAL);
    close(fd);
}

TEST(seqpacket_eisconn)
{
    int c, s;
    CHECK_OK(seq_connection(&c, &s));
    struct sockaddr_un a;
    socklen_t len = abs_addr(&a, "ic");
    int l = bound(SOCK_SEQPACKET, &a, len, 5);
    CHECK_OK(l);
    CHECK_ERRNO(connect(c, (struct sockaddr *)&a, len), EISCONN);
    close(l);
    close(c);
    close(s);
}

TEST(unconnected_seqpacket_send_enotconn)
{
    int fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
    CHECK_OK(fd);
    CHECK_ERRNO(send(fd, "x", 1, 0), ENOTCONN);
    CHECK_ERRNO(write(fd, "x", 1), ENOTCONN);
    struct sockaddr_un a;
    socklen_t len = abs_addr(&a, "nc");
    int l = bound(SOCK_SEQPACKET, &a, len, 5);
    CHECK_OK(l);
    /* sendto with an address does not connect a seqpacket socket */
    CHECK_ERRNO(sendto(fd, "x", 1, 0, (struct sockaddr *)&a, len), ENOTCONN);
    close(l);
    close(fd);
}

TEST(truncation_sets_msg_trunc_and_discards_rest)
{
    int c, s;
    CHECK_OK(seq_connection(&c, &s));
    CHECK_EQ(send(c, "abcdefghij", 10, 0), 10);
    CHECK_EQ(send(c, "XY", 2, 0), 2);
    char buf[16] = {0};
    struct iovec iov = {buf, 4};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
    CHECK_EQ(recvmsg(s, &m, 0), 4);
    CHECK(memcmp(buf, "abcd", 4) == 0);
    CHECK(m.msg_flags & MSG_TRUNC);
    memset(&m, 0, sizeof m);
    iov.iov_len = sizeof buf;
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    CHECK_EQ(recvmsg(s, &m, 0), 2);
    CHECK(memcmp(buf, "XY", 2) == 0);
    CHECK_EQ(m.msg_flags & MSG_TRUNC, 0);
    /* plain recv truncates silently */
    CHECK_EQ(send(c, "0123456789", 10, 0), 10);
    CHECK_EQ(recv(s, buf, 3, 0), 3);
    CHECK_EQ(send(c, "n", 1, 0), 1);
    CHECK_EQ(recv(s, buf, sizeof buf, 0), 1);
    CHECK_EQ(buf[0], 'n');
    close(c);
    close(s);
}

TEST(recv_msg_trunc_flag_returns_full_length)
{
    int sv[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv));
    CHECK_EQ(send(sv[0], "0123456789abcdef", 16, 0), 16);
    char buf[8] = {0};
    CHECK_EQ(recv(sv[1], buf, 4, MSG_TRUNC), 16);
    CHECK(memcmp(buf, "0123", 4) == 0);
    CHECK_EQ(send(sv[0], "xyz", 3, 0), 3);
    CHECK_EQ(recv(sv[1], NULL, 0, MSG_TRUNC | MSG_PEEK), 3);
    CHECK_EQ(recv(sv[1], buf, sizeof buf, 0), 3);
    close(sv[0]);
    close(sv[1]);
}

TEST(zero_length_record)
{
    int sv[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv));
    CHECK_EQ(send(sv[0], "", 0, 0), 0);
    CHECK_EQ(send(sv[0], "x", 1, 0), 1);
    char buf[4];
    CHECK_EQ(recv(sv[1], buf, sizeof buf, MSG_DONTWAIT), 0);
    CHECK_EQ(recv(sv[1], buf, sizeof buf, MSG_DONTWAIT), 1);
    CHECK_ERRNO(recv(sv[1], buf, sizeof buf, MSG_DONTWAIT), EAGAIN);
    close(sv[0]);
    close(sv[1]);
}

TEST(msg_peek_whole_record)
{
    int sv[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv));
    CHECK_EQ(send(sv[0], "record1", 7, 0), 7);
    CHECK_EQ(send(sv[0], "r2", 2, 0), 2);
    char buf[16];
    CHECK_EQ(recv(sv[1], buf, 3, MSG_PEEK), 3);
    CHECK_EQ(recv(sv[1], buf, sizeof buf, MSG_PEEK), 7);
    CHECK_EQ(recv(sv[1], buf, sizeof buf, 0), 7);
    CHECK(memcmp(buf, "record1", 7) == 0);
    CHECK_EQ(recv(sv[1], buf, sizeof buf, 0), 2);
    close(sv[0]);
    close(sv[1]);
}

TEST(sendmsg_recvmsg_iovecs_one_record)
{
    int sv[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv));
    struct iovec wv[3] = {{"he", 2}, {"llo ", 4}, {"world", 5}};
    struct msghdr m = {.msg_iov = wv, .msg_iovlen = 3};
    CHECK_EQ(sendmsg(sv[0], &m, 0), 11);
    CHECK_EQ(send(sv[0], "!", 1, 0), 1);
    char x[5], y[16];
    memset(y, 0, sizeof y);
    struct iovec rv[2] = {{x, 5}, {y, sizeof y}};
    struct msghdr r = {.msg_iov = rv, .msg_iovlen = 2};
    CHECK_EQ(recvmsg(sv[1], &r, 0), 11);
    CHECK(memcmp(x, "hello", 5) == 0);
    CHECK(memcmp(y, " world", 6) == 0);
    CHECK_EQ(r.msg_flags, 0);
    char c;
    CHECK_EQ(read(sv[1], &c, 1), 1);
    CHECK_EQ(c, '!');
    close(sv[0]);
    close(sv[1]);
}

TEST(emsgsize_record_bigger_than_sndbuf)
{
    int sv[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv));
    int v = 8192;
    CHECK_OK(setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &v, sizeof v));
    static char big[32768];
    CHECK_ERRNO(send(sv[0], big, 16384, MSG_DONTWAIT), EMSGSIZE);
    CHECK_ERRNO(send(sv[0], big, sizeof big, MSG_DONTWAIT), EMSGSIZE);
    CHECK_EQ(send(sv[0], big, 8000, MSG_DONTWAIT), 8000);
    CHECK_EQ(recv(sv[1], big, sizeof big, 0), 8000);
    close(sv[0]);
    close(sv[1]);
}

TEST(peer_close_eof_and_epipe)
{
    int c, s;
    CHECK_OK(seq_connection(&c, &s));
    CHECK_EQ(send(c, "bye", 3, 0), 3);
    CHECK_OK(close(c));
    char buf[8];
    CHECK_EQ(recv(s, buf, sizeof buf, 0), 3);
    CHECK_EQ(recv(s, buf, sizeof buf, 0), 0);
    CHECK_EQ(recv(s, buf, sizeof buf, 0), 0);
    CHECK_ERRNO(send(s, "x", 1, MSG_NOSIGNAL), EPIPE);
    close(s);
}

TEST(shutdown_wr_peer_sees_eof)
{
    int sv[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv));
    CHECK_EQ(send(sv[0], "m", 1, 0), 1);
    CHECK_OK(shutdown(sv[0], SHUT_WR));
    char buf[4];
    CHECK_EQ(recv(sv[1], buf, sizeof buf, 0), 1);
    CHECK_EQ(recv(sv[1], buf, sizeof buf, 0), 0);
    CHECK_ERRNO(send(sv[0], "x", 1, MSG_NOSIGNAL), EPIPE);
    CHECK_EQ(send(sv[1], "r", 1, 0), 1);
    CHECK_EQ(recv(sv[0], buf, sizeof buf, 0), 1);
    close(sv[0]);
    close(sv[1]);
}

TEST(shutdown_rd_peer_gets_epipe)
{
    int sv[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv));
    CHECK_OK(shutdown(sv[0], SHUT_RD));
    char c;
    CHECK_EQ(recv(sv[0], &c, 1, 0), 0);
    CHECK_ERRNO(send(sv[1], "x", 1, MSG_NOSIGNAL), EPIPE);
    close(sv[0]);
    close(sv[1]);
}

TEST(blocking_recv_wakes_on_record)
{
    int sv[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv));
    pid_t pid = fork();
    CHECK_OK(pid);
    if (pid == 0) {
        close(sv[0]);
        CCHECK(wait_sleeping_or_hup(getppid(), sv[1]));
        CCHECK(send(sv[1], "wake up", 7, 0) == 7);
        _exit(0);
    }
    char buf[16];
    ssize_t r = recv(sv[0], buf, sizeof buf, 0);
    CHECK_CHILD_OK(pid);
    CHECK_EQ(r, 7);
    CHECK(memcmp(buf, "wake up", 7) == 0);
    close(sv[0]);
    close(sv[1]);
}

TEST(many_records_through_child)
{
    int sv[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv));
    enum { N = 2000 };
    pid_t pid = fork();
    CHECK_OK(pid);
    if (pid == 0) {
        close(sv[0]);
        char buf[300];
        for (int i = 0; i < N; i++) {
            size_t len = (size_t)(i % 300) + 1;
            memset(buf, 'a' + i % 26, len);
            CCHECK(send(sv[1], buf, len, 0) == (ssize_t)len);
        }
        _exit(0);
    }
    close(sv[1]);
    char buf[512];
    int bad = -1;
    for (int i = 0; i < N && bad < 0; i++) {
        ssize_t r = recv(sv[0], buf, sizeof buf, 0);
        if (r != (ssize_t)(i % 300) + 1 || buf[0] != 'a' + i % 26 || buf[r - 1] != buf[0])
            bad = i;
    }
    CHECK_EQ(bad, -1);
    CHECK_EQ(recv(sv[0], buf, sizeof buf, 0), 0);
    CHECK_CHILD_OK(pid);
    close(sv[0]);
}
