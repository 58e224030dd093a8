//! A byte ring over a set of fixed-size pages: what a pipe holds between its writers and its
//! readers. The pages are anything that implements [`Pages`] (page frames in the kernel,
//! vectors in the host tests); a page may come into being only when the first byte is written
//! into it ([`Pages::prepare`]), so an idle ring holds no memory, as Linux's pipes hold none; bytes go in and out through caller-supplied copy functions,
//! one contiguous chunk (never crossing a page) at a time, so a fault in user memory can stop
//! a copy half way with the ring still consistent. In packet mode (O_DIRECT pipes) the ring
//! also remembers message lengths, and every message takes a page slot.

#![no_std]

extern crate alloc;
#[cfg(test)]
extern crate std;

#[cfg(test)]
mod tests;

use alloc::collections::VecDeque;
use alloc::vec::Vec;

/// A fixed number of equally sized page slots.
pub trait Pages {
    fn page_size(&self) -> usize;
    fn count(&self) -> usize;
    /// Page `i`'s bytes; only called for a page that [`Pages::prepare`] made ready.
    fn page(&mut self, i: usize) -> &mut [u8];
    /// Makes page `i` ready before bytes are written into it (allocating it on first use);
    /// false when it cannot be had (memory ran out).
    fn prepare(&mut self, i: usize) -> bool {
        let _ = i;
        true
    }
}

/// A push found no page for its bytes (memory ran out): the caller's error type says how it
/// reports that (ENOMEM in the kernel).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoPage;

pub struct Ring<P> {
    pages: P,
    head: usize,
    len: usize,
    /// Message lengths in packet mode, oldest first.
    packets: VecDeque<usize>,
}

impl<P: Pages> Ring<P> {
    pub fn new(pages: P) -> Ring<P> {
        Ring { pages, head: 0, len: 0, packets: VecDeque::new() }
    }

    pub fn capacity(&self) -> usize {
        self.pages.count() * self.pages.page_size()
    }

    /// Bytes waiting to be read.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn free(&self) -> usize {
        self.capacity() - self.len
    }

    /// In packet mode every message takes a whole page slot, as Linux's pipe buffers do.
    pub fn slots_full(&self) -> bool {
        self.packets.len() >= self.pages.count()
    }

    /// The oldest message's length, if the ring holds messages.
    pub fn next_packet(&self) -> Option<usize> {
        self.packets.front().copied()
    }

    pub fn clear(&mut self) {
        self.head = 0;
        self.len = 0;
        self.packets.clear();
    }

    /// The contiguous run of bytes at ring position `pos` (up to the end of its page).
    fn chunk_at(&mut self, pos: usize, max: usize) -> &mut [u8] {
        let size = self.pages.page_size();
        let pos = pos % self.capacity();
        let off = pos % size;
        let n = max.min(size - off);
        &mut self.pages.page(pos / size)[off..off + n]
    }

    /// Appends up to `max` bytes (as many as fit): `copy(done, chunk)` fills `chunk` with the
    /// source's bytes from offset `done`. Returns how many went in; on an error the bytes
    /// copied before it stay. Every page the bytes will need is made ready first: if one
    /// cannot be had, nothing is copied and the push fails with [`NoPage`] (so a caller that
    /// retries after freeing memory does not write the same bytes twice).
    pub fn push<E: From<NoPage>>(
        &mut self,
        max: usize,
        mut copy: impl FnMut(usize, &mut [u8]) -> Result<(), E>,
    ) -> Result<usize, E> {
        let want = max.min(self.free());
        let size = self.pages.page_size();
        let mut pos = self.head + self.len;
        let end = pos + want;
        while pos < end {
            if !self.pages.prepare((pos % self.capacity()) / size) {
                return Err(NoPage.into());
            }
            pos = (pos / size + 1) * size;
        }
        let mut done = 0;
        while done < want {
            let tail = self.head + self.len;
            let chunk = self.chunk_at(tail, want - done);
            let n = chunk.len();
            copy(done, chunk)?;
            self.len += n;
            done += n;
        }
        Ok(done)
    }

    /// Appends one message of up to `max` bytes (packet mode); its length is remembered.
    pub fn push_packet<E: From<NoPage>>(
        &mut self,
        max: usize,
        copy: impl FnMut(usize, &mut [u8]) -> Result<(), E>,
    ) -> Result<usize, E> {
        let n = self.push(max, copy)?;
        self.packets.push_back(n);
        Ok(n)
    }

    /// Hands up to `count` bytes from the head to `copy(done, chunk)`; consumes them unless
    /// `peek`. On an error nothing is consumed.
    pub fn pop<E>(
        &mut self,
        count: usize,
        peek: bool,
        mut copy: impl FnMut(usize, &[u8]) -> Result<(), E>,
    ) -> Result<usize, E> {
        let want = count.min(self.len);
        let mut done = 0;
        while done < want {
            let head = self.head + done;
            let chunk = self.chunk_at(head, want - done);
            let n = chunk.len();
            copy(done, chunk)?;
            done += n;
        }
        if !peek {
            self.discard(done);
        }
        Ok(done)
    }

    /// Reads the oldest message into a buffer of `room` bytes (packet mode): what does not fit
    /// is dropped, as Linux drops the rest of a packet. Returns the bytes copied.
    pub fn pop_packet<E>(
        &mut self,
        room: usize,
        peek: bool,
        copy: impl FnMut(usize, &[u8]) -> Result<(), E>,
    ) -> Result<usize, E> {
        let Some(packet) = self.next_packet() else { return self.pop(room, peek, copy) };
        let n = self.pop(packet.min(room), peek, copy)?;
        if !peek {
            self.packets.pop_front();
            if packet > room {
                self.discard(packet - room);
            }
        }
        Ok(n)
    }

    /// Drops `n` bytes from the head.
    pub fn discard(&mut self, n: usize) {
        let n = n.min(self.len);
        self.head = (self.head + n) % self.capacity();
        self.len -= n;
        if self.len == 0 {
            self.head = 0;
        }
    }

    /// Moves the content onto `pages` and returns the old pages; if the content does not fit
    /// (or the pages it needs cannot be had), nothing changes and `pages` come back as the
    /// error.
    pub fn replace_pages(&mut self, mut pages: P) -> Result<P, P> {
        if self.len > pages.count() * pages.page_size() {
            return Err(pages);
        }
        let needed = self.len.div_ceil(pages.page_size());
        if !(0..needed).all(|i| pages.prepare(i)) {
            return Err(pages);
        }
        let mut data = Vec::with_capacity(self.len);
        let _ = self.pop(self.len, true, |_, chunk| {
            data.extend_from_slice(chunk);
            Ok::<(), ()>(())
        });
        let old = core::mem::replace(&mut self.pages, pages);
        self.head = 0;
        self.len = 0;
        // The pages were prepared above: this push cannot fall short.
        let _ = self.push(data.len(), |done, chunk| {
            chunk.copy_from_slice(&data[done..done + chunk.len()]);
            Ok::<(), NoPage>(())
        });
        Ok(old)
    }
}
