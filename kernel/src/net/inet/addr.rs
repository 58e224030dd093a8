//! sockaddr_in and sockaddr_in6 <-> smoltcp endpoints.

use alloc::vec::Vec;

use smoltcp::wire::{IpAddress, IpEndpoint, Ipv4Address, Ipv6Address};

use crate::error::{Errno, Result};
use crate::fs::socket::{AF_INET, AF_INET6};

/// An address as a socket call gives it: the endpoint, or "any address" with a port.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SockAddr {
    /// None for INADDR_ANY / in6addr_any.
    pub addr: Option<IpAddress>,
    pub port: u16,
}

/// A sockaddr for bind or a TCP connect, checked as Linux's inet_bind/inet6_bind and
/// tcp_v4_connect/tcp_v6_connect do: the length for the socket's family first (EINVAL), then
/// the family (EAFNOSUPPORT).
pub fn parse(bytes: &[u8], family: i32) -> Result<SockAddr> {
    let fam = |b: &[u8]| b.get(..2).map(|f| u16::from_ne_bytes([f[0], f[1]]) as i32);
    if family == AF_INET {
        if bytes.len() < 16 {
            return Err(Errno::EINVAL);
        }
        if fam(bytes) != Some(AF_INET) {
            return Err(Errno::EAFNOSUPPORT);
        }
        return Ok(v4(bytes));
    }
    if bytes.len() < 24 {
        return Err(Errno::EINVAL);
    }
    if fam(bytes) != Some(AF_INET6) {
        return Err(Errno::EAFNOSUPPORT);
    }
    let port = u16::from_be_bytes([bytes[2], bytes[3]]);
    let mut raw = [0u8; 16];
    raw.copy_from_slice(&bytes[8..24]);
    let a = Ipv6Address::from(raw);
    // An IPv4-mapped address (::ffff:a.b.c.d) reaches the IPv4 side.
    if raw[..10] == [0; 10] && raw[10] == 0xff && raw[11] == 0xff {
        let v4 = Ipv4Address::new(raw[12], raw[13], raw[14], raw[15]);
        return Ok(SockAddr { addr: (!v4.is_unspecified()).then_some(IpAddress::Ipv4(v4)), port });
    }
    Ok(SockAddr { addr: (!a.is_unspecified()).then_some(IpAddress::Ipv6(a)), port })
}

fn v4(bytes: &[u8]) -> SockAddr {
    let port = u16::from_be_bytes([bytes[2], bytes[3]]);
    let a = Ipv4Address::new(bytes[4], bytes[5], bytes[6], bytes[7]);
    SockAddr { addr: (!a.is_unspecified()).then_some(IpAddress::Ipv4(a)), port }
}

/// bind's sockaddr: an AF_INET socket also takes AF_UNSPEC with INADDR_ANY as AF_INET (Linux
/// keeps that for old programs).
pub fn parse_bind(bytes: &[u8], family: i32) -> Result<SockAddr> {
    if family == AF_INET && bytes.len() >= 16 && bytes[..2] == [0, 0] && bytes[4..8] == [0; 4] {
        return Ok(v4(bytes));
    }
    parse(bytes, family)
}

/// A UDP destination (connect, sendto): an AF_INET6 socket also takes a sockaddr_in (Linux's
/// udpv6_pre_connect and udpv6_sendmsg hand it to the IPv4 side), an AF_INET socket's sendto
/// takes AF_UNSPEC as AF_INET.
pub fn parse_udp(bytes: &[u8], family: i32) -> Result<SockAddr> {
    if bytes.len() < 2 {
        return Err(Errno::EINVAL);
    }
    let fam = u16::from_ne_bytes([bytes[0], bytes[1]]) as i32;
    if (family == AF_INET6 && fam == AF_INET) || (family == AF_INET && fam == 0) {
        if bytes.len() < 16 {
            return Err(Errno::EINVAL);
        }
        return Ok(v4(bytes));
    }
    parse(bytes, family)
}

/// The sockaddr bytes for `ep` in the socket's family (IPv4 in an AF_INET6 socket is mapped).
pub fn encode(addr: Option<IpAddress>, port: u16, family: i32) -> Vec<u8> {
    let mut v = Vec::new();
    if family == AF_INET {
        v.extend_from_slice(&(AF_INET as u16).to_ne_bytes());
        v.extend_from_slice(&port.to_be_bytes());
        let octets = match addr {
            Some(IpAddress::Ipv4(a)) => a.octets(),
            _ => [0; 4],
        };
        v.extend_from_slice(&octets);
        v.extend_from_slice(&[0; 8]);
    } else {
        v.extend_from_slice(&(AF_INET6 as u16).to_ne_bytes());
        v.extend_from_slice(&port.to_be_bytes());
        v.extend_from_slice(&[0; 4]);
        let octets = match addr {
            Some(IpAddress::Ipv6(a)) => a.octets(),
            Some(IpAddress::Ipv4(a)) => {
                let o = a.octets();
                [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, o[0], o[1], o[2], o[3]]
            }
            None => [0; 16],
        };
        v.extend_from_slice(&octets);
        v.extend_from_slice(&[0; 4]);
    }
    v
}

pub fn encode_endpoint(ep: IpEndpoint, family: i32) -> Vec<u8> {
    encode(Some(ep.addr), ep.port, family)
}
