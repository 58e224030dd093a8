/* unix_scm.c - control messages on AF_UNIX sockets: SCM_RIGHTS (a passed fd is a new fd of the
 * same open file: shared offset and status flags, same inode; across processes; several fds in
 * one message; over stream, datagram and seqpacket sockets; MSG_CMSG_CLOEXEC; MSG_CTRUNC with
 * the fds that did not fit closed; fds dropped when read without a control buffer; in-flight
 * fds released when the message is never read, also when a socket is in flight in its own
 * queue; EBADF), SCM_CREDENTIALS with SO_PASSCRED (automatic and explicit credentials, EPERM for
 * forged ones, autobind of a SO_PASSCRED sender), and SO_PEERCRED on connections (the
 * connector's and the listener's credentials), socketpairs and unconnected sockets.
 * Files live in a mkdtemp("/tmp/ptest.XXXXXX") directory removed at exit; abstract names carry
 * the pid.
 * Syscalls: socket, socketpair, bind, listen, connect, accept, sendmsg, recvmsg, getsockopt,
 * setsockopt, getsockname, openat, read, write, lseek, fstat, fcntl, pipe2, close, poll, fork,
 * wait4, setuid, setgid, setgroups, getpid, getuid, getgid.
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

#include <grp.h>

#define NOBODY 65534

/* Sends `len` bytes of `data` with the n fds in one SCM_RIGHTS message. */
static ssize_t send_fds(int sock, const int *fds, int n, const char *data, size_t len)
{
    union {
        char buf[CMSG_SPACE(16 * sizeof(int))];
        struct cmsghdr align;
    } u;
    memset(&u, 0, sizeof u);
    struct iovec iov = {(void *)data, len};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
    if (n > 0) {
        m.msg_control = u.buf;
        m.msg_controllen = CMSG_SPACE((size_t)n * sizeof(int));
        struct cmsghdr *c = CMSG_FIRSTHDR(&m);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN((size_t)n * sizeof(int));
        memcpy(CMSG_DATA(c), fds, (size_t)n * sizeof(int));
    }
    return sendmsg(sock, &m, 0);
}

/* Receives into buf with a control buffer of `ctl` bytes; the SCM_RIGHTS fds go to fds
 * (*nfds of them), the message flags to *mflags. Returns recvmsg's result. */
static ssize_t recv_fds(int sock, char *buf, size_t len, int *fds, int *nfds, size_t ctl,
                        int flags, int *mflags)
{
    union {
        char buf[CMSG_SPACE(16 * sizeof(int))];
        struct cmsghdr align;
    } u;
    memset(&u, 0, sizeof u);
    struct iovec iov = {buf, len};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
    if (ctl > 0) {
        m.msg_control = u.buf;
        m.msg_controllen = ctl;
    }
    *nfds = 0;
    ssize_t r = recvmsg(sock, &m, flags);
    if (r < 0)
        return r;
    if (mflags)
        *mflags = m.msg_flags;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
            int k = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
            memcpy(fds + *nfds, CMSG_DATA(c), (size_t)k * sizeof(int));
            *nfds += k;
        }
    }
    return r;
}

/* Number of open fds below 1024. */
static int count_fds(void)
{
    int n = 0;
    for (int fd = 0; fd < 1024; fd++)
        if (fcntl(fd, F_GETFD) >= 0)
            n++;
    return n;
}

/* A scratch file with content; returns an O_RDWR fd or -1. */
static int scratch_file(const char *dir, const char *name, const char *data)
{
    int fd = open(P(dir, name), O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return -1;
    if (write(fd, data, strlen(data)) != (ssize_t)strlen(data) || lseek(fd, 0, SEEK_SET) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* ---- SCM_RIGHTS ---- */

TEST(scm_rights_same_open_file)
{
    const char *d = newdir();
    CHECK(d);
    int f = scratch_file(d, "f", "0123456789");
    CHECK_OK(f);
    int sv[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    CHECK_EQ(send_fds(sv[0], &f, 1, "F", 1), 1);
    char c;
    int got[16], n = 0, mf = -1;
    CHECK_EQ(recv_fds(sv[1], &c, 1, got, &n, CMSG_SPACE(sizeof(int)), 0, &mf), 1);
    CHECK_EQ(c, 'F');
    CHECK_EQ(n, 1);
    CHECK_EQ(mf, 0);
    int g = got[0];
    CHECK_NE(g, f);
    CHECK(fcntl(g, F_GETFD) >= 0);
    struct stat s1, s2;
    CHECK_OK(fstat(f, &s1));
    CHECK_OK(fstat(g, &s2));
    CHECK_EQ(s1.st_ino, s2.st_ino);
    CHECK_EQ(s1.st_dev, s2.st_dev);
    /* the offset is shared */
    CHECK_EQ(lseek(f, 4, SEEK_SET), 4);
    CHECK_EQ(lseek(g, 0, SEEK_CUR), 4);
    char buf[4];
    CHECK_EQ(read(g, buf, 2), 2);
    CHECK(memcmp(buf, "45", 2) == 0);
    CHECK_EQ(lseek(f, 0, SEEK_CUR), 6);
    /* and so are the status flags */
    CHECK_OK(fcntl(f, F_SETFL, O_APPEND));
    CHECK_EQ(fcntl(g, F_GETFL) & O_APPEND, O_APPEND);
    /* but not the fd flags */
    CHECK_OK(fcntl(f, F_SETFD, FD_CLOEXEC));
    CHECK_EQ(fcntl(g, F_GETFD), 0);
    /* the received fd outlives the original */
    CHECK_OK(close(f));
    CHECK_EQ(lseek(g, 0, SEEK_SET), 0);
    CHECK_EQ(read(g, buf, 3), 3);
    CHECK(memcmp(buf, "012", 3) == 0);
    close(g);
    close(sv[0]);
    close(sv[1]);
}

TEST(scm_rights_lowest_free_fd)
{
    int sv[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    int p[2];
    CHECK_OK(pipe(p));
    int hole = dup(0);
    CHECK_OK(hole);
    CHECK_OK(close(hole)); /* the lowest free fd is now `hole` */
    CHECK_EQ(send_fds(sv[0], &p[1], 1, "x", 1), 1);
    char c;
    int got[16], n = 0;
    CHECK_EQ(recv_fds(sv[1], &c, 1, got, &n, CMSG_SPACE(sizeof(int)), 0, NULL), 1);
    CHECK_EQ(n, 1);
    CHECK_EQ(got[0], hole);
    close(got[0]);
    close(p[0]);
    close(p[1]);
    close(sv[0]);
    close(sv[1]);
}

TEST(scm_rights_across_processes)
{
    int sv[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    pid_t pid = fork();
    CHECK_OK(pid);
    if (pid == 0) {
        close(sv[0]);
        int p[2];
        CCHECK(pipe(p) == 0);
        CCHECK(send_fds(sv[1], &p[0], 1, "P", 1) == 1);
        close(p[0]);
        CCHECK(write(p[1], "from child", 10) == 10);
        _exit(0);
    }
    close(sv[1]);
    char c;
    int got[16], n = 0;
    CHECK_EQ(recv_fds(sv[0], &c, 1, got, &n, CMSG_SPACE(sizeof(int)), 0, NULL), 1);
    CHECK_EQ(n, 1);
    CHECK_CHILD_OK(pid);
    char buf[16];
    CHECK_EQ(read(got[0], buf, sizeof buf), 10);
    CHECK(memcmp(buf, "from child", 10) == 0);
    CHECK_EQ(read(got[0], buf, sizeof buf), 0); /* the child's write end is gone */
    close(got[0]);
    close(sv[0]);
}

TEST(scm_rights_to_child_process)
{
    const char *d = newdir();
    CHECK(d);
    int sv[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv));
    pid_t pid = fork();
    CHECK_OK(pid);
    if (pid == 0) {
        close(sv[0]);
        char c;
        int got[16], n = 0;
        CCHECK(recv_fds(sv[1], &c, 1, got, &n, CMSG_SPACE(sizeof(int)), 0, NULL) == 1);
        CCHECK(n == 1);
        CCHECK(write(got[0], "child wrote", 11) == 11);
        _exit(0);
    }
    close(sv[1]);
    int f = open(P(d, "out"), O_RDWR | O_CREAT | O_TRUNC, 0644);
    CHECK_OK(f);
    CHECK_EQ(send_fds(sv[0], &f, 1, "f", 1), 1);
    CHECK_CHILD_OK(pid);
    /* the child's write moved our offset */
    CHECK_EQ(lseek(f, 0, SEEK_CUR), 11);
    char buf[16];
    CHECK_EQ(pread(f, buf, sizeof buf, 0), 11);
    CHECK(memcmp(buf, "child wrote", 11) == 0);
    close(f);
    close(sv[0]);
}

TEST(scm_rights_several_fds_in_one_message)
{
    const char *d = newdir();
    CHECK(d);
    int f[3];
    f[0] = scratch_file(d, "a", "A");
    f[1] = scratch_file(d, "b", "B");
    f[2] = scratch_file(d, "c", "C");
    for (int i = 0; i < 3; i++)
        CHECK_OK(f[i]);
    int sv[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv));
    CHECK_EQ(send_fds(sv[0], f, 3, "3fds", 4), 4);
    char buf[8];
    int got[16], n = 0, mf = -1;
    CHECK_EQ(recv_fds(sv[1], buf, sizeof buf, got, &n, CMSG_SPACE(3 * sizeof(int)), 0, &mf), 4);
    CHECK_EQ(n, 3);
    CHECK_EQ(mf, 0);
    for (int i = 0; i < 3; i++) {
        struct stat s1, s2;
        CHECK_OK(fstat(f[i], &s1));
        CHECK_OK(fstat(got[i], &s2));
        CHECK_EQ(s1.st_ino, s2.st_ino);
        char c;
        CHECK_EQ(read(got[i], &c, 1), 1);
        CHECK_EQ(c, "ABC"[i]);
        close(got[i]);
        close(f[i]);
    }
    CHECK(got[0] != got[1] && got[1] != got[2] && got[0] != got[2]);
    close(sv[0]);
    close(sv[1]);
}

TEST(scm_rights_same_fd_twice)
{
    int p[2];
    CHECK_OK(pipe(p));
    int sv[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv));
    int two[2] = {p[1], p[1]};
    CHECK_EQ(send_fds(sv[0], two, 2, "2", 1), 1);
    char c;
    int got[16], n = 0;
    CHECK_EQ(recv_fds(sv[1], &c, 1, got, &n, CMSG_SPACE(2 * sizeof(int)), 0, NULL), 1);
    CHECK_EQ(n, 2);
    CHECK_NE(got[0], got[1]);
    CHECK_EQ(write(got[0], "a", 1), 1);
    CHECK_EQ(write(got[1], "b", 1), 1);
    char buf[2];
    CHECK_EQ(read(p[0], buf, 2), 2);
    CHECK(memcmp(buf, "ab", 2) == 0);
    close(got[0]);
    close(got[1]);
    close(p[0]);
    close(p[1]);
    close(sv[0]);
    close(sv[1]);
}

TEST(scm_rights_passes_sockets)
{
    /* a socket passed over a socket keeps its connection */
    int sv[2], inner[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, inner));
    CHECK_EQ(send_fds(sv[0], &inner[1], 1, "s", 1), 1);
    CHECK_OK(close(inner[1]));
    char c;
    int got[16], n = 0;
    CHECK_EQ(recv_fds(sv[1], &c, 1, got, &n, CMSG_SPACE(sizeof(int)), 0, NULL), 1);
    CHECK_EQ(n, 1);
    CHECK_EQ(write(inner[0], "hey", 3), 3);
    char buf[4];
    CHECK_EQ(read(got[0], buf, sizeof buf), 3);
    CHECK_EQ(sockopt_int(got[0], SOL_SOCKET, SO_TYPE), SOCK_STREAM);
    close(got[0]);
    close(inner[0]);
    close(sv[0]);
    close(sv[1]);
}

TEST(msg_cmsg_cloexec)
{
    int p[2];
    CHECK_OK(pipe(p));
    int sv[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    CHECK_EQ(send_fds(sv[0], &p[0], 1, "a", 1), 1);
    CHECK_EQ(send_fds(sv[0], &p[0], 1, "b", 1), 1);
    char c;
    int got[16], n = 0;
    CHECK_EQ(recv_fds(sv[1], &c, 1, got, &n, CMSG_SPACE(sizeof(int)), MSG_CMSG_CLOEXEC, NULL), 1);
    CHECK_EQ(n, 1);
    CHECK_EQ(fcntl(got[0], F_GETFD), FD_CLOEXEC);
    close(got[0]);
    CHECK_EQ(recv_fds(sv[1], &c, 1, got, &n, CMSG_SPACE(sizeof(int)), 0, NULL), 1);
    CHECK_EQ(n, 1);
    CHECK_EQ(fcntl(got[0], F_GETFD), 0);
    close(got[0]);
    /* the sender's FD_CLOEXEC is not carried over */
    CHECK_OK(fcntl(p[1], F_SETFD, FD_CLOEXEC));
    CHECK_EQ(send_fds(sv[0], &p[1], 1, "c", 1), 1);
    CHECK_EQ(recv_fds(sv[1], &c, 1, got, &n, CMSG_SPACE(sizeof(int)), 0, NULL), 1);
    CHECK_EQ(n, 1);
    CHECK_EQ(fcntl(got[0], F_GETFD), 0);
    close(got[0]);
    close(p[0]);
    close(p[1]);
    close(sv[0]);
    close(sv[1]);
}

TEST(msg_ctrunc_closes_fds_that_did_not_fit)
{
    int p[2];
    CHECK_OK(pipe(p));
    int sv[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv));
    int three[3] = {p[1], p[1], p[1]};
    CHECK_EQ(send_fds(sv[0], three, 3, "t", 1), 1);
    int before = count_fds();
    char c;
    int got[16], n = 0, mf = 0;
    CHECK_EQ(recv_fds(sv[1], &c, 1, got, &n, CMSG_LEN(sizeof(int)), 0, &mf), 1);
    CHECK(mf & MSG_CTRUNC);
    CHECK_EQ(n, 1);
    CHECK_EQ(count_fds(), before + 1);
    close(got[0]);
    /* CMSG_SPACE(sizeof(int)) has room for two fds (the padding counts) */
    CHECK_EQ(send_fds(sv[0], three, 3, "v", 1), 1);
    before = count_fds();
    mf = 0;
    CHECK_EQ(recv_fds(sv[1], &c, 1, got, &n, CMSG_SPACE(sizeof(int)), 0, &mf), 1);
    CHECK(mf & MSG_CTRUNC);
    CHECK_EQ(n, 2);
    CHECK_EQ(count_fds(), before + 2);
    close(got[0]);
    close(got[1]);
    /* no control buffer at all: MSG_CTRUNC, no fds */
    CHECK_EQ(send_fds(sv[0], three, 3, "u", 1), 1);
    before = count_fds();
    mf = 0;
    CHECK_EQ(recv_fds(sv[1], &c, 1, got, &n, 0, 0, &mf), 1);
    CHECK(mf & MSG_CTRUNC);
    CHECK_EQ(n, 0);
    CHECK_EQ(count_fds(), before);
    /* the dropped copies are closed: after closing ours the pipe reader sees EOF */
    CHECK_OK(close(p[1]));
    CHECK_EQ(read(p[0], &c, 1), 0);
    close(p[0]);
    close(sv[0]);
    close(sv[1]);
}

TEST(fds_dropped_when_read_without_control)
{
    int p[2];
    CHECK_OK(pipe(p));
    int sv[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    CHECK_EQ(send_fds(sv[0], &p[1], 1, "data", 4), 4);
    CHECK_OK(close(p[1]));
    int before = count_fds();
    char buf[8];
    CHECK_EQ(read(sv[1], buf, sizeof buf), 4);
    CHECK_EQ(count_fds(), before);
    CHECK_EQ(poll1(p[0], POLLIN, 10000) & POLLHUP, POLLHUP);
    CHECK_EQ(read(p[0], buf, 1), 0);
    close(p[0]);
    close(sv[0]);
    close(sv[1]);
}

TEST(in_flight_fds_released_when_never_read)
{
    int p[2];
    CHECK_OK(pipe(p));
    int sv[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    CHECK_EQ(send_fds(sv[0], &p[1], 1, "x", 1), 1);
    CHECK_OK(close(p[1]));
    /* the only other reference is in flight: the pipe has a writer */
    CHECK_EQ(poll1(p[0], POLLIN, 200), 0);
    CHECK_OK(close(sv[0]));
    CHECK_OK(close(sv[1]));
    CHECK_EQ(poll1(p[0], POLLIN, 10000) & POLLHUP, POLLHUP);
    char c;
    CHECK_EQ(read(p[0], &c, 1), 0);
    close(p[0]);
}

TEST(in_flight_fds_released_from_dgram_queue)
{
    int p[2];
    CHECK_OK(pipe(p));
    struct sockaddr_un a;
    socklen_t len = abs_addr(&a, "if");
    int r = bound(SOCK_DGRAM, &a, len, -1);
    CHECK_OK(r);
    int s = connected(SOCK_DGRAM, &a, len);
    CHECK_OK(s);
    CHECK_EQ(send_fds(s, &p[1], 1, "x", 1), 1);
    CHECK_OK(close(p[1]));
    CHECK_OK(close(s));
    CHECK_EQ(poll1(p[0], POLLIN, 200), 0); /* still queued at r */
    CHECK_OK(close(r));
    CHECK_EQ(poll1(p[0], POLLIN, 10000) & POLLHUP, POLLHUP);
    close(p[0]);
}

TEST(socket_in_flight_in_its_own_queue_collected)
{
    /* sv[1] is sent into its own receive queue along with a pipe's write end: only the
     * garbage collector can free them once both fds are closed */
    int p[2];
    CHECK_OK(pipe(p));
    int sv[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    int fds[2] = {sv[1], p[1]};
    CHECK_EQ(send_fds(sv[0], fds, 2, "cycle", 5), 5);
    CHECK_OK(close(p[1]));
    CHECK_OK(close(sv[0]));
    CHECK_OK(close(sv[1]));
    /* nudge the collector: Linux runs it when a unix socket is closed while fds are in
     * flight */
    int t[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, t));
    close(t[0]);
    close(t[1]);
    int ev = poll1(p[0], POLLIN, 10000);
    CHECK_EQ(ev & POLLHUP, POLLHUP);
    close(p[0]);
}

TEST(scm_rights_errors)
{
    int sv[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    int bad = 999;
    CHECK_EQ(fcntl(bad, F_GETFD), -1);
    CHECK_ERRNO(send_fds(sv[0], &bad, 1, "x", 1), EBADF);
    /* nothing was sent */
    char c;
    CHECK_ERRNO(recv(sv[1], &c, 1, MSG_DONTWAIT), EAGAIN);
    /* an unknown cmsg type */
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } u;
    memset(&u, 0, sizeof u);
    struct iovec iov = {"x", 1};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
                       .msg_controllen = sizeof u.buf};
    struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = 77;
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    CHECK_ERRNO(sendmsg(sv[0], &m, 0), EINVAL);
    /* a cmsg_len beyond the control buffer */
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = sizeof u.buf + 8;
    CHECK_ERRNO(sendmsg(sv[0], &m, 0), EINVAL);
    close(sv[0]);
    close(sv[1]);
}

/* ---- SCM_CREDENTIALS ---- */

/* Receives one message; the SCM_CREDENTIALS (if any) into *uc. Returns 1 if present, 0 if
 * not, -1 on error. */
static int recv_creds(int sock, char *buf, size_t len, struct ucred *uc, ssize_t *got)
{
    union {
        char buf[CMSG_SPACE(sizeof(struct ucred)) + CMSG_SPACE(16 * sizeof(int))];
        struct cmsghdr align;
    } u;
    memset(&u, 0, sizeof u);
    struct iovec iov = {buf, len};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
                       .msg_controllen = sizeof u.buf};
    *got = recvmsg(sock, &m, 0);
    if (*got < 0)
        return -1;
    int found = 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS &&
            c->cmsg_len == CMSG_LEN(sizeof(struct ucred))) {
            memcpy(uc, CMSG_DATA(c), sizeof *uc);
            found = 1;
        }
    }
    return found;
}

static ssize_t send_creds(int sock, const struct ucred *uc, const char *data, size_t len)
{
    union {
        char buf[CMSG_SPACE(sizeof(struct ucred))];
        struct cmsghdr align;
    } u;
    memset(&u, 0, sizeof u);
    struct iovec iov = {(void *)data, len};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
                       .msg_controllen = sizeof u.buf};
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_CREDENTIALS;
    c->cmsg_len = CMSG_LEN(sizeof *uc);
    memcpy(CMSG_DATA(c), uc, sizeof *uc);
    return sendmsg(sock, &m, 0);
}

static int set_passcred(int fd)
{
    int one = 1;
    return setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof one);
}

TEST(so_passcred_option)
{
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK_OK(fd);
    CHECK_EQ(sockopt_int(fd, SOL_SOCKET, SO_PASSCRED), 0);
    CHECK_OK(set_passcred(fd));
    CHECK_EQ(sockopt_int(fd, SOL_SOCKET, SO_PASSCRED), 1);
    int zero = 0;
    CHECK_OK(setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &zero, sizeof zero));
    CHECK_EQ(sockopt_int(fd, SOL_SOCKET, SO_PASSCRED), 0);
    close(fd);
}

TEST(no_credentials_without_so_passcred)
{
    int sv[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    CHECK_EQ(write(sv[0], "x", 1), 1);
    char c;
    struct ucred uc;
    ssize_t got;
    CHECK_EQ(recv_creds(sv[1], &c, 1, &uc, &got), 0);
    CHECK_EQ(got, 1);
    close(sv[0]);
    close(sv[1]);
}

TEST(so_passcred_attaches_sender_credentials)
{
    static const int types[3] = {SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET};
    for (int t = 0; t < 3; t++) {
        int sv[2];
        CHECK_OK(socketpair(AF_UNIX, types[t], 0, sv));
        CHECK_OK(set_passcred(sv[1]));
        CHECK_EQ(write(sv[0], "x", 1), 1);
        char c;
        struct ucred uc = {0, 0, 0};
        ssize_t got;
        CHECK_EQ(recv_creds(sv[1], &c, 1, &uc, &got), 1);
        CHECK_EQ(got, 1);
        CHECK_EQ(uc.pid, getpid());
        CHECK_EQ(uc.uid, getuid());
        CHECK_EQ(uc.gid, getgid());
        close(sv[0]);
        close(sv[1]);
    }
}

TEST(so_passcred_credentials_of_child_sender)
{
    int sv[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv));
    CHECK_OK(set_passcred(sv[0]));
    pid_t pid = fork();
    CHECK_OK(pid);
    if (pid == 0) {
        if (geteuid() == 0) {
            CCHECK(setgroups(0, NULL) == 0);
            CCHECK(setgid(NOBODY) == 0);
            CCHECK(setuid(NOBODY) == 0);
        }
        CCHECK(write(sv[1], "c", 1) == 1);
        _exit(0);
    }
    char c;
    struct ucred uc = {0, 0, 0};
    ssize_t got;
    int r = recv_creds(sv[0], &c, 1, &uc, &got);
    CHECK_CHILD_OK(pid);
    CHECK_EQ(r, 1);
    CHECK_EQ(uc.pid, pid);
    if (geteuid() == 0) {
        CHECK_EQ(uc.uid, NOBODY);
        CHECK_EQ(uc.gid, NOBODY);
    }
    close(sv[0]);
    close(sv[1]);
}

TEST(explicit_scm_credentials_own)
{
    int sv[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv));
    CHECK_OK(set_passcred(sv[1]));
    struct ucred me = {getpid(), getuid(), getgid()};
    CHECK_EQ(send_creds(sv[0], &me, "e", 1), 1);
    char c;
    struct ucred uc = {0, 0, 0};
    ssize_t got;
    CHECK_EQ(recv_creds(sv[1], &c, 1, &uc, &got), 1);
    CHECK_EQ(uc.pid, me.pid);
    CHECK_EQ(uc.uid, me.uid);
    CHECK_EQ(uc.gid, me.gid);
    close(sv[0]);
    close(sv[1]);
}

TEST(explicit_scm_credentials_without_receiver_passcred_dropped)
{
    int sv[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv));
    struct ucred me = {getpid(), getuid(), getgid()};
    CHECK_EQ(send_creds(sv[0], &me, "e", 1), 1);
    char c;
    struct ucred uc;
    ssize_t got;
    CHECK_EQ(recv_creds(sv[1], &c, 1, &uc, &got), 0);
    CHECK_EQ(got, 1);
    close(sv[0]);
    close(sv[1]);
}

TEST(forged_credentials_eperm_for_unprivileged)
{
    if (geteuid() != 0)
        SKIP("needs root to become an unprivileged user");
    int sv[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv));
    CHECK_OK(set_passcred(sv[0]));
    pid_t parent = getpid();
    pid_t pid = fork();
    CHECK_OK(pid);
    if (pid == 0) {
        CCHECK(setgroups(0, NULL) == 0);
        CCHECK(setgid(NOBODY) == 0);
        CCHECK(setuid(NOBODY) == 0);
        struct ucred uc = {getpid(), 0, NOBODY}; /* uid 0: not ours */
        CERRNO(send_creds(sv[1], &uc, "x", 1), EPERM);
        uc = (struct ucred){getpid(), NOBODY, 0}; /* gid 0 */
        CERRNO(send_creds(sv[1], &uc, "x", 1), EPERM);
        uc = (struct ucred){parent, NOBODY, NOBODY}; /* another process */
        CERRNO(send_creds(sv[1], &uc, "x", 1), EPERM);
        uc = (struct ucred){getpid(), NOBODY, NOBODY};
        CCHECK(send_creds(sv[1], &uc, "ok", 2) == 2);
        _exit(0);
    }
    CHECK_CHILD_OK(pid);
    char buf[4];
    struct ucred uc = {0, 0, 0};
    ssize_t got;
    CHECK_EQ(recv_creds(sv[0], buf, sizeof buf, &uc, &got), 1);
    CHECK_EQ(got, 2);
    CHECK_EQ(uc.pid, pid);
    CHECK_EQ(uc.uid, NOBODY);
    CHECK_ERRNO(recv(sv[0], buf, sizeof buf, MSG_DONTWAIT), EAGAIN);
    close(sv[0]);
    close(sv[1]);
}

TEST(credentials_and_rights_together)
{
    int p[2];
    CHECK_OK(pipe(p));
    int sv[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    CHECK_OK(set_passcred(sv[1]));
    CHECK_EQ(send_fds(sv[0], &p[1], 1, "b", 1), 1);
    union {
        char buf[CMSG_SPACE(sizeof(struct ucred)) + CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } u;
    memset(&u, 0, sizeof u);
    char c;
    struct iovec iov = {&c, 1};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
                       .msg_controllen = sizeof u.buf};
    CHECK_EQ(recvmsg(sv[1], &m, 0), 1);
    int creds = 0, rights = 0, fd = -1;
    for (struct cmsghdr *cm = CMSG_FIRSTHDR(&m); cm; cm = CMSG_NXTHDR(&m, cm)) {
        if (cm->cmsg_type == SCM_CREDENTIALS) {
            struct ucred uc;
            memcpy(&uc, CMSG_DATA(cm), sizeof uc);
            creds++;
            CHECK_EQ(uc.pid, getpid());
        } else if (cm->cmsg_type == SCM_RIGHTS) {
            rights++;
            memcpy(&fd, CMSG_DATA(cm), sizeof fd);
        }
    }
    CHECK_EQ(creds, 1);
    CHECK_EQ(rights, 1);
    CHECK_EQ(m.msg_flags & MSG_CTRUNC, 0);
    CHECK_EQ(write(fd, "z", 1), 1);
    CHECK_EQ(read(p[0], &c, 1), 1);
    CHECK_EQ(c, 'z');
    close(fd);
    close(p[0]);
    close(p[1]);
    close(sv[0]);
    close(sv[1]);
}

TEST(so_passcred_autobinds_sender)
{
    /* an unbound datagram sender with SO_PASSCRED gets an autobind name on send */
    struct sockaddr_un a;
    socklen_t alen = abs_addr(&a, "pc");
    int r = bound(SOCK_DGRAM, &a, alen, -1);
    CHECK_OK(r);
    int s = socket(AF_UNIX, SOCK_DGRAM, 0);
    CHECK_OK(s);
    CHECK_OK(set_passcred(s));
    CHECK_EQ(sendto(s, "x", 1, 0, (struct sockaddr *)&a, alen), 1);
    struct sockaddr_un me;
    socklen_t mlen = sizeof me;
    CHECK_OK(getsockname(s, (struct sockaddr *)&me, &mlen));
    CHECK_EQ(mlen, offsetof(struct sockaddr_un, sun_path) + 6);
    CHECK_EQ(me.sun_path[0], 0);
    struct sockaddr_un from;
    socklen_t flen = sizeof from;
    char c;
    CHECK_EQ(recvfrom(r, &c, 1, 0, (struct sockaddr *)&from, &flen), 1);
    CHECK_EQ(flen, mlen);
    CHECK(memcmp(&from, &me, mlen) == 0);
    close(s);
    close(r);
}

TEST(so_passcred_autobinds_stream_connect)
{
    struct sockaddr_un a;
    socklen_t alen = abs_addr(&a, "ps");
    int l = bound(SOCK_STREAM, &a, alen, 5);
    CHECK_OK(l);
    int c = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK_OK(c);
    CHECK_OK(set_passcred(c));
    CHECK_OK(connect(c, (struct sockaddr *)&a, alen));
    struct sockaddr_un me;
    socklen_t mlen = sizeof me;
    CHECK_OK(getsockname(c, (struct sockaddr *)&me, &mlen));
    CHECK_EQ(mlen, offsetof(struct sockaddr_un, sun_path) + 6);
    struct sockaddr_un from;
    socklen_t flen = sizeof from;
    int s = accept(l, (struct sockaddr *)&from, &flen);
    CHECK_OK(s);
    CHECK_EQ(flen, mlen);
    CHECK(memcmp(&from, &me, mlen) == 0);
    close(s);
    close(c);
    close(l);
}

/* ---- SO_PEERCRED ---- */

static int peercred(int fd, struct ucred *uc)
{
    socklen_t len = sizeof *uc;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, uc, &len) != 0)
        return -1;
    return len == sizeof *uc ? 0 : -2;
}

TEST(so_peercred_socketpair)
{
    static const int types[3] = {SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET};
    for (int t = 0; t < 3; t++) {
        int sv[2];
        CHECK_OK(socketpair(AF_UNIX, types[t], 0, sv));
        for (int i = 0; i < 2; i++) {
            struct ucred uc = {0, 0, 0};
            CHECK_EQ(peercred(sv[i], &uc), 0);
            CHECK_EQ(uc.pid, getpid());
            CHECK_EQ(uc.uid, geteuid());
            CHECK_EQ(uc.gid, getegid());
        }
        close(sv[0]);
        close(sv[1]);
    }
}

TEST(so_peercred_connection_with_child)
{
    struct sockaddr_un a;
    socklen_t alen = abs_addr(&a, "pcr");
    int l = bound(SOCK_STREAM, &a, alen, 5);
    CHECK_OK(l);
    /* a listening socket reports its own (the listener's) credentials */
    struct ucred uc = {0, 0, 0};
    CHECK_EQ(peercred(l, &uc), 0);
    CHECK_EQ(uc.pid, getpid());
    pid_t parent = getpid();
    uid_t parent_uid = geteuid();
    gid_t parent_gid = getegid();
    int done[2];
    CHECK_OK(pipe(done));
    pid_t pid = fork();
    CHECK_OK(pid);
    if (pid == 0) {
        close(done[1]);
        if (geteuid() == 0) {
            CCHECK(setgroups(0, NULL) == 0);
            CCHECK(setgid(NOBODY) == 0);
            CCHECK(setuid(NOBODY) == 0);
        }
        int c = connected(SOCK_STREAM, &a, alen);
        CCHECK(c >= 0);
        struct ucred p = {0, 0, 0};
        CCHECK(peercred(c, &p) == 0);
        CCHECK(p.pid == parent); /* the listener's process */
        CCHECK(p.uid == parent_uid);
        CCHECK(p.gid == parent_gid);
        CCHECK(write(c, "k", 1) == 1);
        CCHECK(read_byte(done[0]) == -1);
        _exit(0);
    }
    close(done[0]);
    int s = accept(l, NULL, NULL);
    CHECK_OK(s);
    CHECK_EQ(read_byte(s), 'k');
    uc = (struct ucred){0, 0, 0};
    int r = peercred(s, &uc);
    close(done[1]);
    CHECK_CHILD_OK(pid);
    CHECK_EQ(r, 0);
    CHECK_EQ(uc.pid, pid);
    if (geteuid() == 0) {
        CHECK_EQ(uc.uid, NOBODY);
        CHECK_EQ(uc.gid, NOBODY);
    }
    /* the credentials stay after the peer is gone */
    uc = (struct ucred){0, 0, 0};
    CHECK_EQ(peercred(s, &uc), 0);
    CHECK_EQ(uc.pid, pid);
    close(s);
    close(l);
}

TEST(so_peercred_unconnected)
{
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK_OK(fd);
    struct ucred uc = {1, 2, 3};
    CHECK_EQ(peercred(fd, &uc), 0);
    CHECK_EQ(uc.pid, 0);
    CHECK_EQ(uc.uid, (uid_t)-1);
    CHECK_EQ(uc.gid, (gid_t)-1);
    close(fd);
}
