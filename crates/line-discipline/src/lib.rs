//! The line discipline (Linux's N_TTY) that every terminal shares, the console and each pty
//! slave: termios, canonical line editing (erase, word-erase, kill, ^D), raw mode, CR/NL input
//! translation, echo, the ISIG characters, and output processing (ONLCR). It is pure state: the
//! terminal (the kernel's `Tty`) locks it, feeds it input bytes and sends what it asks to echo to
//! its device; the flow-control characters (IXON's ^S/^Q) and the signals' targets are the
//! terminal's business, not this crate's.

#![no_std]

extern crate alloc;
#[cfg(test)]
extern crate std;

#[cfg(test)]
mod tests;

use alloc::collections::VecDeque;
use alloc::vec::Vec;

use bytemuck::{Pod, Zeroable};

pub const ICRNL: u32 = 0o400;
pub const INLCR: u32 = 0o100;
pub const IGNCR: u32 = 0o200;
pub const OPOST: u32 = 0o1;
pub const ONLCR: u32 = 0o4;
pub const ISIG: u32 = 0o1;
pub const ICANON: u32 = 0o2;
pub const ECHO: u32 = 0o10;
pub const ECHOE: u32 = 0o20;
pub const ECHOK: u32 = 0o40;
pub const ECHONL: u32 = 0o100;
pub const NOFLSH: u32 = 0o200;
pub const TOSTOP: u32 = 0o400;
pub const ECHOCTL: u32 = 0o1000;
const VINTR: usize = 0;
const VQUIT: usize = 1;
const VERASE: usize = 2;
const VKILL: usize = 3;
const VEOF: usize = 4;
const VSUSP: usize = 10;
const VWERASE: usize = 14;

pub const SIGINT: u32 = 2;
pub const SIGQUIT: u32 = 3;
pub const SIGTSTP: u32 = 20;

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
#[derive(Clone, Copy, Debug, Pod, Zeroable, PartialEq, Eq)]
pub struct WinSize {
    pub ws_row: u16,
    pub ws_col: u16,
    pub ws_xpixel: u16,
    pub ws_ypixel: u16,
}

impl Termios {
    /// Linux's defaults for a new terminal (tty_std_termios).
    pub const fn default_linux() -> Self {
        Termios {
            c_iflag: ICRNL | 0o2000, // ICRNL | IXON
            c_oflag: OPOST | ONLCR,
            c_cflag: 0o17 | 0o60 | 0o200 | 0o2000, // B38400 | CS8 | CREAD | HUPCL
            c_lflag: ISIG | ICANON | ECHO | ECHOE | ECHOK | ECHOCTL | 0o4000 | 0o100000, // + ECHOKE | IEXTEN
            c_line: 0,
            c_cc: [
                3, 0x1c, 0x7f, 0x15, 4, 0, 1, 0, 0x11, 0x13, 0x1a, 0, 0x12, 0xf, 0x17, 0x16, 0, 0,
                0,
            ],
        }
    }

    pub fn canonical(&self) -> bool {
        self.c_lflag & ICANON != 0
    }

    /// Output processing: NL → CR NL under OPOST|ONLCR.
    pub fn process_output(&self, bytes: &[u8], out: &mut Vec<u8>) {
        let onlcr = self.c_oflag & OPOST != 0 && self.c_oflag & ONLCR != 0;
        for &b in bytes {
            if b == b'\n' && onlcr {
                out.push(b'\r');
            }
            out.push(b);
        }
    }

    /// How many bytes `b` becomes after output processing.
    pub fn output_len(&self, b: u8) -> usize {
        if b == b'\n' && self.c_oflag & OPOST != 0 && self.c_oflag & ONLCR != 0 {
            2
        } else {
            1
        }
    }
}

/// What the line discipline did with one input byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Input {
    Nothing,
    /// Readers may proceed.
    Ready,
    /// Send this signal to the foreground group.
    Signal(u32),
}

pub struct LineDiscipline {
    pub termios: Termios,
    pub winsize: WinSize,
    /// Input ready for readers.
    ready: VecDeque<u8>,
    /// The line being edited (canonical mode).
    line: VecDeque<u8>,
    /// End-of-file marks pending (^D on an empty line), consumed by reads that find no data.
    eof_pending: usize,
    /// Longest line kept in canonical mode; later characters are dropped until the line ends, as
    /// Linux's 4095 (the console keeps no bound: its input comes from a person typing).
    max_line: usize,
}

impl LineDiscipline {
    pub fn new(winsize: WinSize, max_line: usize) -> Self {
        LineDiscipline {
            termios: Termios::default_linux(),
            winsize,
            ready: VecDeque::new(),
            line: VecDeque::new(),
            eof_pending: 0,
            max_line,
        }
    }

    /// Bytes held: readable ones and the line being edited.
    pub fn held(&self) -> usize {
        self.ready.len() + self.line.len()
    }

    /// Bytes a read can take now (FIONREAD).
    pub fn readable_len(&self) -> usize {
        self.ready.len()
    }

    /// Would a read find something (data, or an end-of-file mark in canonical mode)?
    pub fn input_ready(&self) -> bool {
        !self.ready.is_empty() || (self.termios.canonical() && self.eof_pending > 0)
    }

    /// Is a canonical line being edited with nothing readable (so a full buffer must still take
    /// input, dropping it, or the line could never end)?
    pub fn only_partial_line(&self) -> bool {
        self.termios.canonical() && self.ready.is_empty()
    }

    pub fn flush_input(&mut self) {
        self.ready.clear();
        self.line.clear();
        self.eof_pending = 0;
    }

    /// TCSETS*: the new settings; `flush` (TCSETSF) discards pending input.
    pub fn set_termios(&mut self, t: Termios, flush: bool) {
        let was_canonical = self.termios.canonical();
        self.termios = t;
        if flush {
            self.flush_input();
        } else if was_canonical && !t.canonical() {
            // Leaving canonical mode makes the partial line readable.
            let line: VecDeque<u8> = core::mem::take(&mut self.line);
            self.ready.extend(line);
        }
    }

    fn echo_control(&self, byte: u8, echo: &mut Vec<u8>) {
        let t = &self.termios;
        if t.c_lflag & ECHO != 0 && t.c_lflag & ECHOCTL != 0 {
            echo.extend_from_slice(&[b'^', byte ^ 0x40]);
        }
    }

    /// One input byte; what should be echoed (before output processing) goes to `echo`.
    pub fn receive(&mut self, mut byte: u8, echo: &mut Vec<u8>) -> Input {
        let t = self.termios;
        if byte == b'\r' {
            if t.c_iflag & IGNCR != 0 {
                return Input::Nothing;
            }
            if t.c_iflag & ICRNL != 0 {
                byte = b'\n';
            }
        } else if byte == b'\n' && t.c_iflag & INLCR != 0 {
            byte = b'\r';
        }
        if t.c_lflag & ISIG != 0 {
            let sig = if byte == t.c_cc[VINTR] {
                Some(SIGINT)
            } else if byte == t.c_cc[VQUIT] {
                Some(SIGQUIT)
            } else if byte == t.c_cc[VSUSP] {
                Some(SIGTSTP)
            } else {
                None
            };
            if let Some(sig) = sig {
                if t.c_lflag & NOFLSH == 0 {
                    self.ready.clear();
                    self.line.clear();
                }
                self.echo_control(byte, echo);
                return Input::Signal(sig);
            }
        }
        let echoing = t.c_lflag & ECHO != 0;
        if !t.canonical() {
            self.ready.push_back(byte);
            if echoing {
                echo.push(byte);
            }
            return Input::Ready;
        }
        if byte == t.c_cc[VERASE] || byte == 8 {
            if self.line.pop_back().is_some() && echoing && t.c_lflag & ECHOE != 0 {
                echo.extend_from_slice(b"\x08 \x08");
            }
            return Input::Nothing;
        }
        if byte == t.c_cc[VWERASE] {
            let mut n = 0;
            while self.line.back().is_some_and(|&c| c == b' ') {
                self.line.pop_back();
                n += 1;
            }
            while self.line.back().is_some_and(|&c| c != b' ') {
                self.line.pop_back();
                n += 1;
            }
            if echoing {
                for _ in 0..n {
                    echo.extend_from_slice(b"\x08 \x08");
                }
            }
            return Input::Nothing;
        }
        if byte == t.c_cc[VKILL] {
            let n = self.line.len();
            self.line.clear();
            if echoing && t.c_lflag & ECHOK != 0 {
                for _ in 0..n {
                    echo.extend_from_slice(b"\x08 \x08");
                }
            }
            return Input::Nothing;
        }
        if byte == t.c_cc[VEOF] {
            let line: VecDeque<u8> = core::mem::take(&mut self.line);
            if line.is_empty() {
                self.eof_pending += 1;
            }
            self.ready.extend(line);
            return Input::Ready;
        }
        let complete = byte == b'\n';
        if !complete && self.line.len() >= self.max_line {
            return Input::Nothing;
        }
        self.line.push_back(byte);
        if complete {
            let line: VecDeque<u8> = core::mem::take(&mut self.line);
            self.ready.extend(line);
        }
        if echoing || (complete && t.c_lflag & ECHONL != 0) {
            echo.push(byte);
        }
        if complete {
            Input::Ready
        } else {
            Input::Nothing
        }
    }

    /// Takes input for a reader: up to a line in canonical mode, what is there otherwise.
    /// `Some(0)` is end of file.
    pub fn take_input(&mut self, out: &mut [u8]) -> Option<usize> {
        let canonical = self.termios.canonical();
        if self.ready.is_empty() {
            if canonical && self.eof_pending > 0 {
                self.eof_pending -= 1;
                return Some(0);
            }
            return None;
        }
        let mut n = 0;
        while n < out.len() {
            let Some(b) = self.ready.pop_front() else { break };
            out[n] = b;
            n += 1;
            if canonical && b == b'\n' {
                break;
            }
        }
        Some(n)
    }
}
