//! Reading what the benchmark runner (`user/bench/tools/runner.c`) printed on the console.
//!
//! The lines that matter (anything else, kernel messages included, is ignored):
//!
//! ```text
//! bench-runner start
//! bench-clock ns=N                                    the guest's CLOCK_MONOTONIC (also last)
//! bench-meminfo total_kb=T free_kb=F used_kb=U        (or: bench-meminfo unavailable)
//! bench=NAME unit=UNIT value=X iters=N                a benchmark's result
//! bench-error name=NAME msg=TEXT                      a benchmark failed (its stderr)
//! bench-status name=NAME status=N                     a benchmark ended (or: timeout)
//! bench-runner end
//! ```
//!
//! A line may carry a prefix (a kernel message written over the same console without a newline):
//! the markers are looked for anywhere in the line.

use std::collections::BTreeMap;
use std::time::Duration;

/// How a benchmark's value is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Microseconds per iteration: lower is better.
    Micros,
    /// 10^6 bytes per second: higher is better.
    MegabytesPerSecond,
    /// Operations per second (round trips, connections): higher is better.
    PerSecond,
    /// Bytes per object (the memory sweep): lower is better.
    Bytes,
}

impl Unit {
    pub fn parse(s: &str) -> Option<Unit> {
        match s {
            "us" => Some(Unit::Micros),
            "MB/s" => Some(Unit::MegabytesPerSecond),
            "/s" => Some(Unit::PerSecond),
            "B" => Some(Unit::Bytes),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Unit::Micros => "us",
            Unit::MegabytesPerSecond => "MB/s",
            Unit::PerSecond => "/s",
            Unit::Bytes => "B",
        }
    }

    pub fn higher_is_better(self) -> bool {
        matches!(self, Unit::MegabytesPerSecond | Unit::PerSecond)
    }
}

/// One `bench=` line.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub unit: Unit,
    pub value: f64,
    pub iters: u64,
}

/// How a benchmark process ended, per its `bench-status` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    Exited(i32),
    Timeout,
}

/// Everything one run of the runner printed.
#[derive(Debug, Default, PartialEq)]
pub struct RunOutput {
    /// `bench-runner start` was seen: the userland came up.
    pub started: bool,
    /// `bench-runner end` was seen: every benchmark was tried.
    pub ended: bool,
    /// MemTotal - MemFree in KiB, from `bench-meminfo`.
    pub mem_used_kb: Option<u64>,
    pub samples: BTreeMap<String, Sample>,
    /// The `msg=` of each `bench-error` (the first one per benchmark).
    pub errors: BTreeMap<String, String>,
    pub statuses: BTreeMap<String, Status>,
    /// What follows `bench-note ` (a sweep's remark, e.g. that it created fewer objects).
    pub notes: Vec<String>,
}

impl RunOutput {
    /// Why `name` has no sample in this run: its error message, its exit status, or that it
    /// never ran. `None` if it has one.
    pub fn missing_reason(&self, name: &str) -> Option<String> {
        if self.samples.contains_key(name) {
            return None;
        }
        let status = match self.statuses.get(name) {
            Some(Status::Timeout) => "timed out".to_string(),
            Some(Status::Exited(code)) => format!("exit status {code}"),
            None if self.started && !self.ended => "did not run (the boot ended early)".to_string(),
            None => "did not run".to_string(),
        };
        Some(match self.errors.get(name) {
            Some(msg) => format!("{msg} ({status})"),
            None => status,
        })
    }
}

/// Parses the console of one run.
pub fn parse_console<'a>(lines: impl IntoIterator<Item = &'a str>) -> RunOutput {
    let mut out = RunOutput::default();
    for line in lines {
        let line = line.trim_end_matches(['\r', '\n']);
        if line.contains("bench-runner start") {
            out.started = true;
        } else if line.contains("bench-runner end") {
            out.ended = true;
        } else if let Some(rest) = after(line, "bench-note ") {
            out.notes.push(rest.trim().to_string());
        } else if let Some(rest) = after(line, "bench-meminfo ") {
            out.mem_used_kb = field(rest, "used_kb").and_then(|v| v.parse().ok());
        } else if let Some(rest) = after(line, "bench-error ") {
            if let Some(name) = field(rest, "name") {
                let msg = rest.split_once("msg=").map(|(_, m)| m.trim()).unwrap_or("").to_string();
                out.errors.entry(name.to_string()).or_insert(msg);
            }
        } else if let Some(rest) = after(line, "bench-status ") {
            if let Some(name) = field(rest, "name") {
                let status = if rest.split_whitespace().any(|w| w == "timeout") {
                    Some(Status::Timeout)
                } else {
                    field(rest, "status").and_then(|s| s.parse().ok()).map(Status::Exited)
                };
                if let Some(status) = status {
                    out.statuses.insert(name.to_string(), status);
                }
            }
        } else if let Some(rest) = after(line, "bench=") {
            if let Some((name, sample)) = parse_sample(rest) {
                out.samples.insert(name, sample);
            }
        }
    }
    out
}

/// How fast the guest's CLOCK_MONOTONIC ran against the host's clock, from the first and last
/// `bench-clock` lines and when the host saw them (1.0: the same; the benchmarks' figures are
/// off by this factor). `None` without two lines far enough apart (1 s) to tell.
pub fn clock_rate<'a>(lines: impl IntoIterator<Item = (Duration, &'a str)>) -> Option<f64> {
    let clocks: Vec<(Duration, u64)> = lines
        .into_iter()
        .filter_map(|(at, line)| Some((at, after(line, "bench-clock ")?)))
        .filter_map(|(at, rest)| Some((at, field(rest, "ns")?.parse().ok()?)))
        .collect();
    let (first, last) = (clocks.first()?, clocks.last()?);
    let host = last.0.checked_sub(first.0)?.as_secs_f64();
    let guest = last.1.checked_sub(first.1)? as f64 / 1e9;
    (host >= 1.0).then(|| guest / host)
}

/// `NAME unit=UNIT value=X iters=N` (what follows `bench=`); `None` if anything is off.
fn parse_sample(rest: &str) -> Option<(String, Sample)> {
    let name = rest.split_whitespace().next()?;
    // A sweep's point is SERIES@X.
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '@' | '.');
    if name.is_empty() || !name.chars().all(allowed) {
        return None;
    }
    let unit = Unit::parse(field(rest, "unit")?)?;
    let value: f64 = field(rest, "value")?.parse().ok()?;
    let iters: u64 = field(rest, "iters")?.parse().ok()?;
    // Memory per object may come out at 0 (or below, in the noise); a time or a rate may not.
    let plausible = if unit == Unit::Bytes { value.is_finite() } else { value > 0.0 };
    if !plausible || iters == 0 {
        return None;
    }
    Some((name.to_string(), Sample { unit, value, iters }))
}

/// The text after the first `marker` in `line`.
fn after<'a>(line: &'a str, marker: &str) -> Option<&'a str> {
    line.find(marker).map(|i| &line[i + marker.len()..])
}

/// The value of the whitespace-separated `key=value` word in `text`.
fn field<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    text.split_whitespace().find_map(|word| word.strip_prefix(key)?.strip_prefix('='))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_whole_run() {
        let console = "\
[    0.1] some kernel line
bench-runner start\r
bench-meminfo total_kb=500000 free_kb=480000 used_kb=20000
bench=pipe_lat unit=us value=12.5 iters=80000
bench-status name=pipe_lat status=0
bench-error name=tcp_lat msg=socket(AF_INET): Address family not supported by protocol
bench-status name=tcp_lat status=1
bench=pipe_bw unit=MB/s value=1.234e+03 iters=100
bench-status name=pipe_bw status=0
bench-status name=msg_lat timeout
bench-runner end";
        let out = parse_console(console.lines());
        assert!(out.started && out.ended);
        assert_eq!(out.mem_used_kb, Some(20000));
        assert_eq!(
            out.samples["pipe_lat"],
            Sample { unit: Unit::Micros, value: 12.5, iters: 80000 }
        );
        assert_eq!(out.samples["pipe_bw"].value, 1234.0);
        assert_eq!(out.samples["pipe_bw"].unit, Unit::MegabytesPerSecond);
        assert_eq!(out.samples.len(), 2);
        assert_eq!(out.statuses["msg_lat"], Status::Timeout);
        assert_eq!(out.missing_reason("pipe_lat"), None);
        assert_eq!(
            out.missing_reason("tcp_lat").unwrap(),
            "socket(AF_INET): Address family not supported by protocol (exit status 1)"
        );
        assert_eq!(out.missing_reason("msg_lat").unwrap(), "timed out");
        assert_eq!(out.missing_reason("nope").unwrap(), "did not run");
    }

    #[test]
    fn guest_clock_against_host() {
        let s = Duration::from_secs_f64;
        let lines = [
            (s(0.5), "bench-clock ns=1000000000"),
            (s(1.0), "bench=a unit=us value=1 iters=1"),
            (s(10.5), "bench-clock ns=11100000000"),
        ];
        let rate = clock_rate(lines).unwrap();
        assert!((rate - 1.01).abs() < 1e-9, "{rate}");
        assert_eq!(clock_rate([(s(0.5), "bench-clock ns=1")]), None);
        assert_eq!(
            clock_rate([(s(0.5), "bench-clock ns=1"), (s(0.6), "bench-clock ns=100000000")]),
            None
        );
    }

    #[test]
    fn garbage_and_prefixes() {
        let out = parse_console([
            "bench=x unit=us value=abc iters=1",
            "bench=y unit=furlongs value=1 iters=1",
            "bench=z unit=us value=1 iters=0",
            "bench=w unit=us value=-1 iters=3",
            "bench=",
            "bench-meminfo unavailable",
            "junk[  1.2] kbench=eventfd_lat unit=us value=3 iters=9",
            "bench-runner start",
            "bench=epoll_wait@100 unit=us value=2 iters=9",
            "bench=accept_tcp@4 unit=/s value=900 iters=9",
            "bench=kmem_pipe unit=B value=0 iters=10",
            "bench=ring@3 unit=/s value=0 iters=9",
            "bench-note name=kmem_pipe created=5 of 10: Too many open files",
        ]);
        assert_eq!(
            out.samples.keys().collect::<Vec<_>>(),
            ["accept_tcp@4", "epoll_wait@100", "eventfd_lat", "kmem_pipe"]
        );
        assert_eq!(out.samples["accept_tcp@4"].unit, Unit::PerSecond);
        assert_eq!(out.notes, ["name=kmem_pipe created=5 of 10: Too many open files"]);
        assert_eq!(out.mem_used_kb, None);
        assert!(out.started && !out.ended);
        assert_eq!(out.missing_reason("x").unwrap(), "did not run (the boot ended early)");
    }
}
