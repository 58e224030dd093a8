//! Path walk: absolute and relative paths, `.` and `..`, mount points, and symlinks with Linux's
//! limit of 40 expansions. A `Walk` remembers the names and inodes from the root to where it
//! stands, so `..` crosses mount points correctly and getcwd can name the directory.

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;

use super::inode::{Inode, S_IFLNK};
use super::mount;
use crate::error::{Errno, Result};

const MAX_SYMLINKS: u32 = 40;

/// May the caller search (traverse) a directory? Installed by `process` (credentials live there).
static SEARCH_CHECK: spin::Once<fn(&super::inode::Metadata) -> bool> = spin::Once::new();

pub fn set_search_check(f: fn(&super::inode::Metadata) -> bool) {
    SEARCH_CHECK.call_once(|| f);
}

fn may_search(dir: &Arc<dyn Inode>) -> bool {
    SEARCH_CHECK.get().is_none_or(|f| f(&dir.metadata()))
}
pub const PATH_MAX: usize = 4096;
const NAME_MAX: usize = 255;

#[derive(Clone)]
pub struct Walk {
    /// (name, inode) from the root ("" for the root itself).
    stack: Vec<(String, Arc<dyn Inode>)>,
}

impl Walk {
    pub fn root() -> Walk {
        Walk { stack: alloc::vec![(String::new(), super::root())] }
    }

    pub fn inode(&self) -> &Arc<dyn Inode> {
        &self.stack.last().expect("walk has a root").1
    }

    /// The absolute path of where this walk stands.
    pub fn path(&self) -> String {
        if self.stack.len() == 1 {
            return String::from("/");
        }
        let mut s = String::new();
        for (name, _) in &self.stack[1..] {
            s.push('/');
            s.push_str(name);
        }
        s
    }

    /// The last component's name ("/" for the root).
    pub fn name(&self) -> &str {
        let n = &self.stack.last().expect("walk has a root").0;
        if n.is_empty() { "/" } else { n }
    }

    fn push(&mut self, name: &str, inode: Arc<dyn Inode>) {
        let inode = mount::mounted_on(&inode).unwrap_or(inode);
        self.stack.push((String::from(name), inode));
    }

    fn pop(&mut self) {
        if self.stack.len() > 1 {
            self.stack.pop();
        }
    }

    /// The walk of the parent directory.
    pub fn parent(&self) -> Walk {
        let mut w = self.clone();
        w.pop();
        w
    }
}

pub struct Resolver {
    links: u32,
}

/// Resolves `path` starting at `start` (for relative paths).
pub fn resolve(start: &Walk, path: &str, follow_last: bool) -> Result<Walk> {
    check(path)?;
    Resolver { links: 0 }.walk(start.clone(), path, follow_last)
}

/// Resolves all but the last component: the parent directory and the final name.
/// A trailing slash is kept in mind by the caller via `ends_with('/')`.
pub fn resolve_parent(start: &Walk, path: &str) -> Result<(Walk, String)> {
    check(path)?;
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() {
        // "/" itself: its "parent" is the root and the name is ".".
        return Ok((Walk::root(), String::from(".")));
    }
    let (dir, name) = match trimmed.rfind('/') {
        Some(i) => (if i == 0 { "/" } else { &trimmed[..i] }, &trimmed[i + 1..]),
        None => (".", trimmed),
    };
    if name.len() > NAME_MAX {
        return Err(Errno::ENAMETOOLONG);
    }
    let parent = Resolver { links: 0 }.walk(start.clone(), dir, true)?;
    if !parent.inode().metadata().is_dir() {
        return Err(Errno::ENOTDIR);
    }
    Ok((parent, String::from(name)))
}

fn check(path: &str) -> Result<()> {
    if path.is_empty() {
        return Err(Errno::ENOENT);
    }
    if path.len() >= PATH_MAX {
        return Err(Errno::ENAMETOOLONG);
    }
    Ok(())
}

impl Resolver {
    fn walk(&mut self, start: Walk, path: &str, follow_last: bool) -> Result<Walk> {
        let mut cur = if path.starts_with('/') { Walk::root() } else { start };
        let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
        let must_be_dir = path.ends_with('/');
        for (i, name) in parts.iter().enumerate() {
            let last = i + 1 == parts.len();
            if !cur.inode().metadata().is_dir() {
                return Err(Errno::ENOTDIR);
            }
            if !may_search(cur.inode()) {
                return Err(Errno::EACCES);
            }
            if name.len() > NAME_MAX {
                return Err(Errno::ENAMETOOLONG);
            }
            match *name {
                "." => continue,
                ".." => {
                    cur.pop();
                    continue;
                }
                _ => {}
            }
            let child = cur.inode().lookup(name)?;
            if child.metadata().file_type() == S_IFLNK && (!last || follow_last || must_be_dir) {
                self.links += 1;
                if self.links > MAX_SYMLINKS {
                    return Err(Errno::ELOOP);
                }
                let target = child.readlink()?;
                if target.is_empty() {
                    return Err(Errno::ENOENT);
                }
                cur = self.walk(cur, &target, true)?;
                continue;
            }
            cur.push(name, child);
        }
        if must_be_dir && !cur.inode().metadata().is_dir() {
            return Err(Errno::ENOTDIR);
        }
        Ok(cur)
    }
}
