//! stat family, statx, statfs, readlink, access.

use alloc::sync::Arc;

use bytemuck::{Pod, Zeroable};

use super::io::file;
use crate::error::{Errno, Result};
use crate::fs::inode::{Inode, Metadata, Storage};
use crate::fs::path::PATH_MAX;
use crate::mm::user::{read_cstring, UserPtr, UserSlice};
use crate::process::fileops::{
    self, AT_EMPTY_PATH, AT_FDCWD, AT_NO_AUTOMOUNT, AT_SYMLINK_NOFOLLOW,
};

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

fn split(ns: i64) -> (i64, i64) {
    (ns.div_euclid(1_000_000_000), ns.rem_euclid(1_000_000_000))
}

fn to_stat(m: &Metadata) -> Stat {
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

/// Metadata of what (dirfd, path, flags) names; an fd without a path (pipe, socket) works
/// with AT_EMPTY_PATH.
fn metadata_at(dirfd: i32, path: &str, flags: u32) -> Result<Metadata> {
    if path.is_empty() && flags & AT_EMPTY_PATH != 0 && dirfd != AT_FDCWD {
        return Ok(file(dirfd)?.file().metadata());
    }
    Ok(fileops::lookup_at(dirfd, path, flags)?.inode().metadata())
}

pub fn fstat(fd: i32, statbuf: u64) -> Result<i64> {
    let m = file(fd)?.file().metadata();
    UserPtr::<Stat>::new(statbuf).write(&to_stat(&m)).map(|_| 0)
}

pub fn newfstatat(dirfd: i32, pathname: u64, statbuf: u64, flags: u32) -> Result<i64> {
    if flags & !(AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT) != 0 {
        return Err(Errno::EINVAL);
    }
    let path = read_cstring(pathname, PATH_MAX)?;
    let m = metadata_at(dirfd, &path, flags)?;
    UserPtr::<Stat>::new(statbuf).write(&to_stat(&m)).map(|_| 0)
}

pub fn stat(pathname: u64, statbuf: u64) -> Result<i64> {
    newfstatat(AT_FDCWD, pathname, statbuf, 0)
}

pub fn lstat(pathname: u64, statbuf: u64) -> Result<i64> {
    newfstatat(AT_FDCWD, pathname, statbuf, AT_SYMLINK_NOFOLLOW)
}

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable, Default)]
struct StatxTimestamp {
    sec: i64,
    nsec: u32,
    _reserved: i32,
}

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct Statx {
    mask: u32,
    blksize: u32,
    attributes: u64,
    nlink: u32,
    uid: u32,
    gid: u32,
    mode: u16,
    _spare0: u16,
    ino: u64,
    size: u64,
    blocks: u64,
    attributes_mask: u64,
    atime: StatxTimestamp,
    btime: StatxTimestamp,
    ctime: StatxTimestamp,
    mtime: StatxTimestamp,
    rdev_major: u32,
    rdev_minor: u32,
    dev_major: u32,
    dev_minor: u32,
    _spare: [u64; 14],
}

const STATX_BASIC_STATS: u32 = 0x7ff;
const AT_STATX_SYNC_TYPE: u32 = 0x6000;

fn ts(ns: i64) -> StatxTimestamp {
    let (sec, nsec) = split(ns);
    StatxTimestamp { sec, nsec: nsec as u32, _reserved: 0 }
}

fn major(dev: u64) -> u32 {
    ((dev >> 8) & 0xfff) as u32 | ((dev >> 32) & !0xfff) as u32
}

fn minor(dev: u64) -> u32 {
    (dev & 0xff) as u32 | ((dev >> 12) & !0xff) as u32
}

pub fn statx(dirfd: i32, pathname: u64, flags: u32, mask: u32, buf: u64) -> Result<i64> {
    if flags & !(AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_STATX_SYNC_TYPE) != 0
        || flags & AT_STATX_SYNC_TYPE == AT_STATX_SYNC_TYPE
    {
        return Err(Errno::EINVAL);
    }
    if mask & 0x8000_0000 != 0 {
        return Err(Errno::EINVAL);
    }
    let path = read_cstring(pathname, PATH_MAX)?;
    let m = metadata_at(dirfd, &path, flags)?;
    let sx = Statx {
        mask: STATX_BASIC_STATS,
        blksize: m.blksize,
        attributes: 0,
        nlink: m.nlink,
        uid: m.uid,
        gid: m.gid,
        mode: m.mode as u16,
        _spare0: 0,
        ino: m.ino,
        size: m.size,
        blocks: m.blocks,
        attributes_mask: 0,
        atime: ts(m.atime_ns),
        btime: StatxTimestamp::default(),
        ctime: ts(m.ctime_ns),
        mtime: ts(m.mtime_ns),
        rdev_major: major(m.rdev),
        rdev_minor: minor(m.rdev),
        dev_major: major(m.dev),
        dev_minor: minor(m.dev),
        _spare: [0; 14],
    };
    UserPtr::<Statx>::new(buf).write(&sx).map(|_| 0)
}

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct Statfs {
    f_type: i64,
    f_bsize: i64,
    f_blocks: u64,
    f_bfree: u64,
    f_bavail: u64,
    f_files: u64,
    f_ffree: u64,
    f_fsid: [i32; 2],
    f_namelen: i64,
    f_frsize: i64,
    f_flags: i64,
    f_spare: [i64; 4],
}

fn statfs_of(inode: &Arc<dyn Inode>) -> Statfs {
    let fs = inode.fs();
    // tmpfs reports its size= and nr_inodes=; devpts and mqueue report memory as Linux's
    // default half of RAM; proc has no storage at all.
    let storage = fs.storage().unwrap_or_else(|| {
        let (total, free) = if fs.has_storage() {
            (crate::mm::frame::total_frames() as u64, crate::mm::frame::free_frames() as u64)
        } else {
            (0, 0)
        };
        let half = total / 2;
        Storage {
            blocks: half,
            free_blocks: free.min(half),
            files: half,
            free_files: free.min(half),
        }
    });
    Statfs {
        f_type: fs.magic() as i64,
        f_bsize: 4096,
        f_blocks: storage.blocks,
        f_bfree: storage.free_blocks,
        f_bavail: storage.free_blocks,
        f_files: storage.files,
        f_ffree: storage.free_files,
        f_fsid: [fs.dev() as i32, 0],
        f_namelen: 255,
        f_frsize: 4096,
        f_flags: 0x20, // ST_RELATIME
        f_spare: [0; 4],
    }
}

pub fn statfs(pathname: u64, buf: u64) -> Result<i64> {
    let path = read_cstring(pathname, PATH_MAX)?;
    let walk = fileops::lookup_at(AT_FDCWD, &path, 0)?;
    UserPtr::<Statfs>::new(buf).write(&statfs_of(walk.inode())).map(|_| 0)
}

pub fn fstatfs(fd: i32, buf: u64) -> Result<i64> {
    let f = file(fd)?;
    let inode = f.file().inode().ok_or(Errno::ENOSYS)?;
    UserPtr::<Statfs>::new(buf).write(&statfs_of(&inode)).map(|_| 0)
}

pub fn readlinkat(dirfd: i32, pathname: u64, buf: u64, size: i64) -> Result<i64> {
    if size <= 0 {
        return Err(Errno::EINVAL);
    }
    let path = read_cstring(pathname, PATH_MAX)?;
    let target = fileops::readlink_at(dirfd, &path)?;
    let n = target.len().min(size as usize);
    UserSlice::new(buf, n).write(&target.as_bytes()[..n])?;
    Ok(n as i64)
}

pub fn faccessat(dirfd: i32, pathname: u64, mode: u32, flags: u32) -> Result<i64> {
    let path = read_cstring(pathname, PATH_MAX)?;
    fileops::access_at(dirfd, &path, mode, flags).map(|_| 0)
}
