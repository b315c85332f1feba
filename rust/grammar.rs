// SPDX-License-Identifier: GPL-2.0

//! The `register`, command and binding grammars of binfmt_misc, as upstream
//! parses them.
//!
//! Pure logic: no kernel types, so the host crate tests and fuzzes it. The parser
//! works in place on a caller-owned buffer, like upstream's `create_entry()`: the
//! caller copies the user's bytes into a buffer with [`PAD`] spare bytes at the end,
//! and the parsed [`Registration`] refers to the buffer by ranges, so the kernel side
//! keeps one allocation per entry and never allocates while parsing.
//!
//! Every rule here, including the odd ones, is upstream's; the comments say where
//! upstream's C gives the rule its shape.

#![forbid(unsafe_code)]

use core::ops::Range;

/// Shortest register string upstream accepts.
pub const MIN_REGISTER_LENGTH: usize = 11;
/// Longest register string upstream accepts (`MAX_REGISTER_LENGTH` in binfmt_misc.c).
pub const MAX_REGISTER_LENGTH: usize = 1920;
/// Bytes the caller must leave after the user's input; filled with the delimiter.
pub const PAD: usize = 8;
/// `BINPRM_BUF_SIZE`: how much of the binary exec reads for magic matching.
pub const BINPRM_BUF_SIZE: usize = 256;

/// Rejected input: upstream answers every grammar error with `EINVAL`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Invalid;

/// The special flags of an entry (the last field of the register string).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Flags {
    /// `P`: keep the original argv\[0\].
    pub preserve_argv0: bool,
    /// `O` (and implied by `C`): pass the binary to the interpreter as an fd.
    pub open_binary: bool,
    /// `C`: compute credentials from the binary, not the interpreter.
    pub credentials: bool,
    /// `F`: open the interpreter at registration time.
    pub open_file: bool,
    /// `T` (implies `O`): run the interpreter in place of the binary, with the
    /// caller's argv untouched.
    pub transparent: bool,
    /// `L`: run the binary natively, with the interpreter as its program loader.
    pub loader: bool,
}

impl Flags {
    /// The letters of the set flags, in the order upstream prints them (its flag
    /// table's order). `D` is not among them: it is no property of the entry.
    pub fn letters(self) -> impl Iterator<Item = u8> {
        [
            (self.preserve_argv0, b'P'),
            (self.open_binary, b'O'),
            (self.credentials, b'C'),
            (self.open_file, b'F'),
            (self.transparent, b'T'),
            (self.loader, b'L'),
        ]
        .into_iter()
        .filter_map(|(set, letter)| set.then_some(letter))
    }
}

/// How an entry recognises binaries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Matcher {
    /// File name extension, without the dot.
    Extension(Range<usize>),
    /// Bytes at `offset` of the binary's first [`BINPRM_BUF_SIZE`] bytes.
    Magic {
        /// Offset into the binary; `offset + magic.len() <= BINPRM_BUF_SIZE`.
        offset: usize,
        /// The decoded magic.
        magic: Range<usize>,
        /// The decoded mask, as long as the magic; `None` matches exactly.
        mask: Option<Range<usize>>,
    },
    /// `B`: a BPF handler's `match` program decides. The handler's name is the
    /// registration's [`interpreter`](Registration::interpreter) field.
    Bpf,
}

/// A parsed register string. Ranges index the buffer given to [`parse_register`];
/// `name` and `interpreter` are each followed by a NUL byte in that buffer, so the
/// kernel side can hand them to C as strings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    /// The entry's file name in the filesystem.
    pub name: Range<usize>,
    /// How binaries are recognised.
    pub matcher: Matcher,
    /// Path of the interpreter; for [`Matcher::Bpf`], the name of the handler.
    pub interpreter: Range<usize>,
    /// Special flags.
    pub flags: Flags,
    /// `D`: the entry is created disabled, so that interpreters can be bound to a
    /// `B` entry before its first exec (see [`parse_binding`]).
    pub disabled: bool,
}

/// Accessor that reproduces the C parser's view of the buffer: the input, then
/// [`PAD`] delimiter bytes, then nothing. Reads past the pad (which upstream's C
/// never makes on valid paths) return NUL, which every scan below treats as an end.
struct Cursor<'a> {
    buf: &'a mut [u8],
}

impl Cursor<'_> {
    fn at(&self, i: usize) -> u8 {
        self.buf.get(i).copied().unwrap_or(0)
    }

    fn terminate(&mut self, i: usize) {
        if let Some(b) = self.buf.get_mut(i) {
            *b = 0;
        }
    }

    /// `strchr()`: index of the first `c` at or after `from`, unless a NUL comes first.
    fn strchr(&self, from: usize, c: u8) -> Option<usize> {
        let mut i = from;
        loop {
            let b = self.at(i);
            if b == c {
                return (i < self.buf.len()).then_some(i);
            }
            if b == 0 {
                return None;
            }
            i += 1;
        }
    }

    /// Length of the NUL-terminated string at `from`.
    fn strlen(&self, from: usize) -> usize {
        let mut i = from;
        while self.at(i) != 0 {
            i += 1;
        }
        i - from
    }

    /// Upstream's `scanarg()`: finds the delimiter that ends a magic or mask field,
    /// stepping over `\xHH` escapes (so an escaped byte may equal the delimiter),
    /// terminates the field there and returns the index after it.
    fn scanarg(&mut self, from: usize, del: u8) -> Option<usize> {
        let mut i = from;
        loop {
            if i >= self.buf.len() {
                return None;
            }
            let c = self.at(i);
            i += 1;
            if c == del {
                break;
            }
            if c == b'\\' && self.at(i) == b'x' {
                i += 1;
                for _ in 0..2 {
                    if !self.at(i).is_ascii_hexdigit() {
                        return None;
                    }
                    i += 1;
                }
            }
        }
        self.terminate(i - 1);
        Some(i)
    }

    /// `string_unescape_inplace(s, UNESCAPE_HEX)`: decodes `\xH` and `\xHH` in the
    /// NUL-terminated string at `from` and returns the decoded length. A backslash
    /// that starts no hex escape is copied together with the byte after it, so in
    /// `\\x41` the second backslash starts nothing and all five bytes stay.
    fn unescape_hex(&mut self, from: usize) -> usize {
        let (mut src, mut out) = (from, from);
        while self.at(src) != 0 {
            if self.at(src) == b'\\' && self.at(src + 1) != 0 {
                src += 1;
                if self.at(src) == b'x' {
                    if let Some(hi) = hex_value(self.at(src + 1)) {
                        let mut value = hi;
                        src += 2;
                        if let Some(lo) = hex_value(self.at(src)) {
                            value = (value << 4) | lo;
                            src += 1;
                        }
                        self.buf[out] = value;
                        out += 1;
                        continue;
                    }
                }
                self.buf[out] = b'\\';
                out += 1;
            }
            self.buf[out] = self.buf[src];
            out += 1;
            src += 1;
        }
        self.terminate(out);
        out - from
    }
}

fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// `kstrtoint(s, 10, &v)` followed by upstream's `v < 0` check: a `-` or a `+`
/// (only kstrtoull() skips a `+`, so not both), decimal digits, an optional trailing
/// newline; the value must be a non-negative `int`.
fn parse_offset(s: &[u8]) -> Result<usize, Invalid> {
    let (negative, s) = match s.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, s),
    };
    let s = s.strip_suffix(b"\n").unwrap_or(s);
    if s.is_empty() || !s.iter().all(u8::is_ascii_digit) {
        return Err(Invalid);
    }
    let mut value: u64 = 0;
    for &d in s {
        value = value
            .checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(d - b'0')))
            .ok_or(Invalid)?;
    }
    match (negative, value) {
        (_, 0) => Ok(0),
        (true, _) => Err(Invalid),
        (false, v) if v <= i32::MAX as u64 => Ok(v as usize),
        _ => Err(Invalid),
    }
}

/// Parses a register string `:name:type:offset:magic:mask:interpreter:flags`, where
/// the first byte chooses the delimiter. A `B` entry leaves offset, magic and mask
/// empty and names its handler in the interpreter field.
///
/// `buf` holds the user's `count` bytes followed by [`PAD`] bytes of any value; the
/// parser overwrites delimiters with NULs and decodes magic and mask in place.
pub fn parse_register(buf: &mut [u8]) -> Result<Registration, Invalid> {
    if buf.len() < PAD {
        return Err(Invalid);
    }
    let count = buf.len() - PAD;
    if !(MIN_REGISTER_LENGTH..=MAX_REGISTER_LENGTH).contains(&count) {
        return Err(Invalid);
    }
    let del = buf[0];
    // A flag letter as delimiter would let the flag scan run into the padding.
    if is_flag_letter(del) {
        return Err(Invalid);
    }
    buf[count..].fill(del);
    let mut c = Cursor { buf };

    // Name.
    let name_start = 1;
    let end = c.strchr(name_start, del).ok_or(Invalid)?;
    c.terminate(end);
    let name = name_start..end;
    let name_bytes = &c.buf[name.clone()];
    if name_bytes.is_empty()
        || name_bytes == b"."
        || name_bytes == b".."
        || name_bytes.contains(&b'/')
    {
        return Err(Invalid);
    }
    let mut p = end + 1;

    // Type.
    let entry_type = c.at(p);
    if !matches!(entry_type, b'E' | b'M' | b'B') {
        return Err(Invalid);
    }
    p += 1;
    if c.at(p) != del {
        return Err(Invalid);
    }
    p += 1;

    let matcher = if entry_type == b'B' {
        // Offset, magic and mask must be empty: three delimiters in a row.
        // Nothing is terminated here, as in upstream's parse_bpf_fields().
        for _ in 0..3 {
            if c.at(p) != del {
                return Err(Invalid);
            }
            p += 1;
        }
        Matcher::Bpf
    } else if entry_type == b'M' {
        // Offset.
        let end = c.strchr(p, del).ok_or(Invalid)?;
        c.terminate(end);
        let offset = if p == end {
            0
        } else {
            parse_offset(&c.buf[p..end])?
        };
        p = end + 1;

        // Magic: scanarg() does not stop at NUL, the unescape does.
        let magic_start = p;
        p = c.scanarg(p, del).ok_or(Invalid)?;
        if c.at(magic_start) == 0 {
            return Err(Invalid);
        }

        // Mask.
        let mask_start = p;
        p = c.scanarg(p, del).ok_or(Invalid)?;
        let has_mask = c.at(mask_start) != 0;

        let size = c.unescape_hex(magic_start);
        if has_mask && c.unescape_hex(mask_start) != size {
            return Err(Invalid);
        }
        if size > BINPRM_BUF_SIZE || BINPRM_BUF_SIZE - size < offset {
            return Err(Invalid);
        }
        Matcher::Magic {
            offset,
            magic: magic_start..magic_start + size,
            mask: has_mask.then_some(mask_start..mask_start + size),
        }
    } else {
        // The offset field is skipped whatever it holds.
        let end = c.strchr(p, del).ok_or(Invalid)?;
        c.terminate(end);
        p = end + 1;

        // Extension.
        let ext_start = p;
        let end = c.strchr(p, del).ok_or(Invalid)?;
        c.terminate(end);
        let ext = ext_start..end;
        if ext.is_empty() || c.buf[ext.clone()].contains(&b'/') {
            return Err(Invalid);
        }
        p = end + 1;

        // The mask field is skipped too.
        let end = c.strchr(p, del).ok_or(Invalid)?;
        c.terminate(end);
        p = end + 1;
        Matcher::Extension(ext)
    };

    // Interpreter. Earlier terminations may have cut it short with a NUL, as in C.
    let interp_start = p;
    let end = c.strchr(p, del).ok_or(Invalid)?;
    c.terminate(end);
    let interpreter = interp_start..interp_start + c.strlen(interp_start);
    if interpreter.is_empty() {
        return Err(Invalid);
    }
    p = end + 1;

    // Flags, any number of each, then an optional newline, then the end of input.
    let mut flags = Flags::default();
    let mut disabled = false;
    loop {
        match c.at(p) {
            b'P' => flags.preserve_argv0 = true,
            b'O' => flags.open_binary = true,
            b'C' => {
                flags.credentials = true;
                flags.open_binary = true;
            }
            b'F' => flags.open_file = true,
            b'T' => {
                flags.transparent = true;
                flags.open_binary = true;
            }
            b'L' => flags.loader = true,
            b'D' => disabled = true,
            _ => break,
        }
        p += 1;
    }
    // Upstream checks the flag bits, implied ones included, before it looks
    // for the end of input.
    //
    // A handler's `load` program picks the invocation flags per exec, and `F`
    // (open a fixed interpreter now) means nothing for it: `D`, which is about
    // registering, is all a `B` entry may have.
    if entry_type == b'B' && flags != Flags::default() {
        return Err(Invalid);
    }
    // `T` keeps the whole argv, argv[0] included, so `P` contradicts it.
    if flags.transparent && flags.preserve_argv0 {
        return Err(Invalid);
    }
    // `L` runs the binary natively: no argv to splice, no binary fd to pass,
    // no credentials to lend.
    if flags.loader
        && (flags.transparent || flags.preserve_argv0 || flags.credentials || flags.open_binary)
    {
        return Err(Invalid);
    }
    if c.at(p) == b'\n' {
        p += 1;
    }
    if p != count {
        return Err(Invalid);
    }
    // Newer upstream: with `C` a set-id binary lends its credentials to the
    // interpreter, and with `L` the interpreter loads the binary; without `F`
    // it is opened at exec time, relative to the exec'ing task's working
    // directory, a directory that task may control.
    if (flags.loader || flags.credentials) && !flags.open_file && c.at(interpreter.start) != b'/' {
        return Err(Invalid);
    }

    Ok(Registration {
        name,
        matcher,
        interpreter,
        flags,
        disabled,
    })
}

/// Whether `c` is a letter of the flag field (upstream's `misc_flag_by_char()`).
fn is_flag_letter(c: u8) -> bool {
    matches!(c, b'P' | b'O' | b'C' | b'F' | b'T' | b'L' | b'D')
}

/// A command written to `status` or to an entry's file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// An empty write: accepted, does nothing.
    Nothing,
    /// `0`: disable.
    Disable,
    /// `1`: enable.
    Enable,
    /// `-1`: remove the entry, or all entries.
    Remove,
}

/// Longest command write upstream accepts; longer ones fail before any copy.
pub const MAX_COMMAND_LENGTH: usize = 3;

/// Parses a command, as upstream's `parse_command()`: `0`, `1` or `-1`, each with an
/// optional trailing newline.
pub fn parse_command(input: &[u8]) -> Result<Command, Invalid> {
    if input.len() > MAX_COMMAND_LENGTH {
        return Err(Invalid);
    }
    let Some(last) = input.last() else {
        return Ok(Command::Nothing);
    };
    let s = if *last == b'\n' {
        &input[..input.len() - 1]
    } else {
        input
    };
    match s {
        b"0" => Ok(Command::Disable),
        b"1" => Ok(Command::Enable),
        b"-1" => Ok(Command::Remove),
        _ => Err(Invalid),
    }
}

/// Longest interpreter name a binding may give.
pub const BINDING_NAME_MAX: usize = 32;
/// Most interpreters one `B` entry may bind; more fail with `ENOSPC`.
pub const MAX_BINDINGS: usize = 100;
/// `PATH_MAX`, the terminating NUL included.
const PATH_MAX: usize = 4096;
/// Longest write to an entry's file: `+`, a longest name, a space, a path of
/// `PATH_MAX` bytes and a newline (one byte to spare). Longer writes fail with
/// `E2BIG` before anything is copied.
pub const MAX_ENTRY_WRITE: usize = BINDING_NAME_MAX + PATH_MAX + 3;

/// A `+<name> <path>` write to a `B` entry's file, which binds the interpreter at
/// `path` under `name`. Ranges index the written bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    /// The name the handler's `load` program selects the interpreter by.
    pub name: Range<usize>,
    /// Absolute path of the interpreter, without the trailing newline.
    pub path: Range<usize>,
}

/// Parses a binding command: `input` is exactly what was written to the entry's
/// file, starting with `+`.
///
/// The name runs up to the first space and must be 1 to [`BINDING_NAME_MAX`]
/// printable, non-space ASCII bytes; the path is all the rest, spaces included,
/// less one trailing newline, and must be absolute. No NUL may appear anywhere:
/// both strings go to C. Whether the entry takes bindings at all, duplicate names
/// and [`MAX_BINDINGS`] are the caller's to check.
///
/// Inputs over [`MAX_ENTRY_WRITE`] bytes, which the caller refuses with `E2BIG`
/// first, are invalid here too, so every binding is within that bound.
pub fn parse_binding(input: &[u8]) -> Result<Binding, Invalid> {
    if input.len() > MAX_ENTRY_WRITE || input.first() != Some(&b'+') || input.contains(&0) {
        return Err(Invalid);
    }
    let space = input.iter().position(|&b| b == b' ').ok_or(Invalid)?;
    let name = 1..space;
    let mut path = space + 1..input.len();
    if input[path.clone()].last() == Some(&b'\n') {
        path.end -= 1;
    }
    if input[path.clone()].first() != Some(&b'/') {
        return Err(Invalid);
    }
    let name_bytes = &input[name.clone()];
    if name_bytes.is_empty()
        || name_bytes.len() > BINDING_NAME_MAX
        || !name_bytes.iter().all(u8::is_ascii_graphic)
    {
        return Err(Invalid);
    }
    Ok(Binding { name, path })
}
