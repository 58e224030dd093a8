//! The line discipline every terminal shares lives in `crates/line-discipline` (pure state,
//! unit-tested on the host); the terminal (`Tty`) locks it, feeds it input bytes and sends what it
//! asks to echo to its device.

pub use line_discipline::*;
