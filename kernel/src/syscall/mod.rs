//! System call dispatch: decode the number and arguments, call the family's handler, encode the
//! result. One file per family; handlers are thin.

mod fs;
mod misc;
mod mm;
pub mod numbers;
mod process;
mod signal;
mod time;

use core::sync::atomic::{AtomicU64, Ordering};

use crate::arch::trap::TrapFrame;
use crate::error::{Errno, Result};
use numbers::*;

/// The six argument registers.
pub struct Args([u64; 6]);

impl Args {
    fn u(&self, i: usize) -> u64 {
        self.0[i]
    }
    /// An int argument (the upper half of the register is ignored, as in Linux).
    fn int(&self, i: usize) -> i32 {
        self.0[i] as u32 as i32
    }
}

pub fn dispatch(frame: &mut TrapFrame) {
    let nr = frame.rax;
    let a = Args([frame.rdi, frame.rsi, frame.rdx, frame.r10, frame.r8, frame.r9]);
    let result = call(nr, &a, frame);
    frame.rax = match result {
        Ok(v) => v as u64,
        // Signal delivery (and so restart) comes with the signals issue: report EINTR.
        Err(Errno::ERESTARTSYS) | Err(Errno::ERESTARTNOHAND) => -(Errno::EINTR as i64) as u64,
        Err(e) => -(e as i64) as u64,
    };
}

fn call(nr: u64, a: &Args, frame: &mut TrapFrame) -> Result<i64> {
    match nr {
        READ => fs::read(a.int(0), a.u(1), a.u(2)),
        WRITE => fs::write(a.int(0), a.u(1), a.u(2)),
        READV => fs::readv(a.int(0), a.u(1), a.int(2)),
        WRITEV => fs::writev(a.int(0), a.u(1), a.int(2)),
        IOCTL => fs::ioctl(a.int(0), a.u(1) as u32, a.u(2)),
        CLOSE => fs::close(a.int(0)),
        FSTAT => fs::fstat(a.int(0), a.u(1)),
        NEWFSTATAT => fs::newfstatat(a.int(0), a.u(1), a.u(2), a.int(3)),

        BRK => mm::brk(a.u(0)),
        MMAP => mm::mmap(a.u(0), a.u(1), a.int(2), a.int(3), a.int(4), a.u(5)),
        MUNMAP => mm::munmap(a.u(0), a.u(1)),
        MPROTECT => mm::mprotect(a.u(0), a.u(1), a.int(2)),
        MADVISE => mm::madvise(a.u(0), a.u(1), a.int(2)),

        EXIT => process::exit(a.int(0)),
        EXIT_GROUP => process::exit(a.int(0)),
        EXECVE => process::execve(a.u(0), a.u(1), a.u(2), frame),
        GETPID => process::getpid(),
        GETPPID => process::getppid(),
        GETTID => process::gettid(),
        GETUID => process::getuid(),
        GETEUID => process::geteuid(),
        GETGID => process::getgid(),
        GETEGID => process::getegid(),
        SET_TID_ADDRESS => process::set_tid_address(a.u(0)),
        SET_ROBUST_LIST => process::set_robust_list(a.u(0), a.u(1)),
        ARCH_PRCTL => process::arch_prctl(a.int(0), a.u(1)),
        PRLIMIT64 => process::prlimit64(a.int(0), a.int(1), a.u(2), a.u(3)),
        GETRLIMIT => process::prlimit64(0, a.int(0), 0, a.u(1)),
        SETRLIMIT => process::prlimit64(0, a.int(0), a.u(1), 0),
        SCHED_YIELD => process::sched_yield(),

        CLOCK_GETTIME => time::clock_gettime(a.int(0), a.u(1)),
        CLOCK_GETRES => time::clock_getres(a.int(0), a.u(1)),
        GETTIMEOFDAY => time::gettimeofday(a.u(0), a.u(1)),
        TIME => time::time(a.u(0)),
        NANOSLEEP => time::nanosleep(a.u(0), a.u(1)),
        CLOCK_NANOSLEEP => time::clock_nanosleep(a.int(0), a.int(1), a.u(2), a.u(3)),

        RT_SIGACTION => signal::rt_sigaction(a.int(0), a.u(1), a.u(2), a.u(3)),
        RT_SIGPROCMASK => signal::rt_sigprocmask(a.int(0), a.u(1), a.u(2), a.u(3)),

        UNAME => misc::uname(a.u(0)),
        GETRANDOM => misc::getrandom(a.u(0), a.u(1), a.u(2) as u32),
        _ => {
            log_unimplemented(nr);
            Err(Errno::ENOSYS)
        }
    }
}

static LOGGED: [AtomicU64; 8] = [const { AtomicU64::new(0) }; 8];

/// Logs an unimplemented syscall by name, once per number.
fn log_unimplemented(nr: u64) {
    if nr < 512 {
        let bit = 1u64 << (nr % 64);
        if LOGGED[(nr / 64) as usize].fetch_or(bit, Ordering::Relaxed) & bit != 0 {
            return;
        }
    }
    crate::log!("ENOSYS: unimplemented syscall {} ({})", numbers::name(nr), nr);
}
