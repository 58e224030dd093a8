//! What happens when user code traps: system calls, faults that become signals, interrupts,
//! and the work done on every return to user mode (preemption, signal delivery).

use alloc::sync::Arc;

use crate::arch::pic::{IRQ_COM1, IRQ_TIMER};
use crate::arch::trap::{self, TrapFrame};
use crate::arch::usercopy;
use crate::mm::vm::{Access, FaultError};

use super::signal::{self, SigInfo, *};
use super::Process;

// main.rs installs these, with `syscall::dispatch`, as the `arch::trap::TrapHandlers`: `process`
// sits below `syscall` and may not name it.

pub fn on_irq(frame: &mut TrapFrame, irq: u8) {
    let from_user = frame.from_user();
    if from_user {
        interrupted_user();
    }
    match irq {
        IRQ_TIMER => {
            crate::task::on_timer_tick();
            super::timers::on_tick();
            if from_user {
                // CPU-clock timers of the process this tick interrupted.
                if let Some(p) = current_process() {
                    super::timers::on_user_tick(&p);
                }
            }
            crate::net::inet::on_tick();
        }
        IRQ_COM1 => crate::fs::tty::console::on_receive_interrupt(),
        other => crate::net::inet::on_irq(other),
    }
}

/// A system call, fault or interrupt from user mode: the time until now was user time.
pub fn entered_from_user() {
    crate::task::cputime::enter_kernel();
}

/// An interrupt or fault from user mode: as a system call, and the user code may have been
/// inside an rseq critical section, which a signal delivered now must abort (system calls are
/// not allowed in one).
fn interrupted_user() {
    entered_from_user();
    crate::task::with_current(|t| {
        t.abi.rseq_event.store(true, core::sync::atomic::Ordering::Relaxed)
    });
}

pub fn on_return_to_user(frame: &mut TrapFrame) {
    crate::task::scheduler::preempt_point();
    // rseq before a signal frame saves the return address (Linux's rseq_signal_deliver).
    super::rseq::on_return_to_user(frame);
    signal::deliver(frame);
    crate::task::cputime::leave_kernel();
}

/// Page-fault error code bits.
const PF_WRITE: u64 = 1 << 1;
const PF_INSTR: u64 = 1 << 4;

fn current_process() -> Option<Arc<Process>> {
    super::of_thread(&crate::task::current())
}

/// Tries to resolve a page fault in the current process's address space.
fn resolve_user_fault(addr: u64, error: u64) -> Result<(), FaultError> {
    if addr >= crate::arch::USER_END {
        return Err(FaultError::Segv);
    }
    let proc = current_process().ok_or(FaultError::Segv)?;
    let access = Access { write: error & PF_WRITE != 0, exec: error & PF_INSTR != 0 };
    let vm = proc.vm.lock().clone().ok_or(FaultError::Segv)?;
    // From user mode this CPU holds no lock; another CPU running a sibling thread may hold the
    // address space's, and the fault waits for it.
    let r = vm.lock().handle_fault(addr, access);
    r
}

/// A fault the program caused: the signal is delivered even if blocked or ignored (Linux's
/// force_sig), so the program dies unless a handler takes it.
fn force_signal(sig: u32, info: SigInfo) {
    let Some(proc) = current_process() else { return };
    let thread = crate::task::current();
    let blocked =
        thread.sig_blocked.load(core::sync::atomic::Ordering::Relaxed) & signal::bit(sig) != 0;
    let acts_ref = proc.handlers();
    let mut acts = acts_ref.lock();
    if blocked || acts.get(sig).handler == SIG_IGN {
        acts.set(sig, SigAction::default());
        thread.sig_blocked.fetch_and(!signal::bit(sig), core::sync::atomic::Ordering::Relaxed);
    }
    drop(acts);
    signal::send_to_thread(&proc, &thread, sig, info);
}

pub fn on_exception(frame: &mut TrapFrame, fault_addr: u64) {
    let vector = frame.vector;
    if frame.from_user() {
        interrupted_user();
        let (sig, info) = match vector {
            trap::VEC_PAGE_FAULT => match resolve_user_fault(fault_addr, frame.error_code) {
                Ok(()) => return,
                Err(FaultError::Bus) => (SIGBUS, SigInfo::fault(SIGBUS, BUS_ADRERR, fault_addr)),
                Err(FaultError::OutOfMemory) => (SIGKILL, SigInfo::new(SIGKILL, SI_KERNEL)),
                Err(FaultError::Segv) => {
                    (SIGSEGV, SigInfo::fault(SIGSEGV, SEGV_MAPERR, fault_addr))
                }
                Err(FaultError::Denied) => {
                    (SIGSEGV, SigInfo::fault(SIGSEGV, SEGV_ACCERR, fault_addr))
                }
            },
            trap::VEC_DIVIDE => (SIGFPE, SigInfo::fault(SIGFPE, 1, frame.rip)), // FPE_INTDIV
            trap::VEC_X87 | trap::VEC_SIMD => (SIGFPE, SigInfo::fault(SIGFPE, 0, frame.rip)),
            trap::VEC_DEBUG | trap::VEC_BREAKPOINT => (SIGTRAP, SigInfo::new(SIGTRAP, SI_KERNEL)),
            trap::VEC_INVALID_OPCODE => (SIGILL, SigInfo::fault(SIGILL, 2, frame.rip)), // ILL_ILLOPN
            trap::VEC_ALIGNMENT => (SIGBUS, SigInfo::fault(SIGBUS, 1, fault_addr)),
            // #GP and the rest: privileged instructions, bad segment loads.
            _ => (SIGSEGV, SigInfo::new(SIGSEGV, SI_KERNEL)),
        };
        force_signal(sig, info);
        return;
    }
    if vector == trap::VEC_PAGE_FAULT {
        if let Some(fixup) = usercopy::fixup_for(frame.rip) {
            if resolve_user_fault(fault_addr, frame.error_code).is_err() {
                frame.rip = fixup;
            }
            return;
        }
    }
    panic!(
        "kernel exception {} (error {:#x}) at rip {:#x}, address {:#x}, rsp {:#x}",
        vector, frame.error_code, frame.rip, fault_addr, frame.rsp
    );
}
