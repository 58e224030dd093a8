//! The `--net` checks of `cargo xtask test` (docs/net.md): the host downloads 100 MiB from
//! busybox httpd in the guest through a `--forward`, and the guest's busybox wget downloads
//! 100 MiB from a host service through a `--guest-forward`; the receiving side checks every
//! byte. The guest's helper is `user/programs/netcheck.c`. Also busybox's view of eth0 and
//! malformed frames through the card.
//!
//! No sleep decides anything: the host's client tries again until the guest's server answers
//! (QEMU accepts a forwarded connection before the guest listens, then closes it), within a
//! generous deadline; the host's service listens before QEMU starts (QEMU connects the
//! guest forward at start).

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::time::{Duration, Instant};

use crate::qemu::{Boot, Net, Outcome, GUEST_FORWARD_ADDR};
use crate::util::Result;

pub const HOST_TO_GUEST: &str = "net-host-to-guest";
pub const GUEST_TO_HOST: &str = "net-guest-to-host";
/// busybox `ip`, `ifconfig` and `route` show eth0 as the kernel command line configured it.
pub const TOOLS: &str = "net-tools";
/// What the tools must print (each a substring of the console).
const TOOLS_EXPECTED: [&str; 7] = [
    "inet 10.0.2.15/24 brd 10.0.2.255 scope global eth0",
    "inet6 fec0::15/64 scope global",
    "inet6 fe80::5054:ff:fe12:3456/64 scope link",
    "default via 10.0.2.2 dev eth0",
    "10.0.2.0/24 dev eth0",
    "HWaddr 52:54:00:12:34:56",
    "0.0.0.0         10.0.2.2        0.0.0.0         UG",
];
/// The guest port of the forward and of the guest forward.
const GUEST_PORT: u16 = 7777;
/// The guest port whose connection tells the guest the host is done.
const RELEASE_PORT: u16 = 7778;
/// Bytes each way (the acceptance: 100 MiB).
const BIG: usize = 100 << 20;
const DEADLINE: Duration = Duration::from_secs(120);

/// Byte `i` of the data both sides agree on (as netcheck.c computes it).
fn pattern(i: usize) -> u8 {
    ((i * 7 + 3) % 251) as u8
}

/// A TCP port of the host's 127.0.0.1 that was free a moment ago.
fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// What a check saw: the boot's outcome and the host side's verdict.
pub struct NetResult {
    pub outcome: Result<Outcome>,
    pub host: std::result::Result<String, String>,
}

/// The host downloads BIG bytes from busybox httpd in the guest through a forward and checks
/// every byte, then releases the guest through a second forward (netcheck serve).
pub fn host_to_guest(mut boot: Boot) -> NetResult {
    let (http, release) = match (free_port(), free_port()) {
        (Ok(a), Ok(b)) if a != b => (a, b),
        _ => {
            return NetResult {
                outcome: Err(crate::util::Error::new("no free port")),
                host: Err("no free port".into()),
            }
        }
    };
    boot.net =
        Some(Net { forwards: vec![(http, GUEST_PORT), (release, RELEASE_PORT)], ..Net::default() });
    std::thread::scope(|scope| {
        let guest = scope.spawn(|| boot.run());
        let started = Instant::now();
        let mut last = String::from("no attempt");
        let mut downloaded = None;
        let host = loop {
            if guest.is_finished() {
                break Err(format!("the guest ended first; last attempt: {last}"));
            }
            if started.elapsed() > DEADLINE {
                break Err(format!(
                    "not done within {}s; last attempt: {last}",
                    DEADLINE.as_secs()
                ));
            }
            if downloaded.is_none() {
                match http_get(http) {
                    Ok(t) => downloaded = Some(t),
                    Err(e) => last = e,
                }
            }
            if let Some(t) = downloaded {
                match echo_once(release, 1024) {
                    Ok(_) => {
                        let mb = BIG as f64 / (1 << 20) as f64;
                        break Ok(format!(
                            "{} MiB from httpd checked, {:.0} MB/s",
                            BIG >> 20,
                            mb / t
                        ));
                    }
                    Err(e) => last = e,
                }
            }
            std::thread::sleep(Duration::from_millis(200));
        };
        let outcome = guest.join().expect("boot thread");
        NetResult { outcome, host }
    })
}

/// `GET /big` from the guest's httpd: the body must be BIG bytes of the pattern. Returns the
/// seconds the transfer took.
fn http_get(port: u16) -> std::result::Result<f64, String> {
    let start = Instant::now();
    let mut s = TcpStream::connect(("127.0.0.1", port)).map_err(|e| format!("connect: {e}"))?;
    s.set_read_timeout(Some(Duration::from_secs(60))).map_err(|e| e.to_string())?;
    s.write_all(b"GET /big HTTP/1.0\r\n\r\n").map_err(|e| format!("request: {e}"))?;
    let mut got = Vec::with_capacity(BIG + 4096);
    s.read_to_end(&mut got).map_err(|e| format!("receive: {e}"))?;
    let Some(split) = got.windows(4).position(|w| w == b"\r\n\r\n") else {
        return Err(format!("no HTTP header in {} bytes (guest not serving yet?)", got.len()));
    };
    let head = String::from_utf8_lossy(&got[..split]).into_owned();
    if !head.starts_with("HTTP/1.") || !head.contains(" 200 ") {
        return Err(format!("answer {:?}", head.lines().next().unwrap_or("")));
    }
    let body = &got[split + 4..];
    if body.len() != BIG {
        return Err(format!("body of {} bytes, wanted {BIG}", body.len()));
    }
    if let Some(at) = body.iter().enumerate().position(|(i, b)| *b != pattern(i)) {
        return Err(format!("body differs at byte {at}"));
    }
    Ok(start.elapsed().as_secs_f64())
}

/// One attempt: connect, send `bytes` of the pattern (reading the echo as it comes), check it.
fn echo_once(port: u16, bytes: usize) -> std::result::Result<usize, String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).map_err(|e| format!("connect: {e}"))?;
    s.set_read_timeout(Some(Duration::from_secs(60))).map_err(|e| e.to_string())?;
    let data: Vec<u8> = (0..bytes).map(pattern).collect();
    let mut reader = s.try_clone().map_err(|e| e.to_string())?;
    let echo = std::thread::spawn(move || {
        let mut got = Vec::new();
        let r = reader.read_to_end(&mut got);
        (r, got)
    });
    let sent = s.write_all(&data).and_then(|()| s.shutdown(Shutdown::Write));
    let (r, got) = echo.join().expect("reader thread");
    if got.is_empty() {
        return Err(format!("nothing came back (guest not listening yet?) {sent:?} {r:?}"));
    }
    sent.map_err(|e| format!("send: {e}"))?;
    r.map_err(|e| format!("receive: {e}"))?;
    if got != data {
        let at = got.iter().zip(&data).position(|(a, b)| a != b).unwrap_or(got.len().min(bytes));
        return Err(format!("echo differs: {} bytes back, first difference at {at}", got.len()));
    }
    Ok(got.len())
}

/// The guest's busybox wget fetches BIG bytes from an HTTP service on the host's 127.0.0.1
/// through a guest forward; netcheck verifies the file.
pub fn guest_to_host(mut boot: Boot) -> NetResult {
    let listener = match TcpListener::bind("127.0.0.1:0") {
        Ok(l) => l,
        Err(e) => return NetResult { outcome: Err(e.into()), host: Err("cannot listen".into()) },
    };
    let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
    boot.net = Some(Net { guest_forwards: vec![(GUEST_PORT, port)], ..Net::default() });
    std::thread::scope(|scope| {
        let guest = scope.spawn(|| boot.run());
        let host = serve_once(&listener);
        let outcome = guest.join().expect("boot thread");
        let verified = outcome
            .as_ref()
            .map(|o| String::from_utf8_lossy(&o.console).contains(&format!("verified {BIG}")))
            .unwrap_or(false);
        let host = match host {
            Ok(h) if verified => Ok(h),
            Ok(h) => Err(format!("{h}, but the guest did not verify it")),
            Err(e) => Err(e),
        };
        NetResult { outcome, host }
    })
}

/// Takes QEMU's connection, reads an HTTP request, answers with BIG bytes of the pattern.
fn serve_once(listener: &TcpListener) -> std::result::Result<String, String> {
    listener.set_nonblocking(true).map_err(|e| e.to_string())?;
    let started = Instant::now();
    let mut s = loop {
        match listener.accept() {
            Ok((s, _)) => break s,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                if started.elapsed() > DEADLINE {
                    return Err("QEMU never connected the guest forward".into());
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(e) => return Err(format!("accept: {e}")),
        }
    };
    s.set_nonblocking(false).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(DEADLINE)).map_err(|e| e.to_string())?;
    let mut request = Vec::new();
    let mut byte = [0u8; 1];
    while !request.ends_with(b"\r\n\r\n") {
        match s.read(&mut byte) {
            Ok(0) => return Err(format!("EOF after {:?}", String::from_utf8_lossy(&request))),
            Ok(_) => request.push(byte[0]),
            Err(e) => return Err(format!("reading the request: {e}")),
        }
    }
    let text = String::from_utf8_lossy(&request);
    if !text.starts_with("GET /big ") {
        return Err(format!("unexpected request {:?}", text.lines().next().unwrap_or("")));
    }
    let start = Instant::now();
    let head = format!(
        "HTTP/1.0 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: {BIG}\r\n\r\n"
    );
    let data: Vec<u8> = (0..BIG).map(pattern).collect();
    s.write_all(head.as_bytes())
        .and_then(|()| s.write_all(&data))
        .map_err(|e| format!("send: {e}"))?;
    let _ = s.shutdown(Shutdown::Write);
    let mb = BIG as f64 / (1 << 20) as f64;
    Ok(format!("{} MiB served to wget, {:.0} MB/s", BIG >> 20, mb / start.elapsed().as_secs_f64()))
}

/// The guest's commands for each check.
pub fn guest_batch(check: &str) -> Vec<Vec<Vec<u8>>> {
    let command =
        |args: &[&str]| -> Vec<Vec<u8>> { args.iter().map(|a| a.as_bytes().to_vec()).collect() };
    let (big, port, release) = (BIG.to_string(), GUEST_PORT.to_string(), RELEASE_PORT.to_string());
    if check == HOST_TO_GUEST {
        vec![
            command(&["/bin/busybox", "mkdir", "-p", "/tmp/www"]),
            command(&["/bin/netcheck", "pattern", "/tmp/www/big", &big]),
            // Without -f busybox httpd goes to the background.
            command(&["/bin/busybox", "httpd", "-p", &port, "-h", "/tmp/www"]),
            command(&["/bin/netcheck", "serve", &release]),
        ]
    } else {
        let url = format!("http://{GUEST_FORWARD_ADDR}:{port}/big");
        vec![
            command(&["/bin/busybox", "wget", "-q", "-O", "/tmp/big", &url]),
            command(&["/bin/netcheck", "verify", "/tmp/big", &big]),
        ]
    }
}

/// Malformed frames: the host sends random and truncated Ethernet frames to the card until
/// the guest has counted BAD_FRAMES of them; the kernel must neither panic nor stop.
pub const BAD_FRAMES_CHECK: &str = "net-bad-frames";
const BAD_FRAMES: u64 = 3000;

/// The guest waits (reading /proc/net/dev, no sleep deciding anything but the polling period)
/// until eth0 has received BAD_FRAMES frames, then checks that it still talks to itself.
pub fn bad_frames_batch() -> Vec<Vec<Vec<u8>>> {
    let script = format!(
        "i=0; while [ $i -lt 1200 ]; do \
         n=$(awk -F: '/eth0:/ {{ split($2, a, \" \"); print a[2] }}' /proc/net/dev); \
         if [ \"${{n:-0}}\" -ge {BAD_FRAMES} ]; then echo \"received $n\"; exit 0; fi; \
         sleep 0.1; i=$((i+1)); done; echo \"only ${{n:-0}} frames\"; exit 1"
    );
    let sh = |s: &str| -> Vec<Vec<u8>> {
        ["/bin/busybox", "sh", "-c", s].iter().map(|a| a.as_bytes().to_vec()).collect()
    };
    vec![sh(&script), sh("ip addr show dev eth0 && ifconfig eth0")]
}

/// xorshift64*: the frames are the same on every run (seed fixed), so a failure replays.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// One malformed frame: to the card's MAC, a plausible IPv4, ARP or IPv6 start (or none) with
/// random corruption, cut at a random length.
fn bad_frame(rng: &mut Rng) -> Vec<u8> {
    let mut f = vec![0x52, 0x54, 0x00, 0x12, 0x34, 0x56];
    f.extend((0..6).map(|_| rng.next() as u8));
    let kind = rng.below(4);
    let ethertype: u16 = match kind {
        0 => 0x0800,
        1 => 0x0806,
        2 => 0x86dd,
        _ => rng.next() as u16,
    };
    f.extend_from_slice(&ethertype.to_be_bytes());
    let mut body: Vec<u8> = (0..1500).map(|_| rng.next() as u8).collect();
    match kind {
        0 => {
            body[0] = 0x45;
            body[9] = [1, 6, 17, rng.next() as u8][rng.below(4) as usize];
            body[16..20].copy_from_slice(&[10, 0, 2, 15]);
        }
        1 => body[..8].copy_from_slice(&[0, 1, 8, 0, 6, 4, 0, 1 + rng.below(2) as u8]),
        2 => {
            body[0] = 0x60;
            body[6] = [6, 17, 58, 0, 44, rng.next() as u8][rng.below(6) as usize];
            body[24..40]
                .copy_from_slice(&[0xfe, 0xc0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x15]);
        }
        _ => {}
    }
    f.extend_from_slice(&body);
    let len = rng.below(f.len() as u64 + 1) as usize;
    f.truncate(len.max(1));
    f
}

pub fn bad_frames(mut boot: Boot) -> NetResult {
    let host = match std::net::UdpSocket::bind("127.0.0.1:0") {
        Ok(s) => s,
        Err(e) => return NetResult { outcome: Err(e.into()), host: Err("no UDP socket".into()) },
    };
    let (qemu_port, host_port) = match (free_udp_port(), host.local_addr().map(|a| a.port())) {
        (Ok(q), Ok(h)) => (q, h),
        _ => {
            return NetResult {
                outcome: Err(crate::util::Error::new("no port")),
                host: Err("no port".into()),
            }
        }
    };
    boot.net = Some(Net { udp: Some((qemu_port, host_port)), ..Net::default() });
    std::thread::scope(|scope| {
        let guest = scope.spawn(|| boot.run());
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let started = Instant::now();
        let mut sent = 0u64;
        while !guest.is_finished() && started.elapsed() < DEADLINE {
            for _ in 0..50 {
                // QEMU may not listen yet: a lost datagram is simply not counted by the guest.
                let _ = host.send_to(&bad_frame(&mut rng), ("127.0.0.1", qemu_port));
                sent += 1;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        let outcome = guest.join().expect("boot thread");
        let console = outcome
            .as_ref()
            .map(|o| String::from_utf8_lossy(&o.console).into_owned())
            .unwrap_or_default();
        let received = console.lines().find(|l| l.starts_with("received ")).map(str::to_string);
        let host = match received {
            Some(r) if console.contains("inet addr:10.0.2.15") => {
                Ok(format!("{sent} malformed frames sent, {r}, eth0 still configured"))
            }
            _ => Err(format!("{sent} frames sent; the guest did not report them and eth0")),
        };
        NetResult { outcome, host }
    })
}

fn free_udp_port() -> Result<u16> {
    Ok(std::net::UdpSocket::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// busybox's tools in a --net boot; the console must show [`TOOLS_EXPECTED`].
pub fn tools(mut boot: Boot) -> NetResult {
    boot.net = Some(Net::default());
    let outcome = boot.run();
    let host = match &outcome {
        Ok(o) => {
            let console = String::from_utf8_lossy(&o.console);
            let missing: Vec<&str> =
                TOOLS_EXPECTED.iter().copied().filter(|e| !console.contains(e)).collect();
            if missing.is_empty() {
                Ok(format!("{} lines as expected", TOOLS_EXPECTED.len()))
            } else {
                Err(format!("missing from the output: {missing:?}"))
            }
        }
        Err(_) => Err("no boot".into()),
    };
    NetResult { outcome, host }
}

/// The commands of the tools check.
pub fn tools_batch() -> Vec<Vec<Vec<u8>>> {
    let command = |args: &[&str]| -> Vec<Vec<u8>> {
        std::iter::once("/bin/busybox")
            .chain(args.iter().copied())
            .map(|a| a.as_bytes().to_vec())
            .collect()
    };
    vec![
        command(&["ip", "addr", "show", "dev", "eth0"]),
        command(&["ip", "route"]),
        command(&["ifconfig", "eth0"]),
        command(&["route", "-n"]),
    ]
}
