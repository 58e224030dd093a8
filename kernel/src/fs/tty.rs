//! The serial console as a terminal: a small line discipline (canonical mode with erase, kill and
//! end-of-file; echo; CR/NL translation) between the UART and the processes that read it.

use alloc::collections::VecDeque;
use alloc::sync::Arc;

use bytemuck::{Pod, Zeroable};
use spin::Once;

use super::file::{FileLike, Metadata};
use super::tmpfs::S_IFCHR;
use crate::arch::serial::{Uart, COM1};
use crate::error::{Errno, Result};
use crate::mm::user::{UserPtr, UserSlice};
use crate::sync::Mutex;
use crate::task::{WaitError, WaitQueue};

pub const TCGETS: u32 = 0x5401;
pub const TCSETS: u32 = 0x5402;
pub const TCSETSW: u32 = 0x5403;
pub const TCSETSF: u32 = 0x5404;
pub const TIOCGPGRP: u32 = 0x540f;
pub const TIOCSPGRP: u32 = 0x5410;
pub const TIOCGWINSZ: u32 = 0x5413;
pub const TIOCSWINSZ: u32 = 0x5414;
pub const FIONREAD: u32 = 0x541b;

const ICRNL: u32 = 0o400;
const INLCR: u32 = 0o100;
const IGNCR: u32 = 0o200;
const OPOST: u32 = 0o1;
const ONLCR: u32 = 0o4;
const ICANON: u32 = 0o2;
const ECHO: u32 = 0o10;
const ECHOE: u32 = 0o20;
const VERASE: usize = 2;
const VKILL: usize = 3;
const VEOF: usize = 4;

/// The kernel's `struct termios` (what TCGETS copies out).
#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
pub struct Termios {
    pub c_iflag: u32,
    pub c_oflag: u32,
    pub c_cflag: u32,
    pub c_lflag: u32,
    pub c_line: u8,
    pub c_cc: [u8; 19],
}

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
pub struct WinSize {
    pub ws_row: u16,
    pub ws_col: u16,
    pub ws_xpixel: u16,
    pub ws_ypixel: u16,
}

impl Termios {
    /// Linux's defaults for a new terminal.
    const fn default_linux() -> Self {
        Termios {
            c_iflag: 0o400 | 0o2000,           // ICRNL | IXON
            c_oflag: OPOST | ONLCR,
            c_cflag: 0o17 | 0o60 | 0o200 | 0o2000, // B38400 | CS8 | CREAD | HUPCL
            c_lflag: 0o1 | ICANON | ECHO | ECHOE | 0o40 | 0o1000 | 0o4000 | 0o100000,
            c_line: 0,
            c_cc: [3, 0x1c, 0x7f, 0x15, 4, 0, 1, 0, 0x11, 0x13, 0x1a, 0, 0x12, 0xf, 0x17, 0x16, 0, 0, 0],
        }
    }
}

struct LineDiscipline {
    termios: Termios,
    winsize: WinSize,
    /// Input ready for readers.
    ready: VecDeque<u8>,
    /// The line being edited (canonical mode).
    line: VecDeque<u8>,
    /// End-of-file marks pending in `ready` (^D in canonical mode).
    eof_pending: usize,
    foreground_pgrp: i32,
}

pub struct Tty {
    uart: Uart,
    ldisc: Mutex<LineDiscipline>,
    readers: WaitQueue,
}

static CONSOLE: Once<Arc<Tty>> = Once::new();

pub fn console() -> &'static Arc<Tty> {
    CONSOLE.call_once(|| {
        let uart = Uart::new(COM1);
        uart.init(true);
        Arc::new(Tty {
            uart,
            ldisc: Mutex::new(LineDiscipline {
                termios: Termios::default_linux(),
                winsize: WinSize { ws_row: 24, ws_col: 80, ws_xpixel: 0, ws_ypixel: 0 },
                ready: VecDeque::new(),
                line: VecDeque::new(),
                eof_pending: 0,
                foreground_pgrp: 1,
            }),
            readers: WaitQueue::new(),
        })
    })
}

impl Tty {
    /// Receive interrupt: drain the UART through the line discipline.
    pub fn on_receive_interrupt(&self) {
        let mut woke = false;
        while let Some(byte) = self.uart.try_read_byte() {
            woke |= self.receive(byte);
        }
        if woke {
            self.readers.wake_all();
        }
    }

    fn receive(&self, mut byte: u8) -> bool {
        let mut ld = self.ldisc.lock();
        let t = ld.termios;
        if byte == b'\r' {
            if t.c_iflag & IGNCR != 0 {
                return false;
            }
            if t.c_iflag & ICRNL != 0 {
                byte = b'\n';
            }
        } else if byte == b'\n' && t.c_iflag & INLCR != 0 {
            byte = b'\r';
        }
        let echo = t.c_lflag & ECHO != 0;
        if t.c_lflag & ICANON == 0 {
            ld.ready.push_back(byte);
            drop(ld);
            if echo {
                self.output(&[byte]);
            }
            return true;
        }
        if byte == t.c_cc[VERASE] || byte == 8 {
            if ld.line.pop_back().is_some() && echo && t.c_lflag & ECHOE != 0 {
                drop(ld);
                self.output(b"\x08 \x08");
            }
            return false;
        }
        if byte == t.c_cc[VKILL] {
            let n = ld.line.len();
            ld.line.clear();
            drop(ld);
            if echo {
                for _ in 0..n {
                    self.output(b"\x08 \x08");
                }
            }
            return false;
        }
        if byte == t.c_cc[VEOF] {
            let line: VecDeque<u8> = core::mem::take(&mut ld.line);
            ld.ready.extend(line);
            ld.eof_pending += 1;
            return true;
        }
        ld.line.push_back(byte);
        let complete = byte == b'\n';
        if complete {
            let line: VecDeque<u8> = core::mem::take(&mut ld.line);
            ld.ready.extend(line);
        }
        drop(ld);
        if echo {
            self.output(&[byte]);
        }
        complete
    }

    /// Writes to the terminal with output processing (NL → CR NL).
    fn output(&self, bytes: &[u8]) {
        let t = self.ldisc.lock().termios;
        let onlcr = t.c_oflag & OPOST != 0 && t.c_oflag & ONLCR != 0;
        for &b in bytes {
            if b == b'\n' && onlcr {
                self.uart.write_byte(b'\r');
            }
            self.uart.write_byte(b);
        }
    }

    /// Takes input for a reader: a line in canonical mode, what is there otherwise.
    fn take_input(&self, out: &mut [u8]) -> Option<usize> {
        let mut ld = self.ldisc.lock();
        let canonical = ld.termios.c_lflag & ICANON != 0;
        if ld.ready.is_empty() {
            if canonical && ld.eof_pending > 0 {
                ld.eof_pending -= 1;
                return Some(0);
            }
            return None;
        }
        let mut n = 0;
        while n < out.len() {
            let Some(b) = ld.ready.pop_front() else { break };
            out[n] = b;
            n += 1;
            if canonical && b == b'\n' {
                break;
            }
        }
        Some(n)
    }
}

impl FileLike for Tty {
    fn read(&self, buf: UserSlice, _offset: u64, nonblock: bool) -> Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let mut tmp = [0u8; 256];
        let want = buf.len().min(tmp.len());
        let n = if nonblock {
            self.take_input(&mut tmp[..want]).ok_or(Errno::EAGAIN)?
        } else {
            self.readers.wait_until(|| self.take_input(&mut tmp[..want]), None).map_err(|e| match e {
                WaitError::Interrupted => Errno::ERESTARTSYS,
                WaitError::TimedOut => Errno::EAGAIN,
            })?
        };
        buf.write(&tmp[..n])?;
        Ok(n)
    }

    fn write(&self, buf: UserSlice, _offset: u64, _nonblock: bool) -> Result<usize> {
        let mut chunk = [0u8; 512];
        let mut done = 0;
        while done < buf.len() {
            let n = (buf.len() - done).min(chunk.len());
            buf.skip(done).take(n).read(&mut chunk[..n])?;
            self.output(&chunk[..n]);
            done += n;
        }
        Ok(done)
    }

    fn ioctl(&self, cmd: u32, arg: u64) -> Result<i64> {
        match cmd {
            TCGETS => UserPtr::<Termios>::new(arg).write(&self.ldisc.lock().termios).map(|_| 0),
            TCSETS | TCSETSW | TCSETSF => {
                let t = UserPtr::<Termios>::new(arg).read()?;
                let mut ld = self.ldisc.lock();
                ld.termios = t;
                if cmd == TCSETSF {
                    ld.ready.clear();
                    ld.line.clear();
                }
                Ok(0)
            }
            TIOCGWINSZ => UserPtr::<WinSize>::new(arg).write(&self.ldisc.lock().winsize).map(|_| 0),
            TIOCSWINSZ => {
                let w = UserPtr::<WinSize>::new(arg).read()?;
                self.ldisc.lock().winsize = w;
                Ok(0)
            }
            TIOCGPGRP => UserPtr::<i32>::new(arg).write(&self.ldisc.lock().foreground_pgrp).map(|_| 0),
            TIOCSPGRP => {
                let p = UserPtr::<i32>::new(arg).read()?;
                self.ldisc.lock().foreground_pgrp = p;
                Ok(0)
            }
            FIONREAD => {
                let n = self.ldisc.lock().ready.len() as i32;
                UserPtr::<i32>::new(arg).write(&n).map(|_| 0)
            }
            _ => Err(Errno::ENOTTY),
        }
    }

    fn metadata(&self) -> Metadata {
        Metadata {
            dev: 5,
            ino: 3,
            mode: S_IFCHR | 0o620,
            nlink: 1,
            rdev: (4 << 8) | 64, // ttyS0
            blksize: 1024,
            ..Metadata::default()
        }
    }
}
