//! `cargo xtask bench --sweeps`: the cost curves of `user/bench/sweep/` (docs/benchmarks.md,
//! "Sweeps"). Each program prints a line per point, `bench=SERIES@X unit=... value=...`, read
//! like a benchmark's; here the points become one chart per series (a line per kernel, log x
//! axis), `sweeps.json` (every point of every run, medians, ratios) and `sweeps.md`.
//!
//! The `pairs` sweep (throughput of K ping-pong pairs) is also run at 2 vCPUs when the rest
//! runs at 1: its series are tagged `_1cpu` and `_2cpu` and share a chart.
//!
//! `cargo xtask test` runs every sweep once at its smallest size, on POSIX-X and natively
//! ([`check`]): a correctness check, not a timing.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use super::boot::{self, Stderr};
use super::chart::{self, Line};
use super::parse::{RunOutput, Status, Unit};
use super::report::{Report, Setting, CAVEAT};
use super::stats::{self, Runs, System};
use crate::build::UserBuild;
use crate::qemu::{Accel, Boot, Console, LogEcho, DEFAULT_CPU};
use crate::run::VmOptions;
use crate::test;
use crate::util::{build_dir, secs, Context, Result};

/// Boots per kernel (a sweep is long; its points are many).
pub const DEFAULT_RUNS: usize = 3;
/// Seconds each point aims at.
pub const DEFAULT_SECONDS: f64 = 0.3;
/// The runner kills a sweep program still running after this long.
pub const TIMEOUT_SECS: u32 = 400;
/// The sweep that also runs at 2 vCPUs.
pub const SCALING_SWEEP: &str = "pairs";
/// The name of the check in `cargo xtask test`.
pub const CHECK: &str = "bench-sweeps";
const CHECK_TIMEOUT: Duration = Duration::from_secs(300);

/// `SERIES@X` split; `None` for a point without a numeric size (the memory table's rows).
fn split_point(name: &str) -> Option<(&str, f64)> {
    let (series, x) = name.split_once('@')?;
    Some((series, x.parse().ok()?))
}

/// The chart a series goes on: its name without a `_Ncpu` tag.
fn chart_of(series: &str) -> &str {
    match series.rsplit_once('_') {
        Some((base, tag))
            if tag.ends_with("cpu") && tag[..tag.len() - 3].chars().all(|c| c.is_ascii_digit()) =>
        {
            base
        }
        _ => series,
    }
}

/// Tags the throughput sweep's points with the vCPU count: `pairs_pipe@2` -> `pairs_pipe_1cpu@2`.
pub fn tag_cpus(output: &mut RunOutput, smp: usize) {
    let tag = |name: &str| match name.split_once('@') {
        Some((series, x)) if series.starts_with("pairs_") => format!("{series}_{smp}cpu@{x}"),
        _ => name.to_string(),
    };
    output.samples =
        std::mem::take(&mut output.samples).into_iter().map(|(k, v)| (tag(&k), v)).collect();
    output.errors =
        std::mem::take(&mut output.errors).into_iter().map(|(k, v)| (tag(&k), v)).collect();
    if smp > 1 {
        output.statuses = std::mem::take(&mut output.statuses)
            .into_iter()
            .map(|(k, v)| (format!("{k} (-smp {smp})"), v))
            .collect();
    }
}

/// Every point any run produced, in chart order: by series, then by size.
fn points(systems: &BTreeMap<System, Runs>) -> Vec<String> {
    let names: BTreeSet<String> = systems
        .values()
        .flat_map(|r| r.0.iter())
        .flat_map(|r| r.output.samples.keys().chain(r.output.errors.keys()).cloned())
        .collect();
    let mut names: Vec<String> = names.into_iter().collect();
    names.sort_by(|a, b| match (split_point(a), split_point(b)) {
        (Some((sa, xa)), Some((sb, xb))) => sa.cmp(sb).then(xa.total_cmp(&xb)),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.cmp(b),
    });
    names
}

/// The sweep programs that did not end well, per system: `PROGRAM on SYSTEM: reason`.
fn program_failures(names: &[String], systems: &BTreeMap<System, Runs>) -> Vec<String> {
    let mut lines = Vec::new();
    for (system, runs) in systems {
        for (i, run) in runs.0.iter().enumerate() {
            let statuses = run.output.statuses.iter().filter(|(k, _)| {
                names.iter().any(|n| k.as_str() == n || k.starts_with(&format!("{n} (")))
            });
            for (name, status) in statuses {
                let why = match status {
                    Status::Exited(0) => continue,
                    Status::Exited(code) => format!("exit status {code}"),
                    Status::Timeout => "timed out".to_string(),
                };
                lines.push(format!("{name} on {} (run {}): {why}", system.label(), i + 1));
            }
            for name in names {
                if run.output.started && !run.output.statuses.contains_key(name) {
                    lines.push(format!(
                        "{name} on {} (run {}): did not run",
                        system.label(),
                        i + 1
                    ));
                }
            }
            if let Some(f) = &run.failure {
                lines.push(format!("run {} on {}: {f}", i + 1, system.label()));
            }
        }
    }
    lines
}

/// Prints the table, writes sweeps.json, sweeps.md and a chart per series into `dir`.
pub fn finish<'a>(
    setting: Setting,
    names: &[String],
    systems: &'a BTreeMap<System, Runs>,
    dir: &Path,
) -> Result<Report<'a>> {
    let points = points(systems);
    let report = Report { rows: stats::rows(&points, systems), setting, systems };
    println!();
    print!("{}", report.text_table());
    let failures = program_failures(names, systems);
    for line in report.unsupported().iter().chain(&failures) {
        println!("failed: {line}");
    }
    for line in report.clock_warnings() {
        println!("warning: {line}");
    }
    let notes: BTreeSet<String> = systems
        .iter()
        .flat_map(|(s, r)| {
            r.0.iter().flat_map(move |run| {
                run.output.notes.iter().map(move |n| format!("{}: {n}", s.label()))
            })
        })
        .collect();
    for note in &notes {
        println!("note: {note}");
    }
    if !systems.contains_key(&System::Host) {
        println!("{CAVEAT}");
    }
    std::fs::create_dir_all(dir).context(|| format!("creating {}", dir.display()))?;
    let mut json = report.json();
    json["sweep_programs"] = names.into();
    json["failures"] = failures.clone().into();
    json["notes"] = notes.iter().cloned().collect::<Vec<_>>().into();
    let text = serde_json::to_string_pretty(&json).context(|| "encoding sweeps.json")?;
    let path = dir.join("sweeps.json");
    std::fs::write(&path, text + "\n").context(|| format!("writing {}", path.display()))?;
    let path = dir.join("sweeps.md");
    std::fs::write(&path, report.markdown()).context(|| format!("writing {}", path.display()))?;
    println!("report: {}", dir.join("sweeps.json").display());
    for (chart, lines, unit) in charts(&report) {
        let svg = dir.join(format!("{chart}.svg"));
        let zero = lines.iter().any(|l| l.points.iter().any(|p| p.0 == 0.0));
        let x_desc = format!(
            "{} (log scale{})",
            X_DESC.iter().find(|(c, _)| *c == chart).map(|(_, d)| *d).unwrap_or("size"),
            if zero { "; 0 drawn at 1" } else { "" }
        );
        let y_desc = match unit {
            Unit::Micros => "µs (median)",
            Unit::PerSecond => "per second (median)",
            Unit::MegabytesPerSecond => "MB/s (median)",
            Unit::Bytes => "bytes (median)",
        };
        let title = format!("{chart}: {}, {}", report.setting.qemu, report.setting.date);
        chart::lines(&svg, &title, &x_desc, y_desc, &lines)?;
        println!("chart:  {}", svg.display());
    }
    Ok(report)
}

/// What the x axis of each chart counts.
const X_DESC: &[(&str, &str)] = &[
    ("epoll_wait", "registered descriptors"),
    ("poll", "descriptors"),
    ("select", "descriptors"),
    ("fork_exit", "MiB touched by the parent"),
    ("fork_exec", "MiB touched by the parent"),
    ("ring", "processes in the ring"),
    ("accept_unix", "concurrent clients"),
    ("accept_tcp", "concurrent clients"),
    ("tcp_idle", "idle TCP connections"),
    ("msg_queues", "message queues"),
    ("sem_set", "semaphores in the set"),
    ("pairs_pipe", "ping-pong pairs"),
    ("pairs_unix", "ping-pong pairs"),
];

/// A chart's lines by (system, series), and its unit.
type ChartData = (BTreeMap<(System, String), Vec<(f64, f64)>>, Option<Unit>);

/// The charts: (name, a line per system and series, unit), from the medians.
fn charts(report: &Report) -> Vec<(String, Vec<Line>, Unit)> {
    let mut by_chart: BTreeMap<String, ChartData> = BTreeMap::new();
    for row in &report.rows {
        let Some((series, x)) = split_point(&row.name) else { continue };
        let entry = by_chart.entry(chart_of(series).to_string()).or_default();
        entry.1 = entry.1.or(row.unit);
        for (system, m) in &row.medians {
            if let Ok(y) = m {
                entry.0.entry((*system, series.to_string())).or_default().push((x, *y));
            }
        }
    }
    by_chart
        .into_iter()
        .filter_map(|(chart, (lines, unit))| {
            let lines: Vec<Line> = lines
                .into_iter()
                .map(|((system, series), points)| {
                    let cpus = series.strip_prefix(&chart).unwrap_or("").trim_start_matches('_');
                    let label = if cpus.is_empty() {
                        system.label().to_string()
                    } else {
                        let n = cpus.trim_end_matches("cpu");
                        let unit = if n == "1" { "CPU" } else { "CPUs" };
                        format!("{} {n} {unit}", system.label())
                    };
                    Line { label, points }
                })
                .collect();
            Some((chart, lines, unit?))
        })
        .collect()
}

/// `cargo xtask test`: every sweep once at its smallest size (BENCH_SWEEP_CHECK=1), in one boot
/// of POSIX-X and natively; each must exit 0 having printed a point per series.
pub fn check(user: &UserBuild, vm: &VmOptions, verbose: bool, report: &mut test::Report) {
    let names: Vec<String> =
        user.guest_bench.sweeps.iter().filter(|b| b.path.is_ok()).map(|b| b.name.clone()).collect();
    if names.is_empty() {
        report.skip(&format!("posix-x/{CHECK}"), "no sweep built");
        return;
    }
    let env = ["BENCH_SWEEP_CHECK=1"];
    let name = format!("posix-x/{CHECK}");
    let guest = (|| -> Result<super::boot::Finished> {
        let kernel = vm.kernel(verbose)?;
        let runner = super::runner_command(super::GUEST_SWEEP_DIR, 0.01, 120, &env, &names);
        let initrd = super::round_image(user, &runner, "initramfs-sweep-check")?;
        let boot = Boot {
            accel: Accel::choose(vm.force_tcg, vm.force_kvm),
            cpu: DEFAULT_CPU.to_string(),
            smp: 1,
            mem: vm.mem.clone(),
            kernel: kernel.clone(),
            initrd,
            append: vm.append.clone(),
            timeout: Some(CHECK_TIMEOUT),
            console: Console::Capture,
            log_echo: LogEcho::Nothing,
            net: None,
            extra: Vec::new(),
        };
        boot::run(
            boot.command(),
            Stderr::KernelLog { kernel: Some(kernel) },
            CHECK_TIMEOUT,
            &|_| (),
        )
    })();
    match guest {
        Ok(finished) => judge(&name, System::PosixX, &names, &finished, report),
        Err(e) => report.fail(&name, &e.to_string(), &[]),
    }

    let host_names: Vec<String> =
        user.host_bench.sweeps.iter().filter(|b| b.path.is_ok()).map(|b| b.name.clone()).collect();
    let dir = build_dir().join("host/bench/sweep");
    let runner = super::runner_command(&dir.display().to_string(), 0.01, 120, &env, &host_names);
    let mut cmd = Command::new(&runner[0]);
    cmd.args(&runner[1..]).current_dir(&dir);
    let name = format!("linux/{CHECK}");
    match boot::run(cmd, Stderr::Merge, CHECK_TIMEOUT, &|_| ()) {
        Ok(finished) => judge(&name, System::Host, &host_names, &finished, report),
        Err(e) => report.fail(&name, &e.to_string(), &[]),
    }
}

/// Passes if every program exited 0 and printed at least one point.
fn judge(
    name: &str,
    system: System,
    names: &[String],
    finished: &super::boot::Finished,
    report: &mut test::Report,
) {
    let run = super::record(system, finished);
    let points = run.output.samples.len();
    let mut problems: Vec<String> =
        run.output.errors.iter().map(|(point, msg)| format!("{point}: {msg}")).collect();
    let systems = BTreeMap::from([(system, Runs(vec![run]))]);
    problems.extend(program_failures(names, &systems));
    if points < names.len() {
        problems.push(format!("only {points} points from {} sweeps", names.len()));
    }
    if problems.is_empty() {
        let detail =
            format!("{points} points from {} sweeps in {}", names.len(), secs(finished.elapsed));
        report.ok(name, &detail);
    } else {
        let tail = finished.lines.iter().rev().take(15).rev().map(|l| l.text.clone());
        problems.extend(tail);
        report.fail(name, "a sweep failed at its smallest size", &problems);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn point_names_and_charts() {
        assert_eq!(split_point("epoll_wait@100"), Some(("epoll_wait", 100.0)));
        assert_eq!(split_point("kmem_pipe"), None);
        assert_eq!(chart_of("pairs_pipe_2cpu"), "pairs_pipe");
        assert_eq!(chart_of("pairs_pipe"), "pairs_pipe");
        assert_eq!(chart_of("fork_exec"), "fork_exec");
        let mut out = super::super::parse::parse_console([
            "bench=pairs_unix@4 unit=/s value=9 iters=1",
            "bench=ring@8 unit=us value=9 iters=1",
            "bench-status name=pairs status=0",
        ]);
        tag_cpus(&mut out, 2);
        assert_eq!(out.samples.keys().collect::<Vec<_>>(), ["pairs_unix_2cpu@4", "ring@8"]);
        assert_eq!(out.statuses.keys().collect::<Vec<_>>(), ["pairs (-smp 2)"]);
    }
}
