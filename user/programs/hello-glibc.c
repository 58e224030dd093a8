/* hello-glibc.c - hello.c built with glibc (gcc -static). */
#include "hello.c"
