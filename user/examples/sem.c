#include <sys/sem.h>

int main() {
    key_t key = ftok("/tmp/semkey", 'S');
    
    // Create semaphore set with 1 semaphore
    int semid = semget(key, 1, IPC_CREAT | 0666);
    
    // Initialize to 1 (binary semaphore/mutex)
    semctl(semid, 0, SETVAL, 1);
    
    // Lock (P operation)
    struct sembuf op_lock = {0, -1, 0};
    semop(semid, &op_lock, 1);
    
    // Critical section
    printf("In critical section\n");
    sleep(1);
    
    // Unlock (V operation)
    struct sembuf op_unlock = {0, 1, 0};
    semop(semid, &op_unlock, 1);
    
    // Cleanup
    semctl(semid, 0, IPC_RMID);
    
    return 0;
}
