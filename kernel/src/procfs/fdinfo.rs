//! /proc/<pid>/fdinfo/: one read-only file per open descriptor, in Linux's format:
//!
//!     pos:    <offset>
//!     flags:    0<octal status flags, with O_CLOEXEC if close-on-exec is set>
//!     ino:    <inode number>
//!
//! followed by the lines of the file's kind (signalfd: `sigmask:\t%016x`). Linux also shows
//! `mnt_id:`; this kernel has no mount ids, so that line is left out.

use alloc::format;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::any::Any;

use super::generated::GenFile;
use super::root::parse_pid;
use super::{ino, metadata, Owner, ProcFs};
use crate::error::{Errno, Result};
use crate::fs::file::O_CLOEXEC;
use crate::fs::inode::{
    numbered_positions, DirEntry, FileSystem, Inode, Metadata, S_IFDIR, S_IFREG,
};

pub struct FdInfoDir {
    fs: Arc<ProcFs>,
    pid: u32,
}

impl FdInfoDir {
    pub fn new(fs: Arc<ProcFs>, pid: u32) -> Arc<FdInfoDir> {
        Arc::new(FdInfoDir { fs, pid })
    }
}

/// The text of /proc/<pid>/fdinfo/<fd>, generated when it is opened.
fn text(pid: u32, fd: i32) -> Result<Vec<u8>> {
    let p = super::inspected(pid)?;
    let (file, cloexec) = {
        let fds_ref = p.files();
        let mut fds = fds_ref.lock();
        let file = fds.get(fd).map_err(|_| Errno::ENOENT)?;
        let cloexec = fds.cloexec(fd).unwrap_or(false);
        (file, cloexec)
    };
    let flags = file.flags() | if cloexec { O_CLOEXEC } else { 0 };
    let ino = match file.path() {
        Some(w) => w.inode().metadata().ino,
        None => file.file().metadata().ino,
    };
    let mut s = format!("pos:\t{}\nflags:\t0{:o}\nino:\t{}\n", file.offset(), flags, ino);
    s.push_str(&file.file().fdinfo());
    Ok(s.into_bytes())
}

impl Inode for FdInfoDir {
    super::read_only_dir!();

    fn metadata(&self) -> Metadata {
        metadata(
            &self.fs,
            ino::of_pid(self.pid, ino::FDINFO_DIR),
            S_IFDIR | 0o555,
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
        match name {
            "." => return Ok(FdInfoDir::new(self.fs.clone(), self.pid)),
            ".." => return Ok(super::pid::PidDir::new(self.fs.clone(), self.pid)),
            _ => {}
        }
        let p = super::inspected(self.pid)?;
        let fd = parse_pid(name).and_then(|n| i32::try_from(n).ok()).ok_or(Errno::ENOENT)?;
        p.files().lock().get(fd).map_err(|_| Errno::ENOENT)?;
        let pid = self.pid;
        let ino = ino::of_pid(pid, ino::FDINFO_FILE + fd as u64);
        let gen = Arc::new(move || text(pid, fd));
        Ok(GenFile::new(self.fs.clone(), ino, 0o444, Owner::Process(pid), Errno::EINVAL, gen))
    }

    fn readdir(&self) -> Result<Vec<DirEntry>> {
        super::fd::descriptor_listing(self.pid, ino::FDINFO_DIR, ino::FDINFO_FILE, S_IFREG)
    }

    fn readdir_from(&self, from: u64, max: usize) -> Result<Vec<(u64, DirEntry)>> {
        numbered_positions(self.readdir()?, 2, from, max)
    }
}
