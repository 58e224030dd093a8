//! The VFS's view of a file system object. Every file system (tmpfs, procfs, ...) implements
//! `Inode` for its objects and `FileSystem` for itself; the path walk, the syscalls and `OpenFile`
//! only see these traits.

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::any::Any;

use super::file::FileLike;
use crate::error::{Errno, Result};

pub const S_IFMT: u32 = 0o170000;
pub const S_IFSOCK: u32 = 0o140000;
pub const S_IFLNK: u32 = 0o120000;
pub const S_IFREG: u32 = 0o100000;
pub const S_IFBLK: u32 = 0o060000;
pub const S_IFDIR: u32 = 0o040000;
pub const S_IFCHR: u32 = 0o020000;
pub const S_IFIFO: u32 = 0o010000;

/// Linux's `d_type` of a mode.
pub fn dtype_of(mode: u32) -> u8 {
    ((mode & S_IFMT) >> 12) as u8
}

/// What `stat` reports; filled by each file type.
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

impl Metadata {
    pub fn file_type(&self) -> u32 {
        self.mode & S_IFMT
    }

    pub fn is_dir(&self) -> bool {
        self.file_type() == S_IFDIR
    }
}

/// Attribute changes (chmod, chown, utimensat, truncate is separate).
#[derive(Clone, Copy, Debug, Default)]
pub struct SetAttr {
    pub mode: Option<u32>,
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    pub atime_ns: Option<i64>,
    pub mtime_ns: Option<i64>,
}

pub struct DirEntry {
    pub ino: u64,
    pub name: String,
    pub dtype: u8,
}

pub const RENAME_NOREPLACE: u32 = 1;
pub const RENAME_EXCHANGE: u32 = 2;

pub trait FileSystem: Send + Sync {
    /// The `st_dev` of every inode in it.
    fn dev(&self) -> u64;
    /// `f_type` for statfs.
    fn magic(&self) -> u64;
    /// The type name shown in /proc/mounts.
    fn name(&self) -> &'static str;
    fn root(&self) -> Arc<dyn Inode>;
    /// Does statfs report storage (tmpfs), or none at all (proc)?
    fn has_storage(&self) -> bool {
        true
    }
    /// Its limits and what is free, for statfs (None: derived from memory).
    fn storage(&self) -> Option<Storage> {
        None
    }
    /// Applies mount(2)'s option string (`remount`: MS_REMOUNT of a mounted instance).
    /// File systems without options accept any, as Linux's ignore what they do not know.
    fn configure(&self, _options: &str, _remount: bool) -> Result<()> {
        Ok(())
    }
}

/// What statfs reports of a file system with limits, in pages and inodes (0: no limit).
#[derive(Clone, Copy, Debug)]
pub struct Storage {
    pub blocks: u64,
    pub free_blocks: u64,
    pub files: u64,
    pub free_files: u64,
}

/// Owner and permission bits a new inode gets.
#[derive(Clone, Copy, Debug)]
pub struct NewNode {
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub rdev: u64,
}

pub trait Inode: Send + Sync {
    fn metadata(&self) -> Metadata;
    fn fs(&self) -> Arc<dyn FileSystem>;
    fn as_any(&self) -> &dyn Any;

    fn lookup(&self, _name: &str) -> Result<Arc<dyn Inode>> {
        Err(Errno::ENOTDIR)
    }
    /// Creates a regular file, directory, device node, FIFO or socket (per `node.mode`).
    fn create(&self, _name: &str, _node: NewNode) -> Result<Arc<dyn Inode>> {
        Err(Errno::ENOTDIR)
    }
    fn symlink(&self, _name: &str, _target: &str, _node: NewNode) -> Result<Arc<dyn Inode>> {
        Err(Errno::ENOTDIR)
    }
    fn link(&self, _name: &str, _target: &Arc<dyn Inode>) -> Result<()> {
        Err(Errno::ENOTDIR)
    }
    fn unlink(&self, _name: &str) -> Result<()> {
        Err(Errno::ENOTDIR)
    }
    fn rmdir(&self, _name: &str) -> Result<()> {
        Err(Errno::ENOTDIR)
    }
    fn rename(&self, _old: &str, _new_dir: &Arc<dyn Inode>, _new: &str, _flags: u32) -> Result<()> {
        Err(Errno::ENOTDIR)
    }
    /// The entries, "." and ".." first.
    fn readdir(&self) -> Result<Vec<DirEntry>> {
        Err(Errno::ENOTDIR)
    }
    /// At most `max` entries from position `from` on, each with its position, in increasing
    /// position order: what getdents64 reads. A position is stable: an entry keeps it while it
    /// exists (as Linux's simple_offset cookies and procfs's pid-based positions), so removing
    /// or adding other entries while a directory is read neither skips nor repeats one; the
    /// directory's offset after an entry is its position + 1 (its `d_off`). The default numbers
    /// `readdir`'s list, for directories whose entries never change.
    fn readdir_from(&self, from: u64, max: usize) -> Result<Vec<(u64, DirEntry)>> {
        let all = self.readdir()?;
        let skip = usize::try_from(from).unwrap_or(usize::MAX);
        Ok(all.into_iter().enumerate().skip(skip).take(max).map(|(i, e)| (i as u64, e)).collect())
    }
    fn readlink(&self) -> Result<String> {
        Err(Errno::EINVAL)
    }
    fn read_at(&self, _offset: u64, _buf: &mut [u8]) -> Result<usize> {
        Err(Errno::EINVAL)
    }
    fn write_at(&self, _offset: u64, _buf: &[u8]) -> Result<usize> {
        Err(Errno::EINVAL)
    }
    fn truncate(&self, _size: u64) -> Result<()> {
        Err(Errno::EINVAL)
    }
    fn set_attr(&self, _attr: &SetAttr) -> Result<()> {
        Err(Errno::EPERM)
    }
    /// Special inodes (devices, FIFOs, generated files) supply their own open file.
    fn open(&self, _flags: u32) -> Result<Option<Arc<dyn FileLike>>> {
        Ok(None)
    }
    /// What a bound socket or a FIFO attaches to its inode (set once; returns the attachment).
    fn attach(
        &self,
        _make: &dyn Fn() -> Arc<dyn Any + Send + Sync>,
    ) -> Option<Arc<dyn Any + Send + Sync>> {
        None
    }
    /// A reference to the frame holding page `index` of the file's data, allocated if needed
    /// (for mmap).
    fn page(&self, _index: u64) -> Result<crate::mm::frame::Frame> {
        Err(Errno::ENODEV)
    }
    /// Where following this symbolic link leads if it is a "magic" one (/proc/<pid>/fd/<n>):
    /// the open file itself, even one without a path.
    fn magic_link(&self) -> Option<super::path::Walk> {
        None
    }
    /// The file's seals (F_GET_SEALS, memfd_create(2)); EINVAL where a file system has none.
    fn seals(&self) -> Result<u32> {
        Err(Errno::EINVAL)
    }
    /// F_ADD_SEALS.
    fn add_seals(&self, _seals: u32) -> Result<()> {
        Err(Errno::EINVAL)
    }
    /// What a MAP_SHARED mapping that may write holds while it lives, so that the file knows
    /// whether such mappings exist (F_SEAL_WRITE is EBUSY then).
    fn writable_mapping(&self) -> Option<Arc<dyn Any + Send + Sync>> {
        None
    }
}

/// Seals (fcntl(2) F_ADD_SEALS): what may no longer happen to a file.
pub const F_SEAL_SEAL: u32 = 1;
pub const F_SEAL_SHRINK: u32 = 2;
pub const F_SEAL_GROW: u32 = 4;
pub const F_SEAL_WRITE: u32 = 8;
pub const F_SEAL_FUTURE_WRITE: u32 = 16;
pub const F_SEAL_EXEC: u32 = 32;
pub const ALL_SEALS: u32 = 63;

/// A file's pages as mmap sees them: pages wholly beyond the end of the file are SIGBUS.
pub struct InodePages(pub Arc<dyn Inode>, pub Option<Arc<dyn Any + Send + Sync>>);

impl crate::mm::shared::PageSource for InodePages {
    fn page(&self, index: u64) -> Option<crate::mm::frame::Frame> {
        // A mapping's page offset comes from the user (up to 2^52): the product may not wrap.
        if index
            .checked_mul(crate::mm::frame::PAGE_SIZE)
            .is_none_or(|o| o >= self.0.metadata().size)
        {
            return None;
        }
        self.0.page(index).ok()
    }

    /// Every mmap of a file makes its own `InodePages`: the inode is what they share.
    fn identity(&self) -> usize {
        Arc::as_ptr(&self.0) as *const u8 as usize
    }
}

/// Two inode handles name the same object.
pub fn same_inode(a: &Arc<dyn Inode>, b: &Arc<dyn Inode>) -> bool {
    let (ma, mb) = (a.metadata(), b.metadata());
    ma.dev == mb.dev && ma.ino == mb.ino
}

/// `readdir_from` for a listing of `fixed` entries that never change followed by entries named
/// by a number (pids, descriptors, pty indexes): a fixed one at its index, a numbered one at
/// `fixed + number`, so that an entry that goes (a process that exits, a descriptor closed)
/// moves none of the others while the directory is read, as Linux's procfs positions.
pub fn numbered_positions(
    all: Vec<DirEntry>,
    fixed: usize,
    from: u64,
    max: usize,
) -> Result<Vec<(u64, DirEntry)>> {
    let mut v = Vec::new();
    super::kmem::grow(&mut v, all.len().min(max))?;
    for (i, e) in all.into_iter().enumerate() {
        let pos = if i < fixed {
            i as u64
        } else {
            match e.name.parse::<u64>() {
                Ok(n) => fixed as u64 + n,
                Err(_) => continue,
            }
        };
        if pos >= from {
            v.push((pos, e));
        }
    }
    v.sort_unstable_by_key(|(pos, _)| *pos);
    v.truncate(max);
    Ok(v)
}
