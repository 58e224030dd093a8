//! The collector for files in flight. A unix socket sent over itself (or in a ring of sockets
//! sending each other) keeps itself alive through its own receive queue after every fd is
//! closed. Like Linux's unix_gc, on the close of a socket we find open files referenced only by
//! messages in flight, keep those reachable from a queue of a socket someone still holds, and
//! empty the queues of the rest, which frees them.

use alloc::collections::BTreeMap;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;

use crate::fs::file::OpenFile;
use crate::sync::Mutex;

/// An open file held by a message in flight.
pub struct InFlight(Arc<OpenFile>);

static REGISTRY: Mutex<Vec<Weak<OpenFile>>> = Mutex::new(Vec::new());

impl InFlight {
    pub fn new(file: Arc<OpenFile>) -> InFlight {
        file.set_inflight(true);
        if file.file().as_socket().is_some() {
            REGISTRY.lock().push(Arc::downgrade(&file));
        }
        InFlight(file)
    }

    /// The file, delivered: no longer in flight.
    pub fn deliver(self) -> Arc<OpenFile> {
        let f = self.0.clone();
        drop(self);
        f
    }

    pub fn file(&self) -> &Arc<OpenFile> {
        &self.0
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.set_inflight(false);
    }
}

fn key(f: &Arc<OpenFile>) -> usize {
    Arc::as_ptr(f) as usize
}

/// Frees cycles of sockets that only messages in flight still reference.
pub fn collect() {
    let registered: Vec<Arc<OpenFile>> = {
        let mut reg = REGISTRY.lock();
        reg.retain(|w| w.strong_count() > 0);
        reg.iter().filter_map(|w| w.upgrade()).collect()
    };
    // Candidates: every reference is from a message (ours from `registered` aside).
    let candidates: BTreeMap<usize, Arc<OpenFile>> = registered
        .into_iter()
        .filter(|f| f.inflight() > 0 && Arc::strong_count(f) == f.inflight() + 1)
        .map(|f| (key(&f), f))
        .collect();
    if candidates.is_empty() {
        return;
    }
    // What each candidate's queue holds, and how often each candidate is held by candidates.
    let mut holds: BTreeMap<usize, Vec<Arc<OpenFile>>> = BTreeMap::new();
    let mut held_inside: BTreeMap<usize, usize> = BTreeMap::new();
    for (&k, f) in &candidates {
        let queued = f.file().as_socket().map(|s| s.queued_files()).unwrap_or_default();
        for q in &queued {
            if candidates.contains_key(&key(q)) {
                *held_inside.entry(key(q)).or_default() += 1;
            }
        }
        holds.insert(k, queued);
    }
    // Live: held by some message outside the candidates, and everything they hold.
    let mut live: Vec<usize> = candidates
        .iter()
        .filter(|(k, f)| f.inflight() > held_inside.get(k).copied().unwrap_or(0))
        .map(|(k, _)| *k)
        .collect();
    let mut seen: alloc::collections::BTreeSet<usize> = live.iter().copied().collect();
    while let Some(k) = live.pop() {
        for q in holds.get(&k).into_iter().flatten() {
            let qk = key(q);
            if candidates.contains_key(&qk) && seen.insert(qk) {
                live.push(qk);
            }
        }
    }
    drop(holds);
    for (k, f) in &candidates {
        if !seen.contains(k) {
            if let Some(s) = f.file().as_socket() {
                s.purge_queue();
            }
        }
    }
}
