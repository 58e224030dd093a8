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

#[test]
fn stealing_takes_the_last_allowed_thread() {
    let mut rq = RunQueue::new();
    for t in 1..=4 {
        rq.enqueue(t);
    }
    assert_eq!(rq.steal(|_| true), Some(4));
    assert_eq!(rq.steal(|&t| t % 2 == 1), Some(3));
    assert_eq!(rq.steal(|&t| t > 10), None);
    assert_eq!(rq.pick_next(None), Some(1));
    assert_eq!(rq.pick_next(None), Some(2));
    assert_eq!(rq.steal(|_| true), None);
}

fn loads(v: &[(bool, bool, usize)]) -> impl Fn(usize) -> CpuLoad + '_ {
    move |c| {
        let (online, idle, ready) = v[c];
        CpuLoad { online, idle, ready }
    }
}

#[test]
fn a_woken_thread_goes_to_an_idle_cpu_first() {
    // CPU 0 wakes a thread that last ran on CPU 1, which idles: there.
    let l = [(true, false, 0), (true, true, 0)];
    assert_eq!(place(!0, 1, 0, 2, loads(&l)), Some(1));
    // Its last CPU is busy and the waker's too, CPU 2 idles.
    let l = [(true, false, 0), (true, false, 1), (true, true, 0)];
    assert_eq!(place(!0, 1, 0, 3, loads(&l)), Some(2));
    // An idle CPU with threads queued is not free.
    let l = [(true, false, 0), (true, true, 2)];
    assert_eq!(place(!0, 1, 0, 2, loads(&l)), Some(0));
}

#[test]
fn with_every_cpu_busy_the_less_loaded_of_last_and_waker_wins() {
    let l = [(true, false, 3), (true, false, 1)];
    assert_eq!(place(!0, 0, 1, 2, loads(&l)), Some(1));
    assert_eq!(place(!0, 1, 0, 2, loads(&l)), Some(1));
    let l = [(true, false, 1), (true, false, 1)];
    assert_eq!(place(!0, 1, 0, 2, loads(&l)), Some(1));
}

#[test]
fn placement_honours_affinity_and_parked_cpus() {
    // Allowed only on CPU 0, though CPU 1 idles.
    let l = [(true, false, 5), (true, true, 0)];
    assert_eq!(place(0b01, 1, 1, 2, loads(&l)), Some(0));
    // CPU 1 is parked (not online): never chosen.
    let l = [(true, false, 5), (false, true, 0)];
    assert_eq!(place(!0, 1, 1, 2, loads(&l)), Some(0));
    // Allowed only on a parked CPU: no answer, the caller decides.
    assert_eq!(place(0b10, 1, 0, 2, loads(&l)), None);
    // Neither last nor here allowed: the least loaded allowed CPU.
    let l = [(true, false, 0), (true, false, 4), (true, false, 2)];
    assert_eq!(place(0b110, 0, 0, 3, loads(&l)), Some(2));
}
