//! Path resolution as Linux does it, over any tree whose nodes implement [`Node`]: absolute
//! and relative paths, `.` and `..` (never above the root), symbolic links with Linux's limit
//! of 40 expansions, a trailing slash that demands a directory, search permission on every
//! directory passed through, and the length limits. A [`Walk`] remembers the names and nodes
//! from the root to where it stands, so `..` goes back the way it came (across mount points,
//! which the node type handles in [`Node::mounted`]) and the walk can name its own path.
//!
//! The kernel implements `Node` for its inodes; the host tests implement it for a small
//! in-memory tree (`tests.rs`).

#![no_std]

extern crate alloc;
#[cfg(test)]
extern crate std;

#[cfg(test)]
mod tests;

use alloc::string::String;
use alloc::vec::Vec;

pub const PATH_MAX: usize = 4096;
pub const NAME_MAX: usize = 255;
/// Linux's MAXSYMLINKS.
pub const MAX_SYMLINKS: u32 = 40;

/// The walk's own failures; the node type's error must be able to express them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WalkError {
    /// ENOENT: an empty path or an empty symlink target.
    NotFound,
    /// ENOTDIR: a component that must be a directory is not.
    NotDir,
    /// EACCES: no search permission on a directory on the way.
    Access,
    /// ENAMETOOLONG: the path or one component is too long.
    NameTooLong,
    /// ELOOP: more than MAX_SYMLINKS symbolic links.
    Loop,
    /// ENOMEM: no memory for the walk's names (allocations here are fallible).
    NoMemory,
}

pub trait Node: Clone {
    type Error: From<WalkError>;
    fn is_dir(&self) -> bool;
    fn is_symlink(&self) -> bool;
    /// May the caller search (traverse) this directory?
    fn may_search(&self) -> bool;
    fn lookup(&self, name: &str) -> Result<Self, Self::Error>;
    fn readlink(&self) -> Result<String, Self::Error>;
    /// What a walk stands on once it reaches this node: the root of a filesystem mounted here,
    /// or the node itself.
    fn mounted(self) -> Self {
        self
    }
    /// For a "magic" symbolic link (Linux's /proc/<pid>/fd/<n>): where following it leads,
    /// whatever its text says, so that it reaches a file that has no path (deleted, or never
    /// named). `None`: an ordinary link, followed by its text.
    fn magic(&self) -> Option<Walk<Self>> {
        None
    }
}

#[derive(Clone)]
pub struct Walk<N> {
    /// (name, node) from the root ("" for the root itself).
    stack: Vec<(String, N)>,
}

impl<N: Node> Walk<N> {
    /// A walk standing at `root`.
    pub fn at_root(root: N) -> Walk<N> {
        Walk { stack: alloc::vec![(String::new(), root)] }
    }

    pub fn node(&self) -> &N {
        &self.stack[self.stack.len() - 1].1
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
        let n = &self.stack[self.stack.len() - 1].0;
        if n.is_empty() {
            "/"
        } else {
            n
        }
    }

    /// The walk of the parent directory (the root is its own parent).
    pub fn parent(&self) -> Walk<N> {
        let mut w = self.clone();
        w.pop();
        w
    }

    /// This walk one step further, onto `node` named `name` (a magic link's target).
    pub fn child(&self, name: &str, node: N) -> Walk<N> {
        let mut w = self.clone();
        w.stack.push((String::from(name), node.mounted()));
        w
    }

    /// A copy, or `NoMemory`.
    pub fn try_clone(&self) -> Result<Walk<N>, WalkError> {
        let mut stack = Vec::new();
        stack.try_reserve_exact(self.stack.len()).map_err(|_| WalkError::NoMemory)?;
        for (name, node) in &self.stack {
            stack.push((try_string(name)?, node.clone()));
        }
        Ok(Walk { stack })
    }

    fn push(&mut self, name: &str, node: N) -> Result<(), WalkError> {
        let name = try_string(name)?;
        self.stack.try_reserve(1).map_err(|_| WalkError::NoMemory)?;
        self.stack.push((name, node.mounted()));
        Ok(())
    }

    fn pop(&mut self) {
        if self.stack.len() > 1 {
            self.stack.pop();
        }
    }
}

fn try_string(s: &str) -> Result<String, WalkError> {
    let mut out = String::new();
    out.try_reserve_exact(s.len()).map_err(|_| WalkError::NoMemory)?;
    out.push_str(s);
    Ok(out)
}

fn check(path: &str) -> Result<(), WalkError> {
    if path.is_empty() {
        return Err(WalkError::NotFound);
    }
    if path.len() >= PATH_MAX {
        return Err(WalkError::NameTooLong);
    }
    Ok(())
}

/// Resolves `path` from `start` (relative paths) or `root` (absolute ones). `follow_last`:
/// whether a symlink as the last component is followed (a trailing slash always follows).
pub fn resolve<N: Node>(
    root: &Walk<N>,
    start: &Walk<N>,
    path: &str,
    follow_last: bool,
) -> Result<Walk<N>, N::Error> {
    check(path)?;
    Resolver { root, links: 0 }.walk(start.try_clone()?, path, follow_last)
}

/// Resolves all but the last component: the parent directory and the final name (trailing
/// slashes dropped; the caller sees them in `path`). "/" is its own parent, named ".".
pub fn resolve_parent<N: Node>(
    root: &Walk<N>,
    start: &Walk<N>,
    path: &str,
) -> Result<(Walk<N>, String), N::Error> {
    check(path)?;
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() {
        return Ok((root.try_clone()?, String::from(".")));
    }
    let (dir, name) = match trimmed.rfind('/') {
        Some(i) => (if i == 0 { "/" } else { &trimmed[..i] }, &trimmed[i + 1..]),
        None => (".", trimmed),
    };
    if name.len() > NAME_MAX {
        return Err(WalkError::NameTooLong.into());
    }
    let parent = Resolver { root, links: 0 }.walk(start.try_clone()?, dir, true)?;
    if !parent.node().is_dir() {
        return Err(WalkError::NotDir.into());
    }
    Ok((parent, try_string(name)?))
}

struct Resolver<'a, N> {
    root: &'a Walk<N>,
    links: u32,
}

impl<N: Node> Resolver<'_, N> {
    fn walk(&mut self, start: Walk<N>, path: &str, follow_last: bool) -> Result<Walk<N>, N::Error> {
        let mut cur = if path.starts_with('/') { self.root.try_clone()? } else { start };
        let mut parts = path.split('/').filter(|p| !p.is_empty()).peekable();
        let must_be_dir = path.ends_with('/');
        while let Some(name) = parts.next() {
            let last = parts.peek().is_none();
            if !cur.node().is_dir() {
                return Err(WalkError::NotDir.into());
            }
            if !cur.node().may_search() {
                return Err(WalkError::Access.into());
            }
            if name.len() > NAME_MAX {
                return Err(WalkError::NameTooLong.into());
            }
            match name {
                "." => continue,
                ".." => {
                    cur.pop();
                    continue;
                }
                _ => {}
            }
            let child = cur.node().lookup(name)?;
            if child.is_symlink() && (!last || follow_last || must_be_dir) {
                self.links += 1;
                if self.links > MAX_SYMLINKS {
                    return Err(WalkError::Loop.into());
                }
                if let Some(to) = child.magic() {
                    cur = to;
                    continue;
                }
                let target = child.readlink()?;
                if target.is_empty() {
                    return Err(WalkError::NotFound.into());
                }
                cur = self.walk(cur, &target, true)?;
                continue;
            }
            cur.push(name, child)?;
        }
        if must_be_dir && !cur.node().is_dir() {
            return Err(WalkError::NotDir.into());
        }
        Ok(cur)
    }
}
