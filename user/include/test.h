/* test.h - a tiny TAP-like test harness for POSIX-X guest tests (C11, gcc and musl-gcc).
 *
 * Usage (one test program per file):
 *
 *     #define TEST_MAIN            // this file gets main()
 *     #include "test.h"
 *
 *     TEST(brk_returns_current_break) {
 *         long b = syscall(SYS_brk, 0);
 *         CHECK(b > 0);
 *         CHECK_EQ(syscall(SYS_brk, b), b);
 *     }
 *
 * Every TEST registers itself (a constructor) and main() runs them in source order. Each case
 * prints exactly one line on fd 1:
 *
 *     ok N - name
 *     ok N - name # SKIP reason
 *     not ok N - name: file:line: detail
 *
 * then main prints "# P passed, F failed" and exits 0 iff F == 0. Other lines a test writes
 * should start with "# " (TAP comments).
 *
 * Checks (all end the current function with `return` on failure; only the first failure of a
 * case is reported, later ones are ignored):
 *     CHECK(cond)            cond is true
 *     CHECK_EQ(a, b)         (long long)a == (long long)b, prints both values
 *     CHECK_NE(a, b)         (long long)a != (long long)b
 *     CHECK_ERRNO(expr, E)   expr evaluates to -1 and sets errno to E (prints errno's name)
 *     CHECK_OK(expr)         expr is not -1 (prints strerror(errno) otherwise)
 *     FAIL(fmt, ...)         fail unconditionally with a printf-style detail
 *     SKIP(fmt, ...)         end the case, reported as ok with "# SKIP detail"
 * A check inside a helper function returns from the helper only; the case is still marked as
 * failed. Use `if (test_failed()) return;` after such a helper if the case must stop there.
 *
 * The case lines are written with write(2) after fflush(stdout), so output is never duplicated
 * by a later fork() of a case and never reordered with the test's own printf output.
 * test_argc / test_argv / test_envp hold main's arguments.
 *
 * Small helpers many tests want:
 *     bad_ptr(v)             v as a pointer the compiler cannot see through (for EFAULT cases)
 *     now_ns()               CLOCK_MONOTONIC in nanoseconds
 *     on_posix_x()           true in the POSIX-X guest (uname's version names it), false on
 *                            Linux: for the few cases Linux cannot run safely natively (a fork
 *                            bomb as root, filling the host's memory), which then SKIP there
 */
#ifndef POSIX_X_TEST_H
#define POSIX_X_TEST_H

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/utsname.h>
#include <unistd.h>

/* An address laundered through a volatile so the compiler keeps a deliberately bad pointer. */
__attribute__((unused)) static void *bad_ptr(uintptr_t v)
{
    volatile uintptr_t x = v;
    return (void *)x;
}

__attribute__((unused)) static int on_posix_x(void)
{
    struct utsname u;
    return uname(&u) == 0 && strstr(u.version, "POSIX-X") != NULL;
}

__attribute__((unused)) static long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

#define TEST_MAX_CASES 512

typedef void (*test_fn_t)(void);

struct test_case_ {
    const char *name;
    test_fn_t fn;
    int line;
};

static struct test_case_ test_cases_[TEST_MAX_CASES];
static int test_ncases_;
static int test_failed_;            /* the current case failed */
static int test_skipped_;           /* the current case was skipped */
static char test_detail_[512];      /* first failure (or skip reason) of the current case */

static int test_argc __attribute__((unused));
static char **test_argv __attribute__((unused));
static char **test_envp __attribute__((unused));

__attribute__((unused)) static void test_register_(const char *name, test_fn_t fn, int line)
{
    if (test_ncases_ >= TEST_MAX_CASES) {
        static const char msg[] = "test.h: too many cases (raise TEST_MAX_CASES)\n";
        (void)!write(2, msg, sizeof msg - 1);
        _exit(2);
    }
    test_cases_[test_ncases_].name = name;
    test_cases_[test_ncases_].fn = fn;
    test_cases_[test_ncases_].line = line;
    test_ncases_++;
}

__attribute__((unused)) static int test_failed(void) { return test_failed_; }

__attribute__((unused, format(printf, 3, 4)))
static void test_fail_(const char *file, int line, const char *fmt, ...)
{
    if (test_failed_)
        return;
    test_failed_ = 1;
    int n = snprintf(test_detail_, sizeof test_detail_, "%s:%d: ", file, line);
    if (n < 0 || (size_t)n >= sizeof test_detail_)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(test_detail_ + n, sizeof test_detail_ - (size_t)n, fmt, ap);
    va_end(ap);
}

__attribute__((unused, format(printf, 1, 2)))
static void test_skip_(const char *fmt, ...)
{
    test_skipped_ = 1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(test_detail_, sizeof test_detail_, fmt, ap);
    va_end(ap);
}

/* The symbolic name of an errno value ("EFAULT"), or "E?" if unknown. */
__attribute__((unused)) static const char *test_errno_name(int e)
{
    switch (e) {
#define TEST_E_(x) case x: return #x;
    TEST_E_(EPERM) TEST_E_(ENOENT) TEST_E_(ESRCH) TEST_E_(EINTR) TEST_E_(EIO) TEST_E_(ENXIO)
    TEST_E_(E2BIG) TEST_E_(ENOEXEC) TEST_E_(EBADF) TEST_E_(ECHILD) TEST_E_(EAGAIN)
    TEST_E_(ENOMEM) TEST_E_(EACCES) TEST_E_(EFAULT) TEST_E_(EBUSY) TEST_E_(EEXIST)
    TEST_E_(EXDEV) TEST_E_(ENODEV) TEST_E_(ENOTDIR) TEST_E_(EISDIR) TEST_E_(EINVAL)
    TEST_E_(ENFILE) TEST_E_(EMFILE) TEST_E_(ENOTTY) TEST_E_(EFBIG) TEST_E_(ENOSPC)
    TEST_E_(ESPIPE) TEST_E_(EROFS) TEST_E_(EMLINK) TEST_E_(EPIPE) TEST_E_(EDOM) TEST_E_(ERANGE)
    TEST_E_(EDEADLK) TEST_E_(ENAMETOOLONG) TEST_E_(ENOSYS) TEST_E_(ENOTEMPTY) TEST_E_(ELOOP)
    TEST_E_(ENOMSG) TEST_E_(EIDRM) TEST_E_(EOVERFLOW) TEST_E_(ENOTSOCK) TEST_E_(EDESTADDRREQ)
    TEST_E_(EMSGSIZE) TEST_E_(EPROTOTYPE) TEST_E_(ENOPROTOOPT) TEST_E_(EPROTONOSUPPORT)
    TEST_E_(EOPNOTSUPP) TEST_E_(EAFNOSUPPORT) TEST_E_(EADDRINUSE) TEST_E_(EADDRNOTAVAIL)
    TEST_E_(ENETUNREACH) TEST_E_(ECONNABORTED) TEST_E_(ECONNRESET) TEST_E_(ENOBUFS)
    TEST_E_(EISCONN) TEST_E_(ENOTCONN) TEST_E_(ETIMEDOUT) TEST_E_(ECONNREFUSED)
    TEST_E_(EALREADY) TEST_E_(EINPROGRESS)
#undef TEST_E_
    default: return "E?";
    }
}

#define TEST(name)                                                                    \
    static void test_fn_##name(void);                                                 \
    __attribute__((constructor)) static void test_reg_##name(void)                    \
    {                                                                                 \
        test_register_(#name, test_fn_##name, __LINE__);                              \
    }                                                                                 \
    static void test_fn_##name(void)

#define FAIL(...)                                                                     \
    do {                                                                              \
        test_fail_(__FILE__, __LINE__, __VA_ARGS__);                                  \
        return;                                                                       \
    } while (0)

#define SKIP(...)                                                                     \
    do {                                                                              \
        test_skip_(__VA_ARGS__);                                                      \
        return;                                                                       \
    } while (0)

#define CHECK(cond)                                                                   \
    do {                                                                              \
        if (!(cond))                                                                  \
            FAIL("CHECK(%s) failed", #cond);                                          \
    } while (0)

#define CHECK_EQ(a, b)                                                                \
    do {                                                                              \
        long long test_a_ = (long long)(a), test_b_ = (long long)(b);                 \
        if (test_a_ != test_b_)                                                       \
            FAIL("CHECK_EQ(%s, %s): %lld (%#llx) != %lld (%#llx)", #a, #b, test_a_,   \
                 (unsigned long long)test_a_, test_b_, (unsigned long long)test_b_);  \
    } while (0)

#define CHECK_NE(a, b)                                                                \
    do {                                                                              \
        long long test_a_ = (long long)(a), test_b_ = (long long)(b);                 \
        if (test_a_ == test_b_)                                                       \
            FAIL("CHECK_NE(%s, %s): both are %lld (%#llx)", #a, #b, test_a_,          \
                 (unsigned long long)test_a_);                                        \
    } while (0)

#define CHECK_ERRNO(expr, err)                                                        \
    do {                                                                              \
        errno = 0;                                                                    \
        long long test_r_ = (long long)(expr);                                        \
        int test_e_ = errno;                                                          \
        if (test_r_ != -1)                                                            \
            FAIL("CHECK_ERRNO(%s, %s): returned %lld, not -1 (errno %s/%d)", #expr,   \
                 #err, test_r_, test_errno_name(test_e_), test_e_);                   \
        if (test_e_ != (err))                                                         \
            FAIL("CHECK_ERRNO(%s, %s): errno is %s (%d): %s", #expr, #err,            \
                 test_errno_name(test_e_), test_e_, strerror(test_e_));               \
    } while (0)

#define CHECK_OK(expr)                                                                \
    do {                                                                              \
        errno = 0;                                                                    \
        long long test_r_ = (long long)(expr);                                        \
        int test_e_ = errno;                                                          \
        if (test_r_ == -1)                                                            \
            FAIL("CHECK_OK(%s): -1, errno %s (%d): %s", #expr, test_errno_name(test_e_),  \
                 test_e_, strerror(test_e_));                                         \
    } while (0)

/* Write a whole buffer to fd 1, retrying short writes; errors are ignored. */
__attribute__((unused)) static void test_write_all_(const char *s, size_t n)
{
    while (n > 0) {
        ssize_t w = write(1, s, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        s += w;
        n -= (size_t)w;
    }
}

/* Run every registered case in source order; returns the number of failures. */
__attribute__((unused)) static int test_run_all(void)
{
    /* Constructors may run in any order: sort by line (insertion sort, stable). */
    for (int i = 1; i < test_ncases_; i++) {
        struct test_case_ c = test_cases_[i];
        int j = i - 1;
        while (j >= 0 && test_cases_[j].line > c.line) {
            test_cases_[j + 1] = test_cases_[j];
            j--;
        }
        test_cases_[j + 1] = c;
    }

    int passed = 0, failed = 0;
    char line[700];
    for (int i = 0; i < test_ncases_; i++) {
        test_failed_ = 0;
        test_skipped_ = 0;
        test_detail_[0] = '\0';
        test_cases_[i].fn();
        fflush(stdout);
        int n;
        if (test_failed_) {
            failed++;
            n = snprintf(line, sizeof line, "not ok %d - %s: %s\n", i + 1, test_cases_[i].name,
                         test_detail_);
        } else if (test_skipped_) {
            passed++;
            n = snprintf(line, sizeof line, "ok %d - %s # SKIP %s\n", i + 1, test_cases_[i].name,
                         test_detail_);
        } else {
            passed++;
            n = snprintf(line, sizeof line, "ok %d - %s\n", i + 1, test_cases_[i].name);
        }
        if (n < 0)
            n = 0;
        if ((size_t)n >= sizeof line) {
            n = sizeof line - 1;
            line[n - 1] = '\n';
        }
        test_write_all_(line, (size_t)n);
    }
    int n = snprintf(line, sizeof line, "# %d passed, %d failed\n", passed, failed);
    test_write_all_(line, (size_t)n);
    return failed;
}

#ifdef TEST_MAIN
int main(int argc, char **argv, char **envp)
{
    test_argc = argc;
    test_argv = argv;
    test_envp = envp;
    return test_run_all() == 0 ? 0 : 1;
}
#endif

#endif /* POSIX_X_TEST_H */
