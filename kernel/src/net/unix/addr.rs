//! Unix socket addresses. The parsing and length rules are `ipc_rules::unix_addr` (unit-tested
//! on the host); here a malformed address becomes EINVAL.

use ipc_rules::unix_addr::InvalidAddress;
pub use ipc_rules::unix_addr::UnixAddr;

use crate::error::Errno;

impl From<InvalidAddress> for Errno {
    fn from(_: InvalidAddress) -> Errno {
        Errno::EINVAL
    }
}
