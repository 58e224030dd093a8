//! Process credentials, the permission check every file access goes through, and the
//! rules by which a process may change its ids (set*uid/set*gid, setgroups).

use alloc::vec::Vec;

use crate::cap::{self, Cap};
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
    /// The capability sets (capabilities(7)); no ambient set, the bounding set is full.
    pub cap_effective: u64,
    pub cap_permitted: u64,
    pub cap_inheritable: u64,
    /// prctl(PR_SET_KEEPCAPS): keep the permitted set when every uid leaves 0.
    pub keep_caps: bool,
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
            cap_effective: cap::ALL,
            cap_permitted: cap::ALL,
            cap_inheritable: 0,
            keep_caps: false,
        }
    }

    /// euid 0. Privilege is a capability (`capable`); this is for what Linux decides by uid.
    pub fn is_root(&self) -> bool {
        self.euid == 0
    }

    /// Is `cap` in the effective set? Linux's capable(): every privileged operation asks this.
    pub fn capable(&self, cap: Cap) -> bool {
        self.cap_effective & cap.bit() != 0
    }

    /// The sets after execve of a file without file capabilities, as Linux's
    /// cap_bprm_creds_from_file treats root: a real or effective uid 0 gets the full bounding
    /// set permitted (plus the inheritable set) and, with euid 0, effective; anyone else keeps
    /// nothing but the inheritable set. Keep-caps ends at exec.
    pub fn exec_capabilities(&mut self) {
        if self.uid == 0 || self.euid == 0 {
            self.cap_permitted = cap::ALL | self.cap_inheritable;
        } else {
            self.cap_permitted = 0;
        }
        self.cap_effective = if self.euid == 0 { self.cap_permitted } else { 0 };
        self.keep_caps = false;
    }

    /// What a change of uids does to the sets (Linux's cap_task_fix_setuid): for set*uid,
    /// leaving uid 0 in all three ids drops permitted and effective (unless keep-caps), euid
    /// leaving 0 drops effective, euid becoming 0 raises effective to permitted; for setfsuid,
    /// fsuid moving off or onto 0 drops or raises the file-system capabilities.
    fn uids_changed(&mut self, old: (u32, u32, u32, u32), fs_only: bool) {
        let (ruid, euid, suid, fsuid) = old;
        if fs_only {
            if fsuid == 0 && self.fsuid != 0 {
                self.cap_effective &= !cap::FS_MASK;
            } else if fsuid != 0 && self.fsuid == 0 {
                self.cap_effective |= self.cap_permitted & cap::FS_MASK;
            }
            return;
        }
        let was_root = ruid == 0 || euid == 0 || suid == 0;
        let now_root = self.uid == 0 || self.euid == 0 || self.suid == 0;
        if was_root && !now_root && !self.keep_caps {
            self.cap_permitted = 0;
            self.cap_effective = 0;
        }
        if euid == 0 && self.euid != 0 {
            self.cap_effective = 0;
        }
        if euid != 0 && self.euid == 0 {
            self.cap_effective = self.cap_permitted;
        }
    }

    /// capset(2)'s rules (cap_capset): the inheritable set may only gain what is permitted
    /// (without CAP_SETPCAP), the permitted set may only shrink, effective ⊆ permitted.
    pub fn set_capabilities(
        &mut self,
        effective: u64,
        permitted: u64,
        inheritable: u64,
    ) -> Result<()> {
        let (effective, permitted, inheritable) =
            (effective & cap::ALL, permitted & cap::ALL, inheritable & cap::ALL);
        let inheritable_ok = if self.capable(Cap::Setpcap) {
            cap::ALL
        } else {
            self.cap_inheritable | self.cap_permitted
        };
        if inheritable & !inheritable_ok != 0
            || permitted & !self.cap_permitted != 0
            || effective & !permitted != 0
        {
            return Err(Errno::EPERM);
        }
        self.cap_effective = effective;
        self.cap_permitted = permitted;
        self.cap_inheritable = inheritable;
        Ok(())
    }

    pub fn in_group(&self, gid: u32) -> bool {
        self.fsgid == gid || self.groups.contains(&gid)
    }

    /// May these credentials access a file with metadata `m` for `mask` (MAY_*)? The mode
    /// bits, then Linux's generic_permission overrides: CAP_DAC_OVERRIDE passes read and write
    /// always and execute if any execute bit is set (or it is a directory); CAP_DAC_READ_SEARCH
    /// passes reading a file and reading or searching a directory.
    pub fn may_access(&self, m: &Metadata, mask: u32) -> bool {
        if self.mode_allows(m, mask) {
            return true;
        }
        if self.capable(Cap::DacOverride)
            && (mask & MAY_EXEC == 0 || m.mode & 0o111 != 0 || m.is_dir())
        {
            return true;
        }
        let read_search = if m.is_dir() { mask & MAY_WRITE == 0 } else { mask == MAY_READ };
        read_search && self.capable(Cap::DacReadSearch)
    }

    fn mode_allows(&self, m: &Metadata, mask: u32) -> bool {
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
/// fields differ. Privilege is CAP_SETUID for the user ids, CAP_SETGID for the group ids.
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
        let privileged = match kind {
            IdKind::User => self.capable(Cap::Setuid),
            IdKind::Group => self.capable(Cap::Setgid),
        };
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

    /// Runs `change` on the ids of `kind`, then applies the capability rules of a uid change.
    fn change_ids<T>(
        &mut self,
        kind: IdKind,
        fs_only: bool,
        change: impl FnOnce(&mut IdSet) -> T,
    ) -> T {
        let old = (self.uid, self.euid, self.suid, self.fsuid);
        let result = change(&mut self.ids(kind));
        if matches!(kind, IdKind::User) {
            self.uids_changed(old, fs_only);
        }
        result
    }

    pub fn set_id(&mut self, kind: IdKind, id: u32) -> Result<()> {
        self.change_ids(kind, false, |ids| ids.set(id))
    }

    pub fn set_real_effective(&mut self, kind: IdKind, real: u32, effective: u32) -> Result<()> {
        self.change_ids(kind, false, |ids| ids.set_real_effective(real, effective))
    }

    pub fn set_real_effective_saved(&mut self, kind: IdKind, r: u32, e: u32, s: u32) -> Result<()> {
        self.change_ids(kind, false, |ids| ids.set_all(r, e, s))
    }

    pub fn set_fs_id(&mut self, kind: IdKind, id: u32) -> u32 {
        self.change_ids(kind, true, |ids| ids.set_fs(id))
    }

    /// setgroups(2): CAP_SETGID only; stored sorted and without duplicates for `in_group`.
    pub fn set_groups(&mut self, mut groups: Vec<u32>) -> Result<()> {
        if !self.capable(Cap::Setgid) {
            return Err(Errno::EPERM);
        }
        groups.sort_unstable();
        groups.dedup();
        self.groups = groups;
        Ok(())
    }
}
