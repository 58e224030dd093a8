//! `ipcs` and `ipcrm` for the image. Debian's busybox-static is configured without these two
//! applets, so we build them ourselves from the same busybox release's source: the Debian source
//! package of the installed busybox-static (`.dsc` and upstream tarball from the Debian mirror,
//! the tarball checked against the `.dsc`'s SHA-256), configured with only `ipcs` and `ipcrm`,
//! linked statically with musl-gcc. The result, `build/busybox-ipc/busybox-ipc`, is built once.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::util::{build_dir, cpus, which, Context, Error, Result};

/// The Debian archive; `POSIX_X_DEBIAN_MIRROR` overrides it.
const DEFAULT_MIRROR: &str = "http://deb.debian.org/debian";

/// The applets we build; each becomes a link to the binary in the image.
pub const APPLETS: &[&str] = &["ipcs", "ipcrm"];

/// The configuration options we turn on in an otherwise empty (`allnoconfig`) busybox.
const OPTIONS: &[&str] = &["STATIC", "IPCS", "IPCRM"];

/// The binary, built now if it is not there yet.
pub fn binary() -> Result<PathBuf> {
    let dir = build_dir().join("busybox-ipc");
    let out = dir.join("busybox-ipc");
    if out.is_file() {
        return Ok(out);
    }
    for tool in ["curl", "tar", "make", "musl-gcc", "sha256sum", "dpkg-query"] {
        if which(tool).is_none() {
            return Err(Error::new(format!(
                "{tool} not found (needed to build ipcs/ipcrm from busybox's source)"
            )));
        }
    }
    std::fs::create_dir_all(&dir).context(|| format!("creating {}", dir.display()))?;
    let version = source_version()?;
    let mirror =
        std::env::var("POSIX_X_DEBIAN_MIRROR").unwrap_or_else(|_| DEFAULT_MIRROR.to_string());
    let pool = format!("{}/pool/main/b/busybox", mirror.trim_end_matches('/'));
    eprintln!("xtask: building {} from Debian's busybox {version} source", APPLETS.join("/"));

    let dsc = dir.join(format!("busybox_{version}.dsc"));
    download(&format!("{pool}/busybox_{version}.dsc"), &dsc)?;
    let dsc_text =
        std::fs::read_to_string(&dsc).context(|| format!("reading {}", dsc.display()))?;
    let (tarball, sha256) = orig_tarball(&dsc_text).ok_or_else(|| {
        Error::new(format!("{} names no busybox_*.orig.tar.* with a SHA-256", dsc.display()))
    })?;
    let archive = dir.join(&tarball);
    download(&format!("{pool}/{tarball}"), &archive)?;
    check_sha256(&archive, &sha256)?;

    let src = dir.join("src");
    let _ = std::fs::remove_dir_all(&src);
    std::fs::create_dir_all(&src).context(|| format!("creating {}", src.display()))?;
    run(
        Command::new("tar").arg("xf").arg(&archive).arg("--strip-components=1").arg("-C").arg(&src),
        "tar",
    )?;
    configure(&src)?;
    let jobs = format!("-j{}", cpus());
    run(
        Command::new("make").arg(&jobs).arg("CC=musl-gcc").arg("busybox").current_dir(&src),
        "make busybox",
    )?;
    std::fs::copy(src.join("busybox"), &out).context(|| format!("copying to {}", out.display()))?;
    let _ = std::fs::remove_dir_all(&src);
    let _ = std::fs::remove_file(&archive);
    Ok(out)
}

/// The source version of the installed busybox-static without its epoch, e.g. `1.35.0-4+deb12u1`
/// (binary-only rebuilds such as `+b1` have no source of their own).
fn source_version() -> Result<String> {
    let out = Command::new("dpkg-query")
        .args(["-W", "-f=${source:Version}", "busybox-static"])
        .output()
        .context(|| "running dpkg-query")?;
    let version = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if !out.status.success() || version.is_empty() {
        return Err(Error::new("dpkg-query knows no busybox-static source version"));
    }
    Ok(strip_epoch(&version).to_string())
}

fn strip_epoch(version: &str) -> &str {
    version.split_once(':').map_or(version, |(_, v)| v)
}

/// The upstream tarball of a `.dsc` and its SHA-256, from the `Checksums-Sha256:` field.
fn orig_tarball(dsc: &str) -> Option<(String, String)> {
    let mut in_field = false;
    for line in dsc.lines() {
        if line.starts_with("Checksums-Sha256:") {
            in_field = true;
            continue;
        }
        if in_field {
            if !line.starts_with(' ') {
                break;
            }
            let fields: Vec<&str> = line.split_whitespace().collect();
            if let [sha, _size, name] = fields[..] {
                if name.starts_with("busybox_") && name.contains(".orig.tar.") {
                    return Some((name.to_string(), sha.to_string()));
                }
            }
        }
    }
    None
}

fn download(url: &str, to: &Path) -> Result<()> {
    run(
        Command::new("curl").args(["-fsSL", "--retry", "3", "-o"]).arg(to).arg(url),
        &format!("downloading {url}"),
    )
}

fn check_sha256(file: &Path, want: &str) -> Result<()> {
    let out = Command::new("sha256sum").arg(file).output().context(|| "running sha256sum")?;
    let got = String::from_utf8_lossy(&out.stdout);
    if got.split_whitespace().next() != Some(want) {
        let _ = std::fs::remove_file(file);
        return Err(Error::new(format!("{}: SHA-256 does not match the .dsc's", file.display())));
    }
    Ok(())
}

/// `make allnoconfig`, then our options on, then `make oldconfig` settles what they imply
/// (answering every new question with its default).
fn configure(src: &Path) -> Result<()> {
    run(Command::new("make").arg("allnoconfig").current_dir(src), "make allnoconfig")?;
    let config = src.join(".config");
    let mut text =
        std::fs::read_to_string(&config).context(|| format!("reading {}", config.display()))?;
    for option in OPTIONS {
        let off = format!("# CONFIG_{option} is not set");
        if !text.contains(&off) {
            return Err(Error::new(format!("busybox's allnoconfig has no CONFIG_{option}")));
        }
        text = text.replace(&off, &format!("CONFIG_{option}=y"));
    }
    std::fs::write(&config, text).context(|| format!("writing {}", config.display()))?;
    let mut child = Command::new("make")
        .arg("oldconfig")
        .current_dir(src)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .context(|| "running make oldconfig")?;
    let status = child.wait().context(|| "waiting for make oldconfig")?;
    if !status.success() {
        return Err(Error::new(format!("make oldconfig failed ({status})")));
    }
    Ok(())
}

/// Runs a command with its output shown only when it fails.
fn run(cmd: &mut Command, what: &str) -> Result<()> {
    let out = cmd.output().context(|| what.to_string())?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let tail: Vec<&str> = stderr.lines().rev().take(15).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        return Err(Error::new(format!("{what} failed ({}):\n{}", out.status, tail.join("\n"))));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_is_dropped() {
        assert_eq!(strip_epoch("1:1.35.0-4+deb12u1"), "1.35.0-4+deb12u1");
        assert_eq!(strip_epoch("1.36.1-9"), "1.36.1-9");
    }

    #[test]
    fn dsc_names_the_upstream_tarball() {
        let dsc = "Format: 3.0 (quilt)\nSource: busybox\nChecksums-Sha1:\n aaa 1 busybox_1.35.0.orig.tar.bz2\n\
                   Checksums-Sha256:\n faee 2480624 busybox_1.35.0.orig.tar.bz2\n 1cac 68028 busybox_1.35.0-4.debian.tar.xz\n\
                   Files:\n bbb 1 busybox_1.35.0.orig.tar.bz2\n";
        assert_eq!(orig_tarball(dsc), Some(("busybox_1.35.0.orig.tar.bz2".into(), "faee".into())));
        assert_eq!(orig_tarball("Files:\n x 1 busybox_1.orig.tar.gz\n"), None);
    }
}
