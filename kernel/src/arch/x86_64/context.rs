//! Kernel context switch: callee-saved registers on the old stack, stack pointer swap.

use core::arch::global_asm;

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
    fn switch_context(prev_rsp: *mut u64, next_rsp: u64);
    fn kthread_trampoline();
}

/// Saves the current kernel context into `*prev_rsp` and resumes the one saved at `next_rsp`.
/// The scheduler (the only caller) keeps the contract: `prev_rsp` points into a thread that
/// outlives the switch, `next_rsp` came from `prepare_*` or an earlier `switch`, its stack is
/// alive, and nothing else resumes that context meanwhile.
// Not `unsafe` although it rests on the caller: the scheduler lives in `task`, where unsafe code
// is denied; the owning type that removes the contract is designed in docs/ARCHITECTURE.md
// ("The unsafe boundary") and not built yet.
#[allow(clippy::not_unsafe_ptr_arg_deref)]
pub fn switch(prev_rsp: *mut u64, next_rsp: u64) {
    // SAFETY: per the contract above, which the scheduler upholds (threads it switches between
    // are held by its run queue, a wait queue, their process or its `dead` slot).
    unsafe { switch_context(prev_rsp, next_rsp) }
}

const SAVED_REGS: usize = 6;

/// Prepares a new kernel stack so that switching to it calls `entry(arg)`. Returns the saved rsp.
pub fn prepare_kernel_thread(stack: &mut [u64], entry: extern "C" fn(u64) -> !, arg: u64) -> u64 {
    let n = stack.len();
    // Layout from low to high: r15 r14 r13 r12 rbx rbp, return address, two pad words, so that
    // the trampoline's `call` happens with a 16-byte aligned stack.
    let base = n - SAVED_REGS - 3;
    stack[base..n].fill(0);
    stack[base + 3] = entry as usize as u64; // r12
    stack[base + 2] = arg; // r13
    stack[base + SAVED_REGS] = kthread_trampoline as *const () as u64;
    &stack[base] as *const u64 as u64
}

/// Prepares a kernel stack whose top holds a user `TrapFrame` (already written by the caller at
/// `frame_addr`), so that switching to it returns to user mode through the trap exit path.
pub fn prepare_user_return(stack: &mut [u64], frame_addr: u64) -> u64 {
    let stack_base = stack.as_ptr() as u64;
    let frame_index = ((frame_addr - stack_base) / 8) as usize;
    let base = frame_index - SAVED_REGS - 1;
    stack[base..frame_index].fill(0);
    stack[base + SAVED_REGS] = super::trap::trap_return as *const () as u64;
    &stack[base] as *const u64 as u64
}
