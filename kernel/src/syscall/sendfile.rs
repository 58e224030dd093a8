//! sendfile, splice, tee and copy_file_range: data moved between files inside the kernel.

use alloc::sync::Arc;

use super::io::file;
use crate::error::{Errno, Result};
use crate::fs::file::{OpenFile, O_APPEND};
use crate::fs::{pipe, splice};
use crate::mm::user::UserPtr;

const SPLICE_F_NONBLOCK: u32 = 2;

/// A pipe with no reader: EPIPE and SIGPIPE, as Linux's opipe_prep.
fn sigpipe_on_epipe(r: Result<usize>) -> Result<i64> {
    if r == Err(Errno::EPIPE) {
        crate::process::signal::raise_sigpipe();
    }
    r.map(|n| n as i64)
}

/// Reads an optional in/out offset (a pointer to loff_t).
fn read_offset(ptr: u64) -> Result<Option<u64>> {
    if ptr == 0 {
        return Ok(None);
    }
    let off = UserPtr::<i64>::new(ptr).read()?;
    if off < 0 {
        return Err(Errno::EINVAL);
    }
    Ok(Some(off as u64))
}

pub fn sendfile(out_fd: i32, in_fd: i32, offset: u64, count: u64) -> Result<i64> {
    let (input, output) = (file(in_fd)?, file(out_fd)?);
    if !input.readable() || !output.writable() {
        return Err(Errno::EBADF);
    }
    // The input must be a file that can be read at an offset (a regular file).
    if !input.file().is_seekable() {
        return Err(Errno::EINVAL);
    }
    if output.flags() & O_APPEND != 0 {
        return Err(Errno::EINVAL);
    }
    let start = read_offset(offset)?;
    let count = count.min(0x7fff_f000) as usize;
    let (n, end, _) =
        splice::transfer(&input, start.or(Some(input.offset())), &output, None, count, false)?;
    match (start, end) {
        (Some(_), Some(e)) => UserPtr::<i64>::new(offset).write(&(e as i64))?,
        (None, Some(e)) => input.set_offset(e),
        _ => {}
    }
    Ok(n as i64)
}

fn is_pipe(f: &Arc<OpenFile>) -> bool {
    f.file().pipe().is_some()
}

pub fn splice(
    fd_in: i32,
    off_in: u64,
    fd_out: i32,
    off_out: u64,
    len: u64,
    flags: u32,
) -> Result<i64> {
    let (input, output) = (file(fd_in)?, file(fd_out)?);
    if !input.readable() || !output.writable() {
        return Err(Errno::EBADF);
    }
    if !is_pipe(&input) && !is_pipe(&output) {
        return Err(Errno::EINVAL);
    }
    // Offsets are for the non-pipe side only.
    if (is_pipe(&input) && off_in != 0) || (is_pipe(&output) && off_out != 0) {
        return Err(Errno::ESPIPE);
    }
    if let (Some(a), Some(b)) = (input.file().pipe(), output.file().pipe()) {
        if Arc::ptr_eq(a, b) {
            return Err(Errno::EINVAL);
        }
    }
    let nonblock = flags & SPLICE_F_NONBLOCK != 0;
    if let (Some(from), Some(to)) = (input.file().pipe(), output.file().pipe()) {
        let count = len.min(0x7fff_f000) as usize;
        return sigpipe_on_epipe(pipe::pipe_to_pipe(from, to, count, nonblock, true));
    }
    let (src_off, dst_off) = (read_offset(off_in)?, read_offset(off_out)?);
    let src_start = src_off.or_else(|| input.file().is_seekable().then(|| input.offset()));
    let dst_start = dst_off.or_else(|| output.file().is_seekable().then(|| output.offset()));
    let (n, src_end, dst_end) = splice::transfer(
        &input,
        src_start,
        &output,
        dst_start,
        len.min(0x7fff_f000) as usize,
        nonblock,
    )?;
    if let Some(e) = src_end {
        if src_off.is_some() {
            UserPtr::<i64>::new(off_in).write(&(e as i64))?;
        } else {
            input.set_offset(e);
        }
    }
    if let Some(e) = dst_end {
        if dst_off.is_some() {
            UserPtr::<i64>::new(off_out).write(&(e as i64))?;
        } else {
            output.set_offset(e);
        }
    }
    Ok(n as i64)
}

pub fn tee(fd_in: i32, fd_out: i32, len: u64, flags: u32) -> Result<i64> {
    let (input, output) = (file(fd_in)?, file(fd_out)?);
    if !input.readable() || !output.writable() {
        return Err(Errno::EBADF);
    }
    let (Some(from), Some(to)) = (input.file().pipe(), output.file().pipe()) else {
        return Err(Errno::EINVAL);
    };
    if Arc::ptr_eq(from, to) {
        return Err(Errno::EINVAL);
    }
    let nonblock = flags & SPLICE_F_NONBLOCK != 0;
    sigpipe_on_epipe(pipe::pipe_to_pipe(from, to, len.min(0x7fff_f000) as usize, nonblock, false))
}

pub fn copy_file_range(
    fd_in: i32,
    off_in: u64,
    fd_out: i32,
    off_out: u64,
    len: u64,
    flags: u32,
) -> Result<i64> {
    if flags != 0 {
        return Err(Errno::EINVAL);
    }
    let (input, output) = (file(fd_in)?, file(fd_out)?);
    if !input.readable() || !output.writable() || output.flags() & O_APPEND != 0 {
        return Err(Errno::EBADF);
    }
    let (mi, mo) = (input.file().metadata(), output.file().metadata());
    if mi.is_dir() || mo.is_dir() {
        return Err(Errno::EISDIR);
    }
    if !input.file().is_seekable() || !output.file().is_seekable() {
        return Err(Errno::EINVAL);
    }
    let (src_off, dst_off) = (read_offset(off_in)?, read_offset(off_out)?);
    let (n, src_end, dst_end) = splice::transfer(
        &input,
        Some(src_off.unwrap_or_else(|| input.offset())),
        &output,
        Some(dst_off.unwrap_or_else(|| output.offset())),
        len.min(0x7fff_f000) as usize,
        false,
    )?;
    match (src_off, src_end) {
        (Some(_), Some(e)) => UserPtr::<i64>::new(off_in).write(&(e as i64))?,
        (None, Some(e)) => input.set_offset(e),
        _ => {}
    }
    match (dst_off, dst_end) {
        (Some(_), Some(e)) => UserPtr::<i64>::new(off_out).write(&(e as i64))?,
        (None, Some(e)) => output.set_offset(e),
        _ => {}
    }
    Ok(n as i64)
}
