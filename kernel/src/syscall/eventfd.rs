//! eventfd, eventfd2, signalfd, signalfd4.

use crate::error::{Errno, Result};
use crate::fs::eventfd::EventFd;
use crate::fs::file::{OpenFile, O_CLOEXEC, O_NONBLOCK, O_RDWR};
use crate::mm::user::UserPtr;
use crate::process::fileops;
use crate::process::signalfd::SignalFd;

const EFD_SEMAPHORE: u32 = 1;

pub fn eventfd2(initval: u32, flags: u32) -> Result<i64> {
    if flags & !(EFD_SEMAPHORE | O_CLOEXEC | O_NONBLOCK) != 0 {
        return Err(Errno::EINVAL);
    }
    let file = OpenFile::new(
        EventFd::new(initval as u64, flags & EFD_SEMAPHORE != 0),
        O_RDWR | (flags & O_NONBLOCK),
    );
    fileops::install(file, flags & O_CLOEXEC != 0).map(|fd| fd as i64)
}

pub fn signalfd4(fd: i32, mask: u64, sizemask: u64, flags: u32) -> Result<i64> {
    if flags & !(O_CLOEXEC | O_NONBLOCK) != 0 || sizemask != 8 {
        return Err(Errno::EINVAL);
    }
    let mask = UserPtr::<u64>::new(mask).read()?;
    if fd == -1 {
        let file = OpenFile::new(SignalFd::new(mask), O_RDWR | (flags & O_NONBLOCK));
        return fileops::install(file, flags & O_CLOEXEC != 0).map(|fd| fd as i64);
    }
    let f = super::io::file(fd)?;
    let sfd = f.file().as_any().and_then(|a| a.downcast_ref::<SignalFd>());
    let sfd = sfd.ok_or(Errno::EINVAL)?;
    sfd.set_mask(mask);
    Ok(fd as i64)
}
