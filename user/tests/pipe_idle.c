/* pipe_idle.c - an idle pipe holds no buffer pages: 10,000 pipes at once (20,000 descriptors,
 * RLIMIT_NOFILE raised to fit) can be created in the default 512 MiB guest, as on Linux, where
 * a pipe gets its pages as data arrives (with 16 pages each from the start, POSIX-X gave ENFILE
 * after 6,972). Then every one of them still carries data: a byte written into each, read back
 * from each. And a pipe that took pages keeps working after being emptied and refilled to its
 * full 64 KiB.
 * Syscalls: prlimit (setrlimit), pipe, write, read, close, fcntl (F_GETPIPE_SZ).
 */
#define _GNU_SOURCE
#define TEST_MAIN
#include "test.h"

#include <fcntl.h>
#include <sys/resource.h>

#define PIPES 10000

static int fds[PIPES][2];

TEST(ten_thousand_idle_pipes_fit_and_each_carries_data)
{
    struct rlimit r;
    CHECK_OK(getrlimit(RLIMIT_NOFILE, &r));
    int want = PIPES;
    if (r.rlim_cur < 2 * PIPES + 64) {
        struct rlimit more = {2 * PIPES + 64, r.rlim_max > 2 * PIPES + 64 ? r.rlim_max : 2 * PIPES + 64};
        if (setrlimit(RLIMIT_NOFILE, &more) < 0) {
            /* A host without CAP_SYS_RESOURCE: as many as its hard limit allows. */
            CHECK(!on_posix_x());
            more.rlim_cur = more.rlim_max = r.rlim_max;
            CHECK_OK(setrlimit(RLIMIT_NOFILE, &more));
            want = (int)((r.rlim_max - 64) / 2);
            printf("# RLIMIT_NOFILE stays at %ld: %d pipes\n", (long)r.rlim_max, want);
        }
    }
    int made = 0;
    for (; made < want; made++) {
        if (pipe(fds[made]) < 0)
            break;
    }
    int err = errno;
    for (int i = 0; i < made && !test_failed(); i++) {
        char c = (char)i, got = 0;
        CHECK_EQ(write(fds[i][1], &c, 1), 1);
        CHECK_EQ(read(fds[i][0], &got, 1), 1);
        CHECK_EQ(got, c);
    }
    for (int i = 0; i < made; i++) {
        close(fds[i][0]);
        close(fds[i][1]);
    }
    if (made < want)
        FAIL("pipe number %d: %s", made, strerror(err));
}

TEST(a_pipe_fills_to_its_capacity_after_being_emptied)
{
    int p[2];
    CHECK_OK(pipe(p));
    CHECK_OK(fcntl(p[1], F_SETFL, O_NONBLOCK));
    int cap = fcntl(p[1], F_GETPIPE_SZ);
    CHECK(cap >= 65536);
    static char buf[1 << 16];
    for (int round = 0; round < 3 && !test_failed(); round++) {
        long in = 0;
        ssize_t n;
        while ((n = write(p[1], buf, sizeof buf)) > 0)
            in += n;
        CHECK_ERRNO(write(p[1], buf, 1), EAGAIN);
        CHECK_EQ(in, cap);
        long out = 0;
        while (out < in && (n = read(p[0], buf, sizeof buf)) > 0)
            out += n;
        CHECK_EQ(out, in);
    }
    close(p[0]);
    close(p[1]);
}
