//! The per-process descriptor table: fd → (open file description, close-on-exec).

use alloc::sync::Arc;
use alloc::vec::Vec;

use super::file::OpenFile;
use crate::error::{Errno, Result};

#[derive(Clone)]
struct Slot {
    file: Arc<OpenFile>,
    cloexec: bool,
}

#[derive(Clone, Default)]
pub struct FdTable {
    slots: Vec<Option<Slot>>,
}

impl FdTable {
    pub fn new() -> Self {
        FdTable { slots: Vec::new() }
    }

    pub fn get(&self, fd: i32) -> Result<Arc<OpenFile>> {
        usize::try_from(fd)
            .ok()
            .and_then(|i| self.slots.get(i))
            .and_then(|s| s.as_ref())
            .map(|s| s.file.clone())
            .ok_or(Errno::EBADF)
    }

    /// Installs `file` at the lowest free descriptor >= `min`, below `limit` (RLIMIT_NOFILE).
    pub fn insert(
        &mut self,
        file: Arc<OpenFile>,
        cloexec: bool,
        min: usize,
        limit: usize,
    ) -> Result<i32> {
        let fd = (min..limit)
            .find(|&i| self.slots.get(i).is_none_or(|s| s.is_none()))
            .ok_or(Errno::EMFILE)?;
        if fd >= self.slots.len() {
            self.slots.resize(fd + 1, None);
        }
        self.slots[fd] = Some(Slot { file, cloexec });
        Ok(fd as i32)
    }

    pub fn remove(&mut self, fd: i32) -> Result<Arc<OpenFile>> {
        let slot =
            usize::try_from(fd).ok().and_then(|i| self.slots.get_mut(i)).ok_or(Errno::EBADF)?;
        slot.take().map(|s| s.file).ok_or(Errno::EBADF)
    }

    /// Installs `file` at exactly `fd` (dup2/dup3), returning what was there.
    pub fn put(&mut self, fd: i32, file: Arc<OpenFile>, cloexec: bool) -> Option<Arc<OpenFile>> {
        let i = fd as usize;
        if i >= self.slots.len() {
            self.slots.resize(i + 1, None);
        }
        self.slots[i].replace(Slot { file, cloexec }).map(|s| s.file)
    }

    fn slot_mut(&mut self, fd: i32) -> Result<&mut Slot> {
        usize::try_from(fd)
            .ok()
            .and_then(|i| self.slots.get_mut(i))
            .and_then(|s| s.as_mut())
            .ok_or(Errno::EBADF)
    }

    pub fn cloexec(&mut self, fd: i32) -> Result<bool> {
        self.slot_mut(fd).map(|s| s.cloexec)
    }

    pub fn set_cloexec(&mut self, fd: i32, on: bool) -> Result<()> {
        self.slot_mut(fd).map(|s| s.cloexec = on)
    }

    /// (fd, file) of every open descriptor, for /proc/<pid>/fd.
    pub fn entries(&self) -> Vec<(i32, Arc<OpenFile>)> {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.as_ref().map(|s| (i as i32, s.file.clone())))
            .collect()
    }

    /// Takes out every descriptor marked close-on-exec, returning their files.
    pub fn close_on_exec(&mut self) -> Vec<Arc<OpenFile>> {
        let mut closed = Vec::new();
        for s in self.slots.iter_mut() {
            if s.as_ref().is_some_and(|s| s.cloexec) {
                closed.extend(s.take().map(|s| s.file));
            }
        }
        closed
    }

    pub fn clear(&mut self) {
        self.slots.clear();
    }
}
