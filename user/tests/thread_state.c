/* thread_state.c - what each thread keeps for itself across switches (FS and GS bases, signal
 * mask, alternate signal stack), what all threads share (memory changed by any of them, a page
 * faulted in by several at once, thread stacks in ordinary and MAP_GROWSDOWN mappings), and
 * that a thread blocked in a call (accept, msgrcv, mq_receive, epoll_wait, semop, futex) never
 * holds up its siblings; one epoll instance waited on by two threads.
 * Syscalls: arch_prctl, sigaltstack, rt_sigprocmask, mmap, mprotect, munmap, brk, accept,
 * msgrcv, mq_timedreceive, epoll_wait, semop, futex, clone.
 */
#define _GNU_SOURCE
#define TEST_MAIN
#include "test.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <mqueue.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#ifndef ARCH_SET_GS
#define ARCH_SET_GS 0x1001
#define ARCH_GET_GS 0x1004
#endif

static uint64_t gs_word(void)
{
    uint64_t v;
    __asm__ volatile("movq %%gs:0, %0" : "=r"(v));
    return v;
}


static void *gs_thread(void *arg)
{
    uint64_t *block = arg;
    if (syscall(SYS_arch_prctl, ARCH_SET_GS, (unsigned long)block) != 0)
        return (void *)1;
    for (int i = 0; i < 200; i++) {
        sched_yield();
        if (gs_word() != block[0])
            return (void *)2;
        unsigned long base = 0;
        syscall(SYS_arch_prctl, ARCH_GET_GS, &base);
        if (base != (unsigned long)block)
            return (void *)3;
    }
    return NULL;
}

TEST(each_thread_keeps_its_gs_base)
{
    static uint64_t a[8] = {0xaaaa}, b[8] = {0xbbbb}, c[8] = {0xcccc};
    pthread_t t1, t2, t3;
    CHECK_EQ(pthread_create(&t1, NULL, gs_thread, a), 0);
    CHECK_EQ(pthread_create(&t2, NULL, gs_thread, b), 0);
    CHECK_EQ(pthread_create(&t3, NULL, gs_thread, c), 0);
    void *r1, *r2, *r3;
    CHECK_EQ(pthread_join(t1, &r1), 0);
    CHECK_EQ(pthread_join(t2, &r2), 0);
    CHECK_EQ(pthread_join(t3, &r3), 0);
    CHECK_EQ((long)r1, 0);
    CHECK_EQ((long)r2, 0);
    CHECK_EQ((long)r3, 0);
    unsigned long base = 1;
    syscall(SYS_arch_prctl, ARCH_GET_GS, &base);
    CHECK_EQ(base, 0);
}

static void *mask_thread(void *arg)
{
    int sig = (int)(long)arg;
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, sig);
    pthread_sigmask(SIG_SETMASK, &s, NULL);
    for (int i = 0; i < 100; i++) {
        sched_yield();
        sigset_t now;
        pthread_sigmask(SIG_SETMASK, NULL, &now);
        if (!sigismember(&now, sig) || sigismember(&now, sig == SIGUSR1 ? SIGUSR2 : SIGUSR1))
            return (void *)1;
    }
    return NULL;
}

TEST(each_thread_keeps_its_signal_mask)
{
    pthread_t a, b;
    CHECK_EQ(pthread_create(&a, NULL, mask_thread, (void *)(long)SIGUSR1), 0);
    CHECK_EQ(pthread_create(&b, NULL, mask_thread, (void *)(long)SIGUSR2), 0);
    void *ra, *rb;
    CHECK_EQ(pthread_join(a, &ra), 0);
    CHECK_EQ(pthread_join(b, &rb), 0);
    CHECK(ra == NULL && rb == NULL);
}

static void *altstack_thread(void *arg)
{
    (void)arg;
    stack_t ss;
    if (sigaltstack(NULL, &ss) != 0)
        return (void *)1;
    /* A new thread starts without the creator's alternate stack (Linux's clone with CLONE_VM). */
    return (void *)(long)((ss.ss_flags & SS_DISABLE) ? 0 : 2);
}

TEST(alternate_stack_is_per_thread)
{
    static char alt[64 * 1024];
    stack_t ss = {.ss_sp = alt, .ss_size = sizeof alt, .ss_flags = 0};
    CHECK_OK(sigaltstack(&ss, NULL));
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, altstack_thread, NULL), 0);
    void *r;
    CHECK_EQ(pthread_join(t, &r), 0);
    CHECK_EQ((long)r, 0);
    stack_t now;
    CHECK_OK(sigaltstack(NULL, &now));
    CHECK(now.ss_sp == alt);
    ss.ss_flags = SS_DISABLE;
    CHECK_OK(sigaltstack(&ss, NULL));
}

static char *volatile shared_page;
static atomic_int fault_go, fault_ready;

static void *fault_same_page(void *arg)
{
    long i = (long)arg;
    atomic_fetch_add(&fault_ready, 1);
    while (!atomic_load(&fault_go))
        sched_yield();
    shared_page[i] = (char)(i + 1);
    return NULL;
}

TEST(threads_faulting_one_page_at_once_see_one_page)
{
    for (int round = 0; round < 20; round++) {
        shared_page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        CHECK(shared_page != MAP_FAILED);
        atomic_store(&fault_go, 0);
        atomic_store(&fault_ready, 0);
        pthread_t t[8];
        for (long i = 0; i < 8; i++)
            CHECK_EQ(pthread_create(&t[i], NULL, fault_same_page, (void *)i), 0);
        while (atomic_load(&fault_ready) < 8)
            sched_yield();
        atomic_store(&fault_go, 1);
        for (int i = 0; i < 8; i++)
            CHECK_EQ(pthread_join(t[i], NULL), 0);
        for (int i = 0; i < 8; i++)
            CHECK_EQ(shared_page[i], i + 1);
        CHECK_OK(munmap(shared_page, 4096));
    }
}

struct mapping_news {
    char *map;
    atomic_int stage;
};

static void *mapper(void *arg)
{
    struct mapping_news *n = arg;
    n->map = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    n->map[0] = 'm';
    atomic_store(&n->stage, 1);
    while (atomic_load(&n->stage) != 2)
        sched_yield();
    /* The other thread changed the protection: this one reads what it wrote. */
    if (n->map[4096] != 'x')
        return (void *)1;
    munmap(n->map, 8192);
    atomic_store(&n->stage, 3);
    return NULL;
}

TEST(mmap_mprotect_munmap_by_one_thread_are_seen_by_all)
{
    struct mapping_news n = {NULL, 0};
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, mapper, &n), 0);
    while (atomic_load(&n.stage) != 1)
        sched_yield();
    CHECK_EQ(n.map[0], 'm');
    n.map[4096] = 'x';
    CHECK_OK(mprotect(n.map, 4096, PROT_READ));
    atomic_store(&n.stage, 2);
    void *r;
    CHECK_EQ(pthread_join(t, &r), 0);
    CHECK(r == NULL);
    CHECK_EQ(atomic_load(&n.stage), 3);
    /* Unmapped by the other thread: mapping the same address again fixed works and is zero. */
    char *again = mmap(n.map, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
                       -1, 0);
    CHECK(again == n.map);
    CHECK_EQ(again[0], 0);
    munmap(again, 4096);
}

static void *deep_recursion_probe(void *arg)
{
    volatile char buf[16 * 1024];
    buf[0] = 1;
    buf[sizeof buf - 1] = (char)(long)arg;
    return (void *)(long)(buf[0] + buf[sizeof buf - 1]);
}

TEST(thread_stacks_the_caller_provides)
{
    /* An ordinary mapping, and a MAP_GROWSDOWN one as some runtimes use. */
    int kinds[2] = {MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK,
                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK | MAP_GROWSDOWN};
    for (int k = 0; k < 2; k++) {
        size_t size = 256 * 1024;
        void *stack = mmap(NULL, size, PROT_READ | PROT_WRITE, kinds[k], -1, 0);
        CHECK(stack != MAP_FAILED);
        pthread_attr_t a;
        pthread_attr_init(&a);
        CHECK_EQ(pthread_attr_setstack(&a, stack, size), 0);
        pthread_t t;
        CHECK_EQ(pthread_create(&t, &a, deep_recursion_probe, (void *)41L), 0);
        void *r;
        CHECK_EQ(pthread_join(t, &r), 0);
        CHECK_EQ((long)r, 42);
        pthread_attr_destroy(&a);
        munmap(stack, size);
    }
}

/* Blocking calls in threads: each worker blocks in its call, the main thread keeps working
 * and then satisfies every worker. */
static int listener;
static int msqid, semid;
static mqd_t mq;
static int epfd, evfd;
static atomic_int futex_word;
static atomic_int blocked_results;

static void *block_accept(void *arg)
{
    (void)arg;
    int c = accept(listener, NULL, NULL);
    if (c >= 0) {
        close(c);
        atomic_fetch_add(&blocked_results, 1);
    }
    return NULL;
}

static void *block_msgrcv(void *arg)
{
    (void)arg;
    struct {
        long type;
        char text[8];
    } m;
    if (msgrcv(msqid, &m, sizeof m.text, 0, 0) > 0)
        atomic_fetch_add(&blocked_results, 1);
    return NULL;
}

static void *block_mq(void *arg)
{
    (void)arg;
    char buf[64];
    if (mq_receive(mq, buf, sizeof buf, NULL) > 0)
        atomic_fetch_add(&blocked_results, 1);
    return NULL;
}

static void *block_epoll(void *arg)
{
    (void)arg;
    struct epoll_event ev;
    if (epoll_wait(epfd, &ev, 1, -1) == 1)
        atomic_fetch_add(&blocked_results, 1);
    return NULL;
}

static void *block_semop(void *arg)
{
    (void)arg;
    struct sembuf down = {0, -1, 0};
    if (semop(semid, &down, 1) == 0)
        atomic_fetch_add(&blocked_results, 1);
    return NULL;
}

static void *block_futex(void *arg)
{
    (void)arg;
    while (atomic_load(&futex_word) == 0)
        syscall(SYS_futex, &futex_word, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
    atomic_fetch_add(&blocked_results, 1);
    return NULL;
}

TEST(threads_blocked_in_calls_never_hold_up_their_siblings)
{
    atomic_store(&blocked_results, 0);
    atomic_store(&futex_word, 0);
    listener = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(listener >= 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    CHECK_OK(bind(listener, (struct sockaddr *)&addr, sizeof addr));
    socklen_t len = sizeof addr;
    CHECK_OK(getsockname(listener, (struct sockaddr *)&addr, &len));
    CHECK_OK(listen(listener, 4));
    msqid = msgget(IPC_PRIVATE, 0600);
    semid = semget(IPC_PRIVATE, 1, 0600);
    CHECK(msqid >= 0 && semid >= 0);
    char name[64];
    snprintf(name, sizeof name, "/thr-block-%d", getpid());
    struct mq_attr at = {.mq_maxmsg = 4, .mq_msgsize = 64};
    mq = mq_open(name, O_CREAT | O_RDWR, 0600, &at);
    CHECK(mq != (mqd_t)-1);
    epfd = epoll_create1(0);
    evfd = eventfd(0, 0);
    struct epoll_event ev = {.events = EPOLLIN};
    CHECK_OK(epoll_ctl(epfd, EPOLL_CTL_ADD, evfd, &ev));

    void *(*bodies[])(void *) = {block_accept, block_msgrcv, block_mq,
                                 block_epoll,  block_semop,  block_futex};
    enum { N = sizeof bodies / sizeof bodies[0] };
    pthread_t t[N];
    for (int i = 0; i < N; i++)
        CHECK_EQ(pthread_create(&t[i], NULL, bodies[i], NULL), 0);
    /* The main thread runs on while they all block. */
    long work = 0;
    for (int i = 0; i < 200; i++) {
        sched_yield();
        work++;
    }
    CHECK_EQ(work, 200);
    CHECK_EQ(atomic_load(&blocked_results), 0);

    int c = socket(AF_INET, SOCK_STREAM, 0);
    CHECK_OK(connect(c, (struct sockaddr *)&addr, sizeof addr));
    struct {
        long type;
        char text[8];
    } m = {1, "hi"};
    CHECK_OK(msgsnd(msqid, &m, sizeof m.text, 0));
    CHECK_OK(mq_send(mq, "hello", 5, 0));
    uint64_t one = 1;
    CHECK_EQ(write(evfd, &one, 8), 8);
    struct sembuf up = {0, 1, 0};
    CHECK_OK(semop(semid, &up, 1));
    atomic_store(&futex_word, 1);
    syscall(SYS_futex, &futex_word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
    for (int i = 0; i < N; i++)
        CHECK_EQ(pthread_join(t[i], NULL), 0);
    CHECK_EQ(atomic_load(&blocked_results), N);
    close(c);
    close(listener);
    msgctl(msqid, IPC_RMID, NULL);
    semctl(semid, 0, IPC_RMID);
    mq_close(mq);
    mq_unlink(name);
    close(epfd);
    close(evfd);
}

static void *epoll_take_one(void *arg)
{
    (void)arg;
    struct epoll_event ev;
    int n = epoll_wait(epfd, &ev, 1, -1);
    if (n != 1)
        return (void *)-1L;
    uint64_t v;
    /* Level-triggered and nonblocking: both threads may see it, one reads it. */
    if (read((int)ev.data.fd, &v, 8) == 8)
        return (void *)1L;
    return (void *)0L;
}

TEST(one_epoll_instance_waited_on_by_two_threads)
{
    epfd = epoll_create1(0);
    int e1 = eventfd(0, EFD_NONBLOCK), e2 = eventfd(0, EFD_NONBLOCK);
    struct epoll_event ev = {.events = EPOLLIN | EPOLLONESHOT};
    ev.data.fd = e1;
    CHECK_OK(epoll_ctl(epfd, EPOLL_CTL_ADD, e1, &ev));
    ev.data.fd = e2;
    CHECK_OK(epoll_ctl(epfd, EPOLL_CTL_ADD, e2, &ev));
    pthread_t a, b;
    CHECK_EQ(pthread_create(&a, NULL, epoll_take_one, NULL), 0);
    CHECK_EQ(pthread_create(&b, NULL, epoll_take_one, NULL), 0);
    uint64_t one = 1;
    CHECK_EQ(write(e1, &one, 8), 8);
    CHECK_EQ(write(e2, &one, 8), 8);
    void *ra, *rb;
    CHECK_EQ(pthread_join(a, &ra), 0);
    CHECK_EQ(pthread_join(b, &rb), 0);
    /* One-shot entries: each event went to exactly one thread. */
    CHECK_EQ((long)ra + (long)rb, 2);
    close(e1);
    close(e2);
    close(epfd);
}
