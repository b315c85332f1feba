// SPDX-License-Identifier: GPL-2.0
/*
 * The demo's foreign-architecture handler: one 'B' entry for every ELF machine
 * qemu-user could run, instead of one magic entry per CPU. match: a
 * little-endian ELF64 header for aarch64 or riscv64. load: picks the interpreter
 * bound to the entry under the CPU's name ("+aarch64 /usr/bin/qemu-aarch64"),
 * with argv[0] kept, as qemu's P flag does.
 */
#include "bmt.bpf.h"

SEC("struct_ops.s/match")
bool BPF_PROG(foreign_match, struct linux_binprm *bprm)
{
	return is_elf64le(bprm) &&
	       (elf_machine(bprm) == EM_AARCH64 || elf_machine(bprm) == EM_RISCV);
}

SEC("struct_ops.s/load")
int BPF_PROG(foreign_load, struct linux_binprm *bprm)
{
	char aarch64[] = "aarch64", riscv64[] = "riscv64";
	int err;

	if (elf_machine(bprm) == EM_AARCH64)
		err = bpf_binprm_select_interp(bprm, aarch64, sizeof(aarch64));
	else
		err = bpf_binprm_select_interp(bprm, riscv64, sizeof(riscv64));
	return err ?: bpf_binprm_set_flags(bprm, BPF_BINPRM_PRESERVE_ARGV0);
}

SEC(".struct_ops.link")
struct binfmt_misc_ops demo_foreign = {
	.match = (void *)foreign_match,
	.load = (void *)foreign_load,
	.name = "demo_foreign",
};

char _license[] SEC("license") = "GPL";
