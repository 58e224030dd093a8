/* devfs.c - the memory character devices and /dev/tty: /dev/null, /dev/zero (read, write,
 * MAP_PRIVATE mmap), /dev/full (ENOSPC), /dev/random and /dev/urandom, their device numbers,
 * and /dev/tty failing with ENXIO for a process without a controlling terminal.
 * Syscalls: openat, read, write, pread64, lseek, close, fstat, stat, mmap, munmap, getdents64,
 * setsid, fork, wait4.
 */
#define _GNU_SOURCE
#define TEST_MAIN
#include "test.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>

#include "children.h"

#define PAGE 4096UL

static int all_zero(const unsigned char *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (b[i])
            return 0;
    return 1;
}

static void check_chr(const char *path, unsigned maj, unsigned min)
{
    struct stat st;
    CHECK_OK(stat(path, &st));
    CHECK(S_ISCHR(st.st_mode));
    CHECK_EQ(major(st.st_rdev), maj);
    CHECK_EQ(minor(st.st_rdev), min);
    CHECK_EQ(st.st_rdev, makedev(maj, min));
    int fd = open(path, O_RDONLY);
    CHECK(fd >= 0);
    struct stat fst;
    CHECK_OK(fstat(fd, &fst));
    close(fd);
    CHECK_EQ(fst.st_rdev, st.st_rdev);
    CHECK(S_ISCHR(fst.st_mode));
}

/* ---- device numbers ---- */

TEST(dev_null_is_char_1_3) { check_chr("/dev/null", 1, 3); }
TEST(dev_zero_is_char_1_5) { check_chr("/dev/zero", 1, 5); }
TEST(dev_full_is_char_1_7) { check_chr("/dev/full", 1, 7); }
TEST(dev_random_is_char_1_8) { check_chr("/dev/random", 1, 8); }
TEST(dev_urandom_is_char_1_9) { check_chr("/dev/urandom", 1, 9); }

TEST(dev_tty_is_char_5_0)
{
    struct stat st;
    CHECK_OK(stat("/dev/tty", &st));
    CHECK(S_ISCHR(st.st_mode));
    CHECK_EQ(st.st_rdev, makedev(5, 0));
}

TEST(dev_directory_lists_the_devices)
{
    DIR *dir = opendir("/dev");
    CHECK(dir != NULL);
    int found = 0;
    struct dirent *e;
    while ((e = readdir(dir)) != NULL) {
        static const char *names[] = {"null", "zero", "full", "random", "urandom", "tty"};
        for (int i = 0; i < 6; i++)
            if (strcmp(e->d_name, names[i]) == 0) {
                found |= 1 << i;
                if (e->d_type != DT_CHR && e->d_type != DT_UNKNOWN)
                    found |= 1 << 10;
            }
    }
    closedir(dir);
    CHECK_EQ(found, 0x3f);
}

/* ---- /dev/null ---- */

TEST(dev_null_read_eof_write_swallows)
{
    int fd = open("/dev/null", O_RDWR);
    CHECK(fd >= 0);
    char buf[64];
    CHECK_EQ(read(fd, buf, sizeof buf), 0);
    CHECK_EQ(write(fd, "anything", 8), 8);
    static char big[100000];
    CHECK_EQ(write(fd, big, sizeof big), (ssize_t)sizeof big);
    CHECK_EQ(read(fd, buf, sizeof buf), 0);
    CHECK_EQ(lseek(fd, 123, SEEK_SET), 0); /* seeking /dev/null always lands at 0 */
    CHECK_EQ(pread(fd, buf, 1, 1000), 0);
    close(fd);
}

TEST(dev_null_opened_write_only_and_created_flags)
{
    int fd = open("/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    CHECK(fd >= 0);
    CHECK_EQ(write(fd, "x", 1), 1);
    close(fd);
    struct stat st;
    CHECK_OK(stat("/dev/null", &st));
    CHECK(S_ISCHR(st.st_mode)); /* O_TRUNC does nothing to a device */
}

/* ---- /dev/zero ---- */

TEST(dev_zero_reads_zeros)
{
    int fd = open("/dev/zero", O_RDWR);
    CHECK(fd >= 0);
    unsigned char buf[10000];
    memset(buf, 0xcc, sizeof buf);
    CHECK_EQ(read(fd, buf, sizeof buf), (ssize_t)sizeof buf);
    CHECK(all_zero(buf, sizeof buf));
    memset(buf, 0xcc, sizeof buf);
    CHECK_EQ(read(fd, buf, 1), 1);
    CHECK_EQ(buf[0], 0);
    CHECK_EQ(buf[1], 0xcc);
    CHECK_EQ(write(fd, "data", 4), 4); /* writes are discarded */
    CHECK_EQ(read(fd, buf, 4), 4);
    CHECK(all_zero(buf, 4));
    close(fd);
}

TEST(dev_zero_mmap_private)
{
    int fd = open("/dev/zero", O_RDWR);
    CHECK(fd >= 0);
    unsigned char *m = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    close(fd);
    CHECK(m != MAP_FAILED);
    CHECK(all_zero(m, 4 * PAGE));
    memset(m, 0x5a, 4 * PAGE);
    CHECK_EQ(m[4 * PAGE - 1], 0x5a);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        m[0] = 1; /* private: the parent keeps 0x5a */
        _exit(m[1] == 0x5a ? 0 : 1);
    }
    CHECK_EQ(child_status(pid), 0);
    CHECK_EQ(m[0], 0x5a);
    CHECK_OK(munmap(m, 4 * PAGE));
}

/* ---- /dev/full ---- */

TEST(dev_full_write_enospc_read_zeros)
{
    int fd = open("/dev/full", O_RDWR);
    CHECK(fd >= 0);
    CHECK_ERRNO(write(fd, "x", 1), ENOSPC);
    unsigned char buf[512];
    memset(buf, 0xcc, sizeof buf);
    CHECK_EQ(read(fd, buf, sizeof buf), (ssize_t)sizeof buf);
    CHECK(all_zero(buf, sizeof buf));
    close(fd);
}

/* ---- random ---- */

static void random_case(const char *path)
{
    int fd = open(path, O_RDONLY);
    CHECK(fd >= 0);
    unsigned char a[64], b[64];
    memset(a, 0, sizeof a);
    memset(b, 0, sizeof b);
    CHECK_EQ(read(fd, a, sizeof a), (ssize_t)sizeof a);
    CHECK_EQ(read(fd, b, sizeof b), (ssize_t)sizeof b);
    CHECK(memcmp(a, b, sizeof a) != 0);
    CHECK(!all_zero(a, sizeof a));
    unsigned char big[4096];
    CHECK_EQ(read(fd, big, sizeof big), (ssize_t)sizeof big);
    int hist[256] = {0};
    for (size_t i = 0; i < sizeof big; i++)
        hist[big[i]]++;
    int max = 0;
    for (int i = 0; i < 256; i++)
        if (hist[i] > max)
            max = hist[i];
    CHECK(max < 64); /* expected about 16 per value */
    close(fd);
}

TEST(dev_urandom_reads_requested_count_and_varies) { random_case("/dev/urandom"); }

TEST(dev_random_reads_requested_count_and_varies) { random_case("/dev/random"); }

/* ---- /dev/tty ---- */

TEST(dev_tty_without_controlling_terminal_enxio)
{
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        if (setsid() < 0)
            _exit(2);
        errno = 0;
        int fd = open("/dev/tty", O_RDWR);
        _exit(fd == -1 && errno == ENXIO ? 0 : 1);
    }
    int st = child_status(pid);
    CHECK(WIFEXITED(st));
    CHECK_EQ(WEXITSTATUS(st), 0);
}

TEST(dev_tty_without_controlling_terminal_enxio_rdonly)
{
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        if (setsid() < 0)
            _exit(2);
        errno = 0;
        int fd = open("/dev/tty", O_RDONLY | O_NOCTTY);
        _exit(fd == -1 && errno == ENXIO ? 0 : 1);
    }
    int st = child_status(pid);
    CHECK(WIFEXITED(st));
    CHECK_EQ(WEXITSTATUS(st), 0);
}
