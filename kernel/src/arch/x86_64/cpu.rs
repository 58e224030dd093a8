//! Thin safe wrappers over single privileged instructions.

use core::arch::asm;

pub const MSR_EFER: u32 = 0xC000_0080;
pub const MSR_STAR: u32 = 0xC000_0081;
pub const MSR_LSTAR: u32 = 0xC000_0082;
pub const MSR_SFMASK: u32 = 0xC000_0084;
pub const MSR_FS_BASE: u32 = 0xC000_0100;
pub const MSR_GS_BASE: u32 = 0xC000_0101;
pub const MSR_KERNEL_GS_BASE: u32 = 0xC000_0102;

pub fn outb(port: u16, value: u8) {
    // SAFETY: port I/O has no memory effects; the ports we use belong to the kernel.
    unsafe {
        asm!("out dx, al", in("dx") port, in("al") value, options(nomem, nostack, preserves_flags))
    }
}

pub fn inb(port: u16) -> u8 {
    let value: u8;
    // SAFETY: as for `outb`.
    unsafe {
        asm!("in al, dx", out("al") value, in("dx") port, options(nomem, nostack, preserves_flags))
    }
    value
}

pub fn outl(port: u16, value: u32) {
    // SAFETY: as for `outb`.
    unsafe {
        asm!("out dx, eax", in("dx") port, in("eax") value, options(nomem, nostack, preserves_flags))
    }
}

pub fn rdmsr(msr: u32) -> u64 {
    let (lo, hi): (u32, u32);
    // SAFETY: reading an architectural MSR that exists on every x86-64 CPU.
    unsafe {
        asm!("rdmsr", in("ecx") msr, out("eax") lo, out("edx") hi, options(nomem, nostack, preserves_flags))
    }
    (hi as u64) << 32 | lo as u64
}

pub fn wrmsr(msr: u32, value: u64) {
    // SAFETY: callers pass architectural MSRs with values valid for them (segment bases, syscall setup).
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

pub fn write_cr4(v: u64) {
    // SAFETY: callers only set feature-enable bits the CPU reported via CPUID.
    unsafe { asm!("mov cr4, {}", in(reg) v, options(nostack, preserves_flags)) }
}

pub fn invlpg(vaddr: u64) {
    // SAFETY: invalidating a TLB entry is always safe.
    unsafe { asm!("invlpg [{}]", in(reg) vaddr, options(nostack, preserves_flags)) }
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

/// Reads one byte at `addr`, whatever is there: only for testing the kernel-fault path.
pub fn touch(addr: u64) -> u8 {
    // SAFETY: deliberately faults when `addr` is unmapped; the fault handler panics.
    unsafe { (addr as *const u8).read_volatile() }
}
