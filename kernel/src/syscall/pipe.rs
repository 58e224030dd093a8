//! pipe and pipe2.

use alloc::sync::Arc;

use crate::cap::Cap;
use crate::error::{Errno, Result};
use crate::fs::file::{OpenFile, O_CLOEXEC, O_DIRECT, O_NONBLOCK, O_RDONLY, O_WRONLY};
use crate::fs::pipe;
use crate::mm::user::UserPtr;
use crate::process::{self, fileops};

pub fn pipe2(fds: u64, flags: u32) -> Result<i64> {
    if flags & !(O_CLOEXEC | O_NONBLOCK | O_DIRECT) != 0 {
        return Err(Errno::EINVAL);
    }
    let (r, w) = pipe::new_pair(flags & O_DIRECT != 0)?;
    let status = flags & (O_NONBLOCK | O_DIRECT);
    let cloexec = flags & O_CLOEXEC != 0;
    // Reserved until copied out: a sibling thread never sees descriptors this call may undo.
    let rfd = fileops::reserve(OpenFile::new(r, O_RDONLY | status), cloexec)?;
    let wfd = match fileops::reserve(OpenFile::new(w, O_WRONLY | status), cloexec) {
        Ok(fd) => fd,
        Err(e) => {
            fileops::unreserve(&[rfd]);
            return Err(e);
        }
    };
    if let Err(e) = UserPtr::<[i32; 2]>::new(fds).write(&[rfd, wfd]) {
        fileops::unreserve(&[rfd, wfd]);
        return Err(e);
    }
    fileops::publish(&[rfd, wfd]);
    Ok(0)
}

/// F_GETPIPE_SZ / F_SETPIPE_SZ.
pub fn pipe_size(file: &Arc<OpenFile>, set: Option<u64>) -> Result<i64> {
    let pipe = file.file().pipe().ok_or(Errno::EBADF)?;
    match set {
        None => Ok(pipe.capacity() as i64),
        Some(size) => {
            let privileged = process::current().creds.lock().capable(Cap::SysResource);
            pipe.set_capacity(size as usize, privileged).map(|n| n as i64)
        }
    }
}
