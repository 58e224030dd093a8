/* runner - runs the benchmarks one after another and reports around their lines.
 *
 *     runner [-t SECONDS] [-T TIMEOUT] [-e NAME=VALUE]... DIR [NAME...]
 *
 * Runs DIR/NAME for each NAME (default: every executable regular file in DIR, sorted), each in
 * its own process group with BENCH_SECONDS=SECONDS (default 1) and each -e variable in its
 * environment, killed with its group after TIMEOUT seconds (default 60). Prints on stdout:
 *
 *     bench-runner start
 *     bench-clock ns=N                                   CLOCK_MONOTONIC, to check the guest's
 *                                                        clock against the host's
 *     bench-meminfo total_kb=T free_kb=F used_kb=T-F      (or: bench-meminfo unavailable)
 *     ...the benchmark's own line...
 *     bench-status name=NAME status=N                    (N: exit code, or 128+signal)
 *     bench-status name=NAME timeout
 *     bench-clock ns=N
 *     bench-runner end
 *
 * The same program runs on POSIX-X (from the batch file), on Linux (from /init) and on the
 * host. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_BENCHMARKS 256

static volatile pid_t running;
static volatile sig_atomic_t timed_out;

static void on_alarm(int sig)
{
    (void)sig;
    timed_out = 1;
    kill(-running, SIGKILL);
    kill(running, SIGKILL);
}

/* `bench-meminfo ...` from /proc/meminfo's MemTotal and MemFree. */
static void report_meminfo(void)
{
    FILE *f = fopen("/proc/meminfo", "r");
    long total = -1, free_kb = -1;
    char line[256];
    while (f && fgets(line, sizeof line, f)) {
        sscanf(line, "MemTotal: %ld kB", &total);
        sscanf(line, "MemFree: %ld kB", &free_kb);
    }
    if (f)
        fclose(f);
    if (total < 0 || free_kb < 0)
        printf("bench-meminfo unavailable\n");
    else
        printf("bench-meminfo total_kb=%ld free_kb=%ld used_kb=%ld\n", total, free_kb, total - free_kb);
}

static void report_clock(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    printf("bench-clock ns=%lld\n", (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every executable regular file directly in dir, sorted. */
static int list_benchmarks(const char *dir, char **names)
{
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "runner: %s: %s\n", dir, strerror(errno));
        exit(2);
    }
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && n < MAX_BENCHMARKS) {
        char path[4096];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (e->d_name[0] != '.' && stat(path, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111))
            names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, (size_t)n, sizeof *names, by_name);
    return n;
}

static void run(const char *dir, const char *name, unsigned timeout)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) {
        printf("bench-status name=%s status=fork-failed\n", name);
        return;
    }
    if (pid == 0) {
        setpgid(0, 0);
        char *argv[] = {path, NULL};
        execv(path, argv);
        fprintf(stderr, "bench-error name=%s msg=execv %s: %s\n", name, path, strerror(errno));
        _exit(127);
    }
    setpgid(pid, pid);
    running = pid;
    timed_out = 0;
    alarm(timeout);
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    alarm(0);
    kill(-pid, SIGKILL); /* whatever the benchmark left behind */
    if (timed_out)
        printf("bench-status name=%s timeout\n", name);
    else
        printf("bench-status name=%s status=%d\n", name, WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
}

int main(int argc, char **argv)
{
    const char *seconds = "1";
    unsigned timeout = 60;
    int opt;
    while ((opt = getopt(argc, argv, "t:T:e:")) != -1) {
        switch (opt) {
        case 't':
            seconds = optarg;
            break;
        case 'T':
            timeout = (unsigned)atoi(optarg);
            break;
        case 'e':
            if (!strchr(optarg, '=') || putenv(optarg) != 0) {
                fprintf(stderr, "runner: -e %s: expected NAME=VALUE\n", optarg);
                return 2;
            }
            break;
        default:
            fprintf(stderr, "usage: runner [-t SECONDS] [-T TIMEOUT] [-e NAME=VALUE]... DIR [NAME...]\n");
            return 2;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "usage: runner [-t SECONDS] [-T TIMEOUT] [-e NAME=VALUE]... DIR [NAME...]\n");
        return 2;
    }
    const char *dir = argv[optind];
    char *names[MAX_BENCHMARKS];
    int n = 0;
    if (optind + 1 < argc) {
        for (int i = optind + 1; i < argc && n < MAX_BENCHMARKS; i++)
            names[n++] = argv[i];
    } else {
        n = list_benchmarks(dir, names);
    }

    setvbuf(stdout, NULL, _IOLBF, 0);
    setenv("BENCH_SECONDS", seconds, 1);
    struct sigaction sa = {.sa_handler = on_alarm}; /* no SA_RESTART: waitpid returns EINTR */
    sigaction(SIGALRM, &sa, NULL);

    printf("bench-runner start\n");
    report_clock();
    report_meminfo();
    for (int i = 0; i < n; i++)
        run(dir, names[i], timeout);
    report_clock();
    printf("bench-runner end\n");
    return 0;
}
