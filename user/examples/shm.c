/* From the guide, "System V IPC" / "Shared Memory".
 * Completed: the guide's "In another process:" lines are commented out; here they run in a child
 * made with fork() at that point (the three guide lines, uncommented, between the lines marked
 * "added"), and the parent waits for it before the cleanup. */
#include <sys/shm.h>
#include <sys/ipc.h>

int main() {
    key_t key = ftok("/tmp/shmkey", 'R');
    
    // Create shared memory segment (1MB)
    int shmid = shmget(key, 1024 * 1024, IPC_CREAT | 0666);
    if (shmid < 0) {
        perror("shmget");
        return 1;
    }
    
    // Attach to address space
    void *ptr = shmat(shmid, NULL, 0);
    if (ptr == (void*)-1) {
        perror("shmat");
        return 1;
    }
    
    // Write to shared memory
    sprintf((char*)ptr, "Hello from process %d", getpid());
    
    // Detach
    shmdt(ptr);
    
    // In another process:
    if (fork() == 0) {  /* added */
    void *ptr = shmat(shmid, NULL, 0);
    printf("Read: %s\n", (char*)ptr);
    shmdt(ptr);
    return 0;  /* added */
    }  /* added */
    wait(NULL);  /* added */
    
    // Cleanup
    shmctl(shmid, IPC_RMID, NULL);
    
    return 0;
}
