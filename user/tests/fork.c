/* fork.c - process creation and reaping: fork/vfork/raw clone (copy-on-write memory, shared
 * anonymous memory, CLONE_CHILD_SETTID/CLEARTID, CLONE_PARENT_SETTID, CLONE_VM|CLONE_VFORK),
 * wait4 and waitid (any child, a pid, a process group, WNOHANG, WNOWAIT, status and siginfo
 * encoding, rusage, ECHILD), orphan re-parenting, process groups and sessions (getpgid, setpgid,
 * setsid, getsid, getpgrp with their errors), kill (signal 0, SIGKILL/SIGTERM default actions,
 * process groups), umask, and many fork/exit/wait cycles.
 * Syscalls: fork (musl: clone(SIGCHLD)), vfork, clone, wait4, waitid, exit, exit_group, kill,
 * getpid, getppid, gettid, getpgid, setpgid, getsid, setsid, getpgrp, brk, mmap, munmap, pipe2,
 * read, write, close, execve, umask, openat, fstat, unlink, prlimit64, rt_sigaction,
 * rt_sigprocmask.
 * Helper mode: argv[1] == "--helper-wait-byte" argv[2] == fd: read one byte from fd, exit 42.
 */
#define _GNU_SOURCE
#include "test.h"

#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "children.h"

#define PAGE 4096UL

/* Default dispositions and an empty mask, so SIGTERM & co. kill the child whatever the
 * harness left behind. */
static void child_default_signals(void)
{
    signal(SIGTERM, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
    sigset_t s;
    sigemptyset(&s);
    sigprocmask(SIG_SETMASK, &s, NULL);
}

static int read_full(int fd, void *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, (char *)buf + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        got += (size_t)r;
    }
    return 0;
}

/* A child that blocks reading `gate` (after closing `close_fd`) and exits 0 on EOF. */
static pid_t spawn_blocked(int gate, int close_fd, int ready_fd)
{
    pid_t pid = fork();
    if (pid == 0) {
        child_default_signals();
        close(close_fd);
        if (ready_fd >= 0)
            write_byte(ready_fd, 'r');
        char c;
        _exit(read(gate, &c, 1) == 0 ? 0 : 3);
    }
    return pid;
}

/* A pid that surely does not exist any more: a reaped child's. */
static pid_t dead_pid(void)
{
    pid_t pid = fork();
    if (pid == 0)
        _exit(0);
    if (pid < 0 || child_status(pid) == -1)
        return -1;
    return pid;
}

static char self_exe_[PATH_MAX];
static const char *self_exe(void)
{
    ssize_t n = readlink("/proc/self/exe", self_exe_, sizeof self_exe_ - 1);
    if (n <= 0)
        return NULL;
    self_exe_[n] = '\0';
    return self_exe_;
}

/* ---- fork basics ---- */

TEST(fork_returns_zero_in_child_and_pid_in_parent)
{
    int p[2];
    CHECK_OK(pipe(p));
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        pid_t me = getpid();
        (void)!write(p[1], &me, sizeof me);
        _exit(0);
    }
    close(p[1]);
    pid_t reported = 0;
    CHECK_EQ(read_full(p[0], &reported, sizeof reported), 0);
    close(p[0]);
    CHECK(pid > 0);
    CHECK_EQ(reported, pid);
    CHECK_NE(pid, getpid());
    CHECK_EXITED(pid, 0);
}

TEST(fork_child_getppid_is_parent)
{
    pid_t parent = getpid();
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        CCHECK(getppid() == parent);
        CCHECK(syscall(SYS_gettid) == getpid());
        _exit(0);
    }
    CHECK_EXITED(pid, 0);
}

TEST(fork_child_inherits_open_fds_with_shared_offset)
{
    int p[2];
    CHECK_OK(pipe(p));
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        CCHECK(write(p[1], "hello", 5) == 5);
        _exit(0);
    }
    CHECK_EXITED(pid, 0);
    char buf[8] = {0};
    CHECK_EQ(read(p[0], buf, sizeof buf), 5);
    CHECK(memcmp(buf, "hello", 5) == 0);
    close(p[0]);
    close(p[1]);
}

/* Copy-on-write check on one int at `mem`: after fork the parent writes 2, the child must still
 * see 1, then writes 3, which the parent must not see. */
static void cow_check(volatile int *mem)
{
    int go[2];
    *mem = 1;
    CHECK_OK(pipe(go));
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        close(go[1]);
        CCHECK(read_byte(go[0]) == 'g');
        CCHECK(*mem == 1);
        *mem = 3;
        CCHECK(*mem == 3);
        _exit(0);
    }
    close(go[0]);
    *mem = 2;
    CHECK_EQ(write_byte(go[1], 'g'), 0);
    close(go[1]);
    CHECK_EXITED(pid, 0);
    CHECK_EQ(*mem, 2);
}

TEST(fork_cow_stack)
{
    volatile int x = 0;
    cow_check(&x);
}

static volatile int cow_global;
TEST(fork_cow_data_segment) { cow_check(&cow_global); }

TEST(fork_cow_heap_malloc)
{
    int *p = malloc(sizeof *p * 1000);
    CHECK(p != NULL);
    cow_check(&p[500]);
    free(p);
}

TEST(fork_cow_brk)
{
    long b = syscall(SYS_brk, 0);
    CHECK(b > 0);
    long top = b + 3 * (long)PAGE;
    CHECK_EQ(syscall(SYS_brk, top), top);
    cow_check((volatile int *)((b + PAGE) & ~(PAGE - 1)));
    CHECK_EQ(syscall(SYS_brk, b), b);
}

TEST(fork_cow_mmap_private_anonymous)
{
    int *m = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(m != MAP_FAILED);
    cow_check(&m[PAGE / sizeof(int) * 2 + 7]);
    CHECK_OK(munmap(m, 4 * PAGE));
}

TEST(fork_cow_untouched_page_before_fork)
{
    /* The page is never touched before fork: both sides fault it in separately. */
    int *m = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(m != MAP_FAILED);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        CCHECK(m[10] == 0);
        m[10] = 77;
        CCHECK(m[10] == 77);
        _exit(0);
    }
    CHECK_EXITED(pid, 0);
    CHECK_EQ(m[10], 0);
    CHECK_OK(munmap(m, PAGE));
}

TEST(fork_cow_large_region_every_page)
{
    enum { NPAGES = 64 };
    unsigned char *m = mmap(NULL, NPAGES * PAGE, PROT_READ | PROT_WRITE,
                            MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(m != MAP_FAILED);
    for (size_t i = 0; i < NPAGES * PAGE; i++)
        m[i] = (unsigned char)(i * 13 + 1);
    int go[2];
    CHECK_OK(pipe(go));
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        close(go[1]);
        CCHECK(read_byte(go[0]) == 'g');
        for (size_t i = 0; i < NPAGES * PAGE; i++)
            CCHECK(m[i] == (unsigned char)(i * 13 + 1));
        for (size_t i = 0; i < NPAGES * PAGE; i += PAGE / 2)
            m[i] = 0xee;
        _exit(0);
    }
    close(go[0]);
    for (size_t i = 0; i < NPAGES * PAGE; i += PAGE)
        m[i + 1] = 0x11; /* the parent dirties every page before the child reads */
    CHECK_EQ(write_byte(go[1], 'g'), 0);
    close(go[1]);
    CHECK_EXITED(pid, 0);
    for (size_t i = 0; i < NPAGES * PAGE; i++) {
        unsigned char want = (i % PAGE == 1) ? 0x11 : (unsigned char)(i * 13 + 1);
        if (m[i] != want)
            FAIL("byte %zu is %#x, expected %#x", i, m[i], want);
    }
    CHECK_OK(munmap(m, NPAGES * PAGE));
}

TEST(fork_readonly_private_mapping_stays_readonly_in_child)
{
    int *m = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(m != MAP_FAILED);
    m[0] = 5;
    CHECK_OK(mprotect(m, PAGE, PROT_READ));
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        struct rlimit z = {0, 0};
        setrlimit(RLIMIT_CORE, &z);
        CCHECK(m[0] == 5);
        m[0] = 6; /* must fault: SIGSEGV */
        _exit(0);
    }
    CHECK_KILLED(pid, SIGSEGV);
    CHECK_EQ(m[0], 5);
    CHECK_OK(munmap(m, PAGE));
}

TEST(fork_shared_anonymous_memory_is_shared)
{
    volatile int *m = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                           -1, 0);
    CHECK(m != MAP_FAILED);
    m[0] = 1;
    int go[2];
    CHECK_OK(pipe(go));
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        close(go[1]);
        CCHECK(read_byte(go[0]) == 'g');
        CCHECK(m[0] == 2);               /* the parent's write after fork */
        m[1] = 3;
        m[PAGE / sizeof(int)] = 4;       /* a page never touched before fork */
        _exit(0);
    }
    close(go[0]);
    m[0] = 2;
    CHECK_EQ(write_byte(go[1], 'g'), 0);
    close(go[1]);
    CHECK_EXITED(pid, 0);
    CHECK_EQ(m[1], 3);
    CHECK_EQ(m[PAGE / sizeof(int)], 4);
    CHECK_OK(munmap((void *)m, 2 * PAGE));
}

/* ---- vfork ---- */

static volatile int vfork_flag;

TEST(vfork_child_runs_first_sharing_memory)
{
    vfork_flag = 0;
    pid_t pid = vfork();
    if (pid == 0) {
        vfork_flag = 1; /* Linux: the child borrows the parent's memory */
        _exit(7);
    }
    CHECK(pid > 0);
    CHECK_EQ(vfork_flag, 1);
    CHECK_EXITED(pid, 7);
}

TEST(vfork_parent_resumes_after_child_exec)
{
    const char *exe = self_exe();
    CHECK(exe != NULL);
    int p[2];
    CHECK_OK(pipe2(p, O_CLOEXEC));
    char fdarg[16];
    snprintf(fdarg, sizeof fdarg, "%d", p[0]);
    CHECK_OK(fcntl(p[0], F_SETFD, 0)); /* the helper inherits only the read end */
    char *argv[] = {(char *)"fork-helper", (char *)"--helper-wait-byte", fdarg, NULL};
    char *envp[] = {NULL};
    vfork_flag = 0;
    pid_t pid = vfork();
    if (pid == 0) {
        vfork_flag = 1;
        execve(exe, argv, envp);
        _exit(127);
    }
    CHECK(pid > 0);
    close(p[0]);
    CHECK_EQ(vfork_flag, 1);
    /* The parent runs again while the exec'ed child is still blocked in read. */
    int st;
    CHECK_EQ(waitpid(pid, &st, WNOHANG), 0);
    CHECK_EQ(write_byte(p[1], 'x'), 0);
    close(p[1]);
    CHECK_EXITED(pid, 42);
}

/* ---- raw clone ---- */

TEST(clone_sigchld_behaves_as_fork)
{
    volatile int x = 1;
    long r = syscall(SYS_clone, SIGCHLD, 0, NULL, NULL, 0);
    CHECK(r >= 0);
    if (r == 0) {
        x = 2;
        _exit(getppid() > 0 && x == 2 ? 9 : 1);
    }
    CHECK_EXITED((pid_t)r, 9);
    CHECK_EQ(x, 1);
}

TEST(clone_exit_signal_zero_child_not_seen_by_plain_wait)
{
    /* A child whose exit signal is not SIGCHLD is a "clone" child: only __WALL/__WCLONE waits
     * find it. */
    long r = syscall(SYS_clone, 0, 0, NULL, NULL, 0);
    CHECK(r >= 0);
    if (r == 0)
        _exit(5);
    int st;
    CHECK_ERRNO(waitpid((pid_t)r, &st, 0), ECHILD);
    CHECK_EQ(waitpid((pid_t)r, &st, __WALL), r);
    CHECK(WIFEXITED(st));
    CHECK_EQ(WEXITSTATUS(st), 5);
}

static volatile int tid_word;

TEST(clone_child_settid_writes_tid_in_child_memory_only)
{
    tid_word = 0;
    long r = syscall(SYS_clone, CLONE_CHILD_SETTID | SIGCHLD, 0, NULL, &tid_word, 0);
    CHECK(r >= 0);
    if (r == 0)
        _exit(tid_word == syscall(SYS_gettid) && tid_word == getpid() ? 0 : 1);
    CHECK_EXITED((pid_t)r, 0);
    CHECK_EQ(tid_word, 0); /* the parent's copy is untouched */
}

TEST(clone_parent_settid_writes_tid_in_parent)
{
    tid_word = 0;
    long r = syscall(SYS_clone, CLONE_PARENT_SETTID | SIGCHLD, 0, &tid_word, NULL, 0);
    CHECK(r >= 0);
    if (r == 0)
        _exit(0);
    CHECK_EQ(tid_word, r);
    CHECK_EXITED((pid_t)r, 0);
}

TEST(clone_child_cleartid_with_fork_semantics_runs)
{
    tid_word = 0;
    long r = syscall(SYS_clone, CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID | SIGCHLD, 0, NULL,
                     &tid_word, 0);
    CHECK(r >= 0);
    if (r == 0)
        _exit(tid_word == getpid() ? 0 : 1);
    CHECK_EXITED((pid_t)r, 0);
    CHECK_EQ(tid_word, 0);
}

/* clone(flags) where the child shares our memory (CLONE_VM|CLONE_VFORK) and immediately calls
 * exit(code) without touching memory or the stack. Returns the child's pid (after it exited,
 * CLONE_VFORK suspends us until then). */
static long clone_vm_then_exit(unsigned long flags, volatile int *ctid, int code)
{
    long ret;
    register long r10 __asm__("r10") = (long)ctid;
    register long r8 __asm__("r8") = 0;
    __asm__ volatile("syscall\n\t"
                     "test %%rax, %%rax\n\t"
                     "jnz 1f\n\t"
                     "mov %%ebx, %%edi\n\t"
                     "mov $60, %%eax\n\t" /* SYS_exit */
                     "syscall\n\t"
                     "ud2\n"
                     "1:\n\t"
                     : "=a"(ret)
                     : "0"((long)SYS_clone), "D"(flags), "S"(0L), "d"(0L), "r"(r10), "r"(r8),
                       "b"(code)
                     : "rcx", "r11", "memory");
    return ret;
}

TEST(clone_vm_vfork_child_settid_seen_by_parent)
{
    tid_word = 0;
    long r = clone_vm_then_exit(CLONE_VM | CLONE_VFORK | CLONE_CHILD_SETTID | SIGCHLD,
                                &tid_word, 3);
    CHECK(r > 0);
    CHECK_EQ(tid_word, r); /* written in the shared memory, never cleared */
    CHECK_EXITED((pid_t)r, 3);
}

TEST(clone_vm_vfork_child_cleartid_cleared_at_exit)
{
    tid_word = 12345;
    long r = clone_vm_then_exit(CLONE_VM | CLONE_VFORK | CLONE_CHILD_CLEARTID | SIGCHLD,
                                &tid_word, 4);
    CHECK(r > 0);
    CHECK_EQ(tid_word, 0);
    CHECK_EXITED((pid_t)r, 4);
}

TEST(clone_vm_vfork_settid_and_cleartid)
{
    tid_word = -1;
    long r = clone_vm_then_exit(
        CLONE_VM | CLONE_VFORK | CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID | SIGCHLD,
        &tid_word, 0);
    CHECK(r > 0);
    CHECK_EQ(tid_word, 0);
    CHECK_EXITED((pid_t)r, 0);
}

/* ---- wait4 ---- */

TEST(wait4_any_child)
{
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0)
        _exit(17);
    int st = 0;
    CHECK_EQ(wait4(-1, &st, 0, NULL), pid);
    CHECK(WIFEXITED(st));
    CHECK_EQ(WEXITSTATUS(st), 17);
    CHECK_ERRNO(wait4(-1, &st, WNOHANG, NULL), ECHILD);
}

TEST(wait4_specific_pid_among_several)
{
    pid_t a = fork();
    CHECK(a >= 0);
    if (a == 0)
        _exit(1);
    pid_t b = fork();
    if (b == 0)
        _exit(2);
    CHECK(b > 0);
    int st;
    CHECK_EQ(wait4(b, &st, 0, NULL), b);
    CHECK_EQ(WEXITSTATUS(st), 2);
    CHECK_EQ(wait4(a, &st, 0, NULL), a);
    CHECK_EQ(WEXITSTATUS(st), 1);
}

TEST(wait4_null_status_pointer)
{
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0)
        _exit(3);
    CHECK_EQ(wait4(pid, NULL, 0, NULL), pid);
}

TEST(wait4_process_group_negative_pgid_and_zero)
{
    /* a: leader of its own group; b: in our group. Both exited (zombies) before we wait. */
    pid_t a = fork();
    CHECK(a >= 0);
    if (a == 0) {
        setpgid(0, 0);
        _exit(10);
    }
    CHECK_OK(setpgid(a, a) == 0 || errno == EACCES ? 0 : -1);
    pid_t b = fork();
    if (b == 0)
        _exit(11);
    CHECK(b > 0);
    siginfo_t si;
    CHECK_EQ(waitid(P_PID, a, &si, WEXITED | WNOWAIT), 0);
    CHECK_EQ(waitid(P_PID, b, &si, WEXITED | WNOWAIT), 0);
    CHECK_EQ(getpgid(a), a);
    int st;
    /* -pgid: only a is in group a. */
    CHECK_EQ(wait4(-a, &st, 0, NULL), a);
    CHECK_EQ(WEXITSTATUS(st), 10);
    CHECK_ERRNO(wait4(-a, &st, WNOHANG, NULL), ECHILD);
    /* 0: our own group. */
    CHECK_EQ(wait4(0, &st, 0, NULL), b);
    CHECK_EQ(WEXITSTATUS(st), 11);
}

TEST(wait4_zero_skips_child_in_other_group)
{
    pid_t a = fork();
    CHECK(a >= 0);
    if (a == 0) {
        setpgid(0, 0);
        _exit(12);
    }
    setpgid(a, a);
    siginfo_t si;
    CHECK_EQ(waitid(P_PID, a, &si, WEXITED | WNOWAIT), 0);
    int st;
    CHECK_ERRNO(wait4(0, &st, WNOHANG, NULL), ECHILD);
    CHECK_EXITED(a, 12);
}

TEST(wait4_wnohang_returns_zero_while_child_runs)
{
    int gate[2];
    CHECK_OK(pipe(gate));
    pid_t pid = spawn_blocked(gate[0], gate[1], -1);
    CHECK(pid >= 0);
    close(gate[0]);
    int st = 0x5a5a;
    CHECK_EQ(wait4(pid, &st, WNOHANG, NULL), 0);
    CHECK_EQ(wait4(-1, &st, WNOHANG, NULL), 0);
    close(gate[1]);
    CHECK_EXITED(pid, 0);
}

TEST(wait4_echild_without_children)
{
    int st;
    CHECK_ERRNO(wait4(-1, &st, 0, NULL), ECHILD);
    CHECK_ERRNO(wait4(-1, &st, WNOHANG, NULL), ECHILD);
    CHECK_ERRNO(wait4(0, &st, 0, NULL), ECHILD);
    CHECK_ERRNO(waitpid(getppid(), &st, 0), ECHILD); /* not our child */
    CHECK_ERRNO(waitpid(getpid(), &st, 0), ECHILD);
    pid_t d = dead_pid();
    CHECK(d > 0);
    CHECK_ERRNO(waitpid(d, &st, 0), ECHILD); /* already reaped */
}

TEST(wait4_invalid_options_einval)
{
    int st;
    CHECK_ERRNO(syscall(SYS_wait4, -1, &st, 0x800, NULL), EINVAL);
    CHECK_ERRNO(syscall(SYS_wait4, -1, &st, WNOWAIT, NULL), EINVAL); /* waitid only */
}

TEST(wait4_bad_status_pointer_efault)
{
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0)
        _exit(0);
    CHECK_ERRNO(syscall(SYS_wait4, pid, bad_ptr(1), 0, NULL), EFAULT);
    /* Linux has reaped the child anyway before failing the copy-out. */
    int st;
    CHECK_ERRNO(waitpid(pid, &st, WNOHANG), ECHILD);
}

TEST(wait_status_exit_codes)
{
    static const int codes[] = {0, 1, 2, 42, 127, 128, 200, 255, 256, 257};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        pid_t pid = fork();
        CHECK(pid >= 0);
        if (pid == 0)
            _exit(codes[i]);
        int st = -1;
        CHECK_EQ(waitpid(pid, &st, 0), pid);
        CHECK(WIFEXITED(st));
        CHECK(!WIFSIGNALED(st));
        CHECK_EQ(WEXITSTATUS(st), codes[i] & 0xff);
        CHECK_EQ(st, (codes[i] & 0xff) << 8); /* the raw encoding */
    }
}

TEST(wait_status_exit_group_raw)
{
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0)
        syscall(SYS_exit_group, 0x1234); /* only the low 8 bits survive */
    CHECK_EXITED(pid, 0x34);
}

TEST(wait_status_exit_raw)
{
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0)
        syscall(SYS_exit, 6);
    CHECK_EXITED(pid, 6);
}

static void killed_child_case(int sig)
{
    int gate[2], ready[2];
    CHECK_OK(pipe(gate));
    CHECK_OK(pipe(ready));
    pid_t pid = spawn_blocked(gate[0], gate[1], ready[1]);
    CHECK(pid >= 0);
    close(ready[1]);
    CHECK_EQ(read_byte(ready[0]), 'r');
    CHECK_EQ(kill(pid, 0), 0);
    CHECK_OK(kill(pid, sig));
    int st = -1;
    CHECK_EQ(waitpid(pid, &st, 0), pid);
    close(gate[0]);
    close(gate[1]);
    close(ready[0]);
    CHECK(WIFSIGNALED(st));
    CHECK(!WIFEXITED(st));
    CHECK_EQ(WTERMSIG(st), sig);
    CHECK_EQ(st & 0x7f, sig);
    CHECK_EQ(st, sig); /* no core dump bit for SIGKILL/SIGTERM */
}

TEST(kill_sigkill_child_blocked_in_pipe_read) { killed_child_case(SIGKILL); }

TEST(kill_sigterm_child_blocked_in_pipe_read) { killed_child_case(SIGTERM); }

TEST(wait_status_sigsegv_on_null_write)
{
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        struct rlimit z = {0, 0};
        setrlimit(RLIMIT_CORE, &z);
        signal(SIGSEGV, SIG_DFL);
        *(volatile int *)bad_ptr(0) = 1;
        _exit(0);
    }
    CHECK_KILLED(pid, SIGSEGV);
}

TEST(wait4_fills_rusage)
{
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        volatile unsigned long x = 0;
        for (unsigned long i = 0; i < 1000000; i++)
            x += i;
        _exit(0);
    }
    struct rusage ru;
    memset(&ru, 0xff, sizeof ru);
    int st;
    CHECK_EQ(wait4(pid, &st, 0, &ru), pid);
    CHECK_EQ(st, 0);
    CHECK(ru.ru_utime.tv_sec >= 0);
    CHECK(ru.ru_utime.tv_usec >= 0 && ru.ru_utime.tv_usec < 1000000);
    CHECK(ru.ru_stime.tv_sec >= 0);
    CHECK(ru.ru_stime.tv_usec >= 0 && ru.ru_stime.tv_usec < 1000000);
    CHECK(ru.ru_maxrss >= 0);
    CHECK(ru.ru_minflt >= 0);
    CHECK(ru.ru_nvcsw >= 0);
}

/* ---- waitid ---- */

static long sys_waitid(int type, int id, siginfo_t *si, int options)
{
    return syscall(SYS_waitid, type, id, si, options, NULL);
}

TEST(waitid_p_all_exited_siginfo)
{
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0)
        _exit(77);
    siginfo_t si;
    memset(&si, 0xff, sizeof si);
    CHECK_EQ(sys_waitid(P_ALL, 0, &si, WEXITED), 0);
    CHECK_EQ(si.si_signo, SIGCHLD);
    CHECK_EQ(si.si_errno, 0);
    CHECK_EQ(si.si_code, CLD_EXITED);
    CHECK_EQ(si.si_pid, pid);
    CHECK_EQ(si.si_uid, getuid());
    CHECK_EQ(si.si_status, 77);
    CHECK_ERRNO(sys_waitid(P_ALL, 0, &si, WEXITED), ECHILD);
}

TEST(waitid_p_pid)
{
    pid_t a = fork();
    CHECK(a >= 0);
    if (a == 0)
        _exit(1);
    pid_t b = fork();
    if (b == 0)
        _exit(2);
    CHECK(b > 0);
    siginfo_t si;
    CHECK_EQ(sys_waitid(P_PID, b, &si, WEXITED), 0);
    CHECK_EQ(si.si_pid, b);
    CHECK_EQ(si.si_status, 2);
    CHECK_EQ(sys_waitid(P_PID, a, &si, WEXITED), 0);
    CHECK_EQ(si.si_pid, a);
    CHECK_EQ(si.si_status, 1);
}

TEST(waitid_p_pgid)
{
    pid_t a = fork();
    CHECK(a >= 0);
    if (a == 0) {
        setpgid(0, 0);
        _exit(21);
    }
    setpgid(a, a);
    pid_t b = fork();
    if (b == 0)
        _exit(22);
    CHECK(b > 0);
    siginfo_t si;
    CHECK_EQ(sys_waitid(P_PID, b, &si, WEXITED | WNOWAIT), 0); /* b is a zombie */
    CHECK_EQ(sys_waitid(P_PGID, a, &si, WEXITED), 0);
    CHECK_EQ(si.si_pid, a);
    CHECK_EQ(si.si_status, 21);
    CHECK_EQ(sys_waitid(P_PGID, getpgrp(), &si, WEXITED), 0);
    CHECK_EQ(si.si_pid, b);
    CHECK_EQ(si.si_status, 22);
}

TEST(waitid_wnohang_no_exited_child_zeroes_siginfo)
{
    int gate[2];
    CHECK_OK(pipe(gate));
    pid_t pid = spawn_blocked(gate[0], gate[1], -1);
    CHECK(pid >= 0);
    close(gate[0]);
    siginfo_t si;
    memset(&si, 0xff, sizeof si);
    CHECK_EQ(sys_waitid(P_PID, pid, &si, WEXITED | WNOHANG), 0);
    CHECK_EQ(si.si_pid, 0);
    CHECK_EQ(si.si_signo, 0);
    close(gate[1]);
    CHECK_EQ(sys_waitid(P_PID, pid, &si, WEXITED), 0);
    CHECK_EQ(si.si_pid, pid);
    CHECK_EQ(si.si_code, CLD_EXITED);
    CHECK_EQ(si.si_status, 0);
}

TEST(waitid_wnowait_leaves_zombie)
{
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0)
        _exit(33);
    siginfo_t si;
    CHECK_EQ(sys_waitid(P_PID, pid, &si, WEXITED | WNOWAIT), 0);
    CHECK_EQ(si.si_pid, pid);
    CHECK_EQ(si.si_status, 33);
    memset(&si, 0, sizeof si);
    CHECK_EQ(sys_waitid(P_ALL, 0, &si, WEXITED | WNOWAIT), 0);
    CHECK_EQ(si.si_pid, pid);
    CHECK_EQ(kill(pid, 0), 0); /* a zombie still exists */
    int st;
    CHECK_EQ(waitpid(pid, &st, 0), pid);
    CHECK_EQ(WEXITSTATUS(st), 33);
    CHECK_ERRNO(sys_waitid(P_PID, pid, &si, WEXITED | WNOHANG), ECHILD);
}

TEST(waitid_cld_killed)
{
    int gate[2];
    CHECK_OK(pipe(gate));
    pid_t pid = spawn_blocked(gate[0], gate[1], -1);
    CHECK(pid >= 0);
    close(gate[0]);
    CHECK_OK(kill(pid, SIGKILL));
    siginfo_t si;
    memset(&si, 0, sizeof si);
    CHECK_EQ(sys_waitid(P_PID, pid, &si, WEXITED), 0);
    close(gate[1]);
    CHECK_EQ(si.si_signo, SIGCHLD);
    CHECK_EQ(si.si_code, CLD_KILLED);
    CHECK_EQ(si.si_pid, pid);
    CHECK_EQ(si.si_status, SIGKILL);
}

TEST(waitid_errors)
{
    siginfo_t si;
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0)
        _exit(0);
    CHECK_ERRNO(sys_waitid(P_PID, pid, &si, 0), EINVAL);      /* no WEXITED etc. */
    CHECK_ERRNO(sys_waitid(P_PID, pid, &si, WNOHANG), EINVAL);
    CHECK_ERRNO(sys_waitid(7, pid, &si, WEXITED), EINVAL);    /* bad idtype */
    CHECK_ERRNO(sys_waitid(P_PID, pid, &si, WEXITED | 0x800), EINVAL);
    CHECK_EQ(sys_waitid(P_PID, pid, &si, WEXITED), 0);
    CHECK_ERRNO(sys_waitid(P_PID, pid, &si, WEXITED), ECHILD);
}

/* ---- orphans ---- */

TEST(orphan_reparented_when_parent_exits)
{
    int go[2], rep[2];
    CHECK_OK(pipe(go));
    CHECK_OK(pipe(rep));
    pid_t mid = fork();
    CHECK(mid >= 0);
    if (mid == 0) {
        int m[2];
        if (pipe(m) < 0)
            _exit(1);
        pid_t g = fork();
        if (g < 0)
            _exit(1);
        if (g == 0) {
            close(go[1]);
            close(rep[0]);
            pid_t before = getppid();
            write_byte(m[1], 'b'); /* mid exits only after this */
            if (read_byte(go[0]) != 'g')
                _exit(1);
            pid_t v[3] = {before, getppid(), getpid()};
            (void)!write(rep[1], v, sizeof v);
            _exit(0);
        }
        close(m[1]);
        _exit(read_byte(m[0]) == 'b' ? 0 : 1); /* orphan g */
    }
    close(go[0]);
    close(rep[1]);
    CHECK_EXITED(mid, 0);
    /* mid is reaped: g must have a new parent by now. */
    CHECK_EQ(write_byte(go[1], 'g'), 0);
    close(go[1]);
    pid_t v[3] = {0, 0, 0};
    int ok = read_full(rep[0], v, sizeof v);
    char c;
    CHECK_EQ(read(rep[0], &c, 1), 0); /* g is gone (its write end closed) */
    close(rep[0]);
    CHECK_EQ(ok, 0);
    CHECK_EQ(v[0], mid);
    CHECK_NE(v[1], mid); /* PID 1 on POSIX-X; 1 or a subreaper on Linux */
    CHECK_NE(v[1], v[2]);
    int st;
    CHECK_ERRNO(waitpid(v[2], &st, WNOHANG), ECHILD); /* a grandchild is not our child */
}

/* ---- process groups and sessions ---- */

TEST(getpgrp_equals_getpgid_zero_and_self)
{
    pid_t g = getpgrp();
    CHECK(g > 0);
    CHECK_EQ(getpgid(0), g);
    CHECK_EQ(getpgid(getpid()), g);
    CHECK_EQ(syscall(SYS_getpgrp), g);
}

TEST(getpgid_of_child_and_errors)
{
    int gate[2];
    CHECK_OK(pipe(gate));
    pid_t pid = spawn_blocked(gate[0], gate[1], -1);
    CHECK(pid >= 0);
    close(gate[0]);
    CHECK_EQ(getpgid(pid), getpgrp());
    CHECK_OK(setpgid(pid, pid));
    CHECK_EQ(getpgid(pid), pid);
    close(gate[1]);
    CHECK_EXITED(pid, 0);
    CHECK_ERRNO(getpgid(pid), ESRCH);
}

TEST(setpgid_child_moves_between_groups)
{
    int gate[2];
    CHECK_OK(pipe(gate));
    pid_t a = spawn_blocked(gate[0], gate[1], -1);
    CHECK(a >= 0);
    pid_t b = spawn_blocked(gate[0], gate[1], -1);
    CHECK(b >= 0);
    close(gate[0]);
    CHECK_EQ(setpgid(a, 0), 0); /* 0 = its own pid */
    CHECK_EQ(getpgid(a), a);
    CHECK_EQ(setpgid(b, a), 0); /* join a's group */
    CHECK_EQ(getpgid(b), a);
    CHECK_EQ(setpgid(b, getpgrp()), 0); /* and back to ours */
    CHECK_EQ(getpgid(b), getpgrp());
    close(gate[1]);
    CHECK_EXITED(a, 0);
    CHECK_EXITED(b, 0);
}

TEST(setpgid_in_child_itself)
{
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        pid_t old = getpgrp();
        CCHECK(old != getpid());
        CCHECK(setpgid(0, 0) == 0);
        CCHECK(getpgrp() == getpid());
        CCHECK(getpgid(0) == getpid());
        CCHECK(setpgid(0, old) == 0); /* a group in the same session */
        CCHECK(getpgrp() == old);
        _exit(0);
    }
    CHECK_EXITED(pid, 0);
}

TEST(setpgid_errors)
{
    CHECK_ERRNO(setpgid(0, -1), EINVAL);
    pid_t d = dead_pid();
    CHECK(d > 0);
    CHECK_ERRNO(setpgid(d, d), ESRCH);                /* no such process */
    if (getppid() > 1)
        CHECK_ERRNO(setpgid(getppid(), getppid()), ESRCH); /* not us nor our child */
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        errno = 0;
        /* a group that does not exist in our session */
        CCHECK(setpgid(0, d) == -1 && errno == EPERM);
        _exit(0);
    }
    CHECK_EXITED(pid, 0);
}

TEST(setpgid_child_in_other_session_eperm)
{
    int ready[2], gate[2];
    CHECK_OK(pipe(ready));
    CHECK_OK(pipe(gate));
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        close(ready[0]);
        close(gate[1]);
        CCHECK(setsid() == getpid());
        /* a session leader cannot change its group */
        CCHECK(setpgid(0, 0) == -1 && errno == EPERM);
        write_byte(ready[1], 'r');
        read_byte(gate[0]);
        _exit(0);
    }
    close(ready[1]);
    close(gate[0]);
    CHECK_EQ(read_byte(ready[0]), 'r');
    CHECK_EQ(getsid(pid), pid);
    CHECK_ERRNO(setpgid(pid, pid), EPERM);
    CHECK_ERRNO(setpgid(pid, getpgrp()), EPERM);
    close(gate[1]);
    close(ready[0]);
    CHECK_EXITED(pid, 0);
}

TEST(setpgid_child_after_exec_eacces)
{
    const char *exe = self_exe();
    CHECK(exe != NULL);
    int gate[2];
    CHECK_OK(pipe2(gate, O_CLOEXEC));
    CHECK_OK(fcntl(gate[0], F_SETFD, 0));
    char fdarg[16];
    snprintf(fdarg, sizeof fdarg, "%d", gate[0]);
    char *argv[] = {(char *)"fork-helper", (char *)"--helper-wait-byte", fdarg, NULL};
    char *envp[] = {NULL};
    pid_t pid = vfork(); /* returns after the exec */
    if (pid == 0) {
        execve(exe, argv, envp);
        _exit(127);
    }
    CHECK(pid > 0);
    close(gate[0]);
    CHECK_ERRNO(setpgid(pid, pid), EACCES);
    CHECK_EQ(write_byte(gate[1], 'x'), 0);
    close(gate[1]);
    CHECK_EXITED(pid, 42);
}

TEST(getsid_self_zero_and_child)
{
    /* Linux reports 0 when our session's leader lives outside our pid namespace
     * (as under a container runtime), so only -1 would be wrong here. */
    pid_t s = getsid(0);
    CHECK(s >= 0);
    CHECK_EQ(getsid(getpid()), s);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        CCHECK(getsid(0) == s);
        _exit(0);
    }
    CHECK_EQ(getsid(pid), s);
    CHECK_EXITED(pid, 0);
    CHECK_ERRNO(getsid(pid), ESRCH);
}

TEST(setsid_creates_new_session_and_group)
{
    pid_t parent_sid = getsid(0);
    int rep[2];
    CHECK_OK(pipe(rep));
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        close(rep[0]);
        pid_t me = getpid();
        CCHECK(getsid(0) == parent_sid);
        CCHECK(setsid() == me);
        CCHECK(getsid(0) == me);
        CCHECK(getpgrp() == me);
        CCHECK(getpgid(0) == me);
        CCHECK(setsid() == -1 && errno == EPERM); /* already a leader */
        write_byte(rep[1], 'd');
        _exit(0);
    }
    close(rep[1]);
    CHECK_EQ(read_byte(rep[0]), 'd');
    close(rep[0]);
    CHECK_EQ(getsid(0), parent_sid); /* ours is unchanged */
    CHECK_EXITED(pid, 0);
}

TEST(setsid_fails_for_group_leader)
{
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        CCHECK(setpgid(0, 0) == 0);
        errno = 0;
        CCHECK(setsid() == -1);
        CCHECK(errno == EPERM);
        _exit(0);
    }
    CHECK_EXITED(pid, 0);
}

TEST(setsid_child_of_session_leader_inherits_session)
{
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        pid_t s = setsid();
        CCHECK(s == getpid());
        pid_t g = fork();
        CCHECK(g >= 0);
        if (g == 0) {
            CCHECK(getsid(0) == s);
            CCHECK(getpgrp() == s);
            _exit(0);
        }
        int st;
        CCHECK(waitpid(g, &st, 0) == g && st == 0);
        _exit(0);
    }
    CHECK_EXITED(pid, 0);
}

/* ---- kill ---- */

TEST(kill_signal_zero_existence)
{
    CHECK_EQ(kill(getpid(), 0), 0);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0)
        _exit(0);
    siginfo_t si;
    CHECK_EQ(waitid(P_PID, pid, &si, WEXITED | WNOWAIT), 0);
    CHECK_EQ(kill(pid, 0), 0); /* zombie */
    CHECK_EXITED(pid, 0);
    CHECK_ERRNO(kill(pid, 0), ESRCH);
    CHECK_ERRNO(kill(-pid, 0), ESRCH);
}

TEST(kill_invalid_signal_einval)
{
    CHECK_ERRNO(kill(getpid(), 65), EINVAL);
    CHECK_ERRNO(kill(getpid(), -1), EINVAL);
}

TEST(kill_process_group)
{
    int gate[2], ready[2];
    CHECK_OK(pipe(gate));
    CHECK_OK(pipe(ready));
    pid_t a = fork();
    CHECK(a >= 0);
    if (a == 0) {
        child_default_signals();
        close(gate[1]);
        setpgid(0, 0);
        write_byte(ready[1], 'a');
        char c;
        _exit(read(gate[0], &c, 1) == 0 ? 0 : 3);
    }
    setpgid(a, a);
    pid_t b = fork();
    if (b == 0) {
        child_default_signals();
        close(gate[1]);
        setpgid(0, a);
        write_byte(ready[1], 'b');
        char c;
        _exit(read(gate[0], &c, 1) == 0 ? 0 : 3);
    }
    CHECK(b > 0);
    setpgid(b, a);
    pid_t c = spawn_blocked(gate[0], gate[1], ready[1]); /* stays in our group */
    CHECK(c >= 0);
    close(gate[0]);
    close(ready[1]);
    for (int i = 0; i < 3; i++)
        CHECK(read_byte(ready[0]) > 0);
    close(ready[0]);
    CHECK_EQ(getpgid(b), a);
    CHECK_EQ(kill(-a, 0), 0);
    CHECK_OK(kill(-a, SIGTERM));
    CHECK_KILLED(a, SIGTERM);
    CHECK_KILLED(b, SIGTERM);
    int st;
    CHECK_EQ(waitpid(c, &st, WNOHANG), 0); /* c is untouched */
    close(gate[1]);
    CHECK_EXITED(c, 0);
    CHECK_ERRNO(kill(-a, 0), ESRCH);
}

TEST(kill_missing_pid_or_group_esrch)
{
    pid_t d = dead_pid();
    CHECK(d > 0);
    CHECK_ERRNO(kill(-d, SIGTERM), ESRCH);
    CHECK_ERRNO(kill(d, SIGTERM), ESRCH);
}

/* ---- umask ---- */

static char scratch_[64];
static void scratch_cleanup(void)
{
    if (scratch_[0])
        rmdir(scratch_);
}

TEST(umask_returns_old_and_masks_creation_mode)
{
    mode_t orig = umask(022);
    CHECK_EQ(umask(077), 022);
    CHECK_EQ(umask(0), 077);
    CHECK_EQ(umask(01777), 0); /* only the permission bits are kept */
    CHECK_EQ(umask(027), 0777);
    strcpy(scratch_, "/tmp/ptest.XXXXXX");
    if (!mkdtemp(scratch_)) {
        scratch_[0] = '\0';
        umask(orig);
        FAIL("mkdtemp: %s", strerror(errno));
    }
    atexit(scratch_cleanup);
    char f[96];
    snprintf(f, sizeof f, "%s/f", scratch_);
    int fd = open(f, O_CREAT | O_WRONLY | O_EXCL, 0666);
    struct stat st;
    int r = fd >= 0 ? fstat(fd, &st) : -1;
    if (fd >= 0)
        close(fd);
    unlink(f);
    pid_t pid = fork();
    if (pid == 0)
        _exit(umask(0) == 027 ? 0 : 1); /* inherited */
    umask(orig);
    CHECK(fd >= 0);
    CHECK_EQ(r, 0);
    CHECK_EQ(st.st_mode & 07777, 0640);
    CHECK(pid > 0);
    CHECK_EXITED(pid, 0);
}

/* ---- stress ---- */

TEST(fork_exit_wait_2000_cycles)
{
    for (int i = 0; i < 2000; i++) {
        pid_t pid = fork();
        if (pid < 0)
            FAIL("fork %d: %s", i, strerror(errno));
        if (pid == 0)
            _exit(i & 0xff);
        int st;
        pid_t r = waitpid(pid, &st, 0);
        if (r != pid)
            FAIL("waitpid %d returned %d: %s", i, (int)r, strerror(errno));
        if (!WIFEXITED(st) || WEXITSTATUS(st) != (i & 0xff))
            FAIL("cycle %d: status %#x", i, st);
    }
    int st;
    CHECK_ERRNO(waitpid(-1, &st, WNOHANG), ECHILD);
}

TEST(many_children_alive_at_once_then_reaped)
{
    enum { N = 64 };
    pid_t pids[N];
    int gate[2];
    CHECK_OK(pipe(gate));
    for (int i = 0; i < N; i++) {
        pids[i] = spawn_blocked(gate[0], gate[1], -1);
        if (pids[i] < 0) {
            close(gate[1]);
            for (int j = 0; j < i; j++)
                child_status(pids[j]);
            FAIL("fork %d failed", i);
        }
    }
    close(gate[0]);
    close(gate[1]);
    int seen = 0;
    for (int i = 0; i < N; i++) {
        int st;
        pid_t r = wait(&st);
        if (r < 0)
            FAIL("wait %d: %s", i, strerror(errno));
        for (int j = 0; j < N; j++)
            if (pids[j] == r) {
                pids[j] = 0;
                seen++;
            }
        CHECK_EQ(st, 0);
    }
    CHECK_EQ(seen, N);
}

int main(int argc, char **argv, char **envp)
{
    if (argc == 3 && strcmp(argv[1], "--helper-wait-byte") == 0) {
        int fd = atoi(argv[2]);
        char c;
        _exit(read(fd, &c, 1) == 1 && c == 'x' ? 42 : 1);
    }
    test_argc = argc;
    test_argv = argv;
    test_envp = envp;
    return test_run_all() == 0 ? 0 : 1;
}
