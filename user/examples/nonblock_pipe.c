/* From the guide, "Best Practices" / "Avoiding Deadlocks": the "Good" fragment (the "Bad" one
 * blocks by design and is left out).
 * Completed into a program: main() makes the pipe pipe1 and a 4096-byte buffer `data` of `size`
 * bytes, and runs the fragment in a loop that fills the pipe until write() fails with EAGAIN
 * (the fragment's "Would block" branch, where a `break` is added), counting the bytes written;
 * then it prints that count. Everything outside the fragment's lines is marked "added". */
int main() {                                 /* added */
    int pipe1[2];                            /* added */
    pipe(pipe1);                             /* added */
    char data[4096];                         /* added */
    size_t size = sizeof(data);              /* added */
    memset(data, 'x', size);                 /* added */
    size_t total = 0;                        /* added */
    for (;;) {                               /* added */
// Good: Use non-blocking or select/poll
fcntl(pipe1[1], F_SETFL, O_NONBLOCK);
ssize_t n = write(pipe1[1], data, size);
if (n < 0 && errno == EAGAIN) {
    // Would block, try later
    break;                                   /* added */
}
    total += n;                              /* added */
    }                                        /* added */
    printf("pipe full after %zu bytes: write gives EAGAIN\n", total);  /* added */
    return 0;                                /* added */
}                                            /* added */
