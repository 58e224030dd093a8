//! POSIX processes: the `Process` object and its table, creation (fork, exec), exit and wait,
//! groups and sessions, signals, and the kernel's handling of traps on behalf of user programs.

pub mod creds;
pub mod describe;
pub mod exec;
pub mod exit;
pub mod fileops;
pub mod fork;
pub mod futex_exit;
pub mod group;
pub mod job_control;
pub mod kill;
pub mod launcher;
pub mod loader;
pub mod net_env;
pub mod oom;
pub mod pidfd;
pub mod priority;
pub mod ptrace;
pub mod rlimit;
pub mod rseq;
pub mod sigio;
pub mod signal;
pub mod signalfd;
pub mod timers;
pub mod trap;
pub mod ucounts;
pub mod wait;

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use crate::fs::fd_table::FdTable;
use crate::fs::path::Walk;
use crate::fs::tty::Tty;
use crate::mm::vm::AddressSpace;
use crate::sync::Mutex;
use crate::task::{self, Thread, WaitQueue};
use creds::Credentials;
use rlimit::Rlimits;
use signal::{SigActions, SignalState};

/// An address space, shareable between processes (CLONE_VM).
pub type Vm = Arc<Mutex<AddressSpace>>;

pub fn new_vm(space: AddressSpace) -> Vm {
    Arc::new(Mutex::new(space))
}

/// Where a process stands in the file system.
#[derive(Clone)]
pub struct FsContext {
    pub cwd: Walk,
    pub umask: u32,
}

/// What a parent's wait can observe.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Life {
    Running,
    /// Exited or killed, with its wait status; a zombie until reaped.
    Zombie(i32),
}

pub struct Process {
    pub pid: u32,
    /// Read with `parent()`, changed with `set_parent` (which keeps `ppid` in step).
    parent: Mutex<Weak<Process>>,
    /// The parent's pid (0 for init), so getppid takes no lock.
    ppid: AtomicU32,
    /// Children, zombies included (they stay here until reaped).
    pub children: Mutex<Vec<Arc<Process>>>,
    pub pgid: AtomicU32,
    pub sid: AtomicU32,
    /// The address space; shared with a CLONE_VM child (vfork), None once the process exited.
    pub vm: Mutex<Option<Vm>>,
    /// The descriptor table, fs context and signal handlers: shared by the threads of the
    /// process and, with CLONE_FILES / CLONE_FS / CLONE_SIGHAND, with other processes. Read
    /// them with `files()`, `fs()` and `handlers()`; unshare and exec replace the pointer.
    fds: Mutex<Arc<Mutex<FdTable>>>,
    fs_ctx: Mutex<Arc<Mutex<FsContext>>>,
    pub creds: Mutex<Credentials>,
    sigactions: Mutex<Arc<Mutex<SigActions>>>,
    pub signals: SignalState,
    pub rlimits: Mutex<Rlimits>,
    /// The live threads of the group (Linux's thread group: this process is its tgid); a
    /// thread leaves the list when it exits, and the last one out ends the process.
    pub threads: Mutex<Vec<Weak<Thread>>>,
    /// exit_group or a fatal signal: the group's wait status; every thread exits with it.
    pub group_exit: Mutex<Option<i32>>,
    /// An execve from one thread is ending the others (Linux's de_thread); it waits on
    /// `thread_exited` until it is the only one left.
    pub de_thread: AtomicBool,
    pub thread_exited: WaitQueue,
    /// Threads beyond the first, each counted under `nproc_uid` for RLIMIT_NPROC.
    extra_threads: AtomicU32,
    /// Notified when the process exits (its pidfds poll readable then).
    pub exit_pollee: crate::event::Pollee,
    /// The path the current image was executed from (AT_EXECFN, /proc/<pid>/exe) and its argv.
    pub exe: Mutex<String>,
    pub cmdline: Mutex<Vec<String>>,
    /// The name set by prctl(PR_SET_NAME) or exec (the basename of the executed path).
    pub comm: Mutex<Option<String>>,
    pub life: Mutex<Life>,
    /// Woken when a child changes state (exit, stop, continue).
    pub child_events: WaitQueue,
    /// A vfork parent sleeps here until the child execs or exits.
    pub vfork_done: AtomicBool,
    /// Set by execve (setpgid on a child that has exec'd fails with EACCES).
    pub did_exec: AtomicBool,
    /// prctl(PR_SET_DUMPABLE): only CAP_SYS_PTRACE may trace a process that cleared it;
    /// inherited by fork, set again by execve.
    pub dumpable: AtomicBool,
    /// The signal the parent gets at exit (SIGCHLD unless clone said otherwise).
    pub exit_signal: AtomicU32,
    pub vfork_wait: WaitQueue,
    /// The session's controlling terminal, if any.
    pub ctty: Mutex<Option<Arc<Tty>>>,
    /// Monotonic time at creation, for /proc/<pid>/stat.
    pub start_ns: u64,
    /// The real uid this process is counted under for RLIMIT_NPROC (`ucounts`), until reaped.
    nproc_uid: Mutex<Option<u32>>,
    /// Linux's PF_NPROC_EXCEEDED: a set*uid moved the process to a user at its RLIMIT_NPROC;
    /// the next execve fails with EAGAIN if that is still so.
    pub nproc_exceeded: AtomicBool,
    /// /proc/<pid>/oom_score_adj: -1000 (never) to 1000 (first), inherited by fork.
    pub oom_score_adj: oom::OomScoreAdj,
    /// CPU time totals, interval timers and POSIX timers (`timers`).
    pub timers: timers::Timers,
    /// The nice value and I/O priority (`priority`), inherited by fork.
    pub priority: priority::Priority,
    /// The root directory set by chroot (None: the file system's), inherited by fork. Apart
    /// from `fs` so that the path walk may ask for it while `fs` is held.
    pub root: Mutex<Option<Walk>>,
}

static PROCESSES: Mutex<BTreeMap<u32, Weak<Process>>> = Mutex::new(BTreeMap::new());

impl Process {
    /// A process with a fresh identity; everything else is the caller's to fill.
    fn new(pid: u32, parent: Weak<Process>, vm: Vm, fs: FsContext) -> Arc<Process> {
        let p = Arc::new(Process {
            pid,
            ppid: AtomicU32::new(parent.upgrade().map_or(0, |p| p.pid)),
            parent: Mutex::new(parent),
            children: Mutex::new(Vec::new()),
            pgid: AtomicU32::new(pid),
            sid: AtomicU32::new(pid),
            vm: Mutex::new(Some(vm)),
            fds: Mutex::new(Arc::new(Mutex::new(FdTable::new()))),
            fs_ctx: Mutex::new(Arc::new(Mutex::new(fs))),
            creds: Mutex::new(Credentials::root()),
            sigactions: Mutex::new(Arc::new(Mutex::new(SigActions::default()))),
            signals: SignalState::default(),
            rlimits: Mutex::new(Rlimits::default()),
            threads: Mutex::new(Vec::new()),
            group_exit: Mutex::new(None),
            de_thread: AtomicBool::new(false),
            thread_exited: WaitQueue::new(),
            extra_threads: AtomicU32::new(0),
            exit_pollee: crate::event::Pollee::new(),
            exe: Mutex::new(String::new()),
            cmdline: Mutex::new(Vec::new()),
            comm: Mutex::new(None),
            life: Mutex::new(Life::Running),
            child_events: WaitQueue::new(),
            vfork_done: AtomicBool::new(false),
            did_exec: AtomicBool::new(false),
            dumpable: AtomicBool::new(true),
            exit_signal: AtomicU32::new(signal::SIGCHLD),
            vfork_wait: WaitQueue::new(),
            ctty: Mutex::new(None),
            start_ns: crate::arch::time::monotonic_ns(),
            nproc_uid: Mutex::new(None),
            nproc_exceeded: AtomicBool::new(false),
            oom_score_adj: oom::OomScoreAdj::new(),
            timers: timers::Timers::default(),
            priority: priority::Priority::default(),
            root: Mutex::new(None),
        });
        PROCESSES.lock().insert(pid, Arc::downgrade(&p));
        p
    }

    /// The parent's pid; 0 for init. A process's parent lives at least as long as it is the
    /// parent: an exiting process hands its children to init (`exit::reparent_children`).
    pub fn ppid(&self) -> u32 {
        self.ppid.load(Ordering::Relaxed)
    }

    pub fn parent(&self) -> Option<Arc<Process>> {
        self.parent.lock().upgrade()
    }

    pub fn set_parent(&self, parent: &Arc<Process>) {
        *self.parent.lock() = Arc::downgrade(parent);
        self.ppid.store(parent.pid, Ordering::Relaxed);
    }

    pub fn pgid(&self) -> u32 {
        self.pgid.load(Ordering::Relaxed)
    }

    pub fn sid(&self) -> u32 {
        self.sid.load(Ordering::Relaxed)
    }

    /// The address space of a live process.
    pub fn vm(&self) -> Vm {
        self.vm.lock().clone().expect("a live process has an address space")
    }

    pub fn is_zombie(&self) -> bool {
        matches!(*self.life.lock(), Life::Zombie(_))
    }

    /// The descriptor table (shared under CLONE_FILES).
    pub fn files(&self) -> Arc<Mutex<FdTable>> {
        self.fds.lock().clone()
    }

    /// Replaces the descriptor table (fork's copy, unshare, exec, exit), returning the old one.
    pub fn set_files(&self, table: Arc<Mutex<FdTable>>) -> Arc<Mutex<FdTable>> {
        core::mem::replace(&mut *self.fds.lock(), table)
    }

    /// The fs context: cwd and umask (shared under CLONE_FS).
    pub fn fs(&self) -> Arc<Mutex<FsContext>> {
        self.fs_ctx.lock().clone()
    }

    pub fn set_fs(&self, fs: Arc<Mutex<FsContext>>) {
        *self.fs_ctx.lock() = fs;
    }

    /// The signal dispositions (shared under CLONE_SIGHAND).
    pub fn handlers(&self) -> Arc<Mutex<SigActions>> {
        self.sigactions.lock().clone()
    }

    pub fn set_handlers(&self, h: Arc<Mutex<SigActions>>) {
        *self.sigactions.lock() = h;
    }

    /// The group leader if it is alive, else the oldest live thread: what /proc, the OOM
    /// killer and a process-directed signal look at first.
    pub fn main_thread(&self) -> Option<Arc<Thread>> {
        let threads = self.threads.lock();
        threads
            .iter()
            .filter_map(|t| t.upgrade())
            .find(|t| t.tid() == self.pid)
            .or_else(|| threads.iter().find_map(|t| t.upgrade()))
    }

    /// The live thread with id `tid`.
    pub fn thread(&self, tid: u32) -> Option<Arc<Thread>> {
        self.threads.lock().iter().filter_map(|t| t.upgrade()).find(|t| t.tid() == tid)
    }

    /// Calls `f` on every live thread, oldest first, with the thread list locked (so `f` must
    /// not block, and needs no memory: kill must work on a full heap).
    pub fn for_each_thread(&self, mut f: impl FnMut(&Arc<Thread>)) {
        for t in self.threads.lock().iter() {
            if let Some(t) = t.upgrade() {
                f(&t);
            }
        }
    }

    /// How many threads the group has (for /proc's `Threads:`).
    pub fn thread_count(&self) -> usize {
        self.threads.lock().iter().filter(|t| t.strong_count() > 0).count()
    }

    /// The thread list has room for one more (fallibly, before anything else is done).
    fn reserve_thread(&self) -> crate::error::Result<()> {
        self.threads.lock().try_reserve(1).map_err(|_| crate::error::Errno::ENOMEM)
    }

    fn attach_thread(self: &Arc<Self>, thread: &Arc<Thread>) {
        thread.set_owner(self.clone());
        thread.set_shared_pending(self.signals.shared_pending.clone());
        let mut threads = self.threads.lock();
        // Forget threads that have gone (a list of weak references), then add this one in the
        // room `reserve_thread` made.
        threads.retain(|t| t.strong_count() > 0);
        threads.push(Arc::downgrade(thread));
    }

    /// Takes `thread` out of the group; true if it was the last one.
    fn detach_thread(&self, thread: &Thread) -> bool {
        let mut threads = self.threads.lock();
        threads.retain(|t| t.strong_count() > 0 && !core::ptr::eq(t.as_ptr(), thread));
        threads.is_empty()
    }
}

impl Process {
    /// Counts this process under real uid `uid` for RLIMIT_NPROC; false if out of memory.
    fn charge_nproc(&self, uid: u32) -> bool {
        if !ucounts::charge_process(uid) {
            return false;
        }
        *self.nproc_uid.lock() = Some(uid);
        true
    }

    /// Its real uid changed (set*uid): the count moves with it, as Linux's set_user. Flags the
    /// process when the new user was already at RLIMIT_NPROC (execve then checks again).
    pub fn move_nproc(&self, uid: u32) {
        let mut charged = self.nproc_uid.lock();
        let Some(old) = *charged else { return };
        if old == uid {
            return;
        }
        // The group's other threads move too (credentials are per process here).
        let extra = self.extra_threads.load(Ordering::Relaxed);
        for _ in 0..extra {
            if ucounts::charge_process(uid) {
                ucounts::uncharge_process(old);
            }
        }
        let limit = self.rlimits.lock().0[rlimit::RLIMIT_NPROC].cur;
        let over = uid != 0 && ucounts::processes(uid) > limit;
        self.nproc_exceeded.store(over, Ordering::Relaxed);
        if ucounts::charge_process(uid) {
            ucounts::uncharge_process(old);
            *charged = Some(uid);
        }
    }

    fn uncharge_nproc(&self) {
        if let Some(uid) = self.nproc_uid.lock().take() {
            ucounts::uncharge_process(uid);
        }
    }
}

impl Process {
    /// A new thread (CLONE_THREAD) counts under the group's user; false if out of memory.
    fn charge_thread(&self) -> bool {
        let Some(uid) = *self.nproc_uid.lock() else { return true };
        if !ucounts::charge_process(uid) {
            return false;
        }
        self.extra_threads.fetch_add(1, Ordering::Relaxed);
        EXTRA_THREADS.fetch_add(1, Ordering::Relaxed);
        true
    }

    /// A thread that was not the last one exited.
    fn uncharge_thread(&self) {
        let mut n = self.extra_threads.load(Ordering::Relaxed);
        while n > 0 {
            match self.extra_threads.compare_exchange(
                n,
                n - 1,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => {
                    EXTRA_THREADS.fetch_sub(1, Ordering::Relaxed);
                    if let Some(uid) = *self.nproc_uid.lock() {
                        ucounts::uncharge_process(uid);
                    }
                    return;
                }
                Err(now) => n = now,
            }
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        while self.extra_threads.load(Ordering::Relaxed) > 0 {
            self.uncharge_thread();
        }
        self.uncharge_nproc();
        PROCESSES.lock().remove(&self.pid);
    }
}

/// Threads beyond each process's first, over all processes.
static EXTRA_THREADS: AtomicU32 = AtomicU32::new(0);

/// Tasks in Linux's sense — processes in the table (zombies included) and the extra threads
/// of each — against /proc/sys/kernel/threads-max.
pub fn count() -> usize {
    PROCESSES.lock().len() + EXTRA_THREADS.load(Ordering::Relaxed) as usize
}

static THREADS_MAX: AtomicU32 = AtomicU32::new(0);

/// /proc/sys/kernel/threads-max: how many processes (threads, in Linux) may exist. Linux sizes it
/// so kernel stacks take at most an eighth of RAM; ours come from the bounded kernel heap, so
/// it is half the heap in 64 KiB kernel stacks (the other half for everything else), at
/// least 20 as in Linux.
pub fn threads_max() -> u32 {
    let mut n = THREADS_MAX.load(Ordering::Relaxed);
    if n == 0 {
        let (_, heap) = crate::mm::heap::stats();
        n = ((heap / (2 * 64 * 1024)) as u32).max(20);
        THREADS_MAX.store(n, Ordering::Relaxed);
    }
    n
}

/// Root writes threads-max (Linux accepts 1 to FUTEX_TID_MASK, else EINVAL).
pub fn set_threads_max(n: u64) -> crate::error::Result<()> {
    if !(1..=0x3fff_ffff).contains(&n) {
        return Err(crate::error::Errno::EINVAL);
    }
    THREADS_MAX.store(n as u32, Ordering::Relaxed);
    Ok(())
}

/// The command name (at most 15 bytes), as /proc/<pid>/comm and ps show it: the group
/// leader's name.
pub fn comm_of(p: &Process) -> String {
    if let Some(c) =
        p.main_thread().filter(|t| t.tid() == p.pid).and_then(|t| t.comm.lock().clone())
    {
        return c;
    }
    if let Some(c) = p.comm.lock().as_ref() {
        return c.clone();
    }
    let exe = p.exe.lock();
    let base = exe.rsplit('/').next().unwrap_or("");
    String::from(&base[..base.len().min(15)])
}

/// A thread's name: its own (prctl, /proc/PID/task/TID/comm), else the process's.
pub fn thread_comm(p: &Process, t: &Thread) -> String {
    if let Some(c) = t.comm.lock().as_ref() {
        return c.clone();
    }
    if let Some(c) = p.comm.lock().as_ref() {
        return c.clone();
    }
    let exe = p.exe.lock();
    let base = exe.rsplit('/').next().unwrap_or("");
    String::from(&base[..base.len().min(15)])
}

/// RLIMIT_MEMLOCK in pages for `p`, or None if it may lock without limit (root has
/// CAP_IPC_LOCK; RLIM_INFINITY).
pub fn memlock_limit(p: &Process) -> Option<u64> {
    if p.creds.lock().capable(crate::cap::Cap::IpcLock) {
        return None;
    }
    let cur = p.rlimits.lock().0[rlimit::RLIMIT_MEMLOCK].cur;
    (cur != rlimit::RLIM_INFINITY).then_some(cur / crate::mm::frame::PAGE_SIZE)
}

/// The process the current thread belongs to.
pub fn current() -> Arc<Process> {
    let owner =
        task::with_current(|t| t.owner().expect("current thread belongs to a process").clone());
    owner.downcast::<Process>().unwrap_or_else(|_| panic!("thread owner is not a process"))
}

/// Runs `f` on the current process without taking a reference to it. `f` must not block (see
/// `task::with_current`).
pub fn with_current<R>(f: impl FnOnce(&Process) -> R) -> R {
    task::with_current(|t| {
        let owner = t.owner().expect("current thread belongs to a process");
        f(owner.downcast_ref::<Process>().expect("thread owner is a process"))
    })
}

/// The process `t` belongs to, if any.
pub fn of_thread(t: &Thread) -> Option<Arc<Process>> {
    t.owner().cloned().and_then(|o| o.downcast::<Process>().ok())
}

/// A reaped process leaves the table at once, though a dying thread may still hold it briefly;
/// it stops counting against its user's RLIMIT_NPROC then too (Linux's release_task).
pub fn unregister(pid: u32) {
    let reaped = PROCESSES.lock().remove(&pid).and_then(|w| w.upgrade());
    if let Some(p) = reaped {
        p.uncharge_nproc();
    }
}

pub fn find(pid: u32) -> Option<Arc<Process>> {
    PROCESSES.lock().get(&pid).and_then(|w| w.upgrade())
}

/// Thread ids of threads other than their group's leader, to their process (tkill, /proc).
static TASKS: Mutex<BTreeMap<u32, Weak<Process>>> = Mutex::new(BTreeMap::new());

/// The process (thread group) that thread `tid` belongs to, leader or not.
pub fn find_by_tid(tid: u32) -> Option<Arc<Process>> {
    if let Some(p) = find(tid) {
        return Some(p);
    }
    TASKS.lock().get(&tid).and_then(|w| w.upgrade())
}

/// The thread `tid` and its process.
pub fn find_thread(tid: u32) -> Option<(Arc<Process>, Arc<Thread>)> {
    let p = find_by_tid(tid)?;
    let t = p.thread(tid)?;
    Some((p, t))
}

fn register_tid_fallible(tid: u32, p: &Arc<Process>) -> crate::error::Result<()> {
    crate::mm::fallible::ensure_room(256)?;
    TASKS.lock().insert(tid, Arc::downgrade(p));
    Ok(())
}

fn unregister_tid(tid: u32) {
    TASKS.lock().remove(&tid);
}

/// The first process whose pid is above `after`.
fn next_after(after: u32) -> Option<Arc<Process>> {
    PROCESSES.lock().range(after.saturating_add(1)..).find_map(|(_, w)| w.upgrade())
}

/// Calls `f` on every live or zombie process in pid order. The table is walked one pid at a
/// time rather than copied, so this needs no memory (kill must work on a full heap) and `f` may
/// take any lock.
pub fn for_each(mut f: impl FnMut(&Arc<Process>)) {
    let mut pid = 0;
    while let Some(p) = next_after(pid) {
        pid = p.pid;
        f(&p);
    }
}

/// Does some process satisfy `f`? (No memory needed, as `for_each`.)
pub fn any(mut f: impl FnMut(&Process) -> bool) -> bool {
    let mut pid = 0;
    while let Some(p) = next_after(pid) {
        if f(&p) {
            return true;
        }
        pid = p.pid;
    }
    false
}

/// Every live or zombie process, by pid.
pub fn all() -> Vec<Arc<Process>> {
    PROCESSES.lock().values().filter_map(|w| w.upgrade()).collect()
}

/// PID 1. The kernel's launcher thread is its only thread: it reaps orphans and runs the batch.
pub fn init_process() -> Arc<Process> {
    find(1).expect("init exists")
}
