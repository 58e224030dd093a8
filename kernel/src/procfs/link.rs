//! A symbolic link whose target is computed when it is read (self, exe, cwd, fd/<n>, mounts).

use alloc::string::String;
use alloc::sync::Arc;
use core::any::Any;

use super::{metadata, Owner, ProcFs};
use crate::error::Result;
use crate::fs::inode::{FileSystem, Inode, Metadata, S_IFLNK};
use crate::fs::path::Walk;

pub type Target = Arc<dyn Fn() -> Result<String> + Send + Sync>;
/// Where a magic link leads (see `Inode::magic_link`).
pub type Magic = Arc<dyn Fn() -> Option<Walk> + Send + Sync>;

pub struct Link {
    fs: Arc<ProcFs>,
    ino: u64,
    perm: u32,
    owner: Owner,
    /// Linux reports 64 for fd links and 0 for the others.
    size: u64,
    target: Target,
    magic: Option<Magic>,
}

impl Link {
    /// A link to `target`'s text (self, exe, cwd, mounts): mode 0777 and size 0, as Linux's.
    pub fn new(fs: Arc<ProcFs>, ino: u64, owner: Owner, target: Target) -> Arc<Link> {
        Arc::new(Link { fs, ino, perm: 0o777, owner, size: 0, target, magic: None })
    }

    /// An fd/<n> link: `perm` from the descriptor's access mode and size 64, as Linux's; it
    /// leads to `magic`'s walk when followed, `target` is only what readlink says.
    pub fn fd(
        fs: Arc<ProcFs>,
        ino: u64,
        perm: u32,
        owner: Owner,
        target: Target,
        magic: Magic,
    ) -> Arc<Link> {
        Arc::new(Link { fs, ino, perm, owner, size: 64, target, magic: Some(magic) })
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

    fn magic_link(&self) -> Option<Walk> {
        self.magic.as_ref().and_then(|m| m())
    }
}
