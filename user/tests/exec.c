/* exec.c - execve: argv and envp passed exactly (empty strings, many and long arguments, empty
 * environment), pid/ppid kept, close-on-exec fds closed and other fds (and their offsets) kept,
 * caught signals reset to SIG_DFL while ignored ones and the signal mask are kept, the old address
 * space gone; "#!" scripts (/bin/sh, this binary as interpreter with and without its optional
 * argument, nested scripts, loops); and the errors ENOENT, EACCES, ENOEXEC, ENOTDIR, EFAULT,
 * ENAMETOOLONG, ELOOP.
 * The exec'ed program is this test binary itself (found through /proc/self/exe) in a helper mode
 * chosen by argv[1] ("--helper-NAME ...") or, for "#!" lines without an argument, by the
 * environment variable PTEST_HELPER=NAME.
 * Syscalls: execve, fork, wait4, pipe2, dup, dup2, dup3, fcntl(F_GETFD/F_SETFD/F_DUPFD_CLOEXEC),
 * openat, read, write, lseek, close, readlink, mkdir, symlink, chmod, unlink, rmdir, mmap,
 * mprotect, rt_sigaction, rt_sigprocmask, getpid, getppid.
 * Not tested: E2BIG, execve with argv or envp NULL (Linux-specific), ETXTBSY.
 */
#define _GNU_SOURCE
#include "test.h"

#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "scratch.h"

#define PAGE 4096UL
#define GONE_ADDR ((void *)0x200000000000UL) /* mapped before exec, must be gone after */

static int write_file(const char *path, const char *data, size_t len, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        return -1;
    int ok = write(fd, data, len) == (ssize_t)len;
    close(fd);
    if (!ok || chmod(path, mode) != 0)
        return -1;
    return 0;
}

static char self_exe_[PATH_MAX];
static const char *self_exe(void)
{
    if (!self_exe_[0]) {
        ssize_t n = readlink("/proc/self/exe", self_exe_, sizeof self_exe_ - 1);
        if (n <= 0)
            return NULL;
        self_exe_[n] = '\0';
    }
    return self_exe_;
}

/* ---- running a helper ---- */

struct out {
    char *data;
    size_t len;
    int status;
};

/* fork; the child points fd 1 at a pipe, runs `pre` (if any) and execve(path, argv, envp).
 * Collects everything written to the pipe and the exit status (127 if execve failed). */
static int run(const char *path, char *const argv[], char *const envp[], void (*pre)(void),
               struct out *o)
{
    int p[2];
    o->data = NULL;
    o->len = 0;
    o->status = -1;
    if (pipe(p) < 0)
        return -1;
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        close(p[0]);
        if (p[1] != 1) {
            dup2(p[1], 1);
            close(p[1]);
        }
        if (pre)
            pre();
        execve(path, argv, envp);
        _exit(127);
    }
    close(p[1]);
    size_t cap = 0;
    for (;;) {
        if (o->len + 4096 > cap) {
            cap = cap ? cap * 2 : 65536;
            char *n = realloc(o->data, cap);
            if (!n)
                break;
            o->data = n;
        }
        ssize_t r = read(p[0], o->data + o->len, cap - o->len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        o->len += (size_t)r;
    }
    close(p[0]);
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return -1;
    o->status = st;
    return 0;
}

/* The errno execve fails with, run in a child (so an unexpected success cannot replace us).
 * If the exec succeeds the helper exits 250; another status gives 1000 + status. */
static int exec_errno(const char *path, char *const argv[], char *const envp[])
{
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        errno = 0;
        execve(path, argv, envp);
        _exit(errno);
    }
    int st;
    if (waitpid(pid, &st, 0) != pid)
        return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 1000 + st;
}

/* The dump helper's output: int argc, argc NUL-terminated strings, int envc, envc strings.
 * Compares with the expected vectors (NULL-terminated). */
static int vec_matches(const char **pos, const char *end, char *const want[], int *idx)
{
    int n;
    if (end - *pos < (long)sizeof n)
        return 0;
    memcpy(&n, *pos, sizeof n);
    *pos += sizeof n;
    int want_n = 0;
    while (want[want_n])
        want_n++;
    if (n != want_n) {
        *idx = -1000 - n;
        return 0;
    }
    for (int i = 0; i < n; i++) {
        size_t l = strnlen(*pos, (size_t)(end - *pos));
        if (*pos + l >= end || strcmp(*pos, want[i]) != 0) {
            *idx = i;
            return 0;
        }
        *pos += l + 1;
    }
    return 1;
}

#define CHECK_DUMP(o, argv_want, envp_want)                                           \
    do {                                                                              \
        CHECK(WIFEXITED((o).status) && WEXITSTATUS((o).status) == 0);                 \
        const char *pos_ = (o).data, *end_ = (o).data + (o).len;                      \
        int idx_ = 0;                                                                 \
        if (!vec_matches(&pos_, end_, (argv_want), &idx_))                            \
            FAIL("argv differs at index %d", idx_);                                   \
        if (!vec_matches(&pos_, end_, (envp_want), &idx_))                            \
            FAIL("envp differs at index %d", idx_);                                   \
        CHECK(pos_ == end_);                                                          \
    } while (0)

static char *const no_env[] = {NULL};

/* ---- argv and envp ---- */

TEST(exec_passes_argv_and_envp_exactly)
{
    const char *exe = self_exe();
    CHECK(exe != NULL);
    char *argv[] = {"prog-name", "--helper-dump", "one", "two words", "three", NULL};
    char *envp[] = {"A=1", "PATH=/nowhere", "LONG=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", NULL};
    struct out o;
    CHECK_OK(run(exe, argv, envp, NULL, &o));
    CHECK_DUMP(o, argv, envp);
    free(o.data);
}

TEST(exec_passes_empty_strings)
{
    const char *exe = self_exe();
    CHECK(exe != NULL);
    char *argv[] = {"", "--helper-dump", "", "x", "", NULL};
    char *envp[] = {"", "=", "E=", "", NULL};
    struct out o;
    CHECK_OK(run(exe, argv, envp, NULL, &o));
    CHECK_DUMP(o, argv, envp);
    free(o.data);
}

TEST(exec_empty_environment)
{
    const char *exe = self_exe();
    CHECK(exe != NULL);
    char *argv[] = {"p", "--helper-dump", NULL};
    struct out o;
    CHECK_OK(run(exe, argv, no_env, NULL, &o));
    CHECK_DUMP(o, argv, no_env);
    free(o.data);
}

TEST(exec_many_and_long_arguments)
{
    const char *exe = self_exe();
    CHECK(exe != NULL);
    enum { N = 1000, LONG = 65000 };
    char **argv = calloc(N + 4, sizeof *argv);
    char **envp = calloc(N / 2 + 1, sizeof *envp);
    char *big = malloc(LONG + 1);
    char *strs = malloc((size_t)N * 2 * 16);
    CHECK(argv && envp && big && strs);
    memset(big, 'q', LONG);
    big[LONG] = '\0';
    argv[0] = "p";
    argv[1] = "--helper-dump";
    for (int i = 0; i < N; i++) {
        argv[2 + i] = strs + i * 16;
        snprintf(argv[2 + i], 16, "arg-%d", i);
    }
    argv[2 + N] = big;
    for (int i = 0; i < N / 2; i++) {
        envp[i] = strs + (N + i) * 16;
        snprintf(envp[i], 16, "V%d=%d", i, i * 3);
    }
    struct out o;
    int r = run(exe, argv, envp, NULL, &o);
    CHECK_OK(r);
    CHECK_DUMP(o, argv, envp);
    free(o.data);
    free(argv);
    free(envp);
    free(big);
    free(strs);
}

TEST(exec_through_proc_self_exe)
{
    char *argv[] = {"p", "--helper-dump", "via-proc", NULL};
    struct out o;
    CHECK_OK(run("/proc/self/exe", argv, no_env, NULL, &o));
    CHECK_DUMP(o, argv, no_env);
    free(o.data);
}

TEST(exec_through_symlink_to_binary)
{
    const char *exe = self_exe();
    const char *d = newdir();
    CHECK(exe && d);
    CHECK_OK(symlink(exe, P(d, "link")));
    char *argv[] = {"p", "--helper-dump", NULL};
    struct out o;
    CHECK_OK(run(P(d, "link"), argv, no_env, NULL, &o));
    CHECK_DUMP(o, argv, no_env);
    free(o.data);
}

TEST(exec_relative_path)
{
    const char *exe = self_exe();
    const char *d = newdir();
    CHECK(exe && d);
    CHECK_OK(symlink(exe, P(d, "prog")));
    int cwd = open(".", O_RDONLY | O_DIRECTORY);
    CHECK(cwd >= 0);
    CHECK_OK(chdir(d));
    char *argv[] = {"p", "--helper-dump", NULL};
    struct out o;
    int r = run("./prog", argv, no_env, NULL, &o);
    int r2 = run("prog", argv, no_env, NULL, &o); /* execve does no PATH search */
    CHECK_OK(fchdir(cwd));
    close(cwd);
    CHECK_OK(r);
    CHECK_OK(r2);
    CHECK_DUMP(o, argv, no_env);
    free(o.data);
}

/* ---- process state across exec ---- */

TEST(exec_keeps_pid_and_ppid)
{
    const char *exe = self_exe();
    CHECK(exe != NULL);
    int p[2];
    CHECK_OK(pipe(p));
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        close(p[0]);
        dup2(p[1], 1);
        char *argv[] = {"p", "--helper-ids", NULL};
        execve(exe, argv, no_env);
        _exit(127);
    }
    close(p[1]);
    pid_t v[2] = {0, 0};
    ssize_t n = read(p[0], v, sizeof v);
    close(p[0]);
    int st;
    CHECK_EQ(waitpid(pid, &st, 0), pid);
    CHECK_EQ(st, 0);
    CHECK_EQ(n, (ssize_t)sizeof v);
    CHECK_EQ(v[0], pid);
    CHECK_EQ(v[1], getpid());
}

static int fd_plain, fd_ocloexec, fd_setfd, fd_dup_of_cloexec, fd_dup3, fd_dupfd_cloexec;

TEST(exec_closes_cloexec_fds_and_keeps_others)
{
    const char *exe = self_exe();
    CHECK(exe != NULL);
    fd_plain = open("/dev/null", O_RDONLY);
    fd_ocloexec = open("/dev/null", O_RDONLY | O_CLOEXEC);
    fd_setfd = open("/dev/null", O_RDONLY);
    CHECK(fd_plain >= 0 && fd_ocloexec >= 0 && fd_setfd >= 0);
    CHECK_OK(fcntl(fd_setfd, F_SETFD, FD_CLOEXEC));
    fd_dup_of_cloexec = dup(fd_ocloexec); /* dup clears FD_CLOEXEC */
    CHECK(fd_dup_of_cloexec >= 0);
    CHECK_EQ(fcntl(fd_dup_of_cloexec, F_GETFD), 0);
    fd_dup3 = dup3(fd_plain, 40, O_CLOEXEC);
    CHECK_EQ(fd_dup3, 40);
    fd_dupfd_cloexec = fcntl(fd_plain, F_DUPFD_CLOEXEC, 50);
    CHECK(fd_dupfd_cloexec >= 50);
    char a[6][24];
    snprintf(a[0], sizeof a[0], "%d:o", fd_plain);
    snprintf(a[1], sizeof a[1], "%d:c", fd_ocloexec);
    snprintf(a[2], sizeof a[2], "%d:c", fd_setfd);
    snprintf(a[3], sizeof a[3], "%d:o", fd_dup_of_cloexec);
    snprintf(a[4], sizeof a[4], "%d:c", fd_dup3);
    snprintf(a[5], sizeof a[5], "%d:c", fd_dupfd_cloexec);
    char *argv[] = {"p", "--helper-fds", a[0], a[1], a[2], a[3], a[4], a[5], NULL};
    struct out o;
    int r = run(exe, argv, no_env, NULL, &o);
    close(fd_plain);
    close(fd_ocloexec);
    close(fd_setfd);
    close(fd_dup_of_cloexec);
    close(fd_dup3);
    close(fd_dupfd_cloexec);
    CHECK_OK(r);
    free(o.data);
    if (!WIFEXITED(o.status) || WEXITSTATUS(o.status) != 0)
        FAIL("helper status %#x (exit 10+i: argument i wrong)", o.status);
}

TEST(exec_keeps_file_offset_of_inherited_fd)
{
    const char *exe = self_exe();
    const char *d = newdir();
    CHECK(exe && d);
    CHECK_OK(write_file(P(d, "data"), "0123456789", 10, 0644));
    int fd = open(P(d, "data"), O_RDONLY);
    CHECK(fd >= 0);
    CHECK_EQ(lseek(fd, 4, SEEK_SET), 4);
    char fdarg[16];
    snprintf(fdarg, sizeof fdarg, "%d", fd);
    char *argv[] = {"p", "--helper-readfd", fdarg, "456", NULL};
    struct out o;
    int r = run(exe, argv, no_env, NULL, &o);
    CHECK_OK(r);
    free(o.data);
    CHECK_EQ(o.status, 0);
    CHECK_EQ(lseek(fd, 0, SEEK_CUR), 7); /* the helper's read moved our shared offset */
    close(fd);
}

static void ksig_setup(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = (void (*)(int))bad_ptr(0x1234); /* never called */
    sigaction(SIGUSR1, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGUSR2, &sa, NULL);
    sa.sa_handler = (void (*)(int))bad_ptr(0x5678);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGTERM, SIG_DFL);
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGINT);
    sigaddset(&s, SIGQUIT);
    sigprocmask(SIG_SETMASK, &s, NULL);
}

TEST(exec_resets_caught_signals_keeps_ignored_and_mask)
{
    const char *exe = self_exe();
    CHECK(exe != NULL);
    char *argv[] = {"p", "--helper-sigs", NULL};
    struct out o;
    CHECK_OK(run(exe, argv, no_env, ksig_setup, &o));
    free(o.data);
    if (!WIFEXITED(o.status) || WEXITSTATUS(o.status) != 0)
        FAIL("helper status %#x", o.status);
}

static void map_gone_addr(void)
{
    void *p = mmap(GONE_ADDR, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
                   -1, 0);
    if (p != GONE_ADDR)
        _exit(126);
    *(volatile int *)p = 1;
}

TEST(exec_replaces_address_space)
{
    const char *exe = self_exe();
    CHECK(exe != NULL);
    char *argv[] = {"p", "--helper-mapgone", NULL};
    struct out o;
    CHECK_OK(run(exe, argv, no_env, map_gone_addr, &o));
    free(o.data);
    CHECK_EQ(o.status, 0);
}

TEST(exec_exit_status_of_new_image)
{
    const char *exe = self_exe();
    CHECK(exe != NULL);
    char *argv[] = {"p", "--helper-exit", "93", NULL};
    struct out o;
    CHECK_OK(run(exe, argv, no_env, NULL, &o));
    free(o.data);
    CHECK(WIFEXITED(o.status));
    CHECK_EQ(WEXITSTATUS(o.status), 93);
}

/* ---- "#!" scripts ---- */

TEST(shebang_bin_sh_script_gets_args)
{
    const char *d = newdir();
    CHECK(d != NULL);
    const char *s = "#!/bin/sh\nprintf '%s|' \"$0\" \"$@\"\nexit 0\n";
    const char *path = P(d, "script.sh");
    CHECK_OK(write_file(path, s, strlen(s), 0755));
    char *argv[] = {"ignored-argv0", "a", "b c", "", NULL};
    char *envp[] = {"PATH=/bin:/usr/bin", NULL};
    struct out o;
    CHECK_OK(run(path, argv, envp, NULL, &o));
    CHECK_EQ(o.status, 0);
    char want[512];
    snprintf(want, sizeof want, "%s|a|b c||", path);
    CHECK_EQ(o.len, strlen(want));
    CHECK(memcmp(o.data, want, o.len) == 0);
    free(o.data);
}

TEST(shebang_bin_sh_exit_status)
{
    const char *d = newdir();
    CHECK(d != NULL);
    const char *s = "#!/bin/sh\nexit 7\n";
    CHECK_OK(write_file(P(d, "s"), s, strlen(s), 0755));
    char *argv[] = {"s", NULL};
    struct out o;
    CHECK_OK(run(P(d, "s"), argv, no_env, NULL, &o));
    free(o.data);
    CHECK(WIFEXITED(o.status));
    CHECK_EQ(WEXITSTATUS(o.status), 7);
}

TEST(shebang_interpreter_with_optional_argument)
{
    const char *exe = self_exe();
    const char *d = newdir();
    CHECK(exe && d);
    char s[PATH_MAX + 64];
    snprintf(s, sizeof s, "#!%s --helper-dump\nnot read by the interpreter\n", exe);
    const char *path = P(d, "scr");
    CHECK_OK(write_file(path, s, strlen(s), 0755));
    char *argv[] = {"argv0-is-dropped", "x", "", "y z", NULL};
    char *envp[] = {"K=v", NULL};
    struct out o;
    CHECK_OK(run(path, argv, envp, NULL, &o));
    char *want[] = {(char *)exe, "--helper-dump", (char *)path, "x", "", "y z", NULL};
    CHECK_DUMP(o, want, envp);
    free(o.data);
}

TEST(shebang_optional_argument_is_one_word_with_inner_spaces)
{
    const char *exe = self_exe();
    const char *d = newdir();
    CHECK(exe && d);
    char s[PATH_MAX + 64];
    /* blanks after "#!", between interpreter and argument, trailing blanks: all trimmed;
     * the argument keeps its inner blanks and is passed as a single word. */
    snprintf(s, sizeof s, "#! \t%s  \t--helper-dump a  b \t \n", exe);
    const char *path = P(d, "scr");
    CHECK_OK(write_file(path, s, strlen(s), 0755));
    char *argv[] = {"p", NULL};
    struct out o;
    CHECK_OK(run(path, argv, no_env, NULL, &o));
    char *want[] = {(char *)exe, "--helper-dump a  b", (char *)path, NULL};
    CHECK_DUMP(o, want, no_env);
    free(o.data);
}

TEST(shebang_interpreter_without_argument)
{
    const char *exe = self_exe();
    const char *d = newdir();
    CHECK(exe && d);
    char s[PATH_MAX + 64];
    snprintf(s, sizeof s, "#!%s\n", exe);
    const char *path = P(d, "noarg");
    CHECK_OK(write_file(path, s, strlen(s), 0755));
    char *argv[] = {"p", "q", NULL};
    char *envp[] = {"PTEST_HELPER=dump", NULL};
    struct out o;
    CHECK_OK(run(path, argv, envp, NULL, &o));
    char *want[] = {(char *)exe, (char *)path, "q", NULL};
    CHECK_DUMP(o, want, envp);
    free(o.data);
}

TEST(shebang_script_path_as_given_relative)
{
    const char *exe = self_exe();
    const char *d = newdir();
    CHECK(exe && d);
    char s[PATH_MAX + 64];
    snprintf(s, sizeof s, "#!%s --helper-dump\n", exe);
    CHECK_OK(write_file(P(d, "rel"), s, strlen(s), 0755));
    int cwd = open(".", O_RDONLY | O_DIRECTORY);
    CHECK(cwd >= 0);
    CHECK_OK(chdir(d));
    char *argv[] = {"p", NULL};
    struct out o;
    int r = run("./rel", argv, no_env, NULL, &o);
    CHECK_OK(fchdir(cwd));
    close(cwd);
    CHECK_OK(r);
    char *want[] = {(char *)exe, "--helper-dump", "./rel", NULL};
    CHECK_DUMP(o, want, no_env);
    free(o.data);
}

TEST(shebang_nested_script_interpreter)
{
    const char *exe = self_exe();
    const char *d = newdir();
    CHECK(exe && d);
    char s[PATH_MAX + 64];
    const char *inner = P(d, "inner");
    const char *outer = P(d, "outer");
    snprintf(s, sizeof s, "#!%s --helper-dump\n", exe);
    CHECK_OK(write_file(inner, s, strlen(s), 0755));
    snprintf(s, sizeof s, "#!%s\n", inner);
    CHECK_OK(write_file(outer, s, strlen(s), 0755));
    char *argv[] = {"p", "arg", NULL};
    struct out o;
    CHECK_OK(run(outer, argv, no_env, NULL, &o));
    char *want[] = {(char *)exe, "--helper-dump", (char *)inner, (char *)outer, "arg", NULL};
    CHECK_DUMP(o, want, no_env);
    free(o.data);
}

TEST(shebang_root_needs_only_one_x_bit)
{
    const char *d = newdir();
    CHECK(d != NULL);
    const char *s = "#!/bin/sh\nexit 5\n";
    CHECK_OK(write_file(P(d, "s"), s, strlen(s), 0001)); /* others-x only; root may exec */
    char *argv[] = {"s", NULL};
    struct out o;
    CHECK_OK(run(P(d, "s"), argv, no_env, NULL, &o));
    free(o.data);
    CHECK(WIFEXITED(o.status));
    CHECK_EQ(WEXITSTATUS(o.status), 5);
}

TEST(shebang_missing_interpreter_enoent)
{
    const char *d = newdir();
    CHECK(d != NULL);
    char s[256];
    snprintf(s, sizeof s, "#!%s\n", P(d, "no-such-interpreter"));
    CHECK_OK(write_file(P(d, "s"), s, strlen(s), 0755));
    char *argv[] = {"s", NULL};
    CHECK_EQ(exec_errno(P(d, "s"), argv, no_env), ENOENT);
}

TEST(shebang_interpreter_loop_eloop)
{
    const char *d = newdir();
    CHECK(d != NULL);
    char s[256];
    snprintf(s, sizeof s, "#!%s\n", P(d, "self"));
    CHECK_OK(write_file(P(d, "self"), s, strlen(s), 0755));
    char *argv[] = {"s", NULL};
    CHECK_EQ(exec_errno(P(d, "self"), argv, no_env), ELOOP);
}

/* ---- errors ---- */

static char *exit250_argv[] = {"p", "--helper-exit", "250", NULL};

TEST(exec_missing_file_enoent)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_EQ(exec_errno(P(d, "nope"), exit250_argv, no_env), ENOENT);
    CHECK_EQ(exec_errno(P(d, "nodir/nope"), exit250_argv, no_env), ENOENT);
    CHECK_EQ(exec_errno("", exit250_argv, no_env), ENOENT);
}

TEST(exec_dangling_symlink_enoent)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(symlink(P(d, "target"), P(d, "dangling")));
    CHECK_EQ(exec_errno(P(d, "dangling"), exit250_argv, no_env), ENOENT);
}

TEST(exec_file_without_x_bit_eacces)
{
    const char *d = newdir();
    CHECK(d != NULL);
    const char *s = "#!/bin/sh\nexit 0\n";
    CHECK_OK(write_file(P(d, "nox"), s, strlen(s), 0644));
    CHECK_EQ(exec_errno(P(d, "nox"), exit250_argv, no_env), EACCES);
}

TEST(exec_directory_eacces)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_EQ(exec_errno(d, exit250_argv, no_env), EACCES);
    CHECK_EQ(exec_errno("/", exit250_argv, no_env), EACCES);
}

TEST(exec_garbage_enoexec)
{
    const char *d = newdir();
    CHECK(d != NULL);
    const char *g = "this is not an executable\n\x01\x02\x03 garbage garbage garbage\n";
    CHECK_OK(write_file(P(d, "garbage"), g, strlen(g), 0755));
    CHECK_EQ(exec_errno(P(d, "garbage"), exit250_argv, no_env), ENOEXEC);
}

TEST(exec_empty_file_enoexec)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(write_file(P(d, "empty"), "", 0, 0755));
    CHECK_EQ(exec_errno(P(d, "empty"), exit250_argv, no_env), ENOEXEC);
}

TEST(exec_truncated_elf_enoexec)
{
    const char *d = newdir();
    CHECK(d != NULL);
    /* An ELF magic followed by nothing useful: Linux rejects it as not executable. */
    const char elf[] = "\x7f" "ELF\x02\x01\x01";
    CHECK_OK(write_file(P(d, "elf"), elf, sizeof elf - 1, 0755));
    CHECK_EQ(exec_errno(P(d, "elf"), exit250_argv, no_env), ENOEXEC);
}

TEST(exec_path_through_file_enotdir)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(write_file(P(d, "file"), "x", 1, 0755));
    CHECK_EQ(exec_errno(P(d, "file/x"), exit250_argv, no_env), ENOTDIR);
}

TEST(exec_bad_pointers_efault)
{
    const char *exe = self_exe();
    CHECK(exe != NULL);
    CHECK_EQ(exec_errno(bad_ptr(1), exit250_argv, no_env), EFAULT);
    CHECK_EQ(exec_errno(exe, bad_ptr(1), no_env), EFAULT);
    CHECK_EQ(exec_errno(exe, exit250_argv, bad_ptr(1)), EFAULT);
    char *bad_elem[] = {"p", bad_ptr(8), NULL};
    CHECK_EQ(exec_errno(exe, bad_elem, no_env), EFAULT);
    char *bad_env[] = {"A=b", bad_ptr(8), NULL};
    CHECK_EQ(exec_errno(exe, exit250_argv, bad_env), EFAULT);
}

TEST(exec_name_too_long_enametoolong)
{
    char name[300];
    memset(name, 'n', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    name[0] = '/';
    CHECK_EQ(exec_errno(name, exit250_argv, no_env), ENAMETOOLONG);
}

TEST(exec_symlink_loop_eloop)
{
    const char *d = newdir();
    CHECK(d != NULL);
    CHECK_OK(symlink(P(d, "b"), P(d, "a")));
    CHECK_OK(symlink(P(d, "a"), P(d, "b")));
    CHECK_EQ(exec_errno(P(d, "a"), exit250_argv, no_env), ELOOP);
}

TEST(exec_success_sanity_for_exec_errno)
{
    const char *exe = self_exe();
    CHECK(exe != NULL);
    CHECK_EQ(exec_errno(exe, exit250_argv, no_env), 250);
}

/* ---- helper mode ---- */

static void put(const void *p, size_t n)
{
    const char *c = p;
    while (n > 0) {
        ssize_t w = write(1, c, n);
        if (w <= 0)
            _exit(99);
        c += w;
        n -= (size_t)w;
    }
}

static void dump_vec(char **v)
{
    int n = 0;
    while (v[n])
        n++;
    put(&n, sizeof n);
    for (int i = 0; i < n; i++)
        put(v[i], strlen(v[i]) + 1);
}

struct ksigaction {
    void (*handler)(int);
    unsigned long flags;
    void (*restorer)(void);
    unsigned long mask;
};

static int helper(const char *name, int argc, char **argv, char **envp)
{
    if (strcmp(name, "dump") == 0) {
        dump_vec(argv);
        dump_vec(envp);
        return 0;
    }
    if (strcmp(name, "ids") == 0) {
        pid_t v[2] = {getpid(), getppid()};
        put(v, sizeof v);
        return 0;
    }
    if (strcmp(name, "exit") == 0)
        return argc > 2 ? atoi(argv[2]) : 1;
    if (strcmp(name, "fds") == 0) {
        for (int i = 2; i < argc; i++) {
            int fd = atoi(argv[i]);
            char want = strchr(argv[i], ':')[1];
            errno = 0;
            int r = fcntl(fd, F_GETFD);
            if (want == 'o' && r != 0)
                return 10 + i - 2;
            if (want == 'c' && !(r == -1 && errno == EBADF))
                return 10 + i - 2;
        }
        return 0;
    }
    if (strcmp(name, "readfd") == 0) {
        char buf[16] = {0};
        size_t n = strlen(argv[3]);
        if (read(atoi(argv[2]), buf, n) != (ssize_t)n)
            return 2;
        return memcmp(buf, argv[3], n) == 0 ? 0 : 3;
    }
    if (strcmp(name, "sigs") == 0) {
        struct ksigaction ka;
        if (syscall(SYS_rt_sigaction, SIGUSR1, NULL, &ka, 8) != 0 || ka.handler != SIG_DFL)
            return 2;
        if (syscall(SYS_rt_sigaction, SIGHUP, NULL, &ka, 8) != 0 || ka.handler != SIG_DFL)
            return 3;
        if (syscall(SYS_rt_sigaction, SIGUSR2, NULL, &ka, 8) != 0 || ka.handler != SIG_IGN)
            return 4;
        if (syscall(SYS_rt_sigaction, SIGTERM, NULL, &ka, 8) != 0 || ka.handler != SIG_DFL)
            return 5;
        unsigned long mask = 0;
        if (syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, &mask, 8) != 0)
            return 6;
        unsigned long want = (1UL << (SIGINT - 1)) | (1UL << (SIGQUIT - 1));
        return mask == want ? 0 : 7;
    }
    if (strcmp(name, "mapgone") == 0) {
        errno = 0;
        if (syscall(SYS_mprotect, GONE_ADDR, PAGE, PROT_READ) != -1 || errno != ENOMEM)
            return 2;
        return 0;
    }
    return 98;
}

int main(int argc, char **argv, char **envp)
{
    if (argc >= 2 && strncmp(argv[1], "--helper-", 9) == 0) {
        char name[32];
        snprintf(name, sizeof name, "%s", argv[1] + 9);
        name[strcspn(name, " ")] = '\0';
        return helper(name, argc, argv, envp);
    }
    const char *h = getenv("PTEST_HELPER");
    if (h)
        return helper(h, argc, argv, envp);
    test_argc = argc;
    test_argv = argv;
    test_envp = envp;
    return test_run_all() == 0 ? 0 : 1;
}
