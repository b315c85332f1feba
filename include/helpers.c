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

int bmrs_single_open_writable(struct file *file, int (*show)(struct seq_file *, void *),
			      void *data)
{
	int err = single_open(file, show, data);

	if (!err)
		file->f_mode |= FMODE_PWRITE;
	return err;
}

void bmrs_binprm_set_execfd(struct linux_binprm *bprm, bool creds)
{
	bprm->have_execfd = 1;
	if (creds)
		bprm->execfd_creds = 1;
}

/*
 * Replaced handler lists and namespace indexes are freed a grace period after
 * they were replaced, in process context (freeing an entry may close files), on
 * a workqueue of the module's own, so that the module's exit can wait for every
 * free it queued. INIT_RCU_WORK() is a macro.
 */
static struct workqueue_struct *bmrs_wq;

int bmrs_workqueue_init(void)
{
	bmrs_wq = alloc_workqueue("binfmt_misc_rs", WQ_UNBOUND, 0);
	return bmrs_wq ? 0 : -ENOMEM;
}

void bmrs_workqueue_exit(void)
{
	struct workqueue_struct *wq = bmrs_wq;

	/* Every queued free is a pending RCU callback, then a work item. */
	rcu_barrier();
	WRITE_ONCE(bmrs_wq, NULL);
	destroy_workqueue(wq);
}

void bmrs_queue_rcu_free(struct rcu_work *rwork, work_func_t free)
{
	struct workqueue_struct *wq = READ_ONCE(bmrs_wq);

	INIT_RCU_WORK(rwork, free);
	/*
	 * The module frees nothing outside the queue's lifetime; should a list
	 * ever be retired without it, it is freed here, late but safely.
	 */
	if (WARN_ON_ONCE(!wq)) {
		synchronize_rcu();
		free(&rwork->work);
		return;
	}
	queue_rcu_work(wq, rwork);
}

/*
 * The module's one delayed work (DECLARE_DELAYED_WORK() is a macro), running
 * the function set up from Rust. The lock orders scheduling against stopping:
 * once bmrs_delayed_work_stop() returns, the work neither runs nor can be
 * scheduled again, so it cannot outlive the module.
 */
static void (*bmrs_delayed_fn)(void);
static bool bmrs_delayed_stopped;
static DEFINE_SPINLOCK(bmrs_delayed_lock);

static void bmrs_delayed_workfn(struct work_struct *work)
{
	bmrs_delayed_fn();
}

static DECLARE_DELAYED_WORK(bmrs_delayed_work, bmrs_delayed_workfn);

int bmrs_delayed_work_setup(void (*fn)(void))
{
	int err = 0;

	spin_lock(&bmrs_delayed_lock);
	if (bmrs_delayed_fn)
		err = -EBUSY;
	else
		bmrs_delayed_fn = fn;
	spin_unlock(&bmrs_delayed_lock);
	return err;
}

void bmrs_delayed_work_schedule(unsigned int delay_ms)
{
	spin_lock(&bmrs_delayed_lock);
	if (bmrs_delayed_fn && !bmrs_delayed_stopped)
		mod_delayed_work(system_wq, &bmrs_delayed_work, msecs_to_jiffies(delay_ms));
	spin_unlock(&bmrs_delayed_lock);
}

void bmrs_delayed_work_stop(void)
{
	spin_lock(&bmrs_delayed_lock);
	bmrs_delayed_stopped = true;
	spin_unlock(&bmrs_delayed_lock);
	cancel_delayed_work_sync(&bmrs_delayed_work);
}
