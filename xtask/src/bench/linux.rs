//! The Linux side of `--vs-linux`: Debian's own kernel, fetched with `apt-get download` into
//! `build/linux/` and unpacked there with `dpkg-deb -x` (never installed), and the `/init` that
//! runs the benchmarks under it.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::util::{build_dir, is_root, which, Context, Error, Result};

/// The metapackage that names the current kernel of the release.
const METAPACKAGE: &str = "linux-image-amd64";

/// Kernel command line: the console on COM1 like POSIX-X's, no CPU-vulnerability mitigations
/// (as kernel projects compare), no boot chatter, power off (`-no-reboot`) on a panic.
pub const APPEND: &str = "console=ttyS0 mitigations=off quiet panic=-1";

/// A Linux kernel ready to boot.
pub struct LinuxKernel {
    pub vmlinuz: PathBuf,
    /// The package it came from, e.g. `linux-image-6.1.0-56-amd64`.
    pub package: String,
}

/// The kernel in `build/linux/`: unpacked before, or downloaded and unpacked now.
pub fn kernel() -> Result<LinuxKernel> {
    let dir = build_dir().join("linux");
    let root = dir.join("root");
    if let Some(found) = find_unpacked(&root)? {
        return Ok(found);
    }
    for tool in ["apt-get", "apt-cache", "dpkg-deb"] {
        if which(tool).is_none() {
            return Err(Error::new(format!(
                "{tool} not found: fetching Debian's {METAPACKAGE} needs apt and dpkg"
            )));
        }
    }
    let package = resolve_metapackage()?;
    std::fs::create_dir_all(&dir).context(|| format!("creating {}", dir.display()))?;
    eprintln!("xtask: downloading {package} ({METAPACKAGE}) into {}", dir.display());
    run(
        Command::new("apt-get").arg("download").arg(&package).current_dir(&dir),
        "apt-get download",
    )?;
    let deb =
        find_file(&dir, |name| name.starts_with(&format!("{package}_")) && name.ends_with(".deb"))?
            .ok_or_else(|| {
                Error::new(format!("apt-get download {package} left no .deb in {}", dir.display()))
            })?;
    let _ = std::fs::remove_dir_all(&root);
    run(Command::new("dpkg-deb").arg("-x").arg(&deb).arg(&root), "dpkg-deb -x")?;
    // Only boot/ is needed: drop the modules (hundreds of MB) and the package file.
    for unneeded in ["lib", "usr"] {
        let _ = std::fs::remove_dir_all(root.join(unneeded));
    }
    let _ = std::fs::remove_file(&deb);
    find_unpacked(&root)?
        .ok_or_else(|| Error::new(format!("{} holds no boot/vmlinuz-*", deb.display())))
}

/// `linux-image-amd64` depends on the real package, `linux-image-6.x.y-N-amd64`. Without package
/// lists (a fresh machine) `apt-get update` runs first when we are root.
fn resolve_metapackage() -> Result<String> {
    match depends_of(METAPACKAGE) {
        Some(p) => Ok(p),
        None if is_root() => {
            eprintln!("xtask: no package lists for {METAPACKAGE}: running apt-get update");
            run(Command::new("apt-get").arg("update"), "apt-get update")?;
            depends_of(METAPACKAGE).ok_or_else(|| {
                Error::new(format!("apt-cache knows no {METAPACKAGE} even after apt-get update"))
            })
        }
        None => Err(Error::new(format!(
            "apt-cache knows no {METAPACKAGE}: run apt-get update as root first"
        ))),
    }
}

/// The `linux-image-*` package that `apt-cache depends PACKAGE` lists.
fn depends_of(package: &str) -> Option<String> {
    let out = Command::new("apt-cache").args(["depends", package]).output().ok()?;
    if !out.status.success() {
        return None;
    }
    String::from_utf8_lossy(&out.stdout).lines().find_map(|line| {
        let dep = line.trim().strip_prefix("Depends:")?.trim();
        dep.starts_with("linux-image-").then(|| dep.trim_matches(['<', '>']).to_string())
    })
}

fn find_unpacked(root: &Path) -> Result<Option<LinuxKernel>> {
    let boot = root.join("boot");
    if !boot.is_dir() {
        return Ok(None);
    }
    let vmlinuz = find_file(&boot, |name| name.starts_with("vmlinuz-"))?;
    Ok(vmlinuz.map(|vmlinuz| {
        let version = vmlinuz
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .trim_start_matches("vmlinuz-")
            .to_string();
        LinuxKernel { vmlinuz, package: format!("linux-image-{version}") }
    }))
}

/// The first file in `dir` (sorted) whose name satisfies `wanted`.
fn find_file(dir: &Path, wanted: impl Fn(&str) -> bool) -> Result<Option<PathBuf>> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .context(|| format!("reading {}", dir.display()))?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| wanted(name))
        .collect();
    names.sort();
    Ok(names.first().map(|name| dir.join(name)))
}

fn run(cmd: &mut Command, what: &str) -> Result<()> {
    let status = cmd.status().context(|| format!("running {what}"))?;
    if !status.success() {
        return Err(Error::new(format!("{what} failed ({status})")));
    }
    Ok(())
}

/// `/init` for Linux, a busybox sh script: a console (the initramfs has no /dev/console, so
/// the kernel starts it with none), /proc for the runner's meminfo, the loopback interface up
/// (Linux starts with `lo` down; POSIX-X's is always up), the runner, power off.
pub fn init_script(runner_command: &[String]) -> String {
    format!(
        "#!/bin/sh\n\
         # Written by `cargo xtask bench --vs-linux` (xtask/src/bench/linux.rs).\n\
         mount -t devtmpfs dev /dev\n\
         exec </dev/console >/dev/console 2>&1\n\
         mount -t proc proc /proc\n\
         ip link set lo up\n\
         {}\n\
         poweroff -f\n",
        runner_command.join(" ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn init_runs_the_runner_then_powers_off() {
        let script =
            init_script(&["/bench/tools/runner".into(), "-t".into(), "1".into(), "/bench".into()]);
        assert!(script.starts_with("#!/bin/sh\n"));
        let runner = script.find("/bench/tools/runner -t 1 /bench\n").unwrap();
        assert!(script.find("mount -t proc").unwrap() < runner);
        assert!(script.find("ip link set lo up").unwrap() < runner);
        assert!(script.ends_with("poweroff -f\n"));
    }
}
