//! TCP listeners, kept in the stack (`Stack::listeners`, by the listening socket's inode
//! number) rather than in their sockets, so that everything a SYN needs is reachable under
//! the stack's lock alone.
//!
//! smoltcp takes one connection per socket, and resets a SYN that finds no socket listening.
//! So each listener keeps one smoltcp socket *armed* (listening) while its accept queue has
//! room, and before each poll of `lo` the queued packets go through `gate_syns`: a SYN for a
//! listener is dropped when that listener's accept queue is full (Linux's LISTENOVERFLOWS: the
//! client sends it again later), else an armed socket is made for it if none is free; one SYN
//! per port passes per poll (the others wait for the next), so each finds its socket. After
//! each poll `tend_listeners` moves the sockets that took a SYN to the accept queue of the
//! listener Linux's lookup picks (an exact address before the wildcard, AF_INET before
//! AF_INET6 for IPv4, and among SO_REUSEPORT listeners of one owner the one a hash of the
//! connection's addresses and ports picks), and arms listeners again.
//!
//! Lock order: a listening socket's state lock, then the stack's; nothing here takes a
//! socket's lock.

use alloc::collections::VecDeque;
use alloc::sync::Weak;
use alloc::vec::Vec;

use smoltcp::iface::SocketHandle;
use smoltcp::socket::tcp::{self, State as Tcp};
use smoltcp::wire::{
    IpAddress, IpEndpoint, IpListenEndpoint, IpProtocol, Ipv4Packet, Ipv6Packet, TcpPacket,
};

use super::stack::{SocketEvents, Stack};
use crate::error::{Errno, Result};

pub struct TcpListener {
    /// Where it listens (the wildcard: every address).
    pub endpoint: IpListenEndpoint,
    /// The IP versions it takes connections of.
    pub takes_v4: bool,
    pub takes_v6: bool,
    /// An AF_INET socket (preferred over an AF_INET6 one for IPv4, as Linux's scoring).
    pub is_v4_socket: bool,
    /// SO_REUSEPORT and the owner's uid: listeners of one group share the connections.
    pub reuseport: Option<u32>,
    /// listen()'s backlog, at most net.core.somaxconn: up to one more connection waits.
    pub backlog: usize,
    /// The sizes of the rings of its connections, and whether Nagle is on.
    pub rings: (usize, usize),
    pub nagle: bool,
    /// A wildcard listener that takes one IP version: Some(true) refuses IPv6 (see
    /// `Stack::refuse_other_version`).
    pub refuse_v6: Option<bool>,
    /// Whom a change wakes (the listening socket's waiters).
    pub events: Weak<SocketEvents>,
    /// smoltcp sockets listening for the next SYN.
    pub armed: Vec<SocketHandle>,
    /// Connections (from SYN-RECEIVED on) that accept has not taken, oldest first.
    pub queue: Vec<SocketHandle>,
}

impl TcpListener {
    /// Linux's sk_acceptq_is_full: `backlog + 1` connections wait at most.
    fn full(&self) -> bool {
        self.queue.len() > self.backlog
    }
}

/// What happens to a packet queued on `lo` before the next poll.
enum Verdict {
    Pass,
    /// Kept back for the poll after (a second SYN for a port in one poll).
    Hold,
    Drop,
}

/// A SYN opening a connection: (source, destination).
fn parse_syn(packet: &[u8]) -> Option<(IpEndpoint, IpEndpoint)> {
    let (src, dst, payload): (IpAddress, IpAddress, &[u8]) = match packet.first()? >> 4 {
        4 => {
            let p = Ipv4Packet::new_checked(packet).ok()?;
            if p.next_header() != IpProtocol::Tcp || p.more_frags() || p.frag_offset() != 0 {
                return None;
            }
            let header = p.header_len() as usize;
            let total = (p.total_len() as usize).min(packet.len());
            (p.src_addr().into(), p.dst_addr().into(), packet.get(header..total)?)
        }
        6 => {
            let p = Ipv6Packet::new_checked(packet).ok()?;
            if p.next_header() != IpProtocol::Tcp {
                return None;
            }
            (p.src_addr().into(), p.dst_addr().into(), p.payload())
        }
        _ => return None,
    };
    let t = TcpPacket::new_checked(payload).ok()?;
    if !t.syn() || t.ack() || t.rst() {
        return None;
    }
    Some((IpEndpoint::new(src, t.src_port()), IpEndpoint::new(dst, t.dst_port())))
}

/// The hash that spreads connections over a SO_REUSEPORT group (Linux hashes the 4-tuple too).
pub(super) fn flow_hash(from: IpEndpoint, to: IpEndpoint) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |bytes: &[u8]| {
        for &b in bytes {
            h = (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3);
        }
    };
    for ep in [from, to] {
        match ep.addr {
            IpAddress::Ipv4(a) => eat(&a.octets()),
            IpAddress::Ipv6(a) => eat(&a.octets()),
        }
        eat(&ep.port.to_be_bytes());
    }
    // Finish (splitmix64), so that neighbouring ports spread.
    h ^= h >> 30;
    h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h ^= h >> 27;
    h = h.wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

impl Stack {
    /// Starts listener `id`, with one armed socket.
    pub fn add_listener(&mut self, id: u64, l: TcpListener) -> Result<()> {
        self.listeners.insert(id, l);
        if let Err(e) = self.arm(id) {
            self.listeners.remove(&id);
            return Err(e);
        }
        Ok(())
    }

    /// Ends listener `id`: its armed sockets and the connections not accepted are reset.
    pub fn remove_listener(&mut self, id: u64) {
        let Some(l) = self.listeners.remove(&id) else { return };
        for h in l.armed.into_iter().chain(l.queue) {
            self.unwatch(h);
            self.sockets.get_mut::<tcp::Socket>(h).abort();
            self.closing.push(super::stack::Closing { handle: h, hold: None });
        }
    }

    /// listen() again: a new backlog.
    pub fn set_backlog(&mut self, id: u64, backlog: usize) {
        if let Some(l) = self.listeners.get_mut(&id) {
            l.backlog = backlog;
        }
    }

    /// Takes a connection from `id`'s accept queue: the oldest whose handshake is over.
    pub fn take_connection(&mut self, id: u64) -> Option<SocketHandle> {
        let sockets = &self.sockets;
        let l = self.listeners.get_mut(&id)?;
        let i = l.queue.iter().position(|&h| {
            !matches!(sockets.get::<tcp::Socket>(h).state(), Tcp::Listen | Tcp::SynReceived)
        })?;
        Some(l.queue.remove(i))
    }

    /// Is a connection waiting for `id`'s accept?
    pub fn has_connection(&self, id: u64) -> bool {
        self.listeners.get(&id).is_some_and(|l| {
            l.queue.iter().any(|&h| {
                !matches!(
                    self.sockets.get::<tcp::Socket>(h).state(),
                    Tcp::Listen | Tcp::SynReceived
                )
            })
        })
    }

    /// Adds a listening smoltcp socket to listener `id`.
    fn arm(&mut self, id: u64) -> Result<()> {
        let l = self.listeners.get(&id).ok_or(Errno::EINVAL)?;
        let (endpoint, nagle, refuse_v6, events) =
            (l.endpoint, l.nagle, l.refuse_v6, l.events.clone());
        let mut sock = super::tcp::new_smoltcp_socket(l.rings)?;
        sock.set_nagle_enabled(nagle);
        let rings = super::stack::tcp_rings(&sock);
        if sock.listen(endpoint).is_err() {
            super::stack::uncharge(rings);
            return Err(Errno::EADDRINUSE);
        }
        let h = self.add(sock).inspect_err(|_| super::stack::uncharge(rings))?;
        self.watch_weak(h, events, false);
        if let Some(v6) = refuse_v6 {
            self.one_version(h, endpoint.port, v6);
        }
        if let Some(l) = self.listeners.get_mut(&id) {
            l.armed.push(h);
        }
        Ok(())
    }

    /// The listener a connection from `from` to `to` belongs to, by Linux's lookup.
    fn listener_for(&self, from: IpEndpoint, to: IpEndpoint) -> Option<u64> {
        let v4 = matches!(to.addr, IpAddress::Ipv4(_));
        let mut best: Vec<u64> = Vec::new();
        let mut best_score = 0;
        for (&id, l) in &self.listeners {
            if l.endpoint.port != to.port || l.endpoint.addr.is_some_and(|a| a != to.addr) {
                continue;
            }
            if (v4 && !l.takes_v4) || (!v4 && !l.takes_v6) {
                continue;
            }
            let score = 1 + 4 * l.endpoint.addr.is_some() as u32 + (v4 && l.is_v4_socket) as u32;
            if score > best_score {
                best_score = score;
                best.clear();
            }
            if score == best_score && best.try_reserve(1).is_ok() {
                best.push(id);
            }
        }
        let first = *best.first()?;
        // The first listener's SO_REUSEPORT group shares the connections by hash.
        let group = match self.listeners[&first].reuseport {
            Some(uid) => {
                best.retain(|id| self.listeners[id].reuseport == Some(uid));
                best
            }
            None => return Some(first),
        };
        Some(group[(flow_hash(from, to) % group.len() as u64) as usize])
    }

    /// Before a poll of `lo`: each SYN for a listener passes (with an armed socket for it),
    /// waits for the next poll, or is dropped when the listener's accept queue is full.
    /// Returns whether packets wait for the next poll.
    pub(super) fn gate_syns(&mut self) -> bool {
        if self.listeners.is_empty() {
            return !self.held.is_empty();
        }
        let mut queue = core::mem::take(&mut self.device.queue);
        let mut passed_ports: Vec<u16> = Vec::new();
        let mut pass = VecDeque::new();
        for packet in queue.drain(..) {
            match self.syn_verdict(&packet, &mut passed_ports) {
                Verdict::Pass => pass.push_back(packet),
                Verdict::Hold => self.held.push_back(packet),
                Verdict::Drop => {}
            }
        }
        self.device.queue = pass;
        !self.held.is_empty()
    }

    /// After a poll of `lo`: the packets held back go first into the next.
    pub(super) fn release_held(&mut self) {
        while let Some(p) = self.held.pop_back() {
            self.device.queue.push_front(p);
        }
    }

    fn syn_verdict(&mut self, packet: &[u8], passed_ports: &mut Vec<u16>) -> Verdict {
        let Some((from, to)) = parse_syn(packet) else { return Verdict::Pass };
        if passed_ports.contains(&to.port) {
            return Verdict::Hold;
        }
        // A SYN sent again for a connection a socket already has.
        let known = self.sockets.iter().any(|(_, s)| match s {
            smoltcp::socket::Socket::Tcp(t) => {
                t.local_endpoint() == Some(to) && t.remote_endpoint() == Some(from)
            }
            _ => false,
        });
        if known {
            return Verdict::Pass;
        }
        // No listener: smoltcp resets it (ECONNREFUSED), as Linux.
        let Some(id) = self.listener_for(from, to) else { return Verdict::Pass };
        if self.listeners[&id].full() {
            return Verdict::Drop;
        }
        let sockets = &self.sockets;
        let armed = self.listeners.values().any(|l| {
            l.endpoint.port == to.port
                && l.endpoint.addr.is_none_or(|a| a == to.addr)
                && l.armed.iter().any(|&h| sockets.get::<tcp::Socket>(h).state() == Tcp::Listen)
        });
        // Out of memory for one: dropped, and sent again later.
        if !armed && self.arm(id).is_err() {
            return Verdict::Drop;
        }
        if passed_ports.try_reserve(1).is_err() {
            return Verdict::Hold;
        }
        passed_ports.push(to.port);
        Verdict::Pass
    }

    /// After a poll: armed sockets that took a SYN join the accept queue of the listener the
    /// connection is for; a queued one reset in SYN-RECEIVED (back to listening) is armed
    /// again; every listener with room keeps one armed socket.
    pub(super) fn tend_listeners(&mut self) {
        if self.listeners.is_empty() {
            return;
        }
        let ids: Vec<u64> = self.listeners.keys().copied().collect();
        for &id in &ids {
            let sockets = &self.sockets;
            let Some(l) = self.listeners.get_mut(&id) else { continue };
            let state = |h: SocketHandle| sockets.get::<tcp::Socket>(h).state();
            let mut taken: Vec<SocketHandle> = Vec::new();
            let mut i = 0;
            while i < l.armed.len() {
                if state(l.armed[i]) != Tcp::Listen && taken.try_reserve(1).is_ok() {
                    taken.push(l.armed.swap_remove(i));
                } else {
                    i += 1;
                }
            }
            let mut i = 0;
            while i < l.queue.len() {
                if state(l.queue[i]) == Tcp::Listen && l.armed.try_reserve(1).is_ok() {
                    let h = l.queue.remove(i);
                    l.armed.push(h);
                } else {
                    i += 1;
                }
            }
            for h in taken {
                self.place(id, h);
            }
        }
        for id in ids {
            let sockets = &self.sockets;
            let Some(l) = self.listeners.get(&id) else { continue };
            let armed =
                l.armed.iter().any(|&h| sockets.get::<tcp::Socket>(h).state() == Tcp::Listen);
            if !armed && !l.full() {
                let _ = self.arm(id);
            }
        }
    }

    /// Socket `h`, armed for listener `from`, took a connection: into the accept queue of the
    /// listener it is for (one of the other IP version's stays, to be refused).
    fn place(&mut self, from: u64, h: SocketHandle) {
        let sock = self.sockets.get::<tcp::Socket>(h);
        let owner = match (sock.remote_endpoint(), sock.local_endpoint()) {
            (Some(r), Some(l)) => self.listener_for(r, l),
            _ => Some(from),
        };
        let Some(owner) = owner else {
            if let Some(l) = self.listeners.get_mut(&from) {
                l.armed.push(h);
            }
            return;
        };
        if owner != from {
            let events = self.listeners[&owner].events.clone();
            self.unwatch(h);
            self.watch_weak(h, events, true);
        }
        let Some(l) = self.listeners.get_mut(&owner) else { return };
        if l.queue.try_reserve(1).is_err() {
            // No memory to queue it: refused.
            self.unwatch(h);
            self.sockets.get_mut::<tcp::Socket>(h).abort();
            self.closing.push(super::stack::Closing { handle: h, hold: None });
            return;
        }
        l.queue.push(h);
    }
}
