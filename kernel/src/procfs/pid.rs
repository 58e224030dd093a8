//! /proc/<pid>/: one directory per process, with its generated files, its links and fd/.

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::any::Any;

use super::fd::FdDir;
use super::fdinfo::FdInfoDir;
use super::generated::GenFile;
use super::link::Link;
use super::process_files as pf;
use super::root::RootDir;
use super::{ino, metadata, Owner, ProcFs};
use crate::error::{Errno, Result};
use crate::fs::inode::{
    dtype_of, DirEntry, FileSystem, Inode, Metadata, S_IFDIR, S_IFLNK, S_IFREG,
};
use crate::process::{self, Process};

enum Kind {
    File(fn(&Arc<Process>) -> Result<Vec<u8>>, u32),
    Link(fn(&Arc<Process>) -> Result<String>),
    FdDir,
    FdInfoDir,
    TaskDir,
}

struct Entry {
    /// The inode number is `pid << 32 | ino::PID_FILE + id`.
    id: u64,
    name: &'static str,
    kind: Kind,
    /// Shows what the process holds: only for those `may_inspect` lets in.
    inspects: bool,
}

static ENTRIES: &[Entry] = &[
    Entry { id: 0, name: "cmdline", kind: Kind::File(pf::cmdline, 0o444), inspects: false },
    Entry { id: 1, name: "comm", kind: Kind::File(pf::comm, 0o644), inspects: false },
    Entry { id: 2, name: "cwd", kind: Kind::Link(pf::cwd), inspects: true },
    Entry { id: 3, name: "environ", kind: Kind::File(pf::environ, 0o400), inspects: true },
    Entry { id: 4, name: "exe", kind: Kind::Link(pf::exe), inspects: true },
    Entry { id: 5, name: "fd", kind: Kind::FdDir, inspects: true },
    Entry { id: 11, name: "fdinfo", kind: Kind::FdInfoDir, inspects: true },
    Entry { id: 6, name: "maps", kind: Kind::File(pf::maps, 0o444), inspects: true },
    Entry { id: 7, name: "mounts", kind: Kind::File(pf::mounts, 0o444), inspects: false },
    Entry { id: 8, name: "stat", kind: Kind::File(pf::stat, 0o444), inspects: false },
    Entry { id: 9, name: "statm", kind: Kind::File(pf::statm, 0o444), inspects: false },
    Entry { id: 10, name: "status", kind: Kind::File(pf::status, 0o444), inspects: false },
    Entry { id: 12, name: "task", kind: Kind::TaskDir, inspects: false },
];

impl Entry {
    fn ino(&self, pid: u32) -> u64 {
        match self.kind {
            Kind::FdDir => ino::of_pid(pid, ino::FD_DIR),
            Kind::FdInfoDir => ino::of_pid(pid, ino::FDINFO_DIR),
            Kind::TaskDir => ino::of_pid(pid, ino::TASK_DIR),
            _ => ino::of_pid(pid, ino::PID_FILE + self.id),
        }
    }

    fn mode(&self) -> u32 {
        match self.kind {
            Kind::File(_, perm) => S_IFREG | perm,
            Kind::Link(_) => S_IFLNK | 0o777,
            Kind::FdDir => S_IFDIR | 0o500,
            Kind::FdInfoDir | Kind::TaskDir => S_IFDIR | 0o555,
        }
    }
}

/// The process `pid` if it still exists (a zombie does until it is reaped).
pub fn process_of(pid: u32) -> Result<Arc<Process>> {
    process::find(pid).ok_or(Errno::ESRCH)
}

pub struct PidDir {
    fs: Arc<ProcFs>,
    pid: u32,
}

impl PidDir {
    pub fn new(fs: Arc<ProcFs>, pid: u32) -> Arc<PidDir> {
        Arc::new(PidDir { fs, pid })
    }

    fn ino(&self) -> u64 {
        ino::of_pid(self.pid, ino::PID_DIR)
    }

    fn child(&self, e: &'static Entry) -> Arc<dyn Inode> {
        let (fs, pid, owner, ino) =
            (self.fs.clone(), self.pid, Owner::Process(self.pid), e.ino(self.pid));
        match e.kind {
            Kind::File(generate, perm) if e.name == "comm" => {
                // /proc/PID/comm takes writes, the leader's name (Linux's comm_write).
                let _ = generate;
                let gen = Arc::new(move || pf::comm(&process_of(pid)?));
                let writer =
                    Arc::new(move |bytes: &[u8]| pf::set_comm(&process_of(pid)?, None, bytes));
                GenFile::writable(fs, ino, perm, owner, gen, writer)
            }
            Kind::File(generate, perm) => {
                // Linux: files without a write handler fail writes with EINVAL.
                let guarded = e.inspects;
                let gen = Arc::new(move || {
                    if guarded {
                        super::may_inspect(pid)?;
                    }
                    generate(&process_of(pid)?)
                });
                GenFile::new(fs, ino, perm, owner, Errno::EINVAL, gen)
            }
            Kind::Link(target) => {
                let guarded = e.inspects;
                let target = Arc::new(move || {
                    let p = process::find(pid).ok_or(Errno::ENOENT)?;
                    if guarded {
                        super::may_inspect(pid)?;
                    }
                    target(&p)
                });
                Link::new(fs, ino, 0o777, owner, 0, target)
            }
            Kind::FdDir => FdDir::new(fs, pid),
            Kind::FdInfoDir => FdInfoDir::new(fs, pid),
            Kind::TaskDir => super::task::TaskDir::new(fs, pid),
        }
    }
}

impl Inode for PidDir {
    super::read_only_dir!();

    fn metadata(&self) -> Metadata {
        metadata(&self.fs, self.ino(), S_IFDIR | 0o555, 3, Owner::Process(self.pid), 0)
    }

    fn fs(&self) -> Arc<dyn FileSystem> {
        self.fs.clone()
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn lookup(&self, name: &str) -> Result<Arc<dyn Inode>> {
        // A reaped process's directory is empty (its entries are gone).
        process::find(self.pid).ok_or(Errno::ENOENT)?;
        match name {
            "." => Ok(PidDir::new(self.fs.clone(), self.pid)),
            ".." => Ok(RootDir::new(self.fs.clone())),
            _ => {
                ENTRIES.iter().find(|e| e.name == name).map(|e| self.child(e)).ok_or(Errno::ENOENT)
            }
        }
    }

    fn readdir(&self) -> Result<Vec<DirEntry>> {
        process::find(self.pid).ok_or(Errno::ENOENT)?;
        let dir = dtype_of(S_IFDIR);
        let mut v = alloc::vec![
            DirEntry { ino: self.ino(), name: String::from("."), dtype: dir },
            DirEntry { ino: ino::ROOT, name: String::from(".."), dtype: dir },
        ];
        for e in ENTRIES {
            v.push(DirEntry {
                ino: e.ino(self.pid),
                name: String::from(e.name),
                dtype: dtype_of(e.mode()),
            });
        }
        Ok(v)
    }
}
