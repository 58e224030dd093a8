//! SOL_SOCKET options common to every socket: buffer sizes, timeouts, SO_PASSCRED and friends.

use alloc::vec::Vec;
use core::sync::atomic::{AtomicUsize, Ordering};

use crate::error::{Errno, Result};
use crate::task::WaitError;

pub const SOL_SOCKET: i32 = 1;
pub const SO_DEBUG: i32 = 1;
pub const SO_REUSEADDR: i32 = 2;
pub const SO_TYPE: i32 = 3;
pub const SO_ERROR: i32 = 4;
pub const SO_DONTROUTE: i32 = 5;
pub const SO_BROADCAST: i32 = 6;
pub const SO_SNDBUF: i32 = 7;
pub const SO_RCVBUF: i32 = 8;
pub const SO_KEEPALIVE: i32 = 9;
pub const SO_OOBINLINE: i32 = 10;
pub const SO_LINGER: i32 = 13;
pub const SO_REUSEPORT: i32 = 15;
pub const SO_PASSCRED: i32 = 16;
pub const SO_PEERCRED: i32 = 17;
pub const SO_RCVLOWAT: i32 = 18;
pub const SO_SNDLOWAT: i32 = 19;
pub const SO_RCVTIMEO: i32 = 20;
pub const SO_SNDTIMEO: i32 = 21;
pub const SO_TIMESTAMP: i32 = 29;
pub const SO_ACCEPTCONN: i32 = 30;
pub const SO_TIMESTAMPNS: i32 = 35;
pub const SO_SNDBUFFORCE: i32 = 32;
pub const SO_RCVBUFFORCE: i32 = 33;
pub const SO_PROTOCOL: i32 = 38;
pub const SO_DOMAIN: i32 = 39;

/// Linux's defaults of net.core.wmem_default / rmem_default and wmem_max / rmem_max.
pub const DEFAULT_BUF: usize = 212_992;
/// Linux's SOCK_MIN_SNDBUF / SOCK_MIN_RCVBUF (also the least the sysctls take).
pub const MIN_SNDBUF: usize = 4608;
pub const MIN_RCVBUF: usize = 2304;

/// net.core.{r,w}mem_{default,max} (/proc/sys/net/core, root may change them): the buffer a
/// new socket reports, and the most SO_RCVBUF/SO_SNDBUF may ask for.
pub static RMEM_DEFAULT: AtomicUsize = AtomicUsize::new(DEFAULT_BUF);
pub static WMEM_DEFAULT: AtomicUsize = AtomicUsize::new(DEFAULT_BUF);
pub static RMEM_MAX: AtomicUsize = AtomicUsize::new(DEFAULT_BUF);
pub static WMEM_MAX: AtomicUsize = AtomicUsize::new(DEFAULT_BUF);
/// net.core.somaxconn (/proc/sys/net/core/somaxconn): the most a listen() backlog may be.
pub static SOMAXCONN: AtomicUsize = AtomicUsize::new(4096);

/// The backlog listen(`backlog`) gives, as Linux's __sys_listen: read as unsigned (so a
/// negative one is large) and capped at net.core.somaxconn.
pub fn listen_backlog(backlog: i32) -> usize {
    (backlog as u32 as usize).min(SOMAXCONN.load(Ordering::Relaxed))
}

#[derive(Clone, Copy, Debug)]
pub struct SocketOptions {
    pub sndbuf: usize,
    pub rcvbuf: usize,
    /// SO_SNDBUF / SO_RCVBUF were set (Linux's SOCK_SNDBUF_LOCK / SOCK_RCVBUF_LOCK): TCP
    /// sizes its buffers from them instead of its defaults.
    pub sndbuf_set: bool,
    pub rcvbuf_set: bool,
    pub passcred: bool,
    /// Receive/send timeouts in ns (0: none).
    pub rcvtimeo: u64,
    pub sndtimeo: u64,
    pub reuseaddr: bool,
    /// SO_REUSEPORT: sockets of one owner may share a port, and share its traffic.
    pub reuseport: bool,
    pub keepalive: bool,
    pub broadcast: bool,
    pub oobinline: bool,
    pub rcvlowat: i32,
    pub linger: (i32, i32),
    /// SO_TIMESTAMP / SO_TIMESTAMPNS: a datagram's arrival time comes with it.
    pub timestamp: bool,
    pub timestampns: bool,
}

impl Default for SocketOptions {
    fn default() -> Self {
        SocketOptions {
            sndbuf: WMEM_DEFAULT.load(Ordering::Relaxed),
            rcvbuf: RMEM_DEFAULT.load(Ordering::Relaxed),
            sndbuf_set: false,
            rcvbuf_set: false,
            passcred: false,
            rcvtimeo: 0,
            sndtimeo: 0,
            reuseaddr: false,
            reuseport: false,
            keepalive: false,
            broadcast: false,
            oobinline: false,
            rcvlowat: 1,
            linger: (0, 0),
            timestamp: false,
            timestampns: false,
        }
    }
}

pub fn int_bytes(v: i32) -> Vec<u8> {
    v.to_ne_bytes().to_vec()
}

fn read_int(value: &[u8]) -> Result<i32> {
    if value.len() < 4 {
        return Err(Errno::EINVAL);
    }
    Ok(i32::from_ne_bytes([value[0], value[1], value[2], value[3]]))
}

/// A receive or send timeout that expires at once (SO_RCVTIMEO with a negative tv_sec). No
/// timeval gives 1 ns (the smallest is 1 µs), and it reads back as {0, 0}, as in Linux.
pub const TIMEOUT_IMMEDIATE: u64 = 1;

fn timeval_bytes(ns: u64) -> Vec<u8> {
    let mut v = Vec::with_capacity(16);
    v.extend_from_slice(&((ns / 1_000_000_000) as i64).to_ne_bytes());
    v.extend_from_slice(&(((ns % 1_000_000_000) / 1000) as i64).to_ne_bytes());
    v
}

fn read_timeval(value: &[u8]) -> Result<u64> {
    if value.len() < 16 {
        return Err(Errno::EINVAL);
    }
    let sec = i64::from_ne_bytes(value[..8].try_into().map_err(|_| Errno::EINVAL)?);
    let usec = i64::from_ne_bytes(value[8..16].try_into().map_err(|_| Errno::EINVAL)?);
    if !(0..1_000_000).contains(&usec) {
        return Err(Errno::EDOM);
    }
    if sec < 0 {
        // Linux's sock_set_timeout: a negative time means "do not wait at all".
        return Ok(TIMEOUT_IMMEDIATE);
    }
    Ok((sec as u64).saturating_mul(1_000_000_000).saturating_add(usec as u64 * 1000))
}

impl SocketOptions {
    /// The generic SOL_SOCKET options; None if the option is the socket type's business.
    pub fn get(&self, name: i32) -> Option<Vec<u8>> {
        Some(match name {
            SO_SNDBUF => int_bytes(self.sndbuf as i32),
            SO_RCVBUF => int_bytes(self.rcvbuf as i32),
            SO_PASSCRED => int_bytes(self.passcred as i32),
            SO_RCVTIMEO => timeval_bytes(self.rcvtimeo),
            SO_SNDTIMEO => timeval_bytes(self.sndtimeo),
            SO_REUSEADDR => int_bytes(self.reuseaddr as i32),
            SO_REUSEPORT => int_bytes(self.reuseport as i32),
            SO_KEEPALIVE => int_bytes(self.keepalive as i32),
            SO_BROADCAST => int_bytes(self.broadcast as i32),
            SO_OOBINLINE => int_bytes(self.oobinline as i32),
            SO_RCVLOWAT => int_bytes(self.rcvlowat),
            SO_TIMESTAMP => int_bytes(self.timestamp as i32),
            SO_TIMESTAMPNS => int_bytes(self.timestampns as i32),
            SO_SNDLOWAT => int_bytes(1),
            SO_DEBUG | SO_DONTROUTE => int_bytes(0),
            SO_LINGER => {
                let mut v = int_bytes(self.linger.0);
                v.extend_from_slice(&self.linger.1.to_ne_bytes());
                v
            }
            _ => return None,
        })
    }

    /// Sets a generic option; Ok(false) if the option is the socket type's business.
    pub fn set(&mut self, name: i32, value: &[u8], privileged: bool) -> Result<bool> {
        match name {
            // Linux's sk_setsockopt: the request is read as unsigned (so -1 asks for the
            // most), clamped to wmem_max/rmem_max unless forced, doubled (for bookkeeping
            // overhead) and raised to the minimum.
            SO_SNDBUF | SO_SNDBUFFORCE => {
                let v = read_int(value)? as u32 as usize;
                if name == SO_SNDBUFFORCE && !privileged {
                    return Err(Errno::EPERM);
                }
                let v = if name == SO_SNDBUF {
                    v.min(WMEM_MAX.load(Ordering::Relaxed))
                } else {
                    v.min(i32::MAX as usize)
                };
                self.sndbuf = v.saturating_mul(2).clamp(MIN_SNDBUF, i32::MAX as usize);
                self.sndbuf_set = true;
            }
            SO_RCVBUF | SO_RCVBUFFORCE => {
                let v = read_int(value)? as u32 as usize;
                if name == SO_RCVBUFFORCE && !privileged {
                    return Err(Errno::EPERM);
                }
                let v = if name == SO_RCVBUF {
                    v.min(RMEM_MAX.load(Ordering::Relaxed))
                } else {
                    v.min(i32::MAX as usize)
                };
                self.rcvbuf = v.saturating_mul(2).clamp(MIN_RCVBUF, i32::MAX as usize);
                self.rcvbuf_set = true;
            }
            SO_PASSCRED => self.passcred = read_int(value)? != 0,
            SO_RCVTIMEO => self.rcvtimeo = read_timeval(value)?,
            SO_SNDTIMEO => self.sndtimeo = read_timeval(value)?,
            SO_REUSEADDR => self.reuseaddr = read_int(value)? != 0,
            SO_KEEPALIVE => self.keepalive = read_int(value)? != 0,
            SO_BROADCAST => self.broadcast = read_int(value)? != 0,
            SO_OOBINLINE => self.oobinline = read_int(value)? != 0,
            SO_RCVLOWAT => self.rcvlowat = read_int(value)?.max(1),
            // One of the two at a time, as Linux's sock_set_timestamp.
            SO_TIMESTAMP => {
                self.timestamp = read_int(value)? != 0;
                self.timestampns = false;
            }
            SO_TIMESTAMPNS => {
                self.timestampns = read_int(value)? != 0;
                self.timestamp = false;
            }
            SO_REUSEPORT => self.reuseport = read_int(value)? != 0,
            SO_DEBUG | SO_DONTROUTE => {
                read_int(value)?;
            }
            // Linux's sk_setsockopt has no SO_SNDLOWAT: it reads as 1 and cannot be set.
            SO_SNDLOWAT => return Err(Errno::ENOPROTOOPT),
            SO_LINGER => {
                let on = read_int(value)?;
                let secs = read_int(value.get(4..).ok_or(Errno::EINVAL)?)?;
                self.linger = (on, secs);
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// The deadline for a blocking receive or send starting now.
    pub fn deadline(timeout_ns: u64) -> Option<u64> {
        (timeout_ns != 0).then(|| crate::arch::time::monotonic_ns().saturating_add(timeout_ns))
    }

    /// How a socket's blocking wait under SO_RCVTIMEO/SO_SNDTIMEO `timeout_ns` (0: none) ends
    /// badly, as Linux has it: an interrupted wait without a timeout restarts under SA_RESTART,
    /// one with a timeout gives EINTR; a timeout gives EAGAIN.
    pub fn wait_errno(e: WaitError, timeout_ns: u64) -> Errno {
        match e {
            WaitError::Interrupted if timeout_ns == 0 => Errno::ERESTARTSYS,
            WaitError::Interrupted => Errno::EINTR,
            WaitError::TimedOut => Errno::EAGAIN,
        }
    }
}
