//! inotify_init, inotify_init1, inotify_add_watch, inotify_rm_watch.

use crate::error::{Errno, Result};
use crate::fs::file::{OpenFile, O_CLOEXEC, O_NONBLOCK, O_RDONLY};
use crate::fs::inotify::{Inotify, IN_DONT_FOLLOW, VALID_MASK};
use crate::fs::path::PATH_MAX;
use crate::mm::user::read_cstring;
use crate::process::fileops::{self, AT_FDCWD, AT_SYMLINK_NOFOLLOW};
use crate::process::{self, creds::MAY_READ};

pub fn inotify_init1(flags: u32) -> Result<i64> {
    if flags & !(O_CLOEXEC | O_NONBLOCK) != 0 {
        return Err(Errno::EINVAL);
    }
    let uid = process::current().creds.lock().uid;
    let file = OpenFile::new(Inotify::new(uid)?, O_RDONLY | (flags & O_NONBLOCK));
    fileops::install(file, flags & O_CLOEXEC != 0).map(|fd| fd as i64)
}

/// Runs `op` on the inotify instance behind `fd`: EBADF for no descriptor, EINVAL for another
/// kind of file.
fn with_instance<R>(fd: i32, op: impl FnOnce(&Inotify) -> Result<R>) -> Result<R> {
    let f = super::io::file(fd)?;
    let inotify = f.file().as_any().and_then(|a| a.downcast_ref::<Inotify>());
    op(inotify.ok_or(Errno::EINVAL)?)
}

pub fn inotify_add_watch(fd: i32, pathname: u64, mask: u32) -> Result<i64> {
    with_instance(fd, |inotify| {
        if mask & !VALID_MASK != 0 {
            return Err(Errno::EINVAL);
        }
        let path = read_cstring(pathname, PATH_MAX)?;
        let follow = if mask & IN_DONT_FOLLOW != 0 { AT_SYMLINK_NOFOLLOW } else { 0 };
        let walk = fileops::lookup_at(AT_FDCWD, &path, follow)?;
        let inode = walk.inode().clone();
        // Watching needs read permission on the inode, as Linux's inode_permission(MAY_READ).
        let creds = process::current().creds.lock().clone();
        if !creds.may_access(&inode.metadata(), MAY_READ) {
            return Err(Errno::EACCES);
        }
        inotify.add_watch(&inode, mask).map(|wd| wd as i64)
    })
}

pub fn inotify_rm_watch(fd: i32, wd: i32) -> Result<i64> {
    with_instance(fd, |inotify| inotify.rm_watch(wd).map(|_| 0))
}
