//! A read-only file whose contents are generated when it is opened: the open file keeps that
//! snapshot and serves reads at any offset from it (seq_file semantics, whole-file snapshot).

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::any::Any;

use super::{metadata, Owner, ProcFs};
use crate::error::{Errno, Result};
use crate::fs::file::{FileLike, Mapping};
use crate::fs::inode::{FileSystem, Inode, Metadata, S_IFREG};
use crate::mm::user::UserSlice;

pub type Generator = Arc<dyn Fn() -> Result<Vec<u8>> + Send + Sync>;
/// What a write to a writable sysctl does with the bytes written.
pub type Writer = Arc<dyn Fn(&[u8]) -> Result<()> + Send + Sync>;

#[derive(Clone)]
pub struct GenFile {
    fs: Arc<ProcFs>,
    ino: u64,
    perm: u32,
    owner: Owner,
    /// What a write returns (Linux: EIO for most global files, EINVAL for per-process ones).
    write_error: Errno,
    generate: Generator,
    /// Writable sysctls (/proc/sys/vm/max_map_count, ...): the setter.
    writer: Option<Writer>,
}

impl GenFile {
    pub fn new(
        fs: Arc<ProcFs>,
        ino: u64,
        perm: u32,
        owner: Owner,
        write_error: Errno,
        generate: Generator,
    ) -> Arc<GenFile> {
        Arc::new(GenFile { fs, ino, perm, owner, write_error, generate, writer: None })
    }

    /// A per-process file that takes writes (/proc/PID/task/TID/comm): `writer` decides who
    /// may write and what it does.
    pub fn writable(
        fs: Arc<ProcFs>,
        ino: u64,
        perm: u32,
        owner: Owner,
        generate: Generator,
        writer: Writer,
    ) -> Arc<GenFile> {
        let write_error = Errno::EINVAL;
        Arc::new(GenFile { fs, ino, perm, owner, write_error, generate, writer: Some(writer) })
    }

    /// A writable sysctl: reads generate, writes go to `writer` (whose owner is root, so the
    /// permission check at open keeps other users out).
    pub fn sysctl(fs: Arc<ProcFs>, ino: u64, generate: Generator, writer: Writer) -> Arc<GenFile> {
        let write_error = Errno::EINVAL;
        Arc::new(GenFile {
            fs,
            ino,
            perm: 0o644,
            owner: Owner::Root,
            write_error,
            generate,
            writer: Some(writer),
        })
    }
}

impl Inode for GenFile {
    fn metadata(&self) -> Metadata {
        metadata(&self.fs, self.ino, S_IFREG | self.perm, 1, self.owner, 0)
    }

    fn fs(&self) -> Arc<dyn FileSystem> {
        self.fs.clone()
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<usize> {
        Ok(copy_from(&(self.generate)()?, offset, buf))
    }

    fn write_at(&self, _offset: u64, buf: &[u8]) -> Result<usize> {
        let w = self.writer.as_ref().ok_or(self.write_error)?;
        w(buf)?;
        Ok(buf.len())
    }

    /// O_TRUNC on open succeeds and changes nothing, as on Linux.
    fn truncate(&self, _size: u64) -> Result<()> {
        Ok(())
    }

    fn open(&self, _flags: u32) -> Result<Option<Arc<dyn FileLike>>> {
        let data = (self.generate)()?;
        let inode = Arc::new(self.clone());
        Ok(Some(Arc::new(Snapshot {
            data,
            inode,
            write_error: self.write_error,
            writer: self.writer.clone(),
        })))
    }
}

fn copy_from(data: &[u8], offset: u64, buf: &mut [u8]) -> usize {
    let start = usize::try_from(offset).unwrap_or(usize::MAX).min(data.len());
    let n = (data.len() - start).min(buf.len());
    buf[..n].copy_from_slice(&data[start..start + n]);
    n
}

/// An open generated file.
struct Snapshot {
    data: Vec<u8>,
    inode: Arc<dyn Inode>,
    write_error: Errno,
    writer: Option<Writer>,
}

impl FileLike for Snapshot {
    fn read(&self, buf: UserSlice, offset: u64, _nonblock: bool) -> Result<usize> {
        let start = usize::try_from(offset).unwrap_or(usize::MAX).min(self.data.len());
        let n = (self.data.len() - start).min(buf.len());
        if n > 0 {
            buf.write(&self.data[start..start + n])?;
        }
        Ok(n)
    }

    fn write(&self, buf: UserSlice, _offset: u64, _nonblock: bool) -> Result<usize> {
        let w = self.writer.as_ref().ok_or(self.write_error)?;
        // A sysctl value is a short line; Linux reads at most a page of it.
        let n = buf.len().min(4096);
        let bytes = UserSlice::new(buf.addr(), n).read_to_vec()?;
        w(&bytes)?;
        Ok(buf.len())
    }

    fn is_seekable(&self) -> bool {
        true
    }

    /// No /proc file maps. Linux's global files (proc_reg wrappers, the ones whose writes fail
    /// with EIO) say EIO; per-process files and sysctls have no mmap at all: ENODEV.
    fn mmap(&self, _shared: bool, _write: bool, _fd_writable: bool) -> Result<Mapping> {
        Err(if self.write_error == Errno::EIO { Errno::EIO } else { Errno::ENODEV })
    }

    fn metadata(&self) -> Metadata {
        self.inode.metadata()
    }

    fn inode(&self) -> Option<Arc<dyn Inode>> {
        Some(self.inode.clone())
    }
}
