//! `--host-bin PATH`: a program of this host in the image, with what it needs to start: the
//! shared libraries `ldd` lists (the dynamic linker included) at the same paths, symbolic links
//! on the way kept as links, and for a Python interpreter its standard library (without the
//! tests and the parts that need what the image lacks: Tk, IDLE, pip's wheels, caches).

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::image::Tree;
use crate::util::{Context, Error, Result};

/// Directories of Python's standard library left out of the image.
const PYTHON_SKIP: [&str; 14] = [
    "__pycache__",
    "test",
    "tests",
    "idlelib",
    "tkinter",
    "turtledemo",
    "lib2to3",
    "ensurepip",
    "pydoc_data",
    "distutils",
    "site-packages",
    "dist-packages",
    "venv",
    "config-3",
];

/// Adds the host program `program` at its own path, and everything it needs.
pub fn add(tree: &mut Tree, program: &Path) -> Result<()> {
    if !program.is_absolute() {
        return Err(Error::new(format!("--host-bin {}: give an absolute path", program.display())));
    }
    let resolved = add_following_links(tree, program)?;
    add_libraries(tree, &resolved)?;
    let name = resolved.file_name().and_then(|n| n.to_str()).unwrap_or("");
    if name.starts_with("python3") {
        add_python_library(tree, &resolved)?;
    }
    Ok(())
}

/// Adds the shared libraries of the host executable `program` (as `ldd` lists them, the
/// dynamic linker at its path included) at their host paths. A static program has none.
pub fn add_libraries(tree: &mut Tree, program: &Path) -> Result<()> {
    let out = Command::new("ldd").arg(program).output().context(|| "running ldd")?;
    // ldd fails on a static executable ("not a dynamic executable"): nothing to add.
    if !out.status.success() {
        return Ok(());
    }
    for path in ldd_paths(&String::from_utf8_lossy(&out.stdout)) {
        add_following_links(tree, Path::new(&path))?;
    }
    Ok(())
}

/// The files in `ldd`'s output: `name => /path (0x...)` and `/path (0x...)` lines (the vDSO,
/// which has no file, and `not found` lines are left out).
fn ldd_paths(output: &str) -> Vec<String> {
    output
        .lines()
        .filter_map(|line| {
            let line = line.trim();
            let file = line.split_once("=>").map_or(line, |(_, f)| f.trim());
            let path = file.split(" (").next()?.trim();
            path.starts_with('/').then(|| path.to_string())
        })
        .collect()
}

/// Adds `path` to the tree: each symbolic link met at its last component as a link, then the
/// file it leads to. Returns the file's path.
fn add_following_links(tree: &mut Tree, path: &Path) -> Result<PathBuf> {
    let mut path = path.to_path_buf();
    for _ in 0..16 {
        let name = guest_path(&path)?;
        let meta = std::fs::symlink_metadata(&path)
            .context(|| format!("--host-bin: reading {}", path.display()))?;
        if meta.file_type().is_symlink() {
            let target = std::fs::read_link(&path)?;
            tree.symlink(&name, target.to_str().ok_or_else(|| not_utf8(&target))?);
            path = match path.parent() {
                Some(dir) if target.is_relative() => dir.join(&target),
                _ => target,
            };
            continue;
        }
        let data = std::fs::read(&path).context(|| format!("reading {}", path.display()))?;
        tree.file(&name, meta.permissions().mode() & 0o7777, data);
        return Ok(path);
    }
    Err(Error::new(format!("--host-bin {}: too many symbolic links", path.display())))
}

fn guest_path(path: &Path) -> Result<String> {
    path.to_str().map(str::to_string).ok_or_else(|| not_utf8(path))
}

fn not_utf8(path: &Path) -> Error {
    Error::new(format!("--host-bin: {} is not UTF-8", path.display()))
}

/// Python's standard library, where the interpreter itself says it is.
fn add_python_library(tree: &mut Tree, python: &Path) -> Result<()> {
    let out = Command::new(python)
        .args(["-S", "-c", "import os; print(os.path.dirname(os.__file__))"])
        .output()
        .context(|| format!("running {}", python.display()))?;
    let dir = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if !out.status.success() || !dir.starts_with('/') {
        return Err(Error::new(format!("{}: cannot find its standard library", python.display())));
    }
    add_tree(tree, Path::new(&dir))
}

fn add_tree(tree: &mut Tree, dir: &Path) -> Result<()> {
    tree.dir(&guest_path(dir)?, 0o755);
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .context(|| format!("reading {}", dir.display()))?
        .collect::<std::io::Result<_>>()?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_str().unwrap_or("");
        let meta = std::fs::symlink_metadata(&path)?;
        // lib-dynload's test modules: large and of no use outside CPython's own tests.
        if name.starts_with("_test") || name.starts_with("xxlimited") {
            continue;
        }
        if meta.is_dir() {
            if !PYTHON_SKIP.iter().any(|skip| name.starts_with(skip)) {
                add_tree(tree, &path)?;
            }
        } else if meta.is_file() || meta.file_type().is_symlink() {
            add_following_links(tree, &path)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ldd_output_gives_the_files() {
        let out = "\tlinux-vdso.so.1 (0x00007ffd)\n\
                   \tlibm.so.6 => /lib/x86_64-linux-gnu/libm.so.6 (0x00007f2d)\n\
                   \tlibgone.so => not found\n\
                   \t/lib64/ld-linux-x86-64.so.2 (0x00007f2da3cc7000)\n";
        assert_eq!(
            ldd_paths(out),
            ["/lib/x86_64-linux-gnu/libm.so.6", "/lib64/ld-linux-x86-64.so.2"]
        );
        assert!(ldd_paths("\tstatically linked\n").is_empty());
    }
}
