//! The rules of a pollable object's observer list (the kernel's `Pollee`), without its lock: an
//! observer is held weakly with the events it asked for, at most once (registering again adds
//! the new mask to the old: a poll that lists one file twice, for IN and for OUT, hears of
//! both), and falls away by itself once dropped (a finished poll, a closed epoll). A
//! notification reaches the live observers whose mask meets its events, handed out as strong
//! references so that the caller can call them after dropping its lock. An exclusive observer
//! (an EPOLLEXCLUSIVE epoll entry) is one of a group of which one is enough: a notification
//! reaches every shared observer, then the exclusive ones in order until one takes it
//! (`Targets::deliver`). `wake` holds the rules of the threads that sleep on the object.

#![no_std]

extern crate alloc;
#[cfg(test)]
extern crate std;

pub mod wake;

#[cfg(test)]
mod tests;

use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;

/// Weak observers of type `T` (usually a trait object), each with a mask of type `M`.
pub struct ObserverSet<T: ?Sized, M> {
    observers: Vec<Registration<T, M>>,
}

struct Registration<T: ?Sized, M> {
    observer: Weak<T>,
    mask: M,
    exclusive: bool,
}

/// The observers one notification reaches: every shared one, and the exclusive ones until one
/// takes it.
pub struct Targets<T: ?Sized> {
    pub shared: Vec<Arc<T>>,
    pub exclusive: Vec<Arc<T>>,
}

impl<T: ?Sized> Targets<T> {
    /// Calls `call` on every shared target, then on the exclusive ones in order until one
    /// returns true (it took the notification: for an epoll entry, a thread was waiting on
    /// its epoll and is woken). Returns how many were called.
    pub fn deliver(self, mut call: impl FnMut(&Arc<T>) -> bool) -> usize {
        let mut called = 0;
        for t in &self.shared {
            call(t);
            called += 1;
        }
        for t in &self.exclusive {
            called += 1;
            if call(t) {
                break;
            }
        }
        called
    }

    pub fn is_empty(&self) -> bool {
        self.shared.is_empty() && self.exclusive.is_empty()
    }
}

impl<T: ?Sized, M: Copy + core::ops::BitOr<Output = M>> Default for ObserverSet<T, M> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: ?Sized, M: Copy + core::ops::BitOr<Output = M>> ObserverSet<T, M> {
    pub const fn new() -> Self {
        ObserverSet { observers: Vec::new() }
    }

    /// `observer` hears of events that meet `mask` from now on (added to the mask it has if it
    /// is already there).
    pub fn register(&mut self, observer: Weak<T>, mask: M) {
        self.register_as(observer, mask, false);
    }

    /// `register` for an observer that is one of an exclusive group (see `Targets::deliver`).
    /// An observer is shared or exclusive from its first registration on.
    pub fn register_exclusive(&mut self, observer: Weak<T>, mask: M) {
        self.register_as(observer, mask, true);
    }

    fn register_as(&mut self, observer: Weak<T>, mask: M, exclusive: bool) {
        self.prune();
        match self.observers.iter_mut().find(|r| r.observer.ptr_eq(&observer)) {
            Some(r) => r.mask = r.mask | mask,
            None => self.observers.push(Registration { observer, mask, exclusive }),
        }
    }

    pub fn unregister(&mut self, observer: &Weak<T>) {
        self.observers.retain(|r| !r.observer.ptr_eq(observer) && r.observer.strong_count() > 0);
    }

    /// The live observers whose mask `meets` the events, in the order they registered,
    /// shared and exclusive alike.
    pub fn targets(&mut self, meets: impl Fn(M) -> bool) -> Vec<Arc<T>> {
        self.prune();
        self.observers
            .iter()
            .filter(|r| meets(r.mask))
            .filter_map(|r| r.observer.upgrade())
            .collect()
    }

    /// The live observers whose mask `meets` the events, shared and exclusive apart, each in
    /// the order they registered.
    pub fn split_targets(&mut self, meets: impl Fn(M) -> bool) -> Targets<T> {
        self.prune();
        let mut targets = Targets { shared: Vec::new(), exclusive: Vec::new() };
        for r in self.observers.iter().filter(|r| meets(r.mask)) {
            if let Some(o) = r.observer.upgrade() {
                if r.exclusive {
                    targets.exclusive.push(o);
                } else {
                    targets.shared.push(o);
                }
            }
        }
        targets
    }

    /// How many observers are kept (dead ones included until the next change).
    pub fn len(&self) -> usize {
        self.observers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.observers.is_empty()
    }

    fn prune(&mut self) {
        self.observers.retain(|r| r.observer.strong_count() > 0);
    }
}
