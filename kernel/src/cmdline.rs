//! The kernel command line (`key=value` words), kept once at boot for the layers that read it.

use alloc::string::String;

use spin::Once;

static CMDLINE: Once<String> = Once::new();

/// Keeps the command line the boot loader passed.
pub fn init(cmdline: &str) {
    CMDLINE.call_once(|| String::from(cmdline));
}

/// The value of `key=value` on the kernel command line.
pub fn value(key: &str) -> Option<&'static str> {
    CMDLINE.get()?.split_whitespace().find_map(|w| w.strip_prefix(key)?.strip_prefix('='))
}
