//! The boot stub: QEMU enters `_start32` through the PVH note in 32-bit protected mode with paging
//! off and `%ebx` pointing at `hvm_start_info`. The stub clears .bss, builds boot page tables that
//! map the first GiB three ways (identity, the direct map at PHYS_OFFSET, and the kernel image at
//! -2 GiB), turns on SSE, long mode, `syscall` and NX, and calls `kernel_entry(start_info_paddr)`.

use core::arch::global_asm;

global_asm!(
    r#"
    .set KVMA, 0xffffffff80000000

    .section .note.pvh, "a"
    .p2align 2
    .long 4
    .long 8
    .long 18
    .asciz "Xen"
    .p2align 2
    .quad _start32 - KVMA

    .section .boot.text, "ax"
    .code32
    .global _start32
_start32:
    cli
    cld
    movl %ebx, %esi

    /* zero .bss (it holds the boot stack and page tables) */
    movl $(__bss_start - KVMA), %edi
    movl $(__bss_end - KVMA), %ecx
    subl %edi, %ecx
    xorl %eax, %eax
    rep stosb

    movl $(boot_stack_top - KVMA), %esp

    /* boot_pd: 512 x 2 MiB pages covering physical 0..1 GiB */
    movl $(boot_pd - KVMA), %edi
    movl $0x83, %eax            /* present | writable | huge */
    xorl %ecx, %ecx
1:  movl %eax, (%edi,%ecx,8)
    movl $0, 4(%edi,%ecx,8)
    addl $0x200000, %eax
    incl %ecx
    cmpl $512, %ecx
    jne 1b

    movl $(boot_pd - KVMA + 3), %eax
    movl %eax, (boot_pdpt_low - KVMA)
    movl %eax, (boot_pdpt_high - KVMA + 510 * 8)
    movl $(boot_pdpt_low - KVMA + 3), %eax
    movl %eax, (boot_pml4 - KVMA)
    movl %eax, (boot_pml4 - KVMA + 256 * 8)
    movl $(boot_pdpt_high - KVMA + 3), %eax
    movl %eax, (boot_pml4 - KVMA + 511 * 8)

    /* CR4: PAE | OSFXSR | OSXMMEXCPT */
    movl %cr4, %eax
    orl $((1 << 5) | (1 << 9) | (1 << 10)), %eax
    movl %eax, %cr4

    movl $(boot_pml4 - KVMA), %eax
    movl %eax, %cr3

    /* EFER: SCE | LME | NXE */
    movl $0xC0000080, %ecx
    rdmsr
    orl $((1 << 0) | (1 << 8) | (1 << 11)), %eax
    wrmsr

    /* CR0: PG | WP | NE | MP, clear EM and TS */
    movl %cr0, %eax
    andl $~((1 << 2) | (1 << 3)), %eax
    orl $((1 << 31) | (1 << 16) | (1 << 5) | (1 << 1)), %eax
    movl %eax, %cr0

    lgdt (boot_gdtr - KVMA)
    ljmp $0x08, $(start64_low - KVMA)

    .code64
start64_low:
    movabsq $start64_high, %rax
    jmp *%rax

start64_high:
    movw $0x10, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    xorw %ax, %ax
    movw %ax, %fs
    movw %ax, %gs
    movabsq $boot_stack_top, %rsp
    xorl %ebp, %ebp
    movl %esi, %edi
    fninit
    call kernel_entry
2:  hlt
    jmp 2b

    .section .rodata
    .p2align 3
boot_gdt:
    .quad 0
    .quad 0x00af9a000000ffff    /* 0x08: 64-bit code */
    .quad 0x00cf92000000ffff    /* 0x10: data */
boot_gdt_end:
boot_gdtr:
    .word boot_gdt_end - boot_gdt - 1
    .long boot_gdt - KVMA

    .section .bss.boot, "aw", @nobits
    .p2align 12
    .global boot_pml4
boot_pml4:      .skip 4096
boot_pdpt_low:  .skip 4096
boot_pdpt_high: .skip 4096
boot_pd:        .skip 4096
    .p2align 4
    .global boot_stack, boot_stack_top
boot_stack:     .skip 65536
boot_stack_top:
    "#,
    options(att_syntax)
);

/// What the boot protocol tells us, copied out of `hvm_start_info` before its memory is reused.
/// Only `kernel_entry` makes one, so the ranges are the firmware's (`mm` trusts them).
pub struct BootInfo {
    /// Usable RAM as (start, end) physical ranges.
    ram: [(u64, u64); 32],
    ram_count: usize,
    /// The initramfs, as a physical range (empty if none).
    initrd: (u64, u64),
    cmdline: [u8; 1024],
    cmdline_len: usize,
    /// The ACPI RSDP's physical address (0 if the loader gave none).
    rsdp: u64,
}

const HVM_START_MAGIC: u32 = 0x336e_c578;

/// # Safety
/// `paddr..paddr + size_of::<T>()` is boot-protocol memory below 1 GiB, and any bit pattern is a
/// valid `T` (integers only).
pub(super) unsafe fn read_phys<T: Copy>(paddr: u64) -> T {
    // SAFETY: the boot page tables map physical 0..1 GiB at PHYS_OFFSET; reads are unaligned-safe.
    unsafe { ((super::PHYS_OFFSET + paddr) as *const T).read_unaligned() }
}

/// The first Rust code: the stub above calls it with the physical address of `hvm_start_info`.
/// It reads what the kernel needs from the boot protocol and hands over to `kernel_main`.
#[no_mangle]
extern "C" fn kernel_entry(start_info: u64) -> ! {
    // SAFETY: `start_info` is the address QEMU passed in %ebx, which the stub kept.
    let boot = unsafe { BootInfo::parse(start_info) };
    crate::kernel_main(boot)
}

impl BootInfo {
    /// # Safety
    /// `start_info` is the physical address of the PVH `hvm_start_info` (below 1 GiB), whose
    /// memory map, module list and command line are intact.
    unsafe fn parse(start_info: u64) -> BootInfo {
        // SAFETY: every read is of the structures the boot protocol describes, starting at
        // `start_info` (the caller's contract) and following its own pointers; all are integers.
        unsafe {
            let mut info = BootInfo {
                ram: [(0, 0); 32],
                ram_count: 0,
                initrd: (0, 0),
                cmdline: [0; 1024],
                cmdline_len: 0,
                rsdp: 0,
            };
            if read_phys::<u32>(start_info) != HVM_START_MAGIC {
                return info;
            }
            let nr_modules = read_phys::<u32>(start_info + 12);
            let modlist = read_phys::<u64>(start_info + 16);
            let cmdline = read_phys::<u64>(start_info + 24);
            info.rsdp = read_phys::<u64>(start_info + 32);
            let memmap = read_phys::<u64>(start_info + 40);
            let memmap_entries = read_phys::<u32>(start_info + 48);

            for i in 0..memmap_entries as u64 {
                let e = memmap + i * 24;
                let (addr, size, kind) =
                    (read_phys::<u64>(e), read_phys::<u64>(e + 8), read_phys::<u32>(e + 16));
                if kind == 1 && info.ram_count < info.ram.len() {
                    info.ram[info.ram_count] = (addr, addr + size);
                    info.ram_count += 1;
                }
            }
            if nr_modules > 0 {
                let paddr = read_phys::<u64>(modlist);
                let size = read_phys::<u64>(modlist + 8);
                info.initrd = (paddr, paddr + size);
            }
            if cmdline != 0 {
                while info.cmdline_len < info.cmdline.len() {
                    let b = read_phys::<u8>(cmdline + info.cmdline_len as u64);
                    if b == 0 {
                        break;
                    }
                    info.cmdline[info.cmdline_len] = b;
                    info.cmdline_len += 1;
                }
            }
            info
        }
    }

    /// The initramfs, as a physical [start, end) range (empty if none).
    pub fn initrd(&self) -> (u64, u64) {
        self.initrd
    }

    pub fn ram(&self) -> &[(u64, u64)] {
        &self.ram[..self.ram_count]
    }

    /// The ACPI RSDP's physical address, 0 if the loader passed none.
    pub fn rsdp(&self) -> u64 {
        self.rsdp
    }

    pub fn cmdline(&self) -> &str {
        core::str::from_utf8(&self.cmdline[..self.cmdline_len]).unwrap_or("")
    }
}

extern "C" {
    static boot_pml4: u8;
    static boot_stack: u8;
    static boot_stack_top: u8;
}

/// The bounds of the boot stack (static: always there to be read, even once abandoned).
pub(super) fn boot_stack_bounds() -> (u64, u64) {
    ((&raw const boot_stack) as u64, (&raw const boot_stack_top) as u64)
}

/// The physical address of the boot page tables' root. They stay intact after boot (nothing
/// frees or edits them), mapping physical 0..1 GiB at 0, at PHYS_OFFSET and the image at
/// -2 GiB: the AP trampoline uses them to reach the kernel image in long mode.
pub(super) fn boot_page_table() -> u64 {
    (&raw const boot_pml4) as u64 - super::KERNEL_BASE
}
