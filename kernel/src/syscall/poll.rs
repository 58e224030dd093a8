//! poll, ppoll, select, pselect6.

use alloc::vec::Vec;

use bytemuck::{Pod, Zeroable};

use super::time_args::{relative_deadline, Timespec, Timeval};
use crate::arch::time::monotonic_ns;
use crate::error::{Errno, Result};
use crate::event::IoEvents;
use crate::fs::poll::{self, PollEntry};
use crate::mm::user::{UserPtr, UserSlice};
use crate::process;
use crate::process::signal::{self, UNBLOCKABLE};
use crate::task;

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct PollFd {
    fd: i32,
    events: i16,
    revents: i16,
}

const FD_SETSIZE: usize = 1024;

fn deadline_from_ns(ns: u64) -> u64 {
    monotonic_ns().saturating_add(ns)
}

fn do_poll(fds: u64, nfds: u64, deadline: Option<u64>) -> Result<i64> {
    let p = process::current();
    if nfds > p.rlimits.lock().0[crate::process::rlimit::RLIMIT_NOFILE].cur {
        return Err(Errno::EINVAL);
    }
    let mut raw = Vec::with_capacity(nfds as usize);
    for i in 0..nfds as usize {
        raw.push(UserPtr::<PollFd>::new(fds).add(i).read()?);
    }
    let mut entries: Vec<PollEntry> = {
        let table_ref = p.files();
        let table = table_ref.lock();
        raw.iter()
            .map(|pf| PollEntry {
                file: (pf.fd >= 0).then(|| table.get(pf.fd).ok()),
                events: IoEvents::from_bits_truncate(pf.events as u16 as u32),
                revents: IoEvents::empty(),
            })
            .collect()
    };
    let n = poll::poll(&mut entries, deadline)?;
    for (i, (pf, e)) in raw.iter_mut().zip(entries.iter()).enumerate() {
        pf.revents = e.revents.bits() as u16 as i16;
        UserPtr::<PollFd>::new(fds).add(i).write(pf)?;
    }
    Ok(n as i64)
}

pub fn poll(fds: u64, nfds: u64, timeout_ms: i32) -> Result<i64> {
    let deadline =
        if timeout_ms < 0 { None } else { Some(deadline_from_ns(timeout_ms as u64 * 1_000_000)) };
    do_poll(fds, nfds, deadline)
}

/// Sets the blocked mask for the duration of the call; the signal delivery that ends it
/// restores the old one (as sigsuspend does).
fn with_sigmask(sigmask: u64, sigsetsize: u64) -> Result<()> {
    if sigmask == 0 {
        return Ok(());
    }
    if sigsetsize != 8 {
        return Err(Errno::EINVAL);
    }
    let mask = UserPtr::<u64>::new(sigmask).read()?;
    let t = task::current();
    let old = t.sig_blocked.swap(mask & !UNBLOCKABLE, core::sync::atomic::Ordering::Relaxed);
    signal::set_restore_mask(old);
    Ok(())
}

/// Writes the time left back (ppoll, pselect6 and select update their timeout).
fn write_left(ts: u64, deadline: Option<u64>, as_timeval: bool) {
    let (Some(d), true) = (deadline, ts != 0) else { return };
    let left = d.saturating_sub(monotonic_ns());
    let _ = if as_timeval {
        UserPtr::<Timeval>::new(ts).write(&Timeval::from_ns(left as i64))
    } else {
        UserPtr::<Timespec>::new(ts).write(&Timespec::from_ns(left as i64))
    };
}

pub fn ppoll(fds: u64, nfds: u64, tsp: u64, sigmask: u64, sigsetsize: u64) -> Result<i64> {
    let deadline = relative_deadline(tsp)?;
    with_sigmask(sigmask, sigsetsize)?;
    let r = do_poll(fds, nfds, deadline);
    write_left(tsp, deadline, false);
    r
}

fn read_set(addr: u64, nfds: usize) -> Result<Vec<u64>> {
    let words = nfds.div_ceil(64);
    let mut v = alloc::vec![0u64; words];
    if addr != 0 && words > 0 {
        UserSlice::new(addr, words * 8).read(bytemuck::cast_slice_mut(&mut v))?;
    }
    Ok(v)
}

fn bit(set: &[u64], fd: usize) -> bool {
    set.get(fd / 64).is_some_and(|w| w & (1 << (fd % 64)) != 0)
}

fn do_select(nfds: i32, rd: u64, wr: u64, ex: u64, deadline: Option<u64>) -> Result<i64> {
    if nfds < 0 || nfds as usize > FD_SETSIZE * 64 {
        return Err(Errno::EINVAL);
    }
    let nfds = nfds as usize;
    let (r, w, x) = (read_set(rd, nfds)?, read_set(wr, nfds)?, read_set(ex, nfds)?);
    let p = process::current();
    let mut fds = Vec::new();
    let mut files = Vec::new();
    {
        let table_ref = p.files();
        let table = table_ref.lock();
        for fd in 0..nfds {
            let (br, bw, bx) = (bit(&r, fd), bit(&w, fd), bit(&x, fd));
            if br || bw || bx {
                let f = table.get(fd as i32)?;
                fds.push(fd);
                files.push((f, br, bw, bx));
            }
        }
    }
    let mut entries = poll::select_entries(files);
    poll::poll(&mut entries, deadline)?;
    let words = nfds.div_ceil(64);
    let (mut ro, mut wo, mut xo) =
        (alloc::vec![0u64; words], alloc::vec![0u64; words], alloc::vec![0u64; words]);
    let mut count = 0;
    for (fd, e) in fds.iter().zip(entries.iter()) {
        let ev = e.revents;
        let set = |v: &mut Vec<u64>| v[fd / 64] |= 1 << (fd % 64);
        if bit(&r, *fd)
            && ev.intersects(
                IoEvents::IN | IoEvents::RDNORM | IoEvents::RDBAND | IoEvents::HUP | IoEvents::ERR,
            )
        {
            set(&mut ro);
            count += 1;
        }
        if bit(&w, *fd)
            && ev.intersects(IoEvents::OUT | IoEvents::WRNORM | IoEvents::WRBAND | IoEvents::ERR)
        {
            set(&mut wo);
            count += 1;
        }
        if bit(&x, *fd) && ev.intersects(IoEvents::PRI) {
            set(&mut xo);
            count += 1;
        }
    }
    for (addr, v) in [(rd, &ro), (wr, &wo), (ex, &xo)] {
        if addr != 0 && words > 0 {
            // Only the bytes covering nfds are written back, as Linux does.
            let bytes = nfds.div_ceil(8);
            UserSlice::new(addr, bytes).write(&bytemuck::cast_slice(v)[..bytes])?;
        }
    }
    Ok(count)
}

pub fn select(nfds: i32, rd: u64, wr: u64, ex: u64, tvp: u64) -> Result<i64> {
    let deadline = if tvp == 0 {
        None
    } else {
        let tv = UserPtr::<Timeval>::new(tvp).read()?;
        if tv.sec < 0 || tv.usec < 0 {
            return Err(Errno::EINVAL);
        }
        let ns = (tv.sec as u64)
            .saturating_mul(1_000_000_000)
            .saturating_add((tv.usec as u64 % 1_000_000_000) * 1000);
        Some(deadline_from_ns(ns))
    };
    let r = do_select(nfds, rd, wr, ex, deadline);
    write_left(tvp, deadline, true);
    r
}

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct SigmaskArg {
    ss: u64,
    ss_len: u64,
}

pub fn pselect6(nfds: i32, rd: u64, wr: u64, ex: u64, tsp: u64, sig: u64) -> Result<i64> {
    let deadline = relative_deadline(tsp)?;
    if sig != 0 {
        let arg = UserPtr::<SigmaskArg>::new(sig).read()?;
        with_sigmask(arg.ss, arg.ss_len)?;
    }
    let r = do_select(nfds, rd, wr, ex, deadline);
    write_left(tsp, deadline, false);
    r
}
