//! The kernel's first thread after boot: runs the commands of the batch file
//! `/etc/posix-x/run` one after another (docs/HOST_INTERFACE.md), or `init` as PID 1, and
//! powers off when they are done.

use alloc::string::String;
use alloc::vec::Vec;

use crate::fs::path::{self, Walk};

const BATCH_FILE: &str = "/etc/posix-x/run";
const SEARCH_PATH: [&str; 4] = ["/bin", "/sbin", "/usr/bin", "/usr/sbin"];

fn environment() -> Vec<String> {
    ["PATH=/bin:/sbin:/usr/bin:/usr/sbin", "HOME=/", "TERM=vt100"].iter().map(|s| String::from(*s)).collect()
}

fn read_file(path: &str) -> Option<Vec<u8>> {
    let root = crate::fs::root();
    let walk = path::resolve(root, &Walk::at(root), path, true).ok()?;
    let mut data = alloc::vec![0u8; walk.inode().size() as usize];
    let n = walk.inode().read_into(0, &mut data).ok()?;
    data.truncate(n);
    Some(data)
}

/// Commands separated by 0x1e, arguments by 0x1f.
fn parse_batch(data: &[u8]) -> Vec<Vec<String>> {
    data.split(|&b| b == 0x1e)
        .filter(|c| !c.is_empty())
        .map(|c| c.split(|&b| b == 0x1f).map(|a| String::from_utf8_lossy(a).into_owned()).collect())
        .collect()
}

/// Finds `name` in the search path unless it contains a slash.
fn find_program(name: &str) -> Option<String> {
    if name.contains('/') {
        return Some(String::from(name));
    }
    let root = crate::fs::root();
    SEARCH_PATH.iter().map(|dir| alloc::format!("{}/{}", dir, name)).find(|p| {
        path::resolve(root, &Walk::at(root), p, true).is_ok_and(|w| !w.inode().is_dir())
    })
}

/// Runs one command to completion; returns the exit code or 128+signal.
fn run(argv: &[String], first: &mut bool) -> i32 {
    let Some(path) = argv.first().and_then(|a| find_program(a)) else {
        crate::log!("{}: command not found", argv.first().map(String::as_str).unwrap_or(""));
        return 127;
    };
    let proc = match super::spawn(&path, argv, &environment(), 0) {
        Ok(p) => p,
        Err(e) => {
            crate::log!("{}: cannot execute: {:?}", path, e);
            return if e == crate::error::Errno::ENOENT { 127 } else { 126 };
        }
    };
    if core::mem::take(first) {
        crate::control!("user-entry");
    }
    let status = proc
        .exited
        .wait_until(|| *proc.exit_status.lock(), None)
        .unwrap_or(0x7f);
    if status & 0x7f == 0 { (status >> 8) & 0xff } else { 128 + (status & 0x7f) }
}

pub extern "C" fn main(_: u64) -> ! {
    let mut first = true;
    let commands = match read_file(BATCH_FILE) {
        Some(data) => parse_batch(&data),
        None => {
            let init = crate::cmdline_value("init").unwrap_or("/init");
            alloc::vec![alloc::vec![String::from(init)]]
        }
    };
    for argv in commands {
        let status = run(&argv, &mut first);
        crate::control!("status {}", status);
    }
    crate::control!("poweroff");
    crate::arch::power::exit_qemu(0)
}
