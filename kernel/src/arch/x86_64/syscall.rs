//! The `syscall` entry. It builds a `TrapFrame` exactly like the interrupt path and returns with
//! `sysretq` when the frame still satisfies its rules (rcx = rip, r11 = rflags, canonical user rip),
//! otherwise through the general `iretq` path (after execve, rt_sigreturn, ...).

use core::arch::global_asm;

use super::cpu::{wrmsr, MSR_LSTAR, MSR_SFMASK, MSR_STAR};
use super::trap::{restore_sse, save_sse};

global_asm!(
    concat!(
        r#"
    .section .text
    .global syscall_entry
syscall_entry:
    swapgs
    movq %rsp, %gs:16
    movq %gs:8, %rsp
    pushq $0x23
    pushq %gs:16
    pushq %r11
    pushq $0x2b
    pushq %rcx
    pushq $0
    pushq $0x300          /* VEC_SYSCALL | FPU_PARTIAL */
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
    /* Only the SSE registers: kernel code may use them, never the x87 state or MXCSR.
       The full FXSAVE image is made only when needed (trap::complete_fpu). */
"#,
        save_sse!(),
        r#"
    movq %rsp, %rdi
    cld
    call syscall_dispatch

    movq 512+136(%rsp), %rcx
    cmpq 512+96(%rsp), %rcx
    jne trap_return
    movq 512+152(%rsp), %r11
    cmpq 512+32(%rsp), %r11
    jne trap_return
    cmpq $0x2b, 512+144(%rsp)
    jne trap_return
    shrq $47, %rcx
    jnz trap_return
    testq $0x200, 512+120(%rsp)
    jz trap_return
"#,
        restore_sse!(),
        r#"
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
    movq 40(%rsp), %rsp
    swapgs
    sysretq
    "#
    ),
    options(att_syntax)
);

extern "C" {
    fn syscall_entry();
}

pub fn init() {
    // SAFETY: the GDT (gdt::init, already loaded) has the selector layout STAR describes, and
    // `syscall_entry` is the entry point written for these settings.
    unsafe {
        // sysret: CS = STAR[63:48] + 16, SS = STAR[63:48] + 8; syscall: CS = STAR[47:32].
        wrmsr(MSR_STAR, (0x1bu64 << 48) | (0x08u64 << 32));
        wrmsr(MSR_LSTAR, syscall_entry as *const () as u64);
        // Clear TF, IF, DF, IOPL, NT and AC on entry.
        wrmsr(MSR_SFMASK, 0x47700);
    }
}
