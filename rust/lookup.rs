// SPDX-License-Identifier: GPL-2.0

//! An index of an entry list, so that exec looks at only the entries that can
//! recognise its binary instead of walking the whole list.
//!
//! Upstream's `check_file()` asks every entry, newest first, and the first
//! enabled one that matches wins. The index keeps that answer: it yields, newest
//! first, every entry whose static key equals the binary's (which the caller
//! still checks with the full matcher, and for being enabled, which can change
//! without a new list), and every 'B' entry in its place in that order, since a
//! `match` program has no key.
//!
//! Magic entries are grouped by shape (offset, length, mask): within a shape two
//! entries match the same binaries exactly when their masked magics are equal,
//! so each shape's entries are sorted by a hash of the masked magic, then by the
//! masked magic, and a lookup binary-searches each shape once with the hash of
//! the binary's masked bytes. Extension entries are sorted the same way by their
//! extension. Each slot carries its entry's hash, so a search reads one entry
//! per shape (for its offset and mask) and more only where it finds an equal
//! hash. A lookup costs one binary search per shape plus
//! one for the extensions; a list with as many shapes as entries is no better
//! than the walk, and [`Index::lookup`] walks such a list instead.
//!
//! The index lives in two arrays the caller allocates (so that the kernel can
//! allocate them fallibly): `slots`, every entry's position in the list and
//! hash, and `shapes`, where each shape's run of `slots` ends. See
//! [`Index::build`].

#![forbid(unsafe_code)]

use crate::grammar::{Matcher, BINPRM_BUF_SIZE};
use crate::matching::Candidate;
use core::cmp::Ordering;

/// The entries an index is built for, by position (registration order).
pub trait Entries {
    /// How many entries there are.
    fn count(&self) -> usize;
    /// The matcher of the entry at `pos` and the buffer its ranges index.
    fn matcher(&self, pos: usize) -> (Matcher, &[u8]);
}

/// An entry of the index: its position in the list and the hash of its key
/// (masked magic or extension; 0 for a 'B' entry).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Slot {
    pos: u32,
    key: u32,
}

impl Slot {
    /// The entry's position in the list.
    pub fn pos(self) -> usize {
        self.pos as usize
    }
}

/// FNV-1a over the key bytes, each masked: equal masked magics (and equal
/// extensions) hash equal, so they stay together in the order they sort by.
pub(crate) fn hash(bytes: &[u8], mask: Option<&[u8]>) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for (i, &b) in bytes.iter().enumerate() {
        let k = mask.map_or(0xff, |m| m.get(i).copied().unwrap_or(0));
        h = (h ^ u32::from(b & k)).wrapping_mul(0x0100_0193);
    }
    h
}

/// The hash a slot carries for the entry at `pos`.
fn key_of(entries: &(impl Entries + ?Sized), pos: usize) -> u32 {
    match entries.matcher(pos) {
        (Matcher::Magic { magic, mask, .. }, b) => {
            hash(&b[magic], mask.as_ref().map(|k| &b[k.clone()]))
        }
        (Matcher::Extension(e), b) => hash(&b[e], None),
        (Matcher::Bpf, _) => 0,
    }
}

/// What a walk tells of an entry from one word kept in the list beside it, so
/// that an entry the binary cannot match is passed over without reading it: a
/// walk reads 8 bytes per entry, in order, instead of the entry and its buffer,
/// two objects elsewhere in memory. It is a necessary condition only: the caller
/// still checks each entry it admits with the full matcher.
///
/// A magic's probe compares one 4-byte window of the header, which ends within
/// it, under a mask: the window starts at the magic's offset, or up to 3 bytes
/// before it where the header ends sooner. So a walk does the same few
/// instructions for every magic, with one bounds check that always passes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub struct Probe {
    /// The window's bytes that a magic's first bytes (up to 4) are,
    /// little-endian, or an extension's hash.
    value: u32,
    /// [`TAG_EXTENSION`], or the index in [`KEEPS`] of the bits of the window
    /// that `value` holds: 0 (the default, for a 'B' entry or a masked magic)
    /// keeps none, so every binary is admitted.
    tag: u8,
    /// Where a magic's window starts in the header.
    at: u8,
}

/// A magic's window: 4 bytes of the header, the last window starting here.
const WINDOW: usize = 4;
const LAST_WINDOW: usize = BINPRM_BUF_SIZE - WINDOW;

/// A probe's tag for an extension. A magic's is 1 + 4 * (bytes before the magic
/// in its window) + (bytes of the magic in it) - 1, the index of their bits in
/// [`KEEPS`]; an open probe's is 0.
const TAG_EXTENSION: u8 = 17;

/// By tag, the bits of a magic's window that its probe compares; none for an
/// extension, whose probe the header alone does not rule out.
const KEEPS: [u32; 32] = {
    let mut keeps = [0; 32];
    let mut skip = 0;
    while skip < WINDOW {
        let mut len = 1;
        while skip + len <= WINDOW {
            let bits = if len == WINDOW {
                u32::MAX
            } else {
                (1 << (8 * len)) - 1
            };
            keeps[1 + 4 * skip + len - 1] = bits << (8 * skip);
            len += 1;
        }
        skip += 1;
    }
    keeps
};

/// `bytes` (at most 4) as a little-endian word.
fn word(bytes: &[u8]) -> u32 {
    bytes.iter().rev().fold(0, |w, &b| (w << 8) | u32::from(b))
}

impl Probe {
    /// The probe of an entry with matcher `m` over `buf`.
    pub fn of(m: &Matcher, buf: &[u8]) -> Self {
        match m {
            Matcher::Magic {
                offset,
                magic,
                mask: None,
            } => {
                let (Some(magic), true) = (buf.get(magic.clone()), *offset < BINPRM_BUF_SIZE)
                else {
                    return Self::default();
                };
                let at = (*offset).min(LAST_WINDOW);
                let skip = *offset - at;
                let len = magic.len().min(WINDOW - skip);
                if len == 0 {
                    return Self::default();
                }
                Self {
                    value: word(&magic[..len]) << (8 * skip),
                    tag: (1 + 4 * skip + len - 1) as u8,
                    at: at as u8,
                }
            }
            Matcher::Extension(ext) => match buf.get(ext.clone()) {
                Some(ext) => Self {
                    value: hash(ext, None),
                    tag: TAG_EXTENSION,
                    at: 0,
                },
                None => Self::default(),
            },
            _ => Self::default(),
        }
    }

    fn keep(self) -> u32 {
        KEEPS[usize::from(self.tag) % KEEPS.len()]
    }

    /// Whether the probe admits every binary, so that a walk reads the entry
    /// whole: a masked magic, a 'B' entry.
    fn is_open(self) -> bool {
        self.tag != TAG_EXTENSION && self.keep() == 0
    }

    /// Whether the entry may recognise a binary starting with `header`, as far
    /// as the header tells: every extension's probe does (see
    /// [`Probe::admits_extension`]). Exec runs this once per entry of a walked
    /// list: two loads, a compare under a mask, and a bounds check that
    /// [`Probe::of`] makes always pass.
    #[inline(always)]
    fn admits_header(&self, header: &[u8; BINPRM_BUF_SIZE]) -> bool {
        let at = usize::from(self.at);
        match header
            .get(at..at + WINDOW)
            .and_then(|w| <[u8; WINDOW]>::try_from(w).ok())
        {
            Some(window) => (u32::from_le_bytes(window) ^ self.value) & self.keep() == 0,
            None => true,
        }
    }

    /// Whether an extension's probe admits a binary whose extension hashes to
    /// `ext`; any other probe does.
    fn admits_extension(&self, ext: impl FnOnce() -> Option<u32>) -> bool {
        self.tag != TAG_EXTENSION || ext() == Some(self.value)
    }
}

/// A list's probes, by position, and how many of them are open (admit every
/// binary), which the list counts once, when it is made, for exec.
#[derive(Clone, Copy)]
pub struct Probes<'a> {
    list: &'a [Probe],
    open: usize,
}

impl<'a> Probes<'a> {
    /// `list`, of which `open` are open, as [`Probes::count_open`] counted.
    pub fn new(list: &'a [Probe], open: usize) -> Self {
        Self { list, open }
    }

    /// How many of `list` are open.
    pub fn count_open(list: &[Probe]) -> usize {
        list.iter().filter(|p| p.is_open()).count()
    }

    /// `list`, counted here; for the host tests.
    #[cfg_attr(not(test), allow(dead_code))]
    pub fn of(list: &'a [Probe]) -> Self {
        Self::new(list, Self::count_open(list))
    }
}

/// A run of magic entries with the same offset, length and mask.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Shape {
    /// Where the run ends in `slots` (it starts where the previous one ends).
    end: u32,
}

/// Which kind of matcher an entry has, in the order of their runs in `slots`.
fn class(m: &Matcher) -> u8 {
    match m {
        Matcher::Magic { .. } => 0,
        Matcher::Extension(_) => 1,
        Matcher::Bpf => 2,
    }
}

/// The offset, length and mask bytes (`None`: all bits) of a magic matcher.
fn shape_of<'a>(m: &Matcher, buf: &'a [u8]) -> Option<(usize, usize, Option<&'a [u8]>)> {
    match m {
        Matcher::Magic {
            offset,
            magic,
            mask,
        } => Some((*offset, magic.len(), mask.as_ref().map(|k| &buf[k.clone()]))),
        _ => None,
    }
}

/// The magic and mask bytes of a magic matcher.
fn magic_of<'a>(m: &Matcher, buf: &'a [u8]) -> (&'a [u8], Option<&'a [u8]>) {
    match m {
        Matcher::Magic { magic, mask, .. } => {
            (&buf[magic.clone()], mask.as_ref().map(|k| &buf[k.clone()]))
        }
        _ => (&[], None),
    }
}

/// Compares `a & mask` with `b & mask`, byte by byte.
fn cmp_masked(a: &[u8], b: &[u8], mask: Option<&[u8]>) -> Ordering {
    match mask {
        None => a.cmp(b),
        Some(mask) => a
            .iter()
            .zip(b)
            .zip(mask)
            .map(|((x, y), k)| (x & k).cmp(&(y & k)))
            .find(|o| o.is_ne())
            .unwrap_or(Ordering::Equal),
    }
}

/// The order of `slots`: magic entries by shape, then the hash of the masked
/// magic, then the masked magic; extension entries by the hash of the extension,
/// then the extension; 'B' entries; each group by position.
fn cmp_slots(entries: &(impl Entries + ?Sized), a: Slot, b: Slot) -> Ordering {
    let (ma, ba) = entries.matcher(a.pos as usize);
    let (mb, bb) = entries.matcher(b.pos as usize);
    let (ma, mb) = (&ma, &mb);
    let by_key = match (ma, mb) {
        (Matcher::Magic { .. }, Matcher::Magic { .. }) => {
            let sa = shape_of(ma, ba);
            let sb = shape_of(mb, bb);
            sa.cmp(&sb).then(a.key.cmp(&b.key)).then_with(|| {
                let (xa, mask) = magic_of(ma, ba);
                let (xb, _) = magic_of(mb, bb);
                cmp_masked(xa, xb, mask)
            })
        }
        (Matcher::Extension(ea), Matcher::Extension(eb)) => a
            .key
            .cmp(&b.key)
            .then_with(|| ba[ea.clone()].cmp(&bb[eb.clone()])),
        _ => class(ma).cmp(&class(mb)),
    };
    by_key.then(a.pos.cmp(&b.pos))
}

/// Too many entries for an index: positions are 32-bit.
#[derive(Debug, PartialEq, Eq)]
pub struct TooMany;

/// An index of an entry list, over the arrays [`Index::build`] filled.
#[derive(Clone, Copy)]
pub struct Index<'a> {
    slots: &'a [Slot],
    shapes: &'a [Shape],
}

impl<'a> Index<'a> {
    /// First step of a build: fills `slots` (as long as the list) and returns how
    /// many shapes the caller must allocate for [`Index::build`].
    pub fn sort(entries: &(impl Entries + ?Sized), slots: &mut [Slot]) -> Result<usize, TooMany> {
        if slots.len() != entries.count() {
            return Err(TooMany);
        }
        for (i, s) in slots.iter_mut().enumerate() {
            *s = Slot {
                pos: u32::try_from(i).map_err(|_| TooMany)?,
                key: key_of(entries, i),
            };
        }
        slots.sort_unstable_by(|&a, &b| cmp_slots(entries, a, b));
        let magic = slots
            .iter()
            .take_while(|s| class(&entries.matcher(s.pos()).0) == 0)
            .count();
        let distinct = slots[..magic]
            .windows(2)
            .filter(|w| {
                let (ma, ba) = entries.matcher(w[0].pos());
                let (mb, bb) = entries.matcher(w[1].pos());
                shape_of(&ma, ba) != shape_of(&mb, bb)
            })
            .count();
        // One run per change of shape, one more for the first, and two runs,
        // always there, for the extension and the 'B' entries.
        Ok(if magic == 0 { 2 } else { distinct + 3 })
    }

    /// Second step: fills `shapes` (of the length [`Index::sort`] returned) for
    /// the `slots` it sorted.
    pub fn build(
        entries: &(impl Entries + ?Sized),
        slots: &'a [Slot],
        shapes: &'a mut [Shape],
    ) -> Self {
        let mut n = 0;
        let mut push = |end: usize| {
            if let Some(s) = shapes.get_mut(n) {
                // `sort` made sure positions, and so `end`, fit.
                s.end = end as u32;
            }
            n += 1;
        };
        let class_at = |i: usize| class(&entries.matcher(slots[i].pos()).0);
        let mut i = 0;
        while i < slots.len() && class_at(i) == 0 {
            let (m, b) = entries.matcher(slots[i].pos());
            let shape = shape_of(&m, b);
            i += 1;
            while i < slots.len() && class_at(i) == 0 && {
                let (m, b) = entries.matcher(slots[i].pos());
                shape_of(&m, b) == shape
            } {
                i += 1;
            }
            push(i);
        }
        while i < slots.len() && class_at(i) == 1 {
            i += 1;
        }
        push(i);
        push(slots.len());
        Self::new(slots, shapes)
    }

    /// The index over arrays [`Index::build`] filled.
    pub fn new(slots: &'a [Slot], shapes: &'a [Shape]) -> Self {
        Self { slots, shapes }
    }

    /// Whether the list has 'B' entries: its last run is theirs.
    pub fn has_bpf(self) -> bool {
        self.shapes
            .len()
            .checked_sub(1)
            .is_some_and(|last| !self.run(last).is_empty())
    }

    /// How this index, of a list one entry shorter, becomes the index of
    /// `entries`, whose last entry is new: a binary search for its place and its
    /// run, not a new sort. `None` if this index is not of `entries` less its
    /// last (the caller builds the index anew).
    pub fn plan_add(self, entries: &(impl Entries + ?Sized)) -> Option<Change> {
        let pos = entries.count().checked_sub(1)?;
        let magic_runs = self.shapes.len().checked_sub(2)?;
        if self.slots.len() != pos || u32::try_from(pos).is_err() {
            return None;
        }
        let new = Slot {
            pos: pos as u32,
            key: key_of(entries, pos),
        };
        let at = self
            .slots
            .partition_point(|&s| cmp_slots(entries, s, new).is_lt());
        let (m, buf) = entries.matcher(pos);
        let (run, new_run) = match class(&m) {
            0 => {
                let shape = shape_of(&m, buf);
                let same_shape = |i: usize| {
                    self.slots.get(i).is_some_and(|&s| {
                        let (m, b) = entries.matcher(s.pos());
                        shape_of(&m, b) == shape
                    })
                };
                // The magic run holding slot `i`: the first that ends after it.
                let run_of =
                    |i: usize| self.shapes[..magic_runs].partition_point(|s| s.end as usize <= i);
                // Slots sort by shape first: the entry's shape, if the list has
                // it, is beside `at`; if not, `at` is between two runs.
                if at > 0 && same_shape(at - 1) {
                    (run_of(at - 1), false)
                } else {
                    (run_of(at), !same_shape(at))
                }
            }
            1 => (magic_runs, false),
            _ => (magic_runs + 1, false),
        };
        Some(Change {
            at,
            pos,
            key: new.key,
            run,
            kind: ChangeKind::Add { new_run },
            slots: self.slots.len(),
            shapes: self.shapes.len(),
        })
    }

    /// How this index becomes the index of its list without the entry at `pos`,
    /// the later entries moving down one position; no entry is read. `None` if
    /// `pos` is not in the index.
    pub fn plan_remove(self, pos: usize) -> Option<Change> {
        let at = self.slots.iter().position(|s| s.pos() == pos)?;
        let run = self.shapes.partition_point(|s| s.end as usize <= at);
        let magic_runs = self.shapes.len().checked_sub(2)?;
        // A magic run that holds only this entry goes with it; the extension
        // and 'B' runs are always there, empty or not.
        let drop_run = run < magic_runs && self.run(run).len() == 1;
        Some(Change {
            at,
            pos,
            key: 0,
            run,
            kind: ChangeKind::Remove { drop_run },
            slots: self.slots.len(),
            shapes: self.shapes.len(),
        })
    }

    /// The slots of run `i`; none for arrays [`Index::build`] did not fill,
    /// which a lookup must not panic on (in the kernel, a BUG()).
    fn run(&self, i: usize) -> &'a [Slot] {
        let end = |i: usize| self.shapes.get(i).map_or(0, |s| s.end as usize);
        let start = match i {
            0 => 0,
            _ => end(i - 1),
        };
        self.slots.get(start..end(i)).unwrap_or(&[])
    }

    /// The entries exec asks for `candidate`, newest first: those of
    /// [`Index::candidates`], or, for a list so short next to its number of
    /// searches that the walk costs less, the walk: every entry whose [`Probe`]
    /// in `probes` (by position, as [`Probe::of`] made them) admits the binary.
    /// A search (one per shape, one for the extensions) reads an entry of its
    /// shape and hashes the binary's bytes; the walk reads 8 bytes per entry,
    /// in order, and an entry whose probe is open whole. A search costs what
    /// the walk spends on about eight probes (host figures, 64 shapes of 5-byte
    /// magics: 100 entries, 620 ns of searches against 204 ns of walk; 400, 927
    /// against 763; 1000, 1035 against 1886) or on two or three entries read
    /// whole (690 ns of searches against 410 ns of walk over 100 entries read
    /// whole), so an entry read whole counts as [`OPEN_EXTRA`] + 1 probes, and a
    /// list whose walk costs fewer than [`WALK_PER_SEARCH`] probes per search
    /// is walked: its lookup costs about what its searches would, and a longer
    /// list's is bounded by its searches whatever its length.
    pub fn lookup(
        self,
        entries: &(impl Entries + ?Sized),
        probes: Probes<'a>,
        candidate: &Candidate<'a>,
    ) -> Candidates<'a> {
        let searches = self.shapes.len().saturating_sub(1);
        let walk = entries
            .count()
            .saturating_add(probes.open.saturating_mul(OPEN_EXTRA));
        if walk < WALK_PER_SEARCH.saturating_mul(searches) {
            return Candidates::walk(entries.count(), probes.list, candidate);
        }
        self.candidates(entries, candidate)
    }

    /// The entries that may recognise `candidate`, newest first: every 'B' entry
    /// and the entries whose key is the binary's. Each shape's run is searched
    /// once, here; the iterator then merges the ranges that hit, by position.
    /// A binary whose key is in more than [`MAX_HITS`] shapes (which takes
    /// overlapping shapes: no real set has them) gets every entry instead, the
    /// linear walk, so that an exec never costs more than the walk by more than
    /// the searches.
    pub fn candidates(
        self,
        entries: &(impl Entries + ?Sized),
        candidate: &Candidate<'a>,
    ) -> Candidates<'a> {
        let walk = Candidates::walk(entries.count(), &[], candidate);
        let mut hits = Candidates::hits();
        let n = self.shapes.len();
        if n < 2 {
            return hits;
        }
        let mut magic_hits = 0;
        for i in 0..n - 2 {
            let run = self.run(i);
            let Some(&first) = run.first() else {
                continue;
            };
            let (m, buf) = entries.matcher(first.pos());
            let Matcher::Magic {
                offset,
                magic,
                mask,
            } = &m
            else {
                continue;
            };
            let mask = mask.as_ref().map(|k| &buf[k.clone()]);
            let Some(window) = candidate.header.get(*offset..*offset + magic.len()) else {
                continue;
            };
            // An equal hash is rare where the binary matches nothing: only then
            // is an entry read.
            let hashed = hash(window, mask);
            let key = |s: &Slot| {
                s.key.cmp(&hashed).then_with(|| {
                    let (m, b) = entries.matcher(s.pos());
                    cmp_masked(magic_of(&m, b).0, window, mask)
                })
            };
            let lo = run.partition_point(|p| key(p).is_lt());
            // Most binaries match no key of a shape: one search is enough.
            if run.get(lo).is_some_and(|p| key(p).is_eq()) {
                let hi = lo + run[lo..].partition_point(|p| key(p).is_eq());
                if magic_hits == MAX_HITS {
                    return walk;
                }
                magic_hits += 1;
                hits.push(&run[lo..hi]);
            }
        }
        if let Some(ext) = candidate.extension() {
            let run = self.run(n - 2);
            let hashed = hash(ext, None);
            let key = |s: &Slot| {
                s.key
                    .cmp(&hashed)
                    .then_with(|| match entries.matcher(s.pos()) {
                        (Matcher::Extension(e), b) => b[e].cmp(ext),
                        _ => Ordering::Less,
                    })
            };
            let lo = run.partition_point(|p| key(p).is_lt());
            let hi = lo + run[lo..].partition_point(|p| key(p).is_eq());
            hits.push(&run[lo..hi]);
        }
        hits.push(self.run(n - 1));
        hits
    }
}

/// One entry added to or removed from a list, as it changes the list's index:
/// planned by [`Index::plan_add`] or [`Index::plan_remove`], made by
/// [`Change::apply`] into arrays the caller allocates. A registration or a
/// removal costs a copy of the index, not a sort of it.
#[derive(Clone, Copy, Debug)]
pub struct Change {
    /// Where in `slots` the entry goes, or was.
    at: usize,
    /// Its position in the list.
    pos: usize,
    /// Its slot's hash, for an addition.
    key: u32,
    /// The run it joins, starts or leaves.
    run: usize,
    kind: ChangeKind,
    /// The old index's lengths.
    slots: usize,
    shapes: usize,
}

#[derive(Clone, Copy, Debug)]
enum ChangeKind {
    /// `new_run`: the entry's shape is new, its run starts at `run`.
    Add { new_run: bool },
    /// `drop_run`: the entry was its run's only one.
    Remove { drop_run: bool },
}

impl Change {
    /// How long the new `slots` is.
    pub fn slots_len(&self) -> usize {
        match self.kind {
            ChangeKind::Add { .. } => self.slots + 1,
            ChangeKind::Remove { .. } => self.slots.saturating_sub(1),
        }
    }

    /// How long the new `shapes` is.
    pub fn shapes_len(&self) -> usize {
        match self.kind {
            ChangeKind::Add { new_run } => self.shapes + usize::from(new_run),
            ChangeKind::Remove { drop_run } => self.shapes.saturating_sub(usize::from(drop_run)),
        }
    }

    /// Fills `slots` and `shapes`, of the lengths above, with the new index, from
    /// `old`, the index the change was planned on.
    pub fn apply(&self, old: Index<'_>, slots: &mut [Slot], shapes: &mut [Shape]) {
        fn fill<T>(to: &mut [T], from: impl Iterator<Item = T>) {
            for (d, s) in to.iter_mut().zip(from) {
                *d = s;
            }
        }
        let at = self.at.min(old.slots.len());
        let run = self.run.min(old.shapes.len());
        // `plan_add` made sure that every position and run end fits in a u32.
        let pos = self.pos as u32;
        match self.kind {
            ChangeKind::Add { new_run } => {
                let (before, after) = old.slots.split_at(at);
                let new = Slot { pos, key: self.key };
                fill(slots, before.iter().chain([&new]).chain(after).copied());
                let (before, after) = old.shapes.split_at(run);
                let started = new_run.then_some(Shape {
                    end: (at as u32).saturating_add(1),
                });
                let moved = after.iter().map(|s| Shape {
                    end: s.end.saturating_add(1),
                });
                fill(shapes, before.iter().copied().chain(started).chain(moved));
            }
            ChangeKind::Remove { drop_run } => {
                let (before, after) = old.slots.split_at(at);
                let later = |&s: &Slot| Slot {
                    pos: if s.pos > pos { s.pos - 1 } else { s.pos },
                    key: s.key,
                };
                fill(slots, before.iter().chain(after.iter().skip(1)).map(later));
                let (before, after) = old.shapes.split_at(run);
                let moved = after.iter().skip(usize::from(drop_run)).map(|s| Shape {
                    end: s.end.saturating_sub(1),
                });
                fill(shapes, before.iter().copied().chain(moved));
            }
        }
    }
}

/// Probes per search below which [`Index::lookup`] walks the list.
pub const WALK_PER_SEARCH: usize = 8;

/// What reading an entry whole (its object, its string, the full matcher)
/// costs a walk beyond its probe, in probes: a list of masked magics (qemu's
/// handlers) is walked only below about three entries per search, as before
/// there were probes.
pub const OPEN_EXTRA: usize = 2;

/// How many shapes a binary's key may be found in before a lookup walks.
pub const MAX_HITS: usize = 8;

/// The candidates of one lookup, newest first; see [`Index::candidates`].
pub struct Candidates<'a>(Source<'a>);

/// Where a lookup's candidates come from.
enum Source<'a> {
    /// The walk, of the positions below `below` that their probe admits (all
    /// of them where `probes` has none). Made small, as exec makes one for
    /// every binary when its list is short.
    Walk {
        below: usize,
        probes: &'a [Probe],
        binary: Candidate<'a>,
        /// The hash of the binary's extension, once a probe asked for it.
        ext: Option<Option<u32>>,
    },
    /// Ranges of slots that hit: at most [`MAX_HITS`] shapes, the extension
    /// run's and the 'B' run; each in position order.
    Hits {
        ranges: [&'a [Slot]; MAX_HITS + 2],
        len: usize,
    },
}

impl<'a> Candidates<'a> {
    fn hits() -> Self {
        Self(Source::Hits {
            ranges: [&[]; MAX_HITS + 2],
            len: 0,
        })
    }

    fn walk(count: usize, probes: &'a [Probe], binary: &Candidate<'a>) -> Self {
        Self(Source::Walk {
            below: count,
            probes,
            binary: *binary,
            ext: None,
        })
    }

    fn push(&mut self, range: &'a [Slot]) {
        if let Source::Hits { ranges, len } = &mut self.0 {
            if let Some(r) = ranges.get_mut(*len) {
                *r = range;
                *len += 1;
            }
        }
    }

    /// Whether this lookup walks the list (every entry its probe admits, or
    /// every entry) instead of searching it; for the host tests, which check
    /// when it does.
    #[cfg_attr(not(test), allow(dead_code))]
    pub fn is_walk(&self) -> bool {
        matches!(self.0, Source::Walk { .. })
    }
}

impl Iterator for Candidates<'_> {
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        let (ranges, len) = match &mut self.0 {
            Source::Walk {
                below,
                probes,
                binary,
                ext,
            } => return walk_next(below, probes, binary, ext),
            Source::Hits { ranges, len } => (ranges, *len),
        };
        // The newest of the ranges' last (newest) positions; every position is
        // in one run only, so the ranges never share one.
        let ranges = ranges.get_mut(..len)?;
        let (newest, pos) = ranges
            .iter()
            .enumerate()
            .filter_map(|(i, r)| r.last().map(|&s| (i, s.pos)))
            .max_by_key(|&(_, p)| p)?;
        if let Some(r) = ranges.get_mut(newest) {
            *r = r.split_last().map_or(&[], |(_, rest)| rest);
        }
        Some(pos as usize)
    }
}

/// The next position of a walk below `below`, which it lowers past it.
fn walk_next(
    below: &mut usize,
    probes: &[Probe],
    binary: &Candidate<'_>,
    ext: &mut Option<Option<u32>>,
) -> Option<usize> {
    // Positions without a probe (every one, if the list's probes were reset)
    // are all asked.
    let Some(mut rest) = probes.get(..*below) else {
        *below = below.checked_sub(1)?;
        return Some(*below);
    };
    // The header's test first, over every probe; the extension's, whose hash
    // is made once, only for a probe the first admits.
    let found = loop {
        let Some(pos) = rest.iter().rposition(|p| p.admits_header(binary.header)) else {
            break None;
        };
        let hashed = || *ext.get_or_insert_with(|| binary.extension().map(|e| hash(e, None)));
        if rest.get(pos).map_or(true, |p| p.admits_extension(hashed)) {
            break Some(pos);
        }
        rest = rest.get(..pos).unwrap_or_default();
    };
    *below = found.unwrap_or(0);
    found
}
