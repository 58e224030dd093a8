//! signalfd: the calling process's pending signals in a mask, read as `signalfd_siginfo`
//! records instead of being delivered. It reads the signals of whichever process reads it.

use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use core::any::Any;
use core::sync::atomic::{AtomicU64, Ordering};

use bytemuck::{Pod, Zeroable};

use super::signal::{self, SigInfo, UNBLOCKABLE};
use crate::error::{Errno, Result};
use crate::event::{IoEvents, Poller};
use crate::fs::file::FileLike;
use crate::fs::inode::Metadata;
use crate::mm::io::{VmReader, VmWriter};
use crate::task::{self, WaitError};

const SI_TIMER: i32 = -2;

/// `struct signalfd_siginfo` (128 bytes).
#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct SignalfdSiginfo {
    signo: u32,
    errno: i32,
    code: i32,
    pid: u32,
    uid: u32,
    fd: i32,
    tid: u32,
    band: u32,
    overrun: u32,
    trapno: u32,
    status: i32,
    int: i32,
    ptr: u64,
    utime: u64,
    stime: u64,
    addr: u64,
    addr_lsb: u16,
    _pad2: u16,
    syscall: i32,
    call_addr: u64,
    arch: u32,
    _pad: [u8; 28],
}

/// Fills the record as Linux's signalfd_copyinfo does: only the fields of the siginfo's layout
/// (`siginfo_layout`), so a kill carries no address and SIGCHLD no value.
fn to_record(sig: u32, info: &SigInfo) -> SignalfdSiginfo {
    let mut r = SignalfdSiginfo::zeroed();
    r.signo = sig;
    r.errno = info.errno;
    r.code = info.code;
    let code = info.code;
    if code > signal::SI_USER && code < signal::SI_KERNEL {
        // Kernel-generated codes: the layout depends on the signal.
        match sig {
            signal::SIGCHLD => {
                r.pid = info.pid();
                r.uid = info.uid();
                r.status = info.status();
            }
            signal::SIGILL
            | signal::SIGFPE
            | signal::SIGSEGV
            | signal::SIGBUS
            | signal::SIGTRAP => {
                r.addr = info.fields[0];
            }
            _ => {
                r.pid = info.pid();
                r.uid = info.uid();
            }
        }
    } else if code == SI_TIMER {
        // POSIX timers: si_tid and si_overrun sit where kill's pid and uid do.
        r.tid = info.pid();
        r.overrun = info.uid();
        r.int = info.fields[1] as i32;
        r.ptr = info.fields[1];
    } else if code < 0 {
        // SI_QUEUE, SI_TKILL, SI_MESGQ, ...: pid, uid and the value.
        r.pid = info.pid();
        r.uid = info.uid();
        r.int = info.fields[1] as i32;
        r.ptr = info.fields[1];
    } else {
        // SI_USER, SI_KERNEL: pid and uid only.
        r.pid = info.pid();
        r.uid = info.uid();
    }
    r
}

pub struct SignalFd {
    mask: AtomicU64,
}

impl SignalFd {
    pub fn new(mask: u64) -> Arc<SignalFd> {
        Arc::new(SignalFd { mask: AtomicU64::new(mask & !UNBLOCKABLE) })
    }

    pub fn set_mask(&self, mask: u64) {
        self.mask.store(mask & !UNBLOCKABLE, Ordering::Relaxed);
    }

    fn take(&self) -> Option<(u32, SigInfo)> {
        let proc = super::current();
        signal::dequeue_in(&proc, &task::current(), self.mask.load(Ordering::Relaxed))
    }
}

impl FileLike for SignalFd {
    /// lseek answers 0 without moving (Linux's noop_llseek); pread and pwrite stay ESPIPE.
    fn seek_is_noop(&self) -> bool {
        true
    }

    fn read(&self, buf: &mut VmWriter, _offset: u64, nonblock: bool) -> Result<usize> {
        const RECORD: usize = 128;
        if buf.len() < RECORD {
            return Err(Errno::EINVAL);
        }
        let mut done = 0;
        while done + RECORD <= buf.len() {
            let next = match self.take() {
                Some(s) => s,
                None if done > 0 => break,
                None if nonblock => return Err(Errno::EAGAIN),
                None => {
                    let proc = super::current();
                    let t = task::current();
                    let mask = self.mask.load(Ordering::Relaxed);
                    let r = proc.signals.pollee.wait_events(IoEvents::IN, None, || {
                        (t.pending_all() & mask != 0).then_some(())
                    });
                    match r {
                        Err(WaitError::Interrupted) => return Err(Errno::ERESTARTSYS),
                        _ => continue,
                    }
                }
            };
            let rec = to_record(next.0, &next.1);
            buf.skip(done).write(bytemuck::bytes_of(&rec))?;
            done += RECORD;
        }
        Ok(done)
    }

    fn write(&self, _buf: &VmReader, _offset: u64, _nonblock: bool) -> Result<usize> {
        Err(Errno::EINVAL)
    }

    fn poll(&self, mask: IoEvents, poller: Option<&Poller>) -> IoEvents {
        let proc = super::current();
        if let Some(p) = poller {
            p.watch(&proc.signals.pollee, mask);
        }
        let pending = task::current().pending_all();
        if pending & self.mask.load(Ordering::Relaxed) != 0 {
            IoEvents::readable()
        } else {
            IoEvents::empty()
        }
    }

    fn is_pollable(&self) -> bool {
        true
    }

    fn anon_name(&self) -> Option<&'static str> {
        Some("[signalfd]")
    }

    fn metadata(&self) -> Metadata {
        crate::fs::anon::metadata("[signalfd]")
    }

    fn fdinfo(&self) -> String {
        format!("sigmask:\t{:016x}\n", self.mask.load(Ordering::Relaxed))
    }

    fn as_any(&self) -> Option<&dyn Any> {
        Some(self)
    }
}
