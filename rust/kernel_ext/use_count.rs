// SPDX-License-Identifier: GPL-2.0

//! Upstream's entry `users` count: a value held while some user holds it.

use core::cell::UnsafeCell;
use core::ptr::NonNull;
use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use kernel::sync::Arc;

/// A value held for as long as some user holds it, as upstream's entry `users`
/// count keeps an entry's files: users are counted, a new one can only join
/// while another still holds the value, and the last to leave drops it.
///
/// # Invariants
///
/// `value` is `Some` while `users` is not zero, and is changed only by the user
/// that takes `users` to zero (or by drop).
pub(crate) struct UseCount<T> {
    /// 32 bits, as upstream's `refcount_t`: it packs with `creator_left`, a
    /// word less in every entry. A join that would overflow it fails.
    users: AtomicU32,
    /// Whether the creator has left.
    creator_left: AtomicBool,
    value: UnsafeCell<Option<T>>,
}

// SAFETY: Users on any task read `&T`; the last one, on any task, drops it.
unsafe impl<T: Send + Sync> Send for UseCount<T> {}
// SAFETY: As above.
unsafe impl<T: Send + Sync> Sync for UseCount<T> {}

impl<T> UseCount<T> {
    /// `value` with one user, the creator, which [`UseCount::leave_creator`] releases.
    pub(crate) fn new(value: T) -> Self {
        Self {
            users: AtomicU32::new(1),
            creator_left: AtomicBool::new(false),
            value: UnsafeCell::new(Some(value)),
        }
    }

    /// The creator leaves (again: nothing); the value comes back if it was the
    /// last user, to drop where it may sleep.
    pub(crate) fn leave_creator(&self) -> Option<T> {
        if self.creator_left.swap(true, Ordering::AcqRel) {
            return None;
        }
        // SAFETY: The creator is a user until now, and leaves once.
        unsafe { self.leave() }
    }

    /// Joins as a user if the value is still held.
    fn join(&self) -> bool {
        self.users
            .fetch_update(Ordering::Acquire, Ordering::Relaxed, |n| {
                if n == 0 {
                    None
                } else {
                    n.checked_add(1)
                }
            })
            .is_ok()
    }

    /// Leaves; the last user gets the value, to drop where it may sleep.
    ///
    /// # Safety
    ///
    /// The caller must be a user: the creator, once, or one that joined.
    unsafe fn leave(&self) -> Option<T> {
        if self.users.fetch_sub(1, Ordering::AcqRel) != 1 {
            return None;
        }
        // SAFETY: No user is left and none can join, so nobody reads the value.
        unsafe { (*self.value.get()).take() }
    }

    /// The value, for a user.
    ///
    /// # Safety
    ///
    /// The caller must be a user.
    unsafe fn get(&self) -> &T {
        // SAFETY: While a user holds it, the value is `Some` and not changed
        // (type invariant).
        unsafe { (*self.value.get()).as_ref().unwrap_unchecked() }
    }
}

/// An object with a [`UseCount`].
pub(crate) trait HasUseCount: Send + Sync {
    type Value;
    fn use_count(&self) -> &UseCount<Self::Value>;
}

/// A use of an object's value by one more user; leaves on drop.
///
/// # Invariants
///
/// `count` is the count of `object` that this use joined: the reference
/// `use_count` returned from `object`, which lives as long as `object` does.
pub(crate) struct InUse<C: HasUseCount> {
    object: Arc<C>,
    count: NonNull<UseCount<C::Value>>,
}

// SAFETY: A use is the `Arc` and a shared reference into it: `C: Send + Sync`,
// and the value is read from any task and may be dropped by the last user.
unsafe impl<C: HasUseCount> Send for InUse<C> where C::Value: Send + Sync {}
// SAFETY: As above.
unsafe impl<C: HasUseCount> Sync for InUse<C> where C::Value: Send + Sync {}

impl<C: HasUseCount> InUse<C> {
    /// A new use of `object`'s value, unless it was released already.
    pub(crate) fn join(object: &Arc<C>) -> Option<Self> {
        let count = object.use_count();
        count.join().then(|| Self {
            object: object.clone(),
            count: NonNull::from(count),
        })
    }

    fn count(&self) -> &UseCount<C::Value> {
        // SAFETY: `count` lives as long as `object`, which we hold (invariant).
        unsafe { self.count.as_ref() }
    }

    pub(crate) fn value(&self) -> &C::Value {
        // SAFETY: `self` is a user of `count` (invariant).
        unsafe { self.count().get() }
    }

    pub(crate) fn object(&self) -> &Arc<C> {
        &self.object
    }
}

impl<C: HasUseCount> Drop for InUse<C> {
    fn drop(&mut self) {
        // SAFETY: `self` is a user of `count` (invariant), leaving once.
        drop(unsafe { self.count().leave() });
    }
}
