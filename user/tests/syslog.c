/* syslog.c - syslog(2)/klogctl: the kernel log's size, READ_ALL in Linux's "<level>[time] text"
 * lines, the EINVAL cases, EPERM without CAP_SYSLOG (kernel.dmesg_restrict = 1, Debian's
 * default) and, in the guest only (on the host they would consume or wipe the real log),
 * READ, CLEAR and READ_CLEAR.
 */
#define TEST_MAIN
#include "test.h"
#include "children.h"

#include <sys/klog.h>

#define NOBODY 65534

TEST(size_and_read_all)
{
    if (getuid() != 0)
        SKIP("needs root");
    int size = klogctl(10, NULL, 0);
    CHECK(size >= 4096);
    char *buf = malloc(size);
    int n = klogctl(3, buf, size);
    CHECK(n >= 0 && n <= size);
    if (n > 0) {
        CHECK_EQ(buf[0], '<');
        CHECK_EQ(buf[n - 1], '\n');
        CHECK(memchr(buf, '[', n) != NULL);
    }
    /* A short buffer gets the newest whole lines that fit. */
    char small[64];
    int m = klogctl(3, small, sizeof small);
    CHECK(m >= 0 && m <= (int)sizeof small);
    if (m > 0)
        CHECK_EQ(small[m - 1], '\n');
    CHECK_EQ(klogctl(3, buf, 0), 0);
    free(buf);
}

TEST(invalid_requests)
{
    if (getuid() != 0)
        SKIP("needs root");
    char buf[16];
    CHECK_ERRNO(klogctl(11, buf, sizeof buf), EINVAL);
    CHECK_ERRNO(klogctl(-1, buf, sizeof buf), EINVAL);
    CHECK_ERRNO(klogctl(3, NULL, 16), EINVAL);
    CHECK_ERRNO(klogctl(3, buf, -1), EINVAL);
    CHECK_ERRNO(klogctl(8, NULL, 0), EINVAL);
    CHECK_ERRNO(klogctl(8, NULL, 9), EINVAL);
}

TEST(nobody_is_refused)
{
    if (getuid() != 0)
        SKIP("needs root");
    pid_t pid = fork();
    if (pid == 0) {
        char buf[64];
        /* kernel.dmesg_restrict: 1 refuses even READ_ALL and SIZE_BUFFER. */
        int restrict_ = -1;
        FILE *f = fopen("/proc/sys/kernel/dmesg_restrict", "r");
        CCHECK(f != NULL && fscanf(f, "%d", &restrict_) == 1);
        fclose(f);
        CCHECK(setgid(NOBODY) == 0 && setuid(NOBODY) == 0);
        if (restrict_ == 1) {
            CERRNO(klogctl(3, buf, sizeof buf), EPERM);
            CERRNO(klogctl(10, NULL, 0), EPERM);
        } else {
            CCHECK(klogctl(10, NULL, 0) > 0);
        }
        CERRNO(klogctl(5, NULL, 0), EPERM);
        _exit(0);
    }
    CHECK_CHILD_OK(pid);
}

TEST(read_and_clear_in_the_guest)
{
    if (!on_posix_x())
        SKIP("would consume or clear the host's kernel log");
    char buf[4096];
    /* READ consumes: what it returned is not unread any more. */
    while (klogctl(2, buf, sizeof buf) > 0)
        ;
    CHECK_EQ(klogctl(9, NULL, 0), 0);
    CHECK_EQ(klogctl(5, NULL, 0), 0);
    CHECK_EQ(klogctl(3, buf, sizeof buf), 0);
    CHECK_EQ(klogctl(4, buf, sizeof buf), 0);
}
