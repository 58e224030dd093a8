//! Signals: numbers, dispositions, sending, and delivery on the way back to user mode with
//! Linux's x86-64 `rt_sigframe`, so handlers that read `ucontext_t` and `siginfo_t` work.
//!
//! Pending signals are bits on the target thread (`Thread::sig_pending`, thread-directed: tgkill,
//! faults) or on the process (`SignalState::shared_pending`, process-directed: kill); the
//! `siginfo` of each pending signal is kept here, queued for real-time signals, tagged with the
//! thread it was sent to (0 for the process). A process-directed signal is taken by whichever
//! thread first returns to user mode with it unblocked; the sender wakes the one Linux's
//! complete_signal would pick (the leader if it does not block it, else the first that does not).

use alloc::collections::VecDeque;
use alloc::sync::Arc;
use core::sync::atomic::Ordering;

use bytemuck::{Pod, Zeroable};

use super::Process;
use crate::arch::trap::TrapFrame;
use crate::error::{Errno, Result};
use crate::mm::user::UserPtr;
use crate::sync::Mutex;
use crate::task::{self, Thread};

pub const SIGHUP: u32 = 1;
pub const SIGINT: u32 = 2;
pub const SIGQUIT: u32 = 3;
pub const SIGILL: u32 = 4;
pub const SIGTRAP: u32 = 5;
pub const SIGABRT: u32 = 6;
pub const SIGBUS: u32 = 7;
pub const SIGFPE: u32 = 8;
pub const SIGKILL: u32 = 9;
pub const SIGUSR1: u32 = 10;
pub const SIGSEGV: u32 = 11;
pub const SIGUSR2: u32 = 12;
pub const SIGPIPE: u32 = 13;
pub const SIGALRM: u32 = 14;
pub const SIGTERM: u32 = 15;
pub const SIGCHLD: u32 = 17;
pub const SIGCONT: u32 = 18;
pub const SIGSTOP: u32 = 19;
pub const SIGTSTP: u32 = 20;
pub const SIGTTIN: u32 = 21;
pub const SIGTTOU: u32 = 22;
pub const SIGURG: u32 = 23;
pub const SIGXCPU: u32 = 24;
pub const SIGXFSZ: u32 = 25;
pub const SIGVTALRM: u32 = 26;
pub const SIGPROF: u32 = 27;
pub const SIGWINCH: u32 = 28;
pub const SIGSYS: u32 = 31;
pub const SIGRTMIN: u32 = 32;
pub const NSIG: u32 = 64;

pub const SIG_DFL: u64 = 0;
pub const SIG_IGN: u64 = 1;

pub const SA_NOCLDSTOP: u64 = 1;
pub const SA_NOCLDWAIT: u64 = 2;
pub const SA_SIGINFO: u64 = 4;
pub const SA_ONSTACK: u64 = 0x0800_0000;
pub const SA_RESTART: u64 = 0x1000_0000;
pub const SA_NODEFER: u64 = 0x4000_0000;
pub const SA_RESETHAND: u64 = 0x8000_0000;
pub const SA_RESTORER: u64 = 0x0400_0000;

pub const SI_USER: i32 = 0;
pub const SI_KERNEL: i32 = 0x80;
pub const SI_QUEUE: i32 = -1;
pub const SI_TKILL: i32 = -6;
pub const CLD_EXITED: i32 = 1;
pub const CLD_KILLED: i32 = 2;
pub const CLD_DUMPED: i32 = 3;
pub const CLD_STOPPED: i32 = 5;
pub const CLD_CONTINUED: i32 = 6;
pub const SEGV_MAPERR: i32 = 1;
pub const SEGV_ACCERR: i32 = 2;
pub const BUS_ADRERR: i32 = 2;

pub fn bit(sig: u32) -> u64 {
    1 << (sig - 1)
}

/// Signals that can never be caught, blocked or ignored.
pub const UNBLOCKABLE: u64 = (1 << (SIGKILL - 1)) | (1 << (SIGSTOP - 1));

/// The kernel's `struct sigaction` for rt_sigaction on x86-64.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct SigAction {
    pub handler: u64,
    pub flags: u64,
    pub restorer: u64,
    pub mask: u64,
}

pub struct SigActions(pub [SigAction; NSIG as usize]);

impl Default for SigActions {
    fn default() -> Self {
        SigActions([SigAction::default(); NSIG as usize])
    }
}

impl SigActions {
    pub fn get(&self, sig: u32) -> SigAction {
        self.0[(sig - 1) as usize]
    }

    pub fn set(&mut self, sig: u32, mut act: SigAction) {
        act.mask &= !UNBLOCKABLE;
        self.0[(sig - 1) as usize] = act;
    }

    /// execve: handled signals go back to the default action; ignored ones stay ignored.
    pub fn reset_on_exec(&mut self) {
        for a in self.0.iter_mut() {
            if a.handler > SIG_IGN {
                *a = SigAction::default();
            }
        }
    }

    /// The signals this process ignores / catches, for /proc/<pid>/status.
    pub fn masks(&self) -> (u64, u64) {
        let (mut ign, mut cgt) = (0, 0);
        for (i, a) in self.0.iter().enumerate() {
            match a.handler {
                SIG_DFL => {}
                SIG_IGN => ign |= 1 << i,
                _ => cgt |= 1 << i,
            }
        }
        (ign, cgt)
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum DefaultAction {
    Terminate,
    CoreDump,
    Ignore,
    Stop,
    Continue,
}

pub fn default_action(sig: u32) -> DefaultAction {
    match sig {
        SIGQUIT | SIGILL | SIGTRAP | SIGABRT | SIGBUS | SIGFPE | SIGSEGV | SIGXCPU | SIGXFSZ
        | SIGSYS => DefaultAction::CoreDump,
        SIGCHLD | SIGURG | SIGWINCH => DefaultAction::Ignore,
        SIGSTOP | SIGTSTP | SIGTTIN | SIGTTOU => DefaultAction::Stop,
        SIGCONT => DefaultAction::Continue,
        _ => DefaultAction::Terminate,
    }
}

/// `siginfo_t` as the kernel writes it (128 bytes).
#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
pub struct SigInfo {
    pub signo: i32,
    pub errno: i32,
    pub code: i32,
    _pad: i32,
    /// The union: pid/uid/status/addr/value at Linux's offsets (16 onwards).
    pub fields: [u64; 14],
}

impl SigInfo {
    pub fn new(signo: u32, code: i32) -> Self {
        SigInfo { signo: signo as i32, errno: 0, code, _pad: 0, fields: [0; 14] }
    }

    /// kill/tkill/sigqueue: sender pid and uid at offsets 16 and 20.
    pub fn from_user(signo: u32, code: i32, pid: u32, uid: u32) -> Self {
        let mut i = SigInfo::new(signo, code);
        i.fields[0] = pid as u64 | (uid as u64) << 32;
        i
    }

    /// A fault: the address at offset 16.
    pub fn fault(signo: u32, code: i32, addr: u64) -> Self {
        let mut i = SigInfo::new(signo, code);
        i.fields[0] = addr;
        i
    }

    /// SIGCHLD: pid, uid, status.
    pub fn child(code: i32, pid: u32, uid: u32, status: i32) -> Self {
        let mut i = SigInfo::from_user(SIGCHLD, code, pid, uid);
        i.fields[1] = status as u32 as u64;
        i
    }

    pub fn set_value(&mut self, value: u64) {
        self.fields[1] = value;
    }

    pub fn pid(&self) -> u32 {
        self.fields[0] as u32
    }

    pub fn uid(&self) -> u32 {
        (self.fields[0] >> 32) as u32
    }

    pub fn status(&self) -> i32 {
        self.fields[1] as u32 as i32
    }
}

/// A pending signal's information, charged to a user's RLIMIT_SIGPENDING count.
struct Queued {
    info: SigInfo,
    /// The real uid whose count this entry raised (`ucounts::charge_sigpending`).
    charged: u32,
    /// The thread it was sent to; 0 for the whole process.
    tid: u32,
}

/// The siginfo of each pending signal (several for queued real-time signals). Every entry is
/// charged to its target's real uid; leaving the queue by any way uncharges it.
#[derive(Default)]
pub struct SigQueue(VecDeque<Queued>);

impl SigQueue {
    /// Queues `info` for `proc` if its owner is within RLIMIT_SIGPENDING (or the limit does
    /// not apply) and the heap has room; false otherwise.
    fn push(
        &mut self,
        info: SigInfo,
        tid: u32,
        uid: u32,
        limit: u64,
        override_limit: bool,
    ) -> bool {
        if !super::ucounts::charge_sigpending(uid, limit, override_limit) {
            return false;
        }
        let q = Queued { info, charged: uid, tid };
        if crate::mm::fallible::try_push_back(&mut self.0, q).is_err() {
            super::ucounts::uncharge_sigpending(uid);
            return false;
        }
        true
    }

    /// Keeps only the entries whose signal `keep` accepts.
    fn retain(&mut self, mut keep: impl FnMut(u32) -> bool) {
        self.retain_by(|sig, _| keep(sig));
    }

    /// Keeps only the entries whose (signal, thread) `keep` accepts.
    fn retain_by(&mut self, mut keep: impl FnMut(u32, u32) -> bool) {
        self.0.retain(|q| {
            let k = keep(q.info.signo as u32, q.tid);
            if !k {
                super::ucounts::uncharge_sigpending(q.charged);
            }
            k
        });
    }

    /// Takes the oldest entry of `sig` sent to `tid` (0: to the process).
    fn take(&mut self, sig: u32, tid: u32) -> Option<SigInfo> {
        let i = self.0.iter().position(|q| q.info.signo as u32 == sig && q.tid == tid)?;
        let q = self.0.remove(i)?;
        super::ucounts::uncharge_sigpending(q.charged);
        Some(q.info)
    }

    fn has(&self, sig: u32, tid: u32) -> bool {
        self.0.iter().any(|q| q.info.signo as u32 == sig && q.tid == tid)
    }

    /// Entries queued (/proc/<pid>/status's ShdPnd is by bits; this counts the records).
    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Drop for SigQueue {
    fn drop(&mut self) {
        self.retain(|_| false);
    }
}

/// Per-process signal state beyond the dispositions.
#[derive(Default)]
pub struct SignalState {
    /// The siginfo of each pending signal (several for queued real-time signals).
    infos: Mutex<SigQueue>,
    /// Job control: stopped by a stop signal, until SIGCONT.
    pub stopped: core::sync::atomic::AtomicBool,
    /// A stop or continue not yet reported to the parent's wait (WUNTRACED / WCONTINUED).
    pub report: Mutex<Option<JobEvent>>,
    /// The signal delivered to stop or continue the process (for /proc and wait status).
    pub stop_signal: core::sync::atomic::AtomicU32,
    pub wake_on_continue: crate::task::WaitQueue,
    /// Signals pending for the process as a whole (kill), as opposed to one thread (tgkill).
    pub shared_pending: alloc::sync::Arc<core::sync::atomic::AtomicU64>,
    /// signalfd readers (sleeping in it) and pollers of this process hear of every new
    /// pending signal.
    pub pollee: crate::event::Pollee,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum JobEvent {
    Stopped(u32),
    Continued,
}

/// Restores `mask` as the calling thread's blocked mask after the next delivery, or on the way
/// back to user mode if no handler runs (rt_sigsuspend, ppoll, pselect6, epoll_pwait).
pub fn set_restore_mask(mask: u64) {
    task::with_current(|t| *t.restore_mask.lock() = Some(mask));
    task::note_signal_work();
}

/// Would `t` take `sig` now: not blocked, or waited for by its rt_sigtimedwait (Linux unblocks
/// the waited set meanwhile)?
fn accepts(t: &Thread, sig: u32) -> bool {
    t.sig_blocked.load(Ordering::Relaxed) & bit(sig) == 0
        || t.sigwait_set.load(Ordering::Relaxed) & bit(sig) != 0
}

/// The thread to wake for a process-directed `sig` (Linux's complete_signal): the leader if it
/// takes it, else the first thread that does; None if every thread blocks it (it waits,
/// pending, for one to unblock it).
fn choose_thread(proc: &Process, sig: u32) -> Option<Arc<Thread>> {
    let main = proc.main_thread()?;
    if accepts(&main, sig) {
        return Some(main);
    }
    let mut found = None;
    proc.for_each_thread(|t| {
        if found.is_none() && accepts(t, sig) {
            found = Some(t.clone());
        }
    });
    found
}

/// Is `sig` ignored by `proc` (and so discarded when sent)?
fn ignored(proc: &Process, sig: u32) -> bool {
    let act = proc.handlers().lock().get(sig);
    act.handler == SIG_IGN
        || (act.handler == SIG_DFL && default_action(sig) == DefaultAction::Ignore)
}

/// Sends `sig` with `info` to process `proc` (any of its threads may take it). A signal whose
/// information cannot be queued is still sent, without it, as Linux does for signals from kill
/// and the kernel.
pub fn send(proc: &Arc<Process>, sig: u32, info: SigInfo) {
    let _ = post(proc, sig, info, None);
}

/// Sends `sig` to one thread of `proc` (tgkill, faults, SIGPIPE): pending on the thread itself.
pub fn send_to_thread(proc: &Arc<Process>, thread: &Arc<Thread>, sig: u32, info: SigInfo) {
    let _ = post(proc, sig, info, Some(thread));
}

/// sigqueue and friends: as `send`, but a real-time signal whose information cannot be queued
/// (its target's user is at RLIMIT_SIGPENDING, or no memory) fails with EAGAIN.
pub fn queue(proc: &Arc<Process>, sig: u32, info: SigInfo) -> Result<()> {
    post(proc, sig, info, None)
}

/// rt_tgsigqueueinfo: as `queue`, to one thread.
pub fn queue_to_thread(
    proc: &Arc<Process>,
    thread: &Arc<Thread>,
    sig: u32,
    info: SigInfo,
) -> Result<()> {
    post(proc, sig, info, Some(thread))
}

/// Linux's __send_signal_locked: queues `info` unless it must not or cannot; Err(EAGAIN) only
/// for a real-time signal sent by something other than kill.
fn queue_info(proc: &Process, sig: u32, info: SigInfo, tid: u32) -> Result<()> {
    // Standard signals from kill or the kernel (si_code >= 0) queue beyond the limit.
    let override_limit = sig < SIGRTMIN && info.code >= 0;
    let uid = proc.creds.lock().uid;
    let limit = proc.rlimits.lock().0[super::rlimit::RLIMIT_SIGPENDING].cur;
    if proc.signals.infos.lock().push(info, tid, uid, limit, override_limit) {
        return Ok(());
    }
    if sig >= SIGRTMIN && info.code != SI_USER {
        return Err(Errno::EAGAIN);
    }
    // A silent loss of information: the signal is still sent.
    Ok(())
}

fn post(
    proc: &Arc<Process>,
    sig: u32,
    info: SigInfo,
    to_thread: Option<&Arc<Thread>>,
) -> Result<()> {
    if sig == 0 || proc.is_zombie() {
        return Ok(());
    }
    let Some(main) = proc.main_thread() else { return Ok(()) };
    if to_thread.is_some_and(|t| proc.thread(t.tid()).is_none()) {
        // The thread has exited since the sender found it: its records would outlive it.
        return Ok(());
    }
    let shared = &proc.signals.shared_pending;
    let stop_mask = bit(SIGSTOP) | bit(SIGTSTP) | bit(SIGTTIN) | bit(SIGTTOU);
    if sig == SIGCONT || sig == SIGKILL {
        // Continue first: SIGCONT wakes a stopped process even if it then ignores the signal;
        // pending stops of every thread go.
        proc.for_each_thread(|t| {
            t.sig_pending.fetch_and(!stop_mask, Ordering::Relaxed);
        });
        shared.fetch_and(!stop_mask, Ordering::Relaxed);
        proc.signals.infos.lock().retain(|s| bit(s) & stop_mask == 0);
        if proc.signals.stopped.swap(false, Ordering::Relaxed) {
            *proc.signals.report.lock() = Some(JobEvent::Continued);
            notify_parent_job(proc, CLD_CONTINUED, SIGCONT);
            proc.signals.wake_on_continue.wake_all();
        }
    }
    if bit(sig) & stop_mask != 0 {
        proc.for_each_thread(|t| {
            t.sig_pending.fetch_and(!bit(SIGCONT), Ordering::Relaxed);
        });
        shared.fetch_and(!bit(SIGCONT), Ordering::Relaxed);
        proc.signals.infos.lock().retain(|s| s != SIGCONT);
    }
    // Linux's sig_ignored looks at the target thread (the leader for the process): a blocked
    // or awaited signal is kept even if ignored, since the handler may change before it is
    // unblocked.
    let first = to_thread.unwrap_or(&main);
    let kept = first.sig_blocked.load(Ordering::Relaxed) & bit(sig) != 0
        || first.sigwait_set.load(Ordering::Relaxed) & bit(sig) != 0;
    // A tracer sees even the signals its tracee ignores (Linux's sig_ignored).
    if !kept && ignored(proc, sig) && !super::ptrace::is_traced(first.tid()) {
        return Ok(());
    }
    let target = match to_thread {
        Some(t) => &t.sig_pending,
        None => &**shared,
    };
    if target.load(Ordering::Relaxed) & bit(sig) != 0 && sig < SIGRTMIN {
        return Ok(());
    }
    // SIGKILL needs no information and no memory: it always gets through.
    if sig != SIGKILL {
        queue_info(proc, sig, info, to_thread.map_or(0, |t| t.tid()))?;
    }
    target.fetch_or(bit(sig), Ordering::Release);
    task::note_signal_work();
    proc.signals.pollee.notify(crate::event::IoEvents::IN);
    if sig == SIGKILL {
        // SIGKILL ends the whole group: every thread wakes to die.
        proc.for_each_thread(|t| {
            t.sig_pending.fetch_or(bit(SIGKILL), Ordering::Release);
            task::scheduler::wake_urgent(t);
        });
        proc.signals.wake_on_continue.wake_all();
        return Ok(());
    }
    let wake = match to_thread {
        Some(t) => accepts(t, sig).then(|| t.clone()),
        None => choose_thread(proc, sig),
    };
    if let Some(t) = wake {
        task::scheduler::wake_urgent(&t);
    }
    Ok(())
}

/// Exit: the pending signals' records go, and their users' counts with them.
pub fn flush(proc: &Process) {
    proc.signals.infos.lock().retain(|_| false);
}

/// A thread exits: the records of signals sent to it alone go with it.
pub fn flush_thread(proc: &Process, thread: &Thread) {
    let tid = thread.tid();
    proc.signals.infos.lock().retain_by(|_, to| to != tid);
}

/// A thread's id changed (execve from a non-leader): its signals' records follow it.
pub fn retag_thread(proc: &Process, old: u32, new: u32) {
    for q in proc.signals.infos.lock().0.iter_mut() {
        if q.tid == old {
            q.tid = new;
        }
    }
}

/// Forgets pending instances of `sig` (its disposition became "ignore").
pub fn discard(proc: &Process, sig: u32) {
    proc.for_each_thread(|t| {
        t.sig_pending.fetch_and(!bit(sig), Ordering::Relaxed);
    });
    proc.signals.shared_pending.fetch_and(!bit(sig), Ordering::Relaxed);
    proc.signals.infos.lock().retain(|s| s != sig);
}

/// EPIPE's companion: SIGPIPE to the writing thread, as Linux's send_sig (SI_USER, own pid).
pub fn raise_sigpipe() {
    let proc = super::current();
    let me = task::current();
    let uid = proc.creds.lock().uid;
    send_to_thread(&proc, &me, SIGPIPE, SigInfo::from_user(SIGPIPE, SI_USER, proc.pid, uid));
}

/// Sends a signal generated by the kernel for `proc`'s own sake (faults, SIGPIPE, SIGCHLD).
pub fn send_simple(proc: &Arc<Process>, sig: u32) {
    send(proc, sig, SigInfo::new(sig, SI_KERNEL));
}

/// Tells the parent a child stopped or continued (SIGCHLD unless SA_NOCLDSTOP, and wakes waits).
fn notify_parent_job(proc: &Arc<Process>, code: i32, sig: u32) {
    let Some(parent) = proc.parent() else { return };
    let act = parent.handlers().lock().get(SIGCHLD);
    if act.flags & SA_NOCLDSTOP == 0 {
        let uid = proc.creds.lock().uid;
        send(&parent, SIGCHLD, SigInfo::child(code, proc.pid, uid, sig as i32));
    }
    parent.child_events.wake_all();
}

/// Takes the lowest pending unblocked signal of `thread`, with its info.
fn dequeue(proc: &Process, thread: &Thread) -> Option<(u32, SigInfo)> {
    let pending = thread.pending_all() & !thread.sig_blocked.load(Ordering::Relaxed);
    if pending == 0 {
        return None;
    }
    let sig = pending.trailing_zeros() + 1;
    // The thread's own instance goes first, then the process's.
    let own = thread.sig_pending.load(Ordering::Acquire) & bit(sig) != 0;
    let (tid, bits) =
        if own { (thread.tid(), &thread.sig_pending) } else { (0, &*proc.signals.shared_pending) };
    let mut infos = proc.signals.infos.lock();
    // A signal sent without its information (none could be queued) reads as Linux's: SI_USER
    // from pid 0.
    let info = infos.take(sig, tid).unwrap_or_else(|| SigInfo::new(sig, SI_USER));
    if !infos.has(sig, tid) {
        bits.fetch_and(!bit(sig), Ordering::Release);
    }
    Some((sig, info))
}

/// Takes a pending signal in `set` (for sigtimedwait and signalfd), blocked or not.
pub fn dequeue_in(proc: &Process, thread: &Thread, set: u64) -> Option<(u32, SigInfo)> {
    let pending = thread.pending_all() & set;
    if pending == 0 {
        return None;
    }
    let saved = thread.sig_blocked.swap(!pending, Ordering::Relaxed);
    let r = dequeue(proc, thread);
    thread.sig_blocked.store(saved, Ordering::Relaxed);
    r
}

// ---- Restart of interrupted system calls ----

const ERESTARTSYS: u64 = (-(Errno::ERESTARTSYS as i64)) as u64;
const ERESTARTNOHAND: u64 = (-(Errno::ERESTARTNOHAND as i64)) as u64;
const ERESTARTNOINTR: u64 = (-(Errno::ERESTARTNOINTR as i64)) as u64;
const EINTR: u64 = (-(Errno::EINTR as i64)) as u64;

/// Rewinds a syscall frame so the `syscall` instruction runs again.
fn restart(frame: &mut TrapFrame) {
    frame.rax = frame.error_code; // the original syscall number
    frame.rip -= 2;
}

/// Runs on every return to user mode: delivers pending signals (default actions or handlers)
/// and settles interrupted system calls.
#[inline]
pub fn deliver(frame: &mut TrapFrame) {
    if task::signal_work_possible() {
        deliver_pending(frame);
    } else if frame.is_syscall()
        && matches!(frame.rax, ERESTARTSYS | ERESTARTNOHAND | ERESTARTNOINTR)
    {
        // Nothing pending for this thread and no mask to restore (see task::SIGNAL_WORK): only
        // an interrupted call may still need its restart.
        restart(frame);
    }
}

#[inline(never)]
fn deliver_pending(frame: &mut TrapFrame) {
    // exit_group never returns, so it is called only here, after `handle_pending` has dropped
    // its references to the thread and the process: calling it with them still held leaked
    // both (the kernel stack with them) on every death by a signal.
    if let Some(status) = handle_pending(frame) {
        super::exit::exit_group(status);
    }
}

/// Delivers pending signals; the wait status to exit with if one of them kills the process.
fn handle_pending(frame: &mut TrapFrame) -> Option<i32> {
    let thread = task::current();
    let proc = super::of_thread(&thread)?;
    let in_syscall = frame.is_syscall();
    loop {
        // A group stop holds every thread here until SIGCONT (or SIGKILL).
        if proc.signals.stopped.load(Ordering::Relaxed) {
            wait_while_stopped(&proc, &thread, frame);
        }
        // A tracer sees each signal first, and may change or suppress it.
        let (sig, info) = match super::ptrace::signal_stop(&thread, frame, dequeue(&proc, &thread))
        {
            super::ptrace::Intercept::Deliver(sig, info) => (sig, info),
            super::ptrace::Intercept::Suppressed => continue,
            super::ptrace::Intercept::Nothing => break,
        };
        let act = proc.handlers().lock().get(sig);
        let handler = if sig == SIGKILL || sig == SIGSTOP { SIG_DFL } else { act.handler };
        if handler == SIG_IGN {
            continue;
        }
        if handler == SIG_DFL {
            match default_action(sig) {
                DefaultAction::Ignore | DefaultAction::Continue => continue,
                DefaultAction::Stop => {
                    if sig == SIGSTOP || !super::group::is_orphaned(proc.pgid()) {
                        stop(&proc, sig);
                    }
                    continue;
                }
                DefaultAction::Terminate => return Some(super::exit::status_signaled(sig, false)),
                DefaultAction::CoreDump => {
                    let core = proc.rlimits.lock().0[super::rlimit::RLIMIT_CORE].cur > 0;
                    return Some(super::exit::status_signaled(sig, core));
                }
            }
        }
        if in_syscall {
            match frame.rax {
                ERESTARTNOHAND => frame.rax = EINTR,
                ERESTARTSYS if act.flags & SA_RESTART == 0 => frame.rax = EINTR,
                ERESTARTSYS | ERESTARTNOINTR => restart(frame),
                _ => {}
            }
        }
        if setup_frame(&proc, &thread, frame, sig, &info, &act).is_err() {
            // Like Linux's force_sigsegv: an unusable stack kills the process.
            return Some(super::exit::status_signaled(SIGSEGV, false));
        }
        if act.flags & SA_RESETHAND != 0 {
            proc.handlers().lock().set(sig, SigAction::default());
        }
        return None;
    }
    if let Some(mask) = thread.restore_mask.lock().take() {
        thread.sig_blocked.store(mask, Ordering::Relaxed);
    }
    // Interrupts are off from here to user mode: nothing can post a signal before we get there.
    if thread.pending_all() == 0 {
        task::clear_signal_work();
    }
    if in_syscall && matches!(frame.rax, ERESTARTSYS | ERESTARTNOHAND | ERESTARTNOINTR) {
        restart(frame);
    }
    None
}

/// Stops the process until SIGCONT (or SIGKILL), reporting to the parent. Other signals stay
/// pending meanwhile, as in Linux.
fn stop(proc: &Arc<Process>, sig: u32) {
    proc.signals.stopped.store(true, Ordering::Relaxed);
    proc.signals.stop_signal.store(sig, Ordering::Relaxed);
    *proc.signals.report.lock() = Some(JobEvent::Stopped(sig));
    notify_parent_job(proc, CLD_STOPPED, sig);
    // The other threads stop on their way back to user mode (`handle_pending` checks the
    // flag first); sleeping ones stay asleep, which is as stopped as they can be.
    proc.for_each_thread(task::scheduler::wake_urgent);
    task::note_signal_work();
    // The caller's loop waits (`wait_while_stopped`) before it looks at the next signal.
}

/// Sleeps through a group stop; a traced thread reports it to its tracer instead, which ends
/// it (`ptrace::group_stop`).
fn wait_while_stopped(proc: &Process, thread: &Arc<Thread>, frame: &mut TrapFrame) {
    if super::ptrace::group_stop(thread, frame, proc) {
        return;
    }
    proc.signals.wake_on_continue.wait_unbounded(|| {
        let killed = thread.pending_all() & bit(SIGKILL) != 0;
        let trap = super::ptrace::trap_pending(thread);
        (!proc.signals.stopped.load(Ordering::Relaxed) || killed || trap).then_some(())
    });
}

// ---- The signal frame ----

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct SigContext {
    r8: u64,
    r9: u64,
    r10: u64,
    r11: u64,
    r12: u64,
    r13: u64,
    r14: u64,
    r15: u64,
    rdi: u64,
    rsi: u64,
    rbp: u64,
    rbx: u64,
    rdx: u64,
    rax: u64,
    rcx: u64,
    rsp: u64,
    rip: u64,
    eflags: u64,
    cs: u16,
    gs: u16,
    fs: u16,
    ss: u16,
    err: u64,
    trapno: u64,
    oldmask: u64,
    cr2: u64,
    fpstate: u64,
    reserved: [u64; 8],
}

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct UContext {
    flags: u64,
    link: u64,
    ss_sp: u64,
    ss_flags: u32,
    _pad: u32,
    ss_size: u64,
    mcontext: SigContext,
    sigmask: u64,
}

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct RtSigFrame {
    pretcode: u64,
    uc: UContext,
    info: SigInfo,
}

const UC_SIGCONTEXT_SS: u64 = 2;
const UC_STRICT_RESTORE_SS: u64 = 4;
pub const SS_ONSTACK: u32 = 1;
pub const SS_DISABLE: u32 = 2;

/// Is `sp` on the thread's alternate signal stack?
pub fn on_alt_stack(thread: &Thread, sp: u64) -> bool {
    let (base, size, flags) = *thread.alt_stack.lock();
    flags & SS_DISABLE == 0 && size != 0 && sp > base && sp - base <= size
}

fn setup_frame(
    proc: &Process,
    thread: &Thread,
    frame: &mut TrapFrame,
    sig: u32,
    info: &SigInfo,
    act: &SigAction,
) -> Result<()> {
    frame.complete_fpu();
    let _ = proc;
    let (alt_base, alt_size, alt_flags) = *thread.alt_stack.lock();
    let restore = thread.restore_mask.lock().take();
    let mut sp = if act.flags & SA_ONSTACK != 0
        && alt_flags & SS_DISABLE == 0
        && alt_size != 0
        && !on_alt_stack(thread, frame.rsp)
    {
        alt_base.wrapping_add(alt_size)
    } else {
        frame.rsp.wrapping_sub(128) // the red zone
    };
    // The stack pointer and the sigaltstack range are the program's: as in Linux the address
    // arithmetic wraps, and a frame that lands outside user memory fails to be written below
    // (the caller then kills with SIGSEGV).
    sp = sp.wrapping_sub(512) & !63;
    let fpstate = sp;
    let frame_addr =
        (sp.wrapping_sub(core::mem::size_of::<RtSigFrame>() as u64) & !15).wrapping_sub(8);
    let old_mask = restore.unwrap_or_else(|| thread.sig_blocked.load(Ordering::Relaxed));
    let mc = SigContext {
        r8: frame.r8,
        r9: frame.r9,
        r10: frame.r10,
        r11: frame.r11,
        r12: frame.r12,
        r13: frame.r13,
        r14: frame.r14,
        r15: frame.r15,
        rdi: frame.rdi,
        rsi: frame.rsi,
        rbp: frame.rbp,
        rbx: frame.rbx,
        rdx: frame.rdx,
        rax: frame.rax,
        rcx: frame.rcx,
        rsp: frame.rsp,
        rip: frame.rip,
        eflags: frame.rflags,
        cs: frame.cs as u16,
        gs: 0,
        fs: 0,
        ss: frame.ss as u16,
        err: if frame.vector < 32 { frame.error_code } else { 0 },
        trapno: if frame.vector < 32 { frame.vector } else { 0 },
        oldmask: old_mask,
        // The fault address of a page fault (si_addr of the SIGSEGV/SIGBUS it raised).
        cr2: if frame.vector == crate::arch::trap::VEC_PAGE_FAULT { info.fields[0] } else { 0 },
        fpstate,
        reserved: [0; 8],
    };
    let rt = RtSigFrame {
        pretcode: act.restorer,
        uc: UContext {
            flags: UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS,
            link: 0,
            ss_sp: alt_base,
            ss_flags: if on_alt_stack(thread, frame.rsp) {
                SS_ONSTACK
            } else {
                alt_flags & SS_DISABLE
            },
            _pad: 0,
            ss_size: alt_size,
            mcontext: mc,
            sigmask: old_mask,
        },
        info: *info,
    };
    let mut fx = frame.fpu;
    // Linux marks a plain FXSAVE image by leaving sw_reserved magic unset.
    fx.0[464..512].fill(0);
    UserPtr::<[u8; 512]>::new(fpstate).write(&fx.0)?;
    UserPtr::<RtSigFrame>::new(frame_addr).write(&rt)?;

    let mut mask = thread.sig_blocked.load(Ordering::Relaxed) | act.mask;
    if act.flags & SA_NODEFER == 0 {
        mask |= bit(sig);
    }
    thread.sig_blocked.store(mask & !UNBLOCKABLE, Ordering::Relaxed);
    frame.rsp = frame_addr;
    frame.rip = act.handler;
    frame.rdi = sig as u64;
    frame.rsi = frame_addr + core::mem::offset_of!(RtSigFrame, info) as u64;
    frame.rdx = frame_addr + core::mem::offset_of!(RtSigFrame, uc) as u64;
    frame.rax = 0;
    frame.rflags &= !(1 << 10 | 1 << 8); // DF and TF clear, as Linux
    frame.fpu = crate::arch::trap::FpuState::initial();
    Ok(())
}

/// rt_sigreturn: restores the context saved by `setup_frame` (the frame is at rsp - 8).
pub fn sigreturn(frame: &mut TrapFrame) -> Result<i64> {
    frame.complete_fpu();
    let addr = frame.rsp.wrapping_sub(8); // the program's rsp: any value
    let rt = UserPtr::<RtSigFrame>::new(addr).read();
    let Ok(rt) = rt else {
        // No references held here: exit_group does not return to drop them.
        super::exit::exit_group(super::exit::status_signaled(SIGSEGV, false));
    };
    let thread = task::current();
    let mc = rt.uc.mcontext;
    frame.r8 = mc.r8;
    frame.r9 = mc.r9;
    frame.r10 = mc.r10;
    frame.r11 = mc.r11;
    frame.r12 = mc.r12;
    frame.r13 = mc.r13;
    frame.r14 = mc.r14;
    frame.r15 = mc.r15;
    frame.rdi = mc.rdi;
    frame.rsi = mc.rsi;
    frame.rbp = mc.rbp;
    frame.rbx = mc.rbx;
    frame.rdx = mc.rdx;
    frame.rax = mc.rax;
    frame.rcx = mc.rcx;
    frame.rsp = mc.rsp;
    frame.rip = mc.rip;
    // Only the arithmetic and direction flags, TF, RF and AC may change (Linux's FIX_EFLAGS).
    const USER_FLAGS: u64 =
        0x1 | 0x4 | 0x10 | 0x40 | 0x80 | 0x100 | 0x400 | 0x800 | 0x1_0000 | 0x4_0000;
    frame.rflags = (frame.rflags & !USER_FLAGS) | (mc.eflags & USER_FLAGS);
    frame.cs = crate::arch::gdt::USER_CS as u64;
    frame.ss = crate::arch::gdt::USER_DS as u64;
    if mc.fpstate != 0 {
        if let Ok(fx) = UserPtr::<[u8; 512]>::new(mc.fpstate).read() {
            frame.fpu.0 = fx;
            // MXCSR reserved bits must be clear or fxrstor faults.
            let mxcsr = u32::from_le_bytes([fx[24], fx[25], fx[26], fx[27]]) & 0xffff;
            frame.fpu.0[24..28].copy_from_slice(&mxcsr.to_le_bytes());
        }
    }
    thread.sig_blocked.store(rt.uc.sigmask & !UNBLOCKABLE, Ordering::Relaxed);
    // Not a syscall return any more: nothing to restart.
    frame.vector = crate::arch::trap::VEC_SIGRETURN;
    Ok(frame.rax as i64)
}

/// A POSIX timer expired while its previous signal is still queued: adds `by` to that signal's
/// si_overrun in place (Linux keeps one preallocated record per timer). False if none is queued.
pub fn bump_timer_overrun(proc: &Process, timer_id: i32, by: u32) -> bool {
    let mut infos = proc.signals.infos.lock();
    let Some(q) = infos.0.iter_mut().find(|q| {
        q.info.code == super::timers::SI_TIMER && q.info.fields[0] as u32 == timer_id as u32
    }) else {
        return false;
    };
    let overrun = ((q.info.fields[0] >> 32) as u32).saturating_add(by).min(i32::MAX as u32);
    q.info.fields[0] = (q.info.fields[0] & 0xffff_ffff) | (overrun as u64) << 32;
    true
}
