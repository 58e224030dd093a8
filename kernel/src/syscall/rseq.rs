//! rseq (restartable sequences registration) and membarrier. The work on the way back to user
//! mode is `process::rseq`; the registration lives on the thread (`task::abi`).

use core::sync::atomic::Ordering;

use crate::error::{Errno, Result};
use crate::process::{self, rseq};
use crate::task;

const RSEQ_FLAG_UNREGISTER: u32 = 1;
/// The first `struct rseq`'s size; longer registrations must reach at least `end` (28 bytes
/// in) and be aligned as the structure (32).
const ORIG_RSEQ_SIZE: u32 = 32;
const RSEQ_MIN_EXTENDED: u32 = 28;
const RSEQ_ALIGN: u64 = 32;

pub fn rseq(area: u64, len: u32, flags: u32, sig: u32) -> Result<i64> {
    let t = task::current();
    let abi = &t.abi;
    let cur = abi.rseq_area.load(Ordering::Relaxed);
    let cur_len = abi.rseq_len.load(Ordering::Relaxed);
    let cur_sig = abi.rseq_sig.load(Ordering::Relaxed);
    if flags & RSEQ_FLAG_UNREGISTER != 0 {
        if flags & !RSEQ_FLAG_UNREGISTER != 0 || cur != area || cur_len != len {
            return Err(Errno::EINVAL);
        }
        if sig != cur_sig {
            return Err(Errno::EPERM);
        }
        rseq::write_cpu(area, rseq::RSEQ_CPU_ID_UNINITIALIZED).map_err(|_| Errno::EFAULT)?;
        abi.rseq_area.store(0, Ordering::Relaxed);
        abi.rseq_len.store(0, Ordering::Relaxed);
        abi.rseq_sig.store(0, Ordering::Relaxed);
        return Ok(0);
    }
    if flags != 0 {
        return Err(Errno::EINVAL);
    }
    if cur != 0 {
        if cur != area || cur_len != len {
            return Err(Errno::EINVAL);
        }
        if sig != cur_sig {
            return Err(Errno::EPERM);
        }
        return Err(Errno::EBUSY);
    }
    if len < ORIG_RSEQ_SIZE
        || !area.is_multiple_of(RSEQ_ALIGN)
        || (len != ORIG_RSEQ_SIZE && len < RSEQ_MIN_EXTENDED)
    {
        return Err(Errno::EINVAL);
    }
    if area.checked_add(len as u64).is_none_or(|end| end > crate::arch::USER_END) {
        return Err(Errno::EFAULT);
    }
    abi.rseq_area.store(area, Ordering::Relaxed);
    abi.rseq_len.store(len, Ordering::Relaxed);
    abi.rseq_sig.store(sig, Ordering::Relaxed);
    // The fields are filled in on the way back to user mode.
    abi.rseq_event.store(true, Ordering::Relaxed);
    Ok(0)
}

const MEMBARRIER_CMD_QUERY: i32 = 0;
const MEMBARRIER_CMD_GLOBAL: i32 = 1;
const MEMBARRIER_CMD_GLOBAL_EXPEDITED: i32 = 1 << 1;
const MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED: i32 = 1 << 2;
const MEMBARRIER_CMD_PRIVATE_EXPEDITED: i32 = 1 << 3;
const MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED: i32 = 1 << 4;
const MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE: i32 = 1 << 5;
const MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE: i32 = 1 << 6;
const MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ: i32 = 1 << 7;
const MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_RSEQ: i32 = 1 << 8;
const MEMBARRIER_CMD_GET_REGISTRATIONS: i32 = 1 << 9;
const MEMBARRIER_CMD_FLAG_CPU: u32 = 1;
/// Every command, as Linux answers QUERY without nohz_full.
const MEMBARRIER_CMD_BITMASK: i32 = (1 << 10) - 1;

/// membarrier. With one CPU, a barrier is what entering the kernel already is: no other thread
/// runs meanwhile, and each one that ran before is switched back in through the scheduler (a
/// full barrier, and an rseq event that aborts its critical section). What remains is Linux's
/// rules: the registrations per address space and their errors.
pub fn membarrier(cmd: i32, flags: u32, _cpu_id: i32) -> Result<i64> {
    let flags_ok = match cmd {
        MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ => flags & !MEMBARRIER_CMD_FLAG_CPU == 0,
        _ => flags == 0,
    };
    if !flags_ok {
        return Err(Errno::EINVAL);
    }
    let vm = process::current().vm();
    let registered = |bit: i32| -> Result<i64> {
        if vm.lock().membarrier & bit as u32 == 0 {
            return Err(Errno::EPERM);
        }
        Ok(0)
    };
    let register = |bit: i32| -> Result<i64> {
        vm.lock().membarrier |= bit as u32;
        Ok(0)
    };
    match cmd {
        MEMBARRIER_CMD_QUERY => Ok(MEMBARRIER_CMD_BITMASK as i64),
        MEMBARRIER_CMD_GLOBAL | MEMBARRIER_CMD_GLOBAL_EXPEDITED => Ok(0),
        MEMBARRIER_CMD_PRIVATE_EXPEDITED => registered(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED),
        MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE => {
            registered(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE)
        }
        MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ => {
            registered(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_RSEQ)
        }
        MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED
        | MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED
        | MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE
        | MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_RSEQ => register(cmd),
        MEMBARRIER_CMD_GET_REGISTRATIONS => Ok(vm.lock().membarrier as i64),
        _ => Err(Errno::EINVAL),
    }
}
