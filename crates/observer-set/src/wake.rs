//! Which sleeping threads a notification wakes. A pollable object's threads sleep in lanes
//! chosen by what they wait for, so that a writer's notification (OUT) does not wake the
//! readers and the other way round; a thread that waits for both sides, or for neither (only
//! hang-up or error), sleeps in the lane every notification wakes. ERR, HUP and NVAL wake
//! every lane: they end every wait. The exclusive lane holds threads of which one is enough
//! (epoll_wait on one epoll, Linux's exclusive waits): a notification that wakes the read
//! side wakes one of them, and one that leaves without taking the event passes the wake on.
//!
//! Masks are poll(2) bits (the values of the kernel's `IoEvents`).

pub const IN: u32 = 0x001;
pub const PRI: u32 = 0x002;
pub const OUT: u32 = 0x004;
pub const ERR: u32 = 0x008;
pub const HUP: u32 = 0x010;
pub const NVAL: u32 = 0x020;
pub const RDNORM: u32 = 0x040;
pub const RDBAND: u32 = 0x080;
pub const WRNORM: u32 = 0x100;
pub const WRBAND: u32 = 0x200;
pub const MSG: u32 = 0x400;
pub const RDHUP: u32 = 0x2000;

/// What a reader waits for.
pub const READ_SIDE: u32 = IN | PRI | RDNORM | RDBAND | MSG | RDHUP;
/// What a writer waits for.
pub const WRITE_SIDE: u32 = OUT | WRNORM | WRBAND;
/// Events that end every wait.
pub const ALWAYS: u32 = ERR | HUP | NVAL;

/// Where a thread sleeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lane {
    Read = 0,
    Write = 1,
    /// Both sides, or only ALWAYS events.
    Any = 2,
    /// One of these is enough.
    Exclusive = 3,
}

pub const LANES: [Lane; 4] = [Lane::Read, Lane::Write, Lane::Any, Lane::Exclusive];

/// The lane of a thread that waits for `mask` (shared: every thread of the lane wakes).
pub fn lane_of(mask: u32) -> Lane {
    match (mask & READ_SIDE != 0, mask & WRITE_SIDE != 0) {
        (true, false) => Lane::Read,
        (false, true) => Lane::Write,
        _ => Lane::Any,
    }
}

/// How many threads of `lane` a notification of `events` wakes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wake {
    None,
    One,
    All,
}

pub fn wakes(events: u32, lane: Lane) -> Wake {
    let all = |yes: bool| if yes { Wake::All } else { Wake::None };
    match lane {
        Lane::Read => all(events & (READ_SIDE | ALWAYS) != 0),
        Lane::Write => all(events & (WRITE_SIDE | ALWAYS) != 0),
        Lane::Any => all(events != 0),
        Lane::Exclusive if events & (READ_SIDE | ALWAYS) != 0 => Wake::One,
        Lane::Exclusive => Wake::None,
    }
}

/// Does a notification of `events` wake a thread that waits for `mask`? (What the lanes
/// implement: true for at least every event the thread asked for or that ends every wait.)
pub fn wakes_waiter_of(events: u32, mask: u32) -> bool {
    wakes(events, lane_of(mask)) != Wake::None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readers_and_writers_sleep_apart() {
        assert_eq!(lane_of(IN), Lane::Read);
        assert_eq!(lane_of(IN | RDNORM | RDHUP | HUP), Lane::Read);
        assert_eq!(lane_of(OUT | WRNORM | ERR), Lane::Write);
        assert_eq!(lane_of(IN | OUT), Lane::Any);
        assert_eq!(lane_of(HUP), Lane::Any);
        assert_eq!(lane_of(0), Lane::Any);
    }

    #[test]
    fn a_notification_wakes_the_lanes_that_asked_for_it() {
        assert_eq!(wakes(IN, Lane::Read), Wake::All);
        assert_eq!(wakes(IN, Lane::Write), Wake::None);
        assert_eq!(wakes(OUT, Lane::Read), Wake::None);
        assert_eq!(wakes(OUT, Lane::Write), Wake::All);
        assert_eq!(wakes(IN, Lane::Any), Wake::All);
        assert_eq!(wakes(OUT, Lane::Any), Wake::All);
        assert_eq!(wakes(0, Lane::Any), Wake::None);
    }

    #[test]
    fn hang_up_and_error_end_every_wait() {
        for ev in [HUP, ERR, NVAL] {
            assert_eq!(wakes(ev, Lane::Read), Wake::All);
            assert_eq!(wakes(ev, Lane::Write), Wake::All);
            assert_eq!(wakes(ev, Lane::Any), Wake::All);
            assert_eq!(wakes(ev, Lane::Exclusive), Wake::One);
        }
    }

    #[test]
    fn the_exclusive_lane_wakes_one_for_the_read_side() {
        assert_eq!(wakes(IN, Lane::Exclusive), Wake::One);
        assert_eq!(wakes(PRI, Lane::Exclusive), Wake::One);
        assert_eq!(wakes(OUT, Lane::Exclusive), Wake::None);
    }

    #[test]
    fn no_waiter_misses_an_event_it_asked_for() {
        let bits = [IN, PRI, OUT, ERR, HUP, NVAL, RDNORM, RDBAND, WRNORM, WRBAND, MSG, RDHUP];
        // Every mask made of up to two bits, every single event.
        for &a in &bits {
            for &b in &bits {
                let mask = a | b;
                for &ev in &bits {
                    if ev & (mask | ALWAYS) != 0 {
                        assert!(
                            wakes_waiter_of(ev, mask),
                            "{ev:#x} must wake a waiter of {mask:#x}"
                        );
                    }
                }
            }
        }
    }
}
