//! syslog(2) (glibc's klogctl): the kernel log ring of `log`. As Linux with
//! kernel.dmesg_restrict = 1 (Debian's default): every action needs CAP_SYSLOG (or
//! CAP_SYS_ADMIN). READ does not wait for new lines: it returns 0 when all were read.

use crate::cap::Cap;
use crate::error::{Errno, Result};
use crate::mm::user::UserSlice;
use crate::process;

const CLOSE: i32 = 0;
const OPEN: i32 = 1;
const READ: i32 = 2;
const READ_ALL: i32 = 3;
const READ_CLEAR: i32 = 4;
const CLEAR: i32 = 5;
const CONSOLE_OFF: i32 = 6;
const CONSOLE_ON: i32 = 7;
const CONSOLE_LEVEL: i32 = 8;
const SIZE_UNREAD: i32 = 9;
const SIZE_BUFFER: i32 = 10;

pub fn syslog(action: i32, buf: u64, len: i32) -> Result<i64> {
    if !(CLOSE..=SIZE_BUFFER).contains(&action) {
        return Err(Errno::EINVAL);
    }
    let creds = process::current().creds.lock().clone();
    if !creds.capable(Cap::Syslog) && !creds.capable(Cap::SysAdmin) {
        return Err(Errno::EPERM);
    }
    let read_to_user = |data: alloc::vec::Vec<u8>| {
        UserSlice::new(buf, data.len()).write(&data).map(|()| data.len() as i64)
    };
    match action {
        READ | READ_ALL | READ_CLEAR => {
            if buf == 0 || len < 0 {
                return Err(Errno::EINVAL);
            }
            if len == 0 {
                return Ok(0);
            }
            UserSlice::new(buf, len as usize).check()?;
            let data = match action {
                READ => crate::log::ring_read(len as usize)?,
                _ => crate::log::ring_read_all(len as usize, action == READ_CLEAR)?,
            };
            read_to_user(data)
        }
        CLEAR => {
            crate::log::ring_clear();
            Ok(0)
        }
        CONSOLE_LEVEL if !(1..=8).contains(&len) => Err(Errno::EINVAL),
        SIZE_UNREAD => Ok(crate::log::ring_unread() as i64),
        SIZE_BUFFER => Ok(crate::log::RING_SIZE as i64),
        // The console level does not apply here.
        CLOSE | OPEN | CONSOLE_OFF | CONSOLE_ON | CONSOLE_LEVEL => Ok(0),
        _ => Err(Errno::EINVAL),
    }
}
