//! The IP, IPv6 and TCP levels of getsockopt/setsockopt, with Linux's ranges, defaults and
//! errors (do_ip_setsockopt, do_ipv6_setsockopt, do_tcp_setsockopt and their getters). On a
//! loopback most of them change nothing on the wire; what they do change is said where the
//! socket uses them (IPV6_V6ONLY, TCP_NODELAY, TCP_MAXSEG's reading).

use alloc::vec::Vec;

use crate::error::{Errno, Result};
use crate::fs::socket::{AF_INET6, SOCK_STREAM};
use crate::net::options::int_bytes;

pub const SOL_IP: i32 = 0;
pub const SOL_TCP: i32 = 6;
pub const SOL_IPV6: i32 = 41;

const IP_TOS: i32 = 1;
const IP_TTL: i32 = 2;
const IP_HDRINCL: i32 = 3;
const IP_RECVOPTS: i32 = 6;
const IP_RETOPTS: i32 = 7;
const IP_PKTINFO: i32 = 8;
const IP_MTU_DISCOVER: i32 = 10;
const IP_RECVERR: i32 = 11;
const IP_RECVTTL: i32 = 12;
const IP_RECVTOS: i32 = 13;
const IP_MTU: i32 = 14;
const IP_FREEBIND: i32 = 15;
const IP_RECVORIGDSTADDR: i32 = 20;
const IP_BIND_ADDRESS_NO_PORT: i32 = 24;
const IP_MULTICAST_TTL: i32 = 33;
const IP_MULTICAST_LOOP: i32 = 34;

const IPV6_UNICAST_HOPS: i32 = 16;
const IPV6_MULTICAST_HOPS: i32 = 18;
const IPV6_MULTICAST_LOOP: i32 = 19;
const IPV6_MTU_DISCOVER: i32 = 23;
const IPV6_MTU: i32 = 24;
const IPV6_RECVERR: i32 = 25;
pub const IPV6_V6ONLY: i32 = 26;
const IPV6_RECVPKTINFO: i32 = 49;
const IPV6_RECVHOPLIMIT: i32 = 51;
const IPV6_RECVTCLASS: i32 = 66;
const IPV6_TCLASS: i32 = 67;

pub const TCP_NODELAY: i32 = 1;
const TCP_MAXSEG: i32 = 2;
const TCP_CORK: i32 = 3;
const TCP_KEEPIDLE: i32 = 4;
const TCP_KEEPINTVL: i32 = 5;
const TCP_KEEPCNT: i32 = 6;
const TCP_SYNCNT: i32 = 7;
const TCP_LINGER2: i32 = 8;
const TCP_QUICKACK: i32 = 12;
const TCP_CONGESTION: i32 = 13;
const TCP_USER_TIMEOUT: i32 = 18;

/// The loopback's MTU, and the MSS a loopback connection has (65536 - 40 - 12 of timestamps).
const LOOPBACK_MTU: i32 = 65536;
pub const LOOPBACK_MSS: i32 = 65483;
/// Linux's TCP_MSS_DEFAULT: mss_cache before a connection.
const TCP_MSS_DEFAULT: i32 = 536;
/// Linux's TCP_FIN_TIMEOUT_MAX (s) and net.ipv4.tcp_fin_timeout's default.
const FIN_TIMEOUT_MAX: i32 = 120;
const FIN_TIMEOUT: i32 = 60;

#[derive(Clone, Copy, Debug)]
pub struct InetOptions {
    pub tos: i32,
    /// -1: the default (net.ipv4.ip_default_ttl, 64).
    pub ttl: i32,
    pub mtu_discover: i32,
    pub mcast_ttl: i32,
    pub mcast_loop: bool,
    /// IP_PKTINFO, IP_RECVTTL, ... : flags read back as set.
    pub ip_flags: u32,
    pub v6only: bool,
    pub unicast_hops: i32,
    pub mcast_hops: i32,
    pub mcast_loop6: bool,
    pub tclass: i32,
    pub mtu_discover6: i32,
    pub ipv6_flags: u32,
    pub nodelay: bool,
    pub cork: bool,
    /// TCP_MAXSEG as set (0: none).
    pub user_mss: i32,
    pub keepidle: i32,
    pub keepintvl: i32,
    pub keepcnt: i32,
    pub syncnt: i32,
    /// TCP_LINGER2 in seconds; 0: tcp_fin_timeout; -1: none.
    pub linger2: i32,
    pub quickack: bool,
    pub user_timeout: i32,
    pub congestion: &'static str,
}

impl Default for InetOptions {
    fn default() -> Self {
        InetOptions {
            tos: 0,
            ttl: -1,
            // IP_PMTUDISC_WANT, and IPV6_PMTUDISC_WANT.
            mtu_discover: 1,
            mcast_ttl: 1,
            mcast_loop: true,
            ip_flags: 0,
            v6only: false,
            unicast_hops: -1,
            mcast_hops: 1,
            mcast_loop6: true,
            tclass: 0,
            mtu_discover6: 1,
            ipv6_flags: 0,
            nodelay: false,
            cork: false,
            user_mss: 0,
            keepidle: 7200,
            keepintvl: 75,
            keepcnt: 9,
            syncnt: 6,
            linger2: 0,
            quickack: true,
            user_timeout: 0,
            congestion: "cubic",
        }
    }
}

/// What the socket around the options is, for the rules that depend on it.
pub struct Context {
    pub family: i32,
    pub sock_type: i32,
    /// It has a local port (IPV6_V6ONLY may not change then).
    pub bound: bool,
    /// It is connected (IP_MTU needs a route; TCP_MAXSEG reads the connection's MSS).
    pub connected: bool,
}

/// An option value as Linux's IP and IPv6 levels read it: an int, or a single byte (for the
/// options that take either); nothing reads as 0.
fn read_int_or_char(value: &[u8]) -> i32 {
    match value.len() {
        0 => 0,
        1..=3 => value[0] as i32,
        _ => i32::from_ne_bytes([value[0], value[1], value[2], value[3]]),
    }
}

fn read_int(value: &[u8]) -> Result<i32> {
    value.get(..4).map(|b| i32::from_ne_bytes([b[0], b[1], b[2], b[3]])).ok_or(Errno::EINVAL)
}

fn ip_flag(name: i32) -> Option<u32> {
    Some(match name {
        IP_RECVOPTS => 1,
        IP_RETOPTS => 2,
        IP_PKTINFO => 4,
        IP_RECVERR => 8,
        IP_RECVTTL => 16,
        IP_RECVTOS => 32,
        IP_FREEBIND => 64,
        IP_RECVORIGDSTADDR => 128,
        IP_BIND_ADDRESS_NO_PORT => 256,
        _ => return None,
    })
}

fn ipv6_flag(name: i32) -> Option<u32> {
    Some(match name {
        IPV6_RECVERR => 1,
        IPV6_RECVPKTINFO => 2,
        IPV6_RECVHOPLIMIT => 4,
        IPV6_RECVTCLASS => 8,
        _ => return None,
    })
}

impl InetOptions {
    /// IP_PKTINFO is on: an IPv4 datagram comes with its addresses.
    pub fn wants_pktinfo(&self) -> bool {
        self.ip_flags & ip_flag(IP_PKTINFO).unwrap_or(0) != 0
    }

    /// IPV6_RECVPKTINFO is on.
    pub fn wants_pktinfo6(&self) -> bool {
        self.ipv6_flags & ipv6_flag(IPV6_RECVPKTINFO).unwrap_or(0) != 0
    }

    pub fn set(&mut self, cx: &Context, level: i32, name: i32, value: &[u8]) -> Result<()> {
        match level {
            SOL_IP => self.set_ip(cx, name, value),
            SOL_IPV6 if cx.family == AF_INET6 => self.set_ipv6(cx, name, value),
            SOL_TCP if cx.sock_type == SOCK_STREAM => self.set_tcp(cx, name, value),
            _ => Err(Errno::ENOPROTOOPT),
        }
    }

    pub fn get(&self, cx: &Context, level: i32, name: i32) -> Result<Vec<u8>> {
        match level {
            SOL_IP => self.get_ip(cx, name),
            SOL_IPV6 if cx.family == AF_INET6 => self.get_ipv6(cx, name),
            SOL_TCP if cx.sock_type == SOCK_STREAM => self.get_tcp(cx, name),
            _ => Err(Errno::ENOPROTOOPT),
        }
    }

    fn set_ip(&mut self, cx: &Context, name: i32, value: &[u8]) -> Result<()> {
        let v = read_int_or_char(value);
        if let Some(bit) = ip_flag(name) {
            if v != 0 {
                self.ip_flags |= bit;
            } else {
                self.ip_flags &= !bit;
            }
            return Ok(());
        }
        match name {
            IP_TOS => {
                // A stream socket keeps its ECN bits (__ip_sock_set_tos).
                self.tos =
                    if cx.sock_type == SOCK_STREAM { (v & !3) | (self.tos & 3) } else { v } & 0xff;
            }
            IP_TTL => {
                if value.is_empty() {
                    return Err(Errno::EINVAL);
                }
                if v != -1 && !(1..=255).contains(&v) {
                    return Err(Errno::EINVAL);
                }
                self.ttl = v;
            }
            IP_MTU_DISCOVER => {
                if !(0..=5).contains(&v) {
                    return Err(Errno::EINVAL);
                }
                self.mtu_discover = v;
            }
            IP_MULTICAST_TTL => {
                if cx.sock_type == SOCK_STREAM {
                    return Err(Errno::EINVAL);
                }
                let v = if v == -1 { 1 } else { v };
                if !(0..=255).contains(&v) {
                    return Err(Errno::EINVAL);
                }
                self.mcast_ttl = v;
            }
            IP_MULTICAST_LOOP => {
                if value.is_empty() {
                    return Err(Errno::EINVAL);
                }
                self.mcast_loop = v != 0;
            }
            IP_HDRINCL => return Err(Errno::ENOPROTOOPT),
            IP_MTU => return Err(Errno::ENOPROTOOPT),
            _ => return Err(Errno::ENOPROTOOPT),
        }
        Ok(())
    }

    fn get_ip(&self, cx: &Context, name: i32) -> Result<Vec<u8>> {
        if let Some(bit) = ip_flag(name) {
            return Ok(int_bytes((self.ip_flags & bit != 0) as i32));
        }
        Ok(int_bytes(match name {
            IP_TOS => self.tos,
            IP_TTL => {
                if self.ttl == -1 {
                    64
                } else {
                    self.ttl
                }
            }
            IP_MTU_DISCOVER => self.mtu_discover,
            IP_MULTICAST_TTL => self.mcast_ttl,
            IP_MULTICAST_LOOP => self.mcast_loop as i32,
            // The route's MTU, at most IPv4's IP_MAX_MTU.
            IP_MTU if cx.connected => LOOPBACK_MTU.min(0xffff),
            IP_MTU => return Err(Errno::ENOTCONN),
            IP_HDRINCL => 0,
            _ => return Err(Errno::ENOPROTOOPT),
        }))
    }

    fn set_ipv6(&mut self, cx: &Context, name: i32, value: &[u8]) -> Result<()> {
        let v = read_int_or_char(value);
        if let Some(bit) = ipv6_flag(name) {
            if value.len() < 4 {
                return Err(Errno::EINVAL);
            }
            if v != 0 {
                self.ipv6_flags |= bit;
            } else {
                self.ipv6_flags &= !bit;
            }
            return Ok(());
        }
        if value.len() < 4 && name != IPV6_MULTICAST_LOOP {
            return Err(Errno::EINVAL);
        }
        match name {
            IPV6_V6ONLY => {
                if cx.bound {
                    return Err(Errno::EINVAL);
                }
                self.v6only = v != 0;
            }
            IPV6_UNICAST_HOPS => {
                if !(-1..=255).contains(&v) {
                    return Err(Errno::EINVAL);
                }
                self.unicast_hops = v;
            }
            IPV6_MULTICAST_HOPS => {
                if cx.sock_type == SOCK_STREAM {
                    return Err(Errno::ENOPROTOOPT);
                }
                if !(-1..=255).contains(&v) {
                    return Err(Errno::EINVAL);
                }
                self.mcast_hops = if v == -1 { 1 } else { v };
            }
            IPV6_MULTICAST_LOOP => {
                if !(0..=1).contains(&v) {
                    return Err(Errno::EINVAL);
                }
                self.mcast_loop6 = v != 0;
            }
            IPV6_TCLASS => {
                if !(-1..=255).contains(&v) {
                    return Err(Errno::EINVAL);
                }
                self.tclass = if v == -1 { 0 } else { v };
            }
            IPV6_MTU_DISCOVER => {
                if !(0..=5).contains(&v) {
                    return Err(Errno::EINVAL);
                }
                self.mtu_discover6 = v;
            }
            _ => return Err(Errno::ENOPROTOOPT),
        }
        Ok(())
    }

    fn get_ipv6(&self, cx: &Context, name: i32) -> Result<Vec<u8>> {
        if let Some(bit) = ipv6_flag(name) {
            return Ok(int_bytes((self.ipv6_flags & bit != 0) as i32));
        }
        Ok(int_bytes(match name {
            IPV6_V6ONLY => self.v6only as i32,
            IPV6_UNICAST_HOPS => {
                if self.unicast_hops == -1 {
                    64
                } else {
                    self.unicast_hops
                }
            }
            IPV6_MULTICAST_HOPS => self.mcast_hops,
            IPV6_MULTICAST_LOOP => self.mcast_loop6 as i32,
            IPV6_TCLASS => self.tclass,
            IPV6_MTU_DISCOVER => self.mtu_discover6,
            IPV6_MTU if cx.connected => LOOPBACK_MTU,
            IPV6_MTU => return Err(Errno::ENOTCONN),
            _ => return Err(Errno::ENOPROTOOPT),
        }))
    }

    fn set_tcp(&mut self, cx: &Context, name: i32, value: &[u8]) -> Result<()> {
        if name == TCP_CONGESTION {
            let end = value.iter().position(|&b| b == 0).unwrap_or(value.len());
            self.congestion = match &value[..end] {
                b"cubic" => "cubic",
                b"reno" => "reno",
                _ => return Err(Errno::ENOENT),
            };
            return Ok(());
        }
        let v = read_int(value)?;
        match name {
            TCP_NODELAY => self.nodelay = v != 0,
            TCP_MAXSEG => {
                // TCP_MIN_MSS .. MAX_TCP_WINDOW.
                if v != 0 && !(88..=32767).contains(&v) {
                    return Err(Errno::EINVAL);
                }
                self.user_mss = v;
            }
            TCP_CORK => self.cork = v != 0,
            TCP_KEEPIDLE if (1..=32767).contains(&v) => self.keepidle = v,
            TCP_KEEPINTVL if (1..=32767).contains(&v) => self.keepintvl = v,
            TCP_KEEPCNT if (1..=127).contains(&v) => self.keepcnt = v,
            TCP_SYNCNT if (1..=127).contains(&v) => self.syncnt = v,
            TCP_KEEPIDLE | TCP_KEEPINTVL | TCP_KEEPCNT | TCP_SYNCNT => return Err(Errno::EINVAL),
            TCP_LINGER2 => {
                self.linger2 = if v < 0 { -1 } else { v.min(FIN_TIMEOUT_MAX) };
            }
            TCP_QUICKACK => self.quickack = v != 0,
            TCP_USER_TIMEOUT => {
                if v < 0 {
                    return Err(Errno::EINVAL);
                }
                self.user_timeout = v;
            }
            _ => return Err(Errno::ENOPROTOOPT),
        }
        let _ = cx;
        Ok(())
    }

    fn get_tcp(&self, cx: &Context, name: i32) -> Result<Vec<u8>> {
        if name == TCP_CONGESTION {
            // TCP_CA_NAME_MAX bytes, NUL-padded.
            let mut v = alloc::vec![0u8; 16];
            v[..self.congestion.len()].copy_from_slice(self.congestion.as_bytes());
            return Ok(v);
        }
        Ok(int_bytes(match name {
            TCP_NODELAY => self.nodelay as i32,
            TCP_MAXSEG => {
                if cx.connected {
                    if self.user_mss != 0 {
                        self.user_mss.min(LOOPBACK_MSS)
                    } else {
                        LOOPBACK_MSS
                    }
                } else if self.user_mss != 0 {
                    self.user_mss
                } else {
                    TCP_MSS_DEFAULT
                }
            }
            TCP_CORK => self.cork as i32,
            TCP_KEEPIDLE => self.keepidle,
            TCP_KEEPINTVL => self.keepintvl,
            TCP_KEEPCNT => self.keepcnt,
            TCP_SYNCNT => self.syncnt,
            TCP_LINGER2 => match self.linger2 {
                0 => FIN_TIMEOUT,
                v => v,
            },
            TCP_QUICKACK => self.quickack as i32,
            TCP_USER_TIMEOUT => self.user_timeout,
            _ => return Err(Errno::ENOPROTOOPT),
        }))
    }
}
