//! The `syscall` entry. It builds a `TrapFrame` exactly like the interrupt path and returns with
//! `sysretq` when the frame still satisfies its rules (rcx = rip, r11 = rflags, canonical user rip),
//! otherwise through the general `iretq` path (after execve, rt_sigreturn, ...).

use core::arch::global_asm;

use super::cpu::{wrmsr, MSR_LSTAR, MSR_SFMASK, MSR_STAR};

global_asm!(
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
    "#,
    options(att_syntax)
);

extern "C" {
    fn syscall_entry();
}

pub fn init() {
    // sysret: CS = STAR[63:48] + 16, SS = STAR[63:48] + 8; syscall: CS = STAR[47:32].
    wrmsr(MSR_STAR, (0x1bu64 << 48) | (0x08u64 << 32));
    wrmsr(MSR_LSTAR, syscall_entry as *const () as u64);
    // Clear TF, IF, DF, IOPL, NT and AC on entry.
    wrmsr(MSR_SFMASK, 0x47700);
}
