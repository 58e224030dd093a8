//! File locks: fcntl's F_GETLK/F_SETLK/F_SETLKW and F_OFD_GETLK/F_OFD_SETLK/F_OFD_SETLKW
//! (`struct flock`), and flock(2). The rules live in `fs::lock`.

use alloc::sync::Arc;

use bytemuck::{Pod, Zeroable};
use ipc_rules::file_lock::{self, LockKind, RangeError};

use crate::error::{Errno, Result};
use crate::fs::file::OpenFile;
use crate::fs::lock::{self, LockOwner};
use crate::mm::user::UserPtr;
use crate::process;

pub const F_GETLK: i32 = 5;
pub const F_SETLK: i32 = 6;
pub const F_SETLKW: i32 = 7;
pub const F_OFD_GETLK: i32 = 36;
pub const F_OFD_SETLK: i32 = 37;
pub const F_OFD_SETLKW: i32 = 38;

const F_RDLCK: i16 = 0;
const F_WRLCK: i16 = 1;
const F_UNLCK: i16 = 2;

const SEEK_SET: i16 = 0;
const SEEK_CUR: i16 = 1;
const SEEK_END: i16 = 2;

const LOCK_SH: u32 = 1;
const LOCK_EX: u32 = 2;
const LOCK_NB: u32 = 4;
const LOCK_UN: u32 = 8;
const LOCK_MAND: u32 = 32;

/// The x86-64 `struct flock`.
#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct Flock {
    l_type: i16,
    l_whence: i16,
    _pad: u32,
    l_start: i64,
    l_len: i64,
    l_pid: i32,
    _pad2: u32,
}

/// The record-lock commands of fcntl, on the open file `f`.
pub fn fcntl(f: Arc<OpenFile>, cmd: i32, arg: u64) -> Result<i64> {
    if f.is_path_only() {
        return Err(Errno::EBADF);
    }
    let ptr = UserPtr::<Flock>::new(arg);
    let mut fl = ptr.read()?;
    let ofd = matches!(cmd, F_OFD_GETLK | F_OFD_SETLK | F_OFD_SETLKW);
    let owner = if ofd {
        LockOwner::OpenFile(lock::open_file_id(&f))
    } else {
        LockOwner::Process(process::current().pid)
    };
    if matches!(cmd, F_GETLK | F_OFD_GETLK) {
        // Linux checks the type first here, and the range next.
        let kind = match fl.l_type {
            F_RDLCK => LockKind::Read,
            F_WRLCK => LockKind::Write,
            _ => return Err(Errno::EINVAL),
        };
        let range = range_of(&f, &fl)?;
        if ofd && fl.l_pid != 0 {
            return Err(Errno::EINVAL);
        }
        match lock::test_record(&f, owner, kind, range) {
            None => fl.l_type = F_UNLCK,
            Some(c) => {
                fl.l_type = if c.kind == LockKind::Write { F_WRLCK } else { F_RDLCK };
                fl.l_whence = SEEK_SET;
                fl.l_start = c.range.start as i64;
                fl.l_len = c.range.l_len();
                fl.l_pid = c.owner.pid();
            }
        }
        ptr.write(&fl)?;
        return Ok(0);
    }
    // F_SETLK*: the range, then the type, then the access mode, then OFD's l_pid (Linux's order).
    let range = range_of(&f, &fl)?;
    let kind = match fl.l_type {
        F_RDLCK => Some(LockKind::Read),
        F_WRLCK => Some(LockKind::Write),
        F_UNLCK => None,
        _ => return Err(Errno::EINVAL),
    };
    match kind {
        Some(LockKind::Read) if !f.readable() => return Err(Errno::EBADF),
        Some(LockKind::Write) if !f.writable() => return Err(Errno::EBADF),
        _ => {}
    }
    if ofd && fl.l_pid != 0 {
        return Err(Errno::EINVAL);
    }
    lock::set_record(&f, owner, kind, range, matches!(cmd, F_SETLKW | F_OFD_SETLKW))?;
    Ok(0)
}

/// The byte range `fl` names in `f`.
fn range_of(f: &OpenFile, fl: &Flock) -> Result<file_lock::Range> {
    let base = match fl.l_whence {
        SEEK_SET => 0,
        SEEK_CUR => f.offset() as i64,
        SEEK_END => f.file().metadata().size as i64,
        _ => return Err(Errno::EINVAL),
    };
    file_lock::range_of(base, fl.l_start, fl.l_len).map_err(|e| match e {
        RangeError::Invalid => Errno::EINVAL,
        RangeError::Overflow => Errno::EOVERFLOW,
    })
}

pub fn flock(fd: i32, op: u32) -> Result<i64> {
    if op & LOCK_MAND != 0 {
        // Linux stopped honouring LOCK_MAND (5.15) and accepts it doing nothing.
        return Ok(0);
    }
    let kind = match op & !LOCK_NB {
        LOCK_SH => Some(LockKind::Read),
        LOCK_EX => Some(LockKind::Write),
        LOCK_UN => None,
        _ => return Err(Errno::EINVAL),
    };
    let f = process::current().files().lock().get(fd)?;
    if f.is_path_only() {
        return Err(Errno::EBADF);
    }
    lock::flock(&f, process::current().pid, kind, op & LOCK_NB != 0)?;
    Ok(0)
}
