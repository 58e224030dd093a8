//! POSIX per-process timers: timer_create, timer_settime, timer_gettime, timer_getoverrun,
//! timer_delete. The timers themselves are `process::timers`.

use alloc::sync::Arc;

use bytemuck::{Pod, Zeroable};

use super::time::{cpu_clock, CpuClock};
use super::time_args::Timespec;
use crate::error::{Errno, Result};
use crate::mm::user::UserPtr;
use crate::process::signal::{NSIG, SIGALRM};
use crate::process::timers::{self, Notify, SetValue, TimerClock};
use crate::process::{self};

const CLOCK_REALTIME: i32 = 0;
const CLOCK_MONOTONIC: i32 = 1;
const CLOCK_MONOTONIC_RAW: i32 = 4;
const CLOCK_REALTIME_COARSE: i32 = 5;
const CLOCK_MONOTONIC_COARSE: i32 = 6;
const CLOCK_BOOTTIME: i32 = 7;
const CLOCK_REALTIME_ALARM: i32 = 8;
const CLOCK_BOOTTIME_ALARM: i32 = 9;
const CLOCK_TAI: i32 = 11;
const TIMER_ABSTIME: i32 = 1;

const SIGEV_SIGNAL: i32 = 0;
const SIGEV_NONE: i32 = 1;
const SIGEV_THREAD: i32 = 2;
const SIGEV_THREAD_ID: i32 = 4;

/// `struct sigevent` (64 bytes).
#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct SigEvent {
    value: u64,
    signo: i32,
    notify: i32,
    /// sigev_notify_thread_id (the first word of the union).
    tid: i32,
    _rest: [i32; 11],
}

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
pub struct Itimerspec {
    pub interval: Timespec,
    pub value: Timespec,
}

impl Itimerspec {
    pub fn from_ns((value, interval): (u64, u64)) -> Itimerspec {
        Itimerspec {
            interval: Timespec::from_ns(interval as i64),
            value: Timespec::from_ns(value as i64),
        }
    }
}

/// Where a wall-clock timer counts from: realtime values are converted when armed.
enum Wall {
    Monotonic,
    Realtime,
}

pub fn timer_create(clock: i32, sevp: u64, timerid: u64) -> Result<i64> {
    let event = if sevp != 0 { Some(UserPtr::<SigEvent>::new(sevp).read()?) } else { None };
    let proc = process::current();
    let timer_clock = match clock {
        CLOCK_REALTIME | CLOCK_MONOTONIC | CLOCK_BOOTTIME | CLOCK_TAI | CLOCK_REALTIME_ALARM
        | CLOCK_BOOTTIME_ALARM => TimerClock::Wall(clock),
        // These clocks exist but carry no timers (Linux: EOPNOTSUPP).
        CLOCK_MONOTONIC_RAW | CLOCK_REALTIME_COARSE | CLOCK_MONOTONIC_COARSE => {
            return Err(Errno::EOPNOTSUPP)
        }
        _ => match cpu_clock(clock)? {
            Some(CpuClock::Process(p, _)) => TimerClock::ProcessCpu(Arc::downgrade(&p)),
            Some(CpuClock::Thread(t, _)) => TimerClock::ThreadCpu(Arc::downgrade(&t)),
            None => return Err(Errno::EINVAL),
        },
    };
    let notify = match event {
        // No sigevent: SIGALRM with the timer's id as its value (below).
        None => Notify::None,
        Some(ev) => {
            let valid_sig = ev.signo > 0 && ev.signo <= NSIG as i32;
            match ev.notify {
                SIGEV_NONE => Notify::None,
                SIGEV_SIGNAL | SIGEV_THREAD if valid_sig => {
                    Notify::Signal { sig: ev.signo as u32, value: ev.value, thread: None }
                }
                SIGEV_THREAD_ID if valid_sig => {
                    // The thread must belong to the caller's process.
                    let t = proc
                        .threads
                        .lock()
                        .iter()
                        .filter_map(|w| w.upgrade())
                        .find(|t| t.tid() == ev.tid as u32);
                    let t = t.ok_or(Errno::EINVAL)?;
                    Notify::Signal {
                        sig: ev.signo as u32,
                        value: ev.value,
                        thread: Some(Arc::downgrade(&t)),
                    }
                }
                _ => return Err(Errno::EINVAL),
            }
        }
    };
    let default = event.is_none();
    let id = timers::create(&proc, timer_clock, move |id| {
        if default {
            Notify::Signal { sig: SIGALRM, value: id as u64, thread: None }
        } else {
            notify
        }
    })?;
    if UserPtr::<i32>::new(timerid).write(&id).is_err() {
        let _ = timers::delete(&proc, id);
        return Err(Errno::EFAULT);
    }
    Ok(0)
}

fn wall_of(clock: i32) -> Wall {
    if matches!(clock, CLOCK_REALTIME | CLOCK_TAI | CLOCK_REALTIME_ALARM) {
        Wall::Realtime
    } else {
        Wall::Monotonic
    }
}

pub fn timer_settime(id: i32, flags: i32, new: u64, old: u64) -> Result<i64> {
    if new == 0 {
        return Err(Errno::EINVAL);
    }
    let spec = UserPtr::<Itimerspec>::new(new).read()?;
    let value = spec.value.to_ns()?;
    let interval = spec.interval.to_ns()? as u64;
    let proc = process::current();
    let set = if value == 0 {
        SetValue::Relative(0)
    } else if flags & TIMER_ABSTIME == 0 {
        SetValue::Relative(value as u64)
    } else {
        match timers::wall_clock_of(&proc, id)? {
            // A CPU clock: the value is on that clock.
            None => SetValue::Absolute(value as u64),
            Some(clock) => match wall_of(clock) {
                Wall::Monotonic => SetValue::Absolute(value as u64),
                Wall::Realtime => SetValue::RealtimeAbsolute(value),
            },
        }
    };
    let previous = timers::settime(&proc, id, set, interval)?;
    if old != 0 {
        UserPtr::<Itimerspec>::new(old).write(&Itimerspec::from_ns(previous))?;
    }
    Ok(0)
}

pub fn timer_gettime(id: i32, cur: u64) -> Result<i64> {
    let now = timers::gettime(&process::current(), id)?;
    UserPtr::<Itimerspec>::new(cur).write(&Itimerspec::from_ns(now)).map(|_| 0)
}

pub fn timer_getoverrun(id: i32) -> Result<i64> {
    timers::getoverrun(&process::current(), id).map(i64::from)
}

pub fn timer_delete(id: i32) -> Result<i64> {
    timers::delete(&process::current(), id).map(|_| 0)
}
