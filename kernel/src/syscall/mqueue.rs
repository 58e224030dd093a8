//! mq_open, mq_unlink, mq_timedsend, mq_timedreceive, mq_notify, mq_getsetattr: decode, check
//! in Linux's order, call `ipc::mqueue`. The C library strips the leading '/' of a name; the
//! kernel sees "name".

use alloc::sync::Arc;

use bytemuck::{Pod, Zeroable};

use crate::cap::Cap;
use crate::error::{Errno, Result};
use crate::fs::file::{OpenFile, O_LARGEFILE, O_NONBLOCK};
use crate::fs::inode::{NewNode, S_IFREG};
use crate::fs::path::PATH_MAX;
use crate::ipc::mqueue::fs::{QueueFile, QueueNode};
use crate::ipc::mqueue::queue::{Notification, SIGEV_NONE, SIGEV_SIGNAL, SIGEV_THREAD};
use crate::ipc::mqueue::{self, Charge, Opener};
use crate::mm::user::{read_cstring, zeroed_buffer, UserPtr, UserSlice};
use crate::process::{self, fileops, signal};

/// Linux's SI_MESGQ: the si_code of a queue notification.
const SI_MESGQ: i32 = -3;
/// Linux's NOTIFY_COOKIE_LEN: what SIGEV_THREAD reads from sigev_value.sival_ptr.
const NOTIFY_COOKIE_LEN: usize = 32;
const NSIG: i32 = 64;

/// `struct mq_attr`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
struct MqAttr {
    flags: i64,
    maxmsg: i64,
    msgsize: i64,
    curmsgs: i64,
    reserved: [i64; 4],
}

/// `struct sigevent` (x86-64: 64 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
struct SigEvent {
    value: u64,
    signo: i32,
    notify: i32,
    rest: [u64; 6],
}

/// The open file and queue behind `fd` (EBADF if it is not a queue).
fn queue_file(fd: i32) -> Result<(Arc<OpenFile>, Arc<QueueNode>)> {
    let f = super::io::file(fd)?;
    let queue = f.file().as_any().and_then(|a| a.downcast_ref::<QueueFile>());
    let q = queue.ok_or(Errno::EBADF)?.node().clone();
    Ok((f, q))
}

fn read_name(addr: u64) -> Result<alloc::string::String> {
    read_cstring(addr, PATH_MAX - 1)
}

pub fn mq_open(name: u64, oflag: u32, mode: u32, attr: u64) -> Result<i64> {
    // Linux copies the attributes first, whatever the flags (EFAULT even without O_CREAT).
    let attr = if attr != 0 { Some(UserPtr::<MqAttr>::new(attr).read()?) } else { None };
    let name = read_name(name)?;
    let proc = process::current();
    let umask = proc.fs().lock().umask;
    let creds = proc.creds.lock().clone();
    let may = |m: &crate::fs::inode::Metadata, mask: u32| creds.may_access(m, mask);
    let who = Opener {
        node: NewNode {
            mode: S_IFREG | (mode & 0o7777 & !umask),
            uid: creds.fsuid,
            gid: creds.fsgid,
            rdev: 0,
        },
        privileged: creds.capable(Cap::SysResource),
        charge: Charge { ruid: creds.uid, limit: msgqueue_limit(&proc) },
        may: &may,
    };
    let node = mqueue::open(&name, oflag, attr.map(|a| (a.maxmsg, a.msgsize)), &who)?;
    let file = OpenFile::new(QueueFile::new(node), oflag | O_LARGEFILE);
    // Queue descriptors are always close-on-exec (Linux: get_unused_fd_flags(O_CLOEXEC)).
    fileops::install(file, true).map(|fd| fd as i64)
}

const RLIMIT_MSGQUEUE: usize = 12;

fn msgqueue_limit(proc: &process::Process) -> u64 {
    proc.rlimits.lock().0[RLIMIT_MSGQUEUE].cur
}

/// The calling process as a queue creator, for open(2) with O_CREAT in an mqueue mount.
pub fn caller() -> (Charge, bool) {
    let proc = process::current();
    let (ruid, root) = {
        let c = proc.creds.lock();
        (c.uid, c.capable(Cap::SysResource))
    };
    (Charge { ruid, limit: msgqueue_limit(&proc) }, root)
}

pub fn mq_unlink(name: u64) -> Result<i64> {
    let name = read_name(name)?;
    let fsuid = process::current().creds.lock().fsuid;
    mqueue::unlink(&name, fsuid).map(|_| 0)
}

/// The absolute CLOCK_REALTIME timeout as a monotonic deadline. Linux checks it (EFAULT,
/// EINVAL) before anything else, even when the call would not block.
fn deadline(ts: u64) -> Result<Option<u64>> {
    super::time_args::realtime_deadline(ts)
}

pub fn mq_timedsend(fd: i32, msg: u64, len: u64, prio: u32, ts: u64) -> Result<i64> {
    let deadline = deadline(ts)?;
    if prio >= ipc_rules::mqueue::MQ_PRIO_MAX {
        return Err(Errno::EINVAL);
    }
    let (f, q) = queue_file(fd)?;
    if !f.writable() {
        return Err(Errno::EBADF);
    }
    if len > q.queue.msgsize() as u64 {
        return Err(Errno::EMSGSIZE);
    }
    // Bounded by mq_msgsize (at most 16 MiB), and still fallible.
    let mut text = zeroed_buffer(len as usize)?;
    UserSlice::new(msg, len as usize).read(&mut text)?;
    let nonblock = f.flags() & O_NONBLOCK != 0;
    let fired = q.queue.send(text, prio, nonblock, deadline)?;
    q.touch();
    if let Some(n) = fired {
        notify(&n);
    }
    Ok(0)
}

/// Fires a notification taken off a queue: SIGEV_SIGNAL sends its signal (si_code SI_MESGQ,
/// the sender's pid and real uid, the registered value) to the registered process; SIGEV_NONE
/// (and signal 0) only end the registration.
fn notify(n: &Notification) {
    if n.notify != SIGEV_SIGNAL || n.signo == 0 {
        return;
    }
    let Some(target) = process::find(n.pid) else { return };
    let me = process::current();
    let uid = me.creds.lock().uid;
    let mut info = signal::SigInfo::from_user(n.signo as u32, SI_MESGQ, me.pid, uid);
    info.set_value(n.value);
    signal::send(&target, n.signo as u32, info);
}

pub fn mq_timedreceive(fd: i32, msg: u64, len: u64, prio_ptr: u64, ts: u64) -> Result<i64> {
    let deadline = deadline(ts)?;
    let (f, q) = queue_file(fd)?;
    if !f.readable() {
        return Err(Errno::EBADF);
    }
    if len < q.queue.msgsize() as u64 {
        return Err(Errno::EMSGSIZE);
    }
    let nonblock = f.flags() & O_NONBLOCK != 0;
    let (prio, text) = q.queue.receive(nonblock, deadline)?;
    q.touch();
    // The message is taken: a bad buffer loses it (EFAULT), as in Linux.
    if prio_ptr != 0 {
        UserPtr::<u32>::new(prio_ptr).write(&prio)?;
    }
    UserSlice::new(msg, text.len()).write(&text)?;
    Ok(text.len() as i64)
}

pub fn mq_notify(fd: i32, sev: u64) -> Result<i64> {
    let req = if sev != 0 { Some(UserPtr::<SigEvent>::new(sev).read()?) } else { None };
    if let Some(ev) = &req {
        match ev.notify {
            SIGEV_NONE => {}
            SIGEV_SIGNAL if (0..=NSIG).contains(&ev.signo) => {}
            SIGEV_THREAD => return thread_notify(ev),
            _ => return Err(Errno::EINVAL),
        }
    }
    let (_, q) = queue_file(fd)?;
    let pid = process::current().pid;
    match req {
        None => q.queue.unregister(pid),
        Some(ev) => q.queue.register(Notification {
            pid,
            notify: ev.notify,
            signo: ev.signo,
            value: ev.value,
        })?,
    }
    q.touch();
    Ok(0)
}

/// SIGEV_THREAD: Linux reads a cookie from sival_ptr and wants a netlink socket in
/// sigev_signo, where it queues the cookie for the C library's helper thread. There is no
/// netlink here, so no descriptor can qualify; the errors are Linux's for what is passed
/// (EFAULT, EBADF, ENOTSOCK, and EINVAL for a socket of another family).
fn thread_notify(ev: &SigEvent) -> Result<i64> {
    let mut cookie = [0u8; NOTIFY_COOKIE_LEN];
    UserSlice::new(ev.value, NOTIFY_COOKIE_LEN).read(&mut cookie)?;
    let f = super::io::file(ev.signo)?;
    if f.file().as_socket().is_none() {
        return Err(Errno::ENOTSOCK);
    }
    Err(Errno::EINVAL)
}

pub fn mq_getsetattr(fd: i32, new: u64, old: u64) -> Result<i64> {
    let new = if new != 0 { Some(UserPtr::<MqAttr>::new(new).read()?) } else { None };
    if new.is_some_and(|n| n.flags & !(O_NONBLOCK as i64) != 0) {
        return Err(Errno::EINVAL);
    }
    let (f, q) = queue_file(fd)?;
    let (maxmsg, msgsize, curmsgs) = q.queue.attr();
    let before = MqAttr {
        flags: (f.flags() & O_NONBLOCK) as i64,
        maxmsg: maxmsg as i64,
        msgsize: msgsize as i64,
        curmsgs: curmsgs as i64,
        reserved: [0; 4],
    };
    if let Some(n) = new {
        // Only O_NONBLOCK changes: the other status flags stay as they are.
        let keep = f.flags() & !O_NONBLOCK;
        f.set_status_flags(keep | (n.flags as u32 & O_NONBLOCK));
        q.touch();
    }
    if old != 0 {
        UserPtr::<MqAttr>::new(old).write(&before)?;
    }
    Ok(0)
}
