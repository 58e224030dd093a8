//! cpio "newc" archives (the format of Linux initramfs images).
//!
//! The parser is `no_std` and allocation-free: [`Archive::entries`] (or [`entries`]) walks an
//! archive held in memory and yields [`Entry`] values that borrow from it. It stops at the
//! `TRAILER!!!` entry and reports malformed input as an [`Error`] instead of panicking.
//!
//! With the `std` feature, [`writer::Writer`] produces such archives (used by the host tool).
//!
//! Format of one entry (all numbers are 8 ASCII hex digits):
//! ```text
//! magic "070701" (or "070702")  ino mode uid gid nlink mtime filesize
//! devmajor devminor rdevmajor rdevminor namesize check     -- 110 bytes in all
//! name (namesize bytes, including the terminating NUL), padded to a multiple of 4
//! data (filesize bytes), padded to a multiple of 4
//! ```
//! Offsets of the padding are counted from the start of the archive.

#![no_std]

#[cfg(any(test, feature = "std"))]
extern crate std;

#[cfg(any(test, feature = "std"))]
pub mod writer;

use core::fmt;

/// Length of the fixed header of a newc entry.
pub const HEADER_LEN: usize = 110;
/// Name of the entry that ends an archive.
pub const TRAILER: &[u8] = b"TRAILER!!!";

/// File-type bits of `mode` (as in Linux `stat`).
pub const S_IFMT: u32 = 0o170000;
pub const S_IFSOCK: u32 = 0o140000;
pub const S_IFLNK: u32 = 0o120000;
pub const S_IFREG: u32 = 0o100000;
pub const S_IFBLK: u32 = 0o060000;
pub const S_IFDIR: u32 = 0o040000;
pub const S_IFCHR: u32 = 0o020000;
pub const S_IFIFO: u32 = 0o010000;

/// What is wrong with an archive. `offset` is the byte offset in the archive where the problem
/// was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Error {
    /// The header does not start with `070701` / `070702`.
    BadMagic { offset: usize },
    /// The archive ends inside a header, name or data, or before a `TRAILER!!!` entry.
    Truncated { offset: usize },
    /// A header field is not 8 hexadecimal digits.
    BadHex { offset: usize },
    /// The name is empty or is not terminated by its NUL byte.
    BadName { offset: usize },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Error::BadMagic { offset } => write!(f, "cpio: bad magic at offset {offset}"),
            Error::Truncated { offset } => write!(f, "cpio: archive truncated at offset {offset}"),
            Error::BadHex { offset } => write!(f, "cpio: bad hex number at offset {offset}"),
            Error::BadName { offset } => write!(f, "cpio: bad file name at offset {offset}"),
        }
    }
}

/// One member of an archive. `name` and `data` borrow from the archive bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry<'a> {
    /// The path as stored, without the NUL terminator. Archives made by `xtask` (and by most
    /// tools) store relative paths such as `bin/busybox`, parents before children; some tools
    /// write a leading `./` or `/`. See [`Entry::path`].
    pub name: &'a [u8],
    pub ino: u32,
    /// File type and permission bits, as in `st_mode`.
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub nlink: u32,
    pub mtime: u32,
    pub dev_major: u32,
    pub dev_minor: u32,
    pub rdev_major: u32,
    pub rdev_minor: u32,
    /// File contents; for a symlink, the link target.
    pub data: &'a [u8],
}

impl<'a> Entry<'a> {
    /// The name as UTF-8, if it is.
    pub fn name_str(&self) -> Option<&'a str> {
        core::str::from_utf8(self.name).ok()
    }

    /// The name without any leading `./` or `/` components (`.` itself becomes empty),
    /// i.e. the path relative to the root of the file system being built.
    pub fn path(&self) -> &'a [u8] {
        let mut n = self.name;
        loop {
            if let Some(rest) = n.strip_prefix(b"/") {
                n = rest;
            } else if let Some(rest) = n.strip_prefix(b"./") {
                n = rest;
            } else if n == b"." {
                n = b"";
            } else {
                return n;
            }
        }
    }

    /// The file-type bits of `mode` (one of the `S_IF*` constants).
    pub fn file_type(&self) -> u32 {
        self.mode & S_IFMT
    }
    /// Permission bits (including setuid/setgid/sticky).
    pub fn permissions(&self) -> u32 {
        self.mode & 0o7777
    }
    pub fn is_dir(&self) -> bool {
        self.file_type() == S_IFDIR
    }
    pub fn is_file(&self) -> bool {
        self.file_type() == S_IFREG
    }
    pub fn is_symlink(&self) -> bool {
        self.file_type() == S_IFLNK
    }
}

/// An archive in memory.
#[derive(Debug, Clone, Copy)]
pub struct Archive<'a> {
    bytes: &'a [u8],
}

impl<'a> Archive<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        Archive { bytes }
    }
    /// Iterator over the entries, up to (not including) `TRAILER!!!`.
    pub fn entries(&self) -> Entries<'a> {
        Entries { bytes: self.bytes, pos: 0, done: false }
    }
}

/// Iterator over the entries of `bytes`; shorthand for `Archive::new(bytes).entries()`.
pub fn entries(bytes: &[u8]) -> Entries<'_> {
    Archive::new(bytes).entries()
}

/// Iterator over the entries of an archive. Yields `Err` once on malformed input, then `None`.
#[derive(Debug, Clone)]
pub struct Entries<'a> {
    bytes: &'a [u8],
    pos: usize,
    done: bool,
}

impl<'a> Entries<'a> {
    /// Byte offset of the next header in the archive.
    pub fn offset(&self) -> usize {
        self.pos
    }

    fn parse_next(&mut self) -> Result<Option<Entry<'a>>, Error> {
        let start = self.pos;
        let bytes = self.bytes;
        let header = bytes
            .get(start..)
            .and_then(|rest| rest.get(..HEADER_LEN))
            .ok_or(Error::Truncated { offset: start })?;
        if &header[..6] != b"070701" && &header[..6] != b"070702" {
            return Err(Error::BadMagic { offset: start });
        }
        let field = |i: usize| -> Result<u32, Error> {
            let at = 6 + 8 * i;
            parse_hex(&header[at..at + 8]).ok_or(Error::BadHex { offset: start + at })
        };
        let ino = field(0)?;
        let mode = field(1)?;
        let uid = field(2)?;
        let gid = field(3)?;
        let nlink = field(4)?;
        let mtime = field(5)?;
        let filesize = field(6)? as usize;
        let dev_major = field(7)?;
        let dev_minor = field(8)?;
        let rdev_major = field(9)?;
        let rdev_minor = field(10)?;
        let namesize = field(11)? as usize;
        let _check = field(12)?;

        let name_start = start + HEADER_LEN;
        let name_end =
            name_start.checked_add(namesize).ok_or(Error::Truncated { offset: name_start })?;
        let name_with_nul =
            bytes.get(name_start..name_end).ok_or(Error::Truncated { offset: name_start })?;
        let name = match name_with_nul.split_last() {
            Some((0, name)) if !name.is_empty() && !name.contains(&0) => name,
            _ => return Err(Error::BadName { offset: name_start }),
        };

        let data_start = align4(name_end).ok_or(Error::Truncated { offset: name_end })?;
        let data_end =
            data_start.checked_add(filesize).ok_or(Error::Truncated { offset: data_start })?;
        let data = bytes
            .get(data_start..data_end)
            .ok_or(Error::Truncated { offset: data_start.min(bytes.len()) })?;
        // The padding after the data may be missing at the very end of the archive.
        self.pos = align4(data_end).ok_or(Error::Truncated { offset: data_end })?;

        if name == TRAILER {
            return Ok(None);
        }
        Ok(Some(Entry {
            name,
            ino,
            mode,
            uid,
            gid,
            nlink,
            mtime,
            dev_major,
            dev_minor,
            rdev_major,
            rdev_minor,
            data,
        }))
    }
}

impl<'a> Iterator for Entries<'a> {
    type Item = Result<Entry<'a>, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.parse_next() {
            Ok(Some(entry)) => Some(Ok(entry)),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

impl core::iter::FusedIterator for Entries<'_> {}

fn align4(n: usize) -> Option<usize> {
    n.checked_add(3).map(|m| m & !3)
}

/// Parses exactly 8 hex digits (either case).
fn parse_hex(digits: &[u8]) -> Option<u32> {
    if digits.len() != 8 {
        return None;
    }
    let mut value: u32 = 0;
    for &d in digits {
        let v = match d {
            b'0'..=b'9' => d - b'0',
            b'a'..=b'f' => d - b'a' + 10,
            b'A'..=b'F' => d - b'A' + 10,
            _ => return None,
        };
        value = (value << 4) | v as u32;
    }
    Some(value)
}

#[cfg(test)]
mod tests;
