//! Device drivers: PCI enumeration and the virtio-net card behind `eth0`. Everything that needs
//! `unsafe` (port I/O for PCI configuration space, DMA memory and device registers) is below, in
//! `arch::pci` and `mm::virtio`; this layer decides what to do with the devices it finds. The
//! network stack (`net`) owns the device once it has been found and calls into it.

pub mod net;
pub mod pci;

/// Finds the devices the kernel drives. Without a network card (`cargo xtask run` without
/// `--net`) nothing is found and nothing changes.
pub fn probe() {
    net::probe();
}
