//! User address spaces: a page table plus the list of mappings (VMAs). Anonymous memory is
//! allocated on first touch; nothing is copied or zeroed before it is needed.

use alloc::collections::BTreeMap;

use bitflags::bitflags;

use super::frame::{self, PAGE_SIZE};
use super::page_table::*;
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

#[derive(Clone, Debug)]
pub struct Vma {
    pub start: u64,
    pub end: u64,
    pub prot: Prot,
    pub name: VmaName,
}

#[derive(Clone, Copy)]
pub struct Access {
    pub write: bool,
    pub exec: bool,
}

/// Lowest address mmap hands out, and where top-down placement starts.
const MMAP_MIN: u64 = 0x10000;
pub const STACK_TOP: u64 = 0x7fff_ffff_f000;
pub const STACK_SIZE: u64 = 8 << 20;
const MMAP_TOP: u64 = STACK_TOP - STACK_SIZE - (1 << 30);

pub fn page_floor(x: u64) -> u64 {
    x & !(PAGE_SIZE - 1)
}

pub fn page_ceil(x: u64) -> Option<u64> {
    x.checked_add(PAGE_SIZE - 1).map(page_floor)
}

pub struct AddressSpace {
    pt: PageTable,
    vmas: BTreeMap<u64, Vma>,
    pub brk_start: u64,
    pub brk: u64,
}

/// Linux's heuristic overcommit (vm.overcommit_memory = 0): one request for private writable
/// memory larger than all of RAM fails with ENOMEM.
fn overcommit_ok(len: u64, prot: Prot) -> bool {
    !prot.contains(Prot::WRITE) || len / PAGE_SIZE <= frame::total_frames() as u64
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

impl AddressSpace {
    pub fn new() -> Result<Self> {
        let pt = PageTable::new_user(&super::kernel_page_table()).ok_or(Errno::ENOMEM)?;
        Ok(AddressSpace { pt, vmas: BTreeMap::new(), brk_start: 0, brk: 0 })
    }

    pub fn activate(&self) {
        self.pt.activate();
    }

    pub fn root(&self) -> u64 {
        self.pt.root()
    }

    pub fn vmas(&self) -> impl Iterator<Item = &Vma> {
        self.vmas.values()
    }

    fn find(&self, addr: u64) -> Option<&Vma> {
        self.vmas.range(..=addr).next_back().map(|(_, v)| v).filter(|v| addr < v.end)
    }

    fn overlaps(&self, start: u64, end: u64) -> bool {
        self.vmas.range(..end).next_back().is_some_and(|(_, v)| v.end > start)
    }

    /// Makes `addr` a VMA boundary if a VMA spans it.
    fn split_at(&mut self, addr: u64) {
        let Some((&s, v)) = self.vmas.range_mut(..addr).next_back() else { return };
        if v.end > addr {
            let mut upper = v.clone();
            v.end = addr;
            upper.start = addr;
            let _ = s;
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

    /// Maps anonymous zero-filled memory. `fixed` replaces what is there; `noreplace` fails with
    /// EEXIST instead; otherwise `hint` is used if free, else the kernel picks the address.
    pub fn map_anonymous(&mut self, hint: u64, len: u64, prot: Prot, fixed: bool, noreplace: bool) -> Result<u64> {
        let len = page_ceil(len).ok_or(Errno::ENOMEM)?;
        if len == 0 || len > USER_END || !overcommit_ok(len, prot) {
            return Err(Errno::ENOMEM);
        }
        let start = if fixed || noreplace {
            if hint % PAGE_SIZE != 0 {
                return Err(Errno::EINVAL);
            }
            if hint.checked_add(len).is_none_or(|e| e > USER_END) {
                return Err(Errno::ENOMEM);
            }
            if self.overlaps(hint, hint + len) {
                if noreplace {
                    return Err(Errno::EEXIST);
                }
                self.unmap(hint, len)?;
            }
            hint
        } else {
            let hint = page_floor(hint);
            if hint >= MMAP_MIN && hint.checked_add(len).is_some_and(|e| e <= USER_END) && !self.overlaps(hint, hint + len) {
                hint
            } else {
                self.find_free(len).ok_or(Errno::ENOMEM)?
            }
        };
        self.vmas.insert(start, Vma { start, end: start + len, prot, name: VmaName::None });
        Ok(start)
    }

    pub fn name_vma(&mut self, start: u64, name: VmaName) {
        if let Some(v) = self.vmas.get_mut(&start) {
            v.name = name;
        }
    }

    /// Removes every mapping in [start, start+len) and releases their frames.
    pub fn unmap(&mut self, start: u64, len: u64) -> Result<()> {
        let end = page_ceil(start.checked_add(len).ok_or(Errno::EINVAL)?).ok_or(Errno::EINVAL)?;
        if start % PAGE_SIZE != 0 || len == 0 || end > USER_END {
            return Err(Errno::EINVAL);
        }
        self.split_at(start);
        self.split_at(end);
        let doomed: alloc::vec::Vec<u64> = self.vmas.range(start..end).map(|(&s, _)| s).collect();
        for s in doomed {
            self.vmas.remove(&s);
        }
        self.pt.for_each_present(start, end, |va, e| {
            frame::put(*e & PTE_ADDR);
            *e = 0;
            flush(va);
        });
        Ok(())
    }

    /// Changes the protection of [start, start+len), which must be fully mapped.
    pub fn protect(&mut self, start: u64, len: u64, prot: Prot) -> Result<()> {
        if start % PAGE_SIZE != 0 {
            return Err(Errno::EINVAL);
        }
        let end = page_ceil(start.checked_add(len).ok_or(Errno::ENOMEM)?).ok_or(Errno::ENOMEM)?;
        if end > USER_END {
            return Err(Errno::ENOMEM);
        }
        if len == 0 {
            return Ok(());
        }
        let mut cursor = start;
        for (_, v) in self.vmas.range(..end) {
            if v.end <= cursor {
                continue;
            }
            if v.start > cursor {
                return Err(Errno::ENOMEM);
            }
            cursor = v.end;
        }
        if cursor < end {
            return Err(Errno::ENOMEM);
        }
        self.split_at(start);
        self.split_at(end);
        for (_, v) in self.vmas.range_mut(start..end) {
            v.prot = prot;
        }
        let flags = pte_flags(prot);
        self.pt.for_each_present(start, end, |va, e| {
            let mut f = flags;
            if *e & PTE_COW != 0 {
                f = (f & !PTE_WRITABLE) | PTE_COW;
            }
            *e = (*e & PTE_ADDR) | f;
            flush(va);
        });
        Ok(())
    }

    /// Resolves a page fault at `addr`. Err means the access is not allowed (SIGSEGV / EFAULT).
    pub fn handle_fault(&mut self, addr: u64, access: Access) -> core::result::Result<(), ()> {
        let vma = self.find(addr).ok_or(())?;
        let prot = vma.prot;
        let allowed = if access.write {
            prot.contains(Prot::WRITE)
        } else if access.exec {
            prot.contains(Prot::EXEC)
        } else {
            !prot.is_empty()
        };
        if !allowed {
            return Err(());
        }
        let va = page_floor(addr);
        let entry = self.pt.entry_or_create(va, PTE_USER).ok_or(())?;
        if *entry & PTE_PRESENT == 0 {
            let pa = frame::alloc_zeroed().ok_or(())?;
            *entry = pa | pte_flags(prot);
        } else if access.write && *entry & PTE_COW != 0 {
            let old = *entry & PTE_ADDR;
            let pa = if frame::refs(old) == 1 {
                old
            } else {
                let new = frame::alloc().ok_or(())?;
                frame::bytes(new).copy_from_slice(frame::bytes(old));
                frame::put(old);
                new
            };
            *entry = pa | pte_flags(prot);
        } else {
            // Present and allowed: another path already resolved it (or a stale TLB entry).
        }
        flush(va);
        Ok(())
    }

    /// Sets the program break; returns the new break (the old one if the request fails).
    pub fn set_brk(&mut self, new: u64) -> u64 {
        if new < self.brk_start {
            return self.brk;
        }
        let (Some(old_end), Some(new_end)) = (page_ceil(self.brk), page_ceil(new)) else { return self.brk };
        if new_end > old_end {
            if new_end > MMAP_TOP
                || self.overlaps(old_end, new_end)
                || !overcommit_ok(new_end - old_end, Prot::WRITE)
            {
                return self.brk;
            }
            self.vmas.insert(old_end, Vma { start: old_end, end: new_end, prot: Prot::READ | Prot::WRITE, name: VmaName::Heap });
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
            let pa = self.frame_for_write(page)?;
            frame::bytes(pa)[off..off + n].copy_from_slice(&data[..n]);
            va += n as u64;
            data = &data[n..];
        }
        Ok(())
    }

    fn frame_for_write(&mut self, page: u64) -> Result<u64> {
        if self.pt.entry(page).is_none_or(|e| *e & PTE_PRESENT == 0) {
            self.handle_fault(page, Access { write: false, exec: false }).map_err(|_| Errno::EFAULT)?;
        }
        let e = self.pt.entry(page).ok_or(Errno::EFAULT)?;
        Ok(*e & PTE_ADDR)
    }

    /// Frees everything in user space.
    pub fn clear(&mut self) {
        self.vmas.clear();
        self.pt.for_each_present(0, USER_END, |_, e| {
            frame::put(*e & PTE_ADDR);
            *e = 0;
        });
        self.pt.free_user_tables();
    }
}

impl Drop for AddressSpace {
    fn drop(&mut self) {
        self.clear();
        frame::put(self.pt.root());
    }
}
