//! System V IPC: the namespace of shared-memory segments, semaphore sets and message queues.
//!
//! Each kind has an `IdTable`: objects by index, ids that carry a sequence number so a removed
//! id is not soon valid again (Linux: id = seq * 32768 + index), key lookup, and `ipcget` — the
//! IPC_PRIVATE / IPC_CREAT / IPC_EXCL logic shared by shmget, semget and msgget. `IpcPerm` is
//! the kernel's `ipc_perm` with Linux's checks against the caller's credentials. The limits
//! are Linux's defaults. This module sits below `process`: callers describe themselves with
//! a `Caller`.

pub mod msg;
pub mod sem;
pub mod shm;

use alloc::collections::BTreeMap;
use alloc::sync::Arc;
use alloc::vec::Vec;

use bytemuck::{Pod, Zeroable};

use crate::error::{Errno, Result};
use crate::mm::fallible::{ensure_room, try_collect};
use crate::sync::Mutex;

pub const IPC_PRIVATE: i32 = 0;
pub const IPC_CREAT: i32 = 0o1000;
pub const IPC_EXCL: i32 = 0o2000;
pub const IPC_NOWAIT: i32 = 0o4000;

pub const IPC_RMID: i32 = 0;
pub const IPC_SET: i32 = 1;
pub const IPC_STAT: i32 = 2;
pub const IPC_INFO: i32 = 3;
/// The C libraries may ask for the 64-bit structures this way; they are the only ones here.
pub const IPC_64: i32 = 0x100;

/// Permission requests, as `ipcperms` takes them (any of the three classes' bits).
pub const S_IRUGO: u32 = 0o444;
pub const S_IWUGO: u32 = 0o222;
pub const S_IXUGO: u32 = 0o111;
const S_IRWXUGO: u32 = 0o777;

/// Index space per kind, and the multiplier of the sequence number in an id.
const IPCMNI: u32 = 32768;
/// Sequence numbers wrap here (INT_MAX / IPCMNI), so ids stay positive.
const SEQ_MAX: u32 = (i32::MAX as u32) / IPCMNI;

/// Linux's default limits (include/uapi/linux/{shm,sem,msg}.h), which its sysctls start at.
pub mod limits {
    pub const SHMMIN: u64 = 1;
    pub const SHMMAX: u64 = u64::MAX - (1 << 24);
    /// In pages.
    pub const SHMALL: u64 = u64::MAX - (1 << 24);
    pub const SHMMNI: usize = 4096;

    pub const SEMMNI: usize = 32000;
    pub const SEMMSL: usize = 32000;
    pub const SEMMNS: usize = SEMMNI * SEMMSL;
    pub const SEMOPM: usize = 500;
    pub use ipc_rules::semop::{SEMAEM, SEMVMX};
    pub const SEMUME: i32 = SEMOPM as i32;
    pub const SEMMNU: i32 = SEMMNS as i32;
    pub const SEMMAP: i32 = SEMMNS as i32;
    pub const SEMUSZ: i32 = 20;

    pub const MSGMNI: usize = 32000;
    pub const MSGMAX: usize = 8192;
    pub const MSGMNB: usize = 16384;
    pub const MSGPOOL: i32 = (MSGMNI * MSGMNB / 1024) as i32;
    pub const MSGTQL: i32 = MSGMNB as i32;
    pub const MSGMAP: i32 = MSGMNB as i32;
    pub const MSGSSZ: i32 = 16;
    pub const MSGSEG: u16 = 0xffff;
}

/// A command with the IPC_64 flag stripped (cmd < 0 stays negative: EINVAL later).
pub fn strip_ipc64(cmd: i32) -> i32 {
    if cmd < 0 {
        cmd
    } else {
        cmd & !IPC_64
    }
}

/// Seconds since the epoch, for the *_time fields.
pub fn now() -> i64 {
    crate::arch::time::realtime_ns().div_euclid(1_000_000_000)
}

/// Who is making the call: the ids the checks use and the pid recorded as last operator.
#[derive(Clone, Debug)]
pub struct Caller {
    /// The process (thread group) id.
    pub pid: u32,
    pub euid: u32,
    pub egid: u32,
    /// Group membership is judged by fsgid and the supplementary groups (Linux's in_group_p).
    pub fsgid: u32,
    pub groups: Vec<u32>,
    /// The effective capability set.
    pub caps: u64,
}

impl Caller {
    pub fn capable(&self, cap: crate::cap::Cap) -> bool {
        self.caps & cap.bit() != 0
    }

    fn in_group(&self, gid: u32) -> bool {
        self.fsgid == gid || self.groups.contains(&gid)
    }
}

/// `struct ipc64_perm` (x86-64 uapi).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct Ipc64Perm {
    pub key: i32,
    pub uid: u32,
    pub gid: u32,
    pub cuid: u32,
    pub cgid: u32,
    pub mode: u32,
    pub seq: u16,
    pub pad2: u16,
    pub pad3: u32,
    pub unused1: u64,
    pub unused2: u64,
}

/// The kernel's ipc_perm of one object.
#[derive(Clone, Debug)]
pub struct IpcPerm {
    pub key: i32,
    /// The full id (sequence and index); never changes.
    pub id: i32,
    pub uid: u32,
    pub gid: u32,
    pub cuid: u32,
    pub cgid: u32,
    /// Permission bits, plus SHM_DEST / SHM_LOCKED for segments.
    pub mode: u32,
    pub seq: u16,
}

impl IpcPerm {
    /// Linux's `ipcperms`: may the caller access the object for `flag` (S_IRUGO, S_IWUGO,
    /// or an open-style mode)? Owner or creator use the user bits, either group the group bits.
    pub fn permits(&self, c: &Caller, flag: u32) -> bool {
        let requested = (flag >> 6) | (flag >> 3) | flag;
        let granted = if c.euid == self.cuid || c.euid == self.uid {
            self.mode >> 6
        } else if c.in_group(self.cgid) || c.in_group(self.gid) {
            self.mode >> 3
        } else {
            self.mode
        };
        requested & !granted & 0o7 == 0 || c.capable(crate::cap::Cap::IpcOwner)
    }

    /// `permits`, as the error the system calls return.
    pub fn check(&self, c: &Caller, flag: u32) -> Result<()> {
        if self.permits(c, flag) {
            Ok(())
        } else {
            Err(Errno::EACCES)
        }
    }

    /// IPC_SET and IPC_RMID: only the owner, the creator or a privileged caller (EPERM).
    pub fn check_control(&self, c: &Caller) -> Result<()> {
        if c.euid == self.cuid || c.euid == self.uid || c.capable(crate::cap::Cap::SysAdmin) {
            Ok(())
        } else {
            Err(Errno::EPERM)
        }
    }

    pub fn to_user(&self) -> Ipc64Perm {
        Ipc64Perm {
            key: self.key,
            uid: self.uid,
            gid: self.gid,
            cuid: self.cuid,
            cgid: self.cgid,
            mode: self.mode,
            seq: self.seq,
            ..Ipc64Perm::default()
        }
    }

    /// IPC_SET: new owner and permission bits; (uid_t)-1 is not a valid id (EINVAL).
    pub fn update(&mut self, from: &Ipc64Perm) -> Result<()> {
        if from.uid == u32::MAX || from.gid == u32::MAX {
            return Err(Errno::EINVAL);
        }
        self.uid = from.uid;
        self.gid = from.gid;
        self.mode = (self.mode & !S_IRWXUGO) | (from.mode & S_IRWXUGO);
        Ok(())
    }
}

/// What every SysV object exposes to its table.
pub trait IpcObject {
    fn perm(&self) -> &Mutex<IpcPerm>;
}

/// The objects of one kind, by index.
pub struct IdTable<T> {
    objects: BTreeMap<u32, Arc<T>>,
    /// The sequence number new ids get; bumped whenever an index at or below the last one
    /// handed out is reused, so a just-removed id is not valid again (Linux's ipc_idr_alloc).
    seq: u32,
    last_idx: Option<u32>,
}

impl<T: IpcObject> Default for IdTable<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: IpcObject> IdTable<T> {
    pub const fn new() -> Self {
        IdTable { objects: BTreeMap::new(), seq: 0, last_idx: None }
    }

    /// The object with the full id `id`; EINVAL if there is none or the index now holds a
    /// newer object.
    pub fn get(&self, id: i32) -> Result<Arc<T>> {
        if id < 0 {
            return Err(Errno::EINVAL);
        }
        let obj = self.objects.get(&(id as u32 % IPCMNI)).ok_or(Errno::EINVAL)?;
        if obj.perm().lock().id != id {
            return Err(Errno::EINVAL);
        }
        Ok(obj.clone())
    }

    /// *_STAT: the object at an index (Linux takes the index bits of the argument).
    pub fn at_index(&self, index: i32) -> Result<Arc<T>> {
        if index < 0 {
            return Err(Errno::EINVAL);
        }
        self.objects.get(&(index as u32 % IPCMNI)).cloned().ok_or(Errno::EINVAL)
    }

    fn find_key(&self, key: i32) -> Option<Arc<T>> {
        self.objects.values().find(|o| o.perm().lock().key == key).cloned()
    }

    /// The lowest free index and the sequence number an object there would get.
    fn next_slot(&self, limit: usize) -> Result<(u32, u32)> {
        if self.objects.len() >= limit.min(IPCMNI as usize) {
            return Err(Errno::ENOSPC);
        }
        let idx = self
            .objects
            .keys()
            .enumerate()
            .find(|(i, k)| *i as u32 != **k)
            .map_or(self.objects.len() as u32, |(i, _)| i as u32);
        let seq = match self.last_idx {
            Some(last) if idx <= last => (self.seq + 1) % (SEQ_MAX + 1),
            _ => self.seq,
        };
        Ok((idx, seq))
    }

    pub fn remove(&mut self, id: i32) -> Option<Arc<T>> {
        let idx = id as u32 % IPCMNI;
        let same = self.objects.get(&idx).is_some_and(|o| o.perm().lock().id == id);
        if same {
            self.objects.remove(&idx)
        } else {
            None
        }
    }

    /// Keeps only the objects for which `keep` holds (shm: segments whose last attach went).
    pub fn retain(&mut self, mut keep: impl FnMut(&Arc<T>) -> bool) {
        self.objects.retain(|_, o| keep(o));
    }

    /// What *_INFO returns: the highest index in use (0 when empty), for `ipcs` to scan up to.
    pub fn max_idx(&self) -> i32 {
        self.objects.keys().next_back().map_or(0, |&i| i as i32)
    }

    pub fn in_use(&self) -> usize {
        self.objects.len()
    }

    /// The objects in index order.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<T>> {
        self.objects.values()
    }

    /// The object at the lowest index `idx` or above, with its index: a walk over the table
    /// that needs no memory and no lock held between steps (`apply_undo` at exit).
    pub fn next_from(&self, idx: u32) -> Option<(u32, Arc<T>)> {
        self.objects.range(idx..).next().map(|(&i, o)| (i, o.clone()))
    }

    /// The objects as rows of /proc/sysvipc, or ENOMEM.
    pub fn rows<R>(&self, row: impl FnMut(&Arc<T>) -> R) -> Result<Vec<R>> {
        try_collect(self.objects.len(), self.objects.values().map(row))
    }
}

/// What a get call asks for: the key, IPC_CREAT/IPC_EXCL and the mode bits.
pub struct GetRequest<'a> {
    pub caller: &'a Caller,
    pub key: i32,
    pub flags: i32,
    /// The most objects of this kind (SHMMNI, SEMMNI, MSGMNI).
    pub limit: usize,
}

/// shmget/semget/msgget: find the object with the key or make a new one (Linux's ipcget).
/// `more_checks` judges an existing object against the request before the permission check
/// (segment size, number of semaphores); `create` builds a new object with its perm.
pub fn ipcget<T: IpcObject>(
    table: &mut IdTable<T>,
    req: &GetRequest,
    more_checks: impl FnOnce(&T) -> Result<()>,
    create: impl FnOnce(IpcPerm) -> Result<T>,
) -> Result<i32> {
    if req.key != IPC_PRIVATE {
        if let Some(obj) = table.find_key(req.key) {
            if req.flags & IPC_CREAT != 0 && req.flags & IPC_EXCL != 0 {
                return Err(Errno::EEXIST);
            }
            more_checks(&obj)?;
            let perm = obj.perm().lock();
            perm.check(req.caller, req.flags as u32 & S_IRWXUGO)?;
            return Ok(perm.id);
        }
        if req.flags & IPC_CREAT == 0 {
            return Err(Errno::ENOENT);
        }
    }
    let (idx, seq) = table.next_slot(req.limit)?;
    let c = req.caller;
    let id = (seq * IPCMNI + idx) as i32;
    let perm = IpcPerm {
        key: req.key,
        id,
        uid: c.euid,
        gid: c.egid,
        cuid: c.euid,
        cgid: c.egid,
        mode: req.flags as u32 & S_IRWXUGO,
        seq: seq as u16,
    };
    // The object's Arc and its node in the table cannot be allocated fallibly: room first
    // (Linux's ipc_addid fails with ENOMEM likewise).
    ensure_room(core::mem::size_of::<T>() + 256)?;
    let obj = create(perm)?;
    table.objects.insert(idx, Arc::new(obj));
    table.seq = seq;
    table.last_idx = Some(idx);
    Ok(id)
}
