//! Host tools the build and the test runs need, and installing the missing ones (Debian).

use std::path::Path;
use std::process::Command;

use crate::util::{is_root, which, Error, Result};

/// Where busybox must be: Debian's busybox-static installs it here.
pub const BUSYBOX: &str = "/bin/busybox";

/// A host tool and the Debian package that provides it.
struct Tool {
    name: &'static str,
    package: &'static str,
    present: fn() -> bool,
}

const TOOLS: &[Tool] = &[
    Tool {
        name: "qemu-system-x86_64",
        package: "qemu-system-x86",
        present: || which("qemu-system-x86_64").is_some(),
    },
    Tool { name: "musl-gcc", package: "musl-tools", present: || which("musl-gcc").is_some() },
    Tool { name: "gcc", package: "gcc", present: || which("gcc").is_some() },
    Tool { name: "a static /bin/busybox", package: "busybox-static", present: busybox_is_static },
    // To build ipcs/ipcrm from busybox's source (busybox_ipc.rs).
    Tool { name: "curl", package: "curl", present: || which("curl").is_some() },
    Tool { name: "make", package: "make", present: || which("make").is_some() },
    Tool { name: "bzip2", package: "bzip2", present: || which("bzip2").is_some() },
    // The Go program of user/real/go (real.rs).
    Tool { name: "go", package: "golang-go", present: || which("go").is_some() },
];

/// Makes sure every host tool is there: installs the missing ones with apt-get when running as
/// root on Debian, otherwise fails with a line per missing tool saying what to install.
pub fn ensure() -> Result<()> {
    let missing: Vec<&Tool> = TOOLS.iter().filter(|t| !(t.present)()).collect();
    if missing.is_empty() {
        return Ok(());
    }
    if is_root() && which("apt-get").is_some() {
        let packages: Vec<&str> = missing.iter().map(|t| t.package).collect();
        for t in &missing {
            eprintln!("xtask: missing {}: installing {}", t.name, t.package);
        }
        apt_get(&["update"])?;
        let mut install = vec!["install", "-y", "--no-install-recommends"];
        install.extend(&packages);
        apt_get(&install)?;
        let still: Vec<&Tool> = missing.into_iter().filter(|t| !(t.present)()).collect();
        if still.is_empty() {
            return Ok(());
        }
        return Err(report(&still));
    }
    Err(report(&missing))
}

fn report(missing: &[&Tool]) -> Error {
    let lines: Vec<String> = missing
        .iter()
        .map(|t| format!("missing {}: install it with: sudo apt-get install {}", t.name, t.package))
        .collect();
    Error::new(lines.join("\nxtask: "))
}

fn apt_get(args: &[&str]) -> Result<()> {
    eprintln!("xtask: running: apt-get {}", args.join(" "));
    let status = Command::new("apt-get")
        .args(args)
        .env("DEBIAN_FRONTEND", "noninteractive")
        .status()
        .map_err(|e| Error::new(format!("apt-get: {e}")))?;
    if !status.success() {
        return Err(Error::new(format!("apt-get {} failed ({status})", args.join(" "))));
    }
    Ok(())
}

/// True if /bin/busybox exists and is a statically linked ELF (no PT_INTERP program header).
pub fn busybox_is_static() -> bool {
    std::fs::read(BUSYBOX).map(|elf| is_static_elf(&elf)).unwrap_or(false)
}

/// True for a 64-bit little-endian ELF without a PT_INTERP (dynamic loader) segment.
pub fn is_static_elf(elf: &[u8]) -> bool {
    const PT_INTERP: u32 = 3;
    let u16_at = |o: usize| elf.get(o..o + 2).map(|b| u16::from_le_bytes([b[0], b[1]]) as usize);
    let u32_at = |o: usize| elf.get(o..o + 4).map(|b| u32::from_le_bytes(b.try_into().unwrap()));
    let u64_at =
        |o: usize| elf.get(o..o + 8).map(|b| u64::from_le_bytes(b.try_into().unwrap()) as usize);
    if elf.get(..6) != Some(b"\x7fELF\x02\x01") {
        return false;
    }
    let (Some(phoff), Some(phentsize), Some(phnum)) = (u64_at(32), u16_at(54), u16_at(56)) else {
        return false;
    };
    (0..phnum).all(|i| match u32_at(phoff + i * phentsize) {
        Some(p_type) => p_type != PT_INTERP,
        None => false,
    })
}

/// For error messages about a file that should come from a package.
pub fn hint_busybox() -> String {
    if Path::new(BUSYBOX).exists() {
        format!("{BUSYBOX} is not statically linked: install busybox-static (sudo apt-get install busybox-static)")
    } else {
        format!(
            "{BUSYBOX} is missing: install busybox-static (sudo apt-get install busybox-static)"
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal ELF64 header with program headers of the given types.
    fn elf(types: &[u32]) -> Vec<u8> {
        let mut e = vec![0u8; 64];
        e[..6].copy_from_slice(b"\x7fELF\x02\x01");
        e[32..40].copy_from_slice(&64u64.to_le_bytes()); // e_phoff
        e[54..56].copy_from_slice(&56u16.to_le_bytes()); // e_phentsize
        e[56..58].copy_from_slice(&(types.len() as u16).to_le_bytes()); // e_phnum
        for &t in types {
            let mut ph = vec![0u8; 56];
            ph[..4].copy_from_slice(&t.to_le_bytes());
            e.extend(ph);
        }
        e
    }

    #[test]
    fn static_elf_detection() {
        assert!(is_static_elf(&elf(&[1, 1, 4])));
        assert!(!is_static_elf(&elf(&[6, 3, 1])));
        assert!(!is_static_elf(b"not an elf"));
        assert!(!is_static_elf(b""));
        let mut truncated = elf(&[1, 1]);
        truncated.truncate(100);
        assert!(!is_static_elf(&truncated));
    }
}
