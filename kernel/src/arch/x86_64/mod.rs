//! Everything that knows it runs on x86-64. Nothing here knows about processes or files.

pub mod acpi;
pub mod apic;
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
pub mod smp;
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

/// The boot CPU's GS block, tables and entry points, the ACPI tables, then the clocks and the
/// timer. Interrupts stay off. (The other CPUs start later: `smp::start_aps`, after `mm`.)
pub fn init(boot: &boot::BootInfo) {
    percpu::init_cpu(0);
    gdt::init(0);
    trap::init();
    acpi::init(boot.rsdp());
    syscall::init();
    time::init();
    pic::init();
    percpu::mark_online();
}
