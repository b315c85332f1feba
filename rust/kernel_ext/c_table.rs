// SPDX-License-Identifier: GPL-2.0

//! C tables in static memory (filesystem type, operations), which the kernel
//! reads and, for lists and refcounts, writes through its own locks.

use kernel::types::Opaque;

/// A C table in a static. Rust writes it only before registering it.
#[repr(transparent)]
pub(super) struct CTable<T>(Opaque<T>);

// SAFETY: After registration only C touches the table, under C's own locking.
unsafe impl<T> Sync for CTable<T> {}

impl<T> CTable<T> {
    pub(super) const fn new(value: T) -> Self {
        Self(Opaque::new(value))
    }

    pub(super) const fn get(&self) -> *mut T {
        self.0.get()
    }
}

/// All-zeroes for a C table's members left unset.
macro_rules! zeroed {
    () => {
        // SAFETY: The C tables are plain structs of integers, pointers and optional
        // function pointers, for which all-zeroes is the valid "unset" value.
        unsafe { core::mem::zeroed() }
    };
}
pub(super) use zeroed;
