//! /proc/net/{dev,route,if_inet6}: the interfaces, their counters, the IPv4 routes and the IPv6
//! addresses in Linux's formats (net/core/net-procfs.c dev_seq_show, net/ipv4/fib_trie.c
//! fib_route_seq_show, net/ipv6/addrconf.c if6_seq_show), as ifconfig, route and netstat read
//! them.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;

use smoltcp::wire::{IpAddress, IpCidr};

use super::tree::{Entry, Node};
use crate::error::Result;
use crate::net::inet::iface;

pub static DIR: &[Entry] = &[
    Entry { id: 80, name: "dev", node: Node::File(dev, 0o444) },
    Entry { id: 81, name: "route", node: Node::File(route, 0o444) },
    Entry { id: 82, name: "if_inet6", node: Node::File(if_inet6, 0o444) },
];

fn dev() -> Result<Vec<u8>> {
    let mut s = String::from(
        "Inter-|   Receive                                                |  Transmit\n \
         face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n",
    );
    let links =
        iface::with_config(|c| c.links.iter().map(|l| (l.index, l.name)).collect::<Vec<_>>());
    for (index, name) in links {
        let st = crate::net::inet::link_stats(index);
        let _ = writeln!(
            s,
            "{:>6}:{:8} {:7} {:4} {:4} {:4} {:5} {:10} {:9} {:8} {:7} {:4} {:4} {:4} {:5} {:7} {:10}",
            name,
            st.rx_bytes,
            st.rx_packets,
            0,
            st.rx_dropped,
            0,
            0,
            0,
            0,
            st.tx_bytes,
            st.tx_packets,
            0,
            st.tx_dropped,
            0,
            0,
            0,
            0
        );
    }
    Ok(s.into_bytes())
}

/// An IPv4 address as /proc/net/route prints it: the network-order word in hex.
fn hex4(a: IpAddress) -> u32 {
    match a {
        IpAddress::Ipv4(v4) => u32::from_ne_bytes(v4.octets()),
        IpAddress::Ipv6(_) => 0,
    }
}

fn padded(line: String) -> String {
    let mut l = line;
    while l.len() < 127 {
        l.push(' ');
    }
    l.push('\n');
    l
}

fn route() -> Result<Vec<u8>> {
    let mut s = padded(String::from(
        "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT",
    ));
    const RTF_UP: u32 = 1;
    const RTF_GATEWAY: u32 = 2;
    let rows = iface::with_config(|c| {
        let name = |i: u32| c.links.iter().find(|l| l.index == i).map_or("?", |l| l.name);
        let mut rows = Vec::new();
        for l in c.links.iter().filter(|l| !l.is_loopback() && l.up) {
            for a in l.addrs.iter().filter(|a| matches!(a, IpCidr::Ipv4(_))) {
                rows.push((l.name, iface::network(a), None));
            }
        }
        for r in c.routes.iter().filter(|r| matches!(r.dst, IpCidr::Ipv4(_))) {
            rows.push((name(r.ifindex), r.dst, r.via));
        }
        rows
    });
    for (dev, dst, via) in rows {
        let mask = !u32::MAX.checked_shr(dst.prefix_len() as u32).unwrap_or(0);
        let flags = RTF_UP | if via.is_some() { RTF_GATEWAY } else { 0 };
        let line = alloc::format!(
            "{}\t{:08X}\t{:08X}\t{:04X}\t0\t0\t0\t{:08X}\t0\t0\t0",
            dev,
            hex4(dst.address()),
            via.map_or(0, hex4),
            flags,
            u32::from_ne_bytes(mask.to_be_bytes()),
        );
        s.push_str(&padded(line));
    }
    Ok(s.into_bytes())
}

fn if_inet6() -> Result<Vec<u8>> {
    let mut s = String::new();
    let rows = iface::with_config(|c| {
        let mut rows = Vec::new();
        for l in &c.links {
            for a in &l.addrs {
                if let IpAddress::Ipv6(v6) = a.address() {
                    rows.push((v6, l.index, a.prefix_len(), l.name));
                }
            }
        }
        rows
    });
    for (v6, index, prefix, name) in rows {
        let scope = if v6.is_loopback() {
            0x10
        } else if v6.is_unicast_link_local() {
            0x20
        } else {
            0
        };
        for b in v6.octets() {
            let _ = write!(s, "{b:02x}");
        }
        let _ = writeln!(s, " {index:02x} {prefix:02x} {scope:02x} 80 {name:>8}");
    }
    Ok(s.into_bytes())
}
