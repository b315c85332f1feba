// SPDX-License-Identifier: GPL-2.0

//! The text of `status` and of an entry's file, byte for byte as upstream's
//! `bm_status_read()` and `entry_status()` write them.

use crate::grammar::{Matcher, Registration};
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
/// accepts: the text is shorter than the register string plus the hex of at most two
/// [`BINPRM_BUF_SIZE`]-byte fields plus fixed words, so a page always holds it.
///
/// [`parse_register`]: crate::grammar::parse_register
/// [`BINPRM_BUF_SIZE`]: crate::grammar::BINPRM_BUF_SIZE
pub const MAX_ENTRY_TEXT: usize = 4096;

/// A text buffer that also takes raw bytes: paths and extensions are bytes, not
/// UTF-8, and C's `%s` copies them unchanged.
pub trait ByteSink: Write {
    /// Appends `bytes` as they are.
    fn write_bytes(&mut self, bytes: &[u8]) -> fmt::Result;
}

fn write_hex(out: &mut impl Write, bytes: &[u8]) -> fmt::Result {
    bytes.iter().try_for_each(|b| write!(out, "{b:02x}"))
}

/// Writes an entry's text: `buf` is the buffer the registration was parsed from.
pub fn write_entry(
    out: &mut impl ByteSink,
    buf: &[u8],
    reg: &Registration,
    enabled: bool,
) -> fmt::Result {
    out.write_str(if enabled { "enabled" } else { "disabled" })?;
    out.write_str("\ninterpreter ")?;
    out.write_bytes(&buf[reg.interpreter.clone()])?;
    out.write_str("\nflags: ")?;
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
    }
    out.write_char('\n')
}
