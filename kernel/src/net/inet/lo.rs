//! The loopback device: what `lo` transmits it receives, in order. smoltcp's own `Loopback`
//! hides its queue; this one shows it, so that the stack can look at the packets between two
//! polls (listen.rs gates the SYNs that reach a listener: it tops the listener's pool up, or
//! drops the SYN when the accept queue is full, as Linux does).

use alloc::collections::VecDeque;
use alloc::vec::Vec;

use smoltcp::phy::{self, ChecksumCapabilities, Device, DeviceCapabilities, Medium};
use smoltcp::time::Instant;

pub struct LoopDevice {
    /// IP packets sent and not yet received.
    pub queue: VecDeque<Vec<u8>>,
}

impl LoopDevice {
    pub const fn new() -> LoopDevice {
        LoopDevice { queue: VecDeque::new() }
    }
}

impl Device for LoopDevice {
    type RxToken<'a> = RxToken;
    type TxToken<'a> = TxToken<'a>;

    fn capabilities(&self) -> DeviceCapabilities {
        let mut caps = DeviceCapabilities::default();
        caps.max_transmission_unit = 65535;
        caps.medium = Medium::Ip;
        caps.checksum = ChecksumCapabilities::ignored();
        caps
    }

    fn receive(&mut self, _timestamp: Instant) -> Option<(RxToken, TxToken<'_>)> {
        let buffer = self.queue.pop_front()?;
        Some((RxToken(buffer), TxToken(&mut self.queue)))
    }

    fn transmit(&mut self, _timestamp: Instant) -> Option<TxToken<'_>> {
        Some(TxToken(&mut self.queue))
    }
}

pub struct RxToken(Vec<u8>);

impl phy::RxToken for RxToken {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        f(&self.0)
    }
}

pub struct TxToken<'a>(&'a mut VecDeque<Vec<u8>>);

impl phy::TxToken for TxToken<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        let mut buffer = alloc::vec![0u8; len];
        let r = f(&mut buffer);
        self.0.push_back(buffer);
        r
    }
}
