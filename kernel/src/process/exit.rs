//! Process termination: release what the process holds, hand its children to init, become a
//! zombie and tell the parent.

use alloc::sync::Arc;
use core::sync::atomic::Ordering;

use super::signal::{
    self, SigInfo, CLD_DUMPED, CLD_EXITED, CLD_KILLED, SA_NOCLDWAIT, SIGCHLD, SIG_IGN,
};
use super::{Life, Process};
use crate::mm::user::UserPtr;
use crate::task;

/// Wait status of a normal exit.
pub fn status_exited(code: i32) -> i32 {
    (code & 0xff) << 8
}

/// Wait status of a death by signal (with the core-dump bit if a core would be written).
pub fn status_signaled(sig: u32, core: bool) -> i32 {
    (sig & 0x7f) as i32 | if core { 0x80 } else { 0 }
}

/// Ends the current process (all its threads) with `wait_status`.
pub fn exit_group(wait_status: i32) -> ! {
    let proc = super::current();
    release(&proc, wait_status);
    drop(proc);
    task::scheduler::exit_current()
}

fn release(proc: &Arc<Process>, wait_status: i32) {
    let thread = task::current();
    // Robust futexes the thread holds are marked OWNER_DIED, PI ones handed on (futex_exit);
    // its CPU time stays with the process, whose timers end.
    super::futex_exit::thread_exiting(proc, &thread);
    super::timers::thread_exited(proc, &thread);
    super::timers::on_exit(proc);
    // CLONE_CHILD_CLEARTID: zero the tid word and wake one futex sleeper on it, as Linux.
    let ctid = thread.clear_child_tid.swap(0, Ordering::Relaxed);
    if ctid != 0 && UserPtr::<u32>::new(ctid).write(&0).is_ok() {
        if let Some(vm) = proc.vm.lock().clone() {
            if let Ok(word) = crate::ipc::futex::Word::resolve(&vm, ctid, false) {
                crate::ipc::futex::wake(&word, 1, u32::MAX);
            }
        }
    }
    // Leave the user address space before freeing it.
    let kernel_root = crate::mm::kernel_page_table().root();
    crate::mm::switch_page_table(&kernel_root);
    thread.set_page_table_root(kernel_root);
    // The last user of the address space frees it (a vfork parent may still share it).
    let vm = proc.vm.lock().take();
    // System V: SEM_UNDO adjustments, and the detach of the segments this space attaches.
    crate::ipc::exit(proc.pid, vm.as_ref());
    drop(vm);
    let fds = core::mem::take(&mut *proc.fds.lock());
    for (_, f) in fds.entries() {
        f.file().closed_by(proc.pid);
    }
    drop(fds);
    crate::fs::lock::process_exited(proc.pid);
    // Sockets closed by the exit may leave cycles held only by messages in flight.
    crate::net::unix::gc::collect();
    super::job_control::leader_exit(proc);
    *proc.ctty.lock() = None;
    super::fork::finish_vfork(proc);

    reparent_children(proc);
    *proc.life.lock() = Life::Zombie(wait_status);
    // Pending signals die with the process (and stop counting against RLIMIT_SIGPENDING).
    signal::flush(proc);
    notify_parent(proc, wait_status);
}

/// Orphans go to init, which reaps them.
fn reparent_children(proc: &Arc<Process>) {
    let children = core::mem::take(&mut *proc.children.lock());
    if children.is_empty() {
        return;
    }
    let init = super::init_process();
    for c in &children {
        c.set_parent(&init);
    }
    init.children.lock().extend(children);
    init.child_events.wake_all();
}

fn notify_parent(proc: &Arc<Process>, wait_status: i32) {
    let Some(parent) = proc.parent() else { return };
    let act = parent.sigactions.lock().get(SIGCHLD);
    let autoreap = act.handler == SIG_IGN || act.flags & SA_NOCLDWAIT != 0;
    if autoreap {
        // No zombie: the child is reaped at once (waiters then see ECHILD).
        parent.children.lock().retain(|c| c.pid != proc.pid);
        super::unregister(proc.pid);
    }
    if act.handler != SIG_IGN {
        let code = if wait_status & 0x7f == 0 {
            CLD_EXITED
        } else if wait_status & 0x80 != 0 {
            CLD_DUMPED
        } else {
            CLD_KILLED
        };
        let status =
            if code == CLD_EXITED { (wait_status >> 8) & 0xff } else { wait_status & 0x7f };
        let uid = proc.creds.lock().uid;
        let sig = proc.exit_signal.load(Ordering::Relaxed);
        if sig != 0 {
            signal::send(&parent, sig, SigInfo::child(code, proc.pid, uid, status));
        }
    }
    parent.child_events.wake_all();
}
