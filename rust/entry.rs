// SPDX-License-Identifier: GPL-2.0

//! Entries: one registered handler each, its register string as parsed, its
//! state, and the files it keeps open for the execs that use it.

#![forbid(unsafe_code)]

use crate::grammar::{Flags, Matcher, Registration};
use crate::handler::Handler;
use crate::kernel_ext::boxed::into_boxed_slice;
use crate::kernel_ext::exec_file::ExecFile;
use crate::kernel_ext::set_once::SetOnce;
use crate::kernel_ext::use_count::{HasUseCount, InUse, UseCount};
use crate::matching::{matches, Candidate};
use core::ops::Range;
use core::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use kernel::prelude::*;
use kernel::str::CStr;
use kernel::sync::{Arc, Mutex};
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

/// What an entry keeps open for the execs that use it: its `F` interpreter and,
/// once sealed, a 'B' entry's bound interpreters. As upstream's entry `users`
/// count, its users are the entry's file (from creation to eviction) and every
/// exec using the entry, and the last of them to go closes the files: removing
/// an entry gives the interpreters their write access back at once unless an
/// exec or an open entry file still uses them.
pub(crate) struct EntryFiles {
    interp: Option<ExecFile>,
    /// Set when a 'B' entry is sealed (its first `1`): fixed from then on, so
    /// exec reads them without a lock.
    bindings: SetOnce<KVec<Binding>>,
}

impl EntryFiles {
    pub(crate) fn interp(&self) -> Option<&ExecFile> {
        self.interp.as_ref()
    }

    /// The interpreter bound as `name`, by index.
    pub(crate) fn binding_index(&self, name: &[u8]) -> Option<usize> {
        self.bindings.get()?.iter().position(|b| b.name == name)
    }

    /// The interpreter bound at `index`.
    pub(crate) fn binding(&self, index: usize) -> Option<&Binding> {
        self.bindings.get()?.get(index)
    }
}

/// A range of a register string: at most [`crate::grammar::MAX_REGISTER_LENGTH`]
/// bytes and the parser's pad, so 16 bits hold its ends.
#[derive(Clone, Copy)]
struct Span(u16, u16);

impl Span {
    fn new(range: &Range<usize>) -> Result<Self> {
        Ok(Self(
            u16::try_from(range.start).map_err(|_| EINVAL)?,
            u16::try_from(range.end).map_err(|_| EINVAL)?,
        ))
    }

    fn range(self) -> Range<usize> {
        usize::from(self.0)..usize::from(self.1)
    }
}

/// A [`Registration`] in a quarter of its size, rebuilt where it is used: with a
/// thousand entries, each byte of an entry is a kilobyte of kernel memory, and
/// upstream's entry holds the same facts in a few words.
#[derive(Clone, Copy)]
struct PackedRegistration {
    name: Span,
    interpreter: Span,
    /// The extension, or the magic.
    pattern: Span,
    mask: Option<Span>,
    offset: u16,
    kind: MatcherKind,
    flags: Flags,
    disabled: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum MatcherKind {
    Extension,
    Magic,
    Bpf,
}

impl PackedRegistration {
    fn new(r: &Registration) -> Result<Self> {
        let none = Span(0, 0);
        let (kind, pattern, mask, offset) = match &r.matcher {
            Matcher::Extension(ext) => (MatcherKind::Extension, Span::new(ext)?, None, 0),
            Matcher::Magic {
                offset,
                magic,
                mask,
            } => (
                MatcherKind::Magic,
                Span::new(magic)?,
                mask.as_ref().map(Span::new).transpose()?,
                u16::try_from(*offset).map_err(|_| EINVAL)?,
            ),
            Matcher::Bpf => (MatcherKind::Bpf, none, None, 0),
        };
        Ok(Self {
            name: Span::new(&r.name)?,
            interpreter: Span::new(&r.interpreter)?,
            pattern,
            mask,
            offset,
            kind,
            flags: r.flags,
            disabled: r.disabled,
        })
    }

    fn matcher(&self) -> Matcher {
        match self.kind {
            MatcherKind::Extension => Matcher::Extension(self.pattern.range()),
            MatcherKind::Magic => Matcher::Magic {
                offset: usize::from(self.offset),
                magic: self.pattern.range(),
                mask: self.mask.map(Span::range),
            },
            MatcherKind::Bpf => Matcher::Bpf,
        }
    }

    fn unpack(&self) -> Registration {
        Registration {
            name: self.name.range(),
            matcher: self.matcher(),
            interpreter: self.interpreter.range(),
            flags: self.flags,
            disabled: self.disabled,
        }
    }
}

/// What only a 'B' entry has, apart, so that other entries do not carry it.
#[pin_data]
struct BpfPart {
    /// The entry's handler, kept alive by the entry.
    handler: Arc<Handler>,
    /// The bound interpreters while the entry is staged, in binding order;
    /// sealing moves them to `files`.
    #[pin]
    staged_bindings: Mutex<KVec<Binding>>,
}

/// One registered handler.
///
/// Its size matters: upstream's entry is one allocation of its node and the
/// register string (192 bytes for a typical string). This one is 88 bytes, a
/// 96-byte allocation with the `Arc`'s count, plus the string, and one pointer
/// in the list exec searches.
pub(crate) struct Entry {
    /// The register string as parsed in place; `registration` indexes it.
    buf: KBox<[u8]>,
    registration: PackedRegistration,
    enabled: AtomicBool,
    state: AtomicU8,
    files: UseCount<EntryFiles>,
    /// Allocated for 'B' entries only: a lock (with lockdep, well over a
    /// hundred bytes) would be most of an entry's size.
    bpf: Option<Pin<KBox<BpfPart>>>,
}

// Keeps an entry, with the `Arc`'s count, in a 96-byte allocation.
const _: () = assert!(core::mem::size_of::<Entry>() <= 88);

impl HasUseCount for Entry {
    type Value = EntryFiles;

    fn use_count(&self) -> &UseCount<EntryFiles> {
        &self.files
    }
}

impl Entry {
    /// A new entry, enabled unless registered with `D`. `buf` must be the buffer
    /// `registration` was parsed from. Its file's inode is its first user.
    pub(crate) fn new(
        buf: KVec<u8>,
        registration: Registration,
        interp_file: Option<ExecFile>,
        handler: Option<Arc<Handler>>,
    ) -> Result<Arc<Self>> {
        let disabled = registration.disabled;
        let bpf = match handler {
            Some(handler) => Some(KBox::pin_init(
                pin_init!(BpfPart {
                    handler,
                    staged_bindings <- new_mutex!(KVec::new(), "binfmt_misc_rs::Entry::staged_bindings"),
                }),
                GFP_KERNEL_ACCOUNT,
            )?),
            None => None,
        };
        // The parser's buffer is exactly as long as it was allocated.
        let buf = into_boxed_slice(buf).map_err(|_| EINVAL)?;
        Ok(Arc::new(
            Self {
                buf,
                registration: PackedRegistration::new(&registration)?,
                enabled: AtomicBool::new(!disabled),
                state: AtomicU8::new(EntryState::Removed as u8),
                files: UseCount::new(EntryFiles {
                    interp: interp_file,
                    bindings: SetOnce::new(),
                }),
                bpf,
            },
            GFP_KERNEL_ACCOUNT,
        )?)
    }

    pub(crate) fn name(&self) -> &CStr {
        cstr_at(&self.buf, &self.registration.name.range())
    }

    pub(crate) fn interpreter(&self) -> &CStr {
        cstr_at(&self.buf, &self.registration.interpreter.range())
    }

    /// The interpreter of a registration parsed from `buf`, before it is an
    /// entry; a 'B' entry's handler name.
    pub(crate) fn interpreter_of<'a>(buf: &'a [u8], registration: &Registration) -> &'a CStr {
        cstr_at(buf, &registration.interpreter)
    }

    pub(crate) fn flags(&self) -> Flags {
        self.registration.flags
    }

    pub(crate) fn handler(&self) -> Option<&Arc<Handler>> {
        self.bpf.as_ref().map(|b| &b.handler)
    }

    pub(crate) fn is_bpf(&self) -> bool {
        self.registration.kind == MatcherKind::Bpf
    }

    pub(crate) fn state(&self) -> EntryState {
        match self.state.load(Ordering::Relaxed) {
            0 => EntryState::Staged,
            1 => EntryState::Published,
            _ => EntryState::Removed,
        }
    }

    /// Moves the entry on in its life; the instance does, under the root inode lock.
    pub(crate) fn set_state(&self, state: EntryState) {
        self.state.store(state as u8, Ordering::Relaxed);
    }

    pub(crate) fn is_enabled(&self) -> bool {
        self.enabled.load(Ordering::Relaxed)
    }

    pub(crate) fn set_enabled(&self, enabled: bool) {
        self.enabled.store(enabled, Ordering::Relaxed);
    }

    /// The matcher and the buffer its ranges index, for the list's index.
    pub(crate) fn matcher(&self) -> (Matcher, &[u8]) {
        (self.registration.matcher(), &self.buf)
    }

    pub(crate) fn matches(&self, candidate: &Candidate<'_>) -> bool {
        matches(&self.registration.matcher(), &self.buf, candidate)
    }

    /// The entry's file is gone (evicted): it stops using the entry's files,
    /// which close now unless an exec still uses them.
    pub(crate) fn release_file(&self) -> Option<EntryFiles> {
        self.files.leave_creator()
    }

    /// Binds `binding`; the caller holds the root inode lock and has checked
    /// that the entry is staged. A refused binding comes back, to be closed
    /// after the lock is dropped.
    pub(crate) fn bind(&self, binding: Binding) -> core::result::Result<(), (Error, Binding)> {
        let Some(bpf) = &self.bpf else {
            return Err((EINVAL, binding));
        };
        let mut bindings = bpf.staged_bindings.lock();
        if bindings.iter().any(|b| b.name == binding.name) {
            return Err((EEXIST, binding));
        }
        if bindings.len() >= crate::grammar::MAX_BINDINGS {
            return Err((ENOSPC, binding));
        }
        if let Err(e) = bindings.reserve(1, GFP_KERNEL_ACCOUNT) {
            return Err((e.into(), binding));
        }
        // Room was reserved: this cannot fail.
        let _ = bindings.push(binding, GFP_KERNEL_ACCOUNT);
        Ok(())
    }

    /// Moves the staged bindings where exec reads them without a lock, for
    /// `user` (a use of this entry) when it is sealed. Nothing changes if
    /// there is no memory for it.
    pub(crate) fn seal_bindings(&self, user: &InUse<Entry>) -> Result {
        let Some(bpf) = &self.bpf else {
            return Ok(());
        };
        let mut staged = bpf.staged_bindings.lock();
        let sealed = KBox::new(core::mem::take(&mut *staged), GFP_KERNEL_ACCOUNT)?;
        if let Err(again) = user.value().bindings.set(sealed) {
            *staged = KBox::into_inner(again);
        }
        Ok(())
    }

    /// Writes the entry's file text.
    pub(crate) fn write_text(
        this: &Arc<Self>,
        out: &mut impl crate::format::ByteSink,
    ) -> core::fmt::Result {
        let text = |out: &mut _, bindings: &[Binding]| {
            crate::format::write_entry(
                out,
                &this.buf,
                &this.registration.unpack(),
                this.is_enabled(),
                bindings.iter().map(|b| (&b.name[..], b.path_bytes())),
            )
        };
        if let Some(bpf) = &this.bpf {
            let staged = bpf.staged_bindings.lock();
            if !staged.is_empty() {
                return text(out, &staged);
            }
        }
        match InUse::join(this) {
            Some(user) => text(out, user.value().bindings.get().map_or(&[][..], |b| &b[..])),
            None => text(out, &[]),
        }
    }
}

/// The string at `range` of a parsed buffer: the parser leaves a NUL after names
/// and interpreters and none inside, so the fallback is never taken.
fn cstr_at<'a>(buf: &'a [u8], range: &core::ops::Range<usize>) -> &'a CStr {
    buf.get(range.start..=range.end)
        .and_then(|s| CStr::from_bytes_with_nul(s).ok())
        .unwrap_or(kernel::c_str!(""))
}
