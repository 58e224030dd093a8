//! What execve builds, computed from bytes alone: where a static ELF executable's segments
//! go (`elf`), what a `#!` line asks for (`shebang`), and the initial stack Linux programs
//! expect (`stack`). The kernel maps and copies; these functions decide, and the host runs
//! their unit tests (`cargo test -p exec-plan`, part of `cargo xtask test`).

#![no_std]

extern crate alloc;
#[cfg(test)]
extern crate std;

pub mod elf;
pub mod shebang;
pub mod stack;
