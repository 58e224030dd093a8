//! Process groups, sessions and controlling terminals (setpgid, setsid, TIOCSCTTY rules).

use alloc::sync::Arc;
use core::sync::atomic::Ordering;

use super::{any, current, find, Process};
use crate::error::{Errno, Result};

/// Is there a process (not a zombie... Linux counts zombies too) in group `pgid` of session `sid`?
fn group_exists_in_session(pgid: u32, sid: u32) -> bool {
    any(|p| p.pgid() == pgid && p.sid() == sid)
}

pub fn setpgid(pid: u32, pgid: u32) -> Result<()> {
    let me = current();
    let target =
        if pid == 0 || pid == me.pid { me.clone() } else { find(pid).ok_or(Errno::ESRCH)? };
    let is_child = target.parent().is_some_and(|p| p.pid == me.pid);
    if target.pid != me.pid && !is_child {
        return Err(Errno::ESRCH);
    }
    if is_child && target.sid() != me.sid() {
        return Err(Errno::EPERM);
    }
    if is_child && target.did_exec.load(Ordering::Relaxed) {
        return Err(Errno::EACCES);
    }
    if target.sid() == target.pid {
        return Err(Errno::EPERM);
    }
    let pgid = if pgid == 0 { target.pid } else { pgid };
    if pgid != target.pid && !group_exists_in_session(pgid, me.sid()) {
        return Err(Errno::EPERM);
    }
    target.pgid.store(pgid, Ordering::Relaxed);
    Ok(())
}

pub fn setsid() -> Result<u32> {
    let me = current();
    if any(|p| p.pgid() == me.pid) {
        return Err(Errno::EPERM);
    }
    me.sid.store(me.pid, Ordering::Relaxed);
    me.pgid.store(me.pid, Ordering::Relaxed);
    *me.ctty.lock() = None;
    Ok(me.pid)
}

pub fn getpgid(pid: u32) -> Result<u32> {
    let p = if pid == 0 { current() } else { find(pid).ok_or(Errno::ESRCH)? };
    Ok(p.pgid())
}

pub fn getsid(pid: u32) -> Result<u32> {
    let p = if pid == 0 { current() } else { find(pid).ok_or(Errno::ESRCH)? };
    Ok(p.sid())
}

/// Is group `pgid` orphaned: no member has a parent in another group of the same session?
/// Stop signals from the terminal (SIGTSTP, SIGTTIN, SIGTTOU) do not stop such a group.
pub fn is_orphaned(pgid: u32) -> bool {
    !any(|p| {
        p.pgid() == pgid
            && p.parent().is_some_and(|q| q.pid != 1 && q.pgid() != pgid && q.sid() == p.sid())
    })
}

/// Calls `f` on every member of process group `pgid` (without a snapshot: no memory needed).
pub fn for_each_member(pgid: u32, mut f: impl FnMut(&Arc<Process>)) {
    super::for_each(|p| {
        if p.pgid() == pgid {
            f(p)
        }
    });
}
