#include <sys/msg.h>

struct message {
    long mtype;
    char mtext[100];
};

int main() {
    key_t key = ftok("/tmp/msgkey", 'Q');
    
    // Create message queue
    int msgid = msgget(key, IPC_CREAT | 0666);
    
    if (fork() == 0) {
        // Child: receive messages
        struct message msg;
        msgrcv(msgid, &msg, sizeof(msg.mtext), 1, 0);
        printf("Received: %s\n", msg.mtext);
    } else {
        // Parent: send message
        struct message msg;
        msg.mtype = 1;
        strcpy(msg.mtext, "Hello via message queue!");
        msgsnd(msgid, &msg, strlen(msg.mtext) + 1, 0);
        
        wait(NULL);
        msgctl(msgid, IPC_RMID, NULL);
    }
    
    return 0;
}
