//! Device files: the character devices a device node (in any tmpfs) opens by its number, and
//! the devtmpfs mounted at /dev (/dev/pts is devpts, in `tty/devpts.rs`).

use alloc::sync::Arc;

use spin::Once;

use super::file::{FileLike, Mapping};
use super::inode::*;
use super::tmpfs::TmpFs;
use crate::error::{Errno, Result};
use crate::mm::io::{VmReader, VmWriter};

pub const fn makedev(major: u64, minor: u64) -> u64 {
    (major << 8) | (minor & 0xff) | ((minor & !0xff) << 12)
}

const DEV_NULL: u64 = makedev(1, 3);
pub const DEV_ZERO: u64 = makedev(1, 5);
const DEV_FULL: u64 = makedev(1, 7);
const DEV_RANDOM: u64 = makedev(1, 8);
const DEV_URANDOM: u64 = makedev(1, 9);
const DEV_TTY: u64 = makedev(5, 0);
const DEV_CONSOLE: u64 = makedev(5, 1);
const DEV_TTYS0: u64 = makedev(4, 64);
const DEV_PTMX: u64 = super::tty::pty::PTMX_RDEV;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Null,
    Zero,
    Full,
    Random,
}

struct MemDevice {
    kind: Kind,
    rdev: u64,
}

fn fill_random(buf: &mut VmWriter) -> Result<usize> {
    let mut chunk = [0u8; 256];
    let mut done = 0;
    while done < buf.len() {
        let n = (buf.len() - done).min(chunk.len());
        crate::random::fill(&mut chunk[..n]);
        buf.skip(done).write(&chunk[..n])?;
        done += n;
    }
    Ok(done)
}

impl FileLike for MemDevice {
    fn read(&self, buf: &mut VmWriter, _offset: u64, _nonblock: bool) -> Result<usize> {
        match self.kind {
            Kind::Null => Ok(0),
            Kind::Zero | Kind::Full => buf.fill_zero(),
            Kind::Random => fill_random(buf),
        }
    }

    fn write(&self, buf: &VmReader, _offset: u64, _nonblock: bool) -> Result<usize> {
        match self.kind {
            Kind::Full => Err(Errno::ENOSPC),
            _ => Ok(buf.len()),
        }
    }

    fn fixed_seek(&self) -> Option<u64> {
        Some(0)
    }

    /// /dev/zero maps as anonymous memory; the other memory devices not at all, as in Linux.
    fn mmap(&self, _shared: bool, _write: bool, _fd_writable: bool) -> Result<Mapping> {
        match self.kind {
            Kind::Zero => Ok(Mapping::Anonymous),
            _ => Err(Errno::ENODEV),
        }
    }

    fn can_splice_read(&self) -> bool {
        true
    }

    fn can_splice_write(&self) -> bool {
        true
    }

    fn metadata(&self) -> Metadata {
        Metadata {
            mode: S_IFCHR | 0o666,
            nlink: 1,
            rdev: self.rdev,
            blksize: 4096,
            ..Metadata::default()
        }
    }
}

/// Finds the controlling terminal of the calling process (installed by `process`).
static CTTY_LOOKUP: Once<CttyLookup> = Once::new();

/// The calling process's controlling terminal, if it has one.
type CttyLookup = fn() -> Option<Arc<dyn FileLike>>;

pub fn set_ctty_lookup(f: CttyLookup) {
    CTTY_LOOKUP.call_once(|| f);
}

/// Opens the device with number `rdev`.
pub fn open_device(rdev: u64, _flags: u32) -> Result<Arc<dyn FileLike>> {
    let mem = |kind| Ok(Arc::new(MemDevice { kind, rdev }) as Arc<dyn FileLike>);
    match rdev {
        DEV_NULL => mem(Kind::Null),
        DEV_ZERO => mem(Kind::Zero),
        DEV_FULL => mem(Kind::Full),
        DEV_RANDOM | DEV_URANDOM => mem(Kind::Random),
        DEV_CONSOLE | DEV_TTYS0 => Ok(Arc::new(super::tty::console().clone())),
        DEV_PTMX => super::tty::pty::open_master(),
        DEV_TTY => CTTY_LOOKUP.get().and_then(|f| f()).ok_or(Errno::ENXIO),
        _ => Err(Errno::ENXIO),
    }
}

/// A devtmpfs with the standard nodes.
pub fn new_devtmpfs() -> Arc<dyn FileSystem> {
    let fs = TmpFs::new("devtmpfs", 0o755);
    let root = fs.root_dir();
    let node = |mode, rdev| NewNode { mode, uid: 0, gid: 0, rdev };
    let devices = [
        ("null", DEV_NULL, 0o666),
        ("zero", DEV_ZERO, 0o666),
        ("full", DEV_FULL, 0o666),
        ("random", DEV_RANDOM, 0o666),
        ("urandom", DEV_URANDOM, 0o666),
        ("tty", DEV_TTY, 0o666),
        ("console", DEV_CONSOLE, 0o600),
        ("ttyS0", DEV_TTYS0, 0o660),
        ("ptmx", DEV_PTMX, 0o666),
    ];
    for (name, rdev, perm) in devices {
        let _ = root.create(name, node(S_IFCHR | perm, rdev));
    }
    for dir in ["pts", "shm"] {
        let _ = root.create(dir, node(S_IFDIR | 0o755, 0));
    }
    for (name, target) in [
        ("fd", "/proc/self/fd"),
        ("stdin", "/proc/self/fd/0"),
        ("stdout", "/proc/self/fd/1"),
        ("stderr", "/proc/self/fd/2"),
    ] {
        let _ = root.symlink(name, target, node(S_IFLNK | 0o777, 0));
    }
    fs
}
