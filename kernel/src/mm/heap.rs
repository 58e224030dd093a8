//! The kernel heap: a buddy allocator over one physically contiguous region of the direct map.

use buddy_system_allocator::LockedHeap;

#[global_allocator]
static HEAP: LockedHeap<32> = LockedHeap::empty();

pub(super) fn init(start_vaddr: u64, size: u64) {
    // SAFETY: the region is reserved for the heap, mapped writable, and used by nothing else.
    unsafe { HEAP.lock().init(start_vaddr as usize, size as usize) };
}

pub fn stats() -> (usize, usize) {
    let h = HEAP.lock();
    (h.stats_alloc_actual(), h.stats_total_bytes())
}
