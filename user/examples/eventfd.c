#include <sys/eventfd.h>

int main() {
    // Create eventfd with initial value 0
    int efd = eventfd(0, EFD_NONBLOCK);
    
    if (fork() == 0) {
        // Child: wait for event
        uint64_t val;
        read(efd, &val, sizeof(val));
        printf("Event received: %llu\n", val);
        close(efd);
    } else {
        // Parent: signal event
        sleep(1);
        uint64_t val = 42;
        write(efd, &val, sizeof(val));
        
        wait(NULL);
        close(efd);
    }
    
    return 0;
}
