// SPDX-License-Identifier: GPL-2.0
/*
 * The demo's $ORIGIN handler, for relocatable (Nix-style) binaries: an ELF whose
 * PT_INTERP reads "$ORIGIN/<rest>" runs under <directory of the binary>/<rest>,
 * wherever the binary was copied. The program headers lie past the first 256
 * bytes, so both programs read the file with bpf_binprm_read(); the binary's
 * path comes from bpf_binprm_path(). Everything is on the stack: the programs
 * sleep, and concurrent execs must not share scratch space.
 */
#include "bmt.bpf.h"

#define ENAMETOOLONG	36

#define PHDR_MAX	8
#define PT_INTERP_MAX	128
#define PATH_SZ		256	/* a power of two: indexes are masked with it */

static const char origin[] = "$ORIGIN/";
#define ORIGIN_LEN	(sizeof(origin) - 1)

static __always_inline __u64 buf_u64(struct linux_binprm *bprm, int at)
{
	__u64 v = 0;
	int i;

#pragma unroll
	for (i = 7; i >= 0; i--)
		v = v << 8 | BUF(bprm, at + i);
	return v;
}

/* Reads the PT_INTERP string into interp: its length without the NUL, or < 0. */
static __always_inline int read_pt_interp(struct linux_binprm *bprm, char *interp)
{
	__u64 phoff = buf_u64(bprm, E_PHOFF);
	__u16 phnum = BUF(bprm, E_PHNUM) | BUF(bprm, E_PHNUM + 1) << 8;
	struct elf64_phdr ph;
	int i, n;

	if (!is_elf64le(bprm))
		return -1;
	for (i = 0; i < PHDR_MAX && i < phnum; i++) {
		if (bpf_binprm_read(bprm, phoff + i * sizeof(ph), &ph, sizeof(ph)) != sizeof(ph))
			return -1;
		if (ph.p_type != PT_INTERP)
			continue;
		if (ph.p_filesz < ORIGIN_LEN + 2 || ph.p_filesz > PT_INTERP_MAX)
			return -1;
		n = bpf_binprm_read(bprm, ph.p_offset, interp, PT_INTERP_MAX);
		if (n < (int)ph.p_filesz)
			return -1;
		return ph.p_filesz - 1;
	}
	return -1;
}

static __always_inline bool has_origin(const char *interp)
{
	int i;

	for (i = 0; i < ORIGIN_LEN; i++)
		if (interp[i] != origin[i])
			return false;
	return true;
}

/* The binary's path and where its last '/' is, for bpf_loop(): a loop over a
 * variable length is too much for the verifier to walk. */
struct path_scan {
	char path[PATH_SZ];
	int len;
	int slash;
};

static long find_slash(__u64 i, struct path_scan *s)
{
	if (i + 1 >= s->len)
		return 1;
	if (s->path[i & (PATH_SZ - 1)] == '/')
		s->slash = i;
	return 0;
}

SEC("struct_ops.s/match")
bool BPF_PROG(origin_match, struct linux_binprm *bprm)
{
	char interp[PT_INTERP_MAX] = {};

	return read_pt_interp(bprm, interp) > 0 && has_origin(interp);
}

SEC("struct_ops.s/load")
int BPF_PROG(origin_load, struct linux_binprm *bprm)
{
	char interp[PT_INTERP_MAX] = {};
	struct path_scan s = {};
	int len, i;

	len = read_pt_interp(bprm, interp);
	if (len <= 0 || !has_origin(interp))
		return -ENOEXEC;
	s.len = bpf_binprm_path(bprm, s.path, sizeof(s.path));
	if (s.len < 2)
		return s.len < 0 ? s.len : -ENOEXEC;
	/* The binary's directory: up to its last '/'. */
	bpf_loop(PATH_SZ, find_slash, &s, 0);
	/* Then <rest>, in place of the binary's name. */
	for (i = ORIGIN_LEN; i < PT_INTERP_MAX; i++) {
		int at = s.slash + 1 + i - ORIGIN_LEN;

		if (at < 0 || at >= PATH_SZ)
			return -ENAMETOOLONG;
		s.path[at & (PATH_SZ - 1)] = interp[i];
		if (!interp[i])
			break;
	}
	return bpf_binprm_set_interp(bprm, s.path, sizeof(s.path));
}

SEC(".struct_ops.link")
struct binfmt_misc_ops demo_origin = {
	.match = (void *)origin_match,
	.load = (void *)origin_load,
	.name = "demo_origin",
};

char _license[] SEC("license") = "GPL";
