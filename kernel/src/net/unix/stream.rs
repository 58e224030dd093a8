//! `UnixStreamSocket`: SOCK_STREAM and SOCK_SEQPACKET unix sockets. A listening socket keeps a
//! backlog of server-side sockets already connected to their clients; accept hands them out.
//! Each connected socket owns its receive queue; a writer appends to its peer's queue, bounded
//! by the writer's send buffer.

use alloc::collections::VecDeque;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU8, Ordering};

use super::addr::UnixAddr;
use super::names::{self, Bound};
use super::queue::{ByteQueue, Segment};
use crate::error::{Errno, Result};
use crate::event::{IoEvents, Pollee, Poller};
use crate::fs::file::FileLike;
use crate::fs::inode::Metadata;
use crate::fs::socket::*;
use crate::mm::io::{VmReader, VmWriter};
use crate::net::options::{self, SocketOptions, SOL_SOCKET};
use crate::sync::Mutex;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    Stream,
    SeqPacket,
}

impl Kind {
    fn sock_type(self) -> i32 {
        match self {
            Kind::Stream => SOCK_STREAM,
            Kind::SeqPacket => SOCK_SEQPACKET,
        }
    }
}

const RCV_SHUTDOWN: u8 = 1;
const SEND_SHUTDOWN: u8 = 2;

enum State {
    Unconnected,
    Listening { backlog: usize, pending: VecDeque<Arc<UnixStreamSocket>>, creds: Ucred },
    Connected { peer: Weak<UnixStreamSocket> },
}

pub struct UnixStreamSocket {
    kind: Kind,
    state: Mutex<State>,
    addr: Mutex<Option<UnixAddr>>,
    /// The peer's name when the connection was made (getpeername).
    peer_addr: Mutex<Option<UnixAddr>>,
    peer_cred: Mutex<Option<Ucred>>,
    rx: Mutex<ByteQueue>,
    /// RCV_SHUTDOWN / SEND_SHUTDOWN, set by shutdown(2) here or by the peer.
    shutdown: AtomicU8,
    /// ECONNRESET when the peer closed without reading what we sent (reported once).
    error: Mutex<Option<Errno>>,
    /// A server-side socket never accepted: its closing resets the client (Linux's embryo).
    embryo: core::sync::atomic::AtomicBool,
    opts: Mutex<SocketOptions>,
    /// Readers and accepters wait here for IN, writers for OUT (room in the peer, which the
    /// peer's reads announce here), connecters to a listener for OUT (room in its backlog);
    /// pollers watch it.
    pollee: Pollee,
    ino: u64,
    this: Weak<UnixStreamSocket>,
}

impl UnixStreamSocket {
    pub fn new(kind: Kind) -> Arc<UnixStreamSocket> {
        Arc::new_cyclic(|this| UnixStreamSocket {
            kind,
            state: Mutex::new(State::Unconnected),
            addr: Mutex::new(None),
            peer_addr: Mutex::new(None),
            peer_cred: Mutex::new(None),
            rx: Mutex::new(ByteQueue::default()),
            shutdown: AtomicU8::new(0),
            error: Mutex::new(None),
            embryo: core::sync::atomic::AtomicBool::new(false),
            opts: Mutex::new(SocketOptions::default()),
            pollee: Pollee::new(),
            ino: super::next_ino(),
            this: this.clone(),
        })
    }

    /// socketpair: two sockets connected to each other.
    pub fn pair(kind: Kind, creds: Ucred) -> (Arc<UnixStreamSocket>, Arc<UnixStreamSocket>) {
        let (a, b) = (Self::new(kind), Self::new(kind));
        a.link(&b, creds);
        b.link(&a, creds);
        (a, b)
    }

    fn me(&self) -> Arc<UnixStreamSocket> {
        self.this.upgrade().expect("socket alive")
    }

    /// Makes this socket's peer `peer`, whose owner has credentials `peer_creds`.
    fn link(&self, peer: &Arc<UnixStreamSocket>, peer_creds: Ucred) {
        *self.state.lock() = State::Connected { peer: Arc::downgrade(peer) };
        *self.peer_addr.lock() = peer.addr.lock().clone();
        *self.peer_cred.lock() = Some(peer_creds);
    }

    fn peer(&self) -> Option<Arc<UnixStreamSocket>> {
        match &*self.state.lock() {
            State::Connected { peer } => peer.upgrade(),
            _ => None,
        }
    }

    fn is_connected(&self) -> bool {
        matches!(*self.state.lock(), State::Connected { .. })
    }

    fn notify(&self, events: IoEvents) {
        self.pollee.notify(events);
    }

    /// The other end went away (closed): nothing more comes in, nothing can go out. If it
    /// left our data unread, our next receive reports ECONNRESET (as Linux).
    fn peer_closed(&self, unread: bool) {
        if unread {
            *self.error.lock() = Some(Errno::ECONNRESET);
        }
        self.shutdown.fetch_or(RCV_SHUTDOWN | SEND_SHUTDOWN, Ordering::AcqRel);
        self.notify(IoEvents::IN | IoEvents::OUT | IoEvents::HUP | IoEvents::RDHUP);
    }

    fn bound_as(&self) -> Bound {
        Bound::Stream(self.this.clone())
    }

    fn do_bind(&self, addr: UnixAddr) -> Result<()> {
        let mut mine = self.addr.lock();
        if mine.is_some() {
            return Err(Errno::EINVAL);
        }
        names::bind(&addr, self.bound_as())?;
        *mine = Some(addr);
        Ok(())
    }

    fn autobind(&self) -> Result<()> {
        if self.addr.lock().is_some() {
            return Ok(());
        }
        self.do_bind(UnixAddr::Abstract(names::autobind_name()))
    }

    /// Room for another message in `peer`'s queue under our send buffer? As Linux's
    /// sock_alloc_send_pskb: while what we have queued there costs less than the buffer
    /// (`super::truesize` per message, overhead included).
    fn room(&self, peer: &UnixStreamSocket, _need: usize) -> bool {
        let limit = self.opts.lock().sndbuf;
        peer.rx.lock().charged() < limit
    }

    fn send_error(&self) -> Option<Errno> {
        if self.shutdown.load(Ordering::Acquire) & SEND_SHUTDOWN != 0 {
            return Some(Errno::EPIPE);
        }
        match self.peer() {
            None if self.is_connected() => Some(Errno::EPIPE),
            None => Some(Errno::ENOTCONN),
            Some(p) if p.shutdown.load(Ordering::Acquire) & RCV_SHUTDOWN != 0 => Some(Errno::EPIPE),
            Some(_) => None,
        }
    }

    fn send(&self, msg: SendMsg, nonblock: bool) -> Result<usize> {
        match (self.kind, msg.addr.is_some(), self.is_connected()) {
            // Seqpacket ignores an address; unconnected it is ENOTCONN below (Linux).
            (Kind::Stream, true, true) => return Err(Errno::EISCONN),
            (Kind::Stream, true, false) => return Err(Errno::EOPNOTSUPP),
            _ => {}
        }
        if let Some(e) = self.send_error() {
            return Err(e);
        }
        let timeout = self.opts.lock().sndtimeo;
        let deadline = SocketOptions::deadline(timeout);
        let total = msg.data.len();
        if self.kind == Kind::SeqPacket && total > self.opts.lock().sndbuf.saturating_sub(32) {
            return Err(Errno::EMSGSIZE);
        }
        let mut rights = Some(msg.rights);
        let mut sent = 0;
        loop {
            let peer = match (self.send_error(), self.peer()) {
                (None, Some(p)) => p,
                (e, _) => return if sent > 0 { Ok(sent) } else { Err(e.unwrap_or(Errno::EPIPE)) },
            };
            let left = total - sent;
            // Seqpacket records go in whole; a stream takes what fits.
            let need = if self.kind == Kind::SeqPacket { left } else { 1 };
            if self.room(&peer, need) {
                let limit = self.opts.lock().sndbuf;
                let n = if self.kind == Kind::SeqPacket {
                    left
                } else {
                    left.min(limit.saturating_sub(peer.rx.lock().charged()).max(1))
                };
                let mut data = Vec::new();
                data.try_reserve_exact(n).map_err(|_| Errno::ENOBUFS)?;
                data.extend_from_slice(&msg.data[sent..sent + n]);
                if !peer.rx.lock().try_reserve() {
                    return if sent > 0 { Ok(sent) } else { Err(Errno::ENOBUFS) };
                }
                peer.rx.lock().push(Segment {
                    data,
                    read: 0,
                    rights: rights
                        .take()
                        .unwrap_or_default()
                        .into_iter()
                        .map(super::gc::InFlight::new)
                        .collect(),
                    creds: msg.creds,
                });
                sent += n;
                peer.pollee.notify(IoEvents::IN);
                if sent == total {
                    return Ok(sent);
                }
                continue;
            }
            if nonblock {
                return if sent > 0 { Ok(sent) } else { Err(Errno::EAGAIN) };
            }
            let r = self.pollee.wait_events(IoEvents::OUT, deadline, || {
                (self.send_error().is_some() || self.room(&peer, need)).then_some(())
            });
            if let Err(e) = r {
                return if sent > 0 {
                    Ok(sent)
                } else {
                    Err(SocketOptions::wait_errno(e, timeout))
                };
            }
        }
    }

    fn can_read(&self) -> bool {
        !self.rx.lock().is_empty() || self.shutdown.load(Ordering::Acquire) & RCV_SHUTDOWN != 0
    }

    fn recv(&self, len: usize, flags: u32, nonblock: bool) -> Result<RecvMsg> {
        match &*self.state.lock() {
            State::Connected { .. } => {}
            _ => return Err(Errno::EINVAL),
        }
        let timeout = self.opts.lock().rcvtimeo;
        let deadline = SocketOptions::deadline(timeout);
        let peek = flags & MSG_PEEK != 0;
        let waitall = flags & MSG_WAITALL != 0 && !peek && self.kind == Kind::Stream;
        let passcred = self.opts.lock().passcred;
        let mut out = RecvMsg::default();
        loop {
            let got = {
                let mut rx = self.rx.lock();
                if rx.is_empty() {
                    None
                } else if self.kind == Kind::SeqPacket {
                    Some(rx.read_record(len, peek))
                } else {
                    Some(rx.read_stream(len - out.data.len(), peek, passcred))
                }
            };
            if let Some(m) = got {
                if !peek {
                    if let Some(p) = self.peer() {
                        p.pollee.notify(IoEvents::OUT);
                    }
                }
                let first = out.data.is_empty() && out.rights.is_empty();
                out.data.extend_from_slice(&m.data);
                out.full_len =
                    if self.kind == Kind::SeqPacket { m.full_len } else { out.data.len() };
                out.flags |= m.flags;
                if first {
                    out.creds = m.creds;
                }
                out.rights.extend(m.rights);
                if !waitall || out.data.len() >= len || !out.rights.is_empty() {
                    break;
                }
                continue;
            }
            if out.data.is_empty() {
                if let Some(e) = self.error.lock().take() {
                    return Err(e);
                }
            }
            if self.shutdown.load(Ordering::Acquire) & RCV_SHUTDOWN != 0 {
                break;
            }
            if nonblock || flags & MSG_DONTWAIT != 0 {
                if out.data.is_empty() {
                    return Err(Errno::EAGAIN);
                }
                break;
            }
            let r =
                self.pollee.wait_events(IoEvents::IN, deadline, || self.can_read().then_some(()));
            if let Err(e) = r {
                if out.data.is_empty() {
                    return Err(SocketOptions::wait_errno(e, timeout));
                }
                break;
            }
        }
        if !passcred {
            out.creds = None;
        }
        out.addr = self.peer_addr.lock().clone().map(|a| a.encode());
        Ok(out)
    }

    fn do_accept(&self, nonblock: bool) -> Result<Arc<UnixStreamSocket>> {
        let timeout = self.opts.lock().rcvtimeo;
        let deadline = SocketOptions::deadline(timeout);
        // A listener shut down for reading still hands out what is pending, then says EINVAL
        // (Linux's unix_accept over skb_recv_datagram).
        let shut = || self.shutdown.load(Ordering::Acquire) & RCV_SHUTDOWN != 0;
        let take = || match &mut *self.state.lock() {
            State::Listening { pending, .. } => {
                Some(pending.pop_front().ok_or(if shut() { Errno::EINVAL } else { Errno::EAGAIN }))
            }
            _ => Some(Err(Errno::EINVAL)),
        };
        loop {
            match take() {
                Some(Ok(s)) => {
                    // Room in the backlog for a waiting connect.
                    self.pollee.notify(IoEvents::OUT);
                    return Ok(s);
                }
                Some(Err(Errno::EAGAIN)) if !nonblock => {}
                Some(Err(e)) => return Err(e),
                None => return Err(Errno::EINVAL),
            }
            let r = self.pollee.wait_events(IoEvents::IN, deadline, || match &*self.state.lock() {
                State::Listening { pending, .. } => (!pending.is_empty() || shut()).then_some(()),
                _ => Some(()),
            });
            r.map_err(|e| SocketOptions::wait_errno(e, timeout))?;
        }
    }

    fn do_connect(&self, addr: &[u8], nonblock: bool) -> Result<()> {
        match &*self.state.lock() {
            State::Connected { .. } => return Err(Errno::EISCONN),
            State::Listening { .. } => return Err(Errno::EINVAL),
            State::Unconnected => {}
        }
        let target_addr = UnixAddr::parse(addr)?.ok_or(Errno::EINVAL)?;
        let listener = match names::lookup(&target_addr)? {
            Bound::Stream(w) => w.upgrade().ok_or(Errno::ECONNREFUSED)?,
            Bound::Datagram(_) => return Err(Errno::EPROTOTYPE),
        };
        if listener.kind != self.kind {
            return Err(Errno::EPROTOTYPE);
        }
        if self.opts.lock().passcred || listener.opts.lock().passcred {
            self.autobind()?;
        }
        let my_creds = crate::net::env()?.creds();
        let timeout = self.opts.lock().sndtimeo;
        let deadline = SocketOptions::deadline(timeout);
        loop {
            {
                let mut st = listener.state.lock();
                let State::Listening { backlog, pending, creds } = &mut *st else {
                    return Err(Errno::ECONNREFUSED);
                };
                // Linux accepts one more than the backlog.
                if pending.len() <= *backlog {
                    let server = UnixStreamSocket::new(self.kind);
                    *server.addr.lock() = listener.addr.lock().clone();
                    *server.opts.lock() = *listener.opts.lock();
                    server.link(&self.me(), my_creds);
                    self.link(&server, *creds);
                    pending.push_back(server);
                    drop(st);
                    listener.pollee.notify(IoEvents::IN);
                    self.pollee.notify(IoEvents::OUT);
                    return Ok(());
                }
            }
            if nonblock {
                return Err(Errno::EAGAIN);
            }
            let r = listener.pollee.wait_events(IoEvents::OUT, deadline, || {
                match &*listener.state.lock() {
                    State::Listening { backlog, pending, .. } => {
                        (pending.len() <= *backlog).then_some(())
                    }
                    _ => Some(()),
                }
            });
            r.map_err(|e| SocketOptions::wait_errno(e, timeout))?;
        }
    }
}

impl Drop for UnixStreamSocket {
    fn drop(&mut self) {
        let state = core::mem::replace(&mut *self.state.lock(), State::Unconnected);
        match state {
            State::Connected { peer } => {
                if let Some(p) = peer.upgrade() {
                    let embryo = self.embryo.load(Ordering::Relaxed);
                    p.peer_closed(embryo || !self.rx.lock().is_empty());
                }
            }
            // Pending connections die with the listener; their clients are reset.
            State::Listening { pending, .. } => {
                for s in &pending {
                    s.embryo.store(true, Ordering::Relaxed);
                }
                drop(pending)
            }
            State::Unconnected => {}
        }
        if let Some(UnixAddr::Abstract(name)) = self.addr.lock().take() {
            names::unbind_abstract(&name);
        }
    }
}

impl Socket for UnixStreamSocket {
    fn bind(&self, addr: &[u8]) -> Result<()> {
        match UnixAddr::parse(addr)? {
            // Autobinding a bound socket changes nothing (Linux returns success).
            None => self.autobind(),
            Some(a) => self.do_bind(a),
        }
    }

    fn listen(&self, backlog: i32) -> Result<()> {
        let backlog = crate::net::options::listen_backlog(backlog);
        let mut st = self.state.lock();
        match &mut *st {
            State::Connected { .. } => Err(Errno::EINVAL),
            State::Listening { backlog: b, .. } => {
                *b = backlog;
                drop(st);
                self.pollee.notify(IoEvents::OUT);
                Ok(())
            }
            State::Unconnected => {
                if self.addr.lock().is_none() {
                    return Err(Errno::EINVAL);
                }
                let creds = crate::net::env()?.creds();
                *st = State::Listening { backlog, pending: VecDeque::new(), creds };
                Ok(())
            }
        }
    }

    fn accept(&self, nonblock: bool) -> Result<(Arc<dyn FileLike>, Vec<u8>)> {
        let s = self.do_accept(nonblock)?;
        let peer_addr = s.peer_addr.lock().clone().unwrap_or(UnixAddr::Unnamed).encode();
        Ok((s as Arc<dyn FileLike>, peer_addr))
    }

    fn connect(&self, addr: &[u8], nonblock: bool) -> Result<()> {
        self.do_connect(addr, nonblock)
    }

    fn sendmsg(&self, msg: SendMsg, nonblock: bool) -> Result<usize> {
        self.send(msg, nonblock)
    }

    fn recvmsg(&self, len: usize, flags: u32, nonblock: bool) -> Result<RecvMsg> {
        self.recv(len, flags, nonblock)
    }

    fn shutdown(&self, how: i32) -> Result<()> {
        let mine = match how {
            SHUT_RD => RCV_SHUTDOWN,
            SHUT_WR => SEND_SHUTDOWN,
            SHUT_RDWR => RCV_SHUTDOWN | SEND_SHUTDOWN,
            _ => return Err(Errno::EINVAL),
        };
        // An unconnected socket accepts shutdown too (Linux).
        self.shutdown.fetch_or(mine, Ordering::AcqRel);
        self.notify(IoEvents::IN | IoEvents::OUT | IoEvents::RDHUP | IoEvents::HUP);
        if let Some(peer) = self.peer() {
            // Our SHUT_WR is the peer's end of input; our SHUT_RD stops the peer's writes.
            let theirs = (if mine & SEND_SHUTDOWN != 0 { RCV_SHUTDOWN } else { 0 })
                | (if mine & RCV_SHUTDOWN != 0 { SEND_SHUTDOWN } else { 0 });
            peer.shutdown.fetch_or(theirs, Ordering::AcqRel);
            peer.notify(IoEvents::IN | IoEvents::OUT | IoEvents::RDHUP | IoEvents::HUP);
        }
        Ok(())
    }

    fn is_stream(&self) -> bool {
        self.kind == Kind::Stream
    }

    fn getsockopt(&self, level: i32, name: i32) -> Result<Vec<u8>> {
        if level != SOL_SOCKET {
            return Err(Errno::EOPNOTSUPP);
        }
        if let Some(v) = self.opts.lock().get(name) {
            return Ok(v);
        }
        Ok(match name {
            options::SO_TYPE => options::int_bytes(self.kind.sock_type()),
            options::SO_DOMAIN => options::int_bytes(AF_UNIX),
            options::SO_PROTOCOL => options::int_bytes(0),
            options::SO_ERROR => {
                options::int_bytes(self.error.lock().take().map(|e| e as i32).unwrap_or(0))
            }
            options::SO_ACCEPTCONN => {
                options::int_bytes(matches!(*self.state.lock(), State::Listening { .. }) as i32)
            }
            options::SO_PEERCRED => {
                // A listening socket reports its own credentials (taken at listen).
                let listening = match &*self.state.lock() {
                    State::Listening { creds, .. } => Some(*creds),
                    _ => None,
                };
                let c = listening.or(*self.peer_cred.lock()).unwrap_or(Ucred {
                    pid: 0,
                    uid: u32::MAX,
                    gid: u32::MAX,
                });
                bytemuck::bytes_of(&c).to_vec()
            }
            _ => return Err(Errno::ENOPROTOOPT),
        })
    }

    fn setsockopt(&self, level: i32, name: i32, value: &[u8]) -> Result<()> {
        if level != SOL_SOCKET {
            return Err(Errno::EOPNOTSUPP);
        }
        let privileged = crate::net::env()?.capable(crate::cap::Cap::NetAdmin);
        if self.opts.lock().set(name, value, privileged)? {
            // A buffer size changed: our writers, and the peer's (whose room is ours), re-check.
            self.notify(IoEvents::OUT);
            if let Some(p) = self.peer() {
                p.notify(IoEvents::OUT);
            }
            return Ok(());
        }
        Err(Errno::ENOPROTOOPT)
    }

    fn sockname(&self) -> Result<Vec<u8>> {
        Ok(self.addr.lock().clone().unwrap_or(UnixAddr::Unnamed).encode())
    }

    fn queued_files(&self) -> Vec<Arc<crate::fs::file::OpenFile>> {
        let mut v = self.rx.lock().files();
        if let State::Listening { pending, .. } = &*self.state.lock() {
            for p in pending {
                v.extend(p.rx.lock().files());
            }
        }
        v
    }

    fn purge_queue(&self) {
        // Dropped outside the lock: freeing a file may close another socket. A listener's
        // connections not yet accepted go too: their queues are part of what it holds
        // (a listener sent over a connection still in its own backlog).
        let purged = self.rx.lock().purge();
        let pending = match &mut *self.state.lock() {
            State::Listening { pending, .. } => core::mem::take(pending),
            _ => VecDeque::new(),
        };
        for p in &pending {
            p.embryo.store(true, Ordering::Relaxed);
            let q = p.rx.lock().purge();
            drop(q);
        }
        drop(purged);
        drop(pending);
    }

    fn peername(&self) -> Result<Vec<u8>> {
        if !self.is_connected() {
            return Err(Errno::ENOTCONN);
        }
        Ok(self.peer_addr.lock().clone().unwrap_or(UnixAddr::Unnamed).encode())
    }
}

impl FileLike for UnixStreamSocket {
    fn read(&self, buf: &mut VmWriter, _offset: u64, nonblock: bool) -> Result<usize> {
        super::plain_io::read(self, buf, nonblock)
    }

    fn write(&self, buf: &VmReader, _offset: u64, nonblock: bool) -> Result<usize> {
        super::plain_io::write(self, buf, nonblock)
    }

    fn can_splice_read(&self) -> bool {
        true
    }

    fn can_splice_write(&self) -> bool {
        true
    }

    fn poll(&self, mask: IoEvents, poller: Option<&Poller>) -> IoEvents {
        if let Some(p) = poller {
            p.watch(&self.pollee, mask);
        }
        let shut = self.shutdown.load(Ordering::Acquire);
        let mut ev = IoEvents::empty();
        match &*self.state.lock() {
            State::Listening { pending, .. } => {
                if !pending.is_empty() {
                    ev |= IoEvents::readable();
                }
                return ev;
            }
            State::Unconnected => return IoEvents::writable() | IoEvents::HUP,
            State::Connected { .. } => {}
        }
        if !self.rx.lock().is_empty() {
            ev |= IoEvents::readable();
        }
        if self.error.lock().is_some() {
            ev |= IoEvents::ERR;
        }
        if shut & RCV_SHUTDOWN != 0 {
            ev |= IoEvents::readable() | IoEvents::RDHUP;
        }
        if shut == RCV_SHUTDOWN | SEND_SHUTDOWN {
            ev |= IoEvents::HUP;
        }
        // Writable is about our own buffer, as Linux's unix_writable: it stays set after a
        // shutdown or a hang-up (a write then fails with EPIPE).
        match self.peer() {
            Some(peer) => {
                if let Some(p) = poller {
                    p.watch(&peer.pollee, mask);
                }
                if self.room(&peer, 1) {
                    ev |= IoEvents::writable();
                }
            }
            None => ev |= IoEvents::writable(),
        }
        ev
    }

    fn is_pollable(&self) -> bool {
        true
    }

    fn ioctl(&self, cmd: u32, arg: u64) -> Result<i64> {
        const FIONREAD: u32 = 0x541b;
        const TIOCOUTQ: u32 = 0x5411;
        match cmd {
            FIONREAD => {
                let n = self.rx.lock().len() as i32;
                crate::mm::user::UserPtr::<i32>::new(arg).write(&n).map(|_| 0)
            }
            TIOCOUTQ => {
                let n = self.peer().map(|p| p.rx.lock().len()).unwrap_or(0) as i32;
                crate::mm::user::UserPtr::<i32>::new(arg).write(&n).map(|_| 0)
            }
            _ => Err(Errno::ENOTTY),
        }
    }

    fn metadata(&self) -> Metadata {
        super::socket_metadata(self.ino)
    }

    fn as_socket(&self) -> Option<&dyn Socket> {
        Some(self)
    }
}
