// SPDX-License-Identifier: GPL-2.0

//! The unsafe side of 'B' entries: the struct_ops callbacks and kfuncs that
//! include/bpf_ops.c forwards here, and safe types over the bpf objects they
//! hand over. The logic is in [`crate::bpf`].

use crate::bindings as b;
use crate::bpf::{self, Staging, ENAMETOOLONG};
use crate::slots::Slots;
use crate::vfs::{registry, BinPrm, UserNamespace};
use core::cell::UnsafeCell;
use core::ptr::NonNull;
use core::sync::atomic::{AtomicUsize, Ordering};
use kernel::error::{from_err_ptr, to_result};
use kernel::ffi::c_char;
use kernel::ffi::c_int;
use kernel::prelude::*;
use kernel::sync::Mutex;
use kernel::types::ARef;
use kernel::{new_mutex, pin_init};

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

/// How many program calls can be in progress at once without the fallback lock:
/// a bpf program runs for each 'B' entry an exec tries, and the programs sleep.
const CALL_SLOTS: usize = 1 << 6;

/// A program call in progress, in one slot of a [`CallTable`].
///
/// # Invariants
///
/// While `key` is not zero the slot belongs to the task in `task`, which alone
/// reads or writes `value`; only a task that claimed the slot (`key` from zero)
/// sets `task` and `value`, and only it frees the slot.
struct CallSlot<T> {
    key: AtomicUsize,
    task: AtomicUsize,
    value: UnsafeCell<Option<T>>,
}

impl<T> CallSlot<T> {
    const fn new() -> Self {
        Self {
            key: AtomicUsize::new(0),
            task: AtomicUsize::new(0),
            value: UnsafeCell::new(None),
        }
    }
}

/// The caller's task, as an identity.
fn current_task() -> usize {
    let task: *const kernel::task::Task = kernel::current!();
    task as usize
}

/// The state of the bpf program calls in progress, keyed by their exec's bprm,
/// for the kfuncs those programs call: upstream keeps it in `struct
/// linux_binprm`, which a module cannot extend. Every exec looks here, so it
/// takes no lock: a call claims a free slot with one atomic exchange, and a
/// kfunc finds its call's slot by key and by task, since a program runs on its
/// exec's task. Only when every slot is taken does a call wait for the
/// fallback's lock.
#[pin_data]
pub(crate) struct CallTable<T> {
    slots: [CallSlot<T>; CALL_SLOTS],
    /// Calls in the fallback, so that lookups skip its lock while it is empty.
    overflowed: AtomicUsize,
    #[pin]
    overflow: Mutex<Slots<(usize, usize, T)>>,
}

// SAFETY: A slot's value is only touched by the task that owns the slot
// (`CallSlot`'s invariant), which may be any task: `T: Send`.
unsafe impl<T: Send> Sync for CallTable<T> {}
// SAFETY: As above.
unsafe impl<T: Send> Send for CallTable<T> {}

impl<T> CallTable<T> {
    pub(crate) fn new() -> impl PinInit<Self> {
        pin_init!(Self {
            slots: [const { CallSlot::new() }; CALL_SLOTS],
            overflowed: AtomicUsize::new(0),
            overflow <- new_mutex!(Slots::default(), "binfmt_misc_rs::CallTable::overflow"),
        })
    }

    /// The slot `key`'s call holds, if the caller is the call's task.
    fn own_slot(&self, key: usize) -> Option<&CallSlot<T>> {
        let task = current_task();
        self.slots.iter().find(|s| {
            s.key.load(Ordering::Acquire) == key && s.task.load(Ordering::Relaxed) == task
        })
    }

    /// Runs `call` with `value` as the state of a call for `key`, returns its
    /// result and the state as the call left it.
    pub(crate) fn run<R>(&self, key: usize, value: T, call: impl FnOnce() -> R) -> Result<(R, T)> {
        // bprms are 512-byte aligned (kmalloc-512): hash the address, so that
        // concurrent calls start apart.
        let hash = (key as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        let start = (hash >> (u64::BITS - CALL_SLOTS.trailing_zeros())) as usize;
        let claimed = (0..CALL_SLOTS)
            .map(|i| &self.slots[(start + i) % CALL_SLOTS])
            .find(|s| {
                s.key
                    .compare_exchange(0, key, Ordering::Acquire, Ordering::Relaxed)
                    .is_ok()
            });
        let Some(slot) = claimed else {
            return self.run_overflow(key, value, call);
        };
        slot.task.store(current_task(), Ordering::Relaxed);
        // SAFETY: We claimed the slot: its value is ours alone (invariant).
        unsafe { *slot.value.get() = Some(value) };
        let result = call();
        // SAFETY: As above; the kfuncs `call` ran are done with it.
        let value = unsafe { (*slot.value.get()).take() };
        slot.task.store(0, Ordering::Relaxed);
        slot.key.store(0, Ordering::Release);
        Ok((result, value.ok_or(EINVAL)?))
    }

    fn run_overflow<R>(&self, key: usize, value: T, call: impl FnOnce() -> R) -> Result<(R, T)> {
        let task = current_task();
        let mut overflow = self.overflow.lock();
        // Room first: a value dropped under the lock could close files.
        overflow.reserve_one(GFP_KERNEL)?;
        // Cannot fail: room was reserved.
        let _ = overflow.put((key, task, value), GFP_KERNEL);
        drop(overflow);
        self.overflowed.fetch_add(1, Ordering::AcqRel);
        let result = call();
        let value = self
            .overflow
            .lock()
            .take(|(k, t, _)| *k == key && *t == task)
            .map(|(_, _, v)| v);
        self.overflowed.fetch_sub(1, Ordering::AcqRel);
        Ok((result, value.ok_or(EINVAL)?))
    }

    /// Runs `f` on the state of the call in progress for `key`, which must be
    /// running on the caller's task: a program can reach only the exec it was
    /// called for. `EINVAL` if there is none.
    pub(crate) fn with<U>(&self, key: usize, f: impl FnOnce(&mut T) -> Result<U>) -> Result<U> {
        if let Some(slot) = self.own_slot(key) {
            // SAFETY: The slot is the caller's task's (checked by `own_slot`), and
            // that task is running this kfunc inside its `run`, which does not
            // touch the value meanwhile.
            let value = unsafe { (*slot.value.get()).as_mut() };
            return f(value.ok_or(EINVAL)?);
        }
        if self.overflowed.load(Ordering::Acquire) == 0 {
            return Err(EINVAL);
        }
        let task = current_task();
        let mut overflow = self.overflow.lock();
        let (_, _, value) = overflow
            .iter_mut()
            .find(|(k, t, _)| *k == key && *t == task)
            .ok_or(EINVAL)?;
        f(value)
    }

    /// Whether a call for `key` is in progress on the caller's task.
    pub(crate) fn is_active(&self, key: usize) -> bool {
        self.with(key, |_| Ok(())).is_ok()
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

/// A kfunc that stages a string argument (`mem`, `size` bytes) for the call
/// running on `bprm`.
///
/// # Safety
///
/// The verifier must have checked that `mem` is readable for `size` bytes.
unsafe fn stage_string(
    bprm: *mut b::linux_binprm,
    mem: *const c_char,
    size: usize,
    stage: fn(&mut Staging, &[u8]) -> Result,
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
    with_staging(bprm, |s| stage(s, bytes).map(|()| 0))
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
/// Only as `bpf_binprm_set_interp()`: the verifier checked `path` and `size`.
#[no_mangle]
unsafe extern "C" fn bmrs_kf_set_interp(
    bprm: *mut b::linux_binprm,
    path: *const c_char,
    size: usize,
) -> c_int {
    // SAFETY: As the caller says.
    unsafe { stage_string(bprm, path, size, Staging::set_interp) }
}

/// # Safety
///
/// Only as `bpf_binprm_select_interp()`: the verifier checked `name` and `size`.
#[no_mangle]
unsafe extern "C" fn bmrs_kf_select_interp(
    bprm: *mut b::linux_binprm,
    name: *const c_char,
    size: usize,
) -> c_int {
    // SAFETY: As the caller says.
    unsafe { stage_string(bprm, name, size, Staging::select_interp) }
}

/// # Safety
///
/// Only as `bpf_binprm_set_interp_arg()`: the verifier checked `arg` and `size`.
#[no_mangle]
unsafe extern "C" fn bmrs_kf_set_interp_arg(
    bprm: *mut b::linux_binprm,
    arg: *const c_char,
    size: usize,
) -> c_int {
    // SAFETY: As the caller says.
    unsafe { stage_string(bprm, arg, size, Staging::set_interp_arg) }
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
        // KF_TRUSTED_ARGS has the verifier refuse NULL; this is the second line.
        if buf.is_null() {
            return Err(EINVAL);
        }
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
        // KF_TRUSTED_ARGS has the verifier refuse NULL; this is the second line.
        if buf.is_null() {
            return Err(EINVAL);
        }
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
