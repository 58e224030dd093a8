//! ptrace(2): one thread (the tracee) stops at the points its tracer asked for — system-call
//! entry and exit, each signal before delivery, group stops, fork/clone/exec/exit events — and
//! the tracer reads and changes its registers and memory until it resumes it.
//!
//! The model (docs/debugging.md, "ptrace"): a `Tracee` record per traced thread, keyed by its
//! tid, in one table. A stopping tracee copies its trap frame into the record and sleeps on the
//! record's queue; the tracer's requests read and write that copy (and the tracee's memory),
//! and its resume request wakes the tracee, which takes the copy back as its registers. The
//! tracer learns of stops through wait4/waitid (`collect`, called by `wait`) and SIGCHLD.
//! Nothing here costs anything while no thread is traced: every hook first reads one counter.
//!
//! The hooks: `syscall_entry`/`syscall_exit` (system-call dispatch), `signal_stop` and
//! `group_stop` (signal delivery), `on_clone` (fork), `on_exec` (execve), `exit_stop` and
//! `on_thread_exit` (exit).

use alloc::collections::BTreeMap;
use alloc::sync::Arc;
use core::sync::atomic::{AtomicUsize, Ordering};

use super::signal::{self, SigInfo, SIGCHLD, SIGKILL, SIGSTOP, SIGTRAP};
use super::wait::{WaitResult, Which, WALL, WCLONE, WEXITED, WNOTHREAD, WNOWAIT};
use super::Process;
use crate::arch::trap::TrapFrame;
use crate::error::{Errno, Result};
use crate::sync::Mutex;
use crate::task::{self, Thread, WaitQueue};

pub const PTRACE_O_TRACESYSGOOD: u32 = 1;
pub const PTRACE_O_TRACEFORK: u32 = 2;
pub const PTRACE_O_TRACEVFORK: u32 = 4;
pub const PTRACE_O_TRACECLONE: u32 = 8;
pub const PTRACE_O_TRACEEXEC: u32 = 0x10;
pub const PTRACE_O_TRACEVFORKDONE: u32 = 0x20;
pub const PTRACE_O_TRACEEXIT: u32 = 0x40;
pub const PTRACE_O_TRACESECCOMP: u32 = 0x80;
pub const PTRACE_O_EXITKILL: u32 = 0x10_0000;
pub const PTRACE_O_SUSPEND_SECCOMP: u32 = 0x20_0000;
/// Every option Linux knows (SETOPTIONS with another bit is EINVAL). VFORKDONE and the
/// seccomp ones are accepted and never reported: there is no seccomp, and vfork's completion
/// is not an event here.
const OPTIONS: u32 = 0xff | PTRACE_O_EXITKILL | PTRACE_O_SUSPEND_SECCOMP;

pub const PTRACE_EVENT_FORK: u32 = 1;
pub const PTRACE_EVENT_VFORK: u32 = 2;
pub const PTRACE_EVENT_CLONE: u32 = 3;
pub const PTRACE_EVENT_EXEC: u32 = 4;
pub const PTRACE_EVENT_EXIT: u32 = 6;
pub const PTRACE_EVENT_STOP: u32 = 128;

/// waitid's si_code for a ptrace stop.
const CLD_TRAPPED: i32 = 4;

/// How the tracer let the tracee go on.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Mode {
    /// PTRACE_CONT: run until the next signal or event.
    Cont,
    /// PTRACE_SYSCALL: also stop at the next system-call entry or exit.
    Syscall,
    /// PTRACE_SINGLESTEP: one instruction (the trap flag), then SIGTRAP.
    Step,
    /// PTRACE_LISTEN: stay in the group stop, but not in a ptrace stop.
    Listen,
    /// PTRACE_DETACH: no longer traced.
    Detach,
}

#[derive(Clone, Copy)]
struct Resume {
    mode: Mode,
    /// The signal to deliver (in a signal-delivery stop), 0 for none.
    sig: u32,
}

/// Which stop the tracee is in.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Stop {
    SyscallEntry,
    SyscallExit,
    Signal(u32),
    Event(u32),
    Group(u32),
}

struct State {
    /// The tracer: its process, and the thread that attached (for __WNOTHREAD).
    tracer_pid: u32,
    tracer_tid: u32,
    options: u32,
    /// Attached with PTRACE_SEIZE (group stops and traps report PTRACE_EVENT_STOP).
    seized: bool,
    /// The stop the tracee sits in, with the wait status's stop-signal part
    /// (`sig | event << 8`), whether a wait has reported it, and the tracer's answer.
    stop: Option<Stop>,
    code: u32,
    reported: bool,
    resume: Option<Resume>,
    /// How the last resume let it go (system-call stops only after PTRACE_SYSCALL).
    mode: Mode,
    /// The number of the system call in progress: orig_rax where the frame no longer says it
    /// (after execve, whose new image's frame is not a system call's).
    syscall_nr: Option<u64>,
    /// The trap flag is set for PTRACE_SINGLESTEP, not by the program.
    stepping: bool,
    /// In a group stop after PTRACE_LISTEN (reported no more until it ends or is trapped).
    listening: bool,
    /// PTRACE_INTERRUPT, a seize of a stopped process or a seized new child: trap at the next
    /// chance (PTRACE_EVENT_STOP).
    trap: bool,
    /// Registers as of the stop (the tracer reads and writes this copy).
    regs: TrapFrame,
    /// The siginfo of the stop (GETSIGINFO); None in a group stop, as Linux's EINVAL.
    siginfo: Option<SigInfo>,
    /// GETEVENTMSG's word, and an event to report at the end of the current system call.
    event_msg: u64,
    pending_event: Option<(u32, u64)>,
    debugreg: [u64; 8],
    /// The thread has exited with this wait status; its tracer has not waited for it yet.
    exited: Option<i32>,
}

pub struct Tracee {
    tid: u32,
    /// The thread group it belongs to (its process's pid).
    pid: u32,
    state: Mutex<State>,
    /// The tracee sleeps here while stopped.
    resumed: WaitQueue,
}

/// Traced threads by tid.
static TRACEES: Mutex<BTreeMap<u32, Arc<Tracee>>> = Mutex::new(BTreeMap::new());
/// How many records `TRACEES` holds: every hook reads this first.
static COUNT: AtomicUsize = AtomicUsize::new(0);

/// Is any thread traced? (The hooks' fast path.)
#[inline]
fn active() -> bool {
    COUNT.load(Ordering::Relaxed) != 0
}

fn record(tid: u32) -> Option<Arc<Tracee>> {
    if !active() {
        return None;
    }
    TRACEES.lock().get(&tid).cloned()
}

fn insert(t: Arc<Tracee>) -> Result<()> {
    crate::mm::fallible::ensure_room(core::mem::size_of::<Tracee>() + 256)?;
    let mut map = TRACEES.lock();
    if map.insert(t.tid, t).is_none() {
        COUNT.fetch_add(1, Ordering::Relaxed);
    }
    Ok(())
}

fn remove(tid: u32) -> Option<Arc<Tracee>> {
    let r = TRACEES.lock().remove(&tid);
    if r.is_some() {
        COUNT.fetch_sub(1, Ordering::Relaxed);
    }
    r
}

fn new_tracee(tid: u32, pid: u32, tracer: (u32, u32), options: u32, seized: bool) -> Arc<Tracee> {
    Arc::new(Tracee {
        tid,
        pid,
        state: Mutex::new(State {
            tracer_pid: tracer.0,
            tracer_tid: tracer.1,
            options,
            seized,
            stop: None,
            code: 0,
            reported: false,
            resume: None,
            mode: Mode::Cont,
            syscall_nr: None,
            stepping: false,
            listening: false,
            trap: false,
            regs: TrapFrame::new_user(0, 0),
            siginfo: None,
            event_msg: 0,
            pending_event: None,
            debugreg: [0; 8],
            exited: None,
        }),
        resumed: WaitQueue::new(),
    })
}

/// The pid of the process tracing thread `tid` (0 if none), for /proc's TracerPid.
pub fn tracer_of(tid: u32) -> u32 {
    record(tid).map_or(0, |t| {
        let s = t.state.lock();
        if s.exited.is_some() {
            0
        } else {
            s.tracer_pid
        }
    })
}

/// Is thread `tid` traced? (Signals it ignores still reach it: its tracer sees them.)
#[inline]
pub fn is_traced(tid: u32) -> bool {
    active() && record(tid).is_some()
}

fn killed(t: &Thread) -> bool {
    t.pending_all() & signal::bit(SIGKILL) != 0
}

// ---- Stopping ----

/// Puts the current thread in a ptrace stop until its tracer resumes it (or SIGKILL, or the
/// tracer goes). `frame`'s registers are what the tracer sees and changes; None uses those of
/// the previous stop (the exit event, which has no frame at hand). None if it did not stop.
fn stop(
    t: &Arc<Tracee>,
    thread: &Arc<Thread>,
    mut frame: Option<&mut TrapFrame>,
    kind: Stop,
    code: u32,
    info: Option<SigInfo>,
) -> Option<Resume> {
    if killed(thread) {
        return None;
    }
    let tracer = {
        let mut s = t.state.lock();
        if let Some(f) = frame.as_deref_mut() {
            f.complete_fpu();
            s.regs = *f;
        }
        s.stop = Some(kind);
        s.code = code;
        s.reported = false;
        s.resume = None;
        s.siginfo = info;
        s.tracer_pid
    };
    notify_tracer(tracer, t.tid, CLD_TRAPPED, (code & 0x7f) as i32);
    let resume = t.resumed.wait_unbounded(|| {
        if killed(thread) {
            return Some(None);
        }
        let mut s = t.state.lock();
        if let Some(r) = s.resume.take() {
            return Some(Some(r));
        }
        // Detached under it (the tracer exited): go on as if continued.
        if !TRACEES.lock().get(&t.tid).is_some_and(|r| Arc::ptr_eq(r, t)) {
            return Some(Some(Resume { mode: Mode::Detach, sig: 0 }));
        }
        None
    });
    let mut s = t.state.lock();
    s.stop = None;
    if let Some(r) = resume {
        if r.mode != Mode::Listen {
            s.mode = r.mode;
        }
        if let Some(f) = frame {
            *f = s.regs;
        }
    }
    resume
}

/// SIGCHLD (unless it is ignored) and a wake-up of the tracer's waits.
fn notify_tracer(tracer_pid: u32, tid: u32, code: i32, status: i32) {
    let Some(tracer) = super::find(tracer_pid) else { return };
    let uid = super::find_by_tid(tid).map_or(0, |p| p.creds.lock().uid);
    signal::send(&tracer, SIGCHLD, SigInfo::child(code, tid, uid, status));
    tracer.child_events.wake_all();
}

/// The siginfo of a syscall or event stop, as Linux's ptrace_notify fills it.
fn trap_info(code: u32, pid: u32) -> SigInfo {
    SigInfo::from_user(SIGTRAP, code as i32, pid, 0)
}

/// At system-call entry: a stop if the tracer asked for one (PTRACE_SYSCALL), with rax =
/// -ENOSYS and orig_rax the number, as Linux. False if the call must not run: the tracer set
/// orig_rax to -1 (rax is then the result), or the tracee was killed meanwhile.
#[inline]
pub fn syscall_entry(frame: &mut TrapFrame) -> bool {
    if !active() {
        return true;
    }
    syscall_entry_stop(frame)
}

#[inline(never)]
fn syscall_entry_stop(frame: &mut TrapFrame) -> bool {
    let thread = task::current();
    let Some(t) = record(thread.tid()) else { return true };
    let code = {
        let mut s = t.state.lock();
        s.syscall_nr = Some(frame.error_code);
        if s.mode != Mode::Syscall || s.exited.is_some() {
            return true;
        }
        sysgood(s.options)
    };
    frame.rax = -(Errno::ENOSYS as i64) as u64;
    let info = trap_info(code, thread.tid());
    if stop(&t, &thread, Some(frame), Stop::SyscallEntry, code, Some(info)).is_none() {
        return false;
    }
    t.state.lock().syscall_nr = Some(frame.error_code);
    frame.error_code != u64::MAX
}

fn sysgood(options: u32) -> u32 {
    if options & PTRACE_O_TRACESYSGOOD != 0 {
        SIGTRAP | 0x80
    } else {
        SIGTRAP
    }
}

/// At system-call exit: the event the call caused (fork, clone, exec), then the exit stop if
/// the tracer asked for system-call stops.
#[inline]
pub fn syscall_exit(frame: &mut TrapFrame) {
    if active() {
        syscall_exit_stop(frame);
    }
}

#[inline(never)]
fn syscall_exit_stop(frame: &mut TrapFrame) {
    let thread = task::current();
    let Some(t) = record(thread.tid()) else { return };
    let event = t.state.lock().pending_event.take();
    if let Some((event, msg)) = event {
        t.state.lock().event_msg = msg;
        let code = SIGTRAP | event << 8;
        let info = trap_info(code, thread.tid());
        stop(&t, &thread, Some(frame), Stop::Event(event), code, Some(info));
    }
    let code = {
        let mut s = t.state.lock();
        if s.mode != Mode::Syscall || s.exited.is_some() {
            s.syscall_nr = None;
            return;
        }
        sysgood(s.options)
    };
    let info = trap_info(code, thread.tid());
    stop(&t, &thread, Some(frame), Stop::SyscallExit, code, Some(info));
    t.state.lock().syscall_nr = None;
}

/// What the signal-delivery path does with the next signal, once the tracer saw it.
pub enum Intercept {
    Deliver(u32, SigInfo),
    /// The tracer suppressed it (or replaced it with one now pending): look again.
    Suppressed,
    /// Nothing (left) to deliver.
    Nothing,
}

/// Signal delivery: a trap the tracer asked for (PTRACE_INTERRUPT, a seized new child), then
/// a signal-delivery stop for `pending`, the signal about to be delivered. The tracer may
/// suppress it, change it, or change its siginfo. SIGKILL is never stopped for.
#[inline]
pub fn signal_stop(
    thread: &Arc<Thread>,
    frame: &mut TrapFrame,
    pending: Option<(u32, SigInfo)>,
) -> Intercept {
    if !active() {
        return match pending {
            Some((sig, info)) => Intercept::Deliver(sig, info),
            None => Intercept::Nothing,
        };
    }
    signal_stop_traced(thread, frame, pending)
}

#[inline(never)]
fn signal_stop_traced(
    thread: &Arc<Thread>,
    frame: &mut TrapFrame,
    pending: Option<(u32, SigInfo)>,
) -> Intercept {
    let Some(t) = record(thread.tid()) else {
        return match pending {
            Some((sig, info)) => Intercept::Deliver(sig, info),
            None => Intercept::Nothing,
        };
    };
    let trap = {
        let mut s = t.state.lock();
        s.listening = false;
        core::mem::take(&mut s.trap)
    };
    if trap {
        let code = SIGTRAP | PTRACE_EVENT_STOP << 8;
        let info = trap_info(code, thread.tid());
        stop(&t, thread, Some(frame), Stop::Event(PTRACE_EVENT_STOP), code, Some(info));
    }
    let Some((sig, info)) = pending else { return Intercept::Nothing };
    if sig == SIGKILL {
        return Intercept::Deliver(sig, info);
    }
    let Some(r) = stop(&t, thread, Some(frame), Stop::Signal(sig), sig, Some(info)) else {
        // Killed while stopped: SIGKILL comes next.
        return Intercept::Suppressed;
    };
    let new_info = t.state.lock().siginfo.unwrap_or(info);
    match r.sig {
        0 => Intercept::Suppressed,
        s if s == sig && new_info.signo as u32 == sig => Intercept::Deliver(sig, new_info),
        s => {
            // Another signal: Linux builds it anew from the tracer (SI_USER); if the thread
            // blocks it, it waits pending like any other.
            let tracer = t.state.lock().tracer_pid;
            let info = SigInfo::from_user(s, signal::SI_USER, tracer, 0);
            if thread.sig_blocked.load(Ordering::Relaxed) & signal::bit(s) != 0 {
                if let Some(p) = super::of_thread(thread) {
                    signal::send_to_thread(&p, thread, s, info);
                }
                Intercept::Suppressed
            } else {
                Intercept::Deliver(s, info)
            }
        }
    }
}

/// A group stop (SIGSTOP and friends) of a traced thread: reported to the tracer as a ptrace
/// stop (PTRACE_EVENT_STOP when seized), which the tracer ends with a resume. False if the
/// thread is not traced or the tracer said PTRACE_LISTEN: it then waits for SIGCONT as usual.
pub fn group_stop(thread: &Arc<Thread>, frame: &mut TrapFrame, proc: &Process) -> bool {
    if !active() {
        return false;
    }
    let Some(t) = record(thread.tid()) else { return false };
    let sig = proc.signals.stop_signal.load(Ordering::Relaxed);
    let code = {
        let mut s = t.state.lock();
        if s.listening && !s.trap {
            return false;
        }
        s.trap = false;
        s.listening = false;
        if s.seized {
            sig | PTRACE_EVENT_STOP << 8
        } else {
            sig
        }
    };
    match stop(&t, thread, Some(frame), Stop::Group(sig), code, None) {
        Some(r) if r.mode == Mode::Listen => {
            t.state.lock().listening = true;
            false
        }
        // Detached in a group stop: it stays stopped, untraced, until SIGCONT.
        Some(r) if r.mode == Mode::Detach => false,
        Some(_) => {
            // Resumed: out of the stop (one thread per traced process is the common case).
            proc.signals.stopped.store(false, Ordering::Relaxed);
            true
        }
        None => true,
    }
}

/// Should a thread sleeping in a group stop wake to trap for its tracer?
pub fn trap_pending(thread: &Thread) -> bool {
    record(thread.tid()).is_some_and(|t| t.state.lock().trap)
}

/// fork/vfork/clone by a traced thread: with the matching option the new thread is traced by
/// the same tracer (stopped with SIGSTOP, or PTRACE_EVENT_STOP when seized) and the caller
/// reports the event when the call ends. Called after the child is attached to its process,
/// before it is first scheduled.
pub fn on_clone(
    caller: &Thread,
    child: &Arc<Process>,
    child_thread: &Arc<Thread>,
    vfork: bool,
    exit_signal: u32,
) {
    if !active() {
        return;
    }
    let Some(t) = record(caller.tid()) else { return };
    let (event, option) = if vfork {
        (PTRACE_EVENT_VFORK, PTRACE_O_TRACEVFORK)
    } else if exit_signal != SIGCHLD || child_thread.tid() != child.pid {
        (PTRACE_EVENT_CLONE, PTRACE_O_TRACECLONE)
    } else {
        (PTRACE_EVENT_FORK, PTRACE_O_TRACEFORK)
    };
    let (tracer, options, seized) = {
        let s = t.state.lock();
        if s.options & option == 0 || s.exited.is_some() {
            return;
        }
        ((s.tracer_pid, s.tracer_tid), s.options, s.seized)
    };
    let new = new_tracee(child_thread.tid(), child.pid, tracer, options, seized);
    if seized {
        new.state.lock().trap = true;
    }
    if insert(new).is_err() {
        return;
    }
    if !seized {
        let info = SigInfo::new(SIGSTOP, signal::SI_USER);
        signal::send_to_thread(child, child_thread, SIGSTOP, info);
    }
    t.state.lock().pending_event = Some((event, child_thread.tid() as u64));
}

/// A successful execve: PTRACE_EVENT_EXEC at its end with PTRACE_O_TRACEEXEC (the message is
/// the thread's former id), else the SIGTRAP of a traced exec (not when seized).
pub fn on_exec(proc: &Arc<Process>, thread: &Arc<Thread>, former_tid: u32) {
    if !active() {
        return;
    }
    let Some(t) = record(thread.tid()) else { return };
    let mut s = t.state.lock();
    if s.options & PTRACE_O_TRACEEXEC != 0 {
        s.pending_event = Some((PTRACE_EVENT_EXEC, former_tid as u64));
    } else if !s.seized {
        drop(s);
        signal::send_to_thread(proc, thread, SIGTRAP, SigInfo::new(SIGTRAP, signal::SI_USER));
    }
}

/// The start of a thread's exit: PTRACE_EVENT_EXIT with PTRACE_O_TRACEEXIT (the message is the
/// wait status). The registers shown are those of the thread's previous stop.
pub fn exit_stop(status: i32) {
    if !active() {
        return;
    }
    let thread = task::current();
    let Some(t) = record(thread.tid()) else { return };
    {
        let mut s = t.state.lock();
        if s.options & PTRACE_O_TRACEEXIT == 0 {
            return;
        }
        s.event_msg = status as u32 as u64;
    }
    let code = SIGTRAP | PTRACE_EVENT_EXIT << 8;
    let info = trap_info(code, thread.tid());
    stop(&t, &thread, None, Stop::Event(PTRACE_EVENT_EXIT), code, Some(info));
}

/// A thread has exited with `status`. A tracee's tracer learns of it by wait (unless it is the
/// leader's real parent, whose wait reaps the zombie as for any child); a tracer that is gone
/// (`last`) lets its tracees go, killing them with PTRACE_O_EXITKILL.
pub fn on_thread_exit(proc: &Arc<Process>, thread: &Thread, status: i32, last: bool) {
    if !active() {
        return;
    }
    if let Some(t) = record(thread.tid()) {
        let tracer = {
            let mut s = t.state.lock();
            s.stop = None;
            s.tracer_pid
        };
        let parent_reaps = t.tid == proc.pid && proc.ppid() == tracer;
        if parent_reaps {
            remove(t.tid);
        } else {
            t.state.lock().exited = Some(status);
            if t.tid == proc.pid {
                let (code, si_status) = super::wait::exit_code(status);
                notify_tracer(tracer, t.tid, code, si_status);
            } else if let Some(tr) = super::find(tracer) {
                // A thread's end wakes the tracer's waits without a signal, as Linux's.
                tr.child_events.wake_all();
            }
        }
    }
    if last {
        tracer_gone(proc.pid);
    }
}

/// The tracer `pid` exited: its tracees are detached (killed with PTRACE_O_EXITKILL), and the
/// exits it never waited for are forgotten.
fn tracer_gone(pid: u32) {
    loop {
        let next = TRACEES
            .lock()
            .values()
            .find(|t| t.state.lock().tracer_pid == pid && t.pid != pid)
            .cloned();
        let Some(t) = next else { break };
        remove(t.tid);
        let (kill, exited) = {
            let s = t.state.lock();
            (s.options & PTRACE_O_EXITKILL != 0, s.exited.is_some())
        };
        if exited {
            continue;
        }
        if let Some((p, th)) = super::find_thread(t.tid) {
            if kill {
                signal::send(&p, SIGKILL, SigInfo::new(SIGKILL, signal::SI_KERNEL));
            }
            clear_step(&t);
            task::scheduler::wake_urgent(&th);
            p.signals.wake_on_continue.wake_all();
        }
        t.resumed.wake_all();
    }
}

fn clear_step(t: &Tracee) {
    let mut s = t.state.lock();
    if s.stepping {
        s.regs.rflags &= !TF;
        s.stepping = false;
    }
}

/// The trap flag.
const TF: u64 = 0x100;

// ---- wait ----

/// What `wait` found among the caller's tracees: whether any matches, and a stop or exit to
/// report. Ptrace stops are reported without WUNTRACED, as Linux.
pub fn collect(
    me: &Process,
    caller_tid: u32,
    which: Which,
    options: u32,
) -> (bool, Option<WaitResult>) {
    if !active() {
        return (false, None);
    }
    let mut any = false;
    let tracees: alloc::vec::Vec<Arc<Tracee>> = {
        let map = TRACEES.lock();
        let mut v = alloc::vec::Vec::new();
        if v.try_reserve(map.len()).is_err() {
            return (false, None);
        }
        v.extend(map.values().cloned());
        v
    };
    for t in tracees {
        let (tracer_pid, tracer_tid) = {
            let s = t.state.lock();
            (s.tracer_pid, s.tracer_tid)
        };
        if tracer_pid != me.pid || options & WNOTHREAD != 0 && tracer_tid != caller_tid {
            continue;
        }
        let proc = super::find_by_tid(t.tid).or_else(|| super::find(t.pid));
        // A thread, or a child reporting with another signal than SIGCHLD, is a "clone" child.
        let clone_child = t.tid != t.pid
            || proc.as_ref().is_some_and(|p| p.exit_signal.load(Ordering::Relaxed) != SIGCHLD);
        if options & WALL == 0 && clone_child != (options & WCLONE != 0) {
            continue;
        }
        let matched = match which {
            Which::Any => true,
            Which::Pid(p) => t.tid == p,
            Which::Group(g) => proc.as_ref().is_some_and(|p| p.pgid() == g),
        };
        if !matched {
            continue;
        }
        any = true;
        let uid = proc.as_ref().map_or(0, |p| p.creds.lock().uid);
        let mut s = t.state.lock();
        if let Some(status) = s.exited {
            if options & WEXITED == 0 {
                continue;
            }
            let (code, si_status) = super::wait::exit_code(status);
            let r = WaitResult { pid: t.tid, uid, status, code, si_status, cpu: (0, 0) };
            if options & WNOWAIT == 0 {
                drop(s);
                remove(t.tid);
            }
            return (true, Some(r));
        }
        if s.stop.is_some() && s.resume.is_none() && !s.reported {
            if options & WNOWAIT == 0 {
                s.reported = true;
            }
            let code = s.code;
            return (
                true,
                Some(WaitResult {
                    pid: t.tid,
                    uid,
                    status: (code as i32) << 8 | 0x7f,
                    code: CLD_TRAPPED,
                    si_status: code as i32,
                    cpu: (0, 0),
                }),
            );
        }
    }
    (any, None)
}

// ---- The tracer's requests ----

/// May the caller trace `target` (Linux's __ptrace_may_access for PTRACE_MODE_ATTACH_REALCREDS):
/// its real ids are the target's real, effective and saved ids, or it has CAP_SYS_PTRACE; a
/// non-dumpable target needs CAP_SYS_PTRACE too.
fn may_attach(me: &Process, target: &Process) -> bool {
    let c = me.creds.lock().clone();
    if c.capable(crate::cap::Cap::SysPtrace) {
        return true;
    }
    let t = target.creds.lock().clone();
    let same = [t.uid, t.euid, t.suid].iter().all(|&u| u == c.uid)
        && [t.gid, t.egid, t.sgid].iter().all(|&g| g == c.gid);
    same && target.dumpable.load(Ordering::Relaxed)
}

/// PTRACE_TRACEME: the parent becomes the tracer.
pub fn traceme() -> Result<()> {
    let me = super::current();
    let thread = task::current();
    let parent = me.parent().ok_or(Errno::EPERM)?;
    if record(thread.tid()).is_some() || parent.pid == 1 && parent.main_thread().is_none() {
        return Err(Errno::EPERM);
    }
    insert(new_tracee(thread.tid(), me.pid, (parent.pid, parent.pid), 0, false))
}

/// PTRACE_ATTACH (SIGSTOP to the target) and PTRACE_SEIZE (no stop; `options` set at once).
pub fn attach(tid: u32, seize: bool, options: u32) -> Result<()> {
    if seize && options & !OPTIONS != 0 {
        return Err(Errno::EIO);
    }
    let (target, thread) = super::find_thread(tid).ok_or(Errno::ESRCH)?;
    let me = super::current();
    // PID 1 is the kernel's own thread here: nothing to trace in user mode.
    if target.pid == me.pid || target.pid == 1 {
        return Err(Errno::EPERM);
    }
    if !may_attach(&me, &target) {
        return Err(Errno::EPERM);
    }
    if target.is_zombie() {
        return Err(Errno::EPERM);
    }
    if record(tid).is_some() {
        return Err(Errno::EPERM);
    }
    let caller = task::current().tid();
    let t = new_tracee(tid, target.pid, (me.pid, caller), options, seize);
    let stopped = target.signals.stopped.load(Ordering::Relaxed);
    // Already in a group stop: it traps again at once to report it (Linux's JOBCTL_TRAP_STOP).
    t.state.lock().trap = stopped;
    insert(t)?;
    if !seize {
        let uid = me.creds.lock().uid;
        signal::send(&target, SIGSTOP, SigInfo::from_user(SIGSTOP, signal::SI_USER, me.pid, uid));
    }
    if stopped {
        target.signals.wake_on_continue.wake_all();
        task::scheduler::wake_urgent(&thread);
    }
    Ok(())
}

/// A tracee of the caller's, in a ptrace stop (Linux's ptrace_check_attach), else ESRCH.
fn stopped_tracee(tid: u32) -> Result<Arc<Tracee>> {
    let t = traced_by_caller(tid)?;
    let s = t.state.lock();
    if s.stop.is_none() || s.resume.is_some() || s.exited.is_some() {
        return Err(Errno::ESRCH);
    }
    drop(s);
    Ok(t)
}

/// Is `tid` a tracee of the caller's in a ptrace stop? (ESRCH if not, before anything else.)
pub fn stopped(tid: u32) -> Result<()> {
    stopped_tracee(tid).map(|_| ())
}

/// A tracee of the caller's, stopped or not.
fn traced_by_caller(tid: u32) -> Result<Arc<Tracee>> {
    let t = record(tid).ok_or(Errno::ESRCH)?;
    let me = super::with_current(|p| p.pid);
    if t.state.lock().tracer_pid != me {
        return Err(Errno::ESRCH);
    }
    Ok(t)
}

/// PTRACE_CONT, SYSCALL, SINGLESTEP, LISTEN and DETACH: lets the tracee go on, delivering
/// `sig` if it is in a signal-delivery stop.
pub fn resume(tid: u32, mode: Mode, sig: u32) -> Result<()> {
    let t = stopped_tracee(tid)?;
    if sig > signal::NSIG {
        return Err(Errno::EIO);
    }
    let mut s = t.state.lock();
    if mode == Mode::Listen && (!s.seized || !matches!(s.stop, Some(Stop::Group(_)))) {
        return Err(Errno::EIO);
    }
    if mode == Mode::Step {
        if s.regs.rflags & TF == 0 {
            s.regs.rflags |= TF;
            s.stepping = true;
        }
    } else if s.stepping {
        s.regs.rflags &= !TF;
        s.stepping = false;
    }
    s.resume = Some(Resume { mode, sig });
    drop(s);
    if mode == Mode::Detach {
        remove(tid);
    }
    t.resumed.wake_all();
    Ok(())
}

/// PTRACE_KILL: SIGKILL to the tracee (it leaves any stop to die).
pub fn kill(tid: u32) -> Result<()> {
    let t = traced_by_caller(tid)?;
    if let Some(p) = super::find_by_tid(t.tid) {
        signal::send(&p, SIGKILL, SigInfo::new(SIGKILL, signal::SI_KERNEL));
    }
    t.resumed.wake_all();
    Ok(())
}

/// PTRACE_INTERRUPT (seized tracees only): a PTRACE_EVENT_STOP trap at the tracee's next return
/// to user mode (a system call it sleeps in ends first).
pub fn interrupt(tid: u32) -> Result<()> {
    let t = traced_by_caller(tid)?;
    {
        let mut s = t.state.lock();
        if !s.seized {
            return Err(Errno::EIO);
        }
        if s.stop.is_some() && s.resume.is_none() {
            return Ok(());
        }
        s.trap = true;
    }
    if let Some((p, th)) = super::find_thread(tid) {
        p.signals.wake_on_continue.wake_all();
        task::scheduler::wake_urgent(&th);
    }
    Ok(())
}

pub fn set_options(tid: u32, options: u32) -> Result<()> {
    let t = stopped_tracee(tid)?;
    if options & !OPTIONS != 0 {
        return Err(Errno::EINVAL);
    }
    t.state.lock().options = options;
    Ok(())
}

pub fn event_msg(tid: u32) -> Result<u64> {
    Ok(stopped_tracee(tid)?.state.lock().event_msg)
}

pub fn get_siginfo(tid: u32) -> Result<SigInfo> {
    stopped_tracee(tid)?.state.lock().siginfo.ok_or(Errno::EINVAL)
}

pub fn set_siginfo(tid: u32, info: SigInfo) -> Result<()> {
    let t = stopped_tracee(tid)?;
    let mut s = t.state.lock();
    if s.siginfo.is_none() {
        return Err(Errno::EINVAL);
    }
    s.siginfo = Some(info);
    Ok(())
}

/// PTRACE_GETSIGMASK / SETSIGMASK: the tracee's blocked signals.
pub fn sigmask(tid: u32, set: Option<u64>) -> Result<u64> {
    stopped_tracee(tid)?;
    let (_, th) = super::find_thread(tid).ok_or(Errno::ESRCH)?;
    if let Some(m) = set {
        th.sig_blocked.store(m & !signal::UNBLOCKABLE, Ordering::Relaxed);
    }
    Ok(th.sig_blocked.load(Ordering::Relaxed))
}

/// PEEKTEXT/PEEKDATA: a word of the tracee's memory (EIO where none can be read).
pub fn peek(tid: u32, addr: u64) -> Result<u64> {
    stopped_tracee(tid)?;
    let p = super::find_by_tid(tid).ok_or(Errno::ESRCH)?;
    let vm = p.vm.lock().clone().ok_or(Errno::ESRCH)?;
    let mut word = [0u8; 8];
    if vm.lock().read_as_peer(addr, &mut word) != 8 {
        return Err(Errno::EIO);
    }
    Ok(u64::from_ne_bytes(word))
}

/// POKETEXT/POKEDATA: writes a word, even into read-only text (a breakpoint).
pub fn poke(tid: u32, addr: u64, word: u64) -> Result<()> {
    stopped_tracee(tid)?;
    let p = super::find_by_tid(tid).ok_or(Errno::ESRCH)?;
    let vm = p.vm.lock().clone().ok_or(Errno::ESRCH)?;
    if vm.lock().write_as_debugger(addr, &word.to_ne_bytes()) != 8 {
        return Err(Errno::EIO);
    }
    Ok(())
}

// ---- Registers: struct user_regs_struct, the FXSAVE image, struct user ----

/// Bytes of `struct user_regs_struct` (27 words).
pub const USER_REGS_SIZE: usize = 27 * 8;
/// offsetof(struct user, u_debugreg) and sizeof(struct user) on x86-64.
const DEBUGREG_OFFSET: u64 = 848;
/// (The kernel's struct user ends with two more words, error_code and fault_address.)
const USER_SIZE: u64 = DEBUGREG_OFFSET + 10 * 8;
/// The flags a tracer (as sigreturn) may change: arithmetic, TF, DF, OF, RF, AC, ID.
const USER_FLAGS: u64 =
    0x1 | 0x4 | 0x10 | 0x40 | 0x80 | 0x100 | 0x400 | 0x800 | 0x1_0000 | 0x4_0000 | 0x20_0000;

fn read_reg(s: &State, th: &Thread, i: usize) -> u64 {
    let f = &s.regs;
    match i {
        0 => f.r15,
        1 => f.r14,
        2 => f.r13,
        3 => f.r12,
        4 => f.rbp,
        5 => f.rbx,
        6 => f.r11,
        7 => f.r10,
        8 => f.r9,
        9 => f.r8,
        10 => f.rax,
        11 => f.rcx,
        12 => f.rdx,
        13 => f.rsi,
        14 => f.rdi,
        // orig_rax: the system call's number, -1 outside one.
        15 => {
            if f.is_syscall() {
                f.error_code
            } else {
                s.syscall_nr.unwrap_or(u64::MAX)
            }
        }
        16 => f.rip,
        17 => f.cs,
        18 => f.rflags,
        19 => f.rsp,
        20 => f.ss,
        21 => th.fs_base.load(Ordering::Relaxed),
        22 => th.gs_base.load(Ordering::Relaxed),
        _ => 0, // ds, es, fs, gs
    }
}

fn write_reg(f: &mut TrapFrame, th: &Thread, i: usize, v: u64) -> Result<()> {
    match i {
        0 => f.r15 = v,
        1 => f.r14 = v,
        2 => f.r13 = v,
        3 => f.r12 = v,
        4 => f.rbp = v,
        5 => f.rbx = v,
        6 => f.r11 = v,
        7 => f.r10 = v,
        8 => f.r9 = v,
        9 => f.r8 = v,
        10 => f.rax = v,
        11 => f.rcx = v,
        12 => f.rdx = v,
        13 => f.rsi = v,
        14 => f.rdi = v,
        // orig_rax outside a system call means nothing (there is nothing to restart).
        15 if f.is_syscall() => f.error_code = v,
        16 => f.rip = v,
        18 => f.rflags = (f.rflags & !USER_FLAGS) | (v & USER_FLAGS),
        19 => f.rsp = v,
        // The tracee is asleep: its bases are loaded when it next runs.
        21 | 22 if v >= crate::arch::USER_END => return Err(Errno::EIO),
        21 => th.fs_base.store(v, Ordering::Relaxed),
        22 => th.gs_base.store(v, Ordering::Relaxed),
        // cs, ss and the data segments stay the user's (Linux rejects other selectors; the
        // values a debugger writes back are the ones it read).
        _ => {}
    }
    Ok(())
}

/// GETREGS / GETREGSET(NT_PRSTATUS): `struct user_regs_struct`.
pub fn get_regs(tid: u32) -> Result<[u64; 27]> {
    let t = stopped_tracee(tid)?;
    let (_, th) = super::find_thread(tid).ok_or(Errno::ESRCH)?;
    let s = t.state.lock();
    let mut regs = [0u64; 27];
    for (i, r) in regs.iter_mut().enumerate() {
        *r = read_reg(&s, &th, i);
    }
    Ok(regs)
}

/// SETREGS / SETREGSET(NT_PRSTATUS): the first `n` registers of `regs`.
pub fn set_regs(tid: u32, regs: &[u64]) -> Result<()> {
    let t = stopped_tracee(tid)?;
    let (_, th) = super::find_thread(tid).ok_or(Errno::ESRCH)?;
    let mut s = t.state.lock();
    let mut f = s.regs;
    for (i, &v) in regs.iter().enumerate() {
        write_reg(&mut f, &th, i, v)?;
    }
    s.regs = f;
    Ok(())
}

/// GETFPREGS / GETREGSET(NT_PRFPREG): the 512-byte FXSAVE image.
pub fn get_fpregs(tid: u32) -> Result<[u8; 512]> {
    Ok(stopped_tracee(tid)?.state.lock().regs.fpu.0)
}

pub fn set_fpregs(tid: u32, image: &[u8; 512]) -> Result<()> {
    let t = stopped_tracee(tid)?;
    let mut s = t.state.lock();
    s.regs.fpu.0 = *image;
    // MXCSR's reserved bits must stay clear (fxrstor would fault), as for sigreturn.
    let mxcsr = u32::from_le_bytes([image[24], image[25], image[26], image[27]]) & 0xffff;
    s.regs.fpu.0[24..28].copy_from_slice(&mxcsr.to_le_bytes());
    Ok(())
}

/// PEEKUSER: a word of `struct user` (the registers, the debug registers; the rest reads 0).
pub fn peek_user(tid: u32, offset: u64) -> Result<u64> {
    if !offset.is_multiple_of(8) || offset >= USER_SIZE {
        return Err(Errno::EIO);
    }
    let t = stopped_tracee(tid)?;
    if offset < USER_REGS_SIZE as u64 {
        let (_, th) = super::find_thread(tid).ok_or(Errno::ESRCH)?;
        return Ok(read_reg(&t.state.lock(), &th, (offset / 8) as usize));
    }
    if offset >= DEBUGREG_OFFSET {
        let i = ((offset - DEBUGREG_OFFSET) / 8) as usize;
        return Ok(t.state.lock().debugreg.get(i).copied().unwrap_or(0));
    }
    Ok(0)
}

/// POKEUSER: a register, or a debug register (kept and read back; not armed in the CPU:
/// debuggers fall back to software breakpoints).
pub fn poke_user(tid: u32, offset: u64, value: u64) -> Result<()> {
    if !offset.is_multiple_of(8) || offset >= USER_SIZE {
        return Err(Errno::EIO);
    }
    let t = stopped_tracee(tid)?;
    if offset < USER_REGS_SIZE as u64 {
        let (_, th) = super::find_thread(tid).ok_or(Errno::ESRCH)?;
        let mut s = t.state.lock();
        let mut f = s.regs;
        write_reg(&mut f, &th, (offset / 8) as usize, value)?;
        s.regs = f;
        return Ok(());
    }
    if offset >= DEBUGREG_OFFSET {
        let i = ((offset - DEBUGREG_OFFSET) / 8) as usize;
        // DR4 and DR5 do not exist; an address breakpoint must be a user address.
        if i == 4 || i == 5 || i < 4 && value >= crate::arch::USER_END {
            return Err(Errno::EIO);
        }
        if let Some(r) = t.state.lock().debugreg.get_mut(i) {
            *r = value;
        }
    }
    Ok(())
}
