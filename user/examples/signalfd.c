/* From the guide, "Event File Descriptors" / "signalfd".
 * Completed: the guide waits for a Ctrl+C; here the program sends itself that SIGINT with raise()
 * right after saying it waits (one line, marked "added"). SIGINT is blocked, so it stays pending
 * and the read from the signalfd returns it. */
#include <sys/signalfd.h>
#include <signal.h>

int main() {
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGTERM);
    
    // Block signals normally
    sigprocmask(SIG_BLOCK, &mask, NULL);
    
    // Create signalfd
    int sfd = signalfd(-1, &mask, 0);
    
    printf("Waiting for signals (try Ctrl+C)\n");
    raise(SIGINT);  /* added: the Ctrl+C */
    
    struct signalfd_siginfo fdsi;
    ssize_t s = read(sfd, &fdsi, sizeof(fdsi));
    
    if (s == sizeof(fdsi)) {
        printf("Received signal %d\n", fdsi.ssi_signo);
    }
    
    close(sfd);
    return 0;
}
