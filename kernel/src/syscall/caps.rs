//! capget/capset: the capability sets of a process, in the header-and-array form of
//! `<linux/capability.h>` (version 1: one 32-bit word per set; versions 2 and 3: two). The
//! rules are `process::creds`'.

use bytemuck::{Pod, Zeroable};

use crate::error::{Errno, Result};
use crate::mm::user::{UserPtr, UserSlice};
use crate::process;

const VERSION_1: u32 = 0x1998_0330;
const VERSION_2: u32 = 0x2007_1026;
const VERSION_3: u32 = 0x2008_0522;

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct Header {
    version: u32,
    pid: i32,
}

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable, Default)]
struct Data {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

/// The header and how many `Data` words its version has. An unknown version is EINVAL, and
/// the version the kernel prefers is written back (how programs probe it).
fn read_header(header: u64) -> Result<(Header, usize)> {
    let ptr = UserPtr::<Header>::new(header);
    let mut h = ptr.read()?;
    match h.version {
        VERSION_1 => Ok((h, 1)),
        VERSION_2 | VERSION_3 => Ok((h, 2)),
        _ => {
            h.version = VERSION_3;
            ptr.write(&h)?;
            Err(Errno::EINVAL)
        }
    }
}

pub fn capget(header: u64, data: u64) -> Result<i64> {
    let (h, words) = match read_header(header) {
        Ok(v) => v,
        // A probe: no data pointer, any version.
        Err(Errno::EINVAL) if data == 0 => return Ok(0),
        Err(e) => return Err(e),
    };
    if data == 0 {
        return Ok(0);
    }
    if h.pid < 0 {
        return Err(Errno::EINVAL);
    }
    let me = process::current();
    let target = match h.pid as u32 {
        0 => me,
        pid if pid == me.pid => me,
        pid => process::find(pid).ok_or(Errno::ESRCH)?,
    };
    let c = target.creds.lock().clone();
    let mut out = [Data::default(); 2];
    for (i, d) in out.iter_mut().enumerate() {
        let shift = 32 * i;
        *d = Data {
            effective: (c.cap_effective >> shift) as u32,
            permitted: (c.cap_permitted >> shift) as u32,
            inheritable: (c.cap_inheritable >> shift) as u32,
        };
    }
    UserSlice::new(data, words * 12).write(bytemuck::cast_slice(&out[..words]))?;
    Ok(0)
}

pub fn capset(header: u64, data: u64) -> Result<i64> {
    let (h, words) = read_header(header)?;
    let me = process::current();
    // Only the caller's own sets may change.
    if h.pid != 0 && h.pid as u32 != me.pid {
        return Err(Errno::EPERM);
    }
    let mut input = [Data::default(); 2];
    UserSlice::new(data, words * 12).read(bytemuck::cast_slice_mut(&mut input[..words]))?;
    let join = |f: fn(&Data) -> u32| f(&input[0]) as u64 | (f(&input[1]) as u64) << 32;
    let (effective, permitted, inheritable) =
        (join(|d| d.effective), join(|d| d.permitted), join(|d| d.inheritable));
    me.creds.lock().set_capabilities(effective, permitted, inheritable)?;
    Ok(0)
}
