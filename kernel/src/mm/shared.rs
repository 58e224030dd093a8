//! Memory shared between address spaces by page: what a `MAP_SHARED` mapping maps. Files supply
//! their own pages; `SharedMemory` is the anonymous kind (MAP_SHARED|MAP_ANONYMOUS, and later
//! System V segments).

use alloc::vec::Vec;

use super::frame::{self, Frame};
use crate::error::{Errno, Result};
use crate::sync::Mutex;

/// Where the pages of a file-backed or shared mapping come from.
pub trait PageSource: Send + Sync {
    /// A reference to the frame holding page `index`, allocated if needed; `None` beyond the
    /// end (SIGBUS).
    fn page(&self, index: u64) -> Option<Frame>;

    /// What the pages belong to, for telling whether two mappings share memory (futex keys):
    /// two handles of one file must answer alike, whichever mmap made them.
    fn identity(&self) -> usize {
        self as *const Self as *const u8 as usize
    }
}

/// Anonymous shared memory of a fixed number of pages, zero-filled on first touch.
pub struct SharedMemory {
    pages: Mutex<Vec<Option<Frame>>>,
}

impl SharedMemory {
    /// `pages` pages, none allocated yet; ENOMEM if even the page table of the object does not
    /// fit (the count comes from a user program).
    pub fn new(pages: usize) -> Result<Self> {
        let mut v = Vec::new();
        v.try_reserve_exact(pages).map_err(|_| Errno::ENOMEM)?;
        v.resize(pages, None);
        Ok(SharedMemory { pages: Mutex::new(v) })
    }

    /// The memory of a MAP_SHARED|MAP_ANONYMOUS mapping (or of /dev/zero shared). Linux accounts
    /// it as it does private writable memory, so its heuristic overcommit refuses one larger
    /// than all of RAM: ENOMEM (we do so with MAP_NORESERVE too, which Linux lets through).
    pub fn for_anonymous_mapping(pages: u64) -> Result<Self> {
        if pages > frame::total_frames() as u64 {
            return Err(Errno::ENOMEM);
        }
        Self::new(pages as usize)
    }

    pub fn len_pages(&self) -> usize {
        self.pages.lock().len()
    }

    /// Pages that have a frame (touched at least once), for SysV shm statistics.
    pub fn resident_pages(&self) -> usize {
        self.pages.lock().iter().filter(|p| p.is_some()).count()
    }
}

impl PageSource for SharedMemory {
    fn page(&self, index: u64) -> Option<Frame> {
        let mut pages = self.pages.lock();
        let slot = pages.get_mut(index as usize)?;
        if slot.is_none() {
            *slot = Some(Frame::alloc_zeroed()?);
        }
        slot.clone()
    }
}
