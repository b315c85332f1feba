// SPDX-License-Identifier: GPL-2.0

//! Whether an entry recognises a binary, as upstream's `search_binfmt_handler()`.

#![forbid(unsafe_code)]

use crate::grammar::{Matcher, BINPRM_BUF_SIZE};

/// What exec knows of a binary when the handlers are asked.
#[derive(Clone, Copy)]
pub struct Candidate<'a> {
    /// The binary's first bytes (`bprm->buf`; zero past the end of a short file).
    pub header: &'a [u8; BINPRM_BUF_SIZE],
    /// The path exec was given (`bprm->interp`), without its NUL.
    pub path: &'a [u8],
}

impl Candidate<'_> {
    /// The extension upstream compares: everything after the last `.` of the whole
    /// path, so `/a.b/c` has the extension `b/c`, which no entry can have.
    pub fn extension(&self) -> Option<&[u8]> {
        let dot = self.path.iter().rposition(|&b| b == b'.')?;
        Some(&self.path[dot + 1..])
    }
}

/// Whether `matcher`, parsed from `buf`, recognises `candidate`.
pub fn matches(matcher: &Matcher, buf: &[u8], candidate: &Candidate<'_>) -> bool {
    match matcher {
        Matcher::Extension(ext) => candidate.extension() == Some(&buf[ext.clone()]),
        Matcher::Magic {
            offset,
            magic,
            mask,
        } => {
            let window = &candidate.header[*offset..*offset + magic.len()];
            let magic = &buf[magic.clone()];
            match mask {
                None => window == magic,
                Some(mask) => window
                    .iter()
                    .zip(magic)
                    .zip(&buf[mask.clone()])
                    .all(|((h, m), k)| (h ^ m) & k == 0),
            }
        }
        Matcher::Bpf => false,
    }
}
