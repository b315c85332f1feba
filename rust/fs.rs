// SPDX-License-Identifier: GPL-2.0

//! The binfmt_misc filesystem: `register`, `status` and one file per entry, with
//! upstream's semantics and error codes.

#![forbid(unsafe_code)]

use crate::entry::{Binding, Entry, EntryState};
use crate::format::{status_text as text_of_status, ByteSink};
use crate::grammar::{self, Command, Matcher};
use crate::instance::{Instance, Registry, RetiredEntries};
use crate::kernel_ext::file::{File, FileOperations, SeqFile};
use crate::kernel_ext::filesystem::{
    FileSystem, FileSystemType, FixedFile, RootGuard, SuperBlock, BINFMTFS_MAGIC,
};
use crate::kernel_ext::slots::Slots;
use crate::kernel_ext::user_ns::NsKey;
use crate::kernel_ext::workqueue::{schedule_delayed_work, DelayedWork};
use kernel::c_str;
use kernel::prelude::*;
use kernel::str::CStr;
use kernel::sync::{Arc, ArcBorrow};
use kernel::uaccess::{UserPtr, UserSlice};

/// The filesystem type's C tables.
pub(crate) static FS_TYPE: FileSystemType<Registry> = FileSystemType::new();

type Sb = SuperBlock<Registry>;

impl FileSystem for Registry {
    const NAME: &'static CStr = c_str!("binfmt_misc");
    const MAGIC: u32 = BINFMTFS_MAGIC;
    const FILES: &'static [FixedFile<Self>] = &[
        // rw-r--r--
        FixedFile::new(c_str!("status"), 0o644, StatusFile::TABLE),
        // -w-------
        FixedFile::new(c_str!("register"), 0o200, RegisterFile::TABLE),
    ];
    type FileData = Entry;

    /// A new superblock uses its user namespace's instance, made on first mount.
    fn fill_super(&self, sb: &Sb) -> Result {
        self.mount(sb.user_ns()).map(drop)
    }

    /// Its entries go, as upstream's go with their inodes, all at once here so
    /// that exec stops seeing them in one step.
    fn shutdown_super(&self, sb: &Sb) {
        if let Ok(instance) = instance_of(self, sb) {
            drop(instance.take_all());
        }
    }

    fn kill_super(&self, ns: NsKey, filled: bool) {
        if filled {
            self.unmount(ns);
        }
        if self.collect() {
            schedule_delayed_work(self.first_collect_delay());
        }
    }

    /// The VFS holds the root locked, as every change of the entry list wants.
    fn unlink(&self, sb: &Sb, entry: ArcBorrow<'_, Entry>) -> Result {
        drop(instance_of(self, sb)?.remove(&entry)?);
        Ok(())
    }

    /// Its entry has left the list already: the pin on the file goes only with
    /// removal, unlink or unmount (see `shutdown_super`). Should it be there, it
    /// goes now.
    fn evict(&self, sb: &Sb, entry: Arc<Entry>) {
        if let Ok(instance) = instance_of(self, sb) {
            drop(instance.remove(&entry));
        }
        // The file was the entry's first user: its files close now unless an exec
        // still uses them, as upstream's last put_binfmt_handler().
        drop(entry.release_file());
    }
}

/// The delayed collection of unused namespaces' instances; see
/// [`Registry::collect`].
impl DelayedWork for Registry {
    fn run(&self) {
        if self.collect() {
            schedule_delayed_work(self.next_collect_delay());
        }
    }
}

/// The instance of a live superblock.
fn instance_of(registry: &Registry, sb: &Sb) -> Result<Arc<Instance>> {
    // The superblock holds its namespace, so the registry holds the instance.
    registry.by_ns(sb.user_ns().key()).ok_or(ENODEV)
}

/// Removes the files of entries taken out of an instance.
fn remove_files(
    root: &RootGuard<'_, Registry>,
    (retired, staged): &(RetiredEntries, Slots<Arc<Entry>>),
) {
    let published = retired.iter().flat_map(|list| list.iter());
    for entry in Iterator::chain(published, staged.iter()) {
        root.remove_file(entry.name());
    }
}

/// Reads and parses a command written to `status` or an entry file.
fn read_command(buf: UserPtr, count: usize) -> Result<Command> {
    if count > grammar::MAX_COMMAND_LENGTH {
        return Err(EINVAL);
    }
    let mut bytes = [0u8; grammar::MAX_COMMAND_LENGTH];
    UserSlice::new(buf, count)
        .reader()
        .read_slice(&mut bytes[..count])?;
    grammar::parse_command(&bytes[..count]).map_err(|_| EINVAL)
}

/// `status`.
struct StatusFile;

#[vtable]
impl FileOperations for StatusFile {
    type FileSystem = Registry;

    fn read_text(registry: &Registry, file: &File<Registry>) -> &'static [u8] {
        let enabled = instance_of(registry, file.super_block()).is_ok_and(|i| i.is_enabled());
        text_of_status(enabled).as_bytes()
    }

    fn write(registry: &Registry, file: &File<Registry>, buf: UserPtr, count: usize) -> Result {
        status_command(registry, file.super_block(), read_command(buf, count)?)
    }
}

/// `register`.
struct RegisterFile;

#[vtable]
impl FileOperations for RegisterFile {
    type FileSystem = Registry;

    fn write(registry: &Registry, file: &File<Registry>, buf: UserPtr, count: usize) -> Result {
        register(registry, file, UserSlice::new(buf, count), count)
    }
}

/// The file of an entry.
struct EntryFile;

#[vtable]
impl FileOperations for EntryFile {
    type FileSystem = Registry;

    fn show(
        _registry: &Registry,
        entry: ArcBorrow<'_, Entry>,
        out: &mut SeqFile,
    ) -> core::fmt::Result {
        let entry: Arc<Entry> = entry.into();
        Entry::write_text(&entry, &mut SeqText(out))
    }

    fn write(registry: &Registry, file: &File<Registry>, buf: UserPtr, count: usize) -> Result {
        // Entry files are the only files with data.
        let entry: Arc<Entry> = file.data().ok_or(EINVAL)?.into();
        if count > grammar::MAX_ENTRY_WRITE {
            return Err(E2BIG);
        }
        let mut first = [0u8; 1];
        if count > 0 {
            UserSlice::new(buf, 1).reader().read_slice(&mut first)?;
        }
        if first[0] != b'+' {
            return entry_command(
                registry,
                file.super_block(),
                &entry,
                read_command(buf, count)?,
            );
        }
        let mut input = KVec::with_capacity(count, GFP_KERNEL)?;
        UserSlice::new(buf, count)
            .reader()
            .read_all(&mut input, GFP_KERNEL)?;
        bind_interpreter(file, &entry, &input)
    }
}

/// An entry file's seq_file, as the text formatter wants it.
struct SeqText<'a>(&'a mut SeqFile);

impl core::fmt::Write for SeqText<'_> {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        self.0.write_bytes(s.as_bytes())
    }
}

impl ByteSink for SeqText<'_> {
    fn write_bytes(&mut self, bytes: &[u8]) -> core::fmt::Result {
        self.0.write_bytes(bytes)
    }
}

fn status_command(registry: &Registry, sb: &Sb, command: Command) -> Result {
    let instance = instance_of(registry, sb)?;
    match command {
        Command::Nothing => {}
        Command::Disable => instance.set_enabled(false),
        Command::Enable => instance.set_enabled(true),
        Command::Remove => {
            let root = sb.lock_root();
            let taken = instance.take_all();
            remove_files(&root, &taken);
            drop(root);
            drop(taken);
        }
    }
    Ok(())
}

fn entry_command(registry: &Registry, sb: &Sb, entry: &Arc<Entry>, command: Command) -> Result {
    match command {
        Command::Nothing => {}
        Command::Disable => entry.set_enabled(false),
        // The first `1` publishes an entry registered with `D`, sealing it. The
        // state is read under the root lock: a registration racing this write
        // sets it before the lock goes.
        Command::Enable => {
            let instance = instance_of(registry, sb)?;
            let root = sb.lock_root();
            let retired = instance.publish(entry);
            drop(root);
            drop(retired?);
        }
        Command::Remove => {
            let instance = instance_of(registry, sb)?;
            let root = sb.lock_root();
            let retired = instance.remove(entry)?;
            if retired.is_some() {
                root.remove_file(entry.name());
            }
            drop(root);
            drop(retired);
        }
    }
    Ok(())
}

/// A `+name /path` write to a 'B' entry's file: binds an interpreter, opened
/// now with the writer's credentials, in upstream's order of checks.
fn bind_interpreter(file: &File<Registry>, entry: &Entry, input: &[u8]) -> Result {
    if !entry.is_bpf() {
        return Err(EINVAL);
    }
    if entry.state() == EntryState::Published {
        return Err(EBUSY);
    }
    let binding = grammar::parse_binding(input).map_err(|_| EINVAL)?;
    let binding = Binding::open(&input[binding.name], &input[binding.path], |path| {
        file.open_exec_as_opener(path)
    })?;

    let root = file.super_block().lock_root();
    let result = match entry.state() {
        EntryState::Removed => Err((ENOENT, binding)),
        EntryState::Published => Err((EBUSY, binding)),
        EntryState::Staged => entry.bind(binding),
    };
    drop(root);
    // A refused binding's file closes only now: closing may flush (NFS, FUSE).
    result.map_err(|(e, _binding)| e)
}

/// A write to `register`: parse, open the interpreter for `F`, create the file,
/// add the entry.
fn register(registry: &Registry, file: &File<Registry>, input: UserSlice, count: usize) -> Result {
    if !(grammar::MIN_REGISTER_LENGTH..=grammar::MAX_REGISTER_LENGTH).contains(&count) {
        return Err(EINVAL);
    }
    let mut buf = KVec::with_capacity(count + grammar::PAD, GFP_KERNEL_ACCOUNT)?;
    input.read_all(&mut buf, GFP_KERNEL_ACCOUNT)?;
    buf.extend_with(grammar::PAD, 0, GFP_KERNEL_ACCOUNT)?;
    let registration = grammar::parse_register(&mut buf).map_err(|_| EINVAL)?;
    // Transparent dispatch and loader substitution need changes to exec itself
    // (auxv, binfmt_elf) that a module cannot make on 6.12: refused as by an
    // upstream kernel built without them, which is what tools probe for.
    if registration.flags.transparent || registration.flags.loader {
        return Err(EINVAL);
    }
    let sb = file.super_block();
    // A 'B' entry's handler is looked up only in the instance's own namespace.
    let handler = if registration.matcher == Matcher::Bpf {
        let name = Entry::interpreter_of(&buf, &registration);
        Some(
            registry
                .bpf()
                .lookup(sb.user_ns().key(), name.as_bytes())
                .ok_or_else(|| {
                    pr_notice!("register: no bpf handler named {}\n", name);
                    ENOENT
                })?,
        )
    } else {
        None
    };

    let interp_file = if registration.flags.open_file {
        // Unprivileged mounts: open with the credentials `register` was opened with.
        let path = Entry::interpreter_of(&buf, &registration);
        Some(file.open_exec_as_opener(path).inspect_err(|_| {
            pr_notice!("register: failed to install interpreter file {}\n", path);
        })?)
    } else {
        None
    };
    let entry = Entry::new(buf, registration, interp_file, handler)?;

    let instance = instance_of(registry, sb)?;
    let root = sb.lock_root();
    let retired = instance.add(entry.clone(), || {
        // rw-r--r--
        root.create_file(entry.name(), 0o644, EntryFile::TABLE, entry.clone())
    })?;
    drop(root);
    drop(retired);
    Ok(())
}
