// SPDX-License-Identifier: GPL-2.0

//! Handlers and their instances: one instance per mounted superblock, and so per
//! user namespace, found by exec through the user namespace tree.

use crate::grammar::{Flags, Registration};
use crate::matching::{matches, Candidate};
use crate::vfs::{kvec_remove, ExecFile, NsKey, SbKey};
use core::sync::atomic::{AtomicBool, Ordering};
use kernel::prelude::*;
use kernel::str::CStr;
use kernel::sync::{Arc, Mutex};
use kernel::{new_mutex, pin_init};

/// One registered handler.
pub(crate) struct Entry {
    /// The register string as parsed in place; `registration` indexes it.
    buf: KVec<u8>,
    registration: Registration,
    enabled: AtomicBool,
    /// The interpreter opened at registration (`F`), write-denied while held.
    interp_file: Option<ExecFile>,
}

impl Entry {
    /// A new, enabled entry. `buf` must be the buffer `registration` was parsed from.
    pub(crate) fn new(
        buf: KVec<u8>,
        registration: Registration,
        interp_file: Option<ExecFile>,
    ) -> Result<Arc<Self>> {
        Ok(Arc::new(
            Self {
                buf,
                registration,
                enabled: AtomicBool::new(true),
                interp_file,
            },
            GFP_KERNEL_ACCOUNT,
        )?)
    }

    pub(crate) fn name(&self) -> &CStr {
        cstr_at(&self.buf, &self.registration.name)
    }

    pub(crate) fn interpreter(&self) -> &CStr {
        Self::interpreter_of(&self.buf, &self.registration)
    }

    /// The interpreter of a registration parsed from `buf`, before it is an entry.
    pub(crate) fn interpreter_of<'a>(buf: &'a [u8], registration: &Registration) -> &'a CStr {
        cstr_at(buf, &registration.interpreter)
    }

    pub(crate) fn flags(&self) -> Flags {
        self.registration.flags
    }

    pub(crate) fn interp_file(&self) -> Option<&ExecFile> {
        self.interp_file.as_ref()
    }

    pub(crate) fn is_enabled(&self) -> bool {
        self.enabled.load(Ordering::Relaxed)
    }

    pub(crate) fn set_enabled(&self, enabled: bool) {
        self.enabled.store(enabled, Ordering::Relaxed);
    }

    fn matches(&self, candidate: &Candidate<'_>) -> bool {
        matches(&self.registration.matcher, &self.buf, candidate)
    }

    /// Writes the entry's file text.
    pub(crate) fn write_text(&self, out: &mut impl crate::format::ByteSink) -> core::fmt::Result {
        crate::format::write_entry(out, &self.buf, &self.registration, self.is_enabled())
    }
}

/// The string at `range` of a parsed buffer: the parser leaves a NUL after names
/// and interpreters and none inside, so the fallback is never taken.
fn cstr_at<'a>(buf: &'a [u8], range: &core::ops::Range<usize>) -> &'a CStr {
    buf.get(range.start..=range.end)
        .and_then(|s| CStr::from_bytes_with_nul(s).ok())
        .unwrap_or(kernel::c_str!(""))
}

/// The handlers of one superblock.
#[pin_data]
pub(crate) struct Instance {
    enabled: AtomicBool,
    /// Registration order; exec searches newest first, as upstream's list_add().
    #[pin]
    entries: Mutex<KVec<Arc<Entry>>>,
}

impl Instance {
    fn new() -> impl PinInit<Self> {
        pin_init!(Self {
            enabled: AtomicBool::new(true),
            entries <- new_mutex!(KVec::new(), "binfmt_misc_rs::Instance::entries"),
        })
    }

    pub(crate) fn is_enabled(&self) -> bool {
        self.enabled.load(Ordering::Relaxed)
    }

    pub(crate) fn set_enabled(&self, enabled: bool) {
        self.enabled.store(enabled, Ordering::Relaxed);
    }

    /// Makes room for one more entry, so that [`Instance::push`] cannot fail. The
    /// caller holds the root inode lock, which serialises every list change.
    pub(crate) fn reserve_one(&self) -> Result {
        Ok(self.entries.lock().reserve(1, GFP_KERNEL_ACCOUNT)?)
    }

    /// Appends an entry; see [`Instance::reserve_one`].
    pub(crate) fn push(&self, entry: Arc<Entry>) -> Result {
        Ok(self.entries.lock().push(entry, GFP_KERNEL_ACCOUNT)?)
    }

    /// Takes `entry` out of the list, if it is still there.
    pub(crate) fn remove(&self, entry: &Entry) -> Option<Arc<Entry>> {
        let mut entries = self.entries.lock();
        let index = entries.iter().position(|e| core::ptr::eq(&**e, entry))?;
        Some(kvec_remove(&mut entries, index))
    }

    /// Takes every entry out of the list.
    pub(crate) fn take_all(&self) -> KVec<Arc<Entry>> {
        core::mem::take(&mut *self.entries.lock())
    }

    /// The newest enabled entry that recognises `candidate`.
    pub(crate) fn find(&self, candidate: &Candidate<'_>) -> Option<Arc<Entry>> {
        let entries = self.entries.lock();
        entries
            .iter()
            .rev()
            .find(|e| e.is_enabled() && e.matches(candidate))
            .cloned()
    }
}

struct Mounted {
    sb: SbKey,
    ns: NsKey,
    instance: Arc<Instance>,
}

/// Every live instance, by superblock and by user namespace.
#[pin_data]
pub(crate) struct Registry {
    #[pin]
    mounted: Mutex<KVec<Mounted>>,
}

impl Registry {
    pub(crate) fn new() -> impl PinInit<Self> {
        pin_init!(Self {
            mounted <- new_mutex!(KVec::new(), "binfmt_misc_rs::Registry::mounted"),
        })
    }

    /// Creates the instance of a new superblock of user namespace `ns`.
    pub(crate) fn add(&self, sb: SbKey, ns: NsKey) -> Result<Arc<Instance>> {
        let instance = Arc::pin_init(Instance::new(), GFP_KERNEL)?;
        self.mounted.lock().push(
            Mounted {
                sb,
                ns,
                instance: instance.clone(),
            },
            GFP_KERNEL,
        )?;
        Ok(instance)
    }

    /// Forgets the instance of a superblock being shut down.
    pub(crate) fn remove(&self, sb: SbKey) -> Option<Arc<Instance>> {
        let mut mounted = self.mounted.lock();
        let index = mounted.iter().position(|m| m.sb == sb)?;
        Some(kvec_remove(&mut mounted, index).instance)
    }

    /// The instance of superblock `sb`.
    pub(crate) fn by_sb(&self, sb: SbKey) -> Option<Arc<Instance>> {
        let mounted = self.mounted.lock();
        mounted
            .iter()
            .find(|m| m.sb == sb)
            .map(|m| m.instance.clone())
    }

    /// The instance exec uses: that of the nearest user namespace, from `chain`
    /// (the caller's namespace, then its ancestors), that has one. A namespace with
    /// two superblocks has one shutting down; the newer one wins.
    pub(crate) fn nearest(&self, chain: impl Iterator<Item = NsKey>) -> Option<Arc<Instance>> {
        let mounted = self.mounted.lock();
        for ns in chain {
            if let Some(m) = mounted.iter().rev().find(|m| m.ns == ns) {
                return Some(m.instance.clone());
            }
        }
        None
    }
}
