//! Resource limits (getrlimit/setrlimit/prlimit64).

pub const RLIMIT_STACK: usize = 3;
pub const RLIMIT_CORE: usize = 4;
pub const RLIMIT_NPROC: usize = 6;
pub const RLIMIT_NOFILE: usize = 7;
pub const RLIMIT_MEMLOCK: usize = 8;
pub const RLIMIT_SIGPENDING: usize = 11;
pub const RLIM_NLIMITS: usize = 16;
pub const RLIM_INFINITY: u64 = u64::MAX;

#[derive(Clone, Copy, Debug, PartialEq, Eq, bytemuck::Pod, bytemuck::Zeroable)]
#[repr(C)]
pub struct Rlimit {
    pub cur: u64,
    pub max: u64,
}

#[derive(Clone)]
pub struct Rlimits(pub [Rlimit; RLIM_NLIMITS]);

impl Default for Rlimits {
    /// Linux's defaults for init (fork_init: RLIMIT_NPROC and RLIMIT_SIGPENDING are half of
    /// threads-max).
    fn default() -> Self {
        let inf = Rlimit { cur: RLIM_INFINITY, max: RLIM_INFINITY };
        let mut l = [inf; RLIM_NLIMITS];
        l[RLIMIT_STACK] = Rlimit { cur: 8 << 20, max: RLIM_INFINITY };
        l[RLIMIT_CORE] = Rlimit { cur: 0, max: RLIM_INFINITY };
        l[RLIMIT_NOFILE] = Rlimit { cur: 1024, max: 4096 };
        let half = (super::threads_max() / 2) as u64;
        l[RLIMIT_NPROC] = Rlimit { cur: half, max: half };
        l[RLIMIT_MEMLOCK] = Rlimit { cur: 8 << 20, max: 8 << 20 };
        l[RLIMIT_SIGPENDING] = Rlimit { cur: half, max: half };
        l[12] = Rlimit { cur: 819200, max: 819200 }; // RLIMIT_MSGQUEUE
        l[13] = Rlimit { cur: 0, max: 0 }; // RLIMIT_NICE
        l[14] = Rlimit { cur: 0, max: 0 }; // RLIMIT_RTPRIO
        Rlimits(l)
    }
}

impl Rlimits {
    pub fn nofile(&self) -> usize {
        self.0[RLIMIT_NOFILE].cur.min(1 << 20) as usize
    }
}
