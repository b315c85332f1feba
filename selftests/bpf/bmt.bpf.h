/* SPDX-License-Identifier: GPL-2.0 */
/* Shared by the selftests' BPF programs: headers, errnos, ELF offsets. */
#ifndef BMTEST_BMT_BPF_H
#define BMTEST_BMT_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "binfmt_misc_ops.h"

#define ENOENT		2
#define ENOEXEC		8
#define EACCES		13
#define EINVAL		22

/* ELF64 header fields (little endian), as offsets into the first bytes. */
#define EI_CLASS	4
#define EI_DATA		5
#define E_MACHINE	18
#define E_PHOFF		32
#define E_PHENTSIZE	54
#define E_PHNUM		56
#define PT_INTERP	3
#define EM_AARCH64	183
#define EM_RISCV	243

/* One byte of bprm->buf: a BTF pointer, read at constant offsets only. */
#define BUF(bprm, i)	((__u8)(bprm)->buf[i])

/* bprm->buf starts like a little-endian ELF64 file. */
static __always_inline bool is_elf64le(struct linux_binprm *bprm)
{
	return BUF(bprm, 0) == 0x7f && BUF(bprm, 1) == 'E' &&
	       BUF(bprm, 2) == 'L' && BUF(bprm, 3) == 'F' &&
	       BUF(bprm, EI_CLASS) == 2 && BUF(bprm, EI_DATA) == 1;
}

static __always_inline __u16 elf_machine(struct linux_binprm *bprm)
{
	return BUF(bprm, E_MACHINE) | BUF(bprm, E_MACHINE + 1) << 8;
}

#endif /* BMTEST_BMT_BPF_H */
