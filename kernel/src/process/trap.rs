//! What happens when user code traps: system calls, faults that become signals, interrupts,
//! and the work done on every return to user mode.

use crate::arch::pic::{IRQ_COM1, IRQ_TIMER};
use crate::arch::trap::{self, TrapFrame, TrapHandlers};
use crate::arch::usercopy;
use crate::mm::vm::Access;

use super::exit;
use super::signal::*;

pub fn install() {
    trap::set_handlers(TrapHandlers {
        syscall: crate::syscall::dispatch,
        exception: on_exception,
        irq: on_irq,
        return_to_user: on_return_to_user,
    });
}

fn on_irq(_frame: &mut TrapFrame, irq: u8) {
    match irq {
        IRQ_TIMER => crate::task::on_timer_tick(),
        IRQ_COM1 => crate::fs::tty::console().on_receive_interrupt(),
        _ => {}
    }
}

fn on_return_to_user(_frame: &mut TrapFrame) {
    crate::task::scheduler::preempt_point();
}

/// Page-fault error code bits.
const PF_WRITE: u64 = 1 << 1;
const PF_INSTR: u64 = 1 << 4;

/// Tries to resolve a page fault in the current process's address space.
fn resolve_user_fault(addr: u64, error: u64) -> bool {
    if addr >= crate::arch::USER_END {
        return false;
    }
    let Some(owner) = crate::task::current().owner().cloned() else { return false };
    let Ok(proc) = owner.downcast::<super::Process>() else { return false };
    let access = Access { write: error & PF_WRITE != 0, exec: error & PF_INSTR != 0 };
    if proc.vm.is_locked() {
        panic!("page fault at {:#x} while the address space is locked", addr);
    }
    let ok = proc.vm.lock().handle_fault(addr, access).is_ok();
    ok
}

fn on_exception(frame: &mut TrapFrame, fault_addr: u64) {
    let vector = frame.vector;
    if frame.from_user() {
        if vector == trap::VEC_PAGE_FAULT && resolve_user_fault(fault_addr, frame.error_code) {
            return;
        }
        let sig = match vector {
            trap::VEC_DIVIDE => SIGFPE,
            trap::VEC_X87 | trap::VEC_SIMD => SIGFPE,
            trap::VEC_DEBUG | trap::VEC_BREAKPOINT => SIGTRAP,
            trap::VEC_INVALID_OPCODE => SIGILL,
            trap::VEC_ALIGNMENT => SIGBUS,
            _ => SIGSEGV,
        };
        // Signal delivery to handlers comes with the signals issue: for now every fault is fatal.
        exit::exit_current(exit::status_signaled(sig));
    }
    if vector == trap::VEC_PAGE_FAULT {
        if let Some(fixup) = usercopy::fixup_for(frame.rip) {
            if !resolve_user_fault(fault_addr, frame.error_code) {
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
