/* rseq.c - restartable sequences and membarrier. rseq: registration fills cpu_id_start,
 * cpu_id (a CPU that exists; 0 on POSIX-X), node_id and mm_cid; the registration rules (EBUSY
 * again, EINVAL for another area or length, EPERM for another signature, EINVAL for a short or
 * misaligned area or unknown flags, EFAULT outside user space), unregistration resetting cpu_id
 * to RSEQ_CPU_ID_UNINITIALIZED; kept across fork; a critical section interrupted by a signal is
 * aborted to its abort_ip and rseq_cs cleared; a bad signature at abort_ip is SIGSEGV.
 * membarrier: QUERY, GLOBAL, the private expedited commands needing registration (EPERM
 * before), GET_REGISTRATIONS, inherited by fork, the errors.
 * Syscalls: rseq, membarrier, setitimer, rt_sigaction, fork, wait4.
 */
#define _GNU_SOURCE
#define TEST_MAIN
#include "test.h"

#include <signal.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <ucontext.h>

#include "children.h"

#ifndef SYS_rseq
#define SYS_rseq 334
#endif
#define RSEQ_SIG 0x53053053u
#define RSEQ_FLAG_UNREGISTER 1

struct rseq_area {
    uint32_t cpu_id_start;
    uint32_t cpu_id;
    uint64_t rseq_cs;
    uint32_t flags;
    uint32_t node_id;
    uint32_t mm_cid;
} __attribute__((aligned(32)));

struct rseq_cs_desc {
    uint32_t version;
    uint32_t flags;
    uint64_t start_ip;
    uint64_t post_commit_offset;
    uint64_t abort_ip;
} __attribute__((aligned(32)));

static long rseq_reg(struct rseq_area *a, uint32_t len, int flags, uint32_t sig)
{
    return syscall(SYS_rseq, a, len, flags, sig);
}

/* glibc registers its own area at start: run the test without it (its tunable), so that the
 * kernel's registration rules can be checked natively too. musl registers none. */
#ifdef __GLIBC__
__attribute__((constructor)) static void without_glibc_rseq(int argc, char **argv, char **envp)
{
    (void)argc;
    (void)envp;
    if (getenv("GLIBC_TUNABLES") != NULL)
        return;
    setenv("GLIBC_TUNABLES", "glibc.pthread.rseq=0", 1);
    execv("/proc/self/exe", argv);
}
#endif

static struct rseq_area area;

static int cpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_CONF);
    return n > 0 ? (int)n : 1;
}

TEST(register_fills_the_cpu_fields_and_unregister_resets_them)
{
    area.cpu_id = 0xdead;
    area.cpu_id_start = 0xdead;
    area.node_id = 0xdead;
    area.mm_cid = 0xdead;
    long r = rseq_reg(&area, sizeof area, 0, RSEQ_SIG);
    if (r == -1 && errno == EBUSY)
        SKIP("the C library registered rseq already");
    CHECK_EQ(r, 0);
    /* Filled in on the way back to user mode. */
    CHECK((int)area.cpu_id < cpus());
    CHECK_EQ(area.cpu_id_start, area.cpu_id);
    CHECK_EQ(area.node_id, 0);
    CHECK(area.mm_cid < (uint32_t)cpus());
    if (on_posix_x())
        CHECK_EQ(area.cpu_id, 0);
    /* Again: EBUSY; another signature: EPERM; another area or length: EINVAL. */
    CHECK_ERRNO(rseq_reg(&area, sizeof area, 0, RSEQ_SIG), EBUSY);
    CHECK_ERRNO(rseq_reg(&area, sizeof area, 0, RSEQ_SIG + 1), EPERM);
    static struct rseq_area other;
    CHECK_ERRNO(rseq_reg(&other, sizeof other, 0, RSEQ_SIG), EINVAL);
    CHECK_ERRNO(rseq_reg(&area, 64, 0, RSEQ_SIG), EINVAL);
    /* Unregistering takes the same area, length and signature. */
    CHECK_ERRNO(rseq_reg(&area, sizeof area, RSEQ_FLAG_UNREGISTER, RSEQ_SIG + 1), EPERM);
    CHECK_ERRNO(rseq_reg(&other, sizeof area, RSEQ_FLAG_UNREGISTER, RSEQ_SIG), EINVAL);
    CHECK_ERRNO(rseq_reg(&area, 64, RSEQ_FLAG_UNREGISTER, RSEQ_SIG), EINVAL);
    CHECK_ERRNO(rseq_reg(&area, sizeof area, RSEQ_FLAG_UNREGISTER | 2, RSEQ_SIG), EINVAL);
    CHECK_EQ(rseq_reg(&area, sizeof area, RSEQ_FLAG_UNREGISTER, RSEQ_SIG), 0);
    CHECK_EQ(area.cpu_id, (uint32_t)-1);
    CHECK_EQ(area.cpu_id_start, 0);
    CHECK_ERRNO(rseq_reg(&area, sizeof area, RSEQ_FLAG_UNREGISTER, RSEQ_SIG), EINVAL);
}

TEST(registration_errors)
{
    static char buf[128] __attribute__((aligned(32)));
    CHECK_ERRNO(rseq_reg((struct rseq_area *)buf, 16, 0, RSEQ_SIG), EINVAL);
    CHECK_ERRNO(rseq_reg((struct rseq_area *)(buf + 8), 32, 0, RSEQ_SIG), EINVAL);
    CHECK_ERRNO(rseq_reg((struct rseq_area *)buf, 32, 2, RSEQ_SIG), EINVAL);
    CHECK_ERRNO(rseq_reg(bad_ptr(0xffff800000000000ULL), 32, 0, RSEQ_SIG), EFAULT);
    /* Unregistering what was never registered. */
    CHECK_ERRNO(rseq_reg((struct rseq_area *)buf, 32, RSEQ_FLAG_UNREGISTER, RSEQ_SIG), EINVAL);
}

TEST(a_fork_child_keeps_the_registration)
{
    long r = rseq_reg(&area, sizeof area, 0, RSEQ_SIG);
    if (r == -1 && errno == EBUSY)
        SKIP("the C library registered rseq already");
    CHECK_EQ(r, 0);
    pid_t pid = fork();
    if (pid == 0) {
        CERRNO(rseq_reg(&area, sizeof area, 0, RSEQ_SIG), EBUSY);
        CCHECK((int)area.cpu_id < cpus());
        CCHECK(rseq_reg(&area, sizeof area, RSEQ_FLAG_UNREGISTER, RSEQ_SIG) == 0);
        _exit(0);
    }
    CHECK_CHILD_OK(pid);
    CHECK_EQ(rseq_reg(&area, sizeof area, RSEQ_FLAG_UNREGISTER, RSEQ_SIG), 0);
}

/* A critical section that spins until aborted: rseq_spin(&area.rseq_cs, &desc) publishes the
 * descriptor, then loops at cs_start; the kernel must move it to cs_abort (returns 1). The
 * signal handler moves a thread it finds still inside to cs_escape (returns 0). */
extern char cs_start[], cs_end[], cs_abort[], cs_escape[];
long rseq_spin(uint64_t *cs_slot, struct rseq_cs_desc *desc);
__asm__(".text\n"
        ".globl rseq_spin\n"
        "rseq_spin:\n"
        "  movq %rsi, (%rdi)\n"
        ".globl cs_start\n"
        "cs_start:\n"
        "  jmp cs_start\n"
        ".globl cs_end\n"
        "cs_end:\n"
        "  .long 0x53053053\n"
        ".globl cs_abort\n"
        "cs_abort:\n"
        "  movl $1, %eax\n"
        "  ret\n"
        ".globl cs_escape\n"
        "cs_escape:\n"
        "  xorl %eax, %eax\n"
        "  ret\n");

static volatile sig_atomic_t alarms;

static void on_alarm(int sig, siginfo_t *info, void *ctx)
{
    (void)sig;
    (void)info;
    ucontext_t *uc = ctx;
    uintptr_t ip = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
    alarms++;
    if (ip >= (uintptr_t)cs_start && ip < (uintptr_t)cs_end)
        uc->uc_mcontext.gregs[REG_RIP] = (greg_t)(uintptr_t)cs_escape;
}

static uint64_t aborted_cs;

/* Runs the spinning section with `sig` registered (unregistered after); returns what
 * rseq_spin returned, and leaves the rseq_cs field it found in `aborted_cs`. */
static long run_section(uint32_t sig)
{
    static struct rseq_cs_desc desc;
    desc.version = 0;
    desc.flags = 0;
    desc.start_ip = (uintptr_t)cs_start;
    desc.post_commit_offset = (uintptr_t)cs_end - (uintptr_t)cs_start;
    desc.abort_ip = (uintptr_t)cs_abort;
    if (rseq_reg(&area, sizeof area, 0, sig) != 0)
        return -1;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_alarm;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval t = {{0, 0}, {0, 20000}}, off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &t, NULL);
    /* Aborted by the signal, or by a preemption before it (Linux aborts on both). */
    long r = rseq_spin(&area.rseq_cs, &desc);
    setitimer(ITIMER_REAL, &off, NULL);
    signal(SIGALRM, SIG_DFL);
    aborted_cs = area.rseq_cs;
    rseq_reg(&area, sizeof area, RSEQ_FLAG_UNREGISTER, sig);
    return r;
}

TEST(a_signal_aborts_the_critical_section)
{
    long r = rseq_reg(&area, sizeof area, 0, RSEQ_SIG);
    if (r == -1 && errno == EBUSY)
        SKIP("the C library registered rseq already");
    CHECK_EQ(r, 0);
    CHECK_EQ(rseq_reg(&area, sizeof area, RSEQ_FLAG_UNREGISTER, RSEQ_SIG), 0);
    alarms = 0;
    r = run_section(RSEQ_SIG);
    /* 1: moved to abort_ip by the kernel; 0: the handler found it still inside. */
    CHECK_EQ(r, 1);
    /* The kernel cleared the descriptor pointer. */
    CHECK_EQ(aborted_cs, 0);
}

static void on_segv_ignored(int sig) { (void)sig; }

TEST(a_bad_signature_at_abort_ip_is_sigsegv)
{
    pid_t pid = fork();
    if (pid == 0) {
        /* Fatal even with a handler (Linux's force_sigsegv). */
        signal(SIGSEGV, on_segv_ignored);
        /* Registered with another signature than the one before cs_abort. */
        long r = run_section(0x12345678);
        _exit(r == -1 ? 3 : 4);
    }
    CHECK_KILLED(pid, SIGSEGV);
}

/* ---- membarrier ---- */

#define MB_QUERY 0
#define MB_GLOBAL 1
#define MB_GLOBAL_EXPEDITED 2
#define MB_REGISTER_GLOBAL_EXPEDITED 4
#define MB_PRIVATE_EXPEDITED 8
#define MB_REGISTER_PRIVATE_EXPEDITED 16
#define MB_PRIVATE_EXPEDITED_SYNC_CORE 32
#define MB_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE 64
#define MB_PRIVATE_EXPEDITED_RSEQ 128
#define MB_REGISTER_PRIVATE_EXPEDITED_RSEQ 256
#define MB_GET_REGISTRATIONS 512

static long membarrier(int cmd, unsigned flags, int cpu)
{
    return syscall(SYS_membarrier, cmd, flags, cpu);
}

TEST(membarrier_query_and_global)
{
    long mask = membarrier(MB_QUERY, 0, 0);
    CHECK(mask > 0);
    long want = MB_GLOBAL_EXPEDITED | MB_REGISTER_GLOBAL_EXPEDITED | MB_PRIVATE_EXPEDITED |
                MB_REGISTER_PRIVATE_EXPEDITED | MB_PRIVATE_EXPEDITED_RSEQ |
                MB_REGISTER_PRIVATE_EXPEDITED_RSEQ | MB_GET_REGISTRATIONS;
    CHECK_EQ(mask & want, want);
    if (mask & MB_GLOBAL)
        CHECK_EQ(membarrier(MB_GLOBAL, 0, 0), 0);
    CHECK_EQ(membarrier(MB_GLOBAL_EXPEDITED, 0, 0), 0);
    CHECK_ERRNO(membarrier(MB_QUERY, 1, 0), EINVAL);
    CHECK_ERRNO(membarrier(3, 0, 0), EINVAL);
    CHECK_ERRNO(membarrier(1 << 10, 0, 0), EINVAL);
    CHECK_ERRNO(membarrier(-1, 0, 0), EINVAL);
}

TEST(membarrier_private_expedited_needs_registration)
{
    /* In a child, so that this process stays unregistered (registrations belong to the
     * address space, which fork copies). */
    pid_t pid = fork();
    if (pid == 0) {
        CCHECK(membarrier(MB_GET_REGISTRATIONS, 0, 0) == 0);
        CERRNO(membarrier(MB_PRIVATE_EXPEDITED, 0, 0), EPERM);
        CERRNO(membarrier(MB_PRIVATE_EXPEDITED_RSEQ, 0, 0), EPERM);
        CCHECK(membarrier(MB_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0);
        CCHECK(membarrier(MB_PRIVATE_EXPEDITED, 0, 0) == 0);
        CERRNO(membarrier(MB_PRIVATE_EXPEDITED, 1, 0), EINVAL);
        CCHECK(membarrier(MB_REGISTER_PRIVATE_EXPEDITED_RSEQ, 0, 0) == 0);
        CCHECK(membarrier(MB_PRIVATE_EXPEDITED_RSEQ, 0, 0) == 0);
        /* With MEMBARRIER_CMD_FLAG_CPU: one CPU's threads. */
        CCHECK(membarrier(MB_PRIVATE_EXPEDITED_RSEQ, 1, 0) == 0);
        CERRNO(membarrier(MB_PRIVATE_EXPEDITED_RSEQ, 2, 0), EINVAL);
        CCHECK(membarrier(MB_REGISTER_GLOBAL_EXPEDITED, 0, 0) == 0);
        long regs = membarrier(MB_GET_REGISTRATIONS, 0, 0);
        CCHECK(regs == (MB_REGISTER_PRIVATE_EXPEDITED | MB_REGISTER_PRIVATE_EXPEDITED_RSEQ |
                        MB_REGISTER_GLOBAL_EXPEDITED));
        /* A fork child's address space keeps them. */
        pid_t g = fork();
        if (g == 0) {
            CCHECK(membarrier(MB_PRIVATE_EXPEDITED, 0, 0) == 0);
            _exit(0);
        }
        CCHECK(child_status(g) == 0);
        _exit(0);
    }
    CHECK_CHILD_OK(pid);
}
