//! The local APIC of each CPU (xAPIC, through its MMIO page in the direct map, which `mm::init`
//! maps uncached with the rest of the 32-bit PCI hole): starting the other CPUs (INIT, STARTUP)
//! and inter-processor interrupts.

use core::sync::atomic::{AtomicU32, Ordering};

use super::cpu::rdmsr;
use super::percpu::MAX_CPUS;

const MSR_APIC_BASE: u32 = 0x1b;

const REG_ID: u64 = 0x20;
const REG_TPR: u64 = 0x80;
const REG_EOI: u64 = 0xb0;
const REG_SVR: u64 = 0xf0;
const REG_ESR: u64 = 0x280;
const REG_ICR_LOW: u64 = 0x300;
const REG_ICR_HIGH: u64 = 0x310;

/// The spurious-interrupt vector (its handler does nothing, not even EOI).
pub const VEC_SPURIOUS: u8 = 0xff;
/// Vectors of the inter-processor interrupts.
pub const VEC_RESCHEDULE: u8 = 0xfd;
pub const VEC_TLB_SHOOTDOWN: u8 = 0xfc;

const ICR_PENDING: u32 = 1 << 12;
const ICR_LEVEL_ASSERT: u32 = 1 << 14;
const ICR_INIT: u32 = 5 << 8;
const ICR_STARTUP: u32 = 6 << 8;
const ICR_NMI: u32 = 4 << 8;

/// Local APIC ID of each CPU by index (filled in as CPUs are brought up).
static APIC_IDS: [AtomicU32; MAX_CPUS] = [const { AtomicU32::new(u32::MAX) }; MAX_CPUS];

/// An inter-processor interrupt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ipi {
    /// The target should look at its run queue (the scheduler installs the handler).
    Reschedule,
    /// The target should service its TLB shootdown mailbox (`smp::poll_ipis`).
    TlbShootdown,
    /// A non-maskable interrupt: the target runs the NMI handler (the diagnosis dump) whatever
    /// it is doing.
    Nmi,
}

fn base() -> u64 {
    super::PHYS_OFFSET + (rdmsr(MSR_APIC_BASE) & 0x000f_ffff_f000)
}

fn read(reg: u64) -> u32 {
    // SAFETY: a register of this CPU's local APIC page, mapped uncached in the direct map
    // (after `mm::init`, before which nothing here runs); reading has no side effect on the
    // registers read here.
    unsafe { ((base() + reg) as *const u32).read_volatile() }
}

/// # Safety
/// The write must keep the kernel's invariants: the registers drive interrupt delivery and the
/// start of other CPUs.
unsafe fn write(reg: u64, value: u32) {
    // SAFETY: per the contract; the page is mapped as for `read`.
    unsafe { ((base() + reg) as *mut u32).write_volatile(value) }
}

/// This CPU's local APIC ID.
pub fn id() -> u32 {
    read(REG_ID) >> 24
}

/// Enables this CPU's local APIC (spurious vector, accept every priority) and records its ID as
/// CPU `cpu`'s. The boot CPU keeps the firmware's LINT0 (the 8259 as ExtINT) and LINT1 (NMI).
pub(super) fn init_local(cpu: usize) {
    APIC_IDS[cpu].store(id(), Ordering::Release);
    // SAFETY: software-enables the APIC with the spurious vector (whose IDT gate exists) and
    // lets every interrupt priority through; clears stale errors.
    unsafe {
        write(REG_SVR, 0x100 | VEC_SPURIOUS as u32);
        write(REG_TPR, 0);
        write(REG_ESR, 0);
        write(REG_ESR, 0);
    }
}

/// Acknowledges the interrupt being handled (not for NMIs or the spurious vector).
pub fn eoi() {
    // SAFETY: writing 0 to EOI only ends the in-service interrupt.
    unsafe { write(REG_EOI, 0) }
}

/// Sends `icr_low` to the CPU whose local APIC ID is `apic_id`, and waits until the APIC has
/// sent it.
fn send_raw(apic_id: u32, icr_low: u32) {
    // SAFETY: the caller chooses a harmless message (a fixed vector the IDT handles, NMI, or
    // the start sequence of a CPU the kernel is bringing up). Interrupts are off, so nothing
    // else uses this CPU's ICR between the two writes.
    unsafe {
        write(REG_ICR_HIGH, apic_id << 24);
        write(REG_ICR_LOW, icr_low);
    }
    while read(REG_ICR_LOW) & ICR_PENDING != 0 {
        core::hint::spin_loop();
    }
}

/// INIT, then STARTUP at physical `page * 4096`, to the CPU `apic_id` (`smp::start_aps`).
pub(super) fn send_init(apic_id: u32) {
    send_raw(apic_id, ICR_INIT | ICR_LEVEL_ASSERT);
}

pub(super) fn send_startup(apic_id: u32, page: u8) {
    send_raw(apic_id, ICR_STARTUP | ICR_LEVEL_ASSERT | page as u32);
}

/// Sends `ipi` to CPU `cpu` (an index below `percpu::online_cpus()`; others are ignored).
pub fn send_ipi(cpu: usize, ipi: Ipi) {
    let Some(apic_id) = APIC_IDS.get(cpu).map(|a| a.load(Ordering::Acquire)) else { return };
    if apic_id == u32::MAX {
        return;
    }
    let icr = match ipi {
        Ipi::Reschedule => VEC_RESCHEDULE as u32,
        Ipi::TlbShootdown => VEC_TLB_SHOOTDOWN as u32,
        Ipi::Nmi => ICR_NMI | ICR_LEVEL_ASSERT,
    };
    send_raw(apic_id, icr);
}
