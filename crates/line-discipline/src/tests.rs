//! The line discipline against Linux's n_tty behaviour, byte by byte.

use std::vec;
use std::vec::Vec;

use super::*;

const WS: WinSize = WinSize { ws_row: 24, ws_col: 80, ws_xpixel: 0, ws_ypixel: 0 };

fn ldisc() -> LineDiscipline {
    LineDiscipline::new(WS, 4095)
}

/// Feeds `bytes`; returns what each byte did and everything echoed.
fn feed(ld: &mut LineDiscipline, bytes: &[u8]) -> (Vec<Input>, Vec<u8>) {
    let mut echo = Vec::new();
    let inputs = bytes.iter().map(|&b| ld.receive(b, &mut echo)).collect();
    (inputs, echo)
}

/// One read of up to `max` bytes: `None` (would block), `Some(bytes)` (empty = end of file).
fn read(ld: &mut LineDiscipline, max: usize) -> Option<Vec<u8>> {
    let mut buf = vec![0u8; max];
    ld.take_input(&mut buf).map(|n| buf[..n].to_vec())
}

fn raw(ld: &mut LineDiscipline) {
    let mut t = ld.termios;
    t.c_lflag &= !(ICANON | ECHO);
    ld.set_termios(t, false);
}

#[test]
fn canonical_line_is_readable_only_when_complete() {
    let mut ld = ldisc();
    let (inputs, echo) = feed(&mut ld, b"ls");
    assert_eq!(inputs, [Input::Nothing, Input::Nothing]);
    assert_eq!(echo, b"ls");
    assert!(!ld.input_ready());
    assert_eq!(ld.held(), 2);
    assert_eq!(ld.readable_len(), 0);
    assert!(ld.only_partial_line());
    assert_eq!(read(&mut ld, 100), None);
    let (inputs, _) = feed(&mut ld, b"\n");
    assert_eq!(inputs, [Input::Ready]);
    assert!(ld.input_ready());
    assert_eq!(ld.readable_len(), 3);
    assert_eq!(read(&mut ld, 100).unwrap(), b"ls\n");
    assert_eq!(read(&mut ld, 100), None);
}

#[test]
fn canonical_read_stops_at_the_end_of_a_line_and_resumes_in_it() {
    let mut ld = ldisc();
    feed(&mut ld, b"one\ntwo\n");
    assert_eq!(read(&mut ld, 100).unwrap(), b"one\n");
    assert_eq!(read(&mut ld, 2).unwrap(), b"tw");
    assert_eq!(read(&mut ld, 100).unwrap(), b"o\n");
}

#[test]
fn raw_mode_passes_every_byte_at_once_without_echo() {
    let mut ld = ldisc();
    raw(&mut ld);
    let (inputs, echo) = feed(&mut ld, b"a\x7f\x04b\n");
    assert!(inputs.iter().all(|&i| i == Input::Ready));
    assert_eq!(echo, b"");
    assert_eq!(read(&mut ld, 2).unwrap(), b"a\x7f");
    assert_eq!(read(&mut ld, 100).unwrap(), b"\x04b\n");
    // No end of file in raw mode: ^D was data.
    assert_eq!(read(&mut ld, 100), None);
}

#[test]
fn raw_mode_with_echo_echoes_everything() {
    let mut ld = ldisc();
    let mut t = ld.termios;
    t.c_lflag &= !ICANON;
    ld.set_termios(t, false);
    let (_, echo) = feed(&mut ld, b"x\r");
    // ICRNL still applies to input in raw mode.
    assert_eq!(echo, b"x\n");
}

#[test]
fn leaving_canonical_mode_makes_the_partial_line_readable() {
    let mut ld = ldisc();
    feed(&mut ld, b"par");
    assert!(!ld.input_ready());
    raw(&mut ld);
    assert!(ld.input_ready());
    assert_eq!(read(&mut ld, 100).unwrap(), b"par");
}

#[test]
fn tcsetsf_flushes_pending_input() {
    let mut ld = ldisc();
    feed(&mut ld, b"done\npartial\x04");
    feed(&mut ld, b"\x04");
    let t = ld.termios;
    ld.set_termios(t, true);
    assert_eq!(ld.held(), 0);
    assert!(!ld.input_ready());
    assert_eq!(read(&mut ld, 100), None);
}

#[test]
fn erase_removes_one_character_and_echoes_backspace_space_backspace() {
    let mut ld = ldisc();
    let (_, echo) = feed(&mut ld, b"ab\x7fc\x08d\n");
    assert_eq!(echo, b"ab\x08 \x08c\x08 \x08d\n");
    assert_eq!(read(&mut ld, 100).unwrap(), b"ad\n");
    // Erase on an empty line does nothing and echoes nothing.
    let (inputs, echo) = feed(&mut ld, b"\x7f");
    assert_eq!((inputs, echo), (vec![Input::Nothing], vec![]));
}

#[test]
fn erase_without_echoe_is_silent() {
    let mut ld = ldisc();
    let mut t = ld.termios;
    t.c_lflag &= !ECHOE;
    ld.set_termios(t, false);
    let (_, echo) = feed(&mut ld, b"ab\x7f\n");
    assert_eq!(echo, b"ab\n");
    assert_eq!(read(&mut ld, 100).unwrap(), b"a\n");
}

#[test]
fn word_erase_removes_the_last_word_and_the_spaces_after_it() {
    let mut ld = ldisc();
    let (_, echo) = feed(&mut ld, b"echo hello  \x17world\n");
    assert_eq!(read(&mut ld, 100).unwrap(), b"echo world\n");
    let erased = b"\x08 \x08".repeat(7);
    let mut expected = b"echo hello  ".to_vec();
    expected.extend(erased);
    expected.extend(b"world\n");
    assert_eq!(echo, expected);
}

#[test]
fn kill_erases_the_whole_line() {
    let mut ld = ldisc();
    let (_, echo) = feed(&mut ld, b"abc\x15x\n");
    assert_eq!(read(&mut ld, 100).unwrap(), b"x\n");
    let mut expected = b"abc".to_vec();
    expected.extend(b"\x08 \x08".repeat(3));
    expected.extend(b"x\n");
    assert_eq!(echo, expected);
    let mut t = ld.termios;
    t.c_lflag &= !ECHOK;
    ld.set_termios(t, false);
    let (_, echo) = feed(&mut ld, b"ab\x15");
    assert_eq!(echo, b"ab");
    assert_eq!(ld.held(), 0);
}

#[test]
fn ctrl_d_on_an_empty_line_is_end_of_file_once() {
    let mut ld = ldisc();
    let (inputs, echo) = feed(&mut ld, b"\x04");
    assert_eq!(inputs, [Input::Ready]);
    assert_eq!(echo, b"");
    assert!(ld.input_ready());
    assert_eq!(read(&mut ld, 100).unwrap(), b"");
    assert!(!ld.input_ready());
    assert_eq!(read(&mut ld, 100), None);
    // Two ^D: two ends of file.
    feed(&mut ld, b"\x04\x04");
    assert_eq!(read(&mut ld, 100).unwrap(), b"");
    assert_eq!(read(&mut ld, 100).unwrap(), b"");
    assert_eq!(read(&mut ld, 100), None);
}

#[test]
fn ctrl_d_after_text_sends_the_line_without_a_newline() {
    let mut ld = ldisc();
    feed(&mut ld, b"abc\x04");
    assert_eq!(read(&mut ld, 100).unwrap(), b"abc");
    assert_eq!(read(&mut ld, 100), None);
    // Data first, then the end of file of the ^D that followed on an empty line.
    feed(&mut ld, b"x\n\x04");
    assert_eq!(read(&mut ld, 100).unwrap(), b"x\n");
    assert_eq!(read(&mut ld, 100).unwrap(), b"");
}

#[test]
fn carriage_return_becomes_newline_under_icrnl() {
    let mut ld = ldisc();
    let (inputs, echo) = feed(&mut ld, b"hi\r");
    assert_eq!(inputs[2], Input::Ready);
    assert_eq!(echo, b"hi\n");
    assert_eq!(read(&mut ld, 100).unwrap(), b"hi\n");
}

#[test]
fn igncr_drops_carriage_returns_and_inlcr_turns_newlines_into_them() {
    let mut ld = ldisc();
    let mut t = ld.termios;
    t.c_iflag |= IGNCR;
    ld.set_termios(t, false);
    let (_, echo) = feed(&mut ld, b"a\rb\n");
    assert_eq!(echo, b"ab\n");
    assert_eq!(read(&mut ld, 100).unwrap(), b"ab\n");

    let mut ld = ldisc();
    let mut t = ld.termios;
    t.c_iflag = INLCR;
    t.c_lflag &= !(ICANON | ECHO);
    ld.set_termios(t, false);
    feed(&mut ld, b"a\n\r");
    assert_eq!(read(&mut ld, 100).unwrap(), b"a\r\r");
}

#[test]
fn without_icrnl_a_carriage_return_does_not_end_the_line() {
    let mut ld = ldisc();
    let mut t = ld.termios;
    t.c_iflag &= !ICRNL;
    ld.set_termios(t, false);
    let (inputs, _) = feed(&mut ld, b"a\r");
    assert_eq!(inputs, [Input::Nothing, Input::Nothing]);
    assert!(!ld.input_ready());
    feed(&mut ld, b"\n");
    assert_eq!(read(&mut ld, 100).unwrap(), b"a\r\n");
}

#[test]
fn echonl_echoes_the_newline_alone() {
    let mut ld = ldisc();
    let mut t = ld.termios;
    t.c_lflag = (t.c_lflag & !ECHO) | ECHONL;
    ld.set_termios(t, false);
    let (_, echo) = feed(&mut ld, b"secret\n");
    assert_eq!(echo, b"\n");
    assert_eq!(read(&mut ld, 100).unwrap(), b"secret\n");
}

#[test]
fn isig_characters_signal_flush_and_echo_as_caret() {
    let mut ld = ldisc();
    feed(&mut ld, b"ready\npartial");
    let (inputs, echo) = feed(&mut ld, b"\x03");
    assert_eq!(inputs, [Input::Signal(SIGINT)]);
    assert_eq!(echo, b"^C");
    assert_eq!(ld.held(), 0, "^C flushes the input");
    let (inputs, echo) = feed(&mut ld, b"\x1c\x1a");
    assert_eq!(inputs, [Input::Signal(SIGQUIT), Input::Signal(SIGTSTP)]);
    assert_eq!(echo, b"^\\^Z");
}

#[test]
fn noflsh_keeps_input_and_without_isig_the_characters_are_data() {
    let mut ld = ldisc();
    let mut t = ld.termios;
    t.c_lflag |= NOFLSH;
    t.c_lflag &= !ECHOCTL;
    ld.set_termios(t, false);
    feed(&mut ld, b"keep\n");
    let (inputs, echo) = feed(&mut ld, b"\x03");
    assert_eq!(inputs, [Input::Signal(SIGINT)]);
    assert_eq!(echo, b"", "no ECHOCTL, no ^C");
    assert_eq!(read(&mut ld, 100).unwrap(), b"keep\n");

    let mut t = ld.termios;
    t.c_lflag &= !ISIG;
    ld.set_termios(t, false);
    let (inputs, _) = feed(&mut ld, b"\x03\n");
    assert_eq!(inputs, [Input::Nothing, Input::Ready]);
    assert_eq!(read(&mut ld, 100).unwrap(), b"\x03\n");
}

#[test]
fn a_canonical_line_keeps_at_most_max_line_bytes_and_still_ends() {
    let mut ld = LineDiscipline::new(WS, 4);
    let (_, echo) = feed(&mut ld, b"abcdef\n");
    assert_eq!(echo, b"abcd\n", "dropped characters are not echoed");
    assert_eq!(read(&mut ld, 100).unwrap(), b"abcd\n");
}

#[test]
fn onlcr_output_processing() {
    let t = Termios::default_linux();
    let mut out = Vec::new();
    t.process_output(b"a\nb\n", &mut out);
    assert_eq!(out, b"a\r\nb\r\n");
    assert_eq!(t.output_len(b'\n'), 2);
    assert_eq!(t.output_len(b'a'), 1);
    for flags in [OPOST, ONLCR, 0] {
        let t = Termios { c_oflag: flags, ..Termios::default_linux() };
        let mut out = Vec::new();
        t.process_output(b"a\n", &mut out);
        assert_eq!(out, b"a\n", "c_oflag {flags:#o}");
        assert_eq!(t.output_len(b'\n'), 1);
    }
}

#[test]
fn linux_default_termios() {
    let t = Termios::default_linux();
    assert!(t.canonical());
    assert_eq!(t.c_iflag, 0o2400);
    assert_eq!(t.c_oflag, 0o5);
    assert_eq!(t.c_cflag, 0o2277);
    assert_eq!(t.c_lflag, 0o105073);
    assert_eq!(t.c_cc[..8], [3, 0x1c, 0x7f, 0x15, 4, 0, 1, 0]);
    assert_eq!(core::mem::size_of::<Termios>(), 36);
    assert_eq!(core::mem::size_of::<WinSize>(), 8);
}
