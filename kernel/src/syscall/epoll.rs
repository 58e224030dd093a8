//! epoll_create, epoll_create1, epoll_ctl, epoll_wait, epoll_pwait, epoll_pwait2.

use alloc::sync::Arc;

use crate::arch::time::monotonic_ns;
use crate::error::{Errno, Result};
use crate::fs::epoll::{EpollFile, EPOLLET, EPOLLEXCLUSIVE, EPOLLWAKEUP};
use crate::fs::file::{OpenFile, O_CLOEXEC, O_RDWR};
use crate::mm::user::{UserPtr, UserSlice};
use crate::process::{self, fileops, signal};

const EPOLL_CTL_ADD: i32 = 1;
const EPOLL_CTL_DEL: i32 = 2;
const EPOLL_CTL_MOD: i32 = 3;
/// Linux's EP_MAX_EVENTS.
const MAX_EVENTS: i32 = i32::MAX / 12;

pub fn epoll_create1(flags: u32) -> Result<i64> {
    if flags & !O_CLOEXEC != 0 {
        return Err(Errno::EINVAL);
    }
    let file = OpenFile::new(EpollFile::new(), O_RDWR);
    fileops::install(file, flags & O_CLOEXEC != 0).map(|fd| fd as i64)
}

pub fn epoll_create(size: i32) -> Result<i64> {
    if size <= 0 {
        return Err(Errno::EINVAL);
    }
    epoll_create1(0)
}

/// `struct epoll_event` is packed on x86-64: 4 bytes of events, 8 of data.
fn read_event(addr: u64) -> Result<(u32, u64)> {
    let mut raw = [0u8; 12];
    UserSlice::new(addr, 12).read(&mut raw)?;
    let events = u32::from_ne_bytes([raw[0], raw[1], raw[2], raw[3]]);
    let mut data = [0u8; 8];
    data.copy_from_slice(&raw[4..]);
    Ok((events, u64::from_ne_bytes(data)))
}

pub fn epoll_ctl(epfd: i32, op: i32, fd: i32, event: u64) -> Result<i64> {
    let p = process::current();
    let (ep_file, target) = {
        let fds_ref = p.files();
        let fds = fds_ref.lock();
        (fds.get(epfd)?, fds.get(fd)?)
    };
    // O_PATH descriptors are EBADF to epoll_ctl, on either side (Linux's fdget).
    if ep_file.is_path_only() || target.is_path_only() {
        return Err(Errno::EBADF);
    }
    let ep = ep_file.file().epoll().cloned().ok_or(Errno::EINVAL)?;
    if epfd == fd || Arc::ptr_eq(&ep_file, &target) {
        return Err(Errno::EINVAL);
    }
    if !target.file().is_pollable() {
        return Err(Errno::EPERM);
    }
    let ev = if op == EPOLL_CTL_DEL { None } else { Some(read_event(event)?) };
    if let Some((events, _)) = ev {
        // Linux's EPOLLEXCLUSIVE_OK_BITS: IN, OUT, ERR, HUP, WAKEUP, ET (and EXCLUSIVE).
        const EXCLUSIVE_OK: u32 = 0x001 | 0x004 | 0x008 | 0x010 | EPOLLWAKEUP | EPOLLET;
        if events & EPOLLEXCLUSIVE != 0
            && (op == EPOLL_CTL_MOD
                || events & !(EXCLUSIVE_OK | EPOLLEXCLUSIVE) != 0
                || target.file().epoll().is_some())
        {
            return Err(Errno::EINVAL);
        }
    }
    match (op, ev) {
        (EPOLL_CTL_ADD, Some((events, data))) => {
            if let Some(inner) = target.file().epoll() {
                if ep.would_loop(inner) {
                    return Err(Errno::ELOOP);
                }
            }
            ep.add(fd, &target, events, data)?;
        }
        (EPOLL_CTL_MOD, Some((events, data))) => ep.modify(fd, &target, events, data)?,
        (EPOLL_CTL_DEL, _) => ep.delete(fd, &target)?,
        _ => return Err(Errno::EINVAL),
    }
    Ok(0)
}

pub fn epoll_pwait(
    epfd: i32,
    events: u64,
    maxevents: i32,
    timeout_ms: i32,
    sigmask: u64,
    sigsetsize: u64,
) -> Result<i64> {
    let deadline =
        if timeout_ms < 0 { None } else { Some(monotonic_ns() + timeout_ms as u64 * 1_000_000) };
    wait(epfd, events, maxevents, deadline, sigmask, sigsetsize)
}

/// epoll_pwait2: epoll_pwait with a timespec timeout (NULL: wait forever).
pub fn epoll_pwait2(
    epfd: i32,
    events: u64,
    maxevents: i32,
    timeout: u64,
    sigmask: u64,
    sigsetsize: u64,
) -> Result<i64> {
    let deadline = super::time_args::relative_deadline(timeout)?;
    wait(epfd, events, maxevents, deadline, sigmask, sigsetsize)
}

fn wait(
    epfd: i32,
    events: u64,
    maxevents: i32,
    deadline: Option<u64>,
    sigmask: u64,
    sigsetsize: u64,
) -> Result<i64> {
    if maxevents <= 0 || maxevents > MAX_EVENTS {
        return Err(Errno::EINVAL);
    }
    UserSlice::new(events, maxevents as usize * 12).check()?;
    let f = super::io::file(epfd)?;
    let ep = f.file().epoll().cloned().ok_or(Errno::EINVAL)?;
    if sigmask != 0 {
        if sigsetsize != 8 {
            return Err(Errno::EINVAL);
        }
        let mask = UserPtr::<u64>::new(sigmask).read()?;
        let t = crate::task::current();
        let old = t.sig_blocked.swap(
            mask & !crate::process::signal::UNBLOCKABLE,
            core::sync::atomic::Ordering::Relaxed,
        );
        signal::set_restore_mask(old);
    }
    let got = ep.wait(maxevents as usize, deadline)?;
    for (i, (ev, data)) in got.iter().enumerate() {
        let mut raw = [0u8; 12];
        raw[..4].copy_from_slice(&ev.bits().to_ne_bytes());
        raw[4..].copy_from_slice(&data.to_ne_bytes());
        UserSlice::new(events + i as u64 * 12, 12).write(&raw)?;
    }
    Ok(got.len() as i64)
}

pub fn epoll_wait(epfd: i32, events: u64, maxevents: i32, timeout_ms: i32) -> Result<i64> {
    epoll_pwait(epfd, events, maxevents, timeout_ms, 0, 8)
}
