//! msgrcv's choice of message: Linux's `convert_mode` (how `msgtyp` and the flags are read)
//! and `find_msg` (which queued message they pick).

pub const MSG_EXCEPT: i32 = 0o20000;
pub const MSG_COPY: i32 = 0o40000;

/// How msgrcv picks a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Select {
    /// msgtyp 0: the first message.
    Any,
    /// msgtyp > 0: the first message of exactly this type.
    Equal(i64),
    /// msgtyp > 0 with MSG_EXCEPT: the first message of any other type.
    NotEqual(i64),
    /// msgtyp < 0: the first message of the lowest type that is at most |msgtyp|.
    LessEqual(i64),
    /// MSG_COPY: the message at this position, left in place.
    Number(usize),
}

impl Select {
    pub fn new(msgtyp: i64, flags: i32) -> Select {
        if flags & MSG_COPY != 0 {
            Select::Number(msgtyp.max(0) as usize)
        } else if msgtyp == 0 {
            Select::Any
        } else if msgtyp < 0 {
            // |i64::MIN| does not fit; every type is at most i64::MAX anyway.
            Select::LessEqual(msgtyp.checked_neg().unwrap_or(i64::MAX))
        } else if flags & MSG_EXCEPT != 0 {
            Select::NotEqual(msgtyp)
        } else {
            Select::Equal(msgtyp)
        }
    }

    /// The position of the chosen message among `types`, the types of the queued messages
    /// from oldest to newest.
    pub fn find(self, types: impl IntoIterator<Item = i64>) -> Option<usize> {
        let mut types = types.into_iter().enumerate();
        match self {
            Select::Any => types.next().map(|(i, _)| i),
            Select::Equal(t) => types.find(|&(_, m)| m == t).map(|(i, _)| i),
            Select::NotEqual(t) => types.find(|&(_, m)| m != t).map(|(i, _)| i),
            // Among equals the oldest wins: the key includes the position.
            Select::LessEqual(t) => {
                types.filter(|&(_, m)| m <= t).min_by_key(|&(i, m)| (m, i)).map(|(i, _)| i)
            }
            Select::Number(n) => types.nth(n).map(|(i, _)| i),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const QUEUE: [i64; 6] = [5, 3, 7, 3, 1, 9];

    fn pick(msgtyp: i64, flags: i32) -> Option<usize> {
        Select::new(msgtyp, flags).find(QUEUE)
    }

    #[test]
    fn zero_takes_the_oldest() {
        assert_eq!(pick(0, 0), Some(0));
        assert_eq!(Select::new(0, 0).find([]), None);
    }

    #[test]
    fn positive_takes_the_first_of_that_type() {
        assert_eq!(pick(3, 0), Some(1));
        assert_eq!(pick(9, 0), Some(5));
        assert_eq!(pick(4, 0), None);
    }

    #[test]
    fn except_takes_the_first_of_another_type() {
        assert_eq!(pick(5, MSG_EXCEPT), Some(1));
        assert_eq!(pick(3, MSG_EXCEPT), Some(0));
        assert_eq!(Select::new(2, MSG_EXCEPT).find([2, 2]), None);
    }

    #[test]
    fn negative_takes_the_oldest_of_the_lowest_type_in_range() {
        assert_eq!(pick(-4, 0), Some(4)); // type 1 beats the two 3s
        assert_eq!(Select::new(-4, 0).find([3, 2, 2, 4]), Some(1));
        assert_eq!(pick(-0x7fff_ffff, 0), Some(4));
        assert_eq!(Select::new(-2, 0).find([3, 5]), None);
    }

    #[test]
    fn negative_extreme_does_not_overflow() {
        assert_eq!(Select::new(i64::MIN, 0), Select::LessEqual(i64::MAX));
        assert_eq!(Select::new(i64::MIN, 0).find([i64::MAX]), Some(0));
    }

    #[test]
    fn except_does_not_change_the_meaning_of_zero_or_negative() {
        assert_eq!(Select::new(0, MSG_EXCEPT), Select::Any);
        assert_eq!(Select::new(-3, MSG_EXCEPT), Select::LessEqual(3));
    }

    #[test]
    fn copy_counts_positions_and_ignores_types() {
        assert_eq!(pick(0, MSG_COPY), Some(0));
        assert_eq!(pick(5, MSG_COPY), Some(5));
        assert_eq!(pick(6, MSG_COPY), None);
        assert_eq!(Select::new(-1, MSG_COPY), Select::Number(0));
    }
}
