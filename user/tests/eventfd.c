/* eventfd.c - eventfd and eventfd2: the initial value (an unsigned int), a read returning the
 * counter and resetting it to 0, writes adding up, EFD_SEMAPHORE reads of 1 that decrement,
 * EAGAIN for a non-blocking read at 0, a blocking read woken by a child's write (also with
 * EFD_SEMAPHORE), EINTR for a blocked read interrupted by a handler without SA_RESTART and a
 * restart with it, buffers: a read needs at least 8 bytes and uses 8 of a larger buffer, a write
 * needs exactly 8 (Linux >= 6.5 rejects longer ones too), EINVAL for writing
 * 0xffffffffffffffff, the 0xfffffffffffffffe maximum (a write past it: EAGAIN with
 * EFD_NONBLOCK, blocking until a read otherwise; a write of 0 always succeeds), poll, select and
 * epoll readiness (POLLIN while the counter is > 0, POLLOUT while a write of 1 would not block),
 * an edge-triggered epoll re-armed by every write (even of 0) for EPOLLIN and by every read for
 * EPOLLOUT, a blocked poll woken by a write, EFD_CLOEXEC (FD_CLOEXEC), EFD_NONBLOCK (F_GETFL,
 * O_RDWR access), bad flags, the flag-less eventfd syscall, /proc/self/fdinfo ("flags:",
 * "eventfd-count:" in %16llx, "eventfd-semaphore:"), EFAULT (a read's counter is consumed
 * anyway, as on Linux, and a poll for POLLOUT woken; a write's counter is untouched), fstat
 * (mode 0600, no file type), readlink of /proc/self/fd/N "anon_inode:[eventfd]", lseek
 * answering 0, pread/pwrite ESPIPE, ioctl ENOTTY, and a counter shared across dup and fork.
 * Where a process must be blocked before its peer acts, the peer waits until
 * /proc/<pid>/stat shows it sleeping ('S'); nothing depends on timing.
 * Syscalls: eventfd, eventfd2, read, write, close, dup, fcntl (F_GETFD, F_GETFL), fstat,
 * readlink, openat, lseek, pread64, pwrite64, ioctl, poll, select, epoll_create1, epoll_ctl,
 * epoll_wait, pipe2, fork, wait4, kill, rt_sigaction.
 */
#define _GNU_SOURCE
#define TEST_MAIN
#include "test.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "children.h"

#define EFD_MAX 0xfffffffffffffffeULL

/* Reads the counter (8 bytes) into *v: 0, or -1 with errno set. */
static int get(int fd, uint64_t *v)
{
    ssize_t r = read(fd, v, sizeof *v);
    return r == 8 ? 0 : -1;
}

/* Adds v with one 8-byte write: 0, or -1 with errno set. */
static int put(int fd, uint64_t v)
{
    ssize_t r = write(fd, &v, sizeof v);
    return r == 8 ? 0 : -1;
}

static short revents(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN | POLLOUT};
    if (poll(&p, 1, 0) < 0)
        return -1;
    return p.revents;
}

TEST(initial_value_is_read_back)
{
    int fd = eventfd(5, 0);
    CHECK_OK(fd);
    uint64_t v = 0;
    CHECK_EQ(read(fd, &v, sizeof v), 8);
    CHECK_EQ(v, 5);
    close(fd);
}

TEST(initial_value_is_an_unsigned_int)
{
    int fd = eventfd(0xffffffffu, EFD_NONBLOCK);
    CHECK_OK(fd);
    uint64_t v = 0;
    CHECK_OK(get(fd, &v));
    CHECK_EQ(v, 0xffffffffULL);
    close(fd);
}

TEST(read_returns_counter_and_resets_it)
{
    int fd = eventfd(0, EFD_NONBLOCK);
    CHECK_OK(fd);
    CHECK_OK(put(fd, 2));
    CHECK_OK(put(fd, 3));
    CHECK_OK(put(fd, 0));
    uint64_t v = 0;
    CHECK_OK(get(fd, &v));
    CHECK_EQ(v, 5);
    CHECK_ERRNO(read(fd, &v, sizeof v), EAGAIN);
    CHECK_OK(put(fd, 1ULL << 40));
    CHECK_OK(get(fd, &v));
    CHECK_EQ(v, 1ULL << 40);
    close(fd);
}

TEST(nonblock_read_of_zero_is_eagain)
{
    int fd = eventfd(0, EFD_NONBLOCK);
    CHECK_OK(fd);
    uint64_t v = 77;
    CHECK_ERRNO(read(fd, &v, sizeof v), EAGAIN);
    CHECK_EQ(v, 77);
    close(fd);
}

TEST(semaphore_reads_one_and_decrements)
{
    int fd = eventfd(3, EFD_SEMAPHORE | EFD_NONBLOCK);
    CHECK_OK(fd);
    uint64_t v;
    for (int i = 0; i < 3; i++) {
        v = 0;
        CHECK_OK(get(fd, &v));
        CHECK_EQ(v, 1);
    }
    CHECK_ERRNO(read(fd, &v, sizeof v), EAGAIN);
    CHECK_OK(put(fd, 2));
    CHECK_OK(get(fd, &v));
    CHECK_EQ(v, 1);
    CHECK_OK(get(fd, &v));
    CHECK_EQ(v, 1);
    CHECK_ERRNO(read(fd, &v, sizeof v), EAGAIN);
    close(fd);
}

TEST(counter_shared_by_dup_and_fork)
{
    int fd = eventfd(0, EFD_NONBLOCK);
    CHECK_OK(fd);
    int d = dup(fd);
    CHECK_OK(d);
    CHECK_OK(put(d, 4));
    pid_t pid = fork();
    CHECK_OK(pid);
    if (pid == 0) {
        CCHECK(put(fd, 6) == 0);
        _exit(0);
    }
    CHECK_CHILD_OK(pid);
    uint64_t v = 0;
    CHECK_OK(get(fd, &v));
    CHECK_EQ(v, 10);
    CHECK_ERRNO(read(d, &v, sizeof v), EAGAIN);
    close(d);
    close(fd);
}

/* The parent blocks in read; the child writes once it sees the parent sleeping. */
static void blocking_read_woken(int flags, uint64_t wrote, uint64_t want, uint64_t left)
{
    int fd = eventfd(0, flags);
    CHECK_OK(fd);
    pid_t pid = fork();
    CHECK_OK(pid);
    if (pid == 0) {
        CCHECK(wait_sleeping(getppid()));
        CCHECK(put(fd, wrote) == 0);
        _exit(0);
    }
    uint64_t v = 0;
    ssize_t r;
    do
        r = read(fd, &v, sizeof v);
    while (r < 0 && errno == EINTR);
    int st = child_status(pid);
    CHECK_EQ(r, 8);
    CHECK_EQ(v, want);
    CHECK_EQ(st, 0);
    CHECK_OK(fcntl(fd, F_SETFL, O_NONBLOCK));
    if (left) {
        CHECK_OK(get(fd, &v));
        CHECK_EQ(v, left);
    } else {
        CHECK_ERRNO(read(fd, &v, sizeof v), EAGAIN);
    }
    close(fd);
}

TEST(blocking_read_woken_by_child_write)
{
    blocking_read_woken(0, 7, 7, 0);
}

TEST(blocking_semaphore_read_woken_by_child_write)
{
    blocking_read_woken(EFD_SEMAPHORE, 3, 1, 1);
}

static void on_usr1(int sig)
{
    (void)sig;
}

/* A child blocks in read with a SIGUSR1 handler (flags sa_flags); the parent signals it once it
 * sleeps. Without SA_RESTART the read fails with EINTR (nothing is written: a write racing with
 * the wake-up could be read first); with it the read restarts and gets the 9 written after the
 * signal. */
static void interrupted_read(int sa_flags)
{
    int fd = eventfd(0, 0);
    CHECK_OK(fd);
    pid_t pid = fork();
    CHECK_OK(pid);
    if (pid == 0) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_usr1;
        sa.sa_flags = sa_flags;
        sigemptyset(&sa.sa_mask);
        CCHECK(sigaction(SIGUSR1, &sa, NULL) == 0);
        uint64_t v = 0;
        if (sa_flags & SA_RESTART) {
            CCHECK(read(fd, &v, sizeof v) == 8);
            CCHECK(v == 9);
        } else {
            CERRNO(read(fd, &v, sizeof v), EINTR);
        }
        _exit(0);
    }
    /* The handler is installed before the child blocks, so it is in place once it sleeps. */
    int slept = wait_sleeping(pid);
    kill(pid, SIGUSR1);
    int w = sa_flags & SA_RESTART ? put(fd, 9) : 0;
    int st = child_status(pid);
    CHECK(slept);
    CHECK_OK(w);
    CHECK_EQ(st, 0);
    close(fd);
}

TEST(blocked_read_interrupted_by_handler_is_eintr)
{
    interrupted_read(0);
}

TEST(blocked_read_restarted_with_sa_restart)
{
    interrupted_read(SA_RESTART);
}

TEST(read_needs_eight_bytes)
{
    int fd = eventfd(3, EFD_NONBLOCK);
    CHECK_OK(fd);
    char b[8];
    CHECK_ERRNO(read(fd, b, 7), EINVAL);
    CHECK_ERRNO(read(fd, b, 1), EINVAL);
    CHECK_ERRNO(read(fd, b, 0), EINVAL);
    uint64_t v = 0;
    CHECK_OK(get(fd, &v));
    CHECK_EQ(v, 3);
    /* Also when the counter is 0: the size is checked first. */
    CHECK_ERRNO(read(fd, b, 4), EINVAL);
    close(fd);
}

TEST(read_uses_eight_bytes_of_a_larger_buffer)
{
    int fd = eventfd(3, EFD_NONBLOCK);
    CHECK_OK(fd);
    uint64_t b[2] = {0, 99};
    CHECK_EQ(read(fd, b, sizeof b), 8);
    CHECK_EQ(b[0], 3);
    CHECK_EQ(b[1], 99);
    close(fd);
}

TEST(write_needs_exactly_eight_bytes)
{
    int fd = eventfd(0, EFD_NONBLOCK);
    CHECK_OK(fd);
    uint64_t b[2] = {5, 7};
    CHECK_ERRNO(write(fd, b, 7), EINVAL);
    CHECK_ERRNO(write(fd, b, 0), EINVAL);
    CHECK_ERRNO(write(fd, b, 16), EINVAL);
    uint64_t v;
    CHECK_ERRNO(read(fd, &v, sizeof v), EAGAIN);
    close(fd);
}

TEST(write_of_all_ones_is_einval)
{
    int fd = eventfd(1, EFD_NONBLOCK);
    CHECK_OK(fd);
    uint64_t v = UINT64_MAX;
    CHECK_ERRNO(write(fd, &v, sizeof v), EINVAL);
    CHECK_OK(get(fd, &v));
    CHECK_EQ(v, 1);
    close(fd);
}

TEST(write_past_maximum_is_eagain_with_nonblock)
{
    int fd = eventfd(0, EFD_NONBLOCK);
    CHECK_OK(fd);
    CHECK_OK(put(fd, EFD_MAX - 1));
    CHECK_OK(put(fd, 1));
    uint64_t v = 1;
    CHECK_ERRNO(write(fd, &v, sizeof v), EAGAIN);
    v = EFD_MAX;
    CHECK_ERRNO(write(fd, &v, sizeof v), EAGAIN);
    CHECK_OK(put(fd, 0));
    CHECK_OK(get(fd, &v));
    CHECK_EQ(v, EFD_MAX);
    /* The whole maximum fits into an empty counter. */
    CHECK_OK(put(fd, EFD_MAX));
    CHECK_OK(get(fd, &v));
    CHECK_EQ(v, EFD_MAX);
    close(fd);
}

TEST(write_past_maximum_blocks_until_a_read)
{
    int fd = eventfd(0, 0);
    CHECK_OK(fd);
    CHECK_OK(put(fd, EFD_MAX - 1));
    pid_t pid = fork();
    CHECK_OK(pid);
    if (pid == 0) {
        CCHECK(wait_sleeping(getppid()));
        uint64_t v = 0;
        CCHECK(get(fd, &v) == 0);
        CCHECK(v == EFD_MAX - 1);
        _exit(0);
    }
    int w;
    do
        w = put(fd, 2);
    while (w < 0 && errno == EINTR);
    int st = child_status(pid);
    CHECK_OK(w);
    CHECK_EQ(st, 0);
    uint64_t v = 0;
    CHECK_OK(get(fd, &v));
    CHECK_EQ(v, 2);
    close(fd);
}

TEST(poll_readiness_follows_counter)
{
    int fd = eventfd(0, EFD_NONBLOCK);
    CHECK_OK(fd);
    CHECK_EQ(revents(fd), POLLOUT);
    CHECK_OK(put(fd, 1));
    CHECK_EQ(revents(fd), POLLIN | POLLOUT);
    CHECK_OK(put(fd, EFD_MAX - 3));
    CHECK_EQ(revents(fd), POLLIN | POLLOUT);
    CHECK_OK(put(fd, 2));
    /* At the maximum a write of 1 would block: no POLLOUT (and no POLLERR). */
    CHECK_EQ(revents(fd), POLLIN);
    uint64_t v;
    CHECK_OK(get(fd, &v));
    CHECK_EQ(revents(fd), POLLOUT);
    struct pollfd p = {.fd = fd, .events = POLLIN};
    CHECK_EQ(poll(&p, 1, 0), 0);
    CHECK_EQ(p.revents, 0);
    close(fd);
}

TEST(semaphore_poll_readiness)
{
    int fd = eventfd(1, EFD_SEMAPHORE | EFD_NONBLOCK);
    CHECK_OK(fd);
    CHECK_EQ(revents(fd), POLLIN | POLLOUT);
    uint64_t v;
    CHECK_OK(get(fd, &v));
    CHECK_EQ(revents(fd), POLLOUT);
    close(fd);
}

TEST(select_readiness_follows_counter)
{
    int fd = eventfd(0, EFD_NONBLOCK);
    CHECK_OK(fd);
    fd_set r, w;
    struct timeval tv = {0, 0};
    FD_ZERO(&r);
    FD_ZERO(&w);
    FD_SET(fd, &r);
    FD_SET(fd, &w);
    CHECK_EQ(select(fd + 1, &r, &w, NULL, &tv), 1);
    CHECK(!FD_ISSET(fd, &r));
    CHECK(FD_ISSET(fd, &w));
    CHECK_OK(put(fd, EFD_MAX));
    FD_ZERO(&r);
    FD_ZERO(&w);
    FD_SET(fd, &r);
    FD_SET(fd, &w);
    tv.tv_sec = 0;
    tv.tv_usec = 0;
    CHECK_EQ(select(fd + 1, &r, &w, NULL, &tv), 1);
    CHECK(FD_ISSET(fd, &r));
    CHECK(!FD_ISSET(fd, &w));
    close(fd);
}

TEST(epoll_level_triggered_readiness)
{
    int fd = eventfd(0, EFD_NONBLOCK);
    CHECK_OK(fd);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    CHECK_OK(ep);
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.u64 = 42};
    CHECK_OK(epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev));
    struct epoll_event out[2];
    CHECK_EQ(epoll_wait(ep, out, 2, 0), 1);
    CHECK_EQ(out[0].events, EPOLLOUT);
    CHECK_EQ(out[0].data.u64, 42);
    CHECK_OK(put(fd, EFD_MAX - 1));
    CHECK_EQ(epoll_wait(ep, out, 2, 0), 1);
    CHECK_EQ(out[0].events, EPOLLIN | EPOLLOUT);
    CHECK_OK(put(fd, 1));
    CHECK_EQ(epoll_wait(ep, out, 2, 0), 1);
    CHECK_EQ(out[0].events, EPOLLIN);
    CHECK_EQ(epoll_wait(ep, out, 2, 0), 1);
    uint64_t v;
    CHECK_OK(get(fd, &v));
    CHECK_EQ(epoll_wait(ep, out, 2, 0), 1);
    CHECK_EQ(out[0].events, EPOLLOUT);
    close(ep);
    close(fd);
}

TEST(epoll_edge_triggered_epollin_rearmed_by_every_write)
{
    int fd = eventfd(0, EFD_NONBLOCK);
    CHECK_OK(fd);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    CHECK_OK(ep);
    struct epoll_event ev = {.events = EPOLLIN | EPOLLET, .data.u64 = 1};
    CHECK_OK(epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev));
    struct epoll_event out;
    CHECK_EQ(epoll_wait(ep, &out, 1, 0), 0);
    CHECK_OK(put(fd, 1));
    CHECK_EQ(epoll_wait(ep, &out, 1, 0), 1);
    CHECK_EQ(out.events, EPOLLIN);
    CHECK_EQ(epoll_wait(ep, &out, 1, 0), 0);
    CHECK_OK(put(fd, 1));
    CHECK_EQ(epoll_wait(ep, &out, 1, 0), 1);
    CHECK_EQ(epoll_wait(ep, &out, 1, 0), 0);
    /* Linux signals EPOLLIN on every successful write, even one adding 0. */
    CHECK_OK(put(fd, 0));
    CHECK_EQ(epoll_wait(ep, &out, 1, 0), 1);
    CHECK_EQ(out.events, EPOLLIN);
    CHECK_EQ(epoll_wait(ep, &out, 1, 0), 0);
    close(ep);
    close(fd);
}

TEST(epoll_edge_triggered_epollout_rearmed_by_reads_only)
{
    int fd = eventfd(0, EFD_NONBLOCK);
    CHECK_OK(fd);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    CHECK_OK(ep);
    struct epoll_event ev = {.events = EPOLLOUT | EPOLLET, .data.u64 = 1};
    CHECK_OK(epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev));
    struct epoll_event out;
    CHECK_EQ(epoll_wait(ep, &out, 1, 0), 1);
    CHECK_EQ(out.events, EPOLLOUT);
    CHECK_EQ(epoll_wait(ep, &out, 1, 0), 0);
    CHECK_OK(put(fd, 3));
    CHECK_EQ(epoll_wait(ep, &out, 1, 0), 0);
    uint64_t v;
    CHECK_OK(get(fd, &v));
    CHECK_EQ(epoll_wait(ep, &out, 1, 0), 1);
    CHECK_EQ(out.events, EPOLLOUT);
    CHECK_EQ(epoll_wait(ep, &out, 1, 0), 0);
    close(ep);
    close(fd);
}

TEST(blocked_poll_woken_by_child_write)
{
    int fd = eventfd(0, EFD_NONBLOCK);
    CHECK_OK(fd);
    pid_t pid = fork();
    CHECK_OK(pid);
    if (pid == 0) {
        CCHECK(wait_sleeping(getppid()));
        CCHECK(put(fd, 5) == 0);
        _exit(0);
    }
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int n;
    do
        n = poll(&p, 1, 30000);
    while (n < 0 && errno == EINTR);
    int st = child_status(pid);
    CHECK_EQ(n, 1);
    CHECK_EQ(p.revents, POLLIN);
    CHECK_EQ(st, 0);
    uint64_t v = 0;
    CHECK_OK(get(fd, &v));
    CHECK_EQ(v, 5);
    close(fd);
}

TEST(blocked_epoll_wait_woken_by_child_write)
{
    int fd = eventfd(0, EFD_NONBLOCK);
    CHECK_OK(fd);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    CHECK_OK(ep);
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 3};
    CHECK_OK(epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev));
    pid_t pid = fork();
    CHECK_OK(pid);
    if (pid == 0) {
        CCHECK(wait_sleeping(getppid()));
        CCHECK(put(fd, 1) == 0);
        _exit(0);
    }
    struct epoll_event out;
    int n;
    do
        n = epoll_wait(ep, &out, 1, 30000);
    while (n < 0 && errno == EINTR);
    int st = child_status(pid);
    CHECK_EQ(n, 1);
    CHECK_EQ(out.events, EPOLLIN);
    CHECK_EQ(out.data.u64, 3);
    CHECK_EQ(st, 0);
    close(ep);
    close(fd);
}

TEST(efd_cloexec_sets_fd_cloexec)
{
    int a = eventfd(0, EFD_CLOEXEC);
    CHECK_OK(a);
    int b = eventfd(0, 0);
    CHECK_OK(b);
    CHECK_EQ(fcntl(a, F_GETFD), FD_CLOEXEC);
    CHECK_EQ(fcntl(b, F_GETFD), 0);
    close(a);
    close(b);
}

TEST(efd_nonblock_shows_in_getfl)
{
    int a = eventfd(0, EFD_NONBLOCK);
    CHECK_OK(a);
    int b = eventfd(0, EFD_SEMAPHORE | EFD_CLOEXEC);
    CHECK_OK(b);
    CHECK_EQ(fcntl(a, F_GETFL), O_RDWR | O_NONBLOCK);
    CHECK_EQ(fcntl(b, F_GETFL), O_RDWR);
    /* F_SETFL takes O_NONBLOCK away again. */
    CHECK_OK(fcntl(a, F_SETFL, 0));
    CHECK_EQ(fcntl(a, F_GETFL), O_RDWR);
    close(a);
    close(b);
}

TEST(bad_flags_are_einval)
{
    CHECK_ERRNO(syscall(SYS_eventfd2, 0, 0x10), EINVAL);
    CHECK_ERRNO(syscall(SYS_eventfd2, 0, O_RDWR), EINVAL);
    CHECK_ERRNO(syscall(SYS_eventfd2, 0, O_APPEND), EINVAL);
    CHECK_ERRNO(syscall(SYS_eventfd2, 0, EFD_NONBLOCK | 0x80000000u), EINVAL);
}

TEST(raw_eventfd_syscall_has_no_flags)
{
    /* The old syscall takes only the count; a second argument is ignored. */
    long fd = syscall(SYS_eventfd, 3, EFD_NONBLOCK | EFD_CLOEXEC | EFD_SEMAPHORE);
    CHECK_OK(fd);
    CHECK_EQ(fcntl((int)fd, F_GETFL), O_RDWR);
    CHECK_EQ(fcntl((int)fd, F_GETFD), 0);
    uint64_t v = 0;
    CHECK_OK(get((int)fd, &v));
    CHECK_EQ(v, 3);
    close((int)fd);
}

/* The line of /proc/self/fdinfo/<fd> starting with `key`, without its newline, into out. */
static int fdinfo_line(int fd, const char *key, char *out, size_t size)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/self/fdinfo/%d", fd);
    int f = open(path, O_RDONLY | O_CLOEXEC);
    if (f < 0)
        return -1;
    ssize_t n = read(f, buf, sizeof buf - 1);
    close(f);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    for (char *line = buf; *line;) {
        char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        if (strncmp(line, key, strlen(key)) == 0) {
            if (len >= size)
                return -1;
            memcpy(out, line, len);
            out[len] = '\0';
            return 0;
        }
        line += len + (nl ? 1 : 0);
    }
    return -1;
}

TEST(fdinfo_shows_count_in_hex)
{
    int fd = eventfd(0x2a, EFD_NONBLOCK);
    CHECK_OK(fd);
    char line[128];
    CHECK_OK(fdinfo_line(fd, "eventfd-count:", line, sizeof line));
    if (strcmp(line, "eventfd-count:               2a") != 0)
        FAIL("got \"%s\"", line);
    CHECK_OK(put(fd, EFD_MAX - 0x2a));
    CHECK_OK(fdinfo_line(fd, "eventfd-count:", line, sizeof line));
    if (strcmp(line, "eventfd-count: fffffffffffffffe") != 0)
        FAIL("got \"%s\"", line);
    uint64_t v;
    CHECK_OK(get(fd, &v));
    CHECK_OK(fdinfo_line(fd, "eventfd-count:", line, sizeof line));
    if (strcmp(line, "eventfd-count:                0") != 0)
        FAIL("got \"%s\"", line);
    close(fd);
}

TEST(fdinfo_shows_flags_and_semaphore_mode)
{
    int a = eventfd(0, EFD_SEMAPHORE | EFD_NONBLOCK | EFD_CLOEXEC);
    CHECK_OK(a);
    int b = eventfd(0, 0);
    CHECK_OK(b);
    char line[128];
    CHECK_OK(fdinfo_line(a, "eventfd-semaphore:", line, sizeof line));
    if (strcmp(line, "eventfd-semaphore: 1") != 0)
        FAIL("got \"%s\"", line);
    CHECK_OK(fdinfo_line(b, "eventfd-semaphore:", line, sizeof line));
    if (strcmp(line, "eventfd-semaphore: 0") != 0)
        FAIL("got \"%s\"", line);
    CHECK_OK(fdinfo_line(a, "flags:", line, sizeof line));
    if (strcmp(line, "flags:\t02004002") != 0)
        FAIL("got \"%s\"", line);
    CHECK_OK(fdinfo_line(b, "flags:", line, sizeof line));
    if (strcmp(line, "flags:\t02") != 0)
        FAIL("got \"%s\"", line);
    CHECK_OK(fdinfo_line(b, "pos:", line, sizeof line));
    if (strcmp(line, "pos:\t0") != 0)
        FAIL("got \"%s\"", line);
    close(a);
    close(b);
}

TEST(read_to_bad_pointer_is_efault_and_consumes)
{
    int fd = eventfd(4, EFD_NONBLOCK);
    CHECK_OK(fd);
    CHECK_ERRNO(read(fd, bad_ptr(8), 8), EFAULT);
    /* Linux takes the count before copying it out: it is gone. */
    uint64_t v;
    CHECK_ERRNO(read(fd, &v, sizeof v), EAGAIN);
    close(fd);
}

/* The child stays alive (blocked on a pipe) until the parent's poll has returned, so only the
 * faulting read can wake it. */
TEST(faulting_read_still_wakes_poll_for_pollout)
{
    int fd = eventfd(0, EFD_NONBLOCK);
    CHECK_OK(fd);
    CHECK_OK(put(fd, EFD_MAX));
    int release[2];
    CHECK_OK(pipe2(release, O_CLOEXEC));
    pid_t pid = fork();
    CHECK_OK(pid);
    if (pid == 0) {
        close(release[1]);
        CCHECK(wait_sleeping(getppid()));
        CERRNO(read(fd, bad_ptr(8), 8), EFAULT);
        CCHECK(read_byte(release[0]) == 'r');
        _exit(0);
    }
    close(release[0]);
    struct pollfd p = {.fd = fd, .events = POLLOUT};
    int n;
    do
        n = poll(&p, 1, 30000);
    while (n < 0 && errno == EINTR);
    write_byte(release[1], 'r');
    close(release[1]);
    int st = child_status(pid);
    CHECK_EQ(n, 1);
    CHECK_EQ(p.revents, POLLOUT);
    CHECK_EQ(st, 0);
    uint64_t v = 0;
    CHECK_ERRNO(read(fd, &v, sizeof v), EAGAIN);
    close(fd);
}

TEST(write_from_bad_pointer_is_efault)
{
    int fd = eventfd(4, EFD_NONBLOCK);
    CHECK_OK(fd);
    CHECK_ERRNO(write(fd, bad_ptr(8), 8), EFAULT);
    uint64_t v = 0;
    CHECK_OK(get(fd, &v));
    CHECK_EQ(v, 4);
    close(fd);
}

TEST(fstat_and_proc_link_show_anon_inode)
{
    int fd = eventfd(0, 0);
    CHECK_OK(fd);
    struct stat st;
    CHECK_OK(fstat(fd, &st));
    CHECK_EQ(st.st_mode, 0600);
    CHECK_EQ(st.st_size, 0);
    CHECK_EQ(st.st_nlink, 1);
    char path[64], buf[128];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(path, buf, sizeof buf);
    CHECK_OK(n);
    buf[n < (ssize_t)sizeof buf ? n : (ssize_t)sizeof buf - 1] = '\0';
    if (strcmp(buf, "anon_inode:[eventfd]") != 0)
        FAIL("readlink gave \"%s\"", buf);
    close(fd);
}

TEST(lseek_answers_zero_and_pread_is_espipe)
{
    int fd = eventfd(6, EFD_NONBLOCK);
    CHECK_OK(fd);
    CHECK_EQ(lseek(fd, 5, SEEK_SET), 0);
    CHECK_EQ(lseek(fd, 0, SEEK_CUR), 0);
    uint64_t v = 1;
    CHECK_ERRNO(pread(fd, &v, sizeof v, 0), ESPIPE);
    CHECK_ERRNO(pwrite(fd, &v, sizeof v, 0), ESPIPE);
    CHECK_OK(get(fd, &v));
    CHECK_EQ(v, 6);
    close(fd);
}

TEST(fionread_is_enotty)
{
    int fd = eventfd(6, EFD_NONBLOCK);
    CHECK_OK(fd);
    int n = 0;
    CHECK_ERRNO(ioctl(fd, FIONREAD, &n), ENOTTY);
    close(fd);
}
