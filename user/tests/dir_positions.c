/* dir_positions.c - directory positions that stay put while a directory changes: getdents64 in
 * small buffers while the entries are unlinked (every entry present at the start and not removed
 * before it was reached is seen exactly once, none twice, none after its removal), d_off as a
 * position lseek and seekdir accept, telldir/seekdir across removals, rewinddir; the same for
 * /proc while processes exit and /proc/self/fd while descriptors close.
 * Syscalls: getdents64, lseek, openat, unlink, close, fork, kill, wait4, pipe2.
 */
#define _GNU_SOURCE
#define TEST_MAIN
#include "test.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "scratch.h"

struct dirent64_ {
    uint64_t d_ino;
    int64_t d_off;
    unsigned short d_reclen;
    unsigned char d_type;
    char d_name[];
};

#define NFILES 120
#define TMPFS_MAGIC 0x01021994

static long dents64(int fd, void *buf, size_t len)
{
    return syscall(SYS_getdents64, fd, buf, len);
}

/* The index of "fNNN" or -1. */
static int file_index(const char *name)
{
    if (name[0] != 'f')
        return -1;
    char *end;
    long n = strtol(name + 1, &end, 10);
    return *end == '\0' && n >= 0 && n < NFILES ? (int)n : -1;
}

static int make_files(const char *dir, int n)
{
    for (int i = 0; i < n; i++) {
        char name[16];
        snprintf(name, sizeof name, "f%d", i);
        int fd = open(P(dir, name), O_CREAT | O_WRONLY, 0644);
        if (fd < 0)
            return -1;
        close(fd);
    }
    return 0;
}

/* Reads `dir` in buffers of `bufsize` bytes; after each buffer unlinks what it returned and
 * also one entry not reached yet (from the end), recording it as removed. */
static void read_while_unlinking(size_t bufsize)
{
    const char *dir = newdir();
    CHECK(dir != NULL);
    CHECK_OK(make_files(dir, NFILES));
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    CHECK_OK(fd);
    struct statfs sfs;
    CHECK_OK(fstatfs(fd, &sfs));
    int on_tmpfs = sfs.f_type == TMPFS_MAGIC;
    int seen[NFILES] = {0}, removed[NFILES] = {0};
    int dots = 0, next_victim = NFILES - 1;
    char buf[512];
    for (;;) {
        long n = dents64(fd, buf, bufsize);
        CHECK_OK(n);
        if (n == 0)
            break;
        for (long off = 0; off < n;) {
            struct dirent64_ *d = (struct dirent64_ *)(buf + off);
            off += d->d_reclen;
            if (!strcmp(d->d_name, ".") || !strcmp(d->d_name, "..")) {
                dots++;
                continue;
            }
            int i = file_index(d->d_name);
            if (i < 0)
                FAIL("unexpected entry %s", d->d_name);
            /* POSIX leaves it open whether an entry removed while the directory is read
             * still shows (ext4 reads ahead a block); tmpfs, Linux's and ours, never. */
            if (removed[i] && on_tmpfs)
                FAIL("%s seen after it was removed", d->d_name);
            if (removed[i])
                continue;
            if (seen[i]++)
                FAIL("%s seen twice", d->d_name);
            CHECK_OK(unlink(P(dir, d->d_name)));
            removed[i] = 1;
        }
        while (next_victim >= 0 && (seen[next_victim] || removed[next_victim]))
            next_victim--;
        if (next_victim >= 0) {
            char name[16];
            snprintf(name, sizeof name, "f%d", next_victim);
            CHECK_OK(unlink(P(dir, name)));
            removed[next_victim] = 1;
        }
    }
    CHECK_EQ(dots, 2);
    int expected = 0, got = 0;
    for (int i = 0; i < NFILES; i++) {
        if (seen[i])
            got++;
        /* Not removed before it was reached: seen, or removed by this loop after being seen. */
        if (seen[i] || !removed[i])
            expected++;
        if (!seen[i] && !removed[i])
            FAIL("f%d was never seen", i);
    }
    CHECK_EQ(got, expected);
    CHECK(got >= NFILES / 3);
    /* Everything is gone now: a fresh read shows only the dots. */
    CHECK_OK(lseek(fd, 0, SEEK_SET));
    long n = dents64(fd, buf, sizeof buf);
    CHECK_OK(n);
    int names = 0;
    for (long off = 0; off < n; names++)
        off += ((struct dirent64_ *)(buf + off))->d_reclen;
    CHECK_EQ(names, 2);
    close(fd);
}

TEST(unlink_while_reading_one_entry_at_a_time)
{
    read_while_unlinking(40);
}

TEST(unlink_while_reading_small_buffers)
{
    read_while_unlinking(128);
}

/* Each entry's d_off is where the next one is found: lseek to it and read on. */
TEST(d_off_is_a_position_lseek_accepts)
{
    const char *dir = newdir();
    CHECK(dir != NULL);
    CHECK_OK(make_files(dir, 20));
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    CHECK_OK(fd);
    char buf[4096], names[32][16];
    int64_t offs[32];
    long n = dents64(fd, buf, sizeof buf);
    CHECK_OK(n);
    int count = 0;
    for (long off = 0; off < n && count < 32; count++) {
        struct dirent64_ *d = (struct dirent64_ *)(buf + off);
        off += d->d_reclen;
        snprintf(names[count], sizeof names[count], "%s", d->d_name);
        offs[count] = d->d_off;
    }
    CHECK_EQ(count, 22);
    CHECK_EQ(lseek(fd, 0, SEEK_CUR), offs[count - 1]);
    /* From after entry k, entry k+1 comes next; and after removing that one, entry k+2 (k+1
     * a file, not a dot, wherever the file system lists the dots). */
    int k = 5;
    while (!strcmp(names[k + 1], ".") || !strcmp(names[k + 1], ".."))
        k++;
    CHECK_EQ(lseek(fd, offs[k], SEEK_SET), offs[k]);
    n = dents64(fd, buf, 40);
    CHECK(n > 0);
    CHECK(!strcmp(((struct dirent64_ *)buf)->d_name, names[k + 1]));
    CHECK_OK(unlink(P(dir, names[k + 1])));
    CHECK_EQ(lseek(fd, offs[k], SEEK_SET), offs[k]);
    n = dents64(fd, buf, 40);
    CHECK(n > 0);
    CHECK(!strcmp(((struct dirent64_ *)buf)->d_name, names[k + 2]));
    close(fd);
}

TEST(telldir_seekdir_survive_removals)
{
    const char *dir = newdir();
    CHECK(dir != NULL);
    CHECK_OK(make_files(dir, 30));
    DIR *d = opendir(dir);
    CHECK(d != NULL);
    struct dirent *e;
    for (int i = 0; i < 10; i++)
        CHECK((e = readdir(d)) != NULL);
    long mark = telldir(d);
    char next[256], after[256];
    CHECK((e = readdir(d)) != NULL);
    snprintf(next, sizeof next, "%s", e->d_name);
    CHECK((e = readdir(d)) != NULL);
    snprintf(after, sizeof after, "%s", e->d_name);
    while (readdir(d))
        ;
    seekdir(d, mark);
    CHECK((e = readdir(d)) != NULL);
    CHECK(!strcmp(e->d_name, next));
    /* The entry at the mark goes: seekdir to the mark now reaches the one after it. */
    CHECK_OK(unlink(P(dir, next)));
    seekdir(d, mark);
    CHECK((e = readdir(d)) != NULL);
    CHECK(!strcmp(e->d_name, after));
    rewinddir(d);
    int count = 0;
    while (readdir(d))
        count++;
    CHECK_EQ(count, 2 + 29);
    closedir(d);
}

/* Reads /proc in tiny buffers while children exit and are reaped: every child that lives
 * through the read is listed exactly once, no pid twice. */
TEST(proc_listing_while_processes_exit)
{
    enum { KEEP = 12, GO = 12 };
    pid_t keep[KEEP], go[GO];
    int p[2];
    CHECK_OK(pipe2(p, O_CLOEXEC));
    for (int i = 0; i < KEEP + GO; i++) {
        pid_t c = fork();
        CHECK_OK(c);
        if (c == 0) {
            char x;
            close(p[1]);
            while (read(p[0], &x, 1) < 0)
                ;
            _exit(0);
        }
        if (i < KEEP)
            keep[i] = c;
        else
            go[i - KEEP] = c;
    }
    close(p[0]);
    int fd = open("/proc", O_RDONLY | O_DIRECTORY);
    CHECK_OK(fd);
    int seen_keep[KEEP] = {0}, killed = 0;
    static pid_t listed[65536];
    int nlisted = 0;
    char buf[64];
    for (;;) {
        long n = dents64(fd, buf, sizeof buf);
        CHECK_OK(n);
        if (n == 0)
            break;
        for (long off = 0; off < n;) {
            struct dirent64_ *d = (struct dirent64_ *)(buf + off);
            off += d->d_reclen;
            char *end;
            long pid = strtol(d->d_name, &end, 10);
            if (*end != '\0' || pid <= 0)
                continue;
            for (int j = 0; j < nlisted; j++)
                if (listed[j] == pid)
                    FAIL("pid %ld listed twice", pid);
            if (nlisted < 65536)
                listed[nlisted++] = (pid_t)pid;
            for (int j = 0; j < KEEP; j++)
                if (keep[j] == pid)
                    seen_keep[j]++;
        }
        if (killed < GO) {
            CHECK_OK(kill(go[killed], SIGKILL));
            CHECK_EQ(waitpid(go[killed], NULL, 0), go[killed]);
            killed++;
        }
    }
    close(fd);
    close(p[1]);
    for (int j = 0; j < KEEP; j++) {
        CHECK_EQ(waitpid(keep[j], NULL, 0), keep[j]);
        CHECK_EQ(seen_keep[j], 1);
    }
    for (; killed < GO; killed++)
        CHECK_EQ(waitpid(go[killed], NULL, 0), go[killed]);
}

/* /proc/self/fd read in tiny buffers while descriptors not reached yet are closed: the others
 * are each listed once. */
TEST(proc_fd_listing_while_descriptors_close)
{
    enum { N = 40 };
    int fds[N];
    for (int i = 0; i < N; i++)
        CHECK_OK(fds[i] = open("/dev/null", O_RDONLY));
    int dfd = open("/proc/self/fd", O_RDONLY | O_DIRECTORY);
    CHECK_OK(dfd);
    int seen[N] = {0}, closed[N] = {0}, victim = N - 1;
    char buf[48];
    for (;;) {
        long n = dents64(dfd, buf, sizeof buf);
        CHECK_OK(n);
        if (n == 0)
            break;
        for (long off = 0; off < n;) {
            struct dirent64_ *d = (struct dirent64_ *)(buf + off);
            off += d->d_reclen;
            char *end;
            long fd = strtol(d->d_name, &end, 10);
            if (*end != '\0')
                continue;
            for (int i = 0; i < N; i++) {
                if (fds[i] != fd)
                    continue;
                if (closed[i])
                    FAIL("fd %ld listed after it was closed", fd);
                if (seen[i]++)
                    FAIL("fd %ld listed twice", fd);
            }
        }
        while (victim >= 0 && (seen[victim] || closed[victim]))
            victim--;
        if (victim >= 0) {
            close(fds[victim]);
            closed[victim] = 1;
        }
    }
    for (int i = 0; i < N; i++) {
        if (!closed[i]) {
            CHECK_EQ(seen[i], 1);
            close(fds[i]);
        }
    }
    close(dfd);
}
