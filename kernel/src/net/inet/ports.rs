//! Which sockets hold which local ports, and Linux's rules for sharing one (the bind-conflict
//! checks of inet_csk_get_port and udp_lib_get_port, reduced to a loopback-only host).
//!
//! Two holders of a port clash when their addresses overlap: the same address (an IPv4-mapped
//! IPv6 address is its IPv4 address), or a wildcard that covers the other's address (an IPv4
//! wildcard covers IPv4; an IPv6 wildcard is dual-stack and covers everything). Overlapping
//! holders may still share: UDP sockets when both set SO_REUSEADDR, TCP sockets when both set
//! it and neither listens; and sockets of one owner (uid) that all set SO_REUSEPORT. A TCP connection closed first from this side keeps its port for
//! TIME-WAIT (60 s, TCP_TIMEWAIT_LEN), with the SO_REUSEADDR it had.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use smoltcp::wire::IpAddress;

use crate::error::{Errno, Result};

#[derive(Clone, Copy, Debug)]
pub struct Holder {
    /// The socket (its inode number).
    pub owner: u64,
    /// The socket is AF_INET6.
    pub v6: bool,
    /// ... with IPV6_V6ONLY: its wildcard covers IPv6 addresses only.
    pub v6only: bool,
    /// The bound address; None is the wildcard.
    pub addr: Option<IpAddress>,
    pub reuse: bool,
    /// SO_REUSEPORT, with the uid of the socket's owner: sockets of one owner that all set it
    /// share the port (listening or not).
    pub reuseport: Option<u32>,
    pub listening: bool,
    /// A closed connection still holding the port (TIME-WAIT) lets go at this monotonic time.
    pub expires_ns: Option<u64>,
}

pub struct PortTable {
    tcp: bool,
    ports: BTreeMap<u16, Vec<Holder>>,
}

impl PortTable {
    pub const fn new(tcp: bool) -> PortTable {
        PortTable { tcp, ports: BTreeMap::new() }
    }

    pub fn in_use(&self, port: u16) -> bool {
        self.ports.contains_key(&port)
    }

    /// Adds `h` to `port`, or EADDRINUSE if it clashes with a holder already there.
    pub fn reserve(&mut self, port: u16, h: Holder) -> Result<()> {
        let holders = self.ports.entry(port).or_default();
        let tcp = self.tcp;
        if holders.iter().any(|other| overlap(&h, other) && !may_share(tcp, &h, other)) {
            if holders.is_empty() {
                self.ports.remove(&port);
            }
            return Err(Errno::EADDRINUSE);
        }
        holders.push(h);
        Ok(())
    }

    /// Adds `h` without the sharing check: a closing connection keeps the port it had.
    pub fn hold(&mut self, port: u16, h: Holder) {
        self.ports.entry(port).or_default().push(h);
    }

    /// The TIME-WAIT holder `owner` lets go at `at`.
    pub fn expire_at(&mut self, port: u16, owner: u64, at: u64) {
        if let Some(h) =
            self.ports.get_mut(&port).and_then(|v| v.iter_mut().find(|h| h.owner == owner))
        {
            h.expires_ns = Some(at);
        }
    }

    /// Drops the holders whose TIME-WAIT is over.
    pub fn expire(&mut self, now_ns: u64) {
        self.ports.retain(|_, holders| {
            holders.retain(|h| h.expires_ns.is_none_or(|t| t > now_ns));
            !holders.is_empty()
        });
    }

    /// `owner` listens on `port` now: no later SO_REUSEADDR socket may share it.
    pub fn set_listening(&mut self, port: u16, owner: u64) {
        if let Some(h) =
            self.ports.get_mut(&port).and_then(|v| v.iter_mut().find(|h| h.owner == owner))
        {
            h.listening = true;
        }
    }

    /// The SO_REUSEPORT owner `owner` holds `port` with.
    pub fn reuseport_of(&self, port: u16, owner: u64) -> Option<u32> {
        self.ports.get(&port)?.iter().find(|h| h.owner == owner)?.reuseport
    }

    pub fn release(&mut self, port: u16, owner: u64) {
        if let Some(holders) = self.ports.get_mut(&port) {
            holders.retain(|h| h.owner != owner);
            if holders.is_empty() {
                self.ports.remove(&port);
            }
        }
    }
}

fn may_share(tcp: bool, a: &Holder, b: &Holder) -> bool {
    (a.reuse && b.reuse && !(tcp && (a.listening || b.listening)))
        || (a.reuseport.is_some() && a.reuseport == b.reuseport)
}

/// The IPv4 address an IPv4-mapped IPv6 address stands for, else the address itself.
fn unmapped(a: IpAddress) -> IpAddress {
    match a {
        IpAddress::Ipv6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddress::Ipv4(v4),
            None => a,
        },
        v4 => v4,
    }
}

fn covers_wildcard(wild: &Holder, addr: IpAddress) -> bool {
    let v4 = matches!(unmapped(addr), IpAddress::Ipv4(_));
    if wild.v6only {
        !v4
    } else {
        wild.v6 || v4
    }
}

/// The IP versions a wildcard holder covers: (IPv4, IPv6).
fn versions(h: &Holder) -> (bool, bool) {
    (!h.v6only, h.v6)
}

fn overlap(a: &Holder, b: &Holder) -> bool {
    match (a.addr, b.addr) {
        (None, None) => {
            let (a4, a6) = versions(a);
            let (b4, b6) = versions(b);
            (a4 && b4) || (a6 && b6)
        }
        (None, Some(x)) => covers_wildcard(a, x),
        (Some(x), None) => covers_wildcard(b, x),
        (Some(x), Some(y)) => unmapped(x) == unmapped(y),
    }
}
