//! tmpfs: the in-memory file system that holds the root (unpacked from the initramfs). File
//! contents live in page frames, so they can later be mapped into address spaces.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};

use super::file::{FileLike, Metadata};
use crate::error::{Errno, Result};
use crate::mm::frame::{self, PAGE_SIZE};
use crate::mm::user::UserSlice;
use crate::sync::Mutex;

pub const S_IFMT: u32 = 0o170000;
pub const S_IFDIR: u32 = 0o040000;
pub const S_IFREG: u32 = 0o100000;
pub const S_IFLNK: u32 = 0o120000;
pub const S_IFCHR: u32 = 0o020000;

/// Device number of the root tmpfs (major 0, minor 1 — Linux's anonymous block devices).
const TMPFS_DEV: u64 = 1;

static NEXT_INO: AtomicU64 = AtomicU64::new(1);

/// The pages of a regular file; `None` pages read as zeros.
#[derive(Default)]
pub struct FileData {
    pages: Vec<Option<u64>>,
    size: u64,
}

impl Drop for FileData {
    fn drop(&mut self) {
        for pa in self.pages.iter().flatten() {
            frame::put(*pa);
        }
    }
}

pub enum InodeKind {
    Dir(Mutex<BTreeMap<String, Arc<Inode>>>),
    File(Mutex<FileData>),
    Symlink(String),
    /// A device node whose open file comes from `devfs`.
    CharDev(u64),
}

pub struct Inode {
    pub ino: u64,
    pub mode: u32,
    pub kind: InodeKind,
}

impl Inode {
    fn new(mode: u32, kind: InodeKind) -> Arc<Inode> {
        Arc::new(Inode { ino: NEXT_INO.fetch_add(1, Ordering::Relaxed), mode, kind })
    }

    pub fn new_dir(perm: u32) -> Arc<Inode> {
        Inode::new(S_IFDIR | (perm & 0o7777), InodeKind::Dir(Mutex::new(BTreeMap::new())))
    }

    pub fn new_file(perm: u32) -> Arc<Inode> {
        Inode::new(S_IFREG | (perm & 0o7777), InodeKind::File(Mutex::new(FileData::default())))
    }

    pub fn new_symlink(target: String) -> Arc<Inode> {
        Inode::new(S_IFLNK | 0o777, InodeKind::Symlink(target))
    }

    pub fn new_chardev(perm: u32, rdev: u64) -> Arc<Inode> {
        Inode::new(S_IFCHR | (perm & 0o7777), InodeKind::CharDev(rdev))
    }

    pub fn is_dir(&self) -> bool {
        matches!(self.kind, InodeKind::Dir(_))
    }

    pub fn lookup(&self, name: &str) -> Result<Arc<Inode>> {
        match &self.kind {
            InodeKind::Dir(entries) => entries.lock().get(name).cloned().ok_or(Errno::ENOENT),
            _ => Err(Errno::ENOTDIR),
        }
    }

    /// Adds `name` → `child`; EEXIST if taken.
    pub fn link(&self, name: &str, child: Arc<Inode>) -> Result<()> {
        match &self.kind {
            InodeKind::Dir(entries) => {
                let mut e = entries.lock();
                if e.contains_key(name) {
                    return Err(Errno::EEXIST);
                }
                e.insert(String::from(name), child);
                Ok(())
            }
            _ => Err(Errno::ENOTDIR),
        }
    }

    pub fn size(&self) -> u64 {
        match &self.kind {
            InodeKind::File(d) => d.lock().size,
            InodeKind::Symlink(t) => t.len() as u64,
            _ => 0,
        }
    }

    /// Copies file bytes at `offset` into `out` (a kernel buffer); returns the count.
    pub fn read_into(&self, offset: u64, out: &mut [u8]) -> Result<usize> {
        let InodeKind::File(data) = &self.kind else { return Err(Errno::EISDIR) };
        let data = data.lock();
        let end = data.size.min(offset.saturating_add(out.len() as u64));
        let mut pos = offset;
        while pos < end {
            let page = (pos / PAGE_SIZE) as usize;
            let off = (pos % PAGE_SIZE) as usize;
            let n = ((end - pos) as usize).min(PAGE_SIZE as usize - off);
            let dst = &mut out[(pos - offset) as usize..][..n];
            match data.pages.get(page).copied().flatten() {
                Some(pa) => dst.copy_from_slice(&frame::bytes(pa)[off..off + n]),
                None => dst.fill(0),
            }
            pos += n as u64;
        }
        Ok((end.max(offset) - offset) as usize)
    }

    /// Writes kernel bytes at `offset`, growing the file.
    pub fn write_from(&self, offset: u64, src: &[u8]) -> Result<usize> {
        let InodeKind::File(data) = &self.kind else { return Err(Errno::EISDIR) };
        let mut data = data.lock();
        let mut pos = offset;
        let end = offset.checked_add(src.len() as u64).ok_or(Errno::EFBIG)?;
        while pos < end {
            let page = (pos / PAGE_SIZE) as usize;
            let off = (pos % PAGE_SIZE) as usize;
            let n = ((end - pos) as usize).min(PAGE_SIZE as usize - off);
            if data.pages.len() <= page {
                data.pages.resize(page + 1, None);
            }
            let pa = match data.pages[page] {
                Some(pa) => pa,
                None => {
                    let pa = frame::alloc_zeroed().ok_or(Errno::ENOSPC)?;
                    data.pages[page] = Some(pa);
                    pa
                }
            };
            frame::bytes(pa)[off..off + n].copy_from_slice(&src[(pos - offset) as usize..][..n]);
            pos += n as u64;
        }
        data.size = data.size.max(end);
        Ok(src.len())
    }

    pub fn metadata(&self) -> Metadata {
        let size = self.size();
        Metadata {
            dev: TMPFS_DEV,
            ino: self.ino,
            mode: self.mode,
            nlink: if self.is_dir() { 2 } else { 1 },
            rdev: if let InodeKind::CharDev(r) = self.kind { r } else { 0 },
            size,
            blksize: PAGE_SIZE as u32,
            blocks: size.div_ceil(512),
            ..Metadata::default()
        }
    }
}

/// An open regular tmpfs file.
pub struct RegularFile {
    inode: Arc<Inode>,
}

impl RegularFile {
    pub fn new(inode: Arc<Inode>) -> Self {
        RegularFile { inode }
    }
}

/// Bytes moved through the kernel per step when copying between a file and user memory.
const CHUNK: usize = 4096;

impl FileLike for RegularFile {
    fn read(&self, buf: UserSlice, offset: u64, _nonblock: bool) -> Result<usize> {
        let mut chunk = [0u8; CHUNK];
        let mut done = 0;
        while done < buf.len() {
            let want = (buf.len() - done).min(CHUNK);
            let n = self.inode.read_into(offset + done as u64, &mut chunk[..want])?;
            if n == 0 {
                break;
            }
            buf.skip(done).write(&chunk[..n])?;
            done += n;
        }
        Ok(done)
    }

    fn write(&self, buf: UserSlice, offset: u64, _nonblock: bool) -> Result<usize> {
        let mut chunk = [0u8; CHUNK];
        let mut done = 0;
        while done < buf.len() {
            let n = (buf.len() - done).min(CHUNK);
            buf.skip(done).take(n).read(&mut chunk[..n])?;
            self.inode.write_from(offset + done as u64, &chunk[..n])?;
            done += n;
        }
        Ok(done)
    }

    fn is_seekable(&self) -> bool {
        true
    }

    fn metadata(&self) -> Metadata {
        self.inode.metadata()
    }
}
