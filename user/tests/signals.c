/* signals.c - POSIX signals with Linux's semantics: rt_sigaction flags (SA_SIGINFO siginfo for
 * kill, sigqueue, tgkill and rt_sigqueueinfo; SA_RESETHAND, SA_NODEFER, sa_mask during the
 * handler, SA_RESTART against read/wait4 and the never-restarted nanosleep/pause/sigsuspend),
 * rt_sigprocmask, rt_sigpending, rt_sigsuspend, rt_sigtimedwait (pending, timeout, EINTR),
 * rt_sigqueueinfo (and its EPERM rule), real-time signals queueing in order while standard ones
 * coalesce, lowest-number-first delivery, SIGKILL/SIGSTOP being uncatchable and unblockable,
 * kill with pid > 0, 0, -1 (only inside children running under a uid nobody else has) and
 * -pgid, tgkill/tkill, alarm and setitimer/getitimer(ITIMER_REAL), default actions (terminate,
 * core without a dump under RLIMIT_CORE 0, ignore), SIGCHLD (SIG_IGN and SA_NOCLDWAIT reap
 * automatically; siginfo CLD_EXITED/CLD_KILLED), SIGPIPE, hardware faults (SIGSEGV with si_addr,
 * SIGFPE, SIGILL, SIGBUS) recovered with siglongjmp, faults while the signal is blocked or
 * ignored, and /proc/self/status SigPnd/ShdPnd/SigBlk/SigIgn/SigCgt.
 * Ordering never depends on timing: where a signal must hit a blocked system call, the sender
 * first waits until /proc/<pid>/stat shows the target sleeping ('S').
 * Files live in a mkdtemp("/tmp/ptest.XXXXXX") directory removed at exit.
 * Syscalls: rt_sigaction, rt_sigprocmask, rt_sigpending, rt_sigsuspend, rt_sigtimedwait,
 * rt_sigqueueinfo, kill, tgkill, tkill, pause, nanosleep, clock_nanosleep, alarm, setitimer,
 * getitimer, wait4, waitid, fork, pipe2, read, write, close, openat, mmap, munmap, mprotect,
 * ftruncate, setpgid, setuid, getuid, prlimit64, prctl, clock_gettime.
 */
#define _GNU_SOURCE
#define TEST_MAIN
#include "test.h"

#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>

#include "children.h"
#include "sigs.h"
#include "scratch.h"

#define PAGE 4096UL

/* Waits (up to ~20 s) until /proc/<pid>/stat shows state 'S': the process sleeps in a system
 * call. Returns 0, or -1 on timeout or error. Polling only costs time, never correctness. */
/* ---- signal state ---- */

/* Every catchable signal back to SIG_DFL, nothing pending, nothing blocked, no timers. Each
 * case starts with this, so a failed case leaves nothing behind for the next one. */
/* Default signal state, and no interval timer left running. */
static void sig_reset(void)
{
    struct itimerval zero_it = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &zero_it, NULL);
    sig_defaults();
}

static volatile int hits[65];
static volatile int order[64];
static volatile int norder;
static volatile int values[16];
static volatile int nvalues;
static siginfo_t last_info;
static volatile int hfd = -1; /* the notify handler writes 'h' here */

static void clear_records(void)
{
    for (int i = 0; i < 65; i++)
        hits[i] = 0;
    norder = 0;
    nvalues = 0;
    memset(&last_info, 0, sizeof last_info);
}

static void record(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    if (sig > 0 && sig <= 64)
        hits[sig]++;
    if (norder < 64)
        order[norder++] = sig;
    if (nvalues < 16)
        values[nvalues++] = si->si_value.sival_int;
    last_info = *si;
}

static void notify(int sig, siginfo_t *si, void *uc)
{
    record(sig, si, uc);
    if (hfd >= 0) {
        int e = errno;
        (void)!write(hfd, "h", 1);
        errno = e;
    }
}

static int on(int sig, void (*fn)(int, siginfo_t *, void *), int flags)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = fn;
    sa.sa_flags = flags | SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    return sigaction(sig, &sa, NULL);
}

/* ---- faulting instructions at known addresses ---- */

extern char ud2_insn[], div_zero_insn[], div_overflow_insn[];
void ud2_func(void);
int div_zero_func(void);
int div_overflow_func(void);
__asm__(".text\n"
        ".globl ud2_func\n.type ud2_func,@function\n"
        "ud2_func:\n"
        ".globl ud2_insn\nud2_insn:\n"
        "    ud2\n"
        "    ret\n"
        ".globl div_zero_func\n.type div_zero_func,@function\n"
        "div_zero_func:\n"
        "    xorl %ecx, %ecx\n"
        "    movl $1, %eax\n"
        "    cltd\n"
        ".globl div_zero_insn\ndiv_zero_insn:\n"
        "    idivl %ecx\n"
        "    ret\n"
        ".globl div_overflow_func\n.type div_overflow_func,@function\n"
        "div_overflow_func:\n"
        "    movl $-1, %ecx\n"
        "    movl $0x80000000, %eax\n"
        "    cltd\n"
        ".globl div_overflow_insn\ndiv_overflow_insn:\n"
        "    idivl %ecx\n"
        "    ret\n");

static sigjmp_buf jb;
static siginfo_t fault_info;
static volatile int fault_hits;

static void fault_handler(int sig, siginfo_t *si, void *uc)
{
    (void)sig, (void)uc;
    fault_info = *si;
    fault_hits++;
    siglongjmp(jb, 1);
}

/* ================= siginfo ================= */

TEST(siginfo_kill_self_has_signo_code_pid_uid)
{
    sig_reset();
    clear_records();
    CHECK_OK(on(SIGUSR1, record, 0));
    CHECK_OK(kill(getpid(), SIGUSR1));
    CHECK_EQ(hits[SIGUSR1], 1); /* delivered before kill() returns */
    CHECK_EQ(last_info.si_signo, SIGUSR1);
    CHECK_EQ(last_info.si_code, SI_USER);
    CHECK_EQ(last_info.si_pid, getpid());
    CHECK_EQ(last_info.si_uid, getuid());
}

TEST(siginfo_sigqueue_has_si_queue_and_value)
{
    sig_reset();
    clear_records();
    CHECK_OK(on(SIGUSR2, record, 0));
    union sigval v = {.sival_int = 123456};
    CHECK_OK(sigqueue(getpid(), SIGUSR2, v));
    CHECK_EQ(hits[SIGUSR2], 1);
    CHECK_EQ(last_info.si_signo, SIGUSR2);
    CHECK_EQ(last_info.si_code, SI_QUEUE);
    CHECK_EQ(last_info.si_value.sival_int, 123456);
    CHECK_EQ(last_info.si_pid, getpid());
    CHECK_EQ(last_info.si_uid, getuid());
}

TEST(siginfo_kill_from_child_has_child_pid)
{
    sig_reset();
    CHECK_OK(block(SIGUSR1));
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        CCHECK(kill(getppid(), SIGUSR1) == 0);
        _exit(0);
    }
    int st = child_status(pid);
    siginfo_t si;
    memset(&si, 0, sizeof si);
    int r = wait_sig(SIGUSR1, &si, 10000);
    CHECK_EQ(st, 0);
    CHECK_EQ(r, SIGUSR1);
    CHECK_EQ(si.si_code, SI_USER);
    CHECK_EQ(si.si_pid, pid);
    CHECK_EQ(si.si_uid, getuid());
}

TEST(tgkill_and_tkill_to_self_have_si_tkill)
{
    sig_reset();
    clear_records();
    CHECK_OK(on(SIGUSR1, record, 0));
    CHECK_OK(on(SIGUSR2, record, 0));
    pid_t tid = (pid_t)syscall(SYS_gettid);
    CHECK_OK(syscall(SYS_tgkill, getpid(), tid, SIGUSR1));
    CHECK_EQ(hits[SIGUSR1], 1);
    CHECK_EQ(last_info.si_code, SI_TKILL);
    CHECK_EQ(last_info.si_pid, getpid());
    CHECK_OK(syscall(SYS_tkill, tid, SIGUSR2));
    CHECK_EQ(hits[SIGUSR2], 1);
    CHECK_EQ(last_info.si_code, SI_TKILL);
    CHECK_EQ(syscall(SYS_tgkill, getpid(), tid, 0), 0);
}

TEST(tgkill_errors)
{
    sig_reset();
    pid_t tid = (pid_t)syscall(SYS_gettid);
    pid_t dead = fork();
    CHECK(dead >= 0);
    if (dead == 0)
        _exit(0);
    CHECK_EQ(child_status(dead), 0);
    CHECK_ERRNO(syscall(SYS_tgkill, getpid(), dead, SIGUSR1), ESRCH);
    CHECK_ERRNO(syscall(SYS_tgkill, dead, tid, SIGUSR1), ESRCH); /* tid not in that group */
    CHECK_ERRNO(syscall(SYS_tgkill, getpid(), tid, 65), EINVAL);
    CHECK_ERRNO(syscall(SYS_tgkill, 0, tid, SIGUSR1), EINVAL);
    CHECK_ERRNO(syscall(SYS_tgkill, getpid(), 0, SIGUSR1), EINVAL);
    CHECK_ERRNO(syscall(SYS_tkill, 0, SIGUSR1), EINVAL);
    CHECK_ERRNO(syscall(SYS_tkill, dead, 0), ESRCH);
}

/* ================= sigaction flags ================= */

static volatile int usr1_calls;
static void count_usr1(int sig) { (void)sig; usr1_calls++; }

TEST(sa_resethand_resets_to_default_after_one_delivery)
{
    sig_reset();
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        struct sigaction sa, old;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = count_usr1;
        sa.sa_flags = SA_RESETHAND;
        CCHECK(sigaction(SIGUSR1, &sa, NULL) == 0);
        raise(SIGUSR1);
        CCHECK(usr1_calls == 1);
        CCHECK(sigaction(SIGUSR1, NULL, &old) == 0);
        CCHECK(old.sa_handler == SIG_DFL);
        raise(SIGUSR1); /* default action now: terminate */
        _exit(3);
    }
    CHECK_KILLED(pid, SIGUSR1);
}

static volatile int depth, maxdepth, nest_count;
static void nest_handler(int sig)
{
    depth++;
    if (depth > maxdepth)
        maxdepth = depth;
    if (++nest_count == 1)
        raise(sig);
    depth--;
}

TEST(sa_nodefer_lets_the_handler_nest)
{
    sig_reset();
    depth = maxdepth = nest_count = 0;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = nest_handler;
    sa.sa_flags = SA_NODEFER;
    CHECK_OK(sigaction(SIGUSR1, &sa, NULL));
    raise(SIGUSR1);
    CHECK_EQ(nest_count, 2);
    CHECK_EQ(maxdepth, 2);
}

TEST(without_sa_nodefer_the_signal_waits_for_the_handler_to_return)
{
    sig_reset();
    depth = maxdepth = nest_count = 0;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = nest_handler;
    CHECK_OK(sigaction(SIGUSR1, &sa, NULL));
    raise(SIGUSR1);
    CHECK_EQ(nest_count, 2);
    CHECK_EQ(maxdepth, 1);
    CHECK_EQ(is_blocked(SIGUSR1), 0);
}

static volatile int in_usr1_blocked_self, in_usr1_blocked_usr2, usr2_seen_inside, usr2_ran;
static void mask_usr1(int sig)
{
    (void)sig;
    in_usr1_blocked_self = is_blocked(SIGUSR1);
    in_usr1_blocked_usr2 = is_blocked(SIGUSR2);
    raise(SIGUSR2);
    usr2_seen_inside = usr2_ran;
}
static void mask_usr2(int sig) { (void)sig; usr2_ran++; }

TEST(handler_runs_with_its_signal_and_sa_mask_blocked)
{
    sig_reset();
    in_usr1_blocked_self = in_usr1_blocked_usr2 = usr2_seen_inside = usr2_ran = 0;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = mask_usr2;
    CHECK_OK(sigaction(SIGUSR2, &sa, NULL));
    sa.sa_handler = mask_usr1;
    sigemptyset(&sa.sa_mask);
    sigaddset(&sa.sa_mask, SIGUSR2);
    CHECK_OK(sigaction(SIGUSR1, &sa, NULL));
    CHECK_OK(block(SIGHUP)); /* an unrelated blocked signal stays blocked */
    raise(SIGUSR1);
    CHECK_EQ(in_usr1_blocked_self, 1);
    CHECK_EQ(in_usr1_blocked_usr2, 1);
    CHECK_EQ(usr2_seen_inside, 0); /* held back by sa_mask */
    CHECK_EQ(usr2_ran, 1);         /* delivered once the handler returned */
    CHECK_EQ(is_blocked(SIGUSR1), 0);
    CHECK_EQ(is_blocked(SIGUSR2), 0);
    CHECK_EQ(is_blocked(SIGHUP), 1);
}

TEST(sigaction_returns_the_old_action)
{
    sig_reset();
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = count_usr1;
    sa.sa_flags = SA_RESTART | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    sigaddset(&sa.sa_mask, SIGTERM);
    CHECK_OK(sigaction(SIGUSR1, &sa, NULL));
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_IGN;
    CHECK_OK(sigaction(SIGUSR1, &sa, &old));
    CHECK(old.sa_handler == count_usr1);
    CHECK((old.sa_flags & (SA_RESTART | SA_NODEFER)) == (SA_RESTART | SA_NODEFER));
    CHECK(sigismember(&old.sa_mask, SIGTERM));
    CHECK(!sigismember(&old.sa_mask, SIGINT));
    CHECK_OK(sigaction(SIGUSR1, NULL, &old));
    CHECK(old.sa_handler == SIG_IGN);
}

TEST(rt_sigaction_and_rt_sigprocmask_argument_errors)
{
    sig_reset();
    struct ksigaction ka = {0};
    CHECK_ERRNO(syscall(SYS_rt_sigaction, 0, &ka, NULL, KSIGSET_SIZE), EINVAL);
    CHECK_ERRNO(syscall(SYS_rt_sigaction, 65, &ka, NULL, KSIGSET_SIZE), EINVAL);
    CHECK_ERRNO(syscall(SYS_rt_sigaction, SIGUSR1, &ka, NULL, 4), EINVAL);
    CHECK_ERRNO(syscall(SYS_rt_sigaction, SIGUSR1, bad_ptr(8), NULL, KSIGSET_SIZE), EFAULT);
    unsigned long m = 0;
    CHECK_ERRNO(syscall(SYS_rt_sigprocmask, 7, &m, NULL, KSIGSET_SIZE), EINVAL);
    CHECK_ERRNO(syscall(SYS_rt_sigprocmask, SIG_BLOCK, &m, NULL, 4), EINVAL);
    CHECK_ERRNO(syscall(SYS_rt_sigprocmask, SIG_BLOCK, bad_ptr(8), NULL, KSIGSET_SIZE), EFAULT);
}

TEST(rt_sigprocmask_block_unblock_setmask)
{
    sig_reset();
    unsigned long b = (1UL << (SIGUSR1 - 1)) | (1UL << (SIGHUP - 1)), old = 99, cur = 0;
    CHECK_OK(syscall(SYS_rt_sigprocmask, SIG_BLOCK, &b, &old, KSIGSET_SIZE));
    CHECK_EQ(old, 0);
    unsigned long u = 1UL << (SIGHUP - 1);
    CHECK_OK(syscall(SYS_rt_sigprocmask, SIG_UNBLOCK, &u, &old, KSIGSET_SIZE));
    CHECK_EQ(old, b);
    CHECK_OK(syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, &cur, KSIGSET_SIZE));
    CHECK_EQ(cur, 1UL << (SIGUSR1 - 1));
    unsigned long s = 1UL << (SIGTERM - 1);
    CHECK_OK(syscall(SYS_rt_sigprocmask, SIG_SETMASK, &s, NULL, KSIGSET_SIZE));
    CHECK_OK(syscall(SYS_rt_sigprocmask, SIG_SETMASK, NULL, &cur, KSIGSET_SIZE));
    CHECK_EQ(cur, s);
}

TEST(unblocking_delivers_pending_signal_before_sigprocmask_returns)
{
    sig_reset();
    clear_records();
    CHECK_OK(on(SIGUSR1, record, 0));
    CHECK_OK(block(SIGUSR1));
    raise(SIGUSR1);
    CHECK_EQ(hits[SIGUSR1], 0);
    CHECK_EQ(is_pending(SIGUSR1), 1);
    CHECK_OK(unblock(SIGUSR1));
    CHECK_EQ(hits[SIGUSR1], 1);
    CHECK_EQ(is_pending(SIGUSR1), 0);
}

/* ================= restart rules ================= */

/* Child: wait until the parent sleeps, send it `sig`, wait for its handler's 'h' on hr,
 * then optionally write a byte to wfd, and exit `code`. */
static pid_t signal_parent_when_asleep(int sig, int hr, int wfd, int code, int close1, int close2)
{
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        if (close1 >= 0)
            close(close1);
        if (close2 >= 0)
            close(close2);
        CCHECK(wait_sleeping(parent));
        CCHECK(kill(parent, sig) == 0);
        if (hr >= 0)
            CCHECK(read_byte(hr) == 'h');
        if (wfd >= 0)
            CCHECK(write_byte(wfd, 'x') == 0);
        _exit(code);
    }
    return pid;
}

TEST(sa_restart_restarts_a_blocked_pipe_read)
{
    sig_reset();
    clear_records();
    int d[2], h[2];
    CHECK_OK(pipe(d));
    CHECK_OK(pipe(h));
    hfd = h[1];
    CHECK_OK(on(SIGUSR1, notify, SA_RESTART));
    pid_t pid = signal_parent_when_asleep(SIGUSR1, h[0], d[1], 0, d[0], h[1]);
    CHECK(pid >= 0);
    close(d[1]);
    char c = 0;
    ssize_t r = read(d[0], &c, 1);
    int e = errno;
    int st = child_status(pid);
    hfd = -1;
    close(d[0]);
    close(h[0]);
    close(h[1]);
    CHECK_EQ(st, 0);
    if (r < 0)
        FAIL("read failed: %s", test_errno_name(e));
    CHECK_EQ(r, 1);
    CHECK_EQ(c, 'x');
    CHECK_EQ(hits[SIGUSR1], 1);
}

TEST(without_sa_restart_a_blocked_pipe_read_fails_eintr)
{
    sig_reset();
    clear_records();
    int d[2];
    CHECK_OK(pipe(d));
    CHECK_OK(on(SIGUSR1, record, 0));
    pid_t pid = signal_parent_when_asleep(SIGUSR1, -1, -1, 0, d[0], -1);
    CHECK(pid >= 0);
    char c;
    errno = 0;
    ssize_t r = read(d[0], &c, 1);
    int e = errno;
    int st = child_status(pid);
    close(d[0]);
    close(d[1]);
    CHECK_EQ(st, 0);
    CHECK_EQ(r, -1);
    CHECK_EQ(e, EINTR);
    CHECK_EQ(hits[SIGUSR1], 1);
}

TEST(nanosleep_interrupted_returns_eintr_and_remaining_time_even_with_sa_restart)
{
    sig_reset();
    clear_records();
    CHECK_OK(on(SIGUSR1, record, SA_RESTART));
    pid_t pid = signal_parent_when_asleep(SIGUSR1, -1, -1, 0, -1, -1);
    CHECK(pid >= 0);
    struct timespec req = {30, 0}, rem = {-1, -1};
    errno = 0;
    long r = syscall(SYS_nanosleep, &req, &rem);
    int e = errno;
    int st = child_status(pid);
    CHECK_EQ(st, 0);
    CHECK_EQ(r, -1);
    CHECK_EQ(e, EINTR);
    CHECK_EQ(hits[SIGUSR1], 1);
    /* Linux reports expiry - now, the expiry including the timer slack: a signal right
     * after the call can leave slightly more than was asked for. */
    if (!(rem.tv_sec >= 1 && (rem.tv_sec < 30 || (rem.tv_sec == 30 && rem.tv_nsec < 100000000L))))
        FAIL("rem = %lld.%09ld", (long long)rem.tv_sec, (long)rem.tv_nsec);
    CHECK(rem.tv_nsec >= 0 && rem.tv_nsec < 1000000000L);
}

TEST(clock_nanosleep_relative_interrupted_fills_remaining_time)
{
    sig_reset();
    clear_records();
    CHECK_OK(on(SIGUSR1, record, 0));
    pid_t pid = signal_parent_when_asleep(SIGUSR1, -1, -1, 0, -1, -1);
    CHECK(pid >= 0);
    struct timespec req = {30, 0}, rem = {-1, -1};
    errno = 0;
    long r = syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, &req, &rem);
    int e = errno;
    int st = child_status(pid);
    CHECK_EQ(st, 0);
    CHECK_EQ(r, -1);
    CHECK_EQ(e, EINTR);
    /* Linux reports expiry - now, the expiry including the timer slack: a signal right
     * after the call can leave slightly more than was asked for. */
    if (!(rem.tv_sec >= 1 && (rem.tv_sec < 30 || (rem.tv_sec == 30 && rem.tv_nsec < 100000000L))))
        FAIL("rem = %lld.%09ld", (long long)rem.tv_sec, (long)rem.tv_nsec);
}

TEST(wait4_interrupted_without_sa_restart_fails_eintr)
{
    sig_reset();
    clear_records();
    CHECK_OK(on(SIGUSR1, record, 0));
    int gate[2];
    CHECK_OK(pipe(gate));
    pid_t parent = getpid();
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        close(gate[1]);
        CCHECK(wait_sleeping(parent));
        CCHECK(kill(parent, SIGUSR1) == 0);
        char c;
        _exit(read(gate[0], &c, 1) == 0 ? 0 : 2); /* until the parent closes the gate */
    }
    close(gate[0]);
    int st;
    errno = 0;
    pid_t r = wait4(pid, &st, 0, NULL);
    int e = errno;
    close(gate[1]);
    CHECK_EXITED(pid, 0);
    CHECK_EQ(r, -1);
    CHECK_EQ(e, EINTR);
    CHECK_EQ(hits[SIGUSR1], 1);
}

TEST(wait4_is_restarted_with_sa_restart)
{
    sig_reset();
    clear_records();
    int h[2];
    CHECK_OK(pipe(h));
    hfd = h[1];
    CHECK_OK(on(SIGUSR1, notify, SA_RESTART));
    pid_t pid = signal_parent_when_asleep(SIGUSR1, h[0], -1, 5, -1, -1);
    CHECK(pid >= 0);
    int st = 0;
    errno = 0;
    pid_t r = wait4(pid, &st, 0, NULL);
    int e = errno;
    if (r != pid)
        child_status(pid);
    hfd = -1;
    close(h[0]);
    close(h[1]);
    if (r < 0)
        FAIL("wait4: %s", test_errno_name(e));
    CHECK_EQ(r, pid);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 5);
    CHECK_EQ(hits[SIGUSR1], 1);
}

TEST(pause_returns_eintr_after_the_handler)
{
    sig_reset();
    clear_records();
    CHECK_OK(on(SIGUSR1, record, SA_RESTART));
    pid_t pid = signal_parent_when_asleep(SIGUSR1, -1, -1, 0, -1, -1);
    CHECK(pid >= 0);
    errno = 0;
    int r = pause();
    int e = errno;
    int st = child_status(pid);
    CHECK_EQ(st, 0);
    CHECK_EQ(r, -1);
    CHECK_EQ(e, EINTR);
    CHECK_EQ(hits[SIGUSR1], 1);
}

TEST(sigsuspend_unblocks_atomically_and_restores_the_mask)
{
    sig_reset();
    clear_records();
    CHECK_OK(on(SIGUSR1, record, SA_RESTART));
    CHECK_OK(block(SIGUSR1));
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        CCHECK(kill(getppid(), SIGUSR1) == 0);
        _exit(0);
    }
    CHECK_EXITED(pid, 0);
    CHECK_EQ(hits[SIGUSR1], 0); /* pending, blocked */
    sigset_t none;
    sigemptyset(&none);
    CHECK_ERRNO(sigsuspend(&none), EINTR);
    CHECK_EQ(hits[SIGUSR1], 1);
    CHECK_EQ(last_info.si_pid, pid);
    CHECK_EQ(is_blocked(SIGUSR1), 1);
}

TEST(sigsuspend_waits_for_a_signal_sent_later)
{
    sig_reset();
    clear_records();
    CHECK_OK(on(SIGUSR2, record, 0));
    CHECK_OK(block(SIGUSR2));
    pid_t pid = signal_parent_when_asleep(SIGUSR2, -1, -1, 0, -1, -1);
    CHECK(pid >= 0);
    sigset_t none;
    sigemptyset(&none);
    errno = 0;
    int r = sigsuspend(&none);
    int e = errno;
    int st = child_status(pid);
    CHECK_EQ(st, 0);
    CHECK_EQ(r, -1);
    CHECK_EQ(e, EINTR);
    CHECK_EQ(hits[SIGUSR2], 1);
    CHECK_EQ(is_blocked(SIGUSR2), 1);
}

/* ================= pending and waiting ================= */

TEST(rt_sigpending_shows_blocked_pending_signals)
{
    sig_reset();
    CHECK_OK(block(SIGUSR1));
    CHECK_OK(block(SIGUSR2));
    CHECK_OK(block(SIGHUP));
    raise(SIGUSR1);                    /* thread-directed */
    CHECK_OK(kill(getpid(), SIGHUP));  /* process-directed */
    unsigned long set = 0;
    CHECK_OK(syscall(SYS_rt_sigpending, &set, KSIGSET_SIZE));
    CHECK_EQ(set, (1UL << (SIGUSR1 - 1)) | (1UL << (SIGHUP - 1)));
    CHECK_ERRNO(syscall(SYS_rt_sigpending, &set, 16), EINVAL); /* smaller is fine */
}

TEST(setting_sig_ign_discards_a_pending_signal)
{
    sig_reset();
    CHECK_OK(block(SIGUSR1));
    raise(SIGUSR1);
    CHECK_EQ(is_pending(SIGUSR1), 1);
    CHECK(signal(SIGUSR1, SIG_IGN) != SIG_ERR);
    CHECK_EQ(is_pending(SIGUSR1), 0);
}

TEST(blocked_ignored_signal_stays_pending_until_unblocked)
{
    sig_reset();
    clear_records();
    CHECK(signal(SIGUSR2, SIG_IGN) != SIG_ERR);
    CHECK_OK(block(SIGUSR2));
    raise(SIGUSR2);
    /* Linux never drops a blocked signal at send time: the disposition may change before it
     * is unblocked. */
    CHECK_EQ(is_pending(SIGUSR2), 1);
    CHECK_OK(unblock(SIGUSR2)); /* delivered to SIG_IGN: nothing happens */
    CHECK_EQ(is_pending(SIGUSR2), 0);
    CHECK_OK(block(SIGUSR2));
    raise(SIGUSR2);
    CHECK_OK(on(SIGUSR2, record, 0)); /* a handler set before unblocking gets it */
    CHECK_OK(unblock(SIGUSR2));
    CHECK_EQ(hits[SIGUSR2], 1);
}

TEST(sigtimedwait_takes_a_blocked_pending_signal)
{
    sig_reset();
    clear_records();
    CHECK_OK(on(SIGUSR2, record, 0));
    CHECK_OK(block(SIGUSR2));
    CHECK_OK(kill(getpid(), SIGUSR2));
    siginfo_t si;
    memset(&si, 0, sizeof si);
    CHECK_EQ(wait_sig(SIGUSR2, &si, 1000), SIGUSR2);
    CHECK_EQ(si.si_signo, SIGUSR2);
    CHECK_EQ(si.si_code, SI_USER);
    CHECK_EQ(si.si_pid, getpid());
    CHECK_EQ(hits[SIGUSR2], 0); /* taken, not handled */
    CHECK_EQ(is_pending(SIGUSR2), 0);
}

TEST(sigtimedwait_times_out_with_eagain)
{
    sig_reset();
    CHECK_OK(block(SIGUSR1));
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR1);
    struct timespec zero = {0, 0}, ts = {0, 100000000L};
    CHECK_ERRNO(sigtimedwait(&s, NULL, &zero), EAGAIN);
    long long t0 = now_ns();
    CHECK_ERRNO(sigtimedwait(&s, NULL, &ts), EAGAIN);
    CHECK(now_ns() - t0 >= 100000000LL);
    struct timespec bad = {0, 1000000000L};
    CHECK_ERRNO(sigtimedwait(&s, NULL, &bad), EINVAL);
}

TEST(sigtimedwait_interrupted_by_another_handled_signal_eintr)
{
    sig_reset();
    clear_records();
    CHECK_OK(block(SIGUSR1));
    CHECK_OK(on(SIGUSR2, record, SA_RESTART));
    pid_t pid = signal_parent_when_asleep(SIGUSR2, -1, -1, 0, -1, -1);
    CHECK(pid >= 0);
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR1);
    struct timespec ts = {30, 0};
    errno = 0;
    /* raw: musl's sigtimedwait retries EINTR */
    long r = syscall(SYS_rt_sigtimedwait, &s, NULL, &ts, KSIGSET_SIZE);
    int e = errno;
    int st = child_status(pid);
    CHECK_EQ(st, 0);
    CHECK_EQ(r, -1);
    CHECK_EQ(e, EINTR);
    CHECK_EQ(hits[SIGUSR2], 1);
}

TEST(rt_sigqueueinfo_to_self_delivers_the_given_siginfo)
{
    sig_reset();
    CHECK_OK(block(SIGUSR1));
    siginfo_t si;
    memset(&si, 0, sizeof si);
    si.si_signo = SIGUSR1;
    si.si_code = SI_QUEUE;
    si.si_pid = getpid();
    si.si_uid = getuid();
    si.si_value.sival_int = 4242;
    CHECK_OK(syscall(SYS_rt_sigqueueinfo, getpid(), SIGUSR1, &si));
    siginfo_t got;
    memset(&got, 0, sizeof got);
    CHECK_EQ(wait_sig(SIGUSR1, &got, 1000), SIGUSR1);
    CHECK_EQ(got.si_code, SI_QUEUE);
    CHECK_EQ(got.si_value.sival_int, 4242);
    CHECK_EQ(got.si_pid, getpid());
}

TEST(rt_sigqueueinfo_to_another_process_with_kernel_si_code_eperm)
{
    sig_reset();
    int gate[2];
    CHECK_OK(pipe(gate));
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        close(gate[1]);
        char c;
        _exit(read(gate[0], &c, 1) == 0 ? 0 : 2);
    }
    close(gate[0]);
    siginfo_t si;
    memset(&si, 0, sizeof si);
    si.si_signo = SIGUSR1;
    si.si_code = SI_USER; /* >= 0: only the kernel may claim it for another process */
    errno = 0;
    long r1 = syscall(SYS_rt_sigqueueinfo, pid, SIGUSR1, &si);
    int e1 = errno;
    si.si_code = SI_TKILL;
    errno = 0;
    long r2 = syscall(SYS_rt_sigqueueinfo, pid, SIGUSR1, &si);
    int e2 = errno;
    close(gate[1]);
    CHECK_EXITED(pid, 0);
    CHECK_EQ(r1, -1);
    CHECK_EQ(e1, EPERM);
    CHECK_EQ(r2, -1);
    CHECK_EQ(e2, EPERM);
}

/* ================= queueing and order ================= */

TEST(realtime_signals_queue_with_their_values_in_order)
{
    sig_reset();
    clear_records();
    int rt = SIGRTMIN;
    CHECK_OK(on(rt, record, 0));
    CHECK_OK(block(rt));
    for (int i = 1; i <= 3; i++) {
        union sigval v = {.sival_int = i * 10};
        CHECK_OK(sigqueue(getpid(), rt, v));
    }
    CHECK_EQ(hits[rt], 0);
    CHECK_OK(unblock(rt));
    CHECK_EQ(hits[rt], 3);
    CHECK_EQ(nvalues, 3);
    CHECK_EQ(values[0], 10);
    CHECK_EQ(values[1], 20);
    CHECK_EQ(values[2], 30);
}

TEST(realtime_signals_queue_for_sigtimedwait_too)
{
    sig_reset();
    int rt = SIGRTMIN + 1;
    CHECK_OK(block(rt));
    for (int i = 0; i < 5; i++) {
        union sigval v = {.sival_int = 100 + i};
        CHECK_OK(sigqueue(getpid(), rt, v));
    }
    for (int i = 0; i < 5; i++) {
        siginfo_t si;
        memset(&si, 0, sizeof si);
        CHECK_EQ(wait_sig(rt, &si, 1000), rt);
        CHECK_EQ(si.si_value.sival_int, 100 + i);
    }
    CHECK_EQ(is_pending(rt), 0);
}

TEST(standard_signals_do_not_queue)
{
    sig_reset();
    clear_records();
    CHECK_OK(on(SIGUSR1, record, 0));
    CHECK_OK(block(SIGUSR1));
    for (int i = 0; i < 3; i++)
        CHECK_OK(kill(getpid(), SIGUSR1));
    CHECK_OK(unblock(SIGUSR1));
    CHECK_EQ(hits[SIGUSR1], 1);
}

TEST(pending_signals_are_taken_lowest_number_first)
{
    sig_reset();
    int rt = SIGRTMIN;
    int sent[] = {rt + 1, rt, SIGTERM, SIGUSR2, SIGUSR1, SIGHUP};
    int want[] = {SIGHUP, SIGUSR1, SIGUSR2, SIGTERM, rt, rt + 1};
    sigset_t s;
    sigemptyset(&s);
    for (int i = 0; i < 6; i++)
        sigaddset(&s, sent[i]);
    CHECK_OK(sigprocmask(SIG_BLOCK, &s, NULL));
    for (int i = 0; i < 6; i++)
        CHECK_OK(kill(getpid(), sent[i]));
    struct timespec ts = {1, 0};
    for (int i = 0; i < 6; i++)
        CHECK_EQ(sigtimedwait(&s, NULL, &ts), want[i]);
}

TEST(pending_signals_are_handled_lowest_number_first)
{
    sig_reset();
    clear_records();
    int sigs[] = {SIGTERM, SIGUSR2, SIGUSR1, SIGHUP};
    sigset_t s;
    sigemptyset(&s);
    for (int i = 0; i < 4; i++)
        sigaddset(&s, sigs[i]);
    /* Each handler blocks all four, so one handler runs at a time, in delivery order. */
    for (int i = 0; i < 4; i++) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = record;
        sa.sa_flags = SA_SIGINFO;
        sa.sa_mask = s;
        CHECK_OK(sigaction(sigs[i], &sa, NULL));
    }
    CHECK_OK(sigprocmask(SIG_BLOCK, &s, NULL));
    for (int i = 0; i < 4; i++)
        CHECK_OK(kill(getpid(), sigs[i]));
    CHECK_OK(sigprocmask(SIG_UNBLOCK, &s, NULL));
    CHECK_EQ(norder, 4);
    CHECK_EQ(order[0], SIGHUP);
    CHECK_EQ(order[1], SIGUSR1);
    CHECK_EQ(order[2], SIGUSR2);
    CHECK_EQ(order[3], SIGTERM);
}

/* ================= SIGKILL and SIGSTOP ================= */

TEST(sigkill_and_sigstop_cannot_be_caught_ignored_or_reset)
{
    sig_reset();
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = count_usr1;
    CHECK_ERRNO(sigaction(SIGKILL, &sa, NULL), EINVAL);
    CHECK_ERRNO(sigaction(SIGSTOP, &sa, NULL), EINVAL);
    sa.sa_handler = SIG_IGN;
    CHECK_ERRNO(sigaction(SIGKILL, &sa, NULL), EINVAL);
    CHECK_ERRNO(sigaction(SIGSTOP, &sa, NULL), EINVAL);
    sa.sa_handler = SIG_DFL;
    CHECK_ERRNO(sigaction(SIGKILL, &sa, NULL), EINVAL);
    CHECK_OK(sigaction(SIGKILL, NULL, &old));
    CHECK(old.sa_handler == SIG_DFL);
    CHECK_OK(sigaction(SIGSTOP, NULL, &old));
    CHECK(old.sa_handler == SIG_DFL);
}

TEST(sigkill_and_sigstop_cannot_be_blocked)
{
    sig_reset();
    unsigned long want = (1UL << (SIGKILL - 1)) | (1UL << (SIGSTOP - 1)) | (1UL << (SIGUSR1 - 1));
    unsigned long cur = 0;
    CHECK_OK(syscall(SYS_rt_sigprocmask, SIG_SETMASK, &want, NULL, KSIGSET_SIZE));
    CHECK_OK(syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, &cur, KSIGSET_SIZE));
    CHECK_EQ(cur, 1UL << (SIGUSR1 - 1));
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        unsigned long all = ~0UL;
        syscall(SYS_rt_sigprocmask, SIG_SETMASK, &all, NULL, KSIGSET_SIZE);
        raise(SIGKILL);
        _exit(3);
    }
    sig_reset();
    CHECK_KILLED(pid, SIGKILL);
}

/* ================= kill targets ================= */

TEST(kill_pid_zero_signals_the_own_process_group)
{
    sig_reset();
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        CCHECK(setpgid(0, 0) == 0);
        clear_records();
        CCHECK(on(SIGUSR1, record, 0) == 0);
        int ready[2], gate[2];
        CCHECK(pipe(ready) == 0 && pipe(gate) == 0);
        pid_t gc = fork();
        CCHECK(gc >= 0);
        if (gc == 0) {
            signal(SIGUSR1, SIG_DFL);
            close(gate[1]);
            write_byte(ready[1], 'r');
            char c;
            _exit(read(gate[0], &c, 1) == 0 ? 0 : 2);
        }
        close(gate[0]);
        CCHECK(read_byte(ready[0]) == 'r');
        CCHECK(kill(0, SIGUSR1) == 0);
        CCHECK(hits[SIGUSR1] == 1);
        int st = child_status(gc);
        CCHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGUSR1);
        _exit(0);
    }
    CHECK_EXITED(pid, 0);
}

/* A child in process group `pgid` (0: its own new group) that blocks until killed. */
static pid_t spawn_in_group(pid_t pgid, int ready_w, int gate_r, int gate_w)
{
    pid_t pid = fork();
    if (pid == 0) {
        CCHECK(setpgid(0, pgid) == 0);
        sig_reset();
        close(gate_w);
        write_byte(ready_w, 'r');
        char c;
        _exit(read(gate_r, &c, 1) == 0 ? 0 : 2);
    }
    if (pid > 0)
        setpgid(pid, pgid ? pgid : pid); /* both sides, so the order does not matter */
    return pid;
}

TEST(kill_negative_pgid_signals_every_member)
{
    sig_reset();
    int ready[2], gate[2];
    CHECK_OK(pipe(ready));
    CHECK_OK(pipe(gate));
    pid_t a = spawn_in_group(0, ready[1], gate[0], gate[1]);
    CHECK(a > 0);
    pid_t b = spawn_in_group(a, ready[1], gate[0], gate[1]);
    if (b < 0) {
        kill(a, SIGKILL);
        child_status(a);
        FAIL("fork failed");
    }
    int r1 = read_byte(ready[0]), r2 = read_byte(ready[0]);
    int k = kill(-a, SIGTERM);
    close(gate[1]);
    close(gate[0]);
    close(ready[0]);
    close(ready[1]);
    CHECK_EQ(r1, 'r');
    CHECK_EQ(r2, 'r');
    CHECK_EQ(k, 0);
    int sa = child_status(a), sb = child_status(b);
    CHECK(WIFSIGNALED(sa) && WTERMSIG(sa) == SIGTERM);
    CHECK(WIFSIGNALED(sb) && WTERMSIG(sb) == SIGTERM);
    CHECK_ERRNO(kill(-a, 0), ESRCH);
}

TEST(kill_minus_one_reaches_others_with_permission_but_not_the_caller)
{
    sig_reset();
    if (geteuid() != 0)
        SKIP("needs root to run the children under a private uid");
    /* A uid no other process can have: derived from our pid, so parallel runs differ. */
    uid_t u = 0x40000000u + (uid_t)getpid();
    int ready[2], gate[2];
    CHECK_OK(pipe(ready));
    CHECK_OK(pipe(gate));
    pid_t target = fork();
    CHECK(target >= 0);
    if (target == 0) {
        close(gate[1]);
        CCHECK(setuid(u) == 0);
        write_byte(ready[1], 'r');
        char c;
        _exit(read(gate[0], &c, 1) == 0 ? 0 : 2);
    }
    close(gate[0]);
    int r = read_byte(ready[0]);
    pid_t sender = -1;
    if (r == 'r') {
        sender = fork();
        if (sender == 0) {
            uid_t ru, eu, su;
            CCHECK(setuid(u) == 0);
            CCHECK(getresuid(&ru, &eu, &su) == 0);
            CCHECK(ru == u && eu == u && su == u); /* never kill(-1) as root */
            CCHECK(kill(-1, SIGUSR1) == 0);
            _exit(0); /* still alive: kill(-1) skips the caller */
        }
    }
    int ss = sender > 0 ? child_status(sender) : -1;
    close(gate[1]);
    close(ready[0]);
    close(ready[1]);
    int ts = child_status(target);
    CHECK_EQ(r, 'r');
    CHECK(sender > 0);
    CHECK_EQ(ss, 0);
    CHECK(WIFSIGNALED(ts) && WTERMSIG(ts) == SIGUSR1);
}

TEST(kill_errors)
{
    sig_reset();
    pid_t dead = fork();
    CHECK(dead >= 0);
    if (dead == 0)
        _exit(0);
    CHECK_EQ(child_status(dead), 0);
    CHECK_ERRNO(kill(dead, SIGUSR1), ESRCH);
    CHECK_ERRNO(kill(getpid(), 65), EINVAL);
    CHECK_ERRNO(kill(getpid(), -1), EINVAL);
    CHECK_EQ(kill(getpid(), 0), 0);
}

/* ================= timers ================= */

TEST(alarm_returns_previous_remaining_seconds)
{
    sig_reset();
    CHECK_EQ(alarm(100), 0);
    unsigned prev = alarm(5);
    CHECK(prev >= 99 && prev <= 100);
    prev = alarm(0);
    CHECK(prev >= 4 && prev <= 5);
    CHECK_EQ(alarm(0), 0);
}

TEST(alarm_delivers_sigalrm_after_the_time)
{
    sig_reset();
    CHECK_OK(block(SIGALRM));
    long long t0 = now_ns();
    CHECK_EQ(alarm(1), 0);
    siginfo_t si;
    memset(&si, 0, sizeof si);
    int r = wait_sig(SIGALRM, &si, 10000);
    long long dt = now_ns() - t0;
    alarm(0);
    CHECK_EQ(r, SIGALRM);
    CHECK_EQ(si.si_code, SI_KERNEL);
    CHECK(dt >= 990000000LL);
}

TEST(setitimer_real_delivers_and_getitimer_shows_the_remaining_time)
{
    sig_reset();
    CHECK_OK(block(SIGALRM));
    struct itimerval it = {{0, 0}, {0, 300000}}, cur;
    long long t0 = now_ns();
    CHECK_OK(setitimer(ITIMER_REAL, &it, NULL));
    CHECK_OK(getitimer(ITIMER_REAL, &cur));
    CHECK_EQ(cur.it_interval.tv_sec, 0);
    CHECK_EQ(cur.it_interval.tv_usec, 0);
    long us = cur.it_value.tv_sec * 1000000L + cur.it_value.tv_usec;
    CHECK(us > 0 && us <= 300000);
    CHECK_EQ(wait_sig(SIGALRM, NULL, 10000), SIGALRM);
    CHECK(now_ns() - t0 >= 290000000LL);
    CHECK_OK(getitimer(ITIMER_REAL, &cur));
    CHECK_EQ(cur.it_value.tv_sec, 0);
    CHECK_EQ(cur.it_value.tv_usec, 0);
}

TEST(setitimer_returns_the_old_value_and_zero_disarms)
{
    sig_reset();
    struct itimerval it = {{0, 0}, {10, 0}}, zero = {{0, 0}, {0, 0}}, old;
    CHECK_OK(setitimer(ITIMER_REAL, &it, NULL));
    CHECK_OK(setitimer(ITIMER_REAL, &zero, &old));
    CHECK(old.it_value.tv_sec >= 9 && old.it_value.tv_sec <= 10);
    CHECK_OK(getitimer(ITIMER_REAL, &old));
    CHECK_EQ(old.it_value.tv_sec, 0);
    CHECK_EQ(old.it_value.tv_usec, 0);
    CHECK_EQ(alarm(0), 0); /* alarm and ITIMER_REAL are the same timer */
}

TEST(setitimer_interval_repeats)
{
    sig_reset();
    CHECK_OK(block(SIGALRM));
    struct itimerval it = {{0, 20000}, {0, 20000}}, zero = {{0, 0}, {0, 0}};
    long long t0 = now_ns();
    CHECK_OK(setitimer(ITIMER_REAL, &it, NULL));
    int got = 0;
    for (int i = 0; i < 3; i++)
        if (wait_sig(SIGALRM, NULL, 10000) == SIGALRM)
            got++;
    long long dt = now_ns() - t0;
    setitimer(ITIMER_REAL, &zero, NULL);
    CHECK_EQ(got, 3);
    CHECK(dt >= 59000000LL);
}

TEST(setitimer_errors)
{
    sig_reset();
    struct itimerval it = {{0, 0}, {0, 1000000}};
    CHECK_ERRNO(setitimer(ITIMER_REAL, &it, NULL), EINVAL);
    it.it_value.tv_usec = -1;
    CHECK_ERRNO(setitimer(ITIMER_REAL, &it, NULL), EINVAL);
    struct itimerval ok = {{0, 0}, {0, 0}};
    CHECK_ERRNO(syscall(SYS_setitimer, 17, &ok, NULL), EINVAL);
    CHECK_ERRNO(syscall(SYS_getitimer, 17, &ok), EINVAL);
}

/* ================= default actions ================= */

/* Status of a child that raises sig with the default disposition (no core dumps possible). */
static int status_after_raise(int sig)
{
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        struct rlimit rl = {0, 0};
        setrlimit(RLIMIT_CORE, &rl);
        prctl(PR_SET_DUMPABLE, 0, 0, 0, 0); /* no dump even with a piped core_pattern */
        sig_reset();
        raise(sig);
        _exit(0);
    }
    return child_status(pid);
}

TEST(default_terminate_signals_kill_without_core)
{
    sig_reset();
    int sigs[] = {SIGHUP, SIGINT, SIGUSR1, SIGUSR2, SIGPIPE, SIGALRM, SIGTERM, SIGRTMIN, SIGRTMAX};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        int st = status_after_raise(sigs[i]);
        if (!WIFSIGNALED(st) || WTERMSIG(st) != sigs[i] || WCOREDUMP(st))
            FAIL("signal %d: status %#x", sigs[i], st);
    }
}

TEST(default_core_signals_kill_and_no_core_bit_under_rlimit_core_zero)
{
    sig_reset();
    int sigs[] = {SIGQUIT, SIGABRT, SIGSEGV, SIGILL, SIGFPE, SIGBUS, SIGSYS, SIGTRAP};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        int st = status_after_raise(sigs[i]);
        if (!WIFSIGNALED(st) || WTERMSIG(st) != sigs[i] || WCOREDUMP(st))
            FAIL("signal %d: status %#x", sigs[i], st);
    }
}

TEST(default_ignore_signals_do_nothing)
{
    sig_reset();
    int sigs[] = {SIGCHLD, SIGURG, SIGWINCH, SIGCONT};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        int st = status_after_raise(sigs[i]);
        if (st != 0)
            FAIL("signal %d: status %#x, expected exit 0", sigs[i], st);
    }
}

/* ================= SIGCHLD ================= */

TEST(sigchld_ignored_means_no_zombie_and_wait_echild)
{
    sig_reset();
    CHECK(signal(SIGCHLD, SIG_IGN) != SIG_ERR);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0)
        _exit(7);
    int st;
    errno = 0;
    pid_t r = waitpid(pid, &st, 0); /* blocks until the child is gone, then ECHILD */
    int e = errno;
    int k = kill(pid, 0);
    int ke = errno;
    signal(SIGCHLD, SIG_DFL);
    CHECK_EQ(r, -1);
    CHECK_EQ(e, ECHILD);
    CHECK_EQ(k, -1);
    CHECK_EQ(ke, ESRCH);
}

TEST(sa_nocldwait_reaps_children_but_still_sends_sigchld)
{
    sig_reset();
    clear_records();
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = record;
    sa.sa_flags = SA_SIGINFO | SA_NOCLDWAIT;
    CHECK_OK(sigaction(SIGCHLD, &sa, NULL));
    CHECK_OK(block(SIGCHLD));
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0)
        _exit(3);
    int st;
    errno = 0;
    pid_t r = waitpid(pid, &st, 0);
    int e = errno;
    siginfo_t si;
    memset(&si, 0, sizeof si);
    int s = wait_sig(SIGCHLD, &si, 10000);
    CHECK_EQ(r, -1);
    CHECK_EQ(e, ECHILD);
    CHECK_EQ(s, SIGCHLD);
    CHECK_EQ(si.si_pid, pid);
    CHECK_EQ(si.si_code, CLD_EXITED);
    CHECK_EQ(si.si_status, 3);
}

TEST(sigchld_siginfo_for_exit_has_cld_exited_pid_status_uid)
{
    sig_reset();
    CHECK_OK(block(SIGCHLD));
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0)
        _exit(42);
    siginfo_t si;
    memset(&si, 0, sizeof si);
    int s = wait_sig(SIGCHLD, &si, 10000);
    CHECK_EXITED(pid, 42);
    CHECK_EQ(s, SIGCHLD);
    CHECK_EQ(si.si_signo, SIGCHLD);
    CHECK_EQ(si.si_code, CLD_EXITED);
    CHECK_EQ(si.si_pid, pid);
    CHECK_EQ(si.si_status, 42);
    CHECK_EQ(si.si_uid, getuid());
}

TEST(sigchld_siginfo_for_a_killed_child_has_cld_killed)
{
    sig_reset();
    CHECK_OK(block(SIGCHLD));
    int gate[2];
    CHECK_OK(pipe(gate));
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        sig_reset();
        close(gate[1]);
        char c;
        _exit(read(gate[0], &c, 1) == 0 ? 0 : 2);
    }
    close(gate[0]);
    CHECK_OK(kill(pid, SIGTERM));
    siginfo_t si;
    memset(&si, 0, sizeof si);
    int s = wait_sig(SIGCHLD, &si, 10000);
    close(gate[1]);
    CHECK_KILLED(pid, SIGTERM);
    CHECK_EQ(s, SIGCHLD);
    CHECK_EQ(si.si_code, CLD_KILLED);
    CHECK_EQ(si.si_pid, pid);
    CHECK_EQ(si.si_status, SIGTERM);
}

/* ================= SIGPIPE ================= */

TEST(sigpipe_default_kills_a_writer_without_readers)
{
    sig_reset();
    int p[2];
    CHECK_OK(pipe(p));
    close(p[0]);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        (void)!write(p[1], "x", 1);
        _exit(3);
    }
    close(p[1]);
    CHECK_KILLED(pid, SIGPIPE);
}

TEST(sigpipe_ignored_write_fails_epipe)
{
    sig_reset();
    int p[2];
    CHECK_OK(pipe(p));
    close(p[0]);
    CHECK(signal(SIGPIPE, SIG_IGN) != SIG_ERR);
    errno = 0;
    ssize_t r = write(p[1], "x", 1);
    int e = errno;
    close(p[1]);
    CHECK_EQ(r, -1);
    CHECK_EQ(e, EPIPE);
}

TEST(sigpipe_blocked_write_fails_epipe_and_leaves_sigpipe_pending)
{
    sig_reset();
    int p[2];
    CHECK_OK(pipe(p));
    close(p[0]);
    CHECK_OK(block(SIGPIPE));
    errno = 0;
    ssize_t r = write(p[1], "x", 1);
    int e = errno;
    close(p[1]);
    CHECK_EQ(r, -1);
    CHECK_EQ(e, EPIPE);
    siginfo_t si;
    memset(&si, 0, sizeof si);
    CHECK_EQ(wait_sig(SIGPIPE, &si, 0), SIGPIPE);
    CHECK_EQ(si.si_code, SI_USER); /* Linux sends SIGPIPE as if by kill from the writer */
    CHECK_EQ(si.si_pid, getpid());
}

/* ================= hardware faults ================= */

TEST(sigsegv_on_unmapped_address_has_si_addr_and_maperr)
{
    sig_reset();
    char *m = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(m != MAP_FAILED);
    CHECK_OK(munmap(m, PAGE));
    fault_hits = 0;
    CHECK_OK(on(SIGSEGV, fault_handler, 0));
    volatile char *p = m + 123;
    if (sigsetjmp(jb, 1) == 0) {
        (void)*p;
        FAIL("no fault");
    }
    CHECK_EQ(fault_hits, 1);
    CHECK_EQ(fault_info.si_signo, SIGSEGV);
    CHECK_EQ(fault_info.si_code, SEGV_MAPERR);
    CHECK(fault_info.si_addr == (void *)(m + 123));
    CHECK_EQ(is_blocked(SIGSEGV), 0); /* siglongjmp restored the mask */
}

TEST(sigsegv_on_protection_fault_has_accerr)
{
    sig_reset();
    char *m = mmap(NULL, 2 * PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(m != MAP_FAILED);
    CHECK_OK(mprotect(m + PAGE, PAGE, PROT_NONE));
    fault_hits = 0;
    CHECK_OK(on(SIGSEGV, fault_handler, 0));
    volatile char *w = m + 7;
    volatile char *r = m + PAGE + 9;
    volatile int phase = 0;
    void *volatile addr[2] = {0, 0};
    volatile int code[2] = {0, 0};
    if (sigsetjmp(jb, 1) == 0) {
        *w = 1; /* write to a read-only page */
        phase = 99;
    }
    if (phase == 0) {
        addr[0] = fault_info.si_addr;
        code[0] = fault_info.si_code;
        phase = 1;
        if (sigsetjmp(jb, 1) == 0) {
            (void)*r; /* read of a PROT_NONE page */
            phase = 99;
        }
        addr[1] = fault_info.si_addr;
        code[1] = fault_info.si_code;
    }
    munmap(m, 2 * PAGE);
    CHECK_EQ(phase, 1);
    CHECK_EQ(fault_hits, 2);
    CHECK(addr[0] == (void *)(m + 7));
    CHECK_EQ(code[0], SEGV_ACCERR);
    CHECK(addr[1] == (void *)(m + PAGE + 9));
    CHECK_EQ(code[1], SEGV_ACCERR);
}

TEST(sigfpe_on_integer_division_by_zero_is_fpe_intdiv)
{
    sig_reset();
    fault_hits = 0;
    CHECK_OK(on(SIGFPE, fault_handler, 0));
    if (sigsetjmp(jb, 1) == 0) {
        div_zero_func();
        FAIL("no fault");
    }
    CHECK_EQ(fault_hits, 1);
    CHECK_EQ(fault_info.si_signo, SIGFPE);
    CHECK_EQ(fault_info.si_code, FPE_INTDIV);
    CHECK(fault_info.si_addr == (void *)div_zero_insn);
}

TEST(sigfpe_on_int_min_divided_by_minus_one)
{
    sig_reset();
    fault_hits = 0;
    CHECK_OK(on(SIGFPE, fault_handler, 0));
    if (sigsetjmp(jb, 1) == 0) {
        div_overflow_func();
        FAIL("no fault");
    }
    CHECK_EQ(fault_hits, 1);
    CHECK_EQ(fault_info.si_code, FPE_INTDIV); /* x86 raises #DE for both */
    CHECK(fault_info.si_addr == (void *)div_overflow_insn);
}

TEST(sigill_on_ud2_is_ill_illopn_at_the_instruction)
{
    sig_reset();
    fault_hits = 0;
    CHECK_OK(on(SIGILL, fault_handler, 0));
    if (sigsetjmp(jb, 1) == 0) {
        ud2_func();
        FAIL("no fault");
    }
    CHECK_EQ(fault_hits, 1);
    CHECK_EQ(fault_info.si_signo, SIGILL);
    CHECK_EQ(fault_info.si_code, ILL_ILLOPN);
    CHECK(fault_info.si_addr == (void *)ud2_insn);
}

TEST(sigbus_beyond_the_end_of_a_mapped_file)
{
    sig_reset();
    const char *d = newdir();
    CHECK(d != NULL);
    char path[256];
    snprintf(path, sizeof path, "%s/small", d);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    CHECK_OK(fd);
    CHECK_EQ(write(fd, "0123456789", 10), 10);
    char *m = mmap(NULL, 2 * PAGE, PROT_READ, MAP_SHARED, fd, 0);
    close(fd);
    CHECK(m != MAP_FAILED);
    fault_hits = 0;
    CHECK_OK(on(SIGBUS, fault_handler, 0));
    volatile char *tail = m + 100;     /* same page as the data: zero */
    volatile char *beyond = m + PAGE + 5; /* a page wholly past EOF */
    char t = *tail;
    volatile int faulted = 0;
    if (sigsetjmp(jb, 1) == 0)
        (void)*beyond;
    else
        faulted = 1;
    munmap(m, 2 * PAGE);
    CHECK_EQ(t, 0);
    CHECK_EQ(faulted, 1);
    CHECK_EQ(fault_info.si_signo, SIGBUS);
    CHECK_EQ(fault_info.si_code, BUS_ADRERR);
    CHECK(fault_info.si_addr == (void *)(m + PAGE + 5));
}

TEST(fault_with_the_signal_blocked_kills_the_process)
{
    sig_reset();
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        on(SIGILL, fault_handler, 0);
        block(SIGILL);
        if (sigsetjmp(jb, 1) == 0)
            ud2_func();
        _exit(3); /* the handler must not have run */
    }
    CHECK_KILLED(pid, SIGILL);
}

TEST(fault_with_the_signal_ignored_kills_the_process)
{
    sig_reset();
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        struct rlimit rl = {0, 0};
        setrlimit(RLIMIT_CORE, &rl);
        prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
        signal(SIGFPE, SIG_IGN);
        div_zero_func();
        _exit(3);
    }
    CHECK_KILLED(pid, SIGFPE);
}

/* ================= a blocked child ================= */

TEST(signal_interrupts_a_child_blocked_in_read)
{
    sig_reset();
    int ready[2], gate[2];
    CHECK_OK(pipe(ready));
    CHECK_OK(pipe(gate));
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        close(gate[1]);
        clear_records();
        CCHECK(on(SIGUSR1, record, 0) == 0);
        write_byte(ready[1], 'r');
        char c;
        errno = 0;
        ssize_t r = read(gate[0], &c, 1);
        int e = errno;
        write_byte(ready[1], 'd');
        CCHECK(r == -1 && e == EINTR);
        CCHECK(hits[SIGUSR1] == 1);
        _exit(0);
    }
    close(gate[0]);
    int r = read_byte(ready[0]);
    int w = wait_sleeping(pid);
    kill(pid, SIGUSR1);
    /* The gate stays open until the child's read has returned: closing it at once could end
     * the read with EOF before the signal interrupts it. Ten seconds bound a kernel that
     * never interrupts. */
    struct pollfd done = {ready[0], POLLIN, 0};
    poll(&done, 1, 10000);
    close(gate[1]);
    close(ready[0]);
    close(ready[1]);
    CHECK_EXITED(pid, 0);
    CHECK_EQ(r, 'r');
    CHECK_EQ(w, 1);
}

TEST(default_sigterm_kills_a_child_blocked_in_read)
{
    sig_reset();
    int ready[2], gate[2];
    CHECK_OK(pipe(ready));
    CHECK_OK(pipe(gate));
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        close(gate[1]);
        write_byte(ready[1], 'r');
        char c;
        _exit(read(gate[0], &c, 1) == 0 ? 0 : 2);
    }
    close(gate[0]);
    int r = read_byte(ready[0]);
    int w = wait_sleeping(pid);
    kill(pid, SIGTERM);
    int st = child_status(pid);
    close(gate[1]);
    close(ready[0]);
    close(ready[1]);
    CHECK_EQ(r, 'r');
    CHECK_EQ(w, 1);
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM);
}

/* ================= /proc/self/status ================= */

/* The 64-bit mask of "Name:\t<16 hex digits>" in /proc/self/status, or -1 on a format error. */
static long long status_mask(const char *name)
{
    char buf[8192];
    int fd = open("/proc/self/status", O_RDONLY);
    if (fd < 0)
        return -1;
    size_t n = 0;
    ssize_t r;
    while (n + 1 < sizeof buf && (r = read(fd, buf + n, sizeof buf - 1 - n)) > 0)
        n += (size_t)r;
    close(fd);
    buf[n] = '\0';
    char key[32];
    snprintf(key, sizeof key, "\n%s:\t", name);
    char *p = strstr(buf, key);
    if (!p)
        return -1;
    p += strlen(key);
    for (int i = 0; i < 16; i++) {
        char c = p[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return -1;
    }
    if (p[16] != '\n')
        return -1;
    return (long long)strtoull(p, NULL, 16);
}

#define BIT(s) (1ULL << ((s) - 1))

TEST(proc_status_sigblk_sigign_sigcgt)
{
    sig_reset();
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        sigset_t s;
        sigemptyset(&s);
        sigaddset(&s, SIGUSR1);
        sigaddset(&s, SIGRTMIN + 2);
        CCHECK(sigprocmask(SIG_SETMASK, &s, NULL) == 0);
        CCHECK(signal(SIGUSR2, SIG_IGN) != SIG_ERR);
        CCHECK(on(SIGHUP, record, 0) == 0);
        CCHECK(on(SIGTERM, record, 0) == 0);
        long long blk = status_mask("SigBlk");
        long long ign = status_mask("SigIgn");
        long long cgt = status_mask("SigCgt");
        CCHECK(blk == (long long)(BIT(SIGUSR1) | BIT(SIGRTMIN + 2)));
        CCHECK(ign == (long long)BIT(SIGUSR2));
        CCHECK((cgt & (long long)(BIT(SIGHUP) | BIT(SIGTERM))) ==
               (long long)(BIT(SIGHUP) | BIT(SIGTERM)));
        CCHECK((cgt & (long long)(BIT(SIGUSR1) | BIT(SIGUSR2) | BIT(SIGINT))) == 0);
        _exit(0);
    }
    CHECK_EXITED(pid, 0);
}

TEST(proc_status_sigpnd_is_thread_shdpnd_is_process_pending)
{
    sig_reset();
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        CCHECK(block(SIGUSR1) == 0 && block(SIGHUP) == 0);
        CCHECK(status_mask("SigPnd") == 0);
        CCHECK(status_mask("ShdPnd") == 0);
        raise(SIGUSR1);         /* tgkill: this thread */
        kill(getpid(), SIGHUP); /* the whole process */
        CCHECK(status_mask("SigPnd") == (long long)BIT(SIGUSR1));
        CCHECK(status_mask("ShdPnd") == (long long)BIT(SIGHUP));
        _exit(0);
    }
    CHECK_EXITED(pid, 0);
}
