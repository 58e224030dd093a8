//! ITIMER_REAL (alarm, setitimer): per-process real-time timers that send SIGALRM.

use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;

use super::signal::{self, SIGALRM};
use super::Process;
use crate::arch::time::monotonic_ns;
use crate::sync::Mutex;

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

/// Timer interrupt: fire expired timers.
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
