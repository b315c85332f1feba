// SPDX-License-Identifier: GPL-2.0
/*
 * $ORIGIN: the interpreter is found relative to the binary's own directory.
 * match: files starting with "#BMTORG\n". load: bpf_binprm_path() gives the
 * binary's absolute path; its directory plus "/" plus `rel` is the interpreter.
 */
#include "bmt.bpf.h"

#define PATH_SZ		512	/* a power of two: indexes are masked with it */
#define REL_SZ		64

char rel[REL_SZ] = "../lib/interp";
/* Scratch: the binary's path, then the interpreter's; a global, not stack. */
char path[PATH_SZ];
int path_ret;

SEC("struct_ops.s/match")
bool BPF_PROG(origin_match, struct linux_binprm *bprm)
{
	return BUF(bprm, 0) == '#' && BUF(bprm, 1) == 'B' && BUF(bprm, 2) == 'M' &&
	       BUF(bprm, 3) == 'T' && BUF(bprm, 4) == 'O' && BUF(bprm, 5) == 'R' &&
	       BUF(bprm, 6) == 'G' && BUF(bprm, 7) == '\n';
}

SEC("struct_ops.s/load")
int BPF_PROG(origin_load, struct linux_binprm *bprm)
{
	int n, i, slash;

	n = bpf_binprm_path(bprm, path, sizeof(path));
	path_ret = n;
	if (n < 2 || n > PATH_SZ)
		return n < 0 ? n : -ENOEXEC;
	/*
	 * The last '/', scanning back from the end: one way through each step,
	 * which keeps the verifier's walk of the loop linear.
	 */
	for (slash = n - 2; slash >= 0; slash--)
		if (path[slash & (PATH_SZ - 1)] == '/')
			break;
	if (slash < 0 || slash + 1 + REL_SZ > PATH_SZ)
		return -ENOEXEC;
	/* In place: the directory, with its '/', then rel. */
	for (i = 0; i < REL_SZ; i++) {
		path[(slash + 1 + i) & (PATH_SZ - 1)] = rel[i];
		if (!rel[i])
			break;
	}
	return bpf_binprm_set_interp(bprm, path, sizeof(path));
}

SEC(".struct_ops.link")
struct binfmt_misc_ops ops = {
	.match = (void *)origin_match,
	.load = (void *)origin_load,
	.name = "bmt_origin",
};

char _license[] SEC("license") = "GPL";
