//! Unpacks the cpio initramfs into the root tmpfs.

use alloc::string::String;
use alloc::sync::Arc;

use super::path::{self, Walk};
use super::tmpfs::Inode;
use crate::error::{Errno, Result};

/// Creates every entry of `archive` under `root`. Returns how many entries were unpacked.
pub fn unpack(root: &Arc<Inode>, archive: &[u8]) -> Result<usize> {
    let mut count = 0;
    for entry in cpio::entries(archive) {
        let entry = entry.map_err(|e| {
            crate::log!("initramfs: {}", e);
            Errno::EINVAL
        })?;
        let Ok(name) = core::str::from_utf8(entry.path()) else { continue };
        if name.is_empty() {
            continue;
        }
        let (parent, leaf) = path::split_parent(name);
        let dir = path::resolve(root, &Walk::at(root), parent, true)?;
        let node = if entry.is_dir() {
            Inode::new_dir(entry.permissions())
        } else if entry.is_symlink() {
            let target = core::str::from_utf8(entry.data).map_err(|_| Errno::EINVAL)?;
            Inode::new_symlink(String::from(target))
        } else if entry.is_file() {
            let f = Inode::new_file(entry.permissions());
            f.write_from(0, entry.data)?;
            f
        } else {
            continue;
        };
        match dir.inode().link(leaf, node) {
            // A directory listed twice (or created by an overlay) keeps its first inode.
            Err(Errno::EEXIST) if entry.is_dir() => {}
            other => other?,
        }
        count += 1;
    }
    Ok(count)
}
