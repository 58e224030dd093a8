/* From the guide, "Network Sockets": the TCP server and the TCP client, two programs there, as one
 * here on 127.0.0.1 port 8080.
 * Changed: each guide main() is renamed (tcp_server, tcp_client); the server's `while (1)` loop
 * runs once (it accepts one connection) so that the program ends.
 * Added: after listen() the server writes a byte to a pipe; main() forks, the child runs the
 * client once that byte came, the parent runs the server and waits for the child.
 * Changed and added lines are marked; the printed text is the guide's. */
static int ready[2];

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

int tcp_server() {  /* changed: was main() */
    int server_fd = socket(AF_INET, SOCK_STREAM, 0);
    
    int opt = 1;
    setsockopt(server_fd, SOL_SOCKET, SO_REUSEADDR, &opt, sizeof(opt));
    
    struct sockaddr_in addr;
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = INADDR_ANY;
    addr.sin_port = htons(8080);
    
    bind(server_fd, (struct sockaddr*)&addr, sizeof(addr));
    listen(server_fd, 10);
    write(ready[1], "r", 1);  /* added: tell the client we listen */
    
    printf("Server listening on port 8080\n");
    
    for (int once = 0; once < 1; once++) {  /* changed: was while (1) */
        struct sockaddr_in client_addr;
        socklen_t len = sizeof(client_addr);
        
        int client_fd = accept(server_fd, (struct sockaddr*)&client_addr, &len);
        
        char buf[1024];
        ssize_t n = read(client_fd, buf, sizeof(buf) - 1);
        buf[n] = '\0';
        
        printf("Received: %s\n", buf);
        
        write(client_fd, "HTTP/1.1 200 OK\r\n\r\nHello!\n", 27);
        close(client_fd);
    }
    
    return 0;
}

int tcp_client() {  /* changed: was main() */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    
    struct sockaddr_in addr;
    addr.sin_family = AF_INET;
    addr.sin_port = htons(8080);
    inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    
    if (connect(fd, (struct sockaddr*)&addr, sizeof(addr)) == -1) {
        perror("connect");
        return 1;
    }
    
    write(fd, "GET / HTTP/1.1\r\n\r\n", 18);
    
    char buf[1024];
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    buf[n] = '\0';
    printf("Response: %s\n", buf);
    
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
        return tcp_client();
    }
    tcp_server();
    waitpid(pid, NULL, 0);
    return 0;
}
