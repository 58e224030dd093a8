//! Scheduling threads on every CPU. Each CPU has its own run queue (round robin), its own idle
//! thread and its own running thread. Kernel code is not preempted: a thread leaves its CPU only
//! by blocking, yielding or exiting, and user code is preempted by the timer or a reschedule IPI
//! (the switch happens on the way back to user mode). A CPU with nothing runnable steals a thread
//! from another CPU's queue, and halts if there is none. The choice of the next thread, time
//! slices, where a woken thread goes and what may be stolen are the `run-queue` crate's
//! (host-tested); this file is the mechanism around it. docs/smp.md tells the whole protocol.
//!
//! A thread's context is never resumed on one CPU before another has finished saving it: the
//! context's on-CPU flag (arch's `context`) makes the resuming CPU wait for it.

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::cell::RefCell;
use core::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

use super::thread::{State, Thread, BLOCKED};
use crate::arch::percpu::{cpu_id, CpuLocal, MAX_CPUS};
use crate::arch::{context, cpu};
use crate::sync::{self, rank, Mutex};

use run_queue::{CpuLoad, Preempt, SLICE_TICKS};

/// One CPU's scheduler state under its lock.
struct CpuQueue {
    ready: run_queue::RunQueue<Arc<Thread>>,
    idle: Option<Arc<Thread>>,
    /// The last thread that exited here; dropped only once this CPU is off its stack.
    dead: Option<Arc<Thread>>,
}

/// One CPU's scheduler state that other CPUs read without its lock (placement, stealing, the
/// reschedule request).
struct CpuFlags {
    /// The CPU runs the scheduler (an AP still parked takes no thread).
    online: AtomicBool,
    /// It runs its idle thread.
    idle: AtomicBool,
    /// Threads in its run queue (a hint: the queue's lock has the truth).
    ready: AtomicUsize,
    /// Switch at its next preemption point (time slice used up, urgent wake-up, IPI).
    need_resched: AtomicBool,
    /// Nanoseconds it spent idle before `idle_since`, and when its current idle period began (0:
    /// it is not idle), for /proc/stat.
    idle_ns: AtomicU64,
    idle_since: AtomicU64,
    /// When it started scheduling (monotonic ns).
    start_ns: AtomicU64,
}

#[allow(clippy::declare_interior_mutable_const)]
const EMPTY_QUEUE: Mutex<CpuQueue> = Mutex::ranked(
    rank::RUN_QUEUE,
    CpuQueue { ready: run_queue::RunQueue::new(), idle: None, dead: None },
);
static QUEUES: [Mutex<CpuQueue>; MAX_CPUS] = [EMPTY_QUEUE; MAX_CPUS];

#[allow(clippy::declare_interior_mutable_const)]
const NO_FLAGS: CpuFlags = CpuFlags {
    online: AtomicBool::new(false),
    idle: AtomicBool::new(false),
    ready: AtomicUsize::new(0),
    need_resched: AtomicBool::new(false),
    idle_ns: AtomicU64::new(0),
    idle_since: AtomicU64::new(0),
    start_ns: AtomicU64::new(0),
};
static CPUS: [CpuFlags; MAX_CPUS] = [NO_FLAGS; MAX_CPUS];

/// Asks a CPU to look at its run queue (installed by the boot code once APs run: a reschedule
/// IPI). Without it a remote CPU notices at its next timer tick.
static KICK: spin::Once<fn(usize)> = spin::Once::new();

pub fn set_kick(kick: fn(usize)) {
    KICK.call_once(|| kick);
}

/// The running thread of this CPU. Outside the run queue's lock so that finding it (on nearly
/// every system call) costs no lock; only `switch_away` and `start` change it.
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

/// CPUs that run the scheduler (bit n: CPU n).
pub fn online_mask() -> u64 {
    (0..MAX_CPUS).filter(|&c| CPUS[c].online.load(Ordering::Acquire)).fold(0, |m, c| m | 1 << c)
}

/// How many CPUs run the scheduler.
pub fn online_count() -> usize {
    online_mask().count_ones() as usize
}

fn load(c: usize) -> CpuLoad {
    let f = &CPUS[c];
    CpuLoad {
        online: f.online.load(Ordering::Acquire),
        idle: f.idle.load(Ordering::Relaxed),
        ready: f.ready.load(Ordering::Relaxed),
    }
}

/// The CPU a thread that becomes runnable goes to (see `run_queue::place`).
fn place(t: &Thread) -> usize {
    let here = cpu_id();
    run_queue::place(t.affinity(), t.cpu(), here, MAX_CPUS, load).unwrap_or(here)
}

/// Puts a runnable thread in CPU `c`'s queue and tells that CPU if it should look.
fn enqueue_on(c: usize, t: Arc<Thread>, urgent: bool) {
    let preempt = {
        let mut q = QUEUES[c].lock();
        t.cpu.store(c as u32, Ordering::Relaxed);
        let p = q.ready.wake(t, urgent);
        CPUS[c].ready.store(q.ready.len(), Ordering::Relaxed);
        p
    };
    let f = &CPUS[c];
    if preempt == Preempt::AtNextPoint {
        f.need_resched.store(true, Ordering::Release);
    }
    if c != cpu_id() && (preempt == Preempt::AtNextPoint || f.idle.load(Ordering::Acquire)) {
        kick(c);
    }
}

fn kick(c: usize) {
    if let Some(k) = KICK.get() {
        k(c);
    }
}

/// The reschedule IPI's handler (this CPU): switch at the next preemption point (the return to
/// user mode it interrupted, or the idle loop's next turn).
pub fn on_reschedule_ipi(from_user: bool) {
    if from_user {
        super::cputime::enter_kernel();
    }
    CPUS[cpu_id()].need_resched.store(true, Ordering::Release);
}

/// Makes a new thread runnable.
pub fn spawn(t: Arc<Thread>) {
    t.set_state(State::Runnable);
    let c = place(&t);
    enqueue_on(c, t, false);
}

/// Makes a sleeping thread runnable; harmless for any other state. True if it slept (this call
/// woke it).
pub fn wake(t: &Arc<Thread>) -> bool {
    wake_with(t, false)
}

/// The thread `me` (the caller) will not sleep after all (its condition holds): undoes the
/// `Sleeping` it set, unless a waker did already.
pub(super) fn stay_awake(me: &Thread) {
    me.transition(State::Sleeping as u8, State::Running as u8);
}

/// Wakes `t` and lets it run at once: the waker gives way at its next return to user mode if
/// `t` goes to its CPU, and a CPU running `t` in user mode is interrupted (a signal's target
/// acts on it at once, as under Linux).
pub fn wake_urgent(t: &Arc<Thread>) {
    wake_with(t, true);
}

fn wake_with(t: &Arc<Thread>, urgent: bool) -> bool {
    let woke = loop {
        match t.raw_state() {
            // Not yet off its CPU: it sees `Running` in `block` and does not sleep.
            s if s == State::Sleeping as u8 => {
                if t.transition(s, State::Running as u8) {
                    break true;
                }
            }
            BLOCKED => {
                if t.transition(BLOCKED, State::Runnable as u8) {
                    // Its old CPU may still be saving its context: the CPU that picks it waits.
                    enqueue_on(place(t), t.clone(), urgent);
                    return true;
                }
            }
            _ => break false,
        }
    };
    // Running (or about to run on) another CPU: make it enter the kernel to see its signal.
    if urgent && t.state() == State::Running && t.cpu() != cpu_id() {
        kick(t.cpu());
    }
    woke
}

/// Gives up the CPU to the next runnable thread, staying runnable.
pub fn yield_now() {
    CPUS[cpu_id()].need_resched.store(false, Ordering::Relaxed);
    switch_away(State::Runnable);
}

/// Sleeps until `wake`: the caller set its state to `Sleeping` and queued itself where a waker
/// will find it. Returns at once if a waker came in between (it set the state to `Running`).
pub(super) fn block() {
    switch_away(State::Sleeping);
}

/// Ends the current thread.
pub fn exit_current() -> ! {
    switch_away(State::Dead);
    unreachable!("a dead thread was resumed");
}

/// Ticks of CPU 0 since each AP's last remote time-slice kick (see `tick`).
static REMOTE_TICKS: [AtomicUsize; MAX_CPUS] = [const { AtomicUsize::new(0) }; MAX_CPUS];

/// Called from every CPU's timer interrupt. Until the APs have their own timer, CPU 0's tick
/// also keeps the others fair: an AP with threads waiting behind its running one is asked to
/// switch once per time slice, and an idle AP is kicked to steal when some queue has work.
pub fn tick() {
    let c = cpu_id();
    if c == 0 {
        remote_tick();
    }
    let f = &CPUS[c];
    if f.idle.load(Ordering::Relaxed) {
        return;
    }
    if let Some(cur) = CURRENT.get().borrow().as_ref() {
        match run_queue::tick(cur.slice_left.load(Ordering::Relaxed)) {
            Some(left) => cur.slice_left.store(left, Ordering::Relaxed),
            None => f.need_resched.store(true, Ordering::Release),
        }
    }
}

fn remote_tick() {
    let work_waiting = (0..MAX_CPUS).any(|c| CPUS[c].ready.load(Ordering::Relaxed) > 0);
    for c in 1..MAX_CPUS {
        let f = &CPUS[c];
        if !f.online.load(Ordering::Acquire) {
            continue;
        }
        if f.idle.load(Ordering::Relaxed) {
            if work_waiting {
                kick(c);
            }
            continue;
        }
        let n = REMOTE_TICKS[c].fetch_add(1, Ordering::Relaxed) + 1;
        if n >= SLICE_TICKS as usize {
            REMOTE_TICKS[c].store(0, Ordering::Relaxed);
            if f.ready.load(Ordering::Relaxed) > 0 {
                f.need_resched.store(true, Ordering::Release);
                kick(c);
            }
        }
    }
}

/// On the way back to user mode: switch if the time slice is used up, a reschedule was asked
/// for, or the thread may no longer run on this CPU.
pub fn preempt_point() {
    let c = cpu_id();
    if CPUS[c].need_resched.load(Ordering::Acquire)
        || with_current(|t| t.affinity() & (1 << c) == 0)
    {
        yield_now();
    }
}

/// Restricts `t` to the CPUs of `mask` (sched_setaffinity): a thread running on a CPU no
/// longer allowed moves at its next preemption point, one queued there moves when picked.
pub fn set_affinity(t: &Arc<Thread>, mask: u64) {
    t.store_affinity(mask);
    let c = t.cpu();
    if mask & (1 << c) == 0 && t.state() == State::Running {
        if c == cpu_id() {
            CPUS[c].need_resched.store(true, Ordering::Release);
        } else {
            kick(c);
        }
    }
}

fn switch_away(new_state: State) {
    let c = cpu_id();
    let now = crate::arch::time::monotonic_ns();
    let mut q = QUEUES[c].lock();
    let prev = set_current(None).expect("a current thread");
    let prev_is_idle = q.idle.as_ref().is_some_and(|i| Arc::ptr_eq(i, &prev));
    // A switch happens in the kernel: the segment that ends is system time. Charged before the
    // thread can be seen off this CPU (and started elsewhere).
    prev.cputime.charge(false, now);
    let allowed_here = prev.affinity() & (1 << c) != 0;
    let mut misplaced = Vec::new();
    let mut still_runnable = None;
    match new_state {
        State::Sleeping => {
            // A waker that came between "I will sleep" and here set `Running`: go on.
            if !prev.transition(State::Sleeping as u8, BLOCKED) {
                set_current(Some(prev));
                return;
            }
        }
        State::Runnable if prev_is_idle => {}
        State::Runnable => {
            prev.set_state(State::Runnable);
            if allowed_here {
                still_runnable = Some(prev.clone());
            } else {
                misplaced.push(prev.clone());
            }
        }
        State::Dead | State::Running => prev.set_state(new_state),
    }
    // The front thread that may run here; those that may not (their affinity changed while
    // they waited) move to a CPU they may run on once this queue is unlocked.
    let picked = loop {
        match q.ready.pick_next(still_runnable.take()) {
            Some(t) if t.affinity() & (1 << c) != 0 => break Some(t),
            Some(t) => misplaced.push(t),
            None => break None,
        }
    };
    CPUS[c].ready.store(q.ready.len(), Ordering::Relaxed);
    let next = match picked {
        Some(t) => t,
        None => q.idle.clone().expect("idle thread"),
    };
    let next_is_idle = q.idle.as_ref().is_some_and(|i| Arc::ptr_eq(i, &next));
    note_idle(c, prev_is_idle, next_is_idle, now);
    next.cputime.start(now);
    // rseq: a thread that was switched away must not find its critical section intact.
    next.abi.rseq_event.store(true, Ordering::Relaxed);
    next.cpu.store(c as u32, Ordering::Relaxed);
    next.set_state(State::Running);
    next.slice_left.store(SLICE_TICKS, Ordering::Relaxed);
    set_current(Some(next.clone()));
    if Arc::ptr_eq(&prev, &next) {
        drop(q);
        requeue(misplaced);
        return;
    }
    if new_state == State::Dead {
        q.dead = Some(prev.clone());
    }
    drop(q);
    requeue(misplaced);
    // The flag spoke of `prev`; `next` may have signals pending.
    super::note_signal_work_here();

    crate::mm::switch_page_table(&next.page_table_root.lock());
    cpu::set_user_fs_base(next.fs_base.load(Ordering::Relaxed));
    // The user's GS base sits in KERNEL_GS_BASE while in the kernel; most threads never set
    // it, so skip the MSR write when it does not change (it holds `prev`'s: it ran here).
    let next_gs = next.gs_base.load(Ordering::Relaxed);
    if next_gs != prev.gs_base.load(Ordering::Relaxed) {
        cpu::set_user_gs_base(next_gs);
    }
    let next_context = next.context.clone();
    drop(next);
    // Not kept across the switch: a dead thread never returns to drop it. A run queue, a wait
    // queue, its process or `dead` holds it meanwhile.
    drop(prev);
    assert_eq!(sync::locks_held(), 0, "lock held across a context switch");
    // From here on this thread may resume on another CPU: nothing per-CPU is held.
    context::switch_to(next_context);
}

/// Threads that may not run on the CPU that found them go where they may.
fn requeue(threads: Vec<Arc<Thread>>) {
    for t in threads {
        enqueue_on(place(&t), t, false);
    }
}

/// Idle-time accounting for /proc/stat.
fn note_idle(c: usize, was_idle: bool, now_idle: bool, now: u64) {
    let f = &CPUS[c];
    if was_idle && !now_idle {
        let since = f.idle_since.swap(0, Ordering::Relaxed);
        if since != 0 {
            f.idle_ns.fetch_add(now.saturating_sub(since), Ordering::Relaxed);
        }
    } else if now_idle && !was_idle {
        f.idle_since.store(now, Ordering::Relaxed);
    }
    f.idle.store(now_idle, Ordering::Release);
}

/// (busy, idle) nanoseconds of CPU `c` since it started: idle is the time in its idle thread.
pub fn cpu_times(c: usize) -> (u64, u64) {
    let f = &CPUS[c];
    let now = crate::arch::time::monotonic_ns();
    let since = f.idle_since.load(Ordering::Relaxed);
    let current = if since != 0 { now.saturating_sub(since) } else { 0 };
    let idle = f.idle_ns.load(Ordering::Relaxed) + current;
    let up = now.saturating_sub(f.start_ns.load(Ordering::Relaxed));
    (up.saturating_sub(idle), idle)
}

/// Takes a thread that may run on CPU `c` from the queue of the busiest other CPU.
fn steal(c: usize) -> Option<Arc<Thread>> {
    let victim = (0..MAX_CPUS)
        .filter(|&v| v != c && CPUS[v].online.load(Ordering::Acquire))
        .max_by_key(|&v| CPUS[v].ready.load(Ordering::Relaxed))
        .filter(|&v| CPUS[v].ready.load(Ordering::Relaxed) > 0)?;
    let mut q = QUEUES[victim].lock();
    let t = q.ready.steal(|t| t.affinity() & (1 << c) != 0);
    CPUS[victim].ready.store(q.ready.len(), Ordering::Relaxed);
    t
}

extern "C" fn idle_loop(_: u64) -> ! {
    loop {
        let c = cpu_id();
        CPUS[c].need_resched.store(false, Ordering::Relaxed);
        if CPUS[c].ready.load(Ordering::Acquire) == 0 {
            if let Some(t) = steal(c) {
                let mut q = QUEUES[c].lock();
                t.cpu.store(c as u32, Ordering::Relaxed);
                q.ready.enqueue(t);
                CPUS[c].ready.store(q.ready.len(), Ordering::Relaxed);
            }
        }
        let has_work = !QUEUES[c].lock().ready.is_empty();
        if has_work {
            switch_away(State::Runnable);
        } else {
            cpu::idle_wait();
        }
    }
}

/// Turns the boot flow into a thread and starts scheduling on the boot CPU. `boot` is the
/// first thread that really runs; the boot stack is abandoned.
pub fn start(boot: Arc<Thread>) -> ! {
    let c = cpu_id();
    boot.cpu.store(c as u32, Ordering::Relaxed);
    start_cpu(Some(boot))
}

/// APs run threads only when the kernel command line says `posix-x.smp=on`; otherwise they
/// stay parked and the machine behaves as one CPU. Off by default until the APs have TLB
/// shootdown and their own timer (docs/smp.md, "Status").
fn aps_enabled() -> bool {
    crate::cmdline::value("posix-x.smp") == Some("on")
}

/// The boot CPU runs the scheduler and has read the command line: APs may join (or park).
static APS_GO: AtomicBool = AtomicBool::new(false);

/// The entry of an AP once its tables are set up (interrupts off): it waits for the boot CPU to
/// start scheduling, then joins with its own idle thread and takes work from the other CPUs'
/// queues.
pub fn start_ap() -> ! {
    while !APS_GO.load(Ordering::Acquire) {
        sync::relax();
    }
    if !aps_enabled() {
        cpu::halt_forever();
    }
    start_cpu(None)
}

fn start_cpu(first: Option<Arc<Thread>>) -> ! {
    let c = cpu_id();
    let idle = Thread::new_kernel(idle_loop, 0);
    idle.cpu.store(c as u32, Ordering::Relaxed);
    idle.store_affinity(1 << c);
    let now = crate::arch::time::monotonic_ns();
    // The boot CPU's time counts from boot, as Linux's does.
    CPUS[c].start_ns.store(if c == 0 { 0 } else { now }, Ordering::Relaxed);
    let context = {
        let mut q = QUEUES[c].lock();
        q.idle = Some(idle.clone());
        let next = first.unwrap_or(idle);
        let is_idle = q.idle.as_ref().is_some_and(|i| Arc::ptr_eq(i, &next));
        note_idle(c, false, is_idle, now);
        next.set_state(State::Running);
        next.slice_left.store(SLICE_TICKS, Ordering::Relaxed);
        next.cputime.start(now);
        let context = next.context.clone();
        set_current(Some(next));
        context
    };
    CPUS[c].online.store(true, Ordering::Release);
    if c == 0 {
        APS_GO.store(true, Ordering::Release);
    }
    // The boot stack is abandoned.
    context::start(context)
}
