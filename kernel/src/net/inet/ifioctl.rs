//! The interface ioctls on any socket (SIOCGIF*/SIOCSIF*), as busybox `ifconfig` and `route`
//! use them.

use crate::error::{Errno, Result};

pub fn iface_ioctl(_cmd: u32, _arg: u64) -> Result<i64> {
    Err(Errno::ENOTTY)
}
