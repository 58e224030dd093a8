//! Locks. `Mutex` is a spin lock (the kernel is uniprocessor and runs with interrupts off, so it
//! never actually spins today) that counts how many locks are held, so the scheduler can assert
//! that no lock is held across a context switch (DESIGN.md §3).

use core::ops::{Deref, DerefMut};
use core::sync::atomic::{AtomicUsize, Ordering};

static LOCKS_HELD: AtomicUsize = AtomicUsize::new(0);

pub fn locks_held() -> usize {
    LOCKS_HELD.load(Ordering::Relaxed)
}

pub struct Mutex<T: ?Sized> {
    inner: spin::Mutex<T>,
}

pub struct MutexGuard<'a, T: ?Sized> {
    guard: spin::MutexGuard<'a, T>,
}

impl<T> Mutex<T> {
    pub const fn new(value: T) -> Self {
        Mutex { inner: spin::Mutex::new(value) }
    }
}

impl<T: Default> Default for Mutex<T> {
    fn default() -> Self {
        Mutex::new(T::default())
    }
}

impl<T: ?Sized> Mutex<T> {
    pub fn lock(&self) -> MutexGuard<'_, T> {
        let guard = self.inner.lock();
        LOCKS_HELD.fetch_add(1, Ordering::Relaxed);
        MutexGuard { guard }
    }

    /// For the diagnosis paths (an NMI, the watchdog), which may have interrupted the holder:
    /// the lock if it is free, never a wait.
    pub fn try_lock(&self) -> Option<MutexGuard<'_, T>> {
        let guard = self.inner.try_lock()?;
        LOCKS_HELD.fetch_add(1, Ordering::Relaxed);
        Some(MutexGuard { guard })
    }

    /// For the panic path only: the lock may be held by the code that panicked.
    pub fn is_locked(&self) -> bool {
        self.inner.is_locked()
    }
}

impl<T: ?Sized> Drop for MutexGuard<'_, T> {
    fn drop(&mut self) {
        LOCKS_HELD.fetch_sub(1, Ordering::Relaxed);
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
