//! procfs: read-only views of processes and of the system under /proc, in Linux's formats.
//!
//! Directories list live contents; files are generated when opened and the open file serves
//! that snapshot (`generated.rs`). Inodes are made on each lookup and carry stable numbers
//! (`ino`), so two stats of the same path agree.

mod cpuinfo;
mod fd;
mod fdinfo;
mod generated;
mod link;
mod net;
mod pid;
mod process_files;
mod root;
mod sys;
mod system_files;
mod sysvipc;
mod task;
mod tree;

use alloc::sync::{Arc, Weak};

use crate::arch::time::{monotonic_ns, realtime_ns};
use crate::fs::inode::{FileSystem, Inode, Metadata};
use crate::process::{self, Process};

pub const PROC_SUPER_MAGIC: u64 = 0x9fa0;
pub const SYSFS_MAGIC: u64 = 0x6265_6572;

/// /proc, or (`sys`) the small /sys this kernel has: the CPU lists under
/// /sys/devices/system/cpu, which glibc's sysconf and nproc read. Both are tables of generated
/// files, so they share the machinery.
pub struct ProcFs {
    dev: u64,
    sys: bool,
    this: Weak<ProcFs>,
}

impl ProcFs {
    pub fn new() -> Arc<ProcFs> {
        Self::with_kind(false)
    }

    pub fn new_sys() -> Arc<ProcFs> {
        Self::with_kind(true)
    }

    fn with_kind(sys: bool) -> Arc<ProcFs> {
        Arc::new_cyclic(|this| ProcFs {
            dev: crate::fs::mount::new_anonymous_dev(),
            sys,
            this: this.clone(),
        })
    }

    /// Every inode holds its file system; `this` is alive whenever `&self` is.
    fn me(&self) -> Arc<ProcFs> {
        self.this.upgrade().unwrap_or_else(|| Self::with_kind(self.sys))
    }
}

impl FileSystem for ProcFs {
    fn dev(&self) -> u64 {
        self.dev
    }
    fn magic(&self) -> u64 {
        if self.sys {
            SYSFS_MAGIC
        } else {
            PROC_SUPER_MAGIC
        }
    }
    fn name(&self) -> &'static str {
        if self.sys {
            "sysfs"
        } else {
            "proc"
        }
    }
    fn root(&self) -> Arc<dyn Inode> {
        if self.sys {
            tree::root_dir(self.me(), sys::ROOT)
        } else {
            root::RootDir::new(self.me())
        }
    }
    fn has_storage(&self) -> bool {
        false
    }
}

/// Makes `mount -t proc` (and the boot mount of /proc) possible.
pub fn init() {
    crate::fs::mount::register_fs_type("proc", || ProcFs::new());
    crate::fs::mount::register_fs_type("sysfs", || ProcFs::new_sys());
}

/// Inode numbers: small ones for the global tree, `pid << 32 | sub` below /proc/<pid>.
pub mod ino {
    pub const ROOT: u64 = 1;
    /// Global files and directories: `GLOBAL + index` (index < 0x1000).
    pub const GLOBAL: u64 = 0x10;
    /// Within a pid directory.
    pub const PID_DIR: u64 = 1;
    pub const FD_DIR: u64 = 2;
    pub const FDINFO_DIR: u64 = 3;
    pub const TASK_DIR: u64 = 4;
    /// /proc/<pid>/task/<tid>: `of_pid(tid, TID_DIR)`, its files `of_pid(tid, TID_FILE + i)`.
    pub const TID_DIR: u64 = 5;
    pub const TID_FILE: u64 = 0x20;
    /// Per-process files: `PID_FILE + index`.
    pub const PID_FILE: u64 = 0x10;
    /// /proc/<pid>/fd/<n>: `FD_LINK + n`.
    pub const FD_LINK: u64 = 0x1_0000;
    /// /proc/<pid>/fdinfo/<n>: `FDINFO_FILE + n`.
    pub const FDINFO_FILE: u64 = 0x4000_0000;
    /// The hidden node an anonymous fd's link resolves to: `FD_TARGET + n`.
    pub const FD_TARGET: u64 = 0x8000_0000;

    pub fn of_pid(pid: u32, sub: u64) -> u64 {
        ((pid as u64) << 32) | sub
    }
}

/// Who owns a node: root, or (below /proc/<pid>) the process's effective ids.
#[derive(Clone, Copy)]
pub enum Owner {
    Root,
    Process(u32),
}

impl Owner {
    fn ids(self) -> (u32, u32) {
        match self {
            Owner::Root => (0, 0),
            Owner::Process(pid) => match process::find(pid) {
                Some(p) => {
                    let c = p.creds.lock();
                    (c.euid, c.egid)
                }
                None => (0, 0),
            },
        }
    }

    /// Linux stamps a process's nodes with its start time, the rest with boot time.
    fn time_ns(self) -> i64 {
        let boot = realtime_ns() - monotonic_ns() as i64;
        match self {
            Owner::Root => boot,
            Owner::Process(pid) => {
                process::find(pid).map(|p| boot + p.start_ns as i64).unwrap_or(boot)
            }
        }
    }
}

/// The metadata of a procfs node (size 0 like Linux, except what the caller says).
fn metadata(fs: &ProcFs, ino: u64, mode: u32, nlink: u32, owner: Owner, size: u64) -> Metadata {
    let (uid, gid) = owner.ids();
    let t = owner.time_ns();
    Metadata {
        dev: fs.dev,
        ino,
        mode,
        nlink,
        uid,
        gid,
        rdev: 0,
        size,
        blksize: 1024,
        blocks: 0,
        atime_ns: t,
        mtime_ns: t,
        ctime_ns: t,
    }
}

/// The directory-changing operations of a procfs directory, all refused as Linux refuses them:
/// a new name is not found (procfs keeps no negative entries: ENOENT), an existing one exists
/// (EEXIST) or may not be removed (EPERM).
macro_rules! read_only_dir {
    () => {
        fn create(&self, name: &str, _node: crate::fs::inode::NewNode) -> Result<Arc<dyn Inode>> {
            Err(super::refuse_create(self, name))
        }
        fn symlink(
            &self,
            name: &str,
            _target: &str,
            _node: crate::fs::inode::NewNode,
        ) -> Result<Arc<dyn Inode>> {
            Err(super::refuse_create(self, name))
        }
        fn link(&self, name: &str, _target: &Arc<dyn Inode>) -> Result<()> {
            Err(super::refuse_create(self, name))
        }
        fn unlink(&self, name: &str) -> Result<()> {
            Err(super::refuse_remove(self, name))
        }
        fn rmdir(&self, name: &str) -> Result<()> {
            Err(super::refuse_remove(self, name))
        }
        fn rename(
            &self,
            old: &str,
            _new_dir: &Arc<dyn Inode>,
            _new: &str,
            _flags: u32,
        ) -> Result<()> {
            Err(super::refuse_remove(self, old))
        }
    };
}
use read_only_dir;

fn refuse_create(dir: &dyn Inode, name: &str) -> crate::error::Errno {
    if dir.lookup(name).is_ok() {
        crate::error::Errno::EEXIST
    } else {
        crate::error::Errno::ENOENT
    }
}

fn refuse_remove(dir: &dyn Inode, name: &str) -> crate::error::Errno {
    if dir.lookup(name).is_ok() {
        crate::error::Errno::EPERM
    } else {
        crate::error::Errno::ENOENT
    }
}

/// Linux's ptrace_may_access(PTRACE_MODE_READ_FSCREDS), the one check in front of the files
/// that show what a process holds (maps, environ, fd/, fdinfo/, the cwd and exe links): the
/// caller itself, root, or a caller whose fs ids equal the target's real, effective and saved
/// ids; anyone else gets EACCES. (Every process here is dumpable: there is no set-id exec
/// nor PR_SET_DUMPABLE yet.)
pub(crate) fn may_inspect(pid: u32) -> crate::error::Result<()> {
    let Some(me) = caller() else { return Ok(()) };
    if me.pid == pid {
        return Ok(());
    }
    let target = process::find(pid).ok_or(crate::error::Errno::ENOENT)?;
    let c = me.creds.lock().clone();
    let t = target.creds.lock().clone();
    let same_user = [t.uid, t.euid, t.suid].iter().all(|&u| u == c.fsuid)
        && [t.gid, t.egid, t.sgid].iter().all(|&g| g == c.fsgid);
    if c.capable(crate::cap::Cap::SysPtrace) || same_user {
        Ok(())
    } else {
        Err(crate::error::Errno::EACCES)
    }
}

/// The process `pid` if the caller may see what it holds (`may_inspect`); ENOENT once it is
/// gone. The preamble of fd/, fdinfo/ and the guarded links.
pub(crate) fn inspected(pid: u32) -> crate::error::Result<Arc<Process>> {
    let p = process::find(pid).ok_or(crate::error::Errno::ENOENT)?;
    may_inspect(pid)?;
    Ok(p)
}

/// The process the calling thread belongs to (None for kernel threads).
pub(crate) fn caller() -> Option<Arc<Process>> {
    crate::task::scheduler::try_current().and_then(|t| process::of_thread(&t))
}
