/* priority.c - getpriority/setpriority (nice values: clamping, targets, inheritance,
 * /proc/<pid>/stat, EPERM/EACCES for other users and for lowering without CAP_SYS_NICE) and
 * ioprio_get/ioprio_set (classes, checks, inheritance, permissions). Every change happens in
 * a forked child, so the harness's own priority is never touched.
 */
#define _GNU_SOURCE
#define TEST_MAIN
#include "test.h"
#include "children.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#define NOBODY 65534
#define IOPRIO_WHO_PROCESS 1
#define IOPRIO_WHO_PGRP 2
#define IOPRIO_WHO_USER 3
#define IOPRIO(class, level) ((class) << 13 | (level))

/* The nice value field (19th) of /proc/self/stat, or -100. */
static int stat_nice(void)
{
    char buf[1024];
    int fd = open("/proc/self/stat", O_RDONLY);
    ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
    if (fd >= 0)
        close(fd);
    if (n <= 0)
        return -100;
    buf[n] = 0;
    char *p = strrchr(buf, ')');
    int field = 2, nice = -100;
    for (; p && *p; p++)
        if (*p == ' ' && ++field == 19) {
            nice = atoi(p + 1);
            break;
        }
    return nice;
}

static pid_t reaped_pid(void)
{
    pid_t pid = fork();
    if (pid == 0)
        _exit(0);
    child_status(pid);
    return pid;
}

TEST(nice_is_set_read_clamped_and_inherited)
{
    pid_t pid = fork();
    if (pid == 0) {
        CCHECK(setpriority(PRIO_PROCESS, 0, 5) == 0);
        errno = 0;
        CCHECK(getpriority(PRIO_PROCESS, 0) == 5 && errno == 0);
        CCHECK(getpriority(PRIO_PROCESS, getpid()) == 5);
        /* The raw call answers 20 - nice. */
        CCHECK(syscall(SYS_getpriority, PRIO_PROCESS, 0) == 15);
        CCHECK(stat_nice() == 5);
        CCHECK(setpriority(PRIO_PROCESS, 0, 100) == 0);
        CCHECK(getpriority(PRIO_PROCESS, 0) == 19);
        pid_t g = fork();
        if (g == 0)
            _exit(getpriority(PRIO_PROCESS, 0) == 19 ? 0 : 1);
        CCHECK(child_status(g) == 0);
        /* A process group of one. */
        CCHECK(setpgid(0, 0) == 0);
        CCHECK(setpriority(PRIO_PGRP, 0, 7) == 0);
        CCHECK(getpriority(PRIO_PGRP, 0) == 7);
        CCHECK(getpriority(PRIO_PROCESS, 0) == 7);
        if (getuid() == 0) {
            CCHECK(setpriority(PRIO_PROCESS, 0, -100) == 0);
            CCHECK(getpriority(PRIO_PROCESS, 0) == -20);
        }
        _exit(0);
    }
    CHECK_CHILD_OK(pid);
}

TEST(priority_errors)
{
    CHECK_ERRNO(getpriority(3, 0), EINVAL);
    CHECK_ERRNO(setpriority(-1, 0, 0), EINVAL);
    pid_t gone = reaped_pid();
    CHECK_ERRNO(getpriority(PRIO_PROCESS, gone), ESRCH);
    CHECK_ERRNO(setpriority(PRIO_PROCESS, gone, 0), ESRCH);
    CHECK_ERRNO(getpriority(PRIO_PGRP, gone), ESRCH);
    CHECK_ERRNO(getpriority(PRIO_USER, 4242), ESRCH);
}

TEST(nobody_may_raise_but_not_lower_nor_touch_others)
{
    if (getuid() != 0)
        SKIP("needs root");
    pid_t pid = fork();
    if (pid == 0) {
        struct rlimit zero = { 0, 0 };
        CCHECK(setrlimit(RLIMIT_NICE, &zero) == 0);
        CCHECK(setgid(NOBODY) == 0 && setuid(NOBODY) == 0);
        CCHECK(setpriority(PRIO_PROCESS, 0, 10) == 0);
        CERRNO(setpriority(PRIO_PROCESS, 0, 5), EACCES);
        CCHECK(getpriority(PRIO_PROCESS, 0) == 10);
        CCHECK(setpriority(PRIO_PROCESS, 0, 10) == 0); /* the same value is no lowering */
        CERRNO(setpriority(PRIO_PROCESS, getppid(), 19), EPERM);
        /* Reading needs no permission. */
        errno = 0;
        getpriority(PRIO_PROCESS, getppid());
        CCHECK(errno == 0);
        _exit(0);
    }
    CHECK_CHILD_OK(pid);
}

TEST(rlimit_nice_allows_lowering)
{
    if (getuid() != 0)
        SKIP("needs root");
    pid_t pid = fork();
    if (pid == 0) {
        CCHECK(setpriority(PRIO_PROCESS, 0, 10) == 0);
        /* RLIMIT_NICE 15: down to nice 20 - 15 = 5. */
        struct rlimit r = { 15, 15 };
        if (setrlimit(RLIMIT_NICE, &r) != 0 && errno == EPERM)
            _exit(77); /* no CAP_SYS_RESOURCE (a container) */
        CCHECK(getrlimit(RLIMIT_NICE, &r) == 0 && r.rlim_cur == 15);
        CCHECK(setgid(NOBODY) == 0 && setuid(NOBODY) == 0);
        CCHECK(setpriority(PRIO_PROCESS, 0, 5) == 0);
        CERRNO(setpriority(PRIO_PROCESS, 0, 4), EACCES);
        CCHECK(getpriority(PRIO_PROCESS, 0) == 5);
        _exit(0);
    }
    int st = child_status(pid);
    if (WIFEXITED(st) && WEXITSTATUS(st) == 77)
        SKIP("raising RLIMIT_NICE needs CAP_SYS_RESOURCE, which this root lacks");
    CHECK_EQ(st, 0);
}

TEST(ioprio_set_get_and_inherit)
{
    pid_t pid = fork();
    if (pid == 0) {
        CCHECK(syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS, 0, IOPRIO(2, 3)) == 0);
        CCHECK(syscall(SYS_ioprio_get, IOPRIO_WHO_PROCESS, 0) == IOPRIO(2, 3));
        CCHECK(syscall(SYS_ioprio_get, IOPRIO_WHO_PROCESS, getpid()) == IOPRIO(2, 3));
        pid_t g = fork();
        if (g == 0)
            _exit(syscall(SYS_ioprio_get, IOPRIO_WHO_PROCESS, 0) == IOPRIO(2, 3) ? 0 : 1);
        CCHECK(child_status(g) == 0);
        CCHECK(syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS, 0, IOPRIO(3, 0)) == 0);
        CCHECK(syscall(SYS_ioprio_get, IOPRIO_WHO_PROCESS, 0) == IOPRIO(3, 0));
        CCHECK(setpgid(0, 0) == 0);
        CCHECK(syscall(SYS_ioprio_set, IOPRIO_WHO_PGRP, 0, IOPRIO(2, 1)) == 0);
        CCHECK(syscall(SYS_ioprio_get, IOPRIO_WHO_PGRP, 0) == IOPRIO(2, 1));
        /* No class 4; the "none" class has no level. */
        CERRNO(syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS, 0, IOPRIO(4, 0)), EINVAL);
        CERRNO(syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS, 0, IOPRIO(0, 1)), EINVAL);
        CERRNO(syscall(SYS_ioprio_get, 0, 0), EINVAL);
        CERRNO(syscall(SYS_ioprio_get, 4, 0), EINVAL);
        _exit(0);
    }
    CHECK_CHILD_OK(pid);
    pid_t gone = reaped_pid();
    CHECK_ERRNO(syscall(SYS_ioprio_get, IOPRIO_WHO_PROCESS, gone), ESRCH);
    CHECK_ERRNO(syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS, gone, IOPRIO(2, 0)), ESRCH);
}

TEST(ioprio_as_nobody)
{
    if (getuid() != 0)
        SKIP("needs root");
    pid_t pid = fork();
    if (pid == 0) {
        CCHECK(setgid(NOBODY) == 0 && setuid(NOBODY) == 0);
        /* The real-time class needs CAP_SYS_NICE or CAP_SYS_ADMIN. */
        CERRNO(syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS, 0, IOPRIO(1, 0)), EPERM);
        CCHECK(syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS, 0, IOPRIO(2, 7)) == 0);
        CERRNO(syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS, getppid(), IOPRIO(2, 7)), EPERM);
        _exit(0);
    }
    CHECK_CHILD_OK(pid);
}
