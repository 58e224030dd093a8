//! getpriority/setpriority and ioprio_get/ioprio_set. The rules are `process::priority`'s.

use crate::error::Result;
use crate::process::priority::{self, Target};

pub fn getpriority(which: i32, who: i32) -> Result<i64> {
    priority::get_priority(Target::of_prio(which)?, who)
}

pub fn setpriority(which: i32, who: i32, nice: i32) -> Result<i64> {
    priority::set_priority(Target::of_prio(which)?, who, nice).map(|()| 0)
}

pub fn ioprio_get(which: i32, who: i32) -> Result<i64> {
    priority::get_ioprio(Target::of_ioprio(which)?, who)
}

pub fn ioprio_set(which: i32, who: i32, ioprio: i32) -> Result<i64> {
    priority::set_ioprio(Target::of_ioprio(which)?, who, ioprio).map(|()| 0)
}
