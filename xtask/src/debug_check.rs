//! The tests of `run --trace` and `run --gdb` (docs/debugging.md):
//! - `posix-x/trace-vs-strace`: `/bin/tracee` traced on POSIX-X and under `strace -f` on the host
//!   give the same lines for the calls both show (addresses and pids normalised);
//! - `posix-x/gdb-backtrace`: Debian's gdb in batch mode breaks in a syscall handler and prints
//!   a backtrace with the kernel's symbol names.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::qemu::Boot;

/// The test names (filters of `cargo xtask test`).
pub const TRACE_CHECK: &str = "trace-vs-strace";
pub const GDB_CHECK: &str = "gdb-backtrace";

/// The calls compared: those `tracee` makes itself, whose arguments both tools decode alike.
const COMPARED: &[&str] = &[
    "unlink",
    "open",
    "write",
    "close",
    "read",
    "lseek",
    "pipe2",
    "dup2",
    "socket",
    "bind",
    "mmap",
    "mprotect",
    "munmap",
    "fork",
    "wait4",
    "kill",
    "exit_group",
];

/// Calls whose return value is a pid.
const RETURNS_PID: &[&str] = &["fork", "wait4"];

/// One traced call, normalised: `name(args) = ret`.
fn normalise(call: &str) -> Option<String> {
    let name = call.split('(').next()?.trim();
    if !COMPARED.contains(&name) {
        return None;
    }
    // `= -1 ENOENT (No such file or directory)` → `= -1 ENOENT`; strace aligns `=` with spaces.
    let (args, ret) = call.rsplit_once(" = ")?;
    let mut ret = ret.trim().to_string();
    if let Some(i) = ret.find(" (") {
        ret.truncate(i);
    }
    if let Some(i) = ret.find(" <") {
        ret.truncate(i);
    }
    if RETURNS_PID.contains(&name) && ret.parse::<i64>().is_ok_and(|v| v > 0) {
        ret = "PID".to_string();
    }
    let mut out = format!("{} = {ret}", args.trim_end());
    // Addresses differ between the two systems.
    while let Some(i) = out.find("0x") {
        let end =
            out[i + 2..].find(|c: char| !c.is_ascii_hexdigit()).map_or(out.len(), |e| i + 2 + e);
        out.replace_range(i..end, "ADDR");
    }
    Some(out)
}

/// The compared calls of each process, processes in the order they first appear.
fn by_process(lines: impl Iterator<Item = (String, String)>) -> Vec<Vec<String>> {
    let mut order: Vec<String> = Vec::new();
    let mut calls: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (pid, call) in lines {
        if let Some(call) = normalise(&call) {
            if !calls.contains_key(&pid) {
                order.push(pid.clone());
            }
            calls.entry(pid).or_default().push(call);
        }
    }
    order.into_iter().map(|pid| calls.remove(&pid).unwrap_or_default()).collect()
}

/// POSIX-X's trace: `pid tid name(args) = ret <secs>`.
pub fn parse_trace(text: &str) -> Vec<Vec<String>> {
    by_process(text.lines().filter_map(|l| {
        let mut words = l.splitn(3, ' ');
        let pid = words.next()?.to_string();
        let _tid = words.next()?;
        Some((pid, words.next()?.to_string()))
    }))
}

/// `strace -f -o FILE`'s output: `pid name(args) = ret`, with `<unfinished ...>` and
/// `<... name resumed>` halves joined, signal and exit lines left out.
pub fn parse_strace(text: &str) -> Vec<Vec<String>> {
    let mut pending: BTreeMap<String, String> = BTreeMap::new();
    let mut joined = Vec::new();
    for line in text.lines() {
        let Some((pid, rest)) = line.split_once(' ') else { continue };
        let rest = rest.trim_start();
        if rest.starts_with("---") || rest.starts_with("+++") {
            continue;
        }
        if let Some(head) = rest.strip_suffix("<unfinished ...>") {
            pending.insert(pid.to_string(), head.trim_end().to_string());
        } else if let Some(tail) = rest.strip_prefix("<... ") {
            let tail = tail.split_once("resumed>").map_or("", |(_, t)| t);
            let head = pending.remove(pid).unwrap_or_default();
            let sep = if head.ends_with('(') || tail.starts_with(')') { "" } else { " " };
            joined.push((pid.to_string(), format!("{head}{sep}{tail}")));
        } else {
            joined.push((pid.to_string(), rest.to_string()));
        }
    }
    by_process(joined.into_iter())
}

/// Compares the two, process by process; the differences as lines.
pub fn compare(posix_x: &[Vec<String>], linux: &[Vec<String>]) -> Vec<String> {
    let mut diffs = Vec::new();
    if posix_x.len() != linux.len() {
        diffs.push(format!(
            "{} traced processes on POSIX-X, {} under strace",
            posix_x.len(),
            linux.len()
        ));
    }
    for (n, (ours, theirs)) in posix_x.iter().zip(linux).enumerate() {
        for i in 0..ours.len().max(theirs.len()) {
            let (a, b) = (ours.get(i), theirs.get(i));
            if a != b {
                diffs.push(format!("process {n}, call {i}:"));
                diffs.push(format!("  POSIX-X: {}", a.map_or("(none)", String::as_str)));
                diffs.push(format!("  strace:  {}", b.map_or("(none)", String::as_str)));
            }
        }
    }
    if posix_x.iter().all(Vec::is_empty) {
        diffs.push("no compared call in POSIX-X's trace".to_string());
    }
    diffs
}

/// `strace -f` of `program` on the host: its output, or why not.
pub fn strace_native(program: &Path, out: &Path) -> Result<String, String> {
    let status = Command::new("strace")
        .arg("-f")
        .arg("-o")
        .arg(out)
        .arg(program)
        .current_dir("/tmp")
        .stdout(std::process::Stdio::null())
        .status()
        .map_err(|e| format!("running strace: {e}"))?;
    if !status.success() {
        return Err(format!("strace {}: {status}", program.display()));
    }
    std::fs::read_to_string(out).map_err(|e| format!("reading {}: {e}", out.display()))
}

/// Boots `boot` stopped for gdb, runs Debian's gdb in batch mode (break in `sys_write`'s handler,
/// continue, backtrace, detach) and checks the backtrace names the dispatch path. gdb's output, or
/// why it failed.
pub fn gdb_backtrace(mut boot: Boot) -> Result<String, (String, Vec<String>)> {
    let port = crate::debug::gdb_port();
    boot.extra = crate::debug::gdb_args(port);
    let kernel = boot.kernel.clone();
    let qemu = std::thread::spawn(move || boot.run());
    // QEMU listens at once; gdb retries its connection for a while (remotetimeout).
    std::thread::sleep(Duration::from_secs(2));
    let mut args = crate::debug::gdb_command_args(&kernel, port);
    args.insert(0, "-batch".to_string());
    for cmd in ["break posix_x::syscall::io::write", "continue", "bt", "detach"] {
        args.push("-ex".to_string());
        args.push(cmd.to_string());
    }
    let out =
        Command::new("gdb").args(&args).output().map_err(|e| (format!("gdb: {e}"), vec![]))?;
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    let lines: Vec<String> = text.lines().map(str::to_string).collect();
    let outcome = qemu.join().map_err(|_| ("QEMU thread panicked".to_string(), vec![]))?;
    let wanted = ["posix_x::syscall::io::write", "posix_x::syscall::dispatch", "syscall_entry"];
    if let Some(missing) = wanted
        .iter()
        .find(|w| !text.contains(&format!(" {w} ")) && !text.contains(&format!(" {w} (")))
    {
        return Err((format!("the backtrace does not name {missing}"), lines));
    }
    match outcome {
        Ok(o) if o.powered_off => Ok(text),
        Ok(o) => Err((o.failure().unwrap_or_default(), lines)),
        Err(e) => Err((e.to_string(), lines)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strace_halves_joined_and_normalised() {
        let strace = "7 open(\"/x\", O_RDONLY) = -1 ENOENT (No such file or directory)\n\
                      7 fork()   = 8\n\
                      7 wait4(-1,  <unfinished ...>\n\
                      8 exit_group(3)   = ?\n\
                      8 +++ exited with 3 +++\n\
                      7 <... wait4 resumed>[{WIFEXITED(s) && WEXITSTATUS(s) == 3}], 0, NULL) = 8\n\
                      7 mmap(NULL, 8192, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f00\n";
        let ours = "2 2 open(\"/x\", O_RDONLY) = -1 ENOENT <0.000001>\n\
                    2 2 fork() = 3 <0.001>\n\
                    3 3 exit_group(3) = ?\n\
                    2 2 wait4(-1, [{WIFEXITED(s) && WEXITSTATUS(s) == 3}], 0, NULL) = 3 <0.1>\n\
                    2 2 mmap(NULL, 8192, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x4000 <0.0>\n";
        let (a, b) = (parse_trace(ours), parse_strace(strace));
        assert_eq!(a[0][2], "wait4(-1, [{WIFEXITED(s) && WEXITSTATUS(s) == 3}], 0, NULL) = PID");
        assert_eq!(a[0][3], "mmap(NULL, 8192, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = ADDR");
        assert_eq!(compare(&a, &b), Vec::<String>::new());
    }
}
