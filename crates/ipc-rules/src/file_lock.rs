//! Byte-range record locks as fcntl(2) keeps them (F_SETLK/F_GETLK and the OFD variants): the
//! range a `struct flock` names, whether a request conflicts with another owner's lock, and how
//! an owner's locks are split, replaced and merged when it locks or unlocks a range.
//!
//! Ranges are inclusive and end at most at [`OFFSET_MAX`] ("to the end of the file, however far
//! it grows"), as in Linux's `file_lock`. The owner type is the kernel's: a process for classic
//! POSIX locks, an open file description for OFD locks.

use alloc::vec::Vec;

/// Linux's `OFFSET_MAX` (the largest `loff_t`): a range ending here runs to end of file.
pub const OFFSET_MAX: u64 = i64::MAX as u64;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LockKind {
    Read,
    Write,
}

/// An inclusive byte range `start..=end`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Range {
    pub start: u64,
    pub end: u64,
}

impl Range {
    fn overlaps(&self, other: &Range) -> bool {
        self.start <= other.end && other.start <= self.end
    }

    /// Overlapping or touching (so that two locks of one kind become one).
    fn touches(&self, other: &Range) -> bool {
        self.start <= other.end.saturating_add(1) && other.start <= self.end.saturating_add(1)
    }

    /// `l_len` as F_GETLK reports it: 0 for "to end of file".
    pub fn l_len(&self) -> i64 {
        if self.end == OFFSET_MAX {
            0
        } else {
            (self.end - self.start + 1) as i64
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RangeError {
    /// The range starts before offset 0 (EINVAL).
    Invalid,
    /// The range ends beyond [`OFFSET_MAX`] (EOVERFLOW).
    Overflow,
}

/// The range `l_start`/`l_len` names from `base` (0, the file offset or the file size, chosen
/// by `l_whence`), by Linux's rules: a positive length counts forward, a negative one backward
/// from the start (excluding it), zero means to end of file.
pub fn range_of(base: i64, l_start: i64, l_len: i64) -> Result<Range, RangeError> {
    let start = base.checked_add(l_start).ok_or(RangeError::Overflow)?;
    if start < 0 {
        return Err(RangeError::Invalid);
    }
    let (start, end) = match l_len {
        0 => (start, i64::MAX),
        len if len > 0 => {
            if len - 1 > i64::MAX - start {
                return Err(RangeError::Overflow);
            }
            (start, start + (len - 1))
        }
        len => {
            let from = start.checked_add(len).ok_or(RangeError::Invalid)?;
            if from < 0 {
                return Err(RangeError::Invalid);
            }
            (from, start - 1)
        }
    };
    Ok(Range { start: start as u64, end: end as u64 })
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecordLock<O> {
    pub owner: O,
    pub kind: LockKind,
    pub range: Range,
}

/// Every record lock on one file, sorted by start.
#[derive(Clone, Debug)]
pub struct RecordLocks<O> {
    locks: Vec<RecordLock<O>>,
}

impl<O> Default for RecordLocks<O> {
    fn default() -> Self {
        RecordLocks { locks: Vec::new() }
    }
}

impl<O: Copy + Eq> RecordLocks<O> {
    pub const fn new() -> Self {
        RecordLocks { locks: Vec::new() }
    }

    pub fn is_empty(&self) -> bool {
        self.locks.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &RecordLock<O>> {
        self.locks.iter()
    }

    /// The first lock of another owner that keeps `owner` from taking `kind` over `range`:
    /// overlapping, and a write lock on either side.
    pub fn conflict(&self, owner: O, kind: LockKind, range: Range) -> Option<RecordLock<O>> {
        self.locks
            .iter()
            .find(|l| {
                l.owner != owner
                    && l.range.overlaps(&range)
                    && (kind == LockKind::Write || l.kind == LockKind::Write)
            })
            .copied()
    }

    /// Gives `owner` a lock of `kind` over `range` (`None`: unlocks it), replacing whatever
    /// that owner held there and merging with its touching locks of the same kind. Other
    /// owners' locks are not looked at: call [`conflict`](Self::conflict) first.
    pub fn set(&mut self, owner: O, kind: Option<LockKind>, range: Range) {
        let mut merged = range;
        let mut kept = Vec::with_capacity(self.locks.len() + 2);
        for l in self.locks.drain(..) {
            if l.owner != owner {
                kept.push(l);
            } else if Some(l.kind) == kind && l.range.touches(&merged) {
                // Same kind: absorbed into the new lock.
                merged.start = merged.start.min(l.range.start);
                merged.end = merged.end.max(l.range.end);
            } else if l.range.overlaps(&range) {
                // Other kind (or unlocking): keep only the parts outside the range.
                if l.range.start < range.start {
                    kept.push(RecordLock {
                        range: Range { start: l.range.start, end: range.start - 1 },
                        ..l
                    });
                }
                if l.range.end > range.end {
                    kept.push(RecordLock {
                        range: Range { start: range.end + 1, end: l.range.end },
                        ..l
                    });
                }
            } else {
                kept.push(l);
            }
        }
        if let Some(kind) = kind {
            kept.push(RecordLock { owner, kind, range: merged });
        }
        kept.sort_by_key(|l| (l.range.start, l.range.end));
        self.locks = kept;
    }

    /// Drops every lock of `owner`; true if it had any.
    pub fn remove_owner(&mut self, owner: O) -> bool {
        let before = self.locks.len();
        self.locks.retain(|l| l.owner != owner);
        self.locks.len() != before
    }

    pub fn has_owner(&self, owner: O) -> bool {
        self.locks.iter().any(|l| l.owner == owner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use LockKind::*;

    fn r(start: u64, end: u64) -> Range {
        Range { start, end }
    }

    fn held(l: &RecordLocks<u32>) -> Vec<(u32, LockKind, u64, u64)> {
        l.iter().map(|l| (l.owner, l.kind, l.range.start, l.range.end)).collect()
    }

    #[test]
    fn ranges_follow_linux() {
        assert_eq!(range_of(0, 10, 5), Ok(r(10, 14)));
        assert_eq!(range_of(100, -10, 0), Ok(r(90, OFFSET_MAX)));
        assert_eq!(range_of(0, 10, -5), Ok(r(5, 9)));
        assert_eq!(range_of(0, 10, -10), Ok(r(0, 9)));
        assert_eq!(range_of(0, 10, -11), Err(RangeError::Invalid));
        assert_eq!(range_of(5, -6, 1), Err(RangeError::Invalid));
        assert_eq!(range_of(0, i64::MAX, 1), Ok(r(OFFSET_MAX, OFFSET_MAX)));
        assert_eq!(range_of(0, i64::MAX, 2), Err(RangeError::Overflow));
        assert_eq!(range_of(i64::MAX, 1, 1), Err(RangeError::Overflow));
        assert_eq!(r(0, OFFSET_MAX).l_len(), 0);
        assert_eq!(r(3, 7).l_len(), 5);
    }

    #[test]
    fn readers_share_writers_exclude_others_only() {
        let mut l = RecordLocks::new();
        l.set(1, Some(Read), r(0, 99));
        assert_eq!(l.conflict(2, Read, r(50, 60)), None);
        assert_eq!(l.conflict(2, Write, r(99, 200)).map(|c| c.owner), Some(1));
        assert_eq!(l.conflict(2, Write, r(100, 200)), None);
        assert_eq!(l.conflict(1, Write, r(0, 10)), None); // never with oneself
        l.set(2, Some(Write), r(200, 300));
        assert_eq!(l.conflict(3, Read, r(0, OFFSET_MAX)).map(|c| c.owner), Some(2));
    }

    #[test]
    fn same_kind_merges_touching_and_overlapping() {
        let mut l = RecordLocks::new();
        l.set(1, Some(Write), r(0, 9));
        l.set(1, Some(Write), r(10, 19));
        l.set(1, Some(Write), r(15, 29));
        assert_eq!(held(&l), [(1, Write, 0, 29)]);
        l.set(1, Some(Write), r(31, 40)); // a gap: stays apart
        assert_eq!(held(&l), [(1, Write, 0, 29), (1, Write, 31, 40)]);
    }

    #[test]
    fn other_kind_splits_and_unlock_punches_holes() {
        let mut l = RecordLocks::new();
        l.set(1, Some(Write), r(0, 99));
        l.set(1, Some(Read), r(40, 59));
        assert_eq!(held(&l), [(1, Write, 0, 39), (1, Read, 40, 59), (1, Write, 60, 99)]);
        l.set(1, None, r(30, 69));
        assert_eq!(held(&l), [(1, Write, 0, 29), (1, Write, 70, 99)]);
        l.set(1, None, r(0, OFFSET_MAX));
        assert!(l.is_empty());
    }

    #[test]
    fn owners_are_independent() {
        let mut l = RecordLocks::new();
        l.set(1, Some(Read), r(0, 9));
        l.set(2, Some(Read), r(5, 14));
        l.set(1, None, r(0, OFFSET_MAX));
        assert_eq!(held(&l), [(2, Read, 5, 14)]);
        assert!(l.remove_owner(2));
        assert!(!l.remove_owner(2));
        assert!(!l.has_owner(2));
    }
}
