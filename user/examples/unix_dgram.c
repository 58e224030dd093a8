/* From the guide, "Unix Domain Sockets" / "Datagram Sockets (SOCK_DGRAM)": its server().
 * Added (the guide gives no main and no client): a client() that sends one datagram to
 * /tmp/dgram.sock, and main(), which forks; the child runs client() once the server is bound,
 * the parent runs server() and waits for the child. The server says it is bound by writing a
 * byte to a pipe: one line added after bind(), marked "added". Nothing else is changed. */
static int ready[2];

int server() {
    int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
    
    struct sockaddr_un addr;
    addr.sun_family = AF_UNIX;
    strcpy(addr.sun_path, "/tmp/dgram.sock");
    
    unlink("/tmp/dgram.sock");
    bind(fd, (struct sockaddr*)&addr, sizeof(addr));
    write(ready[1], "r", 1);  /* added: tell the client we are bound */
    
    char buf[100];
    struct sockaddr_un client_addr;
    socklen_t len = sizeof(client_addr);
    
    ssize_t n = recvfrom(fd, buf, sizeof(buf), 0,
                         (struct sockaddr*)&client_addr, &len);
    
    printf("Received: %.*s\n", (int)n, buf);
    
    close(fd);
    return 0;
}

/* Added. */
int client() {
    int fd = socket(AF_UNIX, SOCK_DGRAM, 0);

    struct sockaddr_un addr;
    addr.sun_family = AF_UNIX;
    strcpy(addr.sun_path, "/tmp/dgram.sock");

    sendto(fd, "Hello server!", 13, 0, (struct sockaddr*)&addr, sizeof(addr));

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
