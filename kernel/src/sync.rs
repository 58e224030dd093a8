//! Locks. `Mutex` is a spin lock: the kernel runs with interrupts off, so a holder is never
//! interrupted on its CPU and a waiter on another CPU spins only while the holder runs a short
//! section. While it spins it services this CPU's pending IPI requests (TLB shootdowns) through
//! the `relax` hook, so a CPU spinning on a lock held by a shootdown initiator cannot deadlock it.
//!
//! Each lock counts, per CPU, how many locks are held, so the scheduler can assert that no lock is
//! held across a context switch (DESIGN.md §3). A lock may have a rank (`Mutex::ranked`): taking a
//! ranked lock while this CPU holds one of an equal or higher rank is a lock-order violation, which
//! is reported on the kernel log with both sites (docs/locking.md has the order).
//!
//! This is the lowest layer: it names no other module. The CPU number, the spin hook and the
//! report go through `install_hooks` (the crate root installs arch's and log's).

use core::fmt;
use core::ops::{Deref, DerefMut};
use core::panic::Location;
use core::sync::atomic::{AtomicUsize, Ordering};

/// CPUs this module keeps per-CPU counts for (arch's `MAX_CPUS` is at most this).
pub const MAX_CPUS: usize = 16;

/// What the layers above provide.
pub struct Hooks {
    /// This CPU's number (below `MAX_CPUS`).
    pub cpu_id: fn() -> usize,
    /// Called in every turn of a spin loop: services this CPU's pending IPI requests.
    pub relax: fn(),
    /// Writes a line on the kernel log without taking a ranked lock.
    pub report: fn(fmt::Arguments),
}

static HOOKS: spin::Once<Hooks> = spin::Once::new();

pub fn install_hooks(hooks: Hooks) {
    HOOKS.call_once(|| hooks);
}

fn cpu() -> usize {
    HOOKS.get().map_or(0, |h| (h.cpu_id)())
}

/// One turn of a spin loop that waits for another CPU.
pub fn relax() {
    if let Some(h) = HOOKS.get() {
        (h.relax)();
    }
    core::hint::spin_loop();
}

#[allow(clippy::declare_interior_mutable_const)]
const ZERO: AtomicUsize = AtomicUsize::new(0);
static LOCKS_HELD: [AtomicUsize; MAX_CPUS] = [ZERO; MAX_CPUS];

/// Locks this CPU holds.
pub fn locks_held() -> usize {
    LOCKS_HELD[cpu()].load(Ordering::Relaxed)
}

/// A place in the lock order: a lock may be taken while holding only locks of lower ranks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Rank(pub u8, pub &'static str);

/// The ranked locks, outermost first (docs/locking.md explains each).
pub mod rank {
    use super::Rank;
    pub const WAIT_QUEUE: Rank = Rank(10, "wait queue");
    pub const TIMERS: Rank = Rank(20, "timer list");
    pub const CALLOUTS: Rank = Rank(20, "callout list");
    pub const THREAD_WAIT: Rank = Rank(30, "thread wait info");
    pub const RUN_QUEUE: Rank = Rank(40, "run queue");
}

/// The ranked locks a CPU holds, innermost last (deeper nesting is not tracked).
const TRACKED: usize = 8;

#[derive(Clone, Copy)]
struct Held {
    rank: Rank,
    lock: usize,
    site: &'static Location<'static>,
}

struct HeldRanks {
    held: [Option<Held>; TRACKED],
}

#[allow(clippy::declare_interior_mutable_const)]
const NO_RANKS: spin::Mutex<HeldRanks> = spin::Mutex::new(HeldRanks { held: [None; TRACKED] });
/// Per CPU; only its own CPU takes it (never contended).
static HELD_RANKS: [spin::Mutex<HeldRanks>; MAX_CPUS] = [NO_RANKS; MAX_CPUS];
/// Violations reported so far (each reported once per boot is enough to find it).
static VIOLATIONS: AtomicUsize = AtomicUsize::new(0);

/// Violations the checker has reported since boot.
pub fn order_violations() -> usize {
    VIOLATIONS.load(Ordering::Relaxed)
}

/// Checks the order before this CPU takes `rank` at `site`, then records it.
fn note_acquire(rank: Rank, lock: usize, site: &'static Location<'static>) {
    let mut ranks = HELD_RANKS[cpu()].lock();
    if let Some(outer) =
        ranks.held.iter().flatten().filter(|h| h.rank >= rank).max_by_key(|h| h.rank)
    {
        let n = VIOLATIONS.fetch_add(1, Ordering::Relaxed);
        if n < 16 {
            if let Some(h) = HOOKS.get() {
                (h.report)(format_args!(
                    "lock order violation: {} (rank {}) taken at {} while holding {} (rank {}) taken at {}",
                    rank.1, rank.0, site, outer.rank.1, outer.rank.0, outer.site
                ));
            }
        }
    }
    if let Some(slot) = ranks.held.iter_mut().find(|h| h.is_none()) {
        *slot = Some(Held { rank, lock, site });
    }
}

fn note_release(lock: usize) {
    let mut ranks = HELD_RANKS[cpu()].lock();
    if let Some(slot) = ranks.held.iter_mut().rev().find(|h| h.is_some_and(|h| h.lock == lock)) {
        *slot = None;
    }
}

pub struct Mutex<T: ?Sized> {
    rank: Option<Rank>,
    inner: spin::Mutex<T>,
}

pub struct MutexGuard<'a, T: ?Sized> {
    ranked: Option<usize>,
    guard: spin::MutexGuard<'a, T>,
}

impl<T> Mutex<T> {
    pub const fn new(value: T) -> Self {
        Mutex { rank: None, inner: spin::Mutex::new(value) }
    }

    /// A lock with a place in the lock order (see `rank`).
    pub const fn ranked(rank: Rank, value: T) -> Self {
        Mutex { rank: Some(rank), inner: spin::Mutex::new(value) }
    }
}

impl<T: Default> Default for Mutex<T> {
    fn default() -> Self {
        Mutex::new(T::default())
    }
}

impl<T: ?Sized> Mutex<T> {
    #[track_caller]
    pub fn lock(&self) -> MutexGuard<'_, T> {
        let ranked = self.check_order(Location::caller());
        let guard = loop {
            if let Some(g) = self.inner.try_lock() {
                break g;
            }
            while self.inner.is_locked() {
                relax();
            }
        };
        LOCKS_HELD[cpu()].fetch_add(1, Ordering::Relaxed);
        MutexGuard { ranked, guard }
    }

    fn check_order(&self, site: &'static Location<'static>) -> Option<usize> {
        let rank = self.rank?;
        let addr = self as *const Self as *const () as usize;
        note_acquire(rank, addr, site);
        Some(addr)
    }

    /// For the diagnosis paths (an NMI, the watchdog), which may have interrupted the holder:
    /// the lock if it is free, never a wait (so never a deadlock: the order is not checked).
    pub fn try_lock(&self) -> Option<MutexGuard<'_, T>> {
        let guard = self.inner.try_lock()?;
        LOCKS_HELD[cpu()].fetch_add(1, Ordering::Relaxed);
        Some(MutexGuard { ranked: None, guard })
    }

    /// For the panic path only: the lock may be held by the code that panicked.
    pub fn is_locked(&self) -> bool {
        self.inner.is_locked()
    }
}

impl<T: ?Sized> Drop for MutexGuard<'_, T> {
    fn drop(&mut self) {
        if let Some(lock) = self.ranked {
            note_release(lock);
        }
        LOCKS_HELD[cpu()].fetch_sub(1, Ordering::Relaxed);
    }
}

impl<T: ?Sized> Deref for MutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.guard
    }
}

impl<T: ?Sized> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.guard
    }
}

/// Takes two locks against the order (a higher rank, then a lower one) to show that the checker
/// reports it (`posix-x.lockorder=selftest`). Returns whether a report was made.
pub fn order_selftest() -> bool {
    static INNER: Mutex<()> = Mutex::ranked(rank::RUN_QUEUE, ());
    static OUTER: Mutex<()> = Mutex::ranked(rank::WAIT_QUEUE, ());
    let before = order_violations();
    let inner = INNER.lock();
    let outer = OUTER.lock();
    drop(outer);
    drop(inner);
    order_violations() > before
}
