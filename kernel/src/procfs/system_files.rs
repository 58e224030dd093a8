//! The contents of the global files: meminfo, uptime, loadavg, stat, mounts, version,
//! filesystems and /proc/sys/*, in Linux's formats. cpuinfo has its own file.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;

use crate::arch::time::{monotonic_ns, realtime_ns};
use crate::error::{Errno, Result};
use crate::mm::frame;
use crate::process;
use crate::task::thread::State;

pub use super::cpuinfo::cpuinfo;

/// What uname reports (syscall/misc.rs); procfs does not reach into the syscall layer.
const HOSTNAME: &str = "posix-x";
const OSTYPE: &str = "Linux";
const OSRELEASE: &str = "6.1.0-posix-x";
const UTS_VERSION: &str = "#1 POSIX-X";

const NS_PER_TICK: u64 = 10_000_000;

fn text(s: String) -> Result<Vec<u8>> {
    Ok(s.into_bytes())
}

/// Hundredths of a second as "%lu.%02lu".
fn centis(ns: u64) -> String {
    let c = ns / 10_000_000;
    format!("{}.{:02}", c / 100, c % 100)
}

/// Idle time summed over the CPUs that run (Linux's second field of /proc/uptime).
fn idle_ns() -> u64 {
    let cpus = crate::task::scheduler::online_mask();
    (0..64).filter(|c| cpus & (1 << c) != 0).map(|c| crate::task::scheduler::cpu_times(c).1).sum()
}

pub fn meminfo() -> Result<Vec<u8>> {
    let kb = |frames: usize| frames as u64 * (frame::PAGE_SIZE / 1024);
    let total = kb(frame::total_frames());
    let free = kb(frame::free_frames());
    let mut anon = 0u64;
    for p in process::all() {
        if let Some(vm) = p.vm.lock().clone() {
            anon += vm.lock().resident_pages() as u64 * (frame::PAGE_SIZE / 1024);
        }
    }
    let anon = anon.min(total - free.min(total));
    // The kernel heap is carved out of RAM at boot, so MemFree never sees it: its use shows as
    // Slab (all of it unreclaimable), which is what Linux's slab allocators are.
    let slab = crate::mm::heap::stats().0 as u64 / 1024;
    let lines: &[(&str, u64)] = &[
        ("MemTotal", total),
        ("MemFree", free),
        ("MemAvailable", free),
        ("Buffers", 0),
        ("Cached", 0),
        ("SwapCached", 0),
        ("Active", anon),
        ("Inactive", 0),
        ("Active(anon)", anon),
        ("Inactive(anon)", 0),
        ("Active(file)", 0),
        ("Inactive(file)", 0),
        ("Unevictable", 0),
        ("Mlocked", 0),
        ("SwapTotal", 0),
        ("SwapFree", 0),
        ("Dirty", 0),
        ("Writeback", 0),
        ("AnonPages", anon),
        ("Mapped", 0),
        ("Shmem", 0),
        ("KReclaimable", 0),
        ("Slab", slab),
        ("SReclaimable", 0),
        ("SUnreclaim", slab),
        ("KernelStack", 0),
        ("PageTables", 0),
        ("NFS_Unstable", 0),
        ("Bounce", 0),
        ("WritebackTmp", 0),
        ("CommitLimit", total / 2),
        ("Committed_AS", anon),
        ("VmallocTotal", 34359738367),
        ("VmallocUsed", 0),
        ("VmallocChunk", 0),
        ("Percpu", 0),
    ];
    let mut s = String::new();
    for (key, value) in lines {
        // "%-16s%8lu kB": the key with its colon, left-aligned in 16 columns.
        let _ = writeln!(s, "{:<16}{:>8} kB", format!("{}:", key), value);
    }
    let _ = writeln!(s, "HardwareCorrupted: {:>5} kB", 0);
    for (key, value) in [
        ("AnonHugePages", 0),
        ("ShmemHugePages", 0),
        ("ShmemPmdMapped", 0),
        ("FileHugePages", 0),
        ("FilePmdMapped", 0),
    ] {
        let _ = writeln!(s, "{:<16}{:>8} kB", format!("{}:", key), value);
    }
    for key in ["HugePages_Total", "HugePages_Free", "HugePages_Rsvd", "HugePages_Surp"] {
        let _ = writeln!(s, "{:<16}{:>8}", format!("{}:", key), 0);
    }
    for (key, value) in
        [("Hugepagesize", 2048), ("Hugetlb", 0), ("DirectMap4k", 0), ("DirectMap2M", total)]
    {
        let _ = writeln!(s, "{:<16}{:>8} kB", format!("{}:", key), value);
    }
    text(s)
}

pub fn uptime() -> Result<Vec<u8>> {
    let up = monotonic_ns();
    text(format!("{} {}\n", centis(up), centis(idle_ns())))
}

pub fn loadavg() -> Result<Vec<u8>> {
    let procs = process::all();
    let running = procs
        .iter()
        .filter_map(|p| p.main_thread())
        .filter(|t| matches!(t.state(), State::Running | State::Runnable))
        .count();
    let last_pid = procs.iter().map(|p| p.pid).max().unwrap_or(0);
    text(format!("0.00 0.00 0.00 {}/{} {}\n", running, procs.len(), last_pid))
}

pub fn stat() -> Result<Vec<u8>> {
    let procs = process::all();
    let ticks = |ns: u64| ns / NS_PER_TICK;
    // Per CPU: the time in its idle thread is idle, the rest of its time since it started is
    // busy (shown as user time: the kernel does not split it by mode per CPU).
    let cpus = crate::task::scheduler::online_mask();
    let per_cpu: Vec<(usize, u64, u64)> = (0..64)
        .filter(|c| cpus & (1 << c) != 0)
        .map(|c| {
            let (busy, idle) = crate::task::scheduler::cpu_times(c);
            (c, ticks(busy), ticks(idle))
        })
        .collect();
    let user: u64 = per_cpu.iter().map(|p| p.1).sum();
    let idle: u64 = per_cpu.iter().map(|p| p.2).sum();
    let running = procs
        .iter()
        .filter_map(|p| p.main_thread())
        .filter(|t| matches!(t.state(), State::Running | State::Runnable))
        .count();
    let blocked = 0;
    let boot_s = (realtime_ns() - monotonic_ns() as i64) / 1_000_000_000;
    let forks = procs.iter().map(|p| p.pid).max().unwrap_or(0);
    let mut s = String::new();
    let _ = writeln!(s, "cpu  {} 0 0 {} 0 0 0 0 0 0", user, idle);
    for (c, user, idle) in per_cpu {
        let _ = writeln!(s, "cpu{} {} 0 0 {} 0 0 0 0 0 0", c, user, idle);
    }
    let _ = writeln!(s, "intr 0\nctxt 0\nbtime {}\nprocesses {}", boot_s, forks);
    let _ = writeln!(s, "procs_running {}\nprocs_blocked {}", running.max(1), blocked);
    s.push_str("softirq 0 0 0 0 0 0 0 0 0 0 0\n");
    text(s)
}

/// Escapes what would break the space-separated fields of a mounts line (as Linux's mangle()).
fn mangle(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        match c {
            ' ' | '\t' | '\n' | '\\' => {
                let _ = write!(out, "\\{:03o}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

pub fn mounts() -> Result<Vec<u8>> {
    let mut s = String::from("rootfs / rootfs rw 0 0\n");
    for (source, path, fs_type) in crate::fs::mount::list() {
        let _ = writeln!(s, "{} {} {} rw,relatime 0 0", mangle(&source), mangle(&path), fs_type);
    }
    text(s)
}

/// /proc/mounts is a link to the caller's own view, as on Linux.
pub fn mounts_link() -> Result<String> {
    Ok(String::from("self/mounts"))
}

pub fn version() -> Result<Vec<u8>> {
    text(format!("{} version {} (posix-x@posix-x) (rustc) {}\n", OSTYPE, OSRELEASE, UTS_VERSION))
}

/// Every file lock, in Linux's format: `1: POSIX  ADVISORY  WRITE 42 00:05:17 0 EOF`.
pub fn locks() -> Result<Vec<u8>> {
    use crate::fs::lock::{self, LockClass};
    use ipc_rules::file_lock::{LockKind, OFFSET_MAX};
    let mut out = String::new();
    for (i, l) in lock::snapshot().iter().enumerate() {
        let class = match l.class {
            LockClass::Posix => "POSIX  ADVISORY ",
            LockClass::OpenFile => "OFDLCK ADVISORY ",
            LockClass::Flock => "FLOCK  ADVISORY ",
        };
        let kind = if l.kind == LockKind::Write { "WRITE" } else { "READ" };
        let (major, minor) = super::process_files::major_minor(l.dev);
        let end = if l.range.end == OFFSET_MAX {
            String::from("EOF")
        } else {
            format!("{}", l.range.end)
        };
        let _ = writeln!(
            out,
            "{}: {} {} {} {:02x}:{:02x}:{} {} {}",
            i + 1,
            class,
            kind,
            l.pid,
            major,
            minor,
            l.ino,
            l.range.start,
            end
        );
    }
    text(out)
}

/// The file system types `mount -t` knows (registered in fs::init and procfs::init).
pub fn filesystems() -> Result<Vec<u8>> {
    text(String::from("nodev\ttmpfs\nnodev\tdevtmpfs\nnodev\tproc\nnodev\tmqueue\n"))
}

pub fn hostname() -> Result<Vec<u8>> {
    text(format!("{}\n", HOSTNAME))
}

/// /proc/sys/kernel/domainname: the NIS domain uname reports.
pub fn domainname() -> Result<Vec<u8>> {
    text(String::from("(none)\n"))
}

/// /proc/sys/kernel/cap_last_cap: the highest capability number (libcap reads it).
pub fn cap_last_cap() -> Result<Vec<u8>> {
    text(format!("{}\n", crate::cap::LAST))
}

/// /proc/sys/kernel/dmesg_restrict: syslog(2) needs CAP_SYSLOG for every action.
pub fn dmesg_restrict() -> Result<Vec<u8>> {
    text(String::from("1\n"))
}

/// /proc/sys/kernel/tainted: nothing taints this kernel.
pub fn tainted() -> Result<Vec<u8>> {
    text(String::from("0\n"))
}

pub fn ostype() -> Result<Vec<u8>> {
    text(format!("{}\n", OSTYPE))
}

pub fn osrelease() -> Result<Vec<u8>> {
    text(format!("{}\n", OSRELEASE))
}

pub fn pid_max() -> Result<Vec<u8>> {
    text(String::from("32768\n"))
}

pub fn pipe_max_size() -> Result<Vec<u8>> {
    text(format!("{}\n", crate::fs::pipe::PIPE_MAX_SIZE))
}

/// /proc/sys/fs/file-max and file-nr (allocated, always 0 free, maximum).
pub fn file_max() -> Result<Vec<u8>> {
    text(format!("{}\n", crate::fs::file::file_max()))
}

pub fn file_nr() -> Result<Vec<u8>> {
    let (n, max) = (crate::fs::file::open_files(), crate::fs::file::file_max());
    text(format!("{}\t0\t{}\n", n, max))
}

pub fn nr_open() -> Result<Vec<u8>> {
    text(String::from("1048576\n"))
}

/// /proc/sys/fs/mqueue/*: the POSIX message queue limits.
pub fn mq_msg_default() -> Result<Vec<u8>> {
    text(format!("{}\n", crate::ipc::mqueue::limits().msg_default))
}

pub fn mq_msg_max() -> Result<Vec<u8>> {
    text(format!("{}\n", crate::ipc::mqueue::limits().msg_max))
}

pub fn mq_msgsize_default() -> Result<Vec<u8>> {
    text(format!("{}\n", crate::ipc::mqueue::limits().msgsize_default))
}

pub fn mq_msgsize_max() -> Result<Vec<u8>> {
    text(format!("{}\n", crate::ipc::mqueue::limits().msgsize_max))
}

pub fn mq_queues_max() -> Result<Vec<u8>> {
    text(format!("{}\n", crate::ipc::mqueue::limits().queues_max))
}

/// A sysctl integer as Linux's proc_dointvec parses it: optional blanks, a decimal number,
/// optional blanks and newline; EINVAL otherwise.
fn parse_sysctl_int(bytes: &[u8]) -> Result<i64> {
    let s = core::str::from_utf8(bytes).map_err(|_| Errno::EINVAL)?;
    s.trim().parse::<i64>().map_err(|_| Errno::EINVAL)
}

/// /proc/sys/vm/max_map_count: the most mappings a process may have.
pub fn max_map_count() -> Result<Vec<u8>> {
    text(format!("{}\n", crate::mm::vm::max_map_count()))
}

pub fn set_max_map_count(bytes: &[u8]) -> Result<()> {
    let n = parse_sysctl_int(bytes)?;
    if !(0..=i32::MAX as i64).contains(&n) {
        return Err(Errno::EINVAL);
    }
    crate::mm::vm::set_max_map_count(n as usize);
    Ok(())
}

/// /proc/sys/net/core/{r,w}mem_{default,max}: socket buffer defaults and limits.
fn buf_sysctl(v: &core::sync::atomic::AtomicUsize) -> Result<Vec<u8>> {
    text(format!("{}\n", v.load(core::sync::atomic::Ordering::Relaxed)))
}

/// Linux's proc_dointvec_minmax with min_rcvbuf/min_sndbuf: EINVAL below the minimum.
fn set_buf_sysctl(v: &core::sync::atomic::AtomicUsize, bytes: &[u8], min: usize) -> Result<()> {
    let n = parse_sysctl_int(bytes)?;
    if n < min as i64 || n > i32::MAX as i64 {
        return Err(Errno::EINVAL);
    }
    v.store(n as usize, core::sync::atomic::Ordering::Relaxed);
    Ok(())
}

pub fn rmem_default() -> Result<Vec<u8>> {
    buf_sysctl(&crate::net::options::RMEM_DEFAULT)
}
pub fn set_rmem_default(b: &[u8]) -> Result<()> {
    set_buf_sysctl(&crate::net::options::RMEM_DEFAULT, b, crate::net::options::MIN_RCVBUF)
}
pub fn wmem_default() -> Result<Vec<u8>> {
    buf_sysctl(&crate::net::options::WMEM_DEFAULT)
}
pub fn set_wmem_default(b: &[u8]) -> Result<()> {
    set_buf_sysctl(&crate::net::options::WMEM_DEFAULT, b, crate::net::options::MIN_SNDBUF)
}
pub fn rmem_max() -> Result<Vec<u8>> {
    buf_sysctl(&crate::net::options::RMEM_MAX)
}
pub fn set_rmem_max(b: &[u8]) -> Result<()> {
    set_buf_sysctl(&crate::net::options::RMEM_MAX, b, crate::net::options::MIN_RCVBUF)
}
pub fn wmem_max() -> Result<Vec<u8>> {
    buf_sysctl(&crate::net::options::WMEM_MAX)
}
pub fn set_wmem_max(b: &[u8]) -> Result<()> {
    set_buf_sysctl(&crate::net::options::WMEM_MAX, b, crate::net::options::MIN_SNDBUF)
}

/// /proc/sys/net/core/somaxconn: the most a listen() backlog may be (proc_dointvec_minmax,
/// 0 to INT_MAX).
pub fn somaxconn() -> Result<Vec<u8>> {
    buf_sysctl(&crate::net::options::SOMAXCONN)
}
pub fn set_somaxconn(b: &[u8]) -> Result<()> {
    set_buf_sysctl(&crate::net::options::SOMAXCONN, b, 0)
}

/// /proc/sys/net/ipv4/tcp_rmem and tcp_wmem: min, default, max of a TCP socket's buffers
/// (read only here: the defaults are what a new TCP socket reports).
pub fn tcp_rmem() -> Result<Vec<u8>> {
    text(String::from("4096\t131072\t6291456\n"))
}
pub fn tcp_wmem() -> Result<Vec<u8>> {
    text(String::from("4096\t16384\t4194304\n"))
}

/// /proc/sys/kernel/threads-max: the most processes the system may have.
pub fn threads_max() -> Result<Vec<u8>> {
    text(format!("{}\n", crate::process::threads_max()))
}

pub fn set_threads_max(bytes: &[u8]) -> Result<()> {
    let n = parse_sysctl_int(bytes)?;
    crate::process::set_threads_max(u64::try_from(n).map_err(|_| Errno::EINVAL)?)
}

/// System V limits (Linux's defaults, which its kernel.* sysctls start at; fixed here).
pub fn shmmax() -> Result<Vec<u8>> {
    text(format!("{}\n", crate::ipc::sysv::limits::SHMMAX))
}
pub fn shmall() -> Result<Vec<u8>> {
    text(format!("{}\n", crate::ipc::sysv::limits::SHMALL))
}
pub fn shmmni() -> Result<Vec<u8>> {
    text(format!("{}\n", crate::ipc::sysv::limits::SHMMNI))
}
pub fn msgmax() -> Result<Vec<u8>> {
    text(format!("{}\n", crate::ipc::sysv::limits::MSGMAX))
}
pub fn msgmnb() -> Result<Vec<u8>> {
    text(format!("{}\n", crate::ipc::sysv::limits::MSGMNB))
}
pub fn msgmni() -> Result<Vec<u8>> {
    text(format!("{}\n", crate::ipc::sysv::limits::MSGMNI))
}
/// kernel.sem: SEMMSL, SEMMNS, SEMOPM, SEMMNI, tab-separated as Linux prints them.
pub fn sem() -> Result<Vec<u8>> {
    use crate::ipc::sysv::limits::{SEMMNI, SEMMNS, SEMMSL, SEMOPM};
    text(format!("{}\t{}\t{}\t{}\n", SEMMSL, SEMMNS, SEMOPM, SEMMNI))
}

/// kernel.ngroups_max: Linux's NGROUPS_MAX.
pub fn ngroups_max() -> Result<Vec<u8>> {
    text(String::from("65536\n"))
}

/// A random (version 4) UUID in its text form, as Linux's proc_do_uuid.
fn uuid_text(mut b: [u8; 16]) -> String {
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let mut s = String::new();
    for (i, byte) in b.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            s.push('-');
        }
        s.push_str(&format!("{:02x}", byte));
    }
    s.push('\n');
    s
}

/// kernel.random.boot_id: one UUID for the whole boot.
pub fn boot_id() -> Result<Vec<u8>> {
    static BOOT_ID: spin::Once<[u8; 16]> = spin::Once::new();
    text(uuid_text(*BOOT_ID.call_once(crate::random::bytes16)))
}

/// kernel.random.uuid: a new UUID on every read.
pub fn uuid() -> Result<Vec<u8>> {
    text(uuid_text(crate::random::bytes16()))
}

/// fs.pipe-user-pages-soft and -hard: Linux's defaults (per-user pipe pages are not charged).
pub fn pipe_user_pages_soft() -> Result<Vec<u8>> {
    text(String::from("16384\n"))
}
pub fn pipe_user_pages_hard() -> Result<Vec<u8>> {
    text(String::from("0\n"))
}

/// vm.overcommit_memory: 0, the heuristic mode the kernel follows (docs/ARCHITECTURE.md).
pub fn overcommit_memory() -> Result<Vec<u8>> {
    text(String::from("0\n"))
}
pub fn overcommit_ratio() -> Result<Vec<u8>> {
    text(String::from("50\n"))
}

/// net.ipv4.ip_local_port_range: Linux's default ephemeral range.
pub fn ip_local_port_range() -> Result<Vec<u8>> {
    text(String::from("32768\t60999\n"))
}

/// fs.inotify.*: writable by root, obeyed by the next inotify_init1/add_watch/event (Linux's
/// proc_dointvec_minmax with a minimum of 0).
fn inotify_limit(v: &core::sync::atomic::AtomicUsize) -> Result<Vec<u8>> {
    text(format!("{}\n", v.load(core::sync::atomic::Ordering::Relaxed)))
}

fn set_inotify_limit(v: &core::sync::atomic::AtomicUsize, bytes: &[u8]) -> Result<()> {
    let n = parse_sysctl_int(bytes)?;
    if !(0..=i32::MAX as i64).contains(&n) {
        return Err(Errno::EINVAL);
    }
    v.store(n as usize, core::sync::atomic::Ordering::Relaxed);
    Ok(())
}

pub fn inotify_max_queued_events() -> Result<Vec<u8>> {
    inotify_limit(&crate::fs::inotify::MAX_QUEUED_EVENTS)
}
pub fn set_inotify_max_queued_events(b: &[u8]) -> Result<()> {
    set_inotify_limit(&crate::fs::inotify::MAX_QUEUED_EVENTS, b)
}
pub fn inotify_max_user_instances() -> Result<Vec<u8>> {
    inotify_limit(&crate::fs::inotify::MAX_USER_INSTANCES)
}
pub fn set_inotify_max_user_instances(b: &[u8]) -> Result<()> {
    set_inotify_limit(&crate::fs::inotify::MAX_USER_INSTANCES, b)
}
pub fn inotify_max_user_watches() -> Result<Vec<u8>> {
    inotify_limit(&crate::fs::inotify::MAX_USER_WATCHES)
}
pub fn set_inotify_max_user_watches(b: &[u8]) -> Result<()> {
    set_inotify_limit(&crate::fs::inotify::MAX_USER_WATCHES, b)
}
