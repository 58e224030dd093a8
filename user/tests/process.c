/* process.c - process identity and attributes: pids and credentials, uname, set_tid_address,
 * resource limits (prlimit64), signal dispositions and the signal mask as recorded state (no
 * signal is delivered), console ioctls, unknown syscalls, and read/write/readv/writev on fds 0-2
 * and on bad fds.
 * Syscalls: getpid, gettid, getppid, get[e]uid, get[e]gid, uname, set_tid_address, prlimit64,
 * rt_sigaction, rt_sigprocmask, ioctl(TCGETS, TIOCGWINSZ), read, write, readv, writev.
 */
#define _GNU_SOURCE
#define TEST_MAIN
#include "test.h"

#include <signal.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <termios.h>

/* The kernel's struct sigaction on x86-64 (not libc's) and its 64-bit signal set. */
struct ksigaction {
    void (*handler)(int);
    unsigned long flags;
    void (*restorer)(void);
    unsigned long mask;
};

#define KSIGSET_SIZE 8
#define SIGBIT(s) (1UL << ((s) - 1))
#ifndef SA_RESTORER
#define SA_RESTORER 0x04000000
#endif

static long sys_rt_sigaction(int sig, const struct ksigaction *act, struct ksigaction *old)
{
    return syscall(SYS_rt_sigaction, sig, act, old, KSIGSET_SIZE);
}

static long sys_sigprocmask(int how, const unsigned long *set, unsigned long *old)
{
    return syscall(SYS_rt_sigprocmask, how, set, old, KSIGSET_SIZE);
}

static void handler_a(int sig) { (void)sig; }
static void restorer_a(void) {}

/* ---- identity ---- */

TEST(getpid_positive_and_stable)
{
    pid_t p = getpid();
    CHECK(p > 0);
    CHECK_EQ(syscall(SYS_getpid), p);
    CHECK_EQ(getpid(), p);
}

TEST(gettid_equals_getpid_single_threaded) { CHECK_EQ(syscall(SYS_gettid), getpid()); }

TEST(getppid_differs_from_getpid)
{
    pid_t pp = getppid();
    CHECK(pp >= 0);
    CHECK_NE(pp, getpid());
    CHECK_EQ(syscall(SYS_getppid), pp);
}

TEST(uid_equals_euid) { CHECK_EQ(getuid(), geteuid()); }

TEST(gid_equals_egid) { CHECK_EQ(getgid(), getegid()); }

TEST(set_tid_address_returns_tid)
{
    static int tid_word;
    CHECK_EQ(syscall(SYS_set_tid_address, &tid_word), syscall(SYS_gettid));
}

/* ---- uname ---- */

static int field_ok(const char *f, size_t size) { return strnlen(f, size) < size; }

TEST(uname_reports_linux_x86_64)
{
    struct utsname u;
    memset(&u, 0xff, sizeof u);
    CHECK_EQ(syscall(SYS_uname, &u), 0);
    CHECK(field_ok(u.sysname, sizeof u.sysname));
    CHECK(field_ok(u.nodename, sizeof u.nodename));
    CHECK(field_ok(u.release, sizeof u.release));
    CHECK(field_ok(u.version, sizeof u.version));
    CHECK(field_ok(u.machine, sizeof u.machine));
    CHECK(strcmp(u.sysname, "Linux") == 0);
    CHECK(strcmp(u.machine, "x86_64") == 0);
    CHECK(u.release[0] >= '1' && u.release[0] <= '9'); /* "6.1.0-..." */
    CHECK(strchr(u.release, '.') != NULL);
    CHECK(u.version[0] != '\0');
}

TEST(uname_libc_agrees_with_raw)
{
    struct utsname a, b;
    CHECK_OK(uname(&a));
    CHECK_EQ(syscall(SYS_uname, &b), 0);
    CHECK(strcmp(a.sysname, b.sysname) == 0);
    CHECK(strcmp(a.release, b.release) == 0);
    CHECK(strcmp(a.machine, b.machine) == 0);
}

/* ---- resource limits ---- */

TEST(prlimit_nofile_sane)
{
    struct rlimit old;
    CHECK_EQ(syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, NULL, &old), 0);
    CHECK(old.rlim_cur <= old.rlim_max);
    CHECK(old.rlim_cur >= 64);
}

TEST(prlimit_stack_sane)
{
    struct rlimit old;
    CHECK_EQ(syscall(SYS_prlimit64, 0, RLIMIT_STACK, NULL, &old), 0);
    CHECK(old.rlim_cur <= old.rlim_max);
    CHECK(old.rlim_cur >= 65536);
}

TEST(prlimit_own_pid_same_as_zero)
{
    struct rlimit a, b;
    CHECK_EQ(syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, NULL, &a), 0);
    CHECK_EQ(syscall(SYS_prlimit64, getpid(), RLIMIT_NOFILE, NULL, &b), 0);
    CHECK_EQ(a.rlim_cur, b.rlim_cur);
    CHECK_EQ(a.rlim_max, b.rlim_max);
}

TEST(getrlimit_agrees_with_prlimit)
{
    struct rlimit a, b;
    CHECK_OK(getrlimit(RLIMIT_NOFILE, &a));
    CHECK_EQ(syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, NULL, &b), 0);
    CHECK_EQ(a.rlim_cur, b.rlim_cur);
    CHECK_EQ(a.rlim_max, b.rlim_max);
}

TEST(prlimit_lower_soft_limit_and_restore)
{
    struct rlimit old, now, set;
    CHECK_EQ(syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, NULL, &old), 0);
    set.rlim_cur = old.rlim_cur - 1;
    set.rlim_max = old.rlim_max;
    struct rlimit prev;
    CHECK_EQ(syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, &set, &prev), 0);
    CHECK_EQ(prev.rlim_cur, old.rlim_cur); /* old value returned while setting */
    CHECK_EQ(syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, NULL, &now), 0);
    CHECK_EQ(now.rlim_cur, old.rlim_cur - 1);
    CHECK_EQ(now.rlim_max, old.rlim_max);
    CHECK_EQ(syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, &old, NULL), 0);
    CHECK_EQ(syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, NULL, &now), 0);
    CHECK_EQ(now.rlim_cur, old.rlim_cur);
}

TEST(prlimit_soft_above_hard_einval)
{
    struct rlimit old, bad;
    CHECK_EQ(syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, NULL, &old), 0);
    bad.rlim_cur = old.rlim_max;
    bad.rlim_max = old.rlim_max - 1;
    CHECK_ERRNO(syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, &bad, NULL), EINVAL);
}

TEST(prlimit_bad_resource_einval)
{
    struct rlimit old;
    CHECK_ERRNO(syscall(SYS_prlimit64, 0, 9999, NULL, &old), EINVAL);
    CHECK_ERRNO(syscall(SYS_prlimit64, 0, RLIM_NLIMITS, NULL, &old), EINVAL);
}

TEST(prlimit_no_such_pid_esrch)
{
    struct rlimit old;
    CHECK_ERRNO(syscall(SYS_prlimit64, 0x3fffffff, RLIMIT_NOFILE, NULL, &old), ESRCH);
}

/* ---- signal dispositions (recorded, not delivered) ---- */

TEST(sigaction_round_trip)
{
    struct sigaction sa, got, prev;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler_a;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaddset(&sa.sa_mask, SIGUSR2);
    CHECK_OK(sigaction(SIGUSR1, &sa, &prev));
    CHECK_OK(sigaction(SIGUSR1, NULL, &got));
    CHECK(got.sa_handler == handler_a);
    CHECK(got.sa_flags & SA_RESTART);
    CHECK(sigismember(&got.sa_mask, SIGUSR2));
    CHECK(!sigismember(&got.sa_mask, SIGTERM));
    CHECK_OK(sigaction(SIGUSR1, &prev, NULL));
    CHECK_OK(sigaction(SIGUSR1, NULL, &got));
    CHECK(got.sa_handler == prev.sa_handler);
}

TEST(rt_sigaction_raw_round_trip_exact)
{
    struct ksigaction act = {handler_a, SA_RESTORER | SA_SIGINFO | SA_RESTART, restorer_a,
                             SIGBIT(SIGUSR2) | SIGBIT(SIGINT)};
    struct ksigaction prev, got, prev2;
    CHECK_EQ(sys_rt_sigaction(SIGUSR2, &act, &prev), 0);
    CHECK_EQ(sys_rt_sigaction(SIGUSR2, NULL, &got), 0);
    CHECK(got.handler == handler_a);
    CHECK_EQ(got.flags, act.flags);
    CHECK(got.restorer == restorer_a);
    CHECK_EQ(got.mask, act.mask);
    /* Setting again hands back what was there. */
    CHECK_EQ(sys_rt_sigaction(SIGUSR2, &prev, &prev2), 0);
    CHECK(prev2.handler == handler_a);
    CHECK_EQ(sys_rt_sigaction(SIGUSR2, NULL, &got), 0);
    CHECK(got.handler == prev.handler);
}

TEST(sigaction_ignore_round_trip)
{
    struct sigaction sa, got, prev;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_IGN;
    CHECK_OK(sigaction(SIGTERM, &sa, &prev));
    CHECK_OK(sigaction(SIGTERM, NULL, &got));
    CHECK(got.sa_handler == SIG_IGN);
    CHECK_OK(sigaction(SIGTERM, &prev, NULL));
}

TEST(sigaction_mask_never_holds_sigkill_or_sigstop)
{
    struct ksigaction act = {handler_a, SA_RESTORER, restorer_a, ~0UL}, got, prev;
    CHECK_EQ(sys_rt_sigaction(SIGUSR1, &act, &prev), 0);
    CHECK_EQ(sys_rt_sigaction(SIGUSR1, NULL, &got), 0);
    CHECK_EQ(sys_rt_sigaction(SIGUSR1, &prev, NULL), 0);
    CHECK_EQ(got.mask, ~0UL & ~(SIGBIT(SIGKILL) | SIGBIT(SIGSTOP)));
}

TEST(sigaction_sigkill_sigstop_einval)
{
    struct ksigaction act = {SIG_IGN, SA_RESTORER, restorer_a, 0};
    CHECK_ERRNO(sys_rt_sigaction(SIGKILL, &act, NULL), EINVAL);
    CHECK_ERRNO(sys_rt_sigaction(SIGSTOP, &act, NULL), EINVAL);
    act.handler = SIG_DFL;
    CHECK_ERRNO(sys_rt_sigaction(SIGKILL, &act, NULL), EINVAL);
}

TEST(sigaction_query_sigkill_ok)
{
    struct ksigaction got;
    memset(&got, 0xff, sizeof got);
    CHECK_EQ(sys_rt_sigaction(SIGKILL, NULL, &got), 0);
    CHECK(got.handler == SIG_DFL);
}

TEST(sigaction_bad_signal_number_einval)
{
    struct ksigaction act = {SIG_IGN, SA_RESTORER, restorer_a, 0}, got;
    CHECK_ERRNO(sys_rt_sigaction(0, &act, NULL), EINVAL);
    CHECK_ERRNO(sys_rt_sigaction(65, &act, NULL), EINVAL);
    CHECK_ERRNO(sys_rt_sigaction(-1, NULL, &got), EINVAL);
}

TEST(sigaction_bad_sigsetsize_einval)
{
    struct ksigaction got;
    CHECK_ERRNO(syscall(SYS_rt_sigaction, SIGUSR1, NULL, &got, 4), EINVAL);
    CHECK_ERRNO(syscall(SYS_rt_sigaction, SIGUSR1, NULL, &got, 16), EINVAL);
}

TEST(sigaction_bad_pointer_efault)
{
    volatile uintptr_t bad = 8;
    CHECK_ERRNO(sys_rt_sigaction(SIGUSR1, (void *)bad, NULL), EFAULT);
    CHECK_ERRNO(sys_rt_sigaction(SIGUSR1, NULL, (void *)bad), EFAULT);
}

TEST(sigaction_realtime_signal_round_trip)
{
    struct ksigaction act = {handler_a, SA_RESTORER, restorer_a, 0}, got, prev;
    CHECK_EQ(sys_rt_sigaction(64, &act, &prev), 0);
    CHECK_EQ(sys_rt_sigaction(64, NULL, &got), 0);
    CHECK_EQ(sys_rt_sigaction(64, &prev, NULL), 0);
    CHECK(got.handler == handler_a);
}

/* ---- signal mask ---- */

TEST(sigprocmask_block_unblock_round_trip)
{
    unsigned long orig, set = SIGBIT(SIGUSR1) | SIGBIT(SIGUSR2), cur;
    CHECK_EQ(sys_sigprocmask(SIG_BLOCK, NULL, &orig), 0);
    CHECK_EQ(sys_sigprocmask(SIG_BLOCK, &set, NULL), 0);
    CHECK_EQ(sys_sigprocmask(SIG_BLOCK, NULL, &cur), 0);
    CHECK_EQ(cur, orig | set);
    unsigned long one = SIGBIT(SIGUSR1);
    CHECK_EQ(sys_sigprocmask(SIG_UNBLOCK, &one, &cur), 0);
    CHECK_EQ(cur, orig | set); /* old mask handed back */
    CHECK_EQ(sys_sigprocmask(SIG_BLOCK, NULL, &cur), 0);
    CHECK_EQ(cur, (orig | set) & ~one);
    CHECK_EQ(sys_sigprocmask(SIG_SETMASK, &orig, NULL), 0);
    CHECK_EQ(sys_sigprocmask(SIG_BLOCK, NULL, &cur), 0);
    CHECK_EQ(cur, orig);
}

TEST(sigprocmask_cannot_block_sigkill_or_sigstop)
{
    unsigned long orig, all = ~0UL, cur;
    CHECK_EQ(sys_sigprocmask(SIG_SETMASK, &all, &orig), 0);
    CHECK_EQ(sys_sigprocmask(SIG_BLOCK, NULL, &cur), 0);
    CHECK_EQ(sys_sigprocmask(SIG_SETMASK, &orig, NULL), 0);
    CHECK_EQ(cur, ~0UL & ~(SIGBIT(SIGKILL) | SIGBIT(SIGSTOP)));
}

TEST(sigprocmask_libc_agrees_with_raw)
{
    sigset_t s, o;
    sigemptyset(&s);
    sigaddset(&s, SIGHUP);
    CHECK_OK(sigprocmask(SIG_BLOCK, &s, &o));
    unsigned long cur;
    CHECK_EQ(sys_sigprocmask(SIG_BLOCK, NULL, &cur), 0);
    CHECK(cur & SIGBIT(SIGHUP));
    CHECK_OK(sigprocmask(SIG_SETMASK, &o, NULL));
    CHECK_EQ(sys_sigprocmask(SIG_BLOCK, NULL, &cur), 0);
    CHECK_EQ(!!(cur & SIGBIT(SIGHUP)), sigismember(&o, SIGHUP));
}

TEST(sigprocmask_bad_how_einval)
{
    unsigned long set = SIGBIT(SIGUSR1);
    CHECK_ERRNO(sys_sigprocmask(99, &set, NULL), EINVAL);
}

TEST(sigprocmask_query_ignores_how)
{
    unsigned long cur;
    CHECK_EQ(sys_sigprocmask(99, NULL, &cur), 0);
}

TEST(sigprocmask_bad_sigsetsize_einval)
{
    unsigned long set = 0;
    CHECK_ERRNO(syscall(SYS_rt_sigprocmask, SIG_BLOCK, &set, NULL, 4), EINVAL);
}

/* ---- console ioctls ---- */

/* fd 1 is the console tty on POSIX-X and often a pipe on the host: either way the two
 * terminal ioctls and isatty() must agree, and a non-tty answers ENOTTY. */
TEST(tcgets_tiocgwinsz_and_isatty_agree_on_stdout)
{
    struct termios t;
    struct winsize ws;
    errno = 0;
    long a = syscall(SYS_ioctl, 1, TCGETS, &t);
    int ea = errno;
    errno = 0;
    long b = syscall(SYS_ioctl, 1, TIOCGWINSZ, &ws);
    int eb = errno;
    int tty = isatty(1);
    CHECK_EQ(a == 0, tty);
    CHECK_EQ(b == 0, tty);
    if (!tty) {
        CHECK_EQ(ea, ENOTTY);
        CHECK_EQ(eb, ENOTTY);
    }
}

TEST(tcgetattr_matches_raw_tcgets)
{
    struct termios a, b;
    if (!isatty(1))
        SKIP("stdout is not a terminal");
    CHECK_OK(tcgetattr(1, &a));
    CHECK_EQ(syscall(SYS_ioctl, 1, TCGETS, &b), 0);
    CHECK_EQ(a.c_iflag, b.c_iflag);
    CHECK_EQ(a.c_oflag, b.c_oflag);
    CHECK_EQ(a.c_cflag, b.c_cflag);
    CHECK_EQ(a.c_lflag, b.c_lflag);
}

TEST(tty_ioctl_bad_pointer_efault)
{
    volatile uintptr_t bad = 8;
    if (!isatty(1))
        SKIP("stdout is not a terminal");
    CHECK_ERRNO(syscall(SYS_ioctl, 1, TCGETS, (void *)bad), EFAULT);
    CHECK_ERRNO(syscall(SYS_ioctl, 1, TIOCGWINSZ, (void *)bad), EFAULT);
}

TEST(ioctl_bad_fd_ebadf)
{
    struct termios t;
    CHECK_ERRNO(syscall(SYS_ioctl, 99, TCGETS, &t), EBADF);
    CHECK_ERRNO(syscall(SYS_ioctl, -1, TCGETS, &t), EBADF);
}

/* ---- unknown syscalls ---- */

TEST(unknown_syscall_enosys)
{
    CHECK_ERRNO(syscall(1000), ENOSYS);
    CHECK_ERRNO(syscall(100000), ENOSYS);
    CHECK_ERRNO(syscall(-1L), ENOSYS);
}

/* ---- read/write/readv/writev ---- */

TEST(writev_three_iovecs_writes_their_sum)
{
    char a[] = "# writev: one", b[] = " two", c[] = " three\n";
    struct iovec iov[3] = {{a, strlen(a)}, {b, strlen(b)}, {c, strlen(c)}};
    CHECK_EQ(writev(1, iov, 3), strlen(a) + strlen(b) + strlen(c));
}

TEST(writev_zero_iovecs_returns_zero)
{
    struct iovec iov[1] = {{NULL, 0}};
    CHECK_EQ(writev(1, iov, 0), 0);
    CHECK_EQ(writev(1, iov, 1), 0);
}

TEST(writev_bad_count_einval)
{
    char a[] = "x";
    struct iovec iov[1] = {{a, 1}};
    CHECK_ERRNO(syscall(SYS_writev, 1, iov, -1), EINVAL);
    CHECK_ERRNO(syscall(SYS_writev, 1, iov, 1025), EINVAL); /* IOV_MAX is 1024 */
}

TEST(write_returns_count_on_stdout)
{
    static const char msg[] = "# write: hello\n";
    CHECK_EQ(write(1, msg, sizeof msg - 1), sizeof msg - 1);
}

TEST(write_zero_bytes_returns_zero)
{
    CHECK_EQ(write(1, "", 0), 0);
    CHECK_EQ(write(2, "", 0), 0);
}

TEST(write_bad_fd_ebadf)
{
    CHECK_ERRNO(write(99, "x", 1), EBADF);
    CHECK_ERRNO(write(-1, "x", 1), EBADF);
    CHECK_ERRNO(write(1 << 20, "x", 1), EBADF);
}

TEST(read_bad_fd_ebadf)
{
    char buf[4];
    CHECK_ERRNO(read(99, buf, sizeof buf), EBADF);
    CHECK_ERRNO(read(-1, buf, sizeof buf), EBADF);
}

TEST(readv_writev_bad_fd_ebadf)
{
    char buf[4];
    struct iovec iov[1] = {{buf, sizeof buf}};
    CHECK_ERRNO(readv(99, iov, 1), EBADF);
    CHECK_ERRNO(writev(99, iov, 1), EBADF);
}

TEST(read_zero_bytes_returns_zero)
{
    char buf[1];
    CHECK_EQ(read(0, buf, 0), 0); /* never blocks */
}
