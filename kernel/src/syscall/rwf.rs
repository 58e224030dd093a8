//! preadv2/pwritev2: vectored reads and writes at an offset, or at the file position when the
//! offset is -1, with per-call flags (RWF_*). HIPRI, DSYNC and SYNC change nothing here (no
//! polling queues; tmpfs has nothing to flush); NOWAIT makes the call non-blocking; APPEND
//! writes at the end whatever the offset.

use super::io::{file, read_iovecs, sigpipe_on_epipe, vectored};
use crate::error::{Errno, Result};
use crate::mm::io::{VmReader, VmWriter};

const RWF_HIPRI: u32 = 0x1;
const RWF_DSYNC: u32 = 0x2;
const RWF_SYNC: u32 = 0x4;
const RWF_NOWAIT: u32 = 0x8;
const RWF_APPEND: u32 = 0x10;
const RWF_SUPPORTED: u32 = RWF_HIPRI | RWF_DSYNC | RWF_SYNC | RWF_NOWAIT | RWF_APPEND;

/// The position: None for -1 (the file's own), EINVAL for other negative offsets.
fn position(off: i64) -> Result<Option<u64>> {
    match off {
        -1 => Ok(None),
        o if o < 0 => Err(Errno::EINVAL),
        o => Ok(Some(o as u64)),
    }
}

pub fn preadv2(fd: i32, iov: u64, count: i32, off: i64, flags: u32) -> Result<i64> {
    let f = file(fd)?;
    let at = position(off)?;
    let seekable = f.file().is_seekable() || f.file().fixed_seek().is_some();
    if at.is_some() && !seekable {
        return Err(Errno::ESPIPE);
    }
    if !f.readable() {
        return Err(Errno::EBADF);
    }
    let slices = read_iovecs(iov, count)?;
    // Linux looks at the flags only when there is something to transfer.
    if slices.iter().all(|s| s.is_empty()) {
        return Ok(0);
    }
    if flags & !RWF_SUPPORTED != 0 {
        return Err(Errno::EOPNOTSUPP);
    }
    let nonblock = flags & RWF_NOWAIT != 0;
    match at {
        Some(off) => vectored(slices, |s, done| {
            s.check()?;
            f.file().read(
                &mut VmWriter::user(s),
                off + done as u64,
                nonblock || f.flags() & O_NONBLOCK != 0,
            )
        }),
        None if nonblock => vectored(slices, |s, _| {
            s.check()?;
            let pos = if f.file().is_seekable() { f.offset() } else { 0 };
            let n = f.file().read(&mut VmWriter::user(s), pos, true)?;
            if f.file().is_seekable() {
                f.set_offset(pos + n as u64);
            }
            Ok(n)
        }),
        None => vectored(slices, |s, _| f.read(s)),
    }
}

pub fn pwritev2(fd: i32, iov: u64, count: i32, off: i64, flags: u32) -> Result<i64> {
    let f = file(fd)?;
    let at = position(off)?;
    let seekable = f.file().is_seekable() || f.file().fixed_seek().is_some();
    if at.is_some() && !seekable {
        return Err(Errno::ESPIPE);
    }
    if !f.writable() {
        return Err(Errno::EBADF);
    }
    let slices = read_iovecs(iov, count)?;
    if slices.iter().all(|s| s.is_empty()) {
        return Ok(0);
    }
    if flags & !RWF_SUPPORTED != 0 {
        return Err(Errno::EOPNOTSUPP);
    }
    let nonblock = flags & RWF_NOWAIT != 0 || f.flags() & O_NONBLOCK != 0;
    let append = flags & RWF_APPEND != 0 || f.flags() & O_APPEND != 0;
    let result = match at {
        None if !nonblock && !append => vectored(slices, |s, _| f.write(s)),
        _ => vectored(slices, |s, done| {
            s.check()?;
            if !f.file().is_seekable() {
                return f.file().write(&VmReader::user(s), 0, nonblock);
            }
            let pos = match at {
                _ if append => f.file().metadata().size,
                Some(off) => off + done as u64,
                None => f.offset(),
            };
            let n = f.file().write(&VmReader::user(s), pos, nonblock)?;
            // Only a write at the file's own position moves it.
            if at.is_none() {
                f.set_offset(pos + n as u64);
            }
            Ok(n)
        }),
    };
    sigpipe_on_epipe(result)
}

use crate::fs::file::{O_APPEND, O_NONBLOCK};
