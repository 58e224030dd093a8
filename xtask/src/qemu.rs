//! Booting POSIX-X in QEMU (docs/HOST_INTERFACE.md §2 and §4).
//!
//! QEMU's stdout is the guest console (COM1); its stderr carries the kernel log and the
//! `@@ ` control lines (COM2, via `-chardev file,path=/dev/stderr`). A thread reads stderr line
//! by line and records the control lines; the console is streamed, captured or inherited.

use std::io::{BufRead, BufReader, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::util::{wait_with_timeout, Context, Result};

/// The accelerator QEMU uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accel {
    Tcg,
    Kvm,
}

impl Accel {
    /// `--tcg` forces TCG, `--kvm` forces KVM; otherwise KVM only where the CPU has hardware
    /// virtualisation (vmx/svm) and /dev/kvm can be opened (DESIGN.md §4: the /dev/kvm of the
    /// machines without it is a software hypervisor that cannot run the kernel).
    pub fn choose(force_tcg: bool, force_kvm: bool) -> Accel {
        if force_tcg {
            return Accel::Tcg;
        }
        if force_kvm {
            return Accel::Kvm;
        }
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let hardware = cpuinfo
            .lines()
            .filter(|l| l.starts_with("flags"))
            .any(|l| l.split_whitespace().any(|f| f == "vmx" || f == "svm"));
        let usable = std::fs::OpenOptions::new().read(true).write(true).open("/dev/kvm").is_ok();
        if hardware && usable {
            Accel::Kvm
        } else {
            Accel::Tcg
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Accel::Tcg => "TCG",
            Accel::Kvm => "KVM",
        }
    }
}

/// What to do with the guest console (QEMU's stdin/stdout).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Console {
    /// Interactive: QEMU gets our terminal (its stdio chardev puts it in raw mode).
    Inherit,
    /// Copy to our stdout with `\r\n` turned into `\n`.
    Stream,
    /// Keep it (with `\r\n` turned into `\n`) in [`Outcome::console`].
    Capture,
}

/// What the kernel log lines (non-control lines of COM2) should do while the guest runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogEcho {
    /// Print every line to our stderr.
    All,
    /// Print QEMU's own error messages and everything after a panic; the kernel's notes
    /// (`ENOSYS: ...`, warnings) only go to [`Outcome::log`]: the terminal is the guest's.
    Important,
    /// Print nothing (the caller looks at [`Outcome::log`]).
    Nothing,
}

/// QEMU's user network for `--net` (docs/net.md): `restrict=on`, so the guest reaches nothing
/// outside but what the forwards name, all of them on the host's 127.0.0.1.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Net {
    /// `--forward HOST_PORT:GUEST_PORT`: 127.0.0.1:HOST_PORT on the host reaches the guest's
    /// GUEST_PORT (TCP).
    pub forwards: Vec<(u16, u16)>,
    /// `--guest-forward GUEST_PORT:HOST_PORT`: the guest's connections to
    /// GUEST_FORWARD_ADDR:GUEST_PORT reach 127.0.0.1:HOST_PORT on the host (TCP). QEMU connects
    /// to the host service when it starts, once: the service must listen before the boot.
    pub guest_forwards: Vec<(u16, u16)>,
    /// Instead of the user network: QEMU's socket netdev over UDP on 127.0.0.1, (QEMU's port,
    /// the host's port): every datagram the host sends to QEMU's port is an Ethernet frame for
    /// the card (the malformed-frames check uses it).
    pub udp: Option<(u16, u16)>,
}

/// The CPU model every boot uses unless told otherwise.
pub const DEFAULT_CPU: &str = "qemu64";

/// The address in the guest's network behind which `--guest-forward` services sit.
pub const GUEST_FORWARD_ADDR: &str = "10.0.2.100";
/// The kernel command line for QEMU's user network: Linux's `ip=` for IPv4 and POSIX-X's
/// `posix-x.ip6=` for IPv6 (QEMU's defaults: 10.0.2.0/24 with the host at 10.0.2.2, fec0::/64
/// with the host at fec0::2).
pub const NET_APPEND: &str =
    "ip=10.0.2.15::10.0.2.2:255.255.255.0::eth0:off posix-x.ip6=fec0::15/64,fec0::2";

impl Net {
    /// The `-netdev` value.
    pub fn netdev(&self) -> String {
        if let Some((local, remote)) = self.udp {
            return format!("socket,id=net0,udp=127.0.0.1:{remote},localaddr=127.0.0.1:{local}");
        }
        let mut v = String::from("user,id=net0,restrict=on,ipv4=on,ipv6=on");
        for (host, guest) in &self.forwards {
            v.push_str(&format!(",hostfwd=tcp:127.0.0.1:{host}-:{guest}"));
        }
        for (guest, host) in &self.guest_forwards {
            v.push_str(&format!(",guestfwd=tcp:{GUEST_FORWARD_ADDR}:{guest}-tcp:127.0.0.1:{host}"));
        }
        v
    }

    /// Parses `A:B` (two ports) for `--forward` and `--guest-forward`.
    pub fn parse_pair(option: &str, v: &str) -> crate::util::Result<(u16, u16)> {
        let bad = || crate::util::Error::new(format!("{option}: expected PORT:PORT, got {v}"));
        let (a, b) = v.split_once(':').ok_or_else(bad)?;
        let port = |s: &str| s.parse::<u16>().ok().filter(|p| *p != 0);
        Ok((port(a).ok_or_else(bad)?, port(b).ok_or_else(bad)?))
    }
}

pub struct Boot {
    pub accel: Accel,
    /// QEMU's `-cpu` model ([`DEFAULT_CPU`] unless `bench --cpu` says otherwise).
    pub cpu: String,
    /// vCPUs (QEMU's `-smp`); more than one runs TCG multi-threaded.
    pub smp: usize,
    pub mem: String,
    pub kernel: PathBuf,
    pub initrd: PathBuf,
    pub append: String,
    pub timeout: Option<Duration>,
    pub console: Console,
    pub log_echo: LogEcho,
    /// A virtio-net card on QEMU's user network (`--net`); none without.
    pub net: Option<Net>,
    /// More QEMU arguments (`run --trace`'s debug console, `run --gdb`'s stub).
    pub extra: Vec<String>,
}

/// What happened during a boot.
#[derive(Debug, Default)]
pub struct Outcome {
    /// `@@ status N` values, in order.
    pub statuses: Vec<i32>,
    /// `@@ panic` was seen.
    pub panicked: bool,
    /// The kernel log lines from the `@@ panic` line on (message and backtrace).
    pub panic_lines: Vec<String>,
    /// `@@ poweroff` was seen.
    pub powered_off: bool,
    /// QEMU was killed because the timeout passed.
    pub timed_out: bool,
    /// From spawning QEMU to `@@ user-entry`.
    pub boot_time: Option<Duration>,
    /// From spawning QEMU to its exit.
    pub total_time: Duration,
    /// QEMU's exit status (shell style), if it exited by itself.
    pub qemu_status: Option<i32>,
    /// The captured console ([`Console::Capture`] only).
    pub console: Vec<u8>,
    /// All non-control lines of COM2 (kernel log, and QEMU's own messages) but the dump's.
    pub log: Vec<String>,
    /// The kernel's thread dump (the lines between `@@ dump` and `@@ dump-end`, backtraces
    /// symbolized), asked for with an NMI when the boot timed out.
    pub dump: Vec<String>,
    /// `@@ dump-end` was seen.
    pub dump_complete: bool,
    /// Inside `@@ dump` .. `@@ dump-end`.
    in_dump: bool,
}

impl Outcome {
    /// The kernel watchdog's reports on the log (docs/HOST_INTERFACE.md §4): a CPU that ran
    /// kernel code for seconds without a tick, a thread stuck in an uninterruptible wait.
    pub fn watchdog_reports(&self) -> Vec<&str> {
        self.log.iter().filter(|l| l.starts_with(WATCHDOG_PREFIX)).map(String::as_str).collect()
    }

    /// One short phrase for why the boot did not end normally, if it did not.
    pub fn failure(&self) -> Option<String> {
        if self.panicked {
            let first = self.panic_lines.iter().find(|l| !l.trim().is_empty());
            Some(match first {
                Some(msg) => format!("kernel panic: {}", msg.trim()),
                None => "kernel panic".to_string(),
            })
        } else if self.timed_out {
            Some("timeout".to_string())
        } else if !self.powered_off {
            Some(match self.qemu_status {
                Some(code) => format!("QEMU ended without `@@ poweroff` (QEMU status {code})"),
                None => "QEMU ended without `@@ poweroff`".to_string(),
            })
        } else {
            None
        }
    }
}

/// How the kernel watchdog's log lines begin (kernel/src/task/diagnose.rs).
pub const WATCHDOG_PREFIX: &str = "watchdog: ";

/// How long to wait for the kernel's dump after the NMI before QEMU is killed (the dump is
/// short, but the log reader symbolizes each backtrace line with addr2line as it comes).
pub const DUMP_WAIT: Duration = Duration::from_secs(20);

/// QEMU's human monitor on a Unix socket, to send `nmi` to a guest that timed out: the kernel
/// answers with a dump of every thread (docs/HOST_INTERFACE.md §4). An NMI is taken even while
/// the kernel runs with interrupts off, in a busy loop as much as in a deadlock.
pub struct Monitor {
    path: PathBuf,
}

impl Monitor {
    fn new() -> Monitor {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path =
            std::env::temp_dir().join(format!("posix-x-mon-{}-{n}.sock", std::process::id()));
        let _ = std::fs::remove_file(&path);
        Monitor { path }
    }

    fn arg(&self) -> String {
        format!("unix:{},server=on,wait=off", self.path.display())
    }

    /// Sends `nmi`; false if the monitor could not be reached.
    pub fn nmi(&self) -> bool {
        let Ok(mut s) = std::os::unix::net::UnixStream::connect(&self.path) else {
            return false;
        };
        let _ = s.set_read_timeout(Some(Duration::from_millis(200)));
        if s.write_all(b"nmi\n").is_err() {
            return false;
        }
        // Keep the connection until QEMU has run the command: its prompt comes a second time
        // (after the banner's), or give up after 3 s.
        let deadline = Instant::now() + Duration::from_secs(3);
        let mut seen = Vec::new();
        let mut chunk = [0u8; 512];
        while Instant::now() < deadline {
            match s.read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => seen.extend_from_slice(&chunk[..n]),
                Err(_) => {}
            }
            if String::from_utf8_lossy(&seen).matches("(qemu)").count() >= 2 {
                break;
            }
        }
        true
    }

    /// Asks for the kernel's dump and waits until `state` holds all of it (or `DUMP_WAIT`, or
    /// `ended` says QEMU is gone).
    pub fn request_dump(&self, state: &Mutex<Outcome>, mut ended: impl FnMut() -> bool) {
        if !self.nmi() {
            return;
        }
        let deadline = Instant::now() + DUMP_WAIT;
        while Instant::now() < deadline && !state.lock().unwrap().dump_complete && !ended() {
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Monitor {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

impl Boot {
    /// The QEMU command with a monitor socket for [`Monitor::request_dump`].
    pub fn command_with_monitor(&self) -> (Command, Monitor) {
        let monitor = Monitor::new();
        let mut cmd = self.command();
        cmd.args(["-monitor", &monitor.arg()]);
        (cmd, monitor)
    }

    /// `-accel`'s value: several vCPUs under TCG run in parallel (multi-threaded TCG), one per
    /// host thread, rather than taking turns on one.
    fn accel_arg(&self) -> &'static str {
        match self.accel {
            Accel::Kvm => "kvm",
            Accel::Tcg if self.smp > 1 => "tcg,thread=multi",
            Accel::Tcg => "tcg",
        }
    }

    pub fn command(&self) -> Command {
        let mut cmd = Command::new("qemu-system-x86_64");
        cmd.args(["-M", "pc", "-cpu", &self.cpu, "-m", &self.mem])
            .args(["-smp", &self.smp.max(1).to_string()])
            .args(["-nodefaults", "-no-reboot", "-display", "none"])
            .args(["-accel", self.accel_arg()])
            .args(["-chardev", "stdio,id=con,signal=off", "-serial", "chardev:con"])
            .args(["-chardev", "file,id=ctl,path=/dev/stderr", "-serial", "chardev:ctl"])
            .args(["-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"])
            .arg("-kernel")
            .arg(&self.kernel)
            .arg("-initrd")
            .arg(&self.initrd)
            .arg("-append");
        match &self.net {
            Some(net) => {
                cmd.arg(format!("{} {NET_APPEND}", self.append).trim()).args([
                    "-netdev",
                    &net.netdev(),
                    "-device",
                    "virtio-net-pci,netdev=net0",
                ]);
                // For debugging: every frame of the card in a pcap file.
                if let Some(path) = std::env::var_os("POSIX_X_PCAP") {
                    let mut file =
                        std::ffi::OsString::from("filter-dump,id=pcap0,netdev=net0,file=");
                    file.push(path);
                    cmd.arg("-object").arg(file);
                }
            }
            None => {
                cmd.arg(&self.append);
            }
        }
        cmd.args(&self.extra);
        cmd
    }

    /// Boots and waits for QEMU to end (or the timeout).
    pub fn run(&self) -> Result<Outcome> {
        let (mut cmd, monitor) = self.command_with_monitor();
        cmd.stderr(Stdio::piped());
        match self.console {
            Console::Inherit => {
                cmd.stdin(Stdio::inherit()).stdout(Stdio::inherit());
            }
            Console::Stream | Console::Capture => {
                // Piped or redirected input goes to the guest console; a terminal does not
                // (QEMU would put it in raw mode).
                let stdin = if std::io::stdin().is_terminal() || self.console == Console::Capture {
                    Stdio::null()
                } else {
                    Stdio::inherit()
                };
                cmd.stdin(stdin).stdout(Stdio::piped());
            }
        }

        let start = Instant::now();
        let mut child = cmd.spawn().context(|| "starting qemu-system-x86_64")?;
        let state = Arc::new(Mutex::new(Outcome::default()));

        let stderr = child.stderr.take().expect("piped");
        let log_state = Arc::clone(&state);
        let echo = self.log_echo;
        let kernel = self.kernel.clone();
        let log_thread =
            std::thread::spawn(move || read_log(stderr, start, echo, &log_state, Some(&kernel)));

        let console_thread = child.stdout.take().map(|stdout| {
            let capture = self.console == Console::Capture;
            std::thread::spawn(move || copy_console(stdout, capture))
        });

        // On a timeout, first the kernel's dump (an NMI through the monitor), then the kill.
        // (QEMU may also end by itself after the NMI: a kernel with no NMI handler resets.)
        let mut deadline_passed = false;
        let status = match self.timeout {
            None => child.wait().map(Some)?,
            Some(timeout) => {
                let deadline = start + timeout;
                loop {
                    if let Some(s) = child.try_wait()? {
                        break Some(s);
                    }
                    if Instant::now() >= deadline {
                        deadline_passed = true;
                        monitor.request_dump(&state, || matches!(child.try_wait(), Ok(Some(_))));
                        break wait_with_timeout(&mut child, Some(Duration::ZERO))?;
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
            }
        };
        let total_time = start.elapsed();
        let console = match console_thread {
            Some(t) => t.join().expect("console thread")?,
            None => Vec::new(),
        };
        log_thread.join().expect("log thread");

        let mut outcome = std::mem::take(&mut *state.lock().unwrap());
        outcome.total_time = total_time;
        outcome.timed_out = deadline_passed;
        outcome.qemu_status =
            if deadline_passed { None } else { status.map(crate::util::status_code) };
        outcome.console = console;
        Ok(outcome)
    }
}

/// Reads COM2 (QEMU's stderr) line by line into `state`, echoing per `echo`. After `@@ panic`,
/// backtrace addresses are symbolized with the `kernel` ELF (see [`symbolize`]).
pub fn read_log(
    stderr: impl Read,
    start: Instant,
    echo: LogEcho,
    state: &Mutex<Outcome>,
    kernel: Option<&Path>,
) {
    // (QEMU's raw mode for an interactive terminal keeps output post-processing on, so `\n`
    // is still shown as a new line.)
    let say = |text: &str| eprintln!("{text}");
    let mut reader = BufReader::new(stderr);
    let mut raw = Vec::new();
    loop {
        raw.clear();
        match reader.read_until(b'\n', &mut raw) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        let text = String::from_utf8_lossy(&raw);
        let mut line = text.trim_end_matches(['\n', '\r']).to_string();
        if let Some(kernel) = kernel {
            let symbolize_now = {
                let s = state.lock().unwrap();
                s.panicked || s.in_dump
            };
            if symbolize_now {
                if let Some(symbolized) = symbolize(&line, kernel) {
                    line = symbolized;
                }
            }
        }
        let line = line.as_str();
        let mut s = state.lock().unwrap();
        if let Some(control) = line.strip_prefix("@@ ") {
            let control = control.trim();
            if control == "user-entry" {
                let t = *s.boot_time.get_or_insert(start.elapsed());
                if echo == LogEcho::All {
                    say(&format!(
                        "xtask: boot time {:.3}s (QEMU spawned to `@@ user-entry`)",
                        t.as_secs_f64()
                    ));
                }
            } else if let Some(n) = control.strip_prefix("status ") {
                match n.trim().parse() {
                    Ok(n) => s.statuses.push(n),
                    Err(_) => {
                        say(&format!("xtask: warning: bad control line from the kernel: {line}"))
                    }
                }
            } else if control == "panic" {
                s.panicked = true;
                if echo != LogEcho::Nothing {
                    say("xtask: kernel panic:");
                }
            } else if control == "dump" {
                s.in_dump = true;
                s.dump.clear();
                if echo != LogEcho::Nothing {
                    say("xtask: the kernel's thread dump:");
                }
            } else if control == "dump-end" {
                s.in_dump = false;
                s.dump_complete = true;
            } else if control == "poweroff" {
                s.powered_off = true;
            } else {
                say(&format!("xtask: warning: unknown control line from the kernel: {line}"));
            }
            continue;
        }
        if s.panicked {
            s.panic_lines.push(line.to_string());
        }
        if s.in_dump {
            s.dump.push(line.to_string());
        } else {
            s.log.push(line.to_string());
        }
        let print = match echo {
            LogEcho::All => true,
            LogEcho::Important => s.panicked || s.in_dump || is_important(line),
            LogEcho::Nothing => false,
        };
        drop(s);
        if print {
            say(line);
        }
    }
}

/// A backtrace line of the kernel's panic handler (`  0xffffffff80123456`) with the function and
/// source line added by `addr2line -f -C -e KERNEL` (binutils): `  0xffff... function at file:line`.
/// `None` for other lines, or when addr2line is missing or knows nothing about the address.
pub fn symbolize(line: &str, kernel: &Path) -> Option<String> {
    let hex = line.trim().strip_prefix("0x")?;
    let addr = u64::from_str_radix(hex, 16).ok()?;
    // A return address points after the call; the call's own line is one byte before.
    let output = Command::new("addr2line")
        .args(["-f", "-C", "-e"])
        .arg(kernel)
        .arg(format!("{:#x}", addr.checked_sub(1)?))
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&output.stdout);
    let mut lines = text.lines();
    let function = lines.next()?.trim();
    let location = lines.next().unwrap_or("??:0").trim();
    let location = location.split(" (discriminator").next().unwrap_or(location);
    if function == "??" {
        return None;
    }
    let root = format!("{}/", crate::util::repo_root().display());
    let location = location.strip_prefix(root.as_str()).unwrap_or(location);
    let indent = &line[..line.len() - line.trim_start().len()];
    Some(if location.starts_with("??") {
        format!("{indent}{:#x} {function}", addr)
    } else {
        format!("{indent}{:#x} {function} at {location}", addr)
    })
}

/// Log lines shown even without -v: QEMU's own complaints (the kernel's are on the log) and the
/// kernel watchdog's reports (a lost wake-up or a stuck CPU is worth the user's eye).
fn is_important(line: &str) -> bool {
    line.starts_with("qemu-system-x86_64:")
        || line.starts_with("qemu:")
        || line.starts_with(WATCHDOG_PREFIX)
}

/// Copies the console to our stdout (or into the returned buffer), turning `\r\n` into `\n`.
fn copy_console(mut from: impl Read, capture: bool) -> std::io::Result<Vec<u8>> {
    let mut kept = Vec::new();
    let mut crlf = CrLf::default();
    let stdout = std::io::stdout();
    let mut buf = [0u8; 4096];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        let out = crlf.convert(&buf[..n]);
        if capture {
            kept.extend_from_slice(&out);
        } else {
            let mut lock = stdout.lock();
            // The reader of our stdout may be gone (`| head`); keep draining QEMU anyway.
            let _ = lock.write_all(&out).and_then(|_| lock.flush());
        }
    }
    let out = crlf.finish();
    if capture {
        kept.extend_from_slice(&out);
    } else {
        let _ = stdout.lock().write_all(&out);
    }
    Ok(kept)
}

/// Streaming `\r\n` -> `\n` conversion (a `\r` at the end of a chunk waits for the next one).
#[derive(Default)]
pub struct CrLf {
    pending_cr: bool,
}

impl CrLf {
    pub fn convert(&mut self, input: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(input.len() + 1);
        for &b in input {
            if self.pending_cr {
                self.pending_cr = false;
                if b != b'\n' {
                    out.push(b'\r');
                }
            }
            if b == b'\r' {
                self.pending_cr = true;
            } else {
                out.push(b);
            }
        }
        out
    }

    pub fn finish(&mut self) -> Vec<u8> {
        if std::mem::take(&mut self.pending_cr) {
            vec![b'\r']
        } else {
            Vec::new()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn convert_chunks(chunks: &[&[u8]]) -> Vec<u8> {
        let mut c = CrLf::default();
        let mut out = Vec::new();
        for chunk in chunks {
            out.extend(c.convert(chunk));
        }
        out.extend(c.finish());
        out
    }

    #[test]
    fn crlf_conversion() {
        assert_eq!(convert_chunks(&[b"a\r\nb\r\n"]), b"a\nb\n");
        assert_eq!(convert_chunks(&[b"a\r", b"\nb"]), b"a\nb");
        assert_eq!(convert_chunks(&[b"a\rb\r\r\n"]), b"a\rb\r\n");
        assert_eq!(convert_chunks(&[b"end\r"]), b"end\r");
        assert_eq!(convert_chunks(&[b"\r", b"\r", b"\n"]), b"\r\n");
    }

    /// Assembles a tiny PVH "kernel" that writes `console` to COM1 and `control` to COM2, then
    /// writes `exit` to the isa-debug-exit port (or halts forever if `None`).
    fn fake_kernel(
        dir: &std::path::Path,
        name: &str,
        console: &[u8],
        control: &[u8],
        exit: Option<u32>,
    ) -> PathBuf {
        let bytes =
            |b: &[u8]| b.iter().chain(&[0]).map(|x| x.to_string()).collect::<Vec<_>>().join(",");
        let exit_code = match exit {
            Some(v) => format!("mov $0xf4, %dx\n mov ${v}, %eax\n outl %eax, %dx\n"),
            None => String::new(),
        };
        let asm = format!(
            r#"
.section .note.pvh, "a", @note
.p2align 2
.long 4, 8, 18
.asciz "Xen"
.p2align 2
.quad _start32
.code32
.text
.globl _start32
_start32:
    mov $con, %esi
    mov $0x3f8, %dx
1:  lodsb
    test %al, %al
    jz 2f
    outb %al, %dx
    jmp 1b
2:  mov $ctl, %esi
    mov $0x2f8, %dx
3:  lodsb
    test %al, %al
    jz 4f
    outb %al, %dx
    jmp 3b
4:  {exit_code}
5:  hlt
    jmp 5b
.data
con: .byte {}
ctl: .byte {}
"#,
            bytes(console),
            bytes(control)
        );
        std::fs::create_dir_all(dir).unwrap();
        let source = dir.join(format!("{name}.S"));
        let elf = dir.join(name);
        std::fs::write(&source, asm).unwrap();
        let status = std::process::Command::new("gcc")
            .args([
                "-nostdlib",
                "-static",
                "-no-pie",
                "-Wl,-Ttext=0x100000",
                "-Wl,--build-id=none",
                "-Wl,-e,_start32",
                "-o",
            ])
            .arg(&elf)
            .arg(&source)
            .status()
            .unwrap();
        assert!(status.success());
        elf
    }

    fn boot_fake(dir: &std::path::Path, kernel: PathBuf, timeout: Duration) -> Outcome {
        let initrd = dir.join("initrd.cpio");
        std::fs::write(&initrd, cpio::writer::Writer::new(Vec::new()).finish().unwrap()).unwrap();
        let boot = Boot {
            accel: Accel::Tcg,
            cpu: DEFAULT_CPU.into(),
            smp: 1,
            mem: "64M".into(),
            kernel,
            initrd,
            append: String::new(),
            timeout: Some(timeout),
            console: Console::Capture,
            log_echo: LogEcho::Nothing,
            net: None,
            extra: Vec::new(),
        };
        boot.run().unwrap()
    }

    /// Boots fake kernels in QEMU: the command line, the two serial ports, the exit device,
    /// the control lines and the timeout. Skipped where QEMU or gcc are missing.
    #[test]
    fn boots_fake_kernels() {
        if crate::util::which("qemu-system-x86_64").is_none() || crate::util::which("gcc").is_none()
        {
            eprintln!("skipped: needs qemu-system-x86_64 and gcc");
            return;
        }
        let dir = std::env::temp_dir().join(format!("xtask-qemu-test-{}", std::process::id()));

        let k = fake_kernel(
            &dir,
            "ok",
            b"hello\r\nok 1\r\n",
            b"log line\n@@ user-entry\n@@ status 7\n@@ poweroff\n",
            Some(0),
        );
        let o = boot_fake(&dir, k, Duration::from_secs(60));
        assert_eq!(o.console, b"hello\nok 1\n");
        assert_eq!(o.statuses, [7]);
        assert!(o.powered_off && !o.panicked && !o.timed_out);
        assert!(o.boot_time.is_some());
        assert_eq!(o.qemu_status, Some(1));
        assert_eq!(o.log, ["log line"]);
        assert_eq!(o.failure(), None);

        let k =
            fake_kernel(&dir, "panic", b"", b"@@ panic\npanicked at boom\n  0: frame\n", Some(1));
        let o = boot_fake(&dir, k, Duration::from_secs(60));
        assert!(o.panicked && !o.powered_off);
        assert_eq!(o.qemu_status, Some(3));
        assert_eq!(o.panic_lines, ["panicked at boom", "  0: frame"]);

        let k = fake_kernel(&dir, "hang", b"zzz", b"", None);
        let o = boot_fake(&dir, k, Duration::from_secs(2));
        assert!(o.timed_out && !o.powered_off);
        assert_eq!(o.console, b"zzz");

        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// addr2line turns a return address into `function at file:line`; other lines stay as they are.
    #[test]
    fn backtrace_symbols() {
        if crate::util::which("addr2line").is_none() || crate::util::which("gcc").is_none() {
            eprintln!("skipped: needs addr2line and gcc");
            return;
        }
        let dir = std::env::temp_dir().join(format!("xtask-symbolize-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let source = dir.join("f.c");
        std::fs::write(
            &source,
            "int answer(void) {\n  return 42;\n}\nint main(void) { return answer(); }\n",
        )
        .unwrap();
        let elf = dir.join("f");
        let ok = Command::new("gcc")
            .args(["-g", "-O0", "-no-pie", "-o"])
            .arg(&elf)
            .arg(&source)
            .status()
            .unwrap();
        assert!(ok.success());
        let nm = Command::new("nm").arg(&elf).output().unwrap();
        let nm = String::from_utf8_lossy(&nm.stdout);
        let addr = nm
            .lines()
            .find(|l| l.ends_with(" T answer"))
            .and_then(|l| u64::from_str_radix(&l[..16], 16).ok())
            .unwrap();
        // As if `answer`'s first instruction were a return address + 1.
        let line = symbolize(&format!("  {:#x}", addr + 5), &elf).unwrap();
        assert!(line.starts_with(&format!("  {:#x} answer at ", addr + 5)), "{line}");
        assert!(line.contains("f.c:"), "{line}");
        assert_eq!(symbolize("kernel panic: boom", &elf), None);
        assert_eq!(symbolize("  0x1", &elf), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn control_lines() {
        let log = b"hello\n@@ user-entry\nwatchdog: a thread is stuck\n@@ status 0\n@@ status 139\n@@ panic\npanicked at foo\n  0: bt\n@@ poweroff\n";
        let state = Mutex::new(Outcome::default());
        read_log(&log[..], Instant::now(), LogEcho::Nothing, &state, None);
        let o = state.into_inner().unwrap();
        assert_eq!(o.statuses, [0, 139]);
        assert!(o.boot_time.is_some());
        assert!(o.panicked && o.powered_off);
        assert_eq!(o.panic_lines, ["panicked at foo", "  0: bt"]);
        assert_eq!(o.log.len(), 4);
        assert!(o.failure().unwrap().contains("panicked at foo"));
        assert_eq!(o.watchdog_reports(), ["watchdog: a thread is stuck"]);
    }
}
