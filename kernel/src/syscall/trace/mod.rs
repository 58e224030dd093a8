//! The system-call trace (`trace=FILTER` on the kernel command line, `cargo xtask run --trace`):
//! one line per call in strace's format, `pid tid name(args) = ret <seconds>`, sent through QEMU's
//! debug console (arch::debugcon) to a host file. The table of argument kinds is `table.rs`, their
//! decoding `decode.rs`.
//!
//! Off (no `trace=`), dispatch pays one load and one predictable branch: [`on`].

mod decode;
mod table;

use alloc::string::String;
use core::fmt::Write;
use core::sync::atomic::{AtomicBool, Ordering};

use spin::Once;

use super::Args;
use crate::arch::trap::TrapFrame;
use crate::arch::{debugcon, time};
use crate::error::Result;
use crate::{process, task};
pub use table::Family;

static ON: AtomicBool = AtomicBool::new(false);
static FILTER: Once<Filter> = Once::new();

/// What to trace: families, names, pids (each empty = any; names and families add up).
struct Filter {
    all_calls: bool,
    families: u32,
    /// Bit `nr` set: trace call `nr`.
    calls: [u64; 8],
    pids: alloc::vec::Vec<u32>,
}

impl Filter {
    /// `all`, or comma-separated family names, call names and `pid=N`.
    fn parse(spec: &str) -> Filter {
        let mut f = Filter { all_calls: false, families: 0, calls: [0; 8], pids: alloc::vec![] };
        for word in spec.split(',').filter(|w| !w.is_empty()) {
            if word == "all" {
                f.all_calls = true;
            } else if let Some(pid) = word.strip_prefix("pid=") {
                if let Ok(pid) = pid.parse() {
                    f.pids.push(pid);
                }
            } else if let Some(family) = Family::from_name(word) {
                f.families |= family as u32;
            } else if let Some(nr) = super::numbers::number(word) {
                f.calls[(nr / 64) as usize] |= 1 << (nr % 64);
            } else {
                crate::log!("trace: unknown filter word {word:?} (ignored)");
            }
        }
        if f.families == 0 && f.calls == [0; 8] {
            f.all_calls = true;
        }
        f
    }

    fn wants(&self, nr: u64, family: Family, pid: u32) -> bool {
        let call = self.all_calls
            || self.families & family as u32 != 0
            || (nr < 512 && self.calls[(nr / 64) as usize] & (1 << (nr % 64)) != 0);
        call && (self.pids.is_empty() || self.pids.contains(&pid))
    }
}

/// Reads `trace=` from the command line (after `cmdline::init`).
pub fn init() {
    if let Some(spec) = crate::cmdline::value("trace") {
        FILTER.call_once(|| Filter::parse(spec));
        ON.store(true, Ordering::Relaxed);
        crate::log!("trace: system calls traced ({spec}) to the debug console");
    }
}

/// Whether any call is traced: the one test dispatch makes when tracing is off.
#[inline(always)]
pub fn on() -> bool {
    ON.load(Ordering::Relaxed)
}

type Call = fn(u64, &Args, &mut TrapFrame) -> Result<i64>;

/// Runs `call` and writes its trace line if the filter wants it.
pub fn traced(nr: u64, a: &Args, frame: &mut TrapFrame, call: Call) -> Result<i64> {
    let spec = table::spec(nr);
    let pid = process::with_current(|p| p.pid);
    let wanted = FILTER.get().is_some_and(|f| f.wants(nr, spec.family, pid));
    if !wanted {
        return call(nr, a, frame);
    }
    let tid = task::with_current(|t| t.tid());
    let mut line = String::new();
    let _ = write!(line, "{pid} {tid} {}(", super::numbers::name(nr));
    // Inputs are read before the call (execve replaces them, exit never returns); outputs after.
    let mut parts = decode::inputs(spec.args, a);
    if spec.ret == table::Ret::None {
        line.push_str(&decode::join(&parts));
        line.push_str(") = ?\n");
        debugcon::write(line.as_bytes());
    }
    let start = time::monotonic_ns();
    let result = call(nr, a, frame);
    let took = time::monotonic_ns().saturating_sub(start);
    decode::outputs(spec.args, a, &result, &mut parts);
    line.push_str(&decode::join(&parts));
    line.push_str(") = ");
    decode::ret(&mut line, spec.ret, &result);
    let _ = writeln!(line, " <{}.{:06}>", took / 1_000_000_000, took % 1_000_000_000 / 1000);
    debugcon::write(line.as_bytes());
    result
}
