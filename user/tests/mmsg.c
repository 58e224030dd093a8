/* mmsg.c - sendmmsg/recvmmsg on Unix datagram and UDP sockets: counts and msg_len, the partial
 * count when a later message fails, MSG_WAITFORONE, MSG_DONTWAIT on an empty socket, the
 * timeout's checks, and the descriptor errors.
 */
#define _GNU_SOURCE
#define TEST_MAIN
#include "test.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/uio.h>

struct batch {
    struct mmsghdr h[4];
    struct iovec iov[4];
    char buf[4][16];
};

static void prepare(struct batch *b, int n, const char *const *texts)
{
    memset(b, 0, sizeof *b);
    for (int i = 0; i < n; i++) {
        if (texts)
            snprintf(b->buf[i], sizeof b->buf[i], "%s", texts[i]);
        b->iov[i].iov_base = b->buf[i];
        b->iov[i].iov_len = texts ? strlen(texts[i]) : sizeof b->buf[i];
        b->h[i].msg_hdr.msg_iov = &b->iov[i];
        b->h[i].msg_hdr.msg_iovlen = 1;
    }
}

static const char *const three[] = { "one", "three", "fifteen" };

TEST(send_and_receive_several)
{
    int sv[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv));
    struct batch out, in;
    prepare(&out, 3, three);
    CHECK_EQ(sendmmsg(sv[0], out.h, 3, 0), 3);
    CHECK_EQ(out.h[0].msg_len, 3);
    CHECK_EQ(out.h[2].msg_len, 7);
    prepare(&in, 4, NULL);
    CHECK_EQ(recvmmsg(sv[1], in.h, 4, MSG_DONTWAIT, NULL), 3);
    CHECK_EQ(in.h[1].msg_len, 5);
    CHECK(memcmp(in.buf[1], "three", 5) == 0);
    CHECK(memcmp(in.buf[2], "fifteen", 7) == 0);
    /* Empty now. */
    CHECK_ERRNO(recvmmsg(sv[1], in.h, 4, MSG_DONTWAIT, NULL), EAGAIN);
    CHECK_EQ(sendmmsg(sv[0], out.h, 0, 0), 0);
    close(sv[0]);
    close(sv[1]);
}

TEST(waitforone_returns_what_is_there)
{
    int sv[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv));
    struct batch out, in;
    prepare(&out, 2, three);
    CHECK_EQ(sendmmsg(sv[0], out.h, 2, 0), 2);
    prepare(&in, 4, NULL);
    /* Blocking for the first only: two messages, no wait for the other two. */
    CHECK_EQ(recvmmsg(sv[1], in.h, 4, MSG_WAITFORONE, NULL), 2);
    close(sv[0]);
    close(sv[1]);
}

TEST(a_later_failure_gives_the_count)
{
    int sv[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv));
    struct batch out, in;
    prepare(&out, 3, three);
    out.iov[1].iov_base = bad_ptr(8);
    CHECK_EQ(sendmmsg(sv[0], out.h, 3, 0), 1);
    /* The first one failing is the error itself. */
    CHECK_ERRNO(sendmmsg(sv[0], out.h + 1, 2, 0), EFAULT);
    prepare(&in, 4, NULL);
    CHECK_EQ(recvmmsg(sv[1], in.h, 4, MSG_DONTWAIT, NULL), 1);
    close(sv[0]);
    close(sv[1]);
}

TEST(timeout_and_descriptor_errors)
{
    int sv[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv));
    struct batch in;
    prepare(&in, 4, NULL);
    struct timespec bad = { 0, 2000000000L };
    CHECK_ERRNO(recvmmsg(sv[1], in.h, 4, MSG_DONTWAIT, &bad), EINVAL);
    /* A timeout already over still returns what one receive gets. */
    struct batch out;
    prepare(&out, 2, three);
    CHECK_EQ(sendmmsg(sv[0], out.h, 2, 0), 2);
    struct timespec zero = { 0, 0 };
    CHECK_EQ(recvmmsg(sv[1], in.h, 4, MSG_DONTWAIT, &zero), 1);
    CHECK_ERRNO(recvmmsg(-1, in.h, 4, 0, NULL), EBADF);
    int fd = open("/dev/null", O_RDONLY);
    CHECK_ERRNO(recvmmsg(fd, in.h, 4, 0, NULL), ENOTSOCK);
    CHECK_ERRNO(sendmmsg(fd, in.h, 4, 0), ENOTSOCK);
    close(fd);
    close(sv[0]);
    close(sv[1]);
}

TEST(udp_loopback)
{
    int r = socket(AF_INET, SOCK_DGRAM, 0), s = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    CHECK_OK(bind(r, (struct sockaddr *)&a, sizeof a));
    CHECK_OK(getsockname(r, (struct sockaddr *)&a, &len));
    CHECK_OK(connect(s, (struct sockaddr *)&a, sizeof a));
    struct batch out, in;
    prepare(&out, 3, three);
    CHECK_EQ(sendmmsg(s, out.h, 3, 0), 3);
    prepare(&in, 3, NULL);
    CHECK_EQ(recvmmsg(r, in.h, 3, 0, NULL), 3);
    CHECK_EQ(in.h[2].msg_len, 7);
    close(r);
    close(s);
}
