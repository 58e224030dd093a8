//! Building the address space of an ELF program, as Linux's load_elf_binary does: the
//! program's segments (an ET_DYN one moved to `PIE_BASE`), the program break after them, its
//! interpreter (PT_INTERP: the dynamic linker, moved to a free range below the stack as Linux
//! maps it with mmap), and the initial stack whose auxiliary vector tells the interpreter where
//! the program is (AT_PHDR, AT_ENTRY) and where it was itself put (AT_BASE). The entry point is
//! the interpreter's when there is one. What goes where is decided by `exec_plan` (host-tested).

use alloc::string::String;

use exec_plan::elf::{self, LoadPlan, Segment};
use exec_plan::stack::{self, *}; // the AT_* keys

use super::exec::{FileId, Image};
use crate::arch::trap::TrapFrame;
use crate::error::{Errno, Result};
use crate::fs::path::Walk;
use crate::mm::frame::PAGE_SIZE;
use crate::mm::vm::{
    page_ceil, page_floor, AddressSpace, Placement, Prot, VmaName, STACK_SIZE, STACK_TOP,
};

/// Where ET_DYN programs are loaded (2 MiB aligned, like Linux's ELF_ET_DYN_BASE area).
const PIE_BASE: u64 = 0x5555_5540_0000;

/// The size of an ELF64 file header.
const ELF_HEADER_SIZE: usize = 64;

/// An executable file read into memory.
pub struct Program<'a> {
    pub data: &'a [u8],
    pub file: &'a FileId,
    /// The path as given to execve (AT_EXECFN).
    pub path: &'a str,
}

/// What the initial stack's auxiliary vector says about the images.
struct AuxImages {
    phdr: u64,
    phent: u64,
    phnum: u64,
    /// The program's own entry point (AT_ENTRY).
    entry: u64,
    /// Where the interpreter was loaded; 0 without one (AT_BASE).
    base: u64,
}

/// Loads the ELF `program` (and its interpreter, resolved from `cwd`) into a new address space.
pub fn load_elf(
    cwd: &Walk,
    program: &Program,
    argv: &[String],
    envp: &[String],
    creds: &super::creds::Credentials,
) -> Result<Image> {
    let plan = elf::plan(program.data, PIE_BASE).map_err(|_| Errno::ENOEXEC)?;
    // The interpreter is read before anything is built: a missing one (ENOENT), one we may
    // not execute (EACCES), a short one (EIO) or one that is no ELF we can load (ELIBBAD)
    // fails the execve.
    let interpreter = match &plan.interpreter {
        None => None,
        Some(name) => {
            let name = core::str::from_utf8(name).map_err(|_| Errno::ENOENT)?;
            let (data, file) = super::exec::read_executable(cwd, name, creds)?;
            // Linux reads the interpreter's ELF header first: a short read is EIO.
            if data.len() < ELF_HEADER_SIZE {
                return Err(Errno::EIO);
            }
            let unbiased = elf::plan(&data, 0).map_err(|_| Errno::ELIBBAD)?;
            Some((data, file, unbiased))
        }
    };
    let mut vm = AddressSpace::new()?;
    map_image(&mut vm, &plan, program.data, program.file)?;
    let brk = page_ceil(plan.image_end).ok_or(Errno::ENOEXEC)?;
    vm.brk_start = brk;
    vm.brk = brk;

    let stack_base = STACK_TOP - STACK_SIZE;
    vm.map_anonymous(Placement::Fixed(stack_base), STACK_SIZE, Prot::READ | Prot::WRITE)?;
    vm.set_vma_name(stack_base, VmaName::Stack);

    let mut start = plan.entry;
    let mut base = 0;
    if let Some((data, file, unbiased)) = interpreter {
        let iplan = if unbiased.relocatable {
            // A free range as large as the interpreter's extent, highest first as mmap
            // chooses; reserved to find it, then released for the segments.
            let (lo, hi) = unbiased.extent(PAGE_SIZE);
            let len = hi - lo;
            let at = vm.map_anonymous(Placement::Hint(0), len, Prot::empty())?;
            vm.unmap(at, len)?;
            elf::plan(&data, at - lo).map_err(|_| Errno::ELIBBAD)?
        } else {
            unbiased
        };
        map_image(&mut vm, &iplan, &data, &file)?;
        base = iplan.extent(PAGE_SIZE).0;
        start = iplan.entry;
    }
    let images = AuxImages {
        phdr: plan.phdr,
        phent: plan.phent,
        phnum: plan.phnum,
        entry: plan.entry,
        base,
    };
    let sp = build_stack(&mut vm, program.path, argv, envp, &images, creds)?;
    Ok(Image {
        vm,
        frame: TrapFrame::new_user(start, sp),
        exe: String::from(program.path),
        argv: argv.to_vec(),
    })
}

fn prot_of(seg: &Segment) -> Prot {
    let mut p = Prot::empty();
    p.set(Prot::READ, seg.read);
    p.set(Prot::WRITE, seg.write);
    p.set(Prot::EXEC, seg.execute);
    p
}

/// Maps the segments `plan` describes with copies of the file's bytes.
fn map_image(vm: &mut AddressSpace, plan: &LoadPlan, data: &[u8], file: &FileId) -> Result<()> {
    for seg in &plan.segments {
        map_segment(vm, seg.vaddr, seg.end(), prot_of(seg))?;
        // maps shows the segments with their file (the offset is kept by the file-backed
        // mappings only; these are copies).
        if let Some(v) = vm.find(page_floor(seg.vaddr)).map(|v| v.start) {
            vm.set_vma_file(v, file.clone());
        }
        let bytes = &data[seg.file_offset as usize..(seg.file_offset + seg.file_size) as usize];
        vm.write_bytes(seg.vaddr, bytes)?;
    }
    Ok(())
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
    images: &AuxImages,
    creds: &super::creds::Credentials,
) -> Result<u64> {
    let (uid, euid, gid, egid) =
        (creds.uid as u64, creds.euid as u64, creds.gid as u64, creds.egid as u64);
    let hwcap = crate::arch::cpu::cpuid(1, 0).edx as u64;
    let auxv = |s: stack::StringAddrs| {
        [
            (AT_PHDR, images.phdr),
            (AT_PHENT, images.phent),
            (AT_PHNUM, images.phnum),
            (AT_PAGESZ, PAGE_SIZE),
            (AT_BASE, images.base),
            (AT_FLAGS, 0),
            (AT_ENTRY, images.entry),
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
