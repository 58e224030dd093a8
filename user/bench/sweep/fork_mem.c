/* fork_mem - fork+exit and fork+exec latency against the memory the parent has touched (1 to
 * 256 MiB of private anonymous memory, every page written). One iteration: fork, the child
 * _exit(0)s (or execs /bench/tools/true), waitpid. Both kernels copy page tables, not pages, so
 * the cost grows with the size of the mapping's page tables (one 4 KiB table per 2 MiB) and with
 * whatever else is per page (write-protecting each for copy-on-write). */
#include "sweep.h"

#include <sys/mman.h>

static const long SIZES_MIB[] = {1, 4, 16, 64, 256, -1};

static char true_path[4096];

static double exit_trial(long n)
{
    double start = now();
    for (long i = 0; i < n; i++) {
        pid_t pid = fork_or_die();
        if (pid == 0)
            _exit(0);
        reap(pid);
    }
    return now() - start;
}

static double exec_trial(long n)
{
    double start = now();
    for (long i = 0; i < n; i++) {
        pid_t pid = fork_or_die();
        if (pid == 0) {
            char *argv[] = {true_path, NULL};
            char *envp[] = {NULL};
            execve(true_path, argv, envp);
            _exit(127);
        }
        reap(pid);
    }
    return now() - start;
}

int main(int argc, char **argv)
{
    (void)argc;
    sweep_start("fork_mem", 0);
    tool_path(true_path, sizeof true_path, argv[0], "true");
    SWEEP_FOR(mib, SIZES_MIB)
    {
        size_t len = (size_t)mib << 20;
        sweep_begin("fork_exit", mib);
        char *mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (mem == MAP_FAILED)
            die("mmap %ld MiB", mib);
        for (size_t off = 0; off < len; off += 4096)
            mem[off] = 1;
        sweep_measure(exit_trial);
        sweep_begin("fork_exec", mib);
        sweep_measure(exec_trial);
        munmap(mem, len);
    }
    return 0;
}
