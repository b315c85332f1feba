// SPDX-License-Identifier: GPL-2.0
/*
 * binfmt_misc under load, on an SMP guest: everything at once, for a bounded
 * time, in several processes.
 *
 * smp_stress (BMTEST_STRESS_SECONDS, default 60): execs through magic,
 * extension and (rust only) 'B' entries, and plain execs nothing may claim;
 * a churner that registers (with D on rust), removes (-1, unlink(2)),
 * disables, enables and clears, and checks every answer and its own execs
 * against a model of the state only it changes; (rust) a handler worker
 * that attaches and detaches bpf handler maps, registers 'B' entries, binds
 * an interpreter to a D entry and seals it with 1; workers that make user
 * namespaces nested two deep, mount, register, exec, unmount and exit; and
 * one that mounts and unmounts in the initial user namespace and tries to
 * unload the module ($BMTEST_MODULE), which the test's own mount keeps busy.
 * Every exec must end as its moment allows (its entry's interpreter ran it,
 * or ENOEXEC; a plain file runs as itself, always), and at the end nothing
 * may be left: no entry, no mount, no child, no module reference.
 *
 * random_sequences (BMTEST_RANDOM_SECONDS, default 30): four processes,
 * seeded from BMTEST_SEED (else the time; "# seed: N" comes first, to replay
 * it), issue random valid and invalid operations: register strings from a
 * small grammar, malformed ones included, commands and bindings written to
 * status and entry files, reads, unlinks, mounts, user namespaces, execs and
 * (rust) handler maps. Every errno must be one upstream can return for that
 * call; exec may only run an interpreter of the test's.
 *
 * Both fail on a kernel report logged while they ran. 6.12's C module has
 * neither 'B' entries nor the D flag (EINVAL) and refuses unlink(2) of entry
 * files (EPERM); this module follows upstream there (see README.md), and the
 * checks expect each implementation's answer. Run as root in a disposable VM.
 */
#include "common.h"

#include <signal.h>
#include <stdint.h>
#include <time.h>
#include <sys/mman.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpf_common.h"
#include "fixed.skel.h"
#include "bound.skel.h"

/* ------------------------------------------------------------------ */
/* Settings, random numbers                                            */

/* $name in seconds, at most max (the harness's timeout stays ahead). */
static int env_seconds(const char *name, int def, int max)
{
	const char *v = getenv(name);
	char *end;
	long n;

	if (!v || !*v)
		return def;
	n = strtol(v, &end, 10);
	if (*end || n < 1)
		return def;
	return n > max ? max : n;
}

/* splitmix64; every process reseeds after fork, so each has its own stream. */
static uint64_t rng_state;

static uint64_t rnd64(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static unsigned int rnd(unsigned int n)
{
	return n ? rnd64() % n : 0;
}

static bool one_in(unsigned int n)
{
	return rnd(n) == 0;
}

#define PICK(a)		((a)[rnd(ARRAY_SIZE(a))])

static const char *errname(int err)
{
	const char *s = err ? strerrorname_np(err) : "success";

	return s ? s : "unknown errno";
}

/* Appends to buf (of size) at *len; once full, nothing more. */
static void appendf(char *buf, size_t size, size_t *len, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void appendf(char *buf, size_t size, size_t *len, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*len >= size)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + *len, size - *len, fmt, ap);
	va_end(ap);
	if (n > 0)
		*len = *len + n < size ? *len + n : size;
}

static unsigned long long seed_from_env(void)
{
	const char *s = getenv("BMTEST_SEED");

	if (s && *s)
		return strtoull(s, NULL, 0);
	return (unsigned long long)time(NULL) ^ ((unsigned long long)getpid() << 32);
}

/* ------------------------------------------------------------------ */
/* Shared by all processes of a test: counters and failure notes       */

/* What the stress test execs; each file is claimed by one entry at most. */
enum kind { K_M1, K_M2, K_E1, K_E2, K_B, K_BD, K_U, K_PLAIN, K_SCRIPT, K_NR };

enum counter {
	C_REG, C_REG_STAGED, C_REG_EEXIST, C_REG_D_REFUSED, C_RM_WRITE,
	C_RM_UNLINK, C_UNLINK_EPERM, C_STATUS_CLEAR, C_TOGGLE, C_STATUS_TOGGLE,
	C_READS, C_MODEL_EXECS, C_RESYNC, C_BPF_LOADS, C_BPF_ATTACH,
	C_BPF_DETACH, C_B_REG, C_B_REG_ENOENT, C_BINDS, C_SEALS, C_NS,
	C_NS_MOUNTS, C_MOUNTS, C_RMMOD, C_NR
};

/* The random driver's calls, each with the answers upstream may give. */
enum call {
	CALL_REGISTER, CALL_STATUS, CALL_ENTRY, CALL_READ, CALL_UNLINK,
	CALL_DIROP, CALL_EXEC, CALL_MOUNT, CALL_USERNS, CALL_ATTACH,
	CALL_OPENW, CALL_RMMOD, CALL_NR
};

#define NOTES		32
#define NOTE_LEN	768
#define ERRNO_SLOTS	256

struct shared {
	int failures;
	char notes[NOTES][NOTE_LEN];
	long ran[K_NR], noexec[K_NR];
	long n[C_NR];
	long hist[CALL_NR][ERRNO_SLOTS];	/* answers per call; [0] success */
};

static struct shared *sh;

#define COUNT(field)	__atomic_add_fetch(&sh->field, 1, __ATOMIC_RELAXED)

/* Records a failure: workers cannot use the harness; the test reports them. */
static void fail_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void fail_note(const char *fmt, ...)
{
	int i = __atomic_fetch_add(&sh->failures, 1, __ATOMIC_RELAXED);
	va_list ap;

	if (i >= NOTES)
		return;
	va_start(ap, fmt);
	vsnprintf(sh->notes[i], NOTE_LEN, fmt, ap);
	va_end(ap);
}

static struct shared *shared_map(void)
{
	void *p = mmap(NULL, sizeof(struct shared), PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/* ------------------------------------------------------------------ */
/* The kernel log                                                      */

/*
 * What in a kernel log means a test failed: the lines of report-patterns,
 * which scripts/run-selftests.sh greps the guest's whole log for, made
 * into C strings by the Makefile.
 */
static const char *const bad_log[] = {
#include "report-patterns.inc"
};

struct klog {
	int reports, others, lost;
	char excerpt[3072];	/* from the first report on */
};

/* /dev/kmsg, past what is logged already; -1 if it cannot be read. */
static int kmsg_open(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd >= 0 && lseek(fd, 0, SEEK_END) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static bool is_report(const char *msg)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad_log); i++)
		if (strstr(msg, bad_log[i]))
			return true;
	return false;
}

/* Sorts what was logged since kmsg_open() (at most 100000 records). */
static void kmsg_scan(int fd, struct klog *k)
{
	char rec[8192], *msg;
	size_t len = 0;
	ssize_t n;
	int i;

	memset(k, 0, sizeof(*k));
	for (i = 0; fd >= 0 && i < 100000; i++) {
		n = read(fd, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EPIPE) {
			k->lost++;
			continue;
		}
		if (n <= 0)
			break;
		rec[n] = '\0';
		msg = strchr(rec, ';');
		msg = msg ? msg + 1 : rec;
		if (is_report(msg))
			k->reports++;
		else
			k->others++;
		/* A report's lines after its first rarely match: keep them all. */
		if (k->reports)
			appendf(k->excerpt, sizeof(k->excerpt), &len, "%s", msg);
	}
}

/* ------------------------------------------------------------------ */
/* What a test leaves behind                                           */

/* How many binfmt_misc mounts this mount namespace has. */
static int binfmt_mounts(void)
{
	static char buf[1 << 16];
	char fstype[64], *line, *save;
	int n = 0;

	if (read_file("/proc/self/mounts", buf, sizeof(buf)) < 0)
		return -1;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		if (sscanf(line, "%*s %*s %63s", fstype) == 1 &&
		    !strcmp(fstype, "binfmt_misc"))
			n++;
	return n;
}

/* Files in mnt besides register and status, their names in names. */
static int entries_left(const char *mnt, char *names, size_t size)
{
	struct dirent *de;
	DIR *d = opendir(mnt);
	size_t len = 0;
	int n = 0;

	names[0] = '\0';
	if (!d)
		return -1;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") ||
		    !strcmp(de->d_name, "register") || !strcmp(de->d_name, "status"))
			continue;
		n++;
		appendf(names, size, &len, " %s", de->d_name);
	}
	closedir(d);
	return n;
}

/* Where a test started from, to compare its end with. */
struct baseline {
	const char *module;	/* $BMTEST_MODULE, or NULL */
	long refs;		/* its references, the fixture's mount among them */
	int mounts;		/* binfmt_misc mounts, the fixture's among them */
	int kmsg;
};

static void baseline_take(struct baseline *b)
{
	const char *m = getenv("BMTEST_MODULE");

	b->module = m && *m ? m : NULL;
	b->refs = b->module ? module_refcnt(b->module) : -1;
	b->mounts = binfmt_mounts();
	b->kmsg = kmsg_open();
}

/*
 * The start of a run: the counters and notes the workers share, the files
 * world() makes in the fixture's dirs (0 or -errno), libbpf's messages kept
 * for the notes, and the baseline to compare the end with.
 */
static void run_prepare(struct __test_metadata *_metadata, FIXTURE_DATA(bm) *self,
			int (*world)(const char *tmp, const char *mnt), struct baseline *b)
{
	int ret;

	sh = shared_map();
	ASSERT_NE(NULL, sh);
	ret = world(self->tmp, self->mnt);
	ASSERT_EQ(0, ret) TH_LOG("making the files: %s (built progs/probe?)", strerror(-ret));
	libbpf_set_print(bpf_log_print);
	baseline_take(b);
}

/*
 * The end of a run: no child, no entry, the instance enabled, no mount of
 * the run's, the module's references as at the start and a kernel log
 * without reports. The fixture's mount stays for its teardown.
 */
static void end_checks(struct __test_metadata *_metadata, FIXTURE_DATA(bm) *self,
		       const struct baseline *b)
{
	char names[1024];
	struct klog k;
	int left;

	EXPECT_EQ(-1, waitpid(-1, NULL, WNOHANG)) TH_LOG("a child was left");
	EXPECT_EQ(ECHILD, errno);
	EXPECT_EQ(2, write_str(self->status, "-1"));
	EXPECT_EQ(1, write_str(self->status, "1"));
	EXPECT_FILE(self->status, "enabled\n");
	left = entries_left(self->mnt, names, sizeof(names));
	EXPECT_EQ(0, left) TH_LOG("left after status -1:%s", names);
	EXPECT_EQ(b->mounts, binfmt_mounts());
	if (b->module) {
		long refs = wait_refcnt(b->module, b->refs, 30);

		EXPECT_EQ(b->refs, refs) TH_LOG("references of %s", b->module);
	}
	EXPECT_LE(0, b->kmsg) TH_LOG("/dev/kmsg: %s", strerror(errno));
	kmsg_scan(b->kmsg, &k);
	if (b->kmsg >= 0)
		close(b->kmsg);
	ksft_print_msg("kernel log: %d reports, %d other records, %d overrun\n",
		       k.reports, k.others, k.lost);
	fflush(stdout);
	EXPECT_EQ(0, k.reports) TH_LOG("kernel report:\n%s", k.excerpt);
	if (k.lost)
		TH_LOG("%d kernel log records were overwritten before this test read them: "
		       "the runner's dmesg may lack them too", k.lost);
}

/* Every failure a worker noted, then the verdict. */
static void report_notes(struct __test_metadata *_metadata)
{
	int i;

	for (i = 0; i < sh->failures && i < NOTES; i++)
		TH_LOG("%s", sh->notes[i]);
	if (sh->failures > NOTES)
		TH_LOG("... and %d more", sh->failures - NOTES);
	EXPECT_EQ(0, sh->failures);
}

/* ------------------------------------------------------------------ */
/* Workers                                                             */

#define MAX_WORKERS	16
/*
 * Seconds a worker may overrun the deadline: under TCG on a busy host one
 * exec can take seconds, and a handler load many.
 */
#define GRACE		60

struct crew {
	int n;
	pid_t pid[MAX_WORKERS];
	const char *role[MAX_WORKERS];
};

/* Forks a worker running fn(id), with its own random stream; it dies with us. */
static void spawn(struct crew *c, const char *role, void (*fn)(int), int id,
		  uint64_t seed)
{
	pid_t pid;

	if (c->n == MAX_WORKERS) {
		fail_note("too many workers for %s", role);
		return;
	}
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
		rng_state = seed * 0x100000001b3ULL + id;
		fn(id);
		_exit(0);
	}
	if (pid < 0) {
		fail_note("fork for the %s worker: %s", role, strerror(errno));
		return;
	}
	c->pid[c->n] = pid;
	c->role[c->n++] = role;
}

/* Reaps worker i if it ended; false while it runs. */
static bool reap_one(struct crew *c, int i)
{
	int st;
	pid_t p = waitpid(c->pid[i], &st, WNOHANG);

	if (p == 0)
		return false;
	if (p < 0)
		fail_note("waiting for the %s worker: %s", c->role[i], strerror(errno));
	else if (!WIFEXITED(st) || WEXITSTATUS(st))
		fail_note("the %s worker ended with wait status 0x%x", c->role[i], st);
	c->pid[i] = 0;
	return true;
}

/* Where a task sleeps in the kernel, for a note about a stuck worker. */
static const char *wchan_of(pid_t pid)
{
	static char buf[128];

	if (read_file(L("/proc/%d/wchan", (int)pid), buf, sizeof(buf)) < 0)
		snprintf(buf, sizeof(buf), "?");
	return buf;
}

/*
 * Waits for the crew until GRACE seconds past the deadline, then kills and
 * reaps whoever is left: a worker that does not stop is stuck in the kernel.
 */
static void reap(struct crew *c, double deadline)
{
	int left = c->n, i, st;

	ksft_print_msg("%d workers started, %.0f s to go\n", c->n, deadline - now_seconds());
	fflush(stdout);
	while (now_seconds() < deadline)
		usleep(200000);
	while (left && now_seconds() < deadline + GRACE) {
		for (i = 0; i < c->n; i++)
			if (c->pid[i] && reap_one(c, i))
				left--;
		if (left)
			usleep(100000);
	}
	ksft_print_msg("workers stopped %.1f s after the deadline (%d killed)\n",
		       now_seconds() - deadline, left);
	fflush(stdout);
	for (i = 0; i < c->n; i++) {
		if (!c->pid[i])
			continue;
		fail_note("the %s worker was still running %d s after the deadline, "
			  "in %s", c->role[i], GRACE, wchan_of(c->pid[i]));
		kill(c->pid[i], SIGKILL);
		waitpid(c->pid[i], &st, 0);
		c->pid[i] = 0;
	}
}

/* The module must refuse to go while the test's mount uses it. */
static void rmmod_attempt(const char *module, const char *who)
{
	int ret = delete_module(module);

	if (ret == -EWOULDBLOCK || ret == -EBUSY)
		return;
	fail_note("%s: delete_module(%s) while it is mounted: %s", who, module,
		  ret ? strerror(-ret) : "it was unloaded");
}

/* ------------------------------------------------------------------ */
/* bpf handlers (rust only)                                            */

/* One fixed-interpreter and one bound-interpreter handler, with their links. */
struct handlers {
	struct fixed *fx;
	struct bound *bd;
	struct bpf_link *fl, *bl;
};

static void handlers_unload(struct handlers *h)
{
	bpf_link__destroy(h->fl);
	bpf_link__destroy(h->bl);
	fixed__destroy(h->fx);
	bound__destroy(h->bd);
	memset(h, 0, sizeof(*h));
}

/*
 * Loads both, the fixed one matching files that start with magic; the bpf
 * log (bpf_common.h) then holds what libbpf said about it, for the note.
 */
static bool handlers_load(struct handlers *h, const char *magic, const char *interp,
			  const char *who)
{
	int err;

	bpf_log_reset();
	h->fx = fixed__open();
	h->bd = bound__open();
	if (!h->fx || !h->bd) {
		fail_note("%s: opening the skeletons: %s", who, strerror(errno));
		handlers_unload(h);
		return false;
	}
	snprintf(h->fx->bss->interp, sizeof(h->fx->bss->interp), "%s", interp);
	h->fx->bss->magic_len = strlen(magic);
	memcpy(h->fx->bss->magic, magic, h->fx->bss->magic_len);
	err = fixed__load(h->fx);
	if (!err)
		err = bound__load(h->bd);
	if (err) {
		fail_note("%s: loading the handlers: %s (%s)", who, strerror(-err),
			  bpf_log_tail());
		handlers_unload(h);
		return false;
	}
	COUNT(n[C_BPF_LOADS]);
	return true;
}

/* Registers a handler; 0 or -errno, the bpf log holding libbpf's word on it. */
static int handler_attach(struct bpf_link **link, struct bpf_map *map)
{
	if (*link)
		return 0;
	bpf_log_reset();
	*link = bpf_map__attach_struct_ops(map);
	if (!*link)
		return -errno;
	COUNT(n[C_BPF_ATTACH]);
	return 0;
}

static void handler_detach(struct bpf_link **link)
{
	if (!*link)
		return;
	bpf_link__destroy(*link);
	*link = NULL;
	COUNT(n[C_BPF_DETACH]);
}

/* ------------------------------------------------------------------ */
/* The stress test's files                                             */

struct kind_def {
	const char *label;
	const char *entry;	/* the entry that claims the file; NULL: none may */
	const char *file;	/* in the scratch dir */
	const char *content;
	const char *interp;	/* a copy of progs/probe, in the scratch dir */
	const char *reg;	/* register string (M, E, U: interpreter, flags) */
	bool bpf;		/* rust only */
	bool sandboxed;		/* registered only in the workers' user namespaces */
};

/*
 * M2's magic sits at offset 3 with a mask; B's handler matches "BMSTRB" and
 * BD's "#BMTSEL:"; no file's bytes or name fit another's entry.
 */
static const struct kind_def kinds[K_NR] = {
	[K_M1] = { "magic", "bmtest_stm1", "m1", "BMSTM1\n", "i-m1",
		   ":bmtest_stm1:M::BMSTM1::%s:%s" },
	[K_M2] = { "masked magic", "bmtest_stm2", "m2", "BM_Q2z\n", "i-m2",
		   ":bmtest_stm2:M:3:Q2Z:\\xff\\xff\\xdf:%s:%s" },
	[K_E1] = { "extension", "bmtest_ste1", "e1.bmste1", "data\n", "i-e1",
		   ":bmtest_ste1:E::bmste1::%s:%s" },
	[K_E2] = { "extension 2", "bmtest_ste2", "e2.bmste2", "data\n", "i-e2",
		   ":bmtest_ste2:E::bmste2::%s:%s" },
	[K_B] = { "bpf", "bmtest_stb", "b", "BMSTRB\n", "i-b",
		  ":bmtest_stb:B::::bmt_fixed:", .bpf = true },
	[K_BD] = { "bpf bound (D)", "bmtest_stbd", "bd", "#BMTSEL:sbound\n", "i-bd",
		   ":bmtest_stbd:B::::bmt_bound:D", .bpf = true },
	[K_U] = { "sandbox extension", "bmtest_stu", "u.bmstu", "data\n", "i-u",
		  ":bmtest_stu:E::bmstu::%s:%s", .sandboxed = true },
	[K_PLAIN] = { "plain binary", NULL, "plain" },
	[K_SCRIPT] = { "plain script", NULL, "script" },
};

static struct {
	char mnt[PATH_MAX], reg[PATH_MAX], status[PATH_MAX];
	char file[K_NR][PATH_MAX];
	char interp[K_NR][PATH_MAX];
	char entry[K_NR][PATH_MAX];
	char want[K_NR][2 * PATH_MAX + 16];	/* the line its run prints */
	char uns[PATH_MAX], mnt2[PATH_MAX];
	int avail[K_NR], navail;		/* the kinds this implementation has */
	const char *module;
	bool rust;
	double deadline;
} W;

/* Makes kind k's file and interpreter (the plain binary exists already). */
static int kind_files(const char *tmp, int k, const char *probe)
{
	const struct kind_def *d = &kinds[k];
	char body[PATH_MAX + 8];

	if (k == K_PLAIN) {
		snprintf(W.want[k], sizeof(W.want[k]), "argv=%s|x", W.file[k]);
		return 0;
	}
	if (!pjoin(W.file[k], tmp, d->file))
		return -ENAMETOOLONG;
	if (k == K_SCRIPT) {
		snprintf(body, sizeof(body), "#!%s\n", W.file[K_PLAIN]);
		snprintf(W.want[k], sizeof(W.want[k]), "argv=%s|%s|x",
			 W.file[K_PLAIN], W.file[k]);
		return make_file(W.file[k], body, 0755);
	}
	if (!pjoin(W.interp[k], tmp, d->interp) || !pjoin(W.entry[k], W.mnt, d->entry))
		return -ENAMETOOLONG;
	/* With P the interpreter's argv goes on with argv[0]: a prefix. */
	snprintf(W.want[k], sizeof(W.want[k]), "argv=%s|%s*", W.interp[k], W.file[k]);
	return make_file(W.file[k], d->content, 0755) ?:
	       copy_file(probe, W.interp[k], 0755);
}

/* The stress test's world in tmp, for the instance mounted at mnt. */
static int stress_world(const char *tmp, const char *mnt)
{
	char probe[PATH_MAX];
	int k, ret;

	snprintf(W.mnt, sizeof(W.mnt), "%s", mnt);
	if (!prog_path(probe, "probe") || !pjoin(W.reg, mnt, "register") ||
	    !pjoin(W.status, mnt, "status") || !pjoin(W.file[K_PLAIN], tmp, "plain") ||
	    !pjoin(W.uns, tmp, "uns") || !pjoin(W.mnt2, tmp, "mnt2"))
		return -ENAMETOOLONG;
	ret = copy_file(probe, W.file[K_PLAIN], 0755);
	for (k = 0; !ret && k < K_NR; k++)
		ret = kind_files(tmp, k, probe);
	if (ret)
		return ret;
	if (mkdir(W.uns, 0777) || chmod(W.uns, 0777) || mkdir(W.mnt2, 0755))
		return -errno;
	W.rust = !impl_is_c();
	for (k = 0; k < K_NR; k++)
		if (W.rust || !kinds[k].bpf)
			W.avail[W.navail++] = k;
	return 0;
}

enum outcome { RAN, NOEXEC, BAD };

/*
 * Execs kind k's file: RAN if the right program ran it (its entry's
 * interpreter, or a plain file itself), NOEXEC if nothing claimed a file
 * only an entry can run, else BAD, with why in msg.
 */
static enum outcome exec_kind(int k, char *msg, size_t size)
{
	struct run_result r;
	int ret = run_capture(W.file[k], ARGV(W.file[k], "x"), &r);

	if (ret) {
		snprintf(msg, size, "running %s: %s", W.file[k], strerror(-ret));
		return BAD;
	}
	if (r.exec_errno == ENOEXEC && kinds[k].entry) {
		COUNT(noexec[k]);
		return NOEXEC;
	}
	if (!r.exec_errno && WIFEXITED(r.status) && !WEXITSTATUS(r.status) &&
	    has_line(r.out, W.want[k])) {
		COUNT(ran[k]);
		return RAN;
	}
	snprintf(msg, size, "%s (%s): %s, wait status 0x%x, output '%.200s'; "
		 "allowed: a line '%s'%s", W.file[k], kinds[k].label,
		 r.exec_errno ? strerror(r.exec_errno) : "ran", r.status, r.out,
		 W.want[k], kinds[k].entry ? " or ENOEXEC" : "");
	return BAD;
}

/* ------------------------------------------------------------------ */
/* Stress: exec workers                                                 */

static void exec_worker(int id)
{
	char msg[NOTE_LEN];

	while (now_seconds() < W.deadline) {
		int k = W.avail[rnd(W.navail)];
		enum outcome o = exec_kind(k, msg, sizeof(msg));

		if (o == BAD)
			fail_note("exec worker %d: %s", id, msg);
		else if (o == RAN && kinds[k].sandboxed)
			fail_note("exec worker %d: %s ran through a sandbox's entry in "
				  "the initial user namespace", id, W.file[k]);
	}
}

/* ------------------------------------------------------------------ */
/* Stress: the churner, which alone changes M and E entries and status  */

enum estate { ABSENT, STAGED, ON, OFF };

static const char *const estate_name[] = {
	[ABSENT] = "absent", [STAGED] = "staged (D)", [ON] = "enabled", [OFF] = "disabled",
};

struct model {
	enum estate st[K_NR];
	bool enabled;		/* the instance (status) */
};

#define CHURNED(k)	((k) >= K_M1 && (k) <= K_E2)

static const char *model_text(const struct model *m)
{
	static char buf[256];
	size_t len = 0;
	int k;

	appendf(buf, sizeof(buf), &len, "instance %s", m->enabled ? "enabled" : "disabled");
	for (k = K_M1; k <= K_E2; k++)
		appendf(buf, sizeof(buf), &len, ", %s %s", kinds[k].entry,
			estate_name[m->st[k]]);
	return buf;
}

/* Back to a known state after a surprise: nothing registered, enabled. */
static void churn_reset(struct model *m, bool counted)
{
	int k;

	write_str(W.status, "-1");
	write_str(W.status, "1");
	for (k = 0; k < K_NR; k++)
		m->st[k] = ABSENT;
	m->enabled = true;
	if (counted)
		COUNT(n[C_RESYNC]);
}

/* The answer must be the model's; on a surprise, note it and start over. */
static bool churn_expect(struct model *m, const char *op, int want, int got)
{
	if (want == got)
		return true;
	fail_note("churner: %s: expected %s, got %s (model: %s)", op, errname(-want),
		  errname(-got), model_text(m));
	churn_reset(m, true);
	return false;
}

static const char *const churn_flags[] = { "", "", "P", "O", "F", "POF", "C" };

static void churn_register(struct model *m, int k)
{
	char s[PATH_MAX + 64], fl[16];
	bool d = one_in(4);
	int want, got;

	snprintf(fl, sizeof(fl), "%s%s", PICK(churn_flags), d ? "D" : "");
	snprintf(s, sizeof(s), kinds[k].reg, W.interp[k], fl);
	got = write_str_all(W.reg, s);
	/* 6.12 has no D flag; upstream 7.3 stages the entry. */
	if (d && !W.rust)
		want = -EINVAL;
	else
		want = m->st[k] == ABSENT ? 0 : -EEXIST;
	if (!churn_expect(m, L("register '%s'", s), want, got))
		return;
	if (got == -EINVAL)
		COUNT(n[C_REG_D_REFUSED]);
	else if (got == -EEXIST)
		COUNT(n[C_REG_EEXIST]);
	else if (d)
		COUNT(n[C_REG_STAGED]);
	else
		COUNT(n[C_REG]);
	if (!got)
		m->st[k] = d ? STAGED : ON;
}

static void churn_remove(struct model *m, int k)
{
	int got = write_str_all(W.entry[k], "-1");

	if (!churn_expect(m, L("-1 to %s", kinds[k].entry),
			  m->st[k] == ABSENT ? -ENOENT : 0, got) || got)
		return;
	m->st[k] = ABSENT;
	COUNT(n[C_RM_WRITE]);
}

static void churn_unlink(struct model *m, int k)
{
	int got = unlink(W.entry[k]) ? -errno : 0;
	int want = 0;

	/* 6.12: EPERM; upstream removes the entry (README, "differs on purpose"). */
	if (m->st[k] == ABSENT)
		want = -ENOENT;
	else if (!W.rust)
		want = -EPERM;
	if (!churn_expect(m, L("unlink %s", kinds[k].entry), want, got))
		return;
	if (got == -EPERM)
		COUNT(n[C_UNLINK_EPERM]);
	if (got)
		return;
	m->st[k] = ABSENT;
	COUNT(n[C_RM_UNLINK]);
}

static void churn_toggle(struct model *m, int k, bool on)
{
	int got = write_str_all(W.entry[k], on ? "1" : "0");

	if (!churn_expect(m, L("%d to %s", on, kinds[k].entry),
			  m->st[k] == ABSENT ? -ENOENT : 0, got) || got)
		return;
	COUNT(n[C_TOGGLE]);
	/* The first 1 publishes a staged entry; 0 leaves it staged. */
	if (on)
		m->st[k] = ON;
	else if (m->st[k] != STAGED)
		m->st[k] = OFF;
}

static void churn_status(struct model *m)
{
	unsigned int r = rnd(20);
	const char *cmd = r < 12 ? "1" : r < 17 ? "0" : "-1";
	int k;

	if (!churn_expect(m, L("%s to status", cmd), 0, write_str_all(W.status, cmd)))
		return;
	if (strcmp(cmd, "-1")) {
		m->enabled = !strcmp(cmd, "1");
		COUNT(n[C_STATUS_TOGGLE]);
		return;
	}
	for (k = 0; k < K_NR; k++)
		m->st[k] = ABSENT;
	COUNT(n[C_STATUS_CLEAR]);
}

/* An entry file's first line and status say what the model says. */
static void churn_read(struct model *m, int k)
{
	char buf[4096];
	ssize_t n = read_file(W.entry[k], buf, sizeof(buf));
	const char *want = m->st[k] == ON ? "enabled" : "disabled";

	if (!churn_expect(m, L("reading %s", kinds[k].entry),
			  m->st[k] == ABSENT ? -ENOENT : 0, n < 0 ? n : 0))
		return;
	COUNT(n[C_READS]);
	if (n >= 0 && strncmp(buf, want, strlen(want))) {
		fail_note("churner: %s reads '%.100s' (model: %s)", kinds[k].entry, buf,
			  model_text(m));
		churn_reset(m, true);
		return;
	}
	n = read_file(W.status, buf, sizeof(buf));
	want = m->enabled ? "enabled\n" : "disabled\n";
	if (n < 0 || strcmp(buf, want)) {
		fail_note("churner: status reads '%.100s' (%s) (model: %s)", n < 0 ? "" : buf,
			  errname(n < 0 ? -n : 0), model_text(m));
		churn_reset(m, true);
	}
}

/* Only the churner changes these entries: their exec has one outcome. */
static void churn_exec(struct model *m, int k)
{
	enum outcome want = m->enabled && m->st[k] == ON ? RAN : NOEXEC;
	char msg[NOTE_LEN];
	enum outcome got = exec_kind(k, msg, sizeof(msg));

	COUNT(n[C_MODEL_EXECS]);
	if (got == want)
		return;
	if (got == BAD)
		fail_note("churner: %s", msg);
	else
		fail_note("churner: %s %s, expected %s (model: %s)", W.file[k],
			  got == RAN ? "ran its interpreter" : "got ENOEXEC",
			  want == RAN ? "its interpreter to run" : "ENOEXEC", model_text(m));
	churn_reset(m, true);
}

/*
 * First every entry once, registered and run: however short or slow the
 * run, each kind is seen through its interpreter.
 */
static void churn_warm_up(struct model *m)
{
	int k;

	for (k = K_M1; k <= K_E2; k++) {
		char s[PATH_MAX + 64];

		snprintf(s, sizeof(s), kinds[k].reg, W.interp[k], "");
		if (!churn_expect(m, L("register '%s'", s), 0, write_str_all(W.reg, s)))
			return;
		COUNT(n[C_REG]);
		m->st[k] = ON;
		churn_exec(m, k);
	}
}

static void churn_worker(int id)
{
	struct model m;

	churn_reset(&m, false);
	churn_warm_up(&m);
	while (now_seconds() < W.deadline) {
		int k = K_M1 + rnd(K_E2 - K_M1 + 1);

		switch (rnd(16)) {
		case 0 ... 3:
			churn_register(&m, k);
			break;
		case 4:
			churn_remove(&m, k);
			break;
		case 5:
			churn_unlink(&m, k);
			break;
		case 6 ... 7:
			churn_toggle(&m, k, rnd(2));
			break;
		case 8:
			churn_status(&m);
			break;
		case 9:
			churn_read(&m, k);
			break;
		default:
			churn_exec(&m, k);
			break;
		}
	}
}

/* ------------------------------------------------------------------ */
/* Stress: 'B' entries and their handlers (rust only)                   */

/*
 * Registers kind k's 'B' entry: while its handler is attached it is new or
 * still there (status -1 may have removed it), while detached the handler
 * is not found (ENOENT comes before EEXIST). True if it is new.
 */
static bool b_register(int k, bool attached)
{
	int got = write_str_all(W.reg, kinds[k].reg);

	if (attached ? got && got != -EEXIST : got != -ENOENT)
		fail_note("bpf worker: register '%s' with the handler %s: %s",
			  kinds[k].reg, attached ? "attached" : "detached", errname(-got));
	if (!got)
		COUNT(n[C_B_REG]);
	else if (got == -ENOENT)
		COUNT(n[C_B_REG_ENOENT]);
	return !got;
}

/* After the first 1 no binding is taken; a removed entry takes none either. */
static void bd_late_binding(int fd)
{
	char bind[PATH_MAX + 16];
	ssize_t n;

	snprintf(bind, sizeof(bind), "+late %s", W.interp[K_BD]);
	n = write(fd, bind, strlen(bind));
	if (n >= 0 || (errno != EBUSY && errno != ENOENT))
		fail_note("bpf worker: binding to the sealed %s: %s", kinds[K_BD].entry,
			  n >= 0 ? "accepted" : strerror(errno));
}

/*
 * The new D entry of the bound handler: bind its interpreter, then seal it
 * with 1. status -1 may remove it at any point; then the binding is refused
 * (ENOENT) or the 1 goes to a removed entry, which is harmless.
 */
static void bd_bind_and_seal(void)
{
	char bind[PATH_MAX + 16];
	int fd = open(W.entry[K_BD], O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0) {
		if (errno != ENOENT)
			fail_note("bpf worker: opening %s: %s", W.entry[K_BD], strerror(errno));
		return;
	}
	snprintf(bind, sizeof(bind), "+sbound %s", W.interp[K_BD]);
	n = write(fd, bind, strlen(bind));
	if (n == (ssize_t)strlen(bind)) {
		COUNT(n[C_BINDS]);
		if (write(fd, "1", 1) == 1)
			COUNT(n[C_SEALS]);
		else
			fail_note("bpf worker: sealing %s: %s", kinds[K_BD].entry,
				  strerror(errno));
		bd_late_binding(fd);
	} else if (n >= 0 || errno != ENOENT) {
		fail_note("bpf worker: '%s' to the staged %s: %s", bind, kinds[K_BD].entry,
			  n >= 0 ? "short write" : strerror(errno));
	}
	close(fd);
}

/* 0 or 1 to a 'B' entry's file, which may be gone. */
static void b_toggle(int k)
{
	int got = write_str_all(W.entry[k], rnd(2) ? "1" : "0");

	if (got && got != -ENOENT)
		fail_note("bpf worker: 0/1 to %s: %s", kinds[k].entry, errname(-got));
}

/* -1 or unlink(2) of a 'B' entry, which may be gone. */
static void b_remove(int k)
{
	bool by_unlink = one_in(2);
	int got = by_unlink ? (unlink(W.entry[k]) ? -errno : 0) :
			      write_str_all(W.entry[k], "-1");

	if (got && got != -ENOENT)
		fail_note("bpf worker: %s %s: %s", by_unlink ? "unlink" : "-1 to",
			  kinds[k].entry, errname(-got));
	if (!got)
		COUNT(n[by_unlink ? C_RM_UNLINK : C_RM_WRITE]);
}

static void b_attach(struct bpf_link **link, struct bpf_map *map, const char *name)
{
	int ret = handler_attach(link, map);

	/* Nothing else registers these names. */
	if (ret)
		fail_note("bpf worker: attaching %s: %s (%s)", name, strerror(-ret),
			  bpf_log_tail());
}

static void b_exec(int k)
{
	char msg[NOTE_LEN];

	if (exec_kind(k, msg, sizeof(msg)) == BAD)
		fail_note("bpf worker: %s", msg);
}

static void bpf_worker(int id)
{
	struct handlers h = {};
	int cycle;

	for (cycle = 0; now_seconds() < W.deadline; cycle++) {
		/* Now and then fresh maps, the old ones freed with their links. */
		if (cycle % 12 == 0) {
			handlers_unload(&h);
			if (!handlers_load(&h, "BMSTRB", W.interp[K_B], "bpf worker"))
				return;
		}
		/* The first cycle goes all the way: attached, registered, run. */
		if (!cycle || one_in(2))
			b_attach(&h.fl, h.fx->maps.ops, "bmt_fixed");
		if (!cycle || one_in(2))
			b_attach(&h.bl, h.bd->maps.ops, "bmt_bound");
		b_register(K_B, h.fl);
		if (b_register(K_BD, h.bl))
			bd_bind_and_seal();
		b_exec(K_B);
		b_exec(K_BD);
		b_toggle(K_B);
		/* An entry keeps its handler after its map is detached. */
		if (one_in(3))
			handler_detach(&h.fl);
		if (one_in(3))
			handler_detach(&h.bl);
		if (one_in(4))
			b_remove(K_B);
		if (one_in(4))
			b_remove(K_BD);
	}
	handlers_unload(&h);
}

/* ------------------------------------------------------------------ */
/* Stress: user namespaces two deep, mounts, module unload attempts     */

/* In a userns child: note a failure and return the exit code. */
#define UCHILD_FAIL(fmt, ...) ({ \
	fail_note("userns worker %d, cycle %d: " fmt, id, cycle, ##__VA_ARGS__); \
	1; \
})

/* The sandbox's own entry runs its file; the initial namespace's do not. */
static int userns_execs(int id, int cycle)
{
	char msg[NOTE_LEN];
	enum outcome o;

	o = exec_kind(K_U, msg, sizeof(msg));
	if (o != RAN)
		return UCHILD_FAIL("its own entry: %s", o == BAD ? msg : "ENOEXEC");
	o = exec_kind(K_M1, msg, sizeof(msg));
	if (o != NOEXEC)
		return UCHILD_FAIL("an entry of the initial namespace: %s",
				   o == BAD ? msg : "ran");
	if (exec_kind(K_PLAIN, msg, sizeof(msg)) != RAN)
		return UCHILD_FAIL("%s", msg);
	return 0;
}

/*
 * A container in a container: a user namespace as nobody, one more inside
 * with a mount namespace. Before it mounts, exec uses the initial
 * namespace's entries; after, only its own. Every fourth leaves its
 * unmount to its exit.
 */
static int userns_child(int id, int cycle)
{
	char path[PATH_MAX], reg[PATH_MAX + 64], msg[NOTE_LEN], buf[64];
	const char *step = "";
	int ret;

	ret = enter_userns(true, 0, &step);
	if (ret)
		return UCHILD_FAIL("first user namespace: %s: %s", step, strerror(-ret));
	COUNT(n[C_NS]);
	ret = enter_userns(false, CLONE_NEWNS, &step);
	if (ret)
		return UCHILD_FAIL("nested user namespace: %s: %s", step, strerror(-ret));
	COUNT(n[C_NS]);
	if (exec_kind(K_M1, msg, sizeof(msg)) == BAD)
		return UCHILD_FAIL("before mounting: %s", msg);
	ret = mount_binfmt_misc(W.uns);
	if (ret)
		return UCHILD_FAIL("mount: %s", strerror(-ret));
	COUNT(n[C_NS_MOUNTS]);
	snprintf(reg, sizeof(reg), kinds[K_U].reg, W.interp[K_U], cycle % 2 ? "F" : "");
	ret = write_str_all(pjoin(path, W.uns, "register"), reg);
	if (ret)
		return UCHILD_FAIL("register '%s': %s", reg, errname(-ret));
	ret = userns_execs(id, cycle);
	if (ret)
		return ret;
	if (read_file(pjoin(path, W.uns, "status"), buf, sizeof(buf)) < 0 ||
	    strcmp(buf, "enabled\n"))
		return UCHILD_FAIL("its status reads '%s'", buf);
	if (cycle % 4 != 3 && umount2(W.uns, 0))
		return UCHILD_FAIL("umount: %s", strerror(errno));
	return 0;
}

static void userns_worker(int id)
{
	int cycle, code;
	pid_t pid;

	for (cycle = 0; now_seconds() < W.deadline; cycle++) {
		fflush(stderr);
		pid = fork();
		if (pid < 0) {
			fail_note("userns worker %d: fork: %s", id, strerror(errno));
			return;
		}
		if (pid == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
			_exit(userns_child(id, cycle));
		}
		code = wait_exit(pid);
		/* Exit code 1: it noted why. */
		if (code && code != 1)
			fail_note("userns worker %d, cycle %d: child ended with %d", id,
				  cycle, code);
	}
}

/*
 * More mounts of the initial namespace's superblock, in a private mount
 * namespace; the test's own mount keeps the module busy all along.
 */
static void mounts_worker(int id)
{
	char status[PATH_MAX], buf[64];
	ssize_t n;
	int i, ret;

	if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL)) {
		fail_note("mount worker: a private mount namespace: %s", strerror(errno));
		return;
	}
	pjoin(status, W.mnt2, "status");
	for (i = 0; now_seconds() < W.deadline; i++) {
		ret = mount_binfmt_misc(W.mnt2);
		if (ret) {
			fail_note("mount worker: mount: %s", strerror(-ret));
			return;
		}
		COUNT(n[C_MOUNTS]);
		n = read_file(status, buf, sizeof(buf));
		if (n < 0 || (strcmp(buf, "enabled\n") && strcmp(buf, "disabled\n")))
			fail_note("mount worker: status reads '%s' (%s)", n < 0 ? "" : buf,
				  errname(n < 0 ? -n : 0));
		if (umount2(W.mnt2, 0)) {
			fail_note("mount worker: umount: %s", strerror(errno));
			return;
		}
		if (W.module && i % 4 == 0) {
			rmmod_attempt(W.module, "mount worker");
			COUNT(n[C_RMMOD]);
		}
		usleep(20000);
	}
}

/* ------------------------------------------------------------------ */
/* Stress: the test                                                    */

static void stress_report_execs(void)
{
	char line[1024];
	size_t len = 0;
	int i, k;

	line[0] = '\0';
	for (i = 0; i < W.navail; i++) {
		k = W.avail[i];
		appendf(line, sizeof(line), &len, "%s%s %ld", i ? ", " : "", kinds[k].label,
			sh->ran[k] + sh->noexec[k]);
		if (kinds[k].entry)
			appendf(line, sizeof(line), &len, " (ran %ld, ENOEXEC %ld)",
				sh->ran[k], sh->noexec[k]);
	}
	ksft_print_msg("stress: execs: %s\n", line);
}

static void stress_report(double seconds, unsigned long long seed)
{
	long *n = sh->n;

	ksft_print_msg("stress: %.1f s, %ld CPUs online, implementation %s, seed %llu\n",
		       seconds, sysconf(_SC_NPROCESSORS_ONLN), W.rust ? "rust" : "c", seed);
	stress_report_execs();
	ksft_print_msg("stress: registrations %ld (+%ld staged with D, %ld D refused, "
		       "%ld EEXIST), 'B' registrations %ld (%ld ENOENT while detached)\n",
		       n[C_REG], n[C_REG_STAGED], n[C_REG_D_REFUSED], n[C_REG_EEXIST],
		       n[C_B_REG], n[C_B_REG_ENOENT]);
	ksft_print_msg("stress: removals: -1 %ld, unlink %ld (%ld refused with EPERM), "
		       "status -1 %ld; 0/1 to entries %ld, to status %ld; reads %ld; "
		       "model-checked execs %ld, resyncs %ld\n",
		       n[C_RM_WRITE], n[C_RM_UNLINK], n[C_UNLINK_EPERM], n[C_STATUS_CLEAR],
		       n[C_TOGGLE], n[C_STATUS_TOGGLE], n[C_READS], n[C_MODEL_EXECS],
		       n[C_RESYNC]);
	ksft_print_msg("stress: bpf: handler loads %ld, attaches %ld, detaches %ld, "
		       "bindings %ld, seals %ld\n", n[C_BPF_LOADS], n[C_BPF_ATTACH],
		       n[C_BPF_DETACH], n[C_BINDS], n[C_SEALS]);
	ksft_print_msg("stress: namespaces created %ld (two deep), mounts in them %ld, "
		       "mounts in the initial namespace %ld, refused unloads %ld\n",
		       n[C_NS], n[C_NS_MOUNTS], n[C_MOUNTS], n[C_RMMOD]);
}

static void stress_spawn(struct crew *c, uint64_t seed)
{
	int i;

	for (i = 0; i < 3; i++)
		spawn(c, "exec", exec_worker, i, seed);
	spawn(c, "churn", churn_worker, 10, seed);
	if (W.rust)
		spawn(c, "bpf", bpf_worker, 20, seed);
	for (i = 0; i < 2; i++)
		spawn(c, "userns", userns_worker, 30 + i, seed);
	spawn(c, "mount", mounts_worker, 40, seed);
}

/* Nothing claims anything any more; plain files still run as themselves. */
static void stress_final_execs(struct __test_metadata *_metadata)
{
	char msg[NOTE_LEN];
	int i, k;

	for (i = 0; i < W.navail; i++) {
		k = W.avail[i];
		EXPECT_EQ((int)(kinds[k].entry ? NOEXEC : RAN), (int)exec_kind(k, msg, sizeof(msg)))
			TH_LOG("after the run, %s: %s", W.file[k], msg);
	}
}

TEST_F_TIMEOUT(bm, smp_stress, 420)
{
	int seconds = env_seconds("BMTEST_STRESS_SECONDS", 60, 300);
	unsigned long long seed = seed_from_env();
	struct crew crew = {};
	struct baseline base;
	double start;
	int k;

	run_prepare(_metadata, self, stress_world, &base);
	W.module = base.module;
	if (!W.module)
		ksft_print_msg("stress: BMTEST_MODULE unset: no unload attempts\n");
	start = now_seconds();
	W.deadline = start + seconds;
	stress_spawn(&crew, seed);
	reap(&crew, W.deadline);
	stress_report(now_seconds() - start, seed);

	end_checks(_metadata, self, &base);
	stress_final_execs(_metadata);
	/*
	 * Each part must have run. (Braces: the harness's EXPECT is two
	 * statements, and its TH_LOG would run after the loop.)
	 */
	for (k = 0; k < K_NR; k++) {
		if (kinds[k].entry && (W.rust || !kinds[k].bpf)) {
			EXPECT_LT(0, sh->ran[k]) TH_LOG("%s: never ran its interpreter",
							kinds[k].label);
		}
	}
	EXPECT_LT(0, sh->n[C_NS]);
	EXPECT_LT(0, sh->n[C_MOUNTS]);
	EXPECT_LT(0, sh->n[C_MODEL_EXECS]);
	if (W.module) {
		EXPECT_LT(0, sh->n[C_RMMOD]);
	}
	if (W.rust) {
		EXPECT_LT(0, sh->n[C_SEALS]);
	}
	report_notes(_metadata);
}

/* ------------------------------------------------------------------ */
/* The random-sequence driver                                          */

#define R_WORKERS	4

enum {
	R_X0, R_X1, R_X2, R_X3, R_M0, R_M1, R_M2, R_M3, R_O2, R_RB, R_SEL,
	R_SELN, R_REC, R_FILES
};

/* What the workers exec: files that random entries may claim. */
static const struct {
	const char *name, *content;	/* NULL content: a copy of progs/probe */
} r_files[R_FILES] = {
	[R_X0] = { "x0.bmr0", "data\n" }, [R_X1] = { "x1.bmr1", "data\n" },
	[R_X2] = { "x2.bmr2", "data\n" }, [R_X3] = { "x3.bmr3", "data\n" },
	[R_M0] = { "m0", "BMR0\n" }, [R_M1] = { "m1", "BMR1\n" },
	[R_M2] = { "m2", "BMR2\n" }, [R_M3] = { "m3", "BMR3\n" },
	[R_O2] = { "o2", "__BMR2\n" }, [R_RB] = { "rb", "BMRB\n" },
	[R_SEL] = { "sel", "#BMTSEL:ir\n" }, [R_SELN] = { "seln", "#BMTSEL:nosuch\n" },
	/* An interpreter with an entry's extension: E bmr3 through it loops. */
	[R_REC] = { "rec.bmr3", NULL },
};

static struct {
	char tmp[PATH_MAX], mnt[PATH_MAX];
	char file[R_FILES][PATH_MAX];
	char ir[3][PATH_MAX];		/* interpreters: copies of progs/probe */
	char plain[PATH_MAX], script[PATH_MAX];
	char missing[PATH_MAX], dir[PATH_MAX], noexec[PATH_MAX], notdir[PATH_MAX];
	char longpath[PATH_MAX], longname[300], longmagic[320], bigwrite[4200];
	char uns[PATH_MAX], mdir[R_WORKERS][PATH_MAX];
	const char *module;
	bool rust;
	double deadline;
	unsigned long long seed;
	int worker;			/* this process's */
} R;

/* ---- answers upstream may give; 0 is success, END ends a list ---- */

#define END	(-1)

/*
 * open_exec() of an F interpreter: ENOENT, EACCES, ETXTBSY, ENOTDIR, ELOOP,
 * ENAMETOOLONG, EPERM (an LSM); the entry file: EEXIST, ENAMETOOLONG.
 */
static const int S_REGISTER[] = {
	0, EINVAL, EFAULT, ENOMEM, EEXIST, ENOENT, EACCES, ETXTBSY, ENOTDIR,
	ELOOP, ENAMETOOLONG, EPERM, END
};
/* And upstream 7.3's T and L, which need exec-core changes: EOPNOTSUPP. */
static const int S_REGISTER_RUST[] = {
	0, EINVAL, EFAULT, ENOMEM, EEXIST, ENOENT, EACCES, ETXTBSY, ENOTDIR,
	ELOOP, ENAMETOOLONG, EPERM, EOPNOTSUPP, END
};
static const int S_COMMAND[] = { 0, EINVAL, EFAULT, END };
/* 6.12 parses every write to an entry file as a command; ENOENT: no file. */
static const int S_ENTRY_C[] = { 0, EINVAL, EFAULT, ENOENT, END };
/* Upstream 7.3 also binds ("+name /path"), opening the path. */
static const int S_ENTRY_RUST[] = {
	0, EINVAL, EFAULT, ENOENT, E2BIG, ENOMEM, EBUSY, EEXIST, ENOSPC, EACCES,
	ENOTDIR, ELOOP, ENAMETOOLONG, ETXTBSY, EPERM, END
};
static const int S_READ_ENTRY[] = { 0, ENOENT, END };
static const int S_READ_STATUS[] = { 0, END };
/* register has no read: EINVAL; EACCES for a user namespace's non-root. */
static const int S_READ_REGISTER[] = { EINVAL, EACCES, END };
static const int S_UNLINK_C[] = { ENOENT, EPERM, END };
/* Upstream removes the entry; ENOMEM: no memory for the shorter list. */
static const int S_UNLINK_RUST[] = { 0, ENOENT, ENOMEM, END };
static const int S_UNLINK_FIXED[] = { EPERM, END };
static const int S_MKDIR[] = { EPERM, END };
static const int S_CREATE[] = { EACCES, END };
static const int S_RENAME[] = { ENOENT, EPERM, END };
/* Exec: nothing claimed it, the interpreter cannot be opened or run, a loop. */
static const int S_EXEC[] = {
	0, ENOEXEC, ENOENT, EACCES, ETXTBSY, ELOOP, ENOTDIR, ENAMETOOLONG, ENOMEM, END
};
static const int S_ONLY_SUCCESS[] = { 0, END };
static const int S_ATTACH[] = { 0, EEXIST, END };
static const int S_OPENW[] = { 0, ETXTBSY, END };
static const int S_RMMOD[] = { EWOULDBLOCK, EBUSY, END };

static const char *const call_name[CALL_NR] = {
	[CALL_REGISTER] = "register", [CALL_STATUS] = "status writes",
	[CALL_ENTRY] = "entry writes", [CALL_READ] = "reads", [CALL_UNLINK] = "unlinks",
	[CALL_DIROP] = "mkdir/create/rename", [CALL_EXEC] = "execs",
	[CALL_MOUNT] = "mounts", [CALL_USERNS] = "user namespaces",
	[CALL_ATTACH] = "handler attaches", [CALL_OPENW] = "interpreter write-opens",
	[CALL_RMMOD] = "unloads",
};

static bool answer_in(int err, const int *set)
{
	for (; *set != END; set++)
		if (*set == err)
			return true;
	return false;
}

/*
 * Counts an answer (0 or an errno) of call; one outside allowed fails the
 * test, with the operation, the worker and the seed to replay it.
 */
static void judge(enum call c, int err, const int *allowed, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void judge(enum call c, int err, const int *allowed, const char *fmt, ...)
{
	char what[NOTE_LEN - 160];
	va_list ap;

	COUNT(hist[c][err >= 0 && err < ERRNO_SLOTS ? err : ERRNO_SLOTS - 1]);
	if (answer_in(err, allowed))
		return;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	fail_note("seed %llu, worker %d: %s: %s (%d) is not an answer upstream gives",
		  R.seed, R.worker, what, errname(err), err);
}

/* A write's answer as 0 or a positive errno. */
static int answer(ssize_t n)
{
	return n < 0 ? (int)-n : 0;
}

/* ---- generating register strings ---- */

struct blob {
	char b[2100];
	size_t len;
};

static void put(struct blob *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct blob *s, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(s->b + s->len, sizeof(s->b) - s->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		s->len = s->len + n < sizeof(s->b) ? s->len + n : sizeof(s->b) - 1;
}

/* s, printable, for a note. */
static const char *shown(const struct blob *s)
{
	static char out[400];
	size_t i, o = 0;

	for (i = 0; i < s->len && o + 5 < sizeof(out); i++) {
		unsigned char c = s->b[i];

		o += snprintf(out + o, sizeof(out) - o, c >= 0x20 && c < 0x7f && c != '\\' ?
			      "%c" : "\\x%02x", c);
	}
	out[o] = '\0';
	return out;
}

static const char *r_name(void)
{
	static const char *const common[] = {
		"bmtest_r0", "bmtest_r1", "bmtest_r2", "bmtest_r3", "bmtest_r4",
	};
	static const char *const odd[] = { "", ".", "..", "bmtest_r/x", "bmtest_r sp" };

	if (!one_in(10))
		return PICK(common);
	return one_in(3) ? R.longname : PICK(odd);
}

/* A name to open or unlink under the mount: an entry's, or one never made. */
static const char *r_entry_name(void)
{
	static const char *const names[] = {
		"bmtest_r0", "bmtest_r1", "bmtest_r2", "bmtest_r3", "bmtest_r4",
	};

	return one_in(20) ? "bmtest_rnone" : PICK(names);
}

/* An interpreter for an M or E entry: mostly ours, some refused ones. */
static const char *r_interp(const char *mnt)
{
	static char in_instance[PATH_MAX];

	switch (rnd(16)) {
	case 0:
		return R.missing;
	case 1:
		return R.dir;
	case 2:
		return R.noexec;
	case 3:
		/* An F interpreter inside an instance is refused (noexec). */
		return pjoin(in_instance, mnt, "status") ?: R.missing;
	case 4:
		return R.notdir;
	case 5:
		return R.longpath;
	case 6:
		return "ir0";	/* relative: the workers' cwd has it */
	case 7:
		return R.file[R_REC];
	default:
		return R.ir[rnd(3)];
	}
}

/*
 * Magic entries only ever match files starting with (or having at offset 2)
 * "BMR": no magic or mask of the pool leaves those three bytes unchecked,
 * so no binary of the system (nor progs/probe) is claimed.
 */
static void r_magic_fields(struct blob *s)
{
	static const char *const offsets[] = {
		"", "", "", "0", "2", "+2", "-1", "x", "254", "256", "2147483648",
	};
	static const char *const magics[] = {
		"BMR0", "BMR1", "BMR2", "BMR3", "BMRB", "\\x42\\x4d\\x52\\x31",
		"BMR\\x32", "BMR\\xZZ", "",
	};
	static const char *const masks[] = {
		"", "", "\\xff\\xff\\xff\\xff", "\\xff\\xff\\xff\\x00",
		"\\xff\\xff\\xff\\xdf", "\\xff\\xff", "\\xff\\xff\\xff\\xff\\xff",
	};

	put(s, "M:%s:%s:%s:", PICK(offsets), one_in(20) ? R.longmagic : PICK(magics),
	    PICK(masks));
}

/* Extensions: bmr0..3 or refused ones, never one a system file has. */
static void r_ext_fields(struct blob *s, char d)
{
	static const char *const exts[] = {
		"bmr0", "bmr1", "bmr2", "bmr3", "bmr3", "", "a/b", "bmr1.x",
	};
	static const char *const skipped[] = { "", "", "", "7", "junk" };

	put(s, "E%c%s%c%s%c%s%c", d, PICK(skipped), d, PICK(exts), d, PICK(skipped), d);
}

static void r_bpf_fields(struct blob *s, char d)
{
	static const char *const handlers[] = {
		"bmt_fixed", "bmt_fixed", "bmt_bound", "bmt_bound", "bmt_none",
		"bad name", "",
	};

	if (one_in(10))
		put(s, "B%c1%c%c%c%s%c", d, d, d, d, PICK(handlers), d);
	else
		put(s, "B%c%c%c%c%s%c", d, d, d, d, PICK(handlers), d);
}

static void r_flags(struct blob *s, bool bpf)
{
	static const char letters[] = "POCFDTLX";
	int i, n = one_in(2) ? 0 : 1 + rnd(3);

	for (i = 0; i < n; i++)
		put(s, "%c", letters[rnd(sizeof(letters) - 1)]);
	/* D matters most for 'B' entries: bindings wait for it. */
	if (bpf && one_in(2))
		put(s, "D");
	if (one_in(8))
		put(s, "\n");
}

/*
 * Cuts it short, drops or replaces a byte, makes it too long or too short.
 * A magic entry is only cut (after its magic, or it cannot parse): anything
 * else could make its magic match files of the system.
 */
static void r_mutate(struct blob *s, bool magic)
{
	static const char junk[] = { ':', '\0', 'x', '\\', '\n', '#' };
	size_t at = s->len ? rnd(s->len) : 0;

	switch (rnd(24)) {
	case 0:
		s->len = rnd(s->len + 1);
		break;
	case 1:
		if (!magic && s->len) {
			memmove(s->b + at, s->b + at + 1, s->len - at - 1);
			s->len--;
		}
		break;
	case 2:
		if (!magic && s->len)
			s->b[at] = PICK(junk);
		break;
	case 3:
		memset(s->b + s->len, 'a', sizeof(s->b) - s->len);
		s->len = MAX_REGISTER_LENGTH + 1 + rnd(100);
		break;
	case 4:
		s->len = rnd(11);
		break;
	}
}

static void r_register_string(struct blob *s, const char *mnt)
{
	static const char delims[] = "#,|DPT\x01";
	unsigned int type = rnd(20);
	char d = ':';

	/* Other delimiters only where no magic is parsed. */
	if (type >= 8 && one_in(7))
		d = delims[rnd(sizeof(delims) - 1)];
	put(s, "%c%s%c", d, r_name(), d);
	if (type < 8)
		r_magic_fields(s);
	else if (type < 15)
		r_ext_fields(s, d);
	else if (type < 19)
		r_bpf_fields(s, d);
	else
		put(s, "X%c%c%c%c", d, d, d, d);
	if (type < 15)
		put(s, "%s%c", r_interp(mnt), d);
	r_flags(s, type >= 15 && type < 19);
	r_mutate(s, type < 8);
}

/* ---- calls on the files ---- */

static void r_register(const char *mnt)
{
	char reg[PATH_MAX];
	struct blob s = {};
	bool in_range, bad_ptr = one_in(40);
	int err;

	r_register_string(&s, mnt);
	pjoin(reg, mnt, "register");
	in_range = s.len >= 11 && s.len <= MAX_REGISTER_LENGTH;
	err = answer(write_buf(reg, bad_ptr ? (const void *)8 : s.b, s.len));
	judge(CALL_REGISTER, err, R.rust ? S_REGISTER_RUST : S_REGISTER,
	      "register '%s'%s", shown(&s), bad_ptr ? " from a bad address" : "");
	/* The length is checked first, then the copy. */
	if (!in_range && err != EINVAL)
		judge(CALL_REGISTER, err, (const int[]){ EINVAL, END },
		      "register of %zu bytes", s.len);
	else if (in_range && bad_ptr && err != EFAULT)
		judge(CALL_REGISTER, err, (const int[]){ EFAULT, END },
		      "register of %zu bytes from a bad address", s.len);
}

static const char *r_command(void)
{
	static const char *const cmds[] = {
		"1", "1", "1", "1\n", "0", "0\n", "-1", "", "2", "-0", "11",
		"-1\n\n", "1 ", " 1", "+1", "0000",
	};

	return PICK(cmds);
}

/* A command written to status, rarely from a bad address. */
static void r_status(const char *mnt)
{
	const char *cmd = r_command();
	char path[PATH_MAX];
	bool bad_ptr = one_in(20);
	size_t len;
	int err;

	/* Clearing everything too often would leave nothing to exec. */
	if (!strcmp(cmd, "-1") && !one_in(4))
		cmd = "1";
	len = bad_ptr ? 1 + rnd(5) : strlen(cmd);
	err = answer(write_buf(pjoin(path, mnt, "status"), bad_ptr ? (const void *)8 : cmd, len));
	judge(CALL_STATUS, err, S_COMMAND, "'%s'%s to status", cmd,
	      bad_ptr ? " from a bad address" : "");
	if (len > 3)
		judge(CALL_STATUS, err, (const int[]){ EINVAL, END },
		      "%zu bytes to status", len);
}

/* What is written to an entry file: a command, a binding or too much. */
static const char *r_entry_input(size_t *len)
{
	static char buf[PATH_MAX + 64];

	switch (rnd(10)) {
	case 0 ... 5:
		snprintf(buf, sizeof(buf), "%s", r_command());
		break;
	case 6:
		snprintf(buf, sizeof(buf), "+ir %s", R.ir[2]);
		break;
	case 7:
		snprintf(buf, sizeof(buf), "+%s %s", one_in(2) ? "ir" : "ir1",
			 one_in(2) ? R.ir[1] : R.missing);
		break;
	case 8: {
		static const char *const bad[] = {
			"+", "+ir", "+ir ir0", "+bad\x01 /x", "+ /x",
			"+nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn /x",
		};
		snprintf(buf, sizeof(buf), "%s", PICK(bad));
		break;
	}
	default:
		*len = sizeof(R.bigwrite) - rnd(80);
		return R.bigwrite;
	}
	*len = strlen(buf);
	return buf;
}

static void r_entry_write(const char *mnt)
{
	char path[PATH_MAX];
	const char *name = r_entry_name();
	size_t len;
	const char *in = r_entry_input(&len);
	int err;

	if (!pjoin(path, mnt, name))
		return;
	err = answer(write_buf(path, in, len));
	judge(CALL_ENTRY, err, R.rust ? S_ENTRY_RUST : S_ENTRY_C, "%zu bytes '%.60s' to %s",
	      len, in, name);
	/* Over the longest binding (rust) or command (6.12): refused first. */
	if (err != ENOENT && len > (R.rust ? 4131 : 3))
		judge(CALL_ENTRY, err, (const int[]){ R.rust ? E2BIG : EINVAL, END },
		      "%zu bytes to %s", len, name);
}

/* Reads, and what status and entry files must say. */
static void r_read(const char *mnt)
{
	static const char *const files[] = { "status", "register", "e", "e", "e" };
	const char *name = PICK(files);
	char path[PATH_MAX], buf[8192];
	ssize_t n;

	if (!strcmp(name, "e"))
		name = r_entry_name();
	if (!pjoin(path, mnt, name))
		return;
	n = read_file(path, buf, sizeof(buf));
	if (!strcmp(name, "status")) {
		judge(CALL_READ, answer(n), S_READ_STATUS, "reading status");
		if (n >= 0 && strcmp(buf, "enabled\n") && strcmp(buf, "disabled\n"))
			fail_note("seed %llu, worker %d: status reads '%.60s'", R.seed,
				  R.worker, buf);
		return;
	}
	if (!strcmp(name, "register")) {
		judge(CALL_READ, answer(n), S_READ_REGISTER, "reading register");
		return;
	}
	judge(CALL_READ, answer(n), S_READ_ENTRY, "reading %s", name);
	if (n >= 0 && strncmp(buf, "enabled\n", 8) && strncmp(buf, "disabled\n", 9))
		fail_note("seed %llu, worker %d: %s reads '%.60s'", R.seed, R.worker, name, buf);
}

static void r_unlink(const char *mnt)
{
	static const char *const fixed[] = { "status", "register" };
	bool fixed_file = one_in(5);
	const char *name = fixed_file ? PICK(fixed) : r_entry_name();
	char path[PATH_MAX];
	int err;

	if (!pjoin(path, mnt, name))
		return;
	err = unlink(path) ? errno : 0;
	judge(CALL_UNLINK, err, fixed_file ? S_UNLINK_FIXED :
	      R.rust ? S_UNLINK_RUST : S_UNLINK_C, "unlink %s", name);
}

/* The root directory makes nothing but entries, and renames nothing. */
static void r_dirop(const char *mnt)
{
	char a[PATH_MAX], b[PATH_MAX];
	int fd;

	if (!pjoin(a, mnt, "bmtest_rnew") || !pjoin(b, mnt, r_entry_name()))
		return;
	switch (rnd(3)) {
	case 0:
		judge(CALL_DIROP, mkdir(a, 0755) ? errno : 0, S_MKDIR, "mkdir");
		break;
	case 1:
		fd = open(a, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
		judge(CALL_DIROP, fd < 0 ? errno : 0, S_CREATE, "creating a file");
		if (fd >= 0)
			close(fd);
		break;
	default:
		judge(CALL_DIROP, rename(b, a) ? errno : 0, S_RENAME, "renaming an entry");
		break;
	}
}

/* Whether out is what an interpreter of ours prints: "argv=<it>|...". */
static bool ran_ours(const char *out)
{
	int i;

	for (i = 0; i < 3; i++)
		if (has_line(out, L("argv=%s|*", R.ir[i])))
			return true;
	return has_line(out, L("argv=%s|*", R.file[R_REC])) || has_line(out, "argv=ir0|*");
}

/* Nothing may claim the plain binary or the plain script, ever. */
static void r_exec_plain(void)
{
	bool script = one_in(2);
	const char *path = script ? R.script : R.plain;
	const char *want = script ? L("argv=%s|%s|r", R.plain, R.script) :
				    L("argv=%s|r", R.plain);
	struct run_result r;
	const char *m = run_judged(path, ARGV((char *)path, "r"), 0, &r);

	if (!m)
		m = missing_line(path, r.out, (const char *const []){ want, NULL });
	judge(CALL_EXEC, r.exec_errno, S_EXEC, "execve(%s)", path);
	if (m)
		fail_note("seed %llu, worker %d: a plain file: %s", R.seed, R.worker, m);
}

static void r_exec(void)
{
	const char *path;
	struct run_result r;
	int ret;

	if (one_in(10)) {
		r_exec_plain();
		return;
	}
	path = R.file[rnd(R_FILES)];
	ret = run_capture(path, ARGV((char *)path, "r"), &r);
	if (ret) {
		fail_note("seed %llu, worker %d: running %s: %s", R.seed, R.worker, path,
			  strerror(-ret));
		return;
	}
	judge(CALL_EXEC, r.exec_errno, S_EXEC, "execve(%s)", path);
	if (!r.exec_errno && (!WIFEXITED(r.status) || WEXITSTATUS(r.status) ||
			      !ran_ours(r.out)))
		fail_note("seed %llu, worker %d: execve(%s) ran something else: wait "
			  "status 0x%x, output '%.200s'", R.seed, R.worker, path,
			  r.status, r.out);
}

/* One call on the files of the instance mounted at mnt, or an exec. */
static void r_file_call(const char *mnt)
{
	switch (rnd(10)) {
	case 0 ... 2:
		r_register(mnt);
		break;
	case 3 ... 4:
		r_entry_write(mnt);
		break;
	case 5:
		r_read(mnt);
		break;
	case 6:
		r_unlink(mnt);
		break;
	case 7:
		r_status(mnt);
		break;
	default:
		r_exec();
		break;
	}
}

/* ---- mounts, namespaces, handlers, the module ---- */

/* Another mount of the instance, in the worker's private mount namespace. */
static void r_mount(void)
{
	const char *dir = R.mdir[R.worker];
	int i, n = 1 + rnd(3);

	judge(CALL_MOUNT, -mount_binfmt_misc(dir), S_ONLY_SUCCESS, "mount on %s", dir);
	if (access(L("%s/register", dir), F_OK))
		return;
	for (i = 0; i < n; i++)
		r_file_call(dir);
	judge(CALL_MOUNT, umount2(dir, 0) ? errno : 0, S_ONLY_SUCCESS, "umount %s", dir);
}

/* A user namespace (as root or nobody, sometimes nested once more) of its own. */
static int r_userns_child(void)
{
	const char *step = "";
	int i, n = 1 + rnd(6), ret;

	ret = enter_userns(one_in(2), CLONE_NEWNS, &step);
	if (!ret && one_in(2))
		ret = enter_userns(false, CLONE_NEWNS, &step);
	if (ret) {
		fail_note("seed %llu, worker %d: user namespace: %s: %s", R.seed, R.worker,
			  step, strerror(-ret));
		return 1;
	}
	judge(CALL_MOUNT, -mount_binfmt_misc(R.uns), S_ONLY_SUCCESS, "mount in a userns");
	if (access(L("%s/register", R.uns), F_OK))
		return 1;
	for (i = 0; i < n; i++)
		r_file_call(R.uns);
	if (one_in(2))
		judge(CALL_MOUNT, umount2(R.uns, 0) ? errno : 0, S_ONLY_SUCCESS,
		      "umount in a userns");
	return 0;
}

static void r_userns(void)
{
	pid_t pid;
	int code;

	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		fail_note("seed %llu, worker %d: fork: %s", R.seed, R.worker, strerror(errno));
		return;
	}
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
		rng_state ^= 0x5bd1e995;
		_exit(r_userns_child());
	}
	/* Past the child's draws, so the two streams differ. */
	rnd64();
	code = wait_exit(pid);
	judge(CALL_USERNS, code == 0 ? 0 : ERRNO_SLOTS - 1, S_ONLY_SUCCESS,
	      "a user namespace session (exit %d)", code);
}

/* Attach, detach or reload this worker's handlers; names clash between workers. */
static void r_handlers(struct handlers *h)
{
	static bool broken;	/* noted once: no more tries */
	int err;

	if (broken)
		return;
	if (!h->fx && !handlers_load(h, "BMRB", R.ir[R.worker % 3], "random worker")) {
		broken = true;
		return;
	}
	switch (rnd(5)) {
	case 0:
		err = -handler_attach(&h->fl, h->fx->maps.ops);
		judge(CALL_ATTACH, err, S_ATTACH, "attaching bmt_fixed (%s)", bpf_log_tail());
		break;
	case 1:
		err = -handler_attach(&h->bl, h->bd->maps.ops);
		judge(CALL_ATTACH, err, S_ATTACH, "attaching bmt_bound (%s)", bpf_log_tail());
		break;
	case 2:
		handler_detach(&h->fl);
		break;
	case 3:
		handler_detach(&h->bl);
		break;
	default:
		if (one_in(3))
			handlers_unload(h);
		break;
	}
}

/* Open an interpreter for writing, briefly: F and bindings deny it. */
static void r_openw(void)
{
	int fd = open(R.ir[2], O_WRONLY | O_CLOEXEC);

	judge(CALL_OPENW, fd < 0 ? errno : 0, S_OPENW, "opening %s for writing", R.ir[2]);
	if (fd < 0)
		return;
	usleep(rnd(3000));
	close(fd);
}

static void r_rmmod(void)
{
	int err;

	if (!R.module)
		return;
	err = -delete_module(R.module);
	judge(CALL_RMMOD, err, S_RMMOD, "delete_module(%s) while mounted", R.module);
}

static void random_call(struct handlers *h)
{
	unsigned int r = rnd(100);

	if (r < 70)
		r_file_call(R.mnt);
	else if (r < 76)
		r_exec();
	else if (r < 79)
		r_dirop(R.mnt);
	else if (r < 83)
		r_mount();
	else if (r < 86)
		r_userns();
	else if (r < 94 && R.rust)
		r_handlers(h);
	else if (r < 97)
		r_openw();
	else if (r < 98)
		r_rmmod();
	else
		r_exec();
}

static void random_worker(int w)
{
	struct handlers h = {};

	R.worker = w;
	/* Its mounts die with it; relative interpreters resolve in the scratch dir. */
	if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
	    chdir(R.tmp)) {
		fail_note("random worker %d: setting up: %s", w, strerror(errno));
		return;
	}
	while (now_seconds() < R.deadline)
		random_call(&h);
	handlers_unload(&h);
}

/* ---- the random driver's world and report ---- */

static int r_copy_probe(char *path, const char *tmp, const char *name, const char *probe)
{
	return pjoin(path, tmp, name) ? copy_file(probe, path, 0755) : -ENAMETOOLONG;
}

static int r_files_make(const char *tmp, const char *probe)
{
	int i, ret = 0;

	for (i = 0; !ret && i < R_FILES; i++)
		ret = r_files[i].content ?
		      (pjoin(R.file[i], tmp, r_files[i].name) ?
		       make_file(R.file[i], r_files[i].content, 0755) : -ENAMETOOLONG) :
		      r_copy_probe(R.file[i], tmp, r_files[i].name, probe);
	for (i = 0; !ret && i < 3; i++)
		ret = r_copy_probe(R.ir[i], tmp, L("ir%d", i), probe);
	return ret ?: r_copy_probe(R.plain, tmp, "plain", probe);
}

static int random_world(const char *tmp, const char *mnt)
{
	char probe[PATH_MAX];
	int i, ret;

	snprintf(R.tmp, sizeof(R.tmp), "%s", tmp);
	snprintf(R.mnt, sizeof(R.mnt), "%s", mnt);
	if (!prog_path(probe, "probe"))
		return -ENOENT;
	ret = r_files_make(tmp, probe);
	if (ret)
		return ret;
	snprintf(R.script, sizeof(R.script), "%s/script", tmp);
	snprintf(R.missing, sizeof(R.missing), "%s/missing", tmp);
	snprintf(R.dir, sizeof(R.dir), "%s/d", tmp);
	snprintf(R.noexec, sizeof(R.noexec), "%s/noexec.txt", tmp);
	snprintf(R.notdir, sizeof(R.notdir), "%s/noexec.txt/x", tmp);
	snprintf(R.uns, sizeof(R.uns), "%s/uns", tmp);
	/* A path component longer than NAME_MAX: ENAMETOOLONG. */
	snprintf(R.longpath, sizeof(R.longpath), "%s/%0300d", tmp, 0);
	snprintf(R.longname, sizeof(R.longname), "bmtest_%0280d", 0);
	snprintf(R.longmagic, sizeof(R.longmagic), "BMR%0300d", 0);
	memset(R.bigwrite, 'a', sizeof(R.bigwrite));
	R.bigwrite[0] = '+';
	ret = make_file(R.script, L("#!%s\n", R.plain), 0755) ?:
	      make_file(R.noexec, "not a program\n", 0644);
	if (ret)
		return ret;
	if (mkdir(R.dir, 0755) || mkdir(R.uns, 0777) || chmod(R.uns, 0777))
		return -errno;
	for (i = 0; i < R_WORKERS; i++)
		if (!pjoin(R.mdir[i], tmp, L("m%d.d", i)) || mkdir(R.mdir[i], 0755))
			return -errno;
	R.rust = !impl_is_c();
	return 0;
}

static void random_report(double seconds)
{
	char line[1024];
	size_t len;
	int c, e;

	ksft_print_msg("random: %.1f s, %d workers, implementation %s, seed %llu\n",
		       seconds, R_WORKERS, R.rust ? "rust" : "c", R.seed);
	for (c = 0; c < CALL_NR; c++) {
		long total = 0;

		len = 0;
		line[0] = '\0';
		for (e = 0; e < ERRNO_SLOTS; e++) {
			long n = sh->hist[c][e];

			total += n;
			if (n)
				appendf(line, sizeof(line), &len, ", %s %ld",
					e == ERRNO_SLOTS - 1 ? "other" : errname(e), n);
		}
		if (total)
			ksft_print_msg("random: %s %ld%s\n", call_name[c], total, line);
	}
}

TEST_F_TIMEOUT(bm, random_sequences, 360)
{
	int seconds = env_seconds("BMTEST_RANDOM_SECONDS", 30, 200);
	struct crew crew = {};
	struct baseline base;
	double start;
	int i;

	R.seed = seed_from_env();
	ksft_print_msg("seed: %llu\n", R.seed);
	run_prepare(_metadata, self, random_world, &base);
	R.module = base.module;
	start = now_seconds();
	R.deadline = start + seconds;
	for (i = 0; i < R_WORKERS; i++)
		spawn(&crew, "random", random_worker, i, R.seed);
	reap(&crew, R.deadline);
	random_report(now_seconds() - start);
	ksft_print_msg("random: replay with BMTEST_SEED=%llu\n", R.seed);

	end_checks(_metadata, self, &base);
	EXPECT_LT(0, sh->hist[CALL_REGISTER][0]) TH_LOG("nothing ever registered");
	EXPECT_LT(0, sh->hist[CALL_EXEC][0]) TH_LOG("nothing ever ran");
	report_notes(_metadata);
}

TEST_HARNESS_MAIN
