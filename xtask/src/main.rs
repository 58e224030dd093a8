//! `cargo xtask`: the host tool of POSIX-X.
//!
//! - `cargo xtask build`: build the kernel, the user programs and the initramfs;
//! - `cargo xtask run [OPTIONS] [-- CMD ARGS...]`: boot POSIX-X in QEMU (a shell, or one command);
//! - `cargo xtask test [FILTER]`: host unit tests, the guest suite on POSIX-X and on Linux;
//! - `cargo xtask lint [-v]`: formatting, clippy, and the kernel's module graph (lint.rs);
//! - `cargo xtask bench [--vs-linux] [--host] [FILTER]`: the micro-benchmarks (docs/benchmarks.md).
//!
//! The contract with the kernel is docs/HOST_INTERFACE.md.

mod bench;
mod build;
mod busybox_ipc;
mod debug;
mod debug_check;
mod deps;
mod examples;
mod host_bin;
mod image;
mod lint;
mod modgraph;
mod netcheck;
mod pty;
mod qemu;
mod real;
mod run;
mod session;
mod test;
mod unsafe_boundary;
mod util;

use std::ffi::OsString;
use std::process::ExitCode;

use util::{Error, Result};

const USAGE: &str = "\
usage: cargo xtask <command> [options]

commands:
  build [-v]                      build kernel, user programs and build/initramfs.cpio
  run [options] [-- CMD ARGS...]  boot POSIX-X; without CMD an interactive shell,
                                  with CMD run it and exit with its status
      --tcg | --kvm               choose the accelerator (default: TCG unless the CPU has vmx/svm)
      --mem SIZE                  guest memory (default 512M)
      --overlay DIR               copy DIR's tree over the initramfs root (repeatable)
      --host-bin PATH...          copy host programs in, with the shared libraries ldd
                                  lists (and Python's standard library for python3)
      --timeout SECS              give up after SECS seconds (exit 103)
      --append STR                kernel command line
      --kernel ELF                boot this kernel instead of building kernel/
      --net                       a virtio-net card (eth0, 10.0.2.15/24, fec0::15/64) on
                                  QEMU's user network with restrict=on: nothing outside
                                  is reachable but the forwards below
      --forward HOST:GUEST        host 127.0.0.1:HOST reaches guest port GUEST (TCP;
                                  repeatable; implies --net)
      --guest-forward GUEST:HOST  guest connections to 10.0.2.100:GUEST reach host
                                  127.0.0.1:HOST, which must listen before the boot
                                  (TCP; repeatable; implies --net)
      -v                          show the kernel log and the boot time
      --trace[=FILTER]            trace every system call, strace's format (docs/debugging.md);
                                  FILTER: comma-separated families (file, net, ipc, signal,
                                  process, memory), call names, pid=N
      --trace-out FILE            write the trace to FILE (default: stderr at the end)
      --gdb                       QEMU waits for gdb; prints the command that attaches
  test [-v] [--tcg|--kvm] [--kernel ELF] [FILTER]
                                  host unit tests, guest tests on POSIX-X and on Linux
  lint [-v]                       cargo fmt --check, clippy (xtask and crates/* with -D
                                  warnings; the kernel's warnings counted by lint, -v shows
                                  them) and the kernel's module graph (no cycle, layers down)
  bench [options] [FILTER]        the micro-benchmarks of user/bench on POSIX-X (median of
                                  the runs); writes target/bench/report.json
      --vs-linux                  also boot Debian's Linux kernel (apt-get download) with the
                                  same userland and QEMU settings; ratio > 1: POSIX-X better
      --host                      run them natively on this machine instead (sanity check)
      --tcg | --kvm               accelerator, as for run (default: TCG here)
      --runs N                    boots per kernel (default 5; 1 with --host)
      --seconds S                 time each benchmark aims at (default 1)
      --kernel ELF, -v            as for run
  help                            this text

exit status of `run -- CMD`: CMD's status (128+signal if killed), 101 kernel panic,
102 QEMU ended without powering off, 103 timeout.";

fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    match dispatch(args) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::from(1)
        }
    }
}

fn dispatch(args: Vec<OsString>) -> Result<u8> {
    let Some((command, rest)) = args.split_first() else {
        println!("{USAGE}");
        return Ok(2);
    };
    let rest = rest.to_vec();
    match command.to_str() {
        Some("build") => build::command(rest),
        Some("run") => run::command(rest),
        Some("test") => test::command(rest),
        Some("bench") => bench::command(rest),
        Some("lint") => lint::command(rest),
        Some("help" | "-h" | "--help") => {
            println!("{USAGE}");
            Ok(0)
        }
        _ => Err(Error::new(format!("unknown command {command:?}\n{USAGE}"))),
    }
}
