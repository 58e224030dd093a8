/* sysv_shm.c - System V shared memory: shmget (IPC_PRIVATE, keys, IPC_CREAT/IPC_EXCL, sizes),
 * shmat (kernel-chosen and fixed addresses, SHM_RND, SHM_REMAP, SHM_RDONLY), shmdt, shmctl
 * (IPC_STAT/IPC_SET/IPC_RMID, IPC_INFO, SHM_INFO, SHM_STAT, SHM_STAT_ANY, SHM_LOCK/UNLOCK),
 * attach counts and times across fork, exec and exit, removal while attached (SHM_DEST, key
 * becomes IPC_PRIVATE, freed after the last detach), ids not reused, ftok, permission checks
 * as uid 65534, a 256 MiB segment, /proc/sysvipc/shm and /proc/self/maps.
 * Every segment a case creates is removed with IPC_RMID, also when a check fails.
 * Syscalls: shmget, shmat, shmdt, shmctl, fork, execve, wait4, setuid, setgid, mmap, munmap,
 * mprotect, msync, openat, read, pipe2.
 * Helper mode: argv[1] == "--helper-nattch" argv[2] == id: exit with the segment's shm_nattch.
 */
#define _GNU_SOURCE
#include "test.h"

#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "children.h"

#define PAGE 4096UL
#define NOBODY 65534

#ifndef SHM_STAT_ANY
#define SHM_STAT_ANY 15
#endif
#ifndef SHM_DEST
#define SHM_DEST 01000
#endif
#ifndef SHM_LOCKED
#define SHM_LOCKED 02000
#endif

/* Runs the statements in a child whose uid and gid are 65534; the case fails unless it exits 0. */
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

/* A key private to this run of the test. */
static key_t test_key(int n)
{
    return (key_t)(0x5a000000 | ((getpid() & 0xffff) << 8) | n);
}

/* Segments created by the current case, removed by cleanup() whatever happened. */
static int ids[16];
static int nids;

static int make(key_t key, size_t size, int flags)
{
    int id = shmget(key, size, flags);
    if (id >= 0 && nids < 16)
        ids[nids++] = id;
    return id;
}

static void cleanup(void)
{
    for (int i = 0; i < nids; i++)
        shmctl(ids[i], IPC_RMID, NULL);
    nids = 0;
}

static struct shmid_ds stat_of(int id)
{
    struct shmid_ds ds;
    memset(&ds, 0xff, sizeof ds);
    if (shmctl(id, IPC_STAT, &ds) != 0)
        ds.shm_segsz = 0;
    return ds;
}

static void private_segment_attach_write_stat_(void)
{
    time_t t0 = time(NULL);
    int id = make(IPC_PRIVATE, 8192, 0600);
    CHECK(id >= 0);
    struct shmid_ds ds = stat_of(id);
    CHECK_EQ(ds.shm_segsz, 8192);
    CHECK_EQ(ds.shm_nattch, 0);
    CHECK_EQ(ds.shm_cpid, getpid());
    CHECK_EQ(ds.shm_lpid, 0);
    CHECK_EQ(ds.shm_atime, 0);
    CHECK_EQ(ds.shm_dtime, 0);
    CHECK(ds.shm_ctime >= t0);
    CHECK_EQ(ds.shm_perm.mode & 0777, 0600);
    CHECK_EQ(ds.shm_perm.uid, geteuid());
    CHECK_EQ(ds.shm_perm.cuid, geteuid());
    CHECK_EQ(ds.shm_perm.gid, getegid());
    CHECK_EQ(ds.shm_perm.__key, IPC_PRIVATE);

    unsigned char *p = shmat(id, NULL, 0);
    CHECK(p != (void *)-1);
    CHECK_EQ((uintptr_t)p % PAGE, 0);
    for (size_t i = 0; i < 8192; i++)
        CHECK_EQ(p[i], 0);
    strcpy((char *)p + 5000, "written");
    ds = stat_of(id);
    CHECK_EQ(ds.shm_nattch, 1);
    CHECK_EQ(ds.shm_lpid, getpid());
    CHECK(ds.shm_atime >= t0);

    /* A second attach sees the same bytes. */
    char *q = shmat(id, NULL, 0);
    CHECK(q != (void *)-1);
    CHECK(q != (char *)p);
    CHECK_EQ(strcmp(q + 5000, "written"), 0);
    CHECK_EQ(stat_of(id).shm_nattch, 2);
    CHECK_OK(shmdt(q));
    CHECK_OK(shmdt(p));
    ds = stat_of(id);
    CHECK_EQ(ds.shm_nattch, 0);
    CHECK(ds.shm_dtime >= t0);
    CHECK_OK(shmctl(id, IPC_RMID, NULL));
    CHECK_ERRNO(shmctl(id, IPC_STAT, &ds), EINVAL);
}
TEST(private_segment_attach_write_stat) { private_segment_attach_write_stat_(); cleanup(); }

static void keys_creat_excl_enoent_(void)
{
    key_t key = test_key(1);
    int id = make(key, 4096, IPC_CREAT | 0600);
    CHECK(id >= 0);
    CHECK_EQ(shmget(key, 0, 0), id);
    CHECK_EQ(shmget(key, 4096, IPC_CREAT | 0600), id);
    CHECK_EQ(shmget(key, 100, 0), id);
    CHECK_ERRNO(shmget(key, 4096, IPC_CREAT | IPC_EXCL | 0600), EEXIST);
    CHECK_ERRNO(shmget(key, 8192, 0), EINVAL);
    CHECK_ERRNO(shmget(test_key(2), 4096, 0600), ENOENT);
    CHECK_EQ(stat_of(id).shm_perm.__key, key);
    /* IPC_PRIVATE always makes a new segment. */
    int a = make(IPC_PRIVATE, 4096, 0600), b = make(IPC_PRIVATE, 4096, 0600);
    CHECK(a >= 0 && b >= 0 && a != b && a != id);
    CHECK_OK(shmctl(id, IPC_RMID, NULL));
    CHECK_ERRNO(shmget(key, 0, 0), ENOENT);
}
TEST(keys_creat_excl_enoent) { keys_creat_excl_enoent_(); cleanup(); }

static void ftok_key_is_stable_(void)
{
    int fd = open("shmkey", O_CREAT | O_WRONLY, 0644);
    CHECK(fd >= 0);
    close(fd);
    key_t k1 = ftok("shmkey", 'R'), k2 = ftok("shmkey", 'R'), k3 = ftok("shmkey", 'S');
    CHECK(k1 != -1);
    CHECK_EQ(k1, k2);
    CHECK_NE(k1, k3);
    CHECK_ERRNO(ftok("no-such-file", 'R'), ENOENT);
    int id = make(k1, 1 << 20, IPC_CREAT | 0666);
    CHECK(id >= 0);
    CHECK_EQ(shmget(ftok("shmkey", 'R'), 0, 0), id);
    unlink("shmkey");
}
TEST(ftok_key_is_stable) { ftok_key_is_stable_(); cleanup(); }

static void errors_(void)
{
    CHECK_ERRNO(shmget(IPC_PRIVATE, 0, 0600), EINVAL);
    CHECK_ERRNO(shmget(IPC_PRIVATE, (size_t)-1, 0600), EINVAL);
    CHECK_ERRNO(shmat(-1, NULL, 0), EINVAL);
    CHECK_ERRNO(shmctl(-1, IPC_STAT, NULL), EINVAL);
    int id = make(IPC_PRIVATE, 4096, 0600);
    CHECK(id >= 0);
    CHECK_ERRNO(shmat(id + 1, NULL, 0), EINVAL);
    CHECK_ERRNO(shmctl(id, 9999, NULL), EINVAL);
    CHECK_ERRNO(shmctl(id, -5, NULL), EINVAL);
    CHECK_ERRNO(shmctl(id, IPC_STAT, (struct shmid_ds *)8), EFAULT);
    CHECK_ERRNO(shmctl(id, IPC_SET, (struct shmid_ds *)8), EFAULT);
    CHECK_ERRNO(shmat(id, (void *)0x10000123, 0), EINVAL);
    CHECK_ERRNO(shmat(id, NULL, SHM_REMAP), EINVAL);
    CHECK_ERRNO(shmdt((void *)0x10000123), EINVAL);
    char local[8192];
    CHECK_ERRNO(shmdt((void *)(((uintptr_t)local + PAGE) & ~(PAGE - 1))), EINVAL);
    struct shmid_ds ds = stat_of(id);
    ds.shm_perm.uid = (uid_t)-1;
    CHECK_ERRNO(shmctl(id, IPC_SET, &ds), EINVAL);
}
TEST(errors) { errors_(); cleanup(); }

static void ids_are_not_reused_at_once_(void)
{
    int a = make(IPC_PRIVATE, 4096, 0600);
    CHECK(a >= 0);
    CHECK_OK(shmctl(a, IPC_RMID, NULL));
    int b = make(IPC_PRIVATE, 4096, 0600);
    CHECK(b >= 0);
    CHECK_NE(a, b);
    CHECK_ERRNO(shmctl(a, IPC_STAT, &(struct shmid_ds){0}), EINVAL);
}
TEST(ids_are_not_reused_at_once) { ids_are_not_reused_at_once_(); cleanup(); }

static void fork_shares_pages_and_exit_detaches_(void)
{
    int id = make(IPC_PRIVATE, 3 * PAGE, 0600);
    CHECK(id >= 0);
    volatile int *p = shmat(id, NULL, 0);
    CHECK(p != (void *)-1);
    p[0] = 1;
    int go[2], ready[2];
    CHECK_OK(pipe(go));
    CHECK_OK(pipe(ready));
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        /* The child's attach is the parent's pages, not a copy. */
        CCHECK(p[0] == 1);
        p[0] = 2;
        p[PAGE / sizeof(int) * 2] = 3;
        CCHECK(write(ready[1], "r", 1) == 1);
        char c;
        CCHECK(read(go[0], &c, 1) == 1);
        CCHECK(p[1] == 7); /* written by the parent after the fork */
        _exit(0);          /* exit detaches */
    }
    char c;
    CHECK_EQ(read(ready[0], &c, 1), 1);
    CHECK_EQ(p[0], 2);
    CHECK_EQ(p[PAGE / sizeof(int) * 2], 3);
    CHECK_EQ(stat_of(id).shm_nattch, 2);
    p[1] = 7;
    CHECK_EQ(write(go[1], "g", 1), 1);
    CHECK_EXITED(pid, 0);
    struct shmid_ds ds = stat_of(id);
    CHECK_EQ(ds.shm_nattch, 1);
    CHECK_EQ(ds.shm_lpid, pid);
    CHECK(ds.shm_dtime > 0);
    CHECK_OK(shmdt((void *)p));
    for (int i = 0; i < 2; i++) {
        close(go[i]);
        close(ready[i]);
    }
}
TEST(fork_shares_pages_and_exit_detaches) { fork_shares_pages_and_exit_detaches_(); cleanup(); }

static void exec_drops_attachments_(void)
{
    int id = make(IPC_PRIVATE, PAGE, 0600);
    CHECK(id >= 0);
    void *p = shmat(id, NULL, 0);
    CHECK(p != (void *)-1);
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    CHECK(n > 0);
    self[n] = '\0';
    char idbuf[32];
    snprintf(idbuf, sizeof idbuf, "%d", id);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        /* Attached twice here (inherited) until exec replaces the address space. */
        char *argv[] = {"sysv_shm", "--helper-nattch", idbuf, NULL};
        execv(self, argv);
        _exit(127);
    }
    /* The helper sees only the parent's attach. */
    CHECK_EXITED(pid, 1);
    CHECK_EQ(stat_of(id).shm_nattch, 1);
    CHECK_OK(shmdt(p));
}
TEST(exec_drops_attachments) { exec_drops_attachments_(); cleanup(); }

static void rdonly_attach_faults_on_write_(void)
{
    int id = make(IPC_PRIVATE, PAGE, 0600);
    CHECK(id >= 0);
    char *w = shmat(id, NULL, 0);
    CHECK(w != (void *)-1);
    strcpy(w, "ro");
    char *r = shmat(id, NULL, SHM_RDONLY);
    CHECK(r != (void *)-1);
    CHECK_EQ(strcmp(r, "ro"), 0);
    CHECK_ERRNO(mprotect(r, PAGE, PROT_READ | PROT_WRITE), EACCES);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        r[0] = 'x';
        _exit(0);
    }
    CHECK_KILLED(pid, SIGSEGV);
    CHECK_EQ(w[0], 'r');
    CHECK_OK(shmdt(r));
    CHECK_OK(shmdt(w));
}
TEST(rdonly_attach_faults_on_write) { rdonly_attach_faults_on_write_(); cleanup(); }

static void chosen_address_rnd_and_remap_(void)
{
    int id = make(IPC_PRIVATE, 2 * PAGE, 0600);
    CHECK(id >= 0);
    /* Find a free range, then give it back. */
    char *hole = mmap(NULL, 8 * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(hole != MAP_FAILED);
    CHECK_OK(munmap(hole, 8 * PAGE));
    char *at = hole + 2 * PAGE;
    CHECK_EQ(shmat(id, at, 0), at);
    /* Occupied without SHM_REMAP: EINVAL; with it the attach replaces what is there. */
    CHECK_ERRNO(shmat(id, at + PAGE, 0), EINVAL);
    CHECK_ERRNO(shmat(id, at + 100, 0), EINVAL);
    char *again = shmat(id, at + PAGE + 100, SHM_RND | SHM_REMAP);
    CHECK_EQ(again, at + PAGE);
    strcpy(at, "first");
    CHECK_EQ(strcmp(again, "first"), 0); /* both show page 0 of the segment */
    char *rnd = shmat(id, hole + 5 * PAGE + 123, SHM_RND);
    CHECK_EQ(rnd, hole + 5 * PAGE);
    CHECK_OK(shmdt(rnd));
    CHECK_OK(shmdt(again));
    CHECK_OK(shmdt(at));
    CHECK_EQ(stat_of(id).shm_nattch, 0);
}
TEST(chosen_address_rnd_and_remap) { chosen_address_rnd_and_remap_(); cleanup(); }

static void shmdt_detaches_split_fragments_(void)
{
    int id = make(IPC_PRIVATE, 4 * PAGE, 0600);
    CHECK(id >= 0);
    char *p = shmat(id, NULL, 0);
    CHECK(p != (void *)-1);
    CHECK_OK(mprotect(p + PAGE, PAGE, PROT_READ));
    p[3 * PAGE] = 1;
    CHECK_OK(shmdt(p));
    CHECK_EQ(stat_of(id).shm_nattch, 0);
    CHECK_ERRNO(msync(p, PAGE, MS_ASYNC), ENOMEM);
    CHECK_ERRNO(msync(p + 3 * PAGE, PAGE, MS_ASYNC), ENOMEM);
    /* munmap counts as a detach too. */
    p = shmat(id, NULL, 0);
    CHECK(p != (void *)-1);
    CHECK_EQ(p[3 * PAGE], 1);
    CHECK_EQ(stat_of(id).shm_nattch, 1);
    CHECK_OK(munmap(p, 4 * PAGE));
    CHECK_EQ(stat_of(id).shm_nattch, 0);
    CHECK_ERRNO(shmdt(p), EINVAL);
}
TEST(shmdt_detaches_split_fragments) { shmdt_detaches_split_fragments_(); cleanup(); }

static void rmid_while_attached_marks_and_frees_later_(void)
{
    key_t key = test_key(3);
    int id = make(key, PAGE, IPC_CREAT | 0600);
    CHECK(id >= 0);
    char *p = shmat(id, NULL, 0);
    CHECK(p != (void *)-1);
    strcpy(p, "still here");
    CHECK_OK(shmctl(id, IPC_RMID, NULL));
    struct shmid_ds ds = stat_of(id);
    CHECK_EQ(ds.shm_segsz, PAGE);
    CHECK_EQ(ds.shm_perm.mode & SHM_DEST, SHM_DEST);
    CHECK_EQ(ds.shm_perm.__key, IPC_PRIVATE);
    CHECK_EQ(ds.shm_nattch, 1);
    CHECK_ERRNO(shmget(key, 0, 0), ENOENT);
    CHECK_EQ(strcmp(p, "still here"), 0);
    /* Linux lets the id be attached again until the last detach. */
    char *q = shmat(id, NULL, 0);
    CHECK(q != (void *)-1);
    CHECK_EQ(strcmp(q, "still here"), 0);
    CHECK_EQ(stat_of(id).shm_nattch, 2);
    /* A new segment with the key is a different one. */
    int other = make(key, PAGE, IPC_CREAT | IPC_EXCL | 0600);
    CHECK(other >= 0 && other != id);
    CHECK_OK(shmdt(q));
    CHECK_OK(shmdt(p));
    CHECK_ERRNO(shmctl(id, IPC_STAT, &ds), EINVAL);
    CHECK_ERRNO(shmat(id, NULL, 0), EINVAL);
}
TEST(rmid_while_attached_marks_and_frees_later) { rmid_while_attached_marks_and_frees_later_(); cleanup(); }

static void rmid_then_exit_frees_segment_(void)
{
    int id = make(IPC_PRIVATE, PAGE, 0600);
    CHECK(id >= 0);
    int ready[2];
    CHECK_OK(pipe(ready));
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        char *p = shmat(id, NULL, 0);
        CCHECK(p != (void *)-1);
        CCHECK(shmctl(id, IPC_RMID, NULL) == 0);
        CCHECK(write(ready[1], "r", 1) == 1);
        _exit(0);
    }
    char c;
    CHECK_EQ(read(ready[0], &c, 1), 1);
    CHECK_EXITED(pid, 0);
    CHECK_ERRNO(shmctl(id, IPC_STAT, &(struct shmid_ds){0}), EINVAL);
    close(ready[0]);
    close(ready[1]);
}
TEST(rmid_then_exit_frees_segment) { rmid_then_exit_frees_segment_(); cleanup(); }

static void info_stat_and_stat_any_(void)
{
    int id = make(IPC_PRIVATE, 3 * PAGE, 0600);
    CHECK(id >= 0);
    char *p = shmat(id, NULL, 0);
    CHECK(p != (void *)-1);
    p[0] = 1;
    p[2 * PAGE] = 1;
    struct shminfo info;
    int maxidx = shmctl(0, IPC_INFO, (struct shmid_ds *)&info);
    CHECK(maxidx >= 0);
    CHECK_EQ(info.shmmin, 1);
    CHECK_EQ(info.shmmni, 4096);
    CHECK_EQ(info.shmseg, 4096);
    CHECK(info.shmmax >= (1UL << 40));
    struct shm_info usage;
    CHECK_EQ(shmctl(0, SHM_INFO, (struct shmid_ds *)&usage), maxidx);
    CHECK(usage.used_ids >= 1);
    CHECK(usage.shm_tot >= 3);
    CHECK(usage.shm_rss >= 2);
    /* ipcs's scan: SHM_STAT on every index up to the maximum finds our id. */
    int found = 0;
    for (int i = 0; i <= maxidx; i++) {
        struct shmid_ds ds;
        int r = shmctl(i, SHM_STAT, &ds);
        if (r == id) {
            found = 1;
            CHECK_EQ(ds.shm_segsz, 3 * PAGE);
            CHECK_EQ(ds.shm_nattch, 1);
        }
        struct shmid_ds any;
        CHECK_EQ(shmctl(i, SHM_STAT_ANY, &any), r);
    }
    CHECK(found);
    CHECK_ERRNO(shmctl(0x7fff, SHM_STAT, &(struct shmid_ds){0}), EINVAL);
    CHECK_OK(shmdt(p));
}
TEST(info_stat_and_stat_any) { info_stat_and_stat_any_(); cleanup(); }

static void ipc_set_changes_owner_and_mode_(void)
{
    int id = make(IPC_PRIVATE, PAGE, 0600);
    CHECK(id >= 0);
    time_t t0 = time(NULL);
    struct shmid_ds ds = stat_of(id);
    ds.shm_perm.mode = 0640 | 01000; /* only the permission bits change */
    ds.shm_perm.uid = 1234;
    ds.shm_perm.gid = 5678;
    ds.shm_segsz = 1; /* ignored */
    CHECK_OK(shmctl(id, IPC_SET, &ds));
    ds = stat_of(id);
    CHECK_EQ(ds.shm_perm.mode & 07777, 0640);
    CHECK_EQ(ds.shm_perm.uid, 1234);
    CHECK_EQ(ds.shm_perm.gid, 5678);
    CHECK_EQ(ds.shm_perm.cuid, geteuid());
    CHECK_EQ(ds.shm_segsz, PAGE);
    CHECK(ds.shm_ctime >= t0);
    CHECK_OK(shmctl(id, SHM_LOCK, NULL));
    CHECK_EQ(stat_of(id).shm_perm.mode & SHM_LOCKED, SHM_LOCKED);
    CHECK_OK(shmctl(id, SHM_UNLOCK, NULL));
    CHECK_EQ(stat_of(id).shm_perm.mode & SHM_LOCKED, 0);
}
TEST(ipc_set_changes_owner_and_mode_and_lock) { ipc_set_changes_owner_and_mode_(); cleanup(); }

static void permissions_as_nobody_(void)
{
    key_t key = test_key(4);
    int id = make(key, PAGE, IPC_CREAT | 0600);
    int ro = make(IPC_PRIVATE, PAGE, 0644);
    int own = make(IPC_PRIVATE, PAGE, 0600);
    CHECK(id >= 0 && ro >= 0 && own >= 0);
    struct shmid_ds ds = stat_of(own);
    ds.shm_perm.uid = NOBODY; /* nobody owns it now, root still created it */
    CHECK_OK(shmctl(own, IPC_SET, &ds));
    AS_NOBODY({
        struct shmid_ds d;
        CERRNO(shmat(id, NULL, 0), EACCES);
        CERRNO(shmat(id, NULL, SHM_RDONLY), EACCES);
        CERRNO(shmget(key, 0, 0600), EACCES);
        CCHECK(shmget(key, 0, 0) == id); /* asking for nothing is allowed */
        CERRNO(shmctl(id, IPC_STAT, &d), EACCES);
        CERRNO(shmctl(id, IPC_SET, &d), EPERM);
        CERRNO(shmctl(id, IPC_RMID, NULL), EPERM);
        CERRNO(shmctl(id, SHM_LOCK, NULL), EPERM);
        /* SHM_STAT needs read permission, SHM_STAT_ANY does not. */
        struct shm_info usage;
        int maxidx = shmctl(0, SHM_INFO, (struct shmid_ds *)&usage), seen = 0;
        CCHECK(maxidx >= 0);
        for (int i = 0; i <= maxidx && !seen; i++) {
            if (shmctl(i, SHM_STAT_ANY, &d) == id) {
                seen = 1;
                CERRNO(shmctl(i, SHM_STAT, &d), EACCES);
            }
        }
        CCHECK(seen);
        /* 0644: others may read and attach read-only, not read-write. */
        CERRNO(shmat(ro, NULL, 0), EACCES);
        char *r = shmat(ro, NULL, SHM_RDONLY);
        CCHECK(r != (void *)-1);
        CCHECK(shmctl(ro, IPC_STAT, &d) == 0);
        CCHECK(shmdt(r) == 0);
        /* The owner may change and remove what it owns, and attach by the owner bits. */
        char *o = shmat(own, NULL, 0);
        CCHECK(o != (void *)-1);
        CCHECK(shmdt(o) == 0);
        CCHECK(shmctl(own, IPC_STAT, &d) == 0);
        d.shm_perm.mode = 0666;
        CCHECK(shmctl(own, IPC_SET, &d) == 0);
        CCHECK(shmctl(own, IPC_RMID, NULL) == 0);
    });
    CHECK_ERRNO(shmctl(own, IPC_STAT, &ds), EINVAL);
}
TEST(permissions_as_nobody) { permissions_as_nobody_(); cleanup(); }

static void segment_of_256_mib_(void)
{
    size_t size = 256UL << 20;
    int id = make(IPC_PRIVATE, size, 0600);
    CHECK(id >= 0);
    unsigned char *p = shmat(id, NULL, 0);
    CHECK(p != (void *)-1);
    for (size_t off = 0; off < size; off += 16UL << 20)
        p[off] = (unsigned char)(off >> 20);
    p[size - 1] = 0xee;
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        for (size_t off = 0; off < size; off += 16UL << 20)
            CCHECK(p[off] == (unsigned char)(off >> 20));
        CCHECK(p[size - 1] == 0xee);
        _exit(0);
    }
    CHECK_EXITED(pid, 0);
    CHECK_EQ(stat_of(id).shm_segsz, size);
    CHECK_OK(shmdt(p));
}
TEST(segment_of_256_mib) { segment_of_256_mib_(); cleanup(); }

/* The whole of a small file (procfs files report size 0). */
static int slurp(const char *path, char *buf, size_t cap)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    size_t len = 0;
    ssize_t n;
    while (len + 1 < cap && (n = read(fd, buf + len, cap - 1 - len)) > 0)
        len += (size_t)n;
    close(fd);
    buf[len] = '\0';
    return (int)len;
}

static void proc_sysvipc_shm_and_maps_(void)
{
    key_t key = test_key(5);
    int id = make(key, 5000, IPC_CREAT | 0640);
    CHECK(id >= 0);
    char *p = shmat(id, NULL, 0);
    CHECK(p != (void *)-1);
    static char buf[65536];
    CHECK(slurp("/proc/sysvipc/shm", buf, sizeof buf) > 0);
    const char *header = "       key      shmid perms                  size  cpid  lpid nattch   uid   gid  cuid  cgid      atime      dtime      ctime                   rss                  swap\n";
    CHECK(strncmp(buf, header, strlen(header)) == 0);
    char want[160];
    snprintf(want, sizeof want, "\n%10d %10d  %4o %21u %5d %5d  %5u %5u %5u %5u %5u ", (int)key, id, 0640, 5000,
             (int)getpid(), (int)getpid(), 1, (unsigned)geteuid(), (unsigned)getegid(), (unsigned)geteuid(),
             (unsigned)getegid());
    if (!strstr(buf, want))
        FAIL("no line starting '%s' in:\n%s", want + 1, buf);
    CHECK(slurp("/proc/self/maps", buf, sizeof buf) > 0);
    snprintf(want, sizeof want, "%lx-%lx rw-s 00000000 ", (unsigned long)p, (unsigned long)p + 2 * PAGE);
    char *line = strstr(buf, want);
    if (!line)
        FAIL("no '%s' in /proc/self/maps:\n%s", want, buf);
    char *eol = strchr(line, '\n');
    snprintf(want, sizeof want, " %d ", id);
    CHECK(strstr(line, want) && strstr(line, want) < eol);
    snprintf(want, sizeof want, "/SYSV%08x (deleted)\n", (unsigned)key);
    CHECK(strstr(line, want) == eol - strlen(want) + 1);
    CHECK_OK(shmdt(p));
}
TEST(proc_sysvipc_shm_and_maps) { proc_sysvipc_shm_and_maps_(); cleanup(); }

int main(int argc, char **argv, char **envp)
{
    if (argc == 3 && strcmp(argv[1], "--helper-nattch") == 0) {
        struct shmid_ds ds;
        if (shmctl(atoi(argv[2]), IPC_STAT, &ds) != 0)
            return 100;
        return (int)ds.shm_nattch;
    }
    test_argc = argc;
    test_argv = argv;
    test_envp = envp;
    return test_run_all() == 0 ? 0 : 1;
}
