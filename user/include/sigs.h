/* sigs.h - signal helpers for tests that change signal state (include after test.h):
 *     struct ksigaction     the kernel's struct sigaction on x86-64 (not libc's)
 *     KSIGSET_SIZE          the kernel's sigset size, for raw rt_sig* syscalls
 *     sig_defaults()        nothing blocked, nothing pending, every disposition SIG_DFL
 *     block(sig), unblock(sig)   one signal into / out of the mask (sigprocmask's result)
 *     is_blocked(sig)       1 if sig is in the mask
 *     is_pending(sig)       1 if sig is pending, 0 if not, -1 on error
 *     wait_sig(sig, si, ms) sigtimedwait for one signal (retried on EINTR): the signal or -1
 */
#ifndef POSIX_X_SIGS_H
#define POSIX_X_SIGS_H

#include <errno.h>
#include <signal.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define KSIGSET_SIZE 8

struct ksigaction {
    void *handler;
    unsigned long flags;
    void *restorer;
    unsigned long mask;
};

/* Drains what is pending with everything blocked, so no stray signal is delivered while the
 * dispositions go back to SIG_DFL. */
__attribute__((unused)) static void sig_defaults(void)
{
    sigset_t all, none;
    sigfillset(&all);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &all, NULL);
    struct timespec zero = {0, 0};
    while (sigtimedwait(&all, NULL, &zero) > 0)
        ;
    struct ksigaction dfl = {0};
    for (int s = 1; s <= 64; s++)
        if (s != SIGKILL && s != SIGSTOP)
            syscall(SYS_rt_sigaction, s, &dfl, NULL, KSIGSET_SIZE);
    sigprocmask(SIG_SETMASK, &none, NULL);
}

__attribute__((unused)) static int block(int sig)
{
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, sig);
    return sigprocmask(SIG_BLOCK, &s, NULL);
}

__attribute__((unused)) static int unblock(int sig)
{
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, sig);
    return sigprocmask(SIG_UNBLOCK, &s, NULL);
}

__attribute__((unused)) static int is_blocked(int sig)
{
    sigset_t s;
    sigprocmask(SIG_BLOCK, NULL, &s);
    return sigismember(&s, sig);
}

__attribute__((unused)) static int is_pending(int sig)
{
    sigset_t s;
    sigemptyset(&s);
    if (sigpending(&s) != 0)
        return -1;
    return sigismember(&s, sig);
}

__attribute__((unused)) static int wait_sig(int sig, siginfo_t *si, long ms)
{
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, sig);
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    int r;
    do
        r = sigtimedwait(&s, si, &ts);
    while (r < 0 && errno == EINTR);
    return r;
}

#endif /* POSIX_X_SIGS_H */
