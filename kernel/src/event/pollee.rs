//! `Pollee`: the one wake-up state of a pollable object (a pipe, a socket, an eventfd, an
//! epoll...). Threads blocked in the object's own calls sleep in it (`wait_events`), and the
//! pollers of poll, select and epoll observe it; a change of the object is announced by one
//! call, `notify`, which wakes both kinds. Observers are held weakly and fall away by
//! themselves (a finished poll, a closed epoll); the rules of the observer list and of who
//! wakes are in `crates/observer-set` (host-tested). `Poller`: an observer that wakes one
//! sleeping thread (poll, select).

use alloc::sync::{Arc, Weak};
use core::sync::atomic::{fence, AtomicBool, AtomicUsize, Ordering};

use observer_set::wake::{self, Lane, Wake, LANES};
use observer_set::ObserverSet;

use super::IoEvents;
use crate::sync::Mutex;
use crate::task::{WaitError, WaitQueue};

pub trait Observer: Send + Sync {
    /// Events in the observer's mask happened. Returns whether it took them; only an
    /// exclusive observer's answer counts (true: a thread was waiting for it and is woken, so
    /// the other exclusive observers need not hear of it).
    fn on_events(&self, events: IoEvents) -> bool;
}

/// The wake-up state of a pollable object.
///
/// The waiter contract (gVisor's waiter.Queue, Asterinas's `Pollable::wait_events`): a thread
/// that cannot go on (nothing to read, no room to write) calls `wait_events(mask, deadline,
/// try_op)`, where `try_op` *tries the operation* (not merely checks a flag) and answers `None`
/// when it would block. `wait_events` registers the thread on the pollee, runs `try_op` again,
/// and only then sleeps; every wake-up runs `try_op` again. The code that changes the object
/// makes the change (under the object's own lock), releases that lock, and calls
/// `notify(events)` with what may have become true: IN when data arrived, OUT when room
/// appeared, HUP/ERR when a side closed or failed (they end every wait). So a waker calls
/// one thing, and blocked readers, blocked writers, poll, select and every epoll watching the
/// object all hear of it; a notification is never lost because the waiter is registered
/// before its last try (`WaitQueue` makes registration and sleep atomic with the wake).
///
/// Which sleeping threads a notification wakes: readers (a mask on the read side) on IN-like
/// events, writers on OUT-like ones, everybody on ERR/HUP/NVAL (`observer_set::wake`). A
/// notification names events that *may* hold: waiters always re-try, so notifying too much
/// costs a spurious wake-up, notifying too little loses one.
///
/// `notify` costs two loads and a fence when nobody sleeps or watches, so the hot paths
/// (a pipe ping-pong) may call it on every change.
#[derive(Default)]
pub struct Pollee {
    observers: Mutex<ObserverSet<dyn Observer, IoEvents>>,
    /// How many observers the set may hold (dead ones included until pruned): a hint read
    /// without the lock, so that `notify` skips the lock when nobody watches.
    watched: AtomicUsize,
    /// Threads in `wait_events`, by `Lane`.
    lanes: [WaitQueue; 4],
    /// How many threads are in `wait_events` (the same kind of hint).
    sleepers: AtomicUsize,
}

impl Pollee {
    pub const fn new() -> Self {
        Pollee {
            observers: Mutex::new(ObserverSet::new()),
            watched: AtomicUsize::new(0),
            lanes: [WaitQueue::new(), WaitQueue::new(), WaitQueue::new(), WaitQueue::new()],
            sleepers: AtomicUsize::new(0),
        }
    }

    /// `observer` hears of events in `mask` (and the ones always reported) from now on.
    pub fn register(&self, observer: Weak<dyn Observer>, mask: IoEvents) {
        let mut set = self.observers.lock();
        set.register(observer, mask | IoEvents::ALWAYS);
        // SeqCst pairs with the fence in `notify`: a notifier that reads 0 changed the object
        // before this store, so the caller's readiness check after this call sees the change.
        self.watched.store(set.len(), Ordering::SeqCst);
    }

    /// `register` for one of a group of which one is enough to tell (EPOLLEXCLUSIVE): a
    /// notification goes to the shared observers, then to the exclusive ones in order until one
    /// answers that it woke a thread.
    pub fn register_exclusive(&self, observer: Weak<dyn Observer>, mask: IoEvents) {
        let mut set = self.observers.lock();
        set.register_exclusive(observer, mask | IoEvents::ALWAYS);
        self.watched.store(set.len(), Ordering::SeqCst);
    }

    pub fn unregister(&self, observer: &Weak<dyn Observer>) {
        let mut set = self.observers.lock();
        set.unregister(observer);
        self.watched.store(set.len(), Ordering::SeqCst);
    }

    /// Something in `events` may have become true: wakes the threads in `wait_events` that
    /// wait for it and tells the observers that asked for it. Call it after the change, with
    /// the object's own lock released (observers take other locks).
    pub fn notify(&self, events: IoEvents) {
        // Orders the caller's change before the reads of the hints (see `register` and
        // `wait_events`): whoever we do not see will see the change.
        fence(Ordering::SeqCst);
        if self.sleepers.load(Ordering::Relaxed) != 0 {
            for lane in LANES {
                match wake::wakes(events.bits(), lane) {
                    Wake::None => {}
                    Wake::One => self.lanes[lane as usize].wake_one(),
                    Wake::All => self.lanes[lane as usize].wake_all(),
                }
            }
        }
        if self.watched.load(Ordering::Relaxed) == 0 {
            return;
        }
        let targets = {
            let mut set = self.observers.lock();
            let t = set.split_targets(|mask| mask.intersects(events));
            self.watched.store(set.len(), Ordering::Relaxed);
            t
        };
        // The lock is released before the observers run: they take other locks, or this one.
        targets.deliver(|o| o.on_events(events));
    }

    /// Runs `try_op` until it succeeds, sleeping between tries until a notification that
    /// meets `mask` (or ERR/HUP), a signal (`Interrupted`) or the monotonic `deadline`
    /// (`TimedOut`). See the contract above.
    #[track_caller]
    pub fn wait_events<T>(
        &self,
        mask: IoEvents,
        deadline: Option<u64>,
        try_op: impl FnMut() -> Option<T>,
    ) -> Result<T, WaitError> {
        self.wait_in(wake::lane_of(mask.bits()), deadline, try_op)
    }

    /// `wait_events` for a thread of which one is enough (epoll_wait on one epoll, as Linux's
    /// exclusive waits): a notification of the read side wakes one such thread. A thread that
    /// leaves without success passes the wake-up it may have had on to the next one.
    #[track_caller]
    pub fn wait_events_exclusive<T>(
        &self,
        deadline: Option<u64>,
        try_op: impl FnMut() -> Option<T>,
    ) -> Result<T, WaitError> {
        let r = self.wait_in(Lane::Exclusive, deadline, try_op);
        if r.is_err() {
            self.lanes[Lane::Exclusive as usize].wake_one();
        }
        r
    }

    #[track_caller]
    fn wait_in<T>(
        &self,
        lane: Lane,
        deadline: Option<u64>,
        mut try_op: impl FnMut() -> Option<T>,
    ) -> Result<T, WaitError> {
        // Counted before the first try (SeqCst, against the fence in `notify`): a notifier that
        // does not see us made its change before we try. (`wait_until` tries before it sleeps;
        // callers usually tried once already, on their fast path.)
        self.sleepers.fetch_add(1, Ordering::SeqCst);
        let r = self.lanes[lane as usize].wait_until(&mut try_op, deadline);
        self.sleepers.fetch_sub(1, Ordering::Relaxed);
        r
    }

    /// Wakes one exclusive waiter, if any: the one that had the notification leaves work for
    /// another (an epoll_wait that leaves entries on the ready list).
    pub fn wake_one_exclusive(&self) {
        self.lanes[Lane::Exclusive as usize].wake_one();
    }

    /// Is a thread sleeping in `wait_events` (an epoll entry tells whether its epoll had a
    /// thread to wake)?
    pub fn has_sleepers(&self) -> bool {
        self.sleepers.load(Ordering::Acquire) != 0
    }
}

struct Wakeup {
    fired: AtomicBool,
    queue: WaitQueue,
}

impl Observer for Wakeup {
    fn on_events(&self, _events: IoEvents) -> bool {
        self.fired.store(true, Ordering::Release);
        self.queue.wake_all();
        true
    }
}

/// What a pollable object is handed to report changes to: a sleeping thread (poll, select)
/// or any other observer (an epoll entry).
pub struct Poller {
    observer: Weak<dyn Observer>,
    wakeup: Option<Arc<Wakeup>>,
    exclusive: bool,
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
        Poller { observer: Arc::downgrade(&strong), wakeup: Some(wakeup), exclusive: false }
    }

    /// A poller that forwards events to `observer`.
    pub fn for_observer(observer: Weak<dyn Observer>) -> Self {
        Poller { observer, wakeup: None, exclusive: false }
    }

    /// A poller that forwards events to `observer`, one of an exclusive group
    /// (`Pollee::register_exclusive`).
    pub fn for_exclusive_observer(observer: Weak<dyn Observer>) -> Self {
        Poller { observer, wakeup: None, exclusive: true }
    }

    /// Registers with `pollee` for `mask`.
    pub fn watch(&self, pollee: &Pollee, mask: IoEvents) {
        if self.exclusive {
            pollee.register_exclusive(self.observer.clone(), mask);
        } else {
            pollee.register(self.observer.clone(), mask);
        }
    }

    /// Sleeps until an observed pollee notifies, a signal arrives or the deadline passes.
    pub fn wait(&self, deadline_ns: Option<u64>) -> Result<(), WaitError> {
        let Some(w) = &self.wakeup else { return Ok(()) };
        w.queue.wait_until(|| w.fired.swap(false, Ordering::AcqRel).then_some(()), deadline_ns)
    }
}
