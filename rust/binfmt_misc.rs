// SPDX-License-Identifier: GPL-2.0

//! binfmt_misc in Rust: a drop-in replacement for the kernel's fs/binfmt_misc.c.
//!
//! Two layers (see DESIGN.md), and nothing points up:
//! - [`kernel_ext`]: the kernel abstractions, the only `unsafe` code: safe types
//!   over the VFS, exec, bpf and RCU objects, and the C tables whose callbacks
//!   are generic over the traits binfmt_misc implements (`BinaryFormat`,
//!   `FileSystem`, `FileOperations`, `StructOps`, `DelayedWork`);
//! - binfmt_misc itself, in safe Rust, each file importing only those below it:
//!   this file (the module); [`fs`] (the filesystem and its files), [`exec`]
//!   (the binfmt handler) and [`bpf`] (the struct_ops type's handlers), which
//!   implement the abstractions' traits on the [`instance`] registry; below it
//!   [`staging`] (what a bpf handler's programs stage for an exec), [`entry`]
//!   (registered entries) and [`handler`] (the registered bpf handlers); at the
//!   bottom the pure logic shared with the host crate (rust/host.rs):
//!   [`grammar`], [`format`], [`matching`], [`lookup`], [`bpf_rules`].

#![deny(unsafe_code)]

use kernel::prelude::*;
use kernel::sync::Arc;

mod kernel_ext;

mod bpf;
mod entry;
mod exec;
mod fs;
mod handler;
mod instance;
mod staging;

// Public items of the pure modules are the host crate's API (rust/host.rs).
#[allow(unreachable_pub)]
mod bpf_rules;
#[allow(unreachable_pub)]
mod format;
#[allow(unreachable_pub)]
mod grammar;
#[allow(unreachable_pub)]
mod lookup;
#[allow(unreachable_pub)]
mod matching;

use instance::Registry;
use kernel_ext::workqueue::{DelayedWorkRegistration, ModuleQueue};
use kernel_ext::{binfmt, filesystem, struct_ops};

module! {
    type: BinfmtMiscModule,
    name: "binfmt_misc_rs",
    author: "binfmt_misc_rs developers",
    description: "Kernel support for miscellaneous binaries, in Rust",
    license: "GPL",
    alias: ["fs-binfmt_misc"],
}

/// What the module registered. Fields drop in order: the binfmt handler and the
/// filesystem first, through which execs and mounts enter, then the
/// collection, then the workqueue, which waits for the frees queued on it.
struct BinfmtMiscModule {
    _binfmt: binfmt::Registration<Registry>,
    _fs: filesystem::Registration<Registry>,
    _collect: DelayedWorkRegistration<Registry>,
    _bpf: struct_ops::Registration<Registry>,
    _queue: ModuleQueue,
    _registry: Arc<Registry>,
}

impl kernel::Module for BinfmtMiscModule {
    /// Registers in an order that exposes nothing half made: the workqueue and
    /// the registry first, then the struct_ops type and kfuncs (which no map can
    /// use before the module is live), and the filesystem and the binfmt,
    /// through which mounts and execs enter, last. If a step fails, the ones
    /// before it are undone.
    fn init(module: &'static ThisModule) -> Result<Self> {
        let registry = Arc::pin_init(Registry::new(), GFP_KERNEL)?;
        let queue = ModuleQueue::new()?;
        let collect = DelayedWorkRegistration::new(registry.clone())?;
        let bpf = struct_ops::Registration::new(registry.clone())?;
        // Made before the filesystem is registered and registered after it,
        // since nothing may fail once mounts can come in.
        let binfmt = binfmt::Unregistered::new(module, registry.clone())?;
        let fs = filesystem::Registration::new(&fs::FS_TYPE, module, registry.clone())?;
        Ok(Self {
            _binfmt: binfmt.register(),
            _fs: fs,
            _collect: collect,
            _bpf: bpf,
            _queue: queue,
            _registry: registry,
        })
    }
}
