/* files.c - regular files through file descriptors: open/openat/creat and their flags (O_CREAT,
 * O_EXCL, O_TRUNC, O_APPEND, O_DIRECTORY, O_NOFOLLOW, O_CLOEXEC, O_PATH) and errors, read, write,
 * pread64, pwrite64, lseek (holes, SEEK_DATA/SEEK_HOLE, bad whence), readv, writev, dup, dup2,
 * dup3, fcntl (F_DUPFD, F_DUPFD_CLOEXEC, F_GETFD, F_SETFD, F_GETFL, F_SETFL), EMFILE under a
 * lowered RLIMIT_NOFILE, close, truncate, ftruncate, fsync, sync.
 * Files live in a mkdtemp("/tmp/ptest.XXXXXX") directory removed at exit.
 * Syscalls: open, openat, creat, close, read, write, pread64, pwrite64, lseek, readv, writev,
 * dup, dup2, dup3, fcntl, fstat, newfstatat, truncate, ftruncate, fsync, fdatasync, sync,
 * pipe2, prlimit64, symlink, mkdir, unlink, umask, fork, wait4, mmap, munmap.
 */
#define _GNU_SOURCE
#define TEST_MAIN
#include "test.h"

#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include "children.h"
#include "scratch.h"

#define KO_LARGEFILE 0100000 /* the kernel's O_LARGEFILE on x86-64, set on every open */

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

/* The whole content of a file (up to cap-1 bytes, NUL-terminated); length or -1. */
static long slurp(const char *path, char *buf, size_t cap)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    size_t n = 0;
    ssize_t r;
    while (n + 1 < cap && (r = read(fd, buf + n, cap - 1 - n)) > 0)
        n += (size_t)r;
    close(fd);
    buf[n] = '\0';
    return (long)n;
}

static long long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long long)st.st_size : -1;
}

/* ---- open / openat / creat ---- */

TEST(open_creat_creates_empty_file_with_mode)
{
    const char *d = newdir();
    CHECK(d != NULL);
    mode_t old = umask(0);
    int fd = open(P(d, "f"), O_CREAT | O_RDWR, 0641);
    umask(old);
    CHECK(fd >= 0);
    struct stat st;
    CHECK_OK(fstat(fd, &st));
    CHECK(S_ISREG(st.st_mode));
    CHECK_EQ(st.st_mode & 07777, 0641);
    CHECK_EQ(st.st_size, 0);
    CHECK_EQ(st.st_nlink, 1);
    CHECK_EQ(st.st_uid, geteuid());
    CHECK_EQ(st.st_gid, getegid());
    CHECK_OK(close(fd));
}

TEST(open_creat_mode_masked_by_umask)
{
    const char *d = newdir();
    CHECK(d != NULL);
    mode_t old = umask(027);
    int fd = open(P(d, "f"), O_CREAT | O_WRONLY, 0777);
    umask(old);
    CHECK(fd >= 0);
    struct stat st;
    CHECK_OK(fstat(fd, &st));
    CHECK_EQ(st.st_mode & 07777, 0750);
    close(fd);
}

TEST(open_missing_without_creat_enoent)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_ERRNO(open(P(d, "missing"), O_RDONLY), ENOENT);
    CHECK_ERRNO(open(P(d, "missing"), O_RDWR | O_TRUNC), ENOENT);
    CHECK_ERRNO(open(P(d, "no/such/dir"), O_RDWR | O_CREAT, 0644), ENOENT);
    CHECK_ERRNO(open("", O_RDONLY), ENOENT);
}

TEST(open_creat_existing_keeps_content)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(make_file(P(d, "f"), "content"));
    int fd = open(P(d, "f"), O_CREAT | O_RDWR, 0600);
    CHECK(fd >= 0);
    char buf[16] = {0};
    CHECK_EQ(read(fd, buf, sizeof buf), 7);
    CHECK(strcmp(buf, "content") == 0);
    struct stat st;
    CHECK_OK(fstat(fd, &st));
    CHECK_EQ(st.st_mode & 0777, 0644); /* the mode argument is ignored for an existing file */
    close(fd);
}

TEST(open_creat_excl_existing_eexist)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(make_file(P(d, "f"), "x"));
    CHECK_ERRNO(open(P(d, "f"), O_CREAT | O_EXCL | O_RDWR, 0644), EEXIST);
    CHECK_OK(mkdir(P(d, "dir"), 0755));
    CHECK_ERRNO(open(P(d, "dir"), O_CREAT | O_EXCL | O_RDONLY, 0644), EEXIST);
    int fd = open(P(d, "new"), O_CREAT | O_EXCL | O_RDWR, 0644);
    CHECK(fd >= 0);
    close(fd);
}

TEST(open_creat_excl_on_symlink_eexist_even_dangling)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(symlink(P(d, "nowhere"), P(d, "dangling")));
    CHECK_ERRNO(open(P(d, "dangling"), O_CREAT | O_EXCL | O_WRONLY, 0644), EEXIST);
    CHECK_ERRNO(access(P(d, "nowhere"), F_OK), ENOENT);
}

TEST(open_creat_through_dangling_symlink_creates_target)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(symlink("target", P(d, "link")));
    int fd = open(P(d, "link"), O_CREAT | O_WRONLY, 0644);
    CHECK(fd >= 0);
    CHECK_EQ(write(fd, "t", 1), 1);
    close(fd);
    struct stat st;
    CHECK_OK(lstat(P(d, "target"), &st));
    CHECK(S_ISREG(st.st_mode));
    CHECK_EQ(st.st_size, 1);
}

TEST(open_trunc_truncates_existing)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(make_file(P(d, "f"), "0123456789"));
    int fd = open(P(d, "f"), O_WRONLY | O_TRUNC);
    CHECK(fd >= 0);
    struct stat st;
    CHECK_OK(fstat(fd, &st));
    CHECK_EQ(st.st_size, 0);
    CHECK_EQ(write(fd, "ab", 2), 2);
    close(fd);
    char buf[32];
    CHECK_EQ(slurp(P(d, "f"), buf, sizeof buf), 2);
    CHECK(strcmp(buf, "ab") == 0);
}

TEST(open_append_writes_go_to_end)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(make_file(P(d, "f"), "start"));
    int fd = open(P(d, "f"), O_RDWR | O_APPEND);
    CHECK(fd >= 0);
    CHECK_EQ(lseek(fd, 0, SEEK_CUR), 0);
    CHECK_EQ(write(fd, "+1", 2), 2);
    CHECK_EQ(lseek(fd, 0, SEEK_CUR), 7);
    CHECK_EQ(lseek(fd, 1, SEEK_SET), 1);
    CHECK_EQ(write(fd, "+2", 2), 2); /* still at the end */
    CHECK_EQ(lseek(fd, 0, SEEK_CUR), 9);
    char buf[16] = {0};
    CHECK_EQ(pread(fd, buf, sizeof buf, 0), 9);
    CHECK(strcmp(buf, "start+1+2") == 0);
    close(fd);
}

TEST(write_far_beyond_the_end_makes_a_sparse_file)
{
    const char *d = newdir();
    CHECK(d != NULL);
    int fd = open(P(d, "sparse"), O_RDWR | O_CREAT | O_EXCL, 0600);
    CHECK(fd >= 0);
    const off_t far = (off_t)1 << 40; /* a 1 TiB hole, then one byte */
    CHECK_EQ(pwrite(fd, "x", 1, far), 1);
    struct stat st;
    CHECK_OK(fstat(fd, &st));
    CHECK_EQ(st.st_size, far + 1);
    CHECK(st.st_blocks < 1024); /* the hole takes no space */
    char c = 0;
    CHECK_EQ(pread(fd, &c, 1, far), 1);
    CHECK_EQ(c, 'x');
    char zeros[8] = {1, 1, 1, 1, 1, 1, 1, 1};
    CHECK_EQ(pread(fd, zeros, sizeof zeros, far / 2), 8);
    for (int i = 0; i < 8; i++)
        CHECK_EQ(zeros[i], 0);
    /* Mapped there too: the page with the data, and a hole page far below it. */
    unsigned char *m = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, far);
    CHECK(m != MAP_FAILED);
    CHECK_EQ(m[0], 'x');
    munmap(m, 4096);
    m = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, far / 2);
    CHECK(m != MAP_FAILED);
    CHECK_EQ(m[0], 0);
    munmap(m, 4096);
    CHECK_OK(ftruncate(fd, 0));
    CHECK_OK(fstat(fd, &st));
    CHECK_EQ(st.st_size, 0);
    close(fd);
}

TEST(lseek_whence_is_checked_first_and_data_and_hole_cover_the_file)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(make_file(P(d, "f"), "0123456789"));
    int fd = open(P(d, "f"), O_RDONLY);
    CHECK(fd >= 0);
    int p[2];
    CHECK_OK(pipe(p));
    long bad = lseek(fd, 0, 5);
    int bad_e = errno;
    long neg = lseek(fd, -1, SEEK_SET);
    int neg_e = errno;
    long data = lseek(fd, 3, SEEK_DATA);
    long hole = lseek(fd, 3, SEEK_HOLE);
    long past = lseek(fd, 10, SEEK_DATA);
    int past_e = errno;
    long past_hole = lseek(fd, 10, SEEK_HOLE);
    int past_hole_e = errno;
    long pipe_bad = lseek(p[0], 0, 99); /* the whence check comes before ESPIPE */
    int pipe_bad_e = errno;
    long pipe_set = lseek(p[0], 0, SEEK_SET);
    int pipe_set_e = errno;
    close(fd);
    close(p[0]);
    close(p[1]);
    CHECK(bad == -1 && bad_e == EINVAL);
    CHECK(neg == -1 && neg_e == EINVAL);
    CHECK_EQ(data, 3);
    CHECK_EQ(hole, 10);
    CHECK(past == -1 && past_e == ENXIO);
    CHECK(past_hole == -1 && past_hole_e == ENXIO);
    CHECK(pipe_bad == -1 && pipe_bad_e == EINVAL);
    CHECK(pipe_set == -1 && pipe_set_e == ESPIPE);
}

TEST(open_append_other_writer_then_append_still_at_end)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(make_file(P(d, "f"), "ab"));
    int a = open(P(d, "f"), O_WRONLY | O_APPEND);
    int w = open(P(d, "f"), O_WRONLY);
    CHECK(a >= 0 && w >= 0);
    CHECK_EQ(pwrite(w, "cdef", 4, 2), 4); /* the file grows behind a's back */
    CHECK_EQ(write(a, "G", 1), 1);
    close(a);
    close(w);
    char buf[16];
    CHECK_EQ(slurp(P(d, "f"), buf, sizeof buf), 7);
    CHECK(strcmp(buf, "abcdefG") == 0);
}

TEST(pwrite_on_o_append_fd_appends_linux)
{
    /* Linux ignores pwrite's offset on an O_APPEND file (documented under BUGS in pwrite(2)). */
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(make_file(P(d, "f"), "abc"));
    int fd = open(P(d, "f"), O_WRONLY | O_APPEND);
    CHECK(fd >= 0);
    CHECK_EQ(pwrite(fd, "Z", 1, 0), 1);
    close(fd);
    char buf[16];
    CHECK_EQ(slurp(P(d, "f"), buf, sizeof buf), 4);
    CHECK(strcmp(buf, "abcZ") == 0);
}

TEST(open_directory_flag)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(make_file(P(d, "f"), "x"));
    CHECK_ERRNO(open(P(d, "f"), O_RDONLY | O_DIRECTORY), ENOTDIR);
    int fd = open(d, O_RDONLY | O_DIRECTORY);
    CHECK(fd >= 0);
    struct stat st;
    CHECK_OK(fstat(fd, &st));
    CHECK(S_ISDIR(st.st_mode));
    close(fd);
    CHECK_ERRNO(open(P(d, "missing"), O_RDONLY | O_DIRECTORY), ENOENT);
}

TEST(open_directory_follows_symlink_to_dir)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(symlink(d, P(d, "dl")));
    int fd = open(P(d, "dl"), O_RDONLY | O_DIRECTORY);
    CHECK(fd >= 0);
    close(fd);
}

TEST(open_nofollow_on_symlink_eloop)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(make_file(P(d, "f"), "x"));
    CHECK_OK(symlink("f", P(d, "l")));
    CHECK_ERRNO(open(P(d, "l"), O_RDONLY | O_NOFOLLOW), ELOOP);
    CHECK_ERRNO(open(P(d, "l"), O_WRONLY | O_CREAT | O_NOFOLLOW, 0644), ELOOP);
    int fd = open(P(d, "f"), O_RDONLY | O_NOFOLLOW);
    CHECK(fd >= 0);
    close(fd);
}

TEST(open_nofollow_only_applies_to_last_component)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(mkdir(P(d, "real"), 0755));
    CHECK_OK(make_file(P(d, "real/f"), "x"));
    CHECK_OK(symlink("real", P(d, "dl")));
    int fd = open(P(d, "dl/f"), O_RDONLY | O_NOFOLLOW);
    CHECK(fd >= 0);
    close(fd);
}

TEST(open_cloexec_sets_fd_flag)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(make_file(P(d, "f"), "x"));
    int a = open(P(d, "f"), O_RDONLY | O_CLOEXEC);
    int b = open(P(d, "f"), O_RDONLY);
    CHECK(a >= 0 && b >= 0);
    CHECK_EQ(fcntl(a, F_GETFD), FD_CLOEXEC);
    CHECK_EQ(fcntl(b, F_GETFD), 0);
    CHECK_EQ(fcntl(a, F_GETFL) & O_CLOEXEC, 0); /* not a file status flag */
    close(a);
    close(b);
}

TEST(open_path_fd_cannot_read_or_write)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(make_file(P(d, "f"), "data"));
    int fd = open(P(d, "f"), O_PATH);
    CHECK(fd >= 0);
    char c;
    CHECK_ERRNO(read(fd, &c, 1), EBADF);
    CHECK_ERRNO(write(fd, "x", 1), EBADF);
    CHECK_ERRNO(pread(fd, &c, 1, 0), EBADF);
    struct stat st;
    CHECK_OK(fstat(fd, &st));
    CHECK(S_ISREG(st.st_mode));
    CHECK_EQ(st.st_size, 4);
    CHECK(fcntl(fd, F_GETFL) & O_PATH);
    int d2 = dup(fd);
    CHECK(d2 >= 0);
    CHECK_ERRNO(read(d2, &c, 1), EBADF);
    close(d2);
    close(fd);
}

TEST(open_path_directory_as_dirfd)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(make_file(P(d, "f"), "abc"));
    int dfd = open(d, O_PATH | O_DIRECTORY);
    CHECK(dfd >= 0);
    int fd = openat(dfd, "f", O_RDONLY);
    CHECK(fd >= 0);
    char buf[4] = {0};
    CHECK_EQ(read(fd, buf, 3), 3);
    CHECK(strcmp(buf, "abc") == 0);
    close(fd);
    close(dfd);
}

TEST(open_path_nofollow_opens_the_symlink_itself)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(symlink("somewhere", P(d, "l")));
    int fd = open(P(d, "l"), O_PATH | O_NOFOLLOW);
    CHECK(fd >= 0);
    struct stat st;
    CHECK_OK(fstat(fd, &st));
    CHECK(S_ISLNK(st.st_mode));
    CHECK_EQ(st.st_size, 9);
    close(fd);
}

TEST(rdonly_fd_write_ebadf_wronly_fd_read_ebadf)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(make_file(P(d, "f"), "data"));
    int r = open(P(d, "f"), O_RDONLY);
    int w = open(P(d, "f"), O_WRONLY);
    CHECK(r >= 0 && w >= 0);
    char c;
    CHECK_ERRNO(write(r, "x", 1), EBADF);
    CHECK_ERRNO(pwrite(r, "x", 1, 0), EBADF);
    CHECK_ERRNO(read(w, &c, 1), EBADF);
    CHECK_ERRNO(pread(w, &c, 1, 0), EBADF);
    CHECK_EQ(read(r, &c, 1), 1);
    CHECK_EQ(write(w, "x", 1), 1);
    close(r);
    close(w);
}

TEST(open_directory_for_writing_eisdir)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_ERRNO(open(d, O_WRONLY), EISDIR);
    CHECK_ERRNO(open(d, O_RDWR), EISDIR);
    CHECK_ERRNO(open(d, O_RDONLY | O_CREAT, 0644), EISDIR);
    CHECK_ERRNO(open(d, O_WRONLY | O_TRUNC), EISDIR);
    int fd = open(d, O_RDONLY);
    CHECK(fd >= 0);
    char c;
    CHECK_ERRNO(read(fd, &c, 1), EISDIR);
    close(fd);
}

TEST(open_creat_with_trailing_slash_eisdir)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_ERRNO(open(P(d, "new/"), O_RDWR | O_CREAT, 0644), EISDIR);
    CHECK_ERRNO(access(P(d, "new"), F_OK), ENOENT);
}

TEST(open_path_through_file_enotdir)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(make_file(P(d, "f"), "x"));
    CHECK_ERRNO(open(P(d, "f/x"), O_RDONLY), ENOTDIR);
    CHECK_ERRNO(open(P(d, "f/x"), O_RDWR | O_CREAT, 0644), ENOTDIR);
    CHECK_ERRNO(open(P(d, "f/"), O_RDONLY), ENOTDIR);
}

TEST(open_name_too_long)
{
    const char *d = newdir();
    CHECK(d != NULL);
    char name[300];
    memset(name, 'a', 256);
    name[256] = '\0';
    CHECK_ERRNO(open(P(d, name), O_RDWR | O_CREAT, 0644), ENAMETOOLONG);
    CHECK_ERRNO(open(P(d, name), O_RDONLY), ENAMETOOLONG);
    name[255] = '\0'; /* 255 is allowed */
    int fd = open(P(d, name), O_RDWR | O_CREAT, 0644);
    CHECK(fd >= 0);
    close(fd);
    CHECK_OK(unlink(P(d, name)));
    /* a path of PATH_MAX bytes without its NUL is too long */
    char *longp = malloc(PATH_MAX + 2);
    CHECK(longp != NULL);
    for (int i = 0; i < PATH_MAX; i += 2) {
        longp[i] = '/';
        longp[i + 1] = '.';
    }
    longp[PATH_MAX] = '\0';
    errno = 0;
    int r = open(longp, O_RDONLY);
    int e = errno;
    longp[PATH_MAX - 1] = '\0'; /* 4095 characters: fine */
    int r2 = open(longp, O_RDONLY);
    free(longp);
    CHECK_EQ(r, -1);
    CHECK_EQ(e, ENAMETOOLONG);
    CHECK(r2 >= 0);
    close(r2);
}

TEST(open_bad_path_pointer_efault)
{
    CHECK_ERRNO(syscall(SYS_open, bad_ptr(1), O_RDONLY, 0), EFAULT);
    CHECK_ERRNO(syscall(SYS_openat, AT_FDCWD, bad_ptr(1), O_RDONLY, 0), EFAULT);
    CHECK_ERRNO(syscall(SYS_open, bad_ptr(0xffff800000000000UL), O_RDONLY, 0), EFAULT);
}

TEST(openat_dirfd_relative_and_absolute)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(make_file(P(d, "f"), "abc"));
    int dfd = open(d, O_RDONLY | O_DIRECTORY);
    CHECK(dfd >= 0);
    int fd = openat(dfd, "f", O_RDONLY);
    CHECK(fd >= 0);
    close(fd);
    fd = openat(dfd, "g", O_CREAT | O_WRONLY, 0644);
    CHECK(fd >= 0);
    close(fd);
    CHECK_OK(access(P(d, "g"), F_OK));
    /* an absolute path ignores dirfd, even an invalid one */
    fd = openat(-1, P(d, "f"), O_RDONLY);
    CHECK(fd >= 0);
    close(fd);
    fd = openat(AT_FDCWD, P(d, "f"), O_RDONLY);
    CHECK(fd >= 0);
    close(fd);
    CHECK_ERRNO(openat(-1, "f", O_RDONLY), EBADF);
    CHECK_ERRNO(openat(999, "f", O_RDONLY), EBADF);
    int ffd = openat(dfd, "f", O_RDONLY);
    CHECK(ffd >= 0);
    CHECK_ERRNO(openat(ffd, "x", O_RDONLY), ENOTDIR);
    close(ffd);
    close(dfd);
}

TEST(openat_at_fdcwd_relative)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(make_file(P(d, "f"), "abc"));
    int cwd = open(".", O_RDONLY | O_DIRECTORY);
    CHECK(cwd >= 0);
    CHECK_OK(chdir(d));
    int fd = openat(AT_FDCWD, "f", O_RDONLY);
    int fd2 = syscall(SYS_open, "./f", O_RDONLY, 0);
    CHECK_OK(fchdir(cwd));
    close(cwd);
    CHECK(fd >= 0);
    CHECK(fd2 >= 0);
    close(fd);
    close(fd2);
}

TEST(creat_is_wronly_creat_trunc)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(make_file(P(d, "f"), "old content"));
    int fd = creat(P(d, "f"), 0644);
    CHECK(fd >= 0);
    CHECK_EQ(fcntl(fd, F_GETFL) & O_ACCMODE, O_WRONLY);
    struct stat st;
    CHECK_OK(fstat(fd, &st));
    CHECK_EQ(st.st_size, 0);
    char c;
    CHECK_ERRNO(read(fd, &c, 1), EBADF);
    close(fd);
    long r = syscall(SYS_creat, P(d, "g"), 0600);
    CHECK(r >= 0);
    CHECK_EQ(fcntl((int)r, F_GETFL) & O_ACCMODE, O_WRONLY);
    close((int)r);
    CHECK_OK(stat(P(d, "g"), &st));
    CHECK(S_ISREG(st.st_mode));
}

TEST(fgetfl_has_kernel_largefile_bit_on_x86_64)
{
    const char *d = newdir();
    CHECK(d != NULL);
    int fd = syscall(SYS_openat, AT_FDCWD, P(d, "f"), O_RDWR | O_CREAT, 0644);
    CHECK(fd >= 0);
    CHECK_EQ(syscall(SYS_fcntl, fd, F_GETFL), O_RDWR | KO_LARGEFILE);
    close(fd);
}

/* ---- read / write / pread / pwrite ---- */

TEST(write_then_read_back)
{
    const char *d = newdir();
    CHECK(d != NULL);
    int fd = open(P(d, "f"), O_RDWR | O_CREAT, 0644);
    CHECK(fd >= 0);
    CHECK_EQ(write(fd, "hello, ", 7), 7);
    CHECK_EQ(write(fd, "world", 5), 5);
    CHECK_EQ(lseek(fd, 0, SEEK_CUR), 12);
    CHECK_EQ(lseek(fd, 0, SEEK_SET), 0);
    char buf[32] = {0};
    CHECK_EQ(read(fd, buf, 5), 5);
    CHECK_EQ(read(fd, buf + 5, sizeof buf - 6), 7);
    CHECK(strcmp(buf, "hello, world") == 0);
    CHECK_EQ(read(fd, buf, sizeof buf), 0); /* EOF */
    CHECK_EQ(write(fd, "", 0), 0);
    CHECK_EQ(read(fd, buf, 0), 0);
    close(fd);
}

TEST(write_large_buffer_across_pages)
{
    const char *d = newdir();
    CHECK(d != NULL);
    enum { N = 100000 };
    unsigned char *a = malloc(N), *b = malloc(N);
    CHECK(a && b);
    for (int i = 0; i < N; i++)
        a[i] = (unsigned char)(i * 31 + 7);
    int fd = open(P(d, "f"), O_RDWR | O_CREAT, 0644);
    CHECK(fd >= 0);
    CHECK_EQ(write(fd, a, N), N);
    CHECK_EQ(pread(fd, b, N, 0), N);
    CHECK(memcmp(a, b, N) == 0);
    CHECK_EQ(pread(fd, b, 10, N - 3), 3);
    CHECK(memcmp(b, a + N - 3, 3) == 0);
    close(fd);
    free(a);
    free(b);
}

TEST(pread_pwrite_do_not_move_offset)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(make_file(P(d, "f"), "0123456789"));
    int fd = open(P(d, "f"), O_RDWR);
    CHECK(fd >= 0);
    CHECK_EQ(lseek(fd, 3, SEEK_SET), 3);
    char buf[8] = {0};
    CHECK_EQ(pread(fd, buf, 4, 5), 4);
    CHECK(memcmp(buf, "5678", 4) == 0);
    CHECK_EQ(lseek(fd, 0, SEEK_CUR), 3);
    CHECK_EQ(pwrite(fd, "AB", 2, 8), 2);
    CHECK_EQ(lseek(fd, 0, SEEK_CUR), 3);
    CHECK_EQ(read(fd, buf, 1), 1);
    CHECK_EQ(buf[0], '3');
    CHECK_EQ(pwrite(fd, "XY", 2, 12), 2); /* past EOF: hole at 10..11 */
    CHECK_EQ(lseek(fd, 0, SEEK_CUR), 4);
    char all[16];
    CHECK_EQ(pread(fd, all, sizeof all, 0), 14);
    CHECK(memcmp(all, "01234567AB\0\0XY", 14) == 0);
    close(fd);
}

TEST(pread_at_and_past_eof_returns_zero)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(make_file(P(d, "f"), "abc"));
    int fd = open(P(d, "f"), O_RDONLY);
    CHECK(fd >= 0);
    char buf[4];
    CHECK_EQ(pread(fd, buf, 4, 3), 0);
    CHECK_EQ(pread(fd, buf, 4, 1000000), 0);
    CHECK_EQ(pread(fd, buf, 4, 2), 1);
    close(fd);
}

TEST(pread_pwrite_negative_offset_einval)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(make_file(P(d, "f"), "abc"));
    int fd = open(P(d, "f"), O_RDWR);
    CHECK(fd >= 0);
    char buf[4];
    CHECK_ERRNO(pread(fd, buf, 1, -1), EINVAL);
    CHECK_ERRNO(pwrite(fd, "x", 1, -1), EINVAL);
    close(fd);
}

TEST(pread_pwrite_on_pipe_espipe)
{
    int p[2];
    CHECK_OK(pipe(p));
    char c;
    CHECK_ERRNO(pread(p[0], &c, 1, 0), ESPIPE);
    CHECK_ERRNO(pwrite(p[1], "x", 1, 0), ESPIPE);
    close(p[0]);
    close(p[1]);
}

TEST(read_write_bad_buffer_efault)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(make_file(P(d, "f"), "abc"));
    int fd = open(P(d, "f"), O_RDWR);
    CHECK(fd >= 0);
    CHECK_ERRNO(read(fd, bad_ptr(1), 3), EFAULT);
    CHECK_ERRNO(write(fd, bad_ptr(1), 3), EFAULT);
    CHECK_EQ(file_size(P(d, "f")), 3);
    close(fd);
}

TEST(read_write_bad_fd_ebadf)
{
    char c;
    CHECK_ERRNO(read(-1, &c, 1), EBADF);
    CHECK_ERRNO(write(-1, &c, 1), EBADF);
    CHECK_ERRNO(read(9999, &c, 1), EBADF);
    CHECK_ERRNO(pread(9999, &c, 1, 0), EBADF);
}

/* ---- lseek ---- */

TEST(lseek_set_cur_end)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(make_file(P(d, "f"), "0123456789"));
    int fd = open(P(d, "f"), O_RDONLY);
    CHECK(fd >= 0);
    CHECK_EQ(lseek(fd, 4, SEEK_SET), 4);
    CHECK_EQ(lseek(fd, 2, SEEK_CUR), 6);
    CHECK_EQ(lseek(fd, -1, SEEK_CUR), 5);
    char c;
    CHECK_EQ(read(fd, &c, 1), 1);
    CHECK_EQ(c, '5');
    CHECK_EQ(lseek(fd, 0, SEEK_END), 10);
    CHECK_EQ(lseek(fd, -3, SEEK_END), 7);
    CHECK_EQ(read(fd, &c, 1), 1);
    CHECK_EQ(c, '7');
    CHECK_EQ(lseek(fd, 100, SEEK_END), 110); /* past the end is fine */
    CHECK_EQ(read(fd, &c, 1), 0);
    CHECK_EQ(file_size(P(d, "f")), 10); /* seeking alone does not grow */
    close(fd);
}

TEST(lseek_past_end_then_write_makes_zero_hole)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(make_file(P(d, "f"), "ab"));
    int fd = open(P(d, "f"), O_RDWR);
    CHECK(fd >= 0);
    CHECK_EQ(lseek(fd, 10000, SEEK_SET), 10000);
    CHECK_EQ(write(fd, "Z", 1), 1);
    CHECK_EQ(file_size(P(d, "f")), 10001);
    char *buf = malloc(10001);
    CHECK(buf != NULL);
    CHECK_EQ(pread(fd, buf, 10001, 0), 10001);
    int bad = -1;
    for (int i = 2; i < 10000; i++)
        if (buf[i] != 0) {
            bad = i;
            break;
        }
    char first = buf[0], last = buf[10000];
    free(buf);
    close(fd);
    CHECK_EQ(bad, -1);
    CHECK_EQ(first, 'a');
    CHECK_EQ(last, 'Z');
}

TEST(lseek_negative_result_and_bad_whence_einval)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(make_file(P(d, "f"), "abc"));
    int fd = open(P(d, "f"), O_RDONLY);
    CHECK(fd >= 0);
    CHECK_EQ(lseek(fd, 2, SEEK_SET), 2);
    CHECK_ERRNO(lseek(fd, -1, SEEK_SET), EINVAL);
    CHECK_ERRNO(lseek(fd, -3, SEEK_CUR), EINVAL);
    CHECK_ERRNO(lseek(fd, -4, SEEK_END), EINVAL);
    CHECK_ERRNO(lseek(fd, 0, 77), EINVAL);
    CHECK_EQ(lseek(fd, 0, SEEK_CUR), 2); /* unchanged by the failures */
    close(fd);
}

TEST(lseek_on_pipe_espipe)
{
    int p[2];
    CHECK_OK(pipe(p));
    CHECK_ERRNO(lseek(p[0], 0, SEEK_CUR), ESPIPE);
    CHECK_ERRNO(lseek(p[1], 0, SEEK_SET), ESPIPE);
    close(p[0]);
    close(p[1]);
    CHECK_ERRNO(lseek(p[0], 0, SEEK_SET), EBADF);
}

/* ---- readv / writev ---- */

TEST(writev_gathers_readv_scatters)
{
    const char *d = newdir();
    CHECK(d != NULL);
    int fd = open(P(d, "f"), O_RDWR | O_CREAT, 0644);
    CHECK(fd >= 0);
    struct iovec w[4] = {
        {"abc", 3}, {"", 0}, {"defgh", 5}, {"ij", 2},
    };
    CHECK_EQ(writev(fd, w, 4), 10);
    CHECK_EQ(lseek(fd, 0, SEEK_CUR), 10);
    CHECK_EQ(lseek(fd, 0, SEEK_SET), 0);
    char a[2], b[5], c[10];
    struct iovec r[3] = {{a, 2}, {b, 5}, {c, 10}};
    CHECK_EQ(readv(fd, r, 3), 10);
    CHECK(memcmp(a, "ab", 2) == 0);
    CHECK(memcmp(b, "cdefg", 5) == 0);
    CHECK(memcmp(c, "hij", 3) == 0);
    CHECK_EQ(readv(fd, r, 3), 0);
    close(fd);
}

TEST(readv_writev_zero_count_and_errors)
{
    const char *d = newdir();
    CHECK(d != NULL);
    int fd = open(P(d, "f"), O_RDWR | O_CREAT, 0644);
    CHECK(fd >= 0);
    struct iovec v = {"x", 1};
    CHECK_EQ(writev(fd, &v, 0), 0);
    CHECK_EQ(readv(fd, &v, 0), 0);
    CHECK_ERRNO(syscall(SYS_writev, fd, &v, -1), EINVAL);
    CHECK_ERRNO(syscall(SYS_writev, fd, &v, 1025), EINVAL); /* > IOV_MAX */
    CHECK_ERRNO(syscall(SYS_readv, fd, bad_ptr(1), 1), EFAULT);
    CHECK_ERRNO(syscall(SYS_writev, -1, &v, 1), EBADF);
    close(fd);
}

/* ---- dup / dup2 / dup3 ---- */

TEST(dup_returns_lowest_free_and_shares_offset)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(make_file(P(d, "f"), "0123456789"));
    int fd = open(P(d, "f"), O_RDONLY);
    CHECK(fd >= 0);
    int a = dup(fd);
    CHECK(a >= 0);
    int b = dup(fd);
    CHECK(b >= 0);
    close(a);
    CHECK_EQ(dup(fd), a); /* the lowest free number */
    char c;
    CHECK_EQ(read(fd, &c, 1), 1);
    CHECK_EQ(read(a, &c, 1), 1);
    CHECK_EQ(c, '1'); /* one open file description, one offset */
    CHECK_EQ(lseek(b, 5, SEEK_SET), 5);
    CHECK_EQ(lseek(fd, 0, SEEK_CUR), 5);
    close(fd);
    CHECK_EQ(read(b, &c, 1), 1); /* the description lives on */
    CHECK_EQ(c, '5');
    close(a);
    close(b);
}

TEST(dup_shares_status_flags)
{
    const char *d = newdir();
    CHECK(d != NULL);
    int fd = open(P(d, "f"), O_RDWR | O_CREAT, 0644);
    CHECK(fd >= 0);
    int a = dup(fd);
    CHECK(a >= 0);
    CHECK_OK(fcntl(fd, F_SETFL, O_APPEND));
    CHECK(fcntl(a, F_GETFL) & O_APPEND);
    CHECK_OK(fcntl(fd, F_SETFD, FD_CLOEXEC)); /* fd flags are per descriptor */
    CHECK_EQ(fcntl(a, F_GETFD), 0);
    close(fd);
    close(a);
}

TEST(dup_bad_fd_ebadf)
{
    CHECK_ERRNO(dup(-1), EBADF);
    CHECK_ERRNO(dup(9999), EBADF);
    CHECK_ERRNO(dup2(9999, 20), EBADF);
    CHECK_ERRNO(syscall(SYS_dup3, 9999, 20, 0), EBADF);
}

TEST(dup2_replaces_target_and_same_fd)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(make_file(P(d, "a"), "A"));
    CHECK_OK(make_file(P(d, "b"), "B"));
    int a = open(P(d, "a"), O_RDONLY);
    int b = open(P(d, "b"), O_RDONLY);
    CHECK(a >= 0 && b >= 0);
    CHECK_EQ(syscall(SYS_dup2, a, a), a);
    CHECK_OK(fcntl(b, F_SETFD, FD_CLOEXEC));
    CHECK_EQ(dup2(a, b), b); /* silently closes the old b */
    CHECK_EQ(fcntl(b, F_GETFD), 0);
    char c;
    CHECK_EQ(read(b, &c, 1), 1);
    CHECK_EQ(c, 'A');
    CHECK_EQ(dup2(a, 77), 77); /* an unused high number */
    CHECK_OK(fcntl(77, F_GETFD));
    close(77);
    close(a);
    close(b);
    CHECK_ERRNO(syscall(SYS_dup2, a, a), EBADF); /* same fd, but closed */
}

TEST(dup2_beyond_nofile_limit_ebadf)
{
    struct rlimit rl;
    CHECK_OK(getrlimit(RLIMIT_NOFILE, &rl));
    CHECK_ERRNO(dup2(1, (int)rl.rlim_cur), EBADF);
    CHECK_ERRNO(dup2(1, -1), EBADF);
}

TEST(dup3_same_fd_and_bad_flags_einval)
{
    int fd = open("/dev/null", O_RDONLY);
    CHECK(fd >= 0);
    CHECK_ERRNO(syscall(SYS_dup3, fd, fd, 0), EINVAL);
    CHECK_ERRNO(syscall(SYS_dup3, fd, fd, O_CLOEXEC), EINVAL);
    CHECK_ERRNO(syscall(SYS_dup3, fd, 60, O_APPEND), EINVAL);
    CHECK_ERRNO(fcntl(60, F_GETFD), EBADF);
    close(fd);
}

TEST(dup3_cloexec_flag)
{
    int fd = open("/dev/null", O_RDONLY);
    CHECK(fd >= 0);
    CHECK_EQ(syscall(SYS_dup3, fd, 61, O_CLOEXEC), 61);
    CHECK_EQ(fcntl(61, F_GETFD), FD_CLOEXEC);
    CHECK_EQ(syscall(SYS_dup3, fd, 61, 0), 61);
    CHECK_EQ(fcntl(61, F_GETFD), 0);
    close(61);
    close(fd);
}

/* ---- fcntl ---- */

TEST(fcntl_dupfd_lowest_at_or_above_arg)
{
    int fd = open("/dev/null", O_RDONLY);
    CHECK(fd >= 0);
    CHECK_EQ(dup2(fd, 70), 70);
    CHECK_EQ(fcntl(fd, F_DUPFD, 70), 71);
    CHECK_EQ(fcntl(fd, F_DUPFD, 75), 75);
    CHECK_EQ(fcntl(75, F_GETFD), 0);
    int low = fcntl(fd, F_DUPFD, 0);
    CHECK(low >= 0 && low < 70);
    close(low);
    close(70);
    close(71);
    close(75);
    CHECK_EQ(fcntl(fd, F_DUPFD_CLOEXEC, 70), 70);
    CHECK_EQ(fcntl(70, F_GETFD), FD_CLOEXEC);
    close(70);
    close(fd);
}

TEST(fcntl_dupfd_bad_arg_einval)
{
    struct rlimit rl;
    CHECK_OK(getrlimit(RLIMIT_NOFILE, &rl));
    CHECK_ERRNO(fcntl(1, F_DUPFD, (int)rl.rlim_cur), EINVAL);
    CHECK_ERRNO(fcntl(1, F_DUPFD, -1), EINVAL);
    CHECK_ERRNO(fcntl(1, F_DUPFD_CLOEXEC, -1), EINVAL);
}

TEST(fcntl_getfd_setfd)
{
    int fd = open("/dev/null", O_RDONLY);
    CHECK(fd >= 0);
    CHECK_EQ(fcntl(fd, F_GETFD), 0);
    CHECK_EQ(fcntl(fd, F_SETFD, FD_CLOEXEC), 0);
    CHECK_EQ(fcntl(fd, F_GETFD), FD_CLOEXEC);
    CHECK_EQ(fcntl(fd, F_SETFD, 0), 0);
    CHECK_EQ(fcntl(fd, F_GETFD), 0);
    CHECK_EQ(fcntl(fd, F_SETFD, 0xff), 0); /* only FD_CLOEXEC is kept */
    CHECK_EQ(fcntl(fd, F_GETFD), FD_CLOEXEC);
    close(fd);
}

TEST(fcntl_getfl_access_mode_and_flags)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(make_file(P(d, "f"), "x"));
    int r = open(P(d, "f"), O_RDONLY);
    int w = open(P(d, "f"), O_WRONLY | O_APPEND);
    int rw = open(P(d, "f"), O_RDWR | O_NONBLOCK);
    CHECK(r >= 0 && w >= 0 && rw >= 0);
    CHECK_EQ(fcntl(r, F_GETFL) & O_ACCMODE, O_RDONLY);
    CHECK_EQ(fcntl(w, F_GETFL) & O_ACCMODE, O_WRONLY);
    CHECK_EQ(fcntl(rw, F_GETFL) & O_ACCMODE, O_RDWR);
    CHECK(fcntl(w, F_GETFL) & O_APPEND);
    CHECK(!(fcntl(r, F_GETFL) & O_APPEND));
    CHECK(fcntl(rw, F_GETFL) & O_NONBLOCK);
    CHECK(!(fcntl(w, F_GETFL) & O_NONBLOCK));
    /* creation flags are not kept */
    int c = open(P(d, "g"), O_RDWR | O_CREAT | O_EXCL | O_TRUNC, 0644);
    CHECK(c >= 0);
    CHECK_EQ(fcntl(c, F_GETFL) & (O_CREAT | O_EXCL | O_TRUNC), 0);
    close(c);
    close(r);
    close(w);
    close(rw);
}

TEST(fcntl_setfl_changes_append_nonblock_not_access_mode)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(make_file(P(d, "f"), "abc"));
    int fd = open(P(d, "f"), O_RDONLY);
    CHECK(fd >= 0);
    CHECK_EQ(fcntl(fd, F_SETFL, O_RDWR | O_APPEND | O_NONBLOCK | O_TRUNC | O_CREAT), 0);
    int fl = fcntl(fd, F_GETFL);
    CHECK_EQ(fl & O_ACCMODE, O_RDONLY);
    CHECK(fl & O_APPEND);
    CHECK(fl & O_NONBLOCK);
    CHECK_EQ(fl & (O_TRUNC | O_CREAT), 0);
    CHECK_ERRNO(write(fd, "x", 1), EBADF);
    CHECK_EQ(fcntl(fd, F_SETFL, 0), 0);
    fl = fcntl(fd, F_GETFL);
    CHECK_EQ(fl & (O_APPEND | O_NONBLOCK), 0);
    close(fd);
    CHECK_EQ(file_size(P(d, "f")), 3);
}

TEST(fcntl_setfl_append_affects_writes)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(make_file(P(d, "f"), "abc"));
    int fd = open(P(d, "f"), O_WRONLY);
    CHECK(fd >= 0);
    CHECK_EQ(fcntl(fd, F_SETFL, O_APPEND), 0);
    CHECK_EQ(write(fd, "d", 1), 1);
    close(fd);
    char buf[8];
    CHECK_EQ(slurp(P(d, "f"), buf, sizeof buf), 4);
    CHECK(strcmp(buf, "abcd") == 0);
}

TEST(fcntl_errors)
{
    CHECK_ERRNO(fcntl(-1, F_GETFD), EBADF);
    CHECK_ERRNO(fcntl(9999, F_GETFL), EBADF);
    CHECK_ERRNO(fcntl(9999, F_DUPFD, 0), EBADF);
    CHECK_ERRNO(syscall(SYS_fcntl, 1, 0x7777, 0), EINVAL);
}

/* ---- EMFILE ---- */

TEST(emfile_when_nofile_limit_reached)
{
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        struct rlimit rl = {16, 16};
        struct rlimit old;
        CCHECK(getrlimit(RLIMIT_NOFILE, &old) == 0);
        if (old.rlim_max < 16)
            rl.rlim_max = old.rlim_max;
        /* close everything above 15 first, so the limit is what stops us */
        for (int fd = 16; fd < 1024; fd++)
            close(fd);
        CCHECK(setrlimit(RLIMIT_NOFILE, &rl) == 0);
        int last = -1, n = 0;
        for (;;) {
            int fd = open("/dev/null", O_RDONLY);
            if (fd < 0) {
                CCHECK(errno == EMFILE);
                break;
            }
            CCHECK(fd < 16);
            last = fd;
            CCHECK(++n <= 16);
        }
        for (int fd = 0; fd < 16; fd++)
            CCHECK(fcntl(fd, F_GETFD) != -1); /* every slot is used */
        CCHECK(last == 15 || n == 0);
        errno = 0;
        CCHECK(dup(0) == -1 && errno == EMFILE);
        errno = 0;
        CCHECK(fcntl(0, F_DUPFD, 0) == -1 && errno == EMFILE);
        int p[2];
        errno = 0;
        CCHECK(pipe(p) == -1 && errno == EMFILE);
        CCHECK(close(9) == 0);
        CCHECK(open("/dev/null", O_RDONLY) == 9);
        errno = 0;
        CCHECK(open("/dev/null", O_RDONLY) == -1 && errno == EMFILE);
        _exit(0);
    }
    int st = child_status(pid);
    CHECK_EQ(st, 0);
}

/* ---- close ---- */

TEST(close_twice_ebadf)
{
    int fd = open("/dev/null", O_RDONLY);
    CHECK(fd >= 0);
    CHECK_EQ(close(fd), 0);
    CHECK_ERRNO(close(fd), EBADF);
    CHECK_ERRNO(close(-1), EBADF);
    CHECK_ERRNO(close(99999), EBADF);
}

TEST(close_frees_lowest_number)
{
    int a = open("/dev/null", O_RDONLY);
    int b = open("/dev/null", O_RDONLY);
    CHECK(a >= 0 && b > a);
    close(a);
    int c = open("/dev/null", O_RDONLY);
    CHECK_EQ(c, a);
    close(b);
    close(c);
}

/* ---- truncate / ftruncate ---- */

TEST(ftruncate_grow_and_shrink)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(make_file(P(d, "f"), "0123456789"));
    int fd = open(P(d, "f"), O_RDWR);
    CHECK(fd >= 0);
    CHECK_EQ(lseek(fd, 8, SEEK_SET), 8);
    CHECK_EQ(ftruncate(fd, 4), 0);
    CHECK_EQ(file_size(P(d, "f")), 4);
    CHECK_EQ(lseek(fd, 0, SEEK_CUR), 8); /* the offset is not touched */
    char buf[16];
    CHECK_EQ(read(fd, buf, sizeof buf), 0);
    CHECK_EQ(ftruncate(fd, 8000), 0);
    CHECK_EQ(file_size(P(d, "f")), 8000);
    memset(buf, 0x55, sizeof buf);
    CHECK_EQ(pread(fd, buf, 8, 2), 8);
    CHECK(memcmp(buf, "23\0\0\0\0\0\0", 8) == 0);
    CHECK_EQ(pread(fd, buf, 16, 7990), 10);
    for (int i = 0; i < 10; i++)
        CHECK_EQ(buf[i], 0);
    /* shrink then grow: the cut-off bytes come back as zeros */
    CHECK_EQ(ftruncate(fd, 1), 0);
    CHECK_EQ(ftruncate(fd, 3), 0);
    CHECK_EQ(pread(fd, buf, 3, 0), 3);
    CHECK(memcmp(buf, "0\0\0", 3) == 0);
    CHECK_EQ(ftruncate(fd, 0), 0);
    CHECK_EQ(file_size(P(d, "f")), 0);
    close(fd);
}

TEST(truncate_by_path)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(make_file(P(d, "f"), "0123456789"));
    CHECK_EQ(truncate(P(d, "f"), 3), 0);
    CHECK_EQ(file_size(P(d, "f")), 3);
    CHECK_EQ(truncate(P(d, "f"), 5000), 0);
    CHECK_EQ(file_size(P(d, "f")), 5000);
    char buf[8];
    CHECK_EQ(slurp(P(d, "f"), buf, 5), 4);
    CHECK(memcmp(buf, "012\0", 4) == 0);
}

TEST(truncate_errors)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(make_file(P(d, "f"), "abc"));
    CHECK_ERRNO(truncate(P(d, "f"), -1), EINVAL);
    CHECK_ERRNO(truncate(P(d, "missing"), 0), ENOENT);
    CHECK_ERRNO(truncate(d, 0), EISDIR);
    CHECK_ERRNO(truncate(P(d, "f/x"), 0), ENOTDIR);
    int fd = open(P(d, "f"), O_RDWR);
    CHECK(fd >= 0);
    CHECK_ERRNO(ftruncate(fd, -1), EINVAL);
    close(fd);
    fd = open(P(d, "f"), O_RDONLY);
    CHECK(fd >= 0);
    CHECK_ERRNO(ftruncate(fd, 0), EINVAL); /* not open for writing: EINVAL on Linux */
    close(fd);
    int p[2];
    CHECK_OK(pipe(p));
    CHECK_ERRNO(ftruncate(p[1], 0), EINVAL);
    close(p[0]);
    close(p[1]);
    CHECK_ERRNO(ftruncate(9999, 0), EBADF);
    CHECK_EQ(file_size(P(d, "f")), 3);
}

/* ---- sync ---- */

TEST(sync_fsync_fdatasync)
{
    const char *d = newdir();
    CHECK(d != NULL);
    int fd = open(P(d, "f"), O_RDWR | O_CREAT, 0644);
    CHECK(fd >= 0);
    CHECK_EQ(write(fd, "x", 1), 1);
    sync();
    CHECK_EQ(fsync(fd), 0);
    CHECK_EQ(fdatasync(fd), 0);
    CHECK_EQ(syscall(SYS_sync), 0);
    close(fd);
    CHECK_ERRNO(fsync(9999), EBADF);
    int p[2];
    CHECK_OK(pipe(p));
    CHECK_ERRNO(fsync(p[0]), EINVAL);
    close(p[0]);
    close(p[1]);
}
