// SPDX-License-Identifier: GPL-2.0
/*
 * The bpf side of 'B' entries, with upstream Linux 7.3's interface: the
 * binfmt_misc_ops struct_ops and the kfuncs its programs call. They must be
 * defined in C because the verifier and libbpf know them only through BTF, which
 * pahole makes from C's DWARF. Every callback forwards to Rust through the
 * callbacks registered with bmrs_bpf_register() (rust/kernel_ext/struct_ops.rs;
 * the logic is in rust/bpf.rs); what stays here is the glue the bpf core needs
 * to see: types, stubs, id sets, the verifier hooks.
 */
#include <linux/bpf.h>
#include <linux/bpf_verifier.h>
#include <linux/btf.h>
#include <linux/btf_ids.h>
#include <linux/uaccess.h>
#include <linux/version.h>

#include "binfmt_misc_rs.h"

#define BINFMT_MISC_OPS_NAME_MAX 16

/* Upstream's include/linux/binfmt_misc.h, so that a handler written for Linux
 * 7.3 loads unchanged against this module's BTF. */
enum bpf_binprm_flags {
	BPF_BINPRM_PRESERVE_ARGV0 = (1ULL << 0),
	BPF_BINPRM_CREDENTIALS = (1ULL << 1),
	BPF_BINPRM_EXECFD = (1ULL << 2),
	BPF_BINPRM_TRANSPARENT = (1ULL << 3),
	BPF_BINPRM_LOADER = (1ULL << 4),
};

struct binfmt_misc_ops {
	bool (*match)(struct linux_binprm *bprm);
	int (*load)(struct linux_binprm *bprm);
	char name[BINFMT_MISC_OPS_NAME_MAX];
};

/* A struct_ops map's value as the bpf core lays it out (the type the
 * register_bpf_struct_ops() macro emits), to check a map's value_size. */
struct bmrs_ops_value {
	struct bpf_struct_ops_common_value common;
	struct binfmt_misc_ops data ____cacheline_aligned_in_smp;
};

/*
 * An entry keeps its handler alive after the map is unregistered, as upstream's
 * bpf_struct_ops_get() does; 6.12 does not export that, only bpf_map_inc(). The
 * map is found from the registered ops (kdata) through the layout of 6.12's
 * private struct bpf_struct_ops_map (kernel/bpf/bpf_struct_ops.c), mirrored
 * here with the same member types, and checked before use (bmrs_ops_map()).
 * Checked against 6.12.
 */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 12, 0) || LINUX_VERSION_CODE >= KERNEL_VERSION(6, 13, 0)
#error "struct bmrs_st_map mirrors Linux 6.12's struct bpf_struct_ops_map; check it for this kernel"
#endif
struct bmrs_st_map {
	struct bpf_map map;
	struct rcu_head rcu;
	const struct bpf_struct_ops_desc *st_ops_desc;
	struct mutex lock;
	struct bpf_link **links;
	struct bpf_ksym **ksyms;
	u32 funcs_cnt;
	u32 image_pages_cnt;
	void *image_pages[8];
	struct btf *btf;
	void *uvalue;
	struct {
		struct bpf_struct_ops_common_value common;
		char data[] ____cacheline_aligned_in_smp;
	} kvalue;
};

static struct bpf_struct_ops bmrs_struct_ops;

/* The Rust side, set once before the struct_ops type and kfuncs are registered. */
static const struct bmrs_bpf_callbacks *bmrs_cb;

/*
 * The map that holds kdata, if it really is one of ours: the mirror is checked
 * through reads that cannot fault (a layout that does not match this kernel's
 * would point them elsewhere), and the map must have been made for this
 * module's binfmt_misc_ops (its descriptor's st_ops) before anything else of it
 * is used.
 */
static struct bpf_map *bmrs_ops_map(void *kdata)
{
	struct bmrs_st_map *st_map = container_of(kdata, struct bmrs_st_map, kvalue.data);
	const struct bpf_struct_ops_desc *desc;
	struct bpf_struct_ops *st_ops;
	enum bpf_map_type type;
	u32 key_size, value_size, max_entries;

	if (get_kernel_nofault(type, &st_map->map.map_type) ||
	    get_kernel_nofault(key_size, &st_map->map.key_size) ||
	    get_kernel_nofault(value_size, &st_map->map.value_size) ||
	    get_kernel_nofault(max_entries, &st_map->map.max_entries) ||
	    type != BPF_MAP_TYPE_STRUCT_OPS || key_size != sizeof(u32) || max_entries != 1 ||
	    value_size != sizeof(struct bmrs_ops_value))
		return NULL;
	if (get_kernel_nofault(desc, &st_map->st_ops_desc) ||
	    get_kernel_nofault(st_ops, &desc->st_ops) || st_ops != &bmrs_struct_ops)
		return NULL;
	return &st_map->map;
}

/* The module's BTF, as the bpf core hands it to .init: programs attached to
 * binfmt_misc_ops name it as their attach_btf. */
static const struct btf *bmrs_btf;

/* cfi_stubs: the bpf core takes the members' types from these. */
static bool bmrs_match_stub(struct linux_binprm *bprm)
{
	return false;
}

static int bmrs_load_stub(struct linux_binprm *bprm)
{
	return -ENOEXEC;
}

static struct binfmt_misc_ops bmrs_ops_stubs = {
	.match = bmrs_match_stub,
	.load = bmrs_load_stub,
};

static const struct bpf_verifier_ops bmrs_verifier_ops = {
	.get_func_proto = bpf_base_func_proto,
	/* bprm is a BTF pointer the programs read (buf, file, filename ...). */
	.is_valid_access = bpf_tracing_btf_ctx_access,
};

static int bmrs_ops_init(struct btf *btf)
{
	bmrs_btf = btf;
	return 0;
}

/* Both programs may sleep: load opens files, match may read the binary. */
static int bmrs_ops_check_member(const struct btf_type *t, const struct btf_member *member,
				 const struct bpf_prog *prog)
{
	return prog->sleepable ? 0 : -EINVAL;
}

static int bmrs_ops_init_member(const struct btf_type *t, const struct btf_member *member,
				void *kdata, const void *udata)
{
	u32 moff = __btf_member_bit_offset(t, member) / 8;

	if (moff != offsetof(struct binfmt_misc_ops, name))
		return 0;
	return bmrs_cb->copy_ops_name(((struct binfmt_misc_ops *)kdata)->name,
				      ((const struct binfmt_misc_ops *)udata)->name,
				      BINFMT_MISC_OPS_NAME_MAX) ?: 1;
}

static int bmrs_ops_validate(void *kdata)
{
	struct binfmt_misc_ops *ops = kdata;

	return ops->match && ops->load ? 0 : -EINVAL;
}

static int bmrs_ops_reg(void *kdata, struct bpf_link *link)
{
	struct binfmt_misc_ops *ops = kdata;
	struct bpf_map *map = bmrs_ops_map(kdata);

	if (!map) {
		pr_err("binfmt_misc_rs: struct_ops map layout not recognised\n");
		return -EOPNOTSUPP;
	}
	return bmrs_cb->reg(kdata, link, ops->name, map);
}

static void bmrs_ops_unreg(void *kdata, struct bpf_link *link)
{
	bmrs_cb->unreg(kdata, link);
}

static struct bpf_struct_ops bmrs_struct_ops = {
	.verifier_ops = &bmrs_verifier_ops,
	.init = bmrs_ops_init,
	.check_member = bmrs_ops_check_member,
	.init_member = bmrs_ops_init_member,
	.validate = bmrs_ops_validate,
	.reg = bmrs_ops_reg,
	.unreg = bmrs_ops_unreg,
	.cfi_stubs = &bmrs_ops_stubs,
	.name = "binfmt_misc_ops",
	.owner = THIS_MODULE,
};

bool bmrs_bpf_call_match(const void *ops, struct linux_binprm *bprm)
{
	/* The verifier does not bound a struct_ops program's return, and the
	 * trampoline hands back all of it: the "bool" may be any byte. */
	u8 matched = ((const struct binfmt_misc_ops *)ops)->match(bprm);

	OPTIMIZER_HIDE_VAR(matched);
	return matched != 0;
}

int bmrs_bpf_call_load(const void *ops, struct linux_binprm *bprm)
{
	return ((const struct binfmt_misc_ops *)ops)->load(bprm);
}

__bpf_kfunc_start_defs();

__bpf_kfunc int bpf_binprm_set_interp(struct linux_binprm *bprm, const char *path, size_t path__sz)
{
	return bmrs_cb->set_interp(bprm, path, path__sz);
}

__bpf_kfunc int bpf_binprm_select_interp(struct linux_binprm *bprm, const char *name,
					 size_t name__sz)
{
	return bmrs_cb->select_interp(bprm, name, name__sz);
}

__bpf_kfunc int bpf_binprm_set_interp_arg(struct linux_binprm *bprm, const char *arg,
					  size_t arg__sz)
{
	return bmrs_cb->set_interp_arg(bprm, arg, arg__sz);
}

__bpf_kfunc int bpf_binprm_set_flags(struct linux_binprm *bprm, enum bpf_binprm_flags flags)
{
	return bmrs_cb->set_flags(bprm, flags);
}

/* Not upstream's: 6.12 has no bpf_dynptr_from_file() to read the binary past
 * bprm->buf, and no bpf_path_d_path() for struct_ops programs. */
__bpf_kfunc int bpf_binprm_read(struct linux_binprm *bprm, u64 offset, void *buf, size_t buf__sz)
{
	return bmrs_cb->read(bprm, offset, buf, buf__sz);
}

__bpf_kfunc int bpf_binprm_path(struct linux_binprm *bprm, char *buf, size_t buf__sz)
{
	return bmrs_cb->path(bprm, buf, buf__sz);
}

__bpf_kfunc_end_defs();

/*
 * KF_TRUSTED_ARGS: without it, 6.12's verifier lets a program pass a pointer
 * that may be NULL (an unchecked bpf_map_lookup_elem() result) as a sized
 * memory argument; with it such a program is rejected at load. The Rust side
 * checks for NULL as well.
 */
BTF_KFUNCS_START(bmrs_kfunc_ids)
BTF_ID_FLAGS(func, bpf_binprm_set_interp, KF_SLEEPABLE | KF_TRUSTED_ARGS)
BTF_ID_FLAGS(func, bpf_binprm_select_interp, KF_SLEEPABLE | KF_TRUSTED_ARGS)
BTF_ID_FLAGS(func, bpf_binprm_set_interp_arg, KF_SLEEPABLE | KF_TRUSTED_ARGS)
BTF_ID_FLAGS(func, bpf_binprm_set_flags, KF_SLEEPABLE | KF_TRUSTED_ARGS)
BTF_ID_FLAGS(func, bpf_binprm_read, KF_SLEEPABLE | KF_TRUSTED_ARGS)
BTF_ID_FLAGS(func, bpf_binprm_path, KF_SLEEPABLE | KF_TRUSTED_ARGS)
BTF_KFUNCS_END(bmrs_kfunc_ids)

/* What only `load` may call: they stage the exec's interpreter. */
BTF_ID_LIST(bmrs_load_only_ids)
BTF_ID(func, bpf_binprm_set_interp)
BTF_ID(func, bpf_binprm_select_interp)
BTF_ID(func, bpf_binprm_set_interp_arg)
BTF_ID(func, bpf_binprm_set_flags)

/*
 * Only binfmt_misc_ops programs may call the kfuncs, and only `load` the ones
 * that stage an interpreter. The verifier asks first in check_cfg(), before
 * check_attach_btf_id() has set the program's struct_ops member
 * (attach_func_name unset), then in check_kfunc_call() with it set; that
 * second answer is the one that decides.
 */
static int bmrs_kfunc_filter(const struct bpf_prog *prog, u32 kfunc_id)
{
	int i;

	if (prog->type != BPF_PROG_TYPE_STRUCT_OPS)
		return -EACCES;
	if (!prog->aux->attach_func_name)
		return 0;
	if (!bmrs_btf || prog->aux->attach_btf != bmrs_btf)
		return -EACCES;
	for (i = 0; i < 4; i++)
		if (kfunc_id == bmrs_load_only_ids[i])
			return strcmp(prog->aux->attach_func_name, "load") ? -EACCES : 0;
	return 0;
}

static const struct btf_kfunc_id_set bmrs_kfunc_set = {
	.owner = THIS_MODULE,
	.set = &bmrs_kfunc_ids,
	.filter = bmrs_kfunc_filter,
};

/* Module BTF is loaded before the module's init runs; both registrations live
 * in it and go with it when the module unloads, so there is no unregister. */
int bmrs_bpf_register(const struct bmrs_bpf_callbacks *callbacks)
{
	int err;

	if (bmrs_cb)
		return -EBUSY;
	bmrs_cb = callbacks;
	err = register_bpf_struct_ops(&bmrs_struct_ops, binfmt_misc_ops);

	return err ?: register_btf_kfunc_id_set(BPF_PROG_TYPE_STRUCT_OPS, &bmrs_kfunc_set);
}
