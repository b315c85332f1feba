// SPDX-License-Identifier: GPL-2.0

//! Instances: one per user namespace that mounted binfmt_misc, with the list
//! of entries exec searches, found by exec through the user namespace tree.

#![forbid(unsafe_code)]

use crate::entry::{Entry, EntryState};
use crate::grammar::{Matcher, BINPRM_BUF_SIZE};
use crate::handler::Handlers;
use crate::kernel_ext::callback_state::{CallbackState, HasCallbackState};
use crate::kernel_ext::rcu::{RcuBox, RcuReadGuard, RcuValue, Retired, Update};
use crate::kernel_ext::slots::Slots;
use crate::kernel_ext::use_count::InUse;
use crate::kernel_ext::user_ns::{NsKey, UserNamespace};
use crate::lookup::{Change as LookupChange, Entries, Index as Lookup, Probe, Probes, Shape, Slot};
use crate::matching::Candidate;
use crate::staging::Staging;
use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use kernel::prelude::*;
use kernel::rbtree::{RBTree, RBTreeNode};
use kernel::sync::{Arc, Mutex};
use kernel::types::ARef;
use kernel::{new_mutex, pin_init};

/// The entries exec searches, in registration order.
pub(crate) struct EntryList {
    /// kvmalloc'ed: a list of thousands of entries needs no high-order pages.
    entries: KVVec<Arc<Entry>>,
    /// Each entry's [`Probe`], by position: what a walk of a short list reads
    /// instead of the entries; and how many are open ([`Probes`]).
    probes: KVVec<Probe>,
    open_probes: usize,
    /// The index exec looks the entries up by (see [`crate::lookup`]), built
    /// with the list, as the list never changes once published.
    slots: KVVec<Slot>,
    shapes: KVVec<Shape>,
    /// Whether the list has 'B' entries, which the index knows too: kept here
    /// because exec asks it first, and the list's own object is one it reads
    /// anyway, where the index's array would be one more (under emulation,
    /// about half a microsecond per exec).
    has_bpf: bool,
    /// Whether the list has extension entries, the only ones that read the
    /// binary's path, which exec then has to measure (a strlen() per exec).
    has_extensions: bool,
}

impl EntryList {
    /// The list of `entries`, its index built by a sort.
    fn sorted(entries: KVVec<Arc<Entry>>) -> Result<RcuValue<Arc<Self>>> {
        let mut slots = KVVec::new();
        slots.extend_with(entries.len(), Slot::default(), GFP_KERNEL_ACCOUNT)?;
        // Only more than 2^32 entries are too many: no memory holds them.
        let n = Lookup::sort(&entries[..], &mut slots).map_err(|_| ENOMEM)?;
        let mut shapes = KVVec::new();
        shapes.extend_with(n, Shape::default(), GFP_KERNEL_ACCOUNT)?;
        Lookup::build(&entries[..], &slots, &mut shapes);
        let probes = collected(entries.iter().map(|e| probe_of(e)), entries.len())?;
        Self::publishable(entries, probes, slots, shapes)
    }

    /// This list and `entry`, last: the index changed where the entry goes, not
    /// sorted again (which made each registration cost n log n comparisons).
    fn with(&self, entry: Arc<Entry>) -> Result<RcuValue<Arc<Self>>> {
        let added = probe_of(&entry);
        let len = self.entries.len() + 1;
        let new = collected(Iterator::chain(self.iter().cloned(), [entry]), len)?;
        let Some(change) = self.index().plan_add(&new[..]) else {
            // Not of this list: cannot happen, but a sort is always right.
            return Self::sorted(new);
        };
        let probes = Iterator::chain(self.probes.iter().copied(), [added]);
        let probes = collected(probes, len)?;
        self.changed(new, probes, change)
    }

    /// This list without the entry at `pos`; its index loses one slot.
    fn without(&self, pos: usize) -> Result<RcuValue<Arc<Self>>> {
        let others = self.iter().enumerate().filter(|&(i, _)| i != pos);
        let len = self.entries.len().saturating_sub(1);
        let new = collected(others.map(|(_, e)| e.clone()), len)?;
        let Some(change) = self.index().plan_remove(pos) else {
            return Self::sorted(new);
        };
        let others = self.probes.iter().enumerate().filter(|&(i, _)| i != pos);
        let probes = collected(others.map(|(_, &p)| p), len)?;
        self.changed(new, probes, change)
    }

    /// `entries` with this list's index changed by `change`.
    fn changed(
        &self,
        entries: KVVec<Arc<Entry>>,
        probes: KVVec<Probe>,
        change: LookupChange,
    ) -> Result<RcuValue<Arc<Self>>> {
        let mut slots = KVVec::new();
        slots.extend_with(change.slots_len(), Slot::default(), GFP_KERNEL_ACCOUNT)?;
        let mut shapes = KVVec::new();
        shapes.extend_with(change.shapes_len(), Shape::default(), GFP_KERNEL_ACCOUNT)?;
        change.apply(self.index(), &mut slots, &mut shapes);
        Self::publishable(entries, probes, slots, shapes)
    }

    fn publishable(
        entries: KVVec<Arc<Entry>>,
        mut probes: KVVec<Probe>,
        slots: KVVec<Slot>,
        shapes: KVVec<Shape>,
    ) -> Result<RcuValue<Arc<Self>>> {
        // Cannot happen; without probes a walk asks every entry.
        if probes.len() != entries.len() {
            probes = KVVec::new();
        }
        RcuValue::new(
            Arc::new(
                Self {
                    has_bpf: Lookup::new(&slots, &shapes).has_bpf(),
                    has_extensions: entries
                        .iter()
                        .any(|e| matches!(e.matcher().0, Matcher::Extension(_))),
                    open_probes: Probes::count_open(&probes),
                    entries,
                    probes,
                    slots,
                    shapes,
                },
                GFP_KERNEL_ACCOUNT,
            )?,
            GFP_KERNEL_ACCOUNT,
        )
    }

    fn index(&self) -> Lookup<'_> {
        Lookup::new(&self.slots, &self.shapes)
    }

    pub(crate) fn iter(&self) -> impl DoubleEndedIterator<Item = &Arc<Entry>> {
        self.entries.iter()
    }

    /// Newest first, the entries that may recognise `candidate`: every 'B'
    /// entry and the static ones whose key is the binary's, or, for a list
    /// short next to its index's searches, every entry its probe admits; the
    /// caller checks each, as whether it is enabled.
    pub(crate) fn candidates<'a>(
        &'a self,
        candidate: &Candidate<'a>,
    ) -> impl Iterator<Item = &'a Arc<Entry>> + 'a {
        self.index()
            .lookup(
                &self.entries[..],
                Probes::new(&self.probes, self.open_probes),
                candidate,
            )
            .filter_map(|pos| self.entries.get(pos))
    }
}

/// `items`, `len` of them, in a new array (the entries or the probes of a new
/// list).
fn collected<T>(items: impl Iterator<Item = T>, len: usize) -> Result<KVVec<T>> {
    let mut new = KVVec::with_capacity(len, GFP_KERNEL_ACCOUNT)?;
    for item in items {
        new.push(item, GFP_KERNEL_ACCOUNT)?;
    }
    Ok(new)
}

fn probe_of(entry: &Entry) -> Probe {
    let (m, buf) = entry.matcher();
    Probe::of(&m, buf)
}

impl Entries for [Arc<Entry>] {
    fn count(&self) -> usize {
        self.len()
    }

    fn matcher(&self, pos: usize) -> (Matcher, &[u8]) {
        // The index holds only positions of this list; a matcher that matches
        // nothing statically beats a BUG() all the same.
        self.get(pos).map_or((Matcher::Bpf, &[]), |e| e.matcher())
    }
}

/// What exec found in an instance.
pub(crate) enum Found {
    /// The handler, found without running any program, in use by the exec.
    Entry(InUse<Entry>),
    /// The list holds 'B' entries: exec walks it itself, newest first, running
    /// their `match` programs, which may sleep.
    Walk(Arc<EntryList>),
}

/// The handlers of one user namespace.
#[pin_data]
pub(crate) struct Instance {
    enabled: AtomicBool,
    /// Registration order; exec searches newest first, as upstream's list_add().
    /// Every change makes a new list: exec reads it under RCU, lock-free.
    #[pin]
    entries: RcuBox<Arc<EntryList>>,
    /// Entries registered with `D` and not yet enabled; changed under the root
    /// inode lock.
    #[pin]
    staged: Mutex<Slots<Arc<Entry>>>,
}

/// A list of entries the instance no longer publishes; dropping it queues its
/// free for after the readers that may still see it.
pub(crate) type RetiredEntries = Option<Retired<Arc<EntryList>>>;

/// What removing an entry took out of the instance.
pub(crate) struct Removed(#[allow(dead_code)] RetiredEntries);

impl Instance {
    fn new() -> impl PinInit<Self> {
        pin_init!(Self {
            enabled: AtomicBool::new(true),
            entries <- RcuBox::new(),
            staged <- new_mutex!(Slots::default(), "binfmt_misc_rs::Instance::staged"),
        })
    }

    pub(crate) fn is_enabled(&self) -> bool {
        self.enabled.load(Ordering::Relaxed)
    }

    pub(crate) fn set_enabled(&self, enabled: bool) {
        self.enabled.store(enabled, Ordering::Relaxed);
    }

    /// Adds `entry` once `create_file` succeeds: to the list exec searches, or,
    /// registered with `D`, to the staged entries. Nothing changes if either the
    /// new list or the file cannot be made. The caller holds the root inode lock.
    pub(crate) fn add(
        &self,
        entry: Arc<Entry>,
        create_file: impl FnOnce() -> Result,
    ) -> Result<RetiredEntries> {
        if !entry.is_enabled() {
            let mut staged = self.staged.lock();
            // Room first, so that nothing can fail once the file exists.
            staged.reserve_one(GFP_KERNEL_ACCOUNT)?;
            // Staged before the file is visible: a `1` written to it at once
            // finds the entry staged, under the root lock it waits for.
            entry.set_state(EntryState::Staged);
            if let Err(e) = create_file() {
                entry.set_state(EntryState::Removed);
                return Err(e);
            }
            staged.put(entry.clone(), GFP_KERNEL_ACCOUNT)?;
            return Ok(None);
        }
        self.publish_with(entry, create_file)
    }

    /// Publishes a list with `entry` added, once `last_step`, the last thing
    /// that can fail, succeeds; nothing changes otherwise.
    fn publish_with(
        &self,
        entry: Arc<Entry>,
        last_step: impl FnOnce() -> Result,
    ) -> Result<RetiredEntries> {
        let published = entry.clone();
        let retired = self.entries.update(|entries| {
            let new = match entries {
                Some(list) => list.with(entry)?,
                None => EntryList::sorted(collected([entry].into_iter(), 1)?)?,
            };
            published.set_state(EntryState::Published);
            if let Err(e) = last_step() {
                published.set_state(EntryState::Removed);
                return Err(e);
            }
            Ok(Update::Replace(Some(new)))
        })?;
        Ok(retired)
    }

    /// The first `1` written to a staged entry: it enters the list exec searches,
    /// sealed. The caller holds the root inode lock.
    pub(crate) fn publish(&self, entry: &Arc<Entry>) -> Result<RetiredEntries> {
        if entry.state() != EntryState::Staged {
            entry.set_enabled(true);
            return Ok(None);
        }
        // Its open file is a user, so this only fails for a released entry.
        let user = InUse::join(entry).ok_or(ENOENT)?;
        let mut staged = self.staged.lock();
        entry.set_enabled(true);
        let retired = self
            .publish_with(entry.clone(), || entry.seal_bindings(&user))
            .inspect_err(|_| {
                entry.set_enabled(false);
                entry.set_state(EntryState::Staged);
            })?;
        staged.take(|s| Arc::ptr_eq(s, entry));
        Ok(retired)
    }

    /// Takes `entry` out of the instance, if it is still there: `Ok(None)` if not.
    /// Fails only if the shorter list cannot be allocated, changing nothing.
    pub(crate) fn remove(&self, entry: &Entry) -> Result<Option<Removed>> {
        if entry.state() == EntryState::Staged {
            let mut staged = self.staged.lock();
            let taken = staged.take(|s| core::ptr::eq(&**s, entry));
            entry.set_state(EntryState::Removed);
            drop(staged);
            return Ok(taken.map(|_| Removed(None)));
        }
        let mut found = false;
        let retired = self.entries.update(|entries| {
            let Some(list) = entries else {
                return Ok(Update::Keep);
            };
            let Some(pos) = list.iter().position(|e| core::ptr::eq(&**e, entry)) else {
                return Ok(Update::Keep);
            };
            found = true;
            if list.entries.len() == 1 {
                return Ok(Update::Replace(None));
            }
            Ok(Update::Replace(Some(list.without(pos)?)))
        })?;
        if !found {
            return Ok(None);
        }
        entry.set_state(EntryState::Removed);
        Ok(Some(Removed(retired)))
    }

    /// Takes every entry out of the instance, staged ones too; cannot fail. The
    /// retired list and the returned staged entries hold them.
    pub(crate) fn take_all(&self) -> (RetiredEntries, Slots<Arc<Entry>>) {
        let staged = core::mem::take(&mut *self.staged.lock());
        let retired = self
            .entries
            .update(|entries| {
                Ok(match entries {
                    Some(_) => Update::Replace(None),
                    None => Update::Keep,
                })
            })
            .unwrap_or(None);
        let published = retired.iter().flat_map(|list| list.iter());
        for entry in Iterator::chain(published, staged.iter()) {
            entry.set_state(EntryState::Removed);
        }
        (retired, staged)
    }

    /// The newest enabled entry that recognises `candidate`, if the instance is
    /// enabled, or the list to walk when that needs programs run. Runs under
    /// RCU: no lock, no sleep. An entry whose files were released meanwhile
    /// (its removal raced this exec) is passed over, as if already gone.
    fn find<'a>(
        &self,
        guard: &RcuReadGuard,
        header: &'a [u8; BINPRM_BUF_SIZE],
        path: impl FnOnce() -> &'a [u8],
    ) -> Option<Found> {
        if !self.is_enabled() {
            return None;
        }
        let list = self.entries.read(guard)?;
        // A 'B' entry's `match` program may sleep: exec takes a reference on
        // the list and searches it outside RCU.
        if list.has_bpf {
            return Some(Found::Walk(list.clone()));
        }
        let candidate = &Candidate {
            header,
            path: if list.has_extensions { path() } else { &[] },
        };
        list.candidates(candidate)
            .filter(|e| e.is_enabled() && e.matches(candidate))
            .find_map(InUse::join)
            .map(Found::Entry)
    }
}

/// The registry as exec reads it: namespaces and their instances, sorted by key;
/// kvmalloc'ed, as it grows with every namespace that mounts.
type Index = KVVec<(NsKey, Arc<Instance>)>;

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
    /// The bpf handlers ('B' entries) of every namespace.
    #[pin]
    bpf: Handlers<Staging>,
}

/// Where the callbacks of the filesystem, the binfmt, the bpf handlers and the
/// collection find the registry.
static REGISTRY: CallbackState<Registry> = CallbackState::new();

impl HasCallbackState for Registry {
    const CALLBACK_STATE: &'static CallbackState<Self> = &REGISTRY;
}

/// First delay of the collection after an unmount, and the longest.
const COLLECT_DELAY_MS: (u32, u32) = (1000, 60_000);

impl Registry {
    pub(crate) fn new() -> impl PinInit<Self> {
        pin_init!(Self {
            namespaces <- new_mutex!(RBTree::new(), "binfmt_misc_rs::Registry::namespaces"),
            index <- RcuBox::new(),
            collect_delay_ms: AtomicU32::new(COLLECT_DELAY_MS.0),
            bpf <- Handlers::new(),
        })
    }

    pub(crate) fn bpf(&self) -> &Handlers<Staging> {
        &self.bpf
    }

    /// The instance for a new superblock of `ns`: the namespace's existing one or a
    /// new one, enabled either way, as upstream's bm_fill_super().
    pub(crate) fn mount(&self, ns: &UserNamespace) -> Result<Arc<Instance>> {
        let key = ns.key();
        let mut namespaces = self.namespaces.lock();
        if namespaces.get(&key).is_none() {
            let instance = Arc::pin_init(Instance::new(), GFP_KERNEL_ACCOUNT)?;
            let node = RBTreeNode::new(
                key,
                NsInstance {
                    ns: ns.into(),
                    instance,
                    superblocks: 0,
                },
                GFP_KERNEL_ACCOUNT,
            )?;
            namespaces.insert(node);
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

    /// Publishes a new index of the namespaces `keep` accepts. The old one is
    /// freed after a grace period, without waiting for it.
    fn publish_index(
        &self,
        namespaces: &RBTree<NsKey, NsInstance>,
        keep: impl Fn(&NsKey) -> bool,
    ) -> Result {
        drop(self.index.update(|_| {
            let mut index = KVVec::new();
            // The tree iterates in key order, so the index is sorted.
            for (key, n) in namespaces.iter().filter(|(key, _)| keep(key)) {
                index.push((*key, n.instance.clone()), GFP_KERNEL)?;
            }
            Ok(Update::Replace(if index.is_empty() {
                None
            } else {
                Some(RcuValue::new(index, GFP_KERNEL)?)
            }))
        })?);
        Ok(())
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
        // Decided once: a namespace found unused stays so (nothing can take a
        // reference from nothing), and the index and the tree must lose the same
        // ones. Without memory for the list, they wait for the next collection.
        let mut unused = KVec::new();
        for (key, n) in namespaces.iter() {
            if n.ns.is_only_reference() && unused.push(*key, GFP_KERNEL).is_err() {
                return true;
            }
        }
        // Out of the index first: once the namespace reference goes, another
        // namespace may get its address, and with it its key.
        if !unused.is_empty()
            && self
                .publish_index(&namespaces, |key| !unused.contains(key))
                .is_ok()
        {
            for key in &unused {
                // Dropping the last reference only schedules the namespace's free.
                drop(namespaces.remove(key));
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

    /// The handler exec uses for the binary starting with `header` at the path
    /// `path` gives (asked only if an extension entry may need it): the first
    /// match in the instance of the nearest user namespace, from `chain` (the
    /// caller's namespace, then its ancestors), that has one. Lock-free, as
    /// every exec on the system asks.
    pub(crate) fn find_handler<'a>(
        &self,
        chain: impl Iterator<Item = NsKey>,
        header: &'a [u8; BINPRM_BUF_SIZE],
        path: impl FnOnce() -> &'a [u8],
    ) -> Option<Found> {
        let guard = RcuReadGuard::new();
        let index = self.index.read(&guard)?;
        let instance = chain
            .filter_map(|ns| index.binary_search_by_key(&ns, |(key, _)| *key).ok())
            .map(|at| &index[at].1)
            .next()?;
        instance.find(&guard, header, path)
    }
}
