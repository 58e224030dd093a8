//! fadvise64 and fallocate: advice about and space for a file's data. tmpfs keeps pages in
//! memory, so advice is checked and accepted; fallocate extends the file (its pages stay
//! sparse until written, as tmpfs pages are allocated on first write) or punches holes
//! (the range reads as zeros).

use super::io::file;
use crate::error::{Errno, Result};
use crate::fs::inode::{S_IFDIR, S_IFIFO, S_IFREG};

const POSIX_FADV_NOREUSE: i32 = 5;

pub fn fadvise64(fd: i32, _offset: i64, len: i64, advice: i32) -> Result<i64> {
    let f = file(fd)?;
    if f.is_path_only() {
        return Err(Errno::EBADF);
    }
    if f.file().metadata().file_type() == S_IFIFO {
        return Err(Errno::ESPIPE);
    }
    if len < 0 || !(0..=POSIX_FADV_NOREUSE).contains(&advice) {
        return Err(Errno::EINVAL);
    }
    Ok(0)
}

const FALLOC_FL_KEEP_SIZE: i32 = 0x1;
const FALLOC_FL_PUNCH_HOLE: i32 = 0x2;
const FALLOC_FL_COLLAPSE_RANGE: i32 = 0x8;
const FALLOC_FL_ZERO_RANGE: i32 = 0x10;
/// Every mode bit Linux knows (up to FALLOC_FL_UNSHARE_RANGE).
const FALLOC_FL_KNOWN: i32 = 0x7f;

/// fallocate, with the checks in the order of Linux's vfs_fallocate; tmpfs supports mode 0,
/// KEEP_SIZE and PUNCH_HOLE|KEEP_SIZE (EOPNOTSUPP for the others, as shmem_fallocate).
pub fn fallocate(fd: i32, mode: i32, offset: i64, len: i64) -> Result<i64> {
    let f = file(fd)?;
    if f.is_path_only() {
        return Err(Errno::EBADF);
    }
    if offset < 0 || len <= 0 {
        return Err(Errno::EINVAL);
    }
    if mode & !FALLOC_FL_KNOWN != 0 {
        return Err(Errno::EOPNOTSUPP);
    }
    let punch = mode & FALLOC_FL_PUNCH_HOLE != 0;
    // Punching excludes zeroing and needs KEEP_SIZE.
    if punch && (mode & FALLOC_FL_ZERO_RANGE != 0 || mode & FALLOC_FL_KEEP_SIZE == 0) {
        return Err(Errno::EOPNOTSUPP);
    }
    if mode & FALLOC_FL_COLLAPSE_RANGE != 0 && mode != FALLOC_FL_COLLAPSE_RANGE {
        return Err(Errno::EINVAL);
    }
    if !f.writable() {
        return Err(Errno::EBADF);
    }
    let m = f.file().metadata();
    match m.file_type() {
        S_IFIFO => return Err(Errno::ESPIPE),
        S_IFDIR => return Err(Errno::EISDIR),
        S_IFREG => {}
        _ => return Err(Errno::ENODEV),
    }
    let end = offset.checked_add(len).ok_or(Errno::EFBIG)? as u64;
    let inode = f.file().inode().ok_or(Errno::EOPNOTSUPP)?;
    if mode & !(FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE) != 0 {
        return Err(Errno::EOPNOTSUPP);
    }
    if punch {
        crate::process::fileops::zero_range(&inode, offset as u64, end.min(m.size))?;
    } else if mode & FALLOC_FL_KEEP_SIZE == 0 && end > m.size {
        crate::process::fileops::resize(&inode, end)?;
    }
    Ok(0)
}
