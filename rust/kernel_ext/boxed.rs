// SPDX-License-Identifier: GPL-2.0

//! A full vector as a boxed slice, which the 6.12 `kernel` crate lacks.

use kernel::prelude::*;

/// `v`'s allocation as a box of exactly its length: a pointer and a length, a
/// word less than the vector, which also keeps its capacity. Given back unless
/// `v` is full (its length is its capacity) and not empty.
pub(crate) fn into_boxed_slice<T>(v: KVec<T>) -> core::result::Result<KBox<[T]>, KVec<T>> {
    if v.is_empty() || v.len() != v.capacity() || core::mem::size_of::<T>() == 0 {
        return Err(v);
    }
    let (ptr, len, _capacity) = v.into_raw_parts();
    // SAFETY: `ptr` is a `Kmalloc` allocation of `len` initialised `T`s, made
    // with the layout of `[T; len]` (the capacity is the length, and neither
    // is zero nor `T` zero-sized), which is the layout the box frees it with.
    Ok(unsafe { KBox::from_raw(core::ptr::slice_from_raw_parts_mut(ptr, len)) })
}
