//! The guide's example programs (`user/examples/NAME.c`) in `cargo xtask test`: each runs on
//! POSIX-X (`posix-x/example/NAME`) and natively on Linux (`linux/example/NAME`), and passes iff
//! it exits with status 0 and its output is `user/examples/NAME.expected`.
//!
//! On POSIX-X an example also fails if the kernel logged an unimplemented system call (`ENOSYS`)
//! while it ran: the guide's programs check few errors, so their output alone can hide that.
//!
//! On both sides stdout is a terminal, as when a person runs the guide's programs: the guest's
//! console, and a host pseudo-terminal (so stdio buffers by lines on both, which fixes the order
//! in which parent and child print). In NAME.expected, `{N}` stands for a decimal number (a pid).
//!
//! `user/examples/PENDING` lists the examples that need kernel features that do not exist yet,
//! one `NAME REASON` a line (`#` starts a comment). On POSIX-X a pending example that fails is
//! reported as `skip` (counted apart); one that passes is reported as passing, with a note to take
//! it off the list. On Linux every example must pass.

use std::collections::BTreeMap;
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::build::Binary;
use crate::pty::{self, Pty};
use crate::qemu::Outcome;
use crate::test::{failure_lines, Report};
use crate::util::{
    kill_process_group, repo_root, secs, status_code, wait_with_timeout, Context, Result,
};

/// How long one example may run on POSIX-X (boot included) and on Linux.
pub const GUEST_TIMEOUT: Duration = Duration::from_secs(60);
const NATIVE_TIMEOUT: Duration = Duration::from_secs(30);

/// Pending example name -> why (e.g. `issue 6`).
pub type Pending = BTreeMap<String, String>;

fn examples_dir() -> std::path::PathBuf {
    repo_root().join("user/examples")
}

/// Reads `user/examples/PENDING` (missing: nothing is pending).
pub fn pending() -> Result<Pending> {
    let path = examples_dir().join("PENDING");
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Pending::new()),
        Err(e) => return Err(crate::util::Error::new(format!("reading {}: {e}", path.display()))),
    };
    Ok(parse_pending(&text))
}

fn parse_pending(text: &str) -> Pending {
    text.lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|l| !l.is_empty())
        .map(|l| match l.split_once(char::is_whitespace) {
            Some((name, why)) => (name.to_string(), why.trim().to_string()),
            None => (l.to_string(), "no reason given".to_string()),
        })
        .collect()
}

fn expected(name: &str) -> Result<String> {
    let path = examples_dir().join(format!("{name}.expected"));
    let bytes = std::fs::read(&path).context(|| format!("reading {}", path.display()))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// `actual` is `expected` with each `{N}` standing for one or more decimal digits.
pub fn matches_expected(expected: &str, actual: &str) -> bool {
    let mut parts = expected.split("{N}");
    let first = parts.next().unwrap_or("");
    let Some(mut rest) = actual.strip_prefix(first) else { return false };
    for part in parts {
        let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        if digits == 0 {
            return false;
        }
        match rest[digits..].strip_prefix(part) {
            Some(r) => rest = r,
            None => return false,
        }
    }
    rest.is_empty()
}

/// Why `output` (with `status`) is not what `name` should print, if it is not.
fn mismatch(name: &str, status: i32, output: &str) -> Option<(String, Vec<String>)> {
    let expected = match expected(name) {
        Ok(e) => e,
        Err(e) => return Some((e.to_string(), Vec::new())),
    };
    let same = matches_expected(&expected, output);
    if status == 0 && same {
        return None;
    }
    let mut reasons = Vec::new();
    if status != 0 {
        reasons.push(format!("exit status {status}"));
    }
    if !same {
        reasons.push(format!("output differs from user/examples/{name}.expected"));
    }
    let mut lines = vec!["expected:".to_string()];
    lines.extend(expected.split_inclusive('\n').map(|l| format!("  {l:?}")));
    lines.push("got:".to_string());
    lines.extend(output.split_inclusive('\n').take(30).map(|l| format!("  {l:?}")));
    Some((reasons.join(", "), lines))
}

/// The guide's programs check few errors (the semaphore example prints the same text whether
/// semget works or not), so an example whose run hit an unimplemented system call (the kernel
/// logs `ENOSYS: ...`) has not shown anything, whatever it printed.
fn unimplemented_calls(outcome: &Outcome) -> Option<(String, Vec<String>)> {
    let calls: Vec<String> = outcome
        .log
        .iter()
        .filter(|l| l.contains("ENOSYS"))
        .map(|l| format!("kernel: {l}"))
        .collect();
    if calls.is_empty() {
        None
    } else {
        Some((
            "the output is as expected, but the kernel lacks system calls it made".to_string(),
            calls,
        ))
    }
}

/// Reports one example's boot on POSIX-X.
pub fn report_guest(
    example: &Binary,
    result: &Result<Outcome>,
    pending: &Pending,
    report: &mut Report,
) {
    let name = format!("posix-x/example/{}", example.name);
    if let Err(e) = &example.path {
        return report.fail(
            &name,
            "did not compile",
            &e.lines().map(str::to_string).collect::<Vec<_>>(),
        );
    }
    let why_pending = pending.get(&example.name);
    let outcome = match result {
        Ok(o) => o,
        Err(e) => return report.fail(&name, &e.to_string(), &[]),
    };
    let console = String::from_utf8_lossy(&outcome.console);
    // A kernel panic is never expected, pending or not.
    if outcome.panicked {
        return report.fail(
            &name,
            &outcome.failure().unwrap_or_default(),
            &failure_lines(outcome, &console),
        );
    }
    let failure = if let Some(reason) = outcome.failure() {
        let reason = if outcome.timed_out {
            format!("timeout after {}", secs(GUEST_TIMEOUT))
        } else {
            reason
        };
        Some((reason, failure_lines(outcome, &console)))
    } else {
        match outcome.statuses.as_slice() {
            [status] => mismatch(&example.name, *status, &console)
                .or_else(|| unimplemented_calls(outcome))
                .or_else(|| {
                    let lines = failure_lines(outcome, &console);
                    crate::test::watchdog_failure(outcome).map(|why| (why, lines))
                }),
            other => Some((format!("expected one `@@ status`, got {other:?}"), Vec::new())),
        }
    };
    match (failure, why_pending) {
        (None, None) => report.ok(&name, &format!("output as expected, {}", secs(outcome.total_time))),
        (None, Some(why)) => report.ok(
            &name,
            &format!("output as expected, {}; listed as pending ({why}) in user/examples/PENDING but passes: take it off", secs(outcome.total_time)),
        ),
        (Some(_), Some(why)) => report.skip(&name, &format!("pending: {why}")),
        (Some((reason, lines)), None) => report.fail(&name, &reason, &lines),
    }
}

/// Runs one example natively on the host (stdout on a pseudo-terminal, stderr apart) and
/// reports it.
pub fn run_native(example: &Binary, report: &mut Report) {
    let name = format!("linux/example/{}", example.name);
    let path = match &example.path {
        Ok(p) => p,
        Err(e) => {
            return report.fail(
                &name,
                "did not compile",
                &e.lines().map(str::to_string).collect::<Vec<_>>(),
            )
        }
    };
    let dir = std::env::temp_dir().join(format!(
        "posix-x-linux-example-{}-{}",
        example.name,
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    if let Err(e) = std::fs::create_dir_all(&dir) {
        return report.fail(&name, &format!("creating {}: {e}", dir.display()), &[]);
    }
    let started = Instant::now();
    let result = run_on_pty(path, &dir, NATIVE_TIMEOUT);
    let time = started.elapsed();
    let _ = std::fs::remove_dir_all(&dir);
    let (status, stdout, stderr) = match result {
        Err(e) => return report.fail(&name, &format!("cannot run {}: {e}", path.display()), &[]),
        Ok(r) => r,
    };
    let stderr_lines = || stderr.lines().map(|l| format!("stderr: {l}")).collect::<Vec<_>>();
    let Some(status) = status else {
        return report.fail(
            &name,
            &format!("timeout after {}", secs(NATIVE_TIMEOUT)),
            &stderr_lines(),
        );
    };
    match mismatch(&example.name, status, &stdout) {
        None => report.ok(&name, &format!("output as expected, {}", secs(time))),
        Some((reason, mut lines)) => {
            lines.extend(stderr_lines());
            report.fail(&name, &reason, &lines)
        }
    }
}

/// Runs `program` in `cwd` with stdout on a fresh pseudo-terminal (raw: the bytes as written)
/// and stderr on a pipe. Returns the status (`None` on timeout), stdout and stderr. Whatever it
/// left running in its process group is killed at the end.
fn run_on_pty(
    program: &Path,
    cwd: &Path,
    timeout: Duration,
) -> std::io::Result<(Option<i32>, String, String)> {
    let pty = Pty::open_raw()?;
    let (mut err_reader, err_writer) = std::io::pipe()?;
    let mut child = {
        let mut cmd = Command::new(program);
        cmd.current_dir(cwd)
            .stdin(Stdio::null())
            .stdout(pty.slave)
            .stderr(err_writer)
            .process_group(0);
        cmd.spawn()?
        // `cmd` (holding our slave and pipe ends) is dropped here.
    };
    let master = pty.master;
    let out_thread = std::thread::spawn(move || pty::read_to_end(master));
    let err_thread = std::thread::spawn(move || {
        let mut err = Vec::new();
        let _ = err_reader.read_to_end(&mut err);
        err
    });
    let status = wait_with_timeout(&mut child, Some(timeout));
    kill_process_group(child.id());
    let stdout = out_thread.join().unwrap_or_default();
    let stderr = err_thread.join().unwrap_or_default();
    Ok((
        status?.map(status_code),
        String::from_utf8_lossy(&stdout).into_owned(),
        String::from_utf8_lossy(&stderr).into_owned(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expected_output_with_numbers() {
        assert!(matches_expected("a\nb\n", "a\nb\n"));
        assert!(!matches_expected("a\nb\n", "a\nb"));
        assert!(!matches_expected("a\n", "a\nextra"));
        assert!(matches_expected(
            "Read: Hello from process {N}\n",
            "Read: Hello from process 1234\n"
        ));
        assert!(!matches_expected("Read: Hello from process {N}\n", "Read: Hello from process \n"));
        assert!(!matches_expected(
            "Read: Hello from process {N}\n",
            "Read: Hello from process 12x\n"
        ));
        assert!(matches_expected("{N} and {N}", "1 and 22"));
    }

    #[test]
    fn pending_list() {
        let p = parse_pending(
            "# comment\nunix_stream  issue 6 (Unix domain sockets)\n\nshm issue 7 # SysV\nbare\n",
        );
        assert_eq!(p.get("unix_stream").map(String::as_str), Some("issue 6 (Unix domain sockets)"));
        assert_eq!(p.get("shm").map(String::as_str), Some("issue 7"));
        assert_eq!(p.get("bare").map(String::as_str), Some("no reason given"));
        assert_eq!(p.len(), 3);
    }

    /// The examples' stdout is a terminal on the host, so stdio flushes each line as it is written.
    #[test]
    fn native_run_on_a_terminal() {
        let dir = std::env::temp_dir().join(format!("xtask-pty-run-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (status, out, err) =
            run_on_pty(Path::new("/bin/sh"), &dir, Duration::from_secs(10)).unwrap();
        // sh with stdin from /dev/null runs nothing.
        assert_eq!((status, out.as_str(), err.as_str()), (Some(0), "", ""));
        let script = dir.join("t.sh");
        std::fs::write(&script, "#!/bin/sh\ntest -t 1 && echo tty; echo err >&2; exit 4\n")
            .unwrap();
        std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        let (status, out, err) = run_on_pty(&script, &dir, Duration::from_secs(10)).unwrap();
        assert_eq!((status, out.as_str(), err.as_str()), (Some(4), "tty\n", "err\n"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
