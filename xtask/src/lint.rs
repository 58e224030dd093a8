//! `cargo xtask lint`: the checks that come before the tests (`.ci/run` runs this first).
//!
//! 1. `cargo fmt --all --check`: the whole workspace, kernel included, as rustfmt.toml says;
//! 2. clippy with `-D warnings` over xtask and the host-tested crates (all targets, tests too);
//! 3. the real programs' own formatting and lints: `cargo fmt --check` and clippy `-D warnings`
//!    in user/real/rust (its own project), `gofmt -l` in user/real/go;
//! 4. clippy over the kernel, built as `cargo xtask build` builds it (from `kernel/`, whose
//!    `.cargo/config.toml` sets the target and its flags): its warnings counted by lint;
//! 5. the kernel's module graph (modgraph.rs): no cycle, every edge pointing down the layers.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::process::{Command, Stdio};

use crate::modgraph;
use crate::util::{repo_root, Args, Error, Result};

/// Whether kernel clippy warnings fail `cargo xtask lint`. They do: the kernel is clippy-clean,
/// and a lint that is wrong somewhere is allowed there with a comment that says why.
const KERNEL_WARNINGS_FAIL: bool = true;

/// `cargo xtask lint [-v]`
pub fn command(args: Vec<OsString>) -> Result<u8> {
    let mut args = Args::new(args);
    let mut verbose = false;
    while let Some(arg) = args.next() {
        match arg.to_str() {
            Some("-v" | "--verbose") => verbose = true,
            _ => return Err(Error::new(format!("lint: unexpected argument {arg:?}"))),
        }
    }
    let mut failed = Vec::new();

    println!("lint: cargo fmt --all --check");
    if !cargo(&["fmt", "--all", "--check"], None)? {
        failed.push("formatting (run `cargo fmt --all`)");
    }

    println!("lint: clippy -D warnings (xtask, crates/*)");
    let host = [
        "clippy",
        "--quiet",
        "--workspace",
        "--exclude",
        "posix-x-kernel",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ];
    if !cargo(&host, None)? {
        failed.push("clippy (xtask, crates/*)");
    }

    // The Rust real program is its own cargo project (user/real/rust, outside the workspace).
    println!("lint: cargo fmt --check, clippy -D warnings (user/real/rust)");
    let real_rust = Some("user/real/rust");
    if !cargo(&["fmt", "--check"], real_rust)? {
        failed.push("formatting of user/real/rust (run `cargo fmt` there)");
    }
    let real_clippy = [
        "clippy",
        "--quiet",
        "--target-dir",
        "../../../build/real/rust-target",
        "--",
        "-D",
        "warnings",
    ];
    if !cargo(&real_clippy, real_rust)? {
        failed.push("clippy (user/real/rust)");
    }
    println!("lint: gofmt -l (user/real/go)");
    if !gofmt_clean("user/real/go")? {
        failed.push("formatting of user/real/go (run `gofmt -w` there)");
    }

    println!("lint: clippy (kernel)");
    match kernel_clippy(verbose)? {
        KernelClippy::Failed(why) => failed.push(why),
        KernelClippy::Warnings(counts) => {
            let total: usize = counts.values().sum();
            println!("lint: kernel clippy: {total} warnings");
            for (lint, n) in &counts {
                println!("  {n:4} {lint}");
            }
            if total > 0 && !verbose {
                println!("lint: (`cargo xtask lint -v` shows them)");
            }
            if total > 0 && KERNEL_WARNINGS_FAIL {
                failed.push("clippy (kernel)");
            }
        }
    }

    println!("lint: kernel module graph (from the top layer down)");
    let graph = modgraph::read(&repo_root().join("kernel/src"))?;
    print!("{}", modgraph::render(&graph));
    let problems = modgraph::problems(&graph);
    for p in &problems {
        println!("lint: {p}");
    }
    if !problems.is_empty() {
        failed.push("module graph");
    }

    if failed.is_empty() {
        println!("lint: ok");
        Ok(0)
    } else {
        println!("lint: FAILED: {}", failed.join(", "));
        Ok(1)
    }
}

/// Runs cargo with `args` (in `dir` under the repository, else at its root); true on success.
fn cargo(args: &[&str], dir: Option<&str>) -> Result<bool> {
    let program = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let root = repo_root();
    let status = Command::new(program)
        .current_dir(dir.map_or(root.clone(), |d| root.join(d)))
        .args(args)
        .stdin(Stdio::null())
        .status()
        .map_err(|e| Error::new(format!("cargo {}: {e}", args.join(" "))))?;
    Ok(status.success())
}

/// `gofmt -l DIR` lists no file (it prints those it would change).
fn gofmt_clean(dir: &str) -> Result<bool> {
    let output = Command::new("gofmt")
        .arg("-l")
        .arg(repo_root().join(dir))
        .stdin(Stdio::null())
        .output()
        .map_err(|e| Error::new(format!("gofmt (from golang-go): {e}")))?;
    let listed = String::from_utf8_lossy(&output.stdout);
    for file in listed.lines() {
        println!("lint: not gofmt-formatted: {file}");
    }
    Ok(output.status.success() && listed.trim().is_empty())
}

enum KernelClippy {
    Failed(&'static str),
    /// Lint name → number of warnings.
    Warnings(BTreeMap<String, usize>),
}

/// Clippy over the kernel with the flags `cargo xtask build` uses. `--cap-lints warn` turns
/// clippy's deny-by-default lints into warnings, so that one of them does not hide the others.
fn kernel_clippy(verbose: bool) -> Result<KernelClippy> {
    let program = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(program)
        .current_dir(repo_root().join("kernel"))
        .args(["clippy", "--release", "--message-format=json", "--", "--cap-lints", "warn"])
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| Error::new(format!("cargo clippy (kernel): {e}")))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let counts = count_warnings(&stdout, |rendered| {
        if verbose {
            print!("{rendered}");
        }
    });
    if !output.status.success() {
        for line in stdout.lines() {
            if let Some(rendered) = compiler_message(line).and_then(|m| {
                (m["level"] == "error").then(|| m["rendered"].as_str().unwrap_or("").to_string())
            }) {
                print!("{rendered}");
            }
        }
        return Ok(KernelClippy::Failed("clippy (kernel): the kernel does not build"));
    }
    Ok(KernelClippy::Warnings(counts))
}

/// The `message` of a cargo `compiler-message` JSON line about the kernel crate itself.
fn compiler_message(line: &str) -> Option<serde_json::Value> {
    let v: serde_json::Value = serde_json::from_str(line).ok()?;
    if v["reason"] != "compiler-message" {
        return None;
    }
    let id = v["package_id"].as_str().unwrap_or("");
    if !(id.contains("posix-x-kernel") || id.contains("/kernel#")) {
        return None;
    }
    Some(v["message"].clone())
}

/// Warning counts by lint name (`clippy::…`, or rustc's lint name) from cargo's JSON messages;
/// `show` gets each warning's rendered text.
fn count_warnings(json_lines: &str, mut show: impl FnMut(&str)) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for line in json_lines.lines() {
        let Some(message) = compiler_message(line) else { continue };
        if message["level"] != "warning" {
            continue;
        }
        // The summary ("N warnings emitted") has no code and no spans.
        let Some(code) = message["code"]["code"].as_str() else {
            if message["spans"].as_array().is_some_and(|s| !s.is_empty()) {
                *counts.entry("(unnamed)".to_string()).or_insert(0) += 1;
                show(message["rendered"].as_str().unwrap_or(""));
            }
            continue;
        };
        *counts.entry(code.to_string()).or_insert(0) += 1;
        show(message["rendered"].as_str().unwrap_or(""));
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_kernel_warnings_by_lint() {
        let kernel = r#""package_id":"path+file:///r/kernel#posix-x-kernel@0.1.0""#;
        let other = r#""package_id":"registry+https://x#spin@0.9.8""#;
        let lines = [
            format!(
                r#"{{"reason":"compiler-message",{kernel},"message":{{"level":"warning","code":{{"code":"clippy::manual_is_multiple_of"}},"spans":[{{}}],"rendered":"a\n"}}}}"#
            ),
            format!(
                r#"{{"reason":"compiler-message",{kernel},"message":{{"level":"warning","code":{{"code":"clippy::manual_is_multiple_of"}},"spans":[{{}}],"rendered":"b\n"}}}}"#
            ),
            format!(
                r#"{{"reason":"compiler-message",{kernel},"message":{{"level":"warning","code":{{"code":"dead_code"}},"spans":[{{}}],"rendered":"c\n"}}}}"#
            ),
            format!(
                r#"{{"reason":"compiler-message",{kernel},"message":{{"level":"warning","code":null,"spans":[],"rendered":"3 warnings emitted\n"}}}}"#
            ),
            format!(
                r#"{{"reason":"compiler-message",{other},"message":{{"level":"warning","code":{{"code":"clippy::x"}},"spans":[{{}}],"rendered":"d\n"}}}}"#
            ),
            r#"{"reason":"compiler-artifact"}"#.to_string(),
        ];
        let mut shown = String::new();
        let counts = count_warnings(&lines.join("\n"), |r| shown.push_str(r));
        let expected: BTreeMap<String, usize> =
            [("clippy::manual_is_multiple_of".to_string(), 2), ("dead_code".to_string(), 1)]
                .into_iter()
                .collect();
        assert_eq!(counts, expected);
        assert_eq!(shown, "a\nb\nc\n");
    }
}
