//! inotify: an open file whose reads return the events (`fs/notify.rs`) of the inodes it
//! watches, as `struct inotify_event` records. Identical consecutive events coalesce; past
//! fs.inotify.max_queued_events the queue ends in one IN_Q_OVERFLOW; a watch that goes (rm_watch,
//! a one-shot that fired, its inode deleted) queues IN_IGNORED. Instances and watches count
//! per user against max_user_instances (EMFILE) and max_user_watches (ENOSPC).

use alloc::collections::{BTreeMap, VecDeque};
use alloc::string::String;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::any::Any;
use core::sync::atomic::{AtomicU32, AtomicUsize, Ordering};

use super::file::FileLike;
use super::inode::{Inode, Metadata};
use super::notify::{self, Watch, Watcher, IN_ALL_EVENTS};
use crate::error::{Errno, Result};
use crate::event::{IoEvents, Pollee, Poller};
use crate::mm::io::{VmReader, VmWriter};
use crate::sync::Mutex;
use crate::task::{WaitError, WaitQueue};

pub const IN_UNMOUNT: u32 = 0x2000;
pub const IN_Q_OVERFLOW: u32 = 0x4000;
pub const IN_IGNORED: u32 = 0x8000;
pub const IN_ONLYDIR: u32 = 0x0100_0000;
pub const IN_DONT_FOLLOW: u32 = 0x0200_0000;
pub const IN_EXCL_UNLINK: u32 = 0x0400_0000;
pub const IN_MASK_CREATE: u32 = 0x1000_0000;
pub const IN_MASK_ADD: u32 = 0x2000_0000;
pub const IN_ONESHOT: u32 = 0x8000_0000;
/// What inotify_add_watch accepts.
pub const VALID_MASK: u32 = IN_ALL_EVENTS
    | IN_ONLYDIR
    | IN_DONT_FOLLOW
    | IN_EXCL_UNLINK
    | IN_MASK_CREATE
    | IN_MASK_ADD
    | crate::fs::notify::IN_ISDIR
    | IN_ONESHOT;

/// fs.inotify.* (Linux's defaults; max_user_watches is Linux's floor).
pub static MAX_QUEUED_EVENTS: AtomicUsize = AtomicUsize::new(16384);
pub static MAX_USER_INSTANCES: AtomicUsize = AtomicUsize::new(128);
pub static MAX_USER_WATCHES: AtomicUsize = AtomicUsize::new(8192);

/// Instances and watches per uid.
static PER_USER: Mutex<BTreeMap<u32, (usize, usize)>> = Mutex::new(BTreeMap::new());

const EVENT_HEADER: usize = 16;

#[derive(PartialEq, Eq)]
struct Event {
    wd: i32,
    mask: u32,
    cookie: u32,
    name: Option<String>,
}

impl Event {
    /// Its record's length: the header, then the name padded with NULs to a multiple of 16
    /// (at least one NUL), as Linux.
    fn len(&self) -> usize {
        EVENT_HEADER + self.name_len()
    }

    fn name_len(&self) -> usize {
        self.name.as_ref().map_or(0, |n| (n.len() + 1).next_multiple_of(EVENT_HEADER))
    }
}

struct State {
    events: VecDeque<Event>,
    bytes: usize,
    watches: BTreeMap<i32, Arc<Watch>>,
    next_wd: i32,
}

pub struct Inotify {
    uid: u32,
    state: Mutex<State>,
    readers: WaitQueue,
    pollee: Pollee,
    this: Weak<Inotify>,
}

impl Inotify {
    /// A new instance for user `uid`: EMFILE past max_user_instances.
    pub fn new(uid: u32) -> Result<Arc<Inotify>> {
        {
            let mut users = PER_USER.lock();
            let count = users.entry(uid).or_default();
            if count.0 >= MAX_USER_INSTANCES.load(Ordering::Relaxed) {
                return Err(Errno::EMFILE);
            }
            count.0 += 1;
        }
        super::kmem::reserve(core::mem::size_of::<Inotify>()).inspect_err(|_| {
            uncount(uid, 1, 0);
        })?;
        Ok(Arc::new_cyclic(|this| Inotify {
            uid,
            state: Mutex::new(State {
                events: VecDeque::new(),
                bytes: 0,
                watches: BTreeMap::new(),
                next_wd: 1,
            }),
            readers: WaitQueue::new(),
            pollee: Pollee::new(),
            this: this.clone(),
        }))
    }

    /// inotify_add_watch on `inode` (already looked up and checked): the watch descriptor.
    pub fn add_watch(&self, inode: &Arc<dyn Inode>, mask: u32) -> Result<i32> {
        if mask & IN_MASK_ADD != 0 && mask & IN_MASK_CREATE != 0 {
            return Err(Errno::EINVAL);
        }
        if mask & IN_ALL_EVENTS == 0 {
            return Err(Errno::EINVAL);
        }
        if mask & IN_ONLYDIR != 0 && !inode.metadata().is_dir() {
            return Err(Errno::ENOTDIR);
        }
        let key = notify::key_of(inode.as_ref());
        let kept = mask & (IN_ALL_EVENTS | IN_ONESHOT | IN_EXCL_UNLINK);
        let mut st = self.state.lock();
        if let Some(w) = st.watches.values().find(|w| w.key == key) {
            if mask & IN_MASK_CREATE != 0 {
                return Err(Errno::EEXIST);
            }
            if mask & IN_MASK_ADD != 0 {
                w.mask.fetch_or(kept, Ordering::Relaxed);
            } else {
                w.mask.store(kept, Ordering::Relaxed);
            }
            return Ok(w.wd);
        }
        {
            let mut users = PER_USER.lock();
            let count = users.entry(self.uid).or_default();
            if count.1 >= MAX_USER_WATCHES.load(Ordering::Relaxed) {
                return Err(Errno::ENOSPC);
            }
            count.1 += 1;
        }
        let wd = st.next_wd;
        let owner: Weak<dyn Watcher> = self.this.clone();
        let watch = Arc::new(Watch { key, wd, mask: AtomicU32::new(kept), owner });
        if let Err(e) = notify::add(watch.clone()) {
            uncount(self.uid, 0, 1);
            return Err(e);
        }
        st.next_wd = wd.checked_add(1).unwrap_or(1);
        st.watches.insert(wd, watch);
        Ok(wd)
    }

    /// inotify_rm_watch: EINVAL for a descriptor it does not have.
    pub fn rm_watch(&self, wd: i32) -> Result<()> {
        let watch = self.state.lock().watches.remove(&wd).ok_or(Errno::EINVAL)?;
        notify::remove(&watch);
        uncount(self.uid, 0, 1);
        self.queue(Event { wd, mask: IN_IGNORED, cookie: 0, name: None });
        Ok(())
    }

    /// Appends `e` unless it repeats the last event; past the limit, one IN_Q_OVERFLOW.
    fn queue(&self, e: Event) {
        {
            let mut st = self.state.lock();
            if st.events.back() == Some(&e) {
                return;
            }
            let max = MAX_QUEUED_EVENTS.load(Ordering::Relaxed);
            let e = if st.events.len() >= max || super::kmem::reserve(e.len() + 64).is_err() {
                let overflow = Event { wd: -1, mask: IN_Q_OVERFLOW, cookie: 0, name: None };
                if st.events.back() == Some(&overflow) {
                    return;
                }
                overflow
            } else {
                e
            };
            st.bytes += e.len();
            st.events.push_back(e);
        }
        self.readers.wake_all();
        self.pollee.notify(IoEvents::IN);
    }

    /// The events that fit in `room` bytes, taken off the queue; EINVAL if the first does not.
    fn take(&self, room: usize) -> Option<Result<Vec<u8>>> {
        let mut st = self.state.lock();
        let first = st.events.front()?;
        if first.len() > room {
            return Some(Err(Errno::EINVAL));
        }
        let mut out = Vec::new();
        while let Some(e) = st.events.front() {
            if out.len() + e.len() > room {
                break;
            }
            if out.try_reserve(e.len()).is_err() {
                break;
            }
            out.extend_from_slice(&e.wd.to_ne_bytes());
            out.extend_from_slice(&e.mask.to_ne_bytes());
            out.extend_from_slice(&e.cookie.to_ne_bytes());
            out.extend_from_slice(&(e.name_len() as u32).to_ne_bytes());
            if let Some(n) = &e.name {
                out.extend_from_slice(n.as_bytes());
                out.resize(out.len() + e.name_len() - n.len(), 0);
            }
            let len = e.len();
            st.bytes -= len;
            st.events.pop_front();
        }
        Some(Ok(out))
    }
}

fn uncount(uid: u32, instances: usize, watches: usize) {
    let mut users = PER_USER.lock();
    if let Some(c) = users.get_mut(&uid) {
        c.0 -= instances.min(c.0);
        c.1 -= watches.min(c.1);
        if *c == (0, 0) {
            users.remove(&uid);
        }
    }
}

impl Watcher for Inotify {
    fn event(&self, watch: &Arc<Watch>, mask: u32, cookie: u32, name: Option<&str>) {
        // A one-shot watch fires once, then goes with IN_IGNORED.
        let oneshot = watch.mask.load(Ordering::Relaxed) & IN_ONESHOT != 0;
        if oneshot && self.state.lock().watches.remove(&watch.wd).is_none() {
            return;
        }
        let name = name.and_then(|n| super::kmem::string(n).ok());
        self.queue(Event { wd: watch.wd, mask, cookie, name });
        if oneshot {
            notify::remove(watch);
            uncount(self.uid, 0, 1);
            self.queue(Event { wd: watch.wd, mask: IN_IGNORED, cookie: 0, name: None });
        }
    }

    fn ignored(&self, watch: &Arc<Watch>) {
        if self.state.lock().watches.remove(&watch.wd).is_some() {
            uncount(self.uid, 0, 1);
            self.queue(Event { wd: watch.wd, mask: IN_IGNORED, cookie: 0, name: None });
        }
    }
}

impl Drop for Inotify {
    fn drop(&mut self) {
        let watches = core::mem::take(&mut self.state.lock().watches);
        let n = watches.len();
        for w in watches.values() {
            notify::remove(w);
        }
        uncount(self.uid, 1, n);
    }
}

const FIONREAD: u32 = 0x541B;

impl FileLike for Inotify {
    fn read(&self, buf: &mut VmWriter, _offset: u64, nonblock: bool) -> Result<usize> {
        let room = buf.len();
        let bytes = match self.take(room) {
            Some(r) => r?,
            None if nonblock => return Err(Errno::EAGAIN),
            None => self
                .readers
                .wait_until(|| self.take(room), None)
                .map_err(WaitError::restart_errno)??,
        };
        buf.write(&bytes)?;
        Ok(bytes.len())
    }

    fn write(&self, _buf: &VmReader, _offset: u64, _nonblock: bool) -> Result<usize> {
        Err(Errno::EINVAL)
    }

    fn ioctl(&self, cmd: u32, arg: u64) -> Result<i64> {
        match cmd {
            FIONREAD => {
                let n = self.state.lock().bytes as i32;
                crate::mm::user::UserPtr::<i32>::new(arg).write(&n)?;
                Ok(0)
            }
            _ => Err(Errno::ENOTTY),
        }
    }

    fn poll(&self, mask: IoEvents, poller: Option<&Poller>) -> IoEvents {
        if let Some(p) = poller {
            p.watch(&self.pollee, mask);
        }
        if self.state.lock().events.is_empty() {
            IoEvents::empty()
        } else {
            IoEvents::readable()
        }
    }

    fn is_pollable(&self) -> bool {
        true
    }

    /// Linux's inotify has fasync: O_ASYNC signals when events arrive.
    fn has_fasync(&self) -> bool {
        true
    }

    fn anon_name(&self) -> Option<&'static str> {
        Some("inotify")
    }

    fn metadata(&self) -> Metadata {
        super::anon::metadata("inotify")
    }

    fn as_any(&self) -> Option<&dyn Any> {
        Some(self)
    }
}
