/* smp.c - the CPUs as a program sees them: sysconf(_SC_NPROCESSORS_ONLN/_CONF) and get_nprocs
 * (musl counts sched_getaffinity's bits, glibc reads /sys/devices/system/cpu/online) agree with
 * /proc/cpuinfo, /proc/stat's cpuN lines and /sys/devices/system/cpu/{online,possible}; a thread
 * pinned with sched_setaffinity runs only on its CPU (sched_getcpu, across yields, in the main
 * thread and in new threads, which inherit the mask); threads pinned to every CPU at once all
 * run and finish.
 * Synchronisation: joins only; no sleeps.
 * Syscalls: sched_setaffinity, sched_getaffinity, getcpu, sched_yield, clone (pthread_create).
 */
#define _GNU_SOURCE
#define TEST_MAIN
#include "test.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#ifndef SYS_getcpu
#define SYS_getcpu 309
#endif

/* Lines of `path` that start with `prefix` followed by a digit (or, with digit 0, at all). */
static int count_lines(const char *path, const char *prefix, int digit)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char line[512];
    int n = 0;
    size_t len = strlen(prefix);
    while (fgets(line, sizeof line, f))
        if (strncmp(line, prefix, len) == 0 && (!digit || (line[len] >= '0' && line[len] <= '9')))
            n++;
    fclose(f);
    return n;
}

/* CPUs in a cpulist file such as "0-3,6\n"; -1 if unreadable. */
static int count_cpu_list(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char buf[256];
    int n = 0;
    if (!fgets(buf, sizeof buf, f)) {
        fclose(f);
        return -1;
    }
    fclose(f);
    char *p = buf;
    while (*p && *p != '\n') {
        int a, b, used;
        if (sscanf(p, "%d-%d%n", &a, &b, &used) == 2) {
            n += b - a + 1;
        } else if (sscanf(p, "%d%n", &a, &used) == 1) {
            n += 1;
        } else {
            return -1;
        }
        p += used;
        if (*p == ',')
            p++;
    }
    return n;
}

TEST(cpu_counts_agree)
{
    int cpuinfo = count_lines("/proc/cpuinfo", "processor", 0);
    int stat = count_lines("/proc/stat", "cpu", 1);
    int online = count_cpu_list("/sys/devices/system/cpu/online");
    int possible = count_cpu_list("/sys/devices/system/cpu/possible");
    CHECK(cpuinfo >= 1);
    CHECK_EQ(stat, cpuinfo);
    CHECK_EQ(online, cpuinfo);
    CHECK(possible >= online);
    cpu_set_t set;
    CHECK_EQ(sched_getaffinity(0, sizeof set, &set), 0);
    int allowed = CPU_COUNT(&set);
    CHECK(allowed >= 1 && allowed <= online);
    long onln = sysconf(_SC_NPROCESSORS_ONLN);
    /* musl: the affinity's CPUs; glibc: the online list. */
    CHECK(onln == allowed || onln == online);
    CHECK(sysconf(_SC_NPROCESSORS_CONF) >= onln);
    CHECK(get_nprocs() >= 1 && get_nprocs() <= online);
    if (on_posix_x()) {
        /* Nothing restricts the guest's first process. */
        CHECK_EQ(allowed, online);
        CHECK_EQ(possible, online);
        CHECK_EQ(onln, online);
    }
}

/* Runs on `cpu` only, for a number of yields. */
static int stays_on(int cpu)
{
    for (int i = 0; i < 50; i++) {
        if (sched_getcpu() != cpu)
            return 0;
        sched_yield();
    }
    return 1;
}

TEST(a_pinned_thread_runs_only_on_its_cpu)
{
    cpu_set_t all;
    CHECK_EQ(sched_getaffinity(0, sizeof all, &all), 0);
    for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
        if (!CPU_ISSET(cpu, &all))
            continue;
        cpu_set_t one;
        CPU_ZERO(&one);
        CPU_SET(cpu, &one);
        CHECK_EQ(sched_setaffinity(0, sizeof one, &one), 0);
        CHECK(stays_on(cpu));
        cpu_set_t back;
        CHECK_EQ(sched_getaffinity(0, sizeof back, &back), 0);
        CHECK(CPU_EQUAL(&back, &one));
    }
    CHECK_EQ(sched_setaffinity(0, sizeof all, &all), 0);
    unsigned cpu = 1u << 30, node = 1u << 30;
    CHECK_EQ(syscall(SYS_getcpu, &cpu, &node, NULL), 0);
    CHECK(cpu < CPU_SETSIZE && CPU_ISSET(cpu, &all));
    CHECK_EQ(node, 0);
    CHECK_ERRNO(syscall(SYS_getcpu, bad_ptr(0x10), NULL, NULL), EFAULT);
}

struct pinned {
    int cpu;
    int ok;
};

static void *run_pinned(void *arg)
{
    struct pinned *p = arg;
    if (p->cpu >= 0) {
        cpu_set_t one;
        CPU_ZERO(&one);
        CPU_SET(p->cpu, &one);
        if (pthread_setaffinity_np(pthread_self(), sizeof one, &one) != 0)
            return NULL;
        p->ok = stays_on(p->cpu);
    } else {
        /* Inherited from the creator, which is pinned. */
        cpu_set_t set;
        p->ok = sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) == 1 &&
                stays_on(sched_getcpu()) && CPU_ISSET(sched_getcpu(), &set);
    }
    return NULL;
}

TEST(threads_pinned_to_every_cpu_run_there)
{
    cpu_set_t all;
    CHECK_EQ(sched_getaffinity(0, sizeof all, &all), 0);
    enum { ROUNDS = 4 };
    struct pinned p[CPU_SETSIZE];
    pthread_t t[CPU_SETSIZE];
    int n = 0;
    for (int cpu = 0; cpu < CPU_SETSIZE && n < 64; cpu++) {
        if (!CPU_ISSET(cpu, &all))
            continue;
        for (int r = 0; r < ROUNDS; r++) {
            p[n] = (struct pinned){cpu, 0};
            CHECK_EQ(pthread_create(&t[n], NULL, run_pinned, &p[n]), 0);
            n++;
        }
    }
    for (int i = 0; i < n; i++) {
        CHECK_EQ(pthread_join(t[i], NULL), 0);
        CHECK(p[i].ok);
    }
}

TEST(a_new_thread_inherits_the_mask)
{
    cpu_set_t all;
    CHECK_EQ(sched_getaffinity(0, sizeof all, &all), 0);
    int last = -1;
    for (int cpu = 0; cpu < CPU_SETSIZE; cpu++)
        if (CPU_ISSET(cpu, &all))
            last = cpu;
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(last, &one);
    CHECK_EQ(sched_setaffinity(0, sizeof one, &one), 0);
    struct pinned p = {-1, 0};
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, run_pinned, &p), 0);
    CHECK_EQ(pthread_join(t, NULL), 0);
    CHECK(p.ok);
    CHECK_EQ(sched_setaffinity(0, sizeof all, &all), 0);
}
