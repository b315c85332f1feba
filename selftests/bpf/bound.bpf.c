// SPDX-License-Identifier: GPL-2.0
/*
 * Interpreters bound to the entry ("+name /path" written to its file). match:
 * files starting with "#BMTSEL:"; the rest of that first line names the bound
 * interpreter, which load selects with bpf_binprm_select_interp(); then it adds
 * `arg` (if set) with bpf_binprm_set_interp_arg() and `flags` (if set) with
 * bpf_binprm_set_flags(), returning the first error.
 */
#include "bmt.bpf.h"

#define NAME_MAX_LEN	32
#define PREFIX		8	/* "#BMTSEL:" */

char arg[64];
__u32 flags;
int select_ret = 1, arg_ret = 1, flags_ret = 1;

SEC("struct_ops.s/match")
bool BPF_PROG(bound_match, struct linux_binprm *bprm)
{
	return BUF(bprm, 0) == '#' && BUF(bprm, 1) == 'B' && BUF(bprm, 2) == 'M' &&
	       BUF(bprm, 3) == 'T' && BUF(bprm, 4) == 'S' && BUF(bprm, 5) == 'E' &&
	       BUF(bprm, 6) == 'L' && BUF(bprm, 7) == ':';
}

SEC("struct_ops.s/load")
int BPF_PROG(bound_load, struct linux_binprm *bprm)
{
	char name[NAME_MAX_LEN + 1] = {};
	int i, ret;

#pragma unroll
	for (i = 0; i < NAME_MAX_LEN; i++) {
		char c = bprm->buf[PREFIX + i];

		if (c == '\n' || !c)
			break;
		name[i] = c;
	}
	ret = bpf_binprm_select_interp(bprm, name, sizeof(name));
	select_ret = ret;
	if (ret)
		return ret;
	if (arg[0]) {
		ret = bpf_binprm_set_interp_arg(bprm, arg, sizeof(arg));
		arg_ret = ret;
		if (ret)
			return ret;
	}
	if (flags) {
		ret = bpf_binprm_set_flags(bprm, flags);
		flags_ret = ret;
		if (ret)
			return ret;
	}
	return 0;
}

SEC(".struct_ops.link")
struct binfmt_misc_ops ops = {
	.match = (void *)bound_match,
	.load = (void *)bound_load,
	.name = "bmt_bound",
};

char _license[] SEC("license") = "GPL";
