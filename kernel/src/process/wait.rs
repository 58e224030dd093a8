//! wait4 and waitid: find a child in the requested set whose state changed, report and reap it.

use alloc::sync::Arc;

use super::signal::{JobEvent, CLD_CONTINUED, CLD_DUMPED, CLD_EXITED, CLD_KILLED, CLD_STOPPED};
use super::{current, Life, Process};
use crate::error::{Errno, Result};
use crate::task::WaitError;

/// Which children a wait is for.
#[derive(Clone, Copy)]
pub enum Which {
    Any,
    Pid(u32),
    Group(u32),
}

pub const WNOHANG: u32 = 1;
pub const WUNTRACED: u32 = 2;
pub const WSTOPPED: u32 = 2;
pub const WEXITED: u32 = 4;
pub const WCONTINUED: u32 = 8;
pub const WNOWAIT: u32 = 0x0100_0000;
pub const WNOTHREAD: u32 = 0x2000_0000;
pub const WALL: u32 = 0x4000_0000;
pub const WCLONE: u32 = 0x8000_0000;

/// What a wait found.
pub struct WaitResult {
    pub pid: u32,
    pub uid: u32,
    /// The wait4 status word.
    pub status: i32,
    /// waitid's si_code and si_status.
    pub code: i32,
    pub si_status: i32,
    /// (user, system) ns of the child and its reaped descendants, for wait4's and waitid's
    /// rusage (Linux's RUSAGE_BOTH of the child).
    pub cpu: (u64, u64),
}

fn matches(c: &Process, which: Which, options: u32) -> bool {
    // A "clone" child reports to its parent with a signal other than SIGCHLD: only __WCLONE
    // waits see it, only other waits see the rest, __WALL sees both.
    let clone_child =
        c.exit_signal.load(core::sync::atomic::Ordering::Relaxed) != super::signal::SIGCHLD;
    if options & WALL == 0 && clone_child != (options & WCLONE != 0) {
        return false;
    }
    match which {
        Which::Any => true,
        Which::Pid(p) => c.pid == p,
        Which::Group(g) => c.pgid() == g,
    }
}

/// waitid's si_code and si_status for an exit's wait status.
pub fn exit_code(status: i32) -> (i32, i32) {
    if status & 0x7f == 0 {
        (CLD_EXITED, (status >> 8) & 0xff)
    } else if status & 0x80 != 0 {
        (CLD_DUMPED, status & 0x7f)
    } else {
        (CLD_KILLED, status & 0x7f)
    }
}

/// Looks once for a reportable child. Ok(None): matching children exist but none changed.
fn try_collect(me: &Arc<Process>, which: Which, options: u32) -> Result<Option<WaitResult>> {
    // Tracees first (their stops, and the exits of those that are not our children).
    let caller = crate::task::with_current(|t| t.tid());
    let (tracees, traced) = super::ptrace::collect(me, caller, which, options);
    if traced.is_some() {
        return Ok(traced);
    }
    let mut children = me.children.lock();
    if !tracees && !children.iter().any(|c| matches(c, which, options)) {
        return Err(Errno::ECHILD);
    }
    for (i, c) in children.iter().enumerate() {
        if !matches(c, which, options) {
            continue;
        }
        let uid = c.creds.lock().uid;
        let life = *c.life.lock();
        if let Life::Zombie(status) = life {
            if options & WEXITED == 0 {
                continue;
            }
            let (code, si_status) = exit_code(status);
            let cpu = super::timers::waited_cpu(c);
            let r = WaitResult { pid: c.pid, uid, status, code, si_status, cpu };
            if options & WNOWAIT == 0 {
                super::timers::reaped(me, c);
                children.remove(i);
                super::unregister(r.pid);
            }
            return Ok(Some(r));
        }
        let mut report = c.signals.report.lock();
        match *report {
            Some(JobEvent::Stopped(sig)) if options & WSTOPPED != 0 => {
                if options & WNOWAIT == 0 {
                    *report = None;
                }
                return Ok(Some(WaitResult {
                    pid: c.pid,
                    uid,
                    status: (sig as i32) << 8 | 0x7f,
                    code: CLD_STOPPED,
                    si_status: sig as i32,
                    cpu: super::timers::waited_cpu(c),
                }));
            }
            Some(JobEvent::Continued) if options & WCONTINUED != 0 => {
                if options & WNOWAIT == 0 {
                    *report = None;
                }
                return Ok(Some(WaitResult {
                    pid: c.pid,
                    uid,
                    status: 0xffff,
                    code: CLD_CONTINUED,
                    si_status: 18,
                    cpu: super::timers::waited_cpu(c),
                }));
            }
            _ => {}
        }
    }
    Ok(None)
}

/// Waits for a child in `which`. Ok(None) with WNOHANG when nothing is ready.
pub fn wait(which: Which, options: u32) -> Result<Option<WaitResult>> {
    let me = current();
    if let Some(r) = try_collect(&me, which, options)? {
        return Ok(Some(r));
    }
    if options & WNOHANG != 0 {
        return Ok(None);
    }
    let mut err = None;
    let r = me.child_events.wait_until(
        || match try_collect(&me, which, options) {
            Ok(Some(r)) => Some(Some(r)),
            Ok(None) => None,
            Err(e) => {
                err = Some(e);
                Some(None)
            }
        },
        None,
    );
    match r {
        Ok(Some(r)) => Ok(Some(r)),
        Ok(None) => Err(err.unwrap_or(Errno::ECHILD)),
        Err(WaitError::Interrupted) => Err(Errno::ERESTARTSYS),
        Err(WaitError::TimedOut) => Ok(None),
    }
}
