//! Loading a static ELF executable (or a `#!` script) into a fresh address space and building
//! the Linux initial stack: argc, argv, envp, auxv, and the strings they point to.

use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use xmas_elf::program::{Flags, Type};
use xmas_elf::ElfFile;

use crate::arch::trap::TrapFrame;
use crate::error::{Errno, Result};
use crate::fs::inode::{S_IFDIR, S_IFREG};
use crate::fs::path::{self, Walk};
use crate::mm::frame::PAGE_SIZE;
use crate::mm::vm::{page_ceil, page_floor, AddressSpace, Placement, Prot, VmaName, STACK_SIZE, STACK_TOP};

/// Where static-PIE executables are loaded (2 MiB aligned, like Linux's ELF_ET_DYN_BASE area).
const PIE_BASE: u64 = 0x5555_5540_0000;
const MAX_SCRIPT_DEPTH: u32 = 4;

const AT_NULL: u64 = 0;
const AT_PHDR: u64 = 3;
const AT_PHENT: u64 = 4;
const AT_PHNUM: u64 = 5;
const AT_PAGESZ: u64 = 6;
const AT_BASE: u64 = 7;
const AT_FLAGS: u64 = 8;
const AT_ENTRY: u64 = 9;
const AT_UID: u64 = 11;
const AT_EUID: u64 = 12;
const AT_GID: u64 = 13;
const AT_EGID: u64 = 14;
const AT_PLATFORM: u64 = 15;
const AT_HWCAP: u64 = 16;
const AT_CLKTCK: u64 = 17;
const AT_SECURE: u64 = 23;
const AT_RANDOM: u64 = 25;
const AT_HWCAP2: u64 = 26;
const AT_EXECFN: u64 = 31;

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
fn read_executable(cwd: &Walk, path: &str, creds: &super::creds::Credentials) -> Result<(Vec<u8>, FileId)> {
    let walk = path::resolve(cwd, path, true)?;
    let inode = walk.inode();
    let m = inode.metadata();
    if m.file_type() == S_IFDIR || m.file_type() != S_IFREG {
        return Err(Errno::EACCES);
    }
    if !creds.may_access(&m, 1) {
        return Err(Errno::EACCES);
    }
    let mut data = vec![0u8; m.size as usize];
    let n = inode.read_at(0, &mut data)?;
    data.truncate(n);
    Ok((data, (m.dev, m.ino, walk.path())))
}

/// Loads `path` (resolved from `cwd`) into a new address space.
pub fn load(cwd: &Walk, path: &str, argv: &[String], envp: &[String], creds: &super::creds::Credentials) -> Result<Image> {
    load_depth(cwd, path, argv.to_vec(), envp, creds, 0)
}

fn load_depth(cwd: &Walk, path: &str, argv: Vec<String>, envp: &[String], creds: &super::creds::Credentials, depth: u32) -> Result<Image> {
    let (data, file) = read_executable(cwd, path, creds)?;
    if data.starts_with(b"#!") {
        if depth >= MAX_SCRIPT_DEPTH {
            return Err(Errno::ELOOP);
        }
        let (interp, arg) = parse_shebang(&data)?;
        let mut new_argv = vec![interp.clone()];
        new_argv.extend(arg);
        new_argv.push(String::from(path));
        new_argv.extend(argv.into_iter().skip(1));
        return load_depth(cwd, &interp, new_argv, envp, creds, depth + 1);
    }
    let elf = ElfFile::new(&data).map_err(|_| Errno::ENOEXEC)?;
    load_elf(&elf, path, &argv, envp, creds, &file)
}

/// "#!interp [one-arg]" on the first line (at most 256 bytes, as Linux).
fn parse_shebang(data: &[u8]) -> Result<(String, Option<String>)> {
    let line_end = data.iter().take(256).position(|&b| b == b'\n').unwrap_or(data.len().min(256));
    let line = core::str::from_utf8(&data[2..line_end]).map_err(|_| Errno::ENOEXEC)?;
    let line = line.trim_matches(|c| c == ' ' || c == '\t');
    if line.is_empty() {
        return Err(Errno::ENOEXEC);
    }
    let (interp, rest) = match line.find([' ', '\t']) {
        Some(i) => (&line[..i], line[i..].trim_matches(|c| c == ' ' || c == '\t')),
        None => (line, ""),
    };
    Ok((String::from(interp), (!rest.is_empty()).then(|| String::from(rest))))
}

fn prot_of(flags: Flags) -> Prot {
    let mut p = Prot::empty();
    if flags.is_read() {
        p |= Prot::READ;
    }
    if flags.is_write() {
        p |= Prot::WRITE;
    }
    if flags.is_execute() {
        p |= Prot::EXEC;
    }
    p
}

fn load_elf(elf: &ElfFile, path: &str, argv: &[String], envp: &[String], creds: &super::creds::Credentials, file: &FileId) -> Result<Image> {
    let header = &elf.header;
    if header.pt1.class() != xmas_elf::header::Class::SixtyFour
        || header.pt2.machine().as_machine() != xmas_elf::header::Machine::X86_64
    {
        return Err(Errno::ENOEXEC);
    }
    let bias = match header.pt2.type_().as_type() {
        xmas_elf::header::Type::Executable => 0,
        xmas_elf::header::Type::SharedObject => PIE_BASE,
        _ => return Err(Errno::ENOEXEC),
    };
    let mut vm = AddressSpace::new()?;
    let mut phdr_addr = 0;
    let mut first_load = None;
    let mut image_end = 0;
    for ph in elf.program_iter() {
        match ph.get_type() {
            Ok(Type::Interp) => {
                crate::log!("exec {}: dynamically linked executables are not supported", path);
                return Err(Errno::ENOEXEC);
            }
            Ok(Type::Phdr) => phdr_addr = ph.virtual_addr() + bias,
            Ok(Type::Load) => {
                let vaddr = ph.virtual_addr() + bias;
                let memsz = ph.mem_size();
                let filesz = ph.file_size();
                let offset = ph.offset();
                if filesz > memsz || offset.checked_add(filesz).is_none_or(|e| e > elf.input.len() as u64) {
                    return Err(Errno::ENOEXEC);
                }
                if first_load.is_none() {
                    first_load = Some((vaddr, offset));
                }
                let end = vaddr.checked_add(memsz).ok_or(Errno::ENOEXEC)?;
                map_segment(&mut vm, vaddr, end, prot_of(ph.flags()))?;
                // maps shows the program's segments with their file (the offset is kept by
                // the file-backed mappings only; these are copies).
                if let Some(v) = vm.find(page_floor(vaddr)).map(|v| v.start) {
                    vm.set_vma_file(v, file.clone());
                }
                vm.write_bytes(vaddr, &elf.input[offset as usize..(offset + filesz) as usize])?;
                image_end = image_end.max(end);
            }
            _ => {}
        }
    }
    let Some((first_vaddr, first_offset)) = first_load else { return Err(Errno::ENOEXEC) };
    if phdr_addr == 0 {
        phdr_addr = first_vaddr - first_offset + header.pt2.ph_offset();
    }
    let brk = page_ceil(image_end).ok_or(Errno::ENOEXEC)?;
    vm.brk_start = brk;
    vm.brk = brk;

    let stack_base = STACK_TOP - STACK_SIZE;
    vm.map_anonymous(Placement::Fixed(stack_base), STACK_SIZE, Prot::READ | Prot::WRITE)?;
    vm.set_vma_name(stack_base, VmaName::Stack);

    let entry = header.pt2.entry_point() + bias;
    let aux = AuxInfo {
        phdr: phdr_addr,
        phent: header.pt2.ph_entry_size() as u64,
        phnum: header.pt2.ph_count() as u64,
        entry,
    };
    let sp = build_stack(&mut vm, path, argv, envp, &aux, creds)?;
    Ok(Image { vm, frame: TrapFrame::new_user(entry, sp), exe: String::from(path), argv: argv.to_vec() })
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
                let existing = vm.vmas().find(|v| v.start <= start && start < v.end).map(|v| v.prot).unwrap_or(Prot::empty());
                vm.protect(start, PAGE_SIZE, existing | prot)?;
                start += PAGE_SIZE;
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

struct AuxInfo {
    phdr: u64,
    phent: u64,
    phnum: u64,
    entry: u64,
}

/// Lays out the initial stack below STACK_TOP and returns the initial rsp (pointing at argc).
fn build_stack(vm: &mut AddressSpace, path: &str, argv: &[String], envp: &[String], aux: &AuxInfo, creds: &super::creds::Credentials) -> Result<u64> {
    let mut strings: Vec<u8> = Vec::new();
    let push_str = |s: &[u8], strings: &mut Vec<u8>| {
        let off = strings.len();
        strings.extend_from_slice(s);
        strings.push(0);
        off
    };
    let execfn_off = push_str(path.as_bytes(), &mut strings);
    let platform_off = push_str(b"x86_64", &mut strings);
    let argv_offs: Vec<usize> = argv.iter().map(|a| push_str(a.as_bytes(), &mut strings)).collect();
    let envp_offs: Vec<usize> = envp.iter().map(|e| push_str(e.as_bytes(), &mut strings)).collect();
    let random_off = strings.len();
    strings.extend_from_slice(&crate::random::bytes16());
    if strings.len() as u64 > STACK_SIZE / 4 {
        return Err(Errno::E2BIG);
    }

    let strings_base = (STACK_TOP - 16 - strings.len() as u64) & !15;
    let at = |off: usize| strings_base + off as u64;
    let creds = (creds.uid as u64, creds.euid as u64, creds.gid as u64, creds.egid as u64);
    let hwcap = crate::arch::cpu::cpuid(1, 0).edx as u64;
    let auxv: [(u64, u64); 19] = [
        (AT_PHDR, aux.phdr),
        (AT_PHENT, aux.phent),
        (AT_PHNUM, aux.phnum),
        (AT_PAGESZ, PAGE_SIZE),
        (AT_BASE, 0),
        (AT_FLAGS, 0),
        (AT_ENTRY, aux.entry),
        (AT_UID, creds.0),
        (AT_EUID, creds.1),
        (AT_GID, creds.2),
        (AT_EGID, creds.3),
        (AT_PLATFORM, at(platform_off)),
        (AT_HWCAP, hwcap),
        (AT_CLKTCK, 100),
        (AT_SECURE, 0),
        (AT_RANDOM, at(random_off)),
        (AT_HWCAP2, 0),
        (AT_EXECFN, at(execfn_off)),
        (AT_NULL, 0),
    ];
    let mut words: Vec<u64> = Vec::new();
    words.push(argv.len() as u64);
    words.extend(argv_offs.iter().map(|&o| at(o)));
    words.push(0);
    words.extend(envp_offs.iter().map(|&o| at(o)));
    words.push(0);
    for (k, v) in auxv {
        words.push(k);
        words.push(v);
    }
    let sp = (strings_base - words.len() as u64 * 8) & !15;
    vm.write_bytes(strings_base, &strings)?;
    vm.write_bytes(sp, bytemuck::cast_slice(&words))?;
    Ok(sp)
}

/// execve: replaces the current process's image. On success the caller's frame enters the new
/// program.
pub fn execve(path: &str, argv: Vec<String>, envp: Vec<String>, frame: &mut TrapFrame) -> Result<()> {
    use core::sync::atomic::Ordering;
    let proc = super::current();
    let cwd = proc.fs.lock().cwd.clone();
    let creds = proc.creds.lock().clone();
    let image = load(&cwd, path, &argv, &envp, &creds)?;
    let thread = crate::task::current();
    let root = image.vm.root();
    thread.set_page_table_root(root);
    crate::mm::switch_page_table(root);
    // A vfork child leaves the shared address space to its parent.
    let old = proc.vm.lock().replace(super::new_vm(image.vm));
    crate::ipc::exec(proc.pid, old.as_ref());
    drop(old);
    *proc.exe.lock() = absolute(&cwd, &image.exe);
    *proc.comm.lock() = Some(basename(path));
    *proc.cmdline.lock() = image.argv;
    proc.did_exec.store(true, Ordering::Relaxed);
    proc.fds.lock().close_on_exec();
    proc.sigactions.lock().reset_on_exec();
    *proc.signals.alt_stack.lock() = (0, 0, super::signal::SS_DISABLE);
    thread.fs_base.store(0, Ordering::Relaxed);
    crate::arch::cpu::wrmsr(crate::arch::cpu::MSR_FS_BASE, 0);
    *frame = image.frame;
    super::fork::finish_vfork(&proc);
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
