/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Everything the Rust side calls in C: the kernel headers bindgen turns into
 * rust/bindings_generated.rs, and the prototypes of the helpers in helpers.c.
 * The helpers exist only where Rust cannot reach: static inlines and macros.
 */
#ifndef BINFMT_MISC_RS_H
#define BINFMT_MISC_RS_H

#include <linux/binfmts.h>
#include <linux/bpf.h>
#include <linux/cred.h>
#include <linux/dcache.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/fs_context.h>
#include <linux/magic.h>
#include <linux/namei.h>
#include <linux/rcupdate.h>
#include <linux/seq_file.h>
#include <linux/user_namespace.h>
#include <linux/workqueue.h>

/* current_user_ns() is a macro over current_cred(). */
struct user_namespace *bmrs_current_user_ns(void);
/* get_user_ns()/put_user_ns() are static inlines. */
struct user_namespace *bmrs_get_user_ns(struct user_namespace *ns);
void bmrs_put_user_ns(struct user_namespace *ns);
/* Whether the caller holds the only reference: refcount_read() is a static inline. */
bool bmrs_user_ns_only_ref(struct user_namespace *ns);
/* inode_lock()/inode_unlock() are static inlines over i_rwsem. */
void bmrs_inode_lock(struct inode *inode);
void bmrs_inode_unlock(struct inode *inode);
/* dget() and simple_positive() are static inlines. */
struct dentry *bmrs_dget(struct dentry *dentry);
bool bmrs_simple_positive(const struct dentry *dentry);
/* QSTR_INIT() is a macro: looks up an entry file by name without the permission
 * check of lookup_one_len(), as upstream's removal uses its stored dentry. */
struct dentry *bmrs_lookup_entry(struct dentry *root, const char *name);
/* The exec-time write denial helpers and file_clone_open() are static inlines. */
struct file *bmrs_file_clone_open(struct file *file);
int bmrs_exe_file_deny_write_access(struct file *file);
void bmrs_exe_file_allow_write_access(struct file *file);
/* rcu_read_lock()/rcu_read_unlock() are static inlines. */
void bmrs_rcu_read_lock(void);
void bmrs_rcu_read_unlock(void);
/* An entry file's seq_file: single_open(), with pwrite(2) given back, which
 * seq_open() takes away; FMODE_PWRITE is a cast macro bindgen cannot read. */
int bmrs_single_open_writable(struct file *file, int (*show)(struct seq_file *, void *),
			      void *data);
/* linux_binprm's execfd flags are bitfields. */
void bmrs_binprm_set_execfd(struct linux_binprm *bprm, bool creds);

/* The module's workqueue, and frees queued on it after a grace period
 * (INIT_RCU_WORK() is a macro). */
int bmrs_workqueue_init(void);
void bmrs_workqueue_exit(void);
void bmrs_queue_rcu_free(struct rcu_work *rwork, work_func_t free);

/*
 * The module's one delayed work (DECLARE_DELAYED_WORK() is a macro): runs fn,
 * in Rust, after a delay; stop() cancels it for good and waits for a run.
 */
int bmrs_delayed_work_setup(void (*fn)(void));
void bmrs_delayed_work_schedule(unsigned int delay_ms);
void bmrs_delayed_work_stop(void);

/*
 * 'B' entries (bpf_ops.c). The struct_ops and kfuncs must be C for BTF; these
 * call the ops' programs, whose struct layout is C's.
 */
bool bmrs_bpf_call_match(const void *ops, struct linux_binprm *bprm);
int bmrs_bpf_call_load(const void *ops, struct linux_binprm *bprm);

/*
 * What bpf_ops.c's struct_ops callbacks and kfuncs call, in Rust
 * (rust/kernel_ext/struct_ops.rs), registered with the struct_ops type.
 */
struct bmrs_bpf_callbacks {
	int (*copy_ops_name)(char *dst, const char *src, size_t size);
	int (*reg)(void *kdata, struct bpf_link *link, const char *name, struct bpf_map *map);
	void (*unreg)(void *kdata, struct bpf_link *link);
	int (*set_interp)(struct linux_binprm *bprm, const char *path, size_t size);
	int (*select_interp)(struct linux_binprm *bprm, const char *name, size_t size);
	int (*set_interp_arg)(struct linux_binprm *bprm, const char *arg, size_t size);
	int (*set_flags)(struct linux_binprm *bprm, u64 flags);
	int (*read)(struct linux_binprm *bprm, u64 offset, void *buf, size_t size);
	int (*path)(struct linux_binprm *bprm, char *buf, size_t size);
};

int bmrs_bpf_register(const struct bmrs_bpf_callbacks *callbacks);

#endif
