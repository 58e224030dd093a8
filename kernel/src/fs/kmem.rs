//! Kernel memory for what a user program can make grow (inodes, directory entries, names,
//! descriptor tables): fallible, as Linux's slab allocations are, and never into the last part
//! of the kernel heap. Stable Rust has no fallible `Arc::new` or `BTreeMap::insert`, so objects
//! of those kinds are allowed only while the heap keeps a reserve; that reserve serves the
//! kernel's own small allocations that cannot fail (a path walk, a wait, a signal frame), which
//! is how a full tmpfs or a huge descriptor table ends in ENOMEM or ENOSPC instead of a panic.

use alloc::string::String;
use alloc::vec::Vec;

use crate::error::{Errno, Result};

/// The part of the heap kept back: an eighth of it, at least 2 MiB.
fn kept_back(total: usize) -> usize {
    (total / 8).max(2 << 20)
}

/// May a user-driven object of about `bytes` bytes be allocated? ENOMEM when the heap would
/// drop into its reserve.
pub fn reserve(bytes: usize) -> Result<()> {
    let (used, total) = crate::mm::heap::stats();
    match used.checked_add(bytes).and_then(|n| n.checked_add(kept_back(total))) {
        Some(n) if n <= total => Ok(()),
        _ => Err(Errno::ENOMEM),
    }
}

/// A copy of `s` on the heap, or ENOMEM.
pub fn string(s: &str) -> Result<String> {
    reserve(s.len())?;
    let mut out = String::new();
    out.try_reserve_exact(s.len()).map_err(|_| Errno::ENOMEM)?;
    out.push_str(s);
    Ok(out)
}

/// Makes room for `more` elements in `v`, or ENOMEM.
pub fn grow<T>(v: &mut Vec<T>, more: usize) -> Result<()> {
    let bytes = more.checked_mul(core::mem::size_of::<T>()).ok_or(Errno::ENOMEM)?;
    reserve(bytes)?;
    v.try_reserve(more).map_err(|_| Errno::ENOMEM)
}
