//! Unpacks the cpio initramfs into the root tmpfs.

use alloc::sync::Arc;

use super::inode::{Inode, NewNode, S_IFDIR, S_IFMT};
use super::path::{self, Walk};
use crate::error::{Errno, Result};

/// Creates every entry of `archive` in the root. Returns how many entries were unpacked.
pub fn unpack(archive: &[u8]) -> Result<usize> {
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
        let (dir, leaf) = path::resolve_parent(&Walk::root(), name)?;
        let dir: &Arc<dyn Inode> = dir.inode();
        let node = NewNode { mode: entry.mode, uid: entry.uid, gid: entry.gid, rdev: 0 };
        let result = if entry.is_symlink() {
            let target = core::str::from_utf8(entry.data).map_err(|_| Errno::EINVAL)?;
            dir.symlink(&leaf, target, node).map(|_| ())
        } else if entry.is_dir() || entry.is_file() {
            dir.create(&leaf, node).and_then(|f| {
                if entry.is_file() {
                    f.write_at(0, entry.data).map(|_| ())
                } else {
                    Ok(())
                }
            })
        } else {
            continue;
        };
        match result {
            // A directory listed twice (or created by an overlay) keeps its first inode.
            Err(Errno::EEXIST) if entry.mode & S_IFMT == S_IFDIR => {}
            other => other?,
        }
        count += 1;
    }
    Ok(count)
}
