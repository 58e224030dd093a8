#include <sys/socket.h>

int main() {
    int sv[2];
    
    // Create connected socket pair
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1) {
        perror("socketpair");
        return 1;
    }
    
    // sv[0] and sv[1] are connected
    // Like a bidirectional pipe
    
    if (fork() == 0) {
        // Child
        close(sv[1]);
        char buf[100];
        read(sv[0], buf, sizeof(buf));
        printf("Child received: %s\n", buf);
        write(sv[0], "Response from child", 19);
        close(sv[0]);
    } else {
        // Parent
        close(sv[0]);
        write(sv[1], "Message to child", 16);
        char buf[100];
        read(sv[1], buf, sizeof(buf));
        printf("Parent received: %s\n", buf);
        close(sv[1]);
        wait(NULL);
    }
    
    return 0;
}
