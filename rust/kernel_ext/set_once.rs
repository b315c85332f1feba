// SPDX-License-Identifier: GPL-2.0

//! A value set once and then read without a lock.

use core::ptr;
use core::sync::atomic::{AtomicPtr, Ordering};
use kernel::prelude::*;

/// A value set once, then read without a lock: what readers see is never
/// changed nor freed while the holder lives.
///
/// # Invariants
///
/// The pointer is null or a `KBox` made raw by `set`, owned by `self`.
pub(crate) struct SetOnce<T>(AtomicPtr<T>);

// SAFETY: Readers on any task get `&T`; the value is dropped with the holder.
unsafe impl<T: Send + Sync> Send for SetOnce<T> {}
// SAFETY: As above.
unsafe impl<T: Send + Sync> Sync for SetOnce<T> {}

impl<T> SetOnce<T> {
    pub(crate) const fn new() -> Self {
        Self(AtomicPtr::new(ptr::null_mut()))
    }

    /// Sets the value; gives it back if one was set already.
    pub(crate) fn set(&self, value: KBox<T>) -> core::result::Result<(), KBox<T>> {
        let raw = KBox::into_raw(value);
        // Release: a reader that sees the pointer sees the value.
        match self
            .0
            .compare_exchange(ptr::null_mut(), raw, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => Ok(()),
            // SAFETY: Not published: still the box we made raw above.
            Err(_) => Err(unsafe { KBox::from_raw(raw) }),
        }
    }

    pub(crate) fn get(&self) -> Option<&T> {
        // SAFETY: A set value lives, unchanged, as long as `self`.
        unsafe { self.0.load(Ordering::Acquire).as_ref() }
    }
}

impl<T> Drop for SetOnce<T> {
    fn drop(&mut self) {
        let raw = *self.0.get_mut();
        if !raw.is_null() {
            // SAFETY: Set by `set` from a `KBox`, and nobody else can read it now.
            drop(unsafe { KBox::from_raw(raw) });
        }
    }
}
