//! Per-CPU data, reached through the GS base while in the kernel. The entry assembly uses the
//! fixed offsets of `kernel_rsp` and `user_rsp_scratch`.

use core::cell::UnsafeCell;

use super::cpu::{wrmsr, MSR_GS_BASE, MSR_KERNEL_GS_BASE};

#[repr(C)]
struct PerCpu {
    self_ptr: u64,
    /// Top of the current thread's kernel stack (offset 8).
    kernel_rsp: u64,
    /// The user's rsp during `syscall` entry (offset 16).
    user_rsp_scratch: u64,
}

struct Cell(UnsafeCell<PerCpu>);
// SAFETY: one CPU; fields are written with interrupts off.
unsafe impl Sync for Cell {}

static CPU0: Cell = Cell(UnsafeCell::new(PerCpu { self_ptr: 0, kernel_rsp: 0, user_rsp_scratch: 0 }));

pub fn init() {
    let p = CPU0.0.get();
    // SAFETY: boot, interrupts off.
    unsafe { (*p).self_ptr = p as u64 };
    wrmsr(MSR_GS_BASE, p as u64);
    wrmsr(MSR_KERNEL_GS_BASE, 0);
}

/// Where `syscall` and interrupts from user mode put their frame.
pub fn set_kernel_stack(top: u64) {
    // SAFETY: a plain store, interrupts off.
    unsafe { (*CPU0.0.get()).kernel_rsp = top };
    super::gdt::set_kernel_stack(top);
}
