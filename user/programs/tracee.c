/* The program traced by the test posix-x/trace-vs-strace: common calls with strings, flags,
 * errors, a socket address, a pipe and a child, compared with strace -f on the host. No stdio:
 * every system call is one the program names. */
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#define FILE_PATH "/tmp/px-tracee"
#define SOCK_PATH "/tmp/px-tracee.sock"

int main(void)
{
    char buf[64];
    unlink(FILE_PATH);
    int fd = open(FILE_PATH, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    write(fd, "hello, trace\n", 13);
    write(fd, "tab\there \"quoted\" \\ and a long tail past 32 bytes", 49);
    close(fd);
    fd = open(FILE_PATH, O_RDONLY);
    read(fd, buf, sizeof buf);
    lseek(fd, 5, SEEK_SET);
    close(fd);
    open("/nonexistent/file", O_RDONLY);
    close(-1);

    int p[2];
    pipe2(p, O_CLOEXEC);
    write(p[1], "x", 1);
    read(p[0], buf, 1);
    dup2(p[0], 10);
    close(10);
    close(p[0]);
    close(p[1]);

    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    strcpy(addr.sun_path, SOCK_PATH);
    unlink(SOCK_PATH);
    bind(s, (struct sockaddr *)&addr, sizeof addr);
    close(s);
    unlink(SOCK_PATH);

    void *m = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    mprotect(m, 4096, PROT_READ);
    munmap(m, 8192);

    if (fork() == 0) {
        write(1, "child\n", 6);
        _exit(3);
    }
    int status;
    waitpid(-1, &status, 0);
    kill(0, 0);
    unlink(FILE_PATH);
    return 0;
}
