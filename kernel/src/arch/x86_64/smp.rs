//! Bringing up the other CPUs (the APs). The boot CPU copies a trampoline to a page of low
//! memory and sends each AP INIT, STARTUP, STARTUP (Intel SDM vol. 3, 9.4 "Multiple-processor
//! (MP) initialization"); the AP starts in real mode at that page, goes straight to long mode on
//! the boot page tables (which map low memory 1:1 and the kernel image), jumps to the kernel
//! image, loads the kernel's page table and its own stack, and runs `ap_main`: its GS block,
//! GDT/TSS, IDT, `syscall` MSRs and local APIC, then the entry the kernel gave `start_aps`, with
//! interrupts off. APs are started one at a time (they share the trampoline's parameters).

use alloc::alloc::{alloc_zeroed, Layout};
use core::arch::global_asm;
use core::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

use spin::Once;

use super::percpu::{self, MAX_CPUS};
use super::{acpi, apic, cpu, time};

/// The physical page the trampoline runs from (below 1 MiB, which `mm` never hands out; the
/// STARTUP message names it by page number).
const TRAMPOLINE_PHYS: u64 = 0x8000;
/// Bytes of an AP's first kernel stack (the stack `entry` runs on).
const AP_STACK_BYTES: usize = 64 * 1024;

global_asm!(
    r#"
    .set TRAMP, 0x8000
    .section .text.ap_trampoline, "ax"
    .code16
    .global ap_trampoline_start, ap_trampoline_end
ap_trampoline_start:
    cli
    cld
    movw %cs, %ax
    movw %ax, %ds
    lgdtl (tramp_gdtr - ap_trampoline_start)
    /* CR4: PAE | OSFXSR | OSXMMEXCPT */
    movl %cr4, %eax
    orl $((1 << 5) | (1 << 9) | (1 << 10)), %eax
    movl %eax, %cr4
    movl (tramp_boot_cr3 - ap_trampoline_start), %eax
    movl %eax, %cr3
    /* EFER: SCE | LME | NXE */
    movl $0xC0000080, %ecx
    rdmsr
    orl $((1 << 0) | (1 << 8) | (1 << 11)), %eax
    wrmsr
    /* CR0: PG | WP | NE | MP | PE, clear EM and TS: protected mode and paging at once */
    movl %cr0, %eax
    andl $~((1 << 2) | (1 << 3)), %eax
    orl $((1 << 31) | (1 << 16) | (1 << 5) | (1 << 1) | 1), %eax
    movl %eax, %cr0
    ljmpl $0x08, $(TRAMP + tramp_long - ap_trampoline_start)

    .code64
tramp_long:
    movw $0x10, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    xorw %ax, %ax
    movw %ax, %fs
    movw %ax, %gs
    movq (TRAMP + tramp_entry - ap_trampoline_start), %rax
    jmpq *%rax

    .p2align 3
tramp_gdt:
    .quad 0
    .quad 0x00af9a000000ffff    /* 0x08: 64-bit code */
    .quad 0x00cf92000000ffff    /* 0x10: data */
tramp_gdtr:
    .word 23
    .long TRAMP + tramp_gdt - ap_trampoline_start
    .p2align 3
    .global ap_trampoline_params
ap_trampoline_params:
tramp_boot_cr3:   .quad 0
tramp_entry:      .quad 0
tramp_kernel_cr3: .quad 0
tramp_stack:      .quad 0
tramp_cpu:        .quad 0
ap_trampoline_end:

    .section .text
    /* In the kernel image, still on the boot page tables: take the parameters from the low
       page, switch to the kernel's tables and the AP's stack, and call ap_main(cpu). */
    .global ap_start64
ap_start64:
    movq (TRAMP + tramp_kernel_cr3 - ap_trampoline_start), %rax
    movq (TRAMP + tramp_stack - ap_trampoline_start), %rsi
    movq (TRAMP + tramp_cpu - ap_trampoline_start), %rdi
    movq %rax, %cr3
    movq %rsi, %rsp
    xorl %ebp, %ebp
    fninit
    call ap_main
1:  hlt
    jmp 1b
    "#,
    options(att_syntax)
);

extern "C" {
    static ap_trampoline_start: u8;
    static ap_trampoline_end: u8;
    static ap_trampoline_params: u8;
    fn ap_start64();
}

/// The trampoline's parameter block (`ap_trampoline_params`), as the boot CPU fills it in.
#[repr(C)]
struct Params {
    boot_cr3: u64,
    entry: u64,
    kernel_cr3: u64,
    stack_top: u64,
    cpu: u64,
}

/// What each AP calls once it is set up.
static ENTRY: Once<fn() -> !> = Once::new();
/// Set by the AP being started once it no longer needs the trampoline page.
static AP_STARTED: AtomicBool = AtomicBool::new(false);
/// CPUs the boot CPU has started (including itself).
static STARTED: AtomicUsize = AtomicUsize::new(1);

/// Busy-waits `us` microseconds (boot only: the INIT/STARTUP protocol's delays).
fn delay_us(us: u64) {
    let end = cpu::rdtsc() + time::tsc_hz() / 1_000_000 * us;
    while cpu::rdtsc() < end {
        core::hint::spin_loop();
    }
}

/// What `start_aps` did, for the kernel log.
#[derive(Debug, Clone, Copy)]
pub struct StartOutcome {
    /// CPUs online, the boot CPU included.
    pub online: usize,
    /// APs that did not come up in time.
    pub failed: usize,
    /// CPUs the MADT lists beyond `MAX_CPUS`.
    pub left_off: usize,
    /// Whether the firmware had a MADT at all (none: one CPU).
    pub found_madt: bool,
}

/// Starts every other CPU the MADT lists (up to `MAX_CPUS`); each sets itself up and calls
/// `entry` with interrupts off. Returns once each has come up or timed out. Sets up the boot
/// CPU's local APIC first. Call once, after `mm::init`, with interrupts off.
pub fn start_aps(entry: fn() -> !) -> StartOutcome {
    ENTRY.call_once(|| entry);
    apic::init_local(0);
    let mut outcome = StartOutcome { online: 1, failed: 0, left_off: 0, found_madt: false };
    let Some(madt) = acpi::madt() else { return outcome };
    outcome.found_madt = true;
    outcome.left_off = madt.cpus_left_off;
    let bsp = apic::id();
    copy_trampoline();
    for &apic_id in madt.apic_ids().iter().filter(|&&id| id != bsp) {
        let cpu = STARTED.load(Ordering::Relaxed);
        if cpu >= MAX_CPUS {
            outcome.left_off += 1;
            continue;
        }
        if start_one(cpu, apic_id) {
            STARTED.store(cpu + 1, Ordering::Relaxed);
        } else {
            outcome.failed += 1;
        }
    }
    // Every AP is past `mark_online` before `start_one` returns true for it.
    outcome.online = percpu::online_cpus();
    outcome
}

fn trampoline_bytes() -> &'static [u8] {
    let start = &raw const ap_trampoline_start as usize;
    let end = &raw const ap_trampoline_end as usize;
    // SAFETY: the trampoline's code and data, read-only in the kernel image.
    unsafe { core::slice::from_raw_parts(start as *const u8, end - start) }
}

/// The trampoline page in the direct map.
fn trampoline_page() -> *mut u8 {
    (super::PHYS_OFFSET + TRAMPOLINE_PHYS) as *mut u8
}

fn copy_trampoline() {
    let code = trampoline_bytes();
    assert!(code.len() <= 4096);
    // SAFETY: the page at TRAMPOLINE_PHYS is below 1 MiB, which `mm` reserves and never hands
    // out, and nothing else uses it after boot (the boot protocol's data was copied out by
    // `BootInfo::parse`); the direct map maps it writable.
    unsafe { core::ptr::copy_nonoverlapping(code.as_ptr(), trampoline_page(), code.len()) };
}

/// Starts CPU `cpu` (APIC ID `apic_id`) and waits for it to come online (true) or time out.
fn start_one(cpu: usize, apic_id: u32) -> bool {
    let layout = Layout::from_size_align(AP_STACK_BYTES, 16).expect("a valid layout");
    // SAFETY: a nonzero size. The stack is never freed: the AP's first context runs on it,
    // and it stays the stack that `entry` (which never returns) runs on.
    let stack = unsafe { alloc_zeroed(layout) };
    if stack.is_null() {
        return false;
    }
    let params_offset =
        &raw const ap_trampoline_params as usize - &raw const ap_trampoline_start as usize;
    let params = Params {
        boot_cr3: super::boot::boot_page_table(),
        entry: ap_start64 as *const () as u64,
        kernel_cr3: cpu::read_cr3(),
        stack_top: stack as u64 + AP_STACK_BYTES as u64,
        cpu: cpu as u64,
    };
    AP_STARTED.store(false, Ordering::Release);
    // SAFETY: the parameter block inside the trampoline page (copied there, see
    // `copy_trampoline`); no AP runs the trampoline now (the previous one has left it).
    unsafe {
        (trampoline_page().add(params_offset) as *mut Params).write_volatile(params);
    }
    let online_before = percpu::online_cpus();
    apic::send_init(apic_id);
    delay_us(10_000);
    let page = (TRAMPOLINE_PHYS / 4096) as u8;
    for _ in 0..2 {
        apic::send_startup(apic_id, page);
        delay_us(200);
        if AP_STARTED.load(Ordering::Acquire) {
            break;
        }
    }
    // Generous: under TCG on a loaded host an AP may take long to get going.
    let deadline = time::monotonic_ns() + 5_000_000_000;
    while percpu::online_cpus() == online_before {
        if time::monotonic_ns() > deadline {
            return false;
        }
        core::hint::spin_loop();
    }
    true
}

/// The first Rust code of an AP (from `ap_start64`, on its own stack and the kernel's page
/// table, interrupts off).
#[no_mangle]
extern "C" fn ap_main(cpu: u64) -> ! {
    let cpu = cpu as usize;
    AP_STARTED.store(true, Ordering::Release);
    percpu::init_cpu(cpu);
    super::gdt::init(cpu);
    super::trap::load();
    super::syscall::init();
    cpu::enable_global_pages();
    apic::init_local(cpu);
    percpu::mark_online();
    let entry = ENTRY.get().expect("start_aps set the entry");
    entry()
}

/// TLB shootdown mailboxes: CPU n's requests (a count its initiators raise) and the last one it
/// has served. A CPU serves them all with one full flush of its non-global TLB entries.
static TLB_REQUESTS: [AtomicU64; MAX_CPUS] = [const { AtomicU64::new(0) }; MAX_CPUS];
static TLB_SERVED: [AtomicU64; MAX_CPUS] = [const { AtomicU64::new(0) }; MAX_CPUS];

/// Services this CPU's pending cross-CPU requests (TLB shootdowns) from its mailbox. The kernel
/// runs with interrupts off, so a CPU in kernel code takes the IPI only when it gets back to
/// user mode or idle; in between it calls this at safe points (a lock's spin loop, a shootdown
/// initiator's wait), so that a CPU spinning on a lock an initiator holds cannot deadlock it.
pub fn poll_ipis() {
    let me = percpu::cpu_id();
    let requested = TLB_REQUESTS[me].load(Ordering::Acquire);
    if TLB_SERVED[me].load(Ordering::Relaxed) != requested {
        // Everything requested up to `requested` changed the tables before raising it.
        cpu::flush_tlb();
        TLB_SERVED[me].store(requested, Ordering::Release);
    }
}

/// Flushes the (non-global) TLB of every CPU in `cpus` (a bit per CPU index; this CPU's bit is
/// ignored: the caller flushes its own) and returns once each has. The caller has already
/// changed the page table. Interrupts off; waits with `poll_ipis` (see there).
pub fn flush_tlb_on(cpus: u64) {
    let me = percpu::cpu_id();
    let mut waits = [0u64; MAX_CPUS];
    for (cpu, wait) in waits.iter_mut().enumerate().take(percpu::online_cpus()) {
        if cpu == me || cpus & (1 << cpu) == 0 {
            continue;
        }
        *wait = TLB_REQUESTS[cpu].fetch_add(1, Ordering::AcqRel) + 1;
        apic::send_ipi(cpu, apic::Ipi::TlbShootdown);
    }
    for (cpu, &wait) in waits.iter().enumerate() {
        while wait != 0 && TLB_SERVED[cpu].load(Ordering::Acquire) < wait {
            poll_ipis();
            core::hint::spin_loop();
        }
    }
}
