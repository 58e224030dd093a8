//! TCP and UDP over IPv4 and IPv6 on a loopback interface, with smoltcp as the protocol engine.

mod addr;
mod common;
pub mod iface;
mod ifioctl;
mod listen;
mod lo;
mod ports;
mod sockopt;
pub mod stack;
mod tcp;
mod udp;

use alloc::sync::Arc;

use crate::error::{Errno, Result};
use crate::fs::file::FileLike;
use crate::fs::socket::{SOCK_DGRAM, SOCK_STREAM};

const IPPROTO_TCP: i32 = 6;
const IPPROTO_UDP: i32 = 17;
/// Linux's IPPROTO_MAX (since IPPROTO_MPTCP, 262).
const IPPROTO_MAX: i32 = 263;

/// socket(AF_INET or AF_INET6, type, protocol).
pub fn create(family: i32, sock_type: i32, protocol: i32) -> Result<Arc<dyn FileLike>> {
    if !(0..IPPROTO_MAX).contains(&protocol) {
        return Err(Errno::EINVAL);
    }
    match (sock_type, protocol) {
        (SOCK_STREAM, 0 | IPPROTO_TCP) => Ok(tcp::TcpSocket::new(family)),
        (SOCK_DGRAM, 0 | IPPROTO_UDP) => Ok(udp::UdpSocket::new(family)),
        (SOCK_STREAM | SOCK_DGRAM, _) => Err(Errno::EPROTONOSUPPORT),
        _ => Err(Errno::ESOCKTNOSUPPORT),
    }
}

pub use stack::{init, on_irq, on_tick};

/// The counters of link `index` (zero for `lo`, whose packets are not counted).
pub fn link_stats(index: u32) -> crate::drivers::net::Stats {
    if index != iface::ETH0_INDEX {
        return crate::drivers::net::Stats::default();
    }
    stack::peek(|s| s.eth0.as_ref().map(|e| e.device.stats)).unwrap_or_default()
}

/// The metadata every socket file shows (sockfs).
pub fn socket_metadata(ino: u64) -> crate::fs::inode::Metadata {
    common::metadata(ino)
}

pub use ifioctl::{iface_ioctl, is_iface_ioctl};
