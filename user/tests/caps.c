/* caps.c - capabilities: capget/capset (versions, probing, pids, capset's rules), what root and
 * other users hold, the set*uid and execve transitions of capabilities(7) for root and
 * non-root (keep-caps included), and checks made by capability rather than by uid: binding a
 * port below 1024 (CAP_NET_BIND_SERVICE), kill (CAP_KILL), file access (CAP_DAC_OVERRIDE).
 *
 * Linux runs it natively as root, possibly with a bounding set smaller than every capability
 * (a container): "all" below means the bounding set /proc/self/status shows.
 * Helper mode: argv[1] == "--helper-caps": exits 0 if the effective and permitted sets are
 * what argv[2] says ("none" or "bounding"), 1 otherwise.
 */
#define _GNU_SOURCE
#include "test.h"
#include "children.h"

#include <fcntl.h>
#include <linux/capability.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/fsuid.h>
#include <sys/stat.h>

#define NOBODY 65534

struct caps {
    unsigned long long eff, prm, inh;
};

static int get_caps(pid_t pid, struct caps *c)
{
    struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, pid };
    struct __user_cap_data_struct d[2];
    memset(d, 0, sizeof d);
    if (syscall(SYS_capget, &h, d) != 0)
        return -1;
    c->eff = d[0].effective | (unsigned long long)d[1].effective << 32;
    c->prm = d[0].permitted | (unsigned long long)d[1].permitted << 32;
    c->inh = d[0].inheritable | (unsigned long long)d[1].inheritable << 32;
    return 0;
}

static int set_caps(unsigned long long eff, unsigned long long prm, unsigned long long inh)
{
    struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
    struct __user_cap_data_struct d[2] = {
        { (unsigned)eff, (unsigned)prm, (unsigned)inh },
        { (unsigned)(eff >> 32), (unsigned)(prm >> 32), (unsigned)(inh >> 32) },
    };
    return (int)syscall(SYS_capset, &h, d);
}

#define BIT(c) (1ULL << (c))

/* The bounding set, from /proc/self/status's CapBnd line. */
static unsigned long long bounding_set(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    unsigned long long v = 0;
    if (!f)
        return 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "CapBnd: %llx", &v) == 1)
            break;
    fclose(f);
    return v;
}

/* bind(127.0.0.1:port) on a fresh TCP socket: 0, or -1 with errno (EADDRINUSE counts as
 * allowed: a privileged port taken by someone on the host is still a permitted bind). */
static int bind_port(int port)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int r = bind(s, (struct sockaddr *)&a, sizeof a);
    int e = errno;
    close(s);
    if (r < 0 && e == EADDRINUSE)
        return 0;
    errno = e;
    return r;
}

#define LOW_PORT 741

TEST(capget_probe_writes_the_preferred_version)
{
    struct __user_cap_header_struct h = { 0x12345678, 0 };
    /* No data pointer: a probe, 0 whatever the version; the kernel's version written back. */
    CHECK_EQ(syscall(SYS_capget, &h, NULL), 0);
    CHECK_EQ(h.version, _LINUX_CAPABILITY_VERSION_3);
    struct __user_cap_data_struct d[2];
    h.version = 0x12345678;
    CHECK_ERRNO(syscall(SYS_capget, &h, d), EINVAL);
    CHECK_EQ(h.version, _LINUX_CAPABILITY_VERSION_3);
    h.version = 0x12345678;
    CHECK_ERRNO(syscall(SYS_capset, &h, d), EINVAL);
    CHECK_EQ(h.version, _LINUX_CAPABILITY_VERSION_3);
    CHECK_ERRNO(syscall(SYS_capget, bad_ptr(8), d), EFAULT);
    h.version = _LINUX_CAPABILITY_VERSION_3;
    CHECK_ERRNO(syscall(SYS_capget, &h, bad_ptr(8)), EFAULT);
}

TEST(root_holds_the_bounding_set)
{
    if (getuid() != 0 || geteuid() != 0)
        SKIP("needs root");
    struct caps c;
    CHECK_OK(get_caps(0, &c));
    CHECK_EQ(c.eff, bounding_set());
    CHECK_EQ(c.prm, bounding_set());
    CHECK_EQ(c.inh, 0);
    CHECK(c.eff & BIT(CAP_NET_BIND_SERVICE));
    CHECK(c.eff & BIT(CAP_SETUID));
    CHECK_EQ(prctl(PR_CAPBSET_READ, CAP_SETUID, 0, 0, 0), 1);
    /* /proc/sys/kernel/cap_last_cap names the highest capability there is. */
    FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "r");
    int last = -1;
    CHECK(f != NULL);
    CHECK_EQ(fscanf(f, "%d", &last), 1);
    fclose(f);
    CHECK(last >= CAP_SETUID);
    CHECK(bounding_set() >> last == 1);
    CHECK_EQ(prctl(PR_CAPBSET_READ, last, 0, 0, 0), 1);
    CHECK_ERRNO(prctl(PR_CAPBSET_READ, last + 1, 0, 0, 0), EINVAL);
    CHECK_ERRNO(prctl(PR_CAPBSET_READ, 1000, 0, 0, 0), EINVAL);
    /* Version 1: the low word only. */
    struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_1, 0 };
    struct __user_cap_data_struct d[2];
    memset(d, 0xa5, sizeof d);
    CHECK_EQ(syscall(SYS_capget, &h, d), 0);
    CHECK_EQ(d[0].effective, (unsigned)c.eff);
    CHECK_EQ(d[1].effective, 0xa5a5a5a5u);
}

TEST(capget_pids)
{
    struct caps c;
    CHECK_OK(get_caps(getpid(), &c));
    CHECK_ERRNO(get_caps(-1, &c), EINVAL);
    pid_t pid = fork();
    if (pid == 0)
        _exit(0);
    CHECK_CHILD_OK(pid);
    /* A reaped pid names nobody. */
    CHECK_ERRNO(get_caps(pid, &c), ESRCH);
    /* capset acts on the caller only. */
    CHECK_OK(get_caps(0, &c));
    struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, getppid() };
    struct __user_cap_data_struct d[2] = { { 0, 0, 0 }, { 0, 0, 0 } };
    CHECK_ERRNO(syscall(SYS_capset, &h, d), EPERM);
}

TEST(capset_rules)
{
    if (getuid() != 0)
        SKIP("needs root");
    pid_t pid = fork();
    if (pid == 0) {
        struct caps c;
        CCHECK(get_caps(0, &c) == 0);
        unsigned long long all = c.prm;
        /* Effective beyond permitted. */
        CERRNO(set_caps(all, all & ~BIT(CAP_KILL), 0), EPERM);
        /* Drop CAP_NET_BIND_SERVICE from effective only: a low port is refused... */
        CCHECK(set_caps(all & ~BIT(CAP_NET_BIND_SERVICE), all, 0) == 0);
        CERRNO(bind_port(LOW_PORT), EACCES);
        CCHECK(bind_port(0) == 0);
        /* ...and allowed again once it is raised from permitted. */
        CCHECK(set_caps(all, all, 0) == 0);
        CCHECK(bind_port(LOW_PORT) == 0);
        /* Permitted never grows back. */
        CCHECK(set_caps(all & ~BIT(CAP_NET_BIND_SERVICE), all & ~BIT(CAP_NET_BIND_SERVICE), 0) == 0);
        CERRNO(set_caps(all, all, 0), EPERM);
        CERRNO(bind_port(LOW_PORT), EACCES);
        /* Inheritable may take what is permitted. */
        CCHECK(set_caps(0, BIT(CAP_KILL), BIT(CAP_KILL)) == 0);
        CCHECK(get_caps(0, &c) == 0);
        CCHECK(c.eff == 0 && c.prm == BIT(CAP_KILL) && c.inh == BIT(CAP_KILL));
        /* Without CAP_SETPCAP, the inheritable set cannot gain what is not permitted. */
        CERRNO(set_caps(0, BIT(CAP_KILL), BIT(CAP_KILL) | BIT(CAP_CHOWN)), EPERM);
        _exit(0);
    }
    CHECK_CHILD_OK(pid);
}

TEST(nobody_holds_nothing_and_is_refused)
{
    if (getuid() != 0)
        SKIP("needs root");
    pid_t pid = fork();
    if (pid == 0) {
        CCHECK(setgid(NOBODY) == 0);
        CCHECK(setuid(NOBODY) == 0);
        struct caps c;
        CCHECK(get_caps(0, &c) == 0);
        CCHECK(c.eff == 0 && c.prm == 0 && c.inh == 0);
        CERRNO(bind_port(LOW_PORT), EACCES);
        CCHECK(bind_port(0) == 0);
        /* Signalling root's process: CAP_KILL is gone. */
        CERRNO(kill(getppid(), 0), EPERM);
        CERRNO(setuid(0), EPERM);
        /* Nothing to raise. */
        CERRNO(set_caps(BIT(CAP_KILL), BIT(CAP_KILL), 0), EPERM);
        _exit(0);
    }
    CHECK_CHILD_OK(pid);
}

TEST(euid_switch_keeps_permitted)
{
    if (getuid() != 0)
        SKIP("needs root");
    pid_t pid = fork();
    if (pid == 0) {
        struct caps c;
        CCHECK(get_caps(0, &c) == 0);
        unsigned long long all = c.prm;
        /* The real and saved uids stay 0: permitted stays, effective is emptied... */
        CCHECK(setresuid(-1, NOBODY, -1) == 0);
        CCHECK(get_caps(0, &c) == 0);
        CCHECK(c.eff == 0 && c.prm == all);
        CERRNO(bind_port(LOW_PORT), EACCES);
        /* ...and refilled when euid returns to 0. */
        CCHECK(seteuid(0) == 0);
        CCHECK(get_caps(0, &c) == 0);
        CCHECK(c.eff == all && c.prm == all);
        /* setfsuid away from 0 drops the file-system capabilities only. */
        setfsuid(NOBODY);
        CCHECK(get_caps(0, &c) == 0);
        CCHECK(!(c.eff & BIT(CAP_DAC_OVERRIDE)) && !(c.eff & BIT(CAP_CHOWN)));
        CCHECK(c.eff & BIT(CAP_KILL));
        setfsuid(0);
        CCHECK(get_caps(0, &c) == 0);
        CCHECK(c.eff == all);
        _exit(0);
    }
    CHECK_CHILD_OK(pid);
}

TEST(keep_caps_keeps_permitted_across_setuid)
{
    if (getuid() != 0)
        SKIP("needs root");
    pid_t pid = fork();
    if (pid == 0) {
        struct caps c;
        CCHECK(prctl(PR_GET_KEEPCAPS, 0, 0, 0, 0) == 0);
        CERRNO(prctl(PR_SET_KEEPCAPS, 2, 0, 0, 0), EINVAL);
        CCHECK(prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) == 0);
        CCHECK(prctl(PR_GET_KEEPCAPS, 0, 0, 0, 0) == 1);
        CCHECK(setresuid(NOBODY, NOBODY, NOBODY) == 0);
        CCHECK(get_caps(0, &c) == 0);
        CCHECK(c.eff == 0 && (c.prm & BIT(CAP_NET_BIND_SERVICE)));
        CERRNO(bind_port(LOW_PORT), EACCES);
        /* Raised by capset, the privileged port is ours although we are nobody. */
        CCHECK(set_caps(BIT(CAP_NET_BIND_SERVICE), c.prm, 0) == 0);
        CCHECK(bind_port(LOW_PORT) == 0);
        _exit(0);
    }
    CHECK_CHILD_OK(pid);
}

/* Runs this test in helper mode in a child (as nobody with keep-caps if asked): the
 * helper's exit status. */
static int exec_helper(const char *expect, int become_nobody)
{
    static char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        return -1;
    self[n] = 0;
    pid_t pid = fork();
    if (pid == 0) {
        if (become_nobody) {
            prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0);
            if (setgid(NOBODY) != 0 || setresuid(NOBODY, NOBODY, NOBODY) != 0)
                _exit(3);
            struct caps c;
            /* Permitted kept by keep-caps; exec as non-root still ends with nothing. */
            if (get_caps(0, &c) != 0 || c.prm == 0)
                _exit(4);
        }
        char *argv[] = { self, "--helper-caps", (char *)expect, NULL };
        execv(self, argv);
        _exit(2);
    }
    int st = child_status(pid);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

TEST(execve_gives_root_everything_and_others_nothing)
{
    if (getuid() != 0)
        SKIP("needs root");
    CHECK_EQ(exec_helper("bounding", 0), 0);
    CHECK_EQ(exec_helper("none", 1), 0);
}

TEST(dac_override_is_a_capability)
{
    if (getuid() != 0)
        SKIP("needs root");
    char path[] = "/tmp/caps-dac-XXXXXX";
    int fd = mkstemp(path);
    CHECK_OK(fd);
    close(fd);
    CHECK_OK(chmod(path, 0));
    pid_t pid = fork();
    if (pid == 0) {
        int f = open(path, O_RDONLY);
        CCHECK(f >= 0);
        close(f);
        struct caps c;
        CCHECK(get_caps(0, &c) == 0);
        CCHECK(set_caps(c.eff & ~(BIT(CAP_DAC_OVERRIDE) | BIT(CAP_DAC_READ_SEARCH)), c.prm, 0) == 0);
        CERRNO(open(path, O_RDONLY), EACCES);
        CERRNO(open(path, O_WRONLY), EACCES);
        /* CAP_DAC_READ_SEARCH alone: reading yes, writing no. */
        CCHECK(set_caps((c.eff & ~BIT(CAP_DAC_OVERRIDE)) | BIT(CAP_DAC_READ_SEARCH), c.prm, 0) == 0);
        f = open(path, O_RDONLY);
        CCHECK(f >= 0);
        close(f);
        CERRNO(open(path, O_WRONLY), EACCES);
        /* Without CAP_FOWNER, chmod of someone else's file is refused. */
        CCHECK(set_caps(c.eff & ~BIT(CAP_FOWNER), c.prm, 0) == 0);
        CCHECK(chmod(path, 0600) == 0); /* ours: still allowed */
        CCHECK(chown(path, NOBODY, -1) == 0);
        CERRNO(chmod(path, 0644), EPERM);
        _exit(0);
    }
    CHECK_CHILD_OK(pid);
    unlink(path);
}

int main(int argc, char **argv, char **envp)
{
    if (argc == 3 && strcmp(argv[1], "--helper-caps") == 0) {
        struct caps c;
        if (get_caps(0, &c) != 0)
            return 1;
        unsigned long long want = strcmp(argv[2], "none") == 0 ? 0 : bounding_set();
        if (c.eff != want || c.prm != want || c.inh != 0) {
            dprintf(2, "# helper: eff %llx prm %llx inh %llx, wanted %llx\n", c.eff, c.prm, c.inh,
                    want);
            return 1;
        }
        return 0;
    }
    test_argc = argc;
    test_argv = argv;
    test_envp = envp;
    return test_run_all() == 0 ? 0 : 1;
}
