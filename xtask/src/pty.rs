//! Host pseudo-terminals: the shell session drives QEMU's console through one, and the guide's
//! examples run natively with their stdout on one (so stdio buffers lines as on the guest console).

use std::ffi::CStr;
use std::fs::File;
use std::io::{self, Read};
use std::os::fd::{AsRawFd, FromRawFd};

/// A pseudo-terminal pair. Both descriptors are close-on-exec (the slave is given to a child
/// through `Stdio`, which dups it).
pub struct Pty {
    pub master: File,
    pub slave: File,
}

fn check(r: libc::c_int) -> io::Result<libc::c_int> {
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

impl Pty {
    /// Opens a pair whose slave is in raw mode with no output processing: the bytes written to
    /// the slave come out of the master unchanged (no `\n` -> `\r\n`), nothing is echoed, and
    /// control characters (0x03, 0x1a, 0x04) pass through as bytes instead of raising signals.
    pub fn open_raw() -> io::Result<Pty> {
        // posix_openpt + open(O_CLOEXEC) rather than openpty(3), so no descriptor is ever
        // without close-on-exec (other threads spawn processes meanwhile).
        // SAFETY: plain system calls on descriptors we own; ptsname_r writes at most buf.len() bytes.
        unsafe {
            let master =
                check(libc::posix_openpt(libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC))?;
            let master = File::from_raw_fd(master);
            check(libc::grantpt(master.as_raw_fd()))?;
            check(libc::unlockpt(master.as_raw_fd()))?;
            let mut name = [0 as libc::c_char; 128];
            let r = libc::ptsname_r(master.as_raw_fd(), name.as_mut_ptr(), name.len());
            if r != 0 {
                return Err(io::Error::from_raw_os_error(r));
            }
            let slave =
                check(libc::open(name.as_ptr(), libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC))?;
            let slave = File::from_raw_fd(slave);

            let mut t: libc::termios = std::mem::zeroed();
            check(libc::tcgetattr(slave.as_raw_fd(), &mut t))?;
            libc::cfmakeraw(&mut t);
            // cfmakeraw clears OPOST but leaves ONLCR set; QEMU turns OPOST back on for its
            // stdio, so clear ONLCR too: the guest's own `\r\n` must reach us unchanged.
            t.c_oflag &= !(libc::ONLCR | libc::OCRNL | libc::ONOCR | libc::ONLRET);
            check(libc::tcsetattr(slave.as_raw_fd(), libc::TCSANOW, &t))?;
            let ws = libc::winsize { ws_row: 24, ws_col: 80, ws_xpixel: 0, ws_ypixel: 0 };
            check(libc::ioctl(slave.as_raw_fd(), libc::TIOCSWINSZ, &ws))?;
            Ok(Pty { master, slave })
        }
    }

    /// The slave's path (`/dev/pts/N`), for messages.
    // Only the tests call it today; kept for the messages of the session checks to come.
    #[allow(dead_code)]
    pub fn slave_name(&self) -> String {
        let mut name = [0 as libc::c_char; 128];
        // SAFETY: ptsname_r writes a NUL-terminated string of at most name.len() bytes.
        let r = unsafe { libc::ptsname_r(self.master.as_raw_fd(), name.as_mut_ptr(), name.len()) };
        if r != 0 {
            return "?".into();
        }
        // SAFETY: NUL-terminated by ptsname_r.
        unsafe { CStr::from_ptr(name.as_ptr()) }.to_string_lossy().into_owned()
    }
}

/// Reads a pty master until every slave descriptor is closed (Linux then reports EIO, after
/// handing out what was still buffered).
pub fn read_to_end(mut master: File) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match master.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => break, // EIO: the slave side is closed
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::process::{Command, Stdio};

    #[test]
    fn raw_pty_passes_bytes_unchanged_and_is_a_tty_for_the_child() {
        let pty = Pty::open_raw().unwrap();
        assert!(pty.slave_name().starts_with("/dev/pts/"));
        let mut child = Command::new("sh")
            .args(["-c", "test -t 1 && printf 'a\\nb\\r\\n\\003'"])
            .stdin(Stdio::null())
            .stdout(pty.slave.try_clone().unwrap())
            .spawn()
            .unwrap();
        drop(pty.slave);
        let out = read_to_end(pty.master);
        assert!(child.wait().unwrap().success());
        assert_eq!(out, b"a\nb\r\n\x03");
    }

    #[test]
    fn raw_pty_input_reaches_the_reader_unchanged() {
        let mut pty = Pty::open_raw().unwrap();
        pty.master.write_all(b"x\x03\x1a\x04\r").unwrap();
        let mut got = [0u8; 5];
        let mut slave = pty.slave;
        slave.read_exact(&mut got).unwrap();
        assert_eq!(&got, b"x\x03\x1a\x04\r");
    }
}
