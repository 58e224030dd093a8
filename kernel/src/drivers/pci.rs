//! PCI bus 0 as the firmware left it (QEMU's `pc` machine puts every device there): finding a
//! device by its virtio type, reading its interrupt line, enabling it as a bus master.

use virtio_drivers::transport::pci::bus::{Command, ConfigurationAccess, DeviceFunction, PciRoot};
use virtio_drivers::transport::pci::{virtio_device_type, PciTransport};
use virtio_drivers::transport::DeviceType;

use crate::arch::pci::PortCam;
use crate::mm::virtio::{mmio_reachable, VirtioHal};

/// Register 0x3c: interrupt line (low byte), as routed by the firmware.
const INTERRUPT_LINE: u8 = 0x3c;

/// A virtio device ready for its driver.
pub struct VirtioPci {
    pub location: DeviceFunction,
    pub transport: PciTransport,
    /// The legacy IRQ (PIC input) of its INTx line.
    pub irq: u8,
}

/// The first virtio device of type `kind` on bus 0.
pub fn find_virtio(kind: DeviceType) -> Option<VirtioPci> {
    let mut root = PciRoot::new(PortCam);
    let found: alloc::vec::Vec<_> = root
        .enumerate_bus(0)
        .filter(|(_, info)| virtio_device_type(info) == Some(kind))
        .map(|(df, _)| df)
        .collect();
    for df in found {
        let bars = match root.bars(df) {
            Ok(b) => b,
            Err(e) => {
                crate::log!("pci {}: cannot read its BARs: {:?}", df, e);
                continue;
            }
        };
        let unreachable = bars
            .iter()
            .flatten()
            .filter_map(|b| b.memory_address_size())
            .find(|&(addr, size)| size > 0 && (addr == 0 || !mmio_reachable(addr, size)));
        if let Some((addr, _)) = unreachable {
            crate::log!("pci {}: BAR at {:#x} outside the PCI hole; device skipped", df, addr);
            continue;
        }
        root.set_command(df, Command::IO_SPACE | Command::MEMORY_SPACE | Command::BUS_MASTER);
        let irq = (PortCam.read_word(df, INTERRUPT_LINE) & 0xff) as u8;
        match PciTransport::new::<VirtioHal, PortCam>(&mut root, df) {
            Ok(transport) => return Some(VirtioPci { location: df, transport, irq }),
            Err(e) => crate::log!("pci {}: not a usable virtio device: {:?}", df, e),
        }
    }
    None
}
