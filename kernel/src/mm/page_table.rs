//! x86-64 four-level page tables, reached through the direct map. A present leaf entry of a user
//! page table owns one reference to its frame: `Pte::set` moves a `Frame` into the entry, `take`
//! moves it out, `frame` borrows it. The tables themselves are frames the `PageTable` owns; the
//! root (with the kernel half shared by every table) goes when the `PageTable` is dropped.

use super::frame::{Frame, FrameRef, UniqueFrame};
use super::phys_to_virt;
use crate::arch::cpu;
use crate::arch::percpu::{cpu_id, online_cpus, MAX_CPUS};
use core::sync::atomic::{fence, AtomicU64, Ordering};

pub const PTE_PRESENT: u64 = 1 << 0;
pub const PTE_WRITABLE: u64 = 1 << 1;
pub const PTE_USER: u64 = 1 << 2;
pub const PTE_HUGE: u64 = 1 << 7;
/// Write-through and cache-disable (PWT | PCD): device memory.
pub const PTE_UNCACHED: u64 = (1 << 3) | (1 << 4);
pub const PTE_GLOBAL: u64 = 1 << 8;
/// Software bit: a read-only entry of a writable mapping whose frame is shared copy-on-write.
pub const PTE_COW: u64 = 1 << 9;
pub const PTE_NX: u64 = 1 << 63;
pub const PTE_ADDR: u64 = 0x000f_ffff_ffff_f000;

const ENTRIES: usize = 512;

/// One page-table entry. A present leaf entry owns a reference to its frame.
#[repr(transparent)]
pub struct Pte(u64);

impl Pte {
    pub fn is_present(&self) -> bool {
        self.0 & PTE_PRESENT != 0
    }

    /// The flag bits (everything but the address).
    pub fn flags(&self) -> u64 {
        self.0 & !PTE_ADDR
    }

    /// The frame this present entry maps, borrowed from the entry.
    pub fn frame(&self) -> Option<FrameRef<'_>> {
        // SAFETY: a present leaf entry owns one reference (given up by `Frame::into_raw` in
        // `set`), which stays owned while the entry is borrowed.
        self.is_present().then(|| unsafe { Frame::borrow_raw(self.0 & PTE_ADDR) })
    }

    /// Maps `frame` with `flags` (PTE_PRESENT among them), the entry taking over its reference;
    /// a frame mapped before is released.
    pub fn set(&mut self, frame: Frame, flags: u64) {
        drop(self.take());
        self.0 = frame.into_raw() | (flags & !PTE_ADDR);
    }

    /// Changes the flags of a present entry, keeping its frame.
    pub fn set_flags(&mut self, flags: u64) {
        debug_assert!(flags & PTE_PRESENT != 0);
        self.0 = (self.0 & PTE_ADDR) | (flags & !PTE_ADDR);
    }

    /// Empties the entry; its frame's reference, with the flags, goes to the caller.
    pub fn take(&mut self) -> Option<(Frame, u64)> {
        if !self.is_present() {
            return None;
        }
        let (pa, flags) = (self.0 & PTE_ADDR, self.flags());
        self.0 = 0;
        // SAFETY: the reference this present entry owned, given up by `set`, and now cleared.
        Some((unsafe { Frame::from_raw(pa) }, flags))
    }
}

type Table = [Pte; ENTRIES];

/// The table in frame `pa`.
///
/// # Safety
/// `pa` is a page-table frame of a live `PageTable` (or the kernel's), and the caller does not
/// let two returned references to one table overlap in time.
unsafe fn table<'a>(pa: u64) -> &'a mut Table {
    // SAFETY: per the contract; the direct map covers every frame and `Pte` is a transparent u64.
    unsafe { &mut *(phys_to_virt(pa) as *mut Table) }
}

/// A new zeroed table frame, owned from now on by the entry that points at it.
fn new_table() -> Option<u64> {
    Some(UniqueFrame::alloc_zeroed()?.into_raw())
}

fn index(va: u64, level: u32) -> usize {
    ((va >> (12 + 9 * level)) & 0x1ff) as usize
}

/// A four-level page table. Every one shares the kernel half of the kernel's; a user table also
/// owns its user half (tables and leaf references) and is freed when dropped.
pub struct PageTable {
    root: u64,
}

impl PageTable {
    /// The kernel's table, with no user half (built once at boot, never dropped).
    pub(super) fn new_kernel() -> Option<Self> {
        Some(PageTable { root: new_table()? })
    }

    /// A new table sharing the kernel half of `kernel`.
    pub(super) fn new_user(kernel: &PageTable) -> Option<Self> {
        let root = new_table()?;
        // SAFETY: `root` is ours and fresh; `kernel.root` is the kernel's live table; they are
        // distinct frames.
        let (src, dst) = unsafe { (table(kernel.root), table(root)) };
        for (d, s) in dst[256..].iter_mut().zip(&src[256..]) {
            d.0 = s.0;
        }
        Some(PageTable { root })
    }

    /// A handle on the root, for loading this table later (a thread's page table).
    pub fn root(&self) -> PageTableRoot {
        // SAFETY: `self.root` is the root's reference, owned by `self`, which is borrowed.
        PageTableRoot(unsafe { Frame::borrow_raw(self.root) }.clone())
    }

    /// The leaf entry for `va`, if its tables exist.
    pub(super) fn entry(&self, va: u64) -> Option<&Pte> {
        let mut pa = self.root;
        for level in (1..4).rev() {
            // SAFETY: `pa` is one of our tables; only this shared borrow of `self` is live.
            let e = unsafe { table(pa) }[index(va, level)].0;
            if e & PTE_PRESENT == 0 || e & PTE_HUGE != 0 {
                return None;
            }
            pa = e & PTE_ADDR;
        }
        // SAFETY: as above; the entry is borrowed for as long as `self`.
        Some(&unsafe { table(pa) }[index(va, 0)])
    }

    /// The leaf entry for `va`, creating intermediate tables (`None` when out of memory).
    pub(super) fn entry_or_create(&mut self, va: u64, table_flags: u64) -> Option<&mut Pte> {
        let mut pa = self.root;
        for level in (1..4).rev() {
            // SAFETY: `pa` is one of our tables; `self` is borrowed mutably.
            let slot = &mut unsafe { table(pa) }[index(va, level)];
            if slot.0 & PTE_PRESENT == 0 {
                slot.0 = new_table()? | PTE_PRESENT | PTE_WRITABLE | table_flags;
            }
            pa = slot.0 & PTE_ADDR;
        }
        // SAFETY: as above; the entry is borrowed for as long as `self` is.
        Some(&mut unsafe { table(pa) }[index(va, 0)])
    }

    /// Maps a 2 MiB page (kernel direct map only).
    pub(super) fn map_huge(&mut self, va: u64, pa: u64, flags: u64) -> Option<()> {
        let mut t = self.root;
        for level in (2..4).rev() {
            // SAFETY: `t` is one of our tables; `self` is borrowed mutably.
            let slot = &mut unsafe { table(t) }[index(va, level)];
            if slot.0 & PTE_PRESENT == 0 {
                slot.0 = new_table()? | PTE_PRESENT | PTE_WRITABLE;
            }
            t = slot.0 & PTE_ADDR;
        }
        // SAFETY: as above.
        let t = unsafe { table(t) };
        t[index(va, 1)].0 = pa | flags | PTE_HUGE | PTE_PRESENT;
        Some(())
    }

    /// Calls `f(va, entry)` for every present leaf entry in user space [start, end).
    pub(super) fn for_each_present(
        &mut self,
        start: u64,
        end: u64,
        mut f: impl FnMut(u64, &mut Pte),
    ) {
        walk(self.root, 3, 0, start, end, &mut f);
    }

    /// How many leaf entries in [start, end) are present.
    pub(super) fn count_present(&self, start: u64, end: u64) -> usize {
        let mut n = 0;
        walk(self.root, 3, 0, start, end, &mut |_, _| n += 1);
        n
    }

    /// Releases every leaf reference and every table of the user half.
    pub(super) fn clear_user(&mut self) {
        fn free(pa: u64, level: u32) {
            // SAFETY: `pa` is a table of ours being torn down; nothing else borrows it.
            for e in unsafe { table(pa) }.iter_mut() {
                if level > 0 {
                    if e.is_present() {
                        free(e.0 & PTE_ADDR, level - 1);
                        e.0 = 0;
                    }
                } else {
                    drop(e.take());
                }
            }
            // SAFETY: the table frame's own reference, given up by `new_table`.
            drop(unsafe { Frame::from_raw(pa) });
        }
        // SAFETY: our root; the recursion touches only tables below it.
        for e in unsafe { table(self.root) }[..256].iter_mut() {
            if e.is_present() {
                free(e.0 & PTE_ADDR, 2);
                e.0 = 0;
            }
        }
    }

    /// Flushes this table's TLB entries if it is the active one.
    pub fn flush_all(&self) {
        let cr3 = cpu::read_cr3();
        if cr3 == self.root {
            // SAFETY: reloading the active root keeps every mapping.
            unsafe { cpu::write_cr3(cr3) };
        }
    }

    /// After a change that may leave stale entries (an entry removed, made less permissive
    /// or pointed at another frame): flushes the TLB of every other CPU that has this table
    /// loaded, and waits until each has. The caller flushed its own (`flush`).
    pub fn shootdown(&self) {
        shootdown_root(self.root);
    }

    /// The physical address of the root, for `shootdown_root` while the table is borrowed.
    pub(super) fn root_paddr(&self) -> u64 {
        self.root
    }

    pub fn activate(&self) {
        // SAFETY: our own root, alive while `self` is.
        unsafe { activate_root(self.root) }
    }
}

impl Drop for PageTable {
    /// Only user tables are ever dropped (the kernel's lives in a static).
    fn drop(&mut self) {
        self.clear_user();
        // SAFETY: the root's reference, given up by `new_table`; no entry points at it.
        drop(unsafe { Frame::from_raw(self.root) });
    }
}

/// The root each CPU has loaded last through `activate_root` (TLB shootdown targets): a CPU
/// caches translations only of the table it has loaded (no PCIDs: a CR3 load flushes the
/// non-global entries), so these are the CPUs that may hold stale ones.
static LOADED: [AtomicU64; MAX_CPUS] = [const { AtomicU64::new(0) }; MAX_CPUS];

/// `PageTable::shootdown` for the table rooted at `root`.
pub(super) fn shootdown_root(root: u64) {
    // The change to the table is ordered before the look at who has it loaded, as a CPU's
    // record of a root is before its load (`activate_root`).
    fence(Ordering::SeqCst);
    let me = cpu_id();
    let cpus = (0..online_cpus())
        .filter(|&c| c != me && LOADED[c].load(Ordering::SeqCst) == root)
        .fold(0u64, |m, c| m | 1 << c);
    if cpus != 0 {
        crate::arch::smp::flush_tlb_on(cpus);
    }
}

/// Loads the table rooted at `root` unless it is the active one.
///
/// # Safety
/// `root` is the root frame of a page table that maps the kernel half as every table does, and
/// stays allocated while loaded.
unsafe fn activate_root(root: u64) {
    // Recorded before the load, so that a shootdown that misses it finds the new tables.
    LOADED[cpu_id()].store(root, Ordering::SeqCst);
    if cpu::read_cr3() != root {
        // SAFETY: per the contract.
        unsafe { cpu::write_cr3(root) };
    }
}

/// What a thread keeps to load its page table when it runs: a reference to the root frame, so
/// the frame outlives every holder. Once its `PageTable` is dropped the root's user half is
/// empty (`clear_user`) and the kernel half is as in every table, so loading a stale root is
/// harmless: it maps the kernel and nothing else.
#[derive(Clone)]
pub struct PageTableRoot(Frame);

impl PageTableRoot {
    /// Loads this table unless it is the active one.
    pub fn activate(&self) {
        // SAFETY: the frame is a PageTable's root (only `PageTable::root` makes one), kept
        // allocated by our reference; its kernel half is the kernel's and its user half valid
        // or empty (see the type's comment).
        unsafe { activate_root(self.0.paddr().as_u64()) }
    }
}

fn walk(pa: u64, level: u32, base: u64, start: u64, end: u64, f: &mut impl FnMut(u64, &mut Pte)) {
    let span = 1u64 << (12 + 9 * level);
    // SAFETY: `pa` is a table of the PageTable the caller borrows; one level is borrowed at a
    // time down the recursion, each a different frame.
    let t = unsafe { table(pa) };
    for (i, e) in t.iter_mut().enumerate() {
        let va = base + i as u64 * span;
        if va >= end || va + span <= start || !e.is_present() {
            continue;
        }
        if level == 0 {
            f(va, e);
        } else {
            walk(e.0 & PTE_ADDR, level - 1, va, start, end, f);
        }
    }
}

pub fn flush(va: u64) {
    cpu::invlpg(va);
}
