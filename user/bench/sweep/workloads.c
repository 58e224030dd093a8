/* workloads - real workloads, wall-clock per run of each (µs), busybox sh in the guest, the
 * host's /bin/sh natively:
 *
 *   workload_configure   a configure-like sh script: for each of 40 "checks", a test program
 *                        written to a file in /tmp, command substitutions and pipelines over
 *                        cat, grep, tr and sed, a case, a line appended to config.h (hundreds of
 *                        fork/exec per run, as autoconf's scripts do);
 *   workload_tar_gzip    `tar c` of the benchmarks' directory (the static programs in /bench),
 *                        piped through gzip, back through gzip -d and `tar t`.
 *
 * With BENCH_SWEEP_CHECK each runs once, small (2 checks; the tools directory). */
#include "sweep.h"

static char script[4096];

static double run_script(long n)
{
    double start = now();
    for (long i = 0; i < n; i++) {
        pid_t pid = fork_or_die();
        if (pid == 0) {
            execl("/bin/sh", "sh", "-c", script, (char *)NULL);
            _exit(127);
        }
        reap(pid);
    }
    return now() - start;
}

int main(int argc, char **argv)
{
    (void)argc;
    sweep_start("workloads", 0);
    long checks = sweep_check() ? 2 : 40;
    snprintf(sweep_point_name, sizeof sweep_point_name, "workload_configure");
    snprintf(script, sizeof script,
             "set -e\n"
             "d=$(mktemp -d /tmp/cfg.XXXXXX)\n"
             "i=0\n"
             "while [ $i -lt %ld ]; do\n"
             "  echo \"int main(void) { return $i; }\" > $d/conftest.c\n"
             "  v=$(cat $d/conftest.c | grep -c main)\n"
             "  [ \"$v\" = 1 ]\n"
             "  r=$(echo \"checking for feature $i\" | tr a-z A-Z | sed s/FEATURE/X/)\n"
             "  case \"$r\" in CHECKING*X*) ;; *) exit 2;; esac\n"
             "  echo \"#define HAVE_$i 1\" >> $d/config.h\n"
             "  i=$((i + 1))\n"
             "done\n"
             "[ $(wc -l < $d/config.h) -eq %ld ]\n"
             "rm -rf $d\n",
             checks, checks);
    bench_name = sweep_point_name;
    sweep_measure(run_script);

    /* The directory above the sweeps: /bench in the guest (the tools only in check mode). */
    char dir[1024];
    const char *slash = strrchr(argv[0], '/');
    snprintf(dir, sizeof dir, "%.*s/..%s", slash ? (int)(slash - argv[0]) : 1, slash ? argv[0] : ".",
             sweep_check() ? "/tools" : "");
    snprintf(sweep_point_name, sizeof sweep_point_name, "workload_tar_gzip");
    snprintf(script, sizeof script,
             "set -e\n"
             "n=$(tar cf - -C '%s' . | gzip | gzip -d | tar tf - | wc -l)\n"
             "[ \"$n\" -gt 1 ]\n",
             dir);
    sweep_measure(run_script);
    return 0;
}
