//! exit, execve, ids, set_tid_address, set_robust_list, arch_prctl, prlimit64, sched_yield.

use core::sync::atomic::Ordering;

use crate::arch::cpu;
use crate::arch::trap::TrapFrame;
use crate::error::{Errno, Result};
use crate::mm::user::{read_cstring, read_cstring_array, UserPtr};
use crate::process::rlimit::{Rlimit, RLIM_NLIMITS, RLIMIT_NOFILE};
use crate::process::{self, exec, exit};
use crate::task;

const ARCH_SET_GS: i32 = 0x1001;
const ARCH_SET_FS: i32 = 0x1002;
const ARCH_GET_FS: i32 = 0x1003;
const ARCH_GET_GS: i32 = 0x1004;
/// Linux's limit on argv + envp (MAX_ARG_STRLEN * 32 for the whole vector).
const ARG_MAX: usize = 2 * 1024 * 1024;

pub fn exit(code: i32) -> Result<i64> {
    exit::exit_current(exit::status_exited(code))
}

pub fn execve(path: u64, argv: u64, envp: u64, frame: &mut TrapFrame) -> Result<i64> {
    let path = read_cstring(path, crate::fs::path::PATH_MAX)?;
    let argv = read_cstring_array(argv, ARG_MAX)?;
    let envp = read_cstring_array(envp, ARG_MAX)?;
    let image = exec::load(&path, &argv, &envp)?;
    let proc = process::current();
    let root = image.vm.root();
    let thread = task::current();
    thread.set_page_table_root(root);
    crate::mm::switch_page_table(root);
    let old = core::mem::replace(&mut *proc.vm.lock(), image.vm);
    drop(old);
    *proc.exe.lock() = image.exe;
    proc.fds.lock().close_on_exec();
    proc.sigactions.lock().reset_on_exec();
    thread.fs_base.store(0, Ordering::Relaxed);
    cpu::wrmsr(cpu::MSR_FS_BASE, 0);
    *frame = image.frame;
    Ok(0)
}

pub fn getpid() -> Result<i64> {
    Ok(process::current().pid as i64)
}

pub fn getppid() -> Result<i64> {
    Ok(process::current().ppid.load(Ordering::Relaxed) as i64)
}

pub fn gettid() -> Result<i64> {
    Ok(task::current().tid as i64)
}

pub fn getuid() -> Result<i64> {
    Ok(process::current().creds.lock().uid as i64)
}

pub fn geteuid() -> Result<i64> {
    Ok(process::current().creds.lock().euid as i64)
}

pub fn getgid() -> Result<i64> {
    Ok(process::current().creds.lock().gid as i64)
}

pub fn getegid() -> Result<i64> {
    Ok(process::current().creds.lock().egid as i64)
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
            if addr >= crate::arch::USER_END {
                return Err(Errno::EPERM);
            }
            if code == ARCH_SET_FS {
                t.fs_base.store(addr, Ordering::Relaxed);
                cpu::wrmsr(cpu::MSR_FS_BASE, addr);
            } else {
                cpu::wrmsr(cpu::MSR_KERNEL_GS_BASE, addr);
            }
            Ok(0)
        }
        ARCH_GET_FS => UserPtr::<u64>::new(addr).write(&t.fs_base.load(Ordering::Relaxed)).map(|_| 0),
        ARCH_GET_GS => UserPtr::<u64>::new(addr).write(&cpu::rdmsr(cpu::MSR_KERNEL_GS_BASE)).map(|_| 0),
        _ => Err(Errno::EINVAL),
    }
}

pub fn prlimit64(pid: i32, resource: i32, new: u64, old: u64) -> Result<i64> {
    let proc = if pid == 0 { process::current() } else { process::find(pid as u32).ok_or(Errno::ESRCH)? };
    let r = usize::try_from(resource).ok().filter(|&r| r < RLIM_NLIMITS).ok_or(Errno::EINVAL)?;
    let new_limit = if new != 0 { Some(UserPtr::<Rlimit>::new(new).read()?) } else { None };
    if let Some(n) = new_limit {
        if n.cur > n.max {
            return Err(Errno::EINVAL);
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
