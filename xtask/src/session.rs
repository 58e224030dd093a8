//! The scripted shell session of `cargo xtask test` (`posix-x/shell-session`,
//! `posix-x/shell-session-ctrl-d`): boot the interactive image (batch `/bin/sh`, as
//! `cargo xtask run` without a command) with the console on a host pseudo-terminal, and drive
//! busybox sh like a person would: type a line, wait for what it should print and for the next
//! prompt. Every wait has a deadline ([`STEP_TIMEOUT`]); nothing sleeps to synchronise.
//!
//! QEMU gets the pty's slave as stdin and stdout (`-chardev stdio`), so it sees a terminal and
//! puts it in raw mode, as it does for a person. The slave starts raw with no output processing
//! (see [`Pty::open_raw`]), so the bytes read from the master are exactly what the guest sent:
//! the guest's TTY must turn `\n` into `\r\n` itself (ONLCR) and echo what is typed.

use std::io::{Read, Write};
use std::process::{Child, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use crate::pty::Pty;
use crate::qemu::{Boot, LogEcho, Monitor, Outcome};
use crate::util::{kill_process_group, Result};

/// How long one step may take.
pub const STEP_TIMEOUT: Duration = Duration::from_secs(30);
/// A control character that got no reaction in this time is sent again (it may have arrived
/// before the shell had handed the terminal to the job, e.g. right after `fg` printed its line).
const RESEND_AFTER: Duration = Duration::from_secs(5);
/// Screen lines shown under a failure.
const SCREEN_LINES: usize = 30;

const CTRL_C: u8 = 0x03;
const CTRL_D: u8 = 0x04;
const CTRL_Z: u8 = 0x1a;

/// Why a session failed: the step, what was expected, and the end of the screen and log.
#[derive(Debug)]
pub struct Failure {
    pub step: String,
    pub expected: String,
    pub lines: Vec<String>,
}

/// What a passed session did.
pub struct Summary {
    pub steps: usize,
    pub time: Duration,
}

/// What the console has sent so far.
#[derive(Default)]
struct Console {
    raw: Vec<u8>,
    /// The master reported EOF/EIO: QEMU is gone.
    closed: bool,
}

struct Session {
    child: Child,
    master: std::fs::File,
    console: Arc<(Mutex<Console>, Condvar)>,
    log: Arc<Mutex<Outcome>>,
    reader: Option<std::thread::JoinHandle<()>>,
    log_thread: Option<std::thread::JoinHandle<()>>,
    steps: usize,
    started: Instant,
    /// To ask the kernel for its thread dump when a step times out.
    monitor: Monitor,
}

/// The main session: commands, Ctrl-C, Ctrl-Z with `jobs` and `fg`, and `exit`.
pub fn main_session(boot: &Boot) -> std::result::Result<Summary, Failure> {
    let mut s = Session::start(boot).map_err(|e| Failure {
        step: "boot".into(),
        expected: "QEMU to start".into(),
        lines: vec![e.to_string()],
    })?;
    let result = s.script_main();
    s.finish(result)
}

/// The short session: Ctrl-D at an empty prompt leaves the shell and powers off.
pub fn ctrl_d_session(boot: &Boot) -> std::result::Result<Summary, Failure> {
    let mut s = Session::start(boot).map_err(|e| Failure {
        step: "boot".into(),
        expected: "QEMU to start".into(),
        lines: vec![e.to_string()],
    })?;
    let result = (|| {
        s.first_prompt()?;
        s.step("Ctrl-D at an empty prompt");
        s.send(&[CTRL_D]);
        s.expect_poweroff("Ctrl-D")
    })();
    s.finish(result)
}

/// A check on the lines a command printed (between its echo and the next prompt).
enum Check {
    /// A line that is exactly this (trailing blanks ignored).
    Line(&'static str),
    /// A line that holds this text.
    Contains(&'static str),
    /// A line whose last word is this (`ls -l` names).
    LastWord(&'static str),
    /// A line with a word that is this program's name (`sh`, `/bin/sh`, `-sh`).
    Program(&'static str),
    /// No output at all.
    Nothing,
}

impl Check {
    fn holds(&self, lines: &[String]) -> bool {
        if let Check::Nothing = self {
            return lines.iter().all(|l| l.trim().is_empty());
        }
        lines.iter().any(|l| match self {
            Check::Line(s) => l.trim_end() == *s,
            Check::Contains(s) => l.contains(s),
            Check::LastWord(s) => l.split_whitespace().last() == Some(*s),
            Check::Program(s) => l
                .split_whitespace()
                .any(|w| w.trim_start_matches('-').rsplit('/').next() == Some(*s)),
            Check::Nothing => unreachable!(),
        })
    }

    fn describe(&self) -> String {
        match self {
            Check::Line(s) => format!("a line `{s}`"),
            Check::Contains(s) => format!("a line containing `{s}`"),
            Check::LastWord(s) => format!("a line ending in the name `{s}`"),
            Check::Program(s) => format!("a line naming the program `{s}`"),
            Check::Nothing => "no output".to_string(),
        }
    }
}

impl Session {
    fn start(boot: &Boot) -> Result<Session> {
        let pty = Pty::open_raw()?;
        let (mut cmd, monitor) = boot.command_with_monitor();
        cmd.stdin(pty.slave.try_clone()?).stdout(pty.slave.try_clone()?).stderr(Stdio::piped());
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        let started = Instant::now();
        let mut child = cmd
            .spawn()
            .map_err(|e| crate::util::Error::new(format!("starting qemu-system-x86_64: {e}")))?;
        drop(cmd); // our copies of the slave: the master reports EIO once QEMU is gone
        drop(pty.slave);

        let log = Arc::new(Mutex::new(Outcome::default()));
        let stderr = child.stderr.take().expect("piped");
        let (log2, kernel) = (Arc::clone(&log), boot.kernel.clone());
        let log_thread = std::thread::spawn(move || {
            crate::qemu::read_log(stderr, started, LogEcho::Nothing, &log2, Some(&kernel))
        });

        let console = Arc::new((Mutex::new(Console::default()), Condvar::new()));
        let mut reader_end = pty.master.try_clone()?;
        let console2 = Arc::clone(&console);
        let reader = std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            loop {
                let n = match reader_end.read(&mut buf) {
                    Ok(0) => 0,
                    Ok(n) => n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(_) => 0, // EIO: QEMU closed the terminal
                };
                let (lock, cv) = &*console2;
                let mut c = lock.lock().unwrap();
                if n == 0 {
                    c.closed = true;
                    cv.notify_all();
                    break;
                }
                c.raw.extend_from_slice(&buf[..n]);
                cv.notify_all();
            }
        });
        Ok(Session {
            child,
            master: pty.master,
            console,
            log,
            reader: Some(reader),
            log_thread: Some(log_thread),
            steps: 0,
            started,
            monitor,
        })
    }

    fn script_main(&mut self) -> std::result::Result<(), Failure> {
        self.first_prompt()?;
        self.command("ls -l /", &[Check::LastWord("bin"), Check::LastWord("tmp")])?;
        self.command("echo hi > /tmp/a; cat /tmp/a", &[Check::Line("hi")])?;
        self.command("mkdir -p /tmp/x/y; cd /tmp/x/y; pwd", &[Check::Line("/tmp/x/y")])?;
        self.command("cd /", &[])?;
        self.command("ps", &[Check::Contains("PID"), Check::Program("sh")])?;
        self.command("free", &[Check::Contains("Mem:")])?;
        self.command("uname -a", &[Check::Contains("Linux")])?;
        self.command("sleep 1; echo done", &[Check::Line("done")])?;

        // Ctrl-C interrupts a foreground job: the prompt comes back, $? is 128+SIGINT.
        self.start_job("sleep 100")?;
        let t = Instant::now();
        self.control(CTRL_C, "Ctrl-C during `sleep 100`", &[])?;
        if t.elapsed() > STEP_TIMEOUT {
            return Err(self.fail("Ctrl-C during `sleep 100`", "the prompt back well before 100 s"));
        }
        self.command("echo $?", &[Check::Line("130")])?;

        // Ctrl-Z stops a job; `jobs` lists it; `fg` resumes it in the foreground; Ctrl-C ends it.
        // The job is `cat`, so the test can see that `fg` has really handed it the terminal
        // (a typed line comes back twice: the echo and cat's copy) before it sends Ctrl-C;
        // busybox sh prints the command line before it moves the job to the foreground.
        self.start_job("cat")?;
        self.control(CTRL_Z, "Ctrl-Z during `cat`", &[Check::Contains("Stopped")])?;
        self.command("jobs", &[Check::Contains("Stopped"), Check::Contains("cat")])?;
        self.start_job_expecting("fg", Check::Contains("cat"))?;
        self.echo_through_job("resumed")?;
        self.control(CTRL_C, "Ctrl-C after `fg`", &[])?;
        self.command("jobs", &[Check::Nothing])?;

        self.step("exit");
        self.send(b"exit\r");
        self.expect_poweroff("exit")
    }

    fn step(&mut self, _name: &str) {
        self.steps += 1;
    }

    fn send(&mut self, bytes: &[u8]) {
        // A write error means QEMU is gone; the next wait reports it.
        let _ = self.master.write_all(bytes).and_then(|_| self.master.flush());
    }

    fn mark(&self) -> usize {
        self.console.0.lock().unwrap().raw.len()
    }

    /// Waits until `done(screen lines since mark, raw bytes since mark)` holds, or the deadline.
    /// Returns false on timeout or when QEMU went away first.
    fn wait_until(
        &self,
        mark: usize,
        deadline: Instant,
        mut done: impl FnMut(&[String], &[u8]) -> bool,
    ) -> bool {
        let (lock, cv) = &*self.console;
        let mut c = lock.lock().unwrap();
        loop {
            let raw = &c.raw[mark.min(c.raw.len())..];
            if done(&screen(raw), raw) {
                return true;
            }
            let now = Instant::now();
            if c.closed || now >= deadline {
                return false;
            }
            c = cv.wait_timeout(c, deadline - now).unwrap().0;
        }
    }

    fn first_prompt(&mut self) -> std::result::Result<(), Failure> {
        self.step("first prompt");
        let deadline = Instant::now() + STEP_TIMEOUT;
        if !self
            .wait_until(0, deadline, |lines, _| lines.last().is_some_and(|l| l.ends_with("/ # ")))
        {
            return Err(self.fail("boot to the shell", "the prompt `/ # `"));
        }
        Ok(())
    }

    /// Types `line` and Enter, waits for its echo, its output and the next prompt, and checks
    /// the output lines and the line endings. Returns the output lines.
    fn command(
        &mut self,
        line: &str,
        checks: &[Check],
    ) -> std::result::Result<Vec<String>, Failure> {
        self.step(line);
        let mark = self.mark();
        self.send(format!("{line}\r").as_bytes());
        let step = format!("`{line}`");
        let deadline = Instant::now() + STEP_TIMEOUT;
        if !self.wait_until(mark, deadline, |lines, _| {
            lines.len() >= 2 && is_prompt(lines.last().unwrap())
        }) {
            return Err(self.fail(&step, "its output, then the prompt"));
        }
        let (lines, raw) = self.since(mark);
        if !lines[0].contains(line) {
            return Err(self.fail(&step, &format!("the echo of the typed line `{line}`")));
        }
        if bare_newline(&raw) {
            return Err(self.fail(
                &step,
                "`\\r\\n` line endings on the console (ONLCR): got a `\\n` without `\\r`",
            ));
        }
        let output = &lines[1..lines.len() - 1];
        for check in checks {
            if !check.holds(output) {
                return Err(self.fail(&step, &check.describe()));
            }
        }
        Ok(output.to_vec())
    }

    /// Types a command that keeps running (the prompt must not come back) and waits for its echo.
    fn start_job(&mut self, line: &str) -> std::result::Result<(), Failure> {
        self.start_job_expecting(line, Check::Contains(""))
    }

    fn start_job_expecting(
        &mut self,
        line: &str,
        check: Check,
    ) -> std::result::Result<(), Failure> {
        self.step(line);
        let mark = self.mark();
        self.send(format!("{line}\r").as_bytes());
        let deadline = Instant::now() + STEP_TIMEOUT;
        let started = self
            .wait_until(mark, deadline, |lines, _| lines.len() >= 2 && check.holds(&lines[1..]));
        if !started {
            return Err(
                self.fail(&format!("`{line}`"), &format!("its echo and {}", check.describe()))
            );
        }
        Ok(())
    }

    /// Types a line to the foreground job (`cat`) and waits until it comes back twice: the
    /// terminal's echo, then the job's own output — proof that the job runs in the foreground.
    fn echo_through_job(&mut self, text: &str) -> std::result::Result<(), Failure> {
        self.step(text);
        let mark = self.mark();
        self.send(format!("{text}\r").as_bytes());
        let deadline = Instant::now() + STEP_TIMEOUT;
        let both = self.wait_until(mark, deadline, |lines, _| {
            lines.iter().filter(|l| l.contains(text)).count() >= 2
        });
        if !both {
            return Err(self.fail(
                &format!("typing `{text}` to the resumed job"),
                "the line echoed and copied back by `cat`",
            ));
        }
        Ok(())
    }

    /// Sends a control character to the running job and waits for the prompt and `checks`,
    /// sending it again after [`RESEND_AFTER`] without a reaction.
    fn control(
        &mut self,
        byte: u8,
        step: &str,
        checks: &[Check],
    ) -> std::result::Result<(), Failure> {
        self.step(step);
        let mark = self.mark();
        let deadline = Instant::now() + STEP_TIMEOUT;
        loop {
            self.send(&[byte]);
            let wait = (Instant::now() + RESEND_AFTER).min(deadline);
            let back = self.wait_until(mark, wait, |lines, _| {
                lines.last().is_some_and(|l| is_prompt(l)) && lines.len() >= 2
            });
            if back {
                break;
            }
            if Instant::now() >= deadline || self.console.0.lock().unwrap().closed {
                return Err(self.fail(step, "the prompt back"));
            }
        }
        let (lines, _) = self.since(mark);
        for check in checks {
            if !check.holds(&lines) {
                return Err(self.fail(step, &check.describe()));
            }
        }
        Ok(())
    }

    /// Waits for QEMU to power off after the shell ended: `@@ status 0` then `@@ poweroff`.
    fn expect_poweroff(&mut self, step: &str) -> std::result::Result<(), Failure> {
        let deadline = Instant::now() + STEP_TIMEOUT;
        let exited = loop {
            if let Ok(Some(_)) = self.child.try_wait() {
                break true;
            }
            if Instant::now() >= deadline {
                break false;
            }
            // Polls QEMU's exit (no event to wait on for a child process here).
            std::thread::sleep(Duration::from_millis(20));
        };
        if let Some(t) = self.log_thread.take() {
            if exited {
                let _ = t.join();
            } else {
                self.log_thread = Some(t);
            }
        }
        let log = self.log.lock().unwrap();
        let (statuses, powered_off, panicked) =
            (log.statuses.clone(), log.powered_off, log.panicked);
        drop(log);
        if !exited || !powered_off || panicked || statuses != [0] {
            let got =
                format!("statuses {statuses:?}, poweroff {powered_off}, QEMU exited {exited}");
            return Err(self.fail(
                step,
                &format!(
                    "`@@ status 0` and `@@ poweroff` on COM2 within {}s ({got})",
                    STEP_TIMEOUT.as_secs()
                ),
            ));
        }
        Ok(())
    }

    fn since(&self, mark: usize) -> (Vec<String>, Vec<u8>) {
        let c = self.console.0.lock().unwrap();
        let raw = c.raw[mark.min(c.raw.len())..].to_vec();
        (screen(&raw), raw)
    }

    /// A failure with the end of the screen, and the panic or the end of the kernel log.
    fn fail(&self, step: &str, expected: &str) -> Failure {
        let raw = self.console.0.lock().unwrap().raw.clone();
        let lines = screen(&raw);
        let mut shown: Vec<String> = lines[lines.len().saturating_sub(SCREEN_LINES)..]
            .iter()
            .map(|l| format!("screen: {l}"))
            .collect();
        let log = self.log.lock().unwrap();
        if log.panicked {
            shown.extend(log.panic_lines.iter().map(|l| format!("kernel: {l}")));
        } else {
            let tail = log.log.len().saturating_sub(10);
            shown.extend(log.log[tail..].iter().map(|l| format!("kernel: {l}")));
        }
        Failure { step: step.to_string(), expected: expected.to_string(), lines: shown }
    }

    /// Ends QEMU (if still running) and the threads.
    fn finish(
        mut self,
        mut result: std::result::Result<(), Failure>,
    ) -> std::result::Result<Summary, Failure> {
        let running = |child: &mut Child| !matches!(child.try_wait(), Ok(Some(_)));
        if let Err(failure) = &mut result {
            if running(&mut self.child) {
                // A step that got no answer may be a frozen kernel: its dump says.
                let child = &mut self.child;
                self.monitor.request_dump(&self.log, || !running(child));
                let log = self.log.lock().unwrap();
                if !log.dump.is_empty() {
                    failure.lines.push("kernel thread dump (NMI sent on the failure):".into());
                    failure.lines.extend(log.dump.iter().map(|l| format!("dump: {l}")));
                }
            }
        }
        if running(&mut self.child) {
            kill_process_group(self.child.id());
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        if let Some(t) = self.reader.take() {
            let _ = t.join();
        }
        if let Some(t) = self.log_thread.take() {
            let _ = t.join();
        }
        // A lost wake-up the session got over (a step's retry, a later key) still fails it.
        if result.is_ok() {
            let log = self.log.lock().unwrap();
            if let Some(why) = crate::test::watchdog_failure(&log) {
                let tail = log.log.len().saturating_sub(10);
                result = Err(Failure {
                    step: "the whole session".into(),
                    expected: format!("no report of the kernel's watchdog, got {why}"),
                    lines: log.log[tail..].iter().map(|l| format!("kernel: {l}")).collect(),
                });
            }
        }
        result.map(|()| Summary { steps: self.steps, time: self.started.elapsed() })
    }
}

/// The shell's prompt: `/ # `, `/tmp/x/y # `.
fn is_prompt(line: &str) -> bool {
    line.ends_with(" # ") && line.starts_with('/')
}

/// A `\n` not preceded by `\r`.
fn bare_newline(raw: &[u8]) -> bool {
    raw.iter().enumerate().any(|(i, &b)| b == b'\n' && (i == 0 || raw[i - 1] != b'\r'))
}

/// What a terminal would show for `raw` (a vt100 subset: CR, LF, BS, erase to end of line or
/// screen, cursor left/right; other escape sequences and control characters are dropped).
/// The cursor starts at column 0 of an empty first line.
pub fn screen(raw: &[u8]) -> Vec<String> {
    let mut lines: Vec<Vec<char>> = vec![Vec::new()];
    let mut col = 0usize;
    let text = String::from_utf8_lossy(raw);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        let line = lines.last_mut().unwrap();
        match c {
            '\r' => col = 0,
            '\n' => {
                lines.push(Vec::new());
                col = 0;
            }
            '\x08' => col = col.saturating_sub(1),
            '\t' => col = (col / 8 + 1) * 8,
            '\x1b' => {
                if chars.peek() == Some(&'[') {
                    chars.next();
                    let mut params = String::new();
                    let mut fin = None;
                    for p in chars.by_ref() {
                        if ('\x40'..='\x7e').contains(&p) {
                            fin = Some(p);
                            break;
                        }
                        params.push(p);
                    }
                    let n = params.parse::<usize>().unwrap_or(1).max(1);
                    match fin {
                        Some('K') | Some('J') => line.truncate(col),
                        Some('D') => col = col.saturating_sub(n),
                        Some('C') => col += n,
                        _ => {}
                    }
                } else {
                    chars.next();
                }
            }
            c if (c as u32) < 0x20 || c == '\x7f' => {}
            c => {
                while line.len() < col {
                    line.push(' ');
                }
                if col < line.len() {
                    line[col] = c;
                } else {
                    line.push(c);
                }
                col += 1;
            }
        }
    }
    lines.into_iter().map(|l| l.into_iter().collect()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn screen_model() {
        assert_eq!(screen(b"/ # ls\r\nbin\r\n/ # "), ["/ # ls", "bin", "/ # "]);
        // Line redraw, backspace, erase, escape sequences dropped.
        assert_eq!(screen(b"/ # lx\x08s\r/ # ls\x1b[K\x1b[6n\r\n"), ["/ # ls", ""]);
        assert_eq!(screen(b"abc\x1b[2Dz\x1b[J"), ["az"]);
        assert_eq!(screen(b"^C\r\n/ # "), ["^C", "/ # "]);
    }

    #[test]
    fn prompts_and_line_endings() {
        assert!(is_prompt("/ # "));
        assert!(is_prompt("/tmp/x/y # "));
        assert!(!is_prompt("/ # ls"));
        assert!(bare_newline(b"a\nb"));
        assert!(!bare_newline(b"a\r\nb\r\n"));
    }

    #[test]
    fn checks() {
        let lines: Vec<String> = [
            "  PID USER       TIME  COMMAND",
            "    1 root       0:00 /bin/sh",
            "drwxr-xr-x 2 root root 0 Jan  1 00:00 tmp",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert!(Check::Program("sh").holds(&lines));
        assert!(!Check::Program("bash").holds(&lines));
        assert!(Check::LastWord("tmp").holds(&lines));
        assert!(!Check::LastWord("bin").holds(&lines));
        assert!(Check::Contains("PID").holds(&lines));
        assert!(!Check::Line("PID").holds(&lines));
        assert!(!Check::Nothing.holds(&lines));
        assert!(Check::Nothing.holds(&[String::new()]));
        assert!(Check::Nothing.holds(&[]));
    }
}
