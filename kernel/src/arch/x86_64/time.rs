//! Clocks: CLOCK_MONOTONIC from the TSC calibrated against the PIT, CLOCK_REALTIME as the RTC's
//! wall time at boot plus the monotonic time since.

use super::cpu::rdtsc;
use core::sync::atomic::{AtomicI64, AtomicU64, Ordering};

static TSC_AT_BOOT: AtomicU64 = AtomicU64::new(0);
/// Nanoseconds per TSC tick as a 32.32 fixed-point number.
static NS_PER_TSC_FP: AtomicU64 = AtomicU64::new(1 << 32);
static REALTIME_AT_BOOT_NS: AtomicI64 = AtomicI64::new(0);
static TSC_HZ: AtomicU64 = AtomicU64::new(1_000_000_000);

pub fn init() {
    const CALIBRATION_MS: u64 = 10;
    let ticks = super::pic::measure_tsc_over_ms(CALIBRATION_MS).max(1);
    let hz = ticks * 1000 / CALIBRATION_MS;
    TSC_HZ.store(hz, Ordering::Relaxed);
    NS_PER_TSC_FP.store(((1_000_000_000u128 << 32) / hz as u128) as u64, Ordering::Relaxed);
    TSC_AT_BOOT.store(rdtsc(), Ordering::Relaxed);
    REALTIME_AT_BOOT_NS.store(read_rtc_unix_seconds() * 1_000_000_000, Ordering::Relaxed);
}

pub fn tsc_hz() -> u64 {
    TSC_HZ.load(Ordering::Relaxed)
}

pub fn monotonic_ns() -> u64 {
    let delta = rdtsc().wrapping_sub(TSC_AT_BOOT.load(Ordering::Relaxed));
    ((delta as u128 * NS_PER_TSC_FP.load(Ordering::Relaxed) as u128) >> 32) as u64
}

pub fn realtime_ns() -> i64 {
    REALTIME_AT_BOOT_NS.load(Ordering::Relaxed) + monotonic_ns() as i64
}

/// Sets the wall clock (clock_settime, settimeofday).
pub fn set_realtime_ns(ns: i64) {
    REALTIME_AT_BOOT_NS.store(ns - monotonic_ns() as i64, Ordering::Relaxed);
}

/// One CMOS/RTC register (index port 0x70, data port 0x71, which belong to this module).
fn cmos(reg: u8) -> u8 {
    // SAFETY: selecting and reading an RTC register has no effect beyond the RTC; the mask keeps
    // bit 7 of the index (NMI disable) clear.
    unsafe {
        super::cpu::outb(0x70, reg & 0x7f);
        super::cpu::inb(0x71)
    }
}

fn read_rtc_unix_seconds() -> i64 {
    while cmos(0x0a) & 0x80 != 0 {}
    let status_b = cmos(0x0b);
    let bcd = status_b & 0x04 == 0;
    let conv = |v: u8| if bcd { (v & 0x0f) + (v >> 4) * 10 } else { v } as i64;
    let sec = conv(cmos(0x00));
    let min = conv(cmos(0x02));
    let hour_raw = cmos(0x04);
    let mut hour = conv(hour_raw & 0x7f);
    if status_b & 0x02 == 0 && hour_raw & 0x80 != 0 {
        hour = (hour % 12) + 12;
    }
    let day = conv(cmos(0x07));
    let month = conv(cmos(0x08));
    let year = 2000 + conv(cmos(0x09));
    days_from_civil(year, month, day) * 86400 + hour * 3600 + min * 60 + sec
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}
