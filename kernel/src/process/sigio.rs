//! Signal-driven I/O: O_ASYNC (fcntl F_SETFL, ioctl FIOASYNC), the owner an open file signals
//! (F_SETOWN, F_SETOWN_EX, FIOSETOWN/SIOCSPGRP) and the signal it sends (F_SETSIG). With O_ASYNC
//! on, an observer is registered on the file's `Pollee` like an epoll entry, so a pipe, FIFO,
//! socket, terminal or eventfd signals its owner from its one notify point: SIGIO (si_code
//! SI_KERNEL), or the F_SETSIG signal with si_code POLL_IN/POLL_OUT/..., si_band and si_fd,
//! as Linux's send_sigio. SIGURG for out-of-band data can use `send_to_owner`.

use alloc::sync::{Arc, Weak};

use super::signal::{self, SigInfo, NSIG, SI_KERNEL};
use super::{current, Process};
use crate::error::{Errno, Result};
use crate::event::{IoEvents, Observer};
use crate::fs::file::{FileOwner, OpenFile, F_OWNER_PGRP, F_OWNER_PID, F_OWNER_TID, O_ASYNC};

pub const SIGIO: u32 = 29;

/// si_code values of a SIGPOLL-class signal (Linux's POLL_IN ...).
pub const POLL_IN: i32 = 1;
pub const POLL_OUT: i32 = 2;
pub const POLL_MSG: i32 = 3;
pub const POLL_ERR: i32 = 4;
pub const POLL_PRI: i32 = 5;
pub const POLL_HUP: i32 = 6;

/// Linux's band_table: the poll bits si_band carries for each reason.
fn band(reason: i32) -> u64 {
    let e = match reason {
        POLL_IN => IoEvents::IN | IoEvents::RDNORM | IoEvents::MSG,
        POLL_OUT => IoEvents::OUT | IoEvents::WRNORM | IoEvents::WRBAND,
        POLL_MSG => IoEvents::IN | IoEvents::RDNORM | IoEvents::MSG,
        POLL_ERR => IoEvents::ERR,
        POLL_PRI => IoEvents::PRI | IoEvents::RDBAND,
        _ => IoEvents::HUP | IoEvents::ERR,
    };
    e.bits() as u64
}

/// Linux's sigio_perm: whoever set the owner must be root or share a uid with the target.
fn may_signal(owner: &FileOwner, target: &Process) -> bool {
    let t = target.creds.lock();
    owner.euid == 0
        || owner.euid == t.suid
        || owner.euid == t.uid
        || owner.uid == t.suid
        || owner.uid == t.uid
}

/// Sends the owner's signal for `reason` about descriptor `fd`: the F_SETSIG signal with its
/// siginfo, or SIGIO (also when a real-time signal's information cannot be queued).
fn send_sigio_to(target: &Arc<Process>, owner: &FileOwner, fd: i32, reason: i32, tid: u32) {
    if !may_signal(owner, target) {
        return;
    }
    let thread = if owner.kind == F_OWNER_TID { target.thread(tid) } else { None };
    if owner.sig != 0 {
        let mut info = SigInfo::new(owner.sig, reason);
        info.fields[0] = band(reason);
        info.fields[1] = fd as u32 as u64;
        let sent = match &thread {
            Some(t) => signal::queue_to_thread(target, t, owner.sig, info),
            None => signal::queue(target, owner.sig, info),
        };
        if sent.is_ok() {
            return;
        }
    }
    let info = SigInfo::new(SIGIO, SI_KERNEL);
    match &thread {
        Some(t) => signal::send_to_thread(target, t, SIGIO, info),
        None => signal::send(target, SIGIO, info),
    }
}

/// Signals `file`'s owner that descriptor `fd` is ready for `reason` (POLL_IN, ...).
pub fn send_to_owner(file: &OpenFile, fd: i32, reason: i32) {
    let owner = file.owner();
    if owner.id == 0 {
        return;
    }
    match owner.kind {
        F_OWNER_PGRP => super::group::for_each_member(owner.id, |p| {
            send_sigio_to(p, &owner, fd, reason, 0);
        }),
        F_OWNER_TID => {
            if let Some((p, _)) = super::find_thread(owner.id) {
                send_sigio_to(&p, &owner, fd, reason, owner.id);
            }
        }
        _ => {
            if let Some(p) = super::find_by_tid(owner.id) {
                send_sigio_to(&p, &owner, fd, reason, 0);
            }
        }
    }
}

/// What hears an O_ASYNC file's readiness changes.
struct Fasync {
    file: Weak<OpenFile>,
    /// The descriptor O_ASYNC was set through (si_fd), as Linux's fasync_struct keeps it.
    fd: i32,
}

impl Observer for Fasync {
    /// Shared, never exclusive: its answer does not count.
    fn on_events(&self, events: IoEvents) -> bool {
        let Some(file) = self.file.upgrade() else { return false };
        if file.flags() & O_ASYNC == 0 {
            return false;
        }
        // One object may serve both directions (a pipe's two ends share one): a read-only
        // end hears only of input, a write-only one only of room, as Linux's fasync_readers
        // and fasync_writers.
        if file.readable()
            && events.intersects(IoEvents::IN | IoEvents::RDNORM | IoEvents::HUP | IoEvents::RDHUP)
        {
            send_to_owner(&file, self.fd, POLL_IN);
        } else if file.readable() && events.contains(IoEvents::PRI) {
            send_to_owner(&file, self.fd, POLL_PRI);
        }
        if file.writable() && events.intersects(IoEvents::OUT | IoEvents::WRNORM | IoEvents::ERR) {
            send_to_owner(&file, self.fd, POLL_OUT);
        }
        false
    }
}

/// O_ASYNC turned on or off on `file` through descriptor `fd` (F_SETFL, FIOASYNC). A file
/// without fasync (eventfd, a regular file) does not keep the flag, as Linux's setfl.
pub fn set_async(file: &Arc<OpenFile>, fd: i32, on: bool) {
    let on = on && file.file().has_fasync();
    let old = file.flags();
    let new = if on { old | O_ASYNC } else { old & !O_ASYNC };
    if (old ^ new) & O_ASYNC == 0 {
        return;
    }
    if on {
        let observer: Arc<dyn Observer> = Arc::new(Fasync { file: Arc::downgrade(file), fd });
        file.set_fasync(Some(observer));
    } else {
        file.set_fasync(None);
    }
    file.set_status_flags(new);
}

/// Does a thread, process or group `id` exist (F_SETOWN's ESRCH)?
fn exists(kind: i32, id: u32) -> bool {
    match kind {
        F_OWNER_PGRP => {
            let mut found = super::find_by_tid(id).is_some();
            super::group::for_each_member(id, |_| found = true);
            found
        }
        _ => super::find_by_tid(id).is_some(),
    }
}

fn set_owner(file: &OpenFile, kind: i32, id: u32) -> Result<()> {
    if id != 0 && !exists(kind, id) {
        return Err(Errno::ESRCH);
    }
    let me = current();
    let (uid, euid) = {
        let c = me.creds.lock();
        (c.uid, c.euid)
    };
    file.update_owner(|o| {
        o.kind = kind;
        o.id = id;
        o.uid = uid;
        o.euid = euid;
    });
    Ok(())
}

/// F_SETOWN (and FIOSETOWN, SIOCSPGRP): a positive `who` is a process, a negative one a group.
pub fn setown(file: &OpenFile, who: i32) -> Result<()> {
    if who == i32::MIN {
        return Err(Errno::EINVAL);
    }
    if who < 0 {
        set_owner(file, F_OWNER_PGRP, who.unsigned_abs())
    } else {
        set_owner(file, F_OWNER_PID, who as u32)
    }
}

/// F_GETOWN: a group as its negated id.
pub fn getown(file: &OpenFile) -> i32 {
    let o = file.owner();
    if o.kind == F_OWNER_PGRP {
        -(o.id as i32)
    } else {
        o.id as i32
    }
}

/// F_SETOWN_EX.
pub fn setown_ex(file: &OpenFile, kind: i32, id: i32) -> Result<()> {
    if !matches!(kind, F_OWNER_TID | F_OWNER_PID | F_OWNER_PGRP) {
        return Err(Errno::EINVAL);
    }
    if id < 0 {
        return Err(Errno::ESRCH);
    }
    set_owner(file, kind, id as u32)
}

/// F_GETOWN_EX: (type, id).
pub fn getown_ex(file: &OpenFile) -> (i32, i32) {
    let o = file.owner();
    (o.kind, o.id as i32)
}

/// F_SETSIG: 0 (SIGIO without information) or any valid signal.
pub fn setsig(file: &OpenFile, sig: u64) -> Result<()> {
    if sig > NSIG as u64 {
        return Err(Errno::EINVAL);
    }
    file.update_owner(|o| o.sig = sig as u32);
    Ok(())
}

pub fn getsig(file: &OpenFile) -> u32 {
    file.owner().sig
}
