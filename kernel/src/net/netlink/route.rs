//! NETLINK_ROUTE requests: links, addresses and routes of `net::inet::iface`, answered as
//! Linux's rtnetlink answers them (message layouts of <linux/rtnetlink.h>, <linux/if_link.h>,
//! <linux/if_addr.h>; the flow of netlink_rcv_skb and rtnetlink_rcv_msg).

use alloc::vec::Vec;

use smoltcp::wire::{IpAddress, IpCidr, Ipv4Address, Ipv6Address};

use super::msg::*;
use crate::error::Errno;
use crate::fs::socket::{AF_INET, AF_INET6};
use crate::net::inet::iface::{self, Config, Link, Route, ETH0_INDEX, LO_INDEX};

const RTM_NEWLINK: u16 = 16;
const RTM_DELLINK: u16 = 17;
const RTM_GETLINK: u16 = 18;
const RTM_SETLINK: u16 = 19;
const RTM_NEWADDR: u16 = 20;
const RTM_DELADDR: u16 = 21;
const RTM_GETADDR: u16 = 22;
const RTM_NEWROUTE: u16 = 24;
const RTM_DELROUTE: u16 = 25;
const RTM_GETROUTE: u16 = 26;
const RTM_GETNEIGH: u16 = 30;
const RTM_GETRULE: u16 = 34;
const RTM_GETNETCONF: u16 = 82;
/// Linux's RTM_MAX in 6.1 (RTM_GETTUNNEL + 3).
const RTM_MAX: u16 = 123;
/// NLMSG_MIN_TYPE: types below are control messages.
const NLMSG_MIN_TYPE: u16 = 0x10;

const IFLA_ADDRESS: u16 = 1;
const IFLA_BROADCAST: u16 = 2;
const IFLA_IFNAME: u16 = 3;
const IFLA_MTU: u16 = 4;
const IFLA_QDISC: u16 = 6;
const IFLA_STATS: u16 = 7;
const IFLA_TXQLEN: u16 = 13;
const IFLA_OPERSTATE: u16 = 16;
const IFLA_LINKMODE: u16 = 17;
const IFLA_STATS64: u16 = 23;
const IFLA_GROUP: u16 = 27;
const IFLA_PROMISCUITY: u16 = 30;
const IFLA_NUM_TX_QUEUES: u16 = 31;
const IFLA_NUM_RX_QUEUES: u16 = 32;
const IFLA_CARRIER: u16 = 33;
const IFLA_MIN_MTU: u16 = 50;
const IFLA_MAX_MTU: u16 = 51;

const IFA_ADDRESS: u16 = 1;
const IFA_LOCAL: u16 = 2;
const IFA_LABEL: u16 = 3;
const IFA_BROADCAST: u16 = 4;
const IFA_CACHEINFO: u16 = 6;
const IFA_FLAGS: u16 = 8;
const IFA_F_PERMANENT: u8 = 0x80;

const RTA_DST: u16 = 1;
const RTA_OIF: u16 = 4;
const RTA_GATEWAY: u16 = 5;
const RTA_PRIORITY: u16 = 6;
const RTA_PREFSRC: u16 = 7;
const RTA_TABLE: u16 = 15;
const RT_TABLE_UNSPEC: u8 = 0;
const RT_TABLE_MAIN: u8 = 254;
const RT_TABLE_LOCAL: u8 = 255;
const RTN_UNICAST: u8 = 1;
const RTN_LOCAL: u8 = 2;
const RT_SCOPE_UNIVERSE: u8 = 0;
const RT_SCOPE_LINK: u8 = 253;
const RT_SCOPE_HOST: u8 = 254;
const RTM_F_CLONED: u32 = 0x200;

const ARPHRD_ETHER: u16 = 1;
const ARPHRD_LOOPBACK: u16 = 772;
const IF_OPER_UNKNOWN: u8 = 0;
const IF_OPER_DOWN: u8 = 2;
const IF_OPER_UP: u8 = 6;
const INFINITY_LIFE_TIME: u32 = u32::MAX;

/// Datagram size for dumps (Linux's NLMSG_GOODSIZE with 4 KiB pages is a little less; user
/// space reads dumps with buffers of 8 KiB or more).
const DUMP_DATAGRAM: usize = 4096;

/// Handles every message of one send; returns the datagrams to queue on the sender.
pub fn handle(data: &[u8], port: u32, cap_ack: bool, privileged: bool) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut rest = data;
    while rest.len() >= NLMSG_HDRLEN {
        let Some(h) = Header::parse(rest) else { break };
        let len = h.len as usize;
        if len < NLMSG_HDRLEN || len > rest.len() {
            break;
        }
        let body = &rest[..len];
        let result = if h.flags & NLM_F_REQUEST == 0 || h.kind < NLMSG_MIN_TYPE {
            Ok(false)
        } else {
            request(&h, &body[NLMSG_HDRLEN..], port, privileged, &mut out)
        };
        match result {
            // A dump: its NLMSG_DONE ends it, no acknowledgement.
            Ok(true) => {}
            Ok(false) if h.flags & NLM_F_ACK != 0 => out.push(error(&h, body, 0, cap_ack, port)),
            Ok(false) => {}
            Err(e) => out.push(error(&h, body, e as i32, cap_ack, port)),
        }
        rest = &rest[align(len).min(rest.len())..];
    }
    out
}

/// One request; `Ok(true)` if it was a dump.
fn request(
    h: &Header,
    payload: &[u8],
    port: u32,
    privileged: bool,
    out: &mut Vec<Vec<u8>>,
) -> Result<bool, Errno> {
    if h.kind > RTM_MAX {
        return Err(Errno::EOPNOTSUPP);
    }
    // Only the GET kind (type & 3 == 2) is open to everyone.
    if h.kind & 3 != 2 && !privileged {
        return Err(Errno::EPERM);
    }
    let family = payload.first().copied().unwrap_or(0) as i32;
    let dump = h.kind & 3 == 2 && h.flags & NLM_F_DUMP == NLM_F_DUMP;
    let mut replies = Vec::new();
    match h.kind {
        RTM_GETLINK if dump => dump_links(&mut replies, h, port),
        RTM_GETLINK => get_link(payload, &mut replies, h, port)?,
        RTM_GETADDR if dump => dump_addrs(family, &mut replies, h, port),
        RTM_GETROUTE if dump => dump_routes(family, &mut replies, h, port),
        RTM_GETROUTE => get_route(payload, &mut replies, h, port)?,
        RTM_GETNEIGH | RTM_GETRULE | RTM_GETNETCONF if dump => {}
        RTM_NEWLINK | RTM_SETLINK => {
            set_link(payload, h.kind == RTM_NEWLINK && h.flags & NLM_F_CREATE != 0)?
        }
        RTM_DELLINK => return Err(Errno::EOPNOTSUPP),
        RTM_NEWADDR => new_addr(payload, h.flags)?,
        RTM_DELADDR => del_addr(payload)?,
        RTM_NEWROUTE => new_route(payload, h.flags)?,
        RTM_DELROUTE => del_route(payload)?,
        _ => return Err(Errno::EOPNOTSUPP),
    }
    if dump {
        pack(replies, out);
        out.push(done(h.seq, port));
    } else {
        out.extend(replies);
    }
    Ok(dump)
}

/// Packs dump messages into datagrams of up to DUMP_DATAGRAM bytes.
fn pack(messages: Vec<Vec<u8>>, out: &mut Vec<Vec<u8>>) {
    let mut cur: Vec<u8> = Vec::new();
    for m in messages {
        if !cur.is_empty() && cur.len() + m.len() > DUMP_DATAGRAM {
            out.push(core::mem::take(&mut cur));
        }
        cur.extend_from_slice(&m);
    }
    if !cur.is_empty() {
        out.push(cur);
    }
}

fn stats_of(index: u32) -> crate::drivers::net::Stats {
    crate::net::inet::link_stats(index)
}

fn link_message(l: &Link, kind: u16, flags: u16, seq: u32, port: u32) -> Vec<u8> {
    let stats = stats_of(l.index);
    let mut b = Builder::new(kind, flags, seq, port);
    let mut ifi = Vec::with_capacity(16);
    ifi.extend_from_slice(&[0, 0]);
    ifi.extend_from_slice(
        &(if l.is_loopback() { ARPHRD_LOOPBACK } else { ARPHRD_ETHER }).to_ne_bytes(),
    );
    ifi.extend_from_slice(&(l.index as i32).to_ne_bytes());
    ifi.extend_from_slice(&l.flags().to_ne_bytes());
    ifi.extend_from_slice(&0u32.to_ne_bytes());
    b.bytes(&ifi);
    let oper = match (l.is_loopback(), l.up) {
        (_, false) => IF_OPER_DOWN,
        (true, true) => IF_OPER_UNKNOWN,
        (false, true) => IF_OPER_UP,
    };
    b.attr_str(IFLA_IFNAME, l.name)
        .attr_u32(IFLA_TXQLEN, 1000)
        .attr_u8(IFLA_OPERSTATE, oper)
        .attr_u8(IFLA_LINKMODE, 0)
        .attr_u32(IFLA_MTU, l.mtu)
        .attr_u32(IFLA_MIN_MTU, if l.is_loopback() { 0 } else { 68 })
        .attr_u32(IFLA_MAX_MTU, if l.is_loopback() { 0 } else { 65535 })
        .attr_u32(IFLA_GROUP, 0)
        .attr_u32(IFLA_PROMISCUITY, 0)
        .attr_u32(IFLA_NUM_TX_QUEUES, 1)
        .attr_u32(IFLA_NUM_RX_QUEUES, 1)
        .attr_u8(IFLA_CARRIER, 1)
        .attr_str(IFLA_QDISC, if l.is_loopback() { "noqueue" } else { "pfifo_fast" })
        .attr(IFLA_ADDRESS, &l.mac)
        .attr(IFLA_BROADCAST, if l.is_loopback() { &[0; 6] } else { &[0xff; 6] });
    // rtnl_link_stats / rtnl_link_stats64: rx_packets, tx_packets, rx_bytes, tx_bytes,
    // rx_errors, tx_errors, rx_dropped, tx_dropped, then 16 counters we do not keep.
    let counters = [
        stats.rx_packets,
        stats.tx_packets,
        stats.rx_bytes,
        stats.tx_bytes,
        0,
        0,
        stats.rx_dropped,
        stats.tx_dropped,
    ];
    let mut s32 = Vec::with_capacity(24 * 4);
    let mut s64 = Vec::with_capacity(24 * 8);
    for i in 0..24 {
        let v = counters.get(i).copied().unwrap_or(0);
        s32.extend_from_slice(&(v as u32).to_ne_bytes());
        s64.extend_from_slice(&v.to_ne_bytes());
    }
    b.attr(IFLA_STATS, &s32).attr(IFLA_STATS64, &s64);
    b.finish()
}

fn dump_links(out: &mut Vec<Vec<u8>>, h: &Header, port: u32) {
    let links = iface::with_config(|c| c.links.clone());
    for l in &links {
        out.push(link_message(l, RTM_NEWLINK, NLM_F_MULTI, h.seq, port));
    }
}

/// The link a request names: ifi_index, else IFLA_IFNAME.
fn find_link(c: &Config, payload: &[u8]) -> Result<usize, Errno> {
    if payload.len() < 16 {
        return Err(Errno::EINVAL);
    }
    let index = i32::from_ne_bytes([payload[4], payload[5], payload[6], payload[7]]);
    let name = attrs(&payload[16..]).into_iter().find(|(k, _)| *k == IFLA_IFNAME).map(|(_, v)| {
        let end = v.iter().position(|&b| b == 0).unwrap_or(v.len());
        &v[..end]
    });
    c.links
        .iter()
        .position(
            |l| if index > 0 { l.index == index as u32 } else { name == Some(l.name.as_bytes()) },
        )
        .ok_or(Errno::ENODEV)
}

fn get_link(payload: &[u8], out: &mut Vec<Vec<u8>>, h: &Header, port: u32) -> Result<(), Errno> {
    let link = iface::with_config(|c| find_link(c, payload).map(|i| c.links[i].clone()))?;
    out.push(link_message(&link, RTM_NEWLINK, 0, h.seq, port));
    Ok(())
}

/// `ip link set`: IFF_UP through ifi_change/ifi_flags, IFLA_MTU.
fn set_link(payload: &[u8], create: bool) -> Result<(), Errno> {
    if payload.len() < 16 {
        return Err(Errno::EINVAL);
    }
    let flags = u32::from_ne_bytes([payload[8], payload[9], payload[10], payload[11]]);
    let change = u32::from_ne_bytes([payload[12], payload[13], payload[14], payload[15]]);
    let mtu = attrs(&payload[16..])
        .into_iter()
        .find(|(k, v)| *k == IFLA_MTU && v.len() >= 4)
        .map(|(_, v)| u32::from_ne_bytes([v[0], v[1], v[2], v[3]]));
    iface::update(|c| {
        let i = match find_link(c, payload) {
            Ok(i) => i,
            // `ip link add`: no link kinds to create.
            Err(Errno::ENODEV) if create => return Err(Errno::EOPNOTSUPP),
            Err(e) => return Err(e),
        };
        let l = &mut c.links[i];
        if let Some(m) = mtu {
            let (min, max) = if l.is_loopback() { (68, 65536) } else { (68, 1500) };
            if !(min..=max).contains(&m) {
                return Err(Errno::EINVAL);
            }
            l.mtu = m;
        }
        // ifi_change 0 means "all flags" (old iproute2).
        if change & iface::IFF_UP != 0 || change == 0 {
            l.up = flags & iface::IFF_UP != 0;
        }
        Ok(())
    })
}

fn scope_of(a: IpAddress) -> u8 {
    match a {
        IpAddress::Ipv4(v4) if v4.octets()[0] == 127 => RT_SCOPE_HOST,
        IpAddress::Ipv6(v6) if v6 == Ipv6Address::LOCALHOST => RT_SCOPE_HOST,
        IpAddress::Ipv6(v6) if v6.is_unicast_link_local() => RT_SCOPE_LINK,
        _ => RT_SCOPE_UNIVERSE,
    }
}

fn addr_bytes(a: IpAddress) -> Vec<u8> {
    match a {
        IpAddress::Ipv4(v4) => v4.octets().to_vec(),
        IpAddress::Ipv6(v6) => v6.octets().to_vec(),
    }
}

fn family_of(a: IpAddress) -> i32 {
    match a {
        IpAddress::Ipv4(_) => AF_INET,
        IpAddress::Ipv6(_) => AF_INET6,
    }
}

fn addr_message(l: &Link, a: &IpCidr, seq: u32, port: u32) -> Vec<u8> {
    let mut b = Builder::new(RTM_NEWADDR, NLM_F_MULTI, seq, port);
    let addr = a.address();
    b.bytes(&[family_of(addr) as u8, a.prefix_len(), IFA_F_PERMANENT, scope_of(addr)]);
    b.bytes(&l.index.to_ne_bytes());
    let mut cache = Vec::with_capacity(16);
    for v in [INFINITY_LIFE_TIME, INFINITY_LIFE_TIME, 0, 0] {
        cache.extend_from_slice(&v.to_ne_bytes());
    }
    match addr {
        IpAddress::Ipv4(v4) => {
            b.attr(IFA_ADDRESS, &addr_bytes(addr)).attr(IFA_LOCAL, &addr_bytes(addr));
            if !l.is_loopback() && a.prefix_len() < 31 {
                let host_bits = u32::MAX.checked_shr(a.prefix_len() as u32).unwrap_or(0);
                let bcast = Ipv4Address::from(u32::from(v4) | host_bits);
                b.attr(IFA_BROADCAST, &bcast.octets());
            }
            b.attr_str(IFA_LABEL, l.name);
        }
        IpAddress::Ipv6(_) => {
            b.attr(IFA_ADDRESS, &addr_bytes(addr));
        }
    }
    b.attr_u32(IFA_FLAGS, IFA_F_PERMANENT as u32).attr(IFA_CACHEINFO, &cache);
    b.finish()
}

fn dump_addrs(family: i32, out: &mut Vec<Vec<u8>>, h: &Header, port: u32) {
    let links = iface::with_config(|c| c.links.clone());
    // IPv4 first, then IPv6, as Linux's per-family dumps come.
    for fam in [AF_INET, AF_INET6] {
        if family != 0 && family != fam {
            continue;
        }
        for l in &links {
            for a in l.addrs.iter().filter(|a| family_of(a.address()) == fam) {
                out.push(addr_message(l, a, h.seq, port));
            }
        }
    }
}

/// (index, address, prefix length) of an RTM_NEWADDR/DELADDR.
fn parse_addr(payload: &[u8]) -> Result<(u32, Option<IpAddress>, u8), Errno> {
    if payload.len() < 8 {
        return Err(Errno::EINVAL);
    }
    let family = payload[0] as i32;
    let prefix = payload[1];
    let index = u32::from_ne_bytes([payload[4], payload[5], payload[6], payload[7]]);
    let list = attrs(&payload[8..]);
    let get = |k: u16| list.iter().find(|(t, _)| *t == k).map(|(_, v)| *v);
    let raw = get(IFA_LOCAL).or_else(|| get(IFA_ADDRESS));
    let addr = match (family, raw) {
        (AF_INET, Some(v)) if v.len() >= 4 => {
            if prefix > 32 {
                return Err(Errno::EINVAL);
            }
            Some(IpAddress::Ipv4(Ipv4Address::new(v[0], v[1], v[2], v[3])))
        }
        (AF_INET6, Some(v)) if v.len() >= 16 => {
            if prefix > 128 {
                return Err(Errno::EINVAL);
            }
            let mut o = [0u8; 16];
            o.copy_from_slice(&v[..16]);
            Some(IpAddress::Ipv6(Ipv6Address::from(o)))
        }
        (AF_INET | AF_INET6, _) => None,
        _ => return Err(Errno::EAFNOSUPPORT),
    };
    Ok((index, addr, prefix))
}

fn new_addr(payload: &[u8], flags: u16) -> Result<(), Errno> {
    let (index, addr, prefix) = parse_addr(payload)?;
    let addr = addr.ok_or(Errno::EINVAL)?;
    if !addr.is_unicast() {
        return Err(Errno::EINVAL);
    }
    iface::update(|c| {
        let l = c.links.iter_mut().find(|l| l.index == index).ok_or(Errno::ENODEV)?;
        let cidr = IpCidr::new(addr, prefix);
        if let Some(existing) = l.addrs.iter_mut().find(|a| a.address() == addr) {
            if flags & NLM_F_EXCL != 0 || flags & NLM_F_REPLACE == 0 {
                return Err(Errno::EEXIST);
            }
            *existing = cidr;
            return Ok(());
        }
        // smoltcp keeps 8 addresses per interface; lo also carries eth0's.
        let total: usize = c.links.iter().map(|l| l.addrs.len()).sum();
        if total >= 8 {
            return Err(Errno::ENOSPC);
        }
        let l = c.links.iter_mut().find(|l| l.index == index).ok_or(Errno::ENODEV)?;
        l.addrs.try_reserve(1).map_err(|_| Errno::ENOMEM)?;
        l.addrs.push(cidr);
        Ok(())
    })
}

fn del_addr(payload: &[u8]) -> Result<(), Errno> {
    let (index, addr, prefix) = parse_addr(payload)?;
    iface::update(|c| {
        let l = c.links.iter_mut().find(|l| l.index == index).ok_or(Errno::ENODEV)?;
        let pos = l
            .addrs
            .iter()
            .position(|a| {
                addr.is_none_or(|x| a.address() == x) && (prefix == 0 || a.prefix_len() == prefix)
            })
            .ok_or(Errno::EADDRNOTAVAIL)?;
        l.addrs.remove(pos);
        Ok(())
    })
}

/// A route as rtnetlink lists it: (route, table, type, scope, prefsrc, metric).
type Listed = (Route, u8, u8, u8, Option<IpAddress>, Option<u32>);

/// Every route as rtnetlink lists it.
fn all_routes(c: &Config) -> Vec<Listed> {
    let mut v = Vec::new();
    let kernel = |dst: IpCidr, ifindex: u32| Route {
        dst,
        via: None,
        ifindex,
        protocol: iface::RTPROT_KERNEL,
    };
    for fam in [AF_INET, AF_INET6] {
        let v6 = fam == AF_INET6;
        let metric = |m: u32| v6.then_some(m);
        for l in &c.links {
            for a in l.addrs.iter().filter(|a| family_of(a.address()) == fam) {
                let net = network(a);
                let scope = if v6 { RT_SCOPE_UNIVERSE } else { RT_SCOPE_LINK };
                if !l.is_loopback() || v6 {
                    v.push((
                        kernel(net, l.index),
                        RT_TABLE_MAIN,
                        RTN_UNICAST,
                        scope,
                        (!v6).then_some(a.address()),
                        metric(256),
                    ));
                }
            }
        }
        for r in c.routes.iter().filter(|r| family_of(r.dst.address()) == fam) {
            let scope = if r.via.is_some() { RT_SCOPE_UNIVERSE } else { RT_SCOPE_LINK };
            v.push((*r, RT_TABLE_MAIN, RTN_UNICAST, scope, None, metric(1024)));
        }
        for l in &c.links {
            for a in l.addrs.iter().filter(|a| family_of(a.address()) == fam) {
                let host = IpCidr::new(a.address(), if v6 { 128 } else { 32 });
                if l.is_loopback() && !v6 {
                    v.push((
                        kernel(network(a), l.index),
                        RT_TABLE_LOCAL,
                        RTN_LOCAL,
                        RT_SCOPE_HOST,
                        Some(a.address()),
                        None,
                    ));
                }
                v.push((
                    kernel(host, l.index),
                    RT_TABLE_LOCAL,
                    RTN_LOCAL,
                    RT_SCOPE_HOST,
                    (!v6).then_some(a.address()),
                    metric(0),
                ));
            }
        }
    }
    v
}

use iface::network;

#[allow(clippy::too_many_arguments)]
fn route_message(
    r: &Route,
    table: u8,
    kind: u8,
    scope: u8,
    prefsrc: Option<IpAddress>,
    metric: Option<u32>,
    flags: u16,
    rtm_flags: u32,
    seq: u32,
    port: u32,
) -> Vec<u8> {
    let mut b = Builder::new(RTM_NEWROUTE, flags, seq, port);
    let dst = r.dst.address();
    b.bytes(&[family_of(dst) as u8, r.dst.prefix_len(), 0, 0, table, r.protocol, scope, kind]);
    b.bytes(&rtm_flags.to_ne_bytes());
    b.attr_u32(RTA_TABLE, table as u32);
    if let Some(m) = metric {
        b.attr_u32(RTA_PRIORITY, m);
    }
    if r.dst.prefix_len() > 0 {
        b.attr(RTA_DST, &addr_bytes(dst));
    }
    if let Some(src) = prefsrc {
        b.attr(RTA_PREFSRC, &addr_bytes(src));
    }
    if let Some(gw) = r.via {
        b.attr(RTA_GATEWAY, &addr_bytes(gw));
    }
    b.attr_u32(RTA_OIF, r.ifindex);
    b.finish()
}

fn dump_routes(family: i32, out: &mut Vec<Vec<u8>>, h: &Header, port: u32) {
    let routes = iface::with_config(all_routes);
    for (r, table, kind, scope, src, metric) in routes {
        if family != 0 && family != family_of(r.dst.address()) {
            continue;
        }
        out.push(route_message(&r, table, kind, scope, src, metric, NLM_F_MULTI, 0, h.seq, port));
    }
}

/// (family, dst_len, table, type, dst, gateway, oif) of an rtmsg request.
type RouteRequest = (i32, u8, u8, u8, Option<IpAddress>, Option<IpAddress>, Option<u32>);

fn parse_route(payload: &[u8]) -> Result<RouteRequest, Errno> {
    if payload.len() < 12 {
        return Err(Errno::EINVAL);
    }
    let family = payload[0] as i32;
    let dst_len = payload[1];
    let table = payload[4];
    let kind = payload[7];
    let width = match family {
        AF_INET => 4,
        AF_INET6 => 16,
        _ => return Err(Errno::EAFNOSUPPORT),
    };
    if dst_len as usize > width * 8 {
        return Err(Errno::EINVAL);
    }
    let list = attrs(&payload[12..]);
    let addr = |k: u16| -> Result<Option<IpAddress>, Errno> {
        match list.iter().find(|(t, _)| *t == k) {
            None => Ok(None),
            Some((_, v)) if v.len() < width => Err(Errno::EINVAL),
            Some((_, v)) if width == 4 => {
                Ok(Some(IpAddress::Ipv4(Ipv4Address::new(v[0], v[1], v[2], v[3]))))
            }
            Some((_, v)) => {
                let mut o = [0u8; 16];
                o.copy_from_slice(&v[..16]);
                Ok(Some(IpAddress::Ipv6(Ipv6Address::from(o))))
            }
        }
    };
    let oif = list
        .iter()
        .find(|(t, v)| *t == RTA_OIF && v.len() >= 4)
        .map(|(_, v)| u32::from_ne_bytes([v[0], v[1], v[2], v[3]]));
    Ok((family, dst_len, table, kind, addr(RTA_DST)?, addr(RTA_GATEWAY)?, oif))
}

fn unspecified(family: i32) -> IpAddress {
    if family == AF_INET {
        IpAddress::Ipv4(Ipv4Address::UNSPECIFIED)
    } else {
        IpAddress::Ipv6(Ipv6Address::UNSPECIFIED)
    }
}

fn new_route(payload: &[u8], flags: u16) -> Result<(), Errno> {
    let (family, dst_len, table, kind, dst, via, oif) = parse_route(payload)?;
    if !matches!(table, RT_TABLE_UNSPEC | RT_TABLE_MAIN) || !matches!(kind, 0 | RTN_UNICAST) {
        return Err(Errno::EOPNOTSUPP);
    }
    let dst = IpCidr::new(dst.unwrap_or(unspecified(family)), dst_len);
    let flags = iface::RouteFlags {
        excl: flags & NLM_F_EXCL != 0,
        replace: flags & NLM_F_REPLACE != 0,
        create: flags & NLM_F_CREATE != 0,
    };
    iface::add_route(dst, via, oif, payload[5], flags)
}

fn del_route(payload: &[u8]) -> Result<(), Errno> {
    let (family, dst_len, _table, _kind, dst, via, oif) = parse_route(payload)?;
    iface::del_route(IpCidr::new(dst.unwrap_or(unspecified(family)), dst_len), via, oif)
}

/// `ip route get ADDR`: the route a packet to RTA_DST takes.
fn get_route(payload: &[u8], out: &mut Vec<Vec<u8>>, h: &Header, port: u32) -> Result<(), Errno> {
    let (family, _, _, _, dst, _, _) = parse_route(payload)?;
    let dst = dst.unwrap_or(unspecified(family));
    let width = if family == AF_INET { 32 } else { 128 };
    let (route, src, table, kind, scope) = iface::with_config(|c| -> Result<_, Errno> {
        let host = IpCidr::new(dst, width);
        for l in &c.links {
            if l.addrs.iter().any(|a| a.address() == dst)
                || (l.is_loopback() && iface::is_loopback(dst))
            {
                let r = Route {
                    dst: host,
                    via: None,
                    ifindex: LO_INDEX,
                    protocol: iface::RTPROT_KERNEL,
                };
                let src = if family == AF_INET { Some(dst) } else { None };
                return Ok((r, src, RT_TABLE_LOCAL, RTN_LOCAL, RT_SCOPE_HOST));
            }
        }
        let src = iface::eth0_source_in(c, dst).ok_or(Errno::ENETUNREACH)?;
        let eth = c.links.iter().find(|l| l.index == ETH0_INDEX).ok_or(Errno::ENETUNREACH)?;
        let via = if eth.addrs.iter().any(|a| a.contains_addr(&dst)) {
            None
        } else {
            c.routes
                .iter()
                .filter(|r| r.ifindex == ETH0_INDEX && r.dst.contains_addr(&dst))
                .max_by_key(|r| r.dst.prefix_len())
                .and_then(|r| r.via)
        };
        let r = Route { dst: host, via, ifindex: ETH0_INDEX, protocol: 0 };
        Ok((r, Some(src), RT_TABLE_MAIN, RTN_UNICAST, RT_SCOPE_UNIVERSE))
    })?;
    out.push(route_message(&route, table, kind, scope, src, None, 0, RTM_F_CLONED, h.seq, port));
    Ok(())
}
