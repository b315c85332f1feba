// SPDX-License-Identifier: GPL-2.0
/* Must not register: binfmt_misc_ops without `load` (both members are required). */
#include "bmt.bpf.h"

SEC("struct_ops.s/match")
bool BPF_PROG(noload_match, struct linux_binprm *bprm)
{
	return is_elf64le(bprm) && elf_machine(bprm) == EM_AARCH64;
}

SEC(".struct_ops.link")
struct binfmt_misc_ops ops = {
	.match = (void *)noload_match,
	.name = "bmt_noload",
};

char _license[] SEC("license") = "GPL";
