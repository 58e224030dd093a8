use super::*;
use std::vec::Vec;

/// Runs `steps` switches in which the running thread yields, and returns who ran.
fn round_robin(rq: &mut RunQueue<u32>, first: u32, steps: usize) -> Vec<u32> {
    let mut running = first;
    let mut ran = std::vec![running];
    for _ in 0..steps {
        running = rq.pick_next(Some(running)).expect("someone runs");
        ran.push(running);
    }
    ran
}

#[test]
fn new_threads_run_in_the_order_they_came() {
    let mut rq = RunQueue::new();
    for t in 1..=3 {
        rq.enqueue(t);
    }
    assert_eq!(rq.len(), 3);
    assert_eq!(rq.pick_next(None), Some(1));
    assert_eq!(rq.pick_next(None), Some(2));
    assert_eq!(rq.pick_next(None), Some(3));
    assert_eq!(rq.pick_next(None), None);
    assert!(rq.is_empty());
}

#[test]
fn yielding_threads_take_turns() {
    let mut rq = RunQueue::new();
    rq.enqueue(2);
    rq.enqueue(3);
    assert_eq!(round_robin(&mut rq, 1, 6), [1, 2, 3, 1, 2, 3, 1]);
}

#[test]
fn a_lone_thread_that_yields_runs_again() {
    let mut rq = RunQueue::new();
    assert_eq!(rq.pick_next(Some(7)), Some(7));
    assert!(rq.is_empty());
}

#[test]
fn a_thread_that_blocks_leaves_the_rotation() {
    let mut rq = RunQueue::new();
    rq.enqueue(2);
    // 1 sleeps: it is not handed back.
    assert_eq!(rq.pick_next(None), Some(2));
    // 2 yields with nobody else ready.
    assert_eq!(rq.pick_next(Some(2)), Some(2));
    // 1 is woken and waits behind 2, which yields to it.
    assert_eq!(rq.wake(1, false), Preempt::No);
    assert_eq!(rq.pick_next(Some(2)), Some(1));
    assert_eq!(rq.pick_next(Some(1)), Some(2));
}

#[test]
fn a_woken_thread_waits_behind_the_ready_ones() {
    let mut rq = RunQueue::new();
    rq.enqueue(2);
    rq.enqueue(3);
    rq.wake(4, false);
    assert_eq!(round_robin(&mut rq, 1, 4), [1, 2, 3, 4, 1]);
}

#[test]
fn an_urgent_wake_up_preempts_the_waker_but_keeps_the_order() {
    let mut rq = RunQueue::new();
    assert_eq!(rq.wake(5, true), Preempt::AtNextPoint);
    // The waker gives way at its next preemption point; the woken thread is next.
    assert_eq!(rq.pick_next(Some(1)), Some(5));
    let mut rq = RunQueue::new();
    rq.enqueue(2);
    assert_eq!(rq.wake(5, true), Preempt::AtNextPoint);
    assert_eq!(rq.pick_next(Some(1)), Some(2));
    assert_eq!(rq.pick_next(Some(2)), Some(5));
}

#[test]
fn the_idle_cpu_has_nothing_to_run() {
    let mut rq: RunQueue<u32> = RunQueue::default();
    assert!(rq.is_empty());
    assert_eq!(rq.pick_next(None), None);
}

#[test]
fn a_slice_lasts_slice_ticks_ticks() {
    let mut left = SLICE_TICKS;
    let mut ticks = 0;
    loop {
        ticks += 1;
        match tick(left) {
            Some(l) => {
                assert_eq!(l, left - 1);
                left = l;
            }
            None => break,
        }
    }
    assert_eq!(ticks, SLICE_TICKS);
    // A thread that somehow has no ticks left gives way at once.
    assert_eq!(tick(0), None);
    assert_eq!(tick(1), None);
}

#[test]
fn queues_are_independent() {
    // One queue per CPU: nothing is shared between two instances.
    let mut a = RunQueue::new();
    let mut b = RunQueue::new();
    a.enqueue(1);
    b.enqueue(2);
    assert_eq!(a.pick_next(None), Some(1));
    assert_eq!(b.pick_next(None), Some(2));
    assert!(a.is_empty() && b.is_empty());
}
