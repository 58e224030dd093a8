//! The terminal's view of processes (fs::tty::JobControl), implemented here where processes live.

use alloc::sync::Arc;
use core::sync::atomic::Ordering;

use super::signal::{self, SigInfo, SIG_IGN, SI_KERNEL};
use super::{all, current, group};
use crate::error::{Errno, Result};
use crate::fs::tty::{JobControl, Tty, SIGCONT, SIGHUP};

struct ProcessJobs;

impl JobControl for ProcessJobs {
    fn caller_ids(&self) -> (u32, u32) {
        let p = current();
        (p.pgid(), p.sid())
    }

    fn caller_fs_ids(&self) -> (u32, u32) {
        let c = current().creds.lock().clone();
        (c.fsuid, c.fsgid)
    }

    fn caller_has_ctty(&self, tty: &Arc<Tty>) -> bool {
        current().ctty.lock().as_ref().is_some_and(|t| Arc::ptr_eq(t, tty))
    }

    fn set_caller_ctty(&self, tty: &Arc<Tty>) -> Result<()> {
        let p = current();
        if p.sid() != p.pid || p.ctty.lock().is_some() {
            return if p.ctty.lock().as_ref().is_some_and(|t| Arc::ptr_eq(t, tty)) {
                Ok(())
            } else {
                Err(Errno::EPERM)
            };
        }
        let owner = tty.session();
        if owner != 0
            && owner != p.sid()
            && all().iter().any(|q| q.sid() == owner && !q.is_zombie())
            && !p.creds.lock().capable(crate::cap::Cap::SysAdmin)
        {
            return Err(Errno::EPERM);
        }
        // Root steals the terminal from another session, as Linux's TIOCSCTTY with arg 1.
        for q in all() {
            if q.sid() == owner && owner != p.sid() {
                *q.ctty.lock() = None;
            }
        }
        tty.set_session(p.sid(), p.pgid());
        *p.ctty.lock() = Some(tty.clone());
        Ok(())
    }

    fn acquire_on_open(&self, tty: &Arc<Tty>) {
        let p = current();
        if p.sid() != p.pid || p.ctty.lock().is_some() || tty.session() != 0 {
            return;
        }
        tty.set_session(p.sid(), p.pgid());
        *p.ctty.lock() = Some(tty.clone());
    }

    fn hangup(&self, tty: &Arc<Tty>) {
        for q in all() {
            let had = {
                let mut c = q.ctty.lock();
                let had = c.as_ref().is_some_and(|t| Arc::ptr_eq(t, tty));
                if had {
                    *c = None;
                }
                had
            };
            if had && q.sid() == q.pid && !q.is_zombie() {
                signal::send(&q, SIGHUP, SigInfo::new(SIGHUP, SI_KERNEL));
                signal::send(&q, SIGCONT, SigInfo::new(SIGCONT, SI_KERNEL));
            }
        }
    }

    fn drop_caller_ctty(&self) {
        let p = current();
        let tty = p.ctty.lock().take();
        if let Some(t) = tty {
            if p.sid() == p.pid {
                // A pty's foreground group hears that its session leader let go (Linux's
                // disassociate_ctty; the console keeps its quieter behaviour).
                if t.is_pty() {
                    let fg = t.foreground();
                    if fg != 0 {
                        self.signal_group(fg, SIGHUP);
                        self.signal_group(fg, SIGCONT);
                    }
                }
                // The session leader gives it up for the whole session.
                for q in all().iter().filter(|q| q.sid() == p.sid()) {
                    *q.ctty.lock() = None;
                }
                t.clear_session(p.sid());
            }
        }
    }

    fn signal_group(&self, pgid: u32, sig: u32) {
        group::for_each_member(pgid, |p| signal::send(p, sig, SigInfo::new(sig, SI_KERNEL)));
    }

    fn caller_blocks_or_ignores(&self, sig: u32) -> bool {
        let p = current();
        let blocked =
            crate::task::current().sig_blocked.load(Ordering::Relaxed) & signal::bit(sig) != 0;
        // An orphaned group cannot be stopped, so it gets the error instead (as Linux).
        blocked
            || p.handlers().lock().get(sig).handler == SIG_IGN
            || super::group::is_orphaned(p.pgid())
    }

    fn group_in_session(&self, pgid: u32, sid: u32) -> bool {
        all().iter().any(|p| p.pgid() == pgid && p.sid() == sid)
    }
}

static JOBS: ProcessJobs = ProcessJobs;

/// A session leader exits: if its controlling terminal is a pty, the foreground group gets
/// SIGHUP and the whole session loses the terminal (Linux's disassociate_ctty(1)). The console
/// stays with the session as before.
pub fn leader_exit(proc: &Arc<super::Process>) {
    if proc.sid() != proc.pid {
        return;
    }
    let tty = proc.ctty.lock().clone();
    let Some(t) = tty else { return };
    if !t.is_pty() {
        return;
    }
    let fg = t.foreground();
    if fg != 0 {
        JOBS.signal_group(fg, SIGHUP);
    }
    for q in all().iter().filter(|q| q.sid() == proc.sid()) {
        *q.ctty.lock() = None;
    }
    t.clear_session(proc.sid());
}

pub fn install() {
    crate::fs::tty::set_job_control(&JOBS);
    crate::fs::devfs::set_ctty_lookup(|| {
        let p = current();
        let tty = p.ctty.lock().clone()?;
        tty.open().ok()
    });
}
