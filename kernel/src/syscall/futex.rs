//! futex(2), futex_waitv(2), set_robust_list(2), get_robust_list(2): decode the operation and
//! its arguments; the sleeping and waking are `ipc::futex`. Supported: WAIT, WAKE, REQUEUE,
//! CMP_REQUEUE, WAKE_OP, WAIT_BITSET, WAKE_BITSET, LOCK_PI, LOCK_PI2, TRYLOCK_PI, UNLOCK_PI,
//! WAIT_REQUEUE_PI, CMP_REQUEUE_PI, each private or shared, FUTEX_CLOCK_REALTIME where Linux
//! takes it.

use core::sync::atomic::Ordering;

use bytemuck::{Pod, Zeroable};

use super::time_args::Timespec;
use crate::arch::time::monotonic_ns;
use crate::error::{Errno, Result};
use crate::ipc::futex::{self, PiError, WaitEnd, Word};
use crate::mm::user::UserPtr;
use crate::process;
use crate::task;

const FUTEX_WAIT: u32 = 0;
const FUTEX_WAKE: u32 = 1;
const FUTEX_REQUEUE: u32 = 3;
const FUTEX_CMP_REQUEUE: u32 = 4;
const FUTEX_WAKE_OP: u32 = 5;
const FUTEX_LOCK_PI: u32 = 6;
const FUTEX_UNLOCK_PI: u32 = 7;
const FUTEX_TRYLOCK_PI: u32 = 8;
const FUTEX_WAIT_BITSET: u32 = 9;
const FUTEX_WAKE_BITSET: u32 = 10;
const FUTEX_WAIT_REQUEUE_PI: u32 = 11;
const FUTEX_CMP_REQUEUE_PI: u32 = 12;
const FUTEX_LOCK_PI2: u32 = 13;
const FUTEX_PRIVATE_FLAG: u32 = 128;
const FUTEX_CLOCK_REALTIME: u32 = 256;
const FUTEX_BITSET_MATCH_ANY: u32 = u32::MAX;

pub fn futex(uaddr: u64, op: u32, val: u32, timeout: u64, uaddr2: u64, val3: u32) -> Result<i64> {
    let cmd = op & !(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME);
    let private = op & FUTEX_PRIVATE_FLAG != 0;
    let realtime = op & FUTEX_CLOCK_REALTIME != 0;
    if realtime
        && !matches!(cmd, FUTEX_WAIT | FUTEX_WAIT_BITSET | FUTEX_WAIT_REQUEUE_PI | FUTEX_LOCK_PI2)
    {
        return Err(Errno::ENOSYS);
    }
    let vm = process::current().vm();
    let word = |addr| Word::resolve(&vm, addr, private);
    match cmd {
        FUTEX_WAIT | FUTEX_WAIT_BITSET => {
            let bitset = if cmd == FUTEX_WAIT { FUTEX_BITSET_MATCH_ANY } else { val3 };
            // Linux reads and checks the timeout before anything else.
            let deadline = deadline(timeout, cmd == FUTEX_WAIT_BITSET, realtime)?;
            if bitset == 0 {
                return Err(Errno::EINVAL);
            }
            match futex::wait(&word(uaddr)?, val, bitset, deadline) {
                Ok(()) => Ok(0),
                Err(WaitEnd::Changed) => Err(Errno::EAGAIN),
                Err(WaitEnd::TimedOut) => Err(Errno::ETIMEDOUT),
                // Linux restarts an untimed wait under SA_RESTART, a timed one only without a
                // handler (restart_block), which is ERESTARTNOHAND's rule.
                Err(WaitEnd::Interrupted) if deadline.is_none() => Err(Errno::ERESTARTSYS),
                Err(WaitEnd::Interrupted) => Err(Errno::ERESTARTNOHAND),
            }
        }
        FUTEX_WAKE | FUTEX_WAKE_BITSET => {
            let bitset = if cmd == FUTEX_WAKE { FUTEX_BITSET_MATCH_ANY } else { val3 };
            if bitset == 0 {
                return Err(Errno::EINVAL);
            }
            futex::wake_checked(&word(uaddr)?, count(val), bitset).map(i64::from)
        }
        FUTEX_REQUEUE | FUTEX_CMP_REQUEUE => {
            // The fourth argument is the requeue count here, not a timeout.
            let (n_wake, n_move) = (val as i32, timeout as u32 as i32);
            if n_wake < 0 || n_move < 0 {
                return Err(Errno::EINVAL);
            }
            let expected = (cmd == FUTEX_CMP_REQUEUE).then_some(val3);
            let (from, to) = (word(uaddr)?, word(uaddr2)?);
            futex::requeue(&from, &to, n_wake as u32, n_move as u32, expected).map(i64::from)
        }
        FUTEX_WAKE_OP => {
            let (op, cmp) = decode_wake_op(val3)?;
            let (w1, w2) = (word(uaddr)?, word(uaddr2)?);
            futex::wake_op(&w1, &w2, count(val), count(timeout as u32), op, cmp).map(i64::from)
        }
        FUTEX_LOCK_PI | FUTEX_LOCK_PI2 | FUTEX_TRYLOCK_PI => {
            // LOCK_PI's timeout is absolute on CLOCK_REALTIME; LOCK_PI2's on CLOCK_MONOTONIC
            // unless FUTEX_CLOCK_REALTIME; TRYLOCK_PI has none.
            let deadline = match cmd {
                FUTEX_TRYLOCK_PI => None,
                FUTEX_LOCK_PI => deadline(timeout, true, true)?,
                _ => deadline(timeout, true, realtime)?,
            };
            let tid = task::current().tid();
            let r = futex::lock_pi(&word(uaddr)?, tid, deadline, cmd == FUTEX_TRYLOCK_PI);
            pi_result(r)
        }
        FUTEX_UNLOCK_PI => futex::unlock_pi(&word(uaddr)?, task::current().tid()).map(|_| 0),
        FUTEX_WAIT_REQUEUE_PI => {
            let deadline = deadline(timeout, true, realtime)?;
            let (w1, w2) = (word(uaddr)?, word(uaddr2)?);
            let tid = task::current().tid();
            pi_result(futex::wait_requeue_pi(&w1, val, &w2, tid, deadline))
        }
        FUTEX_CMP_REQUEUE_PI => {
            let (n_wake, n_move) = (val as i32, timeout as u32 as i32);
            if n_wake < 0 || n_move < 0 || n_wake != 1 {
                return Err(Errno::EINVAL);
            }
            let (from, to) = (word(uaddr)?, word(uaddr2)?);
            futex::cmp_requeue_pi(&from, &to, n_move as u32, val3).map(i64::from)
        }
        _ => Err(Errno::ENOSYS),
    }
}

/// A PI lock's end: a signal restarts the call whatever SA_RESTART says (Linux's
/// ERESTARTNOINTR), a deadline is ETIMEDOUT.
fn pi_result(r: core::result::Result<(), PiError>) -> Result<i64> {
    match r {
        Ok(()) => Ok(0),
        Err(PiError::Errno(e)) => Err(e),
        Err(PiError::TimedOut) => Err(Errno::ETIMEDOUT),
        Err(PiError::Interrupted) => Err(Errno::ERESTARTNOINTR),
    }
}

/// `struct futex_waitv`.
#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct FutexWaitv {
    val: u64,
    uaddr: u64,
    flags: u32,
    reserved: u32,
}

const FUTEX_WAITV_MAX: u32 = 128;
const FUTEX2_SIZE_U32: u32 = 0x02;
const FUTEX2_SIZE_MASK: u32 = 0x03;
const FUTEX2_PRIVATE: u32 = FUTEX_PRIVATE_FLAG;
const CLOCK_REALTIME: i32 = 0;
const CLOCK_MONOTONIC: i32 = 1;

/// futex_waitv: waits on up to 128 32-bit words at once; returns the index of one that woke.
pub fn futex_waitv(waiters: u64, n: u32, flags: u32, timeout: u64, clock: i32) -> Result<i64> {
    if flags != 0 || n == 0 || n > FUTEX_WAITV_MAX || waiters == 0 {
        return Err(Errno::EINVAL);
    }
    let deadline = if timeout != 0 {
        if clock != CLOCK_REALTIME && clock != CLOCK_MONOTONIC {
            return Err(Errno::EINVAL);
        }
        deadline(timeout, true, clock == CLOCK_REALTIME)?
    } else {
        None
    };
    let vm = process::current().vm();
    let mut words = alloc::vec::Vec::new();
    words.try_reserve_exact(n as usize).map_err(|_| Errno::ENOMEM)?;
    for i in 0..n as u64 {
        let w = UserPtr::<FutexWaitv>::new(waiters + i * 24).read()?;
        if w.flags & !(FUTEX2_SIZE_MASK | FUTEX2_PRIVATE) != 0 || w.reserved != 0 {
            return Err(Errno::EINVAL);
        }
        if w.flags & FUTEX2_SIZE_MASK != FUTEX2_SIZE_U32 || w.val > u32::MAX as u64 {
            return Err(Errno::EINVAL);
        }
        let word = Word::resolve(&vm, w.uaddr, w.flags & FUTEX2_PRIVATE != 0)?;
        words.push((word, w.val as u32, FUTEX_BITSET_MATCH_ANY));
    }
    match futex::waitv(&words, deadline) {
        Ok(i) => Ok(i as i64),
        Err(WaitEnd::Changed) => Err(Errno::EAGAIN),
        Err(WaitEnd::TimedOut) => Err(Errno::ETIMEDOUT),
        Err(WaitEnd::Interrupted) => Err(Errno::ERESTARTSYS),
    }
}

/// `struct robust_list_head`'s size: the only length Linux accepts.
const ROBUST_LIST_HEAD_SIZE: u64 = 24;

pub fn set_robust_list(head: u64, len: u64) -> Result<i64> {
    if len != ROBUST_LIST_HEAD_SIZE {
        return Err(Errno::EINVAL);
    }
    let t = task::current();
    t.abi.robust_head.store(head, Ordering::Relaxed);
    t.abi.robust_len.store(len, Ordering::Relaxed);
    Ok(0)
}

pub fn get_robust_list(pid: i32, head_ptr: u64, len_ptr: u64) -> Result<i64> {
    let thread = if pid == 0 {
        task::current()
    } else {
        let (p, t) = process::find_thread(pid as u32).ok_or(Errno::ESRCH)?;
        // Linux's ptrace read check.
        crate::procfs::may_inspect(p.pid).map_err(|_| Errno::EPERM)?;
        t
    };
    let head = thread.abi.robust_head.load(Ordering::Relaxed);
    UserPtr::<u64>::new(len_ptr).write(&ROBUST_LIST_HEAD_SIZE)?;
    UserPtr::<u64>::new(head_ptr).write(&head).map(|_| 0)
}

/// A wake count: Linux wakes one sleeper even when asked for zero or a negative number.
fn count(val: u32) -> u32 {
    (val as i32).max(1) as u32
}

/// The wait's deadline on the monotonic clock: FUTEX_WAIT's timeout is relative, the bitset
/// wait's absolute (on CLOCK_REALTIME with FUTEX_CLOCK_REALTIME, else CLOCK_MONOTONIC).
fn deadline(timeout: u64, absolute: bool, realtime: bool) -> Result<Option<u64>> {
    if timeout == 0 {
        return Ok(None);
    }
    let ns = UserPtr::<Timespec>::new(timeout).read()?.to_ns()?;
    if !absolute {
        return Ok(Some(monotonic_ns().saturating_add(ns as u64)));
    }
    if realtime {
        return Ok(Some(super::time_args::realtime_to_deadline(ns)));
    }
    Ok(Some(ns as u64))
}

/// FUTEX_WAKE_OP's `val3`: the operation on the second word and the test of its old value.
fn decode_wake_op(v: u32) -> Result<(impl Fn(u32) -> u32, impl Fn(u32) -> bool)> {
    const OPARG_SHIFT: u32 = 8;
    let op = (v >> 28) & 0xf;
    let cmp = (v >> 24) & 0xf;
    // Both arguments are signed 12-bit numbers.
    let mut oparg = (((v >> 12) & 0xfff) as i32) << 20 >> 20;
    let cmparg = ((v & 0xfff) as i32) << 20 >> 20;
    if op & OPARG_SHIFT != 0 {
        oparg = 1i32.wrapping_shl((oparg & 31) as u32);
    }
    let oparg = oparg as u32;
    let apply: fn(u32, u32) -> u32 = match op & 7 {
        0 => |_, a| a,
        1 => |o, a| o.wrapping_add(a),
        2 => |o, a| o | a,
        3 => |o, a| o & !a,
        4 => |o, a| o ^ a,
        _ => return Err(Errno::ENOSYS),
    };
    let test: fn(i32, i32) -> bool = match cmp {
        0 => |o, a| o == a,
        1 => |o, a| o != a,
        2 => |o, a| o < a,
        3 => |o, a| o <= a,
        4 => |o, a| o > a,
        5 => |o, a| o >= a,
        _ => return Err(Errno::ENOSYS),
    };
    Ok((move |old| apply(old, oparg), move |old: u32| test(old as i32, cmparg)))
}
