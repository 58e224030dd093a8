//! Everything that is a file: the VFS (inodes, mounts, path walk, open files, descriptor tables),
//! tmpfs, devtmpfs and its devices, the initramfs, and the terminals (console, pseudo-terminals).

pub mod anon;
pub mod devfs;
pub mod epoll;
pub mod eventfd;
pub mod fd_table;
pub mod file;
pub mod initramfs;
pub mod inode;
pub mod inotify;
pub mod kmem;
pub mod lock;
pub mod memfd;
pub mod mount;
pub mod notify;
pub mod path;
pub mod pipe;
pub mod poll;
pub mod socket;
pub mod splice;
pub mod timerfd;
pub mod tmpfs;
pub mod tty;

use alloc::sync::Arc;
use spin::Once;

use inode::{FileSystem, Inode, NewNode, S_IFDIR};
use path::Walk;
use tmpfs::TmpFs;

static ROOT: Once<Arc<dyn FileSystem>> = Once::new();

/// The root directory.
pub fn root() -> Arc<dyn Inode> {
    ROOT.call_once(|| TmpFs::new("rootfs", 0o755) as Arc<dyn FileSystem>).root()
}

/// The root file system and the file system types of `mount -t`.
pub fn init() {
    root();
    mount::register_fs_type("tmpfs", || TmpFs::new("tmpfs", 0o1777));
    mount::register_fs_type("devtmpfs", devfs::new_devtmpfs);
    mount::register_fs_type("devpts", tty::devpts::new_devpts);
}

/// Mounts a new `fs_type` at `path` (creating the directory), as boot does for /dev, /tmp, ...
pub fn mount_at_boot(path: &str, fs_type: &str) {
    let result = (|| {
        let (parent, name) = path::resolve_parent(&Walk::root(), path)?;
        let dir = match parent.inode().lookup(&name) {
            Ok(d) => d,
            Err(_) => parent
                .inode()
                .create(&name, NewNode { mode: S_IFDIR | 0o755, uid: 0, gid: 0, rdev: 0 })?,
        };
        mount::mount(&dir, path, fs_type, mount::new_fs(fs_type)?)
    })();
    if let Err(e) = result {
        crate::log!("mount {} on {}: {:?}", fs_type, path, e);
    }
}
