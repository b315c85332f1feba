// SPDX-License-Identifier: GPL-2.0

//! Handlers and their instances: one instance per user namespace that mounted
//! binfmt_misc, found by exec through the user namespace tree.

use crate::grammar::{Flags, Registration};
use crate::matching::{matches, Candidate};
use crate::vfs::{ExecFile, NsKey, RcuBox, RcuReadGuard, Retired, Update, UserNamespace};
use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use kernel::prelude::*;
use kernel::rbtree::{RBTree, RBTreeNode};
use kernel::str::CStr;
use kernel::sync::{Arc, Mutex};
use kernel::types::ARef;
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

/// The handlers of one user namespace.
#[pin_data]
pub(crate) struct Instance {
    enabled: AtomicBool,
    /// Registration order; exec searches newest first, as upstream's list_add().
    /// Every change makes a new list: exec reads it under RCU, lock-free.
    #[pin]
    entries: RcuBox<KVec<Arc<Entry>>>,
}

/// A list of entries the instance no longer publishes; dropping it waits for the
/// readers that may still see it, so drop it after releasing other locks.
pub(crate) type RetiredEntries = Option<Retired<KVec<Arc<Entry>>>>;

impl Instance {
    fn new() -> impl PinInit<Self> {
        pin_init!(Self {
            enabled: AtomicBool::new(true),
            entries <- RcuBox::new(),
        })
    }

    pub(crate) fn is_enabled(&self) -> bool {
        self.enabled.load(Ordering::Relaxed)
    }

    pub(crate) fn set_enabled(&self, enabled: bool) {
        self.enabled.store(enabled, Ordering::Relaxed);
    }

    /// Appends `entry` once `create_file` succeeds; nothing changes if either the
    /// new list or the file cannot be made. The caller holds the root inode lock.
    pub(crate) fn add(
        &self,
        entry: Arc<Entry>,
        create_file: impl FnOnce() -> Result,
    ) -> Result<RetiredEntries> {
        self.entries.update(|entries| {
            let entries = entries.map_or(&[][..], |e| e.as_slice());
            let mut new = KVec::with_capacity(entries.len() + 1, GFP_KERNEL_ACCOUNT)?;
            for e in entries {
                new.push(e.clone(), GFP_KERNEL_ACCOUNT)?;
            }
            new.push(entry, GFP_KERNEL_ACCOUNT)?;
            let new = KBox::new(new, GFP_KERNEL_ACCOUNT)?;
            create_file()?;
            Ok(Update::Replace(Some(new)))
        })
    }

    /// Takes `entry` out of the list, if it is still there: `Ok(None)` if not.
    /// Fails only if the shorter list cannot be allocated, changing nothing.
    pub(crate) fn remove(&self, entry: &Entry) -> Result<RetiredEntries> {
        self.entries.update(|entries| {
            let entries = entries.map_or(&[][..], |e| e.as_slice());
            if !entries.iter().any(|e| core::ptr::eq(&**e, entry)) {
                return Ok(Update::Keep);
            }
            if entries.len() == 1 {
                return Ok(Update::Replace(None));
            }
            let mut new = KVec::with_capacity(entries.len() - 1, GFP_KERNEL_ACCOUNT)?;
            for e in entries.iter().filter(|e| !core::ptr::eq(&***e, entry)) {
                new.push(e.clone(), GFP_KERNEL_ACCOUNT)?;
            }
            Ok(Update::Replace(Some(KBox::new(new, GFP_KERNEL_ACCOUNT)?)))
        })
    }

    /// Takes every entry out of the list; cannot fail. The retired list holds them.
    pub(crate) fn take_all(&self) -> RetiredEntries {
        self.entries
            .update(|entries| {
                Ok(match entries {
                    Some(_) => Update::Replace(None),
                    None => Update::Keep,
                })
            })
            .unwrap_or(None)
    }

    /// The newest enabled entry that recognises `candidate`, if the instance is
    /// enabled. Runs under RCU: no lock, no sleep.
    fn find(&self, guard: &RcuReadGuard, candidate: &Candidate<'_>) -> Option<Arc<Entry>> {
        if !self.is_enabled() {
            return None;
        }
        self.entries
            .read(guard)?
            .iter()
            .rev()
            .find(|e| e.is_enabled() && e.matches(candidate))
            .cloned()
    }
}

/// The registry as exec reads it: namespaces and their instances, sorted by key.
type Index = KVec<(NsKey, Arc<Instance>)>;

/// A user namespace that has mounted binfmt_misc, and its instance.
struct NsInstance {
    /// Keeps the namespace, and so its key, alive; see [`Registry::collect`].
    ns: ARef<UserNamespace>,
    instance: Arc<Instance>,
    /// Live superblocks of the namespace.
    superblocks: usize,
}

/// The instance of every user namespace that has mounted binfmt_misc.
///
/// As upstream, a namespace's instance outlives its superblocks: once a namespace
/// has mounted binfmt_misc, exec in it never falls back to its ancestors' handlers.
/// Upstream frees the instance with the namespace; a module cannot hook that, so
/// the registry holds a namespace reference and drops it once it is the only one
/// left (see [`Registry::collect`]).
#[pin_data]
pub(crate) struct Registry {
    /// Searched once per namespace level by every exec on the system, and grown
    /// by unprivileged users: a tree, so a lookup is logarithmic.
    #[pin]
    namespaces: Mutex<RBTree<NsKey, NsInstance>>,
    /// What exec reads: the namespaces' keys and instances, sorted by key,
    /// rebuilt under `namespaces` whenever its keys change.
    #[pin]
    index: RcuBox<Index>,
    /// The delay before the next collection, grown while namespaces stay in use.
    collect_delay_ms: AtomicU32,
}

/// First delay of the collection after an unmount, and the longest.
const COLLECT_DELAY_MS: (u32, u32) = (1000, 60_000);

impl Registry {
    pub(crate) fn new() -> impl PinInit<Self> {
        pin_init!(Self {
            namespaces <- new_mutex!(RBTree::new(), "binfmt_misc_rs::Registry::namespaces"),
            index <- RcuBox::new(),
            collect_delay_ms: AtomicU32::new(COLLECT_DELAY_MS.0),
        })
    }

    /// The instance for a new superblock of `ns`: the namespace's existing one or a
    /// new one, enabled either way, as upstream's bm_fill_super().
    pub(crate) fn mount(&self, ns: &UserNamespace) -> Result<Arc<Instance>> {
        let key = ns.key();
        let mut namespaces = self.namespaces.lock();
        if namespaces.get(&key).is_none() {
            let instance = Arc::pin_init(Instance::new(), GFP_KERNEL)?;
            let node = RBTreeNode::new(
                key,
                NsInstance {
                    ns: ns.into(),
                    instance,
                    superblocks: 0,
                },
                GFP_KERNEL,
            )?;
            namespaces.insert(node);
            // Exec does not take the lock, so waiting for its readers under it is
            // harmless.
            if let Err(e) = self.publish_index(&namespaces, |_| true) {
                drop(namespaces.remove(&key));
                return Err(e);
            }
        }
        let n = namespaces.get_mut(&key).ok_or(ENOENT)?;
        n.superblocks += 1;
        n.instance.set_enabled(true);
        Ok(n.instance.clone())
    }

    /// Publishes a new index of the namespaces `keep` accepts.
    fn publish_index(
        &self,
        namespaces: &RBTree<NsKey, NsInstance>,
        keep: impl Fn(&NsInstance) -> bool,
    ) -> Result<Option<Retired<Index>>> {
        self.index.update(|_| {
            let mut index = KVec::new();
            // The tree iterates in key order, so the index is sorted.
            for (key, n) in namespaces.iter().filter(|(_, n)| keep(n)) {
                index.push((*key, n.instance.clone()), GFP_KERNEL)?;
            }
            Ok(Update::Replace(if index.is_empty() {
                None
            } else {
                Some(KBox::new(index, GFP_KERNEL)?)
            }))
        })
    }

    /// A superblock that [`Registry::mount`] counted is gone.
    pub(crate) fn unmount(&self, ns: NsKey) {
        if let Some(n) = self.namespaces.lock().get_mut(&ns) {
            n.superblocks = n.superblocks.saturating_sub(1);
        }
    }

    /// Forgets the instances of namespaces nobody else refers to any more, and
    /// says whether some namespace without a superblock is still in use and so
    /// worth another look later.
    ///
    /// A namespace whose only reference is ours has no task, credential,
    /// superblock, child namespace or nsfs file, and can get none again, so its
    /// instance, empty since its last superblock went, can go. A namespace's own
    /// unmount cannot free it at once: the superblock holds it until after
    /// kill_sb(), and exiting tasks drop their credentials last.
    pub(crate) fn collect(&self) -> bool {
        let mut namespaces = self.namespaces.lock();
        let unused = |n: &NsInstance| n.ns.is_only_reference();
        if namespaces.values().any(unused) {
            // Out of the index first: once the namespace reference goes, another
            // namespace may get its address, and with it its key. Without memory
            // for the new index, the namespaces wait for the next collection.
            if self.publish_index(&namespaces, |n| !unused(n)).is_ok() {
                while let Some(key) = namespaces
                    .iter()
                    .find(|(_, n)| unused(n))
                    .map(|(key, _)| *key)
                {
                    // Dropping the last reference only schedules the namespace's free.
                    drop(namespaces.remove(&key));
                }
            }
        }
        let pending = namespaces.values().any(|n| n.superblocks == 0);
        pending
    }

    /// The delay before the first collection after an unmount.
    pub(crate) fn first_collect_delay(&self) -> u32 {
        self.collect_delay_ms
            .store(COLLECT_DELAY_MS.0, Ordering::Relaxed);
        COLLECT_DELAY_MS.0
    }

    /// The delay before the next collection while namespaces stay in use: doubled
    /// each time up to a minute, so that a namespace that lives on without a mount
    /// costs one short scan a minute.
    pub(crate) fn next_collect_delay(&self) -> u32 {
        let delay = self
            .collect_delay_ms
            .load(Ordering::Relaxed)
            .saturating_mul(2)
            .min(COLLECT_DELAY_MS.1);
        self.collect_delay_ms.store(delay, Ordering::Relaxed);
        delay
    }

    /// The instance of user namespace `ns`.
    pub(crate) fn by_ns(&self, ns: NsKey) -> Option<Arc<Instance>> {
        let guard = RcuReadGuard::new();
        let index = self.index.read(&guard)?;
        let at = index.binary_search_by_key(&ns, |(key, _)| *key).ok()?;
        Some(index[at].1.clone())
    }

    /// The handler exec uses for `candidate`: the first match in the instance of
    /// the nearest user namespace, from `chain` (the caller's namespace, then its
    /// ancestors), that has one. Lock-free, as every exec on the system asks.
    pub(crate) fn find_handler(
        &self,
        chain: impl Iterator<Item = NsKey>,
        candidate: &Candidate<'_>,
    ) -> Option<Arc<Entry>> {
        let guard = RcuReadGuard::new();
        let index = self.index.read(&guard)?;
        let instance = chain
            .filter_map(|ns| index.binary_search_by_key(&ns, |(key, _)| *key).ok())
            .map(|at| &index[at].1)
            .next()?;
        instance.find(&guard, candidate)
    }
}
