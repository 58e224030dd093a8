/* segv.c - stores through a NULL pointer: must be killed by SIGSEGV (status 128+11 = 139). */
#include <stdio.h>

int main(void)
{
    /* Both volatile: the pointer so the compiler cannot see it is NULL, the int so the store
     * must really happen. */
    volatile int *volatile p = NULL;
    *p = 1;
    puts("segv: still alive after a NULL store");
    return 1;
}
