//! Physical page frames: untouched RAM ranges handed out from the front, an intrusive free list
//! of returned frames (the next pointer lives in the free frame), and a reference count per frame
//! so page tables can share frames (copy-on-write, shared memory). Boot touches no frame: under
//! TCG writing to every page of RAM once costs about a second.
//!
//! The rest of the kernel holds frames as values that own their references: a [`Frame`] is one
//! reference (cloning it takes another, dropping it puts it back and the last one frees the
//! frame), a [`UniqueFrame`] is a frame nobody else can see (a pipe's pages), and inside `mm` a
//! leaf page-table entry owns one reference of its own (`page_table::Pte`). The bytes of a frame
//! are reached through methods that copy in and out, never through a reference into the page:
//! a shared frame may be mapped by user programs and held by several owners at once.

use core::marker::PhantomData;
use core::mem::ManuallyDrop;
use core::num::NonZeroU64;
use core::ops::Deref;
use core::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};

use spin::Once;

use super::phys_to_virt;
use crate::sync::Mutex;

pub const PAGE_SIZE: u64 = 4096;
const PAGE_BYTES: usize = PAGE_SIZE as usize;

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
fn alloc_raw() -> Option<NonZeroU64> {
    let mut list = FREE.lock();
    let pa = if list.head != 0 {
        let pa = list.head;
        // SAFETY: `pa` is on the free list, so its first word is the link we stored.
        list.head = unsafe { (phys_to_virt(pa) as *const u64).read() };
        pa
    } else {
        let n = list.range_count;
        let Some(r) = list.ranges[..n].iter_mut().find(|r| r.0 < r.1) else {
            EXHAUSTIONS.fetch_add(1, Ordering::Relaxed);
            return None;
        };
        let pa = r.0;
        r.0 += PAGE_SIZE;
        pa
    };
    list.free -= 1;
    drop(list);
    refcount(pa).store(1, Ordering::Relaxed);
    // Frame 0 is never handed out: the first MiB stays reserved (mm::init).
    NonZeroU64::new(pa)
}

/// Adds a reference to an allocated frame.
fn get(pa: u64) {
    refcount(pa).fetch_add(1, Ordering::Relaxed);
}

/// Drops a reference; the last one frees the frame.
fn put(pa: u64) {
    if refcount(pa).fetch_sub(1, Ordering::AcqRel) == 1 {
        push_free(pa);
    }
}

/// How many frame allocations have found no free frame since boot.
static EXHAUSTIONS: AtomicU64 = AtomicU64::new(0);

/// How many frame allocations have failed so far: a system call that fails with ENOMEM and saw
/// this count move ran out of frames, not of heap, and the OOM killer may help it.
pub fn exhaustions() -> u64 {
    EXHAUSTIONS.load(Ordering::Relaxed)
}

pub fn free_frames() -> usize {
    FREE.lock().free
}

pub fn total_frames() -> usize {
    TOTAL.load(Ordering::Relaxed)
}

/// A physical address.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PhysAddr(u64);

impl PhysAddr {
    pub const fn as_u64(self) -> u64 {
        self.0
    }
}

/// The frame's bytes in the direct map.
fn frame_ptr(pa: u64) -> *mut u8 {
    phys_to_virt(pa) as *mut u8
}

/// One reference to an allocated frame: `clone` takes another, `drop` puts it back, and the
/// last one frees the frame.
///
/// The bytes are read and written by copying (`read`, `write`, `fill`, `copy_from`), through
/// `&self`: the frame may have other owners (a file's page is also mapped by processes), so no
/// Rust reference into it is ever made. Like user memory, it is plain bytes to the kernel.
#[derive(Debug)]
pub struct Frame {
    pa: NonZeroU64,
}

impl Frame {
    /// A new frame, its contents whatever the last owner left there.
    pub fn alloc() -> Option<Frame> {
        alloc_raw().map(|pa| Frame { pa })
    }

    /// A new zero-filled frame.
    pub fn alloc_zeroed() -> Option<Frame> {
        let frame = Frame::alloc()?;
        frame.fill(0, PAGE_BYTES, 0);
        Some(frame)
    }

    pub fn paddr(&self) -> PhysAddr {
        PhysAddr(self.pa.get())
    }

    /// How many references the frame has (this one included): 1 means nobody else sees it.
    pub fn ref_count(&self) -> u32 {
        refcount(self.pa.get()).load(Ordering::Relaxed)
    }

    fn ptr(&self) -> *mut u8 {
        frame_ptr(self.pa.get())
    }

    /// Copies bytes `offset..offset + dst.len()` of the page into `dst` (panics beyond the page).
    pub fn read(&self, offset: usize, dst: &mut [u8]) {
        assert!(offset <= PAGE_BYTES && dst.len() <= PAGE_BYTES - offset, "beyond the page");
        // SAFETY: the range lies in this frame, which we hold a reference to (so it is not free
        // and the direct map covers it); `dst` is a kernel buffer, not frame memory reachable
        // through a reference, so the two do not overlap.
        unsafe {
            core::ptr::copy_nonoverlapping(self.ptr().add(offset), dst.as_mut_ptr(), dst.len())
        }
    }

    /// Copies `src` into the page at `offset` (panics beyond the page).
    pub fn write(&self, offset: usize, src: &[u8]) {
        assert!(offset <= PAGE_BYTES && src.len() <= PAGE_BYTES - offset, "beyond the page");
        // SAFETY: as for `read`; no reference into frame memory exists that the write could
        // invalidate (the type never hands one out; `UniqueFrame`s are never shared).
        unsafe { core::ptr::copy_nonoverlapping(src.as_ptr(), self.ptr().add(offset), src.len()) }
    }

    /// Sets `len` bytes from `offset` to `byte` (panics beyond the page).
    pub fn fill(&self, offset: usize, len: usize, byte: u8) {
        assert!(offset <= PAGE_BYTES && len <= PAGE_BYTES - offset, "beyond the page");
        // SAFETY: as for `write`.
        unsafe { core::ptr::write_bytes(self.ptr().add(offset), byte, len) }
    }

    /// Copies the whole of `src` into this frame (a copy-on-write break, a private file page).
    pub fn copy_from(&self, src: &Frame) {
        if src.pa == self.pa {
            return;
        }
        // SAFETY: two distinct frames we hold references to.
        unsafe { core::ptr::copy_nonoverlapping(src.ptr(), self.ptr(), PAGE_BYTES) }
    }

    /// Gives up this handle without putting its reference: the caller (a page-table entry) now
    /// owns it, and must pass it back to `from_raw` exactly once.
    pub(super) fn into_raw(self) -> u64 {
        ManuallyDrop::new(self).pa.get()
    }

    /// Takes over a reference given up by `into_raw`.
    ///
    /// # Safety
    /// `pa` came from `into_raw` (or `UniqueFrame::into_raw`) and that reference has not been
    /// taken back yet.
    pub(super) unsafe fn from_raw(pa: u64) -> Frame {
        Frame { pa: NonZeroU64::new(pa).expect("frame 0 is never allocated") }
    }

    /// A borrowed view of a reference owned elsewhere (by a page-table entry), for as long as
    /// that owner is borrowed.
    ///
    /// # Safety
    /// `pa` is a reference given up by `into_raw` that stays owned for `'a`.
    pub(super) unsafe fn borrow_raw<'a>(pa: u64) -> FrameRef<'a> {
        // SAFETY: per the contract; ManuallyDrop never puts the borrowed reference.
        FrameRef { frame: ManuallyDrop::new(unsafe { Frame::from_raw(pa) }), _owner: PhantomData }
    }
}

impl Clone for Frame {
    fn clone(&self) -> Frame {
        get(self.pa.get());
        Frame { pa: self.pa }
    }
}

impl Drop for Frame {
    fn drop(&mut self) {
        put(self.pa.get());
    }
}

/// A frame whose reference someone else owns (a page-table entry), borrowed for `'a`.
/// `clone()` through it takes a reference of one's own.
pub struct FrameRef<'a> {
    frame: ManuallyDrop<Frame>,
    _owner: PhantomData<&'a Frame>,
}

impl Deref for FrameRef<'_> {
    type Target = Frame;
    fn deref(&self) -> &Frame {
        &self.frame
    }
}

/// A frame with exactly one owner and no mapping: its bytes can be borrowed as a slice. It
/// becomes a shareable `Frame` with `into_frame` (never the other way round).
pub struct UniqueFrame(Frame);

impl UniqueFrame {
    /// A new frame, its contents whatever the last owner left there.
    pub fn alloc() -> Option<UniqueFrame> {
        Frame::alloc().map(UniqueFrame)
    }

    pub fn alloc_zeroed() -> Option<UniqueFrame> {
        Frame::alloc_zeroed().map(UniqueFrame)
    }

    pub fn as_bytes(&self) -> &[u8; PAGE_BYTES] {
        // SAFETY: the only reference to the frame is this value (never cloned, never mapped),
        // so the borrow of `self` is the only access for its duration.
        unsafe { &*(self.0.ptr() as *const [u8; PAGE_BYTES]) }
    }

    pub fn as_bytes_mut(&mut self) -> &mut [u8; PAGE_BYTES] {
        // SAFETY: as for `as_bytes`, with `self` borrowed mutably.
        unsafe { &mut *(self.0.ptr() as *mut [u8; PAGE_BYTES]) }
    }

    pub fn paddr(&self) -> PhysAddr {
        self.0.paddr()
    }

    pub fn into_frame(self) -> Frame {
        self.0
    }

    /// As `Frame::into_raw` (page tables keep their own table frames this way).
    pub(super) fn into_raw(self) -> u64 {
        self.0.into_raw()
    }
}
