//! Deadlines for sleeping threads, checked on every timer tick.

use alloc::collections::BinaryHeap;
use alloc::sync::{Arc, Weak};
use core::cmp::{Ordering, Reverse};
use core::sync::atomic::{AtomicU64, Ordering as AtomicOrdering};

use super::scheduler;
use super::thread::Thread;
use crate::sync::{rank, Mutex};

struct Entry {
    deadline: u64,
    seq: u64,
    thread: Weak<Thread>,
}

impl PartialEq for Entry {
    fn eq(&self, o: &Self) -> bool {
        (self.deadline, self.seq) == (o.deadline, o.seq)
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Entry {
    fn cmp(&self, o: &Self) -> Ordering {
        (self.deadline, self.seq).cmp(&(o.deadline, o.seq))
    }
}

static TIMERS: Mutex<BinaryHeap<Reverse<Entry>>> = Mutex::ranked(rank::TIMERS, BinaryHeap::new());
static SEQ: AtomicU64 = AtomicU64::new(0);

pub(super) fn add(deadline: u64, t: &Arc<Thread>) {
    let seq = SEQ.fetch_add(1, AtomicOrdering::Relaxed);
    TIMERS.lock().push(Reverse(Entry { deadline, seq, thread: Arc::downgrade(t) }));
}

/// Wakes every thread whose deadline has passed. Stale entries (the thread woke for another
/// reason) wake it spuriously, which waits tolerate: they re-check their condition.
pub fn expire(now: u64) {
    loop {
        let e = {
            let mut timers = TIMERS.lock();
            match timers.peek() {
                Some(Reverse(e)) if e.deadline <= now => timers.pop().map(|Reverse(e)| e),
                _ => None,
            }
        };
        let Some(e) = e else { break };
        if let Some(t) = e.thread.upgrade() {
            t.timed_out.store(true, AtomicOrdering::Relaxed);
            scheduler::wake(&t);
        }
    }
}
