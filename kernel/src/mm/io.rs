//! The one I/O path of files: a `VmWriter` is where a read puts its bytes and a `VmReader` is
//! where a write takes them from, each either user memory (read(2), write(2): every copy is
//! checked and may fail with EFAULT) or a kernel buffer (sendfile, splice, tee). A file's
//! `read` and `write` see only these, so one implementation serves both (Asterinas's
//! `VmReader`/`VmWriter`).
//!
//! Both are positional views: `skip` and `take` give a narrower view, `read_at`/`write_at` copy
//! at an offset into the view, and nothing moves a cursor, so a file reports how much it moved.

use alloc::vec::Vec;

use super::user::{clear_user, UserSlice};
use crate::error::{Errno, Result};

/// Bytes to be written: user memory (write) or a kernel buffer (sendfile, splice).
#[derive(Clone, Copy)]
pub struct VmReader<'a> {
    src: Source<'a>,
}

#[derive(Clone, Copy)]
enum Source<'a> {
    User(UserSlice),
    Kernel(&'a [u8]),
}

impl<'a> VmReader<'a> {
    /// The bytes of user memory `slice`.
    pub fn user(slice: UserSlice) -> VmReader<'static> {
        VmReader { src: Source::User(slice) }
    }

    /// The bytes of `data`.
    pub fn kernel(data: &'a [u8]) -> VmReader<'a> {
        VmReader { src: Source::Kernel(data) }
    }

    pub fn len(&self) -> usize {
        match self.src {
            Source::User(s) => s.len(),
            Source::Kernel(b) => b.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Fails with EFAULT unless user memory lies wholly in user space (not that it is mapped).
    pub fn check(&self) -> Result<()> {
        match self.src {
            Source::User(s) => s.check(),
            Source::Kernel(_) => Ok(()),
        }
    }

    /// Copies the bytes from `offset` on into `dst`, as many as both have.
    pub fn read_at(&self, offset: usize, dst: &mut [u8]) -> Result<()> {
        self.skip(offset).read(dst)
    }

    /// Copies the first bytes into `dst`, as many as both have.
    pub fn read(&self, dst: &mut [u8]) -> Result<()> {
        match self.src {
            Source::User(s) => s.read(dst),
            Source::Kernel(b) => {
                let n = b.len().min(dst.len());
                dst[..n].copy_from_slice(&b[..n]);
                Ok(())
            }
        }
    }

    /// All the bytes as a kernel buffer: EFAULT for a range outside user space, ENOMEM for a
    /// length the heap cannot hold.
    pub fn read_to_vec(&self) -> Result<Vec<u8>> {
        match self.src {
            Source::User(s) => s.read_to_vec(),
            Source::Kernel(b) => {
                let mut v = Vec::new();
                v.try_reserve_exact(b.len()).map_err(|_| Errno::ENOMEM)?;
                v.extend_from_slice(b);
                Ok(v)
            }
        }
    }

    /// The part after the first `n` bytes.
    pub fn skip(&self, n: usize) -> VmReader<'a> {
        let src = match self.src {
            Source::User(s) => Source::User(s.skip(n)),
            Source::Kernel(b) => Source::Kernel(&b[n.min(b.len())..]),
        };
        VmReader { src }
    }

    /// The first `n` bytes.
    pub fn take(&self, n: usize) -> VmReader<'a> {
        let src = match self.src {
            Source::User(s) => Source::User(s.take(n)),
            Source::Kernel(b) => Source::Kernel(&b[..n.min(b.len())]),
        };
        VmReader { src }
    }
}

impl From<UserSlice> for VmReader<'static> {
    fn from(slice: UserSlice) -> Self {
        VmReader::user(slice)
    }
}

/// Where read bytes go: user memory (read) or a kernel buffer that grows as bytes arrive, up to
/// a limit (splice, tee, sendfile), so a short read costs no more than it brings.
pub struct VmWriter<'a> {
    dst: Dest<'a>,
}

enum Dest<'a> {
    User(UserSlice),
    /// Bytes `at..at + max` of `buf`; `buf` is extended (zeroes first) when written past its end.
    Kernel {
        buf: &'a mut Vec<u8>,
        at: usize,
        max: usize,
    },
}

impl<'a> VmWriter<'a> {
    /// User memory `slice`.
    pub fn user(slice: UserSlice) -> VmWriter<'static> {
        VmWriter { dst: Dest::User(slice) }
    }

    /// Up to `max` bytes placed from the start of `buf`, which grows to hold what is written
    /// (ENOMEM if it cannot); the caller truncates it to the count the read returns.
    pub fn kernel(buf: &'a mut Vec<u8>, max: usize) -> VmWriter<'a> {
        VmWriter { dst: Dest::Kernel { buf, at: 0, max } }
    }

    /// How many bytes it takes at most.
    pub fn len(&self) -> usize {
        match &self.dst {
            Dest::User(s) => s.len(),
            Dest::Kernel { max, .. } => *max,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Fails with EFAULT unless user memory lies wholly in user space (not that it is mapped).
    pub fn check(&self) -> Result<()> {
        match &self.dst {
            Dest::User(s) => s.check(),
            Dest::Kernel { .. } => Ok(()),
        }
    }

    /// Stores `src` at `offset` (what does not fit is dropped).
    pub fn write_at(&mut self, offset: usize, src: &[u8]) -> Result<()> {
        self.skip(offset).write(src)
    }

    /// Stores `src` at the start (what does not fit is dropped).
    pub fn write(&mut self, src: &[u8]) -> Result<()> {
        match &mut self.dst {
            Dest::User(s) => s.write(src),
            Dest::Kernel { buf, at, max } => {
                let src = &src[..src.len().min(*max)];
                let end = *at + src.len();
                if buf.len() < end {
                    buf.try_reserve(end - buf.len()).map_err(|_| Errno::ENOMEM)?;
                    buf.resize(end, 0);
                }
                buf[*at..end].copy_from_slice(src);
                Ok(())
            }
        }
    }

    /// Fills the whole view with zeroes and says how many bytes that is.
    pub fn fill_zero(&mut self) -> Result<usize> {
        let len = self.len();
        match &mut self.dst {
            Dest::User(s) => clear_user(s.addr(), s.len())?,
            Dest::Kernel { buf, at, max } => {
                let end = *at + *max;
                if buf.len() < end {
                    buf.try_reserve(end - buf.len()).map_err(|_| Errno::ENOMEM)?;
                    buf.resize(end, 0);
                }
                buf[*at..end].fill(0);
            }
        }
        Ok(len)
    }

    /// The part after the first `n` bytes.
    pub fn skip(&mut self, n: usize) -> VmWriter<'_> {
        let dst = match &mut self.dst {
            Dest::User(s) => Dest::User(s.skip(n)),
            Dest::Kernel { buf, at, max } => {
                let n = n.min(*max);
                Dest::Kernel { buf, at: *at + n, max: *max - n }
            }
        };
        VmWriter { dst }
    }

    /// The first `n` bytes.
    pub fn take(&mut self, n: usize) -> VmWriter<'_> {
        let dst = match &mut self.dst {
            Dest::User(s) => Dest::User(s.take(n)),
            Dest::Kernel { buf, at, max } => Dest::Kernel { buf, at: *at, max: n.min(*max) },
        };
        VmWriter { dst }
    }
}
