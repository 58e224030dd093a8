//! The serial console as a terminal: a line discipline (canonical and raw modes, echo, erase,
//! kill, end-of-file, CR/NL translation, ^C/^\/^Z as signals) between the UART and its readers,
//! and the job-control rules of a controlling terminal (foreground process group, SIGTTIN/SIGTTOU).

use alloc::collections::VecDeque;
use alloc::sync::Arc;

use bytemuck::{Pod, Zeroable};
use spin::Once;

use super::file::FileLike;
use super::inode::{Metadata, S_IFCHR};
use crate::arch::serial::{Uart, COM1};
use crate::error::{Errno, Result};
use crate::event::{IoEvents, Poller, Pollee};
use crate::mm::user::{UserPtr, UserSlice};
use crate::sync::Mutex;
use crate::task::{WaitError, WaitQueue};

pub const TCGETS: u32 = 0x5401;
pub const TCSETS: u32 = 0x5402;
pub const TCSETSW: u32 = 0x5403;
pub const TCSETSF: u32 = 0x5404;
pub const TCFLSH: u32 = 0x540b;
pub const TIOCSCTTY: u32 = 0x540e;
pub const TIOCGPGRP: u32 = 0x540f;
pub const TIOCSPGRP: u32 = 0x5410;
pub const TIOCOUTQ: u32 = 0x5411;
pub const TIOCGWINSZ: u32 = 0x5413;
pub const TIOCSWINSZ: u32 = 0x5414;
pub const FIONREAD: u32 = 0x541b;
pub const TIOCNOTTY: u32 = 0x5422;
pub const TIOCGSID: u32 = 0x5429;
pub const FIONBIO: u32 = 0x5421;

const ICRNL: u32 = 0o400;
const INLCR: u32 = 0o100;
const IGNCR: u32 = 0o200;
const OPOST: u32 = 0o1;
const ONLCR: u32 = 0o4;
const ISIG: u32 = 0o1;
const ICANON: u32 = 0o2;
const ECHO: u32 = 0o10;
const ECHOE: u32 = 0o20;
const ECHOK: u32 = 0o40;
const ECHONL: u32 = 0o100;
const NOFLSH: u32 = 0o200;
const TOSTOP: u32 = 0o400;
const ECHOCTL: u32 = 0o1000;
const VINTR: usize = 0;
const VQUIT: usize = 1;
const VERASE: usize = 2;
const VKILL: usize = 3;
const VEOF: usize = 4;
const VSUSP: usize = 10;
const VWERASE: usize = 14;

const SIGINT: u32 = 2;
const SIGQUIT: u32 = 3;
const SIGTSTP: u32 = 20;
const SIGTTIN: u32 = 21;
const SIGTTOU: u32 = 22;
const SIGWINCH: u32 = 28;

/// How the terminal reaches processes (installed by `process`, which sits above `fs`).
pub trait JobControl: Send + Sync {
    /// (pgid, sid) of the calling process.
    fn caller_ids(&self) -> (u32, u32);
    /// Does the calling process have `tty` as its controlling terminal?
    fn caller_has_ctty(&self, tty: &Arc<Tty>) -> bool;
    /// Makes `tty` the caller's controlling terminal (TIOCSCTTY); the caller is a session leader.
    fn set_caller_ctty(&self, tty: &Arc<Tty>) -> Result<()>;
    fn drop_caller_ctty(&self);
    /// Sends `sig` to every process of group `pgid`.
    fn signal_group(&self, pgid: u32, sig: u32);
    /// Does the caller block or ignore `sig`?
    fn caller_blocks_or_ignores(&self, sig: u32) -> bool;
    /// Does group `pgid` exist in session `sid`?
    fn group_in_session(&self, pgid: u32, sid: u32) -> bool;
}

static JOB_CONTROL: Once<&'static dyn JobControl> = Once::new();

pub fn set_job_control(j: &'static dyn JobControl) {
    JOB_CONTROL.call_once(|| j);
}

fn jobs() -> Option<&'static dyn JobControl> {
    JOB_CONTROL.get().copied()
}

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
            c_iflag: ICRNL | 0o2000, // ICRNL | IXON
            c_oflag: OPOST | ONLCR,
            c_cflag: 0o17 | 0o60 | 0o200 | 0o2000, // B38400 | CS8 | CREAD | HUPCL
            c_lflag: ISIG | ICANON | ECHO | ECHOE | ECHOK | ECHOCTL | 0o4000 | 0o100000, // + ECHOKE | IEXTEN
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
    /// End-of-file marks pending (^D on an empty line), consumed by reads that find no data.
    eof_pending: usize,
    /// The session this terminal controls (0: none) and its foreground process group.
    session: u32,
    foreground: u32,
}

pub struct Tty {
    uart: Uart,
    ldisc: Mutex<LineDiscipline>,
    readers: WaitQueue,
    pollee: Pollee,
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
                session: 0,
                foreground: 0,
            }),
            readers: WaitQueue::new(),
            pollee: Pollee::new(),
        })
    })
}

/// What the line discipline did with one input byte.
enum Input {
    Nothing,
    /// Readers may proceed.
    Ready,
    /// Send this signal to the foreground group.
    Signal(u32),
}

impl Tty {
    /// Makes this the controlling terminal of session `sid` with foreground group `pgrp`.
    pub fn set_session(&self, sid: u32, pgrp: u32) {
        let mut ld = self.ldisc.lock();
        ld.session = sid;
        ld.foreground = pgrp;
    }

    /// The session leader gave the terminal up (or exited).
    pub fn clear_session(&self, sid: u32) {
        let mut ld = self.ldisc.lock();
        if ld.session == sid {
            ld.session = 0;
            ld.foreground = 0;
        }
    }

    pub fn session(&self) -> u32 {
        self.ldisc.lock().session
    }

    pub fn foreground(&self) -> u32 {
        self.ldisc.lock().foreground
    }

    /// Receive interrupt: drain the UART through the line discipline.
    pub fn on_receive_interrupt(&self) {
        let mut ready = false;
        while let Some(byte) = self.uart.try_read_byte() {
            match self.receive(byte) {
                Input::Nothing => {}
                Input::Ready => ready = true,
                Input::Signal(sig) => {
                    let fg = self.foreground();
                    if let (Some(j), true) = (jobs(), fg != 0) {
                        j.signal_group(fg, sig);
                    }
                    ready = true;
                }
            }
        }
        if ready {
            self.readers.wake_all();
            self.pollee.notify(IoEvents::IN);
        }
    }

    fn input_ready(&self) -> bool {
        let ld = self.ldisc.lock();
        !ld.ready.is_empty() || (ld.termios.c_lflag & ICANON != 0 && ld.eof_pending > 0)
    }

    fn echo_control(&self, byte: u8, t: &Termios) {
        if t.c_lflag & ECHO != 0 && t.c_lflag & ECHOCTL != 0 {
            self.output(&[b'^', byte ^ 0x40]);
        }
    }

    fn receive(&self, mut byte: u8) -> Input {
        let mut ld = self.ldisc.lock();
        let t = ld.termios;
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
                    ld.ready.clear();
                    ld.line.clear();
                }
                drop(ld);
                self.echo_control(byte, &t);
                return Input::Signal(sig);
            }
        }
        let echo = t.c_lflag & ECHO != 0;
        if t.c_lflag & ICANON == 0 {
            ld.ready.push_back(byte);
            drop(ld);
            if echo {
                self.output(&[byte]);
            }
            return Input::Ready;
        }
        if byte == t.c_cc[VERASE] || byte == 8 {
            if ld.line.pop_back().is_some() && echo && t.c_lflag & ECHOE != 0 {
                drop(ld);
                self.output(b"\x08 \x08");
            }
            return Input::Nothing;
        }
        if byte == t.c_cc[VWERASE] {
            let mut n = 0;
            while ld.line.back().is_some_and(|&c| c == b' ') {
                ld.line.pop_back();
                n += 1;
            }
            while ld.line.back().is_some_and(|&c| c != b' ') {
                ld.line.pop_back();
                n += 1;
            }
            drop(ld);
            if echo {
                for _ in 0..n {
                    self.output(b"\x08 \x08");
                }
            }
            return Input::Nothing;
        }
        if byte == t.c_cc[VKILL] {
            let n = ld.line.len();
            ld.line.clear();
            drop(ld);
            if echo && t.c_lflag & ECHOK != 0 {
                for _ in 0..n {
                    self.output(b"\x08 \x08");
                }
            }
            return Input::Nothing;
        }
        if byte == t.c_cc[VEOF] {
            let line: VecDeque<u8> = core::mem::take(&mut ld.line);
            if line.is_empty() {
                ld.eof_pending += 1;
            }
            ld.ready.extend(line);
            return Input::Ready;
        }
        ld.line.push_back(byte);
        let complete = byte == b'\n';
        if complete {
            let line: VecDeque<u8> = core::mem::take(&mut ld.line);
            ld.ready.extend(line);
        }
        drop(ld);
        if echo || (complete && t.c_lflag & ECHONL != 0) {
            self.output(&[byte]);
        }
        if complete { Input::Ready } else { Input::Nothing }
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

    /// Takes input for a reader: up to a line in canonical mode, what is there otherwise.
    /// `Some(0)` is end of file.
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

    /// Job control for a reader or writer: a background process of this terminal's session gets
    /// SIGTTIN/SIGTTOU (and the call restarts once it is continued), or EIO if it ignores them.
    fn check_background(self: &Arc<Self>, sig: u32) -> Result<()> {
        let Some(j) = jobs() else { return Ok(()) };
        if !j.caller_has_ctty(self) {
            return Ok(());
        }
        let (pgid, _) = j.caller_ids();
        let fg = self.foreground();
        if fg == 0 || pgid == fg {
            return Ok(());
        }
        if j.caller_blocks_or_ignores(sig) {
            return if sig == SIGTTIN { Err(Errno::EIO) } else { Ok(()) };
        }
        j.signal_group(pgid, sig);
        Err(Errno::ERESTARTSYS)
    }

    fn set_foreground(self: &Arc<Self>, pgrp: i32) -> Result<()> {
        let j = jobs().ok_or(Errno::ENOTTY)?;
        if !j.caller_has_ctty(self) {
            return Err(Errno::ENOTTY);
        }
        if pgrp < 0 {
            return Err(Errno::EINVAL);
        }
        let (_, sid) = j.caller_ids();
        if sid != self.session() {
            return Err(Errno::ENOTTY);
        }
        if !j.group_in_session(pgrp as u32, sid) {
            return Err(Errno::EPERM);
        }
        // A background process changing the foreground group gets SIGTTOU unless it ignores it.
        self.check_background(SIGTTOU)?;
        self.ldisc.lock().foreground = pgrp as u32;
        Ok(())
    }
}

/// The console's open file (a `Tty` handle that knows it is an Arc, for job control).
impl FileLike for Arc<Tty> {
    fn read(&self, buf: UserSlice, _offset: u64, nonblock: bool) -> Result<usize> {
        self.check_background(SIGTTIN)?;
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

    fn is_pollable(&self) -> bool {
        true
    }

    fn poll(&self, mask: IoEvents, poller: Option<&Poller>) -> IoEvents {
        if let Some(p) = poller {
            p.watch(&self.pollee, mask);
        }
        let mut ev = IoEvents::writable();
        if self.input_ready() {
            ev |= IoEvents::readable();
        }
        ev
    }

    fn write_kernel(&self, data: &[u8], _offset: u64, _nonblock: bool) -> Option<Result<usize>> {
        if self.ldisc.lock().termios.c_lflag & TOSTOP != 0 {
            if let Err(e) = self.check_background(SIGTTOU) {
                return Some(Err(e));
            }
        }
        self.output(data);
        Some(Ok(data.len()))
    }

    fn write(&self, buf: UserSlice, _offset: u64, _nonblock: bool) -> Result<usize> {
        if self.ldisc.lock().termios.c_lflag & TOSTOP != 0 {
            self.check_background(SIGTTOU)?;
        }
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
                let was_canonical = ld.termios.c_lflag & ICANON != 0;
                ld.termios = t;
                if cmd == TCSETSF {
                    ld.ready.clear();
                    ld.line.clear();
                } else if was_canonical && t.c_lflag & ICANON == 0 {
                    // Leaving canonical mode makes the partial line readable.
                    let line: VecDeque<u8> = core::mem::take(&mut ld.line);
                    ld.ready.extend(line);
                }
                drop(ld);
                self.readers.wake_all();
                self.pollee.notify(IoEvents::IN);
                Ok(0)
            }
            TCFLSH => {
                let mut ld = self.ldisc.lock();
                if arg == 0 || arg == 2 {
                    ld.ready.clear();
                    ld.line.clear();
                }
                Ok(0)
            }
            TIOCGWINSZ => UserPtr::<WinSize>::new(arg).write(&self.ldisc.lock().winsize).map(|_| 0),
            TIOCSWINSZ => {
                let w = UserPtr::<WinSize>::new(arg).read()?;
                self.ldisc.lock().winsize = w;
                let fg = self.foreground();
                if let (Some(j), true) = (jobs(), fg != 0) {
                    j.signal_group(fg, SIGWINCH);
                }
                Ok(0)
            }
            TIOCGPGRP => {
                let j = jobs().ok_or(Errno::ENOTTY)?;
                if !j.caller_has_ctty(self) {
                    return Err(Errno::ENOTTY);
                }
                UserPtr::<i32>::new(arg).write(&(self.foreground() as i32)).map(|_| 0)
            }
            TIOCSPGRP => {
                let p = UserPtr::<i32>::new(arg).read()?;
                self.set_foreground(p).map(|_| 0)
            }
            TIOCGSID => {
                let j = jobs().ok_or(Errno::ENOTTY)?;
                if !j.caller_has_ctty(self) {
                    return Err(Errno::ENOTTY);
                }
                UserPtr::<i32>::new(arg).write(&(self.session() as i32)).map(|_| 0)
            }
            TIOCSCTTY => {
                let j = jobs().ok_or(Errno::ENOTTY)?;
                j.set_caller_ctty(self).map(|_| 0)
            }
            TIOCNOTTY => {
                let j = jobs().ok_or(Errno::ENOTTY)?;
                if !j.caller_has_ctty(self) {
                    return Err(Errno::ENOTTY);
                }
                j.drop_caller_ctty();
                Ok(0)
            }
            FIONREAD => {
                let n = self.ldisc.lock().ready.len() as i32;
                UserPtr::<i32>::new(arg).write(&n).map(|_| 0)
            }
            TIOCOUTQ => UserPtr::<i32>::new(arg).write(&0).map(|_| 0),
            _ => Err(Errno::ENOTTY),
        }
    }

    fn metadata(&self) -> Metadata {
        Metadata { dev: 5, ino: 3, mode: S_IFCHR | 0o620, nlink: 1, rdev: (4 << 8) | 64, blksize: 1024, ..Metadata::default() }
    }
}
