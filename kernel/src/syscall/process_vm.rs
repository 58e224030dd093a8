//! process_vm_readv/process_vm_writev: copying between the caller's memory and another
//! process's, with Linux's checks (flags must be 0, IOV_MAX, ESRCH, EPERM unless the caller
//! may inspect the target: same user or CAP_SYS_PTRACE, `procfs::may_inspect`) and its result
//! (the bytes copied before the first fault, EFAULT if none).

use alloc::vec::Vec;

use super::io::read_iovecs;
use crate::error::{Errno, Result};
use crate::mm::user::UserSlice;
use crate::process;

/// Bytes staged in the kernel per step: the target's address space is locked while they are
/// copied from or to it, the caller's while they are copied to or from the caller.
const CHUNK: usize = 4096;

pub fn readv(pid: i32, local: u64, lcnt: i32, remote: u64, rcnt: i32, flags: u64) -> Result<i64> {
    transfer(pid, local, lcnt, remote, rcnt, flags, false)
}

pub fn writev(pid: i32, local: u64, lcnt: i32, remote: u64, rcnt: i32, flags: u64) -> Result<i64> {
    transfer(pid, local, lcnt, remote, rcnt, flags, true)
}

fn transfer(
    pid: i32,
    local: u64,
    lcnt: i32,
    remote: u64,
    rcnt: i32,
    flags: u64,
    write: bool,
) -> Result<i64> {
    if flags != 0 {
        return Err(Errno::EINVAL);
    }
    let locals = read_iovecs(local, lcnt)?;
    if locals.iter().all(|s| s.is_empty()) {
        return Ok(0);
    }
    let remotes = read_iovecs(remote, rcnt)?;
    if pid <= 0 {
        return Err(Errno::ESRCH);
    }
    let target = process::find(pid as u32).ok_or(Errno::ESRCH)?;
    crate::procfs::may_inspect(target.pid).map_err(|e| match e {
        Errno::EACCES => Errno::EPERM,
        e => e,
    })?;
    let vm = target.vm.lock().clone().ok_or(Errno::ESRCH)?;
    let mut locals = locals.into_iter().filter(|s| !s.is_empty());
    let mut here: Option<UserSlice> = locals.next();
    let mut done = 0usize;
    let mut buf = Vec::new();
    buf.try_reserve_exact(CHUNK).map_err(|_| Errno::ENOMEM)?;
    buf.resize(CHUNK, 0);
    let mut failed = None;
    'remote: for r in remotes {
        let mut at = r.addr();
        let mut left = r.len();
        while left > 0 {
            let Some(l) = here else { break 'remote };
            let n = left.min(l.len()).min(CHUNK);
            let moved = if write {
                if let Err(e) = l.take(n).read(&mut buf[..n]) {
                    failed = Some(e);
                    break 'remote;
                }
                vm.lock().write_as_peer(at, &buf[..n])
            } else {
                let got = vm.lock().read_as_peer(at, &mut buf[..n]);
                if let Err(e) = l.take(got).write(&buf[..got]) {
                    failed = Some(e);
                    break 'remote;
                }
                got
            };
            done += moved;
            if moved < n {
                failed = Some(Errno::EFAULT);
                break 'remote;
            }
            at += n as u64;
            left -= n;
            here = if n == l.len() { locals.next() } else { Some(l.skip(n)) };
        }
    }
    match failed {
        Some(e) if done == 0 => Err(e),
        _ => Ok(done as i64),
    }
}
