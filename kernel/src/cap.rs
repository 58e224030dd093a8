//! Linux's capabilities (capabilities(7)): their numbers, and the sets as 64-bit masks. The
//! credentials that hold the sets, and the rules that change them at set*uid and execve, are
//! `process::creds`'; the lower layers ask through the interfaces they are given
//! (`net::SocketEnv::capable`, `ipc::sysv::Caller::caps`).

/// One capability, numbered as in `<linux/capability.h>`.
#[allow(dead_code)] // the whole list, as Linux has it; not every one is checked yet
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum Cap {
    Chown = 0,
    DacOverride = 1,
    DacReadSearch = 2,
    Fowner = 3,
    Fsetid = 4,
    Kill = 5,
    Setgid = 6,
    Setuid = 7,
    Setpcap = 8,
    LinuxImmutable = 9,
    NetBindService = 10,
    NetBroadcast = 11,
    NetAdmin = 12,
    NetRaw = 13,
    IpcLock = 14,
    IpcOwner = 15,
    SysModule = 16,
    SysRawio = 17,
    SysChroot = 18,
    SysPtrace = 19,
    SysPacct = 20,
    SysAdmin = 21,
    SysBoot = 22,
    SysNice = 23,
    SysResource = 24,
    SysTime = 25,
    SysTtyConfig = 26,
    Mknod = 27,
    Lease = 28,
    AuditWrite = 29,
    AuditControl = 30,
    Setfcap = 31,
    MacOverride = 32,
    MacAdmin = 33,
    Syslog = 34,
    WakeAlarm = 35,
    BlockSuspend = 36,
    AuditRead = 37,
    Perfmon = 38,
    Bpf = 39,
    CheckpointRestore = 40,
}

/// CAP_LAST_CAP (`/proc/sys/kernel/cap_last_cap`).
pub const LAST: u32 = Cap::CheckpointRestore as u32;

/// Every capability: root's sets, the bounding set.
pub const ALL: u64 = (1 << (LAST + 1)) - 1;

/// The capabilities that follow the filesystem uid (Linux's CAP_FS_MASK): dropped from the
/// effective set when fsuid leaves 0, raised again (if permitted) when it returns.
pub const FS_MASK: u64 = Cap::Chown.bit()
    | Cap::DacOverride.bit()
    | Cap::DacReadSearch.bit()
    | Cap::Fowner.bit()
    | Cap::Fsetid.bit()
    | Cap::LinuxImmutable.bit()
    | Cap::MacOverride.bit()
    | Cap::Mknod.bit();

impl Cap {
    pub const fn bit(self) -> u64 {
        1 << self as u32
    }
}
