// SPDX-License-Identifier: GPL-2.0
/*
 * Must not load: match calls bpf_binprm_set_interp(), a kfunc only `load` may
 * call; the verifier refuses the program.
 */
#include "bmt.bpf.h"

char interp[16] = "/bin/true";

SEC("struct_ops.s/match")
bool BPF_PROG(bad_match, struct linux_binprm *bprm)
{
	return bpf_binprm_set_interp(bprm, interp, sizeof(interp)) == 0;
}

SEC("struct_ops.s/load")
int BPF_PROG(bad_load, struct linux_binprm *bprm)
{
	return bpf_binprm_set_interp(bprm, interp, sizeof(interp));
}

SEC(".struct_ops.link")
struct binfmt_misc_ops ops = {
	.match = (void *)bad_match,
	.load = (void *)bad_load,
	.name = "bmt_bad_kfunc",
};

char _license[] SEC("license") = "GPL";
