//! QEMU's `isa-debugcon` at port 0xe9: a write-only byte channel to a host file, used by the
//! system-call trace (`trace=` on the command line, docs/debugging.md). Unlike a 16550 it has no
//! line status to poll, so one `rep outsb` sends a whole record (under KVM one exit per record,
//! not one per byte), and the console UART stays the guest's.

const PORT: u16 = 0xe9;

/// Sends `bytes` in one string-output instruction, with interrupts off so that a record is never
/// cut by another thread's.
pub fn write(bytes: &[u8]) {
    if bytes.is_empty() {
        return;
    }
    let flags: u64;
    // SAFETY: reading RFLAGS and clearing IF touches no memory; IF is restored below.
    unsafe { core::arch::asm!("pushfq; pop {}; cli", out(reg) flags, options(preserves_flags)) };
    // SAFETY: port 0xe9 is QEMU's debug console (or nothing: writes to an absent port are
    // ignored); `rep outsb` reads exactly `bytes.len()` bytes from `bytes`, which we borrow.
    unsafe {
        core::arch::asm!(
            "cld; rep outsb",
            in("dx") PORT,
            inout("rsi") bytes.as_ptr() => _,
            inout("rcx") bytes.len() => _,
            options(nostack, readonly)
        )
    };
    if flags & (1 << 9) != 0 {
        // SAFETY: interrupts were on before this call; turning them back on restores that.
        unsafe { core::arch::asm!("sti", options(nomem, nostack)) };
    }
}
