//! fork, vfork and clone used as fork: a new process with a copy-on-write copy of the address
//! space and copies of the descriptor table, file-system context, credentials and dispositions.

use alloc::sync::Arc;
use core::sync::atomic::Ordering;

use super::{current, Process};
use crate::arch::trap::TrapFrame;
use crate::cap::Cap;
use crate::error::{Errno, Result};
use crate::mm::user::UserPtr;
use crate::task::{self, Thread};

pub const CLONE_VM: u64 = 0x100;
pub const CLONE_FS: u64 = 0x200;
pub const CLONE_FILES: u64 = 0x400;
pub const CLONE_SIGHAND: u64 = 0x800;
pub const CLONE_VFORK: u64 = 0x4000;
pub const CLONE_PARENT: u64 = 0x8000;
pub const CLONE_THREAD: u64 = 0x10000;
pub const CLONE_SETTLS: u64 = 0x80000;
pub const CLONE_PARENT_SETTID: u64 = 0x100000;
pub const CLONE_CHILD_CLEARTID: u64 = 0x200000;
pub const CLONE_CHILD_SETTID: u64 = 0x1000000;
const CSIGNAL: u64 = 0xff;
/// A generous bound on what a child takes from the heap besides its kernel stack.
const CHILD_HEAP_BYTES: usize = 32 * 1024;

pub struct CloneArgs {
    pub flags: u64,
    pub stack: u64,
    pub parent_tid: u64,
    pub child_tid: u64,
    pub tls: u64,
}

/// Creates a child process; returns its pid. The child returns 0 from the same syscall.
pub fn clone_process(args: &CloneArgs, frame: &TrapFrame) -> Result<u32> {
    let flags = args.flags;
    // Threads (CLONE_THREAD and the sharing that goes with it) are a later issue. CLONE_VM
    // alone shares the address space between two processes, as vfork and posix_spawn use it.
    let vfork = flags & CLONE_VFORK != 0;
    if flags & (CLONE_THREAD | CLONE_SIGHAND | CLONE_FS | CLONE_FILES) != 0 {
        crate::log!("clone: flags {:#x} need threads (not supported yet)", flags);
        return Err(Errno::EINVAL);
    }
    let exit_signal = (flags & CSIGNAL) as u32;
    if exit_signal > super::signal::NSIG {
        return Err(Errno::EINVAL);
    }
    let parent = current();
    let parent_thread = task::current();
    let (uid, exempt) = {
        let c = parent.creds.lock();
        (c.uid, c.capable(Cap::SysResource) || c.capable(Cap::SysAdmin))
    };
    // Linux's copy_process: RLIMIT_NPROC per real uid (root's uid, CAP_SYS_RESOURCE and
    // CAP_SYS_ADMIN exempt), then threads-max for all.
    let nproc = parent.rlimits.lock().0[super::rlimit::RLIMIT_NPROC].cur;
    if uid != 0 && !exempt && super::ucounts::processes(uid) >= nproc {
        return Err(Errno::EAGAIN);
    }
    if super::count() >= super::threads_max() as usize {
        return Err(Errno::EAGAIN);
    }
    // The child's kernel objects (process, tables, descriptor copies) must fit in the heap
    // beside the reserve; the kernel stack and page tables are fallible on their own.
    crate::mm::fallible::ensure_room(CHILD_HEAP_BYTES)?;
    // A table of a million descriptors is 16 MiB: its copy may fail (ENOMEM), not panic.
    let fds = parent.fds.lock().try_clone()?;
    let vm =
        if flags & CLONE_VM != 0 { parent.vm() } else { super::new_vm(parent.vm().lock().fork()?) };
    let pid = task::thread::alloc_tid();
    let fs = parent.fs.lock().clone();
    let child = Process::new(pid, Arc::downgrade(&parent), vm, fs);
    // From here a failure drops `child`, which uncounts it.
    if !child.charge_nproc(uid) {
        return Err(Errno::ENOMEM);
    }
    child.oom_score_adj.store(parent.oom_score_adj.load(Ordering::Relaxed), Ordering::Relaxed);
    child.priority.inherit(&parent.priority);
    *child.root.lock() = parent.root.lock().clone();
    child.pgid.store(parent.pgid(), Ordering::Relaxed);
    child.exit_signal.store(exit_signal, Ordering::Relaxed);
    child.sid.store(parent.sid(), Ordering::Relaxed);
    *child.fds.lock() = fds;
    *child.creds.lock() = parent.creds.lock().clone();
    child.sigactions.lock().0 = parent.sigactions.lock().0;
    *child.rlimits.lock() = parent.rlimits.lock().clone();
    *child.exe.lock() = parent.exe.lock().clone();
    *child.cmdline.lock() = parent.cmdline.lock().clone();
    *child.ctty.lock() = parent.ctty.lock().clone();
    *child.signals.alt_stack.lock() = *parent.signals.alt_stack.lock();

    let mut child_frame = *frame;
    child_frame.complete_fpu();
    child_frame.rax = 0;
    if args.stack != 0 {
        child_frame.rsp = args.stack;
    }
    if flags & CLONE_CHILD_SETTID != 0 {
        child.vm().lock().write_bytes(args.child_tid, &pid.to_ne_bytes())?;
    }
    if flags & CLONE_PARENT_SETTID != 0 {
        UserPtr::<u32>::new(args.parent_tid).write(&pid)?;
    }
    let root = child.vm().lock().root();
    // On failure the child, not yet anyone's child nor running, goes away with `child`.
    let thread = Thread::new_user(pid, &child_frame, root).ok_or(Errno::ENOMEM)?;
    let tls = if flags & CLONE_SETTLS != 0 {
        args.tls
    } else {
        parent_thread.fs_base.load(Ordering::Relaxed)
    };
    thread.fs_base.store(tls, Ordering::Relaxed);
    thread.gs_base.store(parent_thread.gs_base.load(Ordering::Relaxed), Ordering::Relaxed);
    thread.sig_blocked.store(parent_thread.sig_blocked.load(Ordering::Relaxed), Ordering::Relaxed);
    if flags & CLONE_CHILD_CLEARTID != 0 {
        thread.clear_child_tid.store(args.child_tid, Ordering::Relaxed);
    }
    crate::mm::fallible::try_push(&mut parent.children.lock(), child.clone())?;
    child.attach_thread(&thread);
    task::scheduler::spawn(thread);

    if vfork {
        // The parent sleeps until the child execs or exits; signals stay pending meanwhile.
        child
            .vfork_wait
            .wait_uninterruptible(|| child.vfork_done.load(Ordering::Acquire).then_some(()));
    }
    Ok(pid)
}

/// The child of a vfork released its parent (exec or exit).
pub fn finish_vfork(proc: &Process) {
    if !proc.vfork_done.swap(true, Ordering::AcqRel) {
        proc.vfork_wait.wake_all();
    }
}
