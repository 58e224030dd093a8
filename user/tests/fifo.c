/* fifo.c - named pipes: mkfifo/mknod(S_IFIFO)/mknodat in the scratch directory (S_ISFIFO, mode
 * under umask, EEXIST, ENOENT), Linux's open rules (O_RDONLY blocks until a writer opens,
 * O_WRONLY until a reader opens, O_RDONLY|O_NONBLOCK succeeds at once, O_WRONLY|O_NONBLOCK
 * without a reader fails ENXIO, O_RDWR never blocks, a blocked open is interrupted by a
 * handled signal), data and EOF between two processes, EOF only after every writer closed,
 * EPIPE when the reader is gone, the FIFO keeping working after unlink, content discarded when
 * the last end closes, F_GETPIPE_SZ and fstat/stat (same inode as the path), ESPIPE, and no
 * POLLHUP for a reader that has never seen a writer. (A FIFO between two background jobs of a
 * shell is covered by the shell tests, not here.)
 * Where a process must be blocked in open before its peer acts, the peer waits until
 * /proc/<pid>/stat shows it sleeping ('S'); nothing depends on timing.
 * Files live in a mkdtemp("/tmp/ptest.XXXXXX") directory removed at exit.
 * Syscalls: mknodat (mkfifo, mknod), openat, read, write, close, unlink, fstat, newfstatat,
 * fcntl (F_GETPIPE_SZ), lseek, poll, umask, fork, wait4, kill, rt_sigaction, rt_sigprocmask.
 */
#define _GNU_SOURCE
#define TEST_MAIN
#include "test.h"

#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include "children.h"
#include "scratch.h"

static int readable_within(int fd, int ms)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int r;
    do
        r = poll(&p, 1, ms);
    while (r < 0 && errno == EINTR);
    return r < 0 ? -1 : r > 0;
}

/* A new FIFO "f" in a fresh directory; its path, or NULL. */
static const char *new_fifo(void)
{
    const char *d = newdir();
    if (!d)
        return NULL;
    const char *f = P(d, "f");
    return mkfifo(f, 0600) == 0 ? f : NULL;
}

/* ================= creation ================= */

TEST(mkfifo_creates_a_fifo_with_the_mode_under_umask)
{
    const char *d = newdir();
    CHECK(d != NULL);
    mode_t old = umask(022);
    int r = mkfifo(P(d, "f"), 0666);
    umask(old);
    CHECK_OK(r);
    struct stat st;
    CHECK_OK(stat(P(d, "f"), &st));
    CHECK(S_ISFIFO(st.st_mode));
    CHECK_EQ(st.st_mode & 07777, 0644);
    CHECK_EQ(st.st_size, 0);
    CHECK_EQ(st.st_nlink, 1);
}

TEST(mknod_and_mknodat_with_s_ififo)
{
    const char *d = newdir();
    CHECK(d != NULL);
    mode_t old = umask(022);
    int r0 = mknod(P(d, "a"), S_IFIFO | 0600, 0);
    int dfd = open(d, O_RDONLY | O_DIRECTORY);
    int r = dfd >= 0 ? mknodat(dfd, "b", S_IFIFO | 0640, 0) : -1;
    if (dfd >= 0)
        close(dfd);
    umask(old);
    CHECK_OK(r0);
    CHECK_OK(dfd);
    CHECK_OK(r);
    struct stat a, b;
    CHECK_OK(stat(P(d, "a"), &a));
    CHECK_OK(stat(P(d, "b"), &b));
    CHECK(S_ISFIFO(a.st_mode));
    CHECK(S_ISFIFO(b.st_mode));
    CHECK_EQ(b.st_mode & 07777, 0640);
}

TEST(mkfifo_errors_eexist_and_enoent)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(mkfifo(P(d, "f"), 0600));
    CHECK_ERRNO(mkfifo(P(d, "f"), 0600), EEXIST);
    int fd = open(P(d, "reg"), O_WRONLY | O_CREAT, 0644);
    CHECK_OK(fd);
    close(fd);
    CHECK_ERRNO(mkfifo(P(d, "reg"), 0600), EEXIST);
    CHECK_ERRNO(mkfifo(P(d, "missing/f"), 0600), ENOENT);
}

/* ================= open rules ================= */

TEST(open_rdonly_blocks_until_a_writer_opens)
{
    const char *f = new_fifo();
    CHECK(f != NULL);
    pid_t parent = getpid();
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        CCHECK(wait_sleeping(parent)); /* the parent sleeps in open */
        int w = open(f, O_WRONLY);
        CCHECK(w >= 0);
        CCHECK(write(w, "hi", 2) == 2);
        _exit(0);
    }
    int r = open(f, O_RDONLY);
    char buf[8] = {0};
    ssize_t n1 = r >= 0 ? read(r, buf, sizeof buf) : -1;
    ssize_t n2 = r >= 0 ? read(r, buf + 4, sizeof buf - 4) : -1; /* EOF once it exits */
    if (r >= 0)
        close(r);
    CHECK_EXITED(pid, 0);
    CHECK_OK(r);
    CHECK_EQ(n1, 2);
    CHECK(memcmp(buf, "hi", 2) == 0);
    CHECK_EQ(n2, 0);
}

TEST(open_wronly_blocks_until_a_reader_opens)
{
    const char *f = new_fifo();
    CHECK(f != NULL);
    pid_t parent = getpid();
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        CCHECK(wait_sleeping(parent));
        int r = open(f, O_RDONLY);
        CCHECK(r >= 0);
        char buf[8] = {0};
        CCHECK(read(r, buf, sizeof buf) == 3 && memcmp(buf, "abc", 3) == 0);
        _exit(0);
    }
    int w = open(f, O_WRONLY);
    ssize_t n = w >= 0 ? write(w, "abc", 3) : -1;
    if (w >= 0)
        close(w);
    CHECK_EXITED(pid, 0);
    CHECK_OK(w);
    CHECK_EQ(n, 3);
}

TEST(blocked_open_rdonly_stays_blocked_until_the_writer_comes)
{
    const char *f = new_fifo();
    CHECK(f != NULL);
    int st[2];
    CHECK_OK(pipe(st));
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        close(st[0]);
        int r = open(f, O_RDONLY);
        CCHECK(r >= 0);
        CCHECK(write(st[1], "o", 1) == 1);
        char c;
        CCHECK(read(r, &c, 1) == 1 && c == 'd');
        _exit(0);
    }
    close(st[1]);
    int early = readable_within(st[0], 200); /* no writer yet: still in open */
    int w = open(f, O_WRONLY);               /* a reader is waiting: does not block */
    int later = readable_within(st[0], 10000);
    int o = later == 1 ? read_byte(st[0]) : -1;
    ssize_t n = w >= 0 ? write(w, "d", 1) : -1;
    if (w >= 0)
        close(w);
    close(st[0]);
    if (early != 0 || w < 0)
        kill(pid, SIGKILL);
    int s = child_status(pid);
    CHECK_EQ(early, 0);
    CHECK_OK(w);
    CHECK_EQ(later, 1);
    CHECK_EQ(o, 'o');
    CHECK_EQ(n, 1);
    CHECK_EQ(s, 0);
}

TEST(open_rdonly_nonblock_succeeds_at_once_and_reads_eof)
{
    const char *f = new_fifo();
    CHECK(f != NULL);
    int r = open(f, O_RDONLY | O_NONBLOCK);
    CHECK_OK(r);
    char c;
    ssize_t n = read(r, &c, 1);
    close(r);
    CHECK_EQ(n, 0); /* no writer: end of file, not EAGAIN */
}

TEST(open_wronly_nonblock_without_reader_enxio)
{
    const char *f = new_fifo();
    CHECK(f != NULL);
    CHECK_ERRNO(open(f, O_WRONLY | O_NONBLOCK), ENXIO);
    int r = open(f, O_RDONLY | O_NONBLOCK);
    CHECK_OK(r);
    int w = open(f, O_WRONLY | O_NONBLOCK); /* with a reader it works */
    int e = errno;
    ssize_t n = w >= 0 ? write(w, "k", 1) : -1;
    char c = 0;
    ssize_t m = read(r, &c, 1);
    if (w >= 0)
        close(w);
    close(r);
    if (w < 0)
        FAIL("open O_WRONLY|O_NONBLOCK with a reader: %s", test_errno_name(e));
    CHECK_EQ(n, 1);
    CHECK_EQ(m, 1);
    CHECK_EQ(c, 'k');
}

TEST(open_rdwr_never_blocks_and_talks_to_itself)
{
    const char *f = new_fifo();
    CHECK(f != NULL);
    int fd = open(f, O_RDWR);
    CHECK_OK(fd);
    ssize_t w = write(fd, "self", 4);
    char buf[8] = {0};
    ssize_t r = read(fd, buf, sizeof buf);
    close(fd);
    CHECK_EQ(w, 4);
    CHECK_EQ(r, 4);
    CHECK(memcmp(buf, "self", 4) == 0);
}

static volatile int usr1_hits;
static void on_usr1(int sig) { (void)sig; usr1_hits++; }

TEST(blocked_fifo_open_is_interrupted_by_a_handled_signal)
{
    const char *f = new_fifo();
    CHECK(f != NULL);
    usr1_hits = 0;
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1; /* no SA_RESTART */
    CHECK_OK(sigaction(SIGUSR1, &sa, &old));
    pid_t parent = getpid();
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        CCHECK(wait_sleeping(parent));
        CCHECK(kill(parent, SIGUSR1) == 0);
        _exit(0);
    }
    errno = 0;
    int fd = open(f, O_WRONLY);
    int e = errno;
    if (fd >= 0)
        close(fd);
    sigaction(SIGUSR1, &old, NULL);
    CHECK_EXITED(pid, 0);
    CHECK_EQ(fd, -1);
    CHECK_EQ(e, EINTR);
    CHECK_EQ(usr1_hits, 1);
}

/* ================= data ================= */

TEST(data_flows_between_two_processes_then_eof)
{
    enum { N = 100 * 1024 };
    const char *f = new_fifo();
    CHECK(f != NULL);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        int w = open(f, O_WRONLY);
        CCHECK(w >= 0);
        static unsigned char out[N];
        for (int i = 0; i < N; i++)
            out[i] = (unsigned char)(i * 13 + 1);
        CCHECK(write(w, out, N) == N);
        _exit(0);
    }
    int r = open(f, O_RDONLY);
    static unsigned char in[N + 1];
    size_t got = 0;
    ssize_t n = 0;
    while (r >= 0 && got <= N && (n = read(r, in + got, N + 1 - got)) > 0)
        got += (size_t)n;
    if (r >= 0)
        close(r);
    CHECK_EXITED(pid, 0);
    CHECK_OK(r);
    CHECK_EQ(n, 0);
    CHECK_EQ(got, N);
    for (int i = 0; i < N; i++)
        if (in[i] != (unsigned char)(i * 13 + 1))
            FAIL("byte %d differs", i);
}

TEST(eof_only_after_every_writer_closed)
{
    const char *f = new_fifo();
    CHECK(f != NULL);
    int r = open(f, O_RDONLY | O_NONBLOCK);
    CHECK_OK(r);
    int w1 = open(f, O_WRONLY | O_NONBLOCK);
    int w2 = open(f, O_WRONLY);
    char c;
    close(w1);
    errno = 0;
    ssize_t a = read(r, &c, 1);
    int ea = errno;
    close(w2);
    ssize_t b = read(r, &c, 1);
    close(r);
    CHECK(w1 >= 0 && w2 >= 0);
    CHECK_EQ(a, -1);
    CHECK_EQ(ea, EAGAIN);
    CHECK_EQ(b, 0);
}

TEST(writer_gets_epipe_after_the_reader_closes)
{
    const char *f = new_fifo();
    CHECK(f != NULL);
    int r = open(f, O_RDONLY | O_NONBLOCK);
    CHECK_OK(r);
    int w = open(f, O_WRONLY | O_NONBLOCK);
    CHECK_OK(w);
    close(r);
    void (*old)(int) = signal(SIGPIPE, SIG_IGN);
    errno = 0;
    ssize_t n = write(w, "x", 1);
    int e = errno;
    signal(SIGPIPE, old);
    close(w);
    CHECK_EQ(n, -1);
    CHECK_EQ(e, EPIPE);
}

TEST(fifo_keeps_working_after_unlink)
{
    const char *f = new_fifo();
    CHECK(f != NULL);
    int r = open(f, O_RDONLY | O_NONBLOCK);
    CHECK_OK(r);
    int w = open(f, O_WRONLY);
    CHECK_OK(w);
    CHECK_OK(unlink(f));
    struct stat st;
    CHECK_ERRNO(stat(f, &st), ENOENT);
    ssize_t n = write(w, "still", 5);
    char buf[8] = {0};
    ssize_t m = read(r, buf, sizeof buf);
    close(w);
    ssize_t e = read(r, buf, sizeof buf);
    close(r);
    CHECK_EQ(n, 5);
    CHECK_EQ(m, 5);
    CHECK(memcmp(buf, "still", 5) == 0);
    CHECK_EQ(e, 0);
}

TEST(content_is_discarded_when_the_last_end_closes)
{
    const char *f = new_fifo();
    CHECK(f != NULL);
    int fd = open(f, O_RDWR);
    CHECK_OK(fd);
    CHECK_EQ(write(fd, "lost", 4), 4);
    close(fd);
    fd = open(f, O_RDWR | O_NONBLOCK);
    CHECK_OK(fd);
    char c;
    errno = 0;
    ssize_t n = read(fd, &c, 1);
    int e = errno;
    close(fd);
    CHECK_EQ(n, -1);
    CHECK_EQ(e, EAGAIN);
}

TEST(fifo_fd_has_pipe_size_inode_of_the_path_and_no_seek)
{
    const char *f = new_fifo();
    CHECK(f != NULL);
    int fd = open(f, O_RDWR);
    CHECK_OK(fd);
    struct stat a, b;
    int r1 = fstat(fd, &a);
    int r2 = stat(f, &b);
    long sz = fcntl(fd, F_GETPIPE_SZ);
    errno = 0;
    off_t l = lseek(fd, 0, SEEK_SET);
    int le = errno;
    close(fd);
    CHECK_EQ(r1, 0);
    CHECK_EQ(r2, 0);
    CHECK(S_ISFIFO(a.st_mode));
    CHECK_EQ(a.st_ino, b.st_ino);
    CHECK_EQ(a.st_dev, b.st_dev);
    CHECK_EQ(sz, 65536);
    CHECK_EQ(l, -1);
    CHECK_EQ(le, ESPIPE);
}

TEST(reader_that_never_saw_a_writer_gets_no_pollhup)
{
    const char *f = new_fifo();
    CHECK(f != NULL);
    int r = open(f, O_RDONLY | O_NONBLOCK);
    CHECK_OK(r);
    struct pollfd p = {.fd = r, .events = POLLIN};
    int n1 = poll(&p, 1, 0);
    short re1 = p.revents;
    int w = open(f, O_WRONLY | O_NONBLOCK);
    if (w >= 0)
        close(w); /* a writer came and went */
    p.revents = 0;
    int n2 = poll(&p, 1, 0);
    short re2 = p.revents;
    close(r);
    CHECK_EQ(n1, 0); /* Linux: no hang-up before any writer existed */
    CHECK_EQ(re1, 0);
    CHECK_OK(w);
    CHECK_EQ(n2, 1);
    CHECK(re2 & POLLHUP);
}
