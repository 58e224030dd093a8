//! POSIX-X: the entry after boot. Initialisation order only; everything else lives in modules.
//!
//! `unsafe` is confined to `arch` and `mm` (DESIGN.md, ARCHITECTURE.md "The unsafe boundary"):
//! the crate denies it and only those two modules allow it, so an `unsafe` block, an `unsafe
//! impl` or a `#[no_mangle]` anywhere else fails the build (`cargo xtask test` proves it with
//! the host test `unsafe_outside_arch_and_mm_fails_to_build`).

#![no_std]
#![no_main]
#![deny(unsafe_code)]

extern crate alloc;

#[path = "arch/x86_64/mod.rs"]
#[allow(unsafe_code)]
pub mod arch;
pub mod cap;
pub mod cmdline;
pub mod drivers;
pub mod error;
pub mod event;
pub mod fs;
pub mod ipc;
pub mod log;
#[allow(unsafe_code)]
pub mod mm;
pub mod net;
pub mod process;
pub mod procfs;
pub mod random;
pub mod sync;
pub mod syscall;
pub mod task;

use arch::boot::BootInfo;
use arch::trap::TrapHandlers;

/// Called by the boot code (`arch::boot`) with what the boot protocol told it.
pub fn kernel_main(boot: BootInfo) -> ! {
    log::init();
    arch::init(&boot);
    // Locks learn the CPU number, how to spin and where to report an order violation.
    sync::install_hooks(sync::Hooks {
        cpu_id: arch::percpu::cpu_id,
        relax: arch::smp::poll_ipis,
        report: |args| log::write_line("", args),
    });
    mm::init(&boot);
    // The other CPUs: each waits until the boot CPU schedules, then runs threads with
    // `posix-x.smp=on` (parked otherwise).
    let cpus = arch::smp::start_aps(task::scheduler::start_ap);
    log!(
        "posix-x: {} CPUs online{}{}{}",
        cpus.online,
        if cpus.found_madt { "" } else { " (no ACPI MADT)" },
        if cpus.failed > 0 { ", some did not start" } else { "" },
        if cpus.left_off > 0 { ", some left off (MAX_CPUS)" } else { "" }
    );
    cmdline::init(boot.cmdline());
    syscall::trace::init();
    random::init();
    // The trap entry calls up into `process` and `syscall`, which `arch` may not name.
    arch::trap::set_handlers(TrapHandlers {
        syscall: syscall::dispatch,
        exception: process::trap::on_exception,
        irq: process::trap::on_irq,
        return_to_user: process::trap::on_return_to_user,
    });
    process::job_control::install();
    process::net_env::install();
    process::fileops::install_search_check();

    fs::init();
    ipc::mqueue::init(syscall::mqueue::caller);
    let unpacked = mm::with_initrd(&boot, fs::initramfs::unpack);
    match unpacked {
        Ok(n) => {
            log!("posix-x: {} initramfs entries, {} MiB free", n, mm::frame::free_frames() / 256)
        }
        Err(e) => log!("posix-x: initramfs: {:?}", e),
    }
    for (path, fs_type) in [
        ("/dev", "devtmpfs"),
        ("/dev/pts", "devpts"),
        ("/dev/shm", "tmpfs"),
        ("/tmp", "tmpfs"),
        ("/dev/mqueue", "mqueue"),
    ] {
        fs::mount_at_boot(path, fs_type);
    }
    drivers::probe();
    net::inet::init();
    procfs::init();
    fs::mount_at_boot("/proc", "proc");
    fs::mount_at_boot("/sys", "sysfs");
    fs::tty::console();
    task::diagnose::install();
    process::describe::install();
    if let Some(mode) = cmdline::value("posix-x.hang") {
        // Exercises the freeze diagnosis (the NMI dump, the watchdog) for the tests.
        task::diagnose::inject_hang(mode);
    }
    if cmdline::value("posix-x.lockorder") == Some("selftest") {
        // Shows that the lock-order checker reports a violation (for the tests).
        log!("posix-x: lock-order selftest: reported {}", sync::order_selftest());
    }
    if cmdline::value("posix-x.fault").is_some() {
        // Exercises the kernel-fault path (panic message, backtrace, exit status) for the tests.
        arch::cpu::deliberate_kernel_fault();
    }

    // Remote reschedules: an IPI, whose handler asks the target to switch.
    task::scheduler::set_kick(|cpu| arch::apic::send_ipi(cpu, arch::apic::Ipi::Reschedule));
    arch::trap::set_reschedule_handler(task::scheduler::on_reschedule_ipi);
    let launcher = task::Thread::new_kernel(process::launcher::main, 0);
    task::scheduler::start(launcher)
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    log::write_line_unlocked(format_args!("@@ panic"));
    log::write_line_unlocked(format_args!("kernel panic: {}", info));
    log::write_line_unlocked(format_args!("backtrace:"));
    arch::mem::backtrace(arch::cpu::frame_pointer(), |ret| {
        log::write_line_unlocked(format_args!("  {:#x}", ret));
    });
    log::write_line_unlocked(format_args!("@@ poweroff"));
    arch::power::exit_qemu(1)
}
