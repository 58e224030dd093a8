//! Host unit tests with vectors for pages.

use std::vec;
use std::vec::Vec;

use crate::*;

struct VecPages(Vec<Vec<u8>>);

impl VecPages {
    fn new(count: usize, size: usize) -> VecPages {
        VecPages(vec![vec![0; size]; count])
    }
}

impl Pages for VecPages {
    fn page_size(&self) -> usize {
        self.0[0].len()
    }
    fn count(&self) -> usize {
        self.0.len()
    }
    fn page(&mut self, i: usize) -> &mut [u8] {
        &mut self.0[i]
    }
}

fn ring(count: usize, size: usize) -> Ring<VecPages> {
    Ring::new(VecPages::new(count, size))
}

fn put(r: &mut Ring<VecPages>, data: &[u8]) -> usize {
    r.push(data.len(), |done, chunk| {
        chunk.copy_from_slice(&data[done..done + chunk.len()]);
        Ok::<(), ()>(())
    })
    .unwrap()
}

fn take(r: &mut Ring<VecPages>, n: usize, peek: bool) -> Vec<u8> {
    let mut out = Vec::new();
    r.pop(n, peek, |_, chunk| {
        out.extend_from_slice(chunk);
        Ok::<(), ()>(())
    })
    .unwrap();
    out
}

#[test]
fn bytes_come_out_in_order_across_page_boundaries_and_wraps() {
    let mut r = ring(2, 4);
    assert_eq!(put(&mut r, b"abcdef"), 6);
    assert_eq!(take(&mut r, 5, false), b"abcde");
    // The tail wraps from the end of page 1 to page 0.
    assert_eq!(put(&mut r, b"ghijk"), 5);
    assert_eq!(r.len(), 6);
    assert_eq!(take(&mut r, 100, false), b"fghijk");
    assert!(r.is_empty());
}

#[test]
fn push_takes_only_what_fits() {
    let mut r = ring(2, 4);
    assert_eq!(put(&mut r, b"0123456789"), 8);
    assert_eq!(r.free(), 0);
    assert_eq!(put(&mut r, b"x"), 0);
    assert_eq!(take(&mut r, 8, false), b"01234567");
}

#[test]
fn chunks_never_cross_a_page() {
    let mut r = ring(3, 4);
    put(&mut r, b"ab");
    let mut sizes = Vec::new();
    r.push(10, |_, chunk| {
        sizes.push(chunk.len());
        Ok::<(), ()>(())
    })
    .unwrap();
    assert_eq!(sizes, vec![2, 4, 4]);
}

#[test]
fn peek_leaves_the_bytes() {
    let mut r = ring(1, 8);
    put(&mut r, b"peek");
    assert_eq!(take(&mut r, 2, true), b"pe");
    assert_eq!(r.len(), 4);
    assert_eq!(take(&mut r, 4, false), b"peek");
}

#[test]
fn a_failed_copy_keeps_what_came_before_and_consumes_nothing_on_pop() {
    let mut r = ring(2, 4);
    // The second chunk faults: the first 4 bytes are in, the error comes back.
    let e = r.push(8, |done, chunk| {
        if done == 0 {
            chunk.fill(b'a');
            Ok(())
        } else {
            Err("fault")
        }
    });
    assert_eq!(e, Err("fault"));
    assert_eq!(r.len(), 4);
    let e = r.pop(4, false, |_, _| Err::<(), _>("fault"));
    assert_eq!(e, Err("fault"));
    assert_eq!(r.len(), 4);
}

#[test]
fn packets_keep_their_boundaries_and_excess_is_dropped() {
    let mut r = ring(4, 8);
    for msg in [&b"one"[..], b"second", b"3"] {
        r.push_packet(msg.len(), |done, chunk| {
            chunk.copy_from_slice(&msg[done..done + chunk.len()]);
            Ok::<(), ()>(())
        })
        .unwrap();
    }
    let mut got = Vec::new();
    let mut read = |r: &mut Ring<VecPages>, room: usize, peek: bool| {
        got.clear();
        r.pop_packet(room, peek, |_, c| {
            got.extend_from_slice(c);
            Ok::<(), ()>(())
        })
        .unwrap();
        got.clone()
    };
    assert_eq!(read(&mut r, 100, true), b"one"); // peek: the message stays
    assert_eq!(read(&mut r, 100, false), b"one");
    assert_eq!(read(&mut r, 3, false), b"sec"); // the rest of "second" is dropped
    assert_eq!(read(&mut r, 100, false), b"3");
    assert!(r.is_empty() && r.next_packet().is_none());
}

#[test]
fn every_packet_takes_a_slot() {
    let mut r = ring(2, 8);
    for _ in 0..2 {
        r.push_packet(1, |_, c| {
            c[0] = b'x';
            Ok::<(), ()>(())
        })
        .unwrap();
    }
    assert!(r.slots_full());
    assert_eq!(r.free(), 14);
}

#[test]
fn replacing_the_pages_keeps_the_content_from_a_wrapped_ring() {
    let mut r = ring(2, 4);
    put(&mut r, b"abcdef");
    take(&mut r, 5, false);
    put(&mut r, b"ghi"); // "fghi", wrapped
    let old = r.replace_pages(VecPages::new(4, 4)).ok().unwrap();
    assert_eq!(old.count(), 2);
    assert_eq!(r.capacity(), 16);
    assert_eq!(take(&mut r, 16, false), b"fghi");
    // Shrinking works too while the content fits, and is refused when it does not.
    put(&mut r, b"xyz");
    assert!(r.replace_pages(VecPages::new(1, 2)).is_err());
    assert_eq!(r.capacity(), 16);
    assert!(r.replace_pages(VecPages::new(1, 4)).is_ok());
    assert_eq!(take(&mut r, 4, false), b"xyz");
}

#[test]
fn clear_empties_bytes_and_packets() {
    let mut r = ring(2, 4);
    r.push_packet(2, |_, c| {
        c.fill(1);
        Ok::<(), ()>(())
    })
    .unwrap();
    r.clear();
    assert!(r.is_empty() && r.next_packet().is_none() && !r.slots_full());
}

// The tests' error types say "no page" as themselves.
impl From<NoPage> for () {
    fn from(_: NoPage) {}
}

impl From<NoPage> for &'static str {
    fn from(_: NoPage) -> &'static str {
        "no page"
    }
}

/// Pages allocated on first use, `budget` of them at most.
struct LazyPages {
    pages: Vec<Option<Vec<u8>>>,
    size: usize,
    budget: usize,
}

impl Pages for LazyPages {
    fn page_size(&self) -> usize {
        self.size
    }

    fn count(&self) -> usize {
        self.pages.len()
    }

    fn page(&mut self, i: usize) -> &mut [u8] {
        self.pages[i].as_mut().expect("prepared")
    }

    fn prepare(&mut self, i: usize) -> bool {
        if self.pages[i].is_none() {
            if self.budget == 0 {
                return false;
            }
            self.budget -= 1;
            self.pages[i] = Some(vec![0; self.size]);
        }
        true
    }
}

#[test]
fn pages_come_as_bytes_arrive_and_a_missing_page_fails_the_whole_push() {
    let mut r = Ring::new(LazyPages { pages: (0..4).map(|_| None).collect(), size: 4, budget: 2 });
    assert_eq!(r.capacity(), 16);
    let ok = |_: usize, c: &mut [u8]| -> Result<(), Errno> {
        c.fill(b'x');
        Ok(())
    };
    // An idle ring holds nothing; 3 bytes take one page.
    assert_eq!(r.push(3, ok), Ok(3));
    assert_eq!(r.pages.pages.iter().filter(|p| p.is_some()).count(), 1);
    // 10 more need three more pages; only one is left: nothing goes in, the error says so.
    assert_eq!(r.push(10, ok), Err(Errno::NoMemory));
    assert_eq!(r.len(), 3);
    // 5 more fit in the two pages it has (the one prepared above stays).
    assert_eq!(r.push(5, ok), Ok(5));
    assert_eq!(r.len(), 8);
    assert_eq!(r.push(1, ok), Err(Errno::NoMemory));
    assert_eq!(r.len(), 8);
    // Reading and writing again reuses the pages it has.
    let mut out = Vec::new();
    r.pop(8, false, |_, c| {
        out.extend_from_slice(c);
        Ok::<(), ()>(())
    })
    .unwrap();
    assert_eq!(out, b"xxxxxxxx");
    assert_eq!(r.push(8, ok), Ok(8));
}

#[derive(Debug, PartialEq)]
enum Errno {
    NoMemory,
}

impl From<NoPage> for Errno {
    fn from(_: NoPage) -> Errno {
        Errno::NoMemory
    }
}
