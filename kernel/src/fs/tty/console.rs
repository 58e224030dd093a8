//! The serial console: COM1 as the device under a `Tty`. The receive interrupt feeds the line
//! discipline; output goes straight to the UART (it never blocks and never fills).

use alloc::sync::Arc;

use spin::Once;

use super::ldisc::{LineDiscipline, WinSize};
use super::{Tty, TtyDriver};
use crate::arch::serial::{Uart, COM1};
use crate::error::Result;
use crate::fs::file::FileLike;
use crate::fs::inode::{Metadata, S_IFCHR};

/// makedev(4, 64): the console is ttyS0.
pub const CONSOLE_RDEV: u64 = (4 << 8) | 64;

struct Console {
    uart: Uart,
}

impl TtyDriver for Console {
    fn write_output(&self, bytes: &[u8]) {
        self.uart.write_bytes(bytes);
    }

    fn output_room(&self) -> usize {
        usize::MAX
    }

    fn metadata(&self) -> Metadata {
        Metadata {
            dev: 5,
            ino: 3,
            mode: S_IFCHR | 0o620,
            nlink: 1,
            rdev: CONSOLE_RDEV,
            blksize: 1024,
            ..Metadata::default()
        }
    }

    fn rdev(&self) -> u64 {
        CONSOLE_RDEV
    }

    fn open(&self, tty: &Arc<Tty>) -> Result<Arc<dyn FileLike>> {
        Ok(Arc::new(tty.clone()))
    }
}

static CONSOLE: Once<Arc<Tty>> = Once::new();

pub fn console() -> &'static Arc<Tty> {
    CONSOLE.call_once(|| {
        let uart = Uart::new(COM1);
        uart.init(true);
        let winsize = WinSize { ws_row: 24, ws_col: 80, ws_xpixel: 0, ws_ypixel: 0 };
        // Typed input has no bound: nothing upstream could be made to wait.
        Tty::new(Arc::new(Console { uart }), LineDiscipline::new(winsize, usize::MAX), usize::MAX)
    })
}

/// Receive interrupt: drain the UART through the console's line discipline.
pub fn on_receive_interrupt() {
    let tty = console();
    let uart = Uart::new(COM1);
    while let Some(byte) = uart.try_read_byte() {
        tty.receive(&[byte]);
    }
}
