// SPDX-License-Identifier: GPL-2.0
/*
 * Exec behaviour and lifetime rules of binfmt_misc: the argv the interpreter
 * gets, the O, C and F flags, errors at exec, recursion through the exec
 * core, match order, file modes, removal racing with exec, and the module's
 * reference counting.  Expectations are what 6.12's fs/binfmt_misc.c does,
 * except where a comment says "DIFFERS FROM 6.12 ON PURPOSE": there we
 * follow newer upstream and expect 6.12's behaviour only from the C module.
 *
 * The interpreter is progs/probe (next to this program), copied into the
 * scratch dir; it prints its argv, AT_EXECFD and credentials.
 *
 * Run as root in a disposable test VM.  module_unload_reload unloads the
 * module ($BMTEST_MODULE) and loads it again from $BMTEST_MODULE_KO.
 */
#include "common.h"

#include <stdarg.h>
#include <sys/mman.h>
#include <sys/syscall.h>

/* ------------------------------------------------------------------ */
/* Running a program with a set-up child, output captured              */

struct xopts {
	bool nobody;		/* run as uid/gid 65534, no groups */
	const char *hide;	/* new mount ns with a tmpfs over this dir */
	const char *root;	/* chroot here */
	const char *cwd;	/* then chdir here */
	const char *env;	/* one environment string besides PATH */
	int stdin_fd;		/* dup'ed to stdin if > 0 */
	int by_fd;		/* 1: execveat(open(path), "", AT_EMPTY_PATH),
				 * 2: the same with the fd close-on-exec */
};

static const struct xopts as_root;
static const struct xopts as_nobody = { .nobody = true };

/* Child side of xrun(): set up as o says, then exec; never returns. */
static void xchild(const char *path, char *const argv[], const struct xopts *o,
		   int outfd, int errfd)
{
	char *envp[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", (char *)o->env, NULL };
	int e, fd = -1;

	if (dup2(outfd, STDOUT_FILENO) < 0)
		_exit(126);
	if (o->stdin_fd > 0 && dup2(o->stdin_fd, STDIN_FILENO) < 0)
		_exit(126);
	if (o->hide) {
		if (unshare(CLONE_NEWNS) ||
		    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
		    mount("tmpfs", o->hide, "tmpfs", 0, "mode=0755")) {
			fprintf(stderr, "# child: hiding %s: %s\n", o->hide, strerror(errno));
			_exit(126);
		}
	}
	if (o->root && (chroot(o->root) || chdir("/"))) {
		fprintf(stderr, "# child: chroot %s: %s\n", o->root, strerror(errno));
		_exit(126);
	}
	if (o->cwd && chdir(o->cwd)) {
		fprintf(stderr, "# child: chdir %s: %s\n", o->cwd, strerror(errno));
		_exit(126);
	}
	if (o->by_fd) {
		fd = open(path, O_PATH | (o->by_fd == 2 ? O_CLOEXEC : 0));
		if (fd < 0) {
			fprintf(stderr, "# child: open %s: %s\n", path, strerror(errno));
			_exit(126);
		}
	}
	if (o->nobody && (setgroups(0, NULL) || setresgid(NOBODY, NOBODY, NOBODY) ||
			  setresuid(NOBODY, NOBODY, NOBODY))) {
		fprintf(stderr, "# child: becoming nobody: %s\n", strerror(errno));
		_exit(126);
	}
	if (o->by_fd)
		syscall(SYS_execveat, fd, "", argv, envp, AT_EMPTY_PATH);
	else
		execve(path, argv, envp);
	e = errno;
	if (write(errfd, &e, sizeof(e)) != sizeof(e))
		_exit(125);
	_exit(127);
}

/* run_capture() with a child set up by o.  Returns 0 or -errno. */
static int xrun(const char *path, char *const argv[], const struct xopts *o,
		struct run_result *r)
{
	int outp[2], errp[2], e;
	size_t len = 0;
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
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid == 0)
		xchild(path, argv, o, outp[1], errp[1]);
	close(outp[1]);
	close(errp[1]);
	if (pid < 0) {
		e = -errno;
		close(outp[0]);
		close(errp[0]);
		return e;
	}
	while (len + 1 < sizeof(r->out)) {
		n = read(outp[0], r->out + len, sizeof(r->out) - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += n;
	}
	r->out[len] = '\0';
	if (read(errp[0], &e, sizeof(e)) == sizeof(e))
		r->exec_errno = e;
	close(outp[0]);
	close(errp[0]);
	while (waitpid(pid, &r->status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return 0;
}

/*
 * Runs path; with want_errno the exec must fail with it, else it must run,
 * exit 0 and print every line of lines (NULL-terminated).  NULL if so, else
 * a description.
 */
static const char *xcheck(const char *path, char *const argv[],
			  const struct xopts *o, int want_errno,
			  const char *const *lines)
{
	struct run_result r;
	const char *m;

	m = run_outcome(path, xrun(path, argv, o, &r), &r, want_errno);
	if (m || want_errno)
		return m;
	return missing_line(path, r.out, lines);
}

/* Exec must work and print each of the lines given. */
#define EXPECT_RUN(path, argv, opts, ...) do { \
	const char *_m = xcheck(path, argv, opts, 0, \
				(const char *const []){ __VA_ARGS__, NULL }); \
	EXPECT_TRUE(_m == NULL) TH_LOG("%s", _m); \
} while (0)

/* Exec must fail with err. */
#define EXPECT_RUN_ERR(path, opts, err) do { \
	const char *_m = xcheck(path, ARGV((char *)(path), "arg1"), opts, err, NULL); \
	EXPECT_TRUE(_m == NULL) TH_LOG("%s", _m); \
} while (0)


/* ------------------------------------------------------------------ */
/* Files                                                               */

/* Creates <dir>/name with content and mode; path receives its path. */
#define MAKE(path, dir, name, content, mode) do { \
	ASSERT_NE(NULL, pjoin(path, dir, name)); \
	ASSERT_EQ(0, make_file(path, content, mode)) TH_LOG("creating %s", path); \
} while (0)

/* Creates <dir>/name, a directory of the given mode; path receives its path. */
#define MKDIR(path, dir, name, mode) do { \
	ASSERT_NE(NULL, pjoin(path, dir, name)); \
	ASSERT_EQ(0, mkdir(path, mode)) TH_LOG("mkdir %s: %s", path, strerror(errno)); \
	ASSERT_EQ(0, chmod(path, mode)); \
} while (0)

/* Registers the printf-formatted string. */
#define REGISTERF(fmt, ...) REGISTER(L(fmt, ##__VA_ARGS__))

/*
 * The write to register of the formatted string must fail with err, or with
 * err 0 take all of it.  Unlike REGISTER() it never ends the test.
 */
#define REGISTER_ERR(err, fmt, ...) do { \
	const char *_s = L(fmt, ##__VA_ARGS__); \
	ssize_t _r = write_str(self->reg, _s); \
	EXPECT_EQ((err) ? -(ssize_t)(err) : (ssize_t)strlen(_s), _r) \
		TH_LOG("register '%s': %s", _s, \
		       _r < 0 ? strerror(-_r) : "accepted"); \
} while (0)

/* <mnt>/name */
static char *entry_path(char *out, const char *mnt, const char *name)
{
	return pjoin(out, mnt, name);
}

/* ------------------------------------------------------------------ */
/* 1. argv                                                             */

TEST_F(bm, argv_layout)
{
	char probe[PATH_MAX], bin[PATH_MAX], binp[PATH_MAX], sub[PATH_MAX];

	COPY_PROBE(probe, self->tmp, "probe");
	MAKE(bin, self->tmp, "a.bmtestargv", "BMTEST-argv\n", 0755);
	MAKE(binp, self->tmp, "a.bmtestargvp", "BMTEST-argvp\n", 0755);
	REGISTERF(":bmtest_argv:E::bmtestargv::%s:", probe);
	REGISTERF(":bmtest_argvp:E::bmtestargvp::%s:P", probe);

	/* No P: {interp, path, argv[1..]}; argv[0] is dropped. */
	EXPECT_RUN(bin, ARGV("bmargv0", "one", "", "two words"), &as_root,
		   L("argv=%s|%s|one||two words", probe, bin), "execfd=none",
		   "open1=ok", "cred=0:0:0:0");
	EXPECT_RUN(bin, ARGV("bmargv0"), &as_root, L("argv=%s|%s", probe, bin));
	/* P: {interp, path, argv[0], argv[1..]}. */
	EXPECT_RUN(binp, ARGV("bmargv0", "one", "", "two words"), &as_root,
		   L("argv=%s|%s|bmargv0|one||two words", probe, binp),
		   "execfd=none");
	EXPECT_RUN(binp, ARGV("bmargv0"), &as_root,
		   L("argv=%s|%s|bmargv0", probe, binp));

	/* The path is the one given to execve(), relative stays relative. */
	EXPECT_RUN("./a.bmtestargv", ARGV("x", "arg1"),
		   (&(struct xopts){ .cwd = self->tmp }),
		   L("argv=%s|./a.bmtestargv|arg1", probe), "open1=ok");
	MKDIR(sub, self->tmp, "sub", 0755);
	EXPECT_RUN("../a.bmtestargvp", ARGV("x", "arg1"),
		   (&(struct xopts){ .cwd = sub }),
		   L("argv=%s|../a.bmtestargvp|x|arg1", probe));
}

/* ------------------------------------------------------------------ */
/* 2. O                                                                */

TEST_F(bm, open_binary_execfd)
{
	char probe[PATH_MAX], bin[PATH_MAX], nbin[PATH_MAX], entry[PATH_MAX];

	COPY_PROBE(probe, self->tmp, "probe");
	MAKE(bin, self->tmp, "o.bmtestob", "BMTEST-ob\nrest\n", 0755);
	MAKE(nbin, self->tmp, "n.bmtestnob", "BMTEST-nob\n", 0755);
	REGISTERF(":bmtest_ob:E::bmtestob::%s:O", probe);
	REGISTERF(":bmtest_nob:E::bmtestnob::%s:", probe);
	EXPECT_FILE(entry_path(entry, self->mnt, "bmtest_ob"),
		    L("enabled\ninterpreter %s\nflags: O\nextension .bmtestob\n", probe));

	/* O: the binary arrives as AT_EXECFD, readable, the same file. */
	EXPECT_RUN(bin, ARGV(bin, "arg1"), &as_root,
		   L("argv=%s|%s|arg1", probe, bin), "execfd=yes",
		   "execfd_head=BMTEST-ob", "execfd_same=1", "cred=0:0:0:0");
	/* Without O there is no AT_EXECFD. */
	EXPECT_RUN(nbin, ARGV(nbin, "arg1"), &as_root,
		   L("argv=%s|%s|arg1", probe, nbin), "execfd=none");
}

TEST_F(bm, open_binary_exec_only)
{
	char probe[PATH_MAX], bin[PATH_MAX], nbin[PATH_MAX];
	const char *cred = "cred=65534:65534:65534:65534";

	COPY_PROBE(probe, self->tmp, "probe");
	/* Execute-only binaries of root's: nobody can run but not read them. */
	MAKE(bin, self->tmp, "xo.bmtestxo", "BMTEST-xo\n", 0711);
	MAKE(nbin, self->tmp, "xn.bmtestxn", "BMTEST-xn\n", 0711);
	REGISTERF(":bmtest_xo:E::bmtestxo::%s:O", probe);
	REGISTERF(":bmtest_xn:E::bmtestxn::%s:", probe);

	/* Without O the interpreter cannot open the binary by its path. */
	EXPECT_RUN(nbin, ARGV(nbin), &as_nobody, L("argv=%s|%s", probe, nbin),
		   "execfd=none", L("open1=%d", EACCES), cred);
	/* With O it reads it through the fd. */
	EXPECT_RUN(bin, ARGV(bin), &as_nobody, L("argv=%s|%s", probe, bin),
		   "execfd=yes", "execfd_head=BMTEST-xo", "execfd_same=1",
		   L("open1=%d", EACCES), cred);
}

/* ------------------------------------------------------------------ */
/* 3. C                                                                */

TEST_F(bm, credentials_flag)
{
	char probe[PATH_MAX], dir[PATH_MAX], suid[PATH_MAX], sroot[PATH_MAX];
	char plain[PATH_MAX], nsuid[PATH_MAX], entry[PATH_MAX];

	COPY_PROBE(probe, self->tmp, "probe");
	/* A fresh tmpfs, so that no nosuid of the scratch dir's mount applies. */
	MKDIR(dir, self->tmp, "suid", 0755);
	ASSERT_EQ(0, mount("tmpfs", dir, "tmpfs", 0, "mode=0755"))
		TH_LOG("mount tmpfs: %s", strerror(errno));

	MAKE(suid, dir, "u.bmtestcr", "BMTEST-cr\n", 0755);
	ASSERT_EQ(0, chown(suid, 1234, 4321));
	ASSERT_EQ(0, chmod(suid, 06755));
	MAKE(sroot, dir, "r.bmtestcr", "BMTEST-cr-root\n", 0755);
	ASSERT_EQ(0, chmod(sroot, 04755));
	MAKE(plain, dir, "p.bmtestcr", "BMTEST-cr-plain\n", 0755);
	MAKE(nsuid, dir, "u.bmtestncr", "BMTEST-ncr\n", 0755);
	ASSERT_EQ(0, chown(nsuid, 1234, 4321));
	ASSERT_EQ(0, chmod(nsuid, 06755));

	REGISTERF(":bmtest_cr:E::bmtestcr::%s:C", probe);
	REGISTERF(":bmtest_ncr:E::bmtestncr::%s:", probe);
	/* C implies O. */
	EXPECT_FILE(entry_path(entry, self->mnt, "bmtest_cr"),
		    L("enabled\ninterpreter %s\nflags: OC\nextension .bmtestcr\n", probe));

	/* C: the interpreter runs with the binary's set-id credentials. */
	EXPECT_RUN(suid, ARGV(suid), &as_nobody, L("argv=%s|%s", probe, suid),
		   "cred=65534:1234:65534:4321", "execfd=yes",
		   "execfd_head=BMTEST-cr", "execfd_same=1");
	EXPECT_RUN(sroot, ARGV(sroot), &as_nobody, "cred=65534:0:65534:65534",
		   "execfd=yes", "execfd_head=BMTEST-cr-root");
	/* C on a binary without set-id bits: the caller's credentials. */
	EXPECT_RUN(plain, ARGV(plain), &as_nobody, "cred=65534:65534:65534:65534",
		   "execfd=yes", "execfd_head=BMTEST-cr-plain");
	/* Without C the set-id bits of the binary do not count. */
	EXPECT_RUN(nsuid, ARGV(nsuid), &as_nobody, L("argv=%s|%s", probe, nsuid),
		   "cred=65534:65534:65534:65534", "execfd=none");
}

/* ------------------------------------------------------------------ */
/* 4. F                                                                */

TEST_F(bm, open_file_interp_moved)
{
	char pf[PATH_MAX], pn[PATH_MAX], f[PATH_MAX], n[PATH_MAX];
	char moved_f[PATH_MAX], moved_n[PATH_MAX];

	COPY_PROBE(pf, self->tmp, "probe_f");
	COPY_PROBE(pn, self->tmp, "probe_n");
	ASSERT_NE(NULL, pjoin(moved_f, self->tmp, "probe_f.moved"));
	ASSERT_NE(NULL, pjoin(moved_n, self->tmp, "probe_n.moved"));
	MAKE(f, self->tmp, "f.bmtestmvf", "BMTEST-mvf\n", 0755);
	MAKE(n, self->tmp, "n.bmtestmvn", "BMTEST-mvn\n", 0755);
	REGISTERF(":bmtest_mvf:E::bmtestmvf::%s:F", pf);
	REGISTERF(":bmtest_mvn:E::bmtestmvn::%s:", pn);
	EXPECT_RUN(f, ARGV(f), &as_root, L("argv=%s|%s", pf, f));
	EXPECT_RUN(n, ARGV(n), &as_root, L("argv=%s|%s", pn, n));

	/* Renamed: F still has the file; without F exec looks the path up. */
	ASSERT_EQ(0, rename(pf, moved_f));
	ASSERT_EQ(0, rename(pn, moved_n));
	EXPECT_RUN(f, ARGV(f), &as_root, L("argv=%s|%s", pf, f));
	EXPECT_RUN_ERR(n, &as_root, ENOENT);

	/* Removed altogether. */
	ASSERT_EQ(0, unlink(moved_f));
	ASSERT_EQ(0, unlink(moved_n));
	EXPECT_RUN(f, ARGV(f, "arg1"), &as_root, L("argv=%s|%s|arg1", pf, f));
	EXPECT_RUN_ERR(n, &as_root, ENOENT);
	/* And as another user. */
	EXPECT_RUN(f, ARGV(f), &as_nobody, L("argv=%s|%s", pf, f),
		   "cred=65534:65534:65534:65534");
}

TEST_F(bm, open_file_chroot)
{
	char probe[PATH_MAX], root[PATH_MAX], f[PATH_MAX], n[PATH_MAX];
	struct xopts in_root = { .root = NULL };

	COPY_PROBE(probe, self->tmp, "probe");
	MKDIR(root, self->tmp, "root", 0755);
	MAKE(f, root, "f.bmtestchf", "BMTEST-chf\n", 0755);
	MAKE(n, root, "n.bmtestchn", "BMTEST-chn\n", 0755);
	REGISTERF(":bmtest_chf:E::bmtestchf::%s:F", probe);
	REGISTERF(":bmtest_chn:E::bmtestchn::%s:", probe);
	in_root.root = root;

	/* Outside the chroot both work. */
	EXPECT_RUN(f, ARGV(f), &as_root, L("argv=%s|%s", probe, f));
	EXPECT_RUN(n, ARGV(n), &as_root, L("argv=%s|%s", probe, n));
	/* Inside, only F finds the interpreter, opened at registration. */
	EXPECT_RUN("/f.bmtestchf", ARGV("x", "arg1"), &in_root,
		   L("argv=%s|/f.bmtestchf|arg1", probe), "open1=ok");
	EXPECT_RUN_ERR("/n.bmtestchn", &in_root, ENOENT);
}

TEST_F(bm, open_file_hidden_by_mount)
{
	char idir[PATH_MAX], pf[PATH_MAX], pn[PATH_MAX], f[PATH_MAX], n[PATH_MAX];
	struct xopts hidden = { .hide = NULL };

	MKDIR(idir, self->tmp, "idir", 0755);
	COPY_PROBE(pf, idir, "probe_f");
	COPY_PROBE(pn, idir, "probe_n");
	MAKE(f, self->tmp, "f.bmtesthdf", "BMTEST-hdf\n", 0755);
	MAKE(n, self->tmp, "n.bmtesthdn", "BMTEST-hdn\n", 0755);
	REGISTERF(":bmtest_hdf:E::bmtesthdf::%s:F", pf);
	REGISTERF(":bmtest_hdn:E::bmtesthdn::%s:", pn);
	hidden.hide = idir;

	EXPECT_RUN(n, ARGV(n), &as_root, L("argv=%s|%s", pn, n));
	/* A new mount namespace with a tmpfs over the interpreters' dir. */
	EXPECT_RUN(f, ARGV(f), &hidden, L("argv=%s|%s", pf, f));
	EXPECT_RUN_ERR(n, &hidden, ENOENT);
	/* The tmpfs was the child's only: here both still work. */
	EXPECT_RUN(n, ARGV(n), &as_root, L("argv=%s|%s", pn, n));
}

/* ------------------------------------------------------------------ */
/* 5. An interpreter exec cannot use                                   */

TEST_F(bm, interp_unusable_at_exec)
{
	char probe[PATH_MAX], noexec[PATH_MAX], nxprobe[PATH_MAX];
	char ro[PATH_MAX], junk[PATH_MAX], rel[PATH_MAX], bin[PATH_MAX];
	static const char *const exts[] = {
		"bmtestu1", "bmtestu2", "bmtestu3", "bmtestu4", "bmtestu5", "bmtestu6",
	};
	struct xopts in_tmp = { .cwd = NULL }, in_root = { .cwd = "/" };
	int i;

	COPY_PROBE(probe, self->tmp, "probe");
	MAKE(ro, self->tmp, "probe_0644", "", 0644);
	ASSERT_EQ(0, copy_file(probe, ro, 0644));
	MAKE(junk, self->tmp, "junk", "not a program\n", 0755);
	COPY_PROBE(rel, self->tmp, "bmtest-rel-probe");
	MKDIR(noexec, self->tmp, "noexec", 0755);
	ASSERT_EQ(0, mount("tmpfs", noexec, "tmpfs", MS_NOEXEC, "mode=0755"));
	COPY_PROBE(nxprobe, noexec, "probe");
	in_tmp.cwd = self->tmp;

	for (i = 0; i < 6; i++) {
		MAKE(bin, self->tmp, L("x.%s", exts[i]), "BMTEST-u\n", 0755);
	}
	REGISTERF(":bmtest_u1:E::bmtestu1::%s/missing/probe:", self->tmp);
	REGISTERF(":bmtest_u2:E::bmtestu2::%s:", ro);
	REGISTERF(":bmtest_u3:E::bmtestu3::%s:", self->tmp);
	REGISTERF(":bmtest_u4:E::bmtestu4::%s:", junk);
	REGISTERF(":bmtest_u5:E::bmtestu5::%s:", nxprobe);
	/* Relative, without F: looked up from the exec caller's cwd. */
	REGISTER(":bmtest_u6:E::bmtestu6::bmtest-rel-probe:");

	EXPECT_RUN_ERR(L("%s/x.bmtestu1", self->tmp), &as_root, ENOENT);
	EXPECT_RUN_ERR(L("%s/x.bmtestu2", self->tmp), &as_root, EACCES);
	EXPECT_RUN_ERR(L("%s/x.bmtestu3", self->tmp), &as_root, EACCES);
	EXPECT_RUN_ERR(L("%s/x.bmtestu4", self->tmp), &as_root, ENOEXEC);
	EXPECT_RUN_ERR(L("%s/x.bmtestu5", self->tmp), &as_root, EACCES);
	EXPECT_RUN(L("%s/x.bmtestu6", self->tmp), ARGV("x"), &in_tmp,
		   L("argv=bmtest-rel-probe|%s/x.bmtestu6", self->tmp));
	EXPECT_RUN_ERR(L("%s/x.bmtestu6", self->tmp), &in_root, ENOENT);

	/* The same interpreters with F fail at registration instead. */
	REGISTER_ERR(EACCES, ":bmtest_uf2:E::bmtestuf2::%s:F", ro);
	REGISTER_ERR(EACCES, ":bmtest_uf3:E::bmtestuf3::%s:F", self->tmp);
	REGISTER_ERR(EACCES, ":bmtest_uf5:E::bmtestuf5::%s:F", nxprobe);
	/* A junk F interpreter registers: exec finds out. */
	REGISTERF(":bmtest_uf4:E::bmtestuf4::%s:F", junk);
	MAKE(bin, self->tmp, "x.bmtestuf4", "BMTEST-u\n", 0755);
	EXPECT_RUN_ERR(bin, &as_root, ENOEXEC);
}

/* execveat() of an fd: the path is /dev/fd/N, unusable if close-on-exec. */
TEST_F(bm, exec_by_fd)
{
	char probe[PATH_MAX], bin[PATH_MAX];
	struct xopts by_fd = { .by_fd = 1 }, by_cloexec_fd = { .by_fd = 2 };

	COPY_PROBE(probe, self->tmp, "probe");
	MAKE(bin, self->tmp, "fd.bin", "BMTESTFD\n", 0755);
	REGISTERF(":bmtest_fd:M::BMTESTFD::%s:", probe);

	EXPECT_RUN(bin, ARGV("x", "arg1"), &as_root, L("argv=%s|%s|arg1", probe, bin));
	EXPECT_RUN(bin, ARGV("x", "arg1"), &by_fd,
		   L("argv=%s|/dev/fd/*", probe), "execfd=none");
	/* BINPRM_FLAGS_PATH_INACCESSIBLE: the interpreter could not open it. */
	EXPECT_RUN_ERR(bin, &by_cloexec_fd, ENOENT);
}

/* ------------------------------------------------------------------ */
/* 6. Recursion                                                        */

/*
 * Entries bmtest_lv1..6: level k's interpreter is the level k+1 file
 * <tmp>/i<k+1>.bmtestlv<k+1>, level 6's is the probe.  Exec of the level k
 * file goes through 7 - k binfmt_misc rewrites before the probe's ELF.
 */
TEST_F(bm, chain_depth_limit)
{
	char probe[PATH_MAX], file[7][PATH_MAX];
	int k;

	COPY_PROBE(probe, self->tmp, "probe");
	for (k = 1; k <= 6; k++)
		MAKE(file[k], self->tmp, L("i%d.bmtestlv%d", k, k),
		     L("BMTEST-lv%d\n", k), 0755);
	for (k = 1; k <= 6; k++)
		REGISTERF(":bmtest_lv%d:E::bmtestlv%d::%s:", k, k,
			  k < 6 ? file[k + 1] : probe);

	/* One rewrite. */
	EXPECT_RUN(file[6], ARGV("x", "arg1"), &as_root,
		   L("argv=%s|%s|arg1", probe, file[6]));
	/* Five: the most exec_binprm() allows (depth 0..5). */
	EXPECT_RUN(file[2], ARGV("x", "arg1"), &as_root,
		   L("argv=%s|%s|%s|%s|%s|%s|arg1", probe, file[6], file[5],
		     file[4], file[3], file[2]));
	/* Six: one too many. */
	EXPECT_RUN_ERR(file[1], &as_root, ELOOP);
}

TEST_F(bm, script_and_handler_chains)
{
	char probe[PATH_MAX], h[PATH_MAX], s[PATH_MAX], is[PATH_MAX], b[PATH_MAX];
	char bo[PATH_MAX];

	COPY_PROBE(probe, self->tmp, "probe");

	/* A #! script whose interpreter is a handled file. */
	MAKE(h, self->tmp, "h.bmtestsch", "BMTEST-h\n", 0755);
	MAKE(s, self->tmp, "s.script", L("#!%s\n", h), 0755);
	REGISTERF(":bmtest_sch:E::bmtestsch::%s:", probe);
	EXPECT_RUN(s, ARGV("s0", "arg1"), &as_root,
		   L("argv=%s|%s|%s|arg1", probe, h, s), "execfd=none");

	/* A handled file whose interpreter is a #! script. */
	MAKE(is, self->tmp, "interp.script", L("#!%s\n", probe), 0755);
	MAKE(b, self->tmp, "b.bmtesthsc", "BMTEST-hsc\n", 0755);
	REGISTERF(":bmtest_hsc:E::bmtesthsc::%s:", is);
	EXPECT_RUN(b, ARGV("b0", "arg1"), &as_root,
		   L("argv=%s|%s|%s|arg1", probe, is, b), "execfd=none");

	/*
	 * The same with O: exec_binprm() refuses a second rewrite once an
	 * AT_EXECFD file is pending (have_execfd and executable set).
	 */
	MAKE(bo, self->tmp, "b.bmtesthsco", "BMTEST-hsco\n", 0755);
	REGISTERF(":bmtest_hsco:E::bmtesthsco::%s:O", is);
	EXPECT_RUN_ERR(bo, &as_root, ENOEXEC);
}

TEST_F(bm, nested_open_binary)
{
	char probe[PATH_MAX], a[PATH_MAX], mid_o[PATH_MAX], mid_n[PATH_MAX];
	char c[PATH_MAX];

	COPY_PROBE(probe, self->tmp, "probe");
	MAKE(a, self->tmp, "a.bmtestnoa", "BMTEST-noa\n", 0755);
	MAKE(mid_o, self->tmp, "mid.bmtestnob", "BMTEST-nob\n", 0755);
	MAKE(mid_n, self->tmp, "mid.bmtestnoc", "BMTEST-noc\n", 0755);
	MAKE(c, self->tmp, "c.bmtestnod", "BMTEST-nod\n", 0755);
	REGISTERF(":bmtest_noa:E::bmtestnoa::%s:O", mid_n);
	REGISTERF(":bmtest_nob:E::bmtestnob::%s:O", probe);
	REGISTERF(":bmtest_noc:E::bmtestnoc::%s:", probe);
	REGISTERF(":bmtest_nod:E::bmtestnod::%s:", mid_o);

	/* O, then anything: a second rewrite after O is ENOEXEC. */
	EXPECT_RUN_ERR(a, &as_root, ENOEXEC);
	/* Plain, then O: the fd is the middle file, the last one opened. */
	EXPECT_RUN(c, ARGV("c0", "arg1"), &as_root,
		   L("argv=%s|%s|%s|arg1", probe, mid_o, c), "execfd=yes",
		   "execfd_head=BMTEST-nob", "execfd_same=1");
	/* O alone works. */
	EXPECT_RUN(mid_o, ARGV("m0"), &as_root, L("argv=%s|%s", probe, mid_o),
		   "execfd_head=BMTEST-nob");
}

/* ------------------------------------------------------------------ */
/* 7. Match order                                                      */

TEST_F(bm, first_match_order)
{
	char pa[PATH_MAX], pb[PATH_MAX], pc[PATH_MAX], bin[PATH_MAX];
	char e1[PATH_MAX], e2[PATH_MAX], e3[PATH_MAX];

	COPY_PROBE(pa, self->tmp, "probe_a");
	COPY_PROBE(pb, self->tmp, "probe_b");
	COPY_PROBE(pc, self->tmp, "probe_c");
	MAKE(bin, self->tmp, "x.bmtestord", "BMTESTORD\n", 0755);
	ASSERT_NE(NULL, entry_path(e1, self->mnt, "bmtest_ord1"));
	ASSERT_NE(NULL, entry_path(e2, self->mnt, "bmtest_ord2"));
	ASSERT_NE(NULL, entry_path(e3, self->mnt, "bmtest_ord3"));

#define RUNS_WITH(p) EXPECT_RUN(bin, ARGV("x"), &as_root, L("argv=%s|%s", p, bin))
	REGISTERF(":bmtest_ord1:E::bmtestord::%s:", pa);
	RUNS_WITH(pa);
	/* Newest first, whatever the kind of match. */
	REGISTERF(":bmtest_ord2:M::BMTESTORD::%s:", pb);
	RUNS_WITH(pb);
	REGISTERF(":bmtest_ord3:M:1:MTESTO::%s:", pc);
	RUNS_WITH(pc);

	/* Disabled entries are skipped. */
	EXPECT_EQ(1, write_str(e3, "0"));
	RUNS_WITH(pb);
	EXPECT_EQ(1, write_str(e2, "0"));
	RUNS_WITH(pa);
	EXPECT_EQ(1, write_str(e3, "1"));
	RUNS_WITH(pc);
	EXPECT_EQ(1, write_str(e2, "1"));
	RUNS_WITH(pc);

	/* Status 0 disables them all, 1 brings back the same order. */
	EXPECT_EQ(1, write_str(self->status, "0"));
	EXPECT_RUN_ERR(bin, &as_root, ENOEXEC);
	EXPECT_EQ(1, write_str(e1, "1"));
	EXPECT_RUN_ERR(bin, &as_root, ENOEXEC);
	EXPECT_EQ(1, write_str(self->status, "1"));
	RUNS_WITH(pc);

	/* Removal: the next newest takes over; re-registering makes it newest. */
	EXPECT_EQ(2, write_str(e3, "-1"));
	RUNS_WITH(pb);
	EXPECT_EQ(2, write_str(e2, "-1"));
	RUNS_WITH(pa);
	REGISTERF(":bmtest_ord2:M::BMTESTORD::%s:", pb);
	RUNS_WITH(pb);
	EXPECT_EQ(1, write_str(e1, "0"));
	EXPECT_EQ(1, write_str(e2, "0"));
	EXPECT_RUN_ERR(bin, &as_root, ENOEXEC);
#undef RUNS_WITH
}

/* ------------------------------------------------------------------ */
/* 8. Modes and ownership                                              */

/* NULL if path has this type, mode, owner and link count, else why not. */
static const char *check_stat(const char *path, mode_t type, mode_t mode,
			      uid_t uid, gid_t gid, nlink_t nlink)
{
	static char msg[PATH_MAX + 256];
	struct stat st;

	if (stat(path, &st)) {
		snprintf(msg, sizeof(msg), "stat %s: %s", path, strerror(errno));
		return msg;
	}
	if ((st.st_mode & S_IFMT) != type || (st.st_mode & 07777) != mode ||
	    st.st_uid != uid || st.st_gid != gid || st.st_nlink != nlink) {
		snprintf(msg, sizeof(msg),
			 "%s: type 0%o mode 0%o %u:%u nlink %lu, expected type 0%o mode 0%o %u:%u nlink %lu",
			 path, st.st_mode & S_IFMT, st.st_mode & 07777,
			 st.st_uid, st.st_gid, (unsigned long)st.st_nlink,
			 type, mode, uid, gid, (unsigned long)nlink);
		return msg;
	}
	return NULL;
}

#define EXPECT_STAT(path, type, mode, uid, gid, nlink) do { \
	const char *_m = check_stat(path, type, mode, uid, gid, nlink); \
	EXPECT_TRUE(_m == NULL) TH_LOG("%s", _m); \
} while (0)

/* Checks the files of the binfmt_misc mounted at dir, owned by uid:gid. */
static const char *check_instance_files(const char *dir, uid_t uid, gid_t gid)
{
	char path[PATH_MAX];
	const char *m;

	m = check_stat(dir, S_IFDIR, 0755, uid, gid, 2);
	if (!m)
		m = check_stat(pjoin(path, dir, "register"), S_IFREG, 0200, uid, gid, 1);
	if (!m)
		m = check_stat(pjoin(path, dir, "status"), S_IFREG, 0644, uid, gid, 1);
	if (!m)
		m = check_stat(pjoin(path, dir, "bmtest_own"), S_IFREG, 0644, uid, gid, 1);
	return m;
}

TEST_F(bm, file_modes_ownership)
{
	char dir[PATH_MAX], entry[PATH_MAX], script[PATH_MAX], want[PATH_MAX + 64];
	struct stat st;
	const char *m;
	pid_t pid;
	int code;

	REGISTER(":bmtest_own:E::bmtestown::/bin/sh:");
	MAKE_SCRIPT(script, "s.bmtestown", SCRIPT_BODY);
	EXPECT_EXEC_OK(script, script, ran(want, sizeof(want), script, "arg1"));
	m = check_instance_files(self->mnt, 0, 0);
	EXPECT_TRUE(m == NULL) TH_LOG("%s", m);
	/* simple_fill_super()'s inode numbers. */
	ASSERT_EQ(0, stat(self->mnt, &st));
	EXPECT_EQ((ino_t)1, st.st_ino);
	ASSERT_EQ(0, stat(self->status, &st));
	EXPECT_EQ((ino_t)2, st.st_ino);
	ASSERT_EQ(0, stat(self->reg, &st));
	EXPECT_EQ((ino_t)3, st.st_ino);

	/* The files take chmod and chown (simple_setattr()). */
	ASSERT_NE(NULL, entry_path(entry, self->mnt, "bmtest_own"));
	EXPECT_EQ(0, chmod(entry, 0600));
	EXPECT_EQ(0, chown(entry, 1234, 4321));
	EXPECT_STAT(entry, S_IFREG, 0600, 1234, 4321, 1);

	/*
	 * In a user namespace's own mount everything belongs to that
	 * namespace's root (i_uid_write(inode, 0)).
	 */
	MKDIR(dir, self->tmp, "uns", 0777);
	fflush(stdout);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		char reg[PATH_MAX];
		const char *s = ":bmtest_own:E::bmtestown::/bin/sh:";

		child_enter_userns(true, CLONE_NEWNS);
		if (mount_binfmt_misc(dir))
			CHILD_FAIL("mount: %s", strerror(errno));
		if (write_str_all(pjoin(reg, dir, "register"), s))
			CHILD_FAIL("register failed");
		m = check_instance_files(dir, 0, 0);
		if (m)
			CHILD_FAIL("%s", m);
		_exit(0);
	}
	code = wait_exit(pid);
	if (code == KSFT_SKIP)
		SKIP(return, "cannot create an unprivileged user namespace");
	EXPECT_EQ(0, code);
}

/* ------------------------------------------------------------------ */
/* 9. Removal racing with exec                                         */

struct stress_counts {
	int ran, enoexec, other, other_status;
};

/* Execs bin in a loop until deadline; counts outcomes in c. */
static void stress_exec_loop(const char *bin, double deadline, struct stress_counts *c)
{
	char *argv[] = { (char *)bin, NULL };
	char *envp[] = { "BMTEST_PROBE=quiet", NULL };
	int st;
	pid_t pid;

	while (now_seconds() < deadline) {
		pid = fork();
		if (pid < 0) {
			__atomic_add_fetch(&c->other, 1, __ATOMIC_RELAXED);
			break;
		}
		if (pid == 0) {
			execve(bin, argv, envp);
			_exit(errno == ENOEXEC ? 100 : 101);
		}
		if (waitpid(pid, &st, 0) != pid) {
			__atomic_add_fetch(&c->other, 1, __ATOMIC_RELAXED);
			continue;
		}
		if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
			__atomic_add_fetch(&c->ran, 1, __ATOMIC_RELAXED);
		} else if (WIFEXITED(st) && WEXITSTATUS(st) == 100) {
			__atomic_add_fetch(&c->enoexec, 1, __ATOMIC_RELAXED);
		} else {
			__atomic_add_fetch(&c->other, 1, __ATOMIC_RELAXED);
			c->other_status = st;
		}
	}
}

TEST_F_TIMEOUT(bm, exec_vs_removal_stress, 60)
{
	char probe[PATH_MAX], bins[3][PATH_MAX], ea[PATH_MAX], eb[PATH_MAX];
	char ec[PATH_MAX], ra[PATH_MAX + 64], rb[PATH_MAX + 64], rc[PATH_MAX + 64];
	char buf[512];
	struct stress_counts *counts;
	double deadline;
	pid_t workers[4];
	int i, iter, fd, bad_register = 0;

	COPY_PROBE(probe, self->tmp, "probe");
	MAKE(bins[0], self->tmp, "a.bmtestsa", "BMTEST-sa\n", 0755);
	MAKE(bins[1], self->tmp, "b.bmtestsb", "BMSTRESS-b\n", 0755);
	MAKE(bins[2], self->tmp, "c.bmtestsc", "BMTEST-sc\n", 0755);
	ASSERT_NE(NULL, entry_path(ea, self->mnt, "bmtest_sa"));
	ASSERT_NE(NULL, entry_path(eb, self->mnt, "bmtest_sb"));
	ASSERT_NE(NULL, entry_path(ec, self->mnt, "bmtest_sc"));
	snprintf(ra, sizeof(ra), ":bmtest_sa:E::bmtestsa::%s:O", probe);
	snprintf(rb, sizeof(rb), ":bmtest_sb:M::BMSTRESS::%s:F", probe);
	snprintf(rc, sizeof(rc), ":bmtest_sc:E::bmtestsc::%s:CF", probe);

	counts = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, counts);
	memset(counts, 0, 4096);

	deadline = now_seconds() + 4;
	fflush(stdout);
	for (i = 0; i < 4; i++) {
		workers[i] = fork();
		ASSERT_LE(0, workers[i]);
		if (workers[i] == 0) {
			stress_exec_loop(bins[i % 3], deadline, &counts[i]);
			_exit(0);
		}
	}

	for (iter = 0; now_seconds() < deadline; iter++) {
		if (write_str_all(self->reg, ra) || write_str_all(self->reg, rb) ||
		    write_str_all(self->reg, rc))
			bad_register++;
		usleep(1000 + (iter % 7) * 500);
		switch (iter % 4) {
		case 0:
			write_str(ea, "-1");
			write_str(eb, "-1");
			write_str(ec, "-1");
			break;
		case 1:
			write_str(self->status, "-1");
			break;
		case 2:
			write_str(eb, "0");
			write_str(self->status, "0");
			usleep(500);
			write_str(self->status, "1");
			write_str(eb, "1");
			write_str(ec, "-1");
			write_str(eb, "-1");
			write_str(ea, "-1");
			break;
		case 3:
			/* A stale fd outlives its entry. */
			fd = open(eb, O_RDWR);
			write_str(self->status, "-1");
			if (fd >= 0) {
				if (pread(fd, buf, sizeof(buf), 0) < 0)
					bad_register++;
				if (write(fd, "-1", 2) != 2)
					bad_register++;
				close(fd);
			}
			break;
		}
		usleep((iter % 3) * 700);
	}
	for (i = 0; i < 4; i++)
		EXPECT_EQ(0, wait_exit(workers[i]));
	write_str(self->status, "-1");

	for (i = 0; i < 4; i++) {
		TH_LOG("worker %d (%s): ran %d, ENOEXEC %d, other %d", i,
		       bins[i % 3], counts[i].ran, counts[i].enoexec, counts[i].other);
		EXPECT_EQ(0, counts[i].other)
			TH_LOG("worker %d: unexpected wait status 0x%x", i,
			       counts[i].other_status);
		EXPECT_LT(0, counts[i].ran + counts[i].enoexec);
	}
	EXPECT_LT(0, counts[0].ran + counts[1].ran + counts[2].ran + counts[3].ran);
	EXPECT_EQ(0, bad_register);
	TH_LOG("%d register/remove rounds", iter);
	EXPECT_LT(10, iter);
	munmap(counts, 4096);

	/* Everything still works afterwards. */
	REGISTER(ra);
	EXPECT_RUN(bins[0], ARGV("x"), &as_root, L("argv=%s|%s", probe, bins[0]),
		   "execfd=yes");
}

/* ------------------------------------------------------------------ */
/* 10. Module reference counting                                       */

TEST_F(bm, module_busy_while_mounted)
{
	const char *name = getenv("BMTEST_MODULE");
	char probe[PATH_MAX], bin[PATH_MAX], mnt2[PATH_MAX], dir[PATH_MAX];
	int sync_pipe[2], go_pipe[2], code;
	long base;
	pid_t pid;
	char c;

	if (!name || !*name)
		SKIP(return, "BMTEST_MODULE is not set");
	base = module_refcnt(name);
	ASSERT_LT(0, base) TH_LOG("refcnt of %s: %ld", name, base);

	/* A mounted superblock pins the module. */
	EXPECT_EQ(-EWOULDBLOCK, delete_module(name));
	EXPECT_FILE(L("/sys/module/%s/initstate", name), "live\n");
	EXPECT_EQ(base, module_refcnt(name));

	/* Nothing broke. */
	COPY_PROBE(probe, self->tmp, "probe");
	MAKE(bin, self->tmp, "m.bmtestmb", "BMTEST-mb\n", 0755);
	REGISTERF(":bmtest_mb:E::bmtestmb::%s:F", probe);
	EXPECT_RUN(bin, ARGV("x"), &as_root, L("argv=%s|%s", probe, bin));
	EXPECT_FILE(self->status, "enabled\n");
	/* Entries and execs take no module reference. */
	EXPECT_EQ(base, module_refcnt(name));

	/* Another mount of the same superblock takes none either. */
	MKDIR(mnt2, self->tmp, "mnt2", 0755);
	ASSERT_EQ(0, mount_binfmt_misc(mnt2));
	EXPECT_EQ(base, module_refcnt(name));
	EXPECT_EQ(0, umount2(mnt2, 0));
	EXPECT_EQ(base, module_refcnt(name));

	/* A user namespace's superblock takes one, until it goes. */
	MKDIR(dir, self->tmp, "uns", 0777);
	ASSERT_EQ(0, pipe(sync_pipe));
	ASSERT_EQ(0, pipe(go_pipe));
	fflush(stdout);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		close(sync_pipe[0]);
		close(go_pipe[1]);
		child_enter_userns(true, CLONE_NEWNS);
		if (mount_binfmt_misc(dir))
			CHILD_FAIL("mount: %s", strerror(errno));
		c = 'm';
		if (write(sync_pipe[1], &c, 1) != 1 || read(go_pipe[0], &c, 1) < 0)
			CHILD_FAIL("sync");
		_exit(0);
	}
	close(sync_pipe[1]);
	close(go_pipe[0]);
	if (read(sync_pipe[0], &c, 1) == 1) {
		EXPECT_EQ(base + 1, module_refcnt(name));
		EXPECT_EQ(-EWOULDBLOCK, delete_module(name));
	}
	close(go_pipe[1]);
	close(sync_pipe[0]);
	code = wait_exit(pid);
	if (code == KSFT_SKIP)
		SKIP(return, "cannot create an unprivileged user namespace");
	EXPECT_EQ(0, code);
	EXPECT_EQ(base, wait_refcnt(name, base, 3));
	EXPECT_RUN(bin, ARGV("x"), &as_root, L("argv=%s|%s", probe, bin));
}

/*
 * With an exec through an entry blocked in its interpreter, the module
 * cannot go while mounted; once unmounted it can (the running interpreter
 * holds nothing of it), the interpreter is unaffected, and the module
 * loads again from $BMTEST_MODULE_KO.
 */
TEST_F_TIMEOUT(bm, module_unload_reload, 60)
{
	const char *name = getenv("BMTEST_MODULE");
	const char *ko = getenv("BMTEST_MODULE_KO");
	char probe[PATH_MAX], bin[PATH_MAX], out[4096];
	int in[2], outp[2], ret, fd, i;
	struct xopts waiting = { .env = "BMTEST_PROBE=wait" };
	bool unloaded = false;
	size_t len = 0;
	ssize_t n;
	pid_t pid;

	if (!name || !*name || !ko || !*ko)
		SKIP(return, "BMTEST_MODULE or BMTEST_MODULE_KO is not set");
	COPY_PROBE(probe, self->tmp, "probe");
	MAKE(bin, self->tmp, "m.bmtestmu", "BMTEST-mu\n", 0755);
	REGISTERF(":bmtest_mu:E::bmtestmu::%s:F", probe);

	ASSERT_EQ(0, pipe2(in, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(outp, O_CLOEXEC));
	waiting.stdin_fd = in[0];
	fflush(stdout);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		xchild(bin, ARGV("x", "arg1"), &waiting, outp[1], STDERR_FILENO);
	close(in[0]);
	close(outp[1]);
	n = read(outp[0], out, sizeof(out) - 1);
	ASSERT_LT(0, n);
	out[n] = '\0';
	len = n;
	EXPECT_STREQ("waiting\n", out);

	/* Blocked in the interpreter, mounted: busy. */
	EXPECT_EQ(-EWOULDBLOCK, delete_module(name));

	/* Unmounted: it goes, the interpreter still blocked. */
	remove_test_entries(self->mnt);
	EXPECT_EQ(0, umount2(self->mnt, 0));
	self->mounted = false;
	for (i = 0; i < 60; i++) {
		ret = delete_module(name);
		if (ret != -EWOULDBLOCK)
			break;
		usleep(50000);
	}
	EXPECT_EQ(0, ret) TH_LOG("delete_module(%s) after umount: %s", name, strerror(-ret));
	unloaded = !ret;
	if (unloaded) {
		EXPECT_EQ(-1, access(L("/sys/module/%s", name), F_OK));
		/* No handler: the binary is just data now. */
		EXPECT_RUN_ERR(bin, &as_root, ENOEXEC);
	}

	/* The interpreter finishes normally. */
	close(in[1]);
	while (len + 1 < sizeof(out) &&
	       (n = read(outp[0], out + len, sizeof(out) - 1 - len)) > 0)
		len += n;
	out[len] = '\0';
	close(outp[0]);
	EXPECT_EQ(0, wait_exit(pid));
	EXPECT_TRUE(has_line(out, L("argv=%s|%s|arg1", probe, bin))) TH_LOG("output '%s'", out);

	/* Back as it was: load, mount, register, exec. */
	if (unloaded) {
		fd = open(ko, O_RDONLY | O_CLOEXEC);
		EXPECT_LE(0, fd) TH_LOG("open %s: %s", ko, strerror(errno));
		if (fd >= 0) {
			ret = syscall(SYS_finit_module, fd, "", 0) ? -errno : 0;
			EXPECT_EQ(0, ret) TH_LOG("finit_module(%s): %s", ko, strerror(-ret));
			close(fd);
		}
		EXPECT_FILE(L("/sys/module/%s/initstate", name), "live\n");
	}
	ret = mount_binfmt_misc(self->mnt);
	ASSERT_EQ(0, ret) TH_LOG("mount again: %s", strerror(-ret));
	self->mounted = true;
	EXPECT_FILE(self->status, "enabled\n");
	REGISTERF(":bmtest_mu:E::bmtestmu::%s:F", probe);
	EXPECT_RUN(bin, ARGV("x", "arg1"), &as_root, L("argv=%s|%s|arg1", probe, bin));
}

/* ------------------------------------------------------------------ */
/* 11. Where we follow newer upstream                                  */

TEST_F(bm, unlink_entry)
{
	char probe[PATH_MAX], bin[PATH_MAX], entry[PATH_MAX];
	int ret;

	COPY_PROBE(probe, self->tmp, "probe");
	MAKE(bin, self->tmp, "u.bmtestunl", "BMTEST-unl\n", 0755);
	REGISTERF(":bmtest_unl:E::bmtestunl::%s:", probe);
	ASSERT_NE(NULL, entry_path(entry, self->mnt, "bmtest_unl"));
	EXPECT_RUN(bin, ARGV("x"), &as_root, L("argv=%s|%s", probe, bin));

	ret = unlink(entry) ? -errno : 0;
	if (impl_is_c()) {
		/* 6.12: the root directory has no ->unlink. */
		EXPECT_EQ(-EPERM, ret);
		EXPECT_EQ(0, access(entry, F_OK));
		EXPECT_RUN(bin, ARGV("x"), &as_root, L("argv=%s|%s", probe, bin));
		return;
	}
	/*
	 * DIFFERS FROM 6.12 ON PURPOSE: upstream removes the entry on
	 * unlink(2) of its file, as a write of -1 would.
	 */
	EXPECT_EQ(0, ret) TH_LOG("unlink %s: %s", entry, strerror(-ret));
	/*
	 * No ASSERT from here on: after a failed ASSERT this harness skips the
	 * fixture's teardown, and the mount left behind would pin the module.
	 */
	if (ret)
		return;
	EXPECT_ABSENT(entry);
	EXPECT_RUN_ERR(bin, &as_root, ENOEXEC);
	/* The name is free again. */
	REGISTER_ERR(0, ":bmtest_unl:E::bmtestunl::%s:", probe);
	EXPECT_RUN(bin, ARGV("x"), &as_root, L("argv=%s|%s", probe, bin));
}

TEST_F(bm, credentials_relative_interp)
{
	char probe[PATH_MAX], entry[PATH_MAX];
	struct xopts from_root = { .cwd = "/" };
	static const char *const regs[] = {
		":bmtest_crel1:E::bmtestcrel1::bmtest-rel:C",
		":bmtest_crel2:E::bmtestcrel2::./bmtest-rel:C",
		":bmtest_crel3:E::bmtestcrel3::bmtest-rel:PC",
	};
	int cwd, i;
	ssize_t r;

	COPY_PROBE(probe, self->tmp, "bmtest-rel");
	for (i = 1; i <= 3; i++)
		MAKE(entry, self->tmp, L("x.bmtestcrel%d", i), "BMTEST-crel\n", 0755);
	MAKE(entry, self->tmp, "x.bmtestfrel", "BMTEST-frel\n", 0755);
	MAKE(entry, self->tmp, "x.bmtestcfrel", "BMTEST-cfrel\n", 0755);
	cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	ASSERT_LE(0, cwd);
	ASSERT_EQ(0, chdir(self->tmp));

	for (i = 0; i < 3; i++) {
		r = write_str(self->reg, regs[i]);
		if (impl_is_c()) {
			/* 6.12 takes it; exec looks the name up from the caller's cwd. */
			EXPECT_EQ((ssize_t)strlen(regs[i]), r)
				TH_LOG("'%s': %s", regs[i], r < 0 ? strerror(-r) : "");
		} else {
			/*
			 * DIFFERS FROM 6.12 ON PURPOSE: upstream refuses C
			 * without F for an interpreter path that is not
			 * absolute.
			 */
			EXPECT_EQ(-EINVAL, r)
				TH_LOG("'%s': %s", regs[i], r < 0 ? strerror(-r) : "accepted");
		}
	}
	if (impl_is_c())
		EXPECT_RUN(L("%s/x.bmtestcrel1", self->tmp), ARGV("x"),
			   (&(struct xopts){ .cwd = self->tmp }),
			   L("argv=bmtest-rel|%s/x.bmtestcrel1", self->tmp), "execfd=yes");

	/* With F, relative is fine: opened from the writer's cwd, now. */
	REGISTER(":bmtest_frel:E::bmtestfrel::bmtest-rel:F");
	REGISTER(":bmtest_cfrel:E::bmtestcfrel::./bmtest-rel:CF");
	EXPECT_EQ(0, fchdir(cwd));
	close(cwd);
	EXPECT_FILE(entry_path(entry, self->mnt, "bmtest_cfrel"),
		    "enabled\ninterpreter ./bmtest-rel\nflags: OCF\nextension .bmtestcfrel\n");
	EXPECT_RUN(L("%s/x.bmtestfrel", self->tmp), ARGV("x"), &from_root,
		   L("argv=bmtest-rel|%s/x.bmtestfrel", self->tmp), "execfd=none");
	EXPECT_RUN(L("%s/x.bmtestcfrel", self->tmp), ARGV("x"), &from_root,
		   L("argv=./bmtest-rel|%s/x.bmtestcfrel", self->tmp), "execfd=yes",
		   "execfd_head=BMTEST-cfrel");
}

TEST_F(bm, open_file_interp_in_instance)
{
	char entry[PATH_MAX];
	struct stat st;

	REGISTER(":bmtest_inst:E::bmtestinst::/bin/sh:");
	ASSERT_NE(NULL, entry_path(entry, self->mnt, "bmtest_inst"));

	/* Neither executable nor on an exec-able superblock. */
	REGISTER_ERR(EACCES, ":bmtest_fst:E::bmtestfst::%s:F", self->status);
	REGISTER_ERR(EACCES, ":bmtest_frg:E::bmtestfrg::%s:F", self->reg);
	REGISTER_ERR(EACCES, ":bmtest_fen:E::bmtestfen::%s:F", entry);
	REGISTER_ERR(EACCES, ":bmtest_fmn:E::bmtestfmn::%s:F", self->mnt);

	/* Even with x bits: the superblock is SB_I_NOEXEC. */
	ASSERT_EQ(0, stat(self->status, &st));
	if (chmod(self->status, 0755) == 0) {
		REGISTER_ERR(EACCES, ":bmtest_fst:E::bmtestfst::%s:F", self->status);
		EXPECT_EQ(0, chmod(self->status, st.st_mode & 07777));
	}
	EXPECT_EQ(0, chmod(entry, 0755));
	REGISTER_ERR(EACCES, ":bmtest_fen:E::bmtestfen::%s:F", entry);
	EXPECT_ABSENT(L("%s/bmtest_fst", self->mnt));
	EXPECT_ABSENT(L("%s/bmtest_fen", self->mnt));
}

TEST_F(bm, open_file_write_denied)
{
	char interp[PATH_MAX], plain[PATH_MAX], entry[PATH_MAX], bin[PATH_MAX];
	char reg[PATH_MAX + 64];
	int fd, efd;

	COPY_PROBE(interp, self->tmp, "probe_wd");
	COPY_PROBE(plain, self->tmp, "probe_plain");
	MAKE(bin, self->tmp, "w.bmtestwd", "BMTEST-wd\n", 0755);
	ASSERT_NE(NULL, entry_path(entry, self->mnt, "bmtest_wd"));
	snprintf(reg, sizeof(reg), ":bmtest_wd:E::bmtestwd::%s:F", interp);

#define EXPECT_WRITABLE(path, err) do { \
	int _fd = open(path, O_WRONLY | O_CLOEXEC); \
	EXPECT_EQ(err, _fd < 0 ? errno : 0) TH_LOG("open(%s, O_WRONLY)", path); \
	if (_fd >= 0) \
		close(_fd); \
} while (0)

	/* Without F the interpreter is not held. */
	REGISTERF(":bmtest_wdp:E::bmtestwdp::%s:", plain);
	EXPECT_WRITABLE(plain, 0);

	/* F holds it write-denied while the entry lives. */
	REGISTER(reg);
	EXPECT_WRITABLE(interp, ETXTBSY);
	EXPECT_RUN(bin, ARGV("x"), &as_root, L("argv=%s|%s", interp, bin));
	EXPECT_WRITABLE(interp, ETXTBSY);
	EXPECT_EQ(2, write_str(entry, "-1"));
	EXPECT_WRITABLE(interp, 0);

	/* Removed through status. */
	REGISTER(reg);
	EXPECT_WRITABLE(interp, ETXTBSY);
	EXPECT_EQ(2, write_str(self->status, "-1"));
	EXPECT_WRITABLE(interp, 0);

	/* An open entry file keeps the entry, and so the file, until closed. */
	REGISTER(reg);
	efd = open(entry, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, efd);
	EXPECT_EQ(2, write_str(entry, "-1"));
	EXPECT_ABSENT(entry);
	EXPECT_WRITABLE(interp, ETXTBSY);
	close(efd);
	EXPECT_WRITABLE(interp, 0);

	/* An interpreter open for writing cannot be registered with F. */
	fd = open(interp, O_WRONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	REGISTER_ERR(ETXTBSY, "%s", reg);
	close(fd);
	EXPECT_ABSENT(entry);
	REGISTER(reg);
	EXPECT_WRITABLE(interp, ETXTBSY);
#undef EXPECT_WRITABLE
}

TEST_HARNESS_MAIN
