//! Threads, the scheduler, wait queues and timers.

pub mod scheduler;
pub mod thread;
pub mod timer;
pub mod wait_queue;

pub use scheduler::current;
pub use thread::Thread;
pub use wait_queue::{WaitError, WaitQueue};

/// Timer interrupt: expire deadlines, account the time slice.
pub fn on_timer_tick() {
    timer::expire(crate::arch::time::monotonic_ns());
    scheduler::tick();
}
