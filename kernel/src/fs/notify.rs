//! File system events (Linux's fsnotify): what file systems and the VFS report when a name is
//! made, removed or moved, a file opened, modified, closed or its attributes changed. A file
//! system calls the functions here and knows nothing of who listens; a listener (inotify)
//! implements `Watcher` and adds a `Watch` on an inode. With no watch anywhere every report is
//! one atomic load.

use alloc::collections::BTreeMap;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU32, AtomicUsize, Ordering};

use super::inode::Inode;
use super::path::Walk;
use crate::error::{Errno, Result};
use crate::sync::Mutex;

pub const IN_ACCESS: u32 = 0x1;
pub const IN_MODIFY: u32 = 0x2;
pub const IN_ATTRIB: u32 = 0x4;
pub const IN_CLOSE_WRITE: u32 = 0x8;
pub const IN_CLOSE_NOWRITE: u32 = 0x10;
pub const IN_OPEN: u32 = 0x20;
pub const IN_MOVED_FROM: u32 = 0x40;
pub const IN_MOVED_TO: u32 = 0x80;
pub const IN_CREATE: u32 = 0x100;
pub const IN_DELETE: u32 = 0x200;
pub const IN_DELETE_SELF: u32 = 0x400;
pub const IN_MOVE_SELF: u32 = 0x800;
pub const IN_ISDIR: u32 = 0x4000_0000;
/// Every event a watch may ask for.
pub const IN_ALL_EVENTS: u32 = 0xfff;

/// Who hears of events on watched inodes.
pub trait Watcher: Send + Sync {
    /// An event for `watch`: `name` is the entry's name for an event in a watched directory.
    fn event(&self, watch: &Arc<Watch>, mask: u32, cookie: u32, name: Option<&str>);
    /// `watch` was removed by the file system (its inode was deleted): IN_IGNORED.
    fn ignored(&self, watch: &Arc<Watch>);
}

/// An inode's identity: (st_dev, st_ino).
pub type InodeKey = (u64, u64);

pub fn key_of(inode: &dyn Inode) -> InodeKey {
    let m = inode.metadata();
    (m.dev, m.ino)
}

/// One watch on one inode.
pub struct Watch {
    pub key: InodeKey,
    pub wd: i32,
    /// The events it asks for (IN_ALL_EVENTS bits and IN_ONESHOT, ...), changed by
    /// inotify_add_watch on the same inode.
    pub mask: AtomicU32,
    pub owner: Weak<dyn Watcher>,
}

static WATCHES: Mutex<BTreeMap<InodeKey, Vec<Arc<Watch>>>> = Mutex::new(BTreeMap::new());
static WATCH_COUNT: AtomicUsize = AtomicUsize::new(0);
static NEXT_COOKIE: AtomicU32 = AtomicU32::new(1);

/// Starts delivering events on `watch.key` to its owner (ENOMEM when memory is short).
pub fn add(watch: Arc<Watch>) -> Result<()> {
    super::kmem::reserve(core::mem::size_of::<Watch>() + 64)?;
    let mut all = WATCHES.lock();
    let list = all.entry(watch.key).or_default();
    list.try_reserve(1).map_err(|_| Errno::ENOMEM)?;
    list.push(watch);
    WATCH_COUNT.fetch_add(1, Ordering::Relaxed);
    Ok(())
}

/// Stops it (inotify_rm_watch, a one-shot that fired, the instance closed).
pub fn remove(watch: &Arc<Watch>) {
    let mut all = WATCHES.lock();
    if let Some(list) = all.get_mut(&watch.key) {
        let before = list.len();
        list.retain(|w| !Arc::ptr_eq(w, watch));
        WATCH_COUNT.fetch_sub(before - list.len(), Ordering::Relaxed);
        if list.is_empty() {
            all.remove(&watch.key);
        }
    }
}

fn watched() -> bool {
    WATCH_COUNT.load(Ordering::Relaxed) != 0
}

/// Delivers `mask` to the watches of `key` that ask for it. The registry's lock is released
/// before the watchers run: they take their own.
fn deliver(key: InodeKey, mask: u32, cookie: u32, name: Option<&str>) {
    let targets: Vec<Arc<Watch>> = match WATCHES.lock().get(&key) {
        Some(list) => list
            .iter()
            .filter(|w| w.mask.load(Ordering::Relaxed) & mask & IN_ALL_EVENTS != 0)
            .cloned()
            .collect(),
        None => return,
    };
    for w in targets {
        if let Some(owner) = w.owner.upgrade() {
            owner.event(&w, mask, cookie, name);
        }
    }
}

fn isdir(inode: &dyn Inode) -> u32 {
    if inode.metadata().is_dir() {
        IN_ISDIR
    } else {
        0
    }
}

/// A cookie tying an IN_MOVED_FROM to its IN_MOVED_TO.
pub fn new_cookie() -> u32 {
    NEXT_COOKIE.fetch_add(1, Ordering::Relaxed)
}

/// An event about entry `name` of directory `dir` (IN_CREATE, IN_DELETE, IN_MOVED_*), `child`
/// being what the entry names (for IN_ISDIR).
pub fn entry_event(dir: &dyn Inode, child: &dyn Inode, mask: u32, name: &str, cookie: u32) {
    if watched() {
        deliver(key_of(dir), mask | isdir(child), cookie, Some(name));
    }
}

/// An event about `inode` itself (IN_MOVE_SELF, IN_ATTRIB, IN_MODIFY without a path).
pub fn inode_event(inode: &dyn Inode, mask: u32) {
    if watched() {
        deliver(key_of(inode), mask | isdir(inode), 0, None);
    }
}

/// `inode` is gone (its last link removed): IN_DELETE_SELF to its watches that ask, then
/// every watch on it ends with IN_IGNORED.
pub fn deleted(inode: &dyn Inode) {
    if !watched() {
        return;
    }
    let key = key_of(inode);
    deliver(key, IN_DELETE_SELF, 0, None);
    let gone = WATCHES.lock().remove(&key).unwrap_or_default();
    WATCH_COUNT.fetch_sub(gone.len(), Ordering::Relaxed);
    for w in gone {
        if let Some(owner) = w.owner.upgrade() {
            owner.ignored(&w);
        }
    }
}

/// An event about the file a path names (IN_OPEN, IN_MODIFY, IN_CLOSE_*, IN_ACCESS): to its
/// own watches and, with its name, to its directory's.
pub fn path_event(walk: &Walk, mask: u32) {
    if !watched() {
        return;
    }
    let inode = walk.inode();
    let mask = mask | isdir(inode.as_ref());
    deliver(key_of(inode.as_ref()), mask, 0, None);
    let parent = walk.parent();
    if !Arc::ptr_eq(parent.inode(), inode) {
        deliver(key_of(parent.inode().as_ref()), mask, 0, Some(walk.name()));
    }
}
