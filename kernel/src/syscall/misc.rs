//! uname, getrandom.

use bytemuck::{Pod, Zeroable};

use crate::error::{Errno, Result};
use crate::mm::user::{UserPtr, UserSlice};

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct Utsname {
    sysname: [u8; 65],
    nodename: [u8; 65],
    release: [u8; 65],
    version: [u8; 65],
    machine: [u8; 65],
    domainname: [u8; 65],
}

fn field(s: &str) -> [u8; 65] {
    let mut f = [0u8; 65];
    f[..s.len()].copy_from_slice(s.as_bytes());
    f
}

pub fn uname(buf: u64) -> Result<i64> {
    // Programs parse the release as a Linux version; we report the ABI level we follow.
    let u = Utsname {
        sysname: field("Linux"),
        nodename: field("posix-x"),
        release: field("6.1.0-posix-x"),
        version: field("#1 POSIX-X"),
        machine: field("x86_64"),
        domainname: field("(none)"),
    };
    UserPtr::<Utsname>::new(buf).write(&u).map(|_| 0)
}

const GRND_NONBLOCK: u32 = 1;
const GRND_RANDOM: u32 = 2;
const GRND_INSECURE: u32 = 4;

pub fn getrandom(buf: u64, len: u64, flags: u32) -> Result<i64> {
    if flags & !(GRND_NONBLOCK | GRND_RANDOM | GRND_INSECURE) != 0
        || flags & (GRND_RANDOM | GRND_INSECURE) == (GRND_RANDOM | GRND_INSECURE)
    {
        return Err(Errno::EINVAL);
    }
    let len = len.min(0x01ff_ffff) as usize;
    let out = UserSlice::new(buf, len);
    let mut chunk = [0u8; 256];
    let mut done = 0;
    while done < len {
        let n = (len - done).min(chunk.len());
        crate::random::fill(&mut chunk[..n]);
        if let Err(e) = out.skip(done).write(&chunk[..n]) {
            return if done == 0 { Err(e) } else { Ok(done as i64) };
        }
        done += n;
    }
    Ok(done as i64)
}

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct SysInfo {
    uptime: i64,
    loads: [u64; 3],
    totalram: u64,
    freeram: u64,
    sharedram: u64,
    bufferram: u64,
    totalswap: u64,
    freeswap: u64,
    procs: u16,
    _pad: [u16; 3],
    totalhigh: u64,
    freehigh: u64,
    mem_unit: u32,
    _pad2: [u32; 1],
}

pub fn sysinfo(info: u64) -> Result<i64> {
    let page = crate::mm::frame::PAGE_SIZE;
    let s = SysInfo {
        uptime: (crate::arch::time::monotonic_ns() / 1_000_000_000) as i64,
        loads: [0; 3],
        totalram: crate::mm::frame::total_frames() as u64 * page,
        freeram: crate::mm::frame::free_frames() as u64 * page,
        sharedram: 0,
        bufferram: 0,
        totalswap: 0,
        freeswap: 0,
        procs: crate::process::all().len() as u16,
        _pad: [0; 3],
        totalhigh: 0,
        freehigh: 0,
        mem_unit: 1,
        _pad2: [0],
    };
    UserPtr::<SysInfo>::new(info).write(&s).map(|_| 0)
}
