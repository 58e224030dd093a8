//! sendmmsg/recvmmsg: several sendmsg/recvmsg calls in one, each `struct mmsghdr` getting its
//! byte count in `msg_len`. As Linux: at most UIO_MAXIOV messages; an error after some
//! messages ends the call with the count done so far; MSG_WAITFORONE makes every receive
//! after the first non-blocking; recvmmsg's timeout is looked at between messages only.

use super::socket::{recvmsg, sendmsg};
use crate::error::{Errno, Result};
use crate::fs::socket::MSG_DONTWAIT;
use crate::mm::user::UserPtr;

const UIO_MAXIOV: u32 = 1024;
/// sizeof(struct mmsghdr): a msghdr (56 bytes), msg_len, padding.
const MMSGHDR_SIZE: u64 = 64;
const MSG_LEN_OFFSET: u64 = 56;
const MSG_WAITFORONE: u32 = 0x10000;
const MSG_CMSG_COMPAT: u32 = 0x8000_0000;

fn check_socket(fd: i32) -> Result<()> {
    let f = super::io::file(fd)?;
    f.file().as_socket().map(|_| ()).ok_or(Errno::ENOTSOCK)
}

/// Runs `one` on each header until it fails; the count done, or the first error if none.
fn each(
    vec: u64,
    vlen: u32,
    mut one: impl FnMut(u64, usize) -> Result<(i64, bool)>,
) -> Result<i64> {
    let mut done = 0usize;
    for i in 0..vlen.min(UIO_MAXIOV) as u64 {
        let hdr = vec.wrapping_add(i * MMSGHDR_SIZE);
        match one(hdr, done) {
            Ok((n, more)) => {
                UserPtr::<u32>::new(hdr + MSG_LEN_OFFSET).write(&(n as u32))?;
                done += 1;
                if !more {
                    break;
                }
            }
            Err(e) if done == 0 => return Err(e),
            Err(_) => break,
        }
    }
    Ok(done as i64)
}

pub fn sendmmsg(fd: i32, vec: u64, vlen: u32, flags: u32) -> Result<i64> {
    check_socket(fd)?;
    each(vec, vlen, |hdr, _| sendmsg(fd, hdr, flags).map(|n| (n, true)))
}

pub fn recvmmsg(fd: i32, vec: u64, vlen: u32, flags: u32, timeout: u64) -> Result<i64> {
    if flags & MSG_CMSG_COMPAT != 0 {
        return Err(Errno::EINVAL);
    }
    let deadline = super::time_args::relative_deadline(timeout)?;
    check_socket(fd)?;
    each(vec, vlen, |hdr, done| {
        let flags = if done > 0 && flags & MSG_WAITFORONE != 0 {
            (flags & !MSG_WAITFORONE) | MSG_DONTWAIT
        } else {
            flags & !MSG_WAITFORONE
        };
        let n = recvmsg(fd, hdr, flags)?;
        let expired = deadline.is_some_and(|d| crate::arch::time::monotonic_ns() >= d);
        Ok((n, !expired))
    })
}
