//! Process termination and the wait status encoding.

use alloc::sync::Arc;

use super::Process;
use crate::task;

/// Wait status of a normal exit.
pub fn status_exited(code: i32) -> i32 {
    (code & 0xff) << 8
}

/// Wait status of a death by signal.
pub fn status_signaled(sig: u32) -> i32 {
    (sig & 0x7f) as i32
}

/// Ends the current process with `wait_status`: releases its memory and files, records the
/// status, wakes waiters, and ends the calling thread.
pub fn exit_current(wait_status: i32) -> ! {
    let proc = super::current();
    release(&proc, wait_status);
    drop(proc);
    task::scheduler::exit_current()
}

fn release(proc: &Arc<Process>, wait_status: i32) {
    // Leave the user address space before freeing it.
    crate::mm::switch_page_table(crate::mm::kernel_page_table().root());
    task::current().set_page_table_root(crate::mm::kernel_page_table().root());
    proc.vm.lock().clear();
    let fds = core::mem::take(&mut *proc.fds.lock());
    drop(fds);
    *proc.exit_status.lock() = Some(wait_status);
    proc.exited.wake_all();
}
