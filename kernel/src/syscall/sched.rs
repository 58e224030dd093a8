//! sched_setaffinity, sched_getaffinity. There is one CPU: every thread may run on CPU 0 only,
//! so a mask must contain it (EINVAL otherwise) and the mask read back is always {0}. The sizes
//! are Linux's with one possible CPU (its cpumask_size() of 8 bytes).

use crate::error::{Errno, Result};
use crate::mm::user::{UserPtr, UserSlice};
use crate::process::{self, Process};
use alloc::sync::Arc;

/// Bytes of a kernel CPU mask (one unsigned long).
const CPUMASK_SIZE: u64 = 8;
/// CPUs the kernel runs on.
const NR_CPUS: u64 = 1;

/// The process (thread) `pid` names, 0 the caller; ESRCH for none.
fn target(pid: i32) -> Result<Arc<Process>> {
    if pid == 0 {
        return Ok(process::current());
    }
    if pid < 0 {
        return Err(Errno::ESRCH);
    }
    process::find(pid as u32).filter(|p| !p.is_zombie()).ok_or(Errno::ESRCH)
}

pub fn sched_setaffinity(pid: i32, len: u64, mask: u64) -> Result<i64> {
    // Linux reads the mask first (a shorter one is zero-extended, a longer one cut).
    let mut bytes = [0u8; CPUMASK_SIZE as usize];
    let n = len.min(CPUMASK_SIZE) as usize;
    UserSlice::new(mask, n).read(&mut bytes[..n])?;
    let target = target(pid)?;
    let me = process::current();
    if !Arc::ptr_eq(&me, &target) {
        // Linux's check_same_owner, or CAP_SYS_NICE.
        let c = me.creds.lock().clone();
        let t = target.creds.lock().clone();
        if c.euid != 0 && c.euid != t.euid && c.euid != t.uid {
            return Err(Errno::EPERM);
        }
    }
    let wanted = u64::from_ne_bytes(bytes);
    if wanted & ((1 << NR_CPUS) - 1) == 0 {
        return Err(Errno::EINVAL);
    }
    Ok(0)
}

pub fn sched_getaffinity(pid: i32, len: u64, mask: u64) -> Result<i64> {
    if len.saturating_mul(8) < NR_CPUS || !len.is_multiple_of(8) {
        return Err(Errno::EINVAL);
    }
    target(pid)?;
    let cpus: u64 = (1 << NR_CPUS) - 1;
    UserPtr::<u64>::new(mask).write(&cpus)?;
    Ok(len.min(CPUMASK_SIZE) as i64)
}
