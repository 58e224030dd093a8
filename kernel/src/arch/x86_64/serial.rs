//! 16550 UARTs: COM1 is the console, COM2 carries the kernel log and control lines
//! (docs/HOST_INTERFACE.md).

use super::cpu;

pub const COM1: u16 = 0x3f8;
pub const COM2: u16 = 0x2f8;

/// One of the two UARTs. Its registers are the eight ports from `base`, and nothing else can be
/// named through it: `new` accepts only COM1 and COM2.
#[derive(Clone, Copy)]
pub struct Uart {
    base: u16,
}

fn outb(port: u16, value: u8) {
    // SAFETY: `port` is a register of COM1 or COM2 (`Uart::new` admits no other base); a 16550
    // does no DMA, so writing it affects the serial line and its interrupt only.
    unsafe { cpu::outb(port, value) }
}

fn inb(port: u16) -> u8 {
    // SAFETY: as for `outb`.
    unsafe { cpu::inb(port) }
}

impl Uart {
    /// COM1 or COM2; any other base panics (at compile time in a constant).
    pub const fn new(base: u16) -> Self {
        assert!(base == COM1 || base == COM2, "not a UART of this machine");
        Uart { base }
    }

    /// 115200 8N1, FIFOs on; receive interrupts if `rx_irq`.
    pub fn init(&self, rx_irq: bool) {
        let b = self.base;
        outb(b + 1, 0x00);
        outb(b + 3, 0x80);
        outb(b, 0x01);
        outb(b + 1, 0x00);
        outb(b + 3, 0x03);
        // FIFOs stay off on a receiving UART: switching them on resets them, and QEMU may already
        // hold the first byte of piped input.
        outb(b + 2, if rx_irq { 0x00 } else { 0xc7 });
        outb(b + 4, if rx_irq { 0x0b } else { 0x03 }); // OUT2 gates the IRQ line
        outb(b + 1, if rx_irq { 0x01 } else { 0x00 });
    }

    pub fn write_byte(&self, byte: u8) {
        while inb(self.base + 5) & 0x20 == 0 {}
        outb(self.base, byte);
    }

    pub fn write_bytes(&self, bytes: &[u8]) {
        for &b in bytes {
            self.write_byte(b);
        }
    }

    pub fn try_read_byte(&self) -> Option<u8> {
        if inb(self.base + 5) & 1 != 0 {
            Some(inb(self.base))
        } else {
            None
        }
    }
}
