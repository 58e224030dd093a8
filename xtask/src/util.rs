//! Small helpers shared by the commands: the error type, paths, processes, argument parsing.

use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::{Child, ExitStatus};
use std::time::{Duration, Instant, SystemTime};

/// An error message for the user (printed as `xtask: MESSAGE`).
#[derive(Debug)]
pub struct Error(String);

impl Error {
    pub fn new(msg: impl Into<String>) -> Self {
        Error(msg.into())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error(e.to_string())
    }
}

pub type Result<T> = std::result::Result<T, Error>;

/// Adds context to I/O errors: `fs::read(p).context(|| format!("reading {}", p.display()))`.
pub trait Context<T> {
    fn context<S: Into<String>>(self, what: impl FnOnce() -> S) -> Result<T>;
}

impl<T, E: fmt::Display> Context<T> for std::result::Result<T, E> {
    fn context<S: Into<String>>(self, what: impl FnOnce() -> S) -> Result<T> {
        self.map_err(|e| Error(format!("{}: {e}", what().into())))
    }
}

/// The repository root (the workspace that holds `xtask/`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask has a parent dir").to_path_buf()
}

/// `build/` at the repository root, where every output of the tool goes.
pub fn build_dir() -> PathBuf {
    repo_root().join("build")
}

/// Modification time, or `None` if the file does not exist.
pub fn mtime(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// Finds an executable in `PATH`.
pub fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join(name)).find(|p| is_executable(p))
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

extern "C" {
    fn kill(pid: i32, sig: i32) -> i32;
    fn geteuid() -> u32;
}

const SIGKILL: i32 = 9;

/// Kills a whole process group (children are spawned with `process_group(0)`, so the group id
/// is the child's pid). Errors (e.g. the group is gone already) are ignored.
pub fn kill_process_group(pgid: u32) {
    // SAFETY: kill(2) with a negative pid only sends a signal; no memory is involved.
    unsafe {
        kill(-(pgid as i32), SIGKILL);
    }
}

pub fn is_root() -> bool {
    // SAFETY: geteuid(2) has no arguments and cannot fail.
    unsafe { geteuid() == 0 }
}

/// Waits for `child` until `timeout` (if any). Returns `None` on timeout; the child's process
/// group is then killed and reaped.
pub fn wait_with_timeout(
    child: &mut Child,
    timeout: Option<Duration>,
) -> std::io::Result<Option<ExitStatus>> {
    let Some(timeout) = timeout else {
        return child.wait().map(Some);
    };
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Some(status));
        }
        if Instant::now() >= deadline {
            kill_process_group(child.id());
            let _ = child.kill();
            let _ = child.wait();
            return Ok(None);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The exit code of a finished process the shell way: the code, or 128+signal.
pub fn status_code(status: ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    status.code().unwrap_or_else(|| 128 + status.signal().unwrap_or(0))
}

/// Formats a duration as seconds with one decimal: `1.3s`.
pub fn secs(d: Duration) -> String {
    format!("{:.1}s", d.as_secs_f64())
}

/// A tiny command-line reader: flags, options with a value, and positional arguments.
pub struct Args {
    args: std::iter::Peekable<std::vec::IntoIter<OsString>>,
}

impl Args {
    pub fn new(args: Vec<OsString>) -> Self {
        Args { args: args.into_iter().peekable() }
    }

    /// The next argument if `take` accepts it (an option's further values).
    pub fn next_if(&mut self, take: impl FnOnce(&OsString) -> bool) -> Option<OsString> {
        self.args.next_if(take)
    }

    /// The next argument, or `None` at the end.
    // Not `Iterator::next`: the parsers take arguments by hand, an option's value with
    // `value`/`path` in the same loop, which a `for` over an iterator would not allow.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Option<OsString> {
        self.args.next()
    }

    /// Everything that is left (after `--`).
    pub fn rest(&mut self) -> Vec<OsString> {
        self.args.by_ref().collect()
    }

    /// The value of option `name` (the next argument), as UTF-8.
    pub fn value(&mut self, name: &str) -> Result<String> {
        let v = self.args.next().ok_or_else(|| Error::new(format!("{name} needs a value")))?;
        v.into_string().map_err(|v| Error::new(format!("{name}: not UTF-8: {v:?}")))
    }

    /// The value of option `name` as a path.
    pub fn path(&mut self, name: &str) -> Result<PathBuf> {
        self.args
            .next()
            .map(PathBuf::from)
            .ok_or_else(|| Error::new(format!("{name} needs a value")))
    }
}

/// Runs `f` on every item with up to `workers` threads. `done(index, &result)` is called on the
/// calling thread in item order, as soon as the results up to that index are in. Returns the
/// results in item order.
pub fn parallel_map<T, R, F, D>(items: &[T], workers: usize, f: F, mut done: D) -> Vec<R>
where
    T: Sync,
    R: Send,
    F: Fn(&T) -> R + Sync,
    D: FnMut(usize, &R),
{
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::mpsc;

    let next = AtomicUsize::new(0);
    let mut results: Vec<Option<R>> = items.iter().map(|_| None).collect();
    std::thread::scope(|scope| {
        let (tx, rx) = mpsc::channel();
        for _ in 0..workers.max(1).min(items.len()) {
            let tx = tx.clone();
            let (next, f) = (&next, &f);
            scope.spawn(move || loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(item) = items.get(i) else { break };
                if tx.send((i, f(item))).is_err() {
                    break;
                }
            });
        }
        drop(tx);
        let mut reported = 0;
        for (i, r) in rx {
            results[i] = Some(r);
            while let Some(Some(r)) = results.get(reported) {
                done(reported, r);
                reported += 1;
            }
        }
    });
    results.into_iter().map(|r| r.expect("every item was processed")).collect()
}

/// Number of CPUs to use for parallel work.
pub fn cpus() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}
