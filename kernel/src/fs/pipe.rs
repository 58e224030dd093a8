//! Pipes and FIFOs. A `Pipe` is a ring of page frames (16 slots by default, F_SETPIPE_SZ
//! changes it; a frame is taken when the first byte is written into its slot and kept until the
//! pipe goes or is resized, so an idle pipe holds none) with its reader and writer counts; `PipeReader` and `PipeWriter` are the two open ends. Writes
//! of at most PIPE_BUF bytes are atomic; readers sleep until data or until the last writer goes
//! (end of file); writers sleep while the ring is full and get EPIPE once no reader is left.
//! In packet mode (O_DIRECT) every write is one message and a read returns at most one.

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};

use page_ring::Pages;

use super::file::{FileLike, O_ACCMODE, O_DIRECT, O_NONBLOCK, O_RDONLY, O_RDWR, O_WRONLY};
use super::inode::{Metadata, S_IFIFO};
use crate::error::{Errno, Result};
use crate::event::{IoEvents, Pollee, Poller};
use crate::mm::frame::{UniqueFrame, PAGE_SIZE};
use crate::mm::io::{VmReader, VmWriter};
use crate::mm::user::UserPtr;
use crate::sync::Mutex;
use crate::task::{WaitError, WaitQueue};

pub const PIPE_BUF: usize = 4096;
pub const DEFAULT_PAGES: usize = 16;
/// /proc/sys/fs/pipe-max-size: the most an unprivileged F_SETPIPE_SZ may ask for.
pub const PIPE_MAX_SIZE: usize = 1 << 20;
const FIONREAD: u32 = 0x541b;

static NEXT_INO: AtomicU64 = AtomicU64::new(1);
/// The device of the pipe pseudo file system (anonymous, like Linux's pipefs).
static PIPEFS_DEV: spin::Once<u64> = spin::Once::new();

fn pipefs_dev() -> u64 {
    *PIPEFS_DEV.call_once(super::mount::new_anonymous_dev)
}

/// The page frames a pipe's ring lies on (`page_ring` keeps the bytes in order over them).
/// Nothing else sees them, so the ring borrows their bytes directly. A slot gets its frame
/// when data first arrives in it, as Linux gives a pipe its pages: an idle pipe costs its
/// bookkeeping only (with 16 frames each from the start, 512 MiB held under 7,000 pipes).
/// Frames stay until the pipe goes, so a busy pipe does not allocate on every write.
struct FramePages(Vec<Option<UniqueFrame>>);

impl FramePages {
    /// `count` empty slots, or None when memory runs out.
    fn new(count: usize) -> Option<FramePages> {
        let mut v = Vec::new();
        v.try_reserve_exact(count).ok()?;
        v.resize_with(count, || None);
        Some(FramePages(v))
    }
}

/// The ring found no frame for a write: memory ran out, which write(2) reports as ENOMEM.
impl From<page_ring::NoPage> for Errno {
    fn from(_: page_ring::NoPage) -> Errno {
        Errno::ENOMEM
    }
}

impl Pages for FramePages {
    fn page_size(&self) -> usize {
        PAGE_SIZE as usize
    }

    fn count(&self) -> usize {
        self.0.len()
    }

    fn page(&mut self, i: usize) -> &mut [u8] {
        // The ring only touches slots it prepared (bytes are read only where they were written).
        match &mut self.0[i] {
            Some(frame) => &mut frame.as_bytes_mut()[..],
            None => unreachable!("pipe page {i} used before it was prepared"),
        }
    }

    fn prepare(&mut self, i: usize) -> bool {
        if self.0[i].is_none() {
            self.0[i] = UniqueFrame::alloc();
        }
        self.0[i].is_some()
    }
}

type Ring = page_ring::Ring<FramePages>;

struct State {
    ring: Ring,
    readers: usize,
    writers: usize,
    /// How many read / write opens there have ever been (a FIFO opener waits for the other
    /// side's count to move, so a peer that opened and closed at once still releases it).
    read_opens: u64,
    write_opens: u64,
}

pub struct Pipe {
    ino: u64,
    state: Mutex<State>,
    /// FIFO opens wait here for the other side.
    opened: WaitQueue,
    /// Readers wait here for data or end of file, writers for room or for readers to go, and
    /// pollers watch it.
    pollee: Pollee,
    created_ns: i64,
}

impl Pipe {
    pub fn new() -> Result<Arc<Pipe>> {
        let pages = FramePages::new(DEFAULT_PAGES).ok_or(Errno::ENFILE)?;
        Ok(Arc::new(Pipe {
            ino: NEXT_INO.fetch_add(1, Ordering::Relaxed),
            state: Mutex::new(State {
                ring: Ring::new(pages),
                readers: 0,
                writers: 0,
                read_opens: 0,
                write_opens: 0,
            }),
            opened: WaitQueue::new(),
            pollee: Pollee::new(),
            created_ns: crate::arch::time::realtime_ns(),
        }))
    }

    fn metadata(&self) -> Metadata {
        let t = self.created_ns;
        Metadata {
            dev: pipefs_dev(),
            ino: self.ino,
            mode: S_IFIFO | 0o600,
            nlink: 1,
            blksize: PAGE_SIZE as u32,
            atime_ns: t,
            mtime_ns: t,
            ctime_ns: t,
            ..Metadata::default()
        }
    }

    fn add_end(&self, read: bool, write: bool) {
        let mut s = self.state.lock();
        if read {
            s.readers += 1;
            s.read_opens += 1;
        }
        if write {
            s.writers += 1;
            s.write_opens += 1;
        }
        drop(s);
        self.opened.wake_all();
    }

    fn drop_end(&self, read: bool, write: bool) {
        let mut s = self.state.lock();
        if read {
            s.readers -= 1;
        }
        if write {
            s.writers -= 1;
        }
        if s.readers == 0 && s.writers == 0 {
            // A FIFO's content does not outlive its last open end.
            s.ring.clear();
        }
        drop(s);
        // Readers may now see end of file, writers EPIPE.
        self.pollee.notify(IoEvents::HUP | IoEvents::ERR | IoEvents::IN | IoEvents::OUT);
    }

    /// Readiness of an end that reads (`read`), writes (`write`) or both. A reader sees HUP once
    /// every writer that came after `writers_seen` has gone.
    fn poll_end(
        &self,
        read: bool,
        write: bool,
        writers_seen: u64,
        mask: IoEvents,
        poller: Option<&Poller>,
    ) -> IoEvents {
        if let Some(p) = poller {
            p.watch(&self.pollee, mask);
        }
        let s = self.state.lock();
        let mut ev = IoEvents::empty();
        if read {
            if !s.ring.is_empty() {
                ev |= IoEvents::readable();
            }
            if s.writers == 0 && s.write_opens != writers_seen {
                ev |= IoEvents::HUP;
            }
        }
        if write {
            if s.ring.free() >= PIPE_BUF && !s.ring.slots_full() {
                ev |= IoEvents::writable();
            }
            if s.readers == 0 {
                ev |= IoEvents::ERR;
            }
        }
        ev
    }

    fn try_read(&self, buf: &mut VmWriter, nonblock: bool, peek: bool) -> Option<Result<usize>> {
        let mut s = self.state.lock();
        if s.ring.is_empty() {
            return if s.writers == 0 {
                Some(Ok(0))
            } else if nonblock {
                Some(Err(Errno::EAGAIN))
            } else {
                None
            };
        }
        // One message per read in packet mode; what does not fit is discarded.
        let r = s.ring.pop_packet(buf.len(), peek, |done, chunk| buf.write_at(done, chunk));
        drop(s);
        if peek {
            return Some(r);
        }
        self.pollee.notify(IoEvents::OUT);
        Some(r)
    }

    /// Reads into `buf`, sleeping while the pipe is empty and has writers. With `peek` the
    /// bytes stay in the pipe (tee).
    pub fn read(&self, buf: &mut VmWriter, nonblock: bool, peek: bool) -> Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        if let Some(r) = self.try_read(buf, nonblock, peek) {
            return r;
        }
        let mut result = None;
        self.pollee
            .wait_events(IoEvents::IN, None, || {
                result = self.try_read(buf, nonblock, peek);
                result.as_ref().map(|_| ())
            })
            .map_err(WaitError::restart_errno)?;
        result.unwrap_or(Ok(0))
    }

    pub fn write(&self, buf: &VmReader, nonblock: bool, packet: bool) -> Result<usize> {
        let total = buf.len();
        if total == 0 {
            return Ok(0);
        }
        // Up to PIPE_BUF bytes go in at once or not at all.
        let atomic = total <= PIPE_BUF;
        let mut done = 0;
        loop {
            let mut s = self.state.lock();
            if s.readers == 0 {
                return if done > 0 { Ok(done) } else { Err(Errno::EPIPE) };
            }
            let free = s.ring.free();
            let room = if packet { !s.ring.slots_full() && free > 0 } else { true };
            if room && ((atomic && free >= total) || (!atomic && free > 0)) {
                let from = done;
                let copy = |at: usize, chunk: &mut [u8]| buf.read_at(from + at, chunk);
                let left = total - done;
                let n = if packet {
                    s.ring.push_packet(left.min(PIPE_BUF), copy)?
                } else {
                    s.ring.push(left, copy)?
                };
                done += n;
                drop(s);
                self.pollee.notify(IoEvents::IN);
                if done == total {
                    return Ok(done);
                }
                continue;
            }
            drop(s);
            if nonblock {
                return if done > 0 { Ok(done) } else { Err(Errno::EAGAIN) };
            }
            let need = if atomic { total } else { 1 };
            let waited = self.pollee.wait_events(IoEvents::OUT, None, || {
                let s = self.state.lock();
                let slot = !packet || !s.ring.slots_full();
                (s.readers == 0 || (slot && s.ring.free() >= need)).then_some(())
            });
            if let Err(e) = waited {
                return if done > 0 { Ok(done) } else { Err(e.restart_errno()) };
            }
        }
    }

    pub fn available(&self) -> usize {
        self.state.lock().ring.len()
    }

    pub fn capacity(&self) -> usize {
        self.state.lock().ring.capacity()
    }

    /// F_SETPIPE_SZ: rounds up to a power-of-two number of pages; returns the new size.
    pub fn set_capacity(&self, size: usize, privileged: bool) -> Result<usize> {
        if size > PIPE_MAX_SIZE && !privileged {
            return Err(Errno::EPERM);
        }
        if size > (1 << 31) {
            return Err(Errno::EINVAL);
        }
        let pages = size.div_ceil(PAGE_SIZE as usize).max(1).next_power_of_two();
        let mut s = self.state.lock();
        if pages * PAGE_SIZE as usize == s.ring.capacity() {
            return Ok(s.ring.capacity());
        }
        if s.ring.len() > pages * PAGE_SIZE as usize {
            return Err(Errno::EBUSY);
        }
        let new = FramePages::new(pages).ok_or(Errno::ENOMEM)?;
        // The old frames go back when the returned pages drop. The content fits (checked
        // above), so a failure is the frames for it running out.
        if s.ring.replace_pages(new).is_err() {
            return Err(Errno::ENOMEM);
        }
        let cap = s.ring.capacity();
        drop(s);
        self.pollee.notify(IoEvents::OUT);
        Ok(cap)
    }

    /// Opening a FIFO with `flags`: the end, after the blocking rules of fifo(7). Its fstat is
    /// the FIFO inode's.
    pub fn open_fifo(
        self: &Arc<Self>,
        flags: u32,
        inode: Arc<dyn super::inode::Inode>,
    ) -> Result<Arc<dyn FileLike>> {
        let end = self.open_end(flags, false)?;
        Ok(Arc::new(FifoFile { end, inode }))
    }

    /// A blocking FIFO open waits until the other side is open: `side` gives that side's
    /// (open ends, opens ever). Waiting for the count to move, not just for a live end, lets
    /// a peer that opened and closed at once still release us.
    fn wait_for_other_side(&self, side: impl Fn(&State) -> (usize, u64)) -> Result<()> {
        let seen = side(&self.state.lock()).1;
        let r = self.opened.wait_until(
            || {
                let (ends, opens) = side(&self.state.lock());
                (ends > 0 || opens != seen).then_some(())
            },
            None,
        );
        r.map_err(WaitError::restart_errno)
    }

    /// Reopening a pipe (made by pipe(2)) through /proc/<pid>/fd/N: the end the flags ask
    /// for, at once. Linux's fifo_open skips every wait and ENXIO for a pipe, whether its other
    /// side is open or not (a read then sees end of file, a write EPIPE), which is what
    /// process substitution (`diff <(a) <(b)`) relies on.
    pub fn reopen_end(self: &Arc<Self>, flags: u32) -> Result<Arc<dyn FileLike>> {
        self.open_end(flags, true)
    }

    /// A pipe end as an open of the FIFO (`is_pipe`: of the pipe) gives it.
    fn open_end(self: &Arc<Self>, flags: u32, is_pipe: bool) -> Result<Arc<dyn FileLike>> {
        let nonblock = flags & O_NONBLOCK != 0 || is_pipe;
        let packet = flags & O_DIRECT != 0;
        match flags & O_ACCMODE {
            O_RDONLY => {
                // A pipe reader sees POLLHUP as soon as no writer is left, as Linux's.
                let writers_seen = if is_pipe { 0 } else { self.state.lock().write_opens };
                self.add_end(true, false);
                let end = Arc::new(PipeReader { pipe: self.clone(), writers_seen });
                if !nonblock {
                    self.wait_for_other_side(|s| (s.writers, s.write_opens))?;
                }
                Ok(end)
            }
            O_WRONLY => {
                if nonblock && !is_pipe && self.state.lock().readers == 0 {
                    return Err(Errno::ENXIO);
                }
                self.add_end(false, true);
                let end = Arc::new(PipeWriter { pipe: self.clone(), packet });
                if !nonblock {
                    self.wait_for_other_side(|s| (s.readers, s.read_opens))?;
                }
                Ok(end)
            }
            O_RDWR => {
                let writers_seen = self.state.lock().write_opens;
                self.add_end(true, true);
                Ok(Arc::new(PipeDuplex { pipe: self.clone(), packet, writers_seen }))
            }
            _ => Err(Errno::EINVAL),
        }
    }
}

/// pipe(2): a connected reader and writer.
pub fn new_pair(packet: bool) -> Result<(Arc<PipeReader>, Arc<PipeWriter>)> {
    let pipe = Pipe::new()?;
    pipe.add_end(true, true);
    Ok((
        Arc::new(PipeReader { pipe: pipe.clone(), writers_seen: 0 }),
        Arc::new(PipeWriter { pipe, packet }),
    ))
}

fn pipe_ioctl(pipe: &Pipe, cmd: u32, arg: u64) -> Result<i64> {
    match cmd {
        FIONREAD => UserPtr::<i32>::new(arg).write(&(pipe.available() as i32)).map(|_| 0),
        _ => Err(Errno::ENOTTY),
    }
}

pub struct PipeReader {
    pipe: Arc<Pipe>,
    writers_seen: u64,
}

pub struct PipeWriter {
    pipe: Arc<Pipe>,
    packet: bool,
}

/// A FIFO opened O_RDWR: both ends in one file.
pub struct PipeDuplex {
    pipe: Arc<Pipe>,
    packet: bool,
    writers_seen: u64,
}

impl Drop for PipeReader {
    fn drop(&mut self) {
        self.pipe.drop_end(true, false);
    }
}

impl Drop for PipeWriter {
    fn drop(&mut self) {
        self.pipe.drop_end(false, true);
    }
}

impl Drop for PipeDuplex {
    fn drop(&mut self) {
        self.pipe.drop_end(true, true);
    }
}

impl FileLike for PipeReader {
    fn read(&self, buf: &mut VmWriter, _offset: u64, nonblock: bool) -> Result<usize> {
        self.pipe.read(buf, nonblock, false)
    }
    fn write(&self, _buf: &VmReader, _offset: u64, _nonblock: bool) -> Result<usize> {
        Err(Errno::EBADF)
    }
    fn poll(&self, mask: IoEvents, poller: Option<&Poller>) -> IoEvents {
        self.pipe.poll_end(true, false, self.writers_seen, mask, poller)
    }
    fn can_splice_read(&self) -> bool {
        true
    }
    fn ioctl(&self, cmd: u32, arg: u64) -> Result<i64> {
        pipe_ioctl(&self.pipe, cmd, arg)
    }
    fn metadata(&self) -> Metadata {
        self.pipe.metadata()
    }
    fn is_pollable(&self) -> bool {
        true
    }
    fn pipe(&self) -> Option<&Arc<Pipe>> {
        Some(&self.pipe)
    }
}

impl FileLike for PipeWriter {
    fn read(&self, _buf: &mut VmWriter, _offset: u64, _nonblock: bool) -> Result<usize> {
        Err(Errno::EBADF)
    }
    fn write(&self, buf: &VmReader, _offset: u64, nonblock: bool) -> Result<usize> {
        self.pipe.write(buf, nonblock, self.packet)
    }
    fn poll(&self, mask: IoEvents, poller: Option<&Poller>) -> IoEvents {
        self.pipe.poll_end(false, true, 0, mask, poller)
    }
    fn can_splice_write(&self) -> bool {
        true
    }
    fn ioctl(&self, cmd: u32, arg: u64) -> Result<i64> {
        pipe_ioctl(&self.pipe, cmd, arg)
    }
    fn metadata(&self) -> Metadata {
        self.pipe.metadata()
    }
    fn is_pollable(&self) -> bool {
        true
    }
    fn pipe(&self) -> Option<&Arc<Pipe>> {
        Some(&self.pipe)
    }
}

impl FileLike for PipeDuplex {
    fn read(&self, buf: &mut VmWriter, _offset: u64, nonblock: bool) -> Result<usize> {
        self.pipe.read(buf, nonblock, false)
    }
    fn write(&self, buf: &VmReader, _offset: u64, nonblock: bool) -> Result<usize> {
        self.pipe.write(buf, nonblock, self.packet)
    }
    fn poll(&self, mask: IoEvents, poller: Option<&Poller>) -> IoEvents {
        self.pipe.poll_end(true, true, self.writers_seen, mask, poller)
    }
    fn can_splice_read(&self) -> bool {
        true
    }
    fn can_splice_write(&self) -> bool {
        true
    }
    fn ioctl(&self, cmd: u32, arg: u64) -> Result<i64> {
        pipe_ioctl(&self.pipe, cmd, arg)
    }
    fn metadata(&self) -> Metadata {
        self.pipe.metadata()
    }
    fn is_pollable(&self) -> bool {
        true
    }
    fn pipe(&self) -> Option<&Arc<Pipe>> {
        Some(&self.pipe)
    }
}

/// An open FIFO: a pipe end that stats as the FIFO's inode.
struct FifoFile {
    end: Arc<dyn FileLike>,
    inode: Arc<dyn super::inode::Inode>,
}

impl FileLike for FifoFile {
    fn read(&self, buf: &mut VmWriter, offset: u64, nonblock: bool) -> Result<usize> {
        self.end.read(buf, offset, nonblock)
    }
    fn write(&self, buf: &VmReader, offset: u64, nonblock: bool) -> Result<usize> {
        self.end.write(buf, offset, nonblock)
    }
    fn poll(&self, mask: IoEvents, poller: Option<&Poller>) -> IoEvents {
        self.end.poll(mask, poller)
    }
    fn can_splice_read(&self) -> bool {
        self.end.can_splice_read()
    }
    fn can_splice_write(&self) -> bool {
        self.end.can_splice_write()
    }
    fn is_pollable(&self) -> bool {
        true
    }
    fn ioctl(&self, cmd: u32, arg: u64) -> Result<i64> {
        self.end.ioctl(cmd, arg)
    }
    fn metadata(&self) -> Metadata {
        self.inode.metadata()
    }
    fn pipe(&self) -> Option<&Arc<Pipe>> {
        self.end.pipe()
    }
}

/// splice (`consume`) or tee between two pipes, as Linux's splice_pipe_to_pipe and link_pipe:
/// wait for data in `from` (none and no writer left: 0) and then for room in `to` (no reader:
/// EPIPE), and move what is there and fits, up to `max`, without waiting again: a destination
/// that fills partway gives the partial count. Only the bytes moved leave `from`.
pub fn pipe_to_pipe(
    from: &Pipe,
    to: &Pipe,
    max: usize,
    nonblock: bool,
    consume: bool,
) -> Result<usize> {
    if max == 0 {
        return Ok(0);
    }
    let has_input = when_ready(&from.pollee, IoEvents::IN, nonblock, || {
        let s = from.state.lock();
        if !s.ring.is_empty() {
            Some(Ok(true))
        } else if s.writers == 0 {
            Some(Ok(false))
        } else {
            None
        }
    })?;
    if !has_input {
        return Ok(0);
    }
    let free = when_ready(&to.pollee, IoEvents::OUT, nonblock, || {
        let s = to.state.lock();
        if s.readers == 0 {
            Some(Err(Errno::EPIPE))
        } else if s.ring.free() > 0 && !s.ring.slots_full() {
            Some(Ok(s.ring.free()))
        } else {
            None
        }
    })?;
    let want = max.min(free).min(from.available());
    let mut data = Vec::new();
    data.try_reserve_exact(want).map_err(|_| Errno::ENOMEM)?;
    let n = from.read(&mut VmWriter::kernel(&mut data, want), true, true)?;
    data.truncate(n);
    if n == 0 {
        return Ok(0);
    }
    let moved = to.write(&VmReader::kernel(&data), true, false)?;
    if consume {
        let mut s = from.state.lock();
        s.ring.pop(moved, false, |_, _| Ok::<(), Errno>(()))?;
        drop(s);
        from.pollee.notify(IoEvents::OUT);
    }
    Ok(moved)
}

/// What `ready` says, at once or after waiting on `pollee` for `mask` until it says something
/// (None: not yet); EAGAIN instead of the wait if `nonblock`.
#[track_caller]
fn when_ready<T>(
    pollee: &Pollee,
    mask: IoEvents,
    nonblock: bool,
    mut ready: impl FnMut() -> Option<Result<T>>,
) -> Result<T> {
    match ready() {
        Some(r) => r,
        None if nonblock => Err(Errno::EAGAIN),
        None => pollee.wait_events(mask, None, ready).map_err(WaitError::restart_errno)?,
    }
}
