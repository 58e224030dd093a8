//! Byte-range record locks as fcntl(2) keeps them (F_SETLK/F_GETLK and the OFD variants): the
//! range a `struct flock` names, whether a request conflicts with another owner's lock, and how
//! an owner's locks are split, replaced and merged when it locks or unlocks a range.
//!
//! Ranges are inclusive and end at most at [`OFFSET_MAX`] ("to the end of the file, however far
//! it grows"), as in Linux's `file_lock`. The owner type is the kernel's: a process for classic
//! POSIX locks, an open file description for OFD locks.

use alloc::collections::BTreeMap;
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

    /// Overlapping or touching (so that two locks of one kind become one; the reference list
    /// of the tests merges by it).
    #[cfg(test)]
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

/// One owner's locks: disjoint ranges, start → (end, kind); two touching ranges of one kind
/// never stand apart (they are merged when made).
#[derive(Clone, Debug)]
struct OwnerLocks<O> {
    owner: O,
    by_start: BTreeMap<u64, (u64, LockKind)>,
}

impl<O: Copy> OwnerLocks<O> {
    fn lock(&self, start: u64, end: u64, kind: LockKind) -> RecordLock<O> {
        RecordLock { owner: self.owner, kind, range: Range { start, end } }
    }

    /// The first of these locks (by start) that overlaps `range` and conflicts with `kind`.
    fn first_conflict(&self, kind: LockKind, range: Range) -> Option<RecordLock<O>> {
        // Only the last lock starting at or before the range can reach into it from the left.
        let from = match self.by_start.range(..=range.start).next_back() {
            Some((&s, &(e, _))) if e >= range.start => s,
            _ => range.start,
        };
        self.by_start
            .range(from..=range.end)
            .find(|(_, &(_, k))| kind == LockKind::Write || k == LockKind::Write)
            .map(|(&s, &(e, k))| self.lock(s, e, k))
    }
}

/// Every record lock on one file, by owner, each owner's ordered by start: setting, unlocking
/// and testing a range cost a logarithm plus the locks it touches, so a program that splits
/// its locks into a million records is not quadratic (Linux keeps a list per file and scans
/// it; the answers are the same).
#[derive(Clone, Debug)]
pub struct RecordLocks<O> {
    owners: Vec<OwnerLocks<O>>,
}

impl<O> Default for RecordLocks<O> {
    fn default() -> Self {
        RecordLocks { owners: Vec::new() }
    }
}

impl<O: Copy + Eq> RecordLocks<O> {
    pub const fn new() -> Self {
        RecordLocks { owners: Vec::new() }
    }

    pub fn is_empty(&self) -> bool {
        self.owners.is_empty()
    }

    /// Every lock: owner by owner, each owner's by start.
    pub fn iter(&self) -> impl Iterator<Item = RecordLock<O>> + '_ {
        self.owners.iter().flat_map(|o| o.by_start.iter().map(move |(&s, &(e, k))| o.lock(s, e, k)))
    }

    /// The lock of another owner that keeps `owner` from taking `kind` over `range`:
    /// overlapping, and a write lock on either side; of several, the one starting first.
    pub fn conflict(&self, owner: O, kind: LockKind, range: Range) -> Option<RecordLock<O>> {
        self.owners
            .iter()
            .filter(|o| o.owner != owner)
            .filter_map(|o| o.first_conflict(kind, range))
            .min_by_key(|l| (l.range.start, l.range.end))
    }

    /// Gives `owner` a lock of `kind` over `range` (`None`: unlocks it), replacing whatever
    /// that owner held there and merging with its touching locks of the same kind. Other
    /// owners' locks are not looked at: call [`conflict`](Self::conflict) first. Allocates
    /// at most the new lock and the two pieces of locks it cuts (no list of the others).
    pub fn set(&mut self, owner: O, kind: Option<LockKind>, range: Range) {
        let i = match self.owners.iter().position(|o| o.owner == owner) {
            Some(i) => i,
            None if kind.is_some() => {
                self.owners.push(OwnerLocks { owner, by_start: BTreeMap::new() });
                self.owners.len() - 1
            }
            None => return,
        };
        let map = &mut self.owners[i].by_start;
        // The locks touching the range: the last one starting before it if it reaches it,
        // then those starting in it or just after it.
        let mut cursor = match map.range(..range.start).next_back() {
            Some((&s, &(e, _))) if e.saturating_add(1) >= range.start => s,
            _ => range.start,
        };
        let last = range.end.saturating_add(1);
        let mut merged = range;
        let (mut left, mut right) = (None, None);
        while let Some((&s, &(e, k))) = map.range(cursor..).next() {
            if s > last {
                break;
            }
            cursor = s + 1;
            let l = Range { start: s, end: e };
            if Some(k) == kind {
                // Same kind: absorbed into the new lock.
                map.remove(&s);
                merged.start = merged.start.min(s);
                merged.end = merged.end.max(e);
            } else if l.overlaps(&range) {
                // Other kind (or unlocking): keep only the parts outside the range.
                map.remove(&s);
                if s < range.start {
                    left = Some((s, range.start - 1, k));
                }
                if e > range.end {
                    right = Some((range.end + 1, e, k));
                }
            }
            // Other kind and only touching: stays as it is.
        }
        for (s, e, k) in left.into_iter().chain(right) {
            map.insert(s, (e, k));
        }
        if let Some(kind) = kind {
            map.insert(merged.start, (merged.end, kind));
        }
        if map.is_empty() {
            self.owners.remove(i);
        }
    }

    /// Drops every lock of `owner`; true if it had any.
    pub fn remove_owner(&mut self, owner: O) -> bool {
        let before = self.owners.len();
        self.owners.retain(|o| o.owner != owner);
        self.owners.len() != before
    }

    pub fn has_owner(&self, owner: O) -> bool {
        self.owners.iter().any(|o| o.owner == owner)
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
        let mut v: Vec<_> =
            l.iter().map(|l| (l.owner, l.kind, l.range.start, l.range.end)).collect();
        v.sort_by_key(|&(o, _, s, e)| (s, e, o));
        v
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

    /// The list Linux keeps (and this type kept before): every lock in one vector, rebuilt on
    /// each change. The reference the ordered structure must agree with.
    fn reference_set(
        locks: &mut Vec<RecordLock<u32>>,
        owner: u32,
        kind: Option<LockKind>,
        range: Range,
    ) {
        let mut merged = range;
        let mut kept = Vec::new();
        for l in locks.drain(..) {
            if l.owner != owner {
                kept.push(l);
            } else if Some(l.kind) == kind && l.range.touches(&merged) {
                merged.start = merged.start.min(l.range.start);
                merged.end = merged.end.max(l.range.end);
            } else if l.range.overlaps(&range) {
                if l.range.start < range.start {
                    kept.push(RecordLock { range: r(l.range.start, range.start - 1), ..l });
                }
                if l.range.end > range.end {
                    kept.push(RecordLock { range: r(range.end + 1, l.range.end), ..l });
                }
            } else {
                kept.push(l);
            }
        }
        if let Some(kind) = kind {
            kept.push(RecordLock { owner, kind, range: merged });
        }
        kept.sort_by_key(|l| (l.range.start, l.range.end, l.owner));
        *locks = kept;
    }

    #[test]
    fn agrees_with_the_list_on_random_sequences() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        for _ in 0..200 {
            let mut fast = RecordLocks::new();
            let mut list: Vec<RecordLock<u32>> = Vec::new();
            for _ in 0..200 {
                let owner = next(3) as u32;
                let kind = match next(3) {
                    0 => None,
                    1 => Some(Read),
                    _ => Some(Write),
                };
                let start = next(64);
                let end = if next(8) == 0 { OFFSET_MAX } else { start + next(16) };
                let range = r(start, end);
                let want = list
                    .iter()
                    .find(|l| {
                        l.owner != owner
                            && l.range.overlaps(&range)
                            && (kind == Some(Write) || l.kind == Write)
                    })
                    .copied();
                let got = kind.and_then(|k| fast.conflict(owner, k, range));
                if kind.is_some() {
                    assert_eq!(
                        got.map(|l| (l.range.start, l.kind)),
                        want.map(|l| (l.range.start, l.kind))
                    );
                }
                if got.is_none() {
                    fast.set(owner, kind, range);
                    reference_set(&mut list, owner, kind, range);
                }
                let want: Vec<_> =
                    list.iter().map(|l| (l.owner, l.kind, l.range.start, l.range.end)).collect();
                assert_eq!(held(&fast), want);
            }
        }
    }

    #[test]
    fn a_lock_storm_stays_fast() {
        // 200,000 records of one owner (every other byte, alternating kinds), tested by
        // another owner, then unlocked at once: linear-ish, where a rebuilt list is quadratic.
        let mut l = RecordLocks::new();
        for i in 0..200_000u64 {
            let kind = if i % 2 == 0 { Read } else { Write };
            l.set(1, Some(kind), r(2 * i, 2 * i));
        }
        assert_eq!(l.iter().count(), 200_000);
        for i in 0..200_000u64 {
            let c = l.conflict(2, Read, r(2 * i, 2 * i + 1));
            assert_eq!(c.is_some(), i % 2 == 1);
        }
        l.set(1, Some(Write), r(1000, 2999));
        assert_eq!(l.iter().count(), 200_000 - 1000 + 1);
        l.set(1, None, r(0, OFFSET_MAX));
        assert!(l.is_empty());
    }
}
