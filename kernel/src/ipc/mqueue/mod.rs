//! POSIX message queues (mq_overview(7)), as Linux has them: a queue is a file of the mqueue
//! file system (`fs.rs`, mounted at /dev/mqueue) and a queue descriptor is an open file of it,
//! so close, dup, fork, exec, fcntl and poll/select/epoll work as on any descriptor.
//! `queue.rs` holds `MessageQueue` itself; the rules that need no kernel (priority order,
//! attribute and name checks) are `ipc_rules::mqueue`. This module is the namespace: find or
//! create a queue by name (mq_open), remove a name (mq_unlink). Permission checks need the
//! caller's credentials, which live above `ipc`: the syscall layer passes them in as `Opener`.

pub mod fs;
pub mod queue;

use alloc::collections::BTreeMap;
use alloc::sync::Arc;

use spin::Once;

use ipc_rules::mqueue::{self as rules, Limits, Refusal, DEFAULT_LIMITS};

use crate::error::{Errno, Result};
use crate::fs::file::{O_ACCMODE, O_CREAT, O_EXCL};
use crate::fs::inode::{Metadata, NewNode};
use crate::mm::fallible::ensure_room;
use crate::sync::Mutex;
use fs::QueueNode;
use queue::MessageQueue;

/// The /proc/sys/fs/mqueue values. Read-only here (Linux lets root change them).
pub fn limits() -> Limits {
    DEFAULT_LIMITS
}

fn refusal(r: Refusal) -> Errno {
    match r {
        Refusal::Invalid => Errno::EINVAL,
        Refusal::Overflow => Errno::EOVERFLOW,
        Refusal::NotAName => Errno::EACCES,
        Refusal::TooLong => Errno::ENAMETOOLONG,
        Refusal::Empty => Errno::ENOENT,
    }
}

/// What a new queue is charged to: the creator's real uid and its RLIMIT_MSGQUEUE.
#[derive(Clone, Copy, Debug)]
pub struct Charge {
    pub ruid: u32,
    pub limit: u64,
}

/// Who opens: the new queue's owner and mode (umask applied), privilege (CAP_SYS_RESOURCE:
/// the hard attribute limits and no queues_max), whom a new queue is charged to, and the
/// permission check for an existing queue (`may(metadata, MAY_* mask)`).
pub struct Opener<'a> {
    pub node: NewNode,
    pub privileged: bool,
    pub charge: Charge,
    pub may: &'a dyn Fn(&Metadata, u32) -> bool,
}

/// The calling process's `Charge` and privilege, for queues made by open(2) in the mount
/// (installed by the syscall layer: `ipc` sits below `process`).
pub type CallerFn = fn() -> (Charge, bool);
static CALLER: Once<CallerFn> = Once::new();

/// Bytes charged per real uid (Linux's per-user RLIMIT_MSGQUEUE count).
static CHARGED: Mutex<BTreeMap<u32, u64>> = Mutex::new(BTreeMap::new());

/// Charges `bytes` to `c.ruid`: EMFILE beyond its RLIMIT_MSGQUEUE (root included, as Linux).
fn charge(c: Charge, bytes: u64) -> Result<()> {
    let mut t = CHARGED.lock();
    let used = t.entry(c.ruid).or_insert(0);
    match used.checked_add(bytes) {
        Some(n) if n <= c.limit => *used = n,
        _ => return Err(Errno::EMFILE),
    }
    Ok(())
}

/// The queue charged this is gone (its name and last descriptor).
pub(crate) fn uncharge(ruid: u32, bytes: u64) {
    let mut t = CHARGED.lock();
    if let Some(used) = t.get_mut(&ruid) {
        *used = used.saturating_sub(bytes);
        if *used == 0 {
            t.remove(&ruid);
        }
    }
}

/// MAY_READ / MAY_WRITE, as the credentials check takes them.
const MAY_WRITE: u32 = 2;
const MAY_READ: u32 = 4;

/// A new queue, counted against queues_max (ENOSPC) unless privileged and charged to the
/// creator's RLIMIT_MSGQUEUE (EMFILE).
fn new_queue(
    node: NewNode,
    privileged: bool,
    who: Charge,
    attr: Option<(i64, i64)>,
) -> Result<Arc<QueueNode>> {
    let l = limits();
    let (maxmsg, msgsize) = match attr {
        Some((m, s)) => rules::check_attr(m, s, privileged, &l).map_err(refusal)?,
        None => rules::default_attr(&l),
    };
    if fs::queue_count() >= l.queues_max && !privileged {
        return Err(Errno::ENOSPC);
    }
    let bytes = rules::queue_bytes(maxmsg, msgsize).ok_or(Errno::EOVERFLOW)?;
    // The queue, its node, its name and the charge's entry cannot be allocated fallibly;
    // root's queues are not counted against queues_max (Linux: ENOMEM when memory runs out).
    ensure_room(1024)?;
    charge(who, bytes)?;
    Ok(QueueNode::new(
        MessageQueue::new(maxmsg, msgsize),
        node.mode,
        node.uid,
        node.gid,
        (who.ruid, bytes),
    ))
}

/// open(2) with O_CREAT in the mount: the default attributes.
fn create_from_open(node: NewNode) -> Result<Arc<QueueNode>> {
    let caller = CALLER.get().ok_or(Errno::EPERM)?;
    let (who, privileged) = caller();
    new_queue(node, privileged, who, None)
}

/// Registers the file system type and the creation hook (before the mount at boot); `caller`
/// describes the calling process.
pub fn init(caller: CallerFn) {
    CALLER.call_once(|| caller);
    fs::set_creator(create_from_open);
    crate::fs::mount::register_fs_type("mqueue", fs::mount_instance);
}

/// mq_open's lookup-or-create (Linux's prepare_open). `attr` = (mq_maxmsg, mq_msgsize) is
/// only looked at when a queue is created.
pub fn open(
    name: &str,
    oflag: u32,
    attr: Option<(i64, i64)>,
    who: &Opener,
) -> Result<Arc<QueueNode>> {
    rules::check_name(name).map_err(refusal)?;
    let root = fs::fs().root_dir();
    if let Some(q) = root.get(name) {
        if oflag & (O_CREAT | O_EXCL) == O_CREAT | O_EXCL {
            return Err(Errno::EEXIST);
        }
        let want = match oflag & O_ACCMODE {
            0 => MAY_READ,
            1 => MAY_WRITE,
            2 => MAY_READ | MAY_WRITE,
            _ => return Err(Errno::EINVAL),
        };
        if !(who.may)(&q.metadata(), want) {
            return Err(Errno::EACCES);
        }
        return Ok(q);
    }
    if oflag & O_CREAT == 0 {
        return Err(Errno::ENOENT);
    }
    // The creator needs no permission on the new queue itself (Linux opens it whatever the
    // mode); the directory is world-writable.
    let q = new_queue(who.node, who.privileged, who.charge, attr)?;
    root.insert(name, q.clone())?;
    Ok(q)
}

/// mq_unlink: the name goes, open descriptors keep working. Only the queue's owner or the
/// directory's (root) may remove it: the directory is sticky (EPERM otherwise).
pub fn unlink(name: &str, fsuid: u32) -> Result<()> {
    rules::check_name(name).map_err(refusal)?;
    let root = fs::fs().root_dir();
    let q = root.get(name).ok_or(Errno::ENOENT)?;
    if fsuid != 0 && q.metadata().uid != fsuid {
        return Err(Errno::EPERM);
    }
    root.remove(name)
}
