//! socket, socketpair, bind, listen, accept, accept4, connect, getsockname, getpeername,
//! sendto, recvfrom, sendmsg, recvmsg, shutdown, setsockopt, getsockopt: decode addresses,
//! iovecs and control messages, call the socket, encode the results.

use alloc::sync::Arc;
use alloc::vec::Vec;

use bytemuck::{Pod, Zeroable};

use super::io::file;
use crate::cap::Cap;
use crate::error::{Errno, Result};
use crate::fs::file::{FileLike, OpenFile, O_NONBLOCK, O_RDWR};
use crate::fs::socket::*;
use crate::mm::user::{UserPtr, UserSlice};
use crate::process::{self, fileops, signal};

/// sizeof(struct sockaddr_storage).
const SOCKADDR_MAX: u32 = 128;
const SOL_SOCKET: i32 = 1;
const SCM_RIGHTS: i32 = 1;
const SCM_CREDENTIALS: i32 = 2;
/// Linux's SCM_MAX_FD.
const SCM_MAX_FD: usize = 253;
/// Linux's SOCK_MAX: one past the last socket type (SOCK_PACKET).
const SOCK_MAX: i32 = 11;

fn socket_of(fd: i32) -> Result<Arc<OpenFile>> {
    let f = file(fd)?;
    // An O_PATH descriptor is no descriptor to the socket calls (Linux's fdget).
    if f.is_path_only() {
        return Err(Errno::EBADF);
    }
    if f.file().as_socket().is_none() {
        return Err(Errno::ENOTSOCK);
    }
    Ok(f)
}

fn with_socket<T>(fd: i32, f: impl FnOnce(&dyn Socket, &OpenFile) -> Result<T>) -> Result<T> {
    let file = socket_of(fd)?;
    let sock = file.file().as_socket().ok_or(Errno::ENOTSOCK)?;
    f(sock, &file)
}

fn nonblocking(file: &OpenFile) -> bool {
    file.flags() & O_NONBLOCK != 0
}

fn read_addr(addr: u64, len: u32) -> Result<Vec<u8>> {
    if len > SOCKADDR_MAX {
        return Err(Errno::EINVAL);
    }
    UserSlice::new(addr, len as usize).read_to_vec()
}

/// Writes a socket address back: as much as fits, and the real length to `*addrlen`.
fn write_addr(addr: u64, addrlen: u64, bytes: &[u8]) -> Result<()> {
    if addr == 0 || addrlen == 0 {
        return Ok(());
    }
    let room = UserPtr::<u32>::new(addrlen).read()?;
    if (room as i32) < 0 {
        return Err(Errno::EINVAL);
    }
    let n = bytes.len().min(room as usize);
    UserSlice::new(addr, n).write(&bytes[..n])?;
    UserPtr::<u32>::new(addrlen).write(&(bytes.len() as u32))
}

fn install_socket(sock: Arc<dyn FileLike>, flags: i32) -> Result<i32> {
    let status = if flags & SOCK_NONBLOCK != 0 { O_NONBLOCK } else { 0 };
    fileops::install(OpenFile::new(sock, O_RDWR | status), flags & SOCK_CLOEXEC != 0)
}

fn split_type(t: i32) -> Result<(i32, i32)> {
    let flags = t & (SOCK_NONBLOCK | SOCK_CLOEXEC);
    let ty = t & !(SOCK_NONBLOCK | SOCK_CLOEXEC);
    // Linux: types at or beyond SOCK_MAX (11) are EINVAL for every family.
    if !(0..SOCK_MAX).contains(&ty) {
        return Err(Errno::EINVAL);
    }
    Ok((ty, flags))
}

pub fn socket(domain: i32, ty: i32, protocol: i32) -> Result<i64> {
    let (ty, flags) = split_type(ty)?;
    let sock = match domain {
        AF_UNIX => {
            if protocol != 0 && protocol != 1 {
                return Err(Errno::EPROTONOSUPPORT);
            }
            crate::net::unix::create(ty)?
        }
        AF_INET | AF_INET6 => crate::net::inet::create(domain, ty, protocol)?,
        crate::net::netlink::AF_NETLINK => crate::net::netlink::create(ty, protocol)?,
        _ => return Err(Errno::EAFNOSUPPORT),
    };
    install_socket(sock, flags).map(|fd| fd as i64)
}

pub fn socketpair(domain: i32, ty: i32, protocol: i32, sv: u64) -> Result<i64> {
    let (ty, flags) = split_type(ty)?;
    if domain != AF_UNIX {
        return Err(
            if domain == AF_INET || domain == AF_INET6 || domain == crate::net::netlink::AF_NETLINK
            {
                Errno::EOPNOTSUPP
            } else {
                Errno::EAFNOSUPPORT
            },
        );
    }
    if protocol != 0 && protocol != 1 {
        return Err(Errno::EPROTONOSUPPORT);
    }
    let creds = crate::net::env()?.creds();
    let (a, b) = crate::net::unix::pair(ty, creds)?;
    // Reserved until copied out: a sibling thread never sees descriptors this call may undo.
    let status = if flags & SOCK_NONBLOCK != 0 { O_NONBLOCK } else { 0 };
    let cloexec = flags & SOCK_CLOEXEC != 0;
    let fa = fileops::reserve(OpenFile::new(a, O_RDWR | status), cloexec)?;
    let fb = match fileops::reserve(OpenFile::new(b, O_RDWR | status), cloexec) {
        Ok(fd) => fd,
        Err(e) => {
            fileops::unreserve(&[fa]);
            return Err(e);
        }
    };
    if let Err(e) = UserPtr::<[i32; 2]>::new(sv).write(&[fa, fb]) {
        fileops::unreserve(&[fa, fb]);
        return Err(e);
    }
    fileops::publish(&[fa, fb]);
    Ok(0)
}

pub fn bind(fd: i32, addr: u64, len: u32) -> Result<i64> {
    let a = read_addr(addr, len)?;
    with_socket(fd, |s, _| s.bind(&a)).map(|_| 0)
}

pub fn listen(fd: i32, backlog: i32) -> Result<i64> {
    with_socket(fd, |s, _| s.listen(backlog)).map(|_| 0)
}

pub fn connect(fd: i32, addr: u64, len: u32) -> Result<i64> {
    let a = read_addr(addr, len)?;
    with_socket(fd, |s, f| s.connect(&a, nonblocking(f))).map(|_| 0)
}

pub fn accept4(fd: i32, addr: u64, addrlen: u64, flags: i32) -> Result<i64> {
    if flags & !(SOCK_NONBLOCK | SOCK_CLOEXEC) != 0 {
        return Err(Errno::EINVAL);
    }
    let (sock, peer) = with_socket(fd, |s, f| s.accept(nonblocking(f)))?;
    let new_fd = install_socket(sock, flags)?;
    if let Err(e) = write_addr(addr, addrlen, &peer) {
        let _ = process::current().files().lock().remove(new_fd);
        return Err(e);
    }
    Ok(new_fd as i64)
}

pub fn getsockname(fd: i32, addr: u64, addrlen: u64) -> Result<i64> {
    let name = with_socket(fd, |s, _| s.sockname())?;
    write_addr(addr, addrlen, &name).map(|_| 0)
}

pub fn getpeername(fd: i32, addr: u64, addrlen: u64) -> Result<i64> {
    let name = with_socket(fd, |s, _| s.peername())?;
    write_addr(addr, addrlen, &name).map(|_| 0)
}

pub fn shutdown(fd: i32, how: i32) -> Result<i64> {
    with_socket(fd, |s, _| s.shutdown(how)).map(|_| 0)
}

pub fn setsockopt(fd: i32, level: i32, name: i32, value: u64, len: u32) -> Result<i64> {
    if (len as i32) < 0 {
        return Err(Errno::EINVAL);
    }
    let v = UserSlice::new(value, len.min(4096) as usize).read_to_vec()?;
    with_socket(fd, |s, _| s.setsockopt(level, name, &v)).map(|_| 0)
}

pub fn getsockopt(fd: i32, level: i32, name: i32, value: u64, lenp: u64) -> Result<i64> {
    let room = UserPtr::<i32>::new(lenp).read()?;
    if room < 0 {
        return Err(Errno::EINVAL);
    }
    let v = with_socket(fd, |s, _| s.getsockopt(level, name))?;
    let n = v.len().min(room as usize);
    UserSlice::new(value, n).write(&v[..n])?;
    UserPtr::<i32>::new(lenp).write(&(n as i32)).map(|_| 0)
}

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct MsgHdr {
    name: u64,
    namelen: u32,
    _pad: u32,
    iov: u64,
    iovlen: u64,
    control: u64,
    controllen: u64,
    flags: i32,
    _pad2: u32,
}

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct IoVec {
    base: u64,
    len: u64,
}

fn iovecs(iov: u64, count: u64) -> Result<Vec<UserSlice>> {
    if count > 1024 {
        return Err(Errno::EMSGSIZE);
    }
    let mut v = Vec::new();
    for i in 0..count as usize {
        let e = UserPtr::<IoVec>::new(iov).add(i).read()?;
        if (e.len as i64) < 0 {
            return Err(Errno::EINVAL);
        }
        v.push(UserSlice::new(e.base, e.len as usize));
    }
    Ok(v)
}

fn scatter(slices: &[UserSlice], mut data: &[u8]) -> Result<()> {
    for s in slices {
        if data.is_empty() {
            break;
        }
        let n = s.len().min(data.len());
        s.take(n).write(&data[..n])?;
        data = &data[n..];
    }
    Ok(())
}

const CMSG_HDR: usize = 16;

fn cmsg_align(n: usize) -> usize {
    (n + 7) & !7
}

/// Parses SCM_RIGHTS and SCM_CREDENTIALS out of a control buffer.
fn parse_control(control: u64, len: u64, msg: &mut SendMsg) -> Result<()> {
    let buf = UserSlice::new(control, len.min(1 << 16) as usize).read_to_vec()?;
    let mut off = 0;
    while off + CMSG_HDR <= buf.len() {
        let clen =
            u64::from_ne_bytes(buf[off..off + 8].try_into().map_err(|_| Errno::EINVAL)?) as usize;
        let level =
            i32::from_ne_bytes(buf[off + 8..off + 12].try_into().map_err(|_| Errno::EINVAL)?);
        let ty = i32::from_ne_bytes(buf[off + 12..off + 16].try_into().map_err(|_| Errno::EINVAL)?);
        if clen < CMSG_HDR || off + clen > buf.len() {
            return Err(Errno::EINVAL);
        }
        let data = &buf[off + CMSG_HDR..off + clen];
        if level != SOL_SOCKET {
            return Err(Errno::EINVAL);
        }
        match ty {
            SCM_RIGHTS => {
                let fds: Vec<i32> = data
                    .chunks_exact(4)
                    .map(|c| i32::from_ne_bytes([c[0], c[1], c[2], c[3]]))
                    .collect();
                if fds.is_empty() || msg.rights.len() + fds.len() > SCM_MAX_FD {
                    return Err(Errno::EINVAL);
                }
                let p = process::current();
                let table_ref = p.files();
                let table = table_ref.lock();
                for fd in fds {
                    msg.rights.push(table.get(fd)?);
                }
            }
            SCM_CREDENTIALS => {
                if data.len() < 12 {
                    return Err(Errno::EINVAL);
                }
                let c: Ucred = bytemuck::pod_read_unaligned(&data[..12]);
                let p = process::current();
                let creds = p.creds.lock().clone();
                // Linux's scm_check_creds: each field is the caller's own or needs its
                // capability.
                let pid_ok = c.pid as u32 == p.pid || creds.capable(Cap::SysAdmin);
                let uid_ok = [creds.uid, creds.euid, creds.suid].contains(&c.uid)
                    || creds.capable(Cap::Setuid);
                let gid_ok = [creds.gid, creds.egid, creds.sgid].contains(&c.gid)
                    || creds.capable(Cap::Setgid);
                if !(pid_ok && uid_ok && gid_ok) {
                    return Err(Errno::EPERM);
                }
                msg.creds = c;
            }
            _ => return Err(Errno::EINVAL),
        }
        off += cmsg_align(clen);
    }
    Ok(())
}

/// Sends the bytes of `data` (user memory, an iovec list). Control data is parsed before any
/// byte is copied, as Linux does.
fn do_send(
    fd: i32,
    data: &[UserSlice],
    addr: Option<Vec<u8>>,
    control: Option<(u64, u64)>,
    flags: u32,
) -> Result<i64> {
    let file = socket_of(fd)?;
    let sock = file.file().as_socket().ok_or(Errno::ENOTSOCK)?;
    let creds = crate::net::env()?.creds();
    let mut first = SendMsg { data: Vec::new(), addr, rights: Vec::new(), creds, flags };
    if let Some((c, len)) = control {
        if len > 0 {
            parse_control(c, len, &mut first)?;
        }
    }
    let nonblock = nonblocking(&file) || flags & MSG_DONTWAIT != 0;
    let r = send_user(sock, data, first, nonblock);
    if r == Err(Errno::EPIPE) && flags & MSG_NOSIGNAL == 0 {
        signal::raise_sigpipe();
    }
    r.map(|n| n as i64)
}

pub fn sendto(fd: i32, buf: u64, len: u64, flags: u32, addr: u64, addrlen: u32) -> Result<i64> {
    let data = UserSlice::new(buf, len.min(0x7fff_f000) as usize);
    data.check()?;
    let a = if addr != 0 { Some(read_addr(addr, addrlen)?) } else { None };
    do_send(fd, &[data], a, None, flags)
}

pub fn sendmsg(fd: i32, msgp: u64, flags: u32) -> Result<i64> {
    let h = UserPtr::<MsgHdr>::new(msgp).read()?;
    let data = iovecs(h.iov, h.iovlen)?;
    let a = if h.name != 0 && h.namelen != 0 { Some(read_addr(h.name, h.namelen)?) } else { None };
    do_send(fd, &data, a, Some((h.control, h.controllen)), flags)
}

fn do_recv(fd: i32, len: usize, flags: u32) -> Result<RecvMsg> {
    let file = socket_of(fd)?;
    let sock = file.file().as_socket().ok_or(Errno::ENOTSOCK)?;
    let nonblock = nonblocking(&file) || flags & MSG_DONTWAIT != 0;
    if flags & MSG_OOB != 0 {
        return Err(Errno::EOPNOTSUPP);
    }
    sock.recvmsg(len, flags, nonblock)
}

pub fn recvfrom(fd: i32, buf: u64, len: u64, flags: u32, addr: u64, addrlen: u64) -> Result<i64> {
    let out = UserSlice::new(buf, len.min(0x7fff_f000) as usize);
    out.check()?;
    let m = do_recv(fd, out.len(), flags)?;
    out.write(&m.data)?;
    if let Some(a) = &m.addr {
        write_addr(addr, addrlen, a)?;
    } else if addr != 0 && addrlen != 0 {
        UserPtr::<u32>::new(addrlen).write(&0)?;
    }
    Ok(if flags & MSG_TRUNC != 0 { m.full_len } else { m.data.len() } as i64)
}

/// Builds the control messages for a receive: credentials, then passed files as new fds.
fn encode_control(m: &mut RecvMsg, room: usize, cloexec: bool, flags: &mut u32) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    let push_at = |out: &mut Vec<u8>, level: i32, ty: i32, payload: &[u8]| {
        let len = CMSG_HDR + payload.len();
        out.extend_from_slice(&(len as u64).to_ne_bytes());
        out.extend_from_slice(&level.to_ne_bytes());
        out.extend_from_slice(&ty.to_ne_bytes());
        out.extend_from_slice(payload);
        out.resize(cmsg_align(out.len()), 0);
    };
    let push = |out: &mut Vec<u8>, ty: i32, payload: &[u8]| push_at(out, SOL_SOCKET, ty, payload);
    for (level, ty, payload) in &m.control {
        if out.len() + CMSG_HDR + payload.len() <= room {
            push_at(&mut out, *level, *ty, payload);
            out.truncate(out.len().min(room));
        } else {
            *flags |= MSG_CTRUNC;
        }
    }
    if let Some(c) = m.creds {
        if out.len() + CMSG_HDR + 12 <= room {
            push(&mut out, SCM_CREDENTIALS, bytemuck::bytes_of(&c));
        } else {
            *flags |= MSG_CTRUNC;
        }
    }
    if !m.rights.is_empty() {
        let space = room.saturating_sub(out.len() + CMSG_HDR) / 4;
        let fit = m.rights.len().min(space);
        if fit < m.rights.len() {
            *flags |= MSG_CTRUNC;
        }
        if fit > 0 {
            let mut fds = Vec::with_capacity(fit);
            for f in m.rights.drain(..fit) {
                fds.extend_from_slice(&fileops::install(f, cloexec)?.to_ne_bytes());
            }
            push(&mut out, SCM_RIGHTS, &fds);
            // The last record needs no padding beyond the buffer.
            out.truncate(out.len().min(room));
        }
        // Files that did not fit are closed, as Linux does.
        m.rights.clear();
    }
    Ok(out)
}

pub fn recvmsg(fd: i32, msgp: u64, flags: u32) -> Result<i64> {
    let mut h = UserPtr::<MsgHdr>::new(msgp).read()?;
    let slices = iovecs(h.iov, h.iovlen)?;
    let total: usize = slices.iter().map(|s| s.len()).sum();
    for s in &slices {
        s.check()?;
    }
    let mut m = do_recv(fd, total, flags)?;
    scatter(&slices, &m.data)?;
    let mut out_flags = m.flags;
    if h.name != 0 {
        let a = m.addr.clone().unwrap_or_default();
        let n = a.len().min(h.namelen as usize);
        UserSlice::new(h.name, n).write(&a[..n])?;
        h.namelen = a.len() as u32;
    } else {
        h.namelen = 0;
    }
    let control = if h.control != 0 {
        encode_control(
            &mut m,
            h.controllen as usize,
            flags & MSG_CMSG_CLOEXEC != 0,
            &mut out_flags,
        )?
    } else {
        if m.creds.is_some() || !m.rights.is_empty() || !m.control.is_empty() {
            out_flags |= MSG_CTRUNC;
        }
        Vec::new()
    };
    UserSlice::new(h.control, control.len()).write(&control)?;
    h.controllen = control.len() as u64;
    h.flags = out_flags as i32;
    UserPtr::<MsgHdr>::new(msgp).write(&h)?;
    Ok(if flags & MSG_TRUNC != 0 { m.full_len } else { m.data.len() } as i64)
}

/// writev on a socket: one message of all the iovecs.
pub fn writev(fd: i32, slices: &[UserSlice]) -> Result<i64> {
    do_send(fd, slices, None, None, 0)
}

/// readv on a socket: one receive scattered over the iovecs.
pub fn readv(fd: i32, slices: &[UserSlice]) -> Result<i64> {
    let total: usize = slices.iter().map(|s| s.len()).sum();
    let m = do_recv(fd, total, 0)?;
    scatter(slices, &m.data)?;
    Ok(m.data.len() as i64)
}
