// SPDX-License-Identifier: GPL-2.0

//! RCU publication: a boxed value readers use under `rcu_read_lock()` without
//! a lock, replaced whole by writers, and freed a grace period later on the
//! module's workqueue, so that no writer waits for one.

use super::bindings as b;
use super::workqueue;
use core::marker::PhantomData;
use core::ptr::{self, NonNull};
use core::sync::atomic::{AtomicPtr, Ordering};
use kernel::new_mutex;
use kernel::prelude::*;
use kernel::sync::Mutex;
use kernel::types::Opaque;

/// An RCU read-side critical section. What [`RcuBox::read`] returns lives no
/// longer than the guard; nothing may sleep while one is held.
pub(crate) struct RcuReadGuard(PhantomData<*mut ()>);

impl RcuReadGuard {
    pub(crate) fn new() -> Self {
        // SAFETY: Paired with the unlock in `drop`, on this task: the raw pointer
        // makes the guard neither `Send` nor `Sync`.
        unsafe { b::bmrs_rcu_read_lock() };
        Self(PhantomData)
    }
}

impl Drop for RcuReadGuard {
    fn drop(&mut self) {
        // SAFETY: Locked in `new`, on this task.
        unsafe { b::bmrs_rcu_read_unlock() };
    }
}

/// A value an [`RcuBox`] publishes, with what it takes to free it after a grace
/// period without waiting for one: the `rcu_work` comes first, so a pointer to
/// it is a pointer to the node.
#[repr(C)]
struct RcuNode<T> {
    work: Opaque<b::rcu_work>,
    value: T,
}

/// An optional boxed `T` that readers use under RCU, without a lock, and that
/// writers replace whole, one at a time. A replaced value is freed after every
/// reader that could see it is done, on the module's workqueue: no writer waits
/// for a grace period. Exec reads the registry and the handler lists this way,
/// as upstream reads its handler list under RCU.
///
/// # Invariants
///
/// `current` is null or a node made by [`RcuValue::new`], owned by the box;
/// only a writer holding `writer` replaces it.
#[pin_data(PinnedDrop)]
pub(crate) struct RcuBox<T> {
    /// A `KBox<RcuNode<T>>` turned raw, or null for none.
    current: AtomicPtr<RcuNode<T>>,
    /// Serialises writers, which build the new value from the current one.
    #[pin]
    writer: Mutex<()>,
}

// SAFETY: Readers on any task get `&T` (so `T: Sync`); replaced values are dropped
// on a worker (so `T: Send`).
unsafe impl<T: Send + Sync> Send for RcuBox<T> {}
// SAFETY: As above.
unsafe impl<T: Send + Sync> Sync for RcuBox<T> {}

/// A value to publish in an [`RcuBox`], allocated before the writer changes
/// anything, so that publishing cannot fail.
pub(crate) struct RcuValue<T>(KBox<RcuNode<T>>);

impl<T> RcuValue<T> {
    pub(crate) fn new(value: T, flags: kernel::alloc::Flags) -> Result<Self> {
        Ok(Self(KBox::new(
            RcuNode {
                work: Opaque::uninit(),
                value,
            },
            flags,
        )?))
    }
}

impl<T: Send + Sync> RcuBox<T> {
    /// An empty box.
    pub(crate) fn new() -> impl PinInit<Self> {
        pin_init!(Self {
            current: AtomicPtr::new(ptr::null_mut()),
            writer <- new_mutex!(()),
        })
    }

    /// The current value, if any.
    pub(crate) fn read<'a>(&'a self, _guard: &'a RcuReadGuard) -> Option<&'a T> {
        // SAFETY: A non-null pointer is a live node: a replaced one is freed only
        // after a grace period, which cannot end while `_guard` is held.
        unsafe { self.current.load(Ordering::Acquire).as_ref() }.map(|n| &n.value)
    }

    /// Calls `f` with the current value, under the writer lock, and does what it
    /// says. A replaced value comes back as [`Retired`].
    pub(crate) fn update(
        &self,
        f: impl FnOnce(Option<&T>) -> Result<Update<T>>,
    ) -> Result<Option<Retired<T>>> {
        let _writer = self.writer.lock();
        // SAFETY: Only writers free values, and they hold the lock we hold.
        let current = unsafe { self.current.load(Ordering::Acquire).as_ref() };
        let Update::Replace(new) = f(current.map(|n| &n.value))? else {
            return Ok(None);
        };
        let new = new.map_or(ptr::null_mut(), |v| KBox::into_raw(v.0));
        // Release: readers see the new value's contents once they see the pointer.
        let old = self.current.swap(new, Ordering::AcqRel);
        Ok(NonNull::new(old).map(Retired))
    }
}

/// What [`RcuBox::update`] does.
pub(crate) enum Update<T> {
    /// Keeps the current value.
    Keep,
    /// Publishes a new value, or none.
    Replace(Option<RcuValue<T>>),
}

#[pinned_drop]
impl<T> PinnedDrop for RcuBox<T> {
    fn drop(self: Pin<&mut Self>) {
        let current = self.current.load(Ordering::Acquire);
        if !current.is_null() {
            // SAFETY: Whoever drops the box owns it: no reader or writer is left.
            drop(unsafe { KBox::from_raw(current) });
        }
    }
}

/// A value an [`RcuBox`] no longer publishes. Readable by the writer that replaced
/// it; dropping it queues its free for after a grace period, on the module's
/// workqueue, where it may sleep (closing files, say). Never waits.
///
/// # Invariants
///
/// The pointer is a node of the box's, no longer reachable through it, owned by
/// this value.
pub(crate) struct Retired<T: Send>(NonNull<RcuNode<T>>);

// SAFETY: The value is dropped on a worker, so it must be `Send`; the writer
// only reads it.
unsafe impl<T: Send + Sync> Send for Retired<T> {}

impl<T: Send> core::ops::Deref for Retired<T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: The node is freed only after `self` drops.
        unsafe { &self.0.as_ref().value }
    }
}

impl<T: Send> Drop for Retired<T> {
    fn drop(&mut self) {
        // SAFETY: The node is ours (type invariant) and its `work` unused: it is
        // queued once, here, and freed by `free_rcu_node::<T>` after a grace period,
        // when no reader can hold it. The module's exit waits for queued frees.
        unsafe {
            workqueue::queue_rcu_free(
                ptr::addr_of_mut!((*self.0.as_ptr()).work).cast(),
                free_rcu_node::<T>,
            )
        };
    }
}

/// The work function of a retired node: frees it, a grace period after it was
/// replaced.
///
/// # Safety
///
/// Only as the work of a node queued by `Retired::drop`.
unsafe extern "C" fn free_rcu_node<T>(work: *mut b::work_struct) {
    // SAFETY: `work` is the first member of the node's `rcu_work`, the node's
    // first member (`repr(C)`): it points to the `KBox` that `Retired` gave up.
    drop(unsafe { KBox::from_raw(work.cast::<RcuNode<T>>()) });
}
