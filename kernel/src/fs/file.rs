//! `FileLike` (what every kind of open file implements) and `OpenFile` (one open file
//! description: the object, the offset and the status flags, shared by dup'ed descriptors).

use alloc::sync::Arc;
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use crate::error::{Errno, Result};
use crate::mm::user::UserSlice;

pub const O_ACCMODE: u32 = 3;
pub const O_RDONLY: u32 = 0;
pub const O_WRONLY: u32 = 1;
pub const O_RDWR: u32 = 2;
pub const O_NONBLOCK: u32 = 0o4000;
pub const O_APPEND: u32 = 0o2000;
pub const O_CLOEXEC: u32 = 0o2000000;

/// What `fstat` reports; filled by each file type.
#[derive(Clone, Copy, Debug, Default)]
pub struct Metadata {
    pub dev: u64,
    pub ino: u64,
    pub mode: u32,
    pub nlink: u32,
    pub uid: u32,
    pub gid: u32,
    pub rdev: u64,
    pub size: u64,
    pub blksize: u32,
    pub blocks: u64,
    pub atime_ns: i64,
    pub mtime_ns: i64,
    pub ctime_ns: i64,
}

pub trait FileLike: Send + Sync {
    /// Reads at the file's own notion of position (streams) or at `offset` (seekable files).
    fn read(&self, buf: UserSlice, offset: u64, nonblock: bool) -> Result<usize>;
    fn write(&self, buf: UserSlice, offset: u64, nonblock: bool) -> Result<usize>;
    /// Seekable files use the open file's offset; streams ignore it.
    fn is_seekable(&self) -> bool {
        false
    }
    fn ioctl(&self, _cmd: u32, _arg: u64) -> Result<i64> {
        Err(Errno::ENOTTY)
    }
    fn metadata(&self) -> Metadata;
}

pub struct OpenFile {
    file: Arc<dyn FileLike>,
    offset: AtomicU64,
    /// Access mode and status flags (O_NONBLOCK, O_APPEND, ...).
    flags: AtomicU32,
}

impl OpenFile {
    pub fn new(file: Arc<dyn FileLike>, flags: u32) -> Arc<OpenFile> {
        Arc::new(OpenFile { file, offset: AtomicU64::new(0), flags: AtomicU32::new(flags & !O_CLOEXEC) })
    }

    pub fn file(&self) -> &Arc<dyn FileLike> {
        &self.file
    }

    pub fn flags(&self) -> u32 {
        self.flags.load(Ordering::Relaxed)
    }

    fn nonblock(&self) -> bool {
        self.flags() & O_NONBLOCK != 0
    }

    pub fn readable(&self) -> bool {
        self.flags() & O_ACCMODE != O_WRONLY
    }

    pub fn writable(&self) -> bool {
        self.flags() & O_ACCMODE != O_RDONLY
    }

    pub fn read(&self, buf: UserSlice) -> Result<usize> {
        if !self.readable() {
            return Err(Errno::EBADF);
        }
        buf.check()?;
        let off = self.offset.load(Ordering::Relaxed);
        let n = self.file.read(buf, off, self.nonblock())?;
        if self.file.is_seekable() {
            self.offset.store(off + n as u64, Ordering::Relaxed);
        }
        Ok(n)
    }

    pub fn write(&self, buf: UserSlice) -> Result<usize> {
        if !self.writable() {
            return Err(Errno::EBADF);
        }
        buf.check()?;
        let seekable = self.file.is_seekable();
        let off = if seekable && self.flags() & O_APPEND != 0 {
            self.file.metadata().size
        } else {
            self.offset.load(Ordering::Relaxed)
        };
        let n = self.file.write(buf, off, self.nonblock())?;
        if seekable {
            self.offset.store(off + n as u64, Ordering::Relaxed);
        }
        Ok(n)
    }
}
