//! /proc/<pid>/fd/: one symbolic link per open descriptor, named by its number.
//!
//! Linux follows these "magic" links to the open file itself, not to their text. A descriptor
//! opened by path (also one since deleted or renamed) and a memfd are reached that way here too
//! (`Inode::magic_link`). Pipes, sockets and anonymous files link to `pipe:[ino]`,
//! `socket:[ino]`, `anon_inode:[...]`: relative texts, which the walk resolves from the directory
//! holding the link, this one. So this directory also answers lookups of those link texts
//! (hidden from readdir) with a node that opens the descriptor's file.

use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::any::Any;

use super::link::Link;
use super::root::parse_pid;
use super::{ino, metadata, Owner, ProcFs};
use crate::error::{Errno, Result};
use crate::fs::file::{FileLike, OpenFile, O_ACCMODE, O_PATH, O_RDONLY, O_WRONLY};
use crate::fs::inode::{
    dtype_of, DirEntry, FileSystem, Inode, Metadata, S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFSOCK,
};
use crate::fs::path::{self, Walk};
use crate::process;

pub struct FdDir {
    fs: Arc<ProcFs>,
    pid: u32,
}

impl FdDir {
    pub fn new(fs: Arc<ProcFs>, pid: u32) -> Arc<FdDir> {
        Arc::new(FdDir { fs, pid })
    }

    fn files(&self) -> Result<Vec<(i32, Arc<OpenFile>)>> {
        let entries = super::inspected(self.pid)?.files().lock().try_entries()?;
        Ok(entries)
    }

    fn file(&self, fd: i32) -> Result<Arc<OpenFile>> {
        let f = super::inspected(self.pid)?.files().lock().get(fd).map_err(|_| Errno::ENOENT);
        f
    }

    fn link(&self, fd: i32, file: &OpenFile) -> Arc<dyn Inode> {
        let pid = self.pid;
        let open_file = move || process::find(pid).and_then(|p| p.files().lock().get(fd).ok());
        let target = Arc::new(move || open_file().map(|f| link_text(&f)).ok_or(Errno::ENOENT));
        let fs = self.fs.clone();
        // Followed, the link reaches the open file itself, as Linux's does: the walk that opened
        // it (also once deleted), or for a memfd a node standing for it. Pipes and sockets are
        // reached through their link text instead (see the module comment).
        let magic = Arc::new(move || {
            let f = open_file()?;
            if let Some(walk) = f.path() {
                return Some(walk.clone());
            }
            let text = f.file().proc_link()?;
            let name = text.trim_start_matches('/').trim_end_matches(" (deleted)");
            let node = Arc::new(FdTarget { fs: fs.clone(), pid, fd, file: f.file().clone() });
            Some(Walk::root().child(name, node))
        });
        let ino = ino::of_pid(pid, ino::FD_LINK + fd as u64);
        Link::fd(self.fs.clone(), ino, link_perm(file), Owner::Process(pid), target, magic)
    }
}

/// Linux: r-x for a readable descriptor, -wx for a writable one, both for read-write.
fn link_perm(file: &OpenFile) -> u32 {
    let flags = file.flags();
    if flags & O_PATH != 0 {
        return 0o500;
    }
    match flags & O_ACCMODE {
        O_RDONLY => 0o500,
        O_WRONLY => 0o300,
        _ => 0o700,
    }
}

/// What readlink of /proc/<pid>/fd/<n> says.
pub fn link_text(file: &OpenFile) -> String {
    if let Some(walk) = file.path() {
        let mut p = walk.path();
        let m = walk.inode().metadata();
        if m.nlink == 0 && !m.is_dir() {
            p.push_str(" (deleted)");
        }
        return p;
    }
    if let Some(link) = file.file().proc_link() {
        return link;
    }
    let m = file.file().metadata();
    match m.file_type() {
        S_IFIFO => format!("pipe:[{}]", m.ino),
        S_IFSOCK => format!("socket:[{}]", m.ino),
        S_IFCHR => device_path(m.rdev).unwrap_or_else(|| format!("anon_inode:[{}]", m.ino)),
        _ => match file.file().anon_name() {
            Some(name) => format!("anon_inode:{name}"),
            None => format!("anon_inode:[{}]", m.ino),
        },
    }
}

/// The path of the character device `rdev` in /dev (e.g. the console, opened by the kernel
/// without a path).
fn device_path(rdev: u64) -> Option<String> {
    let dev = path::resolve(&Walk::root(), "/dev", true).ok()?;
    let entries = dev.inode().readdir().ok()?;
    entries.iter().filter(|e| e.dtype == dtype_of(S_IFCHR)).find_map(|e| {
        let m = dev.inode().lookup(&e.name).ok()?.metadata();
        (m.file_type() == S_IFCHR && m.rdev == rdev).then(|| format!("/dev/{}", e.name))
    })
}

/// A descriptor number as Linux accepts it in fd/: digits, no leading zero.
fn parse_fd(name: &str) -> Option<i32> {
    parse_pid(name).and_then(|n| i32::try_from(n).ok())
}

impl Inode for FdDir {
    super::read_only_dir!();

    fn metadata(&self) -> Metadata {
        metadata(
            &self.fs,
            ino::of_pid(self.pid, ino::FD_DIR),
            S_IFDIR | 0o500,
            2,
            Owner::Process(self.pid),
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
        if name == "." {
            return Ok(FdDir::new(self.fs.clone(), self.pid));
        }
        if name == ".." {
            return Ok(super::pid::PidDir::new(self.fs.clone(), self.pid));
        }
        if let Some(fd) = parse_fd(name) {
            let file = self.file(fd)?;
            return Ok(self.link(fd, &file));
        }
        // The target of an anonymous descriptor's link (see the module comment).
        let (fd, file) = self
            .files()?
            .into_iter()
            .find(|(_, f)| f.path().is_none() && link_text(f) == name)
            .ok_or(Errno::ENOENT)?;
        Ok(Arc::new(FdTarget { fs: self.fs.clone(), pid: self.pid, fd, file: file.file().clone() }))
    }

    fn readdir(&self) -> Result<Vec<DirEntry>> {
        descriptor_listing(self.pid, ino::FD_DIR, ino::FD_LINK, S_IFLNK)
    }

    fn readdir_from(&self, from: u64, max: usize) -> Result<Vec<(u64, DirEntry)>> {
        crate::fs::inode::numbered_positions(self.readdir()?, 2, from, max)
    }
}

/// The listing of fd/ or fdinfo/ (whose inode is `dir`) of `pid`: ".", "..", then one entry
/// of type `kind` per open descriptor, with inode `first + fd`.
pub(super) fn descriptor_listing(
    pid: u32,
    dir: u64,
    first: u64,
    kind: u32,
) -> Result<Vec<DirEntry>> {
    let entries = super::inspected(pid)?.files().lock().try_entries()?;
    let dir_type = dtype_of(S_IFDIR);
    let mut v = alloc::vec![
        DirEntry { ino: ino::of_pid(pid, dir), name: String::from("."), dtype: dir_type },
        DirEntry { ino: ino::of_pid(pid, ino::PID_DIR), name: String::from(".."), dtype: dir_type },
    ];
    // A table may hold a million descriptors: the listing is fallible (ENOMEM).
    crate::fs::kmem::grow(&mut v, entries.len())?;
    crate::fs::kmem::reserve(entries.len() * 16)?;
    for (fd, _) in entries {
        let ino = ino::of_pid(pid, first + fd as u64);
        v.push(DirEntry { ino, name: format!("{}", fd), dtype: dtype_of(kind) });
    }
    Ok(v)
}

/// What following an anonymous descriptor's link reaches: opening it opens the same object (a new
/// open file description over it, as Linux does for pipes).
struct FdTarget {
    fs: Arc<ProcFs>,
    pid: u32,
    fd: i32,
    file: Arc<dyn FileLike>,
}

impl Inode for FdTarget {
    fn metadata(&self) -> Metadata {
        let mut m = self.file.metadata();
        if m.dev == 0 && m.ino == 0 {
            m.dev = self.fs.dev;
            m.ino = ino::of_pid(self.pid, ino::FD_TARGET + self.fd as u64);
        }
        m
    }

    fn fs(&self) -> Arc<dyn FileSystem> {
        self.fs.clone()
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn open(&self, flags: u32) -> Result<Option<Arc<dyn FileLike>>> {
        // A pipe opens the end the flags ask for, without waiting. Sockets cannot be opened.
        if let Some(pipe) = self.file.pipe() {
            return pipe.reopen_end(flags).map(Some);
        }
        if self.file.metadata().file_type() == S_IFSOCK {
            return Err(Errno::ENXIO);
        }
        Ok(Some(self.file.clone()))
    }
}
