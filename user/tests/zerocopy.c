/* sendfile, splice, tee and copy_file_range: data moved between files, pipes and sockets
 * inside the kernel, with offsets and errors as Linux gives them. */
#define _GNU_SOURCE
#define TEST_MAIN
#include "test.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[64];

static int make_file(const char *name, const char *content)
{
    char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0 && content && write(fd, content, strlen(content)) != (ssize_t)strlen(content)) {
        close(fd);
        return -1;
    }
    return fd;
}

static ssize_t read_all(int fd, char *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    return (ssize_t)got;
}

TEST(setup_scratch_dir)
{
    strcpy(dir, "/tmp/ptest.XXXXXX");
    CHECK(mkdtemp(dir) != NULL);
}

TEST(sendfile_file_to_pipe_moves_the_file_offset)
{
    int fd = make_file("a", "hello, sendfile");
    CHECK(fd >= 0);
    CHECK_OK(lseek(fd, 7, SEEK_SET));
    int p[2];
    CHECK_OK(pipe(p));
    CHECK_EQ(sendfile(p[1], fd, NULL, 100), 8);
    CHECK_EQ(lseek(fd, 0, SEEK_CUR), 15);
    char buf[32] = {0};
    CHECK_EQ(read(p[0], buf, sizeof buf), 8);
    CHECK(strcmp(buf, "sendfile") == 0);
    close(p[0]);
    close(p[1]);
    close(fd);
}

TEST(sendfile_with_offset_pointer_leaves_the_file_offset)
{
    int fd = make_file("b", "0123456789");
    CHECK(fd >= 0);
    CHECK_OK(lseek(fd, 1, SEEK_SET));
    int p[2];
    CHECK_OK(pipe(p));
    off_t off = 4;
    CHECK_EQ(sendfile(p[1], fd, &off, 3), 3);
    CHECK_EQ(off, 7);
    CHECK_EQ(lseek(fd, 0, SEEK_CUR), 1); /* untouched: the offset pointer was used */
    char buf[8] = {0};
    CHECK_EQ(read(p[0], buf, sizeof buf), 3);
    CHECK(strcmp(buf, "456") == 0);
    close(p[0]);
    close(p[1]);
    close(fd);
}

TEST(sendfile_file_to_file_and_socket)
{
    int in = make_file("c", "copy me over");
    int out = make_file("d", NULL);
    CHECK(in >= 0 && out >= 0);
    off_t off = 0;
    CHECK_EQ(sendfile(out, in, &off, 1000), 12);
    char buf[32] = {0};
    CHECK_EQ(pread(out, buf, sizeof buf, 0), 12);
    CHECK(strcmp(buf, "copy me over") == 0);
    int sv[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    off = 5;
    CHECK_EQ(sendfile(sv[0], in, &off, 1000), 7);
    memset(buf, 0, sizeof buf);
    CHECK_EQ(read(sv[1], buf, sizeof buf), 7);
    CHECK(strcmp(buf, "me over") == 0);
    close(sv[0]);
    close(sv[1]);
    close(in);
    close(out);
}

TEST(sendfile_errors)
{
    int fd = make_file("e", "x");
    int p[2];
    CHECK_OK(pipe(p));
    CHECK_ERRNO(sendfile(p[1], 999, NULL, 1), EBADF);
    CHECK_ERRNO(sendfile(999, fd, NULL, 1), EBADF);
    /* a pipe cannot be the input */
    CHECK_ERRNO(sendfile(fd, p[0], NULL, 1), EINVAL);
    int ro = open("/dev/null", O_RDONLY);
    CHECK_ERRNO(sendfile(ro, fd, NULL, 1), EBADF);
    close(ro);
    close(p[0]);
    close(p[1]);
    close(fd);
}

/* Only files whose driver splices take part (Linux: f_op->splice_read, f_op->splice_write): an
 * eventfd does neither, so sendfile or splice from it and splice into it are EINVAL, and its
 * count stays. */
TEST(splice_needs_files_that_splice)
{
    int p[2];
    CHECK_OK(pipe(p));
    int efd = eventfd(5, 0);
    CHECK(efd >= 0);
    CHECK_ERRNO(sendfile(p[1], efd, NULL, 8), EINVAL);
    CHECK_ERRNO(splice(efd, NULL, p[1], NULL, 8, 0), EINVAL);
    CHECK_EQ(write(p[1], "12345678", 8), 8);
    CHECK_ERRNO(splice(p[0], NULL, efd, NULL, 8, 0), EINVAL);
    uint64_t count = 0;
    CHECK_EQ(read(efd, &count, sizeof count), 8);
    CHECK_EQ(count, 5);
    close(efd);
    close(p[0]);
    close(p[1]);
}

TEST(splice_file_to_pipe_and_pipe_to_file)
{
    int in = make_file("f", "spliced bytes");
    int out = make_file("g", NULL);
    CHECK(in >= 0 && out >= 0);
    int p[2];
    CHECK_OK(pipe(p));
    loff_t off = 8;
    CHECK_EQ(splice(in, &off, p[1], NULL, 100, 0), 5);
    CHECK_EQ(off, 13);
    CHECK_EQ(lseek(in, 0, SEEK_CUR), 13); /* the offset pointer left the file offset alone */
    CHECK_EQ(splice(p[0], NULL, out, NULL, 100, 0), 5);
    char buf[16] = {0};
    CHECK_EQ(pread(out, buf, sizeof buf, 0), 5);
    CHECK(strcmp(buf, "bytes") == 0);
    CHECK_EQ(lseek(out, 0, SEEK_CUR), 5);
    close(p[0]);
    close(p[1]);
    close(in);
    close(out);
}

TEST(splice_pipe_to_pipe_and_errors)
{
    int a[2], b[2];
    CHECK_OK(pipe(a));
    CHECK_OK(pipe(b));
    CHECK_EQ(write(a[1], "abc", 3), 3);
    CHECK_EQ(splice(a[0], NULL, b[1], NULL, 10, 0), 3);
    char buf[8] = {0};
    CHECK_EQ(read(b[0], buf, sizeof buf), 3);
    CHECK(strcmp(buf, "abc") == 0);
    loff_t off = 0;
    CHECK_ERRNO(splice(a[0], &off, b[1], NULL, 1, 0), ESPIPE);
    int f1 = make_file("h", "x"), f2 = make_file("i", NULL);
    CHECK_ERRNO(splice(f1, NULL, f2, NULL, 1, 0), EINVAL);
    CHECK_ERRNO(splice(a[0], NULL, b[1], NULL, 1, SPLICE_F_NONBLOCK), EAGAIN);
    close(f1);
    close(f2);
    close(a[0]);
    close(a[1]);
    close(b[0]);
    close(b[1]);
}

TEST(tee_copies_without_consuming)
{
    int a[2], b[2];
    CHECK_OK(pipe(a));
    CHECK_OK(pipe(b));
    CHECK_EQ(write(a[1], "teed", 4), 4);
    CHECK_EQ(tee(a[0], b[1], 100, 0), 4);
    char x[8] = {0}, y[8] = {0};
    CHECK_EQ(read(b[0], y, sizeof y), 4);
    CHECK_EQ(read(a[0], x, sizeof x), 4);
    CHECK(strcmp(x, "teed") == 0 && strcmp(y, "teed") == 0);
    CHECK_ERRNO(tee(a[0], a[1], 1, 0), EINVAL);
    int f = make_file("j", "x");
    CHECK_ERRNO(tee(f, b[1], 1, 0), EINVAL);
    CHECK_ERRNO(tee(a[0], b[1], 1, SPLICE_F_NONBLOCK), EAGAIN);
    close(f);
    close(a[0]);
    close(a[1]);
    close(b[0]);
    close(b[1]);
}

TEST(copy_file_range_between_files)
{
    int in = make_file("k", "range copy");
    int out = make_file("l", NULL);
    CHECK(in >= 0 && out >= 0);
    loff_t oi = 6, oo = 2;
    CHECK_EQ(syscall(SYS_copy_file_range, in, &oi, out, &oo, 100, 0), 4);
    CHECK_EQ(oi, 10);
    CHECK_EQ(oo, 6);
    char buf[16] = {0};
    CHECK_EQ(pread(out, buf, sizeof buf, 0), 6);
    CHECK(memcmp(buf, "\0\0copy", 6) == 0);
    CHECK_ERRNO(syscall(SYS_copy_file_range, in, &oi, out, &oo, 1, 1), EINVAL);
    close(in);
    close(out);
}

TEST(large_sendfile_through_a_pipe_to_a_reader)
{
    int fd = make_file("m", NULL);
    CHECK(fd >= 0);
    static char big[300000];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (char)(i * 7);
    CHECK_EQ(write(fd, big, sizeof big), (ssize_t)sizeof big);
    int p[2];
    CHECK_OK(pipe(p));
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        close(p[1]);
        static char got[300000];
        ssize_t n = read_all(p[0], got, sizeof got);
        _exit(n == (ssize_t)sizeof got && memcmp(got, big, sizeof got) == 0 ? 0 : 1);
    }
    close(p[0]);
    off_t off = 0;
    size_t total = 0;
    while (total < sizeof big) {
        ssize_t n = sendfile(p[1], fd, &off, sizeof big - total);
        if (n <= 0)
            break;
        total += (size_t)n;
    }
    close(p[1]);
    int st;
    CHECK_EQ(waitpid(pid, &st, 0), pid);
    CHECK_EQ(total, sizeof big);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    close(fd);
}

TEST(cleanup_scratch_dir)
{
    const char *names[] = {"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        char path[128];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        unlink(path);
    }
    CHECK_OK(rmdir(dir));
}
