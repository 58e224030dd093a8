//! What the end of a thread (exit, or execve for the old image) does to its futexes: the
//! robust list is walked (locks it holds get FUTEX_OWNER_DIED and a waiter is woken) and the
//! waiters of PI locks it owned try again (Linux's futex_exit_release / futex_exec_release).
//! Runs while the thread's address space is still the current one.

use core::sync::atomic::Ordering;

use super::Process;
use crate::ipc::futex;
use crate::task::Thread;

/// `thread` of `proc` is ending.
pub fn thread_exiting(proc: &Process, thread: &Thread) {
    let head = thread.abi.robust_head.swap(0, Ordering::Relaxed);
    if head != 0 {
        if let Some(vm) = proc.vm.lock().clone() {
            futex::exit_robust_list(&vm, head, thread.tid());
        }
    }
    futex::owner_exited(thread.tid());
}

/// execve: as an exit for the old image's locks; the robust list and rseq registrations end.
pub fn exec_release(proc: &Process, thread: &Thread) {
    thread_exiting(proc, thread);
    thread.abi.clear();
}
