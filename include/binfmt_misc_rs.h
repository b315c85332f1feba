/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Everything the Rust side calls in C: the kernel headers bindgen turns into
 * rust/bindings_generated.rs, and the prototypes of the helpers in helpers.c.
 * The helpers exist only where Rust cannot reach: static inlines and macros.
 */
#ifndef BINFMT_MISC_RS_H
#define BINFMT_MISC_RS_H

#include <linux/binfmts.h>
#include <linux/cred.h>
#include <linux/dcache.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/fs_context.h>
#include <linux/magic.h>
#include <linux/namei.h>
#include <linux/rcupdate.h>
#include <linux/user_namespace.h>

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
/* linux_binprm's execfd flags are bitfields. */
void bmrs_binprm_set_execfd(struct linux_binprm *bprm, bool creds);

/*
 * A delayed work is built by macros (DECLARE_DELAYED_WORK): it runs
 * bmrs_collect_unused(), in Rust, which frees unused namespaces' instances.
 */
void bmrs_collect_unused(void);
void bmrs_schedule_collect(unsigned int delay_ms);
void bmrs_cancel_collect(void);

#endif
