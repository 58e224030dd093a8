//! Netlink message layout: headers, attributes (rtattr) and their alignment.

use alloc::vec::Vec;

pub const NLMSG_HDRLEN: usize = 16;

pub const NLMSG_ERROR: u16 = 2;
pub const NLMSG_DONE: u16 = 3;

pub const NLM_F_REQUEST: u16 = 0x1;
pub const NLM_F_MULTI: u16 = 0x2;
pub const NLM_F_ACK: u16 = 0x4;
pub const NLM_F_ROOT: u16 = 0x100;
pub const NLM_F_MATCH: u16 = 0x200;
pub const NLM_F_DUMP: u16 = NLM_F_ROOT | NLM_F_MATCH;
pub const NLM_F_REPLACE: u16 = 0x100;
pub const NLM_F_EXCL: u16 = 0x200;
pub const NLM_F_CREATE: u16 = 0x400;
/// In an NLMSG_ERROR acknowledgement: the request's payload was left out.
pub const NLM_F_CAPPED: u16 = 0x100;

pub fn align(n: usize) -> usize {
    (n + 3) & !3
}

/// A request's header.
#[derive(Clone, Copy, Debug)]
pub struct Header {
    pub len: u32,
    pub kind: u16,
    pub flags: u16,
    pub seq: u32,
}

impl Header {
    pub fn parse(b: &[u8]) -> Option<Header> {
        let u32_at = |o: usize| u32::from_ne_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]]);
        (b.len() >= NLMSG_HDRLEN).then(|| Header {
            len: u32_at(0),
            kind: u16::from_ne_bytes([b[4], b[5]]),
            flags: u16::from_ne_bytes([b[6], b[7]]),
            seq: u32_at(8),
        })
    }
}

/// A message being built: the header, a fixed part, then attributes.
pub struct Builder {
    buf: Vec<u8>,
}

impl Builder {
    pub fn new(kind: u16, flags: u16, seq: u32, pid: u32) -> Builder {
        let mut buf = Vec::with_capacity(256);
        buf.extend_from_slice(&0u32.to_ne_bytes());
        buf.extend_from_slice(&kind.to_ne_bytes());
        buf.extend_from_slice(&flags.to_ne_bytes());
        buf.extend_from_slice(&seq.to_ne_bytes());
        buf.extend_from_slice(&pid.to_ne_bytes());
        Builder { buf }
    }

    /// Raw bytes (a fixed-size family header), padded to 4.
    pub fn bytes(&mut self, b: &[u8]) -> &mut Self {
        self.buf.extend_from_slice(b);
        self.pad();
        self
    }

    fn pad(&mut self) {
        while !self.buf.len().is_multiple_of(4) {
            self.buf.push(0);
        }
    }

    /// An attribute.
    pub fn attr(&mut self, kind: u16, data: &[u8]) -> &mut Self {
        self.buf.extend_from_slice(&((4 + data.len()) as u16).to_ne_bytes());
        self.buf.extend_from_slice(&kind.to_ne_bytes());
        self.buf.extend_from_slice(data);
        self.pad();
        self
    }

    pub fn attr_u32(&mut self, kind: u16, v: u32) -> &mut Self {
        self.attr(kind, &v.to_ne_bytes())
    }

    pub fn attr_u8(&mut self, kind: u16, v: u8) -> &mut Self {
        self.attr(kind, &[v])
    }

    /// A NUL-terminated string attribute.
    pub fn attr_str(&mut self, kind: u16, s: &str) -> &mut Self {
        let mut v = Vec::with_capacity(s.len() + 1);
        v.extend_from_slice(s.as_bytes());
        v.push(0);
        self.attr(kind, &v)
    }

    pub fn finish(mut self) -> Vec<u8> {
        let len = self.buf.len() as u32;
        self.buf[..4].copy_from_slice(&len.to_ne_bytes());
        self.buf
    }
}

/// The attributes after a fixed part: (type, data) pairs; malformed tails are ignored, as
/// Linux's nla_parse (non-strict) does.
pub fn attrs(mut b: &[u8]) -> Vec<(u16, &[u8])> {
    let mut out = Vec::new();
    while b.len() >= 4 {
        let len = u16::from_ne_bytes([b[0], b[1]]) as usize;
        let kind = u16::from_ne_bytes([b[2], b[3]]) & 0x3fff;
        if len < 4 || len > b.len() {
            break;
        }
        out.push((kind, &b[4..len]));
        b = &b[align(len).min(b.len())..];
    }
    out
}

/// An NLMSG_ERROR message answering `req` (its bytes `body`, header included): `errno` 0 is an
/// acknowledgement. The request is echoed whole after an error, its header only after an
/// acknowledgement or with NETLINK_CAP_ACK, as Linux's netlink_ack does.
pub fn error(req: &Header, body: &[u8], errno: i32, cap_ack: bool, port: u32) -> Vec<u8> {
    let whole = errno != 0 && !cap_ack;
    let echoed = if whole { body } else { &body[..NLMSG_HDRLEN.min(body.len())] };
    let flags = if whole { 0 } else { NLM_F_CAPPED };
    let mut b = Builder::new(NLMSG_ERROR, flags, req.seq, port);
    let mut payload = Vec::with_capacity(4 + echoed.len());
    payload.extend_from_slice(&(-errno).to_ne_bytes());
    payload.extend_from_slice(echoed);
    b.bytes(&payload);
    b.finish()
}

/// The NLMSG_DONE ending a dump.
pub fn done(seq: u32, port: u32) -> Vec<u8> {
    let mut b = Builder::new(NLMSG_DONE, NLM_F_MULTI, seq, port);
    b.bytes(&0i32.to_ne_bytes());
    b.finish()
}
