//! The argument kinds of the trace and how each reads, as strace writes it.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt::Write;

use crate::error::Result;
use crate::mm::user::{copy_from_user, read_cstring, read_cstring_array};
use crate::syscall::Args;

/// How strace shows at most this many bytes of a buffer (then `...`).
const BUF_SHOWN: usize = 32;

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Arg {
    Int,
    UInt,
    Long,
    ULong,
    Hex,
    /// `NULL` or an address.
    Ptr,
    Fd,
    /// A directory fd: `AT_FDCWD` for -100.
    DirFd,
    /// A NUL-terminated string read before the call.
    Path,
    /// A buffer read before the call, its length in argument N.
    InBuf(usize),
    /// A buffer filled by the call, its length the return value.
    OutBuf,
    /// A string filled by the call (getcwd).
    OutStr,
    Octal,
    OpenFlags,
    /// The mode of open/openat, shown only with O_CREAT or O_TMPFILE in argument N.
    OpenMode(usize),
    /// O_CLOEXEC and O_NONBLOCK of pipe2, dup3, accept4 and the like.
    FdFlags,
    AtFlags,
    AccessMode,
    Whence,
    FcntlCmd,
    Prot,
    MapFlags,
    SockFamily,
    SockType,
    /// A socket address, its length in argument N.
    SockAddr(usize),
    /// Two fds filled by the call (pipe, socketpair).
    PipeFds,
    /// A wait status filled by the call.
    WaitStatus,
    /// A NULL-terminated array of strings (argv).
    StrArray,
    Sig,
    SigHow,
    IpcFlags,
}

impl Arg {
    fn is_output(self) -> bool {
        matches!(self, Arg::OutBuf | Arg::OutStr | Arg::PipeFds | Arg::WaitStatus)
    }
}

/// The arguments known before the call; outputs are left empty for [`outputs`].
pub fn inputs(kinds: &[Arg], a: &Args) -> Vec<String> {
    let mut parts = Vec::with_capacity(kinds.len());
    for (i, &kind) in kinds.iter().enumerate() {
        if kind.is_output() {
            parts.push(String::new());
        } else if let Arg::OpenMode(flags) = kind {
            if a.u(flags) & (O_CREAT | O_TMPFILE) != 0 {
                parts.push(octal(a.u(i) as u32));
            }
        } else {
            parts.push(input(kind, i, a));
        }
    }
    parts
}

/// Fills the outputs in: decoded after a success, the bare pointer after a failure.
pub fn outputs(kinds: &[Arg], a: &Args, result: &Result<i64>, parts: &mut [String]) {
    let mut p = 0;
    for (i, &kind) in kinds.iter().enumerate() {
        if let Arg::OpenMode(flags) = kind {
            if a.u(flags) & (O_CREAT | O_TMPFILE) == 0 {
                continue;
            }
        }
        if kind.is_output() {
            parts[p] = match result {
                Ok(ret) => output(kind, a.u(i), *ret),
                Err(_) => ptr(a.u(i)),
            };
        }
        p += 1;
    }
}

pub fn join(parts: &[String]) -> String {
    parts.join(", ")
}

/// `N`, `0x...` or `-1 ENAME`.
pub fn ret(out: &mut String, kind: super::table::Ret, result: &Result<i64>) {
    let _ = match result {
        Ok(v) if kind == super::table::Ret::Hex => write!(out, "{v:#x}"),
        Ok(v) => write!(out, "{v}"),
        Err(e) => write!(out, "-1 {e:?}"),
    };
}

fn input(kind: Arg, i: usize, a: &Args) -> String {
    let v = a.u(i);
    match kind {
        Arg::Int | Arg::Fd => (v as u32 as i32).to_string(),
        Arg::UInt => (v as u32).to_string(),
        Arg::Long => (v as i64).to_string(),
        Arg::ULong => v.to_string(),
        Arg::Hex if v == 0 => "0".to_string(),
        Arg::Hex => format!("{v:#x}"),
        Arg::Ptr => ptr(v),
        Arg::DirFd if v as u32 as i32 == -100 => "AT_FDCWD".to_string(),
        Arg::DirFd => (v as u32 as i32).to_string(),
        Arg::Path => match read_cstring(v, 4096) {
            Ok(s) => quoted(s.as_bytes(), false),
            Err(_) => ptr(v),
        },
        Arg::InBuf(len) => user_bytes(v, a.u(len) as usize),
        Arg::Octal => octal(v as u32),
        Arg::OpenFlags => open_flags(v as u32),
        Arg::FdFlags => flags(v, &[(O_NONBLOCK, "O_NONBLOCK"), (O_CLOEXEC, "O_CLOEXEC")]),
        Arg::AtFlags => flags(
            v,
            &[
                (0x100, "AT_SYMLINK_NOFOLLOW"),
                (0x200, "AT_REMOVEDIR"),
                (0x400, "AT_SYMLINK_FOLLOW"),
                (0x800, "AT_NO_AUTOMOUNT"),
                (0x1000, "AT_EMPTY_PATH"),
            ],
        ),
        Arg::AccessMode if v as u32 == 0 => "F_OK".to_string(),
        Arg::AccessMode => flags(v, &[(4, "R_OK"), (2, "W_OK"), (1, "X_OK")]),
        Arg::Whence => named(v, &["SEEK_SET", "SEEK_CUR", "SEEK_END", "SEEK_DATA", "SEEK_HOLE"]),
        Arg::FcntlCmd => match v as u32 {
            1030 => "F_DUPFD_CLOEXEC".to_string(),
            _ => named(
                v,
                &["F_DUPFD", "F_GETFD", "F_SETFD", "F_GETFL", "F_SETFL", "F_GETLK", "F_SETLK"],
            ),
        },
        Arg::Prot if v as u32 == 0 => "PROT_NONE".to_string(),
        Arg::Prot => flags(v, &[(1, "PROT_READ"), (2, "PROT_WRITE"), (4, "PROT_EXEC")]),
        Arg::MapFlags => {
            let kind = match v & 3 {
                1 => "MAP_SHARED",
                2 => "MAP_PRIVATE",
                3 => "MAP_SHARED_VALIDATE",
                _ => "0",
            };
            let rest = flags(
                v & !3,
                &[
                    (0x10, "MAP_FIXED"),
                    (0x20, "MAP_ANONYMOUS"),
                    (0x100, "MAP_GROWSDOWN"),
                    (0x2000, "MAP_LOCKED"),
                    (0x4000, "MAP_NORESERVE"),
                    (0x8000, "MAP_POPULATE"),
                    (0x20000, "MAP_STACK"),
                    (0x100000, "MAP_FIXED_NOREPLACE"),
                ],
            );
            if rest == "0" {
                kind.to_string()
            } else {
                format!("{kind}|{rest}")
            }
        }
        Arg::SockFamily => family(v),
        Arg::SockType => {
            let base = named(
                v & 0xf,
                &["0", "SOCK_STREAM", "SOCK_DGRAM", "SOCK_RAW", "SOCK_RDM", "SOCK_SEQPACKET"],
            );
            let rest =
                flags(v & !0xf, &[(O_CLOEXEC, "SOCK_CLOEXEC"), (O_NONBLOCK, "SOCK_NONBLOCK")]);
            if rest == "0" {
                base
            } else {
                format!("{base}|{rest}")
            }
        }
        Arg::SockAddr(len) => sockaddr(v, a.u(len) as usize),
        Arg::StrArray => match read_cstring_array(v, 64 * 1024) {
            Ok(list) => {
                let items: Vec<String> = list.iter().map(|s| quoted(s.as_bytes(), false)).collect();
                format!("[{}]", items.join(", "))
            }
            Err(_) => ptr(v),
        },
        Arg::Sig => signal(v as u32),
        Arg::SigHow => named(v, &["SIG_BLOCK", "SIG_UNBLOCK", "SIG_SETMASK"]),
        Arg::IpcFlags => {
            let mode = octal(v as u32 & 0o777);
            match flags(v & !0o777, &[(0o1000, "IPC_CREAT"), (0o2000, "IPC_EXCL")]).as_str() {
                "0" => mode,
                f => format!("{f}|{mode}"),
            }
        }
        Arg::OpenMode(_) | Arg::OutBuf | Arg::OutStr | Arg::PipeFds | Arg::WaitStatus => {
            String::new()
        }
    }
}

fn output(kind: Arg, addr: u64, ret: i64) -> String {
    match kind {
        Arg::OutBuf => user_bytes(addr, ret.max(0) as usize),
        Arg::OutStr => match read_cstring(addr, 4096) {
            Ok(s) => quoted(s.as_bytes(), false),
            Err(_) => ptr(addr),
        },
        Arg::PipeFds => {
            let mut fds = [0u8; 8];
            match copy_from_user(&mut fds, addr) {
                Ok(()) => format!(
                    "[{}, {}]",
                    i32::from_ne_bytes([fds[0], fds[1], fds[2], fds[3]]),
                    i32::from_ne_bytes([fds[4], fds[5], fds[6], fds[7]])
                ),
                Err(_) => ptr(addr),
            }
        }
        Arg::WaitStatus => {
            let mut s = [0u8; 4];
            if addr == 0 || ret == 0 || copy_from_user(&mut s, addr).is_err() {
                return ptr(addr);
            }
            let s = i32::from_ne_bytes(s);
            if s & 0x7f == 0 {
                format!("[{{WIFEXITED(s) && WEXITSTATUS(s) == {}}}]", (s >> 8) & 0xff)
            } else if s & 0xff == 0x7f {
                format!(
                    "[{{WIFSTOPPED(s) && WSTOPSIG(s) == {}}}]",
                    signal(((s >> 8) & 0xff) as u32)
                )
            } else {
                let core = if s & 0x80 != 0 { " && WCOREDUMP(s)" } else { "" };
                format!(
                    "[{{WIFSIGNALED(s) && WTERMSIG(s) == {}{core}}}]",
                    signal((s & 0x7f) as u32)
                )
            }
        }
        _ => String::new(),
    }
}

const O_NONBLOCK: u64 = 0o4000;
const O_CLOEXEC: u64 = 0o2000000;
const O_CREAT: u64 = 0o100;
const O_TMPFILE: u64 = 0o20000000 | 0o200000;

fn ptr(v: u64) -> String {
    if v == 0 {
        "NULL".to_string()
    } else {
        format!("{v:#x}")
    }
}

fn octal(v: u32) -> String {
    if v == 0 {
        "000".to_string()
    } else {
        format!("0{v:o}")
    }
}

/// `A|B|0x...` for the bits of `v`, `0` for none.
fn flags(v: u64, names: &[(u64, &str)]) -> String {
    let mut out = String::new();
    let mut rest = v;
    for &(bit, name) in names {
        if v & bit == bit && bit != 0 {
            if !out.is_empty() {
                out.push('|');
            }
            out.push_str(name);
            rest &= !bit;
        }
    }
    if rest != 0 || out.is_empty() {
        if !out.is_empty() {
            out.push('|');
        }
        let _ = write!(out, "{rest:#x}");
    }
    if out == "0x0" {
        out = "0".to_string();
    }
    out
}

/// `names[v]`, or `v` itself past the end.
fn named(v: u64, names: &[&str]) -> String {
    match names.get(v as usize) {
        Some(n) => n.to_string(),
        None => (v as u32 as i32).to_string(),
    }
}

fn open_flags(v: u32) -> String {
    let access = named(u64::from(v & 3), &["O_RDONLY", "O_WRONLY", "O_RDWR", "O_ACCMODE"]);
    // O_TMPFILE includes O_DIRECTORY: name it whole, before O_DIRECTORY could take its bit.
    let rest = flags(
        u64::from(v & !3),
        &[
            (0o100, "O_CREAT"),
            (0o200, "O_EXCL"),
            (0o400, "O_NOCTTY"),
            (0o1000, "O_TRUNC"),
            (0o2000, "O_APPEND"),
            (O_NONBLOCK, "O_NONBLOCK"),
            (0o10000, "O_DSYNC"),
            (0o40000, "O_DIRECT"),
            (0o100000, "O_LARGEFILE"),
            (O_TMPFILE, "O_TMPFILE"),
            (0o200000, "O_DIRECTORY"),
            (0o400000, "O_NOFOLLOW"),
            (0o1000000, "O_NOATIME"),
            (O_CLOEXEC, "O_CLOEXEC"),
            (0o10000000, "O_PATH"),
        ],
    );
    if rest == "0" {
        access
    } else {
        format!("{access}|{rest}")
    }
}

fn family(v: u64) -> String {
    match v {
        0 => "AF_UNSPEC",
        1 => "AF_UNIX",
        2 => "AF_INET",
        10 => "AF_INET6",
        16 => "AF_NETLINK",
        17 => "AF_PACKET",
        _ => return v.to_string(),
    }
    .to_string()
}

const SIGNALS: [&str; 32] = [
    "0",
    "SIGHUP",
    "SIGINT",
    "SIGQUIT",
    "SIGILL",
    "SIGTRAP",
    "SIGABRT",
    "SIGBUS",
    "SIGFPE",
    "SIGKILL",
    "SIGUSR1",
    "SIGSEGV",
    "SIGUSR2",
    "SIGPIPE",
    "SIGALRM",
    "SIGTERM",
    "SIGSTKFLT",
    "SIGCHLD",
    "SIGCONT",
    "SIGSTOP",
    "SIGTSTP",
    "SIGTTIN",
    "SIGTTOU",
    "SIGURG",
    "SIGXCPU",
    "SIGXFSZ",
    "SIGVTALRM",
    "SIGPROF",
    "SIGWINCH",
    "SIGIO",
    "SIGPWR",
    "SIGSYS",
];

fn signal(sig: u32) -> String {
    match sig {
        0..=31 => SIGNALS[sig as usize].to_string(),
        34 => "SIGRTMIN".to_string(),
        35..=64 => format!("SIGRT_{}", sig - 34),
        _ => sig.to_string(),
    }
}

/// At most `BUF_SHOWN` bytes of user memory, quoted.
fn user_bytes(addr: u64, len: usize) -> String {
    let shown = len.min(BUF_SHOWN);
    let mut buf = [0u8; BUF_SHOWN];
    match copy_from_user(&mut buf[..shown], addr) {
        Ok(()) => quoted(&buf[..shown], len > shown),
        Err(_) => ptr(addr),
    }
}

/// `"..."` with C escapes, as strace; `...` after if `more` data was not shown.
fn quoted(shown: &[u8], more: bool) -> String {
    let mut out = String::with_capacity(shown.len() + 2);
    out.push('"');
    for (i, &b) in shown.iter().enumerate() {
        match b {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\t' => out.push_str("\\t"),
            b'\r' => out.push_str("\\r"),
            0x0b => out.push_str("\\v"),
            0x0c => out.push_str("\\f"),
            0x20..=0x7e => out.push(b as char),
            _ => {
                // strace's shortest octal, padded when a digit follows.
                let next_is_digit = shown.get(i + 1).is_some_and(|c| c.is_ascii_digit());
                let _ =
                    if next_is_digit { write!(out, "\\{b:03o}") } else { write!(out, "\\{b:o}") };
            }
        }
    }
    out.push('"');
    if more {
        out.push_str("...");
    }
    out
}

fn sockaddr(addr: u64, len: usize) -> String {
    if addr == 0 {
        return "NULL".to_string();
    }
    let mut raw = [0u8; 128];
    let n = len.min(raw.len());
    if n < 2 || copy_from_user(&mut raw[..n], addr).is_err() {
        return ptr(addr);
    }
    let raw = &raw[..n];
    let fam = u16::from_ne_bytes([raw[0], raw[1]]);
    match fam {
        1 => {
            let path = &raw[2..];
            if path.first() == Some(&0) && path.len() > 1 {
                format!("{{sa_family=AF_UNIX, sun_path=@{}}}", quoted(&path[1..], false))
            } else {
                let end = path.iter().position(|&b| b == 0).unwrap_or(path.len());
                format!("{{sa_family=AF_UNIX, sun_path={}}}", quoted(&path[..end], false))
            }
        }
        2 if n >= 8 => format!(
            "{{sa_family=AF_INET, sin_port=htons({}), sin_addr=inet_addr(\"{}.{}.{}.{}\")}}",
            u16::from_be_bytes([raw[2], raw[3]]),
            raw[4],
            raw[5],
            raw[6],
            raw[7]
        ),
        10 if n >= 24 => {
            let mut text = String::new();
            for (i, pair) in raw[8..24].chunks(2).enumerate() {
                let _ = write!(
                    text,
                    "{}{:x}",
                    if i > 0 { ":" } else { "" },
                    u16::from_be_bytes([pair[0], pair[1]])
                );
            }
            format!(
                "{{sa_family=AF_INET6, sin6_port=htons({}), sin6_addr=\"{text}\"}}",
                u16::from_be_bytes([raw[2], raw[3]])
            )
        }
        f => format!("{{sa_family={}}}", family(u64::from(f))),
    }
}
