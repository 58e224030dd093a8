//! The decisions at the heart of POSIX-X's IPC that need no kernel to make: which message
//! msgrcv takes, whether a semop list goes through, what a `sockaddr_un` names, which byte
//! ranges a record lock covers and whom it keeps out. Each is a plain function over plain data,
//! so the kernel calls it under its own locks and the host runs its unit tests
//! (`cargo test -p ipc-rules`, part of `cargo xtask test`).

#![no_std]

extern crate alloc;
#[cfg(test)]
extern crate std;

pub mod file_lock;
pub mod mqueue;
pub mod msg_select;
pub mod semop;
pub mod unix_addr;
