// SPDX-License-Identifier: GPL-2.0
/*
 * One-line wrappers for static inlines and macros, which Rust cannot call.
 * Each does exactly what its C counterpart does; the prototypes and the reason
 * for each are in binfmt_misc_rs.h.
 */
#include <linux/workqueue.h>

#include "binfmt_misc_rs.h"

struct user_namespace *bmrs_current_user_ns(void)
{
	return current_user_ns();
}

struct user_namespace *bmrs_get_user_ns(struct user_namespace *ns)
{
	return get_user_ns(ns);
}

void bmrs_put_user_ns(struct user_namespace *ns)
{
	put_user_ns(ns);
}

bool bmrs_user_ns_only_ref(struct user_namespace *ns)
{
	return refcount_read(&ns->ns.count) == 1;
}

void bmrs_inode_lock(struct inode *inode)
{
	inode_lock(inode);
}

void bmrs_inode_unlock(struct inode *inode)
{
	inode_unlock(inode);
}

struct dentry *bmrs_dget(struct dentry *dentry)
{
	return dget(dentry);
}

bool bmrs_simple_positive(const struct dentry *dentry)
{
	return simple_positive(dentry);
}

struct dentry *bmrs_lookup_entry(struct dentry *root, const char *name)
{
	struct qstr qname = QSTR_INIT(name, strlen(name));

	return d_hash_and_lookup(root, &qname);
}

struct file *bmrs_file_clone_open(struct file *file)
{
	return file_clone_open(file);
}

int bmrs_exe_file_deny_write_access(struct file *file)
{
	return exe_file_deny_write_access(file);
}

void bmrs_exe_file_allow_write_access(struct file *file)
{
	exe_file_allow_write_access(file);
}

void bmrs_rcu_read_lock(void)
{
	rcu_read_lock();
}

void bmrs_rcu_read_unlock(void)
{
	rcu_read_unlock();
}

void bmrs_binprm_set_execfd(struct linux_binprm *bprm, bool creds)
{
	bprm->have_execfd = 1;
	if (creds)
		bprm->execfd_creds = 1;
}

static void bmrs_collect_workfn(struct work_struct *work)
{
	bmrs_collect_unused();
}

static DECLARE_DELAYED_WORK(bmrs_collect_work, bmrs_collect_workfn);

void bmrs_schedule_collect(unsigned int delay_ms)
{
	mod_delayed_work(system_wq, &bmrs_collect_work, msecs_to_jiffies(delay_ms));
}

void bmrs_cancel_collect(void)
{
	cancel_delayed_work_sync(&bmrs_collect_work);
}
