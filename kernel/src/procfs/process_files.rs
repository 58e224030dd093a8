//! The contents of /proc/<pid>/*: stat, status, statm, cmdline, comm, environ, maps, mounts and
//! the targets of exe and cwd, in Linux's formats (fs/proc/array.c, task_mmu.c).

use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt::Write;

use crate::error::{Errno, Result};
use crate::fs::path::{self, Walk};
use crate::mm::frame::PAGE_SIZE;
use crate::mm::vm::{AddressSpace, Backing, Prot, VmaName};
use crate::process::{self, Process};
use crate::sync::Mutex;
use crate::task::thread::State;
use crate::task::Thread;

/// Clock ticks per second in stat (USER_HZ).
const HZ: u64 = 100;
const NS_PER_TICK: u64 = 1_000_000_000 / HZ;
const SIGCHLD: u32 = 17;
/// PF_RANDOMIZE, and PF_EXITING for a zombie.
const PF_RANDOMIZE: u64 = 0x0040_0000;
const PF_EXITING: u64 = 0x4;

/// The address space of a live process (None once it exited).
fn address_space(p: &Process) -> Option<Arc<Mutex<AddressSpace>>> {
    p.vm.lock().clone()
}

/// Whose view a file shows: the process (its leader, /proc/PID/...) or one of its threads
/// (/proc/PID/task/TID/...).
fn thread_of(p: &Process, t: Option<&Arc<Thread>>) -> Option<Arc<Thread>> {
    t.cloned().or_else(|| p.main_thread())
}

/// The one-letter state and its word, as stat and status show them.
fn state(p: &Process, t: Option<&Arc<Thread>>) -> (char, &'static str) {
    if p.is_zombie() {
        return ('Z', "zombie");
    }
    if p.signals.stopped.load(core::sync::atomic::Ordering::Relaxed) {
        return ('T', "stopped");
    }
    match thread_of(p, t).map(|t| t.state()) {
        Some(State::Sleeping) => ('S', "sleeping"),
        Some(State::Dead) => ('X', "dead"),
        _ => ('R', "running"),
    }
}

/// Sizes of a process's memory, from its mappings.
#[derive(Default)]
struct Memory {
    /// Bytes.
    size: u64,
    data: u64,
    stack: u64,
    text: u64,
    shared_file: u64,
    /// Pages.
    resident: u64,
    start_code: u64,
    end_code: u64,
    start_data: u64,
    end_data: u64,
    start_brk: u64,
    start_stack: u64,
}

fn memory(p: &Process) -> Option<Memory> {
    let space = address_space(p)?;
    let vm = space.lock();
    let mut m = Memory {
        resident: vm.resident_pages() as u64,
        start_brk: vm.brk_start,
        ..Memory::default()
    };
    for v in vm.vmas() {
        let len = v.end - v.start;
        m.size += len;
        if v.name == VmaName::Stack {
            m.stack += len;
            m.start_stack = v.end;
        } else if v.prot.contains(Prot::EXEC) && !v.prot.contains(Prot::WRITE) {
            m.text += len;
            if m.start_code == 0 {
                (m.start_code, m.end_code) = (v.start, v.end);
            }
        } else if v.prot.contains(Prot::WRITE) && !v.is_shared() {
            m.data += len;
            if v.file.is_some() && m.start_data == 0 {
                (m.start_data, m.end_data) = (v.start, v.end);
            }
        }
        if v.is_shared() && v.file.is_some() {
            m.shared_file += len;
        }
    }
    Some(m)
}

/// CPU time in ticks: the thread's, or for the process the sum over its live threads.
fn cpu_ticks(p: &Process, t: Option<&Arc<Thread>>) -> u64 {
    let ns = match t {
        Some(t) => t.cpu_time_ns(),
        None => {
            let mut sum = 0;
            p.for_each_thread(|t| sum += t.cpu_time_ns());
            sum
        }
    };
    ns / NS_PER_TICK
}

/// (pending, blocked) signal masks of the thread shown.
fn signal_masks(p: &Process, t: Option<&Arc<Thread>>) -> (u64, u64) {
    use core::sync::atomic::Ordering::Relaxed;
    thread_of(p, t)
        .map(|t| (t.sig_pending.load(Relaxed), t.sig_blocked.load(Relaxed)))
        .unwrap_or((0, 0))
}

/// The name shown: the thread's, or the leader's for the process.
fn name_of(p: &Process, t: Option<&Arc<Thread>>) -> String {
    match t {
        Some(t) => process::thread_comm(p, t),
        None => process::comm_of(p),
    }
}

pub fn cmdline(p: &Arc<Process>) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    if p.is_zombie() {
        return Ok(out);
    }
    for arg in p.cmdline.lock().iter() {
        out.extend_from_slice(arg.as_bytes());
        out.push(0);
    }
    Ok(out)
}

pub fn comm(p: &Arc<Process>) -> Result<Vec<u8>> {
    thread_comm(p, None)
}

pub fn thread_comm(p: &Arc<Process>, t: Option<&Arc<Thread>>) -> Result<Vec<u8>> {
    let mut s = name_of(p, t);
    s.push('\n');
    Ok(s.into_bytes())
}

/// A write to .../comm (pthread_setname_np for another thread): allowed within the thread
/// group only (Linux's comm_write: EINVAL otherwise); the name is cut at 15 bytes and at the
/// first newline.
pub fn set_comm(p: &Arc<Process>, t: Option<&Arc<Thread>>, bytes: &[u8]) -> Result<()> {
    let caller = process::current();
    if !Arc::ptr_eq(&caller, p) {
        return Err(Errno::EINVAL);
    }
    let end = bytes.iter().position(|&b| b == b'\n' || b == 0).unwrap_or(bytes.len()).min(15);
    let name = String::from_utf8_lossy(&bytes[..end]).into_owned();
    let Some(t) = thread_of(p, t) else { return Err(Errno::ESRCH) };
    if t.tid() == p.pid {
        *p.comm.lock() = Some(name.clone());
    }
    *t.comm.lock() = Some(name);
    Ok(())
}

pub fn environ(_p: &Arc<Process>) -> Result<Vec<u8>> {
    Ok(Vec::new())
}

/// The executable's path with symbolic links resolved, as Linux records the opened file.
pub fn exe(p: &Arc<Process>) -> Result<String> {
    if p.is_zombie() {
        return Err(Errno::ENOENT);
    }
    let exe = p.exe.lock().clone();
    if exe.is_empty() {
        return Err(Errno::ENOENT);
    }
    Ok(path::resolve(&Walk::root(), &exe, true).map(|w| w.path()).unwrap_or(exe))
}

pub fn cwd(p: &Arc<Process>) -> Result<String> {
    if p.is_zombie() {
        return Err(Errno::ENOENT);
    }
    let cwd = p.fs().lock().cwd.path();
    Ok(cwd)
}

pub fn mounts(_p: &Arc<Process>) -> Result<Vec<u8>> {
    super::system_files::mounts()
}

/// (major, minor) of a device number in the user-space encoding.
pub(super) fn major_minor(dev: u64) -> (u64, u64) {
    (((dev >> 8) & 0xfff) | ((dev >> 32) & !0xfff), (dev & 0xff) | ((dev >> 12) & !0xff))
}

/// One line of maps.
struct MapLine {
    start: u64,
    end: u64,
    prot: Prot,
    shared: bool,
    offset: u64,
    dev: u64,
    ino: u64,
    name: Option<String>,
    /// Private anonymous memory: adjacent lines of it with equal attributes are one mapping on
    /// Linux (brk growth, for instance, extends the heap VMA), so they are shown merged.
    anonymous: bool,
}

pub fn maps(p: &Arc<Process>) -> Result<Vec<u8>> {
    let Some(space) = address_space(p) else { return Ok(Vec::new()) };
    let mut lines: Vec<MapLine> = Vec::new();
    for v in space.lock().vmas() {
        let (dev, ino, name) = match (&v.file, v.name) {
            (Some((dev, ino, path)), _) => (*dev, *ino, Some(path.clone())),
            (None, VmaName::Heap) => (0, 0, Some(String::from("[heap]"))),
            (None, VmaName::Stack) => (0, 0, Some(String::from("[stack]"))),
            (None, VmaName::None) if v.is_shared() => {
                (0, 0, Some(String::from("/dev/zero (deleted)")))
            }
            (None, VmaName::None) => (0, 0, None),
        };
        let anonymous = matches!(v.backing, Backing::Anonymous) && v.file.is_none();
        if let Some(last) = lines.last_mut() {
            if anonymous
                && last.anonymous
                && last.end == v.start
                && last.prot == v.prot
                && last.name == name
            {
                last.end = v.end;
                continue;
            }
        }
        // A process may have vm.max_map_count mappings: the text is built fallibly.
        crate::fs::kmem::grow(&mut lines, 1)?;
        let line = MapLine {
            start: v.start,
            end: v.end,
            prot: v.prot,
            shared: v.is_shared(),
            offset: v.pgoff() * PAGE_SIZE,
            dev,
            ino,
            name,
            anonymous,
        };
        lines.push(line);
    }
    let mut out = String::new();
    for l in lines {
        let flag = |on: bool, c: char| if on { c } else { '-' };
        let (major, minor) = major_minor(l.dev);
        let room = 128 + l.name.as_ref().map_or(0, |n| n.len());
        crate::fs::kmem::reserve(room)?;
        out.try_reserve(room).map_err(|_| Errno::ENOMEM)?;
        let start = out.len();
        let _ = write!(
            out,
            "{:08x}-{:08x} {}{}{}{} {:08x} {:02x}:{:02x} {} ",
            l.start,
            l.end,
            flag(l.prot.contains(Prot::READ), 'r'),
            flag(l.prot.contains(Prot::WRITE), 'w'),
            flag(l.prot.contains(Prot::EXEC), 'x'),
            if l.shared { 's' } else { 'p' },
            l.offset,
            major,
            minor,
            l.ino
        );
        if let Some(name) = l.name {
            // seq_pad: the name starts in column 73.
            while out.len() - start < 72 {
                out.push(' ');
            }
            out.push(' ');
            out.push_str(&name);
        }
        out.push('\n');
    }
    Ok(out.into_bytes())
}

pub fn stat(p: &Arc<Process>) -> Result<Vec<u8>> {
    thread_stat(p, None)
}

pub fn thread_stat(p: &Arc<Process>, t: Option<&Arc<Thread>>) -> Result<Vec<u8>> {
    let (state, _) = state(p, t);
    let zombie = p.is_zombie();
    // Take the terminal out first: its own lock is not taken under the process's.
    let ctty = p.ctty.lock().clone();
    let (tty_nr, tpgid) = match ctty {
        Some(tty) => (tty.rdev(), tty.foreground() as i64),
        None => (0, -1),
    };
    let mem = memory(p).unwrap_or_default();
    let (pending, blocked) = signal_masks(p, t);
    let (ignored, caught) = p.handlers().lock().masks();
    let rsslim = p.rlimits.lock().0[5].cur;
    let sleeping = state == 'S';
    let exit_code = match *p.life.lock() {
        process::Life::Zombie(status) => status as i64,
        process::Life::Running => 0,
    };
    let (arg_start, arg_end, env_start, env_end) = (0u64, 0u64, 0u64, 0u64);
    let low31 = |m: u64| m & 0x7fff_ffff;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{} ({}) {} {} {} {} {} {} {} 0 0 0 0 {} 0 0 0 {} {} {} 0 {} {} {} {} {} {} {} 0 0 {} {} {} {} {} 0 0 {} 0 0 0 0 0 0 {} {} {} {} {} {} {} {}",
        t.map_or(p.pid, |t| t.tid()),
        name_of(p, t),
        state,
        p.ppid(),
        p.pgid(),
        p.sid(),
        tty_nr,
        tpgid,
        PF_RANDOMIZE | if zombie { PF_EXITING } else { 0 },
        cpu_ticks(p, t),
        20 + p.priority.nice(),
        p.priority.nice(),
        p.thread_count().max(1),
        p.start_ns / NS_PER_TICK,
        mem.size,
        mem.resident,
        rsslim,
        mem.start_code,
        mem.end_code,
        mem.start_stack,
        low31(pending),
        low31(blocked),
        low31(ignored),
        low31(caught),
        sleeping as u8,
        SIGCHLD,
        mem.start_data,
        mem.end_data,
        mem.start_brk,
        arg_start,
        arg_end,
        env_start,
        env_end,
        exit_code
    );
    Ok(s.into_bytes())
}

/// What a write to a tunable per-process file does: the target, the writer, the bytes.
pub type Setter = fn(&Arc<Process>, &Arc<Process>, &[u8]) -> Result<()>;

pub fn oom_score(p: &Arc<Process>) -> Result<Vec<u8>> {
    Ok(format!("{}\n", process::oom::oom_score(p)).into_bytes())
}

pub fn oom_score_adj(p: &Arc<Process>) -> Result<Vec<u8>> {
    Ok(format!("{}\n", p.oom_score_adj.get()).into_bytes())
}

/// Linux's oom_score_adj_write: at most 12 bytes are looked at, blanks around the number are
/// dropped, the number is read as C's strtol with base 0 would (EINVAL otherwise); the
/// writer's privilege is CAP_SYS_RESOURCE, which is root's here.
pub fn set_oom_score_adj(p: &Arc<Process>, writer: &Arc<Process>, bytes: &[u8]) -> Result<()> {
    let text = core::str::from_utf8(&bytes[..bytes.len().min(12)]).map_err(|_| Errno::EINVAL)?;
    let v = parse_int(text.trim()).ok_or(Errno::EINVAL)?;
    let privileged = writer.creds.lock().euid == 0;
    p.oom_score_adj.set(v, privileged)
}

/// kstrtoint(s, 0): an optional sign, then decimal, 0x hexadecimal or 0 octal digits.
fn parse_int(s: &str) -> Option<i32> {
    let (neg, digits) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let (radix, digits) =
        if let Some(h) = digits.strip_prefix("0x").or_else(|| digits.strip_prefix("0X")) {
            (16, h)
        } else if digits.len() > 1 && digits.starts_with('0') {
            (8, &digits[1..])
        } else {
            (10, digits)
        };
    if digits.is_empty() || !digits.bytes().all(|b| (b as char).is_digit(radix)) {
        return None;
    }
    let magnitude = i64::from_str_radix(digits, radix).ok()?;
    i32::try_from(if neg { -magnitude } else { magnitude }).ok()
}

pub fn statm(p: &Arc<Process>) -> Result<Vec<u8>> {
    let m = memory(p).unwrap_or_default();
    let pages = |b: u64| b / PAGE_SIZE;
    let s = format!(
        "{} {} {} {} 0 {} 0\n",
        pages(m.size),
        m.resident,
        pages(m.shared_file).min(m.resident),
        pages(m.text),
        pages(m.data + m.stack)
    );
    Ok(s.into_bytes())
}

pub fn status(p: &Arc<Process>) -> Result<Vec<u8>> {
    thread_status(p, None)
}

pub fn thread_status(p: &Arc<Process>, t: Option<&Arc<Thread>>) -> Result<Vec<u8>> {
    let (state, word) = state(p, t);
    let zombie = p.is_zombie();
    let creds = p.creds.lock().clone();
    let fd_slots = p.files().lock().entries().last().map(|(fd, _)| fd as usize + 1).unwrap_or(0);
    let fd_size = if zombie { 0 } else { fd_slots.max(64).next_power_of_two() };
    let (pending, blocked) = signal_masks(p, t);
    let (ignored, caught) = p.handlers().lock().masks();
    let sig_limit = p.rlimits.lock().0[11].cur;
    let caps = (creds.cap_inheritable, creds.cap_permitted, creds.cap_effective);

    let mut s = String::new();
    let _ = writeln!(s, "Name:\t{}", name_of(p, t));
    if !zombie {
        let _ = writeln!(s, "Umask:\t{:04o}", p.fs().lock().umask);
    }
    let _ = writeln!(s, "State:\t{} ({})", state, word);
    let _ = writeln!(
        s,
        "Tgid:\t{}\nNgid:\t0\nPid:\t{}\nPPid:\t{}\nTracerPid:\t{}",
        p.pid,
        t.map_or(p.pid, |t| t.tid()),
        p.ppid(),
        crate::process::ptrace::tracer_of(t.map_or(p.pid, |t| t.tid()))
    );
    let _ = writeln!(s, "Uid:\t{}\t{}\t{}\t{}", creds.uid, creds.euid, creds.suid, creds.fsuid);
    let _ = writeln!(s, "Gid:\t{}\t{}\t{}\t{}", creds.gid, creds.egid, creds.sgid, creds.fsgid);
    let _ = writeln!(s, "FDSize:\t{}", fd_size);
    s.push_str("Groups:\t");
    for (i, g) in creds.groups.iter().enumerate() {
        let _ = write!(s, "{}{}", if i > 0 { " " } else { "" }, g);
    }
    s.push_str(" \n");
    let _ = writeln!(
        s,
        "NStgid:\t{}\nNSpid:\t{}\nNSpgid:\t{}\nNSsid:\t{}",
        p.pid,
        t.map_or(p.pid, |t| t.tid()),
        p.pgid(),
        p.sid()
    );
    if let Some(m) = memory(p).filter(|_| !zombie) {
        let kb = |bytes: u64| bytes / 1024;
        let rss = m.resident * PAGE_SIZE / 1024;
        for (key, value) in [
            ("VmPeak", kb(m.size)),
            ("VmSize", kb(m.size)),
            ("VmLck", 0),
            ("VmPin", 0),
            ("VmHWM", rss),
            ("VmRSS", rss),
            ("RssAnon", rss),
            ("RssFile", 0),
            ("RssShmem", 0),
            ("VmData", kb(m.data)),
            ("VmStk", kb(m.stack)),
            ("VmExe", kb(m.text)),
            ("VmLib", 0),
            ("VmPTE", 0),
            ("VmSwap", 0),
        ] {
            let _ = writeln!(s, "{}:\t{:>8} kB", key, value);
        }
        s.push_str("HugetlbPages:\t       0 kB\nCoreDumping:\t0\nTHP_enabled:\t1\n");
    }
    // A zombie's threads are gone; Linux still counts the leader.
    let _ = writeln!(s, "Threads:\t{}", p.thread_count().max(1));
    let _ = writeln!(s, "SigQ:\t{}/{}", pending.count_ones(), sig_limit);
    let shared = p.signals.shared_pending.load(core::sync::atomic::Ordering::Relaxed);
    let _ = writeln!(s, "SigPnd:\t{:016x}\nShdPnd:\t{:016x}", pending, shared);
    let _ = writeln!(
        s,
        "SigBlk:\t{:016x}\nSigIgn:\t{:016x}\nSigCgt:\t{:016x}",
        blocked, ignored, caught
    );
    let _ =
        writeln!(s, "CapInh:\t{:016x}\nCapPrm:\t{:016x}\nCapEff:\t{:016x}", caps.0, caps.1, caps.2);
    let _ = writeln!(s, "CapBnd:\t{:016x}\nCapAmb:\t{:016x}", crate::cap::ALL, 0);
    s.push_str("NoNewPrivs:\t0\nSeccomp:\t0\nSeccomp_filters:\t0\n");
    s.push_str("Speculation_Store_Bypass:\tthread vulnerable\nSpeculationIndirectBranch:\tconditional enabled\n");
    s.push_str(
        "Cpus_allowed:\t1\nCpus_allowed_list:\t0\nMems_allowed:\t1\nMems_allowed_list:\t0\n",
    );
    s.push_str("voluntary_ctxt_switches:\t0\nnonvoluntary_ctxt_switches:\t0\n");
    Ok(s.into_bytes())
}
