//! Where bound unix sockets can be found: the abstract namespace (a table of names) and the file
//! system (the socket file's inode carries a `Binding`).

use alloc::collections::BTreeMap;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::any::Any;
use core::sync::atomic::{AtomicU32, Ordering};

use super::addr::UnixAddr;
use crate::error::{Errno, Result};
use crate::fs::inode::Inode;
use crate::sync::Mutex;

/// Any unix socket that can be found by name.
#[derive(Clone)]
pub enum Bound {
    Stream(Weak<super::stream::UnixStreamSocket>),
    Datagram(Weak<super::dgram::UnixDatagramSocket>),
}

impl Bound {
    fn alive(&self) -> bool {
        match self {
            Bound::Stream(w) => w.strong_count() > 0,
            Bound::Datagram(w) => w.strong_count() > 0,
        }
    }
}

/// Attached to a socket file's inode by bind.
pub struct Binding {
    socket: Mutex<Option<Bound>>,
}

static ABSTRACT: Mutex<BTreeMap<Vec<u8>, Bound>> = Mutex::new(BTreeMap::new());
static AUTOBIND_NEXT: AtomicU32 = AtomicU32::new(0);

/// Binds `addr` to `socket`. For a path, creates the socket file.
pub fn bind(addr: &UnixAddr, socket: Bound) -> Result<()> {
    match addr {
        UnixAddr::Abstract(name) => {
            let mut table = ABSTRACT.lock();
            if table.get(name).is_some_and(Bound::alive) {
                return Err(Errno::EADDRINUSE);
            }
            table.insert(name.clone(), socket);
            Ok(())
        }
        UnixAddr::Path(path) => {
            let inode = super::super::env()?.create_socket_file(path)?;
            let binding = Arc::new(Binding { socket: Mutex::new(None) });
            let make = || binding.clone() as Arc<dyn Any + Send + Sync>;
            let attached = inode.attach(&make).ok_or(Errno::EOPNOTSUPP)?;
            let binding = attached.downcast::<Binding>().map_err(|_| Errno::EADDRINUSE)?;
            *binding.socket.lock() = Some(socket);
            Ok(())
        }
        UnixAddr::Unnamed => Err(Errno::EINVAL),
    }
}

/// An unused abstract name of five hex digits, as Linux's autobind picks.
pub fn autobind_name() -> Vec<u8> {
    loop {
        let n = AUTOBIND_NEXT.fetch_add(1, Ordering::Relaxed) & 0xfffff;
        let name = alloc::format!("{:05x}", n).into_bytes();
        if !ABSTRACT.lock().get(&name).is_some_and(Bound::alive) {
            return name;
        }
    }
}

/// Removes an abstract name when its socket closes.
pub fn unbind_abstract(name: &[u8]) {
    let mut table = ABSTRACT.lock();
    if table.get(name).is_some_and(|b| !b.alive()) {
        table.remove(name);
    }
}

/// The socket bound at `addr`: ECONNREFUSED if the name exists but nobody listens there,
/// ENOENT if a path does not exist.
pub fn lookup(addr: &UnixAddr) -> Result<Bound> {
    match addr {
        UnixAddr::Abstract(name) => {
            ABSTRACT.lock().get(name).filter(|b| b.alive()).cloned().ok_or(Errno::ECONNREFUSED)
        }
        UnixAddr::Path(path) => {
            let inode: Arc<dyn Inode> = super::super::env()?.lookup_socket_file(path)?;
            let probe = || Arc::new(()) as Arc<dyn Any + Send + Sync>;
            let attached = inode.attach(&probe).ok_or(Errno::ECONNREFUSED)?;
            let binding = attached.downcast::<Binding>().map_err(|_| Errno::ECONNREFUSED)?;
            let b = binding.socket.lock().clone();
            b.filter(|b| b.alive()).ok_or(Errno::ECONNREFUSED)
        }
        UnixAddr::Unnamed => Err(Errno::EINVAL),
    }
}
