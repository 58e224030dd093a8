//! Thread and process termination: a thread leaves its group; the last one out releases what
//! the process holds, hands its children to init, becomes a zombie and tells the parent.

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

/// exit(2): ends the calling thread. The last thread out ends the process, with the group's
/// status if exit_group or a fatal signal set one, else with `wait_status`.
pub fn exit_thread(wait_status: i32) -> ! {
    // PTRACE_EVENT_EXIT: the tracer sees the thread before anything of it goes.
    super::ptrace::exit_stop(wait_status);
    let proc = super::current();
    let thread = task::current();
    finish_thread(&proc, &thread, wait_status);
    // Nothing may be held across the last switch: a dead thread never drops it.
    drop(thread);
    drop(proc);
    task::scheduler::exit_current()
}

/// exit_group(2) and death by a signal: ends every thread of the current process with
/// `wait_status` (or with the status an earlier exit_group already chose).
pub fn exit_group(wait_status: i32) -> ! {
    let status = {
        let proc = super::current();
        start_group_exit(&proc, wait_status)
    };
    exit_thread(status)
}

/// Makes the group's exit status `wait_status` unless one was chosen already (which it
/// returns), and tells every other thread to die (a SIGKILL of its own, which ends any wait).
fn start_group_exit(proc: &Arc<Process>, wait_status: i32) -> i32 {
    if proc.de_thread.load(Ordering::Acquire) {
        // An execve in another thread is ending this one: the group lives on.
        return wait_status;
    }
    {
        let mut g = proc.group_exit.lock();
        if let Some(s) = *g {
            return s;
        }
        *g = Some(wait_status);
    }
    kill_other_threads(proc);
    wait_status
}

/// Every thread of `proc` but the caller gets SIGKILL on itself and is woken to act on it.
pub fn kill_other_threads(proc: &Process) {
    let me = task::current();
    proc.for_each_thread(|t| {
        if !Arc::ptr_eq(t, &me) {
            t.sig_pending.fetch_or(signal::bit(signal::SIGKILL), Ordering::Release);
            task::scheduler::wake_urgent(t);
        }
    });
    task::note_signal_work();
    // A stopped group wakes to die.
    proc.signals.wake_on_continue.wake_all();
}

/// Linux's mm_release for CLONE_CHILD_CLEARTID: zero the tid word and wake one futex sleeper
/// on it (what pthread_join waits for).
fn clear_child_tid(proc: &Process, thread: &task::Thread) {
    let ctid = thread.clear_child_tid.swap(0, Ordering::Relaxed);
    if ctid != 0 && UserPtr::<u32>::new(ctid).write(&0).is_ok() {
        if let Some(vm) = proc.vm.lock().clone() {
            if let Ok(word) = crate::ipc::futex::Word::resolve(&vm, ctid, false) {
                crate::ipc::futex::wake(&word, 1, u32::MAX);
            }
        }
    }
}

/// Takes the calling thread out of its group; the last one releases the process.
fn finish_thread(proc: &Arc<Process>, thread: &Arc<task::Thread>, wait_status: i32) {
    // Robust futexes the thread holds are marked OWNER_DIED, PI ones handed on (futex_exit),
    // before the tid word is cleared, as Linux's exit_mm_release.
    super::futex_exit::thread_exiting(proc, thread);
    clear_child_tid(proc, thread);
    let tid = thread.tid();
    if tid != proc.pid {
        super::unregister_tid(tid);
    }
    // Leave the user address space; the last thread out frees it below.
    let kernel_root = crate::mm::kernel_page_table().root();
    crate::mm::switch_page_table(&kernel_root);
    thread.set_page_table_root(kernel_root);
    // Its CPU time stays with the process.
    super::timers::thread_exited(proc, thread);
    let last = proc.detach_thread(thread);
    // After the detach: a signal sent to this thread from now on finds it gone (`post`).
    signal::flush_thread(proc, thread);
    let status = proc.group_exit.lock().unwrap_or(wait_status);
    if last {
        release(proc, status);
    } else {
        proc.uncharge_thread();
    }
    super::ptrace::on_thread_exit(proc, thread, status, last);
    proc.thread_exited.wake_all();
}

fn release(proc: &Arc<Process>, wait_status: i32) {
    super::timers::on_exit(proc);
    // The last user of the address space frees it (a vfork parent may still share it).
    let vm = proc.vm.lock().take();
    // System V: SEM_UNDO adjustments, and the detach of the segments this space attaches.
    crate::ipc::exit(proc.pid, vm.as_ref());
    drop(vm);
    // The descriptor table goes with the last process that shares it (CLONE_FILES).
    let table = proc.set_files(alloc::sync::Arc::new(crate::sync::Mutex::new(Default::default())));
    if alloc::sync::Arc::strong_count(&table) == 1 {
        let fds = core::mem::take(&mut *table.lock());
        for (_, f) in fds.entries() {
            f.file().closed_by(proc.pid);
        }
        drop(fds);
    }
    drop(table);
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
    proc.exit_pollee.notify(crate::event::IoEvents::IN);
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
    let act = parent.handlers().lock().get(SIGCHLD);
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
