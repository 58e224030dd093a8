#include <unistd.h>

int main() {
    int pipefd[2];
    
    if (pipe(pipefd) == -1) {
        perror("pipe");
        return 1;
    }
    
    // pipefd[0] = read end
    // pipefd[1] = write end
    
    pid_t pid = fork();
    if (pid == 0) {
        // Child: read from pipe
        close(pipefd[1]);  // Close write end
        
        char buf[100];
        ssize_t n = read(pipefd[0], buf, sizeof(buf));
        write(STDOUT_FILENO, buf, n);
        
        close(pipefd[0]);
    } else {
        // Parent: write to pipe
        close(pipefd[0]);  // Close read end
        
        write(pipefd[1], "Hello from parent!\n", 19);
        
        close(pipefd[1]);
        wait(NULL);
    }
    
    return 0;
}
