//! `cargo xtask run`: boot POSIX-X with an interactive shell or one command.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use crate::build::{build_kernel, build_user};
use crate::qemu::{Accel, Boot, Console, LogEcho, Net};
use crate::util::{build_dir, Args, Error, Result};
use crate::{debug, deps, host_bin, image};

/// Exit statuses of `run` that are not the command's own.
pub const EXIT_PANIC: u8 = 101;
pub const EXIT_NO_POWEROFF: u8 = 102;
pub const EXIT_TIMEOUT: u8 = 103;
/// `cargo xtask run`'s CPUs without `--smp` (issue 14).
pub const RUN_DEFAULT_SMP: usize = 2;
/// The most CPUs `--smp` accepts (the kernel's per-CPU tables hold 16).
pub const MAX_SMP: usize = 16;

/// Options shared by `run` and `test`.
pub struct VmOptions {
    pub force_tcg: bool,
    pub force_kvm: bool,
    pub mem: String,
    pub append: String,
    /// `--kernel PATH`: boot this ELF instead of building `kernel/`.
    pub kernel: Option<PathBuf>,
    /// `--smp N`: the guest's CPUs; `None` leaves the choice to the command.
    pub smp: Option<usize>,
}

impl Default for VmOptions {
    fn default() -> Self {
        VmOptions {
            force_tcg: false,
            force_kvm: false,
            mem: "512M".to_string(),
            append: String::new(),
            kernel: None,
            smp: None,
        }
    }
}

impl VmOptions {
    /// The kernel to boot: `--kernel PATH`, or `kernel/` built now.
    pub fn kernel(&self, verbose: bool) -> Result<PathBuf> {
        match &self.kernel {
            Some(path) if path.is_file() => Ok(path.clone()),
            Some(path) => Err(Error::new(format!("--kernel {}: no such file", path.display()))),
            None => build_kernel(verbose),
        }
    }

    /// Parses `--smp N`'s value: 1 to [`MAX_SMP`].
    pub fn parse_smp(v: &str) -> Result<usize> {
        match v.parse::<usize>() {
            Ok(n) if (1..=MAX_SMP).contains(&n) => Ok(n),
            _ => {
                Err(Error::new(format!("--smp: expected a CPU count from 1 to {MAX_SMP}, got {v}")))
            }
        }
    }

    /// Picks the accelerator and, if `say`, says which on stderr.
    pub fn accel(&self, say: bool) -> Accel {
        let accel = Accel::choose(self.force_tcg, self.force_kvm);
        if say {
            eprintln!("xtask: QEMU accelerator: {}", accel.name());
        }
        accel
    }
}

struct RunOptions {
    vm: VmOptions,
    overlays: Vec<PathBuf>,
    /// `--host-bin PATH...`: host programs copied in with their libraries (host_bin.rs).
    host_bins: Vec<PathBuf>,
    timeout: Option<Duration>,
    verbose: bool,
    /// `--trace[=FILTER]`: the filter (empty: every call).
    trace: Option<String>,
    trace_out: Option<PathBuf>,
    gdb: bool,
    command: Vec<OsString>,
    net: Option<Net>,
}

fn parse(args: Vec<OsString>) -> Result<RunOptions> {
    let mut args = Args::new(args);
    let mut o = RunOptions {
        vm: VmOptions::default(),
        overlays: Vec::new(),
        host_bins: Vec::new(),
        timeout: None,
        verbose: false,
        trace: None,
        trace_out: None,
        gdb: false,
        command: Vec::new(),
        net: None,
    };
    while let Some(arg) = args.next() {
        match arg.to_str() {
            Some("--tcg") => o.vm.force_tcg = true,
            Some("--kvm") => o.vm.force_kvm = true,
            Some("--mem") => o.vm.mem = args.value("--mem")?,
            Some("--smp") => o.vm.smp = Some(VmOptions::parse_smp(&args.value("--smp")?)?),
            Some("--overlay") => o.overlays.push(args.path("--overlay")?),
            Some("--host-bin") => {
                // One path, and the absolute paths right after it: `--host-bin /a /b -- cmd`.
                o.host_bins.push(args.path("--host-bin")?);
                while let Some(next) = args.next_if(|a| a.as_encoded_bytes().starts_with(b"/")) {
                    o.host_bins.push(PathBuf::from(next));
                }
            }
            Some("--append") => o.vm.append = args.value("--append")?,
            Some("--kernel") => o.vm.kernel = Some(args.path("--kernel")?),
            Some("--timeout") => {
                let v = args.value("--timeout")?;
                let secs: f64 = v
                    .parse()
                    .map_err(|_| Error::new(format!("--timeout: not a number of seconds: {v}")))?;
                o.timeout = Some(Duration::from_secs_f64(secs));
            }
            Some("-v" | "--verbose") => o.verbose = true,
            Some("--net") => {
                o.net.get_or_insert_with(Net::default);
            }
            Some("--forward") => {
                let pair = Net::parse_pair("--forward", &args.value("--forward")?)?;
                o.net.get_or_insert_with(Net::default).forwards.push(pair);
            }
            Some("--guest-forward") => {
                let pair = Net::parse_pair("--guest-forward", &args.value("--guest-forward")?)?;
                o.net.get_or_insert_with(Net::default).guest_forwards.push(pair);
            }
            Some("--trace") => o.trace = Some(String::new()),
            Some(s) if s.starts_with("--trace=") => o.trace = Some(s["--trace=".len()..].into()),
            Some("--trace-out") => o.trace_out = Some(args.path("--trace-out")?),
            Some("--gdb") => o.gdb = true,
            Some("--") => {
                o.command = args.rest();
                break;
            }
            Some(s) if s.starts_with('-') => {
                return Err(Error::new(format!("run: unknown option {s}")))
            }
            _ => {
                // `cargo xtask run echo hi` works like `cargo xtask run -- echo hi`.
                o.command = std::iter::once(arg).chain(args.rest()).collect();
                break;
            }
        }
    }
    Ok(o)
}

/// `cargo xtask run [--tcg] [--kvm] [--smp N] [--mem SIZE] [--overlay DIR]... [--host-bin PATH...]
/// [--timeout SECS] [--net] [--forward H:G]... [--guest-forward G:H]... [-v]
/// [--trace[=FILTER]] [--trace-out FILE] [--gdb] [-- CMD ARGS...]`
pub fn command(args: Vec<OsString>) -> Result<u8> {
    let o = parse(args)?;
    deps::ensure()?;
    if o.gdb {
        // Full debug information (types and variables, not only lines) for px-threads/px-bt;
        // the kernel is rebuilt with it, and again without it by the next plain build.
        std::env::set_var("CARGO_PROFILE_RELEASE_DEBUG", "2");
    }
    let kernel = o.vm.kernel(o.verbose)?;
    let user = build_user()?;
    if let Err(e) = user.check() {
        eprintln!("xtask: warning: {e}; booting without them");
    }
    let interactive = o.command.is_empty();
    let batch = if interactive { image::interactive_batch() } else { image::batch_of(&o.command) };
    let initrd = build_dir().join("initramfs.cpio");
    let mut tree = image::base_tree(&user)?;
    // The real programs (user/real/) are in `run`'s image, not in every test boot's.
    crate::real::install(&mut tree, &user.real)?;
    for program in &o.host_bins {
        host_bin::add(&mut tree, program)?;
    }
    image::write(&tree, &batch, &o.overlays, &initrd)?;

    let mut append = o.vm.append.clone();
    let mut extra = Vec::new();
    // Without --trace-out the trace goes to a file of the build directory, shown at the end.
    let trace_file = o.trace_out.clone().unwrap_or_else(|| build_dir().join("trace.txt"));
    if let Some(filter) = &o.trace {
        let (word, args) = debug::trace_setup(filter, &trace_file);
        append = format!("{append} {word}").trim().to_string();
        extra.extend(args);
    }
    if o.gdb {
        let port = debug::gdb_port();
        extra.extend(debug::gdb_args(port));
        eprintln!("xtask: QEMU waits for a debugger; attach with:");
        eprintln!("  {}", debug::shell_line("gdb", &debug::gdb_command_args(&kernel, port)));
    }
    let boot = Boot {
        // The terminal is the guest's: what the tool has to say waits for -v.
        accel: o.vm.accel(o.verbose),
        cpu: crate::qemu::DEFAULT_CPU.to_string(),
        smp: o.vm.smp.unwrap_or(RUN_DEFAULT_SMP),
        mem: o.vm.mem.clone(),
        kernel,
        initrd,
        append,
        timeout: o.timeout,
        console: if interactive { Console::Inherit } else { Console::Stream },
        log_echo: if o.verbose { LogEcho::All } else { LogEcho::Important },
        net: o.net.clone(),
        extra,
    };
    let outcome = boot.run()?;
    if o.trace.is_some() {
        match &o.trace_out {
            Some(path) => eprintln!("xtask: system-call trace in {}", path.display()),
            None => eprint!("{}", std::fs::read_to_string(&trace_file).unwrap_or_default()),
        }
    }

    if outcome.panicked {
        // The panic message and backtrace were echoed to stderr as they came.
        eprintln!("xtask: the kernel panicked (exit status {EXIT_PANIC})");
        return Ok(EXIT_PANIC);
    }
    if outcome.timed_out {
        if !outcome.dump_complete {
            eprintln!("xtask: no kernel thread dump came after the NMI");
        }
        eprintln!(
            "xtask: timeout: QEMU killed after {:.1}s (exit status {EXIT_TIMEOUT})",
            outcome.total_time.as_secs_f64()
        );
        return Ok(EXIT_TIMEOUT);
    }
    if !outcome.powered_off {
        if !o.verbose {
            // Show the end of the log: it usually says why.
            let tail = outcome.log.len().saturating_sub(20);
            for line in &outcome.log[tail..] {
                eprintln!("{line}");
            }
        }
        eprintln!(
            "xtask: {} (exit status {EXIT_NO_POWEROFF})",
            outcome.failure().unwrap_or_default()
        );
        return Ok(EXIT_NO_POWEROFF);
    }
    if interactive {
        return Ok(0);
    }
    match outcome.statuses.last() {
        Some(&status) => Ok(status.clamp(0, 255) as u8),
        None => {
            eprintln!("xtask: the kernel powered off without reporting a status (exit status {EXIT_NO_POWEROFF})");
            Ok(EXIT_NO_POWEROFF)
        }
    }
}
