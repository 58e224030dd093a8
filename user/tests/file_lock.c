/* file_lock.c - advisory file locks: fcntl record locks (F_GETLK/F_SETLK/F_SETLKW) owned by a
 * process, OFD locks (F_OFD_*) owned by an open file description, and flock(2).
 * Record locks: conflicts only between owners and only with a write lock on one side, what
 * F_GETLK reports (type, SEEK_SET range, l_len 0 for "to EOF", l_pid, -1 for OFD), an owner's
 * locks merging and splitting, ranges from SEEK_CUR/SEEK_END and negative lengths, F_SETLKW
 * sleeping until the conflict goes, EINTR, EDEADLK between two processes, release on the close
 * of any descriptor of the file and at exit, no inheritance by fork, and the errors (EINVAL,
 * EBADF for the access mode and O_PATH, EOVERFLOW, EFAULT). OFD locks: conflicts between two
 * opens in one process, shared through dup and fork, kept until the last close. flock: shared
 * and exclusive, EWOULDBLOCK, blocking, conversion dropping the old lock first, shared by
 * dup/fork, released at the last close, independent of record locks, EINVAL/EBADF. /proc/locks
 * lists each kind in Linux's format.
 * Synchronisation: pipes and wait_sleeping(), never sleeps.
 * Syscalls: fcntl, flock, openat, close, dup, lseek, ftruncate, fork, wait4, pipe2, kill,
 * rt_sigaction.
 */
#define _GNU_SOURCE
#define TEST_MAIN
#include "test.h"

#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "children.h"
#include "scratch.h"

#ifndef F_OFD_GETLK
#define F_OFD_GETLK 36
#define F_OFD_SETLK 37
#define F_OFD_SETLKW 38
#endif

/* A fresh 100-byte file open O_RDWR. */
static int new_file(void)
{
    const char *dir = newdir();
    if (!dir)
        return -1;
    int fd = open(P(dir, "f"), O_RDWR | O_CREAT | O_EXCL, 0644);
    if (fd >= 0 && ftruncate(fd, 100) != 0)
        return -1;
    return fd;
}

/* The path of fd, to open it again. */
static const char *path_of(int fd)
{
    static char buf[256];
    char link[64];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, buf, sizeof buf - 1);
    buf[n < 0 ? 0 : n] = '\0';
    return buf;
}

static int lk(int fd, int cmd, short type, off_t start, off_t len)
{
    struct flock fl = {.l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len};
    return fcntl(fd, cmd, &fl);
}

/* F_GETLK (or F_OFD_GETLK) for `type` over start/len: the flock it reports. */
static struct flock getlk(int fd, int cmd, short type, off_t start, off_t len)
{
    struct flock fl = {.l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len};
    if (fcntl(fd, cmd, &fl) != 0)
        fl.l_type = -1;
    return fl;
}

static void on_signal(int sig) { (void)sig; }

TEST(record_lock_conflicts_between_processes)
{
    int fd = new_file();
    CHECK(fd >= 0);
    CHECK_OK(lk(fd, F_SETLK, F_WRLCK, 0, 100));
    pid_t parent = getpid();
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        CERRNO(lk(fd, F_SETLK, F_WRLCK, 50, 11), EAGAIN);
        CERRNO(lk(fd, F_SETLK, F_RDLCK, 99, 1), EAGAIN);
        CCHECK(lk(fd, F_SETLK, F_RDLCK, 100, 100) == 0); /* just past the end of it */
        struct flock fl = getlk(fd, F_GETLK, F_RDLCK, 0, 10);
        CCHECK(fl.l_type == F_WRLCK && fl.l_whence == SEEK_SET);
        CCHECK(fl.l_start == 0 && fl.l_len == 100 && fl.l_pid == parent);
        _exit(0);
    }
    CHECK_CHILD_OK(pid);
    close(fd);
}

/* A lock storm: 10,000 records of one process (every other byte, kinds alternating), then
 * another process tests and takes what lies between, a write lock over the middle replaces
 * 1,000 of them, and one unlock drops them all. Each call costs a logarithm here (Linux scans
 * its list), so the storm passes in seconds on POSIX-X under emulation too. */
#define STORM 10000
TEST(a_lock_storm_of_ten_thousand_records)
{
    int fd = new_file();
    CHECK(fd >= 0);
    for (int i = 0; i < STORM; i++)
        CHECK_OK(lk(fd, F_SETLK, i % 2 ? F_WRLCK : F_RDLCK, 2 * i, 1));
    pid_t parent = getpid();
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        for (int i = 0; i < STORM; i += 97) {
            struct flock fl = getlk(fd, F_GETLK, F_RDLCK, 2 * i, 2);
            if (i % 2) {
                CCHECK(fl.l_type == F_WRLCK && fl.l_start == 2 * i && fl.l_len == 1);
                CCHECK(fl.l_pid == parent);
            } else {
                CCHECK(fl.l_type == F_UNLCK);
            }
            /* The byte between two of the parent's records is free. */
            CCHECK(lk(fd, F_SETLK, F_WRLCK, 2 * i + 1, 1) == 0);
        }
        _exit(0);
    }
    CHECK_CHILD_OK(pid);
    /* One write lock over 2,000 bytes replaces the 1,000 records there. */
    CHECK_OK(lk(fd, F_SETLK, F_WRLCK, 10000, 2000));
    pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        struct flock fl = getlk(fd, F_GETLK, F_RDLCK, 10001, 1);
        CCHECK(fl.l_type == F_WRLCK && fl.l_start == 10000 && fl.l_len == 2000);
        CERRNO(lk(fd, F_SETLK, F_RDLCK, 2 * (STORM - 1) - 2, 3), EAGAIN);
        _exit(0);
    }
    CHECK_CHILD_OK(pid);
    CHECK_OK(lk(fd, F_SETLK, F_UNLCK, 0, 0));
    pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        CCHECK(lk(fd, F_SETLK, F_WRLCK, 0, 0) == 0);
        _exit(0);
    }
    CHECK_CHILD_OK(pid);
    close(fd);
}

TEST(readers_share_a_writer_does_not)
{
    int fd = new_file();
    CHECK(fd >= 0);
    CHECK_OK(lk(fd, F_SETLK, F_RDLCK, 0, 0));
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        CCHECK(lk(fd, F_SETLK, F_RDLCK, 10, 10) == 0);
        CERRNO(lk(fd, F_SETLK, F_WRLCK, 30, 1), EAGAIN);
        struct flock fl = getlk(fd, F_GETLK, F_WRLCK, 500, 1);
        CCHECK(fl.l_type == F_RDLCK && fl.l_start == 0 && fl.l_len == 0); /* to EOF */
        _exit(0);
    }
    CHECK_CHILD_OK(pid);
    close(fd);
}

TEST(getlk_without_conflict_changes_only_the_type)
{
    int fd = new_file();
    CHECK(fd >= 0);
    CHECK_OK(lk(fd, F_SETLK, F_WRLCK, 0, 0));
    /* Our own locks never conflict with us. */
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_CUR, .l_start = 7, .l_len = 3, .l_pid = 12345};
    CHECK_OK(fcntl(fd, F_GETLK, &fl));
    CHECK_EQ(fl.l_type, F_UNLCK);
    CHECK_EQ(fl.l_whence, SEEK_CUR);
    CHECK_EQ(fl.l_start, 7);
    CHECK_EQ(fl.l_len, 3);
    CHECK_EQ(fl.l_pid, 12345);
    close(fd);
}

TEST(an_owners_locks_split_and_merge)
{
    int fd = new_file();
    CHECK(fd >= 0);
    CHECK_OK(lk(fd, F_SETLK, F_WRLCK, 0, 100));
    CHECK_OK(lk(fd, F_SETLK, F_RDLCK, 40, 20)); /* splits the write lock in two */
    CHECK_OK(lk(fd, F_SETLK, F_UNLCK, 90, 5));  /* punches a hole */
    CHECK_OK(lk(fd, F_SETLK, F_WRLCK, 200, 10));
    CHECK_OK(lk(fd, F_SETLK, F_WRLCK, 210, 10)); /* touches: one lock 200..219 */
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        struct flock a = getlk(fd, F_GETLK, F_RDLCK, 0, 0);
        CCHECK(a.l_type == F_WRLCK && a.l_start == 0 && a.l_len == 40);
        struct flock b = getlk(fd, F_GETLK, F_RDLCK, 40, 20);
        CCHECK(b.l_type == F_UNLCK);
        struct flock c = getlk(fd, F_GETLK, F_WRLCK, 40, 20);
        CCHECK(c.l_type == F_RDLCK && c.l_start == 40 && c.l_len == 20);
        struct flock d = getlk(fd, F_GETLK, F_RDLCK, 60, 40);
        CCHECK(d.l_type == F_WRLCK && d.l_start == 60 && d.l_len == 30);
        struct flock e = getlk(fd, F_GETLK, F_RDLCK, 90, 5);
        CCHECK(e.l_type == F_UNLCK);
        struct flock f = getlk(fd, F_GETLK, F_RDLCK, 95, 1000);
        CCHECK(f.l_type == F_WRLCK && f.l_start == 95 && f.l_len == 5);
        struct flock g = getlk(fd, F_GETLK, F_RDLCK, 150, 0);
        CCHECK(g.l_type == F_WRLCK && g.l_start == 200 && g.l_len == 20);
        _exit(0);
    }
    CHECK_CHILD_OK(pid);
    close(fd);
}

TEST(ranges_from_seek_cur_seek_end_and_negative_lengths)
{
    int fd = new_file();
    CHECK(fd >= 0);
    CHECK_EQ(lseek(fd, 10, SEEK_SET), 10);
    struct flock cur = {.l_type = F_WRLCK, .l_whence = SEEK_CUR, .l_start = 5, .l_len = 5};
    CHECK_OK(fcntl(fd, F_SETLK, &cur)); /* 15..19 */
    struct flock end = {.l_type = F_WRLCK, .l_whence = SEEK_END, .l_start = -10, .l_len = 0};
    CHECK_OK(fcntl(fd, F_SETLK, &end)); /* 90..EOF */
    struct flock back = {.l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 40, .l_len = -10};
    CHECK_OK(fcntl(fd, F_SETLK, &back)); /* 30..39 */
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        struct flock a = getlk(fd, F_GETLK, F_WRLCK, 0, 25);
        CCHECK(a.l_type == F_WRLCK && a.l_start == 15 && a.l_len == 5);
        struct flock b = getlk(fd, F_GETLK, F_WRLCK, 25, 20);
        CCHECK(b.l_type == F_RDLCK && b.l_start == 30 && b.l_len == 10);
        struct flock c = getlk(fd, F_GETLK, F_RDLCK, 50, 0);
        CCHECK(c.l_type == F_WRLCK && c.l_start == 90 && c.l_len == 0);
        _exit(0);
    }
    CHECK_CHILD_OK(pid);
    close(fd);
}

TEST(setlkw_sleeps_until_the_lock_is_released)
{
    int fd = new_file();
    CHECK(fd >= 0);
    CHECK_OK(lk(fd, F_SETLK, F_WRLCK, 0, 1));
    int rep[2];
    CHECK_OK(pipe(rep));
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        close(rep[0]);
        CCHECK(lk(fd, F_SETLKW, F_WRLCK, 0, 1) == 0);
        write_byte(rep[1], 'g');
        _exit(0);
    }
    close(rep[1]);
    CHECK(wait_sleeping(pid));
    CHECK_OK(lk(fd, F_SETLK, F_UNLCK, 0, 0));
    CHECK_EQ(read_byte(rep[0]), 'g');
    CHECK_CHILD_OK(pid);
    close(rep[0]);
    close(fd);
}

TEST(setlkw_interrupted_by_a_handler_gives_eintr)
{
    int fd = new_file();
    CHECK(fd >= 0);
    CHECK_OK(lk(fd, F_SETLK, F_WRLCK, 0, 1));
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        struct sigaction sa = {.sa_handler = on_signal}; /* no SA_RESTART */
        CCHECK(sigaction(SIGUSR1, &sa, NULL) == 0);
        CERRNO(lk(fd, F_SETLKW, F_RDLCK, 0, 1), EINTR);
        _exit(0);
    }
    CHECK(wait_sleeping(pid));
    CHECK_OK(kill(pid, SIGUSR1));
    CHECK_CHILD_OK(pid);
    close(fd);
}

TEST(setlkw_deadlock_between_two_processes_gives_edeadlk)
{
    int fd = new_file();
    CHECK(fd >= 0);
    CHECK_OK(lk(fd, F_SETLK, F_WRLCK, 0, 1));
    int rep[2];
    CHECK_OK(pipe(rep));
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        close(rep[0]);
        CCHECK(lk(fd, F_SETLK, F_WRLCK, 1, 1) == 0);
        write_byte(rep[1], 'l');
        CCHECK(lk(fd, F_SETLKW, F_WRLCK, 0, 1) == 0); /* waits for the parent */
        write_byte(rep[1], 'g');
        _exit(0);
    }
    close(rep[1]);
    CHECK_EQ(read_byte(rep[0]), 'l');
    CHECK(wait_sleeping(pid));
    CHECK_ERRNO(lk(fd, F_SETLKW, F_WRLCK, 1, 1), EDEADLK);
    CHECK_OK(lk(fd, F_SETLK, F_UNLCK, 0, 1));
    CHECK_EQ(read_byte(rep[0]), 'g');
    CHECK_CHILD_OK(pid);
    close(rep[0]);
    close(fd);
}

TEST(closing_any_descriptor_of_the_file_drops_the_process_locks)
{
    int fd = new_file();
    CHECK(fd >= 0);
    int other = open(path_of(fd), O_RDONLY);
    CHECK(other >= 0);
    CHECK_OK(lk(fd, F_SETLK, F_WRLCK, 0, 10));
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        CERRNO(lk(fd, F_SETLK, F_WRLCK, 0, 1), EAGAIN);
        _exit(0);
    }
    CHECK_CHILD_OK(pid);
    CHECK_OK(close(other)); /* not the descriptor that took the lock */
    pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        CCHECK(lk(fd, F_SETLK, F_WRLCK, 0, 1) == 0);
        _exit(0);
    }
    CHECK_CHILD_OK(pid);
    close(fd);
}

TEST(dup2_over_a_descriptor_of_the_file_drops_the_locks_too)
{
    int fd = new_file();
    CHECK(fd >= 0);
    int other = open(path_of(fd), O_RDWR);
    CHECK(other >= 0);
    CHECK_OK(lk(other, F_SETLK, F_WRLCK, 0, 10));
    int devnull = open("/dev/null", O_RDONLY);
    CHECK(devnull >= 0);
    CHECK_EQ(dup2(devnull, other), other);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        CCHECK(lk(fd, F_SETLK, F_WRLCK, 0, 1) == 0);
        _exit(0);
    }
    CHECK_CHILD_OK(pid);
    close(devnull);
    close(other);
    close(fd);
}

TEST(record_locks_are_not_inherited_and_go_at_exit)
{
    int fd = new_file();
    CHECK(fd >= 0);
    int rep[2], go[2];
    CHECK_OK(pipe(rep));
    CHECK_OK(pipe(go));
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        close(rep[0]);
        close(go[1]);
        CCHECK(lk(fd, F_SETLK, F_WRLCK, 0, 1) == 0);
        write_byte(rep[1], 'l');
        read_byte(go[0]);
        _exit(0); /* without unlocking */
    }
    close(rep[1]);
    close(go[0]);
    CHECK_EQ(read_byte(rep[0]), 'l');
    struct flock fl = getlk(fd, F_GETLK, F_RDLCK, 0, 1);
    CHECK_EQ(fl.l_type, F_WRLCK);
    CHECK_EQ(fl.l_pid, pid);
    CHECK_ERRNO(lk(fd, F_SETLK, F_RDLCK, 0, 1), EAGAIN);
    CHECK_EQ(write_byte(go[1], 'x'), 0);
    CHECK_CHILD_OK(pid);
    CHECK_OK(lk(fd, F_SETLK, F_WRLCK, 0, 1));
    close(rep[0]);
    close(go[1]);
    close(fd);
}

TEST(record_lock_errors)
{
    int fd = new_file();
    CHECK(fd >= 0);
    struct flock fl = {.l_type = F_WRLCK, .l_whence = 3};
    CHECK_ERRNO(fcntl(fd, F_SETLK, &fl), EINVAL);
    CHECK_ERRNO(fcntl(fd, F_GETLK, &fl), EINVAL);
    fl = (struct flock){.l_type = 7, .l_whence = SEEK_SET};
    CHECK_ERRNO(fcntl(fd, F_SETLK, &fl), EINVAL);
    CHECK_ERRNO(fcntl(fd, F_GETLK, &fl), EINVAL);
    fl = (struct flock){.l_type = F_UNLCK, .l_whence = SEEK_SET};
    CHECK_ERRNO(fcntl(fd, F_GETLK, &fl), EINVAL);
    CHECK_ERRNO(lk(fd, F_SETLK, F_WRLCK, -1, 1), EINVAL);
    CHECK_ERRNO(lk(fd, F_SETLK, F_WRLCK, 5, -6), EINVAL);
    CHECK_ERRNO(lk(fd, F_SETLK, F_WRLCK, 0x7fffffffffffffffLL, 2), EOVERFLOW);
    CHECK_ERRNO(fcntl(fd, F_SETLK, (struct flock *)bad_ptr(1)), EFAULT);
    CHECK_ERRNO(fcntl(fd, F_GETLK, (struct flock *)bad_ptr(1)), EFAULT);
    fl = (struct flock){.l_type = F_RDLCK, .l_whence = SEEK_SET, .l_pid = 1};
    CHECK_ERRNO(fcntl(fd, F_OFD_SETLK, &fl), EINVAL);
    CHECK_ERRNO(fcntl(fd, F_OFD_GETLK, &fl), EINVAL);

    int ro = open(path_of(fd), O_RDONLY);
    int wo = open(path_of(fd), O_WRONLY);
    int po = open(path_of(fd), O_PATH);
    CHECK(ro >= 0 && wo >= 0 && po >= 0);
    CHECK_ERRNO(lk(ro, F_SETLK, F_WRLCK, 0, 1), EBADF);
    CHECK_ERRNO(lk(wo, F_SETLK, F_RDLCK, 0, 1), EBADF);
    CHECK_OK(lk(ro, F_SETLK, F_RDLCK, 0, 1));
    CHECK_OK(lk(wo, F_SETLK, F_WRLCK, 5, 1));
    CHECK_OK(lk(ro, F_SETLK, F_UNLCK, 0, 0)); /* unlocking needs no access mode */
    CHECK_ERRNO(lk(po, F_SETLK, F_RDLCK, 0, 1), EBADF);
    CHECK_ERRNO(lk(po, F_GETLK, F_RDLCK, 0, 1), EBADF);
    close(po);
    close(wo);
    close(ro);
    CHECK_OK(close(fd));
    CHECK_ERRNO(lk(fd, F_SETLK, F_RDLCK, 0, 1), EBADF);
}

TEST(ofd_locks_belong_to_the_open_file_description)
{
    int fd = new_file();
    CHECK(fd >= 0);
    int other = open(path_of(fd), O_RDWR);
    CHECK(other >= 0);
    CHECK_OK(lk(fd, F_OFD_SETLK, F_WRLCK, 0, 10));
    /* Another open file description of the same process conflicts... */
    CHECK_ERRNO(lk(other, F_OFD_SETLK, F_RDLCK, 5, 1), EAGAIN);
    struct flock fl = getlk(other, F_OFD_GETLK, F_RDLCK, 0, 0);
    CHECK_EQ(fl.l_type, F_WRLCK);
    CHECK_EQ(fl.l_pid, -1);
    CHECK_EQ(fl.l_len, 10);
    /* ... and so does the process's own classic lock. */
    CHECK_ERRNO(lk(fd, F_SETLK, F_RDLCK, 0, 1), EAGAIN);
    fl = getlk(fd, F_GETLK, F_RDLCK, 0, 1);
    CHECK_EQ(fl.l_type, F_WRLCK);
    CHECK_EQ(fl.l_pid, -1);
    /* A dup is the same description: closing it keeps the lock; so is a forked child's copy. */
    int d = dup(fd);
    CHECK(d >= 0);
    CHECK_OK(close(d));
    CHECK_ERRNO(lk(other, F_OFD_SETLK, F_RDLCK, 0, 1), EAGAIN);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        CCHECK(lk(fd, F_OFD_SETLK, F_RDLCK, 0, 10) == 0); /* converts the shared lock */
        _exit(0);
    }
    CHECK_CHILD_OK(pid);
    CHECK_OK(lk(other, F_OFD_SETLK, F_RDLCK, 0, 1)); /* readers now */
    CHECK_ERRNO(lk(other, F_OFD_SETLK, F_WRLCK, 0, 1), EAGAIN);
    /* The last close of the description drops its locks. */
    CHECK_OK(close(fd));
    CHECK_OK(lk(other, F_OFD_SETLK, F_WRLCK, 0, 0));
    close(other);
}

TEST(flock_shared_exclusive_and_conversion)
{
    int a = new_file();
    CHECK(a >= 0);
    int b = open(path_of(a), O_RDONLY);
    CHECK(b >= 0);
    CHECK_OK(flock(a, LOCK_EX));
    CHECK_OK(flock(a, LOCK_EX)); /* again: nothing changes */
    CHECK_ERRNO(flock(b, LOCK_EX | LOCK_NB), EWOULDBLOCK);
    CHECK_ERRNO(flock(b, LOCK_SH | LOCK_NB), EWOULDBLOCK);
    CHECK_OK(flock(a, LOCK_SH)); /* converts */
    CHECK_OK(flock(b, LOCK_SH | LOCK_NB));
    /* Converting to exclusive drops the shared lock first, then fails: a holds nothing now. */
    CHECK_ERRNO(flock(a, LOCK_EX | LOCK_NB), EWOULDBLOCK);
    CHECK_OK(flock(b, LOCK_EX | LOCK_NB));
    CHECK_OK(flock(b, LOCK_UN));
    CHECK_OK(flock(b, LOCK_UN)); /* unlocking nothing is fine */
    CHECK_OK(flock(a, LOCK_EX | LOCK_NB));
    close(b);
    close(a);
}

TEST(flock_is_shared_by_dup_and_fork_and_goes_at_last_close)
{
    int a = new_file();
    CHECK(a >= 0);
    int other = open(path_of(a), O_RDONLY);
    CHECK(other >= 0);
    int d = dup(a);
    CHECK(d >= 0);
    CHECK_OK(flock(d, LOCK_EX));
    CHECK_OK(flock(a, LOCK_EX | LOCK_NB)); /* the same description holds it */
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        CCHECK(flock(a, LOCK_EX | LOCK_NB) == 0);
        _exit(0);
    }
    CHECK_CHILD_OK(pid);
    CHECK_OK(close(d));
    CHECK_ERRNO(flock(other, LOCK_SH | LOCK_NB), EWOULDBLOCK); /* a still holds it */
    CHECK_OK(close(a));
    CHECK_OK(flock(other, LOCK_EX | LOCK_NB));
    close(other);
}

TEST(flock_blocks_until_released_and_is_independent_of_fcntl_locks)
{
    int a = new_file();
    CHECK(a >= 0);
    CHECK_OK(flock(a, LOCK_EX));
    CHECK_OK(lk(a, F_SETLK, F_WRLCK, 0, 0));
    int rep[2];
    CHECK_OK(pipe(rep));
    const char *path = path_of(a);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        close(rep[0]);
        int b = open(path, O_RDWR);
        CCHECK(b >= 0);
        CERRNO(lk(b, F_SETLK, F_RDLCK, 0, 1), EAGAIN); /* the record lock is ours */
        CCHECK(flock(b, LOCK_SH) == 0);                /* waits for the flock */
        write_byte(rep[1], 'g');
        _exit(0);
    }
    close(rep[1]);
    CHECK(wait_sleeping(pid));
    CHECK_OK(flock(a, LOCK_UN));
    CHECK_EQ(read_byte(rep[0]), 'g');
    CHECK_CHILD_OK(pid);
    /* The record lock never stood in flock's way, nor flock in the record lock's. */
    CHECK_OK(lk(a, F_SETLK, F_UNLCK, 0, 0));
    close(rep[0]);
    close(a);
}

TEST(flock_interrupted_by_a_handler_gives_eintr)
{
    int a = new_file();
    CHECK(a >= 0);
    CHECK_OK(flock(a, LOCK_EX));
    const char *path = path_of(a);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        struct sigaction sa = {.sa_handler = on_signal};
        CCHECK(sigaction(SIGUSR1, &sa, NULL) == 0);
        int b = open(path, O_RDONLY);
        CCHECK(b >= 0);
        CERRNO(flock(b, LOCK_SH), EINTR);
        _exit(0);
    }
    CHECK(wait_sleeping(pid));
    CHECK_OK(kill(pid, SIGUSR1));
    CHECK_CHILD_OK(pid);
    close(a);
}

TEST(flock_errors)
{
    int a = new_file();
    CHECK(a >= 0);
    CHECK_ERRNO(flock(a, 0), EINVAL);
    CHECK_ERRNO(flock(a, LOCK_SH | LOCK_EX), EINVAL);
    CHECK_ERRNO(flock(a, LOCK_NB), EINVAL);
    CHECK_ERRNO(flock(a, 16), EINVAL);
    int po = open(path_of(a), O_PATH);
    CHECK(po >= 0);
    CHECK_ERRNO(flock(po, LOCK_SH), EBADF);
    close(po);
    CHECK_OK(close(a));
    CHECK_ERRNO(flock(a, LOCK_SH), EBADF);
    CHECK_ERRNO(flock(a, 0), EINVAL); /* the operation is checked before the descriptor */
}

/* Whether /proc/locks has a line "N: <class> ADVISORY <type> <pid> <dev:ino> <start> <end>". */
static int proc_locks_has(const char *class, const char *type, long pid, const char *devino, const char *start,
                          const char *end)
{
    FILE *f = fopen("/proc/locks", "r");
    if (!f)
        return 0;
    char line[256];
    int found = 0;
    while (!found && fgets(line, sizeof line, f)) {
        char c[16], adv[16], t[16], di[64], s[32], e[32];
        long p;
        if (sscanf(line, "%*d: %15s %15s %15s %ld %63s %31s %31s", c, adv, t, &p, di, s, e) == 7)
            found = !strcmp(c, class) && !strcmp(adv, "ADVISORY") && !strcmp(t, type) && p == pid &&
                    !strcmp(di, devino) && !strcmp(s, start) && !strcmp(e, end);
    }
    fclose(f);
    return found;
}

TEST(proc_locks_lists_every_kind)
{
    int fd = new_file();
    CHECK(fd >= 0);
    struct stat st;
    CHECK_OK(fstat(fd, &st));
    char devino[64];
    snprintf(devino, sizeof devino, "%02x:%02x:%lu", major(st.st_dev), minor(st.st_dev), (unsigned long)st.st_ino);
    int b = open(path_of(fd), O_RDONLY);
    CHECK(b >= 0);
    CHECK_OK(lk(fd, F_SETLK, F_WRLCK, 5, 10));
    CHECK_OK(lk(fd, F_OFD_SETLK, F_RDLCK, 100, 0));
    CHECK_OK(flock(b, LOCK_SH));
    CHECK(proc_locks_has("POSIX", "WRITE", getpid(), devino, "5", "14"));
    CHECK(proc_locks_has("OFDLCK", "READ", -1, devino, "100", "EOF"));
    CHECK(proc_locks_has("FLOCK", "READ", getpid(), devino, "0", "EOF"));
    CHECK_OK(close(b));
    CHECK(!proc_locks_has("FLOCK", "READ", getpid(), devino, "0", "EOF"));
    CHECK_OK(close(fd));
    CHECK(!proc_locks_has("POSIX", "WRITE", getpid(), devino, "5", "14"));
    CHECK(!proc_locks_has("OFDLCK", "READ", -1, devino, "100", "EOF"));
}
