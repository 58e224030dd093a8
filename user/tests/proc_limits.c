/* proc_limits.c - no user program can panic, freeze or fill the kernel (issue 11, processes,
 * signals and memory): every exhaustion ends in Linux's errno or an OOM kill, and afterwards a
 * fork+exec+wait still works.
 *
 * "As nobody" cases fork and drop to uid/gid 65534 in the child, which reports through its
 * exit status. Cases bounded by a limit they set run on Linux too; a fork bomb as root and
 * filling memory until the OOM killer acts run on POSIX-X only.
 *
 * Syscalls: fork, setrlimit, setuid, rt_sigqueueinfo, rt_sigtimedwait, kill, mmap, mprotect,
 * munmap, mlock, mlock2, munlock, mlockall, munlockall, execve, wait4.
 */
#define _GNU_SOURCE
#define TEST_MAIN
#include "test.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#define PAGE 4096L

/* fork + exec of /bin/true + wait: the system still works. */
static int still_works(void)
{
    pid_t p = fork();
    if (p < 0)
        return 0;
    if (p == 0) {
        execl("/bin/true", "true", (char *)NULL);
        _exit(127);
    }
    int st;
    return waitpid(p, &st, 0) == p && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

static int drop_to_nobody(void)
{
    return setgid(65534) == 0 && setuid(65534) == 0;
}

static void set_limit(int res, rlim_t v)
{
    struct rlimit r = { v, v };
    setrlimit(res, &r);
}

/* Runs fn in a forked child; returns the wait status. */
static int in_child(int (*fn)(void))
{
    fflush(stdout);
    pid_t p = fork();
    if (p == 0)
        _exit(fn());
    int st = -1;
    waitpid(p, &st, 0);
    return st;
}

/* Forks until fork fails; each child waits on `hold` until it is closed. Returns the count,
 * with the failure's errno in *err. */
static int fork_until_failure(int hold_read, int hold_write, int max, int *err)
{
    int n = 0;
    *err = 0;
    while (n < max) {
        pid_t p = fork();
        if (p < 0) {
            *err = errno;
            break;
        }
        if (p == 0) {
            char c;
            close(hold_write);
            while (read(hold_read, &c, 1) < 0 && errno == EINTR)
                ;
            _exit(0);
        }
        n++;
    }
    return n;
}

/* ---- RLIMIT_NPROC ---- */

static int nproc_nobody(void)
{
    int hold[2];
    if (pipe(hold) < 0)
        return 10;
    set_limit(RLIMIT_NPROC, 30);
    if (!drop_to_nobody())
        return 11;
    int err;
    int n = fork_until_failure(hold[0], hold[1], 200, &err);
    if (err != EAGAIN)
        return 12;
    if (n >= 30)
        return 13;
    close(hold[1]);
    while (wait(NULL) > 0)
        ;
    /* The count went down with the reaped children. */
    pid_t p = fork();
    if (p < 0)
        return 14;
    if (p == 0)
        _exit(0);
    waitpid(p, NULL, 0);
    return 0;
}

TEST(rlimit_nproc_as_nobody_gives_eagain)
{
    int st = in_child(nproc_nobody);
    CHECK(WIFEXITED(st));
    CHECK_EQ(WEXITSTATUS(st), 0);
    CHECK(still_works());
}

static int threads_max_nobody(void)
{
    if (!drop_to_nobody())
        return 10;
    if (open("/proc/sys/kernel/threads-max", O_WRONLY) >= 0 || errno != EACCES)
        return 11;
    if (open("/proc/sys/vm/max_map_count", O_WRONLY) >= 0 || errno != EACCES)
        return 12;
    return 0;
}

TEST(threads_max_and_max_map_count_are_root_sysctls)
{
    char buf[64] = { 0 };
    int fd = open("/proc/sys/kernel/threads-max", O_RDONLY);
    CHECK(fd >= 0);
    CHECK(read(fd, buf, sizeof buf - 1) > 0);
    close(fd);
    CHECK(atol(buf) >= 20);
    memset(buf, 0, sizeof buf);
    fd = open("/proc/sys/vm/max_map_count", O_RDONLY);
    CHECK(fd >= 0);
    CHECK(read(fd, buf, sizeof buf - 1) > 0);
    close(fd);
    long max = atol(buf);
    CHECK(max > 0);
    /* Root writes it: the same value back (harmless on the host), and junk is EINVAL. */
    fd = open("/proc/sys/vm/max_map_count", O_WRONLY);
    CHECK(fd >= 0);
    CHECK_EQ(write(fd, buf, strlen(buf)), (long)strlen(buf));
    close(fd);
    fd = open("/proc/sys/vm/max_map_count", O_WRONLY);
    CHECK(fd >= 0);
    CHECK_ERRNO(write(fd, "abc\n", 4), EINVAL);
    close(fd);
    int st = in_child(threads_max_nobody);
    CHECK(WIFEXITED(st));
    CHECK_EQ(WEXITSTATUS(st), 0);
}

/* ---- RLIMIT_SIGPENDING ---- */

static int sigqueue_until_eagain(int limit)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGRTMIN);
    sigaddset(&set, SIGUSR1);
    sigprocmask(SIG_BLOCK, &set, NULL);
    int n = 0;
    union sigval v = { .sival_int = 7 };
    while (n < limit + 100 && sigqueue(getpid(), SIGRTMIN, v) == 0)
        n++;
    if (errno != EAGAIN)
        return 20;
    if (n > limit || n < 1)
        return 21;
    /* kill() of a real-time signal and sigqueue() of a standard one still get through,
     * without their information, as Linux. */
    if (kill(getpid(), SIGRTMIN) != 0)
        return 22;
    if (sigqueue(getpid(), SIGUSR1, v) != 0)
        return 23;
    struct timespec zero = { 0, 0 };
    int drained = 0;
    while (drained < limit + 200 && sigtimedwait(&set, NULL, &zero) > 0)
        drained++;
    if (drained < n)
        return 24;
    /* Dequeued signals no longer count. */
    if (sigqueue(getpid(), SIGRTMIN, v) != 0)
        return 25;
    if (sigtimedwait(&set, NULL, &zero) != SIGRTMIN)
        return 26;
    return 0;
}

static int sigpending_nobody(void)
{
    set_limit(RLIMIT_SIGPENDING, 8);
    if (!drop_to_nobody())
        return 10;
    return sigqueue_until_eagain(8);
}

static int sigpending_root(void)
{
    set_limit(RLIMIT_SIGPENDING, 64);
    return sigqueue_until_eagain(64);
}

TEST(rlimit_sigpending_as_nobody_gives_eagain)
{
    int st = in_child(sigpending_nobody);
    CHECK(WIFEXITED(st));
    CHECK_EQ(WEXITSTATUS(st), 0);
    CHECK(still_works());
}

TEST(rlimit_sigpending_as_root_gives_eagain)
{
    int st = in_child(sigpending_root);
    CHECK(WIFEXITED(st));
    CHECK_EQ(WEXITSTATUS(st), 0);
    CHECK(still_works());
}

/* ---- fork bombs, then kill ---- */

static int bomb_nobody_kill_group(void)
{
    int hold[2];
    if (setpgid(0, 0) < 0 || pipe(hold) < 0)
        return 10;
    set_limit(RLIMIT_NPROC, 30);
    if (!drop_to_nobody())
        return 11;
    int err;
    fork_until_failure(hold[0], hold[1], 200, &err);
    if (err != EAGAIN)
        return 12;
    kill(0, SIGKILL); /* the remedy: kills the whole group, this process too */
    return 13;
}

TEST(fork_bomb_as_nobody_then_kill_group)
{
    int st = in_child(bomb_nobody_kill_group);
    CHECK(WIFSIGNALED(st));
    CHECK_EQ(WTERMSIG(st), SIGKILL);
    CHECK(still_works());
}

TEST(fork_bomb_as_root_then_kill_pgid)
{
    if (!on_posix_x())
        SKIP("a fork bomb as root is not safe on the host");
    int status[2], hold[2];
    CHECK_OK(pipe(status));
    CHECK_OK(pipe(hold));
    fflush(stdout);
    pid_t leader = fork();
    CHECK(leader >= 0);
    if (leader == 0) {
        setpgid(0, 0);
        close(status[0]);
        int err;
        int n = fork_until_failure(hold[0], hold[1], 100000, &err);
        int msg[2] = { n, err };
        (void)!write(status[1], msg, sizeof msg);
        char c;
        while (read(hold[0], &c, 1) < 0 && errno == EINTR)
            ;
        _exit(0);
    }
    close(status[1]);
    int msg[2] = { 0, 0 };
    CHECK_EQ(read(status[0], msg, sizeof msg), (long)sizeof msg);
    close(status[0]);
    printf("# root fork bomb: %d children, then errno %d\n", msg[0], msg[1]);
    CHECK(msg[1] == EAGAIN || msg[1] == ENOMEM);
    CHECK_OK(kill(-leader, SIGKILL));
    int st;
    CHECK_EQ(waitpid(leader, &st, 0), leader);
    CHECK(WIFSIGNALED(st));
    close(hold[0]);
    close(hold[1]);
    CHECK(still_works());
}

/* ---- zombies, then exec ---- */

static int zombies_then_exec(void)
{
    int n = 0;
    while (n < 100000) {
        pid_t p = fork();
        if (p < 0)
            break;
        if (p == 0)
            _exit(0);
        n++;
    }
    if (errno != EAGAIN && errno != ENOMEM)
        return 10;
    /* The zombies stay this process's children across the exec. */
    execl("/bin/true", "true", (char *)NULL);
    return errno == ENOMEM || errno == EAGAIN ? 11 : 12;
}

static int zombies_nobody(void)
{
    set_limit(RLIMIT_NPROC, 30);
    if (!drop_to_nobody())
        return 20;
    return zombies_then_exec();
}

TEST(zombies_until_nproc_then_exec_as_nobody)
{
    int st = in_child(zombies_nobody);
    CHECK(WIFEXITED(st));
    CHECK_EQ(WEXITSTATUS(st), 0);
    CHECK(still_works());
}

TEST(zombies_until_fork_fails_then_exec_as_root)
{
    if (!on_posix_x())
        SKIP("filling the process table as root is not safe on the host");
    int st = in_child(zombies_then_exec);
    CHECK(WIFEXITED(st));
    CHECK_EQ(WEXITSTATUS(st), 0);
    CHECK(still_works());
}

/* ---- vm.max_map_count ---- */

static int split_until_enomem(void)
{
    if (!drop_to_nobody())
        return 10;
    char buf[32] = { 0 };
    int fd = open("/proc/sys/vm/max_map_count", O_RDONLY);
    if (fd < 0 || read(fd, buf, sizeof buf - 1) <= 0)
        return 11;
    close(fd);
    long max = atol(buf);
    if (max <= 0 || max > 1000000)
        return 12;
    long pages = 2 * max + 64;
    char *base = mmap(NULL, pages * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED)
        return 13;
    long i;
    for (i = 0; i < max; i++)
        if (mprotect(base + (2 * i + 1) * PAGE, PAGE, PROT_READ) < 0)
            break;
    if (i == max || errno != ENOMEM)
        return 14;
    /* A hole in the middle of one mapping needs a new one too. */
    char *tail = base + (pages - 8) * PAGE;
    if (munmap(tail, PAGE) == 0 || errno != ENOMEM)
        return 15;
    if (munmap(base, pages * PAGE) < 0)
        return 16;
    char *p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return 17;
    p[0] = 1;
    return 0;
}

TEST(mprotect_splits_stop_at_max_map_count)
{
    int st = in_child(split_until_enomem);
    CHECK(WIFEXITED(st));
    CHECK_EQ(WEXITSTATUS(st), 0);
    CHECK(still_works());
}

/* ---- RLIMIT_MEMLOCK ---- */

static int memlock_nobody(void)
{
    set_limit(RLIMIT_MEMLOCK, 16 * PAGE);
    if (!drop_to_nobody())
        return 10;
    char *m = mmap(NULL, 64 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        return 11;
    if (mlock(m, 16 * PAGE) != 0)
        return 12;
    if (m[5 * PAGE] != 0) /* populated, zero */
        return 13;
    if (mlock(m + 16 * PAGE, PAGE) == 0 || errno != ENOMEM)
        return 14;
    if (mlock(m, 16 * PAGE) != 0) /* already locked pages do not count twice */
        return 15;
    if (munlock(m, 8 * PAGE) != 0 || mlock(m + 16 * PAGE, 8 * PAGE) != 0)
        return 16;
    if (mlockall(MCL_CURRENT) == 0 || errno != ENOMEM)
        return 17;
    if (mlockall(0) == 0 || errno != EINVAL)
        return 18;
    if (syscall(SYS_mlock2, m, PAGE, 2) == 0 || errno != EINVAL)
        return 19;
    void *l = mmap(NULL, 32 * PAGE, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_LOCKED, -1, 0);
    if (l != MAP_FAILED || errno != EAGAIN)
        return 20;
    if (munlockall() != 0 || mlock(m, 16 * PAGE) != 0)
        return 21;
    if (mlock(m + 40 * PAGE, 4 * PAGE) == 0 || errno != ENOMEM)
        return 22;
    if (munlockall() != 0)
        return 23;
    /* An unmapped range: ENOMEM. */
    if (mlock((char *)0x1000, PAGE) == 0 || errno != ENOMEM)
        return 24;
    set_limit(RLIMIT_MEMLOCK, 0);
    if (mlock(m, PAGE) == 0 || errno != EPERM)
        return 25;
    return 0;
}

TEST(rlimit_memlock_as_nobody)
{
    int st = in_child(memlock_nobody);
    CHECK(WIFEXITED(st));
    CHECK_EQ(WEXITSTATUS(st), 0);
    CHECK(still_works());
}

static int memlock_root(void)
{
    set_limit(RLIMIT_MEMLOCK, 4 * PAGE);
    char *m = mmap(NULL, 32 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        return 10;
    if (mlock(m, 32 * PAGE) != 0) /* CAP_IPC_LOCK: no limit */
        return 11;
    if (munlock(m, 32 * PAGE) != 0)
        return 12;
    return 0;
}

TEST(rlimit_memlock_does_not_bind_root)
{
    int st = in_child(memlock_root);
    CHECK(WIFEXITED(st));
    CHECK_EQ(WEXITSTATUS(st), 0);
}

/* ---- the OOM killer ---- */

static long mem_free_kb(void)
{
    char buf[4096] = { 0 };
    int fd = open("/proc/meminfo", O_RDONLY);
    if (fd < 0)
        return -1;
    (void)!read(fd, buf, sizeof buf - 1);
    close(fd);
    char *p = strstr(buf, "MemFree:");
    return p ? atol(p + 8) : -1;
}

static int fill_memory(void)
{
    if (!drop_to_nobody())
        return 10;
    long total = mem_free_kb() * 1024 * 4;
    for (long done = 0; done < total; done += 1 << 20) {
        char *p = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
            return 11;
        for (long i = 0; i < (1 << 20); i += PAGE)
            p[i] = 1;
    }
    return 12;
}

TEST(filling_memory_ends_in_an_oom_kill)
{
    if (!on_posix_x())
        SKIP("filling the host's memory is not safe");
    long before = mem_free_kb();
    int st = in_child(fill_memory);
    CHECK(WIFSIGNALED(st));
    CHECK_EQ(WTERMSIG(st), SIGKILL);
    long after = mem_free_kb();
    printf("# MemFree %ld kB before, %ld kB after\n", before, after);
    CHECK(after > before - 1024);
    CHECK(still_works());
}

/* ---- /proc/PID/oom_score_adj and oom_score ---- */

/* Writes `text` to `path`: 0, or the errno of open or write. */
static int write_file(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY);
    if (fd < 0)
        return errno;
    int r = write(fd, text, strlen(text)) == (ssize_t)strlen(text) ? 0 : errno;
    close(fd);
    return r;
}

/* The number in `path`, or -99999. */
static long read_number(const char *path)
{
    char buf[32] = { 0 };
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -99999;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    return n > 0 && buf[n - 1] == '\n' ? atol(buf) : -99999;
}

#define ADJ "/proc/self/oom_score_adj"
#define SCORE "/proc/self/oom_score"

/* CAP_SYS_RESOURCE in the effective set (root here; root may lack it in a container). */
static int has_sys_resource(void)
{
    char buf[4096] = { 0 };
    int fd = open("/proc/self/status", O_RDONLY);
    if (fd < 0)
        return 0;
    (void)!read(fd, buf, sizeof buf - 1);
    close(fd);
    char *p = strstr(buf, "CapEff:");
    if (!p)
        return on_posix_x() && geteuid() == 0;
    return (strtoull(p + 7, NULL, 16) >> 24) & 1;
}

static int oom_score_adj_rules(void)
{
    int privileged = on_posix_x() ? geteuid() == 0 : has_sys_resource();
    if (write_file(ADJ, "0\n") || read_number(ADJ) != 0)
        return 10;
    long score0 = read_number(SCORE);
    if (write_file(ADJ, "500") || read_number(ADJ) != 500)
        return 11;
    long score500 = read_number(SCORE);
    if (!(score0 > 0 && score500 > score0 && score500 <= 2000))
        return 12;
    if (write_file(ADJ, "1001") != EINVAL || write_file(ADJ, "-1001") != EINVAL ||
        write_file(ADJ, "abc") != EINVAL || write_file(ADJ, "5 5") != EINVAL)
        return 13;
    if (write_file(ADJ, " 0x10\n") || read_number(ADJ) != 16)
        return 14;
    /* Below the floor (0 at first) only with CAP_SYS_RESOURCE; which then moves the floor. */
    if (privileged) {
        if (write_file(ADJ, "-1000") || read_number(ADJ) != -1000 || read_number(SCORE) != 0)
            return 15;
    } else if (write_file(ADJ, "-1000") != EACCES || read_number(ADJ) != 16) {
        return 15;
    }
    if (write_file(ADJ, "0"))
        return 16;
    char parent[64];
    snprintf(parent, sizeof parent, "/proc/%d/oom_score_adj", getppid());
    if (!drop_to_nobody())
        return 17;
    /* Linux made the process non-dumpable when its ids changed, which gives its /proc files to
     * root; dumpable again, they are nobody's. (POSIX-X has no dumpable flag: a no-op there.) */
    (void)prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
    /* As nobody: up, and down again to the floor root set (0), but not below it. */
    if (write_file(ADJ, "100") || write_file(ADJ, "0") || write_file(ADJ, "300"))
        return 18;
    if (write_file(ADJ, "-1") != EACCES || read_number(ADJ) != 300)
        return 19;
    /* Another user's process: its file is not writable (the mode, 0644, and its owner). */
    if (write_file(parent, "0") != EACCES)
        return 20;
    /* fork copies the value. */
    pid_t p = fork();
    if (p == 0)
        _exit(read_number(ADJ) == 300 ? 0 : 1);
    int st;
    if (waitpid(p, &st, 0) != p || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
        return 21;
    return 0;
}

TEST(oom_score_adj_range_floor_and_owner)
{
    int st = in_child(oom_score_adj_rules);
    CHECK(WIFEXITED(st));
    CHECK_EQ(WEXITSTATUS(st), 0);
}

TEST(oom_score_of_init_is_zero)
{
    if (!on_posix_x())
        SKIP("PID 1 of the host's pid namespace is not the test's to judge");
    CHECK_EQ(read_number("/proc/1/oom_score"), 0);
    CHECK_EQ(read_number("/proc/1/oom_score_adj"), 0);
}

/* A small process with oom_score_adj 1000 waits on a pipe; another fills memory: the OOM killer
 * takes the small one first (its score is above anything memory alone can reach). */
static int hold_fd = -1, ready_fd = -1;

static int adj_1000_and_wait(void)
{
    if (write_file(ADJ, "1000") || !drop_to_nobody())
        return 10;
    if (write(ready_fd, "r", 1) != 1)
        return 11;
    char c;
    while (read(hold_fd, &c, 1) < 0 && errno == EINTR)
        ;
    return 0;
}

TEST(oom_killer_takes_the_highest_oom_score_adj_first)
{
    if (!on_posix_x())
        SKIP("filling the host's memory is not safe");
    int hold[2], ready[2];
    CHECK_OK(pipe(hold));
    CHECK_OK(pipe(ready));
    hold_fd = hold[0];
    ready_fd = ready[1];
    fflush(stdout);
    pid_t small = fork();
    if (small == 0) {
        close(hold[1]);
        close(ready[0]);
        _exit(adj_1000_and_wait());
    }
    close(hold[0]);
    close(ready[1]);
    /* Its write of 1000 is done once it says so. */
    char c;
    CHECK_EQ(read(ready[0], &c, 1), 1);
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/oom_score_adj", small);
    CHECK_EQ(read_number(path), 1000);
    int st = in_child(fill_memory);
    CHECK(WIFSIGNALED(st));
    int small_st;
    close(hold[1]);
    CHECK_EQ(waitpid(small, &small_st, 0), small);
    CHECK(WIFSIGNALED(small_st));
    CHECK_EQ(WTERMSIG(small_st), SIGKILL);
    CHECK(still_works());
}

/* Frames running out in the kernel (a pipe's ring), not in a page fault: Linux's allocator
 * calls the OOM killer rather than fail, and so does POSIX-X. A hog takes memory until little
 * is free and waits; a small process then makes pipes and fills them, whose rings need more
 * frames than are left: the hog is killed and every pipe is made and filled. */
static int hog_ready_fd = -1, hog_hold_fd = -1;

static int hog_memory(void)
{
    if (!drop_to_nobody())
        return 10;
    for (;;) {
        long free_kb = mem_free_kb();
        if (free_kb < 0)
            return 11;
        if (free_kb < 12 * 1024)
            break;
        char *p = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
            return 12;
        for (long i = 0; i < (1 << 20); i += PAGE)
            p[i] = 1;
    }
    if (write(hog_ready_fd, "r", 1) != 1)
        return 13;
    char c;
    while (read(hog_hold_fd, &c, 1) < 0 && errno == EINTR)
        ;
    return 0;
}

static int make_pipes(void)
{
    if (!drop_to_nobody())
        return 10;
    /* 400 pipes of 16 frames, each filled (a pipe takes its frames as data arrives): 25 MiB,
     * twice what the hog left. */
    static char full[16 * PAGE];
    for (int i = 0; i < 400; i++) {
        int p[2];
        if (pipe(p) != 0) {
            printf("# pipe %d: %s\n", i, strerror(errno));
            return 11;
        }
        /* Non-blocking: a short write is reported rather than waited on. */
        if (fcntl(p[1], F_SETFL, O_NONBLOCK) != 0)
            return 12;
        ssize_t w = write(p[1], full, sizeof full);
        if (w != (ssize_t)sizeof full) {
            printf("# write into pipe %d: %zd: %s\n", i, w, strerror(errno));
            return 13;
        }
    }
    return 0;
}

TEST(frames_running_out_in_the_kernel_call_the_oom_killer)
{
    if (!on_posix_x())
        SKIP("filling the host's memory is not safe");
    int hold[2], ready[2];
    CHECK_OK(pipe(hold));
    CHECK_OK(pipe(ready));
    hog_hold_fd = hold[0];
    hog_ready_fd = ready[1];
    fflush(stdout);
    pid_t hog = fork();
    if (hog == 0) {
        close(hold[1]);
        close(ready[0]);
        _exit(hog_memory());
    }
    close(hold[0]);
    close(ready[1]);
    char c;
    CHECK_EQ(read(ready[0], &c, 1), 1);
    close(ready[0]);
    int st = in_child(make_pipes);
    close(hold[1]);
    int hog_st;
    CHECK_EQ(waitpid(hog, &hog_st, 0), hog);
    CHECK(WIFSIGNALED(hog_st));
    CHECK_EQ(WTERMSIG(hog_st), SIGKILL);
    CHECK(WIFEXITED(st));
    CHECK_EQ(WEXITSTATUS(st), 0);
    CHECK(still_works());
}
