//! memfd_create(2): a regular file in no directory, on an internal tmpfs, alive while any
//! descriptor or mapping holds it. With SCM_RIGHTS and mmap it is how modern programs share
//! memory; seals (F_ADD_SEALS) let the receiver trust that it will not shrink or change.

use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;

use spin::Once;

use super::file::{FileLike, InodeFile, Mapping};
use super::inode::{Inode, Metadata, NewNode, F_SEAL_EXEC, F_SEAL_SEAL, S_IFREG};
use super::tmpfs::TmpFs;
use crate::error::Result;
use crate::mm::io::{VmReader, VmWriter};

/// The internal mount every memfd lives on (Linux's shm mount).
static FS: Once<Arc<TmpFs>> = Once::new();

pub struct MemFd {
    file: Arc<InodeFile>,
    name: String,
}

/// How a new memfd may be sealed and executed.
pub struct Options {
    /// MFD_ALLOW_SEALING: start without F_SEAL_SEAL.
    pub sealing: bool,
    /// MFD_NOEXEC_SEAL: mode 0666 and F_SEAL_EXEC (sealing allowed).
    pub noexec: bool,
}

/// A new memfd named `name` (shown as `/memfd:NAME` in /proc), owned by `uid`/`gid`.
pub fn create(name: String, opts: Options, uid: u32, gid: u32) -> Result<Arc<MemFd>> {
    let fs = FS.call_once(|| TmpFs::new_internal("tmpfs"));
    let (mode, seals) = match (opts.noexec, opts.sealing) {
        (true, _) => (0o666, F_SEAL_EXEC),
        (false, true) => (0o777, 0),
        (false, false) => (0o777, F_SEAL_SEAL),
    };
    let inode = fs.unlinked_file(NewNode { mode: S_IFREG | mode, uid, gid, rdev: 0 }, seals)?;
    Ok(Arc::new(MemFd { file: InodeFile::new(inode), name }))
}

impl FileLike for MemFd {
    fn mmap(&self, shared: bool, write: bool, fd_writable: bool) -> Result<Mapping> {
        self.file.mmap(shared, write, fd_writable)
    }

    fn read(&self, buf: &mut VmWriter, offset: u64, nonblock: bool) -> Result<usize> {
        self.file.read(buf, offset, nonblock)
    }

    fn write(&self, buf: &VmReader, offset: u64, nonblock: bool) -> Result<usize> {
        self.file.write(buf, offset, nonblock)
    }

    fn is_seekable(&self) -> bool {
        true
    }

    fn can_splice_read(&self) -> bool {
        self.file.can_splice_read()
    }

    fn can_splice_write(&self) -> bool {
        self.file.can_splice_write()
    }

    fn metadata(&self) -> Metadata {
        self.file.metadata()
    }

    fn inode(&self) -> Option<Arc<dyn Inode>> {
        self.file.inode()
    }

    fn proc_link(&self) -> Option<String> {
        Some(format!("/memfd:{} (deleted)", self.name))
    }
}
