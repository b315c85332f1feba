// SPDX-License-Identifier: GPL-2.0

//! The argument rules of the 'B' handlers' kfuncs and struct_ops, as upstream
//! Linux 7.3 checks them. Pure logic, shared with the host crate.

#![forbid(unsafe_code)]

use crate::grammar::Flags;

/// `PATH_MAX`, with the NUL.
pub const PATH_MAX: usize = 4096;

/// `MAX_ARG_STRLEN` of x86-64 (32 pages): exec refuses a longer argument, with
/// the NUL, with `E2BIG`.
pub const MAX_ARG_STRLEN: usize = 32 * 4096;

/// A kfunc argument that is not a valid string for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Invalid;

/// The string of a kfunc's memory argument: it must hold a NUL, and the string
/// before it must not be empty.
pub fn c_string(mem: &[u8]) -> Result<&[u8], Invalid> {
    let len = mem.iter().position(|&b| b == 0).ok_or(Invalid)?;
    if len == 0 {
        return Err(Invalid);
    }
    Ok(&mem[..len])
}

/// Why `bpf_binprm_set_interp()` refused a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathError {
    /// Empty, unterminated or relative: `EINVAL`.
    Invalid,
    /// `PATH_MAX` or longer: `ENAMETOOLONG`.
    TooLong,
}

/// The interpreter path a `load` program sets: absolute, shorter than `PATH_MAX`.
/// The length is checked before the rest, as upstream does.
pub fn interp_path(mem: &[u8]) -> Result<&[u8], PathError> {
    let path = c_string(mem).map_err(|_| PathError::Invalid)?;
    if path.len() >= PATH_MAX {
        return Err(PathError::TooLong);
    }
    if path[0] != b'/' {
        return Err(PathError::Invalid);
    }
    Ok(path)
}

/// A struct_ops handler's name, as the bpf core names objects (its
/// `bpf_obj_name_cpy()`, which 6.12 does not export): 1 to 15 letters, digits,
/// `_` or `.`, NUL-terminated within `raw`.
pub fn object_name(raw: &[u8]) -> Result<&[u8], Invalid> {
    let name = c_string(raw)?;
    if name.len() >= raw.len()
        || !name
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.')
    {
        return Err(Invalid);
    }
    Ok(name)
}

/// `enum bpf_binprm_flags`.
pub const PRESERVE_ARGV0: u64 = 1 << 0;
/// See [`PRESERVE_ARGV0`].
pub const CREDENTIALS: u64 = 1 << 1;
/// See [`PRESERVE_ARGV0`].
pub const EXECFD: u64 = 1 << 2;
/// See [`PRESERVE_ARGV0`].
pub const TRANSPARENT: u64 = 1 << 3;
/// See [`PRESERVE_ARGV0`].
pub const LOADER: u64 = 1 << 4;

/// Why `bpf_binprm_set_flags()` refused flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlagsError {
    /// Unknown bits or a combination upstream refuses: `EINVAL`. Transparent
    /// and loader mode are refused so too: they need exec-core changes a module
    /// cannot make on 6.12, and `EINVAL` is what an upstream kernel built
    /// without them answers, which is what tools probe for.
    Invalid,
}

/// The invocation flags a `load` program asks for, as the static flags they
/// stand for (credentials imply passing the binary as an fd, as `C` does).
pub fn invocation_flags(bits: u64) -> Result<Flags, FlagsError> {
    if bits & (TRANSPARENT | LOADER) != 0 || bits & !(PRESERVE_ARGV0 | CREDENTIALS | EXECFD) != 0 {
        return Err(FlagsError::Invalid);
    }
    Ok(Flags {
        preserve_argv0: bits & PRESERVE_ARGV0 != 0,
        open_binary: bits & (EXECFD | CREDENTIALS) != 0,
        credentials: bits & CREDENTIALS != 0,
        ..Flags::default()
    })
}
