//! Anonymous inodes: what fstat shows for epoll, eventfd and signalfd descriptors (Linux's
//! anon_inodefs: one shared inode, mode 0600, no file type bits).

use super::inode::Metadata;

static ANON_DEV: spin::Once<u64> = spin::Once::new();

/// The metadata of an anonymous-inode file named `_name` (e.g. "[eventpoll]").
pub fn metadata(_name: &'static str) -> Metadata {
    let dev = *ANON_DEV.call_once(super::mount::new_anonymous_dev);
    Metadata { dev, ino: 1, mode: 0o600, nlink: 1, blksize: 4096, ..Metadata::default() }
}
