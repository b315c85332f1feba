// SPDX-License-Identifier: GPL-2.0

//! Binary formats: a `struct linux_binfmt` whose `load_binary` calls a
//! [`BinaryFormat`].

use super::bindings as b;
use super::bprm::BinPrm;
use super::c_table::zeroed;
use super::callback_state::{CallbackState, HasCallbackState};
use kernel::error::from_result;
use kernel::prelude::*;
use kernel::sync::Arc;
use kernel::types::Opaque;
use kernel::ThisModule;

/// A binary format handler.
pub(crate) trait BinaryFormat: HasCallbackState {
    /// Takes the exec of `bprm` or refuses it; `ENOEXEC` lets the next format try.
    fn load_binary(&self, bprm: &mut BinPrm) -> Result;
}

/// A binary format ready to register: everything that can fail is done, so a
/// module can make it before it registers anything else and register it last,
/// once no step of its init can fail any more (an exec that got in during init
/// would otherwise run on a module that init's failure frees).
pub(crate) struct Unregistered<T: BinaryFormat> {
    format: KBox<Opaque<b::linux_binfmt>>,
    state: Arc<T>,
}

impl<T: BinaryFormat> Unregistered<T> {
    /// Makes `state`'s format, to be asked before the formats already registered
    /// (the ELF loader), as upstream's insert_binfmt().
    pub(crate) fn new(module: &'static ThisModule, state: Arc<T>) -> Result<Self> {
        CallbackState::publish(&state)?;
        let format = KBox::new(
            Opaque::new(b::linux_binfmt {
                load_binary: Some(load_binary::<T>),
                module: module.as_ptr().cast(),
                ..zeroed!()
            }),
            GFP_KERNEL,
        )?;
        Ok(Self { format, state })
    }

    /// Registers the format with exec; it cannot fail.
    pub(crate) fn register(self) -> Registration<T> {
        // SAFETY: `format` is a valid linux_binfmt that lives, at the same address,
        // until `Registration::drop` unregisters it; the 1 inserts it at the head.
        unsafe { b::__register_binfmt(self.format.get(), 1) };
        Registration {
            format: self.format,
            _state: self.state,
        }
    }
}

/// A registered binary format: owns the C `linux_binfmt` exec's list links.
///
/// # Invariants
///
/// `format` is registered with exec from [`Unregistered::register`] until
/// `drop`, which only module exit runs (see there).
pub(crate) struct Registration<T: BinaryFormat> {
    format: KBox<Opaque<b::linux_binfmt>>,
    _state: Arc<T>,
}

// SAFETY: The C struct is only touched by exec, under its own lock, once
// registered; unregistering may happen on any task.
unsafe impl<T: BinaryFormat> Send for Registration<T> {}
// SAFETY: `&Registration` gives access to nothing.
unsafe impl<T: BinaryFormat> Sync for Registration<T> {}

impl<T: BinaryFormat> Drop for Registration<T> {
    fn drop(&mut self) {
        // SAFETY: Registered in `Unregistered::register`. Exec holds a module
        // reference while it calls us, so no call is running or can start once
        // this returns, provided the module is going away: a registration is
        // dropped only by module exit (a running exec pins the module, and exec
        // reads `format`'s list links after `load_binary` returns, under the lock
        // `unregister_binfmt` takes).
        unsafe { b::unregister_binfmt(self.format.get()) };
    }
}

/// # Safety
///
/// Only as `linux_binfmt.load_binary` of a [`Registration<T>`]: called by exec
/// with the bprm of the exec in progress.
unsafe extern "C" fn load_binary<T: BinaryFormat>(
    bprm: *mut b::linux_binprm,
) -> kernel::ffi::c_int {
    // SAFETY: The registration is live while exec calls it.
    let state = unsafe { CallbackState::<T>::get() };
    // SAFETY: Exec passes its bprm, which only this binfmt touches during the call.
    let bprm = unsafe { BinPrm::from_raw(bprm) };
    from_result(|| state.load_binary(bprm).map(|()| 0))
}
