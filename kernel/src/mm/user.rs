//! Typed access to user memory: the only way the kernel touches it. Every access checks that the
//! range lies in user space and copies with the fault-tolerant routines of `arch::usercopy`, so a
//! bad pointer becomes EFAULT, never a kernel fault.

use alloc::string::String;
use alloc::vec::Vec;
use core::marker::PhantomData;
use core::mem::size_of;

use bytemuck::Pod;

use super::fallible::{try_extend, try_push};
use super::io::VmReader;
use crate::arch::usercopy;
use crate::arch::USER_END;
use crate::error::{Errno, Result};

fn check_range(addr: u64, len: usize) -> Result<()> {
    match addr.checked_add(len as u64) {
        Some(end) if end <= USER_END => Ok(()),
        _ => Err(Errno::EFAULT),
    }
}

/// A zero-filled kernel buffer of `len` bytes for data on its way to or from user space, or
/// ENOMEM: the length comes from a user program, which must not be able to panic the kernel.
pub fn zeroed_buffer(len: usize) -> Result<Vec<u8>> {
    let mut v = Vec::new();
    v.try_reserve_exact(len).map_err(|_| Errno::ENOMEM)?;
    v.resize(len, 0);
    Ok(v)
}

/// Copies user memory at `addr` into `dst`.
pub fn copy_from_user(dst: &mut [u8], addr: u64) -> Result<()> {
    if dst.is_empty() {
        return Ok(());
    }
    check_range(addr, dst.len())?;
    // SAFETY: `dst` is kernel memory of that length; the source range was checked to be user space.
    let left = unsafe { usercopy::copy(dst.as_mut_ptr(), addr as *const u8, dst.len()) };
    if left == 0 {
        Ok(())
    } else {
        Err(Errno::EFAULT)
    }
}

/// Copies `src` into user memory at `addr`.
pub fn copy_to_user(addr: u64, src: &[u8]) -> Result<()> {
    if src.is_empty() {
        return Ok(());
    }
    check_range(addr, src.len())?;
    // SAFETY: `src` is kernel memory of that length; the destination range is user space.
    let left = unsafe { usercopy::copy(addr as *mut u8, src.as_ptr(), src.len()) };
    if left == 0 {
        Ok(())
    } else {
        Err(Errno::EFAULT)
    }
}

/// Zeroes `len` bytes of user memory at `addr`.
pub fn clear_user(addr: u64, len: usize) -> Result<()> {
    if len == 0 {
        return Ok(());
    }
    check_range(addr, len)?;
    // SAFETY: the destination range was checked to be user space.
    let left = unsafe { usercopy::fill(addr as *mut u8, 0, len) };
    if left == 0 {
        Ok(())
    } else {
        Err(Errno::EFAULT)
    }
}

/// A pointer to one `T` in user memory.
#[derive(Clone, Copy, Debug)]
pub struct UserPtr<T> {
    addr: u64,
    _marker: PhantomData<T>,
}

impl<T: Pod> UserPtr<T> {
    pub fn new(addr: u64) -> Self {
        UserPtr { addr, _marker: PhantomData }
    }

    pub fn addr(&self) -> u64 {
        self.addr
    }

    pub fn is_null(&self) -> bool {
        self.addr == 0
    }

    pub fn read(&self) -> Result<T> {
        let mut value = T::zeroed();
        copy_from_user(bytemuck::bytes_of_mut(&mut value), self.addr)?;
        Ok(value)
    }

    pub fn write(&self, value: &T) -> Result<()> {
        copy_to_user(self.addr, bytemuck::bytes_of(value))
    }

    /// The pointer `n` elements further on.
    pub fn add(&self, n: usize) -> Self {
        UserPtr::new(self.addr.wrapping_add((n * size_of::<T>()) as u64))
    }
}

/// A byte range in user memory.
#[derive(Clone, Copy, Debug)]
pub struct UserSlice {
    addr: u64,
    len: usize,
}

impl UserSlice {
    pub fn new(addr: u64, len: usize) -> Self {
        UserSlice { addr, len }
    }

    pub fn addr(&self) -> u64 {
        self.addr
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Fails with EFAULT unless the whole range is in user space (not that it is mapped).
    pub fn check(&self) -> Result<()> {
        check_range(self.addr, self.len)
    }

    pub fn read(&self, dst: &mut [u8]) -> Result<()> {
        let n = self.len.min(dst.len());
        copy_from_user(&mut dst[..n], self.addr)
    }

    /// The bytes as a kernel buffer. The range is checked first (EFAULT), and a length the
    /// heap cannot hold gives ENOMEM instead of bringing the kernel down.
    pub fn read_to_vec(&self) -> Result<Vec<u8>> {
        check_range(self.addr, self.len)?;
        let mut v = zeroed_buffer(self.len)?;
        copy_from_user(&mut v, self.addr)?;
        Ok(v)
    }

    pub fn write(&self, src: &[u8]) -> Result<()> {
        copy_to_user(self.addr, &src[..src.len().min(self.len)])
    }

    /// The part after the first `n` bytes.
    pub fn skip(&self, n: usize) -> UserSlice {
        let n = n.min(self.len);
        UserSlice { addr: self.addr + n as u64, len: self.len - n }
    }

    pub fn take(&self, n: usize) -> UserSlice {
        UserSlice { addr: self.addr, len: self.len.min(n) }
    }
}

/// Bytes `offset..offset + len` of the concatenation of `slices` (an iovec list in user memory,
/// or kernel buffers), as a kernel buffer; past the end the result is shorter.
pub fn read_span<'a, S>(slices: &[S], mut offset: usize, len: usize) -> Result<Vec<u8>>
where
    S: Copy + Into<VmReader<'a>>,
{
    let mut out = Vec::new();
    out.try_reserve_exact(len).map_err(|_| Errno::ENOMEM)?;
    for &s in slices {
        let s: VmReader = s.into();
        if out.len() == len {
            break;
        }
        if offset >= s.len() {
            offset -= s.len();
            continue;
        }
        let part = s.skip(offset).take(len - out.len());
        offset = 0;
        out.extend_from_slice(&part.read_to_vec()?);
    }
    Ok(out)
}

/// Reads a NUL-terminated string of at most `max` bytes (ENAMETOOLONG beyond).
pub fn read_cstring(addr: u64, max: usize) -> Result<String> {
    let mut out = Vec::new();
    let mut cursor = addr;
    let mut chunk = [0u8; 256];
    loop {
        // Never read across a page boundary in one go: the next page may be unmapped even
        // though the string ends before it.
        let to_page_end = (4096 - (cursor % 4096)) as usize;
        let n = chunk.len().min(to_page_end);
        copy_from_user(&mut chunk[..n], cursor)?;
        // Fallible: a user can make the kernel read up to `max` bytes (Linux: ENOMEM there too).
        if let Some(pos) = chunk[..n].iter().position(|&b| b == 0) {
            try_extend(&mut out, &chunk[..pos])?;
            break;
        }
        try_extend(&mut out, &chunk[..n])?;
        if out.len() > max {
            return Err(Errno::ENAMETOOLONG);
        }
        cursor += n as u64;
    }
    if out.len() > max {
        return Err(Errno::ENAMETOOLONG);
    }
    String::from_utf8(out).map_err(|_| Errno::EINVAL)
}

/// Reads a NULL-terminated array of string pointers (argv, envp).
pub fn read_cstring_array(addr: u64, max_total: usize) -> Result<Vec<String>> {
    let mut v = Vec::new();
    if addr == 0 {
        return Ok(v);
    }
    let mut total = 0;
    for i in 0.. {
        let p = UserPtr::<u64>::new(addr + 8 * i as u64).read()?;
        if p == 0 {
            break;
        }
        let s = read_cstring(p, 128 * 1024).map_err(|e| {
            if e == Errno::ENAMETOOLONG {
                Errno::E2BIG
            } else {
                e
            }
        })?;
        total += s.len() + 1 + 8;
        if total > max_total {
            return Err(Errno::E2BIG);
        }
        try_push(&mut v, s)?;
    }
    Ok(v)
}
