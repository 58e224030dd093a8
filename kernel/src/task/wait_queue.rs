//! `WaitQueue`: threads sleep here until a condition holds. No spinning: a waiter is descheduled
//! and the code that changes the condition calls `wake_all`/`wake_one`. The protocol that makes
//! this safe on many CPUs (docs/smp.md, "Wake-up protocol"): the waiter marks itself sleeping and
//! joins the queue under the queue's lock, then checks its condition, then blocks; a waker
//! changes the condition, then takes waiters from the queue under the same lock and wakes each
//! with one compare-and-swap of its state, which `scheduler::block` respects.

use alloc::collections::VecDeque;
use alloc::sync::Arc;
use core::panic::Location;
use core::sync::atomic::Ordering;

use super::scheduler;
use super::thread::{State, Thread, WaitInfo};
use super::timer;
use crate::sync::{rank, Mutex};

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
        WaitQueue { waiters: Mutex::ranked(rank::WAIT_QUEUE, VecDeque::new()) }
    }

    /// Sleeps until `cond` returns `Some`, a signal arrives, or (if given) the monotonic clock
    /// passes `deadline_ns`. The caller's location is what the diagnosis dump shows as the
    /// object the thread waits on.
    ///
    /// No wake-up is lost: the thread marks itself asleep and joins the queue *before* it checks
    /// `cond` again, so a waker that changes the condition after that check finds it here and
    /// makes it runnable (or, if it has not left its CPU yet, keeps it from leaving).
    #[track_caller]
    pub fn wait_until<T>(
        &self,
        mut cond: impl FnMut() -> Option<T>,
        deadline_ns: Option<u64>,
    ) -> Result<T, WaitError> {
        // The common case costs no queue operation.
        if let Some(v) = cond() {
            return Ok(v);
        }
        let me = scheduler::current();
        let site = Location::caller();
        let mut first = true;
        loop {
            self.prepare(&me);
            let outcome = if let Some(v) = cond() {
                Some(Ok(v))
            } else if me.has_unblocked_signal() {
                Some(Err(WaitError::Interrupted))
            } else {
                deadline_ns
                    .filter(|&d| crate::arch::time::monotonic_ns() >= d)
                    .map(|_| Err(WaitError::TimedOut))
            };
            if let Some(outcome) = outcome {
                self.finish(&me);
                return outcome;
            }
            if let Some(d) = deadline_ns {
                timer::add(d, &me);
            }
            self.note_wait(&me, site, deadline_ns, Kind::Interruptible, &mut first);
            scheduler::block();
            self.finish(&me);
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
        if let Some(v) = cond() {
            return v;
        }
        let me = scheduler::current();
        let mut first = true;
        loop {
            self.prepare(&me);
            if let Some(v) = cond() {
                self.finish(&me);
                return v;
            }
            self.note_wait(&me, site, None, kind, &mut first);
            scheduler::block();
            self.finish(&me);
        }
    }

    /// The first half of a sleep: `me` is asleep (for wakers) and on the queue; it has not left
    /// its CPU. What it waits for is checked after this.
    fn prepare(&self, me: &Arc<Thread>) {
        let mut waiters = self.waiters.lock();
        me.set_state(State::Sleeping);
        // `finish` took it off after the last sleep.
        waiters.push_back(me.clone());
    }

    /// The wait is over (or was never needed): `me` runs and leaves the queue.
    fn finish(&self, me: &Arc<Thread>) {
        scheduler::stay_awake(me);
        self.remove(me);
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

    /// Wakes the first waiter that still sleeps: one that something else woke meanwhile (a
    /// deadline, a signal) re-checks its condition anyway and does not count.
    pub fn wake_one(&self) {
        loop {
            let t = self.waiters.lock().pop_front();
            match t {
                Some(t) if scheduler::wake(&t) => return,
                Some(_) => continue,
                None => return,
            }
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
