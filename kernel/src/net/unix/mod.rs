//! Unix domain sockets: stream and seqpacket (`stream`), datagram (`dgram`), their names
//! (`addr`, `names`) and the receive queue of connected sockets (`queue`).

pub mod addr;
pub mod dgram;
pub mod gc;
pub mod names;
mod plain_io;
pub mod queue;
pub mod stream;

use alloc::sync::Arc;
use core::sync::atomic::{AtomicU64, Ordering};

use crate::error::{Errno, Result};
use crate::fs::file::FileLike;
use crate::fs::inode::{Metadata, S_IFSOCK};
use crate::fs::socket::{Ucred, SOCK_DGRAM, SOCK_SEQPACKET, SOCK_STREAM};

/// SOCK_RAW: what AF_UNIX makes of it is a datagram socket.
const SOCK_RAW: i32 = 3;
use dgram::UnixDatagramSocket;
use stream::{Kind, UnixStreamSocket};

/// What a message of `len` bytes costs its sender's send buffer: the bytes rounded up as the
/// allocator would, plus Linux's per-skb overhead (sk_buff and skb_shared_info), so that, as in
/// Linux, a 1-byte message costs 768 bytes and a default buffer holds 278 of them. Charging the
/// overhead bounds the kernel memory a stream of tiny messages can pin.
pub fn truesize(len: usize) -> usize {
    let data = len.saturating_add(320).max(512);
    let data =
        if data <= 4096 { data.next_power_of_two() } else { data.saturating_add(4095) & !4095 };
    data.saturating_add(256)
}

static NEXT_INO: AtomicU64 = AtomicU64::new(1);
static SOCKFS_DEV: spin::Once<u64> = spin::Once::new();

fn next_ino() -> u64 {
    NEXT_INO.fetch_add(1, Ordering::Relaxed)
}

/// fstat of a socket: S_IFSOCK in Linux's sockfs.
fn socket_metadata(ino: u64) -> Metadata {
    let dev = *SOCKFS_DEV.call_once(crate::fs::mount::new_anonymous_dev);
    Metadata { dev, ino, mode: S_IFSOCK | 0o777, nlink: 1, blksize: 4096, ..Metadata::default() }
}

/// socket(AF_UNIX, type, 0).
pub fn create(sock_type: i32) -> Result<Arc<dyn FileLike>> {
    Ok(match sock_type {
        SOCK_STREAM => UnixStreamSocket::new(Kind::Stream),
        SOCK_SEQPACKET => UnixStreamSocket::new(Kind::SeqPacket),
        // SOCK_RAW on AF_UNIX is a datagram socket (Linux).
        SOCK_DGRAM | SOCK_RAW => UnixDatagramSocket::new(),
        _ => return Err(Errno::ESOCKTNOSUPPORT),
    })
}

/// socketpair(AF_UNIX, type, 0).
pub fn pair(sock_type: i32, creds: Ucred) -> Result<(Arc<dyn FileLike>, Arc<dyn FileLike>)> {
    Ok(match sock_type {
        SOCK_STREAM | SOCK_SEQPACKET => {
            let kind = if sock_type == SOCK_STREAM { Kind::Stream } else { Kind::SeqPacket };
            let (a, b) = UnixStreamSocket::pair(kind, creds);
            (a, b)
        }
        SOCK_DGRAM | SOCK_RAW => {
            let (a, b) = UnixDatagramSocket::pair(creds);
            (a, b)
        }
        _ => return Err(Errno::ESOCKTNOSUPPORT),
    })
}
