//! kill and tgkill: who may signal whom, and the targets of a kill (a process, a group,
//! everyone).

use alloc::sync::Arc;

use super::signal::{self, SigInfo, SIGCONT, SI_TKILL, SI_USER};
use super::{current, Process};
use crate::cap::Cap;
use crate::error::{Errno, Result};

/// What kill(2)'s pid names.
pub enum Target {
    Process(u32),
    /// The caller's process group (pid 0).
    OwnGroup,
    Group(u32),
    /// Every process the caller may signal but init and itself (pid -1).
    Everyone,
}

/// The siginfo of a signal the caller sends.
fn sender_info(sig: u32, code: i32) -> SigInfo {
    let p = current();
    let uid = p.creds.lock().uid;
    SigInfo::from_user(sig, code, p.pid, uid)
}

/// May the caller signal `target`? CAP_KILL may; otherwise the caller's real or effective uid must
/// match the target's real or saved uid; SIGCONT may also go to anyone in the same session.
fn may_signal(target: &Process, sig: u32) -> bool {
    let me = current();
    let c = me.creds.lock().clone();
    if c.capable(Cap::Kill) {
        return true;
    }
    let t = target.creds.lock();
    if c.euid == t.uid || c.euid == t.suid || c.uid == t.uid || c.uid == t.suid {
        return true;
    }
    sig == SIGCONT && me.sid() == target.sid()
}

/// Signals one process: EPERM if the caller may not, EAGAIN if a real-time signal's
/// information cannot be queued (sigqueue beyond RLIMIT_SIGPENDING).
pub fn signal_one(target: &Arc<Process>, sig: u32, info: SigInfo) -> Result<()> {
    if !may_signal(target, sig) {
        return Err(Errno::EPERM);
    }
    signal::queue(target, sig, info)
}

/// Signals every process `selected` accepts; ESRCH if none, EPERM if none could be signalled.
/// The process table is walked without a snapshot, so this needs no memory: after a fork bomb
/// has filled the kernel heap, kill(0, SIGKILL) is the remedy and must work.
fn signal_many(selected: impl Fn(&Process) -> bool, sig: u32, info: SigInfo) -> Result<()> {
    let (mut found, mut ok) = (false, false);
    super::for_each(|p| {
        if selected(p) {
            found = true;
            ok |= signal_one(p, sig, info).is_ok();
        }
    });
    match (found, ok) {
        (false, _) => Err(Errno::ESRCH),
        (true, true) => Ok(()),
        (true, false) => Err(Errno::EPERM),
    }
}

/// kill(2): `sig` 0 only checks that the target exists and may be signalled.
pub fn kill(target: Target, sig: u32) -> Result<()> {
    let info = sender_info(sig, SI_USER);
    let me = current();
    match target {
        // A thread id names its whole group (Linux's kill_pid_info on any task).
        Target::Process(pid) => {
            signal_one(&super::find_by_tid(pid).ok_or(Errno::ESRCH)?, sig, info)
        }
        Target::OwnGroup => {
            let pgid = me.pgid();
            signal_many(|p| p.pgid() == pgid, sig, info)
        }
        Target::Group(pgid) => signal_many(|p| p.pgid() == pgid, sig, info),
        Target::Everyone => signal_many(|p| p.pid > 1 && p.pid != me.pid, sig, info),
    }
}

/// tgkill/tkill: to one thread (`tgid`, if given, must be its process).
pub fn tgkill(tgid: Option<u32>, tid: u32, sig: u32) -> Result<()> {
    let (target, thread) = super::find_thread(tid).ok_or(Errno::ESRCH)?;
    if tgid.is_some_and(|g| g != target.pid) {
        return Err(Errno::ESRCH);
    }
    if !may_signal(&target, sig) {
        return Err(Errno::EPERM);
    }
    signal::send_to_thread(&target, &thread, sig, sender_info(sig, SI_TKILL));
    Ok(())
}

/// rt_tgsigqueueinfo: `info` (already checked) to thread `tid` of `tgid`.
pub fn tgsigqueue(tgid: u32, tid: u32, sig: u32, info: SigInfo) -> Result<()> {
    let (target, thread) = super::find_thread(tid).ok_or(Errno::ESRCH)?;
    if target.pid != tgid {
        return Err(Errno::ESRCH);
    }
    if !may_signal(&target, sig) {
        return Err(Errno::EPERM);
    }
    signal::queue_to_thread(&target, &thread, sig, info)
}

/// pidfd_send_signal: `sig` to the process a pidfd names (ESRCH once it has exited).
pub fn signal_process(target: &Arc<Process>, sig: u32, info: Option<SigInfo>) -> Result<()> {
    if target.is_zombie() {
        return Err(Errno::ESRCH);
    }
    let info = info.unwrap_or_else(|| sender_info(sig, SI_USER));
    signal_one(target, sig, info)
}
