//! Signal numbers and dispositions. Delivery comes with the signals issue; today dispositions
//! are recorded and fatal faults terminate the process.

use bytemuck::{Pod, Zeroable};

pub const SIGHUP: u32 = 1;
pub const SIGINT: u32 = 2;
pub const SIGQUIT: u32 = 3;
pub const SIGILL: u32 = 4;
pub const SIGTRAP: u32 = 5;
pub const SIGABRT: u32 = 6;
pub const SIGBUS: u32 = 7;
pub const SIGFPE: u32 = 8;
pub const SIGKILL: u32 = 9;
pub const SIGSEGV: u32 = 11;
pub const SIGSTOP: u32 = 19;
pub const NSIG: u32 = 64;

/// The kernel's `struct sigaction` for rt_sigaction on x86-64.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct SigAction {
    pub handler: u64,
    pub flags: u64,
    pub restorer: u64,
    pub mask: u64,
}

/// Signals that can never be caught, blocked or ignored.
pub const UNBLOCKABLE: u64 = (1 << (SIGKILL - 1)) | (1 << (SIGSTOP - 1));

pub struct SigActions(pub [SigAction; NSIG as usize]);

impl Default for SigActions {
    fn default() -> Self {
        SigActions([SigAction::default(); NSIG as usize])
    }
}

impl SigActions {
    pub fn get(&self, sig: u32) -> SigAction {
        self.0[(sig - 1) as usize]
    }

    pub fn set(&mut self, sig: u32, mut act: SigAction) {
        act.mask &= !UNBLOCKABLE;
        self.0[(sig - 1) as usize] = act;
    }

    /// execve: handled signals go back to the default action; ignored ones stay ignored.
    pub fn reset_on_exec(&mut self) {
        for a in self.0.iter_mut() {
            if a.handler > 1 {
                *a = SigAction::default();
            }
        }
    }
}
