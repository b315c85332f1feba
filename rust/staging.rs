// SPDX-License-Identifier: GPL-2.0

//! What a handler's programs stage for one exec through the kfuncs: upstream
//! keeps it in `struct linux_binprm`, which a module cannot extend.

#![forbid(unsafe_code)]

use crate::bpf_rules::{self, FlagsError};
use crate::entry::{with_nul, Entry};
use crate::grammar::Flags;
use crate::kernel_ext::error::ENAMETOOLONG;
use crate::kernel_ext::use_count::InUse;
use kernel::prelude::*;

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
    /// What a call for `entry` starts from: nothing staged.
    pub(crate) fn new(entry: InUse<Entry>) -> Self {
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
