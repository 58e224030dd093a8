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
pub mod net_env;
pub mod rlimit;
pub mod signal;
pub mod signalfd;
pub mod timers;
pub mod trap;
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

impl Drop for Process {
    fn drop(&mut self) {
        PROCESSES.lock().remove(&self.pid);
    }
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

/// A reaped process leaves the table at once, though a dying thread may still hold it briefly.
pub fn unregister(pid: u32) {
    PROCESSES.lock().remove(&pid);
}

pub fn find(pid: u32) -> Option<Arc<Process>> {
    PROCESSES.lock().get(&pid).and_then(|w| w.upgrade())
}

/// Every live or zombie process, by pid.
pub fn all() -> Vec<Arc<Process>> {
    PROCESSES.lock().values().filter_map(|w| w.upgrade()).collect()
}

/// PID 1. The kernel's launcher thread is its only thread: it reaps orphans and runs the batch.
pub fn init_process() -> Arc<Process> {
    find(1).expect("init exists")
}
