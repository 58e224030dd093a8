//! Everything that knows it runs on x86-64. Nothing here knows about processes or files.

pub mod boot;
pub mod context;
pub mod cpu;
pub mod debugcon;
pub mod gdt;
pub mod mem;
pub mod pci;
pub mod percpu;
pub mod pic;
pub mod power;
pub mod serial;
pub mod syscall;
pub mod time;
pub mod trap;
pub mod usercopy;

/// Start of the direct map of all physical memory.
pub const PHYS_OFFSET: u64 = 0xffff_8000_0000_0000;
/// Where the kernel image is linked (physical address + KERNEL_BASE).
pub const KERNEL_BASE: u64 = 0xffff_ffff_8000_0000;
/// First address above user space.
pub const USER_END: u64 = 0x0000_8000_0000_0000;

/// CPU tables and entry points, then the clocks and the timer. Interrupts stay off.
pub fn init() {
    gdt::init();
    trap::init();
    percpu::init();
    syscall::init();
    time::init();
    pic::init();
}

/// One turn of a spin loop waiting for another CPU: services this CPU's pending IPI requests
/// (none before the APs run).
pub fn smp_relax() {}
