// SPDX-License-Identifier: GPL-2.0

//! The state of the bpf program calls in progress, keyed by their exec's bprm,
//! for the kfuncs those programs call.

use super::slots::Slots;
use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicUsize, Ordering};
use kernel::new_mutex;
use kernel::prelude::*;
use kernel::sync::Mutex;

/// How many program calls can be in progress at once without the fallback lock:
/// a bpf program runs for each 'B' entry an exec tries, and the programs sleep.
const CALL_SLOTS: usize = 1 << 6;

/// A program call in progress, in one slot of a [`CallTable`].
///
/// # Invariants
///
/// While `key` is not zero the slot belongs to the task in `task`, which alone
/// reads or writes `value`; only a task that claimed the slot (`key` from zero)
/// sets `task` and `value`, and only it frees the slot.
struct CallSlot<T> {
    key: AtomicUsize,
    task: AtomicUsize,
    value: UnsafeCell<Option<T>>,
}

impl<T> CallSlot<T> {
    const fn new() -> Self {
        Self {
            key: AtomicUsize::new(0),
            task: AtomicUsize::new(0),
            value: UnsafeCell::new(None),
        }
    }
}

/// The caller's task, as an identity.
fn current_task() -> usize {
    let task: *const kernel::task::Task = kernel::current!();
    task as usize
}

/// The state of the bpf program calls in progress, keyed by their exec's bprm,
/// for the kfuncs those programs call: upstream keeps it in `struct
/// linux_binprm`, which a module cannot extend. Every exec looks here, so it
/// takes no lock: a call claims a free slot with one atomic exchange, and a
/// kfunc finds its call's slot by key and by task, since a program runs on its
/// exec's task. Only when every slot is taken does a call wait for the
/// fallback's lock.
#[pin_data]
pub(crate) struct CallTable<T> {
    slots: [CallSlot<T>; CALL_SLOTS],
    /// Calls in the fallback, so that lookups skip its lock while it is empty.
    overflowed: AtomicUsize,
    /// `(key, task, value)`; the value is out while a kfunc works on it.
    #[pin]
    overflow: Mutex<Slots<(usize, usize, Option<T>)>>,
}

// SAFETY: A slot's value is only touched by the task that owns the slot
// (`CallSlot`'s invariant), which may be any task: `T: Send`.
unsafe impl<T: Send> Sync for CallTable<T> {}
// SAFETY: As above.
unsafe impl<T: Send> Send for CallTable<T> {}

impl<T> CallTable<T> {
    pub(crate) fn new() -> impl PinInit<Self> {
        pin_init!(Self {
            slots: [const { CallSlot::new() }; CALL_SLOTS],
            overflowed: AtomicUsize::new(0),
            overflow <- new_mutex!(Slots::default(), "binfmt_misc_rs::CallTable::overflow"),
        })
    }

    /// The slot `key`'s call holds, if the caller is the call's task.
    fn own_slot(&self, key: usize) -> Option<&CallSlot<T>> {
        let task = current_task();
        self.slots.iter().find(|s| {
            s.key.load(Ordering::Acquire) == key && s.task.load(Ordering::Relaxed) == task
        })
    }

    /// Runs `call` with `value` as the state of a call for `key`, returns its
    /// result and the state as the call left it.
    pub(crate) fn run<R>(&self, key: usize, value: T, call: impl FnOnce() -> R) -> Result<(R, T)> {
        // bprms are 512-byte aligned (kmalloc-512): hash the address, so that
        // concurrent calls start apart.
        let hash = (key as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        let start = (hash >> (u64::BITS - CALL_SLOTS.trailing_zeros())) as usize;
        let claimed = (0..CALL_SLOTS)
            .map(|i| &self.slots[(start + i) % CALL_SLOTS])
            .find(|s| {
                s.key
                    .compare_exchange(0, key, Ordering::Acquire, Ordering::Relaxed)
                    .is_ok()
            });
        let Some(slot) = claimed else {
            return self.run_overflow(key, value, call);
        };
        slot.task.store(current_task(), Ordering::Relaxed);
        // SAFETY: We claimed the slot: its value is ours alone (invariant).
        unsafe { *slot.value.get() = Some(value) };
        let result = call();
        // SAFETY: As above; the kfuncs `call` ran are done with it.
        let value = unsafe { (*slot.value.get()).take() };
        slot.task.store(0, Ordering::Relaxed);
        slot.key.store(0, Ordering::Release);
        Ok((result, value.ok_or(EINVAL)?))
    }

    fn run_overflow<R>(&self, key: usize, value: T, call: impl FnOnce() -> R) -> Result<(R, T)> {
        let task = current_task();
        let mut overflow = self.overflow.lock();
        // Room first: a value dropped under the lock could close files.
        overflow.reserve_one(GFP_KERNEL)?;
        // Cannot fail: room was reserved.
        let _ = overflow.put((key, task, Some(value)), GFP_KERNEL);
        drop(overflow);
        self.overflowed.fetch_add(1, Ordering::AcqRel);
        let result = call();
        let value = self
            .overflow
            .lock()
            .take(|(k, t, _)| *k == key && *t == task)
            .and_then(|(_, _, v)| v);
        self.overflowed.fetch_sub(1, Ordering::AcqRel);
        Ok((result, value.ok_or(EINVAL)?))
    }

    /// Runs `f` on the state of the call in progress for `key`, which must be
    /// running on the caller's task: a program can reach only the exec it was
    /// called for. `EINVAL` if there is none. The state is taken out while `f`
    /// runs, so a `with` nested in `f` finds none (`EINVAL`) rather than a
    /// second `&mut` to it, and no lock is held across `f`.
    pub(crate) fn with<U>(&self, key: usize, f: impl FnOnce(&mut T) -> Result<U>) -> Result<U> {
        if let Some(slot) = self.own_slot(key) {
            // SAFETY: The slot is the caller's task's (checked by `own_slot`), and
            // that task is running this kfunc inside its `run`, which does not
            // touch the value meanwhile.
            let mut value = unsafe { (*slot.value.get()).take() }.ok_or(EINVAL)?;
            let result = f(&mut value);
            // SAFETY: As above: still the caller's slot, inside its `run`.
            unsafe { *slot.value.get() = Some(value) };
            return result;
        }
        if self.overflowed.load(Ordering::Acquire) == 0 {
            return Err(EINVAL);
        }
        let task = current_task();
        let own = |(k, t, _): &(usize, usize, Option<T>)| *k == key && *t == task;
        let mut value = self
            .overflow
            .lock()
            .iter_mut()
            .find(|e| own(e))
            .and_then(|(_, _, v)| v.take())
            .ok_or(EINVAL)?;
        let result = f(&mut value);
        // The entry stays until its `run` takes it, which is this task's, after us.
        if let Some((_, _, v)) = self.overflow.lock().iter_mut().find(|e| own(e)) {
            *v = Some(value);
        }
        result
    }

    /// Whether a call for `key` is in progress on the caller's task.
    pub(crate) fn is_active(&self, key: usize) -> bool {
        self.with(key, |_| Ok(())).is_ok()
    }
}
