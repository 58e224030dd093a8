//! POSIX-X: the entry after boot. Initialisation order only; everything else lives in modules.

#![no_std]
#![no_main]

extern crate alloc;

#[path = "arch/x86_64/mod.rs"]
pub mod arch;
pub mod cmdline;
pub mod error;
pub mod event;
pub mod fs;
pub mod ipc;
pub mod log;
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

#[no_mangle]
extern "C" fn kernel_entry(start_info: u64) -> ! {
    log::init();
    let boot = BootInfo::parse(start_info);
    arch::init();
    mm::init(&boot);
    cmdline::init(boot.cmdline());
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
    let unpacked = fs::initramfs::unpack(mm::initrd_bytes(&boot));
    match unpacked {
        Ok(n) => {
            log!("posix-x: {} initramfs entries, {} MiB free", n, mm::frame::free_frames() / 256)
        }
        Err(e) => log!("posix-x: initramfs: {:?}", e),
    }
    mm::release_initrd(&boot);
    for (path, fs_type) in [
        ("/dev", "devtmpfs"),
        ("/dev/pts", "devpts"),
        ("/dev/shm", "tmpfs"),
        ("/tmp", "tmpfs"),
        ("/dev/mqueue", "mqueue"),
    ] {
        fs::mount_at_boot(path, fs_type);
    }
    procfs::init();
    fs::mount_at_boot("/proc", "proc");
    fs::tty::console();
    task::diagnose::install();
    process::describe::install();
    if let Some(mode) = cmdline::value("posix-x.hang") {
        // Exercises the freeze diagnosis (the NMI dump, the watchdog) for the tests.
        task::diagnose::inject_hang(mode);
    }
    if cmdline::value("posix-x.fault").is_some() {
        // Exercises the kernel-fault path (panic message, backtrace, exit status) for the tests.
        arch::cpu::touch(0xffff_ffff_0000_0000);
    }

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
