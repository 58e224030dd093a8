//! The IP stack: a smoltcp interface on a loopback device holding 127.0.0.1/8 and ::1, another
//! on the virtio-net card (`eth0`) when there is one, and every TCP/UDP socket in one set
//! shared by both (iface.rs says how packets find the right interface). `with` runs an
//! operation on the stack and then pumps packets until nothing moves; waiters sleep on one wait
//! queue and re-check their condition after each pump. The timer tick pumps too, for
//! retransmissions and TIME-WAIT, and so does the card's interrupt.

use alloc::vec;

use smoltcp::iface::{Config, Interface, PollResult, SocketHandle, SocketSet};
use smoltcp::phy::{Loopback, Medium};
use smoltcp::time::Instant;
use smoltcp::wire::{EthernetAddress, HardwareAddress, IpAddress};
use spin::Once;

use super::iface;
use super::ports::PortTable;
use crate::drivers::net::EthDevice;
use crate::event::{IoEvents, Pollee};
use crate::sync::Mutex;
use crate::task::WaitQueue;

pub struct Stack {
    pub iface: Interface,
    device: Loopback,
    /// The card and its interface, if the machine has one.
    pub eth0: Option<Eth0>,
    pub sockets: SocketSet<'static>,
    /// Ports in use per protocol, for bind and ephemeral allocation.
    pub tcp_ports: PortTable,
    pub udp_ports: PortTable,
    next_ephemeral: u16,
    /// Sockets closed by their owners, kept until TCP has finished with them.
    pub closing: alloc::vec::Vec<Closing>,
}

pub struct Eth0 {
    pub iface: Interface,
    pub device: EthDevice,
}

/// A socket closed by its owner, and the port hold (owner id, port) its connection keeps until
/// it is over: through TIME-WAIT when this side closed first.
#[derive(Clone, Copy)]
pub struct Closing {
    pub handle: SocketHandle,
    pub hold: Option<(u64, u16)>,
}

/// Linux's TCP_TIMEWAIT_LEN.
const TIME_WAIT_NS: u64 = 60_000_000_000;

static STACK: Once<Mutex<Stack>> = Once::new();
/// Everyone waiting for any inet socket: re-check after each pump.
pub static EVENTS: WaitQueue = WaitQueue::new();
pub static POLLEE: Pollee = Pollee::new();

/// Linux's ip_local_port_range.
const EPHEMERAL: core::ops::RangeInclusive<u16> = 32768..=60999;

fn now() -> Instant {
    Instant::from_micros((crate::arch::time::monotonic_ns() / 1000) as i64)
}

fn stack() -> &'static Mutex<Stack> {
    STACK.call_once(|| {
        let mut device = Loopback::new(Medium::Ip);
        let mut config = Config::new(HardwareAddress::Ip);
        config.random_seed = crate::arch::cpu::rdtsc();
        let mut iface = Interface::new(config, &mut device, now());
        let mut eth0 = crate::drivers::net::take().map(|mut device| {
            let mac = EthernetAddress(device.mac());
            let mut config = Config::new(HardwareAddress::Ethernet(mac));
            config.random_seed = crate::arch::cpu::rdtsc();
            let iface = Interface::new(config, &mut device, now());
            Eth0 { iface, device }
        });
        iface::init(eth0.as_ref().map(|e| e.device.mac()));
        iface::apply(&mut iface, None);
        if let Some(e) = eth0.as_mut() {
            iface::apply(&mut iface, Some(&mut e.iface));
            e.device.enable_irq();
        }
        Mutex::new(Stack {
            iface,
            device,
            eth0,
            sockets: SocketSet::new(vec![]),
            tcp_ports: PortTable::new(true),
            udp_ports: PortTable::new(false),
            next_ephemeral: *EPHEMERAL.start(),
            closing: alloc::vec::Vec::new(),
        })
    })
}

impl Stack {
    /// Copies the interface configuration (iface.rs) into the smoltcp interfaces.
    pub fn apply_config(&mut self) {
        match self.eth0.as_mut() {
            Some(e) => {
                iface::apply(&mut self.iface, Some(&mut e.iface));
                let link = iface::with_config(|c| {
                    c.links.iter().find(|l| l.index == iface::ETH0_INDEX).map(|l| (l.up, l.mtu))
                });
                if let Some((up, mtu)) = link {
                    e.device.up = up;
                    e.device.mtu = mtu as usize;
                }
            }
            None => iface::apply(&mut self.iface, None),
        }
    }

    /// The smoltcp context of the interface a packet to `remote` leaves by (for connect's choice
    /// of source address).
    pub fn context_for(&mut self, remote: IpAddress) -> &mut smoltcp::iface::Context {
        match self.eth0.as_mut() {
            Some(e) if iface::eth0_source_for(remote).is_some() => e.iface.context(),
            _ => self.iface.context(),
        }
    }

    /// Moves packets until the loopback is quiet. Returns whether any socket changed.
    fn pump(&mut self) -> bool {
        let mut changed = false;
        for _ in 0..4 {
            for _ in 0..256 {
                // `eth0` first: see iface.rs.
                let mut moved = false;
                if let Some(e) = self.eth0.as_mut() {
                    e.device.flush();
                    if e.iface.poll(now(), &mut e.device, &mut self.sockets)
                        == PollResult::SocketStateChanged
                    {
                        moved = true;
                    }
                }
                match self.iface.poll(now(), &mut self.device, &mut self.sockets) {
                    PollResult::None => {}
                    PollResult::SocketStateChanged => moved = true,
                }
                if !moved {
                    break;
                }
                changed = true;
            }
            // A reset was queued: send it.
            if !self.reap() {
                break;
            }
        }
        changed
    }

    /// Frees closed sockets whose TCP exchange is over (the socket itself is not kept through
    /// TIME-WAIT: on a loopback-only stack no stray segment can arrive late; only its port is). Data arriving for a closed
    /// socket nobody can read any more resets the connection, as in Linux. Returns whether
    /// such a reset waits to be sent.
    fn reap(&mut self) -> bool {
        let sockets = &mut self.sockets;
        let mut reset = false;
        let ports = &mut self.tcp_ports;
        let now_ns = crate::arch::time::monotonic_ns();
        self.closing.retain(|c| {
            let sock = sockets.get_mut::<smoltcp::socket::tcp::Socket>(c.handle);
            if sock.recv_queue() > 0 && sock.is_open() {
                // Kept until the next poll has sent the reset.
                sock.abort();
                reset = true;
                return true;
            }
            let state = sock.state();
            let done = matches!(
                state,
                smoltcp::socket::tcp::State::Closed | smoltcp::socket::tcp::State::TimeWait
            );
            if done {
                sockets.remove(c.handle);
                if let Some((owner, port)) = c.hold {
                    if state == smoltcp::socket::tcp::State::TimeWait {
                        ports.expire_at(port, owner, now_ns + TIME_WAIT_NS);
                    } else {
                        ports.release(port, owner);
                    }
                }
            }
            !done
        });
        reset
    }

    /// A free ephemeral port for `tcp` (or UDP).
    pub fn ephemeral_port(&mut self, tcp: bool) -> Option<u16> {
        self.tcp_ports.expire(crate::arch::time::monotonic_ns());
        let span = (*EPHEMERAL.end() - *EPHEMERAL.start()) as u32 + 1;
        for _ in 0..span {
            let p = self.next_ephemeral;
            self.next_ephemeral = if p == *EPHEMERAL.end() { *EPHEMERAL.start() } else { p + 1 };
            let used = if tcp { self.tcp_ports.in_use(p) } else { self.udp_ports.in_use(p) };
            if !used {
                return Some(p);
            }
        }
        None
    }
}

/// Runs `f` on the stack, then pumps and wakes waiters.
pub fn with<T>(f: impl FnOnce(&mut Stack) -> T) -> T {
    let r = {
        let mut s = stack().lock();
        let r = f(&mut s);
        s.pump();
        r
    };
    EVENTS.wake_all();
    POLLEE.notify(IoEvents::all());
    r
}

/// Reads the stack without pumping.
pub fn peek<T>(f: impl FnOnce(&mut Stack) -> T) -> T {
    f(&mut stack().lock())
}

/// Timer tick: let TCP timers run.
pub fn on_tick() {
    let Some(s) = STACK.get() else { return };
    let due = {
        let mut guard = s.lock();
        let st = &mut *guard;
        let at = st.iface.poll_at(now(), &st.sockets);
        let eth_due = st.eth0.as_mut().is_some_and(|e| {
            e.device.has_work() || e.iface.poll_at(now(), &st.sockets).is_some_and(|t| t <= now())
        });
        at.is_some_and(|t| t <= now()) || !st.closing.is_empty() || eth_due
    };
    if due {
        with(|_| ());
    }
}

/// Builds the stack at boot (the card's interrupt must find it ready).
pub fn init() {
    stack();
}

/// A device interrupt: if it is the card's, silence the card and move its packets.
pub fn on_irq(irq: u8) {
    let Some(s) = STACK.get() else { return };
    let ours = {
        let mut st = s.lock();
        match st.eth0.as_mut() {
            Some(e) if e.device.irq() == irq => {
                e.device.ack_interrupt();
                true
            }
            _ => false,
        }
    };
    if ours {
        with(|_| ());
    }
}
