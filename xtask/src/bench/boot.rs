//! Running one benchmark run: a QEMU boot (POSIX-X or Linux) or the runner on the host, with
//! each console line stamped with the time since the start (the boot time is the stamp of
//! `bench-runner start`).

use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::qemu::{read_log, LogEcho, Outcome};
use crate::util::{kill_process_group, status_code, wait_with_timeout, Context, Result};

/// A line of the console and when it arrived.
#[derive(Debug, Clone)]
pub struct TimedLine {
    pub at: Duration,
    pub text: String,
}

/// What to do with the process's stderr.
pub enum Stderr {
    /// QEMU booting POSIX-X or Linux: stderr is COM2 (POSIX-X's log and control lines; QEMU's own
    /// messages), read as `cargo xtask run` does; the kernel ELF symbolizes a panic's backtrace.
    KernelLog { kernel: Option<PathBuf> },
    /// A program on the host: stderr goes into the same pipe as stdout, like a console.
    Merge,
}

/// How a run ended.
#[derive(Debug)]
pub struct Finished {
    pub lines: Vec<TimedLine>,
    /// Exit status (shell style); `None` if killed at the timeout.
    pub status: Option<i32>,
    pub elapsed: Duration,
    /// COM2 as `cargo xtask run` reads it ([`Stderr::KernelLog`] only).
    pub log: Outcome,
}

impl Finished {
    pub fn timed_out(&self) -> bool {
        self.status.is_none()
    }

    /// When the first line containing `marker` arrived.
    pub fn time_of(&self, marker: &str) -> Option<Duration> {
        self.lines.iter().find(|l| l.text.contains(marker)).map(|l| l.at)
    }

    pub fn texts(&self) -> impl Iterator<Item = &str> {
        self.lines.iter().map(|l| l.text.as_str())
    }
}

/// Runs `cmd` (stdin closed) until it ends or `timeout` passes, calling `progress` with each
/// console line as it arrives.
pub fn run(
    mut cmd: Command,
    stderr: Stderr,
    timeout: Duration,
    progress: &(dyn Fn(&str) + Sync),
) -> Result<Finished> {
    let program = cmd.get_program().to_string_lossy().into_owned();
    cmd.stdin(Stdio::null());
    let (reader, writer) = std::io::pipe().context(|| "creating a pipe")?;
    match stderr {
        Stderr::KernelLog { .. } => {
            cmd.stdout(writer).stderr(Stdio::piped());
        }
        Stderr::Merge => {
            let copy = writer.try_clone().context(|| "duplicating a pipe")?;
            // Its own process group, so that whatever it leaves behind can be killed.
            cmd.stdout(writer).stderr(copy).process_group(0);
        }
    }
    let start = Instant::now();
    let mut child = cmd.spawn().context(|| format!("starting {program}"))?;
    // Our copies of the pipe's write end go with `cmd`: the reader sees EOF when the child ends.
    drop(cmd);
    let log_pipe = child.stderr.take();
    let log = Mutex::new(Outcome::default());

    let (status, lines) = std::thread::scope(|scope| {
        let console = scope.spawn(|| read_lines(reader, start, progress));
        if let (Some(pipe), Stderr::KernelLog { kernel }) = (log_pipe, &stderr) {
            let log = &log;
            scope.spawn(move || read_log(pipe, start, LogEcho::Nothing, log, kernel.as_deref()));
        }
        let status = wait_with_timeout(&mut child, Some(timeout));
        if matches!(stderr, Stderr::Merge) {
            kill_process_group(child.id());
        }
        (status, console.join().expect("console reader"))
    });
    let status = status.context(|| format!("waiting for {program}"))?;
    Ok(Finished {
        lines,
        status: status.map(status_code),
        elapsed: start.elapsed(),
        log: log.into_inner().unwrap_or_default(),
    })
}

/// Reads lines until EOF (`\r\n` or `\n`; invalid UTF-8 replaced), stamping each.
fn read_lines(from: impl Read, start: Instant, progress: &(dyn Fn(&str) + Sync)) -> Vec<TimedLine> {
    let mut reader = BufReader::new(from);
    let mut lines = Vec::new();
    let mut raw = Vec::new();
    loop {
        raw.clear();
        match reader.read_until(b'\n', &mut raw) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        let text = String::from_utf8_lossy(&raw).trim_end_matches(['\n', '\r']).to_string();
        progress(&text);
        lines.push(TimedLine { at: start.elapsed(), text });
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_stamps_status_and_timeout() {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "echo one; printf 'two\\r\\n'; echo three >&2; exit 3"]);
        let seen = Mutex::new(Vec::new());
        let done = run(cmd, Stderr::Merge, Duration::from_secs(20), &|l| {
            seen.lock().unwrap().push(l.to_string())
        })
        .unwrap();
        assert_eq!(done.status, Some(3));
        assert_eq!(done.texts().collect::<Vec<_>>(), ["one", "two", "three"]);
        assert_eq!(seen.into_inner().unwrap(), ["one", "two", "three"]);
        assert!(done.time_of("two").is_some() && done.time_of("four").is_none());

        let mut cmd = Command::new("sh");
        cmd.args(["-c", "echo start; sleep 30 & wait"]);
        let done = run(cmd, Stderr::Merge, Duration::from_secs(2), &|_| ()).unwrap();
        assert!(done.timed_out());
        assert_eq!(done.texts().collect::<Vec<_>>(), ["start"]);
    }
}
