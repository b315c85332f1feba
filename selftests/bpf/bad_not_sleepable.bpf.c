// SPDX-License-Identifier: GPL-2.0
/*
 * Must not load: match is not sleepable (SEC("struct_ops/...")); both members
 * of binfmt_misc_ops must be, since the kfuncs read the file and open paths.
 */
#include "bmt.bpf.h"

char interp[16] = "/bin/true";

SEC("struct_ops/match")
bool BPF_PROG(nosleep_match, struct linux_binprm *bprm)
{
	return is_elf64le(bprm) && elf_machine(bprm) == EM_AARCH64;
}

SEC("struct_ops.s/load")
int BPF_PROG(nosleep_load, struct linux_binprm *bprm)
{
	return bpf_binprm_set_interp(bprm, interp, sizeof(interp));
}

SEC(".struct_ops.link")
struct binfmt_misc_ops ops = {
	.match = (void *)nosleep_match,
	.load = (void *)nosleep_load,
	.name = "bmt_nosleep",
};

char _license[] SEC("license") = "GPL";
