//! x86-64 four-level page tables, reached through the direct map. Leaf entries of user page
//! tables each own one reference to their frame (managed by `vm`); this module only walks and
//! edits entries.

use super::frame;
use super::phys_to_virt;
use crate::arch::cpu;

pub const PTE_PRESENT: u64 = 1 << 0;
pub const PTE_WRITABLE: u64 = 1 << 1;
pub const PTE_USER: u64 = 1 << 2;
pub const PTE_HUGE: u64 = 1 << 7;
pub const PTE_GLOBAL: u64 = 1 << 8;
/// Software bit: a read-only entry of a writable mapping whose frame is shared copy-on-write.
pub const PTE_COW: u64 = 1 << 9;
pub const PTE_NX: u64 = 1 << 63;
pub const PTE_ADDR: u64 = 0x000f_ffff_ffff_f000;

const ENTRIES: usize = 512;

fn table(pa: u64) -> &'static mut [u64; ENTRIES] {
    // SAFETY: `pa` is a page-table frame owned by a PageTable; the direct map covers it.
    unsafe { &mut *(phys_to_virt(pa) as *mut [u64; ENTRIES]) }
}

fn index(va: u64, level: u32) -> usize {
    ((va >> (12 + 9 * level)) & 0x1ff) as usize
}

pub struct PageTable {
    root: u64,
}

impl PageTable {
    /// Adopts an existing root (the kernel's).
    pub(super) fn from_root(root: u64) -> Self {
        PageTable { root }
    }

    /// A new table sharing the kernel half of `kernel`.
    pub fn new_user(kernel: &PageTable) -> Option<Self> {
        let root = frame::alloc_zeroed()?;
        let src = table(kernel.root);
        let dst = table(root);
        dst[256..].copy_from_slice(&src[256..]);
        Some(PageTable { root })
    }

    pub fn root(&self) -> u64 {
        self.root
    }

    /// The leaf entry for `va`, if its tables exist.
    pub fn entry(&self, va: u64) -> Option<&'static mut u64> {
        let mut pa = self.root;
        for level in (1..4).rev() {
            let e = table(pa)[index(va, level)];
            if e & PTE_PRESENT == 0 || e & PTE_HUGE != 0 {
                return None;
            }
            pa = e & PTE_ADDR;
        }
        Some(&mut table(pa)[index(va, 0)])
    }

    /// The leaf entry for `va`, creating intermediate tables (`None` when out of memory).
    pub fn entry_or_create(&mut self, va: u64, table_flags: u64) -> Option<&'static mut u64> {
        let mut pa = self.root;
        for level in (1..4).rev() {
            let slot = &mut table(pa)[index(va, level)];
            if *slot & PTE_PRESENT == 0 {
                let new = frame::alloc_zeroed()?;
                *slot = new | PTE_PRESENT | PTE_WRITABLE | table_flags;
            }
            pa = *slot & PTE_ADDR;
        }
        Some(&mut table(pa)[index(va, 0)])
    }

    /// Maps a 2 MiB page (kernel direct map only).
    pub(super) fn map_huge(&mut self, va: u64, pa: u64, flags: u64) -> Option<()> {
        let mut t = self.root;
        for level in (2..4).rev() {
            let slot = &mut table(t)[index(va, level)];
            if *slot & PTE_PRESENT == 0 {
                let new = frame::alloc_zeroed()?;
                *slot = new | PTE_PRESENT | PTE_WRITABLE;
            }
            t = *slot & PTE_ADDR;
        }
        table(t)[index(va, 1)] = pa | flags | PTE_HUGE | PTE_PRESENT;
        Some(())
    }

    /// Calls `f(va, entry)` for every present leaf entry in user space [start, end).
    pub fn for_each_present(&self, start: u64, end: u64, mut f: impl FnMut(u64, &mut u64)) {
        self.walk(self.root, 3, 0, start, end, &mut f);
    }

    fn walk(
        &self,
        pa: u64,
        level: u32,
        base: u64,
        start: u64,
        end: u64,
        f: &mut impl FnMut(u64, &mut u64),
    ) {
        let span = 1u64 << (12 + 9 * level);
        let t = table(pa);
        for (i, e) in t.iter_mut().enumerate() {
            let va = base + i as u64 * span;
            if va >= end || va + span <= start || *e & PTE_PRESENT == 0 {
                continue;
            }
            if level == 0 {
                f(va, e);
            } else {
                self.walk(*e & PTE_ADDR, level - 1, va, start, end, f);
            }
        }
    }

    /// Frees the user half's tables (leaf frames must already be released).
    pub fn free_user_tables(&mut self) {
        fn free(pa: u64, level: u32) {
            if level > 0 {
                for e in table(pa).iter() {
                    if e & PTE_PRESENT != 0 {
                        free(e & PTE_ADDR, level - 1);
                    }
                }
            }
            frame::put(pa);
        }
        let root = table(self.root);
        for e in root[..256].iter_mut() {
            if *e & PTE_PRESENT != 0 {
                free(*e & PTE_ADDR, 2);
                *e = 0;
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

    pub fn activate(&self) {
        if cpu::read_cr3() != self.root {
            // SAFETY: every PageTable shares the kernel half.
            unsafe { cpu::write_cr3(self.root) };
        }
    }
}

pub fn flush(va: u64) {
    cpu::invlpg(va);
}
