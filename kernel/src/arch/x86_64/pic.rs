//! The legacy 8259 PIC pair (remapped to vectors 32-47) and the 8254 PIT as the periodic timer.

use super::cpu;

/// The ports this module drives: the two 8259s (0x20/0x21, 0xa0/0xa1), the PIT (0x40-0x43) and
/// the PC speaker gate (0x61) that starts PIT channel 2.
fn outb(port: u16, value: u8) {
    // SAFETY: only the PIC, PIT and speaker-gate ports above, which belong to this module; none
    // of them does DMA or touches memory.
    unsafe { cpu::outb(port, value) }
}

fn inb(port: u16) -> u8 {
    // SAFETY: as for `outb`.
    unsafe { cpu::inb(port) }
}

pub const IRQ_TIMER: u8 = 0;
pub const IRQ_COM1: u8 = 4;

/// Timer interrupts per second.
pub const HZ: u64 = 1000;
const PIT_HZ: u64 = 1_193_182;

pub fn init() {
    outb(0x20, 0x11);
    outb(0xa0, 0x11);
    outb(0x21, 32);
    outb(0xa1, 40);
    outb(0x21, 4);
    outb(0xa1, 2);
    outb(0x21, 0x01);
    outb(0xa1, 0x01);
    // Unmask the timer, the cascade and COM1.
    outb(0x21, !((1 << IRQ_TIMER) | (1 << 2) | (1 << IRQ_COM1)));
    outb(0xa1, 0xff);

    let divisor = (PIT_HZ / HZ) as u16;
    outb(0x43, 0x34); // channel 0, lobyte/hibyte, rate generator
    outb(0x40, divisor as u8);
    outb(0x40, (divisor >> 8) as u8);
}

/// Lets `irq` (a device's INTx line, as the firmware routed it) through the PIC pair. The
/// firmware has already made the PCI lines level-triggered (ELCR); the handler must silence
/// the device before interrupts are enabled again.
pub fn unmask(irq: u8) {
    if irq >= 16 || irq == IRQ_TIMER {
        return;
    }
    if irq < 8 {
        outb(0x21, inb(0x21) & !(1 << irq));
    } else {
        outb(0xa1, inb(0xa1) & !(1 << (irq - 8)));
        outb(0x21, inb(0x21) & !(1 << 2));
    }
}

/// Sends end-of-interrupt before the handler runs (it may switch threads). Returns false for a
/// spurious IRQ 7/15, which must not be handled or acknowledged at the interrupting chip.
pub fn acknowledge(irq: u8) -> bool {
    if irq == 7 || irq == 15 {
        let port = if irq == 7 { 0x20 } else { 0xa0 };
        outb(port, 0x0b);
        if inb(port) & 0x80 == 0 {
            if irq == 15 {
                outb(0x20, 0x20);
            }
            return false;
        }
    }
    if irq >= 8 {
        outb(0xa0, 0x20);
    }
    outb(0x20, 0x20);
    true
}

/// Busy-waits ~`ms` milliseconds on PIT channel 2 and returns the TSC ticks that passed.
/// Used once at boot to calibrate the TSC.
pub fn measure_tsc_over_ms(ms: u64) -> u64 {
    let count = (PIT_HZ * ms / 1000) as u16;
    outb(0x61, (inb(0x61) & !0x02) | 0x01);
    outb(0x43, 0xb0); // channel 2, lobyte/hibyte, interrupt on terminal count
    outb(0x42, count as u8);
    outb(0x42, (count >> 8) as u8);
    let start = super::cpu::rdtsc();
    while inb(0x61) & 0x20 == 0 {}
    super::cpu::rdtsc() - start
}
