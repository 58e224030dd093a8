//! timerfd: a timer as a file. It counts expirations; read takes the count (blocking at zero),
//! poll/select/epoll see it readable while the count is above zero. The timer is a
//! `task::callout` on the monotonic clock: a CLOCK_REALTIME absolute time is converted when
//! armed and again whenever the wall clock is set (`clock_was_set`), which also cancels the
//! timers armed with TFD_TIMER_CANCEL_ON_SET (their read fails with ECANCELED once).

use alloc::format;
use alloc::string::String;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;

use super::file::FileLike;
use super::inode::Metadata;
use crate::arch::time::{monotonic_ns, realtime_ns};
use crate::error::{Errno, Result};
use crate::event::{IoEvents, Pollee, Poller};
use crate::mm::io::{VmReader, VmWriter};
use crate::sync::Mutex;
use crate::task::callout::{self, CalloutKey, Expiry};
use crate::task::WaitError;

pub const CLOCK_REALTIME: i32 = 0;
pub const TFD_TIMER_ABSTIME: u32 = 1;
pub const TFD_TIMER_CANCEL_ON_SET: u32 = 2;

#[derive(Default)]
struct State {
    /// Monotonic deadline of the next expiration (0: disarmed).
    deadline: u64,
    interval: u64,
    /// Expirations not yet read.
    ticks: u64,
    /// Armed with an absolute CLOCK_REALTIME time: that time (re-converted when the clock is set).
    realtime_abs: Option<i64>,
    /// TFD_TIMER_CANCEL_ON_SET was given (with an absolute realtime time).
    might_cancel: bool,
    /// The wall clock was set since: the next read is ECANCELED.
    canceled: bool,
    /// The flags of the last settime, for fdinfo.
    flags: u32,
    callout: Option<CalloutKey>,
}

pub struct TimerFd {
    clock: i32,
    state: Mutex<State>,
    /// Blocked readers wait here; pollers watch it.
    pollee: Pollee,
    me: Weak<TimerFd>,
}

/// Timerfds armed on an absolute realtime time (they move when the wall clock is set).
static REALTIME_ARMED: Mutex<Vec<Weak<TimerFd>>> = Mutex::new(Vec::new());

impl TimerFd {
    pub fn new(clock: i32) -> Arc<TimerFd> {
        Arc::new_cyclic(|me| TimerFd {
            clock,
            state: Mutex::new(State::default()),
            pollee: Pollee::new(),
            me: me.clone(),
        })
    }

    fn arm_locked(&self, st: &mut State, deadline: u64) {
        if let Some(k) = st.callout.take() {
            callout::cancel(k);
        }
        st.deadline = deadline;
        if deadline != 0 {
            let me: Weak<dyn Expiry> = self.me.clone();
            st.callout = Some(callout::arm(deadline, me));
        }
    }

    /// (remaining, interval) in ns.
    fn current(st: &State) -> (u64, u64) {
        if st.deadline == 0 {
            return (0, st.interval);
        }
        (st.deadline.saturating_sub(monotonic_ns()).max(1), st.interval)
    }

    /// timerfd_settime: `value` ns (absolute on the fd's clock with TFD_TIMER_ABSTIME; 0
    /// disarms), `interval` ns. Returns the old (remaining, interval).
    pub fn settime(&self, flags: u32, value: i64, interval: u64) -> (u64, u64) {
        let mut st = self.state.lock();
        let old = Self::current(&st);
        let now = monotonic_ns();
        let absolute = flags & TFD_TIMER_ABSTIME != 0;
        st.ticks = 0;
        st.canceled = false;
        st.flags = flags;
        st.interval = interval;
        st.realtime_abs = None;
        st.might_cancel = false;
        let deadline = if value == 0 {
            st.interval = 0;
            0
        } else if !absolute {
            now.saturating_add(value as u64)
        } else if self.clock == CLOCK_REALTIME {
            st.realtime_abs = Some(value);
            st.might_cancel = flags & TFD_TIMER_CANCEL_ON_SET != 0;
            now.saturating_add(value.saturating_sub(realtime_ns()).max(0) as u64).max(1)
        } else {
            (value as u64).max(1)
        };
        self.arm_locked(&mut st, deadline);
        let track = st.realtime_abs.is_some();
        drop(st);
        if track {
            let mut list = REALTIME_ARMED.lock();
            list.retain(|w| w.strong_count() > 0);
            list.push(self.me.clone());
        }
        // Already due: count it now rather than a tick later.
        if deadline != 0 && deadline <= now {
            self.expire(now);
        }
        old
    }

    /// timerfd_gettime: (remaining, interval).
    pub fn gettime(&self) -> (u64, u64) {
        Self::current(&self.state.lock())
    }

    fn take(&self) -> Option<Result<u64>> {
        let mut st = self.state.lock();
        if st.canceled {
            st.canceled = false;
            st.ticks = 0;
            return Some(Err(Errno::ECANCELED));
        }
        if st.ticks == 0 {
            return None;
        }
        Some(Ok(core::mem::take(&mut st.ticks)))
    }

    /// The wall clock was set: realtime-absolute timers move, cancel-on-set ones are canceled.
    fn clock_set(&self) {
        let mut st = self.state.lock();
        let Some(abs) = st.realtime_abs else { return };
        if st.deadline != 0 {
            let deadline =
                monotonic_ns().saturating_add(abs.saturating_sub(realtime_ns()).max(0) as u64);
            self.arm_locked(&mut st, deadline.max(1));
        }
        if st.might_cancel {
            st.canceled = true;
            drop(st);
            self.pollee.notify(IoEvents::IN);
        }
    }
}

/// CLOCK_REALTIME was set (clock_settime, settimeofday).
pub fn clock_was_set() {
    let armed: Vec<Arc<TimerFd>> = {
        let mut list = REALTIME_ARMED.lock();
        list.retain(|w| w.strong_count() > 0);
        list.iter().filter_map(Weak::upgrade).collect()
    };
    for t in armed {
        t.clock_set();
    }
}

impl Expiry for TimerFd {
    fn expire(&self, now: u64) {
        let mut st = self.state.lock();
        if st.deadline == 0 || now < st.deadline {
            return;
        }
        st.callout = None;
        // Periodic: every interval that passed counts, and the next one is armed.
        match (now - st.deadline).checked_div(st.interval) {
            None => {
                st.ticks = st.ticks.saturating_add(1);
                st.deadline = 0;
            }
            Some(late) => {
                let n = late + 1;
                st.ticks = st.ticks.saturating_add(n);
                let next = st.deadline + n * st.interval;
                self.arm_locked(&mut st, next);
            }
        }
        drop(st);
        self.pollee.notify(IoEvents::IN);
    }
}

impl Drop for TimerFd {
    fn drop(&mut self) {
        let tracked = {
            let mut st = self.state.lock();
            if let Some(k) = st.callout.take() {
                callout::cancel(k);
            }
            st.realtime_abs.is_some()
        };
        // A weak reference keeps the allocation: the list lets go of this one (and any other
        // dead one) now rather than at the next settime.
        if tracked {
            REALTIME_ARMED.lock().retain(|w| w.strong_count() > 0);
        }
    }
}

impl FileLike for TimerFd {
    fn read(&self, buf: &mut VmWriter, _offset: u64, nonblock: bool) -> Result<usize> {
        if buf.len() < 8 {
            return Err(Errno::EINVAL);
        }
        let ticks = match self.take() {
            Some(r) => r?,
            None if nonblock => return Err(Errno::EAGAIN),
            None => self
                .pollee
                .wait_events(IoEvents::IN, None, || self.take())
                .map_err(WaitError::restart_errno)??,
        };
        buf.write(&ticks.to_ne_bytes())?;
        Ok(8)
    }

    fn write(&self, _buf: &VmReader, _offset: u64, _nonblock: bool) -> Result<usize> {
        Err(Errno::EINVAL)
    }

    fn poll(&self, mask: IoEvents, poller: Option<&Poller>) -> IoEvents {
        if let Some(p) = poller {
            p.watch(&self.pollee, mask);
        }
        let st = self.state.lock();
        if st.ticks > 0 || st.canceled {
            IoEvents::readable()
        } else {
            IoEvents::empty()
        }
    }

    fn is_pollable(&self) -> bool {
        true
    }

    fn seek_is_noop(&self) -> bool {
        true
    }

    fn as_any(&self) -> Option<&dyn core::any::Any> {
        Some(self)
    }

    /// Linux's format.
    fn fdinfo(&self) -> String {
        let st = self.state.lock();
        let (value, interval) = Self::current(&st);
        let sec = |ns: u64| (ns / 1_000_000_000, ns % 1_000_000_000);
        format!(
            "clockid: {}\nticks: {}\nsettime flags: 0{:o}\nit_value: ({}, {})\nit_interval: ({}, {})\n",
            self.clock,
            st.ticks,
            st.flags,
            sec(value).0,
            sec(value).1,
            sec(interval).0,
            sec(interval).1
        )
    }

    fn anon_name(&self) -> Option<&'static str> {
        Some("[timerfd]")
    }

    fn metadata(&self) -> Metadata {
        super::anon::metadata("[timerfd]")
    }
}
