//! Futexes: sleeping on a 32-bit word of user memory until another process (or, later, thread)
//! wakes the word. Without threads this is already inter-process communication: musl's and
//! glibc's process-shared semaphores, mutexes and condition variables sleep here on words in
//! MAP_SHARED or System V shared memory.
//!
//! A word is known by its [`FutexKey`], Linux's rules: a private futex (FUTEX_PRIVATE_FLAG) by
//! its address space and address; a shared one in a MAP_SHARED mapping by the shared object and
//! the offset in it, so that two processes meet on one word whatever addresses they map it at;
//! a shared one in private memory by address space and address again, but distinct from the
//! private key of the same word, as in Linux. Each sleeper has its own wait queue and a
//! `woken` flag; the table of sleepers is locked around "compare the word, then queue", which
//! is what makes a wake between the user's store and our sleep impossible to lose.

use alloc::collections::{BTreeMap, VecDeque};
use alloc::sync::Arc;
use core::sync::atomic::{AtomicBool, Ordering};

use crate::error::{Errno, Result};
use crate::mm::shared::PageSource;
use crate::mm::user::UserPtr;
use crate::mm::vm::AddressSpace;
use crate::sync::Mutex;
use crate::task::{WaitError, WaitQueue};

const PAGE_SIZE: u64 = 4096;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum FutexKey {
    /// `space` is the address space's identity; `shared` marks a non-private futex in private
    /// memory (Linux's FUT_OFF_MMSHARED), which never meets a private one.
    Private { space: usize, addr: u64, shared: bool },
    /// Offset `offset` of the shared object `object` (MAP_SHARED memory, System V segments).
    Shared { object: usize, offset: u64 },
}

/// A resolved key, holding the shared object alive while anyone sleeps on it (its address is
/// the key, so it must not be freed and reused meanwhile; for a file, the page source holds
/// the inode).
#[derive(Clone)]
pub struct Word {
    pub key: FutexKey,
    pub addr: u64,
    _object: Option<Arc<dyn PageSource>>,
}

impl Word {
    /// The word at `addr` of the address space `vm` (the caller's), keyed privately or not.
    /// EINVAL if misaligned; EFAULT outside user space, or for a shared key, outside any mapping.
    pub fn resolve(vm: &Arc<Mutex<AddressSpace>>, addr: u64, private: bool) -> Result<Word> {
        if !addr.is_multiple_of(4) {
            return Err(Errno::EINVAL);
        }
        if addr >= crate::arch::USER_END {
            return Err(Errno::EFAULT);
        }
        let space = Arc::as_ptr(vm) as usize;
        if private {
            return Ok(Word {
                key: FutexKey::Private { space, addr, shared: false },
                addr,
                _object: None,
            });
        }
        let guard = vm.lock();
        let vma = guard.find(addr).ok_or(Errno::EFAULT)?;
        match &vma.backing {
            crate::mm::vm::Backing::Shared { source, pgoff } => {
                let page = pgoff + (addr - vma.start) / PAGE_SIZE;
                let object = source.identity();
                let key = FutexKey::Shared { object, offset: page * PAGE_SIZE + addr % PAGE_SIZE };
                Ok(Word { key, addr, _object: Some(source.clone()) })
            }
            _ => Ok(Word {
                key: FutexKey::Private { space, addr, shared: true },
                addr,
                _object: None,
            }),
        }
    }

    /// The word's current value (EFAULT if unmapped).
    pub fn load(&self) -> Result<u32> {
        UserPtr::<u32>::new(self.addr).read()
    }
}

/// One sleeping process (thread).
struct Sleeper {
    bitset: u32,
    woken: AtomicBool,
    queue: WaitQueue,
    /// Keeps the word's object alive while we sleep on it (see [`Word`]).
    _word: Word,
}

static SLEEPERS: Mutex<BTreeMap<FutexKey, VecDeque<Arc<Sleeper>>>> = Mutex::new(BTreeMap::new());

/// How a wait ended badly.
pub enum WaitEnd {
    /// The word did not hold the expected value (EAGAIN).
    Changed,
    TimedOut,
    Interrupted,
}

/// FUTEX_WAIT(_BITSET): sleeps on `word` if it still holds `expected`, until a wake whose
/// bitset meets `bitset`, the monotonic `deadline`, or a signal.
pub fn wait(
    word: &Word,
    expected: u32,
    bitset: u32,
    deadline: Option<u64>,
) -> core::result::Result<(), WaitEnd> {
    let sleeper = {
        let mut table = SLEEPERS.lock();
        // Reading under the table's lock orders us against every waker (a page fault here
        // only brings the page in).
        if word.load().map_err(|_| WaitEnd::Changed)? != expected {
            return Err(WaitEnd::Changed);
        }
        let s = Arc::new(Sleeper {
            bitset,
            woken: AtomicBool::new(false),
            queue: WaitQueue::new(),
            _word: word.clone(),
        });
        table.entry(word.key).or_default().push_back(s.clone());
        s
    };
    let r =
        sleeper.queue.wait_until(|| sleeper.woken.load(Ordering::Acquire).then_some(()), deadline);
    let Err(e) = r else { return Ok(()) };
    // Still queued? Then nobody woke us: leave. Woken meanwhile: the wake counts, as in Linux.
    let mut table = SLEEPERS.lock();
    if sleeper.woken.load(Ordering::Acquire) {
        return Ok(());
    }
    remove(&mut table, &sleeper);
    Err(match e {
        WaitError::TimedOut => WaitEnd::TimedOut,
        WaitError::Interrupted => WaitEnd::Interrupted,
    })
}

fn remove(table: &mut BTreeMap<FutexKey, VecDeque<Arc<Sleeper>>>, sleeper: &Arc<Sleeper>) {
    let mut emptied = None;
    for (key, q) in table.iter_mut() {
        if let Some(i) = q.iter().position(|s| Arc::ptr_eq(s, sleeper)) {
            q.remove(i);
            if q.is_empty() {
                emptied = Some(*key);
            }
            break;
        }
    }
    if let Some(key) = emptied {
        table.remove(&key);
    }
}

/// Wakes up to `n` sleepers of `key` whose bitset meets `bitset` (Linux wakes one even for
/// n = 0); returns how many.
fn wake_locked(
    table: &mut BTreeMap<FutexKey, VecDeque<Arc<Sleeper>>>,
    key: FutexKey,
    n: u32,
    bitset: u32,
) -> u32 {
    let Some(q) = table.get_mut(&key) else { return 0 };
    let mut woken = 0;
    let mut i = 0;
    while i < q.len() {
        if q[i].bitset & bitset == 0 {
            i += 1;
            continue;
        }
        if let Some(s) = q.remove(i) {
            s.woken.store(true, Ordering::Release);
            s.queue.wake_all();
        }
        woken += 1;
        if woken >= n.max(1) {
            break;
        }
    }
    if q.is_empty() {
        table.remove(&key);
    }
    woken
}

/// FUTEX_WAKE(_BITSET).
pub fn wake(word: &Word, n: u32, bitset: u32) -> u32 {
    wake_locked(&mut SLEEPERS.lock(), word.key, n, bitset)
}

/// FUTEX_REQUEUE / FUTEX_CMP_REQUEUE: wakes up to `n_wake` sleepers of `from` and moves up to
/// `n_move` more to `to`, if `from` still holds `expected` (when given; else EAGAIN). Returns
/// the number woken plus the number moved.
pub fn requeue(
    from: &Word,
    to: &Word,
    n_wake: u32,
    n_move: u32,
    expected: Option<u32>,
) -> Result<u32> {
    let mut table = SLEEPERS.lock();
    if let Some(v) = expected {
        if from.load()? != v {
            return Err(Errno::EAGAIN);
        }
    }
    let woken = if n_wake > 0 { wake_locked(&mut table, from.key, n_wake, u32::MAX) } else { 0 };
    if from.key == to.key {
        return Ok(woken);
    }
    let mut moved = VecDeque::new();
    if let Some(q) = table.get_mut(&from.key) {
        while moved.len() < n_move as usize {
            match q.pop_front() {
                Some(s) => moved.push_back(s),
                None => break,
            }
        }
        if q.is_empty() {
            table.remove(&from.key);
        }
    }
    let count = moved.len() as u32;
    if count > 0 {
        table.entry(to.key).or_default().extend(moved);
    }
    Ok(woken + count)
}

/// FUTEX_WAKE_OP: `*word2 = op(*word2)`, then wakes up to `n1` sleepers of `word1` and, if the
/// old value of `*word2` passes `cmp`, up to `n2` of `word2`. The read-modify-write is atomic:
/// one CPU, and the kernel is not preempted between the read and the write.
pub fn wake_op(
    word1: &Word,
    word2: &Word,
    n1: u32,
    n2: u32,
    op: impl Fn(u32) -> u32,
    cmp: impl Fn(u32) -> bool,
) -> Result<u32> {
    let mut table = SLEEPERS.lock();
    let old = word2.load()?;
    UserPtr::<u32>::new(word2.addr).write(&op(old))?;
    let mut woken = wake_locked(&mut table, word1.key, n1, u32::MAX);
    if cmp(old) {
        woken += wake_locked(&mut table, word2.key, n2, u32::MAX);
    }
    Ok(woken)
}
