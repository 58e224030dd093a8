//! semop's evaluation of an operation list, all or nothing: the operations run in order (a
//! later one sees an earlier one's effect, as in Linux) and are undone again when one of
//! them would block or fail.

use alloc::vec::Vec;

/// The largest semaphore value (SEMVMX).
pub const SEMVMX: i32 = 32767;
/// The largest SEM_UNDO adjustment (SEMAEM).
pub const SEMAEM: i32 = SEMVMX;

/// One `struct sembuf`, decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SemOp {
    pub num: usize,
    pub op: i16,
    /// SEM_UNDO: the process's adjustment for `num` moves by -op.
    pub undo: bool,
}

/// What became of the list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Every operation was applied.
    Done,
    /// Operation `index` must wait (a decrement below zero, or a wait-for-zero on a
    /// non-zero value); nothing was applied.
    Blocked { index: usize },
    /// A value would pass SEMVMX or an adjustment SEMAEM (ERANGE); nothing was applied.
    OutOfRange,
}

/// Runs `ops` against `values` (indices already checked against its length).
/// `adjustments` is the caller's SEM_UNDO adjustment per semaphore before this call, if it
/// has any. Each SEM_UNDO operation is bounded against that adjustment as moved by the
/// earlier SEM_UNDO operations of the same list (Linux's perform_atomic_semop_slow, the path
/// a list naming a semaphore twice takes). On `Done`, `values` holds the result; otherwise
/// it is unchanged. The caller records the adjustments itself once the list is done.
pub fn apply(
    values: &mut [i32],
    adjustments: Option<&[i32]>,
    ops: impl IntoIterator<Item = SemOp>,
) -> Outcome {
    let ops = ops.into_iter();
    let mut saved: Vec<(usize, i32)> = Vec::with_capacity(ops.size_hint().0);
    // (semaphore, adjustment change) of this list's SEM_UNDO operations so far; allocated
    // only when SEM_UNDO is used.
    let mut moved: Vec<(usize, i32)> = Vec::new();
    let mut outcome = Outcome::Done;
    for (index, op) in ops.enumerate() {
        let cur = values[op.num];
        let new = cur + op.op as i32;
        if (op.op == 0 && cur != 0) || new < 0 {
            outcome = Outcome::Blocked { index };
            break;
        }
        if new > SEMVMX {
            outcome = Outcome::OutOfRange;
            break;
        }
        if op.undo {
            let earlier: i32 = moved.iter().filter(|&&(n, _)| n == op.num).map(|&(_, d)| d).sum();
            let adj = adjustments.map_or(0, |a| a[op.num]) + earlier - op.op as i32;
            if !(-SEMAEM - 1..=SEMAEM).contains(&adj) {
                outcome = Outcome::OutOfRange;
                break;
            }
            moved.push((op.num, -(op.op as i32)));
        }
        saved.push((op.num, cur));
        values[op.num] = new;
    }
    if outcome != Outcome::Done {
        for &(n, old) in saved.iter().rev() {
            values[n] = old;
        }
    }
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(num: usize, op: i16) -> SemOp {
        SemOp { num, op, undo: false }
    }

    #[test]
    fn a_list_that_fits_applies_in_order() {
        let mut v = [1, 0];
        // The second decrement of sem 0 only works after the increment before it.
        let ops = [op(0, -1), op(0, 2), op(0, -2), op(1, 5)];
        assert_eq!(apply(&mut v, None, ops), Outcome::Done);
        assert_eq!(v, [0, 5]);
    }

    #[test]
    fn a_blocking_operation_rolls_back_the_earlier_ones() {
        let mut v = [2, 0, 4];
        let ops = [op(0, -1), op(2, 3), op(1, -1)];
        assert_eq!(apply(&mut v, None, ops), Outcome::Blocked { index: 2 });
        assert_eq!(v, [2, 0, 4]);
    }

    #[test]
    fn wait_for_zero_blocks_on_non_zero_and_passes_on_zero() {
        let mut v = [1];
        assert_eq!(apply(&mut v, None, [op(0, 0)]), Outcome::Blocked { index: 0 });
        assert_eq!(apply(&mut v, None, [op(0, -1), op(0, 0)]), Outcome::Done);
        assert_eq!(v, [0]);
    }

    #[test]
    fn the_same_semaphore_twice_sees_the_first_change() {
        let mut v = [0];
        assert_eq!(apply(&mut v, None, [op(0, 1), op(0, 0)]), Outcome::Blocked { index: 1 });
        assert_eq!(v, [0]);
    }

    #[test]
    fn passing_semvmx_is_out_of_range_and_changes_nothing() {
        let mut v = [SEMVMX - 1, 7];
        assert_eq!(apply(&mut v, None, [op(1, -7), op(0, 2)]), Outcome::OutOfRange);
        assert_eq!(v, [SEMVMX - 1, 7]);
        assert_eq!(apply(&mut v, None, [op(0, 1)]), Outcome::Done);
        assert_eq!(v[0], SEMVMX);
    }

    #[test]
    fn undo_adjustment_is_bounded_by_semaem() {
        let undo = |num, o| SemOp { num, op: o, undo: true };
        let mut v = [SEMVMX - 10];
        // An adjustment of -SEMAEM already: another increment would pass -SEMAEM - 1 only
        // if it is more than 1.
        let adj = [-SEMAEM];
        assert_eq!(apply(&mut v, Some(&adj), [undo(0, 1)]), Outcome::Done);
        assert_eq!(apply(&mut v, Some(&adj), [undo(0, 2)]), Outcome::OutOfRange);
        // Without SEM_UNDO the adjustment does not matter.
        assert_eq!(apply(&mut v, Some(&adj), [op(0, 2)]), Outcome::Done);
    }

    #[test]
    fn undo_adjustments_add_up_within_one_list() {
        let undo = |num, o| SemOp { num, op: o, undo: true };
        let mut v = [0];
        // Values 30000, 0, 30000 are fine, but the adjustment would reach -60000.
        let ops = [undo(0, 30000), op(0, -30000), undo(0, 30000)];
        assert_eq!(apply(&mut v, None, ops), Outcome::OutOfRange);
        assert_eq!(v, [0]);
        // Moving back within the same list is fine.
        let ops = [undo(0, 30000), undo(0, -30000), undo(0, 30000)];
        assert_eq!(apply(&mut v, None, ops), Outcome::Done);
        assert_eq!(v, [30000]);
    }
}
