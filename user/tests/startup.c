/* startup.c - what a process finds when it starts: argv/envp/auxv laid out on the initial stack
 * as the x86-64 psABI says, auxv values consistent with the ELF file and the credentials, stack
 * alignment, TLS (fs base), and that the kernel preserves registers and FPU/SSE state across
 * syscalls and preemption.
 * Syscalls: getppid, getpid, getuid/geteuid/getgid/getegid, arch_prctl(ARCH_GET_FS/ARCH_SET_FS),
 * clock_gettime, plus libc start-up.
 */
#define _GNU_SOURCE
#define TEST_MAIN
#include "test.h"

#include <elf.h>
#include <stdint.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <time.h>

#ifndef ARCH_SET_FS
#define ARCH_SET_FS 0x1002
#define ARCH_GET_FS 0x1003
#endif

extern char **environ;
extern const Elf64_Ehdr __ehdr_start; /* provided by the linker: the ELF header in memory */
extern char _start[];                 /* the entry point of both musl and glibc */

/* ---- argv, environ, auxv on the initial stack ---- */

TEST(argc_at_least_one) { CHECK(test_argc >= 1); }

TEST(argv_null_terminated) { CHECK(test_argv[test_argc] == NULL); }

TEST(argv0_non_empty)
{
    CHECK(test_argv[0] != NULL);
    CHECK(test_argv[0][0] != '\0');
}

TEST(environ_non_null_and_terminated)
{
    CHECK(environ != NULL);
    CHECK(environ == test_envp);
    size_t n = 0;
    while (environ[n] != NULL && n < 100000)
        n++;
    CHECK(environ[n] == NULL);
}

/* psABI: argc at the initial rsp, then argv[], NULL, envp[], NULL, auxv pairs. */
TEST(environ_follows_argv_on_stack) { CHECK(test_envp == test_argv + test_argc + 1); }

/* psABI: rsp is 16-byte aligned at process entry, and argc sits at rsp, right below argv. */
TEST(initial_stack_pointer_16_byte_aligned)
{
    CHECK_EQ(((uintptr_t)test_argv - 8) % 16, 0);
    CHECK_EQ(*(long *)((char *)test_argv - 8), test_argc);
}

static Elf64_auxv_t *stack_auxv(void)
{
    char **p = test_envp;
    while (*p != NULL)
        p++;
    return (Elf64_auxv_t *)(p + 1);
}

TEST(auxv_on_stack_matches_getauxval)
{
    Elf64_auxv_t *a = stack_auxv();
    int n = 0, saw_pagesz = 0;
    for (; a->a_type != AT_NULL; a++, n++) {
        if (n > 200)
            FAIL("auxv has no AT_NULL within 200 entries");
        if (a->a_type == AT_PAGESZ)
            saw_pagesz = 1;
        /* getauxval returns the first entry of a type; Linux never repeats one. glibc's
         * getauxval reports its own view of the hwcaps, so those are not compared. */
        if (a->a_type == AT_HWCAP || a->a_type == AT_HWCAP2)
            continue;
        if (getauxval(a->a_type) != a->a_un.a_val)
            FAIL("auxv type %lu: stack %#lx, getauxval %#lx", (unsigned long)a->a_type,
                 (unsigned long)a->a_un.a_val, getauxval(a->a_type));
    }
    CHECK(saw_pagesz);
}

/* psABI figure 3.9: the strings sit in the information block above the auxv. */
TEST(argv_and_env_strings_above_auxv)
{
    Elf64_auxv_t *a = stack_auxv();
    while (a->a_type != AT_NULL)
        a++;
    uintptr_t end = (uintptr_t)(a + 1);
    for (int i = 0; i < test_argc; i++)
        CHECK((uintptr_t)test_argv[i] >= end);
    for (char **e = test_envp; *e; e++)
        CHECK((uintptr_t)*e >= end);
}

TEST(at_pagesz_is_4096)
{
    CHECK_EQ(getauxval(AT_PAGESZ), 4096);
    CHECK_EQ(sysconf(_SC_PAGESIZE), 4096);
}

TEST(at_clktck_is_100)
{
    CHECK_EQ(getauxval(AT_CLKTCK), 100);
    CHECK_EQ(sysconf(_SC_CLK_TCK), 100);
}

TEST(at_phent_is_sizeof_phdr) { CHECK_EQ(getauxval(AT_PHENT), sizeof(Elf64_Phdr)); }

TEST(at_phdr_and_phnum_match_elf_header)
{
    CHECK(memcmp(__ehdr_start.e_ident, ELFMAG, SELFMAG) == 0);
    CHECK_EQ(__ehdr_start.e_ident[EI_CLASS], ELFCLASS64);
    CHECK_EQ(getauxval(AT_PHNUM), __ehdr_start.e_phnum);
    CHECK_EQ(getauxval(AT_PHENT), __ehdr_start.e_phentsize);
    CHECK_EQ(getauxval(AT_PHDR), (uintptr_t)&__ehdr_start + __ehdr_start.e_phoff);
}

/* Load bias: where the segment at file offset 0 was put, minus its link-time address. */
static uintptr_t load_bias(const Elf64_Phdr *ph, int n)
{
    for (int i = 0; i < n; i++)
        if (ph[i].p_type == PT_LOAD && ph[i].p_offset == 0)
            return (uintptr_t)&__ehdr_start - ph[i].p_vaddr;
    return 0;
}

TEST(program_headers_describe_this_image)
{
    const Elf64_Phdr *ph = (const Elf64_Phdr *)getauxval(AT_PHDR);
    int n = (int)getauxval(AT_PHNUM), loads = 0, text_found = 0;
    CHECK(ph != NULL && n > 0);
    uintptr_t bias = load_bias(ph, n);
    uintptr_t main_addr = (uintptr_t)&test_run_all;
    for (int i = 0; i < n; i++) {
        if (ph[i].p_type != PT_LOAD)
            continue;
        loads++;
        CHECK(ph[i].p_memsz >= ph[i].p_filesz);
        const volatile char *seg = (const volatile char *)(bias + ph[i].p_vaddr);
        if (ph[i].p_filesz > 0)
            (void)seg[0], (void)seg[ph[i].p_filesz - 1]; /* mapped: reading does not fault */
        if ((ph[i].p_flags & PF_X) && main_addr >= bias + ph[i].p_vaddr &&
            main_addr < bias + ph[i].p_vaddr + ph[i].p_memsz)
            text_found = 1;
    }
    CHECK(loads >= 1);
    CHECK(text_found);
}

TEST(at_entry_is_start)
{
    CHECK(getauxval(AT_ENTRY) != 0);
    CHECK_EQ(getauxval(AT_ENTRY), (uintptr_t)_start);
}

/* AT_BASE is the interpreter's load address: 0 for a static executable (no PT_INTERP). */
TEST(at_base_zero_iff_no_interpreter)
{
    const Elf64_Phdr *ph = (const Elf64_Phdr *)getauxval(AT_PHDR);
    int n = (int)getauxval(AT_PHNUM), interp = 0;
    for (int i = 0; i < n; i++)
        interp |= ph[i].p_type == PT_INTERP;
    if (interp)
        CHECK(getauxval(AT_BASE) != 0);
    else
        CHECK_EQ(getauxval(AT_BASE), 0);
}

TEST(at_random_points_to_16_readable_bytes)
{
    const volatile unsigned char *r = (const volatile unsigned char *)getauxval(AT_RANDOM);
    CHECK(r != NULL);
    int nonzero = 0;
    for (int i = 0; i < 16; i++)
        nonzero |= r[i];
    CHECK(nonzero); /* all-zero has probability 2^-128 */
}

TEST(at_ids_match_credentials)
{
    CHECK_EQ(getauxval(AT_UID), getuid());
    CHECK_EQ(getauxval(AT_EUID), geteuid());
    CHECK_EQ(getauxval(AT_GID), getgid());
    CHECK_EQ(getauxval(AT_EGID), getegid());
}

TEST(at_secure_zero) { CHECK_EQ(getauxval(AT_SECURE), 0); }

TEST(at_execfn_is_a_string)
{
    const char *fn = (const char *)getauxval(AT_EXECFN);
    CHECK(fn != NULL);
    size_t len = strnlen(fn, 4096);
    CHECK(len > 0);
    CHECK(len < 4096);
}

/* ---- alignment and TLS ---- */

__attribute__((noinline)) static uintptr_t aligned_local_address(void)
{
    volatile long double ld = 1.0L;
    volatile char buf[16] __attribute__((aligned(16)));
    buf[0] = (char)ld;
    return (uintptr_t)buf | ((uintptr_t)&ld & 15);
}

TEST(stack_16_byte_aligned_in_calls) { CHECK_EQ(aligned_local_address() & 15, 0); }

static _Thread_local int tls_init = 42;
static _Thread_local long tls_zero;
static _Thread_local _Alignas(64) char tls_aligned[64] = {7};

TEST(tls_initial_values)
{
    CHECK_EQ(tls_init, 42);
    CHECK_EQ(tls_zero, 0);
    CHECK_EQ(tls_aligned[0], 7);
    CHECK_EQ((uintptr_t)tls_aligned % 64, 0);
}

TEST(tls_read_write)
{
    tls_init = 1234;
    tls_zero = -5;
    syscall(SYS_getppid);
    CHECK_EQ(tls_init, 1234);
    CHECK_EQ(tls_zero, -5);
}

static uintptr_t fs_self_pointer(void)
{
    uintptr_t v;
    __asm__ volatile("mov %%fs:0, %0" : "=r"(v));
    return v;
}

/* x86-64 TLS: %fs:0 holds the thread pointer itself; static TLS (variant II) lies below it. */
TEST(arch_prctl_get_fs_is_thread_pointer)
{
    unsigned long fs = 0;
    CHECK_EQ(syscall(SYS_arch_prctl, ARCH_GET_FS, &fs), 0);
    CHECK(fs != 0);
    CHECK_EQ(fs, fs_self_pointer());
    CHECK((uintptr_t)&tls_init < fs);
}

TEST(arch_prctl_set_fs_round_trip)
{
    unsigned long fs = 0, again = 0;
    CHECK_EQ(syscall(SYS_arch_prctl, ARCH_GET_FS, &fs), 0);
    CHECK_EQ(syscall(SYS_arch_prctl, ARCH_SET_FS, fs), 0);
    CHECK_EQ(syscall(SYS_arch_prctl, ARCH_GET_FS, &again), 0);
    CHECK_EQ(again, fs);
    CHECK_EQ(tls_aligned[0], 7);
}

TEST(arch_prctl_bad_code_einval) { CHECK_ERRNO(syscall(SYS_arch_prctl, 0x9999, 0), EINVAL); }

TEST(arch_prctl_get_fs_bad_pointer_efault)
{
    CHECK_ERRNO(syscall(SYS_arch_prctl, ARCH_GET_FS, (void *)8), EFAULT);
}

/* ---- registers across a raw syscall ---- */

/* Loads every general register except rax/rcx/r11 with a pattern, runs getppid with a raw
 * `syscall`, and stores them. Linux clobbers only rax (result), rcx and r11. */
static void gprs_across_syscall(unsigned long out[13])
{
    __asm__ volatile(
        "sub $128, %%rsp\n\t" /* step over the red zone before pushing */
        "push %%rbx\n\tpush %%rbp\n\tpush %%r12\n\tpush %%r13\n\tpush %%r14\n\tpush %%r15\n\t"
        "push %[out]\n\t"
        "movabs $0x1111111111111111, %%rbx\n\t"
        "movabs $0x2222222222222222, %%rdx\n\t"
        "movabs $0x3333333333333333, %%rsi\n\t"
        "movabs $0x4444444444444444, %%rdi\n\t"
        "movabs $0x5555555555555555, %%rbp\n\t"
        "movabs $0x6666666666666666, %%r8\n\t"
        "movabs $0x7777777777777777, %%r9\n\t"
        "movabs $0x8888888888888888, %%r10\n\t"
        "movabs $0x9999999999999999, %%r12\n\t"
        "movabs $0xaaaaaaaaaaaaaaaa, %%r13\n\t"
        "movabs $0xbbbbbbbbbbbbbbbb, %%r14\n\t"
        "movabs $0xcccccccccccccccc, %%r15\n\t"
        "mov $110, %%eax\n\t" /* SYS_getppid */
        "syscall\n\t"
        "mov %%rax, %%r11\n\t"
        "mov (%%rsp), %%rax\n\t"
        "mov %%rbx, 0(%%rax)\n\tmov %%rdx, 8(%%rax)\n\tmov %%rsi, 16(%%rax)\n\t"
        "mov %%rdi, 24(%%rax)\n\tmov %%rbp, 32(%%rax)\n\tmov %%r8, 40(%%rax)\n\t"
        "mov %%r9, 48(%%rax)\n\tmov %%r10, 56(%%rax)\n\tmov %%r12, 64(%%rax)\n\t"
        "mov %%r13, 72(%%rax)\n\tmov %%r14, 80(%%rax)\n\tmov %%r15, 88(%%rax)\n\t"
        "mov %%r11, 96(%%rax)\n\t"
        "pop %%rax\n\t"
        "pop %%r15\n\tpop %%r14\n\tpop %%r13\n\tpop %%r12\n\tpop %%rbp\n\tpop %%rbx\n\t"
        "add $128, %%rsp\n\t"
        :
        : [out] "r"(out)
        : "rax", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "memory", "cc");
}

TEST(general_registers_survive_raw_syscall)
{
    static const char *names[12] = {"rbx", "rdx", "rsi", "rdi", "rbp", "r8",
                                    "r9",  "r10", "r12", "r13", "r14", "r15"};
    static const unsigned long want[12] = {
        0x1111111111111111UL, 0x2222222222222222UL, 0x3333333333333333UL, 0x4444444444444444UL,
        0x5555555555555555UL, 0x6666666666666666UL, 0x7777777777777777UL, 0x8888888888888888UL,
        0x9999999999999999UL, 0xaaaaaaaaaaaaaaaaUL, 0xbbbbbbbbbbbbbbbbUL, 0xccccccccccccccccUL};
    unsigned long out[13];
    gprs_across_syscall(out);
    for (int i = 0; i < 12; i++)
        if (out[i] != want[i])
            FAIL("%s is %#lx after syscall, was %#lx", names[i], out[i], want[i]);
    CHECK_EQ(out[12], getppid()); /* rax: the result */
}

TEST(xmm_registers_survive_raw_syscall)
{
    unsigned char in[16][16], out[16][16];
    for (int r = 0; r < 16; r++)
        for (int b = 0; b < 16; b++)
            in[r][b] = (unsigned char)(r * 16 + b + 1);
    memset(out, 0, sizeof out);
#define LD(n) "movdqu " #n "*16(%[in]), %%xmm" #n "\n\t"
#define ST(n) "movdqu %%xmm" #n ", " #n "*16(%[out])\n\t"
    __asm__ volatile(LD(0) LD(1) LD(2) LD(3) LD(4) LD(5) LD(6) LD(7) LD(8) LD(9) LD(10) LD(11)
                         LD(12) LD(13) LD(14) LD(15)
                     "mov $110, %%eax\n\t"
                     "syscall\n\t"
                     ST(0) ST(1) ST(2) ST(3) ST(4) ST(5) ST(6) ST(7) ST(8) ST(9) ST(10) ST(11)
                         ST(12) ST(13) ST(14) ST(15)
                     :
                     : [in] "r"(in), [out] "r"(out)
                     : "rax", "rcx", "r11", "memory", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4",
                       "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12",
                       "xmm13", "xmm14", "xmm15");
#undef LD
#undef ST
    for (int r = 0; r < 16; r++)
        if (memcmp(in[r], out[r], 16) != 0)
            FAIL("xmm%d changed across syscall (byte 0: %u, was %u)", r, out[r][0], in[r][0]);
}

TEST(mxcsr_survives_syscalls)
{
    unsigned int saved, set, got;
    __asm__ volatile("stmxcsr %0" : "=m"(saved));
    set = (saved & ~0x6000u) | 0x4000u; /* rounding: toward +inf */
    __asm__ volatile("ldmxcsr %0" : : "m"(set));
    for (int i = 0; i < 100; i++)
        syscall(SYS_getppid);
    __asm__ volatile("stmxcsr %0" : "=m"(got));
    __asm__ volatile("ldmxcsr %0" : : "m"(saved));
    CHECK_EQ(got, set);
}

TEST(x87_control_word_survives_syscalls)
{
    unsigned short saved, set, got;
    __asm__ volatile("fnstcw %0" : "=m"(saved));
    set = (unsigned short)((saved & ~0x0c00u) | 0x0c00u); /* rounding: toward zero */
    __asm__ volatile("fldcw %0" : : "m"(set));
    for (int i = 0; i < 100; i++)
        syscall(SYS_getppid);
    __asm__ volatile("fnstcw %0" : "=m"(got));
    __asm__ volatile("fldcw %0" : : "m"(saved));
    CHECK_EQ(got, set);
}

TEST(fp_values_survive_syscall_loop)
{
    volatile double d[8];
    volatile float f[8];
    for (int i = 0; i < 8; i++) {
        d[i] = 1.0 / (i + 3);
        f[i] = 2.5f * (float)i;
    }
    double dr = d[0] * 3.0; /* held in a register across the calls if the compiler likes */
    for (int n = 0; n < 1000; n++)
        syscall(SYS_getppid);
    for (int i = 0; i < 8; i++) {
        CHECK(d[i] == 1.0 / (i + 3));
        CHECK(f[i] == 2.5f * (float)i);
    }
    CHECK(dr == d[0] * 3.0);
}

static double monotonic_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A chunk of SSE arithmetic that keeps several accumulators live in xmm registers. */
static void fp_chunk(double acc[6])
{
    double a = acc[0], b = acc[1], c = acc[2], d = acc[3], e = acc[4], f = acc[5];
    for (int i = 0; i < 20000; i++) {
        a = a * 1.0000001 + 0.5;
        b = b * 0.9999999 - a * 1e-9;
        c = c + b * 1e-7 + 1.0;
        d = d * 1.0000003 - c * 1e-12;
        e = e + d * 1e-9 - 0.25;
        f = f * 0.5 + e * 1e-3 + a * 1e-6;
    }
    acc[0] = a, acc[1] = b, acc[2] = c, acc[3] = d, acc[4] = e, acc[5] = f;
}

/* Run for at least 300 ms so the timer preempts us; the result must equal a rerun of the same
 * number of chunks (IEEE arithmetic is deterministic), whatever happened in between. */
TEST(fp_state_survives_preemption)
{
    double x[6] = {1, 2, 3, 4, 5, 6}, y[6] = {1, 2, 3, 4, 5, 6};
    long chunks = 0;
    double t0 = monotonic_seconds();
    while (monotonic_seconds() - t0 < 0.3 || chunks < 10) {
        fp_chunk(x);
        chunks++;
    }
    for (long i = 0; i < chunks; i++)
        fp_chunk(y);
    for (int i = 0; i < 6; i++)
        if (memcmp(&x[i], &y[i], sizeof(double)) != 0)
            FAIL("accumulator %d: %.17g vs %.17g after %ld chunks", i, x[i], y[i], chunks);
}

/* ---- floating point through libc ---- */

TEST(snprintf_double)
{
    volatile double a = 22.0, b = 7.0;
    char buf[32];
    snprintf(buf, sizeof buf, "%.3f", a / b);
    CHECK(strcmp(buf, "3.143") == 0);
    snprintf(buf, sizeof buf, "%.2e", -a * b * 1000.0);
    CHECK(strcmp(buf, "-1.54e+05") == 0);
}

TEST(snprintf_float_and_long_double)
{
    volatile float x = 0.1f, y = 0.2f;
    volatile long double l = 1.0L, three = 3.0L;
    char buf[32];
    snprintf(buf, sizeof buf, "%.4f", (double)(x + y));
    CHECK(strcmp(buf, "0.3000") == 0);
    snprintf(buf, sizeof buf, "%.5Lf", l / three);
    CHECK(strcmp(buf, "0.33333") == 0);
}

TEST(strtod_round_trip)
{
    char buf[64];
    volatile double v = 6.02214076e23;
    snprintf(buf, sizeof buf, "%.17g", v);
    CHECK(strtod(buf, NULL) == v);
}
