//! Fault-tolerant copies between kernel and user memory. A page fault inside these routines is
//! first offered to the memory manager (demand paging, copy-on-write); if it cannot be resolved
//! the exception table sends execution to the routine's exit, which reports the bytes not copied.

use core::arch::global_asm;

global_asm!(
    r#"
    .section .text
    /* Eight bytes at a time, then the tail: emulators run `rep movsq` eight times faster
       than `rep movsb`. A fault in the first loop leaves rcx quadwords plus the tail. */
    .global usercopy_copy
usercopy_copy:
    movq %rdx, %rcx
    shrq $3, %rcx
1:  rep movsq
    movq %rdx, %rcx
    andq $7, %rcx
2:  rep movsb
3:  movq %rcx, %rax
    ret
4:  shlq $3, %rcx
    andq $7, %rdx
    addq %rdx, %rcx
    movq %rcx, %rax
    ret

    .global usercopy_fill
usercopy_fill:
    movzbq %sil, %rax
    movabsq $0x0101010101010101, %r8
    imulq %r8, %rax
    movq %rdx, %rcx
    shrq $3, %rcx
5:  rep stosq
    movq %rdx, %rcx
    andq $7, %rcx
6:  rep stosb
7:  movq %rcx, %rax
    ret
8:  shlq $3, %rcx
    andq $7, %rdx
    addq %rdx, %rcx
    movq %rcx, %rax
    ret

    .section .extable, "a"
    .quad 1b, 4b
    .quad 2b, 3b
    .quad 5b, 8b
    .quad 6b, 7b
    .section .text
    "#,
    options(att_syntax)
);

extern "C" {
    fn usercopy_copy(dst: *mut u8, src: *const u8, len: usize) -> usize;
    fn usercopy_fill(dst: *mut u8, byte: u32, len: usize) -> usize;
    static __extable_start: [u64; 0];
    static __extable_end: [u64; 0];
}

/// Copies `len` bytes; returns how many were NOT copied (0 on success).
///
/// # Safety
/// One side must be valid kernel memory of `len` bytes; the other a user range the caller has
/// checked to lie entirely below the user-space limit.
pub unsafe fn copy(dst: *mut u8, src: *const u8, len: usize) -> usize {
    // SAFETY: per the contract; faults on the user side are caught by the exception table.
    unsafe { usercopy_copy(dst, src, len) }
}

/// Fills `len` user bytes with `byte`; returns how many were NOT written.
///
/// # Safety
/// `dst..dst+len` must be a checked user range.
pub unsafe fn fill(dst: *mut u8, byte: u8, len: usize) -> usize {
    // SAFETY: per the contract.
    unsafe { usercopy_fill(dst, byte as u32, len) }
}

/// If `rip` is a user-copy instruction, the address to resume at to give up.
pub fn fixup_for(rip: u64) -> Option<u64> {
    // SAFETY: the linker script places the (fault, fixup) pairs between these symbols.
    let table = unsafe {
        let start = __extable_start.as_ptr();
        let len = (__extable_end.as_ptr() as usize - start as usize) / 8;
        core::slice::from_raw_parts(start, len)
    };
    table.chunks_exact(2).find(|e| e[0] == rip).map(|e| e[1])
}
