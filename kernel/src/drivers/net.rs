//! The virtio-net card as smoltcp sees it: an Ethernet `phy::Device` with counters for the
//! interface statistics, and a short software queue in front of the device's transmit queue so
//! that smoltcp is never told the device is busy (the stack polls `eth0` before `lo`, and a busy
//! `eth0` would let the loopback's poll take the packets of `eth0`'s sockets, see
//! net/inet/stack.rs).

use alloc::collections::VecDeque;
use alloc::vec::Vec;

use smoltcp::phy::{self, DeviceCapabilities, Medium};
use smoltcp::time::Instant;
use spin::Once;

use crate::mm::virtio::VirtioNet;
use crate::sync::Mutex;

/// Frames waiting for room in the device's transmit queue; more are dropped (and counted), as
/// a full qdisc drops them, and TCP sends them again.
const SOFT_QUEUE: usize = 256;

/// Interface counters, as /proc/net/dev and IFLA_STATS64 report them.
#[derive(Clone, Copy, Default, Debug)]
pub struct Stats {
    pub rx_packets: u64,
    pub rx_bytes: u64,
    pub rx_dropped: u64,
    pub tx_packets: u64,
    pub tx_bytes: u64,
    pub tx_dropped: u64,
}

/// The Ethernet card behind `eth0`.
pub struct EthDevice {
    dev: VirtioNet,
    irq: u8,
    mac: [u8; 6],
    queue: VecDeque<Vec<u8>>,
    pub stats: Stats,
    /// Whether frames go out at all (`ip link set eth0 down` stops them).
    pub up: bool,
    /// The IP MTU (`ip link set eth0 mtu N`, at most 1500).
    pub mtu: usize,
}

static FOUND: Once<Mutex<Option<EthDevice>>> = Once::new();

/// Looks for a virtio-net card on the PCI bus and starts it.
pub fn probe() {
    let Some(pci) = super::pci::find_virtio(virtio_drivers::transport::DeviceType::Network) else {
        return;
    };
    match VirtioNet::new(pci.transport) {
        Ok(dev) => {
            let mac = dev.mac();
            crate::log!(
                "eth0: virtio-net at pci {}, irq {}, mac {:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
                pci.location,
                pci.irq,
                mac[0],
                mac[1],
                mac[2],
                mac[3],
                mac[4],
                mac[5]
            );
            let eth = EthDevice {
                dev,
                irq: pci.irq,
                mac,
                queue: VecDeque::new(),
                stats: Stats::default(),
                up: true,
                mtu: 1500,
            };
            FOUND.call_once(|| Mutex::new(Some(eth)));
        }
        Err(e) => crate::log!("eth0: virtio-net at pci {} failed to start: {:?}", pci.location, e),
    }
}

/// The card found at boot, handed over once (to the network stack).
pub fn take() -> Option<EthDevice> {
    FOUND.get()?.lock().take()
}

impl EthDevice {
    pub fn mac(&self) -> [u8; 6] {
        self.mac
    }

    pub fn irq(&self) -> u8 {
        self.irq
    }

    /// Lets the card's interrupt through (once its owner is ready to take it).
    pub fn enable_irq(&self) {
        crate::arch::pic::unmask(self.irq);
    }

    /// Acknowledges the card's interrupt, lowering its line; whether it was the card's.
    pub fn ack_interrupt(&mut self) -> bool {
        self.dev.ack_interrupt()
    }

    /// Moves queued frames into the device as room appears. Returns whether frames still wait.
    pub fn flush(&mut self) -> bool {
        while !self.queue.is_empty() {
            if !self.dev.can_transmit() {
                return true;
            }
            let frame = self.queue.pop_front().expect("front exists");
            self.send_now(&frame);
        }
        false
    }

    /// Whether a frame has arrived or queued frames wait for the device (the timer tick asks,
    /// so a frame whose interrupt was not raised waits a tick at most).
    pub fn has_work(&mut self) -> bool {
        !self.queue.is_empty() || self.dev.rx_pending()
    }

    fn send_now(&mut self, frame: &[u8]) {
        if self.dev.transmit(frame.len(), |buf| buf.copy_from_slice(frame)) {
            self.stats.tx_packets += 1;
            self.stats.tx_bytes += frame.len() as u64;
        } else {
            self.stats.tx_dropped += 1;
        }
    }

    fn send(&mut self, frame: Vec<u8>) {
        if !self.up || frame.len() > VirtioNet::MAX_FRAME {
            self.stats.tx_dropped += 1;
            return;
        }
        if self.queue.is_empty() && self.dev.can_transmit() {
            self.send_now(&frame);
        } else if self.queue.len() < SOFT_QUEUE {
            self.queue.push_back(frame);
        } else {
            self.stats.tx_dropped += 1;
        }
    }
}

pub struct RxToken(Vec<u8>);
pub struct TxToken<'a>(&'a mut EthDevice);

impl phy::Device for EthDevice {
    type RxToken<'a> = RxToken;
    type TxToken<'a> = TxToken<'a>;

    fn receive(&mut self, _now: Instant) -> Option<(RxToken, TxToken<'_>)> {
        loop {
            let frame = self.dev.receive(|f| f.to_vec())?;
            if !self.up {
                self.stats.rx_dropped += 1;
                continue;
            }
            self.stats.rx_packets += 1;
            self.stats.rx_bytes += frame.len() as u64;
            return Some((RxToken(frame), TxToken(self)));
        }
    }

    fn transmit(&mut self, _now: Instant) -> Option<TxToken<'_>> {
        Some(TxToken(self))
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let mut caps = DeviceCapabilities::default();
        caps.medium = Medium::Ethernet;
        caps.max_transmission_unit = self.mtu.min(1500) + 14;
        caps
    }
}

impl phy::RxToken for RxToken {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        f(&self.0)
    }
}

impl phy::TxToken for TxToken<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        let mut frame = alloc::vec![0u8; len];
        let r = f(&mut frame);
        self.0.send(frame);
        r
    }
}
