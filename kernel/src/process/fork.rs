//! fork, vfork and clone: a new process with a copy-on-write copy of the address space and
//! copies of the descriptor table, file-system context, credentials and dispositions, or
//! (CLONE_THREAD) a new thread of the caller's process.

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
pub const CLONE_PIDFD: u64 = 0x1000;
pub const CLONE_VFORK: u64 = 0x4000;
pub const CLONE_PARENT: u64 = 0x8000;
pub const CLONE_THREAD: u64 = 0x10000;
pub const CLONE_NEWNS: u64 = 0x20000;
pub const CLONE_SYSVSEM: u64 = 0x40000;
pub const CLONE_SETTLS: u64 = 0x80000;
pub const CLONE_PARENT_SETTID: u64 = 0x100000;
pub const CLONE_CHILD_CLEARTID: u64 = 0x200000;
pub const CLONE_DETACHED: u64 = 0x400000;
/// A tracer may not follow this child (Linux: only the kernel should use it).
pub const CLONE_UNTRACED: u64 = 0x800000;
pub const CLONE_CHILD_SETTID: u64 = 0x1000000;
pub const CLONE_NEWCGROUP: u64 = 0x0200_0000;
pub const CLONE_NEWUTS: u64 = 0x0400_0000;
pub const CLONE_NEWIPC: u64 = 0x0800_0000;
pub const CLONE_NEWUSER: u64 = 0x1000_0000;
pub const CLONE_NEWPID: u64 = 0x2000_0000;
pub const CLONE_NEWNET: u64 = 0x4000_0000;
pub const CLONE_IO: u64 = 0x8000_0000;
pub const CLONE_CLEAR_SIGHAND: u64 = 0x1_0000_0000;
pub const CLONE_INTO_CGROUP: u64 = 0x2_0000_0000;
pub const CSIGNAL: u64 = 0xff;
/// Every flag clone(2) has (its 32 bits); clone3 adds the ones above.
pub const CLONE_LEGACY_FLAGS: u64 = 0xffff_ffff;
/// Namespaces (and CLONE_NEWTIME, 0x80, which shares its bit with CSIGNAL in clone3 only).
pub const CLONE_NEW_ALL: u64 = CLONE_NEWNS
    | CLONE_NEWCGROUP
    | CLONE_NEWUTS
    | CLONE_NEWIPC
    | CLONE_NEWUSER
    | CLONE_NEWPID
    | CLONE_NEWNET;
/// A generous bound on what a child takes from the heap besides its kernel stack.
const CHILD_HEAP_BYTES: usize = 32 * 1024;

pub struct CloneArgs {
    pub flags: u64,
    pub stack: u64,
    pub parent_tid: u64,
    pub child_tid: u64,
    pub tls: u64,
    /// Where CLONE_PIDFD stores the new descriptor (clone: the parent_tid argument).
    pub pidfd: u64,
    pub exit_signal: u32,
    /// clone3's CLONE_CLEAR_SIGHAND.
    pub clear_sighand: bool,
}

/// Linux's copy_process checks on the flags, in its order.
fn check_flags(flags: u64) -> Result<()> {
    if flags & CLONE_NEW_ALL != 0 {
        // Namespaces are not there; say so once rather than pretend.
        crate::log!("clone: namespace flags {:#x} are not supported", flags & CLONE_NEW_ALL);
        return Err(Errno::EINVAL);
    }
    if flags & CLONE_THREAD != 0 && flags & CLONE_SIGHAND == 0 {
        return Err(Errno::EINVAL);
    }
    if flags & CLONE_SIGHAND != 0 && flags & CLONE_VM == 0 {
        return Err(Errno::EINVAL);
    }
    if flags & CLONE_PIDFD != 0 && flags & CLONE_DETACHED != 0 {
        return Err(Errno::EINVAL);
    }
    Ok(())
}

/// Creates a child process or, with CLONE_THREAD, a thread of the caller's process; returns
/// its id. The child returns 0 from the same system call.
pub fn clone_process(args: &CloneArgs, frame: &TrapFrame) -> Result<u32> {
    let flags = args.flags;
    check_flags(flags)?;
    if flags & CLONE_PIDFD != 0 && flags & CLONE_PARENT_SETTID != 0 && args.pidfd == args.parent_tid
    {
        return Err(Errno::EINVAL);
    }
    if flags & CLONE_THREAD != 0 && flags & (CLONE_FS | CLONE_FILES) != CLONE_FS | CLONE_FILES {
        // Threads share their process's descriptor table and fs context.
        crate::log!("clone: a thread without CLONE_FS|CLONE_FILES (not supported)");
        return Err(Errno::EINVAL);
    }
    let exit_signal = args.exit_signal;
    if exit_signal > super::signal::NSIG {
        return Err(Errno::EINVAL);
    }
    let vfork = flags & CLONE_VFORK != 0;
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
    if flags & CLONE_THREAD != 0 {
        return clone_thread(args, frame, &parent, &parent_thread);
    }
    // A table of a million descriptors is 16 MiB: its copy may fail (ENOMEM), not panic.
    // CLONE_FILES shares the table itself.
    let fds =
        if flags & CLONE_FILES != 0 { None } else { Some(parent.files().lock().try_clone()?) };
    let vm =
        if flags & CLONE_VM != 0 { parent.vm() } else { super::new_vm(parent.vm().lock().fork()?) };
    // CLONE_PARENT: a sibling of the caller, reporting to the caller's parent with the
    // signal the caller's group reports with.
    let (real_parent, exit_signal) = if flags & CLONE_PARENT != 0 {
        let grand = parent.parent().ok_or(Errno::EINVAL)?;
        (grand, parent.exit_signal.load(Ordering::Relaxed))
    } else {
        (parent.clone(), exit_signal)
    };
    let pid = task::thread::alloc_tid();
    let fs = parent.fs().lock().clone();
    let child = Process::new(pid, Arc::downgrade(&real_parent), vm, fs);
    // From here a failure drops `child`, which uncounts it.
    if !child.charge_nproc(uid) {
        return Err(Errno::ENOMEM);
    }
    child.oom_score_adj.inherit(&parent.oom_score_adj);
    child.priority.inherit(&parent.priority);
    *child.root.lock() = parent.root.lock().clone();
    child.pgid.store(parent.pgid(), Ordering::Relaxed);
    child.exit_signal.store(exit_signal, Ordering::Relaxed);
    child.dumpable.store(parent.dumpable.load(Ordering::Relaxed), Ordering::Relaxed);
    child.sid.store(parent.sid(), Ordering::Relaxed);
    match fds {
        Some(copy) => *child.files().lock() = copy,
        None => {
            child.set_files(parent.files());
        }
    }
    if flags & CLONE_FS != 0 {
        child.set_fs(parent.fs());
    }
    *child.creds.lock() = parent.creds.lock().clone();
    if flags & CLONE_SIGHAND != 0 {
        child.set_handlers(parent.handlers());
    } else {
        let mut acts = parent.handlers().lock().0;
        if args.clear_sighand {
            // clone3's CLONE_CLEAR_SIGHAND: handled signals back to the default; ignored stay.
            for a in acts.iter_mut() {
                if a.handler > super::signal::SIG_IGN {
                    *a = super::signal::SigAction::default();
                }
            }
        }
        child.handlers().lock().0 = acts;
    }
    *child.rlimits.lock() = parent.rlimits.lock().clone();
    *child.exe.lock() = parent.exe.lock().clone();
    *child.cmdline.lock() = parent.cmdline.lock().clone();
    *child.comm.lock() = Some(super::thread_comm(&parent, &parent_thread));
    *child.ctty.lock() = parent.ctty.lock().clone();

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
    child.reserve_thread()?;
    let pidfd = if flags & CLONE_PIDFD != 0 {
        Some(super::pidfd::install(&child, args.pidfd)?)
    } else {
        None
    };
    let root = child.vm().lock().root();
    // On failure the child, not yet anyone's child nor running, goes away with `child`.
    let Some(thread) = Thread::new_user(pid, &child_frame, root) else {
        undo_pidfd(pidfd);
        return Err(Errno::ENOMEM);
    };
    let tls = if flags & CLONE_SETTLS != 0 {
        args.tls
    } else {
        parent_thread.fs_base.load(Ordering::Relaxed)
    };
    thread.fs_base.store(tls, Ordering::Relaxed);
    thread.gs_base.store(parent_thread.gs_base.load(Ordering::Relaxed), Ordering::Relaxed);
    thread.sig_blocked.store(parent_thread.sig_blocked.load(Ordering::Relaxed), Ordering::Relaxed);
    *thread.comm.lock() = parent_thread.comm.lock().clone();
    // A child sharing the memory but not waiting (CLONE_VM without CLONE_VFORK) must not run
    // its handlers on the caller's alternate stack (Linux's copy_process).
    if flags & (CLONE_VM | CLONE_VFORK) != CLONE_VM {
        *thread.alt_stack.lock() = *parent_thread.alt_stack.lock();
    }
    // rseq stays registered in a fork child, not in one that shares the address space.
    if flags & CLONE_VM == 0 {
        thread.abi.copy_rseq_from(&parent_thread.abi);
    }
    if flags & CLONE_CHILD_CLEARTID != 0 {
        thread.clear_child_tid.store(args.child_tid, Ordering::Relaxed);
    }
    if let Err(e) = crate::mm::fallible::try_push(&mut real_parent.children.lock(), child.clone()) {
        undo_pidfd(pidfd);
        return Err(e);
    }
    child.attach_thread(&thread);
    publish_pidfd(pidfd);
    // A traced caller's tracer may follow the child from its first instruction.
    if flags & CLONE_UNTRACED == 0 {
        super::ptrace::on_clone(&parent_thread, &child, &thread, vfork, exit_signal);
    }
    task::scheduler::spawn(thread);

    if vfork {
        // The parent sleeps until the child execs or exits; signals stay pending meanwhile,
        // but SIGKILL ends the wait (Linux's killable wait_for_vfork_done): a child that never
        // execs must not make its parent unkillable.
        let me = task::current();
        child.vfork_wait.wait_uninterruptible(|| {
            (child.vfork_done.load(Ordering::Acquire) || killed(&me)).then_some(())
        });
    }
    Ok(pid)
}

/// SIGKILL is pending for `t` (it dies on its way back to user mode).
fn killed(t: &Thread) -> bool {
    t.pending_all() & super::signal::bit(super::signal::SIGKILL) != 0
}

/// A descriptor made for CLONE_PIDFD goes away again when the clone fails after it.
fn undo_pidfd(fd: Option<i32>) {
    if let Some(fd) = fd {
        super::fileops::unreserve(&[fd]);
    }
}

/// The clone succeeded: CLONE_PIDFD's descriptor becomes visible.
fn publish_pidfd(fd: Option<i32>) {
    if let Some(fd) = fd {
        super::fileops::publish(&[fd]);
    }
}

/// CLONE_THREAD: a new thread in the caller's process, sharing everything a process owns
/// (memory, descriptors, fs context, handlers, credentials, limits), with its own registers,
/// TLS base, signal mask and thread-directed signals.
fn clone_thread(
    args: &CloneArgs,
    frame: &TrapFrame,
    proc: &Arc<Process>,
    caller: &Arc<Thread>,
) -> Result<u32> {
    let flags = args.flags;
    if proc.group_exit.lock().is_some() || proc.de_thread.load(Ordering::Relaxed) {
        // The group is dying (exit_group, a fatal signal, an execve): no new members.
        return Err(Errno::EAGAIN);
    }
    let tid = task::thread::alloc_tid();
    let mut child_frame = *frame;
    child_frame.complete_fpu();
    child_frame.rax = 0;
    if args.stack != 0 {
        child_frame.rsp = args.stack;
    }
    if flags & CLONE_PARENT_SETTID != 0 {
        UserPtr::<u32>::new(args.parent_tid).write(&tid)?;
    }
    if flags & CLONE_CHILD_SETTID != 0 {
        // The same address space: the child's word is the caller's.
        UserPtr::<u32>::new(args.child_tid).write(&tid)?;
    }
    proc.reserve_thread()?;
    super::register_tid_fallible(tid, proc)?;
    let root = proc.vm().lock().root();
    let Some(thread) = Thread::new_user(tid, &child_frame, root) else {
        super::unregister_tid(tid);
        return Err(Errno::ENOMEM);
    };
    if !proc.charge_thread() {
        super::unregister_tid(tid);
        return Err(Errno::ENOMEM);
    }
    let pidfd = if flags & CLONE_PIDFD != 0 {
        match super::pidfd::install(proc, args.pidfd) {
            Ok(fd) => Some(fd),
            Err(e) => {
                proc.uncharge_thread();
                super::unregister_tid(tid);
                return Err(e);
            }
        }
    } else {
        None
    };
    let tls =
        if flags & CLONE_SETTLS != 0 { args.tls } else { caller.fs_base.load(Ordering::Relaxed) };
    thread.fs_base.store(tls, Ordering::Relaxed);
    thread.gs_base.store(caller.gs_base.load(Ordering::Relaxed), Ordering::Relaxed);
    thread.sig_blocked.store(caller.sig_blocked.load(Ordering::Relaxed), Ordering::Relaxed);
    *thread.comm.lock() = Some(super::thread_comm(proc, caller));
    // The alternate stack is not inherited by a thread (it would share the caller's).
    if flags & CLONE_CHILD_CLEARTID != 0 {
        thread.clear_child_tid.store(args.child_tid, Ordering::Relaxed);
    }
    proc.attach_thread(&thread);
    publish_pidfd(pidfd);
    if flags & CLONE_UNTRACED == 0 {
        super::ptrace::on_clone(caller, proc, &thread, flags & CLONE_VFORK != 0, 0);
    }
    task::scheduler::spawn(thread);
    if flags & CLONE_VFORK != 0 {
        // Rare with a thread, but Linux honours it: wait until the thread is gone (an exec
        // from it ends the caller anyway).
        proc.thread_exited
            .wait_uninterruptible(|| (proc.thread(tid).is_none() || killed(caller)).then_some(()));
    }
    Ok(tid)
}

/// The child of a vfork released its parent (exec or exit).
pub fn finish_vfork(proc: &Process) {
    if !proc.vfork_done.swap(true, Ordering::AcqRel) {
        proc.vfork_wait.wake_all();
    }
}
