//! The per-process descriptor table: fd → (open file description, close-on-exec).

use alloc::sync::Arc;
use alloc::vec::Vec;

use super::file::OpenFile;
use crate::error::{Errno, Result};

/// About what one open descriptor holds on the heap.
const PER_DESCRIPTOR: usize = 512;

#[derive(Clone)]
struct Slot {
    file: Arc<OpenFile>,
    cloexec: bool,
    /// Reserved but not yet published (Linux's get_unused_fd before fd_install): the number is
    /// taken, but no lookup, close, dup or fork sees the file until `publish`. Calls that copy
    /// new descriptors out to user memory (pipe2, socketpair, CLONE_PIDFD) reserve them first,
    /// so a sibling thread never sees a descriptor whose call may still fail.
    reserved: bool,
}

impl Slot {
    fn live(&self) -> Option<&Slot> {
        (!self.reserved).then_some(self)
    }
}

#[derive(Default)]
pub struct FdTable {
    slots: Vec<Option<Slot>>,
    /// No descriptor below this one is free (Linux's next_fd), so that filling a table of a
    /// million descriptors does not scan it a million times.
    first_free: usize,
}

impl Clone for FdTable {
    /// fork's copy. The table is copied infallibly here (fork's own failure path is the
    /// caller's); `try_clone` is the fallible one.
    fn clone(&self) -> FdTable {
        let slots = self.slots.iter().map(|s| s.as_ref().and_then(Slot::live).cloned()).collect();
        FdTable { slots, first_free: 0 }
    }
}

impl FdTable {
    pub fn new() -> Self {
        FdTable { slots: Vec::new(), first_free: 0 }
    }

    /// A copy for fork, or ENOMEM when the heap cannot hold it.
    pub fn try_clone(&self) -> Result<FdTable> {
        let mut slots = Vec::new();
        super::kmem::grow(&mut slots, self.slots.len())?;
        // A descriptor another thread has only reserved is not copied (Linux's dup_fd).
        slots.extend(self.slots.iter().map(|s| s.as_ref().and_then(Slot::live).cloned()));
        Ok(FdTable { slots, first_free: 0 })
    }

    pub fn get(&self, fd: i32) -> Result<Arc<OpenFile>> {
        usize::try_from(fd)
            .ok()
            .and_then(|i| self.slots.get(i))
            .and_then(|s| s.as_ref())
            .and_then(Slot::live)
            .map(|s| s.file.clone())
            .ok_or(Errno::EBADF)
    }

    /// Makes the table at least `len` slots long. It grows to a power of two, as Linux's, and
    /// fallibly: a program may ask for a million descriptors (ENOMEM, never a kernel panic).
    fn grow_to(&mut self, len: usize) -> Result<()> {
        if len <= self.slots.len() {
            return Ok(());
        }
        let capacity = len.checked_next_power_of_two().ok_or(Errno::ENOMEM)?.max(64);
        if capacity > self.slots.capacity() {
            let bytes = capacity * core::mem::size_of::<Option<Slot>>();
            super::kmem::reserve(bytes)?;
            self.slots.try_reserve_exact(capacity - self.slots.len()).map_err(|_| Errno::ENOMEM)?;
        }
        self.slots.resize(len, None);
        Ok(())
    }

    /// Installs `file` at the lowest free descriptor >= `min`, below `limit` (RLIMIT_NOFILE).
    pub fn insert(
        &mut self,
        file: Arc<OpenFile>,
        cloexec: bool,
        min: usize,
        limit: usize,
    ) -> Result<i32> {
        let start = min.max(self.first_free);
        let fd = (start..limit)
            .find(|&i| self.slots.get(i).is_none_or(|s| s.is_none()))
            .ok_or(Errno::EMFILE)?;
        // What a descriptor keeps alive (an open file, its path, its object) was allocated
        // on the way here; ENOMEM before the heap's reserve goes, and it is freed again.
        super::kmem::reserve(PER_DESCRIPTOR)?;
        self.grow_to(fd + 1)?;
        self.slots[fd] = Some(Slot { file, cloexec, reserved: false });
        if start == self.first_free {
            self.first_free = fd + 1;
        }
        Ok(fd as i32)
    }

    /// As `insert`, but the descriptor stays reserved until `publish` (or `unreserve`).
    pub fn reserve(
        &mut self,
        file: Arc<OpenFile>,
        cloexec: bool,
        min: usize,
        limit: usize,
    ) -> Result<i32> {
        let fd = self.insert(file, cloexec, min, limit)?;
        if let Some(Some(s)) = self.slots.get_mut(fd as usize) {
            s.reserved = true;
        }
        Ok(fd)
    }

    /// Makes a reserved descriptor visible.
    pub fn publish(&mut self, fd: i32) {
        if let Some(Some(s)) = usize::try_from(fd).ok().and_then(|i| self.slots.get_mut(i)) {
            s.reserved = false;
        }
    }

    /// Gives a reserved descriptor back (its call failed).
    pub fn unreserve(&mut self, fd: i32) {
        let Ok(i) = usize::try_from(fd) else { return };
        if let Some(slot) = self.slots.get_mut(i) {
            if slot.as_ref().is_some_and(|s| s.reserved) {
                *slot = None;
                self.first_free = self.first_free.min(i);
            }
        }
    }

    pub fn remove(&mut self, fd: i32) -> Result<Arc<OpenFile>> {
        let i = usize::try_from(fd).map_err(|_| Errno::EBADF)?;
        let slot = self.slots.get_mut(i).ok_or(Errno::EBADF)?;
        if slot.as_ref().is_some_and(|s| s.reserved) {
            return Err(Errno::EBADF);
        }
        let file = slot.take().map(|s| s.file).ok_or(Errno::EBADF)?;
        self.first_free = self.first_free.min(i);
        Ok(file)
    }

    /// Installs `file` at exactly `fd` (dup2/dup3), returning what was there.
    pub fn put(
        &mut self,
        fd: i32,
        file: Arc<OpenFile>,
        cloexec: bool,
    ) -> Result<Option<Arc<OpenFile>>> {
        let i = usize::try_from(fd).map_err(|_| Errno::EBADF)?;
        if self.slots.get(i).is_some_and(|s| s.as_ref().is_some_and(|s| s.reserved)) {
            // Linux's do_dup2: a number another thread has reserved is busy.
            return Err(Errno::EBUSY);
        }
        super::kmem::reserve(PER_DESCRIPTOR)?;
        self.grow_to(i + 1)?;
        Ok(self.slots[i].replace(Slot { file, cloexec, reserved: false }).map(|s| s.file))
    }

    fn slot_mut(&mut self, fd: i32) -> Result<&mut Slot> {
        usize::try_from(fd)
            .ok()
            .and_then(|i| self.slots.get_mut(i))
            .and_then(|s| s.as_mut())
            .filter(|s| !s.reserved)
            .ok_or(Errno::EBADF)
    }

    pub fn cloexec(&mut self, fd: i32) -> Result<bool> {
        self.slot_mut(fd).map(|s| s.cloexec)
    }

    pub fn set_cloexec(&mut self, fd: i32, on: bool) -> Result<()> {
        self.slot_mut(fd).map(|s| s.cloexec = on)
    }

    /// (fd, file) of every open descriptor, in order.
    pub fn entries(&self) -> impl Iterator<Item = (i32, Arc<OpenFile>)> + '_ {
        self.slots.iter().enumerate().filter_map(|(i, s)| {
            s.as_ref().and_then(Slot::live).map(|s| (i as i32, s.file.clone()))
        })
    }

    /// The open descriptors collected (for /proc/<pid>/fd), or ENOMEM.
    pub fn try_entries(&self) -> Result<Vec<(i32, Arc<OpenFile>)>> {
        let mut v = Vec::new();
        super::kmem::grow(&mut v, self.slots.iter().filter(|s| s.is_some()).count())?;
        v.extend(self.entries());
        Ok(v)
    }

    /// Takes out every descriptor marked close-on-exec, returning their files.
    pub fn close_on_exec(&mut self) -> Vec<Arc<OpenFile>> {
        let mut closed = Vec::new();
        for s in self.slots.iter_mut() {
            if s.as_ref().is_some_and(|s| s.cloexec && !s.reserved) {
                closed.extend(s.take().map(|s| s.file));
            }
        }
        self.first_free = self.slots.iter().position(|s| s.is_none()).unwrap_or(self.slots.len());
        closed
    }

    pub fn clear(&mut self) {
        self.slots.clear();
        self.first_free = 0;
    }
}
