// SPDX-License-Identifier: GPL-2.0

//! The binfmt_misc filesystem: `register`, `status` and one file per entry, with
//! upstream's semantics and error codes.

use crate::format::status_text as text_of_status;
use crate::grammar::{self, Command};
use crate::instance::{Entry, Instance};
use crate::vfs::{registry, schedule_collect, File, NsKey, PageText, SuperBlock};
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
            let retired = instance.take_all();
            for entry in retired.iter().flat_map(|entries| entries.iter()) {
                root.remove_entry_file(entry);
            }
            drop(root);
        }
    }
    Ok(())
}

pub(crate) fn entry_text(entry: &Entry) -> Result<PageText> {
    let mut text = PageText::new()?;
    // The text of any accepted registration fits; see format::MAX_ENTRY_TEXT.
    entry.write_text(&mut text).map_err(|_| EINVAL)?;
    Ok(text)
}

pub(crate) fn entry_command(sb: &SuperBlock, entry: &Entry, command: Command) -> Result {
    match command {
        Command::Nothing => {}
        Command::Disable => entry.set_enabled(false),
        Command::Enable => entry.set_enabled(true),
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

    let interp_file = if registration.flags.open_file {
        // Unprivileged mounts: open with the credentials `register` was opened with.
        let path = Entry::interpreter_of(&buf, &registration);
        Some(file.open_exec_as_opener(path).inspect_err(|_| {
            pr_notice!("register: failed to install interpreter file {}\n", path);
        })?)
    } else {
        None
    };
    let entry = Entry::new(buf, registration, interp_file)?;

    let sb = file.super_block();
    let instance = instance_of(sb)?;
    let root = sb.lock_root();
    let retired = instance.add(entry.clone(), || root.create_entry_file(&entry))?;
    drop(root);
    drop(retired);
    Ok(())
}
