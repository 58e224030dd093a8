//! sched_setaffinity, sched_getaffinity, getcpu: the CPUs a thread may run on, which the scheduler
//! honours (a thread runs only on CPUs of its mask). `pid` names a thread, as in Linux (0: the
//! caller). The sizes are Linux's with at most 64 possible CPUs (its cpumask_size() of 8 bytes).

use crate::error::{Errno, Result};
use crate::mm::user::{UserPtr, UserSlice};
use crate::process::{self, Process};
use crate::task::{self, Thread};
use alloc::sync::Arc;

/// Bytes of a kernel CPU mask (one unsigned long).
const CPUMASK_SIZE: u64 = 8;

/// The thread `pid` names (0: the caller) and its process; ESRCH for none.
fn target(pid: i32) -> Result<(Arc<Process>, Arc<Thread>)> {
    if pid == 0 {
        return Ok((process::current(), task::current()));
    }
    if pid < 0 {
        return Err(Errno::ESRCH);
    }
    let p = process::find_by_tid(pid as u32).filter(|p| !p.is_zombie()).ok_or(Errno::ESRCH)?;
    // A process id whose leader thread is gone names the process's main thread.
    let t = p.thread(pid as u32).or_else(|| p.main_thread()).ok_or(Errno::ESRCH)?;
    Ok((p, t))
}

/// The CPUs that could ever run a thread (bit n: CPU n).
fn possible() -> u64 {
    let n = crate::arch::percpu::MAX_CPUS;
    if n >= 64 {
        !0
    } else {
        (1 << n) - 1
    }
}

pub fn sched_setaffinity(pid: i32, len: u64, mask: u64) -> Result<i64> {
    // Linux reads the mask first (a shorter one is zero-extended, a longer one cut).
    let mut bytes = [0u8; CPUMASK_SIZE as usize];
    let n = len.min(CPUMASK_SIZE) as usize;
    UserSlice::new(mask, n).read(&mut bytes[..n])?;
    let (target, thread) = target(pid)?;
    let me = process::current();
    if !Arc::ptr_eq(&me, &target) {
        // Linux's check_same_owner, or CAP_SYS_NICE.
        let c = me.creds.lock().clone();
        let t = target.creds.lock().clone();
        if c.euid != 0 && c.euid != t.euid && c.euid != t.uid {
            return Err(Errno::EPERM);
        }
    }
    let wanted = u64::from_ne_bytes(bytes) & possible();
    // A mask must hold a CPU that runs (Linux: cpu_active_mask).
    if wanted & task::scheduler::online_mask() == 0 {
        return Err(Errno::EINVAL);
    }
    task::scheduler::set_affinity(&thread, wanted);
    Ok(0)
}

pub fn sched_getaffinity(pid: i32, len: u64, mask: u64) -> Result<i64> {
    if len.saturating_mul(8) < crate::arch::percpu::MAX_CPUS as u64 || !len.is_multiple_of(8) {
        return Err(Errno::EINVAL);
    }
    let (_, thread) = target(pid)?;
    // Linux reports the mask within the active CPUs.
    let cpus: u64 = thread.affinity() & task::scheduler::online_mask();
    UserPtr::<u64>::new(mask).write(&cpus)?;
    Ok(len.min(CPUMASK_SIZE) as i64)
}

/// getcpu(cpu, node, tcache): the CPU the caller runs on (it may move right after, as under
/// Linux); one NUMA node, 0. Either pointer may be NULL; the cache argument is unused.
pub fn getcpu(cpu: u64, node: u64) -> Result<i64> {
    let here = crate::arch::percpu::cpu_id() as u32;
    if cpu != 0 {
        UserPtr::<u32>::new(cpu).write(&here)?;
    }
    if node != 0 {
        UserPtr::<u32>::new(node).write(&0)?;
    }
    Ok(0)
}
