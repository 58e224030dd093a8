//! `UdpSocket`: SOCK_DGRAM over IPv4/IPv6 on the loopback, on smoltcp's UDP.
//!
//! smoltcp's socket is made at the first bind (explicit or automatic) and kept for the life of
//! the socket, so a process blocked on it never meets a stale handle when another process
//! sharing the socket disconnects it. Its rings only carry datagrams through one pump (they
//! grow to the largest datagram seen); received datagrams wait in the socket's `Inbox`,
//! charged against SO_RCVBUF as Linux does (docs/inet.md).

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, Ordering};

use smoltcp::iface::SocketHandle;
use smoltcp::socket::udp::{self, UdpMetadata};
use smoltcp::wire::{IpAddress, IpEndpoint, IpListenEndpoint};

use super::addr::{self, SockAddr};
use super::common::{self, wait};
use super::ports::Holder;
use super::sockopt::{self, InetOptions};
use super::stack::{self, SocketEvents, Stack};
use crate::error::{Errno, Result};
use crate::event::{IoEvents, Poller};
use crate::fs::file::FileLike;
use crate::fs::inode::Metadata;
use crate::fs::socket::*;
use crate::mm::io::{VmReader, VmWriter};
use crate::net::options::{self, SocketOptions, SOL_SOCKET};
use crate::sync::Mutex;

/// The largest UDP payload over IPv4 (65535 - 8 - 20).
const MAX_DATAGRAM: usize = 65507;
const IPPROTO_UDP: i32 = 17;

/// A datagram held back by MSG_MORE or UDP_CORK.
struct Corked {
    data: Vec<u8>,
    dest: IpEndpoint,
}

const MSG_MORE: u32 = 0x8000;
const SOL_UDP: i32 = 17;
const UDP_CORK: i32 = 1;

pub struct UdpSocket {
    family: i32,
    /// The datagram MSG_MORE/UDP_CORK is building, and UDP_CORK.
    pending: Mutex<Option<Corked>>,
    cork: AtomicBool,
    events: Arc<SocketEvents>,
    /// smoltcp's socket, from the first bind on (unbound again by a disconnect).
    handle: Mutex<Option<SocketHandle>>,
    /// The bound address and port (port 0 after a disconnect gave an unnamed port back).
    local: Mutex<Option<SockAddr>>,
    remote: Mutex<Option<IpEndpoint>>,
    /// The source address connect chose for a socket bound to the wildcard (getsockname).
    conn_src: Mutex<Option<IpAddress>>,
    /// bind() named a port (Linux's SOCK_BINDPORT_LOCK): a disconnect keeps it.
    port_locked: AtomicBool,
    /// shutdown(SHUT_RD) / SHUT_WR were called.
    read_shut: AtomicBool,
    write_shut: AtomicBool,
    /// An error not reported yet (sk_err): the port unreachable a connected socket's
    /// datagram met. The next send, receive or SO_ERROR takes it.
    error: Mutex<Option<Errno>>,
    opts: Mutex<SocketOptions>,
    /// The IP/IPv6 levels' options.
    inet: Mutex<InetOptions>,
    ino: u64,
}

impl UdpSocket {
    pub fn new(family: i32) -> Arc<UdpSocket> {
        let events = SocketEvents::new();
        {
            let mut inbox = events.inbox.lock();
            inbox.rcvbuf = SocketOptions::default().rcvbuf;
            inbox.takes_v4 = true;
            inbox.takes_v6 = family == AF_INET6;
            inbox.is_v4_socket = family == AF_INET;
        }
        Arc::new(UdpSocket {
            family,
            pending: Mutex::new(None),
            cork: AtomicBool::new(false),
            events,
            handle: Mutex::new(None),
            local: Mutex::new(None),
            remote: Mutex::new(None),
            conn_src: Mutex::new(None),
            port_locked: AtomicBool::new(false),
            read_shut: AtomicBool::new(false),
            write_shut: AtomicBool::new(false),
            error: Mutex::new(None),
            opts: Mutex::new(SocketOptions::default()),
            inet: Mutex::new(InetOptions::default()),
            ino: common::next_ino(),
        })
    }

    /// Our smoltcp socket, bound (`want`, or an ephemeral port on the address bound before
    /// if None). Runs under the stack's lock, so no other process can unbind it meanwhile.
    fn bound(&self, s: &mut Stack, want: Option<SockAddr>) -> Result<SocketHandle> {
        let h = match *self.handle.lock() {
            Some(h) => h,
            None => {
                let sock = stack::new_udp(stack::UDP_MIN_RING, stack::UDP_MIN_RING)?;
                let rings = stack::udp_rings(&sock);
                let h = s.add(sock).inspect_err(|_| stack::uncharge(rings))?;
                s.watch(h, &self.events);
                h
            }
        };
        *self.handle.lock() = Some(h);
        if s.sockets.get::<udp::Socket>(h).is_open() {
            return Ok(h);
        }
        let want =
            want.unwrap_or(SockAddr { addr: self.local.lock().and_then(|l| l.addr), port: 0 });
        let port = if want.port == 0 {
            s.ephemeral_port(false).ok_or(Errno::EADDRINUSE)?
        } else {
            want.port
        };
        let reuseport = common::reuseport_owner(self.opts.lock().reuseport);
        let holder = Holder {
            owner: self.ino,
            v6: self.family == AF_INET6,
            v6only: self.inet.lock().v6only,
            addr: want.addr,
            reuse: self.opts.lock().reuseaddr,
            reuseport,
            listening: false,
            expires_ns: None,
        };
        s.udp_ports.reserve(port, holder)?;
        self.events.inbox.lock().reuseport = holder.reuseport;
        // The wildcard listens on every address (all of 127.0.0.0/8); the inbox drops
        // the IP version an AF_INET socket does not take.
        let ep = IpListenEndpoint { addr: want.addr, port };
        if s.sockets.get_mut::<udp::Socket>(h).bind(ep).is_err() {
            s.udp_ports.release(port, self.ino);
            return Err(Errno::EINVAL);
        }
        *self.local.lock() = Some(SockAddr { addr: want.addr, port });
        Ok(h)
    }

    /// connect(AF_UNSPEC): forgets the peer; a port bind() did not name goes back to the pool
    /// (getsockname shows port 0 until the next send binds a new one), as in Linux. Queued
    /// datagrams stay readable.
    fn disconnect(&self) {
        *self.remote.lock() = None;
        *self.conn_src.lock() = None;
        self.events.inbox.lock().peer = None;
        if self.port_locked.load(Ordering::Relaxed) {
            return;
        }
        stack::with(|s| {
            let Some(h) = *self.handle.lock() else { return };
            s.sockets.get_mut::<udp::Socket>(h).close();
            let mut local = self.local.lock();
            if let Some(l) = *local {
                s.udp_ports.release(l.port, self.ino);
                *local = Some(SockAddr { addr: l.addr, port: 0 });
            }
        });
        self.events.notify();
    }

    fn option_context(&self) -> sockopt::Context {
        sockopt::Context {
            family: self.family,
            sock_type: SOCK_DGRAM,
            bound: self.local.lock().is_some_and(|l| l.port != 0),
            connected: self.remote.lock().is_some(),
        }
    }

    /// Linux's checks of a destination: IP versions of the bound address and the
    /// destination, a v6-only socket and an IPv4(-mapped) one (ENETUNREACH), the loopback.
    fn may_reach(&self, dest: IpAddress) -> Result<()> {
        common::versions_match(self.local.lock().and_then(|l| l.addr), dest)?;
        if matches!(dest, IpAddress::Ipv4(_)) && self.inet.lock().v6only {
            return Err(Errno::ENETUNREACH);
        }
        if !common::reachable(dest) {
            return Err(Errno::ENETUNREACH);
        }
        Ok(())
    }

    /// The control messages a datagram to `to` that arrived at `at_ns` comes with, in
    /// Linux's order: the timestamp (sock_recv_cmsgs), IPV6_PKTINFO (an IPv4 datagram's
    /// address mapped), IP_PKTINFO (ifindex 1, lo; the destination as spec_dst and addr).
    fn control_messages(&self, to: IpAddress, at_ns: i64) -> Vec<(i32, i32, Vec<u8>)> {
        let mut out = Vec::new();
        let opts = *self.opts.lock();
        let inet = *self.inet.lock();
        let (sec, ns) = (at_ns.div_euclid(1_000_000_000), at_ns.rem_euclid(1_000_000_000));
        let mut cm = |level: i32, ty: i32, parts: &[&[u8]]| {
            let mut v = Vec::new();
            for p in parts {
                v.extend_from_slice(p);
            }
            if out.try_reserve(1).is_ok() {
                out.push((level, ty, v));
            }
        };
        if opts.timestamp {
            cm(
                SOL_SOCKET,
                options::SO_TIMESTAMP,
                &[&sec.to_ne_bytes(), &(ns / 1000).to_ne_bytes()],
            );
        } else if opts.timestampns {
            cm(SOL_SOCKET, options::SO_TIMESTAMPNS, &[&sec.to_ne_bytes(), &ns.to_ne_bytes()]);
        }
        const LO_IFINDEX: i32 = 1;
        const IP_PKTINFO: i32 = 8;
        const IPV6_PKTINFO: i32 = 50;
        if self.family == AF_INET6 && inet.wants_pktinfo6() {
            let a = addr::encode(Some(to), 0, AF_INET6);
            cm(sockopt::SOL_IPV6, IPV6_PKTINFO, &[&a[8..24], &LO_IFINDEX.to_ne_bytes()]);
        }
        if let IpAddress::Ipv4(v4) = to {
            if inet.wants_pktinfo() {
                let o = v4.octets();
                cm(sockopt::SOL_IP, IP_PKTINFO, &[&LO_IFINDEX.to_ne_bytes(), &o, &o]);
            }
        }
        out
    }

    fn take_error(&self) -> Result<()> {
        match self.error.lock().take() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    fn send(&self, data: &[u8], to: Option<&[u8]>, flags: u32) -> Result<usize> {
        if flags & MSG_OOB != 0 {
            return Err(Errno::EOPNOTSUPP);
        }
        // Linux's udp_sendmsg with a corked datagram pending: the data joins it (the address
        // of this call is not looked at), and it goes once a send comes without MSG_MORE.
        let more = flags & MSG_MORE != 0 || self.cork.load(Ordering::Acquire);
        let flush = {
            let mut pending = self.pending.lock();
            match pending.as_mut() {
                None => None,
                Some(p) => {
                    if p.data.len() + data.len() > MAX_DATAGRAM {
                        *pending = None;
                        return Err(Errno::EMSGSIZE);
                    }
                    p.data.try_reserve(data.len()).map_err(|_| Errno::ENOBUFS)?;
                    p.data.extend_from_slice(data);
                    if more {
                        return Ok(data.len());
                    }
                    pending.take()
                }
            }
        };
        if let Some(p) = flush {
            self.transmit(&p.data, p.dest)?;
            return Ok(data.len());
        }
        let connected = *self.remote.lock();
        let dest = match to {
            Some(a) => {
                let t = addr::parse_udp(a, self.family)?;
                // Linux's udp_sendmsg: no datagram goes to port 0.
                if t.port == 0 {
                    return Err(Errno::EINVAL);
                }
                IpEndpoint::new(common::or_loopback(t.addr, self.family), t.port)
            }
            None => connected.ok_or(Errno::EDESTADDRREQ)?,
        };
        self.may_reach(dest.addr)?;
        if data.len() > MAX_DATAGRAM {
            return Err(Errno::EMSGSIZE);
        }
        // Linux's sock_alloc_send_skb: a pending error fails the send (and is cleared).
        self.take_error()?;
        if more {
            let mut copy = Vec::new();
            copy.try_reserve_exact(data.len()).map_err(|_| Errno::ENOBUFS)?;
            copy.extend_from_slice(data);
            *self.pending.lock() = Some(Corked { data: copy, dest });
            return Ok(data.len());
        }
        self.transmit(data, dest)?;
        Ok(data.len())
    }

    /// Sends one datagram to `dest` now.
    fn transmit(&self, data: &[u8], dest: IpEndpoint) -> Result<()> {
        let connected = *self.remote.lock();
        let unreachable = stack::with(|s| -> Result<bool> {
            let h = self.bound(s, None)?;
            let me = s.sockets.get::<udp::Socket>(h).endpoint();
            let src = IpEndpoint::new(me.addr.unwrap_or(common::source_for(dest.addr)), me.port);
            let nobody = s.udp_owner(dest.addr, dest.port, src).is_none();
            s.make_room_for(dest.port, data.len())?;
            let sock = s.sockets.get_mut::<udp::Socket>(h);
            if sock.payload_send_capacity() < data.len() {
                let rx = sock.payload_recv_capacity();
                stack::resize_udp(sock, rx, data.len())?;
            }
            sock.send_slice(data, UdpMetadata::from(dest)).map_err(|e| match e {
                // The ring was made big enough and is empty between pumps.
                udp::SendError::BufferFull => Errno::ENOBUFS,
                udp::SendError::Unaddressable => Errno::EINVAL,
            })?;
            Ok(nobody)
        })?;
        // The loopback answers a datagram to a port nobody holds with an ICMP port
        // unreachable, which Linux reports to a connected socket (sk_err): POLLERR, and the
        // next send, receive or SO_ERROR says ECONNREFUSED.
        if unreachable && connected == Some(dest) {
            *self.error.lock() = Some(Errno::ECONNREFUSED);
            self.events.notify();
        }
        Ok(())
    }

    fn recv(&self, len: usize, flags: u32, nonblock: bool) -> Result<RecvMsg> {
        if flags & MSG_OOB != 0 {
            return Err(Errno::EOPNOTSUPP);
        }
        let timeout = self.opts.lock().rcvtimeo;
        let peek = flags & MSG_PEEK != 0;
        loop {
            self.take_error()?;
            let got = {
                let mut inbox = self.events.inbox.lock();
                if peek {
                    match inbox.queue.front() {
                        Some(d) => {
                            let mut copy = Vec::new();
                            let n = d.data.len().min(len);
                            copy.try_reserve_exact(n).map_err(|_| Errno::ENOMEM)?;
                            copy.extend_from_slice(&d.data[..n]);
                            Some((copy, d.data.len(), d.from, d.to, d.at_ns))
                        }
                        None => None,
                    }
                } else {
                    inbox.queue.pop_front().map(|d| {
                        inbox.charged -= d.truesize;
                        stack::uncharge(d.truesize);
                        let n = d.data.len();
                        let mut data = d.data;
                        data.truncate(len);
                        (data, n, d.from, d.to, d.at_ns)
                    })
                }
            };
            if let Some((data, n, from, to, at_ns)) = got {
                let truncated = data.len() < n;
                return Ok(RecvMsg {
                    data,
                    full_len: n,
                    addr: Some(addr::encode_endpoint(from, self.family)),
                    flags: if truncated { MSG_TRUNC } else { 0 },
                    control: self.control_messages(to, at_ns),
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
                &self.events,
                || {
                    (!self.events.inbox.lock().queue.is_empty()
                        || self.read_shut.load(Ordering::Acquire)
                        || self.error.lock().is_some())
                    .then_some(())
                },
                timeout,
            )?;
        }
    }
}

impl Drop for UdpSocket {
    fn drop(&mut self) {
        let h = self.handle.lock().take();
        let port = self.local.lock().map(|l| l.port);
        if let Some(h) = h {
            stack::with(|s| {
                s.remove(h);
                if let Some(p) = port.filter(|&p| p != 0) {
                    s.udp_ports.release(p, self.ino);
                }
            });
        }
        let inbox = self.events.inbox.lock();
        stack::uncharge(inbox.charged);
    }
}

impl Socket for UdpSocket {
    fn bind(&self, a: &[u8]) -> Result<()> {
        let want = addr::parse_bind(a, self.family)?;
        if want.addr.is_some_and(|ad| !common::local(ad)) {
            return Err(Errno::EADDRNOTAVAIL);
        }
        if self.local.lock().is_some_and(|l| l.port != 0) {
            return Err(Errno::EINVAL);
        }
        common::may_bind_port(want.port)?;
        stack::with(|s| self.bound(s, Some(want)))?;
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
        let t = addr::parse_udp(a, self.family)?;
        let ep = IpEndpoint::new(common::or_loopback(t.addr, self.family), t.port);
        self.may_reach(ep.addr)?;
        stack::with(|s| self.bound(s, None))?;
        *self.remote.lock() = Some(ep);
        *self.conn_src.lock() = Some(common::source_for(ep.addr));
        self.events.inbox.lock().peer = Some(ep);
        Ok(())
    }

    fn sendmsg(&self, msg: SendMsg, _nonblock: bool) -> Result<usize> {
        // Datagrams leave at once over the loopback: a send never waits for room.
        self.send(&msg.data, msg.addr.as_deref(), msg.flags)
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
        if how != SHUT_RD {
            self.write_shut.store(true, Ordering::Release);
        }
        self.events.notify();
        if self.remote.lock().is_none() {
            return Err(Errno::ENOTCONN);
        }
        Ok(())
    }

    fn getsockopt(&self, level: i32, name: i32) -> Result<Vec<u8>> {
        if level == SOL_UDP {
            return match name {
                UDP_CORK => Ok(options::int_bytes(self.cork.load(Ordering::Acquire) as i32)),
                _ => Err(Errno::ENOPROTOOPT),
            };
        }
        if level != SOL_SOCKET {
            let cx = self.option_context();
            return self.inet.lock().get(&cx, level, name);
        }
        if let Some(v) = self.opts.lock().get(name) {
            return Ok(v);
        }
        Ok(match name {
            options::SO_TYPE => options::int_bytes(SOCK_DGRAM),
            options::SO_DOMAIN => options::int_bytes(self.family),
            options::SO_PROTOCOL => options::int_bytes(IPPROTO_UDP),
            options::SO_ERROR => {
                options::int_bytes(self.error.lock().take().map(|e| e as i32).unwrap_or(0))
            }
            options::SO_ACCEPTCONN => options::int_bytes(0),
            _ => return Err(Errno::ENOPROTOOPT),
        })
    }

    fn setsockopt(&self, level: i32, name: i32, value: &[u8]) -> Result<()> {
        if level == SOL_UDP {
            if name != UDP_CORK {
                return Err(Errno::ENOPROTOOPT);
            }
            let v = value
                .get(..4)
                .map(|b| i32::from_ne_bytes([b[0], b[1], b[2], b[3]]))
                .ok_or(Errno::EINVAL)?;
            self.cork.store(v != 0, Ordering::Release);
            // Uncorking sends what was held (udp_push_pending_frames).
            if v == 0 {
                if let Some(p) = self.pending.lock().take() {
                    self.transmit(&p.data, p.dest)?;
                }
            }
            return Ok(());
        }
        if level != SOL_SOCKET {
            // Most IP-level options (TTL, multicast) mean nothing on the loopback; they are
            // kept and read back. IPV6_V6ONLY keeps IPv4 datagrams out.
            let cx = self.option_context();
            let mut inet = self.inet.lock();
            inet.set(&cx, level, name, value)?;
            self.events.inbox.lock().takes_v4 = !inet.v6only;
            return Ok(());
        }
        let privileged = crate::net::env()?.capable(crate::cap::Cap::NetAdmin);
        let mut opts = self.opts.lock();
        if opts.set(name, value, privileged)? {
            self.events.inbox.lock().rcvbuf = opts.rcvbuf;
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
            p.watch(&self.events.pollee, mask);
        }
        // Linux's datagram_poll.
        let mut ev = IoEvents::writable();
        if !self.events.inbox.lock().queue.is_empty() {
            ev |= IoEvents::readable();
        }
        if self.error.lock().is_some() {
            ev |= IoEvents::ERR;
        }
        let (rd, wr) =
            (self.read_shut.load(Ordering::Acquire), self.write_shut.load(Ordering::Acquire));
        if rd {
            ev |= IoEvents::readable() | IoEvents::RDHUP;
        }
        if rd && wr {
            ev |= IoEvents::HUP;
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
            FIONREAD => self.events.inbox.lock().queue.front().map(|d| d.data.len()).unwrap_or(0),
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
