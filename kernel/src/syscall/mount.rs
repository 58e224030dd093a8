//! mount and umount2 (file systems without a device: tmpfs, proc, devtmpfs).

use alloc::string::String;

use crate::cap::Cap;
use crate::error::{Errno, Result};
use crate::fs::inode::same_inode;
use crate::fs::path::PATH_MAX;
use crate::mm::user::read_cstring;
use crate::process::{
    self,
    fileops::{self, AT_FDCWD},
};

const MS_REMOUNT: u64 = 32;
const MS_BIND: u64 = 4096;

/// Linux copies at most a page of option text.
const OPTIONS_MAX: usize = 4096;

pub fn mount(source: u64, target: u64, fstype: u64, flags: u64, data: u64) -> Result<i64> {
    if !process::current().creds.lock().capable(Cap::SysAdmin) {
        return Err(Errno::EPERM);
    }
    let target = read_cstring(target, PATH_MAX)?;
    let walk = fileops::lookup_at(AT_FDCWD, &target, 0)?;
    let options = if data != 0 { read_cstring(data, OPTIONS_MAX)? } else { String::new() };
    if flags & MS_REMOUNT != 0 {
        // Only the root of a mount can be remounted (`mount -o remount,size=...`).
        let fs = walk.inode().fs();
        if !same_inode(&fs.root(), walk.inode()) {
            return Err(Errno::EINVAL);
        }
        return fs.configure(&options, true).map(|_| 0);
    }
    if flags & MS_BIND != 0 {
        return Err(Errno::EINVAL);
    }
    let fstype = read_cstring(fstype, 64)?;
    let source = if source != 0 { read_cstring(source, PATH_MAX)? } else { fstype.clone() };
    crate::fs::kmem::reserve(OPTIONS_MAX)?;
    let fs = crate::fs::mount::new_fs(&fstype)?;
    fs.configure(&options, false)?;
    crate::fs::mount::mount(walk.inode(), &walk.path(), &source, fs).map(|_| 0)
}

pub fn umount2(target: u64, _flags: i32) -> Result<i64> {
    if !process::current().creds.lock().capable(Cap::SysAdmin) {
        return Err(Errno::EPERM);
    }
    let target = read_cstring(target, PATH_MAX)?;
    let walk = fileops::lookup_at(AT_FDCWD, &target, 0)?;
    crate::fs::mount::unmount(&walk.path()).map(|_| 0)
}
