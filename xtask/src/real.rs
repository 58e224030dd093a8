//! The real programs of `user/real/` (issue 13): a Go program and a Rust program that use
//! threads the way ordinary software does, built with their own toolchains and run by
//! `cargo xtask test` on POSIX-X (`posix-x/real-NAME`) and natively on Linux (`linux/real-NAME`).
//!
//! - `user/real/go/`: built with Debian's `golang-go` (`CGO_ENABLED=0`: static) into
//!   `build/real/real-go`;
//! - `user/real/rust/`: its own cargo project (outside the workspace), built for the host target
//!   with `-C target-feature=+crt-static` (a static PIE on glibc) into `build/real/real-rust`.
//!
//! Both are static, so the very same binary runs in the guest (`/bin/real-go`, `/bin/real-rust`)
//! and on the host. They print `ok N - what` / `not ok N - what: why` lines and are judged like
//! the C tests (status 0, no `not ok`). They are not in the image of every boot (they are large:
//! about 7 MB each with their debug information): only in their own test boots and in
//! `cargo xtask run`'s image.
//!
//! [`EXPECTED_TO_FAIL`] lists the checks that cannot pass on POSIX-X yet (the kernel lacks what
//! they need). A run whose only failures are listed checks is reported as `skip ... (expected to
//! fail: ...)` followed by those `not ok` lines and why each is expected, never silently; any other
//! failure (another check, a crash, a timeout, a panic) fails the test; a listed check that
//! passes is reported with a note to take it off the list.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime};

use crate::build::Binary;
use crate::image::Tree;
use crate::qemu::Outcome;
use crate::test::{boot_failure, failure_lines, tail, Report};
use crate::util::{build_dir, mtime, repo_root, secs, Context, Error, Result};

/// How long one real program may run on POSIX-X, boot included (its checks have 60 s each).
pub const GUEST_TIMEOUT: Duration = Duration::from_secs(300);

/// Checks that fail on POSIX-X until the kernel has what they need:
/// `(program, the start of the check's description, why)`. Empty since the TCP listener queues
/// connections up to its backlog (real-go's 20 concurrent HTTP clients were refused past 16).
pub const EXPECTED_TO_FAIL: &[(&str, &str, &str)] = &[];

#[derive(Clone, Copy)]
enum Toolchain {
    Go,
    Rust,
}

/// `(binary name, directory under user/real/, toolchain)`.
const PROGRAMS: [(&str, &str, Toolchain); 2] =
    [("real-go", "go", Toolchain::Go), ("real-rust", "rust", Toolchain::Rust)];

/// Builds every real program that is out of date (its binary older than a file of its source
/// directory). A failed build does not abort: it is printed and recorded in the [`Binary`].
pub fn build_all() -> Vec<Binary> {
    PROGRAMS
        .iter()
        .map(|&(name, dir, toolchain)| {
            let source = repo_root().join("user/real").join(dir);
            let output = build_dir().join("real").join(name);
            let path = build_one(&source, &output, toolchain).map_err(|e| {
                let msg = format!("building user/real/{dir}: {e}");
                eprintln!("xtask: {msg}");
                msg
            });
            Binary { name: name.to_string(), path: path.map(|()| output) }
        })
        .collect()
}

fn build_one(source: &Path, output: &Path, toolchain: Toolchain) -> Result<()> {
    if let (Some(built), Some(newest)) = (mtime(output), newest_source(source)) {
        if built >= newest {
            return Ok(());
        }
    }
    let dir = output.parent().expect("under build/real");
    std::fs::create_dir_all(dir).context(|| format!("creating {}", dir.display()))?;
    let mut cmd = match toolchain {
        Toolchain::Go => {
            let mut cmd = Command::new("go");
            cmd.args(["build", "-trimpath", "-o"]).arg(output).arg(".");
            // A static binary; the build cache in build/, and no network (the standard
            // library is all it uses).
            cmd.env("CGO_ENABLED", "0")
                .env("GOOS", "linux")
                .env("GOARCH", "amd64")
                .env("GOCACHE", build_dir().join("go/cache"))
                .env("GOPATH", build_dir().join("go/path"))
                .env("GOPROXY", "off")
                .env("GOFLAGS", "-mod=mod")
                .env("GOTOOLCHAIN", "local");
            cmd
        }
        Toolchain::Rust => {
            let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
            let mut cmd = Command::new(cargo);
            cmd.args(["build", "--release", "--quiet", "--target", "x86_64-unknown-linux-gnu"])
                .arg("--target-dir")
                .arg(build_dir().join("real/rust-target"));
            // `cargo xtask` runs under cargo: none of its settings for this build may leak in.
            for var in
                ["RUSTFLAGS", "CARGO_ENCODED_RUSTFLAGS", "CARGO_TARGET_DIR", "CARGO_BUILD_TARGET"]
            {
                cmd.env_remove(var);
            }
            cmd.env("RUSTFLAGS", "-C target-feature=+crt-static");
            cmd
        }
    };
    cmd.current_dir(source);
    let out = cmd.output().context(|| format!("running {:?}", cmd.get_program()))?;
    if !out.status.success() {
        return Err(Error::new(format!(
            "{:?} failed ({}):\n{}{}",
            cmd.get_program(),
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )));
    }
    if let Toolchain::Rust = toolchain {
        let built = build_dir().join("real/rust-target/x86_64-unknown-linux-gnu/release/real-rust");
        std::fs::copy(&built, output)
            .context(|| format!("copying {} to {}", built.display(), output.display()))?;
    }
    let elf = std::fs::read(output).context(|| format!("reading {}", output.display()))?;
    if !crate::deps::is_static_elf(&elf) {
        let _ = std::fs::remove_file(output);
        return Err(Error::new("the result is not a static executable (it has a PT_INTERP)"));
    }
    Ok(())
}

/// The newest modification time of the files below `dir` (sources, manifests).
fn newest_source(dir: &Path) -> Option<SystemTime> {
    let mut newest = mtime(dir);
    for entry in std::fs::read_dir(dir).ok()?.filter_map(|e| e.ok()) {
        let path = entry.path();
        let t = if path.is_dir() { newest_source(&path) } else { mtime(&path) };
        newest = newest.max(t);
    }
    newest
}

/// Adds the real programs that built to `tree` as `/bin/NAME`.
pub fn install(tree: &mut Tree, programs: &[Binary]) -> Result<()> {
    for program in programs {
        if let Ok(path) = &program.path {
            let data = std::fs::read(path).context(|| format!("reading {}", path.display()))?;
            tree.file(&format!("bin/{}", program.name), 0o755, data);
        }
    }
    Ok(())
}

/// The batch command of a real program's boot.
pub fn guest_path(program: &Binary) -> PathBuf {
    Path::new("/bin").join(&program.name)
}

/// Why `line` (a `not ok N - DESCRIPTION...` line of `program`) is expected, if it is.
fn expected_failure(program: &str, line: &str) -> Option<&'static str> {
    expected_in(EXPECTED_TO_FAIL, program, line)
}

fn expected_in(
    list: &[(&str, &str, &'static str)],
    program: &str,
    line: &str,
) -> Option<&'static str> {
    let description = line.strip_prefix("not ok ")?.split_once(" - ")?.1;
    list.iter()
        .find(|(p, check, _)| *p == program && description.starts_with(check))
        .map(|(_, _, why)| *why)
}

/// Reports a real program's boot on POSIX-X: as a test, except that a run whose only failures
/// are checks listed in [`EXPECTED_TO_FAIL`] is a `skip` that shows them and why.
pub fn report_guest(program: &Binary, result: &Result<Outcome>, report: &mut Report) {
    let name = format!("posix-x/{}", program.name);
    if let Err(e) = &program.path {
        return report.fail(
            &name,
            "did not build",
            &e.lines().map(str::to_string).collect::<Vec<_>>(),
        );
    }
    let outcome = match result {
        Ok(o) => o,
        Err(e) => return report.fail(&name, &e.to_string(), &[]),
    };
    let console = String::from_utf8_lossy(&outcome.console);
    if let Some(reason) = boot_failure(outcome) {
        return report.fail(&name, &reason, &failure_lines(outcome, &console));
    }
    let status = match outcome.statuses.as_slice() {
        [status] => *status,
        other => {
            return report.fail(
                &name,
                &format!("expected one `@@ status`, got {other:?}"),
                &head_and_tail(&console),
            )
        }
    };
    let not_ok: Vec<&str> = console.lines().filter(|l| l.starts_with("not ok")).collect();
    let unexpected: Vec<&str> =
        not_ok.iter().copied().filter(|l| expected_failure(&program.name, l).is_none()).collect();
    // Listed checks that passed this time.
    let fixed: Vec<&str> = EXPECTED_TO_FAIL
        .iter()
        .filter(|(p, check, _)| {
            *p == program.name
                && console.lines().any(|l| {
                    l.strip_prefix("ok ")
                        .and_then(|l| l.split_once(" - "))
                        .is_some_and(|(_, d)| d.starts_with(check))
                })
        })
        .map(|(_, check, _)| *check)
        .collect();
    let fixed_note = if fixed.is_empty() {
        String::new()
    } else {
        format!("; listed as expected to fail in xtask/src/real.rs but passed: take off {fixed:?}")
    };
    if status == 0 && not_ok.is_empty() {
        let cases = console.lines().filter(|l| l.starts_with("ok ")).count();
        return report
            .ok(&name, &format!("{cases} cases, {}{fixed_note}", secs(outcome.total_time)));
    }
    if not_ok.is_empty() {
        // No `not ok` line: the program died. The first lines say why (Go's `fatal error: ...`,
        // a Rust panic), the last where it was.
        let mut lines = head_and_tail(&console);
        lines.extend(unimplemented_calls(outcome));
        return report.fail(&name, &format!("exit status {status}"), &lines);
    }
    if !unexpected.is_empty() {
        let mut lines: Vec<String> = unexpected.iter().map(|l| l.to_string()).collect();
        lines.extend(unimplemented_calls(outcome));
        return report.fail(
            &name,
            &format!("exit status {status}, {} unexpected not ok", unexpected.len()),
            &lines,
        );
    }
    report.skip(
        &name,
        &format!(
            "expected to fail: {} listed check(s) failed, the others passed{fixed_note}",
            not_ok.len()
        ),
    );
    for line in not_ok {
        println!("    {line}");
        println!("      expected: {}", expected_failure(&program.name, line).unwrap_or(""));
    }
    for line in unimplemented_calls(outcome) {
        println!("    {line}");
    }
}

/// The kernel's notes about system calls it does not have (`ENOSYS`), the first of each.
fn unimplemented_calls(outcome: &Outcome) -> Vec<String> {
    let mut seen: Vec<&str> = Vec::new();
    for line in &outcome.log {
        // The same call from several threads or processes: once (the line's prefix differs).
        if let Some(i) = line.find("ENOSYS") {
            if !seen.contains(&&line[i..]) {
                seen.push(&line[i..]);
            }
        }
    }
    seen.iter().take(20).map(|l| format!("kernel: {l}")).collect()
}

/// The first and the last lines of a long output (all of a short one).
fn head_and_tail(output: &str) -> Vec<String> {
    const EACH: usize = 10;
    let lines: Vec<&str> = output.lines().collect();
    if lines.len() <= 2 * EACH {
        return lines.iter().map(|l| l.to_string()).collect();
    }
    let mut shown: Vec<String> = lines[..EACH].iter().map(|l| l.to_string()).collect();
    shown.push(format!("[... {} lines ...]", lines.len() - 2 * EACH));
    shown.extend(tail(output, EACH));
    shown
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expected_failures_by_check() {
        let list = [("real-go", "net/http server and 20", "the backlog")];
        let line = "not ok 7 - net/http server and 20 clients: connection refused";
        assert_eq!(expected_in(&list, "real-go", line), Some("the backlog"));
        assert_eq!(expected_in(&list, "real-rust", line), None);
        assert_eq!(expected_in(&list, "real-go", "not ok 1 - goroutines: lost"), None);
        assert_eq!(expected_in(&list, "real-go", "ok 7 - net/http server and 20 clients"), None);
    }

    #[test]
    fn long_output_shows_both_ends() {
        let text: String = (0..50).map(|i| format!("line {i}\n")).collect();
        let shown = head_and_tail(&text);
        assert_eq!(shown.len(), 21);
        assert_eq!(shown[0], "line 0");
        assert_eq!(shown[10], "[... 30 lines ...]");
        assert_eq!(shown[20], "line 49");
        assert_eq!(head_and_tail("a\nb\n"), ["a", "b"]);
    }
}
