// SPDX-License-Identifier: GPL-2.0

//! bpf-backed handlers ('B' entries), with upstream Linux 7.3's interface on 6.12:
//! the registered `binfmt_misc_ops` handlers of every user namespace, and the
//! state a handler's programs stage for one exec through the kfuncs.

#![forbid(unsafe_code)]

use crate::bpf_rules::{self, FlagsError};
use crate::grammar::Flags;
use crate::instance::{with_nul, Entry, Registry};
use crate::kernel_ext::bprm::BinPrm;
use crate::kernel_ext::call_table::CallTable;
use crate::kernel_ext::error::ENAMETOOLONG;
use crate::kernel_ext::slots::Slots;
use crate::kernel_ext::struct_ops::{BpfOps, StructOps};
use crate::kernel_ext::use_count::InUse;
use crate::kernel_ext::user_ns::{NsKey, UserNamespace};
use kernel::prelude::*;
use kernel::sync::{Arc, Mutex};
use kernel::types::ARef;
use kernel::{new_mutex, pin_init};

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
        &self.bpf().calls
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

/// A registered `binfmt_misc_ops`.
pub(crate) struct Handler {
    /// The namespace the handler was registered in; held so that its key stays
    /// unique while the handler is registered.
    ns: ARef<UserNamespace>,
    name: KVec<u8>,
    /// The bpf link it was registered through, or 0; identifies the registration
    /// with the ops, since one link-type map may be registered through several.
    link: usize,
    ops: BpfOps,
}

impl Handler {
    pub(crate) fn name(&self) -> &[u8] {
        &self.name
    }

    pub(crate) fn ops(&self) -> &BpfOps {
        &self.ops
    }
}

/// What a `load` program chose for its exec.
pub(crate) enum Interpreter {
    /// A path, opened at exec time with the exec'ing task's credentials.
    Path(KVec<u8>),
    /// The entry's bound interpreter of this index.
    Bound(usize),
}

/// The argument a `load` program puts between the interpreter and the binary.
pub(crate) enum InterpArg {
    /// The argument, with NUL.
    Arg(KVec<u8>),
    /// Longer than exec takes any argument (`MAX_ARG_STRLEN`): accepted, as
    /// upstream, and the exec fails with `E2BIG` where it would push it.
    TooLong,
}

/// The state a program stages through the kfuncs, as upstream keeps it in
/// `struct linux_binprm`, which a module cannot extend.
pub(crate) struct Staging {
    /// The entry the program runs for, in use by the exec.
    entry: InUse<Entry>,
    pub(crate) interpreter: Option<Interpreter>,
    /// The argument inserted between the interpreter and the binary, with NUL.
    pub(crate) arg: Option<InterpArg>,
    pub(crate) flags: Flags,
}

impl Staging {
    fn new(entry: InUse<Entry>) -> Self {
        Self {
            entry,
            interpreter: None,
            arg: None,
            flags: Flags::default(),
        }
    }

    /// The entry the call ran for, in use, given back with what was staged.
    pub(crate) fn into_entry(self) -> InUse<Entry> {
        self.entry
    }

    /// The entry the call ran for, in use.
    pub(crate) fn entry(&self) -> &InUse<Entry> {
        &self.entry
    }

    /// `bpf_binprm_set_interp()`.
    pub(crate) fn set_interp(&mut self, path: &[u8]) -> Result {
        let path = bpf_rules::interp_path(path).map_err(|e| match e {
            bpf_rules::PathError::Invalid => EINVAL,
            bpf_rules::PathError::TooLong => ENAMETOOLONG(),
        })?;
        self.interpreter = Some(Interpreter::Path(with_nul(path, GFP_KERNEL)?));
        Ok(())
    }

    /// `bpf_binprm_select_interp()`.
    pub(crate) fn select_interp(&mut self, name: &[u8]) -> Result {
        let name = bpf_rules::c_string(name).map_err(|_| EINVAL)?;
        let index = self.entry.value().binding_index(name).ok_or(ENOENT)?;
        self.interpreter = Some(Interpreter::Bound(index));
        Ok(())
    }

    /// `bpf_binprm_set_interp_arg()`.
    pub(crate) fn set_interp_arg(&mut self, arg: &[u8]) -> Result {
        // No length limit of its own, as upstream: exec's argument limits apply,
        // so one that exec would refuse is not copied.
        let arg = bpf_rules::c_string(arg).map_err(|_| EINVAL)?;
        self.arg = Some(if arg.len() >= bpf_rules::MAX_ARG_STRLEN {
            InterpArg::TooLong
        } else {
            InterpArg::Arg(with_nul(arg, GFP_KERNEL)?)
        });
        Ok(())
    }

    /// `bpf_binprm_set_flags()`.
    pub(crate) fn set_flags(&mut self, flags: u64) -> Result {
        self.flags = bpf_rules::invocation_flags(flags).map_err(|FlagsError::Invalid| EINVAL)?;
        Ok(())
    }
}

/// The handlers of every user namespace, and the program calls in progress.
#[pin_data]
pub(crate) struct Handlers {
    #[pin]
    handlers: Mutex<Slots<Arc<Handler>>>,
    /// Read and written by every exec that runs a program: no lock.
    #[pin]
    calls: CallTable<Staging>,
}

impl Handlers {
    pub(crate) fn new() -> impl PinInit<Self> {
        pin_init!(Self {
            handlers <- new_mutex!(Slots::default(), "binfmt_misc_rs::Handlers::handlers"),
            calls <- CallTable::new(),
        })
    }

    /// struct_ops `reg`: names are unique per user namespace, as upstream.
    pub(crate) fn register(
        &self,
        ns: ARef<UserNamespace>,
        name: &[u8],
        link: usize,
        ops: BpfOps,
    ) -> Result {
        let mut owned = KVec::with_capacity(name.len(), GFP_KERNEL)?;
        owned.extend_from_slice(name, GFP_KERNEL)?;
        let handler = Arc::new(
            Handler {
                ns,
                name: owned,
                link,
                ops,
            },
            GFP_KERNEL,
        )?;
        let mut handlers = self.handlers.lock();
        let key = handler.ns.key();
        if handlers
            .iter()
            .any(|h| h.ns.key() == key && h.name() == name)
        {
            return Err(EEXIST);
        }
        handlers.put(handler, GFP_KERNEL)
    }

    /// struct_ops `unreg`: entries that use the handler keep it.
    pub(crate) fn unregister(&self, kdata: usize, link: usize) {
        let mut handlers = self.handlers.lock();
        let handler = handlers.take(|h| h.ops.is(kdata) && h.link == link);
        drop(handlers);
        drop(handler);
    }

    /// The handler named `name` registered in user namespace `ns`; upstream looks
    /// only there, not in ancestors.
    pub(crate) fn lookup(&self, ns: NsKey, name: &[u8]) -> Option<Arc<Handler>> {
        self.handlers
            .lock()
            .iter()
            .find(|h| h.ns.key() == ns && h.name() == name)
            .cloned()
    }

    /// Runs `program` (a call of `entry`'s `match` or `load`) with its kfuncs able
    /// to stage state for `bprm`, and returns its result and what it staged.
    pub(crate) fn call<R>(
        &self,
        bprm: &BinPrm,
        entry: InUse<Entry>,
        program: impl FnOnce() -> R,
    ) -> Result<(R, Staging)> {
        self.calls.run(bprm.key(), Staging::new(entry), program)
    }
}
