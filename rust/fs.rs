// SPDX-License-Identifier: GPL-2.0

//! The binfmt_misc filesystem: `register`, `status` and one file per entry, with
//! upstream's semantics and error codes.

use crate::format::status_text as text_of_status;
use crate::grammar::{self, Command, Matcher};
use crate::instance::{Binding, Entry, EntryState, Instance};
use crate::slots::Slots;
use crate::vfs::{registry, schedule_collect, File, NsKey, SeqText, SuperBlock};
use kernel::prelude::*;
use kernel::sync::Arc;
use kernel::uaccess::UserSlice;

/// The instance of a live superblock.
fn instance_of(sb: &SuperBlock) -> Result<Arc<Instance>> {
    // The superblock holds its namespace, so the registry holds the instance.
    registry().by_ns(sb.user_ns().key()).ok_or(ENODEV)
}

/// A new superblock uses its user namespace's instance, made on first mount.
pub(crate) fn fill_super(sb: &SuperBlock) -> Result {
    registry().mount(sb.user_ns()).map(drop)
}

/// A superblock that fill_super() completed is being shut down: its entries go,
/// as upstream's go with their inodes, all at once here so that exec stops seeing
/// them in one step.
pub(crate) fn shutdown_super(sb: &SuperBlock) {
    if let Ok(instance) = instance_of(sb) {
        drop(instance.take_all());
    }
}

/// Removes the files of entries taken out of an instance.
fn remove_files(
    root: &crate::vfs::RootGuard<'_>,
    (retired, staged): &(crate::instance::RetiredEntries, Slots<Arc<Entry>>),
) {
    let published = retired.iter().flat_map(|list| list.iter());
    for entry in Iterator::chain(published, staged.iter()) {
        root.remove_entry_file(entry);
    }
}

/// A superblock of `ns` is gone, and through eviction its entries with it.
/// `counted` says whether fill_super() got as far as [`fill_super`].
pub(crate) fn kill_super(ns: NsKey, counted: bool) {
    let registry = registry();
    if counted {
        registry.unmount(ns);
    }
    if registry.collect() {
        schedule_collect(registry.first_collect_delay());
    }
}

/// The delayed collection of unused namespaces' instances; see
/// [`crate::instance::Registry::collect`].
pub(crate) fn collect_unused() {
    let registry = registry();
    if registry.collect() {
        schedule_collect(registry.next_collect_delay());
    }
}

/// An entry inode is evicted. Its entry has left the list already: the pin on the
/// file goes only with removal, unlink or unmount (see [`shutdown_super`]). Should
/// it be there, it goes now.
pub(crate) fn evict_entry(sb: &SuperBlock, entry: Arc<Entry>) {
    if let Ok(instance) = instance_of(sb) {
        drop(instance.remove(&entry));
    }
    // The file was the entry's first user: its files close now unless an exec
    // still uses them, as upstream's last put_binfmt_handler().
    drop(entry.release_file());
}

pub(crate) fn status_text(sb: &SuperBlock) -> &'static str {
    text_of_status(instance_of(sb).is_ok_and(|i| i.is_enabled()))
}

pub(crate) fn status_command(sb: &SuperBlock, command: Command) -> Result {
    let instance = instance_of(sb)?;
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

/// Writes an entry file's text.
pub(crate) fn entry_text(entry: &Arc<Entry>, out: &mut SeqText) -> core::fmt::Result {
    Entry::write_text(entry, out)
}

pub(crate) fn entry_command(sb: &SuperBlock, entry: &Arc<Entry>, command: Command) -> Result {
    match command {
        Command::Nothing => {}
        Command::Disable => entry.set_enabled(false),
        // The first `1` publishes an entry registered with `D`, sealing it. The
        // state is read under the root lock: a registration racing this write
        // sets it before the lock goes.
        Command::Enable => {
            let instance = instance_of(sb)?;
            let root = sb.lock_root();
            let retired = instance.publish(entry);
            drop(root);
            drop(retired?);
        }
        Command::Remove => {
            let instance = instance_of(sb)?;
            let root = sb.lock_root();
            let retired = instance.remove(entry)?;
            if retired.is_some() {
                root.remove_entry_file(entry);
            }
            drop(root);
            drop(retired);
        }
    }
    Ok(())
}

/// An entry file is being unlinked: the caller (the VFS) holds the root locked
/// and removes the file if this succeeds.
pub(crate) fn unlink_entry(sb: &SuperBlock, entry: &Entry) -> Result {
    drop(instance_of(sb)?.remove(entry)?);
    Ok(())
}

/// A `+name /path` write to a 'B' entry's file: binds an interpreter, opened
/// now with the writer's credentials, in upstream's order of checks.
pub(crate) fn bind_interpreter(file: &File, entry: &Entry, input: &[u8]) -> Result {
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
pub(crate) fn register(file: &File, input: UserSlice, count: usize) -> Result {
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
            registry()
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

    let instance = instance_of(sb)?;
    let root = sb.lock_root();
    let retired = instance.add(entry.clone(), || root.create_entry_file(&entry))?;
    drop(root);
    drop(retired);
    Ok(())
}
