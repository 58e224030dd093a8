//! Restartable sequences (rseq(2)): the kernel's side on the way back to user mode. A thread
//! that registered a `struct rseq` gets its cpu_id_start, cpu_id, node_id and mm_cid written
//! whenever it may have been preempted, migrated or interrupted, and a critical section it was
//! in (rseq_cs) is aborted: the return address becomes the section's abort_ip, after checking
//! the signature before it. Bad memory or a bad descriptor is a fatal SIGSEGV, as Linux.
//! There is one CPU (cpu 0, node 0, concurrency id 0), so the fields never change; they are
//! still rewritten, since user code may have clobbered them.

use bytemuck::{Pod, Zeroable};
use core::sync::atomic::Ordering;

use super::signal::{self, SigAction, SigInfo, SIGSEGV, SI_KERNEL};
use crate::arch::trap::TrapFrame;
use crate::error::{Errno, Result};
use crate::mm::user::UserPtr;
use crate::task;

/// Offsets in `struct rseq`.
const RSEQ_CPU_ID_START: u64 = 0;
const RSEQ_CPU_ID: u64 = 4;
const RSEQ_CS: u64 = 8;
const RSEQ_NODE_ID: u64 = 20;
const RSEQ_MM_CID: u64 = 24;
/// cpu_id while unregistered.
pub const RSEQ_CPU_ID_UNINITIALIZED: u32 = u32::MAX;

/// `struct rseq_cs`: a critical section's descriptor.
#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct RseqCs {
    version: u32,
    flags: u32,
    start_ip: u64,
    post_commit_offset: u64,
    abort_ip: u64,
}

/// Before returning to user mode: if the running thread's rseq area needs it, update it and
/// abort the critical section it is in (before a signal frame saves the return address).
pub fn on_return_to_user(frame: &mut TrapFrame) {
    let registered = task::with_current(|t| {
        if !t.abi.rseq_event.swap(false, Ordering::Relaxed) {
            return None;
        }
        let area = t.abi.rseq_area.load(Ordering::Relaxed);
        (area != 0).then(|| (area, t.abi.rseq_sig.load(Ordering::Relaxed)))
    });
    let Some((area, sig)) = registered else { return };
    if update(area, sig, frame).is_err() {
        // Linux's force_sigsegv: fatal, whatever the handler or the mask says.
        let proc = super::current();
        let thread = task::current();
        proc.handlers().lock().set(SIGSEGV, SigAction::default());
        thread.sig_blocked.fetch_and(!signal::bit(SIGSEGV), Ordering::Relaxed);
        signal::send_to_thread(&proc, &thread, SIGSEGV, SigInfo::new(SIGSEGV, SI_KERNEL));
    }
}

fn update(area: u64, sig: u32, frame: &mut TrapFrame) -> Result<()> {
    let cs_addr = UserPtr::<u64>::new(area + RSEQ_CS).read()?;
    if cs_addr != 0 {
        let cs = UserPtr::<RseqCs>::new(cs_addr).read()?;
        let end = cs.start_ip.checked_add(cs.post_commit_offset).ok_or(Errno::EINVAL)?;
        if cs.version != 0 || end > crate::arch::USER_END {
            return Err(Errno::EINVAL);
        }
        // The abort handler must lie outside the section.
        if cs.abort_ip.wrapping_sub(cs.start_ip) < cs.post_commit_offset {
            return Err(Errno::EINVAL);
        }
        if frame.rip.wrapping_sub(cs.start_ip) < cs.post_commit_offset {
            let found = UserPtr::<u32>::new(cs.abort_ip.wrapping_sub(4)).read()?;
            if found != sig {
                return Err(Errno::EINVAL);
            }
            frame.rip = cs.abort_ip;
        }
        // Outside a section (or just aborted), the descriptor pointer is cleared.
        UserPtr::<u64>::new(area + RSEQ_CS).write(&0)?;
    }
    write_cpu(area, 0)
}

/// Writes the cpu fields: `cpu` (0, or RSEQ_CPU_ID_UNINITIALIZED at unregistration, when
/// cpu_id_start is 0).
pub fn write_cpu(area: u64, cpu: u32) -> Result<()> {
    let start = if cpu == RSEQ_CPU_ID_UNINITIALIZED { 0 } else { cpu };
    UserPtr::<u32>::new(area + RSEQ_CPU_ID_START).write(&start)?;
    UserPtr::<u32>::new(area + RSEQ_CPU_ID).write(&cpu)?;
    UserPtr::<u32>::new(area + RSEQ_NODE_ID).write(&0)?;
    UserPtr::<u32>::new(area + RSEQ_MM_CID).write(&0)
}
