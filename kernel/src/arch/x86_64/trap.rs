//! Interrupt/exception entry and the common `TrapFrame`. Every entry from user mode (interrupt,
//! exception or `syscall`) builds the same frame on the thread's kernel stack, including the user's
//! FPU/SSE state, so the rest of the kernel sees one layout and a context switch needs no FPU work.
//!
//! Policy lives above `arch`: the kernel installs `TrapHandlers` at boot (DESIGN.md §1).

use core::arch::global_asm;
use core::cell::UnsafeCell;
use spin::Once;

use super::gdt::KERNEL_CS;

pub const VEC_DIVIDE: u64 = 0;
pub const VEC_DEBUG: u64 = 1;
pub const VEC_NMI: u64 = 2;
pub const VEC_BREAKPOINT: u64 = 3;
pub const VEC_INVALID_OPCODE: u64 = 6;
pub const VEC_DEVICE_NA: u64 = 7;
pub const VEC_DOUBLE_FAULT: u64 = 8;
pub const VEC_GP: u64 = 13;
pub const VEC_PAGE_FAULT: u64 = 14;
pub const VEC_X87: u64 = 16;
pub const VEC_ALIGNMENT: u64 = 17;
pub const VEC_SIMD: u64 = 19;
pub const VEC_IRQ_BASE: u64 = 32;
/// Marks a frame built by the `syscall` entry.
pub const VEC_SYSCALL: u64 = 0x100;
/// Marks a frame just restored by rt_sigreturn (no syscall restart applies to it).
pub const VEC_SIGRETURN: u64 = 0x101;
/// Set in `vector` while the frame's FPU area holds only the SSE registers (the `syscall`
/// entry saves just those; see `complete_fpu`).
pub const FPU_PARTIAL: u64 = 0x200;
/// Set in `vector` by the NMI entry when it swapped in the kernel's GS base (and the exit
/// swaps it back out).
const NMI_SWAPPED_GS: u64 = 0x400;

/// The FXSAVE image of the user's x87/SSE state.
#[repr(C, align(16))]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
pub struct FpuState(pub [u8; 512]);

impl FpuState {
    /// The state after `fninit` with the default MXCSR, as a new process sees it.
    pub const fn initial() -> Self {
        let mut b = [0u8; 512];
        b[0] = 0x7f; // FCW = 0x037f
        b[1] = 0x03;
        b[24] = 0x80; // MXCSR = 0x1f80
        b[25] = 0x1f;
        b[28] = 0xff; // MXCSR_MASK
        b[29] = 0xff;
        FpuState(b)
    }
}

#[repr(C, align(16))]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
pub struct TrapFrame {
    pub fpu: FpuState,
    pub r15: u64,
    pub r14: u64,
    pub r13: u64,
    pub r12: u64,
    pub r11: u64,
    pub r10: u64,
    pub r9: u64,
    pub r8: u64,
    pub rbp: u64,
    pub rdi: u64,
    pub rsi: u64,
    pub rdx: u64,
    pub rcx: u64,
    pub rbx: u64,
    pub rax: u64,
    pub vector: u64,
    pub error_code: u64,
    pub rip: u64,
    pub cs: u64,
    pub rflags: u64,
    pub rsp: u64,
    pub ss: u64,
}

impl TrapFrame {
    pub fn from_user(&self) -> bool {
        self.cs & 3 == 3
    }

    /// Did this frame come from the `syscall` instruction (and is not a sigreturn'ed one)?
    pub fn is_syscall(&self) -> bool {
        self.vector & !FPU_PARTIAL == VEC_SYSCALL
    }

    /// Makes the FPU area a full FXSAVE image. The `syscall` entry saves only the SSE
    /// registers (kernel code may clobber those, never the x87 state or MXCSR), which is much
    /// cheaper; code that reads or replaces the whole image (signal frames, fork) calls this
    /// first. A switch away from a user thread saves the live x87 state and MXCSR in its
    /// `KernelContext` and restores them when it comes back, so they are live again here.
    pub fn complete_fpu(&mut self) {
        if self.vector & FPU_PARTIAL == 0 {
            return;
        }
        let mut live = FpuState([0; 512]);
        // SAFETY: fxsave64 writes 512 bytes to a 16-byte aligned buffer, which `live` is.
        unsafe { core::arch::asm!("fxsave64 [{}]", in(reg) &mut live.0, options(nostack)) };
        live.0[160..416].copy_from_slice(&self.fpu.0[160..416]);
        self.fpu = live;
        self.vector &= !FPU_PARTIAL;
    }

    /// A frame that enters user mode at `rip` with stack `rsp`, interrupts on.
    pub fn new_user(rip: u64, rsp: u64) -> Self {
        TrapFrame {
            fpu: FpuState::initial(),
            r15: 0,
            r14: 0,
            r13: 0,
            r12: 0,
            r11: 0,
            r10: 0,
            r9: 0,
            r8: 0,
            rbp: 0,
            rdi: 0,
            rsi: 0,
            rdx: 0,
            rcx: 0,
            rbx: 0,
            rax: 0,
            vector: 0,
            error_code: 0,
            rip,
            cs: super::gdt::USER_CS as u64,
            rflags: 0x202,
            rsp,
            ss: super::gdt::USER_DS as u64,
        }
    }
}

/// Saves xmm0-15 into the FXSAVE image at the stack pointer (its register area), as the
/// `syscall` entry does instead of a whole `fxsave` (see `TrapFrame::complete_fpu`).
macro_rules! save_sse {
    () => {
        "
    movdqa %xmm0, 160(%rsp)
    movdqa %xmm1, 176(%rsp)
    movdqa %xmm2, 192(%rsp)
    movdqa %xmm3, 208(%rsp)
    movdqa %xmm4, 224(%rsp)
    movdqa %xmm5, 240(%rsp)
    movdqa %xmm6, 256(%rsp)
    movdqa %xmm7, 272(%rsp)
    movdqa %xmm8, 288(%rsp)
    movdqa %xmm9, 304(%rsp)
    movdqa %xmm10, 320(%rsp)
    movdqa %xmm11, 336(%rsp)
    movdqa %xmm12, 352(%rsp)
    movdqa %xmm13, 368(%rsp)
    movdqa %xmm14, 384(%rsp)
    movdqa %xmm15, 400(%rsp)
"
    };
}

/// Loads xmm0-15 back from the FXSAVE image at the stack pointer.
macro_rules! restore_sse {
    () => {
        "
    movdqa 160(%rsp), %xmm0
    movdqa 176(%rsp), %xmm1
    movdqa 192(%rsp), %xmm2
    movdqa 208(%rsp), %xmm3
    movdqa 224(%rsp), %xmm4
    movdqa 240(%rsp), %xmm5
    movdqa 256(%rsp), %xmm6
    movdqa 272(%rsp), %xmm7
    movdqa 288(%rsp), %xmm8
    movdqa 304(%rsp), %xmm9
    movdqa 320(%rsp), %xmm10
    movdqa 336(%rsp), %xmm11
    movdqa 352(%rsp), %xmm12
    movdqa 368(%rsp), %xmm13
    movdqa 384(%rsp), %xmm14
    movdqa 400(%rsp), %xmm15
"
    };
}

pub(crate) use {restore_sse, save_sse};

/// What the kernel does with traps. Installed once at boot.
pub struct TrapHandlers {
    pub syscall: fn(&mut TrapFrame),
    /// A CPU exception (vector < 32). `fault_addr` is CR2 for page faults.
    pub exception: fn(&mut TrapFrame, fault_addr: u64),
    /// A hardware interrupt, already acknowledged at the PIC.
    pub irq: fn(&mut TrapFrame, irq: u8),
    /// Runs last before any return to user mode (signals, rescheduling).
    pub return_to_user: fn(&mut TrapFrame),
}

static HANDLERS: Once<TrapHandlers> = Once::new();

pub fn set_handlers(h: TrapHandlers) {
    HANDLERS.call_once(|| h);
}

/// What an NMI does (the kernel's diagnosis dump). Without one, NMIs are ignored.
static NMI_HANDLER: Once<fn(&TrapFrame)> = Once::new();

pub fn set_nmi_handler(f: fn(&TrapFrame)) {
    NMI_HANDLER.call_once(|| f);
}

/// The reschedule IPI's handler (the scheduler's), given whether it interrupted user mode.
static RESCHEDULE_HANDLER: Once<fn(bool)> = Once::new();

pub fn set_reschedule_handler(f: fn(bool)) {
    RESCHEDULE_HANDLER.call_once(|| f);
}

fn handlers() -> &'static TrapHandlers {
    HANDLERS.get().expect("trap handlers installed before interrupts are enabled")
}

#[no_mangle]
extern "C" fn trap_dispatch(frame: &mut TrapFrame) {
    let vector = frame.vector & !NMI_SWAPPED_GS;
    if vector == VEC_NMI {
        // On its own stack (IST 2), whatever it interrupted: report, and return to it as it
        // was, with no signal delivery or rescheduling (the interrupted code may hold locks).
        // QEMU's monitor sends the NMI to every CPU; the host keeps one dump, so only the boot
        // CPU answers (the others are parked until the scheduler runs threads on them).
        if let Some(f) = NMI_HANDLER.get().filter(|_| super::percpu::cpu_id() == 0) {
            f(frame);
        }
        return;
    }
    let h = handlers();
    if vector < 32 {
        let addr = if vector == VEC_PAGE_FAULT { super::cpu::read_cr2() } else { 0 };
        (h.exception)(frame, addr);
    } else if (VEC_IRQ_BASE..VEC_IRQ_BASE + 16).contains(&vector) {
        let irq = (vector - VEC_IRQ_BASE) as u8;
        if super::pic::acknowledge(irq) {
            (h.irq)(frame, irq);
        }
    } else if vector == super::apic::VEC_TLB_SHOOTDOWN as u64 {
        super::apic::eoi();
        super::smp::poll_ipis();
    } else if vector == super::apic::VEC_RESCHEDULE as u64 {
        super::apic::eoi();
        if let Some(f) = RESCHEDULE_HANDLER.get() {
            f(frame.from_user());
        }
    }
    if frame.from_user() {
        (h.return_to_user)(frame);
    }
}

#[no_mangle]
extern "C" fn first_return_to_user(frame: &mut TrapFrame) {
    (handlers().return_to_user)(frame);
}

#[no_mangle]
extern "C" fn syscall_dispatch(frame: &mut TrapFrame) {
    let h = handlers();
    (h.syscall)(frame);
    (h.return_to_user)(frame);
}

// One 16-byte stub per vector: push a dummy error code where the CPU pushes none, push the vector,
// jump to the common path. Vectors with a CPU error code: 8, 10-14, 17, 21, 29, 30.
global_asm!(
    concat!(
        r#"
    .section .text
    .p2align 4
    .global trap_stubs
trap_stubs:
    .set vec, 0
    .rept 256
    .p2align 4
    .if (vec == 8) || ((vec >= 10) && (vec <= 14)) || (vec == 17) || (vec == 21) || (vec == 29) || (vec == 30)
    .else
    pushq $0
    .endif
    pushq $vec
    jmp trap_common
    .set vec, vec + 1
    .endr

trap_common:
    cmpq $2, (%rsp)
    je nmi_gs
    testq $3, 24(%rsp)
    jz 1f
    swapgs
    jmp 1f
    /* An NMI may arrive anywhere, even at the one instruction of the syscall entry or exit
       where CPL is 0 but GS is the user's: look at the GS base itself (kernel bases are in
       the top half) and swap only if it is the user's, noting it in the vector. */
nmi_gs:
    pushq %rax
    pushq %rcx
    pushq %rdx
    movl $0xC0000101, %ecx
    rdmsr
    testl %edx, %edx
    js 5f
    swapgs
    orq $0x400, 24(%rsp)
5:
    popq %rdx
    popq %rcx
    popq %rax
1:
    pushq %rax
    pushq %rbx
    pushq %rcx
    pushq %rdx
    pushq %rsi
    pushq %rdi
    pushq %rbp
    pushq %r8
    pushq %r9
    pushq %r10
    pushq %r11
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    subq $512, %rsp
    fxsave64 (%rsp)
    movq %rsp, %rdi
    cld
    call trap_dispatch
    jmp trap_return

    // A new user thread's first switch lands here, on its prepared frame: the work of a
    // return to user mode (signals a tracer or a parent sent meanwhile) comes before its
    // first instruction, as Linux's ret_from_fork.
    .global new_thread_return
new_thread_return:
    movq %rsp, %rdi
    call first_return_to_user

    .global trap_return
trap_return:
    testq $0x200, 512+120(%rsp)
    jnz 3f
    fxrstor64 (%rsp)
    jmp 4f
3:
"#,
        restore_sse!(),
        r#"
4:
    addq $512, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %r11
    popq %r10
    popq %r9
    popq %r8
    popq %rbp
    popq %rdi
    popq %rsi
    popq %rdx
    popq %rcx
    popq %rbx
    popq %rax
    testq $0x400, (%rsp)
    jnz 6f
    cmpq $2, (%rsp)
    je 2f
    testq $3, 24(%rsp)
    jz 2f
6:
    swapgs
2:
    addq $16, %rsp
    iretq
    "#
    ),
    options(att_syntax)
);

extern "C" {
    static trap_stubs: u8;
    pub fn new_thread_return();
}

#[repr(C, packed)]
struct IdtPointer {
    limit: u16,
    base: u64,
}

#[derive(Clone, Copy)]
#[repr(C)]
struct Gate {
    offset_low: u16,
    selector: u16,
    ist: u8,
    attrs: u8,
    offset_mid: u16,
    offset_high: u32,
    _zero: u32,
}

struct Idt(UnsafeCell<[Gate; 256]>);
// SAFETY: written once at boot before interrupts are enabled, then only read by the CPU.
unsafe impl Sync for Idt {}

static IDT: Idt = Idt(UnsafeCell::new(
    [Gate { offset_low: 0, selector: 0, ist: 0, attrs: 0, offset_mid: 0, offset_high: 0, _zero: 0 };
        256],
));

/// Builds the IDT (shared by every CPU: the IST numbers name each CPU's own stacks) and loads
/// it on the boot CPU.
pub fn init() {
    let base = &raw const trap_stubs as u64;
    // SAFETY: boot, one CPU, interrupts off; nothing reads the IDT until `lidt`.
    unsafe {
        let idt = &mut *IDT.0.get();
        for (v, gate) in idt.iter_mut().enumerate() {
            let handler = base + 16 * v as u64;
            *gate = Gate {
                offset_low: handler as u16,
                selector: KERNEL_CS,
                ist: match v as u64 {
                    VEC_DOUBLE_FAULT => 1,
                    VEC_NMI => 2,
                    _ => 0,
                },
                // present, interrupt gate (IF cleared on entry); int3 reachable from ring 3
                attrs: if v as u64 == VEC_BREAKPOINT { 0xee } else { 0x8e },
                offset_mid: (handler >> 16) as u16,
                offset_high: (handler >> 32) as u32,
                _zero: 0,
            };
        }
    }
    load();
}

/// Loads the IDT `init` built on this CPU.
pub(super) fn load() {
    let ptr = IdtPointer { limit: (256 * 16 - 1) as u16, base: IDT.0.get() as u64 };
    // SAFETY: the IDT is complete (`init` ran on the boot CPU before any AP starts) and static.
    unsafe { core::arch::asm!("lidt [{}]", in(reg) &ptr, options(nostack)) };
}
