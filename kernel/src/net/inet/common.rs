//! What TCP and UDP sockets share: waiting on the stack, errors of interrupted waits, the
//! socket-file metadata, and the loopback-only routing rule.

use smoltcp::wire::{IpAddress, Ipv4Address, Ipv6Address};

use super::stack;
use crate::error::Result;
use crate::fs::inode::{Metadata, S_IFSOCK};

static SOCKFS_DEV: spin::Once<u64> = spin::Once::new();

pub fn metadata(ino: u64) -> Metadata {
    let dev = *SOCKFS_DEV.call_once(crate::fs::mount::new_anonymous_dev);
    Metadata { dev, ino, mode: S_IFSOCK | 0o777, nlink: 1, blksize: 4096, ..Metadata::default() }
}

/// Sleeps on the socket's `events` until `cond` (which only peeks at the stack) holds.
pub fn wait<T>(
    events: &stack::SocketEvents,
    mut cond: impl FnMut() -> Option<T>,
    timeout_ns: u64,
) -> Result<T> {
    let deadline = crate::net::options::SocketOptions::deadline(timeout_ns);
    events
        .pollee
        .wait_events(crate::event::IoEvents::all(), deadline, &mut cond)
        .map_err(|e| crate::net::options::SocketOptions::wait_errno(e, timeout_ns))
}

/// The loopback addresses are reachable, all of 127.0.0.0/8 (the stack takes packets for any
/// address, `Interface::set_any_ip`) and ::1, and what eth0 reaches.
pub fn reachable(a: IpAddress) -> bool {
    match a {
        IpAddress::Ipv4(v4) if v4.octets()[0] == 127 => true,
        IpAddress::Ipv6(v6) if v6 == Ipv6Address::LOCALHOST => true,
        // eth0's addresses and what its routes reach (iface.rs).
        _ => super::iface::reachable(a),
    }
}

/// Where "any address" goes when connecting or sending (Linux: the local host).
pub fn or_loopback(a: Option<IpAddress>, family: i32) -> IpAddress {
    a.unwrap_or(if family == crate::fs::socket::AF_INET6 {
        IpAddress::Ipv6(Ipv6Address::LOCALHOST)
    } else {
        IpAddress::Ipv4(Ipv4Address::new(127, 0, 0, 1))
    })
}

/// The address smoltcp listens on for a socket's address: the wildcard listens on every
/// address (all of 127.0.0.0/8; an IPv6 socket dual-stack, as Linux's); an AF_INET socket
/// then refuses the IPv6 connections it gets (`TcpSocket::take_established`).
pub fn listen_addr(a: Option<IpAddress>, _family: i32) -> Option<IpAddress> {
    a
}

/// The source address of packets to `dest` (eth0's address when they leave through eth0, the
/// destination itself when it is one of ours, else the loopback's address).
pub fn source_for(dest: IpAddress) -> IpAddress {
    if let Some(src) = super::iface::eth0_source_for(dest) {
        return src;
    }
    if super::iface::is_local(dest) && !super::iface::is_loopback(dest) {
        return dest;
    }
    match dest {
        IpAddress::Ipv4(_) => IpAddress::Ipv4(Ipv4Address::new(127, 0, 0, 1)),
        IpAddress::Ipv6(_) => IpAddress::Ipv6(Ipv6Address::LOCALHOST),
    }
}

/// Is `a` one of our addresses (bind may only name those, or any)?
pub fn local(a: IpAddress) -> bool {
    match a {
        // All of 127.0.0.0/8 is the loopback's, as on Linux.
        IpAddress::Ipv4(v4) if v4.octets()[0] == 127 => true,
        _ => super::iface::is_local(a),
    }
}

static NEXT_INO: core::sync::atomic::AtomicU64 = core::sync::atomic::AtomicU64::new(1 << 32);

pub fn next_ino() -> u64 {
    NEXT_INO.fetch_add(1, core::sync::atomic::Ordering::Relaxed)
}

/// May a packet from a socket bound to `local` go to `dest`? smoltcp panics on a source and a
/// destination of different IP versions, so every path checks first, with Linux's errors: an
/// IPv6 address bound, an IPv4 destination: ENETUNREACH; an IPv4(-mapped) address bound, an
/// IPv6 destination: EAFNOSUPPORT.
pub fn versions_match(local: Option<IpAddress>, dest: IpAddress) -> Result<()> {
    match (local, dest) {
        (Some(IpAddress::Ipv6(_)), IpAddress::Ipv4(_)) => Err(crate::error::Errno::ENETUNREACH),
        (Some(IpAddress::Ipv4(_)), IpAddress::Ipv6(_)) => Err(crate::error::Errno::EAFNOSUPPORT),
        _ => Ok(()),
    }
}

/// Linux's PROT_SOCK: ports below it need CAP_NET_BIND_SERVICE.
const PROT_SOCK: u16 = 1024;

/// May the caller bind `port`? Below 1024 it needs CAP_NET_BIND_SERVICE (EACCES).
pub fn may_bind_port(port: u16) -> Result<()> {
    if port != 0 && port < PROT_SOCK && !crate::net::env()?.capable(crate::cap::Cap::NetBindService)
    {
        return Err(crate::error::Errno::EACCES);
    }
    Ok(())
}

/// `n` copies of `v` in a fallible allocation: socket buffers are sized by us but made on
/// user request, so running out of heap is ENOBUFS (as Linux's sock_alloc_send_skb), never a
/// panic.
pub fn filled<T: Clone>(v: T, n: usize) -> Result<alloc::vec::Vec<T>> {
    let mut out = alloc::vec::Vec::new();
    out.try_reserve_exact(n).map_err(|_| crate::error::Errno::ENOBUFS)?;
    out.resize(n, v);
    Ok(out)
}

/// What a socket with SO_REUSEPORT `on` shares its port under: the caller's uid (Linux
/// compares the sockets' owners).
pub fn reuseport_owner(on: bool) -> Option<u32> {
    on.then(|| crate::net::env().map(|e| e.creds().uid).unwrap_or(0))
}
