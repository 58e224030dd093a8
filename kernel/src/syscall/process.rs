//! exit, fork/vfork/clone, execve, wait4/waitid, ids, groups and sessions, set_tid_address,
//! arch_prctl, prctl, rlimits, sched_yield.

use core::sync::atomic::Ordering;

use bytemuck::{Pod, Zeroable};

use super::time::Rusage;
use crate::arch::trap::TrapFrame;
use crate::cap::Cap;
use crate::error::{Errno, Result};
use crate::mm::frame::PAGE_SIZE;
use crate::mm::user::{read_cstring, read_cstring_array, UserPtr, UserSlice};
use crate::process::fork::{self, CloneArgs};
use crate::process::rlimit::{Rlimit, RLIMIT_NOFILE, RLIM_NLIMITS};
use crate::process::wait::{
    self, Which, WALL, WCLONE, WCONTINUED, WEXITED, WNOHANG, WNOTHREAD, WNOWAIT, WSTOPPED,
    WUNTRACED,
};
use crate::process::{self, exec, exit, group};
use crate::task;

const ARCH_SET_GS: i32 = 0x1001;
const ARCH_SET_FS: i32 = 0x1002;
const ARCH_GET_FS: i32 = 0x1003;
const ARCH_GET_GS: i32 = 0x1004;
/// Linux's limit on argv + envp together.
const ARG_MAX: usize = 2 * 1024 * 1024;
const SIGCHLD: u64 = 17;

/// exit(2): ends the calling thread only.
pub fn exit(code: i32) -> Result<i64> {
    exit::exit_thread(exit::status_exited(code))
}

/// exit_group(2): ends every thread of the process.
pub fn exit_group(code: i32) -> Result<i64> {
    exit::exit_group(exit::status_exited(code))
}

fn plain_args(flags: u64) -> CloneArgs {
    CloneArgs {
        flags,
        stack: 0,
        parent_tid: 0,
        child_tid: 0,
        tls: 0,
        pidfd: 0,
        exit_signal: SIGCHLD as u32,
        clear_sighand: false,
    }
}

pub fn fork(frame: &TrapFrame) -> Result<i64> {
    fork::clone_process(&plain_args(0), frame).map(|p| p as i64)
}

pub fn vfork(frame: &TrapFrame) -> Result<i64> {
    fork::clone_process(&plain_args(fork::CLONE_VM | fork::CLONE_VFORK), frame).map(|p| p as i64)
}

/// clone(flags, stack, parent_tid, child_tid, tls) — the x86-64 argument order. The low byte
/// of `flags` is the exit signal; CLONE_PIDFD stores the descriptor at `parent_tid`.
pub fn clone(
    flags: u64,
    stack: u64,
    ptid: u64,
    ctid: u64,
    tls: u64,
    frame: &TrapFrame,
) -> Result<i64> {
    // Only the low 32 bits are flags in clone(2); CLONE_DETACHED is ignored there.
    let flags = flags & 0xffff_ffff;
    let exit_signal =
        if flags & fork::CLONE_THREAD != 0 { 0 } else { (flags & fork::CSIGNAL) as u32 };
    let args = CloneArgs {
        flags: flags & !fork::CSIGNAL & !fork::CLONE_DETACHED,
        stack,
        parent_tid: ptid,
        child_tid: ctid,
        tls,
        pidfd: ptid,
        exit_signal,
        clear_sighand: false,
    };
    fork::clone_process(&args, frame).map(|p| p as i64)
}

/// `struct clone_args` of clone3 (its first version, 64 bytes, and the later fields).
#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable, Default)]
struct Clone3Args {
    flags: u64,
    pidfd: u64,
    child_tid: u64,
    parent_tid: u64,
    exit_signal: u64,
    stack: u64,
    stack_size: u64,
    tls: u64,
    set_tid: u64,
    set_tid_size: u64,
    cgroup: u64,
}

const CLONE_ARGS_SIZE_VER0: u64 = 64;

/// clone3(args, size): Linux's copy_clone_args_from_user and clone3_args_valid.
pub fn clone3(uargs: u64, size: u64, frame: &TrapFrame) -> Result<i64> {
    if size > PAGE_SIZE {
        return Err(Errno::E2BIG);
    }
    if size < CLONE_ARGS_SIZE_VER0 {
        return Err(Errno::EINVAL);
    }
    let known = core::mem::size_of::<Clone3Args>() as u64;
    let mut bytes = [0u8; core::mem::size_of::<Clone3Args>()];
    let n = size.min(known) as usize;
    UserSlice::new(uargs, n).read(&mut bytes[..n])?;
    if size > known {
        // A newer caller's extra fields must be zero (copy_struct_from_user).
        let mut rest = alloc::vec::Vec::new();
        rest.try_reserve_exact((size - known) as usize).map_err(|_| Errno::ENOMEM)?;
        rest.resize((size - known) as usize, 0u8);
        UserSlice::new(uargs + known, rest.len()).read(&mut rest)?;
        if rest.iter().any(|&b| b != 0) {
            return Err(Errno::E2BIG);
        }
    }
    let a: Clone3Args = bytemuck::pod_read_unaligned(&bytes);
    if a.exit_signal & !fork::CSIGNAL != 0 || a.exit_signal > process::signal::NSIG as u64 {
        return Err(Errno::EINVAL);
    }
    if a.set_tid_size > 32
        || (a.set_tid == 0 && a.set_tid_size > 0)
        || (a.set_tid != 0 && a.set_tid_size == 0)
    {
        return Err(Errno::EINVAL);
    }
    if a.set_tid_size > 0 {
        // Choosing the child's pid needs CAP_SYS_ADMIN in a pid namespace: not supported.
        return Err(Errno::EINVAL);
    }
    if a.cgroup > i32::MAX as u64 {
        return Err(Errno::EINVAL);
    }
    let valid = fork::CLONE_LEGACY_FLAGS | fork::CLONE_CLEAR_SIGHAND | fork::CLONE_INTO_CGROUP;
    if a.flags & !valid != 0 || a.flags & (fork::CLONE_DETACHED | fork::CSIGNAL) != 0 {
        return Err(Errno::EINVAL);
    }
    if a.flags & (fork::CLONE_SIGHAND | fork::CLONE_CLEAR_SIGHAND)
        == fork::CLONE_SIGHAND | fork::CLONE_CLEAR_SIGHAND
    {
        return Err(Errno::EINVAL);
    }
    if a.flags & (fork::CLONE_THREAD | fork::CLONE_PARENT) != 0 && a.exit_signal != 0 {
        return Err(Errno::EINVAL);
    }
    // The stack is given as a range: both or neither.
    let stack = match (a.stack, a.stack_size) {
        (0, 0) => 0,
        (0, _) | (_, 0) => return Err(Errno::EINVAL),
        (base, len) => {
            base.checked_add(len).filter(|&t| t <= crate::arch::USER_END).ok_or(Errno::EINVAL)?
        }
    };
    if a.flags & fork::CLONE_INTO_CGROUP != 0 {
        // No cgroups here: the descriptor cannot name one.
        return Err(Errno::EBADF);
    }
    let args = CloneArgs {
        flags: a.flags & !fork::CLONE_CLEAR_SIGHAND,
        stack,
        parent_tid: a.parent_tid,
        child_tid: a.child_tid,
        tls: a.tls,
        pidfd: a.pidfd,
        exit_signal: a.exit_signal as u32,
        clear_sighand: a.flags & fork::CLONE_CLEAR_SIGHAND != 0,
    };
    let id = fork::clone_process(&args, frame)?;
    Ok(id as i64)
}

/// unshare(2): the calling process stops sharing what `flags` names: CLONE_FILES and CLONE_FS
/// give it a copy of a table it shares with another process (CLONE_FILES/CLONE_FS clones);
/// CLONE_SYSVSEM's undo list is already its own. Tables are per process here, so with several
/// threads only an unshare with nothing to do succeeds (see docs/threads.md).
pub fn unshare(flags: u64) -> Result<i64> {
    use alloc::sync::Arc;
    use fork::*;
    let allowed = CLONE_FILES | CLONE_FS | CLONE_SYSVSEM | CLONE_THREAD | CLONE_SIGHAND | CLONE_VM;
    if flags & !(allowed | CLONE_NEW_ALL) != 0 {
        return Err(Errno::EINVAL);
    }
    if flags & CLONE_NEW_ALL != 0 {
        crate::log!("unshare: namespace flags {:#x} are not supported", flags);
        return Err(Errno::EINVAL);
    }
    let p = process::current();
    let threads = p.thread_count();
    // Linux: CLONE_THREAD, CLONE_SIGHAND and CLONE_VM can be unshared only by a task that does
    // not share them (one thread, handlers and memory of its own); otherwise EINVAL.
    if flags & (CLONE_THREAD | CLONE_SIGHAND | CLONE_VM) != 0 && threads > 1 {
        return Err(Errno::EINVAL);
    }
    if flags & CLONE_SIGHAND != 0 && Arc::strong_count(&p.handlers()) > 2 {
        return Err(Errno::EINVAL);
    }
    if flags & CLONE_VM != 0 && Arc::strong_count(&p.vm()) > 2 {
        return Err(Errno::EINVAL);
    }
    let files = p.files();
    let fs = p.fs();
    let shares_files = Arc::strong_count(&files) > 2;
    let shares_fs = Arc::strong_count(&fs) > 2;
    if threads > 1 && flags & (CLONE_FILES | CLONE_FS) != 0 {
        // The table belongs to the process, shared by all its threads: one thread cannot take
        // a private copy.
        crate::log!("unshare: CLONE_FILES/CLONE_FS in a process with threads is not supported");
        return Err(Errno::EINVAL);
    }
    if flags & CLONE_FILES != 0 && shares_files {
        let copy = files.lock().try_clone()?;
        crate::mm::fallible::ensure_room(256)?;
        p.set_files(Arc::new(crate::sync::Mutex::new(copy)));
    }
    if flags & CLONE_FS != 0 && shares_fs {
        crate::mm::fallible::ensure_room(256)?;
        let copy = fs.lock().clone();
        p.set_fs(Arc::new(crate::sync::Mutex::new(copy)));
    }
    Ok(0)
}

/// pidfd_open(pid, flags): a pidfd for the process `pid` (a thread group leader).
pub fn pidfd_open(pid: i32, flags: u32) -> Result<i64> {
    const PIDFD_NONBLOCK: u32 = crate::fs::file::O_NONBLOCK;
    const PIDFD_THREAD: u32 = crate::fs::file::O_EXCL;
    if flags & !(PIDFD_NONBLOCK | PIDFD_THREAD) != 0 || pid <= 0 {
        return Err(Errno::EINVAL);
    }
    let proc = if flags & PIDFD_THREAD != 0 {
        process::find_by_tid(pid as u32).ok_or(Errno::ESRCH)?
    } else {
        let p = process::find(pid as u32).ok_or(Errno::ESRCH)?;
        // A group whose leader is gone but other threads live is still the process (Linux
        // refuses a pid that is not a group leader: a non-leader tid is not in our table).
        p
    };
    process::pidfd::open(&proc, flags & PIDFD_NONBLOCK != 0).map(|fd| fd as i64)
}

pub fn execve(path: u64, argv: u64, envp: u64, frame: &mut TrapFrame) -> Result<i64> {
    // argv and envp are copied into the heap (up to ARG_MAX each, in vectors that grow as
    // they are read): ENOMEM rather than a heap panic when the heap is nearly full.
    crate::mm::fallible::ensure_room(2 * ARG_MAX)?;
    let path = read_cstring(path, crate::fs::path::PATH_MAX)?;
    let argv = read_cstring_array(argv, ARG_MAX)?;
    crate::mm::fallible::ensure_room(2 * ARG_MAX)?;
    let envp = read_cstring_array(envp, ARG_MAX)?;
    exec::execve(&path, argv, envp, frame)?;
    Ok(0)
}

fn which_of(pid: i32) -> Result<Which> {
    Ok(match pid {
        -1 => Which::Any,
        0 => Which::Group(process::current().pgid()),
        p if p < -1 => Which::Group(p.unsigned_abs()),
        p => Which::Pid(p as u32),
    })
}

pub fn wait4(pid: i32, status: u64, options: u32, rusage: u64) -> Result<i64> {
    if options & !(WNOHANG | WUNTRACED | WCONTINUED | WALL | WCLONE | WNOTHREAD) != 0 {
        return Err(Errno::EINVAL);
    }
    if pid == i32::MIN {
        return Err(Errno::ESRCH);
    }
    let found = wait::wait(which_of(pid)?, options | WEXITED)?;
    let Some(r) = found else { return Ok(0) };
    if status != 0 {
        UserPtr::<i32>::new(status).write(&r.status)?;
    }
    if rusage != 0 {
        UserPtr::<Rusage>::new(rusage).write(&Rusage::from_times(r.cpu))?;
    }
    Ok(r.pid as i64)
}

const P_ALL: u32 = 0;
const P_PID: u32 = 1;
const P_PGID: u32 = 2;

pub fn waitid(idtype: u32, id: u32, infop: u64, options: u32, rusage: u64) -> Result<i64> {
    if options & !(WNOHANG | WSTOPPED | WEXITED | WCONTINUED | WNOWAIT | WALL | WCLONE | WNOTHREAD)
        != 0
        || options & (WSTOPPED | WEXITED | WCONTINUED) == 0
    {
        return Err(Errno::EINVAL);
    }
    let which = match idtype {
        P_ALL => Which::Any,
        P_PID if id > 0 => Which::Pid(id),
        P_PGID => Which::Group(if id == 0 { process::current().pgid() } else { id }),
        _ => return Err(Errno::EINVAL),
    };
    let found = wait::wait(which, options)?;
    if infop != 0 {
        use crate::process::signal::SigInfo;
        // WNOHANG with nothing ready: Linux zeroes the siginfo.
        let info = match &found {
            Some(r) => SigInfo::child(r.code, r.pid, r.uid, r.si_status),
            None => bytemuck::Zeroable::zeroed(),
        };
        UserPtr::<SigInfo>::new(infop).write(&info)?;
    }
    if rusage != 0 {
        // WNOHANG with nothing ready: zeroes, as the siginfo.
        let times = found.as_ref().map_or((0, 0), |r| r.cpu);
        UserPtr::<Rusage>::new(rusage).write(&Rusage::from_times(times))?;
    }
    Ok(0)
}

pub fn getpid() -> Result<i64> {
    Ok(process::with_current(|p| p.pid) as i64)
}

pub fn getppid() -> Result<i64> {
    Ok(process::with_current(|p| p.ppid()) as i64)
}

pub fn gettid() -> Result<i64> {
    Ok(task::with_current(|t| t.tid()) as i64)
}

pub fn setpgid(pid: i32, pgid: i32) -> Result<i64> {
    if pid < 0 || pgid < 0 {
        return Err(Errno::EINVAL);
    }
    group::setpgid(pid as u32, pgid as u32).map(|_| 0)
}

pub fn getpgid(pid: i32) -> Result<i64> {
    if pid < 0 {
        return Err(Errno::ESRCH);
    }
    group::getpgid(pid as u32).map(|g| g as i64)
}

pub fn getpgrp() -> Result<i64> {
    Ok(process::current().pgid() as i64)
}

pub fn setsid() -> Result<i64> {
    group::setsid().map(|s| s as i64)
}

pub fn getsid(pid: i32) -> Result<i64> {
    if pid < 0 {
        return Err(Errno::ESRCH);
    }
    group::getsid(pid as u32).map(|s| s as i64)
}

pub fn set_tid_address(addr: u64) -> Result<i64> {
    let t = task::current();
    t.clear_child_tid.store(addr, Ordering::Relaxed);
    Ok(t.tid() as i64)
}

pub fn arch_prctl(code: i32, addr: u64) -> Result<i64> {
    let t = task::current();
    match code {
        ARCH_SET_FS | ARCH_SET_GS => {
            // Linux's bound is TASK_SIZE_MAX: the last user page is refused too.
            if addr >= crate::arch::USER_END - PAGE_SIZE {
                return Err(Errno::EPERM);
            }
            if code == ARCH_SET_FS {
                t.set_fs_base(addr);
            } else {
                t.set_gs_base(addr);
            }
            Ok(0)
        }
        ARCH_GET_FS => {
            UserPtr::<u64>::new(addr).write(&t.fs_base.load(Ordering::Relaxed)).map(|_| 0)
        }
        ARCH_GET_GS => {
            UserPtr::<u64>::new(addr).write(&t.gs_base.load(Ordering::Relaxed)).map(|_| 0)
        }
        _ => Err(Errno::EINVAL),
    }
}

const PR_SET_PDEATHSIG: i32 = 1;
const PR_GET_PDEATHSIG: i32 = 2;
const PR_GET_DUMPABLE: i32 = 3;
const PR_SET_DUMPABLE: i32 = 4;
const PR_SET_NAME: i32 = 15;
const PR_GET_NAME: i32 = 16;
const PR_GET_CHILD_SUBREAPER: i32 = 37;
const PR_GET_KEEPCAPS: i32 = 7;
const PR_SET_KEEPCAPS: i32 = 8;
const PR_CAPBSET_READ: i32 = 23;

pub fn prctl(option: i32, arg2: u64) -> Result<i64> {
    let p = process::current();
    let me = task::current();
    match option {
        PR_SET_NAME => {
            let mut name = [0u8; 16];
            UserSlice::new(arg2, 15).read(&mut name[..15]).or_else(|_| {
                // The name may end closer than 15 bytes before an unmapped page.
                read_cstring(arg2, 4096).map(|s| {
                    let n = s.len().min(15);
                    name[..n].copy_from_slice(&s.as_bytes()[..n]);
                })
            })?;
            let len = name.iter().position(|&b| b == 0).unwrap_or(15);
            let name = alloc::string::String::from_utf8_lossy(&name[..len]).into_owned();
            // The name is the calling thread's; the leader's is also the process's.
            if me.tid() == p.pid {
                *p.comm.lock() = Some(name.clone());
            }
            *me.comm.lock() = Some(name);
            Ok(0)
        }
        PR_GET_NAME => {
            let comm = process::thread_comm(&p, &me);
            let mut name = [0u8; 16];
            let n = comm.len().min(15);
            name[..n].copy_from_slice(&comm.as_bytes()[..n]);
            UserSlice::new(arg2, 16).write(&name).map(|_| 0)
        }
        PR_GET_DUMPABLE => Ok(p.dumpable.load(core::sync::atomic::Ordering::Relaxed) as i64),
        // 2 (SUID_DUMP_ROOT) is for the kernel's own use: EINVAL, as Linux.
        PR_SET_DUMPABLE if arg2 <= 1 => {
            p.dumpable.store(arg2 == 1, core::sync::atomic::Ordering::Relaxed);
            Ok(0)
        }
        PR_SET_PDEATHSIG => Ok(0),
        PR_GET_PDEATHSIG => UserPtr::<i32>::new(arg2).write(&0).map(|_| 0),
        PR_GET_CHILD_SUBREAPER => UserPtr::<i32>::new(arg2).write(&0).map(|_| 0),
        PR_GET_KEEPCAPS => Ok(p.creds.lock().keep_caps as i64),
        PR_SET_KEEPCAPS if arg2 <= 1 => {
            p.creds.lock().keep_caps = arg2 == 1;
            Ok(0)
        }
        // The bounding set is full and never shrinks here.
        PR_CAPBSET_READ if arg2 <= crate::cap::LAST as u64 => Ok(1),
        _ => Err(Errno::EINVAL),
    }
}

pub fn prlimit64(pid: i32, resource: i32, new: u64, old: u64) -> Result<i64> {
    let proc = if pid == 0 {
        process::current()
    } else {
        process::find(pid as u32).ok_or(Errno::ESRCH)?
    };
    let r = usize::try_from(resource).ok().filter(|&r| r < RLIM_NLIMITS).ok_or(Errno::EINVAL)?;
    let new_limit = if new != 0 { Some(UserPtr::<Rlimit>::new(new).read()?) } else { None };
    if let Some(n) = new_limit {
        if n.cur > n.max {
            return Err(Errno::EINVAL);
        }
        let previous = proc.rlimits.lock().0[r];
        if n.max > previous.max && !process::current().creds.lock().capable(Cap::SysResource) {
            return Err(Errno::EPERM);
        }
        if r == RLIMIT_NOFILE && n.max > 1 << 20 {
            return Err(Errno::EPERM);
        }
    }
    let previous = proc.rlimits.lock().0[r];
    if old != 0 {
        UserPtr::<Rlimit>::new(old).write(&previous)?;
    }
    if let Some(n) = new_limit {
        proc.rlimits.lock().0[r] = n;
    }
    Ok(0)
}

pub fn sched_yield() -> Result<i64> {
    task::scheduler::yield_now();
    Ok(0)
}
