//! tmpfs: the in-memory file system of the root, /tmp, /dev and /dev/shm. File contents live in
//! page frames, so mmap can map them directly (MAP_SHARED) or copy them (MAP_PRIVATE).

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::any::Any;
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use spin::Once;

use super::file::FileLike;
use super::inode::*;
use super::notify;
use crate::arch::time::realtime_ns;
use crate::error::{Errno, Result};
use crate::mm::frame::{self, Frame, PAGE_SIZE};
use crate::sync::Mutex;

pub const TMPFS_MAGIC: u64 = 0x0102_1994;
/// Largest file tmpfs accepts (Linux's MAX_LFS_FILESIZE).
const MAX_FILE_SIZE: u64 = i64::MAX as u64;

pub struct TmpFs {
    dev: u64,
    name: &'static str,
    next_ino: AtomicU64,
    root: Once<Arc<TmpfsInode>>,
    this: Weak<TmpFs>,
    usage: Arc<Usage>,
}

/// What an instance may hold (`size=` in pages, `nr_inodes=`; 0 is no limit, as in Linux) and
/// what it holds. Files and inodes keep a reference so that they give back what they used even
/// after the file system is unmounted.
struct Usage {
    max_pages: AtomicU64,
    pages: AtomicU64,
    max_inodes: AtomicU64,
    inodes: AtomicU64,
}

impl Usage {
    /// Takes one unit of `used` below `max` (0: unlimited); false when full.
    fn charge(used: &AtomicU64, max: &AtomicU64) -> bool {
        used.fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
            let max = max.load(Ordering::Acquire);
            (max == 0 || n < max).then_some(n + 1)
        })
        .is_ok()
    }

    fn charge_page(&self) -> bool {
        Self::charge(&self.pages, &self.max_pages)
    }

    fn uncharge_pages(&self, n: u64) {
        self.pages.fetch_sub(n, Ordering::AcqRel);
    }
}

/// Linux's defaults: half of RAM, and as many inodes as half of RAM has pages.
fn default_limit() -> u64 {
    frame::total_frames() as u64 / 2
}

/// A size as Linux's memparse reads it: digits, then an optional k, m, g, t, p or e.
fn parse_size(text: &str) -> Option<u64> {
    let digits = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let n: u64 = text[..digits].parse().ok()?;
    let shift = match text[digits..].to_ascii_lowercase().as_str() {
        "" => 0,
        "k" => 10,
        "m" => 20,
        "g" => 30,
        "t" => 40,
        "p" => 50,
        "e" => 60,
        _ => return None,
    };
    n.checked_mul(1u64 << shift)
}

/// The mount options tmpfs knows; Linux refuses any other with EINVAL.
#[derive(Default)]
struct Options {
    pages: Option<u64>,
    inodes: Option<u64>,
    mode: Option<u32>,
    uid: Option<u32>,
    gid: Option<u32>,
}

impl Options {
    fn parse(text: &str) -> Result<Options> {
        let mut o = Options::default();
        for opt in text.split(',').filter(|o| !o.is_empty()) {
            let (key, value) = opt.split_once('=').unwrap_or((opt, ""));
            match key {
                "size" => {
                    let bytes = match value.strip_suffix('%') {
                        Some(pct) => {
                            let pct: u64 = pct.parse().map_err(|_| Errno::EINVAL)?;
                            (frame::total_frames() as u64 * PAGE_SIZE)
                                .checked_mul(pct)
                                .ok_or(Errno::EINVAL)?
                                / 100
                        }
                        None => parse_size(value).ok_or(Errno::EINVAL)?,
                    };
                    o.pages = Some(bytes.div_ceil(PAGE_SIZE));
                }
                "nr_blocks" => o.pages = Some(parse_size(value).ok_or(Errno::EINVAL)?),
                "nr_inodes" => o.inodes = Some(parse_size(value).ok_or(Errno::EINVAL)?),
                "mode" => {
                    o.mode =
                        Some(u32::from_str_radix(value, 8).map_err(|_| Errno::EINVAL)? & 0o7777)
                }
                "uid" => o.uid = Some(value.parse().map_err(|_| Errno::EINVAL)?),
                "gid" => o.gid = Some(value.parse().map_err(|_| Errno::EINVAL)?),
                _ => return Err(Errno::EINVAL),
            }
        }
        Ok(o)
    }
}

impl TmpFs {
    /// A new, empty instance (`name` is what /proc/mounts shows: "tmpfs", "devtmpfs") whose
    /// root has permissions `root_mode`, with Linux's default limits.
    pub fn new(name: &'static str, root_mode: u32) -> Arc<TmpFs> {
        Self::with_limits(name, root_mode, default_limit(), default_limit())
    }

    /// An instance without limits, as Linux's internal one behind memfd_create.
    pub fn new_internal(name: &'static str) -> Arc<TmpFs> {
        Self::with_limits(name, 0o1777, 0, 0)
    }

    fn with_limits(name: &'static str, root_mode: u32, pages: u64, inodes: u64) -> Arc<TmpFs> {
        let fs = Arc::new_cyclic(|this| TmpFs {
            dev: super::mount::new_anonymous_dev(),
            name,
            next_ino: AtomicU64::new(1),
            root: Once::new(),
            this: this.clone(),
            usage: Arc::new(Usage {
                max_pages: AtomicU64::new(pages),
                pages: AtomicU64::new(0),
                max_inodes: AtomicU64::new(inodes),
                inodes: AtomicU64::new(1),
            }),
        });
        let root = fs.make_inode(
            NewNode { mode: S_IFDIR | root_mode, uid: 0, gid: 0, rdev: 0 },
            Kind::new_dir(),
        );
        fs.root.call_once(|| root);
        fs
    }

    /// A regular file in no directory (memfd_create): nlink 0, with `seals`.
    pub fn unlinked_file(&self, node: NewNode, seals: u32) -> Result<Arc<TmpfsInode>> {
        let file = self.new_inode(node, Kind::File(Mutex::new(FileData::new(&self.usage))))?;
        file.attr.lock().nlink = 0;
        file.seals.store(seals, Ordering::Release);
        Ok(file)
    }

    pub fn root_dir(&self) -> Arc<TmpfsInode> {
        self.root.get().expect("tmpfs root").clone()
    }

    /// A new inode counted against `nr_inodes` (ENOSPC when all are used, as in Linux) and
    /// against the kernel heap (ENOMEM).
    fn new_inode(&self, node: NewNode, kind: Kind) -> Result<Arc<TmpfsInode>> {
        super::kmem::reserve(core::mem::size_of::<TmpfsInode>() + 64)?;
        if !Usage::charge(&self.usage.inodes, &self.usage.max_inodes) {
            return Err(Errno::ENOSPC);
        }
        Ok(self.make_inode(node, kind))
    }

    /// The inode itself; its inode count is already taken.
    fn make_inode(&self, node: NewNode, kind: Kind) -> Arc<TmpfsInode> {
        let now = realtime_ns();
        Arc::new_cyclic(|this| TmpfsInode {
            ino: self.next_ino.fetch_add(1, Ordering::Relaxed),
            fs: self.this.clone(),
            this: this.clone(),
            usage: self.usage.clone(),
            attr: Mutex::new(Attr {
                mode: node.mode,
                uid: node.uid,
                gid: node.gid,
                nlink: if node.mode & S_IFMT == S_IFDIR { 2 } else { 1 },
                rdev: node.rdev,
                atime: now,
                mtime: now,
                ctime: now,
            }),
            kind,
            extension: Once::new(),
            seals: AtomicU32::new(F_SEAL_SEAL),
            writable_maps: Arc::new(()),
        })
    }
}

impl FileSystem for TmpFs {
    fn dev(&self) -> u64 {
        self.dev
    }
    fn magic(&self) -> u64 {
        TMPFS_MAGIC
    }
    fn name(&self) -> &'static str {
        self.name
    }
    fn root(&self) -> Arc<dyn Inode> {
        self.root_dir()
    }

    fn storage(&self) -> Option<Storage> {
        let u = &self.usage;
        let (max_pages, pages) =
            (u.max_pages.load(Ordering::Acquire), u.pages.load(Ordering::Acquire));
        let (max_inodes, inodes) =
            (u.max_inodes.load(Ordering::Acquire), u.inodes.load(Ordering::Acquire));
        // Linux reports zeros for what has no limit.
        Some(Storage {
            blocks: max_pages,
            free_blocks: max_pages.saturating_sub(pages),
            files: max_inodes,
            free_files: max_inodes.saturating_sub(inodes),
        })
    }

    /// Linux's shmem_parse_options and shmem_reconfigure: a remount may not set a limit where
    /// there was none, nor one below what is in use (EINVAL); mode, uid and gid count only at
    /// mount time.
    fn configure(&self, options: &str, remount: bool) -> Result<()> {
        let o = Options::parse(options)?;
        let u = &self.usage;
        if remount {
            for (want, max, used) in
                [(o.pages, &u.max_pages, &u.pages), (o.inodes, &u.max_inodes, &u.inodes)]
            {
                if let Some(n) = want.filter(|&n| n != 0) {
                    if max.load(Ordering::Acquire) == 0 || n < used.load(Ordering::Acquire) {
                        return Err(Errno::EINVAL);
                    }
                }
            }
        } else {
            let root = self.root_dir();
            let mut a = root.attr.lock();
            a.mode = S_IFDIR | o.mode.unwrap_or(a.mode & 0o7777);
            a.uid = o.uid.unwrap_or(a.uid);
            a.gid = o.gid.unwrap_or(a.gid);
        }
        if let Some(n) = o.pages {
            u.max_pages.store(n, Ordering::Release);
        }
        if let Some(n) = o.inodes {
            u.max_inodes.store(n, Ordering::Release);
        }
        Ok(())
    }
}

struct Attr {
    mode: u32,
    uid: u32,
    gid: u32,
    nlink: u32,
    rdev: u64,
    atime: i64,
    mtime: i64,
    ctime: i64,
}

/// The pages of a regular file; `None` pages are holes and read as zeros.
struct FileData {
    /// Page index → frame. Sparse, as a file may have a hole of any size before its data
    /// (a write at offset 2^40 makes one page, not a table of 2^28).
    pages: BTreeMap<u64, Frame>,
    size: u64,
    /// The file system's account of pages in use.
    usage: Arc<Usage>,
}

impl FileData {
    fn new(usage: &Arc<Usage>) -> FileData {
        FileData { pages: BTreeMap::new(), size: 0, usage: usage.clone() }
    }

    fn release_from(&mut self, first_page: u64) {
        let released = self.pages.split_off(&first_page);
        self.usage.uncharge_pages(released.len() as u64);
        // Dropping the frames puts their references.
        drop(released);
    }

    /// The frame of page `index`, allocated (zeroed) if it is a hole: ENOSPC when the file
    /// system is full (its `size=`), ENOMEM when memory is out, as Linux's shmem says.
    fn page_or_alloc(&mut self, index: u64) -> Result<&Frame> {
        if !self.pages.contains_key(&index) {
            super::kmem::reserve(64)?;
            if !self.usage.charge_page() {
                return Err(Errno::ENOSPC);
            }
            let Some(frame) = Frame::alloc_zeroed() else {
                self.usage.uncharge_pages(1);
                return Err(Errno::ENOMEM);
            };
            self.pages.insert(index, frame);
        }
        self.pages.get(&index).ok_or(Errno::ENOMEM)
    }
}

impl Drop for FileData {
    fn drop(&mut self) {
        self.release_from(0);
    }
}

struct Dir {
    entries: Mutex<Entries>,
    parent: Mutex<Weak<TmpfsInode>>,
}

/// Position of the first named entry: "." is 0, ".." is 1.
const FIRST_ENTRY_POS: u64 = 2;

/// A directory's entries by name, each with the position it got when it was added (Linux's
/// simple_offset cookie: one more than the last one given in this directory). getdents64 reads
/// in position order and resumes at a position, so entries removed or added while a directory
/// is read neither make it skip nor repeat the others; an entry renamed into place gets a new
/// position (it may be seen again, as on Linux), an exchanged one keeps its own.
struct Entries {
    by_name: BTreeMap<String, (u64, Arc<TmpfsInode>)>,
    by_pos: BTreeMap<u64, String>,
    next_pos: u64,
}

impl Entries {
    const fn new() -> Entries {
        Entries { by_name: BTreeMap::new(), by_pos: BTreeMap::new(), next_pos: FIRST_ENTRY_POS }
    }

    fn get(&self, name: &str) -> Option<&Arc<TmpfsInode>> {
        self.by_name.get(name).map(|(_, i)| i)
    }

    fn contains_key(&self, name: &str) -> bool {
        self.by_name.contains_key(name)
    }

    fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }

    fn len(&self) -> usize {
        self.by_name.len()
    }

    /// Adds `name` at a new position (replacing an entry of that name: what it returns).
    fn insert(&mut self, name: String, child: Arc<TmpfsInode>) -> Option<Arc<TmpfsInode>> {
        let old = self.remove(&name);
        let pos = self.next_pos;
        // 2^63 entries made in one directory is out of reach; d_off stays a positive loff_t.
        self.next_pos += 1;
        self.by_pos.insert(pos, name.clone());
        self.by_name.insert(name, (pos, child));
        old
    }

    /// Puts `child` under `name` at the position `name` has (RENAME_EXCHANGE).
    fn replace(&mut self, name: &str, child: Arc<TmpfsInode>) {
        if let Some(slot) = self.by_name.get_mut(name) {
            slot.1 = child;
        }
    }

    fn remove(&mut self, name: &str) -> Option<Arc<TmpfsInode>> {
        let (pos, child) = self.by_name.remove(name)?;
        self.by_pos.remove(&pos);
        Some(child)
    }

    /// The entries at positions `from` and beyond, in position order.
    fn from(&self, from: u64) -> impl Iterator<Item = (u64, &str, &Arc<TmpfsInode>)> {
        self.by_pos.range(from..).filter_map(|(&pos, name)| {
            self.by_name.get_key_value(name.as_str()).map(|(n, (_, i))| (pos, n.as_str(), i))
        })
    }
}

enum Kind {
    Dir(Dir),
    File(Mutex<FileData>),
    Symlink(String),
    /// Device nodes, FIFOs and sockets: their behaviour comes from elsewhere.
    Special,
}

impl Kind {
    fn new_dir() -> Kind {
        Kind::Dir(Dir { entries: Mutex::new(Entries::new()), parent: Mutex::new(Weak::new()) })
    }
}

pub struct TmpfsInode {
    ino: u64,
    fs: Weak<TmpFs>,
    this: Weak<TmpfsInode>,
    /// Gets this inode back when it goes.
    usage: Arc<Usage>,
    attr: Mutex<Attr>,
    kind: Kind,
    /// What a FIFO or a bound socket attaches to its inode.
    extension: Once<Arc<dyn Any + Send + Sync>>,
    /// F_SEAL_* bits. A file starts with F_SEAL_SEAL (no sealing), as Linux's shmem files do;
    /// only memfd_create(MFD_ALLOW_SEALING) makes one that can be sealed.
    seals: AtomicU32,
    /// Cloned into every writable MAP_SHARED mapping (see `Inode::writable_mapping`).
    writable_maps: Arc<()>,
}

impl Drop for TmpfsInode {
    fn drop(&mut self) {
        self.usage.inodes.fetch_sub(1, Ordering::AcqRel);
    }
}

fn downcast(inode: &Arc<dyn Inode>) -> Option<&TmpfsInode> {
    inode.as_any().downcast_ref::<TmpfsInode>()
}

impl TmpfsInode {
    fn tmpfs(&self) -> Arc<TmpFs> {
        self.fs.upgrade().expect("tmpfs outlives its inodes")
    }

    fn me(&self) -> Arc<TmpfsInode> {
        self.this.upgrade().expect("inode alive")
    }

    fn dir(&self) -> Result<&Dir> {
        match &self.kind {
            Kind::Dir(d) => Ok(d),
            _ => Err(Errno::ENOTDIR),
        }
    }

    fn is_dir(&self) -> bool {
        matches!(self.kind, Kind::Dir(_))
    }

    fn touch_mtime(&self) {
        let now = realtime_ns();
        let mut a = self.attr.lock();
        a.mtime = now;
        a.ctime = now;
    }

    fn add_nlink(&self, delta: i32) {
        let mut a = self.attr.lock();
        a.nlink = (a.nlink as i32 + delta).max(0) as u32;
        a.ctime = realtime_ns();
    }

    /// The object a FIFO or socket keeps with its inode, created on first use.
    pub fn extension(
        &self,
        make: impl FnOnce() -> Arc<dyn Any + Send + Sync>,
    ) -> Arc<dyn Any + Send + Sync> {
        self.extension.call_once(make).clone()
    }

    /// Adds a child entry, as the initramfs unpacker and mknod do.
    fn insert(&self, name: &str, child: Arc<TmpfsInode>) -> Result<()> {
        let dir = self.dir()?;
        if self.attr.lock().nlink == 0 {
            // A removed directory takes no new entries.
            return Err(Errno::ENOENT);
        }
        if name.len() > 255 {
            return Err(Errno::ENAMETOOLONG);
        }
        let mut entries = dir.entries.lock();
        if entries.contains_key(name) {
            return Err(Errno::EEXIST);
        }
        if let Kind::Dir(d) = &child.kind {
            *d.parent.lock() = self.this.clone();
            self.add_nlink(1);
        }
        let name = super::kmem::string(name)?;
        // The name is kept twice (by name and by position).
        super::kmem::reserve(name.len() + 64)?;
        entries.insert(name.clone(), child.clone());
        drop(entries);
        self.touch_mtime();
        notify::entry_event(self, &*child, notify::IN_CREATE, &name, 0);
        Ok(())
    }

    /// Is `self` `other` or one of its ancestors?
    fn is_ancestor_of(&self, other: &TmpfsInode) -> bool {
        let mut cur = other.me();
        loop {
            if cur.ino == self.ino {
                return true;
            }
            let parent = match &cur.kind {
                Kind::Dir(d) => d.parent.lock().upgrade(),
                _ => None,
            };
            match parent {
                Some(p) if p.ino != cur.ino => cur = p,
                _ => return false,
            }
        }
    }
}

impl Inode for TmpfsInode {
    fn metadata(&self) -> Metadata {
        let a = self.attr.lock();
        let size = match &self.kind {
            Kind::File(d) => d.lock().size,
            Kind::Symlink(t) => t.len() as u64,
            Kind::Dir(_) => 4096,
            Kind::Special => 0,
        };
        let blocks = match &self.kind {
            Kind::File(d) => d.lock().pages.len() as u64 * (PAGE_SIZE / 512),
            Kind::Dir(_) => 8,
            _ => 0,
        };
        Metadata {
            dev: self.tmpfs().dev,
            ino: self.ino,
            mode: a.mode,
            nlink: a.nlink,
            uid: a.uid,
            gid: a.gid,
            rdev: a.rdev,
            size,
            blksize: PAGE_SIZE as u32,
            blocks,
            atime_ns: a.atime,
            mtime_ns: a.mtime,
            ctime_ns: a.ctime,
        }
    }

    fn fs(&self) -> Arc<dyn FileSystem> {
        self.tmpfs()
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn lookup(&self, name: &str) -> Result<Arc<dyn Inode>> {
        let dir = self.dir()?;
        match name {
            "." => Ok(self.me()),
            ".." => Ok(dir.parent.lock().upgrade().unwrap_or_else(|| self.me())),
            _ => dir
                .entries
                .lock()
                .get(name)
                .cloned()
                .map(|i| i as Arc<dyn Inode>)
                .ok_or(Errno::ENOENT),
        }
    }

    fn create(&self, name: &str, node: NewNode) -> Result<Arc<dyn Inode>> {
        self.dir()?;
        let kind = match node.mode & S_IFMT {
            S_IFDIR => Kind::new_dir(),
            S_IFREG => Kind::File(Mutex::new(FileData::new(&self.usage))),
            S_IFCHR | S_IFBLK | S_IFIFO | S_IFSOCK => Kind::Special,
            _ => return Err(Errno::EINVAL),
        };
        let child = self.tmpfs().new_inode(node, kind)?;
        self.insert(name, child.clone())?;
        Ok(child)
    }

    fn symlink(&self, name: &str, target: &str, node: NewNode) -> Result<Arc<dyn Inode>> {
        self.dir()?;
        let node = NewNode { mode: S_IFLNK | 0o777, ..node };
        let target = super::kmem::string(target)?;
        let child = self.tmpfs().new_inode(node, Kind::Symlink(target))?;
        self.insert(name, child.clone())?;
        Ok(child)
    }

    fn link(&self, name: &str, target: &Arc<dyn Inode>) -> Result<()> {
        self.dir()?;
        let t = downcast(target).filter(|t| t.fs.ptr_eq(&self.fs)).ok_or(Errno::EXDEV)?;
        if t.is_dir() {
            return Err(Errno::EPERM);
        }
        self.insert(name, t.me())?;
        t.add_nlink(1);
        Ok(())
    }

    fn unlink(&self, name: &str) -> Result<()> {
        let dir = self.dir()?;
        let mut entries = dir.entries.lock();
        let child = entries.get(name).ok_or(Errno::ENOENT)?;
        if child.is_dir() {
            return Err(Errno::EISDIR);
        }
        let child = entries.remove(name).expect("present");
        drop(entries);
        child.add_nlink(-1);
        self.touch_mtime();
        notify::entry_event(self, &*child, notify::IN_DELETE, name, 0);
        if child.attr.lock().nlink == 0 {
            notify::deleted(&*child);
        }
        Ok(())
    }

    fn rmdir(&self, name: &str) -> Result<()> {
        let dir = self.dir()?;
        let mut entries = dir.entries.lock();
        let child = entries.get(name).ok_or(Errno::ENOENT)?;
        let Kind::Dir(cd) = &child.kind else { return Err(Errno::ENOTDIR) };
        if !cd.entries.lock().is_empty() {
            return Err(Errno::ENOTEMPTY);
        }
        let child = entries.remove(name).expect("present");
        drop(entries);
        child.attr.lock().nlink = 0;
        self.add_nlink(-1);
        self.touch_mtime();
        notify::entry_event(self, &*child, notify::IN_DELETE, name, 0);
        notify::deleted(&*child);
        Ok(())
    }

    fn rename(&self, old: &str, new_dir: &Arc<dyn Inode>, new: &str, flags: u32) -> Result<()> {
        let src_dir = self.dir()?;
        let dst = downcast(new_dir).ok_or(Errno::EXDEV)?;
        if !dst.fs.ptr_eq(&self.fs) {
            return Err(Errno::EXDEV);
        }
        let dst_dir = dst.dir()?;
        let moving = src_dir.entries.lock().get(old).cloned().ok_or(Errno::ENOENT)?;
        if new.len() > 255 {
            return Err(Errno::ENAMETOOLONG);
        }
        if moving.is_dir() && moving.is_ancestor_of(dst) {
            return Err(Errno::EINVAL);
        }
        let existing = dst_dir.entries.lock().get(new).cloned();
        if flags & RENAME_EXCHANGE != 0 {
            let other = existing.ok_or(Errno::ENOENT)?;
            if other.is_dir() && other.is_ancestor_of(self) {
                return Err(Errno::EINVAL);
            }
            src_dir.entries.lock().replace(old, other.clone());
            dst_dir.entries.lock().replace(new, moving.clone());
            for (node, parent) in [(&other, self), (&moving, dst)] {
                if let Kind::Dir(d) = &node.kind {
                    *d.parent.lock() = parent.this.clone();
                }
            }
            if moving.is_dir() != other.is_dir() && self.ino != dst.ino {
                let delta = if moving.is_dir() { 1 } else { -1 };
                dst.add_nlink(delta);
                self.add_nlink(-delta);
            }
            self.touch_mtime();
            dst.touch_mtime();
            for (node, from_dir, from, to_dir, to) in
                [(&moving, self, old, dst, new), (&other, dst, new, self, old)]
            {
                let cookie = notify::new_cookie();
                notify::entry_event(from_dir, &**node, notify::IN_MOVED_FROM, from, cookie);
                notify::entry_event(to_dir, &**node, notify::IN_MOVED_TO, to, cookie);
                notify::inode_event(&**node, notify::IN_MOVE_SELF);
            }
            return Ok(());
        }
        if let Some(e) = &existing {
            if flags & RENAME_NOREPLACE != 0 {
                return Err(Errno::EEXIST);
            }
            if Arc::ptr_eq(e, &moving) {
                return Ok(());
            }
            match (moving.is_dir(), e.is_dir()) {
                (false, true) => return Err(Errno::EISDIR),
                (true, false) => return Err(Errno::ENOTDIR),
                (true, true) => {
                    if let Kind::Dir(d) = &e.kind {
                        if !d.entries.lock().is_empty() {
                            return Err(Errno::ENOTEMPTY);
                        }
                    }
                }
                (false, false) => {}
            }
        }
        let new_name = super::kmem::string(new)?;
        super::kmem::reserve(new_name.len() + 64)?;
        src_dir.entries.lock().remove(old);
        let replaced = dst_dir.entries.lock().insert(new_name, moving.clone());
        if let Some(e) = &replaced {
            if e.is_dir() {
                e.attr.lock().nlink = 0;
                dst.add_nlink(-1);
            } else {
                e.add_nlink(-1);
            }
        }
        if let Kind::Dir(d) = &moving.kind {
            *d.parent.lock() = dst.this.clone();
            if self.ino != dst.ino {
                self.add_nlink(-1);
                dst.add_nlink(1);
            }
        }
        moving.attr.lock().ctime = realtime_ns();
        self.touch_mtime();
        dst.touch_mtime();
        let cookie = notify::new_cookie();
        notify::entry_event(self, &*moving, notify::IN_MOVED_FROM, old, cookie);
        notify::entry_event(dst, &*moving, notify::IN_MOVED_TO, new, cookie);
        notify::inode_event(&*moving, notify::IN_MOVE_SELF);
        if let Some(e) = replaced.filter(|e| e.attr.lock().nlink == 0) {
            notify::deleted(&*e);
        }
        Ok(())
    }

    fn readdir(&self) -> Result<Vec<DirEntry>> {
        Ok(self.readdir_from(0, usize::MAX)?.into_iter().map(|(_, e)| e).collect())
    }

    fn readdir_from(&self, from: u64, max: usize) -> Result<Vec<(u64, DirEntry)>> {
        let dir = self.dir()?;
        let parent = dir.parent.lock().upgrade().map(|p| p.ino).unwrap_or(self.ino);
        let entries = dir.entries.lock();
        let mut v = Vec::new();
        super::kmem::grow(&mut v, (entries.len() + 2).min(max))?;
        let dot = [(0, self.ino, "."), (1, parent, "..")];
        for (pos, ino, name) in dot.into_iter().filter(|&(pos, ..)| pos >= from) {
            v.push((pos, DirEntry { ino, name: String::from(name), dtype: dtype_of(S_IFDIR) }));
        }
        for (pos, name, child) in entries.from(from.max(FIRST_ENTRY_POS)) {
            if v.len() >= max {
                break;
            }
            let dtype = dtype_of(child.attr.lock().mode);
            v.push((pos, DirEntry { ino: child.ino, name: super::kmem::string(name)?, dtype }));
        }
        v.truncate(max);
        Ok(v)
    }

    fn readlink(&self) -> Result<String> {
        match &self.kind {
            Kind::Symlink(t) => Ok(t.clone()),
            _ => Err(Errno::EINVAL),
        }
    }

    fn read_at(&self, offset: u64, out: &mut [u8]) -> Result<usize> {
        let data = match &self.kind {
            Kind::File(d) => d.lock(),
            Kind::Dir(_) => return Err(Errno::EISDIR),
            _ => return Err(Errno::EINVAL),
        };
        let end = data.size.min(offset.saturating_add(out.len() as u64));
        let mut pos = offset;
        while pos < end {
            let page = pos / PAGE_SIZE;
            let off = (pos % PAGE_SIZE) as usize;
            let n = ((end - pos) as usize).min(PAGE_SIZE as usize - off);
            let dst = &mut out[(pos - offset) as usize..][..n];
            match data.pages.get(&page) {
                Some(frame) => frame.read(off, dst),
                None => dst.fill(0),
            }
            pos += n as u64;
        }
        drop(data);
        self.attr.lock().atime = realtime_ns();
        Ok((end.max(offset) - offset) as usize)
    }

    fn write_at(&self, offset: u64, src: &[u8]) -> Result<usize> {
        let mut data = match &self.kind {
            Kind::File(d) => d.lock(),
            Kind::Dir(_) => return Err(Errno::EISDIR),
            _ => return Err(Errno::EINVAL),
        };
        let end = offset
            .checked_add(src.len() as u64)
            .filter(|&e| e <= MAX_FILE_SIZE)
            .ok_or(Errno::EFBIG)?;
        let seals = self.seals.load(Ordering::Acquire);
        if seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE) != 0
            || (seals & F_SEAL_GROW != 0 && end > data.size)
        {
            return Err(Errno::EPERM);
        }
        let mut pos = offset;
        while pos < end {
            let page = pos / PAGE_SIZE;
            let off = (pos % PAGE_SIZE) as usize;
            let n = ((end - pos) as usize).min(PAGE_SIZE as usize - off);
            let frame = match data.page_or_alloc(page) {
                Ok(frame) => frame,
                Err(e) => {
                    data.size = data.size.max(pos);
                    return if pos > offset { Ok((pos - offset) as usize) } else { Err(e) };
                }
            };
            frame.write(off, &src[(pos - offset) as usize..][..n]);
            pos += n as u64;
        }
        data.size = data.size.max(end);
        drop(data);
        self.touch_mtime();
        Ok(src.len())
    }

    fn truncate(&self, size: u64) -> Result<()> {
        let mut data = match &self.kind {
            Kind::File(d) => d.lock(),
            Kind::Dir(_) => return Err(Errno::EISDIR),
            _ => return Err(Errno::EINVAL),
        };
        if size > MAX_FILE_SIZE {
            return Err(Errno::EFBIG);
        }
        let seals = self.seals.load(Ordering::Acquire);
        if (seals & F_SEAL_SHRINK != 0 && size < data.size)
            || (seals & F_SEAL_GROW != 0 && size > data.size)
        {
            return Err(Errno::EPERM);
        }
        if size < data.size {
            let keep = size.div_ceil(PAGE_SIZE);
            data.release_from(keep);
            // Zero the tail of the last kept page so a later extension reads zeros.
            let tail = (size % PAGE_SIZE) as usize;
            if tail != 0 {
                if let Some(frame) = data.pages.get(&(keep - 1)) {
                    frame.fill(tail, PAGE_SIZE as usize - tail, 0);
                }
            }
        }
        data.size = size;
        drop(data);
        self.touch_mtime();
        Ok(())
    }

    fn set_attr(&self, s: &SetAttr) -> Result<()> {
        let mut a = self.attr.lock();
        if let Some(m) = s.mode {
            if self.seals.load(Ordering::Acquire) & F_SEAL_EXEC != 0 && (m ^ a.mode) & 0o111 != 0 {
                return Err(Errno::EPERM);
            }
            a.mode = (a.mode & S_IFMT) | (m & 0o7777);
        }
        if let Some(u) = s.uid {
            a.uid = u;
        }
        if let Some(g) = s.gid {
            a.gid = g;
        }
        if let Some(t) = s.atime_ns {
            a.atime = t;
        }
        if let Some(t) = s.mtime_ns {
            a.mtime = t;
        }
        a.ctime = realtime_ns();
        drop(a);
        notify::inode_event(self, notify::IN_ATTRIB);
        Ok(())
    }

    fn open(&self, flags: u32) -> Result<Option<Arc<dyn FileLike>>> {
        let (mode, rdev) = {
            let a = self.attr.lock();
            (a.mode, a.rdev)
        };
        match mode & S_IFMT {
            S_IFCHR => super::devfs::open_device(rdev, flags).map(Some),
            S_IFBLK => Err(Errno::ENXIO),
            S_IFIFO => {
                let ext = self.extension(|| match super::pipe::Pipe::new() {
                    Ok(p) => p as Arc<dyn Any + Send + Sync>,
                    Err(_) => Arc::new(()) as Arc<dyn Any + Send + Sync>,
                });
                let pipe = ext.downcast::<super::pipe::Pipe>().map_err(|_| Errno::ENOMEM)?;
                pipe.open_fifo(flags, self.me()).map(Some)
            }
            S_IFSOCK => Err(Errno::ENXIO),
            _ => Ok(None),
        }
    }

    fn attach(
        &self,
        make: &dyn Fn() -> Arc<dyn Any + Send + Sync>,
    ) -> Option<Arc<dyn Any + Send + Sync>> {
        Some(self.extension(make))
    }

    fn seals(&self) -> Result<u32> {
        match self.kind {
            Kind::File(_) => Ok(self.seals.load(Ordering::Acquire)),
            _ => Err(Errno::EINVAL),
        }
    }

    /// Linux's memfd_add_seals after the caller checked the descriptor is writable.
    fn add_seals(&self, add: u32) -> Result<()> {
        let Kind::File(data) = &self.kind else { return Err(Errno::EINVAL) };
        if add & !ALL_SEALS != 0 {
            return Err(Errno::EINVAL);
        }
        // The file's lock orders this against writes and truncations.
        let _data = data.lock();
        let seals = self.seals.load(Ordering::Acquire);
        if seals & F_SEAL_SEAL != 0 {
            return Err(Errno::EPERM);
        }
        if add & F_SEAL_WRITE != 0
            && seals & F_SEAL_WRITE == 0
            && Arc::strong_count(&self.writable_maps) > 1
        {
            return Err(Errno::EBUSY);
        }
        self.seals.store(seals | add, Ordering::Release);
        Ok(())
    }

    fn writable_mapping(&self) -> Option<Arc<dyn Any + Send + Sync>> {
        Some(self.writable_maps.clone())
    }

    fn page(&self, index: u64) -> Result<Frame> {
        let Kind::File(d) = &self.kind else { return Err(Errno::ENODEV) };
        d.lock().page_or_alloc(index).cloned()
    }
}
