//! futex(2): decodes the operation and its arguments; the sleeping and waking are `ipc::futex`.
//! Supported: WAIT, WAKE, REQUEUE, CMP_REQUEUE, WAKE_OP, WAIT_BITSET, WAKE_BITSET, each private
//! or shared, FUTEX_CLOCK_REALTIME for the waits. The priority-inheritance operations need
//! threads and give ENOSYS.

use super::time_args::Timespec;
use crate::arch::time::monotonic_ns;
use crate::error::{Errno, Result};
use crate::ipc::futex::{self, WaitEnd, Word};
use crate::mm::user::UserPtr;
use crate::process;

const FUTEX_WAIT: u32 = 0;
const FUTEX_WAKE: u32 = 1;
const FUTEX_REQUEUE: u32 = 3;
const FUTEX_CMP_REQUEUE: u32 = 4;
const FUTEX_WAKE_OP: u32 = 5;
const FUTEX_WAIT_BITSET: u32 = 9;
const FUTEX_WAKE_BITSET: u32 = 10;
const FUTEX_PRIVATE_FLAG: u32 = 128;
const FUTEX_CLOCK_REALTIME: u32 = 256;
const FUTEX_BITSET_MATCH_ANY: u32 = u32::MAX;

pub fn futex(uaddr: u64, op: u32, val: u32, timeout: u64, uaddr2: u64, val3: u32) -> Result<i64> {
    let cmd = op & !(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME);
    let private = op & FUTEX_PRIVATE_FLAG != 0;
    let realtime = op & FUTEX_CLOCK_REALTIME != 0;
    if realtime && !matches!(cmd, FUTEX_WAIT | FUTEX_WAIT_BITSET) {
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
            Ok(futex::wake(&word(uaddr)?, count(val), bitset) as i64)
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
        _ => Err(Errno::ENOSYS),
    }
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
