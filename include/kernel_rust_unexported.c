// SPDX-License-Identifier: GPL-2.0
/*
 * Built only for a kernel without CONFIG_RUST (kernel-rust.mk): what the kernel's
 * Rust support, linked into this module, refers to but such a kernel does not
 * export to modules, because only its built-in Rust code would call it.
 *
 * vrealloc(): the kernel crate's helpers (rust/helpers/vmalloc.c) always carry
 * rust_helper_vrealloc() for the `Vmalloc` allocator. This module never uses
 * that allocator (its large vectors are `KVVec`s, whose kvrealloc() is
 * exported), so the helper is never called; if a later change did call it, the
 * allocation fails instead of the module failing to load, and says why.
 */
#include <linux/bug.h>
#include <linux/vmalloc.h>

void *vrealloc_noprof(const void *p, size_t size, gfp_t flags)
{
	WARN_ONCE(1, "binfmt_misc_rs: vrealloc() is not exported by this kernel; use KVmalloc\n");
	return NULL;
}
