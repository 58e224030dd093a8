#include <sys/stat.h>
#include <fcntl.h>

int main() {
    // Create FIFO
    mkfifo("/tmp/myfifo", 0666);
    
    pid_t pid = fork();
    if (pid == 0) {
        // Child: read from FIFO
        int fd = open("/tmp/myfifo", O_RDONLY);
        char buf[100];
        read(fd, buf, sizeof(buf));
        printf("Received: %s\n", buf);
        close(fd);
    } else {
        // Parent: write to FIFO
        int fd = open("/tmp/myfifo", O_WRONLY);
        write(fd, "Hello via FIFO!", 15);
        close(fd);
        wait(NULL);
    }
    
    unlink("/tmp/myfifo");
    return 0;
}
