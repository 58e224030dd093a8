//! brk, mmap, munmap, mprotect, mremap, msync, madvise, mlock/munlock/mlock2/mlockall/
//! munlockall.

use alloc::sync::Arc;

use crate::error::{Errno, Result};
use crate::fs::file::Mapping;
use crate::mm::frame::PAGE_SIZE;
use crate::mm::shared::SharedMemory;
use crate::mm::vm::{page_ceil, Backing, Placement, Prot};
use crate::process;

const PROT_READ: i32 = 1;
const PROT_WRITE: i32 = 2;
const PROT_EXEC: i32 = 4;
const PROT_GROWSDOWN: i32 = 0x0100_0000;
const PROT_GROWSUP: i32 = 0x0200_0000;

const MAP_SHARED: i32 = 0x01;
const MAP_PRIVATE: i32 = 0x02;
const MAP_SHARED_VALIDATE: i32 = 0x03;
const MAP_TYPE: i32 = 0x0f;
const MAP_FIXED: i32 = 0x10;
const MAP_ANONYMOUS: i32 = 0x20;
const MAP_FIXED_NOREPLACE: i32 = 0x10_0000;
const MAP_LOCKED: i32 = 0x2000;

fn prot_from(prot: i32) -> Result<Prot> {
    if prot & !(PROT_READ | PROT_WRITE | PROT_EXEC | PROT_GROWSDOWN | PROT_GROWSUP) != 0 {
        return Err(Errno::EINVAL);
    }
    let mut p = Prot::empty();
    if prot & PROT_READ != 0 {
        p |= Prot::READ;
    }
    if prot & PROT_WRITE != 0 {
        p |= Prot::WRITE;
    }
    if prot & PROT_EXEC != 0 {
        p |= Prot::EXEC;
    }
    Ok(p)
}

pub fn brk(addr: u64) -> Result<i64> {
    let proc = process::current();
    let vm = proc.vm();
    let mut vm = vm.lock();
    vm.memlock_limit = process::memlock_limit(&proc);
    Ok(vm.set_brk(addr) as i64)
}

pub fn mmap(addr: u64, len: u64, prot: i32, flags: i32, fd: i32, offset: u64) -> Result<i64> {
    let kind = flags & MAP_TYPE;
    if kind != MAP_PRIVATE && kind != MAP_SHARED && kind != MAP_SHARED_VALIDATE {
        return Err(Errno::EINVAL);
    }
    if len == 0 || offset % PAGE_SIZE != 0 {
        return Err(Errno::EINVAL);
    }
    let pages = page_ceil(len).ok_or(Errno::ENOMEM)? / PAGE_SIZE;
    let prot = prot_from(prot)?;
    let shared = kind != MAP_PRIVATE;
    let placement = if flags & MAP_FIXED != 0 {
        Placement::Fixed(addr)
    } else if flags & MAP_FIXED_NOREPLACE != 0 {
        Placement::FixedNoReplace(addr)
    } else {
        Placement::Hint(addr)
    };
    let proc = process::current();
    let mut file_info = None;
    let mut max_prot = None;
    let backing = if flags & MAP_ANONYMOUS != 0 {
        if shared {
            Backing::Shared {
                source: Arc::new(SharedMemory::for_anonymous_mapping(pages)?),
                pgoff: 0,
            }
        } else {
            Backing::Anonymous
        }
    } else {
        let f = proc.files().lock().get(fd)?;
        let m = f.file().metadata();
        if f.is_path_only() {
            return Err(Errno::EBADF);
        }
        if !f.readable() {
            return Err(Errno::EACCES);
        }
        if shared && prot.contains(Prot::WRITE) && !f.writable() {
            return Err(Errno::EACCES);
        }
        let pgoff = offset / PAGE_SIZE;
        // Each kind of file decides (ENODEV where it cannot be mapped).
        match f.file().mmap(shared, prot.contains(Prot::WRITE), f.writable())? {
            Mapping::Anonymous if shared => Backing::Shared {
                source: Arc::new(SharedMemory::for_anonymous_mapping(pages)?),
                pgoff: 0,
            },
            Mapping::Anonymous => Backing::Anonymous,
            Mapping::Pages { source, read_only } => {
                if read_only {
                    max_prot = Some(Prot::READ | Prot::EXEC);
                }
                let path = f.path().map(|w| w.path()).unwrap_or_default();
                file_info = Some((m.dev, m.ino, path));
                let source = Arc::new(source);
                if shared {
                    Backing::Shared { source, pgoff }
                } else {
                    Backing::Private { source, pgoff }
                }
            }
        }
    };
    let vm = proc.vm();
    let mut vm = vm.lock();
    let locked = flags & MAP_LOCKED != 0 || vm.lock_future;
    vm.memlock_limit = process::memlock_limit(&proc);
    if locked && !vm.memlock_ok(pages) {
        return Err(Errno::EAGAIN);
    }
    let start = vm.map(placement, len, prot, backing)?;
    if let Some(info) = file_info {
        vm.set_vma_file(start, info);
    }
    if let Some(max) = max_prot {
        vm.set_vma_max_prot(start, max);
    }
    if locked {
        vm.lock_new_mapping(start, len)?;
    }
    Ok(start as i64)
}

pub fn munmap(addr: u64, len: u64) -> Result<i64> {
    process::current().vm().lock().unmap(addr, len).map(|_| 0)
}

pub fn mprotect(addr: u64, len: u64, prot: i32) -> Result<i64> {
    let prot = prot_from(prot)?;
    process::current().vm().lock().protect(addr, len, prot).map(|_| 0)
}

const MREMAP_MAYMOVE: u32 = 1;
const MREMAP_FIXED: u32 = 2;

pub fn mremap(old: u64, old_len: u64, new_len: u64, flags: u32, new_addr: u64) -> Result<i64> {
    if flags & !(MREMAP_MAYMOVE | MREMAP_FIXED | 4) != 0
        || (flags & MREMAP_FIXED != 0 && flags & MREMAP_MAYMOVE == 0)
    {
        return Err(Errno::EINVAL);
    }
    let fixed = (flags & MREMAP_FIXED != 0).then_some(new_addr);
    process::current()
        .vm()
        .lock()
        .remap(old, old_len, new_len, flags & MREMAP_MAYMOVE != 0, fixed)
        .map(|a| a as i64)
}

const MS_ASYNC: i32 = 1;
const MS_INVALIDATE: i32 = 2;
const MS_SYNC: i32 = 4;

pub fn msync(addr: u64, len: u64, flags: i32) -> Result<i64> {
    if addr % PAGE_SIZE != 0
        || flags & !(MS_ASYNC | MS_INVALIDATE | MS_SYNC) != 0
        || flags & (MS_ASYNC | MS_SYNC) == (MS_ASYNC | MS_SYNC)
    {
        return Err(Errno::EINVAL);
    }
    let proc = process::current();
    let vm = proc.vm();
    let vm = vm.lock();
    let end = page_ceil(addr.saturating_add(len)).ok_or(Errno::ENOMEM)?;
    // tmpfs pages are the file: nothing to write back, but the range must be mapped.
    let mut cursor = addr;
    while cursor < end {
        let v = vm.find(cursor).ok_or(Errno::ENOMEM)?;
        cursor = v.end;
    }
    Ok(0)
}

const MADV_DONTNEED: i32 = 4;
const MADV_FREE: i32 = 8;
const MADV_REMOVE: i32 = 9;

pub fn madvise(addr: u64, len: u64, advice: i32) -> Result<i64> {
    if addr % PAGE_SIZE != 0 {
        return Err(Errno::EINVAL);
    }
    match advice {
        MADV_DONTNEED | MADV_FREE => process::current().vm().lock().discard(addr, len).map(|_| 0),
        MADV_REMOVE => Err(Errno::EOPNOTSUPP),
        0..=3 | 10..=25 | 100..=101 => Ok(0),
        _ => Err(Errno::EINVAL),
    }
}

const MLOCK_ONFAULT: u32 = 1;
const MCL_CURRENT: i32 = 1;
const MCL_FUTURE: i32 = 2;
const MCL_ONFAULT: i32 = 4;

/// mlock's range: the pages `[addr, addr+len)` touch; EINVAL if it wraps.
fn lock_range(addr: u64, len: u64) -> Result<(u64, u64)> {
    let start = addr & !(PAGE_SIZE - 1);
    let end = addr.checked_add(len).and_then(page_ceil).ok_or(Errno::EINVAL)?;
    Ok((start, end))
}

/// Linux's can_do_mlock: a zero RLIMIT_MEMLOCK forbids locking (EPERM) except to root.
fn may_lock(proc: &process::Process) -> Result<()> {
    let zero = proc.rlimits.lock().0[process::rlimit::RLIMIT_MEMLOCK].cur == 0;
    if zero && process::memlock_limit(proc).is_some() {
        return Err(Errno::EPERM);
    }
    Ok(())
}

fn mlock_common(addr: u64, len: u64, lock: bool, on_fault: bool) -> Result<i64> {
    let (start, end) = lock_range(addr, len)?;
    let proc = process::current();
    if lock {
        may_lock(&proc)?;
    }
    if start == end {
        return Ok(0);
    }
    let vm = proc.vm();
    let mut vm = vm.lock();
    vm.memlock_limit = process::memlock_limit(&proc);
    vm.mlock(start, end, lock, on_fault).map(|_| 0)
}

pub fn mlock(addr: u64, len: u64) -> Result<i64> {
    mlock_common(addr, len, true, false)
}

pub fn mlock2(addr: u64, len: u64, flags: u32) -> Result<i64> {
    if flags & !MLOCK_ONFAULT != 0 {
        return Err(Errno::EINVAL);
    }
    mlock_common(addr, len, true, flags & MLOCK_ONFAULT != 0)
}

pub fn munlock(addr: u64, len: u64) -> Result<i64> {
    mlock_common(addr, len, false, false)
}

pub fn mlockall(flags: i32) -> Result<i64> {
    if flags == 0 || flags & !(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT) != 0 || flags == MCL_ONFAULT
    {
        return Err(Errno::EINVAL);
    }
    let proc = process::current();
    may_lock(&proc)?;
    let vm = proc.vm();
    let mut vm = vm.lock();
    vm.memlock_limit = process::memlock_limit(&proc);
    vm.mlock_all(flags & MCL_CURRENT != 0, flags & MCL_FUTURE != 0, flags & MCL_ONFAULT != 0)
        .map(|_| 0)
}

pub fn munlockall() -> Result<i64> {
    process::current().vm().lock().munlock_all();
    Ok(0)
}
