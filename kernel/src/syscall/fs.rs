//! read, write, readv, writev, ioctl, close, fstat, newfstatat.

use alloc::sync::Arc;
use alloc::vec::Vec;

use bytemuck::{Pod, Zeroable};

use crate::error::{Errno, Result};
use crate::fs::file::{FileLike, Metadata, OpenFile};
use crate::fs::path::{self, Walk};
use crate::fs::tmpfs::RegularFile;
use crate::mm::user::{read_cstring, UserPtr, UserSlice};
use crate::process;

const IOV_MAX: i32 = 1024;
/// Linux caps one read/write at this many bytes (MAX_RW_COUNT).
const MAX_RW_COUNT: u64 = 0x7fff_f000;
const AT_FDCWD: i32 = -100;
const AT_EMPTY_PATH: i32 = 0x1000;
const AT_SYMLINK_NOFOLLOW: i32 = 0x100;

fn file(fd: i32) -> Result<Arc<OpenFile>> {
    process::current().fds.lock().get(fd)
}

pub fn read(fd: i32, buf: u64, count: u64) -> Result<i64> {
    let f = file(fd)?;
    f.read(UserSlice::new(buf, count.min(MAX_RW_COUNT) as usize)).map(|n| n as i64)
}

pub fn write(fd: i32, buf: u64, count: u64) -> Result<i64> {
    let f = file(fd)?;
    f.write(UserSlice::new(buf, count.min(MAX_RW_COUNT) as usize)).map(|n| n as i64)
}

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct IoVec {
    base: u64,
    len: u64,
}

fn read_iovecs(iov: u64, count: i32) -> Result<Vec<UserSlice>> {
    if !(0..=IOV_MAX).contains(&count) {
        return Err(Errno::EINVAL);
    }
    let mut total: u64 = 0;
    let mut v = Vec::with_capacity(count as usize);
    for i in 0..count as usize {
        let e = UserPtr::<IoVec>::new(iov).add(i).read()?;
        if e.len as i64 <= -1 {
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
fn vectored(slices: Vec<UserSlice>, mut op: impl FnMut(UserSlice) -> Result<usize>) -> Result<i64> {
    let mut done = 0usize;
    for s in slices {
        if s.is_empty() {
            continue;
        }
        match op(s) {
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
    vectored(slices, |s| f.read(s))
}

pub fn writev(fd: i32, iov: u64, count: i32) -> Result<i64> {
    let f = file(fd)?;
    if !f.writable() {
        return Err(Errno::EBADF);
    }
    let slices = read_iovecs(iov, count)?;
    vectored(slices, |s| f.write(s))
}

pub fn ioctl(fd: i32, cmd: u32, arg: u64) -> Result<i64> {
    file(fd)?.file().ioctl(cmd, arg)
}

pub fn close(fd: i32) -> Result<i64> {
    process::current().fds.lock().remove(fd).map(|_| 0)
}

/// The x86-64 `struct stat`.
#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct Stat {
    st_dev: u64,
    st_ino: u64,
    st_nlink: u64,
    st_mode: u32,
    st_uid: u32,
    st_gid: u32,
    _pad0: u32,
    st_rdev: u64,
    st_size: i64,
    st_blksize: i64,
    st_blocks: i64,
    st_atime: i64,
    st_atime_nsec: i64,
    st_mtime: i64,
    st_mtime_nsec: i64,
    st_ctime: i64,
    st_ctime_nsec: i64,
    _unused: [i64; 3],
}

fn to_stat(m: &Metadata) -> Stat {
    let split = |ns: i64| (ns.div_euclid(1_000_000_000), ns.rem_euclid(1_000_000_000));
    let (a, an) = split(m.atime_ns);
    let (mt, mn) = split(m.mtime_ns);
    let (c, cn) = split(m.ctime_ns);
    Stat {
        st_dev: m.dev,
        st_ino: m.ino,
        st_nlink: m.nlink as u64,
        st_mode: m.mode,
        st_uid: m.uid,
        st_gid: m.gid,
        _pad0: 0,
        st_rdev: m.rdev,
        st_size: m.size as i64,
        st_blksize: m.blksize as i64,
        st_blocks: m.blocks as i64,
        st_atime: a,
        st_atime_nsec: an,
        st_mtime: mt,
        st_mtime_nsec: mn,
        st_ctime: c,
        st_ctime_nsec: cn,
        _unused: [0; 3],
    }
}

pub fn fstat(fd: i32, statbuf: u64) -> Result<i64> {
    let m = file(fd)?.file().metadata();
    UserPtr::<Stat>::new(statbuf).write(&to_stat(&m)).map(|_| 0)
}

pub fn newfstatat(dirfd: i32, pathname: u64, statbuf: u64, flags: i32) -> Result<i64> {
    if flags & !(AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW | 0x800) != 0 {
        return Err(Errno::EINVAL);
    }
    let path = read_cstring(pathname, path::PATH_MAX)?;
    if path.is_empty() {
        if flags & AT_EMPTY_PATH == 0 {
            return Err(Errno::ENOENT);
        }
        return fstat(dirfd, statbuf);
    }
    if !path.starts_with('/') && dirfd != AT_FDCWD {
        file(dirfd)?;
        return Err(Errno::ENOTDIR);
    }
    let root = crate::fs::root();
    let walk = path::resolve(root, &Walk::at(root), &path, flags & AT_SYMLINK_NOFOLLOW == 0)?;
    let m = RegularFile::new(walk.inode().clone()).metadata();
    UserPtr::<Stat>::new(statbuf).write(&to_stat(&m)).map(|_| 0)
}
