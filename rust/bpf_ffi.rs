// SPDX-License-Identifier: GPL-2.0

//! The unsafe side of 'B' entries: the struct_ops callbacks and kfuncs that
//! include/bpf_ops.c forwards here, and safe types over the bpf objects they
//! hand over. The logic is in [`crate::bpf`].

use crate::bindings as b;
use crate::bpf::{self, Staging, ENAMETOOLONG};
use crate::vfs::{registry, BinPrm, UserNamespace};
use core::ptr::NonNull;
use kernel::error::{from_err_ptr, to_result};
use kernel::ffi::c_char;
use kernel::ffi::c_int;
use kernel::prelude::*;
use kernel::types::ARef;

/// Registers the struct_ops type and the kfuncs with the bpf core.
pub(crate) fn register() -> Result {
    // SAFETY: Called once from module init, after the module's BTF is loaded.
    to_result(unsafe { b::bmrs_bpf_register() })
}

/// The registered `struct binfmt_misc_ops` of a struct_ops map, with a reference
/// on the map, which owns the ops and the trampolines its members point to.
pub(crate) struct BpfOps {
    kdata: NonNull<core::ffi::c_void>,
    map: NonNull<b::bpf_map>,
}

// SAFETY: The map reference may be dropped from any task; the ops are read-only
// once registered, and their programs may run on any task.
unsafe impl Send for BpfOps {}
// SAFETY: As above.
unsafe impl Sync for BpfOps {}

impl BpfOps {
    /// Runs the handler's `match` program. Sleeps; not under RCU or a spinlock.
    pub(crate) fn call_match(&self, bprm: &BinPrm) -> bool {
        // SAFETY: The map reference keeps the ops and their trampolines alive;
        // `bprm` is the exec in progress.
        unsafe { b::bmrs_bpf_call_match(self.kdata.as_ptr(), bprm.as_raw()) }
    }

    /// Runs the handler's `load` program: 0, or the errno it returned.
    pub(crate) fn call_load(&self, bprm: &BinPrm) -> c_int {
        // SAFETY: As for `call_match`.
        unsafe { b::bmrs_bpf_call_load(self.kdata.as_ptr(), bprm.as_raw()) }
    }

    /// Whether these are the ops registered as `kdata`.
    pub(crate) fn is(&self, kdata: usize) -> bool {
        self.kdata.as_ptr() as usize == kdata
    }
}

impl Drop for BpfOps {
    fn drop(&mut self) {
        // SAFETY: We own the reference taken in `bmrs_bpf_handler_reg`.
        unsafe { b::bpf_map_put(self.map.as_ptr()) };
    }
}

/// struct_ops `init_member` for `name`: validates and copies the handler name.
///
/// # Safety
///
/// `dst` and `src` must be valid for `size` bytes.
#[no_mangle]
unsafe extern "C" fn bmrs_bpf_copy_ops_name(
    dst: *mut c_char,
    src: *const c_char,
    size: usize,
) -> c_int {
    // SAFETY: The caller passes the ops' name arrays, `size` bytes each.
    let (dst, src) = unsafe {
        (
            core::slice::from_raw_parts_mut(dst.cast::<u8>(), size),
            core::slice::from_raw_parts(src.cast::<u8>(), size),
        )
    };
    match bpf::handler_name(src) {
        Ok(name) => {
            dst.fill(0);
            dst[..name.len()].copy_from_slice(name);
            0
        }
        Err(e) => e.to_errno(),
    }
}

/// struct_ops `reg`: a handler named `name` is registered in the caller's user
/// namespace, through `link` (null for a map registered without one).
///
/// # Safety
///
/// `kdata` must be the map's registered ops, `name` their NUL-terminated name,
/// `map` the live struct_ops map that holds them.
#[no_mangle]
unsafe extern "C" fn bmrs_bpf_handler_reg(
    kdata: *mut core::ffi::c_void,
    link: *mut b::bpf_link,
    name: *const c_char,
    map: *mut b::bpf_map,
) -> c_int {
    // SAFETY: init_member stored a NUL-terminated name.
    let name = unsafe { kernel::str::CStr::from_char_ptr(name) };
    let (Some(kdata), Some(map)) = (NonNull::new(kdata), NonNull::new(map)) else {
        return EINVAL.to_errno();
    };
    // SAFETY: The map is live during its registration; the reference is ours,
    // released by `BpfOps::drop`.
    unsafe { b::bpf_map_inc(map.as_ptr()) };
    let ops = BpfOps { kdata, map };
    let ns: ARef<UserNamespace> = UserNamespace::current();
    match registry()
        .bpf()
        .register(ns, name.as_bytes(), link as usize, ops)
    {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

/// struct_ops `unreg`: the registration made through `link` ends.
#[no_mangle]
extern "C" fn bmrs_bpf_handler_unreg(kdata: *mut core::ffi::c_void, link: *mut b::bpf_link) {
    registry().bpf().unregister(kdata as usize, link as usize);
}

/// The bytes of a kfunc's memory argument.
///
/// # Safety
///
/// The verifier checked that `ptr` is readable for `size` bytes.
unsafe fn arg_bytes<'a>(ptr: *const c_char, size: usize) -> &'a [u8] {
    if size == 0 {
        return &[];
    }
    // SAFETY: As the caller says.
    unsafe { core::slice::from_raw_parts(ptr.cast(), size) }
}

/// Runs `f` on the staging of the `load` or `match` call running on `bprm`.
fn with_staging(
    bprm: *mut b::linux_binprm,
    f: impl FnOnce(&mut Staging) -> Result<c_int>,
) -> c_int {
    match registry().bpf().with_staging(bprm as usize, f) {
        Ok(v) => v,
        Err(e) => e.to_errno(),
    }
}

/// Runs `f` if a program call is in progress for `bprm`.
fn reading(bprm: *mut b::linux_binprm, f: impl FnOnce() -> Result<c_int>) -> c_int {
    if !registry().bpf().is_active(bprm as usize) {
        return EINVAL.to_errno();
    }
    f().unwrap_or_else(|e| e.to_errno())
}

/// # Safety
///
/// Only from the kfunc: `path` readable for `size` bytes.
#[no_mangle]
unsafe extern "C" fn bmrs_kf_set_interp(
    bprm: *mut b::linux_binprm,
    path: *const c_char,
    size: usize,
) -> c_int {
    // SAFETY: The verifier checked the memory argument.
    let path = unsafe { arg_bytes(path, size) };
    with_staging(bprm, |s| s.set_interp(path).map(|()| 0))
}

/// # Safety
///
/// Only from the kfunc: `name` readable for `size` bytes.
#[no_mangle]
unsafe extern "C" fn bmrs_kf_select_interp(
    bprm: *mut b::linux_binprm,
    name: *const c_char,
    size: usize,
) -> c_int {
    // SAFETY: The verifier checked the memory argument.
    let name = unsafe { arg_bytes(name, size) };
    with_staging(bprm, |s| s.select_interp(name).map(|()| 0))
}

/// # Safety
///
/// Only from the kfunc: `arg` readable for `size` bytes.
#[no_mangle]
unsafe extern "C" fn bmrs_kf_set_interp_arg(
    bprm: *mut b::linux_binprm,
    arg: *const c_char,
    size: usize,
) -> c_int {
    // SAFETY: The verifier checked the memory argument.
    let arg = unsafe { arg_bytes(arg, size) };
    with_staging(bprm, |s| s.set_interp_arg(arg).map(|()| 0))
}

#[no_mangle]
extern "C" fn bmrs_kf_set_flags(bprm: *mut b::linux_binprm, flags: u64) -> c_int {
    with_staging(bprm, |s| s.set_flags(flags).map(|()| 0))
}

/// # Safety
///
/// Only from the kfunc: `buf` writable for `size` bytes.
#[no_mangle]
unsafe extern "C" fn bmrs_kf_read(
    bprm: *mut b::linux_binprm,
    offset: u64,
    buf: *mut u8,
    size: usize,
) -> c_int {
    reading(bprm, || {
        if size == 0 {
            return Ok(0);
        }
        let size = size.min(i32::MAX as usize);
        let mut pos = i64::try_from(offset).map_err(|_| EINVAL)?;
        // SAFETY: The call is active, so `bprm` is the exec in progress and its file
        // is open; the verifier checked `buf`.
        let n = unsafe { b::kernel_read((*bprm).file, buf.cast(), size, &mut pos) };
        if n < 0 {
            return Err(Error::from_errno(n as c_int));
        }
        Ok(n as c_int)
    })
}

/// # Safety
///
/// Only from the kfunc: `buf` writable for `size` bytes.
#[no_mangle]
unsafe extern "C" fn bmrs_kf_path(
    bprm: *mut b::linux_binprm,
    buf: *mut c_char,
    size: usize,
) -> c_int {
    reading(bprm, || {
        let size = size.min(i32::MAX as usize);
        if size == 0 {
            return Err(ENAMETOOLONG());
        }
        // SAFETY: As in `bmrs_kf_read`; d_path() writes the path at the end of
        // `buf` and returns where it starts.
        let start =
            from_err_ptr(unsafe { b::d_path(&(*(*bprm).file).f_path, buf, size as c_int) })?;
        // SAFETY: d_path() returned a NUL-terminated string within `buf`.
        let len = unsafe { buf.add(size).offset_from(start) } as usize;
        // SAFETY: Both ranges are within `buf`; copy() allows the overlap.
        unsafe { core::ptr::copy(start, buf, len) };
        Ok(len as c_int)
    })
}
