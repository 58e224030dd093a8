//! POSIX message queues (mq_overview(7)), as Linux has them: a queue is a file of the mqueue
//! file system (`fs.rs`, mounted at /dev/mqueue) and a queue descriptor is an open file of it,
//! so close, dup, fork, exec, fcntl and poll/select/epoll work as on any descriptor.
//! `queue.rs` holds `MessageQueue` itself; the rules that need no kernel (priority order,
//! attribute and name checks) are `ipc_rules::mqueue`. This module is the namespace: find or
//! create a queue by name (mq_open), remove a name (mq_unlink). Permission checks need the
//! caller's credentials, which live above `ipc`: the syscall layer passes them in as `Opener`.

pub mod fs;
pub mod queue;

use alloc::sync::Arc;

use ipc_rules::mqueue::{self as rules, Limits, Refusal, DEFAULT_LIMITS};

use crate::error::{Errno, Result};
use crate::fs::file::{O_ACCMODE, O_CREAT, O_EXCL};
use crate::fs::inode::{Metadata, NewNode};
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

/// Who opens: the new queue's owner and mode (umask applied), privilege (CAP_SYS_RESOURCE:
/// the hard attribute limits and no queues_max), and the permission check for an existing
/// queue (`may(metadata, MAY_* mask)`).
pub struct Opener<'a> {
    pub node: NewNode,
    pub privileged: bool,
    pub may: &'a dyn Fn(&Metadata, u32) -> bool,
}

/// MAY_READ / MAY_WRITE, as the credentials check takes them.
const MAY_WRITE: u32 = 2;
const MAY_READ: u32 = 4;

/// A new queue, counted against queues_max (ENOSPC) unless privileged.
fn new_queue(node: NewNode, privileged: bool, attr: Option<(i64, i64)>) -> Result<Arc<QueueNode>> {
    let l = limits();
    let (maxmsg, msgsize) = match attr {
        Some((m, s)) => rules::check_attr(m, s, privileged, &l).map_err(refusal)?,
        None => rules::default_attr(&l),
    };
    if fs::queue_count() >= l.queues_max && !privileged {
        return Err(Errno::ENOSPC);
    }
    Ok(QueueNode::new(MessageQueue::new(maxmsg, msgsize), node.mode, node.uid, node.gid))
}

/// open(2) with O_CREAT in the mount: the default attributes.
fn create_from_open(node: NewNode) -> Result<Arc<QueueNode>> {
    new_queue(node, node.uid == 0, None)
}

/// Registers the file system type and the creation hook (before the mount at boot).
pub fn init() {
    fs::set_creator(create_from_open);
    crate::fs::mount::register_fs_type("mqueue", fs::mount_instance);
}

/// mq_open's lookup-or-create (Linux's prepare_open). `attr` = (mq_maxmsg, mq_msgsize) is
/// only looked at when a queue is created.
pub fn open(name: &str, oflag: u32, attr: Option<(i64, i64)>, who: &Opener) -> Result<Arc<QueueNode>> {
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
    let q = new_queue(who.node, who.privileged, attr)?;
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
