//! POSIX processes: the `Process` object and its table, creation (fork, exec), exit and wait,
//! groups and sessions, signals, and the kernel's handling of traps on behalf of user programs.

pub mod creds;
pub mod describe;
pub mod exec;
pub mod exit;
pub mod fileops;
pub mod fork;
pub mod group;
pub mod job_control;
pub mod kill;
pub mod launcher;
pub mod loader;
pub mod net_env;
pub mod oom;
pub mod priority;
pub mod rlimit;
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
    pub fds: Mutex<FdTable>,
    pub fs: Mutex<FsContext>,
    pub creds: Mutex<Credentials>,
    pub sigactions: Mutex<SigActions>,
    pub signals: SignalState,
    pub rlimits: Mutex<Rlimits>,
    pub threads: Mutex<Vec<Weak<Thread>>>,
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
    pub oom_score_adj: core::sync::atomic::AtomicI32,
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
            fds: Mutex::new(FdTable::new()),
            fs: Mutex::new(fs),
            creds: Mutex::new(Credentials::root()),
            sigactions: Mutex::new(SigActions::default()),
            signals: SignalState::default(),
            rlimits: Mutex::new(Rlimits::default()),
            threads: Mutex::new(Vec::new()),
            exe: Mutex::new(String::new()),
            cmdline: Mutex::new(Vec::new()),
            comm: Mutex::new(None),
            life: Mutex::new(Life::Running),
            child_events: WaitQueue::new(),
            vfork_done: AtomicBool::new(false),
            did_exec: AtomicBool::new(false),
            exit_signal: AtomicU32::new(signal::SIGCHLD),
            vfork_wait: WaitQueue::new(),
            ctty: Mutex::new(None),
            start_ns: crate::arch::time::monotonic_ns(),
            nproc_uid: Mutex::new(None),
            nproc_exceeded: AtomicBool::new(false),
            oom_score_adj: core::sync::atomic::AtomicI32::new(0),
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

    /// The process's (only) thread, while it is alive.
    pub fn main_thread(&self) -> Option<Arc<Thread>> {
        self.threads.lock().iter().find_map(|t| t.upgrade())
    }

    fn attach_thread(self: &Arc<Self>, thread: &Arc<Thread>) {
        thread.set_owner(self.clone());
        thread.set_shared_pending(self.signals.shared_pending.clone());
        self.threads.lock().push(Arc::downgrade(thread));
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

impl Drop for Process {
    fn drop(&mut self) {
        self.uncharge_nproc();
        PROCESSES.lock().remove(&self.pid);
    }
}

/// Processes in the table (zombies included), against /proc/sys/kernel/threads-max.
pub fn count() -> usize {
    PROCESSES.lock().len()
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

/// The command name (at most 15 bytes), as /proc/<pid>/comm and ps show it.
pub fn comm_of(p: &Process) -> String {
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
