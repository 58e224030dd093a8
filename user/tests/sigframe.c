/* sigframe.c - the x86-64 signal frame as Linux lays it out and rt_sigreturn restores it: a
 * SA_SIGINFO handler's ucontext_t (gregs[REG_RIP] at the faulting instruction, general
 * registers, REG_TRAPNO/REG_ERR/REG_CR2 of faults, uc_sigmask), writes to gregs (skip an
 * instruction, change a register) and to uc_sigmask taking effect after the return, the FPU
 * state (xmm0-15 visible in uc_mcontext.fpregs, intact after a handler that uses floating
 * point, changeable by the handler; the handler starts with a default MXCSR and x87 control
 * word), the frame below the red zone with the stack 16-byte aligned, the return address being
 * sa_restorer (raw rt_sigaction with SA_RESTORER), and sigaltstack (handler on the alternate
 * stack, SS_ONSTACK inside, EPERM to change it there, ENOMEM/EINVAL, SS_DISABLE, uc_stack,
 * stack overflow caught only on an alternate stack under a small RLIMIT_STACK).
 * Syscalls: rt_sigaction, rt_sigprocmask, rt_sigreturn, sigaltstack, tgkill, kill, fork,
 * wait4, mmap, munmap, mprotect, prlimit64, prctl.
 */
#define _GNU_SOURCE
#define TEST_MAIN
#include "test.h"

#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <ucontext.h>

#include "children.h"
#include "sigs.h"

#define PAGE 4096UL
#define K_SA_RESTORER 0x04000000

/* Default signal state, and no alternate signal stack. */
static void sig_reset(void)
{
    stack_t off = {.ss_sp = NULL, .ss_flags = SS_DISABLE, .ss_size = 0};
    sigaltstack(&off, NULL);
    sig_defaults();
}

static int on(int sig, void (*fn)(int, siginfo_t *, void *), int flags)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = fn;
    sa.sa_flags = flags | SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    return sigaction(sig, &sa, NULL);
}

static int send_self(int sig)
{
    return (int)syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), sig);
}

/* ---- instructions at known addresses ---- */

extern char ud2_insn[], load_insn[], store_insn[], regs_insn[], xmm_insn[], my_restorer[];
void ud2_func(void);
long load_func(const void *p);             /* movq (%rdi), %rax (3 bytes) */
void store_func(void *p, long v);          /* movq %rsi, (%rdi) (3 bytes) */
void regs_func(unsigned long out[6]);      /* ud2 with known rbx, r12-r15, r8 */
void xmm_func(const void *in, void *out);  /* ud2 with xmm0-15 loaded from in */
__asm__(".text\n"
        ".globl ud2_func\n.type ud2_func,@function\n"
        "ud2_func:\n"
        ".globl ud2_insn\nud2_insn:\n"
        "    ud2\n"
        "    ret\n"
        ".globl load_func\n.type load_func,@function\n"
        "load_func:\n"
        ".globl load_insn\nload_insn:\n"
        "    movq (%rdi), %rax\n"
        "    ret\n"
        ".globl store_func\n.type store_func,@function\n"
        "store_func:\n"
        ".globl store_insn\nstore_insn:\n"
        "    movq %rsi, (%rdi)\n"
        "    ret\n"
        ".globl regs_func\n.type regs_func,@function\n"
        "regs_func:\n"
        "    pushq %rbx\n    pushq %r12\n    pushq %r13\n    pushq %r14\n    pushq %r15\n"
        "    movabsq $0x1111111111111111, %rbx\n"
        "    movabsq $0x2222222222222222, %r12\n"
        "    movabsq $0x3333333333333333, %r13\n"
        "    movabsq $0x4444444444444444, %r14\n"
        "    movabsq $0x5555555555555555, %r15\n"
        "    movabsq $0x6666666666666666, %r8\n"
        ".globl regs_insn\nregs_insn:\n"
        "    ud2\n"
        "    movq %rbx, 0(%rdi)\n    movq %r12, 8(%rdi)\n    movq %r13, 16(%rdi)\n"
        "    movq %r14, 24(%rdi)\n    movq %r15, 32(%rdi)\n    movq %r8, 40(%rdi)\n"
        "    popq %r15\n    popq %r14\n    popq %r13\n    popq %r12\n    popq %rbx\n"
        "    ret\n"
        ".globl xmm_func\n.type xmm_func,@function\n"
        "xmm_func:\n"
        "    movdqu 0(%rdi), %xmm0\n    movdqu 16(%rdi), %xmm1\n"
        "    movdqu 32(%rdi), %xmm2\n    movdqu 48(%rdi), %xmm3\n"
        "    movdqu 64(%rdi), %xmm4\n    movdqu 80(%rdi), %xmm5\n"
        "    movdqu 96(%rdi), %xmm6\n    movdqu 112(%rdi), %xmm7\n"
        "    movdqu 128(%rdi), %xmm8\n    movdqu 144(%rdi), %xmm9\n"
        "    movdqu 160(%rdi), %xmm10\n    movdqu 176(%rdi), %xmm11\n"
        "    movdqu 192(%rdi), %xmm12\n    movdqu 208(%rdi), %xmm13\n"
        "    movdqu 224(%rdi), %xmm14\n    movdqu 240(%rdi), %xmm15\n"
        ".globl xmm_insn\nxmm_insn:\n"
        "    ud2\n"
        "    movdqu %xmm0, 0(%rsi)\n    movdqu %xmm1, 16(%rsi)\n"
        "    movdqu %xmm2, 32(%rsi)\n    movdqu %xmm3, 48(%rsi)\n"
        "    movdqu %xmm4, 64(%rsi)\n    movdqu %xmm5, 80(%rsi)\n"
        "    movdqu %xmm6, 96(%rsi)\n    movdqu %xmm7, 112(%rsi)\n"
        "    movdqu %xmm8, 128(%rsi)\n    movdqu %xmm9, 144(%rsi)\n"
        "    movdqu %xmm10, 160(%rsi)\n    movdqu %xmm11, 176(%rsi)\n"
        "    movdqu %xmm12, 192(%rsi)\n    movdqu %xmm13, 208(%rsi)\n"
        "    movdqu %xmm14, 224(%rsi)\n    movdqu %xmm15, 240(%rsi)\n"
        "    ret\n"
        ".globl my_restorer\n.type my_restorer,@function\n"
        "my_restorer:\n"
        "    movq $15, %rax\n" /* rt_sigreturn */
        "    syscall\n"
        "    hlt\n");

/* ---- handler records ---- */

static volatile int hits;
static volatile greg_t g_rip, g_rdi, g_rsi, g_trapno, g_err, g_cr2, g_rsp;
static void *volatile g_addr;
static volatile int g_code;
static volatile long skip_by;      /* added to RIP by the handler */
static volatile greg_t set_rax = -1; /* if != -1, the handler sets RAX */

static void skip_handler(int sig, siginfo_t *si, void *ucv)
{
    (void)sig;
    ucontext_t *uc = ucv;
    hits++;
    g_addr = si->si_addr;
    g_code = si->si_code;
    g_rip = uc->uc_mcontext.gregs[REG_RIP];
    g_rdi = uc->uc_mcontext.gregs[REG_RDI];
    g_rsi = uc->uc_mcontext.gregs[REG_RSI];
    g_rsp = uc->uc_mcontext.gregs[REG_RSP];
    g_trapno = uc->uc_mcontext.gregs[REG_TRAPNO];
    g_err = uc->uc_mcontext.gregs[REG_ERR];
    g_cr2 = uc->uc_mcontext.gregs[REG_CR2];
    uc->uc_mcontext.gregs[REG_RIP] += skip_by;
    if (set_rax != -1)
        uc->uc_mcontext.gregs[REG_RAX] = set_rax;
}

/* ================= registers ================= */

TEST(sigill_rip_points_at_ud2_and_skipping_two_bytes_resumes_after_it)
{
    sig_reset();
    hits = 0;
    skip_by = 2;
    set_rax = -1;
    CHECK_OK(on(SIGILL, skip_handler, 0));
    ud2_func(); /* returns only if the handler moved RIP past ud2 */
    CHECK_EQ(hits, 1);
    CHECK_EQ(g_rip, (greg_t)(uintptr_t)ud2_insn);
    CHECK(g_addr == (void *)ud2_insn);
    CHECK_EQ(g_trapno, 6); /* #UD */
    CHECK_EQ(g_code, ILL_ILLOPN);
}

TEST(sigsegv_read_fault_frame_rip_rdi_trapno_err_cr2)
{
    sig_reset();
    char *m = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(m != MAP_FAILED);
    CHECK_OK(munmap(m, PAGE));
    hits = 0;
    skip_by = 3;
    set_rax = 42;
    CHECK_OK(on(SIGSEGV, skip_handler, 0));
    long v = load_func(m + 8);
    set_rax = -1;
    CHECK_EQ(hits, 1);
    CHECK_EQ(v, 42); /* RAX set by the handler */
    CHECK_EQ(g_rip, (greg_t)(uintptr_t)load_insn);
    CHECK_EQ(g_rdi, (greg_t)(uintptr_t)(m + 8));
    CHECK(g_addr == (void *)(m + 8));
    CHECK_EQ(g_code, SEGV_MAPERR);
    CHECK_EQ(g_trapno, 14); /* #PF */
    CHECK_EQ(g_cr2, (greg_t)(uintptr_t)(m + 8));
    CHECK_EQ(g_err & 7, 4); /* user, read, not present */
}

TEST(sigsegv_write_to_readonly_page_err_has_write_and_present_bits)
{
    sig_reset();
    char *m = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(m != MAP_FAILED);
    (void)*(volatile char *)m; /* map it */
    hits = 0;
    skip_by = 3;
    set_rax = -1;
    CHECK_OK(on(SIGSEGV, skip_handler, 0));
    store_func(m + 16, 0x1234);
    munmap(m, PAGE);
    CHECK_EQ(hits, 1);
    CHECK_EQ(g_rip, (greg_t)(uintptr_t)store_insn);
    CHECK_EQ(g_rsi, 0x1234);
    CHECK_EQ(g_code, SEGV_ACCERR);
    CHECK_EQ(g_trapno, 14);
    CHECK_EQ(g_cr2, (greg_t)(uintptr_t)(m + 16));
    CHECK_EQ(g_err & 7, 7); /* user, write, present */
}

static volatile greg_t seen_regs[6];
static void regs_handler(int sig, siginfo_t *si, void *ucv)
{
    (void)sig, (void)si;
    ucontext_t *uc = ucv;
    hits++;
    seen_regs[0] = uc->uc_mcontext.gregs[REG_RBX];
    seen_regs[1] = uc->uc_mcontext.gregs[REG_R12];
    seen_regs[2] = uc->uc_mcontext.gregs[REG_R13];
    seen_regs[3] = uc->uc_mcontext.gregs[REG_R14];
    seen_regs[4] = uc->uc_mcontext.gregs[REG_R15];
    seen_regs[5] = uc->uc_mcontext.gregs[REG_R8];
    g_rip = uc->uc_mcontext.gregs[REG_RIP];
    /* Clobber what the handler can: the callee-saved registers must come back from the
     * frame. */
    __asm__ volatile("movq $0, %%rbx\n movq $0, %%r12\n movq $0, %%r13\n"
                     "movq $0, %%r14\n movq $0, %%r15\n"
                     ::: "rbx", "r12", "r13", "r14", "r15");
    uc->uc_mcontext.gregs[REG_R8] = 0x7777777777777777LL;
    uc->uc_mcontext.gregs[REG_RIP] += 2;
}

TEST(general_registers_in_the_frame_and_restored_by_sigreturn)
{
    sig_reset();
    hits = 0;
    CHECK_OK(on(SIGILL, regs_handler, 0));
    unsigned long out[6] = {0};
    regs_func(out);
    CHECK_EQ(hits, 1);
    CHECK_EQ(g_rip, (greg_t)(uintptr_t)regs_insn);
    CHECK_EQ(seen_regs[0], 0x1111111111111111LL);
    CHECK_EQ(seen_regs[1], 0x2222222222222222LL);
    CHECK_EQ(seen_regs[2], 0x3333333333333333LL);
    CHECK_EQ(seen_regs[3], 0x4444444444444444LL);
    CHECK_EQ(seen_regs[4], 0x5555555555555555LL);
    CHECK_EQ(seen_regs[5], 0x6666666666666666LL);
    CHECK_EQ(out[0], 0x1111111111111111UL);
    CHECK_EQ(out[1], 0x2222222222222222UL);
    CHECK_EQ(out[2], 0x3333333333333333UL);
    CHECK_EQ(out[3], 0x4444444444444444UL);
    CHECK_EQ(out[4], 0x5555555555555555UL);
    CHECK_EQ(out[5], 0x7777777777777777UL); /* changed in the frame by the handler */
}

/* ================= signal mask in the frame ================= */

static volatile int uc_has_usr1, uc_has_usr2, cur_has_usr1;
static void mask_handler(int sig, siginfo_t *si, void *ucv)
{
    (void)sig, (void)si;
    ucontext_t *uc = ucv;
    hits++;
    uc_has_usr1 = sigismember(&uc->uc_sigmask, SIGUSR1);
    uc_has_usr2 = sigismember(&uc->uc_sigmask, SIGUSR2);
    cur_has_usr1 = is_blocked(SIGUSR1);
    sigaddset(&uc->uc_sigmask, SIGHUP); /* takes effect at sigreturn */
}

TEST(uc_sigmask_is_the_mask_at_the_signal_and_sigreturn_installs_it)
{
    sig_reset();
    hits = 0;
    CHECK_OK(on(SIGUSR1, mask_handler, 0));
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR2);
    CHECK_OK(sigprocmask(SIG_SETMASK, &s, NULL));
    CHECK_OK(send_self(SIGUSR1));
    CHECK_EQ(hits, 1);
    CHECK_EQ(uc_has_usr1, 0);
    CHECK_EQ(uc_has_usr2, 1);
    CHECK_EQ(cur_has_usr1, 1);
    CHECK_EQ(is_blocked(SIGHUP), 1);
    CHECK_EQ(is_blocked(SIGUSR2), 1);
    CHECK_EQ(is_blocked(SIGUSR1), 0);
}

/* ================= FPU state ================= */

static unsigned char xin[256], xout[256], xnew[16];
static volatile int xmm_seen_ok, fpregs_aligned;
static volatile double fp_sink;

static void xmm_handler(int sig, siginfo_t *si, void *ucv)
{
    (void)sig, (void)si;
    ucontext_t *uc = ucv;
    hits++;
    int ok = uc->uc_mcontext.fpregs != NULL;
    fpregs_aligned = ok && ((uintptr_t)uc->uc_mcontext.fpregs % 16) == 0;
    if (ok)
        ok = memcmp((const void *)uc->uc_mcontext.fpregs->_xmm, xin, 256) == 0;
    xmm_seen_ok = ok;
    /* Use floating point and vector registers heavily. */
    volatile double a = 1.5, b = 2.25;
    double acc = 0;
    for (int i = 1; i < 200; i++)
        acc += a * i / (b + i);
    fp_sink = acc;
    volatile unsigned char junk[256];
    for (int i = 0; i < 256; i++)
        junk[i] = (unsigned char)(0x5a ^ i);
    __asm__ volatile("pxor %%xmm0, %%xmm0\n pcmpeqd %%xmm1, %%xmm1\n movdqa %%xmm1, %%xmm15\n"
                     "movdqa %%xmm1, %%xmm8\n"
                     ::: "xmm0", "xmm1", "xmm8", "xmm15");
    (void)junk;
    if (uc->uc_mcontext.fpregs)
        memcpy((void *)&uc->uc_mcontext.fpregs->_xmm[15], xnew, 16);
    uc->uc_mcontext.gregs[REG_RIP] += 2;
}

TEST(xmm_registers_are_in_fpregs_survive_the_handler_and_can_be_changed)
{
    sig_reset();
    for (int i = 0; i < 256; i++)
        xin[i] = (unsigned char)(i * 7 + 3);
    for (int i = 0; i < 16; i++)
        xnew[i] = (unsigned char)(0xa0 + i);
    memset(xout, 0, sizeof xout);
    hits = 0;
    CHECK_OK(on(SIGILL, xmm_handler, 0));
    xmm_func(xin, xout);
    CHECK_EQ(hits, 1);
    CHECK_EQ(xmm_seen_ok, 1);
    CHECK_EQ(fpregs_aligned, 1);
    CHECK(memcmp(xout, xin, 240) == 0);       /* xmm0-14 intact */
    CHECK(memcmp(xout + 240, xnew, 16) == 0); /* xmm15 as the handler left it in the frame */
}

static unsigned get_mxcsr(void)
{
    unsigned m;
    __asm__ volatile("stmxcsr %0" : "=m"(m));
    return m;
}
static void set_mxcsr(unsigned m) { __asm__ volatile("ldmxcsr %0" ::"m"(m)); }
static unsigned short get_fcw(void)
{
    unsigned short c;
    __asm__ volatile("fnstcw %0" : "=m"(c));
    return c;
}
static void set_fcw(unsigned short c) { __asm__ volatile("fldcw %0" ::"m"(c)); }

static volatile unsigned h_mxcsr, h_frame_mxcsr;
static volatile unsigned short h_fcw, h_frame_fcw;
static void fpenv_handler(int sig, siginfo_t *si, void *ucv)
{
    (void)sig, (void)si;
    ucontext_t *uc = ucv;
    hits++;
    h_mxcsr = get_mxcsr();
    h_fcw = get_fcw();
    h_frame_mxcsr = uc->uc_mcontext.fpregs ? uc->uc_mcontext.fpregs->mxcsr : 0;
    h_frame_fcw = uc->uc_mcontext.fpregs ? uc->uc_mcontext.fpregs->cwd : 0;
    set_mxcsr(0x1f80);
    set_fcw(0x37f);
}

TEST(handler_starts_with_default_mxcsr_and_fcw_and_the_interrupted_ones_come_back)
{
    sig_reset();
    hits = 0;
    CHECK_OK(on(SIGUSR1, fpenv_handler, 0));
    unsigned old_mx = get_mxcsr();
    unsigned short old_cw = get_fcw();
    unsigned mx = (old_mx & ~0x6000u) | 0x6000u;            /* round toward zero */
    unsigned short cw = (unsigned short)((old_cw & ~0x300) | 0x200); /* 53-bit precision */
    set_mxcsr(mx);
    set_fcw(cw);
    send_self(SIGUSR1);
    unsigned after_mx = get_mxcsr();
    unsigned short after_cw = get_fcw();
    set_mxcsr(old_mx);
    set_fcw(old_cw);
    CHECK_EQ(hits, 1);
    CHECK_EQ(h_mxcsr, 0x1f80);
    CHECK_EQ(h_fcw, 0x37f);
    CHECK_EQ(h_frame_mxcsr, mx);
    CHECK_EQ(h_frame_fcw, cw);
    CHECK_EQ(after_mx, mx);
    CHECK_EQ(after_cw, cw);
}

/* ================= frame placement ================= */

static volatile uintptr_t h_local, h_uc, h_si, h_interrupted_rsp, h_ret;
static volatile int h_aligned;
static void where_handler(int sig, siginfo_t *si, void *ucv)
{
    (void)sig;
    ucontext_t *uc = ucv;
    hits++;
    _Alignas(16) volatile char local[16];
    local[0] = 1;
    h_local = (uintptr_t)local;
    h_aligned = ((uintptr_t)local % 16) == 0;
    h_uc = (uintptr_t)uc;
    h_si = (uintptr_t)si;
    h_interrupted_rsp = (uintptr_t)uc->uc_mcontext.gregs[REG_RSP];
    h_ret = (uintptr_t)__builtin_return_address(0);
}

TEST(frame_is_below_the_red_zone_and_the_handler_stack_is_aligned)
{
    sig_reset();
    hits = 0;
    CHECK_OK(on(SIGUSR1, where_handler, 0));
    CHECK_OK(send_self(SIGUSR1));
    CHECK_EQ(hits, 1);
    CHECK_EQ(h_aligned, 1);
    CHECK(h_uc + sizeof(ucontext_t) <= h_interrupted_rsp - 128);
    CHECK(h_si + sizeof(siginfo_t) <= h_interrupted_rsp - 128);
    CHECK(h_local < h_uc);
}

static volatile int raw_hits, raw_signo;
static void raw_handler(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    raw_hits++;
    raw_signo = si->si_signo == sig ? sig : -1;
    h_ret = (uintptr_t)__builtin_return_address(0);
}

TEST(raw_rt_sigaction_with_sa_restorer_returns_through_the_restorer)
{
    sig_reset();
    raw_hits = 0;
    struct ksigaction ka = {0};
    ka.handler = (void *)raw_handler;
    ka.flags = SA_SIGINFO | K_SA_RESTORER;
    ka.restorer = (void *)my_restorer;
    CHECK_OK(syscall(SYS_rt_sigaction, SIGUSR2, &ka, NULL, KSIGSET_SIZE));
    struct ksigaction got = {0};
    CHECK_OK(syscall(SYS_rt_sigaction, SIGUSR2, NULL, &got, KSIGSET_SIZE));
    CHECK(got.restorer == (void *)my_restorer);
    CHECK(got.flags & K_SA_RESTORER);
    CHECK_OK(send_self(SIGUSR2));
    CHECK_EQ(raw_hits, 1);
    CHECK_EQ(raw_signo, SIGUSR2);
    CHECK_EQ(h_ret, (uintptr_t)my_restorer); /* the frame's return address */
    CHECK_OK(send_self(SIGUSR2));           /* and it returned cleanly: again */
    CHECK_EQ(raw_hits, 2);
}

/* ================= sigaltstack ================= */

#define ALT_SIZE (64 * 1024)
static _Alignas(64) char altstack[ALT_SIZE];
static volatile int h_onstack_flag, h_change_errno, h_change_ret;
static void *volatile h_uc_ss_sp;
static volatile size_t h_uc_ss_size;

static void alt_handler(int sig, siginfo_t *si, void *ucv)
{
    (void)sig, (void)si;
    ucontext_t *uc = ucv;
    hits++;
    _Alignas(16) volatile char local[16];
    local[0] = 1;
    h_local = (uintptr_t)local;
    h_aligned = ((uintptr_t)local % 16) == 0;
    stack_t cur;
    memset(&cur, 0, sizeof cur);
    sigaltstack(NULL, &cur);
    h_onstack_flag = cur.ss_flags;
    stack_t other = {.ss_sp = altstack, .ss_flags = 0, .ss_size = ALT_SIZE / 2};
    errno = 0;
    h_change_ret = sigaltstack(&other, NULL);
    h_change_errno = errno;
    h_uc_ss_sp = uc->uc_stack.ss_sp;
    h_uc_ss_size = uc->uc_stack.ss_size;
}

TEST(sigaltstack_initially_disabled)
{
    sig_reset();
    stack_t cur;
    memset(&cur, 0, sizeof cur);
    CHECK_OK(sigaltstack(NULL, &cur));
    CHECK_EQ(cur.ss_flags, SS_DISABLE);
}

TEST(sa_onstack_handler_runs_on_the_alternate_stack_with_ss_onstack)
{
    sig_reset();
    hits = 0;
    /* A misaligned top: the kernel must still give the handler an aligned stack. */
    stack_t ss = {.ss_sp = altstack + 3, .ss_flags = 0, .ss_size = ALT_SIZE - 8};
    CHECK_OK(sigaltstack(&ss, NULL));
    stack_t cur;
    memset(&cur, 0, sizeof cur);
    CHECK_OK(sigaltstack(NULL, &cur));
    CHECK(cur.ss_sp == altstack + 3);
    CHECK_EQ(cur.ss_size, ALT_SIZE - 8);
    CHECK_EQ(cur.ss_flags, 0);
    CHECK_OK(on(SIGUSR1, alt_handler, SA_ONSTACK));
    CHECK_OK(send_self(SIGUSR1));
    CHECK_EQ(hits, 1);
    CHECK(h_local >= (uintptr_t)altstack + 3 && h_local < (uintptr_t)altstack + 3 + ALT_SIZE - 8);
    CHECK_EQ(h_aligned, 1);
    CHECK_EQ(h_onstack_flag, SS_ONSTACK);
    CHECK_EQ(h_change_ret, -1);
    CHECK_EQ(h_change_errno, EPERM);
    CHECK(h_uc_ss_sp == altstack + 3);
    CHECK_EQ(h_uc_ss_size, ALT_SIZE - 8);
    memset(&cur, 0, sizeof cur);
    CHECK_OK(sigaltstack(NULL, &cur));
    CHECK_EQ(cur.ss_flags, 0); /* off it again after the return */
    CHECK(cur.ss_sp == altstack + 3);
}

TEST(handler_without_sa_onstack_stays_on_the_normal_stack)
{
    sig_reset();
    hits = 0;
    stack_t ss = {.ss_sp = altstack, .ss_flags = 0, .ss_size = ALT_SIZE};
    CHECK_OK(sigaltstack(&ss, NULL));
    CHECK_OK(on(SIGUSR1, alt_handler, 0));
    CHECK_OK(send_self(SIGUSR1));
    CHECK_EQ(hits, 1);
    CHECK(h_local < (uintptr_t)altstack || h_local >= (uintptr_t)altstack + ALT_SIZE);
    CHECK_EQ(h_onstack_flag, 0);
    CHECK_EQ(h_change_ret, 0); /* not on it: may be changed */
}

TEST(sigaltstack_errors_and_ss_disable)
{
    sig_reset();
    stack_t small = {.ss_sp = altstack, .ss_flags = 0, .ss_size = 1024};
    CHECK_ERRNO(syscall(SYS_sigaltstack, &small, NULL), ENOMEM); /* raw: musl checks too */
    stack_t badf = {.ss_sp = altstack, .ss_flags = 0x1234, .ss_size = ALT_SIZE};
    CHECK_ERRNO(syscall(SYS_sigaltstack, &badf, NULL), EINVAL);
    stack_t ok = {.ss_sp = altstack, .ss_flags = 0, .ss_size = ALT_SIZE};
    CHECK_OK(sigaltstack(&ok, NULL));
    stack_t off = {.ss_sp = NULL, .ss_flags = SS_DISABLE, .ss_size = 0}, old;
    memset(&old, 0, sizeof old);
    CHECK_OK(sigaltstack(&off, &old)); /* size is ignored with SS_DISABLE */
    CHECK(old.ss_sp == altstack);
    CHECK_EQ(old.ss_size, ALT_SIZE);
    CHECK_EQ(old.ss_flags, 0);
    memset(&old, 0, sizeof old);
    CHECK_OK(sigaltstack(NULL, &old));
    CHECK_EQ(old.ss_flags, SS_DISABLE);
    /* raw: musl checks the struct in user space first */
    CHECK_ERRNO(syscall(SYS_sigaltstack, (stack_t *)(uintptr_t)8, NULL), EFAULT);
}

static sigjmp_buf jb;
static void jump_handler(int sig, siginfo_t *si, void *uc)
{
    (void)sig, (void)si, (void)uc;
    hits++;
    siglongjmp(jb, 1);
}

TEST(siglongjmp_out_of_the_alternate_stack_leaves_it)
{
    sig_reset();
    hits = 0;
    stack_t ss = {.ss_sp = altstack, .ss_flags = 0, .ss_size = ALT_SIZE};
    CHECK_OK(sigaltstack(&ss, NULL));
    CHECK_OK(on(SIGUSR1, jump_handler, SA_ONSTACK));
    if (sigsetjmp(jb, 1) == 0) {
        send_self(SIGUSR1);
        FAIL("handler returned");
    }
    stack_t cur;
    memset(&cur, 0, sizeof cur);
    CHECK_OK(sigaltstack(NULL, &cur));
    CHECK_EQ(cur.ss_flags, 0);
    if (sigsetjmp(jb, 1) == 0) { /* the stack is usable again */
        send_self(SIGUSR1);
        FAIL("handler returned");
    }
    CHECK_EQ(hits, 2);
}

/* ================= stack overflow ================= */

static volatile int rec_depth;
static int recurse(int n)
{
    volatile char buf[4096];
    buf[0] = (char)n;
    buf[sizeof buf - 1] = (char)n;
    rec_depth = n;
    if (n > 100000) /* 400 MiB: never reached under any sane RLIMIT_STACK */
        return buf[0];
    return recurse(n + 1) + buf[sizeof buf - 1];
}

static void overflow_child(int use_altstack)
{
    struct rlimit rl = {1024 * 1024, 1024 * 1024};
    CCHECK(setrlimit(RLIMIT_STACK, &rl) == 0);
    struct rlimit core = {0, 0};
    setrlimit(RLIMIT_CORE, &core);
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    if (use_altstack) {
        stack_t ss = {.ss_sp = altstack, .ss_flags = 0, .ss_size = ALT_SIZE};
        CCHECK(sigaltstack(&ss, NULL) == 0);
    }
    CCHECK(on(SIGSEGV, jump_handler, use_altstack ? SA_ONSTACK : 0) == 0);
    if (sigsetjmp(jb, 1) == 0) {
        recurse(0);
        _exit(3);
    }
    CCHECK(hits == 1);
    CCHECK(rec_depth > 16);
    _exit(0);
}

TEST(stack_overflow_sigsegv_is_caught_on_the_alternate_stack)
{
    sig_reset();
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        hits = 0;
        overflow_child(1);
    }
    int st = child_status(pid);
    CHECK_EQ(st, 0);
}

TEST(stack_overflow_without_alternate_stack_kills_with_sigsegv)
{
    sig_reset();
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        hits = 0;
        overflow_child(0);
    }
    int st = child_status(pid);
    CHECK(WIFSIGNALED(st));
    CHECK_EQ(WTERMSIG(st), SIGSEGV);
}

TEST(sigaltstack_that_wraps_past_the_top_of_memory_kills_with_sigsegv)
{
    /* sp + size wraps to a low unmapped address: the frame cannot be written, so the signal
     * kills (the address arithmetic once could overflow in the kernel). */
    sig_reset();
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        struct rlimit core = {0, 0};
        setrlimit(RLIMIT_CORE, &core);
        prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
        stack_t ss = {.ss_sp = (void *)(uintptr_t)-4096, .ss_flags = 0, .ss_size = 3 * 4096};
        CCHECK(syscall(SYS_sigaltstack, &ss, NULL) == 0);
        CCHECK(on(SIGUSR1, jump_handler, SA_ONSTACK) == 0);
        raise(SIGUSR1);
        _exit(3);
    }
    int st = child_status(pid);
    CHECK(WIFSIGNALED(st));
    CHECK_EQ(WTERMSIG(st), SIGSEGV);
}
