/* thread_rules.c - the kernel's side of threads: clone's EINVAL rules, clone3, execve from a
 * thread (de_thread: the others end, the pid stays), fork from a thread (one thread copied),
 * /proc/PID/task and thread names, a close while another thread is blocked in read, pidfds,
 * and IPC between the threads of one process (pipe, socketpair, eventfd, signalfd, System V
 * semaphores, POSIX message queues, futex ping-pong).
 * Syscalls: clone, clone3, execve, fork, prctl, pidfd_open, pidfd_send_signal, poll, futex,
 * pipe, socketpair, eventfd, signalfd, semget/semop, mq_open.
 * Helper mode: argv[1] == "--helper-after-exec" PID: exit 0 iff getpid() == PID == gettid()
 * and /proc/self/task has one entry.
 */
#define _GNU_SOURCE
#include "test.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <mqueue.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/eventfd.h>
#include <sys/ipc.h>
#include <sys/prctl.h>
#include <sys/sem.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x1000
#endif

static long raw_clone(unsigned long flags)
{
    /* No stack: only combinations the kernel refuses reach here, or fork-like ones. */
    return syscall(SYS_clone, flags, 0, NULL, NULL, 0);
}

TEST(clone_thread_without_sighand_is_einval)
{
    CHECK_ERRNO(raw_clone(CLONE_THREAD | CLONE_VM), EINVAL);
}

TEST(clone_sighand_without_vm_is_einval)
{
    CHECK_ERRNO(raw_clone(CLONE_SIGHAND), EINVAL);
    CHECK_ERRNO(raw_clone(CLONE_THREAD | CLONE_SIGHAND), EINVAL);
}

TEST(clone_pidfd_with_parent_settid_is_einval)
{
    int fd = -1;
    CHECK_ERRNO(syscall(SYS_clone, CLONE_PIDFD | CLONE_PARENT_SETTID | SIGCHLD, 0, &fd, NULL, 0),
                EINVAL);
}

struct clone_args_v0 {
    uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
};

TEST(clone3_rules)
{
    struct clone_args_v0 a = {0};
    /* Too small, exit signal with CLONE_THREAD, CSIGNAL bits in flags, stack without size. */
    CHECK_ERRNO(syscall(SYS_clone3, &a, 32), EINVAL);
    a.flags = CLONE_THREAD | CLONE_SIGHAND | CLONE_VM;
    a.exit_signal = SIGCHLD;
    CHECK_ERRNO(syscall(SYS_clone3, &a, sizeof a), EINVAL);
    a.flags = SIGCHLD;
    a.exit_signal = 0;
    CHECK_ERRNO(syscall(SYS_clone3, &a, sizeof a), EINVAL);
    a.flags = 0;
    a.stack = 0x10000;
    CHECK_ERRNO(syscall(SYS_clone3, &a, sizeof a), EINVAL);
    a.stack = 0;
    a.exit_signal = 65;
    CHECK_ERRNO(syscall(SYS_clone3, &a, sizeof a), EINVAL);
    CHECK_ERRNO(syscall(SYS_clone3, &a, 4097), E2BIG);
}

TEST(clone3_fork_with_pidfd_polls_readable_at_exit)
{
    int pidfd = -1;
    struct clone_args_v0 a = {0};
    a.flags = CLONE_PIDFD;
    a.pidfd = (uint64_t)(uintptr_t)&pidfd;
    a.exit_signal = SIGCHLD;
    int p[2];
    CHECK_OK(pipe(p));
    long pid = syscall(SYS_clone3, &a, sizeof a);
    if (pid == 0) {
        char c;
        read(p[0], &c, 1);
        _exit(5);
    }
    CHECK(pid > 0);
    CHECK(pidfd >= 0);
    CHECK(fcntl(pidfd, F_GETFD) & FD_CLOEXEC);
    struct pollfd pf = {.fd = pidfd, .events = POLLIN};
    CHECK_EQ(poll(&pf, 1, 0), 0);
    CHECK_EQ(write(p[1], "x", 1), 1);
    CHECK_EQ(poll(&pf, 1, 10000), 1);
    CHECK(pf.revents & POLLIN);
    int st;
    CHECK_EQ(waitpid(pid, &st, 0), pid);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 5);
    close(pidfd);
    close(p[0]);
    close(p[1]);
}

TEST(pidfd_open_and_send_signal)
{
    pid_t pid = fork();
    if (pid == 0) {
        for (;;)
            pause();
    }
    CHECK(pid > 0);
    int fd = syscall(SYS_pidfd_open, pid, 0);
    CHECK(fd >= 0);
    CHECK_OK(syscall(SYS_pidfd_send_signal, fd, SIGTERM, NULL, 0));
    int st;
    CHECK_EQ(waitpid(pid, &st, 0), pid);
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM);
    CHECK_ERRNO(syscall(SYS_pidfd_send_signal, fd, SIGTERM, NULL, 0), ESRCH);
    close(fd);
    CHECK_ERRNO(syscall(SYS_pidfd_open, pid, 0), ESRCH);
    CHECK_ERRNO(syscall(SYS_pidfd_open, getpid(), 1), EINVAL);
}

/* Tables shared between processes that are not threads: CLONE_FILES, CLONE_FS, CLONE_SIGHAND,
 * and unshare giving a copy back. */
static char share_stack[64 * 1024] __attribute__((aligned(16)));
static int shared_fd_seen;

static int open_a_pipe(void *arg)
{
    int *out = arg;
    int p[2];
    if (pipe(p) != 0)
        return 1;
    out[0] = p[0];
    out[1] = p[1];
    return 0;
}

static int wait_child(long pid)
{
    int st;
    if (waitpid((pid_t)pid, &st, __WALL) != pid)
        return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 100 + WTERMSIG(st);
}

TEST(clone_files_shares_the_descriptor_table_between_processes)
{
    static int fds[2] = {-1, -1};
    /* CLONE_VM only to get the numbers back; the table is what CLONE_FILES shares. */
    long pid = clone(open_a_pipe, share_stack + sizeof share_stack, CLONE_VM | CLONE_FILES | SIGCHLD,
                     fds);
    CHECK(pid > 0);
    CHECK_EQ(wait_child(pid), 0);
    CHECK(fds[0] >= 0);
    CHECK_EQ(write(fds[1], "s", 1), 1);
    char c = 0;
    CHECK_EQ(read(fds[0], &c, 1), 1);
    CHECK_EQ(c, 's');
    close(fds[0]);
    close(fds[1]);
    (void)shared_fd_seen;
}

static int unshare_then_close(void *arg)
{
    int fd = (int)(long)arg;
    if (unshare(CLONE_FILES) != 0)
        return 1;
    return close(fd) == 0 ? 0 : 2;
}

TEST(unshare_files_gives_a_copy)
{
    int fd = dup(1);
    CHECK(fd >= 0);
    long pid = clone(unshare_then_close, share_stack + sizeof share_stack, CLONE_FILES | SIGCHLD,
                     (void *)(long)fd);
    CHECK(pid > 0);
    CHECK_EQ(wait_child(pid), 0);
    /* The child closed its copy: ours is still open. */
    CHECK_OK(fcntl(fd, F_GETFD));
    close(fd);
}

static int change_dir(void *arg)
{
    (void)arg;
    return chdir("/tmp") == 0 ? 0 : 1;
}

TEST(clone_fs_shares_the_working_directory)
{
    char before[PATH_MAX], after[PATH_MAX];
    CHECK(getcwd(before, sizeof before) != NULL);
    CHECK_OK(chdir("/"));
    long pid = clone(change_dir, share_stack + sizeof share_stack, CLONE_FS | SIGCHLD, NULL);
    CHECK(pid > 0);
    CHECK_EQ(wait_child(pid), 0);
    CHECK(getcwd(after, sizeof after) != NULL);
    CHECK_OK(chdir(before));
    CHECK_EQ(strcmp(after, "/tmp"), 0);
}

static void noop_handler(int sig)
{
    (void)sig;
}

static int set_handler(void *arg)
{
    (void)arg;
    return signal(SIGUSR1, noop_handler) == SIG_ERR ? 1 : 0;
}

TEST(clone_sighand_shares_the_handlers)
{
    signal(SIGUSR1, SIG_DFL);
    long pid = clone(set_handler, share_stack + sizeof share_stack, CLONE_VM | CLONE_SIGHAND | SIGCHLD,
                     NULL);
    CHECK(pid > 0);
    CHECK_EQ(wait_child(pid), 0);
    struct sigaction now;
    CHECK_OK(sigaction(SIGUSR1, NULL, &now));
    CHECK(now.sa_handler == noop_handler);
    signal(SIGUSR1, SIG_DFL);
}

TEST(clone3_clear_sighand_resets_handlers_in_the_child)
{
    signal(SIGUSR2, noop_handler);
    signal(SIGPIPE, SIG_IGN);
    struct clone_args_v0 a = {0};
    a.flags = 0x100000000ULL; /* CLONE_CLEAR_SIGHAND */
    a.exit_signal = SIGCHLD;
    long pid = syscall(SYS_clone3, &a, sizeof a);
    if (pid == 0) {
        struct sigaction usr2, pipe_;
        sigaction(SIGUSR2, NULL, &usr2);
        sigaction(SIGPIPE, NULL, &pipe_);
        _exit(usr2.sa_handler == SIG_DFL && pipe_.sa_handler == SIG_IGN ? 0 : 1);
    }
    CHECK(pid > 0);
    CHECK_EQ(wait_child(pid), 0);
    signal(SIGUSR2, SIG_DFL);
    signal(SIGPIPE, SIG_DFL);
}

static atomic_int go;

static void *idle_thread(void *arg)
{
    (void)arg;
    while (!atomic_load(&go))
        sched_yield();
    return NULL;
}

static char exe_path[PATH_MAX];

static void *exec_from_thread(void *arg)
{
    char pid[32];
    snprintf(pid, sizeof pid, "%ld", (long)arg);
    char *argv[] = {(char *)"thread_rules", (char *)"--helper-after-exec", pid, NULL};
    char *envp[] = {NULL};
    execve(exe_path, argv, envp);
    _exit(127);
}

TEST(execve_from_a_thread_ends_the_others_and_keeps_the_pid)
{
    ssize_t n = readlink("/proc/self/exe", exe_path, sizeof exe_path - 1);
    CHECK(n > 0);
    exe_path[n] = '\0';
    pid_t pid = fork();
    if (pid == 0) {
        pthread_t a, b;
        atomic_store(&go, 0);
        pthread_create(&a, NULL, idle_thread, NULL);
        pthread_create(&b, NULL, exec_from_thread, (void *)(long)getpid());
        for (;;)
            pause();
    }
    CHECK(pid > 0);
    int st;
    CHECK_EQ(waitpid(pid, &st, 0), pid);
    CHECK(WIFEXITED(st));
    CHECK_EQ(WEXITSTATUS(st), 0);
}

static int count_tasks(void)
{
    DIR *d = opendir("/proc/self/task");
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n;
}

static void *fork_from_thread(void *arg)
{
    (void)arg;
    pid_t pid = fork();
    if (pid == 0)
        _exit(count_tasks() == 1 && syscall(SYS_gettid) == getpid() ? 0 : 1);
    int st;
    if (waitpid(pid, &st, 0) != pid)
        return (void *)-1L;
    return (void *)(long)(WIFEXITED(st) ? WEXITSTATUS(st) : 100);
}

TEST(fork_from_a_thread_copies_only_that_thread)
{
    atomic_store(&go, 0);
    pthread_t a, b;
    CHECK_EQ(pthread_create(&a, NULL, idle_thread, NULL), 0);
    CHECK_EQ(pthread_create(&b, NULL, fork_from_thread, NULL), 0);
    void *r;
    CHECK_EQ(pthread_join(b, &r), 0);
    atomic_store(&go, 1);
    CHECK_EQ(pthread_join(a, NULL), 0);
    CHECK_EQ((long)r, 0);
}

static atomic_long named_tid;

static void *name_self(void *arg)
{
    (void)arg;
    prctl(PR_SET_NAME, "worker-one");
    atomic_store(&named_tid, syscall(SYS_gettid));
    while (!atomic_load(&go))
        sched_yield();
    return NULL;
}

static int read_file(const char *path, char *buf, size_t len)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, len - 1);
    close(fd);
    if (n < 0)
        return -1;
    buf[n] = '\0';
    return (int)n;
}

TEST(proc_task_lists_threads_with_their_names)
{
    atomic_store(&go, 0);
    atomic_store(&named_tid, 0);
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, name_self, NULL), 0);
    while (!atomic_load(&named_tid))
        sched_yield();
    long tid = atomic_load(&named_tid);
    CHECK_EQ(count_tasks(), 2);
    /* A thread id names its process for kill(2), as on Linux. */
    CHECK_OK(kill((pid_t)tid, 0));
    char path[128], buf[4096];
    snprintf(path, sizeof path, "/proc/self/task/%ld/comm", tid);
    CHECK(read_file(path, buf, sizeof buf) > 0);
    CHECK_EQ(strcmp(buf, "worker-one\n"), 0);
    /* pthread_setname_np for another thread writes that file. */
    CHECK_EQ(pthread_setname_np(t, "renamed"), 0);
    CHECK(read_file(path, buf, sizeof buf) > 0);
    CHECK_EQ(strcmp(buf, "renamed\n"), 0);
    snprintf(path, sizeof path, "/proc/self/task/%ld/status", tid);
    CHECK(read_file(path, buf, sizeof buf) > 0);
    char want[64];
    snprintf(want, sizeof want, "\nPid:\t%ld\n", tid);
    CHECK(strstr(buf, want) != NULL);
    snprintf(want, sizeof want, "\nTgid:\t%d\n", getpid());
    CHECK(strstr(buf, want) != NULL);
    CHECK(read_file("/proc/self/status", buf, sizeof buf) > 0);
    CHECK(strstr(buf, "\nThreads:\t2\n") != NULL);
    /* The leader's own name is not the thread's. */
    CHECK(read_file("/proc/self/comm", buf, sizeof buf) > 0);
    CHECK(strcmp(buf, "renamed\n") != 0);
    atomic_store(&go, 1);
    CHECK_EQ(pthread_join(t, NULL), 0);
    CHECK_EQ(count_tasks(), 1);
}

/* A close in one thread while another is blocked in read on that fd: the read goes on with the
 * open file (it holds it) and finishes when data comes. */
static int blocked_fd;
static atomic_long reader_tid;

static void *blocked_reader(void *arg)
{
    (void)arg;
    atomic_store(&reader_tid, syscall(SYS_gettid));
    char c = 0;
    ssize_t n = read(blocked_fd, &c, 1);
    return (void *)(long)(n == 1 ? c : -errno);
}

static int thread_state(long tid)
{
    char path[128], buf[1024];
    snprintf(path, sizeof path, "/proc/self/task/%ld/stat", tid);
    if (read_file(path, buf, sizeof buf) <= 0)
        return 0;
    char *p = strrchr(buf, ')');
    return p && p[1] == ' ' ? p[2] : 0;
}

TEST(close_while_another_thread_reads_lets_the_read_finish)
{
    int p[2];
    CHECK_OK(pipe(p));
    blocked_fd = p[0];
    atomic_store(&reader_tid, 0);
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, blocked_reader, NULL), 0);
    while (!atomic_load(&reader_tid))
        sched_yield();
    while (thread_state(atomic_load(&reader_tid)) != 'S')
        sched_yield();
    CHECK_OK(close(p[0]));
    CHECK_EQ(write(p[1], "q", 1), 1);
    void *r;
    CHECK_EQ(pthread_join(t, &r), 0);
    CHECK_EQ((long)r, 'q');
    close(p[1]);
}

/* pipe2 and socketpair reserve their descriptors until they are copied out: a bad address
 * gives EFAULT and the numbers are free again. */
TEST(descriptors_of_a_failed_copy_out_are_given_back)
{
    int probe = dup(0);
    CHECK(probe >= 0);
    close(probe);
    CHECK_ERRNO(pipe((int *)bad_ptr(8)), EFAULT);
    CHECK_ERRNO(socketpair(AF_UNIX, SOCK_STREAM, 0, (int *)bad_ptr(8)), EFAULT);
    int again = dup(0);
    CHECK_EQ(again, probe);
    close(again);
}

/* IPC between two threads of one process: each mechanism carries a ping and a pong. */
struct duplex {
    int a, b;
};

static void *echo_fd(void *arg)
{
    struct duplex *d = arg;
    char buf[8];
    for (int i = 0; i < 100; i++) {
        if (read(d->b, buf, 1) != 1 || write(d->b, buf, 1) != 1)
            return (void *)1;
    }
    return NULL;
}

TEST(socketpair_ping_pong_between_threads)
{
    int sv[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    struct duplex d = {sv[0], sv[1]};
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, echo_fd, &d), 0);
    for (int i = 0; i < 100; i++) {
        char c = (char)i, back = 0;
        CHECK_EQ(write(sv[0], &c, 1), 1);
        CHECK_EQ(read(sv[0], &back, 1), 1);
        CHECK_EQ(back, c);
    }
    void *r;
    CHECK_EQ(pthread_join(t, &r), 0);
    CHECK(r == NULL);
    close(sv[0]);
    close(sv[1]);
}

static int to_worker[2], from_worker[2];

static void *echo_pipes(void *arg)
{
    (void)arg;
    char c;
    for (int i = 0; i < 100; i++)
        if (read(to_worker[0], &c, 1) != 1 || write(from_worker[1], &c, 1) != 1)
            return (void *)1;
    return NULL;
}

TEST(pipe_ping_pong_between_threads)
{
    CHECK_OK(pipe(to_worker));
    CHECK_OK(pipe(from_worker));
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, echo_pipes, NULL), 0);
    for (int i = 0; i < 100; i++) {
        char c = (char)i, back = 0;
        CHECK_EQ(write(to_worker[1], &c, 1), 1);
        CHECK_EQ(read(from_worker[0], &back, 1), 1);
        CHECK_EQ(back, c);
    }
    CHECK_EQ(pthread_join(t, NULL), 0);
    close(to_worker[0]);
    close(to_worker[1]);
    close(from_worker[0]);
    close(from_worker[1]);
}

static int efd_ping, efd_pong;

static void *echo_eventfd(void *arg)
{
    (void)arg;
    uint64_t v;
    for (int i = 0; i < 100; i++)
        if (read(efd_ping, &v, 8) != 8 || write(efd_pong, &v, 8) != 8)
            return (void *)1;
    return NULL;
}

TEST(eventfd_ping_pong_between_threads)
{
    efd_ping = eventfd(0, 0);
    efd_pong = eventfd(0, 0);
    CHECK(efd_ping >= 0 && efd_pong >= 0);
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, echo_eventfd, NULL), 0);
    for (uint64_t i = 1; i <= 100; i++) {
        uint64_t back = 0;
        CHECK_EQ(write(efd_ping, &i, 8), 8);
        CHECK_EQ(read(efd_pong, &back, 8), 8);
        CHECK_EQ(back, i);
    }
    CHECK_EQ(pthread_join(t, NULL), 0);
    close(efd_ping);
    close(efd_pong);
}

static int sfd;

static void *read_signalfd(void *arg)
{
    (void)arg;
    struct signalfd_siginfo si;
    if (read(sfd, &si, sizeof si) != sizeof si)
        return (void *)-1L;
    return (void *)(long)si.ssi_signo;
}

TEST(signalfd_in_one_thread_takes_a_process_signal)
{
    sigset_t s, old;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR2);
    pthread_sigmask(SIG_BLOCK, &s, &old);
    sfd = signalfd(-1, &s, 0);
    CHECK(sfd >= 0);
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, read_signalfd, NULL), 0);
    CHECK_EQ(kill(getpid(), SIGUSR2), 0);
    void *r;
    CHECK_EQ(pthread_join(t, &r), 0);
    CHECK_EQ((long)r, SIGUSR2);
    close(sfd);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
}

static int semid;

static void *sem_echo(void *arg)
{
    (void)arg;
    for (int i = 0; i < 100; i++) {
        struct sembuf down = {0, -1, 0}, up = {1, 1, 0};
        if (semop(semid, &down, 1) != 0 || semop(semid, &up, 1) != 0)
            return (void *)1;
    }
    return NULL;
}

TEST(sysv_semaphore_ping_pong_between_threads)
{
    semid = semget(IPC_PRIVATE, 2, 0600);
    CHECK(semid >= 0);
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, sem_echo, NULL), 0);
    for (int i = 0; i < 100; i++) {
        struct sembuf up = {0, 1, 0}, down = {1, -1, 0};
        CHECK_OK(semop(semid, &up, 1));
        CHECK_OK(semop(semid, &down, 1));
    }
    CHECK_EQ(pthread_join(t, NULL), 0);
    semctl(semid, 0, IPC_RMID);
}

static mqd_t mq_ping, mq_pong;

static void *mq_echo(void *arg)
{
    (void)arg;
    char buf[64];
    for (int i = 0; i < 50; i++) {
        ssize_t n = mq_receive(mq_ping, buf, sizeof buf, NULL);
        if (n <= 0 || mq_send(mq_pong, buf, (size_t)n, 0) != 0)
            return (void *)1;
    }
    return NULL;
}

TEST(posix_mqueue_ping_pong_between_threads)
{
    char n1[64], n2[64];
    snprintf(n1, sizeof n1, "/thr-ping-%d", getpid());
    snprintf(n2, sizeof n2, "/thr-pong-%d", getpid());
    struct mq_attr at = {.mq_maxmsg = 4, .mq_msgsize = 64};
    mq_ping = mq_open(n1, O_CREAT | O_RDWR, 0600, &at);
    mq_pong = mq_open(n2, O_CREAT | O_RDWR, 0600, &at);
    CHECK(mq_ping != (mqd_t)-1 && mq_pong != (mqd_t)-1);
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, mq_echo, NULL), 0);
    for (int i = 0; i < 50; i++) {
        char msg[16], back[64];
        int len = snprintf(msg, sizeof msg, "m%d", i);
        CHECK_OK(mq_send(mq_ping, msg, (size_t)len, 0));
        CHECK_EQ(mq_receive(mq_pong, back, sizeof back, NULL), len);
        CHECK_EQ(memcmp(back, msg, (size_t)len), 0);
    }
    CHECK_EQ(pthread_join(t, NULL), 0);
    mq_close(mq_ping);
    mq_close(mq_pong);
    mq_unlink(n1);
    mq_unlink(n2);
}

static atomic_int futex_word;

static void *futex_pong(void *arg)
{
    (void)arg;
    for (int i = 0; i < 200; i++) {
        while (atomic_load(&futex_word) != 1)
            syscall(SYS_futex, &futex_word, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
        atomic_store(&futex_word, 0);
        syscall(SYS_futex, &futex_word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
    }
    return NULL;
}

TEST(futex_ping_pong_between_threads)
{
    atomic_store(&futex_word, 0);
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, futex_pong, NULL), 0);
    for (int i = 0; i < 200; i++) {
        atomic_store(&futex_word, 1);
        syscall(SYS_futex, &futex_word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
        while (atomic_load(&futex_word) != 0)
            syscall(SYS_futex, &futex_word, FUTEX_WAIT_PRIVATE, 1, NULL, NULL, 0);
    }
    CHECK_EQ(pthread_join(t, NULL), 0);
}

static void *create_exit(void *arg)
{
    return arg;
}

TEST(ten_thousand_thread_create_exit_cycles)
{
    for (int i = 0; i < 10000; i++) {
        pthread_t t;
        int e = pthread_create(&t, NULL, create_exit, NULL);
        if (e != 0)
            FAIL("pthread_create #%d: %d", i, e);
        CHECK_EQ(pthread_join(t, NULL), 0);
    }
}

int main(int argc, char **argv, char **envp)
{
    if (argc == 3 && strcmp(argv[1], "--helper-after-exec") == 0) {
        long want = atol(argv[2]);
        _exit(getpid() == want && syscall(SYS_gettid) == want && count_tasks() == 1 ? 0 : 1);
    }
    test_argc = argc;
    test_argv = argv;
    test_envp = envp;
    return test_run_all() == 0 ? 0 : 1;
}
