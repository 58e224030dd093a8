//! The memory routines the compiler emits calls to (there is no libc).

use core::arch::asm;

/// # Safety
/// `dst` and `src` are valid for `n` bytes and do not overlap.
#[no_mangle]
pub unsafe extern "C" fn memcpy(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    // SAFETY: the caller (compiler-generated code) passes valid, non-overlapping ranges.
    // Quadwords first, then the tail (faster under emulation than byte moves).
    unsafe {
        asm!(
            "rep movsq",
            "mov rcx, {tail}",
            "rep movsb",
            tail = in(reg) n & 7,
            inout("rcx") n >> 3 => _,
            inout("rdi") dst => _,
            inout("rsi") src => _,
            options(nostack, preserves_flags)
        );
    }
    dst
}

/// # Safety
/// `dst` and `src` are valid for `n` bytes (they may overlap).
#[no_mangle]
pub unsafe extern "C" fn memmove(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    if (dst as usize) <= (src as usize) || (dst as usize) >= (src as usize + n) {
        // SAFETY: a forward copy is correct when dst does not start inside src.
        return unsafe { memcpy(dst, src, n) };
    }
    // SAFETY: copy backwards with the direction flag set, restoring it after.
    unsafe {
        asm!(
            "std",
            "rep movsb",
            "cld",
            inout("rcx") n => _,
            inout("rdi") dst.add(n - 1) => _,
            inout("rsi") src.add(n - 1) => _,
            options(nostack)
        );
    }
    dst
}

/// # Safety
/// `dst` is valid for writes of `n` bytes.
#[no_mangle]
pub unsafe extern "C" fn memset(dst: *mut u8, c: i32, n: usize) -> *mut u8 {
    let pattern = (c as u8 as u64) * 0x0101_0101_0101_0101;
    // SAFETY: the caller passes a valid range.
    unsafe {
        asm!(
            "rep stosq",
            "mov rcx, {tail}",
            "rep stosb",
            tail = in(reg) n & 7,
            inout("rcx") n >> 3 => _,
            inout("rdi") dst => _,
            in("rax") pattern,
            options(nostack, preserves_flags)
        );
    }
    dst
}

/// # Safety
/// `a` and `b` are valid for reads of `n` bytes.
#[no_mangle]
pub unsafe extern "C" fn memcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    for i in 0..n {
        // SAFETY: the caller passes two valid ranges of n bytes.
        let (x, y) = unsafe { (*a.add(i), *b.add(i)) };
        if x != y {
            return x as i32 - y as i32;
        }
    }
    0
}

/// # Safety
/// As `memcmp`.
#[no_mangle]
pub unsafe extern "C" fn bcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    // SAFETY: same contract as memcmp.
    unsafe { memcmp(a, b, n) }
}

/// The precompiled `alloc` was built with unwinding; with panic=abort these are never called.
#[no_mangle]
extern "C" fn rust_eh_personality() {}

#[no_mangle]
extern "C" fn _Unwind_Resume() -> ! {
    super::cpu::halt_forever()
}

/// Return addresses along the frame-pointer chain starting at `rbp`, which must lie in a stack
/// that is certainly there: the running context's, the boot stack or an interrupt stack (the
/// panic handler's own chain, or the one an NMI interrupted). The walk reads nothing outside
/// that stack; a sleeping thread's stack is walked by its `KernelContext::backtrace`.
pub fn backtrace(rbp: u64, visit: impl FnMut(u64)) {
    let ist = super::gdt::ist_stacks();
    let stacks = [super::context::running_stack(), Some(super::boot::boot_stack_bounds())];
    let found = stacks.into_iter().flatten().chain(ist).find(|&(lo, hi)| rbp >= lo && rbp < hi);
    if let Some((lo, hi)) = found {
        super::context::walk(lo, hi, rbp, visit);
    }
}
