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

static CPU0: Cell =
    Cell(UnsafeCell::new(PerCpu { self_ptr: 0, kernel_rsp: 0, user_rsp_scratch: 0 }));

pub fn init() {
    let p = CPU0.0.get();
    // SAFETY: boot, interrupts off.
    unsafe { (*p).self_ptr = p as u64 };
    // SAFETY: the kernel's GS base becomes this CPU's block, which lives forever; the user's
    // (swapped in on the way out) starts at 0.
    unsafe {
        wrmsr(MSR_GS_BASE, p as u64);
        wrmsr(MSR_KERNEL_GS_BASE, 0);
    }
}

/// CPUs the kernel supports (per-CPU tables are this long).
pub const MAX_CPUS: usize = 16;
const _: () = assert!(MAX_CPUS <= crate::sync::MAX_CPUS);

/// This CPU's number (0 is the boot CPU).
pub fn cpu_id() -> usize {
    0
}

/// CPUs started (the boot CPU and every AP that came up).
pub fn online_cpus() -> usize {
    1
}

/// Where `syscall` and interrupts from user mode put their frame (`context` sets it to the
/// top of the running context's stack).
pub(super) fn set_kernel_stack(top: u64) {
    // SAFETY: a plain store, interrupts off.
    unsafe { (*CPU0.0.get()).kernel_rsp = top };
    super::gdt::set_kernel_stack(top);
}

/// A value owned by this (the only) CPU, for state that belongs to "whatever runs now", such as
/// the scheduler's current thread. Put a `core::cell::Cell` or `RefCell` in it: reading it needs
/// no lock and no atomic instruction.
pub struct CpuLocal<T>(T);

// SAFETY: there is one CPU, and kernel code runs with interrupts off except in `cpu::idle_wait`
// (`sti; hlt; cli`), where the interrupted code is in no Rust code at all. So the value is only
// ever touched by one flow of execution at a time: kernel threads take turns on the CPU like
// coroutines of one OS thread, and a `RefCell` inside still catches a borrow held across a
// switch (a panic, never a data race). Exceptions raised by kernel code (user-copy page faults)
// are synchronous, like calls. `T: Send` because the value is used by whichever thread runs.
unsafe impl<T: Send> Sync for CpuLocal<T> {}

impl<T> CpuLocal<T> {
    pub const fn new(value: T) -> Self {
        CpuLocal(value)
    }

    pub fn get(&self) -> &T {
        &self.0
    }
}
