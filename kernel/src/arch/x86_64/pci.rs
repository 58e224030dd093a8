//! PCI configuration space through the legacy mechanism #1 (ports 0xCF8/0xCFC), which QEMU's
//! `pc` machine (i440FX) offers; it is all the `drivers` module needs to find and set up a
//! virtio device. Reads have no side effect on the devices QEMU emulates; writes may change
//! a device's command register and capabilities, but never move a base address register: a
//! BAR moved over RAM would let the device overwrite kernel memory. The firmware assigned the
//! BARs before the kernel started; a BAR register takes only all ones (to size it) or the
//! address it held when first read (to restore it), anything else is dropped.

use virtio_drivers::transport::pci::bus::{ConfigurationAccess, DeviceFunction};

use super::cpu;

const CONFIG_ADDRESS: u16 = 0xcf8;
const CONFIG_DATA: u16 = 0xcfc;

/// (config address, value when first read) of the BAR registers seen so far.
static FIRMWARE_BARS: crate::sync::Mutex<[(u32, u32); 64]> = crate::sync::Mutex::new([(0, 0); 64]);

/// The value of BAR register `addr` as the firmware left it, recorded at its first read.
fn firmware_bar(addr: u32, read_now: Option<u32>) -> Option<u32> {
    let mut bars = FIRMWARE_BARS.lock();
    if let Some(&(_, v)) = bars.iter().find(|(a, _)| *a == addr) {
        return Some(v);
    }
    let value = read_now?;
    if let Some(slot) = bars.iter_mut().find(|(a, _)| *a == 0) {
        *slot = (addr, value);
    }
    Some(value)
}

/// The BARs (0x10..0x28) and the expansion ROM BAR (0x30) of a type-0 header.
fn is_bar(offset: u8) -> bool {
    (0x10..0x28).contains(&offset) || offset == 0x30
}

fn address(df: DeviceFunction, offset: u8) -> u32 {
    0x8000_0000
        | (df.bus as u32) << 16
        | ((df.device & 0x1f) as u32) << 11
        | ((df.function & 7) as u32) << 8
        | (offset & 0xfc) as u32
}

/// The configuration space of every PCI device, one 32-bit word at a time.
pub struct PortCam;

impl ConfigurationAccess for PortCam {
    fn read_word(&self, df: DeviceFunction, offset: u8) -> u32 {
        // SAFETY: the address/data port pair belongs to this module; selecting a register and
        // reading it has no side effect on memory. The kernel is uniprocessor and runs with
        // interrupts off, so nothing else uses the pair between the two accesses.
        let value = unsafe {
            cpu::outl(CONFIG_ADDRESS, address(df, offset));
            cpu::inl(CONFIG_DATA)
        };
        if is_bar(offset & 0xfc) {
            firmware_bar(address(df, offset), Some(value));
        }
        value
    }

    fn write_word(&mut self, df: DeviceFunction, offset: u8, data: u32) {
        if is_bar(offset & 0xfc)
            && data != u32::MAX
            && firmware_bar(address(df, offset), None) != Some(data)
        {
            return;
        }
        // SAFETY: as for `read_word`; a BAR takes only all ones or its firmware address
        // (above), so no device memory lands on RAM.
        unsafe {
            cpu::outl(CONFIG_ADDRESS, address(df, offset));
            cpu::outl(CONFIG_DATA, data);
        }
    }

    // SAFETY: `PortCam` has no state: every copy reaches the same ports, and each access
    // selects its register anew.
    unsafe fn unsafe_clone(&self) -> Self {
        PortCam
    }
}
