//! clock_gettime, clock_getres, gettimeofday, time, nanosleep, clock_nanosleep.

use super::time_args::{Timespec, Timeval};
use crate::arch::time::{monotonic_ns, realtime_ns};
use crate::error::{Errno, Result};
use crate::mm::user::UserPtr;
use crate::task::{self, wait_queue, WaitError};

const CLOCK_REALTIME: i32 = 0;
const CLOCK_MONOTONIC: i32 = 1;
const CLOCK_PROCESS_CPUTIME_ID: i32 = 2;
const CLOCK_THREAD_CPUTIME_ID: i32 = 3;
const CLOCK_MONOTONIC_RAW: i32 = 4;
const CLOCK_REALTIME_COARSE: i32 = 5;
const CLOCK_MONOTONIC_COARSE: i32 = 6;
const CLOCK_BOOTTIME: i32 = 7;
const TIMER_ABSTIME: i32 = 1;
const NSEC_PER_SEC: i64 = 1_000_000_000;

/// The time of `clock` in nanoseconds.
fn now(clock: i32) -> Result<i64> {
    match clock {
        CLOCK_REALTIME | CLOCK_REALTIME_COARSE => Ok(realtime_ns()),
        CLOCK_MONOTONIC | CLOCK_MONOTONIC_RAW | CLOCK_MONOTONIC_COARSE | CLOCK_BOOTTIME => {
            Ok(monotonic_ns() as i64)
        }
        CLOCK_PROCESS_CPUTIME_ID | CLOCK_THREAD_CPUTIME_ID => {
            Ok(task::current().cpu_time_ns() as i64)
        }
        _ => Err(Errno::EINVAL),
    }
}

pub fn clock_gettime(clock: i32, tp: u64) -> Result<i64> {
    let ns = now(clock)?;
    UserPtr::<Timespec>::new(tp).write(&Timespec::from_ns(ns)).map(|_| 0)
}

pub fn clock_getres(clock: i32, res: u64) -> Result<i64> {
    now(clock)?;
    let resolution = match clock {
        CLOCK_REALTIME_COARSE | CLOCK_MONOTONIC_COARSE => 1_000_000,
        _ => 1,
    };
    if res != 0 {
        UserPtr::<Timespec>::new(res).write(&Timespec::from_ns(resolution))?;
    }
    Ok(0)
}

pub fn gettimeofday(tv: u64, _tz: u64) -> Result<i64> {
    if tv != 0 {
        let ns = realtime_ns();
        let t = Timeval::from_ns(ns);
        UserPtr::<Timeval>::new(tv).write(&t)?;
    }
    Ok(0)
}

pub fn time(tloc: u64) -> Result<i64> {
    let secs = realtime_ns().div_euclid(NSEC_PER_SEC);
    if tloc != 0 {
        UserPtr::<i64>::new(tloc).write(&secs)?;
    }
    Ok(secs)
}

/// Sleeps until the monotonic deadline; on a signal, writes the time left to `rem` (if any).
fn sleep(deadline: u64, rem: u64) -> Result<i64> {
    match wait_queue::sleep_until(deadline) {
        Ok(()) => Ok(0),
        Err(WaitError::Interrupted) => {
            if rem != 0 {
                let left = deadline.saturating_sub(monotonic_ns()) as i64;
                UserPtr::<Timespec>::new(rem).write(&Timespec::from_ns(left))?;
            }
            Err(Errno::ERESTARTNOHAND)
        }
        Err(WaitError::TimedOut) => Ok(0),
    }
}

pub fn nanosleep(req: u64, rem: u64) -> Result<i64> {
    let ns = UserPtr::<Timespec>::new(req).read()?.to_ns()?;
    sleep(monotonic_ns().saturating_add(ns as u64), rem)
}

pub fn clock_nanosleep(clock: i32, flags: i32, req: u64, rem: u64) -> Result<i64> {
    match clock {
        CLOCK_REALTIME | CLOCK_MONOTONIC | CLOCK_BOOTTIME | CLOCK_PROCESS_CPUTIME_ID => {}
        CLOCK_THREAD_CPUTIME_ID => return Err(Errno::EINVAL),
        _ => return Err(Errno::EINVAL),
    }
    let ns = UserPtr::<Timespec>::new(req).read()?.to_ns()?;
    let deadline = if flags & TIMER_ABSTIME != 0 {
        let delta = ns - now(clock)?;
        monotonic_ns().saturating_add(delta.max(0) as u64)
    } else {
        monotonic_ns().saturating_add(ns as u64)
    };
    // An absolute sleep reports no remaining time.
    sleep(deadline, if flags & TIMER_ABSTIME != 0 { 0 } else { rem })
}
