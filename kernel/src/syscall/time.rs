//! clock_gettime, clock_getres, clock_settime, gettimeofday, settimeofday, time, nanosleep,
//! clock_nanosleep, getrusage, times.

use alloc::sync::Arc;

use bytemuck::{Pod, Zeroable};

use super::time_args::{Timespec, Timeval};
use crate::arch::time::{monotonic_ns, realtime_ns};
use crate::error::{Errno, Result};
use crate::mm::user::UserPtr;
use crate::process::{self, timers, Process};
use crate::task::{self, wait_queue, Thread, WaitError};

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

const CLOCK_REALTIME_ALARM: i32 = 8;
const CLOCK_BOOTTIME_ALARM: i32 = 9;
const CLOCK_TAI: i32 = 11;
/// Linux's encoding of a CPU clock id (clock_getcpuclockid, pthread_getcpuclockid):
/// `~pid << 3 | perthread << 2 | which`.
const CPUCLOCK_PERTHREAD: i32 = 4;
const CPUCLOCK_VIRT: i32 = 1;
const CPUCLOCK_SCHED: i32 = 2;
const CPUCLOCK_WHICH_MASK: i32 = 3;

/// A CPU clock: whose, and which time it counts.
pub enum CpuClock {
    Process(Arc<Process>, i32),
    Thread(Arc<Thread>, i32),
}

impl CpuClock {
    /// The clock's value in ns: user time for the VIRT clocks, user + system otherwise.
    pub fn now(&self) -> u64 {
        let ((user, sys), which) = match self {
            CpuClock::Process(p, w) => (timers::process_cpu(p), *w),
            CpuClock::Thread(t, w) => (t.cpu_times(), *w),
        };
        if which == CPUCLOCK_VIRT {
            user
        } else {
            user + sys
        }
    }
}

/// The CPU clock `clock` names, None for the other clocks; EINVAL for a malformed CPU clock id
/// or one naming no process, or a thread outside the caller's process (as Linux).
pub fn cpu_clock(clock: i32) -> Result<Option<CpuClock>> {
    let (pid, thread, which) = match clock {
        CLOCK_PROCESS_CPUTIME_ID => (0, false, CPUCLOCK_SCHED),
        CLOCK_THREAD_CPUTIME_ID => (0, true, CPUCLOCK_SCHED),
        c if c < 0 => (!(c >> 3), c & CPUCLOCK_PERTHREAD != 0, c & CPUCLOCK_WHICH_MASK),
        _ => return Ok(None),
    };
    if which == CPUCLOCK_WHICH_MASK {
        return Err(Errno::EINVAL);
    }
    let me = process::current();
    if thread {
        if pid == 0 {
            return Ok(Some(CpuClock::Thread(task::current(), which)));
        }
        let t =
            me.threads.lock().iter().filter_map(|w| w.upgrade()).find(|t| t.tid() == pid as u32);
        return t.map(|t| Some(CpuClock::Thread(t, which))).ok_or(Errno::EINVAL);
    }
    if pid == 0 {
        return Ok(Some(CpuClock::Process(me, which)));
    }
    let p = process::find(pid as u32).ok_or(Errno::EINVAL)?;
    Ok(Some(CpuClock::Process(p, which)))
}

/// The time of `clock` in nanoseconds.
fn now(clock: i32) -> Result<i64> {
    if let Some(c) = cpu_clock(clock)? {
        return Ok(c.now() as i64);
    }
    match clock {
        // The TAI offset is 0 until NTP sets it, on Linux too; the alarm clocks read their
        // base clock.
        CLOCK_REALTIME | CLOCK_REALTIME_COARSE | CLOCK_TAI | CLOCK_REALTIME_ALARM => {
            Ok(realtime_ns())
        }
        CLOCK_MONOTONIC
        | CLOCK_MONOTONIC_RAW
        | CLOCK_MONOTONIC_COARSE
        | CLOCK_BOOTTIME
        | CLOCK_BOOTTIME_ALARM => Ok(monotonic_ns() as i64),
        _ => Err(Errno::EINVAL),
    }
}

pub fn clock_gettime(clock: i32, tp: u64) -> Result<i64> {
    let ns = now(clock)?;
    UserPtr::<Timespec>::new(tp).write(&Timespec::from_ns(ns)).map(|_| 0)
}

pub fn clock_getres(clock: i32, res: u64) -> Result<i64> {
    let cpu = cpu_clock(clock)?;
    if cpu.is_none() {
        now(clock)?;
    }
    let resolution = match (clock, cpu) {
        (CLOCK_REALTIME_COARSE | CLOCK_MONOTONIC_COARSE, _) => 1_000_000,
        // Linux: the scheduler's clock is exact, the sampled PROF and VIRT clocks one tick.
        (c, Some(_)) if c < 0 && c & CPUCLOCK_WHICH_MASK != CPUCLOCK_SCHED => 1_000_000,
        _ => 1,
    };
    if res != 0 {
        UserPtr::<Timespec>::new(res).write(&Timespec::from_ns(resolution))?;
    }
    Ok(0)
}

/// The latest wall time Linux lets one set (timespec64_valid_settod): the largest ktime in
/// seconds less 30 years of uptime, so the clock cannot overflow while the machine runs.
const SETTOD_SEC_MAX: i64 = i64::MAX / 1_000_000_000 - 30 * 365 * 86400;

/// Sets CLOCK_REALTIME (root only: CAP_SYS_TIME) and tells the timers that care.
fn set_realtime(ns: i64) -> Result<()> {
    if ns / 1_000_000_000 >= SETTOD_SEC_MAX {
        return Err(Errno::EINVAL);
    }
    if !process::current().creds.lock().is_root() {
        return Err(Errno::EPERM);
    }
    crate::arch::time::set_realtime_ns(ns);
    crate::fs::timerfd::clock_was_set();
    timers::clock_was_set();
    Ok(())
}

pub fn clock_settime(clock: i32, tp: u64) -> Result<i64> {
    // Only CLOCK_REALTIME can be set; Linux checks the clock, then reads, then validates.
    if clock != CLOCK_REALTIME {
        return Err(Errno::EINVAL);
    }
    let ns = UserPtr::<Timespec>::new(tp).read()?.to_ns()?;
    set_realtime(ns).map(|_| 0)
}

pub fn settimeofday(tv: u64, tz: u64) -> Result<i64> {
    let ns = if tv != 0 { Some(UserPtr::<Timeval>::new(tv).read()?.to_ns()?) } else { None };
    if tz != 0 {
        // struct timezone is read (EFAULT) and otherwise has no effect here.
        UserPtr::<[i32; 2]>::new(tz).read()?;
    }
    match ns {
        Some(ns) => set_realtime(ns).map(|_| 0),
        None if process::current().creds.lock().is_root() => Ok(0),
        None => Err(Errno::EPERM),
    }
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
        _ => return Err(Errno::EINVAL),
    }
    let ns = UserPtr::<Timespec>::new(req).read()?.to_ns()?;
    if flags & TIMER_ABSTIME != 0 && clock == CLOCK_REALTIME {
        // The wall time to wake at, kept across settings of the clock.
        return match timers::sleep_until_realtime(ns) {
            Ok(()) => Ok(0),
            Err(WaitError::Interrupted) => Err(Errno::ERESTARTNOHAND),
            Err(WaitError::TimedOut) => Ok(0),
        };
    }
    let deadline = if flags & TIMER_ABSTIME != 0 {
        let delta = ns - now(clock)?;
        monotonic_ns().saturating_add(delta.max(0) as u64)
    } else {
        monotonic_ns().saturating_add(ns as u64)
    };
    // An absolute sleep reports no remaining time.
    sleep(deadline, if flags & TIMER_ABSTIME != 0 { 0 } else { rem })
}

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
pub struct Rusage {
    utime: Timeval,
    stime: Timeval,
    /// maxrss and the counters after it: not kept.
    rest: [i64; 14],
}

impl Rusage {
    pub fn from_times((user, sys): (u64, u64)) -> Rusage {
        Rusage {
            utime: Timeval::from_ns(user as i64),
            stime: Timeval::from_ns(sys as i64),
            rest: [0; 14],
        }
    }
}

const RUSAGE_SELF: i32 = 0;
const RUSAGE_CHILDREN: i32 = -1;
const RUSAGE_THREAD: i32 = 1;

pub fn getrusage(who: i32, usage: u64) -> Result<i64> {
    let times = match who {
        RUSAGE_SELF => timers::process_cpu(&process::current()),
        RUSAGE_CHILDREN => timers::children_cpu(&process::current()),
        RUSAGE_THREAD => task::current().cpu_times(),
        _ => return Err(Errno::EINVAL),
    };
    UserPtr::<Rusage>::new(usage).write(&Rusage::from_times(times)).map(|_| 0)
}

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct Tms {
    utime: i64,
    stime: i64,
    cutime: i64,
    cstime: i64,
}

/// USER_HZ: times() counts in hundredths of a second.
const NS_PER_CLOCK_TICK: u64 = 10_000_000;

pub fn times(buf: u64) -> Result<i64> {
    let ticks = |ns: u64| (ns / NS_PER_CLOCK_TICK) as i64;
    if buf != 0 {
        let proc = process::current();
        let (u, s) = timers::process_cpu(&proc);
        let (cu, cs) = timers::children_cpu(&proc);
        let t = Tms { utime: ticks(u), stime: ticks(s), cutime: ticks(cu), cstime: ticks(cs) };
        UserPtr::<Tms>::new(buf).write(&t)?;
    }
    Ok(ticks(monotonic_ns()) + 1)
}
