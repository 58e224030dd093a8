/* hello.c - prints its name, arguments and environment, then exits 0.
 * Built with musl (hello), glibc (hello-glibc, which includes this file) and as a musl
 * static-pie (hello-pie, likewise). */
#include <stdio.h>

extern char **environ;

int main(int argc, char **argv)
{
    printf("hello from %s\n", argv[0]);
    for (int i = 1; i < argc; i++)
        printf("argv[%d]=%s\n", i, argv[i]);
    for (char **e = environ; *e != NULL; e++)
        printf("env: %s\n", *e);
    return 0;
}
