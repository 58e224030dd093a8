//! Writing cpio newc archives (needs `std`; enabled by the `std` feature).
//!
//! Every entry gets a fresh inode number (1, 2, 3, ...), uid/gid 0, mtime 0, device numbers 0.
//! Names are written as given; the host tool passes relative paths like `bin/busybox` with
//! parents before children.

use std::io::{self, Write};
use std::vec::Vec;

use crate::{S_IFDIR, S_IFLNK, S_IFMT, S_IFREG, TRAILER};

/// Streams an archive into `out`. Call [`Writer::finish`] at the end to write the trailer.
pub struct Writer<W: Write> {
    out: W,
    offset: usize,
    next_ino: u32,
}

impl<W: Write> Writer<W> {
    pub fn new(out: W) -> Self {
        Writer { out, offset: 0, next_ino: 1 }
    }

    /// A directory; `perm` holds the permission bits (e.g. 0o755).
    pub fn directory(&mut self, name: &str, perm: u32) -> io::Result<()> {
        self.entry(name.as_bytes(), S_IFDIR | (perm & 0o7777), 2, b"")
    }

    /// A regular file with contents `data`; `perm` holds the permission bits.
    pub fn file(&mut self, name: &str, perm: u32, data: &[u8]) -> io::Result<()> {
        self.entry(name.as_bytes(), S_IFREG | (perm & 0o7777), 1, data)
    }

    /// A symbolic link `name -> target`.
    pub fn symlink(&mut self, name: &str, target: &str) -> io::Result<()> {
        self.entry(name.as_bytes(), S_IFLNK | 0o777, 1, target.as_bytes())
    }

    /// Any entry: `mode` must carry the file type bits. Names are bytes (may be non-UTF-8).
    pub fn entry(&mut self, name: &[u8], mode: u32, nlink: u32, data: &[u8]) -> io::Result<()> {
        if name.is_empty() || name.contains(&0) {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "cpio: bad entry name"));
        }
        if mode & S_IFMT == 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "cpio: mode without a file type",
            ));
        }
        let ino = self.next_ino;
        self.next_ino += 1;
        self.raw_entry(name, ino, mode, nlink, data)
    }

    /// Writes the `TRAILER!!!` entry and returns the underlying writer (flushed).
    pub fn finish(mut self) -> io::Result<W> {
        self.raw_entry(TRAILER, 0, 0, 1, b"")?;
        self.out.flush()?;
        Ok(self.out)
    }

    fn raw_entry(
        &mut self,
        name: &[u8],
        ino: u32,
        mode: u32,
        nlink: u32,
        data: &[u8],
    ) -> io::Result<()> {
        let filesize = u32::try_from(data.len()).map_err(|_| {
            io::Error::new(io::ErrorKind::InvalidInput, "cpio: file larger than 4 GiB")
        })?;
        let namesize = (name.len() + 1) as u32;
        let fields: [u32; 13] = [
            ino, mode, 0, /* uid */ 0, /* gid */ nlink, 0, /* mtime */ filesize, 0,
            0, 0, 0, namesize, 0, /* check */
        ];
        let mut header = Vec::with_capacity(crate::HEADER_LEN);
        header.extend_from_slice(b"070701");
        for f in fields {
            write!(header, "{f:08x}")?;
        }
        self.put(&header)?;
        self.put(name)?;
        self.put(&[0])?;
        self.pad()?;
        self.put(data)?;
        self.pad()
    }

    fn put(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.out.write_all(bytes)?;
        self.offset += bytes.len();
        Ok(())
    }

    fn pad(&mut self) -> io::Result<()> {
        let n = (4 - self.offset % 4) % 4;
        self.put(&[0u8; 3][..n])
    }
}
