//! Sockets. Unix domain sockets are our own code (`unix`); what a socket needs from the
//! process layer (credentials, creating and finding socket files) comes through `SocketEnv`,
//! installed at boot, because `net` sits below `process` (DESIGN.md §1).

pub mod inet;
pub mod netlink;
pub mod options;
pub mod unix;

use alloc::sync::Arc;

use spin::Once;

use crate::error::{Errno, Result};
use crate::fs::inode::Inode;
use crate::fs::socket::Ucred;

pub trait SocketEnv: Send + Sync {
    /// The caller's pid, effective uid and gid.
    fn creds(&self) -> Ucred;
    /// Has the caller `cap` in its effective set?
    fn capable(&self, cap: crate::cap::Cap) -> bool;
    /// Creates the socket file at `path` for bind (EADDRINUSE if it exists).
    fn create_socket_file(&self, path: &str) -> Result<Arc<dyn Inode>>;
    /// Finds the socket file at `path` for connect/sendto (write permission needed).
    fn lookup_socket_file(&self, path: &str) -> Result<Arc<dyn Inode>>;
}

static ENV: Once<&'static dyn SocketEnv> = Once::new();

pub fn set_env(env: &'static dyn SocketEnv) {
    ENV.call_once(|| env);
}

pub fn env() -> Result<&'static dyn SocketEnv> {
    ENV.get().copied().ok_or(Errno::EAFNOSUPPORT)
}
