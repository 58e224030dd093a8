/* From the guide, "Network Sockets" / "UDP Sockets": its udp_server() on port 5000.
 * Added (the guide gives no main and no client): a udp_client() that sends one datagram to
 * 127.0.0.1:5000 and prints the reply, and main(), which forks; the child runs the client once
 * the server is bound, the parent runs the server and waits for the child. The server says it
 * is bound by writing a byte to a pipe: one line added after bind(), marked "added". */
static int ready[2];

// UDP Server
int udp_server() {
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    
    struct sockaddr_in addr;
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = INADDR_ANY;
    addr.sin_port = htons(5000);
    
    bind(fd, (struct sockaddr*)&addr, sizeof(addr));
    write(ready[1], "r", 1);  /* added: tell the client we are bound */
    
    char buf[1024];
    struct sockaddr_in client_addr;
    socklen_t len = sizeof(client_addr);
    
    ssize_t n = recvfrom(fd, buf, sizeof(buf), 0,
                         (struct sockaddr*)&client_addr, &len);
    
    printf("Received %zd bytes\n", n);
    
    sendto(fd, "ACK", 3, 0, (struct sockaddr*)&client_addr, len);
    
    close(fd);
    return 0;
}

/* Added. */
int udp_client() {
    int fd = socket(AF_INET, SOCK_DGRAM, 0);

    struct sockaddr_in addr;
    addr.sin_family = AF_INET;
    addr.sin_port = htons(5000);
    inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);

    sendto(fd, "Hello UDP", 9, 0, (struct sockaddr*)&addr, sizeof(addr));

    char buf[16];
    ssize_t n = recv(fd, buf, sizeof(buf), 0);
    printf("Client received: %.*s\n", (int)n, buf);

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
        return udp_client();
    }
    udp_server();
    waitpid(pid, NULL, 0);
    return 0;
}
