// SPDX-License-Identifier: GPL-2.0

//! Filesystem types whose superblocks are keyed by the mounter's user namespace
//! (get_tree_keyed()), mountable by a user namespace's owner, with files fixed
//! at mount and files created at run time. A [`FileSystem`] is behind every
//! callback; the C tables are built from it, in a static the user declares
//! ([`FileSystemType::new`]).

use super::bindings as b;
use super::c_table::{zeroed, CTable};
use super::callback_state::{CallbackState, HasCallbackState};
use super::user_ns::{current_user_ns_chain, NsKey, UserNamespace};
use core::marker::PhantomData;
use core::ptr::{self, NonNull};
use core::sync::atomic::{AtomicBool, Ordering};
use kernel::error::{from_err_ptr, from_result, to_result};
use kernel::prelude::*;
use kernel::str::CStr;
use kernel::sync::{Arc, ArcBorrow};
use kernel::types::{ARef, AlwaysRefCounted, Opaque};
use kernel::{c_str, ThisModule};

/// `BINFMTFS_MAGIC` of `<linux/magic.h>`.
pub(crate) const BINFMTFS_MAGIC: u32 = b::BINFMTFS_MAGIC;

/// A filesystem type: what its superblocks do when made, shut down and killed,
/// and what becomes of the files created at run time. Its superblocks are
/// keyed by the user namespace of the mount context, which must be the
/// mounter's, and are `noexec` and `nodev`, with no filesystem stacked on them.
pub(crate) trait FileSystem: HasCallbackState {
    const NAME: &'static CStr;
    const MAGIC: u32;
    /// The files every superblock starts with (simple_fill_super()).
    const FILES: &'static [FixedFile<Self>];
    /// What a file created at run time holds ([`RootGuard::create_file`]).
    type FileData: Send + Sync;

    /// A new superblock, with its fixed files, is being set up. If this
    /// succeeds, [`FileSystem::shutdown_super`] is called when it goes.
    fn fill_super(&self, sb: &SuperBlock<Self>) -> Result;

    /// A superblock that [`FileSystem::fill_super`] set up is being shut down;
    /// its files are still there.
    fn shutdown_super(&self, sb: &SuperBlock<Self>);

    /// A superblock of user namespace `ns` is gone, its files with it; `filled`
    /// says whether [`FileSystem::fill_super`] had set it up.
    fn kill_super(&self, ns: NsKey, filled: bool);

    /// unlink(2) of a file created at run time: the VFS holds the root locked,
    /// and removes the file if this succeeds. The fixed files are `EPERM`.
    fn unlink(&self, sb: &SuperBlock<Self>, data: ArcBorrow<'_, Self::FileData>) -> Result;

    /// The inode of a file created at run time is evicted: its data comes back.
    fn evict(&self, sb: &SuperBlock<Self>, data: Arc<Self::FileData>);
}

/// The `file_operations` of one kind of file of filesystem type `T`, which
/// `FileOperations::TABLE` (file.rs) builds.
///
/// # Invariants
///
/// The table's callbacks expect the files of a superblock of type `T`.
pub(crate) struct FileOperationsTable<T: FileSystem> {
    table: &'static b::file_operations,
    _fs: PhantomData<fn() -> T>,
}

impl<T: FileSystem> Clone for FileOperationsTable<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: FileSystem> Copy for FileOperationsTable<T> {}

impl<T: FileSystem> FileOperationsTable<T> {
    /// # Safety
    ///
    /// The callbacks of `table` must expect the files of a superblock of type `T`.
    pub(super) const unsafe fn new(table: &'static b::file_operations) -> Self {
        Self {
            table,
            _fs: PhantomData,
        }
    }
}

/// A file every superblock of `T` starts with.
pub(crate) struct FixedFile<T: FileSystem> {
    name: &'static CStr,
    ops: FileOperationsTable<T>,
    mode: u32,
}

impl<T: FileSystem> FixedFile<T> {
    /// A regular file named `name`, with permissions `mode` and operations `ops`.
    pub(crate) const fn new(name: &'static CStr, mode: u32, ops: FileOperationsTable<T>) -> Self {
        Self { name, ops, mode }
    }
}

/// Most fixed files a filesystem type may have.
const MAX_FIXED_FILES: usize = 4;

/// The C tables of filesystem type `T`: declare one as a static.
///
/// # Invariants
///
/// `fs_type` comes first: a pointer to it is a pointer to the whole.
#[repr(C)]
pub(crate) struct FileSystemType<T: FileSystem> {
    fs_type: CTable<b::file_system_type>,
    context_ops: CTable<b::fs_context_operations>,
    super_ops: CTable<b::super_operations>,
    root_dir_ops: CTable<b::inode_operations>,
    registered: AtomicBool,
    _fs: PhantomData<fn() -> T>,
}

impl<T: FileSystem> FileSystemType<T> {
    pub(crate) const fn new() -> Self {
        Self {
            fs_type: CTable::new(b::file_system_type {
                name: T::NAME.as_char_ptr(),
                init_fs_context: Some(init_fs_context::<T>),
                kill_sb: Some(kill_sb::<T>),
                fs_flags: b::FS_USERNS_MOUNT as _,
                ..zeroed!()
            }),
            context_ops: CTable::new(b::fs_context_operations {
                free: Some(free_fs_context::<T>),
                get_tree: Some(get_tree::<T>),
                ..zeroed!()
            }),
            super_ops: CTable::new(b::super_operations {
                statfs: Some(b::simple_statfs),
                evict_inode: Some(evict_inode::<T>),
                ..zeroed!()
            }),
            // simple_dir_inode_operations, plus unlink(2) of the files created
            // at run time.
            root_dir_ops: CTable::new(b::inode_operations {
                lookup: Some(b::simple_lookup),
                unlink: Some(root_unlink::<T>),
                ..zeroed!()
            }),
            registered: AtomicBool::new(false),
            _fs: PhantomData,
        }
    }

    /// The tables a `struct file_system_type` of ours belongs to.
    ///
    /// # Safety
    ///
    /// `fs_type` must be the `fs_type` of a `FileSystemType<T>`.
    unsafe fn from_fs_type<'a>(fs_type: *mut b::file_system_type) -> &'a Self {
        // SAFETY: `fs_type` is the first member (type invariant) of a static.
        unsafe { &*fs_type.cast::<Self>() }
    }
}

/// A registered filesystem type.
///
/// # Invariants
///
/// `fs_type` is registered from `new` until `drop`.
pub(crate) struct Registration<T: FileSystem> {
    fs_type: &'static FileSystemType<T>,
    _state: Arc<T>,
}

impl<T: FileSystem> Registration<T> {
    pub(crate) fn new(
        fs_type: &'static FileSystemType<T>,
        module: &'static ThisModule,
        state: Arc<T>,
    ) -> Result<Self> {
        CallbackState::publish(&state)?;
        if fs_type.registered.swap(true, Ordering::AcqRel) {
            return Err(EBUSY);
        }
        // SAFETY: Not registered (checked above), so nothing else reads the table.
        unsafe { (*fs_type.fs_type.get()).owner = module.as_ptr().cast() };
        // SAFETY: A valid, static file_system_type.
        if let Err(e) = to_result(unsafe { b::register_filesystem(fs_type.fs_type.get()) }) {
            fs_type.registered.store(false, Ordering::Release);
            return Err(e);
        }
        Ok(Self {
            fs_type,
            _state: state,
        })
    }
}

impl<T: FileSystem> Drop for Registration<T> {
    fn drop(&mut self) {
        // SAFETY: Registered in `new`. Every superblock and mount context holds a
        // module reference through the type, so no callback is running or can
        // start once this returns, provided the module is going away: a
        // registration is dropped only by module exit or by a failed init
        // before anything could mount (the module's init registers nothing
        // fallible after the filesystem).
        unsafe { b::unregister_filesystem(self.fs_type.fs_type.get()) };
        self.fs_type.registered.store(false, Ordering::Release);
    }
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

/// A `struct super_block` of filesystem type `T`, borrowed from a callback.
#[repr(transparent)]
pub(crate) struct SuperBlock<T: FileSystem>(Opaque<b::super_block>, PhantomData<fn() -> T>);

impl<T: FileSystem> SuperBlock<T> {
    /// # Safety
    ///
    /// `ptr` must be a live superblock of type `T` for the returned lifetime,
    /// whose root is set up unless only [`SuperBlock::user_ns`] is used.
    pub(super) unsafe fn from_raw<'a>(ptr: *mut b::super_block) -> &'a Self {
        // SAFETY: `Self` is a transparent wrapper; liveness is the caller's.
        unsafe { &*ptr.cast() }
    }

    fn as_ptr(&self) -> *mut b::super_block {
        self.0.get()
    }

    /// The user namespace the superblock belongs to.
    pub(crate) fn user_ns(&self) -> &UserNamespace {
        // SAFETY: s_user_ns is set at allocation and held until the sb is freed.
        unsafe { UserNamespace::from_raw((*self.as_ptr()).s_user_ns) }
    }

    fn root_inode(&self) -> *mut b::inode {
        // SAFETY: The root is set up (see `from_raw`) and lives as long as the sb.
        unsafe { (*(*self.as_ptr()).s_root).d_inode }
    }

    /// Locks the root directory, as every creation and removal of its files
    /// wants.
    pub(crate) fn lock_root(&self) -> RootGuard<'_, T> {
        // SAFETY: The root inode lives as long as the superblock.
        unsafe { b::bmrs_inode_lock(self.root_inode()) };
        RootGuard { sb: self }
    }
}

/// The locked root directory of a superblock.
pub(crate) struct RootGuard<'a, T: FileSystem> {
    sb: &'a SuperBlock<T>,
}

impl<T: FileSystem> Drop for RootGuard<'_, T> {
    fn drop(&mut self) {
        // SAFETY: Locked in `SuperBlock::lock_root`.
        unsafe { b::bmrs_inode_unlock(self.sb.root_inode()) };
    }
}

impl<T: FileSystem> RootGuard<'_, T> {
    /// Checked against 6.12: later kernels replace the `lookup_one_len()` family.
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

    /// Creates the regular file `name` with permissions `mode` and operations
    /// `ops`, `EEXIST` if the name is taken. The inode owns `data` until it is
    /// evicted ([`FileSystem::evict`]).
    pub(crate) fn create_file(
        &self,
        name: &CStr,
        mode: u32,
        ops: FileOperationsTable<T>,
        data: Arc<T::FileData>,
    ) -> Result {
        let dentry = self.lookup(name)?;
        if dentry.is_positive() {
            return Err(EEXIST);
        }
        let sb = self.sb.as_ptr();
        // SAFETY: `sb` is live; new_inode() returns an initialised inode or NULL.
        let inode = unsafe { b::new_inode(sb) };
        if inode.is_null() {
            return Err(ENOMEM);
        }
        // Checked against 6.12: `i_fop` is in the inode's third anonymous union.
        // SAFETY: `inode` is new and ours until instantiated; `dentry` is a negative
        // dentry under the locked root. The extra dget() is the reference that pins
        // the file in the filesystem, as in upstream, until unlink or unmount.
        unsafe {
            (*inode).i_ino = b::get_next_ino() as _;
            (*inode).i_mode = (b::S_IFREG | mode) as _;
            b::simple_inode_init_ts(inode);
            (*inode).__bindgen_anon_3.i_fop = ops.table;
            (*inode).i_private = Arc::into_raw(data).cast_mut().cast();
            b::d_instantiate(dentry.as_ptr(), inode);
            b::bmrs_dget(dentry.as_ptr());
        }
        Ok(())
    }

    /// Removes the file `name`, created at run time, if it is still there. The
    /// caller may lack search permission on the directory: not checked, as
    /// upstream's removal of entries does not check it.
    pub(crate) fn remove_file(&self, name: &CStr) {
        // SAFETY: The root is locked; `name` is NUL-terminated.
        let found = unsafe { b::bmrs_lookup_entry((*self.sb.as_ptr()).s_root, name.as_char_ptr()) };
        let Ok(found) = from_err_ptr(found) else {
            return;
        };
        let Some(found) = NonNull::new(found) else {
            return;
        };
        // SAFETY: d_hash_and_lookup() returned a referenced dentry.
        let dentry: ARef<Dentry> = unsafe { ARef::from_raw(found.cast()) };
        // SAFETY: The root is locked; a positive, hashed dentry under it is a file
        // pinned by `create_file`, whose pin simple_unlink() drops.
        unsafe {
            if b::bmrs_simple_positive(dentry.as_ptr()) {
                b::simple_unlink(self.sb.root_inode(), dentry.as_ptr());
                b::d_delete(dentry.as_ptr());
            }
        }
    }
}

/// The state of `T`'s callbacks.
///
/// # Safety
///
/// Only from a callback of `T`'s tables: a mount context, superblock or open
/// file holds a module reference, so the registration is live.
unsafe fn state<'a, T: FileSystem>() -> &'a T {
    // SAFETY: As the caller promises.
    unsafe { CallbackState::<T>::get() }
}

/// # Safety
///
/// Only as `file_system_type.init_fs_context` of a [`FileSystemType<T>`]:
/// called by the VFS with a context being set up.
unsafe extern "C" fn init_fs_context<T: FileSystem>(fc: *mut b::fs_context) -> kernel::ffi::c_int {
    // SAFETY: The VFS passes a context being set up for our type.
    unsafe {
        let tables = FileSystemType::<T>::from_fs_type((*fc).fs_type);
        (*fc).ops = tables.context_ops.get();
    }
    0
}

/// # Safety
///
/// Only as `fs_context_operations.get_tree`: called by the VFS with a set-up context.
unsafe extern "C" fn get_tree<T: FileSystem>(fc: *mut b::fs_context) -> kernel::ffi::c_int {
    // SAFETY: fc->user_ns is held by the context.
    let ns: ARef<UserNamespace> = unsafe { UserNamespace::from_raw((*fc).user_ns) }.into();
    // The reference becomes the superblock's key: released by free_fs_context() if
    // no new superblock took it, else by kill_sb().
    let key = ARef::into_raw(ns).as_ptr();
    // SAFETY: `fill_super` has the signature get_tree_keyed() wants.
    unsafe { b::get_tree_keyed(fc, Some(fill_super::<T>), key.cast()) }
}

/// # Safety
///
/// Only as `fs_context_operations.free`: called by the VFS with a context being freed.
unsafe extern "C" fn free_fs_context<T: FileSystem>(fc: *mut b::fs_context) {
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
unsafe extern "C" fn fill_super<T: FileSystem>(
    sb: *mut b::super_block,
    _fc: *mut b::fs_context,
) -> kernel::ffi::c_int {
    // SAFETY: The VFS passes a new superblock of our type that lives until
    // kill_sb(); its root is set up below before anything else needs it.
    let (sb_ref, tables) = unsafe {
        (
            SuperBlock::<T>::from_raw(sb),
            FileSystemType::<T>::from_fs_type((*sb).s_type),
        )
    };
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
        // Indexed by inode number, as simple_fill_super() wants: 0 and 1 (the
        // root) unused, then the files, then an empty name to end them.
        const { assert!(T::FILES.len() <= MAX_FIXED_FILES) };
        let mut files: [b::tree_descr; MAX_FIXED_FILES + 3] = zeroed!();
        for (descr, file) in files[2..].iter_mut().zip(T::FILES) {
            *descr = b::tree_descr {
                name: file.name.as_char_ptr(),
                ops: file.ops.table,
                mode: file.mode as _,
            };
        }
        files[2 + T::FILES.len()].name = c_str!("").as_char_ptr();
        // SAFETY: `files` is a valid table ending with an empty name, which
        // simple_fill_super() reads only during the call; `sb` is new.
        to_result(unsafe { b::simple_fill_super(sb, T::MAGIC as _, files.as_ptr()) })?;
        // SAFETY: simple_fill_super() made the root; nothing can look it up yet.
        unsafe { (*(*(*sb).s_root).d_inode).i_op = tables.root_dir_ops.get() };
        // SAFETY: See `state`.
        unsafe { state::<T>() }.fill_super(sb_ref)?;
        // Our operations mark the superblock as set up (see `kill_sb`).
        // SAFETY: As above.
        unsafe { (*sb).s_op = tables.super_ops.get() };
        Ok(0)
    })
}

/// # Safety
///
/// Only as `file_system_type.kill_sb` of a [`FileSystemType<T>`]: called by the
/// VFS with a superblock being shut down.
unsafe extern "C" fn kill_sb<T: FileSystem>(sb: *mut b::super_block) {
    // SAFETY: See `state`.
    let state = unsafe { state::<T>() };
    // SAFETY: The superblock is being shut down; s_fs_info is the namespace
    // reference get_tree() gave it. With our operations, fill_super() set it up.
    unsafe {
        let tables = FileSystemType::<T>::from_fs_type((*sb).s_type);
        let filled = ptr::eq((*sb).s_op, tables.super_ops.get());
        let ns_key = SuperBlock::<T>::from_raw(sb).user_ns().key();
        let ns = (*sb).s_fs_info;
        if filled {
            state.shutdown_super(SuperBlock::from_raw(sb));
        }
        b::kill_litter_super(sb);
        state.kill_super(ns_key, filled);
        if let Some(ns) = NonNull::new(ns.cast::<UserNamespace>()) {
            drop(ARef::from_raw(ns));
        }
    }
}

/// # Safety
///
/// Only as `inode_operations.unlink` of the root: called by the VFS with `dir`
/// locked and `dentry` a positive child of it.
unsafe extern "C" fn root_unlink<T: FileSystem>(
    dir: *mut b::inode,
    dentry: *mut b::dentry,
) -> kernel::ffi::c_int {
    // SAFETY: As the VFS promises; files created at run time hold their data in
    // i_private until eviction, which cannot come before the unlink; the fixed
    // files have NULL.
    let (sb, private) = unsafe {
        (
            SuperBlock::<T>::from_raw((*dir).i_sb),
            (*(*dentry).d_inode).i_private,
        )
    };
    if private.is_null() {
        return EPERM.to_errno();
    }
    // SAFETY: See above.
    let data = unsafe { ArcBorrow::<T::FileData>::from_raw(private.cast()) };
    // SAFETY: See `state`.
    if let Err(e) = unsafe { state::<T>() }.unlink(sb, data) {
        return e.to_errno();
    }
    // SAFETY: As the VFS promises; this drops the pin create_file() took,
    // and the VFS deletes the dentry after we return.
    unsafe { b::simple_unlink(dir, dentry) }
}

/// # Safety
///
/// Only as `super_operations.evict_inode`: called by the VFS with an inode being evicted.
unsafe extern "C" fn evict_inode<T: FileSystem>(inode: *mut b::inode) {
    // SAFETY: The inode is being evicted: nothing else uses it. Files created at
    // run time own their data in i_private (see `create_file`); others have NULL.
    unsafe {
        b::clear_inode(inode);
        let private = (*inode).i_private;
        if !private.is_null() {
            (*inode).i_private = ptr::null_mut();
            let data = Arc::from_raw(private.cast::<T::FileData>());
            state::<T>().evict(SuperBlock::from_raw((*inode).i_sb), data);
        }
    }
}
