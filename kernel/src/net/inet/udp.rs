//! `UdpSocket`: SOCK_DGRAM over IPv4/IPv6 on the loopback, on smoltcp's UDP.

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, Ordering};

use smoltcp::iface::SocketHandle;
use smoltcp::socket::udp::{self, UdpMetadata};
use smoltcp::wire::{IpEndpoint, IpListenEndpoint};

use super::addr::{self, SockAddr};
use super::common::{self, wait};
use super::ports::Holder;
use super::stack::{self, Stack};
use crate::error::{Errno, Result};
use crate::event::{IoEvents, Poller};
use crate::fs::file::FileLike;
use crate::fs::inode::Metadata;
use crate::fs::socket::*;
use crate::mm::io::{VmReader, VmWriter};
use crate::net::options::{self, SocketOptions, SOL_SOCKET};
use crate::sync::Mutex;

const PACKETS: usize = 64;
const PAYLOAD: usize = 256 * 1024;
/// The largest UDP payload over IPv4 (65535 - 8 - 20).
const MAX_DATAGRAM: usize = 65507;
const IPPROTO_UDP: i32 = 17;

pub struct UdpSocket {
    family: i32,
    handle: Mutex<Option<SocketHandle>>,
    local: Mutex<Option<SockAddr>>,
    remote: Mutex<Option<IpEndpoint>>,
    /// The source address connect chose for a socket bound to the wildcard (getsockname).
    conn_src: Mutex<Option<smoltcp::wire::IpAddress>>,
    /// bind() named a port (Linux's SOCK_BINDPORT_LOCK): a disconnect keeps it.
    port_locked: AtomicBool,
    /// shutdown(SHUT_RD) was called: a blocking receive with nothing queued returns 0.
    read_shut: AtomicBool,
    opts: Mutex<SocketOptions>,
    ino: u64,
}

impl UdpSocket {
    pub fn new(family: i32) -> Arc<UdpSocket> {
        Arc::new(UdpSocket {
            family,
            handle: Mutex::new(None),
            local: Mutex::new(None),
            remote: Mutex::new(None),
            conn_src: Mutex::new(None),
            port_locked: AtomicBool::new(false),
            read_shut: AtomicBool::new(false),
            opts: Mutex::new(SocketOptions::default()),
            ino: common::next_ino(),
        })
    }

    /// Binds on the stack (port 0: an ephemeral one).
    fn bind_in(&self, s: &mut Stack, want: SockAddr) -> Result<SocketHandle> {
        let port = if want.port == 0 {
            s.ephemeral_port(false).ok_or(Errno::EADDRINUSE)?
        } else {
            want.port
        };
        let reuse = self.opts.lock().reuseaddr;
        let holder = Holder {
            owner: self.ino,
            v6: self.family == AF_INET6,
            addr: want.addr,
            reuse,
            listening: false,
            expires_ns: None,
        };
        let buffer = || -> Result<udp::PacketBuffer<'static>> {
            Ok(udp::PacketBuffer::new(
                common::filled(udp::PacketMetadata::EMPTY, PACKETS)?,
                common::filled(0u8, PAYLOAD)?,
            ))
        };
        let (rx, tx) = (buffer()?, buffer()?);
        s.udp_ports.reserve(port, holder)?;
        let mut sock = udp::Socket::new(rx, tx);
        if sock
            .bind(IpListenEndpoint { addr: common::listen_addr(want.addr, self.family), port })
            .is_err()
        {
            s.udp_ports.release(port, self.ino);
            return Err(Errno::EINVAL);
        }
        let h = s.sockets.add(sock);
        *self.handle.lock() = Some(h);
        *self.local.lock() = Some(SockAddr { addr: want.addr, port });
        Ok(h)
    }

    fn ensure_bound(&self) -> Result<SocketHandle> {
        if let Some(h) = *self.handle.lock() {
            return Ok(h);
        }
        // After a disconnect released the port, an address given to bind still holds.
        let addr = self.local.lock().and_then(|l| l.addr);
        stack::with(|s| self.bind_in(s, SockAddr { addr, port: 0 }))
    }

    /// connect(AF_UNSPEC): forgets the peer; a port bind() did not name goes back to the pool
    /// (getsockname shows port 0 until the next send binds a new one), as in Linux.
    fn disconnect(&self) {
        *self.remote.lock() = None;
        *self.conn_src.lock() = None;
        if self.port_locked.load(Ordering::Relaxed) {
            return;
        }
        let Some(h) = self.handle.lock().take() else { return };
        let local = self.local.lock().take();
        stack::with(|s| {
            s.sockets.remove(h);
            if let Some(l) = local {
                s.udp_ports.release(l.port, self.ino);
            }
        });
        *self.local.lock() = local.map(|l| SockAddr { addr: l.addr, port: 0 });
    }

    fn send(&self, data: &[u8], to: Option<&[u8]>, nonblock: bool) -> Result<usize> {
        let dest = match to {
            Some(a) => {
                let t = addr::parse(a, self.family)?;
                // Linux's udp_sendmsg: no datagram goes to port 0.
                if t.port == 0 {
                    return Err(Errno::EINVAL);
                }
                IpEndpoint::new(common::or_loopback(t.addr, self.family), t.port)
            }
            None => self.remote.lock().ok_or(Errno::EDESTADDRREQ)?,
        };
        common::versions_match(self.local.lock().and_then(|l| l.addr), dest.addr)?;
        if !common::reachable(dest.addr) {
            return Err(Errno::ENETUNREACH);
        }
        if data.len() > MAX_DATAGRAM {
            return Err(Errno::EMSGSIZE);
        }
        let h = self.ensure_bound()?;
        let timeout = self.opts.lock().sndtimeo;
        loop {
            let r = stack::with(|s| {
                let sock = s.sockets.get_mut::<udp::Socket>(h);
                if !sock.can_send() {
                    return Err(Errno::EAGAIN);
                }
                sock.send_slice(data, UdpMetadata::from(dest)).map_err(|e| match e {
                    udp::SendError::BufferFull => Errno::EAGAIN,
                    // Never retried: a wait for room would spin on a send that cannot go.
                    udp::SendError::Unaddressable => Errno::EINVAL,
                })
            });
            match r {
                Ok(()) => return Ok(data.len()),
                Err(Errno::EAGAIN) if !nonblock => {
                    wait(
                        || {
                            stack::peek(|s| s.sockets.get::<udp::Socket>(h).can_send())
                                .then_some(())
                        },
                        timeout,
                    )?;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// A connected socket drops datagrams from anyone but its peer (Linux never queues them).
    fn drop_foreign(&self, sock: &mut udp::Socket<'static>) {
        let Some(remote) = *self.remote.lock() else { return };
        while let Ok((_, m)) = sock.peek() {
            if m.endpoint == remote {
                break;
            }
            let _ = sock.recv();
        }
    }

    fn recv(&self, len: usize, flags: u32, nonblock: bool) -> Result<RecvMsg> {
        let h = self.ensure_bound()?;
        let timeout = self.opts.lock().rcvtimeo;
        let peek = flags & MSG_PEEK != 0;
        loop {
            // Only the part the caller takes is copied out of the stack's buffer.
            let got = stack::with(|s| {
                let sock = s.sockets.get_mut::<udp::Socket>(h);
                self.drop_foreign(sock);
                let r = if peek {
                    sock.peek().map(|(d, m)| (d[..d.len().min(len)].to_vec(), d.len(), m.endpoint))
                } else {
                    sock.recv().map(|(d, m)| (d[..d.len().min(len)].to_vec(), d.len(), m.endpoint))
                };
                r.ok()
            });
            if let Some((data, n, from)) = got {
                let truncated = data.len() < n;
                return Ok(RecvMsg {
                    data,
                    full_len: n,
                    addr: Some(addr::encode_endpoint(from, self.family)),
                    flags: if truncated { MSG_TRUNC } else { 0 },
                    ..RecvMsg::default()
                });
            }
            if nonblock || flags & MSG_DONTWAIT != 0 {
                return Err(Errno::EAGAIN);
            }
            // Linux's __skb_wait_for_more_packets: a blocking receive after SHUT_RD returns 0
            // instead of sleeping (a nonblocking one still says EAGAIN, above).
            if self.read_shut.load(Ordering::Acquire) {
                return Ok(RecvMsg::default());
            }
            wait(
                || (self.readable(h) || self.read_shut.load(Ordering::Acquire)).then_some(()),
                timeout,
            )?;
        }
    }

    fn readable(&self, h: SocketHandle) -> bool {
        stack::peek(|s| {
            let sock = s.sockets.get_mut::<udp::Socket>(h);
            self.drop_foreign(sock);
            sock.can_recv()
        })
    }
}

impl Drop for UdpSocket {
    fn drop(&mut self) {
        let h = self.handle.lock().take();
        let port = self.local.lock().map(|l| l.port);
        if let Some(h) = h {
            stack::with(|s| {
                s.sockets.remove(h);
                if let Some(p) = port {
                    s.udp_ports.release(p, self.ino);
                }
            });
        }
    }
}

impl Socket for UdpSocket {
    fn bind(&self, a: &[u8]) -> Result<()> {
        let want = addr::parse(a, self.family)?;
        if want.addr.is_some_and(|ad| !common::local(ad)) {
            return Err(Errno::EADDRNOTAVAIL);
        }
        if self.handle.lock().is_some() {
            return Err(Errno::EINVAL);
        }
        common::may_bind_port(want.port)?;
        stack::with(|s| self.bind_in(s, want))?;
        self.port_locked.store(want.port != 0, Ordering::Relaxed);
        Ok(())
    }

    fn listen(&self, _backlog: i32) -> Result<()> {
        Err(Errno::EOPNOTSUPP)
    }

    fn accept(&self, _nonblock: bool) -> Result<(Arc<dyn FileLike>, Vec<u8>)> {
        Err(Errno::EOPNOTSUPP)
    }

    fn connect(&self, a: &[u8], _nonblock: bool) -> Result<()> {
        if a.len() >= 2 && u16::from_ne_bytes([a[0], a[1]]) == 0 {
            self.disconnect();
            return Ok(());
        }
        let t = addr::parse(a, self.family)?;
        let ep = IpEndpoint::new(common::or_loopback(t.addr, self.family), t.port);
        common::versions_match(self.local.lock().and_then(|l| l.addr), ep.addr)?;
        if !common::reachable(ep.addr) {
            return Err(Errno::ENETUNREACH);
        }
        self.ensure_bound()?;
        *self.remote.lock() = Some(ep);
        *self.conn_src.lock() = Some(common::source_for(ep.addr));
        Ok(())
    }

    fn sendmsg(&self, msg: SendMsg, nonblock: bool) -> Result<usize> {
        self.send(&msg.data, msg.addr.as_deref(), nonblock)
    }

    fn recvmsg(&self, len: usize, flags: u32, nonblock: bool) -> Result<RecvMsg> {
        self.recv(len, flags, nonblock)
    }

    fn shutdown(&self, how: i32) -> Result<()> {
        if !(SHUT_RD..=SHUT_RDWR).contains(&how) {
            return Err(Errno::EINVAL);
        }
        // Linux's inet_shutdown records the shutdown even on an unconnected socket (and wakes
        // its waiters), then says ENOTCONN.
        if how != SHUT_WR {
            self.read_shut.store(true, Ordering::Release);
        }
        stack::with(|_| ());
        if self.remote.lock().is_none() {
            return Err(Errno::ENOTCONN);
        }
        Ok(())
    }

    fn getsockopt(&self, level: i32, name: i32) -> Result<Vec<u8>> {
        if level != SOL_SOCKET {
            return Err(Errno::ENOPROTOOPT);
        }
        if let Some(v) = self.opts.lock().get(name) {
            return Ok(v);
        }
        Ok(match name {
            options::SO_TYPE => options::int_bytes(SOCK_DGRAM),
            options::SO_DOMAIN => options::int_bytes(self.family),
            options::SO_PROTOCOL => options::int_bytes(IPPROTO_UDP),
            options::SO_ERROR | options::SO_ACCEPTCONN => options::int_bytes(0),
            _ => return Err(Errno::ENOPROTOOPT),
        })
    }

    fn setsockopt(&self, level: i32, name: i32, value: &[u8]) -> Result<()> {
        if level != SOL_SOCKET {
            // IP-level options (TTL, multicast) are accepted and mean nothing on loopback.
            return Ok(());
        }
        let privileged = crate::net::env()?.capable(crate::cap::Cap::NetAdmin);
        if self.opts.lock().set(name, value, privileged)? {
            return Ok(());
        }
        Err(Errno::ENOPROTOOPT)
    }

    fn sockname(&self) -> Result<Vec<u8>> {
        let l = *self.local.lock();
        let a = l.and_then(|l| l.addr).or(*self.conn_src.lock());
        Ok(addr::encode(a, l.map(|l| l.port).unwrap_or(0), self.family))
    }

    fn peername(&self) -> Result<Vec<u8>> {
        let r = self.remote.lock().ok_or(Errno::ENOTCONN)?;
        Ok(addr::encode_endpoint(r, self.family))
    }
}

impl FileLike for UdpSocket {
    fn read(&self, buf: &mut VmWriter, _offset: u64, nonblock: bool) -> Result<usize> {
        let m = self.recv(buf.len(), 0, nonblock)?;
        buf.write(&m.data)?;
        Ok(m.data.len())
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
            p.watch(&stack::POLLEE, mask);
        }
        let Some(h) = *self.handle.lock() else { return IoEvents::writable() };
        let (r, w) = stack::peek(|s| {
            let sock = s.sockets.get_mut::<udp::Socket>(h);
            self.drop_foreign(sock);
            (sock.can_recv(), sock.can_send())
        });
        let mut ev = IoEvents::empty();
        if r {
            ev |= IoEvents::readable();
        }
        if self.read_shut.load(Ordering::Acquire) {
            ev |= IoEvents::readable() | IoEvents::RDHUP;
        }
        if w {
            ev |= IoEvents::writable();
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
            // The size of the next datagram, as Linux's udp_ioctl.
            FIONREAD => match *self.handle.lock() {
                Some(h) => stack::peek(|s| {
                    let sock = s.sockets.get_mut::<udp::Socket>(h);
                    self.drop_foreign(sock);
                    sock.peek().map(|(d, _)| d.len()).unwrap_or(0)
                }),
                None => 0,
            },
            // Datagrams leave at once over the loopback.
            TIOCOUTQ => 0,
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
