//! The interface ioctls on any socket (Linux's dev_ioctl and devinet_ioctl), as busybox
//! `ifconfig`, `route` and `ip` use them: struct ifreq (40 bytes: a 16-byte name, then a
//! sockaddr, flags or an int), struct ifconf for SIOCGIFCONF, struct rtentry for SIOCADDRT and
//! SIOCDELRT. IPv4 only, as in Linux (IPv6 addresses go through netlink).

use alloc::vec::Vec;

use smoltcp::wire::{IpAddress, IpCidr, Ipv4Address};

use super::iface::{self, Link, RouteFlags};
use crate::error::{Errno, Result};
use crate::fs::socket::AF_INET;
use crate::mm::user::{read_cstring, UserSlice};

const SIOCADDRT: u32 = 0x890b;
const SIOCDELRT: u32 = 0x890c;
const SIOCGIFNAME: u32 = 0x8910;
const SIOCGIFCONF: u32 = 0x8912;
const SIOCGIFFLAGS: u32 = 0x8913;
const SIOCSIFFLAGS: u32 = 0x8914;
const SIOCGIFADDR: u32 = 0x8915;
const SIOCSIFADDR: u32 = 0x8916;
const SIOCGIFDSTADDR: u32 = 0x8917;
const SIOCGIFBRDADDR: u32 = 0x8919;
const SIOCSIFBRDADDR: u32 = 0x891a;
const SIOCGIFNETMASK: u32 = 0x891b;
const SIOCSIFNETMASK: u32 = 0x891c;
const SIOCGIFMETRIC: u32 = 0x891d;
const SIOCGIFMTU: u32 = 0x8921;
const SIOCSIFMTU: u32 = 0x8922;
const SIOCGIFHWADDR: u32 = 0x8927;
const SIOCGIFINDEX: u32 = 0x8933;
const SIOCGIFTXQLEN: u32 = 0x8942;
const SIOCETHTOOL: u32 = 0x8946;
const SIOCGIFMAP: u32 = 0x8970;

const IFREQ: usize = 40;
const RTENTRY: usize = 120;
const RTF_GATEWAY: u16 = 0x2;
const RTF_HOST: u16 = 0x4;
const ARPHRD_ETHER: u16 = 1;
const ARPHRD_LOOPBACK: u16 = 772;

/// Whether `cmd` is one of the interface requests every socket takes.
pub fn is_iface_ioctl(cmd: u32) -> bool {
    matches!(
        cmd,
        SIOCADDRT
            | SIOCDELRT
            | SIOCGIFNAME
            | SIOCGIFCONF
            | SIOCGIFFLAGS
            | SIOCSIFFLAGS
            | SIOCGIFADDR
            | SIOCSIFADDR
            | SIOCGIFDSTADDR
            | SIOCGIFBRDADDR
            | SIOCSIFBRDADDR
            | SIOCGIFNETMASK
            | SIOCSIFNETMASK
            | SIOCGIFMETRIC
            | SIOCGIFMTU
            | SIOCSIFMTU
            | SIOCGIFHWADDR
            | SIOCGIFINDEX
            | SIOCGIFTXQLEN
            | SIOCETHTOOL
            | SIOCGIFMAP
    )
}

fn privileged() -> bool {
    crate::net::env().map(|e| e.capable(crate::cap::Cap::NetAdmin)).unwrap_or(false)
}

fn sockaddr_in(a: Ipv4Address) -> [u8; 16] {
    let mut s = [0u8; 16];
    s[..2].copy_from_slice(&(AF_INET as u16).to_ne_bytes());
    s[4..8].copy_from_slice(&a.octets());
    s
}

/// The IPv4 address of a sockaddr_in in an ifreq or rtentry (EINVAL for another family).
fn parse_in(b: &[u8]) -> Result<Ipv4Address> {
    if u16::from_ne_bytes([b[0], b[1]]) as i32 != AF_INET {
        return Err(Errno::EINVAL);
    }
    Ok(Ipv4Address::new(b[4], b[5], b[6], b[7]))
}

fn first_v4(l: &Link) -> Option<IpCidr> {
    l.addrs.iter().copied().find(|a| matches!(a, IpCidr::Ipv4(_)))
}

fn mask_of(prefix: u8) -> Ipv4Address {
    Ipv4Address::from(!u32::MAX.checked_shr(prefix as u32).unwrap_or(0))
}

fn v4(a: IpAddress) -> Ipv4Address {
    match a {
        IpAddress::Ipv4(x) => x,
        IpAddress::Ipv6(_) => Ipv4Address::UNSPECIFIED,
    }
}

pub fn iface_ioctl(cmd: u32, arg: u64) -> Result<i64> {
    match cmd {
        SIOCGIFCONF => return ifconf(arg),
        SIOCADDRT | SIOCDELRT => return rtentry(cmd, arg),
        SIOCETHTOOL => return Err(Errno::EOPNOTSUPP),
        _ => {}
    }
    let user = UserSlice::new(arg, IFREQ);
    let mut req = [0u8; IFREQ];
    user.read(&mut req)?;
    let name_end = req[..16].iter().position(|&b| b == 0).unwrap_or(16);
    let name = &req[..name_end];
    if cmd == SIOCGIFNAME {
        let index = i32::from_ne_bytes([req[16], req[17], req[18], req[19]]);
        let found = iface::with_config(|c| {
            c.links.iter().find(|l| l.index as i32 == index).map(|l| l.name)
        });
        let n = found.ok_or(Errno::ENODEV)?;
        let mut out = [0u8; 16];
        out[..n.len()].copy_from_slice(n.as_bytes());
        UserSlice::new(arg, 16).write(&out)?;
        return Ok(0);
    }
    let link = iface::with_config(|c| c.links.iter().find(|l| l.name.as_bytes() == name).cloned())
        .ok_or(Errno::ENODEV)?;
    let mut out = [0u8; 24];
    match cmd {
        SIOCGIFFLAGS => out[..2].copy_from_slice(&(link.flags() as u16).to_ne_bytes()),
        SIOCGIFINDEX => out[..4].copy_from_slice(&(link.index as i32).to_ne_bytes()),
        SIOCGIFMTU => out[..4].copy_from_slice(&(link.mtu as i32).to_ne_bytes()),
        SIOCGIFMETRIC => {}
        SIOCGIFTXQLEN => out[..4].copy_from_slice(&1000i32.to_ne_bytes()),
        SIOCGIFMAP => {}
        SIOCGIFHWADDR => {
            let family = if link.is_loopback() { ARPHRD_LOOPBACK } else { ARPHRD_ETHER };
            out[..2].copy_from_slice(&family.to_ne_bytes());
            out[2..8].copy_from_slice(&link.mac);
        }
        SIOCGIFADDR | SIOCGIFDSTADDR | SIOCGIFBRDADDR | SIOCGIFNETMASK => {
            let a = first_v4(&link).ok_or(Errno::EADDRNOTAVAIL)?;
            let addr = v4(a.address());
            let shown = match cmd {
                SIOCGIFNETMASK => mask_of(a.prefix_len()),
                SIOCGIFBRDADDR if link.is_loopback() => Ipv4Address::UNSPECIFIED,
                SIOCGIFBRDADDR => Ipv4Address::from(
                    u32::from(addr) | u32::MAX.checked_shr(a.prefix_len() as u32).unwrap_or(0),
                ),
                _ => addr,
            };
            out[..16].copy_from_slice(&sockaddr_in(shown));
        }
        SIOCSIFFLAGS | SIOCSIFADDR | SIOCSIFBRDADDR | SIOCSIFNETMASK | SIOCSIFMTU => {
            if !privileged() {
                return Err(Errno::EPERM);
            }
            return set(cmd, link.index, &req[16..]).map(|_| 0);
        }
        _ => return Err(Errno::ENOTTY),
    }
    UserSlice::new(arg + 16, 24).write(&out)?;
    Ok(0)
}

/// Linux's inet_abc_len: the classful prefix SIOCSIFADDR gives a new address.
fn classful(a: Ipv4Address) -> u8 {
    match a.octets()[0] {
        0..=127 => 8,
        128..=191 => 16,
        192..=223 => 24,
        _ => 32,
    }
}

fn set(cmd: u32, index: u32, data: &[u8]) -> Result<()> {
    iface::update(|c| {
        let l = c.links.iter_mut().find(|l| l.index == index).ok_or(Errno::ENODEV)?;
        match cmd {
            SIOCSIFFLAGS => {
                let flags = u16::from_ne_bytes([data[0], data[1]]) as u32;
                l.up = flags & iface::IFF_UP != 0;
            }
            SIOCSIFMTU => {
                let mtu = i32::from_ne_bytes([data[0], data[1], data[2], data[3]]);
                let max = if l.is_loopback() { 65536 } else { 1500 };
                if !(68..=max).contains(&mtu) {
                    return Err(Errno::EINVAL);
                }
                l.mtu = mtu as u32;
            }
            SIOCSIFADDR => {
                let a = parse_in(data)?;
                let cidr = IpCidr::new(IpAddress::Ipv4(a), classful(a));
                match l.addrs.iter().position(|x| matches!(x, IpCidr::Ipv4(_))) {
                    // 0.0.0.0 removes the address, as Linux's devinet_ioctl.
                    Some(i) if a.is_unspecified() => {
                        l.addrs.remove(i);
                    }
                    Some(i) => l.addrs[i] = cidr,
                    None if a.is_unspecified() => {}
                    None => {
                        l.addrs.try_reserve(1).map_err(|_| Errno::ENOMEM)?;
                        l.addrs.insert(0, cidr);
                    }
                }
            }
            SIOCSIFNETMASK => {
                let m = u32::from(parse_in(data)?);
                if m.leading_ones() + m.trailing_zeros() != 32 {
                    return Err(Errno::EINVAL);
                }
                let i = l
                    .addrs
                    .iter()
                    .position(|x| matches!(x, IpCidr::Ipv4(_)))
                    .ok_or(Errno::EADDRNOTAVAIL)?;
                l.addrs[i] = IpCidr::new(l.addrs[i].address(), m.leading_ones() as u8);
            }
            // The broadcast address follows from the address and mask here.
            SIOCSIFBRDADDR => {
                parse_in(data)?;
            }
            _ => return Err(Errno::ENOTTY),
        }
        Ok(())
    })
}

/// SIOCGIFCONF: an ifreq per interface with an IPv4 address (name and address), or with a
/// null buffer the length they need.
fn ifconf(arg: u64) -> Result<i64> {
    let mut head = [0u8; 16];
    UserSlice::new(arg, 16).read(&mut head)?;
    let len = i32::from_ne_bytes([head[0], head[1], head[2], head[3]]);
    let buf = u64::from_ne_bytes([
        head[8], head[9], head[10], head[11], head[12], head[13], head[14], head[15],
    ]);
    let entries: Vec<[u8; IFREQ]> = iface::with_config(|c| {
        c.links
            .iter()
            .filter_map(|l| {
                let a = first_v4(l)?;
                let mut r = [0u8; IFREQ];
                r[..l.name.len()].copy_from_slice(l.name.as_bytes());
                r[16..32].copy_from_slice(&sockaddr_in(v4(a.address())));
                Some(r)
            })
            .collect()
    });
    let used = if buf == 0 {
        entries.len() * IFREQ
    } else {
        let room = if len > 0 { len as usize / IFREQ } else { 0 };
        let n = entries.len().min(room);
        for (i, e) in entries.iter().take(n).enumerate() {
            UserSlice::new(buf + (i * IFREQ) as u64, IFREQ).write(e)?;
        }
        n * IFREQ
    };
    UserSlice::new(arg, 4).write(&(used as i32).to_ne_bytes())?;
    Ok(0)
}

/// SIOCADDRT / SIOCDELRT with a struct rtentry (IPv4).
fn rtentry(cmd: u32, arg: u64) -> Result<i64> {
    if !privileged() {
        return Err(Errno::EPERM);
    }
    let mut rt = [0u8; RTENTRY];
    UserSlice::new(arg, RTENTRY).read(&mut rt)?;
    let dst = parse_in(&rt[8..24])?;
    let flags = u16::from_ne_bytes([rt[56], rt[57]]);
    let prefix = if flags & RTF_HOST != 0 {
        32
    } else {
        let m = u32::from(parse_in(&rt[40..56]).unwrap_or(Ipv4Address::UNSPECIFIED));
        if m.leading_ones() + m.trailing_zeros() != 32 {
            return Err(Errno::EINVAL);
        }
        m.leading_ones() as u8
    };
    let via =
        if flags & RTF_GATEWAY != 0 { Some(IpAddress::Ipv4(parse_in(&rt[24..40])?)) } else { None };
    let dev_ptr =
        u64::from_ne_bytes([rt[88], rt[89], rt[90], rt[91], rt[92], rt[93], rt[94], rt[95]]);
    let oif = if dev_ptr != 0 {
        let name = read_cstring(dev_ptr, 16)?;
        let index = iface::with_config(|c| {
            c.links.iter().find(|l| l.name == name.as_str()).map(|l| l.index)
        });
        Some(index.ok_or(Errno::ENODEV)?)
    } else {
        None
    };
    let dst = IpCidr::new(IpAddress::Ipv4(dst), prefix);
    if cmd == SIOCADDRT {
        let flags = RouteFlags { create: true, ..RouteFlags::default() };
        iface::add_route(dst, via, oif, iface::RTPROT_BOOT, flags)?;
    } else {
        iface::del_route(dst, via, oif)?;
    }
    Ok(0)
}
