//! Kernel contexts and the switch between them. A `KernelContext` owns a thread's kernel stack
//! and what is kept while the thread is off the CPU (its stack pointer, and a user thread's x87
//! and MXCSR state); `switch_to` saves the running context and resumes another. The switch
//! itself pushes the callee-saved registers on the old stack and swaps stack pointers.
//!
//! Why this is sound for any safe caller (Asterinas's OSTD does the same with its tasks):
//! - a context lives in an `Arc` and owns its stack, a heap allocation that Rust code reaches
//!   only through raw pointers, here, never through references, so the CPU may use it;
//! - each CPU owns a reference to the context it runs (`RUNNING`), so its stack cannot be freed
//!   under it, and to the one it ran before (`PREVIOUS`), which may still be being switched away
//!   from; `switch_to` saves whichever context runs;
//! - a context has an on-CPU flag (`on_cpu`): set by the CPU that resumes it (a compare-and-swap,
//!   so two CPUs never both resume it), cleared by `switch_context` only after the context's
//!   stack pointer is saved and the CPU has left its stack. A CPU that is handed a context whose
//!   flag is still set (the scheduler of another CPU put the thread in a run queue while its own
//!   CPU was still switching away from it) waits for the flag: a few instructions;
//! - a context that does not run (flag clear) always holds a valid saved stack pointer: the one
//!   `new_*` prepared, or the one its last switch away saved. One that is never resumed (an
//!   exited thread) is simply freed once the last reference goes.

use alloc::alloc::{alloc_zeroed, dealloc, Layout};
use alloc::sync::Arc;
use core::arch::global_asm;
use core::cell::{Cell, RefCell, UnsafeCell};
use core::mem::size_of;
use core::ptr::NonNull;
use core::sync::atomic::{AtomicBool, Ordering};

use super::percpu::{self, CpuLocal, MAX_CPUS};
use super::trap::{FpuState, TrapFrame};

global_asm!(
    r#"
    .section .text
    .global switch_context
switch_context:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    movb $0, (%rdx)
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret

kthread_trampoline:
    movq %r13, %rdi
    callq *%r12
    ud2
    "#,
    options(att_syntax)
);

extern "C" {
    /// Saves the callee-saved registers and the stack pointer at `prev_rsp`, switches to
    /// `next_rsp`, and only then clears `*prev_on_cpu` (a plain store: a release on x86), so
    /// another CPU that sees it clear finds the saved stack pointer and a stack nobody uses.
    fn switch_context(prev_rsp: *mut u64, next_rsp: u64, prev_on_cpu: *const AtomicBool);
    fn kthread_trampoline();
}

/// Bytes of a thread's kernel stack.
pub const KERNEL_STACK_BYTES: usize = 64 * 1024;

/// Registers `switch_context` pushes (rbp, rbx, r12-r15).
const SAVED_REGS: u64 = 6;

fn stack_layout() -> Layout {
    // 16-byte alignment for frames; a power-of-two size, as the buddy heap hands out.
    Layout::from_size_align(KERNEL_STACK_BYTES, 16).expect("a valid layout")
}

/// The context running on this CPU (None before `start`), and the one it ran before.
static RUNNING: CpuLocal<RefCell<Option<Arc<KernelContext>>>> =
    CpuLocal::new([const { RefCell::new(None) }; MAX_CPUS]);
static PREVIOUS: CpuLocal<RefCell<Option<Arc<KernelContext>>>> =
    CpuLocal::new([const { RefCell::new(None) }; MAX_CPUS]);
/// The base of the running context's stack (0: none), for backtraces, which may run in an NMI
/// that interrupted `switch_to` and so cannot borrow `RUNNING`.
static RUNNING_STACK: CpuLocal<Cell<u64>> = CpuLocal::new([const { Cell::new(0) }; MAX_CPUS]);

/// A thread's kernel stack and saved context (see the module's comment).
pub struct KernelContext {
    stack: NonNull<u8>,
    /// The stack pointer the last switch away saved (or `new_*` prepared).
    rsp: UnsafeCell<u64>,
    /// A user thread's x87 and MXCSR state (an FXSAVE image) while it is off the CPU: the
    /// `syscall` entry saves only the SSE registers in the trap frame, and another thread's
    /// user code would overwrite the rest.
    fpu: UnsafeCell<FpuState>,
    user: bool,
    /// A CPU runs it (or is still switching away from it): see the module's comment.
    on_cpu: AtomicBool,
}

// SAFETY: the stack is owned by this value and used only by the CPU running the context; `rsp`
// and `fpu` are written only by `switch_to`, for the context running on that CPU, and read when
// it is resumed or (`rsp`, tolerating a stale value) by `saved_frame_pointer`.
unsafe impl Send for KernelContext {}
// SAFETY: as above: `&KernelContext` gives access to nothing that `switch_to` does not guard.
unsafe impl Sync for KernelContext {}

impl KernelContext {
    /// A zeroed stack, or None when the heap cannot hold it (fork then fails with ENOMEM).
    fn allocate(user: bool) -> Option<KernelContext> {
        // SAFETY: the layout has a nonzero size.
        let stack = NonNull::new(unsafe { alloc_zeroed(stack_layout()) })?;
        Some(KernelContext {
            stack,
            rsp: UnsafeCell::new(0),
            fpu: UnsafeCell::new(FpuState::initial()),
            user,
            on_cpu: AtomicBool::new(false),
        })
    }

    fn bottom(&self) -> u64 {
        self.stack.as_ptr() as u64
    }

    /// The top of the stack: where a new context starts, and where the trap frame sits.
    fn top(&self) -> u64 {
        self.bottom() + KERNEL_STACK_BYTES as u64
    }

    /// Stores `value` at `addr` of the stack of this new context, which no CPU runs yet.
    fn put(&mut self, addr: u64, value: u64) {
        assert!(addr >= self.bottom() && addr + 8 <= self.top() && addr.is_multiple_of(8));
        // SAFETY: checked to be an aligned word of the stack, which no CPU uses yet.
        unsafe { (addr as *mut u64).write(value) }
    }

    /// A context that, switched to, calls `entry(arg)` on its own stack (`entry` never
    /// returns: the thread exits through the scheduler). None if the heap has no room.
    pub fn new_kernel_thread(
        entry: extern "C" fn(u64) -> !,
        arg: u64,
    ) -> Option<Arc<KernelContext>> {
        let mut ctx = Self::allocate(false)?;
        // From the stack pointer up: r15 r14 r13 r12 rbx rbp (zeroed: rbp 0 ends backtraces),
        // the trampoline as return address, two pad words so that the trampoline's `call`
        // happens with a 16-byte aligned stack.
        let rsp = ctx.top() - (SAVED_REGS + 3) * 8;
        ctx.put(rsp + 16, arg); // r13
        ctx.put(rsp + 24, entry as usize as u64); // r12
        ctx.put(rsp + SAVED_REGS * 8, kthread_trampoline as *const () as u64);
        *ctx.rsp.get_mut() = rsp;
        Some(Arc::new(ctx))
    }

    /// A user thread's context that, switched to, returns to user mode with the registers of
    /// `frame`, which it places at the top of its stack (where every entry from user mode
    /// puts it). None if the heap has no room.
    pub fn new_user_return(frame: &TrapFrame) -> Option<Arc<KernelContext>> {
        let mut ctx = Self::allocate(true)?;
        let frame_addr = ctx.top() - size_of::<TrapFrame>() as u64;
        assert!(frame_addr >= ctx.bottom() && frame_addr.is_multiple_of(16));
        // SAFETY: the frame fits in the new stack (checked) and is aligned for it.
        unsafe { (frame_addr as *mut TrapFrame).write(*frame) };
        // Below the frame: the six registers (zero) and `new_thread_return` as return address.
        let rsp = frame_addr - (SAVED_REGS + 1) * 8;
        ctx.put(rsp + SAVED_REGS * 8, super::trap::new_thread_return as *const () as u64);
        *ctx.rsp.get_mut() = rsp;
        Some(Arc::new(ctx))
    }

    /// The frame pointer saved by the last switch away from this context (`switch_context`
    /// pushes rbp, rbx, r12-r15 in that order below its return address), to walk a sleeping
    /// thread's kernel stack. None if the saved stack pointer is not inside this stack.
    pub fn saved_frame_pointer(&self) -> Option<u64> {
        // SAFETY: an aligned word of this context; a racing switch can only make it stale.
        let rsp = unsafe { self.rsp.get().read_volatile() };
        read_word_in(self.bottom(), self.top(), rsp.checked_add(5 * 8)?)
    }

    /// Return addresses along the frame-pointer chain of this context as its last switch away
    /// left it (a sleeping thread's kernel stack), reading nothing outside its stack.
    pub fn backtrace(&self, visit: impl FnMut(u64)) {
        if let Some(rbp) = self.saved_frame_pointer() {
            walk(self.bottom(), self.top(), rbp, visit);
        }
    }
}

impl Drop for KernelContext {
    fn drop(&mut self) {
        // SAFETY: allocated by `allocate` with this layout. The context does not run: this CPU
        // holds a reference to the running one (and the previous one) until it is off its stack.
        unsafe { dealloc(self.stack.as_ptr(), stack_layout()) }
    }
}

/// Waits until no CPU runs `ctx` (its last CPU may still be saving it), then claims it.
fn claim(ctx: &KernelContext) {
    while ctx.on_cpu.compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed).is_err() {
        crate::sync::relax();
    }
}

/// Saves the running context and resumes `next`; returns when something switches back to the
/// saved one. Panics if `next` is the running context, or before `start`.
pub fn switch_to(next: Arc<KernelContext>) {
    {
        let running = RUNNING.get();
        let running = running.borrow();
        let prev = running.as_ref().expect("switch_to before start");
        assert!(!Arc::ptr_eq(prev, &next), "switch to the running context");
    }
    claim(&next);
    let prev = {
        let running = RUNNING.get();
        let mut running = running.borrow_mut();
        let prev = running.take().expect("checked above");
        RUNNING_STACK.get().set(next.bottom());
        set_kernel_stack(next.top());
        *running = Some(next);
        prev
    };
    let prev_rsp = prev.rsp.get();
    let prev_fpu = prev.fpu.get();
    let prev_on_cpu: *const AtomicBool = &prev.on_cpu;
    let user = prev.user;
    let next_rsp = {
        let running = RUNNING.get();
        let running = running.borrow();
        let next = running.as_ref().expect("set above");
        // SAFETY: this CPU claimed `next` (its flag was clear: no CPU runs it, its saved stack
        // pointer is valid), so nobody else writes it.
        unsafe { next.rsp.get().read() }
    };
    // Keep `prev` alive until the next switch: we are still on its stack. The one kept before
    // is not running (`next` may be it, but `RUNNING` holds it then), so it may go.
    let older = PREVIOUS.get().replace(Some(prev));
    drop(older);
    // The thread may resume on another CPU: nothing may still refer to this CPU's values.
    assert_eq!(percpu::cpu_local_borrows(), 0, "a CpuLocal borrow held across a context switch");
    if user {
        // SAFETY: fxsave64 writes a 512-byte, 16-byte aligned image: `prev`'s, which this CPU
        // runs and `PREVIOUS` keeps alive.
        unsafe { core::arch::asm!("fxsave64 [{}]", in(reg) prev_fpu, options(nostack)) };
    }
    // SAFETY: `next_rsp` is the valid saved stack pointer of `next`, which `RUNNING` now keeps
    // alive and this CPU claimed, so nothing else resumes it; `prev_rsp` and `prev_on_cpu`
    // point into `prev`, kept alive by `PREVIOUS` while they are written; `prev`'s flag is
    // cleared only once this CPU has left its stack.
    unsafe { switch_context(prev_rsp, next_rsp, prev_on_cpu) };
    // Back on `prev`'s stack: something switched to it, so `RUNNING` keeps it alive again.
    if user {
        // SAFETY: fxrstor64 reads the image saved above. It replaces the x87, MXCSR and SSE
        // registers, which the C ABI lets any call clobber (declared so).
        unsafe {
            core::arch::asm!("fxrstor64 [{}]", in(reg) prev_fpu, clobber_abi("C"),
                options(nostack))
        };
    }
}

/// Leaves the boot stack for `first`, never to come back; once only (panics after).
pub fn start(first: Arc<KernelContext>) -> ! {
    let next_rsp = {
        let running = RUNNING.get();
        let mut running = running.borrow_mut();
        assert!(running.is_none(), "a kernel context runs already");
        RUNNING_STACK.get().set(first.bottom());
        set_kernel_stack(first.top());
        claim(&first);
        // SAFETY: this CPU claimed `first`, so its saved stack pointer is valid and its own.
        let rsp = unsafe { first.rsp.get().read() };
        *running = Some(first);
        rsp
    };
    let mut discard = 0u64;
    let boot_on_cpu = AtomicBool::new(true);
    // SAFETY: as in `switch_to`; the boot stack's context goes to `discard` (and its flag to
    // `boot_on_cpu`, cleared while still on the boot stack, which is never freed or resumed).
    unsafe { switch_context(&mut discard, next_rsp, &boot_on_cpu) };
    unreachable!("returned to the boot stack");
}

/// Where `syscall` and interrupts from user mode put their frame: the top of the running
/// context's stack.
fn set_kernel_stack(top: u64) {
    percpu::set_kernel_stack(top);
}

/// The bounds of the running context's stack, if one runs.
pub(super) fn running_stack() -> Option<(u64, u64)> {
    let base = RUNNING_STACK.get().get();
    (base != 0).then(|| (base, base + KERNEL_STACK_BYTES as u64))
}

/// The aligned word at `addr` if it lies in `[lo, hi)`.
fn read_word_in(lo: u64, hi: u64, addr: u64) -> Option<u64> {
    if addr < lo || addr.checked_add(8)? > hi || !addr.is_multiple_of(8) {
        return None;
    }
    // SAFETY: the callers pass the bounds of a stack that stays allocated while they read
    // (a context they borrow, the running one, or a static one); the word lies in them.
    Some(unsafe { (addr as *const u64).read_volatile() })
}

/// Return addresses along the frame-pointer chain from `rbp`, read only inside `[lo, hi)`
/// (one stack); 32 at most, so a corrupt chain cannot loop.
pub(super) fn walk(lo: u64, hi: u64, mut rbp: u64, mut visit: impl FnMut(u64)) {
    for _ in 0..32 {
        let next = read_word_in(lo, hi, rbp);
        let ret = rbp.checked_add(8).and_then(|a| read_word_in(lo, hi, a));
        let (Some(next), Some(ret)) = (next, ret) else { break };
        if ret == 0 {
            break;
        }
        visit(ret);
        rbp = next;
    }
}
