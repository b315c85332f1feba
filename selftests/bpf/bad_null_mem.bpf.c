// SPDX-License-Identifier: GPL-2.0
/*
 * Must not load: the kfuncs' memory arguments get a pointer that may be NULL,
 * an unchecked bpf_map_lookup_elem() result (NULL here: the map stays empty).
 * The module's kfuncs are KF_TRUSTED_ARGS, so the verifier refuses it; without
 * that flag 6.12's verifier accepts it and the kfunc reads or writes NULL.
 */
#include "bmt.bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, char[64]);
} strings SEC(".maps");

SEC("struct_ops.s/match")
bool BPF_PROG(null_match, struct linux_binprm *bprm)
{
	__u32 key = 0;
	char *buf = bpf_map_lookup_elem(&strings, &key);

	return bpf_binprm_read(bprm, 0, buf, 64) > 0;
}

SEC("struct_ops.s/load")
int BPF_PROG(null_load, struct linux_binprm *bprm)
{
	__u32 key = 0;
	char *path = bpf_map_lookup_elem(&strings, &key);

	return bpf_binprm_set_interp(bprm, path, 64);
}

SEC(".struct_ops.link")
struct binfmt_misc_ops ops = {
	.match = (void *)null_match,
	.load = (void *)null_load,
	.name = "bmt_bad_null",
};

char _license[] SEC("license") = "GPL";
