//! `TcpSocket`: SOCK_STREAM over IPv4/IPv6 on the loopback, on smoltcp's TCP. A listening
//! socket keeps a pool of smoltcp sockets listening on its port (one per backlog slot, as
//! smoltcp accepts one connection per socket); accept takes an established one and puts a
//! fresh listener in its place.

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicU8, Ordering};

use smoltcp::iface::SocketHandle;
use smoltcp::socket::tcp::{self, State as Tcp};
use smoltcp::wire::{IpAddress, IpEndpoint, IpListenEndpoint};

use super::addr::{self, SockAddr};
use super::common::{self, wait};
use super::ports::Holder;
use super::stack::{self, Closing, Stack};
use crate::error::{Errno, Result};
use crate::event::{IoEvents, Poller};
use crate::fs::file::FileLike;
use crate::fs::inode::Metadata;
use crate::fs::socket::*;
use crate::mm::user::UserSlice;
use crate::net::options::{self, SocketOptions, SOL_SOCKET};
use crate::sync::Mutex;

const BUFFER: usize = 64 * 1024;
/// smoltcp sockets listening per listener at most (each holds two buffers).
const MAX_POOL: usize = 16;
const IPPROTO_TCP: i32 = 6;
const TCP_NODELAY: i32 = 1;
const TCP_MAXSEG: i32 = 2;
const RCV_SHUTDOWN: u8 = 1;
const SEND_SHUTDOWN: u8 = 2;

enum State {
    Unbound,
    Bound(SockAddr),
    Listening { local: SockAddr, pool: Vec<SocketHandle> },
    Connecting(SocketHandle),
    Connected(SocketHandle),
}

pub struct TcpSocket {
    family: i32,
    state: Mutex<State>,
    /// The port this socket reserved (bind, connect); accepted sockets share their listener's.
    own_port: Mutex<Option<u16>>,
    opts: Mutex<SocketOptions>,
    nodelay: AtomicBool,
    shutdown: AtomicU8,
    /// A connection error not yet reported (SO_ERROR, a nonblocking connect that failed).
    error: Mutex<Option<Errno>>,
    /// A reset from the peer was reported once (later reads see end of file).
    reset_reported: AtomicBool,
    /// The peer's FIN was seen (a later reset makes writes EPIPE, as Linux's CLOSE_WAIT).
    peer_closed: AtomicBool,
    ino: u64,
}

fn new_smoltcp_socket() -> Result<tcp::Socket<'static>> {
    let mut s = tcp::Socket::new(
        tcp::SocketBuffer::new(common::filled(0u8, BUFFER)?),
        tcp::SocketBuffer::new(common::filled(0u8, BUFFER)?),
    );
    // Loopback needs no delayed ACKs; they only add latency.
    s.set_ack_delay(None);
    Ok(s)
}

fn listen_endpoint(a: &SockAddr, family: i32) -> IpListenEndpoint {
    IpListenEndpoint { addr: common::listen_addr(a.addr, family), port: a.port }
}

impl TcpSocket {
    pub fn new(family: i32) -> Arc<TcpSocket> {
        Arc::new(Self::with_state(family, State::Unbound))
    }

    fn with_state(family: i32, state: State) -> TcpSocket {
        TcpSocket {
            family,
            state: Mutex::new(state),
            own_port: Mutex::new(None),
            opts: Mutex::new(SocketOptions::default()),
            nodelay: AtomicBool::new(false),
            shutdown: AtomicU8::new(0),
            error: Mutex::new(None),
            reset_reported: AtomicBool::new(false),
            peer_closed: AtomicBool::new(false),
            ino: common::next_ino(),
        }
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
                stack::with(|s| {
                    s.sockets.remove(h);
                });
                *self.error.lock() = Some(Errno::ECONNREFUSED);
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
            addr,
            reuse,
            listening: false,
            expires_ns: None,
        };
        s.tcp_ports.expire(crate::arch::time::monotonic_ns());
        s.tcp_ports.reserve(port, holder)?;
        *self.own_port.lock() = Some(port);
        Ok(port)
    }

    fn do_connect(&self, a: &[u8], nonblock: bool) -> Result<()> {
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
        if !common::reachable(remote) {
            return Err(Errno::ENETUNREACH);
        }
        let reuse = self.opts.lock().reuseaddr;
        let h = stack::with(|s| -> Result<SocketHandle> {
            let port = match bound {
                Some(b) if b.port != 0 => b.port,
                _ => self.reserve_port(s, 0, bound.and_then(|b| b.addr), reuse)?,
            };
            let mut sock = new_smoltcp_socket()?;
            sock.set_nagle_enabled(!self.nodelay.load(Ordering::Relaxed));
            let local = IpListenEndpoint { addr: bound.and_then(|b| b.addr), port };
            sock.connect(s.context_for(remote), IpEndpoint::new(remote, target.port), local)
                .map_err(|_| Errno::EADDRNOTAVAIL)?;
            Ok(s.sockets.add(sock))
        })?;
        *self.state.lock() = State::Connecting(h);
        self.settle_connect();
        if nonblock {
            // Linux answers every non-blocking connect with EINPROGRESS, even when the
            // loopback has already finished (or refused) the handshake: the outcome is read
            // from poll and SO_ERROR.
            return Err(Errno::EINPROGRESS);
        }
        let timeout = self.opts.lock().sndtimeo;
        wait(
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

    /// An established connection from the pool, replaced by a fresh listener.
    fn take_established(&self) -> Option<SocketHandle> {
        let mut st = self.state.lock();
        let State::Listening { local, pool } = &mut *st else { return None };
        let local = *local;
        stack::with(|s| {
            let i = pool.iter().position(|&h| {
                !matches!(
                    s.sockets.get::<tcp::Socket>(h).state(),
                    Tcp::Listen | Tcp::SynReceived | Tcp::Closed
                )
            })?;
            let h = pool.remove(i);
            // Without memory for a fresh listener the pool shrinks by one (never below one:
            // the next accept tries again).
            if let Ok(mut fresh) = new_smoltcp_socket() {
                if fresh.listen(listen_endpoint(&local, self.family)).is_ok() {
                    pool.push(s.sockets.add(fresh));
                }
            }
            Some(h)
        })
    }

    /// A listener's shutdown: its pool is reset and it goes back to bound (its port kept).
    fn stop_listening(&self) {
        let mut st = self.state.lock();
        let State::Listening { local, pool } = &mut *st else { return };
        let pool = core::mem::take(pool);
        *st = State::Bound(*local);
        drop(st);
        stack::with(|s| {
            for h in pool {
                s.sockets.get_mut::<tcp::Socket>(h).abort();
                s.closing.push(Closing { handle: h, hold: None });
            }
        });
    }

    fn has_pending(&self) -> bool {
        match &*self.state.lock() {
            State::Listening { pool, .. } => stack::peek(|s| {
                pool.iter().any(|&h| {
                    !matches!(
                        s.sockets.get::<tcp::Socket>(h).state(),
                        Tcp::Listen | Tcp::SynReceived | Tcp::Closed
                    )
                })
            }),
            _ => false,
        }
    }

    fn send(&self, data: &[u8], nonblock: bool) -> Result<usize> {
        if self.shutdown.load(Ordering::Acquire) & SEND_SHUTDOWN != 0 {
            return Err(Errno::EPIPE);
        }
        self.settle_connect();
        if !matches!(*self.state.lock(), State::Connected(_)) {
            return Err(Errno::ENOTCONN);
        }
        let timeout = self.opts.lock().sndtimeo;
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
                    continue;
                }
                Some(Err(e)) => return if sent > 0 { Ok(sent) } else { Err(e) },
                None => return Err(Errno::ENOTCONN),
            }
            if nonblock {
                return if sent > 0 { Ok(sent) } else { Err(Errno::EAGAIN) };
            }
            let w = wait(
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

    fn readable_now(&self) -> bool {
        self.shutdown.load(Ordering::Acquire) & RCV_SHUTDOWN != 0
            || self.peek_socket(|s| s.can_recv() || !s.may_recv()).unwrap_or(true)
    }

    fn recv(&self, len: usize, flags: u32, nonblock: bool) -> Result<Vec<u8>> {
        self.settle_connect();
        if !matches!(*self.state.lock(), State::Connected(_)) {
            return Err(Errno::ENOTCONN);
        }
        let timeout = self.opts.lock().rcvtimeo;
        let peek = flags & MSG_PEEK != 0;
        let waitall = flags & MSG_WAITALL != 0 && !peek;
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
                    if !waitall || got == len {
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
            if let Err(e) = wait(|| self.readable_now().then_some(()), timeout) {
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
            match state {
                State::Connecting(h) | State::Connected(h) => {
                    let sock = s.sockets.get_mut::<tcp::Socket>(h);
                    // Unread data makes close a reset, as in Linux.
                    let hold = if sock.can_recv() {
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
                                addr,
                                reuse,
                                listening: false,
                                expires_ns: None,
                            };
                            s.tcp_ports.hold(ep.port, holder);
                            (owner, ep.port)
                        })
                    };
                    s.closing.push(Closing { handle: h, hold });
                }
                State::Listening { pool, .. } => {
                    for h in pool {
                        s.sockets.get_mut::<tcp::Socket>(h).abort();
                        s.closing.push(Closing { handle: h, hold: None });
                    }
                }
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
        let want = addr::parse(a, self.family)?;
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
        let local = match &*self.state.lock() {
            State::Bound(b) => *b,
            State::Unbound => SockAddr { addr: None, port: 0 },
            State::Listening { .. } => return Ok(()),
            _ => return Err(Errno::EINVAL),
        };
        let reuse = self.opts.lock().reuseaddr;
        let pool_size = (backlog.max(0) as usize + 1).min(MAX_POOL);
        let (local, pool) = stack::with(|s| -> Result<(SockAddr, Vec<SocketHandle>)> {
            let port = if local.port == 0 {
                self.reserve_port(s, 0, local.addr, reuse)?
            } else {
                local.port
            };
            let local = SockAddr { addr: local.addr, port };
            s.tcp_ports.set_listening(port, self.ino);
            let mut pool = Vec::new();
            for _ in 0..pool_size {
                let made = new_smoltcp_socket().and_then(|mut sock| {
                    sock.listen(listen_endpoint(&local, self.family))
                        .map_err(|_| Errno::EADDRINUSE)?;
                    Ok(sock)
                });
                match made {
                    Ok(sock) => pool.push(s.sockets.add(sock)),
                    // Out of memory after the first: a smaller pool still listens.
                    Err(Errno::ENOBUFS) if !pool.is_empty() => break,
                    Err(e) => {
                        for h in pool {
                            s.sockets.remove(h);
                        }
                        return Err(e);
                    }
                }
            }
            Ok((local, pool))
        })?;
        *self.state.lock() = State::Listening { local, pool };
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
        let h = loop {
            if !matches!(*self.state.lock(), State::Listening { .. }) {
                return Err(Errno::EINVAL);
            }
            if let Some(h) = self.take_established() {
                break h;
            }
            if nonblock {
                return Err(Errno::EAGAIN);
            }
            wait(
                || {
                    (self.has_pending() || !matches!(*self.state.lock(), State::Listening { .. }))
                        .then_some(())
                },
                timeout,
            )?;
        };
        let child = TcpSocket::with_state(self.family, State::Connected(h));
        child.nodelay.store(self.nodelay.load(Ordering::Relaxed), Ordering::Relaxed);
        *child.opts.lock() = *self.opts.lock();
        let peer = stack::peek(|s| s.sockets.get::<tcp::Socket>(h).remote_endpoint());
        let peer = peer.map(|ep| addr::encode_endpoint(ep, self.family)).unwrap_or_default();
        Ok((Arc::new(child) as Arc<dyn FileLike>, peer))
    }

    fn connect(&self, a: &[u8], nonblock: bool) -> Result<()> {
        self.do_connect(a, nonblock)
    }

    fn sendmsg(&self, msg: SendMsg, nonblock: bool) -> Result<usize> {
        if msg.addr.is_some() && matches!(*self.state.lock(), State::Connected(_)) {
            return Err(Errno::EISCONN);
        }
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
        if !matches!(*self.state.lock(), State::Connected(_)) {
            return Err(Errno::ENOTCONN);
        }
        self.shutdown.fetch_or(bits, Ordering::AcqRel);
        if bits & SEND_SHUTDOWN != 0 {
            // FIN: the peer reads end of file; we may still receive.
            self.on_socket(|s| s.close());
        } else {
            stack::with(|_| ());
        }
        Ok(())
    }

    fn is_stream(&self) -> bool {
        true
    }

    fn getsockopt(&self, level: i32, name: i32) -> Result<Vec<u8>> {
        if level == IPPROTO_TCP {
            return match name {
                TCP_NODELAY => Ok(options::int_bytes(self.nodelay.load(Ordering::Relaxed) as i32)),
                TCP_MAXSEG => Ok(options::int_bytes(65483)),
                _ => Err(Errno::ENOPROTOOPT),
            };
        }
        if level != SOL_SOCKET {
            return Err(Errno::ENOPROTOOPT);
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
        if level == IPPROTO_TCP {
            let v = value
                .get(..4)
                .map(|b| i32::from_ne_bytes([b[0], b[1], b[2], b[3]]))
                .ok_or(Errno::EINVAL)?;
            if name == TCP_NODELAY {
                self.nodelay.store(v != 0, Ordering::Relaxed);
                self.on_socket(|s| s.set_nagle_enabled(v == 0));
            }
            // Keep-alive tuning and the like are accepted and have no effect on loopback.
            return Ok(());
        }
        if level != SOL_SOCKET {
            return Err(Errno::ENOPROTOOPT);
        }
        let privileged = crate::net::env()?.is_root();
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
    fn read(&self, buf: UserSlice, _offset: u64, nonblock: bool) -> Result<usize> {
        let data = self.recv(buf.len(), 0, nonblock)?;
        buf.write(&data)?;
        Ok(data.len())
    }

    fn write(&self, buf: UserSlice, _offset: u64, nonblock: bool) -> Result<usize> {
        buf.check()?;
        send_user(self, &[buf], SendMsg::plain(), nonblock)
    }

    fn read_kernel(
        &self,
        buf: &mut Vec<u8>,
        max: usize,
        _offset: u64,
        nonblock: bool,
    ) -> Option<Result<usize>> {
        Some(self.recv(max, 0, nonblock).map(|d| {
            *buf = d;
            buf.len()
        }))
    }

    fn write_kernel(&self, data: &[u8], _offset: u64, nonblock: bool) -> Option<Result<usize>> {
        Some(self.send(data, nonblock))
    }

    fn poll(&self, mask: IoEvents, poller: Option<&Poller>) -> IoEvents {
        if let Some(p) = poller {
            p.watch(&stack::POLLEE, mask);
        }
        self.settle_connect();
        let shut = self.shutdown.load(Ordering::Acquire);
        let mut ev = IoEvents::empty();
        match &*self.state.lock() {
            State::Listening { .. } => {}
            State::Unbound | State::Bound(_) => {
                return if self.error.lock().is_some() {
                    IoEvents::ERR | IoEvents::HUP | IoEvents::writable()
                } else {
                    IoEvents::writable() | IoEvents::HUP
                };
            }
            State::Connecting(_) => return ev,
            State::Connected(_) => {}
        }
        if self.has_pending() {
            ev |= IoEvents::readable();
        }
        if let Some((can_recv, may_recv, can_send, state)) =
            self.peek_socket(|s| (s.can_recv(), s.may_recv(), s.can_send(), s.state()))
        {
            if can_recv || !may_recv || shut & RCV_SHUTDOWN != 0 {
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
