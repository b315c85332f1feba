// SPDX-License-Identifier: GPL-2.0

//! Files opened for exec: write-denied while held, opened with the caller's
//! credentials or with those a file was opened with. Checked against 6.12:
//! `open_exec()`, `override_creds()` and the exec write-denial helpers change
//! in later kernels.

use super::bindings as b;
use core::mem::ManuallyDrop;
use core::ptr::{self, NonNull};
use kernel::error::{from_err_ptr, to_result};
use kernel::prelude::*;
use kernel::str::CStr;

/// A file opened for exec, write-denied while we hold it.
///
/// # Invariants
///
/// The pointer is a file reference we own, with a write denial taken on it.
pub(crate) struct ExecFile(NonNull<b::file>);

// SAFETY: A `struct file` reference may be used and dropped from any task.
unsafe impl Send for ExecFile {}
// SAFETY: `ExecFile` has no interior mutability.
unsafe impl Sync for ExecFile {}

impl ExecFile {
    /// Opens `path` for exec with the caller's credentials (open_exec()).
    pub(crate) fn open(path: &CStr) -> Result<Self> {
        // SAFETY: `path` is NUL-terminated; open_exec() returns a file or an error.
        let file = from_err_ptr(unsafe { b::open_exec(path.as_char_ptr()) })?;
        // SAFETY: Not an error pointer, so not null.
        Ok(Self(unsafe { NonNull::new_unchecked(file) }))
    }

    /// Opens `path` for exec with the credentials `cred`.
    ///
    /// # Safety
    ///
    /// `cred` must be live for the call (held by a file, say).
    pub(super) unsafe fn open_as(cred: *const b::cred, path: &CStr) -> Result<Self> {
        // SAFETY: The caller holds `cred`; override_creds() and revert_creds()
        // pair up on this task.
        unsafe {
            let old = b::override_creds(cred);
            let file = Self::open(path);
            b::revert_creds(old);
            file
        }
    }

    /// A new open file of the same path, as exec wants one per execution.
    pub(crate) fn reopen(&self) -> Result<Self> {
        // SAFETY: `self.0` is a live file; file_clone_open() returns a new one.
        let file = from_err_ptr(unsafe { b::bmrs_file_clone_open(self.0.as_ptr()) })?;
        // SAFETY: `file` is a fresh reference that we own.
        if let Err(e) = to_result(unsafe { b::bmrs_exe_file_deny_write_access(file) }) {
            // SAFETY: Write access was not denied, so a plain put undoes the open.
            unsafe { b::fput(file) };
            return Err(e);
        }
        // SAFETY: Not an error pointer, so not null.
        Ok(Self(unsafe { NonNull::new_unchecked(file) }))
    }

    /// Gives up the reference and the write denial, to whoever releases both.
    pub(super) fn into_raw(self) -> *mut b::file {
        ManuallyDrop::new(self).0.as_ptr()
    }
}

impl Drop for ExecFile {
    fn drop(&mut self) {
        // SAFETY: We own the reference and the write denial taken at open.
        unsafe {
            b::bmrs_exe_file_allow_write_access(self.0.as_ptr());
            b::filp_close(self.0.as_ptr(), ptr::null_mut());
        }
    }
}
