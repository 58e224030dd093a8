//! GDT and TSS. Selector order is fixed by `syscall`/`sysret` (STAR): kernel code, kernel data,
//! then (32-bit user code, unused), user data, user code.

use core::arch::asm;
use core::cell::UnsafeCell;
use core::mem::size_of;

use super::percpu::{cpu_id, MAX_CPUS};

pub const KERNEL_CS: u16 = 0x08;
pub const KERNEL_DS: u16 = 0x10;
pub const USER_DS: u16 = 0x20 | 3;
pub const USER_CS: u16 = 0x28 | 3;
const TSS_SEL: u16 = 0x30;

#[repr(C, packed(4))]
struct Tss {
    _reserved0: u32,
    rsp: [u64; 3],
    _reserved1: u64,
    ist: [u64; 7],
    _reserved2: u64,
    _reserved3: u16,
    iomap_base: u16,
}

#[repr(C, align(16))]
struct CpuTables {
    gdt: [u64; 8],
    tss: Tss,
    double_fault_stack: [u8; 16384],
    /// NMIs switch to their own stack (IST 2): one may arrive in any kernel code, whose red
    /// zone an interrupt on the same stack would overwrite.
    nmi_stack: [u8; 16384],
}

struct Tables(UnsafeCell<CpuTables>);
// SAFETY: each CPU writes only its own tables: at its setup (`init`), and its TSS's rsp0 on
// context switch, both with interrupts off.
unsafe impl Sync for Tables {}

/// The descriptors every CPU's GDT starts with; `init` adds the CPU's own TSS descriptor.
const GDT_TEMPLATE: [u64; 8] = [
    0,
    0x00af9a000000ffff, // kernel code
    0x00cf92000000ffff, // kernel data
    0x00cffa000000ffff, // user code 32 (placeholder for STAR)
    0x00cff2000000ffff, // user data
    0x00affa000000ffff, // user code 64
    0,
    0, // TSS descriptor (two slots), filled in by `init`
];

/// All zero, so the tables of every possible CPU live in .bss: `init` fills in a CPU's own.
#[allow(clippy::declare_interior_mutable_const)]
const EMPTY: Tables = Tables(UnsafeCell::new(CpuTables {
    gdt: [0; 8],
    tss: Tss {
        _reserved0: 0,
        rsp: [0; 3],
        _reserved1: 0,
        ist: [0; 7],
        _reserved2: 0,
        _reserved3: 0,
        iomap_base: 0,
    },
    double_fault_stack: [0; 16384],
    nmi_stack: [0; 16384],
}));
static TABLES: [Tables; MAX_CPUS] = [EMPTY; MAX_CPUS];

#[repr(C, packed)]
struct DescriptorPointer {
    limit: u16,
    base: u64,
}

/// Builds and loads CPU `cpu`'s GDT and TSS (its own double-fault and NMI stacks). Called
/// once by each CPU for itself, with interrupts off.
pub fn init(cpu: usize) {
    let t = TABLES[cpu].0.get();
    // SAFETY: this CPU's tables, which nobody else touches, and nothing uses until `lgdt`.
    unsafe {
        (*t).gdt = GDT_TEMPLATE;
        (*t).tss.iomap_base = size_of::<Tss>() as u16;
        let df_top = (*t).double_fault_stack.as_ptr() as u64 + 16384;
        (*t).tss.ist[0] = df_top;
        (*t).tss.ist[1] = (*t).nmi_stack.as_ptr() as u64 + 16384;
        let base = &raw const (*t).tss as u64;
        let limit = (size_of::<Tss>() - 1) as u64;
        (*t).gdt[6] = (limit & 0xffff)
            | (base & 0xff_ffff) << 16
            | 0x89 << 40
            | ((limit >> 16) & 0xf) << 48
            | ((base >> 24) & 0xff) << 56;
        (*t).gdt[7] = base >> 32;
        let ptr = DescriptorPointer { limit: (8 * 8 - 1) as u16, base: (*t).gdt.as_ptr() as u64 };
        asm!(
            "lgdt [{ptr}]",
            "push {cs}",
            "lea {tmp}, [rip + 2f]",
            "push {tmp}",
            "retfq",
            "2:",
            "mov ds, {ds:x}",
            "mov es, {ds:x}",
            "mov ss, {ds:x}",
            "ltr {tss:x}",
            ptr = in(reg) &ptr,
            cs = const KERNEL_CS as u64,
            tmp = out(reg) _,
            ds = in(reg) KERNEL_DS as u64,
            tss = in(reg) TSS_SEL as u64,
        );
    }
}

/// The stack the CPU switches to on an interrupt or exception from user mode.
pub(super) fn set_kernel_stack(top: u64) {
    let t = TABLES[cpu_id()].0.get();
    // SAFETY: a single aligned-enough store into this CPU's TSS, interrupts off.
    unsafe { (&raw mut (*t).tss.rsp[0]).write_unaligned(top) }
}

/// The bounds of this CPU's double-fault and NMI stacks (static, so always there to be read).
pub(super) fn ist_stacks() -> [(u64, u64); 2] {
    let t = TABLES[cpu_id()].0.get();
    // SAFETY: only computes the addresses of two fields of the static tables.
    let (df, nmi) = unsafe {
        ((&raw const (*t).double_fault_stack) as u64, (&raw const (*t).nmi_stack) as u64)
    };
    [(df, df + 16384), (nmi, nmi + 16384)]
}
