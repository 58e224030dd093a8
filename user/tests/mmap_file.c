/* mmap_file.c - memory mappings of regular files and shared memory: MAP_PRIVATE (sees the file,
 * copy-on-write, private writes never reach the file), MAP_SHARED (the file's own pages: writes
 * seen by read(), by other mappings and by forked children; write() seen by the mapping),
 * mapping offsets, pages past EOF (zero tail, SIGBUS beyond), permission errors, msync, mremap,
 * madvise(MADV_DONTNEED) on anonymous, shared and private file mappings, and
 * MAP_SHARED|MAP_ANONYMOUS across fork.
 * Files live in a mkdtemp("/tmp/ptest.XXXXXX") directory removed at exit.
 * Syscalls: mmap, munmap, mprotect, msync, mremap, madvise, openat, read, write, pread64,
 * pwrite64, ftruncate, close, unlink, fork, wait4, pipe2, prlimit64.
 */
#define _GNU_SOURCE
#define TEST_MAIN
#include "test.h"

#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "children.h"
#include "scratch.h"

#define PAGE 4096UL

/* The byte at offset i of the test pattern. */
static unsigned char pat(size_t i) { return (unsigned char)(i * 7 + i / PAGE + 1); }

/* A new file of `len` pattern bytes, opened O_RDWR; returns the fd or -1. */
static int pattern_file(const char *path, size_t len)
{
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return -1;
    unsigned char *b = malloc(len ? len : 1);
    if (!b)
        return -1;
    for (size_t i = 0; i < len; i++)
        b[i] = pat(i);
    int ok = pwrite(fd, b, len, 0) == (ssize_t)len;
    free(b);
    if (!ok) {
        close(fd);
        return -1;
    }
    return fd;
}

static int byte_at(int fd, off_t off)
{
    unsigned char c;
    return pread(fd, &c, 1, off) == 1 ? c : -1;
}

/* ---- MAP_PRIVATE ---- */

TEST(private_mapping_sees_file_contents)
{
    const char *d = newdir();
    CHECK(d != NULL);
    int fd = pattern_file(P(d, "f"), 3 * PAGE);
    CHECK(fd >= 0);
    unsigned char *m = mmap(NULL, 3 * PAGE, PROT_READ, MAP_PRIVATE, fd, 0);
    CHECK(m != MAP_FAILED);
    for (size_t i = 0; i < 3 * PAGE; i++)
        if (m[i] != pat(i))
            FAIL("byte %zu is %#x, expected %#x", i, m[i], pat(i));
    CHECK_OK(munmap(m, 3 * PAGE));
    close(fd);
}

TEST(private_writes_do_not_reach_the_file)
{
    const char *d = newdir();
    CHECK(d != NULL);
    int fd = pattern_file(P(d, "f"), 2 * PAGE);
    CHECK(fd >= 0);
    unsigned char *m = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    CHECK(m != MAP_FAILED);
    memset(m, 0xaa, PAGE + 10);
    CHECK_EQ(m[PAGE + 5], 0xaa);
    CHECK_EQ(m[PAGE + 10], pat(PAGE + 10));
    CHECK_EQ(msync(m, 2 * PAGE, MS_SYNC), 0);
    CHECK_EQ(byte_at(fd, 0), pat(0));
    CHECK_EQ(byte_at(fd, PAGE + 5), pat(PAGE + 5));
    /* another private mapping sees the file, not our copy */
    unsigned char *m2 = mmap(NULL, 2 * PAGE, PROT_READ, MAP_PRIVATE, fd, 0);
    CHECK(m2 != MAP_FAILED);
    CHECK_EQ(m2[0], pat(0));
    CHECK_OK(munmap(m, 2 * PAGE));
    CHECK_OK(munmap(m2, 2 * PAGE));
    struct stat st;
    CHECK_OK(fstat(fd, &st));
    CHECK_EQ(st.st_size, 2 * PAGE);
    close(fd);
}

TEST(private_mapping_sees_file_writes_until_copied)
{
    /* Linux: an untouched (or only read) private page is the file's page until written. */
    const char *d = newdir();
    CHECK(d != NULL);
    int fd = pattern_file(P(d, "f"), 2 * PAGE);
    CHECK(fd >= 0);
    unsigned char *m = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    CHECK(m != MAP_FAILED);
    CHECK_EQ(m[0], pat(0)); /* fault page 0 in for reading */
    CHECK_EQ(pwrite(fd, "N", 1, 0), 1);
    CHECK_EQ(pwrite(fd, "M", 1, PAGE), 1);
    CHECK_EQ(m[0], 'N');
    CHECK_EQ(m[PAGE], 'M');
    m[1] = 'p'; /* copy-on-write: page 0 is ours now */
    CHECK_EQ(pwrite(fd, "O", 1, 0), 1);
    CHECK_EQ(m[0], 'N');
    CHECK_EQ(m[1], 'p');
    CHECK_EQ(byte_at(fd, 1), pat(1));
    CHECK_OK(munmap(m, 2 * PAGE));
    close(fd);
}

TEST(private_file_mapping_cow_after_fork)
{
    const char *d = newdir();
    CHECK(d != NULL);
    int fd = pattern_file(P(d, "f"), PAGE);
    CHECK(fd >= 0);
    unsigned char *m = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    CHECK(m != MAP_FAILED);
    m[0] = 'P';
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        CCHECK(m[0] == 'P');
        m[0] = 'C';
        m[1] = 'C';
        _exit(0);
    }
    CHECK_EQ(child_status(pid), 0);
    CHECK_EQ(m[0], 'P');
    CHECK_EQ(m[1], pat(1));
    CHECK_EQ(byte_at(fd, 0), pat(0));
    CHECK_OK(munmap(m, PAGE));
    close(fd);
}

/* ---- MAP_SHARED ---- */

TEST(shared_writes_visible_to_read)
{
    const char *d = newdir();
    CHECK(d != NULL);
    int fd = pattern_file(P(d, "f"), 3 * PAGE);
    CHECK(fd >= 0);
    unsigned char *m = mmap(NULL, 3 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK(m != MAP_FAILED);
    m[0] = 'a';
    m[PAGE + 1] = 'b';
    m[3 * PAGE - 1] = 'c';
    CHECK_EQ(byte_at(fd, 0), 'a');
    CHECK_EQ(byte_at(fd, PAGE + 1), 'b');
    CHECK_EQ(byte_at(fd, 3 * PAGE - 1), 'c');
    CHECK_EQ(byte_at(fd, 1), pat(1));
    CHECK_OK(munmap(m, 3 * PAGE));
    close(fd);
}

TEST(shared_writes_visible_to_second_mapping)
{
    const char *d = newdir();
    CHECK(d != NULL);
    int fd = pattern_file(P(d, "f"), 2 * PAGE);
    CHECK(fd >= 0);
    int fd2 = open(P(d, "f"), O_RDWR);
    CHECK(fd2 >= 0);
    unsigned char *a = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    unsigned char *b = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd2, 0);
    CHECK(a != MAP_FAILED && b != MAP_FAILED);
    CHECK(a != b);
    a[10] = 'x';
    CHECK_EQ(b[10], 'x');
    b[PAGE + 20] = 'y';
    CHECK_EQ(a[PAGE + 20], 'y');
    /* a mapping at an offset sees the same bytes */
    unsigned char *c = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd, PAGE);
    CHECK(c != MAP_FAILED);
    CHECK_EQ(c[20], 'y');
    CHECK_OK(munmap(a, 2 * PAGE));
    CHECK_OK(munmap(b, 2 * PAGE));
    CHECK_OK(munmap(c, PAGE));
    close(fd);
    close(fd2);
}

TEST(write_syscall_visible_in_shared_mapping)
{
    const char *d = newdir();
    CHECK(d != NULL);
    int fd = pattern_file(P(d, "f"), 2 * PAGE);
    CHECK(fd >= 0);
    unsigned char *m = mmap(NULL, 2 * PAGE, PROT_READ, MAP_SHARED, fd, 0);
    CHECK(m != MAP_FAILED);
    CHECK_EQ(m[5], pat(5));
    CHECK_EQ(pwrite(fd, "hello", 5, 3), 5);
    CHECK(memcmp(m + 3, "hello", 5) == 0);
    CHECK_EQ(pwrite(fd, "W", 1, PAGE + 7), 1); /* a page not yet touched */
    CHECK_EQ(m[PAGE + 7], 'W');
    CHECK_OK(munmap(m, 2 * PAGE));
    close(fd);
}

TEST(shared_mapping_shared_with_forked_child)
{
    const char *d = newdir();
    CHECK(d != NULL);
    int fd = pattern_file(P(d, "f"), 2 * PAGE);
    CHECK(fd >= 0);
    volatile unsigned char *m = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK(m != MAP_FAILED);
    int go[2];
    CHECK_OK(pipe(go));
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        close(go[1]);
        char c;
        CCHECK(read(go[0], &c, 1) == 1);
        CCHECK(m[0] == 'P'); /* written by the parent after fork */
        m[1] = 'C';
        m[PAGE + 1] = 'D';
        _exit(0);
    }
    close(go[0]);
    m[0] = 'P';
    CHECK_EQ(write(go[1], "g", 1), 1);
    close(go[1]);
    CHECK_EQ(child_status(pid), 0);
    CHECK_EQ(m[1], 'C');
    CHECK_EQ(m[PAGE + 1], 'D');
    CHECK_EQ(byte_at(fd, PAGE + 1), 'D');
    CHECK_OK(munmap((void *)m, 2 * PAGE));
    close(fd);
}

TEST(shared_mapping_outlives_fd_and_name)
{
    const char *d = newdir();
    CHECK(d != NULL);
    int fd = pattern_file(P(d, "f"), PAGE);
    CHECK(fd >= 0);
    unsigned char *m = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK(m != MAP_FAILED);
    CHECK_OK(close(fd));
    m[0] = 'Z';
    CHECK_OK(munmap(m, PAGE));
    fd = open(P(d, "f"), O_RDWR);
    CHECK(fd >= 0);
    CHECK_EQ(byte_at(fd, 0), 'Z');
    m = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK(m != MAP_FAILED);
    CHECK_OK(unlink(P(d, "f")));
    m[1] = 'Y';
    CHECK_EQ(byte_at(fd, 1), 'Y');
    CHECK_OK(munmap(m, PAGE));
    close(fd);
}

TEST(shared_mapping_many_pages_round_trip)
{
    enum { NP = 64 };
    const char *d = newdir();
    CHECK(d != NULL);
    int fd = open(P(d, "f"), O_RDWR | O_CREAT, 0644);
    CHECK(fd >= 0);
    CHECK_OK(ftruncate(fd, NP * PAGE));
    unsigned char *m = mmap(NULL, NP * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK(m != MAP_FAILED);
    for (size_t i = 0; i < NP * PAGE; i++)
        CHECK_EQ(m[i], 0);
    for (size_t i = 0; i < NP * PAGE; i++)
        m[i] = pat(i);
    CHECK_EQ(msync(m, NP * PAGE, MS_SYNC), 0);
    CHECK_OK(munmap(m, NP * PAGE));
    unsigned char *buf = malloc(NP * PAGE);
    CHECK(buf != NULL);
    ssize_t r = pread(fd, buf, NP * PAGE, 0);
    size_t bad = (size_t)-1;
    for (size_t i = 0; r == (ssize_t)(NP * PAGE) && i < NP * PAGE; i++)
        if (buf[i] != pat(i)) {
            bad = i;
            break;
        }
    free(buf);
    close(fd);
    CHECK_EQ(r, NP * PAGE);
    CHECK_EQ(bad, (size_t)-1);
}

/* ---- msync ---- */

TEST(msync_flags_and_errors)
{
    const char *d = newdir();
    CHECK(d != NULL);
    int fd = pattern_file(P(d, "f"), 2 * PAGE);
    CHECK(fd >= 0);
    unsigned char *m = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK(m != MAP_FAILED);
    m[0] = 1;
    CHECK_EQ(msync(m, 2 * PAGE, MS_SYNC), 0);
    CHECK_EQ(msync(m, PAGE, MS_ASYNC), 0);
    CHECK_EQ(msync(m, 2 * PAGE, MS_INVALIDATE), 0);
    CHECK_EQ(msync(m, 1, MS_SYNC), 0); /* the length is rounded up */
    CHECK_ERRNO(msync(m, PAGE, MS_SYNC | MS_ASYNC), EINVAL);
    CHECK_ERRNO(msync(m + 1, PAGE, MS_SYNC), EINVAL);
    CHECK_ERRNO(msync(m, PAGE, 0x100), EINVAL);
    CHECK_OK(munmap(m, 2 * PAGE));
    CHECK_ERRNO(msync(m, PAGE, MS_SYNC), ENOMEM);
    close(fd);
}

/* ---- offsets and EOF ---- */

TEST(mmap_with_offset)
{
    const char *d = newdir();
    CHECK(d != NULL);
    int fd = pattern_file(P(d, "f"), 4 * PAGE);
    CHECK(fd >= 0);
    unsigned char *m = mmap(NULL, 2 * PAGE, PROT_READ, MAP_PRIVATE, fd, 2 * PAGE);
    CHECK(m != MAP_FAILED);
    for (size_t i = 0; i < 2 * PAGE; i++)
        if (m[i] != pat(2 * PAGE + i))
            FAIL("byte %zu", i);
    CHECK_OK(munmap(m, 2 * PAGE));
    CHECK(mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, fd, 100) == MAP_FAILED);
    CHECK_EQ(errno, EINVAL);
    close(fd);
}

TEST(partial_last_page_reads_zeros_past_eof)
{
    const char *d = newdir();
    CHECK(d != NULL);
    int fd = pattern_file(P(d, "f"), 100);
    CHECK(fd >= 0);
    unsigned char *m = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK(m != MAP_FAILED);
    CHECK_EQ(m[99], pat(99));
    for (size_t i = 100; i < PAGE; i++)
        if (m[i] != 0)
            FAIL("byte %zu past EOF is %#x", i, m[i]);
    m[200] = 'x'; /* allowed, but never becomes part of the file */
    CHECK_EQ(msync(m, PAGE, MS_SYNC), 0);
    struct stat st;
    CHECK_OK(fstat(fd, &st));
    CHECK_EQ(st.st_size, 100);
    char c;
    CHECK_EQ(pread(fd, &c, 1, 200), 0);
    CHECK_OK(munmap(m, PAGE));
    close(fd);
}

/* Runs `touch(m)` in a child; returns the child's raw wait status. */
static int touch_in_child(volatile unsigned char *p, int write)
{
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        struct rlimit z = {0, 0};
        setrlimit(RLIMIT_CORE, &z);
        signal(SIGBUS, SIG_DFL);
        if (write)
            *p = 1;
        else
            (void)*p;
        _exit(0);
    }
    return child_status(pid);
}

TEST(access_beyond_eof_page_sigbus)
{
    const char *d = newdir();
    CHECK(d != NULL);
    int fd = pattern_file(P(d, "f"), 100);
    CHECK(fd >= 0);
    unsigned char *m = mmap(NULL, 3 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK(m != MAP_FAILED); /* mapping past EOF is allowed */
    int st = touch_in_child(m + 50, 0);
    CHECK_EQ(st, 0);
    st = touch_in_child(m + PAGE, 0);
    CHECK(WIFSIGNALED(st));
    CHECK_EQ(WTERMSIG(st), SIGBUS);
    st = touch_in_child(m + 2 * PAGE + 5, 1);
    CHECK(WIFSIGNALED(st));
    CHECK_EQ(WTERMSIG(st), SIGBUS);
    /* private mappings too */
    unsigned char *p = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    CHECK(p != MAP_FAILED);
    st = touch_in_child(p + PAGE + 1, 1);
    CHECK(WIFSIGNALED(st));
    CHECK_EQ(WTERMSIG(st), SIGBUS);
    CHECK_OK(munmap(p, 2 * PAGE));
    CHECK_OK(munmap(m, 3 * PAGE));
    close(fd);
}

TEST(ftruncate_changes_what_a_mapping_may_touch)
{
    const char *d = newdir();
    CHECK(d != NULL);
    int fd = pattern_file(P(d, "f"), PAGE);
    CHECK(fd >= 0);
    volatile unsigned char *m = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK(m != MAP_FAILED);
    int st = touch_in_child(m + PAGE, 0);
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGBUS);
    CHECK_OK(ftruncate(fd, 2 * PAGE)); /* grow: the second page exists now, zero-filled */
    CHECK_EQ(m[PAGE + 3], 0);
    m[PAGE + 3] = 'g';
    CHECK_EQ(byte_at(fd, PAGE + 3), 'g');
    CHECK_OK(ftruncate(fd, PAGE / 2)); /* shrink: the second page is gone again */
    st = touch_in_child(m + PAGE + 3, 0);
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGBUS);
    CHECK_EQ(m[PAGE / 2 + 1], 0); /* the cut tail of page 0 reads as zeros */
    CHECK_OK(munmap((void *)m, 2 * PAGE));
    close(fd);
}

/* ---- permissions and argument errors ---- */

TEST(mmap_shared_write_on_readonly_fd_eacces)
{
    const char *d = newdir();
    CHECK(d != NULL);
    int w = pattern_file(P(d, "f"), PAGE);
    CHECK(w >= 0);
    close(w);
    int fd = open(P(d, "f"), O_RDONLY);
    CHECK(fd >= 0);
    CHECK(mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) == MAP_FAILED);
    CHECK_EQ(errno, EACCES);
    /* a private writable mapping of a read-only fd is fine */
    unsigned char *p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    CHECK(p != MAP_FAILED);
    p[0] = 'q';
    CHECK_OK(munmap(p, PAGE));
    /* a shared read-only mapping cannot be made writable later */
    unsigned char *s = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd, 0);
    CHECK(s != MAP_FAILED);
    CHECK_ERRNO(mprotect(s, PAGE, PROT_READ | PROT_WRITE), EACCES);
    CHECK_OK(munmap(s, PAGE));
    CHECK_EQ(byte_at(fd, 0), pat(0)); /* the private write did not reach the file */
    close(fd);
}

TEST(mmap_writeonly_fd_eacces)
{
    const char *d = newdir();
    CHECK(d != NULL);
    int w = pattern_file(P(d, "f"), PAGE);
    CHECK(w >= 0);
    close(w);
    int fd = open(P(d, "f"), O_WRONLY);
    CHECK(fd >= 0);
    CHECK(mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd, 0) == MAP_FAILED);
    CHECK_EQ(errno, EACCES);
    CHECK(mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, fd, 0) == MAP_FAILED);
    CHECK_EQ(errno, EACCES);
    close(fd);
}

TEST(mmap_bad_fds_and_arguments)
{
    const char *d = newdir();
    CHECK(d != NULL);
    int fd = pattern_file(P(d, "f"), PAGE);
    CHECK(fd >= 0);
    CHECK(mmap(NULL, PAGE, PROT_READ, MAP_SHARED, 9999, 0) == MAP_FAILED);
    CHECK_EQ(errno, EBADF);
    int pfd = open(P(d, "f"), O_PATH);
    CHECK(pfd >= 0);
    CHECK(mmap(NULL, PAGE, PROT_READ, MAP_SHARED, pfd, 0) == MAP_FAILED);
    CHECK_EQ(errno, EBADF);
    close(pfd);
    int dfd = open(d, O_RDONLY | O_DIRECTORY);
    CHECK(dfd >= 0);
    CHECK(mmap(NULL, PAGE, PROT_READ, MAP_SHARED, dfd, 0) == MAP_FAILED);
    CHECK_EQ(errno, ENODEV);
    close(dfd);
    int p[2];
    CHECK_OK(pipe(p));
    CHECK(mmap(NULL, PAGE, PROT_READ, MAP_SHARED, p[0], 0) == MAP_FAILED);
    CHECK_EQ(errno, ENODEV);
    close(p[0]);
    close(p[1]);
    CHECK((void *)syscall(SYS_mmap, NULL, 0, PROT_READ, MAP_SHARED, fd, 0) == MAP_FAILED);
    CHECK_EQ(errno, EINVAL);
    CHECK((void *)syscall(SYS_mmap, NULL, PAGE, PROT_READ, 0, fd, 0) == MAP_FAILED);
    CHECK_EQ(errno, EINVAL); /* neither shared nor private */
    close(fd);
}

/* ---- mremap ---- */

TEST(mremap_grow_maymove_keeps_contents)
{
    /* three pages; the third, made read-only, is a separate mapping blocking growth in place */
    unsigned char *m = mmap(NULL, 3 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                            -1, 0);
    CHECK(m != MAP_FAILED);
    unsigned char *blocker = m + 2 * PAGE;
    CHECK_OK(mprotect(blocker, PAGE, PROT_READ));
    for (size_t i = 0; i < 2 * PAGE; i++)
        m[i] = pat(i);
    unsigned char *n = mremap(m, 2 * PAGE, 8 * PAGE, MREMAP_MAYMOVE);
    CHECK(n != MAP_FAILED);
    CHECK(n != m);
    for (size_t i = 0; i < 2 * PAGE; i++)
        if (n[i] != pat(i))
            FAIL("byte %zu lost", i);
    for (size_t i = 2 * PAGE; i < 8 * PAGE; i++)
        if (n[i] != 0)
            FAIL("new byte %zu not zero", i);
    n[8 * PAGE - 1] = 1;
    CHECK_ERRNO(mprotect(m, PAGE, PROT_READ), ENOMEM); /* the old range is gone */
    CHECK_OK(mprotect(blocker, PAGE, PROT_READ));      /* the neighbour is not */
    CHECK_OK(munmap(n, 8 * PAGE));
    CHECK_OK(munmap(blocker, PAGE));
}

TEST(mremap_grow_without_maymove_blocked_enomem)
{
    unsigned char *m = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                            -1, 0);
    CHECK(m != MAP_FAILED);
    m[0] = 7;
    /* the second page of the same mapping is in the way of growing the first */
    CHECK(mremap(m, PAGE, 2 * PAGE, 0) == MAP_FAILED);
    CHECK_EQ(errno, ENOMEM);
    CHECK_EQ(m[0], 7);
    CHECK_OK(munmap(m, 2 * PAGE));
}

TEST(mremap_shrink_unmaps_tail)
{
    unsigned char *m = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                            -1, 0);
    CHECK(m != MAP_FAILED);
    m[0] = 9;
    m[3 * PAGE] = 9;
    unsigned char *n = mremap(m, 4 * PAGE, PAGE, 0);
    CHECK(n == m);
    CHECK_EQ(n[0], 9);
    CHECK_ERRNO(mprotect(m + PAGE, PAGE, PROT_READ), ENOMEM);
    CHECK_ERRNO(mprotect(m + 3 * PAGE, PAGE, PROT_READ), ENOMEM);
    CHECK_OK(munmap(n, PAGE));
}

TEST(mremap_shared_file_mapping_grows_into_file)
{
    const char *d = newdir();
    CHECK(d != NULL);
    int fd = pattern_file(P(d, "f"), 4 * PAGE);
    CHECK(fd >= 0);
    unsigned char *m = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK(m != MAP_FAILED);
    m[0] = 'A';
    unsigned char *n = mremap(m, PAGE, 4 * PAGE, MREMAP_MAYMOVE);
    CHECK(n != MAP_FAILED);
    CHECK_EQ(n[0], 'A');
    CHECK_EQ(n[3 * PAGE + 5], pat(3 * PAGE + 5));
    n[3 * PAGE] = 'B';
    CHECK_EQ(byte_at(fd, 3 * PAGE), 'B');
    CHECK_OK(munmap(n, 4 * PAGE));
    close(fd);
}

TEST(mremap_errors)
{
    unsigned char *m = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                            -1, 0);
    CHECK(m != MAP_FAILED);
    CHECK(mremap(m + 1, PAGE, 2 * PAGE, MREMAP_MAYMOVE) == MAP_FAILED);
    CHECK_EQ(errno, EINVAL);
    CHECK((void *)syscall(SYS_mremap, m, PAGE, 2 * PAGE, 0x80, 0) == MAP_FAILED);
    CHECK_EQ(errno, EINVAL);
    CHECK((void *)syscall(SYS_mremap, m, PAGE, 0, MREMAP_MAYMOVE, 0) == MAP_FAILED);
    CHECK_EQ(errno, EINVAL);
    CHECK_OK(munmap(m, PAGE));
    CHECK(mremap(m, PAGE, 2 * PAGE, MREMAP_MAYMOVE) == MAP_FAILED);
    CHECK_EQ(errno, EFAULT); /* nothing mapped there */
}

/* ---- madvise ---- */

TEST(madvise_dontneed_anonymous_private_zeroes)
{
    unsigned char *m = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                            -1, 0);
    CHECK(m != MAP_FAILED);
    memset(m, 0x77, 4 * PAGE);
    CHECK_EQ(madvise(m + PAGE, 2 * PAGE, MADV_DONTNEED), 0);
    CHECK_EQ(m[0], 0x77);
    for (size_t i = PAGE; i < 3 * PAGE; i++)
        if (m[i] != 0)
            FAIL("byte %zu is %#x after MADV_DONTNEED", i, m[i]);
    CHECK_EQ(m[3 * PAGE], 0x77);
    m[PAGE] = 1; /* still mapped and writable */
    CHECK_EQ(m[PAGE], 1);
    CHECK_OK(munmap(m, 4 * PAGE));
}

TEST(madvise_dontneed_shared_file_keeps_data)
{
    const char *d = newdir();
    CHECK(d != NULL);
    int fd = pattern_file(P(d, "f"), 2 * PAGE);
    CHECK(fd >= 0);
    unsigned char *m = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK(m != MAP_FAILED);
    m[3] = 'S';
    CHECK_EQ(madvise(m, 2 * PAGE, MADV_DONTNEED), 0);
    CHECK_EQ(m[3], 'S'); /* refaulted from the file */
    CHECK_EQ(m[4], pat(4));
    CHECK_OK(munmap(m, 2 * PAGE));
    close(fd);
}

TEST(madvise_dontneed_private_file_drops_copy)
{
    const char *d = newdir();
    CHECK(d != NULL);
    int fd = pattern_file(P(d, "f"), PAGE);
    CHECK(fd >= 0);
    unsigned char *m = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    CHECK(m != MAP_FAILED);
    m[3] = 'p';
    CHECK_EQ(madvise(m, PAGE, MADV_DONTNEED), 0);
    CHECK_EQ(m[3], pat(3)); /* back to the file's contents */
    CHECK_OK(munmap(m, PAGE));
    close(fd);
}

TEST(madvise_errors)
{
    unsigned char *m = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                            -1, 0);
    CHECK(m != MAP_FAILED);
    CHECK_ERRNO(madvise(m + 1, PAGE, MADV_DONTNEED), EINVAL);
    CHECK_ERRNO(madvise(m, PAGE, 12345), EINVAL);
    CHECK_OK(munmap(m, PAGE));
    CHECK_ERRNO(madvise(m, PAGE, MADV_DONTNEED), ENOMEM);
}

/* ---- shared anonymous ---- */

TEST(shared_anonymous_shared_with_child)
{
    volatile unsigned char *m = mmap(NULL, 3 * PAGE, PROT_READ | PROT_WRITE,
                                     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    CHECK(m != MAP_FAILED);
    for (size_t i = 0; i < 3 * PAGE; i++)
        CHECK_EQ(m[i], 0);
    m[0] = 1;
    int go[2];
    CHECK_OK(pipe(go));
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        close(go[1]);
        char c;
        CCHECK(read(go[0], &c, 1) == 1);
        CCHECK(m[0] == 2);
        for (size_t i = 1; i < 3 * PAGE; i++)
            m[i] = (unsigned char)(i + 3);
        _exit(0);
    }
    close(go[0]);
    m[0] = 2;
    CHECK_EQ(write(go[1], "g", 1), 1);
    close(go[1]);
    CHECK_EQ(child_status(pid), 0);
    for (size_t i = 1; i < 3 * PAGE; i++)
        if (m[i] != (unsigned char)(i + 3))
            FAIL("byte %zu is %#x", i, m[i]);
    CHECK_EQ(madvise((void *)m, 3 * PAGE, MADV_DONTNEED), 0);
    CHECK_EQ(m[5], 8); /* shared anonymous memory keeps its data */
    CHECK_OK(munmap((void *)m, 3 * PAGE));
}

TEST(shared_anonymous_between_two_children)
{
    volatile int *m = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    CHECK(m != MAP_FAILED);
    pid_t a = fork();
    CHECK(a >= 0);
    if (a == 0) {
        m[0] = 111;
        _exit(0);
    }
    CHECK_EQ(child_status(a), 0);
    pid_t b = fork();
    CHECK(b >= 0);
    if (b == 0)
        _exit(m[0] == 111 ? 0 : 1);
    CHECK_EQ(child_status(b), 0);
    CHECK_OK(munmap((void *)m, PAGE));
}
