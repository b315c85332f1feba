// SPDX-License-Identifier: GPL-2.0

//! Handlers and their instances: one instance per user namespace that mounted
//! binfmt_misc, found by exec through the user namespace tree.

use crate::bpf::{Handler, Handlers};
use crate::grammar::{Flags, Matcher, Registration};
use crate::matching::{matches, Candidate};
use crate::slots::Slots;
use crate::vfs::{ExecFile, NsKey, RcuBox, RcuReadGuard, Retired, Update, UserNamespace};
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU8, Ordering};
use kernel::prelude::*;
use kernel::rbtree::{RBTree, RBTreeNode};
use kernel::str::CStr;
use kernel::sync::{Arc, Mutex};
use kernel::types::ARef;
use kernel::{new_mutex, pin_init};

/// Where an entry is in its life; changed under the root inode lock.
#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum EntryState {
    /// Registered with `D`: has its file, but exec does not see it until the
    /// first `1`; a 'B' entry binds interpreters only in this state.
    Staged = 0,
    /// In the list exec searches.
    Published = 1,
    /// Removed; its file may still be open.
    Removed = 2,
}

/// An interpreter bound to a 'B' entry with `+name /path`.
pub(crate) struct Binding {
    name: KVec<u8>,
    /// The path it was bound as, with NUL: its name at exec, never re-resolved.
    path: KVec<u8>,
    file: ExecFile,
}

/// A copy of `bytes` with a NUL after them, for C.
pub(crate) fn with_nul(bytes: &[u8], flags: kernel::alloc::Flags) -> Result<KVec<u8>> {
    let mut v = KVec::with_capacity(bytes.len() + 1, flags)?;
    v.extend_from_slice(bytes, flags)?;
    v.push(0, flags)?;
    Ok(v)
}

impl Binding {
    /// Binds `path` as `name`, opened by `open`.
    pub(crate) fn open(
        name: &[u8],
        path: &[u8],
        open: impl FnOnce(&CStr) -> Result<ExecFile>,
    ) -> Result<Self> {
        let path = with_nul(path, GFP_KERNEL_ACCOUNT)?;
        let file = open(cstr_at(&path, &(0..path.len() - 1)))?;
        let mut n = KVec::with_capacity(name.len(), GFP_KERNEL_ACCOUNT)?;
        n.extend_from_slice(name, GFP_KERNEL_ACCOUNT)?;
        Ok(Self {
            name: n,
            path,
            file,
        })
    }

    pub(crate) fn path(&self) -> &CStr {
        cstr_at(&self.path, &(0..self.path.len() - 1))
    }

    /// The path as bound, without its NUL.
    fn path_bytes(&self) -> &[u8] {
        self.path().as_bytes()
    }

    pub(crate) fn file(&self) -> &ExecFile {
        &self.file
    }
}

/// One registered handler.
#[pin_data]
pub(crate) struct Entry {
    /// The register string as parsed in place; `registration` indexes it.
    buf: KVec<u8>,
    registration: Registration,
    enabled: AtomicBool,
    state: AtomicU8,
    /// The interpreter opened at registration (`F`), write-denied while held.
    interp_file: Option<ExecFile>,
    /// A 'B' entry's handler, kept alive by the entry.
    handler: Option<Arc<Handler>>,
    /// A 'B' entry's bound interpreters, in binding order; they change only
    /// while the entry is staged, before exec can see it.
    #[pin]
    bindings: Mutex<KVec<Arc<Binding>>>,
}

impl Entry {
    /// A new entry, enabled unless registered with `D`. `buf` must be the buffer
    /// `registration` was parsed from.
    pub(crate) fn new(
        buf: KVec<u8>,
        registration: Registration,
        interp_file: Option<ExecFile>,
        handler: Option<Arc<Handler>>,
    ) -> Result<Arc<Self>> {
        let disabled = registration.disabled;
        Arc::pin_init(
            pin_init!(Self {
                buf,
                registration,
                enabled: AtomicBool::new(!disabled),
                state: AtomicU8::new(EntryState::Removed as u8),
                interp_file,
                handler,
                bindings <- new_mutex!(KVec::new(), "binfmt_misc_rs::Entry::bindings"),
            }),
            GFP_KERNEL_ACCOUNT,
        )
    }

    pub(crate) fn name(&self) -> &CStr {
        cstr_at(&self.buf, &self.registration.name)
    }

    pub(crate) fn interpreter(&self) -> &CStr {
        Self::interpreter_of(&self.buf, &self.registration)
    }

    /// The interpreter of a registration parsed from `buf`, before it is an
    /// entry; a 'B' entry's handler name.
    pub(crate) fn interpreter_of<'a>(buf: &'a [u8], registration: &Registration) -> &'a CStr {
        cstr_at(buf, &registration.interpreter)
    }

    pub(crate) fn flags(&self) -> Flags {
        self.registration.flags
    }

    pub(crate) fn interp_file(&self) -> Option<&ExecFile> {
        self.interp_file.as_ref()
    }

    pub(crate) fn handler(&self) -> Option<&Arc<Handler>> {
        self.handler.as_ref()
    }

    pub(crate) fn is_bpf(&self) -> bool {
        matches!(self.registration.matcher, Matcher::Bpf)
    }

    pub(crate) fn state(&self) -> EntryState {
        match self.state.load(Ordering::Relaxed) {
            0 => EntryState::Staged,
            1 => EntryState::Published,
            _ => EntryState::Removed,
        }
    }

    fn set_state(&self, state: EntryState) {
        self.state.store(state as u8, Ordering::Relaxed);
    }

    pub(crate) fn is_enabled(&self) -> bool {
        self.enabled.load(Ordering::Relaxed)
    }

    pub(crate) fn set_enabled(&self, enabled: bool) {
        self.enabled.store(enabled, Ordering::Relaxed);
    }

    pub(crate) fn matches(&self, candidate: &Candidate<'_>) -> bool {
        matches(&self.registration.matcher, &self.buf, candidate)
    }

    /// Binds `binding`; the caller holds the root inode lock and has checked
    /// that the entry is staged.
    pub(crate) fn bind(&self, binding: Binding) -> Result {
        let mut bindings = self.bindings.lock();
        if bindings.iter().any(|b| b.name == binding.name) {
            return Err(EEXIST);
        }
        if bindings.len() >= crate::grammar::MAX_BINDINGS {
            return Err(ENOSPC);
        }
        bindings.push(Arc::new(binding, GFP_KERNEL_ACCOUNT)?, GFP_KERNEL_ACCOUNT)?;
        Ok(())
    }

    /// The index of the interpreter bound as `name`.
    pub(crate) fn binding_index(&self, name: &[u8]) -> Option<usize> {
        self.bindings.lock().iter().position(|b| b.name == name)
    }

    /// The interpreter bound at `index`; bindings never go while the entry
    /// lives, so an index once found stays valid. Exec opens it after the lock
    /// is dropped: a slow filesystem must not hold up other execs.
    pub(crate) fn binding(&self, index: usize) -> Option<Arc<Binding>> {
        self.bindings.lock().get(index).cloned()
    }

    /// Bytes the entry's text may take, for its buffer.
    pub(crate) fn text_capacity(&self) -> usize {
        let bound: usize = self
            .bindings
            .lock()
            .iter()
            .map(|b| crate::format::binding_text_len(&b.name, b.path_bytes()))
            .sum();
        crate::format::MAX_ENTRY_TEXT + bound
    }

    /// Writes the entry's file text.
    pub(crate) fn write_text(&self, out: &mut impl crate::format::ByteSink) -> core::fmt::Result {
        let bindings = self.bindings.lock();
        crate::format::write_entry(
            out,
            &self.buf,
            &self.registration,
            self.is_enabled(),
            bindings.iter().map(|b| (&b.name[..], b.path_bytes())),
        )
    }
}

/// The string at `range` of a parsed buffer: the parser leaves a NUL after names
/// and interpreters and none inside, so the fallback is never taken.
fn cstr_at<'a>(buf: &'a [u8], range: &core::ops::Range<usize>) -> &'a CStr {
    buf.get(range.start..=range.end)
        .and_then(|s| CStr::from_bytes_with_nul(s).ok())
        .unwrap_or(kernel::c_str!(""))
}

/// The entries exec searches, in registration order.
pub(crate) struct EntryList {
    entries: KVec<Arc<Entry>>,
    /// Whether any entry is a 'B' entry, whose `match` program may sleep: then
    /// exec takes a reference on the list and searches it outside RCU.
    has_bpf: bool,
}

impl EntryList {
    fn new(entries: KVec<Arc<Entry>>) -> Result<KBox<Arc<Self>>> {
        let has_bpf = entries.iter().any(|e| e.is_bpf());
        Ok(KBox::new(
            Arc::new(Self { entries, has_bpf }, GFP_KERNEL_ACCOUNT)?,
            GFP_KERNEL_ACCOUNT,
        )?)
    }

    pub(crate) fn iter(&self) -> impl DoubleEndedIterator<Item = &Arc<Entry>> {
        self.entries.iter()
    }
}

/// What exec found in an instance.
pub(crate) enum Found {
    /// The handler, found without running any program.
    Entry(Arc<Entry>),
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

/// A list of entries the instance no longer publishes; dropping it waits for the
/// readers that may still see it, so drop it after releasing other locks.
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
            create_file()?;
            staged.put(entry.clone(), GFP_KERNEL_ACCOUNT)?;
            entry.set_state(EntryState::Staged);
            return Ok(None);
        }
        self.publish_with(entry, create_file)
    }

    fn publish_with(
        &self,
        entry: Arc<Entry>,
        create_file: impl FnOnce() -> Result,
    ) -> Result<RetiredEntries> {
        let published = entry.clone();
        let retired = self.entries.update(|entries| {
            let entries = entries.map_or(&[][..], |e| e.entries.as_slice());
            let mut new = KVec::with_capacity(entries.len() + 1, GFP_KERNEL_ACCOUNT)?;
            for e in entries {
                new.push(e.clone(), GFP_KERNEL_ACCOUNT)?;
            }
            new.push(entry, GFP_KERNEL_ACCOUNT)?;
            let new = EntryList::new(new)?;
            create_file()?;
            Ok(Update::Replace(Some(new)))
        })?;
        published.set_state(EntryState::Published);
        Ok(retired)
    }

    /// The first `1` written to a staged entry: it enters the list exec searches,
    /// sealed. The caller holds the root inode lock.
    pub(crate) fn publish(&self, entry: &Arc<Entry>) -> Result<RetiredEntries> {
        if entry.state() != EntryState::Staged {
            entry.set_enabled(true);
            return Ok(None);
        }
        let mut staged = self.staged.lock();
        entry.set_enabled(true);
        let retired = self
            .publish_with(entry.clone(), || Ok(()))
            .inspect_err(|_| {
                entry.set_enabled(false);
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
            let entries = entries.map_or(&[][..], |e| e.entries.as_slice());
            if !entries.iter().any(|e| core::ptr::eq(&**e, entry)) {
                return Ok(Update::Keep);
            }
            found = true;
            if entries.len() == 1 {
                return Ok(Update::Replace(None));
            }
            let mut new = KVec::with_capacity(entries.len() - 1, GFP_KERNEL_ACCOUNT)?;
            for e in entries.iter().filter(|e| !core::ptr::eq(&***e, entry)) {
                new.push(e.clone(), GFP_KERNEL_ACCOUNT)?;
            }
            Ok(Update::Replace(Some(EntryList::new(new)?)))
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
    /// RCU: no lock, no sleep.
    fn find(&self, guard: &RcuReadGuard, candidate: &Candidate<'_>) -> Option<Found> {
        if !self.is_enabled() {
            return None;
        }
        let list = self.entries.read(guard)?;
        if list.has_bpf {
            return Some(Found::Walk(list.clone()));
        }
        list.iter()
            .rev()
            .find(|e| e.is_enabled() && e.matches(candidate))
            .map(|e| Found::Entry(e.clone()))
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
    /// The bpf handlers ('B' entries) of every namespace.
    #[pin]
    bpf: Handlers,
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

    pub(crate) fn bpf(&self) -> &Handlers {
        &self.bpf
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
    ) -> Option<Found> {
        let guard = RcuReadGuard::new();
        let index = self.index.read(&guard)?;
        let instance = chain
            .filter_map(|ns| index.binary_search_by_key(&ns, |(key, _)| *key).ok())
            .map(|at| &index[at].1)
            .next()?;
        instance.find(&guard, candidate)
    }
}
