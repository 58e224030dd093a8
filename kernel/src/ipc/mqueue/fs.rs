//! The mqueue file system: one flat directory of queues (Linux mounts it at /dev/mqueue). Every
//! mount shows the same directory, as Linux's mounts of one IPC namespace share a superblock,
//! and mq_open/mq_unlink work on it directly. A queue is a regular file: `stat` shows its
//! owner and mode, `unlink` is mq_unlink, `open` gives a queue descriptor (so mq_send works
//! on it) and `read` returns the status line.

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::any::Any;
use core::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use spin::Once;

use super::queue::MessageQueue;
use crate::arch::time::realtime_ns;
use crate::error::{Errno, Result};
use crate::event::{IoEvents, Poller};
use crate::fs::file::FileLike;
use crate::fs::inode::*;
use crate::mm::fallible::ensure_room;
use crate::mm::io::{VmReader, VmWriter};
use crate::sync::Mutex;

/// Linux's MQUEUE_MAGIC (statfs f_type).
const MQUEUE_MAGIC: u64 = 0x1980_0202;
/// Linux's FILENT_SIZE: every queue file says it is this long.
const FILENT_SIZE: u64 = 80;
const ROOT_INO: u64 = 1;

/// Queues in existence, open or named (Linux's mq_queues_count: an unlinked queue counts
/// until its last descriptor is closed).
static QUEUES: AtomicUsize = AtomicUsize::new(0);

pub fn queue_count() -> usize {
    QUEUES.load(Ordering::Relaxed)
}

#[derive(Clone, Copy)]
struct Attr {
    mode: u32,
    uid: u32,
    gid: u32,
    nlink: u32,
    atime: i64,
    mtime: i64,
    ctime: i64,
}

impl Attr {
    fn new(mode: u32, uid: u32, gid: u32) -> Attr {
        let now = realtime_ns();
        // The directory has no subdirectories: "." and its entry in the parent.
        let nlink = if mode & S_IFMT == S_IFDIR { 2 } else { 1 };
        Attr { mode, uid, gid, nlink, atime: now, mtime: now, ctime: now }
    }

    fn metadata(&self, ino: u64, size: u64) -> Metadata {
        Metadata {
            dev: fs().dev,
            ino,
            mode: self.mode,
            nlink: self.nlink,
            uid: self.uid,
            gid: self.gid,
            size,
            blksize: 4096,
            atime_ns: self.atime,
            mtime_ns: self.mtime,
            ctime_ns: self.ctime,
            ..Metadata::default()
        }
    }

    fn apply(&mut self, s: &SetAttr) {
        if let Some(m) = s.mode {
            self.mode = (self.mode & S_IFMT) | (m & 0o7777);
        }
        if let Some(u) = s.uid {
            self.uid = u;
        }
        if let Some(g) = s.gid {
            self.gid = g;
        }
        if let Some(t) = s.atime_ns {
            self.atime = t;
        }
        if let Some(t) = s.mtime_ns {
            self.mtime = t;
        }
        self.ctime = realtime_ns();
    }
}

/// A queue with its file attributes. It lives as long as its name or any descriptor.
pub struct QueueNode {
    ino: u64,
    /// (real uid, bytes) charged to RLIMIT_MSGQUEUE until the queue is gone.
    charge: (u32, u64),
    attr: Mutex<Attr>,
    /// The name it was given (kept after mq_unlink), for /proc/<pid>/fd links.
    name: Mutex<String>,
    pub queue: MessageQueue,
}

impl Drop for QueueNode {
    fn drop(&mut self) {
        QUEUES.fetch_sub(1, Ordering::Relaxed);
        super::uncharge(self.charge.0, self.charge.1);
    }
}

impl QueueNode {
    pub fn new(
        queue: MessageQueue,
        mode: u32,
        uid: u32,
        gid: u32,
        charge: (u32, u64),
    ) -> Arc<QueueNode> {
        QUEUES.fetch_add(1, Ordering::Relaxed);
        let ino = fs().next_ino.fetch_add(1, Ordering::Relaxed);
        let attr = Mutex::new(Attr::new(S_IFREG | (mode & 0o7777), uid, gid));
        Arc::new(QueueNode { ino, charge, attr, name: Mutex::new(String::new()), queue })
    }

    pub fn metadata(&self) -> Metadata {
        self.attr.lock().metadata(self.ino, FILENT_SIZE)
    }

    /// Sends and receives change the times, as in Linux.
    pub fn touch(&self) {
        let now = realtime_ns();
        let mut a = self.attr.lock();
        a.atime = now;
        a.mtime = now;
        a.ctime = now;
    }
}

pub struct MqueueFs {
    dev: u64,
    next_ino: AtomicU64,
    root: Arc<RootDir>,
}

static FS: Once<Arc<MqueueFs>> = Once::new();

/// The one queue namespace.
pub fn fs() -> &'static Arc<MqueueFs> {
    FS.call_once(|| {
        Arc::new(MqueueFs {
            dev: crate::fs::mount::new_anonymous_dev(),
            next_ino: AtomicU64::new(ROOT_INO + 1),
            root: Arc::new(RootDir {
                entries: Mutex::new(BTreeMap::new()),
                attr: Mutex::new(Attr::new(S_IFDIR | 0o1777, 0, 0)),
            }),
        })
    })
}

/// What `mount -t mqueue` makes: the same namespace again.
pub fn mount_instance() -> Arc<dyn FileSystem> {
    fs().clone()
}

impl MqueueFs {
    pub fn root_dir(&self) -> &Arc<RootDir> {
        &self.root
    }
}

impl FileSystem for MqueueFs {
    fn dev(&self) -> u64 {
        self.dev
    }
    fn magic(&self) -> u64 {
        MQUEUE_MAGIC
    }
    fn name(&self) -> &'static str {
        "mqueue"
    }
    fn root(&self) -> Arc<dyn Inode> {
        self.root.clone()
    }
    fn has_storage(&self) -> bool {
        false
    }
}

/// A hook the syscall layer installs: may a file be created in the namespace (queues_max,
/// attribute defaults)? Returns the new queue for `create` (open(2) with O_CREAT).
pub type Creator = fn(NewNode) -> Result<Arc<QueueNode>>;
static CREATOR: Once<Creator> = Once::new();

pub fn set_creator(f: Creator) {
    CREATOR.call_once(|| f);
}

pub struct RootDir {
    entries: Mutex<BTreeMap<String, Arc<QueueNode>>>,
    attr: Mutex<Attr>,
}

impl RootDir {
    pub fn get(&self, name: &str) -> Option<Arc<QueueNode>> {
        self.entries.lock().get(name).cloned()
    }

    /// Adds `node` as `name` unless the name is taken (EEXIST).
    pub fn insert(&self, name: &str, node: Arc<QueueNode>) -> Result<()> {
        let mut e = self.entries.lock();
        if e.contains_key(name) {
            return Err(Errno::EEXIST);
        }
        ensure_room(2 * name.len() + 256)?;
        *node.name.lock() = String::from(name);
        e.insert(String::from(name), node);
        drop(e);
        self.changed();
        Ok(())
    }

    /// Removes the name; open descriptors keep the queue.
    pub fn remove(&self, name: &str) -> Result<()> {
        let node = self.entries.lock().remove(name).ok_or(Errno::ENOENT)?;
        let mut a = node.attr.lock();
        a.nlink = 0;
        a.ctime = realtime_ns();
        drop(a);
        self.changed();
        Ok(())
    }

    fn changed(&self) {
        let now = realtime_ns();
        let mut a = self.attr.lock();
        a.mtime = now;
        a.ctime = now;
    }
}

impl Inode for RootDir {
    fn metadata(&self) -> Metadata {
        self.attr.lock().metadata(ROOT_INO, 0)
    }
    fn fs(&self) -> Arc<dyn FileSystem> {
        fs().clone()
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn lookup(&self, name: &str) -> Result<Arc<dyn Inode>> {
        if name == "." || name == ".." {
            return Ok(fs().root.clone());
        }
        let node = self.get(name).ok_or(Errno::ENOENT)?;
        Ok(Arc::new(QueueInode(node)))
    }
    /// open(2) with O_CREAT in the mount: a queue with the default attributes. Nothing else
    /// can be made here (Linux: EPERM, the directory has no mkdir/mknod operation).
    fn create(&self, name: &str, node: NewNode) -> Result<Arc<dyn Inode>> {
        if self.get(name).is_some() {
            return Err(Errno::EEXIST);
        }
        if node.mode & S_IFMT != S_IFREG {
            return Err(Errno::EPERM);
        }
        let make = CREATOR.get().ok_or(Errno::EPERM)?;
        let q = make(node)?;
        self.insert(name, q.clone())?;
        Ok(Arc::new(QueueInode(q)))
    }
    fn symlink(&self, _name: &str, _target: &str, _node: NewNode) -> Result<Arc<dyn Inode>> {
        Err(Errno::EPERM)
    }
    fn link(&self, _name: &str, _target: &Arc<dyn Inode>) -> Result<()> {
        Err(Errno::EPERM)
    }
    fn unlink(&self, name: &str) -> Result<()> {
        self.remove(name)
    }
    fn rmdir(&self, name: &str) -> Result<()> {
        if self.get(name).is_some() {
            Err(Errno::ENOTDIR)
        } else {
            Err(Errno::ENOENT)
        }
    }
    fn rename(&self, _old: &str, _new_dir: &Arc<dyn Inode>, _new: &str, _flags: u32) -> Result<()> {
        Err(Errno::EPERM)
    }
    fn readdir(&self) -> Result<Vec<DirEntry>> {
        let dir = dtype_of(S_IFDIR);
        let mut v = alloc::vec![
            DirEntry { ino: ROOT_INO, name: String::from("."), dtype: dir },
            DirEntry { ino: ROOT_INO, name: String::from(".."), dtype: dir },
        ];
        let entries = self.entries.lock();
        // Root may make any number of queues: the listing is fallible.
        ensure_room(entries.len().saturating_mul(core::mem::size_of::<DirEntry>() + 32))?;
        v.try_reserve(entries.len()).map_err(|_| Errno::ENOMEM)?;
        for (name, node) in entries.iter() {
            v.push(DirEntry { ino: node.ino, name: name.clone(), dtype: dtype_of(S_IFREG) });
        }
        Ok(v)
    }
    /// A queue's position is its inode number, given once in increasing order: queues made
    /// or removed while the directory is read move none of the others.
    fn readdir_from(&self, from: u64, max: usize) -> Result<Vec<(u64, DirEntry)>> {
        let mut v: Vec<(u64, DirEntry)> = Vec::new();
        let all = self.readdir()?;
        v.try_reserve(all.len().min(max)).map_err(|_| Errno::ENOMEM)?;
        for (i, e) in all.into_iter().enumerate() {
            let pos = if i < 2 { i as u64 } else { e.ino };
            if pos >= from {
                v.push((pos, e));
            }
        }
        v.sort_unstable_by_key(|(pos, _)| *pos);
        v.truncate(max);
        Ok(v)
    }
    fn set_attr(&self, attr: &SetAttr) -> Result<()> {
        self.attr.lock().apply(attr);
        Ok(())
    }
}

/// A queue seen as a file of the mount.
pub struct QueueInode(pub Arc<QueueNode>);

impl Inode for QueueInode {
    fn metadata(&self) -> Metadata {
        self.0.metadata()
    }
    fn fs(&self) -> Arc<dyn FileSystem> {
        fs().clone()
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<usize> {
        Ok(read_status(&self.0, offset, buf))
    }
    fn set_attr(&self, attr: &SetAttr) -> Result<()> {
        self.0.attr.lock().apply(attr);
        Ok(())
    }
    /// open(O_TRUNC) of a queue succeeds, as on Linux (where it only zeroes st_size); the
    /// queue is untouched and the size stays 80.
    fn truncate(&self, _size: u64) -> Result<()> {
        Ok(())
    }
    fn open(&self, _flags: u32) -> Result<Option<Arc<dyn FileLike>>> {
        Ok(Some(Arc::new(QueueFile { node: self.0.clone() })))
    }
}

/// The status line from `offset` (Linux's simple_read_from_buffer).
fn read_status(node: &QueueNode, offset: u64, buf: &mut [u8]) -> usize {
    let line = node.queue.status_line();
    let bytes = line.as_bytes();
    let start = (offset.min(bytes.len() as u64)) as usize;
    let n = (bytes.len() - start).min(buf.len());
    buf[..n].copy_from_slice(&bytes[start..start + n]);
    if n > 0 {
        let now = realtime_ns();
        let mut a = node.attr.lock();
        a.atime = now;
        a.ctime = now;
    }
    n
}

/// An open queue: what mq_open returns (and open(2) of a queue file).
pub struct QueueFile {
    node: Arc<QueueNode>,
}

impl QueueFile {
    pub fn new(node: Arc<QueueNode>) -> Arc<QueueFile> {
        Arc::new(QueueFile { node })
    }

    /// The queue this descriptor opens.
    pub fn node(&self) -> &Arc<QueueNode> {
        &self.node
    }
}

impl FileLike for QueueFile {
    fn read(&self, buf: &mut VmWriter, offset: u64, _nonblock: bool) -> Result<usize> {
        let mut tmp = [0u8; FILENT_SIZE as usize];
        let want = buf.len().min(tmp.len());
        let n = read_status(&self.node, offset, &mut tmp[..want]);
        buf.write(&tmp[..n])?;
        Ok(n)
    }

    /// Queue files have no write operation: Linux's vfs_write answers EINVAL.
    fn write(&self, _buf: &VmReader, _offset: u64, _nonblock: bool) -> Result<usize> {
        Err(Errno::EINVAL)
    }

    fn is_seekable(&self) -> bool {
        true
    }

    fn metadata(&self) -> Metadata {
        self.node.metadata()
    }

    fn inode(&self) -> Option<Arc<dyn Inode>> {
        Some(Arc::new(QueueInode(self.node.clone())))
    }

    fn poll(&self, mask: IoEvents, poller: Option<&Poller>) -> IoEvents {
        self.node.queue.poll(mask, poller)
    }

    fn is_pollable(&self) -> bool {
        true
    }

    fn as_any(&self) -> Option<&dyn Any> {
        Some(self)
    }

    /// Linux: "/NAME", and "/NAME (deleted)" once unlinked.
    fn proc_link(&self) -> Option<String> {
        let deleted = if self.node.attr.lock().nlink == 0 { " (deleted)" } else { "" };
        Some(format!("/{}{}", self.node.name.lock().as_str(), deleted))
    }

    /// Linux's mqueue_flush_file: any close by the registered process ends its registration.
    fn closed_by(&self, pid: u32) {
        self.node.queue.unregister(pid);
    }
}
