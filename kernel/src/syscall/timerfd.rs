//! timerfd_create, timerfd_settime, timerfd_gettime (the file is `fs::timerfd`).

use alloc::sync::Arc;

use super::timer::Itimerspec;
use crate::error::{Errno, Result};
use crate::fs::file::{OpenFile, O_CLOEXEC, O_NONBLOCK, O_RDWR};
use crate::fs::timerfd::{TimerFd, CLOCK_REALTIME, TFD_TIMER_ABSTIME, TFD_TIMER_CANCEL_ON_SET};
use crate::mm::user::UserPtr;
use crate::process::{self, fileops};

const CLOCK_MONOTONIC: i32 = 1;
const CLOCK_BOOTTIME: i32 = 7;
const CLOCK_REALTIME_ALARM: i32 = 8;
const CLOCK_BOOTTIME_ALARM: i32 = 9;

pub fn timerfd_create(clock: i32, flags: u32) -> Result<i64> {
    if flags & !(O_CLOEXEC | O_NONBLOCK) != 0 {
        return Err(Errno::EINVAL);
    }
    // The alarm clocks (CAP_WAKE_ALARM) run as their base clocks: there is no suspend.
    let base = match clock {
        CLOCK_REALTIME | CLOCK_REALTIME_ALARM => CLOCK_REALTIME,
        CLOCK_MONOTONIC | CLOCK_BOOTTIME | CLOCK_BOOTTIME_ALARM => CLOCK_MONOTONIC,
        _ => return Err(Errno::EINVAL),
    };
    if matches!(clock, CLOCK_REALTIME_ALARM | CLOCK_BOOTTIME_ALARM)
        && !process::current().creds.lock().is_root()
    {
        return Err(Errno::EPERM);
    }
    let file = OpenFile::new(TimerFd::new(base), O_RDWR | (flags & O_NONBLOCK));
    fileops::install(file, flags & O_CLOEXEC != 0).map(|fd| fd as i64)
}

fn timerfd(fd: i32) -> Result<Arc<OpenFile>> {
    let f = super::io::file(fd)?;
    if f.file().as_any().and_then(|a| a.downcast_ref::<TimerFd>()).is_none() {
        return Err(Errno::EINVAL);
    }
    Ok(f)
}

fn with_timerfd<R>(f: &OpenFile, op: impl FnOnce(&TimerFd) -> R) -> R {
    let t = f.file().as_any().and_then(|a| a.downcast_ref::<TimerFd>());
    op(t.expect("checked to be a timerfd"))
}

pub fn timerfd_settime(fd: i32, flags: u32, new: u64, old: u64) -> Result<i64> {
    // Linux: read, then the flags and values (EINVAL), then the descriptor (EBADF, EINVAL).
    let spec = UserPtr::<Itimerspec>::new(new).read()?;
    if flags & !(TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET) != 0 {
        return Err(Errno::EINVAL);
    }
    let value = spec.value.to_ns()?;
    let interval = spec.interval.to_ns()? as u64;
    let f = timerfd(fd)?;
    let previous = with_timerfd(&f, |t| t.settime(flags, value, interval));
    if old != 0 {
        UserPtr::<Itimerspec>::new(old).write(&Itimerspec::from_ns(previous))?;
    }
    Ok(0)
}

pub fn timerfd_gettime(fd: i32, cur: u64) -> Result<i64> {
    let f = timerfd(fd)?;
    let now = with_timerfd(&f, |t| t.gettime());
    UserPtr::<Itimerspec>::new(cur).write(&Itimerspec::from_ns(now)).map(|_| 0)
}
