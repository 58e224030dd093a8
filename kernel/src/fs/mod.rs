//! Everything that is a file: the open-file layer, the descriptor table, the in-memory file
//! system, path walk, the initramfs and the console terminal.

pub mod fd_table;
pub mod file;
pub mod initramfs;
pub mod path;
pub mod tmpfs;
pub mod tty;

use alloc::sync::Arc;
use spin::Once;

use tmpfs::Inode;

static ROOT: Once<Arc<Inode>> = Once::new();

pub fn root() -> &'static Arc<Inode> {
    ROOT.call_once(|| Inode::new_dir(0o755))
}
