//! /proc/<pid>/task/ and /proc/<pid>/task/<tid>/: one directory per thread of the process, with
//! the files that have a per-thread view (comm, which pthread_setname_np writes, stat, status)
//! and the process's own for the rest (cmdline, statm).

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::any::Any;

use super::generated::GenFile;
use super::pid::{process_of, PidDir};
use super::process_files as pf;
use super::root::parse_pid;
use super::{ino, metadata, Owner, ProcFs};
use crate::error::{Errno, Result};
use crate::fs::inode::{
    dtype_of, numbered_positions, DirEntry, FileSystem, Inode, Metadata, S_IFDIR, S_IFREG,
};
use crate::process::Process;
use crate::task::Thread;

type ThreadFile = fn(&Arc<Process>, Option<&Arc<Thread>>) -> Result<Vec<u8>>;

struct Entry {
    id: u64,
    name: &'static str,
    generate: ThreadFile,
    perm: u32,
}

fn cmdline(p: &Arc<Process>, _t: Option<&Arc<Thread>>) -> Result<Vec<u8>> {
    pf::cmdline(p)
}

fn statm(p: &Arc<Process>, _t: Option<&Arc<Thread>>) -> Result<Vec<u8>> {
    pf::statm(p)
}

static ENTRIES: &[Entry] = &[
    Entry { id: 0, name: "cmdline", generate: cmdline, perm: 0o444 },
    Entry { id: 1, name: "comm", generate: pf::thread_comm, perm: 0o644 },
    Entry { id: 2, name: "stat", generate: pf::thread_stat, perm: 0o444 },
    Entry { id: 3, name: "statm", generate: statm, perm: 0o444 },
    Entry { id: 4, name: "status", generate: pf::thread_status, perm: 0o444 },
];

/// The thread `tid` of process `pid`, if both still exist.
fn thread_of(pid: u32, tid: u32) -> Result<(Arc<Process>, Arc<Thread>)> {
    let p = process_of(pid)?;
    let t = p.thread(tid).ok_or(Errno::ESRCH)?;
    Ok((p, t))
}

pub struct TaskDir {
    fs: Arc<ProcFs>,
    pid: u32,
}

impl TaskDir {
    pub fn new(fs: Arc<ProcFs>, pid: u32) -> Arc<TaskDir> {
        Arc::new(TaskDir { fs, pid })
    }
}

impl Inode for TaskDir {
    super::read_only_dir!();

    fn metadata(&self) -> Metadata {
        let ino = ino::of_pid(self.pid, ino::TASK_DIR);
        metadata(&self.fs, ino, S_IFDIR | 0o555, 3, Owner::Process(self.pid), 0)
    }

    fn fs(&self) -> Arc<dyn FileSystem> {
        self.fs.clone()
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn lookup(&self, name: &str) -> Result<Arc<dyn Inode>> {
        let p = process_of(self.pid).map_err(|_| Errno::ENOENT)?;
        match name {
            "." => Ok(TaskDir::new(self.fs.clone(), self.pid)),
            ".." => Ok(PidDir::new(self.fs.clone(), self.pid)),
            _ => {
                let tid = parse_pid(name).ok_or(Errno::ENOENT)?;
                p.thread(tid).ok_or(Errno::ENOENT)?;
                Ok(Arc::new(TidDir { fs: self.fs.clone(), pid: self.pid, tid }))
            }
        }
    }

    fn readdir(&self) -> Result<Vec<DirEntry>> {
        let p = process_of(self.pid).map_err(|_| Errno::ENOENT)?;
        let dir = dtype_of(S_IFDIR);
        let mut tids = Vec::new();
        p.for_each_thread(|t| tids.push(t.tid()));
        tids.sort_unstable();
        let mut v = alloc::vec![
            DirEntry {
                ino: ino::of_pid(self.pid, ino::TASK_DIR),
                name: String::from("."),
                dtype: dir
            },
            DirEntry {
                ino: ino::of_pid(self.pid, ino::PID_DIR),
                name: String::from(".."),
                dtype: dir
            },
        ];
        for tid in tids {
            v.push(DirEntry {
                ino: ino::of_pid(tid, ino::TID_DIR),
                name: alloc::format!("{}", tid),
                dtype: dir,
            });
        }
        Ok(v)
    }

    fn readdir_from(&self, from: u64, max: usize) -> Result<Vec<(u64, DirEntry)>> {
        numbered_positions(self.readdir()?, 2, from, max)
    }
}

pub struct TidDir {
    fs: Arc<ProcFs>,
    pid: u32,
    tid: u32,
}

impl TidDir {
    fn child(&self, e: &'static Entry) -> Arc<dyn Inode> {
        let (pid, tid, generate) = (self.pid, self.tid, e.generate);
        let ino = ino::of_pid(tid, ino::TID_FILE + e.id);
        let gen = Arc::new(move || {
            let (p, t) = thread_of(pid, tid)?;
            generate(&p, Some(&t))
        });
        let owner = Owner::Process(pid);
        if e.name == "comm" {
            let writer = Arc::new(move |bytes: &[u8]| {
                let (p, t) = thread_of(pid, tid)?;
                pf::set_comm(&p, Some(&t), bytes)
            });
            GenFile::writable(self.fs.clone(), ino, e.perm, owner, gen, writer)
        } else {
            GenFile::new(self.fs.clone(), ino, e.perm, owner, Errno::EINVAL, gen)
        }
    }
}

impl Inode for TidDir {
    super::read_only_dir!();

    fn metadata(&self) -> Metadata {
        let ino = ino::of_pid(self.tid, ino::TID_DIR);
        metadata(&self.fs, ino, S_IFDIR | 0o555, 3, Owner::Process(self.pid), 0)
    }

    fn fs(&self) -> Arc<dyn FileSystem> {
        self.fs.clone()
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn lookup(&self, name: &str) -> Result<Arc<dyn Inode>> {
        thread_of(self.pid, self.tid).map_err(|_| Errno::ENOENT)?;
        match name {
            "." => Ok(Arc::new(TidDir { fs: self.fs.clone(), pid: self.pid, tid: self.tid })),
            ".." => Ok(TaskDir::new(self.fs.clone(), self.pid)),
            _ => {
                ENTRIES.iter().find(|e| e.name == name).map(|e| self.child(e)).ok_or(Errno::ENOENT)
            }
        }
    }

    fn readdir(&self) -> Result<Vec<DirEntry>> {
        thread_of(self.pid, self.tid).map_err(|_| Errno::ENOENT)?;
        let dir = dtype_of(S_IFDIR);
        let mut v = alloc::vec![
            DirEntry {
                ino: ino::of_pid(self.tid, ino::TID_DIR),
                name: String::from("."),
                dtype: dir
            },
            DirEntry {
                ino: ino::of_pid(self.pid, ino::TASK_DIR),
                name: String::from(".."),
                dtype: dir
            },
        ];
        for e in ENTRIES {
            v.push(DirEntry {
                ino: ino::of_pid(self.tid, ino::TID_FILE + e.id),
                name: String::from(e.name),
                dtype: dtype_of(S_IFREG | e.perm),
            });
        }
        Ok(v)
    }
}
