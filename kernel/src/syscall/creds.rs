//! User and group ids: get*/set* in every variant, and supplementary groups.

use alloc::vec::Vec;

use crate::error::{Errno, Result};
use crate::mm::user::UserPtr;
use crate::process::{self, creds::Credentials};

const NGROUPS_MAX: usize = 65536;
const KEEP: u32 = u32::MAX;

fn with_creds<T>(f: impl FnOnce(&mut Credentials) -> Result<T>) -> Result<T> {
    let p = process::current();
    let mut c = p.creds.lock();
    f(&mut c)
}

pub fn getuid() -> Result<i64> {
    with_creds(|c| Ok(c.uid as i64))
}
pub fn geteuid() -> Result<i64> {
    with_creds(|c| Ok(c.euid as i64))
}
pub fn getgid() -> Result<i64> {
    with_creds(|c| Ok(c.gid as i64))
}
pub fn getegid() -> Result<i64> {
    with_creds(|c| Ok(c.egid as i64))
}

pub fn setuid(uid: u32) -> Result<i64> {
    if uid == KEEP {
        return Err(Errno::EINVAL);
    }
    with_creds(|c| {
        if c.euid == 0 {
            c.uid = uid;
            c.suid = uid;
        } else if uid != c.uid && uid != c.suid {
            return Err(Errno::EPERM);
        }
        c.euid = uid;
        c.fsuid = uid;
        Ok(0)
    })
}

pub fn setgid(gid: u32) -> Result<i64> {
    if gid == KEEP {
        return Err(Errno::EINVAL);
    }
    with_creds(|c| {
        if c.euid == 0 {
            c.gid = gid;
            c.sgid = gid;
        } else if gid != c.gid && gid != c.sgid {
            return Err(Errno::EPERM);
        }
        c.egid = gid;
        c.fsgid = gid;
        Ok(0)
    })
}

pub fn setreuid(ruid: u32, euid: u32) -> Result<i64> {
    with_creds(|c| {
        let root = c.euid == 0;
        if ruid != KEEP && !root && ruid != c.uid && ruid != c.euid {
            return Err(Errno::EPERM);
        }
        if euid != KEEP && !root && euid != c.uid && euid != c.euid && euid != c.suid {
            return Err(Errno::EPERM);
        }
        let old_ruid = c.uid;
        if ruid != KEEP {
            c.uid = ruid;
        }
        if euid != KEEP {
            c.euid = euid;
        }
        if ruid != KEEP || (euid != KEEP && euid != old_ruid) {
            c.suid = c.euid;
        }
        c.fsuid = c.euid;
        Ok(0)
    })
}

pub fn setregid(rgid: u32, egid: u32) -> Result<i64> {
    with_creds(|c| {
        let root = c.euid == 0;
        if rgid != KEEP && !root && rgid != c.gid && rgid != c.egid {
            return Err(Errno::EPERM);
        }
        if egid != KEEP && !root && egid != c.gid && egid != c.egid && egid != c.sgid {
            return Err(Errno::EPERM);
        }
        let old_rgid = c.gid;
        if rgid != KEEP {
            c.gid = rgid;
        }
        if egid != KEEP {
            c.egid = egid;
        }
        if rgid != KEEP || (egid != KEEP && egid != old_rgid) {
            c.sgid = c.egid;
        }
        c.fsgid = c.egid;
        Ok(0)
    })
}

pub fn setresuid(r: u32, e: u32, s: u32) -> Result<i64> {
    with_creds(|c| {
        if c.euid != 0 {
            for id in [r, e, s] {
                if id != KEEP && id != c.uid && id != c.euid && id != c.suid {
                    return Err(Errno::EPERM);
                }
            }
        }
        if r != KEEP {
            c.uid = r;
        }
        if e != KEEP {
            c.euid = e;
        }
        if s != KEEP {
            c.suid = s;
        }
        c.fsuid = c.euid;
        Ok(0)
    })
}

pub fn setresgid(r: u32, e: u32, s: u32) -> Result<i64> {
    with_creds(|c| {
        if c.euid != 0 {
            for id in [r, e, s] {
                if id != KEEP && id != c.gid && id != c.egid && id != c.sgid {
                    return Err(Errno::EPERM);
                }
            }
        }
        if r != KEEP {
            c.gid = r;
        }
        if e != KEEP {
            c.egid = e;
        }
        if s != KEEP {
            c.sgid = s;
        }
        c.fsgid = c.egid;
        Ok(0)
    })
}

fn write3(a: u64, b: u64, c: u64, vals: (u32, u32, u32)) -> Result<i64> {
    UserPtr::<u32>::new(a).write(&vals.0)?;
    UserPtr::<u32>::new(b).write(&vals.1)?;
    UserPtr::<u32>::new(c).write(&vals.2)?;
    Ok(0)
}

pub fn getresuid(r: u64, e: u64, s: u64) -> Result<i64> {
    let v = with_creds(|c| Ok((c.uid, c.euid, c.suid)))?;
    write3(r, e, s, v)
}

pub fn getresgid(r: u64, e: u64, s: u64) -> Result<i64> {
    let v = with_creds(|c| Ok((c.gid, c.egid, c.sgid)))?;
    write3(r, e, s, v)
}

pub fn setfsuid(uid: u32) -> Result<i64> {
    with_creds(|c| {
        let old = c.fsuid;
        if uid != KEEP && (c.euid == 0 || [c.uid, c.euid, c.suid, c.fsuid].contains(&uid)) {
            c.fsuid = uid;
        }
        Ok(old as i64)
    })
}

pub fn setfsgid(gid: u32) -> Result<i64> {
    with_creds(|c| {
        let old = c.fsgid;
        if gid != KEEP && (c.euid == 0 || [c.gid, c.egid, c.sgid, c.fsgid].contains(&gid)) {
            c.fsgid = gid;
        }
        Ok(old as i64)
    })
}

pub fn getgroups(size: i32, list: u64) -> Result<i64> {
    let groups = with_creds(|c| Ok(c.groups.clone()))?;
    if size < 0 {
        return Err(Errno::EINVAL);
    }
    if size == 0 {
        return Ok(groups.len() as i64);
    }
    if (size as usize) < groups.len() {
        return Err(Errno::EINVAL);
    }
    for (i, g) in groups.iter().enumerate() {
        UserPtr::<u32>::new(list).add(i).write(g)?;
    }
    Ok(groups.len() as i64)
}

pub fn setgroups(size: i64, list: u64) -> Result<i64> {
    if !(0..=NGROUPS_MAX as i64).contains(&size) {
        return Err(Errno::EINVAL);
    }
    let mut groups = Vec::with_capacity(size as usize);
    for i in 0..size as usize {
        groups.push(UserPtr::<u32>::new(list).add(i).read()?);
    }
    with_creds(|c| {
        if c.euid != 0 {
            return Err(Errno::EPERM);
        }
        groups.sort_unstable();
        groups.dedup();
        c.groups = groups;
        Ok(0)
    })
}
