//! epoll: an interest list of (fd, open file) entries, each an `Observer` on its file's pollee
//! that puts itself on the ready list when events arrive. epoll_wait re-checks every ready entry
//! (level-triggered entries stay on the list while they are ready; edge-triggered ones leave it;
//! one-shot ones are disabled until EPOLL_CTL_MOD). An entry lives as long as its open file
//! description: it holds the file weakly and disappears when the file is finally closed.
//!
//! Threads in epoll_wait sleep in the instance's own pollee as exclusive waiters (Linux's
//! ep_poll): a newly ready entry wakes one of them, and a thread that leaves entries on the
//! ready list (level-triggered ones, or more than it could take) wakes the next. An
//! EPOLLEXCLUSIVE entry is an exclusive observer of its file: of several epoll instances that
//! watch one file so, a notification wakes the first that has a thread waiting, not all.

use alloc::collections::{BTreeMap, VecDeque};
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, Ordering};

use super::file::{FileLike, OpenFile};
use super::inode::Metadata;
use crate::error::{Errno, Result};
use crate::event::{IoEvents, Observer, Pollee, Poller};
use crate::mm::io::{VmReader, VmWriter};
use crate::sync::Mutex;
use crate::task::WaitError;

pub const EPOLLEXCLUSIVE: u32 = 1 << 28;
pub const EPOLLWAKEUP: u32 = 1 << 29;
pub const EPOLLONESHOT: u32 = 1 << 30;
pub const EPOLLET: u32 = 1 << 31;
/// Nesting depth Linux allows (EP_MAX_NESTS).
const MAX_NESTING: usize = 4;

/// (fd, address of the open file description): an fd number alone is not enough, as in Linux.
type Key = (i32, usize);

struct Interest {
    events: IoEvents,
    flags: u32,
    data: u64,
    /// EPOLLONESHOT fired: no more reports until EPOLL_CTL_MOD.
    disabled: bool,
}

struct Entry {
    key: Key,
    file: Weak<OpenFile>,
    interest: Mutex<Interest>,
    queued: AtomicBool,
    epoll: Weak<EpollInstance>,
}

impl Observer for Entry {
    /// Queues the entry if it wants `events`; true if a thread waited on its epoll (what
    /// makes an EPOLLEXCLUSIVE entry the one that took the notification).
    fn on_events(&self, events: IoEvents) -> bool {
        let Some(ep) = self.epoll.upgrade() else { return false };
        let wanted = {
            let i = self.interest.lock();
            !i.disabled && events.intersects(i.events | IoEvents::ALWAYS)
        };
        if !wanted {
            return false;
        }
        let waited = ep.pollee.has_sleepers();
        ep.enqueue(&ep.entry(self.key));
        waited
    }
}

pub struct EpollInstance {
    interest: Mutex<BTreeMap<Key, Arc<Entry>>>,
    ready: Mutex<VecDeque<Arc<Entry>>>,
    /// Threads in epoll_wait sleep here (exclusively); poll/select/epoll on the epoll fd
    /// itself watch it.
    pollee: Pollee,
    this: Weak<EpollInstance>,
}

fn key_of(fd: i32, file: &Arc<OpenFile>) -> Key {
    (fd, Arc::as_ptr(file) as usize)
}

impl EpollInstance {
    pub fn new() -> Arc<EpollInstance> {
        Arc::new_cyclic(|this| EpollInstance {
            interest: Mutex::new(BTreeMap::new()),
            ready: Mutex::new(VecDeque::new()),
            pollee: Pollee::new(),
            this: this.clone(),
        })
    }

    fn entry(&self, key: Key) -> Option<Arc<Entry>> {
        self.interest.lock().get(&key).cloned()
    }

    fn enqueue(&self, entry: &Option<Arc<Entry>>) {
        let Some(entry) = entry else { return };
        if !entry.queued.swap(true, Ordering::AcqRel) {
            self.ready.lock().push_back(entry.clone());
        }
        self.pollee.notify(IoEvents::IN);
    }

    /// Registers `entry` with its file and queues it if the file is ready now.
    fn arm(&self, entry: &Arc<Entry>, file: &Arc<OpenFile>) {
        let (events, flags) = {
            let i = entry.interest.lock();
            (i.events, i.flags)
        };
        let strong: Arc<dyn Observer> = entry.clone();
        let poller = if flags & EPOLLEXCLUSIVE != 0 {
            Poller::for_exclusive_observer(Arc::downgrade(&strong))
        } else {
            Poller::for_observer(Arc::downgrade(&strong))
        };
        let now = file.file().poll(events, Some(&poller));
        if now.intersects(events | IoEvents::ALWAYS) {
            self.enqueue(&Some(entry.clone()));
        }
    }

    pub fn add(&self, fd: i32, file: &Arc<OpenFile>, events: u32, data: u64) -> Result<()> {
        let key = key_of(fd, file);
        if self.interest.lock().get(&key).is_some_and(|e| e.file.strong_count() > 0) {
            return Err(Errno::EEXIST);
        }
        // Linux bounds watches by max_user_watches (a share of memory); here the heap's reserve
        // does.
        super::kmem::reserve(core::mem::size_of::<Entry>() + 128)?;
        let entry = Arc::new(Entry {
            key,
            file: Arc::downgrade(file),
            interest: Mutex::new(Interest {
                events: mask_of(events),
                flags: events,
                data,
                disabled: false,
            }),
            queued: AtomicBool::new(false),
            epoll: self.this.clone(),
        });
        self.interest.lock().insert(key, entry.clone());
        self.arm(&entry, file);
        Ok(())
    }

    pub fn modify(&self, fd: i32, file: &Arc<OpenFile>, events: u32, data: u64) -> Result<()> {
        let entry = self.entry(key_of(fd, file)).ok_or(Errno::ENOENT)?;
        {
            let mut i = entry.interest.lock();
            if i.flags & EPOLLEXCLUSIVE != 0 {
                return Err(Errno::EINVAL);
            }
            *i = Interest { events: mask_of(events), flags: events, data, disabled: false };
        }
        self.arm(&entry, file);
        Ok(())
    }

    pub fn delete(&self, fd: i32, file: &Arc<OpenFile>) -> Result<()> {
        let entry = self.interest.lock().remove(&key_of(fd, file)).ok_or(Errno::ENOENT)?;
        self.ready.lock().retain(|e| !Arc::ptr_eq(e, &entry));
        Ok(())
    }

    /// Collects up to `max` (events, data) pairs from the ready list without sleeping.
    fn harvest(&self, max: usize) -> Vec<(IoEvents, u64)> {
        let candidates: Vec<Arc<Entry>> = self.ready.lock().drain(..).collect();
        let mut out = Vec::new();
        // Entries not looked at stay in front; reported level-triggered ones go to the back,
        // so with a small maxevents every ready entry gets its turn (as in Linux).
        let mut keep = Vec::new();
        let mut again = Vec::new();
        for entry in candidates {
            entry.queued.store(false, Ordering::Release);
            let Some(file) = entry.file.upgrade() else {
                self.interest.lock().remove(&entry.key);
                continue;
            };
            if out.len() >= max {
                keep.push(entry);
                continue;
            }
            let (events, flags, data, disabled) = {
                let i = entry.interest.lock();
                (i.events, i.flags, i.data, i.disabled)
            };
            if disabled {
                continue;
            }
            let ev = file.file().poll(events, None) & (events | IoEvents::ALWAYS);
            if ev.is_empty() {
                continue;
            }
            out.push((ev, data));
            if flags & EPOLLONESHOT != 0 {
                entry.interest.lock().disabled = true;
            } else if flags & EPOLLET == 0 {
                // Level-triggered: look again next time.
                again.push(entry);
            }
        }
        keep.extend(again);
        let mut ready = self.ready.lock();
        for e in keep {
            if !e.queued.swap(true, Ordering::AcqRel) {
                ready.push_back(e);
            }
        }
        out
    }

    /// epoll_wait: at least one event, or none at the deadline.
    pub fn wait(&self, max: usize, deadline_ns: Option<u64>) -> Result<Vec<(IoEvents, u64)>> {
        loop {
            let got = self.harvest(max);
            if !got.is_empty() {
                // Entries left ready are for the next waiter (Linux's ep_done_scan).
                if self.pollee.has_sleepers() && !self.ready.lock().is_empty() {
                    self.pollee.wake_one_exclusive();
                }
                return Ok(got);
            }
            if deadline_ns.is_some_and(|d| crate::arch::time::monotonic_ns() >= d) {
                return Ok(got);
            }
            let r = self.pollee.wait_events_exclusive(deadline_ns, || {
                (!self.ready.lock().is_empty()).then_some(())
            });
            match r {
                Ok(()) => {}
                Err(WaitError::TimedOut) => return Ok(Vec::new()),
                Err(WaitError::Interrupted) => return Err(Errno::EINTR),
            }
        }
    }

    /// Is any entry ready right now (for polling the epoll fd itself)?
    fn has_events(&self) -> bool {
        let candidates: Vec<Arc<Entry>> = self.ready.lock().iter().cloned().collect();
        candidates.iter().any(|e| {
            let Some(file) = e.file.upgrade() else { return false };
            let i = e.interest.lock();
            !i.disabled && file.file().poll(i.events, None).intersects(i.events | IoEvents::ALWAYS)
        })
    }

    /// The epoll instances this one watches, directly.
    fn children(&self) -> Vec<Arc<EpollInstance>> {
        self.interest
            .lock()
            .values()
            .filter_map(|e| e.file.upgrade())
            .filter_map(|f| f.file().epoll().cloned())
            .collect()
    }

    /// Would watching `target` from `self` close a loop or nest too deep?
    pub fn would_loop(&self, target: &Arc<EpollInstance>) -> bool {
        fn reaches(from: &Arc<EpollInstance>, to: *const EpollInstance, depth: usize) -> bool {
            if core::ptr::eq(Arc::as_ptr(from), to) || depth > MAX_NESTING {
                return true;
            }
            from.children().iter().any(|c| reaches(c, to, depth + 1))
        }
        reaches(target, self as *const EpollInstance, 1)
    }
}

fn mask_of(events: u32) -> IoEvents {
    IoEvents::from_bits_truncate(events & 0xffff)
}

/// The epoll fd's open file.
pub struct EpollFile {
    instance: Arc<EpollInstance>,
}

impl EpollFile {
    pub fn new() -> Arc<EpollFile> {
        Arc::new(EpollFile { instance: EpollInstance::new() })
    }
}

impl FileLike for EpollFile {
    /// lseek answers 0 without moving (Linux's noop_llseek); pread and pwrite stay ESPIPE.
    fn seek_is_noop(&self) -> bool {
        true
    }

    fn read(&self, _buf: &mut VmWriter, _offset: u64, _nonblock: bool) -> Result<usize> {
        Err(Errno::EINVAL)
    }
    fn write(&self, _buf: &VmReader, _offset: u64, _nonblock: bool) -> Result<usize> {
        Err(Errno::EINVAL)
    }
    fn poll(&self, mask: IoEvents, poller: Option<&Poller>) -> IoEvents {
        if let Some(p) = poller {
            p.watch(&self.instance.pollee, mask);
        }
        if self.instance.has_events() {
            IoEvents::readable()
        } else {
            IoEvents::empty()
        }
    }
    fn is_pollable(&self) -> bool {
        true
    }

    fn anon_name(&self) -> Option<&'static str> {
        Some("[eventpoll]")
    }
    fn metadata(&self) -> Metadata {
        super::anon::metadata("[eventpoll]")
    }
    fn epoll(&self) -> Option<&Arc<EpollInstance>> {
        Some(&self.instance)
    }
}
