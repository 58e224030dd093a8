/* unix_leak.c - no memory or fd leaks in AF_UNIX socket life cycles: MemFree from
 * /proc/meminfo before and after 10,000 stream connect/accept/close cycles, filesystem-name
 * bind/connect/unlink cycles, datagram and seqpacket sockets closed with unread messages,
 * socketpairs closed with an unread SCM_RIGHTS message carrying pipe ends, and sockets sent
 * into their own receive queue (reclaimed only by the garbage collector). MemFree may drop by at
 * most 8 MiB (it may also rise: on the host other activity moves it both ways); a warm-up round
 * runs first and a round is retried up to 10 times before a drop counts as a leak, as in
 * leak.c. Each round also checks that the process has as many open fds as before.
 * Each case prints "# MemFree delta" as a TAP comment.
 * Files live in a mkdtemp("/tmp/ptest.XXXXXX") directory removed at exit; abstract names carry
 * the pid.
 * Syscalls: socket, socketpair, bind, listen, connect, accept, sendto, sendmsg, recv, read,
 * write, close, unlink, pipe2, fcntl, openat.
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

#define SLACK_KB (8 * 1024L)
#include "leakcheck.h"

static struct sockaddr_un listen_addr;
static socklen_t listen_len;
static int listener = -1;

static int connect_accept_round(int n)
{
    for (int i = 0; i < n; i++) {
        int c = socket(AF_UNIX, SOCK_STREAM, 0);
        if (c < 0)
            return -1;
        if (connect(c, (struct sockaddr *)&listen_addr, listen_len) != 0)
            return -2;
        int s = accept(listener, NULL, NULL);
        if (s < 0)
            return -3;
        char b = 'x';
        if (write(c, &b, 1) != 1 || read(s, &b, 1) != 1)
            return -4;
        if (i % 2 && write(s, "unread", 6) != 6) /* every other one closes with unread data */
            return -5;
        close(c);
        close(s);
    }
    return 0;
}

static const char *leak_dir;

static int path_round(int n)
{
    struct sockaddr_un a;
    socklen_t len = path_addr(&a, P(leak_dir, "sock"));
    for (int i = 0; i < n; i++) {
        int l = bound(SOCK_STREAM, &a, len, 1);
        if (l < 0)
            return -1;
        int c = connected(SOCK_STREAM, &a, len);
        if (c < 0)
            return -2;
        int s = accept(l, NULL, NULL);
        if (s < 0)
            return -3;
        close(c);
        close(s);
        close(l);
        if (unlink(P(leak_dir, "sock")) != 0)
            return -4;
    }
    return 0;
}

static int dgram_round(int n)
{
    char buf[200];
    memset(buf, 'd', sizeof buf);
    for (int i = 0; i < n; i++) {
        struct sockaddr_un a;
        socklen_t len = abs_addr(&a, "dg");
        int r = bound(SOCK_DGRAM, &a, len, -1);
        if (r < 0)
            return -1;
        int s = socket(AF_UNIX, SOCK_DGRAM, 0);
        if (s < 0)
            return -2;
        for (int k = 0; k < 4; k++)
            if (sendto(s, buf, sizeof buf, 0, (struct sockaddr *)&a, len) != sizeof buf)
                return -3;
        char b[8];
        if (recv(r, b, sizeof b, 0) != (ssize_t)sizeof b) /* one read, truncated */
            return -4;
        close(s);
        close(r); /* with 3 unread datagrams */
    }
    return 0;
}

static int seqpacket_round(int n)
{
    char buf[300];
    memset(buf, 's', sizeof buf);
    for (int i = 0; i < n; i++) {
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) != 0)
            return -1;
        for (int k = 0; k < 3; k++)
            if (send(sv[k & 1], buf, sizeof buf, 0) != sizeof buf)
                return -2;
        close(sv[0]);
        close(sv[1]);
    }
    return 0;
}

static ssize_t send_fds(int sock, const int *fds, int nfds)
{
    union {
        char buf[CMSG_SPACE(4 * sizeof(int))];
        struct cmsghdr align;
    } u;
    memset(&u, 0, sizeof u);
    struct iovec iov = {"r", 1};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
                       .msg_controllen = CMSG_SPACE((size_t)nfds * sizeof(int))};
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN((size_t)nfds * sizeof(int));
    memcpy(CMSG_DATA(c), fds, (size_t)nfds * sizeof(int));
    return sendmsg(sock, &m, 0);
}

static int scm_unread_round(int n)
{
    for (int i = 0; i < n; i++) {
        int sv[2], p[2];
        if (socketpair(AF_UNIX, i % 2 ? SOCK_DGRAM : SOCK_STREAM, 0, sv) != 0)
            return -1;
        if (pipe(p) != 0)
            return -2;
        if (write(p[1], "pipe data", 9) != 9)
            return -3;
        if (send_fds(sv[0], p, 2) != 1)
            return -4;
        close(p[0]);
        close(p[1]);
        close(sv[0]);
        close(sv[1]);
    }
    return 0;
}

static int scm_cycle_round(int n)
{
    for (int i = 0; i < n; i++) {
        int sv[2], p[2];
        if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
            return -1;
        if (pipe(p) != 0)
            return -2;
        int fds[2] = {sv[1], p[1]};
        if (send_fds(sv[0], fds, 2) != 1) /* sv[1] into its own queue */
            return -3;
        close(p[1]);
        close(sv[0]);
        close(sv[1]);
        close(p[0]);
    }
    return 0;
}

TEST(stream_connect_accept_close_10000_cycles_no_leak)
{
    listen_len = abs_addr(&listen_addr, "leak");
    listener = bound(SOCK_STREAM, &listen_addr, listen_len, 16);
    CHECK_OK(listener);
    CHECK_NO_LEAK_FDS(connect_accept_round, 10000);
    close(listener);
}

TEST(path_bind_connect_unlink_cycles_no_leak)
{
    leak_dir = newdir();
    CHECK(leak_dir);
    CHECK_NO_LEAK_FDS(path_round, 2000);
}

TEST(dgram_closed_with_unread_messages_no_leak) { CHECK_NO_LEAK_FDS(dgram_round, 2000); }

TEST(seqpacket_pairs_closed_with_unread_records_no_leak) { CHECK_NO_LEAK_FDS(seqpacket_round, 3000); }

TEST(scm_rights_never_read_no_leak) { CHECK_NO_LEAK_FDS(scm_unread_round, 3000); }

TEST(scm_rights_cycle_releases_passed_pipe)
{
    /* after a cycle is closed, the pipe end it carried is released (EOF for the reader) */
    int sv[2], p[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    CHECK_OK(pipe(p));
    int fds[2] = {sv[1], p[1]};
    CHECK_EQ(send_fds(sv[0], fds, 2), 1);
    close(p[1]);
    close(sv[0]);
    close(sv[1]);
    /* another close of a unix socket while fds are in flight runs Linux's collector */
    int t[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, t));
    close(t[0]);
    close(t[1]);
    CHECK_EQ(poll1(p[0], POLLIN, 10000) & POLLHUP, POLLHUP);
    char c;
    CHECK_EQ(read(p[0], &c, 1), 0);
    close(p[0]);
}

TEST(scm_rights_socket_in_own_queue_collected_no_leak)
{
    CHECK_NO_LEAK_FDS(scm_cycle_round, 2000);
}
