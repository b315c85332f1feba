// SPDX-License-Identifier: GPL-2.0

//! The binfmt handler: upstream's load_misc_binary().

use crate::vfs::{current_user_ns_chain, registry, BinPrm, ExecFile};
use kernel::prelude::*;

pub(crate) fn load_binary(bprm: &mut BinPrm) -> Result {
    let entry = registry()
        .find_handler(current_user_ns_chain(), &bprm.candidate())
        .ok_or(ENOEXEC)?;
    let flags = entry.flags();

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
    bprm.push_arg(entry.interpreter())?;
    // binfmt_script may look at the interpreter's name.
    bprm.change_interp(entry.interpreter())?;

    let interpreter = match entry.interp_file() {
        Some(file) => file.reopen()?,
        None => ExecFile::open(entry.interpreter())?,
    };
    bprm.set_interpreter(interpreter);
    if flags.open_binary {
        bprm.set_execfd(flags.credentials);
    }
    Ok(())
}
