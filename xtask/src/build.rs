//! Building: the kernel (cargo, from `kernel/`) and the C programs in `user/`.
//!
//! Outputs (all under `build/`):
//! - `build/guest/tests/NAME`    `user/tests/NAME.c`, musl static (runs on POSIX-X); the thread
//!   tests (`GLIBC_TOO`) also as `NAME-glibc`, glibc `gcc -static`;
//! - `build/host/tests/NAME`     the same source, host gcc (runs natively on Linux);
//! - `build/guest/programs/NAME` `user/programs/NAME.c`: musl static; `*-glibc.c` with glibc
//!   `gcc -static`; `*-pie.c` with musl `-static-pie -fPIE`; `*-dynamic.c` with plain `gcc`
//!   (dynamically linked against the host's glibc, run with `--host-bin`);
//! - `build/guest/examples/NAME`, `build/host/examples/NAME`: `user/examples/NAME.c` (the guide's
//!   programs) like the tests, with `user/examples/guide.h` force-included (see [`EXAMPLE_FLAGS`]);
//! - `build/guest/bench/NAME`, `build/host/bench/NAME`: `user/bench/NAME.c` (the benchmarks) like
//!   the tests, and `.../bench/tools/NAME` from `user/bench/tools/NAME.c` (their runner and helper);
//! - `build/real/NAME`           the real programs of `user/real/` (Go, Rust), see real.rs;
//! - `build/initramfs.cpio`      see image.rs.

use std::ffi::OsString;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::SystemTime;

use crate::util::{build_dir, cpus, mtime, parallel_map, repo_root, Args, Context, Error, Result};
use crate::{deps, image};

/// `cargo xtask build [-v]`
pub fn command(args: Vec<OsString>) -> Result<u8> {
    let mut args = Args::new(args);
    let mut verbose = false;
    while let Some(a) = args.next() {
        match a.to_str() {
            Some("-v") => verbose = true,
            _ => return Err(Error::new(format!("build: unexpected argument {a:?}"))),
        }
    }
    deps::ensure()?;
    // User programs and the image first: they do not need the kernel.
    let user = build_user()?;
    user.check()?;
    let initramfs = build_dir().join("initramfs.cpio");
    let tree = image::base_tree(&user)?;
    image::write(&tree, &image::interactive_batch(), &[], &initramfs)?;
    eprintln!("xtask: initramfs {}", initramfs.display());
    let kernel = build_kernel(verbose)?;
    eprintln!("xtask: kernel    {}", kernel.display());
    Ok(0)
}

/// Builds the kernel (`cargo build --release` in `kernel/`) and returns the path of its ELF.
pub fn build_kernel(verbose: bool) -> Result<PathBuf> {
    let root = repo_root();
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(root.join("kernel"))
        .args(["build", "--release", "--message-format=json-render-diagnostics"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    if !verbose {
        cmd.arg("--quiet");
    }
    let mut child = cmd.spawn().context(|| "running cargo build for the kernel")?;
    // Cargo reports each artifact as a JSON line; the kernel's has
    // `"executable":"/.../x86_64-unknown-linux-gnu/release/posix-x"`.
    let mut executable = None;
    for line in BufReader::new(child.stdout.take().expect("piped")).lines() {
        let line = line?;
        if line.contains(r#""reason":"compiler-artifact""#) {
            if let Some(path) = json_string_field(&line, "executable") {
                if path.ends_with("/posix-x") {
                    executable = Some(PathBuf::from(path));
                }
            }
        }
    }
    let status = child.wait()?;
    if !status.success() {
        return Err(Error::new(format!(
            "kernel build failed (cargo build --release in {}/kernel: {status})",
            root.display()
        )));
    }
    let kernel =
        executable.unwrap_or_else(|| root.join("target/x86_64-unknown-linux-gnu/release/posix-x"));
    if !kernel.is_file() {
        return Err(Error::new(format!("kernel build produced no {}", kernel.display())));
    }
    Ok(kernel)
}

/// The string value of `"key":"..."` in a line of JSON (enough for cargo's artifact messages;
/// handles `\"` and `\\` escapes).
fn json_string_field(json: &str, key: &str) -> Option<String> {
    let pattern = format!("\"{key}\":\"");
    let start = json.find(&pattern)? + pattern.len();
    let mut out = String::new();
    let mut chars = json[start..].chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => return Some(out),
            '\\' => out.push(chars.next()?),
            c => out.push(c),
        }
    }
    None
}

/// One compiled C program: its name (file stem) and the binary, or the compiler's complaint.
#[derive(Debug, Clone)]
pub struct Binary {
    pub name: String,
    pub path: std::result::Result<PathBuf, String>,
}

/// Everything built from `user/`.
#[derive(Debug, Default)]
pub struct UserBuild {
    /// `user/tests/NAME.c` built for POSIX-X (musl static).
    pub guest_tests: Vec<Binary>,
    /// The same tests built for the host's Linux.
    pub host_tests: Vec<Binary>,
    /// `user/programs/NAME.c`.
    pub programs: Vec<Binary>,
    /// `user/examples/NAME.c` built for POSIX-X (musl static).
    pub guest_examples: Vec<Binary>,
    /// The same examples built for the host's Linux.
    pub host_examples: Vec<Binary>,
    /// `user/bench/NAME.c` and `user/bench/tools/NAME.c` built for POSIX-X (musl static).
    pub guest_bench: BenchBuild,
    /// The same benchmarks built for the host's Linux.
    pub host_bench: BenchBuild,
    /// The real programs of `user/real/` (real.rs): static, the same binary for both sides.
    pub real: Vec<Binary>,
}

/// The benchmarks (`/bench/NAME` in the image), their tools (`/bench/tools/NAME`) and the
/// sweeps (`/bench/sweep/NAME`, from `user/bench/sweep/NAME.c`).
#[derive(Debug, Default)]
pub struct BenchBuild {
    pub benchmarks: Vec<Binary>,
    pub tools: Vec<Binary>,
    pub sweeps: Vec<Binary>,
}

impl BenchBuild {
    pub fn all(&self) -> impl Iterator<Item = &Binary> {
        self.benchmarks.iter().chain(&self.tools).chain(&self.sweeps)
    }
}

impl UserBuild {
    /// Fails if any program did not compile (the compiler output was printed already).
    pub fn check(&self) -> Result<()> {
        let failed: Vec<&str> = self
            .guest_tests
            .iter()
            .chain(&self.host_tests)
            .chain(&self.programs)
            .chain(&self.guest_examples)
            .chain(&self.host_examples)
            .chain(self.guest_bench.all())
            .chain(self.host_bench.all())
            .chain(&self.real)
            .filter(|b| b.path.is_err())
            .map(|b| b.name.as_str())
            .collect();
        if failed.is_empty() {
            Ok(())
        } else {
            Err(Error::new(format!("user programs failed to compile: {}", failed.join(", "))))
        }
    }

    pub fn program(&self, name: &str) -> Option<&Binary> {
        self.programs.iter().find(|b| b.name == name)
    }
}

/// How to compile one source file.
struct Job {
    name: String,
    source: PathBuf,
    output: PathBuf,
    compiler: &'static str,
    flags: Vec<OsString>,
    /// A guest binary: it must not ask for a dynamic loader (no PT_INTERP).
    guest: bool,
    /// The newest header the source depends on: rebuild when it is newer than the binary.
    headers_mtime: Option<SystemTime>,
}

/// Guest tests built twice for POSIX-X, with musl (`NAME`) and with glibc (`NAME-glibc`).
const GLIBC_TOO: &[&str] =
    &["threads", "pthreads", "thread_rules", "thread_state", "thread_time", "smp"];

/// Extra flags for the guide's examples (`user/examples/`). The guide's programs leave out
/// headers (`printf`, `wait`, `strcpy`, ...): `guide.h` brings them in, so the sources stay as the
/// guide prints them. Some of them read uninitialised locals (a `%s` of a buffer that `read`
/// filled without a terminating NUL; eventfd's `val` after a failed non-blocking read): zeroing
/// automatic variables gives them the behaviour they plainly mean, the same on musl and glibc.
/// Their warnings are the guide's, not ours: `-w`.
pub const EXAMPLE_FLAGS: &[&str] = &["-ftrivial-auto-var-init=zero", "-w"];

fn flags(list: &[&str]) -> Vec<OsString> {
    list.iter().map(OsString::from).collect()
}

/// Compiles everything in `user/tests`, `user/programs`, `user/examples` and `user/bench` that is
/// out of date.
/// Compile errors do not abort: they are printed and recorded in the returned [`Binary`].
pub fn build_user() -> Result<UserBuild> {
    let user = repo_root().join("user");
    let out = build_dir();
    // Rebuild when the source or any header in user/include is newer than the binary.
    let headers_mtime = newest_mtime(&user.join("include"));
    let musl_include = musl_linux_headers()?;
    let mut musl = flags(&["-static", "-idirafter"]);
    musl.push(musl_include.into());

    // Each source built twice: musl static for POSIX-X, host gcc for Linux.
    let both = |dir: &str,
                extra: &[OsString],
                headers_mtime: Option<SystemTime>|
     -> Result<(Vec<Job>, Vec<Job>)> {
        let (mut guest, mut host) = (Vec::new(), Vec::new());
        for (name, source) in c_sources(&user.join(dir))? {
            let mut guest_flags = musl.clone();
            guest_flags.extend(extra.iter().cloned());
            guest.push(Job {
                name: name.clone(),
                source: source.clone(),
                output: out.join("guest").join(dir).join(&name),
                compiler: "musl-gcc",
                flags: guest_flags,
                guest: true,
                headers_mtime,
            });
            host.push(Job {
                name: name.clone(),
                source,
                output: out.join("host").join(dir).join(&name),
                compiler: "gcc",
                flags: extra.to_vec(),
                guest: false,
                headers_mtime,
            });
        }
        Ok((guest, host))
    };
    let (mut tests, host_tests) = both("tests", &[], headers_mtime)?;
    // The thread tests also run on POSIX-X built with glibc (static): its pthreads use clone3
    // and a different thread layout from musl's.
    for (name, source) in c_sources(&user.join("tests"))? {
        if GLIBC_TOO.contains(&name.as_str()) {
            tests.push(Job {
                name: format!("{name}-glibc"),
                source,
                output: out.join("guest/tests").join(format!("{name}-glibc")),
                compiler: "gcc",
                flags: flags(&["-static"]),
                guest: true,
                headers_mtime,
            });
        }
    }
    let prelude = user.join("examples/guide.h");
    let mut example_flags = flags(&["-include"]);
    example_flags.push(prelude.clone().into());
    example_flags.extend(flags(EXAMPLE_FLAGS));
    let (examples, host_examples) =
        both("examples", &example_flags, headers_mtime.max(mtime(&prelude)))?;
    let bench_headers = headers_mtime.max(newest_mtime(&user.join("bench")));
    let (bench, host_bench) = both("bench", &[], bench_headers)?;
    let (bench_tools, host_bench_tools) = both("bench/tools", &[], bench_headers)?;
    let sweep_headers = bench_headers.max(newest_mtime(&user.join("bench/sweep")));
    let (sweeps, host_sweeps) = both("bench/sweep", &flags(&["-pthread"]), sweep_headers)?;
    let mut programs = Vec::new();
    for (name, source) in c_sources(&user.join("programs"))? {
        let (compiler, flags) = if name.ends_with("-glibc") {
            ("gcc", flags(&["-static"]))
        } else if name.ends_with("-dynamic") {
            // Linked against the host's glibc; its libraries come with `--host-bin`.
            ("gcc", Vec::new())
        } else if name.ends_with("-pie") {
            // Debian's musl-gcc cannot link static PIEs (its specs always ask for the dynamic
            // loader and use Scrt1.o): call gcc with fixed specs instead.
            let mut f = flags(&["-specs"]);
            f.push(musl_static_pie_specs()?.into());
            f.extend(flags(&["-static-pie", "-fPIE", "-idirafter"]));
            f.push(build_dir().join("musl-include").into());
            ("gcc", f)
        } else {
            ("musl-gcc", musl.clone())
        };
        programs.push(Job {
            name: name.clone(),
            source,
            output: out.join("guest/programs").join(&name),
            compiler,
            flags,
            guest: true,
            headers_mtime,
        });
    }

    let compile_all = |jobs: &[Job]| -> Vec<Binary> {
        parallel_map(jobs, cpus(), |job| compile(job, &user), |_, _| ())
    };
    Ok(UserBuild {
        guest_tests: compile_all(&tests),
        host_tests: compile_all(&host_tests),
        programs: compile_all(&programs),
        guest_examples: compile_all(&examples),
        host_examples: compile_all(&host_examples),
        guest_bench: BenchBuild {
            benchmarks: compile_all(&bench),
            tools: compile_all(&bench_tools),
            sweeps: compile_all(&sweeps),
        },
        host_bench: BenchBuild {
            benchmarks: compile_all(&host_bench),
            tools: compile_all(&host_bench_tools),
            sweeps: compile_all(&host_sweeps),
        },
        real: crate::real::build_all(),
    })
}

/// Writes `build/musl-static-pie.specs`: musl-gcc's specs file, changed so that `-static-pie`
/// links `rcrt1.o` (the self-relocating start file) and asks for no dynamic loader.
fn musl_static_pie_specs() -> Result<PathBuf> {
    let original = musl_gcc_specs();
    let specs = std::fs::read_to_string(&original)
        .context(|| format!("reading musl-gcc's specs {}", original.display()))?;
    let lib = original.parent().unwrap_or(Path::new("/")).display().to_string();
    let start = format!("%{{!shared: {lib}/Scrt1.o}}");
    let link = "-dynamic-linker /lib/ld-musl-x86_64.so.1 -nostdlib";
    if !specs.contains(&start) || !specs.contains(link) {
        return Err(Error::new(format!(
            "{}: unexpected contents, cannot make static PIEs",
            original.display()
        )));
    }
    let fixed = specs
        .replace(&start, &format!("%{{static-pie: {lib}/rcrt1.o; !shared: {lib}/Scrt1.o}}"))
        .replace(
            link,
            "%{!static-pie:-dynamic-linker /lib/ld-musl-x86_64.so.1} %{static-pie:-static -pie --no-dynamic-linker -z text} -nostdlib",
        );
    let path = build_dir().join("musl-static-pie.specs");
    std::fs::create_dir_all(build_dir())?;
    std::fs::write(&path, fixed).context(|| format!("writing {}", path.display()))?;
    Ok(path)
}

/// The specs file the `musl-gcc` wrapper script passes to gcc.
fn musl_gcc_specs() -> PathBuf {
    let script = crate::util::which("musl-gcc")
        .and_then(|p| std::fs::read_to_string(p).ok())
        .unwrap_or_default();
    script
        .split_once("-specs")
        .and_then(|(_, rest)| rest.split_whitespace().next())
        .map(|p| PathBuf::from(p.trim_matches('"')))
        .unwrap_or_else(|| PathBuf::from("/usr/lib/x86_64-linux-musl/musl-gcc.specs"))
}

/// `(stem, path)` of every `*.c` in `dir`, sorted by name. A missing directory is empty.
fn c_sources(dir: &Path) -> Result<Vec<(String, PathBuf)>> {
    let mut found = Vec::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(found),
        Err(e) => return Err(Error::new(format!("reading {}: {e}", dir.display()))),
    };
    for entry in entries {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "c") && path.is_file() {
            if let Some(stem) = path.file_stem().and_then(|s| s.to_str()) {
                found.push((stem.to_string(), path.clone()));
            }
        }
    }
    found.sort();
    Ok(found)
}

/// The newest modification time of the files directly in `dir` (headers), if any.
fn newest_mtime(dir: &Path) -> Option<SystemTime> {
    std::fs::read_dir(dir).ok()?.filter_map(|e| e.ok()).filter_map(|e| mtime(&e.path())).max()
}

/// musl's headers do not include the Linux UAPI headers (`<linux/...>`, `<asm/...>`); give
/// musl-gcc a directory of links to the host's copies, searched after musl's own.
fn musl_linux_headers() -> Result<PathBuf> {
    let dir = build_dir().join("musl-include");
    std::fs::create_dir_all(&dir).context(|| format!("creating {}", dir.display()))?;
    let links = [
        ("linux", "/usr/include/linux"),
        ("asm-generic", "/usr/include/asm-generic"),
        ("asm", "/usr/include/x86_64-linux-gnu/asm"),
    ];
    for (name, target) in links {
        let link = dir.join(name);
        if Path::new(target).is_dir() && std::fs::symlink_metadata(&link).is_err() {
            std::os::unix::fs::symlink(target, &link)
                .context(|| format!("creating {}", link.display()))?;
        }
    }
    Ok(dir)
}

fn compile(job: &Job, user: &Path) -> Binary {
    let binary = |path| Binary { name: job.name.clone(), path };
    let newest_input = mtime(&job.source).max(job.headers_mtime);
    if let (Some(built), Some(input)) = (mtime(&job.output), newest_input) {
        if built >= input {
            return binary(Ok(job.output.clone()));
        }
    }
    if let Some(dir) = job.output.parent() {
        if let Err(e) = std::fs::create_dir_all(dir) {
            return binary(Err(format!("creating {}: {e}", dir.display())));
        }
    }
    let mut cmd = Command::new(job.compiler);
    cmd.args(&job.flags).args(["-O2", "-Wall"]).arg("-I").arg(user.join("include"));
    cmd.arg("-o").arg(&job.output).arg(&job.source).args(["-lpthread", "-lrt", "-lm"]);
    let what = format!(
        "{} {}",
        job.compiler,
        job.source.strip_prefix(repo_root()).unwrap_or(&job.source).display()
    );
    let out = match cmd.output() {
        Ok(out) => out,
        Err(e) => return binary(Err(format!("{what}: {e}"))),
    };
    let diagnostics = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        let _ = std::fs::remove_file(&job.output);
        eprint!("xtask: {what} failed:\n{diagnostics}");
        return binary(Err(format!("{what} failed:\n{diagnostics}")));
    }
    if !diagnostics.trim().is_empty() {
        eprint!("xtask: {what}:\n{diagnostics}");
    }
    let dynamic = job.name.ends_with("-dynamic");
    if job.guest
        && !dynamic
        && !std::fs::read(&job.output).is_ok_and(|elf| crate::deps::is_static_elf(&elf))
    {
        let _ = std::fs::remove_file(&job.output);
        let msg = format!("{what}: the result is not a static executable (it has a PT_INTERP)");
        eprintln!("xtask: {msg}");
        return binary(Err(msg));
    }
    binary(Ok(job.output.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn executable_from_cargo_json() {
        let line = r#"{"reason":"compiler-artifact","target":{"name":"posix-x"},"executable":"/w/target/x86_64-unknown-linux-gnu/release/posix-x","fresh":true}"#;
        assert_eq!(
            json_string_field(line, "executable").as_deref(),
            Some("/w/target/x86_64-unknown-linux-gnu/release/posix-x")
        );
        assert_eq!(json_string_field(r#"{"executable":null}"#, "executable"), None);
        assert_eq!(json_string_field(r#"{"a":"x\"y"}"#, "a").as_deref(), Some("x\"y"));
    }
}
