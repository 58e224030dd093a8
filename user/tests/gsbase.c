/* gsbase.c - the user GS base (arch_prctl ARCH_SET_GS/ARCH_GET_GS): each process keeps its own
 * across context switches (voluntary ones: blocking pipe reads and sched_yield), fork copies it,
 * execve resets it to 0, and what ARCH_GET_GS reports is what %gs: addressing uses.
 * Syscalls: arch_prctl, fork, pipe, read, write, sched_yield, wait4, execve, readlink.
 * Helper mode: argv[1] == "--helper-print-gs": exit 0 iff the GS base is 0 after execve.
 */
#include "test.h"

#include <limits.h>
#include <sched.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#ifndef ARCH_SET_GS
#define ARCH_SET_GS 0x1001
#define ARCH_GET_GS 0x1004
#endif

static unsigned long get_gs(void)
{
    unsigned long gs = 0xdead;
    if (syscall(SYS_arch_prctl, ARCH_GET_GS, &gs) != 0)
        return 0xdead;
    return gs;
}

static long set_gs(const void *base)
{
    return syscall(SYS_arch_prctl, ARCH_SET_GS, (unsigned long)base);
}

/* The quadword at offset 0 of the GS segment: proves the CPU's base, not just bookkeeping. */
static uint64_t gs_word(void)
{
    uint64_t v;
    __asm__ volatile("movq %%gs:0, %0" : "=r"(v));
    return v;
}

static uint64_t parent_block[8] = {0x1111111111111111ULL};
static uint64_t child_block[8] = {0x2222222222222222ULL};

static void restore_gs(void)
{
    set_gs(NULL);
}

TEST(set_gs_then_get_gs_returns_it)
{
    CHECK_EQ(set_gs(parent_block), 0);
    CHECK_EQ(get_gs(), (unsigned long)parent_block);
    CHECK_EQ(gs_word(), 0x1111111111111111ULL);
    CHECK_EQ(set_gs(child_block), 0);
    CHECK_EQ(get_gs(), (unsigned long)child_block);
    CHECK_EQ(gs_word(), 0x2222222222222222ULL);
    restore_gs();
    CHECK_EQ(get_gs(), 0);
}

TEST(set_gs_kernel_address_is_eperm)
{
    CHECK_ERRNO(syscall(SYS_arch_prctl, ARCH_SET_GS, 0xffff800000000000UL), EPERM);
    CHECK_ERRNO(syscall(SYS_arch_prctl, ARCH_SET_GS, 0x0000800000000000UL), EPERM);
    /* Linux refuses the last user page too (TASK_SIZE_MAX). */
    CHECK_ERRNO(syscall(SYS_arch_prctl, ARCH_SET_GS, 0x00007ffffffff000UL), EPERM);
    CHECK_EQ(syscall(SYS_arch_prctl, ARCH_SET_GS, 0x00007fffffffe000UL), 0);
    restore_gs();
}

TEST(get_gs_bad_pointer_is_efault)
{
    CHECK_ERRNO(syscall(SYS_arch_prctl, ARCH_GET_GS, bad_ptr(8)), EFAULT);
}

TEST(fork_copies_gs_base)
{
    CHECK_EQ(set_gs(parent_block), 0);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0)
        _exit(get_gs() == (unsigned long)parent_block && gs_word() == 0x1111111111111111ULL
                  ? 0
                  : 1);
    int st = -1;
    CHECK_EQ(waitpid(pid, &st, 0), pid);
    restore_gs();
    CHECK(WIFEXITED(st));
    CHECK_EQ(WEXITSTATUS(st), 0);
}

#define ROUNDS 200

/* Both processes set their own base and hand a token back and forth over two pipes (each read
 * blocks, so every round switches twice), yielding in between; each side checks its own base,
 * through ARCH_GET_GS and through %gs:, before and after every switch. */
TEST(two_processes_keep_their_own_gs_base_across_switches)
{
    int to_child[2], to_parent[2];
    CHECK_OK(pipe(to_child));
    CHECK_OK(pipe(to_parent));
    CHECK_EQ(set_gs(parent_block), 0);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        close(to_child[1]);
        close(to_parent[0]);
        int bad = 0;
        if (set_gs(child_block) != 0)
            bad = 1;
        char c = 'r';
        if (write(to_parent[1], &c, 1) != 1)
            _exit(2);
        for (int i = 0; i < ROUNDS; i++) {
            if (read(to_child[0], &c, 1) != 1)
                _exit(3);
            if (get_gs() != (unsigned long)child_block || gs_word() != 0x2222222222222222ULL)
                bad = 1;
            sched_yield();
            if (get_gs() != (unsigned long)child_block || gs_word() != 0x2222222222222222ULL)
                bad = 1;
            if (write(to_parent[1], &c, 1) != 1)
                _exit(4);
        }
        _exit(bad);
    }
    close(to_child[0]);
    close(to_parent[1]);
    char c;
    int bad_round = -1;
    CHECK_EQ(read(to_parent[0], &c, 1), 1); /* the child has set its base */
    for (int i = 0; i < ROUNDS; i++) {
        if (get_gs() != (unsigned long)parent_block || gs_word() != 0x1111111111111111ULL) {
            if (bad_round < 0)
                bad_round = i;
        }
        CHECK_EQ(write(to_child[1], &c, 1), 1);
        sched_yield();
        CHECK_EQ(read(to_parent[0], &c, 1), 1);
        if (get_gs() != (unsigned long)parent_block || gs_word() != 0x1111111111111111ULL) {
            if (bad_round < 0)
                bad_round = i;
        }
    }
    unsigned long seen = get_gs();
    int st = -1;
    CHECK_EQ(waitpid(pid, &st, 0), pid);
    close(to_child[1]);
    close(to_parent[0]);
    restore_gs();
    if (bad_round >= 0)
        FAIL("parent's GS base changed in round %d (now %#lx, set %p)", bad_round, seen,
             (void *)parent_block);
    CHECK(WIFEXITED(st));
    CHECK_EQ(WEXITSTATUS(st), 0);
}

TEST(execve_resets_gs_base)
{
    static char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    CHECK(n > 0);
    exe[n] = '\0';
    CHECK_EQ(set_gs(parent_block), 0);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        char *argv[] = {(char *)"gsbase-helper", (char *)"--helper-print-gs", NULL};
        char *envp[] = {NULL};
        execve(exe, argv, envp);
        _exit(127);
    }
    int st = -1;
    CHECK_EQ(waitpid(pid, &st, 0), pid);
    restore_gs();
    CHECK(WIFEXITED(st));
    CHECK_EQ(WEXITSTATUS(st), 0);
}

int main(int argc, char **argv, char **envp)
{
    if (argc == 2 && strcmp(argv[1], "--helper-print-gs") == 0)
        _exit(get_gs() == 0 ? 0 : 1);
    test_argc = argc;
    test_argv = argv;
    test_envp = envp;
    return test_run_all() == 0 ? 0 : 1;
}
