/* memory.c - the address space: brk, anonymous private mmap (MAP_FIXED, MAP_FIXED_NOREPLACE,
 * every PROT combination), munmap, mprotect, their errors, lazily committed large mappings, and
 * EFAULT from syscalls handed bad user pointers. Also getrandom.
 * Raw syscall() is used throughout: libc wrappers round or pre-check arguments (musl's mprotect
 * rounds the range, its mmap rejects huge lengths itself), which would hide the kernel's answer.
 * mremap's argument checks (overlapping fixed moves, huge lengths, old_len 0).
 * Syscalls: brk, mmap, munmap, mprotect, mremap, getrandom, read, write, writev, clock_gettime, uname.
 * Note: the write() EFAULT cases need fd 1 to be a real file/pipe/tty, not /dev/null.
 */
#define _GNU_SOURCE
#define TEST_MAIN
#include "test.h"

#include <fcntl.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

#define PAGE 4096UL
#define KERNEL_ADDR bad_ptr(0xffff800000000000UL)

/* A pointer the compiler cannot reason about (no -Wstringop warnings for deliberate faults). */
static long sys_brk(uintptr_t addr) { return syscall(SYS_brk, addr); }

static void *sys_mmap(void *addr, size_t len, int prot, int flags, int fd, long off)
{
    return (void *)syscall(SYS_mmap, addr, len, prot, flags, fd, off);
}

static void *map_anon(size_t len, int prot)
{
    return sys_mmap(NULL, len, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
}

static long sys_munmap(void *addr, size_t len) { return syscall(SYS_munmap, addr, len); }

static long sys_mprotect(void *addr, size_t len, int prot)
{
    return syscall(SYS_mprotect, addr, len, prot);
}

/* getrandom writes into the buffer: 1 byte succeeds iff the page is mapped writable. */
static long sys_getrandom(void *buf, size_t len, unsigned flags)
{
    return syscall(SYS_getrandom, buf, len, flags);
}

/* mprotect answers ENOMEM for a range that is not (entirely) mapped. */
static int page_is_mapped(void *p, int prot)
{
    return sys_mprotect(p, PAGE, prot) == 0;
}

static uintptr_t page_up(uintptr_t a) { return (a + PAGE - 1) & ~(PAGE - 1); }

/* ---- brk ---- */

TEST(brk_query_returns_current_break)
{
    long b = sys_brk(0);
    CHECK(b > 0);
    CHECK_EQ(sys_brk(0), b);
    CHECK_EQ(sys_brk((uintptr_t)b), b);
}

TEST(brk_grow_gives_zeroed_writable_memory)
{
    uintptr_t b = (uintptr_t)sys_brk(0);
    uintptr_t want = b + 5 * PAGE + 123; /* Linux keeps the exact, unrounded value */
    CHECK_EQ(sys_brk(want), want);
    CHECK_EQ(sys_brk(0), want);
    /* Whole fresh pages above the old break are zero (the old break's own page may not be). */
    for (uintptr_t a = page_up(b); a < want; a++)
        if (*(volatile unsigned char *)a != 0) {
            sys_brk(b);
            FAIL("byte at brk+%lu is %#x", (unsigned long)(a - b), *(unsigned char *)a);
        }
    memset((void *)b, 0xa5, want - b);
    CHECK_EQ(*(volatile unsigned char *)(want - 1), 0xa5);
    CHECK_EQ(sys_brk(b), b);
    CHECK_EQ(sys_brk(0), b);
}

TEST(brk_shrink_releases_pages)
{
    uintptr_t b = (uintptr_t)sys_brk(0);
    uintptr_t top = page_up(b) + 4 * PAGE;
    CHECK_EQ(sys_brk(top), top);
    memset((void *)page_up(b), 0x5a, 4 * PAGE);
    CHECK_EQ(sys_brk(b), b);
    CHECK_ERRNO(sys_mprotect((void *)(page_up(b) + PAGE), PAGE, PROT_READ), ENOMEM);
    /* Growing again maps fresh zero pages, not the old contents. */
    CHECK_EQ(sys_brk(top), top);
    int dirty = 0;
    for (uintptr_t a = page_up(b); a < top; a++)
        dirty |= *(volatile unsigned char *)a;
    CHECK_EQ(sys_brk(b), b);
    CHECK_EQ(dirty, 0);
}

TEST(brk_huge_fails_and_returns_old_break)
{
    long b = sys_brk(0);
    CHECK_EQ(sys_brk((uintptr_t)b + (1UL << 45)), b);
    CHECK_EQ(sys_brk((uintptr_t)KERNEL_ADDR), b);
    CHECK_EQ(sys_brk(0), b);
}

TEST(brk_below_start_fails_and_returns_old_break)
{
    long b = sys_brk(0);
    CHECK_EQ(sys_brk(PAGE), b);
    CHECK_EQ(sys_brk(0), b);
}

/* ---- mmap / munmap ---- */

TEST(mmap_anonymous_is_zeroed_and_writable)
{
    unsigned char *p = map_anon(3 * PAGE, PROT_READ | PROT_WRITE);
    CHECK(p != MAP_FAILED);
    CHECK_EQ((uintptr_t)p % PAGE, 0);
    for (size_t i = 0; i < 3 * PAGE; i++)
        if (p[i] != 0)
            FAIL("byte %zu is %#x", i, p[i]);
    for (size_t i = 0; i < 3 * PAGE; i++)
        p[i] = (unsigned char)(i * 7);
    for (size_t i = 0; i < 3 * PAGE; i++)
        if (p[i] != (unsigned char)(i * 7))
            FAIL("byte %zu reads back %#x", i, p[i]);
    CHECK_OK(sys_munmap(p, 3 * PAGE));
}

TEST(mmap_length_rounded_up_to_pages)
{
    unsigned char *p = map_anon(PAGE + 1, PROT_READ | PROT_WRITE);
    CHECK(p != MAP_FAILED);
    p[2 * PAGE - 1] = 1; /* the rest of the second page belongs to the mapping */
    CHECK_EQ(p[2 * PAGE - 1], 1);
    CHECK_OK(sys_munmap(p, PAGE + 1)); /* unmaps both pages */
    CHECK_ERRNO(sys_mprotect(p, PAGE, PROT_READ), ENOMEM);
    CHECK_ERRNO(sys_mprotect(p + PAGE, PAGE, PROT_READ), ENOMEM);
}

TEST(mmap_distinct_mappings_do_not_overlap)
{
    enum { N = 16 };
    unsigned char *m[N];
    for (int i = 0; i < N; i++) {
        m[i] = map_anon((size_t)(i + 1) * PAGE, PROT_READ | PROT_WRITE);
        CHECK(m[i] != MAP_FAILED);
        m[i][0] = (unsigned char)i;
        m[i][(size_t)(i + 1) * PAGE - 1] = (unsigned char)(i + 100);
    }
    for (int i = 0; i < N; i++) {
        uintptr_t a0 = (uintptr_t)m[i], a1 = a0 + (size_t)(i + 1) * PAGE;
        for (int j = i + 1; j < N; j++) {
            uintptr_t b0 = (uintptr_t)m[j], b1 = b0 + (size_t)(j + 1) * PAGE;
            if (a0 < b1 && b0 < a1)
                FAIL("mapping %d [%#lx,%#lx) overlaps %d [%#lx,%#lx)", i, (unsigned long)a0,
                     (unsigned long)a1, j, (unsigned long)b0, (unsigned long)b1);
        }
        CHECK_EQ(m[i][0], i);
        CHECK_EQ(m[i][(size_t)(i + 1) * PAGE - 1], i + 100);
    }
    for (int i = 0; i < N; i++)
        CHECK_OK(sys_munmap(m[i], (size_t)(i + 1) * PAGE));
}

TEST(mmap_fixed_inside_reservation)
{
    unsigned char *r = map_anon(8 * PAGE, PROT_NONE);
    CHECK(r != MAP_FAILED);
    unsigned char *p = sys_mmap(r + 2 * PAGE, 3 * PAGE, PROT_READ | PROT_WRITE,
                                MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    CHECK(p == r + 2 * PAGE);
    p[0] = 1;
    p[3 * PAGE - 1] = 2;
    CHECK_EQ(p[0] + p[3 * PAGE - 1], 3);
    CHECK_EQ(sys_getrandom(p + PAGE, 8, 0), 8); /* writable for the kernel too */
    CHECK_ERRNO(sys_getrandom(r + PAGE, 1, 0), EFAULT); /* neighbours still PROT_NONE */
    CHECK_ERRNO(sys_getrandom(r + 5 * PAGE, 1, 0), EFAULT);
    CHECK(page_is_mapped(r, PROT_NONE));
    CHECK(page_is_mapped(r + 7 * PAGE, PROT_NONE));
    CHECK_OK(sys_munmap(r, 8 * PAGE));
}

TEST(mmap_fixed_over_data_gives_fresh_zero_pages)
{
    unsigned char *p = map_anon(2 * PAGE, PROT_READ | PROT_WRITE);
    CHECK(p != MAP_FAILED);
    memset(p, 0x5a, 2 * PAGE);
    CHECK(sys_mmap(p, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
                   -1, 0) == p);
    CHECK_EQ(p[0], 0);
    CHECK_EQ(p[2 * PAGE - 1], 0);
    CHECK_OK(sys_munmap(p, 2 * PAGE));
}

TEST(mmap_fixed_noreplace)
{
    unsigned char *r = map_anon(3 * PAGE, PROT_READ | PROT_WRITE);
    CHECK(r != MAP_FAILED);
    r[PAGE] = 9;
    CHECK_ERRNO(sys_mmap(r + PAGE, PAGE, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0),
                EEXIST);
    CHECK_EQ(r[PAGE], 9); /* untouched */
    CHECK_OK(sys_munmap(r + PAGE, PAGE));
    unsigned char *p = sys_mmap(r + PAGE, PAGE, PROT_READ | PROT_WRITE,
                                MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    CHECK(p == r + PAGE);
    CHECK_EQ(p[0], 0);
    CHECK_OK(sys_munmap(r, 3 * PAGE));
}

TEST(munmap_middle_splits_mapping)
{
    unsigned char *p = map_anon(3 * PAGE, PROT_READ | PROT_WRITE);
    CHECK(p != MAP_FAILED);
    p[0] = 1, p[PAGE] = 2, p[2 * PAGE] = 3;
    CHECK_OK(sys_munmap(p + PAGE, PAGE));
    CHECK_EQ(p[0], 1);
    CHECK_EQ(p[2 * PAGE], 3);
    CHECK_ERRNO(sys_mprotect(p + PAGE, PAGE, PROT_READ | PROT_WRITE), ENOMEM);
    CHECK_ERRNO(sys_mprotect(p, 3 * PAGE, PROT_READ | PROT_WRITE), ENOMEM); /* a hole inside */
    CHECK_OK(sys_munmap(p, 3 * PAGE)); /* spanning the hole is fine */
    CHECK_ERRNO(sys_mprotect(p, PAGE, PROT_READ), ENOMEM);
    CHECK_ERRNO(sys_mprotect(p + 2 * PAGE, PAGE, PROT_READ), ENOMEM);
}

TEST(munmap_of_unmapped_range_succeeds)
{
    void *p = map_anon(PAGE, PROT_READ);
    CHECK(p != MAP_FAILED);
    CHECK_OK(sys_munmap(p, PAGE));
    CHECK_EQ(sys_munmap(p, PAGE), 0);
}

TEST(mmap_every_prot_combination)
{
    static const int prots[] = {PROT_NONE, PROT_READ, PROT_READ | PROT_WRITE,
                                PROT_READ | PROT_EXEC, PROT_READ | PROT_WRITE | PROT_EXEC};
    for (size_t i = 0; i < sizeof prots / sizeof prots[0]; i++) {
        volatile unsigned char *p = map_anon(2 * PAGE, prots[i]);
        if (p == MAP_FAILED)
            FAIL("prot %#x: mmap failed, errno %s", prots[i], test_errno_name(errno));
        if (prots[i] & PROT_READ)
            CHECK_EQ(p[PAGE + 5], 0);
        if (prots[i] & PROT_WRITE) {
            p[PAGE + 5] = 0x42;
            CHECK_EQ(p[PAGE + 5], 0x42);
            CHECK_EQ(sys_getrandom((void *)p, 4, 0), 4);
        } else {
            CHECK_ERRNO(sys_getrandom((void *)p, 4, 0), EFAULT);
        }
        CHECK_OK(sys_munmap((void *)p, 2 * PAGE));
    }
}

/* mov $42, %eax; ret */
static const unsigned char ret42[] = {0xb8, 0x2a, 0x00, 0x00, 0x00, 0xc3};

TEST(prot_exec_runs_code_after_mprotect)
{
    unsigned char *p = map_anon(PAGE, PROT_READ | PROT_WRITE);
    CHECK(p != MAP_FAILED);
    memcpy(p, ret42, sizeof ret42);
    CHECK_OK(sys_mprotect(p, PAGE, PROT_READ | PROT_EXEC));
    int (*fn)(void) = (int (*)(void))(uintptr_t)p;
    CHECK_EQ(fn(), 42);
    CHECK_OK(sys_munmap(p, PAGE));
}

TEST(prot_rwx_runs_code)
{
    unsigned char *p = map_anon(PAGE, PROT_READ | PROT_WRITE | PROT_EXEC);
    CHECK(p != MAP_FAILED);
    memcpy(p, ret42, sizeof ret42);
    int (*fn)(void) = (int (*)(void))(uintptr_t)p;
    CHECK_EQ(fn(), 42);
    p[1] = 7; /* still writable: patch the immediate */
    CHECK_EQ(fn(), 7);
    CHECK_OK(sys_munmap(p, PAGE));
}

TEST(mprotect_read_only_then_back)
{
    volatile unsigned char *p = map_anon(PAGE, PROT_READ | PROT_WRITE);
    CHECK(p != MAP_FAILED);
    p[10] = 1;
    CHECK_OK(sys_mprotect((void *)p, PAGE, PROT_READ));
    CHECK_EQ(p[10], 1);
    CHECK_ERRNO(sys_getrandom((void *)p, 16, 0), EFAULT);
    CHECK_EQ(p[10], 1);
    CHECK_OK(sys_mprotect((void *)p, PAGE, PROT_READ | PROT_WRITE));
    p[10] = 2;
    CHECK_EQ(p[10], 2);
    CHECK_EQ(sys_getrandom((void *)p, 16, 0), 16);
    CHECK_OK(sys_munmap((void *)p, PAGE));
}

TEST(mprotect_middle_page_splits_mapping)
{
    unsigned char *p = map_anon(3 * PAGE, PROT_READ | PROT_WRITE);
    CHECK(p != MAP_FAILED);
    CHECK_OK(sys_mprotect(p + PAGE, PAGE, PROT_READ));
    CHECK_EQ(sys_getrandom(p, 8, 0), 8);
    CHECK_ERRNO(sys_getrandom(p + PAGE, 8, 0), EFAULT);
    CHECK_EQ(sys_getrandom(p + 2 * PAGE, 8, 0), 8);
    CHECK_OK(sys_munmap(p, 3 * PAGE));
}

TEST(large_mapping_is_committed_lazily)
{
    size_t len = 256UL << 20;
    unsigned char *p = map_anon(len, PROT_READ | PROT_WRITE);
    CHECK(p != MAP_FAILED);
    p[0] = 1;
    p[len / 2] = 2;
    p[len - 1] = 3;
    CHECK_EQ(p[0] + p[len / 2] + p[len - 1], 6);
    CHECK_EQ(p[len / 4], 0); /* untouched pages read as zero */
    CHECK_OK(sys_munmap(p, len));
}

/* ---- mmap / munmap / mprotect errors ---- */

TEST(mmap_zero_length_einval)
{
    CHECK_ERRNO(sys_mmap(NULL, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), EINVAL);
}

TEST(mmap_fixed_unaligned_einval)
{
    unsigned char *r = map_anon(2 * PAGE, PROT_NONE);
    CHECK(r != MAP_FAILED);
    CHECK_ERRNO(sys_mmap(r + 1, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0),
                EINVAL);
    CHECK_OK(sys_munmap(r, 2 * PAGE));
}

TEST(mmap_unaligned_offset_einval)
{
    CHECK_ERRNO(sys_mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 100), EINVAL);
}

TEST(mmap_without_private_or_shared_einval)
{
    CHECK_ERRNO(sys_mmap(NULL, PAGE, PROT_READ, MAP_ANONYMOUS, -1, 0), EINVAL);
}

TEST(mmap_bad_fd_without_anonymous_ebadf)
{
    CHECK_ERRNO(sys_mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, -1, 0), EBADF);
    CHECK_ERRNO(sys_mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, 99, 0), EBADF);
}

TEST(mmap_huge_length_enomem)
{
    CHECK_ERRNO(sys_mmap(NULL, (size_t)-PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
                ENOMEM);
}

TEST(mmap_shared_anonymous_huge_lengths_enomem)
{
    /* Longer than the address space, and (heuristic overcommit) longer than all of RAM. */
    int rw = PROT_READ | PROT_WRITE, shared = MAP_SHARED | MAP_ANONYMOUS;
    CHECK_ERRNO(sys_mmap(NULL, 0xffffffff805321a0UL, rw, shared, -1, 0), ENOMEM);
    CHECK_ERRNO(sys_mmap(NULL, (size_t)-PAGE, rw, shared, -1, 0), ENOMEM);
    CHECK_ERRNO(sys_mmap(NULL, 1UL << 46, rw, shared, -1, 0), ENOMEM);
    int z = open("/dev/zero", O_RDWR);
    CHECK(z >= 0);
    CHECK_ERRNO(sys_mmap(NULL, 1UL << 46, rw, MAP_SHARED, z, 0), ENOMEM);
    close(z);
}

TEST(mmap_fixed_in_kernel_half_enomem)
{
    CHECK_ERRNO(sys_mmap(KERNEL_ADDR, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
                         -1, 0),
                ENOMEM);
}

TEST(munmap_unaligned_einval)
{
    unsigned char *p = map_anon(2 * PAGE, PROT_READ);
    CHECK(p != MAP_FAILED);
    CHECK_ERRNO(sys_munmap(p + 1, PAGE), EINVAL);
    CHECK(page_is_mapped(p, PROT_READ)); /* nothing was unmapped */
    CHECK_OK(sys_munmap(p, 2 * PAGE));
}

TEST(munmap_zero_length_einval)
{
    unsigned char *p = map_anon(PAGE, PROT_READ);
    CHECK(p != MAP_FAILED);
    CHECK_ERRNO(sys_munmap(p, 0), EINVAL);
    CHECK_OK(sys_munmap(p, PAGE));
}

TEST(munmap_kernel_address_einval) { CHECK_ERRNO(sys_munmap(KERNEL_ADDR, PAGE), EINVAL); }

TEST(mprotect_unaligned_einval)
{
    unsigned char *p = map_anon(2 * PAGE, PROT_READ | PROT_WRITE);
    CHECK(p != MAP_FAILED);
    CHECK_ERRNO(sys_mprotect(p + 1, PAGE, PROT_READ), EINVAL);
    CHECK_EQ(sys_getrandom(p, 1, 0), 1); /* unchanged: still writable */
    CHECK_OK(sys_munmap(p, 2 * PAGE));
}

TEST(mprotect_unmapped_enomem)
{
    unsigned char *p = map_anon(PAGE, PROT_READ);
    CHECK(p != MAP_FAILED);
    CHECK_OK(sys_munmap(p, PAGE));
    CHECK_ERRNO(sys_mprotect(p, PAGE, PROT_READ), ENOMEM);
}

TEST(mprotect_unknown_prot_bit_einval)
{
    unsigned char *p = map_anon(PAGE, PROT_READ);
    CHECK(p != MAP_FAILED);
    CHECK_ERRNO(sys_mprotect(p, PAGE, PROT_READ | 0x10), EINVAL);
    CHECK_OK(sys_munmap(p, PAGE));
}

/* ---- EFAULT from bad user pointers ---- */

TEST(write_from_low_bad_pointer_efault) { CHECK_ERRNO(write(1, bad_ptr(1), 10), EFAULT); }

TEST(write_null_zero_length_returns_zero) { CHECK_EQ(write(1, NULL, 0), 0); }

TEST(read_into_kernel_address_efault) { CHECK_ERRNO(read(0, KERNEL_ADDR, 10), EFAULT); }

TEST(write_from_kernel_address_efault) { CHECK_ERRNO(write(1, KERNEL_ADDR, 10), EFAULT); }

TEST(write_from_prot_none_buffer_efault)
{
    void *p = map_anon(PAGE, PROT_NONE);
    CHECK(p != MAP_FAILED);
    CHECK_ERRNO(write(1, p, 10), EFAULT);
    CHECK_OK(sys_munmap(p, PAGE));
}

TEST(write_from_unmapped_buffer_efault)
{
    void *p = map_anon(PAGE, PROT_READ);
    CHECK(p != MAP_FAILED);
    CHECK_OK(sys_munmap(p, PAGE));
    CHECK_ERRNO(write(1, p, 10), EFAULT);
}

TEST(clock_gettime_bad_pointer_efault)
{
    CHECK_ERRNO(syscall(SYS_clock_gettime, CLOCK_MONOTONIC, bad_ptr(8)), EFAULT);
    CHECK_ERRNO(syscall(SYS_clock_gettime, CLOCK_REALTIME, KERNEL_ADDR), EFAULT);
}

TEST(uname_bad_pointer_efault) { CHECK_ERRNO(syscall(SYS_uname, bad_ptr(16)), EFAULT); }

TEST(writev_bad_iov_pointer_efault)
{
    CHECK_ERRNO(syscall(SYS_writev, 1, bad_ptr(8), 2), EFAULT);
    CHECK_ERRNO(syscall(SYS_writev, 1, KERNEL_ADDR, 1), EFAULT);
}

TEST(writev_bad_iov_base_efault)
{
    struct iovec iov[1] = {{bad_ptr(1), 10}};
    CHECK_ERRNO(writev(1, iov, 1), EFAULT);
}

TEST(readv_bad_iov_pointer_efault) { CHECK_ERRNO(syscall(SYS_readv, 0, bad_ptr(8), 1), EFAULT); }

TEST(getrandom_into_read_only_mapping_efault)
{
    void *p = map_anon(PAGE, PROT_READ);
    CHECK(p != MAP_FAILED);
    CHECK_ERRNO(sys_getrandom(p, 16, 0), EFAULT);
    CHECK_OK(sys_munmap(p, PAGE));
}

TEST(getrandom_into_kernel_address_efault)
{
    CHECK_ERRNO(sys_getrandom(KERNEL_ADDR, 16, 0), EFAULT);
}

/* ---- getrandom ---- */

TEST(getrandom_fills_buffer)
{
    unsigned char a[64], b[64];
    memset(a, 0, sizeof a);
    memset(b, 0, sizeof b);
    CHECK_EQ(sys_getrandom(a, sizeof a, 0), sizeof a);
    CHECK_EQ(sys_getrandom(b, sizeof b, 0), sizeof b);
    CHECK(memcmp(a, b, sizeof a) != 0);
    int nonzero = 0;
    for (size_t i = 0; i < sizeof a; i++)
        nonzero += a[i] != 0;
    CHECK(nonzero > 32); /* 64 random bytes: about 63.75 are non-zero */
}

TEST(getrandom_exact_length_only)
{
    unsigned char a[20];
    memset(a, 0xee, sizeof a);
    CHECK_EQ(sys_getrandom(a, 10, 0), 10);
    for (size_t i = 10; i < sizeof a; i++)
        CHECK_EQ(a[i], 0xee);
}

TEST(getrandom_zero_length_returns_zero)
{
    unsigned char a[1];
    CHECK_EQ(sys_getrandom(a, 0, 0), 0);
}

TEST(getrandom_nonblock_ok)
{
    unsigned char a[32];
    CHECK_EQ(sys_getrandom(a, sizeof a, 0x1 /* GRND_NONBLOCK */), sizeof a);
}

TEST(getrandom_bad_flags_einval)
{
    unsigned char a[8];
    CHECK_ERRNO(sys_getrandom(a, sizeof a, 0x40), EINVAL);
    CHECK_ERRNO(sys_getrandom(a, sizeof a, ~0u), EINVAL);
}

/* ---- mremap ---- */

static void *sys_mremap(void *old, size_t old_len, size_t new_len, int flags, void *new_addr)
{
    return (void *)syscall(SYS_mremap, old, old_len, new_len, flags, new_addr);
}

/* Four private writable pages with unmapped pages on both sides; page i holds i + 1. */
static unsigned char *guarded_four(void)
{
    unsigned char *g = map_anon(6 * PAGE, PROT_READ | PROT_WRITE);
    if (g == MAP_FAILED)
        return NULL;
    sys_munmap(g, PAGE);
    sys_munmap(g + 5 * PAGE, PAGE);
    for (int i = 0; i < 4; i++)
        g[PAGE + i * PAGE] = (unsigned char)(i + 1);
    return g + PAGE;
}

static int four_intact(unsigned char *m)
{
    for (int i = 0; i < 4; i++)
        if (m[i * PAGE] != i + 1)
            return 0;
    return 1;
}

TEST(mremap_fixed_onto_its_own_range_einval)
{
    /* A fuzzed move onto the source itself panicked POSIX-X: the destination's unmap removed
     * the source first. */
    int mv = MREMAP_MAYMOVE | MREMAP_FIXED;
    unsigned char *m = guarded_four();
    CHECK(m != NULL);
    CHECK_ERRNO(sys_mremap(m, PAGE, PAGE, mv, m), EINVAL);
    CHECK_ERRNO(sys_mremap(m, 2 * PAGE, 2 * PAGE, mv, m + PAGE), EINVAL);
    CHECK_ERRNO(sys_mremap(m + PAGE, 2 * PAGE, 2 * PAGE, mv, m), EINVAL);
    CHECK_ERRNO(sys_mremap(m, 3 * PAGE, PAGE, mv, m + 2 * PAGE), EINVAL);
    CHECK(four_intact(m));
    /* Adjacent but disjoint is fine. */
    unsigned char *n = sys_mremap(m, PAGE, PAGE, mv, m + 3 * PAGE);
    CHECK(n == m + 3 * PAGE);
    CHECK_EQ(n[0], 1);
    sys_munmap(m, 4 * PAGE);
}

TEST(mremap_huge_lengths_einval)
{
    unsigned char *m = guarded_four();
    CHECK(m != NULL);
    CHECK_ERRNO(sys_mremap(m, PAGE, (size_t)-1, MREMAP_MAYMOVE, NULL), EINVAL);
    CHECK_ERRNO(sys_mremap(m, PAGE, (size_t)-PAGE, MREMAP_MAYMOVE, NULL), EINVAL);
    CHECK_ERRNO(sys_mremap(m, PAGE, 1UL << 47, MREMAP_MAYMOVE, NULL), EINVAL);
    CHECK_ERRNO(sys_mremap(m + 3 * PAGE, PAGE, 1UL << 60, 0, NULL), EINVAL);
    CHECK_ERRNO(sys_mremap(m, 1UL << 62, PAGE, MREMAP_MAYMOVE, NULL), EINVAL);
    CHECK_ERRNO(sys_mremap(m, PAGE, 1UL << 46, MREMAP_MAYMOVE | MREMAP_FIXED, bad_ptr(1UL << 46)),
                EINVAL);
    CHECK(four_intact(m));
    sys_munmap(m, 4 * PAGE);
}

TEST(mremap_growth_beyond_ram_enomem)
{
    unsigned char *m = guarded_four();
    CHECK(m != NULL);
    CHECK_ERRNO(sys_mremap(m, PAGE, 1UL << 46, MREMAP_MAYMOVE, NULL), ENOMEM);
    CHECK_ERRNO(sys_mremap(m + 3 * PAGE, PAGE, 1UL << 46, 0, NULL), ENOMEM);
    CHECK(four_intact(m));
    sys_munmap(m, 4 * PAGE);
}

TEST(mremap_fixed_bad_destination_einval)
{
    int mv = MREMAP_MAYMOVE | MREMAP_FIXED;
    unsigned char *m = guarded_four();
    CHECK(m != NULL);
    CHECK_ERRNO(sys_mremap(m, PAGE, PAGE, mv, bad_ptr(0x100000001UL)), EINVAL);
    CHECK_ERRNO(sys_mremap(m, PAGE, PAGE, mv, KERNEL_ADDR), EINVAL);
    CHECK_ERRNO(sys_mremap(m, PAGE, 2 * PAGE, mv, bad_ptr(0x7ffffffff000UL)), EINVAL);
    CHECK(four_intact(m));
    sys_munmap(m, 4 * PAGE);
}

TEST(mremap_private_zero_old_len_einval)
{
    unsigned char *m = guarded_four();
    CHECK(m != NULL);
    CHECK_ERRNO(sys_mremap(m, 0, PAGE, MREMAP_MAYMOVE, NULL), EINVAL);
    CHECK(four_intact(m));
    sys_munmap(m, 4 * PAGE);
}

TEST(mremap_shared_zero_old_len_makes_a_second_mapping)
{
    unsigned char *m = sys_mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    CHECK(m != MAP_FAILED);
    m[PAGE] = 7;
    unsigned char *n = sys_mremap(m + PAGE, 0, PAGE, MREMAP_MAYMOVE, NULL);
    CHECK(n != MAP_FAILED);
    CHECK(n != m + PAGE);
    CHECK_EQ(n[0], 7);
    n[0] = 9;
    CHECK_EQ(m[PAGE], 9);
    sys_munmap(n, PAGE);
    sys_munmap(m, 2 * PAGE);
}

TEST(mremap_shrink_unmaps_past_the_mapping_grow_does_not)
{
    unsigned char *m = guarded_four();
    CHECK(m != NULL);
    /* The range runs one page past the mapping: shrinking just unmaps the tail ... */
    CHECK(sys_mremap(m + 3 * PAGE, 2 * PAGE, PAGE, 0, NULL) == m + 3 * PAGE);
    CHECK(four_intact(m));
    /* ... growing needs it all mapped. */
    CHECK_ERRNO(sys_mremap(m + 3 * PAGE, 2 * PAGE, 3 * PAGE, MREMAP_MAYMOVE, NULL), EFAULT);
    CHECK(four_intact(m));
    sys_munmap(m, 4 * PAGE);
}
