//! /proc/cpuinfo from cpuid, in Linux's layout (arch/x86/kernel/cpu/proc.c) one block per CPU.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;

use crate::arch::cpu::cpuid;
use crate::error::Result;

/// A cpuid output register.
#[derive(Clone, Copy)]
enum Reg {
    Ecx,
    Edx,
    Ebx,
}

const LEAF1_EDX: &[(u32, &str)] = &[
    (0, "fpu"),
    (1, "vme"),
    (2, "de"),
    (3, "pse"),
    (4, "tsc"),
    (5, "msr"),
    (6, "pae"),
    (7, "mce"),
    (8, "cx8"),
    (9, "apic"),
    (11, "sep"),
    (12, "mtrr"),
    (13, "pge"),
    (14, "mca"),
    (15, "cmov"),
    (16, "pat"),
    (17, "pse36"),
    (18, "pn"),
    (19, "clflush"),
    (21, "dts"),
    (22, "acpi"),
    (23, "mmx"),
    (24, "fxsr"),
    (25, "sse"),
    (26, "sse2"),
    (27, "ss"),
    (28, "ht"),
    (29, "tm"),
    (30, "ia64"),
    (31, "pbe"),
];
const EXT1_EDX: &[(u32, &str)] = &[
    (11, "syscall"),
    (19, "mp"),
    (20, "nx"),
    (22, "mmxext"),
    (25, "fxsr_opt"),
    (26, "pdpe1gb"),
    (27, "rdtscp"),
    (29, "lm"),
    (30, "3dnowext"),
    (31, "3dnow"),
];
const LEAF1_ECX: &[(u32, &str)] = &[
    (0, "pni"),
    (1, "pclmulqdq"),
    (2, "dtes64"),
    (3, "monitor"),
    (4, "ds_cpl"),
    (5, "vmx"),
    (6, "smx"),
    (7, "est"),
    (8, "tm2"),
    (9, "ssse3"),
    (10, "cid"),
    (11, "sdbg"),
    (12, "fma"),
    (13, "cx16"),
    (14, "xtpr"),
    (15, "pdcm"),
    (17, "pcid"),
    (18, "dca"),
    (19, "sse4_1"),
    (20, "sse4_2"),
    (21, "x2apic"),
    (22, "movbe"),
    (23, "popcnt"),
    (24, "tsc_deadline_timer"),
    (25, "aes"),
    (26, "xsave"),
    (28, "avx"),
    (29, "f16c"),
    (30, "rdrand"),
    (31, "hypervisor"),
];
const EXT1_ECX: &[(u32, &str)] = &[
    (0, "lahf_lm"),
    (1, "cmp_legacy"),
    (2, "svm"),
    (3, "extapic"),
    (4, "cr8_legacy"),
    (5, "abm"),
    (6, "sse4a"),
    (7, "misalignsse"),
    (8, "3dnowprefetch"),
    (9, "osvw"),
    (10, "ibs"),
    (11, "xop"),
    (12, "skinit"),
    (13, "wdt"),
    (15, "lwp"),
    (16, "fma4"),
    (17, "tce"),
    (19, "nodeid_msr"),
    (21, "tbm"),
    (22, "topoext"),
    (23, "perfctr_core"),
    (24, "perfctr_nb"),
    (26, "bpext"),
    (27, "ptsc"),
    (28, "perfctr_llc"),
    (29, "mwaitx"),
];
const LEAF7_EBX: &[(u32, &str)] = &[
    (0, "fsgsbase"),
    (1, "tsc_adjust"),
    (2, "sgx"),
    (3, "bmi1"),
    (4, "hle"),
    (5, "avx2"),
    (7, "smep"),
    (8, "bmi2"),
    (9, "erms"),
    (10, "invpcid"),
    (11, "rtm"),
    (12, "cqm"),
    (14, "mpx"),
    (15, "rdt_a"),
    (16, "avx512f"),
    (17, "avx512dq"),
    (18, "rdseed"),
    (19, "adx"),
    (20, "smap"),
    (21, "avx512ifma"),
    (23, "clflushopt"),
    (24, "clwb"),
    (25, "intel_pt"),
    (26, "avx512pf"),
    (27, "avx512er"),
    (28, "avx512cd"),
    (29, "sha_ni"),
    (30, "avx512bw"),
    (31, "avx512vl"),
];
const LEAF7_ECX: &[(u32, &str)] = &[
    (1, "avx512vbmi"),
    (2, "umip"),
    (3, "pku"),
    (4, "ospke"),
    (5, "waitpkg"),
    (6, "avx512_vbmi2"),
    (8, "gfni"),
    (9, "vaes"),
    (10, "vpclmulqdq"),
    (11, "avx512_vnni"),
    (12, "avx512_bitalg"),
    (14, "avx512_vpopcntdq"),
    (16, "la57"),
    (22, "rdpid"),
    (25, "cldemote"),
    (27, "movdiri"),
    (28, "movdir64b"),
];
const LEAF7_EDX: &[(u32, &str)] = &[
    (4, "fsrm"),
    (8, "avx512_vp2intersect"),
    (10, "md_clear"),
    (14, "serialize"),
    (16, "tsxldtrk"),
    (18, "pconfig"),
    (19, "arch_lbr"),
    (22, "amx_bf16"),
    (23, "avx512_fp16"),
    (24, "amx_tile"),
    (25, "amx_int8"),
    (28, "flush_l1d"),
    (29, "arch_capabilities"),
];

fn push_flags(out: &mut String, value: u32, table: &[(u32, &str)]) {
    for (bit, name) in table {
        if value & (1 << bit) != 0 {
            out.push(' ');
            out.push_str(name);
        }
    }
}

fn reg(leaf: u32, sub: u32, r: Reg) -> u32 {
    let c = cpuid(leaf, sub);
    match r {
        Reg::Ecx => c.ecx,
        Reg::Edx => c.edx,
        Reg::Ebx => c.ebx,
    }
}

fn regs_text(regs: &[u32]) -> String {
    let bytes: Vec<u8> = regs.iter().flat_map(|r| r.to_le_bytes()).collect();
    String::from_utf8_lossy(&bytes).trim_matches(|c: char| c == '\0' || c == ' ').into()
}

pub fn cpuinfo() -> Result<Vec<u8>> {
    let l0 = cpuid(0, 0);
    let max_leaf = l0.eax;
    let vendor = regs_text(&[l0.ebx, l0.edx, l0.ecx]);
    let l1 = cpuid(1, 0);
    let mut family = (l1.eax >> 8) & 0xf;
    if family == 0xf {
        family += (l1.eax >> 20) & 0xff;
    }
    let mut model = (l1.eax >> 4) & 0xf;
    if family >= 6 {
        model += ((l1.eax >> 16) & 0xf) << 4;
    }
    let stepping = l1.eax & 0xf;
    let max_ext = cpuid(0x8000_0000, 0).eax;
    let name = if max_ext >= 0x8000_0004 {
        let mut regs = Vec::new();
        for leaf in 0x8000_0002..=0x8000_0004 {
            let c = cpuid(leaf, 0);
            regs.extend_from_slice(&[c.eax, c.ebx, c.ecx, c.edx]);
        }
        regs_text(&regs)
    } else {
        String::from("unknown")
    };
    let mut flags = String::new();
    push_flags(&mut flags, l1.edx, LEAF1_EDX);
    if max_ext >= 0x8000_0001 {
        push_flags(&mut flags, reg(0x8000_0001, 0, Reg::Edx), EXT1_EDX);
    }
    push_flags(&mut flags, l1.ecx, LEAF1_ECX);
    if max_ext >= 0x8000_0001 {
        push_flags(&mut flags, reg(0x8000_0001, 0, Reg::Ecx), EXT1_ECX);
    }
    if max_leaf >= 7 {
        push_flags(&mut flags, reg(7, 0, Reg::Ebx), LEAF7_EBX);
        push_flags(&mut flags, reg(7, 0, Reg::Ecx), LEAF7_ECX);
        push_flags(&mut flags, reg(7, 0, Reg::Edx), LEAF7_EDX);
    }
    let (phys_bits, virt_bits) = if max_ext >= 0x8000_0008 {
        let a = cpuid(0x8000_0008, 0).eax;
        (a & 0xff, (a >> 8) & 0xff)
    } else {
        (36, 48)
    };
    let clflush = ((l1.ebx >> 8) & 0xff) * 8;
    let khz = crate::arch::time::tsc_hz() / 1000;
    // BogoMIPS as Linux computes it from the TSC: twice the MHz.
    let bogo = khz * 2 / 10;

    // One block per CPU that runs: they are alike (cpuid ran here), one package, a core each;
    // the APIC ids are QEMU's, the CPU numbers.
    let cpus = crate::task::scheduler::online_mask();
    let n = cpus.count_ones();
    let mut s = String::new();
    for cpu in (0..64).filter(|c| cpus & (1 << c) != 0) {
        let _ = write!(
            s,
            "processor\t: {}\nvendor_id\t: {}\ncpu family\t: {}\nmodel\t\t: {}\nmodel name\t: {}\nstepping\t: {}\n",
            cpu, vendor, family, model, name, stepping
        );
        let _ = writeln!(s, "cpu MHz\t\t: {}.{:03}", khz / 1000, khz % 1000);
        let _ = write!(
            s,
            "physical id\t: 0\nsiblings\t: {n}\ncore id\t\t: {cpu}\ncpu cores\t: {n}\napicid\t\t: {cpu}\ninitial apicid\t: {cpu}\n"
        );
        s.push_str("fpu\t\t: yes\nfpu_exception\t: yes\n");
        let _ =
            write!(s, "cpuid level\t: {}\nwp\t\t: yes\nflags\t\t:{}\nbugs\t\t:\n", max_leaf, flags);
        let _ = writeln!(s, "bogomips\t: {}.{:02}", bogo / 100, bogo % 100);
        let _ = write!(s, "clflush size\t: {}\ncache_alignment\t: {}\n", clflush, clflush.max(64));
        let _ = write!(
            s,
            "address sizes\t: {} bits physical, {} bits virtual\npower management:\n\n",
            phys_bits, virt_bits
        );
    }
    Ok(s.into_bytes())
}
