//! Memory management: physical frames, the kernel heap, page tables, user address spaces and the
//! checked user-memory API.

pub mod fallible;
pub mod frame;
pub mod heap;
pub mod io;
pub mod page_table;
pub mod shared;
pub mod user;
pub mod virtio;
pub mod vm;

use crate::arch::boot::BootInfo;
use crate::arch::{KERNEL_BASE, PHYS_OFFSET};
use core::sync::atomic::{AtomicBool, Ordering};
use frame::PAGE_SIZE;
use page_table::{PageTable, PTE_GLOBAL, PTE_NX, PTE_UNCACHED, PTE_WRITABLE};
use spin::Once;

pub fn phys_to_virt(pa: u64) -> u64 {
    PHYS_OFFSET + pa
}

static KERNEL_PT: Once<PageTable> = Once::new();

/// The kernel's own page table: the kernel half every table shares, and no user half.
pub fn kernel_page_table() -> &'static PageTable {
    KERNEL_PT.get().expect("mm initialised")
}

/// Physical ranges still free during boot, carved from the front.
struct BootRanges {
    ranges: [(u64, u64); 40],
    count: usize,
}

impl BootRanges {
    fn take(&mut self, size: u64, below: u64) -> Option<u64> {
        for r in self.ranges[..self.count].iter_mut() {
            if r.1 - r.0 >= size && r.0 + size <= below {
                let pa = r.0;
                r.0 += size;
                return Some(pa);
            }
        }
        None
    }

    /// Removes [start, end), widened to whole pages, from every range.
    fn reserve(&mut self, start: u64, end: u64) {
        let (start, end) = (start & !(PAGE_SIZE - 1), (end + PAGE_SIZE - 1) & !(PAGE_SIZE - 1));
        let mut out = [(0, 0); 40];
        let mut n = 0;
        for &(s, e) in &self.ranges[..self.count] {
            for piece in [(s, e.min(start)), (s.max(end), e)] {
                if piece.0 < piece.1 && n < out.len() {
                    out[n] = piece;
                    n += 1;
                }
            }
        }
        self.ranges = out;
        self.count = n;
    }
}

extern "C" {
    static __kernel_start: u8;
    static __kernel_end: u8;
}

const BOOT_MAPPED: u64 = 1 << 30;

/// Builds the kernel's own page tables (a direct map of all RAM, the image at -2 GiB), the frame
/// allocator and the heap. Boot memory below 1 MiB, the image and the initramfs stay reserved.
pub fn init(boot: &BootInfo) {
    let mut free = BootRanges { ranges: [(0, 0); 40], count: 0 };
    let mut max_phys = 0;
    for &(s, e) in boot.ram() {
        let (s, e) = ((s + PAGE_SIZE - 1) & !(PAGE_SIZE - 1), e & !(PAGE_SIZE - 1));
        if s < e && free.count < free.ranges.len() {
            free.ranges[free.count] = (s, e);
            free.count += 1;
            max_phys = max_phys.max(e);
        }
    }
    let image = (
        &raw const __kernel_start as u64 - KERNEL_BASE,
        &raw const __kernel_end as u64 - KERNEL_BASE,
    );
    free.reserve(0, 0x10_0000);
    free.reserve(image.0, image.1);
    free.reserve(boot.initrd().0, boot.initrd().1);

    // Reference counts, carved from memory the boot tables already map.
    let table_bytes = (max_phys / PAGE_SIZE) * 4;
    let table_size = (table_bytes + PAGE_SIZE - 1) & !(PAGE_SIZE - 1);
    let refcounts = free.take(table_size, BOOT_MAPPED).expect("memory for frame reference counts");
    // SAFETY: just carved out of free RAM below 1 GiB, mapped by the boot tables; nothing else
    // uses it.
    unsafe { core::ptr::write_bytes(phys_to_virt(refcounts) as *mut u8, 0, table_size as usize) };

    // The heap: an eighth of RAM, between 16 and 256 MiB, in one piece.
    let heap_size = (max_phys / 8).clamp(16 << 20, 256 << 20) & !(PAGE_SIZE - 1);
    let heap = free.take(heap_size, u64::MAX).expect("memory for the kernel heap");

    // Frames above 1 GiB are only reachable once our page tables map them, so hand the frame
    // allocator the low ranges first, build the tables, then add the rest.
    let mut low = BootRanges { ranges: [(0, 0); 40], count: 0 };
    let mut high = BootRanges { ranges: [(0, 0); 40], count: 0 };
    for &(s, e) in &free.ranges[..free.count] {
        for (set, piece) in
            [(&mut low, (s, e.min(BOOT_MAPPED))), (&mut high, (s.max(BOOT_MAPPED), e))]
        {
            if piece.0 < piece.1 {
                set.ranges[set.count] = piece;
                set.count += 1;
            }
        }
    }
    frame::init(refcounts, max_phys, &low.ranges[..low.count]);

    let mut kpt = PageTable::new_kernel().expect("kernel page table");
    let huge = 2 << 20;
    let mut pa = 0;
    while pa < max_phys {
        kpt.map_huge(PHYS_OFFSET + pa, pa, PTE_WRITABLE | PTE_GLOBAL | PTE_NX).expect("direct map");
        pa += huge;
    }
    let mut pa = 0;
    while pa < (image.1 + huge - 1) & !(huge - 1) {
        kpt.map_huge(KERNEL_BASE + pa, pa, PTE_WRITABLE | PTE_GLOBAL).expect("kernel image map");
        pa += huge;
    }
    // The 32-bit PCI hole, where the firmware puts device BARs: uncached, never executable,
    // in the direct map at the same offset as RAM (mm/virtio.rs maps BAR addresses there).
    let mut pa = virtio::MMIO_WINDOW.0;
    while pa < virtio::MMIO_WINDOW.1 {
        let ram = boot.ram().iter().any(|&(s, e)| s < pa + huge && pa < e);
        if !ram {
            kpt.map_huge(PHYS_OFFSET + pa, pa, PTE_WRITABLE | PTE_GLOBAL | PTE_NX | PTE_UNCACHED)
                .expect("device memory map");
        }
        pa += huge;
    }
    // Global pages need CR4.PGE.
    crate::arch::cpu::enable_global_pages();
    kpt.activate();
    KERNEL_PT.call_once(|| kpt);

    for &(s, e) in &high.ranges[..high.count] {
        frame::add_range(s, e);
    }
    heap::init(phys_to_virt(heap), heap_size);
}

static INITRD_RELEASED: AtomicBool = AtomicBool::new(false);

/// Lends the initramfs bytes to `f`, then returns their frames to the allocator. The bytes
/// cannot outlive `f`; a second call sees none.
pub fn with_initrd<R>(boot: &BootInfo, f: impl FnOnce(&[u8]) -> R) -> R {
    let (s, e) = boot.initrd();
    if e <= s || INITRD_RELEASED.swap(true, Ordering::AcqRel) {
        return f(&[]);
    }
    // SAFETY: the initramfs range is reserved (not given to the frame allocator) until the
    // `add_range` below, which happens once, after `f` is done with the borrow; the direct map
    // covers it.
    let bytes =
        unsafe { core::slice::from_raw_parts(phys_to_virt(s) as *const u8, (e - s) as usize) };
    let result = f(bytes);
    frame::add_range(s, e);
    result
}

/// Loads the page table rooted at `root` (a user address space's or the kernel's).
pub fn switch_page_table(root: &page_table::PageTableRoot) {
    root.activate();
}
