//! `TcpSocket`: SOCK_STREAM over IPv4/IPv6 on the loopback and eth0, on smoltcp's TCP. A
//! listening socket's smoltcp sockets and accept queue are in the stack (listen.rs); accept
//! takes an established connection from there.

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};

use smoltcp::iface::SocketHandle;
use smoltcp::socket::tcp::{self, State as Tcp};
use smoltcp::wire::{IpAddress, IpEndpoint, IpListenEndpoint};

use super::addr::{self, SockAddr};
use super::common::{self, wait};
use super::listen::TcpListener;
use super::ports::Holder;
use super::sockopt::{self, InetOptions};
use super::stack::{self, Closing, SocketEvents, Stack};
use crate::error::{Errno, Result};
use crate::event::{IoEvents, Poller};
use crate::fs::file::FileLike;
use crate::fs::inode::Metadata;
use crate::fs::socket::*;
use crate::mm::io::{VmReader, VmWriter};
use crate::net::options::{self, SocketOptions, SOL_SOCKET};
use crate::sync::Mutex;

/// smoltcp's rings when SO_RCVBUF/SO_SNDBUF were not set (Linux autotunes its buffers; a
/// fixed 64 KiB each way keeps loopback throughput without holding much per connection).
const BUFFER: usize = 64 * 1024;
/// Linux's tcp_rmem[1] and tcp_wmem[1]: what SO_RCVBUF/SO_SNDBUF say before they are set.
const DEFAULT_RCVBUF: usize = 131_072;
const DEFAULT_SNDBUF: usize = 16_384;
const IPPROTO_TCP: i32 = 6;
const TCP_INFO: i32 = 11;
const RCV_SHUTDOWN: u8 = 1;
const SEND_SHUTDOWN: u8 = 2;

enum State {
    Unbound,
    Bound(SockAddr),
    /// Its smoltcp sockets are in the stack (`Stack::listeners`, under this socket's inode
    /// number).
    Listening {
        local: SockAddr,
    },
    Connecting(SocketHandle),
    Connected(SocketHandle),
}

pub struct TcpSocket {
    family: i32,
    events: Arc<SocketEvents>,
    state: Mutex<State>,
    /// The port this socket reserved (bind, connect); accepted sockets share their listener's.
    own_port: Mutex<Option<u16>>,
    opts: Mutex<SocketOptions>,
    /// The IP/IPv6/TCP levels' options.
    inet: Mutex<InetOptions>,
    nodelay: AtomicBool,
    shutdown: AtomicU8,
    /// A connection error not yet reported (SO_ERROR, a nonblocking connect that failed).
    error: Mutex<Option<Errno>>,
    /// A reset from the peer was reported once (later reads see end of file).
    reset_reported: AtomicBool,
    /// The peer's FIN was seen (a later reset makes writes EPIPE, as Linux's CLOSE_WAIT).
    peer_closed: AtomicBool,
    /// A nonblocking connect said EINPROGRESS and no connect() has seen its outcome yet
    /// (Linux's SS_CONNECTING): the next connect() reports it (0 once, or the error).
    connect_pending: AtomicBool,
    /// Bytes sent into and received from the connection (TCP_INFO's bytes_sent/received).
    bytes_sent: AtomicU64,
    bytes_received: AtomicU64,
    ino: u64,
}

/// A smoltcp socket with rings of `rx` and `tx` bytes, charged to the inet buffer budget
/// (ENOBUFS past it, as Linux's sk_stream_alloc_skb under tcp_mem).
pub(super) fn new_smoltcp_socket((rx, tx): (usize, usize)) -> Result<tcp::Socket<'static>> {
    if !stack::charge(rx + tx) {
        return Err(Errno::ENOBUFS);
    }
    let rings = common::filled(0u8, rx).and_then(|r| Ok((r, common::filled(0u8, tx)?)));
    let (r, t) = rings.inspect_err(|_| stack::uncharge(rx + tx))?;
    let mut s = tcp::Socket::new(tcp::SocketBuffer::new(r), tcp::SocketBuffer::new(t));
    // Loopback needs no delayed ACKs; they only add latency.
    s.set_ack_delay(None);
    Ok(s)
}

/// A ring for a buffer size as SO_RCVBUF/SO_SNDBUF report it (already doubled): the power of
/// two the heap would round it to anyway.
fn ring(bytes: usize) -> usize {
    bytes.next_power_of_two().clamp(4096, 1 << 20)
}

fn listen_endpoint(a: &SockAddr, family: i32) -> IpListenEndpoint {
    IpListenEndpoint { addr: common::listen_addr(a.addr, family), port: a.port }
}

impl TcpSocket {
    pub fn new(family: i32) -> Arc<TcpSocket> {
        Arc::new(Self::with_state(family, State::Unbound))
    }

    fn with_state(family: i32, state: State) -> TcpSocket {
        let opts =
            SocketOptions { rcvbuf: DEFAULT_RCVBUF, sndbuf: DEFAULT_SNDBUF, ..Default::default() };
        TcpSocket {
            family,
            events: SocketEvents::new(),
            state: Mutex::new(state),
            own_port: Mutex::new(None),
            opts: Mutex::new(opts),
            inet: Mutex::new(InetOptions::default()),
            nodelay: AtomicBool::new(false),
            shutdown: AtomicU8::new(0),
            error: Mutex::new(None),
            reset_reported: AtomicBool::new(false),
            peer_closed: AtomicBool::new(false),
            connect_pending: AtomicBool::new(false),
            bytes_sent: AtomicU64::new(0),
            bytes_received: AtomicU64::new(0),
            ino: common::next_ino(),
        }
    }

    fn option_context(&self) -> sockopt::Context {
        let st = self.state.lock();
        sockopt::Context {
            family: self.family,
            sock_type: SOCK_STREAM,
            bound: !matches!(*st, State::Unbound),
            connected: matches!(*st, State::Connected(_)),
        }
    }

    /// A listener on the wildcard that takes one IP version only: Some(true) if it refuses
    /// IPv6 (AF_INET), Some(false) if IPv4 (IPV6_V6ONLY).
    fn refused_version(&self, local: &SockAddr) -> Option<bool> {
        if local.addr.is_some() {
            return None;
        }
        if self.family == AF_INET {
            Some(true)
        } else {
            self.inet.lock().v6only.then_some(false)
        }
    }

    /// Linux's struct tcp_info (248 bytes, as 6.x) for what `ss -i` prints: the state, the
    /// MSS, RTO, window and congestion figures a loopback connection has, and the bytes sent,
    /// acknowledged and received.
    fn tcp_info(&self) -> Vec<u8> {
        self.settle_connect();
        let mut info = alloc::vec![0u8; 248];
        let put32 = |info: &mut Vec<u8>, at: usize, v: u32| {
            info[at..at + 4].copy_from_slice(&v.to_ne_bytes());
        };
        let put64 = |info: &mut Vec<u8>, at: usize, v: u64| {
            info[at..at + 8].copy_from_slice(&v.to_ne_bytes());
        };
        let (state, sock) = match &*self.state.lock() {
            State::Unbound | State::Bound(_) => (7, None),
            State::Listening { .. } => (10, None),
            State::Connecting(_) => (2, None),
            State::Connected(h) => {
                let h = *h;
                let sock = stack::peek(|s| {
                    let t = s.sockets.get::<tcp::Socket>(h);
                    (t.state(), t.send_queue(), t.recv_queue(), t.recv_capacity())
                });
                let linux = match sock.0 {
                    Tcp::Established => 1,
                    Tcp::SynSent => 2,
                    Tcp::SynReceived => 3,
                    Tcp::FinWait1 => 4,
                    Tcp::FinWait2 => 5,
                    Tcp::TimeWait => 6,
                    Tcp::Closed => 7,
                    Tcp::CloseWait => 8,
                    Tcp::LastAck => 9,
                    Tcp::Listen => 10,
                    Tcp::Closing => 11,
                };
                (linux, Some(sock))
            }
        };
        info[0] = state;
        let mss = if sock.is_some() { sockopt::LOOPBACK_MSS as u32 } else { 536 };
        put32(&mut info, 8, 200_000); // rto (µs): TCP_RTO_MIN
        put32(&mut info, 16, mss); // snd_mss
        put32(&mut info, 20, mss); // rcv_mss
        put32(&mut info, 76, 0x7fff_ffff); // snd_ssthresh: TCP_INFINITE_SSTHRESH
        put32(&mut info, 80, 10); // snd_cwnd: TCP_INIT_CWND
        put32(&mut info, 84, mss); // advmss
        put32(&mut info, 88, 3); // reordering
        if let Some((_, send_queue, recv_queue, recv_capacity)) = sock {
            put32(&mut info, 24, send_queue.div_ceil(mss as usize) as u32); // unacked
            put32(&mut info, 60, 65536); // pmtu
            put32(&mut info, 64, recv_capacity as u32); // rcv_ssthresh
            put32(&mut info, 96, recv_capacity as u32); // rcv_space
            let sent = self.bytes_sent.load(Ordering::Relaxed);
            put64(&mut info, 120, sent.saturating_sub(send_queue as u64)); // bytes_acked
            put64(&mut info, 128, self.bytes_received.load(Ordering::Relaxed)); // bytes_received
            put32(&mut info, 144, send_queue as u32); // notsent_bytes
            put64(&mut info, 200, sent); // bytes_sent
            put32(&mut info, 232, (recv_capacity - recv_queue) as u32); // rcv_wnd
        }
        info
    }

    /// The sizes of smoltcp's rings for this socket's options.
    fn rings(&self) -> (usize, usize) {
        let o = self.opts.lock();
        (
            if o.rcvbuf_set { ring(o.rcvbuf) } else { BUFFER },
            if o.sndbuf_set { ring(o.sndbuf) } else { BUFFER },
        )
    }

    fn handle(&self) -> Option<SocketHandle> {
        match &*self.state.lock() {
            State::Connecting(h) | State::Connected(h) => Some(*h),
            _ => None,
        }
    }

    /// Runs `f` on our smoltcp socket (if connected or connecting), pumping the stack after.
    fn on_socket<T>(&self, f: impl FnOnce(&mut tcp::Socket<'static>) -> T) -> Option<T> {
        let h = self.handle()?;
        Some(stack::with(|s| f(s.sockets.get_mut::<tcp::Socket>(h))))
    }

    fn peek_socket<T>(&self, f: impl FnOnce(&tcp::Socket<'static>) -> T) -> Option<T> {
        let h = self.handle()?;
        Some(stack::peek(|s| f(s.sockets.get::<tcp::Socket>(h))))
    }

    /// Connecting → connected (or failed) once the handshake is over.
    fn settle_connect(&self) {
        let mut st = self.state.lock();
        let State::Connecting(h) = *st else { return };
        let state = stack::peek(|s| s.sockets.get::<tcp::Socket>(h).state());
        match state {
            Tcp::SynSent | Tcp::SynReceived => {}
            Tcp::Closed => {
                *st =
                    State::Bound(SockAddr { addr: None, port: self.own_port.lock().unwrap_or(0) });
                drop(st);
                *self.error.lock() = Some(Errno::ECONNREFUSED);
                stack::with(|s| s.remove(h));
            }
            _ => *st = State::Connected(h),
        }
    }

    /// Takes `want` (0: a free ephemeral port) for this socket at `addr`; the sharing rules
    /// are `ports::PortTable`'s.
    fn reserve_port(
        &self,
        s: &mut Stack,
        want: u16,
        addr: Option<IpAddress>,
        reuse: bool,
    ) -> Result<u16> {
        let port = if want == 0 { s.ephemeral_port(true).ok_or(Errno::EADDRINUSE)? } else { want };
        let holder = Holder {
            owner: self.ino,
            v6: self.family == AF_INET6,
            v6only: self.inet.lock().v6only,
            addr,
            reuse,
            reuseport: common::reuseport_owner(self.opts.lock().reuseport),
            listening: false,
            expires_ns: None,
        };
        s.tcp_ports.expire(crate::arch::time::monotonic_ns());
        s.tcp_ports.reserve(port, holder)?;
        *self.own_port.lock() = Some(port);
        Ok(port)
    }

    /// The outcome of the connect a nonblocking connect() started, for the connect() after
    /// it (Linux's __inet_stream_connect in SS_CONNECTING): 0 once connected, the error (or
    /// ECONNABORTED if SO_ERROR took it) once failed; still in progress: EALREADY, or wait.
    fn finish_connect(&self, nonblock: bool) -> Result<()> {
        self.settle_connect();
        if matches!(*self.state.lock(), State::Connecting(_)) {
            if nonblock {
                return Err(Errno::EALREADY);
            }
            let timeout = self.opts.lock().sndtimeo;
            wait(
                &self.events,
                || {
                    self.settle_connect();
                    (!matches!(*self.state.lock(), State::Connecting(_))).then_some(())
                },
                timeout,
            )?;
        }
        self.connect_pending.store(false, Ordering::Release);
        match &*self.state.lock() {
            State::Connected(_) => Ok(()),
            _ => Err(self.error.lock().take().unwrap_or(Errno::ECONNABORTED)),
        }
    }

    fn do_connect(&self, a: &[u8], nonblock: bool) -> Result<()> {
        if self.connect_pending.load(Ordering::Acquire) {
            return self.finish_connect(nonblock);
        }
        match &*self.state.lock() {
            State::Connected(_) => return Err(Errno::EISCONN),
            State::Connecting(_) => return Err(Errno::EALREADY),
            State::Listening { .. } => return Err(Errno::EISCONN),
            _ => {}
        }
        let target = addr::parse(a, self.family)?;
        let remote = common::or_loopback(target.addr, self.family);
        let bound = match &*self.state.lock() {
            State::Bound(b) => Some(*b),
            _ => None,
        };
        common::versions_match(bound.and_then(|b| b.addr), remote)?;
        // tcp_v6_connect: a v6-only socket reaches no IPv4(-mapped) address.
        if matches!(remote, IpAddress::Ipv4(_)) && self.inet.lock().v6only {
            return Err(Errno::ENETUNREACH);
        }
        if !common::reachable(remote) {
            return Err(Errno::ENETUNREACH);
        }
        let reuse = self.opts.lock().reuseaddr;
        let h = stack::with(|s| -> Result<SocketHandle> {
            let port = match bound {
                Some(b) if b.port != 0 => b.port,
                _ => self.reserve_port(s, 0, bound.and_then(|b| b.addr), reuse)?,
            };
            let mut sock = new_smoltcp_socket(self.rings())?;
            sock.set_nagle_enabled(!self.nodelay.load(Ordering::Relaxed));
            let local = IpListenEndpoint { addr: bound.and_then(|b| b.addr), port };
            if sock
                .connect(s.context_for(remote), IpEndpoint::new(remote, target.port), local)
                .is_err()
            {
                stack::uncharge(stack::tcp_rings(&sock));
                return Err(Errno::EADDRNOTAVAIL);
            }
            let rings = stack::tcp_rings(&sock);
            let h = s.add(sock).inspect_err(|_| stack::uncharge(rings))?;
            s.watch(h, &self.events);
            Ok(h)
        })?;
        *self.state.lock() = State::Connecting(h);
        self.settle_connect();
        if nonblock {
            // Linux answers every non-blocking connect with EINPROGRESS, even when the
            // loopback has already finished (or refused) the handshake: the outcome is read
            // from poll and SO_ERROR, or from the next connect().
            self.connect_pending.store(true, Ordering::Release);
            return Err(Errno::EINPROGRESS);
        }
        let timeout = self.opts.lock().sndtimeo;
        wait(
            &self.events,
            || {
                self.settle_connect();
                (!matches!(*self.state.lock(), State::Connecting(_))).then_some(())
            },
            timeout,
        )?;
        match &*self.state.lock() {
            State::Connected(_) => Ok(()),
            _ => Err(self.error.lock().take().unwrap_or(Errno::ECONNREFUSED)),
        }
    }

    /// Does a pool socket hold a connection for us? An AF_INET listener on the wildcard
    /// listens on every address and gets IPv6 connections too, which are not its own.
    fn established_for_us(&self, sock: &tcp::Socket<'static>) -> Option<bool> {
        if matches!(sock.state(), Tcp::Listen | Tcp::SynReceived | Tcp::Closed) {
            return None;
        }
        let v6 = matches!(sock.local_endpoint(), Some(IpEndpoint { addr: IpAddress::Ipv6(_), .. }));
        Some(if v6 { self.family == AF_INET6 } else { !self.inet.lock().v6only })
    }

    /// A connection from the accept queue (now waking `events`).
    fn take_established(&self, events: &Arc<SocketEvents>) -> Option<SocketHandle> {
        // Lock order: the listener's state, then the stack (listen.rs).
        let st = self.state.lock();
        let State::Listening { .. } = &*st else { return None };
        stack::with(|s| loop {
            let h = s.take_connection(self.ino)?;
            if self.established_for_us(s.sockets.get::<tcp::Socket>(h)) != Some(false) {
                s.unwatch(h);
                s.watch(h, events);
                return Some(h);
            }
            // Not ours: refused with a reset, as no listener had it.
            s.unwatch(h);
            s.sockets.get_mut::<tcp::Socket>(h).abort();
            s.closing.push(Closing { handle: h, hold: None });
        })
    }

    /// A listener's shutdown: its pool is reset and it goes back to bound (its port kept).
    fn stop_listening(&self) {
        let mut st = self.state.lock();
        let State::Listening { local } = &*st else { return };
        *st = State::Bound(*local);
        drop(st);
        stack::with(|s| s.remove_listener(self.ino));
        self.events.notify();
    }

    fn has_pending(&self) -> bool {
        match &*self.state.lock() {
            State::Listening { .. } => stack::peek(|s| s.has_connection(self.ino)),
            _ => false,
        }
    }

    /// Waits for a connect in progress to end (Linux's sk_stream_wait_connect). Then: a
    /// failed connect's error, once; not connected: EPIPE (never connected, or listening).
    fn wait_connected(&self, nonblock: bool, timeout: u64) -> Result<()> {
        self.settle_connect();
        if matches!(*self.state.lock(), State::Connecting(_)) {
            if nonblock {
                return Err(Errno::EAGAIN);
            }
            wait(
                &self.events,
                || {
                    self.settle_connect();
                    (!matches!(*self.state.lock(), State::Connecting(_))).then_some(())
                },
                timeout,
            )?;
        }
        if let Some(e) = self.error.lock().take() {
            return Err(e);
        }
        match *self.state.lock() {
            State::Connected(_) => Ok(()),
            _ => Err(Errno::EPIPE),
        }
    }

    fn send(&self, data: &[u8], nonblock: bool) -> Result<usize> {
        if self.shutdown.load(Ordering::Acquire) & SEND_SHUTDOWN != 0 {
            return Err(Errno::EPIPE);
        }
        let timeout = self.opts.lock().sndtimeo;
        self.wait_connected(nonblock, timeout)?;
        let mut sent = 0;
        while sent < data.len() {
            let r = self.on_socket(|s| {
                self.note_peer_closed(s);
                if !s.may_send() {
                    let reset =
                        s.state() == Tcp::Closed && !self.peer_closed.load(Ordering::Relaxed);
                    return Err(if reset { Errno::ECONNRESET } else { Errno::EPIPE });
                }
                if !s.can_send() {
                    return Ok(0);
                }
                s.send_slice(&data[sent..]).map_err(|_| Errno::EPIPE)
            });
            match r {
                Some(Ok(0)) => {}
                Some(Ok(n)) => {
                    sent += n;
                    self.bytes_sent.fetch_add(n as u64, Ordering::Relaxed);
                    continue;
                }
                Some(Err(e)) => return if sent > 0 { Ok(sent) } else { Err(e) },
                None => return Err(Errno::ENOTCONN),
            }
            if nonblock {
                return if sent > 0 { Ok(sent) } else { Err(Errno::EAGAIN) };
            }
            let w = wait(
                &self.events,
                || {
                    self.peek_socket(|s| s.can_send() || !s.may_send())
                        .unwrap_or(true)
                        .then_some(())
                },
                timeout,
            );
            if let Err(e) = w {
                return if sent > 0 { Ok(sent) } else { Err(e) };
            }
        }
        Ok(sent)
    }

    fn note_peer_closed(&self, s: &tcp::Socket<'static>) {
        if matches!(s.state(), Tcp::CloseWait | Tcp::LastAck) {
            self.peer_closed.store(true, Ordering::Relaxed);
        }
    }

    /// Are `need` bytes (or the end of the stream) there to read?
    fn readable_now(&self, need: usize) -> bool {
        self.shutdown.load(Ordering::Acquire) & RCV_SHUTDOWN != 0
            || self.peek_socket(|s| s.recv_queue() >= need.max(1) || !s.may_recv()).unwrap_or(true)
    }

    fn recv(&self, len: usize, flags: u32, nonblock: bool) -> Result<Vec<u8>> {
        let timeout = self.opts.lock().rcvtimeo;
        self.settle_connect();
        // Linux's tcp_recvmsg before a connection: a listener ENOTCONN; a connect in progress
        // waits (EAGAIN without waiting); a failed connect's error once; after SHUT_RD end
        // of file; else ENOTCONN.
        match &*self.state.lock() {
            State::Listening { .. } => return Err(Errno::ENOTCONN),
            State::Connecting(_) | State::Connected(_) => {}
            _ => {
                if let Some(e) = self.error.lock().take() {
                    return Err(e);
                }
                if self.shutdown.load(Ordering::Acquire) & RCV_SHUTDOWN != 0 {
                    return Ok(Vec::new());
                }
                return Err(Errno::ENOTCONN);
            }
        }
        if matches!(*self.state.lock(), State::Connecting(_)) {
            match self.wait_connected(nonblock || flags & MSG_DONTWAIT != 0, timeout) {
                Ok(()) => {}
                Err(Errno::EPIPE) => return Err(Errno::ENOTCONN),
                Err(e) => return Err(e),
            }
        }
        let peek = flags & MSG_PEEK != 0;
        let waitall = flags & MSG_WAITALL != 0 && !peek;
        // Linux's sock_rcvlowat: a blocking receive returns once it has SO_RCVLOWAT bytes
        // (all of them with MSG_WAITALL), or fewer at the end of the stream.
        let target =
            if waitall { len } else { (self.opts.lock().rcvlowat.max(1) as usize).min(len) };
        // Grown as data arrives: `len` is the caller's and may be far more than will ever come.
        let mut out = Vec::new();
        let mut got = 0;
        loop {
            if self.shutdown.load(Ordering::Acquire) & RCV_SHUTDOWN != 0 && got == 0 {
                return Ok(Vec::new());
            }
            let r = self.on_socket(|s| {
                self.note_peer_closed(s);
                if s.can_recv() {
                    let want = s.recv_queue().min(len - got);
                    out.try_reserve(want).map_err(|_| Errno::ENOMEM)?;
                    out.resize(got + want, 0);
                    let n = if peek {
                        s.peek_slice(&mut out[got..])
                    } else {
                        s.recv_slice(&mut out[got..])
                    };
                    return n.map_err(|_| Errno::ECONNRESET);
                }
                if !s.may_recv() {
                    // A reset (closed without our FIN) shows as an error once; an orderly
                    // close as end of file.
                    let reset = s.state() == Tcp::Closed
                        && self.shutdown.load(Ordering::Acquire) & SEND_SHUTDOWN == 0;
                    return if reset && got == 0 && !self.reset_reported.swap(true, Ordering::AcqRel)
                    {
                        Err(Errno::ECONNRESET)
                    } else {
                        Ok(0)
                    };
                }
                Err(Errno::EAGAIN)
            });
            match r {
                Some(Ok(0)) => break,
                Some(Ok(n)) => {
                    got += n;
                    if !peek {
                        self.bytes_received.fetch_add(n as u64, Ordering::Relaxed);
                    }
                    if peek || got >= target {
                        break;
                    }
                    continue;
                }
                Some(Err(Errno::EAGAIN)) => {}
                Some(Err(e)) => return if got > 0 { Ok(out[..got].to_vec()) } else { Err(e) },
                None => break,
            }
            if nonblock || flags & MSG_DONTWAIT != 0 {
                if got > 0 {
                    break;
                }
                return Err(Errno::EAGAIN);
            }
            let need = target - got;
            if let Err(e) = wait(&self.events, || self.readable_now(need).then_some(()), timeout) {
                if got > 0 {
                    break;
                }
                return Err(e);
            }
        }
        out.truncate(got);
        Ok(out)
    }

    fn local_name(&self) -> Vec<u8> {
        let (a, p) = match &*self.state.lock() {
            State::Unbound => (None, 0),
            State::Bound(b) | State::Listening { local: b, .. } => (b.addr, b.port),
            State::Connecting(h) | State::Connected(h) => {
                let ep = stack::peek(|s| s.sockets.get::<tcp::Socket>(*h).local_endpoint());
                match ep {
                    Some(ep) => (Some(ep.addr), ep.port),
                    None => (None, self.own_port.lock().unwrap_or(0)),
                }
            }
        };
        addr::encode(a, p, self.family)
    }
}

impl Drop for TcpSocket {
    fn drop(&mut self) {
        let state = core::mem::replace(&mut *self.state.lock(), State::Unbound);
        let port = self.own_port.lock().take();
        let reuse = self.opts.lock().reuseaddr;
        stack::with(|s| {
            let reuseport = port.and_then(|p| s.tcp_ports.reuseport_of(p, self.ino));
            match state {
                State::Connecting(h) | State::Connected(h) => {
                    s.unwatch(h);
                    let sock = s.sockets.get_mut::<tcp::Socket>(h);
                    // Unread data makes close a reset, as in Linux; so does SO_LINGER with a
                    // zero timeout (tcp_close's "disconnect").
                    let linger = self.opts.lock().linger;
                    let hold = if sock.can_recv() || (linger.0 != 0 && linger.1 == 0) {
                        sock.abort();
                        None
                    } else {
                        sock.close();
                        // The connection keeps its port until it is over (TIME-WAIT included).
                        sock.local_endpoint().map(|ep| {
                            let owner = common::next_ino();
                            let addr = Some(ep.addr);
                            let holder = Holder {
                                owner,
                                v6: self.family == AF_INET6,
                                v6only: self.inet.lock().v6only,
                                addr,
                                reuse,
                                reuseport,
                                listening: false,
                                expires_ns: None,
                            };
                            s.tcp_ports.hold(ep.port, holder);
                            (owner, ep.port)
                        })
                    };
                    s.closing.push(Closing { handle: h, hold });
                }
                State::Listening { .. } => s.remove_listener(self.ino),
                _ => {}
            }
            if let Some(p) = port {
                s.tcp_ports.release(p, self.ino);
            }
        });
    }
}

impl Socket for TcpSocket {
    fn bind(&self, a: &[u8]) -> Result<()> {
        let want = addr::parse_bind(a, self.family)?;
        if want.addr.is_some_and(|ad| !common::local(ad)) {
            return Err(Errno::EADDRNOTAVAIL);
        }
        if !matches!(*self.state.lock(), State::Unbound) {
            return Err(Errno::EINVAL);
        }
        common::may_bind_port(want.port)?;
        let reuse = self.opts.lock().reuseaddr;
        let port = stack::with(|s| self.reserve_port(s, want.port, want.addr, reuse))?;
        *self.state.lock() = State::Bound(SockAddr { addr: want.addr, port });
        Ok(())
    }

    fn listen(&self, backlog: i32) -> Result<()> {
        let backlog = crate::net::options::listen_backlog(backlog);
        let local = match &*self.state.lock() {
            State::Bound(b) => *b,
            State::Unbound => SockAddr { addr: None, port: 0 },
            State::Listening { .. } => {
                // listen() again changes the backlog (Linux's inet_listen).
                stack::with(|s| s.set_backlog(self.ino, backlog));
                return Ok(());
            }
            _ => return Err(Errno::EINVAL),
        };
        let (reuse, reuseport) = {
            let o = self.opts.lock();
            (o.reuseaddr, o.reuseport)
        };
        let rings = self.rings();
        let v6only = self.inet.lock().v6only;
        let local = stack::with(|s| -> Result<SockAddr> {
            let port = if local.port == 0 {
                self.reserve_port(s, 0, local.addr, reuse)?
            } else {
                local.port
            };
            let local = SockAddr { addr: local.addr, port };
            s.tcp_ports.set_listening(port, self.ino);
            let listener = TcpListener {
                endpoint: listen_endpoint(&local, self.family),
                takes_v4: self.family == AF_INET || !v6only,
                takes_v6: self.family == AF_INET6,
                is_v4_socket: self.family == AF_INET,
                reuseport: common::reuseport_owner(reuseport),
                backlog,
                rings,
                nagle: !self.nodelay.load(Ordering::Relaxed),
                refuse_v6: self.refused_version(&local),
                events: Arc::downgrade(&self.events),
                armed: Vec::new(),
                queue: Vec::new(),
            };
            s.add_listener(self.ino, listener)?;
            Ok(local)
        })?;
        *self.state.lock() = State::Listening { local };
        Ok(())
    }

    fn accept(&self, nonblock: bool) -> Result<(Arc<dyn FileLike>, Vec<u8>)> {
        if !matches!(*self.state.lock(), State::Listening { .. }) {
            return Err(Errno::EINVAL);
        }
        let timeout = self.opts.lock().rcvtimeo;
        // The wait's condition only peeks: taking a connection pumps the stack, which wakes
        // every inet waiter, and two accepters pumping in their conditions would wake each
        // other forever.
        let events = SocketEvents::new();
        let h = loop {
            if !matches!(*self.state.lock(), State::Listening { .. }) {
                return Err(Errno::EINVAL);
            }
            if let Some(h) = self.take_established(&events) {
                break h;
            }
            if nonblock {
                return Err(Errno::EAGAIN);
            }
            wait(
                &self.events,
                || {
                    (self.has_pending() || !matches!(*self.state.lock(), State::Listening { .. }))
                        .then_some(())
                },
                timeout,
            )?;
        };
        let mut child = TcpSocket::with_state(self.family, State::Connected(h));
        child.events = events;
        child.nodelay.store(self.nodelay.load(Ordering::Relaxed), Ordering::Relaxed);
        *child.opts.lock() = *self.opts.lock();
        *child.inet.lock() = *self.inet.lock();
        let peer = stack::peek(|s| s.sockets.get::<tcp::Socket>(h).remote_endpoint());
        let peer = peer.map(|ep| addr::encode_endpoint(ep, self.family)).unwrap_or_default();
        Ok((Arc::new(child) as Arc<dyn FileLike>, peer))
    }

    fn connect(&self, a: &[u8], nonblock: bool) -> Result<()> {
        self.do_connect(a, nonblock)
    }

    fn sendmsg(&self, msg: SendMsg, nonblock: bool) -> Result<usize> {
        // Linux's tcp_sendmsg ignores msg_name: sendto on a connected socket sends (and on an
        // unconnected one fails as send does).
        self.send(&msg.data, nonblock)
    }

    fn recvmsg(&self, len: usize, flags: u32, nonblock: bool) -> Result<RecvMsg> {
        let data = self.recv(len, flags, nonblock)?;
        let full_len = data.len();
        Ok(RecvMsg { data, full_len, ..RecvMsg::default() })
    }

    fn shutdown(&self, how: i32) -> Result<()> {
        let bits = match how {
            SHUT_RD => RCV_SHUTDOWN,
            SHUT_WR => SEND_SHUTDOWN,
            SHUT_RDWR => RCV_SHUTDOWN | SEND_SHUTDOWN,
            _ => return Err(Errno::EINVAL),
        };
        let listening = matches!(*self.state.lock(), State::Listening { .. });
        if listening {
            // Linux's inet_shutdown: a listener stops listening on SHUT_RD (pending
            // connections are reset, accept gives EINVAL); SHUT_WR alone changes nothing.
            if bits & RCV_SHUTDOWN != 0 {
                self.stop_listening();
            }
            return Ok(());
        }
        self.settle_connect();
        let connecting = match *self.state.lock() {
            State::Connecting(h) => Some(h),
            _ => None,
        };
        if let Some(h) = connecting {
            // Linux's inet_shutdown in SYN_SENT: the connect is given up (tcp_disconnect),
            // and the call succeeds.
            *self.state.lock() =
                State::Bound(SockAddr { addr: None, port: self.own_port.lock().unwrap_or(0) });
            self.connect_pending.store(false, Ordering::Release);
            stack::with(|s| {
                s.unwatch(h);
                s.sockets.get_mut::<tcp::Socket>(h).abort();
                s.closing.push(Closing { handle: h, hold: None });
            });
            self.events.notify();
            return Ok(());
        }
        if !matches!(*self.state.lock(), State::Connected(_)) {
            // Linux records the shutdown even here (a later recv sees end of file, a send
            // EPIPE, poll POLLIN|POLLRDHUP) and wakes the socket's waiters, then says ENOTCONN.
            self.shutdown.fetch_or(bits, Ordering::AcqRel);
            self.events.notify();
            return Err(Errno::ENOTCONN);
        }
        self.shutdown.fetch_or(bits, Ordering::AcqRel);
        if bits & SEND_SHUTDOWN != 0 {
            // FIN: the peer reads end of file; we may still receive.
            self.on_socket(|s| s.close());
        }
        self.events.notify();
        Ok(())
    }

    fn is_stream(&self) -> bool {
        true
    }

    fn getsockopt(&self, level: i32, name: i32) -> Result<Vec<u8>> {
        if level == sockopt::SOL_TCP && name == TCP_INFO {
            return Ok(self.tcp_info());
        }
        if level != SOL_SOCKET {
            self.settle_connect();
            let cx = self.option_context();
            return self.inet.lock().get(&cx, level, name);
        }
        if let Some(v) = self.opts.lock().get(name) {
            return Ok(v);
        }
        self.settle_connect();
        Ok(match name {
            options::SO_TYPE => options::int_bytes(SOCK_STREAM),
            options::SO_DOMAIN => options::int_bytes(self.family),
            options::SO_PROTOCOL => options::int_bytes(IPPROTO_TCP),
            options::SO_ERROR => {
                options::int_bytes(self.error.lock().take().map(|e| e as i32).unwrap_or(0))
            }
            options::SO_ACCEPTCONN => {
                options::int_bytes(matches!(*self.state.lock(), State::Listening { .. }) as i32)
            }
            _ => return Err(Errno::ENOPROTOOPT),
        })
    }

    fn setsockopt(&self, level: i32, name: i32, value: &[u8]) -> Result<()> {
        if level != SOL_SOCKET {
            let cx = self.option_context();
            let nodelay = {
                let mut inet = self.inet.lock();
                inet.set(&cx, level, name, value)?;
                inet.nodelay
            };
            if level == sockopt::SOL_TCP && name == sockopt::TCP_NODELAY {
                self.nodelay.store(nodelay, Ordering::Relaxed);
                self.on_socket(|s| s.set_nagle_enabled(!nodelay));
            }
            // Keep-alive tuning and the like are kept and have no effect on loopback.
            return Ok(());
        }
        let privileged = crate::net::env()?.capable(crate::cap::Cap::NetAdmin);
        if self.opts.lock().set(name, value, privileged)? {
            return Ok(());
        }
        Err(Errno::ENOPROTOOPT)
    }

    fn sockname(&self) -> Result<Vec<u8>> {
        Ok(self.local_name())
    }

    fn peername(&self) -> Result<Vec<u8>> {
        self.settle_connect();
        let ep = self.peek_socket(|s| s.remote_endpoint()).flatten();
        match (&*self.state.lock(), ep) {
            (State::Connected(_), Some(ep)) => Ok(addr::encode_endpoint(ep, self.family)),
            _ => Err(Errno::ENOTCONN),
        }
    }
}

impl FileLike for TcpSocket {
    fn read(&self, buf: &mut VmWriter, _offset: u64, nonblock: bool) -> Result<usize> {
        let data = self.recv(buf.len(), 0, nonblock)?;
        buf.write(&data)?;
        Ok(data.len())
    }

    fn write(&self, buf: &VmReader, _offset: u64, nonblock: bool) -> Result<usize> {
        buf.check()?;
        send_user(self, &[*buf], SendMsg::plain(), nonblock)
    }

    fn can_splice_read(&self) -> bool {
        true
    }

    fn can_splice_write(&self) -> bool {
        true
    }

    fn poll(&self, mask: IoEvents, poller: Option<&Poller>) -> IoEvents {
        if let Some(p) = poller {
            p.watch(&self.events.pollee, mask);
        }
        self.settle_connect();
        let shut = self.shutdown.load(Ordering::Acquire);
        let mut ev = IoEvents::empty();
        match &*self.state.lock() {
            State::Listening { .. } => {}
            State::Unbound | State::Bound(_) => {
                // Linux's tcp_poll in TCP_CLOSE.
                ev = IoEvents::writable() | IoEvents::HUP;
                if self.error.lock().is_some() {
                    ev |= IoEvents::ERR;
                }
                if shut & RCV_SHUTDOWN != 0 {
                    ev |= IoEvents::readable() | IoEvents::RDHUP;
                }
                return ev;
            }
            State::Connecting(_) => return ev,
            State::Connected(_) => {}
        }
        if self.has_pending() {
            ev |= IoEvents::readable();
        }
        let lowat = self.opts.lock().rcvlowat.max(1) as usize;
        if let Some((queued, may_recv, can_send, state)) =
            self.peek_socket(|s| (s.recv_queue(), s.may_recv(), s.can_send(), s.state()))
        {
            // Readable with SO_RCVLOWAT bytes queued (tcp_stream_is_readable).
            if queued >= lowat || !may_recv || shut & RCV_SHUTDOWN != 0 {
                ev |= IoEvents::readable();
            }
            if !may_recv || shut & RCV_SHUTDOWN != 0 {
                ev |= IoEvents::RDHUP;
            }
            if can_send && shut & SEND_SHUTDOWN == 0 {
                ev |= IoEvents::writable();
            }
            if state == Tcp::Closed
                || (shut == RCV_SHUTDOWN | SEND_SHUTDOWN)
                || (!may_recv
                    && !matches!(
                        state,
                        Tcp::Established | Tcp::CloseWait | Tcp::FinWait1 | Tcp::FinWait2
                    ))
            {
                ev |= IoEvents::HUP;
            }
        }
        ev
    }

    fn is_pollable(&self) -> bool {
        true
    }

    fn ioctl(&self, cmd: u32, arg: u64) -> Result<i64> {
        const FIONREAD: u32 = 0x541b;
        const TIOCOUTQ: u32 = 0x5411;
        let n = match cmd {
            FIONREAD => self.peek_socket(|s| s.recv_queue()).unwrap_or(0),
            TIOCOUTQ => self.peek_socket(|s| s.send_queue()).unwrap_or(0),
            _ => return Err(Errno::ENOTTY),
        };
        crate::mm::user::UserPtr::<i32>::new(arg).write(&(n as i32)).map(|_| 0)
    }

    fn metadata(&self) -> Metadata {
        common::metadata(self.ino)
    }

    fn as_socket(&self) -> Option<&dyn Socket> {
        Some(self)
    }
}
