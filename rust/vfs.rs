// SPDX-License-Identifier: GPL-2.0

//! The FFI layer: every `unsafe` block of the module is in this file.
//!
//! It holds the C tables (filesystem type, binfmt, superblock, context and file
//! operations), their `extern "C"` callbacks, which turn raw pointers into the small
//! safe types below and call the safe code in [`crate::fs`] and [`crate::exec`], and
//! owned wrappers for the references the safe code keeps (user namespaces, dentries,
//! exec files).

use crate::bindings as b;
use crate::grammar::{self, Command};
use crate::instance::{Entry, Registry};
use crate::{exec, fs};
use core::cell::UnsafeCell;
use core::marker::PhantomData;
use core::mem::ManuallyDrop;
use core::ptr::{self, NonNull};
use core::sync::atomic::{AtomicBool, AtomicPtr, AtomicUsize, Ordering};
use kernel::error::{from_err_ptr, from_result, to_result};
use kernel::prelude::*;
use kernel::str::CStr;
use kernel::sync::{Arc, ArcBorrow, Mutex};
use kernel::types::{ARef, AlwaysRefCounted, Opaque};
use kernel::uaccess::UserSlice;
use kernel::{c_str, new_mutex, ThisModule};

/// A C table the kernel reads and, for lists and refcounts, writes through its own
/// locks. Rust only writes it before registration.
#[repr(transparent)]
struct CTable<T>(Opaque<T>);

// SAFETY: After registration only C touches the table, under C's own locking.
unsafe impl<T> Sync for CTable<T> {}

impl<T> CTable<T> {
    const fn new(value: T) -> Self {
        Self(Opaque::new(value))
    }

    const fn get(&self) -> *mut T {
        self.0.get()
    }
}

macro_rules! zeroed {
    () => {
        // SAFETY: The C tables are plain structs of integers, pointers and optional
        // function pointers, for which all-zeroes is the valid "unset" value.
        unsafe { core::mem::zeroed() }
    };
}

static FS_TYPE: CTable<b::file_system_type> = CTable::new(b::file_system_type {
    name: c_str!("binfmt_misc").as_char_ptr(),
    init_fs_context: Some(init_fs_context),
    kill_sb: Some(kill_sb),
    fs_flags: b::FS_USERNS_MOUNT as _,
    ..zeroed!()
});

static FORMAT: CTable<b::linux_binfmt> = CTable::new(b::linux_binfmt {
    load_binary: Some(load_binary),
    ..zeroed!()
});

static CONTEXT_OPS: CTable<b::fs_context_operations> = CTable::new(b::fs_context_operations {
    free: Some(free_fs_context),
    get_tree: Some(get_tree),
    ..zeroed!()
});

static SUPER_OPS: CTable<b::super_operations> = CTable::new(b::super_operations {
    statfs: Some(b::simple_statfs),
    evict_inode: Some(evict_inode),
    ..zeroed!()
});

static STATUS_FOPS: CTable<b::file_operations> = CTable::new(b::file_operations {
    read: Some(status_read),
    write: Some(write_op::<StatusWrite>),
    llseek: Some(b::default_llseek),
    ..zeroed!()
});

static REGISTER_FOPS: CTable<b::file_operations> = CTable::new(b::file_operations {
    write: Some(write_op::<RegisterWrite>),
    llseek: Some(b::noop_llseek),
    ..zeroed!()
});

static ENTRY_FOPS: CTable<b::file_operations> = CTable::new(b::file_operations {
    open: Some(entry_open),
    read: Some(b::seq_read),
    write: Some(write_op::<EntryWrite>),
    llseek: Some(b::seq_lseek),
    release: Some(b::single_release),
    ..zeroed!()
});

/// The root directory: simple_dir_inode_operations plus unlink(2) of entry files,
/// which newer upstream allows and 6.12 refuses (`EPERM`).
static ROOT_IOPS: CTable<b::inode_operations> = CTable::new(b::inode_operations {
    lookup: Some(b::simple_lookup),
    unlink: Some(root_unlink),
    ..zeroed!()
});

const fn tree_file(
    name: &'static CStr,
    ops: &'static CTable<b::file_operations>,
    mode: u32,
) -> b::tree_descr {
    b::tree_descr {
        name: name.as_char_ptr(),
        ops: ops.get(),
        mode: mode as _,
    }
}

/// The fixed files, indexed by inode number as simple_fill_super() wants: 0 and 1
/// (the root) are unused.
static FILES: CTable<[b::tree_descr; 5]> = CTable::new([
    b::tree_descr { ..zeroed!() },
    b::tree_descr { ..zeroed!() },
    tree_file(c_str!("status"), &STATUS_FOPS, b::S_IWUSR | b::S_IRUGO),
    tree_file(c_str!("register"), &REGISTER_FOPS, b::S_IWUSR),
    b::tree_descr {
        name: c_str!("").as_char_ptr(),
        ..zeroed!()
    },
]);

/// The registry of instances, published while the filesystem and the binfmt are
/// registered. Callbacks can only run in that window.
static REGISTRY: AtomicPtr<Registry> = AtomicPtr::new(ptr::null_mut());

/// The instance registry; callable from the callbacks below only.
pub(crate) fn registry() -> &'static Registry {
    // SAFETY: `Registration::new` publishes the pointer before registering anything
    // and `Registration::drop` clears it after unregistering both; the pointee is
    // pinned in the `Registration`, which outlives both registrations.
    unsafe { &*REGISTRY.load(Ordering::Acquire) }
}

/// The registered filesystem type and binfmt handler, for the module's lifetime.
pub(crate) struct Registration {
    _registry: Pin<KBox<Registry>>,
}

impl Registration {
    /// Registers everything, in an order that exposes nothing half made: the
    /// workqueue and the registry first, then `register_bpf` (the struct_ops
    /// type and kfuncs, which no map can use before the module is live), and
    /// the filesystem and the binfmt, through which mounts and execs enter,
    /// last. If anything fails, nothing was exposed.
    pub(crate) fn new(
        module: &'static ThisModule,
        registry: Pin<KBox<Registry>>,
        register_bpf: impl FnOnce() -> Result,
    ) -> Result<Self> {
        // SAFETY: Neither table is registered yet, so nothing else reads them.
        unsafe {
            (*FS_TYPE.get()).owner = module.as_ptr().cast();
            (*FORMAT.get()).module = module.as_ptr().cast();
        }
        // SAFETY: Paired with `bmrs_workqueue_exit`, in `drop` or below.
        to_result(unsafe { b::bmrs_workqueue_init() })?;
        let raw: *const Registry = &*registry;
        REGISTRY.store(raw.cast_mut(), Ordering::Release);
        let registered = register_bpf().and_then(|()| {
            // SAFETY: `FS_TYPE` is a valid, static file_system_type.
            to_result(unsafe { b::register_filesystem(FS_TYPE.get()) })
        });
        if let Err(e) = registered {
            REGISTRY.store(ptr::null_mut(), Ordering::Release);
            // SAFETY: Nothing was queued: no filesystem, no exec reached us.
            unsafe { b::bmrs_workqueue_exit() };
            return Err(e);
        }
        // SAFETY: `FORMAT` is a valid, static linux_binfmt; insert at the head, as
        // upstream's insert_binfmt(), so it is asked before the ELF loader.
        unsafe { b::__register_binfmt(FORMAT.get(), 1) };
        Ok(Self {
            _registry: registry,
        })
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        // SAFETY: Both were registered in `new`. Exec holds a module reference while
        // it calls us, and every superblock holds one through the filesystem type,
        // so no callback is running or can start once these return.
        unsafe {
            b::unregister_binfmt(FORMAT.get());
            b::unregister_filesystem(FS_TYPE.get());
            // The collection runs Rust code that uses the registry.
            b::bmrs_cancel_collect();
            // Retired lists still waiting for their grace period are freed by
            // this module's code: wait for them.
            b::bmrs_workqueue_exit();
        }
        REGISTRY.store(ptr::null_mut(), Ordering::Release);
    }
}

/// Identity of a user namespace, for the registry; never dereferenced.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct NsKey(usize);

/// Declares a transparent wrapper over a C object that the code only borrows.
macro_rules! borrowed_c_type {
    ($(#[$meta:meta])* $name:ident, $c:ty) => {
        $(#[$meta])*
        #[repr(transparent)]
        pub(crate) struct $name(Opaque<$c>);

        impl $name {
            /// # Safety
            ///
            /// `ptr` must point to a live object for the returned lifetime.
            unsafe fn from_raw<'a>(ptr: *mut $c) -> &'a Self {
                // SAFETY: `Self` is a transparent wrapper; liveness is the caller's.
                unsafe { &*ptr.cast() }
            }

            fn as_ptr(&self) -> *mut $c {
                self.0.get()
            }
        }
    };
}

borrowed_c_type!(
    /// A `struct user_namespace`.
    UserNamespace,
    b::user_namespace
);

// SAFETY: get_user_ns()/put_user_ns() keep the namespace alive while referenced.
unsafe impl AlwaysRefCounted for UserNamespace {
    fn inc_ref(&self) {
        // SAFETY: `self` is a live namespace, so taking another reference is valid.
        unsafe { b::bmrs_get_user_ns(self.as_ptr()) };
    }

    unsafe fn dec_ref(obj: NonNull<Self>) {
        // SAFETY: The caller owns the reference being dropped.
        unsafe { b::bmrs_put_user_ns(obj.cast().as_ptr()) };
    }
}

// SAFETY: User namespaces are refcounted and immutable where we read them.
unsafe impl Send for UserNamespace {}
// SAFETY: As above.
unsafe impl Sync for UserNamespace {}

impl UserNamespace {
    /// The caller's user namespace.
    pub(crate) fn current() -> ARef<Self> {
        // SAFETY: The caller's credentials hold their namespace while it runs.
        unsafe { Self::from_raw(b::bmrs_current_user_ns()) }.into()
    }

    pub(crate) fn key(&self) -> NsKey {
        NsKey(self.as_ptr() as usize)
    }

    /// Whether the caller's reference is the only one: then no task, credential,
    /// superblock, child namespace or nsfs file refers to the namespace, and none
    /// can again, since a reference can only be had from an existing one.
    pub(crate) fn is_only_reference(&self) -> bool {
        // SAFETY: `self` is live; reading the refcount has no requirements.
        unsafe { b::bmrs_user_ns_only_ref(self.as_ptr()) }
    }
}

/// Runs [`fs::collect_unused`] after `delay_ms`, or sooner if already scheduled.
pub(crate) fn schedule_collect(delay_ms: u32) {
    // SAFETY: The work is static; `Registration::drop` cancels it before the
    // registry goes.
    unsafe { b::bmrs_schedule_collect(delay_ms) };
}

/// The delayed work's body, called from include/helpers.c.
#[no_mangle]
extern "C" fn bmrs_collect_unused() {
    fs::collect_unused();
}

/// The keys of the caller's user namespace and of its ancestors, nearest first.
pub(crate) fn current_user_ns_chain() -> impl Iterator<Item = NsKey> {
    // SAFETY: The caller's credentials hold its namespace and every namespace holds
    // its parent, and only the task itself replaces its credentials.
    let mut next = unsafe { b::bmrs_current_user_ns() };
    core::iter::from_fn(move || {
        let ns = NonNull::new(next)?;
        // SAFETY: `ns` is live, see above.
        next = unsafe { (*ns.as_ptr()).parent };
        Some(NsKey(ns.as_ptr() as usize))
    })
}

/// A `struct dentry`.
#[repr(transparent)]
struct Dentry(Opaque<b::dentry>);

// SAFETY: dget()/dput() keep the dentry alive while referenced.
unsafe impl AlwaysRefCounted for Dentry {
    fn inc_ref(&self) {
        // SAFETY: `self` is live, so taking another reference is valid.
        unsafe { b::bmrs_dget(self.0.get()) };
    }

    unsafe fn dec_ref(obj: NonNull<Self>) {
        // SAFETY: The caller owns the reference being dropped.
        unsafe { b::dput(obj.cast().as_ptr()) };
    }
}

impl Dentry {
    fn as_ptr(&self) -> *mut b::dentry {
        self.0.get()
    }

    fn is_positive(&self) -> bool {
        // SAFETY: `self` is live; d_inode is read as d_really_is_positive() does.
        unsafe { !(*self.as_ptr()).d_inode.is_null() }
    }
}

borrowed_c_type!(
    /// A `struct super_block` borrowed from a callback.
    SuperBlock,
    b::super_block
);

impl SuperBlock {
    /// The user namespace the superblock belongs to.
    pub(crate) fn user_ns(&self) -> &UserNamespace {
        // SAFETY: s_user_ns is set at allocation and held until the sb is freed.
        unsafe { UserNamespace::from_raw((*self.as_ptr()).s_user_ns) }
    }

    fn root_inode(&self) -> *mut b::inode {
        // SAFETY: Files exist only on a superblock whose root has been set up.
        unsafe { (*(*self.as_ptr()).s_root).d_inode }
    }

    /// Locks the root directory: upstream serialises every change of the entry
    /// list and of the entry files under this lock.
    pub(crate) fn lock_root(&self) -> RootGuard<'_> {
        // SAFETY: The root inode lives as long as the superblock.
        unsafe { b::bmrs_inode_lock(self.root_inode()) };
        RootGuard { sb: self }
    }
}

/// The locked root directory of a binfmt_misc superblock.
pub(crate) struct RootGuard<'a> {
    sb: &'a SuperBlock,
}

impl Drop for RootGuard<'_> {
    fn drop(&mut self) {
        // SAFETY: Locked in `SuperBlock::lock_root`.
        unsafe { b::bmrs_inode_unlock(self.sb.root_inode()) };
    }
}

impl RootGuard<'_> {
    fn lookup(&self, name: &CStr) -> Result<ARef<Dentry>> {
        // SAFETY: The root is locked, as lookup_one_len() requires; `name` is a
        // NUL-terminated string of `len` bytes.
        let dentry = from_err_ptr(unsafe {
            b::lookup_one_len(
                name.as_char_ptr(),
                (*self.sb.as_ptr()).s_root,
                name.len() as _,
            )
        })?;
        // SAFETY: lookup_one_len() returned a referenced, non-null dentry.
        Ok(unsafe { ARef::from_raw(NonNull::new_unchecked(dentry.cast())) })
    }

    /// Creates the file of a new entry, `EEXIST` if the name is taken. The inode
    /// owns one reference to `entry`, dropped by [`evict_inode`].
    pub(crate) fn create_entry_file(&self, entry: &Arc<Entry>) -> Result {
        let dentry = self.lookup(entry.name())?;
        if dentry.is_positive() {
            return Err(EEXIST);
        }
        let sb = self.sb.as_ptr();
        // SAFETY: `sb` is live; new_inode() returns an initialised inode or NULL.
        let inode = unsafe { b::new_inode(sb) };
        if inode.is_null() {
            return Err(ENOMEM);
        }
        // SAFETY: `inode` is new and ours until instantiated; `dentry` is a negative
        // dentry under the locked root. The extra dget() is the reference that pins
        // the file in the filesystem, as in upstream, until unlink or unmount.
        unsafe {
            (*inode).i_ino = b::get_next_ino() as _;
            (*inode).i_mode = (b::S_IFREG | 0o644) as _;
            b::simple_inode_init_ts(inode);
            (*inode).__bindgen_anon_3.i_fop = ENTRY_FOPS.get();
            (*inode).i_private = Arc::into_raw(entry.clone()).cast_mut().cast();
            b::d_instantiate(dentry.as_ptr(), inode);
            b::bmrs_dget(dentry.as_ptr());
        }
        Ok(())
    }

    /// Removes the file of an entry that was just taken out of its instance. The
    /// caller may lack search permission on the directory: upstream does not check.
    pub(crate) fn remove_entry_file(&self, entry: &Entry) {
        // SAFETY: The root is locked; `name` is NUL-terminated.
        let found =
            unsafe { b::bmrs_lookup_entry((*self.sb.as_ptr()).s_root, entry.name().as_char_ptr()) };
        let Ok(found) = from_err_ptr(found) else {
            return;
        };
        let Some(found) = NonNull::new(found) else {
            return;
        };
        // SAFETY: d_hash_and_lookup() returned a referenced dentry.
        let dentry: ARef<Dentry> = unsafe { ARef::from_raw(found.cast()) };
        // SAFETY: The root is locked; a positive, hashed dentry under it is an entry
        // file pinned by create_entry_file(), whose pin simple_unlink() drops.
        unsafe {
            if b::bmrs_simple_positive(dentry.as_ptr()) {
                b::simple_unlink(self.sb.root_inode(), dentry.as_ptr());
                b::d_delete(dentry.as_ptr());
            }
        }
    }
}

borrowed_c_type!(
    /// A `struct file` of ours, borrowed from a file operation.
    File,
    b::file
);

impl File {
    fn inode(&self) -> *mut b::inode {
        // SAFETY: An open file has a fixed inode.
        unsafe { (*self.as_ptr()).f_inode }
    }

    pub(crate) fn super_block(&self) -> &SuperBlock {
        // SAFETY: The open file keeps its superblock alive.
        unsafe { SuperBlock::from_raw((*self.inode()).i_sb) }
    }

    /// The entry of an entry file.
    ///
    /// # Safety
    ///
    /// The file must be one that `create_entry_file` made.
    unsafe fn entry(&self) -> ArcBorrow<'_, Entry> {
        // SAFETY: Entry inodes hold an `Arc<Entry>` in i_private until eviction,
        // which cannot happen while the file is open.
        unsafe { ArcBorrow::from_raw((*self.inode()).i_private.cast()) }
    }

    /// Opens `path` for exec with the credentials this file was opened with.
    pub(crate) fn open_exec_as_opener(&self, path: &CStr) -> Result<ExecFile> {
        // SAFETY: f_cred is held by the file; override_creds() and revert_creds()
        // pair up on this task.
        unsafe {
            let old = b::override_creds((*self.as_ptr()).f_cred);
            let file = ExecFile::open(path);
            b::revert_creds(old);
            file
        }
    }
}

/// A file opened for exec, write-denied while we hold it.
pub(crate) struct ExecFile(NonNull<b::file>);

// SAFETY: A `struct file` reference may be used and dropped from any task.
unsafe impl Send for ExecFile {}
// SAFETY: `ExecFile` has no interior mutability.
unsafe impl Sync for ExecFile {}

impl ExecFile {
    pub(crate) fn open(path: &CStr) -> Result<Self> {
        // SAFETY: `path` is NUL-terminated; open_exec() returns a file or an error.
        let file = from_err_ptr(unsafe { b::open_exec(path.as_char_ptr()) })?;
        // SAFETY: Not an error pointer, so not null.
        Ok(Self(unsafe { NonNull::new_unchecked(file) }))
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

    fn into_raw(self) -> *mut b::file {
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

/// The `struct linux_binprm` of an exec in progress.
#[repr(transparent)]
pub(crate) struct BinPrm(Opaque<b::linux_binprm>);

impl BinPrm {
    fn raw(&self) -> *mut b::linux_binprm {
        self.0.get()
    }

    /// For the bpf glue, which hands the bprm to the handler's programs.
    pub(crate) fn as_raw(&self) -> *mut b::linux_binprm {
        self.raw()
    }

    /// Identity of the exec, for the kfuncs to find its staged state.
    pub(crate) fn key(&self) -> usize {
        self.raw() as usize
    }

    /// The binary's first bytes and its path, for matching.
    pub(crate) fn candidate(&self) -> crate::matching::Candidate<'_> {
        // SAFETY: buf is filled before binfmts are asked; interp is a valid string
        // until bprm_change_interp(), which needs `&mut self`.
        unsafe {
            let raw = self.raw();
            crate::matching::Candidate {
                header: &(*raw).buf,
                path: CStr::from_char_ptr((*raw).interp).as_bytes(),
            }
        }
    }

    /// Whether exec cannot reopen the binary by path (fd of a close-on-exec file).
    pub(crate) fn path_inaccessible(&self) -> bool {
        // SAFETY: Reading a field of our exec's bprm.
        unsafe { (*self.raw()).interp_flags & b::BINPRM_FLAGS_PATH_INACCESSIBLE != 0 }
    }

    pub(crate) fn preserve_argv0(&mut self) {
        // SAFETY: We are the binfmt handling this exec.
        unsafe { (*self.raw()).interp_flags |= b::BINPRM_FLAGS_PRESERVE_ARGV0 };
    }

    pub(crate) fn remove_arg_zero(&mut self) -> Result {
        // SAFETY: `self` is the bprm of the running exec.
        to_result(unsafe { b::remove_arg_zero(self.raw()) })
    }

    fn push_arg_raw(&mut self, arg: *const kernel::ffi::c_char) -> Result {
        // SAFETY: `arg` is a NUL-terminated string; the bprm is ours.
        let ret = unsafe { b::copy_string_kernel(arg, self.raw()) };
        if ret < 0 {
            return Err(Error::from_errno(ret));
        }
        // SAFETY: As above; copy_string_kernel() leaves the count to the caller.
        unsafe { (*self.raw()).argc += 1 };
        Ok(())
    }

    /// Pushes the binary's own path as the next argument (pushed in reverse).
    pub(crate) fn push_own_path(&mut self) -> Result {
        // SAFETY: interp is valid until bprm_change_interp().
        let interp = unsafe { (*self.raw()).interp };
        self.push_arg_raw(interp)
    }

    pub(crate) fn push_arg(&mut self, arg: &CStr) -> Result {
        self.push_arg_raw(arg.as_char_ptr())
    }

    pub(crate) fn change_interp(&mut self, interp: &CStr) -> Result {
        // SAFETY: bprm_change_interp() copies the string.
        to_result(unsafe { b::bprm_change_interp(interp.as_char_ptr(), self.raw()) })
    }

    /// Hands the interpreter to exec, which releases it and its write denial.
    pub(crate) fn set_interpreter(&mut self, file: ExecFile) {
        // SAFETY: No binfmt before us set an interpreter for this round.
        unsafe { (*self.raw()).interpreter = file.into_raw() };
    }

    /// Passes the binary to the interpreter as a file descriptor (`O`), with its
    /// credentials (`C`) if `creds`.
    pub(crate) fn set_execfd(&mut self, creds: bool) {
        // SAFETY: Setting flags of our exec's bprm.
        unsafe { b::bmrs_binprm_set_execfd(self.raw(), creds) };
    }
}

/// An RCU read-side critical section. What [`RcuBox::read`] returns lives no
/// longer than the guard; nothing may sleep while one is held.
pub(crate) struct RcuReadGuard(PhantomData<*mut ()>);

impl RcuReadGuard {
    pub(crate) fn new() -> Self {
        // SAFETY: Paired with the unlock in `drop`, on this task: the raw pointer
        // makes the guard neither `Send` nor `Sync`.
        unsafe { b::bmrs_rcu_read_lock() };
        Self(PhantomData)
    }
}

impl Drop for RcuReadGuard {
    fn drop(&mut self) {
        // SAFETY: Locked in `new`, on this task.
        unsafe { b::bmrs_rcu_read_unlock() };
    }
}

/// A value an [`RcuBox`] publishes, with what it takes to free it after a grace
/// period without waiting for one: the `rcu_work` comes first, so a pointer to
/// it is a pointer to the node.
#[repr(C)]
struct RcuNode<T> {
    work: Opaque<b::rcu_work>,
    value: T,
}

/// An optional boxed `T` that readers use under RCU, without a lock, and that
/// writers replace whole, one at a time. A replaced value is freed after every
/// reader that could see it is done, on the module's workqueue: no writer waits
/// for a grace period. Exec reads the registry and the handler lists this way,
/// as upstream reads its handler list under RCU.
#[pin_data(PinnedDrop)]
pub(crate) struct RcuBox<T> {
    /// A `KBox<RcuNode<T>>` turned raw, or null for none.
    current: AtomicPtr<RcuNode<T>>,
    /// Serialises writers, which build the new value from the current one.
    #[pin]
    writer: Mutex<()>,
}

// SAFETY: Readers on any task get `&T` (so `T: Sync`); replaced values are dropped
// on a worker (so `T: Send`).
unsafe impl<T: Send + Sync> Send for RcuBox<T> {}
// SAFETY: As above.
unsafe impl<T: Send + Sync> Sync for RcuBox<T> {}

/// A value to publish in an [`RcuBox`], allocated before the writer changes
/// anything, so that publishing cannot fail.
pub(crate) struct RcuValue<T>(KBox<RcuNode<T>>);

impl<T> RcuValue<T> {
    pub(crate) fn new(value: T, flags: kernel::alloc::Flags) -> Result<Self> {
        Ok(Self(KBox::new(
            RcuNode {
                work: Opaque::uninit(),
                value,
            },
            flags,
        )?))
    }
}

impl<T: Send + Sync> RcuBox<T> {
    /// An empty box.
    pub(crate) fn new() -> impl PinInit<Self> {
        pin_init!(Self {
            current: AtomicPtr::new(ptr::null_mut()),
            writer <- new_mutex!(()),
        })
    }

    /// The current value, if any.
    pub(crate) fn read<'a>(&'a self, _guard: &'a RcuReadGuard) -> Option<&'a T> {
        // SAFETY: A non-null pointer is a live node: a replaced one is freed only
        // after a grace period, which cannot end while `_guard` is held.
        unsafe { self.current.load(Ordering::Acquire).as_ref() }.map(|n| &n.value)
    }

    /// Calls `f` with the current value, under the writer lock, and does what it
    /// says. A replaced value comes back as [`Retired`].
    pub(crate) fn update(
        &self,
        f: impl FnOnce(Option<&T>) -> Result<Update<T>>,
    ) -> Result<Option<Retired<T>>> {
        let _writer = self.writer.lock();
        // SAFETY: Only writers free values, and they hold the lock we hold.
        let current = unsafe { self.current.load(Ordering::Acquire).as_ref() };
        let Update::Replace(new) = f(current.map(|n| &n.value))? else {
            return Ok(None);
        };
        let new = new.map_or(ptr::null_mut(), |v| KBox::into_raw(v.0));
        // Release: readers see the new value's contents once they see the pointer.
        let old = self.current.swap(new, Ordering::AcqRel);
        Ok(NonNull::new(old).map(Retired))
    }
}

/// What [`RcuBox::update`] does.
pub(crate) enum Update<T> {
    /// Keeps the current value.
    Keep,
    /// Publishes a new value, or none.
    Replace(Option<RcuValue<T>>),
}

#[pinned_drop]
impl<T> PinnedDrop for RcuBox<T> {
    fn drop(self: Pin<&mut Self>) {
        let current = self.current.load(Ordering::Acquire);
        if !current.is_null() {
            // SAFETY: Whoever drops the box owns it: no reader or writer is left.
            drop(unsafe { KBox::from_raw(current) });
        }
    }
}

/// A value an [`RcuBox`] no longer publishes. Readable by the writer that replaced
/// it; dropping it queues its free for after a grace period, on the module's
/// workqueue, where it may sleep (closing files, say). Never waits.
///
/// # Invariants
///
/// The pointer is a node of the box's, no longer reachable through it, owned by
/// this value.
pub(crate) struct Retired<T: Send>(NonNull<RcuNode<T>>);

// SAFETY: The value is dropped on a worker, so it must be `Send`; the writer
// only reads it.
unsafe impl<T: Send + Sync> Send for Retired<T> {}

impl<T: Send> core::ops::Deref for Retired<T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: The node is freed only after `self` drops.
        unsafe { &self.0.as_ref().value }
    }
}

impl<T: Send> Drop for Retired<T> {
    fn drop(&mut self) {
        // SAFETY: The node is ours (type invariant) and its `work` unused: it is
        // queued once, here, and freed by `free_rcu_node::<T>` after a grace period,
        // when no reader can hold it. The module's exit waits for queued frees.
        unsafe {
            b::bmrs_queue_rcu_free(
                ptr::addr_of_mut!((*self.0.as_ptr()).work).cast(),
                Some(free_rcu_node::<T>),
            )
        };
    }
}

/// The work function of a retired node: frees it, a grace period after it was
/// replaced.
///
/// # Safety
///
/// Only as the work of a node queued by `Retired::drop`.
unsafe extern "C" fn free_rcu_node<T>(work: *mut b::work_struct) {
    // SAFETY: `work` is the first member of the node's `rcu_work`, the node's
    // first member (`repr(C)`): it points to the `KBox` that `Retired` gave up.
    drop(unsafe { KBox::from_raw(work.cast::<RcuNode<T>>()) });
}

/// A value set once, then read without a lock: what readers see is never
/// changed nor freed while the holder lives.
pub(crate) struct SetOnce<T>(AtomicPtr<T>);

// SAFETY: Readers on any task get `&T`; the value is dropped with the holder.
unsafe impl<T: Send + Sync> Send for SetOnce<T> {}
// SAFETY: As above.
unsafe impl<T: Send + Sync> Sync for SetOnce<T> {}

impl<T> SetOnce<T> {
    pub(crate) const fn new() -> Self {
        Self(AtomicPtr::new(ptr::null_mut()))
    }

    /// Sets the value; gives it back if one was set already.
    pub(crate) fn set(&self, value: KBox<T>) -> core::result::Result<(), KBox<T>> {
        let raw = KBox::into_raw(value);
        // Release: a reader that sees the pointer sees the value.
        match self
            .0
            .compare_exchange(ptr::null_mut(), raw, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => Ok(()),
            // SAFETY: Not published: still the box we made raw above.
            Err(_) => Err(unsafe { KBox::from_raw(raw) }),
        }
    }

    pub(crate) fn get(&self) -> Option<&T> {
        // SAFETY: A set value lives, unchanged, as long as `self`.
        unsafe { self.0.load(Ordering::Acquire).as_ref() }
    }
}

impl<T> Drop for SetOnce<T> {
    fn drop(&mut self) {
        let raw = *self.0.get_mut();
        if !raw.is_null() {
            // SAFETY: Set by `set` from a `KBox`, and nobody else can read it now.
            drop(unsafe { KBox::from_raw(raw) });
        }
    }
}

/// A value held for as long as some user holds it, as upstream's entry `users`
/// count keeps an entry's files: users are counted, a new one can only join
/// while another still holds the value, and the last to leave drops it.
///
/// # Invariants
///
/// `value` is `Some` while `users` is not zero, and is changed only by the user
/// that takes `users` to zero (or by drop).
pub(crate) struct UseCount<T> {
    users: AtomicUsize,
    /// Whether the creator has left.
    creator_left: AtomicBool,
    value: UnsafeCell<Option<T>>,
}

// SAFETY: Users on any task read `&T`; the last one, on any task, drops it.
unsafe impl<T: Send + Sync> Send for UseCount<T> {}
// SAFETY: As above.
unsafe impl<T: Send + Sync> Sync for UseCount<T> {}

impl<T> UseCount<T> {
    /// `value` with one user, the creator, which [`UseCount::leave_creator`] releases.
    pub(crate) fn new(value: T) -> Self {
        Self {
            users: AtomicUsize::new(1),
            creator_left: AtomicBool::new(false),
            value: UnsafeCell::new(Some(value)),
        }
    }

    /// The creator leaves (again: nothing); the value comes back if it was the
    /// last user, to drop where it may sleep.
    pub(crate) fn leave_creator(&self) -> Option<T> {
        if self.creator_left.swap(true, Ordering::AcqRel) {
            return None;
        }
        // SAFETY: The creator is a user until now, and leaves once.
        unsafe { self.leave() }
    }

    /// Joins as a user if the value is still held.
    fn join(&self) -> bool {
        self.users
            .fetch_update(Ordering::Acquire, Ordering::Relaxed, |n| {
                (n != 0).then(|| n + 1)
            })
            .is_ok()
    }

    /// Leaves; the last user gets the value, to drop where it may sleep.
    ///
    /// # Safety
    ///
    /// The caller must be a user: the creator, once, or one that joined.
    unsafe fn leave(&self) -> Option<T> {
        if self.users.fetch_sub(1, Ordering::AcqRel) != 1 {
            return None;
        }
        // SAFETY: No user is left and none can join, so nobody reads the value.
        unsafe { (*self.value.get()).take() }
    }

    /// The value, for a user.
    ///
    /// # Safety
    ///
    /// The caller must be a user.
    unsafe fn get(&self) -> &T {
        // SAFETY: While a user holds it, the value is `Some` and not changed
        // (type invariant).
        unsafe { (*self.value.get()).as_ref().unwrap_unchecked() }
    }
}

/// An object with a [`UseCount`].
///
/// # Safety
///
/// `use_count` must return the same [`UseCount`] every time it is called on an
/// object: [`InUse`] reads the value as a user of that count.
pub(crate) unsafe trait HasUseCount: Send + Sync {
    type Value;
    fn use_count(&self) -> &UseCount<Self::Value>;
}

/// A use of an object's value by one more user; leaves on drop.
pub(crate) struct InUse<C: HasUseCount>(Arc<C>);

impl<C: HasUseCount> InUse<C> {
    /// A new use of `object`'s value, unless it was released already.
    pub(crate) fn join(object: &Arc<C>) -> Option<Self> {
        object.use_count().join().then(|| Self(object.clone()))
    }

    pub(crate) fn value(&self) -> &C::Value {
        // SAFETY: `self` is a user.
        unsafe { self.0.use_count().get() }
    }

    pub(crate) fn object(&self) -> &Arc<C> {
        &self.0
    }
}

impl<C: HasUseCount> Drop for InUse<C> {
    fn drop(&mut self) {
        // SAFETY: `self` is a user, leaving once.
        drop(unsafe { self.0.use_count().leave() });
    }
}

/// The `seq_file` an entry file's text is written into, on the first read of
/// each open: every open reads one consistent text, sized as it needs, in
/// memory charged to the reader, as upstream's seq_file entry files.
///
/// # Invariants
///
/// The pointer is the seq_file being shown, for the duration of the show.
pub(crate) struct SeqText(*mut b::seq_file);

impl core::fmt::Write for SeqText {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        crate::format::ByteSink::write_bytes(self, s.as_bytes())
    }
}

impl crate::format::ByteSink for SeqText {
    fn write_bytes(&mut self, bytes: &[u8]) -> core::fmt::Result {
        // SAFETY: The seq_file is the one being shown (type invariant); seq_write() copies `bytes`,
        // or marks the buffer overflowed, after which seq_read() retries the show
        // with a larger one.
        match unsafe { b::seq_write(self.0, bytes.as_ptr().cast(), bytes.len()) } {
            0 => Ok(()),
            _ => Err(core::fmt::Error),
        }
    }
}

// ---- Callbacks ----

/// Copies `data` to userspace as simple_read_from_buffer() does.
///
/// # Safety
///
/// `buf`, `count` and `ppos` must be those of a read() file operation.
unsafe fn read_out(buf: *mut u8, count: usize, ppos: *mut b::loff_t, data: &[u8]) -> isize {
    // SAFETY: As the caller promises; `data` is a live slice.
    unsafe { b::simple_read_from_buffer(buf.cast(), count, ppos, data.as_ptr().cast(), data.len()) }
}

/// Reads and parses a command written to `status` or an entry file.
fn read_command(buf: *const u8, count: usize) -> Result<Command> {
    if count > grammar::MAX_COMMAND_LENGTH {
        return Err(EINVAL);
    }
    let mut bytes = [0u8; grammar::MAX_COMMAND_LENGTH];
    UserSlice::new(buf as usize, count)
        .reader()
        .read_slice(&mut bytes[..count])?;
    grammar::parse_command(&bytes[..count]).map_err(|_| EINVAL)
}

/// # Safety
///
/// Only as `file_system_type.init_fs_context`: called by the VFS with a context being set up.
unsafe extern "C" fn init_fs_context(fc: *mut b::fs_context) -> kernel::ffi::c_int {
    // SAFETY: The VFS passes a context being set up for us.
    unsafe { (*fc).ops = CONTEXT_OPS.get() };
    0
}

/// # Safety
///
/// Only as `fs_context_operations.get_tree`: called by the VFS with a set-up context.
unsafe extern "C" fn get_tree(fc: *mut b::fs_context) -> kernel::ffi::c_int {
    // SAFETY: fc->user_ns is held by the context.
    let ns: ARef<UserNamespace> = unsafe { UserNamespace::from_raw((*fc).user_ns) }.into();
    // The reference becomes the superblock's key: released by free_fs_context() if
    // no new superblock took it, else by kill_sb().
    let key = ARef::into_raw(ns).as_ptr();
    // SAFETY: `fill_super` has the signature get_tree_keyed() wants.
    unsafe { b::get_tree_keyed(fc, Some(fill_super), key.cast()) }
}

/// # Safety
///
/// Only as `fs_context_operations.free`: called by the VFS with a context being freed.
unsafe extern "C" fn free_fs_context(fc: *mut b::fs_context) {
    // SAFETY: The context is being freed; s_fs_info, if set, is our reference.
    let key = unsafe { (*fc).s_fs_info };
    if let Some(ns) = NonNull::new(key.cast::<UserNamespace>()) {
        // SAFETY: See `get_tree`.
        drop(unsafe { ARef::from_raw(ns) });
    }
}

/// # Safety
///
/// Only as `get_tree_keyed()` callback: called with a new superblock and its context.
unsafe extern "C" fn fill_super(
    sb: *mut b::super_block,
    _fc: *mut b::fs_context,
) -> kernel::ffi::c_int {
    // SAFETY: The VFS passes a new superblock that lives until kill_sb().
    let sb_ref = unsafe { SuperBlock::from_raw(sb) };
    from_result(|| {
        // The fscontext fd may have been passed to another user namespace.
        if current_user_ns_chain().next() != Some(sb_ref.user_ns().key()) {
            return Err(EINVAL);
        }
        // SAFETY: The superblock is not visible to anyone else yet.
        unsafe {
            (*sb).s_iflags |= (b::SB_I_NOEXEC | b::SB_I_NODEV) as kernel::ffi::c_ulong;
            (*sb).s_stack_depth = b::FILESYSTEM_MAX_STACK_DEPTH as _;
        }
        // SAFETY: `FILES` is a valid table ending with an empty name; `sb` is new.
        to_result(unsafe {
            b::simple_fill_super(sb, b::BINFMTFS_MAGIC as _, (*FILES.get()).as_ptr())
        })?;
        // SAFETY: simple_fill_super() made the root; nothing can look it up yet.
        unsafe { (*(*(*sb).s_root).d_inode).i_op = ROOT_IOPS.get() };
        fs::fill_super(sb_ref)?;
        // Our operations mark the superblock as counted by the registry.
        // SAFETY: As above.
        unsafe { (*sb).s_op = SUPER_OPS.get() };
        Ok(0)
    })
}

/// # Safety
///
/// Only as `file_system_type.kill_sb`: called by the VFS with a superblock being shut down.
unsafe extern "C" fn kill_sb(sb: *mut b::super_block) {
    // SAFETY: The superblock is being shut down; s_fs_info is the namespace
    // reference get_tree() gave it.
    unsafe {
        let counted = ptr::eq((*sb).s_op, SUPER_OPS.get());
        let ns_key = SuperBlock::from_raw(sb).user_ns().key();
        let ns = (*sb).s_fs_info;
        if counted {
            fs::shutdown_super(SuperBlock::from_raw(sb));
        }
        b::kill_litter_super(sb);
        fs::kill_super(ns_key, counted);
        if let Some(ns) = NonNull::new(ns.cast::<UserNamespace>()) {
            drop(ARef::from_raw(ns));
        }
    }
}

/// # Safety
///
/// Only as `inode_operations.unlink` of the root: called by the VFS with `dir`
/// locked and `dentry` a positive child of it.
unsafe extern "C" fn root_unlink(dir: *mut b::inode, dentry: *mut b::dentry) -> kernel::ffi::c_int {
    // SAFETY: As the VFS promises; entry inodes hold an `Arc<Entry>` in i_private
    // until eviction, which cannot come before the unlink; the fixed files have NULL.
    let (sb, private) = unsafe {
        (
            SuperBlock::from_raw((*dir).i_sb),
            (*(*dentry).d_inode).i_private,
        )
    };
    if private.is_null() {
        return EPERM.to_errno();
    }
    // SAFETY: See above.
    let entry = unsafe { ArcBorrow::<Entry>::from_raw(private.cast()) };
    // The VFS holds the root locked, as every change of the entry list wants.
    if let Err(e) = fs::unlink_entry(sb, &entry) {
        return e.to_errno();
    }
    // SAFETY: As the VFS promises; this drops the pin create_entry_file() took,
    // and the VFS deletes the dentry after we return.
    unsafe { b::simple_unlink(dir, dentry) }
}

/// # Safety
///
/// Only as `super_operations.evict_inode`: called by the VFS with an inode being evicted.
unsafe extern "C" fn evict_inode(inode: *mut b::inode) {
    // SAFETY: The inode is being evicted: nothing else uses it. Entry inodes own an
    // `Arc<Entry>` in i_private (see `create_entry_file`); other inodes have NULL.
    unsafe {
        b::clear_inode(inode);
        let private = (*inode).i_private;
        if !private.is_null() {
            (*inode).i_private = ptr::null_mut();
            let entry = Arc::from_raw(private.cast::<Entry>());
            fs::evict_entry(SuperBlock::from_raw((*inode).i_sb), entry);
        }
    }
}

/// # Safety
///
/// Only as `file_operations.read` of `status`: called by the VFS for an open status file.
unsafe extern "C" fn status_read(
    file: *mut b::file,
    buf: *mut u8,
    count: usize,
    ppos: *mut b::loff_t,
) -> isize {
    // SAFETY: The VFS passes an open status file.
    let file = unsafe { File::from_raw(file) };
    let text = fs::status_text(file.super_block());
    // SAFETY: Arguments of this read() operation.
    unsafe { read_out(buf, count, ppos, text.as_bytes()) }
}

/// A write() operation of one of our files. Every write is taken whole, as one
/// command or one registration, so it returns `count` or an error.
trait WriteOp {
    fn write(file: &File, buf: *const u8, count: usize) -> Result;
}

/// # Safety
///
/// Only as `file_operations.write` of the files whose operations name `W`: called
/// by the VFS for an open file.
unsafe extern "C" fn write_op<W: WriteOp>(
    file: *mut b::file,
    buf: *const u8,
    count: usize,
    _ppos: *mut b::loff_t,
) -> isize {
    // SAFETY: The VFS passes an open file.
    let file = unsafe { File::from_raw(file) };
    from_result(|| {
        W::write(file, buf, count)?;
        Ok(count as isize)
    })
}

struct StatusWrite;

impl WriteOp for StatusWrite {
    fn write(file: &File, buf: *const u8, count: usize) -> Result {
        fs::status_command(file.super_block(), read_command(buf, count)?)
    }
}

struct RegisterWrite;

impl WriteOp for RegisterWrite {
    fn write(file: &File, buf: *const u8, count: usize) -> Result {
        fs::register(file, UserSlice::new(buf as usize, count), count)
    }
}

struct EntryWrite;

impl WriteOp for EntryWrite {
    fn write(file: &File, buf: *const u8, count: usize) -> Result {
        // SAFETY: `EntryWrite` is only in `ENTRY_FOPS`, only installed on entry files.
        let entry = unsafe { file.entry() };
        let entry: Arc<Entry> = entry.into();
        if count > grammar::MAX_ENTRY_WRITE {
            return Err(E2BIG);
        }
        let mut first = [0u8; 1];
        if count > 0 {
            UserSlice::new(buf as usize, 1)
                .reader()
                .read_slice(&mut first)?;
        }
        if first[0] != b'+' {
            return fs::entry_command(file.super_block(), &entry, read_command(buf, count)?);
        }
        let mut input = KVec::with_capacity(count, GFP_KERNEL)?;
        UserSlice::new(buf as usize, count)
            .reader()
            .read_all(&mut input, GFP_KERNEL)?;
        fs::bind_interpreter(file, &entry, &input)
    }
}

/// # Safety
///
/// Only as `file_operations.open` of entry files: called by the VFS for a file
/// being opened on an entry inode.
unsafe extern "C" fn entry_open(inode: *mut b::inode, file: *mut b::file) -> kernel::ffi::c_int {
    // SAFETY: Entry inodes hold an `Arc<Entry>` in i_private until eviction, which
    // cannot come while a file is open on them; the seq_file passes it back to
    // `entry_show` as its private data.
    unsafe { b::bmrs_single_open_writable(file, Some(entry_show), (*inode).i_private) }
}

/// # Safety
///
/// Only as the show callback of an entry file's seq_file (`entry_open`).
unsafe extern "C" fn entry_show(
    m: *mut b::seq_file,
    _v: *mut core::ffi::c_void,
) -> kernel::ffi::c_int {
    // SAFETY: `entry_open` made the seq_file with the entry inode's `Arc<Entry>`
    // as private data; the open file keeps the inode, and so the entry, alive.
    let entry: Arc<Entry> = unsafe { ArcBorrow::<Entry>::from_raw((*m).private.cast()) }.into();
    // On overflow seq_read() retries with a larger buffer; nothing else fails.
    let _ = fs::entry_text(&entry, &mut SeqText(m));
    0
}

/// # Safety
///
/// Only as `linux_binfmt.load_binary`: called by exec with the bprm of the exec in progress.
unsafe extern "C" fn load_binary(bprm: *mut b::linux_binprm) -> kernel::ffi::c_int {
    // SAFETY: Exec passes its bprm, which only this binfmt touches during the call.
    let bprm = unsafe { &mut *bprm.cast::<BinPrm>() };
    from_result(|| exec::load_binary(bprm).map(|()| 0))
}
