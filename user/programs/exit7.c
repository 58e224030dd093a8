/* exit7.c - exits with status 7 (through exit(), so atexit and stdio flushing run). */
#include <stdlib.h>

int main(void)
{
    exit(7);
}
