//! The OOM killer: when a page fault finds no free frame, kill the process with the largest
//! memory footprint, as Linux's oom_kill does, and keep running.
//!
//! Linux's badness: resident pages plus page-table pages, plus oom_score_adj thousandths of
//! all memory; oom_score_adj -1000 is never chosen, nor init, nor kernel threads. A process
//! already dying with SIGKILL is not chosen again, and a faulting process that is dying itself
//! chooses no one (Linux's task_will_free_mem(current)). The victim cannot run while the
//! faulting process is in the kernel, so its memory is taken back at once (Linux's OOM reaper):
//! its address space is emptied, and the fault is retried.

use alloc::sync::Arc;
use core::sync::atomic::{AtomicI32, Ordering};

use super::signal::{self, bit, SigInfo, SIGKILL, SI_KERNEL};
use super::{comm_of, Process, Vm};
use crate::error::{Errno, Result};
use crate::mm::frame::{self, PAGE_SIZE};

pub const OOM_SCORE_ADJ_MIN: i32 = -1000;
pub const OOM_SCORE_ADJ_MAX: i32 = 1000;

/// A process's oom_score_adj, and the floor below which only a privileged writer may set it
/// (Linux's signal->oom_score_adj and oom_score_adj_min); fork copies both.
pub struct OomScoreAdj {
    value: AtomicI32,
    min: AtomicI32,
}

impl Default for OomScoreAdj {
    fn default() -> OomScoreAdj {
        OomScoreAdj::new()
    }
}

impl OomScoreAdj {
    pub const fn new() -> OomScoreAdj {
        OomScoreAdj { value: AtomicI32::new(0), min: AtomicI32::new(0) }
    }

    pub fn get(&self) -> i32 {
        self.value.load(Ordering::Relaxed)
    }

    pub fn inherit(&self, parent: &OomScoreAdj) {
        self.value.store(parent.get(), Ordering::Relaxed);
        self.min.store(parent.min.load(Ordering::Relaxed), Ordering::Relaxed);
    }

    /// A write of /proc/<pid>/oom_score_adj (Linux's __set_oom_adj): EINVAL out of
    /// [-1000, 1000]; EACCES below the floor without CAP_SYS_RESOURCE (root here); a
    /// privileged writer also moves the floor to the new value, so an unprivileged one may
    /// raise the value and lower it again down to what root last set (0 at first).
    pub fn set(&self, v: i32, privileged: bool) -> Result<()> {
        if !(OOM_SCORE_ADJ_MIN..=OOM_SCORE_ADJ_MAX).contains(&v) {
            return Err(Errno::EINVAL);
        }
        if v < self.min.load(Ordering::Relaxed) && !privileged {
            return Err(Errno::EACCES);
        }
        self.value.store(v, Ordering::Relaxed);
        if privileged {
            self.min.store(v, Ordering::Relaxed);
        }
        Ok(())
    }
}

/// /proc/<pid>/oom_score: the badness scaled as Linux's proc_oom_score does,
/// (1000 + badness × 1000 / RAM pages) × 2 / 3, or 0 for a process never chosen (PID 1, a
/// zombie, oom_score_adj -1000).
pub fn oom_score(p: &Process) -> u64 {
    if p.pid == 1 || p.is_zombie() {
        return 0;
    }
    let Some(vm) = p.vm.lock().clone() else { return 0 };
    let rss = vm.lock().resident_pages() as u64;
    let total = (frame::total_frames() as i64).max(1);
    match badness(p, rss, total) {
        Some(points) => ((1000 + points * 1000 / total) * 2 / 3).max(0) as u64,
        None => 0,
    }
}

pub fn install() {
    crate::mm::vm::set_oom_handler(out_of_memory);
}

fn dying(p: &Process) -> bool {
    p.main_thread().is_some_and(|t| t.pending_all() & bit(SIGKILL) != 0)
}

struct Victim {
    points: i64,
    proc: Arc<Process>,
    vm: Vm,
    rss: u64,
}

/// Linux's oom_badness: None for a process never to be chosen.
fn badness(p: &Process, rss: u64, total: i64) -> Option<i64> {
    let adj = p.oom_score_adj.get();
    if adj == OOM_SCORE_ADJ_MIN {
        return None;
    }
    let pgtables = rss.div_ceil(512) + 1;
    Some(rss as i64 + pgtables as i64 + adj as i64 * (total / 1000))
}

/// The page-fault path's handler (`mm::vm::OomHandler`): true if memory was freed. The
/// faulting process's address space is locked by the fault, which says what it holds.
fn out_of_memory(faulting_resident: usize, faulting_total: u64) -> bool {
    choose_and_kill(faulting_resident, faulting_total, "0x140cca(GFP_HIGHUSER_MOVABLE|__GFP_COMP)")
}

/// A system call failed with ENOMEM after the frame allocator found no free frame (a pipe's
/// ring, a page table, a tmpfs page, a shared segment's page): the OOM killer acts, as Linux's
/// allocator invokes it for such small kernel allocations rather than failing them; true if
/// memory was freed, so that the call can be made again. The caller holds no lock; the
/// victim may be the caller itself (then false: it dies on its way out).
pub fn out_of_frames() -> bool {
    let me = super::of_thread(&crate::task::current());
    let vm = me.and_then(|p| p.vm.lock().clone());
    let (resident, total) = vm.map_or((0, 0), |vm| {
        let space = vm.lock();
        (space.resident_pages(), space.total_pages())
    });
    choose_and_kill(resident, total, "0xcc0(GFP_KERNEL)")
}

/// Linux's out_of_memory: chooses the process with the highest badness, kills it and reaps
/// its memory at once (unless it is the caller's, which `my_resident`/`my_total` describe
/// without locking it). True if frames were freed.
fn choose_and_kill(faulting_resident: usize, faulting_total: u64, gfp: &str) -> bool {
    let me = super::of_thread(&crate::task::current());
    if me.as_ref().is_some_and(|p| dying(p)) {
        return false;
    }
    let my_vm = me.as_ref().and_then(|p| p.vm.lock().clone());
    let total = frame::total_frames() as i64;
    let mut best: Option<Victim> = None;
    super::for_each(|p| {
        if p.pid == 1 || p.is_zombie() || dying(p) {
            return;
        }
        let Some(vm) = p.vm.lock().clone() else { return };
        let rss = if my_vm.as_ref().is_some_and(|m| Arc::ptr_eq(m, &vm)) {
            faulting_resident as u64
        } else {
            vm.lock().resident_pages() as u64
        };
        let Some(points) = badness(p, rss, total) else { return };
        if best.as_ref().is_none_or(|b| points > b.points) {
            best = Some(Victim { points, proc: p.clone(), vm, rss });
        }
    });
    if let Some(m) = me.as_ref() {
        crate::log!(
            "{} invoked oom-killer: gfp_mask={}, order=0, oom_score_adj={}",
            comm_of(m),
            gfp,
            m.oom_score_adj.get()
        );
    }
    let Some(v) = best else {
        crate::log!("Out of memory and no killable processes...");
        return false;
    };
    let is_mine = my_vm.as_ref().is_some_and(|m| Arc::ptr_eq(m, &v.vm));
    let total_vm = if is_mine {
        faulting_total // locked by the fault: its size came with it
    } else {
        v.vm.lock().total_pages()
    };
    let kb = PAGE_SIZE / 1024;
    crate::log!(
        "Out of memory: Killed process {} ({}) total-vm:{}kB, anon-rss:{}kB, file-rss:0kB, \
         shmem-rss:0kB, UID:{} pgtables:{}kB oom_score_adj:{}",
        v.proc.pid,
        comm_of(&v.proc),
        total_vm * kb,
        v.rss * kb,
        v.proc.creds.lock().uid,
        (v.rss.div_ceil(512) + 1) * kb,
        v.proc.oom_score_adj.get()
    );
    signal::send(&v.proc, SIGKILL, SigInfo::new(SIGKILL, SI_KERNEL));
    if is_mine {
        // The faulting process itself: it dies on its way back to user mode.
        return false;
    }
    // Reap: only an address space the victim alone uses (ours to clone here, its own slot).
    if Arc::strong_count(&v.vm) == 2 {
        let before = frame::free_frames();
        v.vm.lock().clear();
        crate::log!(
            "oom_reaper: reaped process {} ({}), now anon-rss:0kB, file-rss:0kB, shmem-rss:0kB",
            v.proc.pid,
            comm_of(&v.proc)
        );
        return frame::free_frames() > before;
    }
    false
}
