// SPDX-License-Identifier: GPL-2.0
/*
 * A handler with one fixed interpreter. match: a little-endian ELF64 header for
 * `machine` (a fake aarch64 binary by default), or, when magic_len is set, the
 * first magic_len bytes of `magic`; both read straight from bprm->buf. load:
 * bpf_binprm_set_interp(interp), then the optional argument and flags.
 *
 * The test sets the globals before loading: that is how one object serves the
 * fixed-interpreter, declining, failing and kfunc-error tests.
 */
#include "bmt.bpf.h"

#define MAGIC_MAX	16

__u16 machine = EM_AARCH64;
char magic[MAGIC_MAX];
__u32 magic_len;
/* match says no whatever the file is. */
bool decline;
/* load returns this without choosing an interpreter, if not 0. */
int load_ret;
/* load returns 0 without choosing an interpreter. */
bool no_interp;
/* The interpreter; large enough for the ENAMETOOLONG and missing-NUL cases. */
char interp[4100];
char interp_arg[4200];
__u32 flags;
/* What the kfuncs returned, for the test to read after an exec. */
int set_interp_ret = 1, set_arg_ret = 1, set_flags_ret = 1;
int matched, loaded;

SEC("struct_ops.s/match")
bool BPF_PROG(fixed_match, struct linux_binprm *bprm)
{
	int i;

	if (decline)
		return false;
	if (magic_len) {
#pragma unroll
		for (i = 0; i < MAGIC_MAX; i++)
			if (i < magic_len && BUF(bprm, i) != (__u8)magic[i])
				return false;
		matched++;
		return true;
	}
	if (!is_elf64le(bprm) || elf_machine(bprm) != machine)
		return false;
	matched++;
	return true;
}

SEC("struct_ops.s/load")
int BPF_PROG(fixed_load, struct linux_binprm *bprm)
{
	int ret;

	loaded++;
	if (load_ret)
		return load_ret;
	if (no_interp)
		return 0;
	ret = bpf_binprm_set_interp(bprm, interp, sizeof(interp));
	set_interp_ret = ret;
	if (ret)
		return ret;
	if (interp_arg[0]) {
		ret = bpf_binprm_set_interp_arg(bprm, interp_arg, sizeof(interp_arg));
		set_arg_ret = ret;
		if (ret)
			return ret;
	}
	if (flags) {
		ret = bpf_binprm_set_flags(bprm, flags);
		set_flags_ret = ret;
		if (ret)
			return ret;
	}
	return 0;
}

/* fixed_nolink.bpf.c makes the same handler of a plain ".struct_ops" map. */
#ifndef OPS_SEC
#define OPS_SEC ".struct_ops.link"
#endif

SEC(OPS_SEC)
struct binfmt_misc_ops ops = {
	.match = (void *)fixed_match,
	.load = (void *)fixed_load,
	.name = "bmt_fixed",
};

char _license[] SEC("license") = "GPL";
