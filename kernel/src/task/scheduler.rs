//! Round-robin scheduling of threads on one CPU. Kernel code is not preempted: a thread leaves
//! the CPU only by blocking, yielding or exiting, and user code is preempted by the timer (the
//! switch happens on the way back to user mode). With nothing runnable the idle thread halts.
//! The choice of the next thread, time slices and where a woken thread goes are the
//! `run-queue` crate's (host-tested); this file is the mechanism around it.

use alloc::sync::Arc;
use core::cell::RefCell;
use core::sync::atomic::{AtomicBool, Ordering};

use super::thread::{State, Thread};
use crate::arch::percpu::{CpuLocal, MAX_CPUS};
use crate::arch::{context, cpu};
use crate::sync::{self, Mutex};

use run_queue::{Preempt, SLICE_TICKS};

struct RunQueue {
    ready: run_queue::RunQueue<Arc<Thread>>,
    idle: Option<Arc<Thread>>,
    /// The last thread that exited; dropped only once we are off its stack.
    dead: Option<Arc<Thread>>,
}

static RQ: Mutex<RunQueue> =
    Mutex::new(RunQueue { ready: run_queue::RunQueue::new(), idle: None, dead: None });
static NEED_RESCHED: AtomicBool = AtomicBool::new(false);

/// The running thread. Outside the run queue's lock so that finding it (on nearly every system
/// call) costs no lock; only `switch_away` and `start` change it, with the run queue locked.
static CURRENT: CpuLocal<RefCell<Option<Arc<Thread>>>> =
    CpuLocal::new([const { RefCell::new(None) }; MAX_CPUS]);

pub fn current() -> Arc<Thread> {
    with_current(Arc::clone)
}

/// Runs `f` on the current thread without taking a reference (no atomic operation). `f` must
/// not block: a switch to another thread while the slot is borrowed panics.
pub fn with_current<R>(f: impl FnOnce(&Arc<Thread>) -> R) -> R {
    f(CURRENT.get().borrow().as_ref().expect("a current thread"))
}

/// The current thread, or None during boot before the scheduler runs.
pub fn try_current() -> Option<Arc<Thread>> {
    CURRENT.get().borrow().clone()
}

/// The running thread's address, for the NMI dump only: it may have interrupted the code that
/// is switching threads, so it does not borrow the slot if that code holds it.
pub(super) fn try_current_unborrowed() -> Option<*const Thread> {
    CURRENT.get().try_borrow().ok()?.as_ref().map(Arc::as_ptr)
}

fn set_current(t: Option<Arc<Thread>>) -> Option<Arc<Thread>> {
    CURRENT.get().replace(t)
}

/// Makes a new thread runnable.
pub fn spawn(t: Arc<Thread>) {
    t.set_state(State::Runnable);
    RQ.lock().ready.enqueue(t);
}

/// Makes a sleeping thread runnable; harmless for any other state.
pub fn wake(t: &Arc<Thread>) {
    wake_with(t, false);
}

/// Wakes `t` and lets it run at the waker's next return to user mode: a signal's target acts
/// on it at once, as it would on another CPU under Linux.
pub fn wake_urgent(t: &Arc<Thread>) {
    wake_with(t, true);
}

fn wake_with(t: &Arc<Thread>, urgent: bool) {
    if t.state() == State::Sleeping {
        t.set_state(State::Runnable);
        if RQ.lock().ready.wake(t.clone(), urgent) == Preempt::AtNextPoint {
            NEED_RESCHED.store(true, Ordering::Relaxed);
        }
    }
}

/// Gives up the CPU to the next runnable thread, staying runnable.
pub fn yield_now() {
    NEED_RESCHED.store(false, Ordering::Relaxed);
    switch_away(State::Runnable);
}

/// Sleeps until `wake` (the caller has queued itself where a waker will find it).
pub(super) fn block() {
    switch_away(State::Sleeping);
}

/// Ends the current thread.
pub fn exit_current() -> ! {
    switch_away(State::Dead);
    unreachable!("a dead thread was resumed");
}

/// Called from the timer interrupt.
pub fn tick() {
    let rq = RQ.lock();
    if let Some(cur) = CURRENT.get().borrow().as_ref() {
        let is_idle = rq.idle.as_ref().is_some_and(|i| Arc::ptr_eq(i, cur));
        if !is_idle {
            match run_queue::tick(cur.slice_left.load(Ordering::Relaxed)) {
                Some(left) => cur.slice_left.store(left, Ordering::Relaxed),
                None => NEED_RESCHED.store(true, Ordering::Relaxed),
            }
        }
    }
}

/// On the way back to user mode: switch if the time slice is used up.
pub fn preempt_point() {
    if NEED_RESCHED.load(Ordering::Relaxed) {
        yield_now();
    }
}

fn switch_away(new_state: State) {
    let mut rq = RQ.lock();
    let prev = set_current(None).expect("a current thread");
    let is_idle =
        |t: &Arc<Thread>, rq: &RunQueue| rq.idle.as_ref().is_some_and(|i| Arc::ptr_eq(i, t));
    let prev_is_idle = is_idle(&prev, &rq);
    // A thread woken between marking itself asleep and getting here stays runnable.
    if new_state == State::Sleeping && prev.state() == State::Runnable {
        set_current(Some(prev));
        return;
    }
    prev.set_state(new_state);
    let still_runnable = (new_state == State::Runnable && !prev_is_idle).then(|| prev.clone());
    let next = match rq.ready.pick_next(still_runnable) {
        Some(t) => t,
        None => rq.idle.clone().expect("idle thread"),
    };
    let now = crate::arch::time::monotonic_ns();
    // A switch happens in the kernel: the segment that ends is system time.
    prev.cputime.charge(false, now);
    next.cputime.start(now);
    // rseq: a thread that was switched away must not find its critical section intact.
    next.abi.rseq_event.store(true, Ordering::Relaxed);
    next.set_state(State::Running);
    next.slice_left.store(SLICE_TICKS, Ordering::Relaxed);
    set_current(Some(next.clone()));
    if Arc::ptr_eq(&prev, &next) {
        return;
    }
    if new_state == State::Dead {
        rq.dead = Some(prev.clone());
    }
    drop(rq);
    // The flag spoke of `prev`; `next` may have signals pending.
    super::note_signal_work();

    crate::mm::switch_page_table(&next.page_table_root.lock());
    cpu::set_user_fs_base(next.fs_base.load(Ordering::Relaxed));
    // The user's GS base sits in KERNEL_GS_BASE while in the kernel; most threads never set
    // it, so skip the MSR write when it does not change (it holds `prev`'s).
    let next_gs = next.gs_base.load(Ordering::Relaxed);
    if next_gs != prev.gs_base.load(Ordering::Relaxed) {
        cpu::set_user_gs_base(next_gs);
    }
    let next_context = next.context.clone();
    drop(next);
    // Not kept across the switch: a dead thread never returns to drop it. The run queue, a
    // wait queue, its process or `dead` holds it meanwhile.
    drop(prev);
    assert_eq!(sync::locks_held(), 0, "lock held across a context switch");
    context::switch_to(next_context);
}

extern "C" fn idle_loop(_: u64) -> ! {
    loop {
        let has_work = !RQ.lock().ready.is_empty();
        if has_work {
            switch_away(State::Runnable);
        } else {
            cpu::idle_wait();
        }
    }
}

/// Turns the boot flow into a thread and creates the idle thread. `boot` is the first thread that
/// really runs; the boot stack is abandoned.
pub fn start(boot: Arc<Thread>) -> ! {
    let idle = Thread::new_kernel(idle_loop, 0);
    {
        let mut rq = RQ.lock();
        rq.idle = Some(idle.clone());
        rq.ready.enqueue(boot);
    }
    let first = {
        let mut rq = RQ.lock();
        let next = rq.ready.pick_next(None).expect("boot thread");
        next.set_state(State::Running);
        next.slice_left.store(SLICE_TICKS, Ordering::Relaxed);
        next.cputime.start(crate::arch::time::monotonic_ns());
        let context = next.context.clone();
        set_current(Some(next));
        context
    };
    // The boot stack is abandoned.
    context::start(first)
}
