//! Unix socket addresses: unnamed, a file-system path, or a name in the abstract namespace
//! (leading NUL byte), with Linux's parsing and length rules.

use alloc::string::String;
use alloc::vec::Vec;

use crate::error::{Errno, Result};
use crate::fs::socket::AF_UNIX;

/// sizeof(struct sockaddr_un).
pub const SOCKADDR_UN_LEN: usize = 110;
const FAMILY_LEN: usize = 2;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UnixAddr {
    Unnamed,
    Path(String),
    /// The name without its leading NUL.
    Abstract(Vec<u8>),
}

impl UnixAddr {
    /// Parses a sockaddr_un of `bytes.len()` bytes. `None` means only the family was given
    /// (autobind for bind).
    pub fn parse(bytes: &[u8]) -> Result<Option<UnixAddr>> {
        if bytes.len() < FAMILY_LEN || bytes.len() > SOCKADDR_UN_LEN {
            return Err(Errno::EINVAL);
        }
        if u16::from_ne_bytes([bytes[0], bytes[1]]) as i32 != AF_UNIX {
            return Err(Errno::EINVAL);
        }
        let path = &bytes[FAMILY_LEN..];
        if path.is_empty() {
            return Ok(None);
        }
        if path[0] == 0 {
            return Ok(Some(UnixAddr::Abstract(path[1..].to_vec())));
        }
        let end = path.iter().position(|&b| b == 0).unwrap_or(path.len());
        let s = core::str::from_utf8(&path[..end]).map_err(|_| Errno::EINVAL)?;
        Ok(Some(UnixAddr::Path(String::from(s))))
    }

    /// The sockaddr_un bytes getsockname/getpeername/recvfrom return: family, then the path
    /// with its NUL, or the abstract name with its leading NUL, or nothing.
    pub fn encode(&self) -> Vec<u8> {
        let mut v = (AF_UNIX as u16).to_ne_bytes().to_vec();
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
