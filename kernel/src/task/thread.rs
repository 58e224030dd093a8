//! A thread: a kernel stack, the saved kernel context, the user's TLS base and per-thread signal
//! state. What the thread belongs to (its process) is attached by the layer above as `owner`.

use alloc::sync::Arc;
use core::any::Any;
use core::panic::Location;
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicU8, Ordering};

use spin::Once;

use crate::arch::context::KernelContext;
use crate::arch::trap::TrapFrame;
use crate::mm::page_table::PageTableRoot;
use crate::sync::Mutex;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum State {
    /// In a run queue, waiting for a CPU.
    Runnable = 0,
    /// On a CPU.
    Running = 1,
    /// Asleep: about to leave its CPU (see `BLOCKED`) or off every CPU and run queue.
    Sleeping = 2,
    Dead = 3,
}

/// The raw state of a thread that has left its CPU to sleep (the scheduler's switch moved it
/// from `Sleeping`); shown as `Sleeping`. A waker that finds `Sleeping` sets `Running` (the
/// thread has not left its CPU and will not), one that finds `BLOCKED` sets `Runnable` and puts
/// the thread in a run queue: each transition is one compare-and-swap, so exactly one waker
/// acts and a wake between "I will sleep" and the switch is never lost.
pub(super) const BLOCKED: u8 = 4;

pub struct Thread {
    /// The thread id; a thread that execs from a non-leader thread takes over its group's id
    /// (Linux's de_thread), the one time it changes. Read with `tid()`.
    tid: AtomicU32,
    /// Its kernel stack and what a context switch saves (arch's).
    pub(super) context: Arc<KernelContext>,
    state: AtomicU8,
    /// The CPU it runs on, or ran on last (whose run queue it is in while runnable).
    pub(super) cpu: AtomicU32,
    /// The CPUs it may run on (sched_setaffinity; bit n is CPU n).
    affinity: AtomicU64,
    /// Page-table root to load when this thread runs (the kernel's for kernel threads).
    pub(super) page_table_root: Mutex<PageTableRoot>,
    /// The user's FS and GS bases (arch_prctl), loaded into the CPU whenever this thread runs.
    pub fs_base: AtomicU64,
    pub gs_base: AtomicU64,
    /// Signals pending for this thread, and its blocked mask (bit n-1 for signal n).
    pub sig_pending: AtomicU64,
    /// Signals pending for the whole process (shared by its threads; set by the process layer).
    shared_pending: Once<Arc<AtomicU64>>,
    pub sig_blocked: AtomicU64,
    pub clear_child_tid: AtomicU64,
    /// The signals an rt_sigtimedwait of this thread waits for: they wake it though blocked.
    pub sigwait_set: AtomicU64,
    /// The mask to restore after the next signal delivery (rt_sigsuspend, ppoll, pselect6,
    /// epoll_pwait), set by the process layer.
    pub restore_mask: Mutex<Option<u64>>,
    /// sigaltstack: (sp, size, flags), per thread as in Linux.
    pub alt_stack: Mutex<(u64, u64, u32)>,
    /// The thread's name (prctl PR_SET_NAME, /proc/PID/task/TID/comm, exec's basename); None
    /// until set, and then the process layer derives it.
    pub comm: Mutex<Option<alloc::string::String>>,
    /// Set when a timed wait ended because its deadline passed.
    pub(super) timed_out: AtomicBool,
    /// Ticks left in the current time slice.
    pub(super) slice_left: AtomicU32,
    /// CPU time used, user and system.
    pub cputime: super::cputime::CpuTime,
    /// Robust futex list and rseq registrations.
    pub abi: super::abi::UserAbi,
    owner: Once<Arc<dyn Any + Send + Sync>>,
    /// What the thread waits on while it sleeps, for the diagnosis dump and the watchdog.
    pub(super) wait: Mutex<WaitInfo>,
}

/// Where and how a thread sleeps (valid while its state is `Sleeping`).
#[derive(Clone, Copy, Default)]
pub struct WaitInfo {
    /// The code that called `wait_until`/`wait_uninterruptible` (which object it waits on).
    pub site: Option<&'static Location<'static>>,
    /// The wait queue's address, to see which sleepers share one.
    pub queue: usize,
    /// Monotonic deadline, if the wait has one.
    pub deadline: Option<u64>,
    /// When the wait began (monotonic ns).
    pub since: u64,
    /// Signals do not end it.
    pub uninterruptible: bool,
    /// Blocked on purpose for as long as it takes (a stopped process, PID 1 waiting for its
    /// command): the watchdog does not report it.
    pub unbounded: bool,
    /// The watchdog has reported this wait already.
    pub reported: bool,
}

static NEXT_TID: AtomicU32 = AtomicU32::new(1);

pub fn alloc_tid() -> u32 {
    NEXT_TID.fetch_add(1, Ordering::Relaxed)
}

impl Thread {
    fn with_context(
        tid: u32,
        page_table_root: PageTableRoot,
        context: Arc<KernelContext>,
    ) -> Thread {
        Thread {
            tid: AtomicU32::new(tid),
            context,
            state: AtomicU8::new(State::Runnable as u8),
            cpu: AtomicU32::new(0),
            affinity: AtomicU64::new(!0),
            page_table_root: Mutex::new(page_table_root),
            fs_base: AtomicU64::new(0),
            gs_base: AtomicU64::new(0),
            sig_pending: AtomicU64::new(0),
            shared_pending: Once::new(),
            sig_blocked: AtomicU64::new(0),
            clear_child_tid: AtomicU64::new(0),
            sigwait_set: AtomicU64::new(0),
            restore_mask: Mutex::new(None),
            alt_stack: Mutex::new((0, 0, 2)),
            comm: Mutex::new(None),
            timed_out: AtomicBool::new(false),
            slice_left: AtomicU32::new(0),
            cputime: super::cputime::CpuTime::new(),
            abi: super::abi::UserAbi::default(),
            owner: Once::new(),
            wait: Mutex::ranked(crate::sync::rank::THREAD_WAIT, WaitInfo::default()),
        }
    }

    /// A kernel thread that runs `entry(arg)` (which never returns; it exits through the scheduler).
    pub fn new_kernel(entry: extern "C" fn(u64) -> !, arg: u64) -> Arc<Thread> {
        // Kernel threads take no id from the pid space (init must be 1).
        let context =
            KernelContext::new_kernel_thread(entry, arg).expect("heap for a kernel thread at boot");
        let t = Arc::new(Thread::with_context(0, crate::mm::kernel_page_table().root(), context));
        super::diagnose::register(&t);
        t
    }

    /// A thread that starts in user mode with the registers of `frame`, in the address space
    /// rooted at `page_table_root`.
    /// None if there is no memory for its kernel stack: fork then fails with ENOMEM instead of
    /// panicking (a user program decides how many processes there are).
    pub fn new_user(
        tid: u32,
        frame: &TrapFrame,
        page_table_root: PageTableRoot,
    ) -> Option<Arc<Thread>> {
        let context = KernelContext::new_user_return(frame)?;
        let t = Arc::new(Thread::with_context(tid, page_table_root, context));
        // fork and clone inherit the creator's affinity, as in Linux.
        if let Some(creator) = super::scheduler::try_current() {
            t.store_affinity(creator.affinity());
        }
        super::diagnose::register(&t);
        Some(t)
    }

    pub fn tid(&self) -> u32 {
        self.tid.load(Ordering::Relaxed)
    }

    /// execve from a non-leader thread: the thread takes over its group's id.
    pub fn set_tid(&self, tid: u32) {
        self.tid.store(tid, Ordering::Relaxed);
    }

    /// The return addresses of this (sleeping) thread's kernel stack, from where its last
    /// context switch left it.
    pub fn backtrace(&self, visit: impl FnMut(u64)) {
        self.context.backtrace(visit);
    }

    pub fn state(&self) -> State {
        match self.state.load(Ordering::Acquire) {
            0 => State::Runnable,
            1 => State::Running,
            2 | BLOCKED => State::Sleeping,
            _ => State::Dead,
        }
    }

    /// The state with `BLOCKED` told apart from `Sleeping` (the scheduler's view).
    pub(super) fn raw_state(&self) -> u8 {
        self.state.load(Ordering::Acquire)
    }

    pub(super) fn set_state(&self, s: State) {
        self.state.store(s as u8, Ordering::Release);
    }

    /// Moves the state from `from` to `to` if nothing changed it meanwhile.
    pub(super) fn transition(&self, from: u8, to: u8) -> bool {
        self.state.compare_exchange(from, to, Ordering::AcqRel, Ordering::Acquire).is_ok()
    }

    /// The CPU it runs on, or ran on last.
    pub fn cpu(&self) -> usize {
        self.cpu.load(Ordering::Relaxed) as usize
    }

    /// The CPUs it may run on (bit n: CPU n).
    pub fn affinity(&self) -> u64 {
        self.affinity.load(Ordering::Relaxed)
    }

    /// Restricts it to `mask` (which the caller checked holds an online CPU); the scheduler
    /// moves it if it runs or waits elsewhere (`scheduler::set_affinity`).
    pub(super) fn store_affinity(&self, mask: u64) {
        self.affinity.store(mask, Ordering::Relaxed);
    }

    /// Sets the user FS base of this thread, which must be the running one (it loads the CPU).
    /// The caller has checked that `base` is a user address.
    pub fn set_fs_base(&self, base: u64) {
        self.fs_base.store(base, Ordering::Relaxed);
        crate::arch::cpu::set_user_fs_base(base);
    }

    /// As `set_fs_base`, for the GS base.
    pub fn set_gs_base(&self, base: u64) {
        self.gs_base.store(base, Ordering::Relaxed);
        crate::arch::cpu::set_user_gs_base(base);
    }

    pub fn set_page_table_root(&self, root: PageTableRoot) {
        *self.page_table_root.lock() = root;
    }

    pub fn set_owner(&self, owner: Arc<dyn Any + Send + Sync>) {
        self.owner.call_once(|| owner);
    }

    pub fn owner(&self) -> Option<&Arc<dyn Any + Send + Sync>> {
        self.owner.get()
    }

    /// CPU time used so far (user + system), including the current run.
    pub fn cpu_time_ns(&self) -> u64 {
        let (user, sys) = self.cpu_times();
        user + sys
    }

    /// (user, system) CPU time used so far, including the current run.
    pub fn cpu_times(&self) -> (u64, u64) {
        self.cputime.times(self.state() == State::Running)
    }

    /// Takes the CPU time charged so far (the thread is ending; its process keeps the sum).
    pub fn take_cpu_times(&self) -> (u64, u64) {
        self.cputime.take(self.state() == State::Running)
    }

    pub fn set_shared_pending(&self, shared: Arc<AtomicU64>) {
        self.shared_pending.call_once(|| shared);
    }

    /// Signals pending for the process as a whole.
    pub fn shared_pending(&self) -> u64 {
        self.shared_pending.get().map(|s| s.load(Ordering::Acquire)).unwrap_or(0)
    }

    /// Every signal pending for this thread: its own and its process's.
    pub fn pending_all(&self) -> u64 {
        self.sig_pending.load(Ordering::Acquire) | self.shared_pending()
    }

    /// An unblocked signal is pending: blocking waits end with EINTR.
    pub fn has_unblocked_signal(&self) -> bool {
        self.pending_all() & !self.sig_blocked.load(Ordering::Acquire) != 0
    }
}
