//! The /proc directory itself: the global files, `self`, /proc/sys, and one directory per process
//! (zombies included).

use alloc::format;
use alloc::string::{String, ToString};
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::any::Any;

use super::link::Link;
use super::pid::PidDir;
use super::system_files as sf;
use super::tree::{self, Entry, Node};
use super::{caller, ino, metadata, Owner, ProcFs};
use crate::error::{Errno, Result};
use crate::fs::inode::{
    dtype_of, numbered_positions, DirEntry, FileSystem, Inode, Metadata, S_IFDIR, S_IFLNK,
};
use crate::process;

static GLOBAL: &[Entry] = &[
    Entry { id: 1, name: "cpuinfo", node: Node::File(sf::cpuinfo, 0o444) },
    Entry { id: 2, name: "filesystems", node: Node::File(sf::filesystems, 0o444) },
    Entry { id: 3, name: "loadavg", node: Node::File(sf::loadavg, 0o444) },
    Entry { id: 4, name: "meminfo", node: Node::File(sf::meminfo, 0o444) },
    Entry { id: 5, name: "mounts", node: Node::Link(sf::mounts_link) },
    Entry { id: 6, name: "stat", node: Node::File(sf::stat, 0o444) },
    Entry { id: 7, name: "uptime", node: Node::File(sf::uptime, 0o444) },
    Entry { id: 8, name: "version", node: Node::File(sf::version, 0o444) },
    Entry { id: 9, name: "sys", node: Node::Dir(SYS) },
    Entry { id: 10, name: "sysvipc", node: Node::Dir(super::sysvipc::DIR) },
    Entry { id: 11, name: "locks", node: Node::File(sf::locks, 0o444) },
    Entry { id: 12, name: "net", node: Node::Dir(super::net::DIR) },
];

static SYS: &[Entry] = &[
    Entry { id: 20, name: "fs", node: Node::Dir(SYS_FS) },
    Entry { id: 21, name: "kernel", node: Node::Dir(SYS_KERNEL) },
    Entry { id: 22, name: "vm", node: Node::Dir(SYS_VM) },
    Entry { id: 80, name: "net", node: Node::Dir(SYS_NET) },
];

static SYS_NET: &[Entry] = &[
    Entry { id: 81, name: "core", node: Node::Dir(SYS_NET_CORE) },
    Entry { id: 82, name: "ipv4", node: Node::Dir(SYS_NET_IPV4) },
];

/// Socket buffer defaults and limits (docs/inet.md).
static SYS_NET_CORE: &[Entry] = &[
    Entry {
        id: 83,
        name: "rmem_default",
        node: Node::Sysctl(sf::rmem_default, sf::set_rmem_default),
    },
    Entry { id: 84, name: "rmem_max", node: Node::Sysctl(sf::rmem_max, sf::set_rmem_max) },
    Entry {
        id: 85,
        name: "wmem_default",
        node: Node::Sysctl(sf::wmem_default, sf::set_wmem_default),
    },
    Entry { id: 86, name: "wmem_max", node: Node::Sysctl(sf::wmem_max, sf::set_wmem_max) },
    Entry { id: 89, name: "somaxconn", node: Node::Sysctl(sf::somaxconn, sf::set_somaxconn) },
];

static SYS_NET_IPV4: &[Entry] = &[
    Entry {
        id: 212,
        name: "ip_local_port_range",
        node: Node::File(sf::ip_local_port_range, 0o644),
    },
    Entry { id: 87, name: "tcp_rmem", node: Node::File(sf::tcp_rmem, 0o444) },
    Entry { id: 88, name: "tcp_wmem", node: Node::File(sf::tcp_wmem, 0o444) },
];

static SYS_VM: &[Entry] = &[
    Entry {
        id: 70,
        name: "max_map_count",
        node: Node::Sysctl(sf::max_map_count, sf::set_max_map_count),
    },
    Entry { id: 213, name: "overcommit_memory", node: Node::File(sf::overcommit_memory, 0o644) },
    Entry { id: 214, name: "overcommit_ratio", node: Node::File(sf::overcommit_ratio, 0o644) },
];

static SYS_FS: &[Entry] = &[
    Entry { id: 33, name: "file-max", node: Node::File(sf::file_max, 0o644) },
    Entry { id: 34, name: "file-nr", node: Node::File(sf::file_nr, 0o444) },
    Entry { id: 30, name: "nr_open", node: Node::File(sf::nr_open, 0o644) },
    Entry { id: 31, name: "pipe-max-size", node: Node::File(sf::pipe_max_size, 0o644) },
    Entry { id: 217, name: "inotify", node: Node::Dir(SYS_FS_INOTIFY) },
    Entry { id: 32, name: "mqueue", node: Node::Dir(SYS_FS_MQUEUE) },
    Entry {
        id: 215,
        name: "pipe-user-pages-hard",
        node: Node::File(sf::pipe_user_pages_hard, 0o644),
    },
    Entry {
        id: 216,
        name: "pipe-user-pages-soft",
        node: Node::File(sf::pipe_user_pages_soft, 0o644),
    },
];

/// inotify's limits (fs/inotify.rs), writable by root.
static SYS_FS_INOTIFY: &[Entry] = &[
    Entry {
        id: 218,
        name: "max_queued_events",
        node: Node::Sysctl(sf::inotify_max_queued_events, sf::set_inotify_max_queued_events),
    },
    Entry {
        id: 219,
        name: "max_user_instances",
        node: Node::Sysctl(sf::inotify_max_user_instances, sf::set_inotify_max_user_instances),
    },
    Entry {
        id: 220,
        name: "max_user_watches",
        node: Node::Sysctl(sf::inotify_max_user_watches, sf::set_inotify_max_user_watches),
    },
];

/// POSIX message queue limits (read-only here).
static SYS_FS_MQUEUE: &[Entry] = &[
    Entry { id: 60, name: "msg_default", node: Node::File(sf::mq_msg_default, 0o644) },
    Entry { id: 61, name: "msg_max", node: Node::File(sf::mq_msg_max, 0o644) },
    Entry { id: 62, name: "msgsize_default", node: Node::File(sf::mq_msgsize_default, 0o644) },
    Entry { id: 63, name: "msgsize_max", node: Node::File(sf::mq_msgsize_max, 0o644) },
    Entry { id: 64, name: "queues_max", node: Node::File(sf::mq_queues_max, 0o644) },
];

static SYS_KERNEL: &[Entry] = &[
    Entry { id: 40, name: "hostname", node: Node::File(sf::hostname, 0o644) },
    Entry { id: 41, name: "ostype", node: Node::File(sf::ostype, 0o444) },
    Entry { id: 42, name: "osrelease", node: Node::File(sf::osrelease, 0o444) },
    Entry { id: 43, name: "pid_max", node: Node::File(sf::pid_max, 0o644) },
    Entry { id: 44, name: "threads-max", node: Node::Sysctl(sf::threads_max, sf::set_threads_max) },
    Entry { id: 45, name: "cap_last_cap", node: Node::File(sf::cap_last_cap, 0o444) },
    Entry { id: 46, name: "dmesg_restrict", node: Node::File(sf::dmesg_restrict, 0o644) },
    Entry { id: 47, name: "domainname", node: Node::File(sf::domainname, 0o644) },
    Entry { id: 48, name: "tainted", node: Node::File(sf::tainted, 0o644) },
    Entry { id: 200, name: "msgmax", node: Node::File(sf::msgmax, 0o644) },
    Entry { id: 201, name: "msgmnb", node: Node::File(sf::msgmnb, 0o644) },
    Entry { id: 202, name: "msgmni", node: Node::File(sf::msgmni, 0o644) },
    Entry { id: 203, name: "ngroups_max", node: Node::File(sf::ngroups_max, 0o444) },
    Entry { id: 204, name: "random", node: Node::Dir(SYS_KERNEL_RANDOM) },
    Entry { id: 205, name: "sem", node: Node::File(sf::sem, 0o644) },
    Entry { id: 206, name: "shmall", node: Node::File(sf::shmall, 0o644) },
    Entry { id: 207, name: "shmmax", node: Node::File(sf::shmmax, 0o644) },
    Entry { id: 208, name: "shmmni", node: Node::File(sf::shmmni, 0o644) },
];

static SYS_KERNEL_RANDOM: &[Entry] = &[
    Entry { id: 209, name: "boot_id", node: Node::File(sf::boot_id, 0o444) },
    Entry { id: 210, name: "uuid", node: Node::File(sf::uuid, 0o444) },
];

/// The inode number of `self` (not in the table: its target depends on the caller).
const SELF_INO: u64 = ino::GLOBAL + 100;

pub struct RootDir {
    fs: Arc<ProcFs>,
}

impl RootDir {
    pub fn new(fs: Arc<ProcFs>) -> Arc<RootDir> {
        Arc::new(RootDir { fs })
    }

    fn self_link(&self) -> Arc<dyn Inode> {
        Link::new(
            self.fs.clone(),
            SELF_INO,
            Owner::Root,
            Arc::new(|| caller().map(|p| p.pid.to_string()).ok_or(Errno::ENOENT)),
        )
    }
}

/// A decimal pid as Linux accepts it in /proc: digits only, no leading zero or sign.
pub fn parse_pid(name: &str) -> Option<u32> {
    if name.is_empty()
        || !name.bytes().all(|b| b.is_ascii_digit())
        || (name.len() > 1 && name.starts_with('0'))
    {
        return None;
    }
    name.parse().ok()
}

impl Inode for RootDir {
    super::read_only_dir!();

    fn metadata(&self) -> Metadata {
        let nlink = 2 + tree::subdir_count(GLOBAL) + process::all().len() as u32;
        metadata(&self.fs, ino::ROOT, S_IFDIR | 0o555, nlink, Owner::Root, 0)
    }

    fn fs(&self) -> Arc<dyn FileSystem> {
        self.fs.clone()
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn lookup(&self, name: &str) -> Result<Arc<dyn Inode>> {
        if name == "." || name == ".." {
            return Ok(RootDir::new(self.fs.clone()));
        }
        if name == "self" {
            return Ok(self.self_link());
        }
        if let Some(pid) = parse_pid(name) {
            let p = process::find(pid).ok_or(Errno::ENOENT)?;
            return Ok(PidDir::new(self.fs.clone(), p.pid));
        }
        let e = tree::find(GLOBAL, name).ok_or(Errno::ENOENT)?;
        Ok(e.inode(&self.fs, ino::ROOT))
    }

    fn readdir(&self) -> Result<Vec<DirEntry>> {
        let dir = dtype_of(S_IFDIR);
        let mut v = alloc::vec![
            DirEntry { ino: ino::ROOT, name: String::from("."), dtype: dir },
            DirEntry { ino: ino::ROOT, name: String::from(".."), dtype: dir },
        ];
        v.extend(GLOBAL.iter().map(Entry::dir_entry));
        v.push(DirEntry { ino: SELF_INO, name: String::from("self"), dtype: dtype_of(S_IFLNK) });
        for p in process::all() {
            v.push(DirEntry {
                ino: ino::of_pid(p.pid, ino::PID_DIR),
                name: format!("{}", p.pid),
                dtype: dir,
            });
        }
        Ok(v)
    }

    /// Processes are listed at a position past the fixed entries plus their pid, so one that
    /// exits while /proc is read moves none of the others.
    fn readdir_from(&self, from: u64, max: usize) -> Result<Vec<(u64, DirEntry)>> {
        numbered_positions(self.readdir()?, GLOBAL.len() + 3, from, max)
    }
}
