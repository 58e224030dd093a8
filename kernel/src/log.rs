//! The kernel log on COM2 (docs/HOST_INTERFACE.md). `log!` writes one line; `control!` writes a
//! `@@ ` control line for the host tool. `log!` lines are also kept in a ring buffer in
//! Linux's syslog format (`<6>[seconds.micros] text`), which syslog(2) reads (`dmesg`).

use core::fmt::{self, Write};

use alloc::vec::Vec;

use crate::arch::serial::{Uart, COM2};
use crate::error::{Errno, Result};
use crate::sync::Mutex;

static LOG: Mutex<Uart> = Mutex::new(Uart::new(COM2));

struct LineWriter<'a>(&'a Uart);

impl Write for LineWriter<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0.write_bytes(s.as_bytes());
        Ok(())
    }
}

pub fn init() {
    LOG.lock().init(false);
}

pub fn write_line(prefix: &str, args: fmt::Arguments) {
    let uart = LOG.lock();
    let mut w = LineWriter(&uart);
    let _ = w.write_str(prefix);
    let _ = w.write_fmt(args);
    let _ = w.write_str("\n");
    drop(uart);
    if prefix.is_empty() {
        let ns = crate::arch::time::monotonic_ns();
        let mut ring = RING.lock();
        let _ = write!(ring, "<6>[{:5}.{:06}] ", ns / 1_000_000_000, ns / 1000 % 1_000_000);
        let _ = ring.write_fmt(args);
        let _ = ring.write_str("\n");
    }
}

/// The size of the log ring (syslog's SYSLOG_ACTION_SIZE_BUFFER).
pub const RING_SIZE: usize = 64 * 1024;

/// The last RING_SIZE bytes of the log. Positions count every byte ever written.
struct Ring {
    bytes: [u8; RING_SIZE],
    end: u64,
    /// Where syslog's reads (SYSLOG_ACTION_READ) go on from.
    read: u64,
    /// SYSLOG_ACTION_CLEAR: nothing before this is read again.
    cleared: u64,
}

static RING: Mutex<Ring> = Mutex::new(Ring { bytes: [0; RING_SIZE], end: 0, read: 0, cleared: 0 });

impl Write for Ring {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for &b in s.as_bytes() {
            self.bytes[(self.end % RING_SIZE as u64) as usize] = b;
            self.end += 1;
        }
        Ok(())
    }
}

impl Ring {
    fn byte(&self, pos: u64) -> u8 {
        self.bytes[(pos % RING_SIZE as u64) as usize]
    }

    /// The first whole line at or after `pos` that is still in the ring.
    fn line_start(&self, pos: u64) -> u64 {
        let oldest = self.end.saturating_sub(RING_SIZE as u64);
        let mut p = pos.max(oldest);
        if p == 0 || (p > oldest && self.byte(p - 1) == b'\n') {
            return p;
        }
        while p < self.end {
            p += 1;
            if self.byte(p - 1) == b'\n' {
                break;
            }
        }
        p
    }

    /// The bytes [from, end) in a fallible buffer.
    fn copy(&self, from: u64) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        out.try_reserve_exact((self.end - from) as usize).map_err(|_| Errno::ENOMEM)?;
        out.extend((from..self.end).map(|i| self.byte(i)));
        Ok(out)
    }
}

/// syslog's READ_ALL: the newest whole lines since the last clear, at most `max` bytes
/// (`clear`: READ_CLEAR, then nothing of it is read again).
pub fn ring_read_all(max: usize, clear: bool) -> Result<Vec<u8>> {
    let mut ring = RING.lock();
    let mut from = ring.line_start(ring.cleared);
    if ring.end - from > max as u64 {
        from = ring.line_start(ring.end - max as u64);
    }
    let out = ring.copy(from)?;
    if clear {
        ring.cleared = ring.end;
    }
    Ok(out)
}

/// syslog's READ: the bytes not read yet by READ, at most `max`, which it consumes.
pub fn ring_read(max: usize) -> Result<Vec<u8>> {
    let mut ring = RING.lock();
    let from = ring.line_start(ring.read.max(ring.cleared));
    let mut out = ring.copy(from)?;
    out.truncate(max);
    ring.read = from + out.len() as u64;
    Ok(out)
}

/// syslog's CLEAR.
pub fn ring_clear() {
    let mut ring = RING.lock();
    ring.cleared = ring.end;
}

/// syslog's SIZE_UNREAD: bytes READ would still return.
pub fn ring_unread() -> usize {
    let ring = RING.lock();
    (ring.end - ring.line_start(ring.read.max(ring.cleared))) as usize
}

/// Writes text without taking the lock: for the NMI dump, which may have interrupted a writer.
pub fn write_unlocked(s: &str) {
    Uart::new(COM2).write_bytes(s.as_bytes());
}

/// Writes without taking the lock: for the panic path, which may have interrupted a writer.
pub fn write_line_unlocked(args: fmt::Arguments) {
    let uart = Uart::new(COM2);
    let mut w = LineWriter(&uart);
    let _ = w.write_fmt(args);
    let _ = w.write_str("\n");
}

#[macro_export]
macro_rules! log {
    ($($arg:tt)*) => { $crate::log::write_line("", format_args!($($arg)*)) };
}

#[macro_export]
macro_rules! control {
    ($($arg:tt)*) => { $crate::log::write_line("@@ ", format_args!($($arg)*)) };
}
