//! `WaitQueue`: threads sleep here until a condition holds. No spinning: a waiter is descheduled
//! and the code that changes the condition calls `wake_all`/`wake_one`.

use alloc::collections::VecDeque;
use alloc::sync::Arc;
use core::panic::Location;
use core::sync::atomic::Ordering;

use super::scheduler;
use super::thread::{State, Thread, WaitInfo};
use super::timer;
use crate::sync::Mutex;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WaitError {
    /// An unblocked signal is pending (the caller turns this into EINTR or a restart).
    Interrupted,
    TimedOut,
}

impl WaitError {
    /// The errno of an untimed wait that a signal ended: ERESTARTSYS, which restarts the call
    /// under SA_RESTART and is EINTR otherwise, as Linux's interruptible sleeps return. (Without
    /// a deadline there is no timeout; should one come, it reads EAGAIN.)
    pub fn restart_errno(self) -> crate::error::Errno {
        match self {
            WaitError::Interrupted => crate::error::Errno::ERESTARTSYS,
            WaitError::TimedOut => crate::error::Errno::EAGAIN,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Interruptible,
    Uninterruptible,
    Unbounded,
}

pub struct WaitQueue {
    waiters: Mutex<VecDeque<Arc<Thread>>>,
}

impl Default for WaitQueue {
    fn default() -> Self {
        Self::new()
    }
}

impl WaitQueue {
    pub const fn new() -> Self {
        WaitQueue { waiters: Mutex::new(VecDeque::new()) }
    }

    /// Sleeps until `cond` returns `Some`, a signal arrives, or (if given) the monotonic clock
    /// passes `deadline_ns`. The caller's location is what the diagnosis dump shows as the
    /// object the thread waits on.
    #[track_caller]
    pub fn wait_until<T>(
        &self,
        mut cond: impl FnMut() -> Option<T>,
        deadline_ns: Option<u64>,
    ) -> Result<T, WaitError> {
        let me = scheduler::current();
        let site = Location::caller();
        let mut first = true;
        loop {
            if let Some(v) = cond() {
                return Ok(v);
            }
            if me.has_unblocked_signal() {
                return Err(WaitError::Interrupted);
            }
            if let Some(d) = deadline_ns {
                if crate::arch::time::monotonic_ns() >= d {
                    return Err(WaitError::TimedOut);
                }
                timer::add(d, &me);
            }
            self.note_wait(&me, site, deadline_ns, Kind::Interruptible, &mut first);
            me.set_state(State::Sleeping);
            self.waiters.lock().push_back(me.clone());
            scheduler::block();
            self.remove(&me);
            // Whatever woke us (waker, deadline, signal), the loop re-checks all three.
            me.timed_out.store(false, Ordering::Relaxed);
        }
    }

    /// Sleeps until `cond` returns `Some`, whatever signals arrive (the vfork parent). Wakers
    /// must also wake this queue for SIGKILL if `cond` watches for it. The kernel watchdog
    /// reports such a wait that lasts more than a few seconds.
    #[track_caller]
    pub fn wait_uninterruptible<T>(&self, cond: impl FnMut() -> Option<T>) -> T {
        self.wait_uninterruptible_as(Location::caller(), Kind::Uninterruptible, cond)
    }

    /// `wait_uninterruptible` for a wait that lasts as long as it must by design (a stopped
    /// process until SIGCONT, PID 1 until its command ends): the watchdog leaves it alone.
    #[track_caller]
    pub fn wait_unbounded<T>(&self, cond: impl FnMut() -> Option<T>) -> T {
        self.wait_uninterruptible_as(Location::caller(), Kind::Unbounded, cond)
    }

    fn wait_uninterruptible_as<T>(
        &self,
        site: &'static Location<'static>,
        kind: Kind,
        mut cond: impl FnMut() -> Option<T>,
    ) -> T {
        let me = scheduler::current();
        let mut first = true;
        loop {
            if let Some(v) = cond() {
                return v;
            }
            self.note_wait(&me, site, None, kind, &mut first);
            me.set_state(State::Sleeping);
            self.waiters.lock().push_back(me.clone());
            scheduler::block();
            self.remove(&me);
        }
    }

    /// Records what `me` is about to sleep on; `since` is the start of the first sleep of this
    /// wait, not of the latest after a spurious wake.
    fn note_wait(
        &self,
        me: &Thread,
        site: &'static Location<'static>,
        deadline: Option<u64>,
        kind: Kind,
        first: &mut bool,
    ) {
        let mut w = me.wait.lock();
        let since =
            if core::mem::take(first) { crate::arch::time::monotonic_ns() } else { w.since };
        *w = WaitInfo {
            site: Some(site),
            queue: self as *const WaitQueue as usize,
            deadline,
            since,
            uninterruptible: kind != Kind::Interruptible,
            unbounded: kind == Kind::Unbounded,
            reported: w.reported && since == w.since,
        };
    }

    fn remove(&self, t: &Arc<Thread>) {
        self.waiters.lock().retain(|w| !Arc::ptr_eq(w, t));
    }

    pub fn wake_all(&self) {
        let waiters: VecDeque<_> = core::mem::take(&mut *self.waiters.lock());
        for t in waiters {
            scheduler::wake(&t);
        }
    }

    pub fn wake_one(&self) {
        let t = self.waiters.lock().pop_front();
        if let Some(t) = t {
            scheduler::wake(&t);
        }
    }

    pub fn has_waiters(&self) -> bool {
        !self.waiters.lock().is_empty()
    }
}

/// Sleeps until the monotonic clock reaches `deadline_ns` or a signal arrives.
#[track_caller]
pub fn sleep_until(deadline_ns: u64) -> Result<(), WaitError> {
    let q = WaitQueue::new();
    match q.wait_until(|| None::<()>, Some(deadline_ns)) {
        Err(WaitError::TimedOut) => Ok(()),
        other => other,
    }
}
