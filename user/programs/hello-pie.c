/* hello-pie.c - hello.c built as a musl static PIE.
 * Debian's musl-gcc specs ignore -static-pie (they link Scrt1.o with an interpreter and
 * libc.so), so it must be built like this:
 *   M=/usr/lib/x86_64-linux-musl
 *   musl-gcc -static-pie -fPIE -O2 -nostartfiles $M/rcrt1.o $M/crti.o hello-pie.c $M/crtn.o \
 *            -Wl,-static,--no-dynamic-linker,-z,text
 * (`file` then says "static-pie linked"; no PT_INTERP.) */
#include "hello.c"
