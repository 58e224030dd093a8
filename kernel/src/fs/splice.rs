//! Moving data between two open files through a kernel buffer (sendfile, splice,
//! copy_file_range), chunk by chunk.

use super::file::OpenFile;
use crate::error::Result;

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
        let data = match src.read_kernel(want, src_off, nonblock) {
            Ok(d) => d,
            Err(e) if done == 0 => return Err(e),
            Err(_) => break,
        };
        if data.is_empty() {
            break;
        }
        let n = match dst.write_kernel(&data, dst_off, nonblock) {
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
