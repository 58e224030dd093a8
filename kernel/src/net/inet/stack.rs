//! The IP stack: a smoltcp interface on a loopback device holding 127.0.0.1/8 and ::1, another
//! on the virtio-net card (`eth0`) when there is one, and every TCP/UDP socket in one set
//! shared by both (iface.rs says how packets find the right interface). `with` runs an
//! operation on the stack and then pumps packets until nothing moves; then it wakes the
//! sockets whose smoltcp state changed (each inet socket has its own `SocketEvents`: a wait
//! queue and a pollee), and only those. The timer tick pumps too, for retransmissions and
//! TIME-WAIT, and so does the card's interrupt.

use alloc::collections::{BTreeMap, VecDeque};
use alloc::sync::{Arc, Weak};
use alloc::vec;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicUsize, Ordering};

use smoltcp::iface::{Config, Interface, PollResult, SocketHandle, SocketSet};
use smoltcp::socket::udp;
use smoltcp::time::Instant;
use smoltcp::wire::{EthernetAddress, HardwareAddress, IpAddress, IpEndpoint};
use spin::Once;

use super::iface;
use super::listen::TcpListener;
use super::lo::LoopDevice;
use super::ports::PortTable;
use crate::drivers::net::EthDevice;
use crate::event::{IoEvents, Pollee};
use crate::sync::Mutex;

pub struct Stack {
    pub iface: Interface,
    pub(super) device: LoopDevice,
    /// The card and its interface, if the machine has one.
    pub eth0: Option<Eth0>,
    pub sockets: SocketSet<'static>,
    /// Ports in use per protocol, for bind and ephemeral allocation.
    pub tcp_ports: PortTable,
    pub udp_ports: PortTable,
    next_ephemeral: u16,
    /// Sockets closed by their owners, kept until TCP has finished with them.
    pub closing: alloc::vec::Vec<Closing>,
    /// Whom to wake when a smoltcp socket changes, with what it looked like after the last
    /// pump.
    watched: BTreeMap<SocketHandle, Watch>,
    /// Listening sockets on the wildcard that take one IP version only (an AF_INET
    /// listener; an IPV6_V6ONLY one), with their port and whether IPv6 (else IPv4) is
    /// refused: they listen on every address, so a connection of the other version they get
    /// is reset at once.
    one_version: BTreeMap<SocketHandle, (u16, bool)>,
    /// Listening TCP sockets by inode number, with their smoltcp sockets (listen.rs).
    pub(super) listeners: BTreeMap<u64, TcpListener>,
    /// Packets of `lo` held back for the next poll (listen.rs, `gate_syns`).
    pub(super) held: VecDeque<Vec<u8>>,
}

/// What waiters on one inet socket sleep on and pollers of it watch (its pollee), and (UDP)
/// the datagrams received for it.
#[derive(Default)]
pub struct SocketEvents {
    pub pollee: Pollee,
    pub inbox: Mutex<Inbox>,
}

/// A datagram received for a UDP socket and not read yet.
pub struct Datagram {
    pub data: Vec<u8>,
    pub from: IpEndpoint,
    /// The address it was sent to (IP_PKTINFO), and when it arrived (SO_TIMESTAMP, ns of
    /// CLOCK_REALTIME).
    pub to: IpAddress,
    pub at_ns: i64,
    /// What it was charged against the receive buffer.
    pub truesize: usize,
}

/// A UDP socket's receive queue. smoltcp's per-socket ring only lands datagrams: after each
/// pump they move here, to the socket Linux's lookup picks, charged as Linux charges
/// sk_rmem_alloc (so SO_RCVBUF bounds the queue as on Linux, and an idle socket holds
/// almost nothing).
#[derive(Default)]
pub struct Inbox {
    pub queue: VecDeque<Datagram>,
    /// Bytes charged for the queued datagrams.
    pub charged: usize,
    /// SO_RCVBUF as Linux reports it (already doubled).
    pub rcvbuf: usize,
    /// A connected socket takes datagrams from its peer only.
    pub peer: Option<IpEndpoint>,
    /// The IP versions it takes (an AF_INET socket: IPv4 only).
    pub takes_v4: bool,
    pub takes_v6: bool,
    /// An AF_INET socket (preferred over a dual-stack one for IPv4, as Linux's scoring).
    pub is_v4_socket: bool,
    /// SO_REUSEPORT and the owner's uid: sockets of one group share the datagrams.
    pub reuseport: Option<u32>,
}

/// What a datagram of `len` bytes costs the receive buffer: Linux's skb truesize on the
/// loopback (the data rounded up to the slab size, or to pages past 4 KiB, plus the sk_buff):
/// 832 bytes for a 1-byte datagram, so 212992 bytes hold 256 of them, as on Linux.
pub fn truesize(len: usize) -> usize {
    let data = len + 100;
    if data <= 4096 {
        320 + data.next_power_of_two().max(512)
    } else {
        320 + 4096 + data.div_ceil(4096) * 4096
    }
}

/// Linux's udp_rmem_min: what a socket may queue even when all buffers are over the budget.
const UDP_RMEM_MIN: usize = 4096;

/// Bytes of socket buffers held by all inet sockets (smoltcp's rings and UDP receive
/// queues): Linux's tcp_mem/udp_mem, one bound for both.
static BUFFER_BYTES: AtomicUsize = AtomicUsize::new(0);

/// The most all inet socket buffers may hold: half the kernel heap, so that sockets alone
/// can never use the heap up.
fn buffer_limit() -> usize {
    crate::mm::heap::stats().1 / 2
}

/// Takes `bytes` from the inet buffer budget; false if that would pass the limit.
pub fn charge(bytes: usize) -> bool {
    let limit = buffer_limit();
    BUFFER_BYTES
        .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
            used.checked_add(bytes).filter(|&t| t <= limit)
        })
        .is_ok()
}

pub fn uncharge(bytes: usize) {
    let _ = BUFFER_BYTES
        .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| Some(used.saturating_sub(bytes)));
}

impl SocketEvents {
    pub fn new() -> Arc<SocketEvents> {
        Arc::new(SocketEvents::default())
    }

    /// Something about the socket changed outside smoltcp (shutdown, an error, a listener
    /// stopping): its waiters and pollers re-check.
    pub fn notify(&self) {
        self.pollee.notify(IoEvents::all());
    }
}

struct Watch {
    events: Weak<SocketEvents>,
    seen: Look,
}

/// What a waiter can tell apart about a smoltcp socket: its TCP state and its queues.
type Look = (u8, usize, usize);

fn look(sock: &smoltcp::socket::Socket<'static>) -> Look {
    match sock {
        smoltcp::socket::Socket::Tcp(t) => (t.state() as u8 + 1, t.recv_queue(), t.send_queue()),
        // UDP sockets are woken when a datagram reaches their inbox.
        _ => (0, 0, 0),
    }
}

pub struct Eth0 {
    pub iface: Interface,
    pub device: EthDevice,
}

/// A socket closed by its owner, and the port hold (owner id, port) its connection keeps until
/// it is over: through TIME-WAIT when this side closed first.
#[derive(Clone, Copy)]
pub struct Closing {
    pub handle: SocketHandle,
    pub hold: Option<(u64, u16)>,
}

/// Linux's TCP_TIMEWAIT_LEN.
const TIME_WAIT_NS: u64 = 60_000_000_000;

static STACK: Once<Mutex<Stack>> = Once::new();

/// Linux's ip_local_port_range.
const EPHEMERAL: core::ops::RangeInclusive<u16> = 32768..=60999;

fn now() -> Instant {
    Instant::from_micros((crate::arch::time::monotonic_ns() / 1000) as i64)
}

fn stack() -> &'static Mutex<Stack> {
    STACK.call_once(|| {
        let mut device = LoopDevice::new();
        let mut config = Config::new(HardwareAddress::Ip);
        config.random_seed = crate::arch::cpu::rdtsc();
        let mut iface = Interface::new(config, &mut device, now());
        let mut eth0 = crate::drivers::net::take().map(|mut device| {
            let mac = EthernetAddress(device.mac());
            let mut config = Config::new(HardwareAddress::Ethernet(mac));
            config.random_seed = crate::arch::cpu::rdtsc();
            let iface = Interface::new(config, &mut device, now());
            Eth0 { iface, device }
        });
        // All of 127.0.0.0/8 is this host's, as on Linux (smoltcp would take 127.0.0.1 alone).
        iface.set_any_ip(true);
        iface::init(eth0.as_ref().map(|e| e.device.mac()));
        iface::apply(&mut iface, None);
        if let Some(e) = eth0.as_mut() {
            iface::apply(&mut iface, Some(&mut e.iface));
            e.device.enable_irq();
        }
        Mutex::new(Stack {
            iface,
            device,
            eth0,
            sockets: SocketSet::new(vec![]),
            tcp_ports: PortTable::new(true),
            udp_ports: PortTable::new(false),
            next_ephemeral: *EPHEMERAL.start(),
            closing: alloc::vec::Vec::new(),
            watched: BTreeMap::new(),
            one_version: BTreeMap::new(),
            listeners: BTreeMap::new(),
            held: VecDeque::new(),
        })
    })
}

impl Stack {
    /// Copies the interface configuration (iface.rs) into the smoltcp interfaces.
    pub fn apply_config(&mut self) {
        match self.eth0.as_mut() {
            Some(e) => {
                iface::apply(&mut self.iface, Some(&mut e.iface));
                let link = iface::with_config(|c| {
                    c.links.iter().find(|l| l.index == iface::ETH0_INDEX).map(|l| (l.up, l.mtu))
                });
                if let Some((up, mtu)) = link {
                    e.device.up = up;
                    e.device.mtu = mtu as usize;
                }
            }
            None => iface::apply(&mut self.iface, None),
        }
    }

    /// The smoltcp context of the interface a packet to `remote` leaves by (for connect's choice
    /// of source address).
    pub fn context_for(&mut self, remote: IpAddress) -> &mut smoltcp::iface::Context {
        match self.eth0.as_mut() {
            Some(e) if iface::eth0_source_for(remote).is_some() => e.iface.context(),
            _ => self.iface.context(),
        }
    }

    /// Moves packets until the loopback is quiet. Returns whether any socket changed.
    fn pump(&mut self) -> bool {
        let mut changed = false;
        for _ in 0..4 {
            for _ in 0..256 {
                // `eth0` first: see iface.rs.
                let mut moved = false;
                if let Some(e) = self.eth0.as_mut() {
                    e.device.flush();
                    if e.iface.poll(now(), &mut e.device, &mut self.sockets)
                        == PollResult::SocketStateChanged
                    {
                        moved = true;
                    }
                }
                // SYNs for listeners: their pools topped up, or dropped when full.
                if self.gate_syns() {
                    moved = true;
                }
                match self.iface.poll(now(), &mut self.device, &mut self.sockets) {
                    PollResult::None => {}
                    PollResult::SocketStateChanged => moved = true,
                }
                self.release_held();
                self.tend_listeners();
                if !moved {
                    break;
                }
                changed = true;
                self.refuse_other_version();
            }
            // A reset was queued: send it.
            if !self.reap() {
                break;
            }
        }
        changed
    }

    /// A one-version listener's socket that took a connection of the other IP version drops
    /// it and listens again: the connecting side's next segment meets a listener and is
    /// reset, so its connect fails with ECONNREFUSED as on Linux, where no socket would
    /// answer.
    fn refuse_other_version(&mut self) {
        for (&h, &(port, refuse_v6)) in &self.one_version {
            let sock = self.sockets.get_mut::<smoltcp::socket::tcp::Socket>(h);
            let foreign = sock
                .local_endpoint()
                .is_some_and(|e| matches!(e.addr, IpAddress::Ipv6(_)) == refuse_v6);
            if foreign && sock.state() != smoltcp::socket::tcp::State::Listen {
                sock.abort();
                let _ = sock.listen(smoltcp::wire::IpListenEndpoint { addr: None, port });
            }
        }
    }

    /// Frees closed sockets whose TCP exchange is over (the socket itself is not kept through
    /// TIME-WAIT: on a loopback-only stack no stray segment can arrive late; only its port is). Data arriving for a closed
    /// socket nobody can read any more resets the connection, as in Linux. Returns whether
    /// such a reset waits to be sent.
    fn reap(&mut self) -> bool {
        let sockets = &mut self.sockets;
        let mut reset = false;
        let ports = &mut self.tcp_ports;
        let watched = &mut self.watched;
        let now_ns = crate::arch::time::monotonic_ns();
        self.closing.retain(|c| {
            let sock = sockets.get_mut::<smoltcp::socket::tcp::Socket>(c.handle);
            if sock.recv_queue() > 0 && sock.is_open() {
                // Kept until the next poll has sent the reset.
                sock.abort();
                reset = true;
                return true;
            }
            let state = sock.state();
            let done = matches!(
                state,
                smoltcp::socket::tcp::State::Closed | smoltcp::socket::tcp::State::TimeWait
            );
            if done {
                watched.remove(&c.handle);
                uncharge(tcp_rings(sockets.get::<smoltcp::socket::tcp::Socket>(c.handle)));
                sockets.remove(c.handle);
                if let Some((owner, port)) = c.hold {
                    if state == smoltcp::socket::tcp::State::TimeWait {
                        ports.expire_at(port, owner, now_ns + TIME_WAIT_NS);
                    } else {
                        ports.release(port, owner);
                    }
                }
            }
            !done
        });
        reset
    }

    /// From now on a change of socket `h` wakes `events`' waiters.
    pub fn watch(&mut self, h: SocketHandle, events: &Arc<SocketEvents>) {
        let seen = look(self.sockets.get::<smoltcp::socket::Socket>(h));
        self.watched.insert(h, Watch { events: Arc::downgrade(events), seen });
    }

    /// As `watch`; with `wake`, the next pump wakes `events` even if `h` did not change
    /// (a connection moved to another listener's queue).
    pub(super) fn watch_weak(&mut self, h: SocketHandle, events: Weak<SocketEvents>, wake: bool) {
        let seen = if wake {
            (u8::MAX, usize::MAX, usize::MAX)
        } else {
            look(self.sockets.get::<smoltcp::socket::Socket>(h))
        };
        self.watched.insert(h, Watch { events, seen });
    }

    pub fn unwatch(&mut self, h: SocketHandle) {
        self.watched.remove(&h);
        self.one_version.remove(&h);
    }

    /// Listening socket `h` (on every address, `port`) refuses IPv6 connections if
    /// `refuse_v6`, else IPv4 ones.
    pub fn one_version(&mut self, h: SocketHandle, port: u16, refuse_v6: bool) {
        self.one_version.insert(h, (port, refuse_v6));
    }

    /// Adds a smoltcp socket. The set's storage grows by doubling, infallibly: ENOBUFS unless
    /// the heap has room for that.
    pub fn add<T: smoltcp::socket::AnySocket<'static>>(
        &mut self,
        sock: T,
    ) -> crate::error::Result<SocketHandle> {
        let n = self.sockets.iter().count() + 1;
        let room = 2 * n * core::mem::size_of::<smoltcp::iface::SocketStorage<'static>>();
        crate::mm::fallible::ensure_room(room).map_err(|_| crate::error::Errno::ENOBUFS)?;
        Ok(self.sockets.add(sock))
    }

    /// Removes socket `h` (and whom it woke).
    pub fn remove(&mut self, h: SocketHandle) {
        self.watched.remove(&h);
        self.one_version.remove(&h);
        match self.sockets.remove(h) {
            smoltcp::socket::Socket::Udp(u) => uncharge(udp_rings(&u)),
            smoltcp::socket::Socket::Tcp(t) => uncharge(tcp_rings(&t)),
        }
    }

    /// The UDP socket a datagram from `from` to `to`:`port` is for, by Linux's lookup: the
    /// port, a bound address that is `to` or the wildcard, the IP version the socket takes,
    /// a connected socket only from its peer; an exact address and a connected peer score
    /// higher, an AF_INET socket higher for IPv4. Among the best, the SO_REUSEPORT group of
    /// the first shares the datagrams by a hash of the addresses and ports (as Linux's
    /// reuseport_select_sock).
    pub fn udp_owner(
        &self,
        to: IpAddress,
        port: u16,
        from: IpEndpoint,
    ) -> Option<Arc<SocketEvents>> {
        let mut best: Vec<(Arc<SocketEvents>, Option<u32>)> = Vec::new();
        let mut best_score = 0;
        for (h, sock) in self.sockets.iter() {
            let smoltcp::socket::Socket::Udp(u) = sock else { continue };
            let ep = u.endpoint();
            if ep.port != port || ep.addr.is_some_and(|a| a != to) {
                continue;
            }
            let Some(events) = self.watched.get(&h).and_then(|w| w.events.upgrade()) else {
                continue;
            };
            let score = {
                let inbox = events.inbox.lock();
                let v4 = matches!(to, IpAddress::Ipv4(_));
                if (v4 && !inbox.takes_v4) || (!v4 && !inbox.takes_v6) {
                    continue;
                }
                if inbox.peer.is_some_and(|p| p != from) {
                    continue;
                }
                let mut score = 1;
                if ep.addr.is_some() {
                    score += 4;
                }
                if inbox.peer.is_some() {
                    score += 4;
                }
                if v4 && inbox.is_v4_socket {
                    score += 1;
                }
                (score, inbox.reuseport)
            };
            let (score, reuseport) = score;
            if score > best_score {
                best_score = score;
                best.clear();
            }
            if score == best_score && best.try_reserve(1).is_ok() {
                best.push((events, reuseport));
            }
        }
        let group = best.first()?.1;
        if group.is_none() {
            return best.into_iter().next().map(|(e, _)| e);
        }
        best.retain(|(_, r)| *r == group);
        let to = IpEndpoint::new(to, port);
        let i = (super::listen::flow_hash(from, to) % best.len() as u64) as usize;
        best.into_iter().nth(i).map(|(e, _)| e)
    }

    /// Makes every UDP socket on `port` able to land a datagram of `len` bytes (their rings
    /// are empty between pumps, so a socket is remade with a larger one in place).
    pub fn make_room_for(&mut self, port: u16, len: usize) -> crate::error::Result<()> {
        for (_, sock) in self.sockets.iter_mut() {
            let smoltcp::socket::Socket::Udp(u) = sock else { continue };
            if u.endpoint().port == port && u.payload_recv_capacity() < len {
                let tx = u.payload_send_capacity();
                resize_udp(u, len, tx)?;
            }
        }
        Ok(())
    }

    /// Moves the datagrams smoltcp landed into the inboxes of the sockets they are for.
    fn deliver_udp(&mut self, woken: &mut Vec<Arc<SocketEvents>>) {
        let mut landed: Vec<(Vec<u8>, IpEndpoint, IpAddress, u16)> = Vec::new();
        for (_, sock) in self.sockets.iter_mut() {
            let smoltcp::socket::Socket::Udp(u) = sock else { continue };
            let port = u.endpoint().port;
            while let Ok((data, meta)) = u.recv() {
                let mut copy = Vec::new();
                // No memory: the datagram is lost, as Linux drops what it cannot charge.
                if copy.try_reserve_exact(data.len()).is_err() || landed.try_reserve(1).is_err() {
                    continue;
                }
                copy.extend_from_slice(data);
                let to =
                    meta.local_address.unwrap_or(super::common::source_for(meta.endpoint.addr));
                landed.push((copy, meta.endpoint, to, port));
            }
        }
        for (data, from, to, port) in landed {
            let Some(events) = self.udp_owner(to, port, from) else { continue };
            let size = truesize(data.len());
            {
                let mut inbox = events.inbox.lock();
                // Linux's __udp_enqueue_schedule_skb: dropped once the queue is past the
                // buffer (so one datagram always fits an empty one), or past udp_mem.
                if inbox.charged > inbox.rcvbuf || inbox.queue.try_reserve(1).is_err() {
                    continue;
                }
                // Over the budget a socket still gets udp_rmem_min (Linux's
                // __sk_mem_raise_allocated for receive): one datagram at least.
                if !charge(size) {
                    if inbox.charged >= UDP_RMEM_MIN
                        || crate::mm::fallible::ensure_room(data.len()).is_err()
                    {
                        continue;
                    }
                    BUFFER_BYTES.fetch_add(size, Ordering::AcqRel);
                }
                inbox.charged += size;
                let at_ns = crate::arch::time::realtime_ns();
                inbox.queue.push_back(Datagram { data, from, to, at_ns, truesize: size });
            }
            if !woken.iter().any(|o| Arc::ptr_eq(o, &events)) && woken.try_reserve(1).is_ok() {
                woken.push(events);
            }
        }
    }

    /// The sockets that look different since the last pump: their events, to wake.
    fn changed(&mut self) -> Vec<Arc<SocketEvents>> {
        let mut out: Vec<Arc<SocketEvents>> = Vec::new();
        self.deliver_udp(&mut out);
        let watched = &mut self.watched;
        for (h, sock) in self.sockets.iter() {
            let Some(w) = watched.get_mut(&h) else { continue };
            let now = look(sock);
            if now != w.seen {
                w.seen = now;
                if let Some(e) = w.events.upgrade() {
                    // One socket may own several (a listener's pool): wake it once.
                    if !out.iter().any(|o| Arc::ptr_eq(o, &e)) && out.try_reserve(1).is_ok() {
                        out.push(e);
                    }
                }
            }
        }
        out
    }

    /// A free ephemeral port for `tcp` (or UDP).
    pub fn ephemeral_port(&mut self, tcp: bool) -> Option<u16> {
        self.tcp_ports.expire(crate::arch::time::monotonic_ns());
        let span = (*EPHEMERAL.end() - *EPHEMERAL.start()) as u32 + 1;
        for _ in 0..span {
            let p = self.next_ephemeral;
            self.next_ephemeral = if p == *EPHEMERAL.end() { *EPHEMERAL.start() } else { p + 1 };
            let used = if tcp { self.tcp_ports.in_use(p) } else { self.udp_ports.in_use(p) };
            if !used {
                return Some(p);
            }
        }
        None
    }
}

/// Datagrams a UDP socket's ring lands between two deliveries (one pump moves one
/// datagram per send).
const UDP_PACKETS: usize = 4;
/// The smallest UDP ring: rings grow to the largest datagram the socket sends or receives.
pub const UDP_MIN_RING: usize = 2048;

fn udp_ring(bytes: usize) -> crate::error::Result<udp::PacketBuffer<'static>> {
    Ok(udp::PacketBuffer::new(
        super::common::filled(udp::PacketMetadata::EMPTY, UDP_PACKETS)?,
        super::common::filled(0u8, bytes)?,
    ))
}

/// A UDP socket with rings of `rx` and `tx` bytes (charged to the budget).
pub fn new_udp(rx: usize, tx: usize) -> crate::error::Result<udp::Socket<'static>> {
    if !charge(rx + tx) {
        return Err(crate::error::Errno::ENOBUFS);
    }
    match (udp_ring(rx), udp_ring(tx)) {
        (Ok(r), Ok(t)) => Ok(udp::Socket::new(r, t)),
        _ => {
            uncharge(rx + tx);
            Err(crate::error::Errno::ENOBUFS)
        }
    }
}

/// What a UDP socket's rings hold (to uncharge when it goes).
pub fn udp_rings(u: &udp::Socket<'static>) -> usize {
    u.payload_recv_capacity() + u.payload_send_capacity()
}

/// Remakes `u` in place with rings of at least `rx` and `tx` bytes, keeping its endpoint
/// and hop limit. Only for a socket whose rings are empty (between pumps).
pub fn resize_udp(u: &mut udp::Socket<'static>, rx: usize, tx: usize) -> crate::error::Result<()> {
    let size = |n: usize| n.next_power_of_two().clamp(UDP_MIN_RING, 1 << 16);
    let mut fresh = new_udp(size(rx), size(tx))?;
    let ep = u.endpoint();
    if ep.port != 0 {
        let _ = fresh.bind(ep);
    }
    fresh.set_hop_limit(u.hop_limit());
    uncharge(udp_rings(u));
    *u = fresh;
    Ok(())
}

/// Runs `f` on the stack, then pumps and wakes the waiters of the sockets that changed.
pub fn with<T>(f: impl FnOnce(&mut Stack) -> T) -> T {
    let (r, woken) = {
        let mut s = stack().lock();
        let r = f(&mut s);
        s.pump();
        (r, s.changed())
    };
    for e in woken {
        e.notify();
    }
    r
}

/// What a TCP socket's rings hold (to uncharge when it goes).
pub fn tcp_rings(t: &smoltcp::socket::tcp::Socket<'static>) -> usize {
    t.recv_capacity() + t.send_capacity()
}

/// Reads the stack without pumping.
pub fn peek<T>(f: impl FnOnce(&mut Stack) -> T) -> T {
    f(&mut stack().lock())
}

/// Timer tick: let TCP timers run.
pub fn on_tick() {
    let Some(s) = STACK.get() else { return };
    let due = {
        let mut guard = s.lock();
        let st = &mut *guard;
        let at = st.iface.poll_at(now(), &st.sockets);
        let eth_due = st.eth0.as_mut().is_some_and(|e| {
            e.device.has_work() || e.iface.poll_at(now(), &st.sockets).is_some_and(|t| t <= now())
        });
        at.is_some_and(|t| t <= now()) || !st.closing.is_empty() || eth_due
    };
    if due {
        with(|_| ());
    }
}

/// Builds the stack at boot (the card's interrupt must find it ready).
pub fn init() {
    stack();
}

/// A device interrupt: if it is the card's, silence the card and move its packets.
pub fn on_irq(irq: u8) {
    let Some(s) = STACK.get() else { return };
    let ours = {
        let mut st = s.lock();
        match st.eth0.as_mut() {
            Some(e) if e.device.irq() == irq => {
                e.device.ack_interrupt();
                true
            }
            _ => false,
        }
    };
    if ours {
        with(|_| ());
    }
}
