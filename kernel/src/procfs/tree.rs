//! The fixed part of /proc: tables of named files, links and subdirectories (the global files and
//! /proc/sys), turned into inodes on lookup.

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::any::Any;

use super::generated::GenFile;
use super::link::Link;
use super::{ino, metadata, Owner, ProcFs};
use crate::error::{Errno, Result};
use crate::fs::inode::{
    dtype_of, DirEntry, FileSystem, Inode, Metadata, S_IFDIR, S_IFLNK, S_IFREG,
};

pub enum Node {
    /// A generated read-only file with these permission bits.
    File(fn() -> Result<Vec<u8>>, u32),
    Link(fn() -> Result<String>),
    /// A writable sysctl (mode 0644, root's): its value, and the setter writes go to.
    Sysctl(fn() -> Result<Vec<u8>>, fn(&[u8]) -> Result<()>),
    Dir(&'static [Entry]),
}

pub struct Entry {
    /// Unique among all tables: the inode number is `ino::GLOBAL + id`.
    pub id: u64,
    pub name: &'static str,
    pub node: Node,
}

impl Entry {
    pub fn ino(&self) -> u64 {
        ino::GLOBAL + self.id
    }

    pub fn mode(&self) -> u32 {
        match self.node {
            Node::File(_, perm) => S_IFREG | perm,
            Node::Sysctl(..) => S_IFREG | 0o644,
            Node::Link(_) => S_IFLNK | 0o777,
            Node::Dir(_) => S_IFDIR | 0o555,
        }
    }

    pub fn dir_entry(&self) -> DirEntry {
        DirEntry { ino: self.ino(), name: String::from(self.name), dtype: dtype_of(self.mode()) }
    }

    /// The inode of this entry, in a directory whose inode number is `parent`.
    pub fn inode(&self, fs: &Arc<ProcFs>, parent: u64) -> Arc<dyn Inode> {
        match self.node {
            Node::File(generate, perm) => {
                // Linux: writes to files without a write handler fail with EIO; the writable
                // sysctls we show are read-only here.
                let write_error = if perm & 0o200 != 0 { Errno::EACCES } else { Errno::EIO };
                GenFile::new(
                    fs.clone(),
                    self.ino(),
                    perm,
                    Owner::Root,
                    write_error,
                    Arc::new(generate),
                )
            }
            Node::Sysctl(generate, writer) => {
                GenFile::sysctl(fs.clone(), self.ino(), Arc::new(generate), Arc::new(writer))
            }
            Node::Link(target) => Link::new(fs.clone(), self.ino(), Owner::Root, Arc::new(target)),
            Node::Dir(entries) => {
                Arc::new(StaticDir { fs: fs.clone(), ino: self.ino(), parent, entries })
            }
        }
    }
}

/// Looks `name` up in a table.
pub fn find(entries: &'static [Entry], name: &str) -> Option<&'static Entry> {
    entries.iter().find(|e| e.name == name)
}

/// Number of subdirectories of a table, for nlink.
pub fn subdir_count(entries: &[Entry]) -> u32 {
    entries.iter().filter(|e| matches!(e.node, Node::Dir(_))).count() as u32
}

/// The root directory of a file system that is one fixed table (/sys).
pub fn root_dir(fs: Arc<ProcFs>, entries: &'static [Entry]) -> Arc<dyn Inode> {
    Arc::new(StaticDir { fs, ino: ino::ROOT, parent: ino::ROOT, entries })
}

/// A directory whose contents are a fixed table (/proc/sys and below).
pub struct StaticDir {
    fs: Arc<ProcFs>,
    ino: u64,
    parent: u64,
    entries: &'static [Entry],
}

impl Inode for StaticDir {
    super::read_only_dir!();

    fn metadata(&self) -> Metadata {
        metadata(
            &self.fs,
            self.ino,
            S_IFDIR | 0o555,
            2 + subdir_count(self.entries),
            Owner::Root,
            0,
        )
    }

    fn fs(&self) -> Arc<dyn FileSystem> {
        self.fs.clone()
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn lookup(&self, name: &str) -> Result<Arc<dyn Inode>> {
        let e = find(self.entries, name).ok_or(Errno::ENOENT)?;
        Ok(e.inode(&self.fs, self.ino))
    }

    fn readdir(&self) -> Result<Vec<DirEntry>> {
        let mut v = alloc::vec![
            DirEntry { ino: self.ino, name: String::from("."), dtype: dtype_of(S_IFDIR) },
            DirEntry { ino: self.parent, name: String::from(".."), dtype: dtype_of(S_IFDIR) },
        ];
        v.extend(self.entries.iter().map(Entry::dir_entry));
        Ok(v)
    }
}
