/* memfd.c - memfd_create(2) and file seals: a nameless regular file (mode 0777, no links, a
 * "/memfd:NAME (deleted)" link in /proc) that read/write/lseek/ftruncate/fstat treat like any
 * file, shared through mmap with a child and passed to another process with SCM_RIGHTS; seals:
 * F_SEAL_SEAL unless MFD_ALLOW_SEALING, then F_SEAL_WRITE (EBUSY while a writable shared
 * mapping exists; write, writable shared mmap and mprotect to writable refused; private
 * mappings fine), F_SEAL_SHRINK, F_SEAL_GROW, F_SEAL_SEAL, MFD_NOEXEC_SEAL (mode 0666,
 * F_SEAL_EXEC, chmod refused); the errors of both calls; a plain tmpfs file reports F_SEAL_SEAL
 * and a pipe has no seals; /proc/self/fd/N reopens the memfd itself (a new description).
 * Syscalls: memfd_create, fcntl, read, write, pread64, lseek, ftruncate, fstat, fchmod, mmap,
 * munmap, mprotect, readlink, socketpair, sendmsg, recvmsg, fork, wait4.
 */
#define _GNU_SOURCE
#define TEST_MAIN
#include "test.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "children.h"

#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL 8U
#define MFD_EXEC 0x10U
#endif
#ifndef F_SEAL_EXEC
#define F_SEAL_EXEC 0x20
#endif

static int memfd(const char *name, unsigned flags) { return (int)syscall(SYS_memfd_create, name, flags); }

static int seals_of(int fd) { return fcntl(fd, F_GET_SEALS); }

TEST(a_memfd_is_a_nameless_regular_file)
{
    int fd = memfd("hello", MFD_CLOEXEC);
    CHECK(fd >= 0);
    struct stat st;
    CHECK_OK(fstat(fd, &st));
    CHECK_EQ(st.st_mode, S_IFREG | 0777);
    CHECK_EQ(st.st_nlink, 0);
    CHECK_EQ(st.st_size, 0);
    CHECK_EQ(fcntl(fd, F_GETFD), FD_CLOEXEC);
    CHECK_EQ(fcntl(fd, F_GETFL) & O_ACCMODE, O_RDWR);
    char link[64], target[128];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, target, sizeof target - 1);
    CHECK(n > 0);
    target[n] = '\0';
    CHECK(strcmp(target, "/memfd:hello (deleted)") == 0);
    int plain = memfd("", 0);
    CHECK(plain >= 0);
    CHECK_EQ(fcntl(plain, F_GETFD), 0);
    close(plain);
    close(fd);
}

TEST(read_write_seek_truncate_like_a_file)
{
    int fd = memfd("rw", 0);
    CHECK(fd >= 0);
    CHECK_EQ(write(fd, "hello world", 11), 11);
    CHECK_EQ(lseek(fd, 0, SEEK_CUR), 11);
    CHECK_EQ(lseek(fd, -5, SEEK_END), 6);
    char buf[8] = {0};
    CHECK_EQ(read(fd, buf, 5), 5);
    CHECK(memcmp(buf, "world", 5) == 0);
    CHECK_OK(ftruncate(fd, 5));
    CHECK_EQ(pread(fd, buf, sizeof buf, 0), 5);
    CHECK(memcmp(buf, "hello", 5) == 0);
    CHECK_OK(ftruncate(fd, 1 << 20));
    struct stat st;
    CHECK_OK(fstat(fd, &st));
    CHECK_EQ(st.st_size, 1 << 20);
    close(fd);
}

TEST(shared_mapping_between_parent_and_child)
{
    int fd = memfd("shm", 0);
    CHECK(fd >= 0);
    CHECK_OK(ftruncate(fd, 4096));
    char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK(p != MAP_FAILED);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        memcpy(p, "from the child", 15);
        _exit(0);
    }
    CHECK_CHILD_OK(pid);
    char buf[16] = {0};
    CHECK_EQ(pread(fd, buf, 15, 0), 15);
    CHECK(strcmp(buf, "from the child") == 0);
    munmap(p, 4096);
    close(fd);
}

/* Sends fd over the unix socket s with SCM_RIGHTS. */
static int send_fd(int s, int fd)
{
    char byte = 'f';
    struct iovec iov = {&byte, 1};
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } u;
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf};
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof fd);
    return sendmsg(s, &m, 0) == 1 ? 0 : -1;
}

static int recv_fd(int s)
{
    char byte;
    struct iovec iov = {&byte, 1};
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } u;
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf};
    if (recvmsg(s, &m, 0) != 1)
        return -1;
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    if (!c || c->cmsg_type != SCM_RIGHTS)
        return -1;
    int fd;
    memcpy(&fd, CMSG_DATA(c), sizeof fd);
    return fd;
}

TEST(passed_with_scm_rights_and_sealed_for_the_receiver)
{
    int sv[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        /* The receiver: checks the seals before trusting the memory. */
        close(sv[0]);
        int fd = recv_fd(sv[1]);
        CCHECK(fd >= 0);
        CCHECK(seals_of(fd) == (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE));
        char *p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
        CCHECK(p != MAP_FAILED);
        CCHECK(strcmp(p, "sealed message") == 0);
        CERRNO(ftruncate(fd, 0), EPERM);
        _exit(0);
    }
    close(sv[1]);
    int fd = memfd("msg", MFD_ALLOW_SEALING | MFD_CLOEXEC);
    CHECK(fd >= 0);
    CHECK_OK(ftruncate(fd, 4096));
    CHECK_EQ(pwrite(fd, "sealed message", 15, 0), 15);
    CHECK_OK(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL));
    CHECK_OK(send_fd(sv[0], fd));
    close(fd);
    CHECK_CHILD_OK(pid);
    close(sv[0]);
}

TEST(without_allow_sealing_the_file_is_sealed_against_seals)
{
    int fd = memfd("nos", 0);
    CHECK(fd >= 0);
    CHECK_EQ(seals_of(fd), F_SEAL_SEAL);
    CHECK_ERRNO(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE), EPERM);
    close(fd);
    /* A plain tmpfs file is the same; a pipe has no seals at all. */
    char path[64];
    snprintf(path, sizeof path, "/dev/shm/memfd-test-%d", getpid());
    int t = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
    CHECK(t >= 0);
    unlink(path);
    CHECK_EQ(seals_of(t), F_SEAL_SEAL);
    close(t);
    int p[2];
    CHECK_OK(pipe(p));
    CHECK_ERRNO(seals_of(p[0]), EINVAL);
    CHECK_ERRNO(fcntl(p[1], F_ADD_SEALS, F_SEAL_GROW), EINVAL);
    close(p[0]);
    close(p[1]);
}

TEST(seal_write_waits_for_no_writable_mapping_then_stops_every_write)
{
    int fd = memfd("w", MFD_ALLOW_SEALING);
    CHECK(fd >= 0);
    CHECK_EQ(seals_of(fd), 0);
    CHECK_OK(ftruncate(fd, 4096));
    char *w = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK(w != MAP_FAILED);
    CHECK_ERRNO(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE), EBUSY);
    CHECK_OK(munmap(w, 4096));
    CHECK_OK(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE));
    CHECK_EQ(seals_of(fd), F_SEAL_WRITE);
    CHECK_ERRNO(write(fd, "x", 1), EPERM);
    CHECK_ERRNO(pwrite(fd, "x", 1, 100), EPERM);
    CHECK(mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) == MAP_FAILED && errno == EPERM);
    char *r = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
    CHECK(r != MAP_FAILED);
    CHECK_ERRNO(mprotect(r, 4096, PROT_READ | PROT_WRITE), EACCES);
    char *priv = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    CHECK(priv != MAP_FAILED); /* a private copy may change */
    priv[0] = 'p';
    CHECK_OK(ftruncate(fd, 8192)); /* size is not content */
    munmap(priv, 4096);
    munmap(r, 4096);
    close(fd);
}

TEST(seal_shrink_grow_and_seal)
{
    int fd = memfd("sg", MFD_ALLOW_SEALING);
    CHECK(fd >= 0);
    CHECK_EQ(write(fd, "0123456789", 10), 10);
    CHECK_OK(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK));
    CHECK_ERRNO(ftruncate(fd, 5), EPERM);
    CHECK_OK(ftruncate(fd, 20));
    CHECK_OK(fcntl(fd, F_ADD_SEALS, F_SEAL_GROW));
    CHECK_ERRNO(ftruncate(fd, 21), EPERM);
    CHECK_ERRNO(pwrite(fd, "xy", 2, 19), EPERM); /* would end past 20 */
    CHECK_EQ(pwrite(fd, "ab", 2, 0), 2);          /* inside: fine */
    CHECK_OK(ftruncate(fd, 20));                  /* the same size: fine */
    CHECK_ERRNO(fcntl(fd, F_ADD_SEALS, 0x100), EINVAL);
    CHECK_OK(fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL));
    CHECK_ERRNO(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE), EPERM);
    CHECK_EQ(seals_of(fd), F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL);
    close(fd);
}

TEST(noexec_seal_makes_mode_0666_and_refuses_chmod)
{
    int fd = memfd("ne", MFD_NOEXEC_SEAL);
    CHECK(fd >= 0);
    struct stat st;
    CHECK_OK(fstat(fd, &st));
    CHECK_EQ(st.st_mode, S_IFREG | 0666);
    CHECK_EQ(seals_of(fd), F_SEAL_EXEC);
    CHECK_ERRNO(fchmod(fd, 0755), EPERM);
    CHECK_OK(fchmod(fd, 0644)); /* no exec bit changes: allowed */
    CHECK_OK(fcntl(fd, F_ADD_SEALS, F_SEAL_GROW)); /* sealing is allowed */
    close(fd);
}

TEST(reopened_through_proc_fd_it_is_the_same_file)
{
    int fd = memfd("again", MFD_ALLOW_SEALING);
    CHECK(fd >= 0);
    CHECK_EQ(write(fd, "same", 4), 4);
    char link[64];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    int ro = open(link, O_RDONLY);
    CHECK(ro >= 0);
    char buf[8] = {0};
    CHECK_EQ(read(ro, buf, sizeof buf), 4);
    CHECK(memcmp(buf, "same", 4) == 0);
    struct stat a, b;
    CHECK_OK(fstat(fd, &a));
    CHECK_OK(fstat(ro, &b));
    CHECK(a.st_dev == b.st_dev && a.st_ino == b.st_ino);
    CHECK_ERRNO(fcntl(ro, F_ADD_SEALS, F_SEAL_GROW), EPERM); /* sealing needs a writable descriptor */
    CHECK_EQ(lseek(ro, 0, SEEK_CUR), 4);                      /* its own offset */
    CHECK_EQ(lseek(fd, 0, SEEK_SET), 0);
    CHECK_EQ(lseek(ro, 0, SEEK_CUR), 4);
    close(ro);
    close(fd);
}

TEST(memfd_create_errors)
{
    CHECK_ERRNO(memfd("x", 0x100), EINVAL);
    CHECK_ERRNO(memfd("x", MFD_EXEC | MFD_NOEXEC_SEAL), EINVAL);
    CHECK_ERRNO(memfd(NULL, 0), EFAULT);
    CHECK_ERRNO(memfd(bad_ptr(1), 0), EFAULT);
    char name[300];
    memset(name, 'a', sizeof name);
    name[249] = '\0';
    int fd = memfd(name, 0);
    CHECK(fd >= 0); /* 249 characters: the most */
    close(fd);
    name[249] = 'a';
    name[250] = '\0';
    CHECK_ERRNO(memfd(name, 0), EINVAL);
}
