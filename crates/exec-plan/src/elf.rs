//! The load plan of an ELF executable or program interpreter: which bytes go where with which
//! protection, the entry point, what the auxiliary vector says about the program headers, and
//! the interpreter a dynamically linked program names (PT_INTERP). ET_EXEC loads where it
//! says; ET_DYN (a PIE, static or not, and the interpreter itself) loads at a bias the caller
//! picks. Anything else is not ours to run.

use alloc::vec::Vec;

use xmas_elf::header::{Class, Machine, Type as FileType};
use xmas_elf::program::Type;
use xmas_elf::ElfFile;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlanError {
    /// Not an x86-64 ELF executable, or its headers contradict the file (ENOEXEC).
    NotExecutable,
}

/// Linux's limit on a PT_INTERP path (PATH_MAX, NUL included).
const INTERP_MAX: u64 = 4096;

/// One PT_LOAD: [vaddr, vaddr + mem_size) is mapped, its first `file_size` bytes come from
/// the file at `file_offset`, the rest is zero.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment {
    pub vaddr: u64,
    pub mem_size: u64,
    pub file_offset: u64,
    pub file_size: u64,
    pub read: bool,
    pub write: bool,
    pub execute: bool,
}

impl Segment {
    pub fn end(&self) -> u64 {
        self.vaddr + self.mem_size
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadPlan {
    pub segments: Vec<Segment>,
    pub entry: u64,
    /// AT_PHDR: where the program headers are in memory.
    pub phdr: u64,
    /// AT_PHENT, AT_PHNUM.
    pub phent: u64,
    pub phnum: u64,
    /// The end of the highest segment: the program break starts at the page after it.
    pub image_end: u64,
    /// ET_DYN: the segments moved by the bias given to `plan`.
    pub relocatable: bool,
    /// PT_INTERP: the program interpreter's path (without its NUL): dynamically linked.
    pub interpreter: Option<Vec<u8>>,
}

impl LoadPlan {
    /// The page-aligned range [start, end) the segments cover.
    pub fn extent(&self, page: u64) -> (u64, u64) {
        let start = self.segments.iter().map(|s| s.vaddr).min().unwrap_or(0) & !(page - 1);
        let end = self.image_end.saturating_add(page - 1) & !(page - 1);
        (start, end)
    }
}

/// Plans the loading of `data`; an ET_DYN file's addresses are moved by `bias`.
pub fn plan(data: &[u8], bias: u64) -> Result<LoadPlan, PlanError> {
    use PlanError::NotExecutable;
    let elf = ElfFile::new(data).map_err(|_| NotExecutable)?;
    let header = &elf.header;
    if header.pt1.class() != Class::SixtyFour
        || header.pt2.machine().as_machine() != Machine::X86_64
    {
        return Err(NotExecutable);
    }
    let (bias, relocatable) = match header.pt2.type_().as_type() {
        FileType::Executable => (0, false),
        FileType::SharedObject => (bias, true),
        _ => return Err(NotExecutable),
    };
    let mut segments = Vec::new();
    let mut phdr = None;
    let mut interpreter = None;
    for ph in elf.program_iter() {
        match ph.get_type() {
            Ok(Type::Interp) => {
                // As Linux's load_elf_binary: 2..=PATH_MAX bytes inside the file, ending in
                // NUL; anything else is ENOEXEC.
                let (off, len) = (ph.offset(), ph.file_size());
                if !(2..=INTERP_MAX).contains(&len)
                    || off.checked_add(len).is_none_or(|e| e > data.len() as u64)
                {
                    return Err(NotExecutable);
                }
                let path = &data[off as usize..(off + len) as usize];
                if path[path.len() - 1] != 0 {
                    return Err(NotExecutable);
                }
                let path = &path[..path.len() - 1];
                let end = path.iter().position(|&b| b == 0).unwrap_or(path.len());
                interpreter = Some(path[..end].to_vec());
            }
            Ok(Type::Phdr) => phdr = Some(ph.virtual_addr().wrapping_add(bias)),
            Ok(Type::Load) => {
                let (file_offset, file_size, mem_size) =
                    (ph.offset(), ph.file_size(), ph.mem_size());
                if file_size > mem_size
                    || file_offset.checked_add(file_size).is_none_or(|e| e > data.len() as u64)
                {
                    return Err(NotExecutable);
                }
                let vaddr = ph.virtual_addr().checked_add(bias).ok_or(NotExecutable)?;
                vaddr.checked_add(mem_size).ok_or(NotExecutable)?;
                let flags = ph.flags();
                segments.push(Segment {
                    vaddr,
                    mem_size,
                    file_offset,
                    file_size,
                    read: flags.is_read(),
                    write: flags.is_write(),
                    execute: flags.is_execute(),
                });
            }
            _ => {}
        }
    }
    let first = segments.first().ok_or(NotExecutable)?;
    // Without PT_PHDR the headers are found through the first segment that maps offset 0
    // (in practice the first one), as Linux's load_elf_binary does.
    let phdr = match phdr {
        Some(p) => p,
        None => first.vaddr.wrapping_sub(first.file_offset).wrapping_add(header.pt2.ph_offset()),
    };
    Ok(LoadPlan {
        image_end: segments.iter().map(Segment::end).max().unwrap_or(0),
        segments,
        entry: header.pt2.entry_point().wrapping_add(bias),
        phdr,
        phent: header.pt2.ph_entry_size() as u64,
        phnum: header.pt2.ph_count() as u64,
        relocatable,
        interpreter,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec;

    const PT_LOAD: u32 = 1;
    const PT_INTERP: u32 = 3;
    const PT_PHDR: u32 = 6;
    const PF_X: u32 = 1;
    const PF_W: u32 = 2;
    const PF_R: u32 = 4;

    struct Ph {
        kind: u32,
        flags: u32,
        offset: u64,
        vaddr: u64,
        filesz: u64,
        memsz: u64,
    }

    /// A minimal ELF64 little-endian x86-64 file of type `e_type` with these program headers
    /// (right after the 64-byte ELF header) and `size` bytes in all.
    fn elf(e_type: u16, machine: u16, entry: u64, phs: &[Ph], size: usize) -> Vec<u8> {
        let mut f = vec![0u8; size.max(64 + 56 * phs.len())];
        f[..4].copy_from_slice(b"\x7fELF");
        f[4] = 2; // ELFCLASS64
        f[5] = 1; // little endian
        f[6] = 1; // EV_CURRENT
        f[16..18].copy_from_slice(&e_type.to_le_bytes());
        f[18..20].copy_from_slice(&machine.to_le_bytes());
        f[20..24].copy_from_slice(&1u32.to_le_bytes());
        f[24..32].copy_from_slice(&entry.to_le_bytes());
        f[32..40].copy_from_slice(&64u64.to_le_bytes()); // e_phoff
        f[52..54].copy_from_slice(&64u16.to_le_bytes()); // e_ehsize
        f[54..56].copy_from_slice(&56u16.to_le_bytes()); // e_phentsize
        f[56..58].copy_from_slice(&(phs.len() as u16).to_le_bytes());
        for (i, ph) in phs.iter().enumerate() {
            let o = 64 + 56 * i;
            f[o..o + 4].copy_from_slice(&ph.kind.to_le_bytes());
            f[o + 4..o + 8].copy_from_slice(&ph.flags.to_le_bytes());
            f[o + 8..o + 16].copy_from_slice(&ph.offset.to_le_bytes());
            f[o + 16..o + 24].copy_from_slice(&ph.vaddr.to_le_bytes());
            f[o + 24..o + 32].copy_from_slice(&ph.vaddr.to_le_bytes()); // p_paddr
            f[o + 32..o + 40].copy_from_slice(&ph.filesz.to_le_bytes());
            f[o + 40..o + 48].copy_from_slice(&ph.memsz.to_le_bytes());
            f[o + 48..o + 56].copy_from_slice(&0x1000u64.to_le_bytes());
        }
        f
    }

    const ET_EXEC: u16 = 2;
    const ET_DYN: u16 = 3;
    const ET_REL: u16 = 1;
    const X86_64: u16 = 62;

    fn text_and_data() -> [Ph; 2] {
        [
            Ph {
                kind: PT_LOAD,
                flags: PF_R | PF_X,
                offset: 0,
                vaddr: 0x400000,
                filesz: 0x1800,
                memsz: 0x1800,
            },
            Ph {
                kind: PT_LOAD,
                flags: PF_R | PF_W,
                offset: 0x1800,
                vaddr: 0x402800,
                filesz: 0x100,
                memsz: 0x3000,
            },
        ]
    }

    #[test]
    fn static_executable_loads_where_it_says() {
        let p = plan(&elf(ET_EXEC, X86_64, 0x401000, &text_and_data(), 0x1900), 0x5555_0000_0000)
            .unwrap();
        assert_eq!(p.entry, 0x401000);
        assert_eq!(p.segments.len(), 2);
        let (text, data) = (p.segments[0], p.segments[1]);
        assert!(text.read && text.execute && !text.write);
        assert!(data.read && data.write && !data.execute);
        assert_eq!(
            (data.vaddr, data.file_offset, data.file_size, data.mem_size),
            (0x402800, 0x1800, 0x100, 0x3000)
        );
        assert_eq!(p.image_end, 0x405800);
        // No PT_PHDR: the headers are at the first segment's address plus e_phoff.
        assert_eq!(p.phdr, 0x400040);
        assert_eq!((p.phent, p.phnum), (56, 2));
    }

    #[test]
    fn static_pie_is_moved_to_the_base_and_pt_phdr_wins() {
        let phs = [
            Ph { kind: PT_PHDR, flags: PF_R, offset: 64, vaddr: 64, filesz: 112, memsz: 112 },
            Ph {
                kind: PT_LOAD,
                flags: PF_R | PF_X,
                offset: 0,
                vaddr: 0,
                filesz: 0x1000,
                memsz: 0x1000,
            },
        ];
        let p = plan(&elf(ET_DYN, X86_64, 0x200, &phs, 0x1000), 0x5555_0000_0000).unwrap();
        assert_eq!(p.entry, 0x5555_0000_0200);
        assert_eq!(p.phdr, 0x5555_0000_0040);
        assert_eq!(p.segments[0].vaddr, 0x5555_0000_0000);
    }

    #[test]
    fn an_interpreter_is_named() {
        let phs = [
            Ph {
                kind: PT_INTERP,
                flags: PF_R,
                offset: 0x100,
                vaddr: 0x400100,
                filesz: 28,
                memsz: 28,
            },
            Ph {
                kind: PT_LOAD,
                flags: PF_R | PF_X,
                offset: 0,
                vaddr: 0x400000,
                filesz: 0x200,
                memsz: 0x200,
            },
        ];
        let mut file = elf(ET_EXEC, X86_64, 0x400000, &phs, 0x200);
        file[0x100..0x100 + 28].copy_from_slice(b"/lib64/ld-linux-x86-64.so.2\0");
        let p = plan(&file, 0).unwrap();
        assert_eq!(p.interpreter.as_deref(), Some(&b"/lib64/ld-linux-x86-64.so.2"[..]));
        assert!(!p.relocatable);
        // Not NUL-terminated, or beyond the file: ENOEXEC as on Linux.
        file[0x100 + 27] = b'x';
        assert_eq!(plan(&file, 0), Err(PlanError::NotExecutable));
        let mut short = elf(ET_EXEC, X86_64, 0x400000, &phs, 0x110);
        short.truncate(0x110);
        assert_eq!(plan(&short, 0), Err(PlanError::NotExecutable));
    }

    #[test]
    fn a_shared_object_moves_by_the_bias_and_has_an_extent() {
        let phs = [
            Ph {
                kind: PT_LOAD,
                flags: PF_R | PF_X,
                offset: 0,
                vaddr: 0,
                filesz: 0x1800,
                memsz: 0x1800,
            },
            Ph {
                kind: PT_LOAD,
                flags: PF_R | PF_W,
                offset: 0x1800,
                vaddr: 0x2800,
                filesz: 0x10,
                memsz: 0x900,
            },
        ];
        let file = elf(ET_DYN, X86_64, 0x100, &phs, 0x1810);
        let p = plan(&file, 0).unwrap();
        assert!(p.relocatable && p.interpreter.is_none());
        assert_eq!(p.extent(0x1000), (0, 0x4000));
        let p = plan(&file, 0x7f00_0000_0000).unwrap();
        assert_eq!(p.entry, 0x7f00_0000_0100);
        assert_eq!(p.extent(0x1000), (0x7f00_0000_0000, 0x7f00_0000_4000));
    }

    #[test]
    fn other_files_are_not_executable() {
        let phs = text_and_data();
        assert_eq!(plan(&elf(ET_REL, X86_64, 0, &phs, 0x1900), 0), Err(PlanError::NotExecutable));
        assert_eq!(
            plan(&elf(ET_EXEC, 3 /* i386 */, 0, &phs, 0x1900), 0),
            Err(PlanError::NotExecutable)
        );
        assert_eq!(plan(b"#!/bin/sh\n", 0), Err(PlanError::NotExecutable));
        assert_eq!(plan(&[], 0), Err(PlanError::NotExecutable));
        // No PT_LOAD at all.
        assert_eq!(plan(&elf(ET_EXEC, X86_64, 0, &[], 0x100), 0), Err(PlanError::NotExecutable));
    }

    #[test]
    fn headers_that_contradict_the_file_are_rejected() {
        let seg = |offset, filesz, memsz, vaddr| {
            [Ph { kind: PT_LOAD, flags: PF_R, offset, vaddr, filesz, memsz }]
        };
        // More file bytes than memory.
        assert_eq!(
            plan(&elf(ET_EXEC, X86_64, 0, &seg(0, 0x200, 0x100, 0x400000), 0x200), 0),
            Err(PlanError::NotExecutable)
        );
        // File bytes beyond the end of the file.
        assert_eq!(
            plan(&elf(ET_EXEC, X86_64, 0, &seg(0x100, 0x200, 0x200, 0x400000), 0x200), 0),
            Err(PlanError::NotExecutable)
        );
        // Offset + size overflows.
        assert_eq!(
            plan(&elf(ET_EXEC, X86_64, 0, &seg(u64::MAX, 2, 2, 0x400000), 0x200), 0),
            Err(PlanError::NotExecutable)
        );
        // The segment wraps around the address space.
        assert_eq!(
            plan(&elf(ET_EXEC, X86_64, 0, &seg(0, 0x10, u64::MAX, 0x400000), 0x200), 0),
            Err(PlanError::NotExecutable)
        );
    }
}
