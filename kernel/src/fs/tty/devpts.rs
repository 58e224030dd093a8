//! devpts, mounted at /dev/pts: `ptmx` (char 5:2, a second way to make a pair) and one node
//! `N` (char 136:N) per pseudo-terminal whose master is open. One instance, whatever mounts it
//! (Linux's shared initial instance); the nodes are made from the pair table on every lookup.

use alloc::string::{String, ToString};
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::any::Any;

use spin::Once;

use super::pty::{self, PtyLink, PTMX_RDEV};
use super::Tty;
use crate::error::{Errno, Result};
use crate::fs::file::FileLike;
use crate::fs::inode::*;

const DEVPTS_SUPER_MAGIC: u64 = 0x1cd1;

pub struct DevPts {
    dev: u64,
}

static DEVPTS: Once<Arc<DevPts>> = Once::new();

fn instance() -> &'static Arc<DevPts> {
    DEVPTS.call_once(|| Arc::new(DevPts { dev: crate::fs::mount::new_anonymous_dev() }))
}

/// What `mount -t devpts` makes (and boot mounts at /dev/pts).
pub fn new_devpts() -> Arc<dyn FileSystem> {
    instance().clone()
}

/// st_dev of everything in devpts.
pub fn dev() -> u64 {
    instance().dev
}

impl FileSystem for DevPts {
    fn dev(&self) -> u64 {
        self.dev
    }

    fn magic(&self) -> u64 {
        DEVPTS_SUPER_MAGIC
    }

    fn name(&self) -> &'static str {
        "devpts"
    }

    fn root(&self) -> Arc<dyn Inode> {
        Arc::new(Root)
    }

    fn has_storage(&self) -> bool {
        false
    }
}

struct Root;

/// /dev/pts/ptmx: mode 000 as Linux's default `ptmxmode`.
struct Ptmx;

struct Slave {
    tty: Arc<Tty>,
    link: Arc<PtyLink>,
}

fn parse_index(name: &str) -> Option<u32> {
    if name.is_empty()
        || (name.len() > 1 && name.starts_with('0'))
        || !name.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    name.parse().ok()
}

impl Inode for Root {
    fn metadata(&self) -> Metadata {
        Metadata {
            dev: dev(),
            ino: 1,
            mode: S_IFDIR | 0o755,
            nlink: 2,
            blksize: 1024,
            ..Metadata::default()
        }
    }

    fn fs(&self) -> Arc<dyn FileSystem> {
        new_devpts()
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn lookup(&self, name: &str) -> Result<Arc<dyn Inode>> {
        if name == "ptmx" {
            return Ok(Arc::new(Ptmx));
        }
        let (tty, link) = parse_index(name).and_then(pty::lookup).ok_or(Errno::ENOENT)?;
        Ok(Arc::new(Slave { tty, link }))
    }

    fn create(&self, _name: &str, _node: NewNode) -> Result<Arc<dyn Inode>> {
        Err(Errno::EACCES)
    }

    fn readdir(&self) -> Result<Vec<DirEntry>> {
        let mut v = alloc::vec![
            DirEntry { ino: 1, name: String::from("."), dtype: dtype_of(S_IFDIR) },
            DirEntry { ino: 1, name: String::from(".."), dtype: dtype_of(S_IFDIR) },
            DirEntry { ino: 2, name: String::from("ptmx"), dtype: dtype_of(S_IFCHR) },
        ];
        v.extend(pty::live_indexes().into_iter().map(|n| DirEntry {
            ino: n as u64 + 3,
            name: n.to_string(),
            dtype: dtype_of(S_IFCHR),
        }));
        Ok(v)
    }

    fn readdir_from(&self, from: u64, max: usize) -> Result<Vec<(u64, DirEntry)>> {
        numbered_positions(self.readdir()?, 3, from, max)
    }
}

impl Inode for Ptmx {
    fn metadata(&self) -> Metadata {
        Metadata {
            dev: dev(),
            ino: 2,
            mode: S_IFCHR,
            nlink: 1,
            rdev: PTMX_RDEV,
            blksize: 1024,
            ..Metadata::default()
        }
    }

    fn fs(&self) -> Arc<dyn FileSystem> {
        new_devpts()
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn open(&self, _flags: u32) -> Result<Option<Arc<dyn FileLike>>> {
        pty::open_master().map(Some)
    }
}

impl Inode for Slave {
    fn metadata(&self) -> Metadata {
        self.link.slave_metadata()
    }

    fn fs(&self) -> Arc<dyn FileSystem> {
        new_devpts()
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn set_attr(&self, attr: &SetAttr) -> Result<()> {
        self.link.set_slave_attr(attr);
        Ok(())
    }

    fn open(&self, flags: u32) -> Result<Option<Arc<dyn FileLike>>> {
        pty::open_slave(&self.tty, &self.link, flags).map(Some)
    }
}
