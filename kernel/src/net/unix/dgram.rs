//! `UnixDatagramSocket`: SOCK_DGRAM unix sockets. Each socket owns a queue of whole messages
//! with their sender's address; senders block (or get EAGAIN) while the receiver's queue holds
//! more than net.unix.max_dgram_qlen messages.

use alloc::collections::VecDeque;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU8, Ordering};

use super::addr::UnixAddr;
use super::names::{self, Bound};
use crate::error::{Errno, Result};
use crate::event::{IoEvents, Pollee, Poller};
use crate::fs::file::{FileLike, OpenFile};
use crate::fs::inode::Metadata;
use crate::fs::socket::*;
use crate::mm::io::{VmReader, VmWriter};
use crate::net::options::{self, SocketOptions, SOL_SOCKET};
use crate::sync::Mutex;

/// Linux's net.unix.max_dgram_qlen.
const MAX_DGRAM_QLEN: usize = 10;
const RCV_SHUTDOWN: u8 = 1;
const SEND_SHUTDOWN: u8 = 2;

struct Datagram {
    data: Vec<u8>,
    from: UnixAddr,
    rights: Vec<super::gc::InFlight>,
    creds: Ucred,
    /// What this message costs its sender's send buffer until it is read or dropped.
    _charge: Charge,
}

/// A message's charge on its sender's send buffer (Linux's skb_set_owner_w): given back, and
/// blocked senders woken, when the message goes, wherever it was queued.
struct Charge {
    sender: Weak<UnixDatagramSocket>,
    bytes: usize,
}

impl Drop for Charge {
    fn drop(&mut self) {
        if let Some(s) = self.sender.upgrade() {
            s.wmem.fetch_sub(self.bytes, Ordering::AcqRel);
            s.pollee.notify(IoEvents::OUT);
        }
    }
}

pub struct UnixDatagramSocket {
    addr: Mutex<Option<UnixAddr>>,
    peer: Mutex<Option<Weak<UnixDatagramSocket>>>,
    /// SO_PEERCRED: set by socketpair (the creator's credentials), as Linux.
    peer_cred: Mutex<Option<Ucred>>,
    rx: Mutex<VecDeque<Datagram>>,
    shutdown: AtomicU8,
    opts: Mutex<SocketOptions>,
    /// What our messages still queued anywhere cost (`super::truesize` each).
    wmem: core::sync::atomic::AtomicUsize,
    /// Receivers wait here for IN; senders for OUT, both for their own send buffer to drain
    /// (on their own socket) and for room in the queue of the socket they send to (on that
    /// one); pollers watch it.
    pollee: Pollee,
    ino: u64,
    this: Weak<UnixDatagramSocket>,
}

impl UnixDatagramSocket {
    pub fn new() -> Arc<UnixDatagramSocket> {
        Arc::new_cyclic(|this| UnixDatagramSocket {
            addr: Mutex::new(None),
            peer: Mutex::new(None),
            peer_cred: Mutex::new(None),
            rx: Mutex::new(VecDeque::new()),
            shutdown: AtomicU8::new(0),
            opts: Mutex::new(SocketOptions::default()),
            wmem: core::sync::atomic::AtomicUsize::new(0),
            pollee: Pollee::new(),
            ino: super::next_ino(),
            this: this.clone(),
        })
    }

    pub fn pair(creds: Ucred) -> (Arc<UnixDatagramSocket>, Arc<UnixDatagramSocket>) {
        let (a, b) = (Self::new(), Self::new());
        *a.peer_cred.lock() = Some(creds);
        *b.peer_cred.lock() = Some(creds);
        *a.peer.lock() = Some(Arc::downgrade(&b));
        *b.peer.lock() = Some(Arc::downgrade(&a));
        (a, b)
    }

    fn peer(&self) -> Option<Arc<UnixDatagramSocket>> {
        self.peer.lock().as_ref().and_then(|w| w.upgrade())
    }

    fn is_peer_of(&self, other: &UnixDatagramSocket) -> bool {
        other.peer.lock().as_ref().is_some_and(|w| w.ptr_eq(&self.this))
    }

    fn do_bind(&self, addr: UnixAddr) -> Result<()> {
        let mut mine = self.addr.lock();
        if mine.is_some() {
            return Err(Errno::EINVAL);
        }
        names::bind(&addr, Bound::Datagram(self.this.clone()))?;
        *mine = Some(addr);
        Ok(())
    }

    fn autobind(&self) -> Result<()> {
        if self.addr.lock().is_some() {
            return Ok(());
        }
        self.do_bind(UnixAddr::Abstract(names::autobind_name()))
    }

    fn find(addr: &[u8]) -> Result<Arc<UnixDatagramSocket>> {
        let a = UnixAddr::parse(addr)?.ok_or(Errno::EINVAL)?;
        match names::lookup(&a)? {
            Bound::Datagram(w) => w.upgrade().ok_or(Errno::ECONNREFUSED),
            Bound::Stream(_) => Err(Errno::EPROTOTYPE),
        }
    }

    /// Is this socket's queue too full for `sender`? The queue-length limit does not apply to
    /// a sender this socket is connected to (a socketpair); the sender's buffer does.
    fn full_for(&self, sender: &UnixDatagramSocket) -> bool {
        sender.out_of_buffer()
            || (!sender.is_peer_of(self) && self.rx.lock().len() > MAX_DGRAM_QLEN)
    }

    /// Our queued messages use up our send buffer (Linux's sock_alloc_send_pskb waits).
    fn out_of_buffer(&self) -> bool {
        self.wmem.load(Ordering::Acquire) >= self.opts.lock().sndbuf
    }

    fn send(&self, msg: SendMsg, nonblock: bool) -> Result<usize> {
        if self.shutdown.load(Ordering::Acquire) & SEND_SHUTDOWN != 0 {
            return Err(Errno::EPIPE);
        }
        let target = match &msg.addr {
            Some(a) => Self::find(a)?,
            None => {
                let peer = self.peer.lock().clone();
                match peer.map(|w| w.upgrade()) {
                    None => return Err(Errno::ENOTCONN),
                    Some(Some(p)) => p,
                    Some(None) => {
                        // The connected peer is gone: forget it and drop what it had sent us,
                        // as Linux does.
                        *self.peer.lock() = None;
                        let purged = core::mem::take(&mut *self.rx.lock());
                        drop(purged);
                        return Err(Errno::ECONNREFUSED);
                    }
                }
            }
        };
        // A socket connected elsewhere takes datagrams from its peer only.
        if target.peer.lock().as_ref().is_some_and(|w| !w.ptr_eq(&self.this)) {
            return Err(Errno::EPERM);
        }
        if target.shutdown.load(Ordering::Acquire) & RCV_SHUTDOWN != 0 {
            return Err(Errno::EPIPE);
        }
        if msg.data.len() > self.opts.lock().sndbuf.saturating_sub(32) {
            return Err(Errno::EMSGSIZE);
        }
        if self.opts.lock().passcred || target.opts.lock().passcred {
            self.autobind()?;
        }
        let timeout = self.opts.lock().sndtimeo;
        let deadline = SocketOptions::deadline(timeout);
        while target.full_for(self) {
            if nonblock {
                return Err(Errno::EAGAIN);
            }
            // Our own buffer drains as our messages are read (anywhere); the target's queue
            // as it reads.
            let pollee = if self.out_of_buffer() { &self.pollee } else { &target.pollee };
            pollee
                .wait_events(IoEvents::OUT, deadline, || {
                    let blocked = if self.out_of_buffer() {
                        true
                    } else {
                        target.rx.lock().len() > MAX_DGRAM_QLEN && !self.is_peer_of(&target)
                    };
                    let same_queue = core::ptr::eq(
                        pollee,
                        if self.out_of_buffer() { &self.pollee } else { &target.pollee },
                    );
                    (!blocked || !same_queue).then_some(())
                })
                .map_err(|e| SocketOptions::wait_errno(e, timeout))?;
        }
        let len = msg.data.len();
        let from = self.addr.lock().clone().unwrap_or(UnixAddr::Unnamed);
        let bytes = super::truesize(len);
        {
            let mut rx = target.rx.lock();
            rx.try_reserve(1).map_err(|_| Errno::ENOBUFS)?;
            self.wmem.fetch_add(bytes, Ordering::AcqRel);
            let rights = msg.rights.into_iter().map(super::gc::InFlight::new).collect();
            let charge = Charge { sender: self.this.clone(), bytes };
            rx.push_back(Datagram {
                data: msg.data,
                from,
                rights,
                creds: msg.creds,
                _charge: charge,
            });
        }
        target.pollee.notify(IoEvents::IN);
        Ok(len)
    }

    fn recv(&self, len: usize, flags: u32, nonblock: bool) -> Result<RecvMsg> {
        let timeout = self.opts.lock().rcvtimeo;
        let deadline = SocketOptions::deadline(timeout);
        let peek = flags & MSG_PEEK != 0;
        loop {
            let got = {
                let mut rx = self.rx.lock();
                match rx.front_mut() {
                    None => None,
                    Some(d) => {
                        let n = d.data.len().min(len);
                        let mut m = RecvMsg {
                            data: d.data[..n].to_vec(),
                            full_len: d.data.len(),
                            // An unnamed sender has no address at all (length 0), as in Linux.
                            addr: (d.from != UnixAddr::Unnamed).then(|| d.from.encode()),
                            creds: Some(d.creds),
                            flags: if n < d.data.len() { MSG_TRUNC } else { 0 },
                            ..RecvMsg::default()
                        };
                        if peek {
                            m.rights = d.rights.iter().map(|r| r.file().clone()).collect();
                        } else {
                            m.rights = core::mem::take(&mut d.rights)
                                .into_iter()
                                .map(super::gc::InFlight::deliver)
                                .collect();
                            rx.pop_front();
                        }
                        Some(m)
                    }
                }
            };
            if let Some(mut m) = got {
                if !peek {
                    self.pollee.notify(IoEvents::OUT);
                }
                if !self.opts.lock().passcred {
                    m.creds = None;
                }
                return Ok(m);
            }
            if self.shutdown.load(Ordering::Acquire) & RCV_SHUTDOWN != 0 {
                return Ok(RecvMsg::default());
            }
            if nonblock || flags & MSG_DONTWAIT != 0 {
                return Err(Errno::EAGAIN);
            }
            self.pollee
                .wait_events(IoEvents::IN, deadline, || {
                    (!self.rx.lock().is_empty()
                        || self.shutdown.load(Ordering::Acquire) & RCV_SHUTDOWN != 0)
                        .then_some(())
                })
                .map_err(|e| SocketOptions::wait_errno(e, timeout))?;
        }
    }
}

impl Drop for UnixDatagramSocket {
    fn drop(&mut self) {
        if let Some(UnixAddr::Abstract(name)) = self.addr.lock().take() {
            names::unbind_abstract(&name);
        }
    }
}

impl Socket for UnixDatagramSocket {
    fn bind(&self, addr: &[u8]) -> Result<()> {
        match UnixAddr::parse(addr)? {
            // Autobinding a bound socket changes nothing (Linux returns success).
            None => self.autobind(),
            Some(a) => self.do_bind(a),
        }
    }

    fn listen(&self, _backlog: i32) -> Result<()> {
        Err(Errno::EOPNOTSUPP)
    }

    fn accept(&self, _nonblock: bool) -> Result<(Arc<dyn FileLike>, Vec<u8>)> {
        Err(Errno::EOPNOTSUPP)
    }

    fn connect(&self, addr: &[u8], _nonblock: bool) -> Result<()> {
        // AF_UNSPEC dissolves the association.
        if addr.len() >= 2 && u16::from_ne_bytes([addr[0], addr[1]]) == 0 {
            *self.peer.lock() = None;
            return Ok(());
        }
        let target = Self::find(addr)?;
        if self.opts.lock().passcred {
            self.autobind()?;
        }
        *self.peer.lock() = Some(Arc::downgrade(&target));
        self.pollee.notify(IoEvents::OUT);
        Ok(())
    }

    fn sendmsg(&self, msg: SendMsg, nonblock: bool) -> Result<usize> {
        self.send(msg, nonblock)
    }

    fn recvmsg(&self, len: usize, flags: u32, nonblock: bool) -> Result<RecvMsg> {
        self.recv(len, flags, nonblock)
    }

    fn shutdown(&self, how: i32) -> Result<()> {
        let bits = match how {
            SHUT_RD => RCV_SHUTDOWN,
            SHUT_WR => SEND_SHUTDOWN,
            SHUT_RDWR => RCV_SHUTDOWN | SEND_SHUTDOWN,
            _ => return Err(Errno::EINVAL),
        };
        self.shutdown.fetch_or(bits, Ordering::AcqRel);
        self.pollee.notify(IoEvents::IN | IoEvents::OUT | IoEvents::HUP | IoEvents::RDHUP);
        // A connected pair shares shutdown, as for streams.
        if let Some(peer) = self.peer().filter(|p| self.is_peer_of(p)) {
            let theirs = (if bits & SEND_SHUTDOWN != 0 { RCV_SHUTDOWN } else { 0 })
                | (if bits & RCV_SHUTDOWN != 0 { SEND_SHUTDOWN } else { 0 });
            peer.shutdown.fetch_or(theirs, Ordering::AcqRel);
            peer.pollee.notify(IoEvents::IN | IoEvents::OUT | IoEvents::HUP | IoEvents::RDHUP);
        }
        Ok(())
    }

    fn getsockopt(&self, level: i32, name: i32) -> Result<Vec<u8>> {
        if level != SOL_SOCKET {
            return Err(Errno::EOPNOTSUPP);
        }
        if let Some(v) = self.opts.lock().get(name) {
            return Ok(v);
        }
        Ok(match name {
            options::SO_TYPE => options::int_bytes(SOCK_DGRAM),
            options::SO_DOMAIN => options::int_bytes(AF_UNIX),
            options::SO_PROTOCOL | options::SO_ERROR | options::SO_ACCEPTCONN => {
                options::int_bytes(0)
            }
            options::SO_PEERCRED => {
                let c =
                    self.peer_cred.lock().unwrap_or(Ucred { pid: 0, uid: u32::MAX, gid: u32::MAX });
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
            return Ok(());
        }
        Err(Errno::ENOPROTOOPT)
    }

    fn sockname(&self) -> Result<Vec<u8>> {
        Ok(self.addr.lock().clone().unwrap_or(UnixAddr::Unnamed).encode())
    }

    fn queued_files(&self) -> Vec<Arc<OpenFile>> {
        self.rx.lock().iter().flat_map(|d| d.rights.iter().map(|r| r.file().clone())).collect()
    }

    fn purge_queue(&self) {
        let purged = core::mem::take(&mut *self.rx.lock());
        drop(purged);
    }

    fn peername(&self) -> Result<Vec<u8>> {
        let peer = self.peer().ok_or(Errno::ENOTCONN)?;
        let a = peer.addr.lock().clone().unwrap_or(UnixAddr::Unnamed);
        Ok(a.encode())
    }
}

impl FileLike for UnixDatagramSocket {
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
        if !self.rx.lock().is_empty() {
            ev |= IoEvents::readable();
        }
        if shut & RCV_SHUTDOWN != 0 {
            ev |= IoEvents::readable() | IoEvents::RDHUP;
        }
        if shut == RCV_SHUTDOWN | SEND_SHUTDOWN {
            ev |= IoEvents::HUP;
        }
        // Writable unless the connected peer's queue is full.
        let writable = match self.peer() {
            Some(peer) => {
                if let Some(p) = poller {
                    p.watch(&peer.pollee, mask);
                }
                !peer.full_for(self)
            }
            None => true,
        };
        if writable && shut & SEND_SHUTDOWN == 0 {
            ev |= IoEvents::writable();
        }
        ev
    }

    fn is_pollable(&self) -> bool {
        true
    }

    fn ioctl(&self, cmd: u32, arg: u64) -> Result<i64> {
        const FIONREAD: u32 = 0x541b;
        match cmd {
            // The size of the next datagram, as Linux reports for unix datagram sockets.
            FIONREAD => {
                let n = self.rx.lock().front().map(|d| d.data.len()).unwrap_or(0) as i32;
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
