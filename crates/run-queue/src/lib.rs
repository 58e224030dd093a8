//! The scheduler's policy, without its lock or its threads: which thread a CPU runs next. A
//! round-robin queue of ready threads: a thread that becomes runnable (new, woken) or gives up
//! the CPU while still runnable (a yield, a used-up time slice) goes to the back, and the CPU
//! runs the front one; with none ready, the CPU idles. A time slice is [`SLICE_TICKS`] timer
//! ticks. A woken thread waits its turn, except an urgent wake-up (a signal's target), which
//! makes the waker give way at its next preemption point.
//!
//! The kernel keeps the mechanism (the lock, the running thread, the context switch, the idle
//! thread) and holds one [`RunQueue`] per CPU: nothing here is global, so more CPUs mean more
//! queues.

#![no_std]

extern crate alloc;
#[cfg(test)]
extern crate std;

#[cfg(test)]
mod tests;

use alloc::collections::VecDeque;

/// Timer ticks in one time slice (10 ms at the kernel's 1000 Hz).
pub const SLICE_TICKS: u32 = 10;

/// One timer tick of a running thread (never the idle one) that had `left` ticks of its slice:
/// `Some` with the ticks left after it, or `None` when the slice is used up and the thread
/// should give way at its next preemption point (its count then stays as it is).
pub fn tick(left: u32) -> Option<u32> {
    (left > 1).then(|| left - 1)
}

/// What a wake-up asks of the thread that is running.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Preempt {
    /// Go on: the woken thread waits its turn.
    No,
    /// Give way at the next preemption point (the return to user mode).
    AtNextPoint,
}

/// The threads ready to run on one CPU, in the order they will run. `T` is the kernel's handle
/// of a thread (an `Arc`); the running thread and the idle thread are never in the queue.
pub struct RunQueue<T> {
    ready: VecDeque<T>,
}

impl<T> Default for RunQueue<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> RunQueue<T> {
    pub const fn new() -> Self {
        RunQueue { ready: VecDeque::new() }
    }

    /// A thread becomes runnable (a new one): it runs after every thread already ready.
    pub fn enqueue(&mut self, t: T) {
        self.ready.push_back(t);
    }

    /// A sleeping thread is woken: it waits its turn like a new one; `urgent` (a signal for it)
    /// asks the running thread to give way at its next preemption point, so the target acts
    /// on it at once, as it would on another CPU.
    pub fn wake(&mut self, t: T, urgent: bool) -> Preempt {
        self.enqueue(t);
        if urgent {
            Preempt::AtNextPoint
        } else {
            Preempt::No
        }
    }

    /// The next thread to run when the running one leaves the CPU. `still_runnable` is the
    /// running thread if it stays runnable (a yield, a used-up slice; not the idle thread): it
    /// goes behind every ready thread, so it runs again at once only if nothing else is ready.
    /// `None`: nothing is ready, the CPU idles.
    pub fn pick_next(&mut self, still_runnable: Option<T>) -> Option<T> {
        if let Some(t) = still_runnable {
            self.ready.push_back(t);
        }
        self.ready.pop_front()
    }

    /// Is any thread ready (the idle thread's question)?
    pub fn is_empty(&self) -> bool {
        self.ready.is_empty()
    }

    pub fn len(&self) -> usize {
        self.ready.len()
    }

    /// Work stealing: takes the thread that would run last here among those `may_take` accepts
    /// (its affinity allows the stealing CPU), so the ones about to run keep their turn.
    pub fn steal(&mut self, may_take: impl FnMut(&T) -> bool) -> Option<T> {
        let i = self.ready.iter().rposition(may_take)?;
        self.ready.remove(i)
    }
}

/// What a CPU is doing, as wake placement sees it (read without its lock: a hint).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct CpuLoad {
    /// The CPU runs the scheduler (an AP that is still parked takes no thread).
    pub online: bool,
    /// It runs its idle thread.
    pub idle: bool,
    /// Threads ready in its queue.
    pub ready: usize,
}

impl CpuLoad {
    fn is_free(&self) -> bool {
        self.online && self.idle && self.ready == 0
    }
}

/// Where a woken (or new) thread goes: `allowed` is its affinity (bit n: CPU n), `last` the CPU
/// it ran on last, `here` the waker's CPU, `load(n)` CPU n's state. An idle CPU is preferred:
/// its last CPU (its cache may still be warm), then the waker's, then any other allowed one.
/// With none idle: the less loaded of its last CPU and the waker's, then any allowed online
/// CPU. `None` only if no allowed CPU is online (the caller falls back to `here`).
pub fn place(
    allowed: u64,
    last: usize,
    here: usize,
    cpus: usize,
    load: impl Fn(usize) -> CpuLoad,
) -> Option<usize> {
    let ok = |c: usize| c < cpus && c < 64 && allowed & (1 << c) != 0 && load(c).online;
    for c in [last, here] {
        if ok(c) && load(c).is_free() {
            return Some(c);
        }
    }
    if let Some(c) = (0..cpus).find(|&c| ok(c) && load(c).is_free()) {
        return Some(c);
    }
    match (ok(last), ok(here)) {
        (true, true) => Some(if load(here).ready < load(last).ready { here } else { last }),
        (true, false) => Some(last),
        (false, true) => Some(here),
        (false, false) => (0..cpus).filter(|&c| ok(c)).min_by_key(|&c| load(c).ready),
    }
}
