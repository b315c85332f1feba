// SPDX-License-Identifier: GPL-2.0

//! binfmt_misc in Rust: a drop-in replacement for the kernel's fs/binfmt_misc.c.
//!
//! Crate layout, outside in (see DESIGN.md):
//! - [`bindings`]: bindgen output for include/binfmt_misc_rs.h;
//! - [`vfs`]: the only `unsafe` code, small safe types over the VFS and exec
//!   objects, and the C vtables whose callbacks land in [`fs`] and [`exec`];
//! - [`bpf_ffi`]: the same for 'B' entries, over include/bpf_ops.c's struct_ops
//!   and kfuncs;
//! - [`fs`], [`exec`], [`instance`], [`bpf`]: the filesystem, the exec hook, the
//!   per-user-namespace instances, the bpf handlers, in safe Rust;
//! - [`grammar`], [`format`], [`matching`], [`bpf_rules`]: pure logic shared with
//!   the host crate.

use kernel::prelude::*;

mod bindings;
mod bpf;
mod bpf_ffi;
mod exec;
mod fs;
mod instance;
mod slots;
mod vfs;

// Public items of the pure modules are the host crate's API (rust/host.rs).
#[allow(unreachable_pub)]
mod bpf_rules;
#[allow(unreachable_pub)]
mod format;
#[allow(unreachable_pub)]
mod grammar;
#[allow(unreachable_pub)]
mod matching;

module! {
    type: BinfmtMiscModule,
    name: "binfmt_misc_rs",
    author: "binfmt_misc_rs developers",
    description: "Kernel support for miscellaneous binaries, in Rust",
    license: "GPL",
    alias: ["fs-binfmt_misc"],
}

struct BinfmtMiscModule {
    // Unregisters the filesystem and the binfmt handler when the module unloads.
    _registration: vfs::Registration,
}

impl kernel::Module for BinfmtMiscModule {
    fn init(module: &'static ThisModule) -> Result<Self> {
        let registry = KBox::pin_init(instance::Registry::new(), GFP_KERNEL)?;
        let registration = vfs::Registration::new(module, registry, bpf_ffi::register)?;
        Ok(Self {
            _registration: registration,
        })
    }
}
