//! Nice values (getpriority/setpriority) and I/O priorities (ioprio_get/ioprio_set): kept per
//! process, inherited by fork, with Linux's targets (a process, a process group, a user's
//! processes by real uid) and permission rules. The scheduler is round-robin and does not
//! weigh them; programs that set and read them see what Linux shows (and /proc/<pid>/stat).

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicI32, Ordering};

use super::Process;
use crate::cap::Cap;
use crate::error::{Errno, Result};

#[derive(Default)]
pub struct Priority {
    nice: AtomicI32,
    ioprio: AtomicI32,
}

impl Priority {
    pub fn nice(&self) -> i64 {
        self.nice.load(Ordering::Relaxed) as i64
    }

    pub fn inherit(&self, parent: &Priority) {
        self.nice.store(parent.nice.load(Ordering::Relaxed), Ordering::Relaxed);
        self.ioprio.store(parent.ioprio.load(Ordering::Relaxed), Ordering::Relaxed);
    }
}

/// Who a priority call names: the `which` of getpriority (PRIO_PROCESS 0, PRIO_PGRP 1,
/// PRIO_USER 2) or of ioprio (one more).
#[derive(Clone, Copy)]
pub enum Target {
    Process,
    Group,
    User,
}

impl Target {
    pub fn of_prio(which: i32) -> Result<Target> {
        match which {
            0 => Ok(Target::Process),
            1 => Ok(Target::Group),
            2 => Ok(Target::User),
            _ => Err(Errno::EINVAL),
        }
    }

    pub fn of_ioprio(which: i32) -> Result<Target> {
        Target::of_prio(which - 1)
    }
}

/// The live processes `target`/`who` names (who 0: the caller's own).
fn targets(target: Target, who: i32) -> Vec<Arc<Process>> {
    let me = super::current();
    let mut found = Vec::new();
    match target {
        Target::Process => {
            let p = if who == 0 { Some(me) } else { super::find(who as u32) };
            found.extend(p.filter(|p| !p.is_zombie()));
        }
        Target::Group => {
            let pgid = if who == 0 { me.pgid() } else { who as u32 };
            super::for_each(|p| {
                if p.pgid() == pgid && !p.is_zombie() {
                    found.push(p.clone());
                }
            });
        }
        Target::User => {
            let uid = if who == 0 { me.creds.lock().uid } else { who as u32 };
            super::for_each(|p| {
                if !p.is_zombie() && p.creds.lock().uid == uid {
                    found.push(p.clone());
                }
            });
        }
    }
    found
}

/// getpriority: the best (lowest) nice among the targets, as the raw call returns it:
/// 20 - nice, from 1 to 40.
pub fn get_priority(target: Target, who: i32) -> Result<i64> {
    let nice = targets(target, who).iter().map(|p| p.priority.nice()).min();
    nice.map(|n| 20 - n).ok_or(Errno::ESRCH)
}

/// setpriority: `nice` clamped to -20..=19 for every target the caller may renice: the
/// target's real or effective uid is the caller's euid, or CAP_SYS_NICE (EPERM otherwise);
/// lowering a nice value needs RLIMIT_NICE or CAP_SYS_NICE (EACCES). Like Linux, the
/// error is the last one met, and success on some target turns ESRCH into 0.
pub fn set_priority(target: Target, who: i32, nice: i32) -> Result<()> {
    let nice = nice.clamp(-20, 19);
    let creds = super::current().creds.lock().clone();
    let nice_ok = creds.capable(Cap::SysNice);
    let mut result = Err(Errno::ESRCH);
    for p in targets(target, who) {
        let (uid, euid) = {
            let c = p.creds.lock();
            (c.uid, c.euid)
        };
        if uid != creds.euid && euid != creds.euid && !nice_ok {
            result = Err(Errno::EPERM);
            continue;
        }
        let limit = p.rlimits.lock().0[RLIMIT_NICE].cur;
        if (nice as i64) < p.priority.nice() && (20 - nice as i64) as u64 > limit && !nice_ok {
            result = Err(Errno::EACCES);
            continue;
        }
        if result == Err(Errno::ESRCH) {
            result = Ok(());
        }
        p.priority.nice.store(nice, Ordering::Relaxed);
    }
    result
}

const RLIMIT_NICE: usize = 13;

const IOPRIO_CLASS_SHIFT: i32 = 13;
const IOPRIO_CLASS_NONE: i32 = 0;
const IOPRIO_CLASS_RT: i32 = 1;
const IOPRIO_CLASS_BE: i32 = 2;
const IOPRIO_CLASS_IDLE: i32 = 3;
/// What an unset priority counts as when two are compared (best effort, level 4).
const IOPRIO_BE_NORM: i32 = IOPRIO_CLASS_BE << IOPRIO_CLASS_SHIFT | 4;

/// ioprio_get: the target's I/O priority; for a group or a user, the best of them.
pub fn get_ioprio(target: Target, who: i32) -> Result<i64> {
    let normal =
        |v: i32| if v >> IOPRIO_CLASS_SHIFT == IOPRIO_CLASS_NONE { IOPRIO_BE_NORM } else { v };
    let mut best: Option<i32> = None;
    for p in targets(target, who) {
        let v = p.priority.ioprio.load(Ordering::Relaxed);
        best = Some(match best {
            None => v,
            Some(b) => normal(b).min(normal(v)),
        });
    }
    best.map(|v| v as i64).ok_or(Errno::ESRCH)
}

/// ioprio_set: the class and level checked as Linux's ioprio_check_cap (the real-time class
/// needs CAP_SYS_NICE or CAP_SYS_ADMIN), then each target whose real uid is the caller's
/// real or effective uid, or with CAP_SYS_NICE (EPERM at the first other).
pub fn set_ioprio(target: Target, who: i32, ioprio: i32) -> Result<()> {
    let creds = super::current().creds.lock().clone();
    let (class, level) = (ioprio >> IOPRIO_CLASS_SHIFT, ioprio & ((1 << IOPRIO_CLASS_SHIFT) - 1));
    match class {
        IOPRIO_CLASS_RT | IOPRIO_CLASS_BE => {
            if class == IOPRIO_CLASS_RT
                && !creds.capable(Cap::SysNice)
                && !creds.capable(Cap::SysAdmin)
            {
                return Err(Errno::EPERM);
            }
            if level >= 8 {
                return Err(Errno::EINVAL);
            }
        }
        IOPRIO_CLASS_IDLE => {}
        IOPRIO_CLASS_NONE if level == 0 => {}
        _ => return Err(Errno::EINVAL),
    }
    let found = targets(target, who);
    if found.is_empty() {
        return Err(Errno::ESRCH);
    }
    for p in found {
        let uid = p.creds.lock().uid;
        if uid != creds.euid && uid != creds.uid && !creds.capable(Cap::SysNice) {
            return Err(Errno::EPERM);
        }
        p.priority.ioprio.store(ioprio, Ordering::Relaxed);
    }
    Ok(())
}
