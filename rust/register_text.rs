// SPDX-License-Identifier: GPL-2.0

//! A register string for a parsed registration: the inverse of
//! [`parse_register`](crate::grammar::parse_register), for round-trip tests and
//! fuzzing on the host, and the checks the fuzzer runs on registrations and on
//! bindings. The kernel never needs it, so only the host crate has it.

#![forbid(unsafe_code)]

use crate::format::{binding_text_len, write_entry, ByteSink, MAX_BINDING_TEXT, MAX_ENTRY_TEXT};
use crate::grammar::{
    parse_binding, parse_register, Matcher, Registration, BINDING_NAME_MAX, BINPRM_BUF_SIZE,
    MAX_REGISTER_LENGTH, MIN_REGISTER_LENGTH, PAD,
};
use crate::matching::{matches, Candidate};
use core::fmt::{self, Write as _};

/// Writes a register string that parses back to `reg` (parsed from `buf`).
///
/// It reuses the original delimiter, which upstream's grammar guarantees absent
/// from the name, the extension, the interpreter and the offset's digits. Magic
/// and mask bytes go out as they are where that is unambiguous, so the string is
/// no longer than the original but for backslashes; see [`write_field_bytes`].
pub fn write_register(out: &mut impl ByteSink, buf: &[u8], reg: &Registration) -> fmt::Result {
    let mut out = Counted { out, len: 0 };
    let out = &mut out;
    let del = buf[0];
    let field = |out: &mut dyn ByteSink, bytes: &[u8]| -> fmt::Result {
        out.write_bytes(&[del])?;
        out.write_bytes(bytes)
    };
    let escaped = |out: &mut dyn ByteSink, bytes: &[u8]| -> fmt::Result {
        out.write_bytes(&[del])?;
        write_field_bytes(out, bytes, del)
    };
    field(out, &buf[reg.name.clone()])?;
    match &reg.matcher {
        Matcher::Extension(ext) => {
            field(out, b"E")?;
            field(out, b"")?;
            field(out, &buf[ext.clone()])?;
            field(out, b"")?;
        }
        Matcher::Magic {
            offset,
            magic,
            mask,
        } => {
            field(out, b"M")?;
            out.write_bytes(&[del])?;
            if *offset != 0 {
                write!(out, "{offset}")?;
            }
            escaped(out, &buf[magic.clone()])?;
            escaped(out, mask.as_ref().map_or(&[][..], |m| &buf[m.clone()]))?;
        }
        Matcher::Bpf => {
            field(out, b"B")?;
            for _ in 0..3 {
                field(out, b"")?;
            }
        }
    }
    field(out, &buf[reg.interpreter.clone()])?;
    out.write_bytes(&[del])?;
    // `C` and `T` imply `O`, so `O` is written only when it stands alone.
    let implied_open_binary = reg.flags.credentials || reg.flags.transparent;
    for letter in reg.flags.letters() {
        if letter != b'O' || !implied_open_binary {
            out.write_bytes(&[letter])?;
        }
    }
    if reg.disabled {
        out.write_bytes(b"D")?;
    }
    // The parser pads the input with the delimiter and then skips one newline: a
    // newline delimiter must be followed by one more, or the skip leaves the input.
    // The shortest `B` string is a byte short of the shortest register string,
    // and the skipped newline makes up for it.
    if del == b'\n' || out.len < MIN_REGISTER_LENGTH {
        out.write_bytes(b"\n")?;
    }
    Ok(())
}

/// A sink that counts what passes through it.
struct Counted<'a, S: ByteSink> {
    out: &'a mut S,
    len: usize,
}

impl<S: ByteSink> fmt::Write for Counted<'_, S> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.write_bytes(s.as_bytes())
    }
}

impl<S: ByteSink> ByteSink for Counted<'_, S> {
    fn write_bytes(&mut self, bytes: &[u8]) -> fmt::Result {
        self.len += bytes.len();
        self.out.write_bytes(bytes)
    }
}

/// Writes decoded magic or mask bytes so that upstream's `scanarg()` and
/// `string_unescape_inplace()` give them back. NUL (which ends the string), the
/// delimiter (which ends the field) and `\` (which may start an escape) become
/// `\xHH`, the only escape `scanarg()` lets through; the rest go out as they are.
/// With `\` as the delimiter no escape can be written, but then the bytes hold
/// none of the three.
pub fn write_field_bytes(out: &mut dyn ByteSink, bytes: &[u8], del: u8) -> fmt::Result {
    for &b in bytes {
        if del != b'\\' && (b == 0 || b == del || b == b'\\') {
            write!(out, "\\x{b:02x}")?;
        } else {
            out.write_bytes(&[b])?;
        }
    }
    Ok(())
}

/// A fixed buffer, so the round-trip check runs without an allocator.
struct Bytes<const N: usize> {
    data: [u8; N],
    len: usize,
}

impl<const N: usize> Bytes<N> {
    fn new() -> Self {
        Self {
            data: [0; N],
            len: 0,
        }
    }

    fn as_slice(&self) -> &[u8] {
        &self.data[..self.len]
    }
}

impl<const N: usize> fmt::Write for Bytes<N> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.write_bytes(s.as_bytes())
    }
}

impl<const N: usize> ByteSink for Bytes<N> {
    fn write_bytes(&mut self, bytes: &[u8]) -> fmt::Result {
        let end = self.len.checked_add(bytes.len()).filter(|&e| e <= N);
        let end = end.ok_or(fmt::Error)?;
        self.data[self.len..end].copy_from_slice(bytes);
        self.len = end;
        Ok(())
    }
}

const BUF: usize = MAX_REGISTER_LENGTH + PAD;

/// Parses `input` as `register` would, into `buf`.
fn parse_into(input: &[u8], pad: u8, buf: &mut [u8; BUF]) -> Option<(usize, Registration)> {
    if input.len() > MAX_REGISTER_LENGTH {
        return None;
    }
    let end = input.len() + PAD;
    buf[..input.len()].copy_from_slice(input);
    buf[input.len()..end].fill(pad);
    parse_register(&mut buf[..end]).ok().map(|reg| (end, reg))
}

/// The checks a fuzzer runs on one input; panics on a violation. Returns whether
/// `register` accepts `input`.
///
/// For an accepted input: the kernel's invariants hold (see `tests.rs`), its entry
/// text fits [`MAX_ENTRY_TEXT`], matching any header works, and [`write_register`]
/// gives a string that parses to the same entry with the same text. The written
/// string may outgrow [`MAX_REGISTER_LENGTH`] only by escaping backslashes.
pub fn check_round_trip(input: &[u8], pad: u8) -> bool {
    let mut buf = [0u8; BUF];
    let Some((end, reg)) = parse_into(input, pad, &mut buf) else {
        return false;
    };
    let buf = &buf[..end];
    let mut text = Bytes::<MAX_ENTRY_TEXT>::new();
    write_entry(&mut text, buf, &reg, true, []).expect("entry text fits a page");

    let mut header = [0u8; BINPRM_BUF_SIZE];
    let n = input.len().min(BINPRM_BUF_SIZE);
    header[..n].copy_from_slice(&input[..n]);
    let path = &buf[reg.interpreter.clone()];
    let _ = matches(
        &reg.matcher,
        buf,
        &Candidate {
            header: &header,
            path,
        },
    );

    let mut again = Bytes::<{ 4 * MAX_REGISTER_LENGTH }>::new();
    write_register(&mut again, buf, &reg).expect("register string fits");
    let again = again.as_slice();
    if again.len() > MAX_REGISTER_LENGTH {
        let backslashes = match &reg.matcher {
            Matcher::Magic { magic, mask, .. } => [Some(magic), mask.as_ref()]
                .into_iter()
                .flatten()
                .map(|r| buf[r.clone()].iter().filter(|&&b| b == b'\\').count())
                .sum(),
            Matcher::Extension(_) | Matcher::Bpf => 0,
        };
        assert!(
            again.len() <= input.len() + 3 * backslashes,
            "register string grew from {} to {} bytes",
            input.len(),
            again.len()
        );
        return true;
    }
    let mut buf2 = [0u8; BUF];
    let (end2, reg2) = parse_into(again, pad, &mut buf2)
        .unwrap_or_else(|| panic!("written string {again:?} parses"));
    let buf2 = &buf2[..end2];
    assert_eq!(buf[reg.name.clone()], buf2[reg2.name.clone()]);
    assert_eq!(buf[reg.interpreter.clone()], buf2[reg2.interpreter.clone()]);
    assert_eq!(reg.flags, reg2.flags);
    assert_eq!(reg.disabled, reg2.disabled);
    match (&reg.matcher, &reg2.matcher) {
        (Matcher::Extension(a), Matcher::Extension(b)) => {
            assert_eq!(buf[a.clone()], buf2[b.clone()])
        }
        (
            Matcher::Magic {
                offset: o1,
                magic: m1,
                mask: k1,
            },
            Matcher::Magic {
                offset: o2,
                magic: m2,
                mask: k2,
            },
        ) => {
            assert_eq!(o1, o2);
            assert_eq!(buf[m1.clone()], buf2[m2.clone()]);
            assert_eq!(
                k1.as_ref().map(|k| &buf[k.clone()]),
                k2.as_ref().map(|k| &buf2[k.clone()])
            );
        }
        (Matcher::Bpf, Matcher::Bpf) => {}
        _ => panic!("matcher kind changed"),
    }
    let mut text2 = Bytes::<MAX_ENTRY_TEXT>::new();
    write_entry(&mut text2, buf2, &reg2, true, []).expect("entry text fits a page");
    assert_eq!(text.as_slice(), text2.as_slice());
    true
}

/// The checks a fuzzer runs on one write to an entry's file; panics on a
/// violation. Returns whether [`parse_binding`] accepts `input`.
///
/// For an accepted input: the binding holds the rules the kernel side relies on,
/// and a `B` entry's text with it bound twice is exactly [`binding_text_len`]
/// per line longer than without, within [`MAX_BINDING_TEXT`] per line.
pub fn check_binding(input: &[u8]) -> bool {
    let Ok(binding) = parse_binding(input) else {
        return false;
    };
    let name = &input[binding.name.clone()];
    let path = &input[binding.path.clone()];
    assert!(!input.contains(&0));
    assert_eq!(binding.name.start, 1);
    assert!((1..=BINDING_NAME_MAX).contains(&name.len()));
    assert!(name.iter().all(u8::is_ascii_graphic));
    assert_eq!(input[binding.name.end], b' ');
    assert_eq!(binding.path.start, binding.name.end + 1);
    assert_eq!(path.first(), Some(&b'/'));
    assert!(input[binding.path.end..] == *b"" || input[binding.path.end..] == *b"\n");
    let line = binding_text_len(name, path);
    assert!(line <= MAX_BINDING_TEXT);

    let mut buf = [0u8; BUF];
    let (end, reg) = parse_into(b":entry:B::::handler:D", 0, &mut buf).expect("a B entry");
    let buf = &buf[..end];
    let mut bare = Bytes::<MAX_ENTRY_TEXT>::new();
    write_entry(&mut bare, buf, &reg, false, []).expect("entry text fits a page");
    let mut bound = Bytes::<{ MAX_ENTRY_TEXT + 2 * MAX_BINDING_TEXT }>::new();
    write_entry(&mut bound, buf, &reg, false, [(name, path), (name, path)])
        .expect("entry text fits its bindings");
    assert_eq!(bound.as_slice().len(), bare.as_slice().len() + 2 * line);
    true
}
