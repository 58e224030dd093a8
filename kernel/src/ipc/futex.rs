//! Futexes: sleeping on a 32-bit word of user memory until another thread or process wakes
//! the word: musl's and glibc's mutexes, condition variables and semaphores (process-shared
//! ones in MAP_SHARED or System V memory), priority-inheritance and robust mutexes.
//!
//! A word is known by its [`FutexKey`], Linux's rules: a private futex (FUTEX_PRIVATE_FLAG) by
//! its address space and address; a shared one in a MAP_SHARED mapping by the shared object and
//! the offset in it, so that two processes meet on one word whatever addresses they map it at;
//! a shared one in private memory by address space and address again, but distinct from the
//! private key of the same word, as in Linux. Each sleeper has a state and a wait queue (shared
//! by the sleepers of one futex_waitv). Sleepers are kept in hashed buckets, each with its own
//! lock (Linux's futex_hash_bucket), so that threads on different words do not contend; the
//! bucket of a word is locked around "compare the word, then queue", which is what makes a
//! wake between the user's store and our sleep impossible to lose. An operation on two words
//! (REQUEUE, WAKE_OP, CMP_REQUEUE_PI) or many (futex_waitv) locks their buckets in ascending
//! order (Linux's double_lock_hb), so two of them never wait for each other.
//!
//! PI futexes (LOCK_PI, UNLOCK_PI, ...) follow Linux's user-space protocol: the word holds the
//! owner's TID, FUTEX_WAITERS when someone sleeps in the kernel, FUTEX_OWNER_DIED when a robust
//! owner died. UNLOCK_PI hands the lock to the first waiter (its TID goes into the word before
//! it runs). The scheduler has no priorities, so the inheritance itself is nothing to do.
//! Reads and writes of a word happen under its bucket's lock with the CPU not preemptible in
//! the kernel, so they are atomic with respect to every other futex operation and, on one CPU,
//! to user code.

use alloc::collections::{BTreeMap, VecDeque};
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU8, Ordering};

use crate::error::{Errno, Result};
use crate::mm::shared::PageSource;
use crate::mm::user::UserPtr;
use crate::mm::vm::AddressSpace;
use crate::sync::{Mutex, MutexGuard};
use crate::task::{WaitError, WaitQueue};

const PAGE_SIZE: u64 = 4096;
pub const FUTEX_WAITERS: u32 = 0x8000_0000;
pub const FUTEX_OWNER_DIED: u32 = 0x4000_0000;
pub const FUTEX_TID_MASK: u32 = 0x3fff_ffff;
/// Linux's bound on a robust list walk (a cyclic list must not hang the exit).
const ROBUST_LIST_LIMIT: u32 = 2048;

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

    fn store(&self, v: u32) -> Result<()> {
        UserPtr::<u32>::new(self.addr).write(&v)
    }
}

// Sleeper states.
const SLEEPING: u8 = 0;
/// A wake (WAKE, REQUEUE, WAKE_OP, a robust owner's death) chose it.
const WOKEN: u8 = 1;
/// A PI futex was handed to it (UNLOCK_PI, CMP_REQUEUE_PI).
const ACQUIRED: u8 = 2;
/// The PI owner it waited for exited: it tries to take the lock again.
const OWNER_GONE: u8 = 3;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// WAIT, WAIT_BITSET, futex_waitv.
    Plain,
    /// LOCK_PI: thread `tid` waits for the owner `owner` to hand the lock over.
    Pi { tid: u32, owner: u32 },
    /// WAIT_REQUEUE_PI not yet requeued: only CMP_REQUEUE_PI to `target` may move it.
    RequeuePi { tid: u32, target: FutexKey },
}

/// What a sleeping thread waits on (one per futex_waitv, shared by its sleepers).
struct Waiter {
    queue: WaitQueue,
}

/// One thread sleeping on one word.
struct Sleeper {
    bitset: u32,
    /// Its position in a futex_waitv vector (0 otherwise).
    index: usize,
    state: AtomicU8,
    /// Kind and word change when CMP_REQUEUE_PI moves it to the PI futex; the word keeps the
    /// object alive while we sleep on it (see [`Word`]).
    place: Mutex<(Kind, Word)>,
    waiter: Arc<Waiter>,
}

impl Sleeper {
    fn kind(&self) -> Kind {
        self.place.lock().0
    }

    fn key(&self) -> FutexKey {
        self.place.lock().1.key
    }

    fn set_state(&self, state: u8) {
        self.state.store(state, Ordering::Release);
        self.waiter.queue.wake_all();
    }

    fn state(&self) -> u8 {
        self.state.load(Ordering::Acquire)
    }
}

/// The sleepers of the words of one bucket.
type Table = BTreeMap<FutexKey, VecDeque<Arc<Sleeper>>>;

/// How many buckets (a power of two). Linux sizes its table by CPUs (256 each); a few dozen
/// threads per machine here.
const BUCKETS: usize = 64;

static SLEEPERS: [Mutex<Table>; BUCKETS] = [const { Mutex::new(BTreeMap::new()) }; BUCKETS];

/// The bucket of `key` (Fibonacci hashing of its parts).
fn bucket_of(key: &FutexKey) -> usize {
    const K: u64 = 0x9e37_79b9_7f4a_7c15;
    let (a, b, c) = match *key {
        FutexKey::Private { space, addr, shared } => (space as u64, addr, shared as u64),
        FutexKey::Shared { object, offset } => (object as u64, offset, 2),
    };
    let h = ((a.wrapping_mul(K) ^ b).wrapping_mul(K) ^ c).wrapping_mul(K);
    (h >> (64 - BUCKETS.trailing_zeros())) as usize
}

/// The buckets an operation holds, locked in ascending order.
enum Locked {
    One(usize, MutexGuard<'static, Table>),
    Two(usize, MutexGuard<'static, Table>, usize, MutexGuard<'static, Table>),
    Many(Vec<(usize, MutexGuard<'static, Table>)>),
}

impl Locked {
    fn one(key: FutexKey) -> Locked {
        let i = bucket_of(&key);
        Locked::One(i, SLEEPERS[i].lock())
    }

    fn two(a: FutexKey, b: FutexKey) -> Locked {
        let (i, j) = (bucket_of(&a), bucket_of(&b));
        if i == j {
            return Locked::One(i, SLEEPERS[i].lock());
        }
        let (lo, hi) = (i.min(j), i.max(j));
        let first = SLEEPERS[lo].lock();
        Locked::Two(lo, first, hi, SLEEPERS[hi].lock())
    }

    fn many(keys: impl Iterator<Item = FutexKey>) -> Locked {
        let mut at: Vec<usize> = keys.map(|k| bucket_of(&k)).collect();
        at.sort_unstable();
        at.dedup();
        Locked::Many(at.into_iter().map(|i| (i, SLEEPERS[i].lock())).collect())
    }

    /// The bucket of `key`, which the caller locked.
    fn table(&mut self, key: FutexKey) -> &mut Table {
        let i = bucket_of(&key);
        match self {
            Locked::One(a, t) if *a == i => t,
            Locked::Two(a, t, _, _) if *a == i => t,
            Locked::Two(_, _, b, t) if *b == i => t,
            Locked::Many(v) => match v.iter_mut().find(|(a, _)| *a == i) {
                Some((_, t)) => t,
                None => unreachable!("futex bucket {i} not locked"),
            },
            _ => unreachable!("futex bucket {i} not locked"),
        }
    }

    /// The bucket `s` is queued in (CMP_REQUEUE and REQUEUE move sleepers between buckets
    /// while they sleep, holding both), with its key.
    fn of_sleeper(s: &Sleeper) -> (Locked, FutexKey) {
        loop {
            let key = s.key();
            let held = Locked::one(key);
            if s.key() == key {
                return (held, key);
            }
        }
    }
}

fn new_sleeper(
    word: &Word,
    kind: Kind,
    bitset: u32,
    index: usize,
    w: &Arc<Waiter>,
) -> Arc<Sleeper> {
    Arc::new(Sleeper {
        bitset,
        index,
        state: AtomicU8::new(SLEEPING),
        place: Mutex::new((kind, word.clone())),
        waiter: w.clone(),
    })
}

fn new_waiter() -> Arc<Waiter> {
    Arc::new(Waiter { queue: WaitQueue::new() })
}

/// Queues `s` on `key` (the caller holds the table).
fn enqueue(table: &mut Table, key: FutexKey, s: Arc<Sleeper>) {
    table.entry(key).or_default().push_back(s);
}

/// How a wait ended badly.
pub enum WaitEnd {
    /// The word did not hold the expected value (EAGAIN).
    Changed,
    TimedOut,
    Interrupted,
}

impl From<WaitError> for WaitEnd {
    fn from(e: WaitError) -> WaitEnd {
        match e {
            WaitError::TimedOut => WaitEnd::TimedOut,
            WaitError::Interrupted => WaitEnd::Interrupted,
        }
    }
}

/// FUTEX_WAIT(_BITSET): sleeps on `word` if it still holds `expected`, until a wake whose
/// bitset meets `bitset`, the monotonic `deadline`, or a signal.
pub fn wait(
    word: &Word,
    expected: u32,
    bitset: u32,
    deadline: Option<u64>,
) -> core::result::Result<(), WaitEnd> {
    waitv(&[(word.clone(), expected, bitset)], deadline).map(|_| ())
}

/// futex_waitv (and WAIT): sleeps on every word of `words` (word, expected value, bitset) if
/// each still holds its value; returns the index of the word whose wake ended the sleep (the
/// highest if several woke, as Linux).
pub fn waitv(
    words: &[(Word, u32, u32)],
    deadline: Option<u64>,
) -> core::result::Result<usize, WaitEnd> {
    let waiter = new_waiter();
    let mut sleepers = Vec::new();
    {
        let mut held = match words {
            [(w, _, _)] => Locked::one(w.key),
            _ => Locked::many(words.iter().map(|(w, _, _)| w.key)),
        };
        // Reading under the buckets' locks orders us against every waker (a page fault here
        // only brings the page in).
        for (word, expected, _) in words {
            if word.load().map_err(|_| WaitEnd::Changed)? != *expected {
                return Err(WaitEnd::Changed);
            }
        }
        for (i, (word, _, bitset)) in words.iter().enumerate() {
            let s = new_sleeper(word, Kind::Plain, *bitset, i, &waiter);
            enqueue(held.table(word.key), word.key, s.clone());
            sleepers.push(s);
        }
    }
    let r = waiter
        .queue
        .wait_until(|| sleepers.iter().any(|s| s.state() != SLEEPING).then_some(()), deadline);
    // The others leave the table; a wake that came meanwhile counts (as in Linux).
    for s in &sleepers {
        if s.state() == SLEEPING {
            let (mut held, key) = Locked::of_sleeper(s);
            if s.state() == SLEEPING {
                remove(held.table(key), s);
            }
        }
    }
    if let Some(s) = sleepers.iter().rev().find(|s| s.state() != SLEEPING) {
        return Ok(s.index);
    }
    Err(r.err().map(WaitEnd::from).unwrap_or(WaitEnd::Interrupted))
}

fn remove(table: &mut Table, sleeper: &Arc<Sleeper>) {
    let key = sleeper.key();
    let Some(q) = table.get_mut(&key) else { return };
    if let Some(i) = q.iter().position(|s| Arc::ptr_eq(s, sleeper)) {
        q.remove(i);
    }
    if q.is_empty() {
        table.remove(&key);
    }
}

/// Wakes up to `n` sleepers of `key` whose bitset meets `bitset` (Linux wakes one even for
/// n = 0); returns how many. EINVAL if it meets a PI waiter first (Linux's futex_wake).
fn wake_locked(table: &mut Table, key: FutexKey, n: u32, bitset: u32) -> Result<u32> {
    let Some(q) = table.get_mut(&key) else { return Ok(0) };
    let mut woken = 0;
    let mut i = 0;
    let mut result = Ok(());
    while i < q.len() {
        if q[i].kind() != Kind::Plain {
            result = Err(Errno::EINVAL);
            break;
        }
        if q[i].bitset & bitset == 0 {
            i += 1;
            continue;
        }
        if let Some(s) = q.remove(i) {
            s.set_state(WOKEN);
        }
        woken += 1;
        if woken >= n.max(1) {
            break;
        }
    }
    if q.is_empty() {
        table.remove(&key);
    }
    result.map(|_| woken)
}

/// FUTEX_WAKE(_BITSET).
pub fn wake_checked(word: &Word, n: u32, bitset: u32) -> Result<u32> {
    wake_locked(Locked::one(word.key).table(word.key), word.key, n, bitset)
}

/// A wake by the kernel itself (CLONE_CHILD_CLEARTID at exit): PI waiters are left alone.
pub fn wake(word: &Word, n: u32, bitset: u32) -> u32 {
    wake_checked(word, n, bitset).unwrap_or(0)
}

/// FUTEX_REQUEUE / FUTEX_CMP_REQUEUE: wakes up to `n_wake` sleepers of `from` and moves up to
/// `n_move` more to `to`, if `from` still holds `expected` (when given; else EAGAIN). Returns
/// the number woken plus the number moved. A PI waiter among them is EINVAL.
pub fn requeue(
    from: &Word,
    to: &Word,
    n_wake: u32,
    n_move: u32,
    expected: Option<u32>,
) -> Result<u32> {
    let mut held = Locked::two(from.key, to.key);
    if let Some(v) = expected {
        if from.load()? != v {
            return Err(Errno::EAGAIN);
        }
    }
    let woken =
        if n_wake > 0 { wake_locked(held.table(from.key), from.key, n_wake, u32::MAX)? } else { 0 };
    if from.key == to.key {
        return Ok(woken);
    }
    let mut moved = VecDeque::new();
    let mut result = Ok(());
    let table = held.table(from.key);
    if let Some(q) = table.get_mut(&from.key) {
        while moved.len() < n_move as usize && !q.is_empty() {
            if q[0].kind() != Kind::Plain {
                result = Err(Errno::EINVAL);
                break;
            }
            if let Some(s) = q.pop_front() {
                s.place.lock().1 = to.clone();
                moved.push_back(s);
            }
        }
        if q.is_empty() {
            table.remove(&from.key);
        }
    }
    let count = moved.len() as u32;
    if count > 0 {
        held.table(to.key).entry(to.key).or_default().extend(moved);
    }
    result.map(|_| woken + count)
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
    let mut held = Locked::two(word1.key, word2.key);
    let old = word2.load()?;
    word2.store(op(old))?;
    let mut woken = wake_locked(held.table(word1.key), word1.key, n1, u32::MAX)?;
    if cmp(old) {
        woken += wake_locked(held.table(word2.key), word2.key, n2, u32::MAX)?;
    }
    Ok(woken)
}

// ---- priority inheritance ----

/// How a PI operation ended badly.
pub enum PiError {
    Errno(Errno),
    TimedOut,
    Interrupted,
}

impl From<Errno> for PiError {
    fn from(e: Errno) -> PiError {
        PiError::Errno(e)
    }
}

enum Attempt {
    Taken,
    /// Held by this TID; FUTEX_WAITERS is set.
    Busy(u32),
}

/// Tells the PI waiters of `key` who owns the lock now (they retry if that owner exits).
fn set_pi_owner(table: &mut Table, key: FutexKey, owner: u32) {
    if let Some(q) = table.get(&key) {
        for s in q {
            let mut place = s.place.lock();
            if let Kind::Pi { tid, .. } = place.0 {
                place.0 = Kind::Pi { tid, owner };
            }
        }
    }
}

/// Linux's futex_lock_pi_atomic for thread `tid`: takes a free word (keeping OWNER_DIED, adding
/// FUTEX_WAITERS if others sleep on it), or one whose owner `dead_owner` exited while we waited;
/// otherwise sets FUTEX_WAITERS and checks that the owner exists (ESRCH if not).
fn try_lock_pi(table: &mut Table, word: &Word, tid: u32, dead_owner: u32) -> Result<Attempt> {
    let v = word.load()?;
    let owner = v & FUTEX_TID_MASK;
    if owner == tid {
        return Err(Errno::EDEADLK);
    }
    if owner == 0 || owner == dead_owner {
        let others = table.get(&word.key).is_some_and(|q| !q.is_empty());
        let waiters = if others { FUTEX_WAITERS } else { 0 };
        word.store(tid | (v & FUTEX_OWNER_DIED) | waiters)?;
        set_pi_owner(table, word.key, tid);
        return Ok(Attempt::Taken);
    }
    if v & FUTEX_WAITERS == 0 {
        word.store(v | FUTEX_WAITERS)?;
    }
    if !crate::task::diagnose::thread_alive(owner) {
        return Err(Errno::ESRCH);
    }
    Ok(Attempt::Busy(owner))
}

/// FUTEX_LOCK_PI / LOCK_PI2 / TRYLOCK_PI for thread `tid`: returns once the word holds `tid`.
pub fn lock_pi(
    word: &Word,
    tid: u32,
    deadline: Option<u64>,
    trylock: bool,
) -> core::result::Result<(), PiError> {
    lock_pi_from(word, tid, deadline, trylock, 0)
}

/// `lock_pi`, where `dead_owner` (if not 0) exited while we waited for it.
fn lock_pi_from(
    word: &Word,
    tid: u32,
    deadline: Option<u64>,
    trylock: bool,
    mut dead_owner: u32,
) -> core::result::Result<(), PiError> {
    loop {
        let waiter = new_waiter();
        let s = {
            let mut held = Locked::one(word.key);
            let table = held.table(word.key);
            match try_lock_pi(table, word, tid, dead_owner)? {
                Attempt::Taken => return Ok(()),
                Attempt::Busy(_) if trylock => return Err(PiError::Errno(Errno::EAGAIN)),
                Attempt::Busy(owner) => {
                    let s = new_sleeper(word, Kind::Pi { tid, owner }, u32::MAX, 0, &waiter);
                    enqueue(table, word.key, s.clone());
                    s
                }
            }
        };
        match sleep_pi(&s, deadline) {
            Ok(()) => return Ok(()),
            Err(PiSleep::OwnerGone(owner)) => dead_owner = owner,
            Err(PiSleep::Ended(e)) => return Err(e),
        }
    }
}

enum PiSleep {
    /// The owner exited: try again, taking the lock over from it.
    OwnerGone(u32),
    Ended(PiError),
}

/// Sleeps as PI waiter `s` until the lock is handed over, its owner exits, the deadline or a
/// signal.
fn sleep_pi(s: &Arc<Sleeper>, deadline: Option<u64>) -> core::result::Result<(), PiSleep> {
    let r = s.waiter.queue.wait_until(|| (s.state() != SLEEPING).then_some(()), deadline);
    let (mut held, key) = Locked::of_sleeper(s);
    match s.state() {
        ACQUIRED => return Ok(()),
        OWNER_GONE => {
            let Kind::Pi { owner, .. } = s.kind() else { return Ok(()) };
            return Err(PiSleep::OwnerGone(owner));
        }
        _ => {}
    }
    remove(held.table(key), s);
    Err(PiSleep::Ended(match r {
        Err(WaitError::TimedOut) => PiError::TimedOut,
        _ => PiError::Interrupted,
    }))
}

/// FUTEX_UNLOCK_PI by thread `tid`: EPERM unless the word names it; hands the lock to the first
/// waiter (the word becomes its TID with FUTEX_WAITERS, as Linux), or frees it.
pub fn unlock_pi(word: &Word, tid: u32) -> Result<()> {
    let mut held = Locked::one(word.key);
    let table = held.table(word.key);
    let v = word.load()?;
    if v & FUTEX_TID_MASK != tid {
        return Err(Errno::EPERM);
    }
    let next = table.get(&word.key).and_then(|q| {
        q.iter().position(|s| matches!(s.kind(), Kind::Pi { .. })).map(|i| (i, q[i].clone()))
    });
    let Some((i, s)) = next else {
        return word.store(0);
    };
    let Kind::Pi { tid: next_tid, .. } = s.kind() else { return word.store(0) };
    word.store(next_tid | FUTEX_WAITERS)?;
    if let Some(q) = table.get_mut(&word.key) {
        q.remove(i);
        if q.is_empty() {
            table.remove(&word.key);
        }
    }
    set_pi_owner(table, word.key, next_tid);
    s.set_state(ACQUIRED);
    Ok(())
}

/// FUTEX_WAIT_REQUEUE_PI by thread `tid`: waits on `word` (if it holds `expected`) until
/// CMP_REQUEUE_PI moves it to the PI futex `pi_word`, then until it owns that.
pub fn wait_requeue_pi(
    word: &Word,
    expected: u32,
    pi_word: &Word,
    tid: u32,
    deadline: Option<u64>,
) -> core::result::Result<(), PiError> {
    if word.key == pi_word.key {
        return Err(PiError::Errno(Errno::EINVAL));
    }
    let waiter = new_waiter();
    let s = {
        let mut held = Locked::one(word.key);
        if word.load()? != expected {
            return Err(PiError::Errno(Errno::EAGAIN));
        }
        let kind = Kind::RequeuePi { tid, target: pi_word.key };
        let s = new_sleeper(word, kind, u32::MAX, 0, &waiter);
        enqueue(held.table(word.key), word.key, s.clone());
        s
    };
    let r = s.waiter.queue.wait_until(|| (s.state() != SLEEPING).then_some(()), deadline);
    {
        let (mut held, key) = Locked::of_sleeper(&s);
        match s.state() {
            ACQUIRED => return Ok(()),
            OWNER_GONE => {}
            _ => {
                let requeued = matches!(s.kind(), Kind::Pi { .. });
                remove(held.table(key), &s);
                // Once requeued, a signal gives EWOULDBLOCK rather than a restart whose value
                // has surely changed (Linux).
                return Err(match r {
                    Err(WaitError::TimedOut) => PiError::TimedOut,
                    _ if requeued => PiError::Errno(Errno::EAGAIN),
                    _ => PiError::Interrupted,
                });
            }
        }
    }
    // Requeued, then the owner exited: take the lock as LOCK_PI would.
    let Kind::Pi { owner, .. } = s.kind() else { return Err(PiError::Errno(Errno::EINVAL)) };
    let pi_word = s.place.lock().1.clone();
    match lock_pi_from(&pi_word, tid, deadline, false, owner) {
        Err(PiError::Interrupted) => Err(PiError::Errno(Errno::EAGAIN)),
        r => r,
    }
}

/// FUTEX_CMP_REQUEUE_PI: if `word` holds `expected`, gives the PI futex `pi_word` to the first
/// waiter if it is free (waking it) and moves up to `n_move` others onto it as PI waiters.
/// Every waiter met must be a WAIT_REQUEUE_PI waiter for `pi_word` (else EINVAL). Returns the
/// number woken plus moved.
pub fn cmp_requeue_pi(word: &Word, pi_word: &Word, n_move: u32, expected: u32) -> Result<u32> {
    if word.key == pi_word.key {
        return Err(Errno::EINVAL);
    }
    let mut held = Locked::two(word.key, pi_word.key);
    if word.load()? != expected {
        return Err(Errno::EAGAIN);
    }
    let table = held.table(word.key);
    let valid = |s: &Arc<Sleeper>| match s.kind() {
        Kind::RequeuePi { tid, target } if target == pi_word.key => Some(tid),
        _ => None,
    };
    let Some(top) = table.get(&word.key).and_then(|q| q.front().cloned()) else { return Ok(0) };
    let top_tid = valid(&top).ok_or(Errno::EINVAL)?;
    let mut count = 0;
    let v = pi_word.load()?;
    let mut owner = v & FUTEX_TID_MASK;
    if owner == top_tid {
        return Err(Errno::EDEADLK);
    }
    if owner == 0 {
        // The top waiter takes the lock on its way out (Linux's futex_proxy_trylock_atomic,
        // which marks the word FUTEX_WAITERS when others may follow).
        let waiters = if n_move > 0 { FUTEX_WAITERS } else { 0 };
        pi_word.store(top_tid | (v & FUTEX_OWNER_DIED) | waiters)?;
        if let Some(q) = table.get_mut(&word.key) {
            q.pop_front();
        }
        top.set_state(ACQUIRED);
        owner = top_tid;
        count += 1;
    } else if !crate::task::diagnose::thread_alive(owner) {
        return Err(Errno::ESRCH);
    }
    let mut moved = VecDeque::new();
    let mut result = Ok(());
    if let Some(q) = table.get_mut(&word.key) {
        while moved.len() < n_move as usize && !q.is_empty() {
            let Some(tid) = valid(&q[0]) else {
                result = Err(Errno::EINVAL);
                break;
            };
            if let Some(s) = q.pop_front() {
                *s.place.lock() = (Kind::Pi { tid, owner }, pi_word.clone());
                moved.push_back(s);
            }
        }
    }
    if table.get(&word.key).is_some_and(|q| q.is_empty()) {
        table.remove(&word.key);
    }
    if !moved.is_empty() {
        let v = pi_word.load()?;
        if v & FUTEX_WAITERS == 0 {
            pi_word.store(v | FUTEX_WAITERS)?;
        }
        count += moved.len() as u32;
        held.table(pi_word.key).entry(pi_word.key).or_default().extend(moved);
    }
    result.map(|_| count)
}

// ---- thread exit ----

/// Thread `tid` ended: the PI waiters it owned locks for try again (they take the lock over
/// from it, as Linux's exit_pi_state_list hands the rt_mutex on).
pub fn owner_exited(tid: u32) {
    let mut gone = Vec::new();
    // Bucket by bucket: a waiter queued behind our back checked that `tid` was alive before
    // it was marked dead, so it was queued before we look at its bucket.
    for bucket in &SLEEPERS {
        let mut table = bucket.lock();
        for q in table.values_mut() {
            q.retain(|s| {
                let orphan = matches!(s.kind(), Kind::Pi { owner, .. } if owner == tid);
                if orphan {
                    gone.push(s.clone());
                }
                !orphan
            });
        }
        table.retain(|_, q| !q.is_empty());
    }
    for s in gone {
        s.set_state(OWNER_GONE);
    }
}

/// Linux's exit_robust_list for the dying thread `tid`, whose list head (struct
/// robust_list_head: next, futex_offset, list_op_pending) is at `head` in `vm` (the current
/// address space): every lock it still holds gets FUTEX_OWNER_DIED and one waiter is woken, so
/// the next locker sees EOWNERDEAD. Bit 0 of an entry marks a PI futex. A fault ends the walk.
pub fn exit_robust_list(vm: &Arc<Mutex<AddressSpace>>, head: u64, tid: u32) {
    let Ok([first, offset, pending]) = UserPtr::<[u64; 3]>::new(head).read() else { return };
    let mut entry = first;
    let mut limit = ROBUST_LIST_LIMIT;
    while entry != head {
        let Ok(next) = UserPtr::<u64>::new(entry & !1).read() else { return };
        // The entry being added or removed is handled last, with its own rule.
        if entry != pending {
            futex_death(vm, (entry & !1).wrapping_add(offset), tid, entry & 1 != 0, false);
        }
        entry = next;
        limit -= 1;
        if limit == 0 {
            break;
        }
    }
    if pending != 0 {
        futex_death(vm, (pending & !1).wrapping_add(offset), tid, pending & 1 != 0, true);
    }
}

/// Linux's handle_futex_death for the word at `addr`.
fn futex_death(vm: &Arc<Mutex<AddressSpace>>, addr: u64, tid: u32, pi: bool, pending: bool) {
    // Robust wakes are shared-keyed, as Linux's (glibc waits on robust mutexes accordingly).
    let Ok(word) = Word::resolve(vm, addr, false) else { return };
    let mut held = Locked::one(word.key);
    let table = held.table(word.key);
    let Ok(v) = word.load() else { return };
    // Released during the operation the thread died in: a waiter may have missed the wake.
    if pending && !pi && v == 0 {
        let _ = wake_locked(table, word.key, 1, u32::MAX);
        return;
    }
    if v & FUTEX_TID_MASK != tid {
        return;
    }
    if word.store((v & FUTEX_WAITERS) | FUTEX_OWNER_DIED).is_err() {
        return;
    }
    // PI waiters retry through `owner_exited`.
    if !pi && v & FUTEX_WAITERS != 0 {
        let _ = wake_locked(table, word.key, 1, u32::MAX);
    }
}
