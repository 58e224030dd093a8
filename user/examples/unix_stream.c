/* From the guide, "Unix Domain Sockets" / "Stream Sockets (SOCK_STREAM)": its server() and client().
 * Added (the guide gives no main): main() forks; the child runs client() once the server listens,
 * the parent runs server() and waits for the child. The server says it listens by writing a byte
 * to a pipe: one line added after listen(), marked "added". Nothing else is changed. */
static int ready[2];

#include <sys/socket.h>
#include <sys/un.h>

// Server
int server() {
    int server_fd = socket(AF_UNIX, SOCK_STREAM, 0);
    
    struct sockaddr_un addr;
    addr.sun_family = AF_UNIX;
    strcpy(addr.sun_path, "/tmp/server.sock");
    
    unlink("/tmp/server.sock");  // Remove if exists
    bind(server_fd, (struct sockaddr*)&addr, sizeof(addr));
    listen(server_fd, 5);
    write(ready[1], "r", 1);  /* added: tell the client we listen */
    
    int client_fd = accept(server_fd, NULL, NULL);
    
    char buf[100];
    ssize_t n = read(client_fd, buf, sizeof(buf));
    write(STDOUT_FILENO, buf, n);
    
    close(client_fd);
    close(server_fd);
    return 0;
}

// Client
int client() {
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    
    struct sockaddr_un addr;
    addr.sun_family = AF_UNIX;
    strcpy(addr.sun_path, "/tmp/server.sock");
    
    connect(fd, (struct sockaddr*)&addr, sizeof(addr));
    write(fd, "Hello server!", 13);
    
    close(fd);
    return 0;
}

/* Added. */
int main() {
    pipe(ready);
    pid_t pid = fork();
    if (pid == 0) {
        char c;
        read(ready[0], &c, 1);
        return client();
    }
    server();
    waitpid(pid, NULL, 0);
    return 0;
}
