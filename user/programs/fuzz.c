/* fuzz.c - a system-call fuzzer for POSIX-X (guest only: never run it on a real machine, it calls
 * random system calls with random arguments).
 *
 *     fuzz ROUNDS CALLS SEED [FIRST_ROUND [-v]]
 *
 * Each round forks a child that opens a few descriptors of every kind (pipe, socketpair,
 * eventfd, epoll, a file, TCP and UDP sockets) and makes CALLS random system calls whose
 * arguments mix small numbers, -1, valid and wild user pointers, kernel addresses and huge
 * lengths. Calls that would end the experiment rather than test the kernel (exit, signalling
 * other processes, fork, exec, changing session or group, ioctl on the console) are skipped.
 * Before its calls the child also starts a few threads and clones with random clone flags
 * (well-formed pthread-like sets and random mixes), each making random calls of its own, so the
 * calls race with each other and with exit_group when the child ends.
 * The child may die of anything; what must hold is the kernel's side: it never panics, and a
 * child that has not finished after 2 s is gone at once after SIGKILL. Each round's child uses
 * the xorshift generator seeded from SEED and the round number, so `fuzz 1 CALLS SEED N -v`
 * replays round N printing every call.
 * Output: "round N: exit X" or "round N: signal S" per round, then "fuzz done"; exit status 1 if
 * SIGKILL did not end a child within 8 s.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define HIGHEST_CALL 335

static uint64_t rng;

static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static char buf[65536] __attribute__((aligned(4096)));

/* One argument: the kinds of values that find bugs in argument checking. */
static long arg(void)
{
    switch (rnd() % 16) {
    case 0: return 0;
    case 1: return -1;
    case 2: return rnd() % 8;                                     /* small: fds, flags, counts */
    case 3: return rnd() % 64;
    case 4: return (long)buf;                                     /* valid user memory */
    case 5: return (long)buf + (rnd() % 4096);
    case 6: return 0xffff800000000000L + (rnd() % 0x100000) * 8;  /* the kernel's direct map */
    case 7: return 0xffffffff80000000L + (rnd() % 0x100000) * 8;  /* the kernel image */
    case 8: return 1;
    case 9: return (long)(rnd() & 0x7fffffffffffL);               /* anywhere in user space */
    case 10: return 0x7fffffffffffL - (rnd() % 4096);             /* the top of user space */
    case 11: return (long)rnd();
    case 12: return 1L << (rnd() % 63);                           /* huge lengths */
    case 13: return 4096;
    case 14: return (long)buf + sizeof buf - (rnd() % 16);        /* runs off the end */
    default: return rnd() % 1024;
    }
}

static const long skipped[] = {
    SYS_exit, SYS_exit_group, SYS_kill, SYS_tkill, SYS_tgkill, SYS_rt_sigqueueinfo,
    SYS_rt_tgsigqueueinfo, SYS_reboot, SYS_fork, SYS_vfork, SYS_clone, SYS_clone3,
    SYS_rt_sigreturn, SYS_pause, SYS_rt_sigsuspend, SYS_execve, SYS_execveat, SYS_setsid,
    SYS_setpgid, SYS_ioctl,
};

static int is_skipped(long nr)
{
    for (unsigned i = 0; i < sizeof skipped / sizeof skipped[0]; i++)
        if (nr == skipped[i])
            return 1;
    return 0;
}

static void random_calls(int calls, int verbose, int round)
{
    for (int i = 0; i < calls; i++) {
        long nr = (long)(rnd() % HIGHEST_CALL);
        if (is_skipped(nr))
            continue;
        long a[6];
        for (int k = 0; k < 6; k++)
            a[k] = arg();
        if (verbose)
            fprintf(stderr, "r%d i%d nr %ld %lx %lx %lx %lx %lx %lx\n", round, i, nr, a[0], a[1], a[2], a[3], a[4],
                    a[5]);
        syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
    }
}

static int clone_calls;

/* A clone's body: a process of its own (no CLONE_VM) gets its own alarm, since alarms are
 * not inherited; then random calls, then exit(2) through the clone wrapper. */
static int clone_body(void *arg)
{
    if (arg)
        alarm(1);
    random_calls(clone_calls, 0, 0);
    return 0;
}

/* Threads and clones with random flags. CLONE_SETTLS is left out: the C library's clone
 * wrapper needs its own thread pointer in the child. */
static void random_clones(int calls)
{
    static const unsigned long pthread_like = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND |
                                              CLONE_THREAD | CLONE_SYSVSEM;
    static const unsigned long pool = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND |
                                      CLONE_THREAD | CLONE_SYSVSEM | CLONE_PARENT_SETTID |
                                      CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID | CLONE_PARENT |
                                      CLONE_VFORK | CLONE_DETACHED | CLONE_IO | 0x1000 /* PIDFD */;
    static int tids[8];
    clone_calls = calls / 4;
    int n = 1 + (int)(rnd() % 4);
    for (int i = 0; i < n; i++) {
        unsigned long flags = (rnd() & 1) ? pthread_like : (rnd() & pool);
        if (!(flags & CLONE_THREAD))
            flags |= SIGCHLD;
        if (flags & CLONE_VFORK)
            flags &= ~CLONE_VM; /* a vfork parent waits on a body that shares its stack frame */
        size_t size = 64 * 1024;
        char *stack = malloc(size);
        if (!stack)
            return;
        int pidfd = -1;
        clone(clone_body, stack + size, (int)flags, (flags & CLONE_VM) ? NULL : (void *)1,
              (flags & 0x1000) ? &pidfd : &tids[i], NULL, &tids[i]);
    }
}

static void child(uint64_t seed, int round, int calls, int verbose)
{
    rng = seed * 7919 + (uint64_t)round * 104729 + 1;
    alarm(1);
    /* Random writes to the console would bury the results: the child talks to /dev/null. */
    int null = open("/dev/null", O_RDWR);
    dup2(null, 0);
    dup2(null, 1);
    if (!verbose)
        dup2(null, 2);
    int p[2], s[2];
    pipe(p);
    socketpair(AF_UNIX, SOCK_STREAM, 0, s);
    eventfd(0, 0);
    epoll_create1(0);
    open("/tmp/fuzz-file", O_RDWR | O_CREAT, 0644);
    socket(AF_INET, SOCK_STREAM, 0);
    socket(AF_INET6, SOCK_DGRAM, 0);
    random_clones(calls);
    random_calls(calls, verbose, round);
    _exit(0);
}

/* Waits for pid: SIGKILL after 2 s; 0 and the status in *st, or -1 if it outlives SIGKILL by
 * 8 s. */
static int reap(pid_t pid, int *st)
{
    for (int waited = 0; waited < 1000; waited++) {
        if (waitpid(pid, st, WNOHANG) == pid)
            return 0;
        if (waited == 200)
            kill(pid, SIGKILL);
        struct timespec t = {0, 10 * 1000 * 1000};
        nanosleep(&t, NULL);
    }
    return -1;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: fuzz ROUNDS CALLS SEED [FIRST_ROUND [-v]]\n");
        return 2;
    }
    int rounds = atoi(argv[1]), calls = atoi(argv[2]);
    uint64_t seed = strtoull(argv[3], NULL, 0);
    int first = argc > 4 ? atoi(argv[4]) : 0;
    int verbose = argc > 5;
    for (int r = first; r < first + rounds; r++) {
        pid_t pid = fork();
        if (pid < 0) {
            perror("fork");
            return 1;
        }
        if (pid == 0)
            child(seed, r, calls, verbose);
        int st;
        if (reap(pid, &st) != 0) {
            printf("round %d: SIGKILL did not end the child\n", r);
            return 1;
        }
        if (WIFEXITED(st))
            printf("round %d: exit %d\n", r, WEXITSTATUS(st));
        else
            printf("round %d: signal %d\n", r, WTERMSIG(st));
        fflush(stdout);
    }
    printf("fuzz done\n");
    return 0;
}
