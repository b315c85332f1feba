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
//! so each shape's entries are sorted by masked magic and a lookup binary-searches
//! each shape once with the binary's masked bytes. Extension entries are sorted
//! by extension. A lookup costs one binary search per shape plus one for the
//! extensions; a list with as many shapes as entries is no better than the walk.
//!
//! The index lives in two arrays the caller allocates (so that the kernel can
//! allocate them fallibly): `slots`, every entry's position in the list, and
//! `shapes`, where each shape's run of `slots` ends. See [`Index::build`].

#![forbid(unsafe_code)]

use crate::grammar::Matcher;
use crate::matching::Candidate;
use core::cmp::Ordering;

/// The entries an index is built for, by position (registration order).
pub trait Entries {
    /// How many entries there are.
    fn count(&self) -> usize;
    /// The matcher of the entry at `pos` and the buffer its ranges index.
    fn matcher(&self, pos: usize) -> (Matcher, &[u8]);
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

/// The order of `slots`: magic entries by shape, then masked magic; extension
/// entries by extension; 'B' entries; each group by position.
fn cmp_entries(entries: &(impl Entries + ?Sized), a: usize, b: usize) -> Ordering {
    let (ma, ba) = entries.matcher(a);
    let (mb, bb) = entries.matcher(b);
    let (ma, mb) = (&ma, &mb);
    let by_key = match (ma, mb) {
        (Matcher::Magic { .. }, Matcher::Magic { .. }) => {
            let sa = shape_of(ma, ba);
            let sb = shape_of(mb, bb);
            sa.cmp(&sb).then_with(|| {
                let (xa, mask) = magic_of(ma, ba);
                let (xb, _) = magic_of(mb, bb);
                cmp_masked(xa, xb, mask)
            })
        }
        (Matcher::Extension(ea), Matcher::Extension(eb)) => ba[ea.clone()].cmp(&bb[eb.clone()]),
        _ => class(ma).cmp(&class(mb)),
    };
    by_key.then(a.cmp(&b))
}

/// Too many entries for an index: positions are 32-bit.
#[derive(Debug, PartialEq, Eq)]
pub struct TooMany;

/// An index of an entry list, over the arrays [`Index::build`] filled.
#[derive(Clone, Copy)]
pub struct Index<'a> {
    slots: &'a [u32],
    shapes: &'a [Shape],
}

impl<'a> Index<'a> {
    /// First step of a build: fills `slots` (as long as the list) and returns how
    /// many shapes the caller must allocate for [`Index::build`].
    pub fn sort(entries: &(impl Entries + ?Sized), slots: &mut [u32]) -> Result<usize, TooMany> {
        if slots.len() != entries.count() {
            return Err(TooMany);
        }
        for (i, s) in slots.iter_mut().enumerate() {
            *s = u32::try_from(i).map_err(|_| TooMany)?;
        }
        slots.sort_unstable_by(|&a, &b| cmp_entries(entries, a as usize, b as usize));
        let magic = slots
            .iter()
            .take_while(|&&s| class(&entries.matcher(s as usize).0) == 0)
            .count();
        let distinct = slots[..magic]
            .windows(2)
            .filter(|w| {
                let (ma, ba) = entries.matcher(w[0] as usize);
                let (mb, bb) = entries.matcher(w[1] as usize);
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
        slots: &'a [u32],
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
        let class_at = |i: usize| class(&entries.matcher(slots[i] as usize).0);
        let mut i = 0;
        while i < slots.len() && class_at(i) == 0 {
            let (m, b) = entries.matcher(slots[i] as usize);
            let shape = shape_of(&m, b);
            i += 1;
            while i < slots.len() && class_at(i) == 0 && {
                let (m, b) = entries.matcher(slots[i] as usize);
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
    pub fn new(slots: &'a [u32], shapes: &'a [Shape]) -> Self {
        Self { slots, shapes }
    }

    /// The slots of run `i`; none for arrays [`Index::build`] did not fill,
    /// which a lookup must not panic on (in the kernel, a BUG()).
    fn run(&self, i: usize) -> &'a [u32] {
        let end = |i: usize| self.shapes.get(i).map_or(0, |s| s.end as usize);
        let start = match i {
            0 => 0,
            _ => end(i - 1),
        };
        self.slots.get(start..end(i)).unwrap_or(&[])
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
        candidate: &Candidate<'_>,
    ) -> Candidates<'a> {
        let walk = Candidates {
            ranges: [&[]; MAX_HITS + 2],
            len: 0,
            walk_below: Some(entries.count()),
        };
        let mut hits = Candidates {
            ranges: [&[]; MAX_HITS + 2],
            len: 0,
            walk_below: None,
        };
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
            let (m, buf) = entries.matcher(first as usize);
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
            let key = |p: &u32| {
                let (m, b) = entries.matcher(*p as usize);
                cmp_masked(magic_of(&m, b).0, window, mask)
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
            let key = |p: &u32| match entries.matcher(*p as usize) {
                (Matcher::Extension(e), b) => b[e.clone()].cmp(ext),
                _ => Ordering::Less,
            };
            let lo = run.partition_point(|p| key(p).is_lt());
            let hi = lo + run[lo..].partition_point(|p| key(p).is_eq());
            hits.push(&run[lo..hi]);
        }
        hits.push(self.run(n - 1));
        hits
    }
}

/// How many shapes a binary's key may be found in before a lookup walks.
pub const MAX_HITS: usize = 8;

/// The candidates of one lookup, newest first; see [`Index::candidates`].
pub struct Candidates<'a> {
    /// Ranges of slots that hit: at most [`MAX_HITS`] shapes, the extension
    /// run's and the 'B' run; each in position order.
    ranges: [&'a [u32]; MAX_HITS + 2],
    len: usize,
    /// `Some(below)`: the walk, every position below `below`.
    walk_below: Option<usize>,
}

impl<'a> Candidates<'a> {
    fn push(&mut self, range: &'a [u32]) {
        if let Some(r) = self.ranges.get_mut(self.len) {
            *r = range;
            self.len += 1;
        }
    }

    /// Whether this lookup fell back to every entry (the linear walk); for the
    /// host tests, which check when it does.
    #[cfg_attr(not(test), allow(dead_code))]
    pub fn is_walk(&self) -> bool {
        self.walk_below.is_some()
    }
}

impl Iterator for Candidates<'_> {
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        if let Some(below) = &mut self.walk_below {
            *below = below.checked_sub(1)?;
            return Some(*below);
        }
        // The newest of the ranges' last (newest) positions; every position is
        // in one run only, so the ranges never share one.
        let ranges = self.ranges.get_mut(..self.len)?;
        let (newest, pos) = ranges
            .iter()
            .enumerate()
            .filter_map(|(i, r)| r.last().map(|&p| (i, p)))
            .max_by_key(|&(_, p)| p)?;
        if let Some(r) = ranges.get_mut(newest) {
            *r = r.split_last().map_or(&[], |(_, rest)| rest);
        }
        Some(pos as usize)
    }
}
