//! Process credentials and the permission check every file access goes through.

use alloc::vec::Vec;

use crate::fs::inode::Metadata;

pub const MAY_EXEC: u32 = 1;
pub const MAY_WRITE: u32 = 2;
pub const MAY_READ: u32 = 4;

#[derive(Clone, Debug)]
pub struct Credentials {
    pub uid: u32,
    pub euid: u32,
    pub suid: u32,
    pub fsuid: u32,
    pub gid: u32,
    pub egid: u32,
    pub sgid: u32,
    pub fsgid: u32,
    pub groups: Vec<u32>,
}

impl Credentials {
    pub fn root() -> Self {
        Credentials { uid: 0, euid: 0, suid: 0, fsuid: 0, gid: 0, egid: 0, sgid: 0, fsgid: 0, groups: Vec::new() }
    }

    pub fn is_root(&self) -> bool {
        self.euid == 0
    }

    pub fn in_group(&self, gid: u32) -> bool {
        self.fsgid == gid || self.groups.contains(&gid)
    }

    /// May these credentials access a file with metadata `m` for `mask` (MAY_*)? Root passes
    /// read and write always and execute if any execute bit is set (or it is a directory).
    pub fn may_access(&self, m: &Metadata, mask: u32) -> bool {
        if self.fsuid == 0 {
            return mask & MAY_EXEC == 0 || m.mode & 0o111 != 0 || m.is_dir();
        }
        let bits = if self.fsuid == m.uid {
            (m.mode >> 6) & 7
        } else if self.in_group(m.gid) {
            (m.mode >> 3) & 7
        } else {
            m.mode & 7
        };
        bits & mask == mask
    }
}
