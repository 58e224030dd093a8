//! How the freeze diagnosis (`task::diagnose`) names a thread's process: `pid N comm NAME`.
//! It runs in NMI context, so it only tries the locks it needs.

use core::any::Any;
use core::fmt::{self, Write};

use super::Process;

pub fn install() {
    crate::task::diagnose::set_owner_describer(describe);
}

fn describe(owner: &(dyn Any + Send + Sync), w: &mut dyn Write) -> fmt::Result {
    let Some(p) = owner.downcast_ref::<Process>() else {
        return write!(w, "(not a process)");
    };
    write!(w, "pid {}", p.pid)?;
    match p.comm.try_lock() {
        Some(comm) => match comm.as_deref() {
            Some(name) => write!(w, " comm {name}"),
            None => match p.exe.try_lock() {
                Some(exe) => write!(w, " exe {}", exe.as_str()),
                None => Ok(()),
            },
        },
        None => write!(w, " comm (busy)"),
    }
}
