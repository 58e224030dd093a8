//! System V IPC: shmget/shmat/shmdt/shmctl, semget/semop/semtimedop/semctl,
//! msgget/msgsnd/msgrcv/msgctl. Decoding and user copies only; the objects live in `ipc::sysv`.

use alloc::vec::Vec;

use bytemuck::Pod;

use crate::error::{Errno, Result};
use crate::ipc::sysv::{
    self, msg, sem, shm, Caller, Ipc64Perm, IPC_INFO, IPC_RMID, IPC_SET, IPC_STAT,
};
use crate::mm::fallible::try_zeroes;
use crate::mm::user::{copy_from_user, copy_to_user, UserPtr};
use crate::process;

/// The calling process as the IPC layer sees it.
fn caller() -> Caller {
    let p = process::current();
    let c = p.creds.lock();
    Caller {
        pid: p.pid,
        euid: c.euid,
        egid: c.egid,
        fsgid: c.fsgid,
        groups: c.groups.clone(),
        caps: c.cap_effective,
    }
}

/// Writes `value` to `buf` and returns `ret` (EFAULT if the buffer is bad).
fn put<T: Pod>(buf: u64, value: &T, ret: i32) -> Result<i64> {
    UserPtr::<T>::new(buf).write(value)?;
    Ok(ret as i64)
}

pub fn shmget(key: i32, size: u64, flags: i32) -> Result<i64> {
    shm::shmget(&caller(), key, size, flags).map(i64::from)
}

pub fn shmat(id: i32, addr: u64, flags: i32) -> Result<i64> {
    let vm = process::current().vm();
    shm::shmat(&caller(), &vm, id, addr, flags).map(|a| a as i64)
}

pub fn shmdt(addr: u64) -> Result<i64> {
    let vm = process::current().vm();
    shm::shmdt(&caller(), &vm, addr).map(|_| 0)
}

pub fn shmctl(id: i32, cmd: i32, buf: u64) -> Result<i64> {
    let cmd = sysv::strip_ipc64(cmd);
    if cmd < 0 || id < 0 {
        return Err(Errno::EINVAL);
    }
    let c = caller();
    match cmd {
        IPC_INFO => {
            let (info, max) = shm::info();
            put(buf, &info, max)
        }
        shm::SHM_INFO => {
            let (info, max) = shm::shm_info();
            put(buf, &info, max)
        }
        IPC_STAT | shm::SHM_STAT | shm::SHM_STAT_ANY => {
            let (ds, ret) = shm::stat(&c, id, cmd)?;
            put(buf, &ds, ret)
        }
        IPC_SET => {
            let ds = UserPtr::<shm::ShmidDs>::new(buf).read()?;
            shm::set(&c, id, &ds.perm).map(|_| 0)
        }
        IPC_RMID => shm::remove(&c, id).map(|_| 0),
        shm::SHM_LOCK | shm::SHM_UNLOCK => shm::lock(&c, id, cmd == shm::SHM_LOCK).map(|_| 0),
        _ => Err(Errno::EINVAL),
    }
}

pub fn semget(key: i32, nsems: i32, flags: i32) -> Result<i64> {
    sem::semget(&caller(), key, nsems, flags).map(i64::from)
}

pub fn semtimedop(id: i32, sops: u64, nsops: u32, timeout: u64) -> Result<i64> {
    let n = sem::check_nsops(id, nsops)?;
    let mut ops: Vec<sem::SemBuf> = try_zeroes(n)?;
    copy_from_user(bytemuck::cast_slice_mut(&mut ops), sops)?;
    let deadline = super::time_args::relative_deadline(timeout)?;
    sem::semop(&caller(), id, &ops, deadline).map(|_| 0)
}

pub fn semctl(id: i32, num: i32, cmd: i32, arg: u64) -> Result<i64> {
    let cmd = sysv::strip_ipc64(cmd);
    if id < 0 {
        return Err(Errno::EINVAL);
    }
    let c = caller();
    match cmd {
        IPC_INFO | sem::SEM_INFO => {
            let (info, max) = sem::info(cmd);
            put(arg, &info, max)
        }
        IPC_STAT | sem::SEM_STAT | sem::SEM_STAT_ANY => {
            let (ds, ret) = sem::stat(&c, id, cmd)?;
            put(arg, &ds, ret)
        }
        sem::GETVAL | sem::GETPID | sem::GETNCNT | sem::GETZCNT => {
            sem::get(&c, id, num, cmd).map(i64::from)
        }
        sem::GETALL => {
            let vals = sem::get_all(&c, id)?;
            copy_to_user(arg, bytemuck::cast_slice(&vals)).map(|_| 0)
        }
        // The union's int member is the low half of the register (x86-64 is little-endian).
        sem::SETVAL => sem::set_val(&c, id, num, arg as u32 as i32).map(|_| 0),
        sem::SETALL => sem::set_all(&c, id, |n| {
            let mut vals: Vec<u16> = try_zeroes(n)?;
            copy_from_user(bytemuck::cast_slice_mut(&mut vals), arg)?;
            Ok(vals)
        })
        .map(|_| 0),
        IPC_SET => {
            let ds = UserPtr::<sem::SemidDs>::new(arg).read()?;
            sem::set(&c, id, &ds.perm).map(|_| 0)
        }
        IPC_RMID => sem::remove(&c, id).map(|_| 0),
        _ => Err(Errno::EINVAL),
    }
}

pub fn msgget(key: i32, flags: i32) -> Result<i64> {
    msg::msgget(&caller(), key, flags).map(i64::from)
}

/// `struct msgbuf` is a long type followed by the text.
pub fn msgsnd(id: i32, msgp: u64, size: u64, flags: i32) -> Result<i64> {
    let mtype = UserPtr::<i64>::new(msgp).read()?;
    let len = msg::check_send(id, size, mtype)?;
    let mut text = crate::mm::user::zeroed_buffer(len)?;
    copy_from_user(&mut text, msgp.wrapping_add(8))?;
    msg::msgsnd(&caller(), id, msg::Message { mtype, text }, flags).map(|_| 0)
}

pub fn msgrcv(id: i32, msgp: u64, size: u64, msgtyp: i64, flags: i32) -> Result<i64> {
    let m = msg::msgrcv(&caller(), id, size as i64, msgtyp, flags)?;
    UserPtr::<i64>::new(msgp).write(&m.mtype)?;
    copy_to_user(msgp.wrapping_add(8), &m.text)?;
    Ok(m.text.len() as i64)
}

pub fn msgctl(id: i32, cmd: i32, buf: u64) -> Result<i64> {
    let cmd = sysv::strip_ipc64(cmd);
    if cmd < 0 || id < 0 {
        return Err(Errno::EINVAL);
    }
    let c = caller();
    match cmd {
        IPC_INFO | msg::MSG_INFO => {
            let (info, max) = msg::info(cmd);
            put(buf, &info, max)
        }
        IPC_STAT | msg::MSG_STAT | msg::MSG_STAT_ANY => {
            let (ds, ret) = msg::stat(&c, id, cmd)?;
            put(buf, &ds, ret)
        }
        IPC_SET => {
            let ds = UserPtr::<msg::MsqidDs>::new(buf).read()?;
            msg::set(&c, id, &ds).map(|_| 0)
        }
        IPC_RMID => msg::remove(&c, id).map(|_| 0),
        _ => Err(Errno::EINVAL),
    }
}

/// Keeps the uapi layouts honest (sizes from Linux x86-64).
const _: () = {
    assert!(core::mem::size_of::<Ipc64Perm>() == 48);
    assert!(core::mem::size_of::<shm::ShmidDs>() == 112);
    assert!(core::mem::size_of::<shm::ShmInfo64>() == 72);
    assert!(core::mem::size_of::<shm::ShmInfo>() == 48);
    assert!(core::mem::size_of::<sem::SemidDs>() == 104);
    assert!(core::mem::size_of::<sem::SemInfo>() == 40);
    assert!(core::mem::size_of::<sem::SemBuf>() == 6);
    assert!(core::mem::size_of::<msg::MsqidDs>() == 120);
    assert!(core::mem::size_of::<msg::MsgInfo>() == 32);
};
