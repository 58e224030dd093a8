/* creds.c - credentials and the permission checks that use them: getres[ug]id, set[ug]id,
 * setre[ug]id, setres[ug]id, sete[ug]id (saved ids), setgroups/getgroups, and, as a non-root
 * user, file access (owner/group/other classes, supplementary groups, search permission on
 * directories, sticky directories), access() using the real uid, chmod/chown EPERM, exec EACCES
 * and kill EPERM. Runs as root; every identity change happens in a forked child that reports
 * through its exit status.
 * Files live in a mkdtemp("/tmp/ptest.XXXXXX") directory (made 0755) removed at exit.
 * Syscalls: getresuid, getresgid, setuid, setgid, setreuid, setregid, setresuid, setresgid,
 * setfsuid, setfsgid, setgroups, getgroups, openat, access, faccessat, chmod, chown, unlink,
 * mkdir, chdir, getdents64, execve, kill, fork, wait4.
 */
#define _GNU_SOURCE
#define TEST_MAIN
#include "test.h"

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <signal.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#define SCRATCH_ALL_USERS
#include "children.h"
#include "scratch.h"

#define NOBODY 65534

/* A file with content "secret", owner uid:gid and mode. */
static int make_file(const char *path, uid_t uid, gid_t gid, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        return -1;
    int ok = write(fd, "secret", 6) == 6;
    close(fd);
    if (!ok || chown(path, uid, gid) != 0 || chmod(path, mode) != 0)
        return -1;
    return 0;
}

#define REQUIRE_ROOT()                                                                \
    do {                                                                              \
        if (geteuid() != 0)                                                           \
            SKIP("needs root");                                                       \
    } while (0)

/* In a child: become uid/gid with no supplementary groups. */
static void drop_to(uid_t uid, gid_t gid)
{
    CCHECK(setgroups(0, NULL) == 0);
    CCHECK(setgid(gid) == 0);
    CCHECK(setuid(uid) == 0);
}

static int resuid_is(uid_t r, uid_t e, uid_t s)
{
    uid_t a, b, c;
    return getresuid(&a, &b, &c) == 0 && a == r && b == e && c == s;
}

static int resgid_is(gid_t r, gid_t e, gid_t s)
{
    gid_t a, b, c;
    return getresgid(&a, &b, &c) == 0 && a == r && b == e && c == s;
}

/* ---- id syscalls ---- */

TEST(getresuid_getresgid_root)
{
    REQUIRE_ROOT();
    uid_t r = 1, e = 1, s = 1;
    gid_t gr = 1, ge = 1, gs = 1;
    CHECK_OK(getresuid(&r, &e, &s));
    CHECK_OK(getresgid(&gr, &ge, &gs));
    CHECK_EQ(r, 0);
    CHECK_EQ(e, 0);
    CHECK_EQ(s, 0);
    CHECK_EQ(gr, getgid());
    CHECK_EQ(ge, getegid());
    CHECK_EQ(gs, getegid());
    CHECK_ERRNO(syscall(SYS_getresuid, (void *)1, &e, &s), EFAULT);
}

TEST(setuid_as_root_sets_all_three_then_no_way_back)
{
    REQUIRE_ROOT();
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        CCHECK(setuid(NOBODY) == 0);
        CCHECK(resuid_is(NOBODY, NOBODY, NOBODY));
        CCHECK(getuid() == NOBODY && geteuid() == NOBODY);
        CERRNO(setuid(0), EPERM);
        CERRNO(seteuid(0), EPERM);
        CERRNO(setresuid(-1, 0, -1), EPERM);
        CCHECK(setuid(NOBODY) == 0); /* to one's own id is fine */
        _exit(0);
    }
    CHECK_CHILD_OK(pid);
}

TEST(setuid_minus_one_einval)
{
    REQUIRE_ROOT();
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        CERRNO(syscall(SYS_setuid, -1), EINVAL);
        CERRNO(syscall(SYS_setgid, -1), EINVAL);
        CCHECK(resuid_is(0, 0, 0));
        _exit(0);
    }
    CHECK_CHILD_OK(pid);
}

TEST(setgid_as_root_sets_all_three)
{
    REQUIRE_ROOT();
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        CCHECK(setgid(NOBODY) == 0);
        CCHECK(resgid_is(NOBODY, NOBODY, NOBODY));
        CCHECK(setgid(0) == 0); /* still root: allowed */
        CCHECK(resgid_is(0, 0, 0));
        CCHECK(setuid(NOBODY) == 0);
        CERRNO(setgid(5), EPERM);
        _exit(0);
    }
    CHECK_CHILD_OK(pid);
}

TEST(setresuid_exact_and_unprivileged_rules)
{
    REQUIRE_ROOT();
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        CCHECK(setresuid(1000, 2000, 3000) == 0);
        CCHECK(resuid_is(1000, 2000, 3000));
        /* unprivileged now: each id may become any of the current real/effective/saved */
        CCHECK(setresuid(-1, 3000, -1) == 0);
        CCHECK(resuid_is(1000, 3000, 3000));
        CERRNO(setresuid(-1, 4000, -1), EPERM);
        CERRNO(setresuid(4000, -1, -1), EPERM);
        CCHECK(resuid_is(1000, 3000, 3000));
        CCHECK(setresuid(3000, 1000, -1) == 0);
        CCHECK(resuid_is(3000, 1000, 3000));
        /* unprivileged setuid changes only the effective id */
        CCHECK(setuid(3000) == 0);
        CCHECK(resuid_is(3000, 3000, 3000));
        CERRNO(setuid(1000), EPERM);
        _exit(0);
    }
    CHECK_CHILD_OK(pid);
}

TEST(setresgid_exact)
{
    REQUIRE_ROOT();
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        CCHECK(setresgid(10, 20, 30) == 0);
        CCHECK(resgid_is(10, 20, 30));
        CCHECK(setresgid(-1, -1, 40) == 0);
        CCHECK(resgid_is(10, 20, 40));
        CCHECK(setresuid(NOBODY, NOBODY, NOBODY) == 0);
        CCHECK(setresgid(-1, 10, -1) == 0);
        CERRNO(setresgid(-1, 50, -1), EPERM);
        _exit(0);
    }
    CHECK_CHILD_OK(pid);
}

TEST(setreuid_saved_id_rules)
{
    REQUIRE_ROOT();
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        /* euid set to a value != old ruid: saved = new euid */
        CCHECK(setreuid(-1, NOBODY) == 0);
        CCHECK(resuid_is(0, NOBODY, NOBODY));
        /* back to the real id 0 is allowed; saved unchanged (new euid == ruid) */
        CCHECK(setreuid(-1, 0) == 0);
        CCHECK(resuid_is(0, 0, NOBODY));
        /* setting the real id: saved = new euid */
        CCHECK(setreuid(1000, -1) == 0);
        CCHECK(resuid_is(1000, 0, 0));
        CCHECK(setreuid(1000, 2000) == 0);
        CCHECK(resuid_is(1000, 2000, 2000));
        /* unprivileged: swap real and effective */
        CCHECK(setreuid(2000, 1000) == 0);
        CCHECK(resuid_is(2000, 1000, 1000));
        CERRNO(setreuid(-1, 0), EPERM);
        _exit(0);
    }
    CHECK_CHILD_OK(pid);
}

TEST(setregid_rules)
{
    REQUIRE_ROOT();
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        CCHECK(setregid(100, 200) == 0);
        CCHECK(resgid_is(100, 200, 200));
        CCHECK(setuid(NOBODY) == 0);
        CCHECK(setregid(200, 100) == 0);
        CCHECK(resgid_is(200, 100, 100));
        CERRNO(setregid(-1, 300), EPERM);
        _exit(0);
    }
    CHECK_CHILD_OK(pid);
}

TEST(seteuid_and_back_through_saved_id)
{
    REQUIRE_ROOT();
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(chmod(d, 0777));
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        CCHECK(setegid(NOBODY) == 0);
        CCHECK(seteuid(NOBODY) == 0);
        CCHECK(resuid_is(0, NOBODY, 0));
        CCHECK(geteuid() == NOBODY && getuid() == 0);
        /* new files belong to the effective ids */
        int fd = open(P(d, "mine"), O_WRONLY | O_CREAT, 0644);
        CCHECK(fd >= 0);
        struct stat st;
        CCHECK(fstat(fd, &st) == 0);
        CCHECK(st.st_uid == NOBODY && st.st_gid == NOBODY);
        close(fd);
        CCHECK(seteuid(0) == 0);
        CCHECK(resuid_is(0, 0, 0));
        CCHECK(setegid(0) == 0);
        _exit(0);
    }
    CHECK_CHILD_OK(pid);
}

TEST(setfsuid_controls_file_access_and_never_fails)
{
    REQUIRE_ROOT();
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(make_file(P(d, "rootonly"), 0, 0, 0600));
    CHECK_OK(make_file(P(d, "fs3000"), 3000, 0, 0600));
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        /* setfsuid returns the previous fsuid; -1 only queries */
        CCHECK(syscall(SYS_setfsuid, 1000) == 0);
        CCHECK(syscall(SYS_setfsuid, -1) == 1000);
        CCHECK(resuid_is(0, 0, 0));
        /* a non-zero fsuid drops root's override: the 0600 root file is closed to us */
        CERRNO(open(P(d, "rootonly"), O_RDONLY), EACCES);
        CCHECK(syscall(SYS_setfsuid, 0) == 1000);
        int fd = open(P(d, "rootonly"), O_RDONLY);
        CCHECK(fd >= 0);
        close(fd);
        /* unprivileged: only the real, effective, saved or current fs id is accepted */
        CCHECK(setresuid(1000, 2000, 3000) == 0);
        CCHECK(syscall(SYS_setfsuid, -1) == 2000);
        CCHECK(syscall(SYS_setfsuid, 4000) == 2000);
        CCHECK(syscall(SYS_setfsuid, -1) == 2000);
        CCHECK(syscall(SYS_setfsuid, 3000) == 2000);
        CCHECK(syscall(SYS_setfsuid, -1) == 3000);
        fd = open(P(d, "fs3000"), O_RDONLY);
        CCHECK(fd >= 0);
        close(fd);
        /* the fs gid follows the same rules */
        CCHECK(syscall(SYS_setfsgid, -1) == 0);
        CCHECK(syscall(SYS_setfsgid, 77) == 0);
        CCHECK(syscall(SYS_setfsgid, -1) == 0);
        _exit(0);
    }
    CHECK_CHILD_OK(pid);
}

TEST(proc_status_shows_all_four_uids)
{
    REQUIRE_ROOT();
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        CCHECK(setresgid(11, 22, 33) == 0);
        CCHECK(setresuid(1000, 2000, 3000) == 0);
        char buf[4096];
        int fd = open("/proc/self/status", O_RDONLY);
        CCHECK(fd >= 0);
        ssize_t n = read(fd, buf, sizeof buf - 1);
        CCHECK(n > 0);
        buf[n] = '\0';
        /* real, effective, saved, filesystem (follows the effective id) */
        CCHECK(strstr(buf, "\nUid:\t1000\t2000\t3000\t2000\n") != NULL);
        CCHECK(strstr(buf, "\nGid:\t11\t22\t33\t22\n") != NULL);
        _exit(0);
    }
    CHECK_CHILD_OK(pid);
}

/* ---- groups ---- */

TEST(setgroups_getgroups)
{
    REQUIRE_ROOT();
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        gid_t set[3] = {1, 200, 3000};
        CCHECK(setgroups(3, set) == 0);
        CCHECK(getgroups(0, NULL) == 3);
        gid_t got[8] = {0};
        CCHECK(getgroups(8, got) == 3);
        CCHECK(got[0] == 1 && got[1] == 200 && got[2] == 3000);
        CERRNO(getgroups(2, got), EINVAL);
        CCHECK(setgroups(0, NULL) == 0);
        CCHECK(getgroups(0, NULL) == 0);
        CERRNO(syscall(SYS_setgroups, -1, set), EINVAL);
        CCHECK(setgroups(3, set) == 0);
        CCHECK(setuid(NOBODY) == 0);
        CCHECK(getgroups(0, NULL) == 3); /* kept across setuid */
        CERRNO(setgroups(0, NULL), EPERM);
        _exit(0);
    }
    CHECK_CHILD_OK(pid);
}

TEST(groups_inherited_by_fork)
{
    REQUIRE_ROOT();
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        gid_t set[2] = {7, 8};
        CCHECK(setgroups(2, set) == 0);
        CCHECK(setresuid(1, 2, 3) == 0);
        pid_t g = fork();
        CCHECK(g >= 0);
        if (g == 0) {
            gid_t got[4];
            CCHECK(getgroups(4, got) == 2 && got[0] == 7 && got[1] == 8);
            CCHECK(resuid_is(1, 2, 3));
            _exit(0);
        }
        CCHECK(child_status(g) == 0);
        _exit(0);
    }
    CHECK_CHILD_OK(pid);
}

/* ---- file permission checks as an unprivileged user ---- */

TEST(nonroot_cannot_open_root_0600_file)
{
    REQUIRE_ROOT();
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(make_file(P(d, "secret"), 0, 0, 0600));
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        drop_to(NOBODY, NOBODY);
        CERRNO(open(P(d, "secret"), O_RDONLY), EACCES);
        CERRNO(open(P(d, "secret"), O_WRONLY), EACCES);
        CERRNO(open(P(d, "secret"), O_RDWR | O_TRUNC), EACCES);
        struct stat st;
        CCHECK(stat(P(d, "secret"), &st) == 0); /* stat needs no file permission */
        _exit(0);
    }
    CHECK_CHILD_OK(pid);
    struct stat st;
    CHECK_OK(stat(P(d, "secret"), &st));
    CHECK_EQ(st.st_size, 6);
}

TEST(nonroot_owner_group_other_classes)
{
    REQUIRE_ROOT();
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(make_file(P(d, "world_r"), 0, 0, 0644));
    CHECK_OK(make_file(P(d, "group_r"), 0, NOBODY, 0640));
    CHECK_OK(make_file(P(d, "group_w"), 0, NOBODY, 0620));
    CHECK_OK(make_file(P(d, "owner_none"), NOBODY, 0, 0077)); /* owner class wins */
    CHECK_OK(make_file(P(d, "group_none"), 0, NOBODY, 0604));  /* group class wins */
    CHECK_OK(make_file(P(d, "mine"), NOBODY, NOBODY, 0600));
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        drop_to(NOBODY, NOBODY);
        int fd;
        CCHECK((fd = open(P(d, "world_r"), O_RDONLY)) >= 0);
        close(fd);
        CERRNO(open(P(d, "world_r"), O_WRONLY), EACCES);
        CCHECK((fd = open(P(d, "group_r"), O_RDONLY)) >= 0);
        close(fd);
        CCHECK((fd = open(P(d, "group_w"), O_WRONLY)) >= 0);
        close(fd);
        CERRNO(open(P(d, "group_w"), O_RDONLY), EACCES);
        CERRNO(open(P(d, "owner_none"), O_RDONLY), EACCES);
        CERRNO(open(P(d, "group_none"), O_RDONLY), EACCES);
        CCHECK((fd = open(P(d, "mine"), O_RDWR)) >= 0);
        close(fd);
        _exit(0);
    }
    CHECK_CHILD_OK(pid);
}

TEST(nonroot_supplementary_group_grants_access)
{
    REQUIRE_ROOT();
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(make_file(P(d, "f"), 0, 4321, 0640));
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        gid_t g = 4321;
        CCHECK(setgroups(1, &g) == 0);
        CCHECK(setgid(NOBODY) == 0);
        CCHECK(setuid(NOBODY) == 0);
        int fd = open(P(d, "f"), O_RDONLY);
        CCHECK(fd >= 0);
        close(fd);
        CERRNO(open(P(d, "f"), O_WRONLY), EACCES);
        _exit(0);
    }
    CHECK_CHILD_OK(pid);
}

TEST(nonroot_directory_permissions)
{
    REQUIRE_ROOT();
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(mkdir(P(d, "closed"), 0700));
    CHECK_OK(make_file(P(d, "closed/f"), 0, 0, 0644));
    CHECK_OK(mkdir(P(d, "xonly"), 0711));
    CHECK_OK(make_file(P(d, "xonly/f"), 0, 0, 0644));
    CHECK_OK(mkdir(P(d, "ronly"), 0744));
    CHECK_OK(make_file(P(d, "ronly/f"), 0, 0, 0644));
    CHECK_OK(mkdir(P(d, "open"), 0777));
    CHECK_OK(chmod(P(d, "open"), 0777)); /* whatever the umask */
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        drop_to(NOBODY, NOBODY);
        struct stat st;
        /* no search permission: nothing inside can be reached */
        CERRNO(open(P(d, "closed/f"), O_RDONLY), EACCES);
        CERRNO(stat(P(d, "closed/f"), &st), EACCES);
        CERRNO(chdir(P(d, "closed")), EACCES);
        CERRNO(open(P(d, "closed"), O_RDONLY | O_DIRECTORY), EACCES);
        /* search but no read: known names work, listing does not */
        int fd = open(P(d, "xonly/f"), O_RDONLY);
        CCHECK(fd >= 0);
        close(fd);
        CERRNO(open(P(d, "xonly"), O_RDONLY | O_DIRECTORY), EACCES);
        /* read but no search: listing works, names inside cannot be reached */
        fd = open(P(d, "ronly"), O_RDONLY | O_DIRECTORY);
        CCHECK(fd >= 0);
        char buf[1024];
        CCHECK(syscall(SYS_getdents64, fd, buf, sizeof buf) > 0);
        close(fd);
        CERRNO(stat(P(d, "ronly/f"), &st), EACCES);
        /* no write permission on the directory: no create, no unlink, no mkdir */
        CERRNO(open(P(d, "new"), O_WRONLY | O_CREAT, 0644), EACCES);
        CERRNO(mkdir(P(d, "newdir"), 0755), EACCES);
        CERRNO(unlink(P(d, "xonly/f")), EACCES);
        CERRNO(rename(P(d, "xonly/f"), P(d, "open/f")), EACCES);
        /* a world-writable directory: create, and the file is ours */
        fd = open(P(d, "open/mine"), O_WRONLY | O_CREAT, 0644);
        CCHECK(fd >= 0);
        CCHECK(fstat(fd, &st) == 0 && st.st_uid == NOBODY && st.st_gid == NOBODY);
        close(fd);
        CCHECK(mkdir(P(d, "open/sub"), 0755) == 0);
        _exit(0);
    }
    CHECK_CHILD_OK(pid);
}

TEST(nonroot_sticky_directory_protects_others_files)
{
    REQUIRE_ROOT();
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(mkdir(P(d, "sticky"), 0777));
    CHECK_OK(chmod(P(d, "sticky"), 01777));
    CHECK_OK(make_file(P(d, "sticky/roots"), 0, 0, 0666));
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        drop_to(NOBODY, NOBODY);
        CERRNO(unlink(P(d, "sticky/roots")), EPERM);
        CERRNO(rename(P(d, "sticky/roots"), P(d, "sticky/moved")), EPERM);
        int fd = open(P(d, "sticky/own"), O_WRONLY | O_CREAT, 0644);
        CCHECK(fd >= 0);
        close(fd);
        CCHECK(unlink(P(d, "sticky/own")) == 0);
        _exit(0);
    }
    CHECK_CHILD_OK(pid);
    CHECK_OK(access(P(d, "sticky/roots"), F_OK));
}

TEST(nonroot_chmod_chown_eperm)
{
    REQUIRE_ROOT();
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(make_file(P(d, "roots"), 0, 0, 0666));
    CHECK_OK(make_file(P(d, "mine"), NOBODY, NOBODY, 0644));
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        gid_t g = 777;
        CCHECK(setgroups(1, &g) == 0);
        CCHECK(setgid(NOBODY) == 0);
        CCHECK(setuid(NOBODY) == 0);
        CERRNO(chmod(P(d, "roots"), 0777), EPERM);
        CERRNO(chown(P(d, "roots"), NOBODY, NOBODY), EPERM);
        CCHECK(chmod(P(d, "mine"), 0600) == 0);
        CERRNO(chown(P(d, "mine"), 0, -1), EPERM);   /* giving away is not allowed */
        CERRNO(chown(P(d, "mine"), -1, 1234), EPERM); /* not one of our groups */
        CCHECK(chown(P(d, "mine"), -1, 777) == 0);    /* a supplementary group is fine */
        CCHECK(chown(P(d, "mine"), NOBODY, -1) == 0); /* to ourselves is a no-op */
        struct stat st;
        CCHECK(stat(P(d, "mine"), &st) == 0 && st.st_gid == 777);
        _exit(0);
    }
    CHECK_CHILD_OK(pid);
}

TEST(nonroot_chmod_setgid_dropped_if_not_group_member)
{
    REQUIRE_ROOT();
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(make_file(P(d, "mine"), NOBODY, 0, 0644)); /* group root: not ours */
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        drop_to(NOBODY, NOBODY);
        CCHECK(chmod(P(d, "mine"), 02755) == 0);
        struct stat st;
        CCHECK(stat(P(d, "mine"), &st) == 0);
        CCHECK((st.st_mode & 07777) == 0755);
        _exit(0);
    }
    CHECK_CHILD_OK(pid);
}

TEST(access_checks_real_uid_not_effective)
{
    REQUIRE_ROOT();
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(make_file(P(d, "secret"), 0, 0, 0600));
    CHECK_OK(make_file(P(d, "public"), 0, 0, 0644));
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        CCHECK(setgroups(0, NULL) == 0);
        CCHECK(setregid(NOBODY, -1) == 0);
        CCHECK(setreuid(NOBODY, -1) == 0); /* real nobody, effective root */
        CCHECK(getuid() == NOBODY && geteuid() == 0);
        int fd = open(P(d, "secret"), O_RDONLY); /* open uses the effective id */
        CCHECK(fd >= 0);
        close(fd);
        CERRNO(access(P(d, "secret"), R_OK), EACCES); /* access uses the real id */
        CERRNO(access(P(d, "public"), W_OK), EACCES);
        CCHECK(access(P(d, "public"), R_OK) == 0);
        CCHECK(access(P(d, "secret"), F_OK) == 0);
        _exit(0);
    }
    CHECK_CHILD_OK(pid);
}

TEST(access_as_nonroot)
{
    REQUIRE_ROOT();
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(make_file(P(d, "r"), 0, 0, 0644));
    CHECK_OK(make_file(P(d, "x"), 0, 0, 0755));
    CHECK_OK(make_file(P(d, "none"), 0, 0, 0000));
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        drop_to(NOBODY, NOBODY);
        CCHECK(access(P(d, "r"), R_OK) == 0);
        CERRNO(access(P(d, "r"), W_OK), EACCES);
        CERRNO(access(P(d, "r"), X_OK), EACCES);
        CCHECK(access(P(d, "x"), R_OK | X_OK) == 0);
        CERRNO(access(P(d, "none"), R_OK), EACCES);
        CCHECK(access(P(d, "none"), F_OK) == 0);
        CERRNO(access(P(d, "missing"), F_OK), ENOENT);
        _exit(0);
    }
    CHECK_CHILD_OK(pid);
}

TEST(nonroot_exec_without_permission_eacces)
{
    REQUIRE_ROOT();
    const char *d = newdir();
    CHECK(d != NULL);
    int fd = open(P(d, "s"), O_WRONLY | O_CREAT, 0700);
    CHECK(fd >= 0);
    CHECK_EQ(write(fd, "#!/bin/sh\nexit 0\n", 17), 17);
    close(fd);
    CHECK_OK(chmod(P(d, "s"), 0700));
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        drop_to(NOBODY, NOBODY);
        char *argv[] = {"s", NULL};
        char *envp[] = {NULL};
        CERRNO(execve(P(d, "s"), argv, envp), EACCES);
        _exit(0);
    }
    CHECK_CHILD_OK(pid);
}

/* ---- kill permission ---- */

TEST(nonroot_kill_permission)
{
    REQUIRE_ROOT();
    pid_t parent = getpid();
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        drop_to(NOBODY, NOBODY);
        CERRNO(kill(parent, 0), EPERM);
        CERRNO(kill(parent, SIGTERM), EPERM);
        CCHECK(kill(getpid(), 0) == 0);
        pid_t g = fork(); /* same uid: allowed */
        CCHECK(g >= 0);
        if (g == 0) {
            pause();
            _exit(0);
        }
        CCHECK(kill(g, SIGKILL) == 0);
        int st = child_status(g);
        CCHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
        _exit(0);
    }
    CHECK_CHILD_OK(pid);
}

TEST(root_may_signal_nonroot_process)
{
    REQUIRE_ROOT();
    int gate[2];
    CHECK_OK(pipe(gate));
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        close(gate[1]);
        drop_to(NOBODY, NOBODY);
        char c;
        _exit(read(gate[0], &c, 1) == 0 ? 0 : 1);
    }
    close(gate[0]);
    CHECK_EQ(kill(pid, 0), 0);
    CHECK_OK(kill(pid, SIGKILL));
    int st = child_status(pid);
    close(gate[1]);
    CHECK(WIFSIGNALED(st));
    CHECK_EQ(WTERMSIG(st), SIGKILL);
}
