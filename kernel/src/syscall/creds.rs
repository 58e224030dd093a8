//! User and group ids: get*/set* in every variant, and supplementary groups. The rules for
//! who may set what live in `process::creds`.

use alloc::vec::Vec;

use crate::error::{Errno, Result};
use crate::mm::user::UserPtr;
use crate::process::{
    self,
    creds::{Credentials, IdKind},
};

const NGROUPS_MAX: usize = 65536;

fn with_creds<T>(f: impl FnOnce(&mut Credentials) -> Result<T>) -> Result<T> {
    let p = process::current();
    let mut c = p.creds.lock();
    let old_uid = c.uid;
    let r = f(&mut c);
    let new_uid = c.uid;
    drop(c);
    if new_uid != old_uid {
        // RLIMIT_NPROC counts processes by real uid.
        p.move_nproc(new_uid);
    }
    r
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
    with_creds(|c| c.set_id(IdKind::User, uid)).map(|()| 0)
}
pub fn setgid(gid: u32) -> Result<i64> {
    with_creds(|c| c.set_id(IdKind::Group, gid)).map(|()| 0)
}

pub fn setreuid(ruid: u32, euid: u32) -> Result<i64> {
    with_creds(|c| c.set_real_effective(IdKind::User, ruid, euid)).map(|()| 0)
}
pub fn setregid(rgid: u32, egid: u32) -> Result<i64> {
    with_creds(|c| c.set_real_effective(IdKind::Group, rgid, egid)).map(|()| 0)
}

pub fn setresuid(r: u32, e: u32, s: u32) -> Result<i64> {
    with_creds(|c| c.set_real_effective_saved(IdKind::User, r, e, s)).map(|()| 0)
}
pub fn setresgid(r: u32, e: u32, s: u32) -> Result<i64> {
    with_creds(|c| c.set_real_effective_saved(IdKind::Group, r, e, s)).map(|()| 0)
}

fn getres(kind: IdKind, ptrs: [u64; 3]) -> Result<i64> {
    let (r, e, s) = with_creds(|c| Ok(c.real_effective_saved(kind)))?;
    for (ptr, id) in ptrs.into_iter().zip([r, e, s]) {
        UserPtr::<u32>::new(ptr).write(&id)?;
    }
    Ok(0)
}

pub fn getresuid(r: u64, e: u64, s: u64) -> Result<i64> {
    getres(IdKind::User, [r, e, s])
}
pub fn getresgid(r: u64, e: u64, s: u64) -> Result<i64> {
    getres(IdKind::Group, [r, e, s])
}

pub fn setfsuid(uid: u32) -> Result<i64> {
    with_creds(|c| Ok(c.set_fs_id(IdKind::User, uid) as i64))
}
pub fn setfsgid(gid: u32) -> Result<i64> {
    with_creds(|c| Ok(c.set_fs_id(IdKind::Group, gid) as i64))
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
    with_creds(|c| c.set_groups(groups)).map(|()| 0)
}
