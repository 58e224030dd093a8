/* mqueue.c - POSIX message queues (mq_overview(7)) with Linux's rules: mq_open (O_CREAT,
 * O_EXCL, the umask, permissions against the credentials, attributes checked against
 * /proc/sys/fs/mqueue for non-root, the defaults 10 and 8192, attributes ignored for an
 * existing queue, EINVAL for O_ACCMODE 3, queues_max -> ENOSPC as uid 65534, RLIMIT_MSGQUEUE
 * -> EMFILE with Linux's byte charge per queue), the names the kernel accepts (the C library
 * strips the leading '/'; raw syscalls: EACCES for "a/b", ".", ENOENT for "", ENAMETOOLONG
 * beyond 255), priority order (highest first, FIFO within one), EMSGSIZE both ways, EINVAL
 * for priority >= 32768 and for a bad timespec (checked before anything else on Linux >= 4.x,
 * even when the call would not block), ETIMEDOUT for an absolute CLOCK_REALTIME timeout,
 * EAGAIN with O_NONBLOCK (set by mq_open, mq_setattr or fcntl), EBADF for the wrong access
 * mode or a descriptor that is not a queue, blocking send and receive across processes, EINTR
 * without SA_RESTART and a restart with it, mq_unlink (open descriptors keep working, nlink
 * 0), the descriptor as a file (FD_CLOEXEC always, fstat mode and size 80, read(2) gives
 * "QSIZE:... NOTIFY:... SIGNO:... NOTIFY_PID:...", write EINVAL, dup, fork), mq_notify
 * (SIGEV_SIGNAL with si_code SI_MESGQ, the sender's pid and uid and the value; one-shot; only
 * on empty -> non-empty; not when a receiver is waiting; EBUSY for a second registration from
 * any process; NULL removes only one's own; a close by the owner removes it; SIGEV_NONE;
 * SIGEV_THREAD's errors without a netlink socket), poll/select/epoll (POLLIN with a message,
 * POLLOUT with room), and the mqueue file system mounted on a directory (listed in
 * /proc/mounts, readdir, stat, read, unlink, open(O_CREAT), EPERM for mkdir). Where a process
 * must be blocked before its peer acts, the peer waits until /proc/<pid>/stat shows it
 * sleeping; nothing depends on timing.
 * Syscalls: mq_open, mq_unlink, mq_timedsend, mq_timedreceive, mq_notify, mq_getsetattr,
 * read, write, close, dup, fcntl, fstat, stat, lseek, poll, select, epoll_*, fork, wait4,
 * kill, rt_sigaction, rt_sigprocmask, rt_sigtimedwait, setuid, setgid, setrlimit, umask,
 * mount, umount2, mkdir, rmdir, getdents64, unlink, socketpair, pipe2.
 */
#define _GNU_SOURCE
#define TEST_MAIN
#include "test.h"

#include <dirent.h>
#include <fcntl.h>
#include <mqueue.h>
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "children.h"

#define NOBODY 65534
#define MQUEUE_MAGIC 0x19800202
#ifndef SI_MESGQ
#define SI_MESGQ -3
#endif

/* "/mqt-<pid>-<n>": unique per run; every name made is unlinked by cleanup(). */
static char names[32][64];
static int used[32];

static const char *qname(int n)
{
    snprintf(names[n], sizeof names[n], "/mqt-%d-%d", (int)getpid(), n);
    used[n] = 1;
    return names[n];
}

static void cleanup(void)
{
    for (int i = 0; i < 32; i++)
        if (used[i]) {
            mq_unlink(names[i]);
            used[i] = 0;
        }
}

static mqd_t make(int n, long maxmsg, long msgsize)
{
    struct mq_attr a = {.mq_maxmsg = maxmsg, .mq_msgsize = msgsize};
    return mq_open(qname(n), O_CREAT | O_RDWR, 0600, &a);
}

static struct timespec realtime_in(long ms)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    t.tv_sec += ms / 1000;
    t.tv_nsec += (ms % 1000) * 1000000L;
    if (t.tv_nsec >= 1000000000L) {
        t.tv_sec++;
        t.tv_nsec -= 1000000000L;
    }
    return t;
}

/* The status line read(2) gives, from offset 0. */
static int status_line(int fd, char *buf, size_t len)
{
    ssize_t n = pread(fd, buf, len - 1, 0);
    if (n < 0)
        return -1;
    buf[n] = 0;
    return (int)n;
}

static void send_receive_priorities_(void)
{
    mqd_t q = make(0, 8, 64);
    CHECK_OK(q);
    CHECK_OK(mq_send(q, "low1", 4, 1));
    CHECK_OK(mq_send(q, "high", 4, 9));
    CHECK_OK(mq_send(q, "low2", 4, 1));
    CHECK_OK(mq_send(q, "zero", 5, 0));
    CHECK_OK(mq_send(q, "top", 3, 32767));
    struct mq_attr a;
    CHECK_OK(mq_getattr(q, &a));
    CHECK_EQ(a.mq_maxmsg, 8);
    CHECK_EQ(a.mq_msgsize, 64);
    CHECK_EQ(a.mq_curmsgs, 5);
    CHECK_EQ(a.mq_flags, 0);
    const char *want[] = {"top", "high", "low1", "low2", "zero"};
    unsigned prios[] = {32767, 9, 1, 1, 0};
    for (int i = 0; i < 5; i++) {
        char buf[64];
        unsigned p = 12345;
        ssize_t n = mq_receive(q, buf, sizeof buf, &p);
        CHECK_EQ(n, (long)strlen(want[i]) + (i == 4));
        CHECK(memcmp(buf, want[i], strlen(want[i])) == 0);
        CHECK_EQ(p, prios[i]);
    }
    CHECK_OK(mq_getattr(q, &a));
    CHECK_EQ(a.mq_curmsgs, 0);
    /* A zero-length message and a NULL priority pointer. */
    CHECK_OK(mq_send(q, "", 0, 3));
    char buf[64];
    CHECK_EQ(mq_receive(q, buf, sizeof buf, NULL), 0);
    CHECK_OK(mq_close(q));
}
TEST(send_receive_priorities) { send_receive_priorities_(); cleanup(); }

static long proc_value(const char *name)
{
    char path[128], buf[32];
    snprintf(path, sizeof path, "/proc/sys/fs/mqueue/%s", name);
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = 0;
    return atol(buf);
}

/* CAP_SYS_RESOURCE (bit 24 of CapEff): root without it (some containers) has the non-root
 * attribute limits. */
static int has_sys_resource(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return geteuid() == 0;
    char line[256];
    unsigned long long caps = 0;
    int found = 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "CapEff: %llx", &caps) == 1)
            found = 1;
    fclose(f);
    return found ? (int)((caps >> 24) & 1) : geteuid() == 0;
}

static void defaults_and_limits_(void)
{
    CHECK_EQ(proc_value("msg_max"), 10);
    CHECK_EQ(proc_value("msgsize_max"), 8192);
    CHECK_EQ(proc_value("msg_default"), 10);
    CHECK_EQ(proc_value("msgsize_default"), 8192);
    CHECK_EQ(proc_value("queues_max"), 256);
    mqd_t q = mq_open(qname(0), O_CREAT | O_RDWR, 0600, NULL);
    CHECK_OK(q);
    struct mq_attr a;
    CHECK_OK(mq_getattr(q, &a));
    CHECK_EQ(a.mq_maxmsg, 10);
    CHECK_EQ(a.mq_msgsize, 8192);
    /* The attributes are only looked at when the queue is created. */
    struct mq_attr bad = {.mq_maxmsg = 0, .mq_msgsize = 0};
    mqd_t q2 = mq_open(qname(0), O_CREAT | O_RDWR, 0600, &bad);
    CHECK_OK(q2);
    CHECK_OK(mq_close(q2));
    CHECK_ERRNO(mq_open(qname(1), O_CREAT | O_RDWR, 0600, &bad), EINVAL);
    bad.mq_maxmsg = 1;
    bad.mq_msgsize = -1;
    CHECK_ERRNO(mq_open(qname(1), O_CREAT | O_RDWR, 0600, &bad), EINVAL);
    struct mq_attr big = {.mq_maxmsg = 20, .mq_msgsize = 10000};
    if (has_sys_resource()) {
        /* CAP_SYS_RESOURCE goes beyond msg_max and msgsize_max, up to the hard limits. */
        mqd_t r = mq_open(qname(2), O_CREAT | O_RDWR, 0600, &big);
        CHECK_OK(r);
        CHECK_OK(mq_close(r));
        struct mq_attr huge = {.mq_maxmsg = 65537, .mq_msgsize = 1};
        CHECK_ERRNO(mq_open(qname(3), O_CREAT | O_RDWR, 0600, &huge), EINVAL);
    } else {
        CHECK_ERRNO(mq_open(qname(2), O_CREAT | O_RDWR, 0600, &big), EINVAL);
    }
    if (geteuid() == 0) {
        pid_t pid = fork();
        CHECK(pid >= 0);
        if (pid == 0) {
            CCHECK(setgid(NOBODY) == 0 && setuid(NOBODY) == 0);
            struct mq_attr over = {.mq_maxmsg = 11, .mq_msgsize = 16};
            CERRNO(mq_open(names[1], O_CREAT | O_RDWR, 0600, &over), EINVAL);
            over.mq_maxmsg = 10;
            over.mq_msgsize = 8193;
            CERRNO(mq_open(names[1], O_CREAT | O_RDWR, 0600, &over), EINVAL);
            over.mq_msgsize = 8192;
            mqd_t ok = mq_open(names[1], O_CREAT | O_RDWR, 0600, &over);
            CCHECK(ok >= 0);
            _exit(0);
        }
        CHECK_EXITED(pid, 0);
    }
    CHECK_OK(mq_close(q));
}
TEST(defaults_and_limits) { defaults_and_limits_(); cleanup(); }

static void names_and_flags_(void)
{
    /* The kernel sees the name without its '/'. */
    const char *raw = qname(0) + 1;
    long fd = syscall(SYS_mq_open, raw, O_CREAT | O_RDWR, 0600, NULL);
    CHECK(fd >= 0);
    mqd_t q = mq_open(qname(0), O_RDWR);
    CHECK_OK(q);
    CHECK_OK(mq_close(q));
    close((int)fd);
    CHECK_ERRNO(syscall(SYS_mq_open, "a/b", O_CREAT | O_RDWR, 0600, NULL), EACCES);
    CHECK_ERRNO(syscall(SYS_mq_open, "/x", O_CREAT | O_RDWR, 0600, NULL), EACCES);
    CHECK_ERRNO(syscall(SYS_mq_open, ".", O_CREAT | O_RDWR, 0600, NULL), EACCES);
    CHECK_ERRNO(syscall(SYS_mq_open, "..", O_RDWR, 0600, NULL), EACCES);
    CHECK_ERRNO(syscall(SYS_mq_open, "", O_CREAT | O_RDWR, 0600, NULL), ENOENT);
    CHECK_ERRNO(syscall(SYS_mq_unlink, "a/b"), EACCES);
    CHECK_ERRNO(syscall(SYS_mq_unlink, ""), ENOENT);
    CHECK_ERRNO(syscall(SYS_mq_open, bad_ptr(1), O_RDWR, 0, NULL), EFAULT);
    char longname[300];
    memset(longname, 'm', sizeof longname);
    snprintf(longname, 20, "/mqt-%d-", (int)getpid());
    longname[strlen(longname)] = 'm';
    longname[256] = 0; /* 255 characters after the '/' */
    mqd_t l = mq_open(longname, O_CREAT | O_RDWR, 0600, NULL);
    CHECK_OK(l);
    CHECK_OK(mq_close(l));
    CHECK_OK(mq_unlink(longname));
    longname[256] = 'm';
    longname[257] = 0;
    CHECK_ERRNO(mq_open(longname, O_CREAT | O_RDWR, 0600, NULL), ENAMETOOLONG);
    /* O_CREAT | O_EXCL, ENOENT, O_ACCMODE 3 for an existing queue. */
    CHECK_ERRNO(mq_open(qname(0), O_CREAT | O_EXCL | O_RDWR, 0600, NULL), EEXIST);
    CHECK_ERRNO(mq_open(qname(1), O_RDWR), ENOENT);
    CHECK_ERRNO(mq_open(qname(0), O_RDWR | O_WRONLY), EINVAL);
    CHECK_OK(mq_unlink(qname(0)));
    CHECK_ERRNO(mq_unlink(qname(0)), ENOENT);
}
TEST(names_and_flags) { names_and_flags_(); cleanup(); }

static void descriptor_is_a_file_(void)
{
    mode_t old = umask(022);
    mqd_t q = mq_open(qname(0), O_CREAT | O_RDWR, 0666, NULL);
    umask(old);
    CHECK_OK(q);
    CHECK_EQ(fcntl(q, F_GETFD), FD_CLOEXEC);
    struct stat st;
    CHECK_OK(fstat(q, &st));
    CHECK_EQ(st.st_mode, S_IFREG | 0644);
    CHECK_EQ(st.st_size, 80);
    CHECK_EQ(st.st_uid, geteuid());
    CHECK_EQ(st.st_nlink, 1);
    CHECK_OK(mq_send(q, "hello", 5, 1));
    CHECK_OK(mq_send(q, "abc", 3, 1));
    char buf[128];
    CHECK_EQ(read(q, buf, sizeof buf), 60);
    buf[60] = 0;
    CHECK(strcmp(buf, "QSIZE:8          NOTIFY:0     SIGNO:0     NOTIFY_PID:0     \n") == 0);
    CHECK_EQ(read(q, buf, sizeof buf), 0);
    CHECK_EQ(lseek(q, 0, SEEK_SET), 0);
    CHECK_EQ(read(q, buf, 5), 5);
    CHECK(memcmp(buf, "QSIZE", 5) == 0);
    CHECK_ERRNO(write(q, "x", 1), EINVAL);
    /* dup shares the open file (and its O_NONBLOCK). */
    int d = dup(q);
    CHECK_OK(d);
    CHECK_EQ(fcntl(d, F_GETFD), 0);
    CHECK_EQ(mq_receive(d, buf, 8192, NULL), 5);
    CHECK_OK(fcntl(q, F_SETFL, O_NONBLOCK));
    struct mq_attr a;
    CHECK_OK(mq_getattr(d, &a));
    CHECK_EQ(a.mq_flags, O_NONBLOCK);
    CHECK_EQ(mq_receive(d, buf, 8192, NULL), 3);
    CHECK_ERRNO(mq_receive(d, buf, 8192, NULL), EAGAIN);
    /* mq_setattr changes O_NONBLOCK only, seen by fcntl. */
    struct mq_attr na = {.mq_flags = 0, .mq_maxmsg = 99}, oa;
    CHECK_OK(mq_setattr(q, &na, &oa));
    CHECK_EQ(oa.mq_flags, O_NONBLOCK);
    CHECK_EQ(oa.mq_maxmsg, 10);
    CHECK_EQ(fcntl(q, F_GETFL) & O_NONBLOCK, 0);
    CHECK_OK(mq_getattr(q, &a));
    CHECK_EQ(a.mq_maxmsg, 10);
    na.mq_flags = O_RDWR | O_NONBLOCK;
    CHECK_ERRNO(syscall(SYS_mq_getsetattr, q, &na, NULL), EINVAL);
    na.mq_flags = O_NONBLOCK;
    CHECK_OK(mq_setattr(q, &na, NULL));
    CHECK(fcntl(q, F_GETFL) & O_NONBLOCK);
    /* Not a queue: EBADF. */
    int p[2];
    CHECK_OK(pipe(p));
    CHECK_ERRNO(mq_getattr(p[0], &a), EBADF);
    CHECK_ERRNO(mq_send(p[1], "x", 1, 0), EBADF);
    CHECK_ERRNO(mq_receive(p[0], buf, 8192, NULL), EBADF);
    CHECK_ERRNO(mq_notify(p[0], NULL), EBADF);
    CHECK_ERRNO(mq_getattr(-1, &a), EBADF);
    close(p[0]);
    close(p[1]);
    /* O_NONBLOCK from mq_open. */
    mqd_t nb = mq_open(qname(0), O_RDWR | O_NONBLOCK);
    CHECK_OK(nb);
    CHECK_OK(mq_getattr(nb, &a));
    CHECK_EQ(a.mq_flags, O_NONBLOCK);
    CHECK_OK(mq_close(nb));
    CHECK_OK(close(d));
    CHECK_OK(mq_close(q));
    CHECK_ERRNO(mq_close(q), EBADF);
}
TEST(descriptor_is_a_file) { descriptor_is_a_file_(); cleanup(); }

static void access_modes_(void)
{
    mqd_t q = make(0, 4, 16);
    CHECK_OK(q);
    mqd_t r = mq_open(qname(0), O_RDONLY);
    mqd_t w = mq_open(qname(0), O_WRONLY);
    CHECK_OK(r);
    CHECK_OK(w);
    char buf[16];
    CHECK_ERRNO(mq_send(r, "x", 1, 0), EBADF);
    CHECK_ERRNO(mq_receive(w, buf, sizeof buf, NULL), EBADF);
    CHECK_ERRNO(read(w, buf, sizeof buf), EBADF);
    CHECK_OK(mq_send(w, "x", 1, 0));
    CHECK_EQ(mq_receive(r, buf, sizeof buf, NULL), 1);
    mq_close(r);
    mq_close(w);
    mq_close(q);
}
TEST(access_modes) { access_modes_(); cleanup(); }

static void errors_and_timeouts_(void)
{
    mqd_t q = make(0, 2, 16);
    CHECK_OK(q);
    char buf[64] = "0123456789abcdefXYZ";
    CHECK_ERRNO(mq_send(q, buf, 17, 0), EMSGSIZE);
    CHECK_ERRNO(mq_send(q, buf, 1, 32768), EINVAL);
    CHECK_ERRNO(mq_send(q, buf, 1, (unsigned)-1), EINVAL);
    CHECK_ERRNO(mq_receive(q, buf, 15, NULL), EMSGSIZE);
    CHECK_ERRNO(mq_send(q, bad_ptr(8), 4, 0), EFAULT);
    struct mq_attr a;
    CHECK_OK(mq_getattr(q, &a));
    CHECK_EQ(a.mq_curmsgs, 0);
    /* A bad timespec is EINVAL even when the call would not block (Linux checks it first). */
    struct timespec bad = {.tv_sec = 0, .tv_nsec = 1000000000L};
    CHECK_ERRNO(mq_timedsend(q, buf, 1, 0, &bad), EINVAL);
    bad.tv_sec = -1;
    bad.tv_nsec = 0;
    CHECK_ERRNO(mq_timedsend(q, buf, 1, 0, &bad), EINVAL);
    CHECK_ERRNO(mq_timedreceive(q, buf, 16, NULL, &bad), EINVAL);
    CHECK_ERRNO(mq_timedsend(q, buf, 1, 0, bad_ptr(8)), EFAULT);
    /* An expired timeout is no obstacle when there is room or a message. */
    struct timespec past = {.tv_sec = 1, .tv_nsec = 0};
    CHECK_OK(mq_timedsend(q, "a", 1, 0, &past));
    CHECK_OK(mq_timedsend(q, "b", 1, 0, &past));
    CHECK_ERRNO(mq_timedsend(q, "c", 1, 0, &past), ETIMEDOUT);
    struct timespec soon = realtime_in(50);
    long long t0 = now_ns();
    CHECK_ERRNO(mq_timedsend(q, "c", 1, 0, &soon), ETIMEDOUT);
    CHECK(now_ns() - t0 >= 40000000LL);
    CHECK_EQ(mq_timedreceive(q, buf, 16, NULL, &past), 1);
    CHECK_EQ(mq_timedreceive(q, buf, 16, NULL, &past), 1);
    CHECK_ERRNO(mq_timedreceive(q, buf, 16, NULL, &past), ETIMEDOUT);
    soon = realtime_in(50);
    t0 = now_ns();
    CHECK_ERRNO(mq_timedreceive(q, buf, 16, NULL, &soon), ETIMEDOUT);
    CHECK(now_ns() - t0 >= 40000000LL);
    /* O_NONBLOCK: EAGAIN both ways. */
    struct mq_attr nb = {.mq_flags = O_NONBLOCK};
    CHECK_OK(mq_setattr(q, &nb, NULL));
    CHECK_ERRNO(mq_receive(q, buf, 16, NULL), EAGAIN);
    CHECK_OK(mq_send(q, "a", 1, 0));
    CHECK_OK(mq_send(q, "b", 1, 0));
    CHECK_ERRNO(mq_send(q, "c", 1, 0), EAGAIN);
    /* A bad receive buffer loses the message (it was taken), as on Linux. */
    CHECK_ERRNO(mq_receive(q, bad_ptr(8), 16, NULL), EFAULT);
    CHECK_OK(mq_getattr(q, &a));
    CHECK_EQ(a.mq_curmsgs, 1);
    mq_close(q);
}
TEST(errors_and_timeouts) { errors_and_timeouts_(); cleanup(); }

static void blocking_across_processes_(void)
{
    mqd_t q = make(0, 2, 16);
    CHECK_OK(q);
    /* A receiver blocked on an empty queue gets the message sent later. */
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        char buf[16];
        unsigned p;
        CCHECK(mq_receive(q, buf, sizeof buf, &p) == 4 && memcmp(buf, "ping", 4) == 0 && p == 7);
        _exit(0);
    }
    CHECK(wait_sleeping(pid));
    CHECK_OK(mq_send(q, "ping", 4, 7));
    CHECK_CHILD_OK(pid);
    /* A sender blocked on a full queue goes on when a message is taken. */
    CHECK_OK(mq_send(q, "1", 1, 0));
    CHECK_OK(mq_send(q, "2", 1, 0));
    pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        CCHECK(mq_send(q, "3", 1, 5) == 0);
        _exit(0);
    }
    CHECK(wait_sleeping(pid));
    struct mq_attr a;
    CHECK_OK(mq_getattr(q, &a));
    CHECK_EQ(a.mq_curmsgs, 2);
    char buf[16];
    CHECK_EQ(mq_receive(q, buf, sizeof buf, NULL), 1);
    CHECK_EQ(buf[0], '1');
    CHECK_CHILD_OK(pid);
    CHECK_EQ(mq_receive(q, buf, sizeof buf, NULL), 1);
    CHECK_EQ(buf[0], '3');
    CHECK_EQ(mq_receive(q, buf, sizeof buf, NULL), 1);
    CHECK_EQ(buf[0], '2');
    mq_close(q);
}
TEST(blocking_across_processes) { blocking_across_processes_(); cleanup(); }

static int sig_pipe = -1;
static void on_usr1(int s)
{
    (void)s;
    if (sig_pipe >= 0)
        write_byte(sig_pipe, 'h');
}

/* A receive interrupted by a handler: EINTR without SA_RESTART, restarted with it. */
static void interrupted_(int restart)
{
    mqd_t q = make(0, 2, 16);
    CHECK_OK(q);
    int p[2];
    CHECK_OK(pipe(p));
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        close(p[0]);
        sig_pipe = p[1];
        struct sigaction sa = {.sa_handler = on_usr1, .sa_flags = restart ? SA_RESTART : 0};
        sigemptyset(&sa.sa_mask);
        sigaction(SIGUSR1, &sa, NULL);
        write_byte(p[1], 'r');
        char buf[16];
        if (restart)
            CCHECK(mq_receive(q, buf, sizeof buf, NULL) == 2 && memcmp(buf, "ok", 2) == 0);
        else
            CERRNO(mq_receive(q, buf, sizeof buf, NULL), EINTR);
        _exit(0);
    }
    close(p[1]);
    CHECK_EQ(read_byte(p[0]), 'r');
    CHECK(wait_sleeping(pid));
    CHECK_OK(kill(pid, SIGUSR1));
    CHECK_EQ(read_byte(p[0]), 'h');
    if (restart) {
        CHECK(wait_sleeping(pid));
        CHECK_OK(mq_send(q, "ok", 2, 0));
    }
    CHECK_CHILD_OK(pid);
    close(p[0]);
    mq_close(q);
}
TEST(eintr_without_sa_restart) { interrupted_(0); cleanup(); }
TEST(restart_with_sa_restart) { interrupted_(1); cleanup(); }

static void unlink_keeps_open_descriptors_(void)
{
    mqd_t q = make(0, 4, 16);
    CHECK_OK(q);
    CHECK_OK(mq_send(q, "kept", 4, 0));
    /* /proc's link names the queue, "(deleted)" once unlinked; reopened, it is the queue. */
    char link[64], target[128], want[160];
    snprintf(link, sizeof link, "/proc/self/fd/%d", (int)q);
    ssize_t len = readlink(link, target, sizeof target - 1);
    CHECK(len > 0);
    target[len] = '\0';
    CHECK(strcmp(target, qname(0)) == 0);
    CHECK_OK(mq_unlink(qname(0)));
    len = readlink(link, target, sizeof target - 1);
    CHECK(len > 0);
    target[len] = '\0';
    snprintf(want, sizeof want, "%s (deleted)", qname(0));
    CHECK(strcmp(target, want) == 0);
    int again = open(link, O_RDONLY);
    CHECK(again >= 0);
    struct mq_attr ra;
    CHECK_OK(mq_getattr(again, &ra));
    CHECK_EQ(ra.mq_curmsgs, 1);
    close(again);
    CHECK_ERRNO(mq_open(qname(0), O_RDWR), ENOENT);
    struct stat st;
    CHECK_OK(fstat(q, &st));
    CHECK_EQ(st.st_nlink, 0);
    char buf[16];
    CHECK_EQ(mq_receive(q, buf, sizeof buf, NULL), 4);
    CHECK_OK(mq_send(q, "more", 4, 0));
    /* A new queue by the same name is another queue. */
    mqd_t n = make(0, 4, 16);
    CHECK_OK(n);
    struct mq_attr a;
    CHECK_OK(mq_getattr(n, &a));
    CHECK_EQ(a.mq_curmsgs, 0);
    CHECK_OK(mq_getattr(q, &a));
    CHECK_EQ(a.mq_curmsgs, 1);
    mq_close(n);
    mq_close(q);
}
TEST(unlink_keeps_open_descriptors) { unlink_keeps_open_descriptors_(); cleanup(); }

static void permissions_(void)
{
    if (geteuid() != 0)
        SKIP("needs root to become uid 65534");
    mqd_t priv = mq_open(qname(0), O_CREAT | O_RDWR, 0600, NULL);
    CHECK_OK(priv);
    mqd_t shared = mq_open(qname(1), O_CREAT | O_RDWR, 0644, NULL);
    CHECK_OK(shared);
    CHECK_OK(fchmod(shared, 0644)); /* whatever the umask */
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        CCHECK(setgid(NOBODY) == 0 && setuid(NOBODY) == 0);
        CERRNO(mq_open(names[0], O_RDONLY), EACCES);
        mqd_t r = mq_open(names[1], O_RDONLY);
        CCHECK(r >= 0);
        CERRNO(mq_open(names[1], O_WRONLY), EACCES);
        CERRNO(mq_open(names[1], O_RDWR), EACCES);
        /* The directory is sticky: only the owner (or root) removes a queue. */
        CERRNO(mq_unlink(names[1]), EACCES);
        /* A creator may open its new queue whatever the mode. */
        mqd_t mine = mq_open(names[2], O_CREAT | O_RDWR, 0, NULL);
        CCHECK(mine >= 0);
        struct stat st;
        CCHECK(fstat(mine, &st) == 0 && st.st_uid == NOBODY && st.st_gid == NOBODY && (st.st_mode & 0777) == 0);
        CCHECK(mq_send(mine, "x", 1, 0) == 0);
        CERRNO(mq_open(names[2], O_RDONLY), EACCES);
        CCHECK(mq_unlink(names[2]) == 0);
        _exit(0);
    }
    qname(2);
    CHECK_EXITED(pid, 0);
    mq_close(priv);
    mq_close(shared);
}
TEST(permissions) { permissions_(); cleanup(); }

static void queues_max_enospc_(void)
{
    if (geteuid() != 0)
        SKIP("needs root to become uid 65534");
    int p[2];
    CHECK_OK(pipe(p));
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        close(p[0]);
        CCHECK(setgid(NOBODY) == 0 && setuid(NOBODY) == 0);
        struct mq_attr a = {.mq_maxmsg = 1, .mq_msgsize = 1};
        char n[64];
        int made = 0, err = 0;
        for (int i = 0; i < 300; i++) {
            snprintf(n, sizeof n, "/mqt-%d-max-%d", (int)getppid(), i);
            mqd_t q = mq_open(n, O_CREAT | O_RDWR, 0600, &a);
            if (q < 0) {
                err = errno;
                break;
            }
            close(q);
            made++;
        }
        for (int i = 0; i < made; i++) {
            snprintf(n, sizeof n, "/mqt-%d-max-%d", (int)getppid(), i);
            mq_unlink(n);
        }
        dprintf(p[1], "%d %d", made, err);
        _exit(0);
    }
    close(p[1]);
    char buf[32] = {0};
    CHECK(read(p[0], buf, sizeof buf - 1) > 0);
    close(p[0]);
    CHECK_CHILD_OK(pid);
    int made = 0, err = 0;
    CHECK_EQ(sscanf(buf, "%d %d", &made, &err), 2);
    CHECK_EQ(err, ENOSPC);
    CHECK(made > 0 && made <= 256);
}
TEST(queues_max_enospc) { queues_max_enospc_(); cleanup(); }

/* RLIMIT_MSGQUEUE: a queue charges its creator's real uid maxmsg * msgsize plus 96 bytes of
 * bookkeeping per message (x86-64 Linux: 10 x 8192 -> 82880); EMFILE beyond the limit, and an
 * unlinked queue stays charged until its last descriptor is closed. */
static void rlimit_msgqueue_(void)
{
    if (geteuid() != 0)
        SKIP("needs root to become uid 65534");
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        CCHECK(setgid(NOBODY) == 0 && setuid(NOBODY) == 0);
        struct rlimit rl = {.rlim_cur = 2 * 82880 + 100, .rlim_max = 2 * 82880 + 100};
        CCHECK(setrlimit(RLIMIT_MSGQUEUE, &rl) == 0);
        char n[5][64];
        for (int i = 0; i < 5; i++)
            snprintf(n[i], sizeof n[i], "/mqt-%d-rl-%d", (int)getppid(), i);
        mqd_t a = mq_open(n[0], O_CREAT | O_RDWR, 0600, NULL);
        CCHECK(a >= 0);
        mqd_t b = mq_open(n[1], O_CREAT | O_RDWR, 0600, NULL);
        CCHECK(b >= 0);
        CERRNO(mq_open(n[2], O_CREAT | O_RDWR, 0600, NULL), EMFILE);
        struct mq_attr tiny = {.mq_maxmsg = 1, .mq_msgsize = 1};
        mqd_t c = mq_open(n[3], O_CREAT | O_RDWR, 0600, &tiny); /* 97 bytes: fits */
        CCHECK(c >= 0);
        CERRNO(mq_open(n[4], O_CREAT | O_RDWR, 0600, &tiny), EMFILE);
        CCHECK(mq_unlink(n[1]) == 0);
        CERRNO(mq_open(n[2], O_CREAT | O_RDWR, 0600, NULL), EMFILE);
        CCHECK(mq_close(b) == 0);
        mqd_t d = mq_open(n[2], O_CREAT | O_RDWR, 0600, NULL);
        CCHECK(d >= 0);
        for (int i = 0; i < 5; i++)
            mq_unlink(n[i]);
        _exit(0);
    }
    CHECK_EXITED(pid, 0);
}
TEST(rlimit_msgqueue) { rlimit_msgqueue_(); cleanup(); }

static int field(const char *line, const char *key)
{
    const char *p = strstr(line, key);
    return p ? atoi(p + strlen(key)) : -1;
}

static void notify_signal_(void)
{
    mqd_t q = make(0, 4, 16);
    CHECK_OK(q);
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR2);
    sigprocmask(SIG_BLOCK, &set, &old);
    struct sigevent ev = {.sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGUSR2};
    ev.sigev_value.sival_int = 4242;
    CHECK_OK(mq_notify(q, &ev));
    char line[128];
    CHECK_EQ(status_line(q, line, sizeof line), 60);
    CHECK_EQ(field(line, "NOTIFY:"), SIGEV_SIGNAL);
    CHECK_EQ(field(line, "SIGNO:"), SIGUSR2);
    CHECK_EQ(field(line, "NOTIFY_PID:"), getpid());
    CHECK_ERRNO(mq_notify(q, &ev), EBUSY);
    /* A child sends: the signal says who. */
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        CCHECK(mq_send(q, "hi", 2, 0) == 0);
        _exit(0);
    }
    CHECK_CHILD_OK(pid);
    struct timespec zero = {0, 0};
    siginfo_t si;
    CHECK_EQ(sigtimedwait(&set, &si, &zero), SIGUSR2);
    CHECK_EQ(si.si_code, SI_MESGQ);
    CHECK_EQ(si.si_pid, pid);
    CHECK_EQ(si.si_uid, getuid());
    CHECK_EQ(si.si_value.sival_int, 4242);
    /* One-shot: gone after it fired. */
    CHECK_EQ(status_line(q, line, sizeof line), 60);
    CHECK_EQ(field(line, "NOTIFY_PID:"), 0);
    CHECK_EQ(field(line, "QSIZE:"), 2);
    /* Only empty -> non-empty notifies. */
    CHECK_OK(mq_notify(q, &ev));
    CHECK_OK(mq_send(q, "x", 1, 0));
    CHECK_ERRNO(sigtimedwait(&set, &si, &zero), EAGAIN);
    CHECK_EQ(status_line(q, line, sizeof line), 60);
    CHECK_EQ(field(line, "NOTIFY_PID:"), getpid());
    char buf[16];
    CHECK_EQ(mq_receive(q, buf, sizeof buf, NULL), 2);
    CHECK_EQ(mq_receive(q, buf, sizeof buf, NULL), 1);
    CHECK_OK(mq_send(q, "y", 1, 0));
    CHECK_EQ(sigtimedwait(&set, &si, &zero), SIGUSR2);
    CHECK_EQ(si.si_pid, getpid());
    CHECK_EQ(mq_receive(q, buf, sizeof buf, NULL), 1);
    /* Not when a receiver is waiting: the message goes to it, the registration stays. */
    CHECK_OK(mq_notify(q, &ev));
    pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        char b[16];
        CCHECK(mq_receive(q, b, sizeof b, NULL) == 1);
        _exit(0);
    }
    CHECK(wait_sleeping(pid));
    CHECK_OK(mq_send(q, "z", 1, 0));
    CHECK_CHILD_OK(pid);
    CHECK_ERRNO(sigtimedwait(&set, &si, &zero), EAGAIN);
    CHECK_EQ(status_line(q, line, sizeof line), 60);
    CHECK_EQ(field(line, "NOTIFY_PID:"), getpid());
    CHECK_OK(mq_notify(q, NULL));
    CHECK_EQ(status_line(q, line, sizeof line), 60);
    CHECK_EQ(field(line, "NOTIFY_PID:"), 0);
    sigprocmask(SIG_SETMASK, &old, NULL);
    mq_close(q);
}
TEST(notify_signal) { notify_signal_(); cleanup(); }

static void notify_registration_rules_(void)
{
    mqd_t q = make(0, 4, 16);
    CHECK_OK(q);
    struct sigevent none = {.sigev_notify = SIGEV_NONE};
    CHECK_OK(mq_notify(q, &none));
    char line[128];
    CHECK_EQ(status_line(q, line, sizeof line), 60);
    CHECK_EQ(field(line, "NOTIFY:"), SIGEV_NONE);
    CHECK_EQ(field(line, "SIGNO:"), 0);
    CHECK_EQ(field(line, "NOTIFY_PID:"), getpid());
    /* Another process: EBUSY, and its NULL leaves our registration alone. */
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        struct sigevent ev = {.sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGUSR1};
        CERRNO(mq_notify(q, &ev), EBUSY);
        CCHECK(mq_notify(q, NULL) == 0);
        _exit(0);
    }
    CHECK_CHILD_OK(pid);
    CHECK_EQ(status_line(q, line, sizeof line), 60);
    CHECK_EQ(field(line, "NOTIFY_PID:"), getpid());
    /* SIGEV_NONE is consumed by the first message like a signal would be. */
    CHECK_OK(mq_send(q, "a", 1, 0));
    CHECK_EQ(status_line(q, line, sizeof line), 60);
    CHECK_EQ(field(line, "NOTIFY_PID:"), 0);
    /* Closing any descriptor of the queue ends the owner's registration. */
    CHECK_OK(mq_notify(q, &none));
    mqd_t other = mq_open(qname(0), O_RDONLY);
    CHECK_OK(other);
    CHECK_OK(mq_close(other));
    CHECK_EQ(status_line(q, line, sizeof line), 60);
    CHECK_EQ(field(line, "NOTIFY_PID:"), 0);
    /* Bad requests. */
    struct sigevent bad = {.sigev_notify = 4 /* SIGEV_THREAD_ID */, .sigev_signo = SIGUSR1};
    CHECK_ERRNO(mq_notify(q, &bad), EINVAL);
    bad.sigev_notify = SIGEV_SIGNAL;
    bad.sigev_signo = 65;
    CHECK_ERRNO(mq_notify(q, &bad), EINVAL);
    CHECK_ERRNO(syscall(SYS_mq_notify, q, bad_ptr(8)), EFAULT);
    /* Signal 0 is accepted (and never sent). */
    bad.sigev_signo = 0;
    CHECK_OK(mq_notify(q, &bad));
    CHECK_OK(mq_notify(q, NULL));
    /* SIGEV_THREAD wants a netlink socket in sigev_signo (raw syscall: the C library would
     * make one): a bad fd, a pipe, a unix socket. */
    char cookie[32] = {0};
    struct sigevent th = {.sigev_notify = SIGEV_THREAD};
    th.sigev_value.sival_ptr = cookie;
    th.sigev_signo = 1000;
    CHECK_ERRNO(syscall(SYS_mq_notify, q, &th), EBADF);
    int p[2];
    CHECK_OK(pipe(p));
    th.sigev_signo = p[0];
    CHECK_ERRNO(syscall(SYS_mq_notify, q, &th), ENOTSOCK);
    int sv[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    th.sigev_signo = sv[0];
    CHECK_ERRNO(syscall(SYS_mq_notify, q, &th), EINVAL);
    th.sigev_value.sival_ptr = bad_ptr(8);
    CHECK_ERRNO(syscall(SYS_mq_notify, q, &th), EFAULT);
    close(p[0]);
    close(p[1]);
    close(sv[0]);
    close(sv[1]);
    mq_close(q);
}
TEST(notify_registration_rules) { notify_registration_rules_(); cleanup(); }

static short revents(int fd, short events)
{
    struct pollfd p = {.fd = fd, .events = events};
    if (poll(&p, 1, 0) < 0)
        return -1;
    return p.revents;
}

static void readiness_(void)
{
    mqd_t q = make(0, 2, 16);
    CHECK_OK(q);
    CHECK_EQ(revents(q, POLLIN | POLLOUT), POLLOUT);
    CHECK_OK(mq_send(q, "a", 1, 0));
    CHECK_EQ(revents(q, POLLIN | POLLOUT), POLLIN | POLLOUT);
    CHECK_OK(mq_send(q, "b", 1, 0));
    CHECK_EQ(revents(q, POLLIN | POLLOUT), POLLIN);
    /* A write-only descriptor reports the same. */
    mqd_t w = mq_open(qname(0), O_WRONLY);
    CHECK_OK(w);
    CHECK_EQ(revents(w, POLLIN | POLLOUT), POLLIN);
    fd_set rs, ws;
    FD_ZERO(&rs);
    FD_ZERO(&ws);
    FD_SET(q, &rs);
    FD_SET(q, &ws);
    struct timeval tv = {0, 0};
    CHECK_EQ(select(q + 1, &rs, &ws, NULL, &tv), 1);
    CHECK(FD_ISSET(q, &rs));
    CHECK(!FD_ISSET(q, &ws));
    char buf[16];
    CHECK_EQ(mq_receive(q, buf, sizeof buf, NULL), 1);
    CHECK_EQ(mq_receive(q, buf, sizeof buf, NULL), 1);
    /* epoll: a wait woken by a child's send. */
    int ep = epoll_create1(EPOLL_CLOEXEC);
    CHECK_OK(ep);
    struct epoll_event e = {.events = EPOLLIN, .data.u32 = 77};
    CHECK_OK(epoll_ctl(ep, EPOLL_CTL_ADD, q, &e));
    CHECK_EQ(epoll_wait(ep, &e, 1, 0), 0);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        CCHECK(wait_sleeping(getppid()));
        CCHECK(mq_send(q, "c", 1, 0) == 0);
        _exit(0);
    }
    struct epoll_event got;
    int n;
    do
        n = epoll_wait(ep, &got, 1, 20000);
    while (n < 0 && errno == EINTR);
    CHECK_EQ(n, 1);
    CHECK_EQ(got.data.u32, 77);
    CHECK_EQ(got.events, EPOLLIN);
    CHECK_CHILD_OK(pid);
    /* A blocked poll for POLLOUT is woken by a receive. */
    CHECK_OK(mq_send(q, "d", 1, 0));
    pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        char b[16];
        CCHECK(wait_sleeping(getppid()));
        CCHECK(mq_receive(q, b, sizeof b, NULL) == 1);
        _exit(0);
    }
    struct pollfd pf = {.fd = w, .events = POLLOUT};
    do
        n = poll(&pf, 1, 20000);
    while (n < 0 && errno == EINTR);
    CHECK_EQ(n, 1);
    CHECK_EQ(pf.revents, POLLOUT);
    CHECK_CHILD_OK(pid);
    close(ep);
    mq_close(w);
    mq_close(q);
}
TEST(poll_select_epoll) { readiness_(); cleanup(); }

static void fork_inherits_(void)
{
    mqd_t q = make(0, 4, 16);
    CHECK_OK(q);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        struct mq_attr a;
        CCHECK(mq_getattr(q, &a) == 0 && a.mq_maxmsg == 4);
        CCHECK(mq_send(q, "child", 5, 2) == 0);
        _exit(0);
    }
    CHECK_CHILD_OK(pid);
    char buf[16];
    unsigned p;
    CHECK_EQ(mq_receive(q, buf, sizeof buf, &p), 5);
    CHECK_EQ(p, 2);
    mq_close(q);
}
TEST(fork_inherits) { fork_inherits_(); cleanup(); }

/* Is `dir` listed with type mqueue in /proc/mounts? */
static int mounted_as_mqueue(const char *dir)
{
    FILE *f = fopen("/proc/mounts", "r");
    if (!f)
        return 0;
    char src[256], path[512], type[64];
    int found = 0;
    while (fscanf(f, "%255s %511s %63s %*[^\n]", src, path, type) == 3)
        if (strcmp(path, dir) == 0 && strcmp(type, "mqueue") == 0)
            found = 1;
    fclose(f);
    return found;
}

static void mqueue_file_system_(void)
{
    if (geteuid() != 0)
        SKIP("needs root to mount");
    /* Where the system mounts it (POSIX-X always; a Linux host may not have it). */
    struct statfs sf;
    if (statfs("/dev/mqueue", &sf) == 0)
        CHECK_EQ(sf.f_type, MQUEUE_MAGIC);
    char dir[64];
    snprintf(dir, sizeof dir, "/tmp/mqt-mnt-%d", (int)getpid());
    CHECK_OK(mkdir(dir, 0755));
    if (mount("mqueue", dir, "mqueue", 0, NULL) != 0) {
        int e = errno;
        rmdir(dir);
        FAIL("mount mqueue: %s", strerror(e));
    }
    CHECK(mounted_as_mqueue(dir));
    CHECK_OK(statfs(dir, &sf));
    CHECK_EQ(sf.f_type, MQUEUE_MAGIC);
    struct stat st;
    CHECK_OK(stat(dir, &st));
    CHECK_EQ(st.st_mode, S_IFDIR | 01777);
    mqd_t q = make(0, 4, 16);
    CHECK_OK(q);
    CHECK_OK(mq_send(q, "abcdef", 6, 1));
    /* The queue is a file there: listed, stat-able, readable. */
    DIR *d = opendir(dir);
    CHECK(d != NULL);
    int seen = 0;
    struct dirent *de;
    while ((de = readdir(d)))
        if (strcmp(de->d_name, qname(0) + 1) == 0 && de->d_type == DT_REG)
            seen = 1;
    closedir(d);
    CHECK(seen);
    char path[160];
    snprintf(path, sizeof path, "%s%s", dir, qname(0));
    CHECK_OK(stat(path, &st));
    CHECK_EQ(st.st_mode, S_IFREG | 0600);
    CHECK_EQ(st.st_size, 80);
    int fd = open(path, O_RDWR);
    CHECK_OK(fd);
    char line[128];
    CHECK_EQ(read(fd, line, sizeof line), 60);
    line[60] = 0;
    CHECK(strncmp(line, "QSIZE:6 ", 8) == 0);
    /* An open(2)ed queue file is a queue descriptor. */
    CHECK_OK(mq_send(fd, "gh", 2, 3));
    char buf[16];
    CHECK_EQ(mq_receive(q, buf, sizeof buf, NULL), 2);
    close(fd);
    /* open(O_CREAT) there makes a queue with the default attributes. */
    char made[160];
    snprintf(made, sizeof made, "%s%s", dir, qname(1));
    fd = open(made, O_CREAT | O_RDWR, 0600);
    CHECK_OK(fd);
    struct mq_attr a;
    CHECK_OK(mq_getattr(fd, &a));
    CHECK_EQ(a.mq_maxmsg, 10);
    CHECK_EQ(a.mq_msgsize, 8192);
    close(fd);
    mqd_t q1 = mq_open(qname(1), O_RDONLY);
    CHECK_OK(q1);
    mq_close(q1);
    /* Only queues live there. */
    char sub[160];
    snprintf(sub, sizeof sub, "%s/sub", dir);
    CHECK_ERRNO(mkdir(sub, 0755), EPERM);
    /* unlink(2) is mq_unlink. */
    CHECK_OK(unlink(path));
    CHECK_ERRNO(mq_open(qname(0), O_RDWR), ENOENT);
    CHECK_ERRNO(stat(path, &st), ENOENT);
    CHECK_OK(mq_send(q, "x", 1, 0));
    mq_close(q);
    CHECK_OK(umount(dir));
    CHECK_OK(rmdir(dir));
}
TEST(mqueue_file_system) { mqueue_file_system_(); cleanup(); }
