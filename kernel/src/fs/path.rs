//! Path walk over the VFS. The rules (absolute and relative paths, `.` and `..`, symlinks with
//! Linux's limit of 40 expansions, trailing slashes, search permission, length limits) are
//! `crates/path-walk`, unit-tested on the host; here inodes become its nodes: mount points
//! through `mount::mounted_on`, search permission through the check `process` installs.

use alloc::string::String;
use alloc::sync::Arc;

use path_walk::WalkError;

use super::inode::{Inode, S_IFLNK};
use super::mount;
use crate::error::{Errno, Result};

/// May the caller search (traverse) a directory? Installed by `process` (credentials live there).
static SEARCH_CHECK: spin::Once<fn(&super::inode::Metadata) -> bool> = spin::Once::new();

pub fn set_search_check(f: fn(&super::inode::Metadata) -> bool) {
    SEARCH_CHECK.call_once(|| f);
}

/// The caller's root directory (chroot), if not the file system's. Installed by `process`.
static ROOT_LOOKUP: spin::Once<fn() -> Option<Walk>> = spin::Once::new();

pub fn set_root_lookup(f: fn() -> Option<Walk>) {
    ROOT_LOOKUP.call_once(|| f);
}

/// Where absolute paths and `..` stop for the caller: its chroot, or the root.
pub fn caller_root() -> Walk {
    ROOT_LOOKUP.get().and_then(|f| f()).unwrap_or_else(Walk::root)
}

pub use path_walk::PATH_MAX;

impl From<WalkError> for Errno {
    fn from(e: WalkError) -> Errno {
        match e {
            WalkError::NotFound => Errno::ENOENT,
            WalkError::NotDir => Errno::ENOTDIR,
            WalkError::Access => Errno::EACCES,
            WalkError::NameTooLong => Errno::ENAMETOOLONG,
            WalkError::Loop => Errno::ELOOP,
            WalkError::NoMemory => Errno::ENOMEM,
        }
    }
}

/// An inode as the path walk sees it.
#[derive(Clone)]
pub struct VfsNode(Arc<dyn Inode>);

impl path_walk::Node for VfsNode {
    type Error = Errno;

    fn is_dir(&self) -> bool {
        self.0.metadata().is_dir()
    }

    fn is_symlink(&self) -> bool {
        self.0.metadata().file_type() == S_IFLNK
    }

    fn may_search(&self) -> bool {
        SEARCH_CHECK.get().is_none_or(|f| f(&self.0.metadata()))
    }

    fn lookup(&self, name: &str) -> Result<VfsNode> {
        self.0.lookup(name).map(VfsNode)
    }

    fn readlink(&self) -> Result<String> {
        self.0.readlink()
    }

    fn mounted(self) -> VfsNode {
        match mount::mounted_on(&self.0) {
            Some(root) => VfsNode(root),
            None => self,
        }
    }

    fn magic(&self) -> Option<path_walk::Walk<VfsNode>> {
        self.0.magic_link().map(|w| w.0)
    }
}

/// Where a path walk stands, with the names and inodes from the root (see `path_walk`).
#[derive(Clone)]
pub struct Walk(path_walk::Walk<VfsNode>);

impl Walk {
    pub fn root() -> Walk {
        Walk(path_walk::Walk::at_root(VfsNode(super::root())))
    }

    pub fn inode(&self) -> &Arc<dyn Inode> {
        &self.0.node().0
    }

    /// The absolute path of where this walk stands.
    pub fn path(&self) -> String {
        self.0.path()
    }

    /// The last component's name ("/" for the root).
    pub fn name(&self) -> &str {
        self.0.name()
    }

    /// The walk of the parent directory.
    pub fn parent(&self) -> Walk {
        Walk(self.0.parent())
    }

    /// A walk that starts here as `/` (a chroot's root: paths below it are named from it).
    pub fn as_root(&self) -> Walk {
        Walk(path_walk::Walk::at_root(self.0.node().clone()))
    }

    /// This walk one step further, onto `inode` named `name` (what a magic link leads to).
    pub fn child(&self, name: &str, inode: Arc<dyn Inode>) -> Walk {
        Walk(self.0.child(name, VfsNode(inode)))
    }
}

/// Resolves `path` starting at `start` (for relative paths).
pub fn resolve(start: &Walk, path: &str, follow_last: bool) -> Result<Walk> {
    path_walk::resolve(&caller_root().0, &start.0, path, follow_last).map(Walk)
}

/// Resolves all but the last component: the parent directory and the final name.
/// A trailing slash is kept in mind by the caller via `ends_with('/')`.
pub fn resolve_parent(start: &Walk, path: &str) -> Result<(Walk, String)> {
    path_walk::resolve_parent(&caller_root().0, &start.0, path).map(|(w, name)| (Walk(w), name))
}
