/* newer_io.c - the newer descriptor and file calls real programs use: close_range (plain and
 * CLOSE_RANGE_CLOEXEC, its EINVAL cases), preadv2/pwritev2 (offset -1, RWF_NOWAIT on a pipe,
 * RWF_APPEND, unknown flags, ESPIPE), posix_fadvise/fadvise64 (advice, ESPIPE, EBADF) and
 * fallocate on tmpfs (growing, KEEP_SIZE, PUNCH_HOLE, the mode and descriptor errors), and
 * O_PATH descriptors given to accept and epoll_ctl (EBADF).
 */
#define _GNU_SOURCE
#define TEST_MAIN
#include "test.h"

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/syscall.h>
#include <sys/uio.h>

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
#ifndef RWF_NOWAIT
#define RWF_HIPRI 0x1
#define RWF_DSYNC 0x2
#define RWF_NOWAIT 0x8
#define RWF_APPEND 0x10
#endif

static long close_range_(unsigned first, unsigned last, unsigned flags)
{
    return syscall(SYS_close_range, first, last, flags);
}

static long preadv2_(int fd, const struct iovec *iov, int n, long off, int flags)
{
    return syscall(SYS_preadv2, fd, iov, n, off, 0L, flags);
}

static long pwritev2_(int fd, const struct iovec *iov, int n, long off, int flags)
{
    return syscall(SYS_pwritev2, fd, iov, n, off, 0L, flags);
}

/* A fresh file in /tmp (tmpfs in the guest), removed at once: its descriptor. */
static int temp_file(void)
{
    char path[] = "/tmp/newer-io-XXXXXX";
    int fd = mkstemp(path);
    if (fd >= 0)
        unlink(path);
    return fd;
}

TEST(close_range_closes_a_range)
{
    int fds[6];
    for (int i = 0; i < 6; i++)
        fds[i] = dup(0);
    /* dup returns the lowest free slots; close the middle four of six consecutive ones. */
    for (int i = 1; i < 6; i++)
        if (fds[i] != fds[0] + i)
            SKIP("descriptors not consecutive");
    CHECK_EQ(close_range_(fds[1], fds[4], 0), 0);
    CHECK(fcntl(fds[0], F_GETFD) >= 0);
    for (int i = 1; i <= 4; i++)
        CHECK_ERRNO(fcntl(fds[i], F_GETFD), EBADF);
    CHECK(fcntl(fds[5], F_GETFD) >= 0);
    /* A range beyond every open descriptor is fine; first > last is not. */
    CHECK_EQ(close_range_(fds[5] + 1, ~0U, 0), 0);
    CHECK_ERRNO(close_range_(5, 4, 0), EINVAL);
    CHECK_ERRNO(close_range_(fds[0], fds[0], 1U << 10), EINVAL);
    CHECK(fcntl(fds[0], F_GETFD) >= 0);
    close(fds[0]);
    close(fds[5]);
}

TEST(close_range_cloexec_marks)
{
    int a = dup(0), b = dup(0);
    int lo = a < b ? a : b, hi = a < b ? b : a;
    CHECK_EQ(close_range_(lo, hi, CLOSE_RANGE_CLOEXEC), 0);
    CHECK_EQ(fcntl(a, F_GETFD), FD_CLOEXEC);
    CHECK_EQ(fcntl(b, F_GETFD), FD_CLOEXEC);
    close(a);
    close(b);
}

TEST(preadv2_pwritev2_positions)
{
    int fd = temp_file();
    CHECK_OK(fd);
    char a[] = "hello ", b[] = "world";
    struct iovec w[2] = { { a, 6 }, { b, 5 } };
    /* -1: the file position, which moves. */
    CHECK_EQ(pwritev2_(fd, w, 2, -1, 0), 11);
    CHECK_EQ(lseek(fd, 0, SEEK_CUR), 11);
    /* An offset: the position stays. */
    CHECK_EQ(pwritev2_(fd, w, 1, 20, RWF_DSYNC), 6);
    CHECK_EQ(lseek(fd, 0, SEEK_CUR), 11);
    char buf[32] = { 0 };
    struct iovec r = { buf, 5 };
    CHECK_EQ(preadv2_(fd, &r, 1, 6, RWF_HIPRI), 5);
    CHECK(memcmp(buf, "world", 5) == 0);
    CHECK_EQ(lseek(fd, 0, SEEK_SET), 0);
    CHECK_EQ(preadv2_(fd, &r, 1, -1, 0), 5);
    CHECK(memcmp(buf, "hello", 5) == 0);
    CHECK_EQ(lseek(fd, 0, SEEK_CUR), 5);
    /* RWF_APPEND: at the end whatever the offset. */
    struct stat st;
    CHECK_OK(fstat(fd, &st));
    CHECK_EQ(pwritev2_(fd, w + 1, 1, 0, RWF_APPEND), 5);
    CHECK_OK(fstat(fd, &st));
    CHECK_EQ(st.st_size, 31);
    CHECK_EQ(pread(fd, buf, 5, 26), 5);
    CHECK(memcmp(buf, "world", 5) == 0);
    /* Bad offsets and flags. */
    CHECK_ERRNO(preadv2_(fd, &r, 1, -2, 0), EINVAL);
    CHECK_ERRNO(preadv2_(fd, &r, 1, 0, 1 << 30), EOPNOTSUPP);
    CHECK_ERRNO(pwritev2_(fd, &r, 1, 0, 1 << 30), EOPNOTSUPP);
    close(fd);
}

TEST(preadv2_pwritev2_on_a_pipe)
{
    int p[2];
    CHECK_OK(pipe(p));
    char buf[8];
    struct iovec r = { buf, sizeof buf };
    /* Nothing to read: RWF_NOWAIT does not wait although the pipe blocks. */
    CHECK_ERRNO(preadv2_(p[0], &r, 1, -1, RWF_NOWAIT), EAGAIN);
    struct iovec w = { "ab", 2 };
    /* A pipe has no offsets. */
    CHECK_ERRNO(pwritev2_(p[1], &w, 1, 0, 0), ESPIPE);
    CHECK_ERRNO(preadv2_(p[0], &r, 1, 0, 0), ESPIPE);
    CHECK_EQ(pwritev2_(p[1], &w, 1, -1, 0), 2);
    CHECK_EQ(preadv2_(p[0], &r, 1, -1, RWF_NOWAIT), 2);
    CHECK(memcmp(buf, "ab", 2) == 0);
    /* The wrong end. */
    CHECK_ERRNO(pwritev2_(p[0], &w, 1, -1, 0), EBADF);
    close(p[0]);
    close(p[1]);
}

TEST(fadvise_checks)
{
    int fd = temp_file();
    CHECK_OK(fd);
    CHECK_EQ(posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL), 0);
    CHECK_EQ(posix_fadvise(fd, 0, 4096, POSIX_FADV_DONTNEED), 0);
    CHECK_EQ(posix_fadvise(fd, 0, 0, POSIX_FADV_NOREUSE), 0);
    CHECK_ERRNO(syscall(SYS_fadvise64, fd, 0L, 0L, 6), EINVAL);
    CHECK_ERRNO(syscall(SYS_fadvise64, fd, 0L, -1L, POSIX_FADV_NORMAL), EINVAL);
    int p[2];
    CHECK_OK(pipe(p));
    CHECK_ERRNO(syscall(SYS_fadvise64, p[0], 0L, 0L, POSIX_FADV_NORMAL), ESPIPE);
    close(p[0]);
    close(p[1]);
    CHECK_ERRNO(syscall(SYS_fadvise64, 999, 0L, 0L, POSIX_FADV_NORMAL), EBADF);
    int opath = open("/tmp", O_PATH);
    CHECK_OK(opath);
    CHECK_ERRNO(syscall(SYS_fadvise64, opath, 0L, 0L, POSIX_FADV_NORMAL), EBADF);
    close(opath);
    close(fd);
}

TEST(fallocate_on_tmpfs)
{
    int fd = temp_file();
    CHECK_OK(fd);
    struct stat st;
    CHECK_OK(fallocate(fd, 0, 0, 10000));
    CHECK_OK(fstat(fd, &st));
    CHECK_EQ(st.st_size, 10000);
    /* KEEP_SIZE: the size stays. */
    CHECK_OK(fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, 50000));
    CHECK_OK(fstat(fd, &st));
    CHECK_EQ(st.st_size, 10000);
    /* A range inside the file changes nothing. */
    CHECK_OK(fallocate(fd, 0, 100, 100));
    CHECK_OK(fstat(fd, &st));
    CHECK_EQ(st.st_size, 10000);
    /* A punched hole reads as zeros, the size kept. */
    char data[300];
    memset(data, 'x', sizeof data);
    CHECK_EQ(pwrite(fd, data, sizeof data, 0), (long)sizeof data);
    CHECK_OK(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 100, 100));
    char back[300];
    CHECK_EQ(pread(fd, back, sizeof back, 0), (long)sizeof back);
    CHECK_EQ(back[99], 'x');
    CHECK_EQ(back[100], 0);
    CHECK_EQ(back[199], 0);
    CHECK_EQ(back[200], 'x');
    CHECK_OK(fstat(fd, &st));
    CHECK_EQ(st.st_size, 10000);
    /* The errors, in Linux's order. */
    CHECK_ERRNO(fallocate(fd, 0, -1, 10), EINVAL);
    CHECK_ERRNO(fallocate(fd, 0, 0, 0), EINVAL);
    CHECK_ERRNO(fallocate(fd, FALLOC_FL_PUNCH_HOLE, 0, 10), EOPNOTSUPP);
    CHECK_ERRNO(fallocate(fd, 0x100, 0, 10), EOPNOTSUPP);
    CHECK_ERRNO(fallocate(fd, 0, 0x7fffffffffffff00L, 0x1000), EFBIG);
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    int rd = open(path, O_RDONLY);
    CHECK_OK(rd);
    CHECK_ERRNO(fallocate(rd, 0, 0, 10), EBADF);
    close(rd);
    int p[2];
    CHECK_OK(pipe(p));
    CHECK_ERRNO(fallocate(p[1], 0, 0, 10), ESPIPE);
    close(p[0]);
    close(p[1]);
    close(fd);
}

TEST(o_path_descriptors_are_ebadf_to_accept_and_epoll_ctl)
{
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    snprintf(a.sun_path, sizeof a.sun_path, "/tmp/newer-io-sock-%d", (int)getpid());
    unlink(a.sun_path);
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK_OK(s);
    CHECK_OK(bind(s, (struct sockaddr *)&a, sizeof a));
    CHECK_OK(listen(s, 1));
    int opath = open(a.sun_path, O_PATH);
    CHECK_OK(opath);
    CHECK_ERRNO(accept(opath, NULL, NULL), EBADF);
    int ep = epoll_create1(0);
    struct epoll_event ev = { .events = EPOLLIN };
    CHECK_ERRNO(epoll_ctl(ep, EPOLL_CTL_ADD, opath, &ev), EBADF);
    int dir = open("/tmp", O_PATH);
    CHECK_ERRNO(epoll_ctl(dir, EPOLL_CTL_ADD, s, &ev), EBADF);
    close(dir);
    close(ep);
    close(opath);
    close(s);
    unlink(a.sun_path);
}
