//! Inter-process communication objects that are not files: System V shared memory, semaphore
//! sets and message queues (`sysv`), futexes (`futex`), and POSIX message queues (`mqueue`,
//! which are files: their file system lives there too). The process layer calls in at exit
//! and exec.

pub mod futex;
pub mod mqueue;
pub mod sysv;

use alloc::sync::Arc;

use crate::mm::vm::AddressSpace;
use crate::sync::Mutex;

/// A process is exiting: apply its SEM_UNDO adjustments and account for the shared-memory
/// attachments its address space `vm` (about to be dropped) takes away.
pub fn exit(pid: u32, vm: Option<&Arc<Mutex<AddressSpace>>>) {
    sysv::sem::apply_undo(pid);
    if let Some(vm) = vm {
        sysv::shm::release_vm(pid, vm);
    }
}

/// A process replaced its address space by exec: `old` (about to be dropped) detaches its
/// shared-memory segments. Semaphore undo lists survive exec, as in Linux.
pub fn exec(pid: u32, old: Option<&Arc<Mutex<AddressSpace>>>) {
    if let Some(vm) = old {
        sysv::shm::release_vm(pid, vm);
    }
}
