/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kfuncs of binfmt_misc_rs's 'B' handlers, for the BPF programs of the
 * selftests. The types (struct binfmt_misc_ops, enum bpf_binprm_flags, struct
 * linux_binprm) come from vmlinux.h, which the Makefile dumps from the module's
 * BTF on top of the test kernel's. The kfunc prototypes cannot come from there:
 * bpftool emits them only for functions that carry a "bpf_kfunc" BTF decl tag,
 * and pahole writes those only from 1.26 on (--btf_features=decl_tag_kfuncs);
 * Debian 12 has 1.24. So they are written out here, as the module defines them.
 *
 * Only `load` may call the first four (the verifier refuses them in `match`);
 * bpf_binprm_read() and bpf_binprm_path() are this module's own, callable from
 * both: 6.12 has no bpf_dynptr_from_file(), and does not let struct_ops programs
 * call bpf_path_d_path().
 */
#ifndef BMTEST_BINFMT_MISC_OPS_H
#define BMTEST_BINFMT_MISC_OPS_H

/* Absolute path, opened at exec with the exec'ing task's credentials. */
extern int bpf_binprm_set_interp(struct linux_binprm *bprm, const char *path,
				 size_t path__sz) __ksym;
/* An interpreter bound to the entry with "+name /path". */
extern int bpf_binprm_select_interp(struct linux_binprm *bprm, const char *name,
				    size_t name__sz) __ksym;
/* One argument between the interpreter and the binary (a #! argument). */
extern int bpf_binprm_set_interp_arg(struct linux_binprm *bprm, const char *arg,
				     size_t arg__sz) __ksym;
extern int bpf_binprm_set_flags(struct linux_binprm *bprm,
				enum bpf_binprm_flags flags) __ksym;
/* Reads the binary at offset; bytes read (short at EOF) or -errno. */
extern int bpf_binprm_read(struct linux_binprm *bprm, __u64 offset, void *buf,
			   size_t buf__sz) __ksym;
/* The binary's absolute path, NUL-terminated; its length with the NUL or -errno. */
extern int bpf_binprm_path(struct linux_binprm *bprm, char *buf,
			   size_t buf__sz) __ksym;

#endif /* BMTEST_BINFMT_MISC_OPS_H */
