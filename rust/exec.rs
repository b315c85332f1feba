// SPDX-License-Identifier: GPL-2.0

//! The binfmt handler: upstream's load_misc_binary().

#![forbid(unsafe_code)]

use crate::entry::Entry;
use crate::grammar::Flags;
use crate::handler::Handler;
use crate::instance::{EntryList, Found, Registry};
use crate::kernel_ext::binfmt::BinaryFormat;
use crate::kernel_ext::bprm::BinPrm;
use crate::kernel_ext::exec_file::ExecFile;
use crate::kernel_ext::use_count::InUse;
use crate::kernel_ext::user_ns::current_user_ns_chain;
use crate::matching::Candidate;
use crate::staging::{InterpArg, Interpreter, Staging};
use kernel::prelude::*;
use kernel::str::CStr;

impl BinaryFormat for Registry {
    fn load_binary(&self, bprm: &mut BinPrm) -> Result {
        let found = self
            .find_handler(current_user_ns_chain(), bprm.header(), || {
                bprm.path().as_bytes()
            })
            .ok_or(ENOEXEC)?;
        let entry = match found {
            Found::Entry(entry) => entry,
            Found::Walk(list) => walk(self, bprm, &list)?,
        };
        match entry.object().handler().cloned() {
            Some(handler) => load_bpf(self, bprm, entry, &handler),
            None => load_static(bprm, &entry),
        }
    }
}

/// What the entries match against: the binary's first bytes and its path.
fn candidate(bprm: &BinPrm) -> Candidate<'_> {
    Candidate {
        header: bprm.header(),
        path: bprm.path().as_bytes(),
    }
}

/// The entry walk when 'B' entries are in the list: newest first, as for the
/// others, and a 'B' entry's `match` returning true commits to it. Entries
/// whose files were released meanwhile (removed) are passed over.
fn walk(registry: &Registry, bprm: &BinPrm, list: &EntryList) -> Result<InUse<Entry>> {
    let binary = candidate(bprm);
    for entry in list.candidates(&binary).filter(|e| e.is_enabled()) {
        let Some(handler) = entry.handler() else {
            if entry.matches(&binary) {
                if let Some(user) = InUse::join(entry) {
                    return Ok(user);
                }
            }
            continue;
        };
        let Some(user) = InUse::join(entry) else {
            continue;
        };
        let ops = handler.ops();
        let (matched, staging) = registry
            .bpf()
            .call(bprm, Staging::new(user), || ops.call_match(bprm))?;
        if matched {
            return Ok(staging.into_entry());
        }
    }
    Err(ENOEXEC)
}

/// `MAX_ERRNO`: the largest errno a program's return may carry.
const MAX_ERRNO: i32 = 4095;

fn load_static(bprm: &mut BinPrm, entry: &InUse<Entry>) -> Result {
    let interp = entry.object().interpreter();
    invoke(bprm, entry.object().flags(), interp, None, || {
        match entry.value().interp() {
            Some(file) => file.reopen(),
            None => ExecFile::open(interp),
        }
    })
}

/// Runs the handler's `load` and then the interpreter it chose. Its errors fail
/// the exec; `ENOEXEC` lets the remaining binary formats try.
fn load_bpf(
    registry: &Registry,
    bprm: &mut BinPrm,
    entry: InUse<Entry>,
    handler: &Handler,
) -> Result {
    let ops = handler.ops();
    let (ret, staging): (i32, Staging) = {
        let shared: &BinPrm = bprm;
        registry
            .bpf()
            .call(shared, Staging::new(entry), || ops.call_load(shared))?
    };
    // As upstream, a positive or out-of-range return is not an errno.
    if ret != 0 {
        return Err(if (-MAX_ERRNO..0).contains(&ret) {
            Error::from_errno(ret)
        } else {
            ENOEXEC
        });
    }
    let arg = match &staging.arg {
        None => None,
        Some(InterpArg::Arg(arg)) => Some(nul_terminated(arg)),
        Some(InterpArg::TooLong) => Some(Err(E2BIG)),
    };
    let flags = staging.flags;
    match staging.interpreter {
        None => Err(ENOEXEC),
        Some(Interpreter::Path(ref path)) => {
            let path = nul_terminated(path)?;
            invoke(bprm, flags, path, arg, || ExecFile::open(path))
        }
        Some(Interpreter::Bound(index)) => {
            let user = staging.entry();
            let bound = user.value().binding(index).ok_or(ENOENT)?;
            invoke(bprm, flags, bound.path(), arg, || bound.file().reopen())
        }
    }
}

fn nul_terminated(bytes: &[u8]) -> Result<&CStr> {
    CStr::from_bytes_with_nul(bytes).map_err(|_| EINVAL)
}

/// Hands the binary to `interpreter`: argv becomes `interpreter [arg] binary
/// args...`, with argv[0] kept under `P`. As upstream 7.3 builds the argv, an
/// inaccessible binary path is refused here, so for a 'B' entry after `load`.
fn invoke(
    bprm: &mut BinPrm,
    flags: Flags,
    interp_path: &CStr,
    arg: Option<Result<&CStr>>,
    open: impl FnOnce() -> Result<ExecFile>,
) -> Result {
    // The interpreter must be able to open the binary after exec.
    if bprm.path_inaccessible() {
        return Err(ENOENT);
    }
    if flags.preserve_argv0 {
        bprm.preserve_argv0();
    } else {
        bprm.remove_arg_zero()?;
    }
    // Arguments are pushed last first: the binary's path, then the interpreter.
    bprm.push_own_path()?;
    if let Some(arg) = arg {
        bprm.push_arg(arg?)?;
    }
    bprm.push_arg(interp_path)?;
    // binfmt_script may look at the interpreter's name.
    bprm.change_interp(interp_path)?;
    bprm.set_interpreter(open()?);
    if flags.open_binary {
        bprm.set_execfd(flags.credentials);
    }
    Ok(())
}
