/* unix_stream.c - AF_UNIX SOCK_STREAM sockets: socket/socketpair with SOCK_NONBLOCK and
 * SOCK_CLOEXEC, names (filesystem paths: the S_IFSOCK file, its mode, EADDRINUSE, the file left
 * after close, write permission on connect; the abstract namespace; autobind), getsockname and
 * getpeername lengths, listen backlogs (nonblocking EAGAIN, a blocking connect that waits for an
 * accept), accept and accept4, connect errors (ENOENT, ECONNREFUSED, EPROTOTYPE, EISCONN),
 * ENOTCONN/EINVAL/EOPNOTSUPP, data transfer with read/write/readv/writev/send/recv, MSG_PEEK,
 * MSG_DONTWAIT, MSG_WAITALL, MSG_NOSIGNAL, shutdown, EPIPE and SIGPIPE, ECONNRESET after the
 * peer closed with unread data, and the socket options SO_TYPE, SO_DOMAIN, SO_PROTOCOL,
 * SO_ERROR, SO_ACCEPTCONN, SO_SNDBUF, SO_RCVBUF, SO_RCVTIMEO, SO_SNDTIMEO.
 * Files live in a mkdtemp("/tmp/ptest.XXXXXX") directory removed at exit; abstract names carry
 * the pid.
 * Syscalls: socket, socketpair, bind, listen, connect, accept, accept4, getsockname,
 * getpeername, sendto, recvfrom, sendmsg, recvmsg, shutdown, getsockopt, setsockopt, read,
 * write, readv, writev, close, fcntl, poll, fork, wait4, setuid, setgid, setgroups, umask,
 * newfstatat, unlink, chmod, rt_sigaction, rt_sigprocmask, clock_gettime.
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
#include <sys/ioctl.h>
#include <sys/syscall.h>

#define NOBODY 65534

static volatile sig_atomic_t sigpipes;
static void on_sigpipe(int s) { (void)s; sigpipes++; }

/* Counts SIGPIPEs in `sigpipes` (reset to 0). */
static void catch_sigpipe(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigpipe;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGPIPE, &sa, NULL);
    sigpipes = 0;
}

static void default_sigpipe(void) { signal(SIGPIPE, SIG_DFL); }

/* Bytes a nonblocking stream writer gets out (in 512-byte writes) before EAGAIN. */
static long fill_count(int fd)
{
    char buf[512];
    memset(buf, 'f', sizeof buf);
    long total = 0;
    for (;;) {
        ssize_t w = send(fd, buf, sizeof buf, MSG_DONTWAIT);
        if (w < 0)
            return errno == EAGAIN ? total : -1;
        total += w;
        if (total > (64L << 20))
            return -2;
    }
}

/* ---- socket and socketpair ---- */

TEST(socket_stream_plain_has_no_flags)
{
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK_OK(fd);
    CHECK_EQ(fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
    CHECK_EQ(fcntl(fd, F_GETFD), 0);
    CHECK_EQ(fcntl(fd, F_GETFL) & O_ACCMODE, O_RDWR);
    CHECK_OK(close(fd));
}

TEST(socket_stream_nonblock_cloexec)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    CHECK_OK(fd);
    CHECK_EQ(fcntl(fd, F_GETFL) & O_NONBLOCK, O_NONBLOCK);
    CHECK_EQ(fcntl(fd, F_GETFD), FD_CLOEXEC);
    CHECK_EQ(sockopt_int(fd, SOL_SOCKET, SO_TYPE), SOCK_STREAM);
    CHECK_OK(close(fd));
}

TEST(socket_bad_protocol_and_type)
{
    CHECK_ERRNO(socket(AF_UNIX, SOCK_STREAM, 2), EPROTONOSUPPORT);
    /* protocol PF_UNIX (1) is accepted and reads back as 0 */
    int p1 = socket(AF_UNIX, SOCK_STREAM, PF_UNIX);
    CHECK_OK(p1);
    CHECK_EQ(sockopt_int(p1, SOL_SOCKET, SO_PROTOCOL), 0);
    close(p1);
    CHECK_ERRNO(socket(AF_UNIX, SOCK_STREAM | 0x40000000, 0), EINVAL);
    CHECK_ERRNO(socket(AF_UNIX, SOCK_RDM, 0), ESOCKTNOSUPPORT);
    CHECK_ERRNO(socket(AF_UNIX, 77, 0), EINVAL); /* beyond SOCK_MAX */
    /* PF_UNIX == AF_UNIX == AF_LOCAL */
    int fd = socket(PF_LOCAL, SOCK_STREAM, PF_UNSPEC);
    CHECK_OK(fd);
    CHECK_OK(close(fd));
}

TEST(socket_raw_is_datagram)
{
    /* af_unix maps SOCK_RAW to SOCK_DGRAM */
    int fd;
    CHECK_OK(fd = socket(AF_UNIX, SOCK_RAW, 0));
    CHECK_EQ(sockopt_int(fd, SOL_SOCKET, SO_TYPE), SOCK_DGRAM);
    CHECK_OK(close(fd));
}

TEST(socketpair_stream_both_ways)
{
    int sv[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    CHECK_NE(sv[0], sv[1]);
    CHECK_EQ(write(sv[0], "ping", 4), 4);
    CHECK_EQ(write(sv[1], "pong!", 5), 5);
    char buf[16] = {0};
    CHECK_EQ(read(sv[1], buf, sizeof buf), 4);
    CHECK(memcmp(buf, "ping", 4) == 0);
    CHECK_EQ(read(sv[0], buf, sizeof buf), 5);
    CHECK(memcmp(buf, "pong!", 5) == 0);
    CHECK_EQ(sockopt_int(sv[0], SOL_SOCKET, SO_TYPE), SOCK_STREAM);
    CHECK_EQ(fcntl(sv[0], F_GETFD), 0);
    CHECK_OK(close(sv[0]));
    CHECK_OK(close(sv[1]));
}

TEST(socketpair_flags_on_both_ends)
{
    int sv[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv));
    for (int i = 0; i < 2; i++) {
        CHECK_EQ(fcntl(sv[i], F_GETFL) & O_NONBLOCK, O_NONBLOCK);
        CHECK_EQ(fcntl(sv[i], F_GETFD), FD_CLOEXEC);
    }
    char c;
    CHECK_ERRNO(read(sv[0], &c, 1), EAGAIN);
    CHECK_OK(close(sv[0]));
    CHECK_OK(close(sv[1]));
}

TEST(socketpair_errors)
{
    int sv[2];
    CHECK_ERRNO(socketpair(AF_UNIX, SOCK_STREAM, 2, sv), EPROTONOSUPPORT);
    CHECK_ERRNO(socketpair(AF_INET, SOCK_STREAM, 0, sv), EOPNOTSUPP);
}

/* ---- filesystem names ---- */

TEST(bind_path_creates_socket_file_with_umask_mode)
{
    const char *d = newdir();
    CHECK(d);
    struct sockaddr_un a;
    mode_t old = umask(022);
    int fd = bound(SOCK_STREAM, &a, path_addr(&a, P(d, "s1")), -1);
    umask(077);
    int fd2 = bound(SOCK_STREAM, &a, path_addr(&a, P(d, "s2")), -1);
    umask(0);
    int fd3 = bound(SOCK_STREAM, &a, path_addr(&a, P(d, "s3")), -1);
    umask(old);
    CHECK_OK(fd);
    CHECK_OK(fd2);
    CHECK_OK(fd3);
    struct stat st;
    CHECK_OK(stat(P(d, "s1"), &st));
    CHECK(S_ISSOCK(st.st_mode));
    CHECK_EQ(st.st_mode & 07777, 0755);
    CHECK_EQ(st.st_uid, geteuid());
    CHECK_EQ(st.st_size, 0);
    CHECK_OK(stat(P(d, "s2"), &st));
    CHECK_EQ(st.st_mode & 07777, 0700);
    CHECK_OK(stat(P(d, "s3"), &st));
    CHECK_EQ(st.st_mode, S_IFSOCK | 0777);
    close(fd);
    close(fd2);
    close(fd3);
}

TEST(bind_existing_path_eaddrinuse)
{
    const char *d = newdir();
    CHECK(d);
    struct sockaddr_un a;
    socklen_t len = path_addr(&a, P(d, "s"));
    int fd = bound(SOCK_STREAM, &a, len, -1);
    CHECK_OK(fd);
    int fd2 = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK_OK(fd2);
    CHECK_ERRNO(bind(fd2, (struct sockaddr *)&a, len), EADDRINUSE);
    int f = open(P(d, "file"), O_WRONLY | O_CREAT, 0644);
    CHECK_OK(f);
    close(f);
    len = path_addr(&a, P(d, "file"));
    CHECK_ERRNO(bind(fd2, (struct sockaddr *)&a, len), EADDRINUSE);
    CHECK_OK(mkdir(P(d, "dir"), 0755));
    len = path_addr(&a, P(d, "dir"));
    CHECK_ERRNO(bind(fd2, (struct sockaddr *)&a, len), EADDRINUSE);
    /* a failed bind leaves the socket unbound */
    struct sockaddr_un got;
    socklen_t glen = sizeof got;
    CHECK_OK(getsockname(fd2, (struct sockaddr *)&got, &glen));
    CHECK_EQ(glen, FAMLEN);
    close(fd);
    close(fd2);
}

TEST(bind_errors)
{
    const char *d = newdir();
    CHECK(d);
    struct sockaddr_un a;
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK_OK(fd);
    socklen_t len = path_addr(&a, P(d, "x/s"));
    CHECK_ERRNO(bind(fd, (struct sockaddr *)&a, len), ENOENT);
    len = path_addr(&a, P(d, "s"));
    a.sun_family = AF_INET;
    CHECK_ERRNO(bind(fd, (struct sockaddr *)&a, len), EINVAL);
    a.sun_family = AF_UNIX;
    CHECK_ERRNO(bind(fd, (struct sockaddr *)&a, sizeof a + 1), EINVAL);
    CHECK_ERRNO(bind(fd, (struct sockaddr *)&a, 1), EINVAL);
    CHECK_OK(bind(fd, (struct sockaddr *)&a, len));
    /* a bound socket cannot be bound again, not even to another name */
    socklen_t len2 = path_addr(&a, P(d, "t"));
    CHECK_ERRNO(bind(fd, (struct sockaddr *)&a, len2), EINVAL);
    CHECK_ERRNO(access(P(d, "t"), F_OK), ENOENT);
    close(fd);
}

TEST(socket_file_stays_after_close_until_unlinked)
{
    const char *d = newdir();
    CHECK(d);
    struct sockaddr_un a;
    socklen_t len = path_addr(&a, P(d, "s"));
    int fd = bound(SOCK_STREAM, &a, len, 5);
    CHECK_OK(fd);
    CHECK_OK(close(fd));
    struct stat st;
    CHECK_OK(stat(P(d, "s"), &st));
    CHECK(S_ISSOCK(st.st_mode));
    /* nobody listens on it any more */
    CHECK_ERRNO(connected(SOCK_STREAM, &a, len), ECONNREFUSED);
    /* and the name is still taken */
    CHECK_ERRNO(bound(SOCK_STREAM, &a, len, -1), EADDRINUSE);
    CHECK_OK(unlink(P(d, "s")));
    fd = bound(SOCK_STREAM, &a, len, 5);
    CHECK_OK(fd);
    int c = connected(SOCK_STREAM, &a, len);
    CHECK_OK(c);
    close(c);
    close(fd);
}

TEST(unlinked_socket_file_keeps_listener_but_not_name)
{
    const char *d = newdir();
    CHECK(d);
    struct sockaddr_un a;
    socklen_t len = path_addr(&a, P(d, "s"));
    int fd = bound(SOCK_STREAM, &a, len, 5);
    CHECK_OK(fd);
    CHECK_OK(unlink(P(d, "s")));
    CHECK_ERRNO(connected(SOCK_STREAM, &a, len), ENOENT);
    /* getsockname still reports the name it was bound to */
    struct sockaddr_un got;
    socklen_t glen = sizeof got;
    CHECK_OK(getsockname(fd, (struct sockaddr *)&got, &glen));
    CHECK_EQ(glen, len);
    CHECK(strcmp(got.sun_path, P(d, "s")) == 0);
    /* a new socket may take the name */
    int fd2 = bound(SOCK_STREAM, &a, len, 5);
    CHECK_OK(fd2);
    int c = connected(SOCK_STREAM, &a, len);
    CHECK_OK(c);
    CHECK_OK(fcntl(fd, F_SETFL, O_NONBLOCK));
    CHECK_OK(fcntl(fd2, F_SETFL, O_NONBLOCK));
    int s = accept(fd2, NULL, NULL);
    CHECK_OK(s);
    CHECK_ERRNO(accept(fd, NULL, NULL), EAGAIN);
    close(s);
    close(c);
    close(fd2);
    close(fd);
}

TEST(connect_to_renamed_socket_file)
{
    const char *d = newdir();
    CHECK(d);
    struct sockaddr_un a;
    socklen_t len = path_addr(&a, P(d, "s"));
    int fd = bound(SOCK_STREAM, &a, len, 5);
    CHECK_OK(fd);
    CHECK_OK(rename(P(d, "s"), P(d, "moved")));
    struct sockaddr_un b;
    socklen_t blen = path_addr(&b, P(d, "moved"));
    int c = connected(SOCK_STREAM, &b, blen);
    CHECK_OK(c);
    /* the peer name is the name the listener was bound to, not the path used */
    struct sockaddr_un got;
    socklen_t glen = sizeof got;
    CHECK_OK(getpeername(c, (struct sockaddr *)&got, &glen));
    CHECK_EQ(glen, len);
    CHECK(strcmp(got.sun_path, P(d, "s")) == 0);
    close(c);
    close(fd);
}

TEST(connect_missing_path_enoent)
{
    const char *d = newdir();
    CHECK(d);
    struct sockaddr_un a;
    socklen_t len = path_addr(&a, P(d, "nothing"));
    CHECK_ERRNO(connected(SOCK_STREAM, &a, len), ENOENT);
    len = path_addr(&a, P(d, "no/such/dir"));
    CHECK_ERRNO(connected(SOCK_STREAM, &a, len), ENOENT);
}

TEST(connect_to_regular_file_econnrefused)
{
    const char *d = newdir();
    CHECK(d);
    int f = open(P(d, "file"), O_WRONLY | O_CREAT, 0666);
    CHECK_OK(f);
    close(f);
    struct sockaddr_un a;
    socklen_t len = path_addr(&a, P(d, "file"));
    CHECK_ERRNO(connected(SOCK_STREAM, &a, len), ECONNREFUSED);
}

TEST(connect_to_bound_not_listening_econnrefused)
{
    const char *d = newdir();
    CHECK(d);
    struct sockaddr_un a;
    socklen_t len = path_addr(&a, P(d, "s"));
    int fd = bound(SOCK_STREAM, &a, len, -1);
    CHECK_OK(fd);
    CHECK_ERRNO(connected(SOCK_STREAM, &a, len), ECONNREFUSED);
    /* bound, never listened, closed: the file is left and still refuses */
    CHECK_OK(close(fd));
    struct stat st;
    CHECK_OK(stat(P(d, "s"), &st));
    CHECK(S_ISSOCK(st.st_mode));
    CHECK_ERRNO(connected(SOCK_STREAM, &a, len), ECONNREFUSED);
}

TEST(connect_stream_to_dgram_eprototype)
{
    const char *d = newdir();
    CHECK(d);
    struct sockaddr_un a;
    socklen_t len = path_addr(&a, P(d, "s"));
    int fd = bound(SOCK_DGRAM, &a, len, -1);
    CHECK_OK(fd);
    CHECK_ERRNO(connected(SOCK_STREAM, &a, len), EPROTOTYPE);
    CHECK_ERRNO(connected(SOCK_SEQPACKET, &a, len), EPROTOTYPE);
    close(fd);
    /* also to a listening seqpacket socket */
    len = path_addr(&a, P(d, "q"));
    fd = bound(SOCK_SEQPACKET, &a, len, 5);
    CHECK_OK(fd);
    CHECK_ERRNO(connected(SOCK_STREAM, &a, len), EPROTOTYPE);
    close(fd);
}

TEST(connect_bad_address_einval)
{
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK_OK(fd);
    struct sockaddr_un a;
    memset(&a, 0, sizeof a);
    a.sun_family = AF_UNIX;
    CHECK_ERRNO(connect(fd, (struct sockaddr *)&a, FAMLEN), EINVAL);
    CHECK_ERRNO(connect(fd, (struct sockaddr *)&a, sizeof a + 1), EINVAL);
    a.sun_family = AF_INET;
    strcpy(a.sun_path, "/nonexistent");
    CHECK_ERRNO(connect(fd, (struct sockaddr *)&a, sizeof a), EINVAL);
    close(fd);
}

TEST(connect_needs_write_permission_on_socket_file)
{
    if (geteuid() != 0)
        SKIP("needs root");
    const char *d = newdir();
    CHECK(d);
    CHECK_OK(chmod(d, 0777));
    CHECK_OK(mkdir(P(d, "closed"), 0700));
    struct sockaddr_un a, b, c;
    socklen_t alen = path_addr(&a, P(d, "private"));
    socklen_t blen = path_addr(&b, P(d, "public"));
    socklen_t clen = path_addr(&c, P(d, "closed/s"));
    int la = bound(SOCK_STREAM, &a, alen, 5);
    int lb = bound(SOCK_STREAM, &b, blen, 5);
    int lc = bound(SOCK_STREAM, &c, clen, 5);
    CHECK_OK(la);
    CHECK_OK(lb);
    CHECK_OK(lc);
    CHECK_OK(chmod(P(d, "private"), 0755)); /* r-x for others: not enough */
    CHECK_OK(chmod(P(d, "public"), 0702));  /* only w for others: enough */
    CHECK_OK(chmod(P(d, "closed/s"), 0777));
    pid_t pid = fork();
    CHECK_OK(pid);
    if (pid == 0) {
        CCHECK(setgroups(0, NULL) == 0);
        CCHECK(setgid(NOBODY) == 0);
        CCHECK(setuid(NOBODY) == 0);
        CERRNO(connected(SOCK_STREAM, &a, alen), EACCES);
        int fd = connected(SOCK_STREAM, &b, blen);
        CCHECK(fd >= 0);
        close(fd);
        CERRNO(connected(SOCK_STREAM, &c, clen), EACCES); /* no search permission */
        _exit(0);
    }
    CHECK_CHILD_OK(pid);
    /* root may connect to all of them */
    CHECK_OK(chmod(P(d, "private"), 0));
    int fd = connected(SOCK_STREAM, &a, alen);
    CHECK_OK(fd);
    close(fd);
    close(la);
    close(lb);
    close(lc);
}

/* ---- abstract names and autobind ---- */

TEST(abstract_name_bind_connect_and_gone_after_close)
{
    struct sockaddr_un a;
    socklen_t len = abs_addr(&a, "abs");
    int l = bound(SOCK_STREAM, &a, len, 5);
    CHECK_OK(l);
    CHECK_ERRNO(bound(SOCK_STREAM, &a, len, -1), EADDRINUSE);
    int c = connected(SOCK_STREAM, &a, len);
    CHECK_OK(c);
    struct sockaddr_un got;
    socklen_t glen = sizeof got;
    CHECK_OK(getpeername(c, (struct sockaddr *)&got, &glen));
    CHECK_EQ(glen, len);
    CHECK(memcmp(&got, &a, len) == 0);
    glen = sizeof got;
    CHECK_OK(getsockname(l, (struct sockaddr *)&got, &glen));
    CHECK_EQ(glen, len);
    CHECK(memcmp(&got, &a, len) == 0);
    close(c);
    CHECK_OK(close(l));
    CHECK_ERRNO(connected(SOCK_STREAM, &a, len), ECONNREFUSED);
    /* the name is free again */
    l = bound(SOCK_STREAM, &a, len, 5);
    CHECK_OK(l);
    close(l);
}

TEST(abstract_names_differ_by_length)
{
    /* the whole addrlen is the name: "\0x" and "\0x\0" are different names */
    struct sockaddr_un a;
    socklen_t len = abs_addr(&a, "len");
    int l1 = bound(SOCK_STREAM, &a, len, 5);
    CHECK_OK(l1);
    int l2 = bound(SOCK_STREAM, &a, len + 1, 5);
    CHECK_OK(l2);
    int c = connected(SOCK_STREAM, &a, len + 1);
    CHECK_OK(c);
    CHECK_OK(fcntl(l1, F_SETFL, O_NONBLOCK));
    CHECK_OK(fcntl(l2, F_SETFL, O_NONBLOCK));
    CHECK_ERRNO(accept(l1, NULL, NULL), EAGAIN);
    int s = accept(l2, NULL, NULL);
    CHECK_OK(s);
    close(s);
    close(c);
    close(l1);
    close(l2);
}

TEST(abstract_name_creates_no_file)
{
    char cwd[4096];
    CHECK(getcwd(cwd, sizeof cwd));
    const char *d = newdir();
    CHECK(d);
    CHECK_OK(chdir(d));
    struct sockaddr_un a;
    memset(&a, 0, sizeof a);
    a.sun_family = AF_UNIX;
    int n = snprintf(a.sun_path + 1, sizeof a.sun_path - 1, "f%d", (int)getpid());
    int l = bound(SOCK_STREAM, &a, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n),
                  -1);
    int l_errno = errno;
    int f = open(a.sun_path + 1, O_RDONLY);
    int f_errno = errno;
    CHECK_OK(chdir(cwd));
    if (l < 0)
        FAIL("bind: %s", strerror(l_errno));
    CHECK_EQ(f, -1);
    CHECK_EQ(f_errno, ENOENT);
    close(l);
}

TEST(autobind_gives_five_hex_digit_abstract_name)
{
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK_OK(fd);
    struct sockaddr_un a;
    memset(&a, 0, sizeof a);
    a.sun_family = AF_UNIX;
    CHECK_OK(bind(fd, (struct sockaddr *)&a, FAMLEN));
    struct sockaddr_un got;
    memset(&got, 0x55, sizeof got);
    socklen_t glen = sizeof got;
    CHECK_OK(getsockname(fd, (struct sockaddr *)&got, &glen));
    CHECK_EQ(glen, offsetof(struct sockaddr_un, sun_path) + 6);
    CHECK_EQ(got.sun_family, AF_UNIX);
    CHECK_EQ(got.sun_path[0], 0);
    for (int i = 1; i <= 5; i++)
        CHECK(strchr("0123456789abcdef", got.sun_path[i]) && got.sun_path[i] != 0);
    /* a second autobind gets another name; the autobound socket cannot be bound again */
    int fd2 = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK_OK(fd2);
    CHECK_OK(bind(fd2, (struct sockaddr *)&a, FAMLEN));
    struct sockaddr_un got2;
    glen = sizeof got2;
    CHECK_OK(getsockname(fd2, (struct sockaddr *)&got2, &glen));
    CHECK_EQ(glen, offsetof(struct sockaddr_un, sun_path) + 6);
    CHECK(memcmp(got.sun_path, got2.sun_path, 6) != 0);
    /* autobinding a bound socket again succeeds and changes nothing; a real name is refused */
    CHECK_OK(bind(fd, (struct sockaddr *)&a, FAMLEN));
    struct sockaddr_un again;
    glen = sizeof again;
    CHECK_OK(getsockname(fd, (struct sockaddr *)&again, &glen));
    CHECK_EQ(glen, offsetof(struct sockaddr_un, sun_path) + 6);
    CHECK(memcmp(got.sun_path, again.sun_path, 6) == 0);
    struct sockaddr_un b;
    socklen_t blen = abs_addr(&b, "ab");
    CHECK_ERRNO(bind(fd, (struct sockaddr *)&b, blen), EINVAL);
    /* the autobound name can be connected to */
    CHECK_OK(listen(fd, 5));
    int c = connected(SOCK_STREAM, &got, offsetof(struct sockaddr_un, sun_path) + 6);
    CHECK_OK(c);
    close(c);
    close(fd);
    close(fd2);
}

/* ---- getsockname / getpeername ---- */

TEST(getsockname_lengths)
{
    const char *d = newdir();
    CHECK(d);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK_OK(fd);
    struct sockaddr_un got;
    memset(&got, 0x55, sizeof got);
    socklen_t glen = sizeof got;
    CHECK_OK(getsockname(fd, (struct sockaddr *)&got, &glen));
    CHECK_EQ(glen, FAMLEN);
    CHECK_EQ(got.sun_family, AF_UNIX);
    struct sockaddr_un a;
    const char *path = P(d, "named");
    socklen_t len = path_addr(&a, path);
    /* addrlen may include the whole sun_path: the name stops at the NUL */
    CHECK_OK(bind(fd, (struct sockaddr *)&a, sizeof a));
    glen = sizeof got;
    CHECK_OK(getsockname(fd, (struct sockaddr *)&got, &glen));
    CHECK_EQ(glen, len);
    CHECK_EQ(glen, offsetof(struct sockaddr_un, sun_path) + strlen(path) + 1);
    CHECK(strcmp(got.sun_path, path) == 0);
    /* a short buffer is filled partly, the full length is still reported */
    memset(&got, 0x55, sizeof got);
    glen = 4;
    CHECK_OK(getsockname(fd, (struct sockaddr *)&got, &glen));
    CHECK_EQ(glen, len);
    CHECK_EQ(got.sun_family, AF_UNIX);
    CHECK_EQ(got.sun_path[0], path[0]);
    CHECK_EQ((unsigned char)got.sun_path[2], 0x55);
    close(fd);
}

TEST(bind_without_trailing_nul_in_addrlen)
{
    const char *d = newdir();
    CHECK(d);
    struct sockaddr_un a;
    const char *path = P(d, "nonul");
    socklen_t len = path_addr(&a, path);
    int fd = bound(SOCK_STREAM, &a, len - 1, -1); /* addrlen excludes the NUL */
    CHECK_OK(fd);
    struct sockaddr_un got;
    socklen_t glen = sizeof got;
    CHECK_OK(getsockname(fd, (struct sockaddr *)&got, &glen));
    CHECK_EQ(glen, len);
    CHECK(strcmp(got.sun_path, path) == 0);
    close(fd);
}

TEST(getpeername_lengths_and_accepted_names)
{
    const char *d = newdir();
    CHECK(d);
    struct sockaddr_un a, b;
    socklen_t alen = path_addr(&a, P(d, "server"));
    socklen_t blen = path_addr(&b, P(d, "client"));
    int l = bound(SOCK_STREAM, &a, alen, 5);
    CHECK_OK(l);
    int c = connected(SOCK_STREAM, &a, alen); /* unnamed client */
    CHECK_OK(c);
    int c2 = bound(SOCK_STREAM, &b, blen, -1); /* named client */
    CHECK_OK(c2);
    CHECK_OK(connect(c2, (struct sockaddr *)&a, alen));
    struct sockaddr_un got;
    socklen_t glen = sizeof got;
    memset(&got, 0x55, sizeof got);
    int s = accept(l, (struct sockaddr *)&got, &glen);
    CHECK_OK(s);
    CHECK_EQ(glen, FAMLEN);
    CHECK_EQ(got.sun_family, AF_UNIX);
    glen = sizeof got;
    int s2 = accept(l, (struct sockaddr *)&got, &glen);
    CHECK_OK(s2);
    CHECK_EQ(glen, blen);
    CHECK(strcmp(got.sun_path, P(d, "client")) == 0);
    /* client side: peer is the server's name, own name unnamed */
    glen = sizeof got;
    CHECK_OK(getpeername(c, (struct sockaddr *)&got, &glen));
    CHECK_EQ(glen, alen);
    CHECK(strcmp(got.sun_path, P(d, "server")) == 0);
    glen = sizeof got;
    CHECK_OK(getsockname(c, (struct sockaddr *)&got, &glen));
    CHECK_EQ(glen, FAMLEN);
    /* accepted side: own name is the listener's, peer is the client's */
    glen = sizeof got;
    CHECK_OK(getsockname(s2, (struct sockaddr *)&got, &glen));
    CHECK_EQ(glen, alen);
    CHECK(strcmp(got.sun_path, P(d, "server")) == 0);
    glen = sizeof got;
    CHECK_OK(getpeername(s2, (struct sockaddr *)&got, &glen));
    CHECK_EQ(glen, blen);
    CHECK(strcmp(got.sun_path, P(d, "client")) == 0);
    glen = sizeof got;
    CHECK_OK(getpeername(s, (struct sockaddr *)&got, &glen));
    CHECK_EQ(glen, FAMLEN);
    close(s);
    close(s2);
    close(c);
    close(c2);
    close(l);
}

TEST(getpeername_socketpair_unnamed)
{
    int sv[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    struct sockaddr_un got;
    socklen_t glen = sizeof got;
    CHECK_OK(getpeername(sv[0], (struct sockaddr *)&got, &glen));
    CHECK_EQ(glen, FAMLEN);
    CHECK_EQ(got.sun_family, AF_UNIX);
    glen = sizeof got;
    CHECK_OK(getsockname(sv[1], (struct sockaddr *)&got, &glen));
    CHECK_EQ(glen, FAMLEN);
    close(sv[0]);
    close(sv[1]);
}

TEST(getpeername_unconnected_enotconn)
{
    struct sockaddr_un got;
    socklen_t glen = sizeof got;
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK_OK(fd);
    CHECK_ERRNO(getpeername(fd, (struct sockaddr *)&got, &glen), ENOTCONN);
    struct sockaddr_un a;
    socklen_t len = abs_addr(&a, "gp");
    CHECK_OK(bind(fd, (struct sockaddr *)&a, len));
    CHECK_OK(listen(fd, 1));
    glen = sizeof got;
    CHECK_ERRNO(getpeername(fd, (struct sockaddr *)&got, &glen), ENOTCONN);
    close(fd);
    int nfd = open("/dev/null", O_RDONLY);
    CHECK_OK(nfd);
    CHECK_ERRNO(getpeername(nfd, (struct sockaddr *)&got, &glen), ENOTSOCK);
    CHECK_ERRNO(getsockname(nfd, (struct sockaddr *)&got, &glen), ENOTSOCK);
    close(nfd);
}

/* ---- listen and backlog ---- */

TEST(listen_unbound_einval_dgram_eopnotsupp)
{
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK_OK(fd);
    CHECK_ERRNO(listen(fd, 5), EINVAL);
    close(fd);
    fd = socket(AF_UNIX, SOCK_DGRAM, 0);
    CHECK_OK(fd);
    struct sockaddr_un a;
    socklen_t len = abs_addr(&a, "ld");
    CHECK_OK(bind(fd, (struct sockaddr *)&a, len));
    CHECK_ERRNO(listen(fd, 5), EOPNOTSUPP);
    close(fd);
    int sv[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    CHECK_ERRNO(listen(sv[0], 5), EINVAL);
    close(sv[0]);
    close(sv[1]);
}

TEST(listen_twice_and_relisten_ok)
{
    struct sockaddr_un a;
    socklen_t len = abs_addr(&a, "lt");
    int l = bound(SOCK_STREAM, &a, len, 1);
    CHECK_OK(l);
    CHECK_OK(listen(l, 5));
    CHECK_EQ(sockopt_int(l, SOL_SOCKET, SO_ACCEPTCONN), 1);
    close(l);
}

/* With backlog n, n+1 connections are queued; the next nonblocking connect gets EAGAIN. */
static void backlog_case(int n)
{
    struct sockaddr_un a;
    socklen_t len = abs_addr(&a, "bl");
    int l = bound(SOCK_STREAM, &a, len, n);
    CHECK_OK(l);
    int c[8];
    for (int i = 0; i <= n; i++) {
        c[i] = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
        CHECK_OK(c[i]);
        CHECK_OK(connect(c[i], (struct sockaddr *)&a, len));
    }
    int x = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
    CHECK_OK(x);
    CHECK_ERRNO(connect(x, (struct sockaddr *)&a, len), EAGAIN);
    /* the connected ones work before accept: data waits in the embryo */
    CHECK_EQ(write(c[0], "q", 1), 1);
    int s = accept(l, NULL, NULL);
    CHECK_OK(s);
    CHECK_EQ(read_byte(s), 'q');
    /* one accepted: room for one more */
    CHECK_OK(connect(x, (struct sockaddr *)&a, len));
    close(s);
    for (int i = 0; i <= n; i++)
        close(c[i]);
    close(x);
    close(l);
}

TEST(backlog_0_queues_one) { backlog_case(0); }
TEST(backlog_3_queues_four) { backlog_case(3); }

TEST(blocking_connect_waits_until_accept)
{
    struct sockaddr_un a;
    socklen_t len = abs_addr(&a, "bc");
    int l = bound(SOCK_STREAM, &a, len, 0);
    CHECK_OK(l);
    int first = connected(SOCK_STREAM, &a, len); /* fills the backlog */
    CHECK_OK(first);
    int p[2];
    CHECK_OK(pipe(p));
    pid_t pid = fork();
    CHECK_OK(pid);
    if (pid == 0) {
        close(p[0]);
        int fd = connected(SOCK_STREAM, &a, len);
        CCHECK(fd >= 0);
        CCHECK(write_byte(p[1], 'c') == 0);
        CCHECK(write(fd, "hi", 2) == 2);
        _exit(0);
    }
    close(p[1]);
    /* the child's connect is still blocked */
    CHECK_EQ(poll1(p[0], POLLIN, 200), 0);
    int s = accept(l, NULL, NULL);
    CHECK_OK(s);
    CHECK_EQ(read_byte(p[0]), 'c');
    int s2 = accept(l, NULL, NULL);
    CHECK_OK(s2);
    char buf[4];
    CHECK_EQ(recv(s2, buf, 2, MSG_WAITALL), 2);
    CHECK(memcmp(buf, "hi", 2) == 0);
    CHECK_CHILD_OK(pid);
    close(p[0]);
    close(s);
    close(s2);
    close(first);
    close(l);
}

TEST(connect_to_listener_closed_with_pending_connections)
{
    struct sockaddr_un a;
    socklen_t len = abs_addr(&a, "cl");
    int l = bound(SOCK_STREAM, &a, len, 5);
    CHECK_OK(l);
    int c = connected(SOCK_STREAM, &a, len);
    CHECK_OK(c);
    CHECK_OK(close(l));
    /* the pending connection is reset */
    char ch;
    CHECK_ERRNO(read(c, &ch, 1), ECONNRESET);
    CHECK_EQ(read(c, &ch, 1), 0);
    close(c);
}

/* ---- accept ---- */

TEST(accept4_flags_on_new_fd)
{
    struct sockaddr_un a;
    socklen_t len = abs_addr(&a, "a4");
    int l = bound(SOCK_STREAM, &a, len, 5);
    CHECK_OK(l);
    int c1 = connected(SOCK_STREAM, &a, len);
    int c2 = connected(SOCK_STREAM, &a, len);
    int c3 = connected(SOCK_STREAM, &a, len);
    CHECK_OK(c1);
    CHECK_OK(c2);
    CHECK_OK(c3);
    int s1 = accept4(l, NULL, NULL, SOCK_CLOEXEC);
    CHECK_OK(s1);
    CHECK_EQ(fcntl(s1, F_GETFD), FD_CLOEXEC);
    CHECK_EQ(fcntl(s1, F_GETFL) & O_NONBLOCK, 0);
    int s2 = accept4(l, NULL, NULL, SOCK_NONBLOCK);
    CHECK_OK(s2);
    CHECK_EQ(fcntl(s2, F_GETFD), 0);
    CHECK_EQ(fcntl(s2, F_GETFL) & O_NONBLOCK, O_NONBLOCK);
    char ch;
    CHECK_ERRNO(read(s2, &ch, 1), EAGAIN);
    CHECK_ERRNO(syscall(SYS_accept4, l, NULL, NULL, 0x1234), EINVAL); /* raw: musl emulates */
    /* a nonblocking listener does not make accept's sockets nonblocking */
    CHECK_OK(fcntl(l, F_SETFL, O_NONBLOCK));
    int s3 = accept(l, NULL, NULL);
    CHECK_OK(s3);
    CHECK_EQ(fcntl(s3, F_GETFL) & O_NONBLOCK, 0);
    CHECK_EQ(fcntl(s3, F_GETFD), 0);
    CHECK_ERRNO(accept(l, NULL, NULL), EAGAIN);
    close(s1);
    close(s2);
    close(s3);
    close(c1);
    close(c2);
    close(c3);
    close(l);
}

TEST(accept_errors)
{
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK_OK(fd);
    CHECK_ERRNO(accept(fd, NULL, NULL), EINVAL);
    struct sockaddr_un a;
    socklen_t len = abs_addr(&a, "ae");
    CHECK_OK(bind(fd, (struct sockaddr *)&a, len));
    CHECK_ERRNO(accept(fd, NULL, NULL), EINVAL);
    close(fd);
    fd = socket(AF_UNIX, SOCK_DGRAM, 0);
    CHECK_OK(fd);
    CHECK_ERRNO(accept(fd, NULL, NULL), EOPNOTSUPP);
    close(fd);
    int nfd = open("/dev/null", O_RDONLY);
    CHECK_OK(nfd);
    CHECK_ERRNO(accept(nfd, NULL, NULL), ENOTSOCK);
    close(nfd);
}

TEST(blocking_accept_waits_for_connect)
{
    struct sockaddr_un a;
    socklen_t len = abs_addr(&a, "ba");
    int l = bound(SOCK_STREAM, &a, len, 5);
    CHECK_OK(l);
    int go[2];
    CHECK_OK(pipe(go));
    pid_t pid = fork();
    CHECK_OK(pid);
    if (pid == 0) {
        close(go[1]);
        CCHECK(read_byte(go[0]) == 'g');
        CCHECK(wait_sleeping(getppid()));
        int fd = connected(SOCK_STREAM, &a, len);
        CCHECK(fd >= 0);
        CCHECK(write(fd, "x", 1) == 1);
        close(fd);
        _exit(0);
    }
    close(go[0]);
    CHECK_OK(write_byte(go[1], 'g'));
    int s = accept(l, NULL, NULL);
    CHECK_OK(s);
    CHECK_EQ(read_byte(s), 'x');
    CHECK_CHILD_OK(pid);
    close(go[1]);
    close(s);
    close(l);
}

/* ---- connect/send errors ---- */

TEST(connect_twice_eisconn)
{
    struct sockaddr_un a;
    socklen_t len = abs_addr(&a, "ic");
    int l = bound(SOCK_STREAM, &a, len, 5);
    CHECK_OK(l);
    int c = connected(SOCK_STREAM, &a, len);
    CHECK_OK(c);
    CHECK_ERRNO(connect(c, (struct sockaddr *)&a, len), EISCONN);
    int sv[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    CHECK_ERRNO(connect(sv[0], (struct sockaddr *)&a, len), EISCONN);
    /* a listening socket cannot connect */
    CHECK_ERRNO(connect(l, (struct sockaddr *)&a, len), EINVAL);
    close(sv[0]);
    close(sv[1]);
    close(c);
    close(l);
}

TEST(unconnected_stream_send_enotconn_recv_einval)
{
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK_OK(fd);
    char c = 'x';
    CHECK_ERRNO(send(fd, &c, 1, 0), ENOTCONN);
    CHECK_ERRNO(write(fd, &c, 1), ENOTCONN);
    CHECK_ERRNO(recv(fd, &c, 1, 0), EINVAL);
    CHECK_ERRNO(read(fd, &c, 1), EINVAL);
    close(fd);
}

TEST(sendto_with_address_on_stream)
{
    struct sockaddr_un a;
    socklen_t len = abs_addr(&a, "st");
    int l = bound(SOCK_STREAM, &a, len, 5);
    CHECK_OK(l);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK_OK(fd);
    CHECK_ERRNO(sendto(fd, "x", 1, 0, (struct sockaddr *)&a, len), EOPNOTSUPP);
    CHECK_OK(connect(fd, (struct sockaddr *)&a, len));
    CHECK_ERRNO(sendto(fd, "x", 1, 0, (struct sockaddr *)&a, len), EISCONN);
    close(fd);
    close(l);
}

/* ---- data ---- */

TEST(readv_writev_on_connected_socket)
{
    struct sockaddr_un a;
    socklen_t len = abs_addr(&a, "rv");
    int l = bound(SOCK_STREAM, &a, len, 5);
    CHECK_OK(l);
    int c = connected(SOCK_STREAM, &a, len);
    CHECK_OK(c);
    int s = accept(l, NULL, NULL);
    CHECK_OK(s);
    struct iovec wv[3] = {{"abc", 3}, {"", 0}, {"defgh", 5}};
    CHECK_EQ(writev(c, wv, 3), 8);
    char x[2], y[10];
    memset(y, 0, sizeof y);
    struct iovec rv[2] = {{x, 2}, {y, sizeof y}};
    CHECK_EQ(readv(s, rv, 2), 8);
    CHECK(memcmp(x, "ab", 2) == 0);
    CHECK(memcmp(y, "cdefgh", 6) == 0);
    /* several writes are one byte stream */
    CHECK_EQ(write(s, "12", 2), 2);
    CHECK_EQ(send(s, "345", 3, 0), 3);
    char buf[16];
    CHECK_EQ(recv(c, buf, 5, MSG_WAITALL), 5);
    CHECK(memcmp(buf, "12345", 5) == 0);
    close(s);
    close(c);
    close(l);
}

TEST(large_transfer_through_child)
{
    int sv[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    enum { TOTAL = 1 << 20 };
    pid_t pid = fork();
    CHECK_OK(pid);
    if (pid == 0) {
        close(sv[0]);
        static unsigned char buf[8192];
        size_t sent = 0;
        while (sent < TOTAL) {
            for (size_t i = 0; i < sizeof buf; i++)
                buf[i] = (unsigned char)((sent + i) * 7);
            ssize_t w = write(sv[1], buf, sizeof buf);
            CCHECK(w > 0);
            CCHECK(w == (ssize_t)sizeof buf); /* blocking stream writes are complete */
            sent += (size_t)w;
        }
        _exit(0);
    }
    close(sv[1]);
    static unsigned char buf[3000];
    size_t got = 0;
    int bad = 0;
    for (;;) {
        ssize_t r = read(sv[0], buf, sizeof buf);
        CHECK_OK(r);
        if (r == 0)
            break;
        for (ssize_t i = 0; i < r; i++)
            if (buf[i] != (unsigned char)((got + (size_t)i) * 7))
                bad = 1;
        got += (size_t)r;
    }
    CHECK_EQ(got, TOTAL);
    CHECK_EQ(bad, 0);
    CHECK_CHILD_OK(pid);
    close(sv[0]);
}

TEST(msg_peek_then_read)
{
    int sv[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    CHECK_EQ(write(sv[0], "hello", 5), 5);
    char buf[16] = {0};
    CHECK_EQ(recv(sv[1], buf, 3, MSG_PEEK), 3);
    CHECK(memcmp(buf, "hel", 3) == 0);
    CHECK_EQ(recv(sv[1], buf, sizeof buf, MSG_PEEK), 5);
    CHECK_EQ(read(sv[1], buf, 2), 2);
    CHECK(memcmp(buf, "he", 2) == 0);
    CHECK_EQ(recv(sv[1], buf, sizeof buf, MSG_PEEK), 3);
    CHECK(memcmp(buf, "llo", 3) == 0);
    CHECK_EQ(read(sv[1], buf, sizeof buf), 3);
    CHECK(memcmp(buf, "llo", 3) == 0);
    CHECK_ERRNO(recv(sv[1], buf, sizeof buf, MSG_PEEK | MSG_DONTWAIT), EAGAIN);
    close(sv[0]);
    close(sv[1]);
}

TEST(msg_dontwait_on_blocking_socket)
{
    int sv[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    char c;
    CHECK_ERRNO(recv(sv[0], &c, 1, MSG_DONTWAIT), EAGAIN);
    CHECK_EQ(fcntl(sv[0], F_GETFL) & O_NONBLOCK, 0);
    long n = fill_count(sv[0]);
    CHECK(n > 0);
    CHECK_ERRNO(send(sv[0], "x", 1, MSG_DONTWAIT), EAGAIN);
    close(sv[0]);
    close(sv[1]);
}

TEST(recv_returns_what_is_there)
{
    /* without MSG_WAITALL a blocking recv returns the data already queued */
    int sv[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    CHECK_EQ(write(sv[0], "abc", 3), 3);
    char buf[16];
    CHECK_EQ(recv(sv[1], buf, sizeof buf, 0), 3);
    close(sv[0]);
    close(sv[1]);
}

TEST(msg_waitall_collects_three_chunks)
{
    int sv[2], go[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    CHECK_OK(pipe(go));
    pid_t pid = fork();
    CHECK_OK(pid);
    if (pid == 0) {
        close(sv[0]);
        close(go[1]);
        CCHECK(write(sv[1], "chunk-one-", 10) == 10);
        CCHECK(read_byte(go[0]) == 'g');
        /* the parent is now in recv(MSG_WAITALL) with the first chunk consumed */
        if (!wait_sleeping_or_hup(getppid(), sv[1]))
            _exit(0);
        CCHECK(write(sv[1], "chunk-two-", 10) == 10);
        CCHECK(write(sv[1], "chunk-3333", 10) == 10);
        CCHECK(read_byte(go[0]) == -1); /* parent done */
        _exit(0);
    }
    close(sv[1]);
    close(go[0]);
    CHECK_OK(write_byte(go[1], 'g'));
    char buf[32] = {0};
    ssize_t r = recv(sv[0], buf, 30, MSG_WAITALL);
    close(go[1]);
    close(sv[0]);
    CHECK_CHILD_OK(pid);
    CHECK_EQ(r, 30);
    CHECK(memcmp(buf, "chunk-one-chunk-two-chunk-3333", 30) == 0);
}

TEST(msg_waitall_returns_short_at_eof)
{
    int sv[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    CHECK_EQ(write(sv[0], "abc", 3), 3);
    CHECK_OK(shutdown(sv[0], SHUT_WR));
    char buf[16];
    CHECK_EQ(recv(sv[1], buf, sizeof buf, MSG_WAITALL), 3);
    CHECK_EQ(recv(sv[1], buf, sizeof buf, MSG_WAITALL), 0);
    close(sv[0]);
    close(sv[1]);
}

/* ---- EOF, EPIPE, SIGPIPE, ECONNRESET ---- */

TEST(peer_close_gives_data_then_eof)
{
    int sv[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    CHECK_EQ(write(sv[0], "bye", 3), 3);
    CHECK_OK(close(sv[0]));
    char buf[8];
    CHECK_EQ(read(sv[1], buf, sizeof buf), 3);
    CHECK_EQ(read(sv[1], buf, sizeof buf), 0);
    CHECK_EQ(read(sv[1], buf, sizeof buf), 0);
    close(sv[1]);
}

TEST(write_after_peer_close_epipe_and_sigpipe)
{
    catch_sigpipe();
    int sv[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    CHECK_OK(close(sv[1]));
    CHECK_ERRNO(write(sv[0], "x", 1), EPIPE);
    CHECK_EQ(sigpipes, 1);
    CHECK_ERRNO(send(sv[0], "x", 1, 0), EPIPE);
    CHECK_EQ(sigpipes, 2);
    struct iovec iov = {"x", 1};
    CHECK_ERRNO(writev(sv[0], &iov, 1), EPIPE);
    CHECK_EQ(sigpipes, 3);
    default_sigpipe();
    close(sv[0]);
}

TEST(sigpipe_default_kills_writer)
{
    int sv[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    CHECK_OK(close(sv[1]));
    pid_t pid = fork();
    CHECK_OK(pid);
    if (pid == 0) {
        signal(SIGPIPE, SIG_DFL);
        sigset_t s;
        sigemptyset(&s);
        sigprocmask(SIG_SETMASK, &s, NULL);
        (void)!write(sv[0], "x", 1);
        _exit(0);
    }
    int st = child_status(pid);
    CHECK(WIFSIGNALED(st));
    CHECK_EQ(WTERMSIG(st), SIGPIPE);
    close(sv[0]);
}

TEST(msg_nosignal_epipe_without_sigpipe)
{
    catch_sigpipe();
    int sv[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    CHECK_OK(close(sv[1]));
    CHECK_ERRNO(send(sv[0], "x", 1, MSG_NOSIGNAL), EPIPE);
    struct iovec iov = {"x", 1};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
    CHECK_ERRNO(sendmsg(sv[0], &m, MSG_NOSIGNAL), EPIPE);
    CHECK_EQ(sigpipes, 0);
    default_sigpipe();
    close(sv[0]);
}

TEST(close_with_unread_data_gives_peer_econnreset)
{
    int sv[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    CHECK_EQ(write(sv[0], "unread", 6), 6);
    CHECK_OK(close(sv[1])); /* closes with 6 unread bytes */
    char c;
    CHECK_ERRNO(recv(sv[0], &c, 1, 0), ECONNRESET);
    /* the error is reported once; then end of file */
    CHECK_EQ(recv(sv[0], &c, 1, 0), 0);
    CHECK_EQ(sockopt_int(sv[0], SOL_SOCKET, SO_ERROR), 0);
    close(sv[0]);
}

TEST(close_with_unread_data_so_error)
{
    int sv[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    CHECK_EQ(write(sv[0], "unread", 6), 6);
    CHECK_OK(close(sv[1]));
    /* SO_ERROR reports and clears the pending error */
    CHECK_EQ(sockopt_int(sv[0], SOL_SOCKET, SO_ERROR), ECONNRESET);
    CHECK_EQ(sockopt_int(sv[0], SOL_SOCKET, SO_ERROR), 0);
    char c;
    CHECK_EQ(recv(sv[0], &c, 1, 0), 0);
    close(sv[0]);
}

/* ---- shutdown ---- */

TEST(shutdown_wr_peer_sees_eof_writer_gets_epipe)
{
    catch_sigpipe();
    int sv[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    CHECK_EQ(write(sv[0], "last", 4), 4);
    CHECK_OK(shutdown(sv[0], SHUT_WR));
    char buf[8];
    CHECK_EQ(read(sv[1], buf, sizeof buf), 4);
    CHECK_EQ(read(sv[1], buf, sizeof buf), 0);
    CHECK_ERRNO(write(sv[0], "x", 1), EPIPE);
    CHECK_EQ(sigpipes, 1);
    /* the other direction still works */
    CHECK_EQ(write(sv[1], "back", 4), 4);
    CHECK_EQ(read(sv[0], buf, sizeof buf), 4);
    CHECK(memcmp(buf, "back", 4) == 0);
    default_sigpipe();
    close(sv[0]);
    close(sv[1]);
}

TEST(shutdown_rd_reader_gets_eof_peer_gets_epipe)
{
    catch_sigpipe();
    int sv[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    CHECK_EQ(write(sv[1], "queued", 6), 6);
    CHECK_OK(shutdown(sv[0], SHUT_RD));
    /* data queued before the shutdown is still readable, then end of file */
    char buf[8];
    CHECK_EQ(read(sv[0], buf, sizeof buf), 6);
    CHECK_EQ(read(sv[0], buf, sizeof buf), 0);
    CHECK_ERRNO(write(sv[1], "x", 1), EPIPE);
    CHECK_EQ(sigpipes, 1);
    CHECK_ERRNO(send(sv[1], "x", 1, MSG_NOSIGNAL), EPIPE);
    CHECK_EQ(sigpipes, 1);
    /* the shut-down reader can still write */
    CHECK_EQ(write(sv[0], "ok", 2), 2);
    CHECK_EQ(read(sv[1], buf, sizeof buf), 2);
    default_sigpipe();
    close(sv[0]);
    close(sv[1]);
}

TEST(shutdown_rdwr_both_directions)
{
    catch_sigpipe();
    int sv[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    CHECK_OK(shutdown(sv[0], SHUT_RDWR));
    char c;
    CHECK_EQ(read(sv[0], &c, 1), 0);
    CHECK_EQ(read(sv[1], &c, 1), 0);
    CHECK_ERRNO(send(sv[0], "x", 1, MSG_NOSIGNAL), EPIPE);
    CHECK_ERRNO(send(sv[1], "x", 1, MSG_NOSIGNAL), EPIPE);
    CHECK_EQ(sigpipes, 0);
    /* shutting down again is fine */
    CHECK_OK(shutdown(sv[0], SHUT_RDWR));
    CHECK_OK(shutdown(sv[1], SHUT_RD));
    default_sigpipe();
    close(sv[0]);
    close(sv[1]);
}

TEST(shutdown_errors)
{
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK_OK(fd);
    /* unlike TCP, an unconnected unix socket may be shut down */
    CHECK_OK(shutdown(fd, SHUT_WR));
    int sv[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    CHECK_ERRNO(shutdown(sv[0], 3), EINVAL);
    CHECK_ERRNO(shutdown(sv[0], -1), EINVAL);
    int nfd = open("/dev/null", O_RDONLY);
    CHECK_OK(nfd);
    CHECK_ERRNO(shutdown(nfd, SHUT_RD), ENOTSOCK);
    close(nfd);
    close(fd);
    close(sv[0]);
    close(sv[1]);
}

TEST(shutdown_wr_wakes_blocked_reader)
{
    int sv[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    pid_t pid = fork();
    CHECK_OK(pid);
    if (pid == 0) {
        close(sv[0]);
        char c;
        CCHECK(read(sv[1], &c, 1) == 0);
        _exit(0);
    }
    /* wait until the child blocks in read, then shut our side down */
    int asleep = wait_sleeping(pid);
    CHECK_OK(shutdown(sv[0], SHUT_WR));
    CHECK_CHILD_OK(pid);
    CHECK(asleep);
    close(sv[0]);
    close(sv[1]);
}

/* ---- options ---- */

TEST(so_type_domain_protocol_error_acceptconn)
{
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK_OK(fd);
    CHECK_EQ(sockopt_int(fd, SOL_SOCKET, SO_TYPE), SOCK_STREAM);
    CHECK_EQ(sockopt_int(fd, SOL_SOCKET, SO_DOMAIN), AF_UNIX);
    CHECK_EQ(sockopt_int(fd, SOL_SOCKET, SO_PROTOCOL), 0);
    CHECK_EQ(sockopt_int(fd, SOL_SOCKET, SO_ERROR), 0);
    CHECK_EQ(sockopt_int(fd, SOL_SOCKET, SO_ACCEPTCONN), 0);
    struct sockaddr_un a;
    socklen_t len = abs_addr(&a, "so");
    CHECK_OK(bind(fd, (struct sockaddr *)&a, len));
    CHECK_EQ(sockopt_int(fd, SOL_SOCKET, SO_ACCEPTCONN), 0);
    CHECK_OK(listen(fd, 5));
    CHECK_EQ(sockopt_int(fd, SOL_SOCKET, SO_ACCEPTCONN), 1);
    /* read-only options */
    int one = 1;
    CHECK_ERRNO(setsockopt(fd, SOL_SOCKET, SO_TYPE, &one, sizeof one), ENOPROTOOPT);
    CHECK_ERRNO(setsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &one, sizeof one), ENOPROTOOPT);
    int v;
    socklen_t vlen = sizeof v;
    CHECK_ERRNO(getsockopt(fd, SOL_SOCKET, 9999, &v, &vlen), ENOPROTOOPT);
    int nfd = open("/dev/null", O_RDONLY);
    CHECK_OK(nfd);
    CHECK_ERRNO(getsockopt(nfd, SOL_SOCKET, SO_TYPE, &v, &vlen), ENOTSOCK);
    close(nfd);
    close(fd);
}

TEST(getsockopt_short_optlen)
{
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK_OK(fd);
    /* a shorter buffer gets the first bytes and the shorter length */
    unsigned char b[8];
    memset(b, 0x55, sizeof b);
    socklen_t len = 2;
    CHECK_OK(getsockopt(fd, SOL_SOCKET, SO_TYPE, b, &len));
    CHECK_EQ(len, 2);
    CHECK_EQ(b[0], SOCK_STREAM);
    CHECK_EQ(b[2], 0x55);
    socklen_t bad = (socklen_t)-1;
    CHECK_ERRNO(getsockopt(fd, SOL_SOCKET, SO_TYPE, b, &bad), EINVAL);
    close(fd);
}

TEST(so_sndbuf_rcvbuf_doubled)
{
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK_OK(fd);
    CHECK(sockopt_int(fd, SOL_SOCKET, SO_SNDBUF) > 0);
    CHECK(sockopt_int(fd, SOL_SOCKET, SO_RCVBUF) > 0);
    int v = 8192;
    CHECK_OK(setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof v));
    CHECK_EQ(sockopt_int(fd, SOL_SOCKET, SO_SNDBUF), 16384);
    v = 12000;
    CHECK_OK(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof v));
    CHECK_EQ(sockopt_int(fd, SOL_SOCKET, SO_RCVBUF), 24000);
    CHECK_ERRNO(setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, 2), EINVAL);
    close(fd);
}

TEST(small_sndbuf_fills_sooner)
{
    int sv[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    long dflt = fill_count(sv[0]);
    close(sv[0]);
    close(sv[1]);
    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    int v = 8192;
    CHECK_OK(setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &v, sizeof v));
    long small = fill_count(sv[0]);
    printf("# default fills after %ld bytes, SO_SNDBUF 8192 after %ld\n", dflt, small);
    CHECK(dflt > 0);
    CHECK(small > 0);
    CHECK(small < dflt);
    CHECK(small <= 16384);
    /* reading makes room again */
    char buf[4096];
    CHECK(read(sv[1], buf, sizeof buf) > 0);
    while (recv(sv[1], buf, sizeof buf, MSG_DONTWAIT) > 0)
        ;
    CHECK_EQ(send(sv[0], "x", 1, MSG_DONTWAIT), 1);
    close(sv[0]);
    close(sv[1]);
}

TEST(so_rcvtimeo_recv_times_out)
{
    int sv[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    struct timeval tv = {0, 100000};
    CHECK_OK(setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv));
    struct timeval got = {9, 9};
    socklen_t len = sizeof got;
    CHECK_OK(getsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &got, &len));
    CHECK_EQ(len, sizeof got);
    CHECK_EQ(got.tv_sec, 0);
    CHECK_EQ(got.tv_usec, 100000);
    char c;
    long long t0 = now_ms();
    CHECK_ERRNO(recv(sv[0], &c, 1, 0), EAGAIN);
    long long dt = now_ms() - t0;
    CHECK(dt >= 100);
    /* read() honours it too; data arriving in time is returned */
    t0 = now_ms();
    CHECK_ERRNO(read(sv[0], &c, 1), EAGAIN);
    CHECK(now_ms() - t0 >= 100);
    CHECK_EQ(write(sv[1], "d", 1), 1);
    CHECK_EQ(read(sv[0], &c, 1), 1);
    tv.tv_usec = 1000000; /* out of range */
    CHECK_ERRNO(setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), EDOM);
    close(sv[0]);
    close(sv[1]);
}

TEST(so_sndtimeo_send_times_out)
{
    int sv[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    CHECK(fill_count(sv[0]) > 0);
    struct timeval tv = {0, 100000};
    CHECK_OK(setsockopt(sv[0], SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv));
    struct timeval got = {9, 9};
    socklen_t len = sizeof got;
    CHECK_OK(getsockopt(sv[0], SOL_SOCKET, SO_SNDTIMEO, &got, &len));
    CHECK_EQ(got.tv_sec, 0);
    CHECK_EQ(got.tv_usec, 100000);
    long long t0 = now_ms();
    CHECK_ERRNO(send(sv[0], "x", 1, 0), EAGAIN);
    CHECK(now_ms() - t0 >= 100);
    close(sv[0]);
    close(sv[1]);
}
