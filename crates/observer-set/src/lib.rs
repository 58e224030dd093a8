//! The rules of a pollable object's observer list (the kernel's `Pollee`), without its lock: an
//! observer is held weakly with the events it asked for, at most once (registering again keeps
//! the first mask: a poll re-registers on every pass), and falls away by itself once dropped (a
//! finished poll, a closed epoll). A notification reaches the live observers whose mask meets
//! its events, handed out as strong references so that the caller can call them after dropping
//! its lock.

#![no_std]

extern crate alloc;
#[cfg(test)]
extern crate std;

#[cfg(test)]
mod tests;

use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;

/// Weak observers of type `T` (usually a trait object), each with a mask of type `M`.
pub struct ObserverSet<T: ?Sized, M> {
    observers: Vec<(Weak<T>, M)>,
}

impl<T: ?Sized, M: Copy> Default for ObserverSet<T, M> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: ?Sized, M: Copy> ObserverSet<T, M> {
    pub const fn new() -> Self {
        ObserverSet { observers: Vec::new() }
    }

    /// `observer` hears of events that meet `mask` from now on; nothing changes if it is
    /// already there.
    pub fn register(&mut self, observer: Weak<T>, mask: M) {
        self.prune();
        if !self.observers.iter().any(|(o, _)| o.ptr_eq(&observer)) {
            self.observers.push((observer, mask));
        }
    }

    pub fn unregister(&mut self, observer: &Weak<T>) {
        self.observers.retain(|(o, _)| !o.ptr_eq(observer) && o.strong_count() > 0);
    }

    /// The live observers whose mask `meets` the events, in the order they registered.
    pub fn targets(&mut self, meets: impl Fn(M) -> bool) -> Vec<Arc<T>> {
        self.prune();
        self.observers.iter().filter(|(_, m)| meets(*m)).filter_map(|(o, _)| o.upgrade()).collect()
    }

    /// How many observers are kept (dead ones included until the next change).
    pub fn len(&self) -> usize {
        self.observers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.observers.is_empty()
    }

    fn prune(&mut self) {
        self.observers.retain(|(o, _)| o.strong_count() > 0);
    }
}
