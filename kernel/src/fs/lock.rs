//! Advisory file locks: fcntl's byte-range record locks, classic (owned by a process) and OFD
//! (owned by an open file description), and flock(2)'s whole-file locks (owned by an open file
//! description). Linux keeps the two families apart: a flock lock never conflicts with a record
//! lock.
//!
//! Locks hang off the file's identity (st_dev, st_ino) in one table; the range rules are in
//! `ipc_rules::file_lock`. A classic lock goes when its process closes *any* descriptor of the
//! file, or exits; an OFD or flock lock when its open file description is finally closed. Every
//! change that can let a waiter through wakes `CHANGED`; waiters recheck under the table lock,
//! which is never held while sleeping.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicUsize, Ordering};

use ipc_rules::file_lock::{LockKind, Range, RecordLock, RecordLocks};

use super::file::OpenFile;
use crate::error::{Errno, Result};
use crate::sync::Mutex;
use crate::task::WaitQueue;

/// Who holds a lock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LockOwner {
    /// A classic POSIX record lock of the process with this pid.
    Process(u32),
    /// An OFD record lock or a flock lock of this open file description.
    OpenFile(usize),
}

impl LockOwner {
    /// `l_pid` as F_GETLK reports it: -1 for an open file description.
    pub fn pid(self) -> i32 {
        match self {
            LockOwner::Process(pid) => pid as i32,
            LockOwner::OpenFile(_) => -1,
        }
    }
}

/// The identity of an open file description, for [`LockOwner::OpenFile`].
pub fn open_file_id(f: &OpenFile) -> usize {
    f as *const OpenFile as usize
}

/// One flock(2) lock.
#[derive(Clone, Copy)]
struct Flock {
    open_file: usize,
    kind: LockKind,
    /// The process that took it (for /proc/locks).
    pid: u32,
}

#[derive(Default)]
struct FileLocks {
    records: RecordLocks<LockOwner>,
    flocks: Vec<Flock>,
}

impl FileLocks {
    fn is_empty(&self) -> bool {
        self.records.is_empty() && self.flocks.is_empty()
    }
}

type FileKey = (u64, u64);

struct LockTable {
    files: BTreeMap<FileKey, FileLocks>,
    /// pid → pid of the owner whose lock it sleeps on (F_SETLKW), for deadlock detection.
    waiting: BTreeMap<u32, u32>,
}

static TABLE: Mutex<LockTable> =
    Mutex::new(LockTable { files: BTreeMap::new(), waiting: BTreeMap::new() });
static CHANGED: WaitQueue = WaitQueue::new();
/// Files with any lock: lets close and exit skip the table when nothing is locked at all.
static LOCKED_FILES: AtomicUsize = AtomicUsize::new(0);

/// About what one lock record (and its share of the table) takes on the heap.
const LOCK_RECORD_BYTES: usize = 256;

/// Linux's bound on how far it follows the chain of waiters looking for a deadlock.
const MAX_DEADLOCK_STEPS: usize = 10;

fn key_of(f: &OpenFile) -> FileKey {
    let m = f.file().metadata();
    (m.dev, m.ino)
}

impl LockTable {
    fn file(&mut self, key: FileKey) -> &mut FileLocks {
        self.files.entry(key).or_insert_with(|| {
            LOCKED_FILES.fetch_add(1, Ordering::Relaxed);
            FileLocks::default()
        })
    }

    /// Drops the entry of `key` if nothing is locked there any more.
    fn tidy(&mut self, key: FileKey) {
        if self.files.get(&key).is_some_and(FileLocks::is_empty) {
            self.files.remove(&key);
            LOCKED_FILES.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// Would `me` waiting on `blocker` close a cycle of processes waiting on each other?
    fn would_deadlock(&self, me: u32, blocker: u32) -> bool {
        let mut next = blocker;
        for _ in 0..MAX_DEADLOCK_STEPS {
            if next == me {
                return true;
            }
            match self.waiting.get(&next) {
                Some(&n) => next = n,
                None => return false,
            }
        }
        false
    }
}

/// F_GETLK: the first lock that would keep `owner` from locking `range` with `kind`.
pub fn test_record(
    f: &OpenFile,
    owner: LockOwner,
    kind: LockKind,
    range: Range,
) -> Option<RecordLock<LockOwner>> {
    let key = key_of(f);
    let table = TABLE.lock();
    table.files.get(&key).and_then(|locks| locks.records.conflict(owner, kind, range))
}

/// F_SETLK/F_SETLKW (and the OFD variants): locks `range` with `kind`, or unlocks it (`None`).
/// A conflict gives EAGAIN, or with `wait` sleeps until it is gone; a classic lock that would
/// wait on a process which (through others) waits on the caller gives EDEADLK.
pub fn set_record(
    f: &OpenFile,
    owner: LockOwner,
    kind: Option<LockKind>,
    range: Range,
    wait: bool,
) -> Result<()> {
    // A program may split its locks into millions of records; each is kernel memory, and
    // Linux's failure to allocate one is ENOLCK (an unlock can split one in two, too).
    super::kmem::reserve(LOCK_RECORD_BYTES).map_err(|_| Errno::ENOLCK)?;
    let key = key_of(f);
    let Some(kind) = kind else {
        let mut table = TABLE.lock();
        if let Some(locks) = table.files.get_mut(&key) {
            locks.records.set(owner, None, range);
        }
        table.tidy(key);
        drop(table);
        CHANGED.wake_all();
        return Ok(());
    };
    let attempt = || -> Option<Result<()>> {
        let mut table = TABLE.lock();
        let conflict = table.files.get(&key).and_then(|l| l.records.conflict(owner, kind, range));
        let Some(conflict) = conflict else {
            table.file(key).records.set(owner, Some(kind), range);
            return Some(Ok(()));
        };
        if !wait {
            return Some(Err(Errno::EAGAIN));
        }
        // Only classic locks between processes take part in deadlock detection (as Linux).
        match (owner, conflict.owner) {
            (LockOwner::Process(me), LockOwner::Process(blocker)) => {
                if table.would_deadlock(me, blocker) {
                    return Some(Err(Errno::EDEADLK));
                }
                table.waiting.insert(me, blocker);
            }
            (LockOwner::Process(me), LockOwner::OpenFile(_)) => {
                table.waiting.remove(&me);
            }
            _ => {}
        }
        None
    };
    let result = CHANGED.wait_until(attempt, None).unwrap_or_else(|e| Err(e.restart_errno()));
    if let LockOwner::Process(me) = owner {
        TABLE.lock().waiting.remove(&me);
    }
    if result.is_ok() {
        // Our new lock may have replaced part of a write lock of ours: readers may get in.
        CHANGED.wake_all();
    }
    result
}

/// flock(2): takes (`Some`) or drops (`None`) the whole-file lock of `f`'s open file
/// description. Changing a lock's kind drops it first, as Linux does, so a waiter can get in
/// between. A conflict gives EWOULDBLOCK with `nonblock`, else sleeps.
pub fn flock(f: &OpenFile, pid: u32, kind: Option<LockKind>, nonblock: bool) -> Result<()> {
    if kind.is_some() {
        super::kmem::reserve(LOCK_RECORD_BYTES).map_err(|_| Errno::ENOLCK)?;
    }
    let key = key_of(f);
    let me = open_file_id(f);
    let mut table = TABLE.lock();
    let mut released = false;
    if let Some(locks) = table.files.get_mut(&key) {
        if let Some(i) = locks.flocks.iter().position(|l| l.open_file == me) {
            if Some(locks.flocks[i].kind) == kind {
                return Ok(());
            }
            locks.flocks.remove(i);
            released = true;
        }
    }
    table.tidy(key);
    drop(table);
    if released {
        CHANGED.wake_all();
    }
    match kind {
        Some(kind) => flock_wait(key, Flock { open_file: me, kind, pid }, nonblock),
        None => Ok(()),
    }
}

fn flock_wait(key: FileKey, want: Flock, nonblock: bool) -> Result<()> {
    let (me, kind) = (want.open_file, want.kind);
    let attempt = || -> Option<Result<()>> {
        let mut table = TABLE.lock();
        let busy = table.files.get(&key).is_some_and(|l| {
            l.flocks.iter().any(|o| {
                o.open_file != me && (kind == LockKind::Write || o.kind == LockKind::Write)
            })
        });
        if !busy {
            table.file(key).flocks.push(want);
            Some(Ok(()))
        } else if nonblock {
            Some(Err(Errno::EAGAIN))
        } else {
            None
        }
    };
    CHANGED.wait_until(attempt, None).unwrap_or_else(|e| Err(e.restart_errno()))
}

/// A process closed a descriptor of `f`: its classic locks on the file go (all of them, as
/// POSIX has it, whichever descriptor took them).
pub fn closed_by_process(pid: u32, f: &OpenFile) {
    if LOCKED_FILES.load(Ordering::Relaxed) == 0 {
        return;
    }
    let key = key_of(f);
    let mut table = TABLE.lock();
    let Some(locks) = table.files.get_mut(&key) else { return };
    let removed = locks.records.remove_owner(LockOwner::Process(pid));
    table.tidy(key);
    drop(table);
    if removed {
        CHANGED.wake_all();
    }
}

/// A process exits: every classic lock it holds goes.
pub fn process_exited(pid: u32) {
    if LOCKED_FILES.load(Ordering::Relaxed) == 0 {
        return;
    }
    let mut table = TABLE.lock();
    let mut removed = false;
    // In place, without a list of the files: exit allocates nothing.
    table.files.retain(|_, locks| {
        removed |= locks.records.remove_owner(LockOwner::Process(pid));
        let keep = !locks.is_empty();
        if !keep {
            LOCKED_FILES.fetch_sub(1, Ordering::Relaxed);
        }
        keep
    });
    table.waiting.remove(&pid);
    drop(table);
    if removed {
        CHANGED.wake_all();
    }
}

/// An open file description is gone: its OFD and flock locks go.
pub fn open_file_closed(f: &OpenFile) {
    if LOCKED_FILES.load(Ordering::Relaxed) == 0 {
        return;
    }
    let key = key_of(f);
    let id = open_file_id(f);
    let mut table = TABLE.lock();
    let Some(locks) = table.files.get_mut(&key) else { return };
    let before = locks.flocks.len();
    locks.flocks.retain(|l| l.open_file != id);
    let removed =
        locks.records.remove_owner(LockOwner::OpenFile(id)) || locks.flocks.len() != before;
    table.tidy(key);
    drop(table);
    if removed {
        CHANGED.wake_all();
    }
}

/// Which family a lock of [`snapshot`] belongs to.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum LockClass {
    Posix,
    OpenFile,
    Flock,
}

/// One lock as /proc/locks shows it.
pub struct LockInfo {
    pub class: LockClass,
    pub kind: LockKind,
    /// The owning process; -1 for an OFD lock.
    pub pid: i32,
    pub dev: u64,
    pub ino: u64,
    pub range: Range,
}

/// Every lock held now.
pub fn snapshot() -> Vec<LockInfo> {
    let table = TABLE.lock();
    let mut all = Vec::new();
    for (&(dev, ino), locks) in &table.files {
        for f in &locks.flocks {
            let range = Range { start: 0, end: ipc_rules::file_lock::OFFSET_MAX };
            all.push(LockInfo {
                class: LockClass::Flock,
                kind: f.kind,
                pid: f.pid as i32,
                dev,
                ino,
                range,
            });
        }
        for r in locks.records.iter() {
            let class = match r.owner {
                LockOwner::Process(_) => LockClass::Posix,
                LockOwner::OpenFile(_) => LockClass::OpenFile,
            };
            all.push(LockInfo {
                class,
                kind: r.kind,
                pid: r.owner.pid(),
                dev,
                ino,
                range: r.range,
            });
        }
    }
    all
}
