// SPDX-License-Identifier: GPL-2.0

//! The text of `status` and of an entry's file, byte for byte as upstream's
//! `bm_status_read()` and `entry_status()` write them.

#![forbid(unsafe_code)]

use crate::grammar::{Matcher, Registration, MAX_ENTRY_WRITE};
use core::fmt::{self, Write};

/// What `status` reads.
pub fn status_text(enabled: bool) -> &'static str {
    if enabled {
        "enabled\n"
    } else {
        "disabled\n"
    }
}

/// Upper bound of [`write_entry`]'s output for any registration [`parse_register`]
/// accepts, less the binding lines of a `B` entry: the text is shorter than the
/// register string plus the hex of at most two [`BINPRM_BUF_SIZE`]-byte fields plus
/// fixed words, so a page always holds it.
///
/// A `B` entry adds one line per bound interpreter, [`binding_text_len`] bytes,
/// at most [`MAX_BINDING_TEXT`]; [`MAX_BINDINGS`] of them take some 400 KiB. The
/// kernel side writes the text into a seq_file, which grows as it needs, so
/// only the host tests use these bounds.
///
/// [`parse_register`]: crate::grammar::parse_register
/// [`BINPRM_BUF_SIZE`]: crate::grammar::BINPRM_BUF_SIZE
/// [`MAX_BINDINGS`]: crate::grammar::MAX_BINDINGS
#[allow(dead_code)] // The host tests check the bound with it.
pub const MAX_ENTRY_TEXT: usize = 4096;

const BINDING_PREFIX: &str = "bpf-interpreter ";

/// Length of the entry text's line for the interpreter bound as `name` at `path`.
#[allow(dead_code)] // The host tests check the bound with it.
pub fn binding_text_len(name: &[u8], path: &[u8]) -> usize {
    BINDING_PREFIX.len() + name.len() + 1 + path.len() + 1
}

/// Longest [`binding_text_len`] of a [`parse_binding`] result: name and path
/// share the input but for the `+` and the space.
///
/// [`parse_binding`]: crate::grammar::parse_binding
#[allow(dead_code)] // The host tests check the bound with it.
pub const MAX_BINDING_TEXT: usize = BINDING_PREFIX.len() + (MAX_ENTRY_WRITE - 2) + 2;

/// A text buffer that also takes raw bytes: paths and extensions are bytes, not
/// UTF-8, and C's `%s` copies them unchanged.
pub trait ByteSink: Write {
    /// Appends `bytes` as they are.
    fn write_bytes(&mut self, bytes: &[u8]) -> fmt::Result;
}

fn write_hex(out: &mut impl Write, bytes: &[u8]) -> fmt::Result {
    bytes.iter().try_for_each(|b| write!(out, "{b:02x}"))
}

/// Writes an entry's text: `buf` is the buffer the registration was parsed from,
/// `bindings` the `(name, path)` of each interpreter bound to a `B` entry, in the
/// order they were bound. Other entries bind nothing and print no bindings.
pub fn write_entry<'a>(
    out: &mut impl ByteSink,
    buf: &[u8],
    reg: &Registration,
    enabled: bool,
    bindings: impl IntoIterator<Item = (&'a [u8], &'a [u8])>,
) -> fmt::Result {
    out.write_str(if enabled { "enabled\n" } else { "disabled\n" })?;
    let is_bpf = reg.matcher == Matcher::Bpf;
    out.write_str(if is_bpf { "bpf " } else { "interpreter " })?;
    out.write_bytes(&buf[reg.interpreter.clone()])?;
    out.write_char('\n')?;
    if is_bpf {
        for (name, path) in bindings {
            out.write_str(BINDING_PREFIX)?;
            out.write_bytes(name)?;
            out.write_char(' ')?;
            out.write_bytes(path)?;
            out.write_char('\n')?;
        }
    }
    // A `B` entry has no flag letters, but upstream prints the line all the same.
    out.write_str("flags: ")?;
    for letter in reg.flags.letters() {
        out.write_char(char::from(letter))?;
    }
    out.write_char('\n')?;
    match &reg.matcher {
        Matcher::Extension(ext) => {
            out.write_str("extension .")?;
            out.write_bytes(&buf[ext.clone()])?;
        }
        Matcher::Magic {
            offset,
            magic,
            mask,
        } => {
            write!(out, "offset {offset}\nmagic ")?;
            write_hex(out, &buf[magic.clone()])?;
            if let Some(mask) = mask {
                out.write_str("\nmask ")?;
                write_hex(out, &buf[mask.clone()])?;
            }
        }
        // The handler's program does the matching: nothing to show.
        Matcher::Bpf => return Ok(()),
    }
    out.write_char('\n')
}
