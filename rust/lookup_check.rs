// SPDX-License-Identifier: GPL-2.0

//! The differential check of [`lookup`](crate::lookup) against upstream's walk,
//! for host tests and the fuzzer: entry sets and binaries decoded from bytes,
//! exec modelled as the 'B' entries asked in order and the entry chosen.

#![forbid(unsafe_code)]

use crate::grammar::{Matcher, BINPRM_BUF_SIZE};
use crate::lookup::{
    hash, Change, Entries, Index, Probe, Probes, Shape, Slot, MAX_HITS, OPEN_EXTRA, WALK_PER_SEARCH,
};
use crate::matching::{matches, Candidate};
use alloc::vec;
use alloc::vec::Vec;

/// An entry as exec sees it.
#[derive(Clone)]
pub struct TestEntry {
    pub buf: Vec<u8>,
    pub matcher: Matcher,
    pub enabled: bool,
    /// What a 'B' entry's `match` answers (for a binary whose third byte is
    /// even; the opposite for an odd one).
    pub accepts: bool,
}

impl TestEntry {
    /// A magic entry: `magic` at `offset`, with `mask` if any.
    pub fn magic(offset: usize, magic: &[u8], mask: Option<&[u8]>) -> Self {
        let mut buf = magic.to_vec();
        let mask = mask.map(|k| {
            buf.extend_from_slice(k);
            magic.len()..magic.len() + k.len()
        });
        Self::new(
            buf,
            Matcher::Magic {
                offset,
                magic: 0..magic.len(),
                mask,
            },
        )
    }

    /// An extension entry.
    pub fn extension(ext: &[u8]) -> Self {
        Self::new(ext.to_vec(), Matcher::Extension(0..ext.len()))
    }

    /// A 'B' entry whose `match` answers `accepts`.
    pub fn bpf(accepts: bool) -> Self {
        Self {
            accepts,
            ..Self::new(Vec::new(), Matcher::Bpf)
        }
    }

    fn new(buf: Vec<u8>, matcher: Matcher) -> Self {
        Self {
            buf,
            matcher,
            enabled: true,
            accepts: false,
        }
    }

    pub fn disabled(self) -> Self {
        Self {
            enabled: false,
            ..self
        }
    }
}

impl Entries for [TestEntry] {
    fn count(&self) -> usize {
        self.len()
    }

    fn matcher(&self, pos: usize) -> (Matcher, &[u8]) {
        (self[pos].matcher.clone(), &self[pos].buf)
    }
}

/// What an exec did: the 'B' entries it asked, in order, and the entry it chose.
#[derive(Debug, PartialEq, Eq)]
pub struct Walk {
    pub asked: Vec<usize>,
    pub chosen: Option<usize>,
}

fn step(entries: &[TestEntry], c: &Candidate<'_>, pos: usize, walk: &mut Walk) -> bool {
    let e = &entries[pos];
    if !e.enabled {
        return false;
    }
    if let Matcher::Bpf = e.matcher {
        walk.asked.push(pos);
        if e.accepts != (c.header[2] & 1 == 1) {
            walk.chosen = Some(pos);
            return true;
        }
        return false;
    }
    if matches(&e.matcher, &e.buf, c) {
        walk.chosen = Some(pos);
        return true;
    }
    false
}

/// Upstream's walk: every entry, newest first.
pub fn linear(entries: &[TestEntry], c: &Candidate<'_>) -> Walk {
    let mut walk = Walk {
        asked: Vec::new(),
        chosen: None,
    };
    for pos in (0..entries.len()).rev() {
        if step(entries, c, pos, &mut walk) {
            break;
        }
    }
    walk
}

/// The probes of `entries`, by position, as the kernel keeps them.
pub fn probes(entries: &[TestEntry]) -> Vec<Probe> {
    entries
        .iter()
        .map(|e| Probe::of(&e.matcher, &e.buf))
        .collect()
}

/// An index of `entries`, built as the kernel builds it.
pub fn build(entries: &[TestEntry]) -> (Vec<Slot>, Vec<Shape>) {
    let mut slots = vec![Slot::default(); entries.len()];
    let n = Index::sort(entries, &mut slots).unwrap();
    let mut shapes = vec![Shape::default(); n];
    Index::build(entries, &slots, &mut shapes);
    (slots, shapes)
}

/// The index of `entries` made as registrations make it: each entry added, in
/// order, to the index of those before it.
pub fn build_by_adding(entries: &[TestEntry]) -> (Vec<Slot>, Vec<Shape>) {
    let Some(first) = entries.get(..1) else {
        return build(entries);
    };
    let (mut slots, mut shapes) = build(first);
    for n in 2..=entries.len() {
        let old = Index::new(&slots, &shapes);
        (slots, shapes) = applied(old, old.plan_add(&entries[..n]).unwrap());
    }
    (slots, shapes)
}

/// The index of `entries` without the entry at `pos`, made as a removal makes
/// it, from the index of `entries`.
pub fn build_by_removing(entries: &[TestEntry], pos: usize) -> (Vec<Slot>, Vec<Shape>) {
    let (slots, shapes) = build(entries);
    let old = Index::new(&slots, &shapes);
    applied(old, old.plan_remove(pos).unwrap())
}

/// The arrays of `old` changed by `change`, allocated as the kernel does.
pub fn applied(old: Index<'_>, change: Change) -> (Vec<Slot>, Vec<Shape>) {
    let mut slots = vec![Slot::default(); change.slots_len()];
    let mut shapes = vec![Shape::default(); change.shapes_len()];
    change.apply(old, &mut slots, &mut shapes);
    (slots, shapes)
}

/// Checks that adding entries one by one, and removing the one at each of
/// `removed`, make the index a build makes.
pub fn check_changes(entries: &[TestEntry], removed: impl IntoIterator<Item = usize>) {
    assert_eq!(build_by_adding(entries), build(entries));
    for pos in removed {
        let mut fewer = entries.to_vec();
        fewer.remove(pos);
        if fewer.is_empty() {
            // No list: the kernel publishes none.
            continue;
        }
        assert_eq!(
            build_by_removing(entries, pos),
            build(&fewer),
            "removing {pos}"
        );
    }
}

/// The walk over the index's candidates.
pub fn indexed(entries: &[TestEntry], index: &Index<'_>, c: &Candidate<'_>) -> Walk {
    walk_over(entries, index.candidates(entries, c), c)
}

/// The walk over `positions`.
fn walk_over(
    entries: &[TestEntry],
    positions: impl Iterator<Item = usize>,
    c: &Candidate<'_>,
) -> Walk {
    let mut walk = Walk {
        asked: Vec::new(),
        chosen: None,
    };
    for pos in positions {
        if step(entries, c, pos, &mut walk) {
            break;
        }
    }
    walk
}

/// Checks the index of `entries` against the walk for `c`: the same 'B' entries
/// asked in the same order, the same entry chosen, and, enabled or not, exactly
/// the 'B' entries and the entries that match as candidates, newest first.
pub fn check(entries: &[TestEntry], c: &Candidate<'_>) {
    let (slots, shapes) = build(entries);
    let index = Index::new(&slots, &shapes);
    assert_eq!(
        index.has_bpf(),
        entries.iter().any(|e| matches!(e.matcher, Matcher::Bpf))
    );
    assert_eq!(indexed(entries, &index, c), linear(entries, c));
    let candidates = index.candidates(entries, c);
    let walked = candidates.is_walk();
    let all: Vec<usize> = candidates.collect();
    let matching = |p: &usize| {
        let e = &entries[*p];
        matches!(e.matcher, Matcher::Bpf) || matches(&e.matcher, &e.buf, c)
    };
    // The shapes (offset, length, mask bytes) of the magic entries that match.
    let mut shapes_hit: Vec<(usize, usize, Option<&[u8]>)> = (0..entries.len())
        .filter(matching)
        .filter_map(|p| match &entries[p].matcher {
            Matcher::Magic {
                offset,
                magic,
                mask,
            } => Some((
                *offset,
                magic.len(),
                mask.as_ref().map(|k| &entries[p].buf[k.clone()]),
            )),
            _ => None,
        })
        .collect();
    shapes_hit.sort();
    shapes_hit.dedup();
    // The walk, exactly when the key is in more shapes than a lookup merges.
    assert_eq!(walked, shapes_hit.len() > MAX_HITS);
    let expected: Vec<usize> = if walked {
        (0..entries.len()).rev().collect()
    } else {
        (0..entries.len()).rev().filter(matching).collect()
    };
    assert_eq!(all, expected);
    // What exec asks: the same, from the walk for a list short next to its
    // searches.
    let probes = probes(entries);
    let lookup = index.lookup(entries, Probes::of(&probes), c);
    let open = entries
        .iter()
        .filter(|e| match &e.matcher {
            Matcher::Magic { mask, .. } => mask.is_some(),
            Matcher::Extension(_) => false,
            Matcher::Bpf => true,
        })
        .count();
    let short = entries.len() + OPEN_EXTRA * open < WALK_PER_SEARCH * (shapes.len() - 1);
    assert_eq!(lookup.is_walk(), short || walked);
    // A walk's probes pass over entries, never one that may match, and keep
    // the order: newest first.
    let asked: Vec<usize> = index.lookup(entries, Probes::of(&probes), c).collect();
    assert!(asked.windows(2).all(|w| w[0] > w[1]));
    assert!((0..entries.len())
        .filter(matching)
        .all(|p| asked.contains(&p)));
    // And a short list's walk passes over each unmasked magic whose first
    // bytes (up to four) differ from the binary's, and each extension whose
    // hash differs from the binary's.
    if short {
        let ext = c.extension().map(|e| hash(e, None));
        let ruled_out = |e: &TestEntry| match &e.matcher {
            Matcher::Magic {
                offset,
                magic,
                mask: None,
            } => {
                let n = magic.len().min(4);
                c.header[*offset..*offset + n] != e.buf[magic.start..magic.start + n]
            }
            Matcher::Extension(x) => ext != Some(hash(&e.buf[x.clone()], None)),
            _ => false,
        };
        assert!(asked.iter().all(|&p| !ruled_out(&entries[p])));
    }
    assert_eq!(walk_over(entries, lookup, c), linear(entries, c));
}

/// Bytes read as choices; zeros once they run out.
struct Choices<'a>(&'a [u8]);

impl Choices<'_> {
    fn byte(&mut self) -> u8 {
        match self.0.split_first() {
            Some((&b, rest)) => {
                self.0 = rest;
                b
            }
            None => 0,
        }
    }

    fn below(&mut self, n: usize) -> usize {
        usize::from(self.byte()) % n
    }

    fn pick<T: Copy>(&mut self, from: &[T]) -> T {
        from[self.below(from.len())]
    }
}

/// Few values, so that keys collide and binaries match.
const BYTES: [u8; 4] = [0x00, 0x01, 0x7f, 0xff];
const MASKS: [u8; 4] = [0xff, 0x0f, 0xf0, 0x00];
/// Offsets up to the header's end: a magic there ends in its last bytes, where
/// a probe cannot load four.
const OFFSETS: [usize; 9] = [0, 1, 2, 3, 16, 250, 253, 254, 255];

/// An entry set decoded from `choices`.
fn entries(ch: &mut Choices<'_>) -> Vec<TestEntry> {
    let n = ch.below(48);
    let mut out = Vec::new();
    for _ in 0..n {
        let kind = ch.below(8);
        let e = match kind {
            0..=4 => {
                let offset = ch.pick(&OFFSETS);
                let len = (1 + ch.below(6)).min(BINPRM_BUF_SIZE - offset);
                let magic: Vec<u8> = (0..len).map(|_| ch.pick(&BYTES)).collect();
                let mask: Option<Vec<u8>> =
                    (kind >= 3).then(|| (0..len).map(|_| ch.pick(&MASKS)).collect());
                TestEntry::magic(offset, &magic, mask.as_deref())
            }
            5 | 6 => {
                let len = ch.below(3);
                let ext: Vec<u8> = (0..len).map(|_| ch.pick(b"ab")).collect();
                TestEntry::extension(&ext)
            }
            _ => TestEntry::bpf(ch.byte() & 1 == 1),
        };
        out.push(if ch.below(5) == 0 { e.disabled() } else { e });
    }
    out
}

/// A binary for `entries`, often aimed at one of them.
fn binary(ch: &mut Choices<'_>, entries: &[TestEntry]) -> ([u8; BINPRM_BUF_SIZE], Vec<u8>) {
    let mut header = [0u8; BINPRM_BUF_SIZE];
    for _ in 0..ch.below(4) {
        let Some(e) = entries.get(ch.below(entries.len().max(1))) else {
            break;
        };
        if let Matcher::Magic { offset, magic, .. } = &e.matcher {
            header[*offset..*offset + magic.len()].copy_from_slice(&e.buf[magic.clone()]);
        }
    }
    // Changes that masks may or may not hide.
    for _ in 0..ch.below(6) {
        let at = ch.pick(&OFFSETS) + ch.below(4);
        if let Some(b) = header.get_mut(at) {
            *b ^= ch.pick(&MASKS);
        }
    }
    let mut path = b"/bin/x".to_vec();
    match ch.below(6) {
        0 => {}
        1 => path.extend_from_slice(b".a"),
        2 => path.extend_from_slice(b".ab"),
        3 => path.extend_from_slice(b"."),
        4 => path.extend_from_slice(b".a/b"),
        _ => {
            let e = entries.get(ch.below(entries.len().max(1)));
            if let Some(TestEntry {
                matcher: Matcher::Extension(ext),
                buf,
                ..
            }) = e
            {
                path.push(b'.');
                path.extend_from_slice(&buf[ext.clone()]);
            }
        }
    }
    (header, path)
}

/// Decodes an entry set and binaries from `data` and checks each; panics on a
/// difference.
pub fn check_bytes(data: &[u8]) {
    let mut ch = Choices(data);
    let entries = entries(&mut ch);
    let removed: Vec<usize> = match entries.len() {
        0 => Vec::new(),
        n => (0..3).map(|_| ch.below(n)).collect(),
    };
    check_changes(&entries, removed);
    for _ in 0..1 + ch.below(8) {
        let (header, path) = binary(&mut ch, &entries);
        let c = Candidate {
            header: &header,
            path: &path,
        };
        check(&entries, &c);
    }
}
