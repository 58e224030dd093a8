//! brk, mmap, munmap, mprotect, madvise.

use crate::error::{Errno, Result};
use crate::mm::frame::PAGE_SIZE;
use crate::mm::vm::Prot;
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
    Ok(process::current().vm.lock().set_brk(addr) as i64)
}

pub fn mmap(addr: u64, len: u64, prot: i32, flags: i32, fd: i32, offset: u64) -> Result<i64> {
    let kind = flags & MAP_TYPE;
    if kind != MAP_PRIVATE && kind != MAP_SHARED && kind != MAP_SHARED_VALIDATE {
        return Err(Errno::EINVAL);
    }
    if len == 0 || offset % PAGE_SIZE != 0 {
        return Err(Errno::EINVAL);
    }
    let prot = prot_from(prot)?;
    if flags & MAP_ANONYMOUS == 0 {
        // File mappings come with the VFS issue.
        process::current().fds.lock().get(fd)?;
        return Err(Errno::ENODEV);
    }
    if kind != MAP_PRIVATE {
        // Shared anonymous memory comes with fork (issue 3).
        return Err(Errno::EINVAL);
    }
    let fixed = flags & MAP_FIXED != 0;
    let noreplace = flags & MAP_FIXED_NOREPLACE != 0;
    let proc = process::current();
    let mut vm = proc.vm.lock();
    vm.map_anonymous(addr, len, prot, fixed, noreplace && !fixed).map(|a| a as i64)
}

pub fn munmap(addr: u64, len: u64) -> Result<i64> {
    process::current().vm.lock().unmap(addr, len).map(|_| 0)
}

pub fn mprotect(addr: u64, len: u64, prot: i32) -> Result<i64> {
    let prot = prot_from(prot)?;
    process::current().vm.lock().protect(addr, len, prot).map(|_| 0)
}

pub fn madvise(addr: u64, _len: u64, _advice: i32) -> Result<i64> {
    if addr % PAGE_SIZE != 0 {
        return Err(Errno::EINVAL);
    }
    // Advice is only a hint; MADV_DONTNEED's zeroing semantics come with the VFS issue.
    Ok(0)
}
