/* stat.c - file metadata: stat/lstat/fstat/fstatat and statx (raw, STATX_BASIC_STATS), file
 * types, inode numbers and device ids, symlink sizes, timestamps (updated by write, truncate,
 * chmod and directory changes; set by utimensat with UTIME_NOW/UTIME_OMIT), faccessat as root,
 * chmod/fchmod/fchmodat, chown/fchown/fchownat/lchown, the umask at creation, and
 * statfs/fstatfs magic numbers of tmpfs (/dev/shm) and procfs.
 * Files live in a mkdtemp("/tmp/ptest.XXXXXX") directory removed at exit (/tmp itself may not
 * be tmpfs on the host, so the tmpfs checks use /dev/shm).
 * Syscalls: stat, lstat, fstat, newfstatat, statx, utimensat, access, faccessat, chmod, fchmod,
 * fchmodat, chown, fchown, fchownat, lchown, statfs, fstatfs, openat, write, ftruncate, mkdir,
 * symlink, unlink, umask, clock_gettime.
 */
#define _GNU_SOURCE
#define TEST_MAIN
#include "test.h"

#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <time.h>

#include "scratch.h"

#define TMPFS_MAGIC_ 0x01021994
#define PROC_SUPER_MAGIC_ 0x9fa0

#define STATX_BASIC_STATS_ 0x7ffU
#define STATX_RESERVED_ 0x80000000U

struct statx_ts_ {
    int64_t tv_sec;
    uint32_t tv_nsec;
    int32_t reserved;
};

struct statx_ {
    uint32_t stx_mask;
    uint32_t stx_blksize;
    uint64_t stx_attributes;
    uint32_t stx_nlink;
    uint32_t stx_uid;
    uint32_t stx_gid;
    uint16_t stx_mode;
    uint16_t spare0;
    uint64_t stx_ino;
    uint64_t stx_size;
    uint64_t stx_blocks;
    uint64_t stx_attributes_mask;
    struct statx_ts_ stx_atime, stx_btime, stx_ctime, stx_mtime;
    uint32_t stx_rdev_major, stx_rdev_minor;
    uint32_t stx_dev_major, stx_dev_minor;
    uint64_t spare2[14];
};

static long sys_statx(int dirfd, const char *path, int flags, unsigned mask, struct statx_ *b)
{
    return syscall(SYS_statx, dirfd, path, flags, mask, b);
}

static int make_file(const char *path, const char *data)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return -1;
    size_t len = strlen(data);
    int ok = write(fd, data, len) == (ssize_t)len;
    close(fd);
    return ok ? 0 : -1;
}

static time_t now_sec(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return t.tv_sec;
}

/* Sets atime and mtime of path to a fixed old time. */
static int make_old(const char *path, int flags)
{
    struct timespec ts[2] = {{1000000000, 0}, {1000000000, 0}};
    return utimensat(AT_FDCWD, path, ts, flags);
}

/* t is "now": within [lo - 1, hi + 1] seconds (file times may use a coarser clock). */
#define CHECK_RECENT(t, lo, hi)                                                       \
    do {                                                                              \
        CHECK((long long)(t).tv_sec >= (long long)(lo) - 1);                          \
        CHECK((long long)(t).tv_sec <= (long long)(hi) + 1);                          \
    } while (0)

/* ---- stat family ---- */

TEST(stat_regular_file)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(make_file(P(d, "f"), "0123456789"));
    struct stat st;
    CHECK_OK(stat(P(d, "f"), &st));
    CHECK(S_ISREG(st.st_mode));
    CHECK_EQ(st.st_size, 10);
    CHECK_EQ(st.st_nlink, 1);
    CHECK_EQ(st.st_uid, geteuid());
    CHECK_EQ(st.st_gid, getegid());
    CHECK(st.st_blksize > 0);
    CHECK(st.st_ino != 0);
    CHECK_EQ(st.st_rdev, 0);
}

TEST(stat_blocks_cover_size)
{
    const char *d = newdir();
    CHECK(d != NULL);
    int fd = open(P(d, "f"), O_RDWR | O_CREAT, 0644);
    CHECK(fd >= 0);
    char buf[10000];
    memset(buf, 'b', sizeof buf);
    CHECK_EQ(write(fd, buf, sizeof buf), (ssize_t)sizeof buf);
    struct stat st;
    CHECK_OK(fstat(fd, &st));
    close(fd);
    CHECK(st.st_blocks * 512 >= 10000);
}

TEST(stat_lstat_fstat_fstatat_agree)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(make_file(P(d, "f"), "abc"));
    struct stat a, b, c, e;
    CHECK_OK(stat(P(d, "f"), &a));
    CHECK_OK(lstat(P(d, "f"), &b));
    int fd = open(P(d, "f"), O_RDONLY);
    CHECK(fd >= 0);
    CHECK_OK(fstat(fd, &c));
    close(fd);
    int dfd = open(d, O_RDONLY | O_DIRECTORY);
    CHECK(dfd >= 0);
    CHECK_OK(fstatat(dfd, "f", &e, 0));
    close(dfd);
    CHECK_EQ(a.st_ino, b.st_ino);
    CHECK_EQ(a.st_ino, c.st_ino);
    CHECK_EQ(a.st_ino, e.st_ino);
    CHECK_EQ(a.st_dev, c.st_dev);
    CHECK_EQ(a.st_mode, e.st_mode);
    CHECK_EQ(a.st_size, c.st_size);
    CHECK_EQ(a.st_mtim.tv_sec, c.st_mtim.tv_sec);
    CHECK_EQ(a.st_mtim.tv_nsec, c.st_mtim.tv_nsec);
}

TEST(stat_file_types)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(make_file(P(d, "f"), ""));
    CHECK_OK(symlink("f", P(d, "l")));
    struct stat st;
    CHECK_OK(stat(d, &st));
    CHECK(S_ISDIR(st.st_mode));
    CHECK_OK(stat(P(d, "f"), &st));
    CHECK(S_ISREG(st.st_mode));
    CHECK_OK(lstat(P(d, "l"), &st));
    CHECK(S_ISLNK(st.st_mode));
    CHECK_EQ(st.st_mode & 0777, 0777); /* symlinks are always rwxrwxrwx */
    CHECK_OK(stat(P(d, "l"), &st));
    CHECK(S_ISREG(st.st_mode));
    CHECK_OK(stat("/dev/null", &st));
    CHECK(S_ISCHR(st.st_mode));
    CHECK_EQ(st.st_rdev, makedev(1, 3));
    CHECK_OK(stat("/", &st));
    CHECK(S_ISDIR(st.st_mode));
    CHECK_OK(stat("/proc", &st));
    CHECK(S_ISDIR(st.st_mode));
    int p[2];
    CHECK_OK(pipe(p));
    CHECK_OK(fstat(p[0], &st));
    CHECK(S_ISFIFO(st.st_mode));
    close(p[0]);
    close(p[1]);
}

TEST(stat_ino_stable_and_distinct_dev_shared)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(make_file(P(d, "a"), ""));
    CHECK_OK(make_file(P(d, "b"), ""));
    CHECK_OK(mkdir(P(d, "c"), 0755));
    struct stat a1, a2, b, c, dir;
    CHECK_OK(stat(P(d, "a"), &a1));
    CHECK_OK(stat(P(d, "a"), &a2));
    CHECK_OK(stat(P(d, "b"), &b));
    CHECK_OK(stat(P(d, "c"), &c));
    CHECK_OK(stat(d, &dir));
    CHECK_EQ(a1.st_ino, a2.st_ino);
    CHECK_NE(a1.st_ino, b.st_ino);
    CHECK_NE(a1.st_ino, c.st_ino);
    CHECK_NE(b.st_ino, c.st_ino);
    CHECK_NE(dir.st_ino, a1.st_ino);
    CHECK_EQ(a1.st_dev, b.st_dev);
    CHECK_EQ(a1.st_dev, c.st_dev);
    CHECK_EQ(a1.st_dev, dir.st_dev);
    /* a rename keeps the inode */
    CHECK_OK(rename(P(d, "a"), P(d, "a2")));
    CHECK_OK(stat(P(d, "a2"), &a2));
    CHECK_EQ(a1.st_ino, a2.st_ino);
}

TEST(stat_symlink_size_is_target_length)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(symlink("x", P(d, "l1")));
    CHECK_OK(symlink("a/much/longer/target/name", P(d, "l2")));
    struct stat st;
    CHECK_OK(lstat(P(d, "l1"), &st));
    CHECK_EQ(st.st_size, 1);
    CHECK_OK(lstat(P(d, "l2"), &st));
    CHECK_EQ(st.st_size, 25);
}

TEST(stat_new_directory_nlink_two)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(mkdir(P(d, "sub"), 0755));
    struct stat st;
    CHECK_OK(stat(P(d, "sub"), &st));
    CHECK_EQ(st.st_nlink, 2);
    CHECK(st.st_size >= 0);
}

TEST(stat_errors)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(make_file(P(d, "f"), ""));
    struct stat st;
    CHECK_ERRNO(stat(P(d, "missing"), &st), ENOENT);
    CHECK_ERRNO(lstat(P(d, "missing"), &st), ENOENT);
    CHECK_ERRNO(stat(P(d, "f/x"), &st), ENOTDIR);
    CHECK_ERRNO(stat("", &st), ENOENT);
    CHECK_ERRNO(fstat(-1, &st), EBADF);
    CHECK_ERRNO(fstat(9999, &st), EBADF);
    CHECK_ERRNO(syscall(SYS_stat, bad_ptr(1), &st), EFAULT);
    CHECK_ERRNO(syscall(SYS_stat, P(d, "f"), bad_ptr(1)), EFAULT);
    CHECK_ERRNO(syscall(SYS_fstat, 1, bad_ptr(1)), EFAULT);
    char name[300];
    memset(name, 'n', 299);
    name[299] = '\0';
    CHECK_ERRNO(stat(P(d, name), &st), ENAMETOOLONG);
}

/* ---- statx ---- */

TEST(statx_basic_stats_match_stat)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(make_file(P(d, "f"), "hello"));
    struct statx_ sx;
    memset(&sx, 0xff, sizeof sx);
    CHECK_EQ(sys_statx(AT_FDCWD, P(d, "f"), 0, STATX_BASIC_STATS_, &sx), 0);
    struct stat st;
    CHECK_OK(stat(P(d, "f"), &st));
    CHECK_EQ(sx.stx_mask & STATX_BASIC_STATS_, STATX_BASIC_STATS_);
    CHECK_EQ(sx.stx_mode, st.st_mode);
    CHECK(S_ISREG(sx.stx_mode));
    CHECK_EQ(sx.stx_size, 5);
    CHECK_EQ(sx.stx_nlink, 1);
    CHECK_EQ(sx.stx_ino, st.st_ino);
    CHECK_EQ(sx.stx_uid, st.st_uid);
    CHECK_EQ(sx.stx_gid, st.st_gid);
    CHECK_EQ(sx.stx_blocks, st.st_blocks);
    CHECK_EQ(sx.stx_blksize, st.st_blksize);
    CHECK_EQ(sx.stx_dev_major, major(st.st_dev));
    CHECK_EQ(sx.stx_dev_minor, minor(st.st_dev));
    CHECK_EQ(sx.stx_mtime.tv_sec, st.st_mtim.tv_sec);
    CHECK_EQ(sx.stx_mtime.tv_nsec, st.st_mtim.tv_nsec);
    CHECK_EQ(sx.stx_ctime.tv_sec, st.st_ctim.tv_sec);
    CHECK_EQ(sx.stx_atime.tv_sec, st.st_atim.tv_sec);
    CHECK_EQ(sx.stx_rdev_major, 0);
    CHECK_EQ(sx.stx_rdev_minor, 0);
}

TEST(statx_char_device_rdev)
{
    struct statx_ sx;
    CHECK_EQ(sys_statx(AT_FDCWD, "/dev/null", 0, STATX_BASIC_STATS_, &sx), 0);
    CHECK(S_ISCHR(sx.stx_mode));
    CHECK_EQ(sx.stx_rdev_major, 1);
    CHECK_EQ(sx.stx_rdev_minor, 3);
}

TEST(statx_symlink_nofollow_and_empty_path)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(make_file(P(d, "f"), "abc"));
    CHECK_OK(symlink("f", P(d, "l")));
    struct statx_ sx;
    CHECK_EQ(sys_statx(AT_FDCWD, P(d, "l"), AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS_, &sx), 0);
    CHECK(S_ISLNK(sx.stx_mode));
    CHECK_EQ(sx.stx_size, 1);
    CHECK_EQ(sys_statx(AT_FDCWD, P(d, "l"), 0, STATX_BASIC_STATS_, &sx), 0);
    CHECK(S_ISREG(sx.stx_mode));
    CHECK_EQ(sx.stx_size, 3);
    int fd = open(P(d, "f"), O_RDONLY);
    CHECK(fd >= 0);
    memset(&sx, 0, sizeof sx);
    CHECK_EQ(sys_statx(fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS_, &sx), 0);
    CHECK_EQ(sx.stx_size, 3);
    CHECK_ERRNO(sys_statx(fd, "", 0, STATX_BASIC_STATS_, &sx), ENOENT);
    int dfd = open(d, O_RDONLY | O_DIRECTORY);
    CHECK(dfd >= 0);
    CHECK_EQ(sys_statx(dfd, "f", 0, STATX_BASIC_STATS_, &sx), 0);
    CHECK_EQ(sx.stx_size, 3);
    close(dfd);
    close(fd);
}

TEST(statx_errors)
{
    const char *d = newdir();
    CHECK(d != NULL);
    struct statx_ sx;
    CHECK_ERRNO(sys_statx(AT_FDCWD, P(d, "missing"), 0, STATX_BASIC_STATS_, &sx), ENOENT);
    CHECK_ERRNO(sys_statx(AT_FDCWD, d, 0x1, STATX_BASIC_STATS_, &sx), EINVAL);
    CHECK_ERRNO(sys_statx(AT_FDCWD, d, 0, STATX_RESERVED_, &sx), EINVAL);
    CHECK_ERRNO(sys_statx(AT_FDCWD, d, 0x6000, STATX_BASIC_STATS_, &sx), EINVAL);
    CHECK_ERRNO(sys_statx(-1, "rel", 0, STATX_BASIC_STATS_, &sx), EBADF);
    CHECK_ERRNO(sys_statx(AT_FDCWD, d, 0, STATX_BASIC_STATS_, bad_ptr(1)), EFAULT);
}

/* ---- timestamps ---- */

TEST(write_updates_mtime_and_ctime)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(make_file(P(d, "f"), "x"));
    CHECK_OK(make_old(P(d, "f"), 0));
    struct stat st;
    CHECK_OK(stat(P(d, "f"), &st));
    CHECK_EQ(st.st_mtim.tv_sec, 1000000000);
    time_t lo = now_sec();
    int fd = open(P(d, "f"), O_WRONLY);
    CHECK(fd >= 0);
    CHECK_EQ(write(fd, "y", 1), 1);
    close(fd);
    time_t hi = now_sec();
    CHECK_OK(stat(P(d, "f"), &st));
    CHECK_RECENT(st.st_mtim, lo, hi);
    CHECK_RECENT(st.st_ctim, lo, hi);
    CHECK_EQ(st.st_atim.tv_sec, 1000000000); /* writing does not touch atime */
}

TEST(mtime_never_decreases_across_writes)
{
    const char *d = newdir();
    CHECK(d != NULL);
    int fd = open(P(d, "f"), O_RDWR | O_CREAT, 0644);
    CHECK(fd >= 0);
    struct stat a, b;
    CHECK_EQ(write(fd, "1", 1), 1);
    CHECK_OK(fstat(fd, &a));
    CHECK_EQ(write(fd, "2", 1), 1);
    CHECK_OK(fstat(fd, &b));
    close(fd);
    CHECK(b.st_mtim.tv_sec > a.st_mtim.tv_sec ||
          (b.st_mtim.tv_sec == a.st_mtim.tv_sec && b.st_mtim.tv_nsec >= a.st_mtim.tv_nsec));
}

TEST(truncate_updates_mtime)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(make_file(P(d, "f"), "0123"));
    CHECK_OK(make_old(P(d, "f"), 0));
    time_t lo = now_sec();
    CHECK_OK(truncate(P(d, "f"), 1));
    time_t hi = now_sec();
    struct stat st;
    CHECK_OK(stat(P(d, "f"), &st));
    CHECK_RECENT(st.st_mtim, lo, hi);
    CHECK_RECENT(st.st_ctim, lo, hi);
}

TEST(chmod_updates_ctime_not_mtime)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(make_file(P(d, "f"), "x"));
    CHECK_OK(make_old(P(d, "f"), 0));
    time_t lo = now_sec();
    CHECK_OK(chmod(P(d, "f"), 0600));
    time_t hi = now_sec();
    struct stat st;
    CHECK_OK(stat(P(d, "f"), &st));
    CHECK_EQ(st.st_mtim.tv_sec, 1000000000);
    CHECK_EQ(st.st_atim.tv_sec, 1000000000);
    CHECK_RECENT(st.st_ctim, lo, hi);
}

TEST(directory_mtime_changes_with_entries)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(mkdir(P(d, "dir"), 0755));
    CHECK_OK(make_old(P(d, "dir"), 0));
    time_t lo = now_sec();
    CHECK_OK(make_file(P(d, "dir/f"), ""));
    time_t hi = now_sec();
    struct stat st;
    CHECK_OK(stat(P(d, "dir"), &st));
    CHECK_RECENT(st.st_mtim, lo, hi);
    CHECK_RECENT(st.st_ctim, lo, hi);
    CHECK_OK(make_old(P(d, "dir"), 0));
    lo = now_sec();
    CHECK_OK(unlink(P(d, "dir/f")));
    hi = now_sec();
    CHECK_OK(stat(P(d, "dir"), &st));
    CHECK_RECENT(st.st_mtim, lo, hi);
}

TEST(new_file_times_are_now)
{
    const char *d = newdir();
    CHECK(d != NULL);
    time_t lo = now_sec();
    CHECK_OK(make_file(P(d, "f"), ""));
    time_t hi = now_sec();
    struct stat st;
    CHECK_OK(stat(P(d, "f"), &st));
    CHECK_RECENT(st.st_atim, lo, hi);
    CHECK_RECENT(st.st_mtim, lo, hi);
    CHECK_RECENT(st.st_ctim, lo, hi);
}

TEST(utimensat_explicit_times_read_back)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(make_file(P(d, "f"), "x"));
    struct timespec ts[2] = {{1000000000, 123456789}, {1200000000, 987654321}};
    CHECK_OK(utimensat(AT_FDCWD, P(d, "f"), ts, 0));
    struct stat st;
    CHECK_OK(stat(P(d, "f"), &st));
    CHECK_EQ(st.st_atim.tv_sec, 1000000000);
    CHECK_EQ(st.st_atim.tv_nsec, 123456789);
    CHECK_EQ(st.st_mtim.tv_sec, 1200000000);
    CHECK_EQ(st.st_mtim.tv_nsec, 987654321);
}

TEST(utimensat_utime_omit_and_now)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(make_file(P(d, "f"), "x"));
    CHECK_OK(make_old(P(d, "f"), 0));
    struct timespec ts[2] = {{0, UTIME_OMIT}, {1300000000, 5}};
    CHECK_OK(utimensat(AT_FDCWD, P(d, "f"), ts, 0));
    struct stat st;
    CHECK_OK(stat(P(d, "f"), &st));
    CHECK_EQ(st.st_atim.tv_sec, 1000000000);
    CHECK_EQ(st.st_mtim.tv_sec, 1300000000);
    CHECK_EQ(st.st_mtim.tv_nsec, 5);
    time_t lo = now_sec();
    struct timespec ts2[2] = {{0, UTIME_NOW}, {0, UTIME_OMIT}};
    CHECK_OK(utimensat(AT_FDCWD, P(d, "f"), ts2, 0));
    time_t hi = now_sec();
    CHECK_OK(stat(P(d, "f"), &st));
    CHECK_RECENT(st.st_atim, lo, hi);
    CHECK_EQ(st.st_mtim.tv_sec, 1300000000);
    CHECK_RECENT(st.st_ctim, lo, hi);
}

TEST(utimensat_null_times_sets_both_to_now)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(make_file(P(d, "f"), "x"));
    CHECK_OK(make_old(P(d, "f"), 0));
    time_t lo = now_sec();
    CHECK_OK(utimensat(AT_FDCWD, P(d, "f"), NULL, 0));
    time_t hi = now_sec();
    struct stat st;
    CHECK_OK(stat(P(d, "f"), &st));
    CHECK_RECENT(st.st_atim, lo, hi);
    CHECK_RECENT(st.st_mtim, lo, hi);
}

TEST(utimensat_on_fd_futimens)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(make_file(P(d, "f"), "x"));
    int fd = open(P(d, "f"), O_RDONLY);
    CHECK(fd >= 0);
    struct timespec ts[2] = {{1100000000, 0}, {1100000001, 0}};
    CHECK_EQ(syscall(SYS_utimensat, fd, NULL, ts, 0), 0); /* futimens */
    CHECK_OK(futimens(fd, ts));
    struct stat st;
    CHECK_OK(fstat(fd, &st));
    CHECK_EQ(st.st_atim.tv_sec, 1100000000);
    CHECK_EQ(st.st_mtim.tv_sec, 1100000001);
    close(fd);
}

TEST(utimensat_symlink_nofollow_changes_link_only)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(make_file(P(d, "f"), "x"));
    CHECK_OK(symlink("f", P(d, "l")));
    CHECK_OK(make_old(P(d, "f"), 0));
    struct timespec ts[2] = {{1400000000, 0}, {1400000000, 0}};
    CHECK_OK(utimensat(AT_FDCWD, P(d, "l"), ts, AT_SYMLINK_NOFOLLOW));
    struct stat st;
    CHECK_OK(lstat(P(d, "l"), &st));
    CHECK_EQ(st.st_mtim.tv_sec, 1400000000);
    CHECK_OK(stat(P(d, "f"), &st));
    CHECK_EQ(st.st_mtim.tv_sec, 1000000000);
    CHECK_OK(utimensat(AT_FDCWD, P(d, "l"), ts, 0)); /* followed */
    CHECK_OK(stat(P(d, "f"), &st));
    CHECK_EQ(st.st_mtim.tv_sec, 1400000000);
}

TEST(utimensat_errors)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(make_file(P(d, "f"), "x"));
    struct timespec bad[2] = {{0, 1000000000}, {0, 0}};
    CHECK_ERRNO(utimensat(AT_FDCWD, P(d, "f"), bad, 0), EINVAL);
    struct timespec neg[2] = {{0, -1}, {0, 0}};
    CHECK_ERRNO(utimensat(AT_FDCWD, P(d, "f"), neg, 0), EINVAL);
    struct timespec ok[2] = {{1, 0}, {1, 0}};
    CHECK_ERRNO(utimensat(AT_FDCWD, P(d, "missing"), ok, 0), ENOENT);
    CHECK_ERRNO(utimensat(AT_FDCWD, P(d, "f"), ok, 0x1), EINVAL);
    CHECK_ERRNO(syscall(SYS_utimensat, 9999, NULL, ok, 0), EBADF);
}

/* ---- access ---- */

TEST(faccessat_existence)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(make_file(P(d, "f"), "x"));
    CHECK_EQ(access(P(d, "f"), F_OK), 0);
    CHECK_EQ(faccessat(AT_FDCWD, P(d, "f"), F_OK, 0), 0);
    CHECK_ERRNO(access(P(d, "missing"), F_OK), ENOENT);
    CHECK_ERRNO(access(P(d, "f/x"), F_OK), ENOTDIR);
    int dfd = open(d, O_RDONLY | O_DIRECTORY);
    CHECK(dfd >= 0);
    CHECK_EQ(syscall(SYS_faccessat, dfd, "f", F_OK), 0);
    CHECK_ERRNO(syscall(SYS_faccessat, dfd, "g", F_OK), ENOENT);
    close(dfd);
    CHECK_ERRNO(syscall(SYS_access, P(d, "f"), 8), EINVAL); /* bad mode */
}

TEST(faccessat_root_read_write_always_exec_needs_a_bit)
{
    if (getuid() != 0)
        SKIP("not root");
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(make_file(P(d, "none"), "x"));
    CHECK_OK(chmod(P(d, "none"), 0000));
    CHECK_EQ(access(P(d, "none"), R_OK), 0);
    CHECK_EQ(access(P(d, "none"), W_OK), 0);
    CHECK_EQ(access(P(d, "none"), R_OK | W_OK), 0);
    CHECK_ERRNO(access(P(d, "none"), X_OK), EACCES);
    CHECK_OK(make_file(P(d, "ox"), "x"));
    CHECK_OK(chmod(P(d, "ox"), 0001)); /* any x bit will do */
    CHECK_EQ(access(P(d, "ox"), X_OK), 0);
    CHECK_EQ(access(P(d, "ox"), R_OK | W_OK | X_OK), 0);
    /* directories are always searchable for root */
    CHECK_OK(mkdir(P(d, "dir"), 0000));
    CHECK_EQ(access(P(d, "dir"), X_OK), 0);
    CHECK_EQ(access(P(d, "dir"), R_OK | W_OK | X_OK), 0);
}

/* ---- chmod ---- */

TEST(chmod_mode_bits_read_back)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(make_file(P(d, "f"), "x"));
    static const mode_t modes[] = {0, 0400, 0640, 0755, 0777, 01777, 02755, 04755, 07777};
    struct stat st;
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        CHECK_OK(chmod(P(d, "f"), modes[i]));
        CHECK_OK(stat(P(d, "f"), &st));
        CHECK(S_ISREG(st.st_mode));
        CHECK_EQ(st.st_mode & 07777, modes[i]);
    }
    CHECK_OK(chmod(P(d, "f"), S_IFDIR | 0644)); /* file type bits are ignored */
    CHECK_OK(stat(P(d, "f"), &st));
    CHECK(S_ISREG(st.st_mode));
    CHECK_EQ(st.st_mode & 07777, 0644);
}

TEST(fchmod_fchmodat_and_through_symlink)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(make_file(P(d, "f"), "x"));
    CHECK_OK(symlink("f", P(d, "l")));
    int fd = open(P(d, "f"), O_RDONLY);
    CHECK(fd >= 0);
    CHECK_OK(fchmod(fd, 0611));
    struct stat st;
    CHECK_OK(fstat(fd, &st));
    CHECK_EQ(st.st_mode & 07777, 0611);
    int dfd = open(d, O_RDONLY | O_DIRECTORY);
    CHECK(dfd >= 0);
    CHECK_EQ(syscall(SYS_fchmodat, dfd, "f", 0604), 0);
    CHECK_OK(fstat(fd, &st));
    CHECK_EQ(st.st_mode & 07777, 0604);
    CHECK_OK(chmod(P(d, "l"), 0700)); /* follows the link */
    CHECK_OK(fstat(fd, &st));
    CHECK_EQ(st.st_mode & 07777, 0700);
    CHECK_OK(lstat(P(d, "l"), &st));
    CHECK_EQ(st.st_mode & 0777, 0777);
    close(dfd);
    close(fd);
}

TEST(chmod_directory)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(mkdir(P(d, "dir"), 0755));
    CHECK_OK(chmod(P(d, "dir"), 01733));
    struct stat st;
    CHECK_OK(stat(P(d, "dir"), &st));
    CHECK(S_ISDIR(st.st_mode));
    CHECK_EQ(st.st_mode & 07777, 01733);
}

TEST(chmod_errors)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_ERRNO(chmod(P(d, "missing"), 0644), ENOENT);
    CHECK_ERRNO(chmod(P(d, "missing/x"), 0644), ENOENT);
    CHECK_ERRNO(fchmod(9999, 0644), EBADF);
    CHECK_ERRNO(syscall(SYS_chmod, bad_ptr(1), 0644), EFAULT);
}

/* ---- chown ---- */

TEST(chown_read_back_and_minus_one_keeps)
{
    if (geteuid() != 0)
        SKIP("not root");
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(make_file(P(d, "f"), "x"));
    struct stat st;
    CHECK_OK(chown(P(d, "f"), 1234, 5678));
    CHECK_OK(stat(P(d, "f"), &st));
    CHECK_EQ(st.st_uid, 1234);
    CHECK_EQ(st.st_gid, 5678);
    CHECK_OK(chown(P(d, "f"), (uid_t)-1, 42));
    CHECK_OK(stat(P(d, "f"), &st));
    CHECK_EQ(st.st_uid, 1234);
    CHECK_EQ(st.st_gid, 42);
    CHECK_OK(chown(P(d, "f"), 77, (gid_t)-1));
    CHECK_OK(stat(P(d, "f"), &st));
    CHECK_EQ(st.st_uid, 77);
    CHECK_EQ(st.st_gid, 42);
    CHECK_OK(chown(P(d, "f"), (uid_t)-1, (gid_t)-1));
    CHECK_OK(stat(P(d, "f"), &st));
    CHECK_EQ(st.st_uid, 77);
    CHECK_EQ(st.st_gid, 42);
}

TEST(fchown_fchownat_lchown)
{
    if (geteuid() != 0)
        SKIP("not root");
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(make_file(P(d, "f"), "x"));
    CHECK_OK(symlink("f", P(d, "l")));
    int fd = open(P(d, "f"), O_RDONLY);
    CHECK(fd >= 0);
    struct stat st;
    CHECK_OK(fchown(fd, 10, 20));
    CHECK_OK(fstat(fd, &st));
    CHECK_EQ(st.st_uid, 10);
    CHECK_EQ(st.st_gid, 20);
    CHECK_OK(lchown(P(d, "l"), 30, 40)); /* the link itself */
    CHECK_OK(lstat(P(d, "l"), &st));
    CHECK_EQ(st.st_uid, 30);
    CHECK_EQ(st.st_gid, 40);
    CHECK_OK(fstat(fd, &st));
    CHECK_EQ(st.st_uid, 10);
    int dfd = open(d, O_RDONLY | O_DIRECTORY);
    CHECK(dfd >= 0);
    CHECK_OK(fchownat(dfd, "l", 50, 60, 0)); /* follows */
    CHECK_OK(fstat(fd, &st));
    CHECK_EQ(st.st_uid, 50);
    CHECK_EQ(st.st_gid, 60);
    CHECK_OK(fchownat(dfd, "l", 70, 80, AT_SYMLINK_NOFOLLOW));
    CHECK_OK(lstat(P(d, "l"), &st));
    CHECK_EQ(st.st_uid, 70);
    CHECK_OK(fstat(fd, &st));
    CHECK_EQ(st.st_uid, 50);
    CHECK_OK(fchownat(fd, "", 90, 91, AT_EMPTY_PATH));
    CHECK_OK(fstat(fd, &st));
    CHECK_EQ(st.st_uid, 90);
    CHECK_EQ(st.st_gid, 91);
    CHECK_ERRNO(fchownat(dfd, "f", 1, 1, 0x1), EINVAL);
    close(dfd);
    close(fd);
}

TEST(chown_clears_setuid_bit)
{
    if (geteuid() != 0)
        SKIP("not root");
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(make_file(P(d, "f"), "x"));
    CHECK_OK(chmod(P(d, "f"), 06755));
    CHECK_OK(chown(P(d, "f"), 1000, (gid_t)-1));
    struct stat st;
    CHECK_OK(stat(P(d, "f"), &st));
    /* S_ISUID goes; S_ISGID goes too because the group-execute bit is set */
    CHECK_EQ(st.st_mode & 07777, 0755);
}

TEST(chown_errors)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_ERRNO(chown(P(d, "missing"), 0, 0), ENOENT);
    CHECK_ERRNO(fchown(9999, 0, 0), EBADF);
}

/* ---- umask at creation ---- */

TEST(umask_applied_to_files_and_dirs_not_symlinks)
{
    const char *d = newdir();
    CHECK(d != NULL);
    mode_t old = umask(0257);
    int fd = open(P(d, "f"), O_CREAT | O_WRONLY, 0777);
    int r1 = mkdir(P(d, "dir"), 0777);
    int r2 = symlink("f", P(d, "l"));
    umask(old);
    CHECK(fd >= 0);
    close(fd);
    CHECK_EQ(r1, 0);
    CHECK_EQ(r2, 0);
    struct stat st;
    CHECK_OK(stat(P(d, "f"), &st));
    CHECK_EQ(st.st_mode & 07777, 0520);
    CHECK_OK(stat(P(d, "dir"), &st));
    CHECK_EQ(st.st_mode & 07777, 0520);
    CHECK_OK(lstat(P(d, "l"), &st));
    CHECK_EQ(st.st_mode & 07777, 0777);
    /* chmod is not masked */
    CHECK_OK(chmod(P(d, "f"), 0777));
    CHECK_OK(stat(P(d, "f"), &st));
    CHECK_EQ(st.st_mode & 07777, 0777);
}

/* ---- statfs ---- */

TEST(statfs_dev_shm_is_tmpfs)
{
    struct statfs sf;
    if (statfs("/dev/shm", &sf) != 0)
        SKIP("no /dev/shm: %s", strerror(errno));
    if ((unsigned long)sf.f_type != TMPFS_MAGIC_)
        SKIP("/dev/shm is not tmpfs here (f_type %#lx)", (unsigned long)sf.f_type);
    CHECK(sf.f_bsize > 0);
    CHECK_EQ(sf.f_namelen, 255);
    CHECK(sf.f_bfree <= sf.f_blocks);
    CHECK(sf.f_bavail <= sf.f_blocks);
    int fd = open("/dev/shm", O_RDONLY | O_DIRECTORY);
    CHECK(fd >= 0);
    struct statfs sf2;
    CHECK_OK(fstatfs(fd, &sf2));
    close(fd);
    CHECK_EQ(sf2.f_type, TMPFS_MAGIC_);
}

TEST(statfs_proc_magic)
{
    struct statfs sf;
    CHECK_OK(statfs("/proc", &sf));
    CHECK_EQ(sf.f_type, PROC_SUPER_MAGIC_);
    CHECK_OK(statfs("/proc/self", &sf));
    CHECK_EQ(sf.f_type, PROC_SUPER_MAGIC_);
    int fd = open("/proc/self/stat", O_RDONLY);
    CHECK(fd >= 0);
    CHECK_OK(fstatfs(fd, &sf));
    close(fd);
    CHECK_EQ(sf.f_type, PROC_SUPER_MAGIC_);
}

TEST(statfs_scratch_dir_and_errors)
{
    const char *d = newdir();
    CHECK(d != NULL);
    struct statfs a, b;
    CHECK_OK(statfs(d, &a));
    CHECK(a.f_bsize > 0);
    CHECK(a.f_namelen > 0);
    CHECK_OK(make_file(P(d, "f"), "x"));
    int fd = open(P(d, "f"), O_RDONLY);
    CHECK(fd >= 0);
    CHECK_OK(fstatfs(fd, &b));
    close(fd);
    CHECK_EQ(a.f_type, b.f_type);
    CHECK_ERRNO(statfs(P(d, "missing"), &a), ENOENT);
    CHECK_ERRNO(fstatfs(9999, &a), EBADF);
    CHECK_ERRNO(syscall(SYS_statfs, d, bad_ptr(1)), EFAULT);
}
