/* big_io.c - huge lengths on sockets: what a program gets when it asks for far more than is
 * there, or sends more than the kernel would want to hold at once. A receive with a 2 GiB
 * length returns what is queued; a 96 MiB write to a stream socket (more than POSIX-X's
 * kernel heap) goes through whole, in order, as the reader drains it; an over-size datagram is
 * EMSGSIZE before its bytes are looked at; a huge write from a bad pointer is EFAULT.
 * Syscalls: socketpair, socket, bind, listen, accept, connect, getsockname, sendto, recvfrom,
 * read, write, writev, mmap, munmap, fork, wait4.
 */
#define _GNU_SOURCE
#define TEST_MAIN
#include "test.h"

#include <netinet/in.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "children.h"

#define BIG (96UL << 20)

/* 2 GiB, laundered through a volatile: the compiler must not see the deliberate overrun. */
static size_t huge(void)
{
    volatile size_t n = 1UL << 31;
    return n;
}

/* The byte at position i of the big stream. */
static unsigned char pattern(size_t i) { return (unsigned char)(i * 7 + (i >> 13)); }

/* A connected TCP pair on the loopback: *a is the client end, *b the accepted one. */
static int tcp_pair(int *a, int *b)
{
    int l = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t n = sizeof sin;
    if (l < 0 || bind(l, (struct sockaddr *)&sin, sizeof sin) || listen(l, 1) ||
        getsockname(l, (struct sockaddr *)&sin, &n))
        return -1;
    *a = socket(AF_INET, SOCK_STREAM, 0);
    if (*a < 0 || connect(*a, (struct sockaddr *)&sin, sizeof sin))
        return -1;
    *b = accept(l, NULL, NULL);
    close(l);
    return *b < 0 ? -1 : 0;
}

/* Writes BIG bytes of the pattern into fd in one write(2) from a child; the parent reads them
 * back in 64 KiB pieces and checks every byte. */
static void big_stream_write(int wr, int rd)
{
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        close(rd);
        unsigned char *buf = mmap(NULL, BIG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        CCHECK(buf != MAP_FAILED);
        for (size_t i = 0; i < BIG; i++)
            buf[i] = pattern(i);
        CCHECK(write(wr, buf, BIG) == (ssize_t)BIG);
        _exit(0);
    }
    close(wr);
    static unsigned char piece[65536];
    size_t got = 0;
    int bad = 0;
    for (;;) {
        ssize_t n = read(rd, piece, sizeof piece);
        if (n <= 0)
            break;
        for (ssize_t i = 0; i < n; i++)
            bad |= piece[i] != pattern(got + i);
        got += n;
    }
    close(rd);
    CHECK_EQ(got, BIG);
    CHECK(!bad);
    CHECK_CHILD_OK(pid);
}

TEST(unix_stream_recv_with_a_2_gib_length_returns_what_is_there)
{
    int sv[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    CHECK_EQ(write(sv[0], "hello", 5), 5);
    static char buf[4096];
    CHECK_EQ(recv(sv[1], buf, huge(), MSG_DONTWAIT), 5);
    CHECK(memcmp(buf, "hello", 5) == 0);
    close(sv[0]);
    close(sv[1]);
}

TEST(tcp_recv_with_a_2_gib_length_returns_what_is_there)
{
    int a, b;
    CHECK_OK(tcp_pair(&a, &b));
    CHECK_EQ(write(a, "hello", 5), 5);
    static char buf[4096];
    CHECK_EQ(recv(b, buf, huge(), 0), 5); /* blocks until the bytes are there */
    CHECK(memcmp(buf, "hello", 5) == 0);
    CHECK_ERRNO(recv(b, buf, huge(), MSG_DONTWAIT), EAGAIN);
    close(a);
    CHECK_EQ(read(b, buf, huge()), 0);
    close(b);
}

TEST(unix_stream_write_of_96_mib_goes_through_whole)
{
    int sv[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    big_stream_write(sv[0], sv[1]);
}

TEST(tcp_write_of_96_mib_goes_through_whole)
{
    int a, b;
    CHECK_OK(tcp_pair(&a, &b));
    big_stream_write(a, b);
}

TEST(writev_to_a_stream_socket_across_iovecs_keeps_order)
{
    int sv[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    static char x[100000], y[3], z[70000];
    memset(x, 'x', sizeof x);
    memcpy(y, "yyy", 3);
    memset(z, 'z', sizeof z);
    struct iovec iov[3] = {{x, sizeof x}, {y, sizeof y}, {z, sizeof z}};
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        close(sv[1]);
        CCHECK(writev(sv[0], iov, 3) == (ssize_t)(sizeof x + sizeof y + sizeof z));
        _exit(0);
    }
    close(sv[0]);
    static char all[sizeof x + sizeof y + sizeof z + 1];
    size_t got = 0;
    ssize_t n;
    while ((n = read(sv[1], all + got, sizeof all - got)) > 0)
        got += n;
    CHECK_EQ(got, sizeof x + sizeof y + sizeof z);
    CHECK(all[0] == 'x' && all[sizeof x - 1] == 'x');
    CHECK(memcmp(all + sizeof x, "yyy", 3) == 0);
    CHECK(all[sizeof x + 3] == 'z' && all[got - 1] == 'z');
    CHECK_CHILD_OK(pid);
    close(sv[1]);
}

TEST(over_size_datagrams_are_emsgsize_before_their_bytes_are_read)
{
    static char small[16];
    int sv[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv));
    CHECK_ERRNO(send(sv[0], small, huge(), 0), EMSGSIZE);
    CHECK_ERRNO(write(sv[0], small, huge()), EMSGSIZE);
    close(sv[0]);
    close(sv[1]);
    int u = socket(AF_INET, SOCK_DGRAM, 0);
    CHECK(u >= 0);
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(9), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    CHECK_ERRNO(sendto(u, small, huge(), 0, (struct sockaddr *)&to, sizeof to), EMSGSIZE);
    CHECK_OK(connect(u, (struct sockaddr *)&to, sizeof to));
    CHECK_ERRNO(write(u, small, huge()), EMSGSIZE);
    close(u);
}

TEST(huge_stream_write_from_a_bad_pointer_is_efault)
{
    int sv[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    CHECK_ERRNO(write(sv[0], bad_ptr(1), huge()), EFAULT);
    CHECK_ERRNO(send(sv[0], bad_ptr(1), huge(), 0), EFAULT);
    CHECK_ERRNO(recv(sv[1], bad_ptr(1), huge(), MSG_DONTWAIT), EAGAIN); /* nothing to copy */
    close(sv[0]);
    close(sv[1]);
}
