//! System V message queues.
//!
//! A queue is a FIFO of typed messages bounded by msg_qbytes (bytes, and as many messages as
//! bytes, like Linux). Senders that do not fit and receivers that find no matching message
//! sleep on their wait queue and retry when the queue changes: a receive wakes the senders, a
//! send wakes the receivers, IPC_SET and IPC_RMID wake both (removal makes them fail with
//! EIDRM). Selection by type: 0 takes the first message, >0 the first of that type (or, with
//! MSG_EXCEPT, of any other type), <0 the first of the lowest type not above |msgtyp|.

use alloc::collections::VecDeque;
use alloc::sync::Arc;
use alloc::vec::Vec;

use bytemuck::{Pod, Zeroable};

use super::limits::*;
use super::{
    ipcget, now, Caller, GetRequest, IdTable, Ipc64Perm, IpcObject, IpcPerm, IPC_INFO, IPC_NOWAIT,
    IPC_STAT, S_IRUGO, S_IWUGO,
};
use crate::error::{Errno, Result};
use crate::mm::fallible::{ensure_room, try_collect, try_push_back};
use crate::sync::Mutex;
use crate::task::{WaitError, WaitQueue};

pub const MSG_STAT: i32 = 11;
pub const MSG_INFO: i32 = 12;
pub const MSG_STAT_ANY: i32 = 13;

pub const MSG_NOERROR: i32 = 0o10000;
pub use ipc_rules::msg_select::{Select, MSG_COPY, MSG_EXCEPT};

/// `struct msqid64_ds` (x86-64).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct MsqidDs {
    pub perm: Ipc64Perm,
    pub stime: i64,
    pub rtime: i64,
    pub ctime: i64,
    pub cbytes: u64,
    pub qnum: u64,
    pub qbytes: u64,
    pub lspid: i32,
    pub lrpid: i32,
    pub unused4: u64,
    pub unused5: u64,
}

/// `struct msginfo`: IPC_INFO and MSG_INFO.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct MsgInfo {
    pub msgpool: i32,
    pub msgmap: i32,
    pub msgmax: i32,
    pub msgmnb: i32,
    pub msgmni: i32,
    pub msgssz: i32,
    pub msgtql: i32,
    pub msgseg: u16,
    pub pad: u16,
}

pub struct Message {
    pub mtype: i64,
    pub text: Vec<u8>,
}

struct MsgState {
    removed: bool,
    messages: VecDeque<Message>,
    cbytes: usize,
    qbytes: usize,
    lspid: u32,
    lrpid: u32,
    stime: i64,
    rtime: i64,
    ctime: i64,
}

impl MsgState {
    /// Linux's msg_fits_inqueue: the bytes and the message count are both bounded by qbytes.
    fn fits(&self, len: usize) -> bool {
        self.cbytes + len <= self.qbytes && self.messages.len() < self.qbytes
    }
}

pub struct MessageQueue {
    perm: Mutex<IpcPerm>,
    state: Mutex<MsgState>,
    senders: WaitQueue,
    receivers: WaitQueue,
}

impl IpcObject for MessageQueue {
    fn perm(&self) -> &Mutex<IpcPerm> {
        &self.perm
    }
}

static QUEUES: Mutex<IdTable<MessageQueue>> = Mutex::new(IdTable::new());

impl MessageQueue {
    fn new(perm: IpcPerm) -> MessageQueue {
        let state = MsgState {
            removed: false,
            messages: VecDeque::new(),
            cbytes: 0,
            qbytes: MSGMNB,
            lspid: 0,
            lrpid: 0,
            stime: 0,
            rtime: 0,
            ctime: now(),
        };
        MessageQueue {
            perm: Mutex::new(perm),
            state: Mutex::new(state),
            senders: WaitQueue::new(),
            receivers: WaitQueue::new(),
        }
    }

    fn stat(&self) -> MsqidDs {
        let perm = self.perm.lock().to_user();
        let st = self.state.lock();
        MsqidDs {
            perm,
            stime: st.stime,
            rtime: st.rtime,
            ctime: st.ctime,
            cbytes: st.cbytes as u64,
            qnum: st.messages.len() as u64,
            qbytes: st.qbytes as u64,
            lspid: st.lspid as i32,
            lrpid: st.lrpid as i32,
            ..MsqidDs::default()
        }
    }

    fn id(&self) -> i32 {
        self.perm.lock().id
    }

    /// Permission (rechecked on every retry, as IPC_SET may change it) and removal.
    fn check(&self, st: &MsgState, c: &Caller, access: u32) -> Result<()> {
        self.perm.lock().check(c, access)?;
        if st.removed {
            Err(Errno::EIDRM)
        } else {
            Ok(())
        }
    }
}

fn lookup(id: i32) -> Result<Arc<MessageQueue>> {
    QUEUES.lock().get(id)
}

/// Interrupted sends and receives restart unless a handler ran (then EINTR), as in Linux.
fn wait_error(e: WaitError) -> Errno {
    match e {
        WaitError::Interrupted => Errno::ERESTARTNOHAND,
        WaitError::TimedOut => Errno::EAGAIN,
    }
}

/// msgget.
pub fn msgget(c: &Caller, key: i32, flags: i32) -> Result<i32> {
    let req = GetRequest { caller: c, key, flags, limit: MSGMNI };
    ipcget(&mut QUEUES.lock(), &req, |_| Ok(()), |perm| Ok(MessageQueue::new(perm)))
}

/// The checks msgsnd makes before reading the text: size, id and type (EINVAL).
pub fn check_send(id: i32, size: u64, mtype: i64) -> Result<usize> {
    if size > MSGMAX as u64 || id < 0 || mtype < 1 {
        return Err(Errno::EINVAL);
    }
    Ok(size as usize)
}

/// msgsnd: queues the message, waiting for room unless IPC_NOWAIT.
pub fn msgsnd(c: &Caller, id: i32, msg: Message, flags: i32) -> Result<()> {
    let q = lookup(id)?;
    let mut msg = Some(msg);
    let len = msg.as_ref().map_or(0, |m| m.text.len());
    let sent = q.senders.wait_until(
        || {
            let mut st = q.state.lock();
            if let Err(e) = q.check(&st, c, S_IWUGO) {
                return Some(Err(e));
            }
            if !st.fits(len) {
                return (flags & IPC_NOWAIT != 0).then_some(Err(Errno::EAGAIN));
            }
            // Every queue may hold MSGMNB bytes and there are MSGMNI queues: more than the
            // heap. Linux's msgsnd fails with ENOMEM when the message cannot be allocated.
            if let Err(e) = ensure_room(len + 64) {
                return Some(Err(e));
            }
            if let Err(e) = try_push_back(&mut st.messages, msg.take()?) {
                return Some(Err(e));
            }
            st.cbytes += len;
            st.lspid = c.pid;
            st.stime = now();
            Some(Ok(()))
        },
        None,
    );
    sent.map_err(wait_error)??;
    q.receivers.wake_all();
    Ok(())
}

/// msgrcv: takes (or with MSG_COPY, copies) the selected message, truncated to `size` with
/// MSG_NOERROR; waits for one unless IPC_NOWAIT.
pub fn msgrcv(c: &Caller, id: i32, size: i64, msgtyp: i64, flags: i32) -> Result<Message> {
    if id < 0 || size < 0 {
        return Err(Errno::EINVAL);
    }
    let copy = flags & MSG_COPY != 0;
    if copy && (flags & MSG_EXCEPT != 0 || flags & IPC_NOWAIT == 0) {
        return Err(Errno::EINVAL);
    }
    let size = size as usize;
    let select = Select::new(msgtyp, flags);
    let q = lookup(id)?;
    let got = q.receivers.wait_until(
        || {
            let mut st = q.state.lock();
            if let Err(e) = q.check(&st, c, S_IRUGO) {
                return Some(Err(e));
            }
            let Some(i) = select.find(st.messages.iter().map(|m| m.mtype)) else {
                return (flags & IPC_NOWAIT != 0).then_some(Err(Errno::ENOMSG));
            };
            if st.messages[i].text.len() > size && flags & MSG_NOERROR == 0 {
                return Some(Err(Errno::E2BIG));
            }
            if copy {
                let m = &st.messages[i];
                let text = try_collect(m.text.len(), m.text.iter().copied());
                return Some(text.map(|text| Message { mtype: m.mtype, text }));
            }
            let m = st.messages.remove(i)?;
            st.cbytes -= m.text.len();
            st.lrpid = c.pid;
            st.rtime = now();
            Some(Ok(m))
        },
        None,
    );
    let mut m = got.map_err(wait_error)??;
    if !copy {
        q.senders.wake_all();
    }
    m.text.truncate(size);
    Ok(m)
}

/// IPC_INFO (the limits) and MSG_INFO (with usage); both return the highest index in use.
pub fn info(cmd: i32) -> (MsgInfo, i32) {
    let t = QUEUES.lock();
    let mut info = MsgInfo {
        msgpool: MSGPOOL,
        msgmap: MSGMAP,
        msgmax: MSGMAX as i32,
        msgmnb: MSGMNB as i32,
        msgmni: MSGMNI as i32,
        msgssz: MSGSSZ,
        msgtql: MSGTQL,
        msgseg: MSGSEG,
        pad: 0,
    };
    if cmd != IPC_INFO {
        info.msgpool = t.in_use() as i32;
        let (mut headers, mut bytes) = (0usize, 0usize);
        for q in t.iter() {
            let st = q.state.lock();
            headers += st.messages.len();
            bytes += st.cbytes;
        }
        info.msgmap = headers.min(i32::MAX as usize) as i32;
        info.msgtql = bytes.min(i32::MAX as usize) as i32;
    }
    (info, t.max_idx())
}

/// IPC_STAT (by id, returns 0), MSG_STAT and MSG_STAT_ANY (by index, return the id).
pub fn stat(c: &Caller, id: i32, cmd: i32) -> Result<(MsqidDs, i32)> {
    let q = {
        let t = QUEUES.lock();
        if cmd == IPC_STAT {
            t.get(id)?
        } else {
            t.at_index(id)?
        }
    };
    if cmd != MSG_STAT_ANY {
        q.perm.lock().check(c, S_IRUGO)?;
    }
    let ret = if cmd == IPC_STAT { 0 } else { q.id() };
    Ok((q.stat(), ret))
}

/// IPC_SET: owner, group, permission bits and msg_qbytes (above MSGMNB only with privilege).
pub fn set(c: &Caller, id: i32, from: &MsqidDs) -> Result<()> {
    let q = lookup(id)?;
    let mut perm = q.perm.lock();
    perm.check_control(c)?;
    if from.qbytes > MSGMNB as u64 && !c.capable(crate::cap::Cap::SysResource) {
        return Err(Errno::EPERM);
    }
    perm.update(&from.perm)?;
    drop(perm);
    let mut st = q.state.lock();
    st.qbytes = from.qbytes as usize;
    st.ctime = now();
    drop(st);
    // Receivers recheck their permission; senders may fit now.
    q.receivers.wake_all();
    q.senders.wake_all();
    Ok(())
}

/// IPC_RMID: the queue and its messages go at once; sleepers wake with EIDRM.
pub fn remove(c: &Caller, id: i32) -> Result<()> {
    let mut t = QUEUES.lock();
    let q = t.get(id)?;
    q.perm.lock().check_control(c)?;
    t.remove(id);
    drop(t);
    let mut st = q.state.lock();
    st.removed = true;
    st.messages.clear();
    st.cbytes = 0;
    drop(st);
    q.receivers.wake_all();
    q.senders.wake_all();
    Ok(())
}

/// One line of /proc/sysvipc/msg.
pub struct MsgRow {
    pub id: i32,
    pub ds: MsqidDs,
}

pub fn rows() -> Result<Vec<MsgRow>> {
    QUEUES.lock().rows(|q| MsgRow { id: q.id(), ds: q.stat() })
}
