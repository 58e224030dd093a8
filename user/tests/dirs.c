/* dirs.c - the name space: mkdir/mkdirat, rmdir, unlink/unlinkat, rename/renameat2 (NOREPLACE,
 * EXCHANGE), link/linkat, symlink/symlinkat/readlink/readlinkat, path walk through symlinks
 * (relative targets, loops and the 40-link limit, trailing slashes, ".." after a symlink),
 * getdents64, getcwd/chdir/fchdir, *at calls with a dirfd or AT_FDCWD, AT_SYMLINK_NOFOLLOW,
 * AT_EMPTY_PATH, and unlinking an open file. All with Linux's errno.
 * Files live in a mkdtemp("/tmp/ptest.XXXXXX") directory removed at exit.
 * Syscalls: mkdir, mkdirat, rmdir, unlink, unlinkat, rename, renameat, renameat2, link, linkat,
 * symlink, symlinkat, readlink, readlinkat, getdents64, getcwd, chdir, fchdir, openat, close,
 * newfstatat, fstat, lstat, stat, lseek, read, write, umask.
 */
#define _GNU_SOURCE
#define TEST_MAIN
#include "test.h"

#include <fcntl.h>
#include <dirent.h>
#include <ftw.h>
#include <limits.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "scratch.h"

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#define RENAME_EXCHANGE (1 << 1)
#endif

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

/* First bytes of a file as a string, or "" on error. */
static const char *content(const char *path)
{
    static char buf[4][64];
    static int n;
    char *b = buf[n++ % 4];
    b[0] = '\0';
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return b;
    ssize_t r = read(fd, b, sizeof buf[0] - 1);
    b[r > 0 ? r : 0] = '\0';
    close(fd);
    return b;
}

static ino_t ino_of(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0 ? st.st_ino : (ino_t)0;
}

static long nlink_of(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0 ? (long)st.st_nlink : -1;
}

static int exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

static long sys_renameat2(int od, const char *o, int nd, const char *n, unsigned flags)
{
    return syscall(SYS_renameat2, od, o, nd, n, flags);
}

/* ---- mkdir ---- */

TEST(mkdir_creates_empty_directory_with_mode)
{
    const char *d = newdir();
    CHECK(d != NULL);
    mode_t old = umask(0);
    int r = mkdir(P(d, "sub"), 0751);
    umask(old);
    CHECK_EQ(r, 0);
    struct stat st;
    CHECK_OK(stat(P(d, "sub"), &st));
    CHECK(S_ISDIR(st.st_mode));
    CHECK_EQ(st.st_mode & 07777, 0751);
    CHECK_EQ(st.st_nlink, 2);
    CHECK_EQ(st.st_uid, geteuid());
}

TEST(mkdir_mode_masked_by_umask)
{
    const char *d = newdir();
    CHECK(d != NULL);
    mode_t old = umask(077);
    int r = mkdir(P(d, "sub"), 0777);
    umask(old);
    CHECK_EQ(r, 0);
    struct stat st;
    CHECK_OK(stat(P(d, "sub"), &st));
    CHECK_EQ(st.st_mode & 07777, 0700);
}

TEST(mkdir_increments_parent_nlink)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_EQ(nlink_of(d), 2);
    CHECK_OK(mkdir(P(d, "a"), 0755));
    CHECK_OK(mkdir(P(d, "b"), 0755));
    CHECK_EQ(nlink_of(d), 4);
    CHECK_OK(make_file(P(d, "f"), "")); /* files do not count */
    CHECK_EQ(nlink_of(d), 4);
    CHECK_OK(rmdir(P(d, "a")));
    CHECK_EQ(nlink_of(d), 3);
}

TEST(mkdir_existing_eexist)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(mkdir(P(d, "a"), 0755));
    CHECK_ERRNO(mkdir(P(d, "a"), 0755), EEXIST);
    CHECK_OK(make_file(P(d, "f"), "x"));
    CHECK_ERRNO(mkdir(P(d, "f"), 0755), EEXIST);
    CHECK_OK(symlink("nowhere", P(d, "dangling")));
    CHECK_ERRNO(mkdir(P(d, "dangling"), 0755), EEXIST);
    CHECK_ERRNO(mkdir(d, 0755), EEXIST);
    CHECK_ERRNO(mkdir("/", 0755), EEXIST);
}

TEST(mkdir_missing_parent_enoent)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_ERRNO(mkdir(P(d, "no/sub"), 0755), ENOENT);
    CHECK_ERRNO(mkdir("", 0755), ENOENT);
}

TEST(mkdir_through_file_enotdir)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(make_file(P(d, "f"), "x"));
    CHECK_ERRNO(mkdir(P(d, "f/sub"), 0755), ENOTDIR);
}

TEST(mkdir_trailing_slash_allowed)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(mkdir(P(d, "t/"), 0755));
    struct stat st;
    CHECK_OK(stat(P(d, "t"), &st));
    CHECK(S_ISDIR(st.st_mode));
}

TEST(mkdir_name_too_long)
{
    const char *d = newdir();
    CHECK(d != NULL);
    char name[257];
    memset(name, 'd', 256);
    name[256] = '\0';
    CHECK_ERRNO(mkdir(P(d, name), 0755), ENAMETOOLONG);
}

TEST(mkdir_bad_pointer_efault) { CHECK_ERRNO(syscall(SYS_mkdir, bad_ptr(1), 0755), EFAULT); }

TEST(mkdirat_with_dirfd)
{
    const char *d = newdir();
    CHECK(d != NULL);
    int dfd = open(d, O_RDONLY | O_DIRECTORY);
    CHECK(dfd >= 0);
    CHECK_OK(mkdirat(dfd, "x", 0755));
    CHECK(exists(P(d, "x")));
    CHECK_ERRNO(mkdirat(dfd, "x", 0755), EEXIST);
    CHECK_OK(mkdirat(AT_FDCWD, P(d, "y"), 0755)); /* absolute: dirfd ignored */
    CHECK_OK(mkdirat(-1, P(d, "z"), 0755));
    CHECK_ERRNO(mkdirat(-1, "rel", 0755), EBADF);
    CHECK_OK(make_file(P(d, "f"), "x"));
    int ffd = open(P(d, "f"), O_RDONLY);
    CHECK(ffd >= 0);
    CHECK_ERRNO(mkdirat(ffd, "rel", 0755), ENOTDIR);
    close(ffd);
    close(dfd);
}

/* ---- rmdir ---- */

TEST(rmdir_removes_empty_directory)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(mkdir(P(d, "a"), 0755));
    CHECK_OK(rmdir(P(d, "a")));
    CHECK(!exists(P(d, "a")));
    CHECK_ERRNO(rmdir(P(d, "a")), ENOENT);
}

TEST(rmdir_not_empty_enotempty)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(mkdir(P(d, "a"), 0755));
    CHECK_OK(make_file(P(d, "a/f"), ""));
    CHECK_ERRNO(rmdir(P(d, "a")), ENOTEMPTY);
    CHECK_OK(unlink(P(d, "a/f")));
    CHECK_OK(mkdir(P(d, "a/sub"), 0755));
    CHECK_ERRNO(rmdir(P(d, "a")), ENOTEMPTY);
    CHECK_OK(rmdir(P(d, "a/sub")));
    CHECK_OK(rmdir(P(d, "a")));
}

TEST(rmdir_file_and_symlink_enotdir)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(make_file(P(d, "f"), "x"));
    CHECK_ERRNO(rmdir(P(d, "f")), ENOTDIR);
    CHECK_OK(mkdir(P(d, "a"), 0755));
    CHECK_OK(symlink("a", P(d, "l")));
    CHECK_ERRNO(rmdir(P(d, "l")), ENOTDIR); /* the link is not followed */
    CHECK(exists(P(d, "a")));
}

TEST(rmdir_dot_einval_dotdot_enotempty_root_ebusy)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(mkdir(P(d, "a"), 0755));
    CHECK_ERRNO(rmdir(P(d, "a/.")), EINVAL);
    CHECK_ERRNO(rmdir(P(d, "a/..")), ENOTEMPTY);
    CHECK_ERRNO(rmdir("/"), EBUSY);
    CHECK(exists(P(d, "a")));
}

/* ---- unlink ---- */

TEST(unlink_removes_file)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(make_file(P(d, "f"), "x"));
    CHECK_OK(unlink(P(d, "f")));
    CHECK(!exists(P(d, "f")));
    CHECK_ERRNO(unlink(P(d, "f")), ENOENT);
    CHECK_ERRNO(unlink(P(d, "no/f")), ENOENT);
}

TEST(unlink_directory_eisdir)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(mkdir(P(d, "a"), 0755));
    CHECK_ERRNO(unlink(P(d, "a")), EISDIR);
    CHECK(exists(P(d, "a")));
}

TEST(unlink_through_file_enotdir)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(make_file(P(d, "f"), "x"));
    CHECK_ERRNO(unlink(P(d, "f/x")), ENOTDIR);
    CHECK_ERRNO(unlink(P(d, "f/")), ENOTDIR);
    CHECK(exists(P(d, "f")));
}

TEST(unlink_symlink_removes_only_the_link)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(make_file(P(d, "f"), "x"));
    CHECK_OK(symlink("f", P(d, "l")));
    CHECK_OK(unlink(P(d, "l")));
    CHECK(!exists(P(d, "l")));
    CHECK(exists(P(d, "f")));
}

TEST(unlinkat_removedir_and_errors)
{
    const char *d = newdir();
    CHECK(d != NULL);
    int dfd = open(d, O_RDONLY | O_DIRECTORY);
    CHECK(dfd >= 0);
    CHECK_OK(mkdirat(dfd, "a", 0755));
    CHECK_OK(make_file(P(d, "f"), "x"));
    CHECK_ERRNO(unlinkat(dfd, "a", 0), EISDIR);
    CHECK_ERRNO(unlinkat(dfd, "f", AT_REMOVEDIR), ENOTDIR);
    CHECK_ERRNO(unlinkat(dfd, "f", 0x1), EINVAL); /* unknown flag */
    CHECK_OK(unlinkat(dfd, "a", AT_REMOVEDIR));
    CHECK_OK(unlinkat(dfd, "f", 0));
    CHECK(!exists(P(d, "a")));
    CHECK(!exists(P(d, "f")));
    CHECK_ERRNO(unlinkat(-1, "f", 0), EBADF);
    close(dfd);
}

TEST(unlink_open_file_keeps_data)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(make_file(P(d, "f"), "still here"));
    int fd = open(P(d, "f"), O_RDWR);
    CHECK(fd >= 0);
    CHECK_OK(unlink(P(d, "f")));
    CHECK(!exists(P(d, "f")));
    struct stat st;
    CHECK_OK(fstat(fd, &st));
    CHECK_EQ(st.st_nlink, 0);
    char buf[16] = {0};
    CHECK_EQ(read(fd, buf, sizeof buf - 1), 10);
    CHECK(strcmp(buf, "still here") == 0);
    CHECK_EQ(write(fd, "!", 1), 1);
    CHECK_EQ(pread(fd, buf, sizeof buf - 1, 0), 11);
    /* a new file of the same name is a different file */
    CHECK_OK(make_file(P(d, "f"), "new"));
    CHECK_NE(ino_of(P(d, "f")), st.st_ino);
    CHECK(strcmp(content(P(d, "f")), "new") == 0);
    close(fd);
}

/* ---- rename ---- */

TEST(rename_file_to_new_name)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(make_file(P(d, "a"), "A"));
    ino_t ia = ino_of(P(d, "a"));
    CHECK_OK(rename(P(d, "a"), P(d, "b")));
    CHECK(!exists(P(d, "a")));
    CHECK_EQ(ino_of(P(d, "b")), ia);
    CHECK(strcmp(content(P(d, "b")), "A") == 0);
}

TEST(rename_file_over_file_replaces)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(make_file(P(d, "a"), "A"));
    CHECK_OK(make_file(P(d, "b"), "B"));
    ino_t ia = ino_of(P(d, "a"));
    int fdb = open(P(d, "b"), O_RDONLY);
    CHECK(fdb >= 0);
    CHECK_OK(rename(P(d, "a"), P(d, "b")));
    CHECK(!exists(P(d, "a")));
    CHECK_EQ(ino_of(P(d, "b")), ia);
    CHECK(strcmp(content(P(d, "b")), "A") == 0);
    struct stat st;
    CHECK_OK(fstat(fdb, &st)); /* the replaced file lives on while open */
    CHECK_EQ(st.st_nlink, 0);
    close(fdb);
}

TEST(rename_dir_over_empty_dir)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(mkdir(P(d, "a"), 0755));
    CHECK_OK(make_file(P(d, "a/f"), "in a"));
    CHECK_OK(mkdir(P(d, "b"), 0755));
    CHECK_OK(rename(P(d, "a"), P(d, "b")));
    CHECK(!exists(P(d, "a")));
    CHECK(strcmp(content(P(d, "b/f")), "in a") == 0);
    CHECK_EQ(nlink_of(d), 3); /* d: ".", its entry, and b's ".." */
}

TEST(rename_dir_over_nonempty_dir_enotempty)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(mkdir(P(d, "a"), 0755));
    CHECK_OK(mkdir(P(d, "b"), 0755));
    CHECK_OK(make_file(P(d, "b/f"), ""));
    CHECK_ERRNO(rename(P(d, "a"), P(d, "b")), ENOTEMPTY);
    CHECK(exists(P(d, "a")));
    CHECK(exists(P(d, "b/f")));
}

TEST(rename_file_over_dir_eisdir)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(make_file(P(d, "f"), ""));
    CHECK_OK(mkdir(P(d, "dir"), 0755));
    CHECK_ERRNO(rename(P(d, "f"), P(d, "dir")), EISDIR);
}

TEST(rename_dir_over_file_enotdir)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(make_file(P(d, "f"), ""));
    CHECK_OK(mkdir(P(d, "dir"), 0755));
    CHECK_ERRNO(rename(P(d, "dir"), P(d, "f")), ENOTDIR);
}

TEST(rename_into_own_subdirectory_einval)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(mkdir(P(d, "a"), 0755));
    CHECK_OK(mkdir(P(d, "a/b"), 0755));
    CHECK_ERRNO(rename(P(d, "a"), P(d, "a/b/c")), EINVAL);
    CHECK_ERRNO(rename(P(d, "a"), P(d, "a/c")), EINVAL);
    CHECK(exists(P(d, "a/b")));
}

TEST(rename_same_file_is_noop)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(make_file(P(d, "a"), "A"));
    CHECK_OK(rename(P(d, "a"), P(d, "a")));
    CHECK(exists(P(d, "a")));
    /* two hard links to one file: POSIX says do nothing, both names stay */
    CHECK_OK(link(P(d, "a"), P(d, "b")));
    CHECK_OK(rename(P(d, "a"), P(d, "b")));
    CHECK(exists(P(d, "a")));
    CHECK(exists(P(d, "b")));
    CHECK_EQ(nlink_of(P(d, "a")), 2);
}

TEST(rename_missing_source_enoent)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_ERRNO(rename(P(d, "nope"), P(d, "x")), ENOENT);
    CHECK_OK(make_file(P(d, "f"), ""));
    CHECK_ERRNO(rename(P(d, "f"), P(d, "no/x")), ENOENT);
    CHECK_ERRNO(rename(P(d, "f"), P(d, "f/x")), ENOTDIR);
}

TEST(rename_dir_to_other_parent_updates_dotdot_and_nlink)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(mkdir(P(d, "p1"), 0755));
    CHECK_OK(mkdir(P(d, "p2"), 0755));
    CHECK_OK(mkdir(P(d, "p1/x"), 0755));
    CHECK_EQ(nlink_of(P(d, "p1")), 3);
    CHECK_EQ(nlink_of(P(d, "p2")), 2);
    CHECK_OK(rename(P(d, "p1/x"), P(d, "p2/y")));
    CHECK_EQ(nlink_of(P(d, "p1")), 2);
    CHECK_EQ(nlink_of(P(d, "p2")), 3);
    struct stat a, b;
    CHECK_OK(stat(P(d, "p2/y/.."), &a));
    CHECK_OK(stat(P(d, "p2"), &b));
    CHECK_EQ(a.st_ino, b.st_ino);
}

TEST(rename_symlink_moves_link_not_target)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(make_file(P(d, "f"), "F"));
    CHECK_OK(symlink("f", P(d, "l")));
    CHECK_OK(rename(P(d, "l"), P(d, "l2")));
    struct stat st;
    CHECK_OK(lstat(P(d, "l2"), &st));
    CHECK(S_ISLNK(st.st_mode));
    CHECK(exists(P(d, "f")));
    CHECK(strcmp(content(P(d, "l2")), "F") == 0);
}

TEST(renameat_with_dirfds)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(mkdir(P(d, "s"), 0755));
    CHECK_OK(mkdir(P(d, "t"), 0755));
    CHECK_OK(make_file(P(d, "s/f"), "x"));
    int s = open(P(d, "s"), O_RDONLY | O_DIRECTORY);
    int t = open(P(d, "t"), O_RDONLY | O_DIRECTORY);
    CHECK(s >= 0 && t >= 0);
    CHECK_OK(renameat(s, "f", t, "g"));
    CHECK(exists(P(d, "t/g")));
    CHECK_ERRNO(renameat(-1, "g", t, "h"), EBADF);
    close(s);
    close(t);
}

TEST(renameat2_noreplace)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(make_file(P(d, "a"), "A"));
    CHECK_OK(make_file(P(d, "b"), "B"));
    CHECK_ERRNO(sys_renameat2(AT_FDCWD, P(d, "a"), AT_FDCWD, P(d, "b"), RENAME_NOREPLACE),
                EEXIST);
    CHECK(strcmp(content(P(d, "b")), "B") == 0);
    CHECK_EQ(sys_renameat2(AT_FDCWD, P(d, "a"), AT_FDCWD, P(d, "c"), RENAME_NOREPLACE), 0);
    CHECK(strcmp(content(P(d, "c")), "A") == 0);
    CHECK(!exists(P(d, "a")));
}

TEST(renameat2_exchange_swaps)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(make_file(P(d, "a"), "A"));
    CHECK_OK(mkdir(P(d, "dir"), 0755));
    CHECK_OK(make_file(P(d, "dir/f"), "F"));
    ino_t ia = ino_of(P(d, "a")), idir = ino_of(P(d, "dir"));
    CHECK_EQ(sys_renameat2(AT_FDCWD, P(d, "a"), AT_FDCWD, P(d, "dir"), RENAME_EXCHANGE), 0);
    CHECK_EQ(ino_of(P(d, "a")), idir);
    CHECK_EQ(ino_of(P(d, "dir")), ia);
    CHECK(strcmp(content(P(d, "a/f")), "F") == 0);
    CHECK(strcmp(content(P(d, "dir")), "A") == 0);
}

TEST(renameat2_exchange_across_directories)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(mkdir(P(d, "p"), 0755));
    CHECK_OK(mkdir(P(d, "q"), 0755));
    CHECK_OK(mkdir(P(d, "p/x"), 0755));
    CHECK_OK(make_file(P(d, "q/y"), "Y"));
    CHECK_EQ(sys_renameat2(AT_FDCWD, P(d, "p/x"), AT_FDCWD, P(d, "q/y"), RENAME_EXCHANGE), 0);
    struct stat st;
    CHECK_OK(lstat(P(d, "p/x"), &st));
    CHECK(S_ISREG(st.st_mode));
    CHECK_OK(lstat(P(d, "q/y"), &st));
    CHECK(S_ISDIR(st.st_mode));
    CHECK_EQ(nlink_of(P(d, "p")), 2);
    CHECK_EQ(nlink_of(P(d, "q")), 3);
    struct stat a, b;
    CHECK_OK(stat(P(d, "q/y/.."), &a));
    CHECK_OK(stat(P(d, "q"), &b));
    CHECK_EQ(a.st_ino, b.st_ino);
}

TEST(renameat2_exchange_missing_and_bad_flags)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(make_file(P(d, "a"), "A"));
    CHECK_ERRNO(sys_renameat2(AT_FDCWD, P(d, "a"), AT_FDCWD, P(d, "none"), RENAME_EXCHANGE),
                ENOENT);
    CHECK_ERRNO(sys_renameat2(AT_FDCWD, P(d, "a"), AT_FDCWD, P(d, "b"),
                              RENAME_EXCHANGE | RENAME_NOREPLACE),
                EINVAL);
    CHECK_ERRNO(sys_renameat2(AT_FDCWD, P(d, "a"), AT_FDCWD, P(d, "b"), 0x80), EINVAL);
    CHECK(exists(P(d, "a")));
}

/* ---- link ---- */

TEST(link_counts_in_nlink)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(make_file(P(d, "a"), "A"));
    CHECK_EQ(nlink_of(P(d, "a")), 1);
    CHECK_OK(link(P(d, "a"), P(d, "b")));
    CHECK_OK(link(P(d, "b"), P(d, "c")));
    CHECK_EQ(nlink_of(P(d, "a")), 3);
    CHECK_EQ(ino_of(P(d, "c")), ino_of(P(d, "a")));
    int fd = open(P(d, "c"), O_WRONLY | O_APPEND);
    CHECK(fd >= 0);
    CHECK_EQ(write(fd, "!", 1), 1);
    close(fd);
    CHECK(strcmp(content(P(d, "a")), "A!") == 0);
    CHECK_OK(unlink(P(d, "a")));
    CHECK_EQ(nlink_of(P(d, "b")), 2);
    CHECK_OK(unlink(P(d, "b")));
    CHECK_EQ(nlink_of(P(d, "c")), 1);
    CHECK(strcmp(content(P(d, "c")), "A!") == 0);
}

TEST(link_errors)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(make_file(P(d, "a"), "A"));
    CHECK_OK(make_file(P(d, "b"), "B"));
    CHECK_OK(mkdir(P(d, "dir"), 0755));
    CHECK_ERRNO(link(P(d, "a"), P(d, "b")), EEXIST);
    CHECK_ERRNO(link(P(d, "dir"), P(d, "dirlink")), EPERM);
    CHECK_ERRNO(link(P(d, "missing"), P(d, "x")), ENOENT);
    CHECK_ERRNO(link(P(d, "a"), P(d, "no/x")), ENOENT);
    CHECK_ERRNO(link(P(d, "a"), P(d, "b/x")), ENOTDIR);
    CHECK_EQ(nlink_of(P(d, "a")), 1);
}

TEST(linkat_symlink_follow_flag)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(make_file(P(d, "f"), "F"));
    CHECK_OK(symlink("f", P(d, "l")));
    /* without AT_SYMLINK_FOLLOW the new name is another link to the symlink itself */
    CHECK_OK(linkat(AT_FDCWD, P(d, "l"), AT_FDCWD, P(d, "nofollow"), 0));
    struct stat st;
    CHECK_OK(lstat(P(d, "nofollow"), &st));
    CHECK(S_ISLNK(st.st_mode));
    CHECK_EQ(st.st_nlink, 2);
    CHECK_OK(linkat(AT_FDCWD, P(d, "l"), AT_FDCWD, P(d, "follow"), AT_SYMLINK_FOLLOW));
    CHECK_OK(lstat(P(d, "follow"), &st));
    CHECK(S_ISREG(st.st_mode));
    CHECK_EQ(st.st_ino, ino_of(P(d, "f")));
    CHECK_EQ(nlink_of(P(d, "f")), 2);
    CHECK_ERRNO(linkat(AT_FDCWD, P(d, "f"), AT_FDCWD, P(d, "x"), 0x1), EINVAL);
}

TEST(linkat_with_dirfds)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(mkdir(P(d, "s"), 0755));
    CHECK_OK(make_file(P(d, "s/f"), "F"));
    int s = open(P(d, "s"), O_RDONLY | O_DIRECTORY);
    int t = open(d, O_RDONLY | O_DIRECTORY);
    CHECK(s >= 0 && t >= 0);
    CHECK_OK(linkat(s, "f", t, "g", 0));
    CHECK_EQ(ino_of(P(d, "g")), ino_of(P(d, "s/f")));
    close(s);
    close(t);
}

/* ---- symlinks ---- */

TEST(symlink_and_readlink)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(symlink("some/where/else", P(d, "l")));
    char buf[64];
    memset(buf, 'X', sizeof buf);
    CHECK_EQ(readlink(P(d, "l"), buf, sizeof buf), 15);
    CHECK(memcmp(buf, "some/where/else", 15) == 0);
    CHECK_EQ(buf[15], 'X'); /* no NUL is written */
    struct stat st;
    CHECK_OK(lstat(P(d, "l"), &st));
    CHECK(S_ISLNK(st.st_mode));
    CHECK_EQ(st.st_size, 15);
    CHECK_ERRNO(stat(P(d, "l"), &st), ENOENT); /* dangling */
}

TEST(readlink_truncates_to_buffer)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(symlink("0123456789", P(d, "l")));
    char buf[8];
    memset(buf, 'X', sizeof buf);
    CHECK_EQ(readlink(P(d, "l"), buf, 4), 4);
    CHECK(memcmp(buf, "0123X", 5) == 0);
    CHECK_EQ(readlink(P(d, "l"), buf, 1), 1);
    CHECK_EQ(buf[0], '0');
    CHECK_ERRNO(syscall(SYS_readlink, P(d, "l"), buf, 0), EINVAL);
}

TEST(readlink_errors)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(make_file(P(d, "f"), "x"));
    char buf[64];
    CHECK_ERRNO(readlink(P(d, "f"), buf, sizeof buf), EINVAL);
    CHECK_ERRNO(readlink(d, buf, sizeof buf), EINVAL);
    CHECK_ERRNO(readlink(P(d, "missing"), buf, sizeof buf), ENOENT);
    CHECK_ERRNO(readlink(P(d, "f/x"), buf, sizeof buf), ENOTDIR);
    CHECK_OK(symlink("t", P(d, "l")));
    CHECK_ERRNO(syscall(SYS_readlink, P(d, "l"), bad_ptr(1), 10), EFAULT);
}

TEST(symlink_errors)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(make_file(P(d, "f"), "x"));
    CHECK_ERRNO(symlink("t", P(d, "f")), EEXIST);
    CHECK_OK(symlink("t", P(d, "l")));
    CHECK_ERRNO(symlink("u", P(d, "l")), EEXIST);
    CHECK_ERRNO(symlink("t", P(d, "no/l")), ENOENT);
    CHECK_ERRNO(symlink("", P(d, "empty")), ENOENT);
    CHECK_ERRNO(symlink("t", P(d, "f/l")), ENOTDIR);
}

TEST(symlinkat_readlinkat_with_dirfd)
{
    const char *d = newdir();
    CHECK(d != NULL);
    int dfd = open(d, O_RDONLY | O_DIRECTORY);
    CHECK(dfd >= 0);
    CHECK_OK(symlinkat("target", dfd, "l"));
    char buf[16];
    CHECK_EQ(readlinkat(dfd, "l", buf, sizeof buf), 6);
    CHECK(memcmp(buf, "target", 6) == 0);
    CHECK_EQ(readlinkat(AT_FDCWD, P(d, "l"), buf, sizeof buf), 6);
    CHECK_ERRNO(readlinkat(-1, "l", buf, sizeof buf), EBADF);
    close(dfd);
}

TEST(relative_symlink_resolved_from_link_directory)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(mkdir(P(d, "a"), 0755));
    CHECK_OK(mkdir(P(d, "b"), 0755));
    CHECK_OK(make_file(P(d, "a/target"), "in a"));
    CHECK_OK(make_file(P(d, "target"), "in d"));
    CHECK_OK(symlink("target", P(d, "a/l1")));
    CHECK_OK(symlink("../a/target", P(d, "b/l2")));
    CHECK_OK(symlink("../target", P(d, "a/l3")));
    CHECK(strcmp(content(P(d, "a/l1")), "in a") == 0);
    CHECK(strcmp(content(P(d, "b/l2")), "in a") == 0);
    CHECK(strcmp(content(P(d, "a/l3")), "in d") == 0);
}

TEST(absolute_symlink)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(make_file(P(d, "f"), "abs"));
    CHECK_OK(mkdir(P(d, "a"), 0755));
    CHECK_OK(symlink(P(d, "f"), P(d, "a/l")));
    CHECK(strcmp(content(P(d, "a/l")), "abs") == 0);
}

TEST(symlink_chain_resolves)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(make_file(P(d, "f"), "end"));
    CHECK_OK(symlink("f", P(d, "l1")));
    CHECK_OK(symlink("l1", P(d, "l2")));
    CHECK_OK(symlink("l2", P(d, "l3")));
    CHECK(strcmp(content(P(d, "l3")), "end") == 0);
    struct stat a, b;
    CHECK_OK(stat(P(d, "l3"), &a));
    CHECK_OK(stat(P(d, "f"), &b));
    CHECK_EQ(a.st_ino, b.st_ino);
}

TEST(symlink_loops_eloop)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(symlink("self", P(d, "self")));
    CHECK_OK(symlink("b", P(d, "a")));
    CHECK_OK(symlink("a", P(d, "b")));
    struct stat st;
    CHECK_ERRNO(open(P(d, "self"), O_RDONLY), ELOOP);
    CHECK_ERRNO(stat(P(d, "a"), &st), ELOOP);
    CHECK_ERRNO(open(P(d, "a/x"), O_RDONLY), ELOOP);
    CHECK_ERRNO(mkdir(P(d, "a/x"), 0755), ELOOP);
    CHECK_ERRNO(chdir(P(d, "b")), ELOOP);
    CHECK_OK(lstat(P(d, "a"), &st)); /* the link itself is fine */
    CHECK(S_ISLNK(st.st_mode));
}

TEST(symlink_limit_40_follows)
{
    /* l0 -> f, l(i) -> l(i-1): opening l(k) follows k+1 links. Linux allows 40. */
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(make_file(P(d, "f"), "x"));
    char name[16], target[16];
    for (int i = 0; i <= 40; i++) {
        snprintf(name, sizeof name, "l%d", i);
        if (i == 0)
            snprintf(target, sizeof target, "f");
        else
            snprintf(target, sizeof target, "l%d", i - 1);
        CHECK_OK(symlink(target, P(d, name)));
    }
    int fd = open(P(d, "l39"), O_RDONLY); /* 40 links */
    CHECK(fd >= 0);
    close(fd);
    CHECK_ERRNO(open(P(d, "l40"), O_RDONLY), ELOOP); /* 41 links */
}

TEST(symlink_to_directory_in_path_walk)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(mkdir(P(d, "a"), 0755));
    CHECK_OK(mkdir(P(d, "a/b"), 0755));
    CHECK_OK(mkdir(P(d, "a/b/c"), 0755));
    CHECK_OK(make_file(P(d, "a/b/c/f"), "deep"));
    CHECK_OK(symlink("a/b/c", P(d, "dl")));
    CHECK(strcmp(content(P(d, "dl/f")), "deep") == 0);
    struct stat st;
    CHECK_OK(lstat(P(d, "dl"), &st));
    CHECK(S_ISLNK(st.st_mode));
    CHECK_OK(stat(P(d, "dl"), &st));
    CHECK(S_ISDIR(st.st_mode));
    /* ".." after a symlink is the physical parent of the target, a/b, not d */
    CHECK_OK(stat(P(d, "dl/.."), &st));
    CHECK_EQ(st.st_ino, ino_of(P(d, "a/b")));
    CHECK_OK(make_file(P(d, "dl/new"), "created through link"));
    CHECK(exists(P(d, "a/b/c/new")));
}

TEST(trailing_slash_follows_symlink_to_dir)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(mkdir(P(d, "dir"), 0755));
    CHECK_OK(make_file(P(d, "f"), "x"));
    CHECK_OK(symlink("dir", P(d, "dl")));
    CHECK_OK(symlink("f", P(d, "fl")));
    struct stat st;
    CHECK_OK(lstat(P(d, "dl/"), &st));
    CHECK(S_ISDIR(st.st_mode));
    CHECK_ERRNO(lstat(P(d, "fl/"), &st), ENOTDIR);
    CHECK_ERRNO(stat(P(d, "f/"), &st), ENOTDIR);
    CHECK_OK(stat(P(d, "dir/"), &st));
    CHECK_OK(stat(P(d, "dir/."), &st));
    CHECK_OK(stat(P(d, "dir//"), &st));
}

TEST(dot_and_dotdot_in_paths)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(mkdir(P(d, "a"), 0755));
    CHECK_OK(make_file(P(d, "f"), "dots"));
    CHECK(strcmp(content(P(d, "a/../f")), "dots") == 0);
    CHECK(strcmp(content(P(d, "./a/./../f")), "dots") == 0);
    CHECK(strcmp(content(P(d, "a//..///f")), "dots") == 0);
    CHECK_ERRNO(open(P(d, "f/../f"), O_RDONLY), ENOTDIR);
    struct stat a, b;
    CHECK_OK(stat("/..", &a)); /* ".." of the root is the root */
    CHECK_OK(stat("/", &b));
    CHECK_EQ(a.st_ino, b.st_ino);
}

TEST(fstatat_symlink_nofollow)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(make_file(P(d, "f"), "12345"));
    CHECK_OK(symlink("f", P(d, "l")));
    int dfd = open(d, O_RDONLY | O_DIRECTORY);
    CHECK(dfd >= 0);
    struct stat st;
    CHECK_OK(fstatat(dfd, "l", &st, 0));
    CHECK(S_ISREG(st.st_mode));
    CHECK_EQ(st.st_size, 5);
    CHECK_OK(fstatat(dfd, "l", &st, AT_SYMLINK_NOFOLLOW));
    CHECK(S_ISLNK(st.st_mode));
    CHECK_EQ(st.st_size, 1);
    CHECK_ERRNO(fstatat(dfd, "l", &st, 0x1), EINVAL);
    close(dfd);
}

TEST(at_empty_path_on_fd)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(make_file(P(d, "f"), "123"));
    int fd = open(P(d, "f"), O_RDONLY);
    CHECK(fd >= 0);
    struct stat a, b;
    CHECK_OK(fstatat(fd, "", &a, AT_EMPTY_PATH));
    CHECK_OK(fstat(fd, &b));
    CHECK_EQ(a.st_ino, b.st_ino);
    CHECK_EQ(a.st_size, 3);
    CHECK_ERRNO(fstatat(fd, "", &a, 0), ENOENT);
    CHECK_OK(fstatat(AT_FDCWD, "", &a, AT_EMPTY_PATH)); /* the cwd */
    CHECK(S_ISDIR(a.st_mode));
    close(fd);
    int pfd = open(P(d, "f"), O_PATH);
    CHECK(pfd >= 0);
    CHECK_OK(fstatat(pfd, "", &a, AT_EMPTY_PATH));
    CHECK_EQ(a.st_ino, b.st_ino);
    close(pfd);
}

/* ---- getdents64 ---- */

struct dirent64_ {
    uint64_t d_ino;
    int64_t d_off;
    unsigned short d_reclen;
    unsigned char d_type;
    char d_name[];
};

static long sys_getdents64(int fd, void *buf, size_t len)
{
    return syscall(SYS_getdents64, fd, buf, len);
}

struct seen {
    char name[256];
    unsigned char type;
    uint64_t ino;
    int count;
};

/* Reads a whole directory with a buffer of `bufsz`; fills `s` (up to max) and returns the
 * number of distinct names, or -1 on error / malformed records. */
static int list_dir(int fd, size_t bufsz, struct seen *s, int max, int *calls)
{
    char *buf = malloc(bufsz);
    int n = 0;
    *calls = 0;
    if (!buf)
        return -1;
    for (;;) {
        long r = sys_getdents64(fd, buf, bufsz);
        (*calls)++;
        if (r < 0) {
            free(buf);
            return -1;
        }
        if (r == 0)
            break;
        for (long off = 0; off < r;) {
            struct dirent64_ *e = (struct dirent64_ *)(buf + off);
            size_t nl = strlen(e->d_name);
            if (e->d_reclen % 8 != 0 || e->d_reclen < 19 + nl + 1 || off + e->d_reclen > r) {
                free(buf);
                return -1;
            }
            int i;
            for (i = 0; i < n; i++)
                if (strcmp(s[i].name, e->d_name) == 0)
                    break;
            if (i == n) {
                if (n == max) {
                    free(buf);
                    return -1;
                }
                size_t cl = nl < sizeof s[n].name ? nl : sizeof s[n].name - 1;
                memcpy(s[n].name, e->d_name, cl);
                s[n].name[cl] = '\0';
                s[n].type = e->d_type;
                s[n].ino = e->d_ino;
                s[n].count = 0;
                n++;
            }
            s[i].count++;
            off += e->d_reclen;
        }
    }
    free(buf);
    return n;
}

static struct seen *find_seen(struct seen *s, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (strcmp(s[i].name, name) == 0)
            return &s[i];
    return NULL;
}

TEST(getdents64_lists_entries_with_types)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(make_file(P(d, "file"), "x"));
    CHECK_OK(mkdir(P(d, "dir"), 0755));
    CHECK_OK(symlink("file", P(d, "link")));
    int fd = open(d, O_RDONLY | O_DIRECTORY);
    CHECK(fd >= 0);
    struct seen s[16];
    int calls;
    int n = list_dir(fd, 4096, s, 16, &calls);
    close(fd);
    CHECK_EQ(n, 5);
    struct seen *e;
    CHECK((e = find_seen(s, n, ".")) != NULL);
    CHECK_EQ(e->type, DT_DIR);
    CHECK_EQ(e->ino, ino_of(d));
    CHECK((e = find_seen(s, n, "..")) != NULL);
    CHECK_EQ(e->type, DT_DIR);
    CHECK((e = find_seen(s, n, "file")) != NULL);
    CHECK_EQ(e->type, DT_REG);
    CHECK_EQ(e->ino, ino_of(P(d, "file")));
    CHECK((e = find_seen(s, n, "dir")) != NULL);
    CHECK_EQ(e->type, DT_DIR);
    CHECK_EQ(e->ino, ino_of(P(d, "dir")));
    CHECK((e = find_seen(s, n, "link")) != NULL);
    CHECK_EQ(e->type, DT_LNK);
    CHECK_EQ(e->ino, ino_of(P(d, "link")));
    for (int i = 0; i < n; i++)
        CHECK_EQ(s[i].count, 1);
}

TEST(getdents64_empty_dir_has_dot_and_dotdot)
{
    const char *d = newdir();
    CHECK(d != NULL);
    int fd = open(d, O_RDONLY | O_DIRECTORY);
    CHECK(fd >= 0);
    struct seen s[4];
    int calls;
    int n = list_dir(fd, 1024, s, 4, &calls);
    CHECK_EQ(n, 2);
    CHECK(find_seen(s, n, ".") && find_seen(s, n, ".."));
    char buf[256];
    CHECK_EQ(sys_getdents64(fd, buf, sizeof buf), 0); /* still at the end */
    close(fd);
}

TEST(getdents64_many_entries_small_buffer_each_once)
{
    enum { N = 300 };
    const char *d = newdir();
    CHECK(d != NULL);
    char name[32];
    for (int i = 0; i < N; i++) {
        snprintf(name, sizeof name, "entry-%03d", i);
        CHECK_OK(make_file(P(d, name), ""));
    }
    int fd = open(d, O_RDONLY | O_DIRECTORY);
    CHECK(fd >= 0);
    static struct seen s[N + 8];
    int calls;
    int n = list_dir(fd, 512, s, N + 8, &calls);
    CHECK_EQ(n, N + 2);
    CHECK(calls > 2); /* it really took several calls */
    for (int i = 0; i < n; i++)
        if (s[i].count != 1)
            FAIL("%s seen %d times", s[i].name, s[i].count);
    for (int i = 0; i < N; i++) {
        snprintf(name, sizeof name, "entry-%03d", i);
        struct seen *e = find_seen(s, n, name);
        if (!e)
            FAIL("%s missing", name);
        CHECK_EQ(e->type, DT_REG);
    }
    /* rewinding lists everything again */
    CHECK_EQ(lseek(fd, 0, SEEK_SET), 0);
    n = list_dir(fd, 8192, s, N + 8, &calls);
    CHECK_EQ(n, N + 2);
    close(fd);
}

TEST(getdents64_sees_removal_after_rewind)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(make_file(P(d, "a"), ""));
    CHECK_OK(make_file(P(d, "b"), ""));
    int fd = open(d, O_RDONLY | O_DIRECTORY);
    CHECK(fd >= 0);
    struct seen s[8];
    int calls;
    CHECK_EQ(list_dir(fd, 1024, s, 8, &calls), 4);
    CHECK_OK(unlink(P(d, "a")));
    CHECK_OK(make_file(P(d, "c"), ""));
    CHECK_EQ(lseek(fd, 0, SEEK_SET), 0);
    int n = list_dir(fd, 1024, s, 8, &calls);
    close(fd);
    CHECK_EQ(n, 4);
    CHECK(find_seen(s, n, "a") == NULL);
    CHECK(find_seen(s, n, "b") != NULL);
    CHECK(find_seen(s, n, "c") != NULL);
}

TEST(getdents64_errors)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(make_file(P(d, "f"), "x"));
    int fd = open(d, O_RDONLY | O_DIRECTORY);
    CHECK(fd >= 0);
    char buf[4096];
    CHECK_ERRNO(sys_getdents64(fd, buf, 8), EINVAL); /* smaller than one record */
    CHECK_ERRNO(sys_getdents64(fd, bad_ptr(1), sizeof buf), EFAULT);
    close(fd);
    CHECK_ERRNO(sys_getdents64(fd, buf, sizeof buf), EBADF);
    int ffd = open(P(d, "f"), O_RDONLY);
    CHECK(ffd >= 0);
    CHECK_ERRNO(sys_getdents64(ffd, buf, sizeof buf), ENOTDIR);
    close(ffd);
}

/* ---- getcwd / chdir / fchdir ---- */

/* Every case that changes the cwd restores it with fchdir to this. */
static int save_cwd(void) { return open(".", O_RDONLY | O_DIRECTORY); }

static int restore_cwd(int fd)
{
    int r = fchdir(fd);
    close(fd);
    return r;
}

TEST(chdir_and_getcwd)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(mkdir(P(d, "sub"), 0755));
    int saved = save_cwd();
    CHECK(saved >= 0);
    char buf[PATH_MAX];
    int r1 = chdir(P(d, "sub"));
    char *g1 = getcwd(buf, sizeof buf);
    int ok1 = g1 && strcmp(buf, P(d, "sub")) == 0;
    int r2 = chdir("..");
    char *g2 = getcwd(buf, sizeof buf);
    int ok2 = g2 && strcmp(buf, d) == 0;
    int fd = open("sub", O_RDONLY | O_DIRECTORY); /* relative to the new cwd */
    CHECK_OK(restore_cwd(saved));
    CHECK_EQ(r1, 0);
    CHECK(ok1);
    CHECK_EQ(r2, 0);
    CHECK(ok2);
    CHECK(fd >= 0);
    close(fd);
}

TEST(getcwd_raw_returns_length_with_nul)
{
    const char *d = newdir();
    CHECK(d != NULL);
    int saved = save_cwd();
    CHECK(saved >= 0);
    char buf[PATH_MAX];
    int r = chdir(d);
    long n = syscall(SYS_getcwd, buf, sizeof buf);
    long small = syscall(SYS_getcwd, buf, 3);
    int e_small = errno;
    long zero = syscall(SYS_getcwd, buf, 0);
    int e_zero = errno;
    long exact = syscall(SYS_getcwd, buf, strlen(d) + 1);
    long one_short = syscall(SYS_getcwd, buf, strlen(d));
    int e_short = errno;
    long bad = syscall(SYS_getcwd, bad_ptr(1), sizeof buf);
    int e_bad = errno;
    CHECK_OK(restore_cwd(saved));
    CHECK_EQ(r, 0);
    CHECK_EQ(n, (long)strlen(d) + 1);
    CHECK_EQ(small, -1);
    CHECK_EQ(e_small, ERANGE);
    CHECK_EQ(zero, -1);
    CHECK_EQ(e_zero, ERANGE);
    CHECK_EQ(exact, (long)strlen(d) + 1);
    CHECK_EQ(one_short, -1);
    CHECK_EQ(e_short, ERANGE);
    CHECK_EQ(bad, -1);
    CHECK_EQ(e_bad, EFAULT);
}

TEST(getcwd_of_removed_directory_enoent)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(mkdir(P(d, "gone"), 0755));
    int saved = save_cwd();
    CHECK(saved >= 0);
    char buf[PATH_MAX];
    int r = chdir(P(d, "gone"));
    int rm = rmdir(P(d, "gone"));
    long g = syscall(SYS_getcwd, buf, sizeof buf);
    int e = errno;
    int cr = open("x", O_RDWR | O_CREAT, 0644); /* cannot create in a dead directory */
    int ce = errno;
    CHECK_OK(restore_cwd(saved));
    CHECK_EQ(r, 0);
    CHECK_EQ(rm, 0);
    CHECK_EQ(g, -1);
    CHECK_EQ(e, ENOENT);
    CHECK_EQ(cr, -1);
    CHECK_EQ(ce, ENOENT);
}

TEST(chdir_errors)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(make_file(P(d, "f"), "x"));
    CHECK_ERRNO(chdir(P(d, "f")), ENOTDIR);
    CHECK_ERRNO(chdir(P(d, "missing")), ENOENT);
    CHECK_ERRNO(chdir(""), ENOENT);
    CHECK_ERRNO(syscall(SYS_chdir, bad_ptr(1)), EFAULT);
}

TEST(fchdir_and_errors)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(make_file(P(d, "f"), "x"));
    int dfd = open(d, O_RDONLY | O_DIRECTORY);
    int ffd = open(P(d, "f"), O_RDONLY);
    CHECK(dfd >= 0 && ffd >= 0);
    CHECK_ERRNO(fchdir(ffd), ENOTDIR);
    CHECK_ERRNO(fchdir(9999), EBADF);
    int saved = save_cwd();
    CHECK(saved >= 0);
    int r = fchdir(dfd);
    char buf[PATH_MAX];
    char *g = getcwd(buf, sizeof buf);
    int ok = g && strcmp(buf, d) == 0;
    int fd = open("f", O_RDONLY);
    CHECK_OK(restore_cwd(saved));
    CHECK_EQ(r, 0);
    CHECK(ok);
    CHECK(fd >= 0);
    close(fd);
    close(dfd);
    close(ffd);
}

TEST(chdir_through_symlink_getcwd_is_physical)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(mkdir(P(d, "real"), 0755));
    CHECK_OK(symlink("real", P(d, "link")));
    int saved = save_cwd();
    CHECK(saved >= 0);
    int r = chdir(P(d, "link"));
    char buf[PATH_MAX];
    char *g = getcwd(buf, sizeof buf);
    int ok = g && strcmp(buf, P(d, "real")) == 0;
    CHECK_OK(restore_cwd(saved));
    CHECK_EQ(r, 0);
    CHECK(ok);
}

TEST(cwd_of_root_is_slash)
{
    int saved = save_cwd();
    CHECK(saved >= 0);
    int r = chdir("/");
    char buf[16];
    long n = syscall(SYS_getcwd, buf, sizeof buf);
    int r2 = chdir("..");
    long n2 = syscall(SYS_getcwd, buf, sizeof buf);
    CHECK_OK(restore_cwd(saved));
    CHECK_EQ(r, 0);
    CHECK_EQ(n, 2);
    CHECK_EQ(r2, 0);
    CHECK_EQ(n2, 2);
    CHECK(strcmp(buf, "/") == 0);
}
