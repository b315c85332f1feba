// SPDX-License-Identifier: GPL-2.0

//! The `struct linux_binprm` of an exec in progress, as a binary format sees it.
//! Checked against 6.12: its members and the execfd bitfields (include/helpers.c).

use super::bindings as b;
use super::exec_file::ExecFile;
use kernel::error::to_result;
use kernel::prelude::*;
use kernel::str::CStr;
use kernel::types::Opaque;

/// Size of the binary's first bytes that exec reads before asking the formats.
pub(crate) const BINPRM_BUF_SIZE: usize = b::BINPRM_BUF_SIZE as usize;

/// The `struct linux_binprm` of an exec in progress.
#[repr(transparent)]
pub(crate) struct BinPrm(Opaque<b::linux_binprm>);

impl BinPrm {
    /// # Safety
    ///
    /// `ptr` must be the bprm of an exec in progress that only the caller
    /// touches for the returned lifetime.
    pub(super) unsafe fn from_raw<'a>(ptr: *mut b::linux_binprm) -> &'a mut Self {
        // SAFETY: `Self` is a transparent wrapper; the rest is the caller's.
        unsafe { &mut *ptr.cast() }
    }

    /// For the bpf glue, which hands the bprm to the handler's programs.
    pub(super) fn as_raw(&self) -> *mut b::linux_binprm {
        self.0.get()
    }

    /// Identity of the exec, for the kfuncs to find its staged state.
    pub(crate) fn key(&self) -> usize {
        self.as_raw() as usize
    }

    /// The binary's first bytes (zero past the end of a short file).
    pub(crate) fn header(&self) -> &[u8; BINPRM_BUF_SIZE] {
        // SAFETY: buf is filled before binfmts are asked.
        unsafe { &(*self.as_raw()).buf }
    }

    /// The path exec was given.
    pub(crate) fn path(&self) -> &CStr {
        // SAFETY: interp is a valid string until bprm_change_interp(), which
        // needs `&mut self`.
        unsafe { CStr::from_char_ptr((*self.as_raw()).interp) }
    }

    /// Whether exec cannot reopen the binary by path (fd of a close-on-exec file).
    pub(crate) fn path_inaccessible(&self) -> bool {
        // SAFETY: Reading a field of our exec's bprm.
        unsafe { (*self.as_raw()).interp_flags & b::BINPRM_FLAGS_PATH_INACCESSIBLE != 0 }
    }

    pub(crate) fn preserve_argv0(&mut self) {
        // SAFETY: We are the binfmt handling this exec.
        unsafe { (*self.as_raw()).interp_flags |= b::BINPRM_FLAGS_PRESERVE_ARGV0 };
    }

    pub(crate) fn remove_arg_zero(&mut self) -> Result {
        // SAFETY: `self` is the bprm of the running exec.
        to_result(unsafe { b::remove_arg_zero(self.as_raw()) })
    }

    fn push_arg_raw(&mut self, arg: *const kernel::ffi::c_char) -> Result {
        // SAFETY: `arg` is a NUL-terminated string; the bprm is ours.
        let ret = unsafe { b::copy_string_kernel(arg, self.as_raw()) };
        if ret < 0 {
            return Err(Error::from_errno(ret));
        }
        // SAFETY: As above; copy_string_kernel() leaves the count to the caller.
        unsafe { (*self.as_raw()).argc += 1 };
        Ok(())
    }

    /// Pushes the binary's own path as the next argument (pushed in reverse).
    pub(crate) fn push_own_path(&mut self) -> Result {
        // SAFETY: interp is valid until bprm_change_interp().
        let interp = unsafe { (*self.as_raw()).interp };
        self.push_arg_raw(interp)
    }

    pub(crate) fn push_arg(&mut self, arg: &CStr) -> Result {
        self.push_arg_raw(arg.as_char_ptr())
    }

    pub(crate) fn change_interp(&mut self, interp: &CStr) -> Result {
        // SAFETY: bprm_change_interp() copies the string.
        to_result(unsafe { b::bprm_change_interp(interp.as_char_ptr(), self.as_raw()) })
    }

    /// Hands the interpreter to exec, which releases it and its write denial.
    pub(crate) fn set_interpreter(&mut self, file: ExecFile) {
        // SAFETY: No binfmt before us set an interpreter for this round.
        unsafe { (*self.as_raw()).interpreter = file.into_raw() };
    }

    /// Passes the binary to the interpreter as a file descriptor (`O`), with its
    /// credentials (`C`) if `creds`.
    pub(crate) fn set_execfd(&mut self, creds: bool) {
        // SAFETY: Setting flags of our exec's bprm.
        unsafe { b::bmrs_binprm_set_execfd(self.as_raw(), creds) };
    }
}
