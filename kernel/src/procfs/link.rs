//! A symbolic link whose target is computed when it is read (self, exe, cwd, fd/<n>, mounts).

use alloc::string::String;
use alloc::sync::Arc;
use core::any::Any;

use super::{metadata, Owner, ProcFs};
use crate::error::Result;
use crate::fs::inode::{FileSystem, Inode, Metadata, S_IFLNK};

pub type Target = Arc<dyn Fn() -> Result<String> + Send + Sync>;

pub struct Link {
    fs: Arc<ProcFs>,
    ino: u64,
    perm: u32,
    owner: Owner,
    /// Linux reports 64 for fd links and 0 for the others.
    size: u64,
    target: Target,
}

impl Link {
    pub fn new(fs: Arc<ProcFs>, ino: u64, perm: u32, owner: Owner, size: u64, target: Target) -> Arc<Link> {
        Arc::new(Link { fs, ino, perm, owner, size, target })
    }
}

impl Inode for Link {
    fn metadata(&self) -> Metadata {
        metadata(&self.fs, self.ino, S_IFLNK | self.perm, 1, self.owner, self.size)
    }

    fn fs(&self) -> Arc<dyn FileSystem> {
        self.fs.clone()
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn readlink(&self) -> Result<String> {
        (self.target)()
    }
}
