/* pipe_leak.c - no page frames leak through pipes: MemFree from /proc/meminfo before and after
 * 10,000 pipe create/fill/close cycles (4 KiB per cycle, a full 64 KiB in 500 of them), and
 * after cycles of pipes resized with F_SETPIPE_SZ and filled, rings that wrapped around
 * (partly read, then written again), O_DIRECT packet pipes, and a FIFO opened, filled and
 * closed with its data unread. MemFree may drop by at most 4 MiB (it may rise: on the host
 * other activity moves it both ways). Each case runs a warm-up round first, so lazily grown
 * kernel caches are not counted, and a measured round is retried up to 10 times before a drop
 * counts as a leak: Linux's MemFree moves by megabytes on its own (per-CPU page lists, other
 * processes), while a real leak (10,000 cycles x at least one page = 40 MiB) fails every
 * trial. On a kernel whose MemFree is exact the first trial passes.
 * Each case prints "# MemFree ... delta" as a TAP comment.
 * Files live in a mkdtemp("/tmp/ptest.XXXXXX") directory removed at exit.
 * Syscalls: pipe2, write, read, close, fcntl (F_SETPIPE_SZ, F_SETFL), mknodat, openat,
 * unlink, rmdir.
 */
#define _GNU_SOURCE
#define TEST_MAIN
#include "test.h"

#include <fcntl.h>
#include <sys/stat.h>

#define PAGE 4096
#define SLACK_KB (4 * 1024L)
#include "leakcheck.h"

static char page_buf[PAGE];

/* Writes `bytes` in page-sized pieces; 0 or -1. */
static int put(int fd, long bytes)
{
    while (bytes > 0) {
        size_t n = bytes < PAGE ? (size_t)bytes : PAGE;
        if (write(fd, page_buf, n) != (ssize_t)n)
            return -1;
        bytes -= (long)n;
    }
    return 0;
}

/* Cycle i: a pipe, 4 KiB written (64 KiB, a full pipe, every 20th cycle), both ends closed
 * with the data unread. */
static int fill_round(int n)
{
    for (int i = 0; i < n; i++) {
        int p[2];
        if (pipe2(p, 0) != 0)
            return -1;
        int r = put(p[1], i % 20 == 0 ? 65536 : PAGE);
        close(p[0]);
        close(p[1]);
        if (r != 0)
            return -1;
    }
    return 0;
}

/* A pipe grown to 256 KiB and filled. */
static int resized_round(int n)
{
    for (int i = 0; i < n; i++) {
        int p[2];
        if (pipe2(p, 0) != 0)
            return -1;
        int r = fcntl(p[1], F_SETPIPE_SZ, 256 * 1024) == 256 * 1024 ? put(p[1], 256 * 1024) : -1;
        close(p[0]);
        close(p[1]);
        if (r != 0)
            return -1;
    }
    return 0;
}

/* 60000 bytes in, 10000 out, 10000 in again (the ring wraps), then closed. */
static int wrap_round(int n)
{
    static char sink[10000];
    for (int i = 0; i < n; i++) {
        int p[2];
        if (pipe2(p, 0) != 0)
            return -1;
        int r = put(p[1], 60000);
        if (r == 0 && read(p[0], sink, sizeof sink) != (ssize_t)sizeof sink)
            r = -1;
        if (r == 0)
            r = put(p[1], 10000);
        close(p[0]);
        close(p[1]);
        if (r != 0)
            return -1;
    }
    return 0;
}

/* 16 one-byte packets (one page each), half of them read. */
static int packet_round(int n)
{
    for (int i = 0; i < n; i++) {
        int p[2];
        if (pipe2(p, O_DIRECT) != 0)
            return -1;
        int r = 0;
        for (int k = 0; k < 16 && r == 0; k++)
            if (write(p[1], "x", 1) != 1)
                r = -1;
        char c[8];
        for (int k = 0; k < 8 && r == 0; k++)
            if (read(p[0], c, sizeof c) != 1)
                r = -1;
        close(p[0]);
        close(p[1]);
        if (r != 0)
            return -1;
    }
    return 0;
}

static char fifo_path[128];

/* The FIFO opened read-write, 32 KiB written, closed unread. */
static int fifo_round(int n)
{
    for (int i = 0; i < n; i++) {
        int fd = open(fifo_path, O_RDWR);
        if (fd < 0)
            return -1;
        int r = put(fd, 32768);
        close(fd);
        if (r != 0)
            return -1;
    }
    return 0;
}

static void measure_fifo(void) { CHECK_NO_LEAK(fifo_round, 1000); }

TEST(pipe_create_fill_close_10000_cycles_no_leak)
{
    memset(page_buf, 'p', sizeof page_buf);
    CHECK_NO_LEAK(fill_round, 10000);
}

TEST(resized_and_filled_pipes_no_leak)
{
    memset(page_buf, 'r', sizeof page_buf);
    CHECK_NO_LEAK(resized_round, 100);
}

TEST(wrapped_ring_pipes_no_leak)
{
    CHECK_NO_LEAK(wrap_round, 1000);
}

TEST(o_direct_packet_pipes_no_leak)
{
    CHECK_NO_LEAK(packet_round, 1000);
}

TEST(fifo_open_fill_close_no_leak)
{
    char dir[] = "/tmp/ptest.XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    snprintf(fifo_path, sizeof fifo_path, "%s/fifo", dir);
    if (mkfifo(fifo_path, 0600) != 0) {
        int e = errno;
        rmdir(dir);
        FAIL("mkfifo: %s", strerror(e));
    }
    measure_fifo(); /* a helper: its checks return to here, so the directory goes away */
    unlink(fifo_path);
    rmdir(dir);
}
