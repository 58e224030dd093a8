//! The interface every socket presents to the socket system calls. Address families implement
//! it in `net`; the syscall layer only moves bytes between user memory and these calls.

use alloc::sync::Arc;
use alloc::vec::Vec;

use bytemuck::{Pod, Zeroable};

use super::file::{FileLike, OpenFile};
use crate::error::{Errno, Result};
use crate::mm::io::VmReader;
use crate::mm::user::read_span;

pub const AF_UNIX: i32 = 1;
pub const AF_INET: i32 = 2;
pub const AF_INET6: i32 = 10;
pub const SOCK_STREAM: i32 = 1;
pub const SOCK_DGRAM: i32 = 2;
pub const SOCK_SEQPACKET: i32 = 5;
pub const SOCK_NONBLOCK: i32 = 0o4000;
pub const SOCK_CLOEXEC: i32 = 0o2000000;

pub const MSG_OOB: u32 = 1;
pub const MSG_PEEK: u32 = 2;
pub const MSG_CTRUNC: u32 = 8;
pub const MSG_TRUNC: u32 = 0x20;
pub const MSG_DONTWAIT: u32 = 0x40;
pub const MSG_EOR: u32 = 0x80;
pub const MSG_WAITALL: u32 = 0x100;
pub const MSG_NOSIGNAL: u32 = 0x4000;
pub const MSG_CMSG_CLOEXEC: u32 = 0x4000_0000;

pub const SHUT_RD: i32 = 0;
pub const SHUT_WR: i32 = 1;
pub const SHUT_RDWR: i32 = 2;

/// `struct ucred`: who sent a message or connected.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable)]
pub struct Ucred {
    pub pid: i32,
    pub uid: u32,
    pub gid: u32,
}

/// What sendmsg hands a socket.
pub struct SendMsg {
    pub data: Vec<u8>,
    /// The destination address (sendto), raw sockaddr bytes.
    pub addr: Option<Vec<u8>>,
    /// SCM_RIGHTS: the open files to pass.
    pub rights: Vec<Arc<OpenFile>>,
    /// The sender's credentials (SCM_CREDENTIALS, or the real ones when none were given).
    pub creds: Ucred,
    pub flags: u32,
}

impl SendMsg {
    /// No data, address, rights or flags (write(2) on an inet socket: nobody reads credentials).
    pub fn plain() -> SendMsg {
        SendMsg {
            data: Vec::new(),
            addr: None,
            rights: Vec::new(),
            creds: Ucred::default(),
            flags: 0,
        }
    }
}

/// What recvmsg gets back.
#[derive(Default)]
pub struct RecvMsg {
    pub data: Vec<u8>,
    /// The message's real length (recv with MSG_TRUNC returns it for datagrams).
    pub full_len: usize,
    /// The sender's address, raw sockaddr bytes.
    pub addr: Option<Vec<u8>>,
    pub rights: Vec<Arc<OpenFile>>,
    pub creds: Option<Ucred>,
    /// MSG_TRUNC / MSG_CTRUNC / MSG_EOR for the caller's msg_flags.
    pub flags: u32,
    /// Other control messages, first in the control buffer: (level, type, payload), e.g.
    /// IP_PKTINFO or SCM_TIMESTAMP of an inet socket.
    pub control: Vec<(i32, i32, Vec<u8>)>,
}

pub trait Socket: Send + Sync {
    fn bind(&self, addr: &[u8]) -> Result<()>;
    fn listen(&self, backlog: i32) -> Result<()>;
    /// A new connected socket and its peer's address.
    fn accept(&self, nonblock: bool) -> Result<(Arc<dyn FileLike>, Vec<u8>)>;
    fn connect(&self, addr: &[u8], nonblock: bool) -> Result<()>;
    fn sendmsg(&self, msg: SendMsg, nonblock: bool) -> Result<usize>;
    /// Receives up to `len` bytes.
    fn recvmsg(&self, len: usize, flags: u32, nonblock: bool) -> Result<RecvMsg>;
    fn shutdown(&self, how: i32) -> Result<()>;
    fn getsockopt(&self, level: i32, name: i32) -> Result<Vec<u8>>;
    /// A byte stream (no message boundaries): large sends go in pieces, see [`send_user`].
    fn is_stream(&self) -> bool {
        false
    }
    fn setsockopt(&self, level: i32, name: i32, value: &[u8]) -> Result<()>;
    fn sockname(&self) -> Result<Vec<u8>>;
    fn peername(&self) -> Result<Vec<u8>>;
    /// Open files sitting in this socket's receive queue (for the in-flight collector).
    fn queued_files(&self) -> Vec<Arc<OpenFile>> {
        Vec::new()
    }
    /// Drops everything queued (the collector found it unreachable).
    fn purge_queue(&self) {}
}

/// The most a stream send takes from user memory at a time. A send of any size goes through in
/// pieces of this, so the kernel never holds a user-sized copy (Linux's stream sends likewise
/// queue one buffer-sized piece after another).
pub const STREAM_CHUNK: usize = 64 * 1024;

/// The largest datagram any of our sockets could accept; a longer one is EMSGSIZE before its
/// bytes are copied (UDP stops at 64 KiB, unix datagrams at the send buffer, which Linux caps
/// far below this).
pub const MAX_DATAGRAM: usize = 16 << 20;

/// Sends `data` (an iovec list in user memory, or a kernel buffer from splice or sendfile) on
/// `sock`, as every send path does (write, writev, send, sendto, sendmsg, splice): a stream in pieces of [`STREAM_CHUNK`] read from user memory
/// as they go, anything else as one message, EMSGSIZE beyond [`MAX_DATAGRAM`] before a byte is
/// read. `msg` carries the address, rights and credentials (its data is ignored); they go with
/// the first piece. A stream stops at the first short send or error; an error after some bytes
/// went is reported as the count sent, as Linux does.
pub fn send_user<'a, S, D>(sock: &S, data: &[D], msg: SendMsg, nonblock: bool) -> Result<usize>
where
    S: Socket + ?Sized,
    D: Copy + Into<VmReader<'a>>,
{
    let len =
        data.iter().try_fold(0usize, |t, &s| t.checked_add(s.into().len())).ok_or(Errno::EINVAL)?;
    if !sock.is_stream() {
        if len > MAX_DATAGRAM {
            return Err(Errno::EMSGSIZE);
        }
        return sock.sendmsg(SendMsg { data: read_span(data, 0, len)?, ..msg }, nonblock);
    }
    let (creds, flags) = (msg.creds, msg.flags);
    let mut first = Some(msg);
    let mut sent = 0;
    loop {
        let n = (len - sent).min(STREAM_CHUNK);
        let rest = || SendMsg { data: Vec::new(), addr: None, rights: Vec::new(), creds, flags };
        let result = read_span(data, sent, n).and_then(|piece| {
            sock.sendmsg(SendMsg { data: piece, ..first.take().unwrap_or_else(rest) }, nonblock)
        });
        match result {
            Ok(k) => {
                sent += k;
                if k < n || sent == len {
                    return Ok(sent);
                }
            }
            Err(_) if sent > 0 => return Ok(sent),
            Err(e) => return Err(e),
        }
    }
}
