/* leakcheck.h - the MemFree leak check of the *_leak tests (include after test.h; define
 * SLACK_KB, the drop in kB a case may show, before including):
 *     memfree_kb()                 MemFree from /proc/meminfo in kB, or -1
 *     count_fds()                  the number of open fds below 1024
 *     CHECK_NO_LEAK(round, n)      runs round(n / 10 + 1) once as warm-up (kernel caches that
 *                                  grow lazily are not counted), then measures MemFree around
 *                                  round(n), up to TRIALS times, until one trial drops by at
 *                                  most SLACK_KB; every round must return 0. Linux's MemFree
 *                                  moves by megabytes on its own (per-CPU page lists, other
 *                                  processes), so one good trial passes, while a real leak
 *                                  fails every trial; on a quiet kernel the first one passes.
 *                                  Each trial prints "# MemFree ... delta" as a TAP comment.
 *     CHECK_NO_LEAK_FDS(round, n)  the same, and the warm-up and every trial must also leave
 *                                  as many open fds as there were before.
 */
#ifndef POSIX_X_LEAKCHECK_H
#define POSIX_X_LEAKCHECK_H

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef SLACK_KB
#error "define SLACK_KB (the MemFree drop a case may show, in kB) before including leakcheck.h"
#endif

#define TRIALS 10

__attribute__((unused)) static long memfree_kb(void)
{
    char buf[4096];
    int fd = open("/proc/meminfo", O_RDONLY);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    char *p = strncmp(buf, "MemFree:", 8) == 0 ? buf : strstr(buf, "\nMemFree:");
    if (!p)
        return -1;
    if (*p == '\n')
        p++;
    return strtol(p + 8, NULL, 10);
}

/* Number of open fds below 1024. */
__attribute__((unused)) static int count_fds(void)
{
    int n = 0;
    for (int fd = 0; fd < 1024; fd++)
        if (fcntl(fd, F_GETFD) >= 0)
            n++;
    return n;
}

#define CHECK_NO_LEAK(round, n) CHECK_NO_LEAK_(round, n, 0)
#define CHECK_NO_LEAK_FDS(round, n) CHECK_NO_LEAK_(round, n, 1)

#define CHECK_NO_LEAK_(round, n, fds)                                                 \
    do {                                                                              \
        int fds_ = (fds) ? count_fds() : 0;                                           \
        CHECK_EQ(round((n) / 10 + 1), 0);                                             \
        if (fds)                                                                      \
            CHECK_EQ(count_fds(), fds_);                                              \
        long worst_ = 0;                                                              \
        int ok_ = 0;                                                                  \
        for (int t_ = 0; t_ < TRIALS && !ok_; t_++) {                                 \
            long before_ = memfree_kb();                                              \
            CHECK(before_ > 0);                                                       \
            CHECK_EQ(round(n), 0);                                                    \
            long after_ = memfree_kb();                                               \
            CHECK(after_ > 0);                                                        \
            if (fds)                                                                  \
                CHECK_EQ(count_fds(), fds_);                                          \
            printf("# MemFree %ld kB -> %ld kB (delta %+ld kB)\n", before_, after_,   \
                   after_ - before_);                                                 \
            if (before_ - after_ <= SLACK_KB)                                         \
                ok_ = 1;                                                              \
            else if (before_ - after_ > worst_)                                       \
                worst_ = before_ - after_;                                            \
        }                                                                             \
        if (!ok_)                                                                     \
            FAIL("MemFree dropped by more than %ld kB in all %d trials (worst %ld kB)",  \
                 SLACK_KB, TRIALS, worst_);                                           \
    } while (0)

#endif /* POSIX_X_LEAKCHECK_H */
