// SPDX-License-Identifier: GPL-2.0

//! User namespaces: a refcounted handle, identities for lookups, and the
//! caller's namespace and its ancestors.

use super::bindings as b;
use core::ptr::NonNull;
use kernel::types::{ARef, AlwaysRefCounted, Opaque};

/// A `struct user_namespace`.
#[repr(transparent)]
pub(crate) struct UserNamespace(Opaque<b::user_namespace>);

/// Identity of a user namespace, for lookups; never dereferenced.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct NsKey(usize);

// SAFETY: get_user_ns()/put_user_ns() keep the namespace alive while referenced.
unsafe impl AlwaysRefCounted for UserNamespace {
    fn inc_ref(&self) {
        // SAFETY: `self` is a live namespace, so taking another reference is valid.
        unsafe { b::bmrs_get_user_ns(self.as_ptr()) };
    }

    unsafe fn dec_ref(obj: NonNull<Self>) {
        // SAFETY: The caller owns the reference being dropped.
        unsafe { b::bmrs_put_user_ns(obj.cast().as_ptr()) };
    }
}

// SAFETY: User namespaces are refcounted and immutable where we read them.
unsafe impl Send for UserNamespace {}
// SAFETY: As above.
unsafe impl Sync for UserNamespace {}

impl UserNamespace {
    /// # Safety
    ///
    /// `ptr` must point to a live namespace for the returned lifetime.
    pub(super) unsafe fn from_raw<'a>(ptr: *mut b::user_namespace) -> &'a Self {
        // SAFETY: `Self` is a transparent wrapper; liveness is the caller's.
        unsafe { &*ptr.cast() }
    }

    pub(super) fn as_ptr(&self) -> *mut b::user_namespace {
        self.0.get()
    }

    /// The caller's user namespace.
    pub(crate) fn current() -> ARef<Self> {
        // SAFETY: The caller's credentials hold their namespace while it runs.
        unsafe { Self::from_raw(b::bmrs_current_user_ns()) }.into()
    }

    pub(crate) fn key(&self) -> NsKey {
        NsKey(self.as_ptr() as usize)
    }

    /// Whether the caller's reference is the only one: then no task, credential,
    /// superblock, child namespace or nsfs file refers to the namespace, and none
    /// can again, since a reference can only be had from an existing one.
    pub(crate) fn is_only_reference(&self) -> bool {
        // SAFETY: `self` is live; reading the refcount has no requirements.
        unsafe { b::bmrs_user_ns_only_ref(self.as_ptr()) }
    }
}

/// The keys of the caller's user namespace and of its ancestors, nearest first.
pub(crate) fn current_user_ns_chain() -> impl Iterator<Item = NsKey> {
    // SAFETY: The caller's credentials hold its namespace and every namespace holds
    // its parent, and only the task itself replaces its credentials.
    let mut next = unsafe { b::bmrs_current_user_ns() };
    core::iter::from_fn(move || {
        let ns = NonNull::new(next)?;
        // SAFETY: `ns` is live, see above.
        next = unsafe { (*ns.as_ptr()).parent };
        Some(NsKey(ns.as_ptr() as usize))
    })
}
