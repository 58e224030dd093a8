//! System V semaphore sets.
//!
//! semop applies its operation list all or nothing: the operations run in order against the
//! values (so a later one sees an earlier one's effect, as in Linux) and are rolled back when
//! one would block or fail. A caller that must wait sleeps on the set's wait queue and retries
//! the whole list whenever a value changes: every successful altering semop, SETVAL, SETALL,
//! exit-time undo and IPC_RMID wake all sleepers. While asleep a caller is listed with the
//! operation it blocked on, which is what GETNCNT and GETZCNT count (Linux since 4.x).
//!
//! SEM_UNDO: each set keeps, per process (thread group), the adjustment that undoes its
//! SEM_UNDO operations; the process layer calls `apply_undo` at exit. SETVAL/SETALL clear the
//! adjustments of the semaphores they set, IPC_RMID drops them with the set.

use alloc::collections::BTreeMap;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};

use bytemuck::{Pod, Zeroable};

use super::limits::*;
use super::{
    ipcget, now, Caller, GetRequest, IdTable, Ipc64Perm, IpcObject, IpcPerm, IPC_INFO, IPC_NOWAIT,
    IPC_STAT, S_IRUGO, S_IWUGO,
};
use ipc_rules::semop::{self, Outcome, SemOp};

use crate::error::{Errno, Result};
use crate::mm::fallible::{ensure_room, try_collect, try_push, try_zeroes};
use crate::sync::Mutex;
use crate::task::{WaitError, WaitQueue};

pub const SEM_UNDO: i16 = 0x1000;

pub const GETPID: i32 = 11;
pub const GETVAL: i32 = 12;
pub const GETALL: i32 = 13;
pub const GETNCNT: i32 = 14;
pub const GETZCNT: i32 = 15;
pub const SETVAL: i32 = 16;
pub const SETALL: i32 = 17;
pub const SEM_STAT: i32 = 18;
pub const SEM_INFO: i32 = 19;
pub const SEM_STAT_ANY: i32 = 20;

/// `struct sembuf`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct SemBuf {
    pub num: u16,
    pub op: i16,
    pub flg: i16,
}

/// `struct semid64_ds` (x86-64).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct SemidDs {
    pub perm: Ipc64Perm,
    pub otime: i64,
    pub unused1: u64,
    pub ctime: i64,
    pub unused2: u64,
    pub nsems: u64,
    pub unused3: u64,
    pub unused4: u64,
}

/// `struct seminfo`: IPC_INFO and SEM_INFO.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct SemInfo {
    pub semmap: i32,
    pub semmni: i32,
    pub semmns: i32,
    pub semmnu: i32,
    pub semmsl: i32,
    pub semopm: i32,
    pub semume: i32,
    pub semusz: i32,
    pub semvmx: i32,
    pub semaem: i32,
}

/// A caller asleep in semop, and the operation it is blocked on.
struct Sleeper {
    ticket: u64,
    num: usize,
    zero: bool,
}

/// The result of one attempt at an operation list.
enum Attempt {
    Done,
    /// Operation `index` cannot proceed yet.
    Blocked {
        index: usize,
    },
    Failed(Errno),
}

struct SemState {
    removed: bool,
    /// Each semaphore's value, and the last process that changed it (GETPID).
    values: Vec<i32>,
    pids: Vec<u32>,
    otime: i64,
    ctime: i64,
    /// Per process: the adjustment exit applies to each semaphore.
    undo: BTreeMap<u32, Vec<i32>>,
    sleepers: Vec<Sleeper>,
}

pub struct SemaphoreSet {
    perm: Mutex<IpcPerm>,
    nsems: usize,
    state: Mutex<SemState>,
    /// Everyone waiting in semop on this set.
    queue: WaitQueue,
}

impl IpcObject for SemaphoreSet {
    fn perm(&self) -> &Mutex<IpcPerm> {
        &self.perm
    }
}

static SETS: Mutex<IdTable<SemaphoreSet>> = Mutex::new(IdTable::new());
static NEXT_TICKET: AtomicU64 = AtomicU64::new(1);

impl SemState {
    /// Runs `sops` in order; commits all of them or none (the rule is `ipc_rules::semop`).
    fn attempt(&mut self, sops: &[SemBuf], pid: u32) -> Attempt {
        let ops = || {
            sops.iter().map(|b| SemOp {
                num: b.num as usize,
                op: b.op,
                undo: b.flg & SEM_UNDO != 0,
            })
        };
        if sops.iter().any(|b| b.flg & SEM_UNDO != 0) && !self.undo.contains_key(&pid) {
            // The caller's adjustments, made before anything changes (Linux's find_alloc_undo:
            // ENOMEM when that fails).
            match zeroes(self.values.len()) {
                Ok(adj) => self.undo.insert(pid, adj),
                Err(e) => return Attempt::Failed(e),
            };
        }
        match semop::apply(&mut self.values, self.undo.get(&pid).map(Vec::as_slice), ops()) {
            Outcome::Blocked { index } => return Attempt::Blocked { index },
            Outcome::OutOfRange => return Attempt::Failed(Errno::ERANGE),
            Outcome::Done => {}
        }
        for op in ops() {
            self.pids[op.num] = pid;
            if let Some(adj) = self.undo.get_mut(&pid).filter(|_| op.undo) {
                adj[op.num] -= op.op as i32;
            }
        }
        self.otime = now();
        Attempt::Done
    }

    fn set_sleeper(&mut self, ticket: u64, num: usize, zero: bool) -> Result<()> {
        match self.sleepers.iter_mut().find(|s| s.ticket == ticket) {
            Some(s) => (s.num, s.zero) = (num, zero),
            None => try_push(&mut self.sleepers, Sleeper { ticket, num, zero })?,
        }
        Ok(())
    }

    /// A semaphore was set outright: nobody's adjustment for it stands any more.
    fn clear_undo(&mut self, n: usize) {
        for adj in self.undo.values_mut() {
            adj[n] = 0;
        }
    }
}

/// `n` zeroes, or ENOMEM (a set holds up to SEMMSL = 32000 semaphores). The room asked for
/// also covers a node of the map the vector may go into (`undo`).
fn zeroes<T: Clone + Default>(n: usize) -> Result<Vec<T>> {
    ensure_room(512)?;
    try_zeroes(n)
}

impl SemaphoreSet {
    /// A set of `nsems` semaphores at zero, or ENOMEM (Linux's newary).
    fn new(perm: IpcPerm, nsems: usize) -> Result<SemaphoreSet> {
        let state = SemState {
            removed: false,
            values: zeroes(nsems)?,
            pids: zeroes(nsems)?,
            otime: 0,
            ctime: now(),
            undo: BTreeMap::new(),
            sleepers: Vec::new(),
        };
        Ok(SemaphoreSet {
            perm: Mutex::new(perm),
            nsems,
            state: Mutex::new(state),
            queue: WaitQueue::new(),
        })
    }

    fn stat(&self) -> SemidDs {
        let perm = self.perm.lock().to_user();
        let st = self.state.lock();
        SemidDs {
            perm,
            otime: st.otime,
            ctime: st.ctime,
            nsems: self.nsems as u64,
            ..SemidDs::default()
        }
    }

    fn id(&self) -> i32 {
        self.perm.lock().id
    }
}

fn lookup(id: i32) -> Result<Arc<SemaphoreSet>> {
    SETS.lock().get(id)
}

/// semget.
pub fn semget(c: &Caller, key: i32, nsems: i32, flags: i32) -> Result<i32> {
    if nsems < 0 || nsems as usize > SEMMSL {
        return Err(Errno::EINVAL);
    }
    let nsems = nsems as usize;
    let mut t = SETS.lock();
    let used: usize = t.iter().map(|s| s.nsems).sum();
    let req = GetRequest { caller: c, key, flags, limit: SEMMNI };
    ipcget(
        &mut t,
        &req,
        |set| if nsems > set.nsems { Err(Errno::EINVAL) } else { Ok(()) },
        |perm| {
            if nsems == 0 {
                return Err(Errno::EINVAL);
            }
            if used + nsems > SEMMNS {
                return Err(Errno::ENOSPC);
            }
            SemaphoreSet::new(perm, nsems)
        },
    )
}

/// The checks semtimedop makes before it reads the operations: EINVAL, then E2BIG.
pub fn check_nsops(id: i32, nsops: u32) -> Result<usize> {
    if nsops < 1 || id < 0 {
        return Err(Errno::EINVAL);
    }
    if nsops as usize > SEMOPM {
        return Err(Errno::E2BIG);
    }
    Ok(nsops as usize)
}

/// semop / semtimedop: `deadline_ns` on the monotonic clock.
pub fn semop(c: &Caller, id: i32, sops: &[SemBuf], deadline_ns: Option<u64>) -> Result<()> {
    let set = lookup(id)?;
    if sops.iter().any(|op| op.num as usize >= set.nsems) {
        return Err(Errno::EFBIG);
    }
    let alter = sops.iter().any(|op| op.op != 0);
    set.perm.lock().check(c, if alter { S_IWUGO } else { S_IRUGO })?;
    let ticket = NEXT_TICKET.fetch_add(1, Ordering::Relaxed);
    let result = set.queue.wait_until(
        || {
            let mut st = set.state.lock();
            if st.removed {
                return Some(Err(Errno::EIDRM));
            }
            match st.attempt(sops, c.pid) {
                Attempt::Done => Some(Ok(())),
                Attempt::Failed(e) => Some(Err(e)),
                Attempt::Blocked { index } if sops[index].flg & IPC_NOWAIT as i16 != 0 => {
                    Some(Err(Errno::EAGAIN))
                }
                Attempt::Blocked { index } => {
                    let sleeper =
                        st.set_sleeper(ticket, sops[index].num as usize, sops[index].op == 0);
                    sleeper.err().map(Err)
                }
            }
        },
        deadline_ns,
    );
    set.state.lock().sleepers.retain(|s| s.ticket != ticket);
    match result {
        Ok(Ok(())) => {
            if alter {
                set.queue.wake_all();
            }
            Ok(())
        }
        Ok(Err(e)) => Err(e),
        // Linux never restarts semop after a signal, whatever SA_RESTART says.
        Err(WaitError::Interrupted) => Err(Errno::EINTR),
        Err(WaitError::TimedOut) => Err(Errno::EAGAIN),
    }
}

/// The process `pid` exits: apply its adjustments in every set, clamped to [0, SEMVMX].
pub fn apply_undo(pid: u32) {
    // A walk one set at a time: exit allocates nothing.
    let mut next = 0;
    while let Some((idx, set)) = next_set(next) {
        next = idx + 1;
        let mut st = set.state.lock();
        let Some(adj) = st.undo.remove(&pid) else { continue };
        let mut changed = false;
        for (n, &a) in adj.iter().enumerate() {
            if a != 0 {
                st.values[n] = (st.values[n] + a).clamp(0, SEMVMX);
                st.pids[n] = pid;
                changed = true;
            }
        }
        drop(st);
        if changed {
            set.queue.wake_all();
        }
    }
}

/// The set at index `idx` or the next one above (the table's lock is not kept).
fn next_set(idx: u32) -> Option<(u32, Arc<SemaphoreSet>)> {
    SETS.lock().next_from(idx)
}

/// IPC_INFO (the limits) and SEM_INFO (with usage); both return the highest index in use.
pub fn info(cmd: i32) -> (SemInfo, i32) {
    let t = SETS.lock();
    let mut info = SemInfo {
        semmap: SEMMAP,
        semmni: SEMMNI as i32,
        semmns: SEMMNS as i32,
        semmnu: SEMMNU,
        semmsl: SEMMSL as i32,
        semopm: SEMOPM as i32,
        semume: SEMUME,
        semusz: SEMUSZ,
        semvmx: SEMVMX,
        semaem: SEMAEM,
    };
    if cmd != IPC_INFO {
        info.semusz = t.in_use() as i32;
        info.semaem = t.iter().map(|s| s.nsems as i32).sum();
    }
    (info, t.max_idx())
}

/// IPC_STAT (by id, returns 0), SEM_STAT and SEM_STAT_ANY (by index, return the id).
pub fn stat(c: &Caller, id: i32, cmd: i32) -> Result<(SemidDs, i32)> {
    let set = {
        let t = SETS.lock();
        if cmd == IPC_STAT {
            t.get(id)?
        } else {
            t.at_index(id)?
        }
    };
    if cmd != SEM_STAT_ANY {
        set.perm.lock().check(c, S_IRUGO)?;
    }
    let ret = if cmd == IPC_STAT { 0 } else { set.id() };
    Ok((set.stat(), ret))
}

/// IPC_SET: owner, group and permission bits.
pub fn set(c: &Caller, id: i32, from: &Ipc64Perm) -> Result<()> {
    let set = lookup(id)?;
    let mut perm = set.perm.lock();
    perm.check_control(c)?;
    perm.update(from)?;
    drop(perm);
    set.state.lock().ctime = now();
    Ok(())
}

/// IPC_RMID: the set goes at once; sleepers wake with EIDRM.
pub fn remove(c: &Caller, id: i32) -> Result<()> {
    let mut t = SETS.lock();
    let set = t.get(id)?;
    set.perm.lock().check_control(c)?;
    t.remove(id);
    drop(t);
    let mut st = set.state.lock();
    st.removed = true;
    st.undo.clear();
    drop(st);
    set.queue.wake_all();
    Ok(())
}

/// GETVAL, GETPID, GETNCNT, GETZCNT of semaphore `num`.
pub fn get(c: &Caller, id: i32, num: i32, cmd: i32) -> Result<i32> {
    let set = lookup(id)?;
    set.perm.lock().check(c, S_IRUGO)?;
    if num < 0 || num as usize >= set.nsems {
        return Err(Errno::EINVAL);
    }
    let n = num as usize;
    let st = set.state.lock();
    let count =
        |zero: bool| st.sleepers.iter().filter(|s| s.num == n && s.zero == zero).count() as i32;
    Ok(match cmd {
        GETVAL => st.values[n],
        GETPID => st.pids[n] as i32,
        GETNCNT => count(false),
        GETZCNT => count(true),
        _ => return Err(Errno::EINVAL),
    })
}

/// GETALL: every value.
pub fn get_all(c: &Caller, id: i32) -> Result<Vec<u16>> {
    let set = lookup(id)?;
    set.perm.lock().check(c, S_IRUGO)?;
    let st = set.state.lock();
    try_collect(st.values.len(), st.values.iter().map(|&v| v as u16))
}

/// SETVAL.
pub fn set_val(c: &Caller, id: i32, num: i32, val: i32) -> Result<()> {
    if !(0..=SEMVMX).contains(&val) {
        return Err(Errno::ERANGE);
    }
    let set = lookup(id)?;
    if num < 0 || num as usize >= set.nsems {
        return Err(Errno::EINVAL);
    }
    set.perm.lock().check(c, S_IWUGO)?;
    let n = num as usize;
    let mut st = set.state.lock();
    st.clear_undo(n);
    (st.values[n], st.pids[n]) = (val, c.pid);
    st.ctime = now();
    drop(st);
    set.queue.wake_all();
    Ok(())
}

/// SETALL: `read(nsems)` fetches the new values from the caller (after the permission check,
/// as Linux orders EACCES before EFAULT).
pub fn set_all(c: &Caller, id: i32, read: impl FnOnce(usize) -> Result<Vec<u16>>) -> Result<()> {
    let set = lookup(id)?;
    set.perm.lock().check(c, S_IWUGO)?;
    let vals = read(set.nsems)?;
    if vals.iter().any(|&v| v as i32 > SEMVMX) {
        return Err(Errno::ERANGE);
    }
    let mut st = set.state.lock();
    if st.removed {
        return Err(Errno::EIDRM);
    }
    for (n, &v) in vals.iter().enumerate() {
        (st.values[n], st.pids[n]) = (v as i32, c.pid);
        st.clear_undo(n);
    }
    st.ctime = now();
    drop(st);
    set.queue.wake_all();
    Ok(())
}

/// One line of /proc/sysvipc/sem.
pub struct SemRow {
    pub id: i32,
    pub ds: SemidDs,
}

pub fn rows() -> Result<Vec<SemRow>> {
    SETS.lock().rows(|s| SemRow { id: s.id(), ds: s.stat() })
}
