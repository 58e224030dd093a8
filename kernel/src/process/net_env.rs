//! What sockets need from processes (net::SocketEnv): the caller's credentials and the socket
//! files of bound unix sockets, created and found with the caller's cwd, umask and permissions.

use alloc::sync::Arc;

use super::creds::MAY_WRITE;
use super::{current, fileops};
use crate::error::{Errno, Result};
use crate::fs::inode::{Inode, NewNode, S_IFSOCK};
use crate::fs::path;
use crate::fs::socket::Ucred;
use crate::net::SocketEnv;

struct ProcessSocketEnv;

impl SocketEnv for ProcessSocketEnv {
    fn creds(&self) -> Ucred {
        let p = current();
        let c = p.creds.lock();
        Ucred { pid: p.pid as i32, uid: c.euid, gid: c.egid }
    }

    fn capable(&self, cap: crate::cap::Cap) -> bool {
        current().creds.lock().capable(cap)
    }

    fn create_socket_file(&self, path: &str) -> Result<Arc<dyn Inode>> {
        let p = current();
        let start = fileops::start_at(&p, fileops::AT_FDCWD, path)?;
        let (parent, name) = path::resolve_parent(&start, path)?;
        if parent.inode().lookup(&name).is_ok() {
            return Err(Errno::EADDRINUSE);
        }
        let creds = p.creds.lock().clone();
        if !creds.may_access(&parent.inode().metadata(), MAY_WRITE | 1) {
            return Err(Errno::EACCES);
        }
        let umask = p.fs().lock().umask;
        let node = NewNode {
            mode: S_IFSOCK | (0o777 & !umask),
            uid: creds.fsuid,
            gid: creds.fsgid,
            rdev: 0,
        };
        parent.inode().create(&name, node).map_err(|e| {
            if e == Errno::EEXIST {
                Errno::EADDRINUSE
            } else {
                e
            }
        })
    }

    fn lookup_socket_file(&self, path: &str) -> Result<Arc<dyn Inode>> {
        let walk = fileops::lookup_at(fileops::AT_FDCWD, path, 0)?;
        let inode = walk.inode().clone();
        let m = inode.metadata();
        if !current().creds.lock().may_access(&m, MAY_WRITE) {
            return Err(Errno::EACCES);
        }
        if m.file_type() != S_IFSOCK {
            return Err(Errno::ECONNREFUSED);
        }
        Ok(inode)
    }
}

static ENV: ProcessSocketEnv = ProcessSocketEnv;

pub fn install() {
    crate::net::set_env(&ENV);
}
