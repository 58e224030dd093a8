//! Path walk over the inode tree: absolute and relative paths, `.` and `..`, symlinks with
//! Linux's limit of 40 expansions.

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;

use super::tmpfs::{Inode, InodeKind};
use crate::error::{Errno, Result};

const MAX_SYMLINKS: u32 = 40;
pub const PATH_MAX: usize = 4096;

/// A resolved location: the inode and the chain of directories leading to it (for `..`).
#[derive(Clone)]
pub struct Walk {
    stack: Vec<Arc<Inode>>,
}

impl Walk {
    pub fn at(root: &Arc<Inode>) -> Self {
        Walk { stack: alloc::vec![root.clone()] }
    }

    pub fn inode(&self) -> &Arc<Inode> {
        self.stack.last().expect("walk has a root")
    }
}

/// Resolves `path` from `start` (for relative paths) with `root` as "/".
pub fn resolve(root: &Arc<Inode>, start: &Walk, path: &str, follow_last: bool) -> Result<Walk> {
    if path.is_empty() {
        return Err(Errno::ENOENT);
    }
    if path.len() >= PATH_MAX {
        return Err(Errno::ENAMETOOLONG);
    }
    let mut links = 0;
    walk(root, start.clone(), path, follow_last, &mut links)
}

fn walk(root: &Arc<Inode>, start: Walk, path: &str, follow_last: bool, links: &mut u32) -> Result<Walk> {
    let mut cur = if path.starts_with('/') { Walk::at(root) } else { start };
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    let must_be_dir = path.ends_with('/');
    for (i, name) in parts.iter().enumerate() {
        let last = i + 1 == parts.len();
        if !cur.inode().is_dir() {
            return Err(Errno::ENOTDIR);
        }
        if name.len() > 255 {
            return Err(Errno::ENAMETOOLONG);
        }
        match *name {
            "." => continue,
            ".." => {
                if cur.stack.len() > 1 {
                    cur.stack.pop();
                }
                continue;
            }
            _ => {}
        }
        let child = cur.inode().lookup(name)?;
        if let InodeKind::Symlink(target) = &child.kind {
            if !last || follow_last || must_be_dir {
                *links += 1;
                if *links > MAX_SYMLINKS {
                    return Err(Errno::ELOOP);
                }
                let target: String = target.clone();
                cur = walk(root, cur, &target, true, links)?;
                continue;
            }
        }
        cur.stack.push(child);
    }
    if must_be_dir && !cur.inode().is_dir() {
        return Err(Errno::ENOTDIR);
    }
    Ok(cur)
}

/// Splits "a/b/c" into ("a/b", "c"); the parent of a bare name is ".".
pub fn split_parent(path: &str) -> (&str, &str) {
    let trimmed = path.trim_end_matches('/');
    match trimmed.rfind('/') {
        Some(0) => ("/", &trimmed[1..]),
        Some(i) => (&trimmed[..i], &trimmed[i + 1..]),
        None => (".", trimmed),
    }
}
