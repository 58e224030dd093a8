//! User address spaces: a page table plus the list of mappings (VMAs). Memory is filled on first
//! touch: anonymous pages are zeroed, file and shared pages come from their `PageSource`. fork
//! shares private pages copy-on-write and shared pages as they are.

use alloc::collections::BTreeMap;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicUsize, Ordering};

use bitflags::bitflags;

use super::frame::{self, Frame, PAGE_SIZE};
use super::page_table::*;
use super::shared::PageSource;
use crate::arch::USER_END;
use crate::error::{Errno, Result};

bitflags! {
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct Prot: u32 {
        const READ = 1;
        const WRITE = 2;
        const EXEC = 4;
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VmaName {
    None,
    Heap,
    Stack,
}

/// What a mapping's pages are.
#[derive(Clone)]
pub enum Backing {
    /// Private zero-filled memory.
    Anonymous,
    /// The source's pages themselves (MAP_SHARED); `pgoff` is the source page at `start`.
    Shared { source: Arc<dyn PageSource>, pgoff: u64 },
    /// Private copies of the source's pages, made on first touch (MAP_PRIVATE of a file).
    Private { source: Arc<dyn PageSource>, pgoff: u64 },
}

#[derive(Clone)]
pub struct Vma {
    pub start: u64,
    pub end: u64,
    pub prot: Prot,
    /// What mprotect may grant (a shared mapping of a read-only file never becomes writable).
    pub max_prot: Prot,
    pub name: VmaName,
    pub backing: Backing,
    /// For /proc/<pid>/maps: (device, inode, path) of a file mapping.
    pub file: Option<(u64, u64, alloc::string::String)>,
    /// VM_LOCKED (mlock, mlockall, MAP_LOCKED): counted against RLIMIT_MEMLOCK. Pages are never
    /// swapped here, so locking is that accounting plus populating the pages.
    pub locked: bool,
}

impl Vma {
    pub fn is_shared(&self) -> bool {
        matches!(self.backing, Backing::Shared { .. })
    }

    /// The backing with its page offset moved to start at `addr` within this VMA.
    fn backing_at(&self, addr: u64) -> Backing {
        let delta = (addr - self.start) / PAGE_SIZE;
        match &self.backing {
            Backing::Anonymous => Backing::Anonymous,
            Backing::Shared { source, pgoff } => {
                Backing::Shared { source: source.clone(), pgoff: pgoff + delta }
            }
            Backing::Private { source, pgoff } => {
                Backing::Private { source: source.clone(), pgoff: pgoff + delta }
            }
        }
    }

    pub fn pgoff(&self) -> u64 {
        match &self.backing {
            Backing::Anonymous => 0,
            Backing::Shared { pgoff, .. } | Backing::Private { pgoff, .. } => *pgoff,
        }
    }
}

#[derive(Clone, Copy)]
pub struct Access {
    pub write: bool,
    pub exec: bool,
}

/// Why a fault could not be resolved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultError {
    /// No mapping there: SIGSEGV (SEGV_MAPERR).
    Segv,
    /// A mapping that forbids this access: SIGSEGV (SEGV_ACCERR).
    Denied,
    /// The mapping's object has no page there (beyond the end of a file): SIGBUS.
    Bus,
    OutOfMemory,
}

/// vm.max_map_count: the most VMAs an address space may have (Linux's default).
pub const DEFAULT_MAX_MAP_COUNT: usize = 65530;
static MAX_MAP_COUNT: AtomicUsize = AtomicUsize::new(DEFAULT_MAX_MAP_COUNT);

pub fn max_map_count() -> usize {
    MAX_MAP_COUNT.load(Ordering::Relaxed)
}

/// /proc/sys/vm/max_map_count (root writes it; Linux takes any int >= 0).
pub fn set_max_map_count(n: usize) {
    MAX_MAP_COUNT.store(n, Ordering::Relaxed);
}

/// What one more VMA may take from the heap (itself and its share of a tree node): checked
/// before every insert, so splitting a mapping many times ends in ENOMEM, not a heap panic.
const VMA_HEAP_BYTES: usize = 2 * core::mem::size_of::<Vma>() + 32;

/// What the process layer does when a page fault finds no free frame (the OOM killer): given
/// the faulting address space's resident and mapped pages (that space is locked by the fault),
/// it kills a process; true if it freed memory the fault may retry with, false if the faulting
/// process itself was chosen (or none).
pub type OomHandler = fn(faulting_resident: usize, faulting_total: u64) -> bool;
static OOM_HANDLER: spin::Once<OomHandler> = spin::Once::new();

pub fn set_oom_handler(f: OomHandler) {
    OOM_HANDLER.call_once(|| f);
}

/// Lowest address mmap hands out.
const MMAP_MIN: u64 = 0x10000;
pub const STACK_TOP: u64 = 0x7fff_ffff_f000;
pub const STACK_SIZE: u64 = 8 << 20;
const MMAP_TOP: u64 = STACK_TOP - STACK_SIZE - (1 << 30);
/// Linux's TASK_SIZE: the largest length (and end) mremap accepts.
const TASK_SIZE: u64 = USER_END - PAGE_SIZE;

pub fn page_floor(x: u64) -> u64 {
    x & !(PAGE_SIZE - 1)
}

pub fn page_ceil(x: u64) -> Option<u64> {
    x.checked_add(PAGE_SIZE - 1).map(page_floor)
}

/// Linux's heuristic overcommit (vm.overcommit_memory = 0): one request for private writable
/// memory larger than all of RAM fails with ENOMEM.
fn overcommit_ok(len: u64, prot: Prot, backing: &Backing) -> bool {
    matches!(backing, Backing::Shared { .. })
        || !prot.contains(Prot::WRITE)
        || len / PAGE_SIZE <= frame::total_frames() as u64
}

fn pte_flags(prot: Prot) -> u64 {
    let mut f = PTE_PRESENT | PTE_USER;
    if prot.contains(Prot::WRITE) {
        f |= PTE_WRITABLE;
    }
    if !prot.contains(Prot::EXEC) {
        f |= PTE_NX;
    }
    f
}

/// How mmap chooses the address.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// Anywhere; the hint is used if that range is free.
    Hint(u64),
    /// Exactly there, replacing what is mapped (MAP_FIXED).
    Fixed(u64),
    /// Exactly there, EEXIST if anything is mapped (MAP_FIXED_NOREPLACE).
    FixedNoReplace(u64),
}

pub struct AddressSpace {
    pt: PageTable,
    vmas: BTreeMap<u64, Vma>,
    pub brk_start: u64,
    pub brk: u64,
    /// mlockall(MCL_FUTURE): new mappings are locked (Linux's def_flags VM_LOCKED).
    pub lock_future: bool,
    /// RLIMIT_MEMLOCK in pages for this address space's owner, None if exempt (root), as set by
    /// the process layer before each mlock-family call or locked mapping.
    pub memlock_limit: Option<u64>,
    /// membarrier(2) registrations of this address space (MEMBARRIER_CMD_REGISTER_* bits):
    /// copied by fork, none in execve's new space, as Linux's mm.
    pub membarrier: u32,
}

impl AddressSpace {
    pub fn new() -> Result<Self> {
        let pt = PageTable::new_user(super::kernel_page_table()).ok_or(Errno::ENOMEM)?;
        Ok(AddressSpace {
            pt,
            vmas: BTreeMap::new(),
            brk_start: 0,
            brk: 0,
            lock_future: false,
            memlock_limit: None,
            membarrier: 0,
        })
    }

    pub fn activate(&self) {
        self.pt.activate();
    }

    pub fn root(&self) -> PageTableRoot {
        self.pt.root()
    }

    pub fn vmas(&self) -> impl Iterator<Item = &Vma> {
        self.vmas.values()
    }

    pub fn find(&self, addr: u64) -> Option<&Vma> {
        self.vmas.range(..=addr).next_back().map(|(_, v)| v).filter(|v| addr < v.end)
    }

    /// The VMAs meeting [start, end), found from the one containing `start` (not by walking
    /// every VMA below it: a process may have tens of thousands).
    fn overlapping(&self, start: u64, end: u64) -> impl Iterator<Item = &Vma> {
        let first = self
            .vmas
            .range(..=start)
            .next_back()
            .filter(|(_, v)| v.end > start)
            .map_or(start, |(&s, _)| s);
        self.vmas.range(first..end.max(first)).map(|(_, v)| v).filter(move |v| v.end > start)
    }

    fn overlaps(&self, start: u64, end: u64) -> bool {
        self.vmas.range(..end).next_back().is_some_and(|(_, v)| v.end > start)
    }

    /// How many VMAs would have to be split to make `start` and `end` boundaries.
    fn splits_needed(&self, start: u64, end: u64) -> usize {
        [start, end]
            .iter()
            .filter(|&&a| self.vmas.range(..a).next_back().is_some_and(|(_, v)| v.end > a))
            .count()
    }

    /// ENOMEM unless `more` VMAs fit: within vm.max_map_count (Linux's split_vma rule: a split
    /// needs map_count < max) and in the heap.
    fn room_for(&self, more: usize) -> Result<()> {
        if more == 0 {
            return Ok(());
        }
        if self.vmas.len() + more > max_map_count() {
            return Err(Errno::ENOMEM);
        }
        super::fallible::ensure_room(more * VMA_HEAP_BYTES)
    }

    /// Inserts a new VMA: Linux's mmap refuses once map_count exceeds vm.max_map_count.
    fn insert_new(&mut self, vma: Vma) -> Result<()> {
        if self.vmas.len() > max_map_count() {
            return Err(Errno::ENOMEM);
        }
        super::fallible::ensure_room(VMA_HEAP_BYTES)?;
        self.vmas.insert(vma.start, vma);
        Ok(())
    }

    /// Number of VMAs (/proc/<pid>/maps lines).
    pub fn map_count(&self) -> usize {
        self.vmas.len()
    }

    /// Makes `addr` a VMA boundary if a VMA spans it. Callers check `room_for` first.
    fn split_at(&mut self, addr: u64) {
        let Some((_, v)) = self.vmas.range_mut(..addr).next_back() else { return };
        if v.end > addr {
            let mut upper = v.clone();
            upper.backing = v.backing_at(addr);
            upper.start = addr;
            v.end = addr;
            self.vmas.insert(addr, upper);
        }
    }

    /// Highest free gap of `len` bytes below MMAP_TOP.
    fn find_free(&self, len: u64) -> Option<u64> {
        let mut top = MMAP_TOP;
        for (_, v) in self.vmas.range(..MMAP_TOP).rev() {
            if v.end <= top && top - v.end >= len {
                return Some(top - len);
            }
            top = top.min(v.start);
        }
        (top >= MMAP_MIN + len).then(|| top - len)
    }

    fn place(&mut self, placement: Placement, len: u64) -> Result<u64> {
        match placement {
            Placement::Fixed(a) | Placement::FixedNoReplace(a) => {
                if !a.is_multiple_of(PAGE_SIZE) {
                    return Err(Errno::EINVAL);
                }
                if a.checked_add(len).is_none_or(|e| e > USER_END) {
                    return Err(Errno::ENOMEM);
                }
                if self.overlaps(a, a + len) {
                    if matches!(placement, Placement::FixedNoReplace(_)) {
                        return Err(Errno::EEXIST);
                    }
                    self.unmap(a, len)?;
                }
                Ok(a)
            }
            Placement::Hint(h) => {
                let h = page_floor(h);
                if h >= MMAP_MIN
                    && h.checked_add(len).is_some_and(|e| e <= USER_END)
                    && !self.overlaps(h, h + len)
                {
                    Ok(h)
                } else {
                    self.find_free(len).ok_or(Errno::ENOMEM)
                }
            }
        }
    }

    /// Creates a mapping of `len` bytes; returns its address.
    pub fn map(
        &mut self,
        placement: Placement,
        len: u64,
        prot: Prot,
        backing: Backing,
    ) -> Result<u64> {
        let len = page_ceil(len).ok_or(Errno::ENOMEM)?;
        if len == 0 || len > USER_END || !overcommit_ok(len, prot, &backing) {
            return Err(Errno::ENOMEM);
        }
        if self.vmas.len() > max_map_count() {
            return Err(Errno::ENOMEM);
        }
        let start = self.place(placement, len)?;
        self.insert_new(Vma {
            start,
            end: start + len,
            prot,
            max_prot: Prot::all(),
            name: VmaName::None,
            backing,
            file: None,
            locked: false,
        })?;
        Ok(start)
    }

    /// Anonymous private memory (the common case).
    pub fn map_anonymous(&mut self, placement: Placement, len: u64, prot: Prot) -> Result<u64> {
        self.map(placement, len, prot, Backing::Anonymous)
    }

    pub fn set_vma_name(&mut self, start: u64, name: VmaName) {
        if let Some(v) = self.vmas.get_mut(&start) {
            v.name = name;
        }
    }

    pub fn set_vma_max_prot(&mut self, start: u64, max: Prot) {
        if let Some(v) = self.vmas.get_mut(&start) {
            v.max_prot = max;
        }
    }

    /// After a file shrank: drop every mapped page of (dev, ino) wholly beyond `size`, so the
    /// next touch faults and gets SIGBUS (or the new page after the file grows again).
    pub fn drop_file_pages_beyond(&mut self, dev: u64, ino: u64, size: u64) {
        let first_gone = size.div_ceil(PAGE_SIZE);
        let ranges: Vec<(u64, u64)> = self
            .vmas
            .values()
            .filter(|v| v.file.as_ref().is_some_and(|f| f.0 == dev && f.1 == ino))
            .filter_map(|v| {
                let pgoff = v.pgoff();
                let pages = (v.end - v.start) / PAGE_SIZE;
                if pgoff + pages <= first_gone {
                    return None;
                }
                let from = v.start + first_gone.saturating_sub(pgoff) * PAGE_SIZE;
                Some((from, v.end))
            })
            .collect();
        for (s, e) in ranges {
            self.drop_pages(s, e);
        }
    }

    pub fn set_vma_file(&mut self, start: u64, file: (u64, u64, alloc::string::String)) {
        if let Some(v) = self.vmas.get_mut(&start) {
            v.file = Some(file);
        }
    }

    /// Drops the pages in [start, end) from the page table (the VMAs stay).
    fn drop_pages(&mut self, start: u64, end: u64) {
        let mut unmapped = Unmapped::new(self.pt.root_paddr());
        self.pt.for_each_present(start, end, |va, e| {
            let taken = e.take();
            flush(va);
            unmapped.push(taken);
        });
    }

    /// Removes every mapping in [start, start+len) and releases their frames.
    pub fn unmap(&mut self, start: u64, len: u64) -> Result<()> {
        let end = start.checked_add(len).and_then(page_ceil).ok_or(Errno::EINVAL)?;
        if !start.is_multiple_of(PAGE_SIZE) || len == 0 || end > USER_END {
            return Err(Errno::EINVAL);
        }
        // Linux's munmap: cutting a hole in one VMA needs a free slot under max_map_count.
        if self.splits_needed(start, end) == 2
            && self.vmas.range(..start).next_back().is_some_and(|(_, v)| v.end >= end)
        {
            self.room_for(1)?;
        } else {
            super::fallible::ensure_room(2 * VMA_HEAP_BYTES)?;
        }
        self.split_at(start);
        self.split_at(end);
        let doomed: Vec<u64> = self.vmas.range(start..end).map(|(&s, _)| s).collect();
        for s in doomed {
            self.vmas.remove(&s);
        }
        self.drop_pages(start, end);
        Ok(())
    }

    /// Is [start, end) covered by mappings without holes?
    fn fully_mapped(&self, start: u64, end: u64) -> bool {
        let mut cursor = start;
        for v in self.overlapping(start, end) {
            if v.end <= cursor {
                continue;
            }
            if v.start > cursor {
                return false;
            }
            cursor = v.end;
        }
        cursor >= end
    }

    /// Changes the protection of [start, start+len), which must be fully mapped.
    pub fn protect(&mut self, start: u64, len: u64, prot: Prot) -> Result<()> {
        if !start.is_multiple_of(PAGE_SIZE) {
            return Err(Errno::EINVAL);
        }
        let end = start.checked_add(len).and_then(page_ceil).ok_or(Errno::ENOMEM)?;
        if end > USER_END {
            return Err(Errno::ENOMEM);
        }
        if len == 0 {
            return Ok(());
        }
        if !self.fully_mapped(start, end) {
            return Err(Errno::ENOMEM);
        }
        if self.overlapping(start, end).any(|v| !v.max_prot.contains(prot)) {
            return Err(Errno::EACCES);
        }
        self.room_for(self.splits_needed(start, end))?;
        self.split_at(start);
        self.split_at(end);
        for (_, v) in self.vmas.range_mut(start..end) {
            v.prot = prot;
        }
        let flags = pte_flags(prot);
        self.pt.for_each_present(start, end, |va, e| {
            let mut f = flags;
            if e.flags() & PTE_COW != 0 {
                f = (f & !PTE_WRITABLE) | PTE_COW;
            }
            e.set_flags(f);
            flush(va);
        });
        self.pt.shootdown();
        Ok(())
    }

    /// MADV_DONTNEED: the range reads back as zeros (private) or as the object (shared).
    pub fn discard(&mut self, start: u64, len: u64) -> Result<()> {
        let end = start.checked_add(len).and_then(page_ceil).ok_or(Errno::EINVAL)?;
        if !start.is_multiple_of(PAGE_SIZE) || end > USER_END {
            return Err(Errno::EINVAL);
        }
        if !self.fully_mapped(start, end) {
            return Err(Errno::ENOMEM);
        }
        self.drop_pages(start, end);
        Ok(())
    }

    /// mremap: resizes the mapping at `old` (which must be one VMA), moving it if allowed.
    /// The checks and their order are Linux's (mm/mremap.c): every length is bounded by the
    /// size of user space before any address arithmetic, a fixed destination may not overlap
    /// the source, and a shrink unmaps the tail without looking at what is mapped there.
    pub fn remap(
        &mut self,
        old: u64,
        old_len: u64,
        new_len: u64,
        may_move: bool,
        fixed: Option<u64>,
    ) -> Result<u64> {
        if !old.is_multiple_of(PAGE_SIZE) {
            return Err(Errno::EINVAL);
        }
        let old_len = page_ceil(old_len).ok_or(Errno::EINVAL)?;
        let new_len = page_ceil(new_len).ok_or(Errno::EINVAL)?;
        if new_len == 0 || new_len > TASK_SIZE {
            return Err(Errno::EINVAL);
        }
        if let Some(d) = fixed {
            if !d.is_multiple_of(PAGE_SIZE) || d > TASK_SIZE - new_len {
                return Err(Errno::EINVAL);
            }
            // Overlapping ranges: old_len is clamped so the sum cannot wrap (a source that
            // long fails below anyway).
            if old.saturating_add(old_len) > d && d + new_len > old {
                return Err(Errno::EINVAL);
            }
        } else if new_len <= old_len {
            if new_len < old_len {
                self.unmap(old.checked_add(new_len).ok_or(Errno::EINVAL)?, old_len - new_len)?;
            }
            return Ok(old);
        }
        let vma = self.find(old).cloned().ok_or(Errno::EFAULT)?;
        if old_len == 0 && !vma.is_shared() {
            return Err(Errno::EINVAL);
        }
        if old_len > vma.end - old {
            return Err(Errno::EFAULT);
        }
        if new_len > old_len && !overcommit_ok(new_len - old_len, vma.prot, &vma.backing) {
            return Err(Errno::ENOMEM);
        }
        if fixed.is_none() {
            // Grow in place when the pages after it are free (new_len <= TASK_SIZE, so the
            // sum stays inside the address space).
            let grow_end = old + new_len;
            if old_len != 0
                && old + old_len == vma.end
                && grow_end <= USER_END
                && !self.overlaps(vma.end, grow_end)
            {
                self.vmas.get_mut(&vma.start).expect("vma").end = grow_end;
                return Ok(old);
            }
            if !may_move {
                return Err(Errno::ENOMEM);
            }
        }
        if old_len == 0 {
            // A shared mapping with old_len 0: a second mapping of the same pages; the first
            // stays.
            let dest = match fixed {
                Some(d) => self.place(Placement::Fixed(d), new_len)?,
                None => self.find_free(new_len).ok_or(Errno::ENOMEM)?,
            };
            let backing = vma.backing_at(old);
            self.insert_new(Vma { start: dest, end: dest + new_len, backing, ..vma })?;
            return Ok(dest);
        }
        let dest = match fixed {
            Some(d) => self.place(Placement::Fixed(d), new_len)?,
            None => self.find_free(new_len).ok_or(Errno::ENOMEM)?,
        };
        // Move the VMA and its present pages.
        self.room_for(self.splits_needed(old, old + old_len) + 1)?;
        super::fallible::ensure_room(8 * 1024)?;
        self.split_at(old);
        self.split_at(old + old_len);
        let moved = self.vmas.remove(&old).expect("vma at old");
        let keep = old_len.min(new_len);
        let mut present = 0;
        self.pt.for_each_present(old, old + keep, |_, _| present += 1);
        let mut pages = super::fallible::try_vec(present)?;
        self.pt.for_each_present(old, old + keep, |va, e| {
            pages.extend(e.take().map(|(frame, flags)| (va - old, frame, flags)));
            flush(va);
        });
        self.pt.shootdown();
        self.drop_pages(old + keep, old + old_len);
        for (off, frame, flags) in pages {
            let slot = self.pt.entry_or_create(dest + off, PTE_USER).ok_or(Errno::ENOMEM)?;
            slot.set(frame, flags);
        }
        let backing = moved.backing_at(old);
        self.vmas.insert(dest, Vma { start: dest, end: dest + new_len, backing, ..moved });
        Ok(dest)
    }

    /// Resolves a page fault at `addr`. When no frame is free, the OOM killer chooses a
    /// process to kill; if that frees memory, the fault is tried again.
    pub fn handle_fault(
        &mut self,
        addr: u64,
        access: Access,
    ) -> core::result::Result<(), FaultError> {
        match self.handle_fault_once(addr, access) {
            Err(FaultError::OutOfMemory) => {
                let handler = OOM_HANDLER.get().ok_or(FaultError::OutOfMemory)?;
                if handler(self.resident_pages(), self.total_pages()) {
                    self.handle_fault_once(addr, access)
                } else {
                    Err(FaultError::OutOfMemory)
                }
            }
            r => r,
        }
    }

    fn handle_fault_once(
        &mut self,
        addr: u64,
        access: Access,
    ) -> core::result::Result<(), FaultError> {
        let vma = self.find(addr).ok_or(FaultError::Segv)?;
        let prot = vma.prot;
        let allowed = if access.write {
            prot.contains(Prot::WRITE)
        } else if access.exec {
            prot.contains(Prot::EXEC)
        } else {
            !prot.is_empty()
        };
        if !allowed {
            return Err(FaultError::Denied);
        }
        let va = page_floor(addr);
        let index = (va - vma.start) / PAGE_SIZE;
        let backing = vma.backing.clone();
        let entry = self.pt.entry_or_create(va, PTE_USER).ok_or(FaultError::OutOfMemory)?;
        if !entry.is_present() {
            let frame = match backing {
                Backing::Anonymous => Frame::alloc_zeroed().ok_or(FaultError::OutOfMemory)?,
                Backing::Shared { source, pgoff } => {
                    source.page(pgoff + index).ok_or(FaultError::Bus)?
                }
                Backing::Private { source, pgoff } => {
                    let src = source.page(pgoff + index).ok_or(FaultError::Bus)?;
                    if !access.write {
                        // Share the file's page until the first write copies it, so writes
                        // to the file stay visible until then (as in Linux).
                        entry.set(src, (pte_flags(prot) & !PTE_WRITABLE) | PTE_COW);
                        flush(va);
                        return Ok(());
                    }
                    let copy = Frame::alloc().ok_or(FaultError::OutOfMemory)?;
                    copy.copy_from(&src);
                    copy
                }
            };
            entry.set(frame, pte_flags(prot));
        } else if access.write && entry.flags() & PTE_COW != 0 {
            // The last sharer keeps the frame; otherwise write to a copy (the entry's reference
            // to the shared frame goes when the copy takes its place).
            let copy = match entry.frame() {
                Some(old) if old.ref_count() != 1 => {
                    let copy = Frame::alloc().ok_or(FaultError::OutOfMemory)?;
                    copy.copy_from(&old);
                    Some(copy)
                }
                _ => None,
            };
            match copy {
                Some(copy) => entry.set(copy, pte_flags(prot)),
                None => entry.set_flags(pte_flags(prot)),
            }
        }
        flush(va);
        // A copy-on-write break: other CPUs running this address space may still translate
        // the page to the shared frame, read-only; they must see the copy.
        self.pt.shootdown();
        Ok(())
    }

    /// A copy for fork: shared mappings keep their frames, private ones become copy-on-write
    /// in both address spaces.
    pub fn fork(&mut self) -> Result<AddressSpace> {
        // The VMA tree and the list below are copied in the heap.
        super::fallible::ensure_room(self.vmas.len() * (VMA_HEAP_BYTES + 24))?;
        let mut child = AddressSpace::new()?;
        child.brk_start = self.brk_start;
        child.brk = self.brk;
        // membarrier registrations survive fork (Linux's dup_mm), not execve.
        child.membarrier = self.membarrier;
        for (&s, v) in &self.vmas {
            // Memory locks are not inherited by a fork child (Linux's dup_mmap).
            child.vmas.insert(s, Vma { locked: false, ..v.clone() });
        }
        let mut failed = false;
        let vmas: Vec<(u64, u64, bool)> =
            self.vmas.values().map(|v| (v.start, v.end, v.is_shared())).collect();
        for (start, end, shared) in vmas {
            let child_pt = &mut child.pt;
            self.pt.for_each_present(start, end, |va, e| {
                // Every private page becomes copy-on-write, writable or not: a later mprotect
                // must not make a shared frame writable.
                if !shared {
                    e.set_flags((e.flags() & !PTE_WRITABLE) | PTE_COW);
                }
                match child_pt.entry_or_create(va, PTE_USER) {
                    Some(slot) => {
                        let frame = e.frame().expect("present entry");
                        slot.set(frame.clone(), e.flags());
                    }
                    None => failed = true,
                }
            });
        }
        // The parent's writable entries just became read-only (on every CPU running it).
        self.pt.flush_all();
        self.pt.shootdown();
        if failed {
            return Err(Errno::ENOMEM);
        }
        Ok(child)
    }

    /// Sets the program break; returns the new break (the old one if the request fails).
    pub fn set_brk(&mut self, new: u64) -> u64 {
        if new < self.brk_start {
            return self.brk;
        }
        let (Some(old_end), Some(new_end)) = (page_ceil(self.brk), page_ceil(new)) else {
            return self.brk;
        };
        if new_end > old_end {
            let len = new_end - old_end;
            if new_end > MMAP_TOP
                || self.overlaps(old_end, new_end)
                || !overcommit_ok(len, Prot::WRITE, &Backing::Anonymous)
                || (self.lock_future && !self.memlock_ok(len / PAGE_SIZE))
            {
                return self.brk;
            }
            let vma = Vma {
                start: old_end,
                end: new_end,
                prot: Prot::READ | Prot::WRITE,
                max_prot: Prot::all(),
                name: VmaName::Heap,
                backing: Backing::Anonymous,
                file: None,
                locked: self.lock_future,
            };
            if self.insert_new(vma).is_err() {
                return self.brk;
            }
            if self.lock_future {
                let _ = self.populate(old_end, new_end);
            }
        } else if new_end < old_end && self.unmap(new_end, old_end - new_end).is_err() {
            return self.brk;
        }
        self.brk = new;
        self.brk
    }

    /// Writes `data` at `va` through the direct map (allocating pages), whether or not this
    /// address space is active. For building a new image (ELF segments, the initial stack).
    pub fn write_bytes(&mut self, mut va: u64, mut data: &[u8]) -> Result<()> {
        while !data.is_empty() {
            let page = page_floor(va);
            let off = (va - page) as usize;
            let n = data.len().min(PAGE_SIZE as usize - off);
            self.frame_for_write(page)?.write(off, &data[..n]);
            va += n as u64;
            data = &data[n..];
        }
        Ok(())
    }

    /// Copies from `va` into `buf` on behalf of another process (process_vm_readv): readable
    /// mappings only, pages faulted in. Returns the bytes copied before the first address
    /// that cannot be read.
    pub fn read_as_peer(&mut self, mut va: u64, buf: &mut [u8]) -> usize {
        let mut done = 0;
        while done < buf.len() {
            let page = page_floor(va);
            if !self.find(page).is_some_and(|v| v.prot.contains(Prot::READ)) {
                break;
            }
            if self.pt.entry(page).is_none_or(|e| !e.is_present())
                && self.handle_fault(page, Access { write: false, exec: false }).is_err()
            {
                break;
            }
            let Some(frame) = self.pt.entry(page).and_then(|e| e.frame()) else { break };
            let off = (va - page) as usize;
            let n = (buf.len() - done).min(PAGE_SIZE as usize - off);
            frame.read(off, &mut buf[done..done + n]);
            done += n;
            va += n as u64;
        }
        done
    }

    /// Copies `data` to `va` on behalf of another process (process_vm_writev): writable
    /// mappings only, pages faulted in and unshared. Returns the bytes copied.
    pub fn write_as_peer(&mut self, mut va: u64, data: &[u8]) -> usize {
        let mut done = 0;
        while done < data.len() {
            let page = page_floor(va);
            if !self.find(page).is_some_and(|v| v.prot.contains(Prot::WRITE)) {
                break;
            }
            let off = (va - page) as usize;
            let n = (data.len() - done).min(PAGE_SIZE as usize - off);
            match self.frame_for_write(page) {
                Ok(frame) => frame.write(off, &data[done..done + n]),
                Err(_) => break,
            }
            done += n;
            va += n as u64;
        }
        done
    }

    /// Copies `data` to `va` for a debugger (ptrace's POKETEXT/POKEDATA, Linux's FOLL_FORCE):
    /// a private mapping takes the write even where the program may not write (a breakpoint
    /// in its text), on a copy of its own if the page is shared; a shared mapping only where
    /// it is writable. Returns the bytes copied.
    pub fn write_as_debugger(&mut self, mut va: u64, data: &[u8]) -> usize {
        let mut done = 0;
        while done < data.len() {
            let page = page_floor(va);
            let Some(vma) = self.find(page) else { break };
            let (prot, shared) = (vma.prot, matches!(vma.backing, Backing::Shared { .. }));
            if shared && !prot.contains(Prot::WRITE) {
                break;
            }
            if self.pt.entry(page).is_none_or(|e| !e.is_present())
                && self.handle_fault(page, Access { write: false, exec: false }).is_err()
            {
                break;
            }
            let Some(entry) = self.pt.entry_or_create(page, PTE_USER) else { break };
            if entry.flags() & PTE_COW != 0 {
                // Unshare as a write fault would, keeping the mapping's own protection.
                let copy = match entry.frame() {
                    Some(old) if old.ref_count() != 1 => match Frame::alloc() {
                        Some(copy) => {
                            copy.copy_from(&old);
                            Some(copy)
                        }
                        None => break,
                    },
                    _ => None,
                };
                match copy {
                    Some(copy) => entry.set(copy, pte_flags(prot)),
                    None => entry.set_flags(pte_flags(prot)),
                }
                flush(page);
            }
            let Some(frame) = self.pt.entry(page).and_then(|e| e.frame()) else { break };
            let off = (va - page) as usize;
            let n = (data.len() - done).min(PAGE_SIZE as usize - off);
            frame.write(off, &data[done..done + n]);
            done += n;
            va += n as u64;
        }
        done
    }

    /// The frame at `page`, faulted in and unshared, borrowed from its page-table entry.
    fn frame_for_write(&mut self, page: u64) -> Result<frame::FrameRef<'_>> {
        if self.pt.entry(page).is_none_or(|e| !e.is_present()) {
            self.handle_fault(page, Access { write: false, exec: false })
                .map_err(|_| Errno::EFAULT)?;
        }
        if self.pt.entry(page).is_some_and(|e| e.flags() & PTE_COW != 0) {
            // Break the sharing first: the other address space must not see this write.
            self.handle_fault(page, Access { write: true, exec: false })
                .map_err(|_| Errno::EFAULT)?;
        }
        self.pt.entry(page).and_then(|e| e.frame()).ok_or(Errno::EFAULT)
    }

    /// Frees everything in user space.
    pub fn clear(&mut self) {
        self.vmas.clear();
        self.pt.clear_user();
    }

    // ---- mlock: RLIMIT_MEMLOCK accounting and population ----

    /// Pages in locked VMAs (Linux's mm->locked_vm), overall or within [start, end).
    pub fn locked_pages(&self, start: u64, end: u64) -> u64 {
        self.overlapping(start, end)
            .filter(|v| v.locked)
            .map(|v| (v.end.min(end) - v.start.max(start)) / PAGE_SIZE)
            .sum()
    }

    /// Would `more` newly locked pages stay within RLIMIT_MEMLOCK (`memlock_limit`)?
    pub fn memlock_ok(&self, more: u64) -> bool {
        self.memlock_limit
            .is_none_or(|limit| self.locked_pages(0, USER_END).saturating_add(more) <= limit)
    }

    /// Faults in every page of [start, end) that is not present, as Linux's __mm_populate
    /// (writable private pages with a write fault, so they are the process's own). ENOMEM for
    /// a hole, EAGAIN when memory runs out (mlock's errors).
    pub fn populate(&mut self, start: u64, end: u64) -> Result<()> {
        let mut va = start;
        while va < end {
            let v = self.find(va).ok_or(Errno::ENOMEM)?;
            let (prot, vend, shared) = (v.prot, v.end.min(end), v.is_shared());
            if prot.is_empty() {
                va = vend;
                continue;
            }
            let write = prot.contains(Prot::WRITE) && !shared;
            while va < vend {
                let present = self.pt.entry(va).is_some_and(|e| e.is_present());
                let cow = self.pt.entry(va).is_some_and(|e| e.flags() & PTE_COW != 0);
                if !present || (write && cow) {
                    match self.handle_fault(va, Access { write, exec: false }) {
                        Ok(()) | Err(FaultError::Bus) => {}
                        Err(FaultError::OutOfMemory) => return Err(Errno::EAGAIN),
                        Err(_) => return Err(Errno::ENOMEM),
                    }
                }
                va += PAGE_SIZE;
            }
        }
        Ok(())
    }

    /// mlock/munlock of [start, end) (page-aligned): sets or clears VM_LOCKED on the VMAs
    /// there, which must cover it without holes (ENOMEM), within RLIMIT_MEMLOCK (ENOMEM), then
    /// populates a locked range unless `on_fault` (MLOCK_ONFAULT).
    pub fn mlock(&mut self, start: u64, end: u64, lock: bool, on_fault: bool) -> Result<()> {
        if end > USER_END || !self.fully_mapped(start, end) {
            return Err(Errno::ENOMEM);
        }
        if lock {
            let more = (end - start) / PAGE_SIZE - self.locked_pages(start, end);
            if !self.memlock_ok(more) {
                return Err(Errno::ENOMEM);
            }
        }
        self.room_for(self.splits_needed(start, end))?;
        self.split_at(start);
        self.split_at(end);
        for (_, v) in self.vmas.range_mut(start..end) {
            v.locked = lock;
        }
        if lock && !on_fault {
            self.populate(start, end)?;
        }
        Ok(())
    }

    /// mlockall: locks every mapping (MCL_CURRENT; ENOMEM beyond RLIMIT_MEMLOCK) and/or the
    /// future ones (MCL_FUTURE).
    pub fn mlock_all(&mut self, current: bool, future: bool, on_fault: bool) -> Result<()> {
        if current {
            let total: u64 = self.vmas.values().map(|v| (v.end - v.start) / PAGE_SIZE).sum();
            if self.memlock_limit.is_some_and(|limit| total > limit) {
                return Err(Errno::ENOMEM);
            }
        }
        self.lock_future = future;
        if current {
            for v in self.vmas.values_mut() {
                v.locked = true;
            }
            if !on_fault {
                let ranges: Vec<(u64, u64)> = {
                    let mut r = super::fallible::try_vec(self.vmas.len())?;
                    r.extend(self.vmas.values().map(|v| (v.start, v.end)));
                    r
                };
                for (s, e) in ranges {
                    self.populate(s, e)?;
                }
            }
        }
        Ok(())
    }

    /// munlockall: nothing locked, now or later.
    pub fn munlock_all(&mut self) {
        self.lock_future = false;
        for v in self.vmas.values_mut() {
            v.locked = false;
        }
    }

    /// A new mapping at [start, start+len) is to be locked (MAP_LOCKED, or after
    /// mlockall(MCL_FUTURE)): EAGAIN beyond RLIMIT_MEMLOCK (Linux's mlock_future_ok).
    pub fn lock_new_mapping(&mut self, start: u64, len: u64) -> Result<()> {
        let end = start + page_ceil(len).unwrap_or(len);
        if !self.memlock_ok((end - start) / PAGE_SIZE) {
            return Err(Errno::EAGAIN);
        }
        if let Some(v) = self.vmas.get_mut(&start) {
            v.locked = true;
        }
        // Population failures are not mmap's (Linux ignores them too).
        let _ = self.populate(start, end);
        Ok(())
    }

    /// Total size of the mappings in pages (Linux's total_vm).
    pub fn total_pages(&self) -> u64 {
        self.vmas.values().map(|v| (v.end - v.start) / PAGE_SIZE).sum()
    }

    /// Pages present (resident) in [start, end), for /proc.
    pub fn resident_pages(&self) -> usize {
        self.pt.count_present(0, USER_END)
    }
}

// Dropping an AddressSpace drops its PageTable, which releases every page, table and the root.

/// Frames just unmapped from a table that other CPUs may still reach through stale TLB
/// entries: they are freed only after a shootdown, in batches (one IPI round per batch).
struct Unmapped {
    root: u64,
    frames: [Option<(Frame, u64)>; 32],
    count: usize,
}

impl Unmapped {
    fn new(root: u64) -> Self {
        Unmapped { root, frames: [const { None }; 32], count: 0 }
    }

    fn push(&mut self, taken: Option<(Frame, u64)>) {
        if self.count == self.frames.len() {
            self.release();
        }
        self.frames[self.count] = taken;
        self.count += 1;
    }

    fn release(&mut self) {
        shootdown_root(self.root);
        for slot in &mut self.frames[..self.count] {
            drop(slot.take());
        }
        self.count = 0;
    }
}

impl Drop for Unmapped {
    fn drop(&mut self) {
        self.release();
    }
}
