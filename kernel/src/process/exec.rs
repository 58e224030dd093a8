//! Loading a static ELF executable (or a `#!` script) into a fresh address space and building
//! the Linux initial stack: argc, argv, envp, auxv, and the strings they point to. What goes
//! where is decided by `exec_plan` (host-tested); this file reads the file, checks permission
//! and builds the address space.

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;

use exec_plan::elf::{self, LoadPlan, PlanError, Segment};
use exec_plan::shebang;
use exec_plan::stack::{self, *}; // the AT_* keys

use crate::arch::trap::TrapFrame;
use crate::error::{Errno, Result};
use crate::fs::inode::{S_IFDIR, S_IFREG};
use crate::fs::path::{self, Walk};
use crate::mm::frame::PAGE_SIZE;
use crate::mm::vm::{
    page_ceil, page_floor, AddressSpace, Placement, Prot, VmaName, STACK_SIZE, STACK_TOP,
};

/// Where static-PIE executables are loaded (2 MiB aligned, like Linux's ELF_ET_DYN_BASE area).
const PIE_BASE: u64 = 0x5555_5540_0000;
const MAX_SCRIPT_DEPTH: u32 = 4;

pub struct Image {
    pub vm: AddressSpace,
    pub frame: TrapFrame,
    /// The path as given to execve (AT_EXECFN).
    pub exe: String,
    pub argv: Vec<String>,
}

/// (device, inode, absolute path) of an executable, for /proc/<pid>/maps.
type FileId = (u64, u64, String);

/// Reads the whole file at `path` if the caller may execute it.
fn read_executable(
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
    let plan = match elf::plan(&data, PIE_BASE) {
        Ok(plan) => plan,
        Err(PlanError::Dynamic) => {
            crate::log!("exec {}: dynamically linked executables are not supported", path);
            return Err(Errno::ENOEXEC);
        }
        Err(PlanError::NotExecutable) => return Err(Errno::ENOEXEC),
    };
    load_elf(&plan, &data, path, &argv, envp, creds, &file)
}

fn prot_of(seg: &Segment) -> Prot {
    let mut p = Prot::empty();
    p.set(Prot::READ, seg.read);
    p.set(Prot::WRITE, seg.write);
    p.set(Prot::EXEC, seg.execute);
    p
}

/// Builds the address space `plan` describes: the segments (copies of the file's bytes),
/// the program break after them, the stack with argv, envp and auxv.
fn load_elf(
    plan: &LoadPlan,
    data: &[u8],
    path: &str,
    argv: &[String],
    envp: &[String],
    creds: &super::creds::Credentials,
    file: &FileId,
) -> Result<Image> {
    let mut vm = AddressSpace::new()?;
    for seg in &plan.segments {
        map_segment(&mut vm, seg.vaddr, seg.end(), prot_of(seg))?;
        // maps shows the program's segments with their file (the offset is kept by the
        // file-backed mappings only; these are copies).
        if let Some(v) = vm.find(page_floor(seg.vaddr)).map(|v| v.start) {
            vm.set_vma_file(v, file.clone());
        }
        let bytes = &data[seg.file_offset as usize..(seg.file_offset + seg.file_size) as usize];
        vm.write_bytes(seg.vaddr, bytes)?;
    }
    let brk = page_ceil(plan.image_end).ok_or(Errno::ENOEXEC)?;
    vm.brk_start = brk;
    vm.brk = brk;

    let stack_base = STACK_TOP - STACK_SIZE;
    vm.map_anonymous(Placement::Fixed(stack_base), STACK_SIZE, Prot::READ | Prot::WRITE)?;
    vm.set_vma_name(stack_base, VmaName::Stack);
    let sp = build_stack(&mut vm, path, argv, envp, plan, creds)?;
    Ok(Image {
        vm,
        frame: TrapFrame::new_user(plan.entry, sp),
        exe: String::from(path),
        argv: argv.to_vec(),
    })
}

/// Maps [vaddr, end) for a segment. Adjacent segments may share a page; that page keeps the
/// union of both protections.
fn map_segment(vm: &mut AddressSpace, vaddr: u64, end: u64, prot: Prot) -> Result<()> {
    let mut start = page_floor(vaddr);
    let stop = page_ceil(end).ok_or(Errno::ENOEXEC)?;
    if stop <= start {
        return Ok(());
    }
    while start < stop {
        match vm.map_anonymous(Placement::FixedNoReplace(start), stop - start, prot) {
            Ok(_) => return Ok(()),
            Err(Errno::EEXIST) => {
                // The first page overlaps the previous segment.
                let existing = vm
                    .vmas()
                    .find(|v| v.start <= start && start < v.end)
                    .map(|v| v.prot)
                    .unwrap_or(Prot::empty());
                vm.protect(start, PAGE_SIZE, existing | prot)?;
                start += PAGE_SIZE;
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Lays out the initial stack below STACK_TOP and returns the initial rsp (pointing at argc).
fn build_stack(
    vm: &mut AddressSpace,
    path: &str,
    argv: &[String],
    envp: &[String],
    plan: &LoadPlan,
    creds: &super::creds::Credentials,
) -> Result<u64> {
    let (uid, euid, gid, egid) =
        (creds.uid as u64, creds.euid as u64, creds.gid as u64, creds.egid as u64);
    let hwcap = crate::arch::cpu::cpuid(1, 0).edx as u64;
    let auxv = |s: stack::StringAddrs| {
        [
            (AT_PHDR, plan.phdr),
            (AT_PHENT, plan.phent),
            (AT_PHNUM, plan.phnum),
            (AT_PAGESZ, PAGE_SIZE),
            (AT_BASE, 0),
            (AT_FLAGS, 0),
            (AT_ENTRY, plan.entry),
            (AT_UID, uid),
            (AT_EUID, euid),
            (AT_GID, gid),
            (AT_EGID, egid),
            (AT_PLATFORM, s.platform),
            (AT_HWCAP, hwcap),
            (AT_CLKTCK, 100),
            (AT_SECURE, 0),
            (AT_RANDOM, s.random),
            (AT_HWCAP2, 0),
            (AT_EXECFN, s.execfn),
        ]
    };
    let limit = (STACK_SIZE / 4) as usize;
    let random = crate::random::bytes16();
    let image = stack::layout(STACK_TOP, limit, path, argv, envp, random, auxv)
        .map_err(|_| Errno::E2BIG)?;
    vm.write_bytes(image.strings_base, &image.strings)?;
    vm.write_bytes(image.sp, bytemuck::cast_slice(&image.words))?;
    Ok(image.sp)
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
    super::fork::finish_vfork(&proc);
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
