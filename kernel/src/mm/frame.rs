//! Physical page frames: untouched RAM ranges handed out from the front, an intrusive free list
//! of returned frames (the next pointer lives in the free frame), and a reference count per frame
//! so page tables can share frames (copy-on-write, shared memory). Boot touches no frame: under
//! TCG writing to every page of RAM once costs about a second.
//!
//! A frame handed out by `alloc` has count 1; `get` adds a reference, `put` drops one and frees
//! the frame at zero.

use core::sync::atomic::{AtomicU32, AtomicUsize, Ordering};

use spin::Once;

use super::phys_to_virt;
use crate::sync::Mutex;

pub const PAGE_SIZE: u64 = 4096;

const MAX_RANGES: usize = 48;

struct FreeList {
    /// Returned frames, linked through their first word.
    head: u64,
    /// Never-used RAM, as page-aligned [start, end) ranges consumed from the front.
    ranges: [(u64, u64); MAX_RANGES],
    range_count: usize,
    free: usize,
}

static FREE: Mutex<FreeList> =
    Mutex::new(FreeList { head: 0, ranges: [(0, 0); MAX_RANGES], range_count: 0, free: 0 });
static REFCOUNTS: Once<&'static [AtomicU32]> = Once::new();
static TOTAL: AtomicUsize = AtomicUsize::new(0);

/// Sets up the reference-count array at `table` (physical, one u32 per frame up to `max_phys`,
/// zeroed by the caller) and frees every frame in `ranges`.
pub(super) fn init(table_paddr: u64, max_phys: u64, ranges: &[(u64, u64)]) {
    let frames = (max_phys / PAGE_SIZE) as usize;
    // SAFETY: the caller reserved and zeroed `frames` u32s at `table_paddr`, mapped by the direct
    // map, and never hands that memory out elsewhere; AtomicU32 has the layout of u32.
    let table = unsafe {
        core::slice::from_raw_parts(phys_to_virt(table_paddr) as *const AtomicU32, frames)
    };
    REFCOUNTS.call_once(|| table);
    for &r in ranges {
        add_range(r.0, r.1);
    }
}

/// Gives the allocator RAM it has never managed (boot memory, the unpacked initramfs).
pub(super) fn add_range(start: u64, end: u64) {
    let start = (start + PAGE_SIZE - 1) & !(PAGE_SIZE - 1);
    let end = end & !(PAGE_SIZE - 1);
    if start >= end {
        return;
    }
    let pages = ((end - start) / PAGE_SIZE) as usize;
    let mut list = FREE.lock();
    if list.range_count < MAX_RANGES {
        let i = list.range_count;
        list.ranges[i] = (start, end);
        list.range_count += 1;
        list.free += pages;
        TOTAL.fetch_add(pages, Ordering::Relaxed);
    }
}

fn refcount(pa: u64) -> &'static AtomicU32 {
    &REFCOUNTS.get().expect("frames initialised")[(pa / PAGE_SIZE) as usize]
}

fn push_free(pa: u64) {
    let mut list = FREE.lock();
    // SAFETY: `pa` is a free frame that we own; its first word holds the list link.
    unsafe { (phys_to_virt(pa) as *mut u64).write(list.head) };
    list.head = pa;
    list.free += 1;
}

/// A frame with reference count 1, contents undefined.
pub fn alloc() -> Option<u64> {
    let mut list = FREE.lock();
    let pa = if list.head != 0 {
        let pa = list.head;
        // SAFETY: `pa` is on the free list, so its first word is the link we stored.
        list.head = unsafe { (phys_to_virt(pa) as *const u64).read() };
        pa
    } else {
        let n = list.range_count;
        let r = list.ranges[..n].iter_mut().find(|r| r.0 < r.1)?;
        let pa = r.0;
        r.0 += PAGE_SIZE;
        pa
    };
    list.free -= 1;
    drop(list);
    refcount(pa).store(1, Ordering::Relaxed);
    Some(pa)
}

/// A zero-filled frame with reference count 1.
pub fn alloc_zeroed() -> Option<u64> {
    let pa = alloc()?;
    // SAFETY: we own the new frame; the direct map covers it.
    unsafe { core::ptr::write_bytes(phys_to_virt(pa) as *mut u8, 0, PAGE_SIZE as usize) };
    Some(pa)
}

/// Adds a reference to an allocated frame.
pub fn get(pa: u64) {
    refcount(pa).fetch_add(1, Ordering::Relaxed);
}

/// Drops a reference; the last one frees the frame.
pub fn put(pa: u64) {
    if refcount(pa).fetch_sub(1, Ordering::AcqRel) == 1 {
        push_free(pa);
    }
}

pub fn refs(pa: u64) -> u32 {
    refcount(pa).load(Ordering::Relaxed)
}

pub fn free_frames() -> usize {
    FREE.lock().free
}

pub fn total_frames() -> usize {
    TOTAL.load(Ordering::Relaxed)
}

/// The contents of an allocated frame. The caller must own a reference to it.
pub fn bytes(pa: u64) -> &'static mut [u8; PAGE_SIZE as usize] {
    // SAFETY: frames are mapped by the direct map; the caller holds a reference, so the frame is
    // not on the free list. Concurrent access to shared frames is like user-space shared memory.
    unsafe { &mut *(phys_to_virt(pa) as *mut [u8; PAGE_SIZE as usize]) }
}
