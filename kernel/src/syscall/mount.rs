//! mount and umount2 (file systems without a device: tmpfs, proc, devtmpfs).

use crate::error::{Errno, Result};
use crate::fs::path::PATH_MAX;
use crate::mm::user::read_cstring;
use crate::process::{
    self,
    fileops::{self, AT_FDCWD},
};

const MS_REMOUNT: u64 = 32;
const MS_BIND: u64 = 4096;

pub fn mount(source: u64, target: u64, fstype: u64, flags: u64, _data: u64) -> Result<i64> {
    if !process::current().creds.lock().is_root() {
        return Err(Errno::EPERM);
    }
    let target = read_cstring(target, PATH_MAX)?;
    let walk = fileops::lookup_at(AT_FDCWD, &target, 0)?;
    if flags & MS_REMOUNT != 0 {
        return Ok(0);
    }
    if flags & MS_BIND != 0 {
        return Err(Errno::EINVAL);
    }
    let fstype = read_cstring(fstype, 64)?;
    let source = if source != 0 { read_cstring(source, PATH_MAX)? } else { fstype.clone() };
    let fs = crate::fs::mount::new_fs(&fstype)?;
    crate::fs::mount::mount(walk.inode(), &walk.path(), &source, fs).map(|_| 0)
}

pub fn umount2(target: u64, _flags: i32) -> Result<i64> {
    if !process::current().creds.lock().is_root() {
        return Err(Errno::EPERM);
    }
    let target = read_cstring(target, PATH_MAX)?;
    let walk = fileops::lookup_at(AT_FDCWD, &target, 0)?;
    crate::fs::mount::unmount(&walk.path()).map(|_| 0)
}
