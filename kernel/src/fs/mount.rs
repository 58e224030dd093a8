//! The mount table: which file system covers which directory, and the file system types that
//! `mount(2)` can create.

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};

use super::inode::{FileSystem, Inode};
use crate::error::{Errno, Result};
use crate::sync::Mutex;

pub struct Mount {
    /// (st_dev, st_ino) of the covered directory.
    pub covered: (u64, u64),
    pub fs: Arc<dyn FileSystem>,
    /// Where it is mounted, for /proc/mounts.
    pub path: String,
    pub source: String,
}

static MOUNTS: Mutex<Vec<Mount>> = Mutex::new(Vec::new());
static NEXT_DEV: AtomicU64 = AtomicU64::new(1);

/// A device number for a file system without a device (major 0, like Linux's anonymous devices).
pub fn new_anonymous_dev() -> u64 {
    NEXT_DEV.fetch_add(1, Ordering::Relaxed)
}

type FsConstructor = fn() -> Arc<dyn FileSystem>;
static FS_TYPES: Mutex<Vec<(&'static str, FsConstructor)>> = Mutex::new(Vec::new());

/// Makes `mount -t name` create file systems with `make`.
pub fn register_fs_type(name: &'static str, make: FsConstructor) {
    FS_TYPES.lock().push((name, make));
}

pub fn new_fs(type_name: &str) -> Result<Arc<dyn FileSystem>> {
    let make = FS_TYPES
        .lock()
        .iter()
        .find(|(n, _)| *n == type_name)
        .map(|(_, m)| *m)
        .ok_or(Errno::ENODEV)?;
    Ok(make())
}

/// Mounts `fs` over the directory `dir` (found at `path`).
pub fn mount(
    dir: &Arc<dyn Inode>,
    path: &str,
    source: &str,
    fs: Arc<dyn FileSystem>,
) -> Result<()> {
    let m = dir.metadata();
    if !m.is_dir() {
        return Err(Errno::ENOTDIR);
    }
    MOUNTS.lock().push(Mount {
        covered: (m.dev, m.ino),
        fs,
        path: String::from(path),
        source: String::from(source),
    });
    Ok(())
}

/// Removes the most recent mount at `path`.
pub fn unmount(path: &str) -> Result<()> {
    let mut mounts = MOUNTS.lock();
    let i = mounts.iter().rposition(|m| m.path == path).ok_or(Errno::EINVAL)?;
    mounts.remove(i);
    Ok(())
}

/// The root of what is mounted on `dir`, if anything (the most recent mount wins).
pub fn mounted_on(dir: &Arc<dyn Inode>) -> Option<Arc<dyn Inode>> {
    let mounts = MOUNTS.lock();
    if mounts.is_empty() {
        return None;
    }
    let m = dir.metadata();
    mounts.iter().rev().find(|mt| mt.covered == (m.dev, m.ino)).map(|mt| mt.fs.root())
}

/// (source, path, type) of every mount, oldest first.
pub fn list() -> Vec<(String, String, &'static str)> {
    MOUNTS.lock().iter().map(|m| (m.source.clone(), m.path.clone(), m.fs.name())).collect()
}
