//! Threads, the scheduler, wait queues and timers.

pub mod abi;
pub mod callout;
pub mod cputime;
pub mod diagnose;
pub mod scheduler;
pub mod thread;
pub mod timer;
pub mod wait_queue;

pub use scheduler::{current, with_current};
pub use thread::Thread;
pub use wait_queue::{WaitError, WaitQueue};

use core::sync::atomic::{fence, AtomicBool, Ordering};

use crate::arch::percpu::{cpu_id, MAX_CPUS};

/// Per CPU: "the thread running here may have signal work on its way back to user mode." Every
/// return to user mode reads its CPU's flag first and skips signal delivery when it is clear, so
/// a system call with nothing pending takes no lock and touches no reference count there.
///
/// The invariant: if a CPU's running thread has a pending signal (its own or its process's) or a
/// mask to restore after a delivery, that CPU's flag is set. It holds because everything that
/// creates such work sets every CPU's flag (`process::signal::post`, the setters of the restore
/// mask: rare events) after making the work visible, the scheduler sets a CPU's flag whenever
/// another thread starts running there, and only the delivery path clears it: it clears the flag
/// first and then re-checks the running thread (`clear_signal_work`), so a signal posted from
/// another CPU meanwhile leaves the flag set.
#[allow(clippy::declare_interior_mutable_const)]
const SET: AtomicBool = AtomicBool::new(true);
static SIGNAL_WORK: [AtomicBool; MAX_CPUS] = [SET; MAX_CPUS];

/// Some thread got a pending signal or other signal work (see `SIGNAL_WORK`).
pub fn note_signal_work() {
    // Whatever made the work visible (an atomic read-modify-write, a lock) comes first.
    fence(Ordering::SeqCst);
    for flag in &SIGNAL_WORK {
        flag.store(true, Ordering::Relaxed);
    }
}

/// The scheduler starts another thread on this CPU: it may have signal work.
pub(crate) fn note_signal_work_here() {
    SIGNAL_WORK[cpu_id()].store(true, Ordering::Relaxed);
}

/// Might the running thread have signal work? False means it certainly has none.
pub fn signal_work_possible() -> bool {
    SIGNAL_WORK[cpu_id()].load(Ordering::Relaxed)
}

/// The caller found that the running thread has no pending signal and no mask to restore. The
/// flag is cleared, then the thread checked again: a signal posted from another CPU in between
/// sets the flag back (`note_signal_work` stores after the signal is visible).
pub fn clear_signal_work() {
    let flag = &SIGNAL_WORK[cpu_id()];
    flag.store(false, Ordering::Relaxed);
    fence(Ordering::SeqCst);
    let work = with_current(|t| t.pending_all() != 0 || t.restore_mask.lock().is_some());
    if work {
        flag.store(true, Ordering::Relaxed);
    }
}

/// Timer interrupt (every CPU's): expire deadlines, account this CPU's time slice. Deadlines
/// are absolute monotonic times, so expiring them from every CPU counts no time twice.
pub fn on_timer_tick() {
    let now = crate::arch::time::monotonic_ns();
    timer::expire(now);
    callout::expire(now);
    scheduler::tick();
    diagnose::on_tick();
}
