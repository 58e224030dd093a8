//! Per-CPU data, reached through the GS base while in the kernel. Every CPU has one `PerCpu`
//! block; its GS base points at it from the moment the CPU is set up (`init_cpu`), and the
//! entry assembly swaps it with the user's GS base (`swapgs`) on every entry from and exit to
//! user mode. The entry assembly uses the fixed offsets of `kernel_rsp` and `user_rsp_scratch`.

use core::cell::UnsafeCell;
use core::marker::PhantomData;
use core::ops::Deref;
use core::sync::atomic::{AtomicUsize, Ordering};

use super::cpu::{wrmsr, MSR_GS_BASE, MSR_KERNEL_GS_BASE};

/// The most CPUs the kernel brings up (the others the firmware lists stay off).
pub const MAX_CPUS: usize = 16;
const _: () = assert!(MAX_CPUS <= crate::sync::MAX_CPUS);

#[repr(C)]
struct PerCpu {
    self_ptr: u64,
    /// Top of the current thread's kernel stack (offset 8).
    kernel_rsp: u64,
    /// The user's rsp during `syscall` entry (offset 16).
    user_rsp_scratch: u64,
    /// This CPU's index, 0 for the boot CPU (offset 24).
    cpu_id: u64,
    /// Live `CpuRef`s on this CPU (offset 32): must be 0 at a context switch.
    borrows: u64,
}

const CPU_ID_OFFSET: usize = 24;
const BORROWS_OFFSET: usize = 32;

struct Block(UnsafeCell<PerCpu>);
// SAFETY: each block is written only by its own CPU (through GS, or by `init_cpu` before the
// CPU runs anything else), with interrupts off.
unsafe impl Sync for Block {}

#[allow(clippy::declare_interior_mutable_const)]
const EMPTY: Block = Block(UnsafeCell::new(PerCpu {
    self_ptr: 0,
    kernel_rsp: 0,
    user_rsp_scratch: 0,
    cpu_id: 0,
    borrows: 0,
}));
static BLOCKS: [Block; MAX_CPUS] = [EMPTY; MAX_CPUS];

/// CPUs that have finished their setup (the boot CPU counts from `init_cpu(0)`).
static ONLINE: AtomicUsize = AtomicUsize::new(0);

/// Points this CPU's GS base at block `id`. Called once per CPU, first thing after boot (the
/// boot CPU in `arch::init`, each AP in its entry), before any `cpu_id` or `CpuLocal` access.
pub(super) fn init_cpu(id: usize) {
    assert!(id < MAX_CPUS);
    let p = BLOCKS[id].0.get();
    // SAFETY: block `id` belongs to this CPU, which has not used it yet; interrupts are off.
    unsafe {
        (*p).self_ptr = p as u64;
        (*p).cpu_id = id as u64;
    }
    // SAFETY: the kernel's GS base becomes this CPU's block, which lives forever; the user's
    // (swapped in on the way out) starts at 0.
    unsafe {
        wrmsr(MSR_GS_BASE, p as u64);
        wrmsr(MSR_KERNEL_GS_BASE, 0);
    }
}

/// Counts this CPU as online (after its tables, GS block and local APIC are set up).
pub(super) fn mark_online() {
    ONLINE.fetch_add(1, Ordering::AcqRel);
}

/// This CPU's index (0 = the boot CPU), read from its GS block.
#[inline]
pub fn cpu_id() -> usize {
    let id: u64;
    // SAFETY: kernel code always runs with this CPU's block in GS (`init_cpu`; the entries swap
    // the user's base out before any Rust code runs); reading a word of it has no side effect.
    unsafe {
        core::arch::asm!("mov {}, gs:[{}]", out(reg) id, const CPU_ID_OFFSET,
            options(nostack, preserves_flags, readonly))
    };
    id as usize
}

/// How many CPUs are up.
pub fn online_cpus() -> usize {
    ONLINE.load(Ordering::Acquire).max(1)
}

/// Where `syscall` and interrupts from user mode put their frame (`context` sets it to the
/// top of the running context's stack).
pub(super) fn set_kernel_stack(top: u64) {
    // SAFETY: a plain store into this CPU's block, interrupts off.
    unsafe { (*BLOCKS[cpu_id()].0.get()).kernel_rsp = top };
    super::gdt::set_kernel_stack(top);
}

/// Adds `delta` to this CPU's count of live `CpuRef`s. A single `add` on the GS block: an NMI
/// between its read and write of the word restores what it changed before it returns.
#[inline]
fn add_borrows(delta: i64) {
    // SAFETY: this CPU's own block; the instruction touches only the counter word.
    unsafe {
        core::arch::asm!("add gs:[{}], {}", const BORROWS_OFFSET, in(reg) delta,
            options(nostack))
    };
}

/// The number of `CpuRef`s alive on this CPU.
pub fn cpu_local_borrows() -> usize {
    let n: u64;
    // SAFETY: reads a word of this CPU's block.
    unsafe {
        core::arch::asm!("mov {}, gs:[{}]", out(reg) n, const BORROWS_OFFSET,
            options(nostack, preserves_flags, readonly))
    };
    n as usize
}

/// One value per CPU, for state that belongs to "whatever runs on this CPU now", such as the
/// scheduler's current thread. Put a `core::cell::Cell` or `RefCell` in it: reading it needs no
/// lock and no atomic instruction.
///
/// `get` hands out a `CpuRef` to this CPU's value. The rule that makes this sound: a `CpuRef`
/// never lives across a context switch, since the thread may resume on another CPU and would
/// then touch the first CPU's value while that CPU uses it. The rule is checked: each CPU counts
/// its live `CpuRef`s, and `context::switch_to` panics if the count is not zero. A `CpuRef` is
/// neither `Send` nor `Sync`, so it cannot reach another thread any other way.
pub struct CpuLocal<T>([T; MAX_CPUS]);

// SAFETY: CPU n's value is touched only by code running on CPU n (see the type's comment: a
// reference to it never survives a switch, so never a migration). On one CPU, kernel code runs
// with interrupts off except in `cpu::idle_wait` (`sti; hlt; cli`), where the interrupted code
// is in no Rust code at all; so each value is used by one flow of execution at a time, and a
// `RefCell` inside catches a borrow held where it must not be (a panic, never a data race).
// NMIs may run at any instruction: their handlers only read `Cell`s or `try_borrow`.
// `T: Send` because the value is used by whichever thread runs on that CPU.
unsafe impl<T: Send> Sync for CpuLocal<T> {}

impl<T> CpuLocal<T> {
    /// One value per CPU, e.g. `CpuLocal::new([const { Cell::new(0) }; MAX_CPUS])`.
    pub const fn new(values: [T; MAX_CPUS]) -> Self {
        CpuLocal(values)
    }

    /// This CPU's value. The `CpuRef` must be dropped before any context switch.
    pub fn get(&self) -> CpuRef<'_, T> {
        add_borrows(1);
        CpuRef { value: &self.0[cpu_id()], _not_send: PhantomData }
    }

    /// Runs `f` on this CPU's value (`f` must not switch threads).
    pub fn with<R>(&self, f: impl FnOnce(&T) -> R) -> R {
        f(&self.get())
    }

    /// CPU `cpu`'s value, for values that are themselves safe to share (atomics).
    pub fn of(&self, cpu: usize) -> &T
    where
        T: Sync,
    {
        &self.0[cpu]
    }
}

/// A borrow of this CPU's value of a `CpuLocal` (see there). Not `Send`: it stays on the thread,
/// and the thread stays on this CPU while it lives.
pub struct CpuRef<'a, T> {
    value: &'a T,
    _not_send: PhantomData<*const ()>,
}

impl<T> Deref for CpuRef<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.value
    }
}

impl<T> Drop for CpuRef<'_, T> {
    fn drop(&mut self) {
        add_borrows(-1);
    }
}
