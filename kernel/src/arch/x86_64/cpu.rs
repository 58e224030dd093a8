//! Single privileged instructions. Those that cannot break an invariant of the kernel whatever
//! their arguments (reading registers, the TSC, CPUID, invlpg) are safe functions; those that
//! can (port I/O, writing MSRs and control registers) are `unsafe`, and the rest of the kernel
//! reaches them only through narrow safe wrappers (`set_user_fs_base`, `enable_global_pages`,
//! `serial::Uart`, ...) that admit only harmless values.

use core::arch::asm;

pub const MSR_EFER: u32 = 0xC000_0080;
pub const MSR_STAR: u32 = 0xC000_0081;
pub const MSR_LSTAR: u32 = 0xC000_0082;
pub const MSR_SFMASK: u32 = 0xC000_0084;
pub const MSR_FS_BASE: u32 = 0xC000_0100;
pub const MSR_GS_BASE: u32 = 0xC000_0101;
pub const MSR_KERNEL_GS_BASE: u32 = 0xC000_0102;

/// # Safety
/// Port I/O drives devices (interrupt controllers, DMA, the QEMU exit port): the caller must own
/// `port` and know what writing `value` there does.
pub unsafe fn outb(port: u16, value: u8) {
    // SAFETY: per the contract.
    unsafe {
        asm!("out dx, al", in("dx") port, in("al") value, options(nomem, nostack, preserves_flags))
    }
}

/// # Safety
/// As for `outb`: reading a device register may change the device's state.
pub unsafe fn inb(port: u16) -> u8 {
    let value: u8;
    // SAFETY: per the contract.
    unsafe {
        asm!("in al, dx", out("al") value, in("dx") port, options(nomem, nostack, preserves_flags))
    }
    value
}

/// # Safety
/// As for `outb`.
pub unsafe fn outl(port: u16, value: u32) {
    // SAFETY: per the contract.
    unsafe {
        asm!("out dx, eax", in("dx") port, in("eax") value, options(nomem, nostack, preserves_flags))
    }
}

/// # Safety
/// As for `outb`.
pub unsafe fn inl(port: u16) -> u32 {
    let value: u32;
    // SAFETY: per the contract.
    unsafe {
        asm!("in eax, dx", out("eax") value, in("dx") port, options(nomem, nostack, preserves_flags))
    }
    value
}

pub fn rdmsr(msr: u32) -> u64 {
    let (lo, hi): (u32, u32);
    // SAFETY: reading an architectural MSR that exists on every x86-64 CPU.
    unsafe {
        asm!("rdmsr", in("ecx") msr, out("eax") lo, out("edx") hi, options(nomem, nostack, preserves_flags))
    }
    (hi as u64) << 32 | lo as u64
}

/// # Safety
/// `msr` must exist and `value` be valid for it; MSRs steer the CPU (the `syscall` entry point,
/// EFER, the kernel's GS base), so the caller must keep every invariant the kernel relies on.
pub unsafe fn wrmsr(msr: u32, value: u64) {
    // SAFETY: per the contract.
    unsafe {
        asm!("wrmsr", in("ecx") msr, in("eax") value as u32, in("edx") (value >> 32) as u32,
             options(nostack, preserves_flags))
    }
}

pub fn read_cr2() -> u64 {
    let v: u64;
    // SAFETY: reading CR2 has no side effects.
    unsafe { asm!("mov {}, cr2", out(reg) v, options(nomem, nostack, preserves_flags)) }
    v
}

pub fn read_cr3() -> u64 {
    let v: u64;
    // SAFETY: reading CR3 has no side effects.
    unsafe { asm!("mov {}, cr3", out(reg) v, options(nomem, nostack, preserves_flags)) }
    v
}

/// Switches to the page table rooted at `paddr`.
///
/// # Safety
/// The table must map the kernel (the top half) exactly as the current one does.
pub unsafe fn write_cr3(paddr: u64) {
    // SAFETY: the caller guarantees the kernel stays mapped.
    unsafe { asm!("mov cr3, {}", in(reg) paddr, options(nostack, preserves_flags)) }
}

pub fn read_cr4() -> u64 {
    let v: u64;
    // SAFETY: reading CR4 has no side effects.
    unsafe { asm!("mov {}, cr4", out(reg) v, options(nomem, nostack, preserves_flags)) }
    v
}

/// # Safety
/// Only feature-enable bits the CPU supports, and none that changes how the current page tables
/// or code are interpreted (PAE, LA57, SMEP, ...) behind the kernel's back.
pub unsafe fn write_cr4(v: u64) {
    // SAFETY: per the contract.
    unsafe { asm!("mov cr4, {}", in(reg) v, options(nostack, preserves_flags)) }
}

/// CR4.PGE: global pages (the kernel half stays in the TLB across CR3 loads).
pub fn enable_global_pages() {
    // SAFETY: PGE only changes which TLB entries survive a CR3 load; every CPU the kernel runs
    // on (x86-64) has it.
    unsafe { write_cr4(read_cr4() | (1 << 7)) }
}

/// Loads the user's FS base (the thread pointer of x86-64 TLS). A base at or above `USER_END`
/// is refused (false): user mode cannot use it, and a non-canonical one would fault `wrmsr`.
pub fn set_user_fs_base(base: u64) -> bool {
    if base >= super::USER_END {
        return false;
    }
    // SAFETY: FS is not used by the kernel; a canonical user address is valid for the MSR.
    unsafe { wrmsr(MSR_FS_BASE, base) };
    true
}

/// Loads the user's GS base (arch_prctl ARCH_SET_GS). Kernel code runs with the per-CPU base in
/// GS and the user's in KERNEL_GS_BASE (the entry's `swapgs` exchanges them), so this writes the
/// latter; it must not be called with the user's base active, which no Rust code ever is.
/// Refuses (false) a base at or above `USER_END`, as `set_user_fs_base` does.
pub fn set_user_gs_base(base: u64) -> bool {
    if base >= super::USER_END {
        return false;
    }
    // SAFETY: KERNEL_GS_BASE holds the user's base while in the kernel; the kernel's own per-CPU
    // base (GS_BASE) is untouched.
    unsafe { wrmsr(MSR_KERNEL_GS_BASE, base) };
    true
}

pub fn invlpg(vaddr: u64) {
    // SAFETY: invalidating a TLB entry is always safe.
    unsafe { asm!("invlpg [{}]", in(reg) vaddr, options(nostack, preserves_flags)) }
}

/// Flushes this CPU's non-global TLB entries (reloads CR3).
pub fn flush_tlb() {
    // SAFETY: reloading the active root keeps every mapping.
    unsafe { write_cr3(read_cr3()) }
}

pub fn rdtsc() -> u64 {
    let (lo, hi): (u32, u32);
    // SAFETY: rdtsc only reads the time-stamp counter.
    unsafe { asm!("rdtsc", out("eax") lo, out("edx") hi, options(nomem, nostack, preserves_flags)) }
    (hi as u64) << 32 | lo as u64
}

pub struct CpuidResult {
    pub eax: u32,
    pub ebx: u32,
    pub ecx: u32,
    pub edx: u32,
}

pub fn cpuid(leaf: u32, subleaf: u32) -> CpuidResult {
    // cpuid is available on every x86-64 CPU.
    let r = core::arch::x86_64::__cpuid_count(leaf, subleaf);
    CpuidResult { eax: r.eax, ebx: r.ebx, ecx: r.ecx, edx: r.edx }
}

/// Waits for the next interrupt with interrupts enabled, then disables them again.
/// Kernel code otherwise always runs with interrupts off (DESIGN.md §3).
pub fn idle_wait() {
    // SAFETY: `sti; hlt` is atomic with respect to interrupt delivery (sti's one-instruction
    // shadow); the handler runs on this stack, which holds no red zone (no-redzone kernel code).
    unsafe { asm!("sti", "hlt", "cli", options(nomem, nostack)) }
}

pub fn halt_forever() -> ! {
    loop {
        // SAFETY: stops the CPU with interrupts off.
        unsafe { asm!("cli", "hlt", options(nomem, nostack)) }
    }
}

/// Frame pointer of the caller, for backtraces.
pub fn frame_pointer() -> u64 {
    let v: u64;
    // SAFETY: reads a register.
    unsafe { asm!("mov {}, rbp", out(reg) v, options(nomem, nostack, preserves_flags)) }
    v
}

/// An address the kernel never maps: between the top of the direct map and the image at -2 GiB.
const NEVER_MAPPED: u64 = 0xffff_ffff_0000_0000;

/// Reads from an address that is never mapped, so the page-fault handler panics: only for
/// testing the kernel-fault path (panic message, backtrace, exit status).
pub fn deliberate_kernel_fault() -> ! {
    // SAFETY: nothing is ever mapped at NEVER_MAPPED, so the read faults and the handler panics
    // (a kernel-mode fault outside the user-copy routines); no memory is read.
    unsafe { (NEVER_MAPPED as *const u8).read_volatile() };
    unreachable!("read of a never-mapped address succeeded")
}
