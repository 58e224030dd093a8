//! memfd_create(2) and the seal commands of fcntl(2) (F_ADD_SEALS, F_GET_SEALS).

use alloc::sync::Arc;

use crate::error::{Errno, Result};
use crate::fs::file::{OpenFile, O_RDWR};
use crate::fs::memfd::{self, Options};
use crate::mm::user::read_cstring;
use crate::process::{self, fileops};

const MFD_CLOEXEC: u32 = 1;
const MFD_ALLOW_SEALING: u32 = 2;
const MFD_HUGETLB: u32 = 4;
const MFD_NOEXEC_SEAL: u32 = 8;
const MFD_EXEC: u32 = 0x10;
/// NAME_MAX less the "memfd:" prefix.
const NAME_MAX: usize = 249;

pub const F_ADD_SEALS: i32 = 1033;
pub const F_GET_SEALS: i32 = 1034;

pub fn memfd_create(name: u64, flags: u32) -> Result<i64> {
    // No hugetlbfs here: MFD_HUGETLB is refused like an unknown flag.
    if flags & !(MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_NOEXEC_SEAL | MFD_EXEC) != 0
        || flags & MFD_HUGETLB != 0
    {
        return Err(Errno::EINVAL);
    }
    if flags & MFD_EXEC != 0 && flags & MFD_NOEXEC_SEAL != 0 {
        return Err(Errno::EINVAL);
    }
    let name = read_cstring(name, NAME_MAX).map_err(|e| {
        if e == Errno::ENAMETOOLONG {
            Errno::EINVAL
        } else {
            e
        }
    })?;
    let (uid, gid) = {
        let p = process::current();
        let c = p.creds.lock();
        (c.fsuid, c.fsgid)
    };
    let opts =
        Options { sealing: flags & MFD_ALLOW_SEALING != 0, noexec: flags & MFD_NOEXEC_SEAL != 0 };
    let file = OpenFile::new(memfd::create(name, opts, uid, gid)?, O_RDWR);
    fileops::install(file, flags & MFD_CLOEXEC != 0).map(i64::from)
}

/// F_ADD_SEALS / F_GET_SEALS on the open file `f`: EINVAL for files that have no seals.
pub fn seals(f: &Arc<OpenFile>, cmd: i32, arg: u64) -> Result<i64> {
    let inode = f.file().inode();
    if cmd == F_GET_SEALS {
        return inode.ok_or(Errno::EINVAL)?.seals().map(i64::from);
    }
    // Linux checks the access mode first.
    if !f.writable() {
        return Err(Errno::EPERM);
    }
    inode.ok_or(Errno::EINVAL)?.add_seals(arg as u32).map(|()| 0)
}
