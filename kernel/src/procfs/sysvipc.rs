//! /proc/sysvipc/{shm,sem,msg}: one line per System V object, in Linux's 64-bit layout
//! (ipc/shm.c, sem.c, msg.c `sysvipc_*_proc_show`).

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;

use super::tree::{Entry, Node};
use crate::error::Result;
use crate::ipc::sysv::{msg, sem, shm};
use crate::mm::frame::PAGE_SIZE;

pub static DIR: &[Entry] = &[
    Entry { id: 50, name: "msg", node: Node::File(msg_file, 0o444) },
    Entry { id: 51, name: "sem", node: Node::File(sem_file, 0o444) },
    Entry { id: 52, name: "shm", node: Node::File(shm_file, 0o444) },
];

/// Room in `s` for `n` more lines of at most 200 bytes, or ENOMEM: the tables hold up to 32,000
/// objects each.
fn reserve_lines(s: &mut String, n: usize) -> Result<()> {
    let bytes = n.saturating_mul(200);
    crate::fs::kmem::reserve(bytes)?;
    s.try_reserve(bytes).map_err(|_| crate::error::Errno::ENOMEM)
}

fn shm_file() -> Result<Vec<u8>> {
    let mut s = String::from(
        "       key      shmid perms                  size  cpid  lpid nattch   uid   gid  cuid  cgid      atime      dtime      ctime                   rss                  swap\n",
    );
    let rows = shm::rows()?;
    reserve_lines(&mut s, rows.len())?;
    for r in rows {
        let (d, p) = (&r.ds, &r.ds.perm);
        let _ = writeln!(
            s,
            "{:10} {:10}  {:4o} {:21} {:5} {:5}  {:5} {:5} {:5} {:5} {:5} {:10} {:10} {:10} {:21} {:21}",
            p.key, r.id, p.mode, d.segsz, d.cpid, d.lpid, d.nattch, p.uid, p.gid, p.cuid, p.cgid,
            d.atime, d.dtime, d.ctime, r.rss_pages * PAGE_SIZE, 0
        );
    }
    Ok(s.into_bytes())
}

fn sem_file() -> Result<Vec<u8>> {
    let mut s = String::from(
        "       key      semid perms      nsems   uid   gid  cuid  cgid      otime      ctime\n",
    );
    let rows = sem::rows()?;
    reserve_lines(&mut s, rows.len())?;
    for r in rows {
        let (d, p) = (&r.ds, &r.ds.perm);
        let _ = writeln!(
            s,
            "{:10} {:10}  {:4o} {:10} {:5} {:5} {:5} {:5} {:10} {:10}",
            p.key, r.id, p.mode, d.nsems, p.uid, p.gid, p.cuid, p.cgid, d.otime, d.ctime
        );
    }
    Ok(s.into_bytes())
}

fn msg_file() -> Result<Vec<u8>> {
    let mut s = String::from(
        "       key      msqid perms      cbytes       qnum lspid lrpid   uid   gid  cuid  cgid      stime      rtime      ctime\n",
    );
    let rows = msg::rows()?;
    reserve_lines(&mut s, rows.len())?;
    for r in rows {
        let (d, p) = (&r.ds, &r.ds.perm);
        let _ = writeln!(
            s,
            "{:10} {:10}  {:4o}  {:10} {:10} {:5} {:5} {:5} {:5} {:5} {:5} {:10} {:10} {:10}",
            p.key,
            r.id,
            p.mode,
            d.cbytes,
            d.qnum,
            d.lspid,
            d.lrpid,
            p.uid,
            p.gid,
            p.cuid,
            p.cgid,
            d.stime,
            d.rtime,
            d.ctime
        );
    }
    Ok(s.into_bytes())
}
