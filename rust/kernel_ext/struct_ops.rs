// SPDX-License-Identifier: GPL-2.0

//! The Rust side of include/bpf_ops.c: the `binfmt_misc_ops` struct_ops type
//! (upstream Linux 7.3's interface) and the kfuncs its programs call. C keeps
//! what the bpf core must see through BTF and calls back here, through a
//! table built from a [`StructOps`].

use super::bindings as b;
use super::bprm::BinPrm;
use super::call_table::CallTable;
use super::callback_state::{CallbackState, HasCallbackState};
use super::error::ENAMETOOLONG;
use core::marker::PhantomData;
use core::ptr::NonNull;
use kernel::error::{from_err_ptr, to_result};
use kernel::ffi::{c_char, c_int};
use kernel::prelude::*;
use kernel::str::CStr;
use kernel::sync::Arc;

/// The handlers of the struct_ops type: what its `reg`, `unreg` and
/// `init_member` do, and what its kfuncs stage for the exec whose program calls
/// them.
pub(crate) trait StructOps: HasCallbackState {
    /// What a program call stages through the kfuncs, for its exec.
    type Staging: Send;

    /// `init_member` of the ops' `name`: the name to store, from the one given.
    fn check_name(raw: &[u8]) -> Result<&[u8]>;

    /// `reg`: `ops`, named `name`, are registered, through the bpf link
    /// `link` (0 for a map registered without one).
    fn register(&self, name: &[u8], link: usize, ops: BpfOps) -> Result;

    /// `unreg`: the registration of the ops `kdata` made through `link` ends.
    fn unregister(&self, kdata: usize, link: usize);

    /// The program calls in progress, where the kfuncs find their staging.
    fn calls(&self) -> &CallTable<Self::Staging>;

    /// `bpf_binprm_set_interp()`.
    fn set_interp(staging: &mut Self::Staging, path: &[u8]) -> Result;

    /// `bpf_binprm_select_interp()`.
    fn select_interp(staging: &mut Self::Staging, name: &[u8]) -> Result;

    /// `bpf_binprm_set_interp_arg()`.
    fn set_interp_arg(staging: &mut Self::Staging, arg: &[u8]) -> Result;

    /// `bpf_binprm_set_flags()`.
    fn set_flags(staging: &mut Self::Staging, flags: u64) -> Result;
}

/// The struct_ops type and the kfuncs, registered with the bpf core. Both live
/// in the module's BTF and go with it when the module unloads, so nothing is
/// unregistered; a struct_ops map holds a module reference, so no callback
/// can run once the module's exit has begun.
pub(crate) struct Registration<T: StructOps> {
    _state: Arc<T>,
}

impl<T: StructOps> Registration<T> {
    pub(crate) fn new(state: Arc<T>) -> Result<Self> {
        CallbackState::publish(&state)?;
        // SAFETY: Module init, after the module's BTF is loaded; the callbacks are
        // a static table, and `state` is held for as long as they can run.
        to_result(unsafe { b::bmrs_bpf_register(CallbacksVTable::<T>::build()) })?;
        Ok(Self { _state: state })
    }
}

/// The table of callbacks include/bpf_ops.c calls, built from `T`.
struct CallbacksVTable<T>(PhantomData<T>);

impl<T: StructOps> CallbacksVTable<T> {
    const VTABLE: b::bmrs_bpf_callbacks = b::bmrs_bpf_callbacks {
        copy_ops_name: Some(copy_ops_name::<T>),
        reg: Some(handler_reg::<T>),
        unreg: Some(handler_unreg::<T>),
        set_interp: Some(kf_set_interp::<T>),
        select_interp: Some(kf_select_interp::<T>),
        set_interp_arg: Some(kf_set_interp_arg::<T>),
        set_flags: Some(kf_set_flags::<T>),
        read: Some(kf_read::<T>),
        path: Some(kf_path::<T>),
    };

    const fn build() -> &'static b::bmrs_bpf_callbacks {
        &Self::VTABLE
    }
}

/// The registered `struct binfmt_misc_ops` of a struct_ops map, with a reference
/// on the map, which owns the ops and the trampolines its members point to.
///
/// # Invariants
///
/// `map` is a struct_ops map we hold a reference on, and `kdata` the ops it
/// registered.
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
        // SAFETY: We own the reference taken in `handler_reg`.
        unsafe { b::bpf_map_put(self.map.as_ptr()) };
    }
}

/// struct_ops `init_member` for `name`: validates and copies the handler name.
///
/// # Safety
///
/// `dst` and `src` must be valid for `size` bytes.
unsafe extern "C" fn copy_ops_name<T: StructOps>(
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
    match T::check_name(src) {
        Ok(name) => {
            dst.fill(0);
            dst[..name.len()].copy_from_slice(name);
            0
        }
        Err(e) => e.to_errno(),
    }
}

/// struct_ops `reg`: a handler named `name` is registered through `link`
/// (null for a map registered without one).
///
/// # Safety
///
/// `kdata` must be the map's registered ops, `name` their NUL-terminated name,
/// `map` the live struct_ops map that holds them.
unsafe extern "C" fn handler_reg<T: StructOps>(
    kdata: *mut core::ffi::c_void,
    link: *mut b::bpf_link,
    name: *const c_char,
    map: *mut b::bpf_map,
) -> c_int {
    // SAFETY: init_member stored a NUL-terminated name.
    let name = unsafe { CStr::from_char_ptr(name) };
    let (Some(kdata), Some(map)) = (NonNull::new(kdata), NonNull::new(map)) else {
        return EINVAL.to_errno();
    };
    // SAFETY: The map is live during its registration; the reference is ours,
    // released by `BpfOps::drop`.
    unsafe { b::bpf_map_inc(map.as_ptr()) };
    let ops = BpfOps { kdata, map };
    // SAFETY: The registration is live: the map holds a module reference.
    let state = unsafe { CallbackState::<T>::get() };
    match state.register(name.as_bytes(), link as usize, ops) {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

/// struct_ops `unreg`: the registration made through `link` ends.
///
/// # Safety
///
/// Only as the struct_ops type's `unreg`.
unsafe extern "C" fn handler_unreg<T: StructOps>(
    kdata: *mut core::ffi::c_void,
    link: *mut b::bpf_link,
) {
    // SAFETY: As in `handler_reg`.
    let state = unsafe { CallbackState::<T>::get() };
    state.unregister(kdata as usize, link as usize);
}

/// The state of the callbacks, from a kfunc.
///
/// # Safety
///
/// Only from a kfunc: its program's struct_ops map holds a module reference.
unsafe fn kfunc_state<'a, T: StructOps>() -> &'a T {
    // SAFETY: As the caller promises, the registration is live.
    unsafe { CallbackState::<T>::get() }
}

/// Runs `f` on the staging of the `load` or `match` call running on `bprm`.
///
/// # Safety
///
/// Only from a kfunc.
unsafe fn with_staging<T: StructOps>(
    bprm: *mut b::linux_binprm,
    f: impl FnOnce(&mut T::Staging) -> Result<c_int>,
) -> c_int {
    // SAFETY: As the caller promises.
    let state = unsafe { kfunc_state::<T>() };
    match state.calls().with(bprm as usize, f) {
        Ok(v) => v,
        Err(e) => e.to_errno(),
    }
}

/// A kfunc that stages a string argument (`mem`, `size` bytes) for the call
/// running on `bprm`.
///
/// # Safety
///
/// Only from a kfunc, whose `mem` the verifier checked readable for `size` bytes.
unsafe fn stage_string<T: StructOps>(
    bprm: *mut b::linux_binprm,
    mem: *const c_char,
    size: usize,
    stage: fn(&mut T::Staging, &[u8]) -> Result,
) -> c_int {
    // KF_TRUSTED_ARGS has the verifier refuse NULL; this is the second line.
    if mem.is_null() {
        return EINVAL.to_errno();
    }
    let bytes: &[u8] = if size == 0 {
        &[]
    } else {
        // SAFETY: As the caller says.
        unsafe { core::slice::from_raw_parts(mem.cast(), size) }
    };
    // SAFETY: As the caller says.
    unsafe { with_staging::<T>(bprm, |s| stage(s, bytes).map(|()| 0)) }
}

/// Runs `f` if a program call is in progress for `bprm`.
///
/// # Safety
///
/// Only from a kfunc.
unsafe fn reading<T: StructOps>(
    bprm: *mut b::linux_binprm,
    f: impl FnOnce() -> Result<c_int>,
) -> c_int {
    // SAFETY: As the caller promises.
    let state = unsafe { kfunc_state::<T>() };
    if !state.calls().is_active(bprm as usize) {
        return EINVAL.to_errno();
    }
    f().unwrap_or_else(|e| e.to_errno())
}

/// # Safety
///
/// Only as `bpf_binprm_set_interp()`: the verifier checked `path` and `size`.
unsafe extern "C" fn kf_set_interp<T: StructOps>(
    bprm: *mut b::linux_binprm,
    path: *const c_char,
    size: usize,
) -> c_int {
    // SAFETY: As the caller says.
    unsafe { stage_string::<T>(bprm, path, size, T::set_interp) }
}

/// # Safety
///
/// Only as `bpf_binprm_select_interp()`: the verifier checked `name` and `size`.
unsafe extern "C" fn kf_select_interp<T: StructOps>(
    bprm: *mut b::linux_binprm,
    name: *const c_char,
    size: usize,
) -> c_int {
    // SAFETY: As the caller says.
    unsafe { stage_string::<T>(bprm, name, size, T::select_interp) }
}

/// # Safety
///
/// Only as `bpf_binprm_set_interp_arg()`: the verifier checked `arg` and `size`.
unsafe extern "C" fn kf_set_interp_arg<T: StructOps>(
    bprm: *mut b::linux_binprm,
    arg: *const c_char,
    size: usize,
) -> c_int {
    // SAFETY: As the caller says.
    unsafe { stage_string::<T>(bprm, arg, size, T::set_interp_arg) }
}

/// # Safety
///
/// Only as `bpf_binprm_set_flags()`.
unsafe extern "C" fn kf_set_flags<T: StructOps>(bprm: *mut b::linux_binprm, flags: u64) -> c_int {
    // SAFETY: As the caller says.
    unsafe { with_staging::<T>(bprm, |s| T::set_flags(s, flags).map(|()| 0)) }
}

/// # Safety
///
/// Only as `bpf_binprm_read()`: `buf` writable for `size` bytes.
unsafe extern "C" fn kf_read<T: StructOps>(
    bprm: *mut b::linux_binprm,
    offset: u64,
    buf: *mut core::ffi::c_void,
    size: usize,
) -> c_int {
    let buf = buf.cast::<u8>();
    let read = || {
        // KF_TRUSTED_ARGS has the verifier refuse NULL; this is the second line.
        if buf.is_null() {
            return Err(EINVAL);
        }
        if size == 0 {
            return Ok(0);
        }
        let size = size.min(i32::MAX as usize);
        let mut pos = i64::try_from(offset).map_err(|_| EINVAL)?;
        // SAFETY: `reading` runs this only while the call is active, so `bprm` is
        // the exec in progress and its file is open; the verifier checked `buf`.
        let n = unsafe { b::kernel_read((*bprm).file, buf.cast(), size, &mut pos) };
        if n < 0 {
            return Err(Error::from_errno(n as c_int));
        }
        Ok(n as c_int)
    };
    // SAFETY: As the caller says.
    unsafe { reading::<T>(bprm, read) }
}

/// # Safety
///
/// Only as `bpf_binprm_path()`: `buf` writable for `size` bytes.
unsafe extern "C" fn kf_path<T: StructOps>(
    bprm: *mut b::linux_binprm,
    buf: *mut c_char,
    size: usize,
) -> c_int {
    let path = || {
        // KF_TRUSTED_ARGS has the verifier refuse NULL; this is the second line.
        if buf.is_null() {
            return Err(EINVAL);
        }
        let size = size.min(i32::MAX as usize);
        if size == 0 {
            return Err(ENAMETOOLONG());
        }
        // SAFETY: As in `kf_read`; d_path() writes the path at the end of `buf`
        // and returns where it starts.
        let start =
            from_err_ptr(unsafe { b::d_path(&(*(*bprm).file).f_path, buf, size as c_int) })?;
        // SAFETY: d_path() returned a NUL-terminated string within `buf`.
        let len = unsafe { buf.add(size).offset_from(start) } as usize;
        // SAFETY: Both ranges are within `buf`; copy() allows the overlap.
        unsafe { core::ptr::copy(start, buf, len) };
        Ok(len as c_int)
    };
    // SAFETY: As the caller says.
    unsafe { reading::<T>(bprm, path) }
}
