//! rt_sigaction, rt_sigprocmask, rt_sigpending, rt_sigsuspend, rt_sigtimedwait, rt_sigqueueinfo,
//! rt_sigreturn, kill, tkill, tgkill, sigaltstack, pause, alarm, setitimer, getitimer.

use core::sync::atomic::Ordering;

use bytemuck::{Pod, Zeroable};

use super::time_args::Timeval;
use crate::arch::trap::TrapFrame;
use crate::error::{Errno, Result};
use crate::mm::user::UserPtr;
use crate::process::kill::{self, Target};
use crate::process::signal::{self, *};
use crate::process::{self, timers};
use crate::task::{self, WaitError, WaitQueue};

const SIG_BLOCK: i32 = 0;
const SIG_UNBLOCK: i32 = 1;
const SIG_SETMASK: i32 = 2;

fn check_sig(sig: i32) -> Result<u32> {
    if (1..=NSIG as i32).contains(&sig) {
        Ok(sig as u32)
    } else {
        Err(Errno::EINVAL)
    }
}

pub fn rt_sigaction(sig: i32, act: u64, oldact: u64, sigsetsize: u64) -> Result<i64> {
    if sigsetsize != 8 {
        return Err(Errno::EINVAL);
    }
    let sig = check_sig(sig)?;
    let new = if act != 0 { Some(UserPtr::<SigAction>::new(act).read()?) } else { None };
    if new.is_some() && (sig == SIGKILL || sig == SIGSTOP) {
        return Err(Errno::EINVAL);
    }
    let proc = process::current();
    let old = proc.handlers().lock().get(sig);
    if oldact != 0 {
        UserPtr::<SigAction>::new(oldact).write(&old)?;
    }
    if let Some(a) = new {
        proc.handlers().lock().set(sig, a);
        // Setting SIG_IGN (or a default that ignores) discards what is pending (POSIX).
        if a.handler == SIG_IGN
            || (a.handler == SIG_DFL && default_action(sig) == DefaultAction::Ignore)
        {
            signal::discard(&proc, sig);
        }
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

pub fn rt_sigpending(set: u64, sigsetsize: u64) -> Result<i64> {
    if sigsetsize > 8 {
        return Err(Errno::EINVAL);
    }
    let t = task::current();
    let pending = t.pending_all() & t.sig_blocked.load(Ordering::Relaxed);
    UserPtr::<u64>::new(set).write(&pending).map(|_| 0)
}

/// Sleeps until a signal is delivered, with `mask` as the blocked set meanwhile.
pub fn rt_sigsuspend(mask: u64, sigsetsize: u64) -> Result<i64> {
    if sigsetsize != 8 {
        return Err(Errno::EINVAL);
    }
    let new = UserPtr::<u64>::new(mask).read()?;
    let t = task::current();
    let saved = t.sig_blocked.swap(new & !UNBLOCKABLE, Ordering::Relaxed);
    // The handler's frame records `saved`, so its sigreturn restores the caller's mask.
    signal::set_restore_mask(saved);
    let q = WaitQueue::new();
    let _ = q.wait_until(|| None::<()>, None);
    Err(Errno::ERESTARTNOHAND)
}

pub fn pause() -> Result<i64> {
    let q = WaitQueue::new();
    let _ = q.wait_until(|| None::<()>, None);
    Err(Errno::ERESTARTNOHAND)
}

pub fn rt_sigtimedwait(set: u64, info: u64, timeout: u64, sigsetsize: u64) -> Result<i64> {
    if sigsetsize != 8 {
        return Err(Errno::EINVAL);
    }
    let wanted = UserPtr::<u64>::new(set).read()? & !UNBLOCKABLE;
    let deadline = super::time_args::relative_deadline(timeout)?;
    let proc = process::current();
    let t = task::current();
    let take = || signal::dequeue_in(&proc, &t, wanted);
    let r = match take() {
        Some(found) => Ok(found),
        None => {
            // Signals in `wanted` wake us though blocked (and are not ignored meanwhile); a
            // process-directed one chooses this thread as if it did not block them.
            t.sigwait_set.store(wanted, Ordering::Relaxed);
            let q = WaitQueue::new();
            let r = q.wait_until(|| (t.pending_all() & wanted != 0).then_some(()), deadline);
            t.sigwait_set.store(0, Ordering::Relaxed);
            match (r, take()) {
                (_, Some(found)) => Ok(found),
                (Err(WaitError::TimedOut), None) => Err(Errno::EAGAIN),
                _ => Err(Errno::EINTR),
            }
        }
    };
    let (sig, si) = r?;
    if info != 0 {
        UserPtr::<SigInfo>::new(info).write(&si)?;
    }
    Ok(sig as i64)
}

pub fn kill(pid: i32, sig: i32) -> Result<i64> {
    let sig = if sig == 0 { 0 } else { check_sig(sig)? };
    let target = match pid {
        p if p > 0 => Target::Process(p as u32),
        0 => Target::OwnGroup,
        -1 => Target::Everyone,
        i32::MIN => return Err(Errno::ESRCH),
        p => Target::Group(p.unsigned_abs()),
    };
    kill::kill(target, sig).map(|_| 0)
}

pub fn tgkill(tgid: i32, tid: i32, sig: i32) -> Result<i64> {
    if tid <= 0 || (tgid <= 0 && tgid != -1) {
        return Err(Errno::EINVAL);
    }
    let sig = if sig == 0 { 0 } else { check_sig(sig)? };
    kill::tgkill((tgid > 0).then_some(tgid as u32), tid as u32, sig).map(|_| 0)
}

pub fn tkill(tid: i32, sig: i32) -> Result<i64> {
    tgkill(-1, tid, sig)
}

pub fn rt_sigqueueinfo(pid: i32, sig: i32, uinfo: u64) -> Result<i64> {
    let sig = check_sig(sig)?;
    let mut info = UserPtr::<SigInfo>::new(uinfo).read()?;
    let me = process::current();
    // Only the kernel may claim kernel-generated codes, and never for another process.
    if (info.code >= 0 || info.code == SI_TKILL) && pid as u32 != me.pid {
        return Err(Errno::EPERM);
    }
    info.signo = sig as i32;
    let target = process::find(pid as u32).ok_or(Errno::ESRCH)?;
    kill::signal_one(&target, sig, info).map(|_| 0)
}

/// rt_tgsigqueueinfo(tgid, tid, sig, info): rt_sigqueueinfo to one thread.
pub fn rt_tgsigqueueinfo(tgid: i32, tid: i32, sig: i32, uinfo: u64) -> Result<i64> {
    if tgid <= 0 || tid <= 0 {
        return Err(Errno::EINVAL);
    }
    let sig = check_sig(sig)?;
    let mut info = UserPtr::<SigInfo>::new(uinfo).read()?;
    let me = process::current();
    if (info.code >= 0 || info.code == SI_TKILL) && tgid as u32 != me.pid {
        return Err(Errno::EPERM);
    }
    info.signo = sig as i32;
    kill::tgsigqueue(tgid as u32, tid as u32, sig, info).map(|_| 0)
}

/// pidfd_send_signal(pidfd, sig, info, flags).
pub fn pidfd_send_signal(pidfd: i32, sig: i32, uinfo: u64, flags: u32) -> Result<i64> {
    if flags != 0 {
        return Err(Errno::EINVAL);
    }
    let file = process::current().files().lock().get(pidfd)?;
    let target = file
        .file()
        .as_any()
        .and_then(|a| a.downcast_ref::<process::pidfd::PidFd>())
        .ok_or(Errno::EBADF)?
        .process()
        .ok_or(Errno::ESRCH)?;
    let sig = if sig == 0 { 0 } else { check_sig(sig)? };
    let info = if uinfo != 0 {
        let mut info = UserPtr::<SigInfo>::new(uinfo).read()?;
        if info.signo as u32 != sig {
            return Err(Errno::EINVAL);
        }
        let me = process::current();
        // As rt_sigqueueinfo: only the kernel claims kernel codes, and only to itself.
        if (info.code >= 0 || info.code == SI_TKILL) && target.pid != me.pid {
            return Err(Errno::EPERM);
        }
        info.signo = sig as i32;
        Some(info)
    } else {
        None
    };
    kill::signal_process(&target, sig, info).map(|_| 0)
}

pub fn rt_sigreturn(frame: &mut TrapFrame) -> Result<i64> {
    signal::sigreturn(frame)
}

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct StackT {
    sp: u64,
    flags: i32,
    _pad: i32,
    size: u64,
}

const MINSIGSTKSZ: u64 = 2048;

pub fn sigaltstack(ss: u64, old: u64, frame: &TrapFrame) -> Result<i64> {
    let t = task::current();
    let (base, size, flags) = *t.alt_stack.lock();
    let on = signal::on_alt_stack(&t, frame.rsp);
    if old != 0 {
        let cur = StackT {
            sp: base,
            flags: if on { SS_ONSTACK as i32 } else { (flags & SS_DISABLE) as i32 },
            _pad: 0,
            size,
        };
        UserPtr::<StackT>::new(old).write(&cur)?;
    }
    if ss != 0 {
        let new = UserPtr::<StackT>::new(ss).read()?;
        if on {
            return Err(Errno::EPERM);
        }
        let f = new.flags as u32 & !(1 << 31); // SS_AUTODISARM accepted
        if f != 0 && f != SS_DISABLE && f != SS_ONSTACK {
            return Err(Errno::EINVAL);
        }
        if f == SS_DISABLE {
            *t.alt_stack.lock() = (0, 0, SS_DISABLE);
        } else {
            if new.size < MINSIGSTKSZ {
                return Err(Errno::ENOMEM);
            }
            *t.alt_stack.lock() = (new.sp, new.size, 0);
        }
    }
    Ok(0)
}

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct ItimerVal {
    interval: Timeval,
    value: Timeval,
}

const ITIMER_REAL: i32 = 0;

pub fn setitimer(which: i32, new: u64, old: u64) -> Result<i64> {
    if !(ITIMER_REAL..=timers::ITIMER_PROF).contains(&which) {
        return Err(Errno::EINVAL);
    }
    let proc = process::current();
    let (value, interval) = if new != 0 {
        let v = UserPtr::<ItimerVal>::new(new).read()?;
        (v.value.to_ns()? as u64, v.interval.to_ns()? as u64)
    } else {
        (0, 0)
    };
    let (left, ivl) = timers::set_itimer(&proc, which, value, interval);
    if old != 0 {
        UserPtr::<ItimerVal>::new(old).write(&ItimerVal {
            interval: Timeval::from_ns(ivl as i64),
            value: Timeval::from_ns(left as i64),
        })?;
    }
    Ok(0)
}

pub fn getitimer(which: i32, cur: u64) -> Result<i64> {
    if !(ITIMER_REAL..=timers::ITIMER_PROF).contains(&which) {
        return Err(Errno::EINVAL);
    }
    let (left, ivl) = timers::get_itimer(&process::current(), which);
    UserPtr::<ItimerVal>::new(cur)
        .write(&ItimerVal {
            interval: Timeval::from_ns(ivl as i64),
            value: Timeval::from_ns(left as i64),
        })
        .map(|_| 0)
}

pub fn alarm(seconds: u32) -> Result<i64> {
    let (left, _) = timers::set_real(&process::current(), seconds as u64 * 1_000_000_000, 0);
    // Rounded to the nearest second, at least 1 if one was pending (as Linux).
    Ok(if left == 0 { 0 } else { ((left + 500_000_000) / 1_000_000_000).max(1) as i64 })
}
