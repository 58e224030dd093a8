//! chmod, chown, truncate, utimensat and umask.

use super::io::file;
use super::time_args::Timespec;
use crate::arch::time::realtime_ns;
use crate::error::{Errno, Result};
use crate::fs::inode::{Inode, SetAttr};
use crate::fs::path::PATH_MAX;
use crate::mm::user::{read_cstring, UserPtr};
use crate::process::{
    self,
    fileops::{self, AT_EMPTY_PATH, AT_FDCWD, AT_SYMLINK_NOFOLLOW},
};

fn inode_at(dirfd: i32, pathname: u64, flags: u32) -> Result<alloc::sync::Arc<dyn Inode>> {
    let path = read_cstring(pathname, PATH_MAX)?;
    Ok(fileops::lookup_at(dirfd, &path, flags)?.inode().clone())
}

fn inode_of_fd(fd: i32) -> Result<alloc::sync::Arc<dyn Inode>> {
    file(fd)?.file().inode().ok_or(Errno::EINVAL)
}

pub fn fchmodat(dirfd: i32, pathname: u64, mode: u32) -> Result<i64> {
    let inode = inode_at(dirfd, pathname, 0)?;
    fileops::set_attr(&inode, SetAttr { mode: Some(mode), ..SetAttr::default() }).map(|_| 0)
}

pub fn chmod(pathname: u64, mode: u32) -> Result<i64> {
    fchmodat(AT_FDCWD, pathname, mode)
}

pub fn fchmod(fd: i32, mode: u32) -> Result<i64> {
    let f = file(fd)?;
    if f.is_path_only() {
        return Err(Errno::EBADF);
    }
    fileops::set_attr(&inode_of_fd(fd)?, SetAttr { mode: Some(mode), ..SetAttr::default() })
        .map(|_| 0)
}

fn owner_attr(uid: u32, gid: u32) -> SetAttr {
    SetAttr {
        uid: (uid != u32::MAX).then_some(uid),
        gid: (gid != u32::MAX).then_some(gid),
        ..SetAttr::default()
    }
}

pub fn fchownat(dirfd: i32, pathname: u64, uid: u32, gid: u32, flags: u32) -> Result<i64> {
    if flags & !(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) != 0 {
        return Err(Errno::EINVAL);
    }
    let inode = inode_at(dirfd, pathname, flags)?;
    fileops::set_attr(&inode, owner_attr(uid, gid)).map(|_| 0)
}

pub fn fchown(fd: i32, uid: u32, gid: u32) -> Result<i64> {
    fileops::set_attr(&inode_of_fd(fd)?, owner_attr(uid, gid)).map(|_| 0)
}

pub fn truncate(pathname: u64, len: i64) -> Result<i64> {
    let inode = inode_at(AT_FDCWD, pathname, 0)?;
    fileops::truncate_inode(&inode, len).map(|_| 0)
}

pub fn ftruncate(fd: i32, len: i64) -> Result<i64> {
    let f = file(fd)?;
    if !f.writable() {
        return Err(Errno::EINVAL);
    }
    if len < 0 {
        return Err(Errno::EINVAL);
    }
    let inode = f.file().inode().ok_or(Errno::EINVAL)?;
    if inode.metadata().file_type() != crate::fs::inode::S_IFREG {
        return Err(Errno::EINVAL);
    }
    fileops::resize(&inode, len as u64).map(|_| 0)
}

const UTIME_NOW: i64 = (1 << 30) - 1;
const UTIME_OMIT: i64 = (1 << 30) - 2;

fn time_of(t: Timespec) -> Result<Option<i64>> {
    match t.nsec {
        UTIME_OMIT => Ok(None),
        UTIME_NOW => Ok(Some(realtime_ns())),
        n if (0..1_000_000_000).contains(&n) => Ok(Some(t.sec.saturating_mul(1_000_000_000) + n)),
        _ => Err(Errno::EINVAL),
    }
}

pub fn utimensat(dirfd: i32, pathname: u64, times: u64, flags: u32) -> Result<i64> {
    if flags & !(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) != 0 {
        return Err(Errno::EINVAL);
    }
    let (atime, mtime) = if times == 0 {
        let now = realtime_ns();
        (Some(now), Some(now))
    } else {
        let a = UserPtr::<Timespec>::new(times).read()?;
        let m = UserPtr::<Timespec>::new(times + 16).read()?;
        (time_of(a)?, time_of(m)?)
    };
    let inode = if pathname == 0 {
        // Linux: a NULL path means the file open as dirfd.
        inode_of_fd(dirfd)?
    } else {
        inode_at(dirfd, pathname, flags)?
    };
    if atime.is_none() && mtime.is_none() {
        return Ok(0);
    }
    fileops::set_attr(&inode, SetAttr { atime_ns: atime, mtime_ns: mtime, ..SetAttr::default() })
        .map(|_| 0)
}

pub fn umask(mask: u32) -> Result<i64> {
    let p = process::current();
    let fs_ref = p.fs();
    let mut fs = fs_ref.lock();
    let old = fs.umask;
    fs.umask = mask & 0o777;
    Ok(old as i64)
}
