//! POSIX processes: the `Process` object, creation from an executable, exit and waiting, signal
//! dispositions, and the kernel's handling of traps on behalf of user programs.

pub mod creds;
pub mod exec;
pub mod exit;
pub mod launcher;
pub mod rlimit;
pub mod signal;
pub mod trap;

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU32, Ordering};

use crate::error::{Errno, Result};
use crate::fs::fd_table::FdTable;
use crate::fs::file::{OpenFile, O_RDWR};
use crate::mm::vm::AddressSpace;
use crate::sync::Mutex;
use crate::task::{self, Thread, WaitQueue};
use creds::Credentials;
use rlimit::Rlimits;
use signal::SigActions;

pub struct Process {
    pub pid: u32,
    pub ppid: AtomicU32,
    pub vm: Mutex<AddressSpace>,
    pub fds: Mutex<FdTable>,
    pub creds: Mutex<Credentials>,
    pub sigactions: Mutex<SigActions>,
    pub rlimits: Mutex<Rlimits>,
    pub threads: Mutex<Vec<Weak<Thread>>>,
    /// The path the current image was executed from (AT_EXECFN, /proc/self/exe).
    pub exe: Mutex<String>,
    /// The wait status once the process has exited (a zombie until reaped).
    pub exit_status: Mutex<Option<i32>>,
    /// Woken when this process exits.
    pub exited: WaitQueue,
}

static PROCESSES: Mutex<BTreeMap<u32, Weak<Process>>> = Mutex::new(BTreeMap::new());

impl Process {
    fn new(pid: u32, ppid: u32, vm: AddressSpace) -> Arc<Process> {
        let p = Arc::new(Process {
            pid,
            ppid: AtomicU32::new(ppid),
            vm: Mutex::new(vm),
            fds: Mutex::new(FdTable::new()),
            creds: Mutex::new(Credentials::root()),
            sigactions: Mutex::new(SigActions::default()),
            rlimits: Mutex::new(Rlimits::default()),
            threads: Mutex::new(Vec::new()),
            exe: Mutex::new(String::new()),
            exit_status: Mutex::new(None),
            exited: WaitQueue::new(),
        });
        PROCESSES.lock().insert(pid, Arc::downgrade(&p));
        p
    }

    pub fn is_zombie(&self) -> bool {
        self.exit_status.lock().is_some()
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        PROCESSES.lock().remove(&self.pid);
    }
}

/// The process the current thread belongs to. Only called on behalf of user threads.
pub fn current() -> Arc<Process> {
    let t = task::current();
    let owner = t.owner().expect("current thread belongs to a process").clone();
    owner.downcast::<Process>().unwrap_or_else(|_| panic!("thread owner is not a process"))
}

pub fn find(pid: u32) -> Option<Arc<Process>> {
    PROCESSES.lock().get(&pid).and_then(|w| w.upgrade())
}

/// Starts `path` as a new process whose fds 0-2 are the console.
pub fn spawn(path: &str, argv: &[String], envp: &[String], ppid: u32) -> Result<Arc<Process>> {
    let image = exec::load(path, argv, envp)?;
    let pid = task::thread::alloc_tid();
    let proc = Process::new(pid, ppid, image.vm);
    *proc.exe.lock() = image.exe;
    {
        let console = OpenFile::new(crate::fs::tty::console().clone(), O_RDWR);
        let mut fds = proc.fds.lock();
        for _ in 0..3 {
            fds.insert(console.clone(), false, 0, 3).map_err(|_| Errno::EMFILE)?;
        }
    }
    let root = proc.vm.lock().root();
    let thread = Thread::new_user(pid, &image.frame, root);
    thread.set_owner(proc.clone());
    proc.threads.lock().push(Arc::downgrade(&thread));
    task::scheduler::spawn(thread);
    Ok(proc)
}

pub fn live_count() -> usize {
    PROCESSES.lock().len()
}

pub fn next_pid_hint() -> u32 {
    0
}

pub fn pids() -> Vec<u32> {
    PROCESSES.lock().keys().copied().collect()
}

pub fn parent_of(p: &Process) -> u32 {
    p.ppid.load(Ordering::Relaxed)
}
