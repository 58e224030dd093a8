//! Host unit tests (std is available here).

use std::vec::Vec;

use crate::writer::Writer;
use crate::*;

fn sample() -> Vec<u8> {
    let mut w = Writer::new(Vec::new());
    w.directory("bin", 0o755).unwrap();
    w.file("bin/busybox", 0o755, b"\x7fELF....").unwrap();
    w.symlink("bin/sh", "busybox").unwrap();
    w.file("etc/empty", 0o644, b"").unwrap();
    w.file("a", 0o600, b"xyz").unwrap(); // name length 1: header+name = 112, data 3 -> pad 1
    w.finish().unwrap()
}

fn collect(bytes: &[u8]) -> Result<Vec<Entry<'_>>, Error> {
    entries(bytes).collect()
}

#[test]
fn round_trip() {
    let bytes = sample();
    assert_eq!(bytes.len() % 4, 0);
    let es = collect(&bytes).unwrap();
    let names: Vec<&[u8]> = es.iter().map(|e| e.name).collect();
    assert_eq!(names, [&b"bin"[..], b"bin/busybox", b"bin/sh", b"etc/empty", b"a"]);

    assert!(es[0].is_dir());
    assert_eq!(es[0].permissions(), 0o755);
    assert_eq!(es[0].nlink, 2);
    assert!(es[1].is_file());
    assert_eq!(es[1].data, b"\x7fELF....");
    assert!(es[2].is_symlink());
    assert_eq!(es[2].mode, S_IFLNK | 0o777);
    assert_eq!(es[2].data, b"busybox");
    assert_eq!(es[3].data, b"");
    assert_eq!(es[4].data, b"xyz");
    assert_eq!(es[4].mode, S_IFREG | 0o600);
    assert_eq!(es[4].name_str(), Some("a"));

    // Distinct, non-zero inode numbers.
    let mut inos: Vec<u32> = es.iter().map(|e| e.ino).collect();
    inos.sort();
    inos.dedup();
    assert_eq!(inos.len(), es.len());
    assert!(inos[0] > 0);
}

#[test]
fn every_data_length_aligns() {
    // Names and data of every length modulo 4 keep the next header aligned.
    for nlen in 1..9 {
        for dlen in 0..9 {
            let name = "n".repeat(nlen);
            let data: Vec<u8> = (0..dlen as u8).collect();
            let mut w = Writer::new(Vec::new());
            w.file(&name, 0o644, &data).unwrap();
            w.file("next", 0o644, b"2").unwrap();
            let bytes = w.finish().unwrap();
            let es = collect(&bytes).unwrap();
            assert_eq!(es.len(), 2);
            assert_eq!(es[0].name, name.as_bytes());
            assert_eq!(es[0].data, &data[..]);
            assert_eq!(es[1].data, b"2");
        }
    }
}

#[test]
fn empty_archive_is_just_trailer() {
    let bytes = Writer::new(Vec::new()).finish().unwrap();
    assert_eq!(collect(&bytes).unwrap().len(), 0);
}

#[test]
fn stops_at_trailer_ignoring_what_follows() {
    let mut bytes = sample();
    bytes.extend_from_slice(&[0u8; 512]);
    bytes.extend_from_slice(b"garbage");
    assert_eq!(collect(&bytes).unwrap().len(), 5);
}

#[test]
fn hand_written_header() {
    // A header as GNU cpio writes it (upper-case hex is accepted too).
    let mut a = Vec::new();
    a.extend_from_slice(b"070701");
    for f in [7u32, 0o100644, 0, 0, 1, 0, 5, 0, 0, 0, 0, 6, 0] {
        a.extend_from_slice(std::format!("{f:08X}").as_bytes());
    }
    a.extend_from_slice(b"hello\0");
    while a.len() % 4 != 0 {
        a.push(0);
    }
    a.extend_from_slice(b"world");
    while a.len() % 4 != 0 {
        a.push(0);
    }
    a.extend_from_slice(&Writer::new(Vec::new()).finish().unwrap());
    let es = collect(&a).unwrap();
    assert_eq!(es.len(), 1);
    assert_eq!(es[0].ino, 7);
    assert_eq!(es[0].name, b"hello");
    assert_eq!(es[0].data, b"world");
}

#[test]
fn bad_magic() {
    let mut bytes = sample();
    bytes[0] = b'1';
    assert_eq!(collect(&bytes), Err(Error::BadMagic { offset: 0 }));
}

#[test]
fn bad_hex() {
    let mut bytes = sample();
    bytes[6 + 8] = b'g'; // first digit of mode
    assert_eq!(collect(&bytes), Err(Error::BadHex { offset: 14 }));
}

#[test]
fn truncated_everywhere_is_an_error_not_a_panic() {
    let bytes = sample();
    // Cutting the archive anywhere must fail cleanly.
    for cut in 0..bytes.len() {
        let r = collect(&bytes[..cut]);
        assert!(matches!(r, Err(Error::Truncated { .. })), "cut at {cut}: {r:?}");
    }
}

#[test]
fn error_is_reported_once() {
    let mut it = entries(b"0707");
    assert!(matches!(it.next(), Some(Err(Error::Truncated { offset: 0 }))));
    assert!(it.next().is_none());
}

#[test]
fn huge_sizes_do_not_overflow() {
    let mut a = Vec::new();
    a.extend_from_slice(b"070701");
    for f in [1u32, 0o100644, 0, 0, 1, 0, 0xffff_ffff, 0, 0, 0, 0, 2, 0] {
        a.extend_from_slice(std::format!("{f:08x}").as_bytes());
    }
    a.extend_from_slice(b"x\0\0\0");
    assert!(matches!(collect(&a), Err(Error::Truncated { .. })));
}

#[test]
fn name_must_be_nul_terminated() {
    let mut bytes = sample();
    // The first name is "bin\0" right after the header.
    bytes[HEADER_LEN + 3] = b'x';
    assert_eq!(collect(&bytes), Err(Error::BadName { offset: HEADER_LEN }));
}

#[test]
fn path_strips_leading_dot_and_slash() {
    let e = |name: &'static [u8]| Entry {
        name,
        ino: 0,
        mode: 0,
        uid: 0,
        gid: 0,
        nlink: 0,
        mtime: 0,
        dev_major: 0,
        dev_minor: 0,
        rdev_major: 0,
        rdev_minor: 0,
        data: b"",
    };
    assert_eq!(e(b"./bin/sh").path(), b"bin/sh");
    assert_eq!(e(b"/bin/sh").path(), b"bin/sh");
    assert_eq!(e(b".").path(), b"");
    assert_eq!(e(b"bin").path(), b"bin");
    assert_eq!(e(b".hidden").path(), b".hidden");
}
