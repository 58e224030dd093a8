//! The one place that names each call's family and argument kinds, for the trace. A call missing
//! here is traced with three hexadecimal arguments, in no family (only `all` or its name shows it).

use super::decode::Arg::{self, *};
use crate::syscall::numbers::*;

/// The families of `--trace=FAMILY` (bits, so a filter holds several).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Family {
    Other = 0,
    File = 1,
    Net = 2,
    Ipc = 4,
    Signal = 8,
    Process = 16,
    Memory = 32,
}

impl Family {
    pub fn from_name(name: &str) -> Option<Family> {
        Some(match name {
            "file" => Family::File,
            "net" => Family::Net,
            "ipc" => Family::Ipc,
            "signal" => Family::Signal,
            "process" => Family::Process,
            "memory" => Family::Memory,
            _ => return None,
        })
    }
}

/// How the return value reads.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Ret {
    Dec,
    Hex,
    /// The call does not return (`= ?`, written before it runs).
    None,
}

pub struct Spec {
    pub family: Family,
    pub args: &'static [Arg],
    pub ret: Ret,
}

const fn s(family: Family, args: &'static [Arg]) -> Spec {
    Spec { family, args, ret: Ret::Dec }
}

pub fn spec(nr: u64) -> Spec {
    use Family::*;
    match nr {
        READ => s(File, &[Fd, OutBuf, ULong]),
        PREAD64 => s(File, &[Fd, OutBuf, ULong, Long]),
        WRITE => s(File, &[Fd, InBuf(2), ULong]),
        PWRITE64 => s(File, &[Fd, InBuf(2), ULong, Long]),
        READV | WRITEV => s(File, &[Fd, Ptr, Int]),
        LSEEK => s(File, &[Fd, Long, Whence]),
        IOCTL => s(File, &[Fd, Hex, Ptr]),
        CLOSE | DUP | FSYNC | FDATASYNC | FCHDIR | SYNCFS => s(File, &[Fd]),
        DUP2 => s(File, &[Fd, Fd]),
        DUP3 => s(File, &[Fd, Fd, FdFlags]),
        FCNTL => s(File, &[Fd, FcntlCmd, Long]),
        FLOCK => s(File, &[Fd, Int]),
        OPEN => s(File, &[Path, OpenFlags, OpenMode(1)]),
        OPENAT => s(File, &[DirFd, Path, OpenFlags, OpenMode(2)]),
        CREAT | MKDIR | CHMOD => s(File, &[Path, Octal]),
        MKDIRAT => s(File, &[DirFd, Path, Octal]),
        UNLINK | RMDIR | CHDIR => s(File, &[Path]),
        UNLINKAT => s(File, &[DirFd, Path, AtFlags]),
        RENAME | LINK | SYMLINK => s(File, &[Path, Path]),
        RENAMEAT => s(File, &[DirFd, Path, DirFd, Path]),
        RENAMEAT2 | LINKAT => s(File, &[DirFd, Path, DirFd, Path, Hex]),
        SYMLINKAT => s(File, &[Path, DirFd, Path]),
        GETDENTS64 => s(File, &[Fd, Ptr, ULong]),
        GETCWD => s(File, &[OutStr, ULong]),
        STAT | LSTAT | STATFS => s(File, &[Path, Ptr]),
        FSTAT | FSTATFS => s(File, &[Fd, Ptr]),
        NEWFSTATAT => s(File, &[DirFd, Path, Ptr, AtFlags]),
        STATX => s(File, &[DirFd, Path, AtFlags, Hex, Ptr]),
        READLINK => s(File, &[Path, OutBuf, ULong]),
        READLINKAT => s(File, &[DirFd, Path, OutBuf, ULong]),
        ACCESS => s(File, &[Path, AccessMode]),
        FACCESSAT => s(File, &[DirFd, Path, AccessMode]),
        FACCESSAT2 => s(File, &[DirFd, Path, AccessMode, AtFlags]),
        FCHMOD => s(File, &[Fd, Octal]),
        FCHMODAT => s(File, &[DirFd, Path, Octal]),
        CHOWN | LCHOWN => s(File, &[Path, Int, Int]),
        FCHOWN => s(File, &[Fd, Int, Int]),
        FCHOWNAT => s(File, &[DirFd, Path, Int, Int, AtFlags]),
        TRUNCATE => s(File, &[Path, Long]),
        FTRUNCATE => s(File, &[Fd, Long]),
        UTIMENSAT => s(File, &[DirFd, Path, Ptr, AtFlags]),
        UMASK => s(File, &[Octal]),
        MOUNT => s(File, &[Path, Path, Path, Hex, Ptr]),
        UMOUNT2 => s(File, &[Path, Hex]),
        POLL => s(File, &[Ptr, UInt, Int]),
        PPOLL => s(File, &[Ptr, UInt, Ptr, Ptr, ULong]),
        SELECT => s(File, &[Int, Ptr, Ptr, Ptr, Ptr]),
        PSELECT6 => s(File, &[Int, Ptr, Ptr, Ptr, Ptr, Ptr]),
        EPOLL_CREATE => s(File, &[Int]),
        EPOLL_CREATE1 => s(File, &[FdFlags]),
        EPOLL_CTL => s(File, &[Fd, Int, Fd, Ptr]),
        EPOLL_WAIT => s(File, &[Fd, Ptr, Int, Int]),
        EPOLL_PWAIT | EPOLL_PWAIT2 => s(File, &[Fd, Ptr, Int, Int, Ptr, ULong]),
        SENDFILE => s(File, &[Fd, Fd, Ptr, ULong]),
        COPY_FILE_RANGE => s(File, &[Fd, Ptr, Fd, Ptr, ULong, UInt]),

        PIPE => s(Ipc, &[PipeFds]),
        PIPE2 => s(Ipc, &[PipeFds, FdFlags]),
        SPLICE => s(Ipc, &[Fd, Ptr, Fd, Ptr, ULong, Hex]),
        TEE => s(Ipc, &[Fd, Fd, ULong, Hex]),
        EVENTFD => s(Ipc, &[UInt]),
        EVENTFD2 => s(Ipc, &[UInt, FdFlags]),
        FUTEX => s(Ipc, &[Ptr, Int, UInt, Ptr, Ptr, UInt]),
        MEMFD_CREATE => s(Ipc, &[Path, Hex]),
        SHMGET => s(Ipc, &[Hex, ULong, IpcFlags]),
        SHMAT => s(Ipc, &[Int, Ptr, Hex]),
        SHMDT => s(Ipc, &[Ptr]),
        SHMCTL | MSGCTL => s(Ipc, &[Int, Int, Ptr]),
        SEMGET => s(Ipc, &[Hex, Int, IpcFlags]),
        SEMOP => s(Ipc, &[Int, Ptr, UInt]),
        SEMTIMEDOP => s(Ipc, &[Int, Ptr, UInt, Ptr]),
        SEMCTL => s(Ipc, &[Int, Int, Int, Ptr]),
        MSGGET => s(Ipc, &[Hex, IpcFlags]),
        MSGSND => s(Ipc, &[Int, Ptr, ULong, Hex]),
        MSGRCV => s(Ipc, &[Int, Ptr, ULong, Long, Hex]),
        MQ_OPEN => s(Ipc, &[Path, OpenFlags, Octal, Ptr]),
        MQ_UNLINK => s(Ipc, &[Path]),
        MQ_TIMEDSEND => s(Ipc, &[Fd, InBuf(2), ULong, UInt, Ptr]),
        MQ_TIMEDRECEIVE => s(Ipc, &[Fd, OutBuf, ULong, Ptr, Ptr]),
        MQ_NOTIFY => s(Ipc, &[Fd, Ptr]),
        MQ_GETSETATTR => s(Ipc, &[Fd, Ptr, Ptr]),

        SOCKET => s(Net, &[SockFamily, SockType, Int]),
        SOCKETPAIR => s(Net, &[SockFamily, SockType, Int, PipeFds]),
        BIND | CONNECT => s(Net, &[Fd, SockAddr(2), UInt]),
        LISTEN => s(Net, &[Fd, Int]),
        ACCEPT => s(Net, &[Fd, Ptr, Ptr]),
        ACCEPT4 => s(Net, &[Fd, Ptr, Ptr, FdFlags]),
        GETSOCKNAME | GETPEERNAME => s(Net, &[Fd, Ptr, Ptr]),
        SENDTO => s(Net, &[Fd, InBuf(2), ULong, Hex, SockAddr(5), UInt]),
        RECVFROM => s(Net, &[Fd, OutBuf, ULong, Hex, Ptr, Ptr]),
        SENDMSG | RECVMSG => s(Net, &[Fd, Ptr, Hex]),
        SHUTDOWN => s(Net, &[Fd, Int]),
        SETSOCKOPT => s(Net, &[Fd, Int, Int, Ptr, UInt]),
        GETSOCKOPT => s(Net, &[Fd, Int, Int, Ptr, Ptr]),

        BRK => Spec { family: Memory, args: &[Ptr], ret: Ret::Hex },
        MMAP => {
            Spec { family: Memory, args: &[Ptr, ULong, Prot, MapFlags, Fd, Hex], ret: Ret::Hex }
        }
        MREMAP => Spec { family: Memory, args: &[Ptr, ULong, ULong, Hex, Ptr], ret: Ret::Hex },
        MUNMAP | MLOCK | MUNLOCK => s(Memory, &[Ptr, ULong]),
        MPROTECT => s(Memory, &[Ptr, ULong, Prot]),
        MSYNC | MADVISE => s(Memory, &[Ptr, ULong, Int]),
        MLOCK2 => s(Memory, &[Ptr, ULong, Hex]),
        MLOCKALL => s(Memory, &[Hex]),
        MUNLOCKALL => s(Memory, &[]),

        EXIT | EXIT_GROUP => Spec { family: Process, args: &[Int], ret: Ret::None },
        FORK | VFORK | GETPID | GETPPID | GETTID | GETPGRP | SETSID | SCHED_YIELD => {
            s(Process, &[])
        }
        CLONE => s(Process, &[Hex, Ptr, Ptr, Ptr, Hex]),
        EXECVE => s(Process, &[Path, StrArray, Ptr]),
        WAIT4 => s(Process, &[Int, WaitStatus, Hex, Ptr]),
        WAITID => s(Process, &[Int, Int, Ptr, Hex, Ptr]),
        SETPGID => s(Process, &[Int, Int]),
        GETPGID | GETSID => s(Process, &[Int]),
        SET_TID_ADDRESS => s(Process, &[Ptr]),
        SET_ROBUST_LIST => s(Process, &[Ptr, ULong]),
        ARCH_PRCTL => s(Process, &[Hex, Ptr]),
        PRCTL => s(Process, &[Int, Hex]),
        PRLIMIT64 => s(Process, &[Int, Int, Ptr, Ptr]),
        GETRLIMIT | SETRLIMIT => s(Process, &[Int, Ptr]),
        GETRUSAGE => s(Process, &[Int, Ptr]),
        TIMES => s(Process, &[Ptr]),
        SCHED_GETAFFINITY => s(Process, &[Int, ULong, Ptr]),
        GETUID | GETEUID | GETGID | GETEGID => s(Process, &[]),
        SETUID | SETGID | SETFSUID | SETFSGID => s(Process, &[Int]),
        SETREUID | SETREGID => s(Process, &[Int, Int]),
        SETRESUID | SETRESGID => s(Process, &[Int, Int, Int]),
        GETRESUID | GETRESGID => s(Process, &[Ptr, Ptr, Ptr]),
        GETGROUPS | SETGROUPS => s(Process, &[Int, Ptr]),

        RT_SIGACTION => s(Signal, &[Sig, Ptr, Ptr, ULong]),
        RT_SIGPROCMASK => s(Signal, &[SigHow, Ptr, Ptr, ULong]),
        RT_SIGPENDING | RT_SIGSUSPEND => s(Signal, &[Ptr, ULong]),
        RT_SIGTIMEDWAIT => s(Signal, &[Ptr, Ptr, Ptr, ULong]),
        RT_SIGQUEUEINFO => s(Signal, &[Int, Sig, Ptr]),
        RT_SIGRETURN | PAUSE => s(Signal, &[]),
        KILL | TKILL => s(Signal, &[Int, Sig]),
        TGKILL => s(Signal, &[Int, Int, Sig]),
        SIGALTSTACK => s(Signal, &[Ptr, Ptr]),
        ALARM => s(Signal, &[UInt]),
        SETITIMER => s(Signal, &[Int, Ptr, Ptr]),
        GETITIMER => s(Signal, &[Int, Ptr]),
        SIGNALFD => s(Signal, &[Fd, Ptr, ULong]),
        SIGNALFD4 => s(Signal, &[Fd, Ptr, ULong, FdFlags]),

        CLOCK_GETTIME | CLOCK_GETRES => s(Family::Other, &[Int, Ptr]),
        GETTIMEOFDAY => s(Family::Other, &[Ptr, Ptr]),
        TIME | UNAME | SYSINFO => s(Family::Other, &[Ptr]),
        NANOSLEEP => s(Family::Other, &[Ptr, Ptr]),
        CLOCK_NANOSLEEP => s(Family::Other, &[Int, Hex, Ptr, Ptr]),
        GETRANDOM => s(Family::Other, &[Ptr, ULong, Hex]),
        _ => s(Family::Other, &[Hex, Hex, Hex]),
    }
}
