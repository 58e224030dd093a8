//! System call dispatch: decode the number and arguments, call the family's handler, encode the
//! result. One file per family; handlers are thin.

mod attr;
mod caps;
mod creds;
mod dir;
mod epoll;
mod eventfd;
mod fds;
mod fspace;
mod futex;
mod inotify;
mod io;
mod lock;
mod memfd;
mod misc;
mod mm;
mod mmsg;
mod mount;
pub mod mqueue;
pub mod numbers;
mod pipe;
mod poll;
mod priority;
mod process;
mod process_vm;
mod ptrace;
mod rseq;
mod rwf;
mod sched;
mod sendfile;
mod signal;
mod socket;
mod stat;
mod syslog;
mod sysv;
mod time;
mod time_args;
mod timer;
mod timerfd;
pub mod trace;

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
    fn i(&self, i: usize) -> i64 {
        self.0[i] as i64
    }
    /// An int argument (the upper half of the register is ignored, as in Linux).
    fn int(&self, i: usize) -> i32 {
        self.0[i] as u32 as i32
    }
    fn u32(&self, i: usize) -> u32 {
        self.0[i] as u32
    }
}

pub fn dispatch(frame: &mut TrapFrame) {
    crate::process::trap::entered_from_user();
    // Kept for restarting the call after a signal (see process::signal::deliver); ptrace's
    // orig_rax.
    frame.error_code = frame.rax;
    // A tracer may stop the call here, change its number and arguments, or cancel it.
    if !crate::process::ptrace::syscall_entry(frame) {
        crate::process::ptrace::syscall_exit(frame);
        return;
    }
    let nr = frame.error_code;
    let a = Args([frame.rdi, frame.rsi, frame.rdx, frame.r10, frame.r8, frame.r9]);
    let frames_failed = crate::mm::frame::exhaustions();
    // Tracing off costs this one predictable branch (docs/debugging.md).
    let mut result =
        if trace::on() { trace::traced(nr, &a, frame, call) } else { call(nr, &a, frame) };
    // ENFILE: what pipe() says when its ring's frames cannot be had (as Linux's).
    if matches!(result, Err(Errno::ENOMEM | Errno::ENFILE))
        && crate::mm::frame::exhaustions() != frames_failed
        && crate::process::oom::out_of_frames()
    {
        // The OOM killer freed frames: the call again, as if Linux's allocation had waited.
        result = Err(Errno::ERESTARTNOINTR);
    }
    frame.rax = match result {
        Ok(v) => v as u64,
        Err(e) => -(e as i64) as u64,
    };
    crate::process::ptrace::syscall_exit(frame);
}

fn call(nr: u64, a: &Args, frame: &mut TrapFrame) -> Result<i64> {
    match nr {
        READ => io::read(a.int(0), a.u(1), a.u(2)),
        WRITE => io::write(a.int(0), a.u(1), a.u(2)),
        PREAD64 => io::pread64(a.int(0), a.u(1), a.u(2), a.i(3)),
        PWRITE64 => io::pwrite64(a.int(0), a.u(1), a.u(2), a.i(3)),
        READV => io::readv(a.int(0), a.u(1), a.int(2)),
        WRITEV => io::writev(a.int(0), a.u(1), a.int(2)),
        PREADV => io::preadv(a.int(0), a.u(1), a.int(2), a.i(3)),
        PWRITEV => io::pwritev(a.int(0), a.u(1), a.int(2), a.i(3)),
        LSEEK => io::lseek(a.int(0), a.i(1), a.int(2)),
        IOCTL => io::ioctl(a.int(0), a.u32(1), a.u(2)),
        CLOSE => io::close(a.int(0)),
        CLOSE_RANGE => fds::close_range(a.u32(0), a.u32(1), a.u32(2)),
        PREADV2 => rwf::preadv2(a.int(0), a.u(1), a.int(2), a.i(3), a.u32(5)),
        PWRITEV2 => rwf::pwritev2(a.int(0), a.u(1), a.int(2), a.i(3), a.u32(5)),
        FADVISE64 => fspace::fadvise64(a.int(0), a.i(1), a.i(2), a.int(3)),
        FALLOCATE => fspace::fallocate(a.int(0), a.int(1), a.i(2), a.i(3)),
        SENDMMSG => mmsg::sendmmsg(a.int(0), a.u(1), a.u32(2), a.u32(3)),
        RECVMMSG => mmsg::recvmmsg(a.int(0), a.u(1), a.u32(2), a.u32(3), a.u(4)),
        DUP => io::dup(a.int(0)),
        DUP2 => io::dup2(a.int(0), a.int(1)),
        DUP3 => io::dup3(a.int(0), a.int(1), a.u32(2)),
        FCNTL => io::fcntl(a.int(0), a.int(1), a.u(2)),
        FUTEX => futex::futex(a.u(0), a.u32(1), a.u32(2), a.u(3), a.u(4), a.u32(5)),
        FLOCK => lock::flock(a.int(0), a.u32(1)),
        MEMFD_CREATE => memfd::memfd_create(a.u(0), a.u32(1)),
        FSYNC | FDATASYNC => io::fsync(a.int(0)),
        SYNC => Ok(0),
        SYNCFS => io::fsync(a.int(0)),

        PIPE => pipe::pipe2(a.u(0), 0),
        PIPE2 => pipe::pipe2(a.u(0), a.u32(1)),
        POLL => poll::poll(a.u(0), a.u(1), a.int(2)),
        PPOLL => poll::ppoll(a.u(0), a.u(1), a.u(2), a.u(3), a.u(4)),
        SELECT => poll::select(a.int(0), a.u(1), a.u(2), a.u(3), a.u(4)),
        PSELECT6 => poll::pselect6(a.int(0), a.u(1), a.u(2), a.u(3), a.u(4), a.u(5)),
        EPOLL_CREATE => epoll::epoll_create(a.int(0)),
        EPOLL_CREATE1 => epoll::epoll_create1(a.u32(0)),
        EPOLL_CTL => epoll::epoll_ctl(a.int(0), a.int(1), a.int(2), a.u(3)),
        EPOLL_WAIT => epoll::epoll_wait(a.int(0), a.u(1), a.int(2), a.int(3)),
        EPOLL_PWAIT => epoll::epoll_pwait(a.int(0), a.u(1), a.int(2), a.int(3), a.u(4), a.u(5)),
        EPOLL_PWAIT2 => epoll::epoll_pwait2(a.int(0), a.u(1), a.int(2), a.u(3), a.u(4), a.u(5)),
        EVENTFD => eventfd::eventfd2(a.u32(0), 0),
        EVENTFD2 => eventfd::eventfd2(a.u32(0), a.u32(1)),
        INOTIFY_INIT => inotify::inotify_init1(0),
        INOTIFY_INIT1 => inotify::inotify_init1(a.u32(0)),
        INOTIFY_ADD_WATCH => inotify::inotify_add_watch(a.int(0), a.u(1), a.u32(2)),
        INOTIFY_RM_WATCH => inotify::inotify_rm_watch(a.int(0), a.int(1)),
        SIGNALFD => eventfd::signalfd4(a.int(0), a.u(1), a.u(2), 0),
        SIGNALFD4 => eventfd::signalfd4(a.int(0), a.u(1), a.u(2), a.u32(3)),
        SOCKET => socket::socket(a.int(0), a.int(1), a.int(2)),
        SOCKETPAIR => socket::socketpair(a.int(0), a.int(1), a.int(2), a.u(3)),
        BIND => socket::bind(a.int(0), a.u(1), a.u32(2)),
        LISTEN => socket::listen(a.int(0), a.int(1)),
        ACCEPT => socket::accept4(a.int(0), a.u(1), a.u(2), 0),
        ACCEPT4 => socket::accept4(a.int(0), a.u(1), a.u(2), a.int(3)),
        CONNECT => socket::connect(a.int(0), a.u(1), a.u32(2)),
        GETSOCKNAME => socket::getsockname(a.int(0), a.u(1), a.u(2)),
        GETPEERNAME => socket::getpeername(a.int(0), a.u(1), a.u(2)),
        SENDTO => socket::sendto(a.int(0), a.u(1), a.u(2), a.u32(3), a.u(4), a.u32(5)),
        RECVFROM => socket::recvfrom(a.int(0), a.u(1), a.u(2), a.u32(3), a.u(4), a.u(5)),
        SENDMSG => socket::sendmsg(a.int(0), a.u(1), a.u32(2)),
        RECVMSG => socket::recvmsg(a.int(0), a.u(1), a.u32(2)),
        SHUTDOWN => socket::shutdown(a.int(0), a.int(1)),
        SETSOCKOPT => socket::setsockopt(a.int(0), a.int(1), a.int(2), a.u(3), a.u32(4)),
        GETSOCKOPT => socket::getsockopt(a.int(0), a.int(1), a.int(2), a.u(3), a.u(4)),
        SENDFILE => sendfile::sendfile(a.int(0), a.int(1), a.u(2), a.u(3)),
        SPLICE => sendfile::splice(a.int(0), a.u(1), a.int(2), a.u(3), a.u(4), a.u32(5)),
        TEE => sendfile::tee(a.int(0), a.int(1), a.u(2), a.u32(3)),
        COPY_FILE_RANGE => {
            sendfile::copy_file_range(a.int(0), a.u(1), a.int(2), a.u(3), a.u(4), a.u32(5))
        }
        OPEN => dir::open(a.u(0), a.u32(1), a.u32(2)),
        OPENAT => dir::openat(a.int(0), a.u(1), a.u32(2), a.u32(3)),
        CREAT => dir::creat(a.u(0), a.u32(1)),
        MKDIR => dir::mkdirat(-100, a.u(0), a.u32(1)),
        MKDIRAT => dir::mkdirat(a.int(0), a.u(1), a.u32(2)),
        MKNOD => dir::mknodat(-100, a.u(0), a.u32(1), a.u(2)),
        MKNODAT => dir::mknodat(a.int(0), a.u(1), a.u32(2), a.u(3)),
        UNLINK => dir::unlinkat(-100, a.u(0), 0),
        UNLINKAT => dir::unlinkat(a.int(0), a.u(1), a.u32(2)),
        RMDIR => dir::rmdir(a.u(0)),
        RENAME => dir::renameat2(-100, a.u(0), -100, a.u(1), 0),
        RENAMEAT => dir::renameat2(a.int(0), a.u(1), a.int(2), a.u(3), 0),
        RENAMEAT2 => dir::renameat2(a.int(0), a.u(1), a.int(2), a.u(3), a.u32(4)),
        LINK => dir::linkat(-100, a.u(0), -100, a.u(1), 0),
        LINKAT => dir::linkat(a.int(0), a.u(1), a.int(2), a.u(3), a.u32(4)),
        SYMLINK => dir::symlinkat(a.u(0), -100, a.u(1)),
        SYMLINKAT => dir::symlinkat(a.u(0), a.int(1), a.u(2)),
        GETDENTS64 => dir::getdents64(a.int(0), a.u(1), a.u(2)),
        GETCWD => dir::getcwd(a.u(0), a.u(1)),
        CHDIR => dir::chdir(a.u(0)),
        FCHDIR => dir::fchdir(a.int(0)),

        STAT => stat::stat(a.u(0), a.u(1)),
        LSTAT => stat::lstat(a.u(0), a.u(1)),
        FSTAT => stat::fstat(a.int(0), a.u(1)),
        NEWFSTATAT => stat::newfstatat(a.int(0), a.u(1), a.u(2), a.u32(3)),
        STATX => stat::statx(a.int(0), a.u(1), a.u32(2), a.u32(3), a.u(4)),
        STATFS => stat::statfs(a.u(0), a.u(1)),
        FSTATFS => stat::fstatfs(a.int(0), a.u(1)),
        READLINK => stat::readlinkat(-100, a.u(0), a.u(1), a.i(2)),
        READLINKAT => stat::readlinkat(a.int(0), a.u(1), a.u(2), a.i(3)),
        ACCESS => stat::faccessat(-100, a.u(0), a.u32(1), 0),
        FACCESSAT => stat::faccessat(a.int(0), a.u(1), a.u32(2), 0),
        FACCESSAT2 => stat::faccessat(a.int(0), a.u(1), a.u32(2), a.u32(3)),

        CHMOD => attr::chmod(a.u(0), a.u32(1)),
        FCHMOD => attr::fchmod(a.int(0), a.u32(1)),
        FCHMODAT => attr::fchmodat(a.int(0), a.u(1), a.u32(2)),
        CHOWN => attr::fchownat(-100, a.u(0), a.u32(1), a.u32(2), 0),
        LCHOWN => attr::fchownat(-100, a.u(0), a.u32(1), a.u32(2), 0x100),
        FCHOWN => attr::fchown(a.int(0), a.u32(1), a.u32(2)),
        FCHOWNAT => attr::fchownat(a.int(0), a.u(1), a.u32(2), a.u32(3), a.u32(4)),
        TRUNCATE => attr::truncate(a.u(0), a.i(1)),
        FTRUNCATE => attr::ftruncate(a.int(0), a.i(1)),
        UTIMENSAT => attr::utimensat(a.int(0), a.u(1), a.u(2), a.u32(3)),
        UMASK => attr::umask(a.u32(0)),

        MOUNT => mount::mount(a.u(0), a.u(1), a.u(2), a.u(3), a.u(4)),
        UMOUNT2 => mount::umount2(a.u(0), a.int(1)),

        BRK => mm::brk(a.u(0)),
        MMAP => mm::mmap(a.u(0), a.u(1), a.int(2), a.int(3), a.int(4), a.u(5)),
        MUNMAP => mm::munmap(a.u(0), a.u(1)),
        MPROTECT => mm::mprotect(a.u(0), a.u(1), a.int(2)),
        MREMAP => mm::mremap(a.u(0), a.u(1), a.u(2), a.u32(3), a.u(4)),
        MSYNC => mm::msync(a.u(0), a.u(1), a.int(2)),
        MADVISE => mm::madvise(a.u(0), a.u(1), a.int(2)),
        MLOCK => mm::mlock(a.u(0), a.u(1)),
        MLOCK2 => mm::mlock2(a.u(0), a.u(1), a.u32(2)),
        MUNLOCK => mm::munlock(a.u(0), a.u(1)),
        MLOCKALL => mm::mlockall(a.int(0)),
        MUNLOCKALL => mm::munlockall(),

        EXIT => process::exit(a.int(0)),
        EXIT_GROUP => process::exit_group(a.int(0)),
        FORK => process::fork(frame),
        VFORK => process::vfork(frame),
        CLONE => process::clone(a.u(0), a.u(1), a.u(2), a.u(3), a.u(4), frame),
        CLONE3 => process::clone3(a.u(0), a.u(1), frame),
        UNSHARE => process::unshare(a.u(0)),
        PIDFD_OPEN => process::pidfd_open(a.int(0), a.u32(1)),
        EXECVE => process::execve(a.u(0), a.u(1), a.u(2), frame),
        WAIT4 => process::wait4(a.int(0), a.u(1), a.u32(2), a.u(3)),
        WAITID => process::waitid(a.u32(0), a.u32(1), a.u(2), a.u32(3), a.u(4)),
        GETPID => process::getpid(),
        GETPPID => process::getppid(),
        GETTID => process::gettid(),
        SETPGID => process::setpgid(a.int(0), a.int(1)),
        GETPGID => process::getpgid(a.int(0)),
        GETPGRP => process::getpgrp(),
        SETSID => process::setsid(),
        GETSID => process::getsid(a.int(0)),
        SET_TID_ADDRESS => process::set_tid_address(a.u(0)),
        SET_ROBUST_LIST => futex::set_robust_list(a.u(0), a.u(1)),
        GET_ROBUST_LIST => futex::get_robust_list(a.int(0), a.u(1), a.u(2)),
        FUTEX_WAITV => futex::futex_waitv(a.u(0), a.u32(1), a.u32(2), a.u(3), a.int(4)),
        RSEQ => rseq::rseq(a.u(0), a.u32(1), a.u32(2), a.u32(3)),
        MEMBARRIER => rseq::membarrier(a.int(0), a.u32(1), a.int(2)),
        ARCH_PRCTL => process::arch_prctl(a.int(0), a.u(1)),
        PRCTL => process::prctl(a.int(0), a.u(1)),
        PRLIMIT64 => process::prlimit64(a.int(0), a.int(1), a.u(2), a.u(3)),
        GETRLIMIT => process::prlimit64(0, a.int(0), 0, a.u(1)),
        SETRLIMIT => process::prlimit64(0, a.int(0), a.u(1), 0),
        GETRUSAGE => time::getrusage(a.int(0), a.u(1)),
        TIMES => time::times(a.u(0)),
        SCHED_YIELD => process::sched_yield(),
        SCHED_GETAFFINITY => sched::sched_getaffinity(a.int(0), a.u(1), a.u(2)),
        SCHED_SETAFFINITY => sched::sched_setaffinity(a.int(0), a.u(1), a.u(2)),
        GETCPU => sched::getcpu(a.u(0), a.u(1)),

        GETUID => creds::getuid(),
        GETEUID => creds::geteuid(),
        GETGID => creds::getgid(),
        GETEGID => creds::getegid(),
        SETUID => creds::setuid(a.u32(0)),
        SETGID => creds::setgid(a.u32(0)),
        SETREUID => creds::setreuid(a.u32(0), a.u32(1)),
        SETREGID => creds::setregid(a.u32(0), a.u32(1)),
        SETRESUID => creds::setresuid(a.u32(0), a.u32(1), a.u32(2)),
        SETRESGID => creds::setresgid(a.u32(0), a.u32(1), a.u32(2)),
        GETRESUID => creds::getresuid(a.u(0), a.u(1), a.u(2)),
        GETRESGID => creds::getresgid(a.u(0), a.u(1), a.u(2)),
        SETFSUID => creds::setfsuid(a.u32(0)),
        SETFSGID => creds::setfsgid(a.u32(0)),
        GETGROUPS => creds::getgroups(a.int(0), a.u(1)),
        SETGROUPS => creds::setgroups(a.int(0) as i64, a.u(1)),
        CAPGET => caps::capget(a.u(0), a.u(1)),
        CAPSET => caps::capset(a.u(0), a.u(1)),
        CHROOT => dir::chroot(a.u(0)),
        GETPRIORITY => priority::getpriority(a.int(0), a.int(1)),
        SETPRIORITY => priority::setpriority(a.int(0), a.int(1), a.int(2)),
        IOPRIO_GET => priority::ioprio_get(a.int(0), a.int(1)),
        IOPRIO_SET => priority::ioprio_set(a.int(0), a.int(1), a.int(2)),
        PTRACE => ptrace::ptrace(a.i(0), a.int(1), a.u(2), a.u(3)),
        PROCESS_VM_READV => process_vm::readv(a.int(0), a.u(1), a.int(2), a.u(3), a.int(4), a.u(5)),
        PROCESS_VM_WRITEV => {
            process_vm::writev(a.int(0), a.u(1), a.int(2), a.u(3), a.int(4), a.u(5))
        }

        CLOCK_GETTIME => time::clock_gettime(a.int(0), a.u(1)),
        CLOCK_GETRES => time::clock_getres(a.int(0), a.u(1)),
        CLOCK_SETTIME => time::clock_settime(a.int(0), a.u(1)),
        SETTIMEOFDAY => time::settimeofday(a.u(0), a.u(1)),
        TIMER_CREATE => timer::timer_create(a.int(0), a.u(1), a.u(2)),
        TIMER_SETTIME => timer::timer_settime(a.int(0), a.int(1), a.u(2), a.u(3)),
        TIMER_GETTIME => timer::timer_gettime(a.int(0), a.u(1)),
        TIMER_GETOVERRUN => timer::timer_getoverrun(a.int(0)),
        TIMER_DELETE => timer::timer_delete(a.int(0)),
        TIMERFD_CREATE => timerfd::timerfd_create(a.int(0), a.u32(1)),
        TIMERFD_SETTIME => timerfd::timerfd_settime(a.int(0), a.u32(1), a.u(2), a.u(3)),
        TIMERFD_GETTIME => timerfd::timerfd_gettime(a.int(0), a.u(1)),
        GETTIMEOFDAY => time::gettimeofday(a.u(0), a.u(1)),
        TIME => time::time(a.u(0)),
        NANOSLEEP => time::nanosleep(a.u(0), a.u(1)),
        CLOCK_NANOSLEEP => time::clock_nanosleep(a.int(0), a.int(1), a.u(2), a.u(3)),

        RT_SIGACTION => signal::rt_sigaction(a.int(0), a.u(1), a.u(2), a.u(3)),
        RT_SIGPROCMASK => signal::rt_sigprocmask(a.int(0), a.u(1), a.u(2), a.u(3)),
        RT_SIGPENDING => signal::rt_sigpending(a.u(0), a.u(1)),
        RT_SIGSUSPEND => signal::rt_sigsuspend(a.u(0), a.u(1)),
        RT_SIGTIMEDWAIT => signal::rt_sigtimedwait(a.u(0), a.u(1), a.u(2), a.u(3)),
        RT_SIGQUEUEINFO => signal::rt_sigqueueinfo(a.int(0), a.int(1), a.u(2)),
        RT_TGSIGQUEUEINFO => signal::rt_tgsigqueueinfo(a.int(0), a.int(1), a.int(2), a.u(3)),
        RT_SIGRETURN => signal::rt_sigreturn(frame),
        KILL => signal::kill(a.int(0), a.int(1)),
        TKILL => signal::tkill(a.int(0), a.int(1)),
        TGKILL => signal::tgkill(a.int(0), a.int(1), a.int(2)),
        PIDFD_SEND_SIGNAL => signal::pidfd_send_signal(a.int(0), a.int(1), a.u(2), a.u32(3)),
        SIGALTSTACK => signal::sigaltstack(a.u(0), a.u(1), frame),
        PAUSE => signal::pause(),
        ALARM => signal::alarm(a.u32(0)),
        SETITIMER => signal::setitimer(a.int(0), a.u(1), a.u(2)),
        GETITIMER => signal::getitimer(a.int(0), a.u(1)),

        SHMGET => sysv::shmget(a.int(0), a.u(1), a.int(2)),
        SHMAT => sysv::shmat(a.int(0), a.u(1), a.int(2)),
        SHMDT => sysv::shmdt(a.u(0)),
        SHMCTL => sysv::shmctl(a.int(0), a.int(1), a.u(2)),
        SEMGET => sysv::semget(a.int(0), a.int(1), a.int(2)),
        SEMOP => sysv::semtimedop(a.int(0), a.u(1), a.u32(2), 0),
        SEMTIMEDOP => sysv::semtimedop(a.int(0), a.u(1), a.u32(2), a.u(3)),
        SEMCTL => sysv::semctl(a.int(0), a.int(1), a.int(2), a.u(3)),
        MSGGET => sysv::msgget(a.int(0), a.int(1)),
        MSGSND => sysv::msgsnd(a.int(0), a.u(1), a.u(2), a.int(3)),
        MSGRCV => sysv::msgrcv(a.int(0), a.u(1), a.u(2), a.i(3), a.int(4)),
        MSGCTL => sysv::msgctl(a.int(0), a.int(1), a.u(2)),
        MQ_OPEN => mqueue::mq_open(a.u(0), a.u32(1), a.u32(2), a.u(3)),
        MQ_UNLINK => mqueue::mq_unlink(a.u(0)),
        MQ_TIMEDSEND => mqueue::mq_timedsend(a.int(0), a.u(1), a.u(2), a.u32(3), a.u(4)),
        MQ_TIMEDRECEIVE => mqueue::mq_timedreceive(a.int(0), a.u(1), a.u(2), a.u(3), a.u(4)),
        MQ_NOTIFY => mqueue::mq_notify(a.int(0), a.u(1)),
        MQ_GETSETATTR => mqueue::mq_getsetattr(a.int(0), a.u(1), a.u(2)),

        UNAME => misc::uname(a.u(0)),
        GETRANDOM => misc::getrandom(a.u(0), a.u(1), a.u32(2)),
        SYSINFO => misc::sysinfo(a.u(0)),
        SYSLOG => syslog::syslog(a.int(0), a.u(1), a.int(2)),
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
