//! `Pollee`: the readiness side of a pollable object. It keeps weak references to observers and
//! tells them when events happen; dead observers (a finished poll, a closed epoll) fall away by
//! themselves (the rules: `crates/observer-set`, host-tested). `Poller`: an observer that wakes
//! one sleeping thread.

use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, Ordering};

use observer_set::ObserverSet;

use super::IoEvents;
use crate::sync::Mutex;
use crate::task::{WaitError, WaitQueue};

pub trait Observer: Send + Sync {
    fn on_events(&self, events: IoEvents);
}

#[derive(Default)]
pub struct Pollee {
    observers: Mutex<ObserverSet<dyn Observer, IoEvents>>,
}

impl Pollee {
    pub const fn new() -> Self {
        Pollee { observers: Mutex::new(ObserverSet::new()) }
    }

    /// `observer` hears of events in `mask` (and the ones always reported) from now on.
    pub fn register(&self, observer: Weak<dyn Observer>, mask: IoEvents) {
        self.observers.lock().register(observer, mask | IoEvents::ALWAYS);
    }

    pub fn unregister(&self, observer: &Weak<dyn Observer>) {
        self.observers.lock().unregister(observer);
    }

    /// Something in `events` happened.
    pub fn notify(&self, events: IoEvents) {
        // The lock is released before the observers run: they take other locks, or this one.
        let targets: Vec<Arc<dyn Observer>> =
            self.observers.lock().targets(|mask| mask.intersects(events));
        for o in targets {
            o.on_events(events);
        }
    }
}

struct Wakeup {
    fired: AtomicBool,
    queue: WaitQueue,
}

impl Observer for Wakeup {
    fn on_events(&self, _events: IoEvents) {
        self.fired.store(true, Ordering::Release);
        self.queue.wake_all();
    }
}

/// What a pollable object is handed to report changes to: a sleeping thread (poll, select,
/// epoll_wait) or any other observer (an epoll entry).
pub struct Poller {
    observer: Weak<dyn Observer>,
    wakeup: Option<Arc<Wakeup>>,
}

impl Default for Poller {
    fn default() -> Self {
        Self::new()
    }
}

impl Poller {
    /// A poller that wakes the thread that calls `wait`.
    pub fn new() -> Self {
        let wakeup = Arc::new(Wakeup { fired: AtomicBool::new(false), queue: WaitQueue::new() });
        let strong: Arc<dyn Observer> = wakeup.clone();
        Poller { observer: Arc::downgrade(&strong), wakeup: Some(wakeup) }
    }

    /// A poller that forwards events to `observer`.
    pub fn for_observer(observer: Weak<dyn Observer>) -> Self {
        Poller { observer, wakeup: None }
    }

    /// Registers with `pollee` for `mask`.
    pub fn watch(&self, pollee: &Pollee, mask: IoEvents) {
        pollee.register(self.observer.clone(), mask);
    }

    /// Sleeps until an observed pollee notifies, a signal arrives or the deadline passes.
    pub fn wait(&self, deadline_ns: Option<u64>) -> Result<(), WaitError> {
        let Some(w) = &self.wakeup else { return Ok(()) };
        w.queue.wait_until(|| w.fired.swap(false, Ordering::AcqRel).then_some(()), deadline_ns)
    }
}
