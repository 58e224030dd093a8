/* fork_exec - fork(2) a child that execve(2)s a tiny static program (tools/true beside this
 * benchmark: /bench/tools/true in the image), and wait for it. */
#include "bench.h"

#include <libgen.h>

static char helper[4096];

static double trial(long n)
{
    char *argv[] = {helper, NULL};
    char *envp[] = {NULL};
    double start = now();
    for (long i = 0; i < n; i++) {
        pid_t child = fork_or_die();
        if (child == 0) {
            execve(helper, argv, envp);
            die("execve %s", helper);
        }
        reap(child);
    }
    return now() - start;
}

int main(int argc, char **argv)
{
    (void)argc;
    char self[sizeof helper];
    snprintf(self, sizeof self, "%s", argv[0]);
    snprintf(helper, sizeof helper, "%s/tools/true", dirname(self));
    if (access(helper, X_OK) < 0) {
        bench_name = "fork_exec";
        die("no helper %s", helper);
    }
    return bench_main(&(struct bench){"fork_exec", 0, trial});
}
