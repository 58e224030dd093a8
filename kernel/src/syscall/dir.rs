//! open, creat, and the directory-changing calls: mkdir, mknod, unlink, rmdir, rename, link,
//! symlink; getdents64, getcwd, chdir, fchdir.

use crate::error::{Errno, Result};
use crate::fs::file::{O_CREAT, O_TRUNC, O_WRONLY};
use crate::fs::path::PATH_MAX;
use crate::mm::user::{read_cstring, UserSlice};
use crate::process::{
    self,
    fileops::{self, AT_FDCWD, AT_REMOVEDIR},
};

fn path(p: u64) -> Result<alloc::string::String> {
    read_cstring(p, PATH_MAX)
}

pub fn openat(dirfd: i32, pathname: u64, flags: u32, mode: u32) -> Result<i64> {
    fileops::open_at(dirfd, &path(pathname)?, flags, mode).map(|fd| fd as i64)
}

pub fn open(pathname: u64, flags: u32, mode: u32) -> Result<i64> {
    openat(AT_FDCWD, pathname, flags, mode)
}

pub fn creat(pathname: u64, mode: u32) -> Result<i64> {
    openat(AT_FDCWD, pathname, O_CREAT | O_WRONLY | O_TRUNC, mode)
}

pub fn mkdirat(dirfd: i32, pathname: u64, mode: u32) -> Result<i64> {
    fileops::mkdir_at(dirfd, &path(pathname)?, mode).map(|_| 0)
}

pub fn mknodat(dirfd: i32, pathname: u64, mode: u32, dev: u64) -> Result<i64> {
    fileops::mknod_at(dirfd, &path(pathname)?, mode, dev).map(|_| 0)
}

pub fn unlinkat(dirfd: i32, pathname: u64, flags: u32) -> Result<i64> {
    fileops::unlink_at(dirfd, &path(pathname)?, flags).map(|_| 0)
}

pub fn rmdir(pathname: u64) -> Result<i64> {
    unlinkat(AT_FDCWD, pathname, AT_REMOVEDIR)
}

pub fn renameat2(olddirfd: i32, old: u64, newdirfd: i32, new: u64, flags: u32) -> Result<i64> {
    fileops::rename_at(olddirfd, &path(old)?, newdirfd, &path(new)?, flags).map(|_| 0)
}

pub fn linkat(olddirfd: i32, old: u64, newdirfd: i32, new: u64, flags: u32) -> Result<i64> {
    fileops::link_at(olddirfd, &path(old)?, newdirfd, &path(new)?, flags).map(|_| 0)
}

pub fn symlinkat(target: u64, newdirfd: i32, linkpath: u64) -> Result<i64> {
    fileops::symlink_at(&path(target)?, newdirfd, &path(linkpath)?).map(|_| 0)
}

/// `struct linux_dirent64` header: d_ino, d_off, d_reclen, d_type, then the name.
const DIRENT_HEADER: usize = 19;

pub fn getdents64(fd: i32, buf: u64, count: u64) -> Result<i64> {
    let f = super::io::file(fd)?;
    if f.is_path_only() {
        return Err(Errno::EBADF);
    }
    let inode = f.file().inode().ok_or(Errno::ENOTDIR)?;
    if !inode.metadata().is_dir() {
        return Err(Errno::ENOTDIR);
    }
    let out = UserSlice::new(buf, count.min(1 << 20) as usize);
    out.check()?;
    // The offset is a position (see `Inode::readdir_from`): the next entry is the first one
    // at or beyond it, and each entry's d_off is where the one after it is looked for.
    let start = f.offset();
    let entries = inode.readdir_from(start, out.len() / (DIRENT_HEADER + 1) + 1)?;
    let mut bytes = alloc::vec::Vec::new();
    let mut next = start;
    for (pos, e) in &entries {
        let reclen = (DIRENT_HEADER + e.name.len() + 1 + 7) & !7;
        if bytes.len() + reclen > out.len() {
            break;
        }
        bytes.try_reserve(reclen).map_err(|_| Errno::ENOMEM)?;
        next = pos + 1;
        bytes.extend_from_slice(&e.ino.to_ne_bytes());
        bytes.extend_from_slice(&next.to_ne_bytes());
        bytes.extend_from_slice(&(reclen as u16).to_ne_bytes());
        bytes.push(e.dtype);
        bytes.extend_from_slice(e.name.as_bytes());
        bytes.resize(bytes.len() + reclen - DIRENT_HEADER - e.name.len(), 0);
    }
    if bytes.is_empty() && !entries.is_empty() {
        return Err(Errno::EINVAL);
    }
    out.write(&bytes)?;
    f.set_offset(next);
    Ok(bytes.len() as i64)
}

pub fn getcwd(buf: u64, size: u64) -> Result<i64> {
    let walk = process::current().fs().lock().cwd.clone();
    if walk.inode().metadata().nlink == 0 {
        // The directory was removed.
        return Err(Errno::ENOENT);
    }
    let cwd = walk.path();
    let bytes = cwd.as_bytes();
    if (bytes.len() + 1) as u64 > size {
        return Err(Errno::ERANGE);
    }
    UserSlice::new(buf, bytes.len()).write(bytes)?;
    UserSlice::new(buf + bytes.len() as u64, 1).write(&[0])?;
    Ok(bytes.len() as i64 + 1)
}

pub fn chdir(pathname: u64) -> Result<i64> {
    let walk = fileops::lookup_at(AT_FDCWD, &path(pathname)?, 0)?;
    fileops::chdir(walk).map(|_| 0)
}

pub fn chroot(pathname: u64) -> Result<i64> {
    let walk = fileops::lookup_at(AT_FDCWD, &path(pathname)?, 0)?;
    fileops::chroot(walk).map(|_| 0)
}

pub fn fchdir(fd: i32) -> Result<i64> {
    let f = super::io::file(fd)?;
    let walk = f.path().cloned().ok_or(Errno::ENOTDIR)?;
    fileops::chdir(walk).map(|_| 0)
}
