// SPDX-License-Identifier: GPL-2.0

//! A small unordered set in a vector of slots: the kernel crate's vector of
//! 6.12 has no removal, so a taken value leaves its slot free for the next.

use kernel::alloc::Flags;
use kernel::prelude::*;

/// Values in slots; a free slot is `None`.
pub(crate) struct Slots<T>(KVec<Option<T>>);

impl<T> Default for Slots<T> {
    fn default() -> Self {
        Self(KVec::new())
    }
}

impl<T> Slots<T> {
    /// Makes sure the next [`Slots::put`] cannot fail.
    pub(crate) fn reserve_one(&mut self, flags: Flags) -> Result {
        if self.0.iter().all(Option::is_some) {
            self.0.reserve(1, flags)?;
        }
        Ok(())
    }

    /// Puts `value` in the first free slot, growing only when none is.
    pub(crate) fn put(&mut self, value: T, flags: Flags) -> Result {
        match self.0.iter_mut().find(|s| s.is_none()) {
            Some(slot) => *slot = Some(value),
            None => self.0.push(Some(value), flags)?,
        }
        Ok(())
    }

    /// Takes out the first value `pred` accepts.
    pub(crate) fn take(&mut self, pred: impl Fn(&T) -> bool) -> Option<T> {
        self.0
            .iter_mut()
            .find(|s| s.as_ref().is_some_and(&pred))
            .and_then(Option::take)
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &T> {
        self.0.iter().flatten()
    }

    pub(crate) fn iter_mut(&mut self) -> impl Iterator<Item = &mut T> {
        self.0.iter_mut().flatten()
    }
}
