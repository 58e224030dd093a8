//! Callouts: objects that want to hear when a monotonic deadline passes (interval timers,
//! POSIX timers, timerfds). One ordered map keyed by (deadline, sequence), checked on every
//! timer tick; an object keeps the key of its pending callout and cancels it when it re-arms,
//! so the map never holds more entries than there are armed timers.
//!
//! `Expiry::expire` runs from the timer tick with no callout lock held; it may arm again. A
//! call may be stale (the object re-armed meanwhile on another CPU): the object checks its own
//! deadline.

use alloc::collections::BTreeMap;
use alloc::sync::Weak;
use core::sync::atomic::{AtomicU64, Ordering};

use crate::sync::{rank, Mutex};

pub trait Expiry: Send + Sync {
    /// The deadline this object was armed for has passed (`now` is the monotonic time).
    fn expire(&self, now: u64);
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct CalloutKey(u64, u64);

static CALLOUTS: Mutex<BTreeMap<CalloutKey, Weak<dyn Expiry>>> =
    Mutex::ranked(rank::CALLOUTS, BTreeMap::new());
static SEQ: AtomicU64 = AtomicU64::new(0);

/// Calls `target.expire` once the monotonic clock reaches `deadline`.
pub fn arm(deadline: u64, target: Weak<dyn Expiry>) -> CalloutKey {
    let key = CalloutKey(deadline, SEQ.fetch_add(1, Ordering::Relaxed));
    CALLOUTS.lock().insert(key, target);
    key
}

/// Forgets a pending callout (harmless if it already ran).
pub fn cancel(key: CalloutKey) {
    CALLOUTS.lock().remove(&key);
}

/// Timer tick: runs every callout whose deadline has passed.
pub(super) fn expire(now: u64) {
    loop {
        let target = {
            let mut map = CALLOUTS.lock();
            match map.first_key_value() {
                Some((k, _)) if k.0 <= now => map.pop_first().map(|(_, t)| t),
                _ => None,
            }
        };
        let Some(target) = target else { break };
        if let Some(t) = target.upgrade() {
            t.expire(now);
        }
    }
}
