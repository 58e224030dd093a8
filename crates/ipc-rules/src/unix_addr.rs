//! Unix socket addresses: unnamed, a file-system path, or a name in the abstract namespace
//! (leading NUL byte), with Linux's parsing and length rules.

use alloc::string::String;
use alloc::vec::Vec;

pub const AF_UNIX: u16 = 1;
/// sizeof(struct sockaddr_un).
pub const SOCKADDR_UN_LEN: usize = 110;
const FAMILY_LEN: usize = 2;

/// A `sockaddr_un` that is too short or too long, of another family, or whose path is not
/// UTF-8 (EINVAL).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InvalidAddress;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UnixAddr {
    Unnamed,
    Path(String),
    /// The name without its leading NUL.
    Abstract(Vec<u8>),
}

impl UnixAddr {
    /// Parses a sockaddr_un of `bytes.len()` bytes. `None` means only the family was given
    /// (autobind for bind). A path ends at its first NUL or at the given length.
    pub fn parse(bytes: &[u8]) -> Result<Option<UnixAddr>, InvalidAddress> {
        if bytes.len() < FAMILY_LEN || bytes.len() > SOCKADDR_UN_LEN {
            return Err(InvalidAddress);
        }
        if u16::from_ne_bytes([bytes[0], bytes[1]]) != AF_UNIX {
            return Err(InvalidAddress);
        }
        let path = &bytes[FAMILY_LEN..];
        if path.is_empty() {
            return Ok(None);
        }
        if path[0] == 0 {
            return Ok(Some(UnixAddr::Abstract(path[1..].to_vec())));
        }
        let end = path.iter().position(|&b| b == 0).unwrap_or(path.len());
        let s = core::str::from_utf8(&path[..end]).map_err(|_| InvalidAddress)?;
        Ok(Some(UnixAddr::Path(String::from(s))))
    }

    /// The sockaddr_un bytes getsockname/getpeername/recvfrom return: family, then the path
    /// with its NUL, or the abstract name with its leading NUL, or nothing.
    pub fn encode(&self) -> Vec<u8> {
        let mut v = AF_UNIX.to_ne_bytes().to_vec();
        match self {
            UnixAddr::Unnamed => {}
            UnixAddr::Path(p) => {
                v.extend_from_slice(p.as_bytes());
                v.push(0);
            }
            UnixAddr::Abstract(name) => {
                v.push(0);
                v.extend_from_slice(name);
            }
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn raw(rest: &[u8]) -> Vec<u8> {
        let mut v = AF_UNIX.to_ne_bytes().to_vec();
        v.extend_from_slice(rest);
        v
    }

    #[test]
    fn family_alone_means_autobind() {
        assert_eq!(UnixAddr::parse(&raw(b"")), Ok(None));
    }

    #[test]
    fn path_ends_at_nul_or_at_the_length() {
        assert_eq!(
            UnixAddr::parse(&raw(b"/tmp/s\0junk")),
            Ok(Some(UnixAddr::Path("/tmp/s".into())))
        );
        assert_eq!(UnixAddr::parse(&raw(b"/tmp/s")), Ok(Some(UnixAddr::Path("/tmp/s".into()))));
    }

    #[test]
    fn abstract_names_keep_every_byte_including_nuls() {
        assert_eq!(
            UnixAddr::parse(&raw(b"\0ab\0c")),
            Ok(Some(UnixAddr::Abstract(b"ab\0c".to_vec())))
        );
        assert_eq!(UnixAddr::parse(&raw(b"\0")), Ok(Some(UnixAddr::Abstract(vec![]))));
    }

    #[test]
    fn bad_lengths_and_families_are_invalid() {
        assert_eq!(UnixAddr::parse(&[1]), Err(InvalidAddress));
        assert_eq!(UnixAddr::parse(&raw(&[b'a'; SOCKADDR_UN_LEN - 1])), Err(InvalidAddress));
        assert!(UnixAddr::parse(&raw(&[b'a'; SOCKADDR_UN_LEN - 2])).is_ok());
        assert_eq!(UnixAddr::parse(&[2, 0, b'x']), Err(InvalidAddress));
    }

    #[test]
    fn encode_is_what_getsockname_returns() {
        assert_eq!(UnixAddr::Unnamed.encode(), raw(b""));
        assert_eq!(UnixAddr::Path("/s".into()).encode(), raw(b"/s\0"));
        assert_eq!(UnixAddr::Abstract(b"x".to_vec()).encode(), raw(b"\0x"));
    }

    #[test]
    fn encode_then_parse_round_trips() {
        for a in [UnixAddr::Path("/tmp/sock".into()), UnixAddr::Abstract(b"\0name".to_vec())] {
            assert_eq!(UnixAddr::parse(&a.encode()), Ok(Some(a.clone())));
        }
    }
}
