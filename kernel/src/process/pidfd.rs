//! pidfds (CLONE_PIDFD, pidfd_open): a file that names a process. It polls readable once the
//! process has exited (all its threads gone), and pidfd_send_signal signals through it.

use alloc::format;
use alloc::string::String;
use alloc::sync::{Arc, Weak};
use core::any::Any;

use super::Process;
use crate::error::{Errno, Result};
use crate::event::{IoEvents, Poller};
use crate::fs::file::{FileLike, OpenFile, O_RDWR};
use crate::fs::inode::Metadata;
use crate::mm::user::UserPtr;

pub struct PidFd {
    /// Weak: like Linux's `struct pid`, a pidfd does not keep the process (or its zombie) alive.
    proc: Weak<Process>,
    pid: u32,
}

impl PidFd {
    pub fn new(proc: &Arc<Process>) -> Arc<PidFd> {
        Arc::new(PidFd { proc: Arc::downgrade(proc), pid: proc.pid })
    }

    /// The process, while it exists (a zombie included).
    pub fn process(&self) -> Option<Arc<Process>> {
        self.proc.upgrade()
    }

    fn exited(&self) -> bool {
        self.process().is_none_or(|p| p.is_zombie())
    }
}

impl FileLike for PidFd {
    fn read(
        &self,
        _buf: &mut crate::mm::io::VmWriter,
        _offset: u64,
        _nonblock: bool,
    ) -> Result<usize> {
        Err(Errno::EINVAL)
    }

    fn write(
        &self,
        _buf: &crate::mm::io::VmReader,
        _offset: u64,
        _nonblock: bool,
    ) -> Result<usize> {
        Err(Errno::EINVAL)
    }

    fn poll(&self, mask: IoEvents, poller: Option<&Poller>) -> IoEvents {
        if let (Some(p), Some(proc)) = (poller, self.process()) {
            p.watch(&proc.exit_pollee, mask);
        }
        if self.exited() {
            IoEvents::readable()
        } else {
            IoEvents::empty()
        }
    }

    fn is_pollable(&self) -> bool {
        true
    }

    fn anon_name(&self) -> Option<&'static str> {
        Some("[pidfd]")
    }

    fn metadata(&self) -> Metadata {
        crate::fs::anon::metadata("[pidfd]")
    }

    fn fdinfo(&self) -> String {
        // -1 once the process has been reaped, as Linux.
        let pid = if self.process().is_some() { self.pid as i64 } else { -1 };
        format!("Pid:\t{}\nNSpid:\t{}\n", pid, pid)
    }

    fn as_any(&self) -> Option<&dyn Any> {
        Some(self)
    }
}

/// A new pidfd for `proc` in the caller's table (close-on-exec, as Linux's are).
pub fn open(proc: &Arc<Process>, nonblock: bool) -> Result<i32> {
    let flags = O_RDWR | if nonblock { crate::fs::file::O_NONBLOCK } else { 0 };
    super::fileops::install(OpenFile::new(PidFd::new(proc), flags), true)
}

/// CLONE_PIDFD: reserves a pidfd for `proc` and stores its number at `addr` (EFAULT gives the
/// descriptor back); the caller publishes it once the clone has succeeded, or gives it back.
pub fn install(proc: &Arc<Process>, addr: u64) -> Result<i32> {
    let fd = super::fileops::reserve(OpenFile::new(PidFd::new(proc), O_RDWR), true)?;
    if let Err(e) = UserPtr::<i32>::new(addr).write(&fd) {
        super::fileops::unreserve(&[fd]);
        return Err(e);
    }
    Ok(fd)
}
