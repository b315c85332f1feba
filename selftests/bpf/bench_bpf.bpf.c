// SPDX-License-Identifier: GPL-2.0
/*
 * scripts/bench.sh's 'B' handler: the same work as its magic entry, in BPF.
 * match: a file starting with "BMBPF\n"; load: the benchmark's plain binary.
 */
#include "bmt.bpf.h"

SEC("struct_ops.s/match")
bool BPF_PROG(bench_match, struct linux_binprm *bprm)
{
	return BUF(bprm, 0) == 'B' && BUF(bprm, 1) == 'M' && BUF(bprm, 2) == 'B' &&
	       BUF(bprm, 3) == 'P' && BUF(bprm, 4) == 'F' && BUF(bprm, 5) == '\n';
}

SEC("struct_ops.s/load")
int BPF_PROG(bench_load, struct linux_binprm *bprm)
{
	char plain[] = "/tmp/bench/plain";

	return bpf_binprm_set_interp(bprm, plain, sizeof(plain));
}

SEC(".struct_ops.link")
struct binfmt_misc_ops bench_bpf = {
	.match = (void *)bench_match,
	.load = (void *)bench_load,
	.name = "bench_bpf",
};

char _license[] SEC("license") = "GPL";
