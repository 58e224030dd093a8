/* jobctl.c - job control: SIGSTOP/SIGTSTP/SIGTTIN/SIGTTOU stop a child and SIGCONT continues
 * it; waitpid WUNTRACED/WCONTINUED and waitid WSTOPPED/WCONTINUED (CLD_STOPPED,
 * CLD_CONTINUED) report each change once; a stopped process does not run; SIGKILL kills it;
 * other signals stay pending until it continues; SIGCHLD for stop/continue and SA_NOCLDSTOP;
 * SIGCONT and stop signals discard each other when pending; caught stop signals do not stop;
 * stop signals from the keyboard set are discarded in an orphaned process group. With a
 * pseudo-terminal (posix_openpt, grantpt, unlockpt, ptsname, TIOCSCTTY in a new session):
 * tcgetpgrp/tcsetpgrp/tcgetsid, background reads stop with SIGTTIN (EIO if it is ignored),
 * background writes stop with SIGTTOU only under TOSTOP, tcsetpgrp from the background stops
 * with SIGTTOU. The pty cases SKIP when /dev/ptmx does not exist (ENOENT), and only then.
 * The stopped child's children are in their own process group (setpgid), so its group is never
 * orphaned by the way the test was started.
 * Syscalls: kill, wait4, waitid, fork, setpgid, setsid, getpgid, getsid, pipe2, read, write,
 * ppoll/poll, close, rt_sigaction, rt_sigprocmask, rt_sigpending, rt_sigtimedwait, openat,
 * ioctl (TIOCSPTLCK, TIOCGPTN, TIOCSCTTY, TIOCGPGRP, TIOCSPGRP, TIOCGSID, TCGETS, TCSETS).
 */
#define _GNU_SOURCE
#define TEST_MAIN
#include "test.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>

#include "children.h"
#include "sigs.h"

#define SKIP_CODE 77

/* waitpid with flags, retrying EINTR; returns waitpid's result, status in *st. */
static pid_t wait_for(pid_t pid, int *st, int flags)
{
    pid_t r;
    do
        r = waitpid(pid, st, flags);
    while (r < 0 && errno == EINTR);
    return r;
}

/* 1 if fd becomes readable within ms, 0 if not, -1 on error. */
static int readable_within(int fd, int ms)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int r;
    do
        r = poll(&p, 1, ms);
    while (r < 0 && errno == EINTR);
    return r < 0 ? -1 : r > 0;
}

static void sig_reset(void) { sig_defaults(); }

/* ---- an echo child in its own process group ---- */

struct echo {
    pid_t pid;
    int to;   /* write bytes to the child */
    int from; /* read its echoes */
};

/* The child reads bytes and writes each one back; exits 0 on EOF. */
static int spawn_echo(struct echo *e)
{
    int a[2], b[2];
    if (pipe(a) != 0)
        return -1;
    if (pipe(b) != 0) {
        close(a[0]);
        close(a[1]);
        return -1;
    }
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        setpgid(0, 0);
        sig_reset();
        close(a[1]);
        close(b[0]);
        for (;;) {
            int c = read_byte(a[0]);
            if (c < 0)
                _exit(0);
            if (write_byte(b[1], (char)c) != 0)
                _exit(2);
        }
    }
    setpgid(pid, pid);
    close(a[0]);
    close(b[1]);
    e->pid = pid;
    e->to = a[1];
    e->from = b[0];
    return 0;
}

/* 1 if the echo child answers a byte within 10 s. */
static int echo_alive(struct echo *e, char c)
{
    if (write_byte(e->to, c) != 0)
        return 0;
    if (readable_within(e->from, 10000) != 1)
        return 0;
    return read_byte(e->from) == (unsigned char)c;
}

/* SIGKILL (also when stopped), reap, then close the pipes; returns the status. The kill comes
 * first: closing `to` first would let the child see EOF and exit 0 before the signal lands. */
static int finish_echo(struct echo *e)
{
    kill(e->pid, SIGKILL);
    int st = child_status(e->pid);
    close(e->to);
    close(e->from);
    return st;
}

/* ================= stop and continue ================= */

TEST(sigstop_stops_a_child_and_wuntraced_reports_it)
{
    sig_reset();
    struct echo e;
    CHECK_OK(spawn_echo(&e));
    CHECK_OK(kill(e.pid, SIGSTOP));
    int st = 0;
    pid_t r = wait_for(e.pid, &st, WUNTRACED);
    finish_echo(&e);
    CHECK_EQ(r, e.pid);
    CHECK(WIFSTOPPED(st));
    CHECK_EQ(WSTOPSIG(st), SIGSTOP);
    CHECK_EQ(st & 0xffff, 0x137f); /* Linux's encoding: (sig << 8) | 0x7f */
}

TEST(sigcont_continues_and_wcontinued_reports_it)
{
    sig_reset();
    struct echo e;
    CHECK_OK(spawn_echo(&e));
    int st1 = 0, st2 = 0;
    int k1 = kill(e.pid, SIGSTOP);
    pid_t r1 = wait_for(e.pid, &st1, WUNTRACED);
    int k2 = kill(e.pid, SIGCONT);
    pid_t r2 = wait_for(e.pid, &st2, WCONTINUED);
    int alive = echo_alive(&e, 'c');
    int fin = finish_echo(&e);
    CHECK_EQ(k1, 0);
    CHECK_EQ(k2, 0);
    CHECK_EQ(r1, e.pid);
    CHECK(WIFSTOPPED(st1));
    CHECK_EQ(r2, e.pid);
    CHECK(WIFCONTINUED(st2));
    CHECK_EQ(st2, 0xffff);
    CHECK_EQ(alive, 1);
    CHECK(WIFSIGNALED(fin) && WTERMSIG(fin) == SIGKILL);
}

TEST(sigtstp_sigttin_sigttou_stop_by_default)
{
    sig_reset();
    int sigs[] = {SIGTSTP, SIGTTIN, SIGTTOU};
    for (int i = 0; i < 3; i++) {
        struct echo e;
        CHECK_OK(spawn_echo(&e));
        int st = 0, st2 = 0;
        kill(e.pid, sigs[i]);
        pid_t r = wait_for(e.pid, &st, WUNTRACED);
        kill(e.pid, SIGCONT);
        pid_t r2 = wait_for(e.pid, &st2, WCONTINUED);
        int alive = echo_alive(&e, 'x');
        finish_echo(&e);
        if (r != e.pid || !WIFSTOPPED(st) || WSTOPSIG(st) != sigs[i])
            FAIL("signal %d: waitpid %d, status %#x", sigs[i], (int)r, st);
        if (r2 != e.pid || !WIFCONTINUED(st2) || !alive)
            FAIL("signal %d: not continued (waitpid %d, status %#x, alive %d)", sigs[i],
                 (int)r2, st2, alive);
    }
}

TEST(waitid_wstopped_and_wcontinued_report_cld_codes)
{
    sig_reset();
    struct echo e;
    CHECK_OK(spawn_echo(&e));
    siginfo_t s1, s2;
    memset(&s1, 0, sizeof s1);
    memset(&s2, 0, sizeof s2);
    kill(e.pid, SIGTSTP);
    int r1 = waitid(P_PID, (id_t)e.pid, &s1, WSTOPPED);
    kill(e.pid, SIGCONT);
    int r2 = waitid(P_PID, (id_t)e.pid, &s2, WCONTINUED);
    finish_echo(&e);
    CHECK_EQ(r1, 0);
    CHECK_EQ(s1.si_signo, SIGCHLD);
    CHECK_EQ(s1.si_code, CLD_STOPPED);
    CHECK_EQ(s1.si_status, SIGTSTP);
    CHECK_EQ(s1.si_pid, e.pid);
    CHECK_EQ(r2, 0);
    CHECK_EQ(s2.si_code, CLD_CONTINUED);
    CHECK_EQ(s2.si_status, SIGCONT);
    CHECK_EQ(s2.si_pid, e.pid);
}

TEST(a_stop_is_reported_once_and_only_with_wuntraced)
{
    sig_reset();
    struct echo e;
    CHECK_OK(spawn_echo(&e));
    kill(e.pid, SIGSTOP);
    siginfo_t si;
    memset(&si, 0, sizeof si);
    /* Wait for the stop without consuming it. */
    int w = waitid(P_PID, (id_t)e.pid, &si, WSTOPPED | WNOWAIT);
    int st = 0;
    pid_t plain = wait_for(e.pid, &st, WNOHANG);            /* no WUNTRACED: nothing */
    pid_t first = wait_for(e.pid, &st, WUNTRACED | WNOHANG); /* consumed here */
    int st2 = 0;
    pid_t again = wait_for(e.pid, &st2, WUNTRACED | WNOHANG);
    finish_echo(&e);
    CHECK_EQ(w, 0);
    CHECK_EQ(si.si_code, CLD_STOPPED);
    CHECK_EQ(plain, 0);
    CHECK_EQ(first, e.pid);
    CHECK(WIFSTOPPED(st));
    CHECK_EQ(again, 0);
}

TEST(a_stopped_process_does_not_run_until_continued)
{
    sig_reset();
    struct echo e;
    CHECK_OK(spawn_echo(&e));
    int st = 0;
    kill(e.pid, SIGSTOP);
    pid_t r = wait_for(e.pid, &st, WUNTRACED);
    int wrote = write_byte(e.to, 'q');
    int early = readable_within(e.from, 200); /* stopped: no echo */
    kill(e.pid, SIGCONT);
    int later = readable_within(e.from, 10000);
    int c = later == 1 ? read_byte(e.from) : -1;
    finish_echo(&e);
    CHECK_EQ(r, e.pid);
    CHECK(WIFSTOPPED(st));
    CHECK_EQ(wrote, 0);
    CHECK_EQ(early, 0);
    CHECK_EQ(later, 1);
    CHECK_EQ(c, 'q');
}

TEST(sigkill_kills_a_stopped_process)
{
    sig_reset();
    struct echo e;
    CHECK_OK(spawn_echo(&e));
    int st = 0;
    kill(e.pid, SIGSTOP);
    pid_t r = wait_for(e.pid, &st, WUNTRACED);
    int k = kill(e.pid, SIGKILL);
    int fin = child_status(e.pid);
    close(e.to);
    close(e.from);
    CHECK_EQ(r, e.pid);
    CHECK(WIFSTOPPED(st));
    CHECK_EQ(k, 0);
    CHECK(WIFSIGNALED(fin));
    CHECK_EQ(WTERMSIG(fin), SIGKILL);
}

TEST(sigterm_to_a_stopped_process_waits_for_sigcont)
{
    sig_reset();
    struct echo e;
    CHECK_OK(spawn_echo(&e));
    int st = 0;
    kill(e.pid, SIGSTOP);
    pid_t r = wait_for(e.pid, &st, WUNTRACED);
    kill(e.pid, SIGTERM);
    struct pollfd none = {.fd = -1};
    poll(&none, 1, 200);
    int st2 = 0;
    pid_t still = wait_for(e.pid, &st2, WNOHANG); /* stopped: not dead yet */
    kill(e.pid, SIGCONT);
    int fin = child_status(e.pid);
    close(e.to);
    close(e.from);
    CHECK_EQ(r, e.pid);
    CHECK_EQ(still, 0);
    CHECK(WIFSIGNALED(fin));
    CHECK_EQ(WTERMSIG(fin), SIGTERM);
}

/* ================= SIGCHLD ================= */

TEST(sigchld_is_sent_for_stop_and_continue)
{
    sig_reset();
    CHECK_OK(block(SIGCHLD));
    struct echo e;
    CHECK_OK(spawn_echo(&e));
    siginfo_t a, b;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    int st;
    kill(e.pid, SIGSTOP);
    wait_for(e.pid, &st, WUNTRACED);
    int sa = wait_sig(SIGCHLD, &a, 10000);
    kill(e.pid, SIGCONT);
    wait_for(e.pid, &st, WCONTINUED);
    int alive = echo_alive(&e, 'a'); /* it ran, so it has notified */
    int sb = wait_sig(SIGCHLD, &b, 10000);
    finish_echo(&e);
    CHECK_EQ(sa, SIGCHLD);
    CHECK_EQ(a.si_code, CLD_STOPPED);
    CHECK_EQ(a.si_status, SIGSTOP);
    CHECK_EQ(a.si_pid, e.pid);
    CHECK_EQ(alive, 1);
    CHECK_EQ(sb, SIGCHLD);
    CHECK_EQ(b.si_code, CLD_CONTINUED);
    CHECK_EQ(b.si_status, SIGCONT);
    CHECK_EQ(b.si_pid, e.pid);
}

static void noop(int sig) { (void)sig; }

TEST(sa_nocldstop_suppresses_sigchld_for_stop_and_continue_only)
{
    sig_reset();
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = noop;
    sa.sa_flags = SA_NOCLDSTOP;
    CHECK_OK(sigaction(SIGCHLD, &sa, NULL));
    CHECK_OK(block(SIGCHLD));
    struct echo e;
    CHECK_OK(spawn_echo(&e));
    int st1 = 0, st2 = 0;
    kill(e.pid, SIGSTOP);
    pid_t r1 = wait_for(e.pid, &st1, WUNTRACED);
    kill(e.pid, SIGCONT);
    pid_t r2 = wait_for(e.pid, &st2, WCONTINUED);
    int alive = echo_alive(&e, 'n');
    int pend = is_pending(SIGCHLD);
    close(e.to); /* EOF: the child exits */
    siginfo_t si;
    memset(&si, 0, sizeof si);
    int s = wait_sig(SIGCHLD, &si, 10000);
    int fin = child_status(e.pid);
    close(e.from);
    CHECK_EQ(r1, e.pid);
    CHECK(WIFSTOPPED(st1));
    CHECK_EQ(r2, e.pid);
    CHECK(WIFCONTINUED(st2));
    CHECK_EQ(alive, 1);
    CHECK_EQ(pend, 0);
    CHECK_EQ(s, SIGCHLD);
    CHECK_EQ(si.si_code, CLD_EXITED);
    CHECK_EQ(fin, 0);
}

/* ================= stop/continue interplay ================= */

TEST(sigcont_discards_pending_stop_signals_and_stop_signals_discard_sigcont)
{
    sig_reset();
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        sigset_t s;
        sigemptyset(&s);
        sigaddset(&s, SIGTSTP);
        sigaddset(&s, SIGTTIN);
        sigaddset(&s, SIGCONT);
        CCHECK(sigprocmask(SIG_BLOCK, &s, NULL) == 0);
        CCHECK(kill(getpid(), SIGTSTP) == 0);
        CCHECK(kill(getpid(), SIGTTIN) == 0);
        CCHECK(is_pending(SIGTSTP) == 1 && is_pending(SIGTTIN) == 1);
        CCHECK(kill(getpid(), SIGCONT) == 0);
        CCHECK(is_pending(SIGTSTP) == 0 && is_pending(SIGTTIN) == 0);
        CCHECK(is_pending(SIGCONT) == 1);
        CCHECK(kill(getpid(), SIGTSTP) == 0);
        CCHECK(is_pending(SIGCONT) == 0);
        CCHECK(is_pending(SIGTSTP) == 1);
        signal(SIGTSTP, SIG_IGN); /* discard it before unblocking */
        _exit(0);
    }
    CHECK_EXITED(pid, 0);
}

/* Waits (up to ~20 s) until /proc/<pid>/stat shows state 'S'. 0, or -1 on timeout. */
TEST(caught_sigtstp_runs_the_handler_and_does_not_stop)
{
    sig_reset();
    int p[2], ready[2], gate[2];
    CHECK_OK(pipe(p));
    CHECK_OK(pipe(ready));
    CHECK_OK(pipe(gate));
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        setpgid(0, 0);
        close(p[0]);
        close(gate[1]);
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = noop;
        CCHECK(sigaction(SIGTSTP, &sa, NULL) == 0);
        write_byte(ready[1], 'r');
        char c;
        errno = 0;
        ssize_t r = read(gate[0], &c, 1); /* interrupted by SIGTSTP (no SA_RESTART) */
        CCHECK(r == -1 && errno == EINTR);
        CCHECK(write_byte(p[1], 'h') == 0);
        _exit(0);
    }
    setpgid(pid, pid);
    close(p[1]);
    close(gate[0]);
    int r = read_byte(ready[0]);
    int w = wait_sleeping(pid);
    int k = kill(pid, SIGTSTP);
    int got = readable_within(p[0], 10000) == 1 ? read_byte(p[0]) : -1;
    if (got != 'h')
        kill(pid, SIGKILL);
    int fin = child_status(pid);
    close(ready[0]);
    close(ready[1]);
    close(gate[1]);
    close(p[0]);
    CHECK_EQ(r, 'r');
    CHECK_EQ(w, 1);
    CHECK_EQ(k, 0);
    CHECK_EQ(got, 'h');
    CHECK_EQ(fin, 0);
}

static volatile int cont_hits;
static void on_cont(int sig) { (void)sig; cont_hits++; }

TEST(sigcont_handler_runs_when_the_process_is_continued)
{
    sig_reset();
    int a[2], b[2];
    CHECK_OK(pipe(a));
    CHECK_OK(pipe(b));
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        setpgid(0, 0);
        close(a[1]);
        close(b[0]);
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_cont;
        sa.sa_flags = SA_RESTART;
        CCHECK(sigaction(SIGCONT, &sa, NULL) == 0);
        write_byte(b[1], 'r');
        CCHECK(read_byte(a[0]) == 'g');
        CCHECK(write_byte(b[1], (char)('0' + cont_hits)) == 0);
        _exit(0);
    }
    setpgid(pid, pid);
    close(a[0]);
    close(b[1]);
    int r = read_byte(b[0]);
    int st1 = 0, st2 = 0;
    kill(pid, SIGSTOP);
    pid_t r1 = wait_for(pid, &st1, WUNTRACED);
    kill(pid, SIGCONT);
    pid_t r2 = wait_for(pid, &st2, WCONTINUED);
    write_byte(a[1], 'g');
    int n = read_byte(b[0]);
    close(a[1]);
    close(b[0]);
    CHECK_EXITED(pid, 0);
    CHECK_EQ(r, 'r');
    CHECK_EQ(r1, pid);
    CHECK(WIFSTOPPED(st1));
    CHECK_EQ(r2, pid);
    CHECK(WIFCONTINUED(st2));
    CHECK_EQ(n, '1');
}

TEST(sigtstp_in_an_orphaned_process_group_is_discarded)
{
    sig_reset();
    int a[2], b[2];
    CHECK_OK(pipe(a));
    CHECK_OK(pipe(b));
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        /* A new session: the group's only member has its parent in another session. */
        CCHECK(setsid() == getpid());
        close(a[1]);
        close(b[0]);
        write_byte(b[1], 'r');
        for (;;) {
            int c = read_byte(a[0]);
            if (c < 0)
                _exit(0);
            write_byte(b[1], (char)c);
        }
    }
    close(a[0]);
    close(b[1]);
    int r = read_byte(b[0]);
    int k = kill(pid, SIGTSTP);
    struct echo e = {pid, a[1], b[0]};
    int alive = echo_alive(&e, 'o');
    int st = 0;
    pid_t stopped = wait_for(pid, &st, WUNTRACED | WNOHANG);
    int k2 = kill(pid, SIGSTOP); /* SIGSTOP is never discarded */
    int st2 = 0;
    pid_t r2 = wait_for(pid, &st2, WUNTRACED);
    int fin = finish_echo(&e);
    CHECK_EQ(r, 'r');
    CHECK_EQ(k, 0);
    CHECK_EQ(alive, 1);
    CHECK_EQ(stopped, 0);
    CHECK_EQ(k2, 0);
    CHECK_EQ(r2, pid);
    CHECK(WIFSTOPPED(st2) && WSTOPSIG(st2) == SIGSTOP);
    CHECK(WIFSIGNALED(fin));
}

/* ================= pseudo-terminal job control ================= */

/* In a fresh child: new session, a pty whose slave becomes the controlling terminal.
 * Exits SKIP_CODE if /dev/ptmx does not exist. */
static void pty_session(int *master, int *slave)
{
    CCHECK(setsid() == getpid());
    int m = open("/dev/ptmx", O_RDWR | O_NOCTTY);
    if (m < 0 && errno == ENOENT)
        _exit(SKIP_CODE);
    CCHECK(m >= 0);
    CCHECK(grantpt(m) == 0);
    CCHECK(unlockpt(m) == 0);
    char *name = ptsname(m);
    CCHECK(name != NULL);
    int s = open(name, O_RDWR | O_NOCTTY);
    CCHECK(s >= 0);
    CCHECK(ioctl(s, TIOCSCTTY, 0) == 0);
    *master = m;
    *slave = s;
}

#define RUN_PTY_CASE(fn)                                                              \
    do {                                                                              \
        sig_reset();                                                                  \
        pid_t pid_ = fork();                                                          \
        CHECK(pid_ >= 0);                                                             \
        if (pid_ == 0) {                                                              \
            int m_, s_;                                                               \
            pty_session(&m_, &s_);                                                    \
            fn(m_, s_);                                                               \
            _exit(0);                                                                 \
        }                                                                             \
        int st_ = child_status(pid_);                                                 \
        if (WIFEXITED(st_) && WEXITSTATUS(st_) == SKIP_CODE)                          \
            SKIP("/dev/ptmx does not exist");                                         \
        if (st_ != 0)                                                                 \
            FAIL("pty session child: status %#x", st_);                               \
    } while (0)

/* A background child (own process group) of the session leader running fn(slave). */
static pid_t spawn_background(int slave, void (*fn)(int))
{
    pid_t pid = fork();
    if (pid == 0) {
        setpgid(0, 0);
        fn(slave);
        _exit(0);
    }
    if (pid > 0)
        setpgid(pid, pid);
    return pid;
}

static void ctty_case(int m, int s)
{
    (void)m;
    CCHECK(tcgetpgrp(s) == getpid());
    CCHECK(tcgetsid(s) == getpid());
    CCHECK(getsid(0) == getpid());
    pid_t pg = -1;
    CCHECK(ioctl(s, TIOCGPGRP, &pg) == 0 && pg == getpid());
    /* The parent's group is in another session. */
    errno = 0;
    CCHECK(tcsetpgrp(s, getpgid(getppid())) == -1 && errno == EPERM);
    int p[2];
    CCHECK(pipe(p) == 0);
    errno = 0;
    CCHECK(tcgetpgrp(p[0]) == -1 && errno == ENOTTY);
    int fd = open("/dev/tty", O_RDWR);
    CCHECK(fd >= 0); /* the controlling terminal is now the pty */
    close(fd);
}

TEST(pty_controlling_terminal_tcgetpgrp_tcgetsid)
{
    RUN_PTY_CASE(ctty_case);
}

static void bg_read(int s)
{
    char c;
    ssize_t r = read(s, &c, 1);
    _exit(r == 1 && c == 'x' ? 0 : 2);
}

static void bg_read_stops_case(int m, int s)
{
    (void)m;
    pid_t g = spawn_background(s, bg_read);
    CCHECK(g > 0);
    int st = 0;
    CCHECK(wait_for(g, &st, WUNTRACED) == g);
    CCHECK(WIFSTOPPED(st) && WSTOPSIG(st) == SIGTTIN);
    kill(g, SIGKILL);
    child_status(g);
}

TEST(pty_background_read_stops_with_sigttin)
{
    RUN_PTY_CASE(bg_read_stops_case);
}

static void tcsetpgrp_case(int m, int s)
{
    pid_t g = spawn_background(s, bg_read);
    CCHECK(g > 0);
    int st = 0;
    CCHECK(wait_for(g, &st, WUNTRACED) == g);
    CCHECK(WIFSTOPPED(st) && WSTOPSIG(st) == SIGTTIN);
    CCHECK(tcsetpgrp(s, g) == 0); /* bring it to the foreground */
    CCHECK(tcgetpgrp(s) == g);
    CCHECK(kill(g, SIGCONT) == 0);
    CCHECK(write(m, "x\n", 2) == 2);
    st = 0;
    CCHECK(wait_for(g, &st, 0) == g);
    CCHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

TEST(pty_tcsetpgrp_moves_the_foreground_and_the_read_then_succeeds)
{
    RUN_PTY_CASE(tcsetpgrp_case);
}

static void bg_read_ignoring_sigttin(int s)
{
    signal(SIGTTIN, SIG_IGN);
    char c;
    errno = 0;
    ssize_t r = read(s, &c, 1);
    _exit(r == -1 && errno == EIO ? 0 : 2);
}

static void bg_read_eio_case(int m, int s)
{
    (void)m;
    pid_t g = spawn_background(s, bg_read_ignoring_sigttin);
    CCHECK(g > 0);
    int st = 0;
    CCHECK(wait_for(g, &st, WUNTRACED) == g);
    if (WIFSTOPPED(st))
        kill(g, SIGKILL);
    CCHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

TEST(pty_background_read_with_sigttin_ignored_fails_eio)
{
    RUN_PTY_CASE(bg_read_eio_case);
}

static void bg_write(int s)
{
    _exit(write(s, "y", 1) == 1 ? 0 : 2);
}

static void bg_write_tostop_case(int m, int s)
{
    (void)m;
    struct termios t;
    CCHECK(tcgetattr(s, &t) == 0);
    t.c_lflag |= TOSTOP;
    CCHECK(tcsetattr(s, TCSANOW, &t) == 0);
    pid_t g = spawn_background(s, bg_write);
    CCHECK(g > 0);
    int st = 0;
    CCHECK(wait_for(g, &st, WUNTRACED) == g);
    if (WIFSTOPPED(st))
        kill(g, SIGKILL);
    child_status(g);
    CCHECK(WIFSTOPPED(st) && WSTOPSIG(st) == SIGTTOU);
}

TEST(pty_background_write_with_tostop_stops_with_sigttou)
{
    RUN_PTY_CASE(bg_write_tostop_case);
}

static void bg_write_no_tostop_case(int m, int s)
{
    struct termios t;
    CCHECK(tcgetattr(s, &t) == 0);
    t.c_lflag &= ~(tcflag_t)TOSTOP;
    CCHECK(tcsetattr(s, TCSANOW, &t) == 0);
    pid_t g = spawn_background(s, bg_write);
    CCHECK(g > 0);
    int st = 0;
    CCHECK(wait_for(g, &st, WUNTRACED) == g);
    if (WIFSTOPPED(st))
        kill(g, SIGKILL);
    CCHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    char c = 0;
    CCHECK(read(m, &c, 1) == 1 && c == 'y');
}

TEST(pty_background_write_without_tostop_succeeds)
{
    RUN_PTY_CASE(bg_write_no_tostop_case);
}

static void bg_tcsetpgrp(int s)
{
    _exit(tcsetpgrp(s, getpgrp()) == 0 ? 0 : 2);
}

static void bg_tcsetpgrp_ignoring_sigttou(int s)
{
    signal(SIGTTOU, SIG_IGN);
    _exit(tcsetpgrp(s, getpgrp()) == 0 && tcgetpgrp(s) == getpgrp() ? 0 : 2);
}

static void bg_tcsetpgrp_case(int m, int s)
{
    (void)m;
    pid_t g = spawn_background(s, bg_tcsetpgrp);
    CCHECK(g > 0);
    int st = 0;
    CCHECK(wait_for(g, &st, WUNTRACED) == g);
    if (WIFSTOPPED(st))
        kill(g, SIGKILL);
    child_status(g);
    CCHECK(WIFSTOPPED(st) && WSTOPSIG(st) == SIGTTOU);
    CCHECK(tcgetpgrp(s) == getpid());
    pid_t g2 = spawn_background(s, bg_tcsetpgrp_ignoring_sigttou);
    CCHECK(g2 > 0);
    st = 0;
    CCHECK(wait_for(g2, &st, WUNTRACED) == g2);
    if (WIFSTOPPED(st))
        kill(g2, SIGKILL);
    CCHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

TEST(pty_tcsetpgrp_from_the_background_stops_with_sigttou_unless_ignored)
{
    RUN_PTY_CASE(bg_tcsetpgrp_case);
}
