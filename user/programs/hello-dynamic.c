/* hello-dynamic.c - a dynamically linked glibc program (plain `gcc`, a PIE with PT_INTERP),
 * run in the guest with its libraries (`posix-x/dynamic-exec`). It checks what the kernel's
 * loader told the dynamic linker, through the auxiliary vector, against what the linker
 * and the program see, and prints one line per check and then its arguments. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>

extern char _start[];

struct seen {
    int count;
    const void *first_phdr;
};

static int phdr_callback(struct dl_phdr_info *info, size_t size, void *data)
{
    struct seen *seen = data;
    (void)size;
    /* The first object is the program itself. */
    if (seen->count++ == 0)
        seen->first_phdr = info->dlpi_phdr;
    return 0;
}

int main(int argc, char **argv)
{
    struct seen seen = { 0, NULL };
    dl_iterate_phdr(phdr_callback, &seen);
    unsigned long base = getauxval(AT_BASE);
    Dl_info info;
    int found = dladdr((void *)&printf, &info);
    printf("AT_ENTRY is _start: %s\n", getauxval(AT_ENTRY) == (unsigned long)_start ? "yes" : "no");
    printf("AT_PHDR is the program's headers: %s\n",
           (const void *)getauxval(AT_PHDR) == seen.first_phdr ? "yes" : "no");
    printf("AT_PHNUM: %s\n", getauxval(AT_PHNUM) > 2 ? "yes" : "no");
    printf("AT_BASE is the interpreter: %s\n",
           base != 0 && base % 4096 == 0 && memcmp((void *)base, ELFMAG, SELFMAG) == 0 ? "yes" : "no");
    printf("libc is a shared object: %s\n",
           found && info.dli_fname && strstr(info.dli_fname, "libc.so") ? "yes" : "no");
    /* libm: a second library, loaded by the dynamic linker with mmap. */
    volatile double two = 2.0;
    printf("sqrt(2) from libm: %.6f\n", sqrt(two));
    for (int i = 1; i < argc; i++)
        printf("argv[%d]=%s\n", i, argv[i]);
    return 0;
}
