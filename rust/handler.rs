// SPDX-License-Identifier: GPL-2.0

//! The registered bpf handlers (`binfmt_misc_ops`) of every user namespace,
//! and the program calls in progress, with what each stages for its exec.

#![forbid(unsafe_code)]

use crate::kernel_ext::bprm::BinPrm;
use crate::kernel_ext::call_table::CallTable;
use crate::kernel_ext::slots::Slots;
use crate::kernel_ext::struct_ops::BpfOps;
use crate::kernel_ext::user_ns::{NsKey, UserNamespace};
use kernel::prelude::*;
use kernel::sync::{Arc, Mutex};
use kernel::types::ARef;
use kernel::{new_mutex, pin_init};

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

/// The handlers of every user namespace, and the program calls in progress,
/// each with the `S` it stages.
#[pin_data]
pub(crate) struct Handlers<S> {
    #[pin]
    handlers: Mutex<Slots<Arc<Handler>>>,
    /// Read and written by every exec that runs a program: no lock.
    #[pin]
    calls: CallTable<S>,
}

impl<S> Handlers<S> {
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

    /// Runs `program` (a handler's `match` or `load`) with its kfuncs able to
    /// stage state for `bprm`, starting from `staging`, and returns its result
    /// and what it staged.
    pub(crate) fn call<R>(
        &self,
        bprm: &BinPrm,
        staging: S,
        program: impl FnOnce() -> R,
    ) -> Result<(R, S)> {
        self.calls.run(bprm.key(), staging, program)
    }

    /// The program calls in progress, where the kfuncs find their staging.
    pub(crate) fn calls(&self) -> &CallTable<S> {
        &self.calls
    }
}
