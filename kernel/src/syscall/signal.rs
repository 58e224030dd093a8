//! rt_sigaction and rt_sigprocmask (dispositions and the mask are recorded; delivery comes with
//! the signals issue).

use core::sync::atomic::Ordering;

use crate::error::{Errno, Result};
use crate::mm::user::UserPtr;
use crate::process::{self, signal::*};
use crate::task;

const SIG_BLOCK: i32 = 0;
const SIG_UNBLOCK: i32 = 1;
const SIG_SETMASK: i32 = 2;

pub fn rt_sigaction(sig: i32, act: u64, oldact: u64, sigsetsize: u64) -> Result<i64> {
    if sigsetsize != 8 {
        return Err(Errno::EINVAL);
    }
    if !(1..=NSIG as i32).contains(&sig) {
        return Err(Errno::EINVAL);
    }
    let sig = sig as u32;
    let new = if act != 0 { Some(UserPtr::<SigAction>::new(act).read()?) } else { None };
    if new.is_some() && (sig == SIGKILL || sig == SIGSTOP) {
        return Err(Errno::EINVAL);
    }
    let proc = process::current();
    let old = proc.sigactions.lock().get(sig);
    if oldact != 0 {
        UserPtr::<SigAction>::new(oldact).write(&old)?;
    }
    if let Some(a) = new {
        proc.sigactions.lock().set(sig, a);
    }
    Ok(0)
}

pub fn rt_sigprocmask(how: i32, set: u64, oldset: u64, sigsetsize: u64) -> Result<i64> {
    if sigsetsize != 8 {
        return Err(Errno::EINVAL);
    }
    let t = task::current();
    let old = t.sig_blocked.load(Ordering::Relaxed);
    if set != 0 {
        let s = UserPtr::<u64>::new(set).read()?;
        let new = match how {
            SIG_BLOCK => old | s,
            SIG_UNBLOCK => old & !s,
            SIG_SETMASK => s,
            _ => return Err(Errno::EINVAL),
        };
        if oldset != 0 {
            UserPtr::<u64>::new(oldset).write(&old)?;
        }
        t.sig_blocked.store(new & !UNBLOCKABLE, Ordering::Relaxed);
    } else if oldset != 0 {
        UserPtr::<u64>::new(oldset).write(&old)?;
    }
    Ok(0)
}
