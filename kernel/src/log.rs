//! The kernel log on COM2 (docs/HOST_INTERFACE.md). `log!` writes one line; `control!` writes a
//! `@@ ` control line for the host tool.

use core::fmt::{self, Write};

use crate::arch::serial::{Uart, COM2};
use crate::sync::Mutex;

static LOG: Mutex<Uart> = Mutex::new(Uart::new(COM2));

struct LineWriter<'a>(&'a Uart);

impl Write for LineWriter<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0.write_bytes(s.as_bytes());
        Ok(())
    }
}

pub fn init() {
    LOG.lock().init(false);
}

pub fn write_line(prefix: &str, args: fmt::Arguments) {
    let uart = LOG.lock();
    let mut w = LineWriter(&uart);
    let _ = w.write_str(prefix);
    let _ = w.write_fmt(args);
    let _ = w.write_str("\n");
}

/// Writes text without taking the lock: for the NMI dump, which may have interrupted a writer.
pub fn write_unlocked(s: &str) {
    Uart::new(COM2).write_bytes(s.as_bytes());
}

/// Writes without taking the lock: for the panic path, which may have interrupted a writer.
pub fn write_line_unlocked(args: fmt::Arguments) {
    let uart = Uart::new(COM2);
    let mut w = LineWriter(&uart);
    let _ = w.write_fmt(args);
    let _ = w.write_str("\n");
}

#[macro_export]
macro_rules! log {
    ($($arg:tt)*) => { $crate::log::write_line("", format_args!($($arg)*)) };
}

#[macro_export]
macro_rules! control {
    ($($arg:tt)*) => { $crate::log::write_line("@@ ", format_args!($($arg)*)) };
}
