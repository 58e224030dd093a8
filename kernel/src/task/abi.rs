//! Per-thread registrations of user memory the kernel maintains on the thread's behalf:
//! the robust futex list (set_robust_list) and the restartable-sequences area (rseq).
//! The layers above act on them (`ipc::futex` walks the list at exit, `process::rseq` updates
//! the area on the way back to user mode); the thread only keeps them.

use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

#[derive(Default)]
pub struct UserAbi {
    /// set_robust_list: the list head's address and the length the caller gave (0: none).
    pub robust_head: AtomicU64,
    pub robust_len: AtomicU64,
    /// rseq: the registered `struct rseq`'s address (0: none), its length and signature.
    pub rseq_area: AtomicU64,
    pub rseq_len: AtomicU32,
    pub rseq_sig: AtomicU32,
    /// The thread was preempted, migrated or interrupted since its area was last updated: the
    /// next return to user mode refreshes the cpu fields and aborts a critical section.
    pub rseq_event: AtomicBool,
}

impl UserAbi {
    /// What fork copies to the child's thread: the rseq registration (Linux's rseq_fork). The
    /// robust list is not inherited (copy_process clears it; the C libraries register again).
    pub fn copy_rseq_from(&self, parent: &UserAbi) {
        let r = Ordering::Relaxed;
        self.rseq_area.store(parent.rseq_area.load(r), r);
        self.rseq_len.store(parent.rseq_len.load(r), r);
        self.rseq_sig.store(parent.rseq_sig.load(r), r);
        self.rseq_event.store(true, r);
    }

    /// execve: both registrations end with the old image.
    pub fn clear(&self) {
        let r = Ordering::Relaxed;
        self.robust_head.store(0, r);
        self.robust_len.store(0, r);
        self.rseq_area.store(0, r);
        self.rseq_len.store(0, r);
        self.rseq_sig.store(0, r);
    }
}
