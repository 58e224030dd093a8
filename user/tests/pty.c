/* pty.c - pseudo-terminals (Unix 98): posix_openpt/grantpt/unlockpt/ptsname, new pairs locked
 * (slave open EIO, TIOCGPTLCK), /dev/pts/N and /dev/pts/ptmx, devpts in /proc/mounts; fstat
 * (master 5:2, slave 136:N, S_IFCHR), isatty and ttyname; data through the slave's line
 * discipline: canonical lines, ^D end of file, raw mode, echo (with ONLCR) seen on the master,
 * ^C echoed as "^C", output processing of slave writes; termios through the master; ^C from the
 * master kills the slave's foreground group with SIGINT; a session leader opening the slave
 * acquires it as controlling terminal (not with O_NOCTTY) and /proc/self/stat shows its tty_nr;
 * TIOCSWINSZ from the master sends SIGWINCH to the foreground group; FIONREAD on both sides;
 * hangup: master closed fails a blocked slave read with EIO, then gives EOF, EIO on write, POLLHUP, SIGHUP to the session
 * leader, loss of /dev/tty and of /dev/pts/N; the session leader exiting sends SIGHUP to the
 * foreground group, and so does its TIOCNOTTY (with SIGCONT); every slave closed gives the master its data,
 * then EIO and POLLHUP; a master without a slave yet just has nothing to read (EAGAIN);
 * poll and epoll readiness on both sides; bounded buffers both ways (O_NONBLOCK EAGAIN, room
 * again once the other side reads; a blocking writer waits for the reader, nothing lost);
 * packet mode (TIOCPKT/TIOCGPKT: TIOCPKT_DATA framing, flush and flow-control events first, with
 * POLLPRI; a master's TCFLSH drops the slave output it has not read); flow control: ^S/^Q under
 * IXON stop and start the slave's output (writers wait, EAGAIN, no POLLOUT; the characters are
 * not input), TCOOFF/TCOON/TCIOFF, IXON turned off restarts, IXANY; TIOCSIG from the master.
 * Nothing depends on timing: children hand over through pipes, and waits for data are polls
 * with a 10 s bound (Linux moves pty data through a work queue, so it may arrive a little later).
 * Syscalls: openat, ioctl (TIOCGPTN, TIOCSPTLCK, TIOCGPTLCK, TCGETS, TCSETS, TIOCGWINSZ,
 * TIOCSWINSZ, FIONREAD, TIOCGPGRP), read, write, close, poll, epoll_create1, epoll_ctl,
 * epoll_wait, fstat, stat, readlink, getdents64, fork, setsid, wait4, pipe2, rt_sigaction,
 * rt_sigprocmask, rt_sigtimedwait.
 */
#define _GNU_SOURCE
#define TEST_MAIN
#include "test.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <termios.h>

#include "children.h"
#include "sigs.h"

#define WAIT_MS 10000

struct pty {
    int m, s, n;
    char name[64];
};

/* A new unlocked pair, both ends O_NOCTTY (the test process never acquires it). 0 or -1. */
static int pty_open(struct pty *p, int master_flags)
{
    p->m = posix_openpt(O_RDWR | O_NOCTTY | master_flags);
    if (p->m < 0)
        return -1;
    if (grantpt(p->m) != 0 || unlockpt(p->m) != 0 || ioctl(p->m, TIOCGPTN, &p->n) != 0) {
        close(p->m);
        return -1;
    }
    snprintf(p->name, sizeof p->name, "/dev/pts/%d", p->n);
    p->s = open(p->name, O_RDWR | O_NOCTTY);
    if (p->s < 0) {
        close(p->m);
        return -1;
    }
    return 0;
}

static void pty_close(struct pty *p)
{
    if (p->s >= 0)
        close(p->s);
    if (p->m >= 0)
        close(p->m);
}

/* poll one fd: its revents within ms, 0 on timeout, -1 on error. */
static int events_within(int fd, short events, int ms)
{
    struct pollfd pf = {.fd = fd, .events = events};
    int r;
    do
        r = poll(&pf, 1, ms);
    while (r < 0 && errno == EINTR);
    return r < 0 ? -1 : r == 0 ? 0 : pf.revents;
}

/* Reads exactly n bytes (waiting up to 10 s for each piece); the count read. */
static size_t read_n(int fd, char *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        if (!(events_within(fd, POLLIN, WAIT_MS) & POLLIN))
            break;
        ssize_t r = read(fd, buf + got, n - got);
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    return got;
}

static int set_raw(int fd)
{
    struct termios t;
    if (tcgetattr(fd, &t) != 0)
        return -1;
    cfmakeraw(&t);
    return tcsetattr(fd, TCSANOW, &t);
}

static int clear_lflag(int fd, tcflag_t bits)
{
    struct termios t;
    if (tcgetattr(fd, &t) != 0)
        return -1;
    t.c_lflag &= ~bits;
    return tcsetattr(fd, TCSANOW, &t);
}

/* ================= opening and names ================= */

TEST(posix_openpt_starts_locked_and_unlockpt_opens_the_slave)
{
    int m = posix_openpt(O_RDWR | O_NOCTTY);
    CHECK(m >= 0);
    int n = -1, lck = -1;
    CHECK_OK(ioctl(m, TIOCGPTN, &n));
    CHECK(n >= 0);
    CHECK_OK(ioctl(m, TIOCGPTLCK, &lck));
    CHECK_EQ(lck, 1);
    char name[64];
    snprintf(name, sizeof name, "/dev/pts/%d", n);
    CHECK(ptsname(m) != NULL);
    CHECK(strcmp(ptsname(m), name) == 0);
    CHECK_ERRNO(open(name, O_RDWR | O_NOCTTY), EIO);
    CHECK_OK(grantpt(m));
    CHECK_OK(unlockpt(m));
    CHECK_OK(ioctl(m, TIOCGPTLCK, &lck));
    CHECK_EQ(lck, 0);
    int s = open(name, O_RDWR | O_NOCTTY);
    CHECK(s >= 0);
    int one = 1;
    CHECK_OK(ioctl(m, TIOCSPTLCK, &one)); /* locked again: open files still work, */
    CHECK_EQ(write(s, "k", 1), 1);
    CHECK_ERRNO(open(name, O_RDWR | O_NOCTTY), EIO); /* new opens fail */
    close(s);
    close(m);
}

TEST(each_open_of_ptmx_makes_a_new_pair)
{
    struct pty a, b;
    CHECK_OK(pty_open(&a, 0));
    if (pty_open(&b, 0) != 0) {
        pty_close(&a);
        FAIL("second pair: %s", strerror(errno));
    }
    int an = a.n, bn = b.n;
    pty_close(&a);
    pty_close(&b);
    CHECK_NE(an, bn);
}

TEST(fstat_master_is_5_2_and_slave_is_136_n)
{
    struct pty p;
    CHECK_OK(pty_open(&p, 0));
    struct stat ms, ss, ps;
    int r1 = fstat(p.m, &ms), r2 = fstat(p.s, &ss), r3 = stat(p.name, &ps);
    pty_close(&p);
    CHECK_EQ(r1, 0);
    CHECK_EQ(r2, 0);
    CHECK_EQ(r3, 0);
    CHECK(S_ISCHR(ms.st_mode));
    CHECK_EQ(major(ms.st_rdev), 5);
    CHECK_EQ(minor(ms.st_rdev), 2);
    CHECK(S_ISCHR(ss.st_mode));
    CHECK_EQ(major(ss.st_rdev), 136);
    CHECK_EQ(minor(ss.st_rdev), p.n);
    /* the open slave is the node /dev/pts/N */
    CHECK_EQ(ss.st_dev, ps.st_dev);
    CHECK_EQ(ss.st_ino, ps.st_ino);
    CHECK_EQ(ps.st_rdev, ss.st_rdev);
}

TEST(isatty_and_ttyname)
{
    struct pty p;
    CHECK_OK(pty_open(&p, 0));
    int tm = isatty(p.m), ts = isatty(p.s);
    char buf[64] = "";
    int r = ttyname_r(p.s, buf, sizeof buf);
    char link[64] = "";
    char proc[64];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", p.s);
    ssize_t l = readlink(proc, link, sizeof link - 1);
    pty_close(&p);
    CHECK_EQ(tm, 1);
    CHECK_EQ(ts, 1);
    CHECK_EQ(r, 0);
    CHECK(strcmp(buf, p.name) == 0);
    CHECK(l > 0);
    CHECK(strcmp(link, p.name) == 0);
}

TEST(dev_pts_lists_the_slave_and_ptmx_and_proc_mounts_shows_devpts)
{
    struct pty p;
    CHECK_OK(pty_open(&p, 0));
    DIR *d = opendir("/dev/pts");
    int found_n = 0, found_ptmx = 0;
    char want[16];
    snprintf(want, sizeof want, "%d", p.n);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, want) == 0)
            found_n = 1;
        if (strcmp(e->d_name, "ptmx") == 0)
            found_ptmx = 1;
    }
    if (d)
        closedir(d);
    struct stat st;
    int r = stat("/dev/pts/ptmx", &st);
    pty_close(&p);
    CHECK(d != NULL);
    CHECK(found_n);
    CHECK(found_ptmx);
    CHECK_EQ(r, 0);
    CHECK(S_ISCHR(st.st_mode));
    CHECK_EQ(st.st_rdev, makedev(5, 2));

    static char buf[64 * 1024];
    int fd = open("/proc/mounts", O_RDONLY);
    CHECK(fd >= 0);
    ssize_t n = 0, k;
    while ((k = read(fd, buf + n, sizeof buf - 1 - (size_t)n)) > 0)
        n += k;
    close(fd);
    buf[n] = '\0';
    int devpts = 0;
    for (char *l = strtok(buf, "\n"); l; l = strtok(NULL, "\n")) {
        char dev[256], dir[256], type[64];
        if (sscanf(l, "%255s %255s %63s", dev, dir, type) == 3 && strcmp(dir, "/dev/pts") == 0 &&
            strcmp(type, "devpts") == 0)
            devpts = 1;
    }
    CHECK(devpts);
}

/* ================= data through the line discipline ================= */

TEST(canonical_mode_delivers_whole_lines_and_ctrl_d_is_end_of_file)
{
    struct pty p;
    CHECK_OK(pty_open(&p, 0));
    CHECK_OK(clear_lflag(p.s, ECHO));
    char buf[64];
    CHECK_EQ(write(p.m, "ab", 2), 2);
    int early = events_within(p.s, POLLIN, 0); /* no complete line: nothing to read */
    CHECK_EQ(write(p.m, "c\nnext\n", 7), 7);
    ssize_t r1 = events_within(p.s, POLLIN, WAIT_MS) & POLLIN ? read(p.s, buf, sizeof buf) : -1;
    int r1ok = r1 == 4 && memcmp(buf, "abc\n", 4) == 0;
    ssize_t r2 = read(p.s, buf, sizeof buf); /* one line per read */
    int r2ok = r2 == 5 && memcmp(buf, "next\n", 5) == 0;
    CHECK_EQ(write(p.m, "\x04", 1), 1); /* ^D on an empty line */
    int eofready = events_within(p.s, POLLIN, WAIT_MS);
    ssize_t r3 = read(p.s, buf, sizeof buf);
    CHECK_EQ(write(p.m, "x\x7fy\n", 4), 4); /* erase */
    ssize_t r4 = read_n(p.s, buf, 2);
    pty_close(&p);
    CHECK_EQ(early, 0);
    CHECK(r1ok);
    CHECK(r2ok);
    CHECK(eofready & POLLIN);
    CHECK_EQ(r3, 0);
    CHECK_EQ(r4, 2);
    CHECK(memcmp(buf, "y\n", 2) == 0);
}

TEST(raw_mode_delivers_bytes_at_once_and_slave_output_is_not_processed)
{
    struct pty p;
    CHECK_OK(pty_open(&p, 0));
    CHECK_OK(set_raw(p.s));
    char buf[16];
    CHECK_EQ(write(p.m, "x\r\x03", 3), 3); /* no ICRNL, no signal, no echo */
    size_t n = read_n(p.s, buf, 3);
    int same = n == 3 && memcmp(buf, "x\r\x03", 3) == 0;
    CHECK_EQ(write(p.s, "a\nb", 3), 3); /* no ONLCR */
    size_t k = read_n(p.m, buf, 3);
    int out = k == 3 && memcmp(buf, "a\nb", 3) == 0;
    int more = events_within(p.m, POLLIN, 0);
    pty_close(&p);
    CHECK_EQ(n, 3);
    CHECK(same);
    CHECK(out);
    CHECK_EQ(more, 0);
}

TEST(slave_output_gets_onlcr_by_default)
{
    struct pty p;
    CHECK_OK(pty_open(&p, 0));
    char buf[16];
    CHECK_EQ(write(p.s, "a\nb", 3), 3);
    size_t k = read_n(p.m, buf, 4);
    pty_close(&p);
    CHECK_EQ(k, 4);
    CHECK(memcmp(buf, "a\r\nb", 4) == 0);
}

TEST(echo_goes_back_to_the_master)
{
    struct pty p;
    CHECK_OK(pty_open(&p, 0));
    char buf[16];
    CHECK_EQ(write(p.m, "hi\n", 3), 3);
    size_t k = read_n(p.m, buf, 4);
    int echo = k == 4 && memcmp(buf, "hi\r\n", 4) == 0;
    size_t n = read_n(p.s, buf, 3);
    int line = n == 3 && memcmp(buf, "hi\n", 3) == 0;
    /* No controlling terminal, so no group to signal: ^C is only echoed (and flushes). */
    CHECK_EQ(write(p.m, "\x03", 1), 1);
    size_t c = read_n(p.m, buf, 2);
    int ctl = c == 2 && memcmp(buf, "^C", 2) == 0;
    pty_close(&p);
    CHECK(echo);
    CHECK(line);
    CHECK(ctl);
}

TEST(termios_set_through_the_master_applies_to_the_slave)
{
    struct pty p;
    CHECK_OK(pty_open(&p, 0));
    struct termios t, u;
    CHECK_OK(tcgetattr(p.m, &t));
    CHECK(t.c_lflag & ICANON);
    t.c_lflag &= ~(tcflag_t)(ECHO | ICANON);
    CHECK_OK(tcsetattr(p.m, TCSANOW, &t));
    CHECK_OK(tcgetattr(p.s, &u));
    int ok = !(u.c_lflag & ECHO) && !(u.c_lflag & ICANON);
    char c = 0;
    CHECK_EQ(write(p.m, "z", 1), 1);
    size_t n = read_n(p.s, &c, 1); /* raw now: no newline needed */
    int quiet = events_within(p.m, POLLIN, 0); /* no echo */
    pty_close(&p);
    CHECK(ok);
    CHECK_EQ(n, 1);
    CHECK_EQ(c, 'z');
    CHECK_EQ(quiet, 0);
}

TEST(fionread_on_both_sides)
{
    struct pty p;
    CHECK_OK(pty_open(&p, 0));
    CHECK_OK(clear_lflag(p.s, ECHO));
    CHECK_EQ(write(p.m, "abc\nde", 6), 6);
    int ready = events_within(p.s, POLLIN, WAIT_MS);
    int in = -1;
    CHECK_OK(ioctl(p.s, FIONREAD, &in)); /* canonical: the complete line only */
    CHECK_EQ(write(p.s, "xy", 2), 2);
    int mready = events_within(p.m, POLLIN, WAIT_MS);
    int out = -1;
    CHECK_OK(ioctl(p.m, FIONREAD, &out));
    pty_close(&p);
    CHECK(ready & POLLIN);
    CHECK_EQ(in, 4);
    CHECK(mready & POLLIN);
    CHECK_EQ(out, 2);
}

/* ================= readiness and bounds ================= */

TEST(poll_readiness_on_both_sides)
{
    struct pty p;
    CHECK_OK(pty_open(&p, 0));
    CHECK_OK(set_raw(p.s));
    int m0 = events_within(p.m, POLLIN | POLLOUT, 0);
    int s0 = events_within(p.s, POLLIN | POLLOUT, 0);
    CHECK_EQ(write(p.m, "q", 1), 1);
    int s1 = events_within(p.s, POLLIN, WAIT_MS);
    CHECK_EQ(write(p.s, "r", 1), 1);
    int m1 = events_within(p.m, POLLIN, WAIT_MS);
    pty_close(&p);
    CHECK_EQ(m0, POLLOUT);
    CHECK_EQ(s0, POLLOUT);
    CHECK_EQ(s1, POLLIN);
    CHECK_EQ(m1, POLLIN);
}

TEST(epoll_sees_data_on_both_sides)
{
    struct pty p;
    CHECK_OK(pty_open(&p, 0));
    CHECK_OK(set_raw(p.s));
    int ep = epoll_create1(0);
    CHECK(ep >= 0);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = p.m};
    CHECK_OK(epoll_ctl(ep, EPOLL_CTL_ADD, p.m, &ev));
    ev.data.fd = p.s;
    CHECK_OK(epoll_ctl(ep, EPOLL_CTL_ADD, p.s, &ev));
    struct epoll_event out[2];
    int none = epoll_wait(ep, out, 2, 0);
    CHECK_EQ(write(p.s, "1", 1), 1);
    int n1 = epoll_wait(ep, out, 2, WAIT_MS);
    int fd1 = n1 == 1 ? out[0].data.fd : -1;
    char c;
    CHECK_EQ(read(p.m, &c, 1), 1);
    CHECK_EQ(write(p.m, "2", 1), 1);
    int n2 = epoll_wait(ep, out, 2, WAIT_MS);
    int fd2 = n2 == 1 ? out[0].data.fd : -1;
    close(ep);
    pty_close(&p);
    CHECK_EQ(none, 0);
    CHECK_EQ(n1, 1);
    CHECK_EQ(fd1, p.m);
    CHECK_EQ(n2, 1);
    CHECK_EQ(fd2, p.s);
}

TEST(master_writes_stop_when_the_slave_does_not_read)
{
    struct pty p;
    CHECK_OK(pty_open(&p, O_NONBLOCK));
    CHECK_OK(set_raw(p.s));
    static char chunk[1024];
    memset(chunk, 'm', sizeof chunk);
    long total = 0;
    ssize_t w;
    int err = 0;
    while (total < (1 << 20)) {
        w = write(p.m, chunk, sizeof chunk);
        if (w < 0) {
            err = errno;
            break;
        }
        total += w;
    }
    /* Reading on the slave makes room again. */
    char buf[4096];
    int rd = fcntl(p.s, F_SETFL, O_NONBLOCK);
    long got = 0;
    ssize_t r;
    while ((r = read(p.s, buf, sizeof buf)) > 0 && got < 8192)
        got += r;
    int room = events_within(p.m, POLLOUT, WAIT_MS);
    pty_close(&p);
    CHECK_EQ(err, EAGAIN);
    CHECK(total > 0);
    CHECK(total < (1 << 20));
    CHECK_EQ(rd, 0);
    CHECK(got > 0);
    CHECK(room & POLLOUT);
}

TEST(slave_writes_stop_when_the_master_does_not_read)
{
    struct pty p;
    CHECK_OK(pty_open(&p, 0));
    CHECK_OK(set_raw(p.s));
    CHECK_OK(fcntl(p.s, F_SETFL, O_NONBLOCK));
    static char chunk[1024];
    memset(chunk, 's', sizeof chunk);
    long total = 0;
    int err = 0;
    while (total < (1 << 20)) {
        ssize_t w = write(p.s, chunk, sizeof chunk);
        if (w < 0) {
            err = errno;
            break;
        }
        total += w;
    }
    char buf[4096];
    long got = 0;
    while (got < 16384) {
        ssize_t r = read(p.m, buf, sizeof buf);
        if (r <= 0)
            break;
        got += r;
    }
    int room = events_within(p.s, POLLOUT, WAIT_MS);
    pty_close(&p);
    CHECK_EQ(err, EAGAIN);
    CHECK(total > 0);
    CHECK(total < (1 << 20));
    CHECK(got >= 16384);
    CHECK(room & POLLOUT);
}

TEST(a_blocked_slave_reader_wakes_for_the_master_write)
{
    struct pty p;
    CHECK_OK(pty_open(&p, 0));
    CHECK_OK(clear_lflag(p.s, ECHO));
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        char buf[16];
        ssize_t r = read(p.s, buf, sizeof buf);
        _exit(r == 3 && memcmp(buf, "ok\n", 3) == 0 ? 0 : 1);
    }
    int w = wait_sleeping(pid);
    CHECK_EQ(write(p.m, "ok\n", 3), 3);
    int st = child_status(pid);
    pty_close(&p);
    CHECK_EQ(w, 1);
    CHECK_EQ(st, 0);
}

/* A child writes `total` bytes to `to` in one blocking write; the parent, once the child is
 * blocked, reads them all from `from`. 0 if every byte arrived in order and the write
 * returned the whole count. */
static int blocked_writer_case(int to, int from, long total)
{
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        static char big[200000];
        for (long i = 0; i < total; i++)
            big[i] = (char)('a' + i % 26);
        _exit(write(to, big, (size_t)total) == total ? 0 : 1);
    }
    int slept = wait_sleeping(pid); /* the buffer is full: it waits for the reader */
    long got = 0;
    int order = 1;
    char buf[4096];
    while (got < total) {
        ssize_t r = read(from, buf, sizeof buf);
        if (r <= 0)
            break;
        for (ssize_t i = 0; i < r; i++)
            if (buf[i] != (char)('a' + (got + i) % 26))
                order = 0;
        got += r;
    }
    int st = child_status(pid);
    return slept == 1 && got == total && order && st == 0 ? 0 : -1;
}

TEST(a_master_writer_blocks_until_the_slave_reads)
{
    struct pty p;
    CHECK_OK(pty_open(&p, 0));
    CHECK_OK(set_raw(p.s));
    int r = blocked_writer_case(p.m, p.s, 200000);
    pty_close(&p);
    CHECK_EQ(r, 0);
}

TEST(a_slave_writer_blocks_until_the_master_reads)
{
    struct pty p;
    CHECK_OK(pty_open(&p, 0));
    CHECK_OK(set_raw(p.s));
    int r = blocked_writer_case(p.s, p.m, 200000);
    pty_close(&p);
    CHECK_EQ(r, 0);
}

/* ================= hangup ================= */

TEST(a_master_without_a_slave_yet_has_nothing_to_read)
{
    int m = posix_openpt(O_RDWR | O_NOCTTY | O_NONBLOCK);
    CHECK(m >= 0);
    char c;
    errno = 0;
    ssize_t r = read(m, &c, 1);
    int e = errno;
    int ev = events_within(m, POLLIN, 0);
    close(m);
    CHECK_EQ(r, -1);
    CHECK_EQ(e, EAGAIN);
    CHECK_EQ(ev, 0);
}

TEST(every_slave_closed_gives_the_master_its_data_then_eio_and_pollhup)
{
    struct pty p;
    CHECK_OK(pty_open(&p, 0));
    CHECK_EQ(write(p.s, "z", 1), 1);
    int s2 = dup(p.s);
    close(p.s);
    p.s = -1;
    int still = events_within(p.m, POLLIN, WAIT_MS); /* a dup is still open: no hangup */
    close(s2);
    int ev = events_within(p.m, POLLIN, WAIT_MS);
    char c = 0;
    ssize_t r = read(p.m, &c, 1);
    errno = 0;
    ssize_t r2 = read(p.m, &c, 1);
    int e2 = errno;
    int ev2 = events_within(p.m, POLLIN, 0);
    pty_close(&p);
    CHECK_EQ(still, POLLIN);
    CHECK(ev & POLLIN);
    CHECK(ev & POLLHUP);
    CHECK_EQ(r, 1);
    CHECK_EQ(c, 'z');
    CHECK_EQ(r2, -1);
    CHECK_EQ(e2, EIO);
    CHECK(ev2 & POLLHUP);
}

static volatile sig_atomic_t hups;
static void on_hup(int sig)
{
    (void)sig;
    hups++;
}

TEST(closing_the_master_hangs_up_the_slave_and_its_session)
{
    sig_defaults();
    struct pty p;
    CHECK_OK(pty_open(&p, 0));
    close(p.s);
    int ready[2];
    CHECK_OK(pipe(ready));
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        close(p.m);
        close(ready[0]);
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_hup;
        sa.sa_flags = SA_RESTART;
        CCHECK(sigaction(SIGHUP, &sa, NULL) == 0);
        CCHECK(setsid() == getpid());
        int s = open(p.name, O_RDWR); /* a session leader: acquires it */
        CCHECK(s >= 0);
        CCHECK(tcgetpgrp(s) == getpid());
        int t = open("/dev/tty", O_RDWR);
        CCHECK(t >= 0);
        close(t);
        CCHECK(write_byte(ready[1], 'r') == 0);
        char c;
        CERRNO(read(s, &c, 1), EIO); /* blocked when the master closed: EIO */
        CCHECK(read(s, &c, 1) == 0); /* reads after the hangup: end of file */
        CCHECK(read(s, &c, 1) == 0);
        CERRNO(write(s, "x", 1), EIO);
        struct pollfd pf = {.fd = s, .events = POLLIN};
        CCHECK(poll(&pf, 1, 0) == 1 && (pf.revents & POLLHUP));
        CCHECK(hups == 1);
        CERRNO(open("/dev/tty", O_RDWR), ENXIO);
        CERRNO(tcgetpgrp(s), EIO);
        _exit(0);
    }
    close(ready[1]);
    int r = read_byte(ready[0]);
    close(ready[0]);
    int w = wait_sleeping(pid);
    close(p.m);
    struct stat st;
    errno = 0;
    int gone = stat(p.name, &st) == -1 && errno == ENOENT;
    int cs = child_status(pid);
    CHECK_EQ(r, 'r');
    CHECK_EQ(w, 1);
    CHECK(gone);
    CHECK_EQ(cs, 0);
}

/* ================= controlling terminal and signals ================= */

TEST(ctrl_c_from_the_master_sends_sigint_to_the_foreground_group)
{
    sig_defaults();
    struct pty p;
    CHECK_OK(pty_open(&p, 0));
    close(p.s);
    int ready[2];
    CHECK_OK(pipe(ready));
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        close(p.m);
        close(ready[0]);
        CCHECK(setsid() == getpid());
        int s = open(p.name, O_RDWR);
        CCHECK(s >= 0);
        CCHECK(tcgetpgrp(s) == getpid());
        CCHECK(write_byte(ready[1], 'r') == 0);
        char c;
        read(s, &c, 1); /* killed here */
        _exit(3);
    }
    close(ready[1]);
    int r = read_byte(ready[0]);
    close(ready[0]);
    CHECK_EQ(write(p.m, "\x03", 1), 1);
    int st = child_status(pid);
    close(p.m);
    CHECK_EQ(r, 'r');
    CHECK(WIFSIGNALED(st));
    CHECK_EQ(WTERMSIG(st), SIGINT);
}

TEST(o_noctty_keeps_a_session_leader_without_a_controlling_terminal)
{
    struct pty p;
    CHECK_OK(pty_open(&p, 0));
    close(p.s);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        CCHECK(setsid() == getpid());
        int s = open(p.name, O_RDWR | O_NOCTTY);
        CCHECK(s >= 0);
        CERRNO(tcgetpgrp(s), ENOTTY);
        CERRNO(open("/dev/tty", O_RDWR), ENXIO);
        CCHECK(ioctl(s, TIOCSCTTY, 0) == 0);
        CCHECK(tcgetpgrp(s) == getpid());
        pid_t pg = -1;
        CCHECK(ioctl(p.m, TIOCGPGRP, &pg) == 0 && pg == getpid()); /* through the master */
        _exit(0);
    }
    CHECK_CHILD_OK(pid);
    close(p.m);
}

TEST(proc_stat_tty_nr_is_the_pty)
{
    struct pty p;
    CHECK_OK(pty_open(&p, 0));
    close(p.s);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        CCHECK(setsid() == getpid());
        int s = open(p.name, O_RDWR);
        CCHECK(s >= 0);
        char buf[1024];
        int fd = open("/proc/self/stat", O_RDONLY);
        CCHECK(fd >= 0);
        ssize_t n = read(fd, buf, sizeof buf - 1);
        CCHECK(n > 0);
        buf[n] = '\0';
        char *q = strrchr(buf, ')');
        CCHECK(q != NULL);
        char state;
        int ppid, pgrp, session, tty_nr, tpgid;
        CCHECK(sscanf(q + 2, "%c %d %d %d %d %d", &state, &ppid, &pgrp, &session, &tty_nr,
                      &tpgid) == 6);
        CCHECK(session == getpid());
        CCHECK((unsigned)tty_nr == (unsigned)makedev(136, p.n));
        CCHECK(tpgid == getpid());
        _exit(0);
    }
    CHECK_CHILD_OK(pid);
    close(p.m);
}

TEST(tiocswinsz_from_the_master_sends_sigwinch_to_the_foreground_group)
{
    sig_defaults();
    struct pty p;
    CHECK_OK(pty_open(&p, 0));
    close(p.s);
    struct winsize w0;
    CHECK_OK(ioctl(p.m, TIOCGWINSZ, &w0));
    CHECK_EQ(w0.ws_row, 0);
    CHECK_EQ(w0.ws_col, 0);
    int ready[2];
    CHECK_OK(pipe(ready));
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        close(p.m);
        close(ready[0]);
        CCHECK(block(SIGWINCH) == 0);
        CCHECK(setsid() == getpid());
        int s = open(p.name, O_RDWR);
        CCHECK(s >= 0);
        CCHECK(write_byte(ready[1], 'r') == 0);
        siginfo_t si;
        CCHECK(wait_sig(SIGWINCH, &si, WAIT_MS) == SIGWINCH);
        struct winsize w;
        CCHECK(ioctl(s, TIOCGWINSZ, &w) == 0);
        CCHECK(w.ws_row == 30 && w.ws_col == 100);
        _exit(0);
    }
    close(ready[1]);
    int r = read_byte(ready[0]);
    close(ready[0]);
    struct winsize w = {.ws_row = 30, .ws_col = 100};
    int set = ioctl(p.m, TIOCSWINSZ, &w);
    int st = child_status(pid);
    struct winsize back;
    int get = ioctl(p.m, TIOCGWINSZ, &back);
    close(p.m);
    CHECK_EQ(r, 'r');
    CHECK_EQ(set, 0);
    CHECK_EQ(st, 0);
    CHECK_EQ(get, 0);
    CHECK_EQ(back.ws_row, 30);
    CHECK_EQ(back.ws_col, 100);
}

static int hup_pipe = -1;
static void report_hup(int sig)
{
    (void)sig;
    write_byte(hup_pipe, 'h');
    _exit(0);
}

TEST(the_session_leader_exiting_sends_sighup_to_the_foreground_group)
{
    sig_defaults();
    struct pty p;
    CHECK_OK(pty_open(&p, 0));
    close(p.s);
    int hup[2];
    CHECK_OK(pipe(hup));
    pid_t leader = fork();
    CHECK(leader >= 0);
    if (leader == 0) {
        close(p.m);
        close(hup[0]);
        CCHECK(setsid() == getpid());
        int s = open(p.name, O_RDWR);
        CCHECK(s >= 0);
        int ready[2];
        CCHECK(pipe(ready) == 0);
        pid_t member = fork(); /* in the leader's (foreground) group */
        CCHECK(member >= 0);
        if (member == 0) {
            hup_pipe = hup[1];
            struct sigaction sa;
            memset(&sa, 0, sizeof sa);
            sa.sa_handler = report_hup;
            sigaction(SIGHUP, &sa, NULL);
            close(ready[0]);
            write_byte(ready[1], 'r');
            for (;;)
                pause();
        }
        close(ready[1]);
        CCHECK(read_byte(ready[0]) == 'r');
        _exit(0); /* the member gets SIGHUP */
    }
    close(hup[1]);
    int st = child_status(leader);
    int ev = events_within(hup[0], POLLIN, WAIT_MS);
    int h = ev & POLLIN ? read_byte(hup[0]) : -1;
    close(hup[0]);
    close(p.m);
    CHECK_EQ(st, 0);
    CHECK_EQ(h, 'h');
}

TEST(tiocnotty_by_the_session_leader_hangs_up_the_foreground_group)
{
    sig_defaults();
    struct pty p;
    CHECK_OK(pty_open(&p, 0));
    close(p.s);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        CCHECK(block(SIGHUP) == 0);
        CCHECK(block(SIGCONT) == 0);
        CCHECK(setsid() == getpid());
        int s = open(p.name, O_RDWR);
        CCHECK(s >= 0);
        CCHECK(tcgetpgrp(s) == getpid()); /* the leader's group is the foreground */
        CCHECK(ioctl(s, TIOCNOTTY) == 0);
        CCHECK(is_pending(SIGHUP) == 1);
        CCHECK(is_pending(SIGCONT) == 1);
        CERRNO(tcgetpgrp(s), ENOTTY);
        CERRNO(open("/dev/tty", O_RDWR), ENXIO);
        CERRNO(ioctl(p.m, TIOCGSID, &(pid_t){0}), ENOTTY); /* no session has it now */
        signal(SIGHUP, SIG_IGN);
        _exit(0);
    }
    CHECK_CHILD_OK(pid);
    close(p.m);
}

/* ================= packet mode ================= */

/* One read from the master (waiting up to 10 s for it to be readable) into buf: the count. */
static ssize_t master_read(int m, unsigned char *buf, size_t n)
{
    if (!(events_within(m, POLLIN, WAIT_MS) & POLLIN))
        return -1;
    return read(m, buf, n);
}

TEST(packet_mode_frames_data_and_reports_flushes_first)
{
    struct pty p;
    CHECK_OK(pty_open(&p, 0));
    int one = 1, v = -1;
    CHECK_ERRNO(ioctl(p.s, TIOCPKT, &one), ENOTTY); /* a master's ioctl only */
    CHECK_ERRNO(ioctl(p.s, TIOCGPKT, &v), ENOTTY);
    CHECK_OK(ioctl(p.m, TIOCPKT, &one));
    CHECK_OK(ioctl(p.m, TIOCGPKT, &v));
    CHECK_EQ(v, 1);
    unsigned char b[64];
    CHECK_EQ(write(p.s, "hi\n", 3), 3);
    CHECK_EQ(events_within(p.m, POLLIN | POLLPRI, WAIT_MS), POLLIN); /* data: no POLLPRI */
    CHECK_EQ(master_read(p.m, b, sizeof b), 5);
    CHECK(memcmp(b, "\0hi\r\n", 5) == 0);
    /* The slave flushes its input: one status byte, and POLLPRI until it is read. */
    CHECK_OK(tcflush(p.s, TCIFLUSH));
    CHECK_EQ(events_within(p.m, POLLIN | POLLPRI, 0), POLLIN | POLLPRI);
    CHECK_EQ(master_read(p.m, b, sizeof b), 1);
    CHECK_EQ(b[0], TIOCPKT_FLUSHREAD);
    /* Its output. (Whether output written just before survives the flush depends, on Linux,
     * on whether it had left the flip buffer yet: not tested.) */
    CHECK_OK(tcflush(p.s, TCOFLUSH));
    CHECK_EQ(master_read(p.m, b, sizeof b), 1);
    CHECK_EQ(b[0], TIOCPKT_FLUSHWRITE);
    CHECK_OK(tcflush(p.s, TCIOFLUSH));
    CHECK_EQ(master_read(p.m, b, sizeof b), 1);
    CHECK_EQ(b[0], TIOCPKT_FLUSHREAD | TIOCPKT_FLUSHWRITE);
    CHECK_EQ(events_within(p.m, POLLIN | POLLPRI, 0), 0);
    /* A one-byte read gets only the TIOCPKT_DATA byte and leaves the data. */
    CHECK_EQ(write(p.s, "zz", 2), 2);
    CHECK_EQ(master_read(p.m, b, 1), 1);
    CHECK_EQ(b[0], TIOCPKT_DATA);
    CHECK_EQ(master_read(p.m, b, sizeof b), 3);
    CHECK(memcmp(b, "\0zz", 3) == 0);
    /* Off again: plain reads. */
    int zero = 0;
    CHECK_OK(ioctl(p.m, TIOCPKT, &zero));
    CHECK_EQ(write(p.s, "q", 1), 1);
    CHECK_EQ(master_read(p.m, b, sizeof b), 1);
    CHECK_EQ(b[0], 'q');
    CHECK_OK(tcflush(p.s, TCIFLUSH)); /* no event outside packet mode */
    CHECK_EQ(events_within(p.m, POLLIN | POLLPRI, 0), 0);
    pty_close(&p);
}

TEST(packet_mode_reports_flow_control_changes_and_tcsaflush)
{
    struct pty p;
    CHECK_OK(pty_open(&p, 0));
    int one = 1;
    CHECK_OK(ioctl(p.m, TIOCPKT, &one));
    struct termios t;
    CHECK_OK(tcgetattr(p.s, &t));
    t.c_iflag &= ~IXON;
    CHECK_OK(tcsetattr(p.s, TCSANOW, &t));
    unsigned char b[8];
    CHECK_EQ(master_read(p.m, b, sizeof b), 1);
    CHECK_EQ(b[0], TIOCPKT_NOSTOP);
    t.c_iflag |= IXON;
    CHECK_OK(tcsetattr(p.s, TCSANOW, &t));
    CHECK_EQ(master_read(p.m, b, sizeof b), 1);
    CHECK_EQ(b[0], TIOCPKT_DOSTOP);
    CHECK_OK(tcsetattr(p.s, TCSANOW, &t)); /* no change: no event */
    CHECK_EQ(events_within(p.m, POLLIN | POLLPRI, 0), 0);
    CHECK_OK(tcsetattr(p.s, TCSAFLUSH, &t));
    CHECK_EQ(master_read(p.m, b, sizeof b), 1);
    CHECK_EQ(b[0], TIOCPKT_FLUSHREAD);
    /* Turning packet mode on again keeps pending events; off then on forgets them. */
    CHECK_OK(tcflush(p.s, TCIFLUSH));
    CHECK_OK(ioctl(p.m, TIOCPKT, &one));
    CHECK_EQ(events_within(p.m, POLLPRI, 0), POLLPRI);
    int zero = 0;
    CHECK_OK(ioctl(p.m, TIOCPKT, &zero));
    CHECK_OK(ioctl(p.m, TIOCPKT, &one));
    CHECK_EQ(events_within(p.m, POLLIN | POLLPRI, 0), 0);
    pty_close(&p);
}

TEST(tcflush_on_the_master_drops_the_slave_output_it_has_not_read)
{
    struct pty p;
    CHECK_OK(pty_open(&p, 0));
    CHECK_EQ(write(p.s, "gone", 4), 4);
    CHECK_EQ(events_within(p.m, POLLIN, WAIT_MS), POLLIN);
    CHECK_OK(tcflush(p.m, TCIFLUSH));
    CHECK_EQ(events_within(p.m, POLLIN, 0), 0);
    CHECK_ERRNO(ioctl(p.m, TCFLSH, 7), EINVAL);
    CHECK_ERRNO(ioctl(p.s, TCFLSH, 7), EINVAL);
    CHECK_EQ(write(p.s, "kept", 4), 4);
    char b[8];
    CHECK_EQ(read_n(p.m, b, 4), 4);
    CHECK(memcmp(b, "kept", 4) == 0);
    pty_close(&p);
}

/* ================= flow control (IXON, TCXONC) ================= */

/* A pair with the slave's echo off and the master in packet mode, so flow events can be read. */
static int flow_pair(struct pty *p)
{
    int one = 1;
    if (pty_open(p, 0) != 0)
        return -1;
    if (clear_lflag(p->s, ECHO) != 0 || ioctl(p->m, TIOCPKT, &one) != 0) {
        pty_close(p);
        return -1;
    }
    return 0;
}

/* The next master read is exactly the one status byte `want`. */
static int expect_status(int m, unsigned char want)
{
    unsigned char b[16];
    return master_read(m, b, sizeof b) == 1 && b[0] == want ? 0 : -1;
}

TEST(ctrl_s_stops_the_slave_output_and_ctrl_q_starts_it)
{
    struct pty p;
    CHECK_OK(flow_pair(&p));
    CHECK_EQ(write(p.m, "\x13", 1), 1); /* ^S: not input, output stops */
    CHECK_OK(expect_status(p.m, TIOCPKT_STOP));
    int fl = fcntl(p.s, F_GETFL);
    CHECK_OK(fcntl(p.s, F_SETFL, fl | O_NONBLOCK));
    CHECK_ERRNO(write(p.s, "x", 1), EAGAIN);
    CHECK_EQ(events_within(p.s, POLLOUT, 0), 0);
    CHECK_OK(fcntl(p.s, F_SETFL, fl));
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        CCHECK(write(p.s, "after", 5) == 5); /* waits for ^Q */
        _exit(0);
    }
    CHECK(wait_sleeping(pid));
    CHECK_EQ(write(p.m, "\x11", 1), 1); /* ^Q */
    CHECK_OK(expect_status(p.m, TIOCPKT_START));
    unsigned char b[16];
    CHECK_EQ(master_read(p.m, b, sizeof b), 6);
    CHECK(memcmp(b, "\0after", 6) == 0);
    CHECK_CHILD_OK(pid);
    int n = -1;
    CHECK_OK(ioctl(p.s, FIONREAD, &n));
    CHECK_EQ(n, 0); /* neither ^S nor ^Q reached the reader */
    pty_close(&p);
}

TEST(tcooff_stops_until_tcoon_whatever_ctrl_q_says)
{
    struct pty p;
    CHECK_OK(flow_pair(&p));
    CHECK_OK(tcflow(p.s, TCOOFF));
    CHECK_OK(expect_status(p.m, TIOCPKT_STOP));
    CHECK_EQ(write(p.m, "\x11y\n", 3), 3); /* ^Q, then a line that shows it was handled */
    char line[8];
    CHECK_EQ(read_n(p.s, line, 2), 2);
    int fl = fcntl(p.s, F_GETFL);
    CHECK_OK(fcntl(p.s, F_SETFL, fl | O_NONBLOCK));
    CHECK_ERRNO(write(p.s, "x", 1), EAGAIN); /* still stopped */
    CHECK_EQ(events_within(p.m, POLLPRI, 0), 0);
    CHECK_OK(tcflow(p.s, TCOON));
    CHECK_OK(expect_status(p.m, TIOCPKT_START));
    CHECK_EQ(write(p.s, "x", 1), 1);
    /* TCIOFF sends the STOP character to the other side: data for the master. */
    CHECK_OK(tcflow(p.s, TCIOFF));
    unsigned char b[16];
    CHECK_EQ(master_read(p.m, b, sizeof b), 3);
    CHECK(memcmp(b, "\0x\x13", 3) == 0);
    CHECK_ERRNO(ioctl(p.s, TCXONC, 9), EINVAL);
    pty_close(&p);
}

TEST(turning_ixon_off_restarts_output_and_ixany_lets_any_key_restart_it)
{
    struct pty p;
    CHECK_OK(flow_pair(&p));
    CHECK_EQ(write(p.m, "\x13", 1), 1);
    CHECK_OK(expect_status(p.m, TIOCPKT_STOP));
    struct termios t;
    CHECK_OK(tcgetattr(p.s, &t));
    t.c_iflag &= ~IXON;
    CHECK_OK(tcsetattr(p.s, TCSANOW, &t));
    CHECK_OK(expect_status(p.m, TIOCPKT_START | TIOCPKT_NOSTOP));
    CHECK_EQ(write(p.s, "z", 1), 1);
    unsigned char b[16];
    CHECK_EQ(master_read(p.m, b, sizeof b), 2);
    CHECK(memcmp(b, "\0z", 2) == 0);
    t.c_iflag |= IXON | IXANY;
    CHECK_OK(tcsetattr(p.s, TCSANOW, &t));
    CHECK_OK(expect_status(p.m, TIOCPKT_DOSTOP));
    CHECK_EQ(write(p.m, "\x13", 1), 1);
    CHECK_OK(expect_status(p.m, TIOCPKT_STOP));
    CHECK_EQ(write(p.m, "a\n", 2), 2); /* any key restarts, and is input */
    CHECK_OK(expect_status(p.m, TIOCPKT_START));
    char line[8];
    CHECK_EQ(read_n(p.s, line, 2), 2);
    CHECK(memcmp(line, "a\n", 2) == 0);
    pty_close(&p);
}

TEST(tiocsig_from_the_master_signals_the_foreground_group)
{
    sig_defaults();
    struct pty p;
    CHECK_OK(pty_open(&p, 0));
    close(p.s);
    CHECK_ERRNO(ioctl(p.m, TIOCSIG, SIGKILL), EINVAL); /* only SIGINT, SIGQUIT, SIGTSTP */
    CHECK_ERRNO(ioctl(p.m, TIOCSIG, 0), EINVAL);
    int ready[2];
    CHECK_OK(pipe(ready));
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        close(p.m);
        close(ready[0]);
        CCHECK(setsid() == getpid());
        int s = open(p.name, O_RDWR);
        CCHECK(s >= 0);
        CCHECK(write_byte(ready[1], 'r') == 0);
        char c;
        read(s, &c, 1); /* killed here */
        _exit(3);
    }
    close(ready[1]);
    CHECK_EQ(read_byte(ready[0]), 'r');
    close(ready[0]);
    CHECK_OK(ioctl(p.m, TIOCSIG, SIGQUIT));
    int st = child_status(pid);
    close(p.m);
    CHECK(WIFSIGNALED(st));
    CHECK_EQ(WTERMSIG(st), SIGQUIT);
}
