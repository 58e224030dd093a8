//! The kernel's unsafe boundary (docs/ARCHITECTURE.md, "The unsafe boundary"): `unsafe` only in
//! `kernel/src/arch/` and `kernel/src/mm/`. The compiler enforces it — the crate root says
//! `#![deny(unsafe_code)]` and only the `arch` and `mm` module declarations allow it — and these
//! host tests check that the configuration stays so:
//!
//! - `unsafe_code_is_denied_outside_arch_and_mm` (always run, instant): the crate-level deny is
//!   there, and no file outside arch/ and mm/ allows the lint back in;
//! - `unsafe_block_outside_arch_and_mm_fails_to_build` (`#[ignore]`d, about a minute the first
//!   time): copies the sources, adds an `unsafe` block to `fs/pipe.rs` and checks that the kernel
//!   no longer builds. Run it with
//!   `cargo test -p xtask unsafe_boundary -- --include-ignored`.

#[cfg(test)]
mod tests {
    use std::fs;
    use std::path::{Path, PathBuf};
    use std::process::Command;

    use crate::util::repo_root;

    fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in fs::read_dir(dir).expect("kernel source directory") {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                rust_files(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }

    #[test]
    fn unsafe_code_is_denied_outside_arch_and_mm() {
        let src = repo_root().join("kernel/src");
        let main = fs::read_to_string(src.join("main.rs")).expect("kernel/src/main.rs");
        assert!(main.contains("#![deny(unsafe_code)]"), "main.rs must deny unsafe_code");
        // The only allowances are on the `arch` and `mm` declarations.
        let lines: Vec<&str> = main.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            if line.contains("allow(unsafe_code)") {
                let next = lines[i + 1..]
                    .iter()
                    .find(|l| !l.trim_start().starts_with("#["))
                    .expect("an item after the attribute");
                assert!(
                    next.trim() == "pub mod arch;" || next.trim() == "pub mod mm;",
                    "main.rs allows unsafe_code on `{next}`"
                );
            }
        }
        let mut files = Vec::new();
        rust_files(&src, &mut files);
        for f in files {
            let rel = f.strip_prefix(&src).expect("under kernel/src");
            if rel.starts_with("arch") || rel.starts_with("mm") || rel == Path::new("main.rs") {
                continue;
            }
            let text = fs::read_to_string(&f).expect("source file");
            for word in ["allow(unsafe_code)", "expect(unsafe_code)", "warn(unsafe_code)"] {
                assert!(!text.contains(word), "{} re-enables unsafe code ({word})", rel.display());
            }
        }
    }

    fn copy_dir(from: &Path, to: &Path) {
        fs::create_dir_all(to).expect("create directory");
        for entry in fs::read_dir(from).expect("read directory") {
            let entry = entry.expect("directory entry");
            let (src, dst) = (entry.path(), to.join(entry.file_name()));
            if entry.file_name() == "target" {
                continue;
            }
            if src.is_dir() {
                copy_dir(&src, &dst);
            } else {
                fs::copy(&src, &dst).expect("copy file");
            }
        }
    }

    #[test]
    #[ignore = "builds the kernel (about a minute the first time)"]
    fn unsafe_block_outside_arch_and_mm_fails_to_build() {
        let root = repo_root();
        let probe = root.join("target/unsafe-probe");
        let tree = probe.join("tree");
        let _ = fs::remove_dir_all(&tree);
        for dir in ["kernel", "crates"] {
            copy_dir(&root.join(dir), &tree.join(dir));
        }
        for file in ["Cargo.toml", "Cargo.lock", "rustfmt.toml"] {
            fs::copy(root.join(file), tree.join(file)).expect("copy workspace file");
        }
        // The workspace names xtask as a member: a stub is enough.
        fs::create_dir_all(tree.join("xtask/src")).expect("xtask stub");
        fs::copy(root.join("xtask/Cargo.toml"), tree.join("xtask/Cargo.toml")).expect("copy");
        fs::write(tree.join("xtask/src/main.rs"), "fn main() {}\n").expect("xtask stub");

        let check = |label: &str| {
            let out = Command::new("cargo")
                .args(["check", "--release", "--offline", "--message-format=short"])
                .current_dir(tree.join("kernel"))
                .env("CARGO_TARGET_DIR", probe.join("target"))
                .output()
                .expect("running cargo check");
            (out.status.success(), format!("{label}: {}", String::from_utf8_lossy(&out.stderr)))
        };
        let (ok, log) = check("unchanged sources");
        assert!(ok, "{log}");

        let pipe = tree.join("kernel/src/fs/pipe.rs");
        let mut text = fs::read_to_string(&pipe).expect("pipe.rs");
        text.push_str("\npub fn probe() -> u8 {\n    unsafe { *(8 as *const u8) }\n}\n");
        fs::write(&pipe, text).expect("write pipe.rs");
        let (ok, log) = check("with an unsafe block in fs/pipe.rs");
        assert!(!ok, "the kernel built with an unsafe block outside arch/ and mm/");
        assert!(log.contains("usage of an `unsafe` block"), "{log}");
    }
}
