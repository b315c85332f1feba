// SPDX-License-Identifier: GPL-2.0

//! File operations of a [`FileSystem`]'s files: a `#[vtable]` trait from
//! which [`FileOperationsVTable`] builds the C `file_operations`.

use super::bindings as b;
use super::c_table::zeroed;
use super::callback_state::CallbackState;
use super::exec_file::ExecFile;
use super::filesystem::{FileOperationsTable, FileSystem, SuperBlock};
use core::fmt;
use core::marker::PhantomData;
use kernel::error::{from_result, VTABLE_DEFAULT_ERROR};
use kernel::prelude::*;
use kernel::str::CStr;
use kernel::sync::ArcBorrow;
use kernel::types::Opaque;
use kernel::uaccess::UserPtr;

/// What the files of one kind do. A file is either a small text read whole
/// (`read_text`), or a seq_file (`show`), or neither; any may take writes.
#[vtable]
pub(crate) trait FileOperations: Sized + 'static {
    /// The filesystem the files belong to, whose state every call gets.
    type FileSystem: FileSystem;

    /// The C table of these operations, for files of [`Self::FileSystem`].
    const TABLE: FileOperationsTable<Self::FileSystem> = FileOperationsVTable::<Self>::table();

    /// The file's whole text, which read(2) copies from at the file position
    /// (simple_read_from_buffer()); lseek(2) as default_llseek().
    fn read_text(_fs: &Self::FileSystem, _file: &File<Self::FileSystem>) -> &'static [u8] {
        kernel::build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// The text of a file created at run time, written once on the first read
    /// of each open (single_open()) into a buffer that grows as it needs, so
    /// that every open reads one consistent text; lseek(2) as seq_lseek().
    fn show(
        _fs: &Self::FileSystem,
        _data: ArcBorrow<'_, <Self::FileSystem as FileSystem>::FileData>,
        _out: &mut SeqFile,
    ) -> fmt::Result {
        kernel::build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// A write(2) of `count` bytes at `buf`, taken whole: it returns `count`
    /// or the error.
    fn write(
        _fs: &Self::FileSystem,
        _file: &File<Self::FileSystem>,
        _buf: UserPtr,
        _count: usize,
    ) -> Result {
        kernel::build_error!(VTABLE_DEFAULT_ERROR)
    }
}

/// The `file_operations` of `F`.
pub(crate) struct FileOperationsVTable<F>(PhantomData<F>);

impl<F: FileOperations> FileOperationsVTable<F> {
    const VTABLE: b::file_operations = b::file_operations {
        open: if F::HAS_SHOW { Some(open::<F>) } else { None },
        read: if F::HAS_SHOW {
            Some(b::seq_read)
        } else if F::HAS_READ_TEXT {
            Some(read::<F>)
        } else {
            None
        },
        write: if F::HAS_WRITE { Some(write::<F>) } else { None },
        llseek: Some(if F::HAS_SHOW {
            b::seq_lseek
        } else if F::HAS_READ_TEXT {
            b::default_llseek
        } else {
            b::noop_llseek
        }),
        release: if F::HAS_SHOW {
            Some(b::single_release)
        } else {
            None
        },
        ..zeroed!()
    };

    const fn table() -> FileOperationsTable<F::FileSystem> {
        // SAFETY: The callbacks expect files of `F::FileSystem`, and `F`'s are
        // the only operations they call.
        unsafe { FileOperationsTable::new(&Self::VTABLE) }
    }
}

/// An open `struct file` of filesystem type `T`, borrowed from a file operation.
#[repr(transparent)]
pub(crate) struct File<T: FileSystem>(Opaque<b::file>, PhantomData<fn() -> T>);

impl<T: FileSystem> File<T> {
    /// # Safety
    ///
    /// `ptr` must be an open file of type `T` for the returned lifetime.
    unsafe fn from_raw<'a>(ptr: *mut b::file) -> &'a Self {
        // SAFETY: `Self` is a transparent wrapper; the rest is the caller's.
        unsafe { &*ptr.cast() }
    }

    fn as_ptr(&self) -> *mut b::file {
        self.0.get()
    }

    fn inode(&self) -> *mut b::inode {
        // SAFETY: An open file has a fixed inode.
        unsafe { (*self.as_ptr()).f_inode }
    }

    pub(crate) fn super_block(&self) -> &SuperBlock<T> {
        // SAFETY: The open file keeps its superblock, set up, alive.
        unsafe { SuperBlock::from_raw((*self.inode()).i_sb) }
    }

    /// The data of a file created at run time; `None` for a fixed file.
    pub(crate) fn data(&self) -> Option<ArcBorrow<'_, T::FileData>> {
        // SAFETY: Files created at run time hold their data in i_private until
        // eviction, which cannot happen while the file is open; the root and
        // the fixed files have NULL.
        unsafe {
            let private = (*self.inode()).i_private;
            (!private.is_null()).then(|| ArcBorrow::from_raw(private.cast()))
        }
    }

    /// Opens `path` for exec with the credentials this file was opened with.
    pub(crate) fn open_exec_as_opener(&self, path: &CStr) -> Result<ExecFile> {
        // SAFETY: f_cred is held by the open file.
        unsafe { ExecFile::open_as((*self.as_ptr()).f_cred, path) }
    }
}

/// The `seq_file` a text is shown into ([`FileOperations::show`]).
///
/// # Invariants
///
/// The pointer is the seq_file being shown, for the duration of the show.
pub(crate) struct SeqFile(*mut b::seq_file);

impl SeqFile {
    /// Appends `bytes` as they are; fails once the buffer is full, after which
    /// seq_read() shows again with a larger one.
    pub(crate) fn write_bytes(&mut self, bytes: &[u8]) -> fmt::Result {
        // SAFETY: The seq_file is the one being shown (type invariant);
        // seq_write() copies `bytes`, or marks the buffer overflowed.
        match unsafe { b::seq_write(self.0, bytes.as_ptr().cast(), bytes.len()) } {
            0 => Ok(()),
            _ => Err(fmt::Error),
        }
    }
}

impl fmt::Write for SeqFile {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.write_bytes(s.as_bytes())
    }
}

/// The state of `F`'s file system.
///
/// # Safety
///
/// Only from a file operation of `F`: the open file holds a module reference,
/// so the filesystem's registration is live.
unsafe fn state<'a, F: FileOperations>() -> &'a F::FileSystem {
    // SAFETY: As the caller promises.
    unsafe { CallbackState::<F::FileSystem>::get() }
}

/// # Safety
///
/// Only as `file_operations.open` of `F`: called by the VFS for a file being
/// opened on an inode of `F`'s filesystem.
unsafe extern "C" fn open<F: FileOperations>(
    inode: *mut b::inode,
    file: *mut b::file,
) -> kernel::ffi::c_int {
    // SAFETY: As the VFS promises.
    let data = unsafe { (*inode).i_private };
    // `show` needs the data of a file created at run time.
    if data.is_null() {
        return EINVAL.to_errno();
    }
    // SAFETY: Files created at run time hold their data in i_private until
    // eviction, which cannot come while a file is open on them; the seq_file
    // passes it back to `show` as its private data.
    unsafe { b::bmrs_single_open_writable(file, Some(show::<F>), data) }
}

/// # Safety
///
/// Only as the show callback of a seq_file that `open::<F>` made.
unsafe extern "C" fn show<F: FileOperations>(
    m: *mut b::seq_file,
    _v: *mut core::ffi::c_void,
) -> kernel::ffi::c_int {
    // SAFETY: `open` made the seq_file with the inode's data as private data;
    // the open file keeps the inode, and so the data, alive.
    let data = unsafe { ArcBorrow::from_raw((*m).private.cast()) };
    // SAFETY: See `state`.
    let fs = unsafe { state::<F>() };
    // On overflow seq_read() retries with a larger buffer; nothing else fails.
    let _ = F::show(fs, data, &mut SeqFile(m));
    0
}

/// # Safety
///
/// Only as `file_operations.read` of `F`: called by the VFS for an open file.
unsafe extern "C" fn read<F: FileOperations>(
    file: *mut b::file,
    buf: *mut kernel::ffi::c_char,
    count: usize,
    ppos: *mut b::loff_t,
) -> isize {
    // SAFETY: The VFS passes an open file of ours.
    let (fs, file) = unsafe { (state::<F>(), File::from_raw(file)) };
    let text = F::read_text(fs, file);
    // SAFETY: Arguments of this read() operation; `text` is a live slice.
    unsafe { b::simple_read_from_buffer(buf.cast(), count, ppos, text.as_ptr().cast(), text.len()) }
}

/// # Safety
///
/// Only as `file_operations.write` of `F`: called by the VFS for an open file.
unsafe extern "C" fn write<F: FileOperations>(
    file: *mut b::file,
    buf: *const kernel::ffi::c_char,
    count: usize,
    _ppos: *mut b::loff_t,
) -> isize {
    // SAFETY: The VFS passes an open file of ours.
    let (fs, file) = unsafe { (state::<F>(), File::from_raw(file)) };
    from_result(|| {
        F::write(fs, file, buf as UserPtr, count)?;
        Ok(count as isize)
    })
}
