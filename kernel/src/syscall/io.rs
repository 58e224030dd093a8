//! read, write and their vectored and positional forms, lseek, ioctl, close, dup*, fcntl, sync.

use alloc::sync::Arc;
use alloc::vec::Vec;

use bytemuck::{Pod, Zeroable};

use super::lock;
use crate::error::{Errno, Result};
use crate::fs::file::{OpenFile, O_ASYNC, O_CLOEXEC};
use crate::mm::user::{UserPtr, UserSlice};
use crate::process::{self, fileops, sigio};

const IOV_MAX: i32 = 1024;
/// Linux caps one read/write at this many bytes (MAX_RW_COUNT).
const MAX_RW_COUNT: u64 = 0x7fff_f000;

pub fn file(fd: i32) -> Result<Arc<OpenFile>> {
    process::current().files().lock().get(fd)
}

pub fn read(fd: i32, buf: u64, count: u64) -> Result<i64> {
    file(fd)?.read(UserSlice::new(buf, count.min(MAX_RW_COUNT) as usize)).map(|n| n as i64)
}

/// Writing to a pipe or socket nobody reads raises SIGPIPE as well as EPIPE.
pub(super) fn sigpipe_on_epipe(r: Result<i64>) -> Result<i64> {
    if r == Err(Errno::EPIPE) {
        crate::process::signal::raise_sigpipe();
    }
    r
}

pub fn write(fd: i32, buf: u64, count: u64) -> Result<i64> {
    sigpipe_on_epipe(
        file(fd)?.write(UserSlice::new(buf, count.min(MAX_RW_COUNT) as usize)).map(|n| n as i64),
    )
}

pub fn pread64(fd: i32, buf: u64, count: u64, off: i64) -> Result<i64> {
    if off < 0 {
        return Err(Errno::EINVAL);
    }
    file(fd)?
        .pread(UserSlice::new(buf, count.min(MAX_RW_COUNT) as usize), off as u64)
        .map(|n| n as i64)
}

pub fn pwrite64(fd: i32, buf: u64, count: u64, off: i64) -> Result<i64> {
    if off < 0 {
        return Err(Errno::EINVAL);
    }
    file(fd)?
        .pwrite(UserSlice::new(buf, count.min(MAX_RW_COUNT) as usize), off as u64)
        .map(|n| n as i64)
}

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct IoVec {
    base: u64,
    len: u64,
}

pub(super) fn read_iovecs(iov: u64, count: i32) -> Result<Vec<UserSlice>> {
    if !(0..=IOV_MAX).contains(&count) {
        return Err(Errno::EINVAL);
    }
    let mut total: u64 = 0;
    let mut v = Vec::with_capacity(count as usize);
    for i in 0..count as usize {
        let e = UserPtr::<IoVec>::new(iov).add(i).read()?;
        if (e.len as i64) < 0 {
            return Err(Errno::EINVAL);
        }
        let len = e.len.min(MAX_RW_COUNT - total);
        total += len;
        v.push(UserSlice::new(e.base, len as usize));
    }
    Ok(v)
}

/// Runs `op` over the iovecs in order, stopping at the first short transfer. An error after
/// some bytes moved is reported as the partial count, as Linux does.
pub(super) fn vectored(
    slices: Vec<UserSlice>,
    mut op: impl FnMut(UserSlice, usize) -> Result<usize>,
) -> Result<i64> {
    let mut done = 0usize;
    for s in slices {
        if s.is_empty() {
            continue;
        }
        match op(s, done) {
            Ok(n) => {
                done += n;
                if n < s.len() {
                    break;
                }
            }
            Err(e) if done == 0 => return Err(e),
            Err(_) => break,
        }
    }
    Ok(done as i64)
}

pub fn readv(fd: i32, iov: u64, count: i32) -> Result<i64> {
    let f = file(fd)?;
    if !f.readable() {
        return Err(Errno::EBADF);
    }
    let slices = read_iovecs(iov, count)?;
    if f.file().as_socket().is_some() {
        return super::socket::readv(fd, &slices);
    }
    vectored(slices, |s, _| f.read(s))
}

pub fn writev(fd: i32, iov: u64, count: i32) -> Result<i64> {
    let f = file(fd)?;
    if !f.writable() {
        return Err(Errno::EBADF);
    }
    let slices = read_iovecs(iov, count)?;
    if f.file().as_socket().is_some() {
        return super::socket::writev(fd, &slices);
    }
    sigpipe_on_epipe(vectored(slices, |s, _| f.write(s)))
}

pub fn preadv(fd: i32, iov: u64, count: i32, off: i64) -> Result<i64> {
    let f = file(fd)?;
    if off < 0 {
        return Err(Errno::EINVAL);
    }
    vectored(read_iovecs(iov, count)?, |s, done| f.pread(s, off as u64 + done as u64))
}

pub fn pwritev(fd: i32, iov: u64, count: i32, off: i64) -> Result<i64> {
    let f = file(fd)?;
    if off < 0 {
        return Err(Errno::EINVAL);
    }
    sigpipe_on_epipe(vectored(read_iovecs(iov, count)?, |s, done| {
        f.pwrite(s, off as u64 + done as u64)
    }))
}

const SEEK_SET: i32 = 0;
const SEEK_CUR: i32 = 1;
const SEEK_END: i32 = 2;
const SEEK_DATA: i32 = 3;
const SEEK_HOLE: i32 = 4;

pub fn lseek(fd: i32, off: i64, whence: i32) -> Result<i64> {
    let f = file(fd)?;
    // Linux rejects an unknown whence before asking the file.
    if !(SEEK_SET..=SEEK_HOLE).contains(&whence) {
        return Err(Errno::EINVAL);
    }
    if let Some(pos) = f.file().fixed_seek() {
        return Ok(pos as i64);
    }
    if f.file().seek_is_noop() {
        return Ok(f.offset() as i64);
    }
    if !f.file().is_seekable() {
        return Err(Errno::ESPIPE);
    }
    let size = f.file().metadata().size as i64;
    let new = match whence {
        SEEK_SET => off,
        SEEK_CUR => (f.offset() as i64).checked_add(off).ok_or(Errno::EOVERFLOW)?,
        SEEK_END => size.checked_add(off).ok_or(Errno::EOVERFLOW)?,
        // The whole file counts as data, with the one hole at its end (generic_file_llseek);
        // an offset outside the file (negative ones included) is ENXIO.
        _ if off < 0 || off >= size => return Err(Errno::ENXIO),
        SEEK_DATA => off,
        _ => size,
    };
    if new < 0 {
        return Err(Errno::EINVAL);
    }
    f.set_offset(new as u64);
    Ok(new)
}

const FIONCLEX: u32 = 0x5450;
const FIOCLEX: u32 = 0x5451;
const FIONBIO: u32 = 0x5421;
const FIOASYNC: u32 = 0x5452;
const FIOSETOWN: u32 = 0x8901;
const SIOCSPGRP: u32 = 0x8902;
const FIOGETOWN: u32 = 0x8903;
const SIOCGPGRP: u32 = 0x8904;

pub fn ioctl(fd: i32, cmd: u32, arg: u64) -> Result<i64> {
    let f = file(fd)?;
    match cmd {
        FIOCLEX | FIONCLEX => {
            process::current().files().lock().set_cloexec(fd, cmd == FIOCLEX)?;
            Ok(0)
        }
        FIONBIO => {
            let on = UserPtr::<i32>::new(arg).read()? != 0;
            let flags = f.flags();
            let nb = crate::fs::file::O_NONBLOCK;
            f.set_status_flags(if on { flags | nb } else { flags & !nb });
            Ok(0)
        }
        FIOASYNC => {
            let on = UserPtr::<i32>::new(arg).read()? != 0;
            sigio::set_async(&f, fd, on);
            Ok(0)
        }
        // Sockets take their owner by ioctl too (sock_ioctl), other files only by fcntl.
        FIOSETOWN | SIOCSPGRP if f.file().as_socket().is_some() => {
            sigio::setown(&f, UserPtr::<i32>::new(arg).read()?).map(|_| 0)
        }
        FIOGETOWN | SIOCGPGRP if f.file().as_socket().is_some() => {
            UserPtr::<i32>::new(arg).write(&sigio::getown(&f))?;
            Ok(0)
        }
        _ => {
            if f.is_path_only() {
                return Err(Errno::EBADF);
            }
            // Interface requests work on any socket, as Linux's sock_ioctl passes them on.
            if crate::net::inet::is_iface_ioctl(cmd) && f.file().as_socket().is_some() {
                return crate::net::inet::iface_ioctl(cmd, arg);
            }
            f.file().ioctl(cmd, arg)
        }
    }
}

pub fn close(fd: i32) -> Result<i64> {
    let p = process::current();
    let f = p.files().lock().remove(fd)?;
    crate::fs::lock::closed_by_process(p.pid, &f);
    f.file().closed_by(p.pid);
    let socket = f.file().as_socket().is_some();
    drop(f);
    if socket {
        // A socket closed may leave a cycle only messages in flight hold (net/unix/gc.rs).
        crate::net::unix::gc::collect();
    }
    Ok(0)
}

pub fn dup(fd: i32) -> Result<i64> {
    let f = file(fd)?;
    fileops::install(f, false).map(|fd| fd as i64)
}

pub fn dup3(old: i32, new: i32, flags: u32) -> Result<i64> {
    if flags & !O_CLOEXEC != 0 || old == new {
        return Err(Errno::EINVAL);
    }
    let p = process::current();
    let f = p.files().lock().get(old)?;
    let limit = p.rlimits.lock().nofile();
    if new < 0 || new as usize >= limit {
        return Err(Errno::EBADF);
    }
    let replaced = p.files().lock().put(new, f, flags & O_CLOEXEC != 0)?;
    if let Some(old) = replaced {
        crate::fs::lock::closed_by_process(p.pid, &old);
        old.file().closed_by(p.pid);
    }
    Ok(new as i64)
}

pub fn dup2(old: i32, new: i32) -> Result<i64> {
    if old == new {
        file(old)?;
        return Ok(new as i64);
    }
    dup3(old, new, 0)
}

const F_DUPFD: i32 = 0;
const F_GETFD: i32 = 1;
const F_SETFD: i32 = 2;
const F_GETFL: i32 = 3;
const F_SETFL: i32 = 4;
const F_SETOWN: i32 = 8;
const F_GETOWN: i32 = 9;
const F_SETSIG: i32 = 10;
const F_GETSIG: i32 = 11;
const F_SETOWN_EX: i32 = 15;
const F_GETOWN_EX: i32 = 16;
const F_DUPFD_CLOEXEC: i32 = 1030;
const F_SETPIPE_SZ: i32 = 1031;
const F_GETPIPE_SZ: i32 = 1032;
const FD_CLOEXEC: u64 = 1;

/// `struct f_owner_ex` (F_SETOWN_EX, F_GETOWN_EX).
#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct FOwnerEx {
    kind: i32,
    pid: i32,
}

pub fn fcntl(fd: i32, cmd: i32, arg: u64) -> Result<i64> {
    let p = process::current();
    let f = p.files().lock().get(fd)?;
    match cmd {
        F_DUPFD | F_DUPFD_CLOEXEC => {
            let limit = p.rlimits.lock().nofile();
            if arg >= limit as u64 {
                return Err(Errno::EINVAL);
            }
            let fd = p.files().lock().insert(f, cmd == F_DUPFD_CLOEXEC, arg as usize, limit)?;
            Ok(fd as i64)
        }
        F_GETFD => Ok(if p.files().lock().cloexec(fd)? { FD_CLOEXEC as i64 } else { 0 }),
        F_SETFD => {
            p.files().lock().set_cloexec(fd, arg & FD_CLOEXEC != 0)?;
            Ok(0)
        }
        F_GETFL => Ok(f.flags() as i64),
        F_SETFL => {
            if f.is_path_only() {
                return Err(Errno::EBADF);
            }
            // O_ASYNC registers (or drops) the file's SIGIO observer; the rest are flags.
            sigio::set_async(&f, fd, arg as u32 & O_ASYNC != 0);
            f.set_status_flags((arg as u32 & !O_ASYNC) | (f.flags() & O_ASYNC));
            Ok(0)
        }
        F_SETOWN => sigio::setown(&f, arg as i32).map(|_| 0),
        F_GETOWN => Ok(sigio::getown(&f) as i64),
        F_SETOWN_EX => {
            let o = UserPtr::<FOwnerEx>::new(arg).read()?;
            sigio::setown_ex(&f, o.kind, o.pid).map(|_| 0)
        }
        F_GETOWN_EX => {
            let (kind, pid) = sigio::getown_ex(&f);
            UserPtr::<FOwnerEx>::new(arg).write(&FOwnerEx { kind, pid })?;
            Ok(0)
        }
        F_SETSIG => sigio::setsig(&f, arg).map(|_| 0),
        F_GETSIG => Ok(sigio::getsig(&f) as i64),
        super::memfd::F_ADD_SEALS | super::memfd::F_GET_SEALS => super::memfd::seals(&f, cmd, arg),
        F_GETPIPE_SZ => super::pipe::pipe_size(&f, None),
        F_SETPIPE_SZ => super::pipe::pipe_size(&f, Some(arg as u32 as u64)),
        lock::F_GETLK
        | lock::F_SETLK
        | lock::F_SETLKW
        | lock::F_OFD_GETLK
        | lock::F_OFD_SETLK
        | lock::F_OFD_SETLKW => lock::fcntl(f, cmd, arg),
        _ => Err(Errno::EINVAL),
    }
}

pub fn fsync(fd: i32) -> Result<i64> {
    // Pipes, sockets and the like cannot be synced.
    file(fd)?.file().inode().ok_or(Errno::EINVAL)?;
    Ok(0)
}
