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

use core::sync::atomic::{AtomicBool, Ordering};

/// "The running thread may have signal work on its way back to user mode." Every return to user
/// mode reads it first and skips signal delivery when it is clear, so a system call with nothing
/// pending takes no lock and touches no reference count there.
///
/// The invariant: if the running thread has a pending signal (its own or its process's) or a
/// mask to restore after a delivery, the flag is set. It holds because everything that creates
/// such work sets it (`process::signal::post`, the setters of the restore mask), the scheduler
/// sets it whenever another thread starts running, and only the delivery path clears it, after
/// checking with interrupts off that the running thread has nothing pending.
static SIGNAL_WORK: AtomicBool = AtomicBool::new(true);

/// Some thread got a pending signal or other signal work (see `SIGNAL_WORK`).
pub fn note_signal_work() {
    SIGNAL_WORK.store(true, Ordering::Relaxed);
}

/// Might the running thread have signal work? False means it certainly has none.
pub fn signal_work_possible() -> bool {
    SIGNAL_WORK.load(Ordering::Relaxed)
}

/// The running thread has no pending signal and no mask to restore (the caller checked).
pub fn clear_signal_work() {
    SIGNAL_WORK.store(false, Ordering::Relaxed);
}

/// Timer interrupt: expire deadlines, account the time slice.
pub fn on_timer_tick() {
    let now = crate::arch::time::monotonic_ns();
    timer::expire(now);
    callout::expire(now);
    scheduler::tick();
    diagnose::on_tick();
}
