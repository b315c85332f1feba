// SPDX-License-Identifier: GPL-2.0

//! bpf-backed handlers ('B' entries), with upstream Linux 7.3's interface on 6.12:
//! the registry serves the `binfmt_misc_ops` struct_ops type, registering
//! handlers in the registering task's user namespace and routing the kfuncs to
//! the staging of the call in progress.

#![forbid(unsafe_code)]

use crate::bpf_rules;
use crate::instance::Registry;
use crate::kernel_ext::call_table::CallTable;
use crate::kernel_ext::struct_ops::{BpfOps, StructOps};
use crate::kernel_ext::user_ns::UserNamespace;
use crate::staging::Staging;
use kernel::prelude::*;

impl StructOps for Registry {
    type Staging = Staging;

    /// The name of a handler as the bpf core names objects: 1 to 15 characters
    /// of letters, digits, `_` and `.`, NUL-terminated within `raw`.
    fn check_name(raw: &[u8]) -> Result<&[u8]> {
        bpf_rules::object_name(raw).map_err(|_| EINVAL)
    }

    /// A handler is registered in the caller's user namespace.
    fn register(&self, name: &[u8], link: usize, ops: BpfOps) -> Result {
        self.bpf()
            .register(UserNamespace::current(), name, link, ops)
    }

    fn unregister(&self, kdata: usize, link: usize) {
        self.bpf().unregister(kdata, link);
    }

    fn calls(&self) -> &CallTable<Staging> {
        self.bpf().calls()
    }

    fn set_interp(staging: &mut Staging, path: &[u8]) -> Result {
        staging.set_interp(path)
    }

    fn select_interp(staging: &mut Staging, name: &[u8]) -> Result {
        staging.select_interp(name)
    }

    fn set_interp_arg(staging: &mut Staging, arg: &[u8]) -> Result {
        staging.set_interp_arg(arg)
    }

    fn set_flags(staging: &mut Staging, flags: u64) -> Result {
        staging.set_flags(flags)
    }
}
