//! `run --trace` and `run --gdb`: the QEMU arguments and kernel command line that turn on the
//! system-call trace and the debugger stub (docs/debugging.md).

use std::net::TcpListener;
use std::path::{Path, PathBuf};

use crate::util::repo_root;

/// The port of QEMU's debug console (`isa-debugcon`), where the kernel writes the trace.
pub const DEBUGCON_PORT: &str = "0xe9";

/// The kernel command-line word and QEMU arguments that trace `filter` (empty: every call) into
/// `out`.
pub fn trace_setup(filter: &str, out: &Path) -> (String, Vec<String>) {
    let filter = if filter.is_empty() { "all" } else { filter };
    let word = format!("trace={filter}");
    let args = vec![
        "-chardev".to_string(),
        format!("file,id=trace,path={}", out.display()),
        "-device".to_string(),
        format!("isa-debugcon,iobase={DEBUGCON_PORT},chardev=trace"),
    ];
    (word, args)
}

/// A free TCP port on the loopback for the gdb stub: 1234 (gdb's habit) if free, else any.
pub fn gdb_port() -> u16 {
    if TcpListener::bind(("127.0.0.1", 1234)).is_ok() {
        return 1234;
    }
    TcpListener::bind(("127.0.0.1", 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(1234)
}

/// QEMU waits at the first instruction for a debugger on `port`.
pub fn gdb_args(port: u16) -> Vec<String> {
    vec!["-gdb".to_string(), format!("tcp:127.0.0.1:{port}"), "-S".to_string()]
}

/// The gdb helper commands (`px-threads`, `px-bt`).
pub fn gdb_script() -> PathBuf {
    repo_root().join("xtask/gdb/posix-x.py")
}

/// The gdb arguments that load the kernel's symbols and the helpers and attach to `port`.
pub fn gdb_command_args(kernel: &Path, port: u16) -> Vec<String> {
    vec![
        "-q".to_string(),
        kernel.display().to_string(),
        "-ex".to_string(),
        format!("source {}", gdb_script().display()),
        "-ex".to_string(),
        format!("target remote 127.0.0.1:{port}"),
    ]
}

/// `args` as one line for a shell.
pub fn shell_line(program: &str, args: &[String]) -> String {
    let mut line = program.to_string();
    for a in args {
        line.push(' ');
        if a.chars().all(|c| c.is_ascii_alphanumeric() || "-_./:=,".contains(c)) {
            line.push_str(a);
        } else {
            line.push('\'');
            line.push_str(&a.replace('\'', "'\\''"));
            line.push('\'');
        }
    }
    line
}
