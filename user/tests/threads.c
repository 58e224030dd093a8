/* threads.c - POSIX threads over clone(CLONE_THREAD): create/join/detach, thread ids, TLS,
 * exit vs exit_group, CLONE_CHILD_CLEARTID and set_tid_address, shared memory and descriptors.
 * Syscalls: clone, clone3, exit, exit_group, gettid, getpid, set_tid_address, futex, mmap.
 */
#define _GNU_SOURCE
#define TEST_MAIN
#include "test.h"

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>

static void *return_arg(void *arg)
{
    return arg;
}

TEST(create_and_join_returns_the_value)
{
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, return_arg, (void *)0x1234), 0);
    void *ret = NULL;
    CHECK_EQ(pthread_join(t, &ret), 0);
    CHECK_EQ((long)ret, 0x1234);
}

static void *report_ids(void *arg)
{
    long *ids = arg;
    ids[0] = getpid();
    ids[1] = syscall(SYS_gettid);
    ids[2] = getppid();
    return NULL;
}

TEST(getpid_is_the_group_gettid_the_thread)
{
    long ids[3] = {0};
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, report_ids, ids), 0);
    CHECK_EQ(pthread_join(t, NULL), 0);
    CHECK_EQ(ids[0], getpid());
    CHECK_NE(ids[1], getpid());
    CHECK(ids[1] > 0);
    CHECK_EQ(ids[2], getppid());
    CHECK_EQ(syscall(SYS_gettid), getpid());
}

static __thread int tls_value = 7;

static void *touch_tls(void *arg)
{
    tls_value += (int)(long)arg;
    return (void *)(long)tls_value;
}

TEST(thread_local_storage_is_per_thread)
{
    pthread_t t[4];
    for (long i = 0; i < 4; i++)
        CHECK_EQ(pthread_create(&t[i], NULL, touch_tls, (void *)(i + 1)), 0);
    for (long i = 0; i < 4; i++) {
        void *r;
        CHECK_EQ(pthread_join(t[i], &r), 0);
        CHECK_EQ((long)r, 7 + i + 1);
    }
    CHECK_EQ(tls_value, 7);
}

static atomic_int counter;

static void *bump(void *arg)
{
    (void)arg;
    for (int i = 0; i < 1000; i++)
        atomic_fetch_add(&counter, 1);
    return NULL;
}

TEST(thousand_threads_create_and_join)
{
    atomic_store(&counter, 0);
    for (int round = 0; round < 100; round++) {
        pthread_t t[10];
        for (int i = 0; i < 10; i++)
            CHECK_EQ(pthread_create(&t[i], NULL, bump, NULL), 0);
        for (int i = 0; i < 10; i++)
            CHECK_EQ(pthread_join(t[i], NULL), 0);
    }
    CHECK_EQ(atomic_load(&counter), 1000 * 1000);
}

static atomic_int detached_done;

static void *detached_body(void *arg)
{
    (void)arg;
    atomic_fetch_add(&detached_done, 1);
    return NULL;
}

TEST(thousand_detached_threads)
{
    atomic_store(&detached_done, 0);
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
    int made = 0;
    for (int i = 0; i < 1000; i++) {
        pthread_t t;
        int e = pthread_create(&t, &a, detached_body, NULL);
        if (e == EAGAIN) {
            sched_yield();
            i--;
            continue;
        }
        CHECK_EQ(e, 0);
        made++;
    }
    pthread_attr_destroy(&a);
    for (int spins = 0; atomic_load(&detached_done) < made && spins < 10000000; spins++)
        sched_yield();
    CHECK_EQ(atomic_load(&detached_done), 1000);
}

static void *exit_group_body(void *arg)
{
    (void)arg;
    syscall(SYS_exit_group, 42);
    return NULL;
}

static void *sleep_forever(void *arg)
{
    (void)arg;
    for (;;)
        pause();
    return NULL;
}

TEST(exit_group_from_a_thread_ends_all_with_its_status)
{
    pid_t pid = fork();
    if (pid == 0) {
        pthread_t a, b;
        pthread_create(&a, NULL, sleep_forever, NULL);
        pthread_create(&b, NULL, exit_group_body, NULL);
        for (;;)
            pause();
    }
    CHECK(pid > 0);
    int st;
    CHECK_EQ(waitpid(pid, &st, 0), pid);
    CHECK(WIFEXITED(st));
    CHECK_EQ(WEXITSTATUS(st), 42);
}

/* The leader's exit(2) leaves the process alive; the last thread's exit status counts. */
static void *late_exit(void *arg)
{
    int fd = (int)(long)arg;
    char c;
    if (read(fd, &c, 1) != 1)
        syscall(SYS_exit_group, 99);
    syscall(SYS_exit, 7);
    return NULL;
}

TEST(leader_exit_waits_for_the_last_thread)
{
    int p[2];
    CHECK_OK(pipe(p));
    pid_t pid = fork();
    if (pid == 0) {
        pthread_t t;
        pthread_create(&t, NULL, late_exit, (void *)(long)p[0]);
        syscall(SYS_exit, 0); /* the leader goes first */
    }
    CHECK(pid > 0);
    /* The group is still alive: no report yet. */
    int st;
    for (int i = 0; i < 20; i++)
        sched_yield();
    CHECK_EQ(waitpid(pid, &st, WNOHANG), 0);
    CHECK_EQ(kill(pid, 0), 0);
    CHECK_EQ(write(p[1], "x", 1), 1);
    CHECK_EQ(waitpid(pid, &st, 0), pid);
    CHECK(WIFEXITED(st));
    CHECK_EQ(WEXITSTATUS(st), 7);
    CHECK_ERRNO(waitpid(pid, &st, WNOHANG), ECHILD);
    close(p[0]);
    close(p[1]);
}

/* set_tid_address: the word is cleared and futex-woken when the thread ends. */
static volatile int ctid_word = -1;
static char clone_stack[64 * 1024] __attribute__((aligned(16)));

static int raw_child(void *arg)
{
    (void)arg;
    /* exit(2), not exit_group: only this thread ends (musl's clone calls SYS_exit too). */
    syscall(SYS_exit, 3);
    return 0;
}

TEST(exit_of_a_raw_thread_clears_its_tid_and_wakes)
{
    int flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM |
                CLONE_CHILD_CLEARTID | CLONE_CHILD_SETTID | CLONE_PARENT_SETTID;
    pid_t ptid = 0;
    ctid_word = -1;
    int tid = clone(raw_child, clone_stack + sizeof clone_stack, flags, NULL, &ptid, NULL,
                    &ctid_word);
    CHECK(tid > 0);
    CHECK_EQ(ptid, tid);
    /* Wait on the word until the kernel clears it (FUTEX_WAIT returns at once if it changed). */
    for (;;) {
        int v = ctid_word;
        if (v == 0)
            break;
        syscall(SYS_futex, &ctid_word, 0 /* FUTEX_WAIT */, v, NULL, NULL, 0);
    }
    CHECK_EQ(ctid_word, 0);
    /* The caller goes on: exit(2) ended the other thread only. */
    CHECK_EQ(syscall(SYS_gettid), getpid());
}

TEST(set_tid_address_returns_the_tid)
{
    static int word;
    CHECK_EQ(syscall(SYS_set_tid_address, &word), syscall(SYS_gettid));
}

/* Memory and descriptors are the process's: what one thread maps or opens, all see. */
static void *map_and_open(void *arg)
{
    long *out = arg;
    char *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        return NULL;
    strcpy(m, "from thread");
    out[0] = (long)m;
    int p[2];
    if (pipe(p) != 0)
        return NULL;
    if (write(p[1], "z", 1) != 1)
        return NULL;
    out[1] = p[0];
    out[2] = p[1];
    return NULL;
}

TEST(memory_and_descriptors_are_shared)
{
    long out[3] = {0};
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, map_and_open, out), 0);
    CHECK_EQ(pthread_join(t, NULL), 0);
    CHECK(out[0] != 0);
    CHECK_EQ(strcmp((char *)out[0], "from thread"), 0);
    char c = 0;
    CHECK_EQ(read((int)out[1], &c, 1), 1);
    CHECK_EQ(c, 'z');
    CHECK_OK(munmap((void *)out[0], 4096));
    close((int)out[1]);
    close((int)out[2]);
}
