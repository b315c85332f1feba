// SPDX-License-Identifier: GPL-2.0
/*
 * binfmt_misc sandboxes: instances keyed by user namespace (upstream since
 * 6.7), seen from the use case of an unprivileged container that registers
 * its own handlers in its own mount and runs foreign binaries with them,
 * without touching the host's.
 *
 * The tests run as root and every sandbox drops to an unprivileged uid
 * (SB_UID and friends, not 65534, so that "owned by the sandbox's root" and
 * "the overflow uid" can be told apart from outside) before it creates its
 * user and mount namespaces.
 */
#include "common.h"

#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

#define SB_UID		1234	/* a sandbox's root, outside */
#define SB2_UID		1235	/* a sibling sandbox's root, outside */
#define SB_RANGE	1300	/* outside id of uid 1 of a range-mapped sandbox */
#define FREE_UID	1240	/* only the namespace-release test uses it */
#define STRESS_UID	1241	/* only the stress test uses it */
#define OVERFLOW_ID	65534	/* /proc/sys/kernel/overflowuid, overflowgid */

static const char max_userns[] = "/proc/sys/user/max_user_namespaces";

/* ------------------------------------------------------------------ */
/* Synchronisation between the test and its sandboxes: one byte a step */

static bool post(int fd)
{
	char c = 'x';

	return write(fd, &c, 1) == 1;
}

/* False when the other side went away instead. */
static bool await(int fd)
{
	ssize_t n;
	char c;

	do {
		n = read(fd, &c, 1);
	} while (n < 0 && errno == EINTR);
	return n == 1;
}

#define CHILD_AWAIT(fd) do { \
	if (!await(fd)) \
		CHILD_FAIL("the other side went away"); \
} while (0)

/* ------------------------------------------------------------------ */
/* Sandboxes                                                            */

/* In a child: become id:id with no supplementary groups. */
static void child_drop_to(uid_t id)
{
	if (setgroups(0, NULL) || setresgid(id, id, id) || setresuid(id, id, id))
		CHILD_FAIL("dropping to %u: %s", (unsigned int)id, strerror(errno));
	/* Changing euid cleared dumpable, which makes /proc/self root's. */
	if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0))
		CHILD_FAIL("PR_SET_DUMPABLE: %s", strerror(errno));
}

/*
 * In a child: drop to id, then unshare a user namespace (plus flags) whose
 * root is id, as an unprivileged container runtime does.  With a new mount
 * namespace all mounts are made private.  The child dies with its parent.
 */
static void child_sandbox(uid_t id, int flags)
{
	char map[64];

	child_drop_to(id);
	if (unshare_userns_retrying(flags))
		CHILD_FAIL("unshare as %u: %s", (unsigned int)id, strerror(errno));
	if (write_str("/proc/self/setgroups", "deny") < 0)
		CHILD_FAIL("setgroups deny: %s", strerror(errno));
	snprintf(map, sizeof(map), "0 %u 1", (unsigned int)id);
	if (write_str("/proc/self/uid_map", map) < 0)
		CHILD_FAIL("uid_map: %s", strerror(errno));
	if (write_str("/proc/self/gid_map", map) < 0)
		CHILD_FAIL("gid_map: %s", strerror(errno));
	if ((flags & CLONE_NEWNS) && mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
		CHILD_FAIL("make / private: %s", strerror(errno));
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
}

/* In a child: a user namespace nested in the current one, root mapped to root. */
static void child_nest(int flags)
{
	child_enter_userns(false, flags);
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
}

static void child_mount(const char *dir)
{
	int ret = mount_binfmt_misc(dir);

	if (ret)
		CHILD_FAIL("mount binfmt_misc on %s: %s", dir, strerror(-ret));
}

static void child_umount(const char *dir)
{
	if (umount2(dir, 0))
		CHILD_FAIL("umount %s: %s", dir, strerror(errno));
}

static void child_register(const char *mnt, const char *str)
{
	char path[PATH_MAX];
	ssize_t n = write_str(pjoin(path, mnt, "register"), str);

	if (n != (ssize_t)strlen(str))
		CHILD_FAIL("register '%s' in %s: %s", str, mnt,
			   n < 0 ? strerror(-n) : "short write");
}

static bool has_entry(const char *mnt, const char *name)
{
	char path[PATH_MAX];

	return pjoin(path, mnt, name) && !access(path, F_OK);
}

/* mnt/name must read exactly want. */
static void child_expect_file(const char *mnt, const char *name, const char *want)
{
	char path[PATH_MAX], buf[4096];
	ssize_t n = read_file(pjoin(path, mnt, name), buf, sizeof(buf));

	if (n < 0)
		CHILD_FAIL("reading %s: %s", path, strerror(-n));
	if (strcmp(buf, want))
		CHILD_FAIL("%s reads '%s', expected '%s'", path, buf, want);
}

/* An interpreter script that prints "<tag>:<binary>:<first argument>". */
static int make_interp(char *path, const char *tmp, const char *name,
		       const char *tag)
{
	char body[256];

	if (!pjoin(path, tmp, name))
		return -ENAMETOOLONG;
	snprintf(body, sizeof(body), "#!/bin/sh\necho \"%s:$1:$2\"\n", tag);
	return make_file(path, body, 0755);
}

#define MAKE_INTERP(path, name, tag) \
	ASSERT_EQ(0, make_interp(path, self->tmp, name, tag)) TH_LOG("creating %s", name)

/* What a binary run with argv {path, "arg1"} prints through make_interp(tag). */
static const char *tagged(char *buf, size_t size, const char *tag, const char *path)
{
	snprintf(buf, size, "%s:%s:arg1\n", tag, path);
	return buf;
}

/* A directory under tmp that any sandbox may mount on. */
#define MAKE_DIR(path, name) do { \
	ASSERT_NE(NULL, pjoin(path, self->tmp, name)); \
	ASSERT_EQ(0, mkdir(path, 0777)); \
	ASSERT_EQ(0, chmod(path, 0777)); \
} while (0)

/* ------------------------------------------------------------------ */
/* User namespace accounting                                            */

/*
 * How many more user namespaces uid `id` may create now, at most `most`:
 * a child drops to id and nests namespaces until creation fails. Every
 * level is charged to id in the init namespace, against the
 * max_user_namespaces limit; the chain is freed when the child exits.
 */
static int headroom_as(uid_t id, int most)
{
	pid_t pid = fork();
	int n;

	if (pid < 0)
		return -1;
	if (pid == 0) {
		const char *step;

		child_drop_to(id);
		userns_probing = true;
		for (n = 0; n < most; n++)
			if (enter_userns(false, 0, &step))
				break;
		_exit(n);
	}
	return wait_exit(pid);
}

/* headroom_as() once two readings agree: namespaces are freed from a work item. */
static int settled_headroom(uid_t id, int most)
{
	int prev = -2, h = -1, tries;

	for (tries = 0; tries < 50; tries++) {
		h = headroom_as(id, most);
		if (h == prev)
			break;
		prev = h;
		usleep(100000);
	}
	return h;
}

/*
 * Waits up to `seconds` for id's headroom to be back to `want`; returns the
 * last reading. Our module drops a namespace's instance from a delayed
 * collection (up to a minute later), the C module with the namespace.
 */
static int headroom_back(uid_t id, int want, int seconds)
{
	double start = now_seconds();
	int h;

	for (;;) {
		h = headroom_as(id, want);
		if (h == want || now_seconds() - start >= seconds)
			return h;
		usleep(250000);
	}
}

/* ------------------------------------------------------------------ */
/* File descriptor passing                                              */

static int send_fd(int sock, int fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	char c = 'f';
	struct iovec iov = { .iov_base = &c, .iov_len = 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);

	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	cmsg->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
	return sendmsg(sock, &msg, 0) == 1 ? 0 : -1;
}

static int recv_fd(int sock)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	char c;
	struct iovec iov = { .iov_base = &c, .iov_len = 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cmsg;
	int fd;

	if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) != 1)
		return -1;
	cmsg = CMSG_FIRSTHDR(&msg);
	if (!cmsg || cmsg->cmsg_type != SCM_RIGHTS)
		return -1;
	memcpy(&fd, CMSG_DATA(cmsg), sizeof(int));
	return fd;
}

/* ------------------------------------------------------------------ */
/* 1. A sandbox's handlers are its own                                 */

/*
 * Sandbox A mounts its instance and registers a handler; it runs in A.
 * The host gets ENOEXEC, and so do a sibling sandbox without a mount of its
 * own (it sees the host's instance) and a sibling with its own instance, even
 * one whose root is the same outside uid: instances are keyed by namespace.
 */
TEST_F(bm, sandbox_handlers_private)
{
	char dir_a[PATH_MAX], dir_c[PATH_MAX], script[PATH_MAX], interp[PATH_MAX];
	char reg[PATH_MAX + 64], want[2 * PATH_MAX], path[PATH_MAX];
	int ready[2], done[2];
	pid_t a, pid;

	MAKE_DIR(dir_a, "mnt_a");
	MAKE_DIR(dir_c, "mnt_c");
	MAKE_SCRIPT(script, "p.bmtestpriv", SCRIPT_BODY);
	MAKE_INTERP(interp, "interp_priv", "sandboxA");
	snprintf(reg, sizeof(reg), ":bmtest_priv:E::bmtestpriv::%s:", interp);
	EXPECT_EXEC_ERR(script, ENOEXEC);
	ASSERT_EQ(0, pipe2(ready, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(done, O_CLOEXEC));

	fflush(stdout);
	a = fork();
	ASSERT_LE(0, a);
	if (a == 0) {
		close(ready[0]);
		close(done[1]);
		child_sandbox(SB_UID, CLONE_NEWNS);
		child_mount(dir_a);
		child_register(dir_a, reg);
		CHILD_EXEC(script, 0, tagged(want, sizeof(want), "sandboxA", script));
		post(ready[1]);
		CHILD_AWAIT(done[0]);
		/* The siblings changed nothing here. */
		CHILD_EXEC(script, 0, tagged(want, sizeof(want), "sandboxA", script));
		if (!has_entry(dir_a, "bmtest_priv"))
			CHILD_FAIL("own entry gone");
		_exit(0);
	}
	close(ready[1]);
	close(done[0]);
	ASSERT_TRUE(await(ready[0])) TH_LOG("sandbox A failed to set up");

	/* The host's instance knows nothing of it. */
	EXPECT_EXEC_ERR(script, ENOEXEC);
	ASSERT_NE(NULL, pjoin(path, self->mnt, "bmtest_priv"));
	EXPECT_ABSENT(path);

	/* A sibling sandbox without a mount: the host's handlers, none here. */
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		child_sandbox(SB2_UID, 0);
		CHILD_EXEC(script, ENOEXEC, NULL);
		_exit(0);
	}
	EXPECT_EQ(0, wait_exit(pid)) TH_LOG("sibling without a mount");

	/* A sibling with its own instance, same outside uid as A. */
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		child_sandbox(SB_UID, CLONE_NEWNS);
		child_mount(dir_c);
		if (has_entry(dir_c, "bmtest_priv"))
			CHILD_FAIL("sandbox A's entry visible in a sibling's instance");
		CHILD_EXEC(script, ENOEXEC, NULL);
		/* The same name is free in another instance. */
		child_register(dir_c, ":bmtest_priv:E::bmtestpriv::/bin/sh:");
		CHILD_EXEC(script, 0, ran(want, sizeof(want), script, "arg1"));
		_exit(0);
	}
	EXPECT_EQ(0, wait_exit(pid)) TH_LOG("sibling with its own mount");

	post(done[1]);
	EXPECT_EQ(0, wait_exit(a)) TH_LOG("sandbox A");
	EXPECT_EXEC_ERR(script, ENOEXEC);
	EXPECT_FILE(self->status, "enabled\n");
}

/* ------------------------------------------------------------------ */
/* 2. The host's handlers apply until the sandbox's first mount         */

/*
 * Before its first mount a sandbox runs the host's handlers.  Its first mount
 * creates its instance, which stays with the user namespace: after umount,
 * exec in that namespace, from any process (one forked before the mount, in
 * another mount namespace, in a nested user namespace), uses the empty
 * instance, also for host handlers registered later.  The host keeps its own.
 */
TEST_F(bm, sandbox_first_mount_detaches_host)
{
	char dir[PATH_MAX], s1[PATH_MAX], s2[PATH_MAX], ih[PATH_MAX], is[PATH_MAX];
	char reg[PATH_MAX + 64], want[2 * PATH_MAX];
	int umounted[2], later[2], go2[2];
	pid_t a, a2, pid;

	MAKE_DIR(dir, "mnt");
	MAKE_SCRIPT(s1, "d.bmtestdet", SCRIPT_BODY);
	MAKE_SCRIPT(s2, "d.bmtestdet2", SCRIPT_BODY);
	MAKE_INTERP(ih, "interp_host", "host");
	MAKE_INTERP(is, "interp_sb", "sandbox");
	snprintf(reg, sizeof(reg), ":bmtest_det:E::bmtestdet::%s:", ih);
	REGISTER(reg);
	ASSERT_EQ(0, pipe2(umounted, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(later, O_CLOEXEC));

	fflush(stdout);
	a = fork();
	ASSERT_LE(0, a);
	if (a == 0) {
		close(umounted[0]);
		close(later[1]);
		child_sandbox(SB_UID, CLONE_NEWNS);
		CHILD_EXEC(s1, 0, tagged(want, sizeof(want), "host", s1));

		/* Another process of the sandbox, there before the mount. */
		if (pipe2(go2, O_CLOEXEC))
			CHILD_FAIL("pipe: %s", strerror(errno));
		a2 = fork();
		if (a2 < 0)
			CHILD_FAIL("fork: %s", strerror(errno));
		if (a2 == 0) {
			close(go2[1]);
			CHILD_AWAIT(go2[0]);
			CHILD_EXEC(s1, ENOEXEC, NULL);
			CHILD_EXEC(s2, ENOEXEC, NULL);
			if (unshare(CLONE_NEWNS))
				CHILD_FAIL("unshare(CLONE_NEWNS): %s", strerror(errno));
			CHILD_EXEC(s1, ENOEXEC, NULL);
			pid = fork();
			if (pid == 0) {
				child_nest(0);
				/* The nearest instance is the sandbox's, empty. */
				CHILD_EXEC(s1, ENOEXEC, NULL);
				_exit(0);
			}
			if (wait_exit(pid))
				CHILD_FAIL("nested user namespace");
			_exit(0);
		}
		close(go2[0]);

		child_mount(dir);
		child_umount(dir);
		CHILD_EXEC(s1, ENOEXEC, NULL);
		post(umounted[1]);
		CHILD_AWAIT(later[0]);
		/* Registered on the host after the sandbox's umount. */
		CHILD_EXEC(s2, ENOEXEC, NULL);
		post(go2[1]);
		if (wait_exit(a2))
			CHILD_FAIL("the sandbox's other process");

		/* Mounted again: the same instance, empty and enabled. */
		child_mount(dir);
		if (has_entry(dir, "bmtest_det"))
			CHILD_FAIL("host's entry in the sandbox's instance");
		child_expect_file(dir, "status", "enabled\n");
		snprintf(reg, sizeof(reg), ":bmtest_det:E::bmtestdet::%s:", is);
		child_register(dir, reg);
		CHILD_EXEC(s1, 0, tagged(want, sizeof(want), "sandbox", s1));
		child_umount(dir);
		CHILD_EXEC(s1, ENOEXEC, NULL);
		_exit(0);
	}
	close(umounted[1]);
	close(later[0]);
	ASSERT_TRUE(await(umounted[0])) TH_LOG("sandbox failed before its umount");
	snprintf(reg, sizeof(reg), ":bmtest_det2:E::bmtestdet2::%s:", ih);
	REGISTER(reg);
	EXPECT_EXEC_OK(s2, s2, tagged(want, sizeof(want), "host", s2));
	post(later[1]);
	EXPECT_EQ(0, wait_exit(a));

	/* The host's handler is untouched. */
	EXPECT_EXEC_OK(s1, s1, tagged(want, sizeof(want), "host", s1));
}

/* ------------------------------------------------------------------ */
/* 3. Nested user namespaces                                            */

/*
 * init (host handler) > L1 (own instance) > L2 > L3: exec uses the nearest
 * namespace with an instance.  L3 uses L1's, not init's; once L2 mounts, L3
 * (already running) uses L2's, and while L2's is disabled, none at all.
 * L2's instance does not change what L1 uses.
 */
TEST_F(bm, nested_userns_nearest_instance)
{
	char d1[PATH_MAX], d2[PATH_MAX], s[PATH_MAX], ih[PATH_MAX], i1[PATH_MAX];
	char i2[PATH_MAX], reg[PATH_MAX + 64], want[2 * PATH_MAX], path[PATH_MAX];
	int l3ready[2], l2mounted[2], l3ack[2], l2disabled[2];
	pid_t l1, l2, l3;

	MAKE_DIR(d1, "mnt1");
	MAKE_DIR(d2, "mnt2");
	MAKE_SCRIPT(s, "n.bmtestnest", SCRIPT_BODY);
	MAKE_INTERP(ih, "interp_host", "host");
	MAKE_INTERP(i1, "interp_l1", "level1");
	MAKE_INTERP(i2, "interp_l2", "level2");
	snprintf(reg, sizeof(reg), ":bmtest_nest:E::bmtestnest::%s:", ih);
	REGISTER(reg);

	fflush(stdout);
	l1 = fork();
	ASSERT_LE(0, l1);
	if (l1 == 0) {
		child_sandbox(SB_UID, CLONE_NEWNS);
		CHILD_EXEC(s, 0, tagged(want, sizeof(want), "host", s));
		child_mount(d1);
		snprintf(reg, sizeof(reg), ":bmtest_nest:E::bmtestnest::%s:", i1);
		child_register(d1, reg);
		CHILD_EXEC(s, 0, tagged(want, sizeof(want), "level1", s));

		if (pipe2(l3ready, O_CLOEXEC) || pipe2(l2mounted, O_CLOEXEC) ||
		    pipe2(l3ack, O_CLOEXEC) || pipe2(l2disabled, O_CLOEXEC))
			CHILD_FAIL("pipe: %s", strerror(errno));
		l2 = fork();
		if (l2 < 0)
			CHILD_FAIL("fork: %s", strerror(errno));
		if (l2 == 0) {
			child_nest(0);
			CHILD_EXEC(s, 0, tagged(want, sizeof(want), "level1", s));
			l3 = fork();
			if (l3 < 0)
				CHILD_FAIL("fork: %s", strerror(errno));
			if (l3 == 0) {
				close(l3ready[0]);
				close(l3ack[0]);
				close(l2mounted[1]);
				close(l2disabled[1]);
				child_nest(0);
				/* No instance in L3 nor L2: L1's, not init's. */
				CHILD_EXEC(s, 0, tagged(want, sizeof(want), "level1", s));
				post(l3ready[1]);
				CHILD_AWAIT(l2mounted[0]);
				CHILD_EXEC(s, 0, tagged(want, sizeof(want), "level2", s));
				post(l3ack[1]);
				CHILD_AWAIT(l2disabled[0]);
				CHILD_EXEC(s, ENOEXEC, NULL);
				_exit(0);
			}
			close(l3ready[1]);
			close(l3ack[1]);
			close(l2mounted[0]);
			close(l2disabled[0]);
			CHILD_AWAIT(l3ready[0]);
			if (unshare(CLONE_NEWNS) ||
			    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
				CHILD_FAIL("L2 mount namespace: %s", strerror(errno));
			child_mount(d2);
			if (has_entry(d2, "bmtest_nest"))
				CHILD_FAIL("L1's entry in L2's instance");
			snprintf(reg, sizeof(reg), ":bmtest_nest:E::bmtestnest::%s:", i2);
			child_register(d2, reg);
			CHILD_EXEC(s, 0, tagged(want, sizeof(want), "level2", s));
			post(l2mounted[1]);
			CHILD_AWAIT(l3ack[0]);
			if (write_str(pjoin(path, d2, "status"), "0") != 1)
				CHILD_FAIL("disabling L2's instance");
			CHILD_EXEC(s, ENOEXEC, NULL);
			post(l2disabled[1]);
			if (wait_exit(l3))
				CHILD_FAIL("level 3");
			_exit(0);
		}
		close(l3ready[0]);
		close(l3ready[1]);
		close(l2mounted[0]);
		close(l2mounted[1]);
		close(l3ack[0]);
		close(l3ack[1]);
		close(l2disabled[0]);
		close(l2disabled[1]);
		if (wait_exit(l2))
			CHILD_FAIL("level 2");
		/* A child namespace's instance is not its parent's. */
		CHILD_EXEC(s, 0, tagged(want, sizeof(want), "level1", s));
		if (has_entry(d1, "bmtest_nest") != true)
			CHILD_FAIL("L1's entry gone");
		_exit(0);
	}
	EXPECT_EQ(0, wait_exit(l1));
	EXPECT_EXEC_OK(s, s, tagged(want, sizeof(want), "host", s));
}

/* ------------------------------------------------------------------ */
/* 4. All mounts of one user namespace are one instance                 */

static void expect_same_dev(const char *a, const char *b)
{
	struct stat sa, sb;

	if (stat(a, &sa) || stat(b, &sb))
		CHILD_FAIL("stat %s, %s: %s", a, b, strerror(errno));
	if (sa.st_dev != sb.st_dev)
		CHILD_FAIL("%s and %s are different superblocks", a, b);
}

/*
 * Two simultaneous mounts in a sandbox share entries and status; unmounting
 * one and mounting it again shows the same entries; a fresh mount in a new
 * mount namespace of the same user namespace too.  Only when no mount is
 * left anywhere do the entries go (6.12: they live in the superblock).
 */
TEST_F(bm, same_userns_mounts_share_entries)
{
	char da[PATH_MAX], db[PATH_MAX], dc[PATH_MAX], s3[PATH_MAX], want[2 * PATH_MAX];
	const char *e1 = "enabled\ninterpreter /bin/sh\nflags: \nextension .bmtestrm1\n";
	char path[PATH_MAX];
	pid_t a, c;

	MAKE_DIR(da, "mnt_a");
	MAKE_DIR(db, "mnt_b");
	MAKE_DIR(dc, "mnt_c");
	MAKE_SCRIPT(s3, "r.bmtestrm3", SCRIPT_BODY);

	fflush(stdout);
	a = fork();
	ASSERT_LE(0, a);
	if (a == 0) {
		child_sandbox(SB_UID, CLONE_NEWNS);
		child_mount(da);
		child_register(da, ":bmtest_rm1:E::bmtestrm1::/bin/sh:");
		child_mount(db);
		expect_same_dev(da, db);
		child_expect_file(db, "bmtest_rm1", e1);
		child_register(db, ":bmtest_rm2:E::bmtestrm2::/bin/sh:");
		if (!has_entry(da, "bmtest_rm2"))
			CHILD_FAIL("entry registered through one mount missing in the other");
		if (write_str(pjoin(path, db, "status"), "0") != 1)
			CHILD_FAIL("status <- 0");
		child_expect_file(da, "status", "disabled\n");
		if (write_str(pjoin(path, da, "status"), "1") != 1)
			CHILD_FAIL("status <- 1");
		child_expect_file(db, "status", "enabled\n");

		/* One of two unmounted and mounted again. */
		child_umount(da);
		child_mount(da);
		expect_same_dev(da, db);
		child_expect_file(da, "bmtest_rm1", e1);
		if (!has_entry(da, "bmtest_rm2"))
			CHILD_FAIL("bmtest_rm2 lost by the remount");

		/* Another mount namespace, same user namespace. */
		c = fork();
		if (c < 0)
			CHILD_FAIL("fork: %s", strerror(errno));
		if (c == 0) {
			struct stat before, after;

			if (unshare(CLONE_NEWNS) ||
			    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
				CHILD_FAIL("new mount namespace: %s", strerror(errno));
			if (stat(da, &before))
				CHILD_FAIL("stat: %s", strerror(errno));
			/* Drop the copies: only a fresh mount is left. */
			child_umount(da);
			child_umount(db);
			child_mount(dc);
			if (stat(dc, &after))
				CHILD_FAIL("stat: %s", strerror(errno));
			if (before.st_dev != after.st_dev)
				CHILD_FAIL("new mount namespace got another superblock");
			child_expect_file(dc, "bmtest_rm1", e1);
			if (!has_entry(dc, "bmtest_rm2"))
				CHILD_FAIL("bmtest_rm2 missing in the new mount namespace");
			child_register(dc, ":bmtest_rm3:E::bmtestrm3::/bin/sh:");
			child_umount(dc);
			_exit(0);
		}
		if (wait_exit(c))
			CHILD_FAIL("other mount namespace");
		if (!has_entry(da, "bmtest_rm3"))
			CHILD_FAIL("entry from the other mount namespace missing");
		CHILD_EXEC(s3, 0, ran(want, sizeof(want), s3, "arg1"));

		/* The last mount anywhere goes: so do the entries. */
		child_umount(db);
		child_umount(da);
		CHILD_EXEC(s3, ENOEXEC, NULL);
		child_mount(da);
		if (has_entry(da, "bmtest_rm1") || has_entry(da, "bmtest_rm3"))
			CHILD_FAIL("entries outlived the last mount");
		child_umount(da);
		_exit(0);
	}
	EXPECT_EQ(0, wait_exit(a));
	EXPECT_EXEC_ERR(s3, ENOEXEC);
}

/* ------------------------------------------------------------------ */
/* 5. A sandbox's instances go with its user namespaces                 */

/*
 * A sandbox with three nested user namespaces, two with instances holding
 * entries (one with F, which pins a file) and left mounted at exit.  While it
 * lives, its namespaces count against its uid's max_user_namespaces limit;
 * once it exited, they (and so no instance) keep any count.
 */
TEST_F_TIMEOUT(bm, sandbox_userns_chain_freed, 120)
{
	char d1[PATH_MAX], d2[PATH_MAX], s[PATH_MAX], saved[64], want[2 * PATH_MAX];
	int ready[2], release[2];
	int before, during, after;
	double start;
	pid_t a;

	MAKE_DIR(d1, "mnt1");
	MAKE_DIR(d2, "mnt2");
	MAKE_SCRIPT(s, "f.bmtestfree", SCRIPT_BODY);
	ASSERT_LT(0, read_file(max_userns, saved, sizeof(saved)));
	ASSERT_EQ(0, pipe2(ready, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(release, O_CLOEXEC));
	ASSERT_LT(0, write_str(max_userns, "12"));

	before = settled_headroom(FREE_UID, 12);
	EXPECT_EQ(12, before);

	fflush(stdout);
	a = fork();
	if (a == 0) {
		pid_t l2;

		close(ready[0]);
		close(release[1]);
		child_sandbox(FREE_UID, CLONE_NEWNS);
		child_mount(d1);
		child_register(d1, ":bmtest_free:E::bmtestfree::/bin/sh:");
		child_register(d1, ":bmtest_freef:E::bmtestfreef::/bin/sh:F");
		l2 = fork();
		if (l2 == 0) {
			pid_t l3;

			child_nest(CLONE_NEWNS);
			child_mount(d2);
			child_register(d2, ":bmtest_free:E::bmtestfree::/bin/sh:F");
			l3 = fork();
			if (l3 == 0) {
				child_nest(0);
				CHILD_EXEC(s, 0, ran(want, sizeof(want), s, "arg1"));
				post(ready[1]);
				/* Released by the test closing its end. */
				await(release[0]);
				_exit(0);
			}
			close(ready[1]);
			close(release[0]);
			_exit(wait_exit(l3) ? 1 : 0);
		}
		close(ready[1]);
		close(release[0]);
		/* Exit with everything mounted: the mount namespaces clean up. */
		_exit(wait_exit(l2) ? 1 : 0);
	}
	close(ready[1]);
	close(release[0]);
	if (a > 0 && await(ready[0])) {
		during = settled_headroom(FREE_UID, 12);
		EXPECT_EQ(before - 3, during)
			TH_LOG("the sandbox's 3 namespaces are not counted");
	} else {
		EXPECT_TRUE(false) TH_LOG("the sandbox failed to set up");
	}
	close(release[1]);
	EXPECT_EQ(0, wait_exit(a));

	start = now_seconds();
	after = headroom_back(FREE_UID, before, 75);
	EXPECT_EQ(before, after) TH_LOG("the sandbox's user namespaces stayed alive");
	TH_LOG("namespaces released after %.1f s", now_seconds() - start);
	EXPECT_LT(0, write_str(max_userns, saved));
	EXPECT_EXEC_ERR(s, ENOEXEC);
}

/*
 * Up to 1000 sandboxes (as many as fit in 50 s) one after the other: create user + mount namespace, mount,
 * register (every 4th with F), every 50th exec through it, unmount (every
 * other one leaves that to its exit), exit.  All work, the host never sees a
 * handler, and afterwards no namespace of them is left.  The runner checks
 * kmemleak and the kernel log after the run.
 */
TEST_F_TIMEOUT(bm, stress_sandbox_cycles, 260)
{
	char dir[PATH_MAX], s[PATH_MAX], sf[PATH_MAX], saved[64], want[2 * PATH_MAX];
	int i, cycles = 0, failures = 0, after;
	double start;
	pid_t pid;

	MAKE_DIR(dir, "mnt");
	MAKE_SCRIPT(s, "s.bmteststress", SCRIPT_BODY);
	MAKE_SCRIPT(sf, "s.bmteststressf", SCRIPT_BODY);
	ASSERT_LT(0, read_file(max_userns, saved, sizeof(saved)));

	fflush(stdout);
	start = now_seconds();
	/*
	 * 50 s, or longer on a slow machine until it has been a stress run of 150
	 * cycles (a cycle takes ~0.15 s under TCG with the debug kernel, twice that
	 * when the host is busy), but never past 150 s.
	 */
	for (i = 0; i < 1000 && now_seconds() - start < 150 &&
		    (now_seconds() - start < 50 || cycles < 150); i++) {
		pid = fork();
		ASSERT_LE(0, pid);
		if (pid == 0) {
			bool f = i % 4 == 0;

			child_sandbox(STRESS_UID, CLONE_NEWNS);
			child_mount(dir);
			child_register(dir, f ? ":bmtest_stf:E::bmteststressf::/bin/sh:F" :
						":bmtest_st:E::bmteststress::/bin/sh:");
			if (i % 50 == 0)
				CHILD_EXEC(f ? sf : s, 0,
					   ran(want, sizeof(want), f ? sf : s, "arg1"));
			if (i % 2)
				child_umount(dir);
			_exit(0);
		}
		if (wait_exit(pid))
			failures++;
		cycles++;
	}
	TH_LOG("%d cycles in %.1f s", cycles, now_seconds() - start);
	EXPECT_EQ(0, failures);
	EXPECT_LE(150, cycles);
	EXPECT_EXEC_ERR(s, ENOEXEC);
	EXPECT_EXEC_ERR(sf, ENOEXEC);

	/* None of them is left: the uid can create its full quota again. */
	ASSERT_LT(0, write_str(max_userns, "8"));
	start = now_seconds();
	after = headroom_back(STRESS_UID, 8, 75);
	EXPECT_EQ(8, after) TH_LOG("user namespaces of the stress run stayed alive");
	TH_LOG("namespaces released after %.1f s", now_seconds() - start);
	EXPECT_LT(0, write_str(max_userns, saved));
}

/* ------------------------------------------------------------------ */
/* 6. A container manager registers for the sandbox                      */

/*
 * The sandbox mounts its instance; a root process outside joins its user and
 * mount namespaces in one setns(pidfd) and registers there.  The handler runs
 * in the sandbox (and for the manager, now in its user namespace), not on
 * the host, and its file belongs to the sandbox's root.
 */
TEST_F(bm, manager_setns_registers)
{
	char dir[PATH_MAX], script[PATH_MAX], interp[PATH_MAX], reg[PATH_MAX + 64];
	char want[2 * PATH_MAX], path[PATH_MAX];
	int ready[2], go[2];
	pid_t s, m;

	MAKE_DIR(dir, "mnt");
	MAKE_SCRIPT(script, "m.bmtestmgr", SCRIPT_BODY);
	MAKE_INTERP(interp, "interp_mgr", "manager");
	snprintf(reg, sizeof(reg), ":bmtest_mgr:E::bmtestmgr::%s:", interp);
	ASSERT_EQ(0, pipe2(ready, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(go, O_CLOEXEC));

	fflush(stdout);
	s = fork();
	ASSERT_LE(0, s);
	if (s == 0) {
		struct stat st;

		close(ready[0]);
		close(go[1]);
		child_sandbox(SB_UID, CLONE_NEWNS);
		child_mount(dir);
		post(ready[1]);
		CHILD_AWAIT(go[0]);
		if (stat(pjoin(path, dir, "bmtest_mgr"), &st))
			CHILD_FAIL("manager's entry: %s", strerror(errno));
		if (st.st_uid != 0 || st.st_gid != 0)
			CHILD_FAIL("manager's entry owned by %u:%u inside",
				   st.st_uid, st.st_gid);
		CHILD_EXEC(script, 0, tagged(want, sizeof(want), "manager", script));
		_exit(0);
	}
	close(ready[1]);
	close(go[0]);
	ASSERT_TRUE(await(ready[0])) TH_LOG("sandbox failed to set up");

	m = fork();
	ASSERT_LE(0, m);
	if (m == 0) {
		int pidfd = syscall(SYS_pidfd_open, s, 0);
		ssize_t n;

		if (pidfd < 0)
			CHILD_FAIL("pidfd_open: %s", strerror(errno));
		if (setns(pidfd, CLONE_NEWUSER | CLONE_NEWNS))
			CHILD_FAIL("setns(pidfd, CLONE_NEWUSER | CLONE_NEWNS): %s",
				   strerror(errno));
		close(pidfd);
		n = write_str(pjoin(path, dir, "register"), reg);
		if (n != (ssize_t)strlen(reg))
			CHILD_FAIL("manager's register: %s", n < 0 ? strerror(-n) : "short");
		CHILD_EXEC(script, 0, tagged(want, sizeof(want), "manager", script));
		_exit(0);
	}
	EXPECT_EQ(0, wait_exit(m)) TH_LOG("manager");

	EXPECT_EXEC_ERR(script, ENOEXEC);
	ASSERT_NE(NULL, pjoin(path, self->mnt, "bmtest_mgr"));
	EXPECT_ABSENT(path);
	post(go[1]);
	EXPECT_EQ(0, wait_exit(s)) TH_LOG("sandbox");
}

/*
 * The qemu-user case: the manager registers with F an interpreter the
 * sandbox cannot open.  F opens it with the manager's credentials (those of
 * whoever opened register), so the sandbox runs it; without F the sandbox
 * opens it itself at exec and is refused.
 */
TEST_F(bm, manager_pins_interpreter_for_sandbox)
{
	char dir[PATH_MAX], pf[PATH_MAX], pn[PATH_MAX], secret[PATH_MAX];
	char regf[PATH_MAX + 64], regn[PATH_MAX + 64], want[2 * PATH_MAX], path[PATH_MAX];
	int ready[2], go[2];
	pid_t s, m;

	MAKE_DIR(dir, "mnt");
	MAKE_SCRIPT(pf, "p.bmtestmpinf", SCRIPT_BODY);
	MAKE_SCRIPT(pn, "p.bmtestmpinn", SCRIPT_BODY);
	/* A binary (a script's shell would have to open it again): echo, 0700. */
	ASSERT_NE(NULL, pjoin(secret, self->tmp, "secret_echo"));
	ASSERT_EQ(0, copy_file("/bin/echo", secret, 0700));
	snprintf(regf, sizeof(regf), ":bmtest_mpinf:E::bmtestmpinf::%s:F", secret);
	snprintf(regn, sizeof(regn), ":bmtest_mpinn:E::bmtestmpinn::%s:", secret);
	ASSERT_EQ(0, pipe2(ready, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(go, O_CLOEXEC));

	fflush(stdout);
	s = fork();
	ASSERT_LE(0, s);
	if (s == 0) {
		int fd;

		close(ready[0]);
		close(go[1]);
		child_sandbox(SB_UID, CLONE_NEWNS);
		child_mount(dir);
		fd = open(secret, O_RDONLY);
		if (fd >= 0 || errno != EACCES)
			CHILD_FAIL("the sandbox can open the interpreter (%d, %s)",
				   fd, strerror(errno));
		post(ready[1]);
		CHILD_AWAIT(go[0]);
		snprintf(want, sizeof(want), "%s arg1\n", pf);
		CHILD_EXEC(pf, 0, want);
		CHILD_EXEC(pn, EACCES, NULL);
		_exit(0);
	}
	close(ready[1]);
	close(go[0]);
	ASSERT_TRUE(await(ready[0])) TH_LOG("sandbox failed to set up");

	m = fork();
	ASSERT_LE(0, m);
	if (m == 0) {
		int pidfd = syscall(SYS_pidfd_open, s, 0);

		if (pidfd < 0 || setns(pidfd, CLONE_NEWUSER | CLONE_NEWNS))
			CHILD_FAIL("joining the sandbox: %s", strerror(errno));
		child_register(dir, regf);
		child_register(dir, regn);
		_exit(0);
	}
	EXPECT_EQ(0, wait_exit(m)) TH_LOG("manager");
	post(go[1]);
	EXPECT_EQ(0, wait_exit(s)) TH_LOG("sandbox");
	ASSERT_NE(NULL, pjoin(path, self->mnt, "bmtest_mpinf"));
	EXPECT_ABSENT(path);
	EXPECT_EXEC_ERR(pf, ENOEXEC);
}

/* ------------------------------------------------------------------ */
/* 7. Permissions                                                        */

static void expect_owner(const char *path, uid_t uid, gid_t gid, mode_t mode)
{
	struct stat st;

	if (stat(path, &st))
		CHILD_FAIL("stat %s: %s", path, strerror(errno));
	if (st.st_uid != uid || st.st_gid != gid || st.st_mode != mode)
		CHILD_FAIL("%s: %u:%u mode 0%o, expected %u:%u 0%o", path,
			   st.st_uid, st.st_gid, st.st_mode, uid, gid, mode);
}

/* open(path, flags) must fail with err. */
static void expect_open_err(const char *path, int flags, int err)
{
	int fd = open(path, flags | O_CLOEXEC);

	if (fd >= 0)
		CHILD_FAIL("open %s (0x%x) worked, expected %s", path, flags, strerror(err));
	if (errno != err)
		CHILD_FAIL("open %s (0x%x): %s, expected %s", path, flags,
			   strerror(errno), strerror(err));
}

/*
 * A sandbox with a uid range (the manager writes uid_map 0 -> SB_UID,
 * 1..8 -> SB_RANGE..): the instance's files belong to the sandbox's root
 * (0:0 inside, SB_UID outside, the overflow id where SB_UID is unmapped).
 * Its uid 1 can read but not register, change status or remove entries, and
 * cannot mount binfmt_misc; its own nested namespace does not help.
 */
TEST_F(bm, sandbox_nonroot_denied)
{
	char dir[PATH_MAX], d2[PATH_MAX], script[PATH_MAX], reg[PATH_MAX], st[PATH_MAX];
	char entry[PATH_MAX], root_path[2 * PATH_MAX], want[2 * PATH_MAX], map[128];
	int ready[2], mapped[2], mounted[2], checked[2];
	pid_t s;

	MAKE_DIR(dir, "mnt");
	MAKE_DIR(d2, "mnt2");
	MAKE_SCRIPT(script, "n.bmtestperm", SCRIPT_BODY);
	ASSERT_NE(NULL, pjoin(reg, dir, "register"));
	ASSERT_NE(NULL, pjoin(st, dir, "status"));
	ASSERT_NE(NULL, pjoin(entry, dir, "bmtest_perm"));
	ASSERT_EQ(0, pipe2(ready, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(mapped, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(mounted, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(checked, O_CLOEXEC));

	fflush(stdout);
	s = fork();
	ASSERT_LE(0, s);
	if (s == 0) {
		pid_t u;

		close(ready[0]);
		close(mapped[1]);
		close(mounted[0]);
		close(checked[1]);
		child_drop_to(SB_UID);
		if (unshare_userns_retrying(CLONE_NEWNS))
			CHILD_FAIL("unshare: %s", strerror(errno));
		post(ready[1]);
		CHILD_AWAIT(mapped[0]);
		prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
		if (geteuid() != 0 || getegid() != 0)
			CHILD_FAIL("not root in the sandbox: %u:%u", geteuid(), getegid());
		if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
			CHILD_FAIL("make / private: %s", strerror(errno));
		child_mount(dir);
		child_register(dir, ":bmtest_perm:E::bmtestperm::/bin/sh:");
		expect_owner(dir, 0, 0, S_IFDIR | 0755);
		expect_owner(reg, 0, 0, S_IFREG | 0200);
		expect_owner(st, 0, 0, S_IFREG | 0644);
		expect_owner(entry, 0, 0, S_IFREG | 0644);
		post(mounted[1]);
		CHILD_AWAIT(checked[0]);

		u = fork();
		if (u < 0)
			CHILD_FAIL("fork: %s", strerror(errno));
		if (u == 0) {
			const char *step;
			int ret;

			if (setgroups(0, NULL) || setresgid(1, 1, 1) || setresuid(1, 1, 1))
				CHILD_FAIL("becoming uid 1: %s", strerror(errno));
			prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
			expect_open_err(reg, O_WRONLY, EACCES);
			expect_open_err(st, O_WRONLY, EACCES);
			expect_open_err(entry, O_WRONLY, EACCES);
			expect_open_err(st, O_RDWR, EACCES);
			if (!unlink(entry) || errno != EACCES)
				CHILD_FAIL("unlink %s: %s, expected EACCES", entry, strerror(errno));
			child_expect_file(dir, "status", "enabled\n");
			child_expect_file(dir, "bmtest_perm",
					  "enabled\ninterpreter /bin/sh\nflags: \nextension .bmtestperm\n");
			ret = mount_binfmt_misc(d2);
			if (ret != -EPERM)
				CHILD_FAIL("mount as uid 1: %s, expected EPERM",
					   ret ? strerror(-ret) : "success");
			/* The handler still serves uid 1. */
			CHILD_EXEC(script, 0, ran(want, sizeof(want), script, "arg1"));

			/* Root of its own namespace, where the files' owner is unmapped. */
			ret = enter_userns(false, 0, &step);
			if (ret)
				CHILD_FAIL("uid 1's user namespace: %s: %s", step, strerror(-ret));
			expect_owner(reg, OVERFLOW_ID, OVERFLOW_ID, S_IFREG | 0200);
			expect_owner(entry, OVERFLOW_ID, OVERFLOW_ID, S_IFREG | 0644);
			expect_open_err(reg, O_WRONLY, EACCES);
			expect_open_err(entry, O_WRONLY, EACCES);
			_exit(0);
		}
		if (wait_exit(u))
			CHILD_FAIL("uid 1");
		if (!has_entry(dir, "bmtest_perm"))
			CHILD_FAIL("uid 1 removed the entry");
		child_expect_file(dir, "status", "enabled\n");
		_exit(0);
	}
	close(ready[1]);
	close(mapped[0]);
	close(mounted[1]);
	close(checked[0]);
	ASSERT_TRUE(await(ready[0]));
	snprintf(map, sizeof(map), "0 %u 1\n1 %u 8\n", SB_UID, SB_RANGE);
	snprintf(root_path, sizeof(root_path), "/proc/%d/uid_map", (int)s);
	EXPECT_LT(0, write_str(root_path, map)) TH_LOG("writing %s", root_path);
	snprintf(root_path, sizeof(root_path), "/proc/%d/gid_map", (int)s);
	EXPECT_LT(0, write_str(root_path, map)) TH_LOG("writing %s", root_path);
	post(mapped[1]);

	if (await(mounted[0])) {
		struct stat sb;

		/* Seen from the host: owned by the sandbox's root. */
		snprintf(root_path, sizeof(root_path), "/proc/%d/root%s", (int)s, reg);
		EXPECT_EQ(0, stat(root_path, &sb)) TH_LOG("stat %s: %s", root_path, strerror(errno));
		EXPECT_EQ((uid_t)SB_UID, sb.st_uid);
		EXPECT_EQ((gid_t)SB_UID, sb.st_gid);
		snprintf(root_path, sizeof(root_path), "/proc/%d/root%s", (int)s, entry);
		EXPECT_EQ(0, stat(root_path, &sb)) TH_LOG("stat %s: %s", root_path, strerror(errno));
		EXPECT_EQ((uid_t)SB_UID, sb.st_uid);
		EXPECT_EQ((gid_t)SB_UID, sb.st_gid);
	}
	post(checked[1]);
	EXPECT_EQ(0, wait_exit(s));
}

/*
 * fsopen() records the opener's user namespace.  A nested namespace B cannot
 * create a superblock from its parent A's context (no CAP_SYS_ADMIN over A:
 * EPERM); A, although privileged over B, cannot create one from B's context
 * either (6.12's bm_fill_super: EINVAL).  Each mounts from its own.  Without
 * any namespace an unprivileged uid gets EPERM.
 */
TEST_F(bm, foreign_fscontext_refused)
{
	char da[PATH_MAX], db[PATH_MAX];
	pid_t a, pid;

	MAKE_DIR(da, "mnt_a");
	MAKE_DIR(db, "mnt_b");

	fflush(stdout);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int ret;

		child_drop_to(SB_UID);
		ret = mount_binfmt_misc(da);
		if (ret != -EPERM)
			CHILD_FAIL("mount as uid %u: %s, expected EPERM", SB_UID,
				   ret ? strerror(-ret) : "success");
		if (fsopen("binfmt_misc", FSOPEN_CLOEXEC) >= 0 || errno != EPERM)
			CHILD_FAIL("fsopen as uid %u: %s, expected EPERM", SB_UID,
				   strerror(errno));
		_exit(0);
	}
	EXPECT_EQ(0, wait_exit(pid)) TH_LOG("unprivileged uid");

	a = fork();
	ASSERT_LE(0, a);
	if (a == 0) {
		int fd_a, fd_b, mfd, sv[2];
		pid_t b;

		child_sandbox(SB_UID, CLONE_NEWNS);
		fd_a = fsopen("binfmt_misc", FSOPEN_CLOEXEC);
		if (fd_a < 0)
			CHILD_FAIL("fsopen in A: %s", strerror(errno));
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
			CHILD_FAIL("socketpair: %s", strerror(errno));
		b = fork();
		if (b < 0)
			CHILD_FAIL("fork: %s", strerror(errno));
		if (b == 0) {
			close(sv[0]);
			child_nest(CLONE_NEWNS);
			if (!fsconfig(fd_a, FSCONFIG_CMD_CREATE, NULL, NULL, 0) ||
			    errno != EPERM)
				CHILD_FAIL("B creating from A's context: %s, expected EPERM",
					   strerror(errno));
			fd_b = fsopen("binfmt_misc", FSOPEN_CLOEXEC);
			if (fd_b < 0)
				CHILD_FAIL("fsopen in B: %s", strerror(errno));
			if (send_fd(sv[1], fd_b))
				CHILD_FAIL("send_fd: %s", strerror(errno));
			CHILD_AWAIT(sv[1]);
			child_mount(db);
			child_expect_file(db, "status", "enabled\n");
			_exit(0);
		}
		close(sv[1]);
		fd_b = recv_fd(sv[0]);
		if (fd_b < 0)
			CHILD_FAIL("recv_fd: %s", strerror(errno));
		if (!fsconfig(fd_b, FSCONFIG_CMD_CREATE, NULL, NULL, 0) || errno != EINVAL)
			CHILD_FAIL("A creating from B's context: %s, expected EINVAL",
				   strerror(errno));
		post(sv[0]);
		if (wait_exit(b))
			CHILD_FAIL("B");

		/* A's own context works. */
		if (fsconfig(fd_a, FSCONFIG_CMD_CREATE, NULL, NULL, 0))
			CHILD_FAIL("A creating from its context: %s", strerror(errno));
		mfd = fsmount(fd_a, FSMOUNT_CLOEXEC, 0);
		if (mfd < 0)
			CHILD_FAIL("fsmount: %s", strerror(errno));
		if (move_mount(mfd, "", AT_FDCWD, da, MOVE_MOUNT_F_EMPTY_PATH))
			CHILD_FAIL("move_mount: %s", strerror(errno));
		close(mfd);
		close(fd_a);
		child_expect_file(da, "status", "enabled\n");
		child_register(da, ":bmtest_fsc:E::bmtestfsc::/bin/sh:");
		child_umount(da);
		_exit(0);
	}
	EXPECT_EQ(0, wait_exit(a)) TH_LOG("sandbox");
}

/*
 * F opens the interpreter with the credentials register was opened with: a
 * sandbox cannot pin a file it cannot open.  Without F the registration is
 * accepted and exec fails opening the interpreter; an interpreter it can
 * open is pinned and runs.
 */
TEST_F(bm, sandbox_cannot_pin_unopenable)
{
	char dir[PATH_MAX], sno[PATH_MAX], sok[PATH_MAX], secret[PATH_MAX], ok[PATH_MAX];
	char reg[PATH_MAX + 64], want[2 * PATH_MAX], path[PATH_MAX];
	pid_t s;

	MAKE_DIR(dir, "mnt");
	MAKE_SCRIPT(sno, "x.bmtestpinno", SCRIPT_BODY);
	MAKE_SCRIPT(sok, "x.bmtestpinok", SCRIPT_BODY);
	MAKE_INTERP(ok, "interp_ok", "pinned");
	ASSERT_NE(NULL, pjoin(secret, self->tmp, "secret_interp"));
	ASSERT_EQ(0, make_file(secret, "#!/bin/sh\necho secret\n", 0700));

	fflush(stdout);
	s = fork();
	ASSERT_LE(0, s);
	if (s == 0) {
		ssize_t n;

		child_sandbox(SB_UID, CLONE_NEWNS);
		child_mount(dir);
		snprintf(reg, sizeof(reg), ":bmtest_pinno:E::bmtestpinno::%s:F", secret);
		n = write_str(pjoin(path, dir, "register"), reg);
		if (n != -EACCES)
			CHILD_FAIL("register F of an unopenable interpreter: %s, expected EACCES",
				   n < 0 ? strerror(-n) : "success");
		if (has_entry(dir, "bmtest_pinno"))
			CHILD_FAIL("refused entry exists");
		CHILD_EXEC(sno, ENOEXEC, NULL);

		snprintf(reg, sizeof(reg), ":bmtest_pinok:E::bmtestpinok::%s:F", ok);
		child_register(dir, reg);
		CHILD_EXEC(sok, 0, tagged(want, sizeof(want), "pinned", sok));

		snprintf(reg, sizeof(reg), ":bmtest_pinno:E::bmtestpinno::%s:", secret);
		child_register(dir, reg);
		CHILD_EXEC(sno, EACCES, NULL);
		_exit(0);
	}
	EXPECT_EQ(0, wait_exit(s));
	/* Root on the host can use that interpreter, but has no such handler. */
	EXPECT_EXEC_ERR(sno, ENOEXEC);
}

/* ------------------------------------------------------------------ */
/* 8. A user namespace dies around a running exec                        */

/* Forks a process that execs path with stdout on out; "err:<errno>" if it fails. */
static pid_t spawn_worker(const char *path, int out)
{
	pid_t pid = fork();

	if (pid == 0) {
		char *const argv[] = { (char *)path, (char *)"arg1", NULL };
		char *const envp[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL };
		char line[32];
		int len;

		if (dup2(out, STDOUT_FILENO) < 0)
			_exit(1);
		execve(path, argv, envp);
		len = snprintf(line, sizeof(line), "err:%d\n", errno);
		_exit(write(STDOUT_FILENO, line, len) == len ? 0 : 1);
	}
	return pid;
}

static int count_lines(const char *buf, const char *prefix)
{
	size_t len = strlen(prefix);
	const char *p = buf;
	int n = 0;

	while (*p) {
		if (!strncmp(p, prefix, len))
			n++;
		p = strchrnul(p, '\n');
		if (*p)
			p++;
	}
	return n;
}

/*
 * In a sandbox, one exec through its handlers runs its (slow) interpreter;
 * more start while the sandbox unmounts its only mount (so the entries go)
 * and its main process exits: the workers are then the user namespace's last
 * processes, and it dies with the last of them.  Every exec either ran to the
 * end or found no handler (ENOEXEC); nothing else, and no kernel complaint.
 */
TEST_F_TIMEOUT(bm, userns_dies_during_handled_exec, 60)
{
	char dir[PATH_MAX], s1[PATH_MAX], s2[PATH_MAX], slow[PATH_MAX], reg[PATH_MAX + 64];
	static char buf[16384];
	int out[2], workers = 9, bad = 0, st, start, done, enoexec;
	size_t len = 0;
	ssize_t n;
	pid_t s, pid;

	MAKE_DIR(dir, "mnt");
	MAKE_SCRIPT(s1, "w.bmtestdie", SCRIPT_BODY);
	MAKE_SCRIPT(s2, "w.bmtestdief", SCRIPT_BODY);
	ASSERT_NE(NULL, pjoin(slow, self->tmp, "slow_interp"));
	ASSERT_EQ(0, make_file(slow, "#!/bin/sh\necho \"start:$1\"\nsleep 0.3\necho \"done:$1\"\n",
			       0755));
	ASSERT_EQ(0, prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0));
	ASSERT_EQ(0, pipe2(out, O_CLOEXEC));

	fflush(stdout);
	s = fork();
	ASSERT_LE(0, s);
	if (s == 0) {
		char c = 0;
		int i;

		child_sandbox(SB_UID, CLONE_NEWNS);
		child_mount(dir);
		snprintf(reg, sizeof(reg), ":bmtest_die:E::bmtestdie::%s:", slow);
		child_register(dir, reg);
		snprintf(reg, sizeof(reg), ":bmtest_dief:E::bmtestdief::%s:F", slow);
		child_register(dir, reg);
		if (spawn_worker(s1, out[1]) < 0)
			CHILD_FAIL("fork: %s", strerror(errno));
		/* Its interpreter runs once it printed its first line. */
		while (c != '\n')
			if (read(out[0], &c, 1) != 1)
				CHILD_FAIL("first worker: no output");
		for (i = 1; i < workers; i++)
			if (spawn_worker(i % 2 ? s2 : s1, out[1]) < 0)
				CHILD_FAIL("fork: %s", strerror(errno));
		child_umount(dir);
		_exit(0);
	}
	close(out[1]);
	EXPECT_EQ(0, wait_exit(s)) TH_LOG("sandbox");

	/* EOF once every worker is gone. */
	while (len + 1 < sizeof(buf) &&
	       (n = read(out[0], buf + len, sizeof(buf) - 1 - len)) > 0)
		len += n;
	buf[len] = '\0';
	close(out[0]);
	while ((pid = waitpid(-1, &st, 0)) > 0)
		if (!WIFEXITED(st) || WEXITSTATUS(st))
			bad++;
	EXPECT_EQ(0, bad) TH_LOG("workers failed");

	/* The sandbox read the first worker's "start" line. */
	start = count_lines(buf, "start:") + 1;
	done = count_lines(buf, "done:");
	enoexec = count_lines(buf, "err:8");
	TH_LOG("%d execs ran, %d found no handler", done, enoexec);
	EXPECT_EQ(start, done) TH_LOG("output:\n%s", buf);
	EXPECT_EQ(workers, done + enoexec) TH_LOG("output:\n%s", buf);
	EXPECT_LE(1, done);
	EXPECT_EXEC_ERR(s1, ENOEXEC);
	EXPECT_EXEC_ERR(s2, ENOEXEC);
}

TEST_HARNESS_MAIN
