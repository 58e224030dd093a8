//! `MessageQueue`: one POSIX message queue — its messages by priority, its attributes, the
//! threads blocked in send and receive, its readiness for poll/epoll and its notification.
//!
//! Senders sleep on the queue's pollee (for OUT) while the queue is full, receivers (for IN)
//! while it is empty; each side notifies the pollee after it changes the queue, which wakes
//! the other side and every poll and epoll that watches the queue. Waits are interruptible: an
//! interrupted call answers ERESTARTSYS (restarted with SA_RESTART, as Linux's wq_sleep).

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use ipc_rules::mqueue::PrioQueue;

use crate::error::{Errno, Result};
use crate::event::{IoEvents, Pollee, Poller};
use crate::mm::fallible::ensure_room;
use crate::sync::Mutex;
use crate::task::WaitError;

pub const SIGEV_SIGNAL: i32 = 0;
pub const SIGEV_NONE: i32 = 1;
pub const SIGEV_THREAD: i32 = 2;

/// A registered mq_notify: who asked, and how (SIGEV_SIGNAL or SIGEV_NONE).
#[derive(Clone, Copy, Debug)]
pub struct Notification {
    /// The process (thread group) that registered.
    pub pid: u32,
    pub notify: i32,
    pub signo: i32,
    pub value: u64,
}

struct State {
    maxmsg: usize,
    msgsize: usize,
    messages: PrioQueue<Vec<u8>>,
    /// Bytes of message text queued (the QSIZE of the status line).
    qsize: usize,
    /// Threads sleeping in mq_receive: a message they will take does not notify (Linux hands
    /// it to the first of them directly).
    waiting_receivers: usize,
    notification: Option<Notification>,
}

pub struct MessageQueue {
    state: Mutex<State>,
    /// Blocked senders (OUT) and receivers (IN) wait here; pollers watch it.
    pollee: Pollee,
}

/// A sleep that ended without the condition: a signal (restart or EINTR) or the deadline.
fn wait_error(e: WaitError) -> Errno {
    match e {
        WaitError::Interrupted => Errno::ERESTARTSYS,
        WaitError::TimedOut => Errno::ETIMEDOUT,
    }
}

impl MessageQueue {
    pub fn new(maxmsg: usize, msgsize: usize) -> MessageQueue {
        let state = State {
            maxmsg,
            msgsize,
            messages: PrioQueue::new(),
            qsize: 0,
            waiting_receivers: 0,
            notification: None,
        };
        MessageQueue { state: Mutex::new(state), pollee: Pollee::new() }
    }

    /// (mq_maxmsg, mq_msgsize, mq_curmsgs).
    pub fn attr(&self) -> (usize, usize, usize) {
        let st = self.state.lock();
        (st.maxmsg, st.msgsize, st.messages.len())
    }

    pub fn msgsize(&self) -> usize {
        self.state.lock().msgsize
    }

    /// Queues `text` at `prio`, waiting for room unless `nonblock` (EAGAIN) or until the
    /// monotonic `deadline` (ETIMEDOUT). Returns the notification this send fires, if any:
    /// the queue went from empty to non-empty and no receiver was waiting. The registration
    /// is one-shot, so it is gone from the queue when returned.
    pub fn send(
        &self,
        text: Vec<u8>,
        prio: u32,
        nonblock: bool,
        deadline: Option<u64>,
    ) -> Result<Option<Notification>> {
        let len = text.len();
        let mut text = Some(text);
        let fired = self
            .pollee
            .wait_events(IoEvents::OUT, deadline, || {
                let mut st = self.state.lock();
                if st.messages.len() >= st.maxmsg {
                    return nonblock.then_some(Err(Errno::EAGAIN));
                }
                // The text is charged to RLIMIT_MSGQUEUE, which root may lift: room for
                // its place in the queue first (Linux's mq_timedsend: ENOMEM).
                if let Err(e) = ensure_room(512 + 8 * st.messages.len()) {
                    return Some(Err(e));
                }
                st.messages.push(prio, text.take()?);
                st.qsize += len;
                let fire = st.messages.len() == 1 && st.waiting_receivers == 0;
                Some(Ok(if fire { st.notification.take() } else { None }))
            })
            .map_err(wait_error)??;
        // All of them re-check: one woken alone could be leaving on a signal and keep the
        // message from the others.
        self.pollee.notify(IoEvents::IN);
        Ok(fired)
    }

    fn try_take(&self) -> Option<(u32, Vec<u8>)> {
        let mut st = self.state.lock();
        let (prio, text) = st.messages.pop()?;
        st.qsize -= text.len();
        Some((prio, text))
    }

    /// Takes the oldest message of the highest priority, waiting for one unless `nonblock`
    /// (EAGAIN) or until the monotonic `deadline` (ETIMEDOUT).
    pub fn receive(&self, nonblock: bool, deadline: Option<u64>) -> Result<(u32, Vec<u8>)> {
        let got = match self.try_take() {
            Some(m) => m,
            None if nonblock => return Err(Errno::EAGAIN),
            None => {
                self.state.lock().waiting_receivers += 1;
                let r = self.pollee.wait_events(IoEvents::IN, deadline, || self.try_take());
                self.state.lock().waiting_receivers -= 1;
                r.map_err(wait_error)?
            }
        };
        self.pollee.notify(IoEvents::OUT);
        Ok(got)
    }

    /// mq_notify with a request: EBUSY if a process is registered already.
    pub fn register(&self, n: Notification) -> Result<()> {
        let mut st = self.state.lock();
        if st.notification.is_some() {
            return Err(Errno::EBUSY);
        }
        st.notification = Some(n);
        Ok(())
    }

    /// mq_notify(NULL), and the close of a descriptor by the registered process: removes the
    /// registration if `pid` made it (another process's is left alone, without an error).
    pub fn unregister(&self, pid: u32) {
        let mut st = self.state.lock();
        if st.notification.is_some_and(|n| n.pid == pid) {
            st.notification = None;
        }
    }

    /// Linux's status line, what read(2) of a queue returns.
    pub fn status_line(&self) -> String {
        let st = self.state.lock();
        let (notify, signo, pid) = match st.notification {
            Some(n) => (n.notify, if n.notify == SIGEV_SIGNAL { n.signo } else { 0 }, n.pid),
            None => (0, 0, 0),
        };
        format!(
            "QSIZE:{:<10} NOTIFY:{:<5} SIGNO:{:<5} NOTIFY_PID:{:<6}\n",
            st.qsize, notify, signo, pid
        )
    }

    /// POLLIN when a message is queued, POLLOUT when there is room (whatever the access mode).
    pub fn poll(&self, mask: IoEvents, poller: Option<&Poller>) -> IoEvents {
        if let Some(p) = poller {
            p.watch(&self.pollee, mask);
        }
        let st = self.state.lock();
        let mut ev = IoEvents::empty();
        if !st.messages.is_empty() {
            ev |= IoEvents::readable();
        }
        if st.messages.len() < st.maxmsg {
            ev |= IoEvents::writable();
        }
        ev
    }
}
