//! PID 1. The kernel's first thread becomes process 1: it runs the commands of the batch file
//! `/etc/posix-x/run` one after another (docs/HOST_INTERFACE.md), each in its own session with the
//! console as controlling terminal, reaps orphans as init does, and powers off at the end.

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;

use super::{FsContext, Life, Process};
use crate::error::{Errno, Result};
use crate::fs::file::{OpenFile, O_RDWR};
use crate::fs::path::{self, Walk};
use crate::mm::vm::AddressSpace;
use crate::task::{self, Thread};

const BATCH_FILE: &str = "/etc/posix-x/run";
const SEARCH_PATH: [&str; 4] = ["/bin", "/sbin", "/usr/bin", "/usr/sbin"];

fn environment() -> Vec<String> {
    [
        "PATH=/bin:/sbin:/usr/bin:/usr/sbin",
        "HOME=/root",
        "TERM=vt100",
        "SHELL=/bin/sh",
        "USER=root",
        "LOGNAME=root",
    ]
    .iter()
    .map(|s| String::from(*s))
    .collect()
}

fn read_file(path: &str) -> Option<Vec<u8>> {
    let walk = path::resolve(&Walk::root(), path, true).ok()?;
    let mut data = alloc::vec![0u8; walk.inode().metadata().size as usize];
    let n = walk.inode().read_at(0, &mut data).ok()?;
    data.truncate(n);
    Some(data)
}

/// Commands separated by 0x1e, arguments by 0x1f.
fn parse_batch(data: &[u8]) -> Vec<Vec<String>> {
    data.split(|&b| b == 0x1e)
        .filter(|c| !c.is_empty())
        .map(|c| c.split(|&b| b == 0x1f).map(|a| String::from_utf8_lossy(a).into_owned()).collect())
        .collect()
}

/// Finds `name` in the search path unless it contains a slash.
fn find_program(name: &str) -> Option<String> {
    if name.contains('/') {
        return Some(String::from(name));
    }
    SEARCH_PATH.iter().map(|dir| alloc::format!("{}/{}", dir, name)).find(|p| {
        path::resolve(&Walk::root(), p, true).is_ok_and(|w| !w.inode().metadata().is_dir())
    })
}

/// Starts `path` as a child of init in a new session whose controlling terminal is the console.
fn spawn(init: &Arc<Process>, path: &str, argv: &[String]) -> Result<Arc<Process>> {
    let cwd = Walk::root();
    let creds = init.creds.lock().clone();
    let image = super::exec::load(&cwd, path, argv, &environment(), &creds)?;
    let pid = task::thread::alloc_tid();
    let proc = Process::new(
        pid,
        Arc::downgrade(init),
        super::new_vm(image.vm),
        FsContext { cwd: cwd.clone(), umask: 0o022 },
    );
    *proc.exe.lock() = super::exec::absolute(&cwd, &image.exe);
    *proc.comm.lock() = Some(super::exec::basename(path));
    *proc.cmdline.lock() = image.argv;
    let console = crate::fs::tty::console();
    *proc.ctty.lock() = Some(console.clone());
    console.set_session(pid, pid);
    {
        let file = OpenFile::new(Arc::new(console.clone()), O_RDWR);
        let fds_ref = proc.files();
        let mut fds = fds_ref.lock();
        for _ in 0..3 {
            fds.insert(file.clone(), false, 0, 3).map_err(|_| Errno::EMFILE)?;
        }
    }
    let root = proc.vm().lock().root();
    let thread = Thread::new_user(pid, &image.frame, root).ok_or(Errno::ENOMEM)?;
    proc.attach_thread(&thread);
    init.children.lock().push(proc.clone());
    task::scheduler::spawn(thread);
    Ok(proc)
}

/// Runs one command to completion, reaping any other children meanwhile; returns the exit
/// code or 128+signal.
fn run(init: &Arc<Process>, argv: &[String], first: &mut bool) -> i32 {
    let Some(path) = argv.first().and_then(|a| find_program(a)) else {
        crate::log!("{}: command not found", argv.first().map(String::as_str).unwrap_or(""));
        return 127;
    };
    let proc = match spawn(init, &path, argv) {
        Ok(p) => p,
        Err(e) => {
            crate::log!("{}: cannot execute: {:?}", path, e);
            return if e == Errno::ENOENT { 127 } else { 126 };
        }
    };
    if core::mem::take(first) {
        crate::control!("user-entry");
    }
    let status = init.child_events.wait_unbounded(|| {
        reap_orphans(init, proc.pid);
        match *proc.life.lock() {
            Life::Zombie(s) => Some(s),
            Life::Running => None,
        }
    });
    init.children.lock().retain(|c| c.pid != proc.pid);
    super::unregister(proc.pid);
    if status & 0x7f == 0 {
        (status >> 8) & 0xff
    } else {
        128 + (status & 0x7f)
    }
}

/// Reaps every zombie child except `keep`.
fn reap_orphans(init: &Arc<Process>, keep: u32) {
    init.children.lock().retain(|c| {
        let keep_it = c.pid == keep || !c.is_zombie();
        if !keep_it {
            super::unregister(c.pid);
        }
        keep_it
    });
}

/// Creates process 1 around the current (kernel) thread.
fn become_init() -> Arc<Process> {
    let vm = AddressSpace::new().expect("memory for init");
    let pid = task::thread::alloc_tid();
    assert_eq!(pid, 1, "init is the first process");
    let init = Process::new(
        1,
        alloc::sync::Weak::new(),
        super::new_vm(vm),
        FsContext { cwd: Walk::root(), umask: 0o022 },
    );
    init.attach_thread(&task::current());
    *init.exe.lock() = String::from("/init");
    *init.cmdline.lock() = alloc::vec![String::from("init")];
    init
}

pub extern "C" fn main(_: u64) -> ! {
    // Installed here rather than in main.rs's list: it is the process layer's, like init.
    super::oom::install();
    let init = become_init();
    let mut first = true;
    let commands = match read_file(BATCH_FILE) {
        Some(data) => parse_batch(&data),
        None => {
            let path = crate::cmdline::value("init").unwrap_or("/init");
            alloc::vec![alloc::vec![String::from(path)]]
        }
    };
    for argv in commands {
        let status = run(&init, &argv, &mut first);
        crate::control!("status {}", status);
    }
    crate::control!("poweroff");
    let _ = init.children.lock().len();
    crate::arch::power::exit_qemu(0)
}
