//! `cargo xtask bench [--vs-linux] [--host] [--tcg|--kvm] [--runs N] [--seconds S] [FILTER]`:
//! the micro-benchmarks of `user/bench/` (docs/benchmarks.md).
//!
//! One image holds them all, with `/bench/tools/runner` as the batch command for POSIX-X and an
//! `/init` script that runs the same runner for Linux: the same bytes boot both kernels. Each
//! run boots each kernel once (POSIX-X, then Linux, run after run), the runner tries every
//! benchmark in turn, and the table shows the median of the runs.

mod boot;
mod chart;
mod linux;
mod parse;
mod report;
mod stats;

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::build::{build_user, Binary, UserBuild};
use crate::image::{self, Tree};
use crate::qemu::{Accel, Boot, Console, LogEcho};
use crate::run::VmOptions;
use crate::util::{build_dir, repo_root, secs, Args, Context, Error, Result};
use crate::{deps, test};

use boot::{Finished, Stderr};
use report::{Report, Setting, CAVEAT};
use stats::{Run, Runs, System};

const DEFAULT_RUNS: usize = 5;
/// Seconds each benchmark aims at (after calibration); BENCH_SECONDS for the programs.
const DEFAULT_SECONDS: f64 = 1.0;
/// The runner kills a benchmark that is still running after this many seconds.
const BENCH_TIMEOUT_SECS: u32 = 60;
/// A boot (or a host run) still running after this long is killed; what it printed is kept.
const BOOT_TIMEOUT: Duration = Duration::from_secs(600);
/// Where the runner and the benchmarks are in the image.
const GUEST_DIR: &str = "/bench";

struct Options {
    vm: VmOptions,
    vs_linux: bool,
    host: bool,
    runs: Option<usize>,
    seconds: f64,
    verbose: bool,
    filter: Option<String>,
}

fn parse_args(args: Vec<OsString>) -> Result<Options> {
    let mut args = Args::new(args);
    let mut o = Options {
        vm: VmOptions::default(),
        vs_linux: false,
        host: false,
        runs: None,
        seconds: DEFAULT_SECONDS,
        verbose: false,
        filter: None,
    };
    while let Some(arg) = args.next() {
        match arg.to_str() {
            Some("--vs-linux") => o.vs_linux = true,
            Some("--host") => o.host = true,
            Some("--tcg") => o.vm.force_tcg = true,
            Some("--kvm") => o.vm.force_kvm = true,
            Some("--kernel") => o.vm.kernel = Some(args.path("--kernel")?),
            Some("--runs") => {
                let v = args.value("--runs")?;
                o.runs =
                    Some(v.parse().ok().filter(|n| *n > 0).ok_or_else(|| {
                        Error::new(format!("--runs: not a positive number: {v}"))
                    })?);
            }
            Some("--seconds") => {
                let v = args.value("--seconds")?;
                o.seconds =
                    v.parse().ok().filter(|s: &f64| *s > 0.0 && s.is_finite()).ok_or_else(
                        || Error::new(format!("--seconds: not a positive number: {v}")),
                    )?;
            }
            Some("-v" | "--verbose") => o.verbose = true,
            Some(s) if s.starts_with('-') => {
                return Err(Error::new(format!("bench: unknown option {s}")))
            }
            Some(s) if o.filter.is_none() => o.filter = Some(s.to_string()),
            _ => return Err(Error::new(format!("bench: unexpected argument {arg:?}"))),
        }
    }
    if o.host && o.vs_linux {
        return Err(Error::new(
            "bench: --host runs the benchmarks natively; it does not go with --vs-linux",
        ));
    }
    Ok(o)
}

/// `cargo xtask bench ...`
pub fn command(args: Vec<OsString>) -> Result<u8> {
    let o = parse_args(args)?;
    deps::ensure()?;
    let user = build_user()?;
    let built = if o.host { &user.host_bench } else { &user.guest_bench };
    let broken: Vec<&str> =
        built.all().filter(|b| b.path.is_err()).map(|b| b.name.as_str()).collect();
    if !broken.is_empty() {
        return Err(Error::new(format!("benchmarks failed to compile: {}", broken.join(", "))));
    }
    let names: Vec<String> = built
        .benchmarks
        .iter()
        .map(|b| b.name.clone())
        .filter(|name| o.filter.as_deref().is_none_or(|f| name.contains(f)))
        .collect();
    if names.is_empty() {
        return Err(Error::new(format!(
            "no benchmark in user/bench matches {:?}",
            o.filter.as_deref().unwrap_or("")
        )));
    }
    if o.host {
        host(&o, &names)
    } else {
        guest(&o, &user, &names)
    }
}

/// CI builds the benchmarks without timing them: one line in `cargo xtask test` that fails if
/// any of them (or their tools) did not compile, for POSIX-X or for the host.
pub fn report_build(user: &UserBuild, report: &mut test::Report) {
    let all: Vec<&Binary> = user.guest_bench.all().chain(user.host_bench.all()).collect();
    let failed: Vec<&Binary> = all.iter().copied().filter(|b| b.path.is_err()).collect();
    if failed.is_empty() {
        report.ok("build/bench", &format!("{} programs for POSIX-X and the host", all.len()));
    } else {
        let lines: Vec<String> = failed
            .iter()
            .flat_map(|b| {
                b.path.as_ref().err().into_iter().flat_map(|e| e.lines().map(str::to_string))
            })
            .collect();
        let names: Vec<&str> = failed.iter().map(|b| b.name.as_str()).collect();
        report.fail("build/bench", &format!("did not compile: {}", names.join(", ")), &lines);
    }
}

/// The runner's command line.
fn runner_command(dir: &str, seconds: f64, names: &[String]) -> Vec<String> {
    let mut cmd = vec![
        format!("{dir}/tools/runner"),
        "-t".to_string(),
        seconds.to_string(),
        "-T".to_string(),
        BENCH_TIMEOUT_SECS.to_string(),
        dir.to_string(),
    ];
    cmd.extend(names.iter().cloned());
    cmd
}

/// On POSIX-X, and on Linux with `--vs-linux`, in QEMU.
fn guest(o: &Options, user: &UserBuild, names: &[String]) -> Result<u8> {
    let kernel = o.vm.kernel(o.verbose)?;
    let accel = o.vm.accel(true);
    let linux = if o.vs_linux {
        match linux::kernel() {
            Ok(k) => Some(k),
            Err(e) => {
                eprintln!("xtask: --vs-linux: cannot get Debian's Linux kernel: {e}");
                eprintln!("xtask: running POSIX-X only");
                None
            }
        }
    } else {
        None
    };

    // One image for both kernels: POSIX-X runs the batch file, Linux runs /init.
    let runner = runner_command(GUEST_DIR, o.seconds, names);
    let mut tree: Tree = image::base_tree(user)?;
    tree.file("init", 0o755, linux::init_script(&runner).into_bytes());
    let initrd = build_dir().join("bench/initramfs.cpio");
    let batch = vec![runner.iter().map(|a| a.as_bytes().to_vec()).collect()];
    image::write(&tree, &batch, &[], &initrd)?;

    let qemu_boot = |kernel: &Path, append: &str| Boot {
        accel,
        smp: 1,
        mem: o.vm.mem.clone(),
        kernel: kernel.to_path_buf(),
        initrd: initrd.clone(),
        append: append.to_string(),
        timeout: Some(BOOT_TIMEOUT),
        console: Console::Capture,
        log_echo: LogEcho::Nothing,
        net: None,
        extra: Vec::new(),
    };
    let mut targets =
        vec![(System::PosixX, qemu_boot(&kernel, &o.vm.append), Some(kernel.clone()))];
    if let Some(linux) = &linux {
        targets.push((System::Linux, qemu_boot(&linux.vmlinuz, linux::APPEND), None));
    }

    let runs = o.runs.unwrap_or(DEFAULT_RUNS);
    let per_boot = names.len() as f64 * o.seconds * 1.6;
    eprintln!(
        "xtask: {} benchmark(s), {runs} run(s) of {}, about {:.0} s of benchmarks per boot",
        names.len(),
        targets.iter().map(|t| t.0.label()).collect::<Vec<_>>().join(" and "),
        per_boot
    );
    let logs = output_dir().join("logs");
    std::fs::create_dir_all(&logs).context(|| format!("creating {}", logs.display()))?;
    let mut systems: BTreeMap<System, Runs> = BTreeMap::new();
    for run in 1..=runs {
        for (system, qemu, kernel_elf) in &targets {
            let label = format!("{} {run}/{runs}", system.label());
            let finished = boot::run(
                qemu.command(),
                Stderr::KernelLog { kernel: kernel_elf.clone() },
                BOOT_TIMEOUT,
                &|line| progress(&label, line, o.verbose),
            )?;
            save_log(&logs.join(format!("{}-{run}.log", system.key())), &finished);
            let result = record(*system, &finished);
            eprintln!("xtask: [{label}] {}", summary(&result, &finished));
            systems.entry(*system).or_default().0.push(result);
        }
    }

    let qemu = describe_qemu(&targets[0].1.command(), accel);
    let setting = Setting {
        date: today(),
        commit: commit(),
        machine: machine(),
        accelerator: accel.name().to_string(),
        qemu,
        runs,
        seconds: o.seconds,
        linux: linux.as_ref().map(|l| l.package.clone()),
    };
    finish(setting, names, &systems, o.filter.is_none())?;
    let posix_started =
        systems.get(&System::PosixX).is_some_and(|r| r.0.iter().any(|r| r.output.started));
    Ok(if posix_started { 0 } else { 1 })
}

/// `--host`: the same programs, built with the host's gcc, run natively (a sanity check).
fn host(o: &Options, names: &[String]) -> Result<u8> {
    let dir = build_dir().join("host/bench");
    let runner = runner_command(&dir.display().to_string(), o.seconds, names);
    let runs = o.runs.unwrap_or(1);
    let mut systems: BTreeMap<System, Runs> = BTreeMap::new();
    for run in 1..=runs {
        let label = format!("host {run}/{runs}");
        let mut cmd = Command::new(&runner[0]);
        cmd.args(&runner[1..]).current_dir(&dir);
        let finished =
            boot::run(cmd, Stderr::Merge, BOOT_TIMEOUT, &|line| progress(&label, line, o.verbose))?;
        let result = record(System::Host, &finished);
        eprintln!("xtask: [{label}] {}", summary(&result, &finished));
        systems.entry(System::Host).or_default().0.push(result);
    }
    let setting = Setting {
        date: today(),
        commit: commit(),
        machine: machine(),
        accelerator: "none (native)".to_string(),
        qemu: "no QEMU".to_string(),
        runs,
        seconds: o.seconds,
        linux: None,
    };
    let report = finish(setting, names, &systems, false)?;
    let missing = report.unsupported();
    if missing.is_empty() {
        println!("every benchmark ran on the host");
        Ok(0)
    } else {
        println!("{} benchmark(s) failed on the host", missing.len());
        Ok(1)
    }
}

/// Prints the table and writes the report files (into target/bench/, or target/bench/host/ for
/// `--host`). Only a full run (`complete`: no FILTER) is the one the README quotes, but every
/// run writes its report.
fn finish<'a>(
    setting: Setting,
    names: &[String],
    systems: &'a BTreeMap<System, Runs>,
    complete: bool,
) -> Result<Report<'a>> {
    let host = systems.contains_key(&System::Host);
    let dir = if host { output_dir().join("host") } else { output_dir() };
    let report = Report { rows: stats::rows(names, systems), setting, systems };
    println!();
    print!("{}", report.text_table());
    for line in report.unsupported() {
        println!("unsupported: {line}");
    }
    for line in report.clock_warnings() {
        println!("warning: {line}");
    }
    if !host {
        println!("{CAVEAT}");
    }
    report.write(&dir)?;
    println!("report: {}", dir.join("report.json").display());
    let bars: Vec<(String, f64)> =
        report.rows.iter().filter_map(|r| r.ratio.map(|x| (r.name.clone(), x))).collect();
    if !bars.is_empty() {
        let svg = dir.join("ratios.svg");
        let title = format!(
            "POSIX-X vs Linux, {} ({}), median of {} runs",
            report.setting.accelerator, report.setting.date, report.setting.runs
        );
        chart::ratios(&svg, &title, &bars)?;
        println!("chart:  {}", svg.display());
    } else if !host {
        println!("chart:  none (no ratio: run with --vs-linux)");
    }
    if !complete && !host {
        eprintln!("xtask: (a FILTER was given: the report covers only the selected benchmarks)");
    }
    Ok(report)
}

/// One run's result from what it printed.
fn record(system: System, finished: &Finished) -> Run {
    let output = parse::parse_console(finished.texts());
    let failure = if finished.timed_out() {
        Some(format!("timeout: killed after {}", secs(finished.elapsed)))
    } else if system == System::PosixX && finished.log.failure().is_some() {
        finished.log.failure()
    } else if !output.started {
        Some("the benchmark runner never started".to_string())
    } else if !output.ended {
        Some("the benchmark runner did not finish".to_string())
    } else {
        None
    };
    let clock_rate = match system {
        System::Host => None,
        _ => parse::clock_rate(finished.lines.iter().map(|l| (l.at, l.text.as_str()))),
    };
    Run { boot_time: finished.time_of("bench-runner start"), clock_rate, output, failure }
}

fn summary(run: &Run, finished: &Finished) -> String {
    let boot = run
        .boot_time
        .map(|t| format!("runner started at {:.2}s, ", t.as_secs_f64()))
        .unwrap_or_default();
    let clock = run.clock_rate.map(|r| format!(", guest clock {r:.3}x host")).unwrap_or_default();
    let status = match &run.failure {
        Some(f) => format!("FAILED: {f}"),
        None => "ok".to_string(),
    };
    format!(
        "{boot}{} result(s) in {}{clock}: {status}",
        run.output.samples.len(),
        secs(finished.elapsed)
    )
}

/// Shows a run's progress: each result and each error as it comes (every line with -v).
fn progress(label: &str, line: &str, verbose: bool) {
    if verbose {
        eprintln!("[{label}] {line}");
    } else if let Some(i) = line.find("bench=") {
        eprintln!("xtask: [{label}] {}", &line[i..]);
    } else if let Some(i) = line.find("bench-error ") {
        eprintln!("xtask: [{label}] {}", &line[i..]);
    }
}

fn save_log(path: &Path, finished: &Finished) {
    let mut text = String::new();
    for line in &finished.lines {
        text.push_str(&format!("[{:8.3}] {}\n", line.at.as_secs_f64(), line.text));
    }
    if !finished.log.log.is_empty() {
        text.push_str("--- kernel log (COM2) ---\n");
        for line in &finished.log.log {
            text.push_str(line);
            text.push('\n');
        }
    }
    if let Err(e) = std::fs::write(path, text) {
        eprintln!("xtask: warning: writing {}: {e}", path.display());
    }
}

/// `target/bench/`
fn output_dir() -> PathBuf {
    repo_root().join("target/bench")
}

/// The QEMU settings both kernels share, from the command line itself.
fn describe_qemu(cmd: &Command, accel: Accel) -> String {
    let args: Vec<String> = cmd.get_args().map(|a| a.to_string_lossy().into_owned()).collect();
    let value =
        |flag: &str| args.iter().position(|a| a == flag).and_then(|i| args.get(i + 1)).cloned();
    format!(
        "QEMU -M {} -cpu {} -m {}, {} vCPU, {}",
        value("-M").unwrap_or_default(),
        value("-cpu").unwrap_or_default(),
        value("-m").unwrap_or_default(),
        value("-smp").unwrap_or_else(|| "1".to_string()),
        accel.name()
    )
}

/// Today's date (UTC), as `date` prints it.
fn today() -> String {
    Command::new("date")
        .args(["-u", "+%Y-%m-%d"])
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| "unknown date".to_string())
}

/// `git rev-parse --short HEAD`, with `+changes` if kernel/ has uncommitted changes.
fn commit() -> String {
    let git = |args: &[&str]| {
        Command::new("git")
            .args(args)
            .current_dir(repo_root())
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    let Some(head) = git(&["rev-parse", "--short", "HEAD"]) else {
        return "unknown".to_string();
    };
    match git(&["status", "--porcelain", "--", "kernel"]) {
        Some(changes) if !changes.is_empty() => format!("{head}+changes"),
        _ => head,
    }
}

/// `CPU model, N CPUs, M GiB` of this machine.
fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name")?.split_once(':').map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".to_string());
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem_gib = meminfo
        .lines()
        .find_map(|l| {
            l.strip_prefix("MemTotal:")?.trim().trim_end_matches("kB").trim().parse::<f64>().ok()
        })
        .map(|kb| format!(", {:.0} GiB", kb / 1024.0 / 1024.0))
        .unwrap_or_default();
    format!("{model}, {} CPUs{mem_gib}", crate::util::cpus())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options() {
        let args = |s: &str| s.split_whitespace().map(OsString::from).collect::<Vec<_>>();
        let o = parse_args(args("--vs-linux --runs 3 --seconds 0.5 pipe")).unwrap();
        assert!(o.vs_linux && !o.host);
        assert_eq!((o.runs, o.seconds, o.filter.as_deref()), (Some(3), 0.5, Some("pipe")));
        assert!(parse_args(args("--runs 0")).is_err());
        assert!(parse_args(args("--host --vs-linux")).is_err());
        assert!(parse_args(args("a b")).is_err());
        assert!(parse_args(args("--bogus")).is_err());
    }

    #[test]
    fn runner_command_line() {
        let cmd = runner_command("/bench", 0.5, &["pipe_lat".to_string()]);
        assert_eq!(cmd, ["/bench/tools/runner", "-t", "0.5", "-T", "60", "/bench", "pipe_lat"]);
    }
}
