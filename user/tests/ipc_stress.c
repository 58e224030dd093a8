/* ipc_stress.c - every IPC mechanism at once (issue 14's acceptance): pipes, a FIFO, unix
 * stream/datagram/seqpacket pairs, TCP and UDP over 127.0.0.1, System V message queues,
 * semaphores and shared memory, a POSIX message queue, eventfd, signalfd, and futexes between
 * threads, each a channel run by its own processes and threads, all started together and run
 * for a fixed number of messages (not a fixed time).
 *
 * Every message carries (channel, sender, sequence number, length, checksum) and a payload
 * derived from them; each receiver checks that every message of every sender arrives exactly
 * once (in order where the mechanism orders them, by a bitmap where it does not: POSIX queue
 * priorities), whole and unchanged (stream bytes are reassembled across arbitrary read sizes).
 * Receivers wait in poll, ppoll, select and epoll (level and edge-triggered) on non-blocking
 * descriptors; senders mix blocking writes with POLLOUT waits. UDP and signal queues can drop or
 * refuse when full, so their senders keep a window of messages in flight and wait for the
 * receiver's acknowledgement: nothing rests on timing. A generous alarm turns a hang (a lost
 * wake-up, a deadlock) into a failure that names the channels that stopped and how far they got.
 *
 * Run more rounds in one process: `ipc_stress ROUNDS [OPS]` (the suite runs 1 round of
 * DEFAULT_OPS); `cargo xtask test ipc_stress --repeat 20` boots 20 times.
 * Syscalls: pipe2, mkfifo, socketpair, socket, bind, listen, accept, connect, sendto, recvfrom,
 * msgget, msgsnd, msgrcv, semget, semop, shmget, shmat, mq_open, mq_timedsend/receive, eventfd,
 * signalfd, rt_sigqueueinfo, futex, clone, poll, ppoll, select, epoll_*, fork, wait4, alarm.
 */
#define _GNU_SOURCE
#define TEST_MAIN
#include "test.h"
#include "scratch.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <mqueue.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/select.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

/* Messages per sender per channel in the suite's round. */
#define DEFAULT_OPS 2000
/* Seconds before a round is declared hung. */
#define ROUND_ALARM 45
#define MAX_OPS 100000
#define MAX_PAYLOAD 700
/* Datagram-like messages stay small: a seqpacket/dgram/msg/mq message of header + payload. */
#define MAX_MSG_PAYLOAD 180
#define MAGIC 0x1f2e3d4cu
/* UDP and signals: messages in flight before the sender waits for an acknowledgement. */
#define WINDOW 16

static int ops = DEFAULT_OPS;

struct hdr {
    uint32_t magic;
    uint16_t chan;
    uint16_t sender;
    uint32_t seq;
    uint32_t len;
    uint32_t sum;
};

enum chan_id {
    CH_PIPE,
    CH_FIFO,
    CH_UNIX_STREAM,
    CH_UNIX_DGRAM,
    CH_SEQPACKET,
    CH_TCP,
    CH_UDP,
    CH_SYSV_MSG,
    CH_SYSV_SEM_SHM,
    CH_POSIX_MQ,
    CH_EVENTFD,
    CH_SIGNALFD,
    CH_FUTEX,
    NCHAN,
};

static const char *const chan_name[NCHAN] = {
    "pipe", "fifo", "unix-stream", "unix-dgram", "unix-seqpacket", "tcp", "udp",
    "sysv-msg", "sysv-sem+shm", "posix-mq", "eventfd", "signalfd", "futex",
};

/* What a channel reports, in memory shared by every process of the round. */
struct chan_state {
    _Atomic long sent;
    _Atomic long received;
    _Atomic int errors;
    _Atomic int done;
    char detail[200];
};

static struct chan_state *states;
/* In a channel's processes (not the test's own): an error ends the channel at once. */
static int in_channel;

static void chan_error(int ch, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void chan_error(int ch, const char *fmt, ...)
{
    struct chan_state *s = &states[ch];
    if (atomic_fetch_add(&s->errors, 1) == 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(s->detail, sizeof s->detail, fmt, ap);
        va_end(ap);
    }
    /* The peers of a failed sender or receiver would wait for it forever: end the channel's
     * whole process group now (the parent reports the detail and the signal). */
    if (in_channel)
        kill(0, SIGKILL);
}

/* ---- messages ---- */

static uint32_t mix(uint32_t x)
{
    x ^= x >> 16;
    x *= 0x7feb352du;
    x ^= x >> 15;
    x *= 0x846ca68bu;
    x ^= x >> 16;
    return x;
}

static uint32_t payload_len(int ch, int sender, uint32_t seq, uint32_t max)
{
    return mix((uint32_t)ch * 7919u + (uint32_t)sender * 104729u + seq) % (max + 1);
}

static uint8_t payload_byte(int ch, int sender, uint32_t seq, uint32_t i)
{
    return (uint8_t)mix(((uint32_t)ch << 24) ^ ((uint32_t)sender << 20) ^ (seq * 2654435761u) ^ i);
}

static uint32_t checksum(const uint8_t *p, uint32_t n)
{
    uint32_t h = 2166136261u;
    for (uint32_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

/* Writes message (ch, sender, seq) into buf; returns its size. */
static size_t make_msg(uint8_t *buf, int ch, int sender, uint32_t seq, uint32_t max_payload)
{
    struct hdr h = {MAGIC, (uint16_t)ch, (uint16_t)sender, seq, 0, 0};
    h.len = payload_len(ch, sender, seq, max_payload);
    uint8_t *p = buf + sizeof h;
    for (uint32_t i = 0; i < h.len; i++)
        p[i] = payload_byte(ch, sender, seq, i);
    h.sum = checksum(p, h.len);
    memcpy(buf, &h, sizeof h);
    return sizeof h + h.len;
}

/* Exactly-once bookkeeping of one receiver. */
struct sink {
    int ch;
    int senders;
    int ordered;
    uint32_t next[4];          /* ordered: the next sequence number per sender */
    uint8_t *seen[4];          /* unordered: one byte per sequence number */
    long count;
};

static void sink_init(struct sink *k, int ch, int senders, int ordered)
{
    memset(k, 0, sizeof *k);
    k->ch = ch;
    k->senders = senders;
    k->ordered = ordered;
    if (!ordered)
        for (int i = 0; i < senders; i++)
            k->seen[i] = calloc((size_t)ops, 1);
}

/* Checks one whole message of n bytes; false (and the channel's error) if it is wrong. */
static int sink_take(struct sink *k, const uint8_t *m, size_t n)
{
    struct hdr h;
    if (n < sizeof h) {
        chan_error(k->ch, "short message of %zu bytes after %ld", n, k->count);
        return 0;
    }
    memcpy(&h, m, sizeof h);
    if (h.magic != MAGIC || h.chan != k->ch || h.sender >= k->senders ||
        h.seq >= (uint32_t)ops || n != sizeof h + h.len) {
        chan_error(k->ch, "bad header after %ld messages: magic %#x chan %u sender %u seq %u len %u (size %zu)",
                   k->count, h.magic, h.chan, h.sender, h.seq, h.len, n);
        return 0;
    }
    if (checksum(m + sizeof h, h.len) != h.sum) {
        chan_error(k->ch, "checksum of sender %u seq %u", h.sender, h.seq);
        return 0;
    }
    for (uint32_t i = 0; i < h.len; i++)
        if (m[sizeof h + i] != payload_byte(k->ch, h.sender, h.seq, i)) {
            chan_error(k->ch, "payload byte %u of sender %u seq %u", i, h.sender, h.seq);
            return 0;
        }
    if (k->ordered) {
        if (h.seq != k->next[h.sender]) {
            chan_error(k->ch, "sender %u: seq %u arrived, expected %u (lost, duplicated or reordered)",
                       h.sender, h.seq, k->next[h.sender]);
            return 0;
        }
        k->next[h.sender]++;
    } else {
        if (k->seen[h.sender][h.seq]) {
            chan_error(k->ch, "sender %u: seq %u arrived twice", h.sender, h.seq);
            return 0;
        }
        k->seen[h.sender][h.seq] = 1;
    }
    k->count++;
    atomic_fetch_add(&states[k->ch].received, 1);
    return 1;
}

static int sink_complete(struct sink *k)
{
    return k->count == (long)k->senders * ops;
}

/* A byte stream cut into messages again, whatever the read sizes were. */
struct stream_sink {
    struct sink k;
    uint8_t buf[2 * (sizeof(struct hdr) + MAX_PAYLOAD) + 65536];
    size_t have;
};

/* Adds n bytes; false on a bad message. */
static int stream_take(struct stream_sink *s, const uint8_t *p, size_t n)
{
    while (n > 0) {
        size_t room = sizeof s->buf - s->have;
        size_t take = n < room ? n : room;
        memcpy(s->buf + s->have, p, take);
        s->have += take;
        p += take;
        n -= take;
        size_t off = 0;
        while (s->have - off >= sizeof(struct hdr)) {
            struct hdr h;
            memcpy(&h, s->buf + off, sizeof h);
            if (h.magic != MAGIC || h.len > MAX_PAYLOAD) {
                chan_error(s->k.ch, "stream out of step after %ld messages (magic %#x len %u)",
                           s->k.count, h.magic, h.len);
                return 0;
            }
            if (s->have - off < sizeof h + h.len)
                break;
            if (!sink_take(&s->k, s->buf + off, sizeof h + h.len))
                return 0;
            off += sizeof h + h.len;
        }
        memmove(s->buf, s->buf + off, s->have - off);
        s->have -= off;
    }
    return 1;
}

/* ---- small helpers ---- */

static int write_all(int fd, const void *buf, size_t n)
{
    const uint8_t *p = buf;
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && errno == EAGAIN) {
            struct pollfd pfd = {fd, POLLOUT, 0};
            if (poll(&pfd, 1, -1) < 0 && errno != EINTR)
                return -1;
            continue;
        }
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static void set_nonblock(int fd)
{
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

/* A stream sender: every message of `sender`, cut into writes of varying sizes. */
static void stream_send(int ch, int sender, int fd)
{
    uint8_t *out = malloc(8192);
    size_t have = 0;
    if (!out)
        return chan_error(ch, "malloc");
    uint32_t cut = 1 + (uint32_t)sender;
    for (int seq = 0; seq < ops; seq++) {
        have += make_msg(out + have, ch, sender, (uint32_t)seq, MAX_PAYLOAD);
        atomic_fetch_add(&states[ch].sent, 1);
        if (have < 4096 && seq + 1 < ops)
            continue;
        /* Out in pieces that split messages anywhere. */
        size_t off = 0;
        while (off < have) {
            cut = mix(cut + (uint32_t)seq);
            size_t piece = 1 + cut % 3000;
            if (piece > have - off)
                piece = have - off;
            if (write_all(fd, out + off, piece) < 0) {
                chan_error(ch, "sender %d: write: %s", sender, strerror(errno));
                return;
            }
            off += piece;
        }
        have = 0;
    }
    free(out);
}

/* Reads a non-blocking stream until every message has come or EOF; waits with `how`. */
enum waiter { W_POLL, W_PPOLL, W_SELECT, W_EPOLL, W_EPOLL_ET };

static int wait_readable(int fd, enum waiter how, int epfd)
{
    switch (how) {
    case W_POLL: {
        struct pollfd p = {fd, POLLIN, 0};
        return poll(&p, 1, -1);
    }
    case W_PPOLL: {
        struct pollfd p = {fd, POLLIN, 0};
        return ppoll(&p, 1, NULL, NULL);
    }
    case W_SELECT: {
        fd_set r;
        FD_ZERO(&r);
        FD_SET(fd, &r);
        return select(fd + 1, &r, NULL, NULL, NULL);
    }
    case W_EPOLL:
    case W_EPOLL_ET: {
        struct epoll_event ev;
        return epoll_wait(epfd, &ev, 1, -1);
    }
    }
    return -1;
}

static int waiter_setup(int fd, enum waiter how)
{
    if (how != W_EPOLL && how != W_EPOLL_ET)
        return -1;
    int epfd = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN | (how == W_EPOLL_ET ? EPOLLET : 0), .data.fd = fd};
    epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
    return epfd;
}

static void stream_receive(int ch, int fd, int senders, enum waiter how)
{
    struct stream_sink *sp = calloc(1, sizeof *sp);
    if (!sp)
        return chan_error(ch, "malloc");
#define s (*sp)
    sink_init(&s.k, ch, senders, 1);
    set_nonblock(fd);
    int epfd = waiter_setup(fd, how);
    uint8_t buf[8192];
    uint32_t r = (uint32_t)ch;
    while (!sink_complete(&s.k)) {
        r = mix(r);
        ssize_t n = read(fd, buf, 1 + r % sizeof buf);
        if (n > 0) {
            if (!stream_take(&s, buf, (size_t)n))
                break;
            continue;
        }
        if (n == 0) {
            chan_error(ch, "EOF after %ld of %d messages", s.k.count, senders * ops);
            break;
        }
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN) {
            chan_error(ch, "read: %s", strerror(errno));
            break;
        }
        if (wait_readable(fd, how, epfd) < 0 && errno != EINTR) {
            chan_error(ch, "wait: %s", strerror(errno));
            break;
        }
    }
    if (epfd >= 0)
        close(epfd);
#undef s
    free(sp);
}

/* Receives whole messages (datagrams, seqpackets) from a non-blocking fd. */
static void message_receive(int ch, int fd, int senders, enum waiter how, struct sink *k)
{
    set_nonblock(fd);
    int epfd = waiter_setup(fd, how);
    uint8_t buf[sizeof(struct hdr) + MAX_MSG_PAYLOAD + 64];
    while (!sink_complete(k)) {
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n >= 0) {
            if (!sink_take(k, buf, (size_t)n))
                break;
            continue;
        }
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN) {
            chan_error(ch, "recv: %s", strerror(errno));
            break;
        }
        if (wait_readable(fd, how, epfd) < 0 && errno != EINTR) {
            chan_error(ch, "wait: %s", strerror(errno));
            break;
        }
    }
    (void)senders;
    if (epfd >= 0)
        close(epfd);
}

static void message_send(int ch, int sender, int fd)
{
    uint8_t buf[sizeof(struct hdr) + MAX_MSG_PAYLOAD];
    for (int seq = 0; seq < ops; seq++) {
        size_t n = make_msg(buf, ch, sender, (uint32_t)seq, MAX_MSG_PAYLOAD);
        for (;;) {
            ssize_t w = send(fd, buf, n, 0);
            if (w == (ssize_t)n)
                break;
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0 && errno == EAGAIN) {
                struct pollfd p = {fd, POLLOUT, 0};
                poll(&p, 1, -1);
                continue;
            }
            chan_error(ch, "sender %d: send of seq %d: %zd, %s", sender, seq, w, strerror(errno));
            return;
        }
        atomic_fetch_add(&states[ch].sent, 1);
    }
}

struct sender_arg {
    int ch, sender, fd;
    void (*fn)(int, int, int);
};

static void *sender_thread(void *p)
{
    struct sender_arg *a = p;
    a->fn(a->ch, a->sender, a->fd);
    return NULL;
}

/* Runs fn(ch, sender, fd) in a forked child; returns its pid. */
static pid_t fork_sender(void (*fn)(int, int, int), int ch, int sender, int fd, int close_fd)
{
    pid_t pid = fork();
    if (pid == 0) {
        if (close_fd >= 0)
            close(close_fd);
        fn(ch, sender, fd);
        _exit(0);
    }
    if (pid < 0)
        chan_error(ch, "fork: %s", strerror(errno));
    return pid;
}

static void reap(int ch, pid_t pid)
{
    int st = 0;
    if (pid <= 0)
        return;
    pid_t r;
    while ((r = waitpid(pid, &st, 0)) < 0 && errno == EINTR)
        ;
    if (r != pid)
        chan_error(ch, "waitpid: %s", strerror(errno));
    else if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        chan_error(ch, "a sender process ended with status %#x", st);
}

/* ---- the channels ---- */

/* A pipe: one writer process (non-blocking, POLLOUT waits), the reader in poll. */
static void run_pipe(int ch)
{
    int p[2];
    if (pipe2(p, 0) < 0)
        return chan_error(ch, "pipe2: %s", strerror(errno));
    set_nonblock(p[1]);
    pid_t w = fork_sender(stream_send, ch, 0, p[1], p[0]);
    close(p[1]);
    stream_receive(ch, p[0], 1, W_POLL);
    close(p[0]);
    reap(ch, w);
}

static char fifo_path[128];

static void fifo_writer(int ch, int sender, int fd)
{
    (void)fd;
    int w = open(fifo_path, O_WRONLY);
    if (w < 0)
        return chan_error(ch, "open fifo for writing: %s", strerror(errno));
    /* Messages up to PIPE_BUF are written whole, so two writers' messages never mix. */
    uint8_t buf[sizeof(struct hdr) + MAX_MSG_PAYLOAD];
    for (int seq = 0; seq < ops; seq++) {
        size_t n = make_msg(buf, ch, sender, (uint32_t)seq, MAX_MSG_PAYLOAD);
        ssize_t r;
        while ((r = write(w, buf, n)) < 0 && errno == EINTR)
            ;
        if (r != (ssize_t)n)
            return chan_error(ch, "fifo write of seq %d: %zd, %s", seq, r, strerror(errno));
        atomic_fetch_add(&states[ch].sent, 1);
    }
    close(w);
}

/* A FIFO: two writer processes, atomic messages, the reader in epoll (edge-triggered). */
static void run_fifo(int ch)
{
    int r = open(fifo_path, O_RDONLY | O_NONBLOCK);
    /* A writer of our own for the whole run: no EOF between the writers' opens and closes,
     * just EAGAIN while the FIFO is empty. */
    int keep = open(fifo_path, O_WRONLY | O_NONBLOCK);
    if (r < 0 || keep < 0)
        return chan_error(ch, "open fifo: %s", strerror(errno));
    pid_t w0 = fork_sender(fifo_writer, ch, 0, -1, r);
    pid_t w1 = fork_sender(fifo_writer, ch, 1, -1, r);
    /* Whole messages interleave; within one writer they stay in order. */
    static struct stream_sink s; /* one per channel process */
    sink_init(&s.k, ch, 2, 1);
    int epfd = waiter_setup(r, W_EPOLL_ET);
    uint8_t buf[4096];
    while (!sink_complete(&s.k)) {
        ssize_t n = read(r, buf, sizeof buf);
        if (n > 0) {
            if (!stream_take(&s, buf, (size_t)n))
                break;
            continue;
        }
        if (n == 0) {
            chan_error(ch, "EOF with a writer open, after %ld of %d messages", s.k.count, 2 * ops);
            break;
        }
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN) {
            chan_error(ch, "read: %s", strerror(errno));
            break;
        }
        struct epoll_event ev;
        epoll_wait(epfd, &ev, 1, -1);
    }
    close(epfd);
    close(keep);
    close(r);
    reap(ch, w0);
    reap(ch, w1);
}

struct duplex_arg {
    int ch, fd, side;
};

static void *duplex_receiver(void *p)
{
    struct duplex_arg *a = p;
    /* Each side receives what the other side's sender sends (sender = the other side). */
    static struct stream_sink s[2];
    struct stream_sink *me = &s[a->side];
    memset(me, 0, sizeof *me);
    sink_init(&me->k, a->ch, 2, 1);
    me->k.next[a->side] = (uint32_t)ops; /* nothing comes from our own side */
    me->k.count = ops;
    int epfd = waiter_setup(a->fd, a->side ? W_EPOLL : W_SELECT);
    uint8_t buf[6000];
    while (!sink_complete(&me->k)) {
        ssize_t n = recv(a->fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n > 0) {
            if (!stream_take(me, buf, (size_t)n))
                break;
            continue;
        }
        if (n == 0) {
            chan_error(a->ch, "side %d: EOF early", a->side);
            break;
        }
        if (errno != EAGAIN && errno != EINTR) {
            chan_error(a->ch, "recv: %s", strerror(errno));
            break;
        }
        wait_readable(a->fd, a->side ? W_EPOLL : W_SELECT, epfd);
    }
    if (epfd >= 0)
        close(epfd);
    return NULL;
}

/* A unix stream pair, full duplex: on each side one thread sends while another receives; the
 * two sides are two processes. */
static void duplex_side(int ch, int side, int fd)
{
    struct duplex_arg a = {ch, fd, side};
    pthread_t t;
    if (pthread_create(&t, NULL, duplex_receiver, &a) != 0)
        return chan_error(ch, "pthread_create");
    stream_send(ch, side, fd);
    pthread_join(t, NULL);
}

static void run_unix_stream(int ch)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
        return chan_error(ch, "socketpair: %s", strerror(errno));
    pid_t other = fork_sender(duplex_side, ch, 1, sv[1], sv[0]);
    close(sv[1]);
    duplex_side(ch, 0, sv[0]);
    close(sv[0]);
    reap(ch, other);
}

/* Unix datagrams: two sender threads of another process, the receiver in ppoll. */
static void two_sender_threads(int ch, int unused, int fd)
{
    (void)unused;
    struct sender_arg a[2] = {{ch, 0, fd, message_send}, {ch, 1, fd, message_send}};
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        if (pthread_create(&t[i], NULL, sender_thread, &a[i]) != 0)
            return chan_error(ch, "pthread_create");
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
}

static void run_socketpair_messages(int ch, int type, enum waiter how)
{
    int sv[2];
    if (socketpair(AF_UNIX, type, 0, sv) < 0)
        return chan_error(ch, "socketpair: %s", strerror(errno));
    pid_t w = fork_sender(two_sender_threads, ch, 0, sv[1], sv[0]);
    close(sv[1]);
    struct sink k;
    sink_init(&k, ch, 2, 1);
    message_receive(ch, sv[0], 2, how, &k);
    close(sv[0]);
    reap(ch, w);
}

/* TCP over 127.0.0.1: a client process sends, the accepting side reads in epoll. */
static void run_tcp(int ch)
{
    int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof a) < 0 || listen(l, 4) < 0 ||
        getsockname(l, (struct sockaddr *)&a, &len) < 0)
        return chan_error(ch, "listener: %s", strerror(errno));
    pid_t client = fork();
    if (client == 0) {
        close(l);
        int c = socket(AF_INET, SOCK_STREAM, 0);
        if (connect(c, (struct sockaddr *)&a, sizeof a) < 0) {
            chan_error(ch, "connect: %s", strerror(errno));
            _exit(0);
        }
        stream_send(ch, 0, c);
        close(c);
        _exit(0);
    }
    int s = accept(l, NULL, NULL);
    close(l);
    if (s < 0)
        chan_error(ch, "accept: %s", strerror(errno));
    else
        stream_receive(ch, s, 1, W_EPOLL);
    close(s);
    reap(ch, client);
}

/* UDP over 127.0.0.1: a window of datagrams, then the receiver's acknowledgement. */
static void run_udp(int ch)
{
    int rx = socket(AF_INET, SOCK_DGRAM, 0), tx = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in ra = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    struct sockaddr_in ta = ra;
    socklen_t len = sizeof ra;
    if (rx < 0 || tx < 0 || bind(rx, (struct sockaddr *)&ra, sizeof ra) < 0 ||
        getsockname(rx, (struct sockaddr *)&ra, &len) < 0 ||
        bind(tx, (struct sockaddr *)&ta, sizeof ta) < 0 ||
        getsockname(tx, (struct sockaddr *)&ta, &len) < 0 ||
        connect(tx, (struct sockaddr *)&ra, sizeof ra) < 0 ||
        connect(rx, (struct sockaddr *)&ta, sizeof ta) < 0)
        return chan_error(ch, "udp setup: %s", strerror(errno));
    pid_t w = fork();
    if (w == 0) {
        close(rx);
        uint8_t buf[sizeof(struct hdr) + MAX_MSG_PAYLOAD];
        for (int seq = 0; seq < ops; seq++) {
            size_t n = make_msg(buf, ch, 0, (uint32_t)seq, MAX_MSG_PAYLOAD);
            if (send(tx, buf, n, 0) != (ssize_t)n) {
                chan_error(ch, "udp send of seq %d: %s", seq, strerror(errno));
                _exit(0);
            }
            atomic_fetch_add(&states[ch].sent, 1);
            if ((seq + 1) % WINDOW == 0 || seq + 1 == ops) {
                uint32_t ack;
                struct pollfd p = {tx, POLLIN, 0};
                poll(&p, 1, -1);
                if (recv(tx, &ack, sizeof ack, 0) != sizeof ack || ack != (uint32_t)seq + 1) {
                    chan_error(ch, "udp ack after seq %d: %s", seq, strerror(errno));
                    _exit(0);
                }
            }
        }
        _exit(0);
    }
    close(tx);
    struct sink k;
    sink_init(&k, ch, 1, 1);
    set_nonblock(rx);
    uint8_t buf[sizeof(struct hdr) + MAX_MSG_PAYLOAD + 64];
    while (!sink_complete(&k)) {
        ssize_t n = recv(rx, buf, sizeof buf, 0);
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            struct pollfd p = {rx, POLLIN, 0};
            poll(&p, 1, -1);
            continue;
        }
        if (n < 0) {
            chan_error(ch, "udp recv: %s", strerror(errno));
            break;
        }
        if (!sink_take(&k, buf, (size_t)n))
            break;
        if (k.count % WINDOW == 0 || k.count == ops) {
            uint32_t ack = (uint32_t)k.count;
            send(rx, &ack, sizeof ack, 0);
        }
    }
    close(rx);
    reap(ch, w);
}

/* System V messages: two sender processes (types 1 and 2), the receiver takes any type. */
static int msq_id;

static void msg_sender(int ch, int sender, int fd)
{
    (void)fd;
    struct {
        long mtype;
        uint8_t text[sizeof(struct hdr) + MAX_MSG_PAYLOAD];
    } m;
    for (int seq = 0; seq < ops; seq++) {
        m.mtype = sender + 1;
        size_t n = make_msg(m.text, ch, sender, (uint32_t)seq, MAX_MSG_PAYLOAD);
        while (msgsnd(msq_id, &m, n, 0) < 0) {
            if (errno != EINTR)
                return chan_error(ch, "msgsnd: %s", strerror(errno));
        }
        atomic_fetch_add(&states[ch].sent, 1);
    }
}

static void run_sysv_msg(int ch)
{
    msq_id = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
    if (msq_id < 0)
        return chan_error(ch, "msgget: %s", strerror(errno));
    pid_t w0 = fork_sender(msg_sender, ch, 0, -1, -1);
    pid_t w1 = fork_sender(msg_sender, ch, 1, -1, -1);
    struct sink k;
    sink_init(&k, ch, 2, 1);
    struct {
        long mtype;
        uint8_t text[sizeof(struct hdr) + MAX_MSG_PAYLOAD];
    } m;
    while (!sink_complete(&k)) {
        ssize_t n = msgrcv(msq_id, &m, sizeof m.text, 0, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            chan_error(ch, "msgrcv: %s", strerror(errno));
            break;
        }
        if (!sink_take(&k, m.text, (size_t)n))
            break;
    }
    reap(ch, w0);
    reap(ch, w1);
    msgctl(msq_id, IPC_RMID, NULL);
}

/* System V semaphores guarding a ring in System V shared memory: two producer processes, one
 * consumer (empty and full counts, and a lock, as the textbook has it). */
#define RING_SLOTS 8
#define SLOT_BYTES (sizeof(struct hdr) + MAX_MSG_PAYLOAD)
struct ring {
    uint32_t head, tail;
    uint8_t slot[RING_SLOTS][SLOT_BYTES];
};
enum { SEM_EMPTY, SEM_FULL, SEM_LOCK };
static int sem_id, shm_id;

static int semop1(int num, int delta)
{
    struct sembuf op = {(unsigned short)num, (short)delta, 0};
    while (semop(sem_id, &op, 1) < 0)
        if (errno != EINTR)
            return -1;
    return 0;
}

static void ring_producer(int ch, int sender, int fd)
{
    (void)fd;
    struct ring *r = shmat(shm_id, NULL, 0);
    if (r == (void *)-1)
        return chan_error(ch, "shmat: %s", strerror(errno));
    for (int seq = 0; seq < ops; seq++) {
        if (semop1(SEM_EMPTY, -1) < 0 || semop1(SEM_LOCK, -1) < 0)
            return chan_error(ch, "semop: %s", strerror(errno));
        make_msg(r->slot[r->head % RING_SLOTS], ch, sender, (uint32_t)seq, MAX_MSG_PAYLOAD);
        r->head++;
        atomic_fetch_add(&states[ch].sent, 1);
        if (semop1(SEM_LOCK, 1) < 0 || semop1(SEM_FULL, 1) < 0)
            return chan_error(ch, "semop: %s", strerror(errno));
    }
    shmdt(r);
}

static void run_sysv_sem_shm(int ch)
{
    sem_id = semget(IPC_PRIVATE, 3, IPC_CREAT | 0600);
    shm_id = shmget(IPC_PRIVATE, sizeof(struct ring), IPC_CREAT | 0600);
    if (sem_id < 0 || shm_id < 0)
        return chan_error(ch, "semget/shmget: %s", strerror(errno));
    unsigned short init[3] = {RING_SLOTS, 0, 1};
    semctl(sem_id, 0, SETALL, init);
    struct ring *r = shmat(shm_id, NULL, 0);
    if (r == (void *)-1)
        return chan_error(ch, "shmat: %s", strerror(errno));
    pid_t w0 = fork_sender(ring_producer, ch, 0, -1, -1);
    pid_t w1 = fork_sender(ring_producer, ch, 1, -1, -1);
    struct sink k;
    sink_init(&k, ch, 2, 1);
    uint8_t m[SLOT_BYTES];
    while (!sink_complete(&k)) {
        if (semop1(SEM_FULL, -1) < 0 || semop1(SEM_LOCK, -1) < 0) {
            chan_error(ch, "semop: %s", strerror(errno));
            break;
        }
        memcpy(m, r->slot[r->tail % RING_SLOTS], SLOT_BYTES);
        r->tail++;
        if (semop1(SEM_LOCK, 1) < 0 || semop1(SEM_EMPTY, 1) < 0) {
            chan_error(ch, "semop: %s", strerror(errno));
            break;
        }
        struct hdr h;
        memcpy(&h, m, sizeof h);
        if (!sink_take(&k, m, sizeof h + (h.len <= MAX_MSG_PAYLOAD ? h.len : 0)))
            break;
    }
    reap(ch, w0);
    reap(ch, w1);
    shmdt(r);
    shmctl(shm_id, IPC_RMID, NULL);
    semctl(sem_id, 0, IPC_RMID);
}

/* A POSIX message queue: two sender threads with mixed priorities (so the order is the
 * queue's, not the senders'), the receiver in epoll on the queue descriptor. */
static char mq_name[64];

static void mq_sender(int ch, int sender, int fd)
{
    mqd_t q = (mqd_t)fd;
    uint8_t buf[sizeof(struct hdr) + MAX_MSG_PAYLOAD];
    for (int seq = 0; seq < ops; seq++) {
        size_t n = make_msg(buf, ch, sender, (uint32_t)seq, MAX_MSG_PAYLOAD);
        while (mq_send(q, (char *)buf, n, (unsigned)(seq % 3)) < 0)
            if (errno != EINTR)
                return chan_error(ch, "mq_send: %s", strerror(errno));
        atomic_fetch_add(&states[ch].sent, 1);
    }
}

static void run_posix_mq(int ch)
{
    struct mq_attr attr = {.mq_maxmsg = 8, .mq_msgsize = sizeof(struct hdr) + MAX_MSG_PAYLOAD};
    mqd_t tx = mq_open(mq_name, O_CREAT | O_EXCL | O_WRONLY, 0600, &attr);
    mqd_t rx = mq_open(mq_name, O_RDONLY | O_NONBLOCK);
    mq_unlink(mq_name);
    if (tx == (mqd_t)-1 || rx == (mqd_t)-1)
        return chan_error(ch, "mq_open: %s", strerror(errno));
    struct sender_arg a[2] = {{ch, 0, (int)tx, mq_sender}, {ch, 1, (int)tx, mq_sender}};
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        if (pthread_create(&t[i], NULL, sender_thread, &a[i]) != 0)
            return chan_error(ch, "pthread_create");
    struct sink k;
    sink_init(&k, ch, 2, 0);
    int epfd = waiter_setup((int)rx, W_EPOLL);
    uint8_t buf[sizeof(struct hdr) + MAX_MSG_PAYLOAD];
    while (!sink_complete(&k)) {
        ssize_t n = mq_receive(rx, (char *)buf, sizeof buf, NULL);
        if (n >= 0) {
            if (!sink_take(&k, buf, (size_t)n))
                break;
            continue;
        }
        if (errno != EAGAIN && errno != EINTR) {
            chan_error(ch, "mq_receive: %s", strerror(errno));
            break;
        }
        struct epoll_event ev;
        epoll_wait(epfd, &ev, 1, -1);
    }
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    close(epfd);
    mq_close(tx);
    mq_close(rx);
}

/* eventfd: a writer thread and a writer process add; the reader in poll sums. */
static uint64_t event_value(int sender, int seq)
{
    return (uint64_t)(seq % 7 + 1 + sender);
}

static void event_writer(int ch, int sender, int fd)
{
    for (int seq = 0; seq < ops; seq++) {
        uint64_t v = event_value(sender, seq);
        ssize_t w;
        while ((w = write(fd, &v, sizeof v)) < 0 && errno == EINTR)
            ;
        if (w != sizeof v)
            return chan_error(ch, "eventfd write: %s", strerror(errno));
        atomic_fetch_add(&states[ch].sent, 1);
    }
}

static void run_eventfd(int ch)
{
    int efd = eventfd(0, EFD_CLOEXEC);
    if (efd < 0)
        return chan_error(ch, "eventfd: %s", strerror(errno));
    uint64_t expected = 0;
    for (int s = 0; s < 2; s++)
        for (int seq = 0; seq < ops; seq++)
            expected += event_value(s, seq);
    pid_t w = fork_sender(event_writer, ch, 1, efd, -1);
    struct sender_arg a = {ch, 0, efd, event_writer};
    pthread_t t;
    if (pthread_create(&t, NULL, sender_thread, &a) != 0)
        return chan_error(ch, "pthread_create");
    uint64_t sum = 0;
    long reads = 0;
    while (sum < expected) {
        struct pollfd p = {efd, POLLIN, 0};
        if (poll(&p, 1, -1) < 0 && errno != EINTR) {
            chan_error(ch, "poll: %s", strerror(errno));
            break;
        }
        uint64_t v;
        ssize_t n = read(efd, &v, sizeof v); /* readable, and we are its only reader */
        if (n < 0 && errno == EINTR)
            continue;
        if (n != sizeof v) {
            chan_error(ch, "eventfd read: %s", strerror(errno));
            break;
        }
        sum += v;
        reads++;
        atomic_store(&states[ch].received, (long)(sum * 2 * ops / (expected ? expected : 1)));
    }
    pthread_join(t, NULL);
    reap(ch, w);
    if (sum != expected)
        chan_error(ch, "eventfd sum %llu, expected %llu (%ld reads)", (unsigned long long)sum,
                   (unsigned long long)expected, reads);
    /* Nothing left over. */
    set_nonblock(efd);
    uint64_t v;
    if (read(efd, &v, sizeof v) != -1 || errno != EAGAIN)
        chan_error(ch, "eventfd not empty at the end");
    atomic_store(&states[ch].received, 2L * ops);
    close(efd);
}

/* signalfd: a sender process queues real-time signals carrying sequence numbers, WINDOW at a
 * time; the receiver reads them from a signalfd in epoll and acknowledges through a pipe. */
static void run_signalfd(int ch)
{
    int sig = SIGRTMIN + 2;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    sigprocmask(SIG_BLOCK, &set, NULL);
    int sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    int ack[2];
    if (sfd < 0 || pipe(ack) < 0)
        return chan_error(ch, "signalfd/pipe: %s", strerror(errno));
    pid_t receiver = getpid();
    pid_t w = fork();
    if (w == 0) {
        close(ack[1]);
        for (int seq = 0; seq < ops; seq++) {
            union sigval v = {.sival_int = seq};
            while (sigqueue(receiver, sig, v) < 0)
                if (errno != EINTR) {
                    chan_error(ch, "sigqueue of seq %d: %s", seq, strerror(errno));
                    _exit(0);
                }
            atomic_fetch_add(&states[ch].sent, 1);
            if ((seq + 1) % WINDOW == 0 || seq + 1 == ops) {
                char c;
                ssize_t n;
                while ((n = read(ack[0], &c, 1)) < 0 && errno == EINTR)
                    ;
                if (n != 1) {
                    chan_error(ch, "ack pipe: %zd", n);
                    _exit(0);
                }
            }
        }
        _exit(0);
    }
    close(ack[0]);
    int epfd = waiter_setup(sfd, W_EPOLL);
    long got = 0;
    while (got < ops) {
        struct signalfd_siginfo si;
        ssize_t n = read(sfd, &si, sizeof si);
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            struct epoll_event ev;
            epoll_wait(epfd, &ev, 1, -1);
            continue;
        }
        if (n != sizeof si) {
            chan_error(ch, "signalfd read: %zd, %s", n, strerror(errno));
            break;
        }
        if ((int)si.ssi_signo != sig || si.ssi_int != got || (pid_t)si.ssi_pid != w) {
            chan_error(ch, "signal %u value %d from %u, expected %d value %ld from %d",
                       si.ssi_signo, si.ssi_int, si.ssi_pid, sig, got, (int)w);
            break;
        }
        got++;
        atomic_fetch_add(&states[ch].received, 1);
        if (got % WINDOW == 0 || got == ops)
            if (write(ack[1], "a", 1) != 1)
                chan_error(ch, "ack write: %s", strerror(errno));
    }
    close(ack[1]);
    close(epfd);
    close(sfd);
    reap(ch, w);
}

/* Futexes between threads: two producer threads and a consumer thread share a ring guarded by
 * a futex lock, with futex-based counting semaphores for its free and used slots. */
static long futex(_Atomic int *uaddr, int op, int val)
{
    return syscall(SYS_futex, uaddr, op | FUTEX_PRIVATE_FLAG, val, NULL, NULL, 0);
}

static void fsem_wait(_Atomic int *s)
{
    for (;;) {
        int v = atomic_load(s);
        if (v > 0) {
            if (atomic_compare_exchange_weak(s, &v, v - 1))
                return;
            continue;
        }
        futex(s, FUTEX_WAIT, 0);
    }
}

static void fsem_post(_Atomic int *s)
{
    atomic_fetch_add(s, 1);
    futex(s, FUTEX_WAKE, 1);
}

/* Drepper's mutex: 0 free, 1 locked, 2 locked with waiters. */
static void flock_lock(_Atomic int *m)
{
    int c = 0;
    if (atomic_compare_exchange_strong(m, &c, 1))
        return;
    if (c != 2)
        c = atomic_exchange(m, 2);
    while (c != 0) {
        futex(m, FUTEX_WAIT, 2);
        c = atomic_exchange(m, 2);
    }
}

static void flock_unlock(_Atomic int *m)
{
    if (atomic_fetch_sub(m, 1) != 1) {
        atomic_store(m, 0);
        futex(m, FUTEX_WAKE, 1);
    }
}

static struct {
    _Atomic int free_slots, used_slots, lock;
    uint32_t head, tail;
    uint8_t slot[RING_SLOTS][SLOT_BYTES];
} fring;

static void *futex_producer(void *p)
{
    int sender = (int)(long)p;
    for (int seq = 0; seq < ops; seq++) {
        fsem_wait(&fring.free_slots);
        flock_lock(&fring.lock);
        make_msg(fring.slot[fring.head % RING_SLOTS], CH_FUTEX, sender, (uint32_t)seq,
                 MAX_MSG_PAYLOAD);
        fring.head++;
        flock_unlock(&fring.lock);
        atomic_fetch_add(&states[CH_FUTEX].sent, 1);
        fsem_post(&fring.used_slots);
    }
    return NULL;
}

static void *futex_consumer(void *p)
{
    (void)p;
    struct sink k;
    sink_init(&k, CH_FUTEX, 2, 1);
    uint8_t m[SLOT_BYTES];
    while (!sink_complete(&k)) {
        fsem_wait(&fring.used_slots);
        flock_lock(&fring.lock);
        memcpy(m, fring.slot[fring.tail % RING_SLOTS], SLOT_BYTES);
        fring.tail++;
        flock_unlock(&fring.lock);
        fsem_post(&fring.free_slots);
        struct hdr h;
        memcpy(&h, m, sizeof h);
        if (!sink_take(&k, m, sizeof h + (h.len <= MAX_MSG_PAYLOAD ? h.len : 0)))
            break;
    }
    return NULL;
}

static void run_futex(int ch)
{
    (void)ch;
    atomic_store(&fring.free_slots, RING_SLOTS);
    pthread_t t[3];
    pthread_create(&t[0], NULL, futex_consumer, NULL);
    pthread_create(&t[1], NULL, futex_producer, (void *)0L);
    pthread_create(&t[2], NULL, futex_producer, (void *)1L);
    for (int i = 0; i < 3; i++)
        pthread_join(t[i], NULL);
}

static void run_channel(int ch)
{
    switch (ch) {
    case CH_PIPE: return run_pipe(ch);
    case CH_FIFO: return run_fifo(ch);
    case CH_UNIX_STREAM: return run_unix_stream(ch);
    case CH_UNIX_DGRAM: return run_socketpair_messages(ch, SOCK_DGRAM, W_PPOLL);
    case CH_SEQPACKET: return run_socketpair_messages(ch, SOCK_SEQPACKET, W_EPOLL_ET);
    case CH_TCP: return run_tcp(ch);
    case CH_UDP: return run_udp(ch);
    case CH_SYSV_MSG: return run_sysv_msg(ch);
    case CH_SYSV_SEM_SHM: return run_sysv_sem_shm(ch);
    case CH_POSIX_MQ: return run_posix_mq(ch);
    case CH_EVENTFD: return run_eventfd(ch);
    case CH_SIGNALFD: return run_signalfd(ch);
    case CH_FUTEX: return run_futex(ch);
    }
}

/* Senders per channel (what `received` must reach). */
static int senders_of(int ch)
{
    switch (ch) {
    case CH_PIPE:
    case CH_TCP:
    case CH_UDP:
    case CH_SIGNALFD:
        return 1;
    default:
        return 2;
    }
}

static volatile sig_atomic_t alarm_rang;

static void on_alarm(int sig)
{
    (void)sig;
    alarm_rang = 1;
}

/* One round: every channel in its own process group, started together by closing a pipe. */
static void one_round(int round)
{
    memset(states, 0, sizeof *states * NCHAN);
    const char *dir = newdir();
    CHECK(dir != NULL);
    snprintf(fifo_path, sizeof fifo_path, "%s/fifo", dir);
    CHECK_OK(mkfifo(fifo_path, 0600));
    snprintf(mq_name, sizeof mq_name, "/ipc_stress.%d.%d", (int)getpid(), round);

    int gate[2];
    CHECK_OK(pipe(gate));
    pid_t pids[NCHAN];
    for (int ch = 0; ch < NCHAN; ch++) {
        pids[ch] = fork();
        CHECK(pids[ch] >= 0);
        if (pids[ch] == 0) {
            setpgid(0, 0);
            in_channel = 1;
            signal(SIGALRM, SIG_DFL);
            alarm(ROUND_ALARM + 15); /* a backstop should the parent be gone */
            close(gate[1]);
            char c;
            while (read(gate[0], &c, 1) < 0 && errno == EINTR)
                ;
            close(gate[0]);
            run_channel(ch);
            atomic_store(&states[ch].done, 1);
            _exit(0);
        }
        setpgid(pids[ch], pids[ch]);
    }
    close(gate[0]);
    long long start = now_ns();
    alarm_rang = 0;
    struct sigaction sa = {.sa_handler = on_alarm}; /* no SA_RESTART: waitpid gives EINTR */
    sigaction(SIGALRM, &sa, NULL);
    alarm(ROUND_ALARM);
    close(gate[1]); /* go */

    int left = NCHAN;
    while (left > 0 && !alarm_rang) {
        int st;
        pid_t p = waitpid(-1, &st, 0);
        if (p < 0 && errno == EINTR)
            continue;
        if (p < 0)
            break;
        for (int ch = 0; ch < NCHAN; ch++)
            if (pids[ch] == p) {
                left--;
                if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
                    chan_error(ch, "channel process ended with status %#x", st);
            }
    }
    alarm(0);
    if (alarm_rang) {
        for (int ch = 0; ch < NCHAN; ch++)
            kill(-pids[ch], SIGKILL);
        while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
            ;
    }
    long long ms = (now_ns() - start) / 1000000;
    printf("# round %d: %d channels, %d messages per sender, %lld ms%s\n", round, NCHAN, ops, ms,
           alarm_rang ? " (TIMED OUT)" : "");
    char failures[1500] = "";
    for (int ch = 0; ch < NCHAN; ch++) {
        struct chan_state *s = &states[ch];
        long want = (long)senders_of(ch) * ops;
        int ok = s->done && !s->errors && s->received == want && s->sent == want;
        if (!ok) {
            printf("#   %s: %s, sent %ld, received %ld of %ld%s%s\n", chan_name[ch],
                   alarm_rang && !s->done ? "stuck" : "wrong", (long)s->sent, (long)s->received,
                   want, s->errors ? ": " : "", s->errors ? s->detail : "");
            size_t len = strlen(failures);
            snprintf(failures + len, sizeof failures - len, "%s%s", len ? ", " : "",
                     chan_name[ch]);
        }
    }
    fflush(stdout);
    unlink(fifo_path);
    if (alarm_rang)
        FAIL("round %d hung after %d s (no progress: lost wake-up or deadlock?) in: %s", round,
             ROUND_ALARM, failures);
    if (failures[0])
        FAIL("round %d: wrong delivery in: %s", round, failures);
}

TEST(every_ipc_mechanism_at_once_delivers_each_message_exactly_once)
{
    int rounds = 1;
    if (test_argc > 1)
        rounds = atoi(test_argv[1]);
    if (test_argc > 2)
        ops = atoi(test_argv[2]);
    if (rounds < 1 || ops < 1 || ops > MAX_OPS)
        FAIL("usage: ipc_stress [ROUNDS [OPS <= %d]]", MAX_OPS);
    states = mmap(NULL, sizeof *states * NCHAN, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                  -1, 0);
    CHECK(states != MAP_FAILED);
    for (int round = 1; round <= rounds && !test_failed(); round++)
        one_round(round);
    munmap(states, sizeof *states * NCHAN);
}
