use std::sync::{Arc, Weak};
use std::vec::Vec;

use super::*;

trait Named {
    fn name(&self) -> &'static str;
}

struct Observer(&'static str);

impl Named for Observer {
    fn name(&self) -> &'static str {
        self.0
    }
}

fn observer(name: &'static str) -> (Arc<dyn Named>, Weak<dyn Named>) {
    let strong: Arc<dyn Named> = Arc::new(Observer(name));
    let weak = Arc::downgrade(&strong);
    (strong, weak)
}

const IN: u32 = 1;
const OUT: u32 = 4;
const HUP: u32 = 0x10;

fn names(targets: Vec<Arc<dyn Named>>) -> Vec<&'static str> {
    targets.iter().map(|t| t.name()).collect()
}

#[test]
fn notifies_the_observers_whose_mask_meets_the_events_in_order() {
    let mut set = ObserverSet::new();
    let (_a, wa) = observer("reader");
    let (_b, wb) = observer("writer");
    let (_c, wc) = observer("both");
    set.register(wa, IN | HUP);
    set.register(wb, OUT | HUP);
    set.register(wc, IN | OUT | HUP);
    assert_eq!(names(set.targets(|m| m & IN != 0)), ["reader", "both"]);
    assert_eq!(names(set.targets(|m| m & OUT != 0)), ["writer", "both"]);
    assert_eq!(names(set.targets(|m| m & HUP != 0)), ["reader", "writer", "both"]);
    assert!(set.targets(|m| m & 0x100 != 0).is_empty());
}

#[test]
fn registering_twice_keeps_one_entry_with_both_masks() {
    let mut set = ObserverSet::new();
    let (_a, wa) = observer("a");
    set.register(wa.clone(), IN);
    set.register(wa.clone(), OUT);
    assert_eq!(set.len(), 1);
    assert_eq!(names(set.targets(|m| m & IN != 0)), ["a"]);
    assert_eq!(names(set.targets(|m| m & OUT != 0)), ["a"]);
    assert!(set.targets(|m| m & HUP != 0).is_empty());
}

#[test]
fn exclusive_observers_are_handed_out_apart() {
    let mut set = ObserverSet::new();
    let (_a, wa) = observer("shared");
    let (_b, wb) = observer("ex1");
    let (_c, wc) = observer("ex2");
    set.register_exclusive(wb, IN);
    set.register(wa, IN);
    set.register_exclusive(wc, IN | OUT);
    let t = set.split_targets(|m| m & IN != 0);
    assert_eq!(names(t.shared), ["shared"]);
    assert_eq!(names(t.exclusive), ["ex1", "ex2"]);
    let t = set.split_targets(|m| m & OUT != 0);
    assert!(t.shared.is_empty());
    assert_eq!(names(t.exclusive), ["ex2"]);
    assert_eq!(names(set.targets(|m| m & IN != 0)), ["ex1", "shared", "ex2"]);
}

#[test]
fn delivery_reaches_every_shared_observer_and_exclusive_ones_until_one_takes_it() {
    use std::cell::RefCell;
    let mut set = ObserverSet::new();
    let obs: Vec<_> = ["s1", "e1", "e2", "s2", "e3"].iter().map(|n| observer(n)).collect();
    for (strong, weak) in &obs {
        if strong.name().starts_with('e') {
            set.register_exclusive(weak.clone(), IN);
        } else {
            set.register(weak.clone(), IN);
        }
    }
    // e1 has nobody waiting (does not take it), e2 does: e3 is not called.
    let called = RefCell::new(Vec::new());
    let n = set.split_targets(|_| true).deliver(|t| {
        called.borrow_mut().push(t.name());
        t.name() == "e2"
    });
    assert_eq!(*called.borrow(), ["s1", "s2", "e1", "e2"]);
    assert_eq!(n, 4);
    // Nobody takes it: every exclusive observer is tried.
    called.borrow_mut().clear();
    set.split_targets(|_| true).deliver(|t| {
        called.borrow_mut().push(t.name());
        false
    });
    assert_eq!(*called.borrow(), ["s1", "s2", "e1", "e2", "e3"]);
}

#[test]
fn dropped_observers_fall_away() {
    let mut set = ObserverSet::new();
    let (a, wa) = observer("a");
    let (_b, wb) = observer("b");
    set.register(wa, IN);
    set.register(wb, IN);
    drop(a);
    assert_eq!(set.len(), 2, "kept until the next change");
    assert_eq!(names(set.targets(|_| true)), ["b"]);
    assert_eq!(set.len(), 1);
    // A registration prunes too.
    let (c, wc) = observer("c");
    set.register(wc, IN);
    drop(c);
    let (_d, wd) = observer("d");
    set.register(wd, IN);
    assert_eq!(set.len(), 2);
}

#[test]
fn unregister_removes_only_that_observer() {
    let mut set = ObserverSet::new();
    let (_a, wa) = observer("a");
    let (_b, wb) = observer("b");
    set.register(wa.clone(), IN);
    set.register(wb, IN);
    set.unregister(&wa);
    assert_eq!(names(set.targets(|_| true)), ["b"]);
    set.unregister(&wa);
    assert_eq!(set.len(), 1);
    // Once gone, it may register again, with a new mask.
    set.register(wa, OUT);
    assert_eq!(names(set.targets(|m| m & OUT != 0)), ["a"]);
}

#[test]
fn targets_are_strong_references_that_outlive_the_observers_owner() {
    let mut set = ObserverSet::new();
    let (a, wa) = observer("a");
    set.register(wa.clone(), IN);
    let targets = set.targets(|_| true);
    drop(a);
    assert_eq!(targets[0].name(), "a");
    assert!(wa.upgrade().is_some());
    drop(targets);
    assert!(wa.upgrade().is_none());
    assert!(set.targets(|_| true).is_empty());
    assert!(set.is_empty());
}
