//! poll and select over any open files, built on `Poller`: ask every file for its readiness
//! (registering the poller), and if nothing is ready sleep until a pollee notifies, a signal
//! arrives or the timeout passes. Never restarted after a signal handler (Linux's rule).

use alloc::sync::Arc;
use alloc::vec::Vec;

use super::file::OpenFile;
use crate::error::{Errno, Result};
use crate::event::{IoEvents, Poller};
use crate::task::WaitError;

/// One file being polled: what is asked and what was found.
pub struct PollEntry {
    /// None for a negative fd (ignored); Some(None) for a closed fd (POLLNVAL).
    pub file: Option<Option<Arc<OpenFile>>>,
    pub events: IoEvents,
    pub revents: IoEvents,
}

fn poll_file(file: &OpenFile, events: IoEvents, poller: Option<&Poller>) -> IoEvents {
    if file.is_path_only() {
        return IoEvents::NVAL;
    }
    file.file().poll(events, poller) & (events | IoEvents::ALWAYS)
}

/// Fills `revents`; returns how many entries have any. Waits up to `deadline_ns` (None:
/// forever; a past deadline: no wait).
pub fn poll(entries: &mut [PollEntry], deadline_ns: Option<u64>) -> Result<usize> {
    let poller = Poller::new();
    let mut first = true;
    loop {
        let mut ready = 0;
        for e in entries.iter_mut() {
            e.revents = match &e.file {
                None => IoEvents::empty(),
                Some(None) => IoEvents::NVAL,
                Some(Some(f)) => poll_file(f, e.events, first.then_some(&poller)),
            };
            if !e.revents.is_empty() {
                ready += 1;
            }
        }
        first = false;
        if ready > 0 {
            return Ok(ready);
        }
        if deadline_ns.is_some_and(|d| crate::arch::time::monotonic_ns() >= d) {
            return Ok(0);
        }
        match poller.wait(deadline_ns) {
            Ok(()) => {}
            Err(WaitError::TimedOut) => return Ok(0),
            Err(WaitError::Interrupted) => return Err(Errno::ERESTARTNOHAND),
        }
    }
}

/// select's three sets as poll requests: (fd, readable?, writable?, exceptional?).
pub fn select_entries(files: Vec<(Arc<OpenFile>, bool, bool, bool)>) -> Vec<PollEntry> {
    files
        .into_iter()
        .map(|(f, r, w, x)| {
            let mut events = IoEvents::empty();
            if r {
                events |= IoEvents::IN
                    | IoEvents::RDNORM
                    | IoEvents::RDBAND
                    | IoEvents::HUP
                    | IoEvents::ERR;
            }
            if w {
                events |= IoEvents::OUT | IoEvents::WRNORM | IoEvents::WRBAND | IoEvents::ERR;
            }
            if x {
                events |= IoEvents::PRI;
            }
            PollEntry { file: Some(Some(f)), events, revents: IoEvents::empty() }
        })
        .collect()
}
