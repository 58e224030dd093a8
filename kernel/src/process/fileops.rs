//! POSIX file semantics for the calling process: resolving paths against its cwd and dirfds,
//! permission checks with its credentials, creation with its umask, and its descriptor table.
//! The syscall files decode arguments and call these.

use alloc::string::String;
use alloc::sync::Arc;

use super::creds::{Credentials, MAY_EXEC, MAY_READ, MAY_WRITE};
use super::{current, Process};
use crate::cap::Cap;
use crate::error::{Errno, Result};
use crate::fs::file::*;
use crate::fs::inode::*;
use crate::fs::path::{self, Walk};

pub const AT_FDCWD: i32 = -100;
pub const AT_SYMLINK_NOFOLLOW: u32 = 0x100;
pub const AT_REMOVEDIR: u32 = 0x200;
pub const AT_EACCESS: u32 = 0x200;
pub const AT_SYMLINK_FOLLOW: u32 = 0x400;
pub const AT_NO_AUTOMOUNT: u32 = 0x800;
pub const AT_EMPTY_PATH: u32 = 0x1000;

fn creds() -> Credentials {
    current().creds.lock().clone()
}

/// The walk a relative `path` starts from: the cwd or the directory open as `dirfd`.
pub fn start_at(proc: &Process, dirfd: i32, path: &str) -> Result<Walk> {
    if path.starts_with('/') {
        return Ok(path::caller_root());
    }
    if dirfd == AT_FDCWD {
        return Ok(proc.fs().lock().cwd.clone());
    }
    let file = proc.files().lock().get(dirfd)?;
    let walk = file.path().cloned().ok_or(Errno::ENOTDIR)?;
    if !walk.inode().metadata().is_dir() {
        return Err(Errno::ENOTDIR);
    }
    Ok(walk)
}

/// Resolves `path` relative to `dirfd`. An empty path names `dirfd` itself with AT_EMPTY_PATH.
pub fn lookup_at(dirfd: i32, path: &str, flags: u32) -> Result<Walk> {
    let proc = current();
    if path.is_empty() {
        if flags & AT_EMPTY_PATH == 0 {
            return Err(Errno::ENOENT);
        }
        if dirfd == AT_FDCWD {
            return Ok(proc.fs().lock().cwd.clone());
        }
        let file = proc.files().lock().get(dirfd)?;
        return file.path().cloned().ok_or(Errno::EBADF);
    }
    let start = start_at(&proc, dirfd, path)?;
    path::resolve(&start, path, flags & AT_SYMLINK_NOFOLLOW == 0)
}

/// The parent directory of `path` and the last name, checking the caller may modify it.
fn parent_for_change(dirfd: i32, path: &str) -> Result<(Walk, String)> {
    let proc = current();
    let start = start_at(&proc, dirfd, path)?;
    let (parent, name) = path::resolve_parent(&start, path)?;
    if !creds().may_access(&parent.inode().metadata(), MAY_WRITE | MAY_EXEC) {
        return Err(Errno::EACCES);
    }
    Ok((parent, name))
}

/// In a sticky directory only the file's owner, the directory's owner or root may remove or
/// rename an entry.
fn check_sticky(dir: &Arc<dyn Inode>, name: &str) -> Result<()> {
    let dm = dir.metadata();
    if dm.mode & 0o1000 == 0 {
        return Ok(());
    }
    let c = creds();
    if c.capable(Cap::Fowner) || c.fsuid == dm.uid {
        return Ok(());
    }
    match dir.lookup(name) {
        Ok(child) if child.metadata().uid != c.fsuid => Err(Errno::EPERM),
        _ => Ok(()),
    }
}

fn new_node(type_bits: u32, mode: u32) -> NewNode {
    let p = current();
    let umask = p.fs().lock().umask;
    let c = p.creds.lock();
    NewNode { mode: type_bits | (mode & 0o7777 & !umask), uid: c.fsuid, gid: c.fsgid, rdev: 0 }
}

/// The open file for `inode`: its own (devices, ...) or the generic one.
fn open_inode(inode: &Arc<dyn Inode>, flags: u32) -> Result<Arc<dyn FileLike>> {
    match inode.open(flags)? {
        Some(f) => Ok(f),
        None => Ok(InodeFile::new(inode.clone())),
    }
}

/// An O_PATH descriptor: names a file without opening it.
struct PathOnly {
    inode: Arc<dyn Inode>,
}

impl FileLike for PathOnly {
    fn read(&self, _: &mut crate::mm::io::VmWriter, _: u64, _: bool) -> Result<usize> {
        Err(Errno::EBADF)
    }
    fn write(&self, _: &crate::mm::io::VmReader, _: u64, _: bool) -> Result<usize> {
        Err(Errno::EBADF)
    }
    fn metadata(&self) -> Metadata {
        self.inode.metadata()
    }
    fn inode(&self) -> Option<Arc<dyn Inode>> {
        Some(self.inode.clone())
    }
}

/// Installs `file` in the caller's table at the lowest free fd.
pub fn install(file: Arc<OpenFile>, cloexec: bool) -> Result<i32> {
    install_as(file, cloexec, false)
}

/// As `install`, but the descriptor is only reserved: no other thread sees it until `publish`
/// (for calls that copy the number out to user memory before they can succeed).
pub fn reserve(file: Arc<OpenFile>, cloexec: bool) -> Result<i32> {
    install_as(file, cloexec, true)
}

/// The call that reserved `fds` succeeded: they become visible.
pub fn publish(fds: &[i32]) {
    let p = current();
    let table_ref = p.files();
    let mut table = table_ref.lock();
    for &fd in fds {
        table.publish(fd);
    }
}

/// The call that reserved `fds` failed: they are given back, their files released.
pub fn unreserve(fds: &[i32]) {
    let p = current();
    let table_ref = p.files();
    let mut table = table_ref.lock();
    for &fd in fds {
        table.unreserve(fd);
    }
}

fn install_as(file: Arc<OpenFile>, cloexec: bool, reserved: bool) -> Result<i32> {
    let p = current();
    // fs.file-max bounds the open file descriptions of all but root (Linux: CAP_SYS_ADMIN);
    // a dup'ed one is not new.
    if Arc::strong_count(&file) == 1 && !p.creds.lock().capable(Cap::SysAdmin) {
        crate::fs::file::check_file_max()?;
    }
    let limit = p.rlimits.lock().nofile();
    let table_ref = p.files();
    let mut table = table_ref.lock();
    if reserved {
        table.reserve(file, cloexec, 0, limit)
    } else {
        table.insert(file, cloexec, 0, limit)
    }
}

/// open/openat/creat.
pub fn open_at(dirfd: i32, path: &str, flags: u32, mode: u32) -> Result<i32> {
    let proc = current();
    let start = start_at(&proc, dirfd, path)?;
    open_at_walk(&start, path, flags, mode)
}

fn open_at_walk(start: &Walk, path: &str, flags: u32, mode: u32) -> Result<i32> {
    let creds = creds();
    let start = start.clone();
    let follow = flags & O_NOFOLLOW == 0;
    if flags & O_TMPFILE == O_TMPFILE {
        return Err(Errno::EOPNOTSUPP);
    }
    if flags & O_PATH != 0 {
        let walk = path::resolve(&start, path, follow)?;
        if flags & O_DIRECTORY != 0 && !walk.inode().metadata().is_dir() {
            return Err(Errno::ENOTDIR);
        }
        let file = Arc::new(PathOnly { inode: walk.inode().clone() });
        return install(OpenFile::with_path(file, O_PATH, Some(walk)), flags & O_CLOEXEC != 0);
    }
    let walk = if flags & O_CREAT != 0 {
        let (parent, name) = path::resolve_parent(&start, path)?;
        if path.ends_with('/') {
            return Err(Errno::EISDIR);
        }
        match parent.inode().lookup(&name) {
            Ok(_) if flags & O_EXCL != 0 => return Err(Errno::EEXIST),
            Ok(existing) if follow && existing.metadata().file_type() == S_IFLNK => {
                match path::resolve(&start, path, true) {
                    Ok(w) => w,
                    // A dangling symlink: create what it points to (Linux does).
                    Err(Errno::ENOENT) => {
                        let target = existing.readlink()?;
                        let fd = open_at_walk(&parent, &target, flags, mode)?;
                        return Ok(fd);
                    }
                    Err(e) => return Err(e),
                }
            }
            Ok(_) => path::resolve(&start, path, follow)?,
            Err(Errno::ENOENT) => {
                if !creds.may_access(&parent.inode().metadata(), MAY_WRITE | MAY_EXEC) {
                    return Err(Errno::EACCES);
                }
                parent.inode().create(&name, new_node(S_IFREG, mode))?;
                path::resolve(&parent, &name, false)?
            }
            Err(e) => return Err(e),
        }
    } else {
        path::resolve(&start, path, follow)?
    };
    let inode = walk.inode().clone();
    let m = inode.metadata();
    if m.file_type() == S_IFLNK {
        return Err(Errno::ELOOP);
    }
    if flags & O_DIRECTORY != 0 && !m.is_dir() {
        return Err(Errno::ENOTDIR);
    }
    let access = flags & O_ACCMODE;
    if m.is_dir() && (access != O_RDONLY || flags & O_CREAT != 0) {
        return Err(Errno::EISDIR);
    }
    let mut want = 0;
    if access != O_WRONLY {
        want |= MAY_READ;
    }
    if access != O_RDONLY || flags & O_TRUNC != 0 {
        want |= MAY_WRITE;
    }
    if !creds.may_access(&m, want) {
        return Err(Errno::EACCES);
    }
    let file = open_inode(&inode, flags)?;
    if flags & O_TRUNC != 0 && m.file_type() == S_IFREG && access != O_RDONLY {
        inode.truncate(0)?;
    }
    // 64-bit Linux always adds O_LARGEFILE.
    install(OpenFile::with_path(file, flags | O_LARGEFILE, Some(walk)), flags & O_CLOEXEC != 0)
}

pub fn mkdir_at(dirfd: i32, path: &str, mode: u32) -> Result<()> {
    let (parent, name) = parent_for_change(dirfd, path)?;
    if name == "." || name == ".." {
        return Err(Errno::EEXIST);
    }
    parent.inode().create(&name, new_node(S_IFDIR, mode)).map(|_| ())
}

pub fn mknod_at(dirfd: i32, path: &str, mode: u32, dev: u64) -> Result<()> {
    let kind = match mode & S_IFMT {
        0 | S_IFREG => S_IFREG,
        S_IFCHR | S_IFBLK | S_IFIFO | S_IFSOCK => mode & S_IFMT,
        S_IFDIR => return Err(Errno::EPERM),
        _ => return Err(Errno::EINVAL),
    };
    if matches!(kind, S_IFCHR | S_IFBLK) && !creds().capable(Cap::Mknod) {
        return Err(Errno::EPERM);
    }
    let (parent, name) = parent_for_change(dirfd, path)?;
    if path.ends_with('/') {
        return Err(Errno::ENOENT);
    }
    let mut node = new_node(kind, mode);
    node.rdev = dev;
    parent.inode().create(&name, node).map(|_| ())
}

pub fn unlink_at(dirfd: i32, path: &str, flags: u32) -> Result<()> {
    if flags & !AT_REMOVEDIR != 0 {
        return Err(Errno::EINVAL);
    }
    if flags & AT_REMOVEDIR != 0 && path.trim_end_matches('/').is_empty() && path.starts_with('/') {
        return Err(Errno::EBUSY);
    }
    let (parent, name) = parent_for_change(dirfd, path)?;
    if flags & AT_REMOVEDIR != 0 {
        return match name.as_str() {
            "." => Err(Errno::EINVAL),
            ".." => Err(Errno::ENOTEMPTY),
            _ => {
                let child = parent.inode().lookup(&name)?;
                if crate::fs::mount::mounted_on(&child).is_some() {
                    return Err(Errno::EBUSY);
                }
                check_sticky(parent.inode(), &name)?;
                parent.inode().rmdir(&name)
            }
        };
    }
    if path.ends_with('/') {
        let child = parent.inode().lookup(&name)?;
        return Err(if child.metadata().is_dir() { Errno::EISDIR } else { Errno::ENOTDIR });
    }
    check_sticky(parent.inode(), &name)?;
    parent.inode().unlink(&name)
}

pub fn rename_at(olddirfd: i32, old: &str, newdirfd: i32, new: &str, flags: u32) -> Result<()> {
    if flags & !(RENAME_NOREPLACE | RENAME_EXCHANGE) != 0
        || flags == RENAME_NOREPLACE | RENAME_EXCHANGE
    {
        return Err(Errno::EINVAL);
    }
    let (src, old_name) = parent_for_change(olddirfd, old)?;
    let (dst, new_name) = parent_for_change(newdirfd, new)?;
    for n in [&old_name, &new_name] {
        if n == "." || n == ".." {
            return Err(if flags & RENAME_NOREPLACE != 0 { Errno::EEXIST } else { Errno::EBUSY });
        }
    }
    let moving = src.inode().lookup(&old_name)?;
    if (old.ends_with('/') || new.ends_with('/')) && !moving.metadata().is_dir() {
        return Err(Errno::ENOTDIR);
    }
    if src.inode().metadata().dev != dst.inode().metadata().dev {
        return Err(Errno::EXDEV);
    }
    check_sticky(src.inode(), &old_name)?;
    check_sticky(dst.inode(), &new_name)?;
    src.inode().rename(&old_name, dst.inode(), &new_name, flags)
}

pub fn link_at(olddirfd: i32, old: &str, newdirfd: i32, new: &str, flags: u32) -> Result<()> {
    if flags & !(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH) != 0 {
        return Err(Errno::EINVAL);
    }
    let follow = if flags & AT_SYMLINK_FOLLOW != 0 { 0 } else { AT_SYMLINK_NOFOLLOW };
    let target = lookup_at(olddirfd, old, follow | (flags & AT_EMPTY_PATH))?;
    if target.inode().metadata().is_dir() {
        return Err(Errno::EPERM);
    }
    let (parent, name) = parent_for_change(newdirfd, new)?;
    if new.ends_with('/') {
        return Err(Errno::ENOENT);
    }
    if parent.inode().metadata().dev != target.inode().metadata().dev {
        return Err(Errno::EXDEV);
    }
    parent.inode().link(&name, target.inode())
}

pub fn symlink_at(target: &str, newdirfd: i32, path: &str) -> Result<()> {
    if target.is_empty() {
        return Err(Errno::ENOENT);
    }
    let (parent, name) = parent_for_change(newdirfd, path)?;
    parent.inode().symlink(&name, target, new_node(S_IFLNK, 0o777)).map(|_| ())
}

pub fn readlink_at(dirfd: i32, path: &str) -> Result<String> {
    let walk = lookup_at(dirfd, path, AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)?;
    walk.inode().readlink()
}

pub fn chdir(walk: Walk) -> Result<()> {
    let m = walk.inode().metadata();
    if !m.is_dir() {
        return Err(Errno::ENOTDIR);
    }
    if !creds().may_access(&m, MAY_EXEC) {
        return Err(Errno::EACCES);
    }
    current().fs().lock().cwd = walk;
    Ok(())
}

/// chroot: `walk` becomes the caller's root (search permission, then CAP_SYS_CHROOT, as
/// Linux). The working directory stays where it is.
pub fn chroot(walk: Walk) -> Result<()> {
    let m = walk.inode().metadata();
    if !m.is_dir() {
        return Err(Errno::ENOTDIR);
    }
    let c = creds();
    if !c.may_access(&m, MAY_EXEC) {
        return Err(Errno::EACCES);
    }
    if !c.capable(Cap::SysChroot) {
        return Err(Errno::EPERM);
    }
    *current().root.lock() = Some(walk.as_root());
    Ok(())
}

/// access/faccessat with the real ids (or the effective ones with AT_EACCESS).
pub fn access_at(dirfd: i32, path: &str, mode: u32, flags: u32) -> Result<()> {
    if mode & !7 != 0 || flags & !(AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) != 0 {
        return Err(Errno::EINVAL);
    }
    let walk = lookup_at(dirfd, path, flags & (AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))?;
    let mut c = creds();
    if flags & AT_EACCESS == 0 {
        c.fsuid = c.uid;
        c.fsgid = c.gid;
        // As Linux's access_override_creds: the real uid's privilege, full if it is root.
        c.cap_effective = if c.uid == 0 { c.cap_permitted } else { 0 };
    }
    if mode != 0 && !c.may_access(&walk.inode().metadata(), mode) {
        return Err(Errno::EACCES);
    }
    Ok(())
}

/// chmod-style changes: only the owner (or root) may.
pub fn set_attr(inode: &Arc<dyn Inode>, attr: SetAttr) -> Result<()> {
    let c = creds();
    let m = inode.metadata();
    let owner = c.capable(Cap::Fowner) || c.fsuid == m.uid;
    if attr.mode.is_some() && !owner {
        return Err(Errno::EPERM);
    }
    if attr.uid.is_some_and(|u| u != m.uid) && !c.capable(Cap::Chown) {
        return Err(Errno::EPERM);
    }
    if let Some(g) = attr.gid {
        if g != m.gid && !(c.capable(Cap::Chown) || (c.fsuid == m.uid && c.in_group(g))) {
            return Err(Errno::EPERM);
        }
    }
    if (attr.atime_ns.is_some() || attr.mtime_ns.is_some()) && !owner {
        return Err(Errno::EPERM);
    }
    let mut attr = attr;
    if (attr.uid.is_some() || attr.gid.is_some()) && attr.mode.is_none() && m.file_type() == S_IFREG
    {
        // chown drops set-user-ID, and set-group-ID where group execute is set (root too).
        let mut mode = m.mode & 0o7777 & !0o4000;
        if mode & 0o010 != 0 {
            mode &= !0o2000;
        }
        if mode != m.mode & 0o7777 {
            attr.mode = Some(mode);
        }
    }
    if let Some(mode) = attr.mode {
        // An owner outside the file's group loses set-group-ID, unless CAP_FSETID.
        if !c.capable(Cap::Fsetid) && !c.in_group(m.gid) {
            attr.mode = Some(mode & !0o2000);
        }
    }
    inode.set_attr(&attr)
}

/// truncate: the caller needs write permission.
pub fn truncate_inode(inode: &Arc<dyn Inode>, len: i64) -> Result<()> {
    if len < 0 {
        return Err(Errno::EINVAL);
    }
    let m = inode.metadata();
    if m.is_dir() {
        return Err(Errno::EISDIR);
    }
    if m.file_type() != S_IFREG {
        return Err(Errno::EINVAL);
    }
    if !creds().may_access(&m, MAY_WRITE) {
        return Err(Errno::EACCES);
    }
    resize(inode, len as u64)
}

/// Sets a regular file's size; mappings lose the pages beyond the new end.
pub fn resize(inode: &Arc<dyn Inode>, len: u64) -> Result<()> {
    let m = inode.metadata();
    inode.truncate(len)?;
    if len < m.size {
        for p in super::all() {
            if let Some(vm) = p.vm.lock().clone() {
                vm.lock().drop_file_pages_beyond(m.dev, m.ino, len);
            }
        }
    }
    Ok(())
}

/// Zeroes [start, end) of a regular file (fallocate's PUNCH_HOLE): the range reads as zeros.
pub fn zero_range(inode: &Arc<dyn Inode>, start: u64, end: u64) -> Result<()> {
    const CHUNK: usize = 4096;
    let zeros = [0u8; CHUNK];
    let mut at = start;
    while at < end {
        let n = ((end - at) as usize).min(CHUNK);
        inode.write_at(at, &zeros[..n])?;
        at += n as u64;
    }
    Ok(())
}

/// The permission check the path walk makes on every directory it searches.
/// Installs the path walk's two questions to the process layer: may the caller search this
/// directory, and where is its root (chroot).
pub fn install_search_check() {
    path::set_root_lookup(|| {
        let p = crate::task::scheduler::try_current().and_then(|t| super::of_thread(&t))?;
        let root = p.root.lock().clone();
        root
    });
    path::set_search_check(|m| {
        match crate::task::scheduler::try_current().and_then(|t| super::of_thread(&t)) {
            Some(p) => p.creds.lock().may_access(m, MAY_EXEC),
            None => true,
        }
    });
}
