// SPDX-License-Identifier: GPL-2.0
/*
 * Built only for a kernel without CONFIG_RUST (kernel-rust.mk): what the
 * kernel's Rust support, linked into this module, takes from vmlinux but such a
 * kernel lacks, because only its built-in Rust code would use it.
 */
#include <linux/bug.h>
#include <linux/printk.h>
#include <linux/string.h>
#include <linux/vmalloc.h>

/*
 * Printing. The kernel crate prints through _printk() with `%pA`, a
 * core::fmt::Arguments that vsprintf hands to the crate's rust_fmt_argument();
 * without CONFIG_RUST vsprintf does not know `%pA` (it warns and prints
 * "(%pA?)"). kernel-rust.mk renames the crate's _printk() calls to this, which
 * renders the arguments itself, with the same function, and prints plain text.
 * The crate uses two formats, KERN_<level> "%s: %pA" (module name, message)
 * and KERN_CONT "%pA" (print.rs, format_strings); anything else goes to
 * vprintk() unchanged.
 */
char *rust_fmt_argument(char *buf, char *end, void *ptr);

/* Longer messages are cut: the module's are short, and this runs on any stack. */
#define BMRS_PRINTK_TEXT 512

int bmrs_rust_printk(const char *fmt, ...);
int bmrs_rust_printk(const char *fmt, ...)
{
	const char *body = printk_skip_level(fmt);
	const char *name = NULL;
	char text[BMRS_PRINTK_TEXT];
	char *pos;
	va_list ap;
	int ret;

	va_start(ap, fmt);
	if (!strcmp(body, "%s: %pA")) {
		name = va_arg(ap, const char *);
	} else if (strcmp(body, "%pA")) {
		ret = vprintk(fmt, ap);
		va_end(ap);
		return ret;
	}
	pos = rust_fmt_argument(text, text + sizeof(text) - 1, va_arg(ap, void *));
	va_end(ap);
	*(pos < text + sizeof(text) - 1 ? pos : text + sizeof(text) - 1) = '\0';

	if (name)
		return printk("%.*s%s: %s", (int)(body - fmt), fmt, name, text);
	return printk("%.*s%s", (int)(body - fmt), fmt, text);
}

/*
 * vrealloc(): the kernel crate's helpers (rust/helpers/vmalloc.c) always carry
 * rust_helper_vrealloc() for the `Vmalloc` allocator, and 6.12 does not export
 * vrealloc(). This module never uses that allocator (its large vectors are
 * `KVVec`s, whose kvrealloc() is exported), so the helper is never called; if
 * a later change did call it, the allocation fails instead of the module
 * failing to load, and says why.
 */
void *vrealloc_noprof(const void *p, size_t size, gfp_t flags)
{
	WARN_ONCE(1, "binfmt_misc_rs: vrealloc() is not exported by this kernel; use KVmalloc\n");
	return NULL;
}
