//! 16550 UARTs: COM1 is the console, COM2 carries the kernel log and control lines
//! (docs/HOST_INTERFACE.md).

use super::cpu::{inb, outb};

pub const COM1: u16 = 0x3f8;
pub const COM2: u16 = 0x2f8;

#[derive(Clone, Copy)]
pub struct Uart {
    base: u16,
}

impl Uart {
    pub const fn new(base: u16) -> Self {
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
