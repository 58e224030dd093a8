//! ptrace(2): decodes the request and its arguments, calls `process::ptrace`, writes results.

use crate::error::{Errno, Result};
use crate::mm::user::UserPtr;
use crate::process::ptrace::{self as pt, Mode, USER_REGS_SIZE};
use crate::process::signal::SigInfo;

const PTRACE_TRACEME: i64 = 0;
const PTRACE_PEEKTEXT: i64 = 1;
const PTRACE_PEEKDATA: i64 = 2;
const PTRACE_PEEKUSER: i64 = 3;
const PTRACE_POKETEXT: i64 = 4;
const PTRACE_POKEDATA: i64 = 5;
const PTRACE_POKEUSER: i64 = 6;
const PTRACE_CONT: i64 = 7;
const PTRACE_KILL: i64 = 8;
const PTRACE_SINGLESTEP: i64 = 9;
const PTRACE_GETREGS: i64 = 12;
const PTRACE_SETREGS: i64 = 13;
const PTRACE_GETFPREGS: i64 = 14;
const PTRACE_SETFPREGS: i64 = 15;
const PTRACE_ATTACH: i64 = 16;
const PTRACE_DETACH: i64 = 17;
const PTRACE_SYSCALL: i64 = 24;
const PTRACE_SETOPTIONS: i64 = 0x4200;
const PTRACE_GETEVENTMSG: i64 = 0x4201;
const PTRACE_GETSIGINFO: i64 = 0x4202;
const PTRACE_SETSIGINFO: i64 = 0x4203;
const PTRACE_GETREGSET: i64 = 0x4204;
const PTRACE_SETREGSET: i64 = 0x4205;
const PTRACE_SEIZE: i64 = 0x4206;
const PTRACE_INTERRUPT: i64 = 0x4207;
const PTRACE_LISTEN: i64 = 0x4208;
const PTRACE_GETSIGMASK: i64 = 0x420a;
const PTRACE_SETSIGMASK: i64 = 0x420b;

/// Register sets of GETREGSET/SETREGSET (ELF note types).
const NT_PRSTATUS: u64 = 1;
const NT_PRFPREG: u64 = 2;

/// `struct iovec`.
#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct IoVec {
    base: u64,
    len: u64,
}

pub fn ptrace(request: i64, pid: i32, addr: u64, data: u64) -> Result<i64> {
    if request == PTRACE_TRACEME {
        return pt::traceme().map(|_| 0);
    }
    if pid <= 0 {
        return Err(Errno::ESRCH);
    }
    let tid = pid as u32;
    let sig = || u32::try_from(data).map_err(|_| Errno::EIO);
    match request {
        PTRACE_ATTACH => pt::attach(tid, false, 0),
        PTRACE_SEIZE => {
            // addr must be 0; the flags word is data (only the options are defined).
            if addr != 0 {
                return Err(Errno::EIO);
            }
            pt::attach(tid, true, u32::try_from(data).map_err(|_| Errno::EINVAL)?)
        }
        PTRACE_INTERRUPT => pt::interrupt(tid),
        PTRACE_KILL => pt::kill(tid),
        PTRACE_CONT => pt::resume(tid, Mode::Cont, sig()?),
        PTRACE_SYSCALL => pt::resume(tid, Mode::Syscall, sig()?),
        PTRACE_SINGLESTEP => pt::resume(tid, Mode::Step, sig()?),
        PTRACE_LISTEN => pt::resume(tid, Mode::Listen, 0),
        PTRACE_DETACH => pt::resume(tid, Mode::Detach, sig()?),
        PTRACE_SETOPTIONS => pt::set_options(tid, u32::try_from(data).map_err(|_| Errno::EINVAL)?),
        PTRACE_PEEKTEXT | PTRACE_PEEKDATA => {
            let word = pt::peek(tid, addr)?;
            UserPtr::<u64>::new(data).write(&word)
        }
        PTRACE_POKETEXT | PTRACE_POKEDATA => pt::poke(tid, addr, data),
        PTRACE_PEEKUSER => {
            let word = pt::peek_user(tid, addr)?;
            UserPtr::<u64>::new(data).write(&word)
        }
        PTRACE_POKEUSER => pt::poke_user(tid, addr, data),
        PTRACE_GETREGS => {
            let regs = pt::get_regs(tid)?;
            UserPtr::<[u64; 27]>::new(data).write(&regs)
        }
        PTRACE_SETREGS => {
            pt::stopped(tid)?;
            let regs = UserPtr::<[u64; 27]>::new(data).read()?;
            pt::set_regs(tid, &regs)
        }
        PTRACE_GETFPREGS => {
            let image = pt::get_fpregs(tid)?;
            UserPtr::<[u8; 512]>::new(data).write(&image)
        }
        PTRACE_SETFPREGS => {
            pt::stopped(tid)?;
            let image = UserPtr::<[u8; 512]>::new(data).read()?;
            pt::set_fpregs(tid, &image)
        }
        PTRACE_GETREGSET => get_regset(tid, addr, data),
        PTRACE_SETREGSET => set_regset(tid, addr, data),
        PTRACE_GETEVENTMSG => {
            let msg = pt::event_msg(tid)?;
            UserPtr::<u64>::new(data).write(&msg)
        }
        PTRACE_GETSIGINFO => {
            let info = pt::get_siginfo(tid)?;
            UserPtr::<SigInfo>::new(data).write(&info)
        }
        PTRACE_SETSIGINFO => {
            pt::stopped(tid)?;
            let info = UserPtr::<SigInfo>::new(data).read()?;
            pt::set_siginfo(tid, info)
        }
        PTRACE_GETSIGMASK | PTRACE_SETSIGMASK => {
            if addr != 8 {
                return Err(Errno::EINVAL);
            }
            if request == PTRACE_GETSIGMASK {
                let mask = pt::sigmask(tid, None)?;
                UserPtr::<u64>::new(data).write(&mask)
            } else {
                pt::stopped(tid)?;
                let mask = UserPtr::<u64>::new(data).read()?;
                pt::sigmask(tid, Some(mask)).map(|_| ())
            }
        }
        _ => {
            pt::stopped(tid)?;
            Err(Errno::EIO)
        }
    }
    .map(|_| 0)
}

/// GETREGSET: copies as much of the set as the iovec holds, and says how much in iov_len.
fn get_regset(tid: u32, kind: u64, iov: u64) -> Result<()> {
    pt::stopped(tid)?;
    let mut v = UserPtr::<IoVec>::new(iov).read()?;
    let mut bytes = [0u8; 512];
    let size = match kind {
        NT_PRSTATUS => {
            let regs = pt::get_regs(tid)?;
            bytes[..USER_REGS_SIZE].copy_from_slice(bytemuck::bytes_of(&regs));
            USER_REGS_SIZE
        }
        NT_PRFPREG => {
            bytes = pt::get_fpregs(tid)?;
            512
        }
        _ => return Err(Errno::EINVAL),
    };
    let n = (v.len as usize).min(size);
    crate::mm::user::UserSlice::new(v.base, n).write(&bytes[..n])?;
    v.len = n as u64;
    UserPtr::<IoVec>::new(iov).write(&v)
}

/// SETREGSET: the registers the iovec gives (whole registers only), the rest unchanged.
fn set_regset(tid: u32, kind: u64, iov: u64) -> Result<()> {
    pt::stopped(tid)?;
    let v = UserPtr::<IoVec>::new(iov).read()?;
    match kind {
        NT_PRSTATUS => {
            let n = (v.len as usize).min(USER_REGS_SIZE) / 8;
            let mut regs = pt::get_regs(tid)?;
            let bytes: &mut [u8] = bytemuck::cast_slice_mut(&mut regs[..n]);
            crate::mm::user::UserSlice::new(v.base, n * 8).read(bytes)?;
            pt::set_regs(tid, &regs[..n])
        }
        NT_PRFPREG => {
            let mut image = pt::get_fpregs(tid)?;
            let n = (v.len as usize).min(512);
            crate::mm::user::UserSlice::new(v.base, n).read(&mut image[..n])?;
            pt::set_fpregs(tid, &image)
        }
        _ => Err(Errno::EINVAL),
    }
}
