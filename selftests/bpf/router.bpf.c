// SPDX-License-Identifier: GPL-2.0
/*
 * An ELF router. match: a little-endian ELF64 header for aarch64 or riscv64
 * whose program headers start past the 256 bytes of bprm->buf. load: reads the
 * program headers with bpf_binprm_read(); a PT_INTERP segment names the
 * interpreter (its path read from the file too), else e_machine picks one of two.
 */
#include "bmt.bpf.h"

#define PHDR_MAX	16
#define INTERP_MAX	256

char interp_aarch64[256];
char interp_riscv64[256];
/* Scratch for the PT_INTERP path: a global, since the stack is small. */
char pt_interp[INTERP_MAX];
/* For the test: the program headers seen and which way it went. */
int phdrs_read;
int route;		/* 1: PT_INTERP, 2: e_machine */

SEC("struct_ops.s/match")
bool BPF_PROG(router_match, struct linux_binprm *bprm)
{
	__u64 phoff = 0;
	int i;

	if (!is_elf64le(bprm))
		return false;
	if (elf_machine(bprm) != EM_AARCH64 && elf_machine(bprm) != EM_RISCV)
		return false;
#pragma unroll
	for (i = 7; i >= 0; i--)
		phoff = phoff << 8 | BUF(bprm, E_PHOFF + i);
	return phoff >= 256;
}

SEC("struct_ops.s/load")
int BPF_PROG(router_load, struct linux_binprm *bprm)
{
	__u16 phnum = BUF(bprm, E_PHNUM) | BUF(bprm, E_PHNUM + 1) << 8;
	__u16 phentsize = BUF(bprm, E_PHENTSIZE) | BUF(bprm, E_PHENTSIZE + 1) << 8;
	__u64 phoff = 0;
	struct elf64_phdr ph;
	int i, n;

#pragma unroll
	for (i = 7; i >= 0; i--)
		phoff = phoff << 8 | BUF(bprm, E_PHOFF + i);
	if (phentsize != sizeof(ph))
		return -ENOEXEC;

	for (i = 0; i < PHDR_MAX && i < phnum; i++) {
		n = bpf_binprm_read(bprm, phoff + i * sizeof(ph), &ph, sizeof(ph));
		if (n < 0)
			return n;
		if (n != sizeof(ph))
			return -ENOEXEC;
		phdrs_read++;
		if (ph.p_type != PT_INTERP)
			continue;
		if (ph.p_filesz < 2 || ph.p_filesz > INTERP_MAX)
			return -ENOEXEC;
		n = bpf_binprm_read(bprm, ph.p_offset, pt_interp, sizeof(pt_interp));
		if (n < 0)
			return n;
		if (n < ph.p_filesz)
			return -ENOEXEC;
		/* The segment holds the NUL; set_interp checks it is there. */
		route = 1;
		return bpf_binprm_set_interp(bprm, pt_interp, sizeof(pt_interp));
	}
	route = 2;
	if (elf_machine(bprm) == EM_AARCH64)
		return bpf_binprm_set_interp(bprm, interp_aarch64, sizeof(interp_aarch64));
	return bpf_binprm_set_interp(bprm, interp_riscv64, sizeof(interp_riscv64));
}

SEC(".struct_ops.link")
struct binfmt_misc_ops ops = {
	.match = (void *)router_match,
	.load = (void *)router_load,
	.name = "bmt_router",
};

char _license[] SEC("license") = "GPL";
