//! Round-robin scheduling of threads on one CPU. Kernel code is not preempted: a thread leaves
//! the CPU only by blocking, yielding or exiting, and user code is preempted by the timer (the
//! switch happens on the way back to user mode). With nothing runnable the idle thread halts.

use alloc::collections::VecDeque;
use alloc::sync::Arc;
use core::cell::RefCell;
use core::sync::atomic::{AtomicBool, Ordering};

use super::thread::{State, Thread};
use crate::arch::percpu::{self, CpuLocal};
use crate::arch::{context, cpu};
use crate::sync::{self, Mutex};

/// Timer ticks in one time slice.
const SLICE_TICKS: u32 = 10;

struct RunQueue {
    ready: VecDeque<Arc<Thread>>,
    idle: Option<Arc<Thread>>,
    /// The last thread that exited; dropped only once we are off its stack.
    dead: Option<Arc<Thread>>,
}

static RQ: Mutex<RunQueue> =
    Mutex::new(RunQueue { ready: VecDeque::new(), idle: None, dead: None });
static NEED_RESCHED: AtomicBool = AtomicBool::new(false);

/// The running thread. Outside the run queue's lock so that finding it (on nearly every system
/// call) costs no lock; only `switch_away` and `start` change it, with the run queue locked.
static CURRENT: CpuLocal<RefCell<Option<Arc<Thread>>>> = CpuLocal::new(RefCell::new(None));

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
    RQ.lock().ready.push_back(t);
}

/// Makes a sleeping thread runnable; harmless for any other state.
pub fn wake(t: &Arc<Thread>) {
    if t.state() == State::Sleeping {
        t.set_state(State::Runnable);
        RQ.lock().ready.push_back(t.clone());
    }
}

/// Wakes `t` and lets it run at the waker's next return to user mode: a signal's target acts
/// on it at once, as it would on another CPU under Linux.
pub fn wake_urgent(t: &Arc<Thread>) {
    if t.state() == State::Sleeping {
        wake(t);
        NEED_RESCHED.store(true, Ordering::Relaxed);
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
            let left = cur.slice_left.load(Ordering::Relaxed);
            if left <= 1 {
                NEED_RESCHED.store(true, Ordering::Relaxed);
            } else {
                cur.slice_left.store(left - 1, Ordering::Relaxed);
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
    if new_state == State::Runnable && !prev_is_idle {
        rq.ready.push_back(prev.clone());
    }
    let next = match rq.ready.pop_front() {
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

    if prev.user {
        // The next thread's user code will overwrite the live x87 state this frame may still
        // rely on (a system call saves only the SSE registers).
        crate::arch::trap::complete_fpu_at(prev.user_frame_addr());
    }
    percpu::set_kernel_stack(next.stack_top());
    crate::mm::switch_page_table(&next.page_table_root.lock());
    cpu::set_user_fs_base(next.fs_base.load(Ordering::Relaxed));
    // The user's GS base sits in KERNEL_GS_BASE while in the kernel; most threads never set
    // it, so skip the MSR write when it does not change (it holds `prev`'s).
    let next_gs = next.gs_base.load(Ordering::Relaxed);
    if next_gs != prev.gs_base.load(Ordering::Relaxed) {
        cpu::set_user_gs_base(next_gs);
    }
    let prev_rsp = prev.saved_rsp.as_ptr();
    let next_rsp = next.saved_rsp.load(Ordering::Relaxed);
    drop(next);
    // Not kept across the switch: a dead thread never returns to drop it. The run queue, a
    // wait queue, its process or `dead` holds it meanwhile.
    drop(prev);
    assert_eq!(sync::locks_held(), 0, "lock held across a context switch");
    context::switch(prev_rsp, next_rsp);
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
        rq.ready.push_back(boot);
    }
    let next_rsp = {
        let mut rq = RQ.lock();
        let next = rq.ready.pop_front().expect("boot thread");
        next.set_state(State::Running);
        next.slice_left.store(SLICE_TICKS, Ordering::Relaxed);
        next.cputime.start(crate::arch::time::monotonic_ns());
        percpu::set_kernel_stack(next.stack_top());
        let rsp = next.saved_rsp.load(Ordering::Relaxed);
        set_current(Some(next));
        rsp
    };
    // The boot stack's context is saved here and never resumed.
    let mut discard = 0u64;
    context::switch(&mut discard, next_rsp);
    unreachable!("returned to the boot stack");
}
