//! POSIX message queues: the rules that need no kernel. Which message mq_receive takes
//! (`PrioQueue`: highest priority first, oldest first within a priority), whether an
//! `mq_attr` given to mq_open is acceptable (Linux's `mq_attr_ok`), and which names the
//! queue namespace accepts (Linux's `lookup_one_len` + `simple_lookup`).

use alloc::collections::{BTreeMap, VecDeque};

/// Priorities are 0 ..= MQ_PRIO_MAX - 1.
pub const MQ_PRIO_MAX: u32 = 32768;
/// The ceilings for a privileged creator (CAP_SYS_RESOURCE), include/linux/ipc_namespace.h.
pub const HARD_MSGMAX: i64 = 65536;
pub const HARD_MSGSIZEMAX: i64 = 16 * 1024 * 1024;
pub const NAME_MAX: usize = 255;

/// The /proc/sys/fs/mqueue values (Linux's defaults).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    pub msg_max: i64,
    pub msgsize_max: i64,
    pub msg_default: i64,
    pub msgsize_default: i64,
    pub queues_max: usize,
}

pub const DEFAULT_LIMITS: Limits = Limits {
    msg_max: 10,
    msgsize_max: 8192,
    msg_default: 10,
    msgsize_default: 8192,
    queues_max: 256,
};

/// Why an attribute or a name is refused; the kernel maps these to errnos.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// EINVAL
    Invalid,
    /// EOVERFLOW
    Overflow,
    /// EACCES: not a single path component
    NotAName,
    /// ENAMETOOLONG
    TooLong,
    /// ENOENT: the empty string (getname refuses it before the lookup)
    Empty,
}

/// The attributes of a queue created without an `mq_attr` (Linux: min of max and default).
pub fn default_attr(l: &Limits) -> (usize, usize) {
    (l.msg_max.min(l.msg_default) as usize, l.msgsize_max.min(l.msgsize_default) as usize)
}

/// Linux's mq_attr_ok: positive, within the sysctl limits (the hard ones when privileged), and
/// the total size must not overflow. Returns (maxmsg, msgsize).
pub fn check_attr(
    maxmsg: i64,
    msgsize: i64,
    privileged: bool,
    l: &Limits,
) -> Result<(usize, usize), Refusal> {
    if maxmsg <= 0 || msgsize <= 0 {
        return Err(Refusal::Invalid);
    }
    let (max_msg, max_size) =
        if privileged { (HARD_MSGMAX, HARD_MSGSIZEMAX) } else { (l.msg_max, l.msgsize_max) };
    if maxmsg > max_msg || msgsize > max_size {
        return Err(Refusal::Invalid);
    }
    // Unreachable with the limits above, kept because the limits are tunable on Linux.
    (maxmsg as u64).checked_mul(msgsize as u64).ok_or(Refusal::Overflow)?;
    Ok((maxmsg as usize, msgsize as usize))
}

/// Linux's sizes of `struct msg_msg` and `struct posix_msg_tree_node` on x86-64: part of what a
/// queue is charged against RLIMIT_MSGQUEUE.
const MSG_MSG_SIZE: u64 = 48;
const TREE_NODE_SIZE: u64 = 48;

/// The bytes a queue with these attributes charges to its creator's RLIMIT_MSGQUEUE (Linux's
/// mqueue_get_inode: the messages at full size plus their bookkeeping), or None on overflow.
pub fn queue_bytes(maxmsg: usize, msgsize: usize) -> Option<u64> {
    let (m, s) = (maxmsg as u64, msgsize as u64);
    let tree =
        m.checked_mul(MSG_MSG_SIZE)?.checked_add(m.min(MQ_PRIO_MAX as u64) * TREE_NODE_SIZE)?;
    m.checked_mul(s)?.checked_add(tree)
}

/// A queue name as the kernel receives it (the C library strips the leading '/'): one path
/// component, not "." or "..", at most NAME_MAX bytes.
pub fn check_name(name: &str) -> Result<(), Refusal> {
    if name.is_empty() {
        return Err(Refusal::Empty);
    }
    if name == "." || name == ".." || name.contains('/') {
        return Err(Refusal::NotAName);
    }
    if name.len() > NAME_MAX {
        return Err(Refusal::TooLong);
    }
    Ok(())
}

/// Messages by priority: `pop` takes the oldest message of the highest priority.
pub struct PrioQueue<T> {
    levels: BTreeMap<u32, VecDeque<T>>,
    len: usize,
}

impl<T> Default for PrioQueue<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> PrioQueue<T> {
    pub const fn new() -> Self {
        PrioQueue { levels: BTreeMap::new(), len: 0 }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn push(&mut self, prio: u32, item: T) {
        self.levels.entry(prio).or_default().push_back(item);
        self.len += 1;
    }

    pub fn pop(&mut self) -> Option<(u32, T)> {
        let mut level = self.levels.last_entry()?;
        let prio = *level.key();
        let item = level.get_mut().pop_front();
        if level.get().is_empty() {
            level.remove();
        }
        let item = item?;
        self.len -= 1;
        Some((prio, item))
    }

    pub fn clear(&mut self) {
        self.levels.clear();
        self.len = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn highest_priority_first_fifo_within() {
        let mut q = PrioQueue::new();
        q.push(1, "a");
        q.push(5, "b");
        q.push(1, "c");
        q.push(0, "d");
        q.push(5, "e");
        assert_eq!(q.len(), 5);
        let order: std::vec::Vec<_> = core::iter::from_fn(|| q.pop()).collect();
        assert_eq!(order, [(5, "b"), (5, "e"), (1, "a"), (1, "c"), (0, "d")]);
        assert!(q.is_empty());
        assert_eq!(q.pop(), None);
    }

    #[test]
    fn attributes() {
        let l = DEFAULT_LIMITS;
        assert_eq!(default_attr(&l), (10, 8192));
        assert_eq!(check_attr(10, 8192, false, &l), Ok((10, 8192)));
        assert_eq!(check_attr(11, 1, false, &l), Err(Refusal::Invalid));
        assert_eq!(check_attr(1, 8193, false, &l), Err(Refusal::Invalid));
        assert_eq!(check_attr(0, 1, false, &l), Err(Refusal::Invalid));
        assert_eq!(check_attr(1, -1, true, &l), Err(Refusal::Invalid));
        assert_eq!(check_attr(100, 100_000, true, &l), Ok((100, 100_000)));
        assert_eq!(check_attr(HARD_MSGMAX + 1, 1, true, &l), Err(Refusal::Invalid));
    }

    #[test]
    fn rlimit_charge() {
        // 819200 (the default RLIMIT_MSGQUEUE) holds nine default queues, not ten.
        assert_eq!(queue_bytes(10, 8192), Some(82880));
        assert_eq!(queue_bytes(1, 1), Some(97));
        let default_queue = queue_bytes(10, 8192).unwrap();
        assert!(9 * default_queue <= 819200 && 10 * default_queue > 819200);
        assert_eq!(queue_bytes(usize::MAX, 2), None);
    }

    #[test]
    fn names() {
        assert_eq!(check_name("q1"), Ok(()));
        assert_eq!(check_name(""), Err(Refusal::Empty));
        assert_eq!(check_name("a/b"), Err(Refusal::NotAName));
        assert_eq!(check_name("/a"), Err(Refusal::NotAName));
        assert_eq!(check_name(".."), Err(Refusal::NotAName));
        assert_eq!(check_name("..."), Ok(()));
        assert_eq!(check_name(&"x".repeat(255)), Ok(()));
        assert_eq!(check_name(&"x".repeat(256)), Err(Refusal::TooLong));
    }
}
