/* ptrace.c - a small tracer: PTRACE_TRACEME and the SIGTRAP of exec, system-call stops over a
 * known sequence (orig_rax, rax = -ENOSYS at entry, the results at exit), changing a call's
 * number and result with GETREGS/SETREGS (and cancelling one), PEEKDATA/POKEDATA,
 * POKETEXT of a breakpoint into read-only text, PEEKUSER/POKEUSER (registers, debug
 * registers), GETFPREGS and GETREGSET, SINGLESTEP, fork events with the child traced from
 * its first instruction, exec events, signal-delivery stops (suppression, injection,
 * GETSIGINFO), group stops, SEIZE/INTERRUPT, ATTACH/DETACH, TracerPid, EXITKILL, and the
 * permission rules (another user, a non-dumpable process).
 *
 * Syscalls: ptrace, wait4, waitid, fork, execve, kill, tgkill, prctl, getpid, getppid, getuid.
 */
#define _GNU_SOURCE
#define TEST_MAIN
#include "test.h"
#include "children.h"

#include <signal.h>
#include <stddef.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <elf.h>

#define NOBODY 65534

/* Linux's request and option numbers, for C libraries whose headers lack some. */
#ifndef PTRACE_SEIZE
#define PTRACE_SEIZE 0x4206
#define PTRACE_INTERRUPT 0x4207
#define PTRACE_LISTEN 0x4208
#endif
#ifndef PTRACE_EVENT_STOP
#define PTRACE_EVENT_STOP 128
#endif
#ifndef PTRACE_O_EXITKILL
#define PTRACE_O_EXITKILL 0x100000
#endif

/* ptrace(2) without the C library's PEEK convenience (the raw call stores the word at data). */
static long pt(long req, pid_t pid, void *addr, void *data)
{
    return syscall(SYS_ptrace, req, pid, addr, data);
}

/* The status of the next stop or exit of `pid` (any tracee with -1). */
static int wait_for(pid_t pid)
{
    int st;
    while (waitpid(pid, &st, __WALL) < 0)
        if (errno != EINTR)
            return -1;
    return st;
}

/* The known sequence the exec'd image runs (see `exec_child`), and its exit code. */
#define SEQ_EXIT 3

/* When this program is exec'd with PTRACE_CHILD in its environment it runs a known sequence of
 * system calls and exits before any test runs. */
__attribute__((constructor)) static void exec_child(void)
{
    if (!getenv("PTRACE_CHILD"))
        return;
    syscall(SYS_getppid);
    syscall(SYS_exit_group, SEQ_EXIT);
}

/* A child that asks to be traced and stops itself; the parent sees the SIGSTOP stop. */
static pid_t traced_child(void (*body)(void))
{
    pid_t pid = fork();
    if (pid == 0) {
        CCHECK(pt(PTRACE_TRACEME, 0, 0, 0) == 0);
        raise(SIGSTOP);
        body();
        _exit(0);
    }
    return pid;
}

/* Waits for `pid`'s SIGSTOP stop (after traced_child). */
#define CHECK_STOPPED_BY(pid, sig)                                                    \
    do {                                                                              \
        int s_ = wait_for(pid);                                                       \
        if (!WIFSTOPPED(s_) || WSTOPSIG(s_) != (sig))                                 \
            FAIL("status %#x, wanted a stop by %d", s_, (sig));                       \
    } while (0)

static void body_sequence(void)
{
    CCHECK(syscall(SYS_getppid) == getppid());
    errno = 0;
    CCHECK(syscall(SYS_write, -1, "x", 1) == -1 && errno == EBADF);
    syscall(SYS_getuid);
    syscall(SYS_exit_group, 9);
}

TEST(syscall_stops_follow_a_known_sequence)
{
    pid_t pid = traced_child(body_sequence);
    CHECK_STOPPED_BY(pid, SIGSTOP);
    CHECK_OK(pt(PTRACE_SETOPTIONS, pid, 0, (void *)PTRACE_O_TRACESYSGOOD));
    long nr[64], ret[64];
    int n = 0, entry = 1, st;
    CHECK_OK(pt(PTRACE_SYSCALL, pid, 0, 0));
    for (;;) {
        st = wait_for(pid);
        if (!WIFSTOPPED(st))
            break;
        CHECK_EQ(WSTOPSIG(st), SIGTRAP | 0x80);
        struct user_regs_struct r;
        CHECK_OK(pt(PTRACE_GETREGS, pid, 0, &r));
        if (entry) {
            CHECK(n < 64);
            nr[n] = (long)r.orig_rax;
            CHECK_EQ((long)r.rax, -ENOSYS);
        } else {
            CHECK_EQ((long)r.orig_rax, nr[n]);
            ret[n++] = (long)r.rax;
        }
        entry = !entry;
        CHECK_OK(pt(PTRACE_SYSCALL, pid, 0, 0));
    }
    CHECK(WIFEXITED(st));
    CHECK_EQ(WEXITSTATUS(st), 9);
    /* The last entry (exit_group) has no exit stop. */
    CHECK(!entry);
    CHECK_EQ(nr[n], SYS_exit_group);
    int i = 0;
    while (i < n && nr[i] != SYS_getppid)
        i++;
    CHECK(i + 3 <= n);
    CHECK_EQ(ret[i], getpid());
    /* getppid() of the check itself, then write and getuid. */
    CHECK_EQ(nr[i + 1], SYS_getppid);
    CHECK_EQ(nr[i + 2], SYS_write);
    CHECK_EQ(ret[i + 2], -EBADF);
    CHECK_EQ(nr[i + 3], SYS_getuid);
    CHECK_EQ(ret[i + 3], getuid());
}

static void body_changed_calls(void)
{
    /* The tracer turns this getppid into getpid, ... */
    CCHECK(syscall(SYS_getppid) == getpid());
    /* ... makes getuid return 4242, ... */
    CCHECK(syscall(SYS_getuid) == 4242);
    /* ... and cancels this kill (orig_rax = -1, rax = 77). */
    CCHECK(syscall(SYS_kill, getpid(), SIGKILL) == 77);
    _exit(0);
}

TEST(setregs_changes_a_calls_number_and_result)
{
    pid_t pid = traced_child(body_changed_calls);
    CHECK_STOPPED_BY(pid, SIGSTOP);
    CHECK_OK(pt(PTRACE_SETOPTIONS, pid, 0, (void *)PTRACE_O_TRACESYSGOOD));
    int entry = 1, st, changed = 0;
    CHECK_OK(pt(PTRACE_SYSCALL, pid, 0, 0));
    while (WIFSTOPPED(st = wait_for(pid))) {
        struct user_regs_struct r;
        CHECK_OK(pt(PTRACE_GETREGS, pid, 0, &r));
        if (entry && r.orig_rax == SYS_getppid) {
            r.orig_rax = SYS_getpid;
            CHECK_OK(pt(PTRACE_SETREGS, pid, 0, &r));
            changed++;
        } else if (!entry && r.orig_rax == SYS_getuid) {
            r.rax = 4242;
            CHECK_OK(pt(PTRACE_SETREGS, pid, 0, &r));
            changed++;
        } else if (entry && r.orig_rax == SYS_kill) {
            r.orig_rax = -1;
            r.rax = 77;
            CHECK_OK(pt(PTRACE_SETREGS, pid, 0, &r));
            changed++;
        }
        entry = !entry;
        CHECK_OK(pt(PTRACE_SYSCALL, pid, 0, 0));
    }
    CHECK_EQ(changed, 3);
    CHECK(WIFEXITED(st));
    CHECK_EQ(WEXITSTATUS(st), 0);
}

static volatile long cell = 0x1234;

__attribute__((noinline)) static int answer(void)
{
    __asm__ volatile("" ::: "memory");
    return 1;
}

static void body_memory(void)
{
    /* The tracer wrote 0x5678 into `cell`, then plants a breakpoint in answer(). */
    CCHECK(cell == 0x5678);
    raise(SIGSTOP);
    CCHECK(answer() == 1);
    _exit(0);
}

TEST(peek_and_poke_data_and_a_breakpoint_in_text)
{
    pid_t pid = traced_child(body_memory);
    CHECK_STOPPED_BY(pid, SIGSTOP);
    long word = 0;
    CHECK_OK(pt(PTRACE_PEEKDATA, pid, (void *)&cell, &word));
    CHECK_EQ(word, 0x1234);
    CHECK_OK(pt(PTRACE_POKEDATA, pid, (void *)&cell, (void *)0x5678L));
    CHECK_EQ(cell, 0x1234); /* ours is our own */
    /* An unmapped address. */
    CHECK_ERRNO(pt(PTRACE_PEEKDATA, pid, (void *)8, &word), EIO);
    CHECK_ERRNO(pt(PTRACE_POKEDATA, pid, (void *)8, 0), EIO);
    CHECK_OK(pt(PTRACE_CONT, pid, 0, 0));
    CHECK_STOPPED_BY(pid, SIGSTOP);
    /* int3 at answer()'s first byte, in the child's read-only text. */
    long orig = 0;
    CHECK_OK(pt(PTRACE_PEEKTEXT, pid, (void *)answer, &orig));
    long trap = (orig & ~0xffL) | 0xcc;
    CHECK_OK(pt(PTRACE_POKETEXT, pid, (void *)answer, (void *)trap));
    CHECK_OK(pt(PTRACE_CONT, pid, 0, 0));
    CHECK_STOPPED_BY(pid, SIGTRAP);
    struct user_regs_struct r;
    CHECK_OK(pt(PTRACE_GETREGS, pid, 0, &r));
    CHECK_EQ(r.rip, (unsigned long)answer + 1);
    /* Put the byte back and run answer() from its start, as a debugger does. */
    CHECK_OK(pt(PTRACE_POKETEXT, pid, (void *)answer, (void *)orig));
    r.rip = (unsigned long)answer;
    CHECK_OK(pt(PTRACE_SETREGS, pid, 0, &r));
    CHECK_EQ(answer(), 1); /* our text never had the breakpoint */
    CHECK_OK(pt(PTRACE_CONT, pid, 0, 0));
    CHECK_CHILD_OK(pid);
}

static void body_wait(void)
{
    _exit(0);
}

TEST(peekuser_pokeuser_fpregs_and_regsets)
{
    pid_t pid = traced_child(body_wait);
    CHECK_STOPPED_BY(pid, SIGSTOP);
    struct user_regs_struct r;
    CHECK_OK(pt(PTRACE_GETREGS, pid, 0, &r));
    long v = 0;
    CHECK_OK(pt(PTRACE_PEEKUSER, pid, (void *)offsetof(struct user, regs.rip), &v));
    CHECK_EQ(v, r.rip);
    CHECK_OK(pt(PTRACE_PEEKUSER, pid, (void *)offsetof(struct user, regs.rsp), &v));
    CHECK_EQ(v, r.rsp);
    CHECK_EQ(r.cs & 3, 3);
    /* A register through POKEUSER, read back by GETREGS. */
    CHECK_OK(pt(PTRACE_POKEUSER, pid, (void *)offsetof(struct user, regs.r12), (void *)0xabcdL));
    struct user_regs_struct r2;
    CHECK_OK(pt(PTRACE_GETREGS, pid, 0, &r2));
    CHECK_EQ(r2.r12, 0xabcd);
    /* The debug registers' words. */
    size_t dr0 = offsetof(struct user, u_debugreg[0]);
    CHECK_OK(pt(PTRACE_POKEUSER, pid, (void *)dr0, (void *)&cell));
    CHECK_OK(pt(PTRACE_PEEKUSER, pid, (void *)dr0, &v));
    CHECK_EQ(v, (long)&cell);
    size_t dr7 = offsetof(struct user, u_debugreg[7]);
    CHECK_OK(pt(PTRACE_PEEKUSER, pid, (void *)dr7, &v));
    CHECK_EQ(v, 0);
    /* Unaligned or beyond struct user. */
    CHECK_ERRNO(pt(PTRACE_PEEKUSER, pid, (void *)3, &v), EIO);
    CHECK_ERRNO(pt(PTRACE_PEEKUSER, pid, (void *)4096, &v), EIO);
    /* GETREGSET: the same registers, the length written back. */
    struct user_regs_struct r3;
    struct iovec iov = { &r3, sizeof r3 };
    CHECK_OK(pt(PTRACE_GETREGSET, pid, (void *)NT_PRSTATUS, &iov));
    CHECK_EQ(iov.iov_len, sizeof r3);
    CHECK_EQ(r3.rip, r.rip);
    CHECK_EQ(r3.r12, 0xabcd);
    /* A short buffer gets the first registers. */
    struct iovec half = { &r3, 16 };
    CHECK_OK(pt(PTRACE_GETREGSET, pid, (void *)NT_PRSTATUS, &half));
    CHECK_EQ(half.iov_len, 16);
    /* FPU: MXCSR's default is 0x1f80 in the FXSAVE image, the same both ways. */
    struct user_fpregs_struct fp, fp2;
    CHECK_OK(pt(PTRACE_GETFPREGS, pid, 0, &fp));
    CHECK_EQ(fp.mxcsr & 0xffc0, 0x1f80 & 0xffc0);
    struct iovec fiov = { &fp2, sizeof fp2 };
    CHECK_OK(pt(PTRACE_GETREGSET, pid, (void *)NT_PRFPREG, &fiov));
    CHECK_EQ(fiov.iov_len, sizeof fp2);
    CHECK_EQ(fp2.mxcsr, fp.mxcsr);
    /* Put r12 back before letting it run. */
    CHECK_OK(pt(PTRACE_SETREGS, pid, 0, &r));
    CHECK_OK(pt(PTRACE_CONT, pid, 0, 0));
    CHECK_CHILD_OK(pid);
}

static void body_spin(void)
{
    for (volatile int i = 0; i < 1000; i++)
        ;
    _exit(0);
}

TEST(singlestep_moves_one_instruction_at_a_time)
{
    pid_t pid = traced_child(body_spin);
    CHECK_STOPPED_BY(pid, SIGSTOP);
    struct user_regs_struct r;
    CHECK_OK(pt(PTRACE_GETREGS, pid, 0, &r));
    unsigned long last = r.rip;
    for (int i = 0; i < 5; i++) {
        CHECK_OK(pt(PTRACE_SINGLESTEP, pid, 0, 0));
        CHECK_STOPPED_BY(pid, SIGTRAP);
        CHECK_OK(pt(PTRACE_GETREGS, pid, 0, &r));
        CHECK(r.rip != last);
        /* The trap flag is the tracer's, not the program's to see. */
        last = r.rip;
    }
    CHECK_OK(pt(PTRACE_CONT, pid, 0, 0));
    CHECK_CHILD_OK(pid);
}

static void body_fork(void)
{
    pid_t gc = fork();
    if (gc == 0)
        _exit(5);
    int st = child_status(gc);
    _exit(WIFEXITED(st) && WEXITSTATUS(st) == 5 ? 0 : 1);
}

TEST(fork_events_trace_the_new_child_from_its_start)
{
    pid_t pid = traced_child(body_fork);
    CHECK_STOPPED_BY(pid, SIGSTOP);
    CHECK_OK(pt(PTRACE_SETOPTIONS, pid, 0, (void *)PTRACE_O_TRACEFORK));
    CHECK_OK(pt(PTRACE_CONT, pid, 0, 0));
    pid_t gc = 0;
    int saw_event = 0, gc_stopped = 0, gc_status = -1, child_status_ = -1;
    while (child_status_ == -1) {
        int st;
        pid_t w = waitpid(-1, &st, __WALL);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            FAIL("waitpid: errno %d", errno);
        }
        if (w == pid && WIFSTOPPED(st) && WSTOPSIG(st) != SIGTRAP) {
            /* SIGCHLD of the grandchild's exit: passed on. */
            CHECK_OK(pt(PTRACE_CONT, pid, 0, (void *)(long)WSTOPSIG(st)));
        } else if (w == pid && WIFSTOPPED(st)) {
            CHECK_EQ(st >> 8, SIGTRAP | PTRACE_EVENT_FORK << 8);
            unsigned long msg = 0;
            CHECK_OK(pt(PTRACE_GETEVENTMSG, pid, 0, &msg));
            gc = (pid_t)msg;
            saw_event++;
            CHECK_OK(pt(PTRACE_CONT, pid, 0, 0));
        } else if (w == pid) {
            child_status_ = st;
        } else if (WIFSTOPPED(st)) {
            /* The new child's first stop, before it ran: SIGSTOP. */
            CHECK_EQ(WSTOPSIG(st), SIGSTOP);
            gc_stopped++;
            CHECK_OK(pt(PTRACE_CONT, w, 0, 0));
        } else {
            gc_status = st;
            CHECK_EQ(w, gc);
        }
    }
    CHECK_EQ(saw_event, 1);
    CHECK_EQ(gc_stopped, 1);
    CHECK(gc > 0);
    /* The grandchild's exit reached us (its tracer) as well as its parent. */
    if (gc_status == -1) {
        int st;
        CHECK_EQ(waitpid(gc, &st, __WALL), gc);
        gc_status = st;
    }
    CHECK(WIFEXITED(gc_status));
    CHECK_EQ(WEXITSTATUS(gc_status), 5);
    CHECK(WIFEXITED(child_status_));
    CHECK_EQ(WEXITSTATUS(child_status_), 0);
}

static void body_exec(void)
{
    char *argv[] = { "ptrace-child", NULL };
    char *envp[] = { "PTRACE_CHILD=1", NULL };
    execve("/proc/self/exe", argv, envp);
    _exit(127);
}

TEST(exec_stops_with_sigtrap_or_the_exec_event)
{
    /* Without options: the SIGTRAP after a successful exec. */
    pid_t pid = traced_child(body_exec);
    CHECK_STOPPED_BY(pid, SIGSTOP);
    CHECK_OK(pt(PTRACE_CONT, pid, 0, 0));
    CHECK_STOPPED_BY(pid, SIGTRAP);
    siginfo_t si;
    CHECK_OK(pt(PTRACE_GETSIGINFO, pid, 0, &si));
    CHECK_EQ(si.si_signo, SIGTRAP);
    CHECK_OK(pt(PTRACE_CONT, pid, 0, 0));
    int st = wait_for(pid);
    CHECK(WIFEXITED(st));
    CHECK_EQ(WEXITSTATUS(st), SEQ_EXIT);

    /* With TRACEEXEC under PTRACE_SYSCALL: entry, the event, then exit with 0. */
    pid = traced_child(body_exec);
    CHECK_STOPPED_BY(pid, SIGSTOP);
    CHECK_OK(pt(PTRACE_SETOPTIONS, pid, 0,
                (void *)(PTRACE_O_TRACEEXEC | PTRACE_O_TRACESYSGOOD)));
    int events = 0, exec_exit = 0;
    long last_entry = -1;
    CHECK_OK(pt(PTRACE_SYSCALL, pid, 0, 0));
    int entry = 1;
    while (WIFSTOPPED(st = wait_for(pid))) {
        struct user_regs_struct r;
        CHECK_OK(pt(PTRACE_GETREGS, pid, 0, &r));
        if (st >> 8 == (SIGTRAP | PTRACE_EVENT_EXEC << 8)) {
            unsigned long msg = 0;
            CHECK_OK(pt(PTRACE_GETEVENTMSG, pid, 0, &msg));
            CHECK_EQ(msg, pid);
            CHECK_EQ(last_entry, SYS_execve);
            events++;
        } else {
            CHECK_EQ(WSTOPSIG(st), SIGTRAP | 0x80);
            if (entry)
                last_entry = (long)r.orig_rax;
            else if (r.orig_rax == SYS_execve) {
                CHECK_EQ(events, 1);
                CHECK_EQ(r.rax, 0);
                exec_exit++;
            }
            entry = !entry;
        }
        CHECK_OK(pt(PTRACE_SYSCALL, pid, 0, 0));
    }
    CHECK_EQ(events, 1);
    CHECK_EQ(exec_exit, 1);
    CHECK(WIFEXITED(st));
    CHECK_EQ(WEXITSTATUS(st), SEQ_EXIT);
}

static volatile int usr1_count;

static void on_usr1(int sig)
{
    (void)sig;
    usr1_count++;
}

static void body_signals(void)
{
    signal(SIGUSR1, on_usr1);
    /* Suppressed by the tracer: SIGUSR2 would kill us. */
    raise(SIGUSR2);
    /* Replaced by SIGUSR1. */
    raise(SIGTERM);
    CCHECK(usr1_count == 1);
    _exit(0);
}

TEST(signal_delivery_stops_suppress_and_inject)
{
    pid_t pid = traced_child(body_signals);
    CHECK_STOPPED_BY(pid, SIGSTOP);
    CHECK_OK(pt(PTRACE_CONT, pid, 0, 0));
    CHECK_STOPPED_BY(pid, SIGUSR2);
    siginfo_t si;
    CHECK_OK(pt(PTRACE_GETSIGINFO, pid, 0, &si));
    CHECK_EQ(si.si_signo, SIGUSR2);
    CHECK_EQ(si.si_pid, pid);
    CHECK_OK(pt(PTRACE_CONT, pid, 0, 0)); /* suppressed */
    CHECK_STOPPED_BY(pid, SIGTERM);
    CHECK_OK(pt(PTRACE_CONT, pid, 0, (void *)SIGUSR1));
    CHECK_CHILD_OK(pid);
    /* A bad signal number. */
    CHECK_ERRNO(pt(PTRACE_CONT, pid, 0, (void *)1000L), ESRCH);
}

/* /proc/<pid>/status's TracerPid. */
static int tracer_pid(pid_t pid)
{
    char path[64], buf[4096];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = 0;
    char *p = strstr(buf, "TracerPid:");
    return p ? atoi(p + 10) : -1;
}

static void body_detach(void)
{
    /* Untraced after the detach: SIGUSR2's handler runs without a stop. */
    signal(SIGUSR2, on_usr1);
    raise(SIGUSR2);
    CCHECK(usr1_count == 1);
    _exit(7);
}

TEST(detach_lets_the_tracee_run_untraced)
{
    pid_t pid = traced_child(body_detach);
    CHECK_STOPPED_BY(pid, SIGSTOP);
    CHECK_EQ(tracer_pid(pid), getpid());
    CHECK_ERRNO(pt(1234, pid, 0, 0), EIO);
    CHECK_OK(pt(PTRACE_DETACH, pid, 0, 0));
    CHECK_ERRNO(pt(PTRACE_CONT, pid, 0, 0), ESRCH);
    CHECK_EXITED(pid, 7);
}

TEST(requests_on_a_process_not_traced)
{
    pid_t pid = fork();
    if (pid == 0) {
        pause();
        _exit(0);
    }
    long v;
    CHECK_ERRNO(pt(PTRACE_CONT, pid, 0, 0), ESRCH);
    CHECK_ERRNO(pt(PTRACE_PEEKDATA, pid, (void *)&cell, &v), ESRCH);
    CHECK_ERRNO(pt(PTRACE_GETREGS, pid, 0, &v), ESRCH);
    CHECK_ERRNO(pt(PTRACE_ATTACH, getpid(), 0, 0), EPERM);
    CHECK_ERRNO(pt(PTRACE_ATTACH, 999999, 0, 0), ESRCH);
    CHECK_ERRNO(pt(PTRACE_SEIZE, pid, 0, (void *)0x80000000L), EIO);
    kill(pid, SIGKILL);
    CHECK_KILLED(pid, SIGKILL);
}

TEST(seize_interrupt_attach_and_group_stop)
{
    volatile int *flag =
        mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    CHECK(flag != MAP_FAILED);
    *flag = 0;
    pid_t pid = fork();
    if (pid == 0) {
        while (!*flag)
            ;
        _exit(0);
    }
    CHECK_OK(pt(PTRACE_SEIZE, pid, 0, (void *)PTRACE_O_TRACESYSGOOD));
    CHECK_EQ(tracer_pid(pid), getpid());
    /* Seized, it runs on until interrupted. */
    CHECK_OK(pt(PTRACE_INTERRUPT, pid, 0, 0));
    int st = wait_for(pid);
    CHECK(WIFSTOPPED(st));
    CHECK_EQ(st >> 16, PTRACE_EVENT_STOP);
    CHECK_EQ(WSTOPSIG(st), SIGTRAP);
    struct user_regs_struct r;
    CHECK_OK(pt(PTRACE_GETREGS, pid, 0, &r));
    /* A group stop of a seized tracee: PTRACE_EVENT_STOP with the stop signal, no siginfo. */
    CHECK_OK(kill(pid, SIGSTOP));
    CHECK_OK(pt(PTRACE_CONT, pid, 0, 0));
    CHECK_STOPPED_BY(pid, SIGSTOP); /* the signal-delivery stop */
    CHECK_OK(pt(PTRACE_CONT, pid, 0, (void *)SIGSTOP));
    st = wait_for(pid);
    CHECK(WIFSTOPPED(st));
    CHECK_EQ(st >> 16, PTRACE_EVENT_STOP);
    CHECK_EQ(WSTOPSIG(st), SIGSTOP);
    CHECK_OK(pt(PTRACE_DETACH, pid, 0, 0));
    CHECK_EQ(tracer_pid(pid), 0);
    /* ATTACH stops it with SIGSTOP. */
    CHECK_OK(kill(pid, SIGCONT));
    CHECK_OK(pt(PTRACE_ATTACH, pid, 0, 0));
    CHECK_STOPPED_BY(pid, SIGSTOP);
    CHECK_OK(pt(PTRACE_DETACH, pid, 0, 0));
    *flag = 1;
    CHECK_CHILD_OK(pid);
    munmap((void *)flag, 4096);
}

TEST(exitkill_kills_the_tracees_of_a_tracer_that_exits)
{
    pid_t victim = fork();
    if (victim == 0) {
        for (;;)
            pause();
    }
    pid_t tracer = fork();
    if (tracer == 0) {
        CCHECK(pt(PTRACE_SEIZE, victim, 0, (void *)PTRACE_O_EXITKILL) == 0);
        _exit(0);
    }
    CHECK_CHILD_OK(tracer);
    CHECK_KILLED(victim, SIGKILL);
}

TEST(another_user_or_a_non_dumpable_process_refuses)
{
    pid_t root_child = fork();
    if (root_child == 0) {
        for (;;)
            pause();
    }
    pid_t pid = fork();
    if (pid == 0) {
        CCHECK(setgid(NOBODY) == 0 && setuid(NOBODY) == 0);
        /* Root's process: EPERM. */
        CERRNO(pt(PTRACE_ATTACH, root_child, 0, 0), EPERM);
        /* A process of ours that is not dumpable: EPERM; dumpable: allowed. */
        int up[2], down[2];
        CCHECK(pipe(up) == 0 && pipe(down) == 0);
        pid_t gc = fork();
        if (gc == 0) {
            CCHECK(prctl(PR_SET_DUMPABLE, 0) == 0);
            CCHECK(prctl(PR_GET_DUMPABLE) == 0);
            write_byte(up[1], 1);
            read_byte(down[0]);
            CCHECK(prctl(PR_SET_DUMPABLE, 1) == 0);
            write_byte(up[1], 1);
            for (;;)
                pause();
        }
        CCHECK(read_byte(up[0]) == 1);
        CERRNO(pt(PTRACE_SEIZE, gc, 0, 0), EPERM);
        write_byte(down[1], 1);
        CCHECK(read_byte(up[0]) == 1);
        CCHECK(pt(PTRACE_SEIZE, gc, 0, 0) == 0);
        kill(gc, SIGKILL);
        _exit(0);
    }
    CHECK_CHILD_OK(pid);
    kill(root_child, SIGKILL);
    CHECK_KILLED(root_child, SIGKILL);
}
