//! The ACPI tables the kernel needs: the MADT (the CPUs' local APIC IDs, the I/O APIC, the ISA
//! interrupt overrides). Read once at boot, through the boot page tables (physical 0..1 GiB,
//! where QEMU puts the tables), before `mm` replaces them.

use spin::Once;

use super::boot::read_phys;
use super::percpu::MAX_CPUS;

/// An ISA IRQ the firmware wired to another global system interrupt (MADT type 2).
#[derive(Clone, Copy, Debug)]
pub struct IrqOverride {
    pub irq: u8,
    pub gsi: u32,
    /// MPS INTI flags: polarity in bits 0-1 (3 = active low), trigger mode in 2-3 (3 = level).
    pub flags: u16,
}

/// What the MADT says.
#[derive(Debug)]
pub struct Madt {
    /// Local APIC IDs of the usable CPUs, in table order (the boot CPU among them).
    apic_ids: [u32; MAX_CPUS],
    cpu_count: usize,
    /// CPUs the table lists beyond `MAX_CPUS` (left off).
    pub cpus_left_off: usize,
    /// The first I/O APIC: (physical address, first GSI).
    pub ioapic: Option<(u64, u32)>,
    overrides: [IrqOverride; 16],
    override_count: usize,
}

impl Madt {
    pub fn apic_ids(&self) -> &[u32] {
        &self.apic_ids[..self.cpu_count]
    }

    pub fn overrides(&self) -> &[IrqOverride] {
        &self.overrides[..self.override_count]
    }
}

static MADT: Once<Madt> = Once::new();

/// The MADT, if the firmware has one (None on a machine without ACPI: one CPU, no I/O APIC).
pub fn madt() -> Option<&'static Madt> {
    MADT.get()
}

/// Reads the physical bytes `pa..pa + N`.
fn bytes<const N: usize>(pa: u64) -> [u8; N] {
    // SAFETY: callers read only ACPI tables, which lie below 1 GiB (mapped by the boot tables,
    // still active: `init` runs before `mm::init`), and any bytes are a valid `[u8; N]`.
    unsafe { read_phys::<[u8; N]>(pa) }
}

fn u8_at(pa: u64) -> u8 {
    bytes::<1>(pa)[0]
}

fn u16_at(pa: u64) -> u16 {
    u16::from_le_bytes(bytes(pa))
}

fn u32_at(pa: u64) -> u32 {
    u32::from_le_bytes(bytes(pa))
}

fn u64_at(pa: u64) -> u64 {
    u64::from_le_bytes(bytes(pa))
}

/// Whether `pa..pa + len` lies where the boot tables map it.
fn readable(pa: u64, len: u64) -> bool {
    pa != 0 && pa.checked_add(len).is_some_and(|end| end <= 1 << 30)
}

fn checksum_ok(pa: u64, len: u64) -> bool {
    readable(pa, len) && (0..len).fold(0u8, |s, i| s.wrapping_add(u8_at(pa + i))) == 0
}

/// The RSDP in the BIOS area (0xe0000-0xfffff), when the loader passed none.
fn scan_for_rsdp() -> u64 {
    (0xe_0000u64..0x10_0000)
        .step_by(16)
        .find(|&pa| &bytes::<8>(pa) == b"RSD PTR " && checksum_ok(pa, 20))
        .unwrap_or(0)
}

/// Finds the MADT from the RSDP at `rsdp` (0: search for it) and records what it says.
/// Called once on the boot CPU, before `mm::init`.
pub(super) fn init(rsdp: u64) {
    let rsdp = if rsdp != 0 { rsdp } else { scan_for_rsdp() };
    if !readable(rsdp, 36) || &bytes::<8>(rsdp) != b"RSD PTR " || !checksum_ok(rsdp, 20) {
        return;
    }
    // ACPI 2+: the XSDT (64-bit entries) if there is one, else the RSDT (32-bit entries).
    let xsdt = if u8_at(rsdp + 15) >= 2 { u64_at(rsdp + 24) } else { 0 };
    let (root, entry_size) = if xsdt != 0 { (xsdt, 8) } else { (u32_at(rsdp + 16) as u64, 4) };
    if !readable(root, 36) {
        return;
    }
    let root_len = u32_at(root + 4) as u64;
    if root_len < 36 || !checksum_ok(root, root_len) {
        return;
    }
    let madt = (0..(root_len - 36) / entry_size)
        .map(|i| {
            let e = root + 36 + i * entry_size;
            if entry_size == 8 {
                u64_at(e)
            } else {
                u32_at(e) as u64
            }
        })
        .find(|&t| readable(t, 36) && &bytes::<4>(t) == b"APIC");
    if let Some(table) = madt {
        if let Some(m) = parse_madt(table) {
            MADT.call_once(|| m);
        }
    }
}

fn parse_madt(table: u64) -> Option<Madt> {
    let len = u32_at(table + 4) as u64;
    if len < 44 || !checksum_ok(table, len) {
        return None;
    }
    let mut m = Madt {
        apic_ids: [0; MAX_CPUS],
        cpu_count: 0,
        cpus_left_off: 0,
        ioapic: None,
        overrides: [IrqOverride { irq: 0, gsi: 0, flags: 0 }; 16],
        override_count: 0,
    };
    let add_cpu = |m: &mut Madt, id: u32, flags: u32| {
        // Bit 0: enabled; bit 1: can be enabled later (hot-plug), which the kernel does not do.
        if flags & 1 == 0 {
            return;
        }
        if m.cpu_count < MAX_CPUS {
            m.apic_ids[m.cpu_count] = id;
            m.cpu_count += 1;
        } else {
            m.cpus_left_off += 1;
        }
    };
    let mut at = table + 44;
    while at + 2 <= table + len {
        let (kind, entry_len) = (u8_at(at), u8_at(at + 1) as u64);
        if entry_len < 2 || at + entry_len > table + len {
            break;
        }
        match (kind, entry_len) {
            (0, 8..) => add_cpu(&mut m, u8_at(at + 3) as u32, u32_at(at + 4)),
            (1, 12..) if m.ioapic.is_none() => {
                m.ioapic = Some((u32_at(at + 4) as u64, u32_at(at + 8)));
            }
            (2, 10..) if m.override_count < m.overrides.len() => {
                m.overrides[m.override_count] =
                    IrqOverride { irq: u8_at(at + 3), gsi: u32_at(at + 4), flags: u16_at(at + 8) };
                m.override_count += 1;
            }
            (9, 16..) => add_cpu(&mut m, u32_at(at + 4), u32_at(at + 8)),
            _ => {}
        }
        at += entry_len;
    }
    Some(m)
}
