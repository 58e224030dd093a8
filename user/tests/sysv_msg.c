/* sysv_msg.c - System V message queues: msgget (keys, IPC_CREAT/IPC_EXCL), msgsnd and msgrcv
 * (type selection 0, >0, <0 and MSG_EXCEPT, FIFO order within a type, MSG_NOERROR truncation,
 * E2BIG, IPC_NOWAIT giving ENOMSG/EAGAIN, blocking until a match or until there is room),
 * msgctl (IPC_STAT counters, pids and times, IPC_SET with msg_qbytes and its EPERM, IPC_RMID,
 * IPC_INFO, MSG_INFO, MSG_STAT, MSG_STAT_ANY), removal waking senders and receivers with EIDRM,
 * signals (EINTR), errors, permissions as uid 65534, several senders and receivers contending
 * on one queue, /proc/sysvipc/msg.
 * Whether a child sleeps is read from /proc/<pid>/stat (state S after it said it is about to
 * block), never from timing; "still blocked" checks wait a bounded time.
 * Every queue a case creates is removed with IPC_RMID, also when a check fails.
 * Syscalls: msgget, msgsnd, msgrcv, msgctl, fork, wait4, kill, rt_sigaction, setuid, setgid,
 * pipe2, read, write, poll, openat.
 */
#define _GNU_SOURCE
#define TEST_MAIN
#include "test.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/wait.h>
#include <time.h>

#include "children.h"

#define NOBODY 65534

#ifndef MSG_STAT_ANY
#define MSG_STAT_ANY 13
#endif

#define AS_NOBODY(...)                                                                \
    do {                                                                              \
        pid_t p_ = fork();                                                            \
        CHECK(p_ >= 0);                                                               \
        if (p_ == 0) {                                                                \
            CCHECK(setgid(NOBODY) == 0 && setuid(NOBODY) == 0);                       \
            __VA_ARGS__;                                                              \
            _exit(0);                                                                 \
        }                                                                             \
        CHECK_EXITED(p_, 0);                                                          \
    } while (0)

static key_t test_key(int n)
{
    return (key_t)(0x5c000000 | ((getpid() & 0xffff) << 8) | n);
}

static int ids[16];
static int nids;

static int make(key_t key, int flags)
{
    int id = msgget(key, flags);
    if (id >= 0 && nids < 16)
        ids[nids++] = id;
    return id;
}

static void cleanup(void)
{
    for (int i = 0; i < nids; i++)
        msgctl(ids[i], IPC_RMID, NULL);
    nids = 0;
}

struct msg {
    long mtype;
    char mtext[256];
};

static int send_str(int id, long type, const char *s, int flags)
{
    struct msg m;
    m.mtype = type;
    size_t n = strlen(s);
    memcpy(m.mtext, s, n);
    return msgsnd(id, &m, n, flags);
}

/* Receives into a static message; its text is NUL-terminated. Returns the length or -1. */
static struct msg got;
static ssize_t recv_str(int id, size_t size, long type, int flags)
{
    memset(&got, 0, sizeof got);
    ssize_t n = msgrcv(id, &got, size, type, flags);
    if (n >= 0 && (size_t)n < sizeof got.mtext)
        got.mtext[n] = '\0';
    return n;
}

static struct msqid_ds stat_of(int id)
{
    struct msqid_ds ds;
    memset(&ds, 0xff, sizeof ds);
    if (msgctl(id, IPC_STAT, &ds) != 0)
        ds.msg_qbytes = 0;
    return ds;
}

/* Waits (bounded, 20 s) until process `pid` is asleep (state S in /proc/<pid>/stat). */
/* Is there something to read on fd within `ms` milliseconds? */
static int readable(int fd, int ms)
{
    struct pollfd p = {fd, POLLIN, 0};
    return poll(&p, 1, ms) == 1;
}

static void send_receive_stat_(void)
{
    time_t t0 = time(NULL);
    int id = make(IPC_PRIVATE, 0640);
    CHECK(id >= 0);
    struct msqid_ds ds = stat_of(id);
    CHECK_EQ(ds.msg_qnum, 0);
    CHECK_EQ(ds.msg_qbytes, 16384);
    CHECK_EQ(ds.msg_lspid, 0);
    CHECK_EQ(ds.msg_lrpid, 0);
    CHECK_EQ(ds.msg_stime, 0);
    CHECK_EQ(ds.msg_rtime, 0);
    CHECK(ds.msg_ctime >= t0);
    CHECK_EQ(ds.msg_perm.mode & 0777, 0640);
    CHECK_EQ(ds.msg_perm.uid, geteuid());
    CHECK_EQ(ds.msg_perm.cgid, getegid());
    CHECK_OK(send_str(id, 1, "hello", 0));
    CHECK_OK(send_str(id, 2, "world!", 0));
    CHECK_OK(send_str(id, 3, "", 0)); /* empty messages are allowed */
    ds = stat_of(id);
    CHECK_EQ(ds.msg_qnum, 3);
    CHECK_EQ(ds.__msg_cbytes, 11);
    CHECK_EQ(ds.msg_lspid, getpid());
    CHECK(ds.msg_stime >= t0);
    CHECK_EQ(ds.msg_rtime, 0);
    CHECK_EQ(recv_str(id, 256, 0, 0), 5);
    CHECK_EQ(got.mtype, 1);
    CHECK_EQ(strcmp(got.mtext, "hello"), 0);
    ds = stat_of(id);
    CHECK_EQ(ds.msg_qnum, 2);
    CHECK_EQ(ds.__msg_cbytes, 6);
    CHECK_EQ(ds.msg_lrpid, getpid());
    CHECK(ds.msg_rtime >= t0);
    CHECK_EQ(recv_str(id, 256, 0, 0), 6);
    CHECK_EQ(recv_str(id, 256, 0, 0), 0);
    CHECK_EQ(got.mtype, 3);
    CHECK_EQ(stat_of(id).msg_qnum, 0);
}
TEST(send_receive_stat) { send_receive_stat_(); cleanup(); }

static void keys_creat_excl_enoent_(void)
{
    key_t key = test_key(1);
    int id = make(key, IPC_CREAT | 0600);
    CHECK(id >= 0);
    CHECK_EQ(msgget(key, 0), id);
    CHECK_EQ(msgget(key, IPC_CREAT | 0600), id);
    CHECK_ERRNO(msgget(key, IPC_CREAT | IPC_EXCL | 0600), EEXIST);
    CHECK_ERRNO(msgget(test_key(2), 0600), ENOENT);
    CHECK_OK(msgctl(id, IPC_RMID, NULL));
    CHECK_ERRNO(msgget(key, 0), ENOENT);
    CHECK_ERRNO(send_str(id, 1, "x", IPC_NOWAIT), EINVAL);
    int again = make(IPC_PRIVATE, 0600);
    CHECK(again >= 0);
    CHECK_NE(again, id);
}
TEST(keys_creat_excl_enoent) { keys_creat_excl_enoent_(); cleanup(); }

static void type_selection_(void)
{
    int id = make(IPC_PRIVATE, 0600);
    CHECK(id >= 0);
    const struct { long type; const char *text; } sent[] = {
        {3, "a3"}, {1, "b1"}, {2, "c2"}, {1, "d1"}, {5, "e5"}, {2, "f2"},
    };
    for (size_t i = 0; i < sizeof sent / sizeof sent[0]; i++)
        CHECK_OK(send_str(id, sent[i].type, sent[i].text, 0));
    /* >0: the first of that type. */
    CHECK_EQ(recv_str(id, 256, 1, 0), 2);
    CHECK_EQ(strcmp(got.mtext, "b1"), 0);
    /* <0: the first of the lowest type at most |msgtyp|. */
    CHECK_EQ(recv_str(id, 256, -4, 0), 2);
    CHECK_EQ(strcmp(got.mtext, "d1"), 0);
    CHECK_EQ(recv_str(id, 256, -4, 0), 2);
    CHECK_EQ(strcmp(got.mtext, "c2"), 0);
    /* MSG_EXCEPT: the first of any other type. */
    CHECK_EQ(recv_str(id, 256, 3, MSG_EXCEPT), 2);
    CHECK_EQ(strcmp(got.mtext, "e5"), 0);
    CHECK_ERRNO(recv_str(id, 256, 4, IPC_NOWAIT), ENOMSG);
    CHECK_ERRNO(recv_str(id, 256, -1, IPC_NOWAIT), ENOMSG);
    /* 0: the first in the queue. */
    CHECK_EQ(recv_str(id, 256, 0, 0), 2);
    CHECK_EQ(strcmp(got.mtext, "a3"), 0);
    CHECK_EQ(recv_str(id, 256, 0, 0), 2);
    CHECK_EQ(strcmp(got.mtext, "f2"), 0);
    CHECK_ERRNO(recv_str(id, 256, 0, IPC_NOWAIT), ENOMSG);
    CHECK_EQ(stat_of(id).msg_qnum, 0);
}
TEST(type_selection) { type_selection_(); cleanup(); }

static void noerror_truncates_and_e2big_keeps_message_(void)
{
    int id = make(IPC_PRIVATE, 0600);
    CHECK(id >= 0);
    CHECK_OK(send_str(id, 7, "0123456789", 0));
    CHECK_ERRNO(recv_str(id, 4, 0, 0), E2BIG);
    CHECK_EQ(stat_of(id).msg_qnum, 1);
    CHECK_EQ(recv_str(id, 4, 0, MSG_NOERROR), 4);
    CHECK_EQ(got.mtype, 7);
    CHECK_EQ(strcmp(got.mtext, "0123"), 0);
    struct msqid_ds ds = stat_of(id);
    CHECK_EQ(ds.msg_qnum, 0);
    CHECK_EQ(ds.__msg_cbytes, 0);
}
TEST(noerror_truncates_and_e2big_keeps_message) { noerror_truncates_and_e2big_keeps_message_(); cleanup(); }

static void errors_(void)
{
    int id = make(IPC_PRIVATE, 0600);
    CHECK(id >= 0);
    struct msg m = {1, "x"};
    CHECK_ERRNO(msgsnd(id, &m, 8193, 0), EINVAL);
    CHECK_ERRNO(msgsnd(-1, &m, 1, 0), EINVAL);
    CHECK_ERRNO(msgsnd(id + 1, &m, 1, 0), EINVAL);
    m.mtype = 0;
    CHECK_ERRNO(msgsnd(id, &m, 1, 0), EINVAL);
    m.mtype = -3;
    CHECK_ERRNO(msgsnd(id, &m, 1, 0), EINVAL);
    CHECK_ERRNO(msgsnd(id, (void *)8, 1, 0), EFAULT);
    CHECK_ERRNO(msgrcv(id, &m, (size_t)-1, 0, IPC_NOWAIT), EINVAL);
    CHECK_ERRNO(msgrcv(-1, &m, 10, 0, IPC_NOWAIT), EINVAL);
    CHECK_ERRNO(msgrcv(id + 1, &m, 10, 0, IPC_NOWAIT), EINVAL);
    CHECK_ERRNO(msgctl(id, 9999, NULL), EINVAL);
    CHECK_ERRNO(msgctl(-1, IPC_STAT, NULL), EINVAL);
    CHECK_ERRNO(msgctl(id, IPC_STAT, (struct msqid_ds *)8), EFAULT);
    CHECK_ERRNO(msgctl(id, IPC_SET, (struct msqid_ds *)8), EFAULT);
    /* A message of exactly MSGMAX bytes is fine. */
    static struct { long mtype; char mtext[8192]; } big = {1, {0}};
    CHECK_OK(msgsnd(id, &big, sizeof big.mtext, 0));
    CHECK_EQ(msgrcv(id, &big, sizeof big.mtext, 0, 0), 8192);
}
TEST(errors) { errors_(); cleanup(); }

static void receive_blocks_until_a_match_(void)
{
    int id = make(IPC_PRIVATE, 0600);
    CHECK(id >= 0);
    int ready[2], done[2];
    CHECK_OK(pipe(ready));
    CHECK_OK(pipe(done));
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        CCHECK(write(ready[1], "r", 1) == 1);
        CCHECK(recv_str(id, 256, 2, 0) == 4);
        CCHECK(got.mtype == 2 && strcmp(got.mtext, "two!") == 0);
        CCHECK(write(done[1], "d", 1) == 1);
        _exit(0);
    }
    char c;
    CHECK_EQ(read(ready[0], &c, 1), 1);
    CHECK(wait_sleeping(pid));
    CHECK_OK(send_str(id, 1, "one", 0));
    CHECK(!readable(done[0], 100)); /* type 1 does not wake it for good */
    CHECK_EQ(stat_of(id).msg_qnum, 1);
    CHECK_OK(send_str(id, 2, "two!", 0));
    CHECK(readable(done[0], 20000));
    CHECK_EXITED(pid, 0);
    struct msqid_ds ds = stat_of(id);
    CHECK_EQ(ds.msg_qnum, 1);
    CHECK_EQ(ds.msg_lrpid, pid);
    CHECK_EQ(recv_str(id, 256, 0, IPC_NOWAIT), 3);
    CHECK_EQ(got.mtype, 1);
    for (int i = 0; i < 2; i++) {
        close(ready[i]);
        close(done[i]);
    }
}
TEST(receive_blocks_until_a_match) { receive_blocks_until_a_match_(); cleanup(); }

static void send_blocks_while_qbytes_exceeded_(void)
{
    int id = make(IPC_PRIVATE, 0600);
    CHECK(id >= 0);
    struct msqid_ds ds = stat_of(id);
    ds.msg_qbytes = 10;
    CHECK_OK(msgctl(id, IPC_SET, &ds));
    CHECK_EQ(stat_of(id).msg_qbytes, 10);
    CHECK_OK(send_str(id, 1, "12345678", 0));
    CHECK_ERRNO(send_str(id, 1, "abc", IPC_NOWAIT), EAGAIN);
    CHECK_OK(send_str(id, 1, "ab", IPC_NOWAIT)); /* exactly fills it */
    int ready[2], done[2];
    CHECK_OK(pipe(ready));
    CHECK_OK(pipe(done));
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        CCHECK(write(ready[1], "r", 1) == 1);
        CCHECK(send_str(id, 2, "xyz", 0) == 0);
        CCHECK(write(done[1], "d", 1) == 1);
        _exit(0);
    }
    char c;
    CHECK_EQ(read(ready[0], &c, 1), 1);
    CHECK(wait_sleeping(pid));
    CHECK(!readable(done[0], 100));
    CHECK_EQ(recv_str(id, 256, 0, 0), 8); /* room for the blocked sender now */
    CHECK(readable(done[0], 20000));
    CHECK_EXITED(pid, 0);
    ds = stat_of(id);
    CHECK_EQ(ds.msg_qnum, 2);
    CHECK_EQ(ds.__msg_cbytes, 5);
    CHECK_EQ(ds.msg_lspid, pid);
    /* The number of messages is bounded by qbytes too. */
    ds.msg_qbytes = 2;
    CHECK_OK(msgctl(id, IPC_SET, &ds));
    CHECK_ERRNO(send_str(id, 3, "", IPC_NOWAIT), EAGAIN);
    for (int i = 0; i < 2; i++) {
        close(ready[i]);
        close(done[i]);
    }
}
TEST(send_blocks_while_qbytes_exceeded) { send_blocks_while_qbytes_exceeded_(); cleanup(); }

static void removal_wakes_senders_and_receivers_with_eidrm_(void)
{
    int id = make(IPC_PRIVATE, 0600);
    int full = make(IPC_PRIVATE, 0600);
    CHECK(id >= 0 && full >= 0);
    struct msqid_ds ds = stat_of(full);
    ds.msg_qbytes = 1;
    CHECK_OK(msgctl(full, IPC_SET, &ds));
    CHECK_OK(send_str(full, 1, "x", 0));
    int ready[2];
    CHECK_OK(pipe(ready));
    pid_t kids[2];
    for (int i = 0; i < 2; i++) {
        kids[i] = fork();
        CHECK(kids[i] >= 0);
        if (kids[i] == 0) {
            CCHECK(write(ready[1], "r", 1) == 1);
            if (i == 0)
                CERRNO(recv_str(id, 256, 0, 0), EIDRM);
            else
                CERRNO(send_str(full, 1, "y", 0), EIDRM);
            _exit(0);
        }
    }
    char c;
    for (int i = 0; i < 2; i++) {
        CHECK_EQ(read(ready[0], &c, 1), 1);
        CHECK(wait_sleeping(kids[i]));
    }
    CHECK_OK(msgctl(id, IPC_RMID, NULL));
    CHECK_OK(msgctl(full, IPC_RMID, NULL));
    CHECK_EXITED(kids[0], 0);
    CHECK_EXITED(kids[1], 0);
    CHECK_ERRNO(msgctl(id, IPC_STAT, &ds), EINVAL);
    close(ready[0]);
    close(ready[1]);
}
TEST(removal_wakes_senders_and_receivers_with_eidrm) { removal_wakes_senders_and_receivers_with_eidrm_(); cleanup(); }

static volatile sig_atomic_t got_signal;
static void on_signal(int sig) { got_signal = sig; }

static void signal_interrupts_with_eintr_(void)
{
    int id = make(IPC_PRIVATE, 0600);
    CHECK(id >= 0);
    int ready[2];
    CHECK_OK(pipe(ready));
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_signal;
        sa.sa_flags = SA_RESTART; /* msgrcv is not restarted after a handler all the same */
        CCHECK(sigaction(SIGUSR1, &sa, NULL) == 0);
        CCHECK(write(ready[1], "r", 1) == 1);
        CERRNO(recv_str(id, 256, 0, 0), EINTR);
        CCHECK(got_signal == SIGUSR1);
        _exit(0);
    }
    char c;
    CHECK_EQ(read(ready[0], &c, 1), 1);
    CHECK(wait_sleeping(pid));
    CHECK_OK(kill(pid, SIGUSR1));
    CHECK_EXITED(pid, 0);
    close(ready[0]);
    close(ready[1]);
}
TEST(signal_interrupts_with_eintr) { signal_interrupts_with_eintr_(); cleanup(); }

/* CAP_SYS_RESOURCE in our effective set (bit 24 of CapEff); without that line, root has it. */
static int has_sys_resource(void)
{
    char buf[4096];
    int fd = open("/proc/self/status", O_RDONLY);
    ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
    if (fd >= 0)
        close(fd);
    if (n <= 0)
        return geteuid() == 0;
    buf[n] = '\0';
    char *p = strstr(buf, "\nCapEff:");
    if (!p)
        return geteuid() == 0;
    return (strtoull(p + 8, NULL, 16) >> 24) & 1;
}

static void ipc_set_qbytes_needs_privilege_above_msgmnb_(void)
{
    int id = make(IPC_PRIVATE, 0600);
    CHECK(id >= 0);
    struct msqid_ds ds = stat_of(id);
    ds.msg_qbytes = 100000;
    if (has_sys_resource()) {
        CHECK_OK(msgctl(id, IPC_SET, &ds)); /* root may */
        CHECK_EQ(stat_of(id).msg_qbytes, 100000);
    } else {
        CHECK_ERRNO(msgctl(id, IPC_SET, &ds), EPERM); /* a container's root may not */
    }
    ds.msg_perm.uid = NOBODY;
    ds.msg_perm.mode = 0660;
    ds.msg_qbytes = 16384;
    CHECK_OK(msgctl(id, IPC_SET, &ds));
    ds = stat_of(id);
    CHECK_EQ(ds.msg_perm.uid, NOBODY);
    CHECK_EQ(ds.msg_perm.cuid, geteuid());
    CHECK_EQ(ds.msg_perm.mode & 0777, 0660);
    AS_NOBODY({
        struct msqid_ds d;
        CCHECK(msgctl(id, IPC_STAT, &d) == 0);
        d.msg_qbytes = 16385;
        CERRNO(msgctl(id, IPC_SET, &d), EPERM);
        d.msg_qbytes = 100;
        CCHECK(msgctl(id, IPC_SET, &d) == 0);
        CCHECK(msgctl(id, IPC_STAT, &d) == 0 && d.msg_qbytes == 100);
    });
}
TEST(ipc_set_qbytes_needs_privilege_above_msgmnb) { ipc_set_qbytes_needs_privilege_above_msgmnb_(); cleanup(); }

static void permissions_as_nobody_(void)
{
    int id = make(IPC_PRIVATE, 0600);
    int wo = make(IPC_PRIVATE, 0622);
    CHECK(id >= 0 && wo >= 0);
    CHECK_OK(send_str(id, 1, "secret", 0));
    AS_NOBODY({
        struct msqid_ds d;
        CERRNO(send_str(id, 1, "x", IPC_NOWAIT), EACCES);
        CERRNO(recv_str(id, 256, 0, IPC_NOWAIT), EACCES);
        CERRNO(msgctl(id, IPC_STAT, &d), EACCES);
        CERRNO(msgctl(id, IPC_RMID, NULL), EPERM);
        CERRNO(msgctl(id, IPC_SET, &d), EPERM);
        /* Write-only for others: send yes, receive no. */
        CCHECK(send_str(wo, 1, "from nobody", 0) == 0);
        CERRNO(recv_str(wo, 256, 0, IPC_NOWAIT), EACCES);
        struct msginfo info;
        int maxidx = msgctl(0, MSG_INFO, (struct msqid_ds *)&info), seen = 0;
        CCHECK(maxidx >= 0);
        for (int i = 0; i <= maxidx && !seen; i++) {
            if (msgctl(i, MSG_STAT_ANY, &d) == id) {
                seen = 1;
                CCHECK(d.msg_qnum == 1);
                CERRNO(msgctl(i, MSG_STAT, &d), EACCES);
            }
        }
        CCHECK(seen);
    });
    CHECK_EQ(recv_str(wo, 256, 0, IPC_NOWAIT), 11);
    CHECK_EQ(stat_of(wo).msg_lspid > 0, 1);
}
TEST(permissions_as_nobody) { permissions_as_nobody_(); cleanup(); }

static void senders_and_receivers_contend_(void)
{
    enum { PAIRS = 3, COUNT = 150 };
    int id = make(IPC_PRIVATE, 0600);
    CHECK(id >= 0);
    struct msqid_ds ds = stat_of(id);
    ds.msg_qbytes = 64; /* a small queue: senders block often */
    CHECK_OK(msgctl(id, IPC_SET, &ds));
    pid_t kids[2 * PAIRS];
    for (int k = 0; k < 2 * PAIRS; k++) {
        kids[k] = fork();
        CHECK(kids[k] >= 0);
        if (kids[k] == 0) {
            long type = k % PAIRS + 1;
            struct { long mtype; int seq; } m;
            for (int i = 0; i < COUNT; i++) {
                if (k < PAIRS) {
                    m.mtype = type;
                    m.seq = i;
                    CCHECK(msgsnd(id, &m, sizeof m.seq, 0) == 0);
                } else {
                    /* Each receiver takes its type, in the order it was sent. */
                    CCHECK(msgrcv(id, &m, sizeof m.seq, type, 0) == sizeof m.seq);
                    CCHECK(m.mtype == type && m.seq == i);
                }
            }
            _exit(0);
        }
    }
    for (int k = 0; k < 2 * PAIRS; k++)
        CHECK_EXITED(kids[k], 0);
    ds = stat_of(id);
    CHECK_EQ(ds.msg_qnum, 0);
    CHECK_EQ(ds.__msg_cbytes, 0);
}
TEST(senders_and_receivers_contend) { senders_and_receivers_contend_(); cleanup(); }

static void info_and_stat_(void)
{
    int id = make(IPC_PRIVATE, 0600);
    CHECK(id >= 0);
    CHECK_OK(send_str(id, 1, "abc", 0));
    struct msginfo info;
    int maxidx = msgctl(0, IPC_INFO, (struct msqid_ds *)&info);
    CHECK(maxidx >= 0);
    CHECK_EQ(info.msgmax, 8192);
    CHECK_EQ(info.msgmnb, 16384);
    CHECK_EQ(info.msgmni, 32000);
    CHECK_EQ(info.msgssz, 16);
    CHECK_EQ(info.msgseg, 0xffff);
    CHECK_EQ(msgctl(0, MSG_INFO, (struct msqid_ds *)&info), maxidx);
    CHECK(info.msgpool >= 1); /* queues in use */
    CHECK(info.msgmap >= 1);  /* messages */
    CHECK(info.msgtql >= 3);  /* bytes */
    int found = 0;
    for (int i = 0; i <= maxidx; i++) {
        struct msqid_ds ds;
        if (msgctl(i, MSG_STAT, &ds) == id) {
            found = 1;
            CHECK_EQ(ds.msg_qnum, 1);
        }
    }
    CHECK(found);
}
TEST(info_and_stat) { info_and_stat_(); cleanup(); }

static void proc_sysvipc_msg_(void)
{
    key_t key = test_key(3);
    int id = make(key, IPC_CREAT | 0620);
    CHECK(id >= 0);
    CHECK_OK(send_str(id, 4, "12345", 0));
    static char buf[65536];
    int fd = open("/proc/sysvipc/msg", O_RDONLY);
    CHECK(fd >= 0);
    size_t len = 0;
    ssize_t n;
    while (len + 1 < sizeof buf && (n = read(fd, buf + len, sizeof buf - 1 - len)) > 0)
        len += (size_t)n;
    close(fd);
    buf[len] = '\0';
    const char *header = "       key      msqid perms      cbytes       qnum lspid lrpid   uid   gid  cuid  cgid      stime      rtime      ctime\n";
    CHECK(strncmp(buf, header, strlen(header)) == 0);
    char want[128];
    snprintf(want, sizeof want, "\n%10d %10d  %4o  %10u %10u %5d %5d %5u %5u %5u %5u ", (int)key, id, 0620, 5, 1,
             (int)getpid(), 0, (unsigned)geteuid(), (unsigned)getegid(), (unsigned)geteuid(),
             (unsigned)getegid());
    if (!strstr(buf, want))
        FAIL("no line starting '%s' in:\n%s", want + 1, buf);
}
TEST(proc_sysvipc_msg) { proc_sysvipc_msg_(); cleanup(); }
