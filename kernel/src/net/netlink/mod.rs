//! AF_NETLINK sockets, NETLINK_ROUTE only: user space reads and changes the interfaces,
//! addresses and routes of `net::inet::iface` with Linux's rtnetlink messages (route.rs), so
//! busybox `ip`, iproute2 and glibc's getaddrinfo(AI_ADDRCONFIG) work.
//!
//! Every request is answered while it is sent: the replies (a message, a dump ending in
//! NLMSG_DONE, an NLMSG_ERROR acknowledgement) are queued on the sender's socket as datagrams,
//! which recv takes one at a time. Multicast groups may be bound but nothing is ever broadcast.

mod msg;
mod route;

use alloc::collections::VecDeque;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU32, Ordering};

use crate::error::{Errno, Result};
use crate::event::{IoEvents, Pollee, Poller};
use crate::fs::file::FileLike;
use crate::fs::inode::Metadata;
use crate::fs::socket::*;
use crate::mm::io::{VmReader, VmWriter};
use crate::net::options::{self, SocketOptions, SOL_SOCKET};
use crate::sync::Mutex;

pub const AF_NETLINK: i32 = 16;
const NETLINK_ROUTE: i32 = 0;
const SOCK_RAW: i32 = 3;
const SOL_NETLINK: i32 = 270;
const NETLINK_ADD_MEMBERSHIP: i32 = 1;
const NETLINK_DROP_MEMBERSHIP: i32 = 2;
const NETLINK_PKTINFO: i32 = 3;
const NETLINK_CAP_ACK: i32 = 10;
const NETLINK_EXT_ACK: i32 = 11;
const NETLINK_GET_STRICT_CHK: i32 = 12;
/// sizeof(struct sockaddr_nl).
const SOCKADDR_NL_LEN: usize = 12;

/// socket(AF_NETLINK, type, protocol).
pub fn create(sock_type: i32, protocol: i32) -> Result<Arc<dyn FileLike>> {
    if sock_type != SOCK_RAW && sock_type != SOCK_DGRAM {
        return Err(Errno::ESOCKTNOSUPPORT);
    }
    if protocol != NETLINK_ROUTE {
        return Err(Errno::EPROTONOSUPPORT);
    }
    Ok(Arc::new(NetlinkSocket {
        sock_type,
        port: AtomicU32::new(0),
        groups: AtomicU32::new(0),
        queue: Mutex::new(VecDeque::new()),
        queued_bytes: Mutex::new(0),
        opts: Mutex::new(SocketOptions::default()),
        nl_opts: Mutex::new(NlOptions::default()),
        pollee: Pollee::new(),
        ino: NEXT_INO.fetch_add(1, Ordering::Relaxed) as u64,
    }))
}

static NEXT_INO: AtomicU32 = AtomicU32::new(0x4000_0000);

/// Port ids in use (Linux's nl_table for NETLINK_ROUTE).
static PORTS: Mutex<Vec<u32>> = Mutex::new(Vec::new());
/// The next negative port id for autobind when the pid is taken (Linux counts down from -4096).
static NEXT_AUTO: AtomicU32 = AtomicU32::new((-4096i32) as u32);

#[derive(Default, Clone, Copy)]
struct NlOptions {
    cap_ack: bool,
    ext_ack: bool,
    strict: bool,
    pktinfo: bool,
}

pub struct NetlinkSocket {
    sock_type: i32,
    /// The bound port id (nl_pid); 0 until bound.
    port: AtomicU32,
    groups: AtomicU32,
    queue: Mutex<VecDeque<Vec<u8>>>,
    queued_bytes: Mutex<usize>,
    opts: Mutex<SocketOptions>,
    nl_opts: Mutex<NlOptions>,
    /// Blocked readers wait here; pollers watch it.
    pollee: Pollee,
    ino: u64,
}

fn sockaddr_nl(port: u32, groups: u32) -> Vec<u8> {
    let mut v = Vec::with_capacity(SOCKADDR_NL_LEN);
    v.extend_from_slice(&(AF_NETLINK as u16).to_ne_bytes());
    v.extend_from_slice(&0u16.to_ne_bytes());
    v.extend_from_slice(&port.to_ne_bytes());
    v.extend_from_slice(&groups.to_ne_bytes());
    v
}

/// (nl_pid, nl_groups) of a sockaddr_nl.
fn parse_sockaddr(a: &[u8]) -> Result<(u32, u32)> {
    if a.len() < SOCKADDR_NL_LEN {
        return Err(Errno::EINVAL);
    }
    if u16::from_ne_bytes([a[0], a[1]]) as i32 != AF_NETLINK {
        return Err(Errno::EINVAL);
    }
    let pid = u32::from_ne_bytes([a[4], a[5], a[6], a[7]]);
    let groups = u32::from_ne_bytes([a[8], a[9], a[10], a[11]]);
    Ok((pid, groups))
}

impl NetlinkSocket {
    /// Binds `port` (0: the caller's pid if free, else a negative number, as Linux).
    fn bind_port(&self, port: u32) -> Result<u32> {
        let mut ports = PORTS.lock();
        let current = self.port.load(Ordering::Acquire);
        if current != 0 {
            return if port == 0 || port == current { Ok(current) } else { Err(Errno::EINVAL) };
        }
        let chosen = if port != 0 {
            if ports.contains(&port) {
                return Err(Errno::EADDRINUSE);
            }
            port
        } else {
            let pid = crate::net::env().map(|e| e.creds().pid as u32).unwrap_or(0);
            if pid != 0 && !ports.contains(&pid) {
                pid
            } else {
                loop {
                    let p = NEXT_AUTO.fetch_sub(1, Ordering::Relaxed);
                    if !ports.contains(&p) {
                        break p;
                    }
                }
            }
        };
        ports.try_reserve(1).map_err(|_| Errno::ENOMEM)?;
        ports.push(chosen);
        self.port.store(chosen, Ordering::Release);
        Ok(chosen)
    }

    fn push_reply(&self, datagram: Vec<u8>) {
        *self.queued_bytes.lock() += datagram.len();
        self.queue.lock().push_back(datagram);
    }

    fn send(&self, data: &[u8], to: Option<&[u8]>) -> Result<usize> {
        if let Some(a) = to {
            let (pid, groups) = parse_sockaddr(a)?;
            // Only the kernel (port 0) answers; messages to other sockets or groups are not
            // supported (Linux needs CAP_NET_ADMIN-free multicast sends only for some families).
            if pid != 0 || groups != 0 {
                return Err(Errno::ECONNREFUSED);
            }
        }
        let port = self.bind_port(0)?;
        let nl = *self.nl_opts.lock();
        let privileged =
            crate::net::env().map(|e| e.capable(crate::cap::Cap::NetAdmin)).unwrap_or(false);
        let replies = route::handle(data, port, nl.cap_ack, privileged);
        for d in replies {
            self.push_reply(d);
        }
        self.pollee.notify(IoEvents::readable());
        Ok(data.len())
    }

    fn recv(&self, len: usize, flags: u32, nonblock: bool) -> Result<RecvMsg> {
        let timeout = self.opts.lock().rcvtimeo;
        let take = || -> Option<Vec<u8>> {
            let mut q = self.queue.lock();
            if flags & MSG_PEEK != 0 {
                return q.front().cloned();
            }
            let d = q.pop_front()?;
            *self.queued_bytes.lock() -= d.len();
            Some(d)
        };
        let d = if nonblock || flags & MSG_DONTWAIT != 0 {
            take().ok_or(Errno::EAGAIN)?
        } else {
            self.pollee
                .wait_events(IoEvents::IN, SocketOptions::deadline(timeout), take)
                .map_err(|e| SocketOptions::wait_errno(e, timeout))?
        };
        let n = d.len().min(len);
        Ok(RecvMsg {
            full_len: d.len(),
            flags: if n < d.len() { MSG_TRUNC } else { 0 },
            data: d[..n].to_vec(),
            addr: Some(sockaddr_nl(0, 0)),
            rights: Vec::new(),
            creds: None,
            control: Vec::new(),
        })
    }
}

impl Drop for NetlinkSocket {
    fn drop(&mut self) {
        let port = self.port.load(Ordering::Acquire);
        if port != 0 {
            PORTS.lock().retain(|p| *p != port);
        }
    }
}

impl Socket for NetlinkSocket {
    fn bind(&self, addr: &[u8]) -> Result<()> {
        let (pid, groups) = parse_sockaddr(addr)?;
        self.bind_port(pid)?;
        self.groups.store(groups, Ordering::Release);
        Ok(())
    }

    fn listen(&self, _backlog: i32) -> Result<()> {
        Err(Errno::EOPNOTSUPP)
    }

    fn accept(&self, _nonblock: bool) -> Result<(Arc<dyn FileLike>, Vec<u8>)> {
        Err(Errno::EOPNOTSUPP)
    }

    fn connect(&self, addr: &[u8], _nonblock: bool) -> Result<()> {
        if addr.len() >= 2 && u16::from_ne_bytes([addr[0], addr[1]]) == 0 {
            return Ok(());
        }
        let (pid, groups) = parse_sockaddr(addr)?;
        if pid != 0 || groups != 0 {
            return Err(Errno::EPERM);
        }
        self.bind_port(0).map(|_| ())
    }

    fn sendmsg(&self, msg: SendMsg, _nonblock: bool) -> Result<usize> {
        self.send(&msg.data, msg.addr.as_deref())
    }

    fn recvmsg(&self, len: usize, flags: u32, nonblock: bool) -> Result<RecvMsg> {
        self.recv(len, flags, nonblock)
    }

    fn shutdown(&self, _how: i32) -> Result<()> {
        Err(Errno::EOPNOTSUPP)
    }

    fn getsockopt(&self, level: i32, name: i32) -> Result<Vec<u8>> {
        match level {
            SOL_SOCKET => match name {
                options::SO_TYPE => Ok(options::int_bytes(self.sock_type)),
                options::SO_PROTOCOL => Ok(options::int_bytes(NETLINK_ROUTE)),
                options::SO_DOMAIN => Ok(options::int_bytes(AF_NETLINK)),
                options::SO_ERROR => Ok(options::int_bytes(0)),
                _ => self.opts.lock().get(name).ok_or(Errno::ENOPROTOOPT),
            },
            SOL_NETLINK => {
                let o = *self.nl_opts.lock();
                let v = match name {
                    NETLINK_CAP_ACK => o.cap_ack,
                    NETLINK_EXT_ACK => o.ext_ack,
                    NETLINK_GET_STRICT_CHK => o.strict,
                    NETLINK_PKTINFO => o.pktinfo,
                    _ => return Err(Errno::ENOPROTOOPT),
                };
                Ok(options::int_bytes(v as i32))
            }
            _ => Err(Errno::ENOPROTOOPT),
        }
    }

    fn setsockopt(&self, level: i32, name: i32, value: &[u8]) -> Result<()> {
        match level {
            SOL_SOCKET => {
                let privileged = crate::net::env()
                    .map(|e| e.capable(crate::cap::Cap::NetAdmin))
                    .unwrap_or(false);
                self.opts.lock().set(name, value, privileged).map(|_| ())
            }
            SOL_NETLINK => {
                if value.len() < 4 {
                    return Err(Errno::EINVAL);
                }
                let v = i32::from_ne_bytes([value[0], value[1], value[2], value[3]]);
                let mut o = self.nl_opts.lock();
                match name {
                    NETLINK_CAP_ACK => o.cap_ack = v != 0,
                    NETLINK_EXT_ACK => o.ext_ack = v != 0,
                    NETLINK_GET_STRICT_CHK => o.strict = v != 0,
                    NETLINK_PKTINFO => o.pktinfo = v != 0,
                    // Groups are kept but nothing is ever broadcast.
                    NETLINK_ADD_MEMBERSHIP | NETLINK_DROP_MEMBERSHIP => {}
                    _ => return Err(Errno::ENOPROTOOPT),
                }
                Ok(())
            }
            _ => Err(Errno::ENOPROTOOPT),
        }
    }

    fn sockname(&self) -> Result<Vec<u8>> {
        Ok(sockaddr_nl(self.port.load(Ordering::Acquire), self.groups.load(Ordering::Acquire)))
    }

    fn peername(&self) -> Result<Vec<u8>> {
        Ok(sockaddr_nl(0, 0))
    }
}

impl FileLike for NetlinkSocket {
    fn read(&self, buf: &mut VmWriter, _offset: u64, nonblock: bool) -> Result<usize> {
        let m = self.recv(buf.len(), 0, nonblock)?;
        buf.write(&m.data)?;
        Ok(m.data.len())
    }

    fn write(&self, buf: &VmReader, _offset: u64, nonblock: bool) -> Result<usize> {
        buf.check()?;
        send_user(self, &[*buf], SendMsg::plain(), nonblock)
    }

    fn poll(&self, _mask: IoEvents, poller: Option<&Poller>) -> IoEvents {
        if let Some(p) = poller {
            p.watch(&self.pollee, _mask);
        }
        let mut ev = IoEvents::writable();
        if !self.queue.lock().is_empty() {
            ev |= IoEvents::readable();
        }
        ev
    }

    fn is_pollable(&self) -> bool {
        true
    }

    fn ioctl(&self, cmd: u32, arg: u64) -> Result<i64> {
        const FIONREAD: u32 = 0x541b;
        match cmd {
            FIONREAD => {
                let n = self.queue.lock().front().map_or(0, |d| d.len());
                crate::mm::user::UserPtr::<i32>::new(arg).write(&(n as i32)).map(|_| 0)
            }
            _ => Err(Errno::ENOTTY),
        }
    }

    fn metadata(&self) -> Metadata {
        crate::net::inet::socket_metadata(self.ino)
    }

    fn as_socket(&self) -> Option<&dyn Socket> {
        Some(self)
    }
}
