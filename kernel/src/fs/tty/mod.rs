//! Terminals. A `Tty` is one terminal as processes see it: a line discipline (`ldisc.rs`) between
//! a device and its readers, plus the job-control rules of a controlling terminal (session,
//! foreground process group, SIGTTIN/SIGTTOU). Its device is a `TtyDriver`: the serial console
//! (`console.rs`) or the master side of a pseudo-terminal (`pty.rs`, with the devpts file system
//! in `devpts.rs`). docs/tty.md describes the design.

pub mod console;
pub mod devpts;
pub mod ldisc;
pub mod pty;

use alloc::sync::Arc;
use alloc::vec::Vec;

use spin::Once;

use super::file::FileLike;
use super::inode::Metadata;
use crate::error::{Errno, Result};
use crate::event::{IoEvents, Pollee, Poller};
use crate::mm::io::{VmReader, VmWriter};
use crate::mm::user::UserPtr;
use crate::sync::Mutex;
use crate::task::WaitError;

pub use console::console;
use ldisc::{Input, LineDiscipline, Termios, WinSize, TOSTOP};

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

pub const SIGHUP: u32 = 1;
pub const SIGCONT: u32 = 18;
const SIGTTIN: u32 = 21;
const SIGTTOU: u32 = 22;
const SIGWINCH: u32 = 28;

/// How the terminal reaches processes (installed by `process`, which sits above `fs`).
pub trait JobControl: Send + Sync {
    /// (pgid, sid) of the calling process.
    fn caller_ids(&self) -> (u32, u32);
    /// (fsuid, fsgid) of the calling process: the owner of a new pty slave.
    fn caller_fs_ids(&self) -> (u32, u32);
    /// Does the calling process have `tty` as its controlling terminal?
    fn caller_has_ctty(&self, tty: &Arc<Tty>) -> bool;
    /// Makes `tty` the caller's controlling terminal (TIOCSCTTY); the caller is a session leader.
    fn set_caller_ctty(&self, tty: &Arc<Tty>) -> Result<()>;
    /// open(2) without O_NOCTTY: a session leader without a controlling terminal acquires `tty`
    /// if no session has it (Linux does this for every terminal but the console and /dev/tty).
    fn acquire_on_open(&self, tty: &Arc<Tty>);
    fn drop_caller_ctty(&self);
    /// The terminal hung up (a pty's master closed): every process loses it as its controlling
    /// terminal, and the session leaders get SIGHUP and SIGCONT (Linux's __tty_hangup).
    fn hangup(&self, tty: &Arc<Tty>);
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

pub(crate) fn jobs() -> Option<&'static dyn JobControl> {
    JOB_CONTROL.get().copied()
}

/// The device under a terminal: where its output goes.
pub trait TtyDriver: Send + Sync {
    /// Takes output that is already processed; never blocks (a pty keeps what fits in
    /// `output_room`, and echo beyond it is dropped as Linux drops it).
    fn write_output(&self, bytes: &[u8]);
    /// Bytes of output the device takes now without dropping any.
    fn output_room(&self) -> usize;
    /// The other end is gone (a pty whose master closed): reads see end of file, writes EIO.
    fn hung_up(&self) -> bool {
        false
    }
    /// A reader took input (a pty master blocked on a full input buffer may go on).
    fn input_consumed(&self) {}
    /// TCFLSH (or TCSETSF) flushed the terminal's input and/or output: a pty master in packet
    /// mode hears of it.
    fn flushed(&self, _input: bool, _output: bool) {}
    /// The settings changed (a pty master in packet mode hears of flow-control changes).
    fn termios_changed(&self, _old: &Termios, _new: &Termios) {}
    /// Output was stopped (^S, TCOOFF) or started again (^Q, TCOON).
    fn output_stopped(&self, _stopped: bool) {}
    /// What fstat says about an open file of this terminal.
    fn metadata(&self) -> Metadata;
    /// The device number (/proc/<pid>/stat's tty_nr).
    fn rdev(&self) -> u64;
    /// A new open file for this terminal (its device node, /dev/tty).
    fn open(&self, tty: &Arc<Tty>) -> Result<Arc<dyn FileLike>>;
    /// A pseudo-terminal slave (acquired as controlling terminal on open, hung up when its
    /// session leader exits).
    fn is_pty(&self) -> bool {
        false
    }
}

/// Which side of a terminal an ioctl came from: the terminal itself (the console, a pty slave)
/// or a pty master acting on its slave (Linux's `tty_pair_get_tty`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Terminal,
    Master,
}

/// The session this terminal controls (0: none) and its foreground process group.
#[derive(Default)]
struct Control {
    session: u32,
    foreground: u32,
}

pub struct Tty {
    driver: Arc<dyn TtyDriver>,
    ldisc: Mutex<LineDiscipline>,
    control: Mutex<Control>,
    /// Bound on input held (Linux's N_TTY_BUF_SIZE for ptys; none for the console).
    input_limit: usize,
    /// Readers waiting for input and writers waiting for output room sleep here; pollers
    /// watch it.
    pollee: Pollee,
    /// Output flow control: stopped by ^S (IXON) or TCOOFF (`by_tcooff`, which only TCOON
    /// ends). Writers wait and echo is held meanwhile, as Linux's `tty->flow`.
    flow: Mutex<Flow>,
}

#[derive(Default)]
struct Flow {
    stopped: bool,
    by_tcooff: bool,
    /// Echo produced while stopped, written out when output starts again.
    held_echo: Vec<u8>,
}

/// How much echo is held while output is stopped; more is dropped, as a full echo buffer is.
const HELD_ECHO_LIMIT: usize = 4096;
const IXON: u32 = 0o2000;
const IXANY: u32 = 0o4000;
const VSTART: usize = 8;
const VSTOP: usize = 9;
pub const TCXONC: u32 = 0x540a;

impl Tty {
    pub fn new(driver: Arc<dyn TtyDriver>, ldisc: LineDiscipline, input_limit: usize) -> Arc<Tty> {
        Arc::new(Tty {
            driver,
            ldisc: Mutex::new(ldisc),
            control: Mutex::new(Control::default()),
            input_limit,
            pollee: Pollee::new(),
            flow: Mutex::new(Flow::default()),
        })
    }

    /// Room for output now: none while output is stopped.
    fn output_room(&self) -> usize {
        if self.flow.lock().stopped {
            0
        } else {
            self.driver.output_room()
        }
    }

    /// ^S or TCOOFF.
    fn stop_output(&self, by_tcooff: bool) {
        {
            let mut f = self.flow.lock();
            f.by_tcooff |= by_tcooff;
            if f.stopped {
                return;
            }
            f.stopped = true;
        }
        self.driver.output_stopped(true);
    }

    /// ^Q (`by_tcoon` false: not if TCOOFF stopped it) or TCOON: writers go on, held echo
    /// goes out.
    fn start_output(&self, by_tcoon: bool) {
        let held = {
            let mut f = self.flow.lock();
            if !f.stopped || (f.by_tcooff && !by_tcoon) {
                return;
            }
            f.stopped = false;
            f.by_tcooff = false;
            core::mem::take(&mut f.held_echo)
        };
        self.driver.output_stopped(false);
        if !held.is_empty() {
            let room = self.driver.output_room();
            self.driver.write_output(&held[..held.len().min(room)]);
        }
        self.pollee.notify(IoEvents::OUT);
    }

    /// Linux's n_tty flow-control characters: under IXON, VSTART starts output, VSTOP stops it,
    /// and neither is input; under IXANY any other character starts it too. True if `byte` was
    /// a flow-control character (and is consumed).
    fn flow_control(&self, byte: u8) -> bool {
        let t = self.ldisc.lock().termios;
        if t.c_iflag & IXON == 0 {
            return false;
        }
        let (start, stop) = (t.c_cc[VSTART], t.c_cc[VSTOP]);
        if byte != 0 && byte == start {
            self.start_output(false);
            return true;
        }
        if byte != 0 && byte == stop {
            self.stop_output(false);
            return true;
        }
        if t.c_iflag & IXANY != 0 {
            self.start_output(false);
        }
        false
    }

    /// A new open file for this terminal (/dev/tty).
    pub fn open(self: &Arc<Self>) -> Result<Arc<dyn FileLike>> {
        self.driver.open(self)
    }

    pub fn rdev(&self) -> u64 {
        self.driver.rdev()
    }

    pub fn is_pty(&self) -> bool {
        self.driver.is_pty()
    }

    /// Makes this the controlling terminal of session `sid` with foreground group `pgrp`.
    pub fn set_session(&self, sid: u32, pgrp: u32) {
        let mut c = self.control.lock();
        c.session = sid;
        c.foreground = pgrp;
    }

    /// The session leader gave the terminal up (or exited).
    pub fn clear_session(&self, sid: u32) {
        let mut c = self.control.lock();
        if c.session == sid {
            c.session = 0;
            c.foreground = 0;
        }
    }

    pub fn session(&self) -> u32 {
        self.control.lock().session
    }

    pub fn foreground(&self) -> u32 {
        self.control.lock().foreground
    }

    pub(super) fn signal_foreground(&self, sig: u32) {
        let fg = self.foreground();
        if let (Some(j), true) = (jobs(), fg != 0) {
            j.signal_group(fg, sig);
        }
    }

    /// Input room left: 0 means a writer into this terminal must wait. A canonical line with
    /// nothing readable always takes more (the extra characters are dropped) so it can end.
    pub fn input_room(&self) -> usize {
        let ld = self.ldisc.lock();
        let held = ld.held();
        if held < self.input_limit {
            self.input_limit - held
        } else if ld.only_partial_line() {
            1
        } else {
            0
        }
    }

    /// Feeds input from the device through the line discipline, as much as there is room for
    /// (everything when unbounded); returns how many bytes it took. Echo goes to the device,
    /// ISIG characters signal the foreground group.
    pub fn receive(&self, bytes: &[u8]) -> usize {
        let mut echo = Vec::new();
        let mut ready = false;
        let mut taken = 0;
        for &b in bytes {
            if self.input_room() == 0 {
                break;
            }
            if self.flow_control(b) {
                taken += 1;
                continue;
            }
            let input = self.ldisc.lock().receive(b, &mut echo);
            taken += 1;
            match input {
                Input::Nothing => {}
                Input::Ready => ready = true,
                Input::Signal(sig) => {
                    self.echo(&mut echo);
                    self.signal_foreground(sig);
                    ready = true;
                }
            }
        }
        self.echo(&mut echo);
        if ready {
            self.pollee.notify(IoEvents::IN);
        }
        taken
    }

    fn echo(&self, echo: &mut Vec<u8>) {
        if echo.is_empty() {
            return;
        }
        let t = self.ldisc.lock().termios;
        let mut out = Vec::with_capacity(echo.len() + 4);
        t.process_output(echo, &mut out);
        echo.clear();
        {
            let mut f = self.flow.lock();
            if f.stopped {
                let keep = HELD_ECHO_LIMIT.saturating_sub(f.held_echo.len()).min(out.len());
                f.held_echo.extend_from_slice(&out[..keep]);
                return;
            }
        }
        let room = self.driver.output_room();
        self.driver.write_output(&out[..out.len().min(room)]);
    }

    /// The device made output room (a pty master read): wake blocked writers.
    pub fn output_drained(&self) {
        self.pollee.notify(IoEvents::OUT);
    }

    /// The device went away (a pty master closed): wake everyone, and hang up the session.
    pub fn hangup(self: &Arc<Self>) {
        if let Some(j) = jobs() {
            j.hangup(self);
        }
        *self.control.lock() = Control::default();
        self.pollee.notify(IoEvents::IN | IoEvents::OUT | IoEvents::ERR | IoEvents::HUP);
    }

    fn take_input(&self, out: &mut [u8]) -> Option<usize> {
        let n = self.ldisc.lock().take_input(out)?;
        self.driver.input_consumed();
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
        self.control.lock().foreground = pgrp as u32;
        Ok(())
    }

    /// read(2) on the terminal: a line (canonical) or what is there (raw); end of file once
    /// hung up (EIO for a read already waiting when it happens).
    pub fn read_input(self: &Arc<Self>, buf: &mut VmWriter, nonblock: bool) -> Result<usize> {
        if self.driver.hung_up() {
            return Ok(0);
        }
        self.check_background(SIGTTIN)?;
        if buf.is_empty() {
            return Ok(0);
        }
        let mut tmp = [0u8; 256];
        let want = buf.len().min(tmp.len());
        let n = if nonblock {
            self.take_input(&mut tmp[..want]).ok_or(Errno::EAGAIN)?
        } else {
            let got = self.pollee.wait_events(IoEvents::IN, None, || {
                if self.driver.hung_up() {
                    Some(None)
                } else {
                    self.take_input(&mut tmp[..want]).map(Some)
                }
            });
            match got.map_err(WaitError::restart_errno)? {
                Some(n) => n,
                // A reader caught by the hangup fails; later ones see end of file (Linux:
                // n_tty_read's TTY_OTHER_CLOSED check, then the hung-up file operations).
                None => return Err(Errno::EIO),
            }
        };
        buf.write(&tmp[..n])?;
        Ok(n)
    }

    /// Writes `data` with output processing, waiting for room on a pty; returns how much of
    /// `data` went out (less only when a non-blocking or interrupted write already wrote some).
    fn write_output(
        self: &Arc<Self>,
        data: &[u8],
        nonblock: bool,
        written_before: usize,
    ) -> Result<usize> {
        let mut done = 0;
        let mut out = Vec::new();
        while done < data.len() {
            if self.driver.hung_up() {
                return if done + written_before > 0 { Ok(done) } else { Err(Errno::EIO) };
            }
            let t = self.ldisc.lock().termios;
            // Room for the next byte after processing (NL may become CR NL).
            let fits = |room: usize| room >= 2 || (room == 1 && t.output_len(data[done]) == 1);
            let room = self.output_room();
            if !fits(room) {
                if done + written_before > 0 {
                    if nonblock {
                        return Ok(done);
                    }
                } else if nonblock {
                    return Err(Errno::EAGAIN);
                }
                let r = self.pollee.wait_events(IoEvents::OUT, None, || {
                    (self.driver.hung_up() || fits(self.output_room())).then_some(())
                });
                if let Err(e) = r {
                    return if done + written_before > 0 {
                        Ok(done)
                    } else {
                        Err(e.restart_errno())
                    };
                }
                continue;
            }
            out.clear();
            let mut n = 0;
            while done + n < data.len() {
                let b = data[done + n];
                if out.len() + t.output_len(b) > room {
                    break;
                }
                t.process_output(&[b], &mut out);
                n += 1;
            }
            self.driver.write_output(&out);
            done += n;
        }
        Ok(done)
    }

    fn check_tostop(self: &Arc<Self>) -> Result<()> {
        if self.ldisc.lock().termios.c_lflag & TOSTOP != 0 {
            self.check_background(SIGTTOU)?;
        }
        Ok(())
    }

    /// write(2) on the terminal, and splice's and sendfile's.
    pub fn write_from(self: &Arc<Self>, buf: &VmReader, nonblock: bool) -> Result<usize> {
        if self.driver.hung_up() {
            return Err(Errno::EIO);
        }
        self.check_tostop()?;
        let mut chunk = [0u8; 512];
        let mut done = 0;
        while done < buf.len() {
            let n = (buf.len() - done).min(chunk.len());
            buf.skip(done).take(n).read(&mut chunk[..n])?;
            let w = self.write_output(&chunk[..n], nonblock, done)?;
            done += w;
            if w < n {
                break;
            }
        }
        Ok(done)
    }

    pub fn poll_events(&self, mask: IoEvents, poller: Option<&Poller>) -> IoEvents {
        if let Some(p) = poller {
            p.watch(&self.pollee, mask);
        }
        if self.driver.hung_up() {
            return IoEvents::readable() | IoEvents::writable() | IoEvents::ERR | IoEvents::HUP;
        }
        let mut ev = IoEvents::empty();
        if self.output_room() >= 2 {
            ev |= IoEvents::writable();
        }
        if self.ldisc.lock().input_ready() {
            ev |= IoEvents::readable();
        }
        ev
    }

    /// The terminal ioctls, from the terminal itself or from a pty master (`side`).
    pub fn ioctl(self: &Arc<Self>, cmd: u32, arg: u64, side: Side) -> Result<i64> {
        if side == Side::Terminal && self.driver.hung_up() {
            // Linux's hung_up_tty_ioctl.
            return Err(if cmd == TIOCSPGRP { Errno::ENOTTY } else { Errno::EIO });
        }
        match cmd {
            TCGETS => UserPtr::<Termios>::new(arg).write(&self.ldisc.lock().termios).map(|_| 0),
            TCSETS | TCSETSW | TCSETSF => {
                let t = UserPtr::<Termios>::new(arg).read()?;
                let old = {
                    let mut ld = self.ldisc.lock();
                    let old = ld.termios;
                    ld.set_termios(t, cmd == TCSETSF);
                    old
                };
                self.driver.termios_changed(&old, &t);
                // Flow control turned off ends a ^S stop (not a TCOOFF one), as in Linux.
                if old.c_iflag & IXON != 0 && t.c_iflag & IXON == 0 {
                    self.start_output(false);
                }
                if cmd == TCSETSF {
                    self.driver.flushed(true, false);
                }
                self.driver.input_consumed();
                self.pollee.notify(IoEvents::IN);
                Ok(0)
            }
            TCXONC => {
                // TCOOFF, TCOON, TCIOFF, TCION (the last two send VSTOP/VSTART to the device).
                let t = self.ldisc.lock().termios;
                match arg {
                    0 => self.stop_output(true),
                    1 => self.start_output(true),
                    2 | 3 => {
                        let c = t.c_cc[if arg == 2 { VSTOP } else { VSTART }];
                        if c != 0 {
                            self.driver.write_output(&[c]);
                        }
                    }
                    _ => return Err(Errno::EINVAL),
                }
                Ok(0)
            }
            TCFLSH => {
                // TCIFLUSH, TCOFLUSH, TCIOFLUSH.
                if arg > 2 {
                    return Err(Errno::EINVAL);
                }
                let (input, output) = (arg != 1, arg != 0);
                if input {
                    self.ldisc.lock().flush_input();
                    self.driver.input_consumed();
                }
                self.driver.flushed(input, output);
                Ok(0)
            }
            TIOCGWINSZ => UserPtr::<WinSize>::new(arg).write(&self.ldisc.lock().winsize).map(|_| 0),
            TIOCSWINSZ => {
                let w = UserPtr::<WinSize>::new(arg).read()?;
                let changed = {
                    let mut ld = self.ldisc.lock();
                    let changed = ld.winsize != w;
                    ld.winsize = w;
                    changed
                };
                // Only a real change signals (Linux's tiocswinsz).
                if changed {
                    self.signal_foreground(SIGWINCH);
                }
                Ok(0)
            }
            TIOCGPGRP => {
                let j = jobs().ok_or(Errno::ENOTTY)?;
                // The master may ask about its slave without having it as controlling terminal.
                if side == Side::Terminal && !j.caller_has_ctty(self) {
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
                if side == Side::Terminal && !j.caller_has_ctty(self) {
                    return Err(Errno::ENOTTY);
                }
                let sid = self.session();
                if sid == 0 {
                    return Err(Errno::ENOTTY);
                }
                UserPtr::<i32>::new(arg).write(&(sid as i32)).map(|_| 0)
            }
            TIOCSCTTY => {
                let j = jobs().ok_or(Errno::ENOTTY)?;
                j.set_caller_ctty(self).map(|_| 0)
            }
            TIOCNOTTY => {
                let j = jobs().ok_or(Errno::ENOTTY)?;
                // On a master, the terminal asked about is the master itself: never a ctty.
                if side == Side::Master || !j.caller_has_ctty(self) {
                    return Err(Errno::ENOTTY);
                }
                j.drop_caller_ctty();
                Ok(0)
            }
            FIONREAD => {
                let n = self.ldisc.lock().readable_len() as i32;
                UserPtr::<i32>::new(arg).write(&n).map(|_| 0)
            }
            TIOCOUTQ => UserPtr::<i32>::new(arg).write(&0).map(|_| 0),
            _ => Err(Errno::ENOTTY),
        }
    }
}

/// The console's open file, and /dev/tty's when the console is the controlling terminal.
impl FileLike for Arc<Tty> {
    fn has_fasync(&self) -> bool {
        true
    }

    fn read(&self, buf: &mut VmWriter, _offset: u64, nonblock: bool) -> Result<usize> {
        self.read_input(buf, nonblock)
    }

    fn is_pollable(&self) -> bool {
        true
    }

    fn poll(&self, mask: IoEvents, poller: Option<&Poller>) -> IoEvents {
        self.poll_events(mask, poller)
    }

    fn can_splice_write(&self) -> bool {
        true
    }

    fn write(&self, buf: &VmReader, _offset: u64, nonblock: bool) -> Result<usize> {
        self.write_from(buf, nonblock)
    }

    fn ioctl(&self, cmd: u32, arg: u64) -> Result<i64> {
        Tty::ioctl(self, cmd, arg, Side::Terminal)
    }

    fn metadata(&self) -> Metadata {
        self.driver.metadata()
    }
}
