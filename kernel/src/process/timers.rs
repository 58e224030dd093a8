//! A process's clocks and timers: CPU time (its threads', its dead threads', its waited-for
//! children's), the interval timers (ITIMER_REAL sends SIGALRM on the monotonic clock,
//! ITIMER_VIRTUAL SIGVTALRM on user time, ITIMER_PROF SIGPROF on user + system time) and POSIX
//! timers (timer_create) on the wall clocks or on a process's or thread's CPU clock.
//!
//! Wall-clock timers are `task::callout`s; CPU-clock timers can only expire while their process
//! runs, so they are checked on the timer tick that interrupts it in user mode (as Linux's
//! run_posix_cpu_timers), with a flag that keeps the check off processes without any.
//!
//! An absolute CLOCK_REALTIME time (a POSIX timer armed with TIMER_ABSTIME, clock_nanosleep with
//! TIMER_ABSTIME) is kept as such: when the wall clock is set (`clock_was_set`) the timer's
//! monotonic deadline is computed again and the sleepers recompute theirs, as Linux's
//! clock_was_set/hrtimer bases do (timerfd does the same in fs::timerfd).

use alloc::collections::BTreeMap;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use super::signal::{self, SigInfo, SIGALRM, SIGPROF, SIGVTALRM};
use super::Process;
use crate::arch::time::{monotonic_ns, realtime_ns};
use crate::error::{Errno, Result};
use crate::sync::Mutex;
use crate::task::callout::{self, CalloutKey, Expiry};
use crate::task::{Thread, WaitError, WaitQueue};

pub const ITIMER_REAL: i32 = 0;
pub const ITIMER_VIRTUAL: i32 = 1;
pub const ITIMER_PROF: i32 = 2;
/// si_code of a POSIX timer's signal.
pub const SI_TIMER: i32 = -2;
/// What a CPU interval timer reports as left once it is due but not yet fired (Linux's
/// TICK_NSEC): never zero, which would read as disarmed.
const TICK_NS: u64 = 1_000_000;

/// An interval timer on one of the process's CPU clocks: expiry on that clock (0: disarmed).
#[derive(Clone, Copy, Default)]
struct CpuItimer {
    expires: u64,
    interval: u64,
}

/// Per-process time state (a field of `Process`).
#[derive(Default)]
pub struct Timers {
    /// (user, system) ns of threads that ended, and of children reaped by wait (with theirs).
    dead: Mutex<(u64, u64)>,
    children: Mutex<(u64, u64)>,
    /// ITIMER_VIRTUAL and ITIMER_PROF.
    cpu_itimers: Mutex<[CpuItimer; 2]>,
    posix: Mutex<BTreeMap<i32, Arc<PosixTimer>>>,
    /// Some CPU-clock timer (itimer or POSIX) is armed: the tick must look.
    cpu_armed: AtomicBool,
}

/// (user, system) CPU time of `proc`: its live threads, plus the ones that ended.
pub fn process_cpu(proc: &Process) -> (u64, u64) {
    let (mut user, mut sys) = *proc.timers.dead.lock();
    for t in proc.threads.lock().iter().filter_map(Weak::upgrade) {
        let (u, s) = t.cpu_times();
        user += u;
        sys += s;
    }
    (user, sys)
}

/// (user, system) CPU time of `proc`'s reaped children and their reaped descendants.
pub fn children_cpu(proc: &Process) -> (u64, u64) {
    *proc.timers.children.lock()
}

/// What wait reports for child `c`: its time plus its reaped descendants'.
pub fn waited_cpu(c: &Process) -> (u64, u64) {
    let (u, s) = process_cpu(c);
    let (cu, cs) = children_cpu(c);
    (u + cu, s + cs)
}

/// A thread of `proc` ends: its CPU time stays with the process.
pub fn thread_exited(proc: &Process, thread: &Thread) {
    let (u, s) = thread.take_cpu_times();
    let mut dead = proc.timers.dead.lock();
    dead.0 += u;
    dead.1 += s;
}

/// `parent` reaped `child` with wait: the child's time and its children's become the parent's
/// children's time (RUSAGE_CHILDREN, times' cutime/cstime).
pub fn reaped(parent: &Process, child: &Process) {
    let (u, s) = process_cpu(child);
    let (cu, cs) = children_cpu(child);
    let mut c = parent.timers.children.lock();
    c.0 += u + cu;
    c.1 += s + cs;
}

/// execve: POSIX timers are deleted (interval timers survive, as in Linux).
pub fn on_exec(proc: &Process) {
    delete_all(proc);
}

/// Exit: every timer of the process ends.
pub fn on_exit(proc: &Process) {
    delete_all(proc);
    *proc.timers.cpu_itimers.lock() = [CpuItimer::default(); 2];
    proc.timers.cpu_armed.store(false, Ordering::Relaxed);
}

fn delete_all(proc: &Process) {
    let all = core::mem::take(&mut *proc.timers.posix.lock());
    for t in all.values() {
        t.disarm();
        t.uncharge();
    }
}

// ---- interval timers ----

struct RealTimer {
    proc: Weak<Process>,
    pid: u32,
    deadline: u64,
    interval: u64,
}

static TIMERS: Mutex<Vec<RealTimer>> = Mutex::new(Vec::new());

/// Arms (or with `value_ns` 0 disarms) `proc`'s real timer; returns the old (remaining, interval).
pub fn set_real(proc: &Arc<Process>, value_ns: u64, interval_ns: u64) -> (u64, u64) {
    let now = monotonic_ns();
    let mut timers = TIMERS.lock();
    let old = timers.iter().position(|t| t.pid == proc.pid).map(|i| timers.remove(i));
    let old = old.map(|t| (t.deadline.saturating_sub(now).max(1), t.interval)).unwrap_or((0, 0));
    if value_ns != 0 {
        timers.push(RealTimer {
            proc: Arc::downgrade(proc),
            pid: proc.pid,
            deadline: now + value_ns,
            interval: interval_ns,
        });
    }
    old
}

/// (remaining, interval) of `proc`'s real timer.
pub fn get_real(proc: &Process) -> (u64, u64) {
    let now = monotonic_ns();
    TIMERS
        .lock()
        .iter()
        .find(|t| t.pid == proc.pid)
        .map(|t| (t.deadline.saturating_sub(now).max(1), t.interval))
        .unwrap_or((0, 0))
}

/// The value of the CPU clock an itimer counts: user time (VIRTUAL) or all of it (PROF).
fn itimer_clock(proc: &Process, which: i32) -> u64 {
    let (u, s) = process_cpu(proc);
    if which == ITIMER_VIRTUAL {
        u
    } else {
        u + s
    }
}

/// setitimer: arms interval timer `which` (0 disarms); returns the old (remaining, interval).
pub fn set_itimer(proc: &Arc<Process>, which: i32, value: u64, interval: u64) -> (u64, u64) {
    if which == ITIMER_REAL {
        return set_real(proc, value, interval);
    }
    let now = itimer_clock(proc, which);
    let mut its = proc.timers.cpu_itimers.lock();
    let slot = &mut its[(which - 1) as usize];
    let old = remaining(*slot, now);
    *slot = if value == 0 {
        CpuItimer::default()
    } else {
        CpuItimer { expires: now + value, interval }
    };
    let armed = its.iter().any(|t| t.expires != 0);
    drop(its);
    if armed {
        proc.timers.cpu_armed.store(true, Ordering::Relaxed);
    }
    old
}

fn remaining(t: CpuItimer, now: u64) -> (u64, u64) {
    if t.expires == 0 {
        return (0, t.interval);
    }
    let left = t.expires.saturating_sub(now);
    (if left == 0 { TICK_NS } else { left }, t.interval)
}

/// getitimer: (remaining, interval) of interval timer `which`.
pub fn get_itimer(proc: &Process, which: i32) -> (u64, u64) {
    if which == ITIMER_REAL {
        return get_real(proc);
    }
    let now = itimer_clock(proc, which);
    remaining(proc.timers.cpu_itimers.lock()[(which - 1) as usize], now)
}

/// Timer interrupt: fire expired real timers.
pub fn on_tick() {
    let now = monotonic_ns();
    let mut fired = Vec::new();
    {
        let mut timers = TIMERS.lock();
        timers.retain_mut(|t| {
            if t.deadline > now {
                return true;
            }
            fired.push(t.proc.clone());
            if t.interval == 0 {
                return false;
            }
            t.deadline += t.interval * ((now - t.deadline) / t.interval + 1);
            true
        });
        timers.retain(|t| t.proc.strong_count() > 0);
    }
    for p in fired.iter().filter_map(|w| w.upgrade()) {
        signal::send_simple(&p, SIGALRM);
    }
}

/// Timer interrupt from user mode: the running process's CPU-clock timers (its time was just
/// brought up to date by the kernel entry).
pub fn on_user_tick(proc: &Arc<Process>) {
    if !proc.timers.cpu_armed.load(Ordering::Relaxed) {
        return;
    }
    let (u, s) = process_cpu(proc);
    let mut fire = [false; 2];
    let mut still = false;
    {
        let mut its = proc.timers.cpu_itimers.lock();
        for (i, t) in its.iter_mut().enumerate() {
            if t.expires == 0 {
                continue;
            }
            let now = if i == 0 { u } else { u + s };
            if now >= t.expires {
                fire[i] = true;
                t.expires = if t.interval == 0 {
                    0
                } else {
                    t.expires + t.interval * ((now - t.expires) / t.interval + 1)
                };
            }
            still |= t.expires != 0;
        }
    }
    if fire[0] {
        signal::send_simple(proc, SIGVTALRM);
    }
    if fire[1] {
        signal::send_simple(proc, SIGPROF);
    }
    let cpu_timers: Vec<Arc<PosixTimer>> = proc
        .timers
        .posix
        .lock()
        .values()
        .filter(|t| !matches!(t.clock, TimerClock::Wall(_)))
        .cloned()
        .collect();
    for t in &cpu_timers {
        if let Some(now) = t.clock_now() {
            t.fire(now);
        }
        still |= t.state.lock().expires != 0;
    }
    if !still {
        proc.timers.cpu_armed.store(false, Ordering::Relaxed);
    }
}

// ---- POSIX timers ----

/// The clock a POSIX timer runs on.
pub enum TimerClock {
    /// CLOCK_MONOTONIC, CLOCK_BOOTTIME, CLOCK_REALTIME (the clock id): expiries are monotonic
    /// deadlines (a realtime one is converted when it is armed).
    Wall(i32),
    ProcessCpu(Weak<Process>),
    ThreadCpu(Weak<Thread>),
}

/// How an expiry is announced.
#[derive(Clone)]
pub enum Notify {
    None,
    /// `sig` with `value`, to the process or (SIGEV_THREAD_ID) to one of its threads.
    Signal {
        sig: u32,
        value: u64,
        thread: Option<Weak<Thread>>,
    },
}

#[derive(Default)]
struct TimerState {
    /// Monotonic deadline (wall clocks) or value of the CPU clock (CPU clocks); 0: disarmed.
    expires: u64,
    interval: u64,
    /// Expiries that found the queued signal still pending (its si_overrun), and the count
    /// of the signal delivered before it (timer_getoverrun while a newer one is queued).
    overrun: u32,
    overrun_last: u32,
    callout: Option<CalloutKey>,
    /// Armed on an absolute CLOCK_REALTIME time: the wall time of the next expiry (moved by
    /// `clock_was_set`).
    realtime_abs: Option<i64>,
}

pub struct PosixTimer {
    pub id: i32,
    proc: Weak<Process>,
    clock: TimerClock,
    notify: Notify,
    /// The real uid charged for the timer's preallocated signal (RLIMIT_SIGPENDING).
    charged: u32,
    state: Mutex<TimerState>,
    me: Weak<PosixTimer>,
}

impl PosixTimer {
    fn clock_now(&self) -> Option<u64> {
        match &self.clock {
            TimerClock::Wall(_) => Some(monotonic_ns()),
            TimerClock::ProcessCpu(p) => p.upgrade().map(|p| {
                let (u, s) = process_cpu(&p);
                u + s
            }),
            TimerClock::ThreadCpu(t) => t.upgrade().map(|t| t.cpu_time_ns()),
        }
    }

    fn disarm(&self) {
        let mut st = self.state.lock();
        st.expires = 0;
        if let Some(k) = st.callout.take() {
            callout::cancel(k);
        }
    }

    fn uncharge(&self) {
        super::ucounts::uncharge_sigpending(self.charged);
    }

    /// Arms at `expires` on its clock (wall clocks: a monotonic deadline) with `interval`.
    fn arm_locked(&self, st: &mut TimerState, expires: u64, interval: u64) {
        if let Some(k) = st.callout.take() {
            callout::cancel(k);
        }
        st.expires = expires;
        st.interval = interval;
        if expires == 0 {
            return;
        }
        match &self.clock {
            TimerClock::Wall(_) => {
                let me: Weak<dyn Expiry> = self.me.clone();
                st.callout = Some(callout::arm(expires, me));
            }
            _ => {
                if let Some(p) = self.proc.upgrade() {
                    p.timers.cpu_armed.store(true, Ordering::Relaxed);
                }
            }
        }
    }

    /// The clock reads `now`: if the timer is due, announce it and re-arm an interval timer.
    fn fire(&self, now: u64) {
        let missed = {
            let mut st = self.state.lock();
            if st.expires == 0 || now < st.expires {
                return;
            }
            // A periodic timer handled late has missed the intervals that passed meanwhile.
            let (next, missed) = match (now - st.expires).checked_div(st.interval) {
                None => (0, 0),
                Some(n) => (st.expires + (n + 1) * st.interval, n),
            };
            let interval = st.interval;
            st.callout = None;
            // The next expiry of an absolute realtime timer stays on the wall clock.
            st.realtime_abs = match (st.realtime_abs, next) {
                (Some(abs), n) if n != 0 => {
                    Some(abs.saturating_add(((missed + 1) * interval).min(i64::MAX as u64) as i64))
                }
                _ => None,
            };
            self.arm_locked(&mut st, next, interval);
            missed.min(i32::MAX as u64) as u32
        };
        let Notify::Signal { sig, value, thread } = &self.notify else { return };
        let Some(proc) = self.proc.upgrade() else { return };
        // Still pending from an earlier expiry: count an overrun instead (Linux's one
        // preallocated sigqueue per timer).
        if signal::bump_timer_overrun(&proc, self.id, missed + 1) {
            let mut st = self.state.lock();
            st.overrun = st.overrun.saturating_add(missed + 1).min(i32::MAX as u32);
            return;
        }
        {
            // The previous signal was delivered with the count so far.
            let mut st = self.state.lock();
            st.overrun_last = st.overrun;
            st.overrun = missed;
        }
        let mut info = SigInfo::new(*sig, SI_TIMER);
        info.fields[0] = self.id as u32 as u64 | (missed as u64) << 32;
        info.set_value(*value);
        match thread {
            // SIGEV_THREAD_ID: to that thread while it lives.
            Some(t) => {
                if let Some(t) = t.upgrade() {
                    signal::send_to_thread(&proc, &t, *sig, info);
                }
            }
            None => signal::send(&proc, *sig, info),
        }
    }
}

impl Expiry for PosixTimer {
    fn expire(&self, now: u64) {
        self.fire(now);
    }
}

/// timer_create: a disarmed timer on `clock`, announced as `notify(its id)` says; returns its
/// id. EAGAIN when the owner is at RLIMIT_SIGPENDING (each timer holds one signal in advance,
/// as Linux).
pub fn create(
    proc: &Arc<Process>,
    clock: TimerClock,
    notify: impl FnOnce(i32) -> Notify,
) -> Result<i32> {
    let uid = proc.creds.lock().uid;
    let limit = proc.rlimits.lock().0[super::rlimit::RLIMIT_SIGPENDING].cur;
    if !super::ucounts::charge_sigpending(uid, limit, false) {
        return Err(Errno::EAGAIN);
    }
    let mut table = proc.timers.posix.lock();
    // The lowest free id, as Linux's per-process allocation.
    let mut id = 0;
    for &k in table.keys() {
        if k != id {
            break;
        }
        id += 1;
    }
    let timer = Arc::new_cyclic(|me| PosixTimer {
        id,
        proc: Arc::downgrade(proc),
        clock,
        notify: notify(id),
        charged: uid,
        state: Mutex::new(TimerState::default()),
        me: me.clone(),
    });
    table.insert(id, timer);
    Ok(id)
}

/// The clock id of wall-clock timer `id`, None for a CPU-clock timer; EINVAL for no timer.
pub fn wall_clock_of(proc: &Process, id: i32) -> Result<Option<i32>> {
    Ok(match find(proc, id)?.clock {
        TimerClock::Wall(c) => Some(c),
        _ => None,
    })
}

fn find(proc: &Process, id: i32) -> Result<Arc<PosixTimer>> {
    proc.timers.posix.lock().get(&id).cloned().ok_or(Errno::EINVAL)
}

/// The timer's (remaining, interval) in ns.
fn current(t: &Arc<PosixTimer>) -> (u64, u64) {
    let now = t.clock_now().unwrap_or(0);
    let st = t.state.lock();
    if st.expires == 0 {
        return (0, st.interval);
    }
    (st.expires.saturating_sub(now).max(1), st.interval)
}

/// How timer_settime's value is meant: relative, or absolute on the timer's clock (realtime
/// values are converted to the monotonic clock by the caller).
pub enum SetValue {
    Relative(u64),
    /// An absolute value on the timer's own clock (wall: monotonic ns).
    Absolute(u64),
    /// An absolute CLOCK_REALTIME time (ns): it moves when the wall clock is set.
    RealtimeAbsolute(i64),
}

/// The monotonic deadline of wall time `abs` (at least 1: 0 means disarmed).
fn realtime_deadline(abs: i64) -> u64 {
    monotonic_ns().saturating_add(abs.saturating_sub(realtime_ns()).max(0) as u64).max(1)
}

/// POSIX timers armed on an absolute realtime time.
static REALTIME_ARMED: Mutex<Vec<Weak<PosixTimer>>> = Mutex::new(Vec::new());
/// clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME) sleepers, woken when the wall clock is set;
/// the count of settings so far tells them it happened.
static CLOCK_SET: WaitQueue = WaitQueue::new();
static CLOCK_SETTINGS: AtomicU64 = AtomicU64::new(0);

/// The wall clock was just set: absolute realtime POSIX timers get their monotonic deadline
/// again (firing now if it has passed), and absolute realtime sleepers recompute theirs.
pub fn clock_was_set() {
    let timers: Vec<Arc<PosixTimer>> = {
        let mut armed = REALTIME_ARMED.lock();
        armed.retain(|w| w.strong_count() > 0);
        armed.iter().filter_map(Weak::upgrade).collect()
    };
    let now = monotonic_ns();
    for t in timers {
        let due = {
            let mut st = t.state.lock();
            let Some(abs) = st.realtime_abs.filter(|_| st.expires != 0) else { continue };
            let interval = st.interval;
            let deadline = realtime_deadline(abs);
            t.arm_locked(&mut st, deadline, interval);
            deadline <= now
        };
        if due {
            t.fire(now);
        }
    }
    CLOCK_SETTINGS.fetch_add(1, Ordering::SeqCst);
    CLOCK_SET.wake_all();
}

/// Sleeps until the wall clock reads `abs` (ns), however it is set meanwhile (Linux's
/// clock_nanosleep on CLOCK_REALTIME with TIMER_ABSTIME); a signal ends it early.
pub fn sleep_until_realtime(abs: i64) -> core::result::Result<(), WaitError> {
    loop {
        let settings = CLOCK_SETTINGS.load(Ordering::SeqCst);
        if realtime_ns() >= abs {
            return Ok(());
        }
        let deadline = realtime_deadline(abs);
        let set = || (CLOCK_SETTINGS.load(Ordering::SeqCst) != settings).then_some(());
        match CLOCK_SET.wait_until(set, Some(deadline)) {
            // The clock was set, or the deadline came: look at the wall clock again.
            Ok(()) | Err(WaitError::TimedOut) => {}
            Err(e) => return Err(e),
        }
    }
}

/// timer_settime: arms (a zero value disarms) and returns the old (remaining, interval).
pub fn settime(proc: &Process, id: i32, value: SetValue, interval: u64) -> Result<(u64, u64)> {
    let t = find(proc, id)?;
    let old = current(&t);
    let now = t.clock_now().unwrap_or(0);
    let expires = match value {
        SetValue::Relative(0) | SetValue::Absolute(0) => 0,
        SetValue::Relative(v) => now.saturating_add(v),
        // Already past: fires at once (on the next tick), as Linux.
        SetValue::Absolute(v) => v.max(1),
        SetValue::RealtimeAbsolute(v) => realtime_deadline(v),
    };
    let realtime_abs = match value {
        SetValue::RealtimeAbsolute(v) if expires != 0 => Some(v),
        _ => None,
    };
    if realtime_abs.is_some() {
        let mut armed = REALTIME_ARMED.lock();
        armed.retain(|w| w.strong_count() > 0);
        if !armed.iter().any(|w| w.ptr_eq(&Arc::downgrade(&t))) {
            crate::mm::fallible::ensure_room(64)?;
            armed.push(Arc::downgrade(&t));
        }
    }
    {
        let mut st = t.state.lock();
        st.overrun = 0;
        st.overrun_last = 0;
        st.realtime_abs = realtime_abs;
        t.arm_locked(&mut st, expires, if expires == 0 { 0 } else { interval });
    }
    // A wall-clock timer already due fires now rather than a tick later.
    if expires != 0 && expires <= now && matches!(t.clock, TimerClock::Wall(_)) {
        t.fire(now);
    }
    Ok(old)
}

/// timer_gettime: (remaining, interval).
pub fn gettime(proc: &Process, id: i32) -> Result<(u64, u64)> {
    Ok(current(&find(proc, id)?))
}

/// timer_getoverrun: the overrun count of the timer's last delivered signal.
pub fn getoverrun(proc: &Process, id: i32) -> Result<i32> {
    let t = find(proc, id)?;
    let queued = signal::bump_timer_overrun(proc, id, 0);
    let st = t.state.lock();
    Ok(if queued { st.overrun_last } else { st.overrun } as i32)
}

/// timer_delete.
pub fn delete(proc: &Process, id: i32) -> Result<()> {
    let t = proc.timers.posix.lock().remove(&id).ok_or(Errno::EINVAL)?;
    t.disarm();
    t.uncharge();
    Ok(())
}
