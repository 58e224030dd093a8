/* ipc_tools.c - the ipcs and ipcrm commands over System V IPC objects this test creates.
 * On POSIX-X they are busybox's applets (built from Debian's busybox source, see
 * docs/sysv-ipc.md); on Linux util-linux's, whose summary and -p lines have the same columns.
 * A row is found by its id, so other objects on the machine do not matter. Checked: key, id,
 * owner, perms, bytes/nattch, nsems, used-bytes/messages, creator and last pids (-p), the
 * "dest" status of a removed but attached segment, ipcrm by id and by key for each kind, its
 * failure on a gone id, and that it cannot remove what the caller has no right to.
 * Every object a case creates is removed with IPC_RMID, also when a check fails.
 * Syscalls (directly or through popen): shmget, shmat, shmdt, shmctl, semget, semctl, msgget,
 * msgsnd, msgctl, fork, execve, wait4, pipe2, setuid, setgid.
 */
#define _GNU_SOURCE
#define TEST_MAIN
#include "test.h"

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/wait.h>

#include "children.h"

#define NOBODY 65534
#define MAX_TOKENS 12

/* A key private to this run of the test. */
static key_t test_key(int n)
{
    return (key_t)(0x5c000000 | ((getpid() & 0xffff) << 8) | n);
}

/* Objects created by the current case, removed by cleanup() whatever happened. */
static int shm_ids[8], sem_ids[8], msg_ids[8];
static int n_shm, n_sem, n_msg;

static int new_shm(key_t key, size_t size, int mode)
{
    int id = shmget(key, size, IPC_CREAT | IPC_EXCL | mode);
    if (id >= 0 && n_shm < 8)
        shm_ids[n_shm++] = id;
    return id;
}

static int new_sem(key_t key, int nsems, int mode)
{
    int id = semget(key, nsems, IPC_CREAT | IPC_EXCL | mode);
    if (id >= 0 && n_sem < 8)
        sem_ids[n_sem++] = id;
    return id;
}

static int new_msg(key_t key, int mode)
{
    int id = msgget(key, IPC_CREAT | IPC_EXCL | mode);
    if (id >= 0 && n_msg < 8)
        msg_ids[n_msg++] = id;
    return id;
}

static void cleanup(void)
{
    for (int i = 0; i < n_shm; i++)
        shmctl(shm_ids[i], IPC_RMID, NULL);
    for (int i = 0; i < n_sem; i++)
        semctl(sem_ids[i], 0, IPC_RMID);
    for (int i = 0; i < n_msg; i++)
        msgctl(msg_ids[i], IPC_RMID, NULL);
    n_shm = n_sem = n_msg = 0;
}

#define IPC_TEST(name)                                                                \
    static void name##_(void);                                                        \
    TEST(name)                                                                        \
    {                                                                                 \
        name##_();                                                                    \
        cleanup();                                                                    \
    }                                                                                 \
    static void name##_(void)

/* Runs `cmd` with sh -c; returns its stdout (static buffer) and its exit status in *status. */
static const char *run(const char *cmd, int *status)
{
    static char out[16384];
    fflush(stdout);
    FILE *p = popen(cmd, "r");
    if (!p)
        return NULL;
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    *status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    return out;
}

/* Splits the first line of `out` whose token `col` is `want` into tokens; returns their count
 * (0: no such line). */
static int find_row(const char *out, int col, const char *want, char tokens[MAX_TOKENS][32])
{
    const char *line = out;
    while (*line) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        char buf[256];
        snprintf(buf, sizeof buf, "%.*s", (int)len, line);
        int n = 0;
        for (char *save, *t = strtok_r(buf, " \t", &save); t && n < MAX_TOKENS; t = strtok_r(NULL, " \t", &save))
            snprintf(tokens[n++], 32, "%s", t);
        if (n > col && strcmp(tokens[col], want) == 0)
            return n;
        line = end ? end + 1 : line + len;
    }
    return 0;
}

/* Like find_row, for the row whose column `col` is the number `id`. */
static int find_id_row(const char *out, int col, int id, char tokens[MAX_TOKENS][32])
{
    char want[32];
    snprintf(want, sizeof want, "%d", id);
    return find_row(out, col, want, tokens);
}

static const char *owner_name(void)
{
    static char name[64];
    struct passwd *pw = getpwuid(geteuid());
    if (pw)
        snprintf(name, sizeof name, "%s", pw->pw_name);
    else
        snprintf(name, sizeof name, "%u", (unsigned)geteuid());
    return name;
}

static const char *hex_key(key_t key)
{
    static char s[16];
    snprintf(s, sizeof s, "0x%08x", (unsigned)key);
    return s;
}

/* The row of id `id` in `ipcs <opts>`, checked for exit status 0; fails the case if absent. */
#define IPCS_ROW(opts, col, id, tok, n)                                               \
    do {                                                                              \
        int st_;                                                                      \
        const char *out_ = run("ipcs " opts, &st_);                                   \
        CHECK(out_ != NULL);                                                          \
        CHECK_EQ(st_, 0);                                                             \
        (n) = find_id_row(out_, (col), (id), (tok));                                  \
        if ((n) == 0)                                                                 \
            FAIL("no row for id %d in `ipcs %s`:\n%s", (int)(id), opts, out_);        \
    } while (0)

IPC_TEST(ipcs_lists_a_shared_memory_segment)
{
    key_t key = test_key(1);
    int id = new_shm(key, 8192, 0640);
    CHECK(id >= 0);
    void *p = shmat(id, NULL, 0);
    CHECK(p != (void *)-1);
    char tok[MAX_TOKENS][32];
    int n;
    IPCS_ROW("-m", 1, id, tok, n);
    CHECK(n >= 6);
    CHECK(strcmp(tok[0], hex_key(key)) == 0);
    CHECK(strcmp(tok[2], owner_name()) == 0);
    CHECK(strcmp(tok[3], "640") == 0);
    CHECK(strcmp(tok[4], "8192") == 0);
    CHECK(strcmp(tok[5], "1") == 0); /* nattch */
    CHECK_OK(shmdt(p));
    IPCS_ROW("-m", 1, id, tok, n);
    CHECK(strcmp(tok[5], "0") == 0);
}

IPC_TEST(ipcs_lists_a_semaphore_set)
{
    key_t key = test_key(2);
    int id = new_sem(key, 3, 0600);
    CHECK(id >= 0);
    char tok[MAX_TOKENS][32];
    int n;
    IPCS_ROW("-s", 1, id, tok, n);
    CHECK_EQ(n, 5);
    CHECK(strcmp(tok[0], hex_key(key)) == 0);
    CHECK(strcmp(tok[2], owner_name()) == 0);
    CHECK(strcmp(tok[3], "600") == 0);
    CHECK(strcmp(tok[4], "3") == 0);
}

IPC_TEST(ipcs_lists_a_message_queue_with_its_contents)
{
    key_t key = test_key(3);
    int id = new_msg(key, 0666);
    CHECK(id >= 0);
    struct {
        long mtype;
        char mtext[16];
    } m = {1, "0123456789"};
    CHECK_OK(msgsnd(id, &m, 10, 0));
    CHECK_OK(msgsnd(id, &m, 5, 0));
    char tok[MAX_TOKENS][32];
    int n;
    IPCS_ROW("-q", 1, id, tok, n);
    CHECK_EQ(n, 6);
    CHECK(strcmp(tok[0], hex_key(key)) == 0);
    CHECK(strcmp(tok[3], "666") == 0);
    CHECK(strcmp(tok[4], "15") == 0); /* used-bytes */
    CHECK(strcmp(tok[5], "2") == 0);  /* messages */
}

IPC_TEST(ipcs_one_kind_shows_only_its_section)
{
    int st;
    const char *out = run("ipcs -m", &st);
    CHECK(out != NULL);
    CHECK_EQ(st, 0);
    CHECK(strstr(out, "Shared Memory Segments") != NULL);
    CHECK(strstr(out, "Message Queues") == NULL);
    CHECK(strstr(out, "Semaphore Arrays") == NULL);
    out = run("ipcs", &st);
    CHECK(out != NULL);
    CHECK(strstr(out, "Message Queues") != NULL && strstr(out, "Semaphore Arrays") != NULL);
}

IPC_TEST(ipcs_p_shows_creator_and_last_pids)
{
    int shm = new_shm(test_key(4), 4096, 0600);
    int msg = new_msg(test_key(5), 0600);
    CHECK(shm >= 0 && msg >= 0);
    void *p = shmat(shm, NULL, 0);
    CHECK(p != (void *)-1);
    struct {
        long mtype;
        char mtext[4];
    } m = {1, "abc"};
    CHECK_OK(msgsnd(msg, &m, 3, 0));
    char me[16];
    snprintf(me, sizeof me, "%d", getpid());
    char tok[MAX_TOKENS][32];
    int n;
    IPCS_ROW("-m -p", 0, shm, tok, n);
    CHECK_EQ(n, 4);
    CHECK(strcmp(tok[2], me) == 0); /* cpid */
    CHECK(strcmp(tok[3], me) == 0); /* lpid: the shmat */
    IPCS_ROW("-q -p", 0, msg, tok, n);
    CHECK_EQ(n, 4);
    CHECK(strcmp(tok[2], me) == 0); /* lspid */
    CHECK(strcmp(tok[3], "0") == 0); /* lrpid: nobody received */
    CHECK_OK(shmdt(p));
}

IPC_TEST(ipcs_marks_a_removed_attached_segment_dest)
{
    int id = new_shm(test_key(6), 4096, 0600);
    CHECK(id >= 0);
    void *p = shmat(id, NULL, 0);
    CHECK(p != (void *)-1);
    CHECK_OK(shmctl(id, IPC_RMID, NULL));
    char tok[MAX_TOKENS][32];
    int n;
    IPCS_ROW("-m", 1, id, tok, n);
    CHECK_EQ(n, 7);
    CHECK(strcmp(tok[0], "0x00000000") == 0); /* the key is gone */
    CHECK(strcmp(tok[5], "1") == 0);
    CHECK(strcmp(tok[6], "dest") == 0);
    CHECK_OK(shmdt(p));
    int st;
    const char *out = run("ipcs -m", &st);
    CHECK(out != NULL);
    CHECK_EQ(find_id_row(out, 1, id, tok), 0); /* freed at the last detach */
}

IPC_TEST(ipcrm_removes_by_id)
{
    int shm = new_shm(test_key(7), 4096, 0600);
    int sem = new_sem(test_key(8), 1, 0600);
    int msg = new_msg(test_key(9), 0600);
    CHECK(shm >= 0 && sem >= 0 && msg >= 0);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "ipcrm -m %d -s %d -q %d", shm, sem, msg);
    int st;
    CHECK(run(cmd, &st) != NULL);
    CHECK_EQ(st, 0);
    struct shmid_ds sds;
    struct msqid_ds mds;
    CHECK_ERRNO(shmctl(shm, IPC_STAT, &sds), EINVAL);
    CHECK_ERRNO(semctl(sem, 0, GETVAL), EINVAL);
    CHECK_ERRNO(msgctl(msg, IPC_STAT, &mds), EINVAL);
}

IPC_TEST(ipcrm_removes_by_key)
{
    key_t ks = test_key(10), kq = test_key(11), km = test_key(12);
    int sem = new_sem(ks, 2, 0600);
    int msg = new_msg(kq, 0600);
    int shm = new_shm(km, 4096, 0600);
    CHECK(shm >= 0 && sem >= 0 && msg >= 0);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "ipcrm -S %#x -Q %#x -M %#x", (unsigned)ks, (unsigned)kq, (unsigned)km);
    int st;
    CHECK(run(cmd, &st) != NULL);
    CHECK_EQ(st, 0);
    CHECK_ERRNO(semget(ks, 0, 0), ENOENT);
    CHECK_ERRNO(msgget(kq, 0), ENOENT);
    CHECK_ERRNO(shmget(km, 0, 0), ENOENT);
}

IPC_TEST(ipcrm_fails_on_a_gone_id)
{
    int id = new_shm(test_key(13), 4096, 0600);
    CHECK(id >= 0);
    CHECK_OK(shmctl(id, IPC_RMID, NULL));
    char cmd[64];
    snprintf(cmd, sizeof cmd, "ipcrm -m %d 2>/dev/null", id);
    int st;
    CHECK(run(cmd, &st) != NULL);
    CHECK_NE(st, 0);
}

IPC_TEST(ipcrm_cannot_remove_what_the_caller_does_not_own)
{
    if (geteuid() != 0)
        SKIP("needs root to switch to uid 65534");
    int id = new_msg(test_key(14), 0666); /* even write permission does not allow removal */
    CHECK(id >= 0);
    char cmd[64];
    snprintf(cmd, sizeof cmd, "ipcrm -q %d 2>/dev/null", id);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        CCHECK(setgid(NOBODY) == 0 && setuid(NOBODY) == 0);
        int st;
        CCHECK(run(cmd, &st) != NULL);
        CCHECK(st != 0);
        _exit(0);
    }
    CHECK_EXITED(pid, 0);
    struct msqid_ds ds;
    CHECK_OK(msgctl(id, IPC_STAT, &ds)); /* still there */
}
