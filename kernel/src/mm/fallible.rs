//! Fallible kernel allocations for the paths user programs reach.
//!
//! The kernel heap is bounded (docs/ARCHITECTURE.md, "Memory"), and an allocation that fails
//! through the infallible APIs (`Vec::push`, `Box::new`, `BTreeMap::insert`, `Arc::new`) calls
//! the allocation error handler: a kernel panic. Code a user program can drive uses these
//! instead. Vectors grow with `try_reserve`; objects whose allocation stable Rust cannot make
//! fallible (an `Arc`, a `BTreeMap` node) are preceded by `ensure_room`, which keeps a reserve
//! of the heap for the kernel's own bookkeeping (exits, wake-ups, the last SIGKILL), so that a
//! program filling the heap meets ENOMEM/EAGAIN well before the kernel meets the error handler.

use alloc::collections::VecDeque;
use alloc::vec::Vec;

use crate::error::{Errno, Result};

/// Bytes of the heap user-driven allocations must leave free: 1/16 of the heap, at least 1 MiB.
pub fn heap_reserve() -> usize {
    let (_, total) = super::heap::stats();
    (total / 16).max(1 << 20)
}

/// Bytes of the heap not allocated (fragmentation aside).
pub fn heap_free() -> usize {
    let (used, total) = super::heap::stats();
    total.saturating_sub(used)
}

/// ENOMEM unless `bytes` more can come from the heap and still leave the reserve free.
pub fn ensure_room(bytes: usize) -> Result<()> {
    if heap_free() >= bytes.saturating_add(heap_reserve()) {
        Ok(())
    } else {
        Err(Errno::ENOMEM)
    }
}

/// A vector with room for `n` elements, or ENOMEM.
pub fn try_vec<T>(n: usize) -> Result<Vec<T>> {
    let mut v = Vec::new();
    v.try_reserve_exact(n).map_err(|_| Errno::ENOMEM)?;
    Ok(v)
}

/// `n` default values (zeroes), or ENOMEM (also when the heap would go into its reserve).
pub fn try_zeroes<T: Clone + Default>(n: usize) -> Result<Vec<T>> {
    ensure_room(n.saturating_mul(core::mem::size_of::<T>()))?;
    let mut v = try_vec(n)?;
    v.resize(n, T::default());
    Ok(v)
}

/// Pushes `x`, or ENOMEM if the vector cannot grow (or the heap is into its reserve).
pub fn try_push<T>(v: &mut Vec<T>, x: T) -> Result<()> {
    if v.len() == v.capacity() {
        ensure_room(v.capacity().max(4) * core::mem::size_of::<T>())?;
        v.try_reserve(1).map_err(|_| Errno::ENOMEM)?;
    }
    v.push(x);
    Ok(())
}

/// The first `n` items of `items` (`n` is what the caller counted) in a vector, or ENOMEM.
pub fn try_collect<T>(n: usize, items: impl Iterator<Item = T>) -> Result<Vec<T>> {
    ensure_room(n.saturating_mul(core::mem::size_of::<T>()))?;
    let mut v = try_vec(n)?;
    v.extend(items.take(n));
    Ok(v)
}

/// Appends a copy of `xs`, or ENOMEM.
pub fn try_extend<T: Copy>(v: &mut Vec<T>, xs: &[T]) -> Result<()> {
    if v.capacity() - v.len() < xs.len() {
        ensure_room(v.capacity().max(xs.len()) * core::mem::size_of::<T>())?;
        v.try_reserve(xs.len()).map_err(|_| Errno::ENOMEM)?;
    }
    v.extend_from_slice(xs);
    Ok(())
}

/// Appends `x` to a queue, or ENOMEM.
pub fn try_push_back<T>(q: &mut VecDeque<T>, x: T) -> Result<()> {
    if q.len() == q.capacity() {
        ensure_room(q.capacity().max(4) * core::mem::size_of::<T>())?;
        q.try_reserve(1).map_err(|_| Errno::ENOMEM)?;
    }
    q.push_back(x);
    Ok(())
}
