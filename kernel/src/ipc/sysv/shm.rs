//! System V shared memory. A segment is anonymous shared frames (`SharedMemory`, filled on
//! first touch); each attach maps them with `Backing::Shared`, so every process sees the same
//! frames and fork shares them instead of copying.
//!
//! Attach counting: every VMA that maps a segment holds a clone of its `Arc<SharedMemory>`
//! (fork and mprotect splits clone VMAs, munmap/exit/exec drop them), so shm_nattch is the
//! strong count minus the segment's own reference — the same per-VMA count Linux keeps. IPC_RMID
//! of an attached segment trades that reference for a `Weak`: the last unmap then frees the
//! frames by itself, and the table forgets the entry (whose `Weak` is dead) the next time it is
//! used. Attach VMAs carry a file tag (our shm device, the id, "/SYSV<key>") that shmdt,
//! /proc/<pid>/maps and the exit/exec accounting recognise.

use alloc::format;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;

use bytemuck::{Pod, Zeroable};
use spin::Once;

use super::limits::{SHMALL, SHMMAX, SHMMIN, SHMMNI};
use super::{
    ipcget, now, Caller, GetRequest, IdTable, Ipc64Perm, IpcObject, IpcPerm, IPC_PRIVATE, IPC_STAT,
    S_IRUGO, S_IWUGO, S_IXUGO,
};
use crate::error::{Errno, Result};
use crate::mm::fallible::try_collect;
use crate::mm::frame::{self, PAGE_SIZE};
use crate::mm::shared::SharedMemory;
use crate::mm::vm::{page_floor, AddressSpace, Backing, Placement, Prot, Vma};
use crate::sync::{Mutex, MutexGuard};

pub const SHM_RDONLY: i32 = 0o10000;
pub const SHM_RND: i32 = 0o20000;
pub const SHM_REMAP: i32 = 0o40000;
pub const SHM_EXEC: i32 = 0o100000;

pub const SHM_LOCK: i32 = 11;
pub const SHM_UNLOCK: i32 = 12;
pub const SHM_STAT: i32 = 13;
pub const SHM_INFO: i32 = 14;
pub const SHM_STAT_ANY: i32 = 15;

/// Mode bits: marked for removal after the last detach; locked in memory.
const SHM_DEST: u32 = 0o1000;
const SHM_LOCKED: u32 = 0o2000;
/// Attach addresses must be multiples of this (x86-64: a page).
const SHMLBA: u64 = PAGE_SIZE;

/// `struct shmid64_ds` (x86-64).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct ShmidDs {
    pub perm: Ipc64Perm,
    pub segsz: u64,
    pub atime: i64,
    pub dtime: i64,
    pub ctime: i64,
    pub cpid: i32,
    pub lpid: i32,
    pub nattch: u64,
    pub unused4: u64,
    pub unused5: u64,
}

/// `struct shminfo64`: IPC_INFO.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct ShmInfo64 {
    pub shmmax: u64,
    pub shmmin: u64,
    pub shmmni: u64,
    pub shmseg: u64,
    pub shmall: u64,
    pub unused: [u64; 4],
}

/// `struct shm_info`: SHM_INFO (sizes in pages).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct ShmInfo {
    pub used_ids: i32,
    pub pad: u32,
    pub shm_tot: u64,
    pub shm_rss: u64,
    pub shm_swp: u64,
    pub swap_attempts: u64,
    pub swap_successes: u64,
}

/// Who keeps the frames: the segment itself, or (after IPC_RMID while attached) only the
/// attaching VMAs.
enum Frames {
    Owned(Arc<SharedMemory>),
    Doomed(Weak<SharedMemory>),
}

struct ShmState {
    frames: Frames,
    atime: i64,
    dtime: i64,
    ctime: i64,
    cpid: u32,
    lpid: u32,
}

pub struct ShmSegment {
    perm: Mutex<IpcPerm>,
    size: u64,
    pages: u64,
    state: Mutex<ShmState>,
}

impl IpcObject for ShmSegment {
    fn perm(&self) -> &Mutex<IpcPerm> {
        &self.perm
    }
}

static SEGMENTS: Mutex<IdTable<ShmSegment>> = Mutex::new(IdTable::new());
static SHM_DEV: Once<u64> = Once::new();

/// The device number attach VMAs are tagged with (Linux shows its internal shm mount's).
fn shm_dev() -> u64 {
    *SHM_DEV.call_once(crate::fs::mount::new_anonymous_dev)
}

/// The table, minus segments whose last attach went away after IPC_RMID.
fn table() -> MutexGuard<'static, IdTable<ShmSegment>> {
    let mut t = SEGMENTS.lock();
    t.retain(|s| !s.is_gone());
    t
}

impl ShmSegment {
    fn new(perm: IpcPerm, size: u64, pages: u64, pid: u32) -> Result<ShmSegment> {
        let frames = Arc::new(SharedMemory::new(pages as usize)?);
        let state = ShmState {
            frames: Frames::Owned(frames),
            atime: 0,
            dtime: 0,
            ctime: now(),
            cpid: pid,
            lpid: 0,
        };
        Ok(ShmSegment { perm: Mutex::new(perm), size, pages, state: Mutex::new(state) })
    }

    /// shm_nattch: the VMAs holding the frames (see the module comment).
    fn nattch(&self) -> u64 {
        match &self.state.lock().frames {
            Frames::Owned(a) => Arc::strong_count(a) as u64 - 1,
            Frames::Doomed(w) => w.strong_count() as u64,
        }
    }

    fn frames(&self) -> Option<Arc<SharedMemory>> {
        match &self.state.lock().frames {
            Frames::Owned(a) => Some(a.clone()),
            Frames::Doomed(w) => w.upgrade(),
        }
    }

    /// Removed and no longer attached anywhere: the frames are gone.
    fn is_gone(&self) -> bool {
        matches!(&self.state.lock().frames, Frames::Doomed(w) if w.strong_count() == 0)
    }

    fn resident_pages(&self) -> u64 {
        self.frames().map_or(0, |f| f.resident_pages() as u64)
    }

    fn id(&self) -> i32 {
        self.perm.lock().id
    }

    fn stat(&self) -> ShmidDs {
        let perm = self.perm.lock().to_user();
        let nattch = self.nattch();
        let st = self.state.lock();
        ShmidDs {
            perm,
            segsz: self.size,
            atime: st.atime,
            dtime: st.dtime,
            ctime: st.ctime,
            cpid: st.cpid as i32,
            lpid: st.lpid as i32,
            nattch,
            ..ShmidDs::default()
        }
    }

    fn attached(&self, pid: u32) {
        let mut st = self.state.lock();
        st.atime = now();
        st.lpid = pid;
    }

    fn detached(&self, pid: u32) {
        let mut st = self.state.lock();
        st.dtime = now();
        st.lpid = pid;
    }
}

/// shmget.
pub fn shmget(c: &Caller, key: i32, size: u64, flags: i32) -> Result<i32> {
    let mut t = table();
    let total: u64 = t.iter().map(|s| s.pages).sum();
    let req = GetRequest { caller: c, key, flags, limit: SHMMNI };
    ipcget(
        &mut t,
        &req,
        |seg| if seg.size < size { Err(Errno::EINVAL) } else { Ok(()) },
        |perm| {
            if !(SHMMIN..=SHMMAX).contains(&size) {
                return Err(Errno::EINVAL);
            }
            let pages = size.div_ceil(PAGE_SIZE);
            if total.checked_add(pages).is_none_or(|t| t > SHMALL) {
                return Err(Errno::ENOSPC);
            }
            // Linux's heuristic overcommit refuses one segment larger than all of RAM.
            if pages > frame::total_frames() as u64 {
                return Err(Errno::ENOMEM);
            }
            ShmSegment::new(perm, size, pages, c.pid)
        },
    )
}

/// Where shmat maps: anywhere for a null address, else the address (rounded down with
/// SHM_RND), replacing what is there only with SHM_REMAP.
fn placement(addr: u64, flags: i32) -> Result<Placement> {
    if addr == 0 {
        return if flags & SHM_REMAP != 0 { Err(Errno::EINVAL) } else { Ok(Placement::Hint(0)) };
    }
    let mut addr = addr;
    if !addr.is_multiple_of(SHMLBA) {
        if flags & SHM_RND == 0 {
            return Err(Errno::EINVAL);
        }
        addr = page_floor(addr);
        if addr == 0 && flags & SHM_REMAP != 0 {
            return Err(Errno::EINVAL);
        }
    }
    Ok(if flags & SHM_REMAP != 0 {
        Placement::Fixed(addr)
    } else {
        Placement::FixedNoReplace(addr)
    })
}

/// shmat: maps segment `id` into `vm`; returns the address.
pub fn shmat(c: &Caller, vm: &Mutex<AddressSpace>, id: i32, addr: u64, flags: i32) -> Result<u64> {
    if id < 0 {
        return Err(Errno::EINVAL);
    }
    let placement = placement(addr, flags)?;
    let (mut prot, mut access) = if flags & SHM_RDONLY != 0 {
        (Prot::READ, S_IRUGO)
    } else {
        (Prot::READ | Prot::WRITE, S_IRUGO | S_IWUGO)
    };
    if flags & SHM_EXEC != 0 {
        prot |= Prot::EXEC;
        access |= S_IXUGO;
    }
    let (seg, frames, key) = {
        let t = table();
        let seg = t.get(id)?;
        let perm = seg.perm.lock();
        perm.check(c, access)?;
        let key = perm.key;
        drop(perm);
        let frames = seg.frames().ok_or(Errno::EIDRM)?;
        (seg, frames, key)
    };
    // The table lock is never held while taking an address space's (shmdt nests them the
    // other way round).
    let mut space = vm.lock();
    let backing = Backing::Shared { source: frames, pgoff: 0 };
    // An occupied range without SHM_REMAP is EINVAL, not mmap's EEXIST.
    let start = space.map(placement, seg.size, prot, backing).map_err(|e| {
        if e == Errno::EEXIST {
            Errno::EINVAL
        } else {
            e
        }
    })?;
    space.set_vma_file(start, (shm_dev(), id as u64, format!("/SYSV{:08x} (deleted)", key as u32)));
    if flags & SHM_RDONLY != 0 {
        // Like a file opened read-only: mprotect may not make it writable.
        space.set_vma_max_prot(start, Prot::READ | Prot::EXEC);
    }
    drop(space);
    seg.attached(c.pid);
    Ok(start)
}

/// The segment id of an attach VMA and the identity of its frames.
fn attach_of(v: &Vma) -> Option<(i32, *const u8)> {
    let (dev, id, _) = v.file.as_ref()?;
    match &v.backing {
        Backing::Shared { source, .. } if *dev == shm_dev() => {
            Some((*id as i32, Arc::as_ptr(source) as *const u8))
        }
        _ => None,
    }
}

/// Does `v` belong to an attach that started at `addr`?
fn starts_at(v: &Vma, addr: u64) -> bool {
    v.start >= addr && (v.start - addr) / PAGE_SIZE == v.pgoff()
}

/// shmdt: unmaps the attach that starts at `addr` (with its fragments, as Linux does).
pub fn shmdt(c: &Caller, vm: &Mutex<AddressSpace>, addr: u64) -> Result<()> {
    if !addr.is_multiple_of(PAGE_SIZE) {
        return Err(Errno::EINVAL);
    }
    let mut space = vm.lock();
    let attaches = || {
        space.vmas().filter(|v| v.end > addr).filter_map(|v| {
            attach_of(v).map(|(id, src)| (v.start, v.end, id, src, starts_at(v, addr)))
        })
    };
    // Up to vm.max_map_count of them: fallible.
    let vmas: Vec<(u64, u64, i32, *const u8, bool)> = try_collect(attaches().count(), attaches())?;
    let first = vmas.iter().position(|v| v.4).ok_or(Errno::EINVAL)?;
    let (_, _, id, source, _) = vmas[first];
    let seg = table().get(id).ok();
    let size = seg.as_ref().map_or(0, |s| s.pages * PAGE_SIZE);
    for (i, &(start, end, _, src, starts)) in vmas.iter().enumerate().skip(first) {
        if i > first && end - addr > size {
            break;
        }
        if starts && src == source {
            space.unmap(start, end - start)?;
        }
    }
    drop(space);
    if let Some(seg) = seg {
        seg.detached(c.pid);
    }
    Ok(())
}

/// `vm` is going away (exit, exec): record the detach of each segment it attaches, unless a
/// vfork parent still shares it. Its VMAs then drop their references to the frames.
pub fn release_vm(pid: u32, vm: &Arc<Mutex<AddressSpace>>) {
    if Arc::strong_count(vm) > 1 {
        return;
    }
    // Each attach VMA in turn, without a list (exit allocates nothing); recording a detach
    // twice is harmless. The address space's lock is taken before the table's, as in shmdt.
    let space = vm.lock();
    let mut attaches = space.vmas().filter_map(attach_of).peekable();
    if attaches.peek().is_none() {
        return;
    }
    let t = table();
    for (id, _) in attaches {
        if let Ok(seg) = t.get(id) {
            seg.detached(pid);
        }
    }
}

/// IPC_INFO: the limits, and the highest index in use.
pub fn info() -> (ShmInfo64, i32) {
    let info = ShmInfo64 {
        shmmax: SHMMAX,
        shmmin: SHMMIN,
        shmmni: SHMMNI as u64,
        shmseg: SHMMNI as u64,
        shmall: SHMALL,
        ..ShmInfo64::default()
    };
    (info, table().max_idx())
}

/// SHM_INFO: usage, and the highest index in use.
pub fn shm_info() -> (ShmInfo, i32) {
    let t = table();
    let info = ShmInfo {
        used_ids: t.in_use() as i32,
        shm_tot: t.iter().map(|s| s.pages).sum(),
        shm_rss: t.iter().map(|s| s.resident_pages()).sum(),
        ..ShmInfo::default()
    };
    (info, t.max_idx())
}

/// IPC_STAT (by id, returns 0), SHM_STAT and SHM_STAT_ANY (by index, return the id; _ANY
/// without the read-permission check).
pub fn stat(c: &Caller, id: i32, cmd: i32) -> Result<(ShmidDs, i32)> {
    let t = table();
    let seg = if cmd == IPC_STAT { t.get(id)? } else { t.at_index(id)? };
    if cmd != SHM_STAT_ANY {
        seg.perm.lock().check(c, S_IRUGO)?;
    }
    let ret = if cmd == IPC_STAT { 0 } else { seg.id() };
    Ok((seg.stat(), ret))
}

/// IPC_SET: owner, group and permission bits.
pub fn set(c: &Caller, id: i32, from: &Ipc64Perm) -> Result<()> {
    let seg = table().get(id)?;
    let mut perm = seg.perm.lock();
    perm.check_control(c)?;
    perm.update(from)?;
    drop(perm);
    seg.state.lock().ctime = now();
    Ok(())
}

/// IPC_RMID: destroy now if unattached, else mark (SHM_DEST, key IPC_PRIVATE so shmget no
/// longer finds it) and let the last detach free it.
pub fn remove(c: &Caller, id: i32) -> Result<()> {
    let mut t = table();
    let seg = t.get(id)?;
    let mut perm = seg.perm.lock();
    perm.check_control(c)?;
    perm.mode |= SHM_DEST;
    perm.key = IPC_PRIVATE;
    drop(perm);
    if seg.nattch() == 0 {
        t.remove(id);
    } else {
        let mut st = seg.state.lock();
        if let Frames::Owned(a) = &st.frames {
            st.frames = Frames::Doomed(Arc::downgrade(a));
        }
    }
    Ok(())
}

/// SHM_LOCK / SHM_UNLOCK: there is no swap, so only the SHM_LOCKED mode bit changes. Without
/// privilege only the owner or creator may.
pub fn lock(c: &Caller, id: i32, lock: bool) -> Result<()> {
    let seg = table().get(id)?;
    let mut perm = seg.perm.lock();
    if !c.capable(crate::cap::Cap::IpcLock) && c.euid != perm.uid && c.euid != perm.cuid {
        return Err(Errno::EPERM);
    }
    if lock {
        perm.mode |= SHM_LOCKED;
    } else {
        perm.mode &= !SHM_LOCKED;
    }
    Ok(())
}

/// One line of /proc/sysvipc/shm.
pub struct ShmRow {
    pub id: i32,
    pub ds: ShmidDs,
    pub rss_pages: u64,
}

pub fn rows() -> Result<Vec<ShmRow>> {
    table().rows(|s| ShmRow { id: s.id(), ds: s.stat(), rss_pages: s.resident_pages() })
}
