//! Freeze diagnosis: a dump of every thread (on an NMI: the host tool sends one before it kills
//! a guest that timed out), and a watchdog on the timer tick.
//!
//! The dump runs in NMI context: it may have interrupted any kernel code, holding any lock, in
//! the middle of any log line. So it takes no lock it could wait for (`try_lock`, and "busy" if
//! held), allocates nothing, and writes the log without its lock. Its lines sit between the
//! control lines `@@ dump` and `@@ dump-end` (docs/HOST_INTERFACE.md §4); a backtrace line is an
//! indented return address, which the host tool symbolizes as it does a panic's.
//!
//! The watchdog: kernel code runs with interrupts off and timer ticks are taken only in user
//! mode and in the idle thread, so a tick cannot see the CPU while it is stuck in the kernel;
//! what it can see is (a) how long the gap since the previous tick was — a gap of seconds means
//! the CPU ran kernel code that long, reported when it comes back — and (b) the other threads:
//! one that has slept in an uninterruptible wait for more than `STUCK_WAIT_NS` is reported with
//! its kernel backtrace. A CPU that never comes back is what the NMI dump shows: its header says
//! how long ago the last tick was, and the backtrace where the CPU is.

use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::any::Any;
use core::fmt::{self, Write};
use core::sync::atomic::{AtomicU64, Ordering};

use spin::Once;

use super::thread::{State, Thread};
use crate::arch::time::monotonic_ns;
use crate::arch::trap::TrapFrame;
use crate::sync::Mutex;

/// An uninterruptible wait longer than this is reported.
const STUCK_WAIT_NS: u64 = 5_000_000_000;
/// A gap between timer ticks longer than this (the CPU in the kernel all along) is reported.
const TICK_GAP_NS: u64 = 3_000_000_000;
/// The watchdog looks at the threads once per this many ticks.
const WATCHDOG_EVERY_TICKS: u64 = 1000;

/// Every thread, for the dump (dead ones are dropped as new ones register).
use crate::arch::percpu::{cpu_id, MAX_CPUS};

static THREADS: Mutex<Vec<Weak<Thread>>> = Mutex::new(Vec::new());

/// Writes "pid N comm NAME" for a thread's owner (installed by the process layer).
pub type DescribeOwner = fn(&(dyn Any + Send + Sync), &mut dyn Write) -> fmt::Result;
static DESCRIBE_OWNER: Once<DescribeOwner> = Once::new();

/// Per CPU: when its last timer tick came.
#[allow(clippy::declare_interior_mutable_const)]
const NEVER: AtomicU64 = AtomicU64::new(0);
static LAST_TICK_NS: [AtomicU64; MAX_CPUS] = [NEVER; MAX_CPUS];
/// The boot CPU's ticks (the only CPU that runs the periodic watchdog).
static TICKS: AtomicU64 = AtomicU64::new(0);

pub(super) fn register(t: &Arc<Thread>) {
    let mut threads = THREADS.lock();
    threads.retain(|w| w.strong_count() > 0);
    threads.push(Arc::downgrade(t));
}

pub fn set_owner_describer(f: DescribeOwner) {
    DESCRIBE_OWNER.call_once(|| f);
}

/// Installs the NMI handler: an NMI prints the dump.
pub fn install() {
    crate::arch::trap::set_nmi_handler(on_nmi);
}

/// The log without its lock (we may have interrupted a writer).
struct Log;

impl Write for Log {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        crate::log::write_unlocked(s);
        Ok(())
    }
}

fn on_nmi(frame: &TrapFrame) {
    let now = monotonic_ns();
    let last_tick = LAST_TICK_NS[cpu_id()].load(Ordering::Relaxed);
    let mut w = Log;
    // A fresh line: the NMI may have cut one in the middle.
    let _ = w.write_str("\n@@ dump\n");
    let _ = writeln!(w, "dump on NMI at {}.{:03} s", now / 1_000_000_000, now / 1_000_000 % 1000);
    if last_tick != 0 && now.saturating_sub(last_tick) > TICK_GAP_NS && !frame.from_user() {
        let _ = writeln!(
            w,
            "watchdog: the CPU has been in the kernel for {} ms without a timer tick",
            (now - last_tick) / 1_000_000
        );
    }
    if frame.from_user() {
        let _ = writeln!(w, "this CPU was in user mode at rip {:#x}", frame.rip);
    } else {
        let _ = writeln!(w, "this CPU was in the kernel at:");
        let _ = writeln!(w, "  {:#x}", frame.rip + 1);
        crate::arch::mem::backtrace(frame.rbp, |ret| {
            let _ = writeln!(Log, "  {ret:#x}");
        });
    }
    dump_threads(&mut w, now);
    let _ = w.write_str("@@ dump-end\n");
}

/// One line per thread, and the kernel backtrace of each sleeping one.
fn dump_threads(w: &mut dyn Write, now: u64) {
    let Some(threads) = THREADS.try_lock() else {
        let _ = writeln!(w, "thread list busy (the NMI interrupted its lock holder)");
        return;
    };
    let current = super::scheduler::try_current_unborrowed();
    let _ = writeln!(w, "threads:");
    for t in threads.iter().filter_map(Weak::upgrade) {
        let is_current = current.is_some_and(|c| core::ptr::eq(c, Arc::as_ptr(&t)));
        let _ = describe(w, &t, now, is_current);
        if t.state() == State::Sleeping {
            t.backtrace(|ret| {
                let _ = writeln!(w, "    {ret:#x}");
            });
        }
    }
}

/// `tid 12 pid 12 comm ipcfuzz: sleeping 1.234 s, interruptible, deadline in 5 ms, at
/// kernel/src/fs/pipe.rs:200 (queue 0x...)`
fn describe(w: &mut dyn Write, t: &Thread, now: u64, is_current: bool) -> fmt::Result {
    write!(w, "  tid {}", t.tid())?;
    match (t.owner(), DESCRIBE_OWNER.get()) {
        (Some(owner), Some(f)) => {
            write!(w, " ")?;
            f(owner.as_ref(), w)?;
        }
        _ => write!(w, " kernel thread")?,
    }
    let state = match t.state() {
        State::Running => "running",
        State::Runnable => "runnable",
        State::Sleeping => "sleeping",
        State::Dead => "dead",
    };
    write!(w, ": {state}{}", if is_current { " (this CPU)" } else { "" })?;
    if t.state() == State::Sleeping {
        match t.wait.try_lock() {
            None => write!(w, ", wait record busy")?,
            Some(info) => {
                let secs = now.saturating_sub(info.since);
                write!(w, " {}.{:03} s", secs / 1_000_000_000, secs / 1_000_000 % 1000)?;
                write!(
                    w,
                    ", {}",
                    if info.unbounded {
                        "uninterruptible (by design)"
                    } else if info.uninterruptible {
                        "uninterruptible"
                    } else {
                        "interruptible"
                    }
                )?;
                match info.deadline {
                    Some(d) if d > now => write!(w, ", deadline in {} ms", (d - now) / 1_000_000)?,
                    Some(d) => write!(w, ", deadline passed {} ms ago", (now - d) / 1_000_000)?,
                    None => write!(w, ", no deadline")?,
                }
                if let Some(site) = info.site {
                    write!(w, ", at {}:{}", site.file(), site.line())?;
                }
                write!(w, " (queue {:#x})", info.queue)?;
            }
        }
    }
    writeln!(w)
}

/// Called on every timer tick (user mode or idle: no lock is held).
pub(super) fn on_tick() {
    let now = monotonic_ns();
    let cpu = cpu_id();
    let last = LAST_TICK_NS[cpu].swap(now, Ordering::Relaxed);
    if last != 0 && now.saturating_sub(last) > TICK_GAP_NS {
        let tid = super::scheduler::try_current().map(|t| t.tid()).unwrap_or(0);
        crate::log!(
            "watchdog: no timer tick for {} ms: the CPU ran kernel code all along (tid {} was running when it came back)",
            (now - last) / 1_000_000,
            tid
        );
    }
    // Every CPU ticks: one of them is enough to look at the threads.
    if cpu != 0 || !TICKS.fetch_add(1, Ordering::Relaxed).is_multiple_of(WATCHDOG_EVERY_TICKS) {
        return;
    }
    let stuck: Vec<Arc<Thread>> = {
        let Some(threads) = THREADS.try_lock() else { return };
        threads
            .iter()
            .filter_map(Weak::upgrade)
            .filter(|t| t.state() == State::Sleeping)
            .filter(|t| {
                let Some(mut info) = t.wait.try_lock() else { return false };
                let stuck = info.uninterruptible
                    && !info.unbounded
                    && !info.reported
                    && now.saturating_sub(info.since) > STUCK_WAIT_NS;
                if stuck {
                    info.reported = true;
                }
                stuck
            })
            .collect()
    };
    for t in stuck {
        let mut line = LineBuf::new();
        let _ = describe(&mut line, &t, now, false);
        crate::log!("watchdog: a thread is stuck in an uninterruptible wait:{}", line.as_str());
        t.backtrace(|ret| crate::log!("    {ret:#x}"));
    }
}

/// A fixed buffer for one line (no allocation).
struct LineBuf {
    bytes: [u8; 256],
    len: usize,
}

impl LineBuf {
    fn new() -> Self {
        LineBuf { bytes: [0; 256], len: 0 }
    }

    fn as_str(&self) -> &str {
        core::str::from_utf8(&self.bytes[..self.len]).unwrap_or("?").trim_end()
    }
}

impl Write for LineBuf {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let room = self.bytes.len() - self.len;
        let mut n = s.len().min(room);
        while !s.is_char_boundary(n) {
            n -= 1;
        }
        self.bytes[self.len..self.len + n].copy_from_slice(&s.as_bytes()[..n]);
        self.len += n;
        Ok(())
    }
}

/// `posix-x.hang=spin|wait` on the kernel command line: a kernel thread that hangs on purpose,
/// to check the diagnosis. `spin` loops in the kernel with interrupts off (the whole guest
/// freezes; the host tool's NMI dump must show it), `wait` sleeps uninterruptibly on a queue
/// nobody wakes (the watchdog must report it after `STUCK_WAIT_NS`).
pub fn inject_hang(mode: &str) {
    let entry: extern "C" fn(u64) -> ! = match mode {
        "wait" => hang_wait,
        _ => hang_spin,
    };
    super::scheduler::spawn(Thread::new_kernel(entry, 0));
}

extern "C" fn hang_spin(_: u64) -> ! {
    // Let the boot reach user mode first: the hang then freezes a running system.
    let _ = super::wait_queue::sleep_until(monotonic_ns() + 1_000_000_000);
    crate::log!("posix-x.hang=spin: spinning in the kernel with interrupts off");
    // An atomic load nobody satisfies, so that the loop stays and the CPU's address is in
    // this function (a `pause` would be symbolized as its own inlined intrinsic).
    static NEVER: core::sync::atomic::AtomicBool = core::sync::atomic::AtomicBool::new(false);
    #[allow(clippy::missing_spin_loop)] // the point of this hang (see above)
    while !NEVER.load(Ordering::Relaxed) {}
    unreachable!()
}

extern "C" fn hang_wait(_: u64) -> ! {
    static NOBODY_WAKES: super::WaitQueue = super::WaitQueue::new();
    crate::log!("posix-x.hang=wait: sleeping uninterruptibly for ever");
    NOBODY_WAKES.wait_uninterruptible(|| None::<()>);
    unreachable!()
}

/// Is there a live thread with id `tid`? (The futex PI rules: an owner TID naming no thread is
/// ESRCH.) Walks the registry, so it is for slow paths only.
pub fn thread_alive(tid: u32) -> bool {
    tid != 0
        && THREADS
            .lock()
            .iter()
            .filter_map(Weak::upgrade)
            .any(|t| t.tid() == tid && t.state() != super::thread::State::Dead)
}
