//! Readiness: `IoEvents`, and the one mechanism every pollable object uses to announce changes
//! (`Pollee`) and every waiter uses to sleep on many objects at once (`Poller`). poll, select and
//! epoll are its three users (docs/readiness.md).

mod pollee;

pub use pollee::{Observer, Pollee, Poller};

use bitflags::bitflags;

bitflags! {
    /// poll(2) event bits (the same values epoll uses).
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
    pub struct IoEvents: u32 {
        const IN = 0x001;
        const PRI = 0x002;
        const OUT = 0x004;
        const ERR = 0x008;
        const HUP = 0x010;
        const NVAL = 0x020;
        const RDNORM = 0x040;
        const RDBAND = 0x080;
        const WRNORM = 0x100;
        const WRBAND = 0x200;
        const MSG = 0x400;
        const RDHUP = 0x2000;
    }
}

impl IoEvents {
    /// Events reported whether asked for or not.
    pub const ALWAYS: IoEvents = IoEvents::ERR.union(IoEvents::HUP).union(IoEvents::NVAL);

    /// IN and OUT with their RDNORM/WRNORM twins, as Linux reports them.
    pub fn readable() -> IoEvents {
        IoEvents::IN | IoEvents::RDNORM
    }

    pub fn writable() -> IoEvents {
        IoEvents::OUT | IoEvents::WRNORM
    }
}
