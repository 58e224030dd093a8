//! The DMA boundary of the virtio drivers: the `virtio-drivers` crate's `Hal` (memory the device
//! reads and writes, its physical addresses, the device's registers) and a safe owner of a
//! virtio-net device's buffers, so that the driver above (`drivers::virtio_net`) needs no
//! `unsafe`.
//!
//! DMA memory comes from the kernel heap, which is one physically contiguous piece of the direct
//! map (mm/heap.rs): an allocation's physical address is its virtual address less PHYS_OFFSET.
//! A buffer lent to the device is owned here (boxed, so it never moves) from the moment it is
//! queued until the device hands it back; nothing reads or frees it in between.

use alloc::alloc::{alloc_zeroed, dealloc, Layout};
use alloc::boxed::Box;
use alloc::vec::Vec;
use core::ptr::NonNull;

use virtio_drivers::device::net::VirtIONetRaw;
use virtio_drivers::transport::pci::PciTransport;
use virtio_drivers::{BufferDirection, Hal, PhysAddr};

use crate::arch::{KERNEL_BASE, PHYS_OFFSET};

/// The physical range mapped uncached for device registers (the 32-bit PCI hole, mm::init).
pub const MMIO_WINDOW: (u64, u64) = (0xc000_0000, 0x1_0000_0000);

const PAGE: usize = 4096;

/// Whether the memory BAR [addr, addr + size) lies in [`MMIO_WINDOW`], where `Hal` can reach it.
pub fn mmio_reachable(addr: u64, size: u64) -> bool {
    addr >= MMIO_WINDOW.0 && addr.checked_add(size).is_some_and(|end| end <= MMIO_WINDOW.1)
}

fn virt_to_phys(va: usize) -> PhysAddr {
    let va = va as u64;
    if va >= KERNEL_BASE {
        va - KERNEL_BASE
    } else if va >= PHYS_OFFSET {
        va - PHYS_OFFSET
    } else {
        panic!("virtio: buffer {va:#x} outside the direct map")
    }
}

pub struct VirtioHal;

// SAFETY: `dma_alloc` returns zeroed, page-aligned heap memory that nothing else uses until
// `dma_dealloc` (the heap hands each block out once) and whose physical address is exact (the
// heap is contiguous in the direct map); `mmio_phys_to_virt` returns the uncached direct-map
// address of a range inside MMIO_WINDOW; `share` gives the exact physical address of a buffer in
// the heap, the direct map or the kernel image, all physically contiguous.
unsafe impl Hal for VirtioHal {
    fn dma_alloc(pages: usize, _direction: BufferDirection) -> (PhysAddr, NonNull<u8>) {
        let Ok(layout) = Layout::from_size_align(pages * PAGE, PAGE) else {
            return (0, NonNull::dangling());
        };
        // SAFETY: the layout has a non-zero size (virtio never asks for zero pages).
        let p = unsafe { alloc_zeroed(layout) };
        match NonNull::new(p) {
            Some(p) => (virt_to_phys(p.as_ptr() as usize), p),
            // A zero physical address is the crate's "out of memory".
            None => (0, NonNull::dangling()),
        }
    }

    unsafe fn dma_dealloc(_paddr: PhysAddr, vaddr: NonNull<u8>, pages: usize) -> i32 {
        let layout = Layout::from_size_align(pages * PAGE, PAGE).expect("layout of dma_alloc");
        // SAFETY: per the trait's contract, `vaddr` came from `dma_alloc(pages)`, which used
        // this layout, and is freed once.
        unsafe { dealloc(vaddr.as_ptr(), layout) };
        0
    }

    unsafe fn mmio_phys_to_virt(paddr: PhysAddr, size: usize) -> NonNull<u8> {
        assert!(mmio_reachable(paddr, size as u64), "virtio: BAR {paddr:#x} outside the PCI hole");
        NonNull::new((PHYS_OFFSET + paddr) as *mut u8).expect("direct map address")
    }

    unsafe fn share(buffer: NonNull<[u8]>, _direction: BufferDirection) -> PhysAddr {
        virt_to_phys(buffer.as_ptr() as *mut u8 as usize)
    }

    unsafe fn unshare(_paddr: PhysAddr, _buffer: NonNull<[u8]>, _direction: BufferDirection) {}
}

/// Descriptors per virtqueue (a power of two no larger than QEMU's 256).
pub const QUEUE_SIZE: usize = 64;
/// Bytes per buffer: a virtio-net header (12) and an Ethernet frame of up to 1514 bytes.
pub const BUFFER_SIZE: usize = 2048;

/// What `VirtioNet::new` could not do.
#[derive(Debug)]
pub struct InitError(pub virtio_drivers::Error);

/// A virtio-net device with every buffer it may touch: the receive buffers posted in its
/// receive queue and the frames in flight in its transmit queue.
pub struct VirtioNet {
    raw: VirtIONetRaw<VirtioHal, PciTransport, QUEUE_SIZE>,
    /// Posted receive buffers, by the token the queue gave them.
    rx: Vec<Option<Box<[u8]>>>,
    /// Frames the device is sending (buffer, length), by token.
    tx: Vec<Option<(Box<[u8]>, usize)>>,
    /// Transmit buffers not in use.
    tx_free: Vec<Box<[u8]>>,
}

impl VirtioNet {
    /// Starts the device and fills its receive queue.
    pub fn new(transport: PciTransport) -> Result<VirtioNet, InitError> {
        let raw = VirtIONetRaw::new(transport).map_err(InitError)?;
        let mut dev = VirtioNet {
            raw,
            rx: (0..QUEUE_SIZE).map(|_| None).collect(),
            tx: (0..QUEUE_SIZE).map(|_| None).collect(),
            tx_free: (0..QUEUE_SIZE).map(|_| buffer()).collect(),
        };
        for _ in 0..QUEUE_SIZE {
            dev.post_rx(buffer());
        }
        Ok(dev)
    }

    pub fn mac(&self) -> [u8; 6] {
        self.raw.mac_address()
    }

    /// Acknowledges the device's interrupt (lowering its INTx line); whether it had raised one.
    pub fn ack_interrupt(&mut self) -> bool {
        !self.raw.ack_interrupt().is_empty()
    }

    /// Whether a received frame waits.
    pub fn rx_pending(&self) -> bool {
        self.raw.poll_receive().is_some()
    }

    /// Lends `buf` to the receive queue.
    fn post_rx(&mut self, mut buf: Box<[u8]>) {
        // SAFETY: `buf` is heap memory that is moved into `self.rx` under its token right away
        // and not touched until `receive_complete` hands it back (a Box's contents never move).
        match unsafe { self.raw.receive_begin(&mut buf) } {
            Ok(token) => match self.rx.get_mut(token as usize) {
                Some(slot @ None) => *slot = Some(buf),
                // The queue gave a token it already gave: the device may write the buffer at
                // any time, so it must never be freed.
                _ => {
                    Box::leak(buf);
                }
            },
            // Refused before it was queued (queue full): it is ours again.
            Err(_) => drop(buf),
        }
    }

    /// The next received frame, given to `f`; `None` if the device has none. The buffer goes
    /// back to the device afterwards.
    pub fn receive<R>(&mut self, f: impl FnOnce(&[u8]) -> R) -> Option<R> {
        let token = self.raw.poll_receive()?;
        let Some(mut buf) = self.rx.get_mut(token as usize).and_then(Option::take) else {
            // A token we never posted: a confused device. Nothing to hand back.
            return None;
        };
        // SAFETY: `buf` is the buffer posted under `token` (taken from its slot), untouched since.
        match unsafe { self.raw.receive_complete(token, &mut buf) } {
            Ok((header, len)) if header + len <= buf.len() => {
                let r = f(&buf[header..header + len]);
                self.post_rx(buf);
                Some(r)
            }
            Ok(_) => {
                // A length beyond the buffer: drop the frame, reuse the buffer.
                self.post_rx(buf);
                None
            }
            Err(_) => {
                // The queue did not give it back: the device may still write it.
                Box::leak(buf);
                None
            }
        }
    }

    /// Takes back the buffers of frames the device has sent.
    pub fn reclaim_tx(&mut self) {
        while let Some(token) = self.raw.poll_transmit() {
            let Some((buf, len)) = self.tx.get_mut(token as usize).and_then(Option::take) else {
                return;
            };
            // SAFETY: `buf[..len]` is the slice given to `transmit_begin` for `token`.
            match unsafe { self.raw.transmit_complete(token, &buf[..len]) } {
                Ok(_) => self.tx_free.push(buf),
                Err(_) => {
                    Box::leak(buf);
                    return;
                }
            }
        }
    }

    /// Whether a frame can be handed to the device now.
    pub fn can_transmit(&mut self) -> bool {
        self.reclaim_tx();
        !self.tx_free.is_empty() && self.raw.can_send()
    }

    /// The largest frame `transmit` takes.
    pub const MAX_FRAME: usize = BUFFER_SIZE - 12;

    /// Sends a frame of `len` bytes that `f` writes. False (and `f` not called) if the transmit
    /// queue is full or the frame too long.
    pub fn transmit(&mut self, len: usize, f: impl FnOnce(&mut [u8])) -> bool {
        self.reclaim_tx();
        let Some(mut buf) = self.tx_free.pop() else { return false };
        let header = match self.raw.fill_buffer_header(&mut buf) {
            Ok(h) if h + len <= buf.len() => h,
            _ => {
                self.tx_free.push(buf);
                return false;
            }
        };
        f(&mut buf[header..header + len]);
        let total = header + len;
        // SAFETY: `buf` is moved into `self.tx` under its token right away and not touched until
        // `transmit_complete` hands it back.
        match unsafe { self.raw.transmit_begin(&buf[..total]) } {
            Ok(token) => match self.tx.get_mut(token as usize) {
                Some(slot @ None) => {
                    *slot = Some((buf, total));
                    true
                }
                _ => {
                    Box::leak(buf);
                    true
                }
            },
            Err(_) => {
                self.tx_free.push(buf);
                false
            }
        }
    }
}

fn buffer() -> Box<[u8]> {
    alloc::vec![0u8; BUFFER_SIZE].into_boxed_slice()
}
