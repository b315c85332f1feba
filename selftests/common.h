// SPDX-License-Identifier: GPL-2.0
/*
 * Shared by the binfmt_misc selftests: file and exec helpers, user namespace
 * entry, and the `bm` fixture (a private binfmt_misc mount and a scratch dir).
 * Each test program includes it once; it is not a library.
 */
#ifndef BMTEST_COMMON_H
#define BMTEST_COMMON_H

#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <sched.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>

#include "kselftest_harness.h"

#define BINFMTFS_MAGIC		0x42494e4d
#define MAX_REGISTER_LENGTH	1920	/* fs/binfmt_misc.c */
#define BINPRM_BUF_SIZE		256	/* include/uapi/linux/binfmts.h */
#define NOBODY			65534

/* Every script prints its $0 and its arguments. */
#define SCRIPT_BODY		"echo \"ran:$0:$*\"\n"

/* ------------------------------------------------------------------ */
/* Helpers usable anywhere (no harness macros, safe in forked children) */

/* out = dir/name; returns out, or NULL if it does not fit. */
static char *pjoin(char *out, const char *dir, const char *name)
{
	int n = snprintf(out, PATH_MAX, "%s/%s", dir, name);

	return (n < 0 || n >= PATH_MAX) ? NULL : out;
}

/* One write(2) of len bytes; returns its result or -errno. */
static ssize_t write_buf(const char *path, const void *buf, size_t len)
{
	ssize_t n;
	int fd;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, buf, len);
	if (n < 0)
		n = -errno;
	close(fd);
	return n;
}

static ssize_t write_str(const char *path, const char *s)
{
	return write_buf(path, s, strlen(s));
}

/*
 * 0 or -errno: one write of s to path that must take all of it (a short
 * write is -EIO), for loops that only need to know whether it worked.
 */
static inline int write_str_all(const char *path, const char *s)
{
	ssize_t n = write_str(path, s);

	if (n < 0)
		return n;
	return n == (ssize_t)strlen(s) ? 0 : -EIO;
}

/* Reads the whole file into buf (NUL-terminated); returns length or -errno. */
static ssize_t read_file(const char *path, char *buf, size_t size)
{
	size_t len = 0;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (len + 1 < size) {
		n = read(fd, buf + len, size - 1 - len);
		if (n < 0) {
			n = -errno;
			close(fd);
			return n;
		}
		if (n == 0)
			break;
		len += n;
	}
	buf[len] = '\0';
	close(fd);
	return len;
}

/* CLOCK_MONOTONIC in seconds, for deadlines and durations. */
static inline double now_seconds(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

/* /sys/module/<name>/refcnt, or -1 if it cannot be read. */
static inline long module_refcnt(const char *name)
{
	char path[PATH_MAX], buf[64];

	snprintf(path, sizeof(path), "/sys/module/%s/refcnt", name);
	if (read_file(path, buf, sizeof(buf)) <= 0)
		return -1;
	return strtol(buf, NULL, 10);
}

/*
 * Waits up to seconds for the module's refcnt to be want; returns the last
 * reading. References go asynchronously: superblocks of dead mount
 * namespaces, bpf maps of removed entries.
 */
static inline long wait_refcnt(const char *name, long want, int seconds)
{
	long n = module_refcnt(name);
	int i;

	for (i = 0; n != want && i < seconds * 20; i++) {
		usleep(50000);
		n = module_refcnt(name);
	}
	return n;
}

/*
 * delete_module(2) as rmmod does it, without waiting (O_NONBLOCK): 0, or
 * -errno (-EWOULDBLOCK while the module is in use).  glibc has no wrapper.
 */
static inline int delete_module(const char *name)
{
	return syscall(SYS_delete_module, name, O_NONBLOCK) ? -errno : 0;
}

/* Creates path with the given content, then sets mode (not umask-filtered). */
static int make_file(const char *path, const char *content, mode_t mode)
{
	size_t len = strlen(content);
	int fd, ret = 0;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (write(fd, content, len) != (ssize_t)len || fchmod(fd, mode))
		ret = errno ? -errno : -EIO;
	if (close(fd) && !ret)
		ret = -errno;
	return ret;
}

/* Copies src to dst, then sets mode (not umask-filtered); 0 or -errno. */
static inline int copy_file(const char *src, const char *dst, mode_t mode)
{
	int in, out, ret = 0;
	char buf[65536];
	ssize_t n;

	in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return -errno;
	out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (out < 0) {
		ret = -errno;
		close(in);
		return ret;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0) {
		if (write(out, buf, n) != n) {
			ret = -EIO;
			break;
		}
	}
	if (n < 0)
		ret = -errno;
	if (!ret && fchmod(out, mode))
		ret = -errno;
	close(in);
	if (close(out) && !ret)
		ret = -errno;
	return ret;
}

struct run_result {
	int exec_errno;		/* errno of the failed execve(), 0 if it worked */
	int status;		/* wait status of the child */
	char out[4096];		/* captured stdout, NUL-terminated */
};

/*
 * fork + execve(path, argv) with stdout captured through a pipe.  execve()
 * is called directly: libc's execvp() would retry an ENOEXEC file with
 * /bin/sh and hide what the kernel did.  Returns 0 or -errno.
 */
static int run_capture(const char *path, char *const argv[],
		       struct run_result *r)
{
	char *const envp[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL };
	int outp[2], errp[2], e;
	size_t len = 0;
	char sink[256];
	ssize_t n;
	pid_t pid;

	memset(r, 0, sizeof(*r));
	if (pipe2(outp, O_CLOEXEC))
		return -errno;
	if (pipe2(errp, O_CLOEXEC)) {
		e = -errno;
		close(outp[0]);
		close(outp[1]);
		return e;
	}
	pid = fork();
	if (pid < 0) {
		e = -errno;
		close(outp[0]);
		close(outp[1]);
		close(errp[0]);
		close(errp[1]);
		return e;
	}
	if (pid == 0) {
		if (dup2(outp[1], STDOUT_FILENO) < 0)
			_exit(126);
		execve(path, argv, envp);
		e = errno;
		if (write(errp[1], &e, sizeof(e)) != sizeof(e))
			_exit(125);
		_exit(127);
	}
	close(outp[1]);
	close(errp[1]);
	for (;;) {
		if (len + 1 < sizeof(r->out))
			n = read(outp[0], r->out + len, sizeof(r->out) - 1 - len);
		else
			n = read(outp[0], sink, sizeof(sink));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (len + 1 < sizeof(r->out))
			len += n;
	}
	r->out[len] = '\0';
	if (read(errp[0], &e, sizeof(e)) == sizeof(e))
		r->exec_errno = e;
	close(outp[0]);
	close(errp[0]);
	while (waitpid(pid, &r->status, 0) < 0) {
		if (errno != EINTR)
			return -errno;
	}
	return 0;
}

/*
 * Runs path with argv {argv0, "arg1"}.  With want_errno != 0 the execve()
 * must fail with exactly that errno; otherwise it must succeed, exit 0 and
 * print want_out.  Returns NULL on success, else a description.
 */
/* The message buffer of the check functions; a test reads it before the next check. */
static char check_msg[2 * PATH_MAX + 8192];

/*
 * The verdict on a finished run of path: with want_errno != 0 the execve()
 * must have failed with exactly that errno, otherwise it must have run and
 * exited 0.  NULL if so, else a description.
 */
static inline const char *run_verdict(const char *path,
				      const struct run_result *r, int want_errno)
{
	if (want_errno) {
		if (r->exec_errno == want_errno)
			return NULL;
		snprintf(check_msg, sizeof(check_msg),
			 "execve(%s): expected %s, got %s (status 0x%x, output '%s')",
			 path, strerror(want_errno),
			 r->exec_errno ? strerror(r->exec_errno) : "success",
			 r->status, r->out);
		return check_msg;
	}
	if (r->exec_errno) {
		snprintf(check_msg, sizeof(check_msg), "execve(%s) failed: %s",
			 path, strerror(r->exec_errno));
		return check_msg;
	}
	if (!WIFEXITED(r->status) || WEXITSTATUS(r->status)) {
		snprintf(check_msg, sizeof(check_msg),
			 "%s: wait status 0x%x, output '%s'", path, r->status, r->out);
		return check_msg;
	}
	return NULL;
}

#define ARGV(...)	((char *const []){ __VA_ARGS__, NULL })

/* A line built with printf formatting, for expected output; 16 rotating buffers. */
static char *L(const char *fmt, ...) __attribute__((format(printf, 1, 2), unused));
static char *L(const char *fmt, ...)
{
	static char bufs[16][PATH_MAX * 4];
	static int next;
	char *b = bufs[next++ % 16];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(b, sizeof(bufs[0]), fmt, ap);
	va_end(ap);
	return b;
}

/* run_verdict() on a run whose runner returned ret (0 or -errno), or why it
 * could not run. */
static inline const char *run_outcome(const char *path, int ret,
				      const struct run_result *r, int want_errno)
{
	if (ret) {
		snprintf(check_msg, sizeof(check_msg), "running %s: %s", path,
			 strerror(-ret));
		return check_msg;
	}
	return run_verdict(path, r, want_errno);
}

/* Runs path with argv into r and gives run_outcome()'s answer. */
static inline const char *run_judged(const char *path, char *const argv[],
				     int want_errno, struct run_result *r)
{
	return run_outcome(path, run_capture(path, argv, r), r, want_errno);
}

/* Whether out has the line spec; a spec ending in '*' matches a prefix. */
static inline bool has_line(const char *out, const char *spec)
{
	size_t len = strlen(spec);
	bool prefix = len && spec[len - 1] == '*';
	const char *p = out;

	if (prefix)
		len--;
	while (*p) {
		const char *end = strchrnul(p, '\n');

		if ((size_t)(end - p) >= len && !strncmp(p, spec, len) &&
		    (prefix || (size_t)(end - p) == len))
			return true;
		p = *end ? end + 1 : end;
	}
	return false;
}

/* NULL if out has every line of lines (NULL-terminated), else which it lacks. */
static inline const char *missing_line(const char *path, const char *out,
				       const char *const *lines)
{
	for (; lines && *lines; lines++) {
		if (!has_line(out, *lines)) {
			snprintf(check_msg, sizeof(check_msg),
				 "%s: no line '%s' in output '%s'", path, *lines, out);
			return check_msg;
		}
	}
	return NULL;
}

/* out = <dir of this program>/progs/<name> */
static inline char *prog_path(char *out, const char *name)
{
	char self_path[PATH_MAX], *slash;
	ssize_t n = readlink("/proc/self/exe", self_path, sizeof(self_path) - 1);

	if (n <= 0)
		return NULL;
	self_path[n] = '\0';
	slash = strrchr(self_path, '/');
	if (!slash)
		return NULL;
	*slash = '\0';
	if (snprintf(out, PATH_MAX, "%s/progs/%s", self_path, name) >= PATH_MAX)
		return NULL;
	return out;
}

/* Copies progs/probe (prints its argv and AT_EXECFD) to <dir>/name (0755);
 * path receives its path. */
#define COPY_PROBE(path, dir, name) do { \
	char _src[PATH_MAX]; \
	int _r; \
	ASSERT_NE(NULL, prog_path(_src, "probe")); \
	ASSERT_NE(NULL, pjoin(path, dir, name)); \
	_r = copy_file(_src, path, 0755); \
	ASSERT_EQ(0, _r) TH_LOG("copying %s to %s: %s (built progs/probe?)", \
				_src, path, strerror(-_r)); \
} while (0)

static inline const char *check_exec(const char *path, const char *argv0,
				     int want_errno, const char *want_out)
{
	char *argv[] = { (char *)argv0, (char *)"arg1", NULL };
	struct run_result r;
	const char *m;

	m = run_judged(path, argv, want_errno, &r);
	if (m || want_errno)
		return m;
	if (strcmp(r.out, want_out)) {
		snprintf(check_msg, sizeof(check_msg),
			 "%s: output '%s', expected '%s'", path, r.out, want_out);
		return check_msg;
	}
	return NULL;
}

/* "ran:<path>:<args>\n", what SCRIPT_BODY prints when run by /bin/sh. */
static inline const char *ran(char *buf, size_t size, const char *path,
			      const char *args)
{
	snprintf(buf, size, "ran:%s:%s\n", path, args);
	return buf;
}

static int mount_binfmt_misc(const char *dir)
{
	return mount("binfmt_misc", dir, "binfmt_misc", 0, NULL) ? -errno : 0;
}

/* Writes "-1" to every bmtest_* entry under mnt (best effort). */
static void remove_test_entries(const char *mnt)
{
	char names[64][NAME_MAX + 1], path[PATH_MAX];
	int pass, i, n;

	for (pass = 0; pass < 16; pass++) {
		struct dirent *de;
		DIR *d = opendir(mnt);

		if (!d)
			return;
		n = 0;
		while (n < 64 && (de = readdir(d)))
			if (!strncmp(de->d_name, "bmtest_", 7))
				snprintf(names[n++], sizeof(names[0]), "%s",
					 de->d_name);
		closedir(d);
		if (!n)
			return;
		for (i = 0; i < n; i++)
			if (pjoin(path, mnt, names[i]))
				write_str(path, "-1");
	}
}

/* Removes the files and (unmounting them first) directories in dir, then dir. */
static void remove_tree(const char *dir)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d = opendir(dir);

	if (d) {
		while ((de = readdir(d))) {
			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
				continue;
			if (!pjoin(path, dir, de->d_name))
				continue;
			if (unlink(path) && errno == EISDIR) {
				umount2(path, MNT_DETACH);
				rmdir(path);
			}
		}
		closedir(d);
	}
	rmdir(dir);
}

/*
 * unshare(CLONE_NEWUSER | flags), retried for up to 5 s on ENOSPC: tests that
 * probe the max_user_namespaces headroom make namespaces that the kernel frees
 * from a work item, so right after a probe the count may still include them (on
 * SMP guests especially). A failed unshare changes nothing.
 */
static bool userns_probing;	/* set by a probe that wants ENOSPC at once */

static int unshare_userns_retrying(int flags)
{
	int tries;

	for (tries = 0; tries < 100; tries++) {
		if (!unshare(CLONE_NEWUSER | flags))
			return 0;
		if (errno != ENOSPC || userns_probing)
			return -1;
		usleep(50000);
	}
	return -1;
}

/*
 * In a forked child: optionally drop to nobody, then unshare a user
 * namespace (plus `flags`) mapping root to the current uid/gid, and make
 * all mounts private if a mount namespace was unshared.  Returns 0, or
 * -errno with *step naming what failed.
 */
static int enter_userns(bool drop_privs, int flags, const char **step)
{
	char map[64];
	uid_t uid;
	gid_t gid;

	if (drop_privs) {
		*step = "setgroups";
		if (setgroups(0, NULL))
			return -errno;
		*step = "setresgid";
		if (setresgid(NOBODY, NOBODY, NOBODY))
			return -errno;
		*step = "setresuid";
		if (setresuid(NOBODY, NOBODY, NOBODY))
			return -errno;
		/* Changing euid cleared dumpable, which makes /proc/self root's. */
		*step = "prctl(PR_SET_DUMPABLE)";
		if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0))
			return -errno;
	}
	uid = geteuid();
	gid = getegid();
	*step = "unshare";
	if (unshare_userns_retrying(flags))
		return -errno;
	*step = "write /proc/self/setgroups";
	if (write_str("/proc/self/setgroups", "deny") < 0)
		return -errno;
	snprintf(map, sizeof(map), "0 %u 1", (unsigned int)uid);
	*step = "write /proc/self/uid_map";
	if (write_str("/proc/self/uid_map", map) < 0)
		return -errno;
	snprintf(map, sizeof(map), "0 %u 1", (unsigned int)gid);
	*step = "write /proc/self/gid_map";
	if (write_str("/proc/self/gid_map", map) < 0)
		return -errno;
	if (flags & CLONE_NEWNS) {
		*step = "make / private";
		if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
			return -errno;
	}
	return 0;
}

/* Child-side failure report: print and exit 1. */
#define CHILD_FAIL(fmt, ...) do { \
	fprintf(stderr, "# child (line %d): " fmt "\n", __LINE__, ##__VA_ARGS__); \
	_exit(1); \
} while (0)

#define CHILD_EXEC(path, want_errno, want_out) do { \
	const char *_m = check_exec(path, path, want_errno, want_out); \
	if (_m) \
		CHILD_FAIL("%s", _m); \
} while (0)

/* Enter a user namespace or exit; unavailable userns -> exit KSFT_SKIP. */
static inline void child_enter_userns(bool drop_privs, int flags)
{
	const char *step = "";
	int ret = enter_userns(drop_privs, flags, &step);

	if (!ret)
		return;
	fprintf(stderr, "# child: %s: %s\n", step, strerror(-ret));
	if (!strcmp(step, "unshare") &&
	    (ret == -EPERM || ret == -ENOSPC || ret == -EUSERS || ret == -EINVAL))
		_exit(KSFT_SKIP);
	_exit(1);
}

/* ------------------------------------------------------------------ */
/* Harness-side helpers (they use _metadata, so only in the test process) */

#define EXPECT_EXEC_OK(path, argv0, want_out) do { \
	const char *_m = check_exec(path, argv0, 0, want_out); \
	EXPECT_TRUE(_m == NULL) TH_LOG("%s", _m); \
} while (0)

#define EXPECT_EXEC_ERR(path, err) do { \
	const char *_m = check_exec(path, path, err, NULL); \
	EXPECT_TRUE(_m == NULL) TH_LOG("%s", _m); \
} while (0)

/* The file's whole content must equal want. */
#define EXPECT_FILE(path, want) do { \
	char _buf[8192]; \
	ssize_t _n = read_file(path, _buf, sizeof(_buf)); \
	EXPECT_EQ((ssize_t)strlen(want), _n) TH_LOG("reading %s", path); \
	if (_n >= 0) { \
		EXPECT_STREQ(want, _buf) TH_LOG("reading %s", path); \
	} \
} while (0)

#define EXPECT_ABSENT(path) do { \
	EXPECT_EQ(-1, access(path, F_OK)) TH_LOG("%s exists", path); \
	EXPECT_EQ(ENOENT, errno) TH_LOG("%s: %s", path, strerror(errno)); \
} while (0)

/* Waits for pid; returns its exit code, or -1 on signal/error. */
static int wait_exit(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	fprintf(stderr, "# child %d: wait status 0x%x\n", (int)pid, st);
	return -1;
}


/*
 * A private binfmt_misc mount per test.  All mounts made in the init user
 * namespace share one superblock (one handler list), so each test uses its
 * own bmtest_* names/extensions and teardown removes any left behind.
 */
FIXTURE(bm)
{
	char tmp[PATH_MAX];	/* scratch dir, 0755 */
	char mnt[PATH_MAX];	/* binfmt_misc mount point */
	char reg[PATH_MAX];	/* <mnt>/register */
	char status[PATH_MAX];	/* <mnt>/status */
	bool mounted;
};

FIXTURE_SETUP(bm)
{
	const char *base = getenv("BMTEST_TMPDIR");
	int ret;

	if (!base || !*base)
		base = "/tmp";
	snprintf(self->tmp, sizeof(self->tmp), "%s/bmtest_tmp.XXXXXX", base);
	snprintf(self->mnt, sizeof(self->mnt), "%s/bmtest_mnt.XXXXXX", base);
	ASSERT_NE(NULL, mkdtemp(self->tmp)) TH_LOG("mkdtemp: %s", strerror(errno));
	ASSERT_EQ(0, chmod(self->tmp, 0755));
	ASSERT_NE(NULL, mkdtemp(self->mnt)) TH_LOG("mkdtemp: %s", strerror(errno));
	ret = mount_binfmt_misc(self->mnt);
	ASSERT_EQ(0, ret) TH_LOG("mount -t binfmt_misc %s: %s", self->mnt, strerror(-ret));
	self->mounted = true;
	ASSERT_NE(NULL, pjoin(self->reg, self->mnt, "register"));
	ASSERT_NE(NULL, pjoin(self->status, self->mnt, "status"));
}

FIXTURE_TEARDOWN(bm)
{
	if (self->mounted) {
		remove_test_entries(self->mnt);
		write_str(self->status, "1");
		if (umount2(self->mnt, 0))
			umount2(self->mnt, MNT_DETACH);
	}
	rmdir(self->mnt);
	remove_tree(self->tmp);
}

/* Register str through <mnt>/register; the write must consume all of it. */
#define REGISTER(str) do { \
	const char *_s = (str); \
	ssize_t _r = write_str(self->reg, _s); \
	ASSERT_EQ((ssize_t)strlen(_s), _r) \
		TH_LOG("register '%s': %s", _s, _r < 0 ? strerror(-_r) : "short write"); \
} while (0)

/* Creates <tmp>/name with content (mode 0755); path receives its path. */
#define MAKE_SCRIPT(path, name, content) do { \
	ASSERT_NE(NULL, pjoin(path, self->tmp, name)); \
	ASSERT_EQ(0, make_file(path, content, 0755)) TH_LOG("creating %s", path); \
} while (0)

/*
 * Which implementation is loaded: "rust" (binfmt_misc_rs) or "c" (the kernel's
 * binfmt_misc.ko), from $BMTEST_IMPL, else from /sys/module.  Tests of behaviour
 * where we follow newer upstream on purpose (see README) expect 6.12's
 * behaviour from the C module and upstream's from ours, and say so.
 */
static inline bool impl_is_c(void)
{
	const char *impl = getenv("BMTEST_IMPL");

	if (impl && *impl)
		return !strcmp(impl, "c");
	return access("/sys/module/binfmt_misc_rs", F_OK) != 0;
}

#endif /* BMTEST_COMMON_H */
