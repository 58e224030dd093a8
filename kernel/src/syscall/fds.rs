//! close_range: closing (or marking close-on-exec) every descriptor in a range.

use crate::error::{Errno, Result};
use crate::process;

const CLOSE_RANGE_UNSHARE: u32 = 1 << 1;
const CLOSE_RANGE_CLOEXEC: u32 = 1 << 2;

pub fn close_range(first: u32, last: u32, flags: u32) -> Result<i64> {
    if flags & !(CLOSE_RANGE_UNSHARE | CLOSE_RANGE_CLOEXEC) != 0 || first > last {
        return Err(Errno::EINVAL);
    }
    // CLOSE_RANGE_UNSHARE: a descriptor table is never shared between processes here.
    let p = process::current();
    let open = p.files().lock().try_entries()?;
    for fd in open.into_iter().map(|(fd, _)| fd).filter(|&fd| (first..=last).contains(&(fd as u32)))
    {
        if flags & CLOSE_RANGE_CLOEXEC != 0 {
            p.files().lock().set_cloexec(fd, true)?;
        } else {
            // As close(2), one at a time: locks released, sockets collected.
            let _ = super::io::close(fd);
        }
    }
    Ok(0)
}
