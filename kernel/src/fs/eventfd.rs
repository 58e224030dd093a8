//! eventfd: a 64-bit counter as a file. write adds, read takes the whole count (or one, in
//! semaphore mode); reads block at zero and writes block before the counter would overflow.

use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;

use super::file::FileLike;
use super::inode::Metadata;
use crate::error::{Errno, Result};
use crate::event::{IoEvents, Pollee, Poller};
use crate::mm::io::{VmReader, VmWriter};
use crate::sync::Mutex;
use crate::task::WaitError;

const MAX_COUNT: u64 = u64::MAX - 1;

pub struct EventFd {
    count: Mutex<u64>,
    semaphore: bool,
    /// Blocked readers and writers wait here; pollers watch it.
    pollee: Pollee,
}

impl EventFd {
    pub fn new(initial: u64, semaphore: bool) -> Arc<EventFd> {
        Arc::new(EventFd { count: Mutex::new(initial), semaphore, pollee: Pollee::new() })
    }

    fn try_take(&self) -> Option<u64> {
        let mut c = self.count.lock();
        if *c == 0 {
            return None;
        }
        let v = if self.semaphore { 1 } else { *c };
        *c -= v;
        Some(v)
    }

    fn try_add(&self, v: u64) -> bool {
        let mut c = self.count.lock();
        if MAX_COUNT - *c < v {
            return false;
        }
        *c += v;
        true
    }
}

impl FileLike for EventFd {
    fn read(&self, buf: &mut VmWriter, _offset: u64, nonblock: bool) -> Result<usize> {
        if buf.len() < 8 {
            return Err(Errno::EINVAL);
        }
        let v = match self.try_take() {
            Some(v) => v,
            None if nonblock => return Err(Errno::EAGAIN),
            None => self
                .pollee
                .wait_events(IoEvents::IN, None, || self.try_take())
                .map_err(WaitError::restart_errno)?,
        };
        // Linux takes the count before copying it out: a bad buffer loses it (EFAULT), and the
        // writers hear of the room either way.
        self.pollee.notify(IoEvents::OUT);
        buf.write(&v.to_ne_bytes())?;
        Ok(8)
    }

    fn write(&self, buf: &VmReader, _offset: u64, nonblock: bool) -> Result<usize> {
        // Exactly 8 bytes since Linux 6.5 (longer buffers were accepted before).
        if buf.len() != 8 {
            return Err(Errno::EINVAL);
        }
        let mut raw = [0u8; 8];
        buf.read(&mut raw)?;
        let v = u64::from_ne_bytes(raw);
        if v == u64::MAX {
            return Err(Errno::EINVAL);
        }
        if !self.try_add(v) {
            if nonblock {
                return Err(Errno::EAGAIN);
            }
            self.pollee
                .wait_events(IoEvents::OUT, None, || self.try_add(v).then_some(()))
                .map_err(WaitError::restart_errno)?;
        }
        // Linux signals EPOLLIN on every successful write, even of 0 (an edge-triggered epoll
        // entry fires again).
        self.pollee.notify(IoEvents::IN);
        Ok(8)
    }

    fn poll(&self, mask: IoEvents, poller: Option<&Poller>) -> IoEvents {
        if let Some(p) = poller {
            p.watch(&self.pollee, mask);
        }
        let c = *self.count.lock();
        let mut ev = IoEvents::empty();
        if c > 0 {
            ev |= IoEvents::readable();
        }
        if c < MAX_COUNT {
            ev |= IoEvents::writable();
        }
        ev
    }

    fn is_pollable(&self) -> bool {
        true
    }

    fn seek_is_noop(&self) -> bool {
        true
    }

    /// Linux's format (without its eventfd-id line, an IDA number not kept here).
    fn fdinfo(&self) -> String {
        let c = *self.count.lock();
        format!("eventfd-count: {:16x}\neventfd-semaphore: {}\n", c, self.semaphore as u8)
    }

    fn anon_name(&self) -> Option<&'static str> {
        Some("[eventfd]")
    }

    fn metadata(&self) -> Metadata {
        super::anon::metadata("[eventfd]")
    }
}
