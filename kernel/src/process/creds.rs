//! Process credentials, the permission check every file access goes through, and the
//! rules by which a process may change its ids (set*uid/set*gid, setgroups).

use alloc::vec::Vec;

use crate::error::{Errno, Result};
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
        Credentials {
            uid: 0,
            euid: 0,
            suid: 0,
            fsuid: 0,
            gid: 0,
            egid: 0,
            sgid: 0,
            fsgid: 0,
            groups: Vec::new(),
        }
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

/// "Leave this id unchanged" in the set*id calls: `(uid_t)-1`.
pub const KEEP: u32 = u32::MAX;

/// Which family of ids a set*id call acts on. The rules are the same for both; only the
/// fields differ. Privilege is always judged by the effective *user* id (root ≈ CAP_SETUID
/// and CAP_SETGID together).
#[derive(Clone, Copy, Debug)]
pub enum IdKind {
    User,
    Group,
}

/// The four ids of one kind, borrowed out of `Credentials` so each rule is written once.
struct IdSet<'a> {
    privileged: bool,
    real: &'a mut u32,
    effective: &'a mut u32,
    saved: &'a mut u32,
    fs: &'a mut u32,
}

impl IdSet<'_> {
    fn is_current(&self, id: u32) -> bool {
        id == *self.real || id == *self.effective || id == *self.saved
    }

    /// setuid(2)/setgid(2): root sets all of them; others may only switch the effective id
    /// to the real or saved one.
    fn set(&mut self, id: u32) -> Result<()> {
        if id == KEEP {
            return Err(Errno::EINVAL);
        }
        if self.privileged {
            *self.real = id;
            *self.saved = id;
        } else if id != *self.real && id != *self.saved {
            return Err(Errno::EPERM);
        }
        *self.effective = id;
        *self.fs = id;
        Ok(())
    }

    /// setreuid(2)/setregid(2): the saved id follows the effective one when the real id is
    /// set or the effective id moves away from the old real id.
    fn set_real_effective(&mut self, real: u32, effective: u32) -> Result<()> {
        if !self.privileged {
            if real != KEEP && real != *self.real && real != *self.effective {
                return Err(Errno::EPERM);
            }
            if effective != KEEP && !self.is_current(effective) {
                return Err(Errno::EPERM);
            }
        }
        let old_real = *self.real;
        if real != KEEP {
            *self.real = real;
        }
        if effective != KEEP {
            *self.effective = effective;
        }
        if real != KEEP || (effective != KEEP && effective != old_real) {
            *self.saved = *self.effective;
        }
        *self.fs = *self.effective;
        Ok(())
    }

    /// setresuid(2)/setresgid(2): unprivileged callers may only shuffle their current ids.
    fn set_all(&mut self, real: u32, effective: u32, saved: u32) -> Result<()> {
        let asked = [real, effective, saved];
        if !self.privileged && asked.iter().any(|&id| id != KEEP && !self.is_current(id)) {
            return Err(Errno::EPERM);
        }
        for (slot, id) in
            [&mut *self.real, &mut *self.effective, &mut *self.saved].into_iter().zip(asked)
        {
            if id != KEEP {
                *slot = id;
            }
        }
        *self.fs = *self.effective;
        Ok(())
    }

    /// setfsuid(2)/setfsgid(2): never fails; returns the previous filesystem id and changes
    /// it only when allowed.
    fn set_fs(&mut self, id: u32) -> u32 {
        let old = *self.fs;
        if id != KEEP && (self.privileged || self.is_current(id) || id == old) {
            *self.fs = id;
        }
        old
    }
}

impl Credentials {
    fn ids(&mut self, kind: IdKind) -> IdSet<'_> {
        let privileged = self.is_root();
        match kind {
            IdKind::User => IdSet {
                privileged,
                real: &mut self.uid,
                effective: &mut self.euid,
                saved: &mut self.suid,
                fs: &mut self.fsuid,
            },
            IdKind::Group => IdSet {
                privileged,
                real: &mut self.gid,
                effective: &mut self.egid,
                saved: &mut self.sgid,
                fs: &mut self.fsgid,
            },
        }
    }

    /// (real, effective, saved) ids of one kind, as getresuid/getresgid report them.
    pub fn real_effective_saved(&self, kind: IdKind) -> (u32, u32, u32) {
        match kind {
            IdKind::User => (self.uid, self.euid, self.suid),
            IdKind::Group => (self.gid, self.egid, self.sgid),
        }
    }

    pub fn set_id(&mut self, kind: IdKind, id: u32) -> Result<()> {
        self.ids(kind).set(id)
    }

    pub fn set_real_effective(&mut self, kind: IdKind, real: u32, effective: u32) -> Result<()> {
        self.ids(kind).set_real_effective(real, effective)
    }

    pub fn set_real_effective_saved(&mut self, kind: IdKind, r: u32, e: u32, s: u32) -> Result<()> {
        self.ids(kind).set_all(r, e, s)
    }

    pub fn set_fs_id(&mut self, kind: IdKind, id: u32) -> u32 {
        self.ids(kind).set_fs(id)
    }

    /// setgroups(2): root only; stored sorted and without duplicates for `in_group`.
    pub fn set_groups(&mut self, mut groups: Vec<u32>) -> Result<()> {
        if !self.is_root() {
            return Err(Errno::EPERM);
        }
        groups.sort_unstable();
        groups.dedup();
        self.groups = groups;
        Ok(())
    }
}
