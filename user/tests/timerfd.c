/* timerfd.c - timerfd_create/settime/gettime: a read blocks until an expiration and returns
 * the count (several for a periodic timer read late), EAGAIN when non-blocking, EINVAL for a
 * short buffer; readable in poll, select and epoll exactly while expirations are pending;
 * TFD_TIMER_ABSTIME on CLOCK_MONOTONIC and CLOCK_REALTIME (in the past: at once); the old value
 * from settime, gettime counting down, disarming; TFD_TIMER_CANCEL_ON_SET (ECANCELED once the
 * wall clock is set, as root); shared across fork; fdinfo; the errors.
 * Waits are bounded (poll timeouts of 10 s); durations are lower bounds only.
 * Syscalls: timerfd_create, timerfd_settime, timerfd_gettime, read, write, poll, select,
 * epoll_create1, epoll_ctl, epoll_wait, clock_settime, fork.
 */
#define _GNU_SOURCE
#define TEST_MAIN
#include "test.h"

#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>

#include "children.h"

#define MS 1000000LL

static long long ts_ns(struct timespec t) { return (long long)t.tv_sec * 1000000000LL + t.tv_nsec; }

static struct timespec ns_ts(long long ns)
{
    struct timespec t = {ns / 1000000000LL, ns % 1000000000LL};
    return t;
}

static int arm(int fd, int flags, long long value, long long interval, struct itimerspec *old)
{
    struct itimerspec s = {ns_ts(interval), ns_ts(value)};
    return timerfd_settime(fd, flags, &s, old);
}

static int readable(int fd, int timeout_ms)
{
    struct pollfd p = {fd, POLLIN, 0};
    int r = poll(&p, 1, timeout_ms);
    return r == 1 && (p.revents & POLLIN);
}

TEST(a_one_shot_timer_reads_one_expiration)
{
    int fd = timerfd_create(CLOCK_MONOTONIC, 0);
    CHECK_OK(fd);
    long long t0 = now_ns();
    CHECK_EQ(arm(fd, 0, 20 * MS, 0, NULL), 0);
    uint64_t n = 0;
    CHECK_EQ(read(fd, &n, sizeof n), 8);
    CHECK_EQ(n, 1);
    CHECK(now_ns() - t0 >= 20 * MS);
    struct itimerspec cur;
    CHECK_EQ(timerfd_gettime(fd, &cur), 0);
    CHECK_EQ(ts_ns(cur.it_value), 0);
    CHECK(!readable(fd, 0));
    close(fd);
}

TEST(nonblocking_and_short_reads)
{
    int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    CHECK_OK(fd);
    CHECK(fcntl(fd, F_GETFD) & FD_CLOEXEC);
    uint64_t n;
    CHECK_ERRNO(read(fd, &n, sizeof n), EAGAIN);
    CHECK_EQ(arm(fd, 0, 10 * MS, 0, NULL), 0);
    CHECK(readable(fd, 10000));
    char small[4];
    CHECK_ERRNO(read(fd, small, sizeof small), EINVAL);
    /* Reading more than 8 bytes is fine: 8 are returned. */
    uint64_t big[2] = {0, 0};
    CHECK_EQ(read(fd, big, sizeof big), 8);
    CHECK_EQ(big[0], 1);
    CHECK_ERRNO(read(fd, &n, sizeof n), EAGAIN);
    CHECK_ERRNO(write(fd, &n, sizeof n), EINVAL);
    close(fd);
}

TEST(a_periodic_timer_read_late_counts_every_expiration)
{
    int fd = timerfd_create(CLOCK_MONOTONIC, 0);
    CHECK_OK(fd);
    CHECK_EQ(arm(fd, 0, 10 * MS, 10 * MS, NULL), 0);
    long long t0 = now_ns();
    struct timespec t = {0, 100 * MS};
    nanosleep(&t, NULL);
    uint64_t n = 0;
    CHECK_EQ(read(fd, &n, sizeof n), 8);
    long long elapsed = now_ns() - t0;
    CHECK(n >= 2);
    CHECK((long long)n <= elapsed / (10 * MS) + 1);
    /* Still armed, at most one interval away. */
    struct itimerspec cur;
    CHECK_EQ(timerfd_gettime(fd, &cur), 0);
    CHECK(ts_ns(cur.it_value) > 0 && ts_ns(cur.it_value) <= 10 * MS);
    CHECK_EQ(ts_ns(cur.it_interval), 10 * MS);
    CHECK_EQ(read(fd, &n, sizeof n), 8);
    CHECK(n >= 1);
    close(fd);
}

TEST(poll_select_and_epoll_see_expirations)
{
    int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
    CHECK_OK(fd);
    CHECK(!readable(fd, 0));
    CHECK_EQ(arm(fd, 0, 20 * MS, 0, NULL), 0);
    CHECK(readable(fd, 10000));

    fd_set r;
    FD_ZERO(&r);
    FD_SET(fd, &r);
    struct timeval zero = {0, 0};
    CHECK_EQ(select(fd + 1, &r, NULL, NULL, &zero), 1);

    int ep = epoll_create1(0);
    CHECK_OK(ep);
    struct epoll_event ev = {.events = EPOLLIN | EPOLLET, .data.u32 = 77};
    CHECK_OK(epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev));
    struct epoll_event out;
    CHECK_EQ(epoll_wait(ep, &out, 1, 0), 1);
    CHECK_EQ(out.data.u32, 77);
    uint64_t n;
    CHECK_EQ(read(fd, &n, sizeof n), 8);
    CHECK(!readable(fd, 0));
    FD_ZERO(&r);
    FD_SET(fd, &r);
    CHECK_EQ(select(fd + 1, &r, NULL, NULL, &zero), 0);
    /* An epoll_wait that blocks is woken by the next expiration. */
    CHECK_EQ(arm(fd, 0, 30 * MS, 0, NULL), 0);
    CHECK_EQ(epoll_wait(ep, &out, 1, 10000), 1);
    CHECK(out.events & EPOLLIN);
    CHECK_EQ(read(fd, &n, sizeof n), 8);
    CHECK_EQ(n, 1);
    close(ep);
    close(fd);
}

TEST(absolute_times)
{
    int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
    CHECK_OK(fd);
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    CHECK_EQ(arm(fd, TFD_TIMER_ABSTIME, ts_ns(now) + 20 * MS, 0, NULL), 0);
    CHECK(readable(fd, 10000));
    CHECK(now_ns() >= ts_ns(now) + 20 * MS);
    uint64_t n;
    CHECK_EQ(read(fd, &n, sizeof n), 8);
    /* A time already past expires at once. */
    CHECK_EQ(arm(fd, TFD_TIMER_ABSTIME, 1, 0, NULL), 0);
    CHECK(readable(fd, 10000));
    CHECK_EQ(read(fd, &n, sizeof n), 8);
    CHECK_EQ(n, 1);
    close(fd);

    fd = timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK);
    CHECK_OK(fd);
    clock_gettime(CLOCK_REALTIME, &now);
    CHECK_EQ(arm(fd, TFD_TIMER_ABSTIME, ts_ns(now) + 20 * MS, 0, NULL), 0);
    CHECK(readable(fd, 10000));
    close(fd);
}

TEST(settime_returns_the_old_value_and_zero_disarms)
{
    int fd = timerfd_create(CLOCK_BOOTTIME, TFD_NONBLOCK);
    CHECK_OK(fd);
    struct itimerspec old, cur;
    CHECK_EQ(arm(fd, 0, 5000 * MS, 300 * MS, &old), 0);
    CHECK_EQ(ts_ns(old.it_value), 0);
    CHECK_EQ(timerfd_gettime(fd, &cur), 0);
    CHECK(ts_ns(cur.it_value) > 0 && ts_ns(cur.it_value) <= 5000 * MS);
    CHECK_EQ(ts_ns(cur.it_interval), 300 * MS);
    CHECK_EQ(arm(fd, 0, 0, 0, &old), 0);
    CHECK(ts_ns(old.it_value) > 0 && ts_ns(old.it_value) <= 5000 * MS);
    CHECK_EQ(ts_ns(old.it_interval), 300 * MS);
    CHECK_EQ(timerfd_gettime(fd, &cur), 0);
    CHECK_EQ(ts_ns(cur.it_value), 0);
    CHECK_EQ(ts_ns(cur.it_interval), 0);
    /* Re-arming discards expirations not yet read. */
    CHECK_EQ(arm(fd, 0, 1 * MS, 0, NULL), 0);
    CHECK(readable(fd, 10000));
    CHECK_EQ(arm(fd, 0, 5000 * MS, 0, NULL), 0);
    CHECK(!readable(fd, 0));
    close(fd);
}

TEST(cancel_on_set_reports_a_wall_clock_change)
{
    if (geteuid() != 0)
        SKIP("needs root to set the clock");
    int fd = timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK);
    CHECK_OK(fd);
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    CHECK_EQ(arm(fd, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, ts_ns(now) + 3600000 * MS, 0,
                 NULL),
             0);
    CHECK(!readable(fd, 0));
    /* Set the clock to what it reads (a jump of microseconds). */
    clock_gettime(CLOCK_REALTIME, &now);
    CHECK_EQ(syscall(SYS_clock_settime, CLOCK_REALTIME, &now), 0);
    CHECK(readable(fd, 10000));
    uint64_t n;
    CHECK_ERRNO(read(fd, &n, sizeof n), ECANCELED);
    CHECK_ERRNO(read(fd, &n, sizeof n), EAGAIN);
    close(fd);
}

TEST(clock_settime_rules)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    CHECK_ERRNO(syscall(SYS_clock_settime, CLOCK_MONOTONIC, &now), EINVAL);
    CHECK_ERRNO(syscall(SYS_clock_settime, CLOCK_REALTIME, bad_ptr(0x10)), EFAULT);
    struct timespec bad = {now.tv_sec, 1000000000L};
    CHECK_ERRNO(syscall(SYS_clock_settime, CLOCK_REALTIME, &bad), EINVAL);
    bad.tv_nsec = -1;
    CHECK_ERRNO(syscall(SYS_clock_settime, CLOCK_REALTIME, &bad), EINVAL);
    /* Beyond what the clock can hold for 30 years of uptime (Linux's settod limit). */
    struct timespec far = {INT64_MAX / 1000000000 - 30LL * 365 * 86400, 0};
    CHECK_ERRNO(syscall(SYS_clock_settime, CLOCK_REALTIME, &far), EINVAL);
    pid_t pid = fork();
    if (pid == 0) {
        CCHECK(setgid(65534) == 0 && setuid(65534) == 0);
        struct timespec t;
        clock_gettime(CLOCK_REALTIME, &t);
        CERRNO(syscall(SYS_clock_settime, CLOCK_REALTIME, &t), EPERM);
        struct timeval tv = {t.tv_sec, 0};
        CERRNO(syscall(SYS_settimeofday, &tv, NULL), EPERM);
        _exit(0);
    }
    CHECK_CHILD_OK(pid);
}

TEST(a_forked_child_reads_the_shared_timer)
{
    int fd = timerfd_create(CLOCK_MONOTONIC, 0);
    CHECK_OK(fd);
    CHECK_EQ(arm(fd, 0, 20 * MS, 0, NULL), 0);
    pid_t pid = fork();
    if (pid == 0) {
        uint64_t n = 0;
        CCHECK(read(fd, &n, sizeof n) == 8 && n == 1);
        _exit(0);
    }
    CHECK_CHILD_OK(pid);
    CHECK(!readable(fd, 0));
    close(fd);
}

TEST(fdinfo_and_link)
{
    int fd = timerfd_create(CLOCK_MONOTONIC, 0);
    CHECK_OK(fd);
    CHECK_EQ(arm(fd, 0, 5000 * MS, 0, NULL), 0);
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/self/fdinfo/%d", fd);
    int f = open(path, O_RDONLY);
    CHECK_OK(f);
    ssize_t n = read(f, buf, sizeof buf - 1);
    close(f);
    CHECK(n > 0);
    buf[n] = 0;
    CHECK(strstr(buf, "clockid: 1\n") != NULL);
    CHECK(strstr(buf, "ticks: 0\n") != NULL);
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    n = readlink(path, buf, sizeof buf - 1);
    CHECK(n > 0);
    buf[n] = 0;
    CHECK(strcmp(buf, "anon_inode:[timerfd]") == 0);
    close(fd);
}

TEST(timerfd_errors)
{
    CHECK_ERRNO(timerfd_create(CLOCK_PROCESS_CPUTIME_ID, 0), EINVAL);
    CHECK_ERRNO(timerfd_create(CLOCK_MONOTONIC_RAW, 0), EINVAL);
    CHECK_ERRNO(timerfd_create(99, 0), EINVAL);
    CHECK_ERRNO(timerfd_create(CLOCK_MONOTONIC, 1), EINVAL);
    int fd = timerfd_create(CLOCK_MONOTONIC, 0);
    CHECK_OK(fd);
    struct itimerspec s = {{0, 0}, {0, 1000000000L}}, cur;
    CHECK_ERRNO(timerfd_settime(fd, 0, &s, NULL), EINVAL);
    s.it_value.tv_nsec = 1;
    CHECK_ERRNO(timerfd_settime(fd, 4, &s, NULL), EINVAL);
    CHECK_ERRNO(timerfd_settime(fd, 0, bad_ptr(0x10), NULL), EFAULT);
    CHECK_ERRNO(timerfd_settime(-1, 0, &s, NULL), EBADF);
    int p[2];
    CHECK_OK(pipe(p));
    CHECK_ERRNO(timerfd_settime(p[0], 0, &s, NULL), EINVAL);
    CHECK_ERRNO(timerfd_gettime(-1, &cur), EBADF);
    CHECK_ERRNO(timerfd_gettime(p[0], &cur), EINVAL);
    close(p[0]);
    close(p[1]);
    CHECK_ERRNO(timerfd_gettime(fd, bad_ptr(0x10)), EFAULT);
    close(fd);
}
