//! execve: finding and reading the executable (following `#!` lines), then replacing the
//! process's image. Building the address space of an ELF program (its interpreter, the initial
//! stack) is `loader`'s; what goes where is decided by `exec_plan` (host-tested).

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;

use exec_plan::shebang;

use crate::arch::trap::TrapFrame;
use crate::error::{Errno, Result};
use crate::fs::inode::{S_IFDIR, S_IFREG};
use crate::fs::path::{self, Walk};
use crate::mm::vm::AddressSpace;

const MAX_SCRIPT_DEPTH: u32 = 4;

pub struct Image {
    pub vm: AddressSpace,
    pub frame: TrapFrame,
    /// The path as given to execve (AT_EXECFN).
    pub exe: String,
    pub argv: Vec<String>,
}

/// (device, inode, absolute path) of an executable, for /proc/<pid>/maps.
pub(super) type FileId = (u64, u64, String);

/// Reads the whole file at `path` if the caller may execute it.
pub(super) fn read_executable(
    cwd: &Walk,
    path: &str,
    creds: &super::creds::Credentials,
) -> Result<(Vec<u8>, FileId)> {
    let walk = path::resolve(cwd, path, true)?;
    let inode = walk.inode();
    let m = inode.metadata();
    if m.file_type() == S_IFDIR || m.file_type() != S_IFREG {
        return Err(Errno::EACCES);
    }
    if !creds.may_access(&m, 1) {
        return Err(Errno::EACCES);
    }
    // The whole file is staged in the heap: a fallible buffer, so that an exec when the heap
    // is nearly full (zombies, a fork bomb) fails with ENOMEM instead of panicking.
    let size = usize::try_from(m.size).map_err(|_| Errno::ENOMEM)?;
    crate::mm::fallible::ensure_room(size)?;
    let mut data = crate::mm::user::zeroed_buffer(size)?;
    let n = inode.read_at(0, &mut data)?;
    data.truncate(n);
    Ok((data, (m.dev, m.ino, walk.path())))
}

/// Loads `path` (resolved from `cwd`) into a new address space.
pub fn load(
    cwd: &Walk,
    path: &str,
    argv: &[String],
    envp: &[String],
    creds: &super::creds::Credentials,
) -> Result<Image> {
    load_depth(cwd, path, argv.to_vec(), envp, creds, 0)
}

fn load_depth(
    cwd: &Walk,
    path: &str,
    argv: Vec<String>,
    envp: &[String],
    creds: &super::creds::Credentials,
    depth: u32,
) -> Result<Image> {
    let (data, file) = read_executable(cwd, path, creds)?;
    if data.starts_with(b"#!") {
        if depth >= MAX_SCRIPT_DEPTH {
            return Err(Errno::ELOOP);
        }
        let script = shebang::parse(&data).map_err(|_| Errno::ENOEXEC)?;
        let interp = script.interpreter;
        let mut new_argv = vec![interp.clone()];
        new_argv.extend(script.argument);
        new_argv.push(String::from(path));
        new_argv.extend(argv.into_iter().skip(1));
        return load_depth(cwd, &interp, new_argv, envp, creds, depth + 1);
    }
    // The plan, the copies of argv/envp and the stack image below are small beside the file,
    // but must not eat into the heap's reserve either.
    let args: usize = argv.iter().chain(envp).map(|a| a.len() + 64).sum();
    crate::mm::fallible::ensure_room(args.saturating_mul(3).saturating_add(64 * 1024))?;
    let program = super::loader::Program { data: &data, file: &file, path };
    super::loader::load_elf(cwd, &program, &argv, envp, creds)
}

/// execve: replaces the current process's image. On success the caller's frame enters the new
/// program.
pub fn execve(
    path: &str,
    argv: Vec<String>,
    envp: Vec<String>,
    frame: &mut TrapFrame,
) -> Result<()> {
    use core::sync::atomic::Ordering;
    let proc = super::current();
    let cwd = proc.fs().lock().cwd.clone();
    let creds = proc.creds.lock().clone();
    // Linux's PF_NPROC_EXCEEDED check: a set*uid to a user at its RLIMIT_NPROC lets the
    // process run, but not exec, while that user stays over the limit.
    if proc.nproc_exceeded.load(Ordering::Relaxed) {
        let limit = proc.rlimits.lock().0[super::rlimit::RLIMIT_NPROC].cur;
        if creds.uid != 0 && super::ucounts::processes(creds.uid) > limit {
            return Err(Errno::EAGAIN);
        }
        proc.nproc_exceeded.store(false, Ordering::Relaxed);
    }
    let image = load(&cwd, path, &argv, &envp, &creds)?;
    let thread = crate::task::current();
    let former_tid = thread.tid();
    // The point of no return: the other threads go, and this one becomes the group's leader.
    de_thread(&proc, &thread)?;
    // The old image's robust futexes, rseq area and POSIX timers end here (Linux's
    // exec_mm_release and exit_itimers).
    super::futex_exit::exec_release(&proc, &thread);
    super::timers::on_exec(&proc);
    let root = image.vm.root();
    crate::mm::switch_page_table(&root);
    thread.set_page_table_root(root);
    // A vfork child leaves the shared address space to its parent.
    let old = proc.vm.lock().replace(super::new_vm(image.vm));
    crate::ipc::exec(proc.pid, old.as_ref());
    drop(old);
    *proc.exe.lock() = absolute(&cwd, &image.exe);
    *proc.comm.lock() = Some(basename(path));
    *thread.comm.lock() = Some(basename(path));
    // Linux's exec_mm_release: the tid word belongs to the old image.
    thread.clear_child_tid.store(0, Ordering::Relaxed);
    *proc.cmdline.lock() = image.argv;
    proc.did_exec.store(true, Ordering::Relaxed);
    proc.creds.lock().exec_capabilities();
    // Linux's unshare_files and unshare_sighand: a table or handlers shared with another
    // process (CLONE_FILES, CLONE_SIGHAND without CLONE_THREAD) become the new image's own.
    let files = proc.files();
    if Arc::strong_count(&files) > 2 {
        if let Ok(copy) = files.lock().try_clone() {
            proc.set_files(Arc::new(crate::sync::Mutex::new(copy)));
        }
    }
    drop(files);
    let handlers = proc.handlers();
    if Arc::strong_count(&handlers) > 2 {
        let copy = super::signal::SigActions(handlers.lock().0);
        proc.set_handlers(Arc::new(crate::sync::Mutex::new(copy)));
    }
    drop(handlers);
    let mut from = 0;
    while let Some((fd, f)) = next_close_on_exec(&proc, from) {
        crate::fs::lock::closed_by_process(proc.pid, &f);
        f.file().closed_by(proc.pid);
        from = fd + 1;
    }
    proc.handlers().lock().reset_on_exec();
    *thread.alt_stack.lock() = (0, 0, super::signal::SS_DISABLE);
    // A new image starts with no TLS and a zero GS base, as on Linux.
    thread.set_fs_base(0);
    thread.set_gs_base(0);
    *frame = image.frame;
    // There is no set-id exec: every new image may be dumped (and traced) again.
    proc.dumpable.store(true, Ordering::Relaxed);
    super::fork::finish_vfork(&proc);
    super::ptrace::on_exec(&proc, &thread, former_tid);
    Ok(())
}

/// Takes out `proc`'s next close-on-exec descriptor from `from` on (the table's lock is not held
/// while the caller closes it).
fn next_close_on_exec(
    proc: &super::Process,
    from: usize,
) -> Option<(usize, alloc::sync::Arc<crate::fs::file::OpenFile>)> {
    proc.files().lock().take_close_on_exec(from)
}

/// Linux's de_thread: every other thread of the group is killed and waited for; an exec from a
/// thread other than the leader then takes over the group's id (the leader's tid), so the
/// program keeps its pid. EAGAIN if the group is already dying (exit_group, a fatal signal, an
/// execve in another thread got there first): the caller dies with it on the way out.
fn de_thread(proc: &Arc<super::Process>, thread: &Arc<crate::task::Thread>) -> Result<()> {
    use core::sync::atomic::Ordering;
    if proc.thread_count() > 1 {
        if proc.group_exit.lock().is_some() || proc.de_thread.swap(true, Ordering::AcqRel) {
            return Err(Errno::EAGAIN);
        }
        super::exit::kill_other_threads(proc);
        let me = thread.clone();
        proc.thread_exited.wait_uninterruptible(|| {
            let alone = proc.thread_count() <= 1;
            let killed = me.pending_all() & super::signal::bit(super::signal::SIGKILL) != 0;
            (alone || killed).then_some(())
        });
        proc.de_thread.store(false, Ordering::Release);
        if proc.thread_count() > 1 {
            return Err(Errno::EAGAIN);
        }
    }
    let old = thread.tid();
    if old != proc.pid {
        thread.set_tid(proc.pid);
        super::unregister_tid(old);
        super::signal::retag_thread(proc, old, proc.pid);
    }
    Ok(())
}

/// `path` made absolute against `cwd` (for /proc/<pid>/exe).
pub fn absolute(cwd: &Walk, path: &str) -> String {
    path::resolve(cwd, path, true).map(|w| w.path()).unwrap_or_else(|_| String::from(path))
}

/// What Linux puts in comm at exec: the last component of the path, cut to 15 bytes.
pub fn basename(path: &str) -> String {
    let base = path.rsplit('/').next().unwrap_or("");
    let mut end = base.len().min(15);
    while !base.is_char_boundary(end) {
        end -= 1;
    }
    String::from(&base[..end])
}
