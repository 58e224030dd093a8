/* process_vm.c - process_vm_readv/process_vm_writev: reading and writing a child's memory
 * (scattered on both sides), the partial count at the first bad remote address, EFAULT,
 * EINVAL for flags, ESRCH, and EPERM when the caller may not inspect the target (another user
 * without CAP_SYS_PTRACE).
 */
#define _GNU_SOURCE
#define TEST_MAIN
#include "test.h"
#include "children.h"

#include <sys/uio.h>

#define NOBODY 65534

static char area[3 * 4096];

/* A child that fills `area` with `fill`, says so on `ready`, then waits for a byte on `go`
 * and exits 0 if `area` then starts with `expect` (NULL: just exits 0). */
static pid_t spawn(char fill, const char *expect, int ready[2], int go[2])
{
    if (pipe(ready) || pipe(go))
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        memset(area, fill, sizeof area);
        write_byte(ready[1], 1);
        read_byte(go[0]);
        _exit(expect && memcmp(area, expect, strlen(expect)) != 0 ? 1 : 0);
    }
    read_byte(ready[0]);
    return pid;
}

static void finish(pid_t pid, int ready[2], int go[2])
{
    write_byte(go[1], 1);
    close(ready[0]);
    close(ready[1]);
    close(go[0]);
    close(go[1]);
}

TEST(read_a_childs_memory)
{
    int ready[2], go[2];
    pid_t pid = spawn('c', NULL, ready, go);
    CHECK(pid > 0);
    char a[10], b[5000];
    struct iovec local[2] = { { a, sizeof a }, { b, sizeof b } };
    struct iovec remote[2] = { { area, 4000 }, { area + 8000, 1010 } };
    CHECK_EQ(process_vm_readv(pid, local, 2, remote, 2, 0), 5010);
    CHECK_EQ(a[0], 'c');
    CHECK_EQ(b[4999], 'c');
    /* The second remote piece bad: the first one's bytes. */
    struct iovec partial[2] = { { area, 10 }, { NULL, 100 } };
    CHECK_EQ(process_vm_readv(pid, local, 2, partial, 2, 0), 10);
    CHECK_ERRNO(process_vm_readv(pid, local, 2, partial + 1, 1, 0), EFAULT);
    CHECK_ERRNO(process_vm_readv(pid, local, 2, remote, 2, 1), EINVAL);
    /* Nothing to copy. */
    struct iovec none = { a, 0 };
    CHECK_EQ(process_vm_readv(pid, &none, 1, remote, 2, 0), 0);
    finish(pid, ready, go);
    CHECK_CHILD_OK(pid);
    CHECK_ERRNO(process_vm_readv(pid, local, 2, remote, 2, 0), ESRCH);
}

TEST(write_a_childs_memory)
{
    int ready[2], go[2];
    pid_t pid = spawn('c', "hello, child", ready, go);
    CHECK(pid > 0);
    char h[] = "hello, ", c[] = "child";
    struct iovec local[2] = { { h, 7 }, { c, 5 } };
    struct iovec remote[2] = { { area, 3 }, { area + 3, 9 } };
    CHECK_EQ(process_vm_writev(pid, local, 2, remote, 2, 0), 12);
    finish(pid, ready, go);
    CHECK_CHILD_OK(pid);
}

TEST(own_memory_and_bad_local)
{
    static char src[] = "mine";
    char dst[4];
    struct iovec local = { dst, 4 }, remote = { src, 4 };
    CHECK_EQ(process_vm_readv(getpid(), &local, 1, &remote, 1, 0), 4);
    CHECK(memcmp(dst, "mine", 4) == 0);
    struct iovec bad = { bad_ptr(8), 4 };
    CHECK_ERRNO(process_vm_readv(getpid(), &bad, 1, &remote, 1, 0), EFAULT);
    CHECK_ERRNO(process_vm_readv(getpid(), &local, 1, &remote, 2000, 0), EINVAL);
}

TEST(another_users_process_is_eperm)
{
    if (getuid() != 0)
        SKIP("needs root");
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        char dst[4];
        struct iovec local = { dst, 4 }, remote = { area, 4 };
        CCHECK(setgid(NOBODY) == 0 && setuid(NOBODY) == 0);
        CERRNO(process_vm_readv(parent, &local, 1, &remote, 1, 0), EPERM);
        CERRNO(process_vm_writev(parent, &local, 1, &remote, 1, 0), EPERM);
        _exit(0);
    }
    CHECK_CHILD_OK(pid);
}
