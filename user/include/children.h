/* children.h - helpers for test cases that fork (include after test.h):
 *     CCHECK(cond)          in a child: cond is true, else report on stderr and _exit(1)
 *     CERRNO(expr, e)       in a child: expr returns -1 with errno e, else report and _exit(1)
 *     child_status(pid)     waitpid(pid) retried on EINTR: the wait status, or -1
 *     CHECK_CHILD_OK(pid)   in the parent: the child exited with status 0 (else FAIL)
 *     CHECK_EXITED(pid, c)  in the parent: the child called exit(c) (else FAIL)
 *     CHECK_KILLED(pid, s)  in the parent: the child died of signal s (else FAIL)
 *     proc_state(pid)       the state letter of /proc/<pid>/stat, or 0
 *     wait_sleeping(pid)    1 once pid is seen sleeping ('S', blocked), 0 after ~20 s
 *     read_byte(fd)         one byte (0..255) read (retried on EINTR), or -1
 *     write_byte(fd, c)     one byte written: 0, or -1
 */
#ifndef POSIX_X_CHILDREN_H
#define POSIX_X_CHILDREN_H

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* A check inside a forked child: report on stderr and exit 1 (the parent checks for 0). */
#define CCHECK(cond)                                                                  \
    do {                                                                              \
        if (!(cond)) {                                                                \
            dprintf(2, "# child %d: %s:%d: CCHECK(%s) failed (errno %d)\n",           \
                    (int)getpid(), __FILE__, __LINE__, #cond, errno);                 \
            _exit(1);                                                                 \
        }                                                                             \
    } while (0)

/* expr fails with errno e (in a child) */
#define CERRNO(expr, e)                                                               \
    do {                                                                              \
        errno = 0;                                                                    \
        long cr_ = (long)(expr);                                                      \
        if (cr_ != -1 || errno != (e)) {                                              \
            dprintf(2, "# child %d: %s:%d: %s returned %ld errno %d, wanted %s (%d)\n", \
                    (int)getpid(), __FILE__, __LINE__, #expr, cr_, errno, #e, (e));   \
            _exit(1);                                                                 \
        }                                                                             \
    } while (0)

__attribute__((unused)) static int child_status(pid_t pid)
{
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return -1;
    return st;
}

#define CHECK_CHILD_OK(pid)                                                           \
    do {                                                                              \
        int st_ = child_status(pid);                                                  \
        if (st_ != 0)                                                                 \
            FAIL("child status %#x (see stderr)", st_);                               \
    } while (0)

#define CHECK_EXITED(pid, code)                                                       \
    do {                                                                              \
        int st_ = child_status(pid);                                                  \
        if (st_ == -1)                                                                \
            FAIL("waitpid(%d) failed: %s", (int)(pid), strerror(errno));              \
        if (!WIFEXITED(st_) || WEXITSTATUS(st_) != (code))                            \
            FAIL("child %d: status %#x, expected exit(%d)", (int)(pid), st_, (code)); \
    } while (0)

#define CHECK_KILLED(pid, sig)                                                        \
    do {                                                                              \
        int st_ = child_status(pid);                                                  \
        if (st_ == -1)                                                                \
            FAIL("waitpid(%d) failed: %s", (int)(pid), strerror(errno));              \
        if (!WIFSIGNALED(st_) || WTERMSIG(st_) != (sig))                              \
            FAIL("child %d: status %#x, expected death by signal %d", (int)(pid), st_, \
                 (sig));                                                              \
    } while (0)

/* The state letter of /proc/<pid>/stat ('S' while blocked in a syscall), or 0. */
__attribute__((unused)) static char proc_state(pid_t pid)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    char *p = strrchr(buf, ')');
    return p && p[1] == ' ' ? p[2] : 0;
}

/* The handshake for "the peer is now blocked": polls /proc/<pid>/stat every millisecond until
 * it shows 'S'. Returns 1 then, 0 if the process is gone or ~20 s pass. */
__attribute__((unused)) static int wait_sleeping(pid_t pid)
{
    for (int i = 0; i < 20000; i++) {
        char c = proc_state(pid);
        if (c == 'S')
            return 1;
        if (c == 0)
            return 0;
        struct timespec t = {0, 1000000};
        nanosleep(&t, NULL);
    }
    return 0;
}

__attribute__((unused)) static int read_byte(int fd)
{
    char c;
    ssize_t r;
    do
        r = read(fd, &c, 1);
    while (r < 0 && errno == EINTR);
    return r == 1 ? (unsigned char)c : -1;
}

__attribute__((unused)) static int write_byte(int fd, char c) { return write(fd, &c, 1) == 1 ? 0 : -1; }

#endif /* POSIX_X_CHILDREN_H */
