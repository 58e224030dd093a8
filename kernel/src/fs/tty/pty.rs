//! Pseudo-terminals (Unix 98): each open of /dev/ptmx makes a pair. The slave is a `Tty` like the
//! console, with the line discipline, job control and termios; its device (`PtyLink`, the
//! `TtyDriver`) is the master side: what the slave writes, after output processing and echo,
//! waits in the link's output buffer for the master's reader, and what the master writes goes
//! into the slave's line discipline as typed input. The devpts file system (`devpts.rs`) shows
//! /dev/pts/N while the master is open.

use alloc::collections::{BTreeMap, VecDeque};
use alloc::sync::{Arc, Weak};
use core::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering};

use super::ldisc::{LineDiscipline, Termios, WinSize};
use super::{jobs, Side, Tty, TtyDriver, FIONREAD, TIOCOUTQ};
use crate::error::{Errno, Result};
use crate::event::{IoEvents, Pollee, Poller};
use crate::fs::devfs::makedev;
use crate::fs::file::{FileLike, O_NOCTTY};
use crate::fs::inode::{Metadata, SetAttr, S_IFCHR};
use crate::mm::io::{VmReader, VmWriter};
use crate::mm::user::UserPtr;
use crate::sync::Mutex;

pub const PTMX_RDEV: u64 = makedev(5, 2);
const PTS_MAJOR: u64 = 136;
pub const TIOCGPTN: u32 = 0x8004_5430;
pub const TIOCSPTLCK: u32 = 0x4004_5431;
pub const TIOCGPTLCK: u32 = 0x8004_5439;
const TIOCPKT: u32 = 0x5420;
const TIOCGPKT: u32 = 0x8004_5438;
const TIOCSIG: u32 = 0x4004_5436;
const SIGINT: u32 = 2;
const SIGQUIT: u32 = 3;
const SIGTSTP: u32 = 20;
const TCFLSH: u32 = 0x540b;

/// Packet mode (TIOCPKT): the first byte of every master read says what it is.
const TIOCPKT_DATA: u8 = 0;
const TIOCPKT_FLUSHREAD: u8 = 1;
const TIOCPKT_FLUSHWRITE: u8 = 2;
const TIOCPKT_STOP: u8 = 4;
const TIOCPKT_START: u8 = 8;
const TIOCPKT_NOSTOP: u8 = 16;
const TIOCPKT_DOSTOP: u8 = 32;
const TIOCPKT_IOCTL: u8 = 64;
const IXON: u32 = 0o2000;
const EXTPROC: u32 = 0o200000;
const VSTART: usize = 8;
const VSTOP: usize = 9;

/// Input the slave holds for its readers (Linux's N_TTY_BUF_SIZE): a master writing more waits.
const INPUT_LIMIT: usize = 4096;
/// Output the slave may write ahead of the master's reader (Linux's tty buffer limit, 64 KiB).
const OUTPUT_LIMIT: usize = 64 * 1024;
/// Pairs at once (Linux's default /proc/sys/kernel/pty/max).
const MAX_PTYS: u32 = 4096;

/// Owner and permissions of /dev/pts/N (chown/chmod may change them).
#[derive(Clone, Copy)]
struct SlaveAttr {
    mode: u32,
    uid: u32,
    gid: u32,
    ctime_ns: i64,
}

/// The master side of a pair, seen by the slave's `Tty` as its device.
pub struct PtyLink {
    index: u32,
    me: Weak<PtyLink>,
    /// Slave output (processed) waiting for the master's reader.
    output: Mutex<VecDeque<u8>>,
    /// The master's blocked readers and writers sleep here; its pollers watch it.
    master_pollee: Pollee,
    master_open: AtomicBool,
    slave_opens: AtomicUsize,
    /// Every slave file was closed after one was opened (Linux's TTY_OTHER_CLOSED on the
    /// master): the master's reads fail with EIO once drained, and poll says POLLHUP.
    slave_closed: AtomicBool,
    /// TIOCSPTLCK: the slave cannot be opened (EIO). New pairs start locked, as on Linux.
    locked: AtomicBool,
    attr: Mutex<SlaveAttr>,
    /// TIOCPKT on the master, and the TIOCPKT_* events its next read reports (Linux keeps
    /// them on the slave as `pktstatus`).
    packet: AtomicBool,
    packet_status: AtomicU8,
}

impl PtyLink {
    pub fn index(&self) -> u32 {
        self.index
    }

    pub fn slave_metadata(&self) -> Metadata {
        let a = *self.attr.lock();
        Metadata {
            dev: super::devpts::dev(),
            ino: self.index as u64 + 3, // Linux's devpts: root 1, ptmx 2, then the slaves
            mode: S_IFCHR | a.mode,
            nlink: 1,
            uid: a.uid,
            gid: a.gid,
            rdev: makedev(PTS_MAJOR, self.index as u64),
            blksize: 1024,
            atime_ns: a.ctime_ns,
            mtime_ns: a.ctime_ns,
            ctime_ns: a.ctime_ns,
            ..Metadata::default()
        }
    }

    pub fn set_slave_attr(&self, s: &SetAttr) {
        let mut a = self.attr.lock();
        if let Some(m) = s.mode {
            a.mode = m & 0o7777;
        }
        if let Some(u) = s.uid {
            a.uid = u;
        }
        if let Some(g) = s.gid {
            a.gid = g;
        }
        a.ctime_ns = crate::arch::time::realtime_ns();
    }

    fn output_len(&self) -> usize {
        self.output.lock().len()
    }

    /// Adds packet-mode events for the master (nothing outside packet mode).
    fn report(&self, clear: u8, set: u8) {
        if !self.packet.load(Ordering::Acquire) {
            return;
        }
        let _ = self
            .packet_status
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |s| Some((s & !clear) | set));
        self.master_pollee.notify(IoEvents::IN | IoEvents::PRI);
    }
}

impl TtyDriver for PtyLink {
    fn write_output(&self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        self.output.lock().extend(bytes.iter().copied());
        self.master_pollee.notify(IoEvents::IN);
    }

    fn output_room(&self) -> usize {
        OUTPUT_LIMIT.saturating_sub(self.output_len())
    }

    fn hung_up(&self) -> bool {
        !self.master_open.load(Ordering::Acquire)
    }

    fn input_consumed(&self) {
        self.master_pollee.notify(IoEvents::OUT);
    }

    /// Linux's n_tty_packet_mode_flush and pty_flush_buffer: the events only; what the slave
    /// wrote before stays readable on the master.
    fn flushed(&self, input: bool, output: bool) {
        let set =
            if input { TIOCPKT_FLUSHREAD } else { 0 } | if output { TIOCPKT_FLUSHWRITE } else { 0 };
        self.report(0, set);
    }

    /// Linux's pty_stop/pty_start.
    fn output_stopped(&self, stopped: bool) {
        if stopped {
            self.report(TIOCPKT_START, TIOCPKT_STOP);
        } else {
            self.report(TIOCPKT_STOP, TIOCPKT_START);
        }
    }

    /// Linux's pty_set_termios: whether ^S/^Q flow control is on changed, or EXTPROC is set.
    fn termios_changed(&self, old: &Termios, new: &Termios) {
        let flow =
            |t: &Termios| t.c_iflag & IXON != 0 && t.c_cc[VSTOP] == 0x13 && t.c_cc[VSTART] == 0x11;
        let extproc = (old.c_lflag | new.c_lflag) & EXTPROC != 0;
        let (mut clear, mut set) = (0, 0);
        if flow(old) != flow(new) {
            clear = TIOCPKT_DOSTOP | TIOCPKT_NOSTOP;
            set = if flow(new) { TIOCPKT_DOSTOP } else { TIOCPKT_NOSTOP };
        }
        if extproc {
            set |= TIOCPKT_IOCTL;
        }
        if clear | set != 0 {
            self.report(clear, set);
        }
    }

    fn metadata(&self) -> Metadata {
        self.slave_metadata()
    }

    fn rdev(&self) -> u64 {
        makedev(PTS_MAJOR, self.index as u64)
    }

    fn open(&self, tty: &Arc<Tty>) -> Result<Arc<dyn FileLike>> {
        // `me` upgrades while any caller holds the link, which a caller of this method does.
        let link = self.me.upgrade().ok_or(Errno::ENXIO)?;
        Ok(PtySlave::open(tty.clone(), link))
    }

    fn is_pty(&self) -> bool {
        true
    }
}

/// One live pair in the index table.
struct Pair {
    tty: Weak<Tty>,
    link: Weak<PtyLink>,
}

/// Index → pair. An index is free again once nothing holds its link (master and slave files
/// closed, no controlling terminal left), as Linux frees it when the tty is released.
static PAIRS: Mutex<BTreeMap<u32, Pair>> = Mutex::new(BTreeMap::new());

/// The pair with index `n` whose master is still open (what /dev/pts/N shows).
pub fn lookup(n: u32) -> Option<(Arc<Tty>, Arc<PtyLink>)> {
    let pairs = PAIRS.lock();
    let p = pairs.get(&n)?;
    let (tty, link) = (p.tty.upgrade()?, p.link.upgrade()?);
    drop(pairs);
    (!link.hung_up()).then_some((tty, link))
}

/// Indexes of the pairs whose master is open, in order.
pub fn live_indexes() -> alloc::vec::Vec<u32> {
    let pairs = PAIRS.lock();
    let candidates: alloc::vec::Vec<(u32, Weak<PtyLink>)> =
        pairs.iter().map(|(n, p)| (*n, p.link.clone())).collect();
    drop(pairs);
    candidates
        .into_iter()
        .filter(|(_, l)| l.upgrade().is_some_and(|l| !l.hung_up()))
        .map(|(n, _)| n)
        .collect()
}

/// open("/dev/ptmx"): a new pair, locked, with the lowest free index.
pub fn open_master() -> Result<Arc<dyn FileLike>> {
    let (uid, gid) = jobs().map(|j| j.caller_fs_ids()).unwrap_or((0, 0));
    let mut pairs = PAIRS.lock();
    let index = (0..MAX_PTYS)
        .find(|n| pairs.get(n).is_none_or(|p| p.link.strong_count() == 0))
        .ok_or(Errno::ENOSPC)?;
    let link = Arc::new_cyclic(|me| PtyLink {
        index,
        me: me.clone(),
        output: Mutex::new(VecDeque::new()),
        master_pollee: Pollee::new(),
        master_open: AtomicBool::new(true),
        slave_opens: AtomicUsize::new(0),
        slave_closed: AtomicBool::new(false),
        locked: AtomicBool::new(true),
        attr: Mutex::new(SlaveAttr {
            mode: 0o620,
            uid,
            gid,
            ctime_ns: crate::arch::time::realtime_ns(),
        }),
        packet: AtomicBool::new(false),
        packet_status: AtomicU8::new(0),
    });
    // A new pty starts with a zero window size, as on Linux.
    let winsize = WinSize { ws_row: 0, ws_col: 0, ws_xpixel: 0, ws_ypixel: 0 };
    let tty = Tty::new(link.clone(), LineDiscipline::new(winsize, INPUT_LIMIT - 1), INPUT_LIMIT);
    pairs.insert(index, Pair { tty: Arc::downgrade(&tty), link: Arc::downgrade(&link) });
    drop(pairs);
    Ok(Arc::new(PtyMaster { tty, link }))
}

/// open("/dev/pts/N"): EIO while locked; acquires the terminal as the caller's controlling
/// terminal unless O_NOCTTY (Linux's tty_open).
pub fn open_slave(tty: &Arc<Tty>, link: &Arc<PtyLink>, flags: u32) -> Result<Arc<dyn FileLike>> {
    if link.hung_up() || link.locked.load(Ordering::Acquire) {
        return Err(Errno::EIO);
    }
    let file = PtySlave::open(tty.clone(), link.clone());
    if flags & O_NOCTTY == 0 {
        if let Some(j) = jobs() {
            j.acquire_on_open(tty);
        }
    }
    Ok(file)
}

/// An open file of a pty slave (its node, or /dev/tty when it is the controlling terminal).
pub struct PtySlave {
    tty: Arc<Tty>,
    link: Arc<PtyLink>,
}

impl PtySlave {
    /// A new open file of the slave (counted as open until dropped).
    fn open(tty: Arc<Tty>, link: Arc<PtyLink>) -> Arc<dyn FileLike> {
        link.slave_opens.fetch_add(1, Ordering::AcqRel);
        link.slave_closed.store(false, Ordering::Release);
        Arc::new(PtySlave { tty, link })
    }
}

impl Drop for PtySlave {
    fn drop(&mut self) {
        if self.link.slave_opens.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.link.slave_closed.store(true, Ordering::Release);
            self.link.master_pollee.notify(IoEvents::IN | IoEvents::HUP);
        }
    }
}

impl FileLike for PtySlave {
    fn has_fasync(&self) -> bool {
        true
    }

    fn read(&self, buf: &mut VmWriter, _offset: u64, nonblock: bool) -> Result<usize> {
        self.tty.read_input(buf, nonblock)
    }

    fn write(&self, buf: &VmReader, _offset: u64, nonblock: bool) -> Result<usize> {
        self.tty.write_from(buf, nonblock)
    }

    fn can_splice_write(&self) -> bool {
        true
    }

    fn is_pollable(&self) -> bool {
        true
    }

    fn poll(&self, mask: IoEvents, poller: Option<&Poller>) -> IoEvents {
        self.tty.poll_events(mask, poller)
    }

    fn ioctl(&self, cmd: u32, arg: u64) -> Result<i64> {
        self.tty.ioctl(cmd, arg, Side::Terminal)
    }

    fn metadata(&self) -> Metadata {
        self.link.slave_metadata()
    }
}

/// The open file of /dev/ptmx: reads the slave's output, writes the slave's input.
pub struct PtyMaster {
    tty: Arc<Tty>,
    link: Arc<PtyLink>,
}

impl Drop for PtyMaster {
    fn drop(&mut self) {
        // The slave hangs up: its reads see end of file, its writes EIO, its session SIGHUP.
        self.link.master_open.store(false, Ordering::Release);
        self.tty.hangup();
    }
}

impl PtyMaster {
    /// Slave output for the master's reader; EIO once every slave file is closed and nothing
    /// is left (Linux's TTY_OTHER_CLOSED). In packet mode a pending event comes first, alone
    /// in a one-byte read, and data comes after a TIOCPKT_DATA byte.
    fn take_output(&self, out: &mut [u8]) -> Option<Result<usize>> {
        let packet = self.link.packet.load(Ordering::Acquire);
        if packet {
            let status = self.link.packet_status.swap(0, Ordering::AcqRel);
            if status != 0 {
                out[0] = status;
                return Some(Ok(1));
            }
        }
        let mut q = self.link.output.lock();
        if q.is_empty() {
            drop(q);
            return self.link.slave_closed.load(Ordering::Acquire).then_some(Err(Errno::EIO));
        }
        let skip = packet as usize;
        if packet {
            out[0] = TIOCPKT_DATA;
        }
        let n = (out.len() - skip).min(q.len());
        for (i, b) in q.drain(..n).enumerate() {
            out[skip + i] = b;
        }
        Some(Ok(skip + n))
    }

    /// Feeds `data` to the slave's input, waiting while its buffer is full.
    fn feed(&self, data: &[u8], nonblock: bool, written_before: usize) -> Result<usize> {
        let mut done = 0;
        while done < data.len() {
            done += self.tty.receive(&data[done..]);
            if done == data.len() {
                break;
            }
            let partial = done + written_before > 0;
            if nonblock {
                return if partial { Ok(done) } else { Err(Errno::EAGAIN) };
            }
            let r = self
                .link
                .master_pollee
                .wait_events(IoEvents::OUT, None, || (self.tty.input_room() > 0).then_some(()));
            if let Err(e) = r {
                return if partial { Ok(done) } else { Err(e.restart_errno()) };
            }
        }
        Ok(done)
    }
}

impl FileLike for PtyMaster {
    fn has_fasync(&self) -> bool {
        true
    }

    fn read(&self, buf: &mut VmWriter, _offset: u64, nonblock: bool) -> Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let mut tmp = [0u8; 1024];
        let want = buf.len().min(tmp.len());
        let n = if nonblock {
            self.take_output(&mut tmp[..want]).ok_or(Errno::EAGAIN)??
        } else {
            self.link
                .master_pollee
                .wait_events(IoEvents::IN, None, || self.take_output(&mut tmp[..want]))
                .map_err(crate::task::WaitError::restart_errno)??
        };
        self.tty.output_drained();
        buf.write(&tmp[..n])?;
        Ok(n)
    }

    fn write(&self, buf: &VmReader, _offset: u64, nonblock: bool) -> Result<usize> {
        let mut chunk = [0u8; 512];
        let mut done = 0;
        while done < buf.len() {
            let n = (buf.len() - done).min(chunk.len());
            buf.skip(done).take(n).read(&mut chunk[..n])?;
            let w = self.feed(&chunk[..n], nonblock, done)?;
            done += w;
            if w < n {
                break;
            }
        }
        Ok(done)
    }

    fn can_splice_write(&self) -> bool {
        true
    }

    fn is_pollable(&self) -> bool {
        true
    }

    fn poll(&self, mask: IoEvents, poller: Option<&Poller>) -> IoEvents {
        if let Some(p) = poller {
            p.watch(&self.link.master_pollee, mask);
        }
        let mut ev = IoEvents::empty();
        if self.link.output_len() > 0 {
            ev |= IoEvents::readable();
        }
        if self.link.packet.load(Ordering::Acquire)
            && self.link.packet_status.load(Ordering::Acquire) != 0
        {
            ev |= IoEvents::readable() | IoEvents::PRI;
        }
        if self.link.slave_closed.load(Ordering::Acquire) {
            ev |= IoEvents::HUP;
        }
        if self.tty.input_room() > 0 {
            ev |= IoEvents::writable();
        }
        ev
    }

    fn ioctl(&self, cmd: u32, arg: u64) -> Result<i64> {
        match cmd {
            TIOCGPTN => UserPtr::<u32>::new(arg).write(&self.link.index).map(|_| 0),
            TIOCSPTLCK => {
                let v = UserPtr::<i32>::new(arg).read()?;
                self.link.locked.store(v != 0, Ordering::Release);
                Ok(0)
            }
            TIOCGPTLCK => {
                let v = self.link.locked.load(Ordering::Acquire) as i32;
                UserPtr::<i32>::new(arg).write(&v).map(|_| 0)
            }
            // The master's own buffers: what it can read, and no output queued on its side.
            FIONREAD => UserPtr::<i32>::new(arg).write(&(self.link.output_len() as i32)).map(|_| 0),
            TIOCOUTQ => UserPtr::<i32>::new(arg).write(&0).map(|_| 0),
            TIOCPKT => {
                let on = UserPtr::<i32>::new(arg).read()? != 0;
                // Turning it on afresh forgets old events; on again keeps them (Linux).
                if on && !self.link.packet.swap(true, Ordering::AcqRel) {
                    self.link.packet_status.store(0, Ordering::Release);
                } else if !on {
                    self.link.packet.store(false, Ordering::Release);
                }
                Ok(0)
            }
            TIOCGPKT => UserPtr::<i32>::new(arg)
                .write(&(self.link.packet.load(Ordering::Acquire) as i32))
                .map(|_| 0),
            // Linux's pty_signal: the three job-control keys' signals, to the slave's
            // foreground group, without touching its input.
            TIOCSIG => match arg as u32 {
                SIGINT | SIGQUIT | SIGTSTP => {
                    self.tty.signal_foreground(arg as u32);
                    Ok(0)
                }
                _ => Err(Errno::EINVAL),
            },
            // The master's own input is the slave's output not yet read: TCIFLUSH drops it.
            TCFLSH => {
                if arg > 2 {
                    return Err(Errno::EINVAL);
                }
                if arg != 1 {
                    self.link.output.lock().clear();
                    self.tty.output_drained();
                }
                Ok(0)
            }
            // Everything else acts on the slave, as Linux's tty_pair_get_tty.
            _ => self.tty.ioctl(cmd, arg, Side::Master),
        }
    }

    fn metadata(&self) -> Metadata {
        Metadata {
            dev: super::devpts::dev(),
            ino: 2,
            mode: S_IFCHR | 0o666,
            nlink: 1,
            rdev: PTMX_RDEV,
            blksize: 1024,
            ..Metadata::default()
        }
    }
}
