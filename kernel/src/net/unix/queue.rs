//! The receive side of a connected unix stream or seqpacket socket: segments of bytes in the
//! order they were sent, each carrying the sender's credentials and any passed files.

use alloc::collections::VecDeque;
use alloc::sync::Arc;
use alloc::vec::Vec;

use super::gc::InFlight;
use crate::fs::file::OpenFile;
use crate::fs::socket::{RecvMsg, Ucred, MSG_TRUNC};

pub struct Segment {
    pub data: Vec<u8>,
    /// Bytes already read from the front.
    pub read: usize,
    pub rights: Vec<InFlight>,
    pub creds: Ucred,
}

impl Segment {
    fn left(&self) -> usize {
        self.data.len() - self.read
    }
}

#[derive(Default)]
pub struct ByteQueue {
    segments: VecDeque<Segment>,
    bytes: usize,
    /// What the queued segments cost the sender's send buffer (`super::truesize` each).
    charged: usize,
}

impl ByteQueue {
    pub fn len(&self) -> usize {
        self.bytes
    }

    pub fn is_empty(&self) -> bool {
        self.segments.is_empty()
    }

    /// The sender's send-buffer charge of what is queued.
    pub fn charged(&self) -> usize {
        self.charged
    }

    /// Room in the queue (`push` may still fail: the allocation is fallible).
    pub fn try_reserve(&mut self) -> bool {
        self.segments.try_reserve(1).is_ok()
    }

    pub fn push(&mut self, seg: Segment) {
        self.charged += super::truesize(seg.data.len());
        self.bytes += seg.left();
        self.segments.push_back(seg);
    }

    /// Stream read: bytes from consecutive segments. A read stops before a segment carrying
    /// files once it has data, and after the segment whose files it delivers; with `passcred`
    /// it also stops where the sender changes (as Linux does).
    pub fn read_stream(&mut self, max: usize, peek: bool, passcred: bool) -> RecvMsg {
        let mut out = RecvMsg::default();
        let mut i = 0;
        while out.data.len() < max && i < self.segments.len() {
            let seg = &self.segments[i];
            if !out.data.is_empty()
                && (!seg.rights.is_empty() || (passcred && Some(seg.creds) != out.creds))
            {
                break;
            }
            out.creds.get_or_insert(seg.creds);
            let start = seg.read;
            let n = (seg.data.len() - start).min(max - out.data.len());
            out.data.extend_from_slice(&seg.data[start..start + n]);
            let has_rights = !seg.rights.is_empty();
            if peek {
                if has_rights {
                    out.rights = seg.rights.iter().map(|r| r.file().clone()).collect();
                }
                i += 1;
            } else {
                let seg = &mut self.segments[i];
                seg.read += n;
                self.bytes -= n;
                if has_rights {
                    out.rights = core::mem::take(&mut seg.rights)
                        .into_iter()
                        .map(InFlight::deliver)
                        .collect();
                }
                if seg.left() == 0 {
                    self.charged -= super::truesize(seg.data.len());
                    self.segments.pop_front();
                } else {
                    i += 1;
                }
            }
            if has_rights {
                break;
            }
        }
        out.full_len = out.data.len();
        out
    }

    /// The files in flight in this queue.
    pub fn files(&self) -> Vec<Arc<OpenFile>> {
        self.segments.iter().flat_map(|s| s.rights.iter().map(|r| r.file().clone())).collect()
    }

    /// Drops every segment (and the files they carry).
    pub fn purge(&mut self) -> VecDeque<Segment> {
        self.bytes = 0;
        self.charged = 0;
        core::mem::take(&mut self.segments)
    }

    /// Seqpacket read: one whole record, truncated to `max`.
    pub fn read_record(&mut self, max: usize, peek: bool) -> RecvMsg {
        let mut out = RecvMsg::default();
        let Some(seg) = self.segments.front_mut() else { return out };
        let len = seg.data.len();
        let n = len.min(max);
        out.data.extend_from_slice(&seg.data[..n]);
        out.full_len = len;
        out.creds = Some(seg.creds);
        if n < len {
            out.flags |= MSG_TRUNC;
        }
        if peek {
            out.rights = seg.rights.iter().map(|r| r.file().clone()).collect();
        } else {
            out.rights =
                core::mem::take(&mut seg.rights).into_iter().map(InFlight::deliver).collect();
            self.bytes -= len;
            self.charged -= super::truesize(len);
            self.segments.pop_front();
        }
        out
    }
}
