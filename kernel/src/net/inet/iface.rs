//! Network interfaces as user space sees them: `lo` (index 1) and, when the machine has a
//! virtio-net card, `eth0` (index 2); their flags, MTU, addresses and the routing table.
//!
//! The configuration here is the truth that netlink, the SIOC*IF* ioctls and /proc/net read and
//! change; `apply` copies it into the smoltcp interfaces. It sits under its own lock, not the
//! stack's, so the socket layer can ask "is this address ours / reachable" at any time (lock
//! order: the stack's lock, then this one; never the other way).
//!
//! Two smoltcp interfaces share one socket set: `eth0` (Ethernet) and `lo` (IP). The stack polls
//! `eth0` first; smoltcp's `lo` would send any packet it is given, so `eth0` must take every
//! packet for a non-local destination, and must refuse the local ones: its smoltcp routes are
//! the configured routes with the loopback ranges (127.0.0.0/8, ::/16) cut out, so a loopback
//! packet finds no route on `eth0` and goes to `lo` in the same poll. The addresses of `eth0`
//! are also given to `lo` (as /32 and /128): Linux delivers packets to the host's own addresses
//! through `lo`.

use alloc::vec::Vec;

use smoltcp::iface::{Interface, Route as SmolRoute};
use smoltcp::wire::{IpAddress, IpCidr, Ipv4Address, Ipv4Cidr, Ipv6Address, Ipv6Cidr};

use crate::error::{Errno, Result};
use crate::sync::Mutex;

pub const LO_INDEX: u32 = 1;
pub const ETH0_INDEX: u32 = 2;

// Linux's net_device_flags.
pub const IFF_UP: u32 = 0x1;
pub const IFF_BROADCAST: u32 = 0x2;
pub const IFF_LOOPBACK: u32 = 0x8;
pub const IFF_RUNNING: u32 = 0x40;
pub const IFF_MULTICAST: u32 = 0x1000;
pub const IFF_LOWER_UP: u32 = 0x10000;

/// One interface's settings.
#[derive(Clone, Debug)]
pub struct Link {
    pub index: u32,
    pub name: &'static str,
    /// IFF_UP as set by the administrator (the rest of the flags follow from it).
    pub up: bool,
    pub mtu: u32,
    pub mac: [u8; 6],
    pub addrs: Vec<IpCidr>,
}

impl Link {
    pub fn is_loopback(&self) -> bool {
        self.index == LO_INDEX
    }

    /// The flags SIOCGIFFLAGS and ifi_flags report.
    pub fn flags(&self) -> u32 {
        let kind = if self.is_loopback() { IFF_LOOPBACK } else { IFF_BROADCAST | IFF_MULTICAST };
        kind | if self.up { IFF_UP | IFF_RUNNING | IFF_LOWER_UP } else { 0 }
    }
}

/// A route of the main table. Routes to an interface's own subnets are not stored: they follow
/// from its addresses (Linux's "proto kernel" routes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Route {
    pub dst: IpCidr,
    pub via: Option<IpAddress>,
    pub ifindex: u32,
    /// rtm_protocol: RTPROT_BOOT (3) for the kernel command line, RTPROT_STATIC (4) for a user's.
    pub protocol: u8,
}

pub struct Config {
    pub links: Vec<Link>,
    pub routes: Vec<Route>,
}

static CONFIG: Mutex<Config> = Mutex::new(Config { links: Vec::new(), routes: Vec::new() });

/// Reads the configuration.
pub fn with_config<T>(f: impl FnOnce(&Config) -> T) -> T {
    f(&CONFIG.lock())
}

fn lo_link() -> Link {
    Link {
        index: LO_INDEX,
        name: "lo",
        up: true,
        mtu: 65536,
        mac: [0; 6],
        addrs: alloc::vec![
            IpCidr::new(IpAddress::Ipv4(Ipv4Address::new(127, 0, 0, 1)), 8),
            IpCidr::new(IpAddress::Ipv6(Ipv6Address::LOCALHOST), 128),
        ],
    }
}

/// The modified EUI-64 interface identifier of `mac` under `prefix` (64 bits).
fn eui64(prefix: [u16; 4], mac: [u8; 6]) -> Ipv6Address {
    Ipv6Address::new(
        prefix[0],
        prefix[1],
        prefix[2],
        prefix[3],
        u16::from_be_bytes([mac[0] ^ 2, mac[1]]),
        u16::from_be_bytes([mac[2], 0xff]),
        u16::from_be_bytes([0xfe, mac[3]]),
        u16::from_be_bytes([mac[4], mac[5]]),
    )
}

/// Sets up `lo`, and `eth0` if there is a card (`mac`), from the kernel command line:
/// Linux's `ip=CLIENT:SERVER:GATEWAY:NETMASK:HOSTNAME:DEVICE:AUTOCONF` for IPv4, and
/// `posix-x.ip6=ADDRESS/PREFIX[,GATEWAY]` for IPv6 (QEMU's user network: `fec0::/64`, router
/// `fec0::2`). `eth0` always has its link-local address; without `ip=` it has no IPv4 address.
pub fn init(mac: Option<[u8; 6]>) {
    let mut c = CONFIG.lock();
    c.links = alloc::vec![lo_link()];
    c.routes.clear();
    let Some(mac) = mac else { return };
    let mut eth =
        Link { index: ETH0_INDEX, name: "eth0", up: true, mtu: 1500, mac, addrs: Vec::new() };
    if let Some(ip) = crate::cmdline::value("ip") {
        let f: Vec<&str> = ip.split(':').collect();
        let parse = |i: usize| f.get(i).and_then(|s| s.parse::<Ipv4Address>().ok());
        if let Some(client) = parse(0) {
            let prefix = parse(3).map_or(24, |m| u32::from(m).leading_ones() as u8);
            eth.addrs.push(IpCidr::new(IpAddress::Ipv4(client), prefix));
            if let Some(gw) = parse(2) {
                c.routes.push(Route {
                    dst: IpCidr::new(IpAddress::Ipv4(Ipv4Address::UNSPECIFIED), 0),
                    via: Some(IpAddress::Ipv4(gw)),
                    ifindex: ETH0_INDEX,
                    protocol: RTPROT_BOOT,
                });
            }
        }
    }
    if let Some(v6) = crate::cmdline::value("posix-x.ip6") {
        let mut parts = v6.split(',');
        let cidr = parts.next().and_then(|a| {
            let (addr, len) = a.split_once('/').unwrap_or((a, "64"));
            Some(Ipv6Cidr::new(addr.parse().ok()?, len.parse().ok().filter(|l| *l <= 128)?))
        });
        if let Some(cidr) = cidr {
            eth.addrs.push(IpCidr::Ipv6(cidr));
            if let Some(gw) = parts.next().and_then(|g| g.parse::<Ipv6Address>().ok()) {
                c.routes.push(Route {
                    dst: IpCidr::new(IpAddress::Ipv6(Ipv6Address::UNSPECIFIED), 0),
                    via: Some(IpAddress::Ipv6(gw)),
                    ifindex: ETH0_INDEX,
                    protocol: RTPROT_BOOT,
                });
            }
        }
    }
    eth.addrs.push(IpCidr::new(IpAddress::Ipv6(eui64([0xfe80, 0, 0, 0], mac)), 64));
    c.links.push(eth);
}

pub const RTPROT_KERNEL: u8 = 2;
pub const RTPROT_BOOT: u8 = 3;
pub const RTPROT_STATIC: u8 = 4;

/// Whether the machine has a network card (`eth0`).
pub fn has_eth0() -> bool {
    CONFIG.lock().links.iter().any(|l| l.index == ETH0_INDEX)
}

/// Whether `a` is one of this host's addresses.
pub fn is_local(a: IpAddress) -> bool {
    is_local_in(&CONFIG.lock(), a)
}

fn is_local_in(c: &Config, a: IpAddress) -> bool {
    is_loopback(a) || c.links.iter().any(|l| l.addrs.iter().any(|x| x.address() == a))
}

/// The loopback ranges, which never leave through `eth0`.
pub fn is_loopback(a: IpAddress) -> bool {
    match a {
        IpAddress::Ipv4(v4) => v4.octets()[0] == 127,
        IpAddress::Ipv6(v6) => v6 == Ipv6Address::LOCALHOST,
    }
}

/// Where a packet to `dst` leaves: `Some(address of eth0)` to use as its source when `eth0`
/// (up) has a route to it; `None` for a local destination or no route.
pub fn eth0_source_for(dst: IpAddress) -> Option<IpAddress> {
    eth0_source_in(&CONFIG.lock(), dst)
}

/// [`eth0_source_for`] with the configuration already locked.
pub fn eth0_source_in(c: &Config, dst: IpAddress) -> Option<IpAddress> {
    if is_local_in(c, dst) {
        return None;
    }
    let eth = c.links.iter().find(|l| l.index == ETH0_INDEX && l.up)?;
    let same_version = |x: &IpCidr| {
        matches!(
            (x.address(), dst),
            (IpAddress::Ipv4(_), IpAddress::Ipv4(_)) | (IpAddress::Ipv6(_), IpAddress::Ipv6(_))
        )
    };
    if let Some(on_link) = eth.addrs.iter().find(|a| a.contains_addr(&dst)) {
        return Some(on_link.address());
    }
    let routed = c.routes.iter().any(|r| r.ifindex == ETH0_INDEX && r.dst.contains_addr(&dst));
    if !routed {
        return None;
    }
    // The first address of the same version that is not link-local (Linux's source selection
    // in short).
    let usable = |x: &&IpCidr| {
        same_version(x) && !matches!(x.address(), IpAddress::Ipv6(v6) if v6.is_unicast_link_local())
    };
    eth.addrs.iter().find(usable).map(|a| a.address())
}

/// Whether a packet to `dst` has somewhere to go.
pub fn reachable(dst: IpAddress) -> bool {
    is_local(dst) || eth0_source_for(dst).is_some()
}

/// The parts of `cidr` outside `hole` (at most one piece per prefix bit).
fn cut(cidr: IpCidr, hole: IpCidr, out: &mut Vec<IpCidr>) {
    let overlaps = cidr.contains_subnet(&hole) || hole.contains_subnet(&cidr);
    if !overlaps {
        out.push(cidr);
        return;
    }
    if hole.contains_subnet(&cidr) {
        return;
    }
    // `cidr` strictly contains `hole`: split it in two halves.
    let len = cidr.prefix_len() + 1;
    match cidr {
        IpCidr::Ipv4(c) => {
            let base = u32::from(c.address())
                & !(u32::MAX.checked_shr(c.prefix_len() as u32).unwrap_or(0));
            let bit = 1u32 << (32 - len);
            for half in [base, base | bit] {
                cut(IpCidr::Ipv4(Ipv4Cidr::new(Ipv4Address::from(half), len)), hole, out);
            }
        }
        IpCidr::Ipv6(c) => {
            let base = u128::from(c.address())
                & !(u128::MAX.checked_shr(c.prefix_len() as u32).unwrap_or(0));
            let bit = 1u128 << (128 - len);
            for half in [base, base | bit] {
                cut(IpCidr::Ipv6(Ipv6Cidr::new(Ipv6Address::from(half), len)), hole, out);
            }
        }
    }
}

/// Copies the configuration into the smoltcp interfaces (`eth` is `eth0`'s, if any).
pub fn apply(lo: &mut Interface, eth: Option<&mut Interface>) {
    let c = CONFIG.lock();
    let own: Vec<IpCidr> = c
        .links
        .iter()
        .filter(|l| !l.is_loopback())
        .flat_map(|l| l.addrs.iter())
        .map(|a| IpCidr::new(a.address(), if matches!(a, IpCidr::Ipv4(_)) { 32 } else { 128 }))
        .collect();
    let lo_link = c.links.iter().find(|l| l.is_loopback());
    lo.update_ip_addrs(|addrs| {
        addrs.clear();
        for a in lo_link.iter().flat_map(|l| l.addrs.iter()).chain(own.iter()) {
            let _ = addrs.push(*a);
        }
    });
    let Some(eth) = eth else { return };
    let link = c.links.iter().find(|l| l.index == ETH0_INDEX);
    eth.update_ip_addrs(|addrs| {
        addrs.clear();
        for a in link.iter().filter(|l| l.up).flat_map(|l| l.addrs.iter()) {
            let _ = addrs.push(*a);
        }
    });
    let holes = [
        IpCidr::new(IpAddress::Ipv4(Ipv4Address::new(127, 0, 0, 0)), 8),
        IpCidr::new(IpAddress::Ipv6(Ipv6Address::UNSPECIFIED), 16),
    ];
    eth.routes_mut().update(|table| {
        table.clear();
        for r in c.routes.iter().filter(|r| r.ifindex == ETH0_INDEX) {
            let Some(via) = r.via else { continue };
            let mut pieces = alloc::vec![r.dst];
            for hole in holes {
                let mut next = Vec::new();
                for p in pieces {
                    cut(p, hole, &mut next);
                }
                pieces = next;
            }
            for p in pieces {
                let _ = table.push(SmolRoute {
                    cidr: p,
                    via_router: via,
                    preferred_until: None,
                    expires_at: None,
                });
            }
        }
    });
}

/// Changes the configuration, then the smoltcp interfaces.
pub fn update<T>(f: impl FnOnce(&mut Config) -> T) -> T {
    let r = f(&mut CONFIG.lock());
    super::stack::with(|s| s.apply_config());
    r
}

/// The network of `a` (host bits cleared).
pub fn network(a: &IpCidr) -> IpCidr {
    match a.address() {
        IpAddress::Ipv4(v4) => {
            let mask = !u32::MAX.checked_shr(a.prefix_len() as u32).unwrap_or(0);
            IpCidr::new(IpAddress::Ipv4(Ipv4Address::from(u32::from(v4) & mask)), a.prefix_len())
        }
        IpAddress::Ipv6(v6) => {
            let mask = !u128::MAX.checked_shr(a.prefix_len() as u32).unwrap_or(0);
            IpCidr::new(IpAddress::Ipv6(Ipv6Address::from(u128::from(v6) & mask)), a.prefix_len())
        }
    }
}

/// How a new route meets an existing one to the same destination (rtnetlink's NLM_F_ flags).
#[derive(Clone, Copy, Default)]
pub struct RouteFlags {
    pub excl: bool,
    pub replace: bool,
    pub create: bool,
}

/// The route to `dst` via `via` on `oif`, checked against the links: the device is the one
/// named, else the one whose subnet holds the gateway (ENETUNREACH if none does).
fn route_of(c: &Config, dst: IpCidr, via: Option<IpAddress>, oif: Option<u32>) -> Result<Route> {
    let on_link = |gw: IpAddress| {
        c.links
            .iter()
            .find(|l| l.up && l.addrs.iter().any(|a| a.contains_addr(&gw)))
            .map(|l| l.index)
    };
    let ifindex = match (oif, via) {
        (Some(i), _) => {
            if !c.links.iter().any(|l| l.index == i) {
                return Err(Errno::ENODEV);
            }
            i
        }
        (None, Some(gw)) => on_link(gw).ok_or(Errno::ENETUNREACH)?,
        (None, None) => return Err(Errno::ENODEV),
    };
    if let Some(gw) = via {
        if on_link(gw) != Some(ifindex) {
            return Err(Errno::ENETUNREACH);
        }
    }
    Ok(Route { dst: network(&dst), via, ifindex, protocol: RTPROT_STATIC })
}

/// Adds a route (rtnetlink's RTM_NEWROUTE, SIOCADDRT).
pub fn add_route(
    dst: IpCidr,
    via: Option<IpAddress>,
    oif: Option<u32>,
    protocol: u8,
    flags: RouteFlags,
) -> Result<()> {
    update(|c| {
        let mut route = route_of(c, dst, via, oif)?;
        if protocol != 0 {
            route.protocol = protocol;
        }
        if let Some(i) = c.routes.iter().position(|r| r.dst == route.dst) {
            let identical = c.routes[i].via == route.via && c.routes[i].ifindex == route.ifindex;
            if flags.excl || (identical && !flags.replace) {
                return Err(Errno::EEXIST);
            }
            if flags.replace {
                c.routes[i] = route;
                return Ok(());
            }
        } else if flags.replace && !flags.create {
            return Err(Errno::ESRCH);
        }
        c.routes.try_reserve(1).map_err(|_| Errno::ENOMEM)?;
        c.routes.insert(0, route);
        Ok(())
    })
}

/// Deletes the first route to `dst` matching the gateway and device given (ESRCH if none).
pub fn del_route(dst: IpCidr, via: Option<IpAddress>, oif: Option<u32>) -> Result<()> {
    let dst = network(&dst);
    update(|c| {
        let pos = c
            .routes
            .iter()
            .position(|r| {
                r.dst == dst
                    && via.is_none_or(|g| r.via == Some(g))
                    && oif.is_none_or(|i| r.ifindex == i)
            })
            .ok_or(Errno::ESRCH)?;
        c.routes.remove(pos);
        Ok(())
    })
}
