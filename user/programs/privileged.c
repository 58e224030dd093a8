/* privileged.c - executes the privileged instruction hlt in user mode: the CPU raises a
 * general protection fault, which Linux turns into SIGSEGV (status 128+11 = 139). */
#include <stdio.h>

int main(void)
{
    __asm__ volatile("hlt");
    puts("privileged: still alive after hlt");
    return 1;
}
