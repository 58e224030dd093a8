//! /sys as far as this kernel has it: /sys/devices/system/cpu/{online,possible,present}, the CPU
//! lists glibc's sysconf(_SC_NPROCESSORS_ONLN/_CONF) and get_nprocs read (musl's use
//! sched_getaffinity). CPUs never go offline here, so the three lists are the same: the CPUs
//! that run the scheduler.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;

use super::tree::{Entry, Node};
use crate::error::Result;

pub static ROOT: &[Entry] = &[Entry { id: 200, name: "devices", node: Node::Dir(DEVICES) }];
static DEVICES: &[Entry] = &[Entry { id: 201, name: "system", node: Node::Dir(SYSTEM) }];
static SYSTEM: &[Entry] = &[Entry { id: 202, name: "cpu", node: Node::Dir(CPU) }];
static CPU: &[Entry] = &[
    Entry { id: 203, name: "online", node: Node::File(cpu_list, 0o444) },
    Entry { id: 204, name: "possible", node: Node::File(cpu_list, 0o444) },
    Entry { id: 205, name: "present", node: Node::File(cpu_list, 0o444) },
];

/// Linux's cpulist format: ranges such as "0-3,5\n".
pub fn format_cpu_list(mask: u64) -> String {
    let mut s = String::new();
    let mut c = 0;
    while c < 64 {
        if mask & (1 << c) == 0 {
            c += 1;
            continue;
        }
        let start = c;
        while c + 1 < 64 && mask & (1 << (c + 1)) != 0 {
            c += 1;
        }
        if !s.is_empty() {
            s.push(',');
        }
        let _ = if start == c { write!(s, "{}", c) } else { write!(s, "{}-{}", start, c) };
        c += 1;
    }
    s.push('\n');
    s
}

fn cpu_list() -> Result<Vec<u8>> {
    Ok(format_cpu_list(crate::task::scheduler::online_mask()).into_bytes())
}
