//! `FileLike` (what every kind of open object implements) and `OpenFile` (one open file
//! description: the object, the offset, the status flags and the path it was opened by; shared by
//! dup'ed descriptors and across fork).

use alloc::sync::Arc;
use core::any::Any;
use core::sync::atomic::{AtomicU32, AtomicUsize, Ordering};

use super::inode::{Inode, InodePages, Metadata, F_SEAL_FUTURE_WRITE, F_SEAL_WRITE, S_IFREG};
use super::notify::{self, IN_ACCESS, IN_CLOSE_NOWRITE, IN_CLOSE_WRITE, IN_MODIFY, IN_OPEN};
use super::path::Walk;
use crate::error::{Errno, Result};
use crate::event::{IoEvents, Observer, Poller};
use crate::mm::io::{VmReader, VmWriter};
use crate::mm::user::UserSlice;
use crate::sync::Mutex;

pub const O_ACCMODE: u32 = 3;
pub const O_RDONLY: u32 = 0;
pub const O_WRONLY: u32 = 1;
pub const O_RDWR: u32 = 2;
pub const O_CREAT: u32 = 0o100;
pub const O_EXCL: u32 = 0o200;
pub const O_NOCTTY: u32 = 0o400;
pub const O_TRUNC: u32 = 0o1000;
pub const O_APPEND: u32 = 0o2000;
pub const O_NONBLOCK: u32 = 0o4000;
pub const O_DSYNC: u32 = 0o10000;
pub const O_ASYNC: u32 = 0o20000;
pub const O_DIRECT: u32 = 0o40000;
pub const O_LARGEFILE: u32 = 0o100000;
pub const O_DIRECTORY: u32 = 0o200000;
pub const O_NOFOLLOW: u32 = 0o400000;
pub const O_NOATIME: u32 = 0o1000000;
pub const O_CLOEXEC: u32 = 0o2000000;
pub const O_SYNC: u32 = 0o4010000;
pub const O_PATH: u32 = 0o10000000;
pub const O_TMPFILE: u32 = 0o20200000;

/// Status flags F_SETFL may change.
pub const SETFL_MASK: u32 = O_APPEND | O_NONBLOCK | O_ASYNC | O_DIRECT | O_NOATIME;

pub trait FileLike: Send + Sync {
    /// Reads into `buf` at `offset` (seekable files) or at the stream's own position (others
    /// ignore it). `buf` is user memory (read(2): copies may fail with EFAULT) or a kernel buffer
    /// (sendfile, splice): one path for both.
    fn read(&self, buf: &mut VmWriter, offset: u64, nonblock: bool) -> Result<usize>;
    /// Writes from `buf` (user memory or a kernel buffer), as `read`.
    fn write(&self, buf: &VmReader, offset: u64, nonblock: bool) -> Result<usize>;
    /// Seekable files use the open file's offset; streams ignore it.
    fn is_seekable(&self) -> bool {
        false
    }
    fn ioctl(&self, _cmd: u32, _arg: u64) -> Result<i64> {
        Err(Errno::ENOTTY)
    }
    fn metadata(&self) -> Metadata;
    /// The inode behind this file, for file-system operations through an fd.
    fn inode(&self) -> Option<Arc<dyn Inode>> {
        None
    }
    /// Current readiness for `mask`; with a poller, also watch for changes. Objects that never
    /// block (regular files, most devices) are always readable and writable.
    fn poll(&self, _mask: IoEvents, _poller: Option<&Poller>) -> IoEvents {
        IoEvents::readable() | IoEvents::writable()
    }
    /// splice and sendfile may read from it (Linux's `f_op->splice_read` is set); EINVAL
    /// otherwise. The bytes come through `read` like any others.
    fn can_splice_read(&self) -> bool {
        false
    }
    /// splice and sendfile may write to it (Linux's `f_op->splice_write`), through `write`.
    fn can_splice_write(&self) -> bool {
        false
    }
    /// The name of an anonymous-inode file ("[eventfd]", "[eventpoll]", ...) for /proc links.
    fn anon_name(&self) -> Option<&'static str> {
        None
    }
    /// What /proc/<pid>/fd/<n> links to for a file with no path of its own that is not an
    /// anonymous inode (a memfd: "/memfd:NAME (deleted)").
    fn proc_link(&self) -> Option<alloc::string::String> {
        None
    }
    /// Lines /proc/<pid>/fdinfo/<n> shows after the common ones (signalfd: "sigmask:\t...\n").
    fn fdinfo(&self) -> alloc::string::String {
        alloc::string::String::new()
    }
    /// Can epoll watch it? (Regular files and simple devices have no readiness to wait for.)
    fn is_pollable(&self) -> bool {
        false
    }
    /// Devices on which every lseek lands at one position (/dev/null and friends: 0).
    fn fixed_seek(&self) -> Option<u64> {
        None
    }
    /// lseek succeeds without moving and answers the offset, which stays 0 (Linux's
    /// noop_llseek: eventfd), while pread and pwrite still fail with ESPIPE.
    fn seek_is_noop(&self) -> bool {
        false
    }
    /// The socket behind a socket descriptor.
    fn as_socket(&self) -> Option<&dyn super::socket::Socket> {
        None
    }
    /// The object itself, for the layers above `fs` that need their own type back (signalfd4 on
    /// an existing signalfd, mq_* on a queue descriptor): a downcast, as `Inode::as_any`, so that
    /// `fs` names no type of `process` or `ipc`. `None` for the kinds nobody downcasts.
    fn as_any(&self) -> Option<&dyn Any> {
        None
    }
    /// The epoll instance behind an epoll fd (for nesting checks).
    fn epoll(&self) -> Option<&Arc<super::epoll::EpollInstance>> {
        None
    }
    /// The pipe behind a pipe or FIFO end (F_GETPIPE_SZ, F_SETPIPE_SZ, splice).
    fn pipe(&self) -> Option<&Arc<super::pipe::Pipe>> {
        None
    }
    /// What mmap maps for this file (Linux's `f_op->mmap`): `shared` for MAP_SHARED, `write`
    /// for PROT_WRITE, `fd_writable` if the descriptor was opened for writing. A file that
    /// cannot be mapped (pipes, sockets, terminals, /proc files, message queues) is ENODEV.
    fn mmap(&self, _shared: bool, _write: bool, _fd_writable: bool) -> Result<Mapping> {
        Err(Errno::ENODEV)
    }
    /// Does O_ASYNC make it signal its owner (Linux's `f_op->fasync`)? Pipes, FIFOs, sockets and
    /// terminals do; eventfd, timerfd, epoll and regular files take the flag without effect.
    fn has_fasync(&self) -> bool {
        self.pipe().is_some() || self.as_socket().is_some()
    }
    /// A process closed a descriptor of this file (close, dup2 over it, exec, exit): a
    /// message queue forgets that process's mq_notify registration, as Linux's flush does.
    fn closed_by(&self, _pid: u32) {}
}

/// What a file gives mmap (see `FileLike::mmap`).
pub enum Mapping {
    /// Anonymous memory, as /dev/zero gives.
    Anonymous,
    /// The file's own pages. `read_only`: a shared mapping that may never become writable
    /// (a read-only descriptor or a write-sealed file: Linux clears VM_MAYWRITE).
    Pages { source: InodePages, read_only: bool },
}

pub struct OpenFile {
    file: Arc<dyn FileLike>,
    offset: Mutex<u64>,
    /// Access mode and status flags (O_NONBLOCK, O_APPEND, O_PATH, ...).
    flags: AtomicU32,
    /// How it was opened, for fchdir, *at dirfds and /proc/<pid>/fd.
    path: Option<Walk>,
    /// References held by messages in flight (SCM_RIGHTS), for the unix socket collector.
    inflight: AtomicUsize,
    /// Signal-driven I/O (fcntl(2) F_SETOWN, F_SETSIG, O_ASYNC).
    sigio: Mutex<SigioState>,
}

/// F_OWNER_TID, F_OWNER_PID, F_OWNER_PGRP: what an owner's id names.
pub const F_OWNER_TID: i32 = 0;
pub const F_OWNER_PID: i32 = 1;
pub const F_OWNER_PGRP: i32 = 2;

/// Who an open file signals when it becomes ready (Linux's `struct fown_struct`): a thread, a
/// process or a process group (`kind`, `id`; id 0: nobody), with which signal (`sig`, 0 for
/// plain SIGIO), and the ids of whoever set it, for the permission check at sending time.
#[derive(Clone, Copy, Debug)]
pub struct FileOwner {
    pub kind: i32,
    pub id: u32,
    pub sig: u32,
    pub uid: u32,
    pub euid: u32,
}

impl Default for FileOwner {
    /// Linux's initial owner: type PIDTYPE_PID (F_OWNER_TID), nobody.
    fn default() -> Self {
        FileOwner { kind: F_OWNER_TID, id: 0, sig: 0, uid: 0, euid: 0 }
    }
}

#[derive(Default)]
struct SigioState {
    owner: FileOwner,
    /// While O_ASYNC is on: the observer registered with the object's `Pollee`, which the layer
    /// that can send signals supplies (it only lives as long as this reference).
    fasync: Option<Arc<dyn Observer>>,
}

/// Open file descriptions in the system (/proc/sys/fs/file-nr).
static OPEN_FILES: AtomicUsize = AtomicUsize::new(0);

pub fn open_files() -> usize {
    OPEN_FILES.load(Ordering::Relaxed)
}

/// fs.file-max as Linux sizes it: 10% of memory in KiB (a file per KiB), at least 8192.
pub fn file_max() -> usize {
    (crate::mm::frame::total_frames() * 4 / 10).max(8192)
}

/// ENFILE once the open file descriptions (the new one counted) pass fs.file-max; the caller
/// exempts root.
pub fn check_file_max() -> Result<()> {
    if open_files() > file_max() {
        Err(Errno::ENFILE)
    } else {
        Ok(())
    }
}

impl Drop for OpenFile {
    /// The open file description is finally closed: its OFD and flock locks go with it.
    fn drop(&mut self) {
        OPEN_FILES.fetch_sub(1, Ordering::Relaxed);
        super::lock::open_file_closed(self);
        let close = if self.writable() { IN_CLOSE_WRITE } else { IN_CLOSE_NOWRITE };
        self.path_event(close);
    }
}

impl OpenFile {
    pub fn new(file: Arc<dyn FileLike>, flags: u32) -> Arc<OpenFile> {
        Self::with_path(file, flags, None)
    }

    pub fn with_path(file: Arc<dyn FileLike>, flags: u32, path: Option<Walk>) -> Arc<OpenFile> {
        OPEN_FILES.fetch_add(1, Ordering::Relaxed);
        let open = Arc::new(OpenFile {
            file,
            offset: Mutex::new(0),
            flags: AtomicU32::new(flags & !(O_CLOEXEC | O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC)),
            path,
            inflight: AtomicUsize::new(0),
            sigio: Mutex::new(SigioState::default()),
        });
        open.path_event(IN_OPEN);
        open
    }

    /// Reports `mask` (IN_OPEN, IN_MODIFY, ...) on the file this was opened by path as (not
    /// through O_PATH, not a socket or pipe made without one).
    fn path_event(&self, mask: u32) {
        if let Some(path) = &self.path {
            if !self.is_path_only() && self.file.inode().is_some() {
                notify::path_event(path, mask);
            }
        }
    }

    pub fn file(&self) -> &Arc<dyn FileLike> {
        &self.file
    }

    /// Counts a reference held by a message in flight (or, with `false`, its end).
    pub fn set_inflight(&self, more: bool) {
        if more {
            self.inflight.fetch_add(1, Ordering::AcqRel);
        } else {
            self.inflight.fetch_sub(1, Ordering::AcqRel);
        }
    }

    pub fn inflight(&self) -> usize {
        self.inflight.load(Ordering::Acquire)
    }

    pub fn path(&self) -> Option<&Walk> {
        self.path.as_ref()
    }

    pub fn flags(&self) -> u32 {
        self.flags.load(Ordering::Relaxed)
    }

    pub fn set_status_flags(&self, new: u32) {
        let old = self.flags();
        self.flags.store((old & !SETFL_MASK) | (new & SETFL_MASK), Ordering::Relaxed);
    }

    fn nonblock(&self) -> bool {
        self.flags() & O_NONBLOCK != 0
    }

    pub fn is_path_only(&self) -> bool {
        self.flags() & O_PATH != 0
    }

    pub fn readable(&self) -> bool {
        !self.is_path_only() && self.flags() & O_ACCMODE != O_WRONLY
    }

    pub fn writable(&self) -> bool {
        !self.is_path_only() && self.flags() & O_ACCMODE != O_RDONLY
    }

    pub fn owner(&self) -> FileOwner {
        self.sigio.lock().owner
    }

    /// F_SETOWN, F_SETOWN_EX, F_SETSIG: `f` changes the owner.
    pub fn update_owner(&self, f: impl FnOnce(&mut FileOwner)) {
        f(&mut self.sigio.lock().owner);
    }

    /// Turns signal-driven I/O on (`Some`: the observer to keep registered on the object) or off.
    /// The observer is registered on the file's `Pollee`(s) as an epoll entry is, so every file
    /// type that reports readiness reports it to SIGIO too, from its one notify point.
    pub fn set_fasync(&self, observer: Option<Arc<dyn Observer>>) {
        let observer = observer.filter(|_| self.file.has_fasync());
        if let Some(o) = &observer {
            let poller = Poller::for_observer(Arc::downgrade(o));
            let mask = IoEvents::readable()
                | IoEvents::writable()
                | IoEvents::PRI
                | IoEvents::RDHUP
                | IoEvents::MSG;
            self.file.poll(mask, Some(&poller));
        }
        // The old observer (if any) goes: its weak registrations die with it.
        let old = core::mem::replace(&mut self.sigio.lock().fasync, observer);
        drop(old);
    }

    pub fn offset(&self) -> u64 {
        *self.offset.lock()
    }

    pub fn set_offset(&self, off: u64) {
        *self.offset.lock() = off;
    }

    pub fn read(&self, buf: UserSlice) -> Result<usize> {
        if !self.readable() {
            return Err(Errno::EBADF);
        }
        buf.check()?;
        let buf = &mut VmWriter::user(buf);
        if !self.file.is_seekable() {
            return self.file.read(buf, 0, self.nonblock());
        }
        let off = self.offset();
        let n = self.file.read(buf, off, self.nonblock())?;
        self.set_offset(off + n as u64);
        if n > 0 {
            self.path_event(IN_ACCESS);
        }
        Ok(n)
    }

    pub fn write(&self, buf: UserSlice) -> Result<usize> {
        if !self.writable() {
            return Err(Errno::EBADF);
        }
        buf.check()?;
        let buf = &VmReader::user(buf);
        if !self.file.is_seekable() {
            return self.file.write(buf, 0, self.nonblock());
        }
        let off =
            if self.flags() & O_APPEND != 0 { self.file.metadata().size } else { self.offset() };
        let n = self.file.write(buf, off, self.nonblock())?;
        self.set_offset(off + n as u64);
        if n > 0 {
            self.path_event(IN_MODIFY);
        }
        Ok(n)
    }

    /// splice/sendfile's read: into `buf` at the file's offset (or `at`); `nonblock` adds to
    /// the file's own O_NONBLOCK (SPLICE_F_NONBLOCK). EINVAL for a file splice cannot read.
    pub fn splice_read(
        &self,
        buf: &mut VmWriter,
        at: Option<u64>,
        nonblock: bool,
    ) -> Result<usize> {
        if !self.readable() {
            return Err(Errno::EBADF);
        }
        if !self.file.can_splice_read() {
            return Err(Errno::EINVAL);
        }
        let seekable = self.file.is_seekable();
        let off = at.unwrap_or_else(|| if seekable { self.offset() } else { 0 });
        let n = self.file.read(buf, off, nonblock || self.nonblock())?;
        if seekable && at.is_none() {
            self.set_offset(off + n as u64);
        }
        Ok(n)
    }

    /// splice/sendfile's write: from `data` at the file's offset (or `at`).
    pub fn splice_write(&self, data: &VmReader, at: Option<u64>, nonblock: bool) -> Result<usize> {
        if !self.writable() {
            return Err(Errno::EBADF);
        }
        if !self.file.can_splice_write() {
            return Err(Errno::EINVAL);
        }
        let seekable = self.file.is_seekable();
        let off = match at {
            Some(o) => o,
            None if seekable && self.flags() & O_APPEND != 0 => self.file.metadata().size,
            None if seekable => self.offset(),
            None => 0,
        };
        let n = self.file.write(data, off, nonblock || self.nonblock())?;
        if seekable && at.is_none() {
            self.set_offset(off + n as u64);
        }
        Ok(n)
    }

    pub fn pread(&self, buf: UserSlice, off: u64) -> Result<usize> {
        if !self.readable() {
            return Err(Errno::EBADF);
        }
        if !self.file.is_seekable() && self.file.fixed_seek().is_none() {
            return Err(Errno::ESPIPE);
        }
        buf.check()?;
        self.file.read(&mut VmWriter::user(buf), off, self.nonblock())
    }

    pub fn pwrite(&self, buf: UserSlice, off: u64) -> Result<usize> {
        if !self.writable() {
            return Err(Errno::EBADF);
        }
        if !self.file.is_seekable() && self.file.fixed_seek().is_none() {
            return Err(Errno::ESPIPE);
        }
        buf.check()?;
        // Linux quirk kept: pwrite on an O_APPEND file appends.
        let off = if self.flags() & O_APPEND != 0 { self.file.metadata().size } else { off };
        let n = self.file.write(&VmReader::user(buf), off, self.nonblock())?;
        if n > 0 {
            self.path_event(IN_MODIFY);
        }
        Ok(n)
    }
}

/// An open regular file or directory of any inode-based file system.
pub struct InodeFile {
    inode: Arc<dyn Inode>,
}

impl InodeFile {
    pub fn new(inode: Arc<dyn Inode>) -> Arc<InodeFile> {
        Arc::new(InodeFile { inode })
    }
}

/// Bytes moved through the kernel per step between a file and user memory.
const CHUNK: usize = 4096;

impl FileLike for InodeFile {
    fn read(&self, buf: &mut VmWriter, offset: u64, _nonblock: bool) -> Result<usize> {
        let mut chunk = [0u8; CHUNK];
        let mut done = 0;
        while done < buf.len() {
            let want = (buf.len() - done).min(CHUNK);
            let n = self.inode.read_at(offset + done as u64, &mut chunk[..want])?;
            if n == 0 {
                break;
            }
            if let Err(e) = buf.skip(done).write(&chunk[..n]) {
                return if done > 0 { Ok(done) } else { Err(e) };
            }
            done += n;
            if n < want {
                break;
            }
        }
        Ok(done)
    }

    fn write(&self, buf: &VmReader, offset: u64, _nonblock: bool) -> Result<usize> {
        let mut chunk = [0u8; CHUNK];
        let mut done = 0;
        while done < buf.len() {
            let n = (buf.len() - done).min(CHUNK);
            if let Err(e) = buf.skip(done).take(n).read(&mut chunk[..n]) {
                return if done > 0 { Ok(done) } else { Err(e) };
            }
            match self.inode.write_at(offset + done as u64, &chunk[..n]) {
                Ok(w) => done += w,
                Err(e) if done == 0 => return Err(e),
                Err(_) => break,
            }
        }
        Ok(done)
    }

    fn is_seekable(&self) -> bool {
        true
    }

    /// A regular file maps its pages. A write-sealed one takes no writable shared mapping,
    /// and a read-only shared mapping of it may not become writable.
    fn mmap(&self, shared: bool, write: bool, fd_writable: bool) -> Result<Mapping> {
        if self.inode.metadata().file_type() != S_IFREG {
            return Err(Errno::ENODEV);
        }
        let write_sealed =
            self.inode.seals().is_ok_and(|s| s & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE) != 0);
        if shared && write_sealed && write {
            return Err(Errno::EPERM);
        }
        let read_only = shared && (!fd_writable || write_sealed);
        // A mapping that may write counts against F_SEAL_WRITE while it lives.
        let writer = if shared && !read_only { self.inode.writable_mapping() } else { None };
        Ok(Mapping::Pages { source: InodePages(self.inode.clone(), writer), read_only })
    }

    fn can_splice_read(&self) -> bool {
        true
    }

    fn can_splice_write(&self) -> bool {
        true
    }

    fn metadata(&self) -> Metadata {
        self.inode.metadata()
    }

    fn inode(&self) -> Option<Arc<dyn Inode>> {
        Some(self.inode.clone())
    }
}
