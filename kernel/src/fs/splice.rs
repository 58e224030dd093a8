//! Moving data between two open files through a kernel buffer (sendfile, splice,
//! copy_file_range), chunk by chunk.

use alloc::vec::Vec;

use super::file::OpenFile;
use crate::error::{Errno, Result};
use crate::mm::io::{VmReader, VmWriter};

/// Bytes moved per step.
const CHUNK: usize = 64 * 1024;

/// Moves up to `count` bytes from `src` to `dst`, chunk by chunk; stops at end of input or
/// at a short write. Errors after some bytes moved end the transfer with the count so far.
pub fn transfer(
    src: &OpenFile,
    mut src_off: Option<u64>,
    dst: &OpenFile,
    mut dst_off: Option<u64>,
    count: usize,
    nonblock: bool,
) -> Result<(usize, Option<u64>, Option<u64>)> {
    let mut done = 0;
    while done < count {
        let want = (count - done).min(CHUNK);
        let mut data = Vec::new();
        let read = data.try_reserve_exact(want).map_err(|_| Errno::ENOMEM).and_then(|()| {
            src.splice_read(&mut VmWriter::kernel(&mut data, want), src_off, nonblock)
        });
        match read {
            Ok(n) => data.truncate(n),
            Err(e) if done == 0 => return Err(e),
            Err(_) => break,
        };
        if data.is_empty() {
            break;
        }
        let n = match dst.splice_write(&VmReader::kernel(&data), dst_off, nonblock) {
            Ok(n) => n,
            Err(e) if done == 0 => return Err(e),
            Err(_) => break,
        };
        src_off = src_off.map(|o| o + n as u64);
        dst_off = dst_off.map(|o| o + n as u64);
        done += n;
        if n < data.len() || data.len() < want {
            break;
        }
    }
    Ok((done, src_off, dst_off))
}
