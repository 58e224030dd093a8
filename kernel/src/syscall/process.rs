//! exit, fork/vfork/clone, execve, wait4/waitid, ids, groups and sessions, set_tid_address,
//! set_robust_list, arch_prctl, prctl, rlimits, getrusage, times, sched_yield.

use core::sync::atomic::Ordering;

use bytemuck::{Pod, Zeroable};

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

pub fn exit(code: i32) -> Result<i64> {
    exit::exit_group(exit::status_exited(code))
}

pub fn fork(frame: &TrapFrame) -> Result<i64> {
    let args = CloneArgs { flags: SIGCHLD, stack: 0, parent_tid: 0, child_tid: 0, tls: 0 };
    fork::clone_process(&args, frame).map(|p| p as i64)
}

pub fn vfork(frame: &TrapFrame) -> Result<i64> {
    let args = CloneArgs {
        flags: fork::CLONE_VM | fork::CLONE_VFORK | SIGCHLD,
        stack: 0,
        parent_tid: 0,
        child_tid: 0,
        tls: 0,
    };
    fork::clone_process(&args, frame).map(|p| p as i64)
}

/// clone(flags, stack, parent_tid, child_tid, tls) — the x86-64 argument order.
pub fn clone(
    flags: u64,
    stack: u64,
    ptid: u64,
    ctid: u64,
    tls: u64,
    frame: &TrapFrame,
) -> Result<i64> {
    let args = CloneArgs { flags, stack, parent_tid: ptid, child_tid: ctid, tls };
    fork::clone_process(&args, frame).map(|p| p as i64)
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

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable, Default)]
struct Rusage {
    utime: [i64; 2],
    stime: [i64; 2],
    rest: [i64; 14],
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
        UserPtr::<Rusage>::new(rusage).write(&Rusage::default())?;
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
        UserPtr::<Rusage>::new(rusage).write(&Rusage::default())?;
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
    Ok(task::with_current(|t| t.tid) as i64)
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
    Ok(t.tid as i64)
}

pub fn set_robust_list(_head: u64, len: u64) -> Result<i64> {
    // The list is only walked when a thread dies holding robust futexes (threads issue).
    if len != 24 {
        return Err(Errno::EINVAL);
    }
    Ok(0)
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
const PR_SET_NAME: i32 = 15;
const PR_GET_NAME: i32 = 16;
const PR_GET_CHILD_SUBREAPER: i32 = 37;
const PR_GET_KEEPCAPS: i32 = 7;
const PR_SET_KEEPCAPS: i32 = 8;
const PR_CAPBSET_READ: i32 = 23;

pub fn prctl(option: i32, arg2: u64) -> Result<i64> {
    let p = process::current();
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
            *p.comm.lock() =
                Some(alloc::string::String::from_utf8_lossy(&name[..len]).into_owned());
            Ok(0)
        }
        PR_GET_NAME => {
            let comm = process::comm_of(&p);
            let mut name = [0u8; 16];
            let n = comm.len().min(15);
            name[..n].copy_from_slice(&comm.as_bytes()[..n]);
            UserSlice::new(arg2, 16).write(&name).map(|_| 0)
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

pub fn getrusage(who: i32, usage: u64) -> Result<i64> {
    if !matches!(who, 0 | -1 | 1) {
        return Err(Errno::EINVAL);
    }
    let mut r = Rusage::default();
    if who == 0 || who == 1 {
        let ns = task::current().cpu_time_ns() as i64;
        r.utime = [ns / 1_000_000_000, (ns % 1_000_000_000) / 1000];
    }
    UserPtr::<Rusage>::new(usage).write(&r).map(|_| 0)
}

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct Tms {
    utime: i64,
    stime: i64,
    cutime: i64,
    cstime: i64,
}

pub fn times(buf: u64) -> Result<i64> {
    let ticks = |ns: u64| (ns / 10_000_000) as i64;
    if buf != 0 {
        let t = Tms { utime: ticks(task::current().cpu_time_ns()), stime: 0, cutime: 0, cstime: 0 };
        UserPtr::<Tms>::new(buf).write(&t)?;
    }
    Ok(ticks(crate::arch::time::monotonic_ns()) + 1)
}

pub fn sched_yield() -> Result<i64> {
    task::scheduler::yield_now();
    Ok(0)
}

pub fn sched_getaffinity(pid: i32, len: u64, mask: u64) -> Result<i64> {
    if pid != 0 && process::find(pid as u32).is_none() {
        return Err(Errno::ESRCH);
    }
    if len < 8 || len % 8 != 0 {
        return Err(Errno::EINVAL);
    }
    UserPtr::<u64>::new(mask).write(&1)?;
    Ok(8)
}
