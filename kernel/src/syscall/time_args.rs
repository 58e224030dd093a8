//! The time arguments system calls share: `struct timespec`, `struct timeval`, and a relative
//! timeout turned into a monotonic deadline.

use bytemuck::{Pod, Zeroable};

use crate::arch::time::monotonic_ns;
use crate::error::{Errno, Result};
use crate::mm::user::UserPtr;

const NSEC_PER_SEC: i64 = 1_000_000_000;

#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
pub struct Timespec {
    pub sec: i64,
    pub nsec: i64,
}

impl Timespec {
    pub fn from_ns(ns: i64) -> Self {
        Timespec { sec: ns.div_euclid(NSEC_PER_SEC), nsec: ns.rem_euclid(NSEC_PER_SEC) }
    }

    /// Nanoseconds, or EINVAL for a negative or unnormalised value.
    pub fn to_ns(self) -> Result<i64> {
        if self.sec < 0 || !(0..NSEC_PER_SEC).contains(&self.nsec) {
            return Err(Errno::EINVAL);
        }
        Ok(self.sec.saturating_mul(NSEC_PER_SEC).saturating_add(self.nsec))
    }
}

#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
pub struct Timeval {
    pub sec: i64,
    pub usec: i64,
}

impl Timeval {
    pub fn from_ns(ns: i64) -> Self {
        Timeval { sec: ns.div_euclid(NSEC_PER_SEC), usec: ns.rem_euclid(NSEC_PER_SEC) / 1000 }
    }

    /// Nanoseconds, or EINVAL for a negative or unnormalised value.
    pub fn to_ns(self) -> Result<i64> {
        if self.sec < 0 || !(0..1_000_000).contains(&self.usec) {
            return Err(Errno::EINVAL);
        }
        Ok(self.sec.saturating_mul(NSEC_PER_SEC).saturating_add(self.usec * 1000))
    }
}

/// The monotonic deadline of an absolute time `abs_ns` on CLOCK_REALTIME (already past: now).
pub fn realtime_to_deadline(abs_ns: i64) -> u64 {
    let left = abs_ns.saturating_sub(crate::arch::time::realtime_ns()).max(0) as u64;
    monotonic_ns().saturating_add(left)
}

/// The absolute CLOCK_REALTIME timeout at `ts` (NULL: wait forever) as a monotonic deadline.
pub fn realtime_deadline(ts: u64) -> Result<Option<u64>> {
    if ts == 0 {
        return Ok(None);
    }
    let abs = UserPtr::<Timespec>::new(ts).read()?.to_ns()?;
    Ok(Some(realtime_to_deadline(abs)))
}

/// The relative timeout at `ts` (NULL: wait forever) as a monotonic deadline.
pub fn relative_deadline(ts: u64) -> Result<Option<u64>> {
    if ts == 0 {
        return Ok(None);
    }
    let ns = UserPtr::<Timespec>::new(ts).read()?.to_ns()?;
    Ok(Some(monotonic_ns().saturating_add(ns as u64)))
}
