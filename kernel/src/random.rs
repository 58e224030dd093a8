//! Kernel randomness for getrandom, AT_RANDOM and /dev/urandom: a ChaCha-free xoshiro256**
//! generator seeded from the TSC and the wall clock at boot, re-stirred with the TSC on every
//! request. Unpredictable enough for address-space cookies and tests; not a cryptographic RNG.

use crate::sync::Mutex;

static STATE: Mutex<[u64; 4]> =
    Mutex::new([0x9e37_79b9_7f4a_7c15, 0xbf58_476d_1ce4_e5b9, 0x94d0_49bb_1331_11eb, 1]);

fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

pub fn init() {
    let seed = crate::arch::cpu::rdtsc() ^ crate::arch::time::realtime_ns() as u64;
    let mut s = STATE.lock();
    for (i, w) in s.iter_mut().enumerate() {
        *w = splitmix(seed.wrapping_add(i as u64 * 0x1234_5678_9abc_def1));
    }
}

fn next(s: &mut [u64; 4]) -> u64 {
    let result = s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
    let t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = s[3].rotate_left(45);
    result
}

pub fn fill(buf: &mut [u8]) {
    let mut s = STATE.lock();
    s[0] ^= crate::arch::cpu::rdtsc();
    for chunk in buf.chunks_mut(8) {
        let v = next(&mut s).to_le_bytes();
        chunk.copy_from_slice(&v[..chunk.len()]);
    }
}

pub fn bytes16() -> [u8; 16] {
    let mut b = [0u8; 16];
    fill(&mut b);
    b
}
