//! What Linux keeps per user in `ucounts`: the processes a real uid owns (RLIMIT_NPROC) and the
//! signals queued to its processes (RLIMIT_SIGPENDING). Zombies count until reaped, as in Linux
//! (the count drops in release_task); a queued signal is charged to its target's real uid until
//! it is dequeued, discarded or the target exits.

use alloc::vec::Vec;

use crate::mm::fallible;
use crate::sync::Mutex;

struct UserCount {
    uid: u32,
    processes: u64,
    sigpending: u64,
}

/// One entry per uid with something counted; few users exist, so a vector is enough.
static COUNTS: Mutex<Vec<UserCount>> = Mutex::new(Vec::new());

/// Runs `f` on `uid`'s entry, creating it if `create` (None when it cannot be created), and
/// drops the entry once both counts are zero.
fn with_entry<R>(uid: u32, create: bool, f: impl FnOnce(&mut UserCount) -> R) -> Option<R> {
    let mut counts = COUNTS.lock();
    let i = match counts.iter().position(|c| c.uid == uid) {
        Some(i) => i,
        None if create => {
            fallible::try_push(&mut counts, UserCount { uid, processes: 0, sigpending: 0 }).ok()?;
            counts.len() - 1
        }
        None => return None,
    };
    let r = f(&mut counts[i]);
    if counts[i].processes == 0 && counts[i].sigpending == 0 {
        counts.swap_remove(i);
    }
    Some(r)
}

/// Processes (zombies included) whose real uid is `uid`.
pub fn processes(uid: u32) -> u64 {
    COUNTS.lock().iter().find(|c| c.uid == uid).map_or(0, |c| c.processes)
}

/// Counts one more process for `uid`; false if there is no memory to count it.
pub fn charge_process(uid: u32) -> bool {
    with_entry(uid, true, |c| c.processes += 1).is_some()
}

pub fn uncharge_process(uid: u32) {
    with_entry(uid, false, |c| c.processes = c.processes.saturating_sub(1));
}

/// Linux's sigqueue_alloc: counts one more queued signal for `uid` if that keeps it within
/// `limit` (or `override_limit`: standard signals sent by kill or the kernel always queue).
pub fn charge_sigpending(uid: u32, limit: u64, override_limit: bool) -> bool {
    with_entry(uid, true, |c| {
        if override_limit || c.sigpending < limit {
            c.sigpending += 1;
            true
        } else {
            false
        }
    })
    .unwrap_or(false)
}

pub fn uncharge_sigpending(uid: u32) {
    with_entry(uid, false, |c| c.sigpending = c.sigpending.saturating_sub(1));
}

/// Signals queued for `uid`'s processes (/proc/<pid>/status's SigQ numerator).
pub fn sigpending(uid: u32) -> u64 {
    COUNTS.lock().iter().find(|c| c.uid == uid).map_or(0, |c| c.sigpending)
}
