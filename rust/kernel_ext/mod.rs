// SPDX-License-Identifier: GPL-2.0

//! Kernel abstractions: safe types over the kernel objects binfmt_misc uses,
//! and C tables whose `extern "C"` callbacks are generic over a trait the
//! user implements ([`binfmt::BinaryFormat`], [`filesystem::FileSystem`],
//! [`file::FileOperations`], [`struct_ops::StructOps`],
//! [`workqueue::DelayedWork`]).
//!
//! Every `unsafe` block of the crate is in this folder. It depends on the
//! `kernel` crate, its own bindings of include/binfmt_misc_rs.h and the C of
//! include/, never on the code above it. What depends on the kernel version is
//! here and in include/, checked against Linux 6.12:
//! - the struct members read and written through the bindings (bindgen takes
//!   their layout from the kernel's headers at build time; what they mean is
//!   6.12's): `linux_binprm`, `super_block`, `inode`, `fs_context`,
//!   `file_system_type`, ...;
//! - include/bpf_ops.c's mirror of 6.12's private `struct bpf_struct_ops_map`
//!   (refuses to build for another version);
//! - APIs that later kernels change: `lookup_one_len()` (filesystem.rs),
//!   `open_exec()` and the exec write-denial helpers (exec_file.rs), the
//!   6.12 `kernel` crate's missing errnos (error.rs) and vector removal
//!   (slots.rs).

#![allow(unsafe_code)]

mod bindings;
mod c_table;

pub(crate) mod binfmt;
pub(crate) mod boxed;
pub(crate) mod bprm;
pub(crate) mod call_table;
pub(crate) mod callback_state;
pub(crate) mod error;
pub(crate) mod exec_file;
pub(crate) mod file;
pub(crate) mod filesystem;
pub(crate) mod rcu;
pub(crate) mod set_once;
pub(crate) mod slots;
pub(crate) mod struct_ops;
pub(crate) mod use_count;
pub(crate) mod user_ns;
pub(crate) mod workqueue;
