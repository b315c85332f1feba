// SPDX-License-Identifier: GPL-2.0

//! The state of C callbacks that carry no pointer to it: exec's
//! `load_binary()`, a filesystem type's `init_fs_context()`, struct_ops `reg`,
//! a static delayed work. They find it through a static the user declares.

use core::ptr;
use core::sync::atomic::{AtomicPtr, Ordering};
use kernel::prelude::*;
use kernel::sync::Arc;

/// Where the callbacks of `T`'s registrations find `T`: set by the first
/// registration of a module load and never changed after, so that every
/// registration of `T` serves the same value.
///
/// # Invariants
///
/// The pointer is null or the value of an `Arc<T>`, which lives as long as
/// some registration of `T` holds it.
pub(crate) struct CallbackState<T>(AtomicPtr<T>);

/// A type whose registrations' callbacks find it through a static.
pub(crate) trait HasCallbackState: Send + Sync + Sized + 'static {
    /// The static, declared with [`CallbackState::new`]. A constant, not a
    /// function, so that every use names the same static: a constant reference
    /// to a value with interior mutability can only be one to a static, so the
    /// state a registration publishes is the one its callbacks read.
    const CALLBACK_STATE: &'static CallbackState<Self>;
}

impl<T> CallbackState<T> {
    pub(crate) const fn new() -> Self {
        Self(AtomicPtr::new(ptr::null_mut()))
    }
}

impl<T: HasCallbackState> CallbackState<T> {
    /// Publishes `state` for the callbacks of a registration, which keeps
    /// `state` alive for as long as its callbacks can run. `EBUSY` if another
    /// value was published in this module load.
    pub(super) fn publish(state: &Arc<T>) -> Result {
        let raw: *const T = &**state;
        let raw = raw.cast_mut();
        match T::CALLBACK_STATE.0.compare_exchange(
            ptr::null_mut(),
            raw,
            Ordering::AcqRel,
            Ordering::Acquire,
        ) {
            Ok(_) => Ok(()),
            Err(current) if current == raw => Ok(()),
            Err(_) => Err(EBUSY),
        }
    }

    /// The published state.
    ///
    /// # Safety
    ///
    /// Only from a callback of a registration that published the state and
    /// holds it: the callback cannot run once the registration is gone.
    pub(super) unsafe fn get<'a>() -> &'a T {
        // SAFETY: The registration published this pointer from the `Arc` it
        // holds, and it is never changed after.
        unsafe { &*T::CALLBACK_STATE.0.load(Ordering::Acquire) }
    }
}
