/* inotify.c - inotify_init1 (IN_NONBLOCK, IN_CLOEXEC, EINVAL), inotify_add_watch/rm_watch and
 * the events of a watched directory and file: IN_CREATE (with IN_ISDIR), IN_DELETE,
 * IN_MODIFY, IN_ATTRIB, IN_OPEN, IN_CLOSE_WRITE/NOWRITE, IN_MOVED_FROM/TO with one cookie,
 * IN_MOVE_SELF, IN_DELETE_SELF then IN_IGNORED, IN_ONESHOT, IN_MASK_ADD, IN_MASK_CREATE,
 * IN_ONLYDIR, identical consecutive events coalesced, IN_Q_OVERFLOW at max_queued_events, a
 * read buffer too small (EINVAL), FIONREAD, poll and epoll readiness, the limits in
 * /proc/sys/fs/inotify (EMFILE past max_user_instances, as nobody).
 * Syscalls: inotify_init1, inotify_add_watch, inotify_rm_watch, read, ioctl, poll, epoll_*.
 */
#define _GNU_SOURCE
#define TEST_MAIN
#include "test.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define SCRATCH_ALL_USERS
#include "scratch.h"

struct ev {
    int wd;
    uint32_t mask, cookie;
    char name[64];
};

/* Reads the queued events (nonblocking) into `out`; returns how many. */
static int events(int fd, struct ev *out, int max)
{
    char buf[8192] __attribute__((aligned(8)));
    int n = 0;
    for (;;) {
        ssize_t len = read(fd, buf, sizeof buf);
        if (len <= 0)
            return n;
        for (ssize_t off = 0; off < len;) {
            struct inotify_event *e = (struct inotify_event *)(buf + off);
            if (n < max) {
                out[n].wd = e->wd;
                out[n].mask = e->mask;
                out[n].cookie = e->cookie;
                snprintf(out[n].name, sizeof out[n].name, "%s", e->len ? e->name : "");
                n++;
            }
            off += sizeof *e + e->len;
        }
    }
}

static void touch(const char *path)
{
    int fd = open(path, O_CREAT | O_WRONLY, 0644);
    if (fd >= 0)
        close(fd);
}

TEST(init1_flags)
{
    int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    CHECK_OK(fd);
    CHECK(fcntl(fd, F_GETFL) & O_NONBLOCK);
    CHECK(fcntl(fd, F_GETFD) & FD_CLOEXEC);
    char buf[256];
    CHECK_ERRNO(read(fd, buf, sizeof buf), EAGAIN);
    close(fd);
    CHECK_ERRNO(inotify_init1(0x10), EINVAL);
    fd = inotify_init();
    CHECK_OK(fd);
    CHECK(!(fcntl(fd, F_GETFL) & O_NONBLOCK));
    close(fd);
}

TEST(add_watch_errors)
{
    const char *d = newdir();
    CHECK(d != NULL);
    touch(P(d, "f"));
    int fd = inotify_init1(IN_NONBLOCK);
    CHECK_OK(fd);
    CHECK_ERRNO(inotify_add_watch(fd, P(d, "missing"), IN_CREATE), ENOENT);
    CHECK_ERRNO(inotify_add_watch(fd, P(d, "f"), IN_CREATE | IN_ONLYDIR), ENOTDIR);
    CHECK_ERRNO(inotify_add_watch(fd, d, 0), EINVAL);
    CHECK_ERRNO(inotify_add_watch(fd, d, IN_CREATE | IN_MASK_ADD | IN_MASK_CREATE), EINVAL);
    int wd = inotify_add_watch(fd, d, IN_CREATE);
    CHECK_OK(wd);
    CHECK_ERRNO(inotify_add_watch(fd, d, IN_DELETE | IN_MASK_CREATE), EEXIST);
    CHECK_EQ(inotify_add_watch(fd, d, IN_DELETE), wd);
    CHECK_ERRNO(inotify_rm_watch(fd, wd + 100), EINVAL);
    int p[2];
    CHECK_OK(pipe(p));
    CHECK_ERRNO(inotify_add_watch(p[0], d, IN_CREATE), EINVAL);
    CHECK_ERRNO(inotify_rm_watch(p[0], 1), EINVAL);
    CHECK_ERRNO(inotify_add_watch(-1, d, IN_CREATE), EBADF);
    close(p[0]);
    close(p[1]);
    close(fd);
}

TEST(directory_events)
{
    const char *d = newdir();
    CHECK(d != NULL);
    int fd = inotify_init1(IN_NONBLOCK);
    CHECK_OK(fd);
    int wd = inotify_add_watch(fd, d, IN_ALL_EVENTS);
    CHECK_OK(wd);
    int f = open(P(d, "a"), O_CREAT | O_WRONLY, 0644);
    CHECK_OK(f);
    CHECK_EQ(write(f, "x", 1), 1);
    close(f);
    CHECK_OK(mkdir(P(d, "sub"), 0755));
    CHECK_OK(rename(P(d, "a"), P(d, "b")));
    CHECK_OK(unlink(P(d, "b")));
    CHECK_OK(rmdir(P(d, "sub")));
    struct ev e[32];
    int n = events(fd, e, 32);
    static const struct {
        uint32_t mask;
        const char *name;
    } want[] = {
        {IN_CREATE, "a"},
        {IN_OPEN, "a"},
        {IN_MODIFY, "a"},
        {IN_CLOSE_WRITE, "a"},
        {IN_CREATE | IN_ISDIR, "sub"},
        {IN_MOVED_FROM, "a"},
        {IN_MOVED_TO, "b"},
        {IN_DELETE, "b"},
        {IN_DELETE | IN_ISDIR, "sub"},
    };
    int nwant = sizeof want / sizeof want[0];
    CHECK_EQ(n, nwant);
    for (int i = 0; i < nwant; i++) {
        if (e[i].wd != wd || e[i].mask != want[i].mask || strcmp(e[i].name, want[i].name))
            FAIL("event %d: wd %d mask %#x name \"%s\", wanted mask %#x name \"%s\"", i, e[i].wd,
                 e[i].mask, e[i].name, want[i].mask, want[i].name);
    }
    CHECK(e[5].cookie != 0);
    CHECK_EQ(e[5].cookie, e[6].cookie);
    close(fd);
}

TEST(file_events_and_delete_self)
{
    const char *d = newdir();
    CHECK(d != NULL);
    touch(P(d, "f"));
    int fd = inotify_init1(IN_NONBLOCK);
    CHECK_OK(fd);
    int wd = inotify_add_watch(fd, P(d, "f"), IN_ALL_EVENTS);
    CHECK_OK(wd);
    int f = open(P(d, "f"), O_RDONLY);
    CHECK_OK(f);
    close(f);
    CHECK_OK(chmod(P(d, "f"), 0600));
    CHECK_OK(rename(P(d, "f"), P(d, "g")));
    CHECK_OK(unlink(P(d, "g")));
    struct ev e[16];
    int n = events(fd, e, 16);
    /* Linux also reports the link count's change at unlink as IN_ATTRIB: the IN_ATTRIB events
     * are counted apart (chmod makes at least one), the others come in this order. */
    static const uint32_t want[] = {IN_OPEN, IN_CLOSE_NOWRITE, IN_MOVE_SELF, IN_DELETE_SELF,
        IN_IGNORED};
    int nwant = sizeof want / sizeof want[0], j = 0, attribs = 0;
    for (int i = 0; i < n; i++) {
        CHECK_EQ(e[i].wd, wd);
        CHECK_EQ(e[i].name[0], '\0');
        if (e[i].mask == IN_ATTRIB) {
            attribs++;
            continue;
        }
        if (j >= nwant || e[i].mask != want[j])
            FAIL("event %d: mask %#x, wanted %#x", i, e[i].mask, j < nwant ? want[j] : 0);
        j++;
    }
    CHECK_EQ(j, nwant);
    CHECK(attribs >= 1);
    CHECK_ERRNO(inotify_rm_watch(fd, wd), EINVAL);
    close(fd);
}

TEST(oneshot_mask_add_rm_watch)
{
    const char *d = newdir();
    CHECK(d != NULL);
    int fd = inotify_init1(IN_NONBLOCK);
    CHECK_OK(fd);
    int wd = inotify_add_watch(fd, d, IN_CREATE | IN_ONESHOT);
    CHECK_OK(wd);
    touch(P(d, "a"));
    touch(P(d, "b"));
    struct ev e[8];
    int n = events(fd, e, 8);
    CHECK_EQ(n, 2);
    CHECK_EQ(e[0].mask, IN_CREATE);
    CHECK(!strcmp(e[0].name, "a"));
    CHECK_EQ(e[1].mask, IN_IGNORED);
    CHECK_EQ(e[1].wd, wd);
    CHECK_ERRNO(inotify_rm_watch(fd, wd), EINVAL);

    int wd2 = inotify_add_watch(fd, d, IN_CREATE);
    CHECK_OK(wd2);
    CHECK(wd2 != wd);
    CHECK_EQ(inotify_add_watch(fd, d, IN_DELETE | IN_MASK_ADD), wd2);
    touch(P(d, "c"));
    CHECK_OK(unlink(P(d, "c")));
    n = events(fd, e, 8);
    CHECK_EQ(n, 2);
    CHECK_EQ(e[0].mask, IN_CREATE);
    CHECK_EQ(e[1].mask, IN_DELETE);
    /* Without IN_MASK_ADD the mask is replaced. */
    CHECK_EQ(inotify_add_watch(fd, d, IN_DELETE), wd2);
    touch(P(d, "e"));
    CHECK_EQ(events(fd, e, 8), 0);
    CHECK_OK(inotify_rm_watch(fd, wd2));
    n = events(fd, e, 8);
    CHECK_EQ(n, 1);
    CHECK_EQ(e[0].mask, IN_IGNORED);
    CHECK_EQ(e[0].wd, wd2);
    close(fd);
}

TEST(coalescing_fionread_small_buffer)
{
    const char *d = newdir();
    CHECK(d != NULL);
    touch(P(d, "f"));
    int fd = inotify_init1(IN_NONBLOCK);
    CHECK_OK(fd);
    CHECK_OK(inotify_add_watch(fd, d, IN_MODIFY));
    int f = open(P(d, "f"), O_WRONLY);
    CHECK_OK(f);
    for (int i = 0; i < 5; i++)
        CHECK_EQ(write(f, "x", 1), 1);
    close(f);
    int avail = -1;
    CHECK_OK(ioctl(fd, FIONREAD, &avail));
    /* One event: header plus "f" padded to 16 bytes. */
    CHECK_EQ(avail, (int)sizeof(struct inotify_event) + 16);
    char small[sizeof(struct inotify_event) + 4];
    CHECK_ERRNO(read(fd, small, sizeof small), EINVAL);
    struct ev e[8];
    CHECK_EQ(events(fd, e, 8), 1);
    CHECK_EQ(e[0].mask, IN_MODIFY);
    CHECK_OK(ioctl(fd, FIONREAD, &avail));
    CHECK_EQ(avail, 0);
    close(fd);
}

TEST(poll_and_epoll)
{
    const char *d = newdir();
    CHECK(d != NULL);
    int fd = inotify_init1(IN_NONBLOCK);
    CHECK_OK(fd);
    CHECK_OK(inotify_add_watch(fd, d, IN_CREATE));
    struct pollfd p = {.fd = fd, .events = POLLIN};
    CHECK_EQ(poll(&p, 1, 0), 0);
    int ep = epoll_create1(0);
    CHECK_OK(ep);
    struct epoll_event ee = {.events = EPOLLIN, .data.fd = fd};
    CHECK_OK(epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ee));
    CHECK_EQ(epoll_wait(ep, &ee, 1, 0), 0);
    /* A child makes the file; the parent's blocking poll and epoll see it. */
    pid_t c = fork();
    CHECK_OK(c);
    if (c == 0) {
        touch(P(d, "x"));
        _exit(0);
    }
    CHECK_EQ(poll(&p, 1, 10000), 1);
    CHECK(p.revents & POLLIN);
    CHECK_EQ(epoll_wait(ep, &ee, 1, 10000), 1);
    CHECK_EQ(ee.data.fd, fd);
    int st;
    CHECK_EQ(waitpid(c, &st, 0), c);
    close(ep);
    close(fd);
}

static long read_long(const char *path)
{
    char buf[64] = {0};
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    return n > 0 ? atol(buf) : -1;
}

/* Events past max_queued_events end in one IN_Q_OVERFLOW (wd -1). */
TEST(queue_overflow)
{
    long max = read_long("/proc/sys/fs/inotify/max_queued_events");
    CHECK(max > 0);
    if (max > 20000)
        SKIP("max_queued_events is %ld", max);
    const char *d = newdir();
    CHECK(d != NULL);
    int fd = inotify_init1(IN_NONBLOCK);
    CHECK_OK(fd);
    CHECK_OK(inotify_add_watch(fd, d, IN_CREATE | IN_DELETE));
    touch(P(d, "f"));
    /* Alternate create and delete: no two consecutive events are identical. */
    for (long i = 0; i < max; i++) {
        CHECK_OK(unlink(P(d, "f")));
        touch(P(d, "f"));
    }
    char buf[65536] __attribute__((aligned(8)));
    long total = 0, overflows = 0;
    int last_mask = 0, last_wd = 0;
    for (;;) {
        ssize_t len = read(fd, buf, sizeof buf);
        if (len <= 0)
            break;
        for (ssize_t off = 0; off < len;) {
            struct inotify_event *e = (struct inotify_event *)(buf + off);
            total++;
            overflows += (e->mask & IN_Q_OVERFLOW) != 0;
            last_mask = e->mask;
            last_wd = e->wd;
            off += sizeof *e + e->len;
        }
    }
    CHECK_EQ(overflows, 1);
    CHECK_EQ(last_mask, IN_Q_OVERFLOW);
    CHECK_EQ(last_wd, -1);
    CHECK_EQ(total, max + 1);
    close(fd);
}

TEST(limits_in_proc_sys)
{
    CHECK(read_long("/proc/sys/fs/inotify/max_queued_events") > 0);
    long instances = read_long("/proc/sys/fs/inotify/max_user_instances");
    CHECK(instances > 0);
    CHECK(read_long("/proc/sys/fs/inotify/max_user_watches") > 0);
    if (getuid() != 0)
        SKIP("needs root to become nobody");
    if (instances > 1000)
        SKIP("max_user_instances is %ld", instances);
    /* As nobody (who has no instances anywhere): EMFILE after max_user_instances. */
    pid_t c = fork();
    CHECK_OK(c);
    if (c == 0) {
        if (setgid(65534) || setuid(65534))
            _exit(100);
        long made = 0;
        while (inotify_init1(0) >= 0)
            made++;
        _exit(errno == EMFILE && made <= instances && made > 0 ? 0 : 1);
    }
    int st;
    CHECK_EQ(waitpid(c, &st, 0), c);
    CHECK(WIFEXITED(st));
    CHECK_EQ(WEXITSTATUS(st), 0);
    /* Nobody may not change them. */
    c = fork();
    CHECK_OK(c);
    if (c == 0) {
        if (setgid(65534) || setuid(65534))
            _exit(100);
        _exit(open("/proc/sys/fs/inotify/max_user_watches", O_WRONLY) < 0 && errno == EACCES
                  ? 0 : 1);
    }
    CHECK_EQ(waitpid(c, &st, 0), c);
    CHECK_EQ(WEXITSTATUS(st), 0);
}

/* Root lowers max_user_watches and add_watch obeys (ENOSPC); only in the guest: on Linux the
 * setting is the host's own. */
TEST(max_user_watches_obeyed)
{
    if (!on_posix_x())
        SKIP("changes the host's sysctl");
    long old = read_long("/proc/sys/fs/inotify/max_user_watches");
    CHECK(old > 0);
    int s = open("/proc/sys/fs/inotify/max_user_watches", O_WRONLY);
    CHECK_OK(s);
    CHECK_EQ(write(s, "2\n", 2), 2);
    close(s);
    const char *d = newdir();
    CHECK(d != NULL);
    touch(P(d, "a"));
    touch(P(d, "b"));
    touch(P(d, "c"));
    int fd = inotify_init1(0);
    CHECK_OK(fd);
    CHECK_OK(inotify_add_watch(fd, P(d, "a"), IN_MODIFY));
    CHECK_OK(inotify_add_watch(fd, P(d, "b"), IN_MODIFY));
    errno = 0;
    int r = inotify_add_watch(fd, P(d, "c"), IN_MODIFY);
    int err = errno;
    close(fd);
    char buf[32];
    s = open("/proc/sys/fs/inotify/max_user_watches", O_WRONLY);
    CHECK_OK(s);
    int len = snprintf(buf, sizeof buf, "%ld\n", old);
    CHECK_EQ(write(s, buf, len), len);
    close(s);
    CHECK_EQ(r, -1);
    CHECK_EQ(err, ENOSPC);
}
