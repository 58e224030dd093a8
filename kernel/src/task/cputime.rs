//! CPU time accounting per thread: user and system time, measured rather than sampled. The
//! running thread's time since `since` belongs to the mode it is in; crossing into the kernel
//! (a system call, an interrupt or fault from user mode) charges that segment to user time,
//! returning to user mode or switching away charges it to system time. A thread that sleeps is
//! charged nothing. Two TSC reads per system call; the tick is not needed, so time spent in a
//! call shorter than a tick still counts (Linux's CONFIG_VIRT_CPU_ACCOUNTING_GEN gives the same).

use core::sync::atomic::{AtomicU64, Ordering};

use crate::arch::time::monotonic_ns;

#[derive(Default)]
pub struct CpuTime {
    user_ns: AtomicU64,
    sys_ns: AtomicU64,
    /// When the running segment began (monotonic ns); meaningless while not running.
    since: AtomicU64,
}

impl CpuTime {
    pub const fn new() -> CpuTime {
        CpuTime { user_ns: AtomicU64::new(0), sys_ns: AtomicU64::new(0), since: AtomicU64::new(0) }
    }

    /// Ends the running segment at `now`, charging it to user or system time.
    pub(super) fn charge(&self, user: bool, now: u64) {
        let start = self.since.swap(now, Ordering::Relaxed);
        let used = now.saturating_sub(start);
        if user {
            self.user_ns.fetch_add(used, Ordering::Relaxed);
        } else {
            self.sys_ns.fetch_add(used, Ordering::Relaxed);
        }
    }

    /// The thread starts running at `now` (in the kernel: it was switched to).
    pub(super) fn start(&self, now: u64) {
        self.since.store(now, Ordering::Relaxed);
    }

    /// (user, system) nanoseconds so far; the running segment, if `running`, counts as system
    /// time (whoever asks is in the kernel, and on one CPU only the running thread asks).
    pub fn times(&self, running: bool) -> (u64, u64) {
        let user = self.user_ns.load(Ordering::Relaxed);
        let mut sys = self.sys_ns.load(Ordering::Relaxed);
        if running {
            sys += monotonic_ns().saturating_sub(self.since.load(Ordering::Relaxed));
        }
        (user, sys)
    }

    /// Takes what was charged so far (the thread is ending: its process keeps the sum).
    pub fn take(&self, running: bool) -> (u64, u64) {
        if running {
            self.charge(false, monotonic_ns());
        }
        (self.user_ns.swap(0, Ordering::Relaxed), self.sys_ns.swap(0, Ordering::Relaxed))
    }
}

/// The running thread entered the kernel from user mode.
pub fn enter_kernel() {
    super::with_current(|t| t.cputime.charge(true, monotonic_ns()));
}

/// The running thread is about to return to user mode.
pub fn leave_kernel() {
    super::with_current(|t| t.cputime.charge(false, monotonic_ns()));
}
